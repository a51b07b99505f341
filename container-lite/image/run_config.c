/* The run configuration of an image: argv from Entrypoint + Cmd, Env, WorkingDir and User,
 * each overridable. User names resolve in the rootfs's own /etc/passwd and /etc/group,
 * opened inside the rootfs (their symlinks cannot point at the host's files). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container-lite/image.h"
#include "oci_json.h"
#include "passwd.h"
#include "rootfs_resolve.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define MAX_ARGS 8192u
#define MAX_ENV  8192u

void cl_run_config_free(struct cl_run_config *rc)
{
	if (!rc)
		return;
	cl_strv_free(rc->argv);
	cl_strv_free(rc->env);
	free(rc->working_dir);
	free(rc->user);
	free(rc->groups);
	free(rc);
}

static size_t strv_len(const char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

static int build_argv(const struct cl_image_config *cfg, const struct cl_run_overrides *ov,
		      struct cl_run_config *rc, struct cl_error *err)
{
	const char *const *entry = ov && ov->entrypoint ? ov->entrypoint :
							   (const char *const *)cfg->entrypoint;
	/* the image's Cmd is arguments for the image's entrypoint: a new entrypoint drops it */
	const char *const *cmd = ov && ov->cmd ? ov->cmd :
			       ov && ov->entrypoint ? NULL : (const char *const *)cfg->cmd;
	size_t ne = strv_len(entry), nc = strv_len(cmd);
	if (ne + nc == 0)
		return cl_error_set(err, ENOENT,
				    "the image has no Entrypoint or Cmd: give a command to run");
	if (ne + nc > MAX_ARGS)
		return cl_error_set(err, EFBIG, "more than %u arguments", MAX_ARGS);
	rc->argv = calloc(ne + nc + 1, sizeof(char *));
	if (!rc->argv)
		return cl_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < ne + nc; i++)
		if (!(rc->argv[i] = strdup(i < ne ? entry[i] : cmd[i - ne])))
			return cl_error_set(err, ENOMEM, "out of memory");
	return 0;
}

static size_t env_key_len(const char *kv)
{
	const char *eq = strchr(kv, '=');
	return eq ? (size_t)(eq - kv) : 0;
}

static int build_env(const struct cl_image_config *cfg, const struct cl_run_overrides *ov,
		     struct cl_run_config *rc, struct cl_error *err)
{
	size_t ni = strv_len((const char *const *)cfg->env);
	size_t no = ov ? strv_len(ov->env) : 0;
	if (ni + no + 1 > MAX_ENV)
		return cl_error_set(err, EFBIG, "more than %u environment entries", MAX_ENV);
	rc->env = calloc(ni + no + 2, sizeof(char *));
	if (!rc->env)
		return cl_error_set(err, ENOMEM, "out of memory");
	size_t n = 0;
	for (size_t i = 0; i < ni + no; i++) {
		const char *kv = i < ni ? cfg->env[i] : ov->env[i - ni];
		size_t klen = env_key_len(kv);
		if (klen == 0)
			return cl_error_set(err, EINVAL, "environment entry \"%.64s\" is not KEY=VALUE",
					    kv);
		size_t j = 0;
		for (; j < n; j++)
			if (env_key_len(rc->env[j]) == klen && strncmp(rc->env[j], kv, klen) == 0)
				break;
		char *copy = strdup(kv);
		if (!copy)
			return cl_error_set(err, ENOMEM, "out of memory");
		if (j < n) {
			free(rc->env[j]);
			rc->env[j] = copy;
		} else {
			rc->env[n++] = copy;
		}
	}
	for (size_t j = 0; j < n; j++)
		if (strncmp(rc->env[j], "PATH=", 5) == 0)
			return 0;
	if (!(rc->env[n] = strdup(DEFAULT_PATH)))
		return cl_error_set(err, ENOMEM, "out of memory");
	return 0;
}

