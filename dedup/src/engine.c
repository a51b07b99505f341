/* The request engine (DESIGN.md §3-4): requests split into 4 KiB block operations that run the
 * write path (zero check, fingerprint, in-flight match, verified index hit, allocation, data
 * write, journal append) or the read path, parking when space or journal room is short; data
 * I/O of physically consecutive blocks is coalesced (§4.3). Everything here runs in the
 * thread that drives the volume; callbacks run only from poll. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"
#include "volume_internal.h"

static void op_hashed(struct dd_op *op);
static void op_next_candidate(struct dd_op *op);
static void op_allocate(struct dd_op *op);
static void op_append(struct dd_op *op, uint32_t map, bool alloc);
static void op_finish(struct dd_op *op, int result);
static void req_pump(struct dd_req *r);

/* ---- volume-level helpers ------------------------------------------------------------- */

static void errmsg(struct dedup_volume *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void errmsg(struct dedup_volume *v, const char *fmt, ...)
{
	if (v->failed)
		return; /* the failure's message is the one that matters */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->errmsg, sizeof(v->errmsg), fmt, ap);
	va_end(ap);
}

static void done_push(struct dedup_volume *v, struct dd_req *r)
{
	r->next = NULL;
	bool was_empty = !v->done_head;
	if (v->done_tail)
		v->done_tail->next = r;
	else
		v->done_head = r;
	v->done_tail = r;
	if (was_empty) /* poll empties the list, so it was signalled when it became non-empty */
		dd_io_notify(v->io);
}

static void park(struct dd_op **list, struct dd_op *op, enum dd_op_state state)
{
	op->state = state;
	op->wait_next = *list;
	*list = op;
}

static uint64_t data_block_of(const struct dedup_volume *v, uint32_t pbn)
{
	return v->lay.data_start + pbn;
}

void dd_volume_fail(struct dedup_volume *v, int code, const char *fmt, ...)
{
	if (v->failed)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->errmsg, sizeof(v->errmsg), fmt, ap);
	va_end(ap);
	v->failed = true;
	(void)code; /* every later write reports -EIO; the message keeps the cause */

	/* everything waiting for metadata progress fails now; ops with I/O in flight fail when
	 * their I/O ends and they reach the journal */
	struct dd_op *list = v->space_waiters;
	v->space_waiters = NULL;
	while (list) {
		struct dd_op *op = list;
		list = op->wait_next;
		op_finish(op, -EIO);
	}
	list = v->journal_waiters;
	v->journal_waiters = NULL;
	while (list) {
		struct dd_op *op = list;
		list = op->wait_next;
		if (op->pending_alloc) {
			dd_inflight_del(&v->inflight, op->pbn);
			dd_index_remove(&v->index, op->key, op->pbn);
		}
		op_finish(op, -EIO);
	}
	struct dd_req *r = v->commit_waiters;
	v->commit_waiters = NULL;
	while (r) {
		struct dd_req *next = r->next;
		r->result = -EIO;
		done_push(v, r);
		r = next;
	}
}

void dd_engine_after_round(struct dedup_volume *v)
{
	struct dd_req **pp = &v->commit_waiters;
	while (*pp) {
		struct dd_req *r = *pp;
		if (v->durable_seq >= r->commit_target || v->failed) {
			*pp = r->next;
			if (v->failed && r->result == 0)
				r->result = -EIO;
			done_push(v, r);
		} else {
			pp = &r->next;
		}
	}
	v->retry_journal = true;
}

void dd_engine_after_checkpoint(struct dedup_volume *v)
{
	v->retry_journal = true;
}

/* ---- block operations ----------------------------------------------------------------- */

static void op_io_done(struct dd_ioreq *io, int result);

/* Prepares the op's I/O of `n` blocks from `pbn` without queueing it. */
static void op_prep_io(struct dd_op *op, enum dedup_io_op kind, uint8_t *buf, uint32_t pbn,
		       uint32_t n)
{
	memset(&op->io, 0, sizeof(op->io));
	op->io.done = op_io_done;
	op->io.owner = op;
	op->io.op = kind;
	op->io.buf = buf;
	op->io.len = n * DD_BLOCK_SIZE;
	op->io.off = data_block_of(op->vol, pbn) * DD_BLOCK_SIZE;
}

