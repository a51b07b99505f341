/* NSID 1, the NVM command set: Read, Write (FUA), Flush, Write Zeroes (FUA, DEAC) and Dataset
 * Management deallocate, each checked before any data moves (namespace, LBA range, MDTS, SGL
 * length) and then run against the flash asynchronously. Large Write Zeroes and DSM ranges
 * go in steps of the flash's largest request; a full flash queue defers a step, never fails it. */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "log.h"

enum fw_nvm_op { NVM_READ = 1, NVM_WRITE, NVM_FLUSH, NVM_ZEROES, NVM_DSM };

#define NVM_FUA  0x1
#define NVM_DEAC 0x2

#define CDW12_FUA  (1u << 30)
#define CDW12_DEAC (1u << 25)

static uint64_t cmd_slba(const struct fw_cmd *cmd)
{
	return ((uint64_t)le32toh(cmd->sqe.cdw11) << 32) | le32toh(cmd->sqe.cdw10);
}

static uint32_t cmd_nlb(const struct fw_cmd *cmd)
{
	return (le32toh(cmd->sqe.cdw12) & 0xffff) + 1;
}

static bool in_range(const struct fw_subsys *s, uint64_t slba, uint64_t n)
{
	return slba < s->flash.nblocks && n <= s->flash.nblocks - slba;
}

uint16_t fw_nvm_prepare(struct fw_queue *q, struct fw_cmd *cmd)
{
	struct fw_subsys *s = q->s;
	struct fw_cmd_state *st = fw_cmd_state(cmd);
	uint32_t nsid = le32toh(cmd->sqe.nsid);
	uint32_t cdw12 = le32toh(cmd->sqe.cdw12);
	uint8_t opc = cmd->sqe.opc;

	if (opc != nvme_cmd_read && opc != nvme_cmd_write && opc != nvme_cmd_flush &&
	    opc != nvme_cmd_write_zeroes && opc != nvme_cmd_dsm)
		return fw_sc(NVME_SC_INVALID_OPCODE);
	if (nsid != 1 && !(opc == nvme_cmd_flush && nsid == NVME_NSID_ALL))
		return fw_sc(NVME_SC_INVALID_NS);

	switch (opc) {
	case nvme_cmd_read:
	case nvme_cmd_write: {
		uint64_t slba = cmd_slba(cmd);
		uint32_t n = cmd_nlb(cmd);
		uint64_t bytes = (uint64_t)n << FW_LBA_SHIFT;
		if (bytes > s->cfg.mdts_bytes)
			return fw_sc(NVME_SC_INVALID_FIELD);
		if (!in_range(s, slba, n))
			return fw_sc(NVME_SC_LBA_RANGE);
		st->op = opc == nvme_cmd_read ? NVM_READ : NVM_WRITE;
		st->flags = (cdw12 & CDW12_FUA) ? NVM_FUA : 0;
		st->lba = slba;
		st->left = n;
		st->total_blocks = n;
		return fw_cmd_want(cmd, opc == nvme_cmd_read ? FW_DIR_C2H : FW_DIR_H2C,
				   (uint32_t)bytes, true);
	}
	case nvme_cmd_flush:
		st->op = NVM_FLUSH;
		return fw_cmd_want(cmd, FW_DIR_NONE, 0, false);
	case nvme_cmd_write_zeroes: {
		uint64_t slba = cmd_slba(cmd);
		uint32_t n = cmd_nlb(cmd);
		if (!in_range(s, slba, n))
			return fw_sc(NVME_SC_LBA_RANGE);
		st->op = NVM_ZEROES;
		st->flags = (uint8_t)(((cdw12 & CDW12_FUA) ? NVM_FUA : 0) |
				      ((cdw12 & CDW12_DEAC) ? NVM_DEAC : 0));
		st->lba = slba;
		st->left = n;
		st->total_blocks = n;
		return fw_cmd_want(cmd, FW_DIR_NONE, 0, false);
	}
	default: { /* dataset management */
		uint32_t nr = (le32toh(cmd->sqe.cdw10) & 0xff) + 1;
		st->op = NVM_DSM;
		st->flags = (le32toh(cmd->sqe.cdw11) & NVME_DSMGMT_AD) ? NVM_DEAC : 0;
		st->range = 0;
		st->left = 0;
		return fw_cmd_want(cmd, FW_DIR_H2C, nr * (uint32_t)sizeof(struct nvme_dsm_range), false);
	}
	}
}

static uint16_t errno_status(int rc)
{
	switch (rc) {
	case -ENOSPC:
		return fw_sc(NVME_SC_CAP_EXCEEDED);
	case -EROFS:
		return fw_sc(NVME_SC_NS_WRITE_PROTECTED);
	case -EINVAL:
		return fw_sc(NVME_SC_INVALID_FIELD);
	default: /* -EIO and anything unexpected: the host may retry */
		return NVME_SC_INTERNAL;
	}
}

static const struct nvme_dsm_range *dsm_range(const struct fw_cmd *cmd, uint16_t i)
{
	return (const struct nvme_dsm_range *)(const void *)(cmd->buf + (size_t)i * sizeof(struct nvme_dsm_range));
}

