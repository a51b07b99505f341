/* How the subsystem opens its flash: a missing, empty or never-written file is formatted; a
 * file holding anything else is refused untouched unless --format; a volume keeps its data
 * across a clean destroy/create; raw mode maps LBA n to byte n * 4096 of the file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static int setup(void **state)
{
	static struct h_env e;
	h_env_init(&e, true);
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	h_env_fini(*state);
	return 0;
}

static int create_err(struct h_env *e, char *err, size_t len)
{
	return fw_subsys_create(&e->cfg, &e->s, err, len);
}

static void write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

static void restart(struct h_env *e)
{
	char err[512];
	assert_int_equal(fw_subsys_destroy(e->s, err, sizeof(err)), 0);
	e->s = NULL;
	assert_int_equal(h_env_start(e), 0);
}

static void rw_block(struct h_env *e, bool write, uint64_t lba, uint8_t *buf)
{
	struct h_queue *a;
	struct h_queue *io = h_io_ready(e, &a);
	assert_int_equal(h_rw(io, write, lba, 1, false, buf), 0);
	h_queue_end(io);
	h_queue_end(a);
}

static void test_missing_needs_size(void **state)
{
	struct h_env *e = *state;
	char err[512] = "";
	e->cfg.flash_bytes = 0;
	assert_int_equal(create_err(e, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "missing"));
	assert_non_null(strstr(err, "--flash-size"));
	assert_int_equal(access(e->flash, F_OK), -1);
}

static void test_foreign_data_untouched(void **state)
{
	struct h_env *e = *state;
	uint8_t data[16384];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + 1);
	write_file(e->flash, data, sizeof(data));
	char err[512] = "";
	assert_true(create_err(e, err, sizeof(err)) < 0);
	assert_null(e->s);
	assert_non_null(strstr(err, "--format"));
	uint8_t back[sizeof(data)];
	int fd = open(e->flash, O_RDONLY);
	assert_int_equal(read(fd, back, sizeof(back)), (ssize_t)sizeof(back));
	close(fd);
	assert_memory_equal(back, data, sizeof(data));
	/* with --format it becomes a volume */
	e->cfg.format = true;
	assert_int_equal(h_env_start(e), 0);
}

static void test_format_and_reopen(void **state)
{
	struct h_env *e = *state;
	/* an empty file, then a blank (all-zero) one: both formatted without --format */
	write_file(e->flash, "", 0);
	assert_int_equal(h_env_start(e), 0);
	uint8_t w[4096], r[4096];
	memset(w, 0xA5, sizeof(w));
	rw_block(e, true, 42, w);
	restart(e);
	memset(r, 0, sizeof(r));
	rw_block(e, false, 42, r);
	assert_memory_equal(r, w, sizeof(w));
	/* --format over an existing volume empties it */
	e->cfg.format = true;
	restart(e);
	rw_block(e, false, 42, r);
	uint8_t zero[4096] = {0};
	assert_memory_equal(r, zero, sizeof(zero));
	char err[512];
	assert_int_equal(fw_subsys_destroy(e->s, err, sizeof(err)), 0);
	e->s = NULL;
	e->cfg.format = false;
	uint8_t *blank = calloc(1, 1u << 20);
	write_file(e->flash, blank, 1u << 20);
	free(blank);
	assert_int_equal(h_env_start(e), 0);
}

static void test_raw_mapping(void **state)
{
	struct h_env *e = *state;
	e->cfg.dedup = false;
	assert_int_equal(h_env_start(e), 0);
	uint8_t w[4096], r[4096];
	for (size_t i = 0; i < sizeof(w); i++)
		w[i] = (uint8_t)(i ^ 0x5c);
	rw_block(e, true, 7, w);
	restart(e);
	int fd = open(e->flash, O_RDONLY);
	assert_int_equal(pread(fd, r, sizeof(r), 7 * 4096), (ssize_t)sizeof(r));
	close(fd);
	assert_memory_equal(r, w, sizeof(w));
	rw_block(e, false, 7, r);
	assert_memory_equal(r, w, sizeof(w));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing_needs_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_data_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format_and_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw_mapping, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
