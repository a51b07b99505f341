/* probe: a static program the sandbox tests run inside the sandbox. Each subcommand tries
 * one thing (an escape, a forbidden syscall, a resource bomb, or an ordinary task) and
 * reports it in a way the host side asserts exactly: most exit with the errno they got
 * (0 = the call succeeded), some print a line, some die of a signal.
 *   probe SUBCOMMAND [ARGS...] */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

/* errno of a raw syscall: 0 when it succeeded. */
static int sys_errno(long rc)
{
	return rc < 0 ? errno : 0;
}

static int try_syscall(const char *name)
{
	char buf[64] = { 0 };
	struct iovec iov = { buf, sizeof(buf) };
	if (!strcmp(name, "mount"))
		return sys_errno(mount("none", "/tmp", "tmpfs", 0, NULL));
	if (!strcmp(name, "umount2"))
		return sys_errno(umount2("/proc", MNT_DETACH));
	if (!strcmp(name, "pivot_root"))
		return sys_errno(syscall(SYS_pivot_root, "/tmp", "/tmp"));
	if (!strcmp(name, "chroot"))
		return sys_errno(chroot("/tmp"));
	if (!strcmp(name, "fsopen"))
		return sys_errno(syscall(SYS_fsopen, "tmpfs", 0));
	if (!strcmp(name, "fsmount"))
		return sys_errno(syscall(SYS_fsmount, -1, 0, 0));
	if (!strcmp(name, "fsconfig"))
		return sys_errno(syscall(SYS_fsconfig, -1, 0, NULL, NULL, 0));
	if (!strcmp(name, "fspick"))
		return sys_errno(syscall(SYS_fspick, AT_FDCWD, "/", 0));
	if (!strcmp(name, "move_mount"))
		return sys_errno(syscall(SYS_move_mount, -1, "", AT_FDCWD, "/tmp", 0));
	if (!strcmp(name, "open_tree"))
		return sys_errno(syscall(SYS_open_tree, AT_FDCWD, "/", 1 /* OPEN_TREE_CLONE */));
	if (!strcmp(name, "mount_setattr"))
		return sys_errno(syscall(SYS_mount_setattr, AT_FDCWD, "/", 0, NULL, 0));
	if (!strcmp(name, "unshare-user"))
		return sys_errno(unshare(CLONE_NEWUSER));
	if (!strcmp(name, "unshare-mount"))
		return sys_errno(unshare(CLONE_NEWNS));
	if (!strcmp(name, "setns"))
		return sys_errno(setns(open("/proc/self/ns/net", O_RDONLY), 0));
	if (!strncmp(name, "clone-", 6)) {
		unsigned long flag = !strcmp(name, "clone-newuser") ? CLONE_NEWUSER
				     : !strcmp(name, "clone-newns") ? CLONE_NEWNS
				     : !strcmp(name, "clone-newpid") ? CLONE_NEWPID
				     : !strcmp(name, "clone-newnet") ? CLONE_NEWNET
				     : 0;
		const long pid = syscall(SYS_clone, flag | SIGCHLD, NULL, NULL, NULL, 0);
		if (pid == 0)
			_exit(0);
		if (pid > 0)
			waitpid((pid_t)pid, NULL, 0);
		return sys_errno(pid);
	}
	if (!strcmp(name, "clone3")) {
		uint64_t args[11] = { 0 };
		args[4] = SIGCHLD; /* exit_signal */
		const long pid = syscall(SYS_clone3, args, sizeof(args));
		if (pid == 0)
			_exit(0);
		return sys_errno(pid);
	}
	if (!strcmp(name, "fork")) {
		const pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		return sys_errno(pid);
	}
	if (!strcmp(name, "ptrace"))
		return sys_errno(syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0));
	if (!strcmp(name, "process_vm_readv"))
		return sys_errno(syscall(SYS_process_vm_readv, getpid(), &iov, 1, &iov, 1, 0));
	if (!strcmp(name, "io_uring_setup"))
		return sys_errno(syscall(SYS_io_uring_setup, 1, NULL));
	if (!strcmp(name, "io_uring_enter"))
		return sys_errno(syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0));
	if (!strcmp(name, "io_uring_register"))
		return sys_errno(syscall(SYS_io_uring_register, -1, 0, NULL, 0));
	if (!strcmp(name, "keyctl"))
		return sys_errno(syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3, 0));
	if (!strcmp(name, "add_key"))
		return sys_errno(syscall(SYS_add_key, "user", "k", "v", 1, -3));
	if (!strcmp(name, "request_key"))
		return sys_errno(syscall(SYS_request_key, "user", "k", NULL, 0));
	if (!strcmp(name, "bpf"))
		return sys_errno(syscall(SYS_bpf, 0, NULL, 0));
	if (!strcmp(name, "perf_event_open"))
		return sys_errno(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
	if (!strcmp(name, "userfaultfd"))
		return sys_errno(syscall(SYS_userfaultfd, 0));
	if (!strcmp(name, "kexec_load"))
		return sys_errno(syscall(SYS_kexec_load, 0, 0, NULL, 0));
	if (!strcmp(name, "init_module"))
		return sys_errno(syscall(SYS_init_module, NULL, 0, ""));
	if (!strcmp(name, "finit_module"))
		return sys_errno(syscall(SYS_finit_module, -1, "", 0));
	if (!strcmp(name, "delete_module"))
		return sys_errno(syscall(SYS_delete_module, "nonexistent", 0));
	if (!strcmp(name, "personality-norandom"))
		return sys_errno(personality(ADDR_NO_RANDOMIZE));
	if (!strcmp(name, "personality-linux32")) {
		const int e = sys_errno(personality(PER_LINUX32));
		personality(PER_LINUX);
		return e;
	}
	if (!strcmp(name, "socket-alg"))
		return sys_errno(socket(AF_ALG, SOCK_SEQPACKET, 0));
	if (!strcmp(name, "socket-alg-highbits"))
		return sys_errno(syscall(SYS_socket, 0x100000000ull | AF_ALG, SOCK_SEQPACKET, 0));
	if (!strcmp(name, "socket-vsock"))
		return sys_errno(socket(AF_VSOCK, SOCK_STREAM, 0));
	if (!strcmp(name, "socket-inet"))
		return sys_errno(socket(AF_INET, SOCK_STREAM, 0));
	if (!strcmp(name, "get_mempolicy"))
		return sys_errno(syscall(SYS_get_mempolicy, NULL, NULL, 0, NULL, 0));
	if (!strcmp(name, "reboot"))
		return sys_errno(syscall(SYS_reboot, 0, 0, 0, NULL));
	if (!strcmp(name, "syslog"))
		return sys_errno(syscall(SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0));
	if (!strcmp(name, "sethostname"))
		return sys_errno(sethostname("x", 1));
	if (!strcmp(name, "kcmp"))
		return sys_errno(syscall(SYS_kcmp, getpid(), getpid(), 0, 0, 0));
	if (!strcmp(name, "pidfd_getfd"))
		return sys_errno(syscall(SYS_pidfd_getfd, -1, 0, 0));
	if (!strcmp(name, "open_by_handle_at"))
		return sys_errno(syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0));