static void op_queue_io(struct dd_op *op, enum dedup_io_op kind, uint8_t *buf, uint32_t pbn,
			uint32_t n)
{
	op_prep_io(op, kind, buf, pbn, n);
	dd_io_queue(op->vol->io, &op->io);
}

/* A newly allocated block's data write waits in the volume's plug until the engine step
 * ends, so the blocks the step allocated go out as few writes as possible (DESIGN.md §4.3). */
static void plug_add(struct dd_op *op, uint8_t *buf)
{
	struct dedup_volume *v = op->vol;
	op_prep_io(op, DEDUP_IO_WRITE, buf, op->pbn, 1);
	op->run_next = NULL;
	if (v->plug_tail)
		v->plug_tail->run_next = op;
	else
		v->plug_head = op;
	v->plug_tail = op;
}

/* Queues the plugged writes: each run of blocks consecutive both on the flash and in memory
 * becomes one write, carried by the run's first op; the others stay linked behind it. */
static void plug_flush(struct dedup_volume *v)
{
	struct dd_op *lead = v->plug_head;
	v->plug_head = v->plug_tail = NULL;
	while (lead) {
		struct dd_op *last = lead;
		uint32_t n = 1;
		while (last->run_next && n < DD_RUN_MAX) {
			struct dd_op *next = last->run_next;
			if (next->pbn != last->pbn + 1 ||
			    (uint8_t *)next->io.buf != (uint8_t *)last->io.buf + DD_BLOCK_SIZE)
				break;
			last = next;
			n++;
		}
		struct dd_op *rest = last->run_next;
		last->run_next = NULL;
		lead->io.len = n * DD_BLOCK_SIZE;
		dd_io_queue(v->io, &lead->io);
		lead = rest;
	}
}

void dd_engine_submit(struct dedup_volume *v)
{
	plug_flush(v);
	dd_io_submit(v->io);
}

/* Restarts the followers of an op whose write did not produce a usable block. */
static void restart_followers(struct dd_op *leader)
{
	struct dd_op *f = leader->followers;
	leader->followers = NULL;
	while (f) {
		struct dd_op *next = f->next_follower;
		f->leader = NULL;
		f->next_follower = NULL;
		op_hashed(f);
		f = next;
	}
}

/* The leader's block is in the map with one reference: each follower takes one too, until
 * the block saturates; the rest follow a new copy written by the first of them. */
static void release_followers(struct dd_op *leader)
{
	struct dedup_volume *v = leader->vol;
	uint32_t p = leader->pbn;
	struct dd_op *f = leader->followers;
	leader->followers = NULL;
	while (f) {
		struct dd_op *next = f->next_follower;
		f->leader = NULL;
		f->next_follower = NULL;
		if (v->rc[p] < DD_REFCOUNT_MAX) {
			v->dedup_hits++;
			op_append(f, DD_PBN_TO_MAP(p), false);
		} else {
			f->followers = next; /* they follow the new copy */
			op_allocate(f);
			return;
		}
		f = next;
	}
}

static void op_finish(struct dd_op *op, int result)
{
	struct dedup_volume *v = op->vol;
	struct dd_req *r = op->req;
	dd_reader_unregister(v, &op->reader);
	if (op->followers)
		restart_followers(op);
	if (op->cand != op->cand_inline) {
		free(op->cand);
		op->cand = op->cand_inline;
		op->cand_cap = 4;
	}
	op->active = false;
	op->state = OP_IDLE;
	r->active_ops--;
	r->done_blocks += op->nblocks;
	if (result < 0 && r->result == 0)
		r->result = result;
	req_pump(r);
}

