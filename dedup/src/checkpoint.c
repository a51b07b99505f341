/* Checkpoints (DESIGN.md §5.4): dirty metadata pages are written in rounds — journal durable
 * through the round's LSN, doublewrite area + fdatasync, home locations + fdatasync — and the
 * superblock then moves the journal tail. One checkpoint at a time; a failure fails the volume. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "volume_internal.h"

int dd_ckpt_init(struct dedup_volume *v)
{
	v->ckpt_buf = dd_io_alloc((size_t)(v->lay.dw_slots + 1) * DD_BLOCK_SIZE);
	v->sb_buf = dd_io_alloc(DD_BLOCK_SIZE);
	return v->ckpt_buf && v->sb_buf ? 0 : -ENOMEM;
}

void dd_ckpt_free(struct dedup_volume *v)
{
	free(v->ckpt_buf);
	free(v->sb_buf);
	free(v->ckpt_pages);
	v->ckpt_buf = NULL;
	v->sb_buf = NULL;
	v->ckpt_pages = NULL;
}

void dd_super_fill(const struct dedup_volume *v, struct dd_superblock *sb, uint64_t seq,
		   uint64_t journal_tail, uint64_t checkpoints)
{
	const struct dd_layout *l = &v->lay;
	memset(sb, 0, sizeof(*sb));
	sb->block_size = DD_BLOCK_SIZE;
	sb->refcount_max = DD_REFCOUNT_MAX;
	sb->backing_blocks = l->backing_blocks;
	sb->logical_blocks = l->logical_blocks;
	sb->data_blocks = l->data_blocks;
	sb->journal_blocks = l->journal_blocks;
	sb->dw_slots = l->dw_slots;
	sb->journal_start = l->journal_start;
	sb->dw_start = l->dw_start;
	sb->bm_start = l->bm_start;
	sb->rc_start = l->rc_start;
	sb->fp_start = l->fp_start;
	sb->data_start = l->data_start;
	sb->bm_pages = l->bm_pages;
	sb->rc_pages = l->rc_pages;
	sb->fp_pages = l->fp_pages;
	sb->generation = v->generation;
	sb->journal_tail = journal_tail;
	sb->checkpoints = checkpoints;
	sb->format_time = v->format_time;
	sb->stat_dedup_hits = v->dedup_hits;
	sb->stat_verify_mismatches = v->verify_mismatches;
	sb->stat_zero_writes = v->zero_writes;
	sb->stat_saturations = v->saturations;
	dd_block_seal(sb, DD_KIND_SUPER, (uint32_t)(seq & 1), seq, v->nonce);
}

static void ckpt_io_done(struct dd_ioreq *io, int result);

static void queue_io(struct dedup_volume *v, struct dd_ioreq *io, enum dedup_io_op op, void *buf,
		     uint32_t len, uint64_t block, bool dsync)
{
	memset(io, 0, sizeof(*io));
	io->done = ckpt_io_done;
	io->owner = v;
	io->op = op;
	io->buf = buf;
	io->len = len;
	io->off = block * DD_BLOCK_SIZE;
	io->dsync = dsync;
	v->ckpt_pending++;
	dd_io_queue(v->io, io);
}

static void queue_fsync(struct dedup_volume *v)
{
	queue_io(v, &v->ckpt_fsync, DEDUP_IO_FSYNC, NULL, 0, 0, false);
}

static void end_ckpt(struct dedup_volume *v)
{
	v->ckpt_state = CKPT_IDLE;
	free(v->ckpt_pages);
	v->ckpt_pages = NULL;
	dd_engine_after_checkpoint(v);
}

/* Copies the next round's pages (at most dw_slots) and waits for the journal to cover them. */
static void next_round(struct dedup_volume *v)
{
	if (v->ckpt_pos == v->ckpt_npages) {
		/* every page is home: move the tail */
		/* the new tail takes effect only once the superblock is durable */
		dd_super_fill(v, v->sb_buf, v->sb_seq + 1, v->ckpt_s0 + 1, v->checkpoints + 1);
		v->ckpt_state = CKPT_SUPER_WRITE;
		queue_io(v, &v->ckpt_io[0], DEDUP_IO_WRITE, v->sb_buf, DD_BLOCK_SIZE,
			 (v->sb_seq + 1) & 1, true);
		return;
	}
	/* entries appended since the last close belong to the open block: close it so the copy
	 * below is exactly "everything through closed_seq" */
	dd_journal_close_open(v);
	v->ckpt_lsn = v->closed_seq;
	uint64_t left = v->ckpt_npages - v->ckpt_pos;
	v->ckpt_batch = (uint32_t)(left < v->lay.dw_slots ? left : v->lay.dw_slots);

	struct dd_dw_header *dw = (struct dd_dw_header *)v->ckpt_buf;
	memset(dw, 0, sizeof(*dw));
	for (uint32_t i = 0; i < v->ckpt_batch; i++) {
		uint8_t *page = v->ckpt_buf + (size_t)(1 + i) * DD_BLOCK_SIZE;
		dd_page_encode(v, v->ckpt_pages[v->ckpt_pos + i], v->ckpt_lsn, page);
		dw->page_crc[i] = dd_crc32c(page, DD_BLOCK_SIZE);
	}
	dd_block_seal(dw, DD_KIND_DWHEADER, v->ckpt_batch, ++v->ckpt_round, v->nonce);

	v->ckpt_state = CKPT_WAIT_JOURNAL;
	if (v->durable_seq >= v->ckpt_lsn) {
		dd_ckpt_progress(v);
		return;
	}
	dd_journal_kick(v); /* write-ahead: pages wait for the journal through their LSN */
}

