/* Recovery corner cases built on disk deterministically:
 * 1. a stale journal block after a gap (DESIGN.md §5.3): blocks s and s+1 were in flight,
 *    s was lost and s+1 landed; the next generation rewrites s and crashes; s+1 must not be
 *    replayed as if it followed the new s;
 * 2. a full journal: recovery replays every entry of a journal that wrapped many times and
 *    was never checkpointed past its tail by a clean close;
 * 3. the superblock fallback: with the newest copy damaged, the older copy is used and the
 *    open report says so. */
#include <fcntl.h>

#include "dedup_test.h"
#include "ondisk.h"

#define L 256u

static void zero_block(const char *path, uint64_t block)
{
	int fd = open(path, O_WRONLY);
	CHECK(fd >= 0);
	uint8_t z[BS] = {0};
	CHECK(pwrite(fd, z, BS, (off_t)(block * BS)) == (ssize_t)BS);
	close(fd);
}

static void flip_byte(const char *path, uint64_t offset)
{
	int fd = open(path, O_RDWR);
	CHECK(fd >= 0);
	uint8_t b;
	CHECK(pread(fd, &b, 1, (off_t)offset) == 1);
	b ^= 0x5a;
	CHECK(pwrite(fd, &b, 1, (off_t)offset) == 1);
	close(fd);
}

static void stale_block_after_gap(const char *path)
{
	const uint32_t J = 8;
	test_format(path, L, 2 << 20, J, 4);
	uint8_t *buf = test_alloc(BS), *rd = test_alloc(BS);
	struct dedup_volume *v = test_open(path, NULL);
	struct dedup_stats st;

	pattern_fill(buf, 101);
	CHECK_OK(v, dedup_volume_write(v, 10, 1, buf, 0));
	CHECK_OK(v, dedup_volume_flush(v));
	dedup_volume_get_stats(v, &st);
	uint64_t s = st.journal_durable_seq; /* block holding LBA 10's entry */
	pattern_fill(buf, 102);
	CHECK_OK(v, dedup_volume_write(v, 20, 1, buf, 0));
	CHECK_OK(v, dedup_volume_flush(v));
	dedup_volume_get_stats(v, &st);
	CHECK_EQ(st.journal_durable_seq, s + 1);
	dedup_volume_crash(v);

	/* make s and s+1 one commit round (s+1 written before s was durable), then lose s:
	 * the journal ends before s and both writes are gone, as after a crash mid-round */
	int fd = open(path, O_RDWR);
	CHECK(fd >= 0);
	struct dd_journal_block jb;
	CHECK(pread(fd, &jb, BS, (off_t)((2 + (s + 1) % J) * BS)) == (ssize_t)BS);
	CHECK_EQ(jb.h.seq, s + 1);
	CHECK_EQ(jb.durable_seq, s);
	jb.durable_seq = s - 1;
	dd_block_seal(&jb, DD_KIND_JOURNAL, jb.h.aux, jb.h.seq, jb.h.nonce);
	CHECK(pwrite(fd, &jb, BS, (off_t)((2 + (s + 1) % J) * BS)) == (ssize_t)BS);
	close(fd);
	zero_block(path, 2 + s % J);
	v = test_open(path, NULL);
	CHECK_OK(v, dedup_volume_read(v, 20, 1, rd));
	CHECK_EQ(pattern_of(rd), 0);
	CHECK(strstr(dedup_volume_open_report(v), "replayed") == NULL);

	/* the new generation writes block s again, then crashes */
	pattern_fill(buf, 103);
	CHECK_OK(v, dedup_volume_write(v, 30, 1, buf, 0));
	CHECK_OK(v, dedup_volume_flush(v));
	dedup_volume_get_stats(v, &st);
	CHECK_EQ(st.journal_durable_seq, s);
	dedup_volume_crash(v);

	/* old s+1 still follows the new s on disk with the right seq and checksum; its older
	 * generation ends the chain, so LBA 20 stays unwritten */
	v = test_open(path, NULL);
	printf("reopen after the stale block:\n%s", dedup_volume_open_report(v));
	CHECK(strstr(dedup_volume_open_report(v), "generation") != NULL);
	CHECK_OK(v, dedup_volume_read(v, 30, 1, rd));
	CHECK_EQ(pattern_of(rd), 103);
	CHECK_OK(v, dedup_volume_read(v, 20, 1, rd));
	CHECK_EQ(pattern_of(rd), 0);
	CHECK_OK(v, dedup_volume_read(v, 10, 1, rd));
	CHECK_EQ(pattern_of(rd), 0);
	test_audit(v);
	test_close(v);
	free(buf);
	free(rd);
}

