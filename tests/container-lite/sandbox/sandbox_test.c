/* End-to-end tests of the sandbox: each case builds a rootfs in a temporary directory
 * (busybox-static and the static probe program), runs the probe inside the sandbox doing
 * one thing (escaping, misbehaving, or ordinary work) and asserts the exact outcome: an
 * errno, an exit code, a signal, OOM or timeout, captured bytes, host-side effects.
 *   cl-sandbox-test CASE      exit 0 pass, 1 fail, 77 skip (with the reason) */
#include <arpa/inet.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ipc.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox_internal.h"

#define SKIP 77

static int failures;
#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		if (!(cond)) {                                                  \
			failures++;                                             \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);    \
			fprintf(stderr, __VA_ARGS__);                           \
			fputc('\n', stderr);                                    \
		}                                                               \
	} while (0)

#define PROBE(...) ((const char *const[]){ "/bin/probe", __VA_ARGS__, NULL })

/* ---------------------------------------------------------------- fixture ---- */

struct fixture {
	char dir[64];      /* /tmp/cl-sbx-CASE-XXXXXX, 0755 */
	char rootfs[96];   /* dir/rootfs */
	char host[96];     /* dir/host: host-only files, never bound */
};

static int copy_file(const char *from, const char *to, mode_t mode)
{
	const int in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	const int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		close(in);
		return -errno;
	}
	char buf[65536];
	ssize_t n;
	int rc = 0;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			rc = -EIO;
			break;
		}
	if (n < 0)
		rc = -errno;
	close(in);
	close(out);
	return rc ? rc : (chmod(to, mode) < 0 ? -errno : 0);
}

/* The rootfs has no libc: only static executables run in it. */
static bool is_static_elf(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	Elf64_Ehdr eh;
	bool ok = fread(&eh, sizeof(eh), 1, f) == 1 && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
		  eh.e_ident[EI_CLASS] == ELFCLASS64;
	for (int i = 0; ok && i < eh.e_phnum && i < 64; i++) {
		Elf64_Phdr ph;
		if (fseek(f, (long)(eh.e_phoff + (uint64_t)i * eh.e_phentsize), SEEK_SET) != 0 ||
		    fread(&ph, sizeof(ph), 1, f) != 1 || ph.p_type == PT_INTERP)
			ok = false;
	}
	fclose(f);
	return ok;
}

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -EIO;
}

static bool read_text(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	const size_t n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	return true;
}