static void ckpt_io_done(struct dd_ioreq *io, int result)
{
	struct dedup_volume *v = io->owner;
	if (result < 0 && !v->failed) {
		const char *what = v->ckpt_state == CKPT_DW_WRITE ? "writing the doublewrite area" :
				   v->ckpt_state == CKPT_HOME_WRITE ? "writing metadata pages home" :
				   v->ckpt_state == CKPT_SUPER_WRITE ? "writing the superblock" :
				   "flushing the backing store";
		dd_volume_fail(v, result, "checkpoint failed while %s (byte offset %llu): %s", what,
			       (unsigned long long)io->off, strerror(-result));
	}
	if (--v->ckpt_pending > 0)
		return;
	if (v->failed) {
		end_ckpt(v);
		return;
	}
	switch (v->ckpt_state) {
	case CKPT_DW_WRITE:
		v->ckpt_state = CKPT_DW_SYNC;
		queue_fsync(v);
		break;
	case CKPT_DW_SYNC:
		v->ckpt_state = CKPT_HOME_WRITE;
		for (uint32_t i = 0; i < v->ckpt_batch; i++) {
			uint64_t page = v->ckpt_pages[v->ckpt_pos + i];
			queue_io(v, &v->ckpt_io[1 + i], DEDUP_IO_WRITE,
				 v->ckpt_buf + (size_t)(1 + i) * DD_BLOCK_SIZE, DD_BLOCK_SIZE,
				 dd_page_block(v, page), false);
		}
		break;
	case CKPT_HOME_WRITE:
		v->ckpt_state = CKPT_HOME_SYNC;
		queue_fsync(v);
		break;
	case CKPT_HOME_SYNC:
		v->ckpt_pos += v->ckpt_batch;
		next_round(v);
		break;
	case CKPT_SUPER_WRITE:
		v->sb_seq++;
		v->tail_seq = v->ckpt_s0 + 1;
		v->checkpoints++;
		end_ckpt(v);
		dd_ckpt_progress(v);
		break;
	default:
		break;
	}
}

void dd_ckpt_start(struct dedup_volume *v)
{
	if (v->ckpt_state != CKPT_IDLE || v->failed || v->read_only)
		return;
	dd_journal_close_open(v);
	v->ckpt_s0 = v->closed_seq;

	free(v->ckpt_pages);
	v->ckpt_pages = malloc((v->dirty_count ? v->dirty_count : 1) * sizeof(*v->ckpt_pages));
	if (!v->ckpt_pages) {
		dd_volume_fail(v, -ENOMEM, "out of memory for a checkpoint of %llu pages",
			       (unsigned long long)v->dirty_count);
		return;
	}
	uint64_t n = 0, words = dd_div_round_up(v->total_pages, 64);
	for (uint64_t w = 0; w < words; w++) {
		uint64_t bits = v->dirty[w];
		while (bits) {
			v->ckpt_pages[n++] = (uint32_t)(w * 64 + (uint64_t)__builtin_ctzll(bits));
			bits &= bits - 1;
		}
		v->dirty[w] = 0;
	}
	v->dirty_count = 0;
	v->ckpt_npages = n;
	v->ckpt_pos = 0;
	next_round(v);
}

void dd_ckpt_progress(struct dedup_volume *v)
{
	if (v->failed || v->read_only)
		return;
	if (v->ckpt_state == CKPT_WAIT_JOURNAL) {
		if (v->durable_seq >= v->ckpt_lsn) {
			v->ckpt_state = CKPT_DW_WRITE;
			queue_io(v, &v->ckpt_io[0], DEDUP_IO_WRITE, v->ckpt_buf,
				 (v->ckpt_batch + 1) * DD_BLOCK_SIZE, v->lay.dw_start, false);
		}
		return;
	}
	if (v->ckpt_state != CKPT_IDLE)
		return;
	uint64_t used = dd_journal_used(v);
	if (used * 100 >= (uint64_t)v->ckpt_journal_percent * v->lay.journal_blocks ||
	    v->dirty_count >= v->ckpt_dirty_pages)
		dd_ckpt_start(v);
}
