/* container-lite sandbox: run one untrusted program over a rootfs directory in new user,
 * mount, pid, network, IPC, UTS and cgroup namespaces, with no capabilities, a seccomp
 * allow-list, cgroup limits and rlimits, and report how it ended. See DESIGN.md. */
#ifndef CONTAINER_LITE_SANDBOX_H
#define CONTAINER_LITE_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "container-lite/error.h"

/* spec.flags */
enum {
	CL_SANDBOX_WRITABLE_ROOTFS = 1u << 0, /* rootfs stays writable (still nosuid,nodev) */
	CL_SANDBOX_NO_PIVOT_ROOT = 1u << 1,   /* MS_MOVE + chroot instead of pivot_root; used
					       * automatically when / is an initramfs */
};

/* Values for spec.stdin_fd / stdout_fd / stderr_fd besides a caller fd (>= 0). */
enum {
	CL_SANDBOX_FD_NULL = -1,    /* /dev/null */
	CL_SANDBOX_FD_CAPTURE = -2, /* stdout/stderr only: into result.out / result.err */
};

enum {
	CL_SANDBOX_MAX_PASS_FDS = 64,
	CL_SANDBOX_MAX_BINDS = 64,
	CL_SANDBOX_MAX_GROUPS = 64,          /* supplementary groups inside */
	CL_SANDBOX_MAX_IDMAP_COUNT = 65536,  /* ids of a range mapping: the 16-bit id space
					      * images use (nobody is 65534) */
};

/* A host path mounted into the sandbox. target is absolute inside the rootfs and resolved
 * there (symlinks in the image cannot lead outside); missing targets are created. */
struct cl_sandbox_bind {
	const char *source; /* absolute host path (file or directory), trusted */
	const char *target; /* absolute path inside the sandbox, no ".." */
	bool writable;      /* false: read-only input; true: read-write output */
};

/* An id range for the sandbox's user namespace: ids 0..count-1 inside are host ids
 * host_base..host_base+count-1, uids and gids alike, so files an image unpacked with
 * id_shift = host_base (see image.h) keep their owners inside. Only a root supervisor can
 * map a range: an unprivileged user namespace may map only its creator's own ids. */
struct cl_sandbox_idmap {
	uint32_t host_base; /* not 0 (the host's root); host_base + count <= 2^32 - 1 */
	uint32_t count;     /* 0: no range, one id mapped (host_uid/host_gid); at most
			     * CL_SANDBOX_MAX_IDMAP_COUNT */
};

/* Cgroup limits; 0 means unlimited. Any non-zero limit makes the run create a cgroup
 * (v2, else v1), which needs root or a delegated cgroup. */
struct cl_sandbox_limits {
	uint64_t memory_bytes;   /* memory (+swap) of the whole tree; exceeding it = OOM */
	uint32_t pids;           /* processes + threads of the tree, init included */
	uint32_t cpu_millicores; /* CPU bandwidth: 1000 = one core, 500 = half a core */
};

/* One rlimit, applied after the defaults (CORE 0, NOFILE 1024, FSIZE 1 GiB). */
struct cl_sandbox_rlimit {
	int resource; /* RLIMIT_* */
	uint64_t soft, hard; /* UINT64_MAX = RLIM_INFINITY */
};

struct cl_sandbox_spec {
	const char *rootfs;            /* absolute host directory, the sandbox's / */
	const char *const *argv;       /* argv[0]: absolute, or searched in env's PATH */
	const char *const *env;        /* NULL-terminated "K=V" list; NULL = empty */
	const char *cwd;               /* absolute, inside; default "/" */
	const char *hostname;          /* default "sandbox" */
	uint32_t uid, gid;             /* ids inside the sandbox (default 0, 0) */
	uint32_t host_uid, host_gid;   /* host ids they map to when the supervisor is root
					* and idmap.count is 0 (default 65534; 0 refused);
					* ignored otherwise */
	struct cl_sandbox_idmap idmap; /* root only: map a range instead of one id; uid, gid
					* and groups must then be < idmap.count */
	const uint32_t *groups;        /* supplementary groups inside (ids in the sandbox's
					* terms); only with a range mapping: none otherwise */
	size_t n_groups;               /* at most CL_SANDBOX_MAX_GROUPS */
	const struct cl_sandbox_bind *binds;
	size_t n_binds;
	struct cl_sandbox_limits limits;
	const struct cl_sandbox_rlimit *rlimits;
	size_t n_rlimits;
	uint64_t tmp_bytes;            /* size of the /tmp tmpfs (default 64 MiB) */
	uint32_t timeout_ms;           /* wall clock from start; 0 = none */
	int stdin_fd;                  /* fd >= 0 or CL_SANDBOX_FD_NULL (default) */
	int stdout_fd, stderr_fd;      /* fd >= 0, CL_SANDBOX_FD_NULL or _CAPTURE (default) */
	size_t stdout_max, stderr_max; /* capture bounds (default 64 KiB each) */
	const int *pass_fds;           /* become fds 3, 4, ... inside; nothing else enters */
	size_t n_pass_fds;
	const char *cgroup_parent;     /* cgroup path under the hierarchy root for the per-run
					* cgroup; NULL = the supervisor's own cgroup */
	int cgroup_version;            /* 0 = v2 if it has the controllers, else v1; 1 or 2 */
	unsigned flags;                /* CL_SANDBOX_* */
};

