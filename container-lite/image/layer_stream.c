/* Verified layer streams. A compressed layer goes through two libarchive readers: one with
 * the "raw" format and exactly the declared filter (gzip or zstd) decompresses, the other
 * parses tar from its output. Our input callbacks sit between them and hash the blob bytes
 * and the decompressed bytes, so the blob is read once and both digests come for free.
 * No skip callbacks anywhere: every byte must pass through a hasher. */
#include "layer_stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"

#define TRAILING_MAX (1u << 20)   /* decompressed bytes tolerated after the tar end */

struct cl_layer_stream {
	const struct cl_image_layer *layer;
	char what[256];
	struct cl_blob *blob;
	struct cl_hasher *blob_hash;
	struct cl_hasher *diff_hash;
	enum cl_digest_alg blob_alg, diff_alg;
	struct archive *decomp;     /* NULL for an uncompressed layer */
	struct archive *tar;
	uint64_t stream_bytes;      /* decompressed bytes produced */
	uint64_t stream_limit;
	bool failed;                /* err below holds why */
	struct cl_error err;
};

/* Remembers the first failure of our callbacks (the true cause of what libarchive will
 * report) and passes it to the reader. */
static void record(struct cl_layer_stream *s, struct archive *a, int code, const char *reason,
		   const char *detail)
{
	if (!s->failed) {
		s->failed = true;
		cl_error_set(&s->err, code, "%s%s", reason, detail);
	}
	archive_set_error(a, code, "%s", s->err.msg);
}

static int count_stream(struct cl_layer_stream *s, struct archive *a, size_t n)
{
	s->stream_bytes += n;
	if (s->stream_bytes > s->stream_limit) {
		char lim[32];
		snprintf(lim, sizeof(lim), "%llu", (unsigned long long)s->stream_limit);
		record(s, a, EFBIG, "decompressed tar stream exceeds the limit, bytes: ", lim);
		return -1;
	}
	return 0;
}

/* Input of the first reader (or of the tar reader for an uncompressed layer). */
static la_ssize_t blob_read_cb(struct archive *a, void *data, const void **buf)
{
	struct cl_layer_stream *s = data;
	struct cl_error e = { 0 };
	ssize_t n = cl_blob_read(s->blob, buf, &e);
	if (n < 0) {
		record(s, a, (int)-n, "", e.msg);
		return -1;
	}
	cl_hasher_update(s->blob_hash, *buf, (size_t)n);
	if (!s->decomp) {
		if (s->diff_hash)
			cl_hasher_update(s->diff_hash, *buf, (size_t)n);
		if (count_stream(s, a, (size_t)n) < 0)
			return -1;
	}
	return n;
}

/* Input of the tar reader for a compressed layer: the decompressor's output blocks. */
static la_ssize_t decomp_read_cb(struct archive *a, void *data, const void **buf)
{
	struct cl_layer_stream *s = data;
	size_t size;
	la_int64_t offset;
	int r = archive_read_data_block(s->decomp, buf, &size, &offset);
	if (r == ARCHIVE_EOF)
		return 0;
	if (r < ARCHIVE_WARN) {
		if (!s->failed)
			record(s, a, EBADMSG, "decompression failed: ",
			       archive_error_string(s->decomp) ? archive_error_string(s->decomp) :
								 "unknown error");
		else
			archive_set_error(a, s->err.code < 0 ? -s->err.code : EIO, "%s", s->err.msg);
		return -1;
	}
	cl_hasher_update(s->diff_hash, *buf, size);
	if (count_stream(s, a, size) < 0)
		return -1;
	return (la_ssize_t)size;
}

/* Records why the stream cannot be read (unless one of our callbacks already did). */
static void defer_failure(struct cl_layer_stream *s, struct archive *a, const char *what)
{
	if (s->failed)
		return;
	s->failed = true;
	cl_error_set(&s->err, EBADMSG, "%s: %s", what,
		     archive_error_string(a) ? archive_error_string(a) : "unknown error");
}

