/* Output and option plumbing shared by the insitu subcommands: JSON printing through
 * json-c, error reporting with the library's messages, number parsing, the progress bar. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

int cli_common_opt(struct cli_common *c, int opt, const char *arg)
{
	switch (opt) {
	case 'o':
		if (strcmp(arg, "json") == 0)
			c->json = true;
		else if (strcmp(arg, "normal") == 0)
			c->json = false;
		else
			return -1;
		return 1;
	case 1001: c->hostnqn = arg; return 1;
	case 1002: c->hdgst = true; return 1;
	case 1003: c->ddgst = true; return 1;
	default: return 0;
	}
}

int cli_open(const struct cli_common *c, const char *dev, struct insitu_dev **out)
{
	struct insitu_open_opts o;

	insitu_open_opts_init(&o);
	o.hostnqn = c->hostnqn;
	o.hdgst = c->hdgst;
	o.ddgst = c->ddgst;
	o.io_queues = 1;
	if (insitu_open(dev, &o, out) < 0) {
		fprintf(stderr, "insitu: %s\n", insitu_errmsg());
		return EXIT_NODEV;
	}
	return 0;
}

int cli_fail_lib(void)
{
	fprintf(stderr, "insitu: %s\n", insitu_errmsg());
	return EXIT_FAILED;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "insitu %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'insitu %s --help')\n", cmd);
	return EXIT_USAGE;
}

int cli_parse_u64(const char *cmd, const char *what, const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return cli_usage_error(cmd, "%s '%s' is not a number", what, s ? s : "");
	unsigned long long v = strtoull(s, &end, 0);

	if (errno || *end)
		return cli_usage_error(cmd, "%s '%s' is not a number", what, s);
	*out = v;
	return 0;
}

int cli_parse_size(const char *cmd, const char *what, const char *s, uint64_t *out)
{
	if (insitu_parse_size(s, out) < 0)
		return cli_usage_error(cmd, "%s '%s' is not a size (e.g. 4096, 4K, 1M)", what, s);
	return 0;
}

void cli_json_print(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

void cli_idstr(char *out, size_t cap, const char *field, size_t len)
{
	size_t n = len < cap - 1 ? len : cap - 1;

	memcpy(out, field, n);
	out[n] = '\0';
	while (n && (out[n - 1] == ' ' || out[n - 1] == '\0'))
		out[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] > 0x7e)
			out[i] = '?';
}

/* ---- progress bar (stderr, only when it is a terminal and the output is not JSON) ---- */

void cli_progress_start(struct cli_progress *p, const struct cli_common *c, const char *label,
			uint64_t total)
{
	p->on = !c->json && isatty(STDERR_FILENO) && total >= (4u << 20);
	p->total = total;
	p->done = 0;
	p->label = label;
}

void cli_progress_update(struct cli_progress *p, uint64_t done)
{
	if (!p->on)
		return;
	p->done = done;
	unsigned pct = p->total ? (unsigned)(done * 100 / p->total) : 100;
	unsigned fill = pct * 30 / 100;
	char bar[31];

	memset(bar, '#', fill);
	memset(bar + fill, '.', 30 - fill);
	bar[30] = '\0';
	fprintf(stderr, "\r%s [%s] %3u%% %llu/%llu MiB", p->label, bar, pct,
		(unsigned long long)(done >> 20), (unsigned long long)(p->total >> 20));
	fflush(stderr);
}

void cli_progress_end(struct cli_progress *p)
{
	if (p->on)
		fputc('\n', stderr);
	p->on = false;
}
