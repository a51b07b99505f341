/* struct dedup_error: a negative errno and a message that grows context as it travels up. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int dd_err(struct dedup_error *err, int code, const char *fmt, ...)
{
	int neg = code < 0 ? code : -code;
	if (neg == 0)
		neg = -1;
	if (!err)
		return neg;

	char msg[sizeof(err->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (err->code != 0 && err->msg[0] != '\0') {
		/* "outer: inner", truncated to the buffer */
		char joined[sizeof(err->msg)];
		size_t cap = sizeof(joined) - 1, n = strnlen(msg, cap);
		memcpy(joined, msg, n);
		if (n + 2 <= cap) {
			memcpy(joined + n, ": ", 2);
			n += 2;
		}
		size_t inner = strnlen(err->msg, sizeof(err->msg) - 1);
		if (inner > cap - n)
			inner = cap - n;
		memcpy(joined + n, err->msg, inner);
		joined[n + inner] = '\0';
		memcpy(err->msg, joined, sizeof(err->msg));
	} else {
		memcpy(err->msg, msg, sizeof(err->msg));
		err->code = neg;
	}
	return err->code;
}

void dd_err_clear(struct dedup_error *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}
