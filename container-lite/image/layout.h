/* Reading an OCI image layout — a directory, or an uncompressed tar archive of one — as a
 * set of named files: small documents read whole (bounded, verified when they are blobs),
 * and blobs streamed in blocks for the layer reader. */
#ifndef CL_IMAGE_LAYOUT_H
#define CL_IMAGE_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "container-lite/error.h"
#include "container-lite/image.h"

/* Blob streams deliver blocks of at most this size. */
#define CL_BLOB_BLOCK (1u << 20)

struct cl_layout;
struct cl_blob;

/* Opens path: a directory holding a layout, or a tar archive of one. */
int cl_layout_open(const char *path, struct cl_layout **out, struct cl_error *err);
void cl_layout_close(struct cl_layout *l);
bool cl_layout_is_archive(const struct cl_layout *l);

/* Reads a top-level file of the layout ("oci-layout", "index.json"), at most max bytes.
 * *buf is NUL-terminated (the NUL is not counted in *len); free() it. */
int cl_layout_read_file(struct cl_layout *l, const char *name, size_t max, char **buf,
			size_t *len, struct cl_error *err);

/* Reads the blob of d whole: its stored size must equal d->size and be at most max, and
 * its content must match d->digest. what names the blob in messages. *buf is
 * NUL-terminated; free() it. */
int cl_layout_read_blob(struct cl_layout *l, const struct cl_image_descriptor *d, size_t max,
			const char *what, char **buf, struct cl_error *err);

/* Opens the blob with digest for streaming after checking that it exists and that its
 * stored size equals size. Does not verify content: the reader hashes what it reads. */
int cl_blob_open(struct cl_layout *l, const char *digest, uint64_t size, const char *what,
		 struct cl_blob **out, struct cl_error *err);

/* The next block of the blob: returns its length (> 0) with *data valid until the next
 * call, 0 at the end (after exactly the declared size), or a negative errno. */
ssize_t cl_blob_read(struct cl_blob *b, const void **data, struct cl_error *err);

void cl_blob_close(struct cl_blob *b);

#endif