static int fixture_setup(struct fixture *f, const char *name)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/cl-sbx-%.20s-XXXXXX", name);
	if (!mkdtemp(f->dir) || chmod(f->dir, 0755) < 0)
		return -errno;
	snprintf(f->rootfs, sizeof(f->rootfs), "%s/rootfs", f->dir);
	snprintf(f->host, sizeof(f->host), "%s/host", f->dir);
	static const char *const dirs[] = { "", "/bin", "/etc", "/dev", "/proc", "/tmp" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char p[160];
		snprintf(p, sizeof(p), "%s%s", f->rootfs, dirs[i]);
		if (mkdir(p, 0755) < 0)
			return -errno;
	}
	if (mkdir(f->host, 0755) < 0)
		return -errno;
	char p[160];
	if (!is_static_elf(CL_TEST_BUSYBOX)) {
		fprintf(stderr, "%s is not a static executable: install busybox-static "
			"(toolchain/install-deps.sh)\n", CL_TEST_BUSYBOX);
		return -ENOEXEC;
	}
	snprintf(p, sizeof(p), "%s/bin/busybox", f->rootfs);
	int rc = copy_file(CL_TEST_BUSYBOX, p, 0755);
	if (rc == 0) {
		snprintf(p, sizeof(p), "%s/bin/probe", f->rootfs);
		rc = copy_file(CL_TEST_PROBE, p, 0755);
	}
	static const char *const applets[] = { "sh", "true", "cat", "ls", "sleep", "echo" };
	for (size_t i = 0; rc == 0 && i < sizeof(applets) / sizeof(applets[0]); i++) {
		snprintf(p, sizeof(p), "%s/bin/%s", f->rootfs, applets[i]);
		if (symlink("busybox", p) < 0)
			rc = -errno;
	}
	return rc;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void fixture_teardown(struct fixture *f)
{
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---------------------------------------------------------------- running ---- */

static bool clone_refused; /* the kernel refused the namespaces: skip */

static int run(const struct fixture *f, struct cl_sandbox_spec *spec, const char *const *argv,
	       struct cl_sandbox_result *res, struct cl_error *err)
{
	spec->rootfs = f->rootfs;
	spec->argv = argv;
	cl_error_clear(err);
	const int rc = cl_sandbox_run(spec, res, err);
	if (rc < 0 && strstr(err->msg, "clone into new namespaces") &&
	    (rc == -EPERM || rc == -ENOSPC || rc == -EINVAL || rc == -EACCES))
		clone_refused = true;
	return rc;
}

/* Runs the probe with spec (defaults when NULL) and checks how it ended. */
static void expect(const struct fixture *f, struct cl_sandbox_spec *spec,
		   const char *const *argv, enum cl_sandbox_outcome outcome, int code,
		   const char *want_stdout)
{
	struct cl_sandbox_spec def;
	if (!spec) {
		cl_sandbox_spec_init(&def);
		spec = &def;
	}
	struct cl_sandbox_result res;
	struct cl_error err;
	const int rc = run(f, spec, argv, &res, &err);
	CHECK(rc == 0, "probe %s %s: run failed: %s", argv[1], argv[2] ? argv[2] : "", err.msg);
	if (rc)
		return;
	const int got = outcome == CL_SANDBOX_EXITED ? res.exit_code : res.signal;
	CHECK(res.outcome == outcome && got == code,
	      "probe %s %s: %s %d (want %s %d; stderr: %s)", argv[1], argv[2] ? argv[2] : "",
	      cl_sandbox_outcome_name(res.outcome), got, cl_sandbox_outcome_name(outcome), code,
	      res.err.data ? res.err.data : "");
	if (want_stdout)
		CHECK(res.out.data && strcmp(res.out.data, want_stdout) == 0,
		      "probe %s: stdout \"%s\", want \"%s\"", argv[1],
		      res.out.data ? res.out.data : "(null)", want_stdout);
	cl_sandbox_result_free(&res);
}

static void expect_errno(const struct fixture *f, struct cl_sandbox_spec *spec,
			 const char *const *argv, int e)
{
	expect(f, spec, argv, CL_SANDBOX_EXITED, e, NULL);
}

/* A cgroup limit is testable where the kernel has the controller and we may create
 * cgroups; otherwise say which and skip. */
static int require_cgroup(const struct cl_sandbox_limits *limits)
{
	if (geteuid() != 0) {
		printf("SKIP: cgroup limits need root (or a delegated cgroup)\n");
		return SKIP;
	}
	struct cl_sbx_cgroup cg;
	char v2[PATH_MAX];
	struct cl_error err;
	cl_error_clear(&err);
	if (cl_sbx_cgroup_select(limits, 0, &cg, v2, &err) < 0) {
		printf("SKIP: %s\n", err.msg);
		return SKIP;
	}
	return 0;
}

/* Counts the per-run cgroups of this process ("cl-PID-N") left in the hierarchies a run
 * could have used: v1 controller directories and the v2 mount, below our own cgroup. */
static int leftover_cgroups(void)
{
	char own[PATH_MAX], dir[PATH_MAX + 64], prefix[32];
	snprintf(prefix, sizeof(prefix), "cl-%d-", (int)getpid());
	int found = 0;
	static const char *const v1[] = { "memory", "pids", "cpu" };
	struct cl_error err;
	for (int i = 0; i < 5; i++) {
		cl_error_clear(&err);
		const bool is_v1 = i < 3;
		if (cl_sbx_cg_own_path(is_v1 ? 1 : 2, is_v1 ? v1[i] : NULL, own, sizeof(own),
				       &err) < 0)
			continue;
		if (is_v1)
			snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s%s", v1[i], own);
		else
			snprintf(dir, sizeof(dir), "%s%s",
				 i == 3 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified", own);
		DIR *d = opendir(dir);
		if (!d)
			continue;
		for (struct dirent *e; (e = readdir(d));)
			if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
				found++;
		closedir(d);
	}
	return found;
}

/* ---------------------------------------------------------------- cases ---- */

static int native_outcome(const char *const *args, int *status)
{
	const pid_t p = fork();
	if (p == 0) {
		execv(CL_TEST_PROBE, (char *const *)args);
		_exit(127);
	}
	return p < 0 || waitpid(p, status, 0) < 0 ? -1 : 0;
}

static int case_seccomp(struct fixture *f)
{
	static const struct {
		const char *name;
		int err;
	} denied[] = {
		{ "mount", EPERM }, { "umount2", EPERM }, { "pivot_root", EPERM },
		{ "chroot", EPERM }, { "fsopen", EPERM }, { "fsmount", EPERM },
		{ "fsconfig", EPERM }, { "fspick", EPERM }, { "move_mount", EPERM },
		{ "open_tree", EPERM }, { "mount_setattr", EPERM },
		{ "unshare-user", EPERM }, { "unshare-mount", EPERM }, { "setns", EPERM },
		{ "clone-newuser", EPERM }, { "clone-newns", EPERM }, { "clone-newpid", EPERM },
		{ "clone-newnet", EPERM }, { "clone3", ENOSYS }, { "clone-plain", 0 },
		{ "fork", 0 },
		{ "ptrace", EPERM }, { "process_vm_readv", EPERM }, { "kcmp", EPERM },
		{ "pidfd_getfd", EPERM },
		{ "io_uring_setup", EPERM }, { "io_uring_enter", EPERM },
		{ "io_uring_register", EPERM },
		{ "keyctl", EPERM }, { "add_key", EPERM }, { "request_key", EPERM },
		{ "bpf", EPERM }, { "perf_event_open", EPERM }, { "userfaultfd", EPERM },
		{ "kexec_load", EPERM }, { "init_module", EPERM }, { "finit_module", EPERM },
		{ "delete_module", EPERM }, { "reboot", EPERM }, { "syslog", EPERM },
		{ "sethostname", EPERM }, { "open_by_handle_at", EPERM },
		{ "personality-norandom", EPERM }, { "personality-linux32", 0 },
		{ "socket-alg", EPERM }, { "socket-alg-highbits", EPERM },
		{ "socket-vsock", EPERM }, { "socket-inet", 0 },
		{ "get_mempolicy", ENOSYS }, /* not in the policy: the default action */
		{ "mknod-char", EPERM },     /* allowed syscall, refused by the kernel: no caps */
#ifdef __x86_64__
		{ "iopl", EPERM },
#endif
	};
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		expect_errno(f, NULL, PROBE("syscall", denied[i].name), denied[i].err);
		if (clone_refused)
			return SKIP;
	}
#ifdef __x86_64__
	/* x32: same audit arch, bit 30 in the number; the filter kills whatever the kernel
	 * would have done (most kernels have no x32 and answer ENOSYS). */
	expect(f, NULL, PROBE("syscall", "x32-getpid"), CL_SANDBOX_SIGNALED, SIGSYS, NULL);
	/* i386 through int 0x80 reaches seccomp only where the kernel has IA32 emulation. */
	int st;
	if (native_outcome(PROBE("syscall", "i386-getpid"), &st) == 0 && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0)
		expect(f, NULL, PROBE("syscall", "i386-getpid"), CL_SANDBOX_SIGNALED, SIGSYS,
		       NULL);
	else
		printf("note: no IA32 emulation in this kernel; the i386 ABI check is covered "
		       "by seccomp-policy only\n");
#endif
	return 0;
}

static int case_capabilities(struct fixture *f)
{
	const char *want = "CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\n"
			   "CapEff:\t0000000000000000\nCapBnd:\t0000000000000000\n"
			   "CapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n";
	expect(f, NULL, PROBE("status"), CL_SANDBOX_EXITED, 0, want); /* as uid 0 inside */
	struct cl_sandbox_spec s;
	cl_sandbox_spec_init(&s);
	s.uid = s.gid = 1000;
	expect(f, &s, PROBE("status"), CL_SANDBOX_EXITED, 0, want);
	expect_errno(f, NULL, PROBE("capset"), EPERM);
	expect_errno(f, &s, PROBE("capset"), EPERM);
	/* Only the one mapped id exists: host root (or any other id) cannot be named. */
	expect_errno(f, &s, PROBE("setuid", "0"), EINVAL);
	expect_errno(f, NULL, PROBE("setuid", "1000"), EINVAL);
	/* The sandbox's root is not the host's: root-only /proc files stay closed. */
	expect_errno(f, NULL, PROBE("openw", "/proc/sys/kernel/core_pattern"), EACCES);
	expect_errno(f, NULL, PROBE("openw", "/proc/sys/vm/drop_caches"), EACCES);
	if (access("/proc/sysrq-trigger", F_OK) == 0) /* absent without CONFIG_MAGIC_SYSRQ */
		expect_errno(f, NULL, PROBE("openw", "/proc/sysrq-trigger"), EACCES);
	return clone_refused ? SKIP : 0;
}

static int case_host_path(struct fixture *f)
{
	char secret[160];
	snprintf(secret, sizeof(secret), "%s/secret", f->host);
	CHECK(write_text(secret, "host secret\n") == 0, "write %s", secret);
	expect_errno(f, NULL, PROBE("hostpath", secret), ENOENT);
	expect_errno(f, NULL, PROBE("hostpath", "/etc/passwd"), ENOENT);
	struct cl_sandbox_spec s;
	cl_sandbox_spec_init(&s);
	s.flags = CL_SANDBOX_NO_PIVOT_ROOT;
	expect_errno(f, &s, PROBE("hostpath", secret), ENOENT);
	return clone_refused ? SKIP : 0;
}

static int case_network(struct fixture *f)
{
	const int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(a);
	CHECK(l >= 0 && bind(l, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(l, 8) == 0 &&
		      getsockname(l, (struct sockaddr *)&a, &len) == 0,
	      "host listener: %s", strerror(errno));
	char port[16];
	snprintf(port, sizeof(port), "%u", ntohs(a.sin_port));
	/* lo is up (else ENETUNREACH) and is the only device: nothing listens there. */
	expect_errno(f, NULL, PROBE("connect", port), ECONNREFUSED);
	const int c = accept(l, NULL, NULL);
	CHECK(c < 0 && errno == EAGAIN, "the host listener got a connection");
	if (c >= 0)
		close(c);
	close(l);
	expect(f, NULL, PROBE("netdevs"), CL_SANDBOX_EXITED, 0, "lo up\n");
	return clone_refused ? SKIP : 0;
}

static int case_pids_limit(struct fixture *f)
{
	struct cl_sandbox_spec s;
	cl_sandbox_spec_init(&s);
	s.limits.pids = 16;
	s.timeout_ms = 20000;
	const int skip = require_cgroup(&s.limits);
	if (skip)
		return skip;
	struct cl_sandbox_result res;
	struct cl_error err;
	CHECK(run(f, &s, PROBE("forkbomb"), &res, &err) == 0, "%s", err.msg);
	if (clone_refused)
		return SKIP;
	CHECK(res.outcome == CL_SANDBOX_EXITED && res.exit_code == EAGAIN,
	      "forkbomb: %s %d", cl_sandbox_outcome_name(res.outcome), res.exit_code);
	const int n = res.out.data ? atoi(res.out.data) : -1;
	/* init and the probe count too: at most 14 children fit under 16. */
	CHECK(n >= 1 && n <= 14, "forkbomb made %d processes under pids=16", n);
	CHECK(res.cgroup_version == 1 || res.cgroup_version == 2, "cgroup v%d",
	      res.cgroup_version);
	cl_sandbox_result_free(&res);
	CHECK(leftover_cgroups() == 0, "the per-run cgroup was not removed");
	return 0;
}

static int case_memory_limit(struct fixture *f)
{
	struct cl_sandbox_spec s;
	cl_sandbox_spec_init(&s);
	s.limits.memory_bytes = 32u << 20;
	s.timeout_ms = 30000;
	const int skip = require_cgroup(&s.limits);
	if (skip)
		return skip;
	struct cl_sandbox_result res;
	struct cl_error err;
	CHECK(run(f, &s, PROBE("membomb"), &res, &err) == 0, "%s", err.msg);
	if (clone_refused)
		return SKIP;
	CHECK(res.outcome == CL_SANDBOX_OOM, "membomb: %s (signal %d, oom_kills %llu)",
	      cl_sandbox_outcome_name(res.outcome), res.signal,
	      (unsigned long long)res.oom_kills);
	CHECK(res.oom_kills >= 1, "oom_kills %llu", (unsigned long long)res.oom_kills);
	CHECK(res.memory_peak_bytes == 0 || res.memory_peak_bytes <= (32u << 20),
	      "peak %llu above the limit", (unsigned long long)res.memory_peak_bytes);
	CHECK(cl_sandbox_result_exit_status(&res) == 137, "exit status");
	cl_sandbox_result_free(&res);
	/* A program that stays under the limit is not called OOM. */
	expect(f, &s, PROBE("exit", "0"), CL_SANDBOX_EXITED, 0, NULL);
	CHECK(leftover_cgroups() == 0, "a per-run cgroup was not removed");
	return 0;
}

static int case_cpu_limit(struct fixture *f)
{
	struct cl_sandbox_spec s;
	cl_sandbox_spec_init(&s);
	s.limits.cpu_millicores = 100; /* 10 ms per 100 ms period */
	s.timeout_ms = 20000;
	const int skip = require_cgroup(&s.limits);
	if (skip)
		return skip;
	struct cl_sandbox_result res;
	struct cl_error err;
	/* 30 ms of CPU cannot fit in one 10 ms quota: the tree must be throttled. */
	CHECK(run(f, &s, PROBE("spin", "30"), &res, &err) == 0, "%s", err.msg);
	if (clone_refused)
		return SKIP;
	CHECK(res.outcome == CL_SANDBOX_EXITED && res.exit_code == 0, "spin: %s %d",
	      cl_sandbox_outcome_name(res.outcome), res.exit_code);
	CHECK(res.cpu_throttled >= 1, "throttled %llu times",
	      (unsigned long long)res.cpu_throttled);
	cl_sandbox_result_free(&res);
	CHECK(leftover_cgroups() == 0, "the per-run cgroup was not removed");
	return 0;
}

static int case_disk_fill(struct fixture *f)
{
	struct cl_sandbox_spec s;
	cl_sandbox_spec_init(&s);
	s.tmp_bytes = 1u << 20;
	struct cl_sandbox_result res;
	struct cl_error err;
	CHECK(run(f, &s, PROBE("fill", "/tmp/big", "ignore-xfsz"), &res, &err) == 0, "%s",
	      err.msg);
	if (clone_refused)
		return SKIP;
	CHECK(res.outcome == CL_SANDBOX_EXITED && res.exit_code == ENOSPC, "fill /tmp: %s %d",
	      cl_sandbox_outcome_name(res.outcome), res.exit_code);
	const long long n = res.out.data ? atoll(res.out.data) : -1;
	CHECK(n > 0 && n <= (1 << 20), "wrote %lld bytes into a 1 MiB /tmp", n);
	cl_sandbox_result_free(&res);

	/* RLIMIT_FSIZE: EFBIG at exactly the limit when SIGXFSZ is ignored ... */
	const struct cl_sandbox_rlimit fsize = { RLIMIT_FSIZE, 65536, 65536 };
	s.rlimits = &fsize;
	s.n_rlimits = 1;
	expect(f, &s, PROBE("fill", "/tmp/big", "ignore-xfsz"), CL_SANDBOX_EXITED, EFBIG,
	       "65536\n");
	/* ... and death by SIGXFSZ otherwise. */
	expect(f, &s, PROBE("fill", "/tmp/big"), CL_SANDBOX_SIGNALED, SIGXFSZ, NULL);
	return 0;
}

static int case_fds(struct fixture *f)
{
	/* An fd without O_CLOEXEC in the supervisor must not reach the sandbox. */
	const int leak = open("/dev/null", O_RDONLY);
	const int high = fcntl(leak, F_DUPFD, 40);
	CHECK(leak >= 0 && high >= 40, "open test fds");
	char n[16];
	snprintf(n, sizeof(n), "%d", high);
	expect_errno(f, NULL, PROBE("fd", n), EBADF);
	snprintf(n, sizeof(n), "%d", leak);
	expect_errno(f, NULL, PROBE("fd", n), EBADF);

	/* pass_fds become 3, 4, ...: exactly those. */
	int p[2];
	CHECK(pipe(p) == 0, "pipe");
	struct cl_sandbox_spec s;
	cl_sandbox_spec_init(&s);
	s.pass_fds = &p[1];
	s.n_pass_fds = 1;
	expect_errno(f, &s, PROBE("fdwrite", "3", "through fd 3"), 0);
	expect_errno(f, &s, PROBE("fd", "4"), EBADF);
	close(p[1]);
	char buf[64] = { 0 };
	CHECK(read(p[0], buf, sizeof(buf) - 1) == 12 && strcmp(buf, "through fd 3") == 0,
	      "pass fd read \"%s\"", buf);
	close(p[0]);
	close(leak);
	close(high);
	return clone_refused ? SKIP : 0;
}

static int case_readonly_rootfs(struct fixture *f)
{
	expect_errno(f, NULL, PROBE("create", "/newfile"), EROFS);
	/* A file the permission bits let anyone write: the read-only mount says no. */
	char ww[160];
	snprintf(ww, sizeof(ww), "%s/etc/world-writable", f->rootfs);
	CHECK(write_text(ww, "") == 0 && chmod(ww, 0666) == 0, "world-writable file");
	expect_errno(f, NULL, PROBE("openw", "/etc/world-writable"), EROFS);
	expect_errno(f, NULL, PROBE("openw", "/bin/busybox"), EACCES); /* host root's file */
	expect_errno(f, NULL, PROBE("create", "/dev/newfile"), EROFS);
	expect_errno(f, NULL, PROBE("create", "/tmp/newfile"), 0); /* /tmp is the place */
	if (clone_refused)
		return SKIP;
	/* Writable on request, for whoever owns it on the host (the mapped id). */
	struct cl_sandbox_spec s;
	cl_sandbox_spec_init(&s);
	s.flags = CL_SANDBOX_WRITABLE_ROOTFS;
	if (geteuid() == 0)
		CHECK(chown(f->rootfs, s.host_uid, s.host_gid) == 0, "chown rootfs");
	expect_errno(f, &s, PROBE("write", "/newfile", "written inside"), 0);
	char path[160], text[64] = "";
	snprintf(path, sizeof(path), "%s/newfile", f->rootfs);
	CHECK(read_text(path, text, sizeof(text)) && strcmp(text, "written inside") == 0,
	      "host sees \"%s\"", text);
	return 0;
}

static int case_exit_status(struct fixture *f)
{
	expect(f, NULL, PROBE("exit", "42"), CL_SANDBOX_EXITED, 42, NULL);
	expect(f, NULL, PROBE("exit", "0"), CL_SANDBOX_EXITED, 0, NULL);
	expect(f, NULL, PROBE("kill", "10"), CL_SANDBOX_SIGNALED, SIGUSR1, NULL);
	expect(f, NULL, PROBE("kill", "11"), CL_SANDBOX_SIGNALED, SIGSEGV, NULL);
	struct cl_sandbox_result r = { .outcome = CL_SANDBOX_SIGNALED, .signal = SIGUSR1 };
	CHECK(cl_sandbox_result_exit_status(&r) == 138, "128 + SIGUSR1");
	r = (struct cl_sandbox_result){ .outcome = CL_SANDBOX_TIMEOUT, .signal = SIGKILL };
	CHECK(cl_sandbox_result_exit_status(&r) == 124, "timeout status");
	r = (struct cl_sandbox_result){ .outcome = CL_SANDBOX_EXITED, .exit_code = 7 };
	CHECK(cl_sandbox_result_exit_status(&r) == 7, "exit code status");
	return clone_refused ? SKIP : 0;
}

static int case_identity(struct fixture *f)
{
	static const char *const env[] = { "FOO=bar", "PATH=/nonexistent:/bin", NULL };
	struct cl_sandbox_spec s;
	cl_sandbox_spec_init(&s);
	s.uid = 1000;
	s.gid = 1001;
	s.cwd = "/tmp";
	s.env = env;
	s.hostname = "box";
	expect(f, &s, PROBE("whoami"), CL_SANDBOX_EXITED, 0,
	       "uid=1000 gid=1001 euid=1000 groups=0 cwd=/tmp host=box FOO=bar "
	       "PATH=/nonexistent:/bin\n");
	/* A bare name is searched in the sandbox's PATH, not the supervisor's. */
	expect(f, &s, (const char *const[]){ "probe", "exit", "5", NULL }, CL_SANDBOX_EXITED, 5,
	       NULL);
	expect(f, NULL, PROBE("whoami"), CL_SANDBOX_EXITED, 0,
	       "uid=0 gid=0 euid=0 groups=0 cwd=/ host=sandbox FOO=- PATH=-\n");
	return clone_refused ? SKIP : 0;
}

static int case_binds(struct fixture *f)
{
	char in[160], out[160], file[200], text[64] = "";
	snprintf(in, sizeof(in), "%s/in", f->dir);
	snprintf(out, sizeof(out), "%s/out", f->dir);
	snprintf(file, sizeof(file), "%s/data.txt", in);
	CHECK(mkdir(in, 0755) == 0 && mkdir(out, 0755) == 0 && write_text(file, "input\n") == 0,
	      "bind sources");
	struct cl_sandbox_spec s;
	cl_sandbox_spec_init(&s);
	if (geteuid() == 0)
		CHECK(chown(out, s.host_uid, s.host_gid) == 0, "chown out");
	const struct cl_sandbox_bind binds[] = {
		{ in, "/data", false },
		{ out, "/results/run1", true }, /* parents created inside the rootfs */
		{ file, "/etc/config.txt", false }, /* a file onto a file */
	};
	s.binds = binds;
	s.n_binds = 3;
	expect(f, &s, PROBE("cat", "/data/data.txt"), CL_SANDBOX_EXITED, 0, "input\n");
	expect(f, &s, PROBE("cat", "/etc/config.txt"), CL_SANDBOX_EXITED, 0, "input\n");
	expect_errno(f, &s, PROBE("write", "/data/new", "x"), EROFS);
	expect_errno(f, &s, PROBE("write", "/etc/config.txt", "x"), EROFS);
	expect_errno(f, &s, PROBE("write", "/results/run1/result", "done"), 0);
	snprintf(file, sizeof(file), "%s/result", out);
	CHECK(read_text(file, text, sizeof(text)) && strcmp(text, "done") == 0,
	      "host sees output \"%s\"", text);
	if (clone_refused)
		return SKIP;

	/* An image symlink pointing at a host directory (/escape -> /etc): the target
	 * resolves inside the rootfs, so the mount point is made in the image's /etc and the
	 * host's /etc is untouched. */
	char link[200], inside[200];
	snprintf(link, sizeof(link), "%s/escape", f->rootfs);
	CHECK(symlink("/etc", link) == 0, "escape symlink");
	const struct cl_sandbox_bind esc = { in, "/escape/cl-sandbox-escape-test", false };
	s.binds = &esc;
	s.n_binds = 1;
	expect(f, &s, PROBE("cat", "/escape/cl-sandbox-escape-test/data.txt"), CL_SANDBOX_EXITED,
	       0, "input\n");
	struct stat st;
	CHECK(stat("/etc/cl-sandbox-escape-test", &st) < 0 && errno == ENOENT,
	      "the host path /etc/cl-sandbox-escape-test was created");
	snprintf(inside, sizeof(inside), "%s/etc/cl-sandbox-escape-test", f->rootfs);
	CHECK(stat(inside, &st) == 0 && S_ISDIR(st.st_mode), "mount point %s not in the rootfs",
	      inside);
	return 0;
}

static int case_capture(struct fixture *f)
{
	struct cl_sandbox_spec s;
	cl_sandbox_spec_init(&s);
	s.stdout_max = 4096;
	s.stderr_max = 4096;
	struct cl_sandbox_result res;
	struct cl_error err;
	CHECK(run(f, &s, PROBE("output", "100000", "10"), &res, &err) == 0, "%s", err.msg);
	if (clone_refused)
		return SKIP;
	CHECK(res.outcome == CL_SANDBOX_EXITED && res.exit_code == 0, "output: %s %d",
	      cl_sandbox_outcome_name(res.outcome), res.exit_code);
	CHECK(res.out.len == 4096 && res.out.truncated, "stdout %zu bytes, truncated %d",
	      res.out.len, res.out.truncated);
	bool all_o = res.out.data != NULL;
	for (size_t i = 0; all_o && i < res.out.len; i++)
		all_o = res.out.data[i] == 'o';
	CHECK(all_o, "stdout content");
	CHECK(res.err.len == 10 && !res.err.truncated && strcmp(res.err.data, "eeeeeeeeee") == 0,
	      "stderr \"%s\" (%zu, truncated %d)", res.err.data, res.err.len, res.err.truncated);
	cl_sandbox_result_free(&res);

	/* Exactly the bound is not truncation. */
	CHECK(run(f, &s, PROBE("output", "4096", "0"), &res, &err) == 0, "%s", err.msg);
	CHECK(res.out.len == 4096 && !res.out.truncated, "4096 of 4096: truncated %d",
	      res.out.truncated);
	cl_sandbox_result_free(&res);

	/* Passed through to a caller fd instead. */
	int p[2];
	CHECK(pipe(p) == 0, "pipe");
	s.stdout_fd = p[1];
	s.stderr_fd = CL_SANDBOX_FD_NULL;
	CHECK(run(f, &s, PROBE("output", "5", "3"), &res, &err) == 0, "%s", err.msg);
	CHECK(res.out.data == NULL && res.err.data == NULL, "nothing captured");
	cl_sandbox_result_free(&res);
	close(p[1]);
	char buf[16] = { 0 };
	CHECK(read(p[0], buf, sizeof(buf) - 1) == 5 && strcmp(buf, "ooooo") == 0,
	      "pass-through \"%s\"", buf);
	close(p[0]);
	return 0;
}

/* The tree ends with the run: grandchildren that ignore SIGTERM and were re-parented to
 * init hold a shared lock on a host file until they die; right after the run returns,
 * an exclusive lock must be free. */
static int tree_case(struct fixture *f, const char *mode, enum cl_sandbox_outcome want)
{
	char lockdir[160], lockfile[200];
	snprintf(lockdir, sizeof(lockdir), "%s/lock-%s", f->dir, mode);
	snprintf(lockfile, sizeof(lockfile), "%s/lock", lockdir);
	CHECK(mkdir(lockdir, 0755) == 0 && write_text(lockfile, "") == 0, "lock file");
	CHECK(chmod(lockfile, 0644) == 0, "chmod lock");
	struct cl_sandbox_spec s;
	cl_sandbox_spec_init(&s);
	const struct cl_sandbox_bind b = { lockdir, "/lock", false };
	s.binds = &b;
	s.n_binds = 1;
	s.timeout_ms = 1000;
	struct cl_sandbox_result res;
	struct cl_error err;
	CHECK(run(f, &s, PROBE("tree", "/lock/lock", "3", mode), &res, &err) == 0, "%s",
	      err.msg);
	if (clone_refused)
		return SKIP;
	CHECK(res.outcome == want, "tree %s: %s", mode, cl_sandbox_outcome_name(res.outcome));
	CHECK(res.out.data && strcmp(res.out.data, "ready 3\n") == 0, "tree stdout \"%s\"",
	      res.out.data ? res.out.data : "");
	if (want == CL_SANDBOX_TIMEOUT)
		CHECK(cl_sandbox_result_exit_status(&res) == 124, "timeout exit status");
	cl_sandbox_result_free(&res);
	const int fd = open(lockfile, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0,
	      "a process of the tree still holds the lock after the run (%s)", strerror(errno));
	if (fd >= 0)
		close(fd);
	return 0;
}

static int case_timeout_tree(struct fixture *f)
{
	return tree_case(f, "wait", CL_SANDBOX_TIMEOUT);
}

static int case_exit_tree(struct fixture *f)
{
	return tree_case(f, "exit", CL_SANDBOX_EXITED);
}

static int case_no_pivot(struct fixture *f)
{
	struct cl_sandbox_spec s;
	cl_sandbox_spec_init(&s);
	s.flags = CL_SANDBOX_NO_PIVOT_ROOT;
	expect(f, &s, PROBE("whoami"), CL_SANDBOX_EXITED, 0,
	       "uid=0 gid=0 euid=0 groups=0 cwd=/ host=sandbox FOO=- PATH=-\n");
	expect_errno(f, &s, PROBE("create", "/newfile"), EROFS);
	expect_errno(f, &s, PROBE("syscall", "chroot"), EPERM); /* the classic chroot escape */
	expect(f, &s, PROBE("ls", "/"), CL_SANDBOX_EXITED, 0, "bin dev etc proc tmp\n");
	expect(f, &s, PROBE("ls", "/.."), CL_SANDBOX_EXITED, 0, "bin dev etc proc tmp\n");
	expect(f, &s, PROBE("ls", "/proc/1/root/"), CL_SANDBOX_EXITED, EACCES, NULL);
	return clone_refused ? SKIP : 0;
}

static int case_namespaces(struct fixture *f)
{
	expect(f, NULL, PROBE("pids"), CL_SANDBOX_EXITED, 0, "self=2 1 2\n");
	expect(f, NULL, PROBE("ls", "/dev"), CL_SANDBOX_EXITED, 0,
	       "fd full null random stderr stdin stdout urandom zero\n");
	expect(f, NULL, PROBE("ls", "/"), CL_SANDBOX_EXITED, 0, "bin dev etc proc tmp\n");
	/* init is a copy of the supervisor: its command line must not show through. */
	struct cl_sandbox_result cmd;
	struct cl_error cerr;
	struct cl_sandbox_spec cs;
	cl_sandbox_spec_init(&cs);
	CHECK(run(f, &cs, PROBE("cat", "/proc/1/cmdline"), &cmd, &cerr) == 0, "%s", cerr.msg);
	bool blank = cmd.out.data != NULL;
	for (size_t i = 0; blank && i < cmd.out.len; i++)
		blank = cmd.out.data[i] == '\0';
	CHECK(blank, "/proc/1/cmdline shows \"%s\"", cmd.out.data ? cmd.out.data : "");
	cl_sandbox_result_free(&cmd);
	expect_errno(f, NULL, PROBE("open", "/proc/1/environ"), EACCES);
	/* IPC: a host segment is not visible. */
	const key_t key = (key_t)(0x5a000000 | (getpid() & 0xffff));
	const int id = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
	CHECK(id >= 0, "host shm: %s", strerror(errno));
	char k[16];
	snprintf(k, sizeof(k), "%d", (int)key);
	expect_errno(f, NULL, PROBE("shm", k), ENOENT);
	if (id >= 0)
		shmctl(id, IPC_RMID, NULL);
	/* cgroup namespace: every hierarchy shows "/". */
	struct cl_sandbox_spec s;
	cl_sandbox_spec_init(&s);
	struct cl_sandbox_result res;
	struct cl_error err;
	CHECK(run(f, &s, PROBE("cat", "/proc/self/cgroup"), &res, &err) == 0, "%s", err.msg);
	if (clone_refused)
		return SKIP;
	bool all_root = res.out.data && res.out.len > 0;
	for (char *line = res.out.data; all_root && line && *line;) {
		char *nl = strchr(line, '\n');
		const size_t n = nl ? (size_t)(nl - line) : strlen(line);
		all_root = n >= 2 && line[n - 1] == '/' && line[n - 2] == ':';
		line = nl ? nl + 1 : NULL;
	}
	CHECK(all_root, "/proc/self/cgroup:\n%s", res.out.data ? res.out.data : "");
	cl_sandbox_result_free(&res);

	/* Mount flags: mountinfo fields 5 (mount point) and 6 (per-mount options). */
	CHECK(run(f, &s, PROBE("cat", "/proc/self/mountinfo"), &res, &err) == 0, "%s", err.msg);
	static const struct {
		const char *point, *opts;
	} want[] = {
		{ "/", "ro,nosuid,nodev" }, { "/dev", "ro,nosuid,noexec" },
		{ "/tmp", "rw,nosuid,nodev" }, { "/proc", "rw,nosuid,nodev,noexec" },
		{ "/dev/null", "rw" },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		bool found = false;
		for (char *line = res.out.data; line && *line && !found;) {
			char point[256], opts[256];
			if (sscanf(line, "%*s %*s %*s %*s %255s %255s", point, opts) == 2 &&
			    strcmp(point, want[i].point) == 0)
				found = strncmp(opts, want[i].opts, strlen(want[i].opts)) == 0;
			line = strchr(line, '\n');
			line = line ? line + 1 : NULL;
		}
		CHECK(found, "mount %s without %s:\n%s", want[i].point, want[i].opts,
		      res.out.data ? res.out.data : "");
	}
	cl_sandbox_result_free(&res);
	return 0;
}

static int case_unprivileged(struct fixture *f)
{
	fflush(NULL);
	const pid_t p = fork();
	if (p == 0) {
		if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
				       setresuid(65534, 65534, 65534) < 0))
			_exit(2);
		/* A uid change made this process non-dumpable, which would leave its children's
		 * /proc files (uid_map) to root; an ordinary unprivileged caller is dumpable. */
		prctl(PR_SET_DUMPABLE, 1);
		expect(f, NULL, PROBE("whoami"), CL_SANDBOX_EXITED, 0,
		       "uid=0 gid=0 euid=0 groups=0 cwd=/ host=sandbox FOO=- PATH=-\n");
		if (clone_refused) {
			printf("SKIP: the kernel refuses user namespaces to unprivileged users\n");
			fflush(NULL);
			_exit(SKIP);
		}
		expect(f, NULL, PROBE("status"), CL_SANDBOX_EXITED, 0,
		       "CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\n"
		       "CapEff:\t0000000000000000\nCapBnd:\t0000000000000000\n"
		       "CapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n");
		expect_errno(f, NULL, PROBE("create", "/newfile"), EROFS);
		expect_errno(f, NULL, PROBE("syscall", "unshare-user"), EPERM);
		expect(f, NULL, PROBE("ls", "/dev"), CL_SANDBOX_EXITED, 0,
		       "fd full null random stderr stdin stdout urandom zero\n");
		char secret[160];
		snprintf(secret, sizeof(secret), "%s/secret", f->host);
		expect_errno(f, NULL, PROBE("hostpath", secret), ENOENT);
		struct cl_sandbox_spec s;
		cl_sandbox_spec_init(&s);
		s.flags = CL_SANDBOX_NO_PIVOT_ROOT;
		expect(f, &s, PROBE("ls", "/"), CL_SANDBOX_EXITED, 0, "bin dev etc proc tmp\n");
		/* Limits need cgroups, which an unprivileged user cannot create: a clear
		 * error, no run. */
		s.limits.memory_bytes = 16 << 20;
		struct cl_sandbox_result res;
		struct cl_error err;
		const int rc = run(f, &s, PROBE("exit", "0"), &res, &err);
		CHECK(rc < 0 && strstr(err.msg, "cgroup"), "limits without privilege: rc %d (%s)",
		      rc, err.msg);
		fflush(NULL);
		_exit(failures ? 1 : 0);
	}
	int st = 0;
	CHECK(p > 0 && waitpid(p, &st, 0) == p, "fork");
	if (WIFEXITED(st) && WEXITSTATUS(st) == SKIP)
		return SKIP;
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "unprivileged part failed (status 0x%x)",
	      (unsigned)st);
	return 0;
}

