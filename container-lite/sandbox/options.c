/* Parsers for the values a command line gives the sandbox (`container-lite run` and the
 * test driver): bind specifications, sizes, durations and CPU amounts. Strict: the whole
 * text must parse, and overflow is an error, never a wrap. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sandbox_internal.h"

int cl_sandbox_parse_bind(char *arg, struct cl_sandbox_bind *bind, struct cl_error *err)
{
	char *src = arg, *dst = strchr(arg, ':');
	if (!dst || dst == src)
		return cl_error_set(err, -EINVAL, "bind \"%s\": expected SRC:DST[:ro|:rw]", arg);
	*dst++ = '\0';
	char *mode = strchr(dst, ':');
	bool writable = false;
	if (mode) {
		*mode++ = '\0';
		if (strcmp(mode, "rw") == 0)
			writable = true;
		else if (strcmp(mode, "ro") != 0)
			return cl_error_set(err, -EINVAL, "bind %s:%s: mode \"%s\" is not ro or rw",
					    src, dst, mode);
	}
	if (src[0] != '/' || dst[0] != '/')
		return cl_error_set(err, -EINVAL, "bind %s:%s: both paths must be absolute", src,
				    dst);
	*bind = (struct cl_sandbox_bind){ .source = src, .target = dst, .writable = writable };
	return 0;
}

/* Decimal digits with an optional fraction of up to three digits, in thousandths. */
static int parse_milli(const char *text, const char **end, uint64_t *milli)
{
	const char *p = text;
	uint64_t whole = 0;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > (UINT64_MAX / 1000 - 9) / 10)
			return -ERANGE;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	uint64_t frac = 0, scale = 100;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (scale == 0)
				return -EINVAL; /* finer than a thousandth */
			frac += (uint64_t)(*p - '0') * scale;
			scale /= 10;
		}
	}
	*end = p;
	*milli = whole * 1000 + frac;
	return 0;
}

int cl_sandbox_parse_size(const char *text, uint64_t *bytes, struct cl_error *err)
{
	const char *end = text;
	uint64_t v = 0;
	for (; *end >= '0' && *end <= '9'; end++) {
		if (v > (UINT64_MAX - 9) / 10)
			return cl_error_set(err, -EINVAL, "size \"%s\": too large", text);
		v = v * 10 + (uint64_t)(*end - '0');
	}
	if (end == text)
		return cl_error_set(err, -EINVAL, "size \"%s\": expected a number with an "
				    "optional k, M or G suffix", text);
	unsigned shift = 0;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default:
		return cl_error_set(err, -EINVAL, "size \"%s\": unknown suffix", text);
	}
	if (*end != '\0')
		return cl_error_set(err, -EINVAL, "size \"%s\": trailing characters", text);
	if (shift && v > (UINT64_MAX >> shift))
		return cl_error_set(err, -EINVAL, "size \"%s\": too large", text);
	*bytes = v << shift;
	return 0;
}

int cl_sandbox_parse_duration_ms(const char *text, uint32_t *ms, struct cl_error *err)
{
	const char *end;
	uint64_t milli;
	if (parse_milli(text, &end, &milli) < 0)
		return cl_error_set(err, -EINVAL, "duration \"%s\": expected e.g. 250ms, 10s, 2m",
				    text);
	uint64_t v;
	if (strcmp(end, "ms") == 0)
		v = milli / 1000; /* "1.5ms" is not a millisecond count */
	else if (strcmp(end, "s") == 0 || *end == '\0')
		v = milli;
	else if (strcmp(end, "m") == 0)
		v = milli * 60;
	else
		return cl_error_set(err, -EINVAL, "duration \"%s\": unknown unit", text);
	if (strcmp(end, "ms") == 0 && milli % 1000)
		return cl_error_set(err, -EINVAL, "duration \"%s\": fractional milliseconds",
				    text);
	if (v > UINT32_MAX)
		return cl_error_set(err, -EINVAL, "duration \"%s\": too long", text);
	*ms = (uint32_t)v;
	return 0;
}

int cl_sandbox_parse_cpus(const char *text, uint32_t *millicores, struct cl_error *err)
{
	const char *end;
	uint64_t milli;
	if (parse_milli(text, &end, &milli) < 0 || *end != '\0')
		return cl_error_set(err, -EINVAL, "cpus \"%s\": expected e.g. 0.5 or 2", text);
	if (milli == 0 || milli > 1024 * 1000)
		return cl_error_set(err, -EINVAL, "cpus \"%s\": out of range", text);
	*millicores = (uint32_t)milli;
	return 0;
}
