/* What the image modules share about an opened image: its layout reader and its parsed
 * top-level index. */
#ifndef CL_IMAGE_INTERNAL_H
#define CL_IMAGE_INTERNAL_H

#include "layout.h"
#include "oci_json.h"

struct cl_image {
	struct cl_layout *layout;
	struct cl_oci_index index;
};

struct cl_applier;

/* Streams layer i of m, verified, through the applier (into its current root); counts it
 * in stats->layers_applied. */
int cl_unpack_layer(struct cl_image *img, const struct cl_image_manifest *m, size_t i,
		    struct cl_applier *ap, uint64_t stream_limit, struct cl_unpack_stats *stats,
		    struct cl_error *err);

/* A temporary sibling directory of a target path, renamed onto it when complete. */
struct cl_tmp_dir {
	int parent_fd;
	char *tmp_name;         /* ".<name>.<tag>-<random>" in the parent */
	char *final_name;
};

/* Creates "<parent>/.<name>.<tag>-<random>" (mode 0700) for the target path, after checking
 * that the parent exists and path does not exist or is an empty directory (-EEXIST
 * otherwise). Returns a descriptor of the new directory. */
int cl_tmp_sibling(const char *path, const char *tag, struct cl_tmp_dir *t,
		   struct cl_error *err);

/* Renames the temporary directory onto the target (absent, or an empty directory); on
 * failure removes it. Releases t. */
int cl_tmp_publish(struct cl_tmp_dir *t, const char *path, struct cl_error *err);

/* Removes the temporary directory and releases t; err gets context if removal fails. */
void cl_tmp_discard(struct cl_tmp_dir *t, struct cl_error *err);

#endif
