/* The sandbox's system-call policy: an allow-list with ENOSYS as default, named denials with
 * EPERM, argument filters for clone/socket/personality, and its compilation with libseccomp
 * into a raw BPF program for x86_64 or aarch64. The build runs it through cl-seccomp-gen
 * (seccomp_gen.c) and compiles the programs in; see DESIGN.md for the reasoning. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/socket.h>

#include "sandbox_internal.h"

/* What an ordinary program needs. Names absent on one architecture (open, fork, stat...
 * exist on x86_64 only) are skipped there; every name must exist on one of the two. */
const char *const cl_sbx_seccomp_allowed[] = {
	/* files and directories */
	"access", "chdir", "chmod", "chown", "close", "close_range", "copy_file_range", "creat",
	"dup", "dup2", "dup3", "faccessat", "faccessat2", "fadvise64", "fallocate", "fchdir",
	"fchmod", "fchmodat", "fchmodat2", "fchown", "fchownat", "fcntl", "fdatasync",
	"fgetxattr", "flistxattr", "flock", "fremovexattr", "fsetxattr", "fstat", "fstatfs",
	"fsync", "ftruncate", "futimesat", "getcwd", "getdents", "getdents64", "getxattr",
	"inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "lchown",
	"lgetxattr", "link", "linkat", "listxattr", "llistxattr", "lremovexattr", "lseek",
	"lsetxattr", "lstat", "mkdir", "mkdirat", "mknod", "mknodat", "name_to_handle_at",
	"newfstatat", "open", "openat", "openat2", "pread64", "preadv", "preadv2", "pwrite64",
	"pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv",
	"removexattr", "rename", "renameat", "renameat2", "rmdir", "sendfile", "setxattr",
	"splice", "stat", "statfs", "statx", "symlink", "symlinkat", "sync", "sync_file_range",
	"syncfs", "tee", "truncate", "umask", "unlink", "unlinkat", "utime", "utimensat",
	"utimes", "vmsplice", "write", "writev", "fanotify_mark", "cachestat",
	/* asynchronous I/O (not io_uring) and event waiting */
	"io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_setup", "io_submit",
	"epoll_create", "epoll_create1", "epoll_ctl", "epoll_pwait", "epoll_pwait2",
	"epoll_wait", "eventfd", "eventfd2", "poll", "ppoll", "pselect6", "select",
	"signalfd", "signalfd4", "timerfd_create", "timerfd_gettime", "timerfd_settime",
	"pipe", "pipe2",
	/* memory */
	"brk", "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore", "mlock",
	"mlock2", "mlockall", "mmap", "mprotect", "mremap", "msync", "munlock", "munlockall",
	"munmap", "pkey_alloc", "pkey_free", "pkey_mprotect", "remap_file_pages",
	"map_shadow_stack",
	/* processes, threads, signals (clone is filtered below) */
	"execve", "execveat", "exit", "exit_group", "fork", "vfork", "wait4", "waitid",
	"getpid", "getppid", "gettid", "getpgid", "getpgrp", "getsid", "setpgid", "setsid",
	"kill", "tgkill", "tkill", "pidfd_open", "pidfd_send_signal", "process_mrelease",
	"rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn",
	"rt_sigsuspend", "rt_sigtimedwait", "rt_tgsigqueueinfo", "sigaltstack", "pause",
	"restart_syscall", "set_robust_list", "get_robust_list", "set_tid_address", "rseq",
	"futex", "futex_requeue", "futex_wait", "futex_waitv", "futex_wake", "arch_prctl",
	"get_thread_area", "set_thread_area", "prctl", "seccomp", "landlock_add_rule",
	"landlock_create_ruleset", "landlock_restrict_self",
	/* credentials: only the ids mapped into the user namespace can be reached */
	"capget", "capset", "getegid", "geteuid", "getgid", "getgroups", "getresgid",
	"getresuid", "getuid", "setfsgid", "setfsuid", "setgid", "setgroups", "setregid",
	"setresgid", "setresuid", "setreuid", "setuid",
	/* scheduling, limits, time */
	"getpriority", "setpriority", "sched_getaffinity", "sched_getattr", "sched_getparam",
	"sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
	"sched_rr_get_interval", "sched_setaffinity", "sched_setattr", "sched_setparam",
	"sched_setscheduler", "sched_yield", "getcpu", "ioprio_get", "ioprio_set",
	"getrlimit", "setrlimit", "prlimit64", "getrusage", "times", "sysinfo", "uname",
	"getrandom", "adjtimex", "clock_adjtime", "clock_getres", "clock_gettime",
	"clock_nanosleep", "gettimeofday", "nanosleep", "time", "alarm", "getitimer",
	"setitimer", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
	"timer_settime",
	/* sockets (socket itself is filtered below); the network namespace has only lo */
	"accept", "accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt",
	"listen", "recvfrom", "recvmmsg", "recvmsg", "sendmmsg", "sendmsg", "sendto",
	"setsockopt", "shutdown", "socketpair",
	/* System V and POSIX IPC, private to the IPC namespace */
	"msgctl", "msgget", "msgrcv", "msgsnd", "semctl", "semget", "semop", "semtimedop",
	"shmat", "shmctl", "shmdt", "shmget", "mq_getsetattr", "mq_notify", "mq_open",
	"mq_timedreceive", "mq_timedsend", "mq_unlink",
	/* ioctl: whole, see DESIGN.md (no controlling terminal, no CAP_SYS_ADMIN) */
	"ioctl",
	NULL,
};

