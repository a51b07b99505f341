/* NVMe/TCP PDU codec: the nine PDU layouts of the NVMe/TCP Transport Specification, the
 * negotiated connection state, a pure bounds-checked decoder whose errors carry the
 * TermReq FES/FEI the spec requires, and encoders that build PDUs with digests and padding.
 * DESIGN.md lists every validation rule with its FES/FEI. */
#ifndef INSITU_PROTO_PDU_H
#define INSITU_PROTO_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "insitu/proto/cqe.h"
#include "insitu/proto/sqe.h"
#include "insitu/proto/wire.h"

/** Well-known values [S][K] */
#define INSITU_TCP_PORT            4420  /* IANA port for NVMe over Fabrics */
#define INSITU_TCP_DISC_PORT       8009  /* IANA port for NVMe/TCP discovery */
#define INSITU_TCP_DIGEST_LEN      4
#define INSITU_TCP_ADMIN_ICD_MAX   8192  /* in-capsule data every controller takes on admin queues */
#define INSITU_TCP_MIN_MAXH2CDATA  4096
#define INSITU_TCP_TERM_DATA_MAX   128   /* TermReq echoes at most 128 header bytes */
#define INSITU_TCP_TERM_PLEN_MAX   152
#define INSITU_TCP_PDA_MAX         31    /* HPDA/CPDA: 0's based dwords, 4..128 bytes */

/**
 * enum insitu_tcp_pdu_type - PDU-Type; bit 0 is the direction (1 = controller to host) [S]
 */
enum insitu_tcp_pdu_type {
	INSITU_TCP_ICREQ    = 0x0,
	INSITU_TCP_ICRESP   = 0x1,
	INSITU_TCP_H2C_TERM = 0x2,
	INSITU_TCP_C2H_TERM = 0x3,
	INSITU_TCP_CMD      = 0x4,
	INSITU_TCP_RSP      = 0x5,
	INSITU_TCP_H2C_DATA = 0x6,
	INSITU_TCP_C2H_DATA = 0x7,
	INSITU_TCP_R2T      = 0x9,
};

/**
 * enum insitu_tcp_flags - CH FLAGS bits [S]
 * @INSITU_TCP_F_HDGST:   HDGSTF, a header digest follows the header
 * @INSITU_TCP_F_DDGST:   DDGSTF, a data digest follows the data
 * @INSITU_TCP_F_LAST:    LAST_PDU, last data PDU of the transfer (H2CData: of the R2T)
 * @INSITU_TCP_F_SUCCESS: SUCCESS, C2HData only: command done, no CapsuleResp follows
 */
enum insitu_tcp_flags {
	INSITU_TCP_F_HDGST   = 1 << 0,
	INSITU_TCP_F_DDGST   = 1 << 1,
	INSITU_TCP_F_LAST    = 1 << 2,
	INSITU_TCP_F_SUCCESS = 1 << 3,
};

/** ICReq/ICResp DGST bits [S] */
#define INSITU_TCP_DGST_HDR  0x1
#define INSITU_TCP_DGST_DATA 0x2

/**
 * enum insitu_tcp_fes - TermReq Fatal Error Status [S]
 * @INSITU_TCP_FES_INVALID_HEADER_FIELD: FEI = byte offset of the bad field
 * @INSITU_TCP_FES_PDU_SEQUENCE_ERROR:   FEI reserved
 * @INSITU_TCP_FES_HEADER_DIGEST_ERROR:  FEI = the HDGST that failed
 * @INSITU_TCP_FES_DATA_OUT_OF_RANGE:    FEI reserved
 * @INSITU_TCP_FES_DATA_LIMIT_EXCEEDED:  C2HTermReq: H2CData DATAL above MAXH2CDATA
 * @INSITU_TCP_FES_R2T_LIMIT_EXCEEDED:   H2CTermReq: more R2Ts than MAXR2T allows
 * @INSITU_TCP_FES_UNSUPPORTED_PARAM:    FEI = byte offset of the unsupported field
 */
