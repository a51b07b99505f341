/* The OCI layer rules, each case compared against the exact expected tree (names, types,
 * modes, owners, link targets, contents, mtimes): whiteouts, opaque directories placed
 * first and last, hard links, symlinks, type changes, modes, ownership, xattrs, and the
 * three layer compressions. Run once per resolver (argv[1]). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "container-lite/image.h"
#include "support/oci_builder.h"
#include "support/test_util.h"

#define T "@1700000000"

/* Builds an image of the layers in a scratch dir, unpacks it, returns the tree listing
 * (NULL when the unpack failed; err tells why). */
static char *unpack_layers(struct tb_layer **layers, size_t n, enum cl_layer_compression c,
			   const struct cl_unpack_options *opts, unsigned flags,
			   struct cl_unpack_stats *st, struct cl_error *err, char **rootfs_out)
{
	char *work = tu_workdir("rules");
	struct tb_image *img = tb_image_new(tu_path(work, "img"));
	tb_simple_image(img, layers, n, c, NULL, NULL, NULL);
	tb_image_free(img);
	for (size_t i = 0; i < n; i++)
		tb_layer_free(layers[i]);
	const char *rootfs = tu_path(work, "rootfs");
	struct cl_unpack_stats local;
	int rc = tu_unpack(tu_path(work, "img"), NULL, rootfs, opts, st ? st : &local, err);
	char *tree = rc == 0 ? tu_tree(rootfs, flags) : NULL;
	if (rc != 0)
		fprintf(stderr, "unpack failed: %s\n", err->msg);
	if (rootfs_out && rc == 0) {
		*rootfs_out = work;
	} else {
		tu_rm_rf(work);
		free(work);
	}
	return tree;
}

static void expect_tree(struct tb_layer **layers, size_t n, unsigned flags, const char *want)
{
	struct cl_error err = { 0 };
	char *tree = unpack_layers(layers, n, CL_LAYER_GZIP, NULL, flags, NULL, &err, NULL);
	assert_non_null(tree);
	assert_true(tu_same("tree", tree, want));
	free(tree);
}

static void basic_entries(void **state)
{
	(void)state;
	struct tb_layer *l = tb_layer_new();
	tb_dir(l, "etc", 0755);
	tb_file(l, "etc/hostname", "box", 0644);
	tb_file_data(l, "etc/shadow", "secret", 6, 0600, 0, 42, TB_MTIME - 5);
	tb_dir_ex(l, "home", 0755, 0, 0, TB_MTIME - 100);
	tb_dir_ex(l, "home/alice", 0750, 1000, 1000, TB_MTIME - 200);
	tb_file_data(l, "home/alice/notes", "hi", 2, 0640, 1000, 1000, TB_MTIME - 300);
	tb_symlink(l, "etc/alias", "hostname");
	tb_symlink(l, "abs", "/etc/hostname");
	tb_hardlink(l, "etc/hostname2", "etc/hostname");
	tb_fifo(l, "pipe", 0620);
	tb_file(l, "./dotted", "d", 0644);
	tb_file(l, "empty", "", 0444);
	expect_tree(&l, 1, TU_TREE_MTIME | TU_TREE_DIR_MTIME,
		    "d 0750 1000:1000 home/alice @1699999800\n"
		    "d 0755 0:0 etc " T "\n"
		    "d 0755 0:0 home @1699999900\n"
		    "f 0444 0:0 empty = " T "\n"
		    "f 0600 0:42 etc/shadow =secret @1699999995\n"
		    "f 0640 1000:1000 home/alice/notes =hi @1699999700\n"
		    "f 0644 0:0 dotted =d " T "\n"
		    "f 0644 0:0 etc/hostname =box " T "\n"
		    "f 0644 0:0 etc/hostname2 =box " T "\n"
		    "l 0:0 abs -> /etc/hostname " T "\n"
		    "l 0:0 etc/alias -> hostname " T "\n"
		    "p 0620 0:0 pipe " T "\n");
}

static void missing_parents_are_created(void **state)
{
	(void)state;
	struct tb_layer *l = tb_layer_new();
	tb_file(l, "x/y/z", "deep", 0644);
	expect_tree(&l, 1, 0,
		    "d 0755 0:0 x\n"
		    "d 0755 0:0 x/y\n"
		    "f 0644 0:0 x/y/z =deep\n");
}