/* A range mapping (root only): host ids BASE..BASE+COUNT-1 are ids 0..COUNT-1 inside, so a
 * tree unpacked with id_shift BASE keeps its owners, and its permission bits work as the
 * image meant them. A host range of its own, not one the tool or other tests use. */
#define IDMAP_BASE 2000000000u
#define IDMAP_COUNT 65536u

/* Writes path (under the rootfs) with host owner BASE+uid:BASE+gid and mode. */
static int write_owned(const struct fixture *f, const char *path, const char *text, uint32_t uid,
		       uint32_t gid, mode_t mode)
{
	char p[200];
	snprintf(p, sizeof(p), "%s%s", f->rootfs, path);
	if (write_text(p, text) < 0 || chown(p, IDMAP_BASE + uid, IDMAP_BASE + gid) < 0 ||
	    chmod(p, mode) < 0)
		return -errno;
	return 0;
}

static int case_idmap(struct fixture *f)
{
	if (geteuid() != 0) {
		printf("SKIP: an id range mapping needs a root supervisor (the refusal for "
		       "others is checked by idmap-errors)\n");
		return SKIP;
	}
	char p[200];
	snprintf(p, sizeof(p), "%s/home", f->rootfs);
	CHECK(mkdir(p, 0755) == 0, "mkdir %s", p);
	snprintf(p, sizeof(p), "%s/home/app", f->rootfs);
	CHECK(mkdir(p, 0755) == 0 && chown(p, IDMAP_BASE + 1000, IDMAP_BASE + 1000) == 0,
	      "mkdir %s", p);
	CHECK(write_owned(f, "/home/app/secret", "app's secret\n", 1000, 1000, 0600) == 0,
	      "secret");
	CHECK(write_owned(f, "/home/shared", "group 2000\n", 0, 2000, 0640) == 0, "shared");
	snprintf(p, sizeof(p), "%s/etc/host-root", f->rootfs);
	CHECK(write_text(p, "") == 0 && chmod(p, 0644) == 0, "host-root"); /* host 0:0 */

	struct cl_sandbox_spec s;
	cl_sandbox_spec_init(&s);
	s.idmap = (struct cl_sandbox_idmap){ IDMAP_BASE, IDMAP_COUNT };
	/* The kernel's own view of the maps: exactly one extent, "0 BASE COUNT". */
	char want[64];
	snprintf(want, sizeof(want), "%10u %10u %10u\n", 0u, IDMAP_BASE, IDMAP_COUNT);
	expect(f, &s, PROBE("cat", "/proc/self/uid_map"), CL_SANDBOX_EXITED, 0, want);
	if (clone_refused)
		return SKIP;
	expect(f, &s, PROBE("cat", "/proc/self/gid_map"), CL_SANDBOX_EXITED, 0, want);
	/* Owners as the sandbox sees them; a host id outside the range is the overflow id. */
	expect(f, &s, PROBE("owner", "/home/app/secret"), CL_SANDBOX_EXITED, 0, "1000 1000 600\n");
	expect(f, &s, PROBE("owner", "/home/shared"), CL_SANDBOX_EXITED, 0, "0 2000 640\n");
	expect(f, &s, PROBE("owner", "/etc/host-root"), CL_SANDBOX_EXITED, 0, "65534 65534 644\n");
	/* Root inside owns BASE's files but has no capability: another user's 0600 file
	 * stays closed to it. */
	expect_errno(f, &s, PROBE("open", "/home/app/secret"), EACCES);

	/* The image's user reads its own 0600 file; nothing more. */
	s.uid = s.gid = 1000;
	expect(f, &s, PROBE("cat", "/home/app/secret"), CL_SANDBOX_EXITED, 0, "app's secret\n");
	expect(f, &s, PROBE("whoami"), CL_SANDBOX_EXITED, 0,
	       "uid=1000 gid=1000 euid=1000 groups=0 cwd=/ host=sandbox FOO=- PATH=-\n");
	expect_errno(f, &s, PROBE("open", "/home/shared"), EACCES);
	expect(f, &s, PROBE("status"), CL_SANDBOX_EXITED, 0,
	       "CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\n"
	       "CapEff:\t0000000000000000\nCapBnd:\t0000000000000000\n"
	       "CapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n");
	/* Every id of the range exists inside, but changing to one needs CAP_SETUID; an id
	 * past the range does not exist at all. */
	expect_errno(f, &s, PROBE("setuid", "1001"), EPERM);
	expect_errno(f, &s, PROBE("setuid", "0"), EPERM);
	expect_errno(f, &s, PROBE("setgid", "2000"), EPERM);
	expect_errno(f, &s, PROBE("setuid", "70000"), EINVAL);

	/* Another user of the image: the same file is closed. */
	s.uid = s.gid = 1001;
	expect_errno(f, &s, PROBE("open", "/home/app/secret"), EACCES);
	/* Supplementary groups, applied exactly: group 2000 opens the 0640 file. */
	static const uint32_t groups[] = { 3000, 2000 };
	s.groups = groups;
	s.n_groups = 2;
	expect(f, &s, PROBE("groups"), CL_SANDBOX_EXITED, 0, "2000 3000\n"); /* sorted */
	expect(f, &s, PROBE("cat", "/home/shared"), CL_SANDBOX_EXITED, 0, "group 2000\n");
	expect_errno(f, &s, PROBE("open", "/home/app/secret"), EACCES);

	/* An output directory owned by the user's host id: what it writes there belongs to
	 * BASE+1001 on the host. */
	char out[160], file[200];
	snprintf(out, sizeof(out), "%s/out", f->dir);
	CHECK(mkdir(out, 0700) == 0 && chown(out, IDMAP_BASE + 1001, IDMAP_BASE + 1001) == 0,
	      "output directory");
	const struct cl_sandbox_bind bind = { out, "/out", true };
	s.binds = &bind;
	s.n_binds = 1;
	expect_errno(f, &s, PROBE("write", "/out/result", "done"), 0);
	snprintf(file, sizeof(file), "%s/result", out);
	struct stat st;
	CHECK(stat(file, &st) == 0 && st.st_uid == IDMAP_BASE + 1001 &&
		      st.st_gid == IDMAP_BASE + 1001,
	      "output owned by %u:%u on the host, want %u:%u", (unsigned)st.st_uid,
	      (unsigned)st.st_gid, IDMAP_BASE + 1001, IDMAP_BASE + 1001);
	return 0;
}

