/* Fabrics Property Get/Set: the controller registers a fabrics host reads and writes instead of
 * a PCIe BAR. CAP and VS describe us; CC drives enable (checking the entry sizes, page size
 * and command set the host chose), reset (I/O queues closed) and shutdown (the flash flushed
 * before CSTS.SHST says complete); CSTS reports it. */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "insitu/proto/fabrics.h"
#include "internal.h"
#include "log.h"

#define CSTS_CFS      (1u << NVME_CSTS_CFS_SHIFT)
#define CSTS_SHST(v)  ((uint32_t)(v) << NVME_CSTS_SHST_SHIFT)
#define CSTS_SHST_ALL CSTS_SHST(NVME_CSTS_SHST_MASK)

static uint64_t prop_cap(const struct fw_subsys *s)
{
	return ((uint64_t)(s->cfg.queue_depth - 1) << NVME_CAP_MQES_SHIFT) |
	       (1ull << NVME_CAP_CQR_SHIFT) |			/* queues are contiguous */
	       ((uint64_t)FW_CAP_TO_500MS << NVME_CAP_TO_SHIFT) |
	       ((uint64_t)NVME_CAP_CSS_NVM << NVME_CAP_CSS_SHIFT) |
	       (0ull << NVME_CAP_MPSMIN_SHIFT) | (0ull << NVME_CAP_MPSMAX_SHIFT); /* 4 KiB */
}

uint16_t fw_property_prepare(struct fw_queue *q, struct fw_cmd *cmd)
{
	struct insitu_nvmf_property p;
	if (insitu_nvmf_property_decode(&cmd->sqe, &p) < 0)
		return fw_sc(NVME_SC_INVALID_FIELD);
	cmd->dir = FW_DIR_NONE;
	cmd->data_len = 0;
	return 0;
}

static void shutdown_flushed(void *arg, int result)
{
	struct fw_ctrl *c = arg;
	if (result < 0)
		fw_err("controller %u: flush at shutdown failed: %s", c->cntlid,
		       fw_flash_errmsg(&c->s->flash));
	if (c->csts & CSTS_SHST(NVME_CSTS_SHST_OCCUR))
		c->csts = (c->csts & ~CSTS_SHST_ALL) | CSTS_SHST(NVME_CSTS_SHST_CMPLT);
	fw_ctrl_put(c);
}

void fw_ctrl_shutdown_retry(struct fw_ctrl *c)
{
	int rc = fw_flash_flush(&c->s->flash, shutdown_flushed, c);
	if (rc == -EAGAIN) {
		c->flush_wanted = true;	/* retried by fw_subsys_poll() when room frees up */
		return;
	}
	c->flush_wanted = false;
	if (rc < 0) {
		fw_err("controller %u: cannot flush at shutdown: %s", c->cntlid, strerror(-rc));
		shutdown_flushed(c, rc);
	}
}

/* Start of a shutdown: everything written so far becomes durable before SHST reads complete. */
static void shutdown_begin(struct fw_ctrl *c)
{
	c->csts = (c->csts & ~CSTS_SHST_ALL) | CSTS_SHST(NVME_CSTS_SHST_OCCUR);
	if (c->discovery) {
		c->csts = (c->csts & ~CSTS_SHST_ALL) | CSTS_SHST(NVME_CSTS_SHST_CMPLT);
		return;
	}
	if (c->flush_wanted)
		return;
	c->refs++;		/* dropped by shutdown_flushed() */
	fw_ctrl_shutdown_retry(c);
}

static bool cc_acceptable(const struct fw_ctrl *c, uint32_t cc)
{
	if (NVME_CC_IOSQES(cc) != 6 || NVME_CC_IOCQES(cc) != 4 || NVME_CC_MPS(cc) != 0 ||
	    NVME_CC_AMS(cc) != NVME_CC_AMS_RR || NVME_CC_CSS(cc) != NVME_CC_CSS_NVM) {
		fw_warn("controller %u: CC %08xh refused (need IOSQES 6, IOCQES 4, MPS 0 = 4 KiB, "
			"AMS round robin, CSS NVM): controller fatal status", c->cntlid, cc);
		return false;
	}
	return true;
}

static void update_cc(struct fw_ctrl *c, uint32_t cc)
{
	uint32_t old = c->cc;
	c->cc = cc;
	if (NVME_CC_EN(cc) && !NVME_CC_EN(old)) {
		if (cc_acceptable(c, cc))
			c->csts = NVME_CSTS_RDY_MASK;
		else
			c->csts = CSTS_CFS;
	} else if (!NVME_CC_EN(cc) && NVME_CC_EN(old)) {
		/* Controller reset: its I/O queues go, its features return to their defaults. */
		fw_info("controller %u: reset by the host", c->cntlid);
		c->csts &= ~(NVME_CSTS_RDY_MASK | CSTS_CFS);
		c->io_queues_set = false;
		c->io_queues = 0;
		c->aec = 0;
		fw_ctrl_close_queues(c, false, "controller reset");
	}
	if (NVME_CC_SHN(cc) && !NVME_CC_SHN(old)) {
		fw_info("controller %u: %s shutdown", c->cntlid,
			NVME_CC_SHN(cc) == NVME_CC_SHN_ABRUPT ? "abrupt" : "normal");
		shutdown_begin(c);
	} else if (!NVME_CC_SHN(cc) && NVME_CC_SHN(old)) {
		c->csts &= ~CSTS_SHST_ALL;
	}
}

void fw_property_execute(struct fw_queue *q, struct fw_cmd *cmd)
{
	struct fw_ctrl *c = q->ctrl;
	struct insitu_nvmf_property p;
	insitu_nvmf_property_decode(&cmd->sqe, &p);
	c->ka_last_ms = q->s->now_ms;
	uint64_t v = 0;
	uint16_t status = 0;
	if (!p.set) {
		if (p.size8 && p.ofst == NVME_REG_CAP)
			v = prop_cap(q->s);
		else if (!p.size8 && p.ofst == NVME_REG_VS)
			v = FW_NVME_VERSION;
		else if (!p.size8 && p.ofst == NVME_REG_CC)
			v = c->cc;
		else if (!p.size8 && p.ofst == NVME_REG_CSTS)
			v = c->csts;
		else
			status = fw_sc(NVME_SC_INVALID_FIELD);
	} else if (!p.size8 && p.ofst == NVME_REG_CC) {
		update_cc(c, (uint32_t)p.value);
	} else {
		status = fw_sc(NVME_SC_INVALID_FIELD);
	}
	fw_cmd_complete(cmd, status, (uint32_t)v, (uint32_t)(v >> 32));
}
