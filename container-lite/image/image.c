/* Opening an image and selecting its manifest: index.json (and nested indexes) narrowed by
 * ref name, then by platform; the manifest and config blobs are read bounded, verified
 * against their descriptors and parsed; chain IDs are derived from the config's diff_ids. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container-lite/image.h"
#include "digest.h"
#include "image_internal.h"
#include "layout.h"
#include "oci_json.h"

#define INDEX_MAX_DEPTH 4

#if defined(__x86_64__)
#define DEFAULT_ARCH "amd64"
#define DEFAULT_VARIANT ""
#elif defined(__aarch64__)
#define DEFAULT_ARCH "arm64"
#define DEFAULT_VARIANT "v8"
#elif defined(__arm__)
#define DEFAULT_ARCH "arm"
#if defined(__ARM_ARCH) && __ARM_ARCH >= 7
#define DEFAULT_VARIANT "v7"
#elif defined(__ARM_ARCH) && __ARM_ARCH == 6
#define DEFAULT_VARIANT "v6"
#else
#define DEFAULT_VARIANT "v5"
#endif
#elif defined(__i386__)
#define DEFAULT_ARCH "386"
#define DEFAULT_VARIANT ""
#elif defined(__riscv) && __riscv_xlen == 64
#define DEFAULT_ARCH "riscv64"
#define DEFAULT_VARIANT ""
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define DEFAULT_ARCH "ppc64le"
#define DEFAULT_VARIANT ""
#elif defined(__s390x__)
#define DEFAULT_ARCH "s390x"
#define DEFAULT_VARIANT ""
#else
#define DEFAULT_ARCH "unknown"
#define DEFAULT_VARIANT ""
#endif

bool cl_image_error_is_content(int code)
{
	return code == -EBADMSG || code == -ENOENT || code == -ENOTSUP || code == -EFBIG;
}

const char *cl_image_compression_name(enum cl_layer_compression c)
{
	switch (c) {
	case CL_LAYER_GZIP:
		return "tar+gzip";
	case CL_LAYER_ZSTD:
		return "tar+zstd";
	default:
		return "tar";
	}
}

int cl_image_open(const char *path, struct cl_image **out, struct cl_error *err)
{
	*out = NULL;
	struct cl_image *img = calloc(1, sizeof(*img));
	if (!img)
		return cl_error_set(err, ENOMEM, "out of memory");
	int rc = cl_layout_open(path, &img->layout, err);
	if (rc < 0)
		goto fail;
	char *buf = NULL;
	size_t len = 0;
	if ((rc = cl_layout_read_file(img->layout, "oci-layout", 65536, &buf, &len, err)) < 0)
		goto fail_ctx;
	rc = cl_oci_parse_layout_file(buf, len, "oci-layout", err);
	free(buf);
	if (rc < 0)
		goto fail_ctx;
	if ((rc = cl_layout_read_file(img->layout, "index.json", CL_IMAGE_MAX_INDEX_BYTES, &buf,
				      &len, err)) < 0)
		goto fail_ctx;
	rc = cl_oci_parse_index(buf, len, "index.json", &img->index, err);
	free(buf);
	if (rc < 0)
		goto fail_ctx;
	*out = img;
	return 0;
fail_ctx:
	rc = cl_error_set(err, rc, "image %s", path);
fail:
	cl_image_close(img);
	return rc;
}

void cl_image_close(struct cl_image *img)
{
	if (!img)
		return;
	cl_oci_index_free(&img->index);
	cl_layout_close(img->layout);
	free(img);
}

int cl_image_parse_platform(const char *spec, struct cl_image_selector *sel,
			    struct cl_error *err)
{
	char *fields[3] = { sel->os, sel->architecture, sel->variant };
	size_t sizes[3] = { sizeof(sel->os), sizeof(sel->architecture), sizeof(sel->variant) };
	const char *p = spec;
	int n = 0;
	for (; n < 3; n++) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 0 || len >= sizes[n])
			return cl_error_set(err, EINVAL,
					    "platform \"%.64s\": want OS/ARCH[/VARIANT], e.g. "
					    "linux/arm64",
					    spec);
		for (size_t i = 0; i < len; i++) {
			char ch = p[i];
			if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
			      ch == '-' || ch == '.'))
				return cl_error_set(err, EINVAL,
						    "platform \"%.64s\": unexpected character", spec);
		}
		memcpy(fields[n], p, len);
		fields[n][len] = '\0';
		if (!slash)
			break;
		p = slash + 1;
	}
	if (n == 0 || n == 3)
		return cl_error_set(err, EINVAL, "platform \"%.64s\": want OS/ARCH[/VARIANT]", spec);
	if (n == 1)
		sel->variant[0] = '\0';
	return 0;
}

struct want_platform {
	const char *os;
	const char *arch;
	const char *variant;    /* "" = any */
	bool explicit_platform;
};

