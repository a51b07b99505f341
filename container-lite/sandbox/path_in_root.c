/* Paths inside the rootfs, resolved by the kernel as if the rootfs were "/": openat2 with
 * RESOLVE_IN_ROOT keeps "..", absolute symlinks and relative ones inside it, so an image's
 * symlink can redirect a mount target only to another place in the image, never outside. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "sandbox_internal.h"

static int openat2_in_root(int rootfd, const char *path, int flags, bool no_symlinks)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
			   (no_symlinks ? RESOLVE_NO_SYMLINKS : 0),
	};
	/* EAGAIN: a concurrent rename elsewhere made the kernel unsure ".." stayed inside. */
	for (int attempt = 0; attempt < 32; attempt++) {
		const long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
	return -EAGAIN;
}

int cl_sbx_path_open(int rootfd, const char *path, int flags, bool no_symlinks,
		     struct cl_error *err)
{
	const int fd = openat2_in_root(rootfd, path, flags, no_symlinks);
	if (fd == -ENOSYS)
		return cl_error_set(err, fd, "rootfs path %s: openat2 is missing (Linux >= 5.6 "
				    "needed)", path);
	if (fd == -ELOOP && no_symlinks)
		return cl_error_set(err, fd, "rootfs path %s: is or passes through a symlink; "
				    "refused for this mount point", path);
	if (fd < 0)
		return cl_error_set(err, fd, "rootfs path %s: %s", path, cl_sbx_errstr(fd));
	return fd;
}

static int check_type(int fd, const char *path, bool directory, struct cl_error *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return cl_error_set(err, -errno, "rootfs path %s: %s", path, cl_sbx_errstr(errno));
	if (directory && !S_ISDIR(st.st_mode))
		return cl_error_set(err, -ENOTDIR, "rootfs path %s: exists and is not a "
				    "directory", path);
	if (!directory && S_ISDIR(st.st_mode))
		return cl_error_set(err, -EISDIR, "rootfs path %s: exists and is a directory "
				    "(the source is a file)", path);
	return 0;
}

/* Opens (O_PATH) the mount point path inside the rootfs, creating what is missing: parent
 * directories, then a directory or an empty file as the last component. Each prefix is
 * resolved from the rootfs again, so every step stays under RESOLVE_IN_ROOT. */
int cl_sbx_path_mkpoint(int rootfd, const char *path, bool directory, bool no_symlinks,
			struct cl_error *err)
{
	int fd = openat2_in_root(rootfd, path, O_PATH, no_symlinks);
	if (fd >= 0) {
		const int rc = check_type(fd, path, directory, err);
		if (rc < 0) {
			close(fd);
			return rc;
		}
		return fd;
	}
	if (fd != -ENOENT)
		return cl_sbx_path_open(rootfd, path, O_PATH, no_symlinks, err);

	char prefix[PATH_MAX];
	const size_t len = strlen(path);
	if (len >= sizeof(prefix))
		return cl_error_set(err, -ENAMETOOLONG, "rootfs path %.64s...: too long", path);
	size_t pos = 0;
	while (pos < len) {
		while (pos < len && path[pos] == '/')
			pos++;
		if (pos == len)
			break;
		const size_t start = pos;
		while (pos < len && path[pos] != '/')
			pos++;
		const bool last = path[pos + strspn(path + pos, "/")] == '\0';
		char name[NAME_MAX + 1];
		if (pos - start > NAME_MAX)
			return cl_error_set(err, -ENAMETOOLONG, "rootfs path %s: component too "
					    "long", path);
		memcpy(name, path + start, pos - start);
		name[pos - start] = '\0';
		if (strcmp(name, ".") == 0)
			continue;

		/* The parent: "/" or the prefix before this component. */
		memcpy(prefix, path, start);
		prefix[start] = '\0';
		cl_cleanup_fd int parent = openat2_in_root(rootfd, start ? prefix : "/",
							  O_PATH | O_DIRECTORY, no_symlinks);
		if (parent < 0)
			return cl_error_set(err, parent, "rootfs path %s: parent %s: %s", path,
					    start ? prefix : "/", cl_sbx_errstr(parent));
		int rc = 0;
		if (!last || directory) {
			if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST)
				rc = -errno;
		} else {
			const int f = openat(parent, name,
					     O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
					     0644);
			if (f >= 0)
				close(f);
			else if (errno != EEXIST)
				rc = -errno;
		}
		if (rc < 0)
			return cl_error_set(err, rc, "rootfs path %s: create %s: %s", path, name,
					    cl_sbx_errstr(rc));
	}
	fd = cl_sbx_path_open(rootfd, path, O_PATH, no_symlinks, err);
	if (fd < 0)
		return fd;
	const int rc = check_type(fd, path, directory, err);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}
