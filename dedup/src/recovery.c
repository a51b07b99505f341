/* Open-time recovery (DESIGN.md §6): choose a superblock, load and check every metadata page
 * (repairing torn ones from the doublewrite area), walk the journal's valid chain, replay it
 * with per-page LSN filtering, then derive the free bitmap, the index and the statistics.
 * Every byte read here is untrusted: each check names the structure and block it failed on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "volume_internal.h"

#define META_CHUNK_BLOCKS 1024u /* pages read per I/O batch: 4 MiB */

/* Validates one superblock copy beyond its header: fields, features and layout. */
static int check_super(const struct dd_superblock *sb, unsigned copy, struct dd_layout *lay,
		       struct dedup_error *err)
{
	char what[64];
	snprintf(what, sizeof(what), "superblock copy %u", copy);
	int rc = dd_block_verify(sb, DD_KIND_SUPER, 0, what, copy, err);
	if (rc < 0)
		return rc;
	if (sb->h.aux != copy)
		return dd_err(err, -EBADMSG, "%s (block %u): says it is copy %u", what, copy,
			      sb->h.aux);
	if (sb->h.nonce == 0)
		return dd_err(err, -EBADMSG, "%s (block %u): volume nonce is zero", what, copy);
	if (sb->incompat_features != 0)
		return dd_err(err, -EPROTO,
			      "%s (block %u): needs features 0x%x this library does not have", what,
			      copy, sb->incompat_features);
	if (sb->block_size != DD_BLOCK_SIZE)
		return dd_err(err, -EBADMSG, "%s (block %u): block size %u (expected %u)", what,
			      copy, sb->block_size, DD_BLOCK_SIZE);
	if (sb->refcount_max != DD_REFCOUNT_MAX)
		return dd_err(err, -EBADMSG, "%s (block %u): reference count limit %u (expected %u)",
			      what, copy, sb->refcount_max, DD_REFCOUNT_MAX);
	struct dedup_error lerr = {0};
	if (dd_layout_compute(sb->backing_blocks, sb->logical_blocks, sb->journal_blocks,
			      sb->dw_slots, lay, &lerr) < 0)
		return dd_err(err, -EBADMSG, "%s (block %u): impossible geometry: %s", what, copy,
			      lerr.msg);
	const struct {
		const char *name;
		uint64_t stored, expected;
	} fields[] = {
		{"data_blocks", sb->data_blocks, lay->data_blocks},
		{"journal_start", sb->journal_start, lay->journal_start},
		{"dw_start", sb->dw_start, lay->dw_start},
		{"bm_start", sb->bm_start, lay->bm_start},
		{"rc_start", sb->rc_start, lay->rc_start},
		{"fp_start", sb->fp_start, lay->fp_start},
		{"data_start", sb->data_start, lay->data_start},
		{"bm_pages", sb->bm_pages, lay->bm_pages},
		{"rc_pages", sb->rc_pages, lay->rc_pages},
		{"fp_pages", sb->fp_pages, lay->fp_pages},
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (fields[i].stored != fields[i].expected)
			return dd_err(err, -EBADMSG,
				      "%s (block %u): %s is %llu, the geometry gives %llu", what, copy,
				      fields[i].name, (unsigned long long)fields[i].stored,
				      (unsigned long long)fields[i].expected);
	if (sb->journal_tail == 0 || sb->generation == 0 || sb->journal_tail >= DD_MAX_SEQ ||
	    sb->generation >= DD_MAX_SEQ || sb->h.seq >= DD_MAX_SEQ)
		return dd_err(err, -EBADMSG,
			      "%s (block %u): journal tail %llu, generation %llu, sequence %llu (each "
			      "starts at 1 and stays below 2^62)", what, copy,
			      (unsigned long long)sb->journal_tail, (unsigned long long)sb->generation,
			      (unsigned long long)sb->h.seq);
	return 0;
}

static int read_superblock(struct dedup_volume *v, struct dedup_error *err)
{
	if (dd_io_size(v->io) < 2 * DD_BLOCK_SIZE)
		return dd_err(err, -EINVAL,
			      "backing store is %llu bytes: too small to hold a dedup volume (not "
			      "formatted? run insitu-dedup format)",
			      (unsigned long long)dd_io_size(v->io));
	struct dd_superblock *sb = dd_io_alloc(2 * DD_BLOCK_SIZE);
	if (!sb)
		return dd_err(err, -ENOMEM, "out of memory");
	int rc = dd_io_sync_rw(v->io, DEDUP_IO_READ, sb, 2 * DD_BLOCK_SIZE, 0, false,
			       "the superblocks", err);
	if (rc < 0) {
		free(sb);
		return rc;
	}
	struct dedup_error e[2] = {{0}, {0}};
	struct dd_layout lay[2];
	bool ok[2];
	for (unsigned c = 0; c < 2; c++)
		ok[c] = check_super(&sb[c], c, &lay[c], &e[c]) == 0;

	if (!ok[0] && !ok[1]) {
		bool blank = strstr(e[0].msg, "never written") && strstr(e[1].msg, "never written");
		bool foreign = strstr(e[0].msg, "bad magic") && strstr(e[1].msg, "bad magic");
		rc = dd_err(err, e[0].code == -EPROTO ? -EPROTO : -EBADMSG,
			    "no valid superblock: %s; %s%s", e[0].msg, e[1].msg,
			    blank || foreign ? " (not a dedup volume: format it with "
					       "insitu-dedup format)" : "");
		free(sb);
		return rc;
	}
	if (ok[0] && ok[1] && sb[0].h.nonce != sb[1].h.nonce) {
		rc = dd_err(err, -EBADMSG,
			    "superblock copies belong to different volumes (nonce 0x%016llx in "
			    "block 0, 0x%016llx in block 1)",
			    (unsigned long long)sb[0].h.nonce, (unsigned long long)sb[1].h.nonce);
		free(sb);
		return rc;
	}
	unsigned use = ok[0] && (!ok[1] || sb[0].h.seq >= sb[1].h.seq) ? 0 : 1;
	if (!ok[1 - use])
		dd_report(v, "%s; using copy %u (sequence %llu)", e[1 - use].msg, use,
			  (unsigned long long)sb[use].h.seq);

	const struct dd_superblock *s = &sb[use];
	v->lay = lay[use];
	v->nonce = s->h.nonce;
	v->sb_seq = s->h.seq;
	v->generation = s->generation;
	v->tail_seq = s->journal_tail;
	v->checkpoints = s->checkpoints;
	v->format_time = s->format_time;
	v->dedup_hits = s->stat_dedup_hits;
	v->verify_mismatches = s->stat_verify_mismatches;
	v->zero_writes = s->stat_zero_writes;
	v->saturations = s->stat_saturations;
	free(sb);

	uint64_t need = v->lay.backing_blocks * DD_BLOCK_SIZE;
	if (dd_io_size(v->io) < need)
		return dd_err(err, -EINVAL,
			      "backing store is %llu bytes but the volume was formatted for %llu "
			      "bytes: truncated or wrong device",
			      (unsigned long long)dd_io_size(v->io), (unsigned long long)need);
	return 0;
}

/* What recovery keeps between its steps. */
struct recovery {
	uint64_t *lsn;        /* [page] LSN of the page as loaded */
	uint8_t *dw_area;     /* doublewrite header + slots as read */
	int32_t *dw_slot;     /* [page] slot holding a usable copy, or -1; NULL: none at all */
	uint64_t *restored;   /* pages taken from the doublewrite area */
	uint64_t nrestored;
	uint8_t *journal;     /* the whole ring as read */
	uint64_t chain_end;   /* last valid journal seq (tail - 1 when empty) */
};

/* Keeps the slots of the latest doublewrite round that passed their checks (DESIGN.md §2.5). */
static int read_doublewrite(struct dedup_volume *v, struct recovery *rv, struct dedup_error *err)
{
	const struct dd_layout *l = &v->lay;
	size_t bytes = (size_t)(l->dw_slots + 1) * DD_BLOCK_SIZE;
	rv->dw_area = dd_io_alloc(bytes);
	if (!rv->dw_area)
		return dd_err(err, -ENOMEM, "out of memory for the doublewrite area");
	int rc = dd_io_sync_rw(v->io, DEDUP_IO_READ, rv->dw_area, bytes, l->dw_start * DD_BLOCK_SIZE,
			       false, "the doublewrite area", err);
	if (rc < 0)
		return rc;
	const struct dd_dw_header *h = (const struct dd_dw_header *)rv->dw_area;
	struct dedup_error e = {0};
	if (dd_block_verify(h, DD_KIND_DWHEADER, v->nonce, "doublewrite header", l->dw_start, &e) < 0) {
		/* torn while a round was being written: that round never reached home */
		dd_report(v, "doublewrite area not used: %s", e.msg);
		return 0;
	}
	if (h->h.aux > l->dw_slots) {
		dd_report(v, "doublewrite header (block %llu) lists %u slots, the area has %u; not used",
			  (unsigned long long)l->dw_start, h->h.aux, l->dw_slots);
		return 0;
	}
	for (uint32_t i = 0; i < h->h.aux; i++) {
		const uint8_t *page = rv->dw_area + (size_t)(1 + i) * DD_BLOCK_SIZE;
		const struct dd_header *ph = (const struct dd_header *)page;
		if (dd_crc32c(page, DD_BLOCK_SIZE) != h->page_crc[i])
			continue; /* torn in the doublewrite itself: its home was not written yet */
		uint64_t base, count;
		switch (ph->kind) {
		case DD_KIND_BLOCKMAP: base = 0; count = l->bm_pages; break;
		case DD_KIND_REFCOUNT: base = l->bm_pages; count = l->rc_pages; break;
		case DD_KIND_FINGERPRINT:
			base = (uint64_t)l->bm_pages + l->rc_pages;
			count = l->fp_pages;
			break;
		default: continue;
		}
		if (ph->aux >= count ||
		    dd_block_verify(page, (enum dd_kind)ph->kind, v->nonce, "doublewrite copy",
				    l->dw_start + 1 + i, &e) < 0) {
			dd_err_clear(&e);
			continue;
		}
		if (!rv->dw_slot) {
			rv->dw_slot = malloc(v->total_pages * sizeof(int32_t));
			if (!rv->dw_slot)
				return dd_err(err, -ENOMEM, "out of memory");
			memset(rv->dw_slot, 0xff, v->total_pages * sizeof(int32_t));
		}
		rv->dw_slot[base + ph->aux] = (int32_t)i;
	}
	return 0;
}

static const uint8_t *dw_copy(const struct recovery *rv, uint64_t page)
{
	if (!rv->dw_slot || rv->dw_slot[page] < 0)
		return NULL;
	return rv->dw_area + (size_t)(1 + rv->dw_slot[page]) * DD_BLOCK_SIZE;
}

/* Loads one page: the home copy if valid and not older than a doublewrite copy, else the
 * doublewrite copy, else the open fails naming the page. */
static int load_page(struct dedup_volume *v, struct recovery *rv, uint64_t page,
		     const uint8_t *home, struct dedup_error *err)
{
	char name[64];
	dd_page_name(v, page, name, sizeof(name));
	struct dedup_error e = {0};
	int rc = dd_block_verify(home, dd_page_kind(v, page), v->nonce, name,
				 dd_page_block(v, page), &e);
	const uint8_t *copy = dw_copy(rv, page);
	const uint8_t *use = home;
	if (copy && (rc < 0 || ((const struct dd_header *)copy)->seq >
				       ((const struct dd_header *)home)->seq)) {
		use = copy;
		if (rc < 0)
			dd_report(v, "%s; repaired from the doublewrite area", e.msg);
		rv->restored[rv->nrestored++] = page;
	} else if (rc < 0) {
		*err = e;
		return rc;
	}
	rv->lsn[page] = ((const struct dd_header *)use)->seq;
	return dd_page_load(v, page, use, err);
}

static int load_pages(struct dedup_volume *v, struct recovery *rv, struct dedup_error *err)
{
	rv->lsn = calloc(v->total_pages, sizeof(uint64_t));
	rv->restored = calloc(v->lay.dw_slots, sizeof(uint64_t));
	uint8_t *buf = dd_io_alloc((size_t)META_CHUNK_BLOCKS * DD_BLOCK_SIZE);
	if (!rv->lsn || !rv->restored || !buf) {
		free(buf);
		return dd_err(err, -ENOMEM, "out of memory for %llu metadata pages",
			      (unsigned long long)v->total_pages);
	}
	/* the three tables are contiguous on disk: read them as one region */
	int rc = 0;
	for (uint64_t first = 0; first < v->total_pages && rc == 0; first += META_CHUNK_BLOCKS) {
		uint64_t n = v->total_pages - first;
		if (n > META_CHUNK_BLOCKS)
			n = META_CHUNK_BLOCKS;
		rc = dd_io_sync_rw(v->io, DEDUP_IO_READ, buf, n * DD_BLOCK_SIZE,
				   (v->lay.bm_start + first) * DD_BLOCK_SIZE, false,
				   "the metadata pages", err);
		for (uint64_t i = 0; i < n && rc == 0; i++)
			rc = load_page(v, rv, first + i, buf + i * DD_BLOCK_SIZE, err);
	}
	free(buf);
	return rc;
}

/* Finds the valid chain of journal blocks from the tail (DESIGN.md §5.3, §6 step 5). */
static int walk_journal(struct dedup_volume *v, struct recovery *rv, struct dedup_error *err)
{
	const struct dd_layout *l = &v->lay;
	rv->journal = dd_io_alloc((size_t)l->journal_blocks * DD_BLOCK_SIZE);
	if (!rv->journal)
		return dd_err(err, -ENOMEM, "out of memory for the journal");
	int rc = dd_io_sync_rw(v->io, DEDUP_IO_READ, rv->journal,
			       (uint64_t)l->journal_blocks * DD_BLOCK_SIZE,
			       l->journal_start * DD_BLOCK_SIZE, false, "the journal", err);
	if (rc < 0)
		return rc;
	uint64_t seq = v->tail_seq, prev_gen = 0;
	for (uint32_t n = 0; n < l->journal_blocks; n++, seq++) {
		uint64_t pos = seq % l->journal_blocks;
		const struct dd_journal_block *b =
			(const struct dd_journal_block *)(rv->journal + pos * DD_BLOCK_SIZE);
		uint64_t blockno = l->journal_start + pos;
		struct dedup_error e = {0};
		char what[64];
		snprintf(what, sizeof(what), "journal block seq %llu", (unsigned long long)seq);
		if (dd_block_verify(b, DD_KIND_JOURNAL, v->nonce, what, blockno, &e) < 0) {
			/* the normal end of a journal is a block never written or from another
			 * volume; anything else is worth a line in the open report */
			if (!strstr(e.msg, "never written") && !strstr(e.msg, "another volume") &&
			    !strstr(e.msg, "bad magic"))
				dd_report(v, "journal ends before seq %llu: %s",
					  (unsigned long long)seq, e.msg);
			break;
		}
		if (b->h.seq != seq)
			break; /* a block of an earlier lap: the end of the chain */
		if (b->generation > v->generation) {
			dd_report(v, "journal ends before seq %llu: block %llu claims generation %llu, "
				  "newer than the superblock's %llu", (unsigned long long)seq,
				  (unsigned long long)blockno, (unsigned long long)b->generation,
				  (unsigned long long)v->generation);
			break;
		}
		if (b->generation < prev_gen) {
			dd_report(v, "journal ends before seq %llu: block %llu is from generation "
				  "%llu, the block before it from generation %llu (left over from "
				  "before a crash, not replayed)", (unsigned long long)seq,
				  (unsigned long long)blockno, (unsigned long long)b->generation,
				  (unsigned long long)prev_gen);
			break;
		}
		if (b->h.aux == 0 || b->h.aux > DD_JOURNAL_ENTRIES) {
			dd_report(v, "journal ends before seq %llu: block %llu claims %u entries",
				  (unsigned long long)seq, (unsigned long long)blockno, b->h.aux);
			break;
		}
		prev_gen = b->generation;
	}
	rv->chain_end = seq - 1;

	/* a torn end and a damaged block in the middle look alike; a later block of the same
	 * lap that was written when the missing one was already durable tells them apart */
	for (uint32_t d = 1; d < l->journal_blocks; d++) {
		uint64_t later = seq + d, pos = later % l->journal_blocks;
		const struct dd_journal_block *b =
			(const struct dd_journal_block *)(rv->journal + pos * DD_BLOCK_SIZE);
		struct dedup_error e = {0};
		if (dd_block_verify(b, DD_KIND_JOURNAL, v->nonce, "journal block", 0, &e) < 0 ||
		    b->h.seq != later || b->generation > v->generation)
			continue;
		if (b->durable_seq >= seq)
			return dd_err(err, -EBADMSG,
				      "journal block seq %llu (block %llu) is damaged or missing, but "
				      "journal block seq %llu (block %llu) was written after it was "
				      "durable: flushed journal entries are lost, refusing to open",
				      (unsigned long long)seq,
				      (unsigned long long)(l->journal_start + seq % l->journal_blocks),
				      (unsigned long long)later,
				      (unsigned long long)(l->journal_start + pos));
	}

	/* write-ahead rule: no page may be newer than the journal it was written after */
	for (uint64_t p = 0; p < v->total_pages; p++)
		if (rv->lsn[p] > rv->chain_end) {
			char name[64];
			dd_page_name(v, p, name, sizeof(name));
			return dd_err(err, -EBADMSG,
				      "%s (block %llu) has LSN %llu but the journal ends at seq %llu "
				      "(tail %llu): the superblock or the journal does not belong with "
				      "the metadata pages", name,
				      (unsigned long long)dd_page_block(v, p),
				      (unsigned long long)rv->lsn[p],
				      (unsigned long long)rv->chain_end,
				      (unsigned long long)v->tail_seq);
		}
	return 0;
}

/* "unmapped", "the zero block", "PBN 12" */
static const char *map_str(uint32_t m, char *buf, size_t len)
{
	if (m == DD_MAP_UNMAPPED)
		return "unmapped";
	if (m == DD_MAP_ZERO)
		return "the zero block";
	snprintf(buf, len, "PBN %u", DD_MAP_TO_PBN(m));
	return buf;
}

static int replay(struct dedup_volume *v, struct recovery *rv, struct dedup_error *err)
{
	const struct dd_layout *l = &v->lay;
	uint64_t max_map = l->data_blocks + DD_MAP_PBN_BASE - 1, entries = 0;
	for (uint64_t s = v->tail_seq; s <= rv->chain_end; s++) {
		uint64_t pos = s % l->journal_blocks;
		const struct dd_journal_block *b =
			(const struct dd_journal_block *)(rv->journal + pos * DD_BLOCK_SIZE);
		unsigned long long bno = (unsigned long long)(l->journal_start + pos);
		for (uint32_t i = 0; i < b->h.aux; i++) {
			const struct dd_journal_entry *e = &b->entries[i];
			unsigned long long sq = (unsigned long long)s;
			if (e->lba >= l->logical_blocks || e->old_map > max_map ||
			    e->new_map > max_map || (e->flags & ~DD_JOURNAL_ALLOC) != 0 ||
			    ((e->flags & DD_JOURNAL_ALLOC) && !DD_MAP_IS_DATA(e->new_map)))
				return dd_err(err, -EBADMSG,
					      "journal block seq %llu (block %llu) entry %u: invalid "
					      "(LBA %u, old 0x%x, new 0x%x, flags 0x%x)", sq, bno, i,
					      e->lba, e->old_map, e->new_map, e->flags);
			uint64_t bp = dd_bm_page_of(v, e->lba);
			if (rv->lsn[bp] < s) {
				if (v->bm[e->lba] != e->old_map) {
					char a[32], b2[32];
					return dd_err(err, -EBADMSG,
						      "journal block seq %llu (block %llu) entry %u: "
						      "LBA %u maps to %s but the entry says %s", sq,
						      bno, i, e->lba, map_str(v->bm[e->lba], a, sizeof(a)),
						      map_str(e->old_map, b2, sizeof(b2)));
				}
				v->bm[e->lba] = e->new_map;
				dd_page_mark_dirty(v, bp);
			}
			if (DD_MAP_IS_DATA(e->new_map)) {
				uint32_t p = DD_MAP_TO_PBN(e->new_map);
				uint64_t rp = dd_rc_page_of(v, p), fp = dd_fp_page_of(v, p);
				if (rv->lsn[rp] < s) {
					if ((e->flags & DD_JOURNAL_ALLOC) && v->rc[p] != 0)
						return dd_err(err, -EBADMSG,
							      "journal block seq %llu (block %llu) "
							      "entry %u allocates PBN %u, which has %u "
							      "references", sq, bno, i, p, v->rc[p]);
					if (v->rc[p] >= DD_REFCOUNT_MAX)
						return dd_err(err, -EBADMSG,
							      "journal block seq %llu (block %llu) "
							      "entry %u: PBN %u would exceed %u "
							      "references", sq, bno, i, p,
							      DD_REFCOUNT_MAX);
					v->rc[p]++;
					dd_page_mark_dirty(v, rp);
				}
				if ((e->flags & DD_JOURNAL_ALLOC) && rv->lsn[fp] < s) {
					v->keys[p] = e->key;
					dd_page_mark_dirty(v, fp);
				}
			}
			if (DD_MAP_IS_DATA(e->old_map)) {
				uint32_t q = DD_MAP_TO_PBN(e->old_map);
				uint64_t rp = dd_rc_page_of(v, q);
				if (rv->lsn[rp] < s) {
					if (v->rc[q] == 0)
						return dd_err(err, -EBADMSG,
							      "journal block seq %llu (block %llu) "
							      "entry %u: PBN %u has no reference to "
							      "drop", sq, bno, i, q);
					v->rc[q]--;
					dd_page_mark_dirty(v, rp);
				}
			}
			entries++;
		}
	}
	v->recovery_entries = entries;
	if (entries)
		dd_report(v, "replayed %llu journal entries from seq %llu to %llu",
			  (unsigned long long)entries, (unsigned long long)v->tail_seq,
			  (unsigned long long)rv->chain_end);
	return 0;
}

/* Free bitmap, index and statistics follow from the tables. */
static void derive(struct dedup_volume *v)
{
	v->mapped_blocks = v->zero_blocks = v->physical_used = 0;
	for (uint64_t lba = 0; lba < v->lay.logical_blocks; lba++) {
		uint32_t m = v->bm[lba];
		if (DD_MAP_IS_DATA(m))
			v->mapped_blocks++;
		else if (m == DD_MAP_ZERO)
			v->zero_blocks++;
	}
	for (uint64_t p = 0; p < v->lay.data_blocks; p++)
		if (v->rc[p]) {
			v->physical_used++;
			if (v->rc[p] < DD_REFCOUNT_MAX)
				dd_index_insert(&v->index, v->keys[p], (uint32_t)p);
		}
	dd_alloc_rebuild(v);
}

/* Writable open: restored pages go home before anything else can overwrite the doublewrite
 * area, then the generation moves (DESIGN.md §5.3). */
static int finish_writable(struct dedup_volume *v, struct recovery *rv, struct dedup_error *err)
{
	for (uint64_t i = 0; i < rv->nrestored; i++) {
		uint64_t page = rv->restored[i];
		int rc = dd_io_sync_rw(v->io, DEDUP_IO_WRITE, (void *)(uintptr_t)dw_copy(rv, page),
				       DD_BLOCK_SIZE, dd_page_block(v, page) * DD_BLOCK_SIZE, false,
				       "a repaired metadata page", err);
		if (rc < 0)
			return rc;
	}
	if (rv->nrestored) {
		int rc = dd_io_sync_fsync(v->io, err);
		if (rc < 0)
			return rc;
	}
	v->generation++;
	struct dd_superblock *sb = dd_io_alloc(DD_BLOCK_SIZE);
	if (!sb)
		return dd_err(err, -ENOMEM, "out of memory");
	dd_super_fill(v, sb, v->sb_seq + 1, v->tail_seq, v->checkpoints);
	int rc = dd_io_sync_rw(v->io, DEDUP_IO_WRITE, sb, DD_BLOCK_SIZE,
			       ((v->sb_seq + 1) & 1) * DD_BLOCK_SIZE, true, "the superblock", err);
	free(sb);
	if (rc < 0)
		return rc;
	v->sb_seq++;
	return 0;
}

int dd_recover(struct dedup_volume *v, struct dedup_error *err)
{
	struct recovery rv = {0};
	int rc = read_superblock(v, err);
	if (rc < 0)
		return rc;
	rc = dd_meta_alloc(v, err);
	if (rc < 0)
		return rc;
	if (dd_alloc_init(v) < 0)
		return dd_err(err, -ENOMEM, "out of memory for the allocator");

	rc = read_doublewrite(v, &rv, err);
	if (rc == 0)
		rc = load_pages(v, &rv, err);
	if (rc == 0)
		rc = walk_journal(v, &rv, err);
	if (rc == 0)
		rc = replay(v, &rv, err);
	if (rc == 0) {
		derive(v);
		v->open_seq = v->closed_seq = v->durable_seq = rv.chain_end;
		if (!v->read_only)
			rc = finish_writable(v, &rv, err);
	}
	free(rv.lsn);
	free(rv.dw_area);
	free(rv.dw_slot);
	free(rv.restored);
	free(rv.journal);
	return rc;
}
