/* Unit tests of the image part's pure pieces: entry-name normalisation, quoting of names
 * in messages, the digest grammar, chain IDs (known answers computed independently), and
 * the upper set, including its memory bound. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "digest.h"
#include "entry_path.h"
#include "upper_set.h"

static void normalise(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		const char *out;   /* NULL: refused */
	} cases[] = {
		{ "etc/passwd", "etc/passwd" },
		{ "./etc/passwd", "etc/passwd" },
		{ "/etc/passwd", "etc/passwd" },
		{ "//etc///passwd/", "etc/passwd" },
		{ "./././a/./b/.", "a/b" },
		{ ".", "" },
		{ "./", "" },
		{ "/", "" },
		{ "", "" },
		{ "..", NULL },
		{ "../x", NULL },
		{ "a/../b", NULL },
		{ "a/..", NULL },
		{ "...", "..." },
		{ "..a/b..", "..a/b.." },
		{ ".wh..wh..opq", ".wh..wh..opq" },
		{ "a\nb", "a\nb" },
	};
	char out[CL_ENTRY_PATH_MAX];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = NULL;
		int rc = cl_entry_path_normalise(cases[i].in, out, &why);
		if (cases[i].out) {
			assert_int_equal(rc, 0);
			assert_string_equal(out, cases[i].out);
		} else {
			assert_int_equal(rc, -EBADMSG);
			assert_non_null(strstr(why, "\"..\""));
		}
	}
	/* bounds: 128 components, 255-byte components, 4095 bytes */
	char name[8192] = "";
	for (int i = 0; i < 128; i++)
		strcat(name, "d/");
	const char *why;
	assert_int_equal(cl_entry_path_normalise(name, out, &why), 0);
	strcat(name, "x");
	assert_int_equal(cl_entry_path_normalise(name, out, &why), -EBADMSG);
	assert_non_null(strstr(why, "128 components"));
	memset(name, 'n', 256);
	name[256] = '\0';
	assert_int_equal(cl_entry_path_normalise(name, out, &why), -EBADMSG);
	assert_non_null(strstr(why, "255 bytes"));
	name[255] = '\0';
	assert_int_equal(cl_entry_path_normalise(name, out, &why), 0);
	name[0] = '\0';
	for (int i = 0; i < 20; i++) {
		memset(name + strlen(name), 'm', 200);
		name[(i + 1) * 201 - 1] = '\0';
		strcat(name, "/");
	}
	assert_int_equal(cl_entry_path_normalise(name, out, &why), 0);   /* 4019 bytes */
	strcat(name, "0123456789012345678901234567890123456789012345678901234567890123456789012345");
	assert_int_equal(cl_entry_path_normalise(name, out, &why), -EBADMSG);
	assert_non_null(strstr(why, "4095 bytes"));

	char dir[CL_ENTRY_PATH_MAX];
	const char *base;
	cl_entry_path_split("a/b/c", dir, &base);
	assert_string_equal(dir, "a/b");
	assert_string_equal(base, "c");
	cl_entry_path_split("top", dir, &base);
	assert_string_equal(dir, "");
	assert_string_equal(base, "top");
}

static void quoting(void **state)
{
	(void)state;
	char buf[32];
	assert_string_equal(cl_quote("plain/name", buf, sizeof(buf)), "plain/name");
	assert_string_equal(cl_quote("a\nb\x1b\\\xff", buf, sizeof(buf)), "a\\x0ab\\x1b\\x5c\\xff");
	assert_string_equal(cl_quote("0123456789012345678901234567890123456789", buf, sizeof(buf)),
			    "0123456789012345678901234567...");
	assert_true(strlen(buf) < sizeof(buf));
}

