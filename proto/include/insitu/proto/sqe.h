/* The 64-byte NVMe Submission Queue Entry and the SGL descriptor NVMe/TCP carries in it.
 * Layouts follow the NVMe Base specification [S] and the Linux kernel's nvme.h [K]; the
 * command layer reads commands through this structure whatever the transport. */
#ifndef INSITU_PROTO_SQE_H
#define INSITU_PROTO_SQE_H

#include <stdbool.h>
#include <stdint.h>

#include "insitu/proto/wire.h"

/**
 * struct insitu_nvme_sgl - SGL descriptor (16 bytes) [S]
 * @addr:   Address, or for the Data Block/Offset sub type the offset into in-capsule data
 * @length: Length in bytes
 * @rsvd12: Reserved
 * @type:   SGL Identifier: descriptor type in bits 7:4, sub type in bits 3:0
 */
struct insitu_nvme_sgl {
	__le64 addr;
	__le32 length;
	__u8   rsvd12[3];
	__u8   type;
} INSITU_PACKED;
INSITU_ASSERT_SIZE(struct insitu_nvme_sgl, 16);

/**
 * enum insitu_sgl_type - SGL Identifier values [S][K]
 * @INSITU_SGL_DESC_DATA_BLOCK:      descriptor type 0h, Data Block
 * @INSITU_SGL_DESC_BIT_BUCKET:      descriptor type 1h, Bit Bucket
 * @INSITU_SGL_DESC_SEGMENT:         descriptor type 2h, Segment
 * @INSITU_SGL_DESC_LAST_SEGMENT:    descriptor type 3h, Last Segment
 * @INSITU_SGL_DESC_KEYED_DATA:      descriptor type 4h, Keyed Data Block
 * @INSITU_SGL_DESC_TRANSPORT_DATA:  descriptor type 5h, Transport Data Block
 * @INSITU_SGL_SUB_ADDRESS:          sub type 0h, Address
 * @INSITU_SGL_SUB_OFFSET:           sub type 1h, Offset
 * @INSITU_SGL_SUB_TRANSPORT_A:      sub type Ah, transport specific
 * @INSITU_SGL_TCP_INCAPSULE:        identifier 01h: NVMe/TCP in-capsule data
 * @INSITU_SGL_TCP_TRANSPORT:        identifier 5Ah: NVMe/TCP command data buffer (R2T/C2HData)
 */
enum insitu_sgl_type {
	INSITU_SGL_DESC_DATA_BLOCK     = 0x0,
	INSITU_SGL_DESC_BIT_BUCKET     = 0x1,
	INSITU_SGL_DESC_SEGMENT        = 0x2,
	INSITU_SGL_DESC_LAST_SEGMENT   = 0x3,
	INSITU_SGL_DESC_KEYED_DATA     = 0x4,
	INSITU_SGL_DESC_TRANSPORT_DATA = 0x5,
	INSITU_SGL_SUB_ADDRESS         = 0x0,
	INSITU_SGL_SUB_OFFSET          = 0x1,
	INSITU_SGL_SUB_TRANSPORT_A     = 0xA,
	INSITU_SGL_TCP_INCAPSULE       = (INSITU_SGL_DESC_DATA_BLOCK << 4) | INSITU_SGL_SUB_OFFSET,
	INSITU_SGL_TCP_TRANSPORT = (INSITU_SGL_DESC_TRANSPORT_DATA << 4) | INSITU_SGL_SUB_TRANSPORT_A,
};

/**
 * union insitu_nvme_dptr - Data Pointer, SQE bytes 39:24
 * @prp:      PRP Entry 1 and 2 (PCIe)
 * @prp.prp1: PRP Entry 1
 * @prp.prp2: PRP Entry 2
 * @sgl:      SGL Entry 1 (fabrics)
 */
union insitu_nvme_dptr {
	struct {
		__le64 prp1;
		__le64 prp2;
	} INSITU_PACKED prp;
	struct insitu_nvme_sgl sgl;
} INSITU_PACKED;
INSITU_ASSERT_SIZE(union insitu_nvme_dptr, 16);

/**
 * struct insitu_nvme_sqe - Submission Queue Entry (64 bytes) [S]
 * @opc:   Opcode; bits 1:0 give the data direction
 * @flags: FUSE in bits 1:0, PSDT in bits 7:6
 * @cid:   Command Identifier
 * @nsid:  Namespace Identifier (Fabrics commands put FCTYPE in byte 04 instead)
 * @cdw2:  Command Dword 2
 * @cdw3:  Command Dword 3
 * @cdw4:  Command Dword 4 (Metadata Pointer bits 31:0 in most commands)
 * @cdw5:  Command Dword 5 (Metadata Pointer bits 63:32 in most commands)
 * @dptr:  Data Pointer
 * @cdw10: Command Dword 10
 * @cdw11: Command Dword 11
 * @cdw12: Command Dword 12
 * @cdw13: Command Dword 13
 * @cdw14: Command Dword 14
 * @cdw15: Command Dword 15
 */
