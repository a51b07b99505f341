/* The metadata tables in memory (block map, reference counts, keys), their 4 KiB page images
 * on disk (DESIGN.md §2.6), dirty tracking, and the one function that changes a mapping. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "volume_internal.h"

int dd_meta_alloc(struct dedup_volume *v, struct dedup_error *err)
{
	const struct dd_layout *l = &v->lay;
	v->total_pages = (uint64_t)l->bm_pages + l->rc_pages + l->fp_pages;
	v->bm = calloc(l->logical_blocks, sizeof(*v->bm));
	v->rc = calloc(l->data_blocks, sizeof(*v->rc));
	v->keys = calloc(l->data_blocks, sizeof(*v->keys));
	v->dirty = calloc(dd_div_round_up(v->total_pages, 64), sizeof(uint64_t));
	if (!v->bm || !v->rc || !v->keys || !v->dirty)
		return dd_err(err, -ENOMEM,
			      "out of memory for the metadata of %llu logical and %llu physical blocks",
			      (unsigned long long)l->logical_blocks, (unsigned long long)l->data_blocks);
	if (dd_index_init(&v->index, l->data_blocks, v->keys) < 0)
		return dd_err(err, -ENOMEM, "out of memory for the fingerprint index of %llu blocks",
			      (unsigned long long)l->data_blocks);
	return 0;
}

void dd_meta_free(struct dedup_volume *v)
{
	free(v->bm);
	free(v->rc);
	free(v->keys);
	free(v->dirty);
	dd_index_free(&v->index);
	v->bm = NULL;
	v->rc = NULL;
	v->keys = NULL;
	v->dirty = NULL;
}

void dd_page_mark_dirty(struct dedup_volume *v, uint64_t page)
{
	uint64_t bit = UINT64_C(1) << (page & 63);
	uint64_t *w = &v->dirty[page >> 6];
	if (!(*w & bit)) {
		*w |= bit;
		v->dirty_count++;
	}
}

enum dd_kind dd_page_kind(const struct dedup_volume *v, uint64_t page)
{
	if (page < v->lay.bm_pages)
		return DD_KIND_BLOCKMAP;
	if (page < (uint64_t)v->lay.bm_pages + v->lay.rc_pages)
		return DD_KIND_REFCOUNT;
	return DD_KIND_FINGERPRINT;
}

/* Index of the page within its own table. */
static uint32_t table_index(const struct dedup_volume *v, uint64_t page)
{
	if (page < v->lay.bm_pages)
		return (uint32_t)page;
	page -= v->lay.bm_pages;
	if (page < v->lay.rc_pages)
		return (uint32_t)page;
	return (uint32_t)(page - v->lay.rc_pages);
}

uint64_t dd_page_block(const struct dedup_volume *v, uint64_t page)
{
	switch (dd_page_kind(v, page)) {
	case DD_KIND_BLOCKMAP: return v->lay.bm_start + table_index(v, page);
	case DD_KIND_REFCOUNT: return v->lay.rc_start + table_index(v, page);
	default: return v->lay.fp_start + table_index(v, page);
	}
}

void dd_page_name(const struct dedup_volume *v, uint64_t page, char *buf, size_t len)
{
	snprintf(buf, len, "%s %u", dd_kind_name(dd_page_kind(v, page)), table_index(v, page));
}

/* Range of table entries a page covers, clipped to the table's length. */
static void page_span(const struct dedup_volume *v, uint64_t page, uint64_t *first, uint64_t *n,
		      uint64_t *per_page)
{
	uint64_t idx = table_index(v, page), total;
	switch (dd_page_kind(v, page)) {
	case DD_KIND_BLOCKMAP:
		*per_page = DD_BM_PER_PAGE;
		total = v->lay.logical_blocks;
		break;
	case DD_KIND_REFCOUNT:
		*per_page = DD_RC_PER_PAGE;
		total = v->lay.data_blocks;
		break;
	default:
		*per_page = DD_FP_PER_PAGE;
		total = v->lay.data_blocks;
		break;
	}
	*first = idx * *per_page;
	*n = *first >= total ? 0 : total - *first;
	if (*n > *per_page)
		*n = *per_page;
}

void dd_page_encode(const struct dedup_volume *v, uint64_t page, uint64_t lsn, void *out)
{
	uint64_t first, n, per;
	page_span(v, page, &first, &n, &per);
	memset(out, 0, DD_BLOCK_SIZE);
	enum dd_kind kind = dd_page_kind(v, page);
	unsigned char *body = (unsigned char *)out + sizeof(struct dd_header);
	switch (kind) {
	case DD_KIND_BLOCKMAP:
		memcpy(body, v->bm + first, n * sizeof(uint32_t));
		break;
	case DD_KIND_REFCOUNT:
		memcpy(body, v->rc + first, n);
		break;
	default:
		memcpy(body, v->keys + first, n * sizeof(uint64_t));
		break;
	}
	dd_block_seal(out, kind, table_index(v, page), lsn, v->nonce);
}

