/* Verification: a tampered manifest, config or layer, a wrong size in a descriptor, a
 * diff_id that does not match, a layer whose media type lies, a missing or symlinked blob,
 * malformed layout documents — each detected, with the error naming the blob, and no
 * rootfs (or temporary directory) left behind. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "container-lite/image.h"
#include "support/oci_builder.h"
#include "support/test_util.h"

struct fixture {
	char *work;
	char img[4096];
	char rootfs[4096];
	struct tb_desc layer, config, manifest;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->work = tu_workdir("verify");
	snprintf(f->img, sizeof(f->img), "%s/img", f->work);
	snprintf(f->rootfs, sizeof(f->rootfs), "%s/rootfs", f->work);
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

/* One image: a layer with some data, its config and manifest. */
static struct tb_image *build(struct fixture *f, enum cl_layer_compression c)
{
	struct tb_image *img = tb_image_new(f->img);
	struct tb_layer *l = tb_layer_new();
	char data[5000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)('a' + i % 26);
	tb_file_data(l, "data", data, sizeof(data), 0644, 0, 0, TB_MTIME);
	tb_file(l, "etc/hostname", "box", 0644);
	tb_add_layer(img, l, c, &f->layer);
	tb_layer_free(l);
	tb_add_config(img, NULL, &f->layer, 1, &f->config);
	tb_add_manifest(img, &f->config, &f->layer, 1, &f->manifest);
	return img;
}

static void finish(struct tb_image *img, const struct tb_desc *manifest)
{
	tb_index_entry(img, manifest, NULL, NULL);
	tb_image_finish(img);
	tb_image_free(img);
}

/* Flips one byte of a blob file in place (same size). */
static void tamper(struct fixture *f, const char *digest, off_t where)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", f->img, digest + 7);
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	unsigned char b;
	assert_int_equal(pread(fd, &b, 1, where), 1);
	b ^= 0x20;
	assert_int_equal(pwrite(fd, &b, 1, where), 1);
	close(fd);
}

/* Unpacks; returns the code, and checks that a failure left nothing behind. */
static int unpack(struct fixture *f, struct cl_error *err)
{
	struct cl_unpack_stats st;
	int rc = tu_unpack(f->img, NULL, f->rootfs, NULL, &st, err);
	if (rc < 0) {
		char *ls = tu_ls(f->work);
		assert_true(tu_same("work directory", ls, "img\n"));
		free(ls);
	}
	return rc;
}

static void expect(int rc, const struct cl_error *err, int code, const char *n1, const char *n2)
{
	if (rc != code || !strstr(err->msg, n1) || (n2 && !strstr(err->msg, n2)))
		fprintf(stderr, "rc %d: %s\n", rc, err->msg);
	assert_int_equal(rc, code);
	assert_non_null(strstr(err->msg, n1));
	if (n2)
		assert_non_null(strstr(err->msg, n2));
}

static void good_image_unpacks(void **state)
{
	struct fixture *f = *state;
	struct tb_image *img = build(f, CL_LAYER_GZIP);
	finish(img, &f->manifest);
	struct cl_error err = { 0 };
	assert_int_equal(unpack(f, &err), 0);
	char *c = tu_read(tu_path(f->rootfs, "etc/hostname"));
	assert_string_equal(c, "box");
	free(c);
}

static void tampered_manifest(void **state)
{
	struct fixture *f = *state;
	struct tb_image *img = build(f, CL_LAYER_GZIP);
	finish(img, &f->manifest);
	tamper(f, f->manifest.digest, 20);
	struct cl_error err = { 0 };
	expect(unpack(f, &err), &err, -EBADMSG, f->manifest.digest, "digest mismatch");
	assert_non_null(strstr(err.msg, "manifest sha256:"));
}

