/* Writing OCI image layouts for the tests: libarchive's writer for tar streams and their
 * compression, OpenSSL for digests (independently of the code under test), json-c for the
 * documents. */
#include "oci_builder.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#define DIE(...)                                                                      \
	do {                                                                          \
		fprintf(stderr, "oci_builder: " __VA_ARGS__);                          \
		fputc('\n', stderr);                                                  \
		abort();                                                              \
	} while (0)

struct buf {
	unsigned char *data;
	size_t len, cap;
};

static void buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		b->data = realloc(b->data, cap);
		if (!b->data)
			DIE("out of memory");
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

struct tb_layer {
	struct buf tar;         /* first: the write callback's data is this buffer */
	struct archive *a;
	bool frozen;            /* the stream was cut short on purpose */
	bool closed;
};

static la_ssize_t buf_write_cb(struct archive *a, void *data, const void *p, size_t n)
{
	struct tb_layer *l = data;
	if (l->frozen) {
		/* refuse the padding the writer would add to the cut entry when freed */
		archive_set_error(a, EIO, "stream cut on purpose");
		return -1;
	}
	buf_add(&l->tar, p, n);
	return (la_ssize_t)n;
}

struct tb_layer *tb_layer_new(void)
{
	struct tb_layer *l = calloc(1, sizeof(*l));
	if (!l)
		DIE("out of memory");
	l->a = archive_write_new();
	archive_write_set_format_pax_restricted(l->a);
	archive_write_set_bytes_per_block(l->a, 0);   /* output as soon as written */
	if (archive_write_open2(l->a, l, NULL, buf_write_cb, NULL, NULL) != ARCHIVE_OK)
		DIE("archive_write_open2: %s", archive_error_string(l->a));
	return l;
}

void tb_layer_free(struct tb_layer *l)
{
	if (!l)
		return;
	if (l->a)
		archive_write_free(l->a);
	free(l->tar.data);
	free(l);
}

static struct archive_entry *entry(const char *name, mode_t type, mode_t perm)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, TB_MTIME, 0);
	return e;
}

static void put(struct tb_layer *l, struct archive_entry *e, const void *data, size_t len)
{
	if (l->frozen)
		DIE("entry after a truncated one");
	if (archive_write_header(l->a, e) != ARCHIVE_OK)
		DIE("write_header %s: %s", archive_entry_pathname(e), archive_error_string(l->a));
	if (len && archive_write_data(l->a, data, len) != (la_ssize_t)len)
		DIE("write_data: %s", archive_error_string(l->a));
	archive_entry_free(e);
}

void tb_file_data(struct tb_layer *l, const char *name, const void *data, size_t len,
		  mode_t mode, int64_t uid, int64_t gid, time_t mtime)
{
	struct archive_entry *e = entry(name, AE_IFREG, mode);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_uid(e, uid);
	archive_entry_set_gid(e, gid);
	archive_entry_set_mtime(e, mtime, 0);
	put(l, e, data, len);
}

void tb_file(struct tb_layer *l, const char *name, const char *content, mode_t mode)
{
	tb_file_data(l, name, content, strlen(content), mode, 0, 0, TB_MTIME);
}

void tb_file_truncated(struct tb_layer *l, const char *name, int64_t size, size_t have)
{
	struct archive_entry *e = entry(name, AE_IFREG, 0644);
	archive_entry_set_size(e, size);
	if (archive_write_header(l->a, e) != ARCHIVE_OK)
		DIE("write_header: %s", archive_error_string(l->a));
	archive_entry_free(e);
	/* snapshot: the header, then only `have` bytes of the promised data */
	unsigned char zero[4096] = { 0 };
	while (have) {
		size_t n = have < sizeof(zero) ? have : sizeof(zero);
		buf_add(&l->tar, zero, n);
		have -= n;
	}
	l->frozen = true;
}

void tb_file_xattr(struct tb_layer *l, const char *name, const char *content,
		   const char *xattr, const char *value)
{
	struct archive_entry *e = entry(name, AE_IFREG, 0644);
	archive_entry_set_size(e, (la_int64_t)strlen(content));
	archive_entry_xattr_add_entry(e, xattr, value, strlen(value));
	put(l, e, content, strlen(content));
}

