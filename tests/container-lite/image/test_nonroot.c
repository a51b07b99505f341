/* Unpacking without privileges, as on a laptop: the test drops to nobody (65534) in a
 * child when run as root. Files belong to the unpacking user, the image's owner and mode
 * are recorded, read-only directories still get their content and can be removed, the
 * cache works, and a failure leaves nothing behind. */
#include <errno.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "container-lite/image.h"
#include "support/oci_builder.h"
#include "support/test_util.h"

#define NOBODY 65534

static char *work;

static void build_images(void)
{
	struct tb_layer *l0 = tb_layer_new(), *l1 = tb_layer_new();
	tb_file(l0, "etc/passwd", "root:x:0:0::/:/bin/sh\nalice:x:1000:1000::/home:/bin/sh\n",
		0644);
	tb_dir(l0, "ro", 0555);
	tb_file(l0, "ro/f", "r", 0400);
	tb_dir_ex(l0, "home", 0700, 1000, 1000, TB_MTIME);
	tb_file_data(l0, "home/x", "x", 1, 0600, 1000, 1000, TB_MTIME);
	tb_file(l0, "suid", "s", 04755);
	tb_symlink(l0, "link", "ro/f");
	tb_hardlink(l0, "hard", "ro/f");
	tb_fifo(l0, "fifo", 0600);
	tb_whiteout(l1, "ro/f");       /* removing inside a read-only directory */
	tb_file(l1, "ro/g", "g", 0444);
	struct tb_layer *ls[] = { l0, l1 };
	struct tb_image *img = tb_image_new(tu_path(work, "img"));
	struct tb_config cfg = { .user = "alice" };
	tb_simple_image(img, ls, 2, CL_LAYER_GZIP, &cfg, NULL, NULL);
	tb_image_free(img);

	struct tb_layer *h = tb_layer_new();
	tb_dir(h, "locked", 0500);
	tb_file(h, "locked/inside", "i", 0400);
	tb_file(h, "../escape", "e", 0644);
	img = tb_image_new(tu_path(work, "hostile"));
	tb_simple_image(img, &h, 1, CL_LAYER_GZIP, NULL, NULL, NULL);
	tb_image_free(img);
	tb_layer_free(l0);
	tb_layer_free(l1);
	tb_layer_free(h);
}

static void open_select(const char *path, struct cl_image **img, struct cl_image_manifest **m)
{
	struct cl_error err = { 0 };
	assert_int_equal(cl_image_open(path, img, &err), 0);
	assert_int_equal(cl_image_select(*img, NULL, m, &err), 0);
}

static char *xattr(const char *path)
{
	static char value[64];
	ssize_t n = getxattr(path, "user.containerlite.owner", value, sizeof(value) - 1);
	if (n < 0)
		return NULL;
	value[n] = '\0';
	return value;
}

