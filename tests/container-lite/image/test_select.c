/* Manifest selection: by ref name, the only manifest, a multi-platform nested index (the
 * running architecture by default, overridable, variants), missing refs and platforms as
 * errors that list what is available; archives read like directories. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "container-lite/image.h"
#include "support/oci_builder.h"
#include "support/test_util.h"

struct fixture {
	char *work;
	char img[4096];
	char tar[4096];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->work = tu_workdir("select");
	snprintf(f->img, sizeof(f->img), "%s/img", f->work);
	snprintf(f->tar, sizeof(f->tar), "%s/img.tar", f->work);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tu_rm_rf(f->work);
	free(f->work);
	free(f);
	return 0;
}

/* A one-layer manifest whose layer holds /which = marker, for the given platform. */
static void marker_manifest(struct tb_image *img, const char *marker, const char *arch,
			    const char *variant, struct tb_desc *out)
{
	struct tb_layer *l = tb_layer_new();
	tb_file(l, "which", marker, 0644);
	struct tb_desc layer, config;
	tb_add_layer(img, l, CL_LAYER_GZIP, &layer);
	tb_layer_free(l);
	struct tb_config cfg = { .arch = arch, .variant = variant };
	tb_add_config(img, &cfg, &layer, 1, &config);
	tb_add_manifest(img, &config, &layer, 1, out);
}

/* Selects with ref/platform and unpacks; returns the marker ("" on failure, err set). */
static char *pick(const char *image, const char *ref, const char *platform,
		  struct cl_error *err, const char *work)
{
	struct cl_image *img = NULL;
	struct cl_image_manifest *m = NULL;
	struct cl_image_selector sel = { .ref = ref };
	char *out = strdup("");
	cl_error_clear(err);
	int rc = platform ? cl_image_parse_platform(platform, &sel, err) : 0;
	if (rc == 0)
		rc = cl_image_open(image, &img, err);
	if (rc == 0)
		rc = cl_image_select(img, &sel, &m, err);
	const char *rootfs = tu_path(work, "rootfs");
	if (rc == 0)
		rc = cl_image_unpack(img, m, rootfs, &(struct cl_unpack_options){
			.resolver = tu_resolver }, NULL, err);
	if (rc == 0) {
		free(out);
		out = tu_read(tu_path(rootfs, "which"));
		tu_rm_rf(rootfs);
	}
	cl_image_manifest_free(m);
	cl_image_close(img);
	return out;
}

static void check_pick(struct fixture *f, const char *ref, const char *platform,
		       const char *want)
{
	struct cl_error err = { 0 };
	for (int archive = 0; archive < 2; archive++) {
		char *got = pick(archive ? f->tar : f->img, ref, platform, &err, f->work);
		if (strcmp(got, want) != 0)
			fprintf(stderr, "ref %s platform %s (%s): got \"%s\": %s\n", ref ? ref : "-",
				platform ? platform : "-", archive ? "archive" : "dir", got, err.msg);
		assert_string_equal(got, want);
		free(got);
	}
}

static void check_error(struct fixture *f, const char *ref, const char *platform, int code,
			const char *needle)
{
	struct cl_error err = { 0 };
	for (int archive = 0; archive < 2; archive++) {
		char *got = pick(archive ? f->tar : f->img, ref, platform, &err, f->work);
		if (*got || err.code != code || !strstr(err.msg, needle))
			fprintf(stderr, "got \"%s\", code %d: %s\n", got, err.code, err.msg);
		assert_string_equal(got, "");
		assert_int_equal(err.code, code);
		assert_non_null(strstr(err.msg, needle));
		free(got);
	}
}

static void by_ref_name(void **state)
{
	struct fixture *f = *state;
	struct tb_image *img = tb_image_new(f->img);
	struct tb_desc a, b;
	marker_manifest(img, "one", NULL, NULL, &a);
	marker_manifest(img, "two", NULL, NULL, &b);
	tb_index_entry(img, &a, "v1", NULL);
	tb_index_entry(img, &b, "v2", NULL);
	tb_image_finish(img);
	tb_image_free(img);
	tb_archive_layout(f->img, f->tar);
	check_pick(f, "v1", NULL, "one");
	check_pick(f, "v2", NULL, "two");
	check_error(f, "v3", NULL, -ENOENT, "no manifest with ref \"v3\" (available refs: v1, v2)");
	check_error(f, NULL, NULL, -ENOENT, "choose one with --ref (refs: v1, v2)");
}

static void the_only_manifest(void **state)
{
	struct fixture *f = *state;
	struct tb_image *img = tb_image_new(f->img);
	struct tb_desc a;
	marker_manifest(img, "only", NULL, NULL, &a);
	tb_index_entry(img, &a, "latest", NULL);
	tb_image_finish(img);
	tb_image_free(img);
	tb_archive_layout(f->img, f->tar);
	check_pick(f, NULL, NULL, "only");
	check_pick(f, "latest", NULL, "only");
	/* an explicit platform must match what the image is for */
	check_error(f, NULL, "linux/s390x", -ENOENT, "not linux/s390x");

	struct cl_image *im;
	struct cl_image_manifest *m;
	struct cl_error err = { 0 };
	assert_int_equal(cl_image_open(f->img, &im, &err), 0);
	assert_int_equal(cl_image_select(im, NULL, &m, &err), 0);
	assert_string_equal(m->ref_name, "latest");
	assert_string_equal(m->manifest.digest, a.digest);
	assert_int_equal(m->manifest.size, a.size);
	assert_int_equal(m->n_layers, 1);
	assert_string_equal(m->layers[0].chain_id, m->layers[0].diff_id);
	cl_image_manifest_free(m);
	cl_image_close(im);
}

