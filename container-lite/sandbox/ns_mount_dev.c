/* The sandbox's /dev: a small tmpfs of our own (the image's /dev is never trusted or
 * shown), holding only null, zero, full, random and urandom bind-mounted from the host, and
 * the fd/stdin/stdout/stderr symlinks into /proc/self. Read-only once built. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "sandbox_internal.h"

const char *const cl_sbx_dev_nodes[5] = { "null", "zero", "full", "random", "urandom" };
/* The memory devices' fixed numbers (Documentation/admin-guide/devices.txt, major 1). */
static const unsigned dev_minor[5] = { 3, 5, 7, 8, 9 };

int cl_sbx_dev_open_host(int hostdev[5], struct cl_error *err)
{
	for (int i = 0; i < 5; i++) {
		char path[32];
		snprintf(path, sizeof(path), "/dev/%s", cl_sbx_dev_nodes[i]);
		hostdev[i] = open(path, O_PATH | O_CLOEXEC);
		if (hostdev[i] < 0)
			return cl_error_set(err, -errno, "/dev: open host %s: %s", path,
					    cl_sbx_errstr(errno));
		/* Check by fd that it is the device we mean, not whatever sits at the path. */
		struct stat st;
		if (fstat(hostdev[i], &st) < 0 || !S_ISCHR(st.st_mode) ||
		    major(st.st_rdev) != 1 || minor(st.st_rdev) != dev_minor[i])
			return cl_error_set(err, -EINVAL, "/dev: host %s is not the character "
					    "device 1:%u", path, dev_minor[i]);
	}
	return 0;
}

int cl_sbx_dev_populate(int devfd, const int hostdev[5], struct cl_error *err)
{
	char src[40], dst[40];
	for (int i = 0; i < 5; i++) {
		cl_cleanup_fd int f = openat(devfd, cl_sbx_dev_nodes[i],
					     O_CREAT | O_EXCL | O_RDONLY | O_NOFOLLOW | O_CLOEXEC,
					     0666);
		if (f < 0)
			return cl_error_set(err, -errno, "/dev/%s: create: %s",
					    cl_sbx_dev_nodes[i], cl_sbx_errstr(errno));
		cl_sbx_fd_path(src, sizeof(src), hostdev[i]);
		cl_sbx_fd_path(dst, sizeof(dst), f);
		if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
			return cl_error_set(err, -errno, "/dev/%s: bind the host device: %s",
					    cl_sbx_dev_nodes[i], cl_sbx_errstr(errno));
	}
	static const char *const links[][2] = {
		{ "fd", "/proc/self/fd" },
		{ "stdin", "/proc/self/fd/0" },
		{ "stdout", "/proc/self/fd/1" },
		{ "stderr", "/proc/self/fd/2" },
	};
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlinkat(links[i][1], devfd, links[i][0]) < 0)
			return cl_error_set(err, -errno, "/dev/%s: symlink: %s", links[i][0],
					    cl_sbx_errstr(errno));
	return 0;
}
