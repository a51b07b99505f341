/* Declarations shared by the files of the sandbox (one file per concern) and by its tests:
 * the context the supervisor prepares for the child before clone(), the report records the
 * child sends back, and each concern's entry points. Not installed, not public. */
#ifndef CL_SANDBOX_INTERNAL_H
#define CL_SANDBOX_INTERNAL_H

#include <limits.h>
#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <unistd.h>

#include "container-lite/sandbox.h"

#define CL_SBX_DEFAULT_HOST_ID 65534u
#define CL_SBX_DEFAULT_TMP_BYTES (64ull << 20)
#define CL_SBX_DEFAULT_CAPTURE (64u << 10)
#define CL_SBX_DEFAULT_HOSTNAME "sandbox"
#define CL_SBX_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define CL_SBX_MAX_TMP_BYTES (1ull << 40)
#define CL_SBX_MAX_CAPTURE (1ull << 30)

/* strerror() may translate and allocate; the child must not, so the sandbox uses the
 * untranslated, static description everywhere. */
static inline const char *cl_sbx_errstr(int e)
{
	const char *d = strerrordesc_np(e < 0 ? -e : e);
	return d ? d : "unknown error";
}

/* ---- cleanup helpers (one owner per fd / allocation) ---- */
static inline void cl_sbx_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
static inline void cl_sbx_freep(void *p)
{
	free(*(void **)p);
}
#define cl_cleanup_fd __attribute__((cleanup(cl_sbx_closep)))
#define cl_cleanup_free __attribute__((cleanup(cl_sbx_freep)))

/* ---- what the child sends the supervisor on the report pipe ---- */
enum cl_sbx_report_kind {
	CL_SBX_REPORT_ERROR = 1,      /* setup failed: code + msg */
	CL_SBX_REPORT_STATUS = 2,     /* the program ended: wait status */
	CL_SBX_REPORT_EXEC_ERROR = 3, /* the sandbox was ready, execve failed: code + msg */
};

struct cl_sbx_report {
	int32_t kind;
	int32_t code;   /* ERROR: negative errno */
	int32_t status; /* STATUS: wait status of the program */
	char msg[sizeof(((struct cl_error *)0)->msg)];
};
/* One write() of at most PIPE_BUF bytes is atomic: init and the program never interleave. */
_Static_assert(sizeof(struct cl_sbx_report) <= PIPE_BUF, "report must fit one atomic write");

/* ---- the child's context, complete before clone(): the child never allocates ---- */
struct cl_sbx_child {
	const struct cl_sandbox_spec *spec;
	const struct sock_fprog *seccomp;
	cap_t empty_caps;
	bool privileged;       /* supervisor is root: setgroups allowed, ids chosen by spec */
	int src_fds[3 + CL_SANDBOX_MAX_PASS_FDS]; /* become 0, 1, 2, 3.. inside */
	int n_fds;
	int report_fd;         /* write end, O_CLOEXEC */
	int go_fd;             /* read end, O_CLOEXEC */
	int bpf_fd;            /* read end: the seccomp program, when the supervisor compiles
				* it while the child sets up (seccomp == NULL: only in a build
				* without embedded programs, on a process's first run); else -1 */
	struct rlimit rlim[RLIM_NLIMITS];
	bool rlim_set[RLIM_NLIMITS];
	uintptr_t arg_start, arg_end; /* init's copy of the supervisor's argv, to blank */
};

/* child.c: runs in the new namespaces; never returns. */
__attribute__((noreturn)) void cl_sbx_child_main(struct cl_sbx_child *c);
/* execve of the program (PATH searched in the sandbox's env); never returns. */
__attribute__((noreturn)) void cl_sbx_child_exec(const struct cl_sbx_child *c);
/* Writes an error record on fd (async-signal-safe except for the message already built). */
void cl_sbx_report_error(int fd, const struct cl_error *err);
/* The same for a failed execve of the program, so the caller can tell "not found" from a
 * setup failure. */
void cl_sbx_report_exec_error(int fd, const struct cl_error *err);

/* fds.c */
int cl_sbx_fds_arrange(struct cl_sbx_child *c, struct cl_error *err);
void cl_sbx_fds_close_range(unsigned int first, unsigned int last);

/* ns_user.c */
int cl_sbx_user_validate(const struct cl_sandbox_spec *spec, struct cl_error *err);
int cl_sbx_user_write_maps(pid_t pid, const struct cl_sandbox_spec *spec, bool privileged,
			   struct cl_error *err);
