/* One NVMe/TCP connection: the receive state machine (header, pad, data, digest), the
 * capsule checks and the command life through nvme/command.h, R2T/H2CData gathering,
 * C2HData and CapsuleResp output, TermReq, timeouts and teardown (DESIGN.md §6). No socket
 * here: the owner feeds bytes in and sends the iovecs this file hands out. */
#include "conn.h"

#include <endian.h>
#include <errno.h>
#include <nvme/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "insitu/proto/digest.h"
#include "insitu/proto/fabrics.h"
#include "insitu/proto/pdu.h"
#include "log.h"
#include "nvme/command.h"

enum conn_state {
	ST_IC,      /* waiting for the ICReq */
	ST_LIVE,    /* capsules and data flow */
	ST_TERM,    /* C2HTermReq queued; input dropped */
	ST_CLOSING, /* the owner is shutting the socket down */
};

enum rx_phase { RX_HDR, RX_PAD, RX_DATA, RX_DDGST, RX_WAIT_ICD };

enum cmd_state {
	CMD_NEW,      /* capsule header seen, in-capsule data arriving */
	CMD_WAIT_BUF, /* prepared; waiting for a command buffer */
	CMD_H2C,      /* R2T sent; gathering H2CData */
	CMD_EXEC,     /* between fw_cmd_execute() and done() */
	CMD_TX,       /* response (and C2HData) queued */
	CMD_DEAD,     /* came back after the connection closed; freed at detach */
};

enum tx_kind { TX_CTL, TX_XFER, TX_RSP };

struct tx_item {
	struct tx_item *next;
	const uint8_t *hdr;
	uint32_t hdr_len;
	const uint8_t *data;
	uint32_t data_len;
	uint8_t ddgst[4];
	uint8_t ddgst_len;
	bool more;       /* another PDU of this item follows (C2HData chunks) */
	bool queued;
	uint8_t kind;
	uint32_t sent;   /* bytes of the current PDU already sent */
	struct fw_tcp_cmd *cmd;
};

struct fw_tcp_cmd {
	struct fw_cmd fw;
	struct fw_tcp_conn *conn;
	struct fw_tcp_cmd *prev, *next;  /* the connection's command list */
	struct fw_tcp_cmd *wait_next;    /* the connection's buffer-wait FIFO */
	enum cmd_state state;
	bool counted;                    /* counts toward the queue depth */
	bool aer;                        /* Asynchronous Event Request (may be held) */
	bool ddgst_bad;                  /* an H2CData of this command failed its digest */
	uint16_t cid;
	uint16_t ttag;
	uint8_t *buf;
	uint32_t buf_cap;
	uint32_t icd_len;
	struct insitu_tcp_xfer xfer;
	uint32_t c2h_off, c2h_end;
	struct tx_item xfer_tx, rsp_tx;
	uint8_t hdr[160];                /* R2T or C2HData header (+HDGST, PAD) */
	uint8_t rsp[32];                 /* CapsuleResp (+HDGST) */
};

struct fw_tcp_conn {
	struct fw_tcp_ctx *ctx;
	void *owner;
	struct fw_tcp_conn *prev, *next; /* ctx->conns, then ctx->reap */
	struct fw_tcp_conn *wait_next;   /* ctx->waiters */
	bool on_wait_list;
	struct insitu_tcp_conn codec;
	struct fw_queue *q;
	enum conn_state state;
	bool detached;
	bool rx_stalled;                 /* input was refused; rx_resume() owed */
	bool discovery;
	char peer[64];
	uint64_t created_ms, rx_ms, tx_ms, closing_ms;

	/* receive */
	enum rx_phase rx;
	uint8_t hdr[136];
	uint32_t hdr_have, hdr_need;
	struct insitu_tcp_pdu pdu;
	uint8_t *dst;
	uint32_t left, pad_left, ddgst_have;
	uint8_t ddgst[4];
	struct insitu_crc32c crc;
	struct fw_tcp_cmd *rx_cmd;

	/* commands */
	struct fw_tcp_cmd *cmds;
	struct fw_tcp_cmd *wait_head, *wait_tail;
	struct fw_tcp_cmd *free_cmds;
	unsigned nfree, outstanding, executing, h2c_waiting;
	uint64_t buf_bytes;
	uint16_t ttag_next;

	/* transmit */
	struct tx_item *txh, *txt;
	unsigned tx_count, tx_inflight;
	struct tx_item ctl;
	uint8_t ctl_buf[INSITU_TCP_TERM_PLEN_MAX + 8];
};

struct fw_tcp_ctx {
	struct fw_subsys *subsys;
	const struct fw_config *cfg;
	struct fw_tcp_hooks hooks;
	struct fw_tcp_bufpool pool;
	uint64_t conn_buf_cap;           /* bytes of buffers one connection may hold */
	uint64_t cmd_buf_limit;          /* pool bytes R2T/C2H buffers may use */
	struct fw_tcp_conn *conns;       /* live, not detached */
	struct fw_tcp_conn *reap;        /* detached, waiting for executing commands */
	struct fw_tcp_conn *wait_head, *wait_tail;
	bool buf_released;
	bool draining;
	uint64_t drain_deadline_ms;
	uint64_t now_ms;
	unsigned nconns;
	struct fw_tcp_stats stats;
};

static const struct fw_queue_ops conn_queue_ops;

static void conn_close_internal(struct fw_tcp_conn *c, const char *reason, bool linger);
static void conn_check_drain(struct fw_tcp_conn *c);

/* ---- small helpers ------------------------------------------------------------------- */

static void list_push(struct fw_tcp_conn **head, struct fw_tcp_conn *c)
{
	c->prev = NULL;
	c->next = *head;
	if (*head)
		(*head)->prev = c;
	*head = c;
}

