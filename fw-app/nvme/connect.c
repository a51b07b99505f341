/* Fabrics Connect: the admin queue creates a controller (dynamic model, CNTLID FFFFh) of the
 * NVM subsystem or of the discovery subsystem; an I/O queue joins an existing controller of the
 * same host. A refusal names the offending field through IATTR/IPO in DW0. */
#include <endian.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "insitu/proto/fabrics.h"
#include "internal.h"
#include "log.h"

/* Byte offsets of the Connect fields a refusal points at. */
#define IPO_QID     offsetof(struct insitu_nvmf_connect_cmd, qid)
#define IPO_SQSIZE  offsetof(struct insitu_nvmf_connect_cmd, sqsize)
#define IPO_KATO    offsetof(struct insitu_nvmf_connect_cmd, kato)
#define IPO_CNTLID  offsetof(struct nvmf_connect_data, cntlid)
#define IPO_SUBNQN  offsetof(struct nvmf_connect_data, subsysnqn)
#define IPO_HOSTNQN offsetof(struct nvmf_connect_data, hostnqn)

static uint16_t invalid_param(struct fw_cmd *cmd, bool in_data, size_t offset)
{
	cmd->cqe.dw0 = htole32(insitu_nvmf_connect_invalid_param(in_data, (uint16_t)offset));
	return fw_sc_cmd(NVME_SC_CONNECT_INVALID_PARAM);
}

uint16_t fw_connect_prepare(struct fw_queue *q, struct fw_cmd *cmd)
{
	struct insitu_nvmf_connect c;
	if (insitu_nvmf_connect_decode(&cmd->sqe, &c) < 0)
		return fw_sc(NVME_SC_INVALID_OPCODE);
	if (c.recfmt != 0)
		return fw_sc_cmd(NVME_SC_CONNECT_FORMAT);
	if (q->discovery_port && c.qid != 0) {
		fw_warn("%s: Connect of I/O queue %u on the discovery port refused", q->peer, c.qid);
		return invalid_param(cmd, false, IPO_QID);
	}
	if (c.qid > q->s->cfg.max_io_queues) {
		fw_warn("%s: Connect of queue %u refused: at most %u I/O queues", q->peer, c.qid,
			q->s->cfg.max_io_queues);
		return invalid_param(cmd, false, IPO_QID);
	}
	if (c.sqsize == 0 || c.sqsize > q->s->cfg.queue_depth - 1) {
		fw_warn("%s: Connect of queue %u refused: SQSIZE %u (0's based) outside 1..%u (MQES)",
			q->peer, c.qid, c.sqsize, q->s->cfg.queue_depth - 1);
		return invalid_param(cmd, false, IPO_SQSIZE);
	}
	if (c.qid == 0 && q->s->cfg.kato_max_ms && c.kato > q->s->cfg.kato_max_ms) {
		fw_warn("%s: Connect refused: KATO %u ms above the limit of %u ms", q->peer, c.kato,
			q->s->cfg.kato_max_ms);
		return invalid_param(cmd, false, IPO_KATO);
	}
	return fw_cmd_want(cmd, FW_DIR_H2C, sizeof(struct nvmf_connect_data), false);
}

static bool nqn_valid(const char *nqn)
{
	size_t n = strnlen(nqn, NVME_NQN_LENGTH);
	return n > 0 && n < NVME_NQN_LENGTH;
}

static void attach(struct fw_queue *q, struct fw_ctrl *c, const struct insitu_nvmf_connect *a)
{
	c->refs++;
	q->ctrl = c;
	q->qid = a->qid;
	q->depth = (uint32_t)a->sqsize + 1;
	q->sqflow_disabled = (a->cattr & INSITU_NVMF_CATTR_DISABLE_SQFLOW) != 0;
	q->sqhd = 0;
	q->connected = true;
}