/* Refused with EPERM: kernel attack surface, escapes from the namespaces, host control. */
const char *const cl_sbx_seccomp_denied[] = {
	"io_uring_setup", "io_uring_enter", "io_uring_register", /* bypasses seccomp */
	"keyctl", "add_key", "request_key",                      /* keyrings are not namespaced */
	"bpf", "perf_event_open", "userfaultfd",
	"ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "pidfd_getfd",
	"kcmp",
	"mount", "umount2", "mount_setattr", "fsopen", "fsconfig", "fsmount", "fspick",
	"move_mount", "open_tree", "pivot_root", "chroot",
	"unshare", "setns",
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"create_module", "reboot", "swapon", "swapoff", "acct", "quotactl", "quotactl_fd",
	"syslog", "sethostname", "setdomainname", "settimeofday", "clock_settime", "iopl",
	"ioperm", "open_by_handle_at", "fanotify_init", "vhangup", "lookup_dcookie", "mbind",
	"set_mempolicy", "set_mempolicy_home_node", "move_pages", "migrate_pages", "uselib",
	"nfsservctl", "_sysctl", "ustat", "sysfs",
	NULL,
};

/* clone flags that create namespaces; clone3 cannot be inspected and answers ENOSYS (the
 * default action), which makes glibc fall back to clone. */
static const uint64_t namespace_flags[] = {
	CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
	CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
};

/* personality values Docker's profile allows; anything else gets the default action, and
 * these address-space weakening flags get EPERM explicitly. */
static const uint64_t personality_allowed[] = { 0x0, PER_LINUX32, UNAME26,
						 UNAME26 | PER_LINUX32, 0xffffffffu };
static const uint64_t personality_denied_flags[] = { ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC,
						     ADDR_COMPAT_LAYOUT, MMAP_PAGE_ZERO };

/* The architectures the policy is written for; the build embeds a program for each. */
const struct cl_sbx_seccomp_arch cl_sbx_seccomp_arches[] = {
	{ SCMP_ARCH_X86_64, "x86_64" },
	{ SCMP_ARCH_AARCH64, "aarch64" },
	{ 0, NULL },
};
/* libseccomp's architecture tokens are the kernel's audit values, which is what the
 * embedded programs are keyed by. */
_Static_assert(SCMP_ARCH_X86_64 == AUDIT_ARCH_X86_64 && SCMP_ARCH_AARCH64 == AUDIT_ARCH_AARCH64,
	       "libseccomp architecture tokens are audit values");

static const char *arch_name(uint32_t arch)
{
	switch (arch) {
	case SCMP_ARCH_X86_64: return "x86_64";
	case SCMP_ARCH_AARCH64: return "aarch64";
	case SCMP_ARCH_X86: return "x86";
	case SCMP_ARCH_X32: return "x32";
	case SCMP_ARCH_ARM: return "arm";
	case SCMP_ARCH_RISCV64: return "riscv64";
	default: return "unknown";
	}
}

/* libseccomp reads rule syscall numbers in the numbering of the machine it runs on and
 * translates them for each architecture of the filter (a foreign-arch filter built with the
 * target's own numbers would allow the wrong calls). So: the build machine's number, or
 * its pseudo number for names it lacks, and only for names the target has. */
