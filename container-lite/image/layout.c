/* Image layout access. A directory is read with openat(O_NOFOLLOW) per component and only
 * regular files are accepted; an archive is scanned once with libarchive into a table of
 * entries, and each blob read re-opens it with pread-based callbacks, skipping to the
 * entry without reading the data before it. */
#include "layout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "digest.h"

#define ARCHIVE_MAX_HEADERS 1000000u   /* entries scanned in an archive */
#define ARCHIVE_MAX_FILES   65536u     /* relevant entries kept */
#define ARCHIVE_NAME_MAX    200u       /* "blobs/sha512/" + 128 hex fits */
#define ARCHIVE_READ_BLOCK  (256u << 10)

struct archive_file {
	char name[ARCHIVE_NAME_MAX];
	int64_t offset;         /* where the entry's headers start in the archive */
	uint64_t size;
};

struct cl_layout {
	bool is_archive;
	int fd;                 /* the directory, or the archive file */
	off_t archive_size;
	size_t n_files;
	struct archive_file *files;   /* sorted by name */
};

/* libarchive client over pread at a private offset, so independent readers can share the
 * layout's descriptor. */
struct pread_client {
	int fd;
	off_t pos;
	off_t size;
	char *buf;
};

struct cl_blob {
	struct cl_layout *layout;
	uint64_t size;
	uint64_t done;
	/* directory layouts */
	int fd;
	char *buf;
	/* archives */
	struct archive *a;
	struct pread_client client;
};

bool cl_layout_is_archive(const struct cl_layout *l)
{
	return l->is_archive;
}

static la_ssize_t client_read(struct archive *a, void *data, const void **buf)
{
	struct pread_client *c = data;
	ssize_t n;
	do
		n = pread(c->fd, c->buf, ARCHIVE_READ_BLOCK, c->pos);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(a, errno, "read: %s", strerror(errno));
		return -1;
	}
	c->pos += n;
	*buf = c->buf;
	return n;
}

static la_int64_t client_skip(struct archive *a, void *data, la_int64_t request)
{
	struct pread_client *c = data;
	(void)a;
	la_int64_t left = c->size > c->pos ? c->size - c->pos : 0;
	if (request > left)
		request = left;
	if (request < 0)
		request = 0;
	c->pos += request;
	return request;
}

static struct archive *archive_reader_open(struct pread_client *c, struct cl_error *err,
					   const char *what)
{
	struct archive *a = archive_read_new();
	if (!a) {
		cl_error_set(err, ENOMEM, "%s: out of memory", what);
		return NULL;
	}
	archive_read_support_format_tar(a);
	archive_read_support_filter_none(a);
	archive_read_set_read_callback(a, client_read);
	archive_read_set_skip_callback(a, client_skip);
	archive_read_set_callback_data(a, c);
	if (archive_read_open1(a) != ARCHIVE_OK) {
		cl_error_set(err, EBADMSG, "%s: not a tar archive: %s", what,
			     archive_error_string(a) ? archive_error_string(a) : "unknown format");
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* Relevant archive member names, "./" prefixes removed; NULL for anything else. */
static const char *archive_relevant_name(const char *name)
{
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	while (name[0] == '/')
		name++;
	size_t len = strlen(name);
	if (len == 0 || len >= ARCHIVE_NAME_MAX)
		return NULL;
	if (strcmp(name, "oci-layout") == 0 || strcmp(name, "index.json") == 0 ||
	    strncmp(name, "blobs/", 6) == 0)
		return name;
	return NULL;
}

static int file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct archive_file *)a)->name,
		      ((const struct archive_file *)b)->name);
}

static int detect_compression(int fd, const char *path, struct cl_error *err)
{
	unsigned char m[6] = { 0 };
	ssize_t n = pread(fd, m, sizeof(m), 0);
	if (n < 0)
		return cl_error_set(err, errno, "%s: read: %s", path, strerror(errno));
	const char *kind = NULL;
	if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
		kind = "gzip";
	else if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
		kind = "zstd";
	else if (n >= 6 && memcmp(m, "\xfd" "7zXZ\0", 6) == 0)
		kind = "xz";
	else if (n >= 3 && memcmp(m, "BZh", 3) == 0)
		kind = "bzip2";
	if (kind)
		return cl_error_set(err, ENOTSUP,
				    "%s: a %s-compressed archive; decompress it first (an OCI "
				    "archive is a plain tar)",
				    path, kind);
	return 0;
}

