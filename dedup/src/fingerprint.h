/* The fingerprint of a 4 KiB block (XXH3-128 from libxxhash) and the 64-bit key the index and
 * the fingerprint pages keep of it (DESIGN.md §3.1-3.2). A test build defines
 * DEDUP_TEST_KEY_BITS to keep only a few bits, forcing collisions through the verify path. */
#ifndef DEDUP_FINGERPRINT_H
#define DEDUP_FINGERPRINT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <xxhash.h>

#include "ondisk.h"

#ifdef DEDUP_TEST_KEY_BITS
#define DD_KEY_BITS DEDUP_TEST_KEY_BITS
#else
#define DD_KEY_BITS 64
#endif

static inline uint64_t dd_key_of(const void *block)
{
	XXH128_hash_t h = XXH3_128bits(block, DD_BLOCK_SIZE);
#if DD_KEY_BITS < 64
	return h.low64 & ((UINT64_C(1) << DD_KEY_BITS) - 1);
#else
	return h.low64;
#endif
}

/* True when the block is all zeros; stops at the first non-zero word, so unique data costs a
 * few loads. */
static inline bool dd_block_is_zero(const void *block)
{
	const unsigned char *b = block;
	uint64_t acc = 0;
	for (size_t off = 0; off < DD_BLOCK_SIZE; off += 64) {
		uint64_t w[8];
		memcpy(w, b + off, sizeof(w));
		acc = w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7];
		if (acc)
			return false;
	}
	return true;
}

#endif
