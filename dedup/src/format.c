/* Writing a new, empty volume (DESIGN.md §2): superblocks are cleared first and written last,
 * so an interrupted format leaves a store that open rejects as "not formatted" rather than a
 * mix of two volumes. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "volume_internal.h"

/* Creates the file if missing and grows a regular file to the requested size (sparse). */
static int prepare_backing(const char *path, uint64_t physical_bytes, struct dedup_error *err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return dd_err(err, -errno, "cannot open or create %s: %s", path, strerror(errno));
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) != 0) {
		rc = dd_err(err, -errno, "cannot stat %s: %s", path, strerror(errno));
	} else if (S_ISREG(st.st_mode)) {
		if (physical_bytes == 0 && st.st_size == 0)
			rc = dd_err(err, -EINVAL,
				    "%s is empty: give the physical size to create (e.g. "
				    "--physical-size 1G)", path);
		else if (physical_bytes > (uint64_t)st.st_size &&
			 ftruncate(fd, (off_t)physical_bytes) != 0)
			rc = dd_err(err, -errno, "cannot grow %s to %llu bytes: %s", path,
				    (unsigned long long)physical_bytes, strerror(errno));
	} else if (!S_ISBLK(st.st_mode)) {
		rc = dd_err(err, -EINVAL, "%s is neither a regular file nor a block device", path);
	}
	close(fd);
	return rc;
}

static int random_nonce(uint64_t *nonce, struct dedup_error *err)
{
	do {
		if (getrandom(nonce, sizeof(*nonce), 0) != (ssize_t)sizeof(*nonce))
			return dd_err(err, -errno, "getrandom failed: %s", strerror(errno));
	} while (*nonce == 0);
	return 0;
}

/* Writes every block map, refcount and fingerprint page empty, with LSN 0. */
static int write_empty_pages(struct dd_io *io, const struct dd_layout *l, uint64_t nonce,
			     struct dedup_error *err)
{
	enum { CHUNK = 256 };
	uint8_t *buf = dd_io_alloc((size_t)CHUNK * DD_BLOCK_SIZE);
	if (!buf)
		return dd_err(err, -ENOMEM, "out of memory");
	uint64_t total = (uint64_t)l->bm_pages + l->rc_pages + l->fp_pages;
	int rc = 0;
	for (uint64_t first = 0; first < total && rc == 0; first += CHUNK) {
		uint64_t n = total - first < CHUNK ? total - first : CHUNK;
		for (uint64_t i = 0; i < n; i++) {
			uint64_t page = first + i;
			enum dd_kind kind;
			uint64_t idx;
			if (page < l->bm_pages) {
				kind = DD_KIND_BLOCKMAP;
				idx = page;
			} else if (page < (uint64_t)l->bm_pages + l->rc_pages) {
				kind = DD_KIND_REFCOUNT;
				idx = page - l->bm_pages;
			} else {
				kind = DD_KIND_FINGERPRINT;
				idx = page - l->bm_pages - l->rc_pages;
			}
			uint8_t *b = buf + i * DD_BLOCK_SIZE;
			memset(b, 0, DD_BLOCK_SIZE);
			dd_block_seal(b, kind, (uint32_t)idx, 0, nonce);
		}
		rc = dd_io_sync_rw(io, DEDUP_IO_WRITE, buf, n * DD_BLOCK_SIZE,
				   (l->bm_start + first) * DD_BLOCK_SIZE, false, "metadata pages", err);
	}
	free(buf);
	return rc;
}

int dedup_volume_format(const char *path, const struct dedup_format_options *opts,
			struct dedup_error *err)
{
	if (!opts || opts->logical_bytes == 0 || opts->logical_bytes % DD_BLOCK_SIZE != 0)
		return dd_err(err, -EINVAL, "logical size must be a non-zero multiple of 4096 bytes");
	if (opts->physical_bytes % DD_BLOCK_SIZE != 0)
		return dd_err(err, -EINVAL, "physical size must be a multiple of 4096 bytes");
	int rc = prepare_backing(path, opts->physical_bytes, err);
	if (rc < 0)
		return rc;

	struct dd_io *io = NULL;
	struct dd_io_open_args args = {.path = path};
	rc = dd_io_open(&args, &io, err);
	if (rc < 0)
		return rc;
	uint64_t bytes = opts->physical_bytes ? opts->physical_bytes : dd_io_size(io);
	uint8_t *blk = dd_io_alloc(2 * DD_BLOCK_SIZE);
	struct dedup_volume *v = calloc(1, sizeof(*v));
	if (!blk || !v) {
		rc = dd_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (bytes > dd_io_size(io)) {
		rc = dd_err(err, -ENOSPC, "%s holds %llu bytes, %llu requested", path,
			    (unsigned long long)dd_io_size(io), (unsigned long long)bytes);
		goto out;
	}
	uint64_t backing_blocks = bytes / DD_BLOCK_SIZE;
	uint32_t journal = opts->journal_blocks ? opts->journal_blocks
						: dd_default_journal_blocks(backing_blocks);
	uint32_t dw = opts->doublewrite_slots ? opts->doublewrite_slots : DD_DEFAULT_DW_SLOTS;
	rc = dd_layout_compute(backing_blocks, opts->logical_bytes / DD_BLOCK_SIZE, journal, dw,
			       &v->lay, err);
	if (rc < 0)
		goto out;
	rc = random_nonce(&v->nonce, err);
	if (rc < 0)
		goto out;

	/* 1. no superblock: an interrupted format is "not formatted" */
	memset(blk, 0, 2 * DD_BLOCK_SIZE);
	rc = dd_io_sync_rw(io, DEDUP_IO_WRITE, blk, 2 * DD_BLOCK_SIZE, 0, false, "the superblocks", err);
	if (rc == 0)
		rc = dd_io_sync_fsync(io, err);
	/* 2. an empty doublewrite area and empty pages */
	if (rc == 0) {
		memset(blk, 0, DD_BLOCK_SIZE);
		dd_block_seal(blk, DD_KIND_DWHEADER, 0, 0, v->nonce);
		rc = dd_io_sync_rw(io, DEDUP_IO_WRITE, blk, DD_BLOCK_SIZE,
				   v->lay.dw_start * DD_BLOCK_SIZE, false, "the doublewrite header", err);
	}
	if (rc == 0)
		rc = write_empty_pages(io, &v->lay, v->nonce, err);
	if (rc == 0)
		rc = dd_io_sync_fsync(io, err);
	/* 3. both superblocks, identical but for their sequence */
	if (rc == 0) {
		v->generation = 1;
		v->tail_seq = 1;
		v->format_time = (uint64_t)time(NULL);
		dd_super_fill(v, (struct dd_superblock *)blk, 2, 1, 0);
		dd_super_fill(v, (struct dd_superblock *)(blk + DD_BLOCK_SIZE), 1, 1, 0);
		rc = dd_io_sync_rw(io, DEDUP_IO_WRITE, blk, 2 * DD_BLOCK_SIZE, 0, true,
				   "the superblocks", err);
	}
	if (rc == 0)
		rc = dd_io_sync_fsync(io, err);
out:
	if (rc < 0)
		dd_err(err, rc, "cannot format %s", path);
	free(blk);
	free(v);
	dd_io_close(io);
	return rc;
}
