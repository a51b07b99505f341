/* The supervisor's wait: poll the child's pidfd, its report pipe and the captured output
 * with the time left as timeout; at the deadline kill the pid namespace's init (the kernel
 * then kills the rest of the tree); once it has exited, reap it, drain what is left and
 * turn wait statuses and cgroup counters into a result. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "sandbox_internal.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct reports {
	bool have_status, have_error;
	int status;
	struct cl_sbx_report error;
};

/* Records are written whole (one atomic write each); a read returns whole records. */
static int read_reports(int *fd, struct reports *r)
{
	for (;;) {
		struct cl_sbx_report rec;
		const ssize_t n = read(*fd, &rec, sizeof(rec));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			cl_sbx_closep(fd);
			*fd = -1;
			return 0;
		}
		if (n != (ssize_t)sizeof(rec))
			return -EPROTO;
		if ((rec.kind == CL_SBX_REPORT_ERROR || rec.kind == CL_SBX_REPORT_EXEC_ERROR) &&
		    !r->have_error) {
			r->have_error = true;
			r->error = rec;
			r->error.msg[sizeof(rec.msg) - 1] = '\0';
		} else if (rec.kind == CL_SBX_REPORT_STATUS) {
			r->have_status = true;
			r->status = rec.status;
		}
	}
}

static int pump_capture(struct cl_sbx_capture *c, struct cl_error *err)
{
	const int rc = cl_sbx_capture_read(c, err);
	if (rc == 1) {
		cl_sbx_closep(&c->fd);
		c->fd = -1;
	}
	return rc < 0 ? rc : 0;
}

static void kill_tree(struct cl_sbx_supervised *s)
{
	if (syscall(SYS_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0) < 0)
		kill(s->pid, SIGKILL); /* not yet reaped, so the pid is still ours */
	if (s->cgroup)
		cl_sbx_cgroup_kill(s->cgroup);
}

int cl_sbx_supervise(struct cl_sbx_supervised *s, struct cl_sandbox_result *result,
		     struct cl_error *err)
{
	const uint64_t start = now_ns();
	const uint64_t deadline = s->timeout_ms ? start + (uint64_t)s->timeout_ms * 1000000u : 0;
	struct reports rep = { 0 };
	bool timed_out = false, exited = false;
	int rc = 0;

	while (!exited) {
		struct pollfd p[4] = {
			{ .fd = s->pidfd, .events = POLLIN },
			{ .fd = s->report_fd, .events = POLLIN },
			{ .fd = s->out.fd, .events = POLLIN },
			{ .fd = s->err.fd, .events = POLLIN },
		};
		int wait_ms = -1;
		if (deadline && !timed_out) {
			const uint64_t now = now_ns();
			if (now >= deadline) {
				kill_tree(s);
				timed_out = true;
				continue;
			}
			wait_ms = (int)((deadline - now + 999999) / 1000000);
		}
		const int n = poll(p, 4, wait_ms); /* negative fds are skipped by poll */
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = cl_error_set(err, -errno, "supervise: poll: %s", cl_sbx_errstr(errno));
			kill_tree(s);
			timed_out = false;
			break;
		}
		if (p[1].revents && read_reports(&s->report_fd, &rep) < 0) {
			rc = cl_error_set(err, -EPROTO, "supervise: torn report record");
			kill_tree(s);
			break;
		}
		if (rc == 0 && p[2].revents)
			rc = pump_capture(&s->out, err);
		if (rc == 0 && p[3].revents)
			rc = pump_capture(&s->err, err);
		if (rc < 0) {
			kill_tree(s);
			break;
		}
		if (p[0].revents)
			exited = true;
	}

	int status = 0;
	struct rusage ru;
	memset(&ru, 0, sizeof(ru));
	while (wait4(s->pid, &status, __WALL, &ru) < 0) {
		if (errno != EINTR) {
			if (rc == 0)
				rc = cl_error_set(err, -errno, "supervise: wait for the sandbox "
						  "(pid %d): %s", (int)s->pid, cl_sbx_errstr(errno));
			break;
		}
	}
	result->wall_ns = now_ns() - start;
	if (rc < 0)
		return rc;

	/* Every writer is dead: what is still in the pipes is all there will be. */
	if (s->report_fd >= 0 && read_reports(&s->report_fd, &rep) < 0)
		return cl_error_set(err, -EPROTO, "supervise: torn report record");
	if (s->out.fd >= 0 && (rc = pump_capture(&s->out, err)) < 0)
		return rc;
	if (s->err.fd >= 0 && (rc = pump_capture(&s->err, err)) < 0)
		return rc;

	if (rep.have_error && rep.error.kind == CL_SBX_REPORT_EXEC_ERROR)
		result->exec_errno = rep.error.code < 0 ? -rep.error.code : EIO;
	if (rep.have_error)
		return cl_error_set(err, rep.error.code < 0 ? rep.error.code : -EIO, "%s",
				    rep.error.msg);

	result->user_ns = (uint64_t)ru.ru_utime.tv_sec * 1000000000u +
			  (uint64_t)ru.ru_utime.tv_usec * 1000u;
	result->sys_ns = (uint64_t)ru.ru_stime.tv_sec * 1000000000u +
			 (uint64_t)ru.ru_stime.tv_usec * 1000u;
	result->max_rss_bytes = (uint64_t)ru.ru_maxrss * 1024u;
	if (s->cgroup)
		cl_sbx_cgroup_stats(s->cgroup, result);

	/* Which death was it? A status from init is the program's own end; without one,
	 * init itself was killed (by us, or by the OOM killer). */
	const int sig = rep.have_status && WIFSIGNALED(rep.status) ? WTERMSIG(rep.status)
			: !rep.have_status && WIFSIGNALED(status)   ? WTERMSIG(status)
								    : 0;
	if (timed_out && (!rep.have_status || sig == SIGKILL)) {
		result->outcome = CL_SANDBOX_TIMEOUT;
		result->signal = SIGKILL;
	} else if (result->oom_kills > 0 && sig == SIGKILL) {
		result->outcome = CL_SANDBOX_OOM;
		result->signal = SIGKILL;
	} else if (rep.have_status && WIFEXITED(rep.status)) {
		result->outcome = CL_SANDBOX_EXITED;
		result->exit_code = WEXITSTATUS(rep.status);
	} else if (sig) {
		result->outcome = CL_SANDBOX_SIGNALED;
		result->signal = sig;
	} else {
		return cl_error_set(err, -EIO, "sandbox init ended without reporting the "
				    "program's status (init wait status 0x%x)", (unsigned)status);
	}
	return 0;
}
