/* The write-ahead journal at run time (DESIGN.md §5.1-5.2): entries go into the open block;
 * closed blocks are written by commit rounds (fdatasync when data was written, then the blocks
 * with RWF_DSYNC), one round in flight at a time. Blocks are written once per lap. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "volume_internal.h"

int dd_journal_init(struct dedup_volume *v)
{
	uint8_t *mem = dd_io_alloc((size_t)DD_JOURNAL_BUFS * DD_BLOCK_SIZE);
	if (!mem)
		return -ENOMEM;
	for (unsigned i = 0; i < DD_JOURNAL_BUFS; i++) {
		v->jbufs[i].blk = (struct dd_journal_block *)(mem + (size_t)i * DD_BLOCK_SIZE);
		v->jbufs[i].vol = v;
	}
	return 0;
}

void dd_journal_free(struct dedup_volume *v)
{
	free(v->jbufs[0].blk);
	memset(v->jbufs, 0, sizeof(v->jbufs));
}

uint64_t dd_journal_used(const struct dedup_volume *v)
{
	return v->open_seq + 1 - v->tail_seq;
}

static struct dd_jbuf *jbuf_of(struct dedup_volume *v, uint64_t seq)
{
	return &v->jbufs[seq % DD_JOURNAL_BUFS];
}

void dd_journal_close_open(struct dedup_volume *v)
{
	if (v->open_seq != v->closed_seq)
		v->closed_seq = v->open_seq;
}

uint64_t dd_journal_flush_target(struct dedup_volume *v)
{
	dd_journal_close_open(v);
	dd_journal_kick(v);
	return v->closed_seq;
}

int dd_journal_append(struct dedup_volume *v, uint32_t lba, uint32_t new_map, bool alloc,
		      uint64_t key)
{
	if (v->open_seq == v->closed_seq) {
		uint64_t s = v->open_seq + 1;
		if (s - v->tail_seq >= v->lay.journal_blocks) {
			dd_ckpt_start(v); /* only a checkpoint moves the tail */
			return -EAGAIN;
		}
		if (s - v->durable_seq > DD_JOURNAL_BUFS) {
			dd_journal_kick(v); /* buffers come back when the round ends */
			return -EAGAIN;
		}
		struct dd_jbuf *jb = jbuf_of(v, s);
		memset(jb->blk, 0, DD_BLOCK_SIZE);
		jb->seq = s;
		v->open_seq = s;
		v->open_count = 0;
	}
	struct dd_journal_block *b = jbuf_of(v, v->open_seq)->blk;
	struct dd_journal_entry *e = &b->entries[v->open_count++];
	e->lba = lba;
	e->old_map = v->bm[lba];
	e->new_map = new_map;
	e->flags = alloc ? DD_JOURNAL_ALLOC : 0;
	e->key = alloc ? key : 0;
	b->h.aux = v->open_count;
	dd_meta_apply(v, lba, new_map, alloc, key, v->open_seq);

	if (v->open_count == DD_JOURNAL_ENTRIES) {
		dd_journal_close_open(v);
		dd_journal_kick(v);
	}
	if (v->ckpt_state == CKPT_IDLE)
		dd_ckpt_progress(v);
	return 0;
}

static void round_end(struct dedup_volume *v)
{
	if (!v->failed)
		v->durable_seq = v->round_last;
	v->round_busy = false;
	dd_alloc_release(v);
	dd_engine_after_round(v);
	dd_ckpt_progress(v);
	dd_journal_kick(v);
}

static void block_written(struct dd_ioreq *io, int result)
{
	struct dd_jbuf *jb = io->owner;
	struct dedup_volume *v = jb->vol;
	if (result < 0)
		dd_volume_fail(v, result, "cannot write journal block seq %llu (block %llu): %s",
			       (unsigned long long)jb->seq,
			       (unsigned long long)(v->lay.journal_start +
						    jb->seq % v->lay.journal_blocks),
			       strerror(-result));
	if (--v->round_pending == 0)
		round_end(v);
}

static void write_blocks(struct dedup_volume *v)
{
	for (uint64_t s = v->durable_seq + 1; s <= v->round_last; s++) {
		struct dd_jbuf *jb = jbuf_of(v, s);
		struct dd_journal_block *b = jb->blk;
		b->generation = v->generation;
		b->durable_seq = v->durable_seq;
		dd_block_seal(b, DD_KIND_JOURNAL, b->h.aux, s, v->nonce);
		memset(&jb->io, 0, sizeof(jb->io));
		jb->io.done = block_written;
		jb->io.owner = jb;
		jb->io.op = DEDUP_IO_WRITE;
		jb->io.dsync = true;
		jb->io.buf = b;
		jb->io.len = DD_BLOCK_SIZE;
		jb->io.off = (v->lay.journal_start + s % v->lay.journal_blocks) * DD_BLOCK_SIZE;
		v->round_pending++;
		dd_io_queue(v->io, &jb->io);
	}
}

static void round_fsynced(struct dd_ioreq *io, int result)
{
	struct dedup_volume *v = io->owner;
	if (result < 0) {
		dd_volume_fail(v, result, "fdatasync before journal seq %llu failed: %s",
			       (unsigned long long)(v->durable_seq + 1), strerror(-result));
		round_end(v);
		return;
	}
	write_blocks(v);
}

void dd_journal_kick(struct dedup_volume *v)
{
	if (v->round_busy || v->failed || v->closed_seq == v->durable_seq)
		return;
	v->round_busy = true;
	v->round_last = v->closed_seq;
	v->round_pending = 0;
	if (v->data_dirty) {
		/* data written before this point must be durable before entries naming it */
		v->data_dirty = false;
		memset(&v->round_fsync, 0, sizeof(v->round_fsync));
		v->round_fsync.done = round_fsynced;
		v->round_fsync.owner = v;
		v->round_fsync.op = DEDUP_IO_FSYNC;
		dd_io_queue(v->io, &v->round_fsync);
		return;
	}
	write_blocks(v);
}
