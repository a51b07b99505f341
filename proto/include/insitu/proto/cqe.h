/* The 16-byte NVMe Completion Queue Entry and the status field it carries. Status values
 * use libnvme's encoding (SC 7:0, SCT 10:8, CRD 12:11, More 13, DNR 14: the CQE status
 * word without its phase bit), so libnvme's NVME_SC_* / NVME_SCT_* enums apply directly. */
#ifndef INSITU_PROTO_CQE_H
#define INSITU_PROTO_CQE_H

#include <stdbool.h>
#include <stdint.h>

#include "insitu/proto/wire.h"

/**
 * struct insitu_nvme_cqe - Completion Queue Entry (16 bytes) [S]
 * @dw0:    Command Specific, Dword 0
 * @dw1:    Command Specific, Dword 1
 * @sqhd:   SQ Head Pointer
 * @sqid:   SQ Identifier
 * @cid:    Command Identifier
 * @status: Phase Tag in bit 0 (reserved over fabrics), Status Field in bits 15:1
 */
struct insitu_nvme_cqe {
	__le32 dw0;
	__le32 dw1;
	__le16 sqhd;
	__le16 sqid;
	__le16 cid;
	__le16 status;
} INSITU_PACKED;
INSITU_ASSERT_SIZE(struct insitu_nvme_cqe, 16);

/**
 * enum insitu_status_bits - fields of a status value (libnvme encoding) [S][K]
 * @INSITU_STATUS_SC_MASK:   Status Code, bits 7:0
 * @INSITU_STATUS_SCT_SHIFT: Status Code Type position
 * @INSITU_STATUS_SCT_MASK:  Status Code Type mask after shifting
 * @INSITU_STATUS_CRD_SHIFT: Command Retry Delay position
 * @INSITU_STATUS_CRD_MASK:  Command Retry Delay mask after shifting
 * @INSITU_STATUS_MORE:      More information in the Error Information log
 * @INSITU_STATUS_DNR:       Do Not Retry
 */
enum insitu_status_bits {
	INSITU_STATUS_SC_MASK   = 0xff,
	INSITU_STATUS_SCT_SHIFT = 8,
	INSITU_STATUS_SCT_MASK  = 0x7,
	INSITU_STATUS_CRD_SHIFT = 11,
	INSITU_STATUS_CRD_MASK  = 0x3,
	INSITU_STATUS_MORE      = 1 << 13,
	INSITU_STATUS_DNR       = 1 << 14,
};

/** insitu_status() - a status value from its Status Code Type, Status Code and DNR bit */
static inline uint16_t insitu_status(uint8_t sct, uint8_t sc, bool dnr)
{
	return (uint16_t)(((sct & INSITU_STATUS_SCT_MASK) << INSITU_STATUS_SCT_SHIFT) | sc |
			  (dnr ? INSITU_STATUS_DNR : 0));
}

/** insitu_status_sct() - Status Code Type of @status */
static inline uint8_t insitu_status_sct(uint16_t status)
{
	return (uint8_t)((status >> INSITU_STATUS_SCT_SHIFT) & INSITU_STATUS_SCT_MASK);
}

/** insitu_status_sc() - Status Code of @status */
static inline uint8_t insitu_status_sc(uint16_t status)
{
	return (uint8_t)(status & INSITU_STATUS_SC_MASK);
}

/** insitu_status_dnr() - whether @status says Do Not Retry */
static inline bool insitu_status_dnr(uint16_t status)
{
	return (status & INSITU_STATUS_DNR) != 0;
}

/**
 * insitu_cqe_init() - fill @cqe for command @cid with @status and result dwords
 * @cqe:    the entry to fill (cleared first)
 * @cid:    Command Identifier of the completed command
 * @sqid:   SQ Identifier
 * @sqhd:   SQ Head Pointer
 * @status: status value (libnvme encoding); the phase bit is left 0, as fabrics need
 * @dw0:    Dword 0
 * @dw1:    Dword 1
 */
void insitu_cqe_init(struct insitu_nvme_cqe *cqe, uint16_t cid, uint16_t sqid, uint16_t sqhd,
		     uint16_t status, uint32_t dw0, uint32_t dw1);

/** insitu_cqe_status() - the status value of @cqe (phase bit removed) */
uint16_t insitu_cqe_status(const struct insitu_nvme_cqe *cqe);

/** insitu_cqe_phase() - the Phase Tag of @cqe */
bool insitu_cqe_phase(const struct insitu_nvme_cqe *cqe);

/** insitu_cqe_set_status() - store @status and @phase in @cqe */
void insitu_cqe_set_status(struct insitu_nvme_cqe *cqe, uint16_t status, bool phase);

/** insitu_cqe_result64() - Dword 1:0 of @cqe as one 64-bit result (Property Get, Execute) */
uint64_t insitu_cqe_result64(const struct insitu_nvme_cqe *cqe);

/**
 * struct insitu_status_info - one status the insitu firmware can return
 * @status: status value without DNR/CRD/More bits
 * @name:   short name as the specification spells it
 */
struct insitu_status_info {
	uint16_t status;
	const char *name;
};

/**
 * insitu_status_table() - the statuses the daemon uses, standard ones first
 * @count: set to the number of entries
 *
 * Standard values come from libnvme's enums; vendor values (SCT 7h) from nvme_cs.h.
 * Command-specific codes (SCT 1h) reuse numbers across commands; the table lists the ones
 * of the commands we serve, with the command named in the string.
 */
const struct insitu_status_info *insitu_status_table(unsigned *count);

/**
 * insitu_status_name() - name of @status (DNR, More and CRD ignored)
 *
 * Return: a static string; "Unknown status" when the status is not in the table.
 */
const char *insitu_status_name(uint16_t status);

#endif