/* What a range mapping refuses, before anything runs: ids outside it, host root, ranges
 * too large or past the last host id, groups without a range, and any range asked by an
 * unprivileged caller. */
static int expect_refused(const struct fixture *f, struct cl_sandbox_spec *s, int want_rc,
			  const char *want_msg, const char *what)
{
	struct cl_sandbox_result res;
	struct cl_error err;
	const int rc = run(f, s, PROBE("exit", "0"), &res, &err);
	CHECK(rc == want_rc && strstr(err.msg, want_msg) && res.exec_errno == 0,
	      "%s: rc %d (want %d), \"%s\" (want \"%s\")", what, rc, want_rc, err.msg, want_msg);
	if (rc == 0)
		cl_sandbox_result_free(&res);
	return rc;
}

static int case_idmap_errors(struct fixture *f)
{
	struct cl_sandbox_spec s;
	struct cl_error err;
	if (geteuid() == 0) {
		cl_sandbox_spec_init(&s);
		s.idmap = (struct cl_sandbox_idmap){ IDMAP_BASE, IDMAP_COUNT };
		s.uid = IDMAP_COUNT;
		expect_refused(f, &s, -EINVAL, "uid/gid 65536:0 outside the mapped range 0-65535",
			       "uid past the range");
		s.uid = 0;
		s.gid = IDMAP_COUNT + 7;
		expect_refused(f, &s, -EINVAL, "uid/gid 0:65543 outside the mapped range 0-65535",
			       "gid past the range");
		s.gid = 0;
		s.idmap.count = 1000;
		s.uid = 1000;
		expect_refused(f, &s, -EINVAL, "uid/gid 1000:0 outside the mapped range 0-999",
			       "uid equal to the count");
		s.uid = 0;
		const uint32_t groups[] = { 10, 1000 };
		s.groups = groups;
		s.n_groups = 2;
		expect_refused(f, &s, -EINVAL, "supplementary group 1000 outside the mapped "
			       "range 0-999", "group past the range");
		s.n_groups = CL_SANDBOX_MAX_GROUPS + 1;
		expect_refused(f, &s, -EINVAL, "65 supplementary groups (at most 64)",
			       "too many groups");
		s.n_groups = 0;
		s.idmap = (struct cl_sandbox_idmap){ 0, IDMAP_COUNT };
		expect_refused(f, &s, -EINVAL, "id range at host id 0 refused", "host base 0");
		s.idmap = (struct cl_sandbox_idmap){ IDMAP_BASE, CL_SANDBOX_MAX_IDMAP_COUNT + 1 };
		expect_refused(f, &s, -EINVAL, "id range of 65537 ids (at most 65536)",
			       "count above the limit");
		s.idmap = (struct cl_sandbox_idmap){ UINT32_MAX - IDMAP_COUNT + 1, IDMAP_COUNT };
		expect_refused(f, &s, -EINVAL, "passes the last host id 4294967294",
			       "range past 2^32 - 2");
		/* The highest range there is: its last id is 2^32 - 2. */
		s.idmap.host_base = UINT32_MAX - IDMAP_COUNT;
		cl_error_clear(&err);
		CHECK(cl_sandbox_check_idmap(&s.idmap, &err) == 0, "highest range: %s", err.msg);
		/* Without a range, supplementary groups would be unmapped ids. */
		cl_sandbox_spec_init(&s);
		s.groups = groups;
		s.n_groups = 1;
		expect_refused(f, &s, -EINVAL, "supplementary groups need an id range mapping",
			       "groups without a range");
		if (clone_refused)
			return SKIP;
	}
	/* An unprivileged caller: the kernel would only let it map its own ids. */
	fflush(NULL);
	const pid_t p = fork();
	if (p == 0) {
		if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
				       setresuid(65534, 65534, 65534) < 0))
			_exit(2);
		prctl(PR_SET_DUMPABLE, 1);
		const struct cl_sandbox_idmap range = { IDMAP_BASE, IDMAP_COUNT };
		cl_error_clear(&err);
		CHECK(cl_sandbox_check_idmap(&range, &err) == -EPERM &&
			      strstr(err.msg, "needs a root supervisor"),
		      "unprivileged check: %s", err.msg);
		cl_sandbox_spec_init(&s);
		s.idmap = range;
		expect_refused(f, &s, -EPERM, "an id range mapping needs a root supervisor",
			       "unprivileged range");
		fflush(NULL);
		_exit(failures ? 1 : 0);
	}
	int st = 0;
	CHECK(p > 0 && waitpid(p, &st, 0) == p, "fork");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "unprivileged part failed (status 0x%x)",
	      (unsigned)st);
	return 0;
}

