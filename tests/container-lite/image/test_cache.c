/* The layer cache: a second image sharing base layers unpacks only its own layers
 * (asserted with the stats counters), the trees equal a direct unpack, building on a
 * shared chain never changes it (its files are hard links), link and data materialisation,
 * ownership policies and id shifts kept apart, leftovers of dead builders removed, a
 * failed build publishes nothing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "container-lite/image.h"
#include "support/oci_builder.h"
#include "support/test_util.h"

struct fixture {
	char *work;
	char cache[4096];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->work = tu_workdir("cache");
	snprintf(f->cache, sizeof(f->cache), "%s/cache", f->work);
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

/* The shared base layer: the same bytes in both images, so the same diff_id. */
static struct tb_layer *base_layer(void)
{
	struct tb_layer *l = tb_layer_new();
	tb_dir(l, "etc", 0755);
	tb_file(l, "etc/os-release", "base", 0644);
	tb_file(l, "etc/motd", "hello", 0644);
	tb_dir(l, "usr", 0755);
	tb_file(l, "usr/tool", "v1", 0755);
	tb_hardlink(l, "usr/tool-link", "usr/tool");
	tb_symlink(l, "tool", "usr/tool");
	return l;
}

/* Image A: base + app A (adds files). Image B: base + app B (replaces and removes base
 * files, opaque etc). */
static void build_images(struct fixture *f)
{
	struct tb_layer *a1 = tb_layer_new(), *b1 = tb_layer_new();
	tb_file(a1, "app/a", "A", 0644);
	tb_file(a1, "usr/tool", "v2", 0755);
	tb_file(b1, "app/b", "B", 0644);
	tb_whiteout(b1, "etc/motd");
	tb_opaque(b1, "usr");
	tb_file(b1, "usr/other", "o", 0644);
	tb_dir(b1, "etc", 0700);
	struct tb_layer *la[] = { base_layer(), a1 }, *lb[] = { base_layer(), b1 };
	struct tb_image *img = tb_image_new(tu_path(f->work, "a"));
	tb_simple_image(img, la, 2, CL_LAYER_GZIP, NULL, NULL, NULL);
	tb_image_free(img);
	img = tb_image_new(tu_path(f->work, "b"));
	tb_simple_image(img, lb, 2, CL_LAYER_GZIP, NULL, NULL, NULL);
	tb_image_free(img);
	for (int i = 0; i < 2; i++) {
		tb_layer_free(la[i]);
		tb_layer_free(lb[i]);
	}
}

static const char want_a[] =
	"d 0755 0:0 app\n"
	"d 0755 0:0 etc\n"
	"d 0755 0:0 usr\n"
	"f 0644 0:0 app/a =A\n"
	"f 0644 0:0 etc/motd =hello\n"
	"f 0644 0:0 etc/os-release =base\n"
	"f 0755 0:0 usr/tool =v2\n"
	"f 0755 0:0 usr/tool-link =v1\n"
	"l 0:0 tool -> usr/tool\n";

static const char want_b[] =
	"d 0700 0:0 etc\n"
	"d 0755 0:0 app\n"
	"d 0755 0:0 usr\n"
	"f 0644 0:0 app/b =B\n"
	"f 0644 0:0 etc/os-release =base\n"
	"f 0644 0:0 usr/other =o\n"
	"l 0:0 tool -> usr/tool\n";

static const char want_base[] =
	"d 0755 0:0 etc\n"
	"d 0755 0:0 usr\n"
	"f 0644 0:0 etc/motd =hello\n"
	"f 0644 0:0 etc/os-release =base\n"
	"f 0755 0:0 usr/tool =v1\n"
	"f 0755 0:0 usr/tool-link =v1\n"
	"l 0:0 tool -> usr/tool\n";

struct opened {
	struct cl_image *img;
	struct cl_image_manifest *m;
};

