/* dedup: a volume of 4 KiB logical blocks over a file or block device that stores each distinct
 * block once (see dedup/DESIGN.md). Asynchronous submit/poll interface for an event loop, and
 * synchronous wrappers for tools and tests.
 *
 * Errors: every fallible function returns 0 (or a count) on success and a negative errno on
 * failure. Functions that take a `struct dedup_error *` fill it with the code and a message
 * naming the object (structure, block, LBA) and the reason; for asynchronous requests the
 * message of the most recent failure is dedup_volume_errmsg().
 *
 * Threading: a volume is driven by one thread at a time (typically the daemon's event loop).
 * No function is safe to call concurrently on the same volume; different volumes are
 * independent. Callbacks run only inside dedup_volume_poll() and the synchronous wrappers. */
#ifndef DEDUP_VOLUME_H
#define DEDUP_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DEDUP_BLOCK_SIZE 4096u

struct dedup_error {
	int code;       /* negative errno, 0 when no error is recorded */
	char msg[512];  /* names the object and the reason; empty when code == 0 */
};

struct dedup_volume;
struct dedup_io_hooks; /* dedup/testing.h */

/* ---- format ---------------------------------------------------------------------------- */

struct dedup_format_options {
	uint64_t logical_bytes;      /* size exported to users; a multiple of 4096, required */
	uint64_t physical_bytes;     /* 0: the backing store's size; a regular file is created
	                                (sparse) or extended to this size when needed */
	uint32_t journal_blocks;     /* 0: default (DESIGN.md §2.1); minimum 4 */
	uint32_t doublewrite_slots;  /* 0: default 256; 1..1008 */
};

/* Writes a new, empty volume on `path` (a regular file, created if missing, or a block
 * device). Everything previously on it becomes unreadable to dedup (new volume nonce). */
int dedup_volume_format(const char *path, const struct dedup_format_options *opts,
			struct dedup_error *err);

/* ---- open / close ---------------------------------------------------------------------- */

struct dedup_open_options {
	bool read_only;                      /* recover in memory, never write */
	uint32_t queue_depth;                /* requests in flight; 0: 64 */
	uint32_t max_request_blocks;         /* largest request in blocks; 0: 256 */
	uint32_t checkpoint_journal_percent; /* checkpoint when the journal is this full; 0: 50 */
	uint32_t checkpoint_dirty_pages;     /* ... or this many metadata pages are dirty; 0: 4096 */
	const struct dedup_io_hooks *io_hooks; /* tests only (dedup/testing.h); NULL otherwise */
};

/* Opens (and recovers) a volume. opts may be NULL for the defaults. On failure *out is NULL
 * and err names what is wrong (which structure, which block, expected versus found). */
int dedup_volume_open(const char *path, const struct dedup_open_options *opts,
		      struct dedup_volume **out, struct dedup_error *err);

/* Waits for every request, writes a final checkpoint (writable volumes) and frees the volume.
 * Returns the first error met (the volume is freed in every case). */
int dedup_volume_close(struct dedup_volume *vol, struct dedup_error *err);

/* What the last open found and did: superblock copy used, pages repaired from the doublewrite
 * area, journal entries replayed, buffered I/O fallback. One line per note; "" when none. */
const char *dedup_volume_open_report(const struct dedup_volume *vol);

uint64_t dedup_volume_logical_blocks(const struct dedup_volume *vol);

/* The volume's identity: a random non-zero value chosen at format, the same for every open
 * of that volume, different after a new format. */
uint64_t dedup_volume_id(const struct dedup_volume *vol);

/* ---- asynchronous requests ------------------------------------------------------------- */

/* Called once per request with 0 or a negative errno (-EIO, -ENOSPC, -EROFS ...). */
typedef void (*dedup_done_fn)(void *arg, int result);

#define DEDUP_FUA 0x1u /* complete only when durable (NVMe FUA) */

/* Each submit returns 0 when the request was accepted, -EAGAIN when queue_depth requests are
 * in flight (poll, then retry), -EINVAL for a range outside the volume or too many blocks,
 * -EROFS on a read-only volume, -EIO on a volume failed by an earlier metadata I/O error.
 * Buffers must stay valid until the callback; 4 KiB-aligned buffers avoid a copy. */
int dedup_volume_submit_write(struct dedup_volume *vol, uint64_t lba, uint32_t nblocks,
			      const void *buf, unsigned flags, dedup_done_fn done, void *arg);
int dedup_volume_submit_read(struct dedup_volume *vol, uint64_t lba, uint32_t nblocks,
			     void *buf, dedup_done_fn done, void *arg);
/* Maps the range to the zero block (NVMe Write Zeroes); nothing is stored. */
int dedup_volume_submit_write_zeroes(struct dedup_volume *vol, uint64_t lba, uint32_t nblocks,
				     unsigned flags, dedup_done_fn done, void *arg);
/* Unmaps the range (NVMe Dataset Management deallocate); it reads back as zeros. */
int dedup_volume_submit_trim(struct dedup_volume *vol, uint64_t lba, uint32_t nblocks,
			     unsigned flags, dedup_done_fn done, void *arg);
