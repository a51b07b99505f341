/* Reference count saturation: 5000 copies of one block take ceil(5000/254) = 20 physical
 * blocks, no count exceeds 254, all copies read back; trims bring counts down, later copies
 * reuse the unsaturated blocks, and trimming everything frees every block. */
#include "dedup_test.h"

#define COPIES 5000u
#define L 8192u

int main(void)
{
	test_dir("dedup-saturation");
	char path[300];
	test_path(path, sizeof(path), "vol.img");
	test_format(path, L, 8 << 20, 64, 16);
	struct dedup_volume *v = test_open(path, NULL);
	uint8_t *buf = test_alloc(64 * BS), *rd = test_alloc(64 * BS);
	for (int i = 0; i < 64; i++)
		pattern_fill(buf + i * BS, 42);

	for (uint64_t lba = 0; lba < COPIES; lba += 64) {
		uint32_t n = (uint32_t)(COPIES - lba < 64 ? COPIES - lba : 64);
		CHECK_OK(v, dedup_volume_write(v, lba, n, buf, 0));
	}
	struct dedup_stats st;
	dedup_volume_get_stats(v, &st);
	printf("%u copies: %llu physical blocks, %llu hits, %llu saturated copies\n", COPIES,
	       (unsigned long long)st.physical_used, (unsigned long long)st.dedup_hits,
	       (unsigned long long)st.saturations);
	CHECK_EQ(st.physical_used, (COPIES + 253) / 254);
	CHECK_EQ(st.dedup_hits, COPIES - st.physical_used);
	CHECK_EQ(st.saturations, st.physical_used - 1); /* every full block, not the last */
	CHECK_EQ(st.mapped_blocks, COPIES);
	test_audit(v); /* recounts every reference: none above 254 */

	/* concurrently, through the asynchronous interface: 8 requests of 64 copies each */
	for (int i = 0; i < 8; i++)
		CHECK_OK(v, dedup_volume_submit_write(v, COPIES + (uint64_t)i * 64, 64, buf, 0,
						      NULL, NULL));
	while (dedup_volume_inflight(v) > 0)
		CHECK(dedup_volume_wait(v) >= 0);
	uint64_t total = COPIES + 512;
	dedup_volume_get_stats(v, &st);
	CHECK_EQ(st.mapped_blocks, total);
	CHECK_EQ(st.physical_used, (total + 253) / 254);
	test_audit(v);

	for (uint64_t lba = 0; lba < total; lba += 64) {
		uint32_t n = (uint32_t)(total - lba < 64 ? total - lba : 64);
		CHECK_OK(v, dedup_volume_read(v, lba, n, rd));
		for (uint32_t i = 0; i < n; i++)
			CHECK_EQ(pattern_of(rd + (size_t)i * BS), 42);
	}

	/* trim the first 1000 copies: those references are spread over the first blocks;
	 * 1000 new copies then fit without a single new block */
	CHECK_OK(v, dedup_volume_flush(v));
	uint64_t used_before = st.physical_used;
	for (uint64_t lba = 0; lba < 1000; lba += 100)
		CHECK_OK(v, dedup_volume_trim(v, lba, 100, 0));
	dedup_volume_get_stats(v, &st);
	CHECK_EQ(st.mapped_blocks, total - 1000);
	for (uint64_t lba = 0; lba < 1000; lba += 50)
		CHECK_OK(v, dedup_volume_write(v, lba, 50, buf, 0));
	dedup_volume_get_stats(v, &st);
	CHECK_EQ(st.mapped_blocks, total);
	CHECK(st.physical_used <= used_before);
	test_audit(v);

	/* trim everything: every block is free again, and reusable after a reopen too */
	for (uint64_t lba = 0; lba < total; lba += 256)
		CHECK_OK(v, dedup_volume_trim(v, lba, (uint32_t)(total - lba < 256 ? total - lba : 256), 0));
	CHECK_OK(v, dedup_volume_flush(v));
	dedup_volume_get_stats(v, &st);
	CHECK_EQ(st.physical_used, 0);
	CHECK_EQ(st.mapped_blocks, 0);
	test_audit(v);
	test_close(v);
	v = test_open(path, NULL);
	dedup_volume_get_stats(v, &st);
	CHECK_EQ(st.physical_used, 0);
	CHECK_EQ(st.physical_free, st.data_blocks);
	test_audit(v);
	test_close(v);
	free(buf);
	free(rd);
	test_cleanup();
	printf("ok\n");
	return 0;
}
