/* Which file descriptors enter the sandbox. The first thing the child does: the intended
 * descriptors are moved to 0, 1, 2 (stdio) and 3.. (the caller's pass_fds), the child's own
 * pipes (report, go, seccomp program) to higher numbers with O_CLOEXEC, and every other descriptor the
 * supervisor had open (sockets, directories, other runs' pipes) is closed. */
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "sandbox_internal.h"

void cl_sbx_fds_close_range(unsigned int first, unsigned int last)
{
	if (first > last)
		return;
	if (syscall(SYS_close_range, first, last, 0) == 0)
		return;
	/* Linux < 5.9: one by one, up to the highest descriptor the process can hold. */
	struct rlimit rl;
	unsigned int top = 1u << 20;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
	    rl.rlim_max < top)
		top = (unsigned int)rl.rlim_max;
	if (last >= top)
		last = top - 1;
	for (unsigned int fd = first; fd <= last && fd < top; fd++)
		close((int)fd);
}

int cl_sbx_fds_arrange(struct cl_sbx_child *c, struct cl_error *err)
{
	const int n = c->n_fds;
	int tmp[3 + CL_SANDBOX_MAX_PASS_FDS + 3];

	/* Above every descriptor involved, so no dup lands on a source still needed. */
	int base = n;
	for (int i = 0; i < n; i++)
		if (c->src_fds[i] >= base)
			base = c->src_fds[i] + 1;
	if (c->report_fd >= base)
		base = c->report_fd + 1;
	if (c->go_fd >= base)
		base = c->go_fd + 1;
	if (c->bpf_fd >= base)
		base = c->bpf_fd + 1;

	for (int i = 0; i < n; i++) {
		tmp[i] = fcntl(c->src_fds[i], F_DUPFD_CLOEXEC, base);
		if (tmp[i] < 0)
			return cl_error_set(err, -errno, "descriptors: duplicate fd %d: %s",
					    c->src_fds[i], cl_sbx_errstr(errno));
	}
	const int report = fcntl(c->report_fd, F_DUPFD_CLOEXEC, base);
	const int go = report < 0 ? -1 : fcntl(c->go_fd, F_DUPFD_CLOEXEC, base);
	const int bpf = go < 0 || c->bpf_fd < 0 ? -1 : fcntl(c->bpf_fd, F_DUPFD_CLOEXEC, base);
	if (report < 0 || go < 0 || (c->bpf_fd >= 0 && bpf < 0))
		return cl_error_set(err, -errno, "descriptors: duplicate the child's pipes: %s",
				    cl_sbx_errstr(errno));
	tmp[n] = report;
	tmp[n + 1] = go;
	int nk = n + 2;
	if (bpf >= 0)
		tmp[nk++] = bpf;

	/* Close everything that is not one of the copies: sort them, close the gaps. */
	int keep[3 + CL_SANDBOX_MAX_PASS_FDS + 3];
	for (int i = 0; i < nk; i++) {
		int v = tmp[i], j = i;
		while (j > 0 && keep[j - 1] > v) {
			keep[j] = keep[j - 1];
			j--;
		}
		keep[j] = v;
	}
	unsigned int next = 0;
	for (int i = 0; i < nk; i++) {
		if ((unsigned int)keep[i] > next)
			cl_sbx_fds_close_range(next, (unsigned int)keep[i] - 1);
		next = (unsigned int)keep[i] + 1;
	}
	cl_sbx_fds_close_range(next, ~0u);
	c->report_fd = report;
	c->go_fd = go;
	c->bpf_fd = bpf;

	/* Into place; dup2 clears O_CLOEXEC on the target, so exactly these are inherited. */
	for (int i = 0; i < n; i++) {
		if (dup2(tmp[i], i) < 0)
			return cl_error_set(err, -errno, "descriptors: dup2 to %d: %s", i,
					    cl_sbx_errstr(errno));
		close(tmp[i]);
	}
	return 0;
}
