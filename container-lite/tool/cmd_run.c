/* `container-lite run`: a program from an image (or an unpacked rootfs) in the sandbox.
 * The image's layers come from the layer cache; each run gets its own rootfs directory of
 * hard links into it (read-only, so the cache cannot be changed through it), removed after
 * the run. As root the sandbox maps a range of host ids and the cache's trees are owned
 * by the same range, so the image's owners hold inside. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "container-lite/rootfs.h"
#include "container-lite/sandbox.h"

static const char run_usage[] =
	"Usage: container-lite run --image PATH [OPTIONS] [-- CMD ARGS...]\n"
	"       container-lite run --rootfs DIR [OPTIONS] -- CMD ARGS...\n"
	"\n"
	"Runs the image's program (Entrypoint + Cmd, Env, WorkingDir, User from its config)\n"
	"in a sandbox: new user, mount, pid, network (loopback only), IPC, UTS and cgroup\n"
	"namespaces, read-only root, no capabilities, a seccomp allow-list. CMD ARGS replace\n"
	"the image's Cmd (the Entrypoint stays; --entrypoint replaces it). The image is\n"
	"verified and unpacked through the layer cache; each run uses a fresh read-only view\n"
	"of it. With --rootfs, an already unpacked directory is used as it is.\n"
	"\n"
	"As root, ids 0-65535 inside are host ids 1879048192-1879113727 (0x70000000 up), and\n"
	"the image's files are owned by those host ids, so they keep the image's owners inside;\n"
	"--userns-base/--userns-count choose another range. Otherwise your own uid and gid are\n"
	"the only ids inside.\n"
	"\n"
	"Options:\n"
	"  -i, --image PATH          OCI image layout directory, or a tar archive of one\n"
	"  -r, --ref NAME            the manifest named NAME (default: the only one)\n"
	"  -p, --platform OS/ARCH[/VARIANT]\n"
	"                            platform to pick from a multi-platform index\n"
	"      --rootfs DIR          run over an unpacked root filesystem instead of an image\n"
	"      --cache DIR           layer cache (default: $CONTAINER_LITE_CACHE, else\n"
	"                            /var/cache/container-lite as root, else\n"
	"                            $XDG_CACHE_HOME/container-lite or ~/.cache/container-lite)\n"
	"  -b, --bind SRC:DST[:ro|rw]\n"
	"                            mount host path SRC at DST inside (ro, the default, for\n"
	"                            inputs; rw for outputs); repeatable\n"
	"  -e, --env K=V             set K in the program's environment; repeatable\n"
	"      --entrypoint PROGRAM  replace the image's Entrypoint (and drop its Cmd)\n"
	"  -w, --workdir DIR         working directory inside (default: the image's)\n"
	"  -u, --user USER[:GROUP]   user inside, by name from the image's /etc/passwd or by id\n"
	"  -m, --memory SIZE         memory limit of the whole program tree (K/M/G suffixes)\n"
	"      --pids N              process and thread limit\n"
	"      --cpus FRACTION       CPU bandwidth limit in cores, e.g. 0.5\n"
	"  -t, --timeout DURATION    wall-clock limit: 30 (seconds), 500ms, 2m\n"
	"      --tmp-size SIZE       size of the /tmp tmpfs (default 64M)\n"
	"      --userns-base ID      as root: the host id of the sandbox's id 0 (default\n"
	"                            0x70000000 = 1879048192; decimal, or hex with 0x)\n"
	"      --userns-count N      as root: how many ids are mapped (default and at most\n"
	"                            65536); the image's ids must be below it\n"
	"  -v, --verbose             report the cache, the outcome and resource use on stderr\n"
	"  -h, --help                this help\n"
	"\n"
	"Exit status: the program's own; 128+N when it died of signal N; 120 usage error;\n"
	"121 bad image (or user not found); 122 sandbox setup failed; 123 killed for exceeding\n"
	"--memory; 124 killed at --timeout; 125 container-lite failed; 126 command not\n"
	"executable; 127 command not found.\n";

enum {
	OPT_ROOTFS = 256,
	OPT_CACHE,
	OPT_ENTRYPOINT,
	OPT_PIDS,
	OPT_CPUS,
	OPT_TMP_SIZE,
	OPT_USERNS_BASE,
	OPT_USERNS_COUNT,
};

/* The host range a root `run` maps by default: 64 Ki ids (an image's whole 16-bit id
 * space) at 0x70000000, above systemd's container ranges (524288-1879048191), below 2^31,
 * and far above the subordinate ids useradd hands out (100000 up); the low 16 bits of a
 * host id are the id inside. */
