/* The seccomp policy, judged instruction by instruction: the BPF programs for x86_64 and
 * aarch64 the sandbox carries (embedded at build time, or compiled at run time in a build
 * without them) are run through a small classic-BPF interpreter over hand-made
 * seccomp_data, so the aarch64 filter is checked on any host. Asserts that each embedded
 * program is byte for byte a fresh libseccomp build of the policy (a policy edit cannot
 * leave a stale filter), the exact action for every name of the policy tables, the argument
 * filters (clone, socket, personality), the foreign-ABI kill, that other architectures are
 * refused, and which program a run loads. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/socket.h>

#include "sandbox_internal.h"

#ifndef CL_SBX_SECCOMP_EMBEDDED
#error "CL_SBX_SECCOMP_EMBEDDED comes with the sandbox library it links (0 or 1)"
#endif

static int failures;
#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		if (!(cond)) {                                                  \
			failures++;                                             \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);    \
			fprintf(stderr, __VA_ARGS__);                           \
			fputc('\n', stderr);                                    \
		}                                                               \
	} while (0)

#define RET_ERRNO(e) (SECCOMP_RET_ERRNO | (e))
#define RET_BAD 0xdeadbeefu /* the interpreter met an instruction it does not know */

/* Classic BPF as the kernel runs it for seccomp (the subset libseccomp emits). */
static uint32_t run_bpf(const struct sock_fprog *prog, const struct seccomp_data *d)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
	const unsigned char *data = (const unsigned char *)d;
	for (unsigned pc = 0; pc < prog->len; pc++) {
		const struct sock_filter *i = &prog->filter[pc];
		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (i->k + 4 > sizeof(*d))
				return RET_BAD;
			memcpy(&a, data + i->k, 4);
			break;
		case BPF_LD | BPF_MEM: a = mem[i->k % BPF_MEMWORDS]; break;
		case BPF_LDX | BPF_MEM: x = mem[i->k % BPF_MEMWORDS]; break;
		case BPF_ST: mem[i->k % BPF_MEMWORDS] = a; break;
		case BPF_STX: mem[i->k % BPF_MEMWORDS] = x; break;
		case BPF_LD | BPF_IMM: a = i->k; break;
		case BPF_ALU | BPF_AND | BPF_K: a &= i->k; break;
		case BPF_ALU | BPF_OR | BPF_K: a |= i->k; break;
		case BPF_MISC | BPF_TAX: x = a; break;
		case BPF_MISC | BPF_TXA: a = x; break;
		case BPF_JMP | BPF_JA: pc += i->k; break;
		case BPF_JMP | BPF_JEQ | BPF_K: pc += a == i->k ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JGT | BPF_K: pc += a > i->k ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JGE | BPF_K: pc += a >= i->k ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JSET | BPF_K: pc += (a & i->k) ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JEQ | BPF_X: pc += a == x ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JGT | BPF_X: pc += a > x ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JGE | BPF_X: pc += a >= x ? i->jt : i->jf; break;
		case BPF_RET | BPF_K: return i->k;
		case BPF_RET | BPF_A: return a;
		default: return RET_BAD;
		}
	}
	return RET_BAD; /* fell off the end: the kernel rejects such a program */
}

struct arch {
	uint32_t scmp, audit, foreign_audit;
	const char *name;
	const struct sock_fprog *prog; /* the program judged */
};

static uint32_t decide(const struct arch *ar, uint32_t audit, int nr, uint64_t a0)
{
	struct seccomp_data d;
	memset(&d, 0, sizeof(d));
	d.nr = nr;
	d.arch = audit;
	d.args[0] = a0;
	return run_bpf(ar->prog, &d);
}

static int nr_of(const struct arch *ar, const char *name)
{
	return seccomp_syscall_resolve_name_arch(ar->scmp, name);
}

static void check_call(const struct arch *ar, const char *name, uint64_t a0, uint32_t want)
{
	const int nr = nr_of(ar, name);
	CHECK(nr >= 0, "%s: %s has no number", ar->name, name);
	if (nr < 0)
		return;
	const uint32_t got = decide(ar, ar->audit, nr, a0);
	CHECK(got == want, "%s: %s(0x%llx): action 0x%x, expected 0x%x", ar->name, name,
	      (unsigned long long)a0, got, want);
}

