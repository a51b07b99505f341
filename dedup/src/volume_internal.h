/* The in-memory state of an open volume and the interfaces between the engine's parts:
 * metadata tables (metadata.c), allocator (allocator.c), journal (journal.c), checkpoints
 * (checkpoint.c), recovery (recovery.c) and the request engine (engine.c). */
#ifndef DEDUP_VOLUME_INTERNAL_H
#define DEDUP_VOLUME_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "dedup/testing.h"
#include "dedup/volume.h"
#include "error.h"
#include "fpindex.h"
#include "io.h"
#include "ondisk.h"

#define DD_OPS_PER_REQ 16u   /* block operations in flight per request */
#define DD_JOURNAL_BUFS 64u  /* journal blocks in memory: open + closed + being written */
#define DD_RUN_MAX 256u      /* blocks one coalesced data I/O may carry (1 MiB) */

struct dedup_volume;
struct dd_req;

/* An operation that looked up a PBN without holding a reference to it (a read or a verify):
 * freed PBNs are not reused until such readers finish (DESIGN.md §3.4). */
struct dd_reader {
	struct dd_reader *prev, *next;
	uint64_t epoch;
	bool active;
};

enum dd_op_state {
	OP_IDLE = 0,
	OP_READ_IO,      /* reading a mapped block for a read request */
	OP_VERIFY_IO,    /* reading a candidate to compare */
	OP_FOLLOWING,    /* waiting for an in-flight write of the same data */
	OP_DATA_IO,      /* writing a newly allocated block */
	OP_WAIT_SPACE,   /* parked: no free PBN until pending frees are released */
	OP_WAIT_JOURNAL, /* parked: no journal space for its entry */
};

/* One 4 KiB block of a request; a read op covers a run of blocks (DESIGN.md §4.2). */
struct dd_op {
	struct dd_req *req;
	struct dedup_volume *vol;
	uint32_t index;        /* block index within the request */
	uint32_t lba;
	uint32_t nblocks;      /* blocks this op covers: 1, or a read's run */
	enum dd_op_state state;
	bool active;
	uint8_t *data;         /* write source or read destination (4 KiB) */
	uint8_t *bounce;       /* 4 KiB aligned: verify reads, unaligned caller buffers */
	uint64_t key;
	uint32_t pbn;          /* candidate being verified, or the allocated PBN */
	uint32_t pending_map;  /* map value waiting for journal space */
	bool pending_alloc;
	bool waited;           /* did asynchronous verify reads since collecting candidates */
	uint32_t *cand;        /* candidate PBNs from the index, in probe order */
	uint32_t ncand, icand, cand_cap;
	uint32_t cand_inline[4];
	struct dd_op *leader;        /* the in-flight write this op follows */
	struct dd_op *followers;     /* ops following this one */
	struct dd_op *next_follower;
	struct dd_op *wait_next;     /* parking list link */
	struct dd_op *run_next;      /* write plug, then the other ops riding on this op's I/O */
	struct dd_reader reader;
	struct dd_ioreq io;
};

enum dd_req_kind { REQ_WRITE, REQ_READ, REQ_ZEROES, REQ_TRIM, REQ_FLUSH };

struct dd_req {
	struct dedup_volume *vol;
	enum dd_req_kind kind;
	unsigned flags;
	uint64_t lba;
	uint32_t nblocks;
	uint8_t *buf;
	bool aligned;
	dedup_done_fn done;
	void *arg;
	uint32_t next_block;  /* next block to start */
	uint32_t active_ops;
	uint32_t done_blocks;
	bool pumping;
	bool completed;
	int result;
	uint64_t commit_target; /* durable seq it waits for (FUA, flush) */
	struct dd_req *next;    /* free list / completion queue / commit waiters */
	struct dd_op ops[DD_OPS_PER_REQ];
};

struct dd_pending_free {
	uint32_t pbn;
	uint64_t seq;   /* journal block holding the freeing entry */
	uint64_t epoch; /* reader epoch counter at the time of freeing */
};

/* Small PBN -> op map of allocations whose data write is in flight. */
struct dd_inflight_map {
	uint32_t *pbn1;  /* pbn + 1; 0 = empty */
	struct dd_op **op;
	uint32_t mask;
};

struct dd_jbuf {
	struct dd_journal_block *blk;
	struct dd_ioreq io;
	struct dedup_volume *vol;
	uint64_t seq;
};

enum dd_ckpt_state {
	CKPT_IDLE = 0,
	CKPT_WAIT_JOURNAL,
	CKPT_DW_WRITE,
	CKPT_DW_SYNC,
	CKPT_HOME_WRITE,
	CKPT_HOME_SYNC,
	CKPT_SUPER_WRITE,
};

