/* The user namespace: which ids a spec may map (one id each, or a root supervisor's id
 * range; never host root), the supervisor writing the child's uid/gid maps, and the child
 * taking its sandbox identity, first for file-system access only (while it still needs
 * its capabilities), then for good. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "sandbox_internal.h"

_Static_assert(sizeof(gid_t) == sizeof(uint32_t), "spec.groups is handed to setgroups as is");

int cl_sandbox_check_idmap(const struct cl_sandbox_idmap *map, struct cl_error *err)
{
	if (map->count == 0)
		return 0;
	if (geteuid() != 0)
		return cl_error_set(err, -EPERM, "sandbox: an id range mapping needs a root "
				    "supervisor (an unprivileged user namespace can map only its "
				    "creator's own uid and gid)");
	if (map->host_base == 0)
		return cl_error_set(err, -EINVAL, "sandbox: id range at host id 0 refused: the "
				    "sandbox's root must not be the host's root");
	if (map->count > CL_SANDBOX_MAX_IDMAP_COUNT)
		return cl_error_set(err, -EINVAL, "sandbox: id range of %u ids (at most %u)",
				    (unsigned)map->count, (unsigned)CL_SANDBOX_MAX_IDMAP_COUNT);
	/* The last host id must be below 2^32 - 1, which is (uid_t)-1, "no change". */
	if ((uint64_t)map->host_base + map->count > UINT32_MAX)
		return cl_error_set(err, -EINVAL, "sandbox: id range %u+%u passes the last host "
				    "id 4294967294", (unsigned)map->host_base, (unsigned)map->count);
	return 0;
}

int cl_sbx_user_validate(const struct cl_sandbox_spec *s, struct cl_error *err)
{
	const uint32_t count = s->idmap.count;
	int rc = cl_sandbox_check_idmap(&s->idmap, err);
	if (rc < 0)
		return rc;
	if (s->n_groups > CL_SANDBOX_MAX_GROUPS || (s->n_groups && !s->groups))
		return cl_error_set(err, -EINVAL, "sandbox: %zu supplementary groups (at most %d)",
				    s->n_groups, CL_SANDBOX_MAX_GROUPS);
	if (count == 0) {
		/* One id mapped: any other group would be unmapped inside. */
		if (s->n_groups)
			return cl_error_set(err, -EINVAL, "sandbox: supplementary groups need an "
					    "id range mapping (spec.idmap)");
		if (geteuid() == 0 && (s->host_uid == 0 || s->host_gid == 0))
			return cl_error_set(err, -EINVAL, "sandbox: host uid/gid 0 refused: the "
					    "sandbox's root must not be the host's root");
		return 0;
	}
	if (s->uid >= count || s->gid >= count)
		return cl_error_set(err, -EINVAL, "sandbox: uid/gid %u:%u outside the mapped "
				    "range 0-%u", (unsigned)s->uid, (unsigned)s->gid,
				    (unsigned)count - 1);
	for (size_t i = 0; i < s->n_groups; i++)
		if (s->groups[i] >= count)
			return cl_error_set(err, -EINVAL, "sandbox: supplementary group %u outside "
					    "the mapped range 0-%u", (unsigned)s->groups[i],
					    (unsigned)count - 1);
	return 0;
}

static int write_proc_file(pid_t pid, const char *name, const char *text, struct cl_error *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	cl_cleanup_fd int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		const int e = errno;
		/* The child is a copy of the supervisor: when that is not dumpable (it changed
		 * uid), the child's /proc files belong to root, not to us. */
		const bool hint = e == EACCES && prctl(PR_GET_DUMPABLE) == 0;
		return cl_error_set(err, -e, "user namespace: open %s: %s%s", path,
				    cl_sbx_errstr(e),
				    hint ? " (the supervisor is not dumpable; after a uid change, "
					   "call prctl(PR_SET_DUMPABLE, 1))" : "");
	}
	const size_t len = strlen(text);
	const ssize_t n = write(fd, text, len);
	if (n < 0)
		return cl_error_set(err, -errno, "user namespace: write \"%.*s\" to %s: %s",
				    (int)strcspn(text, "\n"), text, path, cl_sbx_errstr(errno));
	if ((size_t)n != len)
		return cl_error_set(err, -EIO, "user namespace: short write to %s", path);
	return 0;
}

