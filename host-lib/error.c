/* The thread-local error report of libinsitu: the message and NVMe status of the calling
 * thread's last failed call, so one handle can be shared by threads without a lock. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static _Thread_local char errmsg[512];
static _Thread_local uint16_t last_status;

__attribute__((format(printf, 1, 0))) static void set_msg(const char *fmt, va_list ap)
{
	vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
}

int ins_fail(int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_msg(fmt, ap);
	va_end(ap);
	last_status = 0;
	return rc;
}

int ins_fail_status(uint16_t status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_msg(fmt, ap);
	va_end(ap);
	last_status = status;
	return -EREMOTEIO;
}

void ins_clear_error(void)
{
	errmsg[0] = '\0';
	last_status = 0;
}

const char *insitu_errmsg(void)
{
	return errmsg;
}

uint16_t insitu_last_status(void)
{
	return last_status;
}

const char *insitu_strerror(int rc)
{
	return strerror(rc < 0 ? -rc : rc);
}
