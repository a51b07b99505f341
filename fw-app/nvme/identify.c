/* Identify: what the Linux fabrics host checks before it uses a controller (CNTLID equal to
 * Connect's, KAS, IOCCSZ/IORCSZ, ICDOFF 0, SGL support, MAXCMD, CNTRLTYPE), and NSID 1 as one
 * 4 KiB LBA format, with identifiers that stay the same across restarts. */
#include <endian.h>
#include <stdio.h>
#include <string.h>

#include "dedup/volume.h"
#include "internal.h"
#include "log.h"

#define ID_LEN NVME_IDENTIFY_DATA_SIZE

static uint8_t cdw10_cns(const struct fw_cmd *cmd)
{
	return (uint8_t)(le32toh(cmd->sqe.cdw10) & 0xff);
}

static uint8_t cdw11_csi(const struct fw_cmd *cmd)
{
	return (uint8_t)(le32toh(cmd->sqe.cdw11) >> 24);
}

uint16_t fw_identify_prepare(struct fw_queue *q, struct fw_cmd *cmd)
{
	uint32_t nsid = le32toh(cmd->sqe.nsid);
	uint8_t cns = cdw10_cns(cmd);
	if (q->ctrl->discovery && cns != NVME_IDENTIFY_CNS_CTRL)
		return fw_sc(NVME_SC_INVALID_FIELD);
	switch (cns) {
	case NVME_IDENTIFY_CNS_CTRL:
		break;
	case NVME_IDENTIFY_CNS_NS:
	case NVME_IDENTIFY_CNS_NS_DESC_LIST:
		if (nsid != 1)
			return fw_sc(NVME_SC_INVALID_NS);
		break;
	case NVME_IDENTIFY_CNS_NS_ACTIVE_LIST:
		if (nsid >= 0xFFFFFFFEu)
			return fw_sc(NVME_SC_INVALID_NS);
		break;
	case NVME_IDENTIFY_CNS_CSI_NS:
		if (cdw11_csi(cmd) != NVME_CSI_NVM)
			return fw_sc(NVME_SC_INVALID_FIELD);
		if (nsid != 1)
			return fw_sc(NVME_SC_INVALID_NS);
		break;
	case NVME_IDENTIFY_CNS_CSI_CTRL:
		if (cdw11_csi(cmd) != NVME_CSI_NVM)
			return fw_sc(NVME_SC_INVALID_FIELD);
		break;
	default:
		return fw_sc(NVME_SC_INVALID_FIELD);
	}
	return fw_cmd_want(cmd, FW_DIR_C2H, ID_LEN, false);
}

static uint8_t mdts_field(uint32_t mdts_bytes)
{
	uint8_t m = 0;
	while (m < 31 && ((uint64_t)FW_LBA_SIZE << (m + 1)) <= mdts_bytes)
		m++;
	return m;
}

static void identify_ctrl(const struct fw_queue *q, struct nvme_id_ctrl *id)
{
	const struct fw_subsys *s = q->s;
	const struct fw_ctrl *c = q->ctrl;
	fw_ascii_pad(id->sn, sizeof(id->sn), s->cfg.serial);
	fw_ascii_pad(id->mn, sizeof(id->mn), s->cfg.model);
	fw_ascii_pad(id->fr, sizeof(id->fr), FW_FIRMWARE_REV);
	id->cmic = NVME_CTRL_CMIC_MULTI_CTRL;	/* several hosts, one controller each */
	id->mdts = mdts_field(s->cfg.mdts_bytes);
	id->cntlid = htole16(c->cntlid);
	id->ver = htole32(FW_NVME_VERSION);
	id->ctratt = htole32(NVME_CTRL_CTRATT_128_ID | NVME_CTRL_CTRATT_TBKAS);
	id->cntrltype = c->discovery ? NVME_CTRL_CNTRLTYPE_DISCOVERY : NVME_CTRL_CNTRLTYPE_IO;
	id->acl = 3;
	id->aerl = FW_AERL;
	id->frmw = NVME_CTRL_FRMW_1ST_RO | (1 << 1);	/* one slot, read only */
	id->lpa = NVME_CTRL_LPA_EXTENDED;
	if (!c->discovery)
		id->lpa |= NVME_CTRL_LPA_SMART_PER_NS | NVME_CTRL_LPA_CMD_EFFECTS;
	id->elpe = FW_ERRLOG_ENTRIES - 1;
	id->kas = htole16(FW_KAS_100MS);
	id->sqes = (6 << 4) | 6;
	id->cqes = (4 << 4) | 4;
	id->maxcmd = htole16((uint16_t)s->cfg.queue_depth);
	id->sgls = htole32(1u /* SGLs, no alignment */ | NVME_CTRL_SGLS_OFFSET |
			   NVME_CTRL_SGLS_TPORT);
	if (c->discovery) {
		snprintf(id->subnqn, sizeof(id->subnqn), "%s", NVME_DISC_SUBSYS_NAME);
		return;
	}
	id->nn = htole32(FW_NN);
	id->oncs = htole16(NVME_CTRL_ONCS_DSM | NVME_CTRL_ONCS_WRITE_ZEROES);
	/* Writes complete before they are durable unless FUA: a volatile write cache, and Flush
	 * accepts NSID FFFFFFFFh. */
	id->vwc = NVME_CTRL_VWC_PRESENT | (3 << 1);
	snprintf(id->subnqn, sizeof(id->subnqn), "%s", s->cfg.subnqn);
	id->ioccsz = htole32((uint32_t)(sizeof(struct insitu_nvme_sqe) + s->cfg.max_icd_bytes) / 16);
	id->iorcsz = htole32(sizeof(struct insitu_nvme_cqe) / 16);
	id->icdoff = 0;
	id->fcatt = 0;		/* dynamic controller model */
	id->msdbd = 1;
}