/* Records the op's mapping change (DESIGN.md §3.1 step 7), or parks it for journal room. */
static void op_append(struct dd_op *op, uint32_t map, bool alloc)
{
	struct dedup_volume *v = op->vol;
	if (v->failed) {
		if (alloc) {
			dd_inflight_del(&v->inflight, op->pbn);
			dd_index_remove(&v->index, op->key, op->pbn);
		}
		op_finish(op, -EIO);
		return;
	}
	if (!alloc && v->bm[op->lba] == map) {
		op_finish(op, 0); /* nothing changes; a FUA still commits what came before */
		return;
	}
	if (dd_journal_append(v, op->lba, map, alloc, op->key) == -EAGAIN) {
		op->pending_map = map;
		op->pending_alloc = alloc;
		/* a dedup hit keeps its block from being reused while it waits (DESIGN.md §3.4) */
		if (!alloc && DD_MAP_IS_DATA(map) && !op->reader.active)
			dd_reader_register(v, &op->reader);
		park(&v->journal_waiters, op, OP_WAIT_JOURNAL);
		return;
	}
	if (alloc) {
		dd_inflight_del(&v->inflight, op->pbn);
		release_followers(op);
	}
	op_finish(op, 0);
}

/* A parked append retries; a dedup hit re-checks its block first, because its count may have
 * reached 254 or 0 while it waited (a 0 means freed; it was not reused: the op is a reader). */
static void op_retry_append(struct dd_op *op)
{
	struct dedup_volume *v = op->vol;
	uint32_t map = op->pending_map;
	if (DD_MAP_IS_DATA(map) && !op->pending_alloc) {
		uint32_t p = DD_MAP_TO_PBN(map);
		if (v->rc[p] == 0) {
			op_hashed(op);
			return;
		}
		if (v->rc[p] >= DD_REFCOUNT_MAX) {
			op_allocate(op);
			return;
		}
	}
	op_append(op, map, op->pending_alloc);
}

static void op_allocate(struct dd_op *op)
{
	struct dedup_volume *v = op->vol;
	/* an allocating op holds no looked-up block: it must not hold back the frees it needs */
	dd_reader_unregister(v, &op->reader);
	if (v->failed) {
		op_finish(op, -EIO);
		return;
	}
	uint32_t p;
	if (!dd_alloc_get(v, &p)) {
		if (dd_alloc_has_pending(v)) {
			/* freed blocks come back once their entries are durable: commit now */
			dd_journal_flush_target(v);
			park(&v->space_waiters, op, OP_WAIT_SPACE);
			return;
		}
		errmsg(v, "write LBA %u: no free physical block (all %llu data blocks hold data); "
		       "trim or overwrite data, or format a larger volume", op->lba,
		       (unsigned long long)v->lay.data_blocks);
		op_finish(op, -ENOSPC);
		return;
	}
	v->keys[p] = op->key;
	dd_index_insert(&v->index, op->key, p);
	dd_inflight_put(&v->inflight, p, op);
	op->pbn = p;
	uint8_t *buf = op->data;
	if (((uintptr_t)buf & (DD_BLOCK_SIZE - 1)) != 0) {
		memcpy(op->bounce, op->data, DD_BLOCK_SIZE);
		buf = op->bounce;
	}
	op->state = OP_DATA_IO;
	plug_add(op, buf);
}

static bool cand_push(struct dd_op *op, uint32_t pbn)
{
	if (op->ncand == op->cand_cap) {
		uint32_t cap = op->cand_cap * 2;
		uint32_t *n = malloc(cap * sizeof(*n));
		if (!n)
			return false; /* fewer candidates: at worst a duplicate is stored */
		memcpy(n, op->cand, op->ncand * sizeof(*n));
		if (op->cand != op->cand_inline)
			free(op->cand);
		op->cand = n;
		op->cand_cap = cap;
	}
	op->cand[op->ncand++] = pbn;
	return true;
}

/* Adds the index's candidates for the op's key that it has not tried yet; returns how many. */
static uint32_t collect_candidates(struct dd_op *op)
{
	struct dedup_volume *v = op->vol;
	struct dd_index_iter it;
	uint32_t p, before = op->ncand;
	dd_index_iter_start(&v->index, op->key, &it);
	while (dd_index_iter_next(&v->index, &it, &p)) {
		bool tried = false;
		for (uint32_t i = 0; i < before && !tried; i++)
			tried = op->cand[i] == p;
		if (!tried && !cand_push(op, p))
			break;
	}
	return op->ncand - before;
}

