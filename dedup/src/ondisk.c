/* Checksums, validation and geometry of the on-disk format (DESIGN.md §2): the only code that
 * decides whether a block read from the backing store may be trusted. */
#include "ondisk.h"

#include <errno.h>
#include <isa-l/crc.h>
#include <stddef.h>

/* ISA-L's AVX-512 CRC kernels return with the upper vector registers dirty; every legacy-SSE
 * instruction after that (libxxhash's XXH3 is SSE2 code) then pays the AVX-SSE transition
 * penalty, which made fingerprinting three times slower for the rest of the process. Clearing
 * the upper state after each call restores it. */
static void after_isal(void)
{
#if defined(__x86_64__)
	static int avx = -1;
	if (avx < 0)
		avx = __builtin_cpu_supports("avx") ? 1 : 0;
	if (avx)
		__asm__ volatile("vzeroupper" ::: "memory");
#endif
}

/* ISA-L takes a non-const pointer but does not write through it. */
static unsigned crc_update(const void *data, size_t len, unsigned crc)
{
	crc = crc32_iscsi((unsigned char *)(uintptr_t)data, (int)len, crc);
	after_isal();
	return crc;
}

uint32_t dd_crc32c(const void *data, size_t len)
{
	return crc_update(data, len, 0xffffffffu) ^ 0xffffffffu;
}

uint32_t dd_block_crc(const void *block)
{
	const unsigned char *b = block;
	const size_t crc_end = offsetof(struct dd_header, crc) + sizeof(uint32_t);
	static const unsigned char zero4[4];
	unsigned c = crc_update(b, offsetof(struct dd_header, crc), 0xffffffffu);
	c = crc_update(zero4, 4, c); /* the crc field counts as four zero bytes */
	c = crc_update(b + crc_end, DD_BLOCK_SIZE - crc_end, c);
	return c ^ 0xffffffffu;
}

void dd_block_seal(void *block, enum dd_kind kind, uint32_t aux, uint64_t seq, uint64_t nonce)
{
	struct dd_header *h = block;
	h->magic = DD_MAGIC;
	h->crc = 0;
	h->version = DD_VERSION;
	h->kind = (uint16_t)kind;
	h->aux = aux;
	h->seq = seq;
	h->nonce = nonce;
	h->crc = dd_block_crc(block);
}

const char *dd_kind_name(enum dd_kind kind)
{
	switch (kind) {
	case DD_KIND_SUPER: return "superblock";
	case DD_KIND_JOURNAL: return "journal block";
	case DD_KIND_DWHEADER: return "doublewrite header";
	case DD_KIND_BLOCKMAP: return "block map page";
	case DD_KIND_REFCOUNT: return "refcount page";
	case DD_KIND_FINGERPRINT: return "fingerprint page";
	}
	return "unknown block";
}

static int all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

int dd_block_verify(const void *block, enum dd_kind kind, uint64_t nonce, const char *what,
		    uint64_t blockno, struct dedup_error *err)
{
	const struct dd_header *h = block;
	if (h->magic != DD_MAGIC) {
		if (all_zero(block, DD_BLOCK_SIZE))
			return dd_err(err, -EBADMSG, "%s (block %llu): never written (all zeros)",
				      what, (unsigned long long)blockno);
		return dd_err(err, -EBADMSG, "%s (block %llu): bad magic (expected 0x%08x, found 0x%08x)",
			      what, (unsigned long long)blockno, DD_MAGIC, h->magic);
	}
	uint32_t crc = dd_block_crc(block);
	if (crc != h->crc)
		return dd_err(err, -EBADMSG,
			      "%s (block %llu): checksum mismatch (stored 0x%08x, computed 0x%08x)",
			      what, (unsigned long long)blockno, h->crc, crc);
	if (h->version != DD_VERSION)
		return dd_err(err, -EPROTO,
			      "%s (block %llu): format version %u, this library reads version %u",
			      what, (unsigned long long)blockno, h->version, DD_VERSION);
	if (h->kind != kind)
		return dd_err(err, -EBADMSG, "%s (block %llu): holds a %s (kind %u), expected kind %u",
			      what, (unsigned long long)blockno, dd_kind_name((enum dd_kind)h->kind),
			      h->kind, (unsigned)kind);
	if (nonce != 0 && h->nonce != nonce)
		return dd_err(err, -EBADMSG,
			      "%s (block %llu): belongs to another volume (nonce 0x%016llx, expected "
			      "0x%016llx)", what, (unsigned long long)blockno,
			      (unsigned long long)h->nonce, (unsigned long long)nonce);
	return 0;
}

