/* Hostile layers: ".." names, absolute names, symlinks to "/" and "../..", symlinks to the
 * absolute path of a directory beside the rootfs (in the same layer or a later one),
 * hard links out of the rootfs, device nodes, entry-count and size bombs, entries that
 * would replace the root. Each either fails cleanly (error naming the entry, no rootfs, no
 * temporary directory left) or is neutralised inside the rootfs as DESIGN.md says — and
 * in every case a sentinel directory beside the rootfs is unchanged. These tests run as
 * root in CI, where only the resolver stands between a layer and the host.
 *
 * argv[1]: openat2 | fallback | seccomp (AUTO with openat2 made to return ENOSYS by a
 * seccomp filter, so the fallback is reached the way an old kernel reaches it). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>
#include <seccomp.h>

#include "container-lite/image.h"
#include "support/oci_builder.h"
#include "support/test_util.h"

#define SENTINEL_TREE "d 0755 0:0 sub\nf 0644 0:0 file =sentinel\n"

struct fixture {
	char *work;
	char sentinel[4096];   /* absolute path of the sentinel directory */
	char rootfs[4096];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->work = tu_workdir("hostile");
	snprintf(f->sentinel, sizeof(f->sentinel), "%s/sentinel", f->work);
	snprintf(f->rootfs, sizeof(f->rootfs), "%s/rootfs", f->work);
	mkdir(f->sentinel, 0755);
	mkdir(tu_path(f->sentinel, "sub"), 0755);
	FILE *fp = fopen(tu_path(f->sentinel, "file"), "w");
	fputs("sentinel", fp);
	fclose(fp);
	chmod(tu_path(f->sentinel, "file"), 0644);
	chown(f->sentinel, 0, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tu_rm_rf(f->work);
	free(f->work);
	free(f);
	return 0;
}

/* Unpacks the layers (gzip) with opts; returns the library's code. */
static int run(struct fixture *f, struct tb_layer **layers, size_t n,
	       const struct cl_unpack_options *opts, struct cl_unpack_stats *st,
	       struct cl_error *err)
{
	struct tb_image *img = tb_image_new(tu_path(f->work, "img"));
	tb_simple_image(img, layers, n, CL_LAYER_GZIP, NULL, NULL, NULL);
	tb_image_free(img);
	for (size_t i = 0; i < n; i++)
		tb_layer_free(layers[i]);
	struct cl_unpack_stats local;
	return tu_unpack(tu_path(f->work, "img"), NULL, f->rootfs, opts, st ? st : &local, err);
}

/* Nothing beside the rootfs changed, no temporary directory is left, and the rootfs
 * exists exactly when the unpack succeeded. */
static void check_outside(struct fixture *f, bool rootfs_expected)
{
	char *ls = tu_ls(f->work);
	assert_true(tu_same("work directory", ls,
			    rootfs_expected ? "img\nrootfs\nsentinel\n" : "img\nsentinel\n"));
	free(ls);
	char *tree = tu_tree(f->sentinel, 0);
	assert_true(tu_same("sentinel", tree, SENTINEL_TREE));
	free(tree);
}

static void expect_refused(struct fixture *f, struct tb_layer **layers, size_t n,
			   const struct cl_unpack_options *opts, int code, const char *needle1,
			   const char *needle2)
{
	struct cl_error err = { 0 };
	int rc = run(f, layers, n, opts, NULL, &err);
	if (rc == 0 || !strstr(err.msg, needle1) || (needle2 && !strstr(err.msg, needle2)))
		fprintf(stderr, "rc %d, message: %s\n", rc, err.msg);
	assert_int_equal(rc, code);
	assert_int_equal(err.code, code);
	assert_non_null(strstr(err.msg, needle1));
	if (needle2)
		assert_non_null(strstr(err.msg, needle2));
	check_outside(f, false);
}

static void expect_ok(struct fixture *f, struct tb_layer **layers, size_t n,
		      struct cl_unpack_stats *st)
{
	struct cl_error err = { 0 };
	int rc = run(f, layers, n, NULL, st, &err);
	if (rc != 0)
		fprintf(stderr, "unpack failed: %s\n", err.msg);
	assert_int_equal(rc, 0);
	check_outside(f, true);
}

static void dotdot_names(void **state)
{
	struct fixture *f = *state;
	struct tb_layer *l = tb_layer_new();
	tb_file(l, "ok", "fine", 0644);
	tb_file(l, "../sentinel/pwned", "x", 0644);
	expect_refused(f, &l, 1, NULL, -EBADMSG, "entry \"../sentinel/pwned\"", "\"..\"");
}

