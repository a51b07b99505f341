/* container-lite error object: every fallible function returns a negative errno-style code
 * and fills a cl_error with that code and a message naming the object (blob digest, tar
 * entry, path, syscall) and the reason. The caller decides whether and how to report it. */
#ifndef CONTAINER_LITE_ERROR_H
#define CONTAINER_LITE_ERROR_H

#include <stddef.h>

struct cl_error {
	int code;        /* negative errno-style code, 0 when no error is recorded */
	char msg[1024];  /* human-readable, names the object; empty when code == 0 */
};

/* Records -abs(code) and a formatted message in err (err may be NULL); returns -abs(code).
 * When err already holds an error, the new message is prefixed to it ("outer: inner"), so a
 * caller can add context on the way up: return cl_error_set(err, rc, "layer %s", digest); */
int cl_error_set(struct cl_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Clears err (err may be NULL). */
void cl_error_clear(struct cl_error *err);

#endif