static int case_errors(struct fixture *f)
{
	struct cl_sandbox_spec s;
	struct cl_sandbox_result res;
	struct cl_error err;
	int rc;

	/* The child fails its setup. In a build that compiles the seccomp program at run time
	 * (cl-sandbox-test-seccomp-runtime), this first run of the process compiles it while
	 * the child sets up, and the child may be gone when it is sent: its report must win,
	 * and the supervisor must not die of SIGPIPE. */
	cl_sandbox_spec_init(&s);
	s.cwd = "/nonexistent";
	rc = run(f, &s, PROBE("exit", "0"), &res, &err);
	if (clone_refused)
		return SKIP;
	CHECK(rc == -ENOENT && strstr(err.msg, "working directory") && res.exec_errno == 0,
	      "cwd: %d %s (exec_errno %d)", rc, err.msg, res.exec_errno);

	cl_sandbox_spec_init(&s);
	rc = run(f, &s, (const char *const[]){ "/bin/nonexistent", NULL }, &res, &err);
	CHECK(rc == -ENOENT && strstr(err.msg, "/bin/nonexistent") && res.exec_errno == ENOENT,
	      "missing program: %d %s (exec_errno %d)", rc, err.msg, res.exec_errno);
	rc = run(f, &s, (const char *const[]){ "nonexistent", NULL }, &res, &err);
	CHECK(rc == -ENOENT && strstr(err.msg, "PATH="), "missing in PATH: %d %s", rc, err.msg);
	rc = run(f, &s, (const char *const[]){ "/etc", NULL }, &res, &err);
	CHECK(rc == -EACCES && res.exec_errno == EACCES, "exec a directory: %d %s", rc, err.msg);

	const struct cl_sandbox_bind missing = { "/nonexistent/source", "/data", false };
	s.binds = &missing;
	s.n_binds = 1;
	rc = run(f, &s, PROBE("exit", "0"), &res, &err);
	CHECK(rc == -ENOENT && strstr(err.msg, "/nonexistent/source") && res.exec_errno == 0,
	      "bind source: %d %s (exec_errno %d)", rc, err.msg, res.exec_errno);
	const struct cl_sandbox_bind into_tmp = { f->host, "/tmp/x", false };
	s.binds = &into_tmp;
	rc = run(f, &s, PROBE("exit", "0"), &res, &err);
	CHECK(rc == -EINVAL && strstr(err.msg, "/tmp/x"), "bind into /tmp: %d %s", rc, err.msg);
	const struct cl_sandbox_bind dotdot = { f->host, "/data/../etc", false };
	s.binds = &dotdot;
	rc = run(f, &s, PROBE("exit", "0"), &res, &err);
	CHECK(rc == -EINVAL, "bind target with ..: %d %s", rc, err.msg);
	s.n_binds = 0;

	if (geteuid() == 0) {
		cl_sandbox_spec_init(&s);
		s.host_uid = 0;
		rc = run(f, &s, PROBE("exit", "0"), &res, &err);
		CHECK(rc == -EINVAL && strstr(err.msg, "host's root"), "host uid 0: %d %s", rc,
		      err.msg);
	}
	cl_sandbox_spec_init(&s);
	const struct cl_sandbox_rlimit too_high = { RLIMIT_NOFILE, 1u << 30, 1u << 30 };
	s.rlimits = &too_high;
	s.n_rlimits = 1;
	rc = run(f, &s, PROBE("exit", "0"), &res, &err);
	CHECK(rc == -EPERM && strstr(err.msg, "NOFILE"), "rlimit above hard: %d %s", rc, err.msg);

	/* An image whose /dev is a symlink to a host path is refused. */
	char dev[160];
	snprintf(dev, sizeof(dev), "%s/dev", f->rootfs);
	CHECK(rmdir(dev) == 0 && symlink("/dev", dev) == 0, "symlinked /dev");
	cl_sandbox_spec_init(&s);
	rc = run(f, &s, PROBE("exit", "0"), &res, &err);
	CHECK(rc == -ELOOP && strstr(err.msg, "/dev"), "symlinked /dev: %d %s", rc, err.msg);
	return 0;
}

