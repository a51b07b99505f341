/* NVMe over Fabrics commands (opcode 7Fh): Connect, Property Get and Property Set. libnvme
 * 1.3 provides the FCTYPE values (enum nvme_fctype), the register offsets (enum
 * nvme_register_offsets) and the 1024-byte Connect data (struct nvmf_connect_data); the
 * 64-byte command layouts it lacks are defined here [S][K]. */
#ifndef INSITU_PROTO_FABRICS_H
#define INSITU_PROTO_FABRICS_H

#include <nvme/types.h>
#include <stdbool.h>
#include <stdint.h>

#include "insitu/proto/sqe.h"
#include "insitu/proto/wire.h"

INSITU_ASSERT_SIZE(struct nvmf_connect_data, 1024);

/**
 * struct insitu_nvmf_connect_cmd - Fabrics Connect command (64 bytes) [S][K]
 * @opc:    7Fh (nvme_admin_fabrics)
 * @flags:  PSDT in bits 7:6
 * @cid:    Command Identifier
 * @fctype: 01h (nvme_fabrics_type_connect)
 * @rsvd5:  Reserved
 * @sgl:    SGL1, describing the 1024-byte struct nvmf_connect_data
 * @recfmt: Record Format (0)
 * @qid:    Queue ID (0 = admin queue)
 * @sqsize: Submission Queue Size (0's based)
 * @cattr:  Connect Attributes (bit 2: disable SQ flow control)
 * @rsvd47: Reserved
 * @kato:   Keep Alive Timeout in milliseconds (admin queue)
 * @rsvd52: Reserved
 */
struct insitu_nvmf_connect_cmd {
	__u8   opc;
	__u8   flags;
	__le16 cid;
	__u8   fctype;
	__u8   rsvd5[19];
	struct insitu_nvme_sgl sgl;
	__le16 recfmt;
	__le16 qid;
	__le16 sqsize;
	__u8   cattr;
	__u8   rsvd47;
	__le32 kato;
	__u8   rsvd52[12];
} INSITU_PACKED;
INSITU_ASSERT_SIZE(struct insitu_nvmf_connect_cmd, 64);
INSITU_ASSERT_OFFSET(struct insitu_nvmf_connect_cmd, recfmt, 40);
INSITU_ASSERT_OFFSET(struct insitu_nvmf_connect_cmd, kato, 48);

/**
 * struct insitu_nvmf_property_cmd - Fabrics Property Get / Property Set (64 bytes) [S][K]
 * @opc:    7Fh
 * @flags:  PSDT in bits 7:6
 * @cid:    Command Identifier
 * @fctype: 00h Property Set, 04h Property Get
 * @rsvd5:  Reserved
 * @attrib: bits 2:0 size: 0 = 4 bytes, 1 = 8 bytes
 * @rsvd41: Reserved
 * @ofst:   property offset (enum nvme_register_offsets)
 * @value:  Property Set: the value to write; reserved for Property Get
 * @rsvd56: Reserved
 */
struct insitu_nvmf_property_cmd {
	__u8   opc;
	__u8   flags;
	__le16 cid;
	__u8   fctype;
	__u8   rsvd5[35];
	__u8   attrib;
	__u8   rsvd41[3];
	__le32 ofst;
	__le64 value;
	__u8   rsvd56[8];
} INSITU_PACKED;
INSITU_ASSERT_SIZE(struct insitu_nvmf_property_cmd, 64);
INSITU_ASSERT_OFFSET(struct insitu_nvmf_property_cmd, attrib, 40);
INSITU_ASSERT_OFFSET(struct insitu_nvmf_property_cmd, ofst, 44);
INSITU_ASSERT_OFFSET(struct insitu_nvmf_property_cmd, value, 48);

/** Connect Attributes bit 2: the host disables SQ flow control (SQHD not reported) [K] */
#define INSITU_NVMF_CATTR_DISABLE_SQFLOW 0x04
/** Property Get/Set ATTRIB size values [S] */
#define INSITU_NVMF_PROP_SIZE_4 0
#define INSITU_NVMF_PROP_SIZE_8 1

/**
 * struct insitu_nvmf_connect - a Connect command's fields in host order
 * @qid:    Queue ID
 * @sqsize: Submission Queue Size (0's based)
 * @cattr:  Connect Attributes
 * @kato:   Keep Alive Timeout (ms)
 * @recfmt: Record Format
 */
struct insitu_nvmf_connect {
	uint16_t qid;
	uint16_t sqsize;
	uint8_t  cattr;
	uint32_t kato;
	uint16_t recfmt;
};

/**
 * struct insitu_nvmf_property - a Property Get/Set command's fields in host order
 * @set:   true for Property Set
 * @size8: the property is 8 bytes wide (else 4)
 * @ofst:  property offset
 * @value: value to write (Property Set)
 */
struct insitu_nvmf_property {
	bool     set;
	bool     size8;
	uint32_t ofst;
	uint64_t value;
};

/** insitu_nvmf_is_fabrics() - whether @sqe is a Fabrics command (opcode 7Fh) */
bool insitu_nvmf_is_fabrics(const struct insitu_nvme_sqe *sqe);

/** insitu_nvmf_fctype() - FCTYPE (byte 04) of a Fabrics command */
uint8_t insitu_nvmf_fctype(const struct insitu_nvme_sqe *sqe);

/**
 * insitu_nvmf_connect_encode() - build a Connect command whose data (struct
 * nvmf_connect_data) follows as 1024 bytes of in-capsule data
 */
void insitu_nvmf_connect_encode(struct insitu_nvme_sqe *sqe, uint16_t cid,
				const struct insitu_nvmf_connect *c);

/** insitu_nvmf_connect_decode() - fields of a Connect command; -EINVAL if @sqe is not one */
int insitu_nvmf_connect_decode(const struct insitu_nvme_sqe *sqe, struct insitu_nvmf_connect *c);

/** insitu_nvmf_property_encode() - build a Property Get or Set command */
void insitu_nvmf_property_encode(struct insitu_nvme_sqe *sqe, uint16_t cid,
				 const struct insitu_nvmf_property *p);

/**
 * insitu_nvmf_property_decode() - fields of a Property Get/Set command
 *
 * Return: 0, or -EINVAL when @sqe is not a Property Get/Set or its ATTRIB size is reserved.
 */
int insitu_nvmf_property_decode(const struct insitu_nvme_sqe *sqe, struct insitu_nvmf_property *p);

/** insitu_nvmf_connect_result() - CQE DW0 of a successful Connect: the Controller ID */
static inline uint32_t insitu_nvmf_connect_result(uint16_t cntlid)
{
	return cntlid;
}

/**
 * insitu_nvmf_connect_invalid_param() - CQE DW0 of a Connect rejected with Connect Invalid
 * Parameters: IPO (byte offset of the bad field) in bits 15:0, IATTR bit 16 set when the
 * offset is in the Connect data rather than in the SQE [S][K]
 */
static inline uint32_t insitu_nvmf_connect_invalid_param(bool in_data, uint16_t offset)
{
	return (in_data ? 1u << 16 : 0) | offset;
}

#endif
