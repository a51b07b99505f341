/* Parsers of the OCI JSON documents — image index, image manifest, image config — from
 * untrusted bytes into our structures. Pure functions (no I/O), bounded, fuzzed. */
#ifndef CL_IMAGE_OCI_JSON_H
#define CL_IMAGE_OCI_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "container-lite/error.h"
#include "container-lite/image.h"

#define CL_MT_INDEX       "application/vnd.oci.image.index.v1+json"
#define CL_MT_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define CL_MT_CONFIG      "application/vnd.oci.image.config.v1+json"
#define CL_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define CL_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define CL_MT_DOCKER_CONFIG   "application/vnd.docker.container.image.v1+json"
#define CL_ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"

enum cl_media_kind {
	CL_MEDIA_UNKNOWN = 0,
	CL_MEDIA_INDEX,
	CL_MEDIA_MANIFEST,
	CL_MEDIA_CONFIG,
	CL_MEDIA_LAYER,
};

/* Classifies a media type; for layers also gives the compression. */
enum cl_media_kind cl_media_type_kind(const char *media_type, enum cl_layer_compression *comp);

/* One entry of an image index. */
struct cl_index_entry {
	struct cl_image_descriptor desc;
	char *ref_name;         /* the ref.name annotation, or NULL */
	bool has_platform;
	char *os;               /* "" when no platform */
	char *architecture;
	char *variant;
};

struct cl_oci_index {
	size_t n;
	struct cl_index_entry *entries;
};

/* A parsed manifest: the config descriptor and the layer descriptors (diff_id and
 * chain_id still NULL). */
struct cl_oci_manifest {
	struct cl_image_descriptor config;
	size_t n_layers;
	struct cl_image_layer *layers;
};

/* A parsed config: the run part and rootfs.diff_ids. */
struct cl_oci_config {
	struct cl_image_config cfg;
	size_t n_diff_ids;
	char **diff_ids;
};

/* Each parser: buf/len are the document bytes, what names it in messages ("index.json",
 * "manifest sha256:…"). On error nothing is left allocated in *out. */
int cl_oci_parse_index(const char *buf, size_t len, const char *what, struct cl_oci_index *out,
		       struct cl_error *err);
/* expected_media_type: the media type of the descriptor that pointed here; the document's
 * own mediaType field, when present, must agree with it. */
int cl_oci_parse_manifest(const char *buf, size_t len, const char *what,
			  const char *expected_media_type, struct cl_oci_manifest *out,
			  struct cl_error *err);
int cl_oci_parse_config(const char *buf, size_t len, const char *what,
			struct cl_oci_config *out, struct cl_error *err);

/* The "oci-layout" file: {"imageLayoutVersion": "1.x.y"}. */
int cl_oci_parse_layout_file(const char *buf, size_t len, const char *what,
			     struct cl_error *err);

void cl_oci_index_free(struct cl_oci_index *idx);
void cl_oci_manifest_free(struct cl_oci_manifest *m);
void cl_oci_config_free(struct cl_oci_config *c);

void cl_descriptor_free(struct cl_image_descriptor *d);
void cl_image_config_free(struct cl_image_config *cfg);
void cl_strv_free(char **v);

#endif