enum cl_sandbox_outcome {
	CL_SANDBOX_EXITED = 1, /* exit_code valid */
	CL_SANDBOX_SIGNALED,   /* signal valid */
	CL_SANDBOX_OOM,        /* killed by the cgroup's OOM killer */
	CL_SANDBOX_TIMEOUT,    /* killed at spec.timeout_ms */
};

struct cl_sandbox_output {
	char *data;     /* malloc'd, NUL-terminated after len; NULL when not captured */
	size_t len;
	bool truncated; /* the program wrote more than the bound */
};

struct cl_sandbox_result {
	enum cl_sandbox_outcome outcome;
	int exit_code;           /* EXITED */
	int signal;              /* SIGNALED (and the signal behind OOM/TIMEOUT when known) */
	uint64_t oom_kills;      /* OOM kills the cgroup counted (0 without a memory limit) */
	uint64_t wall_ns;        /* clone to reap */
	uint64_t user_ns, sys_ns;/* CPU time of the whole tree */
	uint64_t max_rss_bytes;  /* largest resident set of any process of the tree */
	uint64_t memory_peak_bytes; /* cgroup peak, 0 when unknown */
	uint64_t cpu_throttled;  /* periods the CPU limit throttled the tree */
	int cgroup_version;      /* 0 (no cgroup), 1 or 2 */
	int exec_errno;          /* set when cl_sandbox_run failed because the sandbox was
				  * ready but execve of the program failed (ENOENT: not
				  * found; EACCES, ENOEXEC...: not executable); 0 otherwise */
	struct cl_sandbox_output out, err;
};

/* Fills spec with the defaults above (fds, host ids, sizes); the caller then sets rootfs,
 * argv and whatever else it needs. */
void cl_sandbox_spec_init(struct cl_sandbox_spec *spec);

/* Runs spec->argv in a new sandbox and waits for the whole tree to end. Returns 0 and fills
 * result (release it with cl_sandbox_result_free) when the program ran, whatever its exit;
 * returns a negative errno and fills err (naming the step and the object) when the sandbox
 * could not be set up or the program could not be started (e.g. -ENOENT: no such program);
 * then result->exec_errno tells the second case from the first and nothing else in result
 * is meaningful.
 * Thread-safe; callers must not reap children they did not create with __WALL. */
int cl_sandbox_run(const struct cl_sandbox_spec *spec, struct cl_sandbox_result *result,
		   struct cl_error *err);

/* Checks an id range mapping as cl_sandbox_run() would, without the spec's ids: a count of
 * 0 passes (no range); otherwise -EPERM when the caller is not root, -EINVAL for a host
 * base of 0, a count above CL_SANDBOX_MAX_IDMAP_COUNT or a range past 2^32 - 2. Lets a
 * caller refuse a bad range before doing any work for the run. */
int cl_sandbox_check_idmap(const struct cl_sandbox_idmap *map, struct cl_error *err);

/* Frees the captured output of result (result itself is the caller's). */
void cl_sandbox_result_free(struct cl_sandbox_result *result);

/* Makes the seccomp filter ready: a daemon calls this at start so that a problem shows up
 * early (an architecture without a program). The filter is normally compiled at build time;
 * a build without it (a cross build without an emulator) compiles it here, or else on the
 * first run. */
int cl_sandbox_prepare(struct cl_error *err);

/* "exited", "signaled", "oom", "timeout". */
const char *cl_sandbox_outcome_name(enum cl_sandbox_outcome outcome);

/* A shell-style status for a command that ran the sandbox: exit code; 128 + signal; 137
 * for OOM; 124 for a timeout (as timeout(1)). */
int cl_sandbox_result_exit_status(const struct cl_sandbox_result *result);

/* Command-line parsers for `container-lite run` and tests. Each returns 0 or -EINVAL with
 * err naming the text. */

/* "SRC:DST" (read-only), "SRC:DST:ro" or "SRC:DST:rw"; splits arg in place. */
int cl_sandbox_parse_bind(char *arg, struct cl_sandbox_bind *bind, struct cl_error *err);
/* "4096", "64k", "64K", "16M", "2G" (powers of 1024). */
int cl_sandbox_parse_size(const char *text, uint64_t *bytes, struct cl_error *err);
/* "250ms", "10s", "2m", or plain seconds "10". */
int cl_sandbox_parse_duration_ms(const char *text, uint32_t *ms, struct cl_error *err);
/* "0.5", "2", "1.25" cores -> millicores. */
int cl_sandbox_parse_cpus(const char *text, uint32_t *millicores, struct cl_error *err);

#endif
