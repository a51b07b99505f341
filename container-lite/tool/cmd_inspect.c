/* `container-lite inspect`: what an image holds — manifest, config, layers with digests,
 * sizes, media types, diff_ids and chain IDs, and the run configuration — as a table or
 * as JSON. The manifest and config are always verified; --verify streams the layers too. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "commands.h"

static const char inspect_usage[] =
	"Usage: container-lite inspect --image PATH [OPTIONS]\n"
	"\n"
	"Shows the selected manifest of an OCI image: its digest, the config, every layer\n"
	"(digest, size, media type, diff_id, chain ID) and the run configuration\n"
	"(entrypoint, cmd, env, working directory, user). The manifest and config are\n"
	"verified against their digests; with --verify every layer blob is read and its\n"
	"size, digest and diff_id checked as well (nothing is unpacked).\n"
	"\n"
	"Options:\n"
	"  -i, --image PATH          OCI image layout directory, or a tar archive of one\n"
	"  -r, --ref NAME            the manifest whose org.opencontainers.image.ref.name is\n"
	"                            NAME (default: the only one)\n"
	"  -p, --platform OS/ARCH[/VARIANT]\n"
	"                            platform to pick from a multi-platform index\n"
	"      --verify              also verify every layer blob\n"
	"  -o, --output text|json    output format (default text)\n"
	"  -h, --help                this help\n"
	"\n"
	"Exit status: 0 shown (and verified), 120 usage error, 121 bad image, 125 system\n"
	"error.\n";

static json_object *json_strv(char *const *v)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; v && v[i]; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static json_object *json_descriptor(const struct cl_image_descriptor *d)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "mediaType", json_object_new_string(d->media_type));
	json_object_object_add(o, "digest", json_object_new_string(d->digest));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)d->size));
	return o;
}

static void print_json(const char *image, const struct cl_image_manifest *m, bool verified)
{
	json_object *root = json_object_new_object();
	json_object_object_add(root, "image", json_object_new_string(image));
	json_object_object_add(root, "ref", m->ref_name ? json_object_new_string(m->ref_name) :
							  NULL);
	json_object_object_add(root, "manifest", json_descriptor(&m->manifest));
	json_object_object_add(root, "config", json_descriptor(&m->config_blob));
	json_object *plat = json_object_new_object();
	json_object_object_add(plat, "os", json_object_new_string(m->config.os));
	json_object_object_add(plat, "architecture",
			       json_object_new_string(m->config.architecture));
	if (*m->config.variant)
		json_object_object_add(plat, "variant", json_object_new_string(m->config.variant));
	json_object_object_add(root, "platform", plat);
	json_object *layers = json_object_new_array();
	for (size_t i = 0; i < m->n_layers; i++) {
		json_object *l = json_descriptor(&m->layers[i].blob);
		json_object_object_add(l, "diffID", json_object_new_string(m->layers[i].diff_id));
		json_object_object_add(l, "chainID", json_object_new_string(m->layers[i].chain_id));
		json_object_array_add(layers, l);
	}
	json_object_object_add(root, "layers", layers);
	json_object *run = json_object_new_object();
	json_object_object_add(run, "entrypoint", json_strv(m->config.entrypoint));
	json_object_object_add(run, "cmd", json_strv(m->config.cmd));
	json_object_object_add(run, "env", json_strv(m->config.env));
	json_object_object_add(run, "workingDir", json_object_new_string(m->config.working_dir));
	json_object_object_add(run, "user", json_object_new_string(m->config.user));
	json_object_object_add(root, "run", run);
	json_object_object_add(root, "layersVerified", json_object_new_boolean(verified));
	puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}

static void print_strv(const char *label, char *const *v)
{
	printf("  %-12s", label);
	if (!v || !v[0]) {
		puts("(none)");
		return;
	}
	/* JSON quoting shows arguments exactly, spaces and all */
	json_object *a = json_strv(v);
	puts(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(a);
}

static void print_text(const char *image, const struct cl_image_manifest *m, bool verified)
{
	uint64_t total = 0;
	for (size_t i = 0; i < m->n_layers; i++)
		total += m->layers[i].blob.size;
	printf("image:     %s\n", image);
	printf("ref:       %s\n", m->ref_name ? m->ref_name : "(none)");
	printf("platform:  %s/%s%s%s\n", m->config.os, m->config.architecture,
	       *m->config.variant ? "/" : "", m->config.variant);
	printf("manifest:  %s  %llu bytes  %s  (verified)\n", m->manifest.digest,
	       (unsigned long long)m->manifest.size, m->manifest.media_type);
	printf("config:    %s  %llu bytes  %s  (verified)\n", m->config_blob.digest,
	       (unsigned long long)m->config_blob.size, m->config_blob.media_type);
	printf("layers:    %zu, %llu bytes%s\n", m->n_layers, (unsigned long long)total,
	       verified ? " (all verified)" : " (not read; --verify checks them)");
	for (size_t i = 0; i < m->n_layers; i++) {
		const struct cl_image_layer *l = &m->layers[i];
		printf("  %2zu  %s  %llu bytes  %s\n", i, l->blob.digest,
		       (unsigned long long)l->blob.size, cl_image_compression_name(l->compression));
		printf("      diff_id   %s\n", l->diff_id);
		printf("      chain_id  %s\n", l->chain_id);
	}
	printf("run:\n");
	print_strv("entrypoint", m->config.entrypoint);
	print_strv("cmd", m->config.cmd);
	print_strv("env", m->config.env);
	printf("  %-12s%s\n", "workingdir", *m->config.working_dir ? m->config.working_dir : "/");
	printf("  %-12s%s\n", "user", *m->config.user ? m->config.user : "(root)");
}

int cl_cmd_inspect(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "image", required_argument, NULL, 'i' },
		{ "ref", required_argument, NULL, 'r' },
		{ "platform", required_argument, NULL, 'p' },
		{ "verify", no_argument, NULL, 'V' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *image = NULL, *ref = NULL, *platform = NULL;
	bool verify = false, json = false;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":i:r:p:o:h", longopts, NULL)) != -1) {
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
		case 'V':
			verify = true;
			break;
		case 'o':
			if (strcmp(optarg, "json") == 0) {
				json = true;
			} else if (strcmp(optarg, "text") != 0) {
				cl_tool_error("inspect", "-o %s: want text or json", optarg);
				return CL_EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(inspect_usage, stdout);
			return CL_EXIT_OK;
		case ':':
			cl_tool_error("inspect", "%s needs an argument (see --help)", argv[optind - 1]);
			return CL_EXIT_USAGE;
		default:
			cl_tool_error("inspect", "unknown option %s (see --help)", argv[optind - 1]);
			return CL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cl_tool_error("inspect", "unexpected argument \"%s\" (see --help)", argv[optind]);
		return CL_EXIT_USAGE;
	}
	if (!image) {
		cl_tool_error("inspect", "--image PATH is required (see --help)");
		return CL_EXIT_USAGE;
	}
	struct cl_image *img;
	struct cl_image_manifest *m;
	int ex = cl_tool_open_image("inspect", image, ref, platform, &img, &m);
	if (ex != CL_EXIT_OK)
		return ex;
	struct cl_error err = { 0 };
	int rc = verify ? cl_image_verify_layers(img, m, &err) : 0;
	if (rc < 0) {
		cl_tool_error("inspect", "%s", err.msg);
		ex = cl_tool_exit_for_image_error(rc);
	} else if (json) {
		print_json(image, m, verify);
	} else {
		print_text(image, m, verify);
	}
	cl_image_manifest_free(m);
	cl_image_close(img);
	return ex;
}