uint32_t dd_default_journal_blocks(uint64_t backing_blocks)
{
	uint64_t j = backing_blocks / 128;
	if (j < 64)
		j = 64;
	if (j > 8192)
		j = 8192;
	return (uint32_t)j;
}

static uint64_t meta_blocks_for_data(uint64_t p)
{
	return dd_div_round_up(p, DD_RC_PER_PAGE) + dd_div_round_up(p, DD_FP_PER_PAGE);
}

int dd_layout_compute(uint64_t backing_blocks, uint64_t logical_blocks, uint32_t journal_blocks,
		      uint32_t dw_slots, struct dd_layout *out, struct dedup_error *err)
{
	memset(out, 0, sizeof(*out));
	if (logical_blocks == 0 || logical_blocks > DD_MAX_LOGICAL_BLOCKS)
		return dd_err(err, -EINVAL,
			      "logical size of %llu blocks is outside 1..%llu blocks (16 TiB)",
			      (unsigned long long)logical_blocks, DD_MAX_LOGICAL_BLOCKS);
	if (journal_blocks < 4)
		return dd_err(err, -EINVAL, "journal of %u blocks is below the minimum of 4",
			      journal_blocks);
	if (dw_slots < 1 || dw_slots > DD_DW_MAX_SLOTS)
		return dd_err(err, -EINVAL, "doublewrite area of %u slots is outside 1..%u", dw_slots,
			      DD_DW_MAX_SLOTS);

	/* 16 TiB of data plus its metadata fits far below 2^36 blocks; larger values are
	 * corruption (and would overflow the arithmetic below) */
	if (backing_blocks > DD_MAX_BACKING_BLOCKS)
		return dd_err(err, -EINVAL,
			      "backing store of %llu blocks is beyond the format's limit of %llu "
			      "blocks", (unsigned long long)backing_blocks,
			      (unsigned long long)DD_MAX_BACKING_BLOCKS);
	out->backing_blocks = backing_blocks;
	out->logical_blocks = logical_blocks;
	out->journal_blocks = journal_blocks;
	out->dw_slots = dw_slots;
	out->journal_start = 2;
	out->dw_start = out->journal_start + journal_blocks;
	out->bm_start = out->dw_start + 1 + dw_slots;
	out->bm_pages = (uint32_t)dd_div_round_up(logical_blocks, DD_BM_PER_PAGE);
	uint64_t fixed = out->bm_start + out->bm_pages;
	if (backing_blocks <= fixed + 3)
		return dd_err(err, -ENOSPC,
			      "backing store of %llu blocks is too small: the metadata alone needs "
			      "%llu blocks (%llu bytes) before any data block",
			      (unsigned long long)backing_blocks, (unsigned long long)(fixed + 2),
			      (unsigned long long)((fixed + 2) * DD_BLOCK_SIZE));
	uint64_t avail = backing_blocks - fixed;
	/* largest p with p + meta(p) <= avail: start from the proportional estimate, then
	 * step down until it fits and up while the next one still fits */
	uint64_t p = avail - avail / DD_FP_PER_PAGE - avail / DD_RC_PER_PAGE;
	while (p > 0 && p + meta_blocks_for_data(p) > avail)
		p--;
	while (p + 1 + meta_blocks_for_data(p + 1) <= avail)
		p++;
	if (p == 0)
		return dd_err(err, -ENOSPC, "backing store of %llu blocks leaves no data block",
			      (unsigned long long)backing_blocks);
	if (p > DD_MAX_DATA_BLOCKS)
		p = DD_MAX_DATA_BLOCKS;
	out->data_blocks = p;
	out->rc_start = fixed;
	out->rc_pages = (uint32_t)dd_div_round_up(p, DD_RC_PER_PAGE);
	out->fp_start = out->rc_start + out->rc_pages;
	out->fp_pages = (uint32_t)dd_div_round_up(p, DD_FP_PER_PAGE);
	out->data_start = out->fp_start + out->fp_pages;
	return 0;
}
