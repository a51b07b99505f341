/* The container-lite error object: a code and a message that grows context as it travels up. */
#include "container-lite/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cl_error_set(struct cl_error *err, int code, const char *fmt, ...)
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
		char inner[sizeof(err->msg)];
		memcpy(inner, err->msg, sizeof(inner));
		/* a message longer than the buffer is cut; the start (outermost context) stays */
		if (snprintf(err->msg, sizeof(err->msg), "%s: %s", msg, inner) >= (int)sizeof(err->msg))
			err->msg[sizeof(err->msg) - 1] = '\0';
	} else {
		memcpy(err->msg, msg, sizeof(err->msg));
	}
	if (err->code == 0)
		err->code = neg;
	return err->code;
}

void cl_error_clear(struct cl_error *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}
