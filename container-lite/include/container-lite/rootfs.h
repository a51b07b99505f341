/* Opening paths inside a root directory as if it were "/": every symlink, ".." and absolute
 * path is resolved within the root (openat2 RESOLVE_IN_ROOT, or a userspace walk on kernels
 * without it). The image unpacker writes through this; the sandbox can open mount targets
 * and working directories through it too. */
#ifndef CONTAINER_LITE_ROOTFS_H
#define CONTAINER_LITE_ROOTFS_H

#include "container-lite/error.h"

/* How paths are resolved inside a root. */
enum cl_resolver {
	CL_RESOLVER_AUTO = 0,   /* openat2 when the kernel (and seccomp) allow it, else the walk */
	CL_RESOLVER_OPENAT2,    /* openat2 only; an error where it is unavailable */
	CL_RESOLVER_FALLBACK,   /* the userspace walk (O_PATH|O_NOFOLLOW per component) */
};

/* Flags of cl_rootfs_open() (not open(2) flags). */
#define CL_ROOTFS_NO_XDEV 0x1u    /* refuse to cross a mount point below the root */

/* Opens path inside the directory rootfd, all symlinks and ".." resolved inside it.
 * open_flags are open(2) flags; with O_NOFOLLOW the last component is not followed (a
 * symlink there gives -ELOOP), with O_PATH the descriptor is a path handle. An empty path
 * or "/" opens the root itself. O_CREAT is not supported. Returns a descriptor (O_CLOEXEC)
 * or a negative errno with err naming the path. */
int cl_rootfs_open(int rootfd, const char *path, int open_flags, unsigned flags,
		   enum cl_resolver resolver, struct cl_error *err);

/* The resolver CL_RESOLVER_AUTO settles on in this process (probing openat2 once):
 * CL_RESOLVER_OPENAT2 or CL_RESOLVER_FALLBACK. Other values are returned unchanged. */
enum cl_resolver cl_rootfs_effective_resolver(enum cl_resolver requested);

/* Removes the directory tree at path (a rootfs made by unpack or materialise), never
 * following a symlink inside it. A missing path is not an error. */
int cl_rootfs_remove(const char *path, struct cl_error *err);

/* "auto", "openat2" or "fallback". */
const char *cl_rootfs_resolver_name(enum cl_resolver resolver);

#endif
