/* The per-run cgroup: which hierarchy (v2 when it has the needed controllers, else v1),
 * its creation with the limits, the child joining it, the counters read after the run
 * (OOM kills, peak memory, throttling) and its removal. A run without limits has none. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

#include "sandbox_internal.h"

const char *const cl_sbx_cg_controller_names[CL_SBX_CG_N] = { "memory", "pids", "cpu" };

int cl_sbx_cg_write(const char *dir, const char *file, const char *value, struct cl_error *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	cl_cleanup_fd int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return cl_error_set(err, -errno, "cgroup %s: open: %s", path, cl_sbx_errstr(errno));
	const size_t len = strlen(value);
	if (write(fd, value, len) != (ssize_t)len)
		return cl_error_set(err, -errno, "cgroup %s: write \"%s\": %s", path, value,
				    cl_sbx_errstr(errno));
	return 0;
}

static ssize_t read_small(const char *dir, const char *file, char *buf, size_t size)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	cl_cleanup_fd int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = 0;
	while (len < size - 1) {
		const ssize_t n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

/* "key value" lines (memory.events, memory.oom_control, cpu.stat). */
int cl_sbx_cg_read_key(const char *dir, const char *file, const char *key, uint64_t *value)
{
	char buf[4096];
	const ssize_t n = read_small(dir, file, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	const size_t klen = strlen(key);
	for (char *line = buf; line && *line;) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
			*value = strtoull(line + klen + 1, NULL, 10);
			return 0;
		}
		line = next;
	}
	return -ENOENT;
}

int cl_sbx_cg_read_u64(const char *dir, const char *file, uint64_t *value)
{
	char buf[64];
	const ssize_t n = read_small(dir, file, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	*value = strtoull(buf, NULL, 10);
	return 0;
}

/* The supervisor's own cgroup in a hierarchy, from /proc/self/cgroup: "0::/path" for v2,
 * "N:ctrl,ctrl:/path" for v1. */
int cl_sbx_cg_own_path(int version, const char *controller, char *out, size_t size,
		       struct cl_error *err)
{
	char buf[4096];
	const ssize_t n = read_small("/proc/self", "cgroup", buf, sizeof(buf));
	if (n < 0)
		return cl_error_set(err, (int)n, "cgroup: read /proc/self/cgroup: %s",
				    cl_sbx_errstr((int)n));
	for (char *line = buf; line && *line;) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2) {
			*c2 = '\0';
			const char *ctrls = c1 + 1, *path = c2 + 1;
			bool match = false;
			if (version == 2)
				match = strncmp(line, "0:", 2) == 0 && *ctrls == '\0';
			else
				for (const char *p = ctrls; *p;) {
					const size_t len = strcspn(p, ",");
					if (len == strlen(controller) &&
					    strncmp(p, controller, len) == 0)
						match = true;
					p += len + (p[len] == ',');
				}
			if (match) {
				if ((size_t)snprintf(out, size, "%s", path) >= size)
					return cl_error_set(err, -ENAMETOOLONG, "cgroup path %s",
							    path);
				return 0;
			}
		}
		line = next;
	}
	return cl_error_set(err, -ENOENT, "cgroup: the supervisor is in no cgroup v%d %s "
			    "hierarchy", version, version == 2 ? "" : controller);
}

static bool is_fs(const char *path, long magic)
{
	struct statfs sf;
	return statfs(path, &sf) == 0 && sf.f_type == magic;
}