#ifdef __x86_64__
	if (!strcmp(name, "iopl"))
		return sys_errno(syscall(SYS_iopl, 3));
	if (!strcmp(name, "x32-getpid")) /* x32 ABI: same arch token, bit 30 set */
		return sys_errno(syscall(SYS_getpid | 0x40000000));
	if (!strcmp(name, "i386-getpid")) { /* the i386 ABI through int 0x80: getpid is 20 */
		long rc;
		__asm__ volatile("int $0x80" : "=a"(rc) : "a"(20) : "memory");
		return rc < 0 ? (int)-rc : 0;
	}
#endif
	if (!strcmp(name, "mknod-char"))
		return sys_errno(mknod("/tmp/null2", S_IFCHR | 0666, makedev(1, 3)));
	fprintf(stderr, "probe: unknown syscall %s\n", name);
	return 200;
}

static int print_status(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return errno;
	char line[256];
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Cap", 3) || !strncmp(line, "NoNewPrivs:", 11) ||
		    !strncmp(line, "Seccomp:", 8))
			fputs(line, stdout);
	fclose(f);
	return 0;
}

static int try_capset(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = 1u << CAP_SYS_ADMIN;
	return sys_errno(syscall(SYS_capset, &h, d));
}

static int whoami(void)
{
	char cwd[256], host[65];
	gid_t groups[16];
	const int ng = getgroups(16, groups);
	if (!getcwd(cwd, sizeof(cwd)) || gethostname(host, sizeof(host)) < 0 || ng < 0)
		return errno;
	const char *foo = getenv("FOO");
	printf("uid=%d gid=%d euid=%d groups=%d cwd=%s host=%s FOO=%s PATH=%s\n", (int)getuid(),
	       (int)getgid(), (int)geteuid(), ng, cwd, host, foo ? foo : "-",
	       getenv("PATH") ? getenv("PATH") : "-");
	return 0;
}