int cl_sbx_user_fs_ids(const struct cl_sandbox_spec *spec, struct cl_error *err);
int cl_sbx_user_switch(const struct cl_sandbox_spec *spec, bool privileged,
		       struct cl_error *err);

/* path_in_root.c: paths inside a rootfs, resolved by the kernel with RESOLVE_IN_ROOT. */
int cl_sbx_path_open(int rootfd, const char *path, int flags, bool no_symlinks,
		     struct cl_error *err);
int cl_sbx_path_mkpoint(int rootfd, const char *path, bool directory, bool no_symlinks,
			struct cl_error *err);

/* ns_mount.c */
struct cl_sbx_mounts {
	int rootfd;      /* the rootfs bind mount (O_PATH) */
	int devfd, procfd, tmpfd;
	int hostdev[5];  /* host /dev/null, zero, full, random, urandom (O_PATH) */
	int bind_src[CL_SANDBOX_MAX_BINDS];
	int bind_dst[CL_SANDBOX_MAX_BINDS];
};
void cl_sbx_mounts_init(struct cl_sbx_mounts *m);
void cl_sbx_mounts_close(struct cl_sbx_mounts *m);
int cl_sbx_mount_prepare(struct cl_sbx_mounts *m, const struct cl_sandbox_spec *spec,
			 struct cl_error *err);
int cl_sbx_mount_populate(struct cl_sbx_mounts *m, const struct cl_sandbox_spec *spec,
			  struct cl_error *err);
int cl_sbx_mount_switch_root(struct cl_sbx_mounts *m, const struct cl_sandbox_spec *spec,
			     struct cl_error *err);
int cl_sbx_mount_remount(int fd, const char *what, unsigned long add_flags,
			 struct cl_error *err);
int cl_sbx_fd_path(char *buf, size_t size, int fd);

/* ns_mount_dev.c */
extern const char *const cl_sbx_dev_nodes[5];
int cl_sbx_dev_open_host(int hostdev[5], struct cl_error *err);
int cl_sbx_dev_populate(int devfd_mountpoint, const int hostdev[5], struct cl_error *err);

/* ns_net.c */
int cl_sbx_net_loopback_up(struct cl_error *err);

/* ns_uts_ipc_cgroup.c */
int cl_sbx_ns_enter_cgroup(struct cl_error *err);
int cl_sbx_ns_set_hostname(const char *name, struct cl_error *err);
unsigned long cl_sbx_ns_clone_flags(void);

/* ns_pid.c */
int cl_sbx_pid_init_find_cmdline(struct cl_sbx_child *c, struct cl_error *err);
__attribute__((noreturn)) void cl_sbx_pid_init_run(struct cl_sbx_child *c);

/* seccomp_policy.c: the policy and its compilation with libseccomp (the build's generator,
 * the tests, and the run-time fallback; never a run of the embedded build). */
struct cl_sbx_bpf {
	struct sock_fprog prog;
};
struct cl_sbx_seccomp_arch {
	uint32_t audit_arch; /* AUDIT_ARCH_*, which is also libseccomp's SCMP_ARCH_* */
	const char *name;
};
extern const struct cl_sbx_seccomp_arch cl_sbx_seccomp_arches[]; /* ends with name NULL */
int cl_sbx_seccomp_build(uint32_t scmp_arch, struct cl_sbx_bpf *out, struct cl_error *err);
void cl_sbx_seccomp_free(struct cl_sbx_bpf *bpf);
int cl_sbx_seccomp_target_api(struct cl_error *err);
/* The policy tables, exposed for the tests that check every name resolves. */
extern const char *const cl_sbx_seccomp_allowed[];
extern const char *const cl_sbx_seccomp_denied[];

/* seccomp_programs.c, generated at build time by cl-seccomp-gen (seccomp_gen.c): the
 * policy's program for each architecture of cl_sbx_seccomp_arches, in that order, then an
 * entry with arch_name NULL. Only in a build with CL_SBX_SECCOMP_EMBEDDED 1. */
struct cl_sbx_seccomp_program {
	uint32_t audit_arch;
	const char *arch_name;
	struct sock_fprog prog; /* filter points to const instructions: the kernel only reads */
};
extern const struct cl_sbx_seccomp_program cl_sbx_seccomp_programs[];

