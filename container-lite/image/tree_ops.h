/* Whole-tree operations on directories we own: removing a tree without following symlinks
 * (and without one descriptor per level), and copying a tree as hard links or as data. */
#ifndef CL_IMAGE_TREE_OPS_H
#define CL_IMAGE_TREE_OPS_H

#include <stdbool.h>

#include "container-lite/error.h"
#include "container-lite/image.h"

#define CL_TREE_COPY_MAX_DEPTH 128   /* three descriptors per level while copying */

/* Removes dirfd/name whatever it is (a directory with all its content); symlinks are
 * removed, never followed. A missing name is not an error. Sets *removed_dir_or_link (may
 * be NULL) when what was removed could have been a path component (a directory or a
 * symlink). */
int cl_tree_remove(int dirfd, const char *name, bool *removed_dir_or_link,
		   struct cl_error *err);

/* Copies the content of directory src into the empty directory dst: directories are
 * recreated, regular files hard-linked (CL_COPY_LINK, falling back to a data copy when the
 * link count is exhausted) or copied (CL_COPY_DATA: reflink, else copy_file_range),
 * symlinks and FIFOs recreated; modes, times, user.* xattrs, and ownership when
 * copy_owner. Other file types are skipped. At most CL_TREE_COPY_MAX_DEPTH levels. */
int cl_tree_copy(int src, int dst, enum cl_copy_mode mode, bool copy_owner,
		 struct cl_error *err);

/* Copies mode, ownership (when copy_owner), user.* xattrs and times of src onto dst. */
int cl_tree_copy_attrs(int src, int dst, bool copy_owner, struct cl_error *err);

#endif
