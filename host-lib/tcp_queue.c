/* One NVMe/TCP queue of the host: the ICReq/ICResp exchange, command submission with
 * in-capsule data or R2T-driven H2CData, and the receive state machine that turns the
 * device's untrusted byte stream (parsed by proto) into completions. Threads share a queue
 * through a leader/follower receiver role (DESIGN.md §2.2-2.3). */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "insitu/proto/digest.h"
#include "internal.h"

#define RX_CAP  (64u * 1024)
#define TX_CAP  256u

/* The receiver's message for the failure it returns (receiver-only). */
static _Thread_local char rx_msg[384];

INS_PRINTF(2, 3) static int rx_fail(int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rx_msg, sizeof(rx_msg), fmt, ap);
	va_end(ap);
	return rc;
}

void ins_req_init(struct ins_req *r, uint8_t opc, uint32_t nsid, void *buf, uint32_t len)
{
	memset(r, 0, sizeof(*r));
	insitu_sqe_init(&r->sqe, opc, 0, nsid);
	r->buf = buf;
	r->len = len;
	r->dir = len ? (uint8_t)insitu_opcode_dir(opc) : INSITU_DIR_NONE;
}

int tq_init(struct tq *q, int fd, const char *name, uint16_t qid, unsigned depth,
	    uint32_t timeout_ms)
{
	memset(q, 0, sizeof(*q));
	q->fd = fd;
	snprintf(q->name, sizeof(q->name), "%s", name);
	q->qid = qid;
	q->depth = depth;
	q->max_icd = INSITU_TCP_ADMIN_ICD_MAX;
	q->timeout_ms = timeout_ms;
	q->slot = calloc(depth, sizeof(*q->slot));
	q->free_cid = calloc(depth, sizeof(*q->free_cid));
	q->rx = malloc(RX_CAP);
	q->tx = malloc(TX_CAP);
	q->rx_cap = RX_CAP;
	if (!q->slot || !q->free_cid || !q->rx || !q->tx) {
		free(q->slot);
		free(q->free_cid);
		free(q->rx);
		free(q->tx);
		close(fd);
		q->fd = -1;
		return ins_fail(-ENOMEM, "%s: out of memory", name);
	}
	/* CIDs are handed out from the top of the stack: 0 first */
	for (unsigned i = 0; i < depth; i++)
		q->free_cid[i] = (uint16_t)(depth - 1 - i);
	q->nfree = depth;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	pthread_mutex_init(&q->send_lock, NULL);
	return 0;
}

void tq_destroy(struct tq *q)
{
	if (!q->slot)
		return;
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->send_lock);
	free(q->slot);
	free(q->free_cid);
	free(q->rx);
	free(q->tx);
	q->slot = NULL;
}

/* ---- completion ---------------------------------------------------------------------- */

static void complete_locked(struct tq *q, struct ins_req *r, int result, uint16_t status)
{
	q->slot[r->cid] = NULL;
	q->free_cid[q->nfree++] = r->cid;
	r->result = result;
	r->status = status;
	r->done = true;
	if (r->async) {
		r->next = NULL;
		if (q->done_tail)
			q->done_tail->next = r;
		else
			q->done_head = r;
		q->done_tail = r;
		q->ndone++;
	}
	pthread_cond_broadcast(&q->cond);
}

static void complete_all_locked(struct tq *q)
{
	for (unsigned cid = 0; cid < q->depth; cid++)
		if (q->slot[cid])
			complete_locked(q, q->slot[cid], -q->dead, 0);
}

static void fail_locked(struct tq *q, int err, const char *msg)
{
	if (q->dead)
		return;
	q->dead = err < 0 ? -err : err;
	snprintf(q->dead_msg, sizeof(q->dead_msg), "%s", msg);
	/* wakes a receiver blocked in recv(); it completes the outstanding commands, whose
	 * buffers it may be writing into */
	if (q->fd >= 0)
		shutdown(q->fd, SHUT_RDWR);
	if (!q->receiving)
		complete_all_locked(q);
	pthread_cond_broadcast(&q->cond);
}

void tq_fail(struct tq *q, int err, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&q->lock);
	fail_locked(q, err, msg);
	pthread_mutex_unlock(&q->lock);
}

/* ---- socket I/O ---------------------------------------------------------------------- */