/* "/" + the components of wd, "." dropped and ".." popping (never above "/"). */
static int clean_workdir(const char *wd, char **out, struct cl_error *err)
{
	size_t len = strlen(wd);
	if (len >= 4096)
		return cl_error_set(err, EINVAL, "working directory longer than 4095 bytes");
	char *res = malloc(len + 2);
	if (!res)
		return cl_error_set(err, ENOMEM, "out of memory");
	size_t o = 0;
	const char *p = wd;
	while (*p) {
		while (*p == '/')
			p++;
		const char *s = p;
		while (*p && *p != '/')
			p++;
		size_t n = (size_t)(p - s);
		if (n == 0 || (n == 1 && s[0] == '.'))
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			while (o > 0 && res[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
			continue;
		}
		res[o++] = '/';
		memcpy(res + o, s, n);
		o += n;
	}
	if (o == 0)
		res[o++] = '/';
	res[o] = '\0';
	*out = res;
	return 0;
}

/* Reads rootfs/etc/<name> (resolved inside the rootfs); a missing file reads as empty. */
static int read_etc(int rootfd, const char *rel, char **buf, size_t *len, struct cl_error *err)
{
	*buf = NULL;
	*len = 0;
	if (rootfd < 0)
		return 0;
	int fd = cl_resolve_open(rootfd, rel, O_RDONLY | O_NONBLOCK, 0, CL_RESOLVER_AUTO);
	if (fd == -ENOENT || fd == -ENOTDIR)
		return 0;
	if (fd < 0)
		return cl_error_set(err, -fd, "image /%s: %s", rel, strerror(-fd));
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = cl_error_set(err, EBADMSG, "image /%s is not a regular file", rel);
		goto out;
	}
	if ((uint64_t)st.st_size > CL_PASSWD_MAX_BYTES) {
		rc = cl_error_set(err, EFBIG, "image /%s: larger than %u bytes", rel,
				  CL_PASSWD_MAX_BYTES);
		goto out;
	}
	char *b = malloc((size_t)st.st_size + 1);
	if (!b) {
		rc = cl_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	*buf = b;
	*len = got;
out:
	close(fd);
	return rc;
}

static bool all_digits(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int resolve_user(const char *spec, int rootfd, struct cl_run_config *rc,
			struct cl_error *err)
{
	const char *colon = strchr(spec, ':');
	size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);
	const char *group = colon ? colon + 1 : NULL;
	if ((colon && (ulen == 0 || !*group)) || ulen >= 256 || (group && strlen(group) >= 256))
		return cl_error_set(err, EINVAL, "user \"%.64s\": want USER[:GROUP]", spec);
	char user[256];
	memcpy(user, spec, ulen);
	user[ulen] = '\0';

	char *passwd = NULL, *groupf = NULL;
	size_t plen = 0, glen = 0;
	int ret = read_etc(rootfd, "etc/passwd", &passwd, &plen, err);
	if (ret == 0)
		ret = read_etc(rootfd, "etc/group", &groupf, &glen, err);
	if (ret < 0)
		goto out;

	struct cl_passwd_entry pw;
	bool have_pw = false;
	uint32_t id;
	if (ulen == 0) {
		rc->uid = 0;
		have_pw = cl_passwd_find(passwd, plen, NULL, 0, &pw) == 1;
	} else if (all_digits(user, ulen)) {
		if (cl_parse_id(user, ulen, &id) < 0) {
			ret = cl_error_set(err, EINVAL, "user \"%.64s\": uid out of range", spec);
			goto out;
		}
		rc->uid = id;
		have_pw = cl_passwd_find(passwd, plen, NULL, id, &pw) == 1;
	} else {
		if (cl_passwd_find(passwd, plen, user, 0, &pw) != 1) {
			ret = cl_error_set(err, ENOENT, "user \"%.64s\" not found in the image's "
					   "/etc/passwd",
					   user);
			goto out;
		}
		have_pw = true;
		rc->uid = pw.uid;
	}
	rc->gid = have_pw ? pw.gid : 0;

	if (group) {
		if (all_digits(group, strlen(group))) {
			if (cl_parse_id(group, strlen(group), &id) < 0) {
				ret = cl_error_set(err, EINVAL, "group \"%.64s\": gid out of range",
						   group);
				goto out;
			}
		} else if (cl_group_find(groupf, glen, group, &id) != 1) {
			ret = cl_error_set(err, ENOENT,
					   "group \"%.64s\" not found in the image's /etc/group", group);
			goto out;
		}
		rc->gid = id;
		/* an explicit group replaces the supplementary groups too */
		if (!(rc->groups = malloc(sizeof(gid_t)))) {
			ret = cl_error_set(err, ENOMEM, "out of memory");
			goto out;
		}
		rc->groups[0] = id;
		rc->n_groups = 1;
	} else if (have_pw) {
		uint32_t gids[CL_MAX_SUPPLEMENTARY_GROUPS];
		size_t n = cl_group_memberships(groupf, glen, pw.name, gids,
						CL_MAX_SUPPLEMENTARY_GROUPS);
		if (n) {
			if (!(rc->groups = calloc(n, sizeof(gid_t)))) {
				ret = cl_error_set(err, ENOMEM, "out of memory");
				goto out;
			}
			for (size_t i = 0; i < n; i++)
				rc->groups[i] = gids[i];
			rc->n_groups = n;
		}
	}
	if (!(rc->user = strdup(spec)))
		ret = cl_error_set(err, ENOMEM, "out of memory");
out:
	free(passwd);
	free(groupf);
	return ret;
}

int cl_image_run_config(const struct cl_image_config *cfg, const char *rootfs,
			const struct cl_run_overrides *ov, struct cl_run_config **out,
			struct cl_error *err)
{
	*out = NULL;
	struct cl_run_config *rc = calloc(1, sizeof(*rc));
	if (!rc)
		return cl_error_set(err, ENOMEM, "out of memory");
	int rootfd = -1;
	int ret = build_argv(cfg, ov, rc, err);
	if (ret == 0)
		ret = build_env(cfg, ov, rc, err);
	if (ret == 0)
		ret = clean_workdir(ov && ov->working_dir ? ov->working_dir :
				    cfg->working_dir ? cfg->working_dir : "",
				    &rc->working_dir, err);
	if (ret == 0 && rootfs) {
		rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0)
			ret = cl_error_set(err, errno == ENOENT ? ENOTDIR : errno, "rootfs %s: %s",
					   rootfs, strerror(errno));
	}
	if (ret == 0)
		ret = resolve_user(ov && ov->user ? ov->user : cfg->user ? cfg->user : "", rootfd,
				   rc, err);
	if (rootfd >= 0)
		close(rootfd);
	if (ret < 0) {
		cl_run_config_free(rc);
		return ret;
	}
	*out = rc;
	return 0;
}
