/* OCI index, manifest and config parsing with json-c: strict grammar, bounded depth, sizes
 * and counts, exact types, no NUL bytes in strings, digests checked for grammar. Whatever
 * the bytes, the result is either a fully valid structure or an error naming the field. */
#include "oci_json.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "digest.h"

#define JSON_MAX_DEPTH 32
#define MEDIA_TYPE_MAX 255

enum cl_media_kind cl_media_type_kind(const char *mt, enum cl_layer_compression *comp)
{
	static const struct {
		const char *name;
		enum cl_media_kind kind;
		enum cl_layer_compression comp;
	} table[] = {
		{ CL_MT_INDEX, CL_MEDIA_INDEX, CL_LAYER_TAR },
		{ CL_MT_DOCKER_LIST, CL_MEDIA_INDEX, CL_LAYER_TAR },
		{ CL_MT_MANIFEST, CL_MEDIA_MANIFEST, CL_LAYER_TAR },
		{ CL_MT_DOCKER_MANIFEST, CL_MEDIA_MANIFEST, CL_LAYER_TAR },
		{ CL_MT_CONFIG, CL_MEDIA_CONFIG, CL_LAYER_TAR },
		{ CL_MT_DOCKER_CONFIG, CL_MEDIA_CONFIG, CL_LAYER_TAR },
		{ "application/vnd.oci.image.layer.v1.tar", CL_MEDIA_LAYER, CL_LAYER_TAR },
		{ "application/vnd.oci.image.layer.v1.tar+gzip", CL_MEDIA_LAYER, CL_LAYER_GZIP },
		{ "application/vnd.oci.image.layer.v1.tar+zstd", CL_MEDIA_LAYER, CL_LAYER_ZSTD },
		{ "application/vnd.oci.image.layer.nondistributable.v1.tar", CL_MEDIA_LAYER,
		  CL_LAYER_TAR },
		{ "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", CL_MEDIA_LAYER,
		  CL_LAYER_GZIP },
		{ "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", CL_MEDIA_LAYER,
		  CL_LAYER_ZSTD },
		{ "application/vnd.docker.image.rootfs.diff.tar.gzip", CL_MEDIA_LAYER,
		  CL_LAYER_GZIP },
	};
	if (!mt)
		return CL_MEDIA_UNKNOWN;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (strcmp(mt, table[i].name) == 0) {
			if (comp)
				*comp = table[i].comp;
			return table[i].kind;
		}
	}
	return CL_MEDIA_UNKNOWN;
}

void cl_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

void cl_descriptor_free(struct cl_image_descriptor *d)
{
	if (!d)
		return;
	free(d->media_type);
	free(d->digest);
	d->media_type = d->digest = NULL;
}

void cl_image_config_free(struct cl_image_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->os);
	free(cfg->architecture);
	free(cfg->variant);
	cl_strv_free(cfg->entrypoint);
	cl_strv_free(cfg->cmd);
	cl_strv_free(cfg->env);
	free(cfg->working_dir);
	free(cfg->user);
	memset(cfg, 0, sizeof(*cfg));
}

/* Parses the whole buffer as one JSON object. */
static int parse_object(const char *buf, size_t len, const char *what, json_object **out,
			struct cl_error *err)
{
	if (len > INT_MAX)
		return cl_error_set(err, EFBIG, "%s: too large for a JSON document", what);
	if (memchr(buf, '\0', len))
		return cl_error_set(err, EBADMSG, "%s: invalid JSON: contains a NUL byte", what);
	json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (!tok)
		return cl_error_set(err, ENOMEM, "%s: out of memory", what);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *obj = json_tokener_parse_ex(tok, buf, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (jerr == json_tokener_continue || (!obj && jerr == json_tokener_success)) {
		json_object_put(obj);
		return cl_error_set(err, EBADMSG, "%s: invalid JSON: truncated document", what);
	}
	if (jerr != json_tokener_success) {
		json_object_put(obj);
		return cl_error_set(err, EBADMSG, "%s: invalid JSON at byte %zu: %s", what, end,
				    json_tokener_error_desc(jerr));
	}
	for (size_t i = end; i < len; i++) {
		char c = buf[i];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			json_object_put(obj);
			return cl_error_set(err, EBADMSG,
					    "%s: invalid JSON: trailing bytes after the document",
					    what);
		}
	}
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return cl_error_set(err, EBADMSG, "%s: the document is not a JSON object", what);
	}
	*out = obj;
	return 0;
}

