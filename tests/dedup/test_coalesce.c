/* Coalesced data I/O (DESIGN.md §4.2-4.3), counted through the I/O hooks: blocks allocated
 * together are consecutive on the flash and written with one write per engine step; a read of
 * physically consecutive blocks is one read; a read across shared, zero, unmapped and new
 * blocks is one read per physical run and returns every block's bytes. */
#include <fcntl.h>

#include "dedup_test.h"
#include "ondisk.h"

static char path[300];

/* Data-area I/O seen by the hooks, after the last reset. */
struct counter {
	uint64_t data_off; /* first byte of the data area */
	unsigned reads, writes;
	uint32_t read_len[64], write_len[64];
	uint64_t read_off[64], write_off[64];
};

static void count_complete(void *ctx, const struct dedup_io_event *e, int result)
{
	struct counter *c = ctx;
	CHECK_EQ(result, 0);
	if (e->op == DEDUP_IO_FSYNC || e->offset < c->data_off)
		return;
	if (e->op == DEDUP_IO_READ && c->reads < 64) {
		c->read_off[c->reads] = e->offset;
		c->read_len[c->reads++] = e->len;
	} else if (e->op == DEDUP_IO_WRITE && c->writes < 64) {
		c->write_off[c->writes] = e->offset;
		c->write_len[c->writes++] = e->len;
	}
}

static void reset(struct counter *c)
{
	c->reads = c->writes = 0;
}

/* Orders the recorded reads by offset: concurrent reads complete in any order. */
static void sort_reads(struct counter *c)
{
	for (unsigned i = 1; i < c->reads; i++)
		for (unsigned j = i; j > 0 && c->read_off[j - 1] > c->read_off[j]; j--) {
			uint64_t o = c->read_off[j];
			uint32_t l = c->read_len[j];
			c->read_off[j] = c->read_off[j - 1];
			c->read_len[j] = c->read_len[j - 1];
			c->read_off[j - 1] = o;
			c->read_len[j - 1] = l;
		}
}

static uint64_t pbn_at(const struct counter *c, uint64_t off)
{
	return (off - c->data_off) / BS;
}