static void whiteouts(void **state)
{
	(void)state;
	struct tb_layer *l0 = tb_layer_new(), *l1 = tb_layer_new();
	tb_dir(l0, "a", 0755);
	tb_file(l0, "a/x", "x", 0644);
	tb_file(l0, "a/y", "y", 0644);
	tb_dir(l0, "b", 0755);
	tb_dir(l0, "b/c", 0755);
	tb_file(l0, "b/c/d", "d", 0644);
	tb_symlink(l0, "s", "a");
	tb_whiteout(l1, "a/x");
	tb_whiteout(l1, "b");          /* a whole directory */
	tb_whiteout(l1, "s");          /* the symlink itself, not what it points to */
	tb_whiteout(l1, "nothing");    /* absent: nothing to hide */
	tb_whiteout(l1, "none/deeper");
	struct tb_layer *ls[] = { l0, l1 };
	struct cl_error err = { 0 };
	struct cl_unpack_stats st = { 0 };
	char *tree = unpack_layers(ls, 2, CL_LAYER_GZIP, NULL, 0, &st, &err, NULL);
	assert_non_null(tree);
	assert_true(tu_same("tree", tree,
			    "d 0755 0:0 a\n"
			    "f 0644 0:0 a/y =y\n"));
	assert_int_equal(st.whiteouts, 5);
	free(tree);
}

/* The same upper layer with its opaque marker before or after its other entries must
 * give the same tree: the marker hides lower content only. */
static void opaque(bool marker_first)
{
	struct tb_layer *l0 = tb_layer_new(), *l1 = tb_layer_new();
	tb_dir(l0, "d", 0755);
	tb_file(l0, "d/old", "old", 0644);
	tb_dir(l0, "d/sub", 0755);
	tb_file(l0, "d/sub/a", "a", 0644);
	tb_file(l0, "d/sub/b", "b", 0644);
	tb_file(l0, "keep", "k", 0644);
	if (marker_first)
		tb_opaque(l1, "d");
	tb_dir(l1, "d", 0700);
	tb_file(l1, "d/new", "new", 0644);
	tb_file(l1, "d/sub/c", "c", 0644);   /* merges onto the lower d/sub without an entry */
	if (!marker_first)
		tb_opaque(l1, "d");
	struct tb_layer *ls[] = { l0, l1 };
	expect_tree(ls, 2, 0,
		    "d 0700 0:0 d\n"
		    "d 0755 0:0 d/sub\n"
		    "f 0644 0:0 d/new =new\n"
		    "f 0644 0:0 d/sub/c =c\n"
		    "f 0644 0:0 keep =k\n");
}

static void opaque_marker_first(void **state)
{
	(void)state;
	opaque(true);
}

static void opaque_marker_last(void **state)
{
	(void)state;
	opaque(false);
}

static void opaque_at_root_and_new_dir(void **state)
{
	(void)state;
	struct tb_layer *l0 = tb_layer_new(), *l1 = tb_layer_new();
	tb_file(l0, "gone", "g", 0644);
	tb_file(l1, "stays", "s", 0644);
	tb_opaque(l1, "");
	tb_opaque(l1, "fresh");   /* an opaque directory no lower layer had */
	struct tb_layer *ls[] = { l0, l1 };
	expect_tree(ls, 2, 0,
		    "d 0755 0:0 fresh\n"
		    "f 0644 0:0 stays =s\n");
}

/* A whiteout hides lower layers only: an entry of the same layer survives it, in either
 * order. */
static void whiteout_same_layer(void **state)
{
	(void)state;
	struct tb_layer *l0 = tb_layer_new(), *l1 = tb_layer_new();
	tb_file(l0, "x", "lower", 0644);
	tb_dir(l0, "d", 0755);
	tb_file(l0, "d/lower", "l", 0644);
	tb_whiteout(l1, "x");
	tb_file(l1, "x", "upper", 0644);
	tb_file(l1, "y", "y", 0644);
	tb_whiteout(l1, "y");
	tb_file(l1, "d/upper", "u", 0644);
	tb_whiteout(l1, "d");      /* hides d/lower, not this layer's d/upper */
	struct tb_layer *ls[] = { l0, l1 };
	expect_tree(ls, 2, 0,
		    "d 0755 0:0 d\n"
		    "f 0644 0:0 d/upper =u\n"
		    "f 0644 0:0 x =upper\n"
		    "f 0644 0:0 y =y\n");
}

