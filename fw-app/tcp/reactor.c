/* The io_uring event loop of insitu-fw (DESIGN.md §2): multishot accepts, one recv per
 * connection from a shared provided-buffer ring, one sendmsg per connection at a time, the
 * flash eventfd, a 1 s timeout and a signalfd. Connections themselves live in conn.c; this
 * file only moves their bytes and decides when their memory can go. */
#include "reactor.h"

#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "conn.h"
#include "log.h"
#include "nvme/command.h"

#define RING_ENTRIES   1024
#define CQ_ENTRIES     16384
#define RX_BGID        7
#define RX_NBUFS       64       /* power of two */
#define RX_BUFSZ       (64u << 10)
#define TX_IOV         48
#define MAX_LISTENERS  2

enum op_kind { OP_ACCEPT, OP_RECV, OP_SEND, OP_EVENT, OP_TICK, OP_SIGNAL, OP_CANCEL };

struct op {
	uint8_t kind;
	void *ptr;
};

struct rconn {
	struct op rx_op, tx_op;
	struct fw_reactor *r;
	struct fw_tcp_conn *c;
	struct rconn *prev, *next;       /* r->all */
	struct rconn *pend_next;         /* r->pending */
	bool on_pending;
	int fd;
	unsigned ops;                    /* SQEs in flight */
	bool rx_armed, tx_busy, resume;
	bool closing, linger, shut_wr, shut_rdwr;
	uint8_t *hold;                   /* input the connection could not take yet */
	uint32_t hold_len, hold_off;
	struct msghdr msg;
	struct iovec iov[TX_IOV];
};

struct fw_reactor {
	struct io_uring ring;
	struct fw_subsys *s;
	const struct fw_config *cfg;
	struct fw_tcp_ctx *ctx;
	struct io_uring_buf_ring *br;
	uint8_t *rxbufs;
	struct fw_tcp_listener *ls;
	unsigned nls;
	struct op accept_op[MAX_LISTENERS];
	bool accept_armed[MAX_LISTENERS];
	bool accept_retry;
	struct op event_op, tick_op, sig_op, cancel_op;
	struct __kernel_timespec tick_ts;
	struct signalfd_siginfo siginfo;
	int sigfd;
	struct rconn *all;
	struct rconn *pending;
	unsigned refused;
	bool draining, forced;
	uint64_t now;
};

uint64_t fw_reactor_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct io_uring_sqe *get_sqe(struct fw_reactor *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);

	if (!sqe) {
		io_uring_submit(&r->ring);
		sqe = io_uring_get_sqe(&r->ring);
	}
	return sqe; /* after a submit the SQ has room: never NULL in practice */
}

static void mark_pending(struct rconn *rc)
{
	if (rc->on_pending)
		return;
	rc->on_pending = true;
	rc->pend_next = rc->r->pending;
	rc->r->pending = rc;
}

/* ---- hooks from conn.c ----------------------------------------------------------------- */

static void hook_tx_ready(struct fw_tcp_conn *c, void *owner)
{
	(void)c;
	mark_pending(owner);
}

static void hook_rx_resume(struct fw_tcp_conn *c, void *owner)
{
	struct rconn *rc = owner;

	(void)c;
	rc->resume = true;
	mark_pending(rc);
}

static void hook_closing(struct fw_tcp_conn *c, void *owner, bool linger)
{
	struct rconn *rc = owner;

	(void)c;
	if (!rc->closing)
		rc->linger = linger;
	else if (!linger)
		rc->linger = false; /* escalate a lingering close */
	rc->closing = true;
	mark_pending(rc);
}

static const struct fw_tcp_hooks reactor_hooks = {
	.tx_ready = hook_tx_ready,
	.rx_resume = hook_rx_resume,
	.closing = hook_closing,
};

/* ---- submissions ------------------------------------------------------------------------ */

