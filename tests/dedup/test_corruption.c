/* Damaged or wrong backing stores and failing I/O. Every case asserts the exact outcome: the
 * open fails with a message naming the structure and block (or repairs a torn page from the
 * doublewrite area and says so), the audit names the PBN it found wrong, and injected I/O
 * errors come back as -EIO with the block named, leaving the volume consistent. */
#include <fcntl.h>

#include "dedup_test.h"
#include "ondisk.h"

#define L 4096u

static char path[300];
static struct dd_superblock sb;

static void rd_block(uint64_t block, void *buf)
{
	int fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && pread(fd, buf, BS, (off_t)(block * BS)) == (ssize_t)BS);
	close(fd);
}

static void wr_block(uint64_t block, const void *buf)
{
	int fd = open(path, O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, buf, BS, (off_t)(block * BS)) == (ssize_t)BS);
	close(fd);
}

static void flip(uint64_t block, unsigned off)
{
	uint8_t b[BS];
	rd_block(block, b);
	b[off] ^= 0x10;
	wr_block(block, b);
}

/* Re-seals a block after a change, as a bug or a malicious writer could. */
static void reseal(void *b)
{
	struct dd_header *h = b;
	h->crc = dd_block_crc(b);
}

static uint8_t saved[64][BS];
static uint64_t saved_block[64];
static unsigned nsaved;

static void save(uint64_t block)
{
	saved_block[nsaved] = block;
	rd_block(block, saved[nsaved++]);
}

static void restore(void)
{
	while (nsaved)
		nsaved--, wr_block(saved_block[nsaved], saved[nsaved]);
}

/* Opening must fail with a message containing every fragment. */
static void expect_open_error(const char *what, const char *frag1, const char *frag2)
{
	struct dedup_volume *v = NULL;
	struct dedup_error err = {0};
	int rc = dedup_volume_open(path, &(struct dedup_open_options){.read_only = true}, &v, &err);
	printf("%-40s -> %s\n", what, rc ? err.msg : "opened");
	if (rc == 0) {
		fprintf(stderr, "%s: open succeeded\n", what);
		exit(1);
	}
	CHECK(v == NULL && err.code == rc && rc < 0);
	CHECK(strstr(err.msg, frag1) != NULL);
	CHECK(!frag2 || strstr(err.msg, frag2) != NULL);
}

static struct dedup_volume *open_ro(void)
{
	return test_open(path, &(struct dedup_open_options){.read_only = true});
}

/* Builds the volume the structure cases damage: LBAs 0..599 unique (PBNs 0..599, so two
 * fingerprint pages), then LBA 3000 a duplicate of LBA 0 and a clean close, so the last
 * checkpoint round — the doublewrite area — holds block map page 2 and refcount page 0. */
static void build(void)
{
	test_format(path, L, 16 << 20, 16, 8);
	struct dedup_volume *v = test_open(path, NULL);
	uint8_t *buf = test_alloc(16 * BS);
	for (uint64_t lba = 0; lba < 600; lba += 10) {
		for (int i = 0; i < 10; i++)
			pattern_fill(buf + i * BS, lba + (uint64_t)i + 1);
		CHECK_OK(v, dedup_volume_write(v, lba, 10, buf, 0));
	}
	test_close(v);
	v = test_open(path, NULL);
	pattern_fill(buf, 1);
	CHECK_OK(v, dedup_volume_write(v, 3000, 1, buf, 0));
	test_close(v);
	free(buf);
	rd_block(0, &sb);
}

