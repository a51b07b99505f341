/* Resource limits of the sandbox: defaults (no core dumps, 1024 descriptors, 1 GiB files)
 * and the caller's overrides, computed by the supervisor and set by the child. A hard
 * limit cannot be raised from inside a user namespace: asking for more than the
 * supervisor's own hard limit is an error. */
#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>

#include "sandbox_internal.h"

static const struct {
	int resource;
	rlim_t value; /* soft = hard */
} defaults[] = {
	{ RLIMIT_CORE, 0 },
	{ RLIMIT_NOFILE, 1024 },
	{ RLIMIT_FSIZE, (rlim_t)1 << 30 },
};

static const char *rlimit_name(int r)
{
	static const char *const names[RLIM_NLIMITS] = {
		[RLIMIT_CPU] = "CPU", [RLIMIT_FSIZE] = "FSIZE", [RLIMIT_DATA] = "DATA",
		[RLIMIT_STACK] = "STACK", [RLIMIT_CORE] = "CORE", [RLIMIT_RSS] = "RSS",
		[RLIMIT_NPROC] = "NPROC", [RLIMIT_NOFILE] = "NOFILE",
		[RLIMIT_MEMLOCK] = "MEMLOCK", [RLIMIT_AS] = "AS", [RLIMIT_LOCKS] = "LOCKS",
		[RLIMIT_SIGPENDING] = "SIGPENDING", [RLIMIT_MSGQUEUE] = "MSGQUEUE",
		[RLIMIT_NICE] = "NICE", [RLIMIT_RTPRIO] = "RTPRIO", [RLIMIT_RTTIME] = "RTTIME",
	};
	return r >= 0 && r < RLIM_NLIMITS && names[r] ? names[r] : "?";
}

static rlim_t to_rlim(uint64_t v)
{
	return v == UINT64_MAX ? RLIM_INFINITY : (rlim_t)v;
}

int cl_sbx_rlimits_prepare(struct cl_sbx_child *c, const struct cl_sandbox_spec *spec,
			   struct cl_error *err)
{
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		struct rlimit cur;
		const int r = defaults[i].resource;
		if (getrlimit(r, &cur) < 0)
			return cl_error_set(err, -errno, "rlimit %s: %s", rlimit_name(r),
					    cl_sbx_errstr(errno));
		/* A default never exceeds what the supervisor has. */
		rlim_t v = defaults[i].value;
		if (cur.rlim_max != RLIM_INFINITY && v > cur.rlim_max)
			v = cur.rlim_max;
		c->rlim[r] = (struct rlimit){ v, v };
		c->rlim_set[r] = true;
	}
	for (size_t i = 0; i < spec->n_rlimits; i++) {
		const struct cl_sandbox_rlimit *l = &spec->rlimits[i];
		if (l->resource < 0 || l->resource >= RLIM_NLIMITS)
			return cl_error_set(err, -EINVAL, "rlimit %d: no such resource",
					    l->resource);
		const rlim_t soft = to_rlim(l->soft), hard = to_rlim(l->hard);
		if (hard != RLIM_INFINITY && (soft == RLIM_INFINITY || soft > hard))
			return cl_error_set(err, -EINVAL, "rlimit %s: soft limit above the hard "
					    "limit", rlimit_name(l->resource));
		c->rlim[l->resource] = (struct rlimit){ soft, hard };
		c->rlim_set[l->resource] = true;
	}
	return 0;
}

int cl_sbx_rlimits_apply(const struct cl_sbx_child *c, struct cl_error *err)
{
	for (int r = 0; r < RLIM_NLIMITS; r++) {
		if (!c->rlim_set[r])
			continue;
		if (setrlimit(r, &c->rlim[r]) < 0) {
			const int e = errno;
			if (e == EPERM)
				return cl_error_set(err, -e, "rlimit %s: the hard limit cannot be "
						    "raised above the supervisor's", rlimit_name(r));
			return cl_error_set(err, -e, "rlimit %s: %s", rlimit_name(r),
					    cl_sbx_errstr(e));
		}
	}
	return 0;
}