static void arm_recv(struct rconn *rc)
{
	struct io_uring_sqe *sqe = get_sqe(rc->r);

	io_uring_prep_recv(sqe, rc->fd, NULL, RX_BUFSZ, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = RX_BGID;
	io_uring_sqe_set_data(sqe, &rc->rx_op);
	rc->rx_armed = true;
	rc->ops++;
}

static void arm_send(struct rconn *rc, int niov)
{
	struct io_uring_sqe *sqe = get_sqe(rc->r);

	memset(&rc->msg, 0, sizeof(rc->msg));
	rc->msg.msg_iov = rc->iov;
	rc->msg.msg_iovlen = (size_t)niov;
	io_uring_prep_sendmsg(sqe, rc->fd, &rc->msg, MSG_NOSIGNAL);
	io_uring_sqe_set_data(sqe, &rc->tx_op);
	rc->tx_busy = true;
	rc->ops++;
}

static void arm_accept(struct fw_reactor *r, unsigned i)
{
	struct io_uring_sqe *sqe = get_sqe(r);

	io_uring_prep_multishot_accept(sqe, r->ls[i].fd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data(sqe, &r->accept_op[i]);
	r->accept_armed[i] = true;
}

static void arm_event(struct fw_reactor *r)
{
	struct io_uring_sqe *sqe = get_sqe(r);

	io_uring_prep_poll_multishot(sqe, fw_subsys_event_fd(r->s), POLLIN);
	io_uring_sqe_set_data(sqe, &r->event_op);
}

static void arm_tick(struct fw_reactor *r)
{
	struct io_uring_sqe *sqe = get_sqe(r);

	r->tick_ts.tv_sec = 1;
	r->tick_ts.tv_nsec = 0;
	io_uring_prep_timeout(sqe, &r->tick_ts, 0, 0);
	io_uring_sqe_set_data(sqe, &r->tick_op);
}

static void arm_signal(struct fw_reactor *r)
{
	struct io_uring_sqe *sqe = get_sqe(r);

	io_uring_prep_read(sqe, r->sigfd, &r->siginfo, sizeof(r->siginfo), 0);
	io_uring_sqe_set_data(sqe, &r->sig_op);
}

/* ---- connections ----------------------------------------------------------------------- */

static void rconn_free(struct rconn *rc)
{
	struct fw_reactor *r = rc->r;

	if (rc->prev)
		rc->prev->next = rc->next;
	else
		r->all = rc->next;
	if (rc->next)
		rc->next->prev = rc->prev;
	close(rc->fd);
	free(rc->hold);
	free(rc);
}

static void sockaddr_text(const struct sockaddr_storage *ss, socklen_t sl, char *host,
			  size_t hostlen, uint16_t *port)
{
	char serv[8];

	if (getnameinfo((const struct sockaddr *)ss, sl, host, (socklen_t)hostlen, serv,
			sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV)) {
		snprintf(host, hostlen, "?");
		*port = 0;
		return;
	}
	*port = (uint16_t)atoi(serv);
}

static void new_connection(struct fw_reactor *r, unsigned li, int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[64], local[64], peer[96];
	uint16_t hport = 0, lport = 0;
	struct rconn *rc;
	int one = 1;

	if (r->draining) {
		close(fd);
		return;
	}
	if (fw_tcp_ctx_connections(r->ctx) >= r->cfg->max_connections) {
		if (!r->refused++)
			fw_warn("refusing connections beyond --max-connections %u",
				r->cfg->max_connections);
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		sockaddr_text(&ss, sl, host, sizeof(host), &hport);
	else
		snprintf(host, sizeof(host), "?");
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		sockaddr_text(&ss, sl, local, sizeof(local), &lport);
	else
		snprintf(local, sizeof(local), "%s", r->ls[li].addr);
	if (strchr(host, ':'))
		snprintf(peer, sizeof(peer), "[%s]:%u", host, hport);
	else
		snprintf(peer, sizeof(peer), "%s:%u", host, hport);

	rc = calloc(1, sizeof(*rc));
	if (!rc) {
		close(fd);
		return;
	}
	rc->r = r;
	rc->fd = fd;
	rc->rx_op.kind = OP_RECV;
	rc->rx_op.ptr = rc;
	rc->tx_op.kind = OP_SEND;
	rc->tx_op.ptr = rc;
	rc->c = fw_tcp_conn_create(r->ctx, rc, peer, local, lport, r->ls[li].discovery, r->now);
	if (!rc->c) {
		close(fd);
		free(rc);
		return;
	}
	rc->next = r->all;
	if (r->all)
		r->all->prev = rc;
	r->all = rc;
	fw_debug("%s: connected to %s port %u", peer, local, lport);
	arm_recv(rc);
}

/* Feed held-over input; true when all of it was taken. */
static bool feed_hold(struct rconn *rc)
{
	size_t n;

	if (!rc->hold)
		return true;
	n = fw_tcp_conn_input(rc->c, rc->hold + rc->hold_off, rc->hold_len - rc->hold_off, rc->r->now);
	rc->hold_off += (uint32_t)n;
	if (rc->hold_off < rc->hold_len)
		return false;
	free(rc->hold);
	rc->hold = NULL;
	rc->hold_len = rc->hold_off = 0;
	return true;
}

static void service(struct rconn *rc)
{
	struct fw_reactor *r = rc->r;

	if (rc->closing) {
		if (rc->linger && !rc->shut_wr && !rc->shut_rdwr) {
			shutdown(rc->fd, SHUT_WR);
			rc->shut_wr = true;
		} else if (!rc->linger && !rc->shut_rdwr) {
			shutdown(rc->fd, SHUT_RDWR);
			rc->shut_rdwr = true;
		}
		if (rc->linger && !rc->shut_rdwr && !rc->rx_armed) {
			arm_recv(rc); /* read until the host closes its side */
			return;
		}
		if (rc->ops == 0) {
			fw_tcp_conn_detach(rc->c);
			rconn_free(rc);
		}
		return;
	}
	if (rc->resume) {
		rc->resume = false;
		feed_hold(rc);
	}
	if (!rc->tx_busy) {
		int n = fw_tcp_conn_tx_iov(rc->c, rc->iov, TX_IOV);

		if (n > 0)
			arm_send(rc, n);
	}
	if (!rc->rx_armed && !rc->hold && !fw_tcp_conn_paused(rc->c) && !rc->closing)
		arm_recv(rc);
	(void)r;
}

static void flush_pending(struct fw_reactor *r)
{
	while (r->pending) {
		struct rconn *rc = r->pending;

		r->pending = rc->pend_next;
		rc->on_pending = false;
		service(rc);
	}
}

static void on_recv(struct fw_reactor *r, struct rconn *rc, const struct io_uring_cqe *cqe)
{
	int res = cqe->res;

	rc->ops--;
	rc->rx_armed = false;
	if (cqe->flags & IORING_CQE_F_BUFFER) {
		unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
		uint8_t *buf = r->rxbufs + (size_t)bid * RX_BUFSZ;

		if (res > 0 && !rc->closing) {
			size_t took = fw_tcp_conn_input(rc->c, buf, (size_t)res, r->now);

			if (took < (size_t)res && !fw_tcp_conn_closing(rc->c)) {
				rc->hold_len = (uint32_t)((size_t)res - took);
				rc->hold_off = 0;
				rc->hold = malloc(rc->hold_len);
				if (rc->hold)
					memcpy(rc->hold, buf + took, rc->hold_len);
				else
					fw_tcp_conn_close(rc->c, "out of memory for held input");
			}
		}
		io_uring_buf_ring_add(r->br, buf, RX_BUFSZ, (unsigned short)bid,
				      io_uring_buf_ring_mask(RX_NBUFS), 0);
		io_uring_buf_ring_advance(r->br, 1);
	}
	if (rc->closing) {
		if (res <= 0)
			rc->linger = false; /* the host closed its side: done lingering */
	} else if (res == 0) {
		fw_tcp_conn_close(rc->c, "host closed the connection");
	} else if (res < 0 && res != -ENOBUFS && res != -EINTR && res != -EAGAIN) {
		char why[96];

		snprintf(why, sizeof(why), "receive failed: %s", strerror(-res));
		fw_tcp_conn_close(rc->c, why);
	}
	mark_pending(rc);
}

static void on_send(struct fw_reactor *r, struct rconn *rc, int res)
{
	rc->ops--;
	rc->tx_busy = false;
	if (rc->closing) {
		/* a lingering close waits for the TermReq's own send: count it sent */
		if (res > 0)
			fw_tcp_conn_tx_done(rc->c, (size_t)res, r->now);
	} else if (res > 0) {
		fw_tcp_conn_tx_done(rc->c, (size_t)res, r->now);
	} else if (res != -EINTR && res != -EAGAIN) {
		char why[96];

		snprintf(why, sizeof(why), "send failed: %s", strerror(-res));
		fw_tcp_conn_close(rc->c, why);
	}
	mark_pending(rc);
}

/* ---- signals, ticks, shutdown ---------------------------------------------------------- */

static void start_drain(struct fw_reactor *r)
{
	if (r->draining) {
		fw_info("second signal: closing every connection now");
		r->forced = true;
		fw_tcp_ctx_drain(r->ctx, r->now, true);
		return;
	}
	fw_info("shutting down: no new connections, finishing outstanding commands");
	r->draining = true;
	for (unsigned i = 0; i < r->nls; i++) {
		struct io_uring_sqe *sqe = get_sqe(r);

		io_uring_prep_cancel(sqe, &r->accept_op[i], 0);
		io_uring_sqe_set_data(sqe, &r->cancel_op);
	}
	fw_tcp_ctx_drain(r->ctx, r->now, false);
}

static void on_tick(struct fw_reactor *r)
{
	fw_subsys_tick(r->s, r->now);
	fw_tcp_ctx_tick(r->ctx, r->now);
	if (r->refused > 1)
		fw_warn("refused %u connections beyond --max-connections in the last second",
			r->refused - 1);
	r->refused = 0;
	if (r->accept_retry && !r->draining) {
		r->accept_retry = false;
		for (unsigned i = 0; i < r->nls; i++)
			if (!r->accept_armed[i])
				arm_accept(r, i);
	}
	arm_tick(r);
}

static void on_accept(struct fw_reactor *r, unsigned i, const struct io_uring_cqe *cqe)
{
	if (cqe->res >= 0)
		new_connection(r, i, cqe->res);
	if (cqe->flags & IORING_CQE_F_MORE)
		return;
	r->accept_armed[i] = false;
	if (r->draining) {
		close(r->ls[i].fd); /* new hosts are refused by the kernel from now on */
		r->ls[i].fd = -1;
		return;
	}
	if (cqe->res == -EMFILE || cqe->res == -ENFILE || cqe->res == -ENOMEM) {
		fw_warn("accept on port %u: %s; retrying in a second", r->ls[i].port,
			strerror(-cqe->res));
		r->accept_retry = true;
		return;
	}
	arm_accept(r, i);
}

static bool finished(struct fw_reactor *r)
{
	if (!r->draining || r->all || !fw_tcp_ctx_idle(r->ctx))
		return false;
	for (unsigned i = 0; i < r->nls; i++)
		if (r->accept_armed[i])
			return false;
	return fw_subsys_inflight(r->s) == 0;
}

static int setup_buffers(struct fw_reactor *r, char *err, size_t errlen)
{
	struct io_uring_buf_reg reg = { 0 };
	int rc;

	void *br = NULL, *bufs = NULL;

	if (posix_memalign(&br, 4096, RX_NBUFS * sizeof(struct io_uring_buf)) ||
	    posix_memalign(&bufs, 4096, (size_t)RX_NBUFS * RX_BUFSZ)) {
		free(br);
		snprintf(err, errlen, "reactor: out of memory for receive buffers");
		return -ENOMEM;
	}
	r->br = br;
	r->rxbufs = bufs;
	memset(r->br, 0, RX_NBUFS * sizeof(struct io_uring_buf));
	reg.ring_addr = (unsigned long)r->br;
	reg.ring_entries = RX_NBUFS;
	reg.bgid = RX_BGID;
	rc = io_uring_register_buf_ring(&r->ring, &reg, 0);
	if (rc) {
		snprintf(err, errlen, "io_uring: registering the receive buffer ring: %s "
			 "(needs Linux 5.19)", strerror(-rc));
		return rc;
	}
	io_uring_buf_ring_init(r->br);
	for (unsigned i = 0; i < RX_NBUFS; i++)
		io_uring_buf_ring_add(r->br, r->rxbufs + (size_t)i * RX_BUFSZ, RX_BUFSZ,
				      (unsigned short)i, io_uring_buf_ring_mask(RX_NBUFS), (int)i);
	io_uring_buf_ring_advance(r->br, RX_NBUFS);
	return 0;
}

int fw_reactor_run(struct fw_subsys *s, const struct fw_config *cfg,
		   struct fw_tcp_listener *listeners, unsigned nlisteners, int sigfd,
		   char *err, size_t errlen)
{
	struct io_uring_params p = { 0 };
	struct fw_reactor *r;
	int rc;

	if (nlisteners > MAX_LISTENERS) {
		snprintf(err, errlen, "reactor: at most %d listeners", MAX_LISTENERS);
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "reactor: out of memory");
		return -ENOMEM;
	}
	r->s = s;
	r->cfg = cfg;
	r->ls = listeners;
	r->nls = nlisteners;
	r->sigfd = sigfd;
	r->now = fw_reactor_now_ms();
	/* The command layer's clock starts now, not at the first 1 s tick: a controller
	 * connected in the first second must not look idle since time zero. */
	fw_subsys_tick(s, r->now);
	p.flags = IORING_SETUP_CQSIZE;
	p.cq_entries = CQ_ENTRIES;
	rc = io_uring_queue_init_params(RING_ENTRIES, &r->ring, &p);
	if (rc) {
		snprintf(err, errlen, "io_uring setup: %s", strerror(-rc));
		free(r);
		return rc;
	}
	rc = setup_buffers(r, err, errlen);
	if (rc)
		goto out;
	rc = fw_tcp_ctx_create(s, cfg, &reactor_hooks, &r->ctx, err, errlen);
	if (rc)
		goto out;

	for (unsigned i = 0; i < nlisteners; i++) {
		r->accept_op[i].kind = OP_ACCEPT;
		r->accept_op[i].ptr = (void *)(uintptr_t)i;
		arm_accept(r, i);
	}
	r->event_op.kind = OP_EVENT;
	r->tick_op.kind = OP_TICK;
	r->sig_op.kind = OP_SIGNAL;
	r->cancel_op.kind = OP_CANCEL;
	arm_event(r);
	arm_tick(r);
	arm_signal(r);

	while (!finished(r)) {
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;

		rc = io_uring_submit_and_wait(&r->ring, 1);
		if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
			snprintf(err, errlen, "io_uring wait: %s", strerror(-rc));
			break;
		}
		rc = 0;
		r->now = fw_reactor_now_ms();
		fw_subsys_clock(r->s, r->now);
		io_uring_for_each_cqe(&r->ring, head, cqe) {
			struct op *op = io_uring_cqe_get_data(cqe);

			seen++;
			if (!op)
				continue;
			switch (op->kind) {
			case OP_ACCEPT:
				on_accept(r, (unsigned)(uintptr_t)op->ptr, cqe);
				break;
			case OP_RECV:
				on_recv(r, op->ptr, cqe);
				break;
			case OP_SEND:
				on_send(r, op->ptr, cqe->res);
				break;
			case OP_EVENT:
				fw_subsys_poll(s);
				if (!(cqe->flags & IORING_CQE_F_MORE))
					arm_event(r);
				break;
			case OP_TICK:
				on_tick(r);
				break;
			case OP_SIGNAL:
				if (cqe->res == (int)sizeof(r->siginfo))
					start_drain(r);
				arm_signal(r);
				break;
			case OP_CANCEL:
				break;
			}
		}
		io_uring_cq_advance(&r->ring, seen);
		fw_tcp_ctx_run(r->ctx);
		flush_pending(r);
		fw_tcp_ctx_run(r->ctx);
		flush_pending(r);
	}

	fw_info("connections: %llu accepted, %llu closed, %llu C2HTermReq sent, %llu data digest "
		"errors, %llu commands",
		(unsigned long long)fw_tcp_ctx_stats(r->ctx)->accepted,
		(unsigned long long)fw_tcp_ctx_stats(r->ctx)->closed,
		(unsigned long long)fw_tcp_ctx_stats(r->ctx)->termreqs_sent,
		(unsigned long long)fw_tcp_ctx_stats(r->ctx)->ddgst_errors,
		(unsigned long long)fw_tcp_ctx_stats(r->ctx)->commands);
out:
	io_uring_queue_exit(&r->ring);
	if (r->ctx && fw_tcp_ctx_idle(r->ctx))
		fw_tcp_ctx_destroy(r->ctx);
	for (unsigned i = 0; i < nlisteners; i++) {
		if (listeners[i].fd >= 0)
			close(listeners[i].fd);
		listeners[i].fd = -1;
	}
	free(r->br);
	free(r->rxbufs);
	free(r);
	return rc;
}