/* Completes when every write completed before this call is durable. */
int dedup_volume_submit_flush(struct dedup_volume *vol, dedup_done_fn done, void *arg);

/* An eventfd that becomes readable when dedup_volume_poll() has work. The caller may read it
 * to reset it; dedup_volume_poll() also resets it. */
int dedup_volume_event_fd(const struct dedup_volume *vol);

/* Reaps I/O completions, advances the engine and runs due callbacks. Never blocks. Returns
 * the number of callbacks run. */
int dedup_volume_poll(struct dedup_volume *vol);

/* Blocks until at least one I/O completion or callback is due, then polls. Returns the number
 * of callbacks run; 0 with nothing in flight. */
int dedup_volume_wait(struct dedup_volume *vol);

/* Requests in flight (accepted and not yet called back). */
unsigned dedup_volume_inflight(const struct dedup_volume *vol);

/* ---- synchronous wrappers (submit, then wait for that request) ------------------------- */

int dedup_volume_write(struct dedup_volume *vol, uint64_t lba, uint32_t nblocks,
		       const void *buf, unsigned flags);
int dedup_volume_read(struct dedup_volume *vol, uint64_t lba, uint32_t nblocks, void *buf);
int dedup_volume_write_zeroes(struct dedup_volume *vol, uint64_t lba, uint32_t nblocks,
			      unsigned flags);
int dedup_volume_trim(struct dedup_volume *vol, uint64_t lba, uint32_t nblocks, unsigned flags);
int dedup_volume_flush(struct dedup_volume *vol);

/* Message of the most recent failed request or of the failure that failed the volume. */
const char *dedup_volume_errmsg(const struct dedup_volume *vol);

/* ---- statistics ------------------------------------------------------------------------ */

struct dedup_stats {
	uint64_t logical_blocks;    /* LBAs exported */
	uint64_t data_blocks;       /* physical capacity in blocks */
	uint64_t mapped_blocks;     /* LBAs mapped to stored data */
	uint64_t zero_blocks;       /* LBAs mapped to the zero block (no storage) */
	uint64_t physical_used;     /* PBNs with a non-zero reference count */
	uint64_t physical_free;     /* PBNs allocatable now or after the next journal commit */
	uint64_t bytes_saved;       /* (mapped + zero - physical_used) * 4096 */
	/* lifetime counters since format; after a crash, as of the last checkpoint */
	uint64_t dedup_hits;        /* blocks stored by taking a reference */
	uint64_t verify_mismatches; /* index candidates whose bytes differed */
	uint64_t saturations;       /* times a block reached 254 references (its data's next
	                               copy is stored anew) */
	uint64_t zero_writes;       /* all-zero blocks written */
	uint64_t index_entries;     /* PBNs in the fingerprint index */
	uint64_t index_bytes;       /* RAM of the index: table + per-PBN keys */
	uint64_t index_capacity;    /* table slots */
	uint64_t metadata_bytes;    /* RAM of block map + refcounts + index + bitmaps */
	uint64_t journal_blocks;    /* journal size */
	uint64_t journal_used;      /* blocks between the tail and the open block */
	uint64_t journal_seq;       /* seq of the open journal block */
	uint64_t journal_durable_seq;
	uint64_t checkpoints;       /* completed since format */
	uint64_t recovery_entries;  /* journal entries replayed by the last open */
	uint64_t recovery_ns;       /* time the last open took */
	uint64_t flash_read_bytes;  /* since open: bytes read from the backing store (data,
	                               verification and metadata) */
	uint64_t flash_write_bytes; /* since open: bytes written to it (data, journal,
	                               doublewrite, checkpoints) */
	uint64_t generation;
	bool direct_io;             /* false: the filesystem refused O_DIRECT (e.g. tmpfs) */
	bool read_only;
	bool failed;                /* a metadata I/O failed; writes return -EIO */
};

void dedup_volume_get_stats(const struct dedup_volume *vol, struct dedup_stats *out);

/* ---- audit ----------------------------------------------------------------------------- */

struct dedup_check_result {
	uint64_t refcount_mismatches;   /* PBNs whose stored count differs from the block map's */
	uint64_t key_mismatches;        /* in-use PBNs whose data does not hash to the stored key */
	uint64_t index_errors;          /* missing, duplicate or stale index entries */
	uint64_t accounting_errors;     /* free bitmap / totals that disagree with the counts */
	uint64_t zero_data_blocks;      /* in-use PBNs holding an all-zero block */
	uint64_t read_errors;           /* data blocks that could not be read */
	uint64_t blocks_checked;        /* in-use PBNs read and hashed */
	uint64_t problems;              /* sum of the above error counts */
};

/* Called once per problem found, with a one-line description. */
typedef void (*dedup_check_report_fn)(void *arg, const char *line);

/* Recomputes every reference count from the block map and every key from the data, checks
 * the index and the free-space accounting (DESIGN.md §7). The volume must have no requests
 * in flight. Returns 0 when the audit ran (res->problems says what it found), or a negative
 * errno when it could not run. */
int dedup_volume_check(struct dedup_volume *vol, dedup_check_report_fn report, void *arg,
		       struct dedup_check_result *res, struct dedup_error *err);

#ifdef __cplusplus
}
#endif

#endif
