/* CRC32C digests: known answers (the check value and RFC 3720's vectors, whose bytes are in
 * wire order), incremental updates split anywhere, wire byte order, and lengths beyond
 * INT_MAX, which ISA-L cannot take in one call. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "insitu/proto/digest.h"

static void check_value(void **state)
{
	(void)state;
	assert_int_equal(insitu_crc32c("123456789", 9), 0xE3069283u);
	assert_int_equal(insitu_crc32c(NULL, 0), 0x00000000u);
	assert_int_equal(insitu_crc32c("a", 1), 0xC1D04330u);
}

/* RFC 3720 appendix B.4: the CRC bytes as they appear on the wire. */
static void rfc3720_vectors(void **state)
{
	uint8_t buf[32], wire[4];

	(void)state;
	memset(buf, 0, sizeof(buf));
	insitu_digest_store(wire, insitu_crc32c(buf, sizeof(buf)));
	assert_memory_equal(wire, ((uint8_t[]){ 0xaa, 0x36, 0x91, 0x8a }), 4);

	memset(buf, 0xff, sizeof(buf));
	insitu_digest_store(wire, insitu_crc32c(buf, sizeof(buf)));
	assert_memory_equal(wire, ((uint8_t[]){ 0x43, 0xab, 0xa8, 0x62 }), 4);

	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	insitu_digest_store(wire, insitu_crc32c(buf, sizeof(buf)));
	assert_memory_equal(wire, ((uint8_t[]){ 0x4e, 0x79, 0xdd, 0x46 }), 4);

	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	insitu_digest_store(wire, insitu_crc32c(buf, sizeof(buf)));
	assert_memory_equal(wire, ((uint8_t[]){ 0x5c, 0xdb, 0x3f, 0x11 }), 4);
	assert_int_equal(insitu_digest_load(wire), 0x113fdb5cu);
}

static void incremental_any_split(void **state)
{
	uint8_t buf[97];

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 31 + 5);
	uint32_t whole = insitu_crc32c(buf, sizeof(buf));

	for (size_t a = 0; a <= sizeof(buf); a++) {
		for (size_t b = a; b <= sizeof(buf); b += 7) {
			struct insitu_crc32c c;

			insitu_crc32c_init(&c);
			insitu_crc32c_update(&c, buf, a);
			insitu_crc32c_update(&c, buf + a, b - a);
			insitu_crc32c_update(&c, buf + b, sizeof(buf) - b);
			assert_int_equal(insitu_crc32c_final(&c), whole);
		}
	}
}

/* 2.5 GiB of zero pages in one update must equal the same bytes fed 1 MiB at a time. */
static void longer_than_int_max(void **state)
{
	const size_t len = (size_t)5 << 29;
	static uint8_t zeros[1 << 20];

	(void)state;
	void *big = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(big != MAP_FAILED);

	struct insitu_crc32c c;
	insitu_crc32c_init(&c);
	for (size_t done = 0; done < len; done += sizeof(zeros))
		insitu_crc32c_update(&c, zeros, sizeof(zeros));

	assert_int_equal(insitu_crc32c(big, len), insitu_crc32c_final(&c));
	munmap(big, len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(check_value),
		cmocka_unit_test(rfc3720_vectors),
		cmocka_unit_test(incremental_any_split),
		cmocka_unit_test(longer_than_int_max),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