static void dotdot_inside_name(void **state)
{
	struct fixture *f = *state;
	struct tb_layer *l = tb_layer_new();
	tb_dir(l, "a", 0755);
	tb_file(l, "a/../../sentinel/pwned", "x", 0644);
	expect_refused(f, &l, 1, NULL, -EBADMSG, "a/../../sentinel/pwned", "\"..\"");
}

/* Absolute names mean "from the image root": they land inside the rootfs. */
static void absolute_names(void **state)
{
	struct fixture *f = *state;
	struct tb_layer *l = tb_layer_new();
	char abs[4200];
	snprintf(abs, sizeof(abs), "%s/pwned", f->sentinel);
	tb_file(l, "/etc/abs", "a", 0644);
	tb_file(l, abs, "x", 0644);
	expect_ok(f, &l, 1, NULL);
	char *c = tu_read(tu_path(f->rootfs, "etc/abs"));
	assert_string_equal(c, "a");
	free(c);
	char inside[8400];
	snprintf(inside, sizeof(inside), "%s%s/pwned", f->rootfs, f->sentinel);
	c = tu_read(inside);
	assert_string_equal(c, "x");
	free(c);
}

/* root -> / and up -> ../..: writing through them stays in the rootfs. */
static void symlink_to_root_and_up(void **state)
{
	struct fixture *f = *state;
	struct tb_layer *l = tb_layer_new();
	tb_symlink(l, "root", "/");
	tb_dir(l, "a", 0755);
	tb_symlink(l, "a/up", "../../../..");
	tb_file(l, "root/pwned1", "1", 0644);
	tb_file(l, "a/up/pwned2", "2", 0644);
	tb_file(l, "a/up/a/up/root/pwned3", "3", 0644);
	expect_ok(f, &l, 1, NULL);
	char *tree = tu_tree(f->rootfs, 0);
	assert_true(tu_same("rootfs", tree,
			    "d 0755 0:0 a\n"
			    "f 0644 0:0 pwned1 =1\n"
			    "f 0644 0:0 pwned2 =2\n"
			    "f 0644 0:0 pwned3 =3\n"
			    "l 0:0 a/up -> ../../../..\n"
			    "l 0:0 root -> /\n"));
	free(tree);
}

/* A symlink to the absolute host path of the sentinel, then a file through it. Where the
 * path does not exist inside the rootfs the entry is refused (dangling parent); where the
 * layer built it inside, the file lands there. The sentinel is untouched either way. */
static void symlink_to_host_path_dangling(void **state)
{
	struct fixture *f = *state;
	struct tb_layer *l = tb_layer_new();
	tb_symlink(l, "esc", f->sentinel);
	tb_file(l, "esc/pwned", "x", 0644);
	expect_refused(f, &l, 1, NULL, -EBADMSG, "entry \"esc/pwned\"", "dangling symlink");
}

static void symlink_to_host_path_resolved_inside(void **state)
{
	struct fixture *f = *state;
	struct tb_layer *l = tb_layer_new();
	tb_dir(l, f->sentinel, 0755);    /* the same absolute path, made inside the image */
	tb_symlink(l, "esc", f->sentinel);
	tb_file(l, "esc/pwned", "x", 0644);
	expect_ok(f, &l, 1, NULL);
	char inside[8400];
	snprintf(inside, sizeof(inside), "%s%s/pwned", f->rootfs, f->sentinel);
	char *c = tu_read(inside);
	assert_non_null(c);
	assert_string_equal(c, "x");
	free(c);
}

/* The symlink arrives in one layer, the write through it in the next. */
static void symlink_component_in_later_layer(void **state)
{
	struct fixture *f = *state;
	struct tb_layer *l0 = tb_layer_new(), *l1 = tb_layer_new(), *l2 = tb_layer_new();
	tb_dir(l0, "d", 0755);
	tb_file(l0, "d/x", "x", 0644);
	tb_symlink(l1, "d", "../../sentinel");   /* replaces the directory */
	tb_dir(l1, "sentinel", 0700);
	tb_file(l2, "d/pwned", "p", 0644);        /* lands in rootfs/sentinel */
	tb_opaque(l2, "d");                       /* prunes rootfs/sentinel, not the host's */
	tb_whiteout(l2, "d/file");
	struct tb_layer *ls[] = { l0, l1, l2 };
	expect_ok(f, ls, 3, NULL);
	char *tree = tu_tree(f->rootfs, 0);
	assert_true(tu_same("rootfs", tree,
			    "d 0700 0:0 sentinel\n"
			    "f 0644 0:0 sentinel/pwned =p\n"
			    "l 0:0 d -> ../../sentinel\n"));
	free(tree);
}

