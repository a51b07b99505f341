/* CRC32C digests through ISA-L. crc32_iscsi() takes a raw register and an int length, so
 * this file owns the inversion and the splitting of long buffers; nothing else in the
 * project should call ISA-L for digests. */
#include "insitu/proto/digest.h"

#include <endian.h>
#include <isa-l/crc.h>
#include <limits.h>
#include <string.h>

/* ISA-L's length is an int; feed it at most 1 GiB at a time. */
#define CRC_CHUNK ((size_t)1 << 30)
_Static_assert(CRC_CHUNK <= INT_MAX, "CRC_CHUNK must fit crc32_iscsi's int length");

void insitu_crc32c_init(struct insitu_crc32c *c)
{
	c->raw = 0xFFFFFFFFu;
}

void insitu_crc32c_update(struct insitu_crc32c *c, const void *buf, size_t len)
{
	/* crc32_iscsi() does not write through its pointer; its prototype just lacks const. */
	unsigned char *p = (unsigned char *)(uintptr_t)buf;

	while (len > 0) {
		size_t n = len < CRC_CHUNK ? len : CRC_CHUNK;
		c->raw = crc32_iscsi(p, (int)n, c->raw);
		p += n;
		len -= n;
	}
}

uint32_t insitu_crc32c_final(const struct insitu_crc32c *c)
{
	return ~c->raw;
}

uint32_t insitu_crc32c(const void *buf, size_t len)
{
	struct insitu_crc32c c;

	insitu_crc32c_init(&c);
	insitu_crc32c_update(&c, buf, len);
	return insitu_crc32c_final(&c);
}

void insitu_digest_store(void *out, uint32_t digest)
{
	uint32_t le = htole32(digest);

	memcpy(out, &le, sizeof(le));
}

uint32_t insitu_digest_load(const void *in)
{
	uint32_t le;

	memcpy(&le, in, sizeof(le));
	return le32toh(le);
}