int dd_page_load(struct dedup_volume *v, uint64_t page, const void *blk, struct dedup_error *err)
{
	uint64_t first, n, per;
	page_span(v, page, &first, &n, &per);
	const unsigned char *body = (const unsigned char *)blk + sizeof(struct dd_header);
	const struct dd_header *h = blk;
	char name[64];
	dd_page_name(v, page, name, sizeof(name));
	unsigned long long blockno = (unsigned long long)dd_page_block(v, page);

	if (h->aux != table_index(v, page))
		return dd_err(err, -EBADMSG, "%s (block %llu): header says page %u", name, blockno,
			      h->aux);

	switch (dd_page_kind(v, page)) {
	case DD_KIND_BLOCKMAP: {
		uint32_t vals[DD_BM_PER_PAGE];
		memcpy(vals, body, sizeof(vals));
		uint64_t max_map = v->lay.data_blocks + DD_MAP_PBN_BASE - 1;
		for (uint64_t j = 0; j < per; j++) {
			if (j >= n) {
				if (vals[j] != 0)
					return dd_err(err, -EBADMSG,
						      "%s (block %llu): entry %llu is past the last "
						      "LBA but holds 0x%x", name, blockno,
						      (unsigned long long)j, vals[j]);
				continue;
			}
			if (vals[j] > max_map)
				return dd_err(err, -EBADMSG,
					      "%s (block %llu): LBA %llu maps to PBN %u, beyond the "
					      "%llu data blocks", name, blockno,
					      (unsigned long long)(first + j), DD_MAP_TO_PBN(vals[j]),
					      (unsigned long long)v->lay.data_blocks);
		}
		memcpy(v->bm + first, vals, n * sizeof(uint32_t));
		break;
	}
	case DD_KIND_REFCOUNT:
		for (uint64_t j = 0; j < per; j++) {
			if (j >= n) {
				if (body[j] != 0)
					return dd_err(err, -EBADMSG,
						      "%s (block %llu): entry %llu is past the last "
						      "PBN but holds %u", name, blockno,
						      (unsigned long long)j, body[j]);
				continue;
			}
			if (body[j] > DD_REFCOUNT_MAX)
				return dd_err(err, -EBADMSG,
					      "%s (block %llu): PBN %llu has reference count %u "
					      "(at most %u)", name, blockno,
					      (unsigned long long)(first + j), body[j], DD_REFCOUNT_MAX);
		}
		memcpy(v->rc + first, body, n);
		break;
	default: {
		uint64_t keys[DD_FP_PER_PAGE];
		memcpy(keys, body, sizeof(keys));
		for (uint64_t j = n; j < per; j++)
			if (keys[j] != 0)
				return dd_err(err, -EBADMSG,
					      "%s (block %llu): entry %llu is past the last PBN but "
					      "holds a key", name, blockno, (unsigned long long)j);
		memcpy(v->keys + first, keys, n * sizeof(uint64_t));
		break;
	}
	}
	return 0;
}

void dd_meta_apply(struct dedup_volume *v, uint32_t lba, uint32_t new_map, bool alloc,
		   uint64_t key, uint64_t seq)
{
	uint32_t old_map = v->bm[lba];
	v->bm[lba] = new_map;
	dd_page_mark_dirty(v, dd_bm_page_of(v, lba));

	/* take the new reference before dropping the old one: old == new never frees */
	if (DD_MAP_IS_DATA(new_map)) {
		uint32_t p = DD_MAP_TO_PBN(new_map);
		if (alloc) {
			v->keys[p] = key;
			dd_page_mark_dirty(v, dd_fp_page_of(v, p));
		}
		if (v->rc[p]++ == 0)
			v->physical_used++;
		if (v->rc[p] == DD_REFCOUNT_MAX) { /* saturated: no longer a candidate */
			dd_index_remove(&v->index, v->keys[p], p);
			v->saturations++;
		}
		dd_page_mark_dirty(v, dd_rc_page_of(v, p));
		v->mapped_blocks++;
	} else if (new_map == DD_MAP_ZERO) {
		v->zero_blocks++;
	}

	if (DD_MAP_IS_DATA(old_map)) {
		uint32_t q = DD_MAP_TO_PBN(old_map);
		dd_page_mark_dirty(v, dd_rc_page_of(v, q));
		v->mapped_blocks--;
		if (--v->rc[q] == 0) {
			v->physical_used--;
			dd_index_remove(&v->index, v->keys[q], q);
			dd_alloc_defer_free(v, q, seq);
		} else if (v->rc[q] == DD_REFCOUNT_MAX - 1) {
			dd_index_insert(&v->index, v->keys[q], q); /* can take references again */
		}
	} else if (old_map == DD_MAP_ZERO) {
		v->zero_blocks--;
	}
}
