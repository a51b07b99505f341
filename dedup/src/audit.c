/* The offline audit (DESIGN.md §7): recomputes reference counts from the block map, keys from
 * the data, and the index and free-space accounting from the counts, and lists every
 * disagreement with its PBN or LBA and the expected and found values. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"
#include "volume_internal.h"

struct audit {
	dedup_check_report_fn report;
	void *arg;
	uint64_t listed;
};

#define AUDIT_MAX_LINES 1000 /* after this many lines only the counters grow */

static void say(struct audit *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct audit *a, const char *fmt, ...)
{
	if (!a->report || a->listed++ >= AUDIT_MAX_LINES)
		return;
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	a->report(a->arg, line);
}

static bool pending_free(const struct dedup_volume *v, uint32_t pbn)
{
	for (uint64_t i = 0; i < v->pending_len; i++)
		if (v->pending[(v->pending_head + i) % v->pending_cap].pbn == pbn)
			return true;
	return false;
}

static void audit_counts(struct dedup_volume *v, struct audit *a, struct dedup_check_result *res,
			 uint32_t *refs)
{
	uint64_t mapped = 0, zero = 0, used = 0;
	for (uint64_t lba = 0; lba < v->lay.logical_blocks; lba++) {
		uint32_t m = v->bm[lba];
		if (DD_MAP_IS_DATA(m)) {
			refs[DD_MAP_TO_PBN(m)]++;
			mapped++;
		} else if (m == DD_MAP_ZERO) {
			zero++;
		}
	}
	for (uint64_t p = 0; p < v->lay.data_blocks; p++) {
		if (refs[p] != v->rc[p]) {
			res->refcount_mismatches++;
			say(a, "PBN %llu: stored reference count %u, the block map references it %u "
			       "times", (unsigned long long)p, v->rc[p], refs[p]);
		}
		if (v->rc[p])
			used++;
		bool free_bit = (v->free_l0[p >> 6] >> (p & 63)) & 1;
		if (free_bit && v->rc[p] != 0) {
			res->accounting_errors++;
			say(a, "PBN %llu: marked free but has %u references", (unsigned long long)p,
			    v->rc[p]);
		} else if (!free_bit && v->rc[p] == 0 && !pending_free(v, (uint32_t)p) &&
			   !dd_inflight_get(&v->inflight, (uint32_t)p)) {
			res->accounting_errors++;
			say(a, "PBN %llu: no references but not free (leaked)", (unsigned long long)p);
		}
	}
	uint64_t free_bits = 0;
	for (uint64_t w = 0; w < v->free_words; w++) {
		free_bits += (uint64_t)__builtin_popcountll(v->free_l0[w]);
		bool summary = (v->free_l1[w >> 6] >> (w & 63)) & 1;
		if (summary != (v->free_l0[w] != 0)) {
			res->accounting_errors++;
			say(a, "free bitmap summary bit %llu says %s, the word says otherwise",
			    (unsigned long long)w, summary ? "free" : "full");
		}
	}
	const struct {
		const char *name;
		uint64_t kept, counted;
	} totals[] = {
		{"free blocks", v->free_count, free_bits},
		{"PBNs in use", v->physical_used, used},
		{"LBAs mapped to data", v->mapped_blocks, mapped},
		{"LBAs mapped to the zero block", v->zero_blocks, zero},
	};
	for (size_t i = 0; i < sizeof(totals) / sizeof(totals[0]); i++)
		if (totals[i].kept != totals[i].counted) {
			res->accounting_errors++;
			say(a, "%s: the volume counts %llu, recounted %llu", totals[i].name,
			    (unsigned long long)totals[i].kept, (unsigned long long)totals[i].counted);
		}
}

