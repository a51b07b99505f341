/* Test images written by the tests themselves: layers as tar streams built entry by entry
 * with libarchive's writer (names are written verbatim, so hostile names are possible),
 * compressed as asked, stored as blobs of an OCI layout with their digests, diff_ids,
 * configs, manifests and index. Nothing is downloaded. Aborts on setup failures: they are
 * bugs of the test, not outcomes. */
#ifndef CL_TEST_OCI_BUILDER_H
#define CL_TEST_OCI_BUILDER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "container-lite/image.h"

#define TB_MTIME 1700000000   /* the default mtime of entries */

struct tb_layer;

struct tb_layer *tb_layer_new(void);
void tb_layer_free(struct tb_layer *l);

/* Entries, in the order they are added. Names are used verbatim. */
void tb_file(struct tb_layer *l, const char *name, const char *content, mode_t mode);
void tb_file_data(struct tb_layer *l, const char *name, const void *data, size_t len,
		  mode_t mode, int64_t uid, int64_t gid, time_t mtime);
/* A regular-file header declaring size bytes, followed by only have bytes of zeros. */
void tb_file_truncated(struct tb_layer *l, const char *name, int64_t size, size_t have);
void tb_file_xattr(struct tb_layer *l, const char *name, const char *content,
		   const char *xattr, const char *value);
void tb_dir(struct tb_layer *l, const char *name, mode_t mode);
void tb_dir_ex(struct tb_layer *l, const char *name, mode_t mode, int64_t uid, int64_t gid,
	       time_t mtime);
void tb_symlink(struct tb_layer *l, const char *name, const char *target);
void tb_hardlink(struct tb_layer *l, const char *name, const char *target);
void tb_fifo(struct tb_layer *l, const char *name, mode_t mode);
void tb_device(struct tb_layer *l, const char *name, char type /* 'c' or 'b' */,
	       unsigned major, unsigned minor);
/* "dir/.wh.base" for name "dir/base". */
void tb_whiteout(struct tb_layer *l, const char *name);
/* "dir/.wh..wh..opq" ("" for the root). */
void tb_opaque(struct tb_layer *l, const char *dir);

/* The finished tar stream (uncompressed). Valid until tb_layer_free. */
const void *tb_layer_tar(struct tb_layer *l, size_t *len);

struct tb_desc {
	char media_type[128];
	char digest[80];
	uint64_t size;
	char diff_id[80];       /* layers only */
};

struct tb_image;

/* Starts a layout in dir (created; must not exist). */
struct tb_image *tb_image_new(const char *dir);
void tb_image_free(struct tb_image *img);
const char *tb_image_dir(const struct tb_image *img);

/* Stores raw bytes as a blob. */
void tb_blob(struct tb_image *img, const void *data, size_t len, const char *media_type,
	     struct tb_desc *out);
/* Stores the layer compressed as c. */
void tb_add_layer(struct tb_image *img, struct tb_layer *l, enum cl_layer_compression c,
		  struct tb_desc *out);

/* Config JSON fields; NULL/0 means absent. Arrays are NULL-terminated. */
struct tb_config {
	const char *os;             /* default "linux" */
	const char *arch;           /* default the machine's */
	const char *variant;
	const char *const *entrypoint;
	const char *const *cmd;
	const char *const *env;
	const char *workdir;
	const char *user;
};
/* A config blob for layers (their diff_ids in order). */
void tb_add_config(struct tb_image *img, const struct tb_config *cfg,
		   const struct tb_desc *layers, size_t n, struct tb_desc *out);
void tb_add_manifest(struct tb_image *img, const struct tb_desc *config,
		     const struct tb_desc *layers, size_t n, struct tb_desc *out);
/* A nested image index of manifests with platforms "os/arch[/variant]". */
void tb_add_index(struct tb_image *img, const struct tb_desc *manifests,
		  const char *const *platforms, size_t n, struct tb_desc *out);

/* Adds an entry to index.json (ref and platform may be NULL). */
void tb_index_entry(struct tb_image *img, const struct tb_desc *d, const char *ref,
		    const char *platform);
/* Writes oci-layout and index.json. */
void tb_image_finish(struct tb_image *img);

/* Layers → config → manifest → index.json entry (ref may be NULL), in one call. */
void tb_simple_image(struct tb_image *img, struct tb_layer *const *layers, size_t n,
		     enum cl_layer_compression c, const struct tb_config *cfg, const char *ref,
		     struct tb_desc *manifest_out);

/* Writes the layout directory dir as an uncompressed tar archive at path. */
void tb_archive_layout(const char *dir, const char *path);

/* The machine's OCI architecture name ("amd64", "arm64"...). */
const char *tb_machine_arch(void);

/* Path of a blob file of the layout (for tampering). */
void tb_blob_path(const struct tb_image *img, const char *digest, char *out, size_t len);

#endif
