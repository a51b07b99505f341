/* Fuzz target: an OCI image layout as a tar archive, as `skopeo copy ... oci-archive:`
 * writes it — the archive reader, the layout documents, manifest selection and the streaming
 * verification of every layer (size, digest, diff_id). Whatever the input: no crash, no
 * leak, nothing written, and every failure carries a negative code and a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "container-lite/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];
static int fd = -1;

static void remove_input(void)
{
	if (path[0])
		unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fd < 0) {
		const char *tmp = getenv("TMPDIR");
		strcpy(path, tmp && strlen(tmp) < 32 ? tmp : "/tmp");
		strcat(path, "/cl-fuzz-archive-XXXXXX");
		fd = mkstemp(path);
		if (fd < 0)
			abort();
		atexit(remove_input);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();

	struct cl_error err = { 0 };
	struct cl_image *img = NULL;
	int rc = cl_image_open(path, &img, &err);
	if (rc == 0) {
		const struct cl_image_selector any = { 0 };
		struct cl_image_manifest *m = NULL;
		rc = cl_image_select(img, &any, &m, &err);
		if (rc == 0) {
			rc = cl_image_verify_layers(img, m, &err);
			cl_image_manifest_free(m);
		}
		cl_image_close(img);
	}
	if (rc < 0 && (err.code >= 0 || !err.msg[0]))
		abort();
	return 0;
}