static bool variant_eq(const char *arch, const char *a, const char *b)
{
	if (strcmp(arch, "arm64") == 0) {
		if (!*a)
			a = "v8";
		if (!*b)
			b = "v8";
	}
	return strcmp(a, b) == 0;
}

static bool platform_matches(const struct cl_index_entry *e, const struct want_platform *w)
{
	if (!e->has_platform || strcmp(e->os, w->os) != 0 || strcmp(e->architecture, w->arch) != 0)
		return false;
	return !*w->variant || variant_eq(w->arch, e->variant, w->variant);
}

static void list_refs(const struct cl_oci_index *idx, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < idx->n && o + 4 < len; i++) {
		if (!idx->entries[i].ref_name)
			continue;
		int n = snprintf(buf + o, len - o, "%s%.64s", o ? ", " : "", idx->entries[i].ref_name);
		if (n < 0)
			break;
		o += (size_t)n < len - o ? (size_t)n : len - o - 1;
	}
	if (!buf[0])
		snprintf(buf, len, "none");
}

static void list_platforms(const struct cl_oci_index *idx, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < idx->n && o + 4 < len; i++) {
		const struct cl_index_entry *e = &idx->entries[i];
		if (!e->has_platform)
			continue;
		int n = snprintf(buf + o, len - o, "%s%.32s/%.32s%s%.16s", o ? ", " : "", e->os,
				 e->architecture, *e->variant ? "/" : "", e->variant);
		if (n < 0)
			break;
		o += (size_t)n < len - o ? (size_t)n : len - o - 1;
	}
	if (!buf[0])
		snprintf(buf, len, "none");
}

static int dup_descriptor(const struct cl_image_descriptor *src, struct cl_image_descriptor *dst)
{
	dst->media_type = strdup(src->media_type);
	dst->digest = strdup(src->digest);
	dst->size = src->size;
	if (!dst->media_type || !dst->digest) {
		cl_descriptor_free(dst);
		return -ENOMEM;
	}
	return 0;
}