enum insitu_tcp_fes {
	INSITU_TCP_FES_INVALID_HEADER_FIELD = 0x01,
	INSITU_TCP_FES_PDU_SEQUENCE_ERROR   = 0x02,
	INSITU_TCP_FES_HEADER_DIGEST_ERROR  = 0x03,
	INSITU_TCP_FES_DATA_OUT_OF_RANGE    = 0x04,
	INSITU_TCP_FES_DATA_LIMIT_EXCEEDED  = 0x05,
	INSITU_TCP_FES_R2T_LIMIT_EXCEEDED   = 0x05,
	INSITU_TCP_FES_UNSUPPORTED_PARAM    = 0x06,
};

/**
 * struct insitu_tcp_ch - PDU Common Header (8 bytes) [S Fig. 19]
 * @type:  PDU-Type
 * @flags: FLAGS
 * @hlen:  Header Length, without HDGST
 * @pdo:   PDU Data Offset from the start of the PDU
 * @plen:  PDU Length, everything included
 */
struct insitu_tcp_ch {
	__u8   type;
	__u8   flags;
	__u8   hlen;
	__u8   pdo;
	__le32 plen;
} INSITU_PACKED;
INSITU_ASSERT_SIZE(struct insitu_tcp_ch, 8);

/**
 * struct insitu_tcp_icreq - Initialize Connection Request (128 bytes) [S Fig. 20]
 * @ch:     common header
 * @pfv:    PDU Format Version, 0
 * @hpda:   Host PDU Data Alignment, 0's based dwords (0..31)
 * @dgst:   bit 0 HDGST_ENABLE, bit 1 DDGST_ENABLE requested
 * @maxr2t: Maximum outstanding R2Ts per command, 0's based
 * @rsvd16: Reserved
 */
struct insitu_tcp_icreq {
	struct insitu_tcp_ch ch;
	__le16 pfv;
	__u8   hpda;
	__u8   dgst;
	__le32 maxr2t;
	__u8   rsvd16[112];
} INSITU_PACKED;
INSITU_ASSERT_SIZE(struct insitu_tcp_icreq, 128);
INSITU_ASSERT_OFFSET(struct insitu_tcp_icreq, maxr2t, 12);

/**
 * struct insitu_tcp_icresp - Initialize Connection Response (128 bytes) [S Fig. 21]
 * @ch:         common header
 * @pfv:        PDU Format Version, 0
 * @cpda:       Controller PDU Data Alignment, 0's based dwords (0..31)
 * @dgst:       digests in use for the connection
 * @maxh2cdata: largest H2CData DATAL the controller accepts (dword multiple, >= 4096)
 * @rsvd16:     Reserved
 */
struct insitu_tcp_icresp {
	struct insitu_tcp_ch ch;
	__le16 pfv;
	__u8   cpda;
	__u8   dgst;
	__le32 maxh2cdata;
	__u8   rsvd16[112];
} INSITU_PACKED;
INSITU_ASSERT_SIZE(struct insitu_tcp_icresp, 128);
INSITU_ASSERT_OFFSET(struct insitu_tcp_icresp, maxh2cdata, 12);

/**
 * struct insitu_tcp_term - H2CTermReq / C2HTermReq header (24 bytes) [S Fig. 22/23]
 * @ch:     common header; PLEN 24..152
 * @fes:    Fatal Error Status
 * @fei:    Fatal Error Information (unaligned, byte 10)
 * @rsvd14: Reserved
 */
struct insitu_tcp_term {
	struct insitu_tcp_ch ch;
	__le16 fes;
	__le32 fei;
	__u8   rsvd14[10];
} INSITU_PACKED;
INSITU_ASSERT_SIZE(struct insitu_tcp_term, 24);
INSITU_ASSERT_OFFSET(struct insitu_tcp_term, fei, 10);

/**
 * struct insitu_tcp_cmd - Command Capsule header (72 bytes) [S Fig. 24]
 * @ch:  common header
 * @sqe: the command
 */