static int archive_index(struct cl_layout *l, const char *path, struct cl_error *err)
{
	int rc = detect_compression(l->fd, path, err);
	if (rc < 0)
		return rc;
	struct pread_client c = { .fd = l->fd, .pos = 0, .size = l->archive_size };
	c.buf = malloc(ARCHIVE_READ_BLOCK);
	if (!c.buf)
		return cl_error_set(err, ENOMEM, "%s: out of memory", path);
	struct archive *a = archive_reader_open(&c, err, path);
	if (!a) {
		free(c.buf);
		return -EBADMSG;
	}
	size_t cap = 0;
	struct archive_entry *e;
	uint64_t ordinal = 0;
	for (;; ordinal++) {
		int r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			rc = cl_error_set(err, EBADMSG, "%s: damaged archive at entry %llu: %s", path,
					  (unsigned long long)ordinal, archive_error_string(a));
			goto out;
		}
		if (ordinal >= ARCHIVE_MAX_HEADERS) {
			rc = cl_error_set(err, EFBIG, "%s: more than %u archive entries", path,
					  ARCHIVE_MAX_HEADERS);
			goto out;
		}
		const char *raw = archive_entry_pathname(e);
		const char *name = raw ? archive_relevant_name(raw) : NULL;
		if (!name || archive_entry_filetype(e) != AE_IFREG)
			continue;
		if (l->n_files == cap) {
			if (cap >= ARCHIVE_MAX_FILES) {
				rc = cl_error_set(err, EFBIG, "%s: more than %u blobs", path,
						  ARCHIVE_MAX_FILES);
				goto out;
			}
			size_t ncap = cap ? cap * 2 : 16;
			struct archive_file *nf = realloc(l->files, ncap * sizeof(*nf));
			if (!nf) {
				rc = cl_error_set(err, ENOMEM, "%s: out of memory", path);
				goto out;
			}
			l->files = nf;
			cap = ncap;
		}
		struct archive_file *f = &l->files[l->n_files++];
		snprintf(f->name, sizeof(f->name), "%s", name);
		f->offset = archive_read_header_position(a);
		f->size = archive_entry_size(e) < 0 ? 0 : (uint64_t)archive_entry_size(e);
	}
	if (l->n_files > 1) /* qsort(NULL, 0, ...) is undefined: an archive may hold no file */
		qsort(l->files, l->n_files, sizeof(*l->files), file_cmp);
	for (size_t i = 1; i < l->n_files; i++) {
		if (strcmp(l->files[i - 1].name, l->files[i].name) == 0) {
			rc = cl_error_set(err, EBADMSG, "%s: two archive entries named %s", path,
					  l->files[i].name);
			goto out;
		}
	}
	rc = 0;
out:
	archive_read_free(a);
	free(c.buf);
	return rc;
}