/* A symlink at the final component is replaced, never written through. */
static void final_symlink_is_replaced(void **state)
{
	struct fixture *f = *state;
	struct tb_layer *l0 = tb_layer_new(), *l1 = tb_layer_new();
	char target[4200];
	snprintf(target, sizeof(target), "%s/file", f->sentinel);
	tb_symlink(l0, "f", target);
	tb_symlink(l0, "g", target);
	tb_file(l1, "f", "overwritten", 0644);
	tb_dir(l1, "g", 0755);
	struct tb_layer *ls[] = { l0, l1 };
	expect_ok(f, ls, 2, NULL);
	char *tree = tu_tree(f->rootfs, 0);
	assert_true(tu_same("rootfs", tree, "d 0755 0:0 g\nf 0644 0:0 f =overwritten\n"));
	free(tree);
}

static void hardlink_dotdot(void **state)
{
	struct fixture *f = *state;
	struct tb_layer *l = tb_layer_new();
	tb_hardlink(l, "hl", "../sentinel/file");
	expect_refused(f, &l, 1, NULL, -EBADMSG, "entry \"hl\"", "\"..\"");
}

static void hardlink_to_host_passwd(void **state)
{
	struct fixture *f = *state;
	struct stat before, after;
	assert_int_equal(stat("/etc/passwd", &before), 0);
	struct tb_layer *l = tb_layer_new();
	tb_hardlink(l, "hl", "/etc/passwd");
	expect_refused(f, &l, 1, NULL, -EBADMSG, "entry \"hl\"", "does not exist");
	assert_int_equal(stat("/etc/passwd", &after), 0);
	assert_int_equal(after.st_nlink, before.st_nlink);
}

static void hardlink_through_symlink(void **state)
{
	struct fixture *f = *state;
	struct tb_layer *l = tb_layer_new();
	tb_symlink(l, "s", f->sentinel);
	tb_hardlink(l, "hl", "s/file");
	expect_refused(f, &l, 1, NULL, -EBADMSG, "entry \"hl\"", "does not exist");
	struct stat st;
	assert_int_equal(stat(tu_path(f->sentinel, "file"), &st), 0);
	assert_int_equal(st.st_nlink, 1);
}

/* A hard link to an image file is fine even when named absolutely. */
static void hardlink_absolute_inside(void **state)
{
	struct fixture *f = *state;
	struct tb_layer *l = tb_layer_new();
	tb_file(l, "etc/passwd", "root:x:0:0::/:/bin/sh", 0644);
	tb_hardlink(l, "hl", "/etc/passwd");
	expect_ok(f, &l, 1, NULL);
	struct stat a, b;
	assert_int_equal(lstat(tu_path(f->rootfs, "hl"), &a), 0);
	assert_int_equal(lstat(tu_path(f->rootfs, "etc/passwd"), &b), 0);
	assert_true(a.st_ino == b.st_ino);
}

static void device_nodes_not_created(void **state)
{
	struct fixture *f = *state;
	struct tb_layer *l0 = tb_layer_new(), *l1 = tb_layer_new();
	tb_file(l0, "dev/kmsg", "lower file", 0644);
	tb_device(l1, "dev/null2", 'c', 1, 3);
	tb_device(l1, "dev/sda", 'b', 8, 0);
	tb_device(l1, "dev/kmsg", 'c', 1, 11);   /* replaces the lower file, not created */
	struct tb_layer *ls[] = { l0, l1 };
	struct cl_unpack_stats st = { 0 };
	expect_ok(f, ls, 2, &st);
	assert_int_equal(st.skipped_devices, 3);
	char *tree = tu_tree(f->rootfs, 0);
	assert_true(tu_same("rootfs", tree, "d 0755 0:0 dev\n"));
	free(tree);
}

static void setuid_stripped(void **state)
{
	struct fixture *f = *state;
	struct tb_layer *l = tb_layer_new();
	tb_file(l, "bin/su", "su", 06755);
	struct cl_unpack_stats st = { 0 };
	expect_ok(f, &l, 1, &st);
	struct stat s;
	assert_int_equal(stat(tu_path(f->rootfs, "bin/su"), &s), 0);
	assert_int_equal(s.st_mode & 07777, 0755);
	assert_int_equal(st.stripped_setid, 1);
}

