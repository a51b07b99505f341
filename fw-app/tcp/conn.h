/* One NVMe/TCP connection of insitu-fw, without sockets: bytes in (fw_tcp_conn_input), PDUs
 * out (an iovec batch the owner sends), commands through the nvme/ command layer. The
 * reactor owns the socket; the fuzzer drives the same functions with no socket at all.
 * DESIGN.md §6 is the state machine this file implements. */
#ifndef INSITU_FW_TCP_CONN_H
#define INSITU_FW_TCP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "bufpool.h"

struct fw_subsys;
struct fw_config;
struct fw_tcp_conn;
struct fw_tcp_ctx;

/* What a connection asks of its owner (the reactor). Each may be called from inside
 * fw_tcp_conn_input(), a command's done(), fw_tcp_ctx_tick() or fw_tcp_ctx_run(). */
struct fw_tcp_hooks {
	/* PDUs are queued: send them when no send is in flight (fw_tcp_conn_tx_iov()). */
	void (*tx_ready)(struct fw_tcp_conn *c, void *owner);
	/* The connection was paused and takes input again. */
	void (*rx_resume)(struct fw_tcp_conn *c, void *owner);
	/* The connection is closing: shut the socket down (linger: only for writing, the
	 * C2HTermReq has been sent), stop reading, and call fw_tcp_conn_detach() once no
	 * socket operation is in flight any more. */
	void (*closing)(struct fw_tcp_conn *c, void *owner, bool linger);
};

/* Fixed transport limits (DESIGN.md §6). */
#define FW_TCP_IC_TIMEOUT_MS    10000u
#define FW_TCP_STALL_TIMEOUT_MS 10000u
#define FW_TCP_DRAIN_TIMEOUT_MS 10000u
#define FW_TCP_C2H_CHUNK        (128u << 10)
#define FW_TCP_CMD_CACHE        8

struct fw_tcp_stats {
	uint64_t accepted, closed, termreqs_sent, ddgst_errors, commands;
};

/* ---- context: what every connection shares ------------------------------------------- */

int fw_tcp_ctx_create(struct fw_subsys *s, const struct fw_config *cfg,
		      const struct fw_tcp_hooks *hooks, struct fw_tcp_ctx **out,
		      char *err, size_t errlen);
/* Every connection must be gone (fw_tcp_ctx_idle()). */
void fw_tcp_ctx_destroy(struct fw_tcp_ctx *ctx);

/* Run deferred work: connections waiting for a buffer, closed connections whose commands
 * have all come back (freed here). Call after every batch of events. */
void fw_tcp_ctx_run(struct fw_tcp_ctx *ctx);
/* Once a second: timeouts, and the shutdown deadline. */
void fw_tcp_ctx_tick(struct fw_tcp_ctx *ctx, uint64_t now_ms);
/* Start the shutdown of every connection (DESIGN.md §2); force: close them now. */
void fw_tcp_ctx_drain(struct fw_tcp_ctx *ctx, uint64_t now_ms, bool force);
/* No connection left, detached or not. */
bool fw_tcp_ctx_idle(const struct fw_tcp_ctx *ctx);
unsigned fw_tcp_ctx_connections(const struct fw_tcp_ctx *ctx);
const struct fw_tcp_stats *fw_tcp_ctx_stats(const struct fw_tcp_ctx *ctx);

/* ---- connection ---------------------------------------------------------------------- */

/* peer names the host in logs; local_addr/local_port: where it reached us (numeric);
 * discovery: accepted on the discovery port. NULL when out of memory. */
struct fw_tcp_conn *fw_tcp_conn_create(struct fw_tcp_ctx *ctx, void *owner, const char *peer,
				       const char *local_addr, uint16_t local_port,
				       bool discovery, uint64_t now_ms);

/* Feed received bytes; returns how many were taken. Fewer than n: the connection paused
 * (waiting for a buffer or for its output to drain); keep the rest and feed it after
 * rx_resume(). A closing connection takes (and drops) everything. */
size_t fw_tcp_conn_input(struct fw_tcp_conn *c, const void *buf, size_t n, uint64_t now_ms);
bool fw_tcp_conn_paused(const struct fw_tcp_conn *c);
bool fw_tcp_conn_closing(const struct fw_tcp_conn *c);
const char *fw_tcp_conn_peer(const struct fw_tcp_conn *c);

/* The next bytes to send as iovecs (at most max); 0 when nothing is queued. The memory stays
 * valid until fw_tcp_conn_tx_done() is called for it. */
int fw_tcp_conn_tx_iov(struct fw_tcp_conn *c, struct iovec *iov, int max);
/* n bytes of what fw_tcp_conn_tx_iov() gave were sent. */
void fw_tcp_conn_tx_done(struct fw_tcp_conn *c, size_t n, uint64_t now_ms);

/* The host went away or the socket failed: close (no TermReq). */
void fw_tcp_conn_close(struct fw_tcp_conn *c, const char *reason);
/* The owner has no socket operation in flight and will not touch c again: the context
 * frees it once every executing command has come back. */
void fw_tcp_conn_detach(struct fw_tcp_conn *c);

#endif