struct insitu_tcp_cmd {
	struct insitu_tcp_ch ch;
	struct insitu_nvme_sqe sqe;
} INSITU_PACKED;
INSITU_ASSERT_SIZE(struct insitu_tcp_cmd, 72);

/**
 * struct insitu_tcp_rsp - Response Capsule (24 bytes) [S Fig. 25]
 * @ch:  common header
 * @cqe: the completion
 */
struct insitu_tcp_rsp {
	struct insitu_tcp_ch ch;
	struct insitu_nvme_cqe cqe;
} INSITU_PACKED;
INSITU_ASSERT_SIZE(struct insitu_tcp_rsp, 24);

/**
 * struct insitu_tcp_data - H2CData / C2HData header (24 bytes) [S Fig. 26/27]
 * @ch:     common header
 * @cccid:  Command Capsule CID
 * @ttag:   Transfer Tag from the R2T (H2CData); reserved in C2HData
 * @datao:  Data Offset in the command data buffer
 * @datal:  Data Length
 * @rsvd20: Reserved
 */
struct insitu_tcp_data {
	struct insitu_tcp_ch ch;
	__le16 cccid;
	__le16 ttag;
	__le32 datao;
	__le32 datal;
	__u8   rsvd20[4];
} INSITU_PACKED;
INSITU_ASSERT_SIZE(struct insitu_tcp_data, 24);
INSITU_ASSERT_OFFSET(struct insitu_tcp_data, datao, 12);
INSITU_ASSERT_OFFSET(struct insitu_tcp_data, datal, 16);

/**
 * struct insitu_tcp_r2t - Ready to Transfer (24 bytes) [S Fig. 28]
 * @ch:     common header
 * @cccid:  Command Capsule CID
 * @ttag:   Transfer Tag, chosen by the controller
 * @r2to:   Requested Data Offset
 * @r2tl:   Requested Data Length
 * @rsvd20: Reserved
 */
struct insitu_tcp_r2t {
	struct insitu_tcp_ch ch;
	__le16 cccid;
	__le16 ttag;
	__le32 r2to;
	__le32 r2tl;
	__u8   rsvd20[4];
} INSITU_PACKED;
INSITU_ASSERT_SIZE(struct insitu_tcp_r2t, 24);

/**
 * union insitu_tcp_hdr - any PDU header; the largest (IC PDUs) is 128 bytes
 */
union insitu_tcp_hdr {
	struct insitu_tcp_ch     ch;
	struct insitu_tcp_icreq  icreq;
	struct insitu_tcp_icresp icresp;
	struct insitu_tcp_term   term;
	struct insitu_tcp_cmd    cmd;
	struct insitu_tcp_rsp    rsp;
	struct insitu_tcp_data   data;
	struct insitu_tcp_r2t    r2t;
	__u8                     raw[128];
};

/**
 * enum insitu_tcp_role - the side of the connection the codec works for
 * @INSITU_TCP_CONTROLLER: receives H2C PDUs, sends C2H PDUs (the device daemon)
 * @INSITU_TCP_HOST:       receives C2H PDUs, sends H2C PDUs (libinsitu)
 */
enum insitu_tcp_role {
	INSITU_TCP_CONTROLLER = 1,
	INSITU_TCP_HOST       = 2,
};

/**
 * struct insitu_tcp_params - one side's local choices, fixed before the IC exchange
 * @pda:        alignment we want of the data PDUs we receive (0's based dwords, 0..31):
 *              sent as HPDA by a host, as CPDA by a controller
 * @digest:     INSITU_TCP_DGST_* bits: a host requests them; a controller grants at most
 *              these of what the host requests
 * @maxr2t:     host: MAXR2T offered in the ICReq (0's based)
 * @maxh2cdata: controller: MAXH2CDATA offered in the ICResp
 * @max_icd:    controller: largest in-capsule data a CapsuleCmd may carry
 * @max_c2h:    host: largest DATAL of one C2HData PDU (its largest command buffer)
 * @allow_unaligned_data: accept DATAO/DATAL/R2TO/R2TL that are not dword multiples
 */