/* A string member. Absent (or null when allow_null) gives *out = NULL and 0 unless
 * required. */
static int get_string(json_object *obj, const char *key, bool required, const char *what,
		      char **out, struct cl_error *err)
{
	*out = NULL;
	json_object *v = NULL;
	if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null)) {
		if (required)
			return cl_error_set(err, EBADMSG, "%s: missing \"%s\"", what, key);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return cl_error_set(err, EBADMSG, "%s: \"%s\" is not a string", what, key);
	const char *s = json_object_get_string(v);
	int len = json_object_get_string_len(v);
	if (len < 0 || strlen(s) != (size_t)len)
		return cl_error_set(err, EBADMSG, "%s: \"%s\" contains a NUL character", what,
				    key);
	*out = strdup(s);
	if (!*out)
		return cl_error_set(err, ENOMEM, "%s: out of memory", what);
	return 0;
}

/* A string member defaulting to "" when absent. */
static int get_string_or_empty(json_object *obj, const char *key, const char *what, char **out,
			       struct cl_error *err)
{
	int rc = get_string(obj, key, false, what, out, err);
	if (rc < 0)
		return rc;
	if (!*out && !(*out = strdup("")))
		return cl_error_set(err, ENOMEM, "%s: out of memory", what);
	return 0;
}

/* An array of strings; absent or null gives an empty (NULL-terminated) array. */
static int get_string_array(json_object *obj, const char *key, size_t max, const char *what,
			    char ***out, struct cl_error *err)
{
	*out = NULL;
	json_object *v = NULL;
	size_t n = 0;
	bool present = json_object_object_get_ex(obj, key, &v) &&
		       !json_object_is_type(v, json_type_null);
	if (present) {
		if (!json_object_is_type(v, json_type_array))
			return cl_error_set(err, EBADMSG, "%s: \"%s\" is not an array", what, key);
		n = json_object_array_length(v);
		if (n > max)
			return cl_error_set(err, EFBIG, "%s: \"%s\" has %zu elements (limit %zu)",
					    what, key, n, max);
	}
	char **arr = calloc(n + 1, sizeof(*arr));
	if (!arr)
		return cl_error_set(err, ENOMEM, "%s: out of memory", what);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string)) {
			cl_strv_free(arr);
			return cl_error_set(err, EBADMSG, "%s: \"%s\"[%zu] is not a string", what,
					    key, i);
		}
		const char *s = json_object_get_string(e);
		int len = json_object_get_string_len(e);
		if (len < 0 || strlen(s) != (size_t)len) {
			cl_strv_free(arr);
			return cl_error_set(err, EBADMSG, "%s: \"%s\"[%zu] contains a NUL character",
					    what, key, i);
		}
		if (!(arr[i] = strdup(s))) {
			cl_strv_free(arr);
			return cl_error_set(err, ENOMEM, "%s: out of memory", what);
		}
	}
	*out = arr;
	return 0;
}

