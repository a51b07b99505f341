/* The layer cache: one complete tree per chain ID (chains/<alg>-<hex>.<owner-tag>), each
 * built from a hard-link copy of the chain below it plus one applied layer, in tmp/ and
 * published by rename, so concurrent builders need no lock and a crash leaves only a
 * tmp/<pid>-… entry that the next open removes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container-lite/image.h"
#include "digest.h"
#include "image_internal.h"
#include "layer_apply.h"
#include "tree_ops.h"

#define CHAIN_NAME_MAX 256

struct cl_image_cache {
	char *path;
	int dirfd;
	int chains_fd;
	int tmp_fd;
	struct cl_unpack_options o;   /* resolved */
	char tag[48];
};

static int open_subdir(int dirfd, const char *name, const char *path, struct cl_error *err)
{
	if (mkdirat(dirfd, name, 0700) != 0 && errno != EEXIST)
		return cl_error_set(err, errno, "cache %s: mkdir %s: %s", path, name, strerror(errno));
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cl_error_set(err, errno, "cache %s: %s: %s", path, name, strerror(errno));
	return fd;
}

/* Removes tmp/<pid>-… entries whose builder process is gone. */
static void remove_stale(struct cl_image_cache *c)
{
	int fd = dup(c->tmp_fd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (end == e->d_name || *end != '-' || pid <= 0)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		cl_tree_remove(c->tmp_fd, e->d_name, NULL, NULL);
	}
	closedir(d);
}

int cl_image_cache_open(const char *dir, const struct cl_unpack_options *opts,
			struct cl_image_cache **out, struct cl_error *err)
{
	*out = NULL;
	struct cl_image_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return cl_error_set(err, ENOMEM, "out of memory");
	c->dirfd = c->chains_fd = c->tmp_fd = -1;
	cl_unpack_options_resolve(opts, &c->o);
	if (c->o.owner == CL_OWNER_SELF)
		snprintf(c->tag, sizeof(c->tag), "self");
	else
		snprintf(c->tag, sizeof(c->tag), "own-%u-%u", c->o.id_shift, c->o.id_count);
	int rc = 0;
	if (!(c->path = strdup(dir))) {
		rc = cl_error_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		rc = cl_error_set(err, errno == ENOENT ? ENOTDIR : errno,
				  "cache %s: %s (its parent must exist)", dir, strerror(errno));
		goto fail;
	}
	c->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd < 0) {
		rc = cl_error_set(err, errno, "cache %s: %s", dir, strerror(errno));
		goto fail;
	}
	if ((c->chains_fd = open_subdir(c->dirfd, "chains", dir, err)) < 0) {
		rc = c->chains_fd;
		goto fail;
	}
	if ((c->tmp_fd = open_subdir(c->dirfd, "tmp", dir, err)) < 0) {
		rc = c->tmp_fd;
		goto fail;
	}
	remove_stale(c);
	*out = c;
	return 0;
fail:
	cl_image_cache_close(c);
	return rc;
}

void cl_image_cache_close(struct cl_image_cache *c)
{
	if (!c)
		return;
	if (c->dirfd >= 0)
		close(c->dirfd);
	if (c->chains_fd >= 0)
		close(c->chains_fd);
	if (c->tmp_fd >= 0)
		close(c->tmp_fd);
	free(c->path);
	free(c);
}

/* chains/ entry of the stack of layers 0..i (i = -1: the empty image). */
static void chain_name(const struct cl_image_cache *c, const struct cl_image_manifest *m,
		       long i, char name[CHAIN_NAME_MAX])
{
	if (i < 0) {
		snprintf(name, CHAIN_NAME_MAX, "empty.%s", c->tag);
		return;
	}
	const char *id = m->layers[i].chain_id;
	const char *colon = strchr(id, ':');
	snprintf(name, CHAIN_NAME_MAX, "%.*s-%s.%s", (int)(colon - id), id, colon + 1, c->tag);
}

