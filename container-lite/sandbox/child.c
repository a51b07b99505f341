/* The sandbox's side of a run, top to bottom: what the child of clone() does inside its new
 * namespaces before the program starts. It runs in a fork-like copy of a possibly
 * multi-threaded supervisor, so it does not allocate: everything it uses was prepared before
 * clone(), and errors go back as one fixed-size record on the report pipe. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "sandbox_internal.h"

static void report(int fd, enum cl_sbx_report_kind kind, const struct cl_error *err)
{
	struct cl_sbx_report r;
	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.code = err->code < 0 ? err->code : -EIO;
	memcpy(r.msg, err->msg, sizeof(r.msg));
	r.msg[sizeof(r.msg) - 1] = '\0';
	if (write(fd, &r, sizeof(r)) != (ssize_t)sizeof(r)) {
		/* The supervisor is gone; nobody is left to tell. */
	}
}

void cl_sbx_report_error(int fd, const struct cl_error *err)
{
	report(fd, CL_SBX_REPORT_ERROR, err);
}

void cl_sbx_report_exec_error(int fd, const struct cl_error *err)
{
	report(fd, CL_SBX_REPORT_EXEC_ERROR, err);
}

/* A daemon's handlers, ignored signals (SIGPIPE!) and blocked mask must not leak into the
 * program: exec keeps SIG_IGN and the mask. */
static void reset_signals(void)
{
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &dfl, NULL); /* libc-reserved ones fail: fine */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void wait_for_go(const struct cl_sbx_child *c)
{
	char go;
	for (;;) {
		const ssize_t n = read(c->go_fd, &go, 1);
		if (n == 1)
			return;
		if (n < 0 && errno == EINTR)
			continue;
		_exit(1); /* the supervisor gave up (error, or it died): nothing to report to */
	}
}

/* The parent-death signal is cleared by credential changes; set it again and check the
 * supervisor did not die in between (its end of the go channel would have hung up). */
static void watch_supervisor(const struct cl_sbx_child *c)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	struct pollfd p = { .fd = c->go_fd, .events = POLLIN };
	if (poll(&p, 1, 0) != 0)
		_exit(1);
}

static int setup(struct cl_sbx_child *c, struct cl_error *err)
{
	const struct cl_sandbox_spec *spec = c->spec;
	int rc;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	reset_signals();
	rc = cl_sbx_fds_arrange(c, err);
	if (rc < 0)
		return rc;
	wait_for_go(c); /* maps written, cgroup joined */

	rc = cl_sbx_ns_enter_cgroup(err);
	if (rc == 0)
		rc = cl_sbx_pid_init_find_cmdline(c, err);
	if (rc < 0)
		return rc;

	struct cl_sbx_mounts m;
	cl_sbx_mounts_init(&m);
	rc = cl_sbx_mount_prepare(&m, spec, err);
	if (rc == 0)
		rc = cl_sbx_user_fs_ids(spec, err);
	if (rc == 0)
		rc = cl_sbx_mount_populate(&m, spec, err);
	if (rc == 0)
		rc = cl_sbx_mount_switch_root(&m, spec, err);
	cl_sbx_mounts_close(&m); /* no fd to a host path survives */
	if (rc < 0)
		return rc;

	rc = cl_sbx_ns_set_hostname(spec->hostname, err);
	if (rc == 0)
		rc = cl_sbx_net_loopback_up(err);
	if (rc == 0)
		rc = cl_sbx_rlimits_apply(c, err);
	if (rc == 0)
		rc = cl_sbx_caps_lock_and_drop_bounding(err);
	if (rc == 0)
		rc = cl_sbx_user_switch(spec, c->privileged, err);
	if (rc == 0)
		rc = cl_sbx_caps_clear(c->empty_caps, err);
	if (rc < 0)
		return rc;
	watch_supervisor(c);

	if (chdir(spec->cwd) < 0)
		return cl_error_set(err, -errno, "working directory %s: %s", spec->cwd,
				    cl_sbx_errstr(errno));
	if (setsid() < 0)
		return cl_error_set(err, -errno, "setsid: %s", cl_sbx_errstr(errno));
	/* The program runs as the same uid as init: non-dumpable keeps it from ptrace-ing or
	 * reading the memory of init, whose own filter it would otherwise escape through. */
	if (prctl(PR_SET_DUMPABLE, 0) < 0)
		return cl_error_set(err, -errno, "prctl(PR_SET_DUMPABLE): %s",
				    cl_sbx_errstr(errno));
	/* Last: after this only init's clone, the program's execve, and init's wait4, write
	 * and exit are left to do. */
	const struct sock_fprog *prog = c->seccomp;
	struct sock_fprog received;
	if (!prog) {
		rc = cl_sbx_seccomp_receive(c->bpf_fd, &received, err);
		close(c->bpf_fd);
		if (rc < 0)
			return rc;
		prog = &received;
	}
	return cl_sbx_seccomp_load(prog, err);
}

void cl_sbx_child_main(struct cl_sbx_child *c)
{
	struct cl_error err;
	cl_error_clear(&err);
	if (setup(c, &err) < 0) {
		cl_sbx_report_error(c->report_fd, &err);
		_exit(127);
	}
	cl_sbx_pid_init_run(c);
}

static const char *env_lookup(const char *const *env, const char *name)
{
	const size_t len = strlen(name);
	for (; env && *env; env++)
		if (strncmp(*env, name, len) == 0 && (*env)[len] == '=')
			return *env + len + 1;
	return NULL;
}

/* execve, searching PATH of the sandbox's own environment (execvpe would use the
 * supervisor's). Reports why it failed; never returns. */
void cl_sbx_child_exec(const struct cl_sbx_child *c)
{
	static const char *const no_env[] = { NULL };
	const char *const *argv = c->spec->argv;
	const char *const *envp = c->spec->env ? c->spec->env : no_env;
	const char *file = argv[0];
	struct cl_error err;
	cl_error_clear(&err);

	if (strchr(file, '/')) {
		execve(file, (char *const *)argv, (char *const *)envp);
		cl_error_set(&err, -errno, "execve %s: %s", file, cl_sbx_errstr(errno));
	} else {
		const char *path = env_lookup(envp, "PATH");
		if (!path)
			path = CL_SBX_DEFAULT_PATH;
		int saved = ENOENT;
		for (const char *p = path; *p || p == path;) {
			const size_t seglen = strcspn(p, ":");
			char full[PATH_MAX];
			const int n = snprintf(full, sizeof(full), "%.*s%s%s", (int)seglen, p,
					       seglen ? "/" : "", file);
			if (n > 0 && (size_t)n < sizeof(full)) {
				execve(full, (char *const *)argv, (char *const *)envp);
				if (errno == EACCES)
					saved = EACCES;
				else if (errno != ENOENT && errno != ENOTDIR) {
					saved = errno;
					break;
				}
			}
			p += seglen;
			if (*p != ':')
				break;
			p++;
		}
		cl_error_set(&err, -saved, "execve %s (searched PATH=%s): %s", file, path,
			     cl_sbx_errstr(saved));
	}
	cl_sbx_report_exec_error(c->report_fd, &err);
	_exit(127);
}