static void tampered_config(void **state)
{
	struct fixture *f = *state;
	struct tb_image *img = build(f, CL_LAYER_GZIP);
	finish(img, &f->manifest);
	tamper(f, f->config.digest, 10);
	struct cl_error err = { 0 };
	expect(unpack(f, &err), &err, -EBADMSG, f->config.digest, "digest mismatch");
	assert_non_null(strstr(err.msg, "config sha256:"));
}

/* A byte changed in a plain tar layer's file data: the tar still parses, the digest
 * does not match. */
static void tampered_layer_tar(void **state)
{
	struct fixture *f = *state;
	struct tb_image *img = build(f, CL_LAYER_TAR);
	finish(img, &f->manifest);
	tamper(f, f->layer.digest, 2000);
	struct cl_error err = { 0 };
	expect(unpack(f, &err), &err, -EBADMSG, f->layer.digest, "blob digest mismatch");
}

/* A byte changed inside a gzip stream breaks decompression; it is still reported as the
 * digest mismatch it is. */
static void tampered_layer_gzip(void **state)
{
	struct fixture *f = *state;
	struct tb_image *img = build(f, CL_LAYER_GZIP);
	finish(img, &f->manifest);
	tamper(f, f->layer.digest, (off_t)f->layer.size / 2);
	struct cl_error err = { 0 };
	expect(unpack(f, &err), &err, -EBADMSG, f->layer.digest, "blob digest mismatch");
}

static void tampered_layer_zstd_verify_only(void **state)
{
	struct fixture *f = *state;
	struct tb_image *img = build(f, CL_LAYER_ZSTD);
	finish(img, &f->manifest);
	tamper(f, f->layer.digest, (off_t)f->layer.size - 3);
	struct cl_error err = { 0 };
	struct cl_image *im;
	struct cl_image_manifest *m;
	assert_int_equal(cl_image_open(f->img, &im, &err), 0);
	assert_int_equal(cl_image_select(im, NULL, &m, &err), 0);
	expect(cl_image_verify_layers(im, m, &err), &err, -EBADMSG, f->layer.digest,
	       "blob digest mismatch");
	cl_image_manifest_free(m);
	cl_image_close(im);
}

static void wrong_manifest_size(void **state)
{
	struct fixture *f = *state;
	struct tb_image *img = build(f, CL_LAYER_GZIP);
	struct tb_desc d = f->manifest;
	d.size += 1;
	finish(img, &d);
	struct cl_error err = { 0 };
	expect(unpack(f, &err), &err, -EBADMSG, f->manifest.digest, "size mismatch");
}

static void wrong_layer_size(void **state)
{
	struct fixture *f = *state;
	struct tb_image *img = build(f, CL_LAYER_GZIP);
	struct tb_desc l = f->layer, m;
	l.size -= 1;
	tb_add_manifest(img, &f->config, &l, 1, &m);
	finish(img, &m);
	struct cl_error err = { 0 };
	expect(unpack(f, &err), &err, -EBADMSG, f->layer.digest, "size mismatch");
}

static void blob_with_extra_byte(void **state)
{
	struct fixture *f = *state;
	struct tb_image *img = build(f, CL_LAYER_GZIP);
	finish(img, &f->manifest);
	char path[4200];
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", f->img, f->layer.digest + 7);
	int fd = open(path, O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, "!", 1), 1);
	close(fd);
	struct cl_error err = { 0 };
	expect(unpack(f, &err), &err, -EBADMSG, f->layer.digest, "size mismatch");
}

/* The config names a diff_id the layer does not have (a well-formed digest). */
static void diff_id_mismatch(void **state)
{
	struct fixture *f = *state;
	struct tb_image *img = build(f, CL_LAYER_GZIP);
	struct tb_desc l = f->layer, c, m;
	memcpy(l.diff_id + 7, "00000000", 8);
	tb_add_config(img, NULL, &l, 1, &c);
	tb_add_manifest(img, &c, &f->layer, 1, &m);
	finish(img, &m);
	struct cl_error err = { 0 };
	expect(unpack(f, &err), &err, -EBADMSG, f->layer.digest, "diff_id mismatch");
}

