/* Internal face of the in-root resolver: the raw-errno call the applier uses on its hot
 * path (the public cl_rootfs_open() wraps it with a message). */
#ifndef CL_IMAGE_ROOTFS_RESOLVE_H
#define CL_IMAGE_ROOTFS_RESOLVE_H

#include "container-lite/rootfs.h"

/* Opens path inside rootfd (see cl_rootfs_open()); returns a descriptor or -errno:
 * -ENOENT, -ENOTDIR, -ELOOP, -EXDEV (with CL_ROOTFS_NO_XDEV), -ENAMETOOLONG, -ENOSYS (only
 * when CL_RESOLVER_OPENAT2 is forced on a kernel without it). */
int cl_resolve_open(int rootfd, const char *path, int open_flags, unsigned flags,
		    enum cl_resolver resolver);

#endif
