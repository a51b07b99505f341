/* Fuzzes open and recovery of a volume whose metadata bytes come from the fuzzer. A small
 * crash image (superblocks, a journal with unreplayed entries, a doublewrite round, pages) is
 * built once; each input patches its metadata region and may re-seal every checksum so the
 * mutations reach the checks behind the CRCs (geometry, journal chain, replay, page values).
 * The open must fail cleanly or produce a volume that reads, audits, takes writes and closes.
 *
 * Input: byte 0 flags (bit 0 re-seal checksums, bit 1 open writable, bit 2 truncate the image
 * to byte 1's value in blocks), then patches: u16 little-endian offset into the metadata
 * region (modulo its size), u8 length, that many bytes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dedup/testing.h"
#include "dedup/volume.h"
#include "ondisk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_LOGICAL 64u
#define FZ_BLOCKS 48u
#define FZ_NONCE UINT64_C(0x1d2c3b4a59687706)

static int fd = -1;
static char path[64];
static uint8_t *template_img; /* FZ_BLOCKS blocks */
static uint64_t meta_blocks;  /* metadata region: blocks [0, data_start) */

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "fuzz_open setup: %s: %s\n", what, msg);
	abort();
}

static void fill(uint8_t *b, uint64_t id)
{
	uint64_t s = id * UINT64_C(0x9e3779b97f4a7c15) + 1;
	for (size_t i = 0; i < DD_BLOCK_SIZE; i += 8) {
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		memcpy(b + i, &s, 8);
	}
}

/* Every metadata block gets the fixed nonce and a fresh checksum; the doublewrite header's
 * list of slot checksums is refreshed after the slots. */
static void reseal_all(uint8_t *img, uint64_t nblocks, bool set_nonce)
{
	const struct dd_superblock *sb = (const struct dd_superblock *)img;
	for (uint64_t b = 0; b < nblocks; b++) {
		struct dd_header *h = (struct dd_header *)(img + b * DD_BLOCK_SIZE);
		if (h->magic != DD_MAGIC)
			continue;
		if (set_nonce)
			h->nonce = FZ_NONCE;
		if (b < 2 && set_nonce)
			((struct dd_superblock *)h)->format_time = 0;
		h->crc = dd_block_crc(h);
	}
	uint64_t dw = sb->dw_start;
	if (dw < nblocks && sb->dw_slots <= DD_DW_MAX_SLOTS) {
		struct dd_dw_header *d = (struct dd_dw_header *)(img + dw * DD_BLOCK_SIZE);
		if (d->h.magic == DD_MAGIC) {
			for (uint32_t i = 0; i < d->h.aux && i < DD_DW_MAX_SLOTS && dw + 1 + i < nblocks; i++)
				d->page_crc[i] = dd_crc32c(img + (dw + 1 + i) * DD_BLOCK_SIZE,
							   DD_BLOCK_SIZE);
			d->h.crc = dd_block_crc(d);
		}
	}
}

static void write_image(const uint8_t *img, uint64_t bytes)
{
	if (ftruncate(fd, 0) != 0 || ftruncate(fd, (off_t)bytes) != 0 ||
	    pwrite(fd, img, bytes, 0) != (ssize_t)bytes)
		die("memfd", strerror(errno));
}

