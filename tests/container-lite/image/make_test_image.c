/* Writes the images the tool test drives: DIR/img (refs "app" and "other" sharing a base
 * layer), DIR/img.tar (the same as an archive) and DIR/bad (ref "app" with a tampered
 * top layer). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/oci_builder.h"
#include "support/test_util.h"

static struct tb_layer *base(void)
{
	struct tb_layer *l = tb_layer_new();
	tb_dir(l, "etc", 0755);
	tb_file(l, "etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/srv:/bin/sh\n",
		0644);
	tb_file(l, "etc/group", "root:x:0:\napp:x:1000:\n", 0644);
	tb_dir(l, "srv", 0755);
	return l;
}

static void image(const char *dir, bool tampered)
{
	static const char *const entrypoint[] = { "/bin/tool", "--serve", NULL };
	static const char *const cmd[] = { "--port", "80", NULL };
	static const char *const env[] = { "MODE=test", NULL };
	struct tb_config cfg = { .entrypoint = entrypoint, .cmd = cmd, .env = env,
				 .workdir = "/srv", .user = "app" };
	struct tb_image *img = tb_image_new(dir);
	struct tb_layer *app = tb_layer_new(), *other = tb_layer_new();
	tb_file(app, "etc/app.conf", "port=80", 0640);
	tb_file(app, "bin/tool", "#!/bin/sh\necho tool\n", 0755);
	tb_file(other, "etc/other.conf", "other", 0644);
	struct tb_layer *b1 = base(), *b2 = base();
	struct tb_desc d[2], cfgd, m;
	tb_add_layer(img, b1, CL_LAYER_GZIP, &d[0]);
	tb_add_layer(img, app, CL_LAYER_ZSTD, &d[1]);
	tb_add_config(img, &cfg, d, 2, &cfgd);
	tb_add_manifest(img, &cfgd, d, 2, &m);
	tb_index_entry(img, &m, "app", NULL);
	if (tampered) {
		char path[4096];
		tb_blob_path(img, d[1].digest, path, sizeof(path));
		int fd = open(path, O_RDWR);
		unsigned char c;
		if (fd < 0 || pread(fd, &c, 1, 30) != 1)
			abort();
		c ^= 1;
		if (pwrite(fd, &c, 1, 30) != 1)
			abort();
		close(fd);
	} else {
		tb_add_layer(img, b2, CL_LAYER_GZIP, &d[0]);
		tb_add_layer(img, other, CL_LAYER_GZIP, &d[1]);
		tb_add_config(img, NULL, d, 2, &cfgd);
		tb_add_manifest(img, &cfgd, d, 2, &m);
		tb_index_entry(img, &m, "other", NULL);
	}
	tb_image_finish(img);
	tb_image_free(img);
	tb_layer_free(b1);
	tb_layer_free(b2);
	tb_layer_free(app);
	tb_layer_free(other);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	image(tu_path(argv[1], "img"), false);
	image(tu_path(argv[1], "bad"), true);
	tb_archive_layout(tu_path(argv[1], "img"), tu_path(argv[1], "img.tar"));
	return 0;
}