int main(void)
{
	test_dir("dedup-coalesce");
	test_path(path, sizeof(path), "vol.img");
	test_format(path, 1024, 8 << 20, 16, 4);

	struct dd_superblock sb;
	int fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && pread(fd, &sb, BS, 0) == (ssize_t)BS);
	close(fd);

	struct counter c = {.data_off = sb.data_start * BS};
	struct dedup_io_hooks hooks = {.ctx = &c, .complete = count_complete};
	struct dedup_open_options o = {.io_hooks = &hooks};
	struct dedup_volume *v = test_open(path, &o);
	uint8_t *buf = test_alloc(64 * BS), *rd = test_alloc(64 * BS);

	/* 32 unique blocks in one request on a fresh volume: PBNs 0..31, written as two runs
	 * of 16 (a request has 16 blocks in flight; each step writes what it allocated) */
	for (int i = 0; i < 32; i++)
		pattern_fill(buf + i * BS, 100 + (uint64_t)i);
	reset(&c);
	CHECK_OK(v, dedup_volume_write(v, 0, 32, buf, DEDUP_FUA));
	CHECK_EQ(c.writes, 2);
	CHECK_EQ(c.reads, 0);
	CHECK_EQ(pbn_at(&c, c.write_off[0]), 0);
	CHECK_EQ(c.write_len[0], 16 * BS);
	CHECK_EQ(pbn_at(&c, c.write_off[1]), 16);
	CHECK_EQ(c.write_len[1], 16 * BS);

	/* reading them back: exactly one data read of 128 KiB */
	reset(&c);
	memset(rd, 0xaa, 32 * BS);
	CHECK_OK(v, dedup_volume_read(v, 0, 32, rd));
	CHECK_EQ(c.reads, 1);
	CHECK_EQ(pbn_at(&c, c.read_off[0]), 0);
	CHECK_EQ(c.read_len[0], 32 * BS);
	for (int i = 0; i < 32; i++)
		CHECK_EQ(pattern_of(rd + i * BS), 100 + i);

	/* allocation continues after the last allocated block: PBNs 4 and 5, freed by a trim
	 * made durable, are not taken by the next new blocks, which stay consecutive */
	CHECK_OK(v, dedup_volume_trim(v, 4, 2, DEDUP_FUA));
	/* LBA 200..215: shared with LBA 8..15 (PBNs 8..15), four zero blocks, shared with
	 * LBA 20..23 (PBNs 20..23); 216..219 stay unmapped; 220..228: nine new blocks, the
	 * last with LBA 5's trimmed content (its block was freed: it is new again) */
	for (int i = 0; i < 8; i++)
		pattern_fill(buf + i * BS, 108 + (uint64_t)i);
	memset(buf + 8 * BS, 0, 4 * BS);
	for (int i = 0; i < 4; i++)
		pattern_fill(buf + (12 + i) * BS, 120 + (uint64_t)i);
	for (int i = 0; i < 8; i++)
		pattern_fill(buf + (16 + i) * BS, 500 + (uint64_t)i);
	pattern_fill(buf + 24 * BS, 105);
	reset(&c);
	CHECK_OK(v, dedup_volume_write(v, 200, 16, buf, 0));
	CHECK_OK(v, dedup_volume_write(v, 220, 9, buf + 16 * BS, DEDUP_FUA));
	CHECK_EQ(c.writes, 1); /* PBNs 32..40, not 4, 5, 32..38 */
	CHECK_EQ(pbn_at(&c, c.write_off[0]), 32);
	CHECK_EQ(c.write_len[0], 9 * BS);
	struct dedup_stats st;
	dedup_volume_get_stats(v, &st);
	CHECK_EQ(st.physical_used, 32 - 2 + 9);
	CHECK_EQ(st.dedup_hits, 12);

	/* a read across them all: one read per physical run (8..15, 20..23, 32..40) */
	reset(&c);
	memset(rd, 0xaa, 29 * BS);
	CHECK_OK(v, dedup_volume_read(v, 200, 29, rd));
	CHECK_EQ(c.reads, 3);
	sort_reads(&c);
	CHECK_EQ(pbn_at(&c, c.read_off[0]), 8);
	CHECK_EQ(c.read_len[0], 8 * BS);
	CHECK_EQ(pbn_at(&c, c.read_off[1]), 20);
	CHECK_EQ(c.read_len[1], 4 * BS);
	CHECK_EQ(pbn_at(&c, c.read_off[2]), 32);
	CHECK_EQ(c.read_len[2], 9 * BS);
	for (int i = 0; i < 29; i++) {
		uint64_t want = i < 8 ? 108 + (uint64_t)i :
				i < 12 ? 0 :
				i < 16 ? 120 + (uint64_t)i - 12 :
				i < 20 ? 0 :
				i < 28 ? 500 + (uint64_t)i - 20 : 105;
		CHECK_EQ(pattern_of(rd + i * BS), want);
	}

	/* an unaligned buffer: the same bytes, a data block at a time through the op's bounce
	 * buffer (8 + 4 + 9 reads) */
	uint8_t *odd = malloc(29 * BS + 1);
	CHECK(odd);
	memset(odd, 0x55, 29 * BS + 1);
	reset(&c);
	CHECK_OK(v, dedup_volume_read(v, 200, 29, odd + 1));
	CHECK_EQ(c.reads, 8 + 4 + 9);
	CHECK(memcmp(odd + 1, rd, 29 * BS) == 0);
	free(odd);

	/* after a crash the runs read back the same way */
	dedup_volume_crash(v);
	v = test_open(path, &o);
	reset(&c);
	CHECK_OK(v, dedup_volume_read(v, 0, 32, rd));
	CHECK_EQ(c.reads, 2); /* PBNs 0..3 and 6..31; LBA 4..5 were trimmed */
	for (int i = 0; i < 32; i++)
		CHECK_EQ(pattern_of(rd + i * BS), i == 4 || i == 5 ? 0 : 100 + i);
	test_audit(v);
	test_close(v);

	free(buf);
	free(rd);
	test_cleanup();
	printf("dedup.coalesce: passed\n");
	return 0;
}