static int enable_filter(struct archive *a, enum cl_layer_compression c)
{
	int r = c == CL_LAYER_GZIP ? archive_read_support_filter_gzip(a) :
				     archive_read_support_filter_zstd(a);
	/* ARCHIVE_WARN means libarchive would exec an external decompressor: refused */
	return r == ARCHIVE_OK ? 0 : -1;
}

int cl_layer_stream_open(struct cl_layout *l, const struct cl_image_layer *layer,
			 const char *what, uint64_t stream_limit, struct cl_layer_stream **out,
			 struct cl_error *err)
{
	*out = NULL;
	struct cl_layer_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return cl_error_set(err, ENOMEM, "%s: out of memory", what);
	s->layer = layer;
	s->stream_limit = stream_limit;
	snprintf(s->what, sizeof(s->what), "%s", what);
	int rc;
	if ((rc = cl_digest_parse(layer->blob.digest, &s->blob_alg, err, what)) < 0 ||
	    (rc = cl_digest_parse(layer->diff_id, &s->diff_alg, err, what)) < 0)
		goto fail;
	s->blob_hash = cl_hasher_new(s->blob_alg);
	s->diff_hash = cl_hasher_new(s->diff_alg);
	if (!s->blob_hash || !s->diff_hash) {
		rc = cl_error_set(err, ENOMEM, "%s: out of memory", what);
		goto fail;
	}
	if ((rc = cl_blob_open(l, layer->blob.digest, layer->blob.size, what, &s->blob, err)) < 0)
		goto fail;

	if (layer->compression != CL_LAYER_TAR) {
		s->decomp = archive_read_new();
		if (!s->decomp) {
			rc = cl_error_set(err, ENOMEM, "%s: out of memory", what);
			goto fail;
		}
		archive_read_support_format_raw(s->decomp);
		if (enable_filter(s->decomp, layer->compression) < 0) {
			rc = cl_error_set(err, ENOTSUP,
					  "%s: %s decompression is not built into libarchive here",
					  what, cl_image_compression_name(layer->compression));
			goto fail;
		}
		/* decode failures are only recorded here: finish() checks the blob digest first,
		 * so tampering is reported as such */
		if (archive_read_open(s->decomp, s, NULL, blob_read_cb, NULL) != ARCHIVE_OK) {
			defer_failure(s, s->decomp, "cannot decompress");
			goto out;
		}
		int want = layer->compression == CL_LAYER_GZIP ? ARCHIVE_FILTER_GZIP :
								 ARCHIVE_FILTER_ZSTD;
		if (archive_filter_code(s->decomp, 0) != want) {
			if (!s->failed) {
				s->failed = true;
				cl_error_set(&s->err, EBADMSG, "media type says %s but the blob is not",
					     cl_image_compression_name(layer->compression));
			}
			goto out;
		}
		struct archive_entry *e;
		if (archive_read_next_header(s->decomp, &e) != ARCHIVE_OK) {
			defer_failure(s, s->decomp, "cannot decompress");
			goto out;
		}
	}

	s->tar = archive_read_new();
	if (!s->tar) {
		rc = cl_error_set(err, ENOMEM, "%s: out of memory", what);
		goto fail;
	}
	archive_read_support_format_tar(s->tar);
	archive_read_support_filter_none(s->tar);
	int r = archive_read_open(s->tar, s, NULL, s->decomp ? decomp_read_cb : blob_read_cb, NULL);
	if (r != ARCHIVE_OK) {
		defer_failure(s, s->tar, "not a tar archive");
		archive_read_free(s->tar);
		s->tar = NULL;
	}
out:
	*out = s;
	return 0;
fail:
	cl_layer_stream_close(s);
	return rc;
}

struct archive *cl_layer_stream_tar(struct cl_layer_stream *s)
{
	return s->tar;
}

/* Reads the decompressed bytes the tar reader did not need (padding after the end
 * blocks): they are part of the diff_id. */