struct insitu_nvme_sqe {
	__u8   opc;
	__u8   flags;
	__le16 cid;
	__le32 nsid;
	__le32 cdw2;
	__le32 cdw3;
	__le32 cdw4;
	__le32 cdw5;
	union insitu_nvme_dptr dptr;
	__le32 cdw10;
	__le32 cdw11;
	__le32 cdw12;
	__le32 cdw13;
	__le32 cdw14;
	__le32 cdw15;
} INSITU_PACKED;
INSITU_ASSERT_SIZE(struct insitu_nvme_sqe, 64);
INSITU_ASSERT_OFFSET(struct insitu_nvme_sqe, dptr, 24);
INSITU_ASSERT_OFFSET(struct insitu_nvme_sqe, cdw10, 40);

/**
 * enum insitu_sqe_flags - SQE byte 01 fields [S]
 * @INSITU_SQE_FUSE_MASK:  Fused Operation, bits 1:0
 * @INSITU_SQE_PSDT_SHIFT: PRP or SGL for Data Transfer, bits 7:6
 * @INSITU_SQE_PSDT_MASK:  PSDT mask after shifting
 * @INSITU_SQE_PSDT_PRP:   PRPs are used
 * @INSITU_SQE_PSDT_SGL:   SGLs are used, MPTR holds an address (what NVMe/TCP hosts send)
 * @INSITU_SQE_PSDT_SGL_MPTR_SGL: SGLs are used, MPTR holds an SGL segment address
 */
enum insitu_sqe_flags {
	INSITU_SQE_FUSE_MASK          = 0x03,
	INSITU_SQE_PSDT_SHIFT         = 6,
	INSITU_SQE_PSDT_MASK          = 0x3,
	INSITU_SQE_PSDT_PRP           = 0,
	INSITU_SQE_PSDT_SGL           = 1,
	INSITU_SQE_PSDT_SGL_MPTR_SGL  = 2,
};

/**
 * enum insitu_data_dir - data transfer direction encoded in opcode bits 1:0 [S]
 * @INSITU_DIR_NONE:      00b, no data
 * @INSITU_DIR_TO_CTRL:   01b, host to controller
 * @INSITU_DIR_TO_HOST:   10b, controller to host
 * @INSITU_DIR_BIDI:      11b, bidirectional
 */
enum insitu_data_dir {
	INSITU_DIR_NONE    = 0,
	INSITU_DIR_TO_CTRL = 1,
	INSITU_DIR_TO_HOST = 2,
	INSITU_DIR_BIDI    = 3,
};

/** insitu_opcode_dir() - the data direction an opcode declares in its bits 1:0 */
static inline enum insitu_data_dir insitu_opcode_dir(uint8_t opc)
{
	return (enum insitu_data_dir)(opc & 0x3);
}

/**
 * insitu_sqe_init() - clear @sqe and set its opcode, CID and NSID; PSDT = SGL (fabrics)
 */
void insitu_sqe_init(struct insitu_nvme_sqe *sqe, uint8_t opc, uint16_t cid, uint32_t nsid);

/** insitu_sqe_cid() - the Command Identifier of @sqe */
uint16_t insitu_sqe_cid(const struct insitu_nvme_sqe *sqe);

/** insitu_sqe_nsid() - the Namespace Identifier of @sqe */
uint32_t insitu_sqe_nsid(const struct insitu_nvme_sqe *sqe);

/** insitu_sqe_psdt() - the PSDT field of @sqe (enum insitu_sqe_flags values) */
unsigned insitu_sqe_psdt(const struct insitu_nvme_sqe *sqe);

/** insitu_sqe_fuse() - the FUSE field of @sqe */
unsigned insitu_sqe_fuse(const struct insitu_nvme_sqe *sqe);

/** insitu_sqe_set_sgl_incapsule() - SGL1 = Data Block/Offset: @len bytes of in-capsule data */
void insitu_sqe_set_sgl_incapsule(struct insitu_nvme_sqe *sqe, uint32_t len);

/** insitu_sqe_set_sgl_transport() - SGL1 = Transport Data Block: @len-byte command buffer */
void insitu_sqe_set_sgl_transport(struct insitu_nvme_sqe *sqe, uint32_t len);

/** insitu_sqe_data_len() - SGL1 length of @sqe (the command's data transfer size) */
uint32_t insitu_sqe_data_len(const struct insitu_nvme_sqe *sqe);

/**
 * insitu_sqe_check_tcp_sgl() - judge SGL1 of a command received over NVMe/TCP
 * @sqe:     the command
 * @icd_len: bytes of in-capsule data that came with it
 * @max_icd: largest in-capsule data this queue accepts
 *
 * NVMe/TCP allows exactly two SGL1 forms (DESIGN.md, "Queue entries"). An in-capsule
 * descriptor must describe exactly the capsule's data from offset 0; a transport descriptor
 * comes with no in-capsule data; a data-less command may also carry a zero-length SGL.
 *
 * Return: 0 when acceptable, else the NVMe status field (libnvme encoding, with DNR) to
 * complete the command with: SGL Descriptor Type Invalid, SGL Offset Invalid, or
 * SGL Data Block Length Invalid.
 */
uint16_t insitu_sqe_check_tcp_sgl(const struct insitu_nvme_sqe *sqe, uint32_t icd_len,
				  uint32_t max_icd);

#endif
