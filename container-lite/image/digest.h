/* Content digests of OCI blobs: the "algorithm:hex" grammar, incremental hashing through
 * OpenSSL EVP, comparison against an expected digest, and chain IDs of layer stacks. */
#ifndef CL_IMAGE_DIGEST_H
#define CL_IMAGE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "container-lite/error.h"

enum cl_digest_alg {
	CL_DIGEST_SHA256,
	CL_DIGEST_SHA512,
};

/* "sha512:" + 128 hex digits + NUL */
#define CL_DIGEST_STR_MAX (7 + 128 + 1)

/* Checks the grammar of a digest string: "sha256:" + 64 or "sha512:" + 128 lowercase hex
 * digits, nothing else. Other algorithms give -ENOTSUP, bad syntax -EBADMSG. what names
 * the digest in messages ("layer 2 digest"). */
int cl_digest_parse(const char *s, enum cl_digest_alg *alg, struct cl_error *err,
		    const char *what);

struct cl_hasher;

/* Allocates a hasher for alg. Returns NULL when out of memory. */
struct cl_hasher *cl_hasher_new(enum cl_digest_alg alg);
void cl_hasher_free(struct cl_hasher *h);
void cl_hasher_update(struct cl_hasher *h, const void *data, size_t len);
/* Writes "alg:hex" of everything hashed so far into out (CL_DIGEST_STR_MAX bytes). */
void cl_hasher_final(struct cl_hasher *h, char out[CL_DIGEST_STR_MAX]);

/* Digest of a buffer in one call. */
void cl_digest_buffer(enum cl_digest_alg alg, const void *data, size_t len,
		      char out[CL_DIGEST_STR_MAX]);

/* The chain ID of a stack whose lower part has chain ID parent (NULL for the base layer)
 * and whose top layer has diff_id: diff_id itself for the base, else
 * sha256(parent + " " + diff_id). */
void cl_chain_id(const char *parent, const char *diff_id, char out[CL_DIGEST_STR_MAX]);

/* The hex part of a (valid) digest string. */
const char *cl_digest_hex(const char *digest);

#endif