/* The fingerprint is known: collect the index's candidates (DESIGN.md §3.1 steps 3-4). */
static void op_hashed(struct dd_op *op)
{
	struct dedup_volume *v = op->vol;
	op->ncand = op->icand = 0;
	op->waited = false;
	collect_candidates(op);
	/* registered from the lookup on, so no candidate is reused while it is examined */
	if (!op->reader.active)
		dd_reader_register(v, &op->reader);
	op_next_candidate(op);
}

static void op_next_candidate(struct dd_op *op)
{
	struct dedup_volume *v = op->vol;
	while (op->icand < op->ncand) {
		uint32_t p = op->cand[op->icand++];
		if (v->keys[p] != op->key)
			continue; /* freed and reallocated to other data since the lookup */
		struct dd_op *leader = dd_inflight_get(&v->inflight, p);
		if (leader) {
			if (leader == op)
				continue;
			if (memcmp(leader->data, op->data, DD_BLOCK_SIZE) == 0) {
				/* not a reader while following: the leader may be waiting for space
				 * that this registration would hold back */
				dd_reader_unregister(v, &op->reader);
				op->leader = leader;
				op->state = OP_FOLLOWING;
				op->next_follower = leader->followers;
				leader->followers = op;
				return;
			}
			v->verify_mismatches++;
			continue;
		}
		if (v->rc[p] == 0)
			continue; /* freed since the lookup */
		if (v->rc[p] >= DD_REFCOUNT_MAX)
			continue; /* saturated since the lookup */
		op->pbn = p;
		op->state = OP_VERIFY_IO;
		op->waited = true;
		op_queue_io(op, DEDUP_IO_READ, op->bounce, p, 1);
		return;
	}
	/* while this op read, another may have started writing the same data (typically the
	 * next copy of a block that just saturated): look again before allocating one more */
	if (op->waited) {
		op->waited = false;
		if (collect_candidates(op) > 0) {
			op_next_candidate(op);
			return;
		}
	}
	op_allocate(op);
}

static void verify_done(struct dd_op *op, int result)
{
	struct dedup_volume *v = op->vol;
	uint32_t p = op->pbn;
	if (result < 0) {
		errmsg(v, "write LBA %u: cannot read PBN %u (block %llu) to compare a duplicate: %s",
		       op->lba, p, (unsigned long long)data_block_of(v, p), strerror(-result));
		op_finish(op, result);
		return;
	}
	if (memcmp(op->bounce, op->data, DD_BLOCK_SIZE) == 0) {
		/* still referenced means never freed (this op is a reader), so it still holds
		 * these bytes; a count at 254 means others took the last references meanwhile */
		if (v->rc[p] > 0 && v->rc[p] < DD_REFCOUNT_MAX) {
			v->dedup_hits++;
			op_append(op, DD_PBN_TO_MAP(p), false);
			return;
		}
	} else {
		v->verify_mismatches++;
	}
	op_next_candidate(op);
}

static void data_done(struct dd_op *op, int result)
{
	struct dedup_volume *v = op->vol;
	uint32_t p = op->pbn;
	if (result < 0) {
		/* never referenced: the block goes straight back */
		dd_inflight_del(&v->inflight, p);
		dd_index_remove(&v->index, op->key, p);
		dd_alloc_put_unused(v, p);
		errmsg(v, "write LBA %u: cannot write PBN %u (block %llu): %s", op->lba, p,
		       (unsigned long long)data_block_of(v, p), strerror(-result));
		op_finish(op, result);
		return;
	}
	v->data_dirty = true;
	op_append(op, DD_PBN_TO_MAP(p), true);
}

static void read_done(struct dd_op *op, int result)
{
	struct dedup_volume *v = op->vol;
	if (result < 0) {
		uint32_t n = op->nblocks;
		if (n == 1)
			errmsg(v, "read LBA %u: cannot read PBN %u (block %llu): %s", op->lba,
			       op->pbn, (unsigned long long)data_block_of(v, op->pbn),
			       strerror(-result));
		else
			errmsg(v, "read LBA %u..%u: cannot read PBNs %u..%u (blocks %llu..%llu): %s",
			       op->lba, op->lba + n - 1, op->pbn, op->pbn + n - 1,
			       (unsigned long long)data_block_of(v, op->pbn),
			       (unsigned long long)data_block_of(v, op->pbn + n - 1),
			       strerror(-result));
		op_finish(op, result);
		return;
	}
	if (!op->req->aligned)
		memcpy(op->data, op->bounce, DD_BLOCK_SIZE);
	op_finish(op, 0);
}