struct dedup_volume {
	struct dd_io *io;
	char *path;
	bool read_only;
	bool failed;
	char errmsg[512];
	char report[2048];

	/* tunables */
	uint32_t queue_depth;
	uint32_t max_request_blocks;
	uint32_t ckpt_journal_percent;
	uint32_t ckpt_dirty_pages;

	/* geometry and identity */
	struct dd_layout lay;
	uint64_t nonce;
	uint64_t generation;
	uint64_t sb_seq;        /* sequence of the newest superblock written or read */
	uint64_t checkpoints;
	uint64_t format_time;

	/* metadata tables (DESIGN.md §1.1) */
	uint32_t *bm;           /* [logical_blocks] map values */
	uint8_t *rc;            /* [data_blocks] reference counts */
	uint64_t *keys;         /* [data_blocks] fingerprint keys */
	uint64_t *dirty;        /* bit per page: bm pages, then rc pages, then fp pages */
	uint64_t total_pages;
	uint64_t dirty_count;
	struct dd_index index;

	/* allocator */
	uint64_t *free_l0;      /* bit per PBN: free and allocatable */
	uint64_t *free_l1;      /* bit per free_l0 word: that word is non-zero */
	uint64_t free_words;
	uint64_t free_count;    /* bits set in free_l0 */
	uint64_t alloc_cursor;  /* PBN where the next search starts: after the last allocated */
	struct dd_pending_free *pending;
	uint64_t pending_head, pending_len, pending_cap;
	struct dd_reader *readers_head, *readers_tail;
	uint64_t reader_epoch;
	struct dd_inflight_map inflight;

	/* journal (DESIGN.md §5.2) */
	uint64_t tail_seq;      /* first seq recovery needs */
	uint64_t open_seq;      /* block accepting entries; == closed_seq when none is open */
	uint32_t open_count;
	uint64_t closed_seq;
	uint64_t durable_seq;
	bool round_busy;
	uint64_t round_last;
	uint32_t round_pending;
	bool data_dirty;        /* a data write completed since the last fdatasync was issued */
	struct dd_ioreq round_fsync;
	struct dd_jbuf jbufs[DD_JOURNAL_BUFS];

	/* checkpoint (DESIGN.md §5.4) */
	enum dd_ckpt_state ckpt_state;
	uint64_t ckpt_s0;
	uint64_t ckpt_lsn;
	uint64_t ckpt_round;
	uint32_t *ckpt_pages;
	uint64_t ckpt_npages, ckpt_pos;
	uint32_t ckpt_batch;
	uint32_t ckpt_pending;
	uint8_t *ckpt_buf;      /* dw header + dw_slots pages, contiguous */
	struct dd_ioreq ckpt_io[DD_DW_MAX_SLOTS + 1];
	struct dd_ioreq ckpt_fsync;
	struct dd_superblock *sb_buf;

	/* requests */
	struct dd_req *reqs;
	uint8_t *bounce_arena;
	struct dd_req *free_reqs;
	unsigned inflight_reqs;
	struct dd_req *done_head, *done_tail;
	struct dd_req *commit_waiters;
	struct dd_op *space_waiters;
	struct dd_op *journal_waiters;
	struct dd_op *plug_head, *plug_tail; /* allocated blocks whose data write is not queued */
	bool retry_space, retry_journal;

	/* statistics */
	uint64_t mapped_blocks, zero_blocks, physical_used;
	uint64_t dedup_hits, verify_mismatches, saturations, zero_writes; /* lifetime */
	uint64_t recovery_entries, recovery_ns;
};

/* ---- metadata.c ---- */
int dd_meta_alloc(struct dedup_volume *v, struct dedup_error *err);
void dd_meta_free(struct dedup_volume *v);
void dd_page_mark_dirty(struct dedup_volume *v, uint64_t page);
static inline uint64_t dd_bm_page_of(const struct dedup_volume *v, uint64_t lba)
{
	(void)v;
	return lba / DD_BM_PER_PAGE;
}
static inline uint64_t dd_rc_page_of(const struct dedup_volume *v, uint64_t pbn)
{
	return v->lay.bm_pages + pbn / DD_RC_PER_PAGE;
}
static inline uint64_t dd_fp_page_of(const struct dedup_volume *v, uint64_t pbn)
{
	return (uint64_t)v->lay.bm_pages + v->lay.rc_pages + pbn / DD_FP_PER_PAGE;
}
/* Home block of a global page id. */
uint64_t dd_page_block(const struct dedup_volume *v, uint64_t page);
/* Writes the page's current in-memory content, sealed with lsn, into out (one block). */
void dd_page_encode(const struct dedup_volume *v, uint64_t page, uint64_t lsn, void *out);
/* Validates a page read from disk (header already verified) and loads it into memory; lsn is
 * returned. Fails naming the page and entry for values outside the format. */
