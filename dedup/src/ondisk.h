/* The dedup on-disk format, version 1 (DESIGN.md §2): every structure that reaches the backing
 * store, as packed little-endian structs with their sizes asserted, plus the checksum and
 * validation helpers that every reader of those bytes goes through. */
#ifndef DEDUP_ONDISK_H
#define DEDUP_ONDISK_H

#include <stdint.h>
#include <string.h>

#include "error.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "dedup reads and writes its metadata as native little-endian structs: a big-endian port needs byte swapping in ondisk.c, metadata.c, journal.c and recovery.c"
#endif

#define DD_BLOCK_SIZE 4096u
#define DD_BLOCK_SHIFT 12
#define DD_MAGIC 0x50554444u /* "DDUP" */
#define DD_VERSION 1u

enum dd_kind {
	DD_KIND_SUPER = 1,
	DD_KIND_JOURNAL = 2,
	DD_KIND_DWHEADER = 3,
	DD_KIND_BLOCKMAP = 4,
	DD_KIND_REFCOUNT = 5,
	DD_KIND_FINGERPRINT = 6,
};

/* Map values (block map entries, journal old/new). */
#define DD_MAP_UNMAPPED 0u
#define DD_MAP_ZERO 1u
#define DD_MAP_PBN_BASE 2u
#define DD_MAP_IS_DATA(v) ((v) >= DD_MAP_PBN_BASE)
#define DD_MAP_TO_PBN(v) ((uint32_t)((v) - DD_MAP_PBN_BASE))
#define DD_PBN_TO_MAP(p) ((uint32_t)((p) + DD_MAP_PBN_BASE))

#define DD_REFCOUNT_MAX 254u     /* a count never goes above this (DESIGN.md §3.3) */
#define DD_REFCOUNT_INVALID 255u /* reserved; on disk it is corruption */

#define DD_MAX_LOGICAL_BLOCKS 0xffffffffull
#define DD_MAX_DATA_BLOCKS (0xffffffffull - DD_MAP_PBN_BASE)
#define DD_MAX_BACKING_BLOCKS (1ull << 36) /* 256 TiB: room for the data and its metadata */
/* Journal seqs and generations only grow; 2^62 is out of reach (146 000 years at a million
 * journal blocks a second), so larger values are corruption and cannot wrap around. */
#define DD_MAX_SEQ (1ull << 62)

/* Common header of every metadata block (DESIGN.md §2.2). */
struct dd_header {
	uint32_t magic;
	uint32_t crc;
	uint16_t version;
	uint16_t kind;
	uint32_t aux;   /* copy / entry count / slot count / page index */
	uint64_t seq;   /* superblock sequence / journal seq / dw round / page LSN */
	uint64_t nonce; /* volume identity */
} __attribute__((packed));
_Static_assert(sizeof(struct dd_header) == 32, "block header is 32 bytes");

struct dd_superblock {
	struct dd_header h;
	uint32_t incompat_features;
	uint32_t compat_features;
	uint32_t block_size;
	uint32_t refcount_max;
	uint64_t backing_blocks;
	uint64_t logical_blocks;
	uint64_t data_blocks;
	uint32_t journal_blocks;
	uint32_t dw_slots;
	uint64_t journal_start;
	uint64_t dw_start;
	uint64_t bm_start;
	uint64_t rc_start;
	uint64_t fp_start;
	uint64_t data_start;
	uint32_t bm_pages;
	uint32_t rc_pages;
	uint32_t fp_pages;
	uint32_t reserved0;
	uint64_t generation;
	uint64_t journal_tail;
	uint64_t checkpoints;
	uint64_t format_time;
	/* lifetime counters, as of this superblock's write (statistics only) */
	uint64_t stat_dedup_hits;
	uint64_t stat_verify_mismatches;
	uint64_t stat_zero_writes;
	uint64_t stat_saturations;
	uint8_t reserved[DD_BLOCK_SIZE - 208];
} __attribute__((packed));
_Static_assert(sizeof(struct dd_superblock) == DD_BLOCK_SIZE, "superblock is one block");

#define DD_JOURNAL_ALLOC 0x1u