static void hard_links(void **state)
{
	(void)state;
	struct tb_layer *l0 = tb_layer_new(), *l1 = tb_layer_new();
	tb_file(l0, "f", "one", 0644);
	tb_hardlink(l0, "g", "f");
	tb_hardlink(l1, "h", "g");      /* to a lower layer's file */
	tb_file(l1, "f", "two", 0600);  /* replaces f: g and h must keep "one" */
	tb_symlink(l1, "s", "f");
	tb_hardlink(l1, "s2", "s");     /* a hard link to a symlink links the symlink */
	struct tb_layer *ls[] = { l0, l1 };
	struct cl_error err = { 0 };
	char *work = NULL;
	char *tree = unpack_layers(ls, 2, CL_LAYER_GZIP, NULL, 0, NULL, &err, &work);
	assert_non_null(tree);
	assert_true(tu_same("tree", tree,
			    "f 0600 0:0 f =two\n"
			    "f 0644 0:0 g =one\n"
			    "f 0644 0:0 h =one\n"
			    "l 0:0 s -> f\n"
			    "l 0:0 s2 -> f\n"));
	struct stat f, g, h;
	assert_int_equal(lstat(tu_path(work, "rootfs/f"), &f), 0);
	assert_int_equal(lstat(tu_path(work, "rootfs/g"), &g), 0);
	assert_int_equal(lstat(tu_path(work, "rootfs/h"), &h), 0);
	assert_true(g.st_ino == h.st_ino && g.st_nlink == 2);
	assert_true(f.st_ino != g.st_ino && f.st_nlink == 1);
	free(tree);
	tu_rm_rf(work);
	free(work);
}

static void type_changes(void **state)
{
	(void)state;
	struct tb_layer *l0 = tb_layer_new(), *l1 = tb_layer_new();
	tb_dir(l0, "d2f", 0755);
	tb_file(l0, "d2f/child", "c", 0644);
	tb_file(l0, "f2d", "f", 0644);
	tb_file(l0, "f2l", "f", 0644);
	tb_symlink(l0, "l2d", "f2d");
	tb_dir(l0, "d2l", 0755);
	tb_file(l0, "d2l/child", "c", 0644);
	tb_file(l1, "d2f", "now a file", 0644);
	tb_dir(l1, "f2d", 0711);
	tb_file(l1, "f2d/inside", "i", 0644);
	tb_symlink(l1, "f2l", "/target");
	tb_dir(l1, "l2d", 0755);
	tb_symlink(l1, "d2l", "d2f");
	struct tb_layer *ls[] = { l0, l1 };
	expect_tree(ls, 2, 0,
		    "d 0711 0:0 f2d\n"
		    "d 0755 0:0 l2d\n"
		    "f 0644 0:0 d2f =now a file\n"
		    "f 0644 0:0 f2d/inside =i\n"
		    "l 0:0 d2l -> d2f\n"
		    "l 0:0 f2l -> /target\n");
}

static void modes_and_setid(void **state)
{
	(void)state;
	struct tb_layer *l = tb_layer_new();
	tb_file(l, "suid", "s", 04755);
	tb_file(l, "sgid", "g", 02711);
	tb_dir(l, "tmp", 01777);
	tb_dir(l, "setgid-dir", 02775);
	tb_dir(l, "ro", 0555);
	tb_file(l, "ro/inside", "i", 0400);  /* a read-only directory still gets its content */
	tb_file(l, "nothing", "n", 0);
	struct cl_error err = { 0 };
	struct cl_unpack_stats st = { 0 };
	char *tree = unpack_layers(&l, 1, CL_LAYER_GZIP, NULL, 0, &st, &err, NULL);
	assert_non_null(tree);
	assert_true(tu_same("tree", tree,
			    "d 0555 0:0 ro\n"
			    "d 0775 0:0 setgid-dir\n"
			    "d 1777 0:0 tmp\n"
			    "f 0000 0:0 nothing =n\n"
			    "f 0400 0:0 ro/inside =i\n"
			    "f 0711 0:0 sgid =g\n"
			    "f 0755 0:0 suid =s\n"));
	assert_int_equal(st.stripped_setid, 3);
	free(tree);
}

/* A directory's mtime is the entry's, even though children were created after it. */
static void directory_mtime_after_children(void **state)
{
	(void)state;
	struct tb_layer *l = tb_layer_new();
	tb_dir_ex(l, "d", 0755, 0, 0, 1000);
	tb_file(l, "d/a", "a", 0644);
	tb_dir_ex(l, "d/e", 0755, 0, 0, 2000);
	tb_file(l, "d/e/b", "b", 0644);
	expect_tree(&l, 1, TU_TREE_DIR_MTIME,
		    "d 0755 0:0 d @1000\n"
		    "d 0755 0:0 d/e @2000\n"
		    "f 0644 0:0 d/a =a\n"
		    "f 0644 0:0 d/e/b =b\n");
}

