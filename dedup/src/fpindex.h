/* The fingerprint index (DESIGN.md §3.2): key -> candidate PBNs, an open-addressing table with
 * linear probing and backward-shift deletion, 16-bit tags beside 32-bit PBNs, full keys looked
 * up in the per-PBN key array only on a tag match. Advisory: callers verify every candidate. */
#ifndef DEDUP_FPINDEX_H
#define DEDUP_FPINDEX_H

#include <stdbool.h>
#include <stdint.h>

struct dd_index {
	uint16_t *tags;       /* 0 = empty slot */
	uint32_t *pbns;
	uint64_t capacity;
	uint64_t count;
	const uint64_t *keys; /* keys[pbn], owned by the volume */
};

/* Sizes the table for max_entries at a load factor of at most 0.8. */
int dd_index_init(struct dd_index *ix, uint64_t max_entries, const uint64_t *keys);
void dd_index_free(struct dd_index *ix);
/* keys[pbn] must already hold key. The caller guarantees count < max_entries. */
void dd_index_insert(struct dd_index *ix, uint64_t key, uint32_t pbn);
/* Removes pbn's entry (found through key); false when it is not there. */
bool dd_index_remove(struct dd_index *ix, uint64_t key, uint32_t pbn);
/* True when pbn has an entry under key. */
bool dd_index_contains(const struct dd_index *ix, uint64_t key, uint32_t pbn);
uint64_t dd_index_bytes(const struct dd_index *ix);

struct dd_index_iter {
	uint64_t pos;
	uint64_t key;
	uint16_t tag;
};

void dd_index_iter_start(const struct dd_index *ix, uint64_t key, struct dd_index_iter *it);
/* Next PBN whose key equals it->key; false at the end of the probe run. */
bool dd_index_iter_next(const struct dd_index *ix, struct dd_index_iter *it, uint32_t *pbn);

#endif