static void audit_index(struct dedup_volume *v, struct audit *a, struct dedup_check_result *res,
			uint32_t *seen)
{
	const struct dd_index *ix = &v->index;
	memset(seen, 0, v->lay.data_blocks * sizeof(uint32_t));
	uint64_t entries = 0;
	for (uint64_t i = 0; i < ix->capacity; i++) {
		if (ix->tags[i] == 0)
			continue;
		entries++;
		uint32_t p = ix->pbns[i];
		if (p >= v->lay.data_blocks) {
			res->index_errors++;
			say(a, "index slot %llu: PBN %u is beyond the %llu data blocks",
			    (unsigned long long)i, p, (unsigned long long)v->lay.data_blocks);
			continue;
		}
		if (seen[p]++) {
			res->index_errors++;
			say(a, "index: PBN %u has more than one entry", p);
		}
		if (v->rc[p] == 0 && !dd_inflight_get(&v->inflight, p)) {
			res->index_errors++;
			say(a, "index: entry for PBN %u, which holds no data", p);
		} else if (v->rc[p] >= DD_REFCOUNT_MAX) {
			res->index_errors++;
			say(a, "index: entry for PBN %u, which is saturated (%u references)", p,
			    v->rc[p]);
		}
	}
	if (entries != ix->count) {
		res->index_errors++;
		say(a, "index: %llu slots used, the index counts %llu", (unsigned long long)entries,
		    (unsigned long long)ix->count);
	}
	for (uint64_t p = 0; p < v->lay.data_blocks; p++)
		if (v->rc[p] && v->rc[p] < DD_REFCOUNT_MAX &&
		    !dd_index_contains(ix, v->keys[p], (uint32_t)p)) {
			res->index_errors++;
			say(a, "index: PBN %llu (%u references) cannot be found under its key "
			       "0x%016llx", (unsigned long long)p, v->rc[p],
			    (unsigned long long)v->keys[p]);
		}
}

/* Reads the data area in large pieces and hashes every block in use. */
static int audit_data(struct dedup_volume *v, struct audit *a, struct dedup_check_result *res,
		      struct dedup_error *err)
{
	enum { CHUNK = 256 };
	uint8_t *buf = dd_io_alloc((size_t)CHUNK * DD_BLOCK_SIZE);
	if (!buf)
		return dd_err(err, -ENOMEM, "out of memory");
	for (uint64_t first = 0; first < v->lay.data_blocks; first += CHUNK) {
		uint64_t n = v->lay.data_blocks - first < CHUNK ? v->lay.data_blocks - first : CHUNK;
		bool any = false;
		for (uint64_t i = 0; i < n && !any; i++)
			any = v->rc[first + i] != 0;
		if (!any)
			continue;
		struct dedup_error e = {0};
		int rc = dd_io_sync_rw(v->io, DEDUP_IO_READ, buf, n * DD_BLOCK_SIZE,
				       (v->lay.data_start + first) * DD_BLOCK_SIZE, false,
				       "data blocks", &e);
		for (uint64_t i = 0; i < n; i++) {
			uint64_t p = first + i;
			if (!v->rc[p])
				continue;
			if (rc < 0) {
				res->read_errors++;
				say(a, "PBN %llu (block %llu): cannot read: %s", (unsigned long long)p,
				    (unsigned long long)(v->lay.data_start + p), e.msg);
				continue;
			}
			const uint8_t *b = buf + i * DD_BLOCK_SIZE;
			res->blocks_checked++;
			uint64_t key = dd_key_of(b);
			if (key != v->keys[p]) {
				res->key_mismatches++;
				say(a, "PBN %llu (block %llu): data hashes to key 0x%016llx, stored key "
				       "0x%016llx", (unsigned long long)p,
				    (unsigned long long)(v->lay.data_start + p),
				    (unsigned long long)key, (unsigned long long)v->keys[p]);
			}
			if (dd_block_is_zero(b)) {
				res->zero_data_blocks++;
				say(a, "PBN %llu: holds an all-zero block (zeros are never stored)",
				    (unsigned long long)p);
			}
		}
	}
	free(buf);
	return 0;
}

int dedup_volume_check(struct dedup_volume *v, dedup_check_report_fn report, void *arg,
		       struct dedup_check_result *res, struct dedup_error *err)
{
	memset(res, 0, sizeof(*res));
	if (v->inflight_reqs > 0)
		return dd_err(err, -EBUSY, "cannot audit with %u requests in flight",
			      v->inflight_reqs);
	struct audit a = {.report = report, .arg = arg};
	uint32_t *scratch = calloc(v->lay.data_blocks, sizeof(uint32_t));
	if (!scratch)
		return dd_err(err, -ENOMEM, "out of memory for the audit");
	audit_counts(v, &a, res, scratch);
	audit_index(v, &a, res, scratch);
	free(scratch);
	int rc = audit_data(v, &a, res, err);
	res->problems = res->refcount_mismatches + res->key_mismatches + res->index_errors +
			res->accounting_errors + res->zero_data_blocks + res->read_errors;
	if (a.listed > AUDIT_MAX_LINES && report) {
		char line[128];
		snprintf(line, sizeof(line), "... %llu more problems not listed",
			 (unsigned long long)(a.listed - AUDIT_MAX_LINES));
		report(arg, line);
	}
	return rc;
}