static void open_image(const char *path, struct opened *o)
{
	struct cl_error err = { 0 };
	assert_int_equal(cl_image_open(path, &o->img, &err), 0);
	assert_int_equal(cl_image_select(o->img, NULL, &o->m, &err), 0);
}

static void close_image(struct opened *o)
{
	cl_image_manifest_free(o->m);
	cl_image_close(o->img);
}

static struct cl_image_cache *open_cache(struct fixture *f, enum cl_owner_policy owner)
{
	struct cl_unpack_options o = { .resolver = tu_resolver, .owner = owner };
	struct cl_image_cache *c = NULL;
	struct cl_error err = { 0 };
	assert_int_equal(cl_image_cache_open(f->cache, &o, &c, &err), 0);
	return c;
}

static char *prepare(struct cl_image_cache *c, struct opened *o, unsigned applied,
		     unsigned reused)
{
	struct cl_unpack_stats st = { 0 };
	struct cl_error err = { 0 };
	char *tree = NULL;
	int rc = cl_image_cache_prepare(c, o->img, o->m, &tree, &st, &err);
	if (rc != 0)
		fprintf(stderr, "prepare: %s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_int_equal(st.layers_applied, applied);
	assert_int_equal(st.layers_reused, reused);
	return tree;
}

static void shared_base_is_unpacked_once(void **state)
{
	struct fixture *f = *state;
	build_images(f);
	struct opened a, b;
	open_image(tu_path(f->work, "a"), &a);
	open_image(tu_path(f->work, "b"), &b);
	assert_string_equal(a.m->layers[0].chain_id, b.m->layers[0].chain_id);
	struct cl_image_cache *c = open_cache(f, CL_OWNER_AUTO);

	char *ta = prepare(c, &a, 2, 0);
	char *tree = tu_tree(ta, 0);
	assert_true(tu_same("chain A", tree, want_a));
	free(tree);

	char *tb = prepare(c, &b, 1, 1);   /* only B's own layer */
	tree = tu_tree(tb, 0);
	assert_true(tu_same("chain B", tree, want_b));
	free(tree);

	char *again = prepare(c, &a, 0, 2);
	assert_string_equal(again, ta);
	free(again);

	/* chains/: base, A, B */
	char *ls = tu_ls(tu_path(f->cache, "chains"));
	size_t lines = 0;
	for (const char *p = ls; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 3);
	free(ls);

	/* the base chain is intact after A and B were built on hard links of it */
	char base_dir[4200];
	const char *id = a.m->layers[0].chain_id;
	char *names = tu_ls(tu_path(f->cache, "chains"));
	char *line = strstr(names, id + 7);
	assert_non_null(line);
	char *nl = strchr(line, '\n');
	*nl = '\0';
	snprintf(base_dir, sizeof(base_dir), "%s/chains/sha256-%s", f->cache, line);
	free(names);
	tree = tu_tree(base_dir, 0);
	assert_true(tu_same("base chain", tree, want_base));
	free(tree);
	/* B's etc/os-release is the base chain's inode: shared, not copied */
	struct stat s1, s2;
	assert_int_equal(lstat(tu_path(base_dir, "etc/os-release"), &s1), 0);
	assert_int_equal(lstat(tu_path(tb, "etc/os-release"), &s2), 0);
	assert_true(s1.st_ino == s2.st_ino);

	free(ta);
	free(tb);
	cl_image_cache_close(c);
	close_image(&a);
	close_image(&b);
}

static void materialise_link_and_data(void **state)
{
	struct fixture *f = *state;
	build_images(f);
	struct opened a;
	open_image(tu_path(f->work, "a"), &a);
	struct cl_image_cache *c = open_cache(f, CL_OWNER_AUTO);
	char *ta = prepare(c, &a, 2, 0);
	struct cl_error err = { 0 };
	const char *linked = tu_path(f->work, "linked");
	const char *copied = tu_path(f->work, "copied");
	assert_int_equal(cl_image_cache_materialise(c, a.m, linked, CL_COPY_LINK, &err), 0);
	assert_int_equal(cl_image_cache_materialise(c, a.m, copied, CL_COPY_DATA, &err), 0);
	char *t1 = tu_tree(linked, TU_TREE_MTIME | TU_TREE_DIR_MTIME);
	char *t2 = tu_tree(copied, TU_TREE_MTIME | TU_TREE_DIR_MTIME);
	char *t0 = tu_tree(ta, TU_TREE_MTIME | TU_TREE_DIR_MTIME);
	assert_true(tu_same("linked", t1, t0));
	assert_true(tu_same("copied", t2, t0));
	free(t0);
	free(t1);
	free(t2);
	struct stat sc, sl, sd;
	assert_int_equal(lstat(tu_path(ta, "app/a"), &sc), 0);
	assert_int_equal(lstat(tu_path(linked, "app/a"), &sl), 0);
	assert_int_equal(lstat(tu_path(copied, "app/a"), &sd), 0);
	assert_true(sl.st_ino == sc.st_ino);
	assert_true(sd.st_ino != sc.st_ino);
	/* same as a direct unpack */
	const char *direct = tu_path(f->work, "direct");
	assert_int_equal(tu_unpack(tu_path(f->work, "a"), NULL, direct, NULL, NULL, &err), 0);
	char *td = tu_tree(direct, 0);
	assert_true(tu_same("direct", td, want_a));
	free(td);
	/* the target must be new */
	assert_int_equal(cl_image_cache_materialise(c, a.m, copied, CL_COPY_DATA, &err), -EEXIST);
	free(ta);
	cl_image_cache_close(c);
	close_image(&a);
}

static void ownership_policies_do_not_share(void **state)
{
	struct fixture *f = *state;
	if (geteuid() != 0)
		skip();
	build_images(f);
	struct opened a;
	open_image(tu_path(f->work, "a"), &a);
	struct cl_image_cache *c = open_cache(f, CL_OWNER_PRESERVE);
	free(prepare(c, &a, 2, 0));
	cl_image_cache_close(c);
	c = open_cache(f, CL_OWNER_SELF);
	free(prepare(c, &a, 2, 0));
	free(prepare(c, &a, 0, 2));
	cl_image_cache_close(c);
	close_image(&a);
}

static struct cl_image_cache *open_shifted(struct fixture *f, uint32_t shift, uint32_t count)
{
	struct cl_unpack_options o = { .resolver = tu_resolver, .owner = CL_OWNER_PRESERVE,
				       .id_shift = shift, .id_count = count };
	struct cl_image_cache *c = NULL;
	struct cl_error err = { 0 };
	assert_int_equal(cl_image_cache_open(f->cache, &o, &c, &err), 0);
	return c;
}

static void assert_owner(const char *tree, const char *name, uid_t uid)
{
	struct stat st;
	assert_int_equal(lstat(tu_path(tree, name), &st), 0);
	assert_int_equal(st.st_uid, uid);
	assert_int_equal(st.st_gid, uid);
}

/* Trees for different id shifts (or counts) are different trees: each range gets its own
 * chains, owned by its own host ids, and reopening a range reuses only its own. */
static void id_shifts_do_not_share(void **state)
{
	struct fixture *f = *state;
	if (geteuid() != 0)
		skip();
	build_images(f);
	struct opened a;
	open_image(tu_path(f->work, "a"), &a);
	struct cl_image_cache *c = open_shifted(f, 100000, 65536);
	char *t1 = prepare(c, &a, 2, 0);
	cl_image_cache_close(c);
	c = open_shifted(f, 200000, 65536);
	char *t2 = prepare(c, &a, 2, 0);
	assert_string_not_equal(t1, t2);
	assert_owner(t1, "app/a", 100000);
	assert_owner(t1, "etc/motd", 100000);
	assert_owner(t2, "app/a", 200000);
	assert_owner(t2, "etc/motd", 200000);
	assert_owner(t2, ".", 200000);
	/* A rootfs made from the second range is owned by it too. */
	char rootfs[4200];
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs2", f->work);
	struct cl_error err = { 0 };
	assert_int_equal(cl_image_cache_materialise(c, a.m, rootfs, CL_COPY_LINK, &err), 0);
	assert_owner(rootfs, ".", 200000);
	assert_owner(rootfs, "usr", 200000);
	assert_owner(rootfs, "usr/tool", 200000);
	cl_image_cache_close(c);
	/* The same shift with another count: ids valid under one may not be under the other. */
	c = open_shifted(f, 100000, 1000);
	free(prepare(c, &a, 2, 0));
	cl_image_cache_close(c);
	c = open_shifted(f, 100000, 65536);
	char *again = prepare(c, &a, 0, 2);
	assert_string_equal(again, t1);
	assert_owner(again, "app/a", 100000);
	free(again);
	cl_image_cache_close(c);
	free(t1);
	free(t2);
	close_image(&a);
}

static void stale_builders_removed(void **state)
{
	struct fixture *f = *state;
	struct cl_image_cache *c = open_cache(f, CL_OWNER_AUTO);
	cl_image_cache_close(c);
	pid_t child = fork();
	if (child == 0)
		_exit(0);
	waitpid(child, NULL, 0);   /* a pid that is certainly gone */
	char dead[4200], alive[4200];
	snprintf(dead, sizeof(dead), "%s/tmp/%d-abcdef", f->cache, (int)child);
	snprintf(alive, sizeof(alive), "%s/tmp/%d-abcdef", f->cache, (int)getpid());
	assert_int_equal(mkdir(dead, 0700), 0);
	assert_int_equal(mkdir(tu_path(dead, "x"), 0500), 0);
	assert_int_equal(mkdir(alive, 0700), 0);
	c = open_cache(f, CL_OWNER_AUTO);
	assert_false(tu_exists(dead));
	assert_true(tu_exists(alive));
	cl_image_cache_close(c);
}

static void failed_build_publishes_nothing(void **state)
{
	struct fixture *f = *state;
	build_images(f);
	struct opened b;
	open_image(tu_path(f->work, "b"), &b);
	char path[4200];
	snprintf(path, sizeof(path), "%s/b/blobs/sha256/%s", f->work,
		 b.m->layers[1].blob.digest + 7);
	FILE *fp = fopen(path, "r+");
	fseek(fp, 20, SEEK_SET);
	fputc('X', fp);
	fclose(fp);
	struct cl_image_cache *c = open_cache(f, CL_OWNER_AUTO);
	struct cl_unpack_stats st = { 0 };
	struct cl_error err = { 0 };
	char *tree = NULL;
	int rc = cl_image_cache_prepare(c, b.img, b.m, &tree, &st, &err);
	assert_int_equal(rc, -EBADMSG);
	assert_non_null(strstr(err.msg, b.m->layers[1].blob.digest));
	assert_null(tree);
	assert_int_equal(st.layers_applied, 1);   /* the base made it */
	char *ls = tu_ls(tu_path(f->cache, "tmp"));
	assert_string_equal(ls, "");
	free(ls);
	ls = tu_ls(tu_path(f->cache, "chains"));
	assert_non_null(strstr(ls, b.m->layers[0].chain_id + 7));
	assert_null(strstr(ls, b.m->layers[1].chain_id + 7));
	free(ls);
	cl_image_cache_close(c);
	close_image(&b);
}

int main(int argc, char **argv)
{
	tu_parse_args(argc, argv);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(shared_base_is_unpacked_once, setup, teardown),
		cmocka_unit_test_setup_teardown(materialise_link_and_data, setup, teardown),
		cmocka_unit_test_setup_teardown(ownership_policies_do_not_share, setup, teardown),
		cmocka_unit_test_setup_teardown(id_shifts_do_not_share, setup, teardown),
		cmocka_unit_test_setup_teardown(stale_builders_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_build_publishes_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