int cl_sbx_user_write_maps(pid_t pid, const struct cl_sandbox_spec *spec, bool privileged,
			   struct cl_error *err)
{
	/* Root maps the ids the spec names, one each or a range; anyone else may only map
	 * itself, and only after giving up setgroups (the kernel's rule since 3.19). */
	char uid_line[64], gid_line[64];
	int rc;
	if (privileged && spec->idmap.count) {
		snprintf(uid_line, sizeof(uid_line), "0 %u %u\n", (unsigned)spec->idmap.host_base,
			 (unsigned)spec->idmap.count);
		memcpy(gid_line, uid_line, sizeof(gid_line));
	} else {
		const unsigned host_uid = privileged ? spec->host_uid : (unsigned)geteuid();
		const unsigned host_gid = privileged ? spec->host_gid : (unsigned)getegid();
		snprintf(uid_line, sizeof(uid_line), "%u %u 1\n", (unsigned)spec->uid, host_uid);
		snprintf(gid_line, sizeof(gid_line), "%u %u 1\n", (unsigned)spec->gid, host_gid);
	}
	if (!privileged) {
		rc = write_proc_file(pid, "setgroups", "deny", err);
		if (rc < 0)
			return rc;
	}
	rc = write_proc_file(pid, "uid_map", uid_line, err);
	if (rc < 0)
		return rc;
	return write_proc_file(pid, "gid_map", gid_line, err);
}

/* The child is a fork-like copy of a possibly multi-threaded supervisor, but it has only one
 * thread. glibc's set*id() apply a change to every thread it knows of: they signal the
 * supervisor's other threads, which do not exist here, and wait for them forever. So the
 * child changes its credentials with the raw system calls, which act on the caller only. */

/* File-system ids only: files the child creates in its own tmpfs must be owned by an id
 * mapped in the namespace (the host root it may still run as is not). */
int cl_sbx_user_fs_ids(const struct cl_sandbox_spec *spec, struct cl_error *err)
{
	syscall(SYS_setfsgid, spec->gid);
	syscall(SYS_setfsuid, spec->uid);
	/* setfs*id report the previous id, not errors: ask again to see the current one. */
	if ((uid_t)syscall(SYS_setfsuid, spec->uid) != spec->uid ||
	    (gid_t)syscall(SYS_setfsgid, spec->gid) != spec->gid)
		return cl_error_set(err, -EPERM, "user namespace: cannot take file-system ids "
				    "%u:%u", (unsigned)spec->uid, (unsigned)spec->gid);
	return 0;
}

int cl_sbx_user_switch(const struct cl_sandbox_spec *spec, bool privileged,
		       struct cl_error *err)
{
	if (syscall(SYS_setresgid, spec->gid, spec->gid, spec->gid) < 0)
		return cl_error_set(err, -errno, "user namespace: setresgid(%u): %s",
				    (unsigned)spec->gid, cl_sbx_errstr(errno));
	/* Host root's supplementary groups (gid 0!) must not follow it inside: the sandbox
	 * gets exactly the spec's (none unless a range is mapped). An unprivileged caller's
	 * namespace denies setgroups; its groups are its own. */
	if (privileged && syscall(SYS_setgroups, spec->n_groups, spec->groups) < 0)
		return cl_error_set(err, -errno, "user namespace: setgroups(%zu groups): %s",
				    spec->n_groups, cl_sbx_errstr(errno));
	if (syscall(SYS_setresuid, spec->uid, spec->uid, spec->uid) < 0)
		return cl_error_set(err, -errno, "user namespace: setresuid(%u): %s",
				    (unsigned)spec->uid, cl_sbx_errstr(errno));
	return 0;
}
