/* The small namespaces: which ones the sandbox gets at clone(), its hostname (UTS), and the
 * cgroup namespace, entered only once the child sits in its per-run cgroup so that the
 * namespace is rooted there. IPC needs nothing but its clone flag: System V and POSIX
 * message queues, semaphores and shared memory start empty. */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "sandbox_internal.h"

unsigned long cl_sbx_ns_clone_flags(void)
{
	return CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
	       CLONE_NEWUTS;
}

int cl_sbx_ns_enter_cgroup(struct cl_error *err)
{
	if (unshare(CLONE_NEWCGROUP) < 0)
		return cl_error_set(err, -errno, "cgroup namespace: unshare: %s",
				    cl_sbx_errstr(errno));
	return 0;
}

int cl_sbx_ns_set_hostname(const char *name, struct cl_error *err)
{
	if (sethostname(name, strlen(name)) < 0)
		return cl_error_set(err, -errno, "hostname %s: %s", name, cl_sbx_errstr(errno));
	return 0;
}
