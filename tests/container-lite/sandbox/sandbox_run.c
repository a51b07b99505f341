/* cl-sandbox-run: runs one command in the container-lite sandbox over a rootfs directory.
 * The tests' and the benchmark's driver, and a model of what `container-lite run` does
 * once the image part has produced a rootfs and a run configuration.
 *   cl-sandbox-run [options] ROOTFS [--] CMD [ARG...]      (see usage()) */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container-lite/sandbox.h"

static void usage(FILE *to)
{
	fprintf(to,
		"usage: cl-sandbox-run [options] ROOTFS [--] CMD [ARG...]\n"
		"  -b, --bind SRC:DST[:ro|:rw]  mount a host path (read-only unless :rw)\n"
		"  -m, --memory SIZE            memory limit (64M, 1G)\n"
		"  -p, --pids N                 process limit\n"
		"  -c, --cpus N                 CPU limit in cores (0.5, 2)\n"
		"  -t, --timeout DURATION       wall-clock limit (500ms, 10s, 2m)\n"
		"  -T, --tmp-size SIZE          size of /tmp (default 64M)\n"
		"  -e, --env K=V                environment (repeatable; default none)\n"
		"  -w, --cwd DIR                working directory inside (default /)\n"
		"  -u, --uid N / -g, --gid N    ids inside (default 0)\n"
		"      --host-uid N / --host-gid N  host ids they map to when run as root\n"
		"      --userns-base N --userns-count N  as root: map ids 0..N-1 to a host range\n"
		"      --hostname NAME\n"
		"      --no-pivot               MS_MOVE + chroot instead of pivot_root\n"
		"      --rw-rootfs              leave the rootfs writable\n"
		"      --cgroup-version 1|2     force a cgroup hierarchy\n"
		"      --capture                capture stdout/stderr, print them after the run\n"
		"  -v, --verbose                print the result on stderr\n"
		"exit status: the program's; 128+N for signal N; 137 OOM; 124 timeout;\n"
		"125 when the sandbox could not be set up.\n");
}

static int fail(const struct cl_error *err)
{
	fprintf(stderr, "cl-sandbox-run: %s\n", err->msg);
	return 125;
}