static int case_cgroup_select(struct fixture *f)
{
	(void)f;
	const struct cl_sandbox_limits none = { 0 }, mem = { .memory_bytes = 1 << 20 };
	struct cl_sbx_cgroup cg;
	char v2[PATH_MAX];
	struct cl_error err;
	cl_error_clear(&err);
	CHECK(cl_sbx_cgroup_select(&none, 0, &cg, v2, &err) == 0 && cg.version == 0,
	      "no limits, no cgroup");
	/* What the kernel offers decides; read it here independently of the library. */
	char own[PATH_MAX] = "", path[PATH_MAX + 64], ctrls[512] = "";
	bool v2_mem = false;
	FILE *pc = fopen("/proc/self/cgroup", "r");
	char line[512];
	while (pc && fgets(line, sizeof(line), pc))
		if (strncmp(line, "0::", 3) == 0)
			snprintf(own, sizeof(own), "%.*s", (int)strcspn(line + 3, "\n"), line + 3);
	if (pc)
		fclose(pc);
	static const char *const mounts[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	for (int i = 0; i < 2 && !v2_mem; i++) {
		snprintf(path, sizeof(path), "%s%s/cgroup.controllers", mounts[i], own);
		if (read_text(path, ctrls, sizeof(ctrls)))
			v2_mem = strstr(ctrls, "memory") != NULL;
	}
	struct stat st;
	const bool v1_mem = stat("/sys/fs/cgroup/memory/memory.limit_in_bytes", &st) == 0;
	const int rc = cl_sbx_cgroup_select(&mem, 0, &cg, v2, &err);
	if (v2_mem)
		CHECK(rc == 0 && cg.version == 2, "v2 has memory: rc %d version %d", rc, cg.version);
	else if (v1_mem)
		CHECK(rc == 0 && cg.version == 1, "v1 fallback: rc %d version %d", rc, cg.version);
	else
		CHECK(rc == -ENOTSUP, "no memory controller anywhere: rc %d", rc);
	if (!v2_mem) {
		cl_error_clear(&err);
		CHECK(cl_sbx_cgroup_select(&mem, 2, &cg, v2, &err) == -ENOTSUP &&
			      strstr(err.msg, "memory"),
		      "forcing v2 without its memory controller: %s", err.msg);
	}
	if (!v1_mem) {
		cl_error_clear(&err);
		CHECK(cl_sbx_cgroup_select(&mem, 1, &cg, v2, &err) == -ENOTSUP,
		      "forcing v1 without hierarchy: %s", err.msg);
	}
	return 0;
}

static int case_options(struct fixture *f)
{
	(void)f;
	struct cl_error err;
	cl_error_clear(&err);
	struct cl_sandbox_bind b;
	char a1[] = "/host/in:/data", a2[] = "/host/out:/out:rw", a3[] = "/x:/y:rx",
	     a4[] = "rel:/y", a5[] = "/x", a6[] = "/x:/y:ro";
	CHECK(cl_sandbox_parse_bind(a1, &b, &err) == 0 && !strcmp(b.source, "/host/in") &&
		      !strcmp(b.target, "/data") && !b.writable, "bind ro default");
	CHECK(cl_sandbox_parse_bind(a2, &b, &err) == 0 && b.writable && !strcmp(b.target, "/out"),
	      "bind rw");
	CHECK(cl_sandbox_parse_bind(a6, &b, &err) == 0 && !b.writable, "bind :ro");
	CHECK(cl_sandbox_parse_bind(a3, &b, &err) == -EINVAL, "bad mode");
	CHECK(cl_sandbox_parse_bind(a4, &b, &err) == -EINVAL, "relative source");
	CHECK(cl_sandbox_parse_bind(a5, &b, &err) == -EINVAL, "no target");

	static const struct {
		const char *text;
		int rc;
		uint64_t v;
	} sizes[] = { { "4096", 0, 4096 }, { "64k", 0, 65536 }, { "16M", 0, 16u << 20 },
		      { "2G", 0, 2ull << 30 }, { "", -EINVAL, 0 }, { "12X", -EINVAL, 0 },
		      { "1MB", -EINVAL, 0 }, { "-1", -EINVAL, 0 },
		      { "99999999999999999999", -EINVAL, 0 }, { "17179869184G", -EINVAL, 0 } };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t v = 0;
		const int rc = cl_sandbox_parse_size(sizes[i].text, &v, &err);
		CHECK(rc == sizes[i].rc && (rc || v == sizes[i].v), "size \"%s\": %d %llu",
		      sizes[i].text, rc, (unsigned long long)v);
	}
	static const struct {
		const char *text;
		int rc;
		uint32_t ms;
	} durs[] = { { "250ms", 0, 250 }, { "10s", 0, 10000 }, { "1.5s", 0, 1500 },
		     { "2m", 0, 120000 }, { "3", 0, 3000 }, { "1.5ms", -EINVAL, 0 },
		     { "s", -EINVAL, 0 }, { "10h", -EINVAL, 0 }, { "5000000s", -EINVAL, 0 } };
	for (size_t i = 0; i < sizeof(durs) / sizeof(durs[0]); i++) {
		uint32_t ms = 0;
		const int rc = cl_sandbox_parse_duration_ms(durs[i].text, &ms, &err);
		CHECK(rc == durs[i].rc && (rc || ms == durs[i].ms), "duration \"%s\": %d %u",
		      durs[i].text, rc, ms);
	}
	static const struct {
		const char *text;
		int rc;
		uint32_t m;
	} cpus[] = { { "0.5", 0, 500 }, { "2", 0, 2000 }, { "1.25", 0, 1250 },
		     { "0.001", 0, 1 }, { "0", -EINVAL, 0 }, { "0.0005", -EINVAL, 0 },
		     { "1.", -EINVAL, 0 }, { "x", -EINVAL, 0 } };
	for (size_t i = 0; i < sizeof(cpus) / sizeof(cpus[0]); i++) {
		uint32_t m = 0;
		const int rc = cl_sandbox_parse_cpus(cpus[i].text, &m, &err);
		CHECK(rc == cpus[i].rc && (rc || m == cpus[i].m), "cpus \"%s\": %d %u",
		      cpus[i].text, rc, m);
	}
	return 0;
}