static void identify_ns(const struct fw_queue *q, struct nvme_id_ns *id)
{
	const struct fw_subsys *s = q->s;
	uint64_t n = s->flash.nblocks;
	id->nsze = htole64(n);
	id->ncap = htole64(n);
	id->nuse = htole64(n);
	if (s->flash.dedup) {
		struct dedup_stats st;
		dedup_volume_get_stats(s->flash.vol, &st);
		id->nsfeat = 1;		/* thin provisioned: NUSE counts mapped blocks */
		id->nuse = htole64(st.mapped_blocks);
	}
	id->nlbaf = 0;
	id->flbas = 0;
	id->dlfeat = 0x01 | 0x08;	/* deallocated blocks read zeros; Write Zeroes may deallocate */
	id->nmic = 1;			/* may be attached to several controllers */
	memcpy(id->nguid, s->nguid, sizeof(id->nguid));
	id->lbaf[0].ds = FW_LBA_SHIFT;
}

static void identify_descs(const struct fw_queue *q, uint8_t *buf)
{
	size_t off = 0;
	struct { uint8_t type, len; const void *v; } d[] = {
		{ NVME_NIDT_NGUID, NVME_NIDT_NGUID_LEN, q->s->nguid },
		{ NVME_NIDT_UUID, NVME_NIDT_UUID_LEN, q->s->uuid },
		{ NVME_NIDT_CSI, NVME_NIDT_CSI_LEN, &(uint8_t){ NVME_CSI_NVM } },
	};
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		buf[off] = d[i].type;
		buf[off + 1] = d[i].len;
		memcpy(buf + off + 4, d[i].v, d[i].len);
		off += 4 + d[i].len;
	}
}

void fw_identify_execute(struct fw_queue *q, struct fw_cmd *cmd)
{
	uint8_t *buf = cmd->buf;
	memset(buf, 0, ID_LEN);
	switch (cdw10_cns(cmd)) {
	case NVME_IDENTIFY_CNS_CTRL:
		identify_ctrl(q, (struct nvme_id_ctrl *)(void *)buf);
		break;
	case NVME_IDENTIFY_CNS_NS:
		identify_ns(q, (struct nvme_id_ns *)(void *)buf);
		break;
	case NVME_IDENTIFY_CNS_NS_ACTIVE_LIST:
		if (le32toh(cmd->sqe.nsid) < 1) {
			__le32 one = htole32(1);
			memcpy(buf, &one, sizeof(one));
		}
		break;
	case NVME_IDENTIFY_CNS_NS_DESC_LIST:
		identify_descs(q, buf);
		break;
	default:
		/* CNS 05h/06h, CSI 0: zeros. No NVM-specific namespace features; for the
		 * controller, DMRL/DMRSL/WZSL 0 mean no limit beyond the spec's 256 DSM ranges
		 * (large ranges are split against the flash's request size here). */
		break;
	}
	cmd->xfer_len = ID_LEN;
	fw_cmd_complete(cmd, 0, 0, 0);
}