static int get_descriptor(json_object *obj, const char *what, struct cl_image_descriptor *d,
			  struct cl_error *err)
{
	memset(d, 0, sizeof(*d));
	if (!json_object_is_type(obj, json_type_object))
		return cl_error_set(err, EBADMSG, "%s: descriptor is not an object", what);
	int rc = get_string(obj, "mediaType", true, what, &d->media_type, err);
	if (rc < 0)
		goto fail;
	if (strlen(d->media_type) > MEDIA_TYPE_MAX) {
		rc = cl_error_set(err, EBADMSG, "%s: mediaType longer than %d bytes", what,
				  MEDIA_TYPE_MAX);
		goto fail;
	}
	if ((rc = get_string(obj, "digest", true, what, &d->digest, err)) < 0)
		goto fail;
	if ((rc = cl_digest_parse(d->digest, NULL, err, what)) < 0)
		goto fail;
	json_object *size = NULL;
	if (!json_object_object_get_ex(obj, "size", &size)) {
		rc = cl_error_set(err, EBADMSG, "%s: missing \"size\"", what);
		goto fail;
	}
	if (!json_object_is_type(size, json_type_int)) {
		rc = cl_error_set(err, EBADMSG, "%s: \"size\" is not an integer", what);
		goto fail;
	}
	int64_t sz = json_object_get_int64(size);
	if (sz < 0) {
		rc = cl_error_set(err, EBADMSG, "%s: \"size\" is negative", what);
		goto fail;
	}
	d->size = (uint64_t)sz;
	return 0;
fail:
	cl_descriptor_free(d);
	return rc;
}

int cl_oci_parse_layout_file(const char *buf, size_t len, const char *what,
			     struct cl_error *err)
{
	if (len > 65536)
		return cl_error_set(err, EFBIG, "%s: %zu bytes (limit 65536)", what, len);
	json_object *root = NULL;
	int rc = parse_object(buf, len, what, &root, err);
	if (rc < 0)
		return rc;
	char *version = NULL;
	rc = get_string(root, "imageLayoutVersion", true, what, &version, err);
	if (rc == 0 && strncmp(version, "1.", 2) != 0)
		rc = cl_error_set(err, ENOTSUP, "%s: imageLayoutVersion \"%.20s\" is not 1.x", what,
				  version);
	free(version);
	json_object_put(root);
	return rc;
}

static int check_schema_version(json_object *root, const char *what, struct cl_error *err)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(root, "schemaVersion", &v) ||
	    !json_object_is_type(v, json_type_int) || json_object_get_int64(v) != 2)
		return cl_error_set(err, EBADMSG, "%s: \"schemaVersion\" must be the integer 2",
				    what);
	return 0;
}

/* The document's own mediaType, when present, must be of the expected kind (and, when the
 * descriptor named one, equal to it). */
static int check_own_media_type(json_object *root, const char *what, enum cl_media_kind kind,
				const char *expected, struct cl_error *err)
{
	char *mt = NULL;
	int rc = get_string(root, "mediaType", false, what, &mt, err);
	if (rc < 0)
		return rc;
	if (mt) {
		if (cl_media_type_kind(mt, NULL) != kind)
			rc = cl_error_set(err, EBADMSG, "%s: unexpected mediaType \"%.100s\"", what,
					  mt);
		else if (expected && strcmp(expected, mt) != 0)
			rc = cl_error_set(err, EBADMSG,
					  "%s: mediaType \"%.100s\" differs from its descriptor's "
					  "\"%.100s\"",
					  what, mt, expected);
	}
	free(mt);
	return rc;
}

static void index_entry_free(struct cl_index_entry *e)
{
	cl_descriptor_free(&e->desc);
	free(e->ref_name);
	free(e->os);
	free(e->architecture);
	free(e->variant);
}

void cl_oci_index_free(struct cl_oci_index *idx)
{
	if (!idx)
		return;
	for (size_t i = 0; i < idx->n; i++)
		index_entry_free(&idx->entries[i]);
	free(idx->entries);
	idx->entries = NULL;
	idx->n = 0;
}