/* Concurrent runs from several threads (as insitu-fw's job runner does): each gets its own
 * output and exit code, and no run sees another run's pipes. */
struct thread_run {
	const struct fixture *f;
	int index, rounds, bad;
	char msg[sizeof(((struct cl_error *)0)->msg) + 64];
};

static void *thread_main(void *arg)
{
	struct thread_run *t = arg;
	for (int r = 0; r < t->rounds && !t->bad; r++) {
		char code[16], bytes[16];
		snprintf(code, sizeof(code), "%d", 10 + t->index);
		snprintf(bytes, sizeof(bytes), "%d", 1000 * (t->index + 1));
		struct cl_sandbox_spec s;
		cl_sandbox_spec_init(&s);
		s.rootfs = t->f->rootfs;
		/* output, then exit with the thread's code: two runs per round. */
		const char *const out_argv[] = { "/bin/probe", "output", bytes, "0", NULL };
		const char *const exit_argv[] = { "/bin/probe", "exit", code, NULL };
		struct cl_sandbox_result res;
		struct cl_error err;
		cl_error_clear(&err);
		s.argv = out_argv;
		if (cl_sandbox_run(&s, &res, &err) < 0 || res.outcome != CL_SANDBOX_EXITED ||
		    res.exit_code != 0 || res.out.len != (size_t)(1000 * (t->index + 1))) {
			t->bad = 1;
			snprintf(t->msg, sizeof(t->msg), "thread %d output run: %s len %zu",
				 t->index, err.msg, res.out.len);
		}
		cl_sandbox_result_free(&res);
		s.argv = exit_argv;
		if (!t->bad && (cl_sandbox_run(&s, &res, &err) < 0 ||
				res.outcome != CL_SANDBOX_EXITED || res.exit_code != 10 + t->index)) {
			t->bad = 1;
			snprintf(t->msg, sizeof(t->msg), "thread %d exit run: %s code %d", t->index,
				 err.msg, res.exit_code);
		}
		cl_sandbox_result_free(&res);
	}
	return NULL;
}