static void op_io_done(struct dd_ioreq *io, int result)
{
	struct dd_op *op = io->owner;
	switch (op->state) {
	case OP_VERIFY_IO: verify_done(op, result); break;
	case OP_DATA_IO:
		/* every op of the run meets the write's result; the next one is taken first,
		 * because a finished op's slot may start another block at once */
		while (op) {
			struct dd_op *next = op->run_next;
			op->run_next = NULL;
			data_done(op, result);
			op = next;
		}
		break;
	case OP_READ_IO: read_done(op, result); break;
	default: break;
	}
}

/* A read op takes the longest run of the request's next blocks that one step can serve
 * (DESIGN.md §4.2): blocks holding no data (zeros, no I/O), or blocks whose PBNs are
 * consecutive like their LBAs, read with one I/O straight into the caller's buffer. An
 * unaligned buffer is read through the op's one-block bounce buffer, a block at a time. */
static void op_start_read(struct dd_op *op)
{
	struct dd_req *r = op->req;
	struct dedup_volume *v = op->vol;
	uint32_t room = r->nblocks - op->index;
	uint32_t m = v->bm[op->lba];
	uint32_t n = 1;
	if (!DD_MAP_IS_DATA(m)) {
		while (n < room && !DD_MAP_IS_DATA(v->bm[op->lba + n]))
			n++;
		op->nblocks = n;
		r->next_block += n - 1;
		memset(op->data, 0, (size_t)n * DD_BLOCK_SIZE);
		op_finish(op, 0);
		return;
	}
	if (r->aligned) {
		if (room > DD_RUN_MAX)
			room = DD_RUN_MAX;
		/* map values are PBN + 2: consecutive PBNs have consecutive map values */
		while (n < room && v->bm[op->lba + n] == m + n)
			n++;
	}
	op->nblocks = n;
	r->next_block += n - 1;
	/* one registration holds back the reuse of every block of the run (§3.4) */
	dd_reader_register(v, &op->reader);
	op->pbn = DD_MAP_TO_PBN(m);
	op->state = OP_READ_IO;
	op_queue_io(op, DEDUP_IO_READ, r->aligned ? op->data : op->bounce, op->pbn, n);
}

static void op_start(struct dd_op *op)
{
	struct dd_req *r = op->req;
	struct dedup_volume *v = op->vol;
	op->lba = (uint32_t)(r->lba + op->index);
	op->nblocks = 1;
	op->run_next = NULL;
	op->state = OP_IDLE;
	op->leader = NULL;
	op->followers = NULL;
	op->next_follower = NULL;
	op->ncand = op->icand = 0;
	op->pending_alloc = false;
	op->key = 0;
	op->data = r->buf ? r->buf + (size_t)op->index * DD_BLOCK_SIZE : NULL;

	switch (r->kind) {
	case REQ_WRITE:
		if (dd_block_is_zero(op->data)) {
			v->zero_writes++;
			op_append(op, DD_MAP_ZERO, false);
			return;
		}
		op->key = dd_key_of(op->data);
		op_hashed(op);
		return;
	case REQ_READ:
		op_start_read(op);
		return;
	case REQ_ZEROES:
		op_append(op, DD_MAP_ZERO, false);
		return;
	case REQ_TRIM:
		op_append(op, DD_MAP_UNMAPPED, false);
		return;
	case REQ_FLUSH:
		op_finish(op, 0);
		return;
	}
}

/* ---- requests ------------------------------------------------------------------------- */