static int parse_index_entry(json_object *obj, const char *what, size_t i,
			     struct cl_index_entry *e, struct cl_error *err)
{
	char ewhat[256];
	snprintf(ewhat, sizeof(ewhat), "%s: manifests[%zu]", what, i);
	memset(e, 0, sizeof(*e));
	int rc = get_descriptor(obj, ewhat, &e->desc, err);
	if (rc < 0)
		return rc;
	json_object *ann = NULL;
	if (json_object_object_get_ex(obj, "annotations", &ann) &&
	    !json_object_is_type(ann, json_type_null)) {
		if (!json_object_is_type(ann, json_type_object)) {
			rc = cl_error_set(err, EBADMSG, "%s: \"annotations\" is not an object",
					  ewhat);
			goto fail;
		}
		if ((rc = get_string(ann, CL_ANNOTATION_REF_NAME, false, ewhat, &e->ref_name,
				     err)) < 0)
			goto fail;
	}
	json_object *plat = NULL;
	if (json_object_object_get_ex(obj, "platform", &plat) &&
	    !json_object_is_type(plat, json_type_null)) {
		if (!json_object_is_type(plat, json_type_object)) {
			rc = cl_error_set(err, EBADMSG, "%s: \"platform\" is not an object", ewhat);
			goto fail;
		}
		e->has_platform = true;
		if ((rc = get_string(plat, "os", true, ewhat, &e->os, err)) < 0 ||
		    (rc = get_string(plat, "architecture", true, ewhat, &e->architecture, err)) < 0 ||
		    (rc = get_string_or_empty(plat, "variant", ewhat, &e->variant, err)) < 0)
			goto fail;
	} else if (!(e->os = strdup("")) || !(e->architecture = strdup("")) ||
		   !(e->variant = strdup(""))) {
		rc = cl_error_set(err, ENOMEM, "%s: out of memory", ewhat);
		goto fail;
	}
	return 0;
fail:
	index_entry_free(e);
	return rc;
}

int cl_oci_parse_index(const char *buf, size_t len, const char *what, struct cl_oci_index *out,
		       struct cl_error *err)
{
	memset(out, 0, sizeof(*out));
	if (len > CL_IMAGE_MAX_INDEX_BYTES)
		return cl_error_set(err, EFBIG, "%s: %zu bytes (limit %u)", what, len,
				    CL_IMAGE_MAX_INDEX_BYTES);
	json_object *root = NULL;
	int rc = parse_object(buf, len, what, &root, err);
	if (rc < 0)
		return rc;
	if ((rc = check_schema_version(root, what, err)) < 0 ||
	    (rc = check_own_media_type(root, what, CL_MEDIA_INDEX, NULL, err)) < 0)
		goto out;
	json_object *manifests = NULL;
	if (!json_object_object_get_ex(root, "manifests", &manifests) ||
	    !json_object_is_type(manifests, json_type_array)) {
		rc = cl_error_set(err, EBADMSG, "%s: \"manifests\" missing or not an array", what);
		goto out;
	}
	size_t n = json_object_array_length(manifests);
	if (n > CL_IMAGE_MAX_INDEX_ENTRIES) {
		rc = cl_error_set(err, EFBIG, "%s: %zu manifests (limit %u)", what, n,
				  CL_IMAGE_MAX_INDEX_ENTRIES);
		goto out;
	}
	out->entries = calloc(n ? n : 1, sizeof(*out->entries));
	if (!out->entries) {
		rc = cl_error_set(err, ENOMEM, "%s: out of memory", what);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		rc = parse_index_entry(json_object_array_get_idx(manifests, i), what, i,
				       &out->entries[i], err);
		if (rc < 0)
			goto out;
		out->n++;
	}
	rc = 0;
out:
	if (rc < 0)
		cl_oci_index_free(out);
	json_object_put(root);
	return rc;
}

void cl_oci_manifest_free(struct cl_oci_manifest *m)
{
	if (!m)
		return;
	cl_descriptor_free(&m->config);
	for (size_t i = 0; i < m->n_layers; i++) {
		cl_descriptor_free(&m->layers[i].blob);
		free(m->layers[i].diff_id);
		free(m->layers[i].chain_id);
	}
	free(m->layers);
	m->layers = NULL;
	m->n_layers = 0;
}

