/* Unpacking an image into a rootfs directory: every layer streamed, verified and applied
 * into a temporary sibling directory, which is renamed onto the target only when all of it
 * passed, and removed otherwise. Also: verifying layers without unpacking them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container-lite/image.h"
#include "image_internal.h"
#include "layer_apply.h"
#include "layer_stream.h"
#include "tree_ops.h"

static void layer_what(const struct cl_image_manifest *m, size_t i, char *buf, size_t len)
{
	snprintf(buf, len, "layer %zu of %zu (%s)", i + 1, m->n_layers, m->layers[i].blob.digest);
}

int cl_unpack_layer(struct cl_image *img, const struct cl_image_manifest *m, size_t i,
		    struct cl_applier *ap, uint64_t stream_limit, struct cl_unpack_stats *stats,
		    struct cl_error *err)
{
	char what[160];
	layer_what(m, i, what, sizeof(what));
	struct cl_layer_stream *s;
	int rc = cl_layer_stream_open(img->layout, &m->layers[i], what, stream_limit, &s, err);
	if (rc < 0)
		return rc;
	struct archive *tar = cl_layer_stream_tar(s);
	struct cl_error aerr = { 0 };
	int arc = tar ? cl_applier_apply(ap, tar, what, &aerr) : -EBADMSG;
	rc = cl_layer_stream_finish(s, arc, &aerr, err);
	cl_layer_stream_close(s);
	if (rc == 0 && stats)
		stats->layers_applied++;
	return rc;
}

static int dir_is_empty(int parent, const char *name)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return -e;
	}
	int empty = 1;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			empty = 0;
			break;
		}
	}
	closedir(d);
	return empty;
}

static void tmp_release(struct cl_tmp_dir *t)
{
	if (t->parent_fd >= 0)
		close(t->parent_fd);
	free(t->tmp_name);
	free(t->final_name);
	t->parent_fd = -1;
	t->tmp_name = t->final_name = NULL;
}

int cl_tmp_sibling(const char *path, const char *tag, struct cl_tmp_dir *t,
		   struct cl_error *err)
{
	*t = (struct cl_tmp_dir){ .parent_fd = -1 };
	char *copy = strdup(path);
	char *copy2 = strdup(path);
	int rc = 0, fd = -1;
	if (!copy || !copy2) {
		rc = cl_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	size_t len = strlen(copy);
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	strcpy(copy2, copy);
	const char *name = basename(copy);
	const char *parent = dirname(copy2);
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strcmp(name, "/") == 0) {
		rc = cl_error_set(err, EINVAL, "%s: not a usable target directory name", path);
		goto out;
	}
	if (!(t->final_name = strdup(name))) {
		rc = cl_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	t->parent_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->parent_fd < 0) {
		/* ENOTDIR, not ENOENT: the caller's directory is missing, not part of the image */
		int e = errno == ENOENT ? ENOTDIR : errno;
		rc = cl_error_set(err, e, "%s: parent directory %s: %s (create it first)", path,
				  parent, strerror(errno));
		goto out;
	}
	struct stat st;
	if (fstatat(t->parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			rc = cl_error_set(err, EEXIST, "%s exists and is not a directory", path);
			goto out;
		}
		int empty = dir_is_empty(t->parent_fd, name);
		if (empty <= 0) {
			rc = cl_error_set(err, empty < 0 ? -empty : EEXIST,
					  "%s exists and is not empty", path);
			goto out;
		}
	} else if (errno != ENOENT) {
		rc = cl_error_set(err, errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	size_t tlen = strlen(name) + strlen(tag) + 24;
	if (!(t->tmp_name = malloc(tlen))) {
		rc = cl_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	for (int attempt = 0;; attempt++) {
		unsigned char rnd[6];
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			rc = cl_error_set(err, errno, "getrandom: %s", strerror(errno));
			goto out;
		}
		/* keep the name within NAME_MAX whatever the target's name */
		snprintf(t->tmp_name, tlen, ".%.200s.%s-%02x%02x%02x%02x%02x%02x", name, tag,
			 rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
		if (mkdirat(t->parent_fd, t->tmp_name, 0700) == 0)
			break;
		if (errno != EEXIST || attempt > 100) {
			rc = cl_error_set(err, errno, "%s: creating the temporary directory: %s",
					  path, strerror(errno));
			goto out;
		}
	}
	fd = openat(t->parent_fd, t->tmp_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	/* exactly 0700: no set-group-ID inherited from the parent */
	if (fd < 0 || fchmod(fd, 0700) != 0) {
		rc = cl_error_set(err, errno, "%s: %s", t->tmp_name, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlinkat(t->parent_fd, t->tmp_name, AT_REMOVEDIR);
		goto out;
	}
	rc = fd;
out:
	if (rc < 0)
		tmp_release(t);
	free(copy);
	free(copy2);
	return rc;
}

int cl_tmp_publish(struct cl_tmp_dir *t, const char *path, struct cl_error *err)
{
	int rc = 0;
	if (renameat(t->parent_fd, t->tmp_name, t->parent_fd, t->final_name) != 0) {
		int e = errno;
		cl_tree_remove(t->parent_fd, t->tmp_name, NULL, NULL);
		if (e == ENOTEMPTY || e == EEXIST || e == ENOTDIR)
			rc = cl_error_set(err, EEXIST, "%s appeared meanwhile; nothing written", path);
		else
			rc = cl_error_set(err, e, "%s: rename into place: %s", path, strerror(e));
	}
	tmp_release(t);
	return rc;
}

void cl_tmp_discard(struct cl_tmp_dir *t, struct cl_error *err)
{
	struct cl_error rm = { 0 };
	if (t->tmp_name && cl_tree_remove(t->parent_fd, t->tmp_name, NULL, &rm) < 0)
		cl_error_set(err, rm.code, "(removing the temporary %s failed too: %s)", t->tmp_name,
			     rm.msg);
	tmp_release(t);
}

int cl_image_unpack(struct cl_image *img, const struct cl_image_manifest *m,
		    const char *rootfs, const struct cl_unpack_options *opts,
		    struct cl_unpack_stats *stats, struct cl_error *err)
{
	struct cl_unpack_options o;
	cl_unpack_options_resolve(opts, &o);
	struct cl_unpack_stats local;
	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	stats->resolver = o.resolver;

	struct cl_tmp_dir t;
	int rootfd = cl_tmp_sibling(rootfs, "unpack", &t, err);
	if (rootfd < 0)
		return rootfd;
	struct cl_applier *ap = NULL;
	int rc = cl_applier_new(rootfd, &o, stats, &ap, err);
	uint64_t limit = cl_unpack_stream_limit(&o);
	for (size_t i = 0; rc == 0 && i < m->n_layers; i++)
		rc = cl_unpack_layer(img, m, i, ap, limit, stats, err);
	cl_applier_free(ap);
	if (rc == 0 && o.owner == CL_OWNER_PRESERVE && o.id_shift &&
	    fchown(rootfd, o.id_shift, o.id_shift) != 0)
		rc = cl_error_set(err, errno, "%s: chown: %s", rootfs, strerror(errno));
	if (rc == 0 && fchmod(rootfd, 0755) != 0)
		rc = cl_error_set(err, errno, "%s: chmod: %s", rootfs, strerror(errno));
	close(rootfd);
	if (rc == 0)
		return cl_tmp_publish(&t, rootfs, err);
	cl_tmp_discard(&t, err);
	return rc;
}

int cl_image_verify_layers(struct cl_image *img, const struct cl_image_manifest *m,
			   struct cl_error *err)
{
	struct cl_unpack_options o;
	cl_unpack_options_resolve(NULL, &o);
	uint64_t limit = cl_unpack_stream_limit(&o);
	for (size_t i = 0; i < m->n_layers; i++) {
		char what[160];
		layer_what(m, i, what, sizeof(what));
		struct cl_layer_stream *s;
		int rc = cl_layer_stream_open(img->layout, &m->layers[i], what, limit, &s, err);
		if (rc < 0)
			return rc;
		struct archive *tar = cl_layer_stream_tar(s);
		struct cl_error aerr = { 0 };
		int arc = tar ? 0 : -EBADMSG;
		uint64_t n = 0;
		while (tar && arc == 0) {
			struct archive_entry *e;
			int r = archive_read_next_header(tar, &e);
			if (r == ARCHIVE_EOF)
				break;
			if (r < ARCHIVE_WARN || ++n > o.max_entries)
				arc = cl_error_set(&aerr, r < ARCHIVE_WARN ? EBADMSG : EFBIG,
						   "%s: damaged tar stream: %s", what,
						   archive_error_string(tar) ? archive_error_string(tar)
									     : "too many entries");
			/* the data is read (and hashed) by the next header call */
		}
		rc = cl_layer_stream_finish(s, arc, &aerr, err);
		cl_layer_stream_close(s);
		if (rc < 0)
			return rc;
	}
	return 0;
}