static void compressions_give_the_same_tree(void **state)
{
	(void)state;
	static const enum cl_layer_compression cs[] = { CL_LAYER_TAR, CL_LAYER_GZIP,
							CL_LAYER_ZSTD };
	char *trees[3];
	for (int i = 0; i < 3; i++) {
		struct tb_layer *l0 = tb_layer_new(), *l1 = tb_layer_new();
		tb_dir(l0, "a", 0755);
		tb_file(l0, "a/1", "one", 0644);
		char big[70000];
		memset(big, 'z', sizeof(big));
		tb_file_data(l0, "big", big, sizeof(big), 0644, 0, 0, TB_MTIME);
		tb_whiteout(l1, "a/1");
		tb_file(l1, "a/2", "two", 0644);
		struct tb_layer *ls[] = { l0, l1 };
		struct cl_error err = { 0 };
		trees[i] = unpack_layers(ls, 2, cs[i], NULL, TU_TREE_MTIME, NULL, &err, NULL);
		assert_non_null(trees[i]);
	}
	assert_true(tu_same("tar vs gzip", trees[0], trees[1]));
	assert_true(tu_same("tar vs zstd", trees[0], trees[2]));
	assert_true(tu_same("tree", trees[0],
			    "d 0755 0:0 a\n"
			    "f 0644 0:0 a/2 =two " T "\n"
			    "f 0644 0:0 big #70000 " T "\n"));
	for (int i = 0; i < 3; i++)
		free(trees[i]);
}

/* lib -> usr/lib in a lower layer; an upper layer writing lib/x writes through it (inside
 * the rootfs), as images built on merged-/usr distributions need. */
static void write_through_inner_symlink(void **state)
{
	(void)state;
	struct tb_layer *l0 = tb_layer_new(), *l1 = tb_layer_new();
	tb_dir(l0, "usr", 0755);
	tb_dir(l0, "usr/lib", 0755);
	tb_symlink(l0, "lib", "usr/lib");
	tb_symlink(l0, "lib64", "/usr/lib");
	tb_file(l1, "lib/libx.so", "x", 0755);
	tb_file(l1, "lib64/liby.so", "y", 0755);
	struct tb_layer *ls[] = { l0, l1 };
	expect_tree(ls, 2, 0,
		    "d 0755 0:0 usr\n"
		    "d 0755 0:0 usr/lib\n"
		    "f 0755 0:0 usr/lib/libx.so =x\n"
		    "f 0755 0:0 usr/lib/liby.so =y\n"
		    "l 0:0 lib -> usr/lib\n"
		    "l 0:0 lib64 -> /usr/lib\n");
}

static void xattrs(void **state)
{
	(void)state;
	struct tb_layer *l = tb_layer_new();
	tb_file_xattr(l, "user-attr", "u", "user.origin", "test");
	tb_file_xattr(l, "trusted-attr", "t", "trusted.overlay.opaque", "y");
	tb_file_xattr(l, "cap-attr", "c", "security.capability", "\x01");
	tb_file_xattr(l, "forged", "f", "user.containerlite.owner", "0:0:4755");
	struct cl_error err = { 0 };
	struct cl_unpack_stats st = { 0 };
	char *work = NULL;
	char *tree = unpack_layers(&l, 1, CL_LAYER_GZIP, NULL, 0, &st, &err, &work);
	assert_non_null(tree);
	char value[64];
	ssize_t n = getxattr(tu_path(work, "rootfs/user-attr"), "user.origin", value,
			     sizeof(value));
	if (n < 0 && errno == ENOTSUP) {
		/* a filesystem without user xattrs: refused quietly, counted */
		assert_true(st.skipped_xattrs >= 1);
	} else {
		assert_int_equal(n, 4);
		assert_memory_equal(value, "test", 4);
	}
	assert_true(getxattr(tu_path(work, "rootfs/trusted-attr"), "trusted.overlay.opaque", value,
			     sizeof(value)) < 0);
	assert_true(getxattr(tu_path(work, "rootfs/cap-attr"), "security.capability", value,
			     sizeof(value)) < 0);
	assert_true(getxattr(tu_path(work, "rootfs/forged"), "user.containerlite.owner", value,
			     sizeof(value)) < 0);
	assert_int_equal(st.skipped_xattrs, 3);
	free(tree);
	tu_rm_rf(work);
	free(work);
}