static void entry_count_limit(void **state)
{
	struct fixture *f = *state;
	struct tb_layer *l = tb_layer_new();
	char name[32];
	for (int i = 0; i < 51; i++) {
		snprintf(name, sizeof(name), "f%03d", i);
		tb_file(l, name, "", 0644);
	}
	struct cl_unpack_options o = { .max_entries = 50 };
	expect_refused(f, &l, 1, &o, -EFBIG, "entry \"f050\"", "more than 50 entries");
}

/* 64 MiB of zeros compress to ~64 KiB: the declared size stops it before any data is
 * written. */
static void size_bomb(void **state)
{
	struct fixture *f = *state;
	struct tb_layer *l = tb_layer_new();
	size_t len = 64u << 20;
	char *zeros = calloc(1, len);
	tb_file(l, "small", "s", 0644);
	tb_file_data(l, "bomb", zeros, len, 0644, 0, 0, TB_MTIME);
	free(zeros);
	struct cl_unpack_options o = { .max_total_bytes = 1u << 20 };
	expect_refused(f, &l, 1, &o, -EFBIG, "entry \"bomb\"", "limit of 1048576 bytes");
}

/* Many files each under the limit, together over it. */
static void size_bomb_cumulative(void **state)
{
	struct fixture *f = *state;
	struct tb_layer *l0 = tb_layer_new(), *l1 = tb_layer_new();
	char block[100000];
	memset(block, 'a', sizeof(block));
	char name[32];
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		tb_file_data(i < 3 ? l0 : l1, name, block, sizeof(block), 0644, 0, 0, TB_MTIME);
	}
	struct tb_layer *ls[] = { l0, l1 };
	struct cl_unpack_options o = { .max_total_bytes = 500000 };
	expect_refused(f, ls, 2, &o, -EFBIG, "entry \"f5\"", "limit of 500000 bytes");
}

static void huge_declared_size(void **state)
{
	struct fixture *f = *state;
	struct tb_layer *l = tb_layer_new();
	tb_file_truncated(l, "huge", 1LL << 40, 4096);
	expect_refused(f, &l, 1, NULL, -EFBIG, "entry \"huge\"", "limit");
}

/* A tar entry that promises more data than the stream holds. */
static void truncated_data(void **state)
{
	struct fixture *f = *state;
	struct tb_layer *l = tb_layer_new();
	tb_file_truncated(l, "short", 100000, 512);
	expect_refused(f, &l, 1, NULL, -EBADMSG, "layer 1 of 1", NULL);
}

static void root_replacement(void **state)
{
	struct fixture *f = *state;
	struct tb_layer *l = tb_layer_new();
	tb_dir(l, "./", 0700);       /* the root's own entry: ignored */
	tb_symlink(l, ".", "/tmp");
	expect_refused(f, &l, 1, NULL, -EBADMSG, "entry \".\"", "replace the root");
}

static void root_as_file(void **state)
{
	struct fixture *f = *state;
	struct tb_layer *l = tb_layer_new();
	tb_file(l, "./.", "x", 0644);
	expect_refused(f, &l, 1, NULL, -EBADMSG, "entry \"./.\"", "replace the root");
}

static void bad_whiteouts(void **state)
{
	struct fixture *f = *state;
	static const char *const names[] = { ".wh.", ".wh..", "a/.wh...", ".wh..wh.x",
					     ".wh.x/y" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct tb_layer *l = tb_layer_new();
		tb_file(l, names[i], "", 0644);
		expect_refused(f, &l, 1, NULL, -EBADMSG, names[i], NULL);
		tu_rm_rf(tu_path(f->work, "img"));
	}
}

static void symlink_loop(void **state)
{
	struct fixture *f = *state;
	struct tb_layer *l = tb_layer_new();
	tb_symlink(l, "a", "b");
	tb_symlink(l, "b", "a");
	tb_file(l, "a/x", "x", 0644);
	expect_refused(f, &l, 1, NULL, -EBADMSG, "entry \"a/x\"", "symlinks");
}

static void too_deep(void **state)
{
	struct fixture *f = *state;
	struct tb_layer *l = tb_layer_new();
	char name[1024] = "";
	for (int i = 0; i < 130; i++)
		strcat(name, "d/");
	strcat(name, "f");
	tb_file(l, name, "x", 0644);
	expect_refused(f, &l, 1, NULL, -EBADMSG, "more than 128 components", NULL);
}

/* Control bytes in a refused name are escaped in the message. */
static void control_bytes_quoted(void **state)
{
	struct fixture *f = *state;
	struct tb_layer *l = tb_layer_new();
	tb_file(l, "evil\n\x1b[2J/../x", "x", 0644);
	expect_refused(f, &l, 1, NULL, -EBADMSG, "entry \"evil\\x0a\\x1b[2J/../x\"", NULL);
}

