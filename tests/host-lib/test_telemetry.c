/* Decoding of the vendor telemetry log C1h: every field of a header built byte by byte at
 * the offsets proto/DESIGN.md gives, and the refusal (with its message) of each inconsistent
 * header. */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "insitu/insitu.h"

static void put16(uint8_t *b, size_t off, uint16_t v)
{
	v = htole16(v);
	memcpy(b + off, &v, 2);
}

static void put32(uint8_t *b, size_t off, uint32_t v)
{
	v = htole32(v);
	memcpy(b + off, &v, 4);
}

static void put64(uint8_t *b, size_t off, uint64_t v)
{
	v = htole64(v);
	memcpy(b + off, &v, 8);
}

/* A header with a distinct value in every field, at the documented byte offsets. */
static void build(uint8_t b[576])
{
	memset(b, 0, 576);
	put16(b, 0, 1);            /* VER */
	put16(b, 2, 512);          /* HSZ */
	put16(b, 4, 64);           /* PSZ */
	put16(b, 6, 1);            /* NPROG */
	put64(b, 8, 1795000000123ull);
	put64(b, 16, 4242);
	put16(b, 24, 4);
	put16(b, 26, 2534);
	put32(b, 28, 175);
	put64(b, 32, 999);
	put64(b, 40, 8ull << 30);
	put64(b, 48, 5ull << 30);
	put64(b, 56, 123456);
	put32(b, 64, 2);
	put32(b, 68, 3);
	put64(b, 72, 40);
	put64(b, 80, 5);
	put64(b, 88, 1000001);
	put64(b, 96, 2000002);
	put64(b, 104, 3000003);
	put64(b, 112, 4000004);
	put64(b, 120, 55555);
	put64(b, 128, 66666);
	put64(b, 136, 1ull << 40);
	put64(b, 144, 777 * 4096ull);
	put64(b, 152, 999 * 4096ull);
	put64(b, 160, 777);
	put64(b, 168, 222);
	put64(b, 176, 11);
	put32(b, 184, 1285);
}

static void decode_fields(void **state)
{
	uint8_t b[576];
	struct insitu_telemetry t;

	(void)state;
	build(b);
	assert_int_equal(insitu_telemetry_decode(b, sizeof(b), &t), 0);
	assert_int_equal(t.ver, 1);
	assert_int_equal(t.nprog, 1);
	assert_true(t.timestamp_ms == 1795000000123ull);
	assert_true(t.uptime_ms == 4242);
	assert_int_equal(t.ncpu, 4);
	assert_int_equal(t.cpu_busy, 2534);
	assert_int_equal(t.load1, 175);
	assert_true(t.cpu_time_ms == 999);
	assert_true(t.mem_total == 8ull << 30);
	assert_true(t.mem_avail == 5ull << 30);
	assert_true(t.mem_jobs == 123456);
	assert_int_equal(t.jobs_running, 2);
	assert_int_equal(t.jobs_queued, 3);
	assert_true(t.jobs_done == 40);
	assert_true(t.jobs_failed == 5);
	assert_true(t.host_read_bytes == 1000001);
	assert_true(t.host_write_bytes == 2000002);
	assert_true(t.flash_read_bytes == 3000003);
	assert_true(t.flash_write_bytes == 4000004);
	assert_true(t.read_bps == 55555);
	assert_true(t.write_bps == 66666);
	assert_true(t.cap_bytes == 1ull << 40);
	assert_true(t.phys_used == 777 * 4096ull);
	assert_true(t.logical_used == 999 * 4096ull);
	assert_true(t.unique_blocks == 777);
	assert_true(t.dedup_hits == 222);
	assert_true(t.zero_blocks == 11);
	assert_int_equal(t.dedup_ratio, 1285);
	/* the header alone is enough */
	assert_int_equal(insitu_telemetry_decode(b, 512, &t), 0);
}

static void check_bad(uint8_t *b, size_t len, const char *msg)
{
	struct insitu_telemetry t;

	assert_int_equal(insitu_telemetry_decode(b, len, &t), -EBADMSG);
	assert_string_equal(insitu_errmsg(), msg);
}

static void decode_refused(void **state)
{
	uint8_t b[576];

	(void)state;
	build(b);
	check_bad(b, 511, "telemetry log C1h: 511 bytes, the header alone is 512");
	build(b);
	put16(b, 0, 2);
	check_bad(b, sizeof(b), "telemetry log C1h: version 2, this library reads 1");
	build(b);
	put16(b, 2, 256);
	check_bad(b, sizeof(b), "telemetry log C1h: header size 256 below 512");
	build(b);
	put16(b, 4, 32);
	check_bad(b, sizeof(b), "telemetry log C1h: program entry size 32 below 64");
	build(b);
	put16(b, 26, 10001);
	check_bad(b, sizeof(b), "telemetry log C1h: CPU busy 10001 above 100.00 %");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decode_fields),
		cmocka_unit_test(decode_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