static void full_journal(const char *path)
{
	/* checkpoints only when the journal is full: recovery replays a full journal */
	const uint32_t J = 32;
	test_format(path, 4096, 8 << 20, J, 8);
	struct dedup_open_options o = {.checkpoint_journal_percent = 100,
				       .checkpoint_dirty_pages = 1000000};
	struct dedup_volume *v = test_open(path, &o);
	uint8_t *buf = test_alloc(16 * BS), *rd = test_alloc(16 * BS);
	struct dedup_stats st;
	uint64_t next = 1, lba = 0;
	/* fill the journal up to its last block, across at least one wrap */
	for (;;) {
		dedup_volume_get_stats(v, &st);
		if (st.checkpoints >= 2 && st.journal_used >= J - 1)
			break;
		for (int i = 0; i < 16; i++)
			pattern_fill(buf + i * BS, next++);
		CHECK_OK(v, dedup_volume_write(v, lba % 1024, 16, buf, 0));
		lba += 16;
	}
	CHECK_OK(v, dedup_volume_flush(v));
	dedup_volume_get_stats(v, &st);
	printf("journal %llu/%u blocks used after %llu checkpoints\n",
	       (unsigned long long)st.journal_used, J, (unsigned long long)st.checkpoints);
	dedup_volume_crash(v);
	v = test_open(path, NULL);
	dedup_volume_get_stats(v, &st);
	printf("recovered %llu entries in %.3f ms\n", (unsigned long long)st.recovery_entries,
	       st.recovery_ns / 1e6);
	CHECK(st.recovery_entries >= (J - 3) * 160u);
	/* the 1024 LBAs cycled over hold the last patterns written to them */
	uint64_t first = lba - 1024;
	for (uint64_t l = first; l < lba; l += 16) {
		CHECK_OK(v, dedup_volume_read(v, l % 1024, 16, rd));
		for (uint64_t i = 0; i < 16; i++)
			CHECK_EQ(pattern_of(rd + i * BS), l + i + 1);
	}
	test_audit(v);
	test_close(v);
	free(buf);
	free(rd);
}

static void superblock_fallback(const char *path)
{
	test_format(path, L, 2 << 20, 8, 4);
	struct dedup_volume *v = test_open(path, NULL);
	uint8_t *buf = test_alloc(BS), *rd = test_alloc(BS);
	pattern_fill(buf, 55);
	CHECK_OK(v, dedup_volume_write(v, 5, 1, buf, 0));
	test_close(v); /* the newest superblock now holds the final checkpoint */

	/* damage the newest copy: find it by trying each */
	struct dedup_stats st;
	v = test_open(path, &(struct dedup_open_options){.read_only = true});
	dedup_volume_get_stats(v, &st);
	test_close(v);
	/* the writable open and the close each wrote one superblock; sequences alternate
	 * blocks, so damage both in turn and expect each time a fallback to the other */
	for (uint64_t copy = 0; copy < 2; copy++) {
		flip_byte(path, copy * BS + 100);
		v = test_open(path, &(struct dedup_open_options){.read_only = true});
		const char *rep = dedup_volume_open_report(v);
		printf("copy %llu damaged: %s", (unsigned long long)copy, rep);
		CHECK(strstr(rep, "checksum mismatch") != NULL);
		CHECK(strstr(rep, copy == 0 ? "using copy 1" : "using copy 0") != NULL);
		CHECK_OK(v, dedup_volume_read(v, 5, 1, rd));
		CHECK_EQ(pattern_of(rd), 55);
		test_close(v);
		flip_byte(path, copy * BS + 100); /* restore */
	}
	/* a writable open rewrites the damaged copy */
	flip_byte(path, 0 * BS + 100);
	v = test_open(path, NULL);
	test_close(v);
	v = test_open(path, NULL);
	CHECK(strstr(dedup_volume_open_report(v), "superblock") == NULL);
	test_close(v);
	free(buf);
	free(rd);
}

int main(void)
{
	test_dir("dedup-recovery");
	char path[300];
	test_path(path, sizeof(path), "vol.img");
	stale_block_after_gap(path);
	full_journal(path);
	superblock_fallback(path);
	test_cleanup();
	printf("ok\n");
	return 0;
}
