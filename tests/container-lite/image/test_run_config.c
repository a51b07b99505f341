/* The run configuration: Entrypoint + Cmd and their overrides, Env merging and the default
 * PATH, WorkingDir cleaning, and User resolution in the rootfs's own /etc/passwd and
 * /etc/group (named, numeric, with groups, unknown → error), including files that are
 * symlinks (resolved inside the rootfs), FIFOs and malformed lines. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "container-lite/image.h"
#include "support/test_util.h"

static const char passwd[] =
	"root:x:0:0:root:/root:/bin/sh\n"
	"# a comment\n"
	"+nisuser\n"
	"mallory:x:abc:1:bad uid::\n"
	"eve:x:4294967295:1:uid too large::\n"
	"short:x:5\n"
	"alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
	"svc:x:998:998::/:/sbin/nologin";   /* no final newline */

static const char group[] =
	"root:x:0:\n"
	"wheel:x:10:root,alice\n"
	"sudo:x:27:bob,alice\n"
	"users:x:100:alice\n"
	"alice:x:1000:\n"
	"broken:x:zz:alice\n"
	"svc:x:998:\n";

struct fixture {
	char *work;
	char rootfs[4096];
};

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->work = tu_workdir("runcfg");
	snprintf(f->rootfs, sizeof(f->rootfs), "%s/rootfs", f->work);
	mkdir(f->rootfs, 0755);
	mkdir(tu_path(f->rootfs, "etc"), 0755);
	write_file(tu_path(f->rootfs, "etc/passwd"), passwd);
	write_file(tu_path(f->rootfs, "etc/group"), group);
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

/* the library's structs hold mutable strings; these literals are never written */
#define S(x) ((char *)(x))
static char *entry_sh[] = { S("/bin/sh"), S("-c"), NULL };
static char *cmd_echo[] = { S("echo hi"), NULL };
static char *env_img[] = { S("LANG=C"), S("HOME=/root"), NULL };
static char *empty[] = { NULL };

static struct cl_image_config config(void)
{
	return (struct cl_image_config){
		.os = S("linux"), .architecture = S("amd64"), .variant = S(""),
		.entrypoint = entry_sh, .cmd = cmd_echo, .env = env_img,
		.working_dir = S(""), .user = S(""),
	};
}

static char *joined(char **v)
{
	static char buf[1024];
	buf[0] = '\0';
	for (size_t i = 0; v[i]; i++) {
		if (i)
			strcat(buf, "|");
		strcat(buf, v[i]);
	}
	return buf;
}

static struct cl_run_config *resolve(struct fixture *f, const struct cl_image_config *cfg,
				     const struct cl_run_overrides *ov)
{
	struct cl_run_config *rc = NULL;
	struct cl_error err = { 0 };
	int r = cl_image_run_config(cfg, f->rootfs, ov, &rc, &err);
	if (r != 0)
		fprintf(stderr, "run config: %s\n", err.msg);
	assert_int_equal(r, 0);
	return rc;
}

static int resolve_error(struct fixture *f, const struct cl_image_config *cfg,
			 const struct cl_run_overrides *ov, const char *needle)
{
	struct cl_run_config *rc = NULL;
	struct cl_error err = { 0 };
	int r = cl_image_run_config(cfg, f->rootfs, ov, &rc, &err);
	if (r == 0 || !strstr(err.msg, needle))
		fprintf(stderr, "rc %d: %s\n", r, err.msg);
	assert_true(r < 0);
	assert_null(rc);
	assert_non_null(strstr(err.msg, needle));
	return r;
}