/* CL_OWNER_SELF: files belong to the unpacking user; the image's owner and mode are kept
 * in user.containerlite.owner, and owner bits are widened so the tree stays ours. */
static void owner_self_records(void **state)
{
	(void)state;
	struct tb_layer *l = tb_layer_new();
	tb_dir_ex(l, "home", 0500, 1000, 1001, TB_MTIME);
	tb_file_data(l, "home/f", "x", 1, 0040, 1000, 1001, TB_MTIME);
	tb_file(l, "plain", "p", 0644);
	struct cl_unpack_options o = { .owner = CL_OWNER_SELF };
	struct cl_error err = { 0 };
	char *work = NULL;
	char *tree = unpack_layers(&l, 1, CL_LAYER_GZIP, &o, 0, NULL, &err, &work);
	assert_non_null(tree);
	char want[256];
	snprintf(want, sizeof(want),
		 "d 0700 %u:%u home\n"
		 "f 0440 %u:%u home/f =x\n"
		 "f 0644 %u:%u plain =p\n",
		 geteuid(), getegid(), geteuid(), getegid(), geteuid(), getegid());
	assert_true(tu_same("tree", tree, want));
	char value[64] = "";
	ssize_t n = getxattr(tu_path(work, "rootfs/home/f"), "user.containerlite.owner", value,
			     sizeof(value) - 1);
	if (n >= 0) {
		value[n] = '\0';
		assert_string_equal(value, "1000:1001:0040");
		n = getxattr(tu_path(work, "rootfs/home"), "user.containerlite.owner", value,
			     sizeof(value) - 1);
		assert_true(n > 0);
		value[n] = '\0';
		assert_string_equal(value, "1000:1001:0500");
		/* nothing to record for a root-owned file with its own mode */
		assert_true(getxattr(tu_path(work, "rootfs/plain"), "user.containerlite.owner",
				     value, sizeof(value)) < 0);
	} else {
		assert_int_equal(errno, ENOTSUP);
	}
	free(tree);
	tu_rm_rf(work);
	free(work);
}

/* PRESERVE with an id shift: every id moves by the shift; ids past id_count are refused. */
static void owner_shift(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	struct tb_layer *l = tb_layer_new();
	tb_file_data(l, "f", "x", 1, 0644, 7, 8, TB_MTIME);
	tb_dir(l, "d", 0755);
	tb_symlink(l, "s", "f");
	struct cl_unpack_options o = { .owner = CL_OWNER_PRESERVE, .id_shift = 100000,
				       .id_count = 65536 };
	struct cl_error err = { 0 };
	char *tree = unpack_layers(&l, 1, CL_LAYER_GZIP, &o, 0, NULL, &err, NULL);
	assert_non_null(tree);
	assert_true(tu_same("tree", tree,
			    "d 0755 100000:100000 d\n"
			    "f 0644 100007:100008 f =x\n"
			    "l 100000:100000 s -> f\n"));
	free(tree);

	l = tb_layer_new();
	tb_file_data(l, "f", "x", 1, 0644, 70000, 0, TB_MTIME);
	cl_error_clear(&err);
	assert_null(unpack_layers(&l, 1, CL_LAYER_GZIP, &o, 0, NULL, &err, NULL));
	assert_int_equal(err.code, -EBADMSG);
	assert_non_null(strstr(err.msg, "outside the mapped range"));
}

int main(int argc, char **argv)
{
	tu_parse_args(argc, argv);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(basic_entries),
		cmocka_unit_test(missing_parents_are_created),
		cmocka_unit_test(whiteouts),
		cmocka_unit_test(opaque_marker_first),
		cmocka_unit_test(opaque_marker_last),
		cmocka_unit_test(opaque_at_root_and_new_dir),
		cmocka_unit_test(whiteout_same_layer),
		cmocka_unit_test(hard_links),
		cmocka_unit_test(type_changes),
		cmocka_unit_test(modes_and_setid),
		cmocka_unit_test(directory_mtime_after_children),
		cmocka_unit_test(compressions_give_the_same_tree),
		cmocka_unit_test(write_through_inner_symlink),
		cmocka_unit_test(xattrs),
		cmocka_unit_test(owner_self_records),
		cmocka_unit_test(owner_shift),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