static void check_arch(const struct arch *ar)
{
	/* Every name of the tables, on the architectures that have it. */
	int allowed = 0, denied = 0;
	for (const char *const *n = cl_sbx_seccomp_allowed; *n; n++) {
		const int nr = nr_of(ar, *n);
		if (nr < 0)
			continue;
		const uint32_t got = decide(ar, ar->audit, nr, 0);
		CHECK(got == SECCOMP_RET_ALLOW, "%s: allowed %s -> 0x%x", ar->name, *n, got);
		allowed++;
	}
	for (const char *const *n = cl_sbx_seccomp_denied; *n; n++) {
		const int nr = nr_of(ar, *n);
		if (nr < 0)
			continue;
		const uint32_t got = decide(ar, ar->audit, nr, 0);
		CHECK(got == RET_ERRNO(EPERM), "%s: denied %s -> 0x%x", ar->name, *n, got);
		denied++;
	}
	printf("%s: %u instructions, %d allowed and %d denied names checked\n", ar->name,
	       ar->prog->len, allowed, denied);

	/* Named checks of the brief, argument filters, defaults. */
	check_call(ar, "io_uring_setup", 0, RET_ERRNO(EPERM));
	check_call(ar, "io_uring_enter", 0, RET_ERRNO(EPERM));
	check_call(ar, "io_uring_register", 0, RET_ERRNO(EPERM));
	check_call(ar, "keyctl", 0, RET_ERRNO(EPERM));
	check_call(ar, "bpf", 0, RET_ERRNO(EPERM));
	check_call(ar, "ptrace", 0, RET_ERRNO(EPERM));
	check_call(ar, "mount", 0, RET_ERRNO(EPERM));
	check_call(ar, "unshare", CLONE_NEWUSER, RET_ERRNO(EPERM));
	check_call(ar, "setns", 0, RET_ERRNO(EPERM));
	check_call(ar, "clone3", 0, RET_ERRNO(ENOSYS));
	check_call(ar, "get_mempolicy", 0, RET_ERRNO(ENOSYS)); /* not in the policy */
	check_call(ar, "read", 0, SECCOMP_RET_ALLOW);
	check_call(ar, "clone", SIGCHLD, SECCOMP_RET_ALLOW);
	check_call(ar, "clone", CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
				 CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |
				 CLONE_CHILD_CLEARTID,
		   SECCOMP_RET_ALLOW);
	const uint64_t ns[] = { CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
				CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET };
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		check_call(ar, "clone", ns[i] | SIGCHLD, RET_ERRNO(EPERM));
	check_call(ar, "clone", CLONE_NEWUSER | CLONE_NEWNET | SIGCHLD, RET_ERRNO(EPERM));
	check_call(ar, "socket", AF_INET, SECCOMP_RET_ALLOW);
	check_call(ar, "socket", AF_INET6, SECCOMP_RET_ALLOW);
	check_call(ar, "socket", AF_UNIX, SECCOMP_RET_ALLOW);
	check_call(ar, "socket", AF_NETLINK, SECCOMP_RET_ALLOW);
	check_call(ar, "socket", 39, SECCOMP_RET_ALLOW);
	check_call(ar, "socket", 41, SECCOMP_RET_ALLOW);
	check_call(ar, "socket", 63, SECCOMP_RET_ALLOW);
	check_call(ar, "socket", AF_ALG, RET_ERRNO(EPERM));
	check_call(ar, "socket", AF_VSOCK, RET_ERRNO(EPERM));
	check_call(ar, "socket", 0x100000000ull | AF_ALG, RET_ERRNO(EPERM));
	check_call(ar, "socket", 0x100000000ull | AF_INET, RET_ERRNO(ENOSYS));
	check_call(ar, "socket", 64, RET_ERRNO(ENOSYS));
	check_call(ar, "personality", 0, SECCOMP_RET_ALLOW);
	check_call(ar, "personality", PER_LINUX32, SECCOMP_RET_ALLOW);
	check_call(ar, "personality", 0xffffffffu, SECCOMP_RET_ALLOW);
	check_call(ar, "personality", ADDR_NO_RANDOMIZE, RET_ERRNO(EPERM));
	check_call(ar, "personality", READ_IMPLIES_EXEC | PER_LINUX32, RET_ERRNO(EPERM));
	check_call(ar, "personality", 0x100000000ull, RET_ERRNO(ENOSYS));

	/* Another ABI of the same CPU: the whole process is killed. */
	const uint32_t foreign = decide(ar, ar->foreign_audit, 20, 0);
	CHECK(foreign == SECCOMP_RET_KILL_PROCESS, "%s: foreign ABI -> 0x%x", ar->name, foreign);
	if (ar->scmp == SCMP_ARCH_X86_64) {
		const uint32_t x32 = decide(ar, ar->audit, nr_of(ar, "getpid") | 0x40000000, 0);
		CHECK(x32 == SECCOMP_RET_KILL_PROCESS, "x86_64: x32 getpid -> 0x%x", x32);
	}
}

/* Instruction by instruction, naming the first difference. */
static bool same_program(const char *name, const struct sock_fprog *got,
			 const struct sock_fprog *want)
{
	if (got->len != want->len) {
		fprintf(stderr, "%s: %u instructions, a fresh build has %u\n", name, got->len,
			want->len);
		return false;
	}
	for (unsigned i = 0; i < got->len; i++) {
		const struct sock_filter *g = &got->filter[i], *w = &want->filter[i];
		if (memcmp(g, w, sizeof(*g)) != 0) {
			fprintf(stderr, "%s: instruction %u is {0x%x, %u, %u, 0x%x}, a fresh build "
				"has {0x%x, %u, %u, 0x%x}\n", name, i, g->code, g->jt, g->jf, g->k,
				w->code, w->jt, w->jf, w->k);
			return false;
		}
	}
	return true;
}