struct insitu_tcp_params {
	uint8_t  pda;
	uint8_t  digest;
	uint32_t maxr2t;
	uint32_t maxh2cdata;
	uint32_t max_icd;
	uint32_t max_c2h;
	bool     allow_unaligned_data;
};

/**
 * enum insitu_tcp_state - where the connection is
 * @INSITU_TCP_AWAIT_IC:    before the ICReq/ICResp exchange
 * @INSITU_TCP_ESTABLISHED: after it; capsules and data flow
 */
enum insitu_tcp_state {
	INSITU_TCP_AWAIT_IC    = 1,
	INSITU_TCP_ESTABLISHED = 2,
};

/**
 * struct insitu_tcp_conn - what the codec knows about one NVMe/TCP connection
 * @role:       our side
 * @state:      IC exchange done or not
 * @local:      our parameters
 * @hdgst:      header digests in use
 * @ddgst:      data digests in use
 * @hpda:       host's alignment for C2H data PDUs (0's based dwords)
 * @cpda:       controller's alignment for H2C data PDUs (0's based dwords)
 * @maxr2t:     host's MAXR2T (0's based)
 * @maxh2cdata: controller's MAXH2CDATA
 *
 * Only the insitu_tcp_conn_*() functions change it; parsers and builders read it.
 */
struct insitu_tcp_conn {
	enum insitu_tcp_role  role;
	enum insitu_tcp_state state;
	struct insitu_tcp_params local;
	bool     hdgst;
	bool     ddgst;
	uint8_t  hpda;
	uint8_t  cpda;
	uint32_t maxr2t;
	uint32_t maxh2cdata;
};

/**
 * struct insitu_tcp_error - why a PDU was not accepted
 * @code:      the return value: -EAGAIN, -EPROTO, -EBADMSG or -EINVAL (0 when none)
 * @need:      -EAGAIN: exact number of further bytes the parser needs to decide
 * @fes:       -EPROTO: Fatal Error Status for the TermReq
 * @fei:       -EPROTO: Fatal Error Information for the TermReq
 * @send_term: -EPROTO: answer with a TermReq (false when the bad PDU is itself a TermReq:
 *             the spec says to close the connection without reply)
 * @echo_len:  -EPROTO: how many bytes of the offending PDU header to echo in the TermReq
 * @status:    -EBADMSG: status to complete the affected command with (libnvme encoding)
 * @msg:       human-readable reason naming the PDU and field
 */
struct insitu_tcp_error {
	int      code;
	size_t   need;
	uint16_t fes;
	uint32_t fei;
	bool     send_term;
	uint32_t echo_len;
	uint16_t status;
	char     msg[160];
};

/**
 * struct insitu_tcp_pdu - a validated PDU
 * @hdr:      copy of the PDU header (hlen bytes valid)
 * @type:     PDU-Type
 * @flags:    FLAGS
 * @hlen:     header length without HDGST
 * @plen:     total PDU length: bytes the PDU occupies in the stream
 * @hdgst:    an HDGST follows the header
 * @ddgst:    a DDGST follows the data
 * @data_off: offset of the data from the start of the PDU (PDO; 24 for TermReq), 0 if none
 * @data_len: data bytes (in-capsule data, DATAL, or the TermReq's echoed header)
 * @data:     the data inside the parsed buffer; NULL when none or from parse_header
 * @ddgst_rx: the received DDGST (full parse with @ddgst)
 */
struct insitu_tcp_pdu {
	union insitu_tcp_hdr hdr;
	uint8_t        type;
	uint8_t        flags;
	uint32_t       hlen;
	uint32_t       plen;
	bool           hdgst;
	bool           ddgst;
	uint32_t       data_off;
	uint32_t       data_len;
	const uint8_t *data;
	uint32_t       ddgst_rx;
};

/* ---- connection ---------------------------------------------------------------------- */

