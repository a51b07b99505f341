/* Tree removal and copying with *at() calls only. Removal keeps a single directory
 * descriptor: it descends into the first non-empty subdirectory, and when a directory is
 * empty goes back up through its ".." (a directory we opened ourselves, in a tree only we
 * write) and rescans — depth costs time, never descriptors or stack. */
#include "tree_ops.h"
#include "container-lite/rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <linux/fs.h>

#define XATTR_LIST_MAX_BYTES (64u << 10)
#define XATTR_VALUE_MAX_BYTES (64u << 10)

/* Opens a child directory for removal, making it readable/writable if we own it and it is
 * not (a read-only directory inside the tree must not make the removal fail). */
static int open_dir_for_removal(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES && fchmodat(dirfd, name, S_IRWXU, 0) == 0)
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		struct stat st;
		if (fstat(fd, &st) == 0 && (st.st_mode & S_IRWXU) != S_IRWXU)
			fchmod(fd, (st.st_mode & 07777) | S_IRWXU);
	}
	return fd;
}

/* One pass over cur: removes files and empty directories. Returns 1 with *child set to a
 * non-empty subdirectory to descend into, 0 when cur is now empty, or -errno. */
static int removal_pass(int cur, int *child)
{
	int dfd = dup(cur);
	if (dfd < 0)
		return -errno;
	DIR *d = fdopendir(dfd);
	if (!d) {
		int e = errno;
		close(dfd);
		return -e;
	}
	int rc = 0;
	for (;;) {
		errno = 0;
		struct dirent *e = readdir(d);
		if (!e) {
			rc = errno ? -errno : 0;
			break;
		}
		const char *n = e->d_name;
		if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0')))
			continue;
		bool is_dir = e->d_type == DT_DIR;
		if (e->d_type == DT_UNKNOWN) {
			struct stat st;
			if (fstatat(cur, n, &st, AT_SYMLINK_NOFOLLOW) != 0) {
				if (errno == ENOENT)
					continue;
				rc = -errno;
				break;
			}
			is_dir = S_ISDIR(st.st_mode);
		}
		if (!is_dir) {
			if (unlinkat(cur, n, 0) != 0 && errno != ENOENT) {
				rc = -errno;
				break;
			}
			continue;
		}
		if (unlinkat(cur, n, AT_REMOVEDIR) == 0 || errno == ENOENT)
			continue;
		if (errno != ENOTEMPTY && errno != EEXIST && errno != EACCES) {
			rc = -errno;
			break;
		}
		int fd = open_dir_for_removal(cur, n);
		if (fd < 0) {
			rc = -errno;
			break;
		}
		*child = fd;
		rc = 1;
		break;
	}
	closedir(d);
	return rc;
}

int cl_tree_remove(int dirfd, const char *name, bool *removed_dir_or_link,
		   struct cl_error *err)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return 0;
		return cl_error_set(err, errno, "remove %s: %s", name, strerror(errno));
	}
	if (removed_dir_or_link && (S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode)))
		*removed_dir_or_link = true;
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, name, 0) != 0 && errno != ENOENT)
			return cl_error_set(err, errno, "remove %s: %s", name, strerror(errno));
		return 0;
	}
	if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0)
		return 0;
	int top = open_dir_for_removal(dirfd, name);
	if (top < 0)
		return cl_error_set(err, errno, "remove %s: %s", name, strerror(errno));
	struct stat topst;
	int rc = 0;
	if (fstat(top, &topst) != 0) {
		rc = -errno;
		close(top);
		return cl_error_set(err, -rc, "remove %s: %s", name, strerror(-rc));
	}
	int cur = dup(top);
	while (cur >= 0) {
		int child = -1;
		rc = removal_pass(cur, &child);
		if (rc < 0)
			break;
		if (rc == 1) {
			close(cur);
			cur = child;
			continue;
		}
		struct stat cst;
		if (fstat(cur, &cst) != 0) {
			rc = -errno;
			break;
		}
		if (cst.st_ino == topst.st_ino && cst.st_dev == topst.st_dev) {
			rc = 0;
			break;
		}
		/* cur is empty: go up; the parent's next pass removes it */
		int up = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (up < 0) {
			rc = -errno;
			break;
		}
		close(cur);
		cur = up;
	}
	if (cur >= 0)
		close(cur);
	close(top);
	if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
		rc = -errno;
	if (rc < 0)
		return cl_error_set(err, -rc, "remove %s: %s", name, strerror(-rc));
	return 0;
}

