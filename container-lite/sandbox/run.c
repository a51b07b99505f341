/* The supervisor's side of a run, top to bottom: validate the spec, prepare everything the
 * child will need (it must not allocate), clone into the new namespaces, write the id maps
 * and the cgroup membership, let the child go, supervise, clean up. The child's side is
 * child.c; each step lives in the file named after its concern. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "sandbox_internal.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

void cl_sandbox_spec_init(struct cl_sandbox_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->cwd = "/";
	spec->hostname = CL_SBX_DEFAULT_HOSTNAME;
	spec->host_uid = CL_SBX_DEFAULT_HOST_ID;
	spec->host_gid = CL_SBX_DEFAULT_HOST_ID;
	spec->tmp_bytes = CL_SBX_DEFAULT_TMP_BYTES;
	spec->stdin_fd = CL_SANDBOX_FD_NULL;
	spec->stdout_fd = CL_SANDBOX_FD_CAPTURE;
	spec->stderr_fd = CL_SANDBOX_FD_CAPTURE;
	spec->stdout_max = CL_SBX_DEFAULT_CAPTURE;
	spec->stderr_max = CL_SBX_DEFAULT_CAPTURE;
}

/* An absolute path without "." or ".." components (the image decides nothing about where
 * a mount lands beyond what RESOLVE_IN_ROOT allows, and the caller's text stays plain). */
static bool plain_absolute(const char *p)
{
	if (!p || p[0] != '/' || strlen(p) >= PATH_MAX)
		return false;
	for (const char *c = p; *c;) {
		c += strspn(c, "/");
		const size_t n = strcspn(c, "/");
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += n;
	}
	return true;
}

static bool under(const char *path, const char *dir)
{
	const size_t n = strlen(dir);
	const char *rest = path + strspn(path, "/");
	return strncmp(rest, dir, n) == 0 && (rest[n] == '\0' || rest[n] == '/');
}

static int validate(const struct cl_sandbox_spec *s, struct cl_error *err)
{
	if (!plain_absolute(s->rootfs))
		return cl_error_set(err, -EINVAL, "sandbox: rootfs %s: must be an absolute path "
				    "without . or ..", s->rootfs ? s->rootfs : "(null)");
	if (!s->argv || !s->argv[0] || !s->argv[0][0])
		return cl_error_set(err, -EINVAL, "sandbox: empty argv");
	if (!plain_absolute(s->cwd))
		return cl_error_set(err, -EINVAL, "sandbox: working directory %s: must be "
				    "absolute", s->cwd ? s->cwd : "(null)");
	if (!s->hostname || strlen(s->hostname) > 64)
		return cl_error_set(err, -EINVAL, "sandbox: hostname missing or longer than 64");
	if (s->n_binds > CL_SANDBOX_MAX_BINDS || (s->n_binds && !s->binds))
		return cl_error_set(err, -EINVAL, "sandbox: %zu binds (at most %d)", s->n_binds,
				    CL_SANDBOX_MAX_BINDS);
	for (size_t i = 0; i < s->n_binds; i++) {
		const struct cl_sandbox_bind *b = &s->binds[i];
		if (!b->source || b->source[0] != '/')
			return cl_error_set(err, -EINVAL, "bind source %s: must be an absolute "
					    "host path", b->source ? b->source : "(null)");
		if (!plain_absolute(b->target) || b->target[strspn(b->target, "/")] == '\0')
			return cl_error_set(err, -EINVAL, "bind target %s: must be an absolute "
					    "path other than / without . or ..",
					    b->target ? b->target : "(null)");
		if (under(b->target, "dev") || under(b->target, "proc") ||
		    under(b->target, "tmp"))
			return cl_error_set(err, -EINVAL, "bind target %s: inside /dev, /proc or "
					    "/tmp, which the sandbox mounts itself", b->target);
	}
	if (s->n_pass_fds > CL_SANDBOX_MAX_PASS_FDS || (s->n_pass_fds && !s->pass_fds))
		return cl_error_set(err, -EINVAL, "sandbox: %zu pass_fds (at most %d)",
				    s->n_pass_fds, CL_SANDBOX_MAX_PASS_FDS);
	const int fds[3] = { s->stdin_fd, s->stdout_fd, s->stderr_fd };
	for (int i = 0; i < 3; i++) {
		const bool ok = fds[i] >= 0 ? fcntl(fds[i], F_GETFD) >= 0
					    : fds[i] == CL_SANDBOX_FD_NULL ||
						      (i > 0 && fds[i] == CL_SANDBOX_FD_CAPTURE);
		if (!ok)
			return cl_error_set(err, -EBADF, "sandbox: %s fd %d is not usable",
					    i == 0 ? "stdin" : i == 1 ? "stdout" : "stderr", fds[i]);
	}
	for (size_t i = 0; i < s->n_pass_fds; i++)
		if (s->pass_fds[i] < 0 || fcntl(s->pass_fds[i], F_GETFD) < 0)
			return cl_error_set(err, -EBADF, "sandbox: pass fd %d is not open",
					    s->pass_fds[i]);
	if (s->tmp_bytes == 0 || s->tmp_bytes > CL_SBX_MAX_TMP_BYTES)
		return cl_error_set(err, -EINVAL, "sandbox: /tmp size %llu out of range",
				    (unsigned long long)s->tmp_bytes);
	if (s->stdout_max > CL_SBX_MAX_CAPTURE || s->stderr_max > CL_SBX_MAX_CAPTURE)
		return cl_error_set(err, -EINVAL, "sandbox: capture bound above 1 GiB");
	return cl_sbx_user_validate(s, err);
}