static void structures(void)
{
	build();
	const uint64_t bm0 = sb.bm_start, bm2 = sb.bm_start + 2, fp1 = sb.fp_start + 1;

	/* superblocks */
	save(0), save(1);
	flip(0, 200);
	flip(1, 300);
	expect_open_error("both superblocks damaged", "superblock copy 0 (block 0): checksum",
			  "superblock copy 1 (block 1): checksum");
	restore();
	save(0), save(1);
	struct dd_superblock s2;
	for (unsigned c = 0; c < 2; c++) {
		rd_block(c, &s2);
		s2.data_start += 1;
		reseal(&s2);
		wr_block(c, &s2);
	}
	expect_open_error("superblock geometry changed, resealed", "data_start is",
			  "the geometry gives");
	restore();
	save(0), save(1);
	for (unsigned c = 0; c < 2; c++) {
		rd_block(c, &s2);
		s2.h.version = 2;
		reseal(&s2);
		wr_block(c, &s2);
	}
	expect_open_error("superblocks from a newer format", "format version 2",
			  "reads version 1");
	restore();

	/* metadata pages */
	save(bm0);
	flip(bm0, 1000);
	expect_open_error("block map page 0 damaged", "block map page 0 (block", "checksum mismatch");
	restore();
	save(fp1);
	flip(fp1, 2000);
	expect_open_error("fingerprint page 1 damaged", "fingerprint page 1 (block", "checksum");
	restore();
	save(bm0);
	{
		struct dd_bm_page p;
		rd_block(bm0, &p);
		p.map[7] = DD_PBN_TO_MAP(sb.data_blocks + 5);
		reseal(&p);
		wr_block(bm0, &p);
	}
	expect_open_error("block map entry past the data area", "LBA 7 maps to PBN",
			  "beyond the");
	restore();

	/* a torn home page covered by the doublewrite area is repaired, and said so */
	save(bm2);
	flip(bm2, 100);
	struct dedup_volume *v = open_ro();
	printf("%-40s -> %s", "block map page 2 damaged, in doublewrite", dedup_volume_open_report(v));
	CHECK(strstr(dedup_volume_open_report(v), "block map page 2") != NULL);
	CHECK(strstr(dedup_volume_open_report(v), "repaired from the doublewrite area") != NULL);
	uint8_t *rd = test_alloc(BS);
	CHECK_OK(v, dedup_volume_read(v, 3000, 1, rd));
	CHECK_EQ(pattern_of(rd), 1);
	test_audit(v);
	test_close(v);
	v = test_open(path, NULL); /* writable: writes the page home */
	test_close(v);
	v = open_ro();
	CHECK(strstr(dedup_volume_open_report(v), "repaired") == NULL);
	test_close(v);
	nsaved = 0;

	/* counts that lie, with valid checksums: the open cannot know, the audit finds them */
	save(sb.rc_start);
	{
		struct dd_rc_page p;
		rd_block(sb.rc_start, &p);
		CHECK_EQ(p.count[0], 2);
		p.count[0] = 3;
		p.count[9] = 0;
		reseal(&p);
		wr_block(sb.rc_start, &p);
	}
	v = open_ro();
	struct dedup_check_result res;
	struct dedup_error err = {0};
	struct audit_lines lines = {0};
	CHECK_OK(v, dedup_volume_check(v, audit_print, &lines, &res, &err));
	printf("%-40s -> %llu problems\n", "refcounts changed, resealed",
	       (unsigned long long)res.problems);
	CHECK_EQ(res.refcount_mismatches, 2);
	CHECK_EQ(res.problems, 2); /* index and free bitmap follow the counts at open */
	test_close(v);
	restore();

	/* a data block changed under the volume: the audit names its PBN */
	save(sb.data_start + 17);
	flip(sb.data_start + 17, 5);
	v = open_ro();
	lines.n = 0;
	CHECK_OK(v, dedup_volume_check(v, audit_print, &lines, &res, &err));
	CHECK_EQ(res.key_mismatches, 1);
	CHECK_EQ(res.problems, 1);
	test_close(v);
	restore();

	/* the file cut short, and a file that is no volume at all */
	CHECK(truncate(path, (off_t)(sb.backing_blocks - 1) * BS) == 0);
	expect_open_error("backing file truncated", "but the volume was formatted for",
			  "truncated or wrong device");
	CHECK(truncate(path, 0) == 0);
	CHECK(truncate(path, 1 << 20) == 0);
	expect_open_error("a file of zeros", "never written", "not a dedup volume");
	free(rd);
}