static int wait_readable(struct tq *q)
{
	struct pollfd p = { .fd = q->fd, .events = POLLIN };

	for (;;) {
		int n = poll(&p, 1, q->timeout_ms ? (int)q->timeout_ms : -1);

		if (n > 0)
			return 0;
		if (n == 0)
			return rx_fail(-ETIMEDOUT, "%s: no answer from the device within %u ms", q->name,
				       q->timeout_ms);
		if (errno != EINTR)
			return rx_fail(-errno, "%s: poll: %s", q->name, strerror(errno));
	}
}

static int recv_some(struct tq *q, void *dst, size_t cap, size_t *got)
{
	for (;;) {
		int rc = wait_readable(q);

		if (rc)
			return rc;
		ssize_t n = recv(q->fd, dst, cap, MSG_DONTWAIT);

		if (n > 0) {
			*got = (size_t)n;
			return 0;
		}
		if (n == 0)
			return rx_fail(-ECONNRESET, "%s: the device closed the connection", q->name);
		if (errno == EAGAIN || errno == EINTR)
			continue;
		return rx_fail(-errno, "%s: receive: %s", q->name, strerror(errno));
	}
}

/* Makes at least @need bytes available at q->rx + q->rx_start (@need <= RX_CAP). */
static int rx_fill(struct tq *q, size_t need)
{
	if (need > q->rx_cap)
		return rx_fail(-EPROTO, "%s: PDU header of %zu bytes exceeds the receive buffer",
			       q->name, need);
	if (q->rx_end - q->rx_start >= need)
		return 0;
	if (q->rx_start) {
		memmove(q->rx, q->rx + q->rx_start, q->rx_end - q->rx_start);
		q->rx_end -= q->rx_start;
		q->rx_start = 0;
	}
	while (q->rx_end < need) {
		size_t got;
		int rc = recv_some(q, q->rx + q->rx_end, q->rx_cap - q->rx_end, &got);

		if (rc)
			return rc;
		q->rx_end += got;
	}
	return 0;
}

/* Moves the next @n bytes of the stream to @dst: buffered ones first, the rest straight
 * from the socket (large C2HData lands in the caller's buffer without a copy). */
static int rx_read(struct tq *q, void *dst, size_t n)
{
	uint8_t *out = dst;
	size_t have = q->rx_end - q->rx_start;
	size_t take = have < n ? have : n;

	memcpy(out, q->rx + q->rx_start, take);
	q->rx_start += take;
	out += take;
	n -= take;
	while (n) {
		size_t got;
		int rc = recv_some(q, out, n, &got);

		if (rc)
			return rc;
		out += got;
		n -= got;
	}
	return 0;
}

static int rx_skip(struct tq *q, size_t n)
{
	int rc = rx_fill(q, n);

	if (rc)
		return rc;
	q->rx_start += n;
	return 0;
}