static bool chain_exists(const struct cl_image_cache *c, const char *name)
{
	struct stat st;
	return fstatat(c->chains_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* Creates tmp/<pid>-<random>; returns its descriptor. */
static int make_build_dir(struct cl_image_cache *c, char name[64], struct cl_error *err)
{
	for (int attempt = 0; attempt < 100; attempt++) {
		unsigned char rnd[6];
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return cl_error_set(err, errno, "getrandom: %s", strerror(errno));
		snprintf(name, 64, "%ld-%02x%02x%02x%02x%02x%02x", (long)getpid(), rnd[0], rnd[1],
			 rnd[2], rnd[3], rnd[4], rnd[5]);
		if (mkdirat(c->tmp_fd, name, 0700) == 0) {
			int fd = openat(c->tmp_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0 || fchmod(fd, 0700) != 0) {
				int e = errno;
				if (fd >= 0)
					close(fd);
				cl_tree_remove(c->tmp_fd, name, NULL, NULL);
				return cl_error_set(err, e, "cache %s: tmp/%s: %s", c->path, name,
						    strerror(e));
			}
			return fd;
		}
		if (errno != EEXIST)
			break;
	}
	return cl_error_set(err, errno, "cache %s: creating a build directory: %s", c->path,
			    strerror(errno));
}

/* The root directory of a finished chain: 0755, owned by image root. */
static int finish_root(const struct cl_image_cache *c, int fd, struct cl_error *err)
{
	if (c->o.owner == CL_OWNER_PRESERVE && c->o.id_shift &&
	    fchown(fd, c->o.id_shift, c->o.id_shift) != 0)
		return cl_error_set(err, errno, "chown: %s", strerror(errno));
	if (fchmod(fd, 0755) != 0)
		return cl_error_set(err, errno, "chmod: %s", strerror(errno));
	return 0;
}

/* Moves tmp/build to chains/name; if another builder got there first, ours is dropped. */
static int publish(struct cl_image_cache *c, const char *build, const char *name,
		   struct cl_error *err)
{
	if (renameat(c->tmp_fd, build, c->chains_fd, name) == 0)
		return 0;
	int e = errno;
	cl_tree_remove(c->tmp_fd, build, NULL, NULL);
	if ((e == ENOTEMPTY || e == EEXIST) && chain_exists(c, name))
		return 0;
	return cl_error_set(err, e, "cache %s: publishing chains/%s: %s", c->path, name,
			    strerror(e));
}

/* Builds chain i from chain i-1 (already present) plus layer i. */
static int build_chain(struct cl_image_cache *c, struct cl_image *img,
		       const struct cl_image_manifest *m, long i, struct cl_applier *ap,
		       struct cl_unpack_stats *stats, struct cl_error *err)
{
	char build[64], name[CHAIN_NAME_MAX], below[CHAIN_NAME_MAX];
	chain_name(c, m, i, name);
	int fd = make_build_dir(c, build, err);
	if (fd < 0)
		return fd;
	int rc = 0;
	if (i > 0) {
		chain_name(c, m, i - 1, below);
		int src = openat(c->chains_fd, below, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
							   O_CLOEXEC);
		if (src < 0)
			rc = cl_error_set(err, errno, "cache %s: chains/%s: %s", c->path, below,
					  strerror(errno));
		else
			rc = cl_tree_copy(src, fd, CL_COPY_LINK, c->o.owner == CL_OWNER_PRESERVE, err);
		if (src >= 0)
			close(src);
		if (rc < 0)
			rc = cl_error_set(err, rc, "cache %s: copying chains/%s", c->path, below);
	}
	if (rc == 0 && i >= 0) {
		cl_applier_set_root(ap, fd);
		rc = cl_unpack_layer(img, m, (size_t)i, ap, cl_unpack_stream_limit(&c->o), stats,
				     err);
		cl_applier_set_root(ap, -1);
	}
	if (rc == 0)
		rc = finish_root(c, fd, err);
	close(fd);
	if (rc < 0) {
		cl_tree_remove(c->tmp_fd, build, NULL, NULL);
		return rc;
	}
	return publish(c, build, name, err);
}

int cl_image_cache_prepare(struct cl_image_cache *c, struct cl_image *img,
			   const struct cl_image_manifest *m, char **tree_path,
			   struct cl_unpack_stats *stats, struct cl_error *err)
{
	*tree_path = NULL;
	struct cl_unpack_stats local;
	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	stats->resolver = c->o.resolver;
	long n = (long)m->n_layers;
	char name[CHAIN_NAME_MAX];
	long have = n - 1;   /* the highest chain present; -1: none */
	while (have >= 0) {
		chain_name(c, m, have, name);
		if (chain_exists(c, name))
			break;
		have--;
	}
	stats->layers_reused = (unsigned)(have + 1);
	int rc = 0;
	if (n == 0) {
		chain_name(c, m, -1, name);
		if (!chain_exists(c, name))
			rc = build_chain(c, img, m, -1, NULL, stats, err);
	} else if (have < n - 1) {
		struct cl_applier *ap = NULL;
		rc = cl_applier_new(-1, &c->o, stats, &ap, err);
		for (long i = have + 1; rc == 0 && i < n; i++)
			rc = build_chain(c, img, m, i, ap, stats, err);
		cl_applier_free(ap);
	}
	if (rc < 0)
		return rc;
	chain_name(c, m, n - 1, name);
	size_t len = strlen(c->path) + strlen(name) + 16;
	if (!(*tree_path = malloc(len)))
		return cl_error_set(err, ENOMEM, "out of memory");
	snprintf(*tree_path, len, "%s/chains/%s", c->path, name);
	return 0;
}

int cl_image_cache_materialise(struct cl_image_cache *c, const struct cl_image_manifest *m,
			       const char *rootfs, enum cl_copy_mode mode, struct cl_error *err)
{
	char name[CHAIN_NAME_MAX];
	chain_name(c, m, (long)m->n_layers - 1, name);
	int src = openat(c->chains_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (src < 0)
		return cl_error_set(err, errno == ENOENT ? ENOENT : errno,
				    "cache %s: chains/%s: %s (prepare the image first)", c->path,
				    name, strerror(errno));
	struct cl_tmp_dir t;
	int fd = cl_tmp_sibling(rootfs, "materialise", &t, err);
	if (fd < 0) {
		close(src);
		return fd;
	}
	bool owner = c->o.owner == CL_OWNER_PRESERVE;
	int rc = cl_tree_copy(src, fd, mode, owner, err);
	if (rc == 0)
		rc = cl_tree_copy_attrs(src, fd, owner, err);
	close(src);
	close(fd);
	if (rc < 0) {
		rc = cl_error_set(err, rc, "%s: copying from the cache", rootfs);
		cl_tmp_discard(&t, err);
		return rc;
	}
	return cl_tmp_publish(&t, rootfs, err);
}
