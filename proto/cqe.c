/* Completion Queue Entry helpers and the table of status values the firmware returns,
 * with names for logs and the CLI. Standard values are libnvme's; vendor ones nvme_cs.h's. */
#include "insitu/proto/cqe.h"

#include <endian.h>
#include <nvme/types.h>
#include <string.h>

#include "insitu/proto/nvme_cs.h"

void insitu_cqe_init(struct insitu_nvme_cqe *cqe, uint16_t cid, uint16_t sqid, uint16_t sqhd,
		     uint16_t status, uint32_t dw0, uint32_t dw1)
{
	memset(cqe, 0, sizeof(*cqe));
	cqe->dw0 = htole32(dw0);
	cqe->dw1 = htole32(dw1);
	cqe->sqhd = htole16(sqhd);
	cqe->sqid = htole16(sqid);
	cqe->cid = htole16(cid);
	insitu_cqe_set_status(cqe, status, false);
}

uint16_t insitu_cqe_status(const struct insitu_nvme_cqe *cqe)
{
	return le16toh(cqe->status) >> 1;
}

bool insitu_cqe_phase(const struct insitu_nvme_cqe *cqe)
{
	return le16toh(cqe->status) & 1;
}

void insitu_cqe_set_status(struct insitu_nvme_cqe *cqe, uint16_t status, bool phase)
{
	cqe->status = htole16((uint16_t)((status & 0x7fff) << 1) | (phase ? 1 : 0));
}

uint64_t insitu_cqe_result64(const struct insitu_nvme_cqe *cqe)
{
	return le32toh(cqe->dw0) | (uint64_t)le32toh(cqe->dw1) << 32;
}

#define GEN(sc, name) { (NVME_SCT_GENERIC << NVME_SCT_SHIFT) | (sc), name }
#define CMD(sc, name) { (NVME_SCT_CMD_SPECIFIC << NVME_SCT_SHIFT) | (sc), name }
#define MED(sc, name) { (NVME_SCT_MEDIA << NVME_SCT_SHIFT) | (sc), name }
#define PATH(sc, name) { (NVME_SCT_PATH << NVME_SCT_SHIFT) | (sc), name }
#define VS(sc, name) { (INSITU_VS_SCT << NVME_SCT_SHIFT) | (sc), name }

