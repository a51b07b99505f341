/* Shared helpers of the image tests: scratch directories, a canonical listing of a tree
 * (names, types, modes, owners, link targets, contents, mtimes) to compare against the
 * expected one, the resolver chosen on the command line, and one-call unpacks. */
#ifndef CL_TEST_UTIL_H
#define CL_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "container-lite/image.h"

/* The resolver every unpack in this test program uses: argv[1] "openat2", "fallback" or
 * "auto" (default). */
extern enum cl_resolver tu_resolver;
void tu_parse_args(int argc, char **argv);

/* A fresh scratch directory (under $TMPDIR or /tmp); free() the result. */
char *tu_workdir(const char *tag);
/* rm -rf without following symlinks. */
void tu_rm_rf(const char *path);
/* "dir/name" in a static rotating buffer. */
const char *tu_path(const char *dir, const char *name);

#define TU_TREE_MTIME 1u      /* add " @<mtime>" to files and symlinks */
#define TU_TREE_DIR_MTIME 2u  /* and to directories */
/* One sorted line per object below root (root itself excluded):
 *   "d 0755 0:0 path", "f 0644 0:0 path =content", "l 0:0 path -> target",
 *   "p 0644 0:0 path", "c ...", "b ..." — content is shown when short and printable,
 * else "#<size>". free() it. */
char *tu_tree(const char *root, unsigned flags);

/* The names in a directory, sorted, one per line. free() it. */
char *tu_ls(const char *dir);

/* Reads a whole file ("" for an empty one); NULL if it cannot. free() it. */
char *tu_read(const char *path);
bool tu_exists(const char *path);

/* Opens and selects (ref may be NULL) then unpacks with tu_resolver. */
int tu_unpack(const char *image, const char *ref, const char *rootfs,
	      const struct cl_unpack_options *opts, struct cl_unpack_stats *st,
	      struct cl_error *err);

/* Prints a and b when they differ, and returns whether they are equal. */
bool tu_same(const char *what, const char *got, const char *want);

#endif