static int copy_xattrs(int src, int dst)
{
	char *names = malloc(XATTR_LIST_MAX_BYTES);
	char *value = malloc(XATTR_VALUE_MAX_BYTES);
	int rc = 0;
	if (!names || !value) {
		rc = -ENOMEM;
		goto out;
	}
	ssize_t len = flistxattr(src, names, XATTR_LIST_MAX_BYTES);
	if (len < 0) {
		rc = (errno == ENOTSUP || errno == ERANGE) ? 0 : -errno;
		goto out;
	}
	for (ssize_t off = 0; off < len; off += (ssize_t)strlen(names + off) + 1) {
		const char *n = names + off;
		if (strncmp(n, "user.", 5) != 0)
			continue;
		ssize_t vlen = fgetxattr(src, n, value, XATTR_VALUE_MAX_BYTES);
		if (vlen < 0)
			continue;
		if (fsetxattr(dst, n, value, (size_t)vlen, 0) != 0 && errno != ENOTSUP &&
		    errno != EPERM) {
			rc = -errno;
			goto out;
		}
	}
out:
	free(names);
	free(value);
	return rc;
}

int cl_tree_copy_attrs(int src, int dst, bool copy_owner, struct cl_error *err)
{
	struct stat st;
	if (fstat(src, &st) != 0)
		return cl_error_set(err, errno, "stat: %s", strerror(errno));
	if (copy_owner && fchown(dst, st.st_uid, st.st_gid) != 0)
		return cl_error_set(err, errno, "chown: %s", strerror(errno));
	if (fchmod(dst, st.st_mode & 07777) != 0)
		return cl_error_set(err, errno, "chmod: %s", strerror(errno));
	int rc = copy_xattrs(src, dst);
	if (rc < 0)
		return cl_error_set(err, -rc, "xattrs: %s", strerror(-rc));
	struct timespec ts[2] = { st.st_atim, st.st_mtim };
	if (futimens(dst, ts) != 0)
		return cl_error_set(err, errno, "utimens: %s", strerror(errno));
	return 0;
}

static int copy_data(int in, int out)
{
	if (ioctl(out, FICLONE, in) == 0)
		return 0;
	bool use_cfr = true;
	char *buf = NULL;
	int rc = 0;
	for (;;) {
		ssize_t n;
		if (use_cfr) {
			n = copy_file_range(in, NULL, out, NULL, 1u << 30, 0);
			if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
				      errno == EOPNOTSUPP)) {
				use_cfr = false;
				continue;
			}
		} else {
			if (!buf && !(buf = malloc(1u << 20))) {
				rc = -ENOMEM;
				break;
			}
			n = read(in, buf, 1u << 20);
			for (ssize_t done = 0; n > 0 && done < n;) {
				ssize_t w = write(out, buf + done, (size_t)(n - done));
				if (w < 0) {
					n = -1;
					break;
				}
				done += w;
			}
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
	}
	free(buf);
	return rc;
}

static int copy_file(int src, int dst, const char *name, bool copy_owner, struct cl_error *err)
{
	int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return cl_error_set(err, errno, "%s: open: %s", name, strerror(errno));
	int out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		int e = errno;
		close(in);
		return cl_error_set(err, e, "%s: create: %s", name, strerror(e));
	}
	int rc = copy_data(in, out);
	if (rc < 0)
		rc = cl_error_set(err, -rc, "%s: copy: %s", name, strerror(-rc));
	else if ((rc = cl_tree_copy_attrs(in, out, copy_owner, err)) < 0)
		rc = cl_error_set(err, rc, "%s", name);
	close(in);
	close(out);
	return rc;
}

static int copy_special_attrs(int dst, const char *name, const struct stat *st, bool copy_owner,
			      bool is_link, struct cl_error *err)
{
	if (copy_owner && fchownat(dst, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) != 0)
		return cl_error_set(err, errno, "%s: chown: %s", name, strerror(errno));
	if (!is_link && fchmodat(dst, name, st->st_mode & 07777, 0) != 0)
		return cl_error_set(err, errno, "%s: chmod: %s", name, strerror(errno));
	struct timespec ts[2] = { st->st_atim, st->st_mtim };
	if (utimensat(dst, name, ts, AT_SYMLINK_NOFOLLOW) != 0)
		return cl_error_set(err, errno, "%s: utimens: %s", name, strerror(errno));
	return 0;
}

