/* Captured stdout/stderr: read from the pipe as it comes, kept up to a bound, the rest read
 * and dropped (so the program never blocks on a full pipe) with the truncated flag set. */
#include <errno.h>
#include <string.h>

#include "sandbox_internal.h"

int cl_sbx_capture_init(struct cl_sbx_capture *cap, int fd, size_t max,
			struct cl_sandbox_output *out, struct cl_error *err)
{
	cap->fd = fd;
	cap->max = max;
	cap->out = out;
	cap->cap = 0;
	if (fd < 0)
		return 0;
	/* Grown as data arrives: most programs write little. */
	cap->cap = max < 4096 ? max + 1 : 4096;
	out->data = malloc(cap->cap);
	if (!out->data)
		return cl_error_set(err, -ENOMEM, "output capture buffer");
	out->data[0] = '\0';
	out->len = 0;
	out->truncated = false;
	return 0;
}

/* Reads what is available now. Returns 0 while open, 1 at EOF, negative on error. */
int cl_sbx_capture_read(struct cl_sbx_capture *cap, struct cl_error *err)
{
	struct cl_sandbox_output *out = cap->out;
	for (;;) {
		char scratch[16384];
		char *dst = scratch;
		size_t room = sizeof(scratch);
		if (out->len < cap->max) {
			if (cap->cap - 1 - out->len < sizeof(scratch) && cap->cap - 1 < cap->max) {
				size_t ncap = cap->cap * 2;
				if (ncap > cap->max + 1)
					ncap = cap->max + 1;
				char *p = realloc(out->data, ncap);
				if (!p)
					return cl_error_set(err, -ENOMEM, "output capture buffer");
				out->data = p;
				cap->cap = ncap;
			}
			dst = out->data + out->len;
			room = cap->cap - 1 - out->len;
		}
		const ssize_t n = read(cap->fd, dst, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return cl_error_set(err, -errno, "output capture: read: %s",
					    cl_sbx_errstr(errno));
		if (n == 0)
			return 1;
		if (dst == scratch)
			out->truncated = true;
		else {
			out->len += (size_t)n;
			out->data[out->len] = '\0';
		}
	}
}
