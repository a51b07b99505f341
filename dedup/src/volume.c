/* Volume lifecycle and the thin public layer: open (recovery), close (final checkpoint),
 * polling, the synchronous wrappers, statistics, and the test hooks of dedup/testing.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fingerprint.h"
#include "volume_internal.h"

void dd_report(struct dedup_volume *v, const char *fmt, ...)
{
	size_t len = strlen(v->report);
	if (len + 2 >= sizeof(v->report))
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->report + len, sizeof(v->report) - len - 1, fmt, ap);
	va_end(ap);
	len = strlen(v->report);
	v->report[len] = '\n';
	v->report[len + 1] = '\0';
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void volume_free(struct dedup_volume *v)
{
	if (!v)
		return;
	dd_engine_free(v);
	dd_ckpt_free(v);
	dd_journal_free(v);
	dd_alloc_free(v);
	dd_meta_free(v);
	dd_io_close(v->io);
	free(v->path);
	free(v);
}

int dedup_volume_open(const char *path, const struct dedup_open_options *opts,
		      struct dedup_volume **out, struct dedup_error *err)
{
	static const struct dedup_open_options defaults = {0};
	if (!opts)
		opts = &defaults;
	*out = NULL;
	uint64_t t0 = now_ns();
	struct dedup_volume *v = calloc(1, sizeof(*v));
	if (!v)
		return dd_err(err, -ENOMEM, "out of memory");
	v->read_only = opts->read_only;
	v->queue_depth = opts->queue_depth ? opts->queue_depth : 64;
	v->max_request_blocks = opts->max_request_blocks ? opts->max_request_blocks : 256;
	v->ckpt_journal_percent = opts->checkpoint_journal_percent ?
					  opts->checkpoint_journal_percent : 50;
	v->ckpt_dirty_pages = opts->checkpoint_dirty_pages ? opts->checkpoint_dirty_pages : 4096;
	v->path = strdup(path);
	if (!v->path) {
		free(v);
		return dd_err(err, -ENOMEM, "out of memory");
	}
	if (v->ckpt_journal_percent > 100)
		v->ckpt_journal_percent = 100;

	struct dd_io_open_args args = {
		.path = path, .read_only = opts->read_only, .hooks = opts->io_hooks,
	};
	int rc = dd_io_open(&args, &v->io, err);
	if (rc == 0) {
		if (!dd_io_direct(v->io))
			dd_report(v, "the filesystem refused O_DIRECT (tmpfs?): using buffered I/O, "
				  "durability still comes from fdatasync and RWF_DSYNC");
		rc = dd_recover(v, err);
	}
	if (rc == 0 && (dd_journal_init(v) < 0 || dd_ckpt_init(v) < 0 || dd_engine_init(v) < 0))
		rc = dd_err(err, -ENOMEM, "out of memory for the volume's buffers");
	if (rc < 0) {
		dd_err(err, rc, "cannot open dedup volume %s", path);
		volume_free(v);
		return rc;
	}
	v->recovery_ns = now_ns() - t0;
	*out = v;
	return 0;
}

const char *dedup_volume_open_report(const struct dedup_volume *v)
{
	return v->report;
}

uint64_t dedup_volume_logical_blocks(const struct dedup_volume *v)
{
	return v->lay.logical_blocks;
}

uint64_t dedup_volume_id(const struct dedup_volume *v)
{
	return v->nonce;
}

const char *dedup_volume_errmsg(const struct dedup_volume *v)
{
	return v->errmsg;
}

int dedup_volume_event_fd(const struct dedup_volume *v)
{
	return dd_io_event_fd(v->io);
}

unsigned dedup_volume_inflight(const struct dedup_volume *v)
{
	return v->inflight_reqs;
}

int dedup_volume_poll(struct dedup_volume *v)
{
	dd_io_drain_event(v->io);
	return dd_engine_poll(v);
}

/* True while the engine has something that will make progress on its own. */
static bool busy(const struct dedup_volume *v)
{
	return dd_io_inflight(v->io) > 0;
}

int dedup_volume_wait(struct dedup_volume *v)
{
	int n = dedup_volume_poll(v);
	if (n > 0)
		return n;
	while (busy(v)) {
		int rc = dd_io_wait(v->io);
		if (rc < 0)
			return rc;
		n = dedup_volume_poll(v);
		if (n > 0)
			return n;
	}
	if (v->inflight_reqs > 0) {
		/* requests outstanding and nothing that could finish them: an engine bug */
		snprintf(v->errmsg, sizeof(v->errmsg),
			 "%u requests wait but no I/O is in flight (engine stalled)",
			 v->inflight_reqs);
		return -EDEADLK;
	}
	return 0;
}

struct sync_wait {
	bool done;
	int result;
};

static void sync_done(void *arg, int result)
{
	struct sync_wait *w = arg;
	w->done = true;
	w->result = result;
}

static int sync_finish(struct dedup_volume *v, struct sync_wait *w)
{
	while (!w->done) {
		int rc = dedup_volume_wait(v);
		if (rc < 0)
			return rc;
	}
	return w->result;
}

#define SYNC_SUBMIT(call)                                     \
	do {                                                  \
		int rc_;                                      \
		while ((rc_ = (call)) == -EAGAIN) {           \
			rc_ = dedup_volume_wait(v);           \
			if (rc_ < 0)                          \
				return rc_;                   \
		}                                             \
		if (rc_ < 0)                                  \
			return rc_;                           \
	} while (0)