/* index.json → ref "multi" → nested index of four platforms. */
static void multi_platform(void **state)
{
	struct fixture *f = *state;
	struct tb_image *img = tb_image_new(f->img);
	struct tb_desc ms[4], index;
	marker_manifest(img, "amd64", "amd64", NULL, &ms[0]);
	marker_manifest(img, "arm64", "arm64", "v8", &ms[1]);
	marker_manifest(img, "armv7", "arm", "v7", &ms[2]);
	marker_manifest(img, "armv6", "arm", "v6", &ms[3]);
	static const char *const plats[] = { "linux/amd64", "linux/arm64/v8", "linux/arm/v7",
					     "linux/arm/v6" };
	tb_add_index(img, ms, plats, 4, &index);
	tb_index_entry(img, &index, "multi", NULL);
	tb_image_finish(img);
	tb_image_free(img);
	tb_archive_layout(f->img, f->tar);

	/* the running architecture by default */
	const char *arch = tb_machine_arch();
	if (strcmp(arch, "amd64") == 0 || strcmp(arch, "arm64") == 0)
		check_pick(f, NULL, NULL, arch);
	check_pick(f, "multi", "linux/amd64", "amd64");
	check_pick(f, NULL, "linux/arm64", "arm64");      /* no variant = v8 for arm64 */
	check_pick(f, NULL, "linux/arm64/v8", "arm64");
	check_pick(f, NULL, "linux/arm/v7", "armv7");
	check_pick(f, NULL, "linux/arm/v6", "armv6");
	if (strcmp(arch, "arm") != 0)   /* on arm, the compiled-in variant breaks the tie */
		check_error(f, NULL, "linux/arm", -EBADMSG, "2 manifests match");
	check_error(f, NULL, "linux/s390x", -ENOENT,
		    "no manifest for platform linux/s390x (available: linux/amd64, "
		    "linux/arm64/v8, linux/arm/v7, linux/arm/v6)");
	check_error(f, NULL, "windows/amd64", -ENOENT, "no manifest for platform windows/amd64");
	check_error(f, "other", NULL, -ENOENT, "available refs: multi");

	struct cl_image_selector sel = { 0 };
	struct cl_error err = { 0 };
	assert_int_equal(cl_image_parse_platform("linux/arm64/v8", &sel, &err), 0);
	assert_string_equal(sel.os, "linux");
	assert_string_equal(sel.architecture, "arm64");
	assert_string_equal(sel.variant, "v8");
	assert_true(cl_image_parse_platform("linux", &sel, &err) < 0);
	assert_true(cl_image_parse_platform("linux/arm64/v8/x", &sel, &err) < 0);
	assert_true(cl_image_parse_platform("linux//v8", &sel, &err) < 0);
	assert_true(cl_image_parse_platform("Linux/AMD64", &sel, &err) < 0);
}

/* An index that points at itself through nested indexes stops at the depth limit. */
static void nesting_is_bounded(void **state)
{
	struct fixture *f = *state;
	struct tb_image *img = tb_image_new(f->img);
	struct tb_desc m, idx[6];
	marker_manifest(img, "deep", NULL, NULL, &m);
	char machine[64];
	snprintf(machine, sizeof(machine), "linux/%s", tb_machine_arch());
	const char *const plat[] = { machine };
	tb_add_index(img, &m, plat, 1, &idx[0]);
	for (int i = 1; i < 6; i++)
		tb_add_index(img, &idx[i - 1], plat, 1, &idx[i]);
	tb_index_entry(img, &idx[5], NULL, NULL);
	tb_image_finish(img);
	tb_image_free(img);
	tb_archive_layout(f->img, f->tar);
	check_error(f, NULL, NULL, -EBADMSG, "nested deeper than 4");
}

/* An entry of an unknown media type is an error only when it is the one selected. */
static void unknown_media_types(void **state)
{
	struct fixture *f = *state;
	struct tb_image *img = tb_image_new(f->img);
	struct tb_desc a, art;
	marker_manifest(img, "image", NULL, NULL, &a);
	tb_blob(img, "{}", 2, "application/vnd.example.artifact+json", &art);
	tb_index_entry(img, &a, "image", NULL);
	tb_index_entry(img, &art, "artifact", NULL);
	tb_image_finish(img);
	tb_image_free(img);
	tb_archive_layout(f->img, f->tar);
	check_pick(f, "image", NULL, "image");
	check_error(f, "artifact", NULL, -ENOTSUP, "unsupported mediaType");
}

int main(int argc, char **argv)
{
	tu_parse_args(argc, argv);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(by_ref_name, setup, teardown),
		cmocka_unit_test_setup_teardown(the_only_manifest, setup, teardown),
		cmocka_unit_test_setup_teardown(multi_platform, setup, teardown),
		cmocka_unit_test_setup_teardown(nesting_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_media_types, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