int cl_oci_parse_manifest(const char *buf, size_t len, const char *what,
			  const char *expected_media_type, struct cl_oci_manifest *out,
			  struct cl_error *err)
{
	memset(out, 0, sizeof(*out));
	if (len > CL_IMAGE_MAX_MANIFEST_BYTES)
		return cl_error_set(err, EFBIG, "%s: %zu bytes (limit %u)", what, len,
				    CL_IMAGE_MAX_MANIFEST_BYTES);
	json_object *root = NULL;
	int rc = parse_object(buf, len, what, &root, err);
	if (rc < 0)
		return rc;
	if ((rc = check_schema_version(root, what, err)) < 0 ||
	    (rc = check_own_media_type(root, what, CL_MEDIA_MANIFEST, expected_media_type,
				       err)) < 0)
		goto out;

	char dwhat[256];
	json_object *config = NULL;
	if (!json_object_object_get_ex(root, "config", &config)) {
		rc = cl_error_set(err, EBADMSG, "%s: missing \"config\"", what);
		goto out;
	}
	snprintf(dwhat, sizeof(dwhat), "%s: config", what);
	if ((rc = get_descriptor(config, dwhat, &out->config, err)) < 0)
		goto out;
	if (cl_media_type_kind(out->config.media_type, NULL) != CL_MEDIA_CONFIG) {
		rc = cl_error_set(err, ENOTSUP,
				  "%s: config mediaType \"%.100s\" is not an image config (not a "
				  "container image?)",
				  what, out->config.media_type);
		goto out;
	}

	json_object *layers = NULL;
	if (!json_object_object_get_ex(root, "layers", &layers) ||
	    !json_object_is_type(layers, json_type_array)) {
		rc = cl_error_set(err, EBADMSG, "%s: \"layers\" missing or not an array", what);
		goto out;
	}
	size_t n = json_object_array_length(layers);
	if (n > CL_IMAGE_MAX_LAYERS) {
		rc = cl_error_set(err, EFBIG, "%s: %zu layers (limit %u)", what, n,
				  CL_IMAGE_MAX_LAYERS);
		goto out;
	}
	out->layers = calloc(n ? n : 1, sizeof(*out->layers));
	if (!out->layers) {
		rc = cl_error_set(err, ENOMEM, "%s: out of memory", what);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(dwhat, sizeof(dwhat), "%s: layers[%zu]", what, i);
		struct cl_image_layer *l = &out->layers[i];
		if ((rc = get_descriptor(json_object_array_get_idx(layers, i), dwhat, &l->blob,
					 err)) < 0)
			goto out;
		out->n_layers++;
		if (cl_media_type_kind(l->blob.media_type, &l->compression) != CL_MEDIA_LAYER) {
			rc = cl_error_set(err, ENOTSUP, "%s: unsupported layer mediaType \"%.100s\"",
					  dwhat, l->blob.media_type);
			goto out;
		}
	}
	rc = 0;
out:
	if (rc < 0)
		cl_oci_manifest_free(out);
	json_object_put(root);
	return rc;
}

void cl_oci_config_free(struct cl_oci_config *c)
{
	if (!c)
		return;
	cl_image_config_free(&c->cfg);
	cl_strv_free(c->diff_ids);
	c->diff_ids = NULL;
	c->n_diff_ids = 0;
}

static int check_env(char **env, const char *what, struct cl_error *err)
{
	for (size_t i = 0; env[i]; i++) {
		const char *eq = strchr(env[i], '=');
		if (!eq || eq == env[i])
			return cl_error_set(err, EBADMSG,
					    "%s: Env[%zu] is not of the form KEY=VALUE", what, i);
	}
	return 0;
}

