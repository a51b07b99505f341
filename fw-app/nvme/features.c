/* Get/Set Features: Number of Queues (the I/O queues a controller may connect), Keep Alive
 * Timer, Asynchronous Event Configuration, and Volatile Write Cache (always on, read only).
 * None is saveable; a discovery controller has only the keep-alive and event features. */
#include <endian.h>

#include "internal.h"
#include "log.h"

#define AEC_SUPPORTED 0xFFu	/* SMART / health critical warnings */

static uint8_t fid_of(const struct fw_cmd *cmd)
{
	return (uint8_t)(le32toh(cmd->sqe.cdw10) & 0xff);
}

static bool is_set(const struct fw_cmd *cmd)
{
	return cmd->sqe.opc == nvme_admin_set_features;
}

static bool fid_supported(const struct fw_ctrl *c, uint8_t fid)
{
	switch (fid) {
	case NVME_FEAT_FID_KATO:
	case NVME_FEAT_FID_ASYNC_EVENT:
		return true;
	case NVME_FEAT_FID_NUM_QUEUES:
	case NVME_FEAT_FID_VOLATILE_WC:
		return !c->discovery;
	default:
		return false;
	}
}

uint16_t fw_features_prepare(struct fw_queue *q, struct fw_cmd *cmd)
{
	struct fw_ctrl *c = q->ctrl;
	uint32_t cdw10 = le32toh(cmd->sqe.cdw10), cdw11 = le32toh(cmd->sqe.cdw11);
	uint8_t fid = fid_of(cmd);
	if (!fid_supported(c, fid))
		return fw_sc(NVME_SC_INVALID_FIELD);
	if (!is_set(cmd)) {
		if (((cdw10 >> 8) & 0x7) > 3)
			return fw_sc(NVME_SC_INVALID_FIELD);
		return fw_cmd_want(cmd, FW_DIR_NONE, 0, false);
	}
	if (cdw10 & (1u << 31))
		return fw_sc_cmd(NVME_SC_FEATURE_NOT_SAVEABLE);
	switch (fid) {
	case NVME_FEAT_FID_VOLATILE_WC:
		return fw_sc_cmd(NVME_SC_FEATURE_NOT_CHANGEABLE);
	case NVME_FEAT_FID_NUM_QUEUES:
		if ((cdw11 & 0xffff) == 0xffff || (cdw11 >> 16) == 0xffff)
			return fw_sc(NVME_SC_INVALID_FIELD);
		for (uint32_t qid = 1; qid <= q->s->cfg.max_io_queues; qid++)
			if (c->io[qid])
				return fw_sc(NVME_SC_CMD_SEQ_ERROR);
		break;
	case NVME_FEAT_FID_KATO:
		if (q->s->cfg.kato_max_ms && cdw11 > q->s->cfg.kato_max_ms)
			return fw_sc(NVME_SC_INVALID_FIELD);
		break;
	case NVME_FEAT_FID_ASYNC_EVENT:
		if (cdw11 & ~AEC_SUPPORTED)
			return fw_sc(NVME_SC_INVALID_FIELD);
		break;
	}
	return fw_cmd_want(cmd, FW_DIR_NONE, 0, false);
}

static uint32_t queues_dw0(uint32_t n)
{
	return ((n - 1) << 16) | (n - 1);
}

static uint32_t get_value(const struct fw_queue *q, uint8_t fid, unsigned sel)
{
	const struct fw_ctrl *c = q->ctrl;
	bool current = sel == 0;
	if (sel == 3)	/* capabilities: changeable, not saveable, not per namespace */
		return fid == NVME_FEAT_FID_VOLATILE_WC ? 0 : 0x4;
	switch (fid) {
	case NVME_FEAT_FID_VOLATILE_WC:
		return 1;
	case NVME_FEAT_FID_NUM_QUEUES:
		return queues_dw0(current && c->io_queues_set ? c->io_queues : q->s->cfg.max_io_queues);
	case NVME_FEAT_FID_KATO:
		return current ? c->kato_ms : 0;
	default: /* async event configuration */
		return current ? c->aec : 0;
	}
}

void fw_features_execute(struct fw_queue *q, struct fw_cmd *cmd)
{
	struct fw_ctrl *c = q->ctrl;
	uint32_t cdw10 = le32toh(cmd->sqe.cdw10), cdw11 = le32toh(cmd->sqe.cdw11);
	uint8_t fid = fid_of(cmd);
	if (!is_set(cmd)) {
		fw_cmd_complete(cmd, 0, get_value(q, fid, (cdw10 >> 8) & 0x7), 0);
		return;
	}
	uint32_t dw0 = 0;
	switch (fid) {
	case NVME_FEAT_FID_NUM_QUEUES: {
		uint32_t want = (cdw11 & 0xffff) < (cdw11 >> 16) ? (cdw11 & 0xffff) : (cdw11 >> 16);
		uint32_t n = want + 1 < q->s->cfg.max_io_queues ? want + 1 : q->s->cfg.max_io_queues;
		c->io_queues = (uint16_t)n;
		c->io_queues_set = true;
		dw0 = queues_dw0(n);
		fw_debug("controller %u: %u I/O queues granted", c->cntlid, n);
		break;
	}
	case NVME_FEAT_FID_KATO:
		c->kato_ms = cdw11;
		c->ka_last_ms = q->s->now_ms;
		break;
	default:
		c->aec = cdw11;
		break;
	}
	fw_cmd_complete(cmd, 0, dw0, 0);
}
