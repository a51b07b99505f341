/* Helpers shared by the dedup tests: a scratch directory, volume formatting with small test
 * geometries, deterministic block contents, a seeded PRNG and assertion macros that name the
 * failing expression and exit 1. Each test program is standalone (exit 0 / 1 / 77). */
#ifndef DEDUP_TEST_H
#define DEDUP_TEST_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dedup/testing.h"
#include "dedup/volume.h"

#define BS DEDUP_BLOCK_SIZE

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
			exit(1);                                                         \
		}                                                                        \
	} while (0)

#define CHECK_EQ(a, b)                                                                   \
	do {                                                                             \
		long long a_ = (long long)(a), b_ = (long long)(b);                      \
		if (a_ != b_) {                                                          \
			fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %lld, %s == %lld\n",      \
				__FILE__, __LINE__, #a, a_, #b, b_);                             \
			exit(1);                                                         \
		}                                                                        \
	} while (0)

/* A call returning 0 or -errno; prints the volume's message on failure. */
#define CHECK_OK(vol, call)                                                              \
	do {                                                                             \
		int rc_ = (call);                                                        \
		if (rc_ != 0) {                                                          \
			fprintf(stderr, "%s:%d: %s returned %d (%s): %s\n", __FILE__, __LINE__, \
				#call, rc_, strerror(-rc_),                                      \
				(vol) ? dedup_volume_errmsg(vol) : "");                          \
			exit(1);                                                         \
		}                                                                        \
	} while (0)

static inline void test_skip(const char *why)
{
	printf("SKIP: %s\n", why);
	exit(77);
}

/* splitmix64: small, seedable, good enough for workloads */
static inline uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static inline uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return rng_next(s) % n;
}

/* Seed from DEDUP_TEST_SEED or the given default; printed so a failure can be replayed. */
static inline uint64_t test_seed(const char *name, uint64_t dflt)
{
	const char *e = getenv("DEDUP_TEST_SEED");
	uint64_t seed = e ? strtoull(e, NULL, 0) : dflt;
	printf("%s: seed %llu (rerun with DEDUP_TEST_SEED=%llu)\n", name, (unsigned long long)seed,
	       (unsigned long long)seed);
	fflush(stdout);
	return seed;
}

/* Content of "pattern" id: 0 is the zero block; others are distinct and recognisable, and
 * carry the id in their first 8 bytes so a test can tell which pattern a block holds. */
static inline void pattern_fill(void *buf, uint64_t id)
{
	uint8_t *b = buf;
	if (id == 0) {
		memset(b, 0, BS);
		return;
	}
	uint64_t s = id * UINT64_C(0x2545f4914f6cdd1d);
	for (size_t i = 0; i < BS; i += 8) {
		uint64_t w = rng_next(&s);
		memcpy(b + i, &w, 8);
	}
	memcpy(b, &id, 8);
}

/* Which pattern a block holds, or UINT64_MAX when it is none of them (garbage). */
static inline uint64_t pattern_of(const void *buf)
{
	static __thread uint8_t tmp[BS];
	uint64_t id;
	memcpy(&id, buf, 8);
	pattern_fill(tmp, id);
	return memcmp(tmp, buf, BS) == 0 ? id : UINT64_MAX;
}

static inline void *test_alloc(size_t bytes)
{
	void *p = NULL;
	CHECK(posix_memalign(&p, 4096, bytes ? bytes : 4096) == 0);
	memset(p, 0, bytes ? bytes : 4096);
	return p;
}

/* A fresh scratch directory under TMPDIR (or /tmp), removed by test_cleanup(). */
static char test_dir_path[256];

static inline const char *test_dir(const char *name)
{
	const char *base = getenv("TMPDIR");
	snprintf(test_dir_path, sizeof(test_dir_path), "%s/%s.XXXXXX", base ? base : "/tmp", name);
	CHECK(mkdtemp(test_dir_path) != NULL);
	return test_dir_path;
}

static inline void test_path(char *out, size_t len, const char *file)
{
	snprintf(out, len, "%s/%s", test_dir_path, file);
}

static inline void test_cleanup(void)
{
	char cmd[300];
	if (test_dir_path[0] && !getenv("DEDUP_TEST_KEEP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", test_dir_path);
		if (system(cmd) != 0)
			fprintf(stderr, "warning: could not remove %s\n", test_dir_path);
	}
}

static inline void test_format(const char *path, uint64_t logical_blocks, uint64_t physical_bytes,
			       uint32_t journal_blocks, uint32_t dw_slots)
{
	struct dedup_format_options fo = {
		.logical_bytes = logical_blocks * BS,
		.physical_bytes = physical_bytes,
		.journal_blocks = journal_blocks,
		.doublewrite_slots = dw_slots,
	};
	struct dedup_error err = {0};
	unlink(path);
	if (dedup_volume_format(path, &fo, &err) != 0) {
		fprintf(stderr, "format %s: %s\n", path, err.msg);
		exit(1);
	}
}

static inline struct dedup_volume *test_open(const char *path,
					     const struct dedup_open_options *opts)
{
	struct dedup_volume *v = NULL;
	struct dedup_error err = {0};
	if (dedup_volume_open(path, opts, &v, &err) != 0) {
		if (err.code == -ENOSYS || err.code == -EPERM)
			test_skip(err.msg);
		fprintf(stderr, "open %s: %s\n", path, err.msg);
		exit(1);
	}
	return v;
}

static inline void test_close(struct dedup_volume *v)
{
	struct dedup_error err = {0};
	if (dedup_volume_close(v, &err) != 0) {
		fprintf(stderr, "close: %s\n", err.msg);
		exit(1);
	}
}

struct audit_lines {
	unsigned n;
};

static inline void audit_print(void *arg, const char *line)
{
	struct audit_lines *a = arg;
	a->n++;
	fprintf(stderr, "  audit: %s\n", line);
}

/* Runs the audit and fails the test on any problem. */
static inline void test_audit(struct dedup_volume *v)
{
	struct dedup_check_result res;
	struct dedup_error err = {0};
	struct audit_lines lines = {0};
	if (dedup_volume_check(v, audit_print, &lines, &res, &err) != 0) {
		fprintf(stderr, "check could not run: %s\n", err.msg);
		exit(1);
	}
	if (res.problems != 0) {
		fprintf(stderr, "check found %llu problems\n", (unsigned long long)res.problems);
		exit(1);
	}
}

#endif
