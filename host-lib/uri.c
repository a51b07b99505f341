/* Parsing of nvme+tcp://HOST[:PORT][/NQN] device names and of human sizes ("128K"): the
 * only text the library accepts from users, checked part by part with messages that say
 * which part is wrong. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define URI_SCHEME "nvme+tcp://"

INS_PRINTF(3, 4) static int uri_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decodes @in (length @n) into @out (capacity @cap, NUL-terminated). */
static int pct_decode(const char *in, size_t n, char *out, size_t cap, const char *what,
		      char *err, size_t errlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)in[i];

		if (c == '%') {
			if (i + 2 >= n)
				return uri_err(err, errlen, "%s: '%%' at byte %zu is not followed by two hex digits",
					       what, i);
			int h = hexval(in[i + 1]), l = hexval(in[i + 2]);

			if (h < 0 || l < 0)
				return uri_err(err, errlen, "%s: '%%%c%c' at byte %zu is not a hex escape",
					       what, in[i + 1], in[i + 2], i);
			c = h << 4 | l;
			i += 2;
		}
		if (c < 0x21 || c > 0x7e)
			return uri_err(err, errlen, "%s: byte %zu is not printable ASCII (0x%02x)", what,
				       i, c);
		if (o + 1 >= cap)
			return uri_err(err, errlen, "%s is longer than %zu bytes", what, cap - 1);
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

int insitu_uri_parse(const char *s, struct insitu_uri *u, char *err, size_t errlen)
{
	if (!s || !u)
		return uri_err(err, errlen, "no URI given");
	memset(u, 0, sizeof(*u));
	if (strncasecmp(s, URI_SCHEME, strlen(URI_SCHEME)) != 0)
		return uri_err(err, errlen, "'%s' does not start with " URI_SCHEME
			       " (expected nvme+tcp://HOST[:PORT][/NQN])", s);
	const char *p = s + strlen(URI_SCHEME);
	const char *host, *host_end, *rest;

	if (*p == '[') {
		host = p + 1;
		host_end = strchr(host, ']');
		if (!host_end)
			return uri_err(err, errlen, "'%s': IPv6 address has no closing ']'", s);
		for (const char *c = host; c < host_end; c++)
			if (!isxdigit((unsigned char)*c) && *c != ':' && *c != '.')
				return uri_err(err, errlen, "'%s': '%c' does not belong in an IPv6 address",
					       s, *c);
		rest = host_end + 1;
	} else {
		host = p;
		host_end = p + strcspn(p, ":/");
		for (const char *c = host; c < host_end; c++)
			if (!isalnum((unsigned char)*c) && *c != '-' && *c != '.' && *c != '_')
				return uri_err(err, errlen, "'%s': '%c' does not belong in a host name", s,
					       *c);
		rest = host_end;
	}
	if (host_end == host)
		return uri_err(err, errlen, "'%s': no host", s);
	if ((size_t)(host_end - host) >= sizeof(u->host))
		return uri_err(err, errlen, "'%s': host is longer than %zu bytes", s,
			       sizeof(u->host) - 1);
	memcpy(u->host, host, (size_t)(host_end - host));

	u->port = INSITU_DEFAULT_PORT;
	if (*rest == ':') {
		const char *d = rest + 1;
		unsigned long v = 0;
		size_t nd = 0;

		while (isdigit((unsigned char)d[nd])) {
			v = v * 10 + (unsigned long)(d[nd] - '0');
			if (v > 65535) {
				while (isdigit((unsigned char)d[nd]))
					nd++;
				return uri_err(err, errlen, "'%s': port %.*s is out of range 1..65535", s,
					       (int)nd, d);
			}
			nd++;
		}
		if (nd == 0)
			return uri_err(err, errlen, "'%s': port after ':' is not a number", s);
		if (d[nd] != '\0' && d[nd] != '/')
			return uri_err(err, errlen, "'%s': unexpected '%c' after the port", s, d[nd]);
		if (v == 0)
			return uri_err(err, errlen, "'%s': port 0 is out of range 1..65535", s);
		u->port = (uint16_t)v;
		rest = d + nd;
	} else if (*rest != '\0' && *rest != '/') {
		return uri_err(err, errlen, "'%s': unexpected '%c' after the host", s, *rest);
	}

	if (*rest == '/')
		rest++;
	if (*rest == '\0') {
		snprintf(u->nqn, sizeof(u->nqn), "%s", INSITU_DEFAULT_NQN);
		return 0;
	}
	int rc = pct_decode(rest, strlen(rest), u->nqn, sizeof(u->nqn), "NQN", err, errlen);

	if (rc)
		return rc;
	if (strncmp(u->nqn, "nqn.", 4) != 0)
		return uri_err(err, errlen, "'%s': NQN '%s' does not start with \"nqn.\"", s, u->nqn);
	return 0;
}

int insitu_parse_size(const char *s, uint64_t *out)
{
	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	uint64_t v = 0;
	const char *p = s;

	while (isdigit((unsigned char)*p)) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
		p++;
	}
	unsigned shift = 0;

	switch (toupper((unsigned char)*p)) {
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	case '\0': break;
	case 'B':
		if (p[1] != '\0')
			return -EINVAL;
		*out = v;
		return 0;
	default:
		return -EINVAL;
	}
	if (shift) {
		p++;
		if ((p[0] == 'i' || p[0] == 'I') && (p[1] == 'B' || p[1] == 'b'))
			p += 2;
		else if (p[0] == 'B' || p[0] == 'b')
			p++;
		if (*p != '\0')
			return -EINVAL;
		if (v > (UINT64_MAX >> shift))
			return -EINVAL;
		v <<= shift;
	}
	*out = v;
	return 0;
}