void tb_dir_ex(struct tb_layer *l, const char *name, mode_t mode, int64_t uid, int64_t gid,
	       time_t mtime)
{
	struct archive_entry *e = entry(name, AE_IFDIR, mode);
	archive_entry_set_uid(e, uid);
	archive_entry_set_gid(e, gid);
	archive_entry_set_mtime(e, mtime, 0);
	put(l, e, NULL, 0);
}

void tb_dir(struct tb_layer *l, const char *name, mode_t mode)
{
	tb_dir_ex(l, name, mode, 0, 0, TB_MTIME);
}

void tb_symlink(struct tb_layer *l, const char *name, const char *target)
{
	struct archive_entry *e = entry(name, AE_IFLNK, 0777);
	archive_entry_set_symlink(e, target);
	put(l, e, NULL, 0);
}

void tb_hardlink(struct tb_layer *l, const char *name, const char *target)
{
	struct archive_entry *e = entry(name, AE_IFREG, 0644);
	archive_entry_set_hardlink(e, target);
	archive_entry_set_size(e, 0);
	put(l, e, NULL, 0);
}

void tb_fifo(struct tb_layer *l, const char *name, mode_t mode)
{
	put(l, entry(name, AE_IFIFO, mode), NULL, 0);
}

void tb_device(struct tb_layer *l, const char *name, char type, unsigned major, unsigned minor)
{
	struct archive_entry *e = entry(name, type == 'b' ? AE_IFBLK : AE_IFCHR, 0666);
	archive_entry_set_rdevmajor(e, major);
	archive_entry_set_rdevminor(e, minor);
	put(l, e, NULL, 0);
}

void tb_whiteout(struct tb_layer *l, const char *name)
{
	char buf[4096];
	const char *slash = strrchr(name, '/');
	if (slash)
		snprintf(buf, sizeof(buf), "%.*s/.wh.%s", (int)(slash - name), name, slash + 1);
	else
		snprintf(buf, sizeof(buf), ".wh.%s", name);
	tb_file(l, buf, "", 0644);
}

void tb_opaque(struct tb_layer *l, const char *dir)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s%s.wh..wh..opq", dir, *dir ? "/" : "");
	tb_file(l, buf, "", 0644);
}

const void *tb_layer_tar(struct tb_layer *l, size_t *len)
{
	if (!l->closed && !l->frozen) {
		if (archive_write_close(l->a) != ARCHIVE_OK)
			DIE("archive_write_close: %s", archive_error_string(l->a));
	}
	l->closed = true;
	*len = l->tar.len;
	return l->tar.data;
}

static void sha256_hex(const void *data, size_t len, char out[80])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	strcpy(out, "sha256:");
	for (unsigned i = 0; i < mdlen; i++)
		sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

static la_ssize_t plain_write_cb(struct archive *a, void *data, const void *p, size_t n)
{
	(void)a;
	buf_add(data, p, n);
	return (la_ssize_t)n;
}

/* Compresses data with libarchive's raw writer and the gzip or zstd filter. */
static void compress(const void *data, size_t len, enum cl_layer_compression c, struct buf *out)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_raw(a);
	if (c == CL_LAYER_GZIP)
		archive_write_add_filter_gzip(a);
	else
		archive_write_add_filter_zstd(a);
	archive_write_set_bytes_per_block(a, 0);
	if (archive_write_open2(a, out, NULL, plain_write_cb, NULL, NULL) != ARCHIVE_OK)
		DIE("open: %s", archive_error_string(a));
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, "data");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_size(e, (la_int64_t)len);
	if (archive_write_header(a, e) != ARCHIVE_OK ||
	    (len && archive_write_data(a, data, len) != (la_ssize_t)len) ||
	    archive_write_close(a) != ARCHIVE_OK)
		DIE("compress: %s", archive_error_string(a));
	archive_entry_free(e);
	archive_write_free(a);
}

struct tb_image {
	char *dir;
	json_object *manifests;   /* index.json entries */
};

