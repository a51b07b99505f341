/* container-lite image API: open an OCI image layout (directory or tar archive), select and
 * verify a manifest, unpack its layers into a root filesystem (directly or through a cache
 * keyed by chain ID), and derive the run configuration. Every byte of the image is treated
 * as hostile; see container-lite/DESIGN.md for the rules applied.
 *
 * Typical use:
 *   cl_image_open(path, &img, &err);
 *   cl_image_select(img, &sel, &m, &err);               verifies manifest and config
 *   cl_image_unpack(img, m, "rootfs", &opts, &st, &err); verifies every layer while applying
 *   cl_image_run_config(&m->config, "rootfs", &ov, &rc, &err);
 *
 * Errors: functions return 0 (or a count) on success and a negative errno-style code on
 * failure, with err (may be NULL) naming the object and the reason. The codes classify the
 * failure:
 *   -EBADMSG   the image is malformed, tampered or hostile (bad JSON, digest, size or
 *              diff_id mismatch, a refused tar entry)
 *   -ENOENT    something the image should contain is missing (ref, platform, blob, user,
 *              group), or the image path does not exist
 *   -ENOTSUP   a valid but unsupported feature (media type, digest algorithm, compressed
 *              archive)
 *   -EFBIG     a configured limit was reached (bytes, entries, JSON sizes, counts)
 *   -EEXIST    the target rootfs exists and is not empty
 *   -ENOTDIR   a directory the caller named (a target's parent, the cache's parent, a
 *              rootfs) does not exist
 *   other      system errors (I/O, permissions, memory)
 */
#ifndef CONTAINER_LITE_IMAGE_H
#define CONTAINER_LITE_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "container-lite/error.h"
#include "container-lite/rootfs.h"

/* Bounds on what an image may ask of us (DESIGN.md "Reading the image"). */
#define CL_IMAGE_MAX_INDEX_BYTES    (4u << 20)   /* index.json and nested indexes */
#define CL_IMAGE_MAX_MANIFEST_BYTES (4u << 20)
#define CL_IMAGE_MAX_CONFIG_BYTES   (8u << 20)
#define CL_IMAGE_MAX_INDEX_ENTRIES  1024u
#define CL_IMAGE_MAX_LAYERS         256u
#define CL_IMAGE_MAX_STRINGS        4096u        /* per Env, Entrypoint, Cmd array */

/* Defaults of struct cl_unpack_options when a field is 0. */
#define CL_UNPACK_DEFAULT_MAX_BYTES   (16ull << 30)
#define CL_UNPACK_DEFAULT_MAX_ENTRIES 1000000ull

struct cl_image;        /* an opened image layout */
struct cl_image_cache;  /* an opened layer cache */

/* A content descriptor, as in the OCI spec. */
struct cl_image_descriptor {
	char *media_type;
	char *digest;           /* "sha256:<64 hex>" or "sha512:<128 hex>" */
	uint64_t size;
};

enum cl_layer_compression {
	CL_LAYER_TAR = 0,
	CL_LAYER_GZIP,
	CL_LAYER_ZSTD,
};

struct cl_image_layer {
	struct cl_image_descriptor blob;   /* the (compressed) blob as stored */
	enum cl_layer_compression compression;
	char *diff_id;                     /* digest of the uncompressed tar, from the config */
	char *chain_id;                    /* ChainID of layers 0..this one */
};

/* The parts of an image config that matter to us. String arrays are NULL-terminated
 * (never NULL themselves; empty when the image sets none). */
struct cl_image_config {
	char *os;
	char *architecture;
	char *variant;          /* "" when absent */
	char **entrypoint;
	char **cmd;
	char **env;             /* "KEY=VALUE" */
	char *working_dir;      /* as written in the image; "" when absent */
	char *user;             /* as written in the image; "" when absent */
};

/* A selected, verified manifest with its parsed config. Read-only for callers. */
struct cl_image_manifest {
	struct cl_image_descriptor manifest;   /* the manifest blob itself */
	struct cl_image_descriptor config_blob;
	char *ref_name;                        /* ref.name annotation that led here, or NULL */
	struct cl_image_config config;
	size_t n_layers;
	struct cl_image_layer *layers;         /* layers[0] is the base */
};

/* Which manifest to take. Zero-initialised means: the only one, or the running platform. */
struct cl_image_selector {
	const char *ref;        /* org.opencontainers.image.ref.name, or NULL */
	char os[32];            /* "" = "linux" */
	char architecture[32];  /* "" = the architecture this library was compiled for */
	char variant[16];       /* "" = any, preferring the compiled-in default */
};

enum cl_owner_policy {
	CL_OWNER_AUTO = 0,      /* PRESERVE when running as root, SELF otherwise */
	CL_OWNER_PRESERVE,      /* chown to the tar uid/gid + id_shift */
	CL_OWNER_SELF,          /* owned by the caller; the tar's uid:gid:mode kept in the
	                         * xattr user.containerlite.owner where it differs */
};

/* Unpack options; a zero-initialised struct means the defaults. */
struct cl_unpack_options {
	uint64_t max_total_bytes;      /* sum of entry sizes over all layers; 0 = default */
	uint64_t max_entries;          /* tar entries over all layers; 0 = default */
	enum cl_resolver resolver;
	enum cl_owner_policy owner;
	uint32_t id_shift;             /* PRESERVE: host id = image id + id_shift */
	uint32_t id_count;             /* PRESERVE: image ids must be < id_count; 0 = any */
};

