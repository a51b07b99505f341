/* cgroup v2 backend: one directory under the parent (the supervisor's own cgroup or the
 * one the caller delegated), controllers enabled in the parent's subtree_control, limits
 * in memory.max / pids.max / cpu.max, OOM kills counted in memory.events. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sandbox_internal.h"

#define CPU_PERIOD_US 100000u

int cl_sbx_cg_v2_create(struct cl_sbx_cgroup *cg, const char *mount, const char *parent,
			const char *name, const struct cl_sandbox_limits *l, struct cl_error *err)
{
	char pdir[PATH_MAX], value[64];
	if ((size_t)snprintf(pdir, sizeof(pdir), "%s/%s", mount, parent) >= sizeof(pdir))
		return cl_error_set(err, -ENAMETOOLONG, "cgroup v2 parent %s", parent);

	/* Enable what is needed for the children of the parent. The kernel refuses
	 * (EBUSY) while processes live in the parent itself ("no internal processes"). */
	for (int i = 0; i < CL_SBX_CG_N; i++) {
		if (!cg->need[i])
			continue;
		snprintf(value, sizeof(value), "+%s", cl_sbx_cg_controller_names[i]);
		const int rc = cl_sbx_cg_write(pdir, "cgroup.subtree_control", value, err);
		if (rc == -EBUSY)
			return cl_error_set(err, rc, "cgroup v2: cannot enable %s below %s while "
					    "processes live in it: run the supervisor in a leaf "
					    "cgroup and pass its parent as cgroup_parent",
					    cl_sbx_cg_controller_names[i], pdir);
		if (rc < 0)
			return rc;
	}

	char *dir = NULL;
	if (asprintf(&dir, "%s/%s", pdir, name) < 0)
		return cl_error_set(err, -ENOMEM, "cgroup v2 path");
	if (mkdir(dir, 0755) < 0) {
		const int e = errno;
		cl_error_set(err, -e, "cgroup v2: create %s: %s%s", dir, cl_sbx_errstr(e),
			     e == EACCES || e == EPERM || e == EROFS
				     ? " (limits need root or a delegated cgroup)" : "");
		free(dir);
		return -e;
	}
	cg->dir[0] = dir;

	int rc = 0;
	if (l->memory_bytes) {
		snprintf(value, sizeof(value), "%llu", (unsigned long long)l->memory_bytes);
		rc = cl_sbx_cg_write(dir, "memory.max", value, err);
		/* Swap would let the tree grow past its limit; absent without swap support. */
		struct cl_error ignored;
		cl_error_clear(&ignored);
		if (rc == 0)
			cl_sbx_cg_write(dir, "memory.swap.max", "0", &ignored);
	}
	if (rc == 0 && l->pids) {
		snprintf(value, sizeof(value), "%u", l->pids);
		rc = cl_sbx_cg_write(dir, "pids.max", value, err);
	}
	if (rc == 0 && l->cpu_millicores) {
		uint64_t quota = (uint64_t)l->cpu_millicores * CPU_PERIOD_US / 1000;
		if (quota < 1000)
			quota = 1000; /* the kernel's minimum quota is 1 ms */
		snprintf(value, sizeof(value), "%llu %u", (unsigned long long)quota,
			 CPU_PERIOD_US);
		rc = cl_sbx_cg_write(dir, "cpu.max", value, err);
	}
	return rc;
}

void cl_sbx_cg_v2_stats(const struct cl_sbx_cgroup *cg, struct cl_sandbox_result *r)
{
	const char *dir = cg->dir[0];
	uint64_t v;
	if (cg->need[CL_SBX_CG_MEMORY]) {
		if (cl_sbx_cg_read_key(dir, "memory.events", "oom_kill", &v) == 0)
			r->oom_kills = v;
		if (cl_sbx_cg_read_u64(dir, "memory.peak", &v) == 0) /* Linux >= 5.19 */
			r->memory_peak_bytes = v;
	}
	if (cg->need[CL_SBX_CG_CPU] && cl_sbx_cg_read_key(dir, "cpu.stat", "nr_throttled", &v) == 0)
		r->cpu_throttled = v;
}
