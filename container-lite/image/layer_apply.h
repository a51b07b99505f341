/* The layer applier: takes the entries of a layer's tar stream (a libarchive reader) and
 * applies them to a root filesystem directory with the OCI changeset rules — whiteouts,
 * opaque directories, replace-unless-both-directories — writing only through *at() calls
 * relative to the rootfs descriptor, with paths resolved inside it. */
#ifndef CL_IMAGE_LAYER_APPLY_H
#define CL_IMAGE_LAYER_APPLY_H

#include <archive.h>

#include "container-lite/error.h"
#include "container-lite/image.h"

/* The name of the xattr recording the image's uid:gid:mode under CL_OWNER_SELF. */
#define CL_OWNER_XATTR "user.containerlite.owner"

struct cl_applier;

/* Fills in the defaults of opts: limits, the ownership policy for this process (AUTO →
 * PRESERVE as root, SELF otherwise) and the effective resolver. */
void cl_unpack_options_resolve(const struct cl_unpack_options *opts,
			       struct cl_unpack_options *out);

/* Bytes a layer's decompressed tar stream may have under opts (resolved). */
uint64_t cl_unpack_stream_limit(const struct cl_unpack_options *opts);

/* Prepares an applier writing into the directory rootfd (kept open by the caller for the
 * applier's life). opts must be resolved; stats (may be NULL) accumulates. */
int cl_applier_new(int rootfd, const struct cl_unpack_options *opts,
		   struct cl_unpack_stats *stats, struct cl_applier **out, struct cl_error *err);

/* Points the applier at another rootfs directory (limits keep counting). */
void cl_applier_set_root(struct cl_applier *ap, int rootfd);

/* Applies every entry of the tar reader as one layer; what names the layer in messages.
 * Limits count across all layers applied by this applier. */
int cl_applier_apply(struct cl_applier *ap, struct archive *tar, const char *what,
		     struct cl_error *err);

void cl_applier_free(struct cl_applier *ap);

#endif