#define RUN_USERNS_BASE 0x70000000u
#define RUN_USERNS_COUNT 65536u

struct run_args {
	const char *image, *ref, *platform, *rootfs, *cache;
	const char *entrypoint[2];
	const char *workdir, *user;
	const char **env;          /* NULL-terminated */
	size_t n_env;
	struct cl_sandbox_bind binds[CL_SANDBOX_MAX_BINDS];
	size_t n_binds;
	struct cl_sandbox_limits limits;
	uint32_t timeout_ms;
	uint64_t tmp_bytes;
	struct cl_sandbox_idmap idmap; /* count 0: one id (not root) */
	bool base_given, count_given;
	bool verbose;
	char **cmd;                /* after "--", NULL-terminated, or NULL */
};

/* Prints a usage error (err's message when it has one, else the format) and the hint. */
__attribute__((format(printf, 2, 3))) static int usage_error(const struct cl_error *err,
							     const char *fmt, ...)
{
	fputs("container-lite run: ", stderr);
	if (err && err->msg[0]) {
		fputs(err->msg, stderr);
	} else {
		va_list ap;
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	fputs(" (see container-lite run --help)\n", stderr);
	return CL_EXIT_USAGE;
}

/* A host id or count: decimal, or hexadecimal after "0x" (host ranges read better so). */
static int parse_id(const char *text, uint32_t *out)
{
	int radix = 10;
	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
		radix = 16;
		text += 2;
	}
	const char *digits = radix == 16 ? "0123456789abcdefABCDEF" : "0123456789";
	if (!*text || text[strspn(text, digits)] != '\0')
		return -1; /* strtoull alone would take a sign, spaces or a second "0x" */
	char *end;
	errno = 0;
	const unsigned long long v = strtoull(text, &end, radix);
	if (errno || *end || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* As root: the range, defaulted and checked before any work is done for the run. */
static int choose_idmap(struct run_args *a)
{
	if (geteuid() != 0) {
		if (a->base_given || a->count_given)
			return usage_error(NULL, "--userns-base and --userns-count need root: an "
					   "unprivileged user namespace maps only your own uid "
					   "and gid");
		return 0;
	}
	if (!a->base_given)
		a->idmap.host_base = RUN_USERNS_BASE;
	if (!a->count_given)
		a->idmap.count = RUN_USERNS_COUNT;
	struct cl_error err = { 0 };
	if (cl_sandbox_check_idmap(&a->idmap, &err) < 0)
		return usage_error(&err, "bad id range");
	return 0;
}

static int parse_args(int argc, char **argv, struct run_args *a)
{
	static const struct option longopts[] = {
		{ "image", required_argument, NULL, 'i' },
		{ "ref", required_argument, NULL, 'r' },
		{ "platform", required_argument, NULL, 'p' },
		{ "rootfs", required_argument, NULL, OPT_ROOTFS },
		{ "cache", required_argument, NULL, OPT_CACHE },
		{ "bind", required_argument, NULL, 'b' },
		{ "env", required_argument, NULL, 'e' },
		{ "entrypoint", required_argument, NULL, OPT_ENTRYPOINT },
		{ "workdir", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },
		{ "memory", required_argument, NULL, 'm' },
		{ "pids", required_argument, NULL, OPT_PIDS },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "timeout", required_argument, NULL, 't' },
		{ "tmp-size", required_argument, NULL, OPT_TMP_SIZE },
		{ "userns-base", required_argument, NULL, OPT_USERNS_BASE },
		{ "userns-count", required_argument, NULL, OPT_USERNS_COUNT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cl_error err = { 0 };
	uint64_t n;
	int c;
	opterr = 0;
	optind = 1;
	/* "+": stop at the first non-option, so CMD's own options are left alone. */
	while ((c = getopt_long(argc, argv, "+:i:r:p:b:e:w:u:m:t:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': a->image = optarg; break;
		case 'r': a->ref = optarg; break;
		case 'p': a->platform = optarg; break;
		case OPT_ROOTFS: a->rootfs = optarg; break;
		case OPT_CACHE: a->cache = optarg; break;
		case OPT_ENTRYPOINT: a->entrypoint[0] = optarg; break;
		case 'w': a->workdir = optarg; break;
		case 'u': a->user = optarg; break;
		case 'v': a->verbose = true; break;
		case 'h':
			fputs(run_usage, stdout);
			return 1;
		case 'b':
			if (a->n_binds == CL_SANDBOX_MAX_BINDS)
				return usage_error(NULL, "too many --bind (at most %d)",
						   CL_SANDBOX_MAX_BINDS);
			if (cl_sandbox_parse_bind(optarg, &a->binds[a->n_binds], &err) < 0)
				return usage_error(&err, "bad value");
			a->n_binds++;
			break;
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=')
				return usage_error(NULL, "--env %s: want K=V", optarg);
			a->env[a->n_env++] = optarg;
			break;
		case 'm':
			if (cl_sandbox_parse_size(optarg, &a->limits.memory_bytes, &err) < 0)
				return usage_error(&err, "bad value");
			break;
		case OPT_TMP_SIZE:
			if (cl_sandbox_parse_size(optarg, &a->tmp_bytes, &err) < 0)
				return usage_error(&err, "bad value");
			break;
		case OPT_PIDS:
			if (cl_tool_parse_size(optarg, &n) < 0 || n == 0 || n > UINT32_MAX)
				return usage_error(NULL, "--pids %s: want a positive count", optarg);
			a->limits.pids = (uint32_t)n;
			break;
		case OPT_CPUS:
			if (cl_sandbox_parse_cpus(optarg, &a->limits.cpu_millicores, &err) < 0)
				return usage_error(&err, "bad value");
			break;
		case 't':
			if (cl_sandbox_parse_duration_ms(optarg, &a->timeout_ms, &err) < 0)
				return usage_error(&err, "bad value");
			break;
		case OPT_USERNS_BASE:
			if (parse_id(optarg, &a->idmap.host_base) < 0)
				return usage_error(NULL, "--userns-base %s: want a host id", optarg);
			a->base_given = true;
			break;
		case OPT_USERNS_COUNT:
			if (parse_id(optarg, &a->idmap.count) < 0 || a->idmap.count == 0)
				return usage_error(NULL, "--userns-count %s: want a count from 1 to %u",
						   optarg, (unsigned)CL_SANDBOX_MAX_IDMAP_COUNT);
			a->count_given = true;
			break;
		case ':':
			return usage_error(NULL, "%s needs an argument", argv[optind - 1]);
		default:
			return usage_error(NULL, "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		a->cmd = &argv[optind];
	if (!a->image == !a->rootfs)
		return usage_error(NULL, "give exactly one of --image PATH and --rootfs DIR");
	if (a->rootfs && (!a->cmd || a->entrypoint[0] || a->user || a->ref || a->platform))
		return usage_error(NULL, "--rootfs DIR takes a command (-- CMD ARGS) and no "
				   "image options (--ref, --platform, --entrypoint, --user)");
	return choose_idmap(a);
}

/* The cache directory: the option, the environment, or the usual per-user place. */
static char *cache_dir(const char *given)
{
	if (given)
		return strdup(given);
	const char *env = getenv("CONTAINER_LITE_CACHE");
	if (env && *env)
		return strdup(env);
	if (geteuid() == 0)
		return strdup("/var/cache/container-lite");
	char *path = NULL;
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	if (xdg && *xdg == '/')
		return asprintf(&path, "%s/container-lite", xdg) < 0 ? NULL : path;
	if (home && *home == '/')
		return asprintf(&path, "%s/.cache/container-lite", home) < 0 ? NULL : path;
	return NULL;
}

/* A fresh read-only rootfs for this run, hard-linked from the cache: <cache>/run-XXXXXX/
 * rootfs. The run directory is made traversable so the sandbox's mapped user reaches it. */
static int prepare_rootfs(const struct run_args *a, struct cl_image *img,
			  const struct cl_image_manifest *m, char **run_dir, char **rootfs)
{
	struct cl_error err = { 0 };
	struct cl_image_cache *cache = NULL;
	struct cl_unpack_stats stats = { 0 };
	char *dir = cache_dir(a->cache), *tree = NULL;
	int ex = CL_EXIT_SYSTEM;
	if (!dir) {
		cl_tool_error("run", "no cache directory: set --cache DIR or HOME");
		return CL_EXIT_USAGE;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		cl_tool_error("run", "cache %s: %s", dir, strerror(errno));
		goto out;
	}
	/* With a range, the trees are owned by it: image id X is host id base + X, and an id
	 * past the range is an error (it would be no one inside). The cache keeps trees of
	 * each range apart. Without one, the files are ours (the only id inside). */
	const struct cl_unpack_options shifted = {
		.owner = CL_OWNER_PRESERVE,
		.id_shift = a->idmap.host_base,
		.id_count = a->idmap.count,
	};
	int rc = cl_image_cache_open(dir, a->idmap.count ? &shifted : NULL, &cache, &err);
	if (rc == 0)
		rc = cl_image_cache_prepare(cache, img, m, &tree, &stats, &err);
	if (rc < 0) {
		cl_tool_error("run", "%s", err.msg);
		ex = cl_tool_exit_for_image_error(rc);
		goto out;
	}
	if (a->verbose)
		fprintf(stderr, "container-lite run: cache %s: %u layer%s unpacked, %u reused\n",
			dir, stats.layers_applied, stats.layers_applied == 1 ? "" : "s",
			stats.layers_reused);
	if (asprintf(run_dir, "%s/run-XXXXXX", dir) < 0 || asprintf(rootfs, "%s", "") < 0) {
		cl_tool_error("run", "out of memory");
		goto out;
	}
	if (!mkdtemp(*run_dir) || chmod(*run_dir, 0755) < 0) {
		cl_tool_error("run", "run directory %s: %s", *run_dir, strerror(errno));
		free(*run_dir);
		*run_dir = NULL;
		goto out;
	}
	free(*rootfs);
	if (asprintf(rootfs, "%s/rootfs", *run_dir) < 0) {
		*rootfs = NULL;
		cl_tool_error("run", "out of memory");
		goto out;
	}
	rc = cl_image_cache_materialise(cache, m, *rootfs, CL_COPY_LINK, &err);
	if (rc < 0) {
		cl_tool_error("run", "%s", err.msg);
		ex = cl_tool_exit_for_image_error(rc);
		goto out;
	}
	ex = CL_EXIT_OK;
out:
	free(tree);
	free(dir);
	cl_image_cache_close(cache);
	return ex;
}

/* The tool's exit status for a finished run, with one line on stderr for the outcomes a
 * status alone would hide. */
static int exit_for_result(const struct cl_sandbox_result *res, const struct run_args *a)
{
	if (a->verbose)
		fprintf(stderr,
			"container-lite run: %s (exit %d, signal %d), %.1f ms wall, %.1f ms user, "
			"%.1f ms sys, peak RSS %llu KiB, cgroup v%d\n",
			cl_sandbox_outcome_name(res->outcome), res->exit_code, res->signal,
			(double)res->wall_ns / 1e6, (double)res->user_ns / 1e6,
			(double)res->sys_ns / 1e6, (unsigned long long)(res->max_rss_bytes >> 10),
			res->cgroup_version);
	switch (res->outcome) {
	case CL_SANDBOX_EXITED:
		return res->exit_code;
	case CL_SANDBOX_SIGNALED:
		return CL_EXIT_SIGNAL_BASE + res->signal;
	case CL_SANDBOX_OOM:
		cl_tool_error("run", "killed: the program exceeded --memory %llu bytes",
			      (unsigned long long)a->limits.memory_bytes);
		return CL_EXIT_OOM;
	case CL_SANDBOX_TIMEOUT:
		cl_tool_error("run", "killed: the program ran longer than --timeout (%u ms)",
			      a->timeout_ms);
		return CL_EXIT_TIMEOUT;
	}
	return CL_EXIT_SYSTEM;
}

static int run_sandbox(const struct run_args *a, const char *rootfs,
		       const struct cl_run_config *rc)
{
	struct cl_sandbox_spec spec;
	cl_sandbox_spec_init(&spec);
	spec.rootfs = rootfs;
	spec.stdin_fd = 0;
	spec.stdout_fd = 1;
	spec.stderr_fd = 2;
	spec.binds = a->binds;
	spec.n_binds = a->n_binds;
	spec.limits = a->limits;
	spec.timeout_ms = a->timeout_ms;
	spec.idmap = a->idmap;
	if (a->tmp_bytes)
		spec.tmp_bytes = a->tmp_bytes;
	if (rc) {
		spec.argv = (const char *const *)rc->argv;
		spec.env = (const char *const *)rc->env;
		spec.cwd = rc->working_dir;
		spec.uid = rc->uid;
		spec.gid = rc->gid;
		if (a->idmap.count) {
			_Static_assert(sizeof(*rc->groups) == sizeof(*spec.groups), "gid_t is 32 bits");
			spec.groups = (const uint32_t *)rc->groups;
			spec.n_groups = rc->n_groups;
		}
	} else {
		spec.argv = (const char *const *)a->cmd;
		spec.env = a->env;
		if (a->workdir)
			spec.cwd = a->workdir;
	}

	if (a->verbose && spec.idmap.count)
		fprintf(stderr, "container-lite run: ids 0-%u inside are host ids %u-%u\n",
			(unsigned)spec.idmap.count - 1, (unsigned)spec.idmap.host_base,
			(unsigned)(spec.idmap.host_base + (spec.idmap.count - 1)));
	else if (a->verbose)
		fprintf(stderr, "container-lite run: id %u:%u inside is host id %u:%u\n",
			(unsigned)spec.uid, (unsigned)spec.gid, (unsigned)geteuid(),
			(unsigned)getegid());

	struct cl_sandbox_result res;
	struct cl_error err = { 0 };
	if (cl_sandbox_run(&spec, &res, &err) < 0) {
		cl_tool_error("run", "%s", err.msg);
		if (res.exec_errno == ENOENT)
			return CL_EXIT_NOT_FOUND;
		return res.exec_errno ? CL_EXIT_CANNOT_EXEC : CL_EXIT_SANDBOX;
	}
	const int ex = exit_for_result(&res, a);
	cl_sandbox_result_free(&res);
	return ex;
}

int cl_cmd_run(int argc, char **argv)
{
	struct run_args a = { 0 };
	a.env = calloc((size_t)argc + 1, sizeof(*a.env)); /* at most one per argument */
	if (!a.env) {
		cl_tool_error("run", "out of memory");
		return CL_EXIT_SYSTEM;
	}
	int ex = parse_args(argc, argv, &a);
	if (ex != 0) {
		free(a.env);
		return ex == 1 ? CL_EXIT_OK : ex;
	}

	struct cl_image *img = NULL;
	struct cl_image_manifest *m = NULL;
	struct cl_run_config *rc = NULL;
	char *run_dir = NULL, *rootfs = NULL;
	if (a.rootfs) {
		rootfs = realpath(a.rootfs, NULL);
		if (!rootfs) {
			cl_tool_error("run", "rootfs %s: %s", a.rootfs, strerror(errno));
			ex = CL_EXIT_SYSTEM;
			goto out;
		}
		ex = run_sandbox(&a, rootfs, NULL);
		goto out;
	}

	ex = cl_tool_open_image("run", a.image, a.ref, a.platform, &img, &m);
	if (ex == CL_EXIT_OK)
		ex = prepare_rootfs(&a, img, m, &run_dir, &rootfs);
	if (ex != CL_EXIT_OK)
		goto out;

	struct cl_error err = { 0 };
	const struct cl_run_overrides ov = {
		.entrypoint = a.entrypoint[0] ? a.entrypoint : NULL,
		.cmd = (const char *const *)a.cmd,
		.env = a.env,
		.working_dir = a.workdir,
		.user = a.user,
	};
	const int r = cl_image_run_config(&m->config, rootfs, &ov, &rc, &err);
	if (r < 0) {
		cl_tool_error("run", "%s", err.msg);
		ex = cl_tool_exit_for_image_error(r);
		goto out;
	}
	if (rc->n_groups && !a.idmap.count && a.verbose)
		fprintf(stderr, "container-lite run: supplementary groups of %s are not applied "
			"(the sandbox maps one uid and one gid)\n", rc->user);
	ex = run_sandbox(&a, rootfs, rc);
out:
	if (run_dir) {
		struct cl_error rm_err = { 0 };
		if (cl_rootfs_remove(run_dir, &rm_err) < 0)
			cl_tool_error("run", "cleanup: %s", rm_err.msg);
	}
	cl_run_config_free(rc);
	cl_image_manifest_free(m);
	cl_image_close(img);
	free(run_dir);
	free(rootfs);
	free(a.env);
	return ex;
}