static void unpack_as_user(void **state)
{
	(void)state;
	struct cl_image *img;
	struct cl_image_manifest *m;
	open_select(tu_path(work, "img"), &img, &m);
	struct cl_error err = { 0 };
	struct cl_unpack_stats st = { 0 };
	const char *rootfs = tu_path(work, "rootfs");
	struct cl_unpack_options o = { .resolver = tu_resolver };   /* AUTO owner: self */
	int rc = cl_image_unpack(img, m, rootfs, &o, &st, &err);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(rc, 0);
	char *tree = tu_tree(rootfs, 0);
	char want[1024];
	unsigned u = geteuid(), g = getegid();
	/* etc/passwd is too long to be shown: check its line, then compare the rest */
	char *pl = strstr(tree, "\nf 0644 ");
	assert_non_null(pl);
	char *nl = strchr(pl + 1, '\n');
	*nl = '\0';
	char expect_pl[128];
	snprintf(expect_pl, sizeof(expect_pl), "\nf 0644 %u:%u etc/passwd #55", u, g);
	assert_string_equal(pl, expect_pl);
	memmove(pl + 1, nl + 1, strlen(nl + 1) + 1);
	snprintf(want, sizeof(want),
		 "d 0700 %u:%u home\n"
		 "d 0755 %u:%u etc\n"
		 "d 0755 %u:%u ro\n"
		 "f 0400 %u:%u hard =r\n"
		 "f 0444 %u:%u ro/g =g\n"
		 "f 0600 %u:%u home/x =x\n"
		 "f 0755 %u:%u suid =s\n"
		 "l %u:%u link -> ro/f\n"
		 "p 0600 %u:%u fifo\n",
		 u, g, u, g, u, g, u, g, u, g, u, g, u, g, u, g, u, g);
	assert_true(tu_same("tree", tree, want));
	free(tree);
	/* the image's view, where it differs from what is on disk */
	const char *v = xattr(tu_path(rootfs, "home/x"));
	if (v) {
		assert_string_equal(v, "1000:1000:0600");
		assert_string_equal(xattr(tu_path(rootfs, "home")), "1000:1000:0700");
		assert_string_equal(xattr(tu_path(rootfs, "ro")), "0:0:0555");
		assert_string_equal(xattr(tu_path(rootfs, "suid")), "0:0:4755");
		assert_null(xattr(tu_path(rootfs, "ro/g")));
	}
	assert_int_equal(st.stripped_setid, 1);

	/* the run configuration resolves the image's user as any user */
	struct cl_run_config *rc2 = NULL;
	struct cl_image_config cfg = m->config;
	const char *const cmd[] = { "/bin/sh", NULL };
	struct cl_run_overrides ov = { .cmd = cmd };
	assert_int_equal(cl_image_run_config(&cfg, rootfs, &ov, &rc2, &err), 0);
	assert_int_equal(rc2->uid, 1000);
	cl_run_config_free(rc2);

	/* through the cache, and a data copy out of it */
	struct cl_image_cache *c = NULL;
	assert_int_equal(cl_image_cache_open(tu_path(work, "cache"), &o, &c, &err), 0);
	char *tree_path = NULL;
	memset(&st, 0, sizeof(st));
	rc = cl_image_cache_prepare(c, img, m, &tree_path, &st, &err);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_int_equal(st.layers_applied, 2);
	assert_int_equal(cl_image_cache_materialise(c, m, tu_path(work, "copy"), CL_COPY_DATA,
						    &err), 0);
	char *t1 = tu_tree(rootfs, 0), *t2 = tu_tree(tu_path(work, "copy"), 0);
	assert_true(tu_same("copy from the cache", t2, t1));
	free(t1);
	free(t2);
	free(tree_path);
	cl_image_cache_close(c);
	cl_image_manifest_free(m);
	cl_image_close(img);
}

/* A read-only directory filled, then a refused entry: the temporary tree goes away. */
static void failure_cleans_up(void **state)
{
	(void)state;
	struct cl_image *img;
	struct cl_image_manifest *m;
	open_select(tu_path(work, "hostile"), &img, &m);
	struct cl_error err = { 0 };
	struct cl_unpack_options o = { .resolver = tu_resolver };
	assert_int_equal(cl_image_unpack(img, m, tu_path(work, "bad"), &o, NULL, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "entry \"../escape\""));
	char *ls = tu_ls(work);
	assert_true(tu_same("work directory", ls, "cache\ncopy\nhostile\nimg\nrootfs\n"));
	free(ls);
	cl_image_manifest_free(m);
	cl_image_close(img);
}

/* PRESERVE needs root: a clear error that says what to do. */
static void preserve_refused(void **state)
{
	(void)state;
	struct cl_image *img;
	struct cl_image_manifest *m;
	open_select(tu_path(work, "img"), &img, &m);
	struct cl_error err = { 0 };
	struct cl_unpack_options o = { .resolver = tu_resolver, .owner = CL_OWNER_PRESERVE };
	assert_int_equal(cl_image_unpack(img, m, tu_path(work, "pres"), &o, NULL, &err), -EPERM);
	assert_non_null(strstr(err.msg, "owner policy self"));
	assert_false(tu_exists(tu_path(work, "pres")));
	cl_image_manifest_free(m);
	cl_image_close(img);
}

static int run_suite(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unpack_as_user),
		cmocka_unit_test(failure_cleans_up),
		cmocka_unit_test(preserve_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

int main(int argc, char **argv)
{
	tu_parse_args(argc, argv);
	work = tu_workdir("nonroot");
	build_images();
	int rc;
	if (geteuid() == 0) {
		/* the images stay root's; the work directory becomes nobody's */
		if (chown(work, NOBODY, NOBODY) != 0) {
			perror("chown");
			return 1;
		}
		fflush(stdout);
		pid_t child = fork();
		if (child == 0) {
			if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0) {
				perror("dropping privileges");
				_exit(1);
			}
			_exit(run_suite());
		}
		int status = 0;
		waitpid(child, &status, 0);
		rc = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	} else {
		rc = run_suite();
	}
	tu_rm_rf(work);
	free(work);
	return rc;
}
