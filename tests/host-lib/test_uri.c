/* Device names and sizes: every accepted form of nvme+tcp:// URIs with the exact host, port
 * and NQN it yields, every malformed form with the exact message naming the part at fault,
 * and the size suffixes the CLI takes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "insitu/insitu.h"

static void check_ok(const char *s, const char *host, uint16_t port, const char *nqn)
{
	struct insitu_uri u;
	char err[256] = "";

	assert_int_equal(insitu_uri_parse(s, &u, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(u.host, host);
	assert_int_equal(u.port, port);
	assert_string_equal(u.nqn, nqn);
}

static void check_bad(const char *s, const char *msg)
{
	struct insitu_uri u;
	char err[256] = "";

	assert_int_equal(insitu_uri_parse(s, &u, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, msg);
}

static void uri_valid(void **state)
{
	(void)state;
	check_ok("nvme+tcp://127.0.0.1:4420/nqn.2026-11.dev.insitu:csd", "127.0.0.1", 4420,
		 "nqn.2026-11.dev.insitu:csd");
	check_ok("nvme+tcp://127.0.0.1", "127.0.0.1", 4420, "nqn.2026-11.dev.insitu:csd");
	check_ok("nvme+tcp://127.0.0.1/", "127.0.0.1", 4420, "nqn.2026-11.dev.insitu:csd");
	check_ok("nvme+tcp://csd-7.rack2.example:1", "csd-7.rack2.example", 1,
		 "nqn.2026-11.dev.insitu:csd");
	check_ok("NVME+TCP://[::1]:8009/nqn.2014-08.org.nvmexpress.discovery", "::1", 8009,
		 "nqn.2014-08.org.nvmexpress.discovery");
	check_ok("nvme+tcp://[fe80::1]:65535/nqn.a", "fe80::1", 65535, "nqn.a");
	check_ok("nvme+tcp://h/nqn.x%3Ay%2fz", "h", 4420, "nqn.x:y/z");
}

static void uri_malformed(void **state)
{
	char longnqn[300] = "nvme+tcp://h/nqn.";

	(void)state;
	check_bad("tcp://h", "'tcp://h' does not start with nvme+tcp:// "
		  "(expected nvme+tcp://HOST[:PORT][/NQN])");
	check_bad("/dev/nvme0", "'/dev/nvme0' does not start with nvme+tcp:// "
		  "(expected nvme+tcp://HOST[:PORT][/NQN])");
	check_bad("nvme+tcp://", "'nvme+tcp://': no host");
	check_bad("nvme+tcp://:4420/nqn.a", "'nvme+tcp://:4420/nqn.a': no host");
	check_bad("nvme+tcp://h:0", "'nvme+tcp://h:0': port 0 is out of range 1..65535");
	check_bad("nvme+tcp://h:65536", "'nvme+tcp://h:65536': port 65536 is out of range 1..65535");
	check_bad("nvme+tcp://h:99999999999999999999",
		  "'nvme+tcp://h:99999999999999999999': port 99999999999999999999 is out of range "
		  "1..65535");
	check_bad("nvme+tcp://h:", "'nvme+tcp://h:': port after ':' is not a number");
	check_bad("nvme+tcp://h:12a", "'nvme+tcp://h:12a': unexpected 'a' after the port");
	check_bad("nvme+tcp://[::1", "'nvme+tcp://[::1': IPv6 address has no closing ']'");
	check_bad("nvme+tcp://[::g]", "'nvme+tcp://[::g]': 'g' does not belong in an IPv6 address");
	check_bad("nvme+tcp://[]:1", "'nvme+tcp://[]:1': no host");
	check_bad("nvme+tcp://[::1]x", "'nvme+tcp://[::1]x': unexpected 'x' after the host");
	check_bad("nvme+tcp://us@h", "'nvme+tcp://us@h': '@' does not belong in a host name");
	check_bad("nvme+tcp://h/abc", "'nvme+tcp://h/abc': NQN 'abc' does not start with \"nqn.\"");
	check_bad("nvme+tcp://h/nqn.%zz", "NQN: '%zz' at byte 4 is not a hex escape");
	check_bad("nvme+tcp://h/nqn.%4", "NQN: '%' at byte 4 is not followed by two hex digits");
	check_bad("nvme+tcp://h/nqn.a b", "NQN: byte 5 is not printable ASCII (0x20)");
	check_bad("nvme+tcp://h/nqn.%0a", "NQN: byte 6 is not printable ASCII (0x0a)");
	memset(longnqn + strlen(longnqn), 'x', 220);
	longnqn[17 + 220] = '\0';
	check_bad(longnqn, "NQN is longer than 223 bytes");
}

static void size_valid(void **state)
{
	static const struct {
		const char *s;
		uint64_t v;
	} t[] = {
		{ "0", 0 }, { "4096", 4096 }, { "4K", 4096 }, { "4k", 4096 }, { "128KiB", 131072 },
		{ "1M", 1048576 }, { "1MB", 1048576 }, { "2G", 2147483648ull },
		{ "1T", 1099511627776ull }, { "10B", 10 },
		{ "18446744073709551615", UINT64_MAX }, { "16777215T", 16777215ull << 40 },
	};
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		v = 12345;
		assert_int_equal(insitu_parse_size(t[i].s, &v), 0);
		assert_true(v == t[i].v);
	}
}

static void size_invalid(void **state)
{
	static const char *bad[] = {
		"", "K", "-1", "+1", " 1", "1 K", "1X", "1KB2", "1Ki", "1.5M", "0x10",
		"18446744073709551616", "16777216T", "1BB",
	};
	uint64_t v = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(insitu_parse_size(bad[i], &v), -EINVAL);
	assert_int_equal(insitu_parse_size(NULL, &v), -EINVAL);
	assert_true(v == 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(uri_valid),
		cmocka_unit_test(uri_malformed),
		cmocka_unit_test(size_valid),
		cmocka_unit_test(size_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