static int case_threads(struct fixture *f)
{
	expect_errno(f, NULL, PROBE("exit", "0"), 0);
	if (clone_refused)
		return SKIP;
	struct thread_run t[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		t[i] = (struct thread_run){ .f = f, .index = i, .rounds = 10 };
		CHECK(pthread_create(&th[i], NULL, thread_main, &t[i]) == 0, "pthread_create");
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK(!t[i].bad, "%s", t[i].msg);
	}
	return 0;
}

/* The driver: what `container-lite run` will look like from a shell. */
static int case_cli(struct fixture *f)
{
	const char *const cases[][8] = {
		{ CL_TEST_DRIVER, f->rootfs, "/bin/sh", "-c", "exit 3", NULL },
		{ CL_TEST_DRIVER, "--timeout", "200ms", f->rootfs, "/bin/sleep", "5", NULL },
		{ CL_TEST_DRIVER, f->rootfs, "/bin/probe", "kill", "15", NULL },
		{ CL_TEST_DRIVER, "--bind", "/nonexistent:/x", f->rootfs, "/bin/true", NULL },
	};
	const int want[] = { 3, 124, 128 + SIGTERM, 125 };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int st;
		const pid_t p = fork();
		if (p == 0) {
			const int null = open("/dev/null", O_WRONLY);
			dup2(null, 2);
			execv(cases[i][0], (char *const *)cases[i]);
			_exit(126);
		}
		CHECK(p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) &&
			      WEXITSTATUS(st) == want[i],
		      "cl-sandbox-run case %zu: status 0x%x, want exit %d", i, (unsigned)st, want[i]);
	}
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct fixture *);
} cases[] = {
	{ "seccomp", case_seccomp },
	{ "capabilities", case_capabilities },
	{ "host-path", case_host_path },
	{ "network", case_network },
	{ "pids-limit", case_pids_limit },
	{ "memory-limit", case_memory_limit },
	{ "cpu-limit", case_cpu_limit },
	{ "disk-fill", case_disk_fill },
	{ "fds", case_fds },
	{ "readonly-rootfs", case_readonly_rootfs },
	{ "exit-status", case_exit_status },
	{ "identity", case_identity },
	{ "binds", case_binds },
	{ "capture", case_capture },
	{ "timeout-tree", case_timeout_tree },
	{ "exit-tree", case_exit_tree },
	{ "no-pivot", case_no_pivot },
	{ "namespaces", case_namespaces },
	{ "unprivileged", case_unprivileged },
	{ "errors", case_errors },
	{ "idmap", case_idmap },
	{ "idmap-errors", case_idmap_errors },
	{ "cgroup-select", case_cgroup_select },
	{ "options", case_options },
	{ "cli", case_cli },
	{ "threads", case_threads },
};

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CASE\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(argv[1], cases[i].name) != 0)
			continue;
		struct fixture f;
		const int rc = fixture_setup(&f, cases[i].name);
		if (rc < 0) {
			fprintf(stderr, "FAIL: building the test rootfs in %s: %s\n", f.dir,
				strerror(-rc));
			fixture_teardown(&f);
			return 1;
		}
		int result = cases[i].fn(&f);
		fixture_teardown(&f);
		if (clone_refused && result != SKIP) {
			printf("SKIP: the kernel refuses the sandbox's namespaces (user namespaces "
			       "disabled?)\n");
			result = SKIP;
		}
		if (result == SKIP)
			return SKIP;
		if (failures) {
			fprintf(stderr, "%s: %d check(s) failed\n", argv[1], failures);
			return 1;
		}
		return result;
	}
	fprintf(stderr, "unknown case %s\n", argv[1]);
	return 2;
}
