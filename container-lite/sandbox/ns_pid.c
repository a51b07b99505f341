/* The pid namespace's init: our code as pid 1, never the image's. It starts the program,
 * reaps every process that ends up as its child (orphans are re-parented to it), and when
 * the program ends, reports its exact wait status and exits — at which point the kernel
 * kills whatever is left in the namespace, so no process outlives the program. */
#include <errno.h>
#include <string.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "sandbox_internal.h"

void cl_sbx_pid_init_run(struct cl_sbx_child *c)
{
	/* Not glibc's fork(): it takes the malloc and stdio locks, which another thread of
	 * the supervisor may have held when this process was cloned from it. */
	const pid_t program = (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, 0);
	if (program < 0) {
		struct cl_error err;
		cl_error_clear(&err);
		cl_error_set(&err, -errno, "init: fork the program: %s", cl_sbx_errstr(errno));
		cl_sbx_report_error(c->report_fd, &err);
		_exit(127);
	}
	if (program == 0)
		cl_sbx_child_exec(c);

	/* init keeps nothing of the program's: its stdio and passed fds belong to the tree. */
	cl_sbx_fds_close_range(0, (unsigned int)c->n_fds - 1);
	close(c->go_fd);

	int status = 0;
	for (;;) {
		int st;
		const pid_t p = waitpid(-1, &st, __WALL);
		if (p == program) {
			status = st;
			break;
		}
		if (p < 0 && errno != EINTR)
			_exit(126); /* ECHILD cannot happen while the program is ours */
	}
	struct cl_sbx_report r;
	memset(&r, 0, sizeof(r));
	r.kind = CL_SBX_REPORT_STATUS;
	r.status = status;
	if (write(c->report_fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(125);
	_exit(0);
}