/**
 * insitu_tcp_params_default() - defaults the Linux kernel host interoperates with
 * @role: our side
 * @p:    filled: pda 0; controller grants both digests, MAXH2CDATA 128 KiB, in-capsule data
 *        up to 8192 bytes; host requests no digest, MAXR2T 0, C2HData up to 1 MiB
 */
void insitu_tcp_params_default(enum insitu_tcp_role role, struct insitu_tcp_params *p);

/**
 * insitu_tcp_conn_init() - start a connection in the AWAIT_IC state
 *
 * Return: 0, or -EINVAL (with @err->msg) when @p breaks a spec limit (PDA above 31,
 * MAXH2CDATA below 4096 or not a dword multiple, unknown digest bits, ...).
 */
int insitu_tcp_conn_init(struct insitu_tcp_conn *c, enum insitu_tcp_role role,
			 const struct insitu_tcp_params *p, struct insitu_tcp_error *err);

/**
 * insitu_tcp_conn_accept_icreq() - controller: negotiate from a parsed ICReq
 * @c:      a controller connection in AWAIT_IC
 * @icreq:  the ICReq, as validated by insitu_tcp_pdu_parse()
 * @icresp: filled with the ICResp to send (build it with insitu_tcp_build_icresp())
 *
 * Digests are those both sides want; HPDA and MAXR2T come from the host; CPDA and
 * MAXH2CDATA are ours. The connection becomes ESTABLISHED.
 * Return: 0 or -EINVAL (wrong role/state, or an ICReq the parser would have refused).
 */
int insitu_tcp_conn_accept_icreq(struct insitu_tcp_conn *c, const struct insitu_tcp_icreq *icreq,
				 struct insitu_tcp_icresp *icresp, struct insitu_tcp_error *err);

/**
 * insitu_tcp_conn_accept_icresp() - host: take the controller's answer
 *
 * The parser already refused digests we did not ask for. A digest we asked for but the
 * controller declined is a policy choice the spec leaves to the host; this function accepts
 * it (the connection runs without it). Return: 0 or -EINVAL (wrong role/state, or an
 * ICResp the parser would have refused).
 */
int insitu_tcp_conn_accept_icresp(struct insitu_tcp_conn *c, const struct insitu_tcp_icresp *icresp,
				  struct insitu_tcp_error *err);

/**
 * insitu_tcp_conn_max_plen() - the largest PLEN this connection can accept, to size a
 * receive buffer (header, digest, padding, largest data, data digest)
 */
uint32_t insitu_tcp_conn_max_plen(const struct insitu_tcp_conn *c);

/* ---- decoding ------------------------------------------------------------------------ */

/**
 * insitu_tcp_pdu_parse_header() - validate the header of the PDU at the start of @buf
 * @c:   connection state (read only)
 * @buf: received bytes; only buf[0, len) is read
 * @len: number of bytes available
 * @pdu: filled on success, except @pdu->data (NULL)
 * @err: filled on failure (may be NULL)
 *
 * Needs CH + PSH + HDGST bytes; checks every header rule of DESIGN.md, including the header
 * digest. Lets a receiver place the data of a large PDU straight where it belongs.
 * Return: 0, -EAGAIN (err->need), -EPROTO (err->fes/fei) or -EINVAL.
 */
int insitu_tcp_pdu_parse_header(const struct insitu_tcp_conn *c, const void *buf, size_t len,
				struct insitu_tcp_pdu *pdu, struct insitu_tcp_error *err);

/**
 * insitu_tcp_pdu_parse() - validate the whole PDU at the start of @buf
 *
 * As insitu_tcp_pdu_parse_header(), then waits for PLEN bytes and verifies the data digest.
 * Bytes after PLEN are not looked at: the next PDU starts at buf + pdu->plen.
 * Return: 0, -EAGAIN, -EPROTO, -EBADMSG (data digest mismatch; @pdu complete, err->status
 * = Transient Transport Error) or -EINVAL.
 */
int insitu_tcp_pdu_parse(const struct insitu_tcp_conn *c, const void *buf, size_t len,
			 struct insitu_tcp_pdu *pdu, struct insitu_tcp_error *err);