static void layer_count_mismatch(void **state)
{
	struct fixture *f = *state;
	struct tb_image *img = build(f, CL_LAYER_GZIP);
	struct tb_desc two[2] = { f->layer, f->layer }, c, m;
	tb_add_config(img, NULL, two, 2, &c);
	tb_add_manifest(img, &c, &f->layer, 1, &m);
	finish(img, &m);
	struct cl_error err = { 0 };
	expect(unpack(f, &err), &err, -EBADMSG, "2 diff_ids for the manifest's 1 layers", NULL);
}

/* A plain tar declared as gzip. */
static void media_type_lies(void **state)
{
	struct fixture *f = *state;
	struct tb_image *img = build(f, CL_LAYER_TAR);
	struct tb_desc l = f->layer, m;
	snprintf(l.media_type, sizeof(l.media_type), "application/vnd.oci.image.layer.v1.tar+gzip");
	tb_add_manifest(img, &f->config, &l, 1, &m);
	finish(img, &m);
	struct cl_error err = { 0 };
	expect(unpack(f, &err), &err, -EBADMSG, f->layer.digest,
	       "media type says tar+gzip but the blob is not");
}

static void unsupported_layer_media_type(void **state)
{
	struct fixture *f = *state;
	struct tb_image *img = build(f, CL_LAYER_GZIP);
	struct tb_desc l = f->layer, m;
	snprintf(l.media_type, sizeof(l.media_type), "application/vnd.oci.image.layer.v1.tar+bzip2");
	tb_add_manifest(img, &f->config, &l, 1, &m);
	finish(img, &m);
	struct cl_error err = { 0 };
	expect(unpack(f, &err), &err, -ENOTSUP, "layers[0]", "tar+bzip2");
}

static void missing_layer_blob(void **state)
{
	struct fixture *f = *state;
	struct tb_image *img = build(f, CL_LAYER_GZIP);
	finish(img, &f->manifest);
	char path[4200];
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", f->img, f->layer.digest + 7);
	assert_int_equal(unlink(path), 0);
	struct cl_error err = { 0 };
	expect(unpack(f, &err), &err, -ENOENT, f->layer.digest, "missing from the layout");
}

static void symlinked_blob_refused(void **state)
{
	struct fixture *f = *state;
	struct tb_image *img = build(f, CL_LAYER_GZIP);
	finish(img, &f->manifest);
	char path[4200], moved[4300];
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", f->img, f->layer.digest + 7);
	snprintf(moved, sizeof(moved), "%s/elsewhere", f->work);
	assert_int_equal(rename(path, moved), 0);
	assert_int_equal(symlink(moved, path), 0);
	struct cl_error err = { 0 };
	int rc = tu_unpack(f->img, NULL, f->rootfs, NULL, NULL, &err);
	expect(rc, &err, -EBADMSG, f->layer.digest, "symlink (refused)");
	assert_false(tu_exists(f->rootfs));
}

/* The same tampering, with the image as a tar archive. */
static void tampered_layer_in_archive(void **state)
{
	struct fixture *f = *state;
	struct tb_image *img = build(f, CL_LAYER_TAR);
	finish(img, &f->manifest);
	tamper(f, f->layer.digest, 1500);
	char tar[4200];
	snprintf(tar, sizeof(tar), "%s/image.tar", f->work);
	tb_archive_layout(f->img, tar);
	struct cl_error err = { 0 };
	int rc = tu_unpack(tar, NULL, f->rootfs, NULL, NULL, &err);
	expect(rc, &err, -EBADMSG, f->layer.digest, "blob digest mismatch");
	assert_false(tu_exists(f->rootfs));
}