int dd_page_load(struct dedup_volume *v, uint64_t page, const void *blk, struct dedup_error *err);
/* "block map page 3" etc. */
void dd_page_name(const struct dedup_volume *v, uint64_t page, char *buf, size_t len);
enum dd_kind dd_page_kind(const struct dedup_volume *v, uint64_t page);
/* Applies one mapping change at run time (DESIGN.md §3.1 step 7): updates the block map, the
 * counts, the index, the statistics and dirty bits, and queues a freed PBN. */
void dd_meta_apply(struct dedup_volume *v, uint32_t lba, uint32_t new_map, bool alloc,
		   uint64_t key, uint64_t seq);

/* ---- allocator.c ---- */
int dd_alloc_init(struct dedup_volume *v);
void dd_alloc_free(struct dedup_volume *v);
/* Rebuilds the free bitmap from the refcounts (open). */
void dd_alloc_rebuild(struct dedup_volume *v);
/* Takes a free PBN; false when none is allocatable now. */
bool dd_alloc_get(struct dedup_volume *v, uint32_t *pbn);
/* Returns a PBN that was allocated but never referenced (its data write failed). */
void dd_alloc_put_unused(struct dedup_volume *v, uint32_t pbn);
void dd_alloc_defer_free(struct dedup_volume *v, uint32_t pbn, uint64_t seq);
/* Releases pending frees whose journal entry is durable and whose readers are gone. */
void dd_alloc_release(struct dedup_volume *v);
bool dd_alloc_has_pending(const struct dedup_volume *v);
void dd_reader_register(struct dedup_volume *v, struct dd_reader *r);
void dd_reader_unregister(struct dedup_volume *v, struct dd_reader *r);
int dd_inflight_init(struct dd_inflight_map *m, uint32_t max_entries);
void dd_inflight_free(struct dd_inflight_map *m);
void dd_inflight_put(struct dd_inflight_map *m, uint32_t pbn, struct dd_op *op);
struct dd_op *dd_inflight_get(const struct dd_inflight_map *m, uint32_t pbn);
void dd_inflight_del(struct dd_inflight_map *m, uint32_t pbn);

/* ---- journal.c ---- */
int dd_journal_init(struct dedup_volume *v);
void dd_journal_free(struct dedup_volume *v);
/* Records a mapping change: applies it (dd_meta_apply) and appends its entry. -EAGAIN when
 * there is no journal space; the caller parks and retries. */
int dd_journal_append(struct dedup_volume *v, uint32_t lba, uint32_t new_map, bool alloc,
		      uint64_t key);
/* The seq a flush issued now must wait for (closing the open block if it has entries). */
uint64_t dd_journal_flush_target(struct dedup_volume *v);
/* Starts a commit round if blocks wait to be written and none is in flight. */
void dd_journal_kick(struct dedup_volume *v);
void dd_journal_close_open(struct dedup_volume *v);
uint64_t dd_journal_used(const struct dedup_volume *v);

/* ---- checkpoint.c ---- */
int dd_ckpt_init(struct dedup_volume *v);
void dd_ckpt_free(struct dedup_volume *v);
/* Starts a checkpoint if none is running (DESIGN.md §5.4). */
void dd_ckpt_start(struct dedup_volume *v);
/* Called after every journal round: continues a checkpoint waiting for the journal, and
 * starts one when the thresholds are crossed. */
void dd_ckpt_progress(struct dedup_volume *v);
/* Fills and seals a superblock from the volume's state (does not write it). */
void dd_super_fill(const struct dedup_volume *v, struct dd_superblock *sb, uint64_t seq,
		   uint64_t journal_tail, uint64_t checkpoints);

/* ---- engine.c ---- */
int dd_engine_init(struct dedup_volume *v);
void dd_engine_free(struct dedup_volume *v);
/* Marks the volume failed (first message wins) and fails everything parked. */
void dd_volume_fail(struct dedup_volume *v, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Wakes requests whose commit target is now durable and parked ops that may proceed. */
void dd_engine_after_round(struct dedup_volume *v);
void dd_engine_after_checkpoint(struct dedup_volume *v);
/* Queues the data writes allocated since the last call, coalesced, and submits all I/O. */
void dd_engine_submit(struct dedup_volume *v);
/* One pass of the loop: reap, retry parked ops, submit, run callbacks. */
int dd_engine_poll(struct dedup_volume *v);

/* ---- recovery.c ---- */
int dd_recover(struct dedup_volume *v, struct dedup_error *err);

/* ---- volume.c ---- */
void dd_report(struct dedup_volume *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