static void argv_rules(void **state)
{
	struct fixture *f = *state;
	struct cl_image_config cfg = config();
	struct cl_run_config *rc = resolve(f, &cfg, NULL);
	assert_string_equal(joined(rc->argv), "/bin/sh|-c|echo hi");
	cl_run_config_free(rc);

	const char *cmd[] = { "ls -l", NULL };
	struct cl_run_overrides ov = { .cmd = cmd };
	rc = resolve(f, &cfg, &ov);
	assert_string_equal(joined(rc->argv), "/bin/sh|-c|ls -l");
	cl_run_config_free(rc);

	const char *ep[] = { "/usr/bin/python3", NULL };
	ov = (struct cl_run_overrides){ .entrypoint = ep };
	rc = resolve(f, &cfg, &ov);   /* the image's Cmd belonged to the image's entrypoint */
	assert_string_equal(joined(rc->argv), "/usr/bin/python3");
	cl_run_config_free(rc);

	const char *args[] = { "-V", NULL };
	ov = (struct cl_run_overrides){ .entrypoint = ep, .cmd = args };
	rc = resolve(f, &cfg, &ov);
	assert_string_equal(joined(rc->argv), "/usr/bin/python3|-V");
	cl_run_config_free(rc);

	cfg.entrypoint = empty;   /* Cmd alone: Cmd[0] is the program */
	rc = resolve(f, &cfg, NULL);
	assert_string_equal(joined(rc->argv), "echo hi");
	cl_run_config_free(rc);

	cfg.cmd = empty;
	assert_int_equal(resolve_error(f, &cfg, NULL, "no Entrypoint or Cmd"), -ENOENT);
}

static void env_rules(void **state)
{
	struct fixture *f = *state;
	struct cl_image_config cfg = config();
	struct cl_run_config *rc = resolve(f, &cfg, NULL);
	assert_string_equal(joined(rc->env),
			    "LANG=C|HOME=/root|PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
			    "/usr/bin:/sbin:/bin");
	cl_run_config_free(rc);

	const char *env[] = { "HOME=/data", "PATH=/opt/bin", "EMPTY=", "X=a=b", NULL };
	struct cl_run_overrides ov = { .env = env };
	rc = resolve(f, &cfg, &ov);
	assert_string_equal(joined(rc->env), "LANG=C|HOME=/data|PATH=/opt/bin|EMPTY=|X=a=b");
	cl_run_config_free(rc);

	const char *bad[] = { "NOEQUALS", NULL };
	ov = (struct cl_run_overrides){ .env = bad };
	assert_int_equal(resolve_error(f, &cfg, &ov, "not KEY=VALUE"), -EINVAL);
	const char *bad2[] = { "=value", NULL };
	ov = (struct cl_run_overrides){ .env = bad2 };
	assert_int_equal(resolve_error(f, &cfg, &ov, "not KEY=VALUE"), -EINVAL);
}

static void workdir_rules(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", "/" },         { "/", "/" },          { "app", "/app" },
		{ "/srv//data/", "/srv/data" },             { "/a/../../b/./c/..", "/b" },
		{ "../../../etc", "/etc" },                 { "/x/.", "/x" },
	};
	struct cl_image_config cfg = config();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cl_run_overrides ov = { .working_dir = cases[i].in };
		struct cl_run_config *rc = resolve(f, &cfg, &ov);
		assert_string_equal(rc->working_dir, cases[i].out);
		cl_run_config_free(rc);
	}
	cfg.working_dir = S("/from/image");
	struct cl_run_config *rc = resolve(f, &cfg, NULL);
	assert_string_equal(rc->working_dir, "/from/image");
	cl_run_config_free(rc);
}

static char *groups(const struct cl_run_config *rc)
{
	static char buf[256];
	buf[0] = '\0';
	for (size_t i = 0; i < rc->n_groups; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%u", i ? "," : "",
			 (unsigned)rc->groups[i]);
	return buf;
}

static void check_user(struct fixture *f, const char *user, unsigned uid, unsigned gid,
		       const char *grps)
{
	struct cl_image_config cfg = config();
	cfg.user = S(user);
	struct cl_run_config *rc = resolve(f, &cfg, NULL);
	if (rc->uid != uid || rc->gid != gid || strcmp(groups(rc), grps) != 0)
		fprintf(stderr, "user \"%s\": %u:%u groups %s\n", user, (unsigned)rc->uid,
			(unsigned)rc->gid, groups(rc));
	assert_int_equal(rc->uid, uid);
	assert_int_equal(rc->gid, gid);
	assert_string_equal(groups(rc), grps);
	assert_string_equal(rc->user, user);
	cl_run_config_free(rc);
}