static void write_text(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

static void layout_documents(void **state)
{
	struct fixture *f = *state;
	struct tb_image *img = build(f, CL_LAYER_GZIP);
	finish(img, &f->manifest);
	struct cl_error err = { 0 };
	struct cl_image *im = NULL;
	const char *index = tu_path(f->img, "index.json");
	const char *layout = tu_path(f->img, "oci-layout");
	char *good = tu_read(index);

	write_text(layout, "{\"imageLayoutVersion\":\"2.0.0\"}");
	expect(cl_image_open(f->img, &im, &err), &err, -ENOTSUP, "oci-layout", "not 1.x");
	write_text(layout, "{\"imageLayoutVersion\":\"1.0.0\"}");

	static const struct {
		const char *doc;
		const char *needle;
	} bad[] = {
		{ "{\"schemaVersion\":2,\"manifests\":[]} x", "invalid JSON" },
		{ "{\"schemaVersion\":2,\"manifests\":[]}\n\n{}", "invalid JSON" },
		{ "{\"schemaVersion\":2,\"manifests\":[],}", "invalid JSON" },
		{ "{\"schemaVersion\":3,\"manifests\":[]}", "schemaVersion" },
		{ "{\"schemaVersion\":2}", "\"manifests\" missing" },
		{ "[1,2]", "not a JSON object" },
		{ "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":"
		  "\"sha256:ABC\",\"size\":1}]}",
		  "digest" },
		{ "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":"
		  "\"md5:0123\",\"size\":1}]}",
		  "unsupported digest algorithm" },
		{ "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"sha256:"
		  "0000000000000000000000000000000000000000000000000000000000000000\","
		  "\"size\":-1}]}",
		  "negative" },
		{ "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a\\u0000b\",\"digest\":"
		  "\"sha256:0000000000000000000000000000000000000000000000000000000000000000\","
		  "\"size\":1}]}",
		  "NUL" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_text(index, bad[i].doc);
		cl_error_clear(&err);
		int rc = cl_image_open(f->img, &im, &err);
		if (rc >= 0 || !strstr(err.msg, bad[i].needle))
			fprintf(stderr, "document %zu: rc %d: %s\n", i, rc, err.msg);
		assert_true(rc < 0);
		assert_null(im);
		assert_non_null(strstr(err.msg, "index.json"));
		assert_non_null(strstr(err.msg, bad[i].needle));
	}
	write_text(index, good);
	free(good);
	assert_int_equal(unlink(layout), 0);
	cl_error_clear(&err);
	expect(cl_image_open(f->img, &im, &err), &err, -ENOENT, "oci-layout", "missing");
	cl_error_clear(&err);
	expect(cl_image_open(tu_path(f->work, "nothing"), &im, &err), &err, -ENOENT, "nothing",
	       NULL);
}

int main(int argc, char **argv)
{
	tu_parse_args(argc, argv);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(good_image_unpacks, setup, teardown),
		cmocka_unit_test_setup_teardown(tampered_manifest, setup, teardown),
		cmocka_unit_test_setup_teardown(tampered_config, setup, teardown),
		cmocka_unit_test_setup_teardown(tampered_layer_tar, setup, teardown),
		cmocka_unit_test_setup_teardown(tampered_layer_gzip, setup, teardown),
		cmocka_unit_test_setup_teardown(tampered_layer_zstd_verify_only, setup, teardown),
		cmocka_unit_test_setup_teardown(wrong_manifest_size, setup, teardown),
		cmocka_unit_test_setup_teardown(wrong_layer_size, setup, teardown),
		cmocka_unit_test_setup_teardown(blob_with_extra_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(diff_id_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(layer_count_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(media_type_lies, setup, teardown),
		cmocka_unit_test_setup_teardown(unsupported_layer_media_type, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_layer_blob, setup, teardown),
		cmocka_unit_test_setup_teardown(symlinked_blob_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(tampered_layer_in_archive, setup, teardown),
		cmocka_unit_test_setup_teardown(layout_documents, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
