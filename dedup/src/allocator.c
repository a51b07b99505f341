/* Physical block allocation (DESIGN.md §3.4): a two-level free bitmap searched next-fit, the
 * FIFO of freed blocks waiting for their journal entry and their readers, the reader registry,
 * and the map of allocations whose data write is in flight. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "volume_internal.h"

int dd_alloc_init(struct dedup_volume *v)
{
	v->free_words = dd_div_round_up(v->lay.data_blocks, 64);
	v->free_l0 = calloc(v->free_words, sizeof(uint64_t));
	v->free_l1 = calloc(dd_div_round_up(v->free_words, 64), sizeof(uint64_t));
	v->pending_cap = 256;
	v->pending = malloc(v->pending_cap * sizeof(*v->pending));
	if (!v->free_l0 || !v->free_l1 || !v->pending)
		return -ENOMEM;
	return 0;
}

void dd_alloc_free(struct dedup_volume *v)
{
	free(v->free_l0);
	free(v->free_l1);
	free(v->pending);
	v->free_l0 = v->free_l1 = NULL;
	v->pending = NULL;
}

static void set_free(struct dedup_volume *v, uint32_t pbn)
{
	uint64_t w = pbn >> 6;
	v->free_l0[w] |= UINT64_C(1) << (pbn & 63);
	v->free_l1[w >> 6] |= UINT64_C(1) << (w & 63);
	v->free_count++;
}

void dd_alloc_rebuild(struct dedup_volume *v)
{
	memset(v->free_l0, 0, v->free_words * sizeof(uint64_t));
	memset(v->free_l1, 0, dd_div_round_up(v->free_words, 64) * sizeof(uint64_t));
	v->free_count = 0;
	for (uint64_t p = 0; p < v->lay.data_blocks; p++)
		if (v->rc[p] == 0)
			set_free(v, (uint32_t)p);
	v->alloc_cursor = 0;
}

static void take(struct dedup_volume *v, uint64_t w, unsigned b, uint32_t *pbn)
{
	v->free_l0[w] &= ~(UINT64_C(1) << b);
	if (!v->free_l0[w])
		v->free_l1[w >> 6] &= ~(UINT64_C(1) << (w & 63));
	v->free_count--;
	*pbn = (uint32_t)(w * 64 + b);
	v->alloc_cursor = *pbn + 1;
}

/* Next-fit from the block after the last one allocated, so blocks allocated one after the
 * other are consecutive on the flash whenever free space allows, and their data writes
 * coalesce (DESIGN.md §4.3). */
bool dd_alloc_get(struct dedup_volume *v, uint32_t *pbn)
{
	if (v->free_count == 0)
		return false;
	uint64_t cursor = v->alloc_cursor < v->lay.data_blocks ? v->alloc_cursor : 0;
	uint64_t cw = cursor >> 6;
	uint64_t here = v->free_l0[cw] & (~UINT64_C(0) << (cursor & 63));
	if (here) {
		take(v, cw, (unsigned)__builtin_ctzll(here), pbn);
		return true;
	}
	/* then the words after the cursor's, wrapping; the last pass sees the cursor's word
	 * again, whole, for free blocks below the cursor */
	uint64_t l1_words = dd_div_round_up(v->free_words, 64);
	uint64_t start = cw + 1 < v->free_words ? cw + 1 : 0;
	for (uint64_t i = 0; i <= l1_words; i++) {
		uint64_t l1 = ((start >> 6) + i) % l1_words;
		uint64_t bits = v->free_l1[l1];
		if (i == 0) /* first word: only l0 words at or after start */
			bits &= ~UINT64_C(0) << (start & 63);
		if (!bits)
			continue;
		uint64_t w = l1 * 64 + (uint64_t)__builtin_ctzll(bits);
		take(v, w, (unsigned)__builtin_ctzll(v->free_l0[w]), pbn);
		return true;
	}
	return false; /* unreachable while free_count is exact */
}

void dd_alloc_put_unused(struct dedup_volume *v, uint32_t pbn)
{
	set_free(v, pbn);
	v->retry_space = true;
}

