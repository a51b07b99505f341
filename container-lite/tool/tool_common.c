/* Helpers every container-lite subcommand uses: error printing, the mapping from library
 * error codes to exit codes, opening and selecting an image, parsing sizes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

void cl_tool_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "container-lite %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int cl_tool_exit_for_image_error(int code)
{
	return cl_image_error_is_content(code) ? CL_EXIT_BAD_IMAGE : CL_EXIT_SYSTEM;
}

int cl_tool_open_image(const char *cmd, const char *path, const char *ref,
		       const char *platform, struct cl_image **img,
		       struct cl_image_manifest **m)
{
	struct cl_error err = { 0 };
	struct cl_image_selector sel = { .ref = ref };
	*img = NULL;
	*m = NULL;
	if (platform && cl_image_parse_platform(platform, &sel, &err) < 0) {
		cl_tool_error(cmd, "%s", err.msg);
		return CL_EXIT_USAGE;
	}
	int rc = cl_image_open(path, img, &err);
	if (rc == 0)
		rc = cl_image_select(*img, &sel, m, &err);
	if (rc < 0) {
		cl_tool_error(cmd, "%s", err.msg);
		cl_image_close(*img);
		*img = NULL;
		return cl_tool_exit_for_image_error(rc);
	}
	return CL_EXIT_OK;
}

int cl_tool_parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	if (!s || *s < '0' || *s > '9')
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case '\0':
		break;
	case 'K': case 'k':
		shift = 10;
		break;
	case 'M': case 'm':
		shift = 20;
		break;
	case 'G': case 'g':
		shift = 30;
		break;
	case 'T': case 't':
		shift = 40;
		break;
	default:
		return -1;
	}
	if (*end && end[1] != '\0' && !(end[1] == 'i' && end[2] == 'B' && end[3] == '\0') &&
	    !((end[1] == 'B' || end[1] == 'b') && end[2] == '\0'))
		return -1;
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int cl_tool_resolver_from_env(enum cl_resolver *r)
{
	const char *v = getenv("CONTAINER_LITE_RESOLVER");
	if (!v || !*v || strcmp(v, "auto") == 0)
		return 0;
	if (strcmp(v, "openat2") == 0)
		*r = CL_RESOLVER_OPENAT2;
	else if (strcmp(v, "fallback") == 0)
		*r = CL_RESOLVER_FALLBACK;
	else
		return -1;
	return 0;
}