static void digests(void **state)
{
	(void)state;
	char hex64[65], hex128[129];
	memset(hex64, 'a', 64);
	hex64[64] = '\0';
	memset(hex128, '0', 128);
	hex128[128] = '\0';
	char d[256];
	enum cl_digest_alg alg;
	snprintf(d, sizeof(d), "sha256:%s", hex64);
	assert_int_equal(cl_digest_parse(d, &alg, NULL, "t"), 0);
	assert_int_equal(alg, CL_DIGEST_SHA256);
	snprintf(d, sizeof(d), "sha512:%s", hex128);
	assert_int_equal(cl_digest_parse(d, &alg, NULL, "t"), 0);
	assert_int_equal(alg, CL_DIGEST_SHA512);
	static const char *const bad[] = { "sha256:", "sha256:abc", ":aaaa", "sha256", "",
					   "sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cl_digest_parse(bad[i], NULL, NULL, "t"), -EBADMSG);
	snprintf(d, sizeof(d), "sha256:%sa", hex64);
	assert_int_equal(cl_digest_parse(d, NULL, NULL, "t"), -EBADMSG);
	snprintf(d, sizeof(d), "md5:%s", hex64);
	assert_int_equal(cl_digest_parse(d, NULL, NULL, "t"), -ENOTSUP);
	snprintf(d, sizeof(d), "sha256+b64u:%s", hex64);
	assert_int_equal(cl_digest_parse(d, NULL, NULL, "t"), -ENOTSUP);

	/* the empty input's sha256 */
	char out[CL_DIGEST_STR_MAX];
	cl_digest_buffer(CL_DIGEST_SHA256, "", 0, out);
	assert_string_equal(out, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

	/* chain IDs: python3 hashlib over "chain diff_id" strings */
	char a[80], b[80], c[80], c1[CL_DIGEST_STR_MAX], c2[CL_DIGEST_STR_MAX];
	snprintf(a, sizeof(a), "sha256:%064d", 0);
	memset(a + 7, 'a', 64);
	snprintf(b, sizeof(b), "%s", a);
	memset(b + 7, 'b', 64);
	snprintf(c, sizeof(c), "%s", a);
	memset(c + 7, 'c', 64);
	cl_chain_id(NULL, a, c1);
	assert_string_equal(c1, a);
	cl_chain_id(a, b, c1);
	assert_string_equal(c1, "sha256:ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c");
	cl_chain_id(c1, c, c2);
	assert_string_equal(c2, "sha256:c1377126441fb2f5ec2c21ae2a60255331d639e830f0ee1b40a36e52d4c40588");
}

static void upper_set(void **state)
{
	(void)state;
	struct cl_upper_set *s = cl_upper_set_new();
	assert_non_null(s);
	assert_int_equal(cl_upper_set_add(s, "a/b/c"), 0);
	assert_int_equal(cl_upper_set_add(s, "a/x"), 0);
	assert_int_equal(cl_upper_set_get(s, "a/b/c", 5), CL_UPPER_ENTRY);
	assert_int_equal(cl_upper_set_get(s, "a/b", 3), CL_UPPER_ANCESTOR);
	assert_int_equal(cl_upper_set_get(s, "a", 1), CL_UPPER_ANCESTOR);
	assert_int_equal(cl_upper_set_get(s, "a/x", 3), CL_UPPER_ENTRY);
	assert_int_equal(cl_upper_set_get(s, "a/b/c/d", 7), 0);
	assert_int_equal(cl_upper_set_get(s, "a/bb", 4), 0);
	assert_int_equal(cl_upper_set_get(s, "a/b/cX", 5), CL_UPPER_ENTRY);  /* length counts */
	assert_int_equal(cl_upper_set_add(s, "a/b"), 0);
	assert_int_equal(cl_upper_set_get(s, "a/b", 3), CL_UPPER_ENTRY | CL_UPPER_ANCESTOR);
	cl_upper_set_clear(s);
	assert_int_equal(cl_upper_set_get(s, "a/b/c", 5), 0);

	/* many entries: growth keeps every one */
	char name[64];
	for (int i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "d%d/f%d", i % 100, i);
		assert_int_equal(cl_upper_set_add(s, name), 0);
	}
	for (int i = 0; i < 20000; i += 7) {
		snprintf(name, sizeof(name), "d%d/f%d", i % 100, i);
		assert_int_equal(cl_upper_set_get(s, name, strlen(name)), CL_UPPER_ENTRY);
	}

	/* the memory bound: long names stop with -EFBIG, not by exhausting memory */
	cl_upper_set_clear(s);
	char *longname = malloc(4001);
	memset(longname, 'x', 4000);
	longname[4000] = '\0';
	int rc = 0;
	size_t added = 0;
	for (size_t i = 0; i < 200000 && rc == 0; i++) {
		snprintf(longname, 32, "%zu", i);
		longname[strlen(longname)] = 'x';
		rc = cl_upper_set_add(s, longname);
		added += rc == 0;
	}
	assert_int_equal(rc, -EFBIG);
	assert_true(added * 4001 <= CL_UPPER_SET_MAX_BYTES);
	assert_true(added * 4001 > CL_UPPER_SET_MAX_BYTES / 2);
	free(longname);
	cl_upper_set_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(normalise),
		cmocka_unit_test(quoting),
		cmocka_unit_test(digests),
		cmocka_unit_test(upper_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
