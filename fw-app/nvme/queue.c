/* Queues and the life of a command on them: what may run in which queue state (Connect first,
 * then Property Get/Set, then everything once the controller is ready), the dispatch to the
 * admin, Fabrics and NVM handlers, and the one completion path that fills the CQE (CID, SQID,
 * SQHD), records failures in the controller's error log and calls done(). */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "insitu/proto/fabrics.h"
#include "internal.h"
#include "log.h"

struct fw_queue *fw_queue_create(struct fw_subsys *s, const struct fw_queue_limits *lim,
				 const struct fw_queue_ops *ops, void *transport_ctx,
				 const char *peer, bool discovery)
{
	struct fw_queue *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->s = s;
	if (lim)
		q->lim = *lim;
	q->lim.local_addr[sizeof(q->lim.local_addr) - 1] = '\0';
	if (ops)
		q->ops = *ops;
	q->tctx = transport_ctx;
	snprintf(q->peer, sizeof(q->peer), "%s", peer ? peer : "?");
	q->discovery_port = discovery;
	s->nqueues++;
	return q;
}

void fw_queue_close(struct fw_queue *q, const char *reason)
{
	if (q->closing)
		return;
	q->closing = true;
	fw_debug("queue %u of controller %u (%s): closing: %s", q->qid,
		 q->ctrl ? q->ctrl->cntlid : 0, q->peer, reason);
	if (q->ops.close)
		q->ops.close(q->tctx, reason);
}

void fw_queue_abort(struct fw_queue *q)
{
	if (q->aborted)
		return;
	q->aborted = true;
	q->closing = true;
	struct fw_ctrl *c = q->ctrl;
	if (!c)
		return;
	if (q->qid == 0) {
		/* The association ends with its admin queue: held AERs end now, the I/O queues
		 * follow, and no new I/O queue may join. */
		c->failed = true;
		fw_aer_abort_all(c, NVME_SC_ABORT_QUEUE);
		if (c->admin == q)
			c->admin = NULL;
		fw_ctrl_close_queues(c, false, "admin queue closed");
	} else if (c->io[q->qid] == q) {
		c->io[q->qid] = NULL;
	}
}

void fw_queue_destroy(struct fw_queue *q)
{
	if (!q)
		return;
	if (!q->aborted)
		fw_queue_abort(q);
	if (q->executing)
		fw_err("queue %u (%s) destroyed with %u commands still executing: the transport "
		       "broke the contract", q->qid, q->peer, q->executing);
	struct fw_ctrl *c = q->ctrl;
	if (c) {
		if (c->admin == q)
			c->admin = NULL;
		if (q->qid && c->io[q->qid] == q)
			c->io[q->qid] = NULL;
		fw_ctrl_put(c);
	}
	q->s->nqueues--;
	free(q);
}

uint16_t fw_queue_qid(const struct fw_queue *q)
{
	return q->connected ? q->qid : 0;
}

uint32_t fw_queue_depth(const struct fw_queue *q)
{
	return q->connected ? q->depth : 0;
}

/* ---- completion ---------------------------------------------------------------------------- */

static void cmd_finish(struct fw_cmd *cmd, uint16_t status)
{
	struct fw_queue *q = cmd->queue;
	if (q->depth)
		q->sqhd = (q->sqhd + 1) % q->depth;
	cmd->cqe.sqhd = htole16(q->sqflow_disabled ? 0 : (uint16_t)q->sqhd);
	cmd->cqe.sqid = htole16(q->qid);
	cmd->cqe.cid = cmd->sqe.cid;
	insitu_cqe_set_status(&cmd->cqe, status, false);
	if (status && q->ctrl && (status & 0x7ff) != NVME_SC_ABORT_QUEUE)
		fw_errlog_record(q->ctrl, cmd, status);
	if (status)
		fw_debug("queue %u cid %u opcode %02xh: status %04xh (%s)", q->qid,
			 le16toh(cmd->sqe.cid), cmd->sqe.opc, status, insitu_status_name(status));
}

void fw_cmd_complete(struct fw_cmd *cmd, uint16_t status, uint32_t dw0, uint32_t dw1)
{
	struct fw_queue *q = cmd->queue;
	cmd->cqe.dw0 = htole32(dw0);
	cmd->cqe.dw1 = htole32(dw1);
	cmd_finish(cmd, status);
	q->executing--;
	cmd->done(cmd);
}

uint16_t fw_cmd_want(struct fw_cmd *cmd, enum fw_dir dir, uint32_t len, bool exact)
{
	if (cmd->buf_len < len || (exact && cmd->buf_len != len))
		return fw_sc(NVME_SC_SGL_INVALID_DATA);
	cmd->dir = len ? dir : FW_DIR_NONE;
	cmd->data_len = len;
	return 0;
}

/* ---- dispatch ------------------------------------------------------------------------------ */

static bool is_fabrics(const struct fw_cmd *cmd)
{
	return cmd->sqe.opc == nvme_admin_fabrics;
}

static uint16_t prepare_dispatch(struct fw_queue *q, struct fw_cmd *cmd)
{
	if (q->aborted)
		return NVME_SC_ABORT_QUEUE;
	if (insitu_sqe_fuse(&cmd->sqe))
		return fw_sc(NVME_SC_INVALID_FIELD);	/* no fused operations */
	if (is_fabrics(cmd)) {
		uint8_t fctype = insitu_nvmf_fctype(&cmd->sqe);
		if (fctype == nvme_fabrics_type_connect) {
			if (q->connected)
				return fw_sc(NVME_SC_CMD_SEQ_ERROR);
			return fw_connect_prepare(q, cmd);
		}
		if (!q->connected)
			return fw_sc(NVME_SC_CMD_SEQ_ERROR);
		if (q->qid == 0 && (fctype == nvme_fabrics_type_property_get ||
				    fctype == nvme_fabrics_type_property_set))
			return fw_property_prepare(q, cmd);
		return fw_sc(NVME_SC_INVALID_OPCODE);
	}
	if (!q->connected)
		return fw_sc(NVME_SC_CMD_SEQ_ERROR);
	struct fw_ctrl *c = q->ctrl;
	c->ka_last_ms = q->s->now_ms;	/* traffic-based keep alive (CTRATT.TBKAS) */
	if (!fw_ctrl_ready(c))
		return fw_sc(NVME_SC_CMD_SEQ_ERROR);
	return q->qid == 0 ? fw_admin_prepare(q, cmd) : fw_nvm_prepare(q, cmd);
}

uint16_t fw_cmd_prepare(struct fw_queue *q, struct fw_cmd *cmd)
{
	cmd->queue = q;
	cmd->dir = FW_DIR_NONE;
	cmd->data_len = 0;
	cmd->xfer_len = 0;
	cmd->next = NULL;
	memset(&cmd->cqe, 0, sizeof(cmd->cqe));
	memset(cmd->priv, 0, sizeof(cmd->priv));
	uint16_t status = prepare_dispatch(q, cmd);
	if (status) {
		cmd->dir = FW_DIR_NONE;
		cmd->data_len = 0;
		cmd_finish(cmd, status);
	}
	return status;
}

void fw_cmd_execute(struct fw_queue *q, struct fw_cmd *cmd)
{
	q->executing++;
	if (is_fabrics(cmd)) {
		if (insitu_nvmf_fctype(&cmd->sqe) == nvme_fabrics_type_connect)
			fw_connect_execute(q, cmd);
		else
			fw_property_execute(q, cmd);
	} else if (q->qid == 0) {
		fw_admin_execute(q, cmd);
	} else {
		fw_nvm_execute(q, cmd);
	}
}