struct tb_image *tb_image_new(const char *dir)
{
	struct tb_image *img = calloc(1, sizeof(*img));
	char p[4096];
	if (!img || !(img->dir = strdup(dir)))
		DIE("out of memory");
	if (mkdir(dir, 0755) != 0)
		DIE("mkdir %s: %s", dir, strerror(errno));
	snprintf(p, sizeof(p), "%s/blobs", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/blobs/sha256", dir);
	if (mkdir(p, 0755) != 0)
		DIE("mkdir %s: %s", p, strerror(errno));
	img->manifests = json_object_new_array();
	return img;
}

void tb_image_free(struct tb_image *img)
{
	if (!img)
		return;
	json_object_put(img->manifests);
	free(img->dir);
	free(img);
}

const char *tb_image_dir(const struct tb_image *img)
{
	return img->dir;
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		DIE("open %s: %s", path, strerror(errno));
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n <= 0)
			DIE("write %s: %s", path, strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	close(fd);
}

void tb_blob_path(const struct tb_image *img, const char *digest, char *out, size_t len)
{
	snprintf(out, len, "%s/blobs/sha256/%s", img->dir, digest + 7);
}

void tb_blob(struct tb_image *img, const void *data, size_t len, const char *media_type,
	     struct tb_desc *out)
{
	memset(out, 0, sizeof(*out));
	sha256_hex(data, len, out->digest);
	out->size = len;
	snprintf(out->media_type, sizeof(out->media_type), "%s", media_type);
	char path[4096];
	tb_blob_path(img, out->digest, path, sizeof(path));
	write_file(path, data, len);
}

void tb_add_layer(struct tb_image *img, struct tb_layer *l, enum cl_layer_compression c,
		  struct tb_desc *out)
{
	size_t len;
	const void *tar = tb_layer_tar(l, &len);
	char diff_id[80];
	sha256_hex(tar, len, diff_id);
	if (c == CL_LAYER_TAR) {
		tb_blob(img, tar, len, "application/vnd.oci.image.layer.v1.tar", out);
	} else {
		struct buf z = { 0 };
		compress(tar, len, c, &z);
		tb_blob(img, z.data, z.len,
			c == CL_LAYER_GZIP ? "application/vnd.oci.image.layer.v1.tar+gzip" :
					     "application/vnd.oci.image.layer.v1.tar+zstd",
			out);
		free(z.data);
	}
	snprintf(out->diff_id, sizeof(out->diff_id), "%s", diff_id);
}

const char *tb_machine_arch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__arm__)
	return "arm";
#else
	return "unknown";
#endif
}

static json_object *strv(const char *const *v)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; v[i]; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static void add_json_blob(struct tb_image *img, json_object *o, const char *media_type,
			  struct tb_desc *out)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	tb_blob(img, s, strlen(s), media_type, out);
	json_object_put(o);
}

void tb_add_config(struct tb_image *img, const struct tb_config *cfg,
		   const struct tb_desc *layers, size_t n, struct tb_desc *out)
{
	static const struct tb_config none;
	if (!cfg)
		cfg = &none;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "architecture",
			       json_object_new_string(cfg->arch ? cfg->arch : tb_machine_arch()));
	json_object_object_add(o, "os", json_object_new_string(cfg->os ? cfg->os : "linux"));
	if (cfg->variant)
		json_object_object_add(o, "variant", json_object_new_string(cfg->variant));
	json_object *c = json_object_new_object();
	if (cfg->entrypoint)
		json_object_object_add(c, "Entrypoint", strv(cfg->entrypoint));
	if (cfg->cmd)
		json_object_object_add(c, "Cmd", strv(cfg->cmd));
	if (cfg->env)
		json_object_object_add(c, "Env", strv(cfg->env));
	if (cfg->workdir)
		json_object_object_add(c, "WorkingDir", json_object_new_string(cfg->workdir));
	if (cfg->user)
		json_object_object_add(c, "User", json_object_new_string(cfg->user));
	json_object_object_add(o, "config", c);
	json_object *rootfs = json_object_new_object();
	json_object_object_add(rootfs, "type", json_object_new_string("layers"));
	json_object *ids = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(ids, json_object_new_string(layers[i].diff_id));
	json_object_object_add(rootfs, "diff_ids", ids);
	json_object_object_add(o, "rootfs", rootfs);
	add_json_blob(img, o, "application/vnd.oci.image.config.v1+json", out);
}

static json_object *descriptor(const struct tb_desc *d)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "mediaType", json_object_new_string(d->media_type));
	json_object_object_add(o, "digest", json_object_new_string(d->digest));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)d->size));
	return o;
}

void tb_add_manifest(struct tb_image *img, const struct tb_desc *config,
		     const struct tb_desc *layers, size_t n, struct tb_desc *out)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "schemaVersion", json_object_new_int(2));
	json_object_object_add(o, "mediaType",
			       json_object_new_string("application/vnd.oci.image.manifest.v1+json"));
	json_object_object_add(o, "config", descriptor(config));
	json_object *ls = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(ls, descriptor(&layers[i]));
	json_object_object_add(o, "layers", ls);
	add_json_blob(img, o, "application/vnd.oci.image.manifest.v1+json", out);
}

