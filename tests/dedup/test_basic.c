/* Write, flush, reopen: every block reads back identically; zeros and unmapped blocks read as
 * zeros; duplicates share a physical block; statistics count exactly what was written. */
#include "dedup_test.h"

int main(void)
{
	test_dir("dedup-basic");
	char path[300];
	test_path(path, sizeof(path), "vol.img");
	const uint64_t L = 512;
	test_format(path, L, 4 << 20, 8, 4);

	struct dedup_volume *v = test_open(path, NULL);
	uint8_t *buf = test_alloc(64 * BS), *rd = test_alloc(64 * BS);

	/* 0..31: patterns 1..32 (unique); 32..63: the same 32 again (duplicates);
	 * 64..71: zero blocks; 72..: never written */
	for (int i = 0; i < 32; i++)
		pattern_fill(buf + i * BS, (uint64_t)i + 1);
	CHECK_OK(v, dedup_volume_write(v, 0, 32, buf, 0));
	CHECK_OK(v, dedup_volume_write(v, 32, 32, buf, 0));
	memset(buf, 0, 8 * BS);
	CHECK_OK(v, dedup_volume_write(v, 64, 8, buf, 0));
	CHECK_OK(v, dedup_volume_flush(v));

	struct dedup_stats st;
	dedup_volume_get_stats(v, &st);
	CHECK_EQ(st.mapped_blocks, 64);
	CHECK_EQ(st.zero_blocks, 8);
	CHECK_EQ(st.physical_used, 32);
	CHECK_EQ(st.dedup_hits, 32);
	CHECK_EQ(st.verify_mismatches, 0);
	CHECK_EQ(st.zero_writes, 8);
	CHECK_EQ(st.bytes_saved, (64 + 8 - 32) * BS);
	CHECK_EQ(st.index_entries, 32);
	test_audit(v);

	/* an unaligned buffer goes through the bounce path */
	uint8_t *odd = malloc(3 * BS + 1);
	CHECK(odd);
	pattern_fill(odd + 1, 500);
	pattern_fill(odd + 1 + BS, 501);
	pattern_fill(odd + 1 + 2 * BS, 1); /* duplicate of LBA 0 */
	CHECK_OK(v, dedup_volume_write(v, 100, 3, odd + 1, DEDUP_FUA));
	memset(odd, 0xee, 3 * BS + 1);
	CHECK_OK(v, dedup_volume_read(v, 100, 3, odd + 1));
	CHECK_EQ(pattern_of(odd + 1), 500);
	CHECK_EQ(pattern_of(odd + 1 + BS), 501);
	CHECK_EQ(pattern_of(odd + 1 + 2 * BS), 1);
	test_close(v);

	/* reopen after a clean close: nothing to replay, everything reads back */
	v = test_open(path, NULL);
	dedup_volume_get_stats(v, &st);
	CHECK_EQ(st.recovery_entries, 0);
	CHECK_EQ(st.physical_used, 34);
	CHECK_OK(v, dedup_volume_read(v, 0, 64, rd));
	for (int i = 0; i < 64; i++)
		CHECK_EQ(pattern_of(rd + i * BS), (i % 32) + 1);
	memset(rd, 0xaa, 16 * BS);
	CHECK_OK(v, dedup_volume_read(v, 64, 16, rd));
	for (int i = 0; i < 16 * (int)BS; i++)
		CHECK(rd[i] == 0);
	CHECK_OK(v, dedup_volume_read(v, 100, 3, rd));
	CHECK_EQ(pattern_of(rd), 500);
	CHECK_EQ(pattern_of(rd + 2 * BS), 1);
	test_audit(v);

	/* out of range and oversized requests are refused, the volume stays usable */
	CHECK_EQ(dedup_volume_write(v, L - 1, 2, buf, 0), -EINVAL);
	CHECK(strstr(dedup_volume_errmsg(v), "beyond the volume") != NULL);
	CHECK_EQ(dedup_volume_read(v, L, 1, rd), -EINVAL);

	/* overwrite with new data, trim, write zeroes; reopen after a crash (no close) */
	pattern_fill(buf, 77);
	CHECK_OK(v, dedup_volume_write(v, 0, 1, buf, 0));
	CHECK_OK(v, dedup_volume_trim(v, 1, 1, 0));
	CHECK_OK(v, dedup_volume_write_zeroes(v, 2, 1, 0));
	CHECK_OK(v, dedup_volume_flush(v));
	dedup_volume_crash(v);

	v = test_open(path, NULL);
	dedup_volume_get_stats(v, &st);
	CHECK(st.recovery_entries >= 3);
	CHECK_OK(v, dedup_volume_read(v, 0, 4, rd));
	CHECK_EQ(pattern_of(rd), 77);
	CHECK_EQ(pattern_of(rd + BS), 0);
	CHECK_EQ(pattern_of(rd + 2 * BS), 0);
	CHECK_EQ(pattern_of(rd + 3 * BS), 4);
	dedup_volume_get_stats(v, &st);
	CHECK_EQ(st.zero_blocks, 9);
	CHECK_EQ(st.mapped_blocks, 64 + 3 - 2);
	test_audit(v);
	printf("open report after crash:\n%s", dedup_volume_open_report(v));
	test_close(v);

	free(odd);
	free(buf);
	free(rd);
	test_cleanup();
	printf("ok\n");
	return 0;
}