static int copy_dir(int src, int dst, enum cl_copy_mode mode, bool copy_owner, int depth,
		    struct cl_error *err)
{
	if (depth > CL_TREE_COPY_MAX_DEPTH)
		return cl_error_set(err, EFBIG, "directory tree deeper than %d levels",
				    CL_TREE_COPY_MAX_DEPTH);
	int dfd = dup(src);
	if (dfd < 0)
		return cl_error_set(err, errno, "dup: %s", strerror(errno));
	DIR *d = fdopendir(dfd);
	if (!d) {
		int e = errno;
		close(dfd);
		return cl_error_set(err, e, "opendir: %s", strerror(e));
	}
	int rc = 0;
	char *target = NULL;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		const char *n = e->d_name;
		if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0')))
			continue;
		struct stat st;
		if (fstatat(src, n, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			rc = cl_error_set(err, errno, "%s: stat: %s", n, strerror(errno));
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			if (mkdirat(dst, n, 0700) != 0) {
				rc = cl_error_set(err, errno, "%s: mkdir: %s", n, strerror(errno));
				break;
			}
			int s = openat(src, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int t = openat(dst, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (s < 0 || t < 0)
				rc = cl_error_set(err, errno, "%s: open: %s", n, strerror(errno));
			else if ((rc = copy_dir(s, t, mode, copy_owner, depth + 1, err)) < 0 ||
				 (rc = cl_tree_copy_attrs(s, t, copy_owner, err)) < 0)
				rc = cl_error_set(err, rc, "%s", n);
			if (s >= 0)
				close(s);
			if (t >= 0)
				close(t);
		} else if (S_ISREG(st.st_mode)) {
			if (mode == CL_COPY_LINK) {
				if (linkat(src, n, dst, n, 0) == 0)
					continue;
				/* EMLINK: link count exhausted; EXDEV: another filesystem */
				if (errno != EMLINK && errno != EXDEV) {
					rc = cl_error_set(err, errno, "%s: link: %s", n,
							  strerror(errno));
					break;
				}
			}
			rc = copy_file(src, dst, n, copy_owner, err);
		} else if (S_ISLNK(st.st_mode)) {
			if (!target && !(target = malloc(PATH_MAX))) {
				rc = cl_error_set(err, ENOMEM, "out of memory");
				break;
			}
			ssize_t len = readlinkat(src, n, target, PATH_MAX - 1);
			if (len < 0) {
				rc = cl_error_set(err, errno, "%s: readlink: %s", n, strerror(errno));
				break;
			}
			target[len] = '\0';
			if (symlinkat(target, dst, n) != 0)
				rc = cl_error_set(err, errno, "%s: symlink: %s", n, strerror(errno));
			else
				rc = copy_special_attrs(dst, n, &st, copy_owner, true, err);
		} else if (S_ISFIFO(st.st_mode)) {
			if (mknodat(dst, n, S_IFIFO | 0600, 0) != 0)
				rc = cl_error_set(err, errno, "%s: mkfifo: %s", n, strerror(errno));
			else
				rc = copy_special_attrs(dst, n, &st, copy_owner, false, err);
		}
		/* devices and sockets never come out of the applier; skip them */
	}
	free(target);
	closedir(d);
	return rc;
}

int cl_tree_copy(int src, int dst, enum cl_copy_mode mode, bool copy_owner,
		 struct cl_error *err)
{
	return copy_dir(src, dst, mode, copy_owner, 0, err);
}

int cl_rootfs_remove(const char *path, struct cl_error *err)
{
	char *copy = strdup(path);
	if (!copy)
		return cl_error_set(err, -ENOMEM, "remove %s: out of memory", path);
	char *slash = strrchr(copy, '/');
	const char *parent = ".", *name = copy;
	if (slash) {
		*slash = '\0';
		parent = slash == copy ? "/" : copy;
		name = slash + 1;
	}
	int rc;
	if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		rc = cl_error_set(err, -EINVAL, "remove %s: not a removable directory name", path);
	} else {
		const int dirfd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0) {
			rc = errno == ENOENT ? 0
					     : cl_error_set(err, -errno, "remove %s: %s", path,
							    strerror(errno));
		} else {
			rc = cl_tree_remove(dirfd, name, NULL, err);
			close(dirfd);
		}
	}
	free(copy);
	return rc;
}