static json_object *platform(const char *spec)
{
	char os[32] = "", arch[32] = "", variant[32] = "";
	sscanf(spec, "%31[^/]/%31[^/]/%31s", os, arch, variant);
	json_object *p = json_object_new_object();
	json_object_object_add(p, "architecture", json_object_new_string(arch));
	json_object_object_add(p, "os", json_object_new_string(os));
	if (*variant)
		json_object_object_add(p, "variant", json_object_new_string(variant));
	return p;
}

void tb_add_index(struct tb_image *img, const struct tb_desc *manifests,
		  const char *const *platforms, size_t n, struct tb_desc *out)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "schemaVersion", json_object_new_int(2));
	json_object_object_add(o, "mediaType",
			       json_object_new_string("application/vnd.oci.image.index.v1+json"));
	json_object *ms = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object *d = descriptor(&manifests[i]);
		json_object_object_add(d, "platform", platform(platforms[i]));
		json_object_array_add(ms, d);
	}
	json_object_object_add(o, "manifests", ms);
	add_json_blob(img, o, "application/vnd.oci.image.index.v1+json", out);
}

void tb_index_entry(struct tb_image *img, const struct tb_desc *d, const char *ref,
		    const char *plat)
{
	json_object *e = descriptor(d);
	if (ref) {
		json_object *ann = json_object_new_object();
		json_object_object_add(ann, "org.opencontainers.image.ref.name",
				       json_object_new_string(ref));
		json_object_object_add(e, "annotations", ann);
	}
	if (plat)
		json_object_object_add(e, "platform", platform(plat));
	json_object_array_add(img->manifests, e);
}

void tb_image_finish(struct tb_image *img)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/oci-layout", img->dir);
	const char *layout = "{\"imageLayoutVersion\":\"1.0.0\"}";
	write_file(path, layout, strlen(layout));
	json_object *o = json_object_new_object();
	json_object_object_add(o, "schemaVersion", json_object_new_int(2));
	json_object_object_add(o, "manifests", json_object_get(img->manifests));
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	snprintf(path, sizeof(path), "%s/index.json", img->dir);
	write_file(path, s, strlen(s));
	json_object_put(o);
}

void tb_simple_image(struct tb_image *img, struct tb_layer *const *layers, size_t n,
		     enum cl_layer_compression c, const struct tb_config *cfg, const char *ref,
		     struct tb_desc *manifest_out)
{
	struct tb_desc *ds = calloc(n ? n : 1, sizeof(*ds));
	struct tb_desc config, manifest;
	for (size_t i = 0; i < n; i++)
		tb_add_layer(img, layers[i], c, &ds[i]);
	tb_add_config(img, cfg, ds, n, &config);
	tb_add_manifest(img, &config, ds, n, &manifest);
	tb_index_entry(img, &manifest, ref, NULL);
	tb_image_finish(img);
	if (manifest_out)
		*manifest_out = manifest;
	free(ds);
}

static void archive_add_file(struct archive *a, const char *path, const char *name)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0)
		DIE("open %s: %s", path, strerror(errno));
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, st.st_size);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		DIE("header: %s", archive_error_string(a));
	char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		archive_write_data(a, buf, (size_t)n);
	archive_entry_free(e);
	close(fd);
}

void tb_archive_layout(const char *dir, const char *path)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK)
		DIE("open %s: %s", path, archive_error_string(a));
	char p[4096];
	snprintf(p, sizeof(p), "%s/oci-layout", dir);
	archive_add_file(a, p, "oci-layout");
	snprintf(p, sizeof(p), "%s/index.json", dir);
	archive_add_file(a, p, "./index.json");   /* "./" as some writers do */
	snprintf(p, sizeof(p), "%s/blobs/sha256", dir);
	DIR *d = opendir(p);
	if (!d)
		DIE("opendir %s", p);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char name[512];
		snprintf(p, sizeof(p), "%s/blobs/sha256/%s", dir, e->d_name);
		snprintf(name, sizeof(name), "blobs/sha256/%s", e->d_name);
		archive_add_file(a, p, name);
	}
	closedir(d);
	archive_write_close(a);
	archive_write_free(a);
}