/* Chooses a manifest descriptor in idx (what names it); recurses into nested indexes. */
static int select_in(struct cl_image *img, const struct cl_oci_index *idx, const char *what,
		     const char *ref, const struct want_platform *w, int depth,
		     struct cl_image_descriptor *out, struct cl_error *err)
{
	size_t cand[CL_IMAGE_MAX_INDEX_ENTRIES];
	size_t n = 0;
	char list[512];
	for (size_t i = 0; i < idx->n; i++)
		if (!ref || (idx->entries[i].ref_name && strcmp(idx->entries[i].ref_name, ref) == 0))
			cand[n++] = i;
	if (n == 0) {
		if (ref) {
			list_refs(idx, list, sizeof(list));
			return cl_error_set(err, ENOENT, "%s: no manifest with ref \"%.64s\" "
					    "(available refs: %s)",
					    what, ref, list);
		}
		return cl_error_set(err, ENOENT, "%s lists no manifests", what);
	}
	if (n > 1 || (w->explicit_platform && idx->entries[cand[0]].has_platform)) {
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if (platform_matches(&idx->entries[cand[i]], w))
				cand[m++] = cand[i];
		if (m > 1 && !*w->variant && *DEFAULT_VARIANT && strcmp(w->arch, DEFAULT_ARCH) == 0) {
			size_t k = 0;
			for (size_t i = 0; i < m; i++)
				if (variant_eq(w->arch, idx->entries[cand[i]].variant, DEFAULT_VARIANT))
					cand[k++] = cand[i];
			if (k > 0)
				m = k;
		}
		if (m == 0) {
			list_platforms(idx, list, sizeof(list));
			if (n > 1 && !ref && !strcmp(list, "none")) {
				list_refs(idx, list, sizeof(list));
				return cl_error_set(err, ENOENT,
						    "%s has %zu manifests: choose one with --ref "
						    "(refs: %s)",
						    what, n, list);
			}
			return cl_error_set(err, ENOENT,
					    "%s: no manifest for platform %s/%s%s%s (available: %s)",
					    what, w->os, w->arch, *w->variant ? "/" : "", w->variant,
					    list);
		}
		if (m > 1) {
			list_refs(idx, list, sizeof(list));
			return cl_error_set(err, EBADMSG,
					    "%s: %zu manifests match; choose one with --ref or "
					    "--platform OS/ARCH/VARIANT (refs: %s)",
					    what, m, list);
		}
	}
	const struct cl_index_entry *e = &idx->entries[cand[0]];
	enum cl_media_kind kind = cl_media_type_kind(e->desc.media_type, NULL);
	if (kind == CL_MEDIA_MANIFEST) {
		if (dup_descriptor(&e->desc, out) < 0)
			return cl_error_set(err, ENOMEM, "out of memory");
		return 0;
	}
	if (kind != CL_MEDIA_INDEX)
		return cl_error_set(err, ENOTSUP, "%s: entry %s has unsupported mediaType \"%.100s\"",
				    what, e->desc.digest, e->desc.media_type);
	if (depth >= INDEX_MAX_DEPTH)
		return cl_error_set(err, EBADMSG, "%s: image indexes nested deeper than %d", what,
				    INDEX_MAX_DEPTH);
	char nwhat[128];
	snprintf(nwhat, sizeof(nwhat), "index %s", e->desc.digest);
	char *buf = NULL;
	int rc = cl_layout_read_blob(img->layout, &e->desc, CL_IMAGE_MAX_INDEX_BYTES, nwhat, &buf,
				     err);
	if (rc < 0)
		return rc;
	struct cl_oci_index nested;
	rc = cl_oci_parse_index(buf, e->desc.size, nwhat, &nested, err);
	free(buf);
	if (rc < 0)
		return rc;
	rc = select_in(img, &nested, nwhat, NULL, w, depth + 1, out, err);
	cl_oci_index_free(&nested);
	return rc;
}

void cl_image_manifest_free(struct cl_image_manifest *m)
{
	if (!m)
		return;
	cl_descriptor_free(&m->manifest);
	cl_descriptor_free(&m->config_blob);
	free(m->ref_name);
	cl_image_config_free(&m->config);
	for (size_t i = 0; i < m->n_layers; i++) {
		cl_descriptor_free(&m->layers[i].blob);
		free(m->layers[i].diff_id);
		free(m->layers[i].chain_id);
	}
	free(m->layers);
	free(m);
}