int dedup_volume_write(struct dedup_volume *v, uint64_t lba, uint32_t nblocks, const void *buf,
		       unsigned flags)
{
	struct sync_wait w = {0};
	SYNC_SUBMIT(dedup_volume_submit_write(v, lba, nblocks, buf, flags, sync_done, &w));
	return sync_finish(v, &w);
}

int dedup_volume_read(struct dedup_volume *v, uint64_t lba, uint32_t nblocks, void *buf)
{
	struct sync_wait w = {0};
	SYNC_SUBMIT(dedup_volume_submit_read(v, lba, nblocks, buf, sync_done, &w));
	return sync_finish(v, &w);
}

int dedup_volume_write_zeroes(struct dedup_volume *v, uint64_t lba, uint32_t nblocks,
			      unsigned flags)
{
	struct sync_wait w = {0};
	SYNC_SUBMIT(dedup_volume_submit_write_zeroes(v, lba, nblocks, flags, sync_done, &w));
	return sync_finish(v, &w);
}

int dedup_volume_trim(struct dedup_volume *v, uint64_t lba, uint32_t nblocks, unsigned flags)
{
	struct sync_wait w = {0};
	SYNC_SUBMIT(dedup_volume_submit_trim(v, lba, nblocks, flags, sync_done, &w));
	return sync_finish(v, &w);
}

int dedup_volume_flush(struct dedup_volume *v)
{
	struct sync_wait w = {0};
	SYNC_SUBMIT(dedup_volume_submit_flush(v, sync_done, &w));
	return sync_finish(v, &w);
}

static int drain(struct dedup_volume *v)
{
	while (v->inflight_reqs > 0 || busy(v)) {
		int rc = dedup_volume_wait(v);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Runs checkpoints until nothing is dirty and the journal is empty. */
static int checkpoint_all(struct dedup_volume *v, bool until_empty)
{
	int rc = drain(v);
	if (rc < 0)
		return rc;
	uint64_t started = v->checkpoints;
	for (;;) {
		if (v->failed)
			return -EIO;
		bool clean = v->dirty_count == 0 && v->open_seq == v->closed_seq &&
			     v->tail_seq == v->closed_seq + 1;
		if (v->ckpt_state == CKPT_IDLE &&
		    ((until_empty && clean) || (!until_empty && v->checkpoints > started)))
			return 0;
		if (v->checkpoints > started + 3) {
			/* with nothing in flight two checkpoints always empty the journal */
			snprintf(v->errmsg, sizeof(v->errmsg),
				 "checkpoints do not empty the journal (tail %llu, closed %llu)",
				 (unsigned long long)v->tail_seq, (unsigned long long)v->closed_seq);
			return -EIO;
		}
		if (v->ckpt_state == CKPT_IDLE)
			dd_ckpt_start(v);
		dd_engine_submit(v);
		rc = dedup_volume_wait(v);
		if (rc < 0)
			return rc;
	}
}

int dedup_volume_checkpoint(struct dedup_volume *v)
{
	if (v->read_only)
		return -EROFS;
	return checkpoint_all(v, false);
}

int dedup_volume_close(struct dedup_volume *v, struct dedup_error *err)
{
	if (!v)
		return 0;
	int rc = 0;
	if (!v->read_only) {
		rc = checkpoint_all(v, true);
		if (rc < 0)
			dd_err(err, rc, "closing %s: final checkpoint failed: %s", v->path,
			       v->errmsg[0] ? v->errmsg : strerror(-rc));
	} else {
		rc = drain(v);
	}
	volume_free(v);
	return rc;
}

void dedup_volume_crash(struct dedup_volume *v)
{
	/* requests are dropped unanswered; I/O already completed stays on the backing store */
	volume_free(v);
}

void dedup_volume_get_stats(const struct dedup_volume *v, struct dedup_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->logical_blocks = v->lay.logical_blocks;
	s->data_blocks = v->lay.data_blocks;
	s->mapped_blocks = v->mapped_blocks;
	s->zero_blocks = v->zero_blocks;
	s->physical_used = v->physical_used;
	s->physical_free = v->lay.data_blocks - v->physical_used;
	s->bytes_saved = (v->mapped_blocks + v->zero_blocks - v->physical_used) * DD_BLOCK_SIZE;
	s->dedup_hits = v->dedup_hits;
	dd_io_bytes(v->io, &s->flash_read_bytes, &s->flash_write_bytes);
	s->verify_mismatches = v->verify_mismatches;
	s->saturations = v->saturations;
	s->zero_writes = v->zero_writes;
	s->index_entries = v->index.count;
	s->index_capacity = v->index.capacity;
	s->index_bytes = dd_index_bytes(&v->index) + v->lay.data_blocks * sizeof(uint64_t);
	s->metadata_bytes = s->index_bytes + v->lay.logical_blocks * sizeof(uint32_t) +
			    v->lay.data_blocks + 2 * v->free_words * sizeof(uint64_t);
	s->journal_blocks = v->lay.journal_blocks;
	s->journal_used = dd_journal_used(v);
	s->journal_seq = v->open_seq;
	s->journal_durable_seq = v->durable_seq;
	s->checkpoints = v->checkpoints;
	s->recovery_entries = v->recovery_entries;
	s->recovery_ns = v->recovery_ns;
	s->generation = v->generation;
	s->direct_io = dd_io_direct(v->io);
	s->read_only = v->read_only;
	s->failed = v->failed;
}

unsigned dedup_key_bits(void)
{
	return DD_KEY_BITS;
}

uint64_t dedup_block_key(const void *block)
{
	return dd_key_of(block);
}