/* What an unpack did. */
struct cl_unpack_stats {
	unsigned layers_applied;       /* layers read from their blobs and applied */
	unsigned layers_reused;        /* layers found already unpacked in the cache */
	uint64_t entries;              /* tar entries processed */
	uint64_t bytes;                /* file data bytes written */
	uint64_t whiteouts;            /* whiteout and opaque markers applied */
	uint64_t skipped_devices;      /* device nodes and sockets not created */
	uint64_t skipped_xattrs;       /* xattrs not applied (namespace refused, fs refused) */
	uint64_t stripped_setid;       /* entries whose setuid/setgid bits were removed */
	enum cl_resolver resolver;     /* the resolver that did the work */
};

enum cl_copy_mode {
	CL_COPY_LINK = 0,       /* hard links into the cache: cheap, for read-only use only */
	CL_COPY_DATA,           /* reflink where possible, else copied data: independent */
};

/* Caller overrides of the image's run configuration; NULL fields keep the image's value.
 * String arrays are NULL-terminated. */
struct cl_run_overrides {
	const char *const *entrypoint;  /* replaces Entrypoint and drops the image's Cmd */
	const char *const *cmd;         /* replaces Cmd */
	const char *const *env;         /* "K=V": replaces the image's K, or is appended */
	const char *working_dir;
	const char *user;               /* same syntax as the image's User */
};

/* The resolved run configuration (ids in the image's terms). */
struct cl_run_config {
	char **argv;            /* NULL-terminated, argv[0] is the program */
	char **env;             /* NULL-terminated "K=V" */
	char *working_dir;      /* absolute, lexically clean */
	char *user;             /* the user spec that was resolved ("" = root) */
	uid_t uid;
	gid_t gid;
	size_t n_groups;        /* supplementary groups */
	gid_t *groups;
};

/* Opens an OCI image layout: a directory, or an uncompressed tar archive of one. Checks
 * oci-layout and reads index.json (parsed at selection). */
int cl_image_open(const char *path, struct cl_image **out, struct cl_error *err);

/* Closes an image (NULL is fine). */
void cl_image_close(struct cl_image *img);

/* Picks the manifest (ref name, else the only one, else the platform; nested indexes
 * followed), reads and verifies the manifest and config blobs (size, digest), parses them,
 * and computes chain IDs. sel may be NULL. *out is freed with cl_image_manifest_free(). */
int cl_image_select(struct cl_image *img, const struct cl_image_selector *sel,
		    struct cl_image_manifest **out, struct cl_error *err);

/* Frees a manifest (NULL is fine). */
void cl_image_manifest_free(struct cl_image_manifest *m);

/* Parses "os/arch[/variant]" (e.g. "linux/arm64/v8") into sel's platform fields. */
int cl_image_parse_platform(const char *spec, struct cl_image_selector *sel,
			    struct cl_error *err);

/* Streams every layer blob and checks its size, digest and diff_id without unpacking. */
int cl_image_verify_layers(struct cl_image *img, const struct cl_image_manifest *m,
			   struct cl_error *err);

/* Unpacks m's layers into the directory rootfs, which must not exist or be empty, and
 * whose parent must exist. Works in a temporary sibling renamed into place at the end and
 * removed on failure. opts and stats may be NULL. */
int cl_image_unpack(struct cl_image *img, const struct cl_image_manifest *m,
		    const char *rootfs, const struct cl_unpack_options *opts,
		    struct cl_unpack_stats *stats, struct cl_error *err);

/* Opens (creating if needed) a layer cache in dir. opts fixes the limits, resolver and
 * ownership policy of every unpack through this cache. Removes leftovers of builders that
 * died. */
int cl_image_cache_open(const char *dir, const struct cl_unpack_options *opts,
			struct cl_image_cache **out, struct cl_error *err);

/* Closes a cache (NULL is fine). */
void cl_image_cache_close(struct cl_image_cache *cache);

/* Makes sure the chain of every layer of m is in the cache, unpacking only those missing
 * (stats tells how many). *tree_path (malloc'd) receives the path of the top chain's tree:
 * a complete rootfs that callers must only use read-only. stats may be NULL. */
int cl_image_cache_prepare(struct cl_image_cache *cache, struct cl_image *img,
			   const struct cl_image_manifest *m, char **tree_path,
			   struct cl_unpack_stats *stats, struct cl_error *err);

/* Copies the prepared top chain of m to rootfs (not existing or empty, parent existing),
 * through a temporary sibling. CL_COPY_LINK trees must only be used read-only. */
int cl_image_cache_materialise(struct cl_image_cache *cache, const struct cl_image_manifest *m,
			       const char *rootfs, enum cl_copy_mode mode, struct cl_error *err);

/* Resolves the run configuration of cfg with the overrides ov (may be NULL); user names
 * are looked up in rootfs's /etc/passwd and /etc/group. *out is freed with
 * cl_run_config_free(). */
int cl_image_run_config(const struct cl_image_config *cfg, const char *rootfs,
			const struct cl_run_overrides *ov, struct cl_run_config **out,
			struct cl_error *err);

/* Frees a run configuration (NULL is fine). */
void cl_run_config_free(struct cl_run_config *rc);

/* True when code says the image (not the system) is at fault: -EBADMSG, -ENOENT,
 * -ENOTSUP or -EFBIG. */
bool cl_image_error_is_content(int code);

/* The name of a layer compression: "tar", "tar+gzip", "tar+zstd". */
const char *cl_image_compression_name(enum cl_layer_compression c);

#endif
