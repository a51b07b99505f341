/* Fuzz target: the layer applier on arbitrary tar bytes. The first input byte picks the
 * resolver (bit 0) and the ownership policy (bit 1); the rest is the tar stream, applied
 * into a fresh rootfs inside a scratch directory that also holds a sentinel directory.
 * Oracle: the sentinel and the scratch directory hold exactly what they held before —
 * a write outside the rootfs aborts. Limits are small so each input stays fast. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>

#include "layer_apply.h"
#include "tree_ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *scratch;
static int scratch_fd = -1;

static void cleanup(void)
{
	if (scratch_fd >= 0) {
		cl_tree_remove(scratch_fd, "r", NULL, NULL);
		cl_tree_remove(scratch_fd, "sentinel", NULL, NULL);
		close(scratch_fd);
		rmdir(scratch);
	}
}

static void init(void)
{
	const char *base = getenv("TMPDIR");
	static char path[4096];
	snprintf(path, sizeof(path), "%s/cl-fuzz-apply-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(path))
		abort();
	scratch = path;
	scratch_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (scratch_fd < 0 || mkdirat(scratch_fd, "sentinel", 0755) != 0)
		abort();
	int fd = openat(scratch_fd, "sentinel/file", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "sentinel", 8) != 8)
		abort();
	close(fd);
	atexit(cleanup);
}

/* The scratch directory holds "sentinel" (and nothing else once "r" is gone); the
 * sentinel holds "file" with its 8 bytes. */
static void check_oracle(void)
{
	int fd = dup(scratch_fd);
	DIR *d = fdopendir(fd);
	if (!d)
		abort();
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    strcmp(e->d_name, "sentinel")) {
			fprintf(stderr, "escape: %s/%s appeared\n", scratch, e->d_name);
			abort();
		}
	closedir(d);
	int sfd = openat(scratch_fd, "sentinel", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fdopendir(sfd);
	if (!d)
		abort();
	int n = 0;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			if (strcmp(e->d_name, "file") != 0) {
				fprintf(stderr, "escape: sentinel/%s appeared\n", e->d_name);
				abort();
			}
			n++;
		}
	closedir(d);
	struct stat st;
	if (n != 1 || fstatat(scratch_fd, "sentinel/file", &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISREG(st.st_mode) || st.st_size != 8 || st.st_nlink != 1) {
		fprintf(stderr, "escape: the sentinel file changed\n");
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (scratch_fd < 0)
		init();
	if (size < 1)
		return 0;
	struct cl_unpack_options o = {
		.max_total_bytes = 4u << 20,
		.max_entries = 512,
		.resolver = (data[0] & 1) ? CL_RESOLVER_FALLBACK : CL_RESOLVER_AUTO,
		.owner = (data[0] & 2) ? CL_OWNER_SELF : CL_OWNER_AUTO,
	};
	struct cl_unpack_options ro;
	cl_unpack_options_resolve(&o, &ro);

	if (mkdirat(scratch_fd, "r", 0700) != 0)
		abort();
	int rootfd = openat(scratch_fd, "r", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		abort();
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	archive_read_support_filter_none(a);
	struct cl_applier *ap = NULL;
	struct cl_error err = { 0 };
	struct cl_unpack_stats st = { 0 };
	if (archive_read_open_memory(a, data + 1, size - 1) == ARCHIVE_OK &&
	    cl_applier_new(rootfd, &ro, &st, &ap, &err) == 0) {
		int rc = cl_applier_apply(ap, a, "fuzz layer", &err);
		if (rc < 0 && (err.code >= 0 || !err.msg[0]))
			abort();   /* a failure always carries a code and a message */
	}
	cl_applier_free(ap);
	archive_read_free(a);
	close(rootfd);
	if (cl_tree_remove(scratch_fd, "r", NULL, &err) < 0) {
		fprintf(stderr, "cannot remove the rootfs: %s\n", err.msg);
		abort();
	}
	check_oracle();
	return 0;
}
