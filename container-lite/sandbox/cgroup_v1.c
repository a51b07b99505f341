/* cgroup v1 backend, for kernels whose controllers are bound to v1 hierarchies: one
 * directory per needed controller under /sys/fs/cgroup/<controller>, below the supervisor's
 * own cgroup there; limits in memory.limit_in_bytes (+memsw), pids.max and the CFS quota;
 * OOM kills counted in memory.oom_control. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sandbox_internal.h"

#define CPU_PERIOD_US 100000u

static int make_dir(struct cl_sbx_cgroup *cg, int ctrl, const char *parent_override,
		    const char *name, struct cl_error *err)
{
	const char *cname = cl_sbx_cg_controller_names[ctrl];
	char own[PATH_MAX];
	const char *parent = parent_override;
	if (!parent) {
		const int rc = cl_sbx_cg_own_path(1, cname, own, sizeof(own), err);
		if (rc < 0)
			return rc;
		parent = own;
	}
	char *dir = NULL;
	if (asprintf(&dir, "/sys/fs/cgroup/%s/%s/%s", cname, parent, name) < 0)
		return cl_error_set(err, -ENOMEM, "cgroup v1 path");
	if (mkdir(dir, 0755) < 0) {
		const int e = errno;
		cl_error_set(err, -e, "cgroup v1: create %s: %s%s", dir, cl_sbx_errstr(e),
			     e == EACCES || e == EPERM || e == EROFS
				     ? " (limits need root or a delegated cgroup)" : "");
		free(dir);
		return -e;
	}
	cg->dir[ctrl] = dir;
	return 0;
}

int cl_sbx_cg_v1_create(struct cl_sbx_cgroup *cg, const char *parent_override,
			const char *name, const struct cl_sandbox_limits *l, struct cl_error *err)
{
	char value[32];
	int rc;
	if (cg->need[CL_SBX_CG_MEMORY]) {
		rc = make_dir(cg, CL_SBX_CG_MEMORY, parent_override, name, err);
		if (rc < 0)
			return rc;
		snprintf(value, sizeof(value), "%llu", (unsigned long long)l->memory_bytes);
		rc = cl_sbx_cg_write(cg->dir[CL_SBX_CG_MEMORY], "memory.limit_in_bytes", value,
				     err);
		if (rc < 0)
			return rc;
		/* memory+swap: absent when swap accounting is off, then swap is not limited
		 * (documented in SECURITY.md). */
		struct cl_error ignored;
		cl_error_clear(&ignored);
		cl_sbx_cg_write(cg->dir[CL_SBX_CG_MEMORY], "memory.memsw.limit_in_bytes", value,
				&ignored);
	}
	if (cg->need[CL_SBX_CG_PIDS]) {
		rc = make_dir(cg, CL_SBX_CG_PIDS, parent_override, name, err);
		if (rc < 0)
			return rc;
		snprintf(value, sizeof(value), "%u", l->pids);
		rc = cl_sbx_cg_write(cg->dir[CL_SBX_CG_PIDS], "pids.max", value, err);
		if (rc < 0)
			return rc;
	}
	if (cg->need[CL_SBX_CG_CPU]) {
		rc = make_dir(cg, CL_SBX_CG_CPU, parent_override, name, err);
		if (rc < 0)
			return rc;
		uint64_t quota = (uint64_t)l->cpu_millicores * CPU_PERIOD_US / 1000;
		if (quota < 1000)
			quota = 1000; /* the kernel's minimum quota is 1 ms */
		snprintf(value, sizeof(value), "%u", CPU_PERIOD_US);
		rc = cl_sbx_cg_write(cg->dir[CL_SBX_CG_CPU], "cpu.cfs_period_us", value, err);
		if (rc < 0)
			return rc;
		snprintf(value, sizeof(value), "%llu", (unsigned long long)quota);
		rc = cl_sbx_cg_write(cg->dir[CL_SBX_CG_CPU], "cpu.cfs_quota_us", value, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void cl_sbx_cg_v1_stats(const struct cl_sbx_cgroup *cg, struct cl_sandbox_result *r)
{
	uint64_t v;
	const char *mem = cg->dir[CL_SBX_CG_MEMORY], *cpu = cg->dir[CL_SBX_CG_CPU];
	if (mem) {
		if (cl_sbx_cg_read_key(mem, "memory.oom_control", "oom_kill", &v) == 0)
			r->oom_kills = v;
		if (cl_sbx_cg_read_u64(mem, "memory.max_usage_in_bytes", &v) == 0)
			r->memory_peak_bytes = v;
	}
	if (cpu && cl_sbx_cg_read_key(cpu, "cpu.stat", "nr_throttled", &v) == 0)
		r->cpu_throttled = v;
}