int dd_engine_init(struct dedup_volume *v)
{
	v->reqs = calloc(v->queue_depth, sizeof(*v->reqs));
	v->bounce_arena = dd_io_alloc((size_t)v->queue_depth * DD_OPS_PER_REQ * DD_BLOCK_SIZE);
	if (!v->reqs || !v->bounce_arena)
		return -ENOMEM;
	for (uint32_t i = 0; i < v->queue_depth; i++) {
		struct dd_req *r = &v->reqs[i];
		r->vol = v;
		for (uint32_t j = 0; j < DD_OPS_PER_REQ; j++) {
			struct dd_op *op = &r->ops[j];
			op->req = r;
			op->vol = v;
			op->bounce = v->bounce_arena +
				     ((size_t)i * DD_OPS_PER_REQ + j) * DD_BLOCK_SIZE;
			op->cand = op->cand_inline;
			op->cand_cap = 4;
		}
		r->next = v->free_reqs;
		v->free_reqs = r;
	}
	return dd_inflight_init(&v->inflight, v->queue_depth * DD_OPS_PER_REQ);
}

void dd_engine_free(struct dedup_volume *v)
{
	for (uint32_t i = 0; v->reqs && i < v->queue_depth; i++)
		for (uint32_t j = 0; j < DD_OPS_PER_REQ; j++)
			if (v->reqs[i].ops[j].cand != v->reqs[i].ops[j].cand_inline)
				free(v->reqs[i].ops[j].cand);
	free(v->reqs);
	free(v->bounce_arena);
	dd_inflight_free(&v->inflight);
	v->reqs = NULL;
	v->bounce_arena = NULL;
}

static void req_complete(struct dd_req *r)
{
	struct dedup_volume *v = r->vol;
	r->completed = true;
	if (r->result == 0 && (r->flags & DEDUP_FUA) && r->kind != REQ_READ) {
		r->commit_target = dd_journal_flush_target(v);
		if (v->failed) {
			r->result = -EIO;
		} else if (v->durable_seq < r->commit_target) {
			r->next = v->commit_waiters;
			v->commit_waiters = r;
			return;
		}
	}
	done_push(v, r);
}

static void req_pump(struct dd_req *r)
{
	if (r->pumping)
		return;
	r->pumping = true;
	while (r->next_block < r->nblocks && r->active_ops < DD_OPS_PER_REQ) {
		if (r->result < 0) {
			/* an earlier block failed: the request fails, the rest is not started */
			r->done_blocks += r->nblocks - r->next_block;
			r->next_block = r->nblocks;
			break;
		}
		struct dd_op *op = NULL;
		for (uint32_t i = 0; i < DD_OPS_PER_REQ && !op; i++)
			if (!r->ops[i].active)
				op = &r->ops[i];
		if (!op)
			break; /* cannot happen: active_ops < DD_OPS_PER_REQ */
		op->active = true;
		op->index = r->next_block++;
		r->active_ops++;
		op_start(op);
	}
	r->pumping = false;
	if (!r->completed && r->done_blocks == r->nblocks && r->active_ops == 0)
		req_complete(r);
}

static int req_new(struct dedup_volume *v, enum dd_req_kind kind, uint64_t lba, uint32_t n,
		   const void *buf, unsigned flags, dedup_done_fn done, void *arg,
		   struct dd_req **out)
{
	static const char *const names[] = {"write", "read", "write zeroes", "trim", "flush"};
	if (kind != REQ_READ && v->read_only) {
		errmsg(v, "%s: the volume is open read-only", names[kind]);
		return -EROFS;
	}
	if (kind != REQ_READ && v->failed)
		return -EIO; /* errmsg holds the failure */
	if (kind != REQ_FLUSH) {
		if (n == 0 || n > v->max_request_blocks) {
			errmsg(v, "%s of %u blocks: a request covers 1..%u blocks", names[kind], n,
			       v->max_request_blocks);
			return -EINVAL;
		}
		if (lba >= v->lay.logical_blocks || n > v->lay.logical_blocks - lba) {
			errmsg(v, "%s of %u blocks at LBA %llu: beyond the volume's %llu blocks",
			       names[kind], n, (unsigned long long)lba,
			       (unsigned long long)v->lay.logical_blocks);
			return -EINVAL;
		}
		if ((kind == REQ_WRITE || kind == REQ_READ) && !buf) {
			errmsg(v, "%s: no buffer", names[kind]);
			return -EINVAL;
		}
	}
	if (!v->free_reqs)
		return -EAGAIN;
	struct dd_req *r = v->free_reqs;
	v->free_reqs = r->next;
	r->next = NULL;
	r->kind = kind;
	r->flags = flags;
	r->lba = lba;
	r->nblocks = kind == REQ_FLUSH ? 0 : n;
	r->buf = (uint8_t *)(uintptr_t)buf;
	r->aligned = ((uintptr_t)buf & (DD_BLOCK_SIZE - 1)) == 0;
	r->done = done;
	r->arg = arg;
	r->next_block = 0;
	r->active_ops = 0;
	r->done_blocks = 0;
	r->pumping = false;
	r->completed = false;
	r->result = 0;
	r->commit_target = 0;
	v->inflight_reqs++;
	*out = r;
	return 0;
}