static void list_del(struct fw_tcp_conn **head, struct fw_tcp_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

static uint32_t queue_depth_limit(const struct fw_tcp_conn *c)
{
	uint32_t d = c->q ? fw_queue_depth(c->q) : 0;

	return d ? d : 1; /* before Connect only the Connect itself */
}

static unsigned tx_limit(const struct fw_tcp_conn *c)
{
	return 2 * queue_depth_limit(c) + 8;
}

static bool at_pdu_boundary(const struct fw_tcp_conn *c)
{
	return c->rx == RX_HDR && c->hdr_have == 0;
}

static bool rx_blocked(const struct fw_tcp_conn *c)
{
	if (c->rx == RX_WAIT_ICD)
		return true;
	return at_pdu_boundary(c) && c->tx_count > tx_limit(c);
}

static void maybe_resume(struct fw_tcp_conn *c)
{
	if (c->rx_stalled && !rx_blocked(c) && c->state <= ST_LIVE) {
		c->rx_stalled = false;
		c->ctx->hooks.rx_resume(c, c->owner);
	}
}

/* ---- transmit queue ------------------------------------------------------------------ */

static void tx_push_tail(struct fw_tcp_conn *c, struct tx_item *it)
{
	if (!c->txh)
		c->tx_ms = c->ctx->now_ms;
	it->next = NULL;
	it->sent = 0;
	it->queued = true;
	if (c->txt)
		c->txt->next = it;
	else
		c->txh = it;
	c->txt = it;
	c->tx_count++;
	c->ctx->hooks.tx_ready(c, c->owner);
}

/* Queues a PDU that is a header alone (ICResp, R2T, CapsuleResp, TermReq). A header the
 * builder refused (n <= 0) goes out empty, which never happens with our own buffers. */
static void tx_push_header(struct fw_tcp_conn *c, struct tx_item *it, const uint8_t *hdr,
			   ssize_t n)
{
	it->hdr = hdr;
	it->hdr_len = n > 0 ? (uint32_t)n : 0;
	it->data = NULL;
	it->data_len = 0;
	it->ddgst_len = 0;
	it->more = false;
	tx_push_tail(c, it);
}

static void tx_push_head(struct fw_tcp_conn *c, struct tx_item *it)
{
	it->sent = 0;
	it->queued = true;
	it->next = c->txh;
	c->txh = it;
	if (!c->txt)
		c->txt = it;
	c->tx_count++;
	c->ctx->hooks.tx_ready(c, c->owner);
}

static struct tx_item *tx_pop(struct fw_tcp_conn *c)
{
	struct tx_item *it = c->txh;

	c->txh = it->next;
	if (!c->txh)
		c->txt = NULL;
	it->next = NULL;
	it->queued = false;
	c->tx_count--;
	return it;
}

/* Drop everything queued after the items of the send in flight. */
static void tx_drop_unsent(struct fw_tcp_conn *c)
{
	struct tx_item *keep = NULL, *it = c->txh;
	unsigned n = 0;

	while (it && n < c->tx_inflight) {
		keep = it;
		it = it->next;
		n++;
	}
	while (it) {
		struct tx_item *next = it->next;

		it->queued = false;
		it->next = NULL;
		c->tx_count--;
		it = next;
	}
	if (keep) {
		keep->next = NULL;
		c->txt = keep;
	} else {
		c->txh = c->txt = NULL;
	}
}

static uint64_t tx_item_len(const struct tx_item *it)
{
	return (uint64_t)it->hdr_len + it->data_len + it->ddgst_len;
}

int fw_tcp_conn_tx_iov(struct fw_tcp_conn *c, struct iovec *iov, int max)
{
	int n = 0;
	uint64_t bytes = 0;
	unsigned items = 0;

	for (struct tx_item *it = c->txh; it && n + 3 <= max; it = it->next) {
		struct { const void *p; uint32_t len; } seg[3] = {
			{ it->hdr, it->hdr_len }, { it->data, it->data_len },
			{ it->ddgst, it->ddgst_len },
		};
		uint32_t skip = it->sent;

		for (int s = 0; s < 3; s++) {
			if (skip >= seg[s].len) {
				skip -= seg[s].len;
				continue;
			}
			iov[n].iov_base = (void *)((const uint8_t *)seg[s].p + skip);
			iov[n].iov_len = seg[s].len - skip;
			bytes += iov[n].iov_len;
			skip = 0;
			n++;
		}
		items++;
		if (it->more || bytes >= (1u << 20))
			break;
	}
	c->tx_inflight = items;
	return n;
}

static void cmd_free(struct fw_tcp_cmd *cmd);
static void c2h_next_chunk(struct fw_tcp_cmd *cmd);

static void tx_item_sent(struct fw_tcp_conn *c, struct tx_item *it)
{
	switch (it->kind) {
	case TX_CTL:
		if (c->state == ST_TERM)
			conn_close_internal(c, "C2HTermReq sent", true);
		break;
	case TX_XFER:
		if (it->cmd->state == CMD_TX && it->cmd->c2h_off < it->cmd->c2h_end) {
			c2h_next_chunk(it->cmd);
			tx_push_head(c, it);
		}
		break;
	case TX_RSP:
		cmd_free(it->cmd);
		break;
	}
}

void fw_tcp_conn_tx_done(struct fw_tcp_conn *c, size_t n, uint64_t now_ms)
{
	c->ctx->now_ms = now_ms;
	c->tx_ms = now_ms;
	c->tx_inflight = 0;
	while (n && c->txh) {
		struct tx_item *it = c->txh;
		uint64_t rem = tx_item_len(it) - it->sent;

		if (n < rem) {
			it->sent += (uint32_t)n;
			break;
		}
		n -= rem;
		tx_item_sent(c, tx_pop(c));
	}
	if (c->state >= ST_TERM)
		return;
	maybe_resume(c);
	conn_check_drain(c);
}

/* ---- commands ------------------------------------------------------------------------ */

static struct fw_tcp_cmd *cmd_alloc(struct fw_tcp_conn *c)
{
	struct fw_tcp_cmd *cmd = c->free_cmds;

	if (cmd) {
		c->free_cmds = cmd->next;
		c->nfree--;
	} else {
		void *mem = NULL;

		if (posix_memalign(&mem, 64, sizeof(*cmd)))
			return NULL;
		cmd = mem;
	}
	memset(cmd, 0, sizeof(*cmd));
	cmd->conn = c;
	cmd->state = CMD_NEW;
	cmd->next = c->cmds;
	if (c->cmds)
		c->cmds->prev = cmd;
	c->cmds = cmd;
	cmd->xfer_tx.kind = TX_XFER;
	cmd->xfer_tx.cmd = cmd;
	cmd->rsp_tx.kind = TX_RSP;
	cmd->rsp_tx.cmd = cmd;
	c->ctx->stats.commands++;
	return cmd;
}

static void cmd_put_buf(struct fw_tcp_cmd *cmd)
{
	struct fw_tcp_conn *c = cmd->conn;

	if (!cmd->buf)
		return;
	fw_tcp_buf_put(&c->ctx->pool, cmd->buf, cmd->buf_cap);
	c->buf_bytes -= cmd->buf_cap;
	cmd->buf = NULL;
	cmd->buf_cap = 0;
	c->ctx->buf_released = true;
}

static void cmd_uncount(struct fw_tcp_cmd *cmd)
{
	if (cmd->counted) {
		cmd->counted = false;
		cmd->conn->outstanding--;
	}
}

static void cmd_free(struct fw_tcp_cmd *cmd)
{
	struct fw_tcp_conn *c = cmd->conn;

	cmd_put_buf(cmd);
	cmd_uncount(cmd);
	if (cmd->state == CMD_H2C)
		c->h2c_waiting--;
	if (c->rx_cmd == cmd)
		c->rx_cmd = NULL;
	if (cmd->prev)
		cmd->prev->next = cmd->next;
	else
		c->cmds = cmd->next;
	if (cmd->next)
		cmd->next->prev = cmd->prev;
	if (c->nfree < FW_TCP_CMD_CACHE && !c->detached) {
		cmd->next = c->free_cmds;
		c->free_cmds = cmd;
		c->nfree++;
	} else {
		free(cmd);
	}
}

/* A buffer for cmd: icd (in-capsule data, may use the whole pool) or a command buffer
 * (bounded per connection and to 3/4 of the pool, so in-capsule data always finds room). */
static int cmd_get_buf(struct fw_tcp_cmd *cmd, uint32_t len, bool icd)
{
	struct fw_tcp_conn *c = cmd->conn;
	struct fw_tcp_ctx *ctx = c->ctx;
	uint32_t cap = fw_tcp_buf_capacity(&ctx->pool, len);
	void *b;

	if (!cap)
		return -EINVAL;
	if (!icd && c->buf_bytes + cap > ctx->conn_buf_cap)
		return -EAGAIN;
	b = fw_tcp_buf_get(&ctx->pool, len, icd ? ctx->pool.budget : ctx->cmd_buf_limit);
	if (!b)
		return -EAGAIN;
	cmd->buf = b;
	cmd->buf_cap = cap;
	c->buf_bytes += cap;
	return 0;
}

static void wait_list_add(struct fw_tcp_conn *c)
{
	struct fw_tcp_ctx *ctx = c->ctx;

	if (c->on_wait_list)
		return;
	c->on_wait_list = true;
	c->wait_next = NULL;
	if (ctx->wait_tail)
		ctx->wait_tail->wait_next = c;
	else
		ctx->wait_head = c;
	ctx->wait_tail = c;
}

static void wait_list_remove(struct fw_tcp_conn *c)
{
	struct fw_tcp_ctx *ctx = c->ctx;
	struct fw_tcp_conn *prev = NULL;

	if (!c->on_wait_list)
		return;
	for (struct fw_tcp_conn *w = ctx->wait_head; w; prev = w, w = w->wait_next) {
		if (w != c)
			continue;
		if (prev)
			prev->wait_next = w->wait_next;
		else
			ctx->wait_head = w->wait_next;
		if (ctx->wait_tail == w)
			ctx->wait_tail = prev;
		break;
	}
	c->on_wait_list = false;
	c->wait_next = NULL;
}

static void queue_rsp(struct fw_tcp_cmd *cmd)
{
	struct fw_tcp_conn *c = cmd->conn;
	ssize_t n = insitu_tcp_build_rsp(&c->codec, cmd->rsp, sizeof(cmd->rsp), &cmd->fw.cqe);

	tx_push_header(c, &cmd->rsp_tx, cmd->rsp, n);
}

/* Complete cmd with a status of the transport's own, without the command layer. */
static void respond_status(struct fw_tcp_cmd *cmd, uint16_t status)
{
	struct fw_tcp_conn *c = cmd->conn;

	insitu_cqe_init(&cmd->fw.cqe, cmd->cid, c->q ? fw_queue_qid(c->q) : 0, 0, status, 0, 0);
	cmd->state = CMD_TX;
	cmd_put_buf(cmd);
	cmd_uncount(cmd);
	queue_rsp(cmd);
}

static void c2h_next_chunk(struct fw_tcp_cmd *cmd)
{
	struct fw_tcp_conn *c = cmd->conn;
	uint32_t len = cmd->c2h_end - cmd->c2h_off;
	struct insitu_tcp_data_desc d = { 0 };
	ssize_t n;

	if (len > FW_TCP_C2H_CHUNK)
		len = FW_TCP_C2H_CHUNK;
	d.cccid = cmd->cid;
	d.datao = cmd->c2h_off;
	d.datal = len;
	d.last = cmd->c2h_off + len == cmd->c2h_end;
	n = insitu_tcp_build_c2h_data_hdr(&c->codec, cmd->hdr, sizeof(cmd->hdr), &d);
	cmd->xfer_tx.hdr = cmd->hdr;
	cmd->xfer_tx.hdr_len = n > 0 ? (uint32_t)n : 0;
	cmd->xfer_tx.data = cmd->buf + cmd->c2h_off;
	cmd->xfer_tx.data_len = len;
	cmd->xfer_tx.ddgst_len = 0;
	if (c->codec.ddgst) {
		insitu_digest_store(cmd->xfer_tx.ddgst, insitu_tcp_data_digest(cmd->xfer_tx.data, len));
		cmd->xfer_tx.ddgst_len = INSITU_TCP_DIGEST_LEN;
	}
	cmd->xfer_tx.more = !d.last;
	cmd->c2h_off += len;
}

static void cmd_done(struct fw_cmd *fw)
{
	struct fw_tcp_cmd *cmd = fw->transport_priv;
	struct fw_tcp_conn *c = cmd->conn;

	c->executing--;
	if (c->detached) {
		cmd->state = CMD_DEAD;
		cmd_free(cmd);
		return;
	}
	if (c->state >= ST_TERM) {
		cmd->state = CMD_DEAD; /* its memory may be in a send in flight: freed at detach */
		return;
	}
	cmd->state = CMD_TX;
	cmd_uncount(cmd);
	if (fw->dir == FW_DIR_C2H && insitu_cqe_status(&fw->cqe) == 0 && fw->xfer_len && cmd->buf) {
		cmd->c2h_off = 0;
		cmd->c2h_end = fw->xfer_len < fw->data_len ? fw->xfer_len : fw->data_len;
		c2h_next_chunk(cmd);
		tx_push_tail(c, &cmd->xfer_tx);
	}
	queue_rsp(cmd);
}

static void cmd_execute(struct fw_tcp_cmd *cmd)
{
	struct fw_tcp_conn *c = cmd->conn;

	cmd->state = CMD_EXEC;
	cmd->fw.buf = cmd->fw.data_len ? cmd->buf : NULL;
	c->executing++;
	fw_cmd_execute(c->q, &cmd->fw);
	/* cmd may be gone: done() can run inline */
}

static void send_r2t(struct fw_tcp_cmd *cmd)
{
	struct fw_tcp_conn *c = cmd->conn;
	ssize_t n;

	cmd->ttag = c->ttag_next++;
	n = insitu_tcp_build_r2t(&c->codec, cmd->hdr, sizeof(cmd->hdr), cmd->cid, cmd->ttag, 0,
				 cmd->fw.data_len);
	insitu_tcp_xfer_init(&cmd->xfer, 0, cmd->fw.data_len, true);
	cmd->state = CMD_H2C;
	c->h2c_waiting++;
	if (c->h2c_waiting == 1)
		c->rx_ms = c->ctx->now_ms; /* the R2T timeout counts from now */
	tx_push_header(c, &cmd->xfer_tx, cmd->hdr, n);
}

/* The command has its buffer (or needs none): R2T, or execute. */
static void cmd_start(struct fw_tcp_cmd *cmd)
{
	if (cmd->fw.dir == FW_DIR_H2C && cmd->fw.data_len && !cmd->icd_len)
		send_r2t(cmd);
	else
		cmd_execute(cmd);
}

/* Commands waiting for a buffer, in arrival order; true when none is left waiting. */
static bool conn_retry_buffers(struct fw_tcp_conn *c)
{
	while (c->wait_head) {
		struct fw_tcp_cmd *cmd = c->wait_head;

		if (cmd_get_buf(cmd, cmd->fw.data_len, false))
			return false;
		c->wait_head = cmd->wait_next;
		if (!c->wait_head)
			c->wait_tail = NULL;
		cmd->wait_next = NULL;
		cmd_start(cmd);
		if (c->state > ST_LIVE)
			return true;
	}
	return true;
}

static void conn_fatal(struct fw_tcp_conn *c, const struct insitu_tcp_error *e);

/* The capsule and its in-capsule data are here: DESIGN.md §6's checks, then prepare. */
static void capsule_ready(struct fw_tcp_conn *c, struct fw_tcp_cmd *cmd)
{
	const struct insitu_nvme_sqe *sqe = &cmd->fw.sqe;
	uint16_t qid = c->q ? fw_queue_qid(c->q) : 0;
	uint32_t max_icd;
	uint16_t st;

	if (c->ctx->draining) {
		cmd_free(cmd);
		conn_check_drain(c);
		return;
	}
	if (c->outstanding >= queue_depth_limit(c)) {
		fw_warn("%s: command %u beyond the queue depth %u", c->peer, cmd->cid,
			queue_depth_limit(c));
		respond_status(cmd, insitu_status(NVME_SCT_GENERIC, NVME_SC_CMD_INTERRUPTED, false));
		return;
	}
	for (struct fw_tcp_cmd *o = c->cmds; o; o = o->next) {
		if (o != cmd && o->counted && o->cid == cmd->cid) {
			respond_status(cmd, insitu_status(NVME_SCT_GENERIC, NVME_SC_CMDID_CONFLICT, true));
			return;
		}
	}
	cmd->counted = true;
	c->outstanding++;

	max_icd = (qid == 0 || insitu_nvmf_is_fabrics(sqe)) ? INSITU_TCP_ADMIN_ICD_MAX
							    : c->ctx->cfg->max_icd_bytes;
	st = insitu_sqe_check_tcp_sgl(sqe, cmd->icd_len, max_icd);
	if (!st && cmd->icd_len && insitu_opcode_dir(sqe->opc) == INSITU_DIR_TO_HOST)
		st = insitu_status(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD, true);
	if (st) {
		respond_status(cmd, st);
		return;
	}
	cmd->aer = qid == 0 && sqe->opc == nvme_admin_async_event;
	cmd->fw.buf_len = cmd->icd_len ? cmd->icd_len : insitu_sqe_data_len(sqe);
	cmd->fw.done = cmd_done;
	cmd->fw.transport_priv = cmd;
	st = fw_cmd_prepare(c->q, &cmd->fw);
	if (st) {
		cmd->state = CMD_TX;
		cmd_put_buf(cmd);
		cmd_uncount(cmd);
		queue_rsp(cmd);
		return;
	}
	if (cmd->fw.data_len > cmd->fw.buf_len || cmd->fw.data_len > c->ctx->pool.max_buf) {
		fw_err("%s: command %u: the command layer asked for %u bytes of a %u-byte buffer",
		       c->peer, cmd->cid, cmd->fw.data_len, cmd->fw.buf_len);
		respond_status(cmd, insitu_status(NVME_SCT_GENERIC, NVME_SC_INTERNAL, true));
		return;
	}
	if (cmd->fw.dir == FW_DIR_NONE || !cmd->fw.data_len ||
	    (cmd->buf && cmd->buf_cap >= cmd->fw.data_len)) {
		cmd_start(cmd);
		return;
	}
	cmd_put_buf(cmd);
	cmd->state = CMD_WAIT_BUF;
	cmd->wait_next = NULL;
	if (c->wait_tail)
		c->wait_tail->wait_next = cmd;
	else
		c->wait_head = cmd;
	c->wait_tail = cmd;
	if (!conn_retry_buffers(c))
		wait_list_add(c);
}

/* ---- receive ------------------------------------------------------------------------- */

static void rx_next_pdu(struct fw_tcp_conn *c)
{
	c->rx = RX_HDR;
	c->hdr_have = 0;
	c->hdr_need = sizeof(struct insitu_tcp_ch);
	c->rx_cmd = NULL;
	c->dst = NULL;
}

static void rx_start_data(struct fw_tcp_conn *c, uint8_t *dst)
{
	uint32_t hdr_len = c->pdu.hlen + (c->pdu.hdgst ? INSITU_TCP_DIGEST_LEN : 0);

	c->dst = dst;
	c->left = c->pdu.data_len;
	c->pad_left = c->pdu.data_off > hdr_len ? c->pdu.data_off - hdr_len : 0;
	c->ddgst_have = 0;
	insitu_crc32c_init(&c->crc);
	c->rx = c->pad_left ? RX_PAD : RX_DATA;
}

static void conn_fatal_code(struct fw_tcp_conn *c, uint16_t fes, uint32_t fei, const char *why)
{
	struct insitu_tcp_error e = { 0 };

	e.code = -EPROTO;
	e.fes = fes;
	e.fei = fei;
	e.send_term = true;
	e.echo_len = c->pdu.hlen;
	snprintf(e.msg, sizeof(e.msg), "%s", why);
	conn_fatal(c, &e);
}

static void on_icreq(struct fw_tcp_conn *c)
{
	struct insitu_tcp_icresp icresp;
	struct insitu_tcp_error e;
	ssize_t n;

	if (insitu_tcp_conn_accept_icreq(&c->codec, &c->pdu.hdr.icreq, &icresp, &e)) {
		conn_close_internal(c, e.msg, false);
		return;
	}
	n = insitu_tcp_build_icresp(&icresp, c->ctl_buf, sizeof(c->ctl_buf));
	if (n <= 0) {
		conn_close_internal(c, "cannot build the ICResp", false);
		return;
	}
	fw_debug("%s: ICReq: HPDA %u, MAXR2T %u, digests header %s data %s", c->peer,
		 c->codec.hpda, c->codec.maxr2t, c->codec.hdgst ? "on" : "off",
		 c->codec.ddgst ? "on" : "off");
	c->state = ST_LIVE;
	tx_push_header(c, &c->ctl, c->ctl_buf, n);
	rx_next_pdu(c);
}

static void on_capsule_header(struct fw_tcp_conn *c)
{
	struct fw_tcp_cmd *cmd = cmd_alloc(c);

	if (!cmd) {
		conn_close_internal(c, "out of memory for a command", false);
		return;
	}
	memcpy(&cmd->fw.sqe, &c->pdu.hdr.cmd.sqe, sizeof(cmd->fw.sqe));
	cmd->cid = le16toh(cmd->fw.sqe.cid);
	cmd->icd_len = c->pdu.data_len;
	if (!cmd->icd_len) {
		rx_next_pdu(c);
		capsule_ready(c, cmd);
		return;
	}
	c->rx_cmd = cmd;
	if (cmd_get_buf(cmd, cmd->icd_len, true)) {
		c->rx = RX_WAIT_ICD;
		wait_list_add(c);
		return;
	}
	rx_start_data(c, cmd->buf);
}

static void on_h2c_header(struct fw_tcp_conn *c)
{
	uint16_t cccid = le16toh(c->pdu.hdr.data.cccid);
	uint16_t ttag = le16toh(c->pdu.hdr.data.ttag);
	struct fw_tcp_cmd *cmd = NULL;
	struct insitu_tcp_error e;

	for (struct fw_tcp_cmd *o = c->cmds; o && c->h2c_waiting; o = o->next) {
		if (o->state == CMD_H2C && o->ttag == ttag) {
			cmd = o;
			break;
		}
	}
	if (!cmd) {
		conn_fatal_code(c, INSITU_TCP_FES_INVALID_HEADER_FIELD, 10,
				"H2CData: no R2T outstanding with this TTAG");
		return;
	}
	if (cmd->cid != cccid) {
		conn_fatal_code(c, INSITU_TCP_FES_INVALID_HEADER_FIELD, 8,
				"H2CData: CCCID differs from the R2T's command");
		return;
	}
	if (insitu_tcp_xfer_accept(&cmd->xfer, &c->pdu, &e)) {
		conn_fatal(c, &e);
		return;
	}
	c->rx_cmd = cmd;
	c->rx_ms = c->ctx->now_ms;
	rx_start_data(c, cmd->buf + le32toh(c->pdu.hdr.data.datao));
}

static void on_header(struct fw_tcp_conn *c)
{
	switch (c->pdu.type) {
	case INSITU_TCP_ICREQ:
		on_icreq(c);
		return;
	case INSITU_TCP_H2C_TERM:
		fw_warn("%s: host sent H2CTermReq (FES %u, %s, FEI %u); closing", c->peer,
			le16toh(c->pdu.hdr.term.fes), insitu_tcp_fes_name(le16toh(c->pdu.hdr.term.fes)),
			le32toh(c->pdu.hdr.term.fei));
		conn_close_internal(c, "host terminated the connection", false);
		return;
	case INSITU_TCP_CMD:
		on_capsule_header(c);
		return;
	case INSITU_TCP_H2C_DATA:
		on_h2c_header(c);
		return;
	default:
		conn_fatal_code(c, INSITU_TCP_FES_INVALID_HEADER_FIELD, 0, "unexpected PDU type");
		return;
	}
}

static void on_data_done(struct fw_tcp_conn *c)
{
	struct fw_tcp_cmd *cmd = c->rx_cmd;
	struct insitu_tcp_error e;
	bool bad = false;

	if (c->pdu.ddgst && insitu_tcp_pdu_verify_ddgst(&c->pdu, insitu_crc32c_final(&c->crc),
							c->ddgst, &e)) {
		bad = true;
		c->ctx->stats.ddgst_errors++;
		fw_warn("%s: %s", c->peer, e.msg);
	}
	rx_next_pdu(c);
	if (!cmd)
		return;
	if (c->pdu.type == INSITU_TCP_CMD) {
		if (bad) {
			respond_status(cmd, insitu_status(NVME_SCT_GENERIC, NVME_SC_TRAN_TPORT_ERROR,
							  false));
			return;
		}
		capsule_ready(c, cmd);
		return;
	}
	/* H2CData */
	cmd->ddgst_bad |= bad;
	if (!cmd->xfer.done)
		return;
	c->h2c_waiting--;
	if (cmd->ddgst_bad) {
		cmd->state = CMD_TX;
		respond_status(cmd, insitu_status(NVME_SCT_GENERIC, NVME_SC_TRAN_TPORT_ERROR, false));
		return;
	}
	cmd_execute(cmd);
}

size_t fw_tcp_conn_input(struct fw_tcp_conn *c, const void *buf, size_t n, uint64_t now_ms)
{
	const uint8_t *p = buf;
	size_t off = 0;
	struct insitu_tcp_error e;

	c->ctx->now_ms = now_ms;
	if (c->state >= ST_TERM)
		return n;
	if (n)
		c->rx_ms = now_ms;
	while (off < n) {
		if (c->state >= ST_TERM)
			return n;
		if (rx_blocked(c)) {
			c->rx_stalled = true;
			break;
		}
		size_t avail = n - off;

		switch (c->rx) {
		case RX_HDR: {
			uint32_t take = c->hdr_need - c->hdr_have;
			int rc;

			if (take > avail)
				take = (uint32_t)avail;
			memcpy(c->hdr + c->hdr_have, p + off, take);
			c->hdr_have += take;
			off += take;
			if (c->hdr_have < c->hdr_need)
				break;
			rc = insitu_tcp_pdu_parse_header(&c->codec, c->hdr, c->hdr_have, &c->pdu, &e);
			if (rc == -EAGAIN && c->hdr_have + e.need <= sizeof(c->hdr)) {
				c->hdr_need = c->hdr_have + (uint32_t)e.need;
				break;
			}
			if (rc) {
				if (rc != -EPROTO) {
					e.code = -EPROTO;
					e.fes = INSITU_TCP_FES_INVALID_HEADER_FIELD;
					e.fei = 0;
					e.send_term = true;
					e.echo_len = c->hdr_have;
				}
				conn_fatal(c, &e);
				break;
			}
			on_header(c);
			break;
		}
		case RX_PAD: {
			uint32_t take = c->pad_left < avail ? c->pad_left : (uint32_t)avail;

			c->pad_left -= take;
			off += take;
			if (!c->pad_left)
				c->rx = RX_DATA;
			break;
		}
		case RX_DATA: {
			uint32_t take = c->left < avail ? c->left : (uint32_t)avail;

			memcpy(c->dst, p + off, take);
			if (c->pdu.ddgst)
				insitu_crc32c_update(&c->crc, c->dst, take);
			c->dst += take;
			c->left -= take;
			off += take;
			if (c->left)
				break;
			if (c->pdu.ddgst)
				c->rx = RX_DDGST;
			else
				on_data_done(c);
			break;
		}
		case RX_DDGST: {
			uint32_t take = INSITU_TCP_DIGEST_LEN - c->ddgst_have;

			if (take > avail)
				take = (uint32_t)avail;
			memcpy(c->ddgst + c->ddgst_have, p + off, take);
			c->ddgst_have += take;
			off += take;
			if (c->ddgst_have == INSITU_TCP_DIGEST_LEN)
				on_data_done(c);
			break;
		}
		case RX_WAIT_ICD:
			break; /* rx_blocked() stops the loop first */
		}
	}
	if (c->state >= ST_TERM)
		return n;
	return off;
}

bool fw_tcp_conn_paused(const struct fw_tcp_conn *c)
{
	return c->state <= ST_LIVE && rx_blocked(c);
}

bool fw_tcp_conn_closing(const struct fw_tcp_conn *c)
{
	return c->state >= ST_TERM;
}

const char *fw_tcp_conn_peer(const struct fw_tcp_conn *c)
{
	return c->peer;
}

/* ---- errors, close, teardown ---------------------------------------------------------- */

static void conn_fatal(struct fw_tcp_conn *c, const struct insitu_tcp_error *e)
{
	ssize_t n;

	fw_warn("%s: fatal transport error: %s (FES %u %s, FEI %u)", c->peer, e->msg, e->fes,
		insitu_tcp_fes_name(e->fes), e->fei);
	if (!e->send_term) {
		conn_close_internal(c, "malformed TermReq", false);
		return;
	}
	n = insitu_tcp_build_term_for(&c->codec, c->ctl_buf, sizeof(c->ctl_buf), e, c->hdr,
				      c->hdr_have);
	if (n <= 0) {
		conn_close_internal(c, "cannot build the C2HTermReq", false);
		return;
	}
	c->state = ST_TERM;
	c->closing_ms = c->ctx->now_ms;
	c->ctx->stats.termreqs_sent++;
	wait_list_remove(c);
	tx_drop_unsent(c);
	if (c->ctl.queued) {
		/* the ICResp is still in flight: the TermReq cannot reuse its item */
		conn_close_internal(c, "fatal error before the ICResp was sent", false);
		return;
	}
	tx_push_header(c, &c->ctl, c->ctl_buf, n);
}

static void conn_close_internal(struct fw_tcp_conn *c, const char *reason, bool linger)
{
	if (c->state == ST_CLOSING && linger)
		return;
	if (c->state != ST_CLOSING) {
		fw_info("%s: closing connection: %s", c->peer, reason);
		c->closing_ms = c->ctx->now_ms;
	}
	c->state = ST_CLOSING;
	wait_list_remove(c);
	if (!c->detached)
		c->ctx->hooks.closing(c, c->owner, linger);
}

void fw_tcp_conn_close(struct fw_tcp_conn *c, const char *reason)
{
	conn_close_internal(c, reason, false);
}

static void queue_close_cb(void *transport_ctx, const char *reason)
{
	conn_close_internal(transport_ctx, reason, false);
}

static const struct fw_queue_ops conn_queue_ops = {
	.close = queue_close_cb,
};

void fw_tcp_conn_detach(struct fw_tcp_conn *c)
{
	struct fw_tcp_ctx *ctx = c->ctx;

	if (c->detached)
		return;
	c->state = ST_CLOSING;
	c->detached = true;
	wait_list_remove(c);
	list_del(&ctx->conns, c);
	ctx->nconns--;
	ctx->stats.closed++;
	/* nothing is in flight on the socket: the queue's memory can go */
	while (c->txh)
		tx_pop(c);
	c->tx_inflight = 0;
	c->wait_head = c->wait_tail = NULL;
	if (c->q)
		fw_queue_abort(c->q);
	for (struct fw_tcp_cmd *cmd = c->cmds, *next; cmd; cmd = next) {
		next = cmd->next;
		if (cmd->state != CMD_EXEC)
			cmd_free(cmd);
	}
	list_push(&ctx->reap, c);
	if (ctx->draining)
		fw_tcp_ctx_drain(ctx, ctx->now_ms, false); /* an admin queue may go now */
}

static void conn_destroy(struct fw_tcp_conn *c)
{
	while (c->free_cmds) {
		struct fw_tcp_cmd *cmd = c->free_cmds;

		c->free_cmds = cmd->next;
		free(cmd);
	}
	if (c->q)
		fw_queue_destroy(c->q);
	free(c);
}

/* Shutting down: close once nothing but held AERs is outstanding and the output is out. */
static void conn_check_drain(struct fw_tcp_conn *c)
{
	if (!c->ctx->draining || (c->state != ST_LIVE && c->state != ST_IC))
		return;
	if (c->txh || !at_pdu_boundary(c) || c->wait_head)
		return;
	for (struct fw_tcp_cmd *cmd = c->cmds; cmd; cmd = cmd->next)
		if (!(cmd->state == CMD_EXEC && cmd->aer))
			return;
	/* The admin queue goes last: closing it deletes the controller and its I/O queues,
	 * which may still be finishing commands. */
	if (c->q && fw_queue_depth(c->q) && fw_queue_qid(c->q) == 0)
		for (struct fw_tcp_conn *o = c->ctx->conns; o; o = o->next)
			if (o != c && o->q && fw_queue_qid(o->q) != 0)
				return;
	conn_close_internal(c, "shutting down", false);
}

/* ---- context ------------------------------------------------------------------------- */

int fw_tcp_ctx_create(struct fw_subsys *s, const struct fw_config *cfg,
		      const struct fw_tcp_hooks *hooks, struct fw_tcp_ctx **out,
		      char *err, size_t errlen)
{
	struct fw_tcp_ctx *ctx = calloc(1, sizeof(*ctx));
	uint32_t max_buf = cfg->mdts_bytes;

	*out = NULL;
	if (!ctx) {
		snprintf(err, errlen, "transport: out of memory");
		return -ENOMEM;
	}
	if (max_buf < cfg->max_icd_bytes)
		max_buf = cfg->max_icd_bytes;
	if (max_buf < INSITU_TCP_ADMIN_ICD_MAX)
		max_buf = INSITU_TCP_ADMIN_ICD_MAX;
	if (fw_tcp_bufpool_init(&ctx->pool, max_buf, 0)) {
		snprintf(err, errlen, "transport: MDTS %u is too large for the buffer pool", max_buf);
		free(ctx);
		return -EINVAL;
	}
	ctx->subsys = s;
	ctx->cfg = cfg;
	ctx->hooks = *hooks;
	ctx->conn_buf_cap = ctx->pool.budget / 8;
	if (ctx->conn_buf_cap < ctx->pool.max_buf)
		ctx->conn_buf_cap = ctx->pool.max_buf;
	ctx->cmd_buf_limit = ctx->pool.budget / 4 * 3;
	*out = ctx;
	return 0;
}

void fw_tcp_ctx_destroy(struct fw_tcp_ctx *ctx)
{
	if (!ctx)
		return;
	fw_tcp_bufpool_fini(&ctx->pool);
	free(ctx);
}

struct fw_tcp_conn *fw_tcp_conn_create(struct fw_tcp_ctx *ctx, void *owner, const char *peer,
				       const char *local_addr, uint16_t local_port,
				       bool discovery, uint64_t now_ms)
{
	const struct fw_config *cfg = ctx->cfg;
	struct fw_tcp_conn *c = calloc(1, sizeof(*c));
	struct insitu_tcp_params params;
	struct fw_queue_limits lim;
	struct insitu_tcp_error e;

	if (!c)
		return NULL;
	c->ctx = ctx;
	c->owner = owner;
	c->discovery = discovery;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->created_ms = c->rx_ms = c->tx_ms = now_ms;
	c->ctl.kind = TX_CTL;
	rx_next_pdu(c);

	insitu_tcp_params_default(INSITU_TCP_CONTROLLER, &params);
	params.pda = 0;
	params.digest = cfg->digests ? (INSITU_TCP_DGST_HDR | INSITU_TCP_DGST_DATA) : 0;
	params.maxh2cdata = cfg->maxh2cdata;
	params.max_icd = cfg->max_icd_bytes > INSITU_TCP_ADMIN_ICD_MAX ? cfg->max_icd_bytes
								    : INSITU_TCP_ADMIN_ICD_MAX;
	if (insitu_tcp_conn_init(&c->codec, INSITU_TCP_CONTROLLER, &params, &e)) {
		fw_err("%s: %s", peer, e.msg);
		free(c);
		return NULL;
	}
	memset(&lim, 0, sizeof(lim));
	lim.max_icd = cfg->max_icd_bytes;
	snprintf(lim.local_addr, sizeof(lim.local_addr), "%s", local_addr);
	lim.local_port = local_port;
	c->q = fw_queue_create(ctx->subsys, &lim, &conn_queue_ops, c, c->peer, discovery);
	if (!c->q) {
		fw_err("%s: the command layer refused a queue", peer);
		free(c);
		return NULL;
	}
	ctx->now_ms = now_ms;
	list_push(&ctx->conns, c);
	ctx->nconns++;
	ctx->stats.accepted++;
	return c;
}

void fw_tcp_ctx_run(struct fw_tcp_ctx *ctx)
{
	if (ctx->buf_released) {
		struct fw_tcp_conn *w = ctx->wait_head;

		ctx->buf_released = false;
		while (w) {
			struct fw_tcp_conn *next = w->wait_next;
			bool ready;

			if (!w->on_wait_list || w->state > ST_LIVE) {
				ctx->buf_released = true; /* the list changed under us: rescan later */
				break;
			}

			if (w->rx == RX_WAIT_ICD) {
				struct fw_tcp_cmd *cmd = w->rx_cmd;

				ready = cmd && !cmd_get_buf(cmd, cmd->icd_len, true);
				if (ready)
					rx_start_data(w, cmd->buf);
				ready = ready && conn_retry_buffers(w);
			} else {
				ready = conn_retry_buffers(w);
			}
			if (ready) {
				wait_list_remove(w);
				maybe_resume(w);
			}
			w = next;
		}
	}
	for (struct fw_tcp_conn *c = ctx->reap, *next; c; c = next) {
		next = c->next;
		if (c->executing)
			continue;
		list_del(&ctx->reap, c);
		conn_destroy(c);
	}
}

void fw_tcp_ctx_tick(struct fw_tcp_ctx *ctx, uint64_t now_ms)
{
	ctx->now_ms = now_ms;
	for (struct fw_tcp_conn *c = ctx->conns, *next; c; c = next) {
		next = c->next;
		switch (c->state) {
		case ST_IC:
			if (now_ms - c->created_ms >= FW_TCP_IC_TIMEOUT_MS)
				conn_close_internal(c, "no ICReq within 10 s", false);
			break;
		case ST_LIVE:
			if ((!at_pdu_boundary(c) || c->h2c_waiting) && c->rx != RX_WAIT_ICD &&
			    now_ms - c->rx_ms >= FW_TCP_STALL_TIMEOUT_MS)
				conn_close_internal(c, c->h2c_waiting ? "R2T unanswered for 10 s"
								      : "PDU incomplete for 10 s", false);
			else if (c->txh && now_ms - c->tx_ms >= FW_TCP_STALL_TIMEOUT_MS)
				conn_close_internal(c, "host not reading for 10 s", false);
			break;
		case ST_TERM:
		case ST_CLOSING:
			/* a TermReq the host does not read, or a lingering close: force it */
			if (now_ms - c->closing_ms >= 2000 && !c->detached) {
				c->state = ST_CLOSING;
				ctx->hooks.closing(c, c->owner, false);
			}
			break;
		}
	}
	if (ctx->draining && now_ms >= ctx->drain_deadline_ms)
		fw_tcp_ctx_drain(ctx, now_ms, true);
}

void fw_tcp_ctx_drain(struct fw_tcp_ctx *ctx, uint64_t now_ms, bool force)
{
	if (!ctx->draining) {
		ctx->draining = true;
		ctx->drain_deadline_ms = now_ms + FW_TCP_DRAIN_TIMEOUT_MS;
	}
	for (struct fw_tcp_conn *c = ctx->conns, *next; c; c = next) {
		next = c->next;
		if (force)
			conn_close_internal(c, "shutting down (deadline)", false);
		else
			conn_check_drain(c);
	}
}

bool fw_tcp_ctx_idle(const struct fw_tcp_ctx *ctx)
{
	return !ctx->conns && !ctx->reap;
}

unsigned fw_tcp_ctx_connections(const struct fw_tcp_ctx *ctx)
{
	return ctx->nconns;
}

const struct fw_tcp_stats *fw_tcp_ctx_stats(const struct fw_tcp_ctx *ctx)
{
	return &ctx->stats;
}
