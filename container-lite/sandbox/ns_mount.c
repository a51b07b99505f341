/* The mount namespace: the rootfs bound onto itself and made read-only, mount points made
 * inside it, /dev, a size-limited /tmp, the caller's binds, a fresh /proc, then the switch
 * of root: pivot_root, or MS_MOVE + chroot where / is an initramfs. Every target is
 * resolved inside the rootfs (path_in_root.c) and mounted through /proc/self/fd/N, so no
 * path is looked up twice. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

#include "sandbox_internal.h"

int cl_sbx_fd_path(char *buf, size_t size, int fd)
{
	return snprintf(buf, size, "/proc/self/fd/%d", fd);
}

void cl_sbx_mounts_init(struct cl_sbx_mounts *m)
{
	m->rootfd = m->devfd = m->procfd = m->tmpfd = -1;
	for (int i = 0; i < 5; i++)
		m->hostdev[i] = -1;
	for (int i = 0; i < CL_SANDBOX_MAX_BINDS; i++)
		m->bind_src[i] = m->bind_dst[i] = -1;
}

void cl_sbx_mounts_close(struct cl_sbx_mounts *m)
{
	cl_sbx_closep(&m->rootfd);
	cl_sbx_closep(&m->devfd);
	cl_sbx_closep(&m->procfd);
	cl_sbx_closep(&m->tmpfd);
	for (int i = 0; i < 5; i++)
		cl_sbx_closep(&m->hostdev[i]);
	for (int i = 0; i < CL_SANDBOX_MAX_BINDS; i++) {
		cl_sbx_closep(&m->bind_src[i]);
		cl_sbx_closep(&m->bind_dst[i]);
	}
	cl_sbx_mounts_init(m);
}

/* Remounts the mount whose root fd is, adding add_flags. Inside a user namespace the
 * kernel refuses to clear flags it locked from the outer mount (nosuid, nodev, noexec,
 * the atime mode), so the current ones are kept (statvfs reports them). */
int cl_sbx_mount_remount(int fd, const char *what, unsigned long add_flags,
			 struct cl_error *err)
{
	struct statvfs sv;
	if (fstatvfs(fd, &sv) < 0)
		return cl_error_set(err, -errno, "remount %s: statvfs: %s", what,
				    cl_sbx_errstr(errno));
	static const struct {
		unsigned long st, ms;
	} keep[] = {
		{ ST_RDONLY, MS_RDONLY },     { ST_NOSUID, MS_NOSUID },
		{ ST_NODEV, MS_NODEV },       { ST_NOEXEC, MS_NOEXEC },
		{ ST_NOATIME, MS_NOATIME },   { ST_NODIRATIME, MS_NODIRATIME },
		{ ST_RELATIME, MS_RELATIME },
	};
	unsigned long flags = MS_REMOUNT | MS_BIND | add_flags;
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (sv.f_flag & keep[i].st)
			flags |= keep[i].ms;
	if (!(sv.f_flag & (ST_NOATIME | ST_RELATIME)))
		flags |= MS_STRICTATIME; /* else the kernel would default to relatime */
	char p[40];
	cl_sbx_fd_path(p, sizeof(p), fd);
	if (mount(NULL, p, NULL, flags, NULL) < 0)
		return cl_error_set(err, -errno, "remount %s: %s", what, cl_sbx_errstr(errno));
	return 0;
}

/* Phase A, with the child's original ids (the host owner of the rootfs): everything that
 * looks up host paths or creates mount points in the rootfs. */
int cl_sbx_mount_prepare(struct cl_sbx_mounts *m, const struct cl_sandbox_spec *spec,
			 struct cl_error *err)
{
	/* Nothing we mount may propagate back to the host's namespace. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return cl_error_set(err, -errno, "mounts: make / private: %s",
				    cl_sbx_errstr(errno));
	/* A mount of its own, so it can be made read-only and pivoted to. Not recursive:
	 * a host mount below the rootfs must not come in with its own (writable) flags. */
	if (mount(spec->rootfs, spec->rootfs, NULL, MS_BIND, NULL) < 0)
		return cl_error_set(err, -errno, "rootfs %s: bind onto itself: %s%s",
				    spec->rootfs, cl_sbx_errstr(errno),
				    errno == EINVAL ? " (has it host mounts below it?)" : "");
	m->rootfd = open(spec->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (m->rootfd < 0)
		return cl_error_set(err, -errno, "rootfs %s: %s", spec->rootfs,
				    cl_sbx_errstr(errno));

	/* /dev, /proc and /tmp must be plain directories of the image: a symlink there is
	 * refused rather than followed (runc CVE-2026-41579: /dev as a symlink). */
	m->devfd = cl_sbx_path_mkpoint(m->rootfd, "/dev", true, true, err);
	if (m->devfd < 0)
		return m->devfd;
	m->procfd = cl_sbx_path_mkpoint(m->rootfd, "/proc", true, true, err);
	if (m->procfd < 0)
		return m->procfd;
	m->tmpfd = cl_sbx_path_mkpoint(m->rootfd, "/tmp", true, true, err);
	if (m->tmpfd < 0)
		return m->tmpfd;

	for (size_t i = 0; i < spec->n_binds; i++) {
		const struct cl_sandbox_bind *b = &spec->binds[i];
		m->bind_src[i] = open(b->source, O_PATH | O_CLOEXEC);
		if (m->bind_src[i] < 0)
			return cl_error_set(err, -errno, "bind %s: open the source: %s", b->source,
					    cl_sbx_errstr(errno));
		struct stat st;
		if (fstat(m->bind_src[i], &st) < 0)
			return cl_error_set(err, -errno, "bind %s: %s", b->source,
					    cl_sbx_errstr(errno));
		m->bind_dst[i] = cl_sbx_path_mkpoint(m->rootfd, b->target, S_ISDIR(st.st_mode),
						     false, err);
		if (m->bind_dst[i] < 0)
			return cl_error_set(err, m->bind_dst[i], "bind %s -> %s", b->source,
					    b->target);
	}
	return cl_sbx_dev_open_host(m->hostdev, err);
}

/* The mount now at the rootfs path (re-resolved: an fd taken before a mount still points
 * at what was covered). */
static int reopen_in_root(const struct cl_sbx_mounts *m, const char *path, bool no_symlinks,
			  struct cl_error *err)
{
	return cl_sbx_path_open(m->rootfd, path, O_PATH, no_symlinks, err);
}

/* Phase B, with the sandbox's file-system ids. */
int cl_sbx_mount_populate(struct cl_sbx_mounts *m, const struct cl_sandbox_spec *spec,
			  struct cl_error *err)
{
	char p[40], q[40], opts[96];
	int rc;