static void journal(void)
{
	test_format(path, L, 4 << 20, 16, 4);
	struct dedup_volume *v = test_open(path, NULL);
	uint8_t *buf = test_alloc(BS), *rd = test_alloc(BS);
	uint64_t seqs[3];
	for (int i = 0; i < 3; i++) {
		pattern_fill(buf, 70 + (uint64_t)i);
		CHECK_OK(v, dedup_volume_write(v, (uint64_t)i, 1, buf, 0));
		CHECK_OK(v, dedup_volume_flush(v));
		struct dedup_stats st;
		dedup_volume_get_stats(v, &st);
		seqs[i] = st.journal_durable_seq;
	}
	dedup_volume_crash(v);
	rd_block(0, &sb);
	uint64_t first = sb.journal_start + seqs[0] % sb.journal_blocks;
	uint64_t last = sb.journal_start + seqs[2] % sb.journal_blocks;

	/* the middle of a durable journal: refused, naming both blocks */
	save(first);
	flip(first, 700);
	expect_open_error("durable journal block damaged", "is damaged or missing",
			  "flushed journal entries are lost");
	restore();

	/* a replayed entry that contradicts the block map, resealed */
	save(first);
	{
		struct dd_journal_block b;
		rd_block(first, &b);
		b.entries[0].old_map = DD_MAP_ZERO;
		reseal(&b);
		wr_block(first, &b);
	}
	expect_open_error("journal entry contradicts the map", "LBA 0 maps to unmapped",
			  "but the entry says the zero block");
	restore();

	/* the newest block: indistinguishable from a torn write, reported, the rest kept */
	save(last);
	flip(last, 64);
	v = open_ro();
	printf("%-40s -> %s", "newest journal block damaged", dedup_volume_open_report(v));
	CHECK(strstr(dedup_volume_open_report(v), "checksum mismatch") != NULL);
	CHECK_OK(v, dedup_volume_read(v, 1, 1, rd));
	CHECK_EQ(pattern_of(rd), 71);
	CHECK_OK(v, dedup_volume_read(v, 2, 1, rd));
	CHECK_EQ(pattern_of(rd), 0);
	test_audit(v);
	test_close(v);
	restore();
	free(buf);
	free(rd);
}

/* ---- injected I/O errors ---- */

struct fault {
	enum dedup_io_op op;
	uint64_t lo, hi; /* byte range the fault applies to */
	int remaining;   /* how many I/Os to fail */
	int injected;
};

static int fault_submit(void *ctx, const struct dedup_io_event *e)
{
	struct fault *f = ctx;
	if (f->remaining > 0 && e->op == f->op &&
	    (e->op == DEDUP_IO_FSYNC || (e->offset < f->hi && e->offset + e->len > f->lo))) {
		f->remaining--;
		f->injected++;
		return -EIO;
	}
	return 0;
}

