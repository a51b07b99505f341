/* Resolving paths inside a root: openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) where the
 * kernel has it, else our own walk — one O_PATH|O_NOFOLLOW open per component, symlink
 * targets spliced into the remaining path, ".." popping a stack of held descriptors and
 * clamped at the root — so both give the same answer for the same tree. */
#include "rootfs_resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#define WALK_MAX_LINKS 40      /* as the kernel's MAXSYMLINKS */
#define WALK_MAX_DEPTH 256
#define OPENAT2_EAGAIN_TRIES 32

/* 0 unknown, 1 openat2 works, -1 it does not (kernel or seccomp) */
static int openat2_state;

static int sys_openat2(int dirfd, const char *path, struct open_how *how)
{
	return (int)syscall(SYS_openat2, dirfd, path, how, sizeof(*how));
}

static bool openat2_available(void)
{
	int state = __atomic_load_n(&openat2_state, __ATOMIC_ACQUIRE);
	if (state == 0) {
		struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
		int fd = sys_openat2(AT_FDCWD, "/", &how);
		if (fd >= 0) {
			close(fd);
			state = 1;
		} else {
			/* ENOSYS: kernel < 5.6; EPERM: a seccomp policy that predates openat2;
			 * E2BIG/EINVAL: a kernel that does not know our struct or flags */
			state = (errno == ENOSYS || errno == EPERM || errno == E2BIG ||
				 errno == EINVAL) ? -1 : 1;
		}
		__atomic_store_n(&openat2_state, state, __ATOMIC_RELEASE);
	}
	return state > 0;
}

enum cl_resolver cl_rootfs_effective_resolver(enum cl_resolver requested)
{
	if (requested != CL_RESOLVER_AUTO)
		return requested;
	return openat2_available() ? CL_RESOLVER_OPENAT2 : CL_RESOLVER_FALLBACK;
}

const char *cl_rootfs_resolver_name(enum cl_resolver r)
{
	switch (r) {
	case CL_RESOLVER_OPENAT2:
		return "openat2";
	case CL_RESOLVER_FALLBACK:
		return "fallback";
	default:
		return "auto";
	}
}

