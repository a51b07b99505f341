/* Test harness for insitu-fw: fork/exec with a pipe on stdout, wait for the ready line,
 * parse the two ports from it, and signal/wait for the process at the end. */
#include "daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *daemon_tmpdir(void)
{
	static char dir[128];

	if (!dir[0]) {
		const char *base = getenv("TMPDIR");

		snprintf(dir, sizeof(dir), "%s/insitu-fw-test-XXXXXX", base ? base : "/tmp");
		if (!mkdtemp(dir)) {
			perror("mkdtemp");
			exit(1);
		}
	}
	return dir;
}

static int parse_port(const char *line, const char *key, uint16_t *port)
{
	const char *p = strstr(line, key), *colon;

	if (!p)
		return -1;
	p += strlen(key);
	colon = strchr(p, ' ');
	colon = colon ? colon : p + strlen(p);
	while (colon > p && colon[-1] != ':')
		colon--;
	if (colon == p)
		return -1;
	*port = (uint16_t)atoi(colon);
	return *port ? 0 : -1;
}

int daemon_start(struct daemon *d, const char *bin, const char *const *extra)
{
	const char *argv[64];
	int pfd[2], n = 0;
	FILE *f;

	argv[n++] = bin;
	argv[n++] = "--flash";
	argv[n++] = d->flash;
	argv[n++] = "--port";
	argv[n++] = "0";
	argv[n++] = "--discovery-port";
	argv[n++] = "0";
	for (; extra && *extra && n < 62; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	if (pipe(pfd))
		return -1;
	d->pid = fork();
	if (d->pid < 0)
		return -1;
	if (d->pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		execv(bin, (char *const *)argv);
		perror("execv insitu-fw");
		_exit(127);
	}
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	if (!f || !fgets(d->line, sizeof(d->line), f)) {
		fprintf(stderr, "insitu-fw exited before its ready line\n");
		if (f)
			fclose(f);
		daemon_stop(d, SIGKILL);
		return -1;
	}
	fclose(f); /* nothing else comes on stdout */
	d->line[strcspn(d->line, "\n")] = 0;
	if (strncmp(d->line, "ready ", 6) || parse_port(d->line, "nvm=", &d->nvm_port) ||
	    parse_port(d->line, "discovery=", &d->disc_port)) {
		fprintf(stderr, "unexpected first line from insitu-fw: '%s'\n", d->line);
		daemon_stop(d, SIGKILL);
		return -1;
	}
	return 0;
}

int daemon_stop(struct daemon *d, int sig)
{
	int status = -1;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, sig);
	while (waitpid(d->pid, &status, 0) < 0 && errno == EINTR)
		;
	d->pid = 0;
	return status;
}

unsigned long daemon_rss_kib(const struct daemon *d)
{
	char path[64], line[256];
	unsigned long kib = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)d->pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %lu kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}
