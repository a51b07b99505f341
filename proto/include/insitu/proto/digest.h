/* CRC32C for NVMe/TCP header and data digests, computed by ISA-L's crc32_iscsi.
 * The digest is the standard CRC32C (init FFFFFFFFh, final XOR FFFFFFFFh) and travels
 * little-endian; these helpers hide ISA-L's raw (non-inverted) convention. */
#ifndef INSITU_PROTO_DIGEST_H
#define INSITU_PROTO_DIGEST_H

#include <stddef.h>
#include <stdint.h>

/**
 * struct insitu_crc32c - running CRC32C over data that arrives in pieces
 * @raw: ISA-L's raw register (not inverted); start with insitu_crc32c_init()
 */
struct insitu_crc32c {
	uint32_t raw;
};

/** insitu_crc32c_init() - start a CRC32C computation */
void insitu_crc32c_init(struct insitu_crc32c *c);

/**
 * insitu_crc32c_update() - feed @len bytes; any @len, including more than INT_MAX
 * @c:   running state
 * @buf: bytes (may be NULL when @len is 0)
 * @len: number of bytes
 */
void insitu_crc32c_update(struct insitu_crc32c *c, const void *buf, size_t len);

/** insitu_crc32c_final() - the CRC32C of everything fed so far (state stays usable) */
uint32_t insitu_crc32c_final(const struct insitu_crc32c *c);

/** insitu_crc32c() - one-shot CRC32C of @len bytes at @buf */
uint32_t insitu_crc32c(const void *buf, size_t len);

/** insitu_digest_store() - write @digest to @out (4 bytes) in wire (little-endian) order */
void insitu_digest_store(void *out, uint32_t digest);

/** insitu_digest_load() - read a 4-byte wire digest at @in */
uint32_t insitu_digest_load(const void *in);

#endif