static int submit(struct dedup_volume *v, enum dd_req_kind kind, uint64_t lba, uint32_t n,
		  const void *buf, unsigned flags, dedup_done_fn done, void *arg)
{
	struct dd_req *r;
	int rc = req_new(v, kind, lba, n, buf, flags, done, arg, &r);
	if (rc < 0)
		return rc;
	if (kind == REQ_FLUSH)
		r->flags |= DEDUP_FUA; /* a flush is an empty FUA request */
	req_pump(r);
	dd_engine_submit(v);
	return 0;
}

int dedup_volume_submit_write(struct dedup_volume *v, uint64_t lba, uint32_t nblocks,
			      const void *buf, unsigned flags, dedup_done_fn done, void *arg)
{
	return submit(v, REQ_WRITE, lba, nblocks, buf, flags, done, arg);
}

int dedup_volume_submit_read(struct dedup_volume *v, uint64_t lba, uint32_t nblocks, void *buf,
			     dedup_done_fn done, void *arg)
{
	return submit(v, REQ_READ, lba, nblocks, buf, 0, done, arg);
}

int dedup_volume_submit_write_zeroes(struct dedup_volume *v, uint64_t lba, uint32_t nblocks,
				     unsigned flags, dedup_done_fn done, void *arg)
{
	return submit(v, REQ_ZEROES, lba, nblocks, NULL, flags, done, arg);
}

int dedup_volume_submit_trim(struct dedup_volume *v, uint64_t lba, uint32_t nblocks,
			     unsigned flags, dedup_done_fn done, void *arg)
{
	return submit(v, REQ_TRIM, lba, nblocks, NULL, flags, done, arg);
}

int dedup_volume_submit_flush(struct dedup_volume *v, dedup_done_fn done, void *arg)
{
	return submit(v, REQ_FLUSH, 0, 0, NULL, 0, done, arg);
}

/* Retries parked ops whose condition may have changed. Returns how many were retried. */
static int run_waiters(struct dedup_volume *v)
{
	int n = 0;
	if (v->retry_space && v->space_waiters) {
		struct dd_op *list = v->space_waiters;
		v->space_waiters = NULL;
		v->retry_space = false;
		while (list) {
			struct dd_op *op = list;
			list = op->wait_next;
			op->state = OP_IDLE;
			op_allocate(op);
			n++;
		}
	}
	if (v->retry_journal && v->journal_waiters) {
		/* oldest first: the list is LIFO, reverse it */
		struct dd_op *list = NULL, *op = v->journal_waiters;
		v->journal_waiters = NULL;
		v->retry_journal = false;
		while (op) {
			struct dd_op *next = op->wait_next;
			op->wait_next = list;
			list = op;
			op = next;
		}
		while (list) {
			op = list;
			list = op->wait_next;
			op->state = OP_IDLE;
			op_retry_append(op);
			n++;
		}
	}
	return n;
}

int dd_engine_poll(struct dedup_volume *v)
{
	int calls = 0;
	for (;;) {
		int progress = dd_io_reap(v->io);
		progress += run_waiters(v);
		dd_engine_submit(v);
		while (v->done_head) {
			struct dd_req *r = v->done_head;
			v->done_head = r->next;
			if (!v->done_head)
				v->done_tail = NULL;
			dedup_done_fn fn = r->done;
			void *arg = r->arg;
			int result = r->result;
			r->next = v->free_reqs;
			v->free_reqs = r;
			v->inflight_reqs--;
			if (fn)
				fn(arg, result);
			calls++;
			progress++;
		}
		if (progress == 0)
			break;
	}
	return calls;
}