static int native_nr(uint32_t arch, const char *name, int *nr, struct cl_error *err)
{
	if (seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name) == __NR_SCMP_ERROR &&
	    seccomp_syscall_resolve_name_arch(SCMP_ARCH_AARCH64, name) == __NR_SCMP_ERROR)
		return cl_error_set(err, -EINVAL, "seccomp policy: unknown system call %s", name);
	if (seccomp_syscall_resolve_name_arch(arch, name) < 0)
		return 1; /* absent on this architecture (open, fork, stat... on aarch64) */
	*nr = seccomp_syscall_resolve_name(name);
	if (*nr == __NR_SCMP_ERROR)
		return cl_error_set(err, -EINVAL, "seccomp policy: %s unknown to this libseccomp",
				    name);
	return 0;
}

static int add_names(scmp_filter_ctx ctx, uint32_t arch, const char *const *names,
		     uint32_t action, struct cl_error *err)
{
	for (const char *const *n = names; *n; n++) {
		int nr;
		int rc = native_nr(arch, *n, &nr, err);
		if (rc < 0)
			return rc;
		if (rc > 0)
			continue;
		rc = seccomp_rule_add(ctx, action, nr, 0);
		if (rc < 0)
			return cl_error_set(err, rc, "seccomp policy: rule for %s on %s", *n,
					    arch_name(arch));
	}
	return 0;
}

static int add_arg_rules(scmp_filter_ctx ctx, uint32_t arch, struct cl_error *err)
{
	int rc;
	int nr_clone = 0, nr_socket = 0, nr_pers = 0;
	if (native_nr(arch, "clone", &nr_clone, err) != 0 ||
	    native_nr(arch, "socket", &nr_socket, err) != 0 ||
	    native_nr(arch, "personality", &nr_pers, err) != 0)
		return cl_error_set(err, -EINVAL, "seccomp policy: clone, socket or personality "
				    "missing on %s", arch_name(arch));

	/* clone(flags, ...): flags are argument 0 on both architectures. */
	uint64_t mask = 0;
	for (size_t i = 0; i < sizeof(namespace_flags) / sizeof(namespace_flags[0]); i++) {
		mask |= namespace_flags[i];
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr_clone, 1,
					    SCMP_A0(SCMP_CMP_MASKED_EQ, namespace_flags[i],
						    namespace_flags[i]));
		if (rc < 0)
			return cl_error_set(err, rc, "seccomp policy: clone namespace rule");
	}
	rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr_clone, 1,
				    SCMP_A0(SCMP_CMP_MASKED_EQ, mask, 0));
	if (rc < 0)
		return cl_error_set(err, rc, "seccomp policy: clone rule");

	/* socket(domain, ...): AF_ALG (kernel crypto API, a recurring bug source) and
	 * AF_VSOCK (host/VM channel) refused, the other families allowed. The kernel reads
	 * domain as an int while the filter sees the whole register, so "domain > AF_VSOCK"
	 * would let 0x100000000 | AF_ALG through: allow exact aligned blocks of 0..63
	 * instead (every family the kernel knows is below 64). */
	for (uint64_t lo = 0; lo < 64;) {
		if (lo == AF_ALG || lo == AF_VSOCK) {
			lo++;
			continue;
		}
		uint64_t size = 1;
		while (lo % (size * 2) == 0 && lo + size * 2 <= 64 &&
		       !(AF_ALG >= lo && AF_ALG < lo + size * 2) &&
		       !(AF_VSOCK >= lo && AF_VSOCK < lo + size * 2))
			size *= 2;
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr_socket, 1,
					    SCMP_A0(SCMP_CMP_MASKED_EQ, ~(size - 1), lo));
		if (rc < 0)
			return cl_error_set(err, rc, "seccomp policy: socket rule");
		lo += size;
	}
	rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr_socket, 1,
				    SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, AF_ALG));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr_socket, 1,
					    SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, AF_VSOCK));
	if (rc < 0)
		return cl_error_set(err, rc, "seccomp policy: socket rules");

	for (size_t i = 0; i < sizeof(personality_allowed) / sizeof(personality_allowed[0]); i++) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr_pers, 1,
					    SCMP_A0(SCMP_CMP_EQ, personality_allowed[i], 0));
		if (rc < 0)
			return cl_error_set(err, rc, "seccomp policy: personality rule");
	}
	for (size_t i = 0; i < sizeof(personality_denied_flags) / sizeof(personality_denied_flags[0]);
	     i++) {
		const uint64_t f = personality_denied_flags[i];
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr_pers, 1,
					    SCMP_A0(SCMP_CMP_MASKED_EQ, f, f));
		if (rc < 0)
			return cl_error_set(err, rc, "seccomp policy: personality deny rule");
	}
	return 0;
}