struct dd_journal_entry {
	uint32_t lba;
	uint32_t old_map;
	uint32_t new_map;
	uint32_t flags;
	uint64_t key;
} __attribute__((packed));
_Static_assert(sizeof(struct dd_journal_entry) == 24, "journal entry is 24 bytes");

#define DD_JOURNAL_ENTRIES 168u

struct dd_journal_block {
	struct dd_header h;
	uint64_t generation;  /* superblock generation of the open that wrote it */
	uint64_t durable_seq; /* the journal was durable through this seq when it was written */
	uint8_t reserved[16];
	struct dd_journal_entry entries[DD_JOURNAL_ENTRIES];
} __attribute__((packed));
_Static_assert(sizeof(struct dd_journal_block) == DD_BLOCK_SIZE, "journal block is one block");

#define DD_DW_MAX_SLOTS 1008u

struct dd_dw_header {
	struct dd_header h;
	uint32_t page_crc[DD_DW_MAX_SLOTS];
	uint8_t reserved[DD_BLOCK_SIZE - 32 - 4 * DD_DW_MAX_SLOTS];
} __attribute__((packed));
_Static_assert(sizeof(struct dd_dw_header) == DD_BLOCK_SIZE, "doublewrite header is one block");

#define DD_BM_PER_PAGE 1016u
#define DD_RC_PER_PAGE 4064u
#define DD_FP_PER_PAGE 508u

struct dd_bm_page {
	struct dd_header h;
	uint32_t map[DD_BM_PER_PAGE];
} __attribute__((packed));
_Static_assert(sizeof(struct dd_bm_page) == DD_BLOCK_SIZE, "block map page is one block");

struct dd_rc_page {
	struct dd_header h;
	uint8_t count[DD_RC_PER_PAGE];
} __attribute__((packed));
_Static_assert(sizeof(struct dd_rc_page) == DD_BLOCK_SIZE, "refcount page is one block");

struct dd_fp_page {
	struct dd_header h;
	uint64_t key[DD_FP_PER_PAGE];
} __attribute__((packed));
_Static_assert(sizeof(struct dd_fp_page) == DD_BLOCK_SIZE, "fingerprint page is one block");

/* Layout of a volume (DESIGN.md §2.1), a pure function of its four inputs. */
struct dd_layout {
	uint64_t backing_blocks;
	uint64_t logical_blocks;
	uint32_t journal_blocks;
	uint32_t dw_slots;
	uint64_t journal_start;
	uint64_t dw_start;
	uint64_t bm_start;
	uint64_t rc_start;
	uint64_t fp_start;
	uint64_t data_start;
	uint32_t bm_pages;
	uint32_t rc_pages;
	uint32_t fp_pages;
	uint64_t data_blocks;
};

/* Computes the layout; fails with -EINVAL/-ENOSPC and a message when the inputs cannot make a
 * volume (too small for the metadata, out of the format's limits). */
int dd_layout_compute(uint64_t backing_blocks, uint64_t logical_blocks, uint32_t journal_blocks,
		      uint32_t dw_slots, struct dd_layout *out, struct dedup_error *err);

/* Default journal size for a backing store of that many blocks. */
uint32_t dd_default_journal_blocks(uint64_t backing_blocks);
#define DD_DEFAULT_DW_SLOTS 256u

/* CRC32C of a block with its crc field read as zero. */
uint32_t dd_block_crc(const void *block);
/* Fills magic, version, kind, aux, seq, nonce and the crc of a block whose body is ready. */
void dd_block_seal(void *block, enum dd_kind kind, uint32_t aux, uint64_t seq, uint64_t nonce);
/* CRC32C of arbitrary bytes (doublewrite page list). */
uint32_t dd_crc32c(const void *data, size_t len);

const char *dd_kind_name(enum dd_kind kind);

/* Checks magic, crc, version, kind and (when nonce != 0) nonce, in that order. On failure
 * returns -EBADMSG (-EPROTO for an unknown version) with a message naming `what` and the block
 * number, e.g. "refcount page 3 (block 1047): checksum mismatch (stored 0x..., computed 0x...)".
 * The message of an unwritten block (all zero) says so. */
int dd_block_verify(const void *block, enum dd_kind kind, uint64_t nonce, const char *what,
		    uint64_t blockno, struct dedup_error *err);

static inline uint64_t dd_div_round_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

#endif
