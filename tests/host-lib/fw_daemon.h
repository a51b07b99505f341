/* Starts a real insitu-fw for a test on a sparse flash file in a fresh temporary folder,
 * with --port 0, and waits for its stdout "ready" line to learn the address (never a sleep). */
#ifndef INSITU_TESTS_HOSTLIB_FW_DAEMON_H
#define INSITU_TESTS_HOSTLIB_FW_DAEMON_H

#include <sys/types.h>

struct fw_daemon {
	pid_t pid;
	char  dir[256];
	char  uri[320];       /* nvme+tcp://127.0.0.1:PORT/nqn.2026-11.dev.insitu:csd */
	char  addr[64];       /* 127.0.0.1:PORT */
};

/* @extra: NULL-terminated further flags (e.g. "--no-dedup"), may be NULL. Returns 0, or
 * -1 after printing why. */
int fw_daemon_start(struct fw_daemon *d, const char *fw_path, const char *const *extra);
/* SIGTERM, then waits; returns the daemon's exit status (0 when it stopped cleanly). */
int fw_daemon_stop(struct fw_daemon *d);

#endif