/**
 * insitu_tcp_pdu_verify_ddgst() - check a data digest computed by the caller, for data
 * received outside the parse buffer (after insitu_tcp_pdu_parse_header())
 * @pdu:      header view with @pdu->ddgst set
 * @computed: CRC32C of the data, e.g. from insitu_crc32c_update() over an iovec
 * @received: the 4 DDGST bytes as received
 * Return: 0, or -EBADMSG with err->status = Transient Transport Error.
 */
int insitu_tcp_pdu_verify_ddgst(const struct insitu_tcp_pdu *pdu, uint32_t computed,
				const void *received, struct insitu_tcp_error *err);

/** insitu_tcp_pdu_type_name() - "ICReq", "CapsuleCmd", ...; "unknown" otherwise */
const char *insitu_tcp_pdu_type_name(uint8_t type);

/** insitu_tcp_fes_name() - "Invalid PDU Header Field", ...; "unknown" otherwise */
const char *insitu_tcp_fes_name(uint16_t fes);

/* ---- encoding ------------------------------------------------------------------------ */

/**
 * struct insitu_tcp_data_desc - one H2CData or C2HData PDU to build
 * @cccid: Command Capsule CID
 * @ttag:  Transfer Tag (H2CData; ignored for C2HData)
 * @datao: Data Offset
 * @datal: Data Length (> 0)
 * @data:  the bytes (ignored by the _hdr builders)
 * @last:  set LAST_PDU
 * @success: set SUCCESS (C2HData only, needs @last)
 */
struct insitu_tcp_data_desc {
	uint16_t    cccid;
	uint16_t    ttag;
	uint32_t    datao;
	uint32_t    datal;
	const void *data;
	bool        last;
	bool        success;
};

/*
 * Builders write one PDU at @buf (capacity @cap) and return its length, or -ENOSPC when
 * @cap is too small, or -EINVAL when an argument breaks the spec. Digests and padding follow
 * @c; reserved bytes and PAD are zero.
 */

/** insitu_tcp_build_icreq() - host: ICReq from the host's local parameters in @c */
ssize_t insitu_tcp_build_icreq(const struct insitu_tcp_conn *c, void *buf, size_t cap);

/** insitu_tcp_build_icresp() - controller: ICResp prepared by insitu_tcp_conn_accept_icreq() */
ssize_t insitu_tcp_build_icresp(const struct insitu_tcp_icresp *icresp, void *buf, size_t cap);

/**
 * insitu_tcp_build_term() - H2CTermReq (host) or C2HTermReq (controller)
 * @c:       connection (its role picks the PDU type)
 * @fes:     Fatal Error Status
 * @fei:     Fatal Error Information
 * @hdr:     the offending PDU header as received (may be NULL when @hdr_len is 0)
 * @hdr_len: bytes of it to echo; at most 128 are sent
 */
ssize_t insitu_tcp_build_term(const struct insitu_tcp_conn *c, void *buf, size_t cap, uint16_t fes,
			      uint32_t fei, const void *hdr, size_t hdr_len);

/**
 * insitu_tcp_build_term_for() - the TermReq answering a parse error @e on bytes @rx
 * Return: the PDU length, 0 when @e says no TermReq is sent, or a negative errno.
 */
ssize_t insitu_tcp_build_term_for(const struct insitu_tcp_conn *c, void *buf, size_t cap,
				  const struct insitu_tcp_error *e, const void *rx, size_t rx_len);

/**
 * insitu_tcp_build_cmd() - CapsuleCmd carrying @sqe and @icd_len bytes of in-capsule data
 * (the SQE's SGL1 is the caller's; insitu_sqe_set_sgl_incapsule() describes @icd)
 */
ssize_t insitu_tcp_build_cmd(const struct insitu_tcp_conn *c, void *buf, size_t cap,
			     const struct insitu_nvme_sqe *sqe, const void *icd, uint32_t icd_len);

