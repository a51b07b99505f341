/* The insitu-fw launcher of the host-lib integration tests (fw_daemon.h). */
#include "fw_daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define READY_TIMEOUT_MS 60000	/* a bound on a broken daemon, not a wait for a good one */

int fw_daemon_start(struct fw_daemon *d, const char *fw_path, const char *const *extra)
{
	char flash[300];
	const char *argv[32];
	int n = 0, out[2];

	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "%s/insitu-hostlib-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(d->dir)) {
		perror("mkdtemp");
		return -1;
	}
	snprintf(flash, sizeof(flash), "%s/flash.img", d->dir);
	argv[n++] = fw_path;
	argv[n++] = "--flash";
	argv[n++] = flash;
	argv[n++] = "--flash-size";
	argv[n++] = "256M";
	argv[n++] = "--port";
	argv[n++] = "0";
	argv[n++] = "--discovery-port";
	argv[n++] = "none";
	argv[n++] = "--log-level";
	argv[n++] = "warn";
	for (int i = 0; extra && extra[i] && n < 30; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	if (pipe2(out, O_CLOEXEC) < 0)
		return -1;
	d->pid = fork();
	if (d->pid < 0)
		return -1;
	if (d->pid == 0) {
		dup2(out[1], STDOUT_FILENO);
		execv(fw_path, (char *const *)argv);
		fprintf(stderr, "cannot run %s: %s\n", fw_path, strerror(errno));
		_exit(127);
	}
	close(out[1]);

	char line[256];
	size_t len = 0;
	struct pollfd p = { .fd = out[0], .events = POLLIN };

	while (len < sizeof(line) - 1 && !memchr(line, '\n', len)) {
		if (poll(&p, 1, READY_TIMEOUT_MS) <= 0)
			break;
		ssize_t r = read(out[0], line + len, sizeof(line) - 1 - len);

		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(out[0]);
	line[len] = '\0';
	char *port = strstr(line, "nvm=127.0.0.1:");

	if (strncmp(line, "ready ", 6) != 0 || !port) {
		fprintf(stderr, "insitu-fw did not print its ready line (got '%s')\n", line);
		fw_daemon_stop(d);
		return -1;
	}
	unsigned pn = (unsigned)strtoul(port + 14, NULL, 10);

	snprintf(d->addr, sizeof(d->addr), "127.0.0.1:%u", pn);
	snprintf(d->uri, sizeof(d->uri), "nvme+tcp://127.0.0.1:%u/nqn.2026-11.dev.insitu:csd", pn);
	return 0;
}

int fw_daemon_stop(struct fw_daemon *d)
{
	int status = -1;
	char path[300];

	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		if (waitpid(d->pid, &status, 0) < 0)
			status = -1;
		d->pid = 0;
	}
	snprintf(path, sizeof(path), "%s/flash.img", d->dir);
	unlink(path);
	rmdir(d->dir);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