int cl_sandbox_prepare(struct cl_error *err)
{
	return cl_sbx_seccomp_native(err) ? 0 : err->code;
}

/* One pipe; the supervisor's read end non-blocking (never the child's write end: the
 * program would see EAGAIN on a full pipe). */
static int make_pipe(int p[2], bool nonblocking_read, const char *what, struct cl_error *err)
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return cl_error_set(err, -errno, "sandbox: %s pipe: %s", what,
				    cl_sbx_errstr(errno));
	if (nonblocking_read && fcntl(p[0], F_SETFL, O_NONBLOCK) < 0)
		return cl_error_set(err, -errno, "sandbox: %s pipe: %s", what,
				    cl_sbx_errstr(errno));
	return 0;
}

/* The supervisor-to-child channels (go byte, seccomp program): a socket pair, so a write
 * to a child that already died is EPIPE, never a SIGPIPE in the caller's process. */
static int make_channel(int p[2], const char *what, struct cl_error *err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return cl_error_set(err, -errno, "sandbox: %s channel: %s", what,
				    cl_sbx_errstr(errno));
	p[0] = sv[0]; /* the child's end */
	p[1] = sv[1]; /* ours */
	return 0;
}

struct run_fds {
	int report[2], go[2], out[2], err[2], bpf[2], null;
};

static void close_run_fds(struct run_fds *f)
{
	int *all[] = { &f->report[0], &f->report[1], &f->go[0], &f->go[1], &f->out[0],
		       &f->out[1], &f->err[0], &f->err[1], &f->bpf[0], &f->bpf[1], &f->null };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		cl_sbx_closep(all[i]);
		*all[i] = -1;
	}
}

/* Where the child's fds 0, 1, 2 come from. */
static int stdio_source(int requested, int null_fd, int capture_write_end)
{
	if (requested >= 0)
		return requested;
	return requested == CL_SANDBOX_FD_CAPTURE ? capture_write_end : null_fd;
}

int cl_sandbox_run(const struct cl_sandbox_spec *spec, struct cl_sandbox_result *result,
		   struct cl_error *err)
{
	memset(result, 0, sizeof(*result));
	int rc = validate(spec, err);
	if (rc < 0)
		return rc;

	struct cl_sbx_child c;
	memset(&c, 0, sizeof(c));
	c.spec = spec;
	c.privileged = geteuid() == 0;
	/* Compiled already (a long-lived caller), or compiled below while the child sets up
	 * its namespaces, then sent to it. */
	c.seccomp = cl_sbx_seccomp_native_if_built();
	rc = cl_sbx_rlimits_prepare(&c, spec, err);
	if (rc < 0)
		return rc;

	struct run_fds f = { { -1, -1 }, { -1, -1 }, { -1, -1 }, { -1, -1 }, { -1, -1 }, -1 };
	struct cl_sbx_cgroup cg = { 0 };
	pid_t pid = -1;
	int pidfd = -1;

	c.empty_caps = cap_init();
	if (!c.empty_caps) {
		rc = cl_error_set(err, -ENOMEM, "sandbox: cap_init");
		goto out;
	}
	rc = make_pipe(f.report, true, "report", err);
	if (rc == 0)
		rc = make_channel(f.go, "go", err);
	if (rc == 0 && spec->stdout_fd == CL_SANDBOX_FD_CAPTURE)
		rc = make_pipe(f.out, true, "stdout", err);
	if (rc == 0 && spec->stderr_fd == CL_SANDBOX_FD_CAPTURE)
		rc = make_pipe(f.err, true, "stderr", err);
	if (rc == 0 && !c.seccomp)
		rc = make_channel(f.bpf, "seccomp", err);
	if (rc < 0)
		goto out;
	f.null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (f.null < 0) {
		rc = cl_error_set(err, -errno, "sandbox: open /dev/null: %s", cl_sbx_errstr(errno));
		goto out;
	}
	c.src_fds[0] = stdio_source(spec->stdin_fd, f.null, -1);
	c.src_fds[1] = stdio_source(spec->stdout_fd, f.null, f.out[1]);
	c.src_fds[2] = stdio_source(spec->stderr_fd, f.null, f.err[1]);
	for (size_t i = 0; i < spec->n_pass_fds; i++)
		c.src_fds[3 + i] = spec->pass_fds[i];
	c.n_fds = 3 + (int)spec->n_pass_fds;
	c.report_fd = f.report[1];
	c.go_fd = f.go[0];
	c.bpf_fd = f.bpf[0];