/* A hard link whose target was whited out in the same layer, a whiteout that would
 * follow a symlink, an opaque marker under a symlink to the host: all stay inside. */
static void whiteout_through_symlink(void **state)
{
	struct fixture *f = *state;
	struct tb_layer *l0 = tb_layer_new(), *l1 = tb_layer_new();
	tb_symlink(l0, "d", f->sentinel);
	tb_symlink(l0, "e", "../sentinel");
	tb_whiteout(l1, "d/file");
	tb_whiteout(l1, "e/file");
	tb_whiteout(l1, "e/sub");
	struct tb_layer *ls[] = { l0, l1 };
	expect_ok(f, ls, 2, NULL);
	char *tree = tu_tree(f->rootfs, 0);
	char want[8400];
	snprintf(want, sizeof(want), "l 0:0 d -> %s\nl 0:0 e -> ../sentinel\n", f->sentinel);
	assert_true(tu_same("rootfs", tree, want));
	free(tree);
}

static void install_openat2_enosys(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2), 0) != 0 ||
	    seccomp_load(ctx) != 0) {
		fprintf(stderr, "cannot install the seccomp filter\n");
		exit(1);
	}
	seccomp_release(ctx);
	if (syscall(SYS_openat2, -1, "", NULL, 0) != -1 || errno != ENOSYS) {
		fprintf(stderr, "openat2 is not blocked\n");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "seccomp") == 0) {
		install_openat2_enosys();
		tu_resolver = CL_RESOLVER_AUTO;
		if (cl_rootfs_effective_resolver(CL_RESOLVER_AUTO) != CL_RESOLVER_FALLBACK) {
			fprintf(stderr, "AUTO did not fall back when openat2 returns ENOSYS\n");
			return 1;
		}
		printf("# resolver: auto, openat2 blocked by seccomp -> fallback\n");
	} else {
		tu_parse_args(argc, argv);
	}
	if (tu_resolver != CL_RESOLVER_FALLBACK &&
	    cl_rootfs_effective_resolver(tu_resolver) == CL_RESOLVER_OPENAT2 &&
	    syscall(SYS_openat2, -1, "", NULL, 0) == -1 && errno == ENOSYS) {
		printf("skipped: this kernel has no openat2 (Linux < 5.6)\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(dotdot_names, setup, teardown),
		cmocka_unit_test_setup_teardown(dotdot_inside_name, setup, teardown),
		cmocka_unit_test_setup_teardown(absolute_names, setup, teardown),
		cmocka_unit_test_setup_teardown(symlink_to_root_and_up, setup, teardown),
		cmocka_unit_test_setup_teardown(symlink_to_host_path_dangling, setup, teardown),
		cmocka_unit_test_setup_teardown(symlink_to_host_path_resolved_inside, setup,
						teardown),
		cmocka_unit_test_setup_teardown(symlink_component_in_later_layer, setup, teardown),
		cmocka_unit_test_setup_teardown(final_symlink_is_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(hardlink_dotdot, setup, teardown),
		cmocka_unit_test_setup_teardown(hardlink_to_host_passwd, setup, teardown),
		cmocka_unit_test_setup_teardown(hardlink_through_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(hardlink_absolute_inside, setup, teardown),
		cmocka_unit_test_setup_teardown(device_nodes_not_created, setup, teardown),
		cmocka_unit_test_setup_teardown(setuid_stripped, setup, teardown),
		cmocka_unit_test_setup_teardown(entry_count_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(size_bomb, setup, teardown),
		cmocka_unit_test_setup_teardown(size_bomb_cumulative, setup, teardown),
		cmocka_unit_test_setup_teardown(huge_declared_size, setup, teardown),
		cmocka_unit_test_setup_teardown(truncated_data, setup, teardown),
		cmocka_unit_test_setup_teardown(root_replacement, setup, teardown),
		cmocka_unit_test_setup_teardown(root_as_file, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_whiteouts, setup, teardown),
		cmocka_unit_test_setup_teardown(symlink_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(too_deep, setup, teardown),
		cmocka_unit_test_setup_teardown(control_bytes_quoted, setup, teardown),
		cmocka_unit_test_setup_teardown(whiteout_through_symlink, setup, teardown),
	};
	/* CMOCKA_FILTER=glob runs a subset, e.g. when checking a change by mutation */
	if (getenv("CMOCKA_FILTER"))
		cmocka_set_test_filter(getenv("CMOCKA_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
