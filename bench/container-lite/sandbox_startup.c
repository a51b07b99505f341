/* In-process startup benchmark of the sandbox: call to return of cl_sandbox_run() for
 * /bin/true, in one long-lived process as insitu-fw runs it (cl_sandbox_prepare() before
 * the first run). Prints median, mean and minimum in ms.
 *   cl-bench-sandbox-startup ROOTFS [RUNS] [--limits]   (run by sandbox_startup.sh) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "container-lite/sandbox.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	const double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s ROOTFS [RUNS] [--limits]\n", argv[0]);
		return 2;
	}
	const int runs = argc > 2 ? atoi(argv[2]) : 300;
	const int warmup = 20;
	if (runs < 1 || runs > 100000) {
		fprintf(stderr, "RUNS out of range\n");
		return 2;
	}
	struct cl_error err;
	cl_error_clear(&err);
	if (cl_sandbox_prepare(&err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	static const char *const args[] = { "/bin/true", NULL };
	struct cl_sandbox_spec spec;
	cl_sandbox_spec_init(&spec);
	spec.rootfs = argv[1];
	spec.argv = args;
	spec.stdout_fd = spec.stderr_fd = CL_SANDBOX_FD_NULL;
	if (argc > 3 && strcmp(argv[3], "--limits") == 0) {
		spec.limits.memory_bytes = 256u << 20;
		spec.limits.pids = 1024;
	}
	double *ms = calloc((size_t)runs, sizeof(double));
	if (!ms)
		return 1;
	for (int i = -warmup; i < runs; i++) {
		struct cl_sandbox_result res;
		const double t0 = now_ms();
		if (cl_sandbox_run(&spec, &res, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			free(ms);
			return 1;
		}
		const double t = now_ms() - t0;
		if (res.outcome != CL_SANDBOX_EXITED || res.exit_code != 0) {
			fprintf(stderr, "/bin/true ended %s %d\n", cl_sandbox_outcome_name(res.outcome),
				res.exit_code);
			free(ms);
			return 1;
		}
		cl_sandbox_result_free(&res);
		if (i >= 0)
			ms[i] = t;
	}
	double sum = 0;
	for (int i = 0; i < runs; i++)
		sum += ms[i];
	qsort(ms, (size_t)runs, sizeof(double), cmp_double);
	const double median = runs % 2 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2;
	printf("median_ms=%.3f mean_ms=%.3f min_ms=%.3f runs=%d\n", median, sum / runs, ms[0],
	       runs);
	free(ms);
	return 0;
}