static int drain_decompressed(struct cl_layer_stream *s, struct cl_error *err)
{
	uint64_t trailing = 0;
	for (;;) {
		const void *buf;
		size_t size;
		la_int64_t off;
		int r = archive_read_data_block(s->decomp, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return cl_error_set(err, s->failed ? s->err.code : EBADMSG,
					    "%s: decompression failed: %s", s->what,
					    s->failed ? s->err.msg : archive_error_string(s->decomp));
		cl_hasher_update(s->diff_hash, buf, size);
		trailing += size;
		if (trailing > TRAILING_MAX)
			return cl_error_set(err, EBADMSG,
					    "%s: more than %u bytes after the end of the tar archive",
					    s->what, TRAILING_MAX);
	}
}

/* Reads (and hashes) the rest of the blob itself. */
static int drain_blob(struct cl_layer_stream *s, bool also_diff, struct cl_error *err)
{
	for (;;) {
		const void *buf;
		ssize_t n = cl_blob_read(s->blob, &buf, err);
		if (n < 0)
			return cl_error_set(err, (int)n, "%s", s->what);
		if (n == 0)
			return 0;
		cl_hasher_update(s->blob_hash, buf, (size_t)n);
		if (also_diff)
			cl_hasher_update(s->diff_hash, buf, (size_t)n);
	}
}

int cl_layer_stream_finish(struct cl_layer_stream *s, int apply_rc,
			   const struct cl_error *apply_err, struct cl_error *err)
{
	bool applied = apply_rc == 0 && s->tar;
	/* an I/O error or a limit hit inside our callbacks is the cause of whatever the
	 * readers reported */
	if (s->failed && s->err.code != -EBADMSG)
		return cl_error_set(err, s->err.code, "%s: %s", s->what, s->err.msg);

	int rc = 0;
	struct cl_error drain_err = { 0 };
	if (applied && s->decomp)
		rc = drain_decompressed(s, &drain_err);
	/* the raw blob is always drained: its digest is checked whatever happened above */
	struct cl_error blob_err = { 0 };
	int brc = drain_blob(s, applied && !s->decomp, &blob_err);
	if (brc < 0 && brc != -EBADMSG)
		return cl_error_set(err, brc, "%s", blob_err.msg);

	char got[CL_DIGEST_STR_MAX];
	cl_hasher_final(s->blob_hash, got);
	if (brc == 0 && strcmp(got, s->layer->blob.digest) != 0)
		return cl_error_set(err, EBADMSG,
				    "%s: blob digest mismatch: content hashes to %s (tampered or "
				    "corrupt)",
				    s->what, got);
	if (brc < 0)
		return cl_error_set(err, brc, "%s", blob_err.msg);
	/* a decode failure of ours is the direct cause of what the tar reader reported */
	if (s->failed)
		return cl_error_set(err, s->err.code, "%s: %s", s->what, s->err.msg);
	if (apply_rc < 0) {
		if (apply_err && apply_err->code)
			return cl_error_set(err, apply_err->code, "%s", apply_err->msg);
		return cl_error_set(err, apply_rc, "%s: failed", s->what);
	}
	if (rc < 0)
		return cl_error_set(err, rc, "%s", drain_err.msg);
	cl_hasher_final(s->diff_hash, got);
	if (strcmp(got, s->layer->diff_id) != 0)
		return cl_error_set(err, EBADMSG,
				    "%s: diff_id mismatch: uncompressed content hashes to %s, the "
				    "config says %s",
				    s->what, got, s->layer->diff_id);
	return 0;
}

void cl_layer_stream_close(struct cl_layer_stream *s)
{
	if (!s)
		return;
	if (s->tar)
		archive_read_free(s->tar);
	if (s->decomp)
		archive_read_free(s->decomp);
	cl_blob_close(s->blob);
	cl_hasher_free(s->blob_hash);
	cl_hasher_free(s->diff_hash);
	free(s);
}