	rc = cl_sbx_cgroup_create(&cg, spec, err);
	if (rc < 0)
		goto out;

	/* Raw clone, fork-like: exit signal 0 keeps the child out of any waitpid(-1) or
	 * SIGCHLD-ignoring reaper of the caller (only __WALL waits see it). The argument
	 * order of the first three is the same on x86_64 and aarch64. */
	const long r = syscall(SYS_clone, cl_sbx_ns_clone_flags() | CLONE_PIDFD, NULL, &pidfd,
			       NULL, 0);
	if (r < 0) {
		const int e = errno;
		rc = cl_error_set(err, -e, "sandbox: clone into new namespaces: %s%s",
				  cl_sbx_errstr(e),
				  e == EPERM || e == ENOSPC || e == EINVAL
					  ? " (are user namespaces enabled? "
					    "user.max_user_namespaces, apparmor/sysctl limits)"
					  : "");
		goto out;
	}
	if (r == 0)
		cl_sbx_child_main(&c); /* never returns */
	pid = (pid_t)r;

	/* The child's ends are its own now. */
	cl_sbx_closep(&f.report[1]);
	cl_sbx_closep(&f.go[0]);
	cl_sbx_closep(&f.out[1]);
	cl_sbx_closep(&f.err[1]);
	cl_sbx_closep(&f.bpf[0]);
	f.report[1] = f.go[0] = f.out[1] = f.err[1] = f.bpf[0] = -1;

	rc = cl_sbx_user_write_maps(pid, spec, c.privileged, err);
	if (rc == 0)
		rc = cl_sbx_cgroup_attach(&cg, pid, err);
	struct cl_error send_err;
	cl_error_clear(&send_err);
	if (rc == 0 && send(f.go[1], "g", 1, MSG_NOSIGNAL) != 1)
		rc = cl_error_set(&send_err, -errno, "sandbox: release the child: %s",
				  cl_sbx_errstr(errno));
	if (rc == 0 && !c.seccomp) {
		const struct sock_fprog *prog = cl_sbx_seccomp_native(err);
		rc = prog ? cl_sbx_seccomp_send(f.bpf[1], prog, &send_err) : err->code;
		cl_sbx_closep(&f.bpf[1]);
		f.bpf[1] = -1;
	}
	if (send_err.code == -EPIPE || send_err.code == -ECONNRESET)
		rc = 0; /* the child failed its setup and exited: its report says why */
	else if (send_err.code < 0)
		cl_error_set(err, send_err.code, "%s", send_err.msg);
	if (rc < 0) {
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR) {
		}
		goto out;
	}

	struct cl_sbx_supervised s = {
		.pid = pid,
		.pidfd = pidfd,
		.report_fd = f.report[0],
		.out.fd = f.out[0],
		.err.fd = f.err[0],
		.timeout_ms = spec->timeout_ms,
		.cgroup = cg.version ? &cg : NULL,
	};
	f.report[0] = f.out[0] = f.err[0] = -1; /* s owns them now */
	rc = cl_sbx_capture_init(&s.out, s.out.fd, spec->stdout_max, &result->out, err);
	if (rc == 0)
		rc = cl_sbx_capture_init(&s.err, s.err.fd, spec->stderr_max, &result->err, err);
	if (rc == 0) {
		rc = cl_sbx_supervise(&s, result, err);
	} else {
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR) {
		}
	}
	cl_sbx_closep(&s.report_fd);
	cl_sbx_closep(&s.out.fd);
	cl_sbx_closep(&s.err.fd);

out:
	if (cg.version) {
		struct cl_error cerr;
		cl_error_clear(&cerr);
		const int crc = cl_sbx_cgroup_destroy(&cg, &cerr);
		if (crc < 0 && rc == 0)
			rc = cl_error_set(err, crc, "%s", cerr.msg);
	}
	cl_sbx_closep(&pidfd);
	close_run_fds(&f);
	if (c.empty_caps)
		cap_free(c.empty_caps);
	if (rc < 0)
		cl_sandbox_result_free(result);
	return rc;
}

void cl_sandbox_result_free(struct cl_sandbox_result *result)
{
	if (!result)
		return;
	free(result->out.data);
	free(result->err.data);
	result->out = (struct cl_sandbox_output){ 0 };
	result->err = (struct cl_sandbox_output){ 0 };
}

const char *cl_sandbox_outcome_name(enum cl_sandbox_outcome outcome)
{
	switch (outcome) {
	case CL_SANDBOX_EXITED: return "exited";
	case CL_SANDBOX_SIGNALED: return "signaled";
	case CL_SANDBOX_OOM: return "oom";
	case CL_SANDBOX_TIMEOUT: return "timeout";
	}
	return "unknown";
}

int cl_sandbox_result_exit_status(const struct cl_sandbox_result *result)
{
	switch (result->outcome) {
	case CL_SANDBOX_EXITED: return result->exit_code;
	case CL_SANDBOX_SIGNALED: return 128 + result->signal;
	case CL_SANDBOX_OOM: return 128 + SIGKILL;
	case CL_SANDBOX_TIMEOUT: return 124;
	}
	return 125;
}
