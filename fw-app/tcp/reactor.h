/* insitu-fw's event loop: one io_uring serving the listening sockets, every connection's
 * receive and send, the command layer's flash eventfd, a 1 s tick and the shutdown signals
 * (DESIGN.md §2). */
#ifndef INSITU_FW_TCP_REACTOR_H
#define INSITU_FW_TCP_REACTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fw_subsys;
struct fw_config;

struct fw_tcp_listener {
	int      fd;
	bool     discovery;
	char     addr[64];   /* numeric address it is bound to */
	uint16_t port;       /* port it is bound to */
};

/* Serves until SIGTERM/SIGINT arrives on sigfd (a signalfd) and every connection is closed
 * and the flash is idle. The listeners are closed on return. Returns 0, or a negative errno
 * with err naming what failed (io_uring setup, buffer ring registration). */
int fw_reactor_run(struct fw_subsys *s, const struct fw_config *cfg,
		   struct fw_tcp_listener *listeners, unsigned nlisteners, int sigfd,
		   char *err, size_t errlen);

/* Monotonic milliseconds, the clock of ticks and timeouts. */
uint64_t fw_reactor_now_ms(void);

#endif