void dd_alloc_defer_free(struct dedup_volume *v, uint32_t pbn, uint64_t seq)
{
	if (v->pending_len == v->pending_cap) {
		/* grow the ring, unrolling it so the head is at index 0 */
		uint64_t cap = v->pending_cap * 2;
		struct dd_pending_free *n = malloc(cap * sizeof(*n));
		if (!n) {
			/* keeping the block out of circulation is safe; it is reclaimed at the next
			 * open, which rebuilds the free bitmap from the counts */
			return;
		}
		for (uint64_t i = 0; i < v->pending_len; i++)
			n[i] = v->pending[(v->pending_head + i) % v->pending_cap];
		free(v->pending);
		v->pending = n;
		v->pending_cap = cap;
		v->pending_head = 0;
	}
	struct dd_pending_free *f = &v->pending[(v->pending_head + v->pending_len) % v->pending_cap];
	f->pbn = pbn;
	f->seq = seq;
	f->epoch = v->reader_epoch;
	v->pending_len++;
}

bool dd_alloc_has_pending(const struct dedup_volume *v)
{
	return v->pending_len > 0;
}

void dd_alloc_release(struct dedup_volume *v)
{
	uint64_t oldest = v->readers_head ? v->readers_head->epoch : UINT64_MAX;
	while (v->pending_len > 0) {
		struct dd_pending_free *f = &v->pending[v->pending_head];
		if (f->seq > v->durable_seq || f->epoch >= oldest)
			break;
		/* a PBN referenced again after being freed would have a count; never happens
		 * because a freed PBN has left the index, but the count is the truth */
		if (v->rc[f->pbn] == 0)
			set_free(v, f->pbn);
		v->pending_head = (v->pending_head + 1) % v->pending_cap;
		v->pending_len--;
		v->retry_space = true;
	}
}

void dd_reader_register(struct dedup_volume *v, struct dd_reader *r)
{
	r->epoch = ++v->reader_epoch;
	r->next = NULL;
	r->prev = v->readers_tail;
	if (v->readers_tail)
		v->readers_tail->next = r;
	else
		v->readers_head = r;
	v->readers_tail = r;
	r->active = true;
}

void dd_reader_unregister(struct dedup_volume *v, struct dd_reader *r)
{
	if (!r->active)
		return;
	bool was_head = v->readers_head == r;
	if (r->prev)
		r->prev->next = r->next;
	else
		v->readers_head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		v->readers_tail = r->prev;
	r->prev = r->next = NULL;
	r->active = false;
	if (was_head && v->pending_len > 0)
		dd_alloc_release(v);
}

int dd_inflight_init(struct dd_inflight_map *m, uint32_t max_entries)
{
	uint32_t cap = 16;
	while (cap < max_entries * 2)
		cap <<= 1;
	m->mask = cap - 1;
	m->pbn1 = calloc(cap, sizeof(*m->pbn1));
	m->op = calloc(cap, sizeof(*m->op));
	return m->pbn1 && m->op ? 0 : -ENOMEM;
}

void dd_inflight_free(struct dd_inflight_map *m)
{
	free(m->pbn1);
	free(m->op);
	m->pbn1 = NULL;
	m->op = NULL;
}

static uint32_t inflight_home(const struct dd_inflight_map *m, uint32_t pbn)
{
	return (uint32_t)((pbn * 0x9e3779b1u) >> 8) & m->mask;
}

void dd_inflight_put(struct dd_inflight_map *m, uint32_t pbn, struct dd_op *op)
{
	uint32_t pos = inflight_home(m, pbn);
	while (m->pbn1[pos] != 0)
		pos = (pos + 1) & m->mask;
	m->pbn1[pos] = pbn + 1;
	m->op[pos] = op;
}

struct dd_op *dd_inflight_get(const struct dd_inflight_map *m, uint32_t pbn)
{
	uint32_t pos = inflight_home(m, pbn);
	while (m->pbn1[pos] != 0) {
		if (m->pbn1[pos] == pbn + 1)
			return m->op[pos];
		pos = (pos + 1) & m->mask;
	}
	return NULL;
}

void dd_inflight_del(struct dd_inflight_map *m, uint32_t pbn)
{
	uint32_t hole = inflight_home(m, pbn);
	while (m->pbn1[hole] != pbn + 1) {
		if (m->pbn1[hole] == 0)
			return;
		hole = (hole + 1) & m->mask;
	}
	uint32_t pos = hole;
	for (;;) {
		pos = (pos + 1) & m->mask;
		if (m->pbn1[pos] == 0)
			break;
		uint32_t home = inflight_home(m, m->pbn1[pos] - 1);
		bool in_between = hole <= pos ? (home > hole && home <= pos)
					      : (home > hole || home <= pos);
		if (in_between)
			continue;
		m->pbn1[hole] = m->pbn1[pos];
		m->op[hole] = m->op[pos];
		hole = pos;
	}
	m->pbn1[hole] = 0;
	m->op[hole] = NULL;
}
