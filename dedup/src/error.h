/* Internal helpers for struct dedup_error: record a code and a message, and add context on the
 * way up ("journal block seq 12: checksum mismatch ..."). */
#ifndef DEDUP_ERROR_H
#define DEDUP_ERROR_H

#include "dedup/volume.h"

/* Records -abs(code) and the message in err (which may be NULL); returns -abs(code). When err
 * already holds an error, the new text is prefixed: "outer: inner". */
int dd_err(struct dedup_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void dd_err_clear(struct dedup_error *err);

#endif