/**
 * insitu_tcp_build_cmd_hdr() - CapsuleCmd header, HDGST and PAD only; the caller sends
 * @icd_len data bytes and then the DDGST (when @c->ddgst) itself
 * Return: header bytes written (the data starts at this offset of the PDU).
 */
ssize_t insitu_tcp_build_cmd_hdr(const struct insitu_tcp_conn *c, void *buf, size_t cap,
				 const struct insitu_nvme_sqe *sqe, uint32_t icd_len);

/** insitu_tcp_build_rsp() - CapsuleResp carrying @cqe */
ssize_t insitu_tcp_build_rsp(const struct insitu_tcp_conn *c, void *buf, size_t cap,
			     const struct insitu_nvme_cqe *cqe);

/** insitu_tcp_build_h2c_data() - H2CData with its data copied in */
ssize_t insitu_tcp_build_h2c_data(const struct insitu_tcp_conn *c, void *buf, size_t cap,
				  const struct insitu_tcp_data_desc *d);

/** insitu_tcp_build_c2h_data() - C2HData with its data copied in */
ssize_t insitu_tcp_build_c2h_data(const struct insitu_tcp_conn *c, void *buf, size_t cap,
				  const struct insitu_tcp_data_desc *d);

/** insitu_tcp_build_h2c_data_hdr() - H2CData header, HDGST and PAD only */
ssize_t insitu_tcp_build_h2c_data_hdr(const struct insitu_tcp_conn *c, void *buf, size_t cap,
				      const struct insitu_tcp_data_desc *d);

/** insitu_tcp_build_c2h_data_hdr() - C2HData header, HDGST and PAD only */
ssize_t insitu_tcp_build_c2h_data_hdr(const struct insitu_tcp_conn *c, void *buf, size_t cap,
				      const struct insitu_tcp_data_desc *d);

/** insitu_tcp_build_r2t() - R2T for @r2tl bytes at @r2to of command @cccid */
ssize_t insitu_tcp_build_r2t(const struct insitu_tcp_conn *c, void *buf, size_t cap,
			     uint16_t cccid, uint16_t ttag, uint32_t r2to, uint32_t r2tl);

/**
 * insitu_tcp_data_digest() - DDGST value of @len data bytes; store it after the data with
 * insitu_digest_store()
 */
uint32_t insitu_tcp_data_digest(const void *data, size_t len);

/* ---- data transfer sequencing -------------------------------------------------------- */

/**
 * struct insitu_tcp_xfer - tracks one data transfer window across PDUs
 * @next:  offset the next PDU must start at
 * @end:   end of the window (exclusive)
 * @exact: LAST_PDU must come exactly at @end (H2CData per R2T); otherwise it may come
 *         earlier (C2HData of a command whose data is shorter than its buffer)
 * @done:  LAST_PDU was seen
 */
struct insitu_tcp_xfer {
	uint64_t next;
	uint64_t end;
	bool     exact;
	bool     done;
};

/**
 * insitu_tcp_xfer_init() - window [@offset, @offset + @length)
 * @exact: see struct insitu_tcp_xfer
 */
void insitu_tcp_xfer_init(struct insitu_tcp_xfer *x, uint32_t offset, uint32_t length, bool exact);

/**
 * insitu_tcp_xfer_accept() - account one data PDU of the window
 * @x:     the window
 * @pdu:   a validated H2CData or C2HData PDU of this transfer
 * @err:   on failure: FES PDU Sequence Error or Data Transfer Out of Range
 * Return: 0, or -EPROTO.
 */
int insitu_tcp_xfer_accept(struct insitu_tcp_xfer *x, const struct insitu_tcp_pdu *pdu,
			   struct insitu_tcp_error *err);

/* ---- field access -------------------------------------------------------------------- */

/** insitu_tcp_pdu_cccid() - CCCID of a data or R2T PDU, CID of a capsule's SQE or CQE */
uint16_t insitu_tcp_pdu_cccid(const struct insitu_tcp_pdu *pdu);

#endif
