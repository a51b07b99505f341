/* The container-lite tool: its subcommands, its exit codes, and the helpers they share.
 * A subcommand is `int cl_cmd_NAME(int argc, char **argv)` with argv[0] the subcommand's
 * name (so getopt starts at argv[1]); it returns the process exit code. */
#ifndef CONTAINER_LITE_TOOL_COMMANDS_H
#define CONTAINER_LITE_TOOL_COMMANDS_H

#include <stdint.h>

#include "container-lite/image.h"

/* Exit codes. `run` passes the program's own status through (0-119 in practice, and the
 * shell's conventions above that), so the tool's own failures sit in 120-125: a range
 * programs rarely use (they use 0-2, sysexits 64-78, or die by signal, 128+N), just below
 * the shell's 126/127, and matching GNU timeout(1) where the meanings coincide (124 timed
 * out, 125 the wrapper itself failed). */
enum cl_exit_code {
	CL_EXIT_OK = 0,
	CL_EXIT_USAGE = 120,        /* bad command line */
	CL_EXIT_BAD_IMAGE = 121,    /* the image is malformed, tampered, hostile, or lacks
				     * what was asked (ref, platform, user) */
	CL_EXIT_SANDBOX = 122,      /* sandbox setup failed (namespaces, mounts, cgroups,
				     * seccomp, capabilities) */
	CL_EXIT_OOM = 123,          /* run: the program was OOM-killed (--memory) */
	CL_EXIT_TIMEOUT = 124,      /* run: the program outlived --timeout and was killed */
	CL_EXIT_SYSTEM = 125,       /* container-lite itself failed: I/O, permissions, target
				     * exists, out of memory */
	CL_EXIT_CANNOT_EXEC = 126,  /* run: the command exists but cannot be executed */
	CL_EXIT_NOT_FOUND = 127,    /* run: the command was not found in the image */
	CL_EXIT_SIGNAL_BASE = 128,  /* run: 128 + N when the program died of signal N */
};

int cl_cmd_unpack(int argc, char **argv);
int cl_cmd_inspect(int argc, char **argv);
/* Provided by cmd_run.c (the sandbox part). */
int cl_cmd_run(int argc, char **argv);

/* Prints "container-lite CMD: message" on stderr. */
void cl_tool_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* CL_EXIT_BAD_IMAGE when an image function's code blames the image, CL_EXIT_SYSTEM
 * otherwise. */
int cl_tool_exit_for_image_error(int code);

/* Opens the image at path and selects a manifest by ref and platform ("OS/ARCH[/VARIANT]";
 * both may be NULL), printing any error for cmd. Returns CL_EXIT_OK with *img and *m set,
 * or the exit code to use. */
int cl_tool_open_image(const char *cmd, const char *path, const char *ref,
		       const char *platform, struct cl_image **img,
		       struct cl_image_manifest **m);

/* Parses a byte count with an optional K, M, G or T suffix (powers of 1024). 0 or -1. */
int cl_tool_parse_size(const char *s, uint64_t *out);

/* Applies CONTAINER_LITE_RESOLVER (auto, openat2, fallback) to *r. 0, or -1 when the
 * variable holds something else. */
int cl_tool_resolver_from_env(enum cl_resolver *r);

#endif
