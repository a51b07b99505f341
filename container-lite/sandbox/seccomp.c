/* The seccomp program a run loads, and loading it. Normally the build compiled the policy
 * (seccomp_policy.c) into BPF for every supported architecture and the library holds the
 * programs (seccomp_programs.c, written by seccomp_gen.c): a run takes the one of the
 * architecture this code was compiled for and never calls libseccomp. A build that could
 * not run the generator (CL_SBX_SECCOMP_EMBEDDED 0: a cross build without an emulator)
 * compiles the program with libseccomp once per process instead. See DESIGN.md. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "sandbox_internal.h"

#ifndef CL_SBX_SECCOMP_EMBEDDED
#error "CL_SBX_SECCOMP_EMBEDDED must be 0 or 1 (set by container-lite/sandbox/CMakeLists.txt)"
#endif
#if !CL_SBX_SECCOMP_EMBEDDED
#include <pthread.h>
#include <seccomp.h>
#include <stdatomic.h>
#endif

/* The ABI this code runs in: the program that judges its system calls. */
#if defined(__x86_64__) && !defined(__ILP32__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__) && !defined(__ILP32__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#define NATIVE_AUDIT_ARCH 0u /* no program: runs fail with ENOTSUP */
#endif

#if CL_SBX_SECCOMP_EMBEDDED

static const struct sock_fprog *embedded_native(void)
{
	for (const struct cl_sbx_seccomp_program *p = cl_sbx_seccomp_programs; p->arch_name; p++)
		if (p->audit_arch == NATIVE_AUDIT_ARCH)
			return &p->prog;
	return NULL;
}

const struct sock_fprog *cl_sbx_seccomp_native_if_built(void)
{
	return embedded_native();
}

const struct sock_fprog *cl_sbx_seccomp_native(struct cl_error *err)
{
	const struct sock_fprog *prog = embedded_native();
	if (!prog)
		cl_error_set(err, -ENOTSUP, "seccomp: this architecture is not supported (the "
			     "policy is written for x86_64 and aarch64)");
	return prog;
}

#else /* the program compiled at run time */

/* The native program, built once and kept for the life of the process. */
static pthread_once_t native_once = PTHREAD_ONCE_INIT;
static struct cl_sbx_bpf native_bpf;
static struct cl_error native_err;
static atomic_bool native_built;

static void build_native(void)
{
	if (cl_sbx_seccomp_build(seccomp_arch_native(), &native_bpf, &native_err) == 0)
		atomic_store_explicit(&native_built, true, memory_order_release);
}

/* The cached program, or NULL when it has not been compiled yet (never compiles). */
const struct sock_fprog *cl_sbx_seccomp_native_if_built(void)
{
	return atomic_load_explicit(&native_built, memory_order_acquire) ? &native_bpf.prog
									 : NULL;
}

const struct sock_fprog *cl_sbx_seccomp_native(struct cl_error *err)
{
	pthread_once(&native_once, build_native);
	if (native_err.code < 0) {
		cl_error_set(err, native_err.code, "%s", native_err.msg);
		return NULL;
	}
	return &native_bpf.prog;
}

#endif

/* When the process has no program yet (only in a build that compiles it at run time), the
 * first run compiles it after clone(), while the child sets up its namespaces, and sends it
 * over a socket: length, then the instructions. */
int cl_sbx_seccomp_send(int fd, const struct sock_fprog *prog, struct cl_error *err)
{
	const uint16_t len = prog->len;
	if (send(fd, &len, sizeof(len), MSG_NOSIGNAL) != (ssize_t)sizeof(len))
		return cl_error_set(err, -errno, "seccomp: send the program: %s",
				    cl_sbx_errstr(errno));
	const size_t bytes = len * sizeof(struct sock_filter);
	for (size_t done = 0; done < bytes;) {
		const ssize_t n = send(fd, (const char *)prog->filter + done, bytes - done,
				       MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return cl_error_set(err, -errno, "seccomp: send the program: %s",
					    cl_sbx_errstr(errno));
		done += (size_t)n;
	}
	return 0;
}

/* In the child, which must not allocate: a static buffer, private to the child's copy. */
static struct sock_filter received[BPF_MAXINSNS];

int cl_sbx_seccomp_receive(int fd, struct sock_fprog *prog, struct cl_error *err)
{
	uint16_t len = 0;
	size_t bytes = sizeof(len), done = 0;
	char *dst = (char *)&len;
	for (int part = 0; part < 2; part++) {
		while (done < bytes) {
			const ssize_t n = read(fd, dst + done, bytes - done);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return cl_error_set(err, n < 0 ? -errno : -EPIPE,
						    "seccomp: the supervisor sent no program");
			done += (size_t)n;
		}
		if (part == 0) {
			if (len == 0 || len > BPF_MAXINSNS)
				return cl_error_set(err, -EINVAL, "seccomp: program of %u "
						    "instructions", len);
			dst = (char *)received;
			bytes = len * sizeof(struct sock_filter);
			done = 0;
		}
	}
	prog->len = len;
	prog->filter = received;
	return 0;
}

/* Runs in the sandbox's init, after every other step: no-new-privs, then the filter. */
int cl_sbx_seccomp_load(const struct sock_fprog *prog, struct cl_error *err)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return cl_error_set(err, -errno, "prctl(PR_SET_NO_NEW_PRIVS): %s",
				    cl_sbx_errstr(errno));
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog) < 0)
		return cl_error_set(err, -errno, "seccomp(SET_MODE_FILTER): %s", cl_sbx_errstr(errno));
	return 0;
}