static void users(void **state)
{
	struct fixture *f = *state;
	check_user(f, "", 0, 0, "10");              /* root, member of wheel */
	check_user(f, "root", 0, 0, "10");
	check_user(f, "alice", 1000, 1000, "10,27,100");
	check_user(f, "alice:users", 1000, 100, "100");
	check_user(f, "alice:0", 1000, 0, "0");
	check_user(f, "1000", 1000, 1000, "10,27,100");   /* a listed uid gets its groups */
	check_user(f, "1234:5678", 1234, 5678, "5678");
	check_user(f, "4321", 4321, 0, "");
	check_user(f, "4321:wheel", 4321, 10, "10");
	check_user(f, "svc", 998, 998, "");         /* the last line, without a newline */

	struct cl_image_config cfg = config();
	static const struct {
		const char *user;
		int code;
		const char *needle;
	} bad[] = {
		{ "bob", -ENOENT, "user \"bob\" not found in the image's /etc/passwd" },
		{ "mallory", -ENOENT, "\"mallory\" not found" },
		{ "eve", -ENOENT, "\"eve\" not found" },
		{ "short", -ENOENT, "\"short\" not found" },
		{ "+nisuser", -ENOENT, "not found" },
		{ "alice:nogroup", -ENOENT, "group \"nogroup\" not found in the image's /etc/group" },
		{ "alice:broken", -ENOENT, "group \"broken\" not found" },
		{ "4294967295", -EINVAL, "out of range" },
		{ "alice:", -EINVAL, "want USER[:GROUP]" },
		{ ":wheel", -EINVAL, "want USER[:GROUP]" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cl_run_overrides ov = { .user = bad[i].user };
		assert_int_equal(resolve_error(f, &cfg, &ov, bad[i].needle), bad[i].code);
	}
}

/* /etc/passwd as a symlink resolves inside the rootfs, never to the host's file. */
static void passwd_symlinks_stay_inside(void **state)
{
	struct fixture *f = *state;
	const char *p = tu_path(f->rootfs, "etc/passwd");
	write_file(tu_path(f->rootfs, "etc/passwd.real"), "carol:x:2000:2000::/:/bin/sh\n");
	unlink(p);
	assert_int_equal(symlink("/etc/passwd.real", p), 0);
	check_user(f, "carol", 2000, 2000, "");

	/* pointing "at the host": the host's root entry must not be found */
	unlink(p);
	assert_int_equal(symlink("../../../../../../../../etc/shadow", p), 0);
	struct cl_image_config cfg = config();
	cfg.user = S("root");
	assert_int_equal(resolve_error(f, &cfg, NULL, "\"root\" not found"), -ENOENT);
	check_user(f, "0", 0, 0, "");   /* numeric ids need no passwd (nor get groups) */

	/* no /etc/passwd at all */
	unlink(p);
	assert_int_equal(resolve_error(f, &cfg, NULL, "\"root\" not found"), -ENOENT);
}

static void passwd_not_a_file(void **state)
{
	struct fixture *f = *state;
	const char *p = tu_path(f->rootfs, "etc/passwd");
	unlink(p);
	assert_int_equal(mkfifo(p, 0644), 0);   /* must not block */
	struct cl_image_config cfg = config();
	cfg.user = S("alice");
	assert_int_equal(resolve_error(f, &cfg, NULL, "not a regular file"), -EBADMSG);

	unlink(p);
	int fd = open(p, O_WRONLY | O_CREAT, 0644);
	assert_int_equal(ftruncate(fd, (2 << 20)), 0);
	close(fd);
	assert_int_equal(resolve_error(f, &cfg, NULL, "larger than"), -EFBIG);
}

int main(int argc, char **argv)
{
	tu_parse_args(argc, argv);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(argv_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(env_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(workdir_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(users, setup, teardown),
		cmocka_unit_test_setup_teardown(passwd_symlinks_stay_inside, setup, teardown),
		cmocka_unit_test_setup_teardown(passwd_not_a_file, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