int main(int argc, char **argv)
{
	enum { O_HOST_UID = 256, O_HOST_GID, O_HOSTNAME, O_NO_PIVOT, O_RW_ROOTFS, O_CGV,
	       O_CAPTURE, O_USERNS_BASE, O_USERNS_COUNT };
	static const struct option opts[] = {
		{ "bind", required_argument, NULL, 'b' },
		{ "memory", required_argument, NULL, 'm' },
		{ "pids", required_argument, NULL, 'p' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "tmp-size", required_argument, NULL, 'T' },
		{ "env", required_argument, NULL, 'e' },
		{ "cwd", required_argument, NULL, 'w' },
		{ "uid", required_argument, NULL, 'u' },
		{ "gid", required_argument, NULL, 'g' },
		{ "host-uid", required_argument, NULL, O_HOST_UID },
		{ "host-gid", required_argument, NULL, O_HOST_GID },
		{ "userns-base", required_argument, NULL, O_USERNS_BASE },
		{ "userns-count", required_argument, NULL, O_USERNS_COUNT },
		{ "hostname", required_argument, NULL, O_HOSTNAME },
		{ "no-pivot", no_argument, NULL, O_NO_PIVOT },
		{ "rw-rootfs", no_argument, NULL, O_RW_ROOTFS },
		{ "cgroup-version", required_argument, NULL, O_CGV },
		{ "capture", no_argument, NULL, O_CAPTURE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cl_sandbox_spec spec;
	cl_sandbox_spec_init(&spec);
	spec.stdin_fd = 0;
	spec.stdout_fd = 1;
	spec.stderr_fd = 2;

	struct cl_sandbox_bind binds[CL_SANDBOX_MAX_BINDS];
	size_t n_binds = 0;
	const char *env[256];
	size_t n_env = 0;
	bool verbose = false, capture = false;
	struct cl_error err;
	cl_error_clear(&err);

	int o;
	while ((o = getopt_long(argc, argv, "+b:m:p:c:t:T:e:w:u:g:vh", opts, NULL)) != -1) {
		char *end = NULL;
		unsigned long n = 0;
		switch (o) {
		case 'b':
			if (n_binds == CL_SANDBOX_MAX_BINDS) {
				fprintf(stderr, "cl-sandbox-run: too many --bind\n");
				return 125;
			}
			if (cl_sandbox_parse_bind(optarg, &binds[n_binds++], &err) < 0)
				return fail(&err);
			break;
		case 'm':
			if (cl_sandbox_parse_size(optarg, &spec.limits.memory_bytes, &err) < 0)
				return fail(&err);
			break;
		case 'T':
			if (cl_sandbox_parse_size(optarg, &spec.tmp_bytes, &err) < 0)
				return fail(&err);
			break;
		case 'c':
			if (cl_sandbox_parse_cpus(optarg, &spec.limits.cpu_millicores, &err) < 0)
				return fail(&err);
			break;
		case 't':
			if (cl_sandbox_parse_duration_ms(optarg, &spec.timeout_ms, &err) < 0)
				return fail(&err);
			break;
		case 'e':
			if (n_env + 1 == sizeof(env) / sizeof(env[0]) || !strchr(optarg, '=')) {
				fprintf(stderr, "cl-sandbox-run: bad or too many --env: %s\n", optarg);
				return 125;
			}
			env[n_env++] = optarg;
			break;
		case 'w': spec.cwd = optarg; break;
		case O_HOSTNAME: spec.hostname = optarg; break;
		case O_NO_PIVOT: spec.flags |= CL_SANDBOX_NO_PIVOT_ROOT; break;
		case O_RW_ROOTFS: spec.flags |= CL_SANDBOX_WRITABLE_ROOTFS; break;
		case O_CAPTURE: capture = true; break;
		case 'v': verbose = true; break;
		case 'h': usage(stdout); return 0;
		case 'p': case 'u': case 'g': case O_HOST_UID: case O_HOST_GID: case O_CGV:
		case O_USERNS_BASE: case O_USERNS_COUNT:
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || !*optarg || *end || n > UINT32_MAX) {
				fprintf(stderr, "cl-sandbox-run: not a number: %s\n", optarg);
				return 125;
			}
			if (o == 'p') spec.limits.pids = (uint32_t)n;
			if (o == 'u') spec.uid = (uint32_t)n;
			if (o == 'g') spec.gid = (uint32_t)n;
			if (o == O_HOST_UID) spec.host_uid = (uint32_t)n;
			if (o == O_HOST_GID) spec.host_gid = (uint32_t)n;
			if (o == O_CGV) spec.cgroup_version = (int)n;
			if (o == O_USERNS_BASE) spec.idmap.host_base = (uint32_t)n;
			if (o == O_USERNS_COUNT) spec.idmap.count = (uint32_t)n;
			break;
		default: usage(stderr); return 125;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		return 125;
	}
	env[n_env] = NULL;
	/* The library takes an absolute path; a command line may give a relative one. */
	char *rootfs = realpath(argv[optind], NULL);
	if (!rootfs) {
		fprintf(stderr, "cl-sandbox-run: rootfs %s: %s\n", argv[optind], strerror(errno));
		return 125;
	}
	spec.rootfs = rootfs;
	spec.argv = (const char *const *)&argv[optind + 1];
	spec.env = env;
	spec.binds = binds;
	spec.n_binds = n_binds;
	if (capture)
		spec.stdout_fd = spec.stderr_fd = CL_SANDBOX_FD_CAPTURE;

	struct cl_sandbox_result res;
	const int rc = cl_sandbox_run(&spec, &res, &err);
	free(rootfs);
	if (rc < 0)
		return fail(&err);
	if (capture) {
		fwrite(res.out.data, 1, res.out.len, stdout);
		fwrite(res.err.data, 1, res.err.len, stderr);
	}
	if (verbose)
		fprintf(stderr,
			"cl-sandbox-run: %s exit_code=%d signal=%d oom_kills=%llu wall=%.3fms "
			"user=%.3fms sys=%.3fms max_rss=%lluKiB cgroup=v%d peak=%llu "
			"throttled=%llu%s%s\n",
			cl_sandbox_outcome_name(res.outcome), res.exit_code, res.signal,
			(unsigned long long)res.oom_kills, res.wall_ns / 1e6, res.user_ns / 1e6,
			res.sys_ns / 1e6, (unsigned long long)(res.max_rss_bytes >> 10),
			res.cgroup_version, (unsigned long long)res.memory_peak_bytes,
			(unsigned long long)res.cpu_throttled,
			res.out.truncated ? " stdout-truncated" : "",
			res.err.truncated ? " stderr-truncated" : "");
	const int status = cl_sandbox_result_exit_status(&res);
	cl_sandbox_result_free(&res);
	return status;
}
