/* /etc/passwd and /etc/group lines: colon-separated fields, one record per line. Malformed
 * lines (too few fields, bad ids, NIS "+"/"-" entries, comments) are skipped, not fatal:
 * the question is only whether a well-formed record answers the lookup. */
#include "passwd.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define MAX_FIELDS 8

int cl_parse_id(const char *s, size_t len, uint32_t *out)
{
	if (len == 0 || len > 10)
		return -EINVAL;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > 0xfffffffeULL)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

struct field {
	const char *p;
	size_t len;
};

struct line_iter {
	const char *buf;
	size_t len;
	size_t pos;
	unsigned lines;
};

/* The next line split on ':' into at most MAX_FIELDS fields (the last one keeps the rest);
 * returns the field count, or -1 at the end. */
static int next_line(struct line_iter *it, struct field f[MAX_FIELDS])
{
	if (it->pos >= it->len || it->lines >= CL_PASSWD_MAX_LINES)
		return -1;
	it->lines++;
	const char *start = it->buf + it->pos;
	const char *nl = memchr(start, '\n', it->len - it->pos);
	size_t llen = nl ? (size_t)(nl - start) : it->len - it->pos;
	it->pos += llen + (nl ? 1 : 0);
	int n = 0;
	const char *p = start, *end = start + llen;
	while (n < MAX_FIELDS) {
		const char *colon = n == MAX_FIELDS - 1 ? NULL : memchr(p, ':', (size_t)(end - p));
		f[n].p = p;
		f[n].len = colon ? (size_t)(colon - p) : (size_t)(end - p);
		n++;
		if (!colon)
			break;
		p = colon + 1;
	}
	return n;
}

static bool field_is(const struct field *f, const char *s)
{
	size_t len = strlen(s);
	return f->len == len && memcmp(f->p, s, len) == 0;
}

static bool usable_name(const struct field *f)
{
	if (f->len == 0 || f->len >= 256)
		return false;
	char c = f->p[0];
	return c != '#' && c != '+' && c != '-' && !memchr(f->p, '\0', f->len);
}

int cl_passwd_find(const char *buf, size_t len, const char *name, uint32_t uid,
		   struct cl_passwd_entry *out)
{
	struct line_iter it = { .buf = buf, .len = len };
	struct field f[MAX_FIELDS];
	int n;
	while ((n = next_line(&it, f)) >= 0) {
		if (n < 4 || !usable_name(&f[0]))
			continue;
		uint32_t u, g;
		if (cl_parse_id(f[2].p, f[2].len, &u) < 0 || cl_parse_id(f[3].p, f[3].len, &g) < 0)
			continue;
		if (name ? !field_is(&f[0], name) : u != uid)
			continue;
		memcpy(out->name, f[0].p, f[0].len);
		out->name[f[0].len] = '\0';
		out->uid = u;
		out->gid = g;
		return 1;
	}
	return 0;
}

int cl_group_find(const char *buf, size_t len, const char *name, uint32_t *gid)
{
	struct line_iter it = { .buf = buf, .len = len };
	struct field f[MAX_FIELDS];
	int n;
	while ((n = next_line(&it, f)) >= 0) {
		if (n < 3 || !usable_name(&f[0]))
			continue;
		uint32_t g;
		if (cl_parse_id(f[2].p, f[2].len, &g) < 0)
			continue;
		if (name ? !field_is(&f[0], name) : g != *gid)
			continue;
		*gid = g;
		return 1;
	}
	return 0;
}

size_t cl_group_memberships(const char *buf, size_t len, const char *user, uint32_t *gids,
			    size_t max)
{
	struct line_iter it = { .buf = buf, .len = len };
	struct field f[MAX_FIELDS];
	size_t count = 0;
	size_t ulen = strlen(user);
	int n;
	while (count < max && (n = next_line(&it, f)) >= 0) {
		if (n < 4 || !usable_name(&f[0]))
			continue;
		uint32_t g;
		if (cl_parse_id(f[2].p, f[2].len, &g) < 0)
			continue;
		/* members: comma-separated, in the fourth field */
		const char *p = f[3].p, *end = f[3].p + f[3].len;
		while (p < end) {
			const char *comma = memchr(p, ',', (size_t)(end - p));
			size_t mlen = comma ? (size_t)(comma - p) : (size_t)(end - p);
			if (mlen == ulen && memcmp(p, user, ulen) == 0) {
				bool dup = false;
				for (size_t i = 0; i < count; i++)
					dup = dup || gids[i] == g;
				if (!dup)
					gids[count++] = g;
				break;
			}
			if (!comma)
				break;
			p = comma + 1;
		}
	}
	return count;
}