static int resolve_openat2(int rootfd, const char *path, int oflags, unsigned flags)
{
	struct open_how how = {
		.flags = (unsigned long long)(oflags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
			   ((flags & CL_ROOTFS_NO_XDEV) ? RESOLVE_NO_XDEV : 0),
	};
	if (!*path)
		path = ".";
	for (int i = 0; i < OPENAT2_EAGAIN_TRIES; i++) {
		int fd = sys_openat2(rootfd, path, &how);
		if (fd >= 0)
			return fd;
		/* EAGAIN: a concurrent rename or mount could have let ".." escape; retry */
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
	return -EAGAIN;
}

struct walk {
	int stack[WALK_MAX_DEPTH];
	int depth;
	int cur;
};

static void walk_release(struct walk *w)
{
	for (int i = 0; i < w->depth; i++)
		close(w->stack[i]);
	w->depth = 0;
	if (w->cur >= 0)
		close(w->cur);
	w->cur = -1;
}

static int walk_to_root(struct walk *w, int rootfd)
{
	walk_release(w);
	w->cur = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return w->cur < 0 ? -errno : 0;
}

/* Opens the final object: the O_PATH handle we hold, or a real open of the same name
 * checked to be the same inode (nothing else writes the tree, but a mismatch must not be
 * acted on). */
static int walk_finish(struct walk *w, int parent, const char *name, int fd,
		       const struct stat *st, int oflags)
{
	if ((oflags & O_DIRECTORY) && !S_ISDIR(st->st_mode)) {
		close(fd);
		return -ENOTDIR;
	}
	if (oflags & O_PATH)
		return fd;
	close(fd);
	int real = parent >= 0 ? openat(parent, name, oflags | O_NOFOLLOW | O_CLOEXEC) :
				 openat(w->cur, ".", oflags | O_CLOEXEC);
	if (real < 0)
		return -errno;
	struct stat rst;
	if (fstat(real, &rst) != 0 || rst.st_ino != st->st_ino || rst.st_dev != st->st_dev) {
		close(real);
		return -EAGAIN;
	}
	return real;
}

static int resolve_walk(int rootfd, const char *path, int oflags, unsigned flags)
{
	struct stat rootst;
	if (fstat(rootfd, &rootst) != 0)
		return -errno;
	char *rem = malloc(2 * PATH_MAX);
	char *tmp = malloc(2 * PATH_MAX);
	char *target = malloc(PATH_MAX);
	struct walk w = { .depth = 0, .cur = -1 };
	int rc = -ENOMEM;
	if (!rem || !tmp || !target)
		goto out;
	if (strlen(path) >= 2 * PATH_MAX) {
		rc = -ENAMETOOLONG;
		goto out;
	}
	strcpy(rem, path);
	if ((rc = walk_to_root(&w, rootfd)) < 0)
		goto out;
	int links = 0;
	char *p = rem;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p) {
			/* the path ended on a directory we hold (the root, or after "..", "."
			 * or a symlink to a directory) */
			struct stat st;
			if (fstat(w.cur, &st) != 0) {
				rc = -errno;
				goto out;
			}
			int fd = dup(w.cur);
			if (fd < 0) {
				rc = -errno;
				goto out;
			}
			rc = walk_finish(&w, -1, NULL, fd, &st, oflags);
			goto out;
		}
		char *comp = p;
		while (*p && *p != '/')
			p++;
		if (*p)
			*p++ = '\0';
		const char *after = p;
		while (*after == '/')
			after++;
		bool last = *after == '\0';

		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			if (w.depth > 0) {
				close(w.cur);
				w.cur = w.stack[--w.depth];
			}
			continue;  /* ".." at the root stays at the root */
		}
		int fd = openat(w.cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			rc = -errno;
			goto out;
		}
		struct stat st;
		if (fstat(fd, &st) != 0) {
			rc = -errno;
			close(fd);
			goto out;
		}
		if ((flags & CL_ROOTFS_NO_XDEV) && st.st_dev != rootst.st_dev) {
			close(fd);
			rc = -EXDEV;
			goto out;
		}
		if (S_ISLNK(st.st_mode) && (!last || !(oflags & O_NOFOLLOW))) {
			if (++links > WALK_MAX_LINKS) {
				close(fd);
				rc = -ELOOP;
				goto out;
			}
			ssize_t n = readlinkat(fd, "", target, PATH_MAX);
			close(fd);
			if (n < 0) {
				rc = -errno;
				goto out;
			}
			if (n == 0 || n >= PATH_MAX) {
				rc = n == 0 ? -ENOENT : -ENAMETOOLONG;
				goto out;
			}
			target[n] = '\0';
			size_t restlen = strlen(after);
			if ((size_t)n + 1 + restlen + 1 > 2 * PATH_MAX) {
				rc = -ENAMETOOLONG;
				goto out;
			}
			/* new remaining path: target "/" rest */
			memcpy(tmp, target, (size_t)n);
			tmp[n] = '/';
			memcpy(tmp + n + 1, after, restlen + 1);
			memcpy(rem, tmp, (size_t)n + 1 + restlen + 1);
			p = rem;
			if (target[0] == '/' && (rc = walk_to_root(&w, rootfd)) < 0)
				goto out;
			continue;
		}
		if (last) {
			rc = walk_finish(&w, w.cur, comp, fd, &st, oflags);
			goto out;
		}
		if (!S_ISDIR(st.st_mode)) {
			close(fd);
			rc = -ENOTDIR;
			goto out;
		}
		if (w.depth == WALK_MAX_DEPTH) {
			close(fd);
			rc = -ENAMETOOLONG;
			goto out;
		}
		w.stack[w.depth++] = w.cur;
		w.cur = fd;
	}
out:
	walk_release(&w);
	free(rem);
	free(tmp);
	free(target);
	return rc;
}

int cl_resolve_open(int rootfd, const char *path, int oflags, unsigned flags,
		    enum cl_resolver resolver)
{
	switch (resolver) {
	case CL_RESOLVER_OPENAT2:
		return resolve_openat2(rootfd, path, oflags, flags);
	case CL_RESOLVER_FALLBACK:
		return resolve_walk(rootfd, path, oflags, flags);
	default:
		if (openat2_available())
			return resolve_openat2(rootfd, path, oflags, flags);
		return resolve_walk(rootfd, path, oflags, flags);
	}
}

int cl_rootfs_open(int rootfd, const char *path, int open_flags, unsigned flags,
		   enum cl_resolver resolver, struct cl_error *err)
{
	if (open_flags & (O_CREAT | O_TMPFILE))
		return cl_error_set(err, EINVAL, "%s: cl_rootfs_open cannot create", path);
	int fd = cl_resolve_open(rootfd, path, open_flags, flags, resolver);
	if (fd < 0)
		return cl_error_set(err, -fd, "%s (inside the root): %s", path, strerror(-fd));
	return fd;
}
