/* container-lite: the command-line face of the container-lite library. Dispatches to one
 * function per subcommand; the table below is the only place that lists them. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "unpack", cl_cmd_unpack, "unpack an image into a root filesystem directory" },
	{ "inspect", cl_cmd_inspect, "show an image's manifest, config, layers and run config" },
	{ "run", cl_cmd_run, "run a program from an image in a sandbox" },
};

static const char usage[] =
	"Usage: container-lite COMMAND [OPTIONS]\n"
	"\n"
	"Turns OCI images into root filesystems, verified and safely, and runs programs from\n"
	"them in a sandbox.\n"
	"\n"
	"Commands:\n"
	"  container-lite unpack --image PATH [--ref NAME] [--platform OS/ARCH[/VARIANT]]\n"
	"                        --rootfs DIR [--cache DIR [--link]]\n"
	"      unpack an image (OCI layout directory or tar archive) into a new directory\n"
	"  container-lite inspect --image PATH [--ref NAME] [--platform OS/ARCH[/VARIANT]]\n"
	"                         [--verify] [-o json]\n"
	"      show the manifest, config, layers (digests, sizes, media types, diff_ids)\n"
	"      and run configuration\n"
	"  container-lite run --image PATH [--ref NAME] [--bind SRC:DST[:ro|rw]]...\n"
	"                     [--memory BYTES] [--pids N] [--cpus FRACTION]\n"
	"                     [--timeout SECONDS] [--env K=V]... [-- CMD ARGS...]\n"
	"      run the image's program (or CMD) in a sandbox\n"
	"\n"
	"Run 'container-lite COMMAND --help' for the options of a command.\n"
	"\n"
	"Exit status:\n"
	"  0        success (run: the program exited 0)\n"
	"  1-119    run: the program's own exit status\n"
	"  120      usage error: unknown command or option, missing or bad argument\n"
	"  121      bad image: not an OCI layout, size/digest/diff_id mismatch, refused\n"
	"           (hostile) layer entry, limit reached, ref/platform/user not found\n"
	"  122      run: setting up the sandbox failed (namespaces, mounts, cgroups, seccomp)\n"
	"  123      run: the program was killed for exceeding --memory\n"
	"  124      run: the program ran longer than --timeout and was killed\n"
	"  125      container-lite itself failed: I/O error, permission, target exists\n"
	"  126      run: the command was found but could not be executed\n"
	"  127      run: the command was not found in the image\n"
	"  128+N    run: the program was killed by signal N\n"
	"A program that itself exits with 120-127 looks like the codes above; its stderr\n"
	"tells them apart.\n"
	"\n"
	"Environment:\n"
	"  CONTAINER_LITE_RESOLVER=auto|openat2|fallback   how paths inside a rootfs are\n"
	"      resolved: openat2(RESOLVE_IN_ROOT) or the userspace walk (default: auto)\n";

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return CL_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
		fputs(usage, stdout);
		return CL_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(name, commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "container-lite: unknown command \"%s\"; commands:", name);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, " %s", commands[i].name);
	fputs(" (see container-lite --help)\n", stderr);
	return CL_EXIT_USAGE;
}
