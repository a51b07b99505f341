/* insitu: the command-line face of libinsitu, in nvme-cli's style: one subcommand per
 * operation, human output by default and JSON with -o json, exit codes by failure kind. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "list", cmd_list, "list insitu devices (kernel NVMe controllers and given URIs)" },
	{ "id-ctrl", cmd_id_ctrl, "Identify Controller" },
	{ "id-ns", cmd_id_ns, "Identify Namespace" },
	{ "smart-log", cmd_smart_log, "SMART / Health Information log" },
	{ "stats", cmd_stats, "dedup, capacity and I/O figures (telemetry log C1h)" },
	{ "read", cmd_read, "read blocks to a file or stdout" },
	{ "write", cmd_write, "write a file or stdin at a block address" },
	{ "put", cmd_put, "store a file and print the extent that gets it back" },
	{ "get", cmd_get, "fetch an extent into a file" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: insitu <command> [DEVICE] [options]\n\n"
		   "DEVICE is nvme+tcp://HOST[:PORT][/NQN] (userspace NVMe/TCP, port 4420 by\n"
		   "default) or /dev/nvmeX[nY] (the kernel driver).\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n'insitu <command> --help' describes a command.\n"
		   "exit codes: 0 success, 1 the command failed, 2 usage error,\n"
		   "            3 the device could not be opened or reached\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("insitu 0.1.0\n");
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "insitu: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
