/* insitu-fw's log lines: "[   12.345678] LEVEL message" on stderr, written with one call so
 * lines from a crash or a signal never interleave. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum fw_log_level g_level = FW_LOG_INFO;

void fw_log_set_level(enum fw_log_level level)
{
	g_level = level;
}

int fw_log_enabled(enum fw_log_level level)
{
	return level <= g_level;
}

void fw_log(enum fw_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	char line[1024];
	struct timespec ts;
	va_list ap;
	int n;

	if (level > g_level)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(line, sizeof(line), "[%6lld.%06ld] %-5s ", (long long)ts.tv_sec,
		     ts.tv_nsec / 1000, names[level]);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}
