/* A layer blob as a verified tar stream: the blob is read once, hashed as it is read
 * (its digest), decompressed by libarchive according to its media type, hashed again
 * (its diff_id) and handed to a libarchive tar reader. */
#ifndef CL_IMAGE_LAYER_STREAM_H
#define CL_IMAGE_LAYER_STREAM_H

#include <archive.h>

#include "container-lite/error.h"
#include "container-lite/image.h"
#include "layout.h"

struct cl_layer_stream;

/* Opens layer's blob from l (existence and size checked) and the tar reader over it.
 * stream_limit bounds the decompressed bytes. what names the layer in messages. */
int cl_layer_stream_open(struct cl_layout *l, const struct cl_image_layer *layer,
			 const char *what, uint64_t stream_limit, struct cl_layer_stream **out,
			 struct cl_error *err);

/* The tar reader: read its entries, then call cl_layer_stream_finish(). */
struct archive *cl_layer_stream_tar(struct cl_layer_stream *s);

/* Drains what the tar reader left, then checks blob size, digest and diff_id. apply_rc
 * and apply_err are the outcome of reading the entries: when that failed, the blob is
 * still hashed so that a tampered blob is reported as a digest mismatch (a truer cause
 * than the decode error it provoked); otherwise apply_err is reported. */
int cl_layer_stream_finish(struct cl_layer_stream *s, int apply_rc,
			   const struct cl_error *apply_err, struct cl_error *err);

void cl_layer_stream_close(struct cl_layer_stream *s);

#endif