/* libseccomp 2.5 exports only to a file descriptor: a memfd, read back. */
static int export_bpf(scmp_filter_ctx ctx, struct cl_sbx_bpf *out, struct cl_error *err)
{
	cl_cleanup_fd int mfd = memfd_create("cl-seccomp", MFD_CLOEXEC);
	if (mfd < 0)
		return cl_error_set(err, -errno, "seccomp: memfd_create: %s", cl_sbx_errstr(errno));
	int rc = seccomp_export_bpf(ctx, mfd);
	if (rc < 0)
		return cl_error_set(err, rc, "seccomp: export BPF: %s", cl_sbx_errstr(-rc));
	off_t size = lseek(mfd, 0, SEEK_END);
	if (size <= 0 || size % sizeof(struct sock_filter) != 0 ||
	    size / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return cl_error_set(err, -EINVAL, "seccomp: exported program has %lld bytes",
				    (long long)size);
	struct sock_filter *insns = malloc((size_t)size);
	if (!insns)
		return cl_error_set(err, -ENOMEM, "seccomp: program of %lld bytes",
				    (long long)size);
	if (pread(mfd, insns, (size_t)size, 0) != size) {
		free(insns);
		return cl_error_set(err, -EIO, "seccomp: reading the exported program back");
	}
	out->prog.filter = insns;
	out->prog.len = (unsigned short)(size / sizeof(struct sock_filter));
	return 0;
}

int cl_sbx_seccomp_build(uint32_t arch, struct cl_sbx_bpf *out, struct cl_error *err)
{
	memset(out, 0, sizeof(*out));
	bool supported = false;
	for (const struct cl_sbx_seccomp_arch *a = cl_sbx_seccomp_arches; a->name; a++)
		supported = supported || a->audit_arch == arch;
	if (!supported)
		return cl_error_set(err, -ENOTSUP, "seccomp: architecture %s is not supported "
				    "(the policy is written for x86_64 and aarch64)",
				    arch_name(arch));

	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(ENOSYS));
	if (!ctx)
		return cl_error_set(err, -ENOMEM, "seccomp: seccomp_init");
	int rc = 0;
	if (arch != seccomp_arch_native()) {
		rc = seccomp_arch_add(ctx, arch);
		if (rc == 0)
			rc = seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE);
		if (rc < 0) {
			cl_error_set(err, rc, "seccomp: filter for %s", arch_name(arch));
			goto out;
		}
	}
	/* Other ABIs of the same CPU (i386 and x32 on x86_64, AArch32 on aarch64) have
	 * their own numbers: the whole process dies rather than be misjudged. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0); /* we set it ourselves */
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2); /* binary tree */
	if (rc < 0) {
		cl_error_set(err, rc, "seccomp: filter attributes");
		goto out;
	}
	rc = add_names(ctx, arch, cl_sbx_seccomp_allowed, SCMP_ACT_ALLOW, err);
	if (rc == 0)
		rc = add_names(ctx, arch, cl_sbx_seccomp_denied, SCMP_ACT_ERRNO(EPERM), err);
	if (rc == 0)
		rc = add_arg_rules(ctx, arch, err);
	if (rc == 0)
		rc = export_bpf(ctx, out, err);
out:
	seccomp_release(ctx);
	return rc;
}

void cl_sbx_seccomp_free(struct cl_sbx_bpf *bpf)
{
	free(bpf->prog.filter);
	bpf->prog.filter = NULL;
	bpf->prog.len = 0;
}

/* libseccomp asks the running kernel whether the KILL_PROCESS action exists (and refuses it
 * when the answer is no, e.g. under qemu-user, which has no seccomp()). A program built for
 * another machine must not depend on the kernel it was built on: state the interface level
 * instead, 3 = KILL_PROCESS (Linux 4.14; the sandbox needs 5.9). The program's bytes do not
 * depend on the level, only whether libseccomp accepts the policy. Process-wide: for the
 * generator and the tests, never for a library caller. */
int cl_sbx_seccomp_target_api(struct cl_error *err)
{
	const int rc = seccomp_api_set(3);
	if (rc < 0)
		return cl_error_set(err, rc, "seccomp: libseccomp API level 3: %s",
				    cl_sbx_errstr(-rc));
	return 0;
}