static int load_manifest(struct cl_image *img, struct cl_image_manifest *m,
			 const struct want_platform *w, struct cl_error *err)
{
	char what[128];
	snprintf(what, sizeof(what), "manifest %s", m->manifest.digest);
	char *buf = NULL;
	int rc = cl_layout_read_blob(img->layout, &m->manifest, CL_IMAGE_MAX_MANIFEST_BYTES, what,
				     &buf, err);
	if (rc < 0)
		return rc;
	struct cl_oci_manifest om;
	rc = cl_oci_parse_manifest(buf, m->manifest.size, what, m->manifest.media_type, &om, err);
	free(buf);
	if (rc < 0)
		return rc;
	m->config_blob = om.config;
	om.config = (struct cl_image_descriptor){ 0 };
	m->layers = om.layers;
	m->n_layers = om.n_layers;
	om.layers = NULL;
	om.n_layers = 0;
	cl_oci_manifest_free(&om);

	snprintf(what, sizeof(what), "config %s", m->config_blob.digest);
	if ((rc = cl_layout_read_blob(img->layout, &m->config_blob, CL_IMAGE_MAX_CONFIG_BYTES,
				      what, &buf, err)) < 0)
		return rc;
	struct cl_oci_config oc;
	rc = cl_oci_parse_config(buf, m->config_blob.size, what, &oc, err);
	free(buf);
	if (rc < 0)
		return rc;
	if (oc.n_diff_ids != m->n_layers) {
		rc = cl_error_set(err, EBADMSG,
				  "%s: %zu diff_ids for the manifest's %zu layers", what,
				  oc.n_diff_ids, m->n_layers);
		cl_oci_config_free(&oc);
		return rc;
	}
	if (w->explicit_platform &&
	    (strcmp(oc.cfg.os, w->os) != 0 || strcmp(oc.cfg.architecture, w->arch) != 0 ||
	     (*w->variant && !variant_eq(w->arch, oc.cfg.variant, w->variant)))) {
		rc = cl_error_set(err, ENOENT, "%s: the image is for %.32s/%.32s, not %s/%s", what,
				  oc.cfg.os, oc.cfg.architecture, w->os, w->arch);
		cl_oci_config_free(&oc);
		return rc;
	}
	const char *parent = NULL;
	for (size_t i = 0; i < m->n_layers; i++) {
		char chain[CL_DIGEST_STR_MAX];
		cl_chain_id(parent, oc.diff_ids[i], chain);
		if (!(m->layers[i].chain_id = strdup(chain))) {
			cl_oci_config_free(&oc);
			return cl_error_set(err, ENOMEM, "out of memory");
		}
		parent = m->layers[i].chain_id;
	}
	/* move the diff_id strings and the config into m */
	for (size_t i = 0; i < m->n_layers; i++)
		m->layers[i].diff_id = oc.diff_ids[i];
	free(oc.diff_ids);
	m->config = oc.cfg;
	return 0;
}

int cl_image_select(struct cl_image *img, const struct cl_image_selector *sel,
		    struct cl_image_manifest **out, struct cl_error *err)
{
	*out = NULL;
	static const struct cl_image_selector none;
	if (!sel)
		sel = &none;
	struct want_platform w = {
		.os = *sel->os ? sel->os : "linux",
		.arch = *sel->architecture ? sel->architecture : DEFAULT_ARCH,
		.variant = sel->variant,
		.explicit_platform = *sel->architecture != '\0',
	};
	struct cl_image_manifest *m = calloc(1, sizeof(*m));
	if (!m)
		return cl_error_set(err, ENOMEM, "out of memory");
	int rc = select_in(img, &img->index, "index.json", sel->ref, &w, 0, &m->manifest, err);
	if (rc == 0 && sel->ref && !(m->ref_name = strdup(sel->ref)))
		rc = cl_error_set(err, ENOMEM, "out of memory");
	if (rc == 0 && !sel->ref && img->index.n == 1 && img->index.entries[0].ref_name &&
	    !(m->ref_name = strdup(img->index.entries[0].ref_name)))
		rc = cl_error_set(err, ENOMEM, "out of memory");
	if (rc == 0)
		rc = load_manifest(img, m, &w, err);
	if (rc < 0) {
		cl_image_manifest_free(m);
		return rc;
	}
	*out = m;
	return 0;
}