/* seccomp.c: the program of the architecture this code runs in (embedded, or compiled once
 * per process at run time), the socket that carries a program compiled during a run to the
 * child, loading. */
const struct sock_fprog *cl_sbx_seccomp_native(struct cl_error *err);
const struct sock_fprog *cl_sbx_seccomp_native_if_built(void);
int cl_sbx_seccomp_send(int fd, const struct sock_fprog *prog, struct cl_error *err);
int cl_sbx_seccomp_receive(int fd, struct sock_fprog *prog, struct cl_error *err);
int cl_sbx_seccomp_load(const struct sock_fprog *prog, struct cl_error *err);

/* caps.c */
int cl_sbx_caps_lock_and_drop_bounding(struct cl_error *err);
int cl_sbx_caps_clear(cap_t empty, struct cl_error *err);

/* rlimits.c */
int cl_sbx_rlimits_prepare(struct cl_sbx_child *c, const struct cl_sandbox_spec *spec,
			   struct cl_error *err);
int cl_sbx_rlimits_apply(const struct cl_sbx_child *c, struct cl_error *err);

/* cgroup.c + cgroup_v1.c + cgroup_v2.c */
enum { CL_SBX_CG_MEMORY, CL_SBX_CG_PIDS, CL_SBX_CG_CPU, CL_SBX_CG_N };
extern const char *const cl_sbx_cg_controller_names[CL_SBX_CG_N];

struct cl_sbx_cgroup {
	int version;                 /* 0: none, 1, 2 */
	bool need[CL_SBX_CG_N];      /* controllers the limits need */
	char *dir[CL_SBX_CG_N];      /* v1: one dir per needed controller; v2: dir[0] only */
};
int cl_sbx_cgroup_select(const struct cl_sandbox_limits *limits, int want_version,
			 struct cl_sbx_cgroup *cg, char v2_mount[PATH_MAX], struct cl_error *err);
int cl_sbx_cgroup_create(struct cl_sbx_cgroup *cg, const struct cl_sandbox_spec *spec,
			 struct cl_error *err);
int cl_sbx_cgroup_attach(const struct cl_sbx_cgroup *cg, pid_t pid, struct cl_error *err);
void cl_sbx_cgroup_kill(const struct cl_sbx_cgroup *cg);
void cl_sbx_cgroup_stats(const struct cl_sbx_cgroup *cg, struct cl_sandbox_result *result);
int cl_sbx_cgroup_destroy(struct cl_sbx_cgroup *cg, struct cl_error *err);
/* Helpers shared by the two versions. */
int cl_sbx_cg_write(const char *dir, const char *file, const char *value, struct cl_error *err);
int cl_sbx_cg_read_key(const char *dir, const char *file, const char *key, uint64_t *value);
int cl_sbx_cg_read_u64(const char *dir, const char *file, uint64_t *value);
int cl_sbx_cg_own_path(int version, const char *controller, char *out, size_t size,
		       struct cl_error *err);
int cl_sbx_cg_v2_create(struct cl_sbx_cgroup *cg, const char *mount, const char *parent,
			const char *name, const struct cl_sandbox_limits *l, struct cl_error *err);
int cl_sbx_cg_v1_create(struct cl_sbx_cgroup *cg, const char *parent_override,
			const char *name, const struct cl_sandbox_limits *l, struct cl_error *err);
void cl_sbx_cg_v2_stats(const struct cl_sbx_cgroup *cg, struct cl_sandbox_result *r);
void cl_sbx_cg_v1_stats(const struct cl_sbx_cgroup *cg, struct cl_sandbox_result *r);

/* capture.c */
struct cl_sbx_capture {
	int fd;          /* read end, -1 once at EOF or when not capturing */
	size_t max;
	struct cl_sandbox_output *out;
	size_t cap;
};
int cl_sbx_capture_init(struct cl_sbx_capture *cap, int fd, size_t max,
			struct cl_sandbox_output *out, struct cl_error *err);
int cl_sbx_capture_read(struct cl_sbx_capture *cap, struct cl_error *err);

/* supervise.c */
struct cl_sbx_supervised {
	pid_t pid;
	int pidfd;
	int report_fd;
	struct cl_sbx_capture out, err;
	uint32_t timeout_ms;
	const struct cl_sbx_cgroup *cgroup;
};
int cl_sbx_supervise(struct cl_sbx_supervised *s, struct cl_sandbox_result *result,
		     struct cl_error *err);

#endif