#if CL_SBX_SECCOMP_EMBEDDED
static const struct sock_fprog *embedded(uint32_t audit_arch)
{
	for (const struct cl_sbx_seccomp_program *p = cl_sbx_seccomp_programs; p->arch_name; p++)
		if (p->audit_arch == audit_arch)
			return &p->prog;
	return NULL;
}
#endif

int main(void)
{
	struct cl_error err;
	cl_error_clear(&err);
	/* As the generator does: the program must not depend on the kernel it is built on. */
	if (cl_sbx_seccomp_target_api(&err) < 0) {
		fprintf(stderr, "FAIL: %s\n", err.msg);
		return 1;
	}

	struct arch arches[] = {
		{ SCMP_ARCH_X86_64, AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, "x86_64", NULL },
		{ SCMP_ARCH_AARCH64, AUDIT_ARCH_AARCH64, AUDIT_ARCH_ARM, "aarch64", NULL },
	};
	const size_t n_arches = sizeof(arches) / sizeof(arches[0]);
	/* The policy's architectures are exactly these (a new one needs its checks here). */
	size_t n = 0;
	for (; cl_sbx_seccomp_arches[n].name; n++)
		CHECK(n < n_arches && cl_sbx_seccomp_arches[n].audit_arch == arches[n].audit &&
			      strcmp(cl_sbx_seccomp_arches[n].name, arches[n].name) == 0,
		      "policy architecture %zu is %s", n, cl_sbx_seccomp_arches[n].name);
	CHECK(n == n_arches, "the policy has %zu architectures, the test knows %zu", n, n_arches);
#if CL_SBX_SECCOMP_EMBEDDED
	/* The embedded table: one program per policy architecture, in order, nothing else. */
	n = 0;
	for (const struct cl_sbx_seccomp_program *p = cl_sbx_seccomp_programs; p->arch_name;
	     p++, n++)
		CHECK(n < n_arches && p->audit_arch == arches[n].audit &&
			      strcmp(p->arch_name, arches[n].name) == 0,
		      "embedded program %zu is for %s", n, p->arch_name);
	CHECK(n == n_arches, "%zu embedded programs, want %zu", n, n_arches);
#endif

	for (size_t i = 0; i < n_arches; i++) {
		struct arch *ar = &arches[i];
		struct cl_sbx_bpf fresh;
		cl_error_clear(&err);
		const int rc = cl_sbx_seccomp_build(ar->scmp, &fresh, &err);
		CHECK(rc == 0, "%s: build: %s", ar->name, err.msg);
		if (rc)
			continue;
#if CL_SBX_SECCOMP_EMBEDDED
		/* What the build embedded is what libseccomp makes of the policy now: a policy
		 * edit without a regenerated program fails here. */
		ar->prog = embedded(ar->audit);
		const bool same = ar->prog && same_program(ar->name, ar->prog, &fresh.prog);
		CHECK(same, "%s: the embedded program is missing or not a fresh build of the policy",
		      ar->name);
		if (same)
			printf("%s: the embedded program equals a fresh build\n", ar->name);
#else
		ar->prog = &fresh.prog;
#endif
		if (ar->prog)
			check_arch(ar);
		cl_sbx_seccomp_free(&fresh);
	}

	/* Other architectures: a clear error when the filter is built. */
	const uint32_t others[] = { SCMP_ARCH_X86, SCMP_ARCH_ARM, SCMP_ARCH_RISCV64 };
	for (size_t i = 0; i < 3; i++) {
		cl_error_clear(&err);
		struct cl_sbx_bpf bpf;
		const int rc = cl_sbx_seccomp_build(others[i], &bpf, &err);
		CHECK(rc == -ENOTSUP, "arch 0x%x: rc %d", others[i], rc);
		CHECK(strstr(err.msg, "not supported") != NULL, "arch 0x%x: message \"%s\"",
		      others[i], err.msg);
	}

	/* The program a run loads: the one of this machine's architecture. */
	cl_error_clear(&err);
#if CL_SBX_SECCOMP_EMBEDDED
	/* Embedded: there from the start, nothing compiled. */
	const struct sock_fprog *native = cl_sbx_seccomp_native_if_built();
	CHECK(native != NULL && native == embedded(seccomp_arch_native()),
	      "a run takes the embedded program of this architecture");
	CHECK(cl_sbx_seccomp_native(&err) == native, "native program: %s", err.msg);
#else
	/* Compiled at run time: on the first request, once, then kept. */
	CHECK(cl_sbx_seccomp_native_if_built() == NULL, "a program before the first request");
	const struct sock_fprog *native = cl_sbx_seccomp_native(&err);
	CHECK(native && native == cl_sbx_seccomp_native(&err), "native program: %s", err.msg);
	CHECK(cl_sbx_seccomp_native_if_built() == native, "the compiled program is not kept");
	struct cl_sbx_bpf again;
	CHECK(cl_sbx_seccomp_build(seccomp_arch_native(), &again, &err) == 0, "%s", err.msg);
	CHECK(native && same_program("native", native, &again.prog),
	      "native program differs from a fresh build");
	cl_sbx_seccomp_free(&again);
#endif

	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	return failures ? 1 : 0;
}