static const struct insitu_status_info status_table[] = {
	GEN(NVME_SC_SUCCESS, "Successful Completion"),
	GEN(NVME_SC_INVALID_OPCODE, "Invalid Command Opcode"),
	GEN(NVME_SC_INVALID_FIELD, "Invalid Field in Command"),
	GEN(NVME_SC_CMDID_CONFLICT, "Command ID Conflict"),
	GEN(NVME_SC_DATA_XFER_ERROR, "Data Transfer Error"),
	GEN(NVME_SC_POWER_LOSS, "Commands Aborted due to Power Loss Notification"),
	GEN(NVME_SC_INTERNAL, "Internal Error"),
	GEN(NVME_SC_ABORT_REQ, "Command Abort Requested"),
	GEN(NVME_SC_ABORT_QUEUE, "Command Aborted due to SQ Deletion"),
	GEN(NVME_SC_INVALID_NS, "Invalid Namespace or Format"),
	GEN(NVME_SC_CMD_SEQ_ERROR, "Command Sequence Error"),
	GEN(NVME_SC_SGL_INVALID_DATA, "SGL Data Block Length Invalid"),
	GEN(NVME_SC_SGL_INVALID_TYPE, "SGL Descriptor Type Invalid"),
	GEN(NVME_SC_SGL_INVALID_OFFSET, "SGL Offset Invalid"),
	GEN(NVME_SC_HOSTID_FORMAT, "Host Identifier Inconsistent Format"),
	GEN(NVME_SC_KAT_EXPIRED, "Keep Alive Timer Expired"),
	GEN(NVME_SC_KAT_INVALID, "Keep Alive Timeout Invalid"),
	GEN(NVME_SC_NS_WRITE_PROTECTED, "Namespace is Write Protected"),
	GEN(NVME_SC_CMD_INTERRUPTED, "Command Interrupted"),
	GEN(NVME_SC_TRAN_TPORT_ERROR, "Transient Transport Error"),
	GEN(NVME_SC_LBA_RANGE, "LBA Out of Range"),
	GEN(NVME_SC_CAP_EXCEEDED, "Capacity Exceeded"),
	GEN(NVME_SC_NS_NOT_READY, "Namespace Not Ready"),
	CMD(NVME_SC_CQ_INVALID, "Completion Queue Invalid"),
	CMD(NVME_SC_QID_INVALID, "Invalid Queue Identifier"),
	CMD(NVME_SC_QUEUE_SIZE, "Invalid Queue Size"),
	CMD(NVME_SC_ABORT_LIMIT, "Abort Command Limit Exceeded"),
	CMD(NVME_SC_ASYNC_LIMIT, "Asynchronous Event Request Limit Exceeded"),
	CMD(NVME_SC_INVALID_LOG_PAGE, "Invalid Log Page"),
	CMD(NVME_SC_INVALID_FORMAT, "Invalid Format"),
	CMD(NVME_SC_FEATURE_NOT_SAVEABLE, "Feature Identifier Not Saveable"),
	CMD(NVME_SC_FEATURE_NOT_CHANGEABLE, "Feature Not Changeable"),
	CMD(NVME_SC_FEATURE_NOT_PER_NS, "Feature Not Namespace Specific"),
	CMD(NVME_SC_SELF_TEST_IN_PROGRESS, "Device Self-test in Progress"),
	CMD(NVME_SC_IOCS_NOT_SUPPORTED, "I/O Command Set Not Supported"),
	CMD(NVME_SC_IOCS_NOT_ENABLED, "I/O Command Set Not Enabled"),
	CMD(NVME_SC_INVALID_IOCS, "Invalid I/O Command Set"),
	/* 80h..84h of SCT 1h are the Fabrics Connect codes on the queues we serve */
	CMD(NVME_SC_CONNECT_FORMAT, "Connect: Incompatible Format"),
	CMD(NVME_SC_CONNECT_CTRL_BUSY, "Connect: Controller Busy"),
	CMD(NVME_SC_CONNECT_INVALID_PARAM, "Connect: Invalid Parameters"),
	CMD(NVME_SC_CONNECT_RESTART_DISC, "Connect: Restart Discovery"),
	CMD(NVME_SC_CONNECT_INVALID_HOST, "Connect: Invalid Host"),
	CMD(NVME_SC_DISCONNECT_INVALID_QTYPE, "Disconnect: Invalid Queue Type"),
	MED(NVME_SC_WRITE_FAULT, "Write Fault"),
	MED(NVME_SC_READ_ERROR, "Unrecovered Read Error"),
	MED(NVME_SC_COMPARE_FAILED, "Compare Failure"),
	MED(NVME_SC_ACCESS_DENIED, "Access Denied"),
	PATH(NVME_SC_ANA_INTERNAL_PATH_ERROR, "Internal Path Error"),
	PATH(NVME_SC_CTRL_PATH_ERROR, "Controller Pathing Error"),
	PATH(NVME_SC_HOST_PATH_ERROR, "Host Pathing Error"),
	PATH(NVME_SC_CMD_ABORTED_BY_HOST, "Command Aborted By Host"),
	VS(INSITU_VS_SC_JOB_NOT_FOUND, "insitu: Job Not Found"),
	VS(INSITU_VS_SC_JOB_QUEUE_FULL, "insitu: Job Queue Full"),
	VS(INSITU_VS_SC_JOB_RUNNING, "insitu: Job Still Running"),
	VS(INSITU_VS_SC_PROGRAM_INVALID, "insitu: Program Image Invalid"),
	VS(INSITU_VS_SC_SANDBOX_FAILURE, "insitu: Sandbox Failure"),
	VS(INSITU_VS_SC_PROGRAM_FAILED, "insitu: Program Failed"),
};

const struct insitu_status_info *insitu_status_table(unsigned *count)
{
	*count = sizeof(status_table) / sizeof(status_table[0]);
	return status_table;
}

const char *insitu_status_name(uint16_t status)
{
	uint16_t key = status & ((INSITU_STATUS_SCT_MASK << INSITU_STATUS_SCT_SHIFT) |
				 INSITU_STATUS_SC_MASK);

	for (size_t i = 0; i < sizeof(status_table) / sizeof(status_table[0]); i++)
		if (status_table[i].status == key)
			return status_table[i].name;
	return "Unknown status";
}