int cl_layout_open(const char *path, struct cl_layout **out, struct cl_error *err)
{
	*out = NULL;
	struct cl_layout *l = calloc(1, sizeof(*l));
	if (!l)
		return cl_error_set(err, ENOMEM, "%s: out of memory", path);
	l->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (l->fd < 0) {
		int e = errno;
		free(l);
		return cl_error_set(err, e, "image %s: %s", path, strerror(e));
	}
	struct stat st;
	int rc = 0;
	if (fstat(l->fd, &st) != 0) {
		rc = cl_error_set(err, errno, "image %s: %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISREG(st.st_mode)) {
		l->is_archive = true;
		l->archive_size = st.st_size;
		if ((rc = archive_index(l, path, err)) < 0)
			goto fail;
	} else if (!S_ISDIR(st.st_mode)) {
		rc = cl_error_set(err, EBADMSG,
				  "image %s: neither a directory nor an archive file", path);
		goto fail;
	}
	*out = l;
	return 0;
fail:
	cl_layout_close(l);
	return rc;
}

void cl_layout_close(struct cl_layout *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	free(l->files);
	free(l);
}

static const struct archive_file *archive_find(const struct cl_layout *l, const char *name)
{
	struct archive_file key;
	if (l->n_files == 0 || strlen(name) >= sizeof(key.name))
		return NULL; /* bsearch(NULL, 0, ...) is undefined too */
	snprintf(key.name, sizeof(key.name), "%s", name);
	return bsearch(&key, l->files, l->n_files, sizeof(*l->files), file_cmp);
}

/* Opens dir-relative "a/b/c" of a directory layout, refusing symlinks and anything but a
 * regular file at the end. */
static int dir_open_file(struct cl_layout *l, const char *rel, const char *what,
			 struct cl_error *err)
{
	char buf[ARCHIVE_NAME_MAX];
	if (snprintf(buf, sizeof(buf), "%s", rel) >= (int)sizeof(buf))
		return cl_error_set(err, ENAMETOOLONG, "%s: name too long", what);
	int dirfd = l->fd;
	char *comp = buf;
	for (;;) {
		char *slash = strchr(comp, '/');
		if (!slash)
			break;
		*slash = '\0';
		int next = openat(dirfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		if (dirfd != l->fd)
			close(dirfd);
		if (next < 0) {
			if (e == ENOENT)
				return cl_error_set(err, ENOENT, "%s: %s missing from the layout", what,
						    rel);
			return cl_error_set(err, e, "%s: %s: %s", what, rel,
					    e == ENOTDIR || e == ELOOP ? "not a directory" :
									 strerror(e));
		}
		dirfd = next;
		comp = slash + 1;
	}
	int fd = openat(dirfd, comp, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	int e = errno;
	if (dirfd != l->fd)
		close(dirfd);
	if (fd < 0) {
		if (e == ENOENT)
			return cl_error_set(err, ENOENT, "%s: %s missing from the layout", what, rel);
		if (e == ELOOP)
			return cl_error_set(err, EBADMSG, "%s: %s is a symlink (refused)", what, rel);
		return cl_error_set(err, e, "%s: %s: %s", what, rel, strerror(e));
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return cl_error_set(err, EBADMSG, "%s: %s is not a regular file", what, rel);
	}
	/* regular files ignore O_NONBLOCK; it only kept a planted FIFO from blocking open */
	return fd;
}

static int blob_rel_path(const char *digest, char *out, size_t len, const char *what,
			 struct cl_error *err)
{
	enum cl_digest_alg alg;
	int rc = cl_digest_parse(digest, &alg, err, what);
	if (rc < 0)
		return rc;
	snprintf(out, len, "blobs/%s/%s", alg == CL_DIGEST_SHA512 ? "sha512" : "sha256",
		 cl_digest_hex(digest));
	return 0;
}

static int open_named(struct cl_layout *l, const char *rel, uint64_t expect_size,
		      bool check_size, uint64_t max, const char *what, struct cl_blob **out,
		      struct cl_error *err)
{
	*out = NULL;
	struct cl_blob *b = calloc(1, sizeof(*b));
	if (!b)
		return cl_error_set(err, ENOMEM, "%s: out of memory", what);
	b->layout = l;
	b->fd = -1;
	int rc;
	uint64_t stored;
	if (!l->is_archive) {
		b->fd = dir_open_file(l, rel, what, err);
		if (b->fd < 0) {
			rc = b->fd;
			goto fail;
		}
		struct stat st;
		if (fstat(b->fd, &st) != 0) {
			rc = cl_error_set(err, errno, "%s: %s", what, strerror(errno));
			goto fail;
		}
		stored = (uint64_t)st.st_size;
		posix_fadvise(b->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	} else {
		const struct archive_file *f = archive_find(l, rel);
		if (!f) {
			rc = cl_error_set(err, ENOENT, "%s: %s missing from the archive", what, rel);
			goto fail;
		}
		stored = f->size;
		/* a reader started at the entry's own headers: no scan over what precedes it */
		b->client = (struct pread_client){ .fd = l->fd, .pos = f->offset,
						   .size = l->archive_size };
		if (!(b->client.buf = malloc(ARCHIVE_READ_BLOCK))) {
			rc = cl_error_set(err, ENOMEM, "%s: out of memory", what);
			goto fail;
		}
		if (!(b->a = archive_reader_open(&b->client, err, what))) {
			rc = -EBADMSG;
			goto fail;
		}
		struct archive_entry *e = NULL;
		int r = archive_read_next_header(b->a, &e);
		const char *name = r >= ARCHIVE_WARN && r != ARCHIVE_EOF ?
					   archive_entry_pathname(e) : NULL;
		name = name ? archive_relevant_name(name) : NULL;
		if (!name || strcmp(name, rel) != 0 || archive_entry_size(e) < 0 ||
		    (uint64_t)archive_entry_size(e) != f->size) {
			rc = cl_error_set(err, EBADMSG, "%s: archive changed while reading", what);
			goto fail;
		}
	}
	if (check_size && stored != expect_size) {
		rc = cl_error_set(err, EBADMSG, "%s: size mismatch: %llu bytes stored, descriptor "
				  "says %llu",
				  what, (unsigned long long)stored, (unsigned long long)expect_size);
		goto fail;
	}
	if (stored > max) {
		rc = cl_error_set(err, EFBIG, "%s: %llu bytes (limit %llu)", what,
				  (unsigned long long)stored, (unsigned long long)max);
		goto fail;
	}
	b->size = stored;
	*out = b;
	return 0;
fail:
	cl_blob_close(b);
	return rc;
}

int cl_blob_open(struct cl_layout *l, const char *digest, uint64_t size, const char *what,
		 struct cl_blob **out, struct cl_error *err)
{
	char rel[ARCHIVE_NAME_MAX];
	int rc = blob_rel_path(digest, rel, sizeof(rel), what, err);
	if (rc < 0)
		return rc;
	return open_named(l, rel, size, true, UINT64_MAX, what, out, err);
}

ssize_t cl_blob_read(struct cl_blob *b, const void **data, struct cl_error *err)
{
	if (b->done >= b->size)
		return 0;
	uint64_t left = b->size - b->done;
	if (!b->a) {
		if (!b->buf && !(b->buf = malloc(CL_BLOB_BLOCK)))
			return cl_error_set(err, ENOMEM, "out of memory");
		size_t want = left < CL_BLOB_BLOCK ? (size_t)left : CL_BLOB_BLOCK;
		ssize_t n;
		do
			n = read(b->fd, b->buf, want);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return cl_error_set(err, errno, "read: %s", strerror(errno));
		if (n == 0)
			return cl_error_set(err, EBADMSG, "blob shorter than its size (truncated "
					    "while reading)");
		b->done += (uint64_t)n;
		*data = b->buf;
		return n;
	}
	const void *buf;
	size_t size;
	la_int64_t offset;
	int r = archive_read_data_block(b->a, &buf, &size, &offset);
	if (r == ARCHIVE_EOF)
		return cl_error_set(err, EBADMSG, "blob shorter than its size (truncated archive)");
	if (r < ARCHIVE_WARN)
		return cl_error_set(err, EBADMSG, "damaged archive: %s", archive_error_string(b->a));
	if ((uint64_t)offset != b->done)
		return cl_error_set(err, EBADMSG, "sparse archive entry (refused)");
	if (size > left)
		size = (size_t)left;
	b->done += size;
	*data = buf;
	return (ssize_t)size;
}

void cl_blob_close(struct cl_blob *b)
{
	if (!b)
		return;
	if (b->fd >= 0)
		close(b->fd);
	free(b->buf);
	if (b->a)
		archive_read_free(b->a);
	free(b->client.buf);
	free(b);
}

static int read_all(struct cl_blob *b, const char *what, char **buf, size_t *len,
		    struct cl_error *err)
{
	char *out = malloc((size_t)b->size + 1);
	if (!out)
		return cl_error_set(err, ENOMEM, "%s: out of memory", what);
	size_t got = 0;
	for (;;) {
		const void *data;
		ssize_t n = cl_blob_read(b, &data, err);
		if (n < 0) {
			free(out);
			return cl_error_set(err, (int)n, "%s", what);
		}
		if (n == 0)
			break;
		memcpy(out + got, data, (size_t)n);
		got += (size_t)n;
	}
	out[got] = '\0';
	*buf = out;
	*len = got;
	return 0;
}

int cl_layout_read_file(struct cl_layout *l, const char *name, size_t max, char **buf,
			size_t *len, struct cl_error *err)
{
	struct cl_blob *b;
	int rc = open_named(l, name, 0, false, max, name, &b, err);
	if (rc < 0)
		return rc;
	rc = read_all(b, name, buf, len, err);
	cl_blob_close(b);
	return rc;
}

int cl_layout_read_blob(struct cl_layout *l, const struct cl_image_descriptor *d, size_t max,
			const char *what, char **buf, struct cl_error *err)
{
	enum cl_digest_alg alg;
	int rc = cl_digest_parse(d->digest, &alg, err, what);
	if (rc < 0)
		return rc;
	if (d->size > max)
		return cl_error_set(err, EFBIG, "%s: descriptor size %llu exceeds the limit %zu",
				    what, (unsigned long long)d->size, max);
	struct cl_blob *b;
	if ((rc = cl_blob_open(l, d->digest, d->size, what, &b, err)) < 0)
		return rc;
	size_t len;
	char *data;
	rc = read_all(b, what, &data, &len, err);
	cl_blob_close(b);
	if (rc < 0)
		return rc;
	char got[CL_DIGEST_STR_MAX];
	cl_digest_buffer(alg, data, len, got);
	if (strcmp(got, d->digest) != 0) {
		free(data);
		return cl_error_set(err, EBADMSG, "%s: digest mismatch: content hashes to %s",
				    what, got);
	}
	*buf = data;
	return 0;
}