/* Sends every byte of @iov; the caller holds the send lock. */
static int send_all(struct tq *q, struct iovec *iov, int n)
{
	while (n > 0) {
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)n };
		ssize_t w = sendmsg(q->fd, &m, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* The H2CTermReq answering a PDU proto refused; best effort, the queue dies anyway. */
static void send_term(struct tq *q, const struct insitu_tcp_error *e)
{
	uint8_t buf[INSITU_TCP_TERM_PLEN_MAX];
	ssize_t n = insitu_tcp_build_term_for(&q->conn, buf, sizeof(buf), e, q->rx + q->rx_start,
					      q->rx_end - q->rx_start);

	if (n <= 0)
		return;
	struct iovec iov = { buf, (size_t)n };

	pthread_mutex_lock(&q->send_lock);
	(void)send_all(q, &iov, 1);
	pthread_mutex_unlock(&q->send_lock);
}

/* A fatal fault of the device's stream that proto did not see (it needs the command
 * table): answer with a TermReq carrying @fes/@fei, then fail. */
static int stream_fault(struct tq *q, const struct insitu_tcp_pdu *pdu, uint16_t fes,
			uint32_t fei, const char *why)
{
	struct insitu_tcp_error e = { .code = -EPROTO, .fes = fes, .fei = fei, .send_term = true,
				      .echo_len = pdu->hlen };
	uint8_t buf[INSITU_TCP_TERM_PLEN_MAX];
	ssize_t n = insitu_tcp_build_term(&q->conn, buf, sizeof(buf), fes, fei, pdu->hdr.raw,
					  pdu->hlen);

	(void)e;
	if (n > 0) {
		struct iovec iov = { buf, (size_t)n };

		pthread_mutex_lock(&q->send_lock);
		(void)send_all(q, &iov, 1);
		pthread_mutex_unlock(&q->send_lock);
	}
	return rx_fail(-EPROTO, "%s: device protocol error (%s): %s", q->name,
		       insitu_tcp_fes_name(fes), why);
}

/* ---- submission ---------------------------------------------------------------------- */

static int send_capsule(struct tq *q, struct ins_req *r)
{
	uint8_t hdr[INSITU_TCP_DIGEST_LEN * 2 + sizeof(struct insitu_tcp_cmd) + 128];
	uint8_t ddgst[INSITU_TCP_DIGEST_LEN];
	uint32_t icd = r->incapsule ? r->len : 0;

	r->sqe.cid = htole16(r->cid);
	if (icd)
		insitu_sqe_set_sgl_incapsule(&r->sqe, icd);
	else
		insitu_sqe_set_sgl_transport(&r->sqe, r->len);

	ssize_t hl = insitu_tcp_build_cmd_hdr(&q->conn, hdr, sizeof(hdr), &r->sqe, icd);

	if (hl < 0)
		return ins_fail((int)hl, "%s: cannot build a command capsule", q->name);
	struct iovec iov[3] = { { hdr, (size_t)hl } };
	int n = 1;

	if (icd) {
		iov[n++] = (struct iovec){ r->buf, icd };
		if (q->conn.ddgst) {
			insitu_digest_store(ddgst, insitu_tcp_data_digest(r->buf, icd));
			iov[n++] = (struct iovec){ ddgst, sizeof(ddgst) };
		}
	}
	pthread_mutex_lock(&q->send_lock);
	int rc = send_all(q, iov, n);
	pthread_mutex_unlock(&q->send_lock);
	if (rc)
		tq_fail(q, rc, "%s: send: %s", q->name, strerror(-rc));
	return 0;
}

typedef bool (*tq_pred)(struct tq *q, void *arg);

/* Holds q->lock. Returns with it held once @pred is true, receiving meanwhile when no other
 * thread does (DESIGN.md §2.3). A failed queue completes everything, so every predicate
 * becomes true. */
static void wait_until(struct tq *q, tq_pred pred, void *arg)
{
	while (!pred(q, arg)) {
		if (q->receiving) {
			pthread_cond_wait(&q->cond, &q->lock);
			continue;
		}
		if (q->dead) {
			complete_all_locked(q);
			if (!pred(q, arg))
				pthread_cond_wait(&q->cond, &q->lock);
			continue;
		}
		q->receiving = true;
		while (!q->dead && !pred(q, arg)) {
			pthread_mutex_unlock(&q->lock);
			int rc = tq_recv_one(q);
			pthread_mutex_lock(&q->lock);
			if (rc < 0)
				fail_locked(q, rc, rx_msg);
		}
		q->receiving = false;
		if (q->dead)
			complete_all_locked(q);
		pthread_cond_broadcast(&q->cond);
	}
}

static bool pred_free_cid(struct tq *q, void *arg)
{
	(void)arg;
	return q->nfree > 0 || q->dead;
}

static bool pred_req_done(struct tq *q, void *arg)
{
	(void)q;
	return ((struct ins_req *)arg)->done;
}

static int submit(struct tq *q, struct ins_req *r, bool wait)
{
	pthread_mutex_lock(&q->lock);
	if (!q->dead && q->nfree == 0) {
		if (!wait) {
			pthread_mutex_unlock(&q->lock);
			return -EAGAIN;
		}
		wait_until(q, pred_free_cid, NULL);
	}
	if (q->dead) {
		int rc = ins_fail(-q->dead, "%s", q->dead_msg);

		pthread_mutex_unlock(&q->lock);
		return rc;
	}
	r->cid = q->free_cid[--q->nfree];
	q->slot[r->cid] = r;
	r->done = false;
	r->result = 0;
	r->status = 0;
	r->forced_status = 0;
	r->incapsule = r->dir == INSITU_DIR_TO_CTRL && r->len <= q->max_icd;
	r->r2t_next = 0;
	insitu_tcp_xfer_init(&r->c2h, 0, r->len, false);
	pthread_mutex_unlock(&q->lock);
	return send_capsule(q, r);
}

int tq_submit(struct tq *q, struct ins_req *r)
{
	return submit(q, r, true);
}

int tq_submit_nowait(struct tq *q, struct ins_req *r)
{
	return submit(q, r, false);
}

int tq_wait(struct tq *q, struct ins_req *r)
{
	pthread_mutex_lock(&q->lock);
	wait_until(q, pred_req_done, r);
	int rc = r->result;

	if (rc < 0 && rc != -EREMOTEIO)
		ins_fail(rc, "%s", q->dead_msg);
	pthread_mutex_unlock(&q->lock);
	return rc;
}

int tq_exec(struct tq *q, struct ins_req *r)
{
	int rc = tq_submit(q, r);

	if (rc)
		return rc;
	return tq_wait(q, r);
}

struct reap_arg {
	unsigned min;
};

static bool pred_reap(struct tq *q, void *arg)
{
	unsigned min = ((struct reap_arg *)arg)->min;
	unsigned outstanding = q->depth - q->nfree;

	return q->ndone >= min || outstanding == 0 || q->dead;
}

unsigned tq_reap(struct tq *q, struct ins_req **out, unsigned max, unsigned min)
{
	struct reap_arg a = { min };
	unsigned n = 0;

	pthread_mutex_lock(&q->lock);
	wait_until(q, pred_reap, &a);
	while (n < max && q->done_head) {
		struct ins_req *r = q->done_head;

		q->done_head = r->next;
		if (!q->done_head)
			q->done_tail = NULL;
		q->ndone--;
		out[n++] = r;
	}
	pthread_mutex_unlock(&q->lock);
	return n;
}

unsigned tq_outstanding(struct tq *q)
{
	pthread_mutex_lock(&q->lock);
	unsigned n = q->depth - q->nfree;
	pthread_mutex_unlock(&q->lock);
	return n;
}

/* ---- receive ------------------------------------------------------------------------- */

/* Reads and validates the header of the next PDU (proto decides; we only feed bytes). */
static int recv_header(struct tq *q, struct insitu_tcp_pdu *pdu)
{
	struct insitu_tcp_error e;
	size_t need = sizeof(struct insitu_tcp_ch);

	/* three stages at most: common header, PDU header (+HDGST), nothing else */
	for (int stage = 0; stage < 4; stage++) {
		int rc = rx_fill(q, need);

		if (rc)
			return rc;
		size_t have = q->rx_end - q->rx_start;

		rc = insitu_tcp_pdu_parse_header(&q->conn, q->rx + q->rx_start, have, pdu, &e);
		if (rc == 0)
			return 0;
		if (rc == -EAGAIN) {
			need = have + e.need;
			continue;
		}
		if (rc == -EPROTO) {
			send_term(q, &e);
			return rx_fail(-EPROTO, "%s: device sent a malformed PDU (%s): %s", q->name,
				       insitu_tcp_fes_name(e.fes), e.msg);
		}
		return rx_fail(rc, "%s: PDU decoder: %s", q->name, e.msg);
	}
	return rx_fail(-EPROTO, "%s: PDU header never completed", q->name);
}

/* The outstanding request a PDU names, or NULL. */
static struct ins_req *lookup(struct tq *q, uint16_t cid)
{
	struct ins_req *r = NULL;

	pthread_mutex_lock(&q->lock);
	if (cid < q->depth)
		r = q->slot[cid];
	pthread_mutex_unlock(&q->lock);
	return r;
}

static void complete(struct tq *q, struct ins_req *r, uint16_t status, uint32_t dw0,
		     uint32_t dw1)
{
	pthread_mutex_lock(&q->lock);
	if (r->forced_status)
		status = r->forced_status;
	r->dw0 = dw0;
	r->dw1 = dw1;
	complete_locked(q, r, status ? -EREMOTEIO : 0, status);
	pthread_mutex_unlock(&q->lock);
}

static int on_c2h_data(struct tq *q, const struct insitu_tcp_pdu *pdu)
{
	uint16_t cid = le16toh(pdu->hdr.data.cccid);
	struct ins_req *r = lookup(q, cid);

	if (!r || r->dir != INSITU_DIR_TO_HOST)
		return stream_fault(q, pdu, INSITU_TCP_FES_INVALID_HEADER_FIELD, 8,
				    "C2HData for a command that is not an outstanding read");
	struct insitu_tcp_error e;

	if (insitu_tcp_xfer_accept(&r->c2h, pdu, &e) < 0)
		return stream_fault(q, pdu, e.fes, e.fei, e.msg);

	uint32_t hdr_len = pdu->hlen + (pdu->hdgst ? INSITU_TCP_DIGEST_LEN : 0);
	int rc = rx_skip(q, pdu->data_off);	/* header, HDGST and PAD */

	(void)hdr_len;
	if (rc)
		return rc;
	uint8_t *dst = (uint8_t *)r->buf + le32toh(pdu->hdr.data.datao);
	uint32_t datal = le32toh(pdu->hdr.data.datal);

	rc = rx_read(q, dst, datal);
	if (rc)
		return rc;
	if (pdu->ddgst) {
		uint8_t rx_dgst[INSITU_TCP_DIGEST_LEN];

		rc = rx_read(q, rx_dgst, sizeof(rx_dgst));
		if (rc)
			return rc;
		if (insitu_tcp_pdu_verify_ddgst(pdu, insitu_crc32c(dst, datal), rx_dgst, &e) < 0)
			r->forced_status = e.status;
	}
	if (pdu->flags & INSITU_TCP_F_SUCCESS)
		complete(q, r, 0, 0, 0);
	return 0;
}

static int on_r2t(struct tq *q, const struct insitu_tcp_pdu *pdu)
{
	uint16_t cid = le16toh(pdu->hdr.r2t.cccid);
	uint16_t ttag = le16toh(pdu->hdr.r2t.ttag);
	uint32_t r2to = le32toh(pdu->hdr.r2t.r2to);
	uint32_t r2tl = le32toh(pdu->hdr.r2t.r2tl);
	struct ins_req *r = lookup(q, cid);

	if (!r || r->dir != INSITU_DIR_TO_CTRL || r->incapsule)
		return stream_fault(q, pdu, INSITU_TCP_FES_INVALID_HEADER_FIELD, 8,
				    "R2T for a command that is not a write awaiting data");
	if (r2to != r->r2t_next)
		return stream_fault(q, pdu, INSITU_TCP_FES_PDU_SEQUENCE_ERROR, 0,
				    "R2T offset does not continue the previous one");
	if ((uint64_t)r2to + r2tl > r->len)
		return stream_fault(q, pdu, INSITU_TCP_FES_DATA_OUT_OF_RANGE, 0,
				    "R2T asks for bytes beyond the command's data");
	int rc = rx_skip(q, pdu->plen);

	if (rc)
		return rc;
	r->r2t_next = r2to + r2tl;

	uint32_t chunk = q->conn.maxh2cdata ? q->conn.maxh2cdata : INSITU_TCP_MIN_MAXH2CDATA;

	pthread_mutex_lock(&q->send_lock);
	for (uint32_t off = r2to; off < r2to + r2tl && rc == 0; off += chunk) {
		uint32_t n = r2to + r2tl - off < chunk ? r2to + r2tl - off : chunk;
		struct insitu_tcp_data_desc d = { .cccid = cid, .ttag = ttag, .datao = off,
						  .datal = n, .last = off + n == r2to + r2tl };
		uint8_t ddgst[INSITU_TCP_DIGEST_LEN];
		ssize_t hl = insitu_tcp_build_h2c_data_hdr(&q->conn, q->tx, TX_CAP, &d);

		if (hl < 0) {
			rc = rx_fail((int)hl, "%s: cannot build H2CData", q->name);
			break;
		}
		struct iovec iov[3] = { { q->tx, (size_t)hl },
					{ (uint8_t *)r->buf + off, n } };
		int niov = 2;

		if (q->conn.ddgst) {
			insitu_digest_store(ddgst, insitu_tcp_data_digest((uint8_t *)r->buf + off, n));
			iov[niov++] = (struct iovec){ ddgst, sizeof(ddgst) };
		}
		rc = send_all(q, iov, niov);
		if (rc)
			rc = rx_fail(rc, "%s: send: %s", q->name, strerror(-rc));
	}
	pthread_mutex_unlock(&q->send_lock);
	return rc;
}

int tq_recv_one(struct tq *q)
{
	struct insitu_tcp_pdu pdu;
	struct insitu_tcp_error e;
	int rc = recv_header(q, &pdu);

	if (rc)
		return rc;
	if (pdu.type == INSITU_TCP_C2H_DATA)
		return on_c2h_data(q, &pdu);
	if (pdu.type == INSITU_TCP_R2T)
		return on_r2t(q, &pdu);

	/* CapsuleResp and C2HTermReq are small: take them whole (PLEN was bounded by proto) */
	rc = rx_fill(q, pdu.plen);
	if (rc)
		return rc;
	rc = insitu_tcp_pdu_parse(&q->conn, q->rx + q->rx_start, q->rx_end - q->rx_start, &pdu, &e);
	if (rc == -EPROTO) {
		send_term(q, &e);
		return rx_fail(-EPROTO, "%s: device sent a malformed PDU (%s): %s", q->name,
			       insitu_tcp_fes_name(e.fes), e.msg);
	}
	if (rc)
		return rx_fail(rc < 0 ? rc : -EPROTO, "%s: PDU decoder: %s", q->name, e.msg);

	switch (pdu.type) {
	case INSITU_TCP_RSP: {
		const struct insitu_nvme_cqe *cqe = &pdu.hdr.rsp.cqe;
		struct ins_req *r = lookup(q, le16toh(cqe->cid));

		if (!r)
			return stream_fault(q, &pdu, INSITU_TCP_FES_INVALID_HEADER_FIELD, 20,
					    "CapsuleResp for a command that is not outstanding");
		q->rx_start += pdu.plen;
		complete(q, r, insitu_cqe_status(cqe), le32toh(cqe->dw0), le32toh(cqe->dw1));
		return 0;
	}
	case INSITU_TCP_C2H_TERM: {
		uint16_t fes = le16toh(pdu.hdr.term.fes);
		uint32_t fei = le32toh(pdu.hdr.term.fei);

		q->rx_start += pdu.plen;
		return rx_fail(-EPROTO, "%s: the device ended the connection: %s (FES %u, FEI %u)",
			       q->name, insitu_tcp_fes_name(fes), fes, fei);
	}
	default:
		/* ICResp after the exchange is refused by proto; nothing else is C2H */
		return stream_fault(q, &pdu, INSITU_TCP_FES_PDU_SEQUENCE_ERROR, 0,
				    "unexpected PDU type");
	}
}

/* ---- connection setup ---------------------------------------------------------------- */

int tq_handshake(struct tq *q, uint8_t digest, uint32_t max_c2h)
{
	struct insitu_tcp_params p;
	struct insitu_tcp_error e;
	uint8_t buf[sizeof(struct insitu_tcp_icreq)];

	insitu_tcp_params_default(INSITU_TCP_HOST, &p);
	p.digest = digest;
	p.max_c2h = max_c2h;
	if (insitu_tcp_conn_init(&q->conn, INSITU_TCP_HOST, &p, &e) < 0)
		return ins_fail(-EINVAL, "%s: %s", q->name, e.msg);
	ssize_t n = insitu_tcp_build_icreq(&q->conn, buf, sizeof(buf));

	if (n < 0)
		return ins_fail((int)n, "%s: cannot build ICReq", q->name);
	struct iovec iov = { buf, (size_t)n };
	int rc = send_all(q, &iov, 1);

	if (rc)
		return ins_fail(rc, "%s: sending ICReq: %s", q->name, strerror(-rc));

	struct insitu_tcp_pdu pdu;

	rc = recv_header(q, &pdu);
	if (rc == 0)
		rc = rx_fill(q, pdu.plen);
	if (rc)
		return ins_fail(rc, "%s", rx_msg);
	rc = insitu_tcp_pdu_parse(&q->conn, q->rx + q->rx_start, q->rx_end - q->rx_start, &pdu, &e);
	if (rc)
		return ins_fail(-EPROTO, "%s: ICResp refused: %s", q->name, e.msg);
	q->rx_start += pdu.plen;
	if (pdu.type == INSITU_TCP_C2H_TERM)
		return ins_fail(-EPROTO, "%s: the device refused the connection: %s", q->name,
				insitu_tcp_fes_name(le16toh(pdu.hdr.term.fes)));
	if (insitu_tcp_conn_accept_icresp(&q->conn, &pdu.hdr.icresp, &e) < 0)
		return ins_fail(-EPROTO, "%s: ICResp: %s", q->name, e.msg);
	return 0;
}
