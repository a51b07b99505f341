/* Physical space: blocks freed by trim and overwrite are reused (the volume never grows past
 * its unique data), running out gives -ENOSPC with a clear message, and the volume stays
 * usable and consistent afterwards (reads, trims, duplicate writes, reopen, audit). */
#include "dedup_test.h"

#define L 4096u

int main(void)
{
	test_dir("dedup-space");
	char path[300];
	test_path(path, sizeof(path), "vol.img");
	/* about 400 data blocks behind 4096 logical ones */
	test_format(path, L, 2 << 20, 16, 4);
	struct dedup_volume *v = test_open(path, NULL);
	struct dedup_stats st;
	dedup_volume_get_stats(v, &st);
	const uint64_t P = st.data_blocks;
	printf("%llu data blocks\n", (unsigned long long)P);
	CHECK(P > 300 && P < 500);
	uint8_t *buf = test_alloc(16 * BS), *rd = test_alloc(16 * BS);

	/* reuse: 20 rounds of P/2 unique blocks over the same LBAs, trimmed or overwritten in
	 * turn; without reuse the second round would already run out */
	uint64_t half = P / 2, next_pattern = 1;
	for (int round = 0; round < 20; round++) {
		for (uint64_t i = 0; i < half; i++) {
			pattern_fill(buf, next_pattern++);
			CHECK_OK(v, dedup_volume_write(v, i, 1, buf, 0));
		}
		dedup_volume_get_stats(v, &st);
		CHECK_EQ(st.physical_used, half);
		if (round % 2 == 0)
			CHECK_OK(v, dedup_volume_trim(v, 0, 16, 0)); /* and the rest by overwrite */
	}
	test_audit(v);

	/* fill: unique blocks until -ENOSPC */
	uint64_t lba = half, written = 0;
	int rc = 0;
	while (lba < L) {
		pattern_fill(buf, next_pattern++);
		rc = dedup_volume_write(v, lba, 1, buf, 0);
		if (rc != 0)
			break;
		lba++;
		written++;
	}
	printf("filled after %llu more blocks: %d (%s)\n", (unsigned long long)written, rc,
	       dedup_volume_errmsg(v));
	CHECK_EQ(rc, -ENOSPC);
	CHECK(strstr(dedup_volume_errmsg(v), "no free physical block") != NULL);
	dedup_volume_get_stats(v, &st);
	CHECK_EQ(st.physical_used, P);
	CHECK(!st.failed);

	/* still usable: duplicates and zeros need no space, reads work, trims free space */
	pattern_fill(buf, next_pattern - 2); /* a duplicate of the last block that fit */
	CHECK_OK(v, dedup_volume_write(v, L - 1, 1, buf, 0));
	memset(buf, 0, BS);
	CHECK_OK(v, dedup_volume_write(v, L - 2, 1, buf, 0));
	CHECK_EQ(dedup_volume_write(v, L - 3, 1, (pattern_fill(buf, 999999), buf), 0), -ENOSPC);
	CHECK_OK(v, dedup_volume_read(v, half, 16, rd));
	test_audit(v);
	CHECK_OK(v, dedup_volume_trim(v, half, 16, 0));
	CHECK_OK(v, dedup_volume_write(v, L - 3, 1, buf, 0)); /* freed space is used */
	CHECK_OK(v, dedup_volume_read(v, L - 3, 1, rd));
	CHECK_EQ(pattern_of(rd), 999999);

	/* overwriting a full volume's block with new data: the old block is released by the
	 * same request's journal entry, so it succeeds once the entry is durable */
	pattern_fill(buf, 777777);
	CHECK_OK(v, dedup_volume_write(v, half + 20, 1, buf, 0));
	CHECK_OK(v, dedup_volume_read(v, half + 20, 1, rd));
	CHECK_EQ(pattern_of(rd), 777777);
	test_audit(v);
	test_close(v);

	v = test_open(path, NULL);
	dedup_volume_get_stats(v, &st);
	CHECK(st.physical_used <= P);
	CHECK_OK(v, dedup_volume_read(v, L - 3, 1, rd));
	CHECK_EQ(pattern_of(rd), 999999);
	test_audit(v);
	test_close(v);
	free(buf);
	free(rd);
	test_cleanup();
	printf("ok\n");
	return 0;
}
