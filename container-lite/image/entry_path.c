/* Entry-name normalisation: the single place where a name from a tar header becomes a path
 * we act on. Absolute names are made relative (they mean "from the image root"); ".." is
 * refused outright rather than clamped, since no legitimate layer contains it. */
#include "entry_path.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int cl_entry_path_normalise(const char *name, char out[CL_ENTRY_PATH_MAX], const char **why)
{
	size_t o = 0, depth = 0;
	const char *p = name;
	*why = NULL;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *start = p;
		while (*p && *p != '/')
			p++;
		size_t len = (size_t)(p - start);
		if (len == 1 && start[0] == '.')
			continue;
		if (len == 2 && start[0] == '.' && start[1] == '.') {
			*why = "a \"..\" component (refused)";
			return -EBADMSG;
		}
		if (len > CL_ENTRY_NAME_MAX) {
			*why = "a component longer than 255 bytes";
			return -EBADMSG;
		}
		if (++depth > CL_ENTRY_MAX_DEPTH) {
			*why = "more than 128 components";
			return -EBADMSG;
		}
		if (o + (o ? 1 : 0) + len + 1 > CL_ENTRY_PATH_MAX) {
			*why = "a name longer than 4095 bytes";
			return -EBADMSG;
		}
		if (o)
			out[o++] = '/';
		memcpy(out + o, start, len);
		o += len;
	}
	out[o] = '\0';
	return 0;
}

void cl_entry_path_split(const char *path, char dir[CL_ENTRY_PATH_MAX], const char **base)
{
	const char *slash = strrchr(path, '/');
	if (!slash) {
		dir[0] = '\0';
		*base = path;
		return;
	}
	size_t len = (size_t)(slash - path);
	memcpy(dir, path, len);
	dir[len] = '\0';
	*base = slash + 1;
}

const char *cl_quote(const char *s, char *buf, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t o = 0;
	if (len < 8) {
		if (len)
			buf[0] = '\0';
		return buf;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		bool plain = *p >= 0x20 && *p < 0x7f && *p != '\\';
		size_t need = plain ? 1 : 4;
		if (o + need + 4 > len) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (plain) {
			buf[o++] = (char)*p;
		} else {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = digits[*p >> 4];
			buf[o++] = digits[*p & 15];
		}
	}
	buf[o] = '\0';
	return buf;
}
