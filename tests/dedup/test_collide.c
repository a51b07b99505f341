/* Forced fingerprint collisions: linked with the dedup_key8 build, which keeps 8 bits of the
 * key, so about one block in 256 shares a key with any other. Proves verify-on-match: distinct
 * blocks never share a PBN, everything reads back, and the verify-mismatch counter equals the
 * number of byte comparisons that had to fail. */
#include "dedup_test.h"

#define N 1500u
#define L 4096u

static uint64_t key_of_pattern(uint64_t id)
{
	static uint8_t b[BS] __attribute__((aligned(4096)));
	pattern_fill(b, id);
	return dedup_block_key(b);
}

int main(void)
{
	CHECK_EQ(dedup_key_bits(), 8);
	test_dir("dedup-collide");
	char path[300];
	test_path(path, sizeof(path), "vol.img");
	test_format(path, L, 24 << 20, 64, 16);
	struct dedup_volume *v = test_open(path, NULL);
	uint8_t *buf = test_alloc(16 * BS), *rd = test_alloc(16 * BS);

	/* phase 1: N distinct blocks, one write each. Write i is compared with every earlier
	 * block of its key, and every comparison fails. */
	unsigned same_key[256] = {0};
	uint64_t expect_mismatch = 0;
	for (uint64_t i = 0; i < N; i++) {
		uint64_t k = key_of_pattern(i + 1);
		CHECK(k < 256);
		expect_mismatch += same_key[k]++;
		pattern_fill(buf, i + 1);
		CHECK_OK(v, dedup_volume_write(v, i, 1, buf, 0));
	}
	struct dedup_stats st;
	dedup_volume_get_stats(v, &st);
	printf("phase 1: %u distinct blocks, %llu verify mismatches (expected %llu)\n", N,
	       (unsigned long long)st.verify_mismatches, (unsigned long long)expect_mismatch);
	CHECK_EQ(st.physical_used, N);
	CHECK_EQ(st.dedup_hits, 0);
	CHECK_EQ(st.verify_mismatches, expect_mismatch);
	CHECK(expect_mismatch > N); /* the collisions really happened */

	/* phase 2: a duplicate of every stored block. Each finds its twin among the blocks of
	 * its key: a hit, after at most (blocks of that key - 1) failed comparisons. */
	uint64_t before = st.verify_mismatches, bound = 0;
	for (uint64_t i = 0; i < N; i++) {
		pattern_fill(buf, i + 1);
		CHECK_OK(v, dedup_volume_write(v, N + i, 1, buf, 0));
		bound += same_key[key_of_pattern(i + 1)] - 1;
	}
	dedup_volume_get_stats(v, &st);
	printf("phase 2: %u duplicates, %llu hits, %llu more mismatches (at most %llu)\n", N,
	       (unsigned long long)st.dedup_hits,
	       (unsigned long long)(st.verify_mismatches - before), (unsigned long long)bound);
	CHECK_EQ(st.physical_used, N);
	CHECK_EQ(st.dedup_hits, N);
	CHECK(st.verify_mismatches - before <= bound);

	/* every LBA holds its own block: no two distinct blocks were ever merged */
	for (uint64_t lba = 0; lba < 2 * N; lba += 16) {
		uint32_t n = (uint32_t)(2 * N - lba < 16 ? 2 * N - lba : 16);
		CHECK_OK(v, dedup_volume_read(v, lba, n, rd));
		for (uint32_t j = 0; j < n; j++)
			CHECK_EQ(pattern_of(rd + (size_t)j * BS), ((lba + j) % N) + 1);
	}
	test_audit(v);

	/* multi-block requests: colliding blocks in flight together are compared in memory */
	for (uint64_t lba = 2 * N; lba < 2 * N + 256; lba += 16) {
		for (uint32_t j = 0; j < 16; j++)
			pattern_fill(buf + (size_t)j * BS, 5000 + ((lba + j) % 40));
		CHECK_OK(v, dedup_volume_write(v, lba, 16, buf, 0));
	}
	dedup_volume_get_stats(v, &st);
	CHECK_EQ(st.physical_used, N + 40);
	CHECK_EQ(st.dedup_hits, N + 256 - 40);

	/* after a reopen the index is rebuilt from the fingerprint pages: still verified; the
	 * lifetime counters came back from the superblock */
	uint64_t mismatches = st.verify_mismatches;
	test_close(v);
	v = test_open(path, NULL);
	dedup_volume_get_stats(v, &st);
	CHECK_EQ(st.dedup_hits, N + 256 - 40);
	CHECK_EQ(st.verify_mismatches, mismatches);
	for (uint64_t i = 0; i < 100; i++) {
		pattern_fill(buf, i + 1);
		CHECK_OK(v, dedup_volume_write(v, 3000 + i, 1, buf, 0));
	}
	dedup_volume_get_stats(v, &st);
	CHECK_EQ(st.dedup_hits, N + 256 - 40 + 100);
	CHECK_EQ(st.physical_used, N + 40);
	CHECK_OK(v, dedup_volume_read(v, 3000, 16, rd));
	for (uint32_t j = 0; j < 16; j++)
		CHECK_EQ(pattern_of(rd + (size_t)j * BS), j + 1);
	test_audit(v);
	test_close(v);
	free(buf);
	free(rd);
	test_cleanup();
	printf("ok\n");
	return 0;
}
