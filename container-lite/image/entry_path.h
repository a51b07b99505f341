/* Names inside a layer: normalising a tar entry name (or hard-link target) into a clean
 * relative path, splitting it, and quoting untrusted names for error messages. */
#ifndef CL_IMAGE_ENTRY_PATH_H
#define CL_IMAGE_ENTRY_PATH_H

#include <stddef.h>

#define CL_ENTRY_PATH_MAX  4096   /* bytes, including the NUL */
#define CL_ENTRY_MAX_DEPTH 128    /* components */
#define CL_ENTRY_NAME_MAX  255    /* bytes per component */

/* Normalises name: leading "/" removed, "." components, repeated and trailing "/" dropped.
 * Refuses ".." components, over-long names and components, more than CL_ENTRY_MAX_DEPTH
 * components: returns -EBADMSG and sets *why. On success out holds the clean path ("" for
 * the root itself). */
int cl_entry_path_normalise(const char *name, char out[CL_ENTRY_PATH_MAX], const char **why);

/* Splits a clean path at its last '/': dir gets the parent ("" for the root), *base points
 * into path at the last component. */
void cl_entry_path_split(const char *path, char dir[CL_ENTRY_PATH_MAX], const char **base);

/* Copies s into buf (len bytes) for a message: printable ASCII as is, anything else as
 * \xNN, cut with "..." when long. Returns buf. */
const char *cl_quote(const char *s, char *buf, size_t len);

#endif