static int open_errno(const char *path, int flags)
{
	const int fd = open(path, flags, 0644);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int write_file(const char *path, const char *text)
{
	const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return errno;
	const ssize_t n = write(fd, text, strlen(text));
	const int e = n < 0 ? errno : 0;
	close(fd);
	return e;
}

static int cat(const char *path)
{
	const int fd = open(path, O_RDONLY);
	if (fd < 0)
		return errno;
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	close(fd);
	return n < 0 ? errno : 0;
}

/* The owner and permission bits of path as the sandbox sees them (through its id map). */
static int print_owner(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno;
	printf("%u %u %o\n", (unsigned)st.st_uid, (unsigned)st.st_gid,
	       (unsigned)(st.st_mode & 07777));
	return 0;
}

/* The supplementary groups, in the order the kernel keeps them (sorted). */
static int print_groups(void)
{
	gid_t g[64];
	const int n = getgroups(64, g);
	if (n < 0)
		return errno;
	for (int i = 0; i < n; i++)
		printf("%s%u", i ? " " : "", (unsigned)g[i]);
	printf("\n");
	return 0;
}

/* A host path must not be reachable: directly, through /proc/1/root, or by climbing. */
static int host_path(const char *path)
{
	char alt[512];
	int e = open_errno(path, O_RDONLY);
	if (e != ENOENT)
		return e;
	snprintf(alt, sizeof(alt), "/proc/1/root%s", path);
	e = open_errno(alt, O_RDONLY);
	if (e != ENOENT && e != EACCES)
		return e == 0 ? 0 : 100 + e;
	snprintf(alt, sizeof(alt), "/../../../../..%s", path);
	e = open_errno(alt, O_RDONLY);
	return e;
}

static int tcp_connect(const char *port)
{
	const int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		return 100 + errno;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sys_errno(connect(s, (struct sockaddr *)&a, sizeof(a)));
}

static int netdevs(void)
{
	struct if_nameindex *ifs = if_nameindex();
	if (!ifs)
		return errno;
	const int s = socket(AF_INET, SOCK_DGRAM, 0);
	for (struct if_nameindex *i = ifs; i->if_index; i++) {
		struct ifreq r;
		memset(&r, 0, sizeof(r));
		snprintf(r.ifr_name, sizeof(r.ifr_name), "%s", i->if_name);
		ioctl(s, SIOCGIFFLAGS, &r);
		printf("%s %s\n", i->if_name, (r.ifr_flags & IFF_UP) ? "up" : "down");
	}
	if_freenameindex(ifs);
	return 0;
}

static int forkbomb(void)
{
	int n = 0;
	for (;;) {
		const pid_t p = fork();
		if (p == 0) {
			pause();
			_exit(0);
		}
		if (p < 0) {
			const int e = errno;
			printf("%d\n", n);
			fflush(stdout);
			return e;
		}
		if (++n > 100000)
			return 0;
	}
}

/* The chunks stay reachable through a volatile head, or a compiler may drop them. */
static void *volatile membomb_head;

static int membomb(void)
{
	for (;;) {
		char *p = malloc(1 << 20);
		if (!p)
			return ENOMEM;
		memset(p, 0x5a, 1 << 20);
		void *prev = membomb_head;
		memcpy(p, &prev, sizeof(prev));
		membomb_head = p;
	}
}

static int fill(const char *path, bool ignore_xfsz)
{
	if (ignore_xfsz)
		signal(SIGXFSZ, SIG_IGN);
	const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return 100 + errno;
	static char block[4096];
	memset(block, 'f', sizeof(block));
	unsigned long long total = 0;
	int e = 0;
	for (;;) {
		const ssize_t n = write(fd, block, sizeof(block));
		if (n < 0) {
			e = errno;
			break;
		}
		total += (unsigned long long)n;
		if (total > (1ull << 32))
			break;
	}
	printf("%llu\n", total);
	fflush(stdout);
	return e;
}

static int output(long out, long err)
{
	static char o[4096], e[4096];
	memset(o, 'o', sizeof(o));
	memset(e, 'e', sizeof(e));
	for (long done = 0; done < out;) {
		const long n = out - done < 4096 ? out - done : 4096;
		if (write(1, o, (size_t)n) != n)
			return errno;
		done += n;
	}
	for (long done = 0; done < err;) {
		const long n = err - done < 4096 ? err - done : 4096;
		if (write(2, e, (size_t)n) != n)
			return errno;
		done += n;
	}
	return 0;
}

/* N grandchildren (re-parented to init), each ignoring SIGTERM and holding a shared lock
 * on lockfile until killed. mode "wait": stay too; "exit": leave them behind. */
static int tree(const char *lockfile, int n, const char *mode)
{
	int ready[2];
	if (pipe(ready) < 0)
		return errno;
	signal(SIGTERM, SIG_IGN);
	for (int i = 0; i < n; i++) {
		const pid_t p = fork();
		if (p < 0)
			return errno;
		if (p == 0) {
			if (fork() != 0)
				_exit(0);
			const int fd = open(lockfile, O_RDONLY);
			if (fd < 0 || flock(fd, LOCK_SH) < 0)
				_exit(1);
			if (write(ready[1], "r", 1) != 1)
				_exit(1);
			for (;;)
				pause();
		}
		waitpid(p, NULL, 0);
	}
	close(ready[1]);
	for (int got = 0; got < n;) {
		char c;
		if (read(ready[0], &c, 1) != 1)
			return EIO;
		got++;
	}
	printf("ready %d\n", n);
	fflush(stdout);
	if (!strcmp(mode, "exit"))
		return 0;
	for (;;)
		pause();
}

static int spin(long cpu_ms)
{
	struct timespec ts;
	do {
		for (volatile int i = 0; i < 10000; i++) {
		}
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	} while (ts.tv_sec * 1000 + ts.tv_nsec / 1000000 < cpu_ms);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of a directory, one line: "a b c". */
static int list_dir(const char *path, bool numeric_only)
{
	DIR *d = opendir(path);
	if (!d)
		return errno;
	char *names[256];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 256) {
		if (e->d_name[0] == '.')
			continue;
		if (numeric_only && (e->d_name[0] < '0' || e->d_name[0] > '9'))
			continue;
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), cmp_str);
	for (int i = 0; i < n; i++) {
		printf("%s%s", i ? " " : "", names[i]);
		free(names[i]);
	}
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 201;
	const char *cmd = argv[1];
	const char *a1 = argc > 2 ? argv[2] : "", *a2 = argc > 3 ? argv[3] : "";
	if (!strcmp(cmd, "syscall"))
		return try_syscall(a1);
	if (!strcmp(cmd, "status"))
		return print_status();
	if (!strcmp(cmd, "capset"))
		return try_capset();
	if (!strcmp(cmd, "setuid"))
		return sys_errno(setuid((uid_t)atoi(a1)));
	if (!strcmp(cmd, "whoami"))
		return whoami();
	if (!strcmp(cmd, "open"))
		return open_errno(a1, O_RDONLY);
	if (!strcmp(cmd, "openw"))
		return open_errno(a1, O_WRONLY);
	if (!strcmp(cmd, "create"))
		return open_errno(a1, O_WRONLY | O_CREAT | O_EXCL);
	if (!strcmp(cmd, "write"))
		return write_file(a1, a2);
	if (!strcmp(cmd, "cat"))
		return cat(a1);
	if (!strcmp(cmd, "owner"))
		return print_owner(a1);
	if (!strcmp(cmd, "groups"))
		return print_groups();
	if (!strcmp(cmd, "setgid"))
		return sys_errno(setgid((gid_t)atoi(a1)));
	if (!strcmp(cmd, "fd"))
		return sys_errno(fcntl(atoi(a1), F_GETFD));
	if (!strcmp(cmd, "fdwrite"))
		return sys_errno(write(atoi(a1), a2, strlen(a2)));
	if (!strcmp(cmd, "hostpath"))
		return host_path(a1);
	if (!strcmp(cmd, "connect"))
		return tcp_connect(a1);
	if (!strcmp(cmd, "netdevs"))
		return netdevs();
	if (!strcmp(cmd, "forkbomb"))
		return forkbomb();
	if (!strcmp(cmd, "membomb"))
		return membomb();
	if (!strcmp(cmd, "fill"))
		return fill(a1, !strcmp(a2, "ignore-xfsz"));
	if (!strcmp(cmd, "exit"))
		return atoi(a1);
	if (!strcmp(cmd, "kill")) {
		kill(getpid(), atoi(a1));
		return 202;
	}
	if (!strcmp(cmd, "output"))
		return output(atol(a1), atol(a2));
	if (!strcmp(cmd, "tree"))
		return tree(a1, atoi(a2), argc > 4 ? argv[4] : "wait");
	if (!strcmp(cmd, "spin"))
		return spin(atol(a1));
	if (!strcmp(cmd, "ls"))
		return list_dir(a1, false);
	if (!strcmp(cmd, "pids")) {
		printf("self=%d ", (int)getpid());
		fflush(stdout);
		return list_dir("/proc", true);
	}
	if (!strcmp(cmd, "shm"))
		return sys_errno(shmget((key_t)atoi(a1), 0, 0));
	if (!strcmp(cmd, "sleep")) {
		sleep((unsigned)atoi(a1));
		return 0;
	}
	fprintf(stderr, "probe: unknown subcommand %s\n", cmd);
	return 201;
}