static void io_errors(void)
{
	test_format(path, L, 4 << 20, 16, 4);
	rd_block(0, &sb);
	const uint64_t data_lo = sb.data_start * BS, data_hi = sb.backing_blocks * BS;
	const uint64_t j_lo = sb.journal_start * BS, j_hi = (sb.journal_start + sb.journal_blocks) * BS;
	struct fault f = {0};
	struct dedup_io_hooks hooks = {.ctx = &f, .submit = fault_submit};
	struct dedup_open_options o = {.io_hooks = &hooks};
	struct dedup_volume *v = test_open(path, &o);
	uint8_t *buf = test_alloc(4 * BS), *rd = test_alloc(4 * BS);
	struct dedup_stats st;

	for (int i = 0; i < 4; i++)
		pattern_fill(buf + i * BS, 10 + (uint64_t)i);
	CHECK_OK(v, dedup_volume_write(v, 0, 4, buf, DEDUP_FUA));

	/* a data write fails: -EIO naming the block; the block goes back; nothing else fails */
	f = (struct fault){DEDUP_IO_WRITE, data_lo, data_hi, 1, 0};
	pattern_fill(buf, 20);
	int rc = dedup_volume_write(v, 10, 1, buf, 0);
	printf("%-40s -> %d %s\n", "data write fails", rc, dedup_volume_errmsg(v));
	CHECK_EQ(rc, -EIO);
	CHECK(strstr(dedup_volume_errmsg(v), "cannot write PBN") != NULL);
	dedup_volume_get_stats(v, &st);
	CHECK(!st.failed);
	CHECK_EQ(st.physical_used, 4);
	CHECK_OK(v, dedup_volume_write(v, 10, 1, buf, 0));
	test_audit(v);

	/* a read fails */
	f = (struct fault){DEDUP_IO_READ, data_lo, data_hi, 1, 0};
	rc = dedup_volume_read(v, 0, 4, rd);
	printf("%-40s -> %d %s\n", "data read fails", rc, dedup_volume_errmsg(v));
	CHECK_EQ(rc, -EIO);
	CHECK(strstr(dedup_volume_errmsg(v), "cannot read PBN") != NULL);
	CHECK_OK(v, dedup_volume_read(v, 0, 4, rd));
	CHECK_EQ(pattern_of(rd + 3 * BS), 13);

	/* the read that verifies a duplicate fails: the write fails, nothing is shared */
	f = (struct fault){DEDUP_IO_READ, data_lo, data_hi, 1, 0};
	pattern_fill(buf, 11);
	rc = dedup_volume_write(v, 11, 1, buf, 0);
	printf("%-40s -> %d %s\n", "verify read fails", rc, dedup_volume_errmsg(v));
	CHECK_EQ(rc, -EIO);
	CHECK(strstr(dedup_volume_errmsg(v), "to compare a duplicate") != NULL);
	test_audit(v);

	/* a journal write fails: the flush fails, the volume refuses writes from then on, reads
	 * still work, close reports it; a reopen has everything flushed before */
	CHECK_OK(v, dedup_volume_flush(v));
	f = (struct fault){DEDUP_IO_WRITE, j_lo, j_hi, 1000, 0};
	pattern_fill(buf, 30);
	CHECK_OK(v, dedup_volume_write(v, 20, 1, buf, 0));
	rc = dedup_volume_flush(v);
	printf("%-40s -> %d %s\n", "journal write fails", rc, dedup_volume_errmsg(v));
	CHECK_EQ(rc, -EIO);
	CHECK(strstr(dedup_volume_errmsg(v), "cannot write journal block seq") != NULL);
	dedup_volume_get_stats(v, &st);
	CHECK(st.failed);
	CHECK_EQ(dedup_volume_write(v, 21, 1, buf, 0), -EIO);
	CHECK_OK(v, dedup_volume_read(v, 0, 1, rd));
	CHECK_EQ(pattern_of(rd), 10);
	struct dedup_error err = {0};
	CHECK_EQ(dedup_volume_close(v, &err), -EIO);
	printf("%-40s -> %s\n", "close of a failed volume", err.msg);
	CHECK(strstr(err.msg, "final checkpoint failed") != NULL);

	v = test_open(path, NULL);
	CHECK_OK(v, dedup_volume_read(v, 0, 4, rd));
	for (int i = 0; i < 4; i++)
		CHECK_EQ(pattern_of(rd + i * BS), 10 + i);
	CHECK_OK(v, dedup_volume_read(v, 10, 1, rd));
	CHECK_EQ(pattern_of(rd), 20);
	test_audit(v);
	test_close(v);

	/* an fdatasync fails: same as a failed journal write */
	f = (struct fault){DEDUP_IO_FSYNC, 0, 0, 1000, 0};
	v = test_open(path, &o);
	pattern_fill(buf, 40);
	CHECK_OK(v, dedup_volume_write(v, 30, 1, buf, 0));
	CHECK_EQ(dedup_volume_flush(v), -EIO);
	CHECK(strstr(dedup_volume_errmsg(v), "fdatasync") != NULL);
	dedup_volume_crash(v);

	/* reading the metadata fails during recovery: the open fails naming what it read */
	f = (struct fault){DEDUP_IO_READ, sb.bm_start * BS, sb.data_start * BS, 1, 0};
	struct dedup_volume *v2 = NULL;
	err = (struct dedup_error){0};
	CHECK_EQ(dedup_volume_open(path, &o, &v2, &err), -EIO);
	printf("%-40s -> %s\n", "metadata read fails at open", err.msg);
	CHECK(strstr(err.msg, "cannot read the metadata pages") != NULL);
	f = (struct fault){DEDUP_IO_READ, j_lo, j_hi, 1, 0};
	err = (struct dedup_error){0};
	CHECK_EQ(dedup_volume_open(path, &o, &v2, &err), -EIO);
	CHECK(strstr(err.msg, "cannot read the journal") != NULL);
	f.remaining = 0;
	v = test_open(path, &o);
	CHECK_OK(v, dedup_volume_read(v, 10, 1, rd));
	CHECK_EQ(pattern_of(rd), 20);
	test_audit(v);
	test_close(v);
	free(buf);
	free(rd);
}

int main(void)
{
	test_dir("dedup-corruption");
	test_path(path, sizeof(path), "vol.img");
	structures();
	journal();
	io_errors();
	test_cleanup();
	printf("ok\n");
	return 0;
}
