/* The user namespace: the supervisor writes the child's uid/gid maps (one id each, never
 * host root), and the child takes its sandbox identity, first for file-system access
 * only (while it still needs its capabilities), then for good. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "sandbox_internal.h"

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
	/* Root maps the ids the spec names; anyone else may only map itself, and only after
	 * giving up setgroups (the kernel's rule since 3.19). */
	const unsigned host_uid = privileged ? spec->host_uid : (unsigned)geteuid();
	const unsigned host_gid = privileged ? spec->host_gid : (unsigned)getegid();
	char line[64];
	int rc;
	if (!privileged) {
		rc = write_proc_file(pid, "setgroups", "deny", err);
		if (rc < 0)
			return rc;
	}
	snprintf(line, sizeof(line), "%u %u 1\n", (unsigned)spec->uid, host_uid);
	rc = write_proc_file(pid, "uid_map", line, err);
	if (rc < 0)
		return rc;
	snprintf(line, sizeof(line), "%u %u 1\n", (unsigned)spec->gid, host_gid);
	return write_proc_file(pid, "gid_map", line, err);
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
	/* Host root's supplementary groups (gid 0!) must not follow it inside. An
	 * unprivileged caller's namespace denies setgroups; its groups are its own. */
	if (privileged && syscall(SYS_setgroups, 0, NULL) < 0)
		return cl_error_set(err, -errno, "user namespace: setgroups(0): %s",
				    cl_sbx_errstr(errno));
	if (syscall(SYS_setresuid, spec->uid, spec->uid, spec->uid) < 0)
		return cl_error_set(err, -errno, "user namespace: setresuid(%u): %s",
				    (unsigned)spec->uid, cl_sbx_errstr(errno));
	return 0;
}