static void build_template(void)
{
	fd = memfd_create("dedup-fuzz", 0);
	if (fd < 0)
		die("memfd_create", strerror(errno));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (ftruncate(fd, FZ_BLOCKS * DD_BLOCK_SIZE) != 0)
		die("ftruncate", strerror(errno));
	struct dedup_format_options fo = {.logical_bytes = FZ_LOGICAL * DD_BLOCK_SIZE,
					  .journal_blocks = 4, .doublewrite_slots = 2};
	struct dedup_error err = {0};
	if (dedup_volume_format(path, &fo, &err) != 0)
		die("format", err.msg);
	struct dedup_volume *v = NULL;
	struct dedup_open_options o = {.checkpoint_dirty_pages = 1000, .checkpoint_journal_percent = 100};
	if (dedup_volume_open(path, &o, &v, &err) != 0)
		die("open", err.msg);
	static uint8_t buf[8 * DD_BLOCK_SIZE] __attribute__((aligned(4096)));
	/* unique, duplicate and zero blocks; a checkpoint (doublewrite content); then more
	 * entries that only the journal holds, and a crash */
	for (int i = 0; i < 8; i++)
		fill(buf + i * DD_BLOCK_SIZE, (uint64_t)(i % 5));
	memset(buf + 3 * DD_BLOCK_SIZE, 0, DD_BLOCK_SIZE);
	if (dedup_volume_write(v, 0, 8, buf, 0) || dedup_volume_write(v, 8, 8, buf, 0) ||
	    dedup_volume_checkpoint(v) || dedup_volume_trim(v, 2, 3, 0) ||
	    dedup_volume_write(v, 20, 8, buf, 0) || dedup_volume_write_zeroes(v, 30, 2, 0) ||
	    dedup_volume_flush(v))
		die("workload", dedup_volume_errmsg(v));
	struct dedup_stats st;
	dedup_volume_get_stats(v, &st);
	if (st.journal_used == 0)
		die("workload", "the template has no journal entries to replay");
	dedup_volume_crash(v);

	template_img = malloc(FZ_BLOCKS * DD_BLOCK_SIZE);
	if (!template_img || pread(fd, template_img, FZ_BLOCKS * DD_BLOCK_SIZE, 0) !=
				     (ssize_t)(FZ_BLOCKS * DD_BLOCK_SIZE))
		die("read template", strerror(errno));
	meta_blocks = ((const struct dd_superblock *)template_img)->data_start;
	reseal_all(template_img, meta_blocks, true);
}

static void report_nothing(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!template_img)
		build_template();
	if (size < 1)
		return 0;
	static uint8_t img[FZ_BLOCKS * DD_BLOCK_SIZE];
	memcpy(img, template_img, sizeof(img));
	uint8_t flags = data[0];
	size_t pos = 1;
	uint64_t blocks = FZ_BLOCKS;
	if ((flags & 4) && size >= 2) {
		blocks = data[1] % (FZ_BLOCKS + 1);
		pos = 2;
	}
	const uint64_t meta_bytes = meta_blocks * DD_BLOCK_SIZE;
	while (pos + 3 <= size) {
		uint64_t off = ((uint64_t)data[pos] | (uint64_t)data[pos + 1] << 8) % meta_bytes;
		size_t len = data[pos + 2];
		pos += 3;
		for (size_t i = 0; i < len && pos < size; i++, pos++)
			img[(off + i) % meta_bytes] = data[pos];
	}
	if (flags & 1)
		reseal_all(img, meta_blocks, false);
	write_image(img, blocks * DD_BLOCK_SIZE);

	struct dedup_volume *v = NULL;
	struct dedup_error err = {0};
	struct dedup_open_options o = {.read_only = !(flags & 2), .queue_depth = 2,
				       .max_request_blocks = 16};
	static int verbose = -1;
	if (verbose < 0)
		verbose = getenv("DEDUP_FUZZ_VERBOSE") != NULL;
	if (dedup_volume_open(path, &o, &v, &err) != 0) {
		if (err.msg[0] == '\0')
			abort(); /* every failure must say why */
		if (verbose)
			fprintf(stderr, "open failed: %s\n", err.msg);
		return 0;
	}
	if (verbose) {
		struct dedup_stats st;
		dedup_volume_get_stats(v, &st);
		fprintf(stderr, "opened (%llu entries replayed, journal seq %llu): %s\n",
			(unsigned long long)st.recovery_entries, (unsigned long long)st.journal_seq,
			dedup_volume_open_report(v));
	}
	static uint8_t rd[16 * DD_BLOCK_SIZE] __attribute__((aligned(4096)));
	uint64_t n = dedup_volume_logical_blocks(v);
	for (uint64_t lba = 0; lba < n && lba < 4096; lba += 16)
		dedup_volume_read(v, lba, (uint32_t)(n - lba < 16 ? n - lba : 16), rd);
	struct dedup_check_result res;
	dedup_volume_check(v, report_nothing, NULL, &res, &err);
	if (flags & 2) {
		fill(rd, 99);
		dedup_volume_write(v, 0, 1, rd, 0);
		dedup_volume_write(v, 1, 1, rd, DEDUP_FUA);
		dedup_volume_trim(v, 2, 1, 0);
		dedup_volume_flush(v);
	}
	dedup_volume_close(v, &err);
	return 0;
}