static bool v2_mount(char out[PATH_MAX])
{
	static const char *const candidates[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	for (size_t i = 0; i < 2; i++)
		if (is_fs(candidates[i], CGROUP2_SUPER_MAGIC)) {
			snprintf(out, PATH_MAX, "%s", candidates[i]);
			return true;
		}
	return false;
}

static bool has_word(const char *list, const char *word)
{
	const size_t len = strlen(word);
	for (const char *p = list; *p;) {
		p += strspn(p, " \n");
		const size_t n = strcspn(p, " \n");
		if (n == len && strncmp(p, word, n) == 0)
			return true;
		p += n;
	}
	return false;
}

int cl_sbx_cgroup_select(const struct cl_sandbox_limits *limits, int want_version,
			 struct cl_sbx_cgroup *cg, char v2[PATH_MAX], struct cl_error *err)
{
	memset(cg, 0, sizeof(*cg));
	cg->need[CL_SBX_CG_MEMORY] = limits->memory_bytes != 0;
	cg->need[CL_SBX_CG_PIDS] = limits->pids != 0;
	cg->need[CL_SBX_CG_CPU] = limits->cpu_millicores != 0;
	if (!cg->need[0] && !cg->need[1] && !cg->need[2])
		return 0;
	if (want_version != 0 && want_version != 1 && want_version != 2)
		return cl_error_set(err, -EINVAL, "cgroup version %d: 0, 1 or 2", want_version);

	const char *missing = NULL;
	if (want_version != 1) {
		if (v2_mount(v2)) {
			char own[PATH_MAX], dir[PATH_MAX], ctrls[512];
			if (cl_sbx_cg_own_path(2, NULL, own, sizeof(own), err) < 0)
				return err->code;
			snprintf(dir, sizeof(dir), "%s%s", v2, own);
			if (read_small(dir, "cgroup.controllers", ctrls, sizeof(ctrls)) < 0)
				ctrls[0] = '\0';
			for (int i = 0; i < CL_SBX_CG_N; i++)
				if (cg->need[i] && !has_word(ctrls, cl_sbx_cg_controller_names[i]))
					missing = cl_sbx_cg_controller_names[i];
			if (!missing) {
				cg->version = 2;
				return 0;
			}
			if (want_version == 2)
				return cl_error_set(err, -ENOTSUP, "cgroup v2 at %s: no %s controller "
						    "in %s/cgroup.controllers (\"%.*s\")", v2,
						    missing, dir, (int)strcspn(ctrls, "\n"), ctrls);
		} else if (want_version == 2) {
			return cl_error_set(err, -ENOTSUP, "cgroup v2: no cgroup2 file system at "
					    "/sys/fs/cgroup or /sys/fs/cgroup/unified");
		}
	}
	for (int i = 0; i < CL_SBX_CG_N; i++) {
		if (!cg->need[i])
			continue;
		char path[64];
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s", cl_sbx_cg_controller_names[i]);
		if (!is_fs(path, CGROUP_SUPER_MAGIC))
			return cl_error_set(err, -ENOTSUP, "cgroup: no %s controller (%s in v2, "
					    "no v1 hierarchy at %s)", cl_sbx_cg_controller_names[i],
					    missing ? "missing" : "no v2 mount", path);
	}
	cg->version = 1;
	return 0;
}

int cl_sbx_cgroup_create(struct cl_sbx_cgroup *cg, const struct cl_sandbox_spec *spec,
			 struct cl_error *err)
{
	char v2[PATH_MAX];
	int rc = cl_sbx_cgroup_select(&spec->limits, spec->cgroup_version, cg, v2, err);
	if (rc < 0 || cg->version == 0)
		return rc;

	static atomic_uint seq;
	char name[64];
	snprintf(name, sizeof(name), "cl-%d-%u", (int)getpid(), atomic_fetch_add(&seq, 1));
	if (cg->version == 2) {
		char own[PATH_MAX];
		const char *parent = spec->cgroup_parent;
		if (!parent) {
			rc = cl_sbx_cg_own_path(2, NULL, own, sizeof(own), err);
			if (rc < 0)
				return rc;
			parent = own;
		}
		rc = cl_sbx_cg_v2_create(cg, v2, parent, name, &spec->limits, err);
	} else {
		rc = cl_sbx_cg_v1_create(cg, spec->cgroup_parent, name, &spec->limits, err);
	}
	if (rc < 0) {
		struct cl_error ignored;
		cl_error_clear(&ignored);
		cl_sbx_cgroup_destroy(cg, &ignored);
	}
	return rc;
}

int cl_sbx_cgroup_attach(const struct cl_sbx_cgroup *cg, pid_t pid, struct cl_error *err)
{
	char value[24];
	snprintf(value, sizeof(value), "%d", (int)pid);
	for (int i = 0; i < CL_SBX_CG_N; i++) {
		if (!cg->dir[i])
			continue;
		const int rc = cl_sbx_cg_write(cg->dir[i], "cgroup.procs", value, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Belt and braces after a timeout: killing the pid namespace's init already takes the
 * whole tree down, and every process of the tree is in the cgroup. */
void cl_sbx_cgroup_kill(const struct cl_sbx_cgroup *cg)
{
	struct cl_error ignored;
	for (int i = 0; i < CL_SBX_CG_N; i++) {
		if (!cg->dir[i])
			continue;
		cl_error_clear(&ignored);
		if (cg->version == 2 && cl_sbx_cg_write(cg->dir[i], "cgroup.kill", "1", &ignored) == 0)
			continue;
		char buf[4096];
		if (read_small(cg->dir[i], "cgroup.procs", buf, sizeof(buf)) < 0)
			continue;
		for (char *p = buf; *p;) {
			const long pid = strtol(p, &p, 10);
			if (pid > 0)
				kill((pid_t)pid, SIGKILL);
			p += strspn(p, "\n");
			if (*p && (*p < '0' || *p > '9'))
				break;
		}
	}
}

void cl_sbx_cgroup_stats(const struct cl_sbx_cgroup *cg, struct cl_sandbox_result *result)
{
	result->cgroup_version = cg->version;
	if (cg->version == 2)
		cl_sbx_cg_v2_stats(cg, result);
	else if (cg->version == 1)
		cl_sbx_cg_v1_stats(cg, result);
}

int cl_sbx_cgroup_destroy(struct cl_sbx_cgroup *cg, struct cl_error *err)
{
	int rc = 0;
	for (int i = 0; i < CL_SBX_CG_N; i++) {
		if (!cg->dir[i])
			continue;
		/* The tree is reaped by now; a short, bounded wait covers a kernel that is
		 * still unlinking the last exited task from the cgroup. */
		int r = -EBUSY;
		for (int attempt = 0; attempt < 200 && r == -EBUSY; attempt++) {
			r = rmdir(cg->dir[i]) == 0 || errno == ENOENT ? 0 : -errno;
			if (r == -EBUSY)
				nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
		}
		if (r < 0 && rc == 0)
			rc = cl_error_set(err, r, "cgroup %s: remove: %s", cg->dir[i],
					  cl_sbx_errstr(r));
		free(cg->dir[i]);
		cg->dir[i] = NULL;
	}
	return rc;
}
