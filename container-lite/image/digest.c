/* Digest grammar and hashing for OCI blobs, through OpenSSL's EVP interface (the library
 * picks SHA-NI or ARMv8 crypto extensions where the CPU has them). */
#include "digest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

struct cl_hasher {
	EVP_MD_CTX *ctx;
	enum cl_digest_alg alg;
};

static const char *alg_prefix(enum cl_digest_alg alg)
{
	return alg == CL_DIGEST_SHA512 ? "sha512:" : "sha256:";
}

static const EVP_MD *alg_md(enum cl_digest_alg alg)
{
	return alg == CL_DIGEST_SHA512 ? EVP_sha512() : EVP_sha256();
}

int cl_digest_parse(const char *s, enum cl_digest_alg *alg, struct cl_error *err,
		    const char *what)
{
	if (!s)
		return cl_error_set(err, EBADMSG, "%s: missing digest", what);
	const char *colon = strchr(s, ':');
	if (!colon || colon == s)
		return cl_error_set(err, EBADMSG, "%s: malformed digest (want algorithm:hex)",
				    what);
	size_t alen = (size_t)(colon - s);
	size_t want;
	enum cl_digest_alg a;
	if (alen == 6 && memcmp(s, "sha256", 6) == 0) {
		a = CL_DIGEST_SHA256;
		want = 64;
	} else if (alen == 6 && memcmp(s, "sha512", 6) == 0) {
		a = CL_DIGEST_SHA512;
		want = 128;
	} else {
		/* the grammar allows other algorithms; we cannot verify them, so refuse */
		return cl_error_set(err, ENOTSUP,
				    "%s: unsupported digest algorithm (only sha256 and sha512)",
				    what);
	}
	const char *hex = colon + 1;
	size_t n = 0;
	for (; hex[n]; n++) {
		char c = hex[n];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return cl_error_set(err, EBADMSG,
					    "%s: digest has a character outside [0-9a-f]", what);
		if (n > want)
			break;
	}
	if (n != want)
		return cl_error_set(err, EBADMSG, "%s: digest has %zu hex digits, %s needs %zu",
				    what, n, a == CL_DIGEST_SHA512 ? "sha512" : "sha256", want);
	if (alg)
		*alg = a;
	return 0;
}

struct cl_hasher *cl_hasher_new(enum cl_digest_alg alg)
{
	struct cl_hasher *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->alg = alg;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, alg_md(alg), NULL) != 1) {
		cl_hasher_free(h);
		return NULL;
	}
	return h;
}

void cl_hasher_free(struct cl_hasher *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void cl_hasher_update(struct cl_hasher *h, const void *data, size_t len)
{
	if (len)
		EVP_DigestUpdate(h->ctx, data, len);
}

static void to_hex(enum cl_digest_alg alg, const unsigned char *md, unsigned len,
		   char out[CL_DIGEST_STR_MAX])
{
	static const char digits[] = "0123456789abcdef";
	const char *prefix = alg_prefix(alg);
	size_t p = strlen(prefix);
	memcpy(out, prefix, p);
	for (unsigned i = 0; i < len; i++) {
		out[p++] = digits[md[i] >> 4];
		out[p++] = digits[md[i] & 15];
	}
	out[p] = '\0';
}

void cl_hasher_final(struct cl_hasher *h, char out[CL_DIGEST_STR_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	EVP_DigestFinal_ex(h->ctx, md, &len);
	to_hex(h->alg, md, len, out);
}

void cl_digest_buffer(enum cl_digest_alg alg, const void *data, size_t len,
		      char out[CL_DIGEST_STR_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_Digest(data, len, md, &mdlen, alg_md(alg), NULL);
	to_hex(alg, md, mdlen, out);
}

void cl_chain_id(const char *parent, const char *diff_id, char out[CL_DIGEST_STR_MAX])
{
	if (!parent) {
		snprintf(out, CL_DIGEST_STR_MAX, "%s", diff_id);
		return;
	}
	char buf[2 * CL_DIGEST_STR_MAX + 1];
	int n = snprintf(buf, sizeof(buf), "%s %s", parent, diff_id);
	cl_digest_buffer(CL_DIGEST_SHA256, buf, (size_t)n, out);
}

const char *cl_digest_hex(const char *digest)
{
	const char *colon = strchr(digest, ':');
	return colon ? colon + 1 : digest;
}
