/* The admin command set of our controllers: dispatch to Identify, Get Log Page and Get/Set
 * Features, and the small commands kept here: Keep Alive, Abort (never aborts: commands finish
 * on their own), and Asynchronous Event Request, held until an event or the queue's end. A
 * discovery controller accepts only what a discovery controller must. */
#include <endian.h>

#include "internal.h"
#include "log.h"

static bool discovery_allows(uint8_t opc)
{
	switch (opc) {
	case nvme_admin_identify:
	case nvme_admin_get_log_page:
	case nvme_admin_set_features:
	case nvme_admin_get_features:
	case nvme_admin_async_event:
	case nvme_admin_keep_alive:
		return true;
	default:
		return false;
	}
}

uint16_t fw_admin_prepare(struct fw_queue *q, struct fw_cmd *cmd)
{
	uint8_t opc = cmd->sqe.opc;
	if (q->ctrl->discovery && !discovery_allows(opc))
		return fw_sc(NVME_SC_INVALID_OPCODE);
	switch (opc) {
	case nvme_admin_identify:
		return fw_identify_prepare(q, cmd);
	case nvme_admin_get_log_page:
		return fw_logpage_prepare(q, cmd);
	case nvme_admin_set_features:
	case nvme_admin_get_features:
		return fw_features_prepare(q, cmd);
	case nvme_admin_async_event:
	case nvme_admin_keep_alive:
	case nvme_admin_abort_cmd:
		return fw_cmd_want(cmd, FW_DIR_NONE, 0, false);
	default:
		return fw_sc(NVME_SC_INVALID_OPCODE);
	}
}

static void aer_hold(struct fw_queue *q, struct fw_cmd *cmd)
{
	struct fw_ctrl *c = q->ctrl;
	if (c->naer > FW_AERL) {
		fw_cmd_complete(cmd, fw_sc_cmd(NVME_SC_ASYNC_LIMIT), 0, 0);
		return;
	}
	cmd->next = NULL;
	if (c->aer_tail)
		c->aer_tail->next = cmd;
	else
		c->aer_head = cmd;
	c->aer_tail = cmd;
	c->naer++;
}

void fw_aer_abort_all(struct fw_ctrl *c, uint16_t status)
{
	while (c->aer_head) {
		struct fw_cmd *cmd = c->aer_head;
		c->aer_head = cmd->next;
		if (!c->aer_head)
			c->aer_tail = NULL;
		c->naer--;
		cmd->next = NULL;
		fw_cmd_complete(cmd, status, 0, 0);
	}
}

void fw_admin_execute(struct fw_queue *q, struct fw_cmd *cmd)
{
	switch (cmd->sqe.opc) {
	case nvme_admin_identify:
		fw_identify_execute(q, cmd);
		break;
	case nvme_admin_get_log_page:
		fw_logpage_execute(q, cmd);
		break;
	case nvme_admin_set_features:
	case nvme_admin_get_features:
		fw_features_execute(q, cmd);
		break;
	case nvme_admin_async_event:
		aer_hold(q, cmd);
		break;
	case nvme_admin_abort_cmd:
		/* DW0 bit 0 set: the command was not aborted; every command completes on its
		 * own (flash I/O is short, AERs end with the queue). */
		fw_cmd_complete(cmd, 0, 1, 0);
		break;
	default: /* keep alive: prepare already reset the timer */
		fw_cmd_complete(cmd, 0, 0, 0);
		break;
	}
}