int cl_oci_parse_config(const char *buf, size_t len, const char *what,
			struct cl_oci_config *out, struct cl_error *err)
{
	memset(out, 0, sizeof(*out));
	if (len > CL_IMAGE_MAX_CONFIG_BYTES)
		return cl_error_set(err, EFBIG, "%s: %zu bytes (limit %u)", what, len,
				    CL_IMAGE_MAX_CONFIG_BYTES);
	json_object *root = NULL;
	int rc = parse_object(buf, len, what, &root, err);
	if (rc < 0)
		return rc;
	struct cl_image_config *cfg = &out->cfg;
	if ((rc = get_string(root, "os", true, what, &cfg->os, err)) < 0 ||
	    (rc = get_string(root, "architecture", true, what, &cfg->architecture, err)) < 0 ||
	    (rc = get_string_or_empty(root, "variant", what, &cfg->variant, err)) < 0)
		goto out;

	json_object *c = NULL;
	bool has_c = json_object_object_get_ex(root, "config", &c) &&
		     !json_object_is_type(c, json_type_null);
	if (has_c && !json_object_is_type(c, json_type_object)) {
		rc = cl_error_set(err, EBADMSG, "%s: \"config\" is not an object", what);
		goto out;
	}
	/* an absent config object reads like an empty one */
	json_object *empty = json_object_new_object();
	if (!empty) {
		rc = cl_error_set(err, ENOMEM, "%s: out of memory", what);
		goto out;
	}
	json_object *src = has_c ? c : empty;
	char cwhat[256];
	snprintf(cwhat, sizeof(cwhat), "%s: config", what);
	if ((rc = get_string_array(src, "Entrypoint", CL_IMAGE_MAX_STRINGS, cwhat,
				   &cfg->entrypoint, err)) < 0 ||
	    (rc = get_string_array(src, "Cmd", CL_IMAGE_MAX_STRINGS, cwhat, &cfg->cmd, err)) < 0 ||
	    (rc = get_string_array(src, "Env", CL_IMAGE_MAX_STRINGS, cwhat, &cfg->env, err)) < 0 ||
	    (rc = get_string_or_empty(src, "WorkingDir", cwhat, &cfg->working_dir, err)) < 0 ||
	    (rc = get_string_or_empty(src, "User", cwhat, &cfg->user, err)) < 0) {
		json_object_put(empty);
		goto out;
	}
	json_object_put(empty);
	if ((rc = check_env(cfg->env, cwhat, err)) < 0)
		goto out;

	json_object *rootfs = NULL;
	if (!json_object_object_get_ex(root, "rootfs", &rootfs) ||
	    !json_object_is_type(rootfs, json_type_object)) {
		rc = cl_error_set(err, EBADMSG, "%s: \"rootfs\" missing or not an object", what);
		goto out;
	}
	char *type = NULL;
	if ((rc = get_string(rootfs, "type", true, what, &type, err)) < 0)
		goto out;
	bool layers_type = strcmp(type, "layers") == 0;
	free(type);
	if (!layers_type) {
		rc = cl_error_set(err, EBADMSG, "%s: rootfs.type must be \"layers\"", what);
		goto out;
	}
	char rwhat[256];
	snprintf(rwhat, sizeof(rwhat), "%s: rootfs", what);
	json_object *ids = NULL;
	if (!json_object_object_get_ex(rootfs, "diff_ids", &ids) ||
	    !json_object_is_type(ids, json_type_array)) {
		rc = cl_error_set(err, EBADMSG, "%s: \"diff_ids\" missing or not an array", rwhat);
		goto out;
	}
	if ((rc = get_string_array(rootfs, "diff_ids", CL_IMAGE_MAX_LAYERS, rwhat, &out->diff_ids,
				   err)) < 0)
		goto out;
	while (out->diff_ids[out->n_diff_ids])
		out->n_diff_ids++;
	for (size_t i = 0; i < out->n_diff_ids; i++) {
		char iwhat[300];
		snprintf(iwhat, sizeof(iwhat), "%s: diff_ids[%zu]", rwhat, i);
		if ((rc = cl_digest_parse(out->diff_ids[i], NULL, err, iwhat)) < 0)
			goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		cl_oci_config_free(out);
	json_object_put(root);
	return rc;
}