	cl_sbx_fd_path(p, sizeof(p), m->devfd);
	if (mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NOEXEC,
		  "mode=0755,size=64k,nr_inodes=64") < 0)
		return cl_error_set(err, -errno, "/dev: mount tmpfs: %s", cl_sbx_errstr(errno));
	cl_cleanup_fd int dev = reopen_in_root(m, "/dev", true, err);
	if (dev < 0)
		return dev;
	rc = cl_sbx_dev_populate(dev, m->hostdev, err);
	if (rc < 0)
		return rc;
	rc = cl_sbx_mount_remount(dev, "/dev", MS_RDONLY | MS_NOSUID | MS_NOEXEC, err);
	if (rc < 0)
		return rc;

	cl_sbx_fd_path(p, sizeof(p), m->tmpfd);
	snprintf(opts, sizeof(opts), "mode=1777,size=%llu",
		 (unsigned long long)spec->tmp_bytes);
	if (mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		return cl_error_set(err, -errno, "/tmp: mount tmpfs (%s): %s", opts,
				    cl_sbx_errstr(errno));

	for (size_t i = 0; i < spec->n_binds; i++) {
		const struct cl_sandbox_bind *b = &spec->binds[i];
		cl_sbx_fd_path(p, sizeof(p), m->bind_src[i]);
		cl_sbx_fd_path(q, sizeof(q), m->bind_dst[i]);
		/* Not recursive, for the reason the rootfs bind is not. */
		if (mount(p, q, NULL, MS_BIND, NULL) < 0)
			return cl_error_set(err, -errno, "bind %s -> %s: %s", b->source,
					    b->target, cl_sbx_errstr(errno));
		cl_cleanup_fd int now = reopen_in_root(m, b->target, false, err);
		if (now < 0)
			return now;
		rc = cl_sbx_mount_remount(now, b->target,
					  MS_NOSUID | MS_NODEV | (b->writable ? 0 : MS_RDONLY),
					  err);
		if (rc < 0)
			return rc;
	}

	/* A proc of the new pid namespace (we are its pid 1, so it shows only the sandbox). */
	cl_sbx_fd_path(p, sizeof(p), m->procfd);
	if (mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return cl_error_set(err, -errno, "/proc: mount proc: %s", cl_sbx_errstr(errno));

	const bool writable = spec->flags & CL_SANDBOX_WRITABLE_ROOTFS;
	return cl_sbx_mount_remount(m->rootfd, "rootfs",
				    MS_NOSUID | MS_NODEV | (writable ? 0 : MS_RDONLY), err);
}

static bool root_is_initramfs(void)
{
	struct statfs sf;
	return statfs("/", &sf) == 0 &&
	       (sf.f_type == RAMFS_MAGIC || sf.f_type == TMPFS_MAGIC);
}

int cl_sbx_mount_switch_root(struct cl_sbx_mounts *m, const struct cl_sandbox_spec *spec,
			     struct cl_error *err)
{
	if (fchdir(m->rootfd) < 0)
		return cl_error_set(err, -errno, "rootfs: chdir: %s", cl_sbx_errstr(errno));
	if (!(spec->flags & CL_SANDBOX_NO_PIVOT_ROOT)) {
		/* pivot_root(".", "."): the old root ends up stacked on "."; detaching it
		 * leaves the rootfs alone, with no put-old directory needed in the image. */
		if (syscall(SYS_pivot_root, ".", ".") == 0) {
			if (umount2(".", MNT_DETACH) < 0)
				return cl_error_set(err, -errno, "rootfs: detach the old root: %s",
						    cl_sbx_errstr(errno));
			if (chdir("/") < 0)
				return cl_error_set(err, -errno, "rootfs: chdir /: %s",
						    cl_sbx_errstr(errno));
			return 0;
		}
		const int e = errno;
		if (e != EINVAL || !root_is_initramfs())
			return cl_error_set(err, -e, "rootfs: pivot_root: %s", cl_sbx_errstr(e));
	}
	/* The initramfs root cannot be pivoted away from (it is the namespace's root mount).
	 * Move the rootfs over it and chroot: the old root stays beneath, reachable only
	 * with CAP_SYS_CHROOT or an fd from before, and the sandbox has neither. */
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		return cl_error_set(err, -errno, "rootfs: move onto /: %s", cl_sbx_errstr(errno));
	if (chroot(".") < 0)
		return cl_error_set(err, -errno, "rootfs: chroot: %s", cl_sbx_errstr(errno));
	if (chdir("/") < 0)
		return cl_error_set(err, -errno, "rootfs: chdir /: %s", cl_sbx_errstr(errno));
	return 0;
}
