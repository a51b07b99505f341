/* Starts insitu-fw for a test: a fresh sparse flash file, --port 0 --discovery-port 0, and
 * the ports read from its ready line (never guessed). Stops it with a signal and reports
 * how it exited. */
#ifndef INSITU_TESTS_FW_TCP_DAEMON_H
#define INSITU_TESTS_FW_TCP_DAEMON_H

#include <stdint.h>
#include <sys/types.h>

struct daemon {
	pid_t pid;
	uint16_t nvm_port, disc_port;
	char flash[256];
	char line[256];   /* the ready line */
};

/* Make a temporary directory for the test's files; returns its path (static storage). */
const char *daemon_tmpdir(void);
/* Start bin with: --flash d->flash --port 0 --discovery-port 0 [extra args...] (NULL ended).
 * d->flash must be set. Returns 0 once the ready line was read, -1 otherwise (message on
 * stderr). */
int daemon_start(struct daemon *d, const char *bin, const char *const *extra);
/* Send sig and wait; returns the wait status. */
int daemon_stop(struct daemon *d, int sig);
/* VmRSS of the daemon in KiB, or 0. */
unsigned long daemon_rss_kib(const struct daemon *d);

#endif
