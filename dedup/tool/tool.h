/* Shared between the insitu-dedup subcommands: size parsing, human-readable sizes, and the
 * bench entry point (bench.c). */
#ifndef DEDUP_TOOL_H
#define DEDUP_TOOL_H

#include <stddef.h>
#include <stdint.h>

/* "4096", "64K", "1G", "2TiB" (powers of 1024); -1 when malformed. */
int tool_parse_size(const char *s, uint64_t *out);
void tool_human_bytes(uint64_t bytes, char *buf, size_t len);
int tool_bench(int argc, char **argv);

#endif
