/* The pid namespace's init: our code as pid 1, never the image's. It starts the program,
 * reaps every process that ends up as its child (orphans are re-parented to it), and when
 * the program ends, reports its exact wait status and exits — at which point the kernel
 * kills whatever is left in the namespace, so no process outlives the program. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "sandbox_internal.h"

/* init is a copy of the supervisor, so /proc/1/cmdline would show the supervisor's command
 * line to the program (environ, fds and exe are closed to it: init is non-dumpable, but
 * cmdline is readable by anyone). init blanks its copy of the argument area once the
 * program is forked (the spec's strings may live there: the program's copy keeps them).
 * The bounds are fields 48 and 49 of /proc/self/stat (Linux >= 3.5), read during setup. */
int cl_sbx_pid_init_find_cmdline(struct cl_sbx_child *c, struct cl_error *err)
{
	char buf[1024];
	cl_cleanup_fd int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cl_error_set(err, -errno, "init: /proc/self/stat: %s", cl_sbx_errstr(errno));
	const ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return cl_error_set(err, -EIO, "init: read /proc/self/stat");
	buf[n] = '\0';
	/* The command name (field 2) may hold spaces and parentheses: count from its end. */
	char *p = strrchr(buf, ')');
	unsigned long long start = 0, end = 0;
	for (int field = 2; p && field < 49; field++) {
		p = strchr(p + 1, ' ');
		if (p && field + 1 == 48)
			start = strtoull(p + 1, NULL, 10);
		if (p && field + 1 == 49)
			end = strtoull(p + 1, NULL, 10);
	}
	if (!p || start == 0 || end <= start || end - start > (1u << 20))
		return cl_error_set(err, -EINVAL, "init: no argument area in /proc/self/stat");
	c->arg_start = (uintptr_t)start;
	c->arg_end = (uintptr_t)end;
	return 0;
}

void cl_sbx_pid_init_run(struct cl_sbx_child *c)
{
	/* The program waits on this pipe until init has blanked its command line. */
	int release[2];
	if (pipe2(release, O_CLOEXEC) < 0) {
		struct cl_error err;
		cl_error_clear(&err);
		cl_error_set(&err, -errno, "init: pipe: %s", cl_sbx_errstr(errno));
		cl_sbx_report_error(c->report_fd, &err);
		_exit(127);
	}
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
	if (program == 0) {
		char b;
		close(release[1]);
		while (read(release[0], &b, 1) < 0 && errno == EINTR) {
		}
		close(release[0]);
		cl_sbx_child_exec(c);
	}
	close(release[0]);
	for (volatile char *a = (volatile char *)c->arg_start; a < (volatile char *)c->arg_end;
	     a++)
		*a = '\0';
	close(release[1]); /* EOF: the program may go */

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
