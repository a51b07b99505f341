/* `container-lite unpack`: an image into a new root filesystem directory, directly or
 * through the layer cache. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

static const char unpack_usage[] =
	"Usage: container-lite unpack --image PATH --rootfs DIR [OPTIONS]\n"
	"\n"
	"Unpacks an OCI image into DIR, verifying the manifest, the config and every layer\n"
	"(size, sha256 digest, diff_id) and applying the layers with the OCI rules. DIR must\n"
	"not exist or be empty; its parent must exist. Nothing appears at DIR unless all of\n"
	"the image passed: the work happens in a temporary sibling that is renamed at the end\n"
	"or removed on failure.\n"
	"\n"
	"Options:\n"
	"  -i, --image PATH          OCI image layout directory, or a tar archive of one\n"
	"  -r, --ref NAME            the manifest whose org.opencontainers.image.ref.name is\n"
	"                            NAME (default: the only one)\n"
	"  -p, --platform OS/ARCH[/VARIANT]\n"
	"                            platform to pick from a multi-platform index (default:\n"
	"                            the machine's, e.g. linux/amd64)\n"
	"  -d, --rootfs DIR          where to unpack\n"
	"      --cache DIR           unpack through a layer cache in DIR: layers already\n"
	"                            unpacked for another image are reused\n"
	"      --link                with --cache: make DIR of hard links into the cache\n"
	"                            (fast; DIR must then be used read-only)\n"
	"      --max-bytes SIZE      stop when the layers' files exceed SIZE (K/M/G/T\n"
	"                            suffixes; default 16G)\n"
	"      --max-entries N       stop after N tar entries (default 1000000)\n"
	"      --owner auto|preserve|self\n"
	"                            preserve: chown files to the image's uid/gid (needs\n"
	"                            root); self: files stay yours, the image's uid:gid:mode\n"
	"                            kept in the xattr user.containerlite.owner; auto: preserve\n"
	"                            as root, self otherwise\n"
	"      --id-shift N          preserve: add N to every uid and gid (user namespaces)\n"
	"      --id-count N          preserve: refuse ids >= N\n"
	"  -q, --quiet               print nothing on success\n"
	"  -h, --help                this help\n"
	"\n"
	"Exit status: 0 unpacked, 120 usage error, 121 bad image, 125 system error.\n";

enum {
	OPT_CACHE = 256,
	OPT_LINK,
	OPT_MAX_BYTES,
	OPT_MAX_ENTRIES,
	OPT_OWNER,
	OPT_ID_SHIFT,
	OPT_ID_COUNT,
};

static int parse_u32(const char *s, uint32_t *out)
{
	uint64_t v;
	if (cl_tool_parse_size(s, &v) < 0 || v > 0xffffffffULL)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static void print_summary(const char *rootfs, const struct cl_unpack_stats *st, bool cached)
{
	printf("unpacked %u layer%s", st->layers_applied, st->layers_applied == 1 ? "" : "s");
	if (cached)
		printf(" (%u reused from the cache)", st->layers_reused);
	printf(" into %s: %llu entries, %.1f MiB written, resolver %s\n", rootfs,
	       (unsigned long long)st->entries, (double)st->bytes / (1024.0 * 1024.0),
	       cl_rootfs_resolver_name(st->resolver));
	if (st->skipped_devices)
		printf("  %llu device nodes or sockets not created\n",
		       (unsigned long long)st->skipped_devices);
	if (st->stripped_setid)
		printf("  setuid/setgid bits removed from %llu entries\n",
		       (unsigned long long)st->stripped_setid);
	if (st->skipped_xattrs)
		printf("  %llu extended attributes not applied\n",
		       (unsigned long long)st->skipped_xattrs);
}

int cl_cmd_unpack(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "image", required_argument, NULL, 'i' },
		{ "ref", required_argument, NULL, 'r' },
		{ "platform", required_argument, NULL, 'p' },
		{ "rootfs", required_argument, NULL, 'd' },
		{ "cache", required_argument, NULL, OPT_CACHE },
		{ "link", no_argument, NULL, OPT_LINK },
		{ "max-bytes", required_argument, NULL, OPT_MAX_BYTES },
		{ "max-entries", required_argument, NULL, OPT_MAX_ENTRIES },
		{ "owner", required_argument, NULL, OPT_OWNER },
		{ "id-shift", required_argument, NULL, OPT_ID_SHIFT },
		{ "id-count", required_argument, NULL, OPT_ID_COUNT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *image = NULL, *ref = NULL, *platform = NULL, *rootfs = NULL, *cache = NULL;
	bool link = false, quiet = false;
	struct cl_unpack_options opts = { 0 };
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":i:r:p:d:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			image = optarg;
			break;
		case 'r':
			ref = optarg;
			break;
		case 'p':
			platform = optarg;
			break;
		case 'd':
			rootfs = optarg;
			break;
		case OPT_CACHE:
			cache = optarg;
			break;
		case OPT_LINK:
			link = true;
			break;
		case OPT_MAX_BYTES:
			if (cl_tool_parse_size(optarg, &opts.max_total_bytes) < 0 ||
			    !opts.max_total_bytes) {
				cl_tool_error("unpack", "--max-bytes %s: want a size like 512M", optarg);
				return CL_EXIT_USAGE;
			}
			break;
		case OPT_MAX_ENTRIES:
			if (cl_tool_parse_size(optarg, &opts.max_entries) < 0 || !opts.max_entries) {
				cl_tool_error("unpack", "--max-entries %s: want a positive count",
					      optarg);
				return CL_EXIT_USAGE;
			}
			break;
		case OPT_OWNER:
			if (strcmp(optarg, "auto") == 0)
				opts.owner = CL_OWNER_AUTO;
			else if (strcmp(optarg, "preserve") == 0)
				opts.owner = CL_OWNER_PRESERVE;
			else if (strcmp(optarg, "self") == 0)
				opts.owner = CL_OWNER_SELF;
			else {
				cl_tool_error("unpack", "--owner %s: want auto, preserve or self",
					      optarg);
				return CL_EXIT_USAGE;
			}
			break;
		case OPT_ID_SHIFT:
		case OPT_ID_COUNT:
			if (parse_u32(optarg, c == OPT_ID_SHIFT ? &opts.id_shift : &opts.id_count) < 0) {
				cl_tool_error("unpack", "--%s %s: want a number",
					      c == OPT_ID_SHIFT ? "id-shift" : "id-count", optarg);
				return CL_EXIT_USAGE;
			}
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			fputs(unpack_usage, stdout);
			return CL_EXIT_OK;
		case ':':
			cl_tool_error("unpack", "%s needs an argument (see --help)", argv[optind - 1]);
			return CL_EXIT_USAGE;
		default:
			cl_tool_error("unpack", "unknown option %s (see --help)", argv[optind - 1]);
			return CL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cl_tool_error("unpack", "unexpected argument \"%s\" (see --help)", argv[optind]);
		return CL_EXIT_USAGE;
	}
	if (!image || !rootfs) {
		cl_tool_error("unpack", "--image PATH and --rootfs DIR are required (see --help)");
		return CL_EXIT_USAGE;
	}
	if (link && !cache) {
		cl_tool_error("unpack", "--link only makes sense with --cache DIR");
		return CL_EXIT_USAGE;
	}
	if (cl_tool_resolver_from_env(&opts.resolver) < 0) {
		cl_tool_error("unpack", "CONTAINER_LITE_RESOLVER must be auto, openat2 or fallback");
		return CL_EXIT_USAGE;
	}

	struct cl_image *img;
	struct cl_image_manifest *m;
	int ex = cl_tool_open_image("unpack", image, ref, platform, &img, &m);
	if (ex != CL_EXIT_OK)
		return ex;
	struct cl_error err = { 0 };
	struct cl_unpack_stats st = { 0 };
	int rc;
	if (cache) {
		struct cl_image_cache *cc = NULL;
		char *tree = NULL;
		rc = cl_image_cache_open(cache, &opts, &cc, &err);
		if (rc == 0)
			rc = cl_image_cache_prepare(cc, img, m, &tree, &st, &err);
		if (rc == 0)
			rc = cl_image_cache_materialise(cc, m, rootfs,
							link ? CL_COPY_LINK : CL_COPY_DATA, &err);
		free(tree);
		cl_image_cache_close(cc);
	} else {
		rc = cl_image_unpack(img, m, rootfs, &opts, &st, &err);
	}
	if (rc < 0) {
		cl_tool_error("unpack", "%s", err.msg);
		ex = cl_tool_exit_for_image_error(rc);
	} else if (!quiet) {
		print_summary(rootfs, &st, cache != NULL);
	}
	cl_image_manifest_free(m);
	cl_image_close(img);
	return ex;
}
