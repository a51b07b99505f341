/* Open-addressing fingerprint index; see fpindex.h. Linear probing keeps a miss to a scan of
 * contiguous 16-bit tags; backward-shift deletion keeps probe runs short without tombstones. */
#include "fpindex.h"

#include <errno.h>
#include <stdlib.h>

static inline uint64_t home_of(const struct dd_index *ix, uint64_t key)
{
	return (uint64_t)(((unsigned __int128)(key * UINT64_C(0x9e3779b97f4a7c15)) * ix->capacity) >> 64);
}

static inline uint16_t tag_of(uint64_t key)
{
	uint16_t t = (uint16_t)(key >> 48);
	return t ? t : 1;
}

int dd_index_init(struct dd_index *ix, uint64_t max_entries, const uint64_t *keys)
{
	ix->capacity = max_entries + max_entries / 4 + 8; /* load <= 0.8 */
	ix->count = 0;
	ix->keys = keys;
	ix->tags = calloc(ix->capacity, sizeof(*ix->tags));
	ix->pbns = calloc(ix->capacity, sizeof(*ix->pbns));
	if (!ix->tags || !ix->pbns) {
		dd_index_free(ix);
		return -ENOMEM;
	}
	return 0;
}

void dd_index_free(struct dd_index *ix)
{
	free(ix->tags);
	free(ix->pbns);
	ix->tags = NULL;
	ix->pbns = NULL;
}

uint64_t dd_index_bytes(const struct dd_index *ix)
{
	return ix->capacity * (sizeof(*ix->tags) + sizeof(*ix->pbns));
}

void dd_index_insert(struct dd_index *ix, uint64_t key, uint32_t pbn)
{
	uint64_t pos = home_of(ix, key);
	while (ix->tags[pos] != 0)
		pos = pos + 1 == ix->capacity ? 0 : pos + 1;
	ix->tags[pos] = tag_of(key);
	ix->pbns[pos] = pbn;
	ix->count++;
}

static bool find_slot(const struct dd_index *ix, uint64_t key, uint32_t pbn, uint64_t *slot)
{
	uint16_t tag = tag_of(key);
	uint64_t pos = home_of(ix, key);
	for (uint64_t n = 0; n < ix->capacity && ix->tags[pos] != 0; n++) {
		if (ix->tags[pos] == tag && ix->pbns[pos] == pbn) {
			*slot = pos;
			return true;
		}
		pos = pos + 1 == ix->capacity ? 0 : pos + 1;
	}
	return false;
}

bool dd_index_contains(const struct dd_index *ix, uint64_t key, uint32_t pbn)
{
	uint64_t slot;
	return find_slot(ix, key, pbn, &slot);
}

bool dd_index_remove(struct dd_index *ix, uint64_t key, uint32_t pbn)
{
	uint64_t hole;
	if (!find_slot(ix, key, pbn, &hole))
		return false;
	/* backward shift: move later members of the run into the hole when their home allows */
	uint64_t pos = hole;
	for (;;) {
		pos = pos + 1 == ix->capacity ? 0 : pos + 1;
		if (ix->tags[pos] == 0)
			break;
		uint64_t home = home_of(ix, ix->keys[ix->pbns[pos]]);
		/* can move iff home is not in the cyclic interval (hole, pos] */
		bool in_between = hole <= pos ? (home > hole && home <= pos)
					      : (home > hole || home <= pos);
		if (in_between)
			continue;
		ix->tags[hole] = ix->tags[pos];
		ix->pbns[hole] = ix->pbns[pos];
		hole = pos;
	}
	ix->tags[hole] = 0;
	ix->pbns[hole] = 0;
	ix->count--;
	return true;
}

void dd_index_iter_start(const struct dd_index *ix, uint64_t key, struct dd_index_iter *it)
{
	it->key = key;
	it->tag = tag_of(key);
	it->pos = home_of(ix, key);
}

bool dd_index_iter_next(const struct dd_index *ix, struct dd_index_iter *it, uint32_t *pbn)
{
	while (ix->tags[it->pos] != 0) {
		uint64_t pos = it->pos;
		it->pos = pos + 1 == ix->capacity ? 0 : pos + 1;
		if (ix->tags[pos] == it->tag && ix->keys[ix->pbns[pos]] == it->key) {
			*pbn = ix->pbns[pos];
			return true;
		}
	}
	return false;
}