static uint16_t connect_admin(struct fw_queue *q, struct fw_cmd *cmd,
			      const struct insitu_nvmf_connect *a, const struct nvmf_connect_data *d)
{
	struct fw_subsys *s = q->s;
	bool to_discovery = strcmp(d->subsysnqn, NVME_DISC_SUBSYS_NAME) == 0;
	if (!to_discovery && (q->discovery_port || strcmp(d->subsysnqn, s->cfg.subnqn) != 0)) {
		fw_warn("%s: Connect refused: subsystem %.223s is not served %s", q->peer,
			d->subsysnqn, q->discovery_port ? "on the discovery port" : "here");
		return invalid_param(cmd, true, IPO_SUBNQN);
	}
	if (le16toh(d->cntlid) != 0xFFFF) {
		fw_warn("%s: Connect refused: CNTLID %u requested, only the dynamic controller model "
			"(FFFFh) is supported", q->peer, le16toh(d->cntlid));
		return invalid_param(cmd, true, IPO_CNTLID);
	}
	struct fw_ctrl *c = fw_ctrl_alloc(s, to_discovery);
	if (!c) {
		fw_warn("%s: Connect refused: all %u controllers are in use", q->peer,
			s->cfg.max_controllers);
		return (uint16_t)((NVME_SCT_CMD_SPECIFIC << NVME_SCT_SHIFT) | NVME_SC_CONNECT_CTRL_BUSY);
	}
	memcpy(c->hostnqn, d->hostnqn, sizeof(c->hostnqn));
	memcpy(c->hostid, d->hostid, sizeof(c->hostid));
	c->kato_ms = a->kato;
	c->ka_last_ms = s->now_ms;
	c->admin = q;
	attach(q, c, a);
	fw_info("%s: host %s connected to %s controller %u (admin queue of %u entries, KATO %u ms)",
		q->peer, c->hostnqn, to_discovery ? "discovery" : "NVM", c->cntlid, q->depth,
		c->kato_ms);
	cmd->cqe.dw0 = htole32(insitu_nvmf_connect_result(c->cntlid));
	return 0;
}

static uint16_t connect_io(struct fw_queue *q, struct fw_cmd *cmd,
			   const struct insitu_nvmf_connect *a, const struct nvmf_connect_data *d)
{
	struct fw_subsys *s = q->s;
	uint16_t cntlid = le16toh(d->cntlid);
	struct fw_ctrl *c = fw_ctrl_find(s, cntlid);
	if (!c || c->discovery) {
		fw_warn("%s: Connect of I/O queue %u refused: no NVM controller %u", q->peer, a->qid,
			cntlid);
		return invalid_param(cmd, true, IPO_CNTLID);
	}
	if (strcmp(d->subsysnqn, s->cfg.subnqn) != 0)
		return invalid_param(cmd, true, IPO_SUBNQN);
	if (strcmp(d->hostnqn, c->hostnqn) != 0 || memcmp(d->hostid, c->hostid, 16) != 0) {
		fw_warn("%s: Connect of I/O queue %u refused: controller %u belongs to host %s, "
			"not %.223s (or the host ID differs)", q->peer, a->qid, cntlid, c->hostnqn,
			d->hostnqn);
		return fw_sc_cmd(NVME_SC_CONNECT_INVALID_HOST);
	}
	if (!fw_ctrl_ready(c) || !c->admin) {
		fw_warn("%s: Connect of I/O queue %u refused: controller %u is not ready", q->peer,
			a->qid, cntlid);
		return fw_sc(NVME_SC_CMD_SEQ_ERROR);
	}
	uint16_t granted = c->io_queues_set ? c->io_queues : (uint16_t)s->cfg.max_io_queues;
	if (a->qid > granted) {
		fw_warn("%s: Connect of I/O queue %u refused: controller %u was granted %u", q->peer,
			a->qid, cntlid, granted);
		return invalid_param(cmd, false, IPO_QID);
	}
	if (c->io[a->qid]) {
		fw_warn("%s: Connect of I/O queue %u refused: controller %u already has it", q->peer,
			a->qid, cntlid);
		return fw_sc(NVME_SC_CMD_SEQ_ERROR);
	}
	c->io[a->qid] = q;
	attach(q, c, a);
	fw_debug("%s: controller %u: I/O queue %u of %u entries", q->peer, cntlid, a->qid, q->depth);
	cmd->cqe.dw0 = htole32(insitu_nvmf_connect_result(c->cntlid));
	return 0;
}

void fw_connect_execute(struct fw_queue *q, struct fw_cmd *cmd)
{
	struct insitu_nvmf_connect a;
	struct nvmf_connect_data d;
	insitu_nvmf_connect_decode(&cmd->sqe, &a);
	memcpy(&d, cmd->buf, sizeof(d));
	uint16_t status;
	if (!nqn_valid(d.subsysnqn))
		status = invalid_param(cmd, true, IPO_SUBNQN);
	else if (!nqn_valid(d.hostnqn))
		status = invalid_param(cmd, true, IPO_HOSTNQN);
	else if (q->connected)
		status = fw_sc(NVME_SC_CMD_SEQ_ERROR);
	else
		status = a.qid == 0 ? connect_admin(q, cmd, &a, &d) : connect_io(q, cmd, &a, &d);
	fw_cmd_complete(cmd, status, le32toh(cmd->cqe.dw0), 0);
}