static uint32_t dsm_count(const struct fw_cmd *cmd)
{
	return (le32toh(cmd->sqe.cdw10) & 0xff) + 1;
}

/* Moves a DSM command to its next non-empty range; false when none is left. */
static bool dsm_next_range(struct fw_cmd *cmd)
{
	struct fw_cmd_state *st = fw_cmd_state(cmd);
	while (st->left == 0) {
		if (st->range >= dsm_count(cmd))
			return false;
		const struct nvme_dsm_range *r = dsm_range(cmd, st->range++);
		st->lba = le64toh(r->slba);
		st->left = le32toh(r->nlb);
	}
	return true;
}

/* True when the command has more to submit. */
static bool has_more(struct fw_cmd *cmd)
{
	struct fw_cmd_state *st = fw_cmd_state(cmd);
	if (st->op == NVM_ZEROES)
		return st->left > 0;
	if (st->op == NVM_DSM)
		return dsm_next_range(cmd);
	return false;
}

/* Submits the command's next step. 0 accepted, -EAGAIN no room, other negative: failed. */
static int step(struct fw_cmd *cmd)
{
	struct fw_subsys *s = cmd->queue->s;
	struct fw_flash *f = &s->flash;
	struct fw_cmd_state *st = fw_cmd_state(cmd);
	bool fua = st->flags & NVM_FUA;
	switch (st->op) {
	case NVM_READ:
		return fw_flash_read(f, st->lba, st->left, cmd->buf, fw_flash_done_cb, cmd);
	case NVM_WRITE:
		return fw_flash_write(f, st->lba, st->left, cmd->buf, fua, fw_flash_done_cb, cmd);
	case NVM_FLUSH:
		return fw_flash_flush(f, fw_flash_done_cb, cmd);
	default: {
		uint32_t n = st->left < f->max_blocks ? st->left : f->max_blocks;
		int rc;
		if (st->op == NVM_DSM || (st->flags & NVM_DEAC))
			rc = fw_flash_trim(f, st->lba, n, fw_flash_done_cb, cmd);
		else
			rc = fw_flash_write_zeroes(f, st->lba, n, fua, fw_flash_done_cb, cmd);
		if (rc == 0) {
			st->lba += n;
			st->left -= n;
		}
		return rc;
	}
	}
}

static void nvm_complete(struct fw_cmd *cmd, uint16_t status)
{
	struct fw_subsys *s = cmd->queue->s;
	struct fw_cmd_state *st = fw_cmd_state(cmd);
	if (!status && st->op == NVM_READ) {
		s->host.read_cmds++;
		s->host.read_bytes += (uint64_t)st->total_blocks << FW_LBA_SHIFT;
		cmd->xfer_len = cmd->data_len;
	} else if (!status && st->op == NVM_WRITE) {
		s->host.write_cmds++;
		s->host.write_bytes += (uint64_t)st->total_blocks << FW_LBA_SHIFT;
	}
	fw_cmd_complete(cmd, status, 0, 0);
}

int fw_nvm_resume(struct fw_cmd *cmd)
{
	int rc = step(cmd);
	if (rc == -EAGAIN)
		return rc;
	if (rc < 0) {
		fw_warn("queue %u cid %u: flash refused the request: %s", cmd->queue->qid,
			le16toh(cmd->sqe.cid), strerror(-rc));
		nvm_complete(cmd, errno_status(rc));
	}
	return 0;
}

static void continue_or_defer(struct fw_cmd *cmd)
{
	struct fw_subsys *s = cmd->queue->s;
	if (s->deferred_head || fw_nvm_resume(cmd) == -EAGAIN)
		fw_subsys_defer(s, cmd);
}

void fw_nvm_reaped(struct fw_cmd *cmd)
{
	struct fw_cmd_state *st = fw_cmd_state(cmd);
	if (st->result < 0) {
		fw_warn("queue %u cid %u: flash I/O failed: %s", cmd->queue->qid,
			le16toh(cmd->sqe.cid), fw_flash_errmsg(&cmd->queue->s->flash));
		nvm_complete(cmd, errno_status(st->result));
		return;
	}
	if (has_more(cmd))
		continue_or_defer(cmd);
	else
		nvm_complete(cmd, 0);
}

void fw_nvm_execute(struct fw_queue *q, struct fw_cmd *cmd)
{
	struct fw_cmd_state *st = fw_cmd_state(cmd);
	if (st->op == NVM_DSM) {
		if (!(st->flags & NVM_DEAC)) {	/* only attribute hints: nothing to do */
			nvm_complete(cmd, 0);
			return;
		}
		/* Every range is checked before the first is deallocated. */
		for (uint32_t i = 0; i < dsm_count(cmd); i++) {
			const struct nvme_dsm_range *r = dsm_range(cmd, (uint16_t)i);
			if (!in_range(q->s, le64toh(r->slba), le32toh(r->nlb)) && le32toh(r->nlb)) {
				nvm_complete(cmd, fw_sc(NVME_SC_LBA_RANGE));
				return;
			}
		}
		if (!dsm_next_range(cmd)) {
			nvm_complete(cmd, 0);
			return;
		}
	}
	continue_or_defer(cmd);
}
