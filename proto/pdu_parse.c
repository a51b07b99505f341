/* The NVMe/TCP decoder. Bytes from the network are untrusted: this file reads only
 * buf[0, len), allocates nothing, trusts no length it has not checked, and turns every
 * violation into the TermReq FES/FEI the spec requires. The rules, in order, are the
 * tables of DESIGN.md ("Validation rules"). */
#include "insitu/proto/pdu.h"

#include <endian.h>
#include <errno.h>
#include <nvme/types.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "insitu/proto/digest.h"
#include "pdu_internal.h"

/* Byte offsets of header fields, for FEI. */
enum {
	OFF_TYPE = 0, OFF_FLAGS = 1, OFF_HLEN = 2, OFF_PDO = 3, OFF_PLEN = 4,
	OFF_PFV = 8, OFF_PDA = 10, OFF_DGST = 11, OFF_MAXH2CDATA = 12,
	OFF_DATAO = 12, OFF_DATAL = 16,
};

static int need_more(struct insitu_tcp_error *err, size_t need)
{
	if (err) {
		memset(err, 0, sizeof(*err));
		err->code = -EAGAIN;
		err->need = need;
	}
	return -EAGAIN;
}

static uint32_t min_u32(uint64_t a, uint64_t b)
{
	uint64_t m = a < b ? a : b;

	return m > UINT32_MAX ? UINT32_MAX : (uint32_t)m;
}

static uint32_t load_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static uint16_t load_le16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static int is_term(uint8_t type)
{
	return type == INSITU_TCP_H2C_TERM || type == INSITU_TCP_C2H_TERM;
}

static int is_ic(uint8_t type)
{
	return type == INSITU_TCP_ICREQ || type == INSITU_TCP_ICRESP;
}

static int is_data(uint8_t type)
{
	return type == INSITU_TCP_H2C_DATA || type == INSITU_TCP_C2H_DATA;
}

/* Stage 1: the 8-byte common header, judged against the connection state. */
static int check_common(const struct insitu_tcp_conn *c, const uint8_t *p, size_t len,
			struct insitu_tcp_error *err)
{
	uint8_t type = p[OFF_TYPE], flags = p[OFF_FLAGS], hlen = p[OFF_HLEN];
	uint8_t fixed = tcp_type_hlen(type);
	const char *name = insitu_tcp_pdu_type_name(type);
	uint32_t echo = min_u32(len, fixed ? fixed : sizeof(struct insitu_tcp_ch));

	if (!fixed)
		return tcp_fail_fatal(err, INSITU_TCP_FES_INVALID_HEADER_FIELD, OFF_TYPE, echo,
				      "PDU type %#x is not defined", type);
	if (tcp_type_is_h2c(type) != (c->role == INSITU_TCP_CONTROLLER))
		return tcp_fail_fatal(err, INSITU_TCP_FES_INVALID_HEADER_FIELD, OFF_TYPE, echo,
				      "%s travels the other way: a %s does not receive it", name,
				      c->role == INSITU_TCP_CONTROLLER ? "controller" : "host");
	if (c->state == INSITU_TCP_AWAIT_IC && !is_ic(type) && !is_term(type))
		return tcp_fail_fatal(err, INSITU_TCP_FES_PDU_SEQUENCE_ERROR, 0, echo,
				      "%s before the ICReq/ICResp exchange", name);
	if (c->state == INSITU_TCP_ESTABLISHED && is_ic(type))
		return tcp_fail_fatal(err, INSITU_TCP_FES_PDU_SEQUENCE_ERROR, 0, echo,
				      "%s after the connection was established", name);

	if (!is_ic(type) && !is_term(type) && !!(flags & INSITU_TCP_F_HDGST) != c->hdgst)
		return tcp_fail_fatal(err, INSITU_TCP_FES_INVALID_HEADER_FIELD, OFF_FLAGS, echo,
				      "%s: HDGSTF %s but header digests are %s", name,
				      flags & INSITU_TCP_F_HDGST ? "set" : "clear",
				      c->hdgst ? "enabled" : "disabled");
	if (is_data(type) && !!(flags & INSITU_TCP_F_DDGST) != c->ddgst)
		return tcp_fail_fatal(err, INSITU_TCP_FES_INVALID_HEADER_FIELD, OFF_FLAGS, echo,
				      "%s: DDGSTF %s but data digests are %s", name,
				      flags & INSITU_TCP_F_DDGST ? "set" : "clear",
				      c->ddgst ? "enabled" : "disabled");
	if (type == INSITU_TCP_C2H_DATA && (flags & INSITU_TCP_F_SUCCESS) &&
	    !(flags & INSITU_TCP_F_LAST))
		return tcp_fail_fatal(err, INSITU_TCP_FES_INVALID_HEADER_FIELD, OFF_FLAGS, echo,
				      "C2HData: SUCCESS set without LAST_PDU");
	if (hlen != fixed)
		return tcp_fail_fatal(err, INSITU_TCP_FES_INVALID_HEADER_FIELD, OFF_HLEN, echo,
				      "%s: HLEN %u, the type's header is %u bytes", name, hlen, fixed);
	return 0;
}

static int check_ic(const struct insitu_tcp_conn *c, const uint8_t *p, uint32_t plen,
		    struct insitu_tcp_error *err)
{
	uint8_t type = p[OFF_TYPE];
	const char *name = insitu_tcp_pdu_type_name(type);
	uint32_t echo = sizeof(struct insitu_tcp_icreq);
	uint16_t pfv = load_le16(p + OFF_PFV);
	uint8_t pda = p[OFF_PDA];

	if (plen != sizeof(struct insitu_tcp_icreq))
		return tcp_fail_fatal(err, INSITU_TCP_FES_INVALID_HEADER_FIELD, OFF_PLEN, echo,
				      "%s: PLEN %u, must be 128", name, plen);
	if (pfv != 0)
		return tcp_fail_fatal(err, INSITU_TCP_FES_UNSUPPORTED_PARAM, OFF_PFV, echo,
				      "%s: PDU format version %u is not supported", name, pfv);
	if (pda > INSITU_TCP_PDA_MAX)
		return tcp_fail_fatal(err, INSITU_TCP_FES_INVALID_HEADER_FIELD, OFF_PDA, echo,
				      "%s: %s %u above 31", name,
				      type == INSITU_TCP_ICREQ ? "HPDA" : "CPDA", pda);
	if (type == INSITU_TCP_ICRESP) {
		uint8_t extra = p[OFF_DGST] & (INSITU_TCP_DGST_HDR | INSITU_TCP_DGST_DATA) &
				~c->local.digest;
		uint32_t maxh2c = load_le32(p + OFF_MAXH2CDATA);

		if (extra)
			return tcp_fail_fatal(err, INSITU_TCP_FES_INVALID_HEADER_FIELD, OFF_DGST, echo,
					      "ICResp enables %s digest the host did not request",
					      extra & INSITU_TCP_DGST_HDR ? "a header" : "a data");
		if (maxh2c < INSITU_TCP_MIN_MAXH2CDATA || maxh2c % 4)
			return tcp_fail_fatal(err, INSITU_TCP_FES_INVALID_HEADER_FIELD, OFF_MAXH2CDATA,
					      echo, "ICResp: MAXH2CDATA %u is not a dword multiple >= 4096",
					      maxh2c);
	}
	return 0;
}

static int check_cmd(const struct insitu_tcp_conn *c, const uint8_t *p, uint32_t plen,
		     uint32_t hdr_len, struct insitu_tcp_pdu *pdu, struct insitu_tcp_error *err)
{
	uint32_t echo = sizeof(struct insitu_tcp_cmd);
	uint8_t pdo = p[OFF_PDO];
	uint32_t ddgst = c->ddgst ? TCP_DIGEST : 0;

	if (plen < hdr_len)
		return tcp_fail_fatal(err, INSITU_TCP_FES_INVALID_HEADER_FIELD, OFF_PLEN, echo,
				      "CapsuleCmd: PLEN %u shorter than its %u-byte header", plen, hdr_len);
	if (plen == hdr_len)
		return 0;	/* no in-capsule data: PDO and DDGSTF are reserved */

	if (!!(p[OFF_FLAGS] & INSITU_TCP_F_DDGST) != c->ddgst)
		return tcp_fail_fatal(err, INSITU_TCP_FES_INVALID_HEADER_FIELD, OFF_FLAGS, echo,
				      "CapsuleCmd with data: DDGSTF %s but data digests are %s",
				      p[OFF_FLAGS] & INSITU_TCP_F_DDGST ? "set" : "clear",
				      c->ddgst ? "enabled" : "disabled");
	uint64_t want_pdo = tcp_align_up(hdr_len, c->cpda);
	if (pdo != want_pdo)
		return tcp_fail_fatal(err, INSITU_TCP_FES_INVALID_HEADER_FIELD, OFF_PDO, echo,
				      "CapsuleCmd: PDO %u, data must start at %u (CPDA %u)", pdo,
				      (unsigned)want_pdo, c->cpda);
	if ((uint64_t)plen <= (uint64_t)pdo + ddgst)
		return tcp_fail_fatal(err, INSITU_TCP_FES_INVALID_HEADER_FIELD, OFF_PLEN, echo,
				      "CapsuleCmd: PLEN %u leaves no room for data after PDO %u", plen, pdo);
	uint32_t icd = plen - pdo - ddgst;
	if (icd > c->local.max_icd)
		return tcp_fail_fatal(err, INSITU_TCP_FES_INVALID_HEADER_FIELD, OFF_PLEN, echo,
				      "CapsuleCmd: %u bytes of in-capsule data, the queue takes %u",
				      icd, c->local.max_icd);
	pdu->data_off = pdo;
	pdu->data_len = icd;
	pdu->ddgst = c->ddgst;
	return 0;
}

static int check_data(const struct insitu_tcp_conn *c, const uint8_t *p, uint32_t plen,
		      uint32_t hdr_len, struct insitu_tcp_pdu *pdu, struct insitu_tcp_error *err)
{
	uint8_t type = p[OFF_TYPE], pdo = p[OFF_PDO];
	const char *name = insitu_tcp_pdu_type_name(type);
	uint32_t echo = sizeof(struct insitu_tcp_data);
	uint8_t pda = type == INSITU_TCP_H2C_DATA ? c->cpda : c->hpda;
	uint32_t datao = load_le32(p + OFF_DATAO), datal = load_le32(p + OFF_DATAL);
	uint32_t ddgst = c->ddgst ? TCP_DIGEST : 0;
	bool dword = !c->local.allow_unaligned_data;

	uint64_t want_pdo = tcp_align_up(hdr_len, pda);
	if (pdo != want_pdo)
		return tcp_fail_fatal(err, INSITU_TCP_FES_INVALID_HEADER_FIELD, OFF_PDO, echo,
				      "%s: PDO %u, data must start at %u (PDA %u)", name, pdo,
				      (unsigned)want_pdo, pda);
	if ((uint64_t)plen != (uint64_t)pdo + datal + ddgst)
		return tcp_fail_fatal(err, INSITU_TCP_FES_INVALID_HEADER_FIELD, OFF_PLEN, echo,
				      "%s: PLEN %u, PDO %u + DATAL %u + digest %u disagree", name, plen,
				      pdo, datal, ddgst);
	if (dword && datao % 4)
		return tcp_fail_fatal(err, INSITU_TCP_FES_INVALID_HEADER_FIELD, OFF_DATAO, echo,
				      "%s: DATAO %u is not a dword multiple", name, datao);
	if (datal == 0 || (dword && datal % 4))
		return tcp_fail_fatal(err, INSITU_TCP_FES_INVALID_HEADER_FIELD, OFF_DATAL, echo,
				      "%s: DATAL %u is %s", name, datal,
				      datal ? "not a dword multiple" : "zero");
	if ((uint64_t)datao + datal > (uint64_t)UINT32_MAX + 1)
		return tcp_fail_fatal(err, INSITU_TCP_FES_DATA_OUT_OF_RANGE, 0, echo,
				      "%s: DATAO %u + DATAL %u passes 4 GiB", name, datao, datal);
	if (type == INSITU_TCP_H2C_DATA && datal > c->maxh2cdata)
		return tcp_fail_fatal(err, INSITU_TCP_FES_DATA_LIMIT_EXCEEDED, 0, echo,
				      "H2CData: DATAL %u above MAXH2CDATA %u", datal, c->maxh2cdata);
	if (type == INSITU_TCP_C2H_DATA && datal > c->local.max_c2h)
		return tcp_fail_fatal(err, INSITU_TCP_FES_DATA_OUT_OF_RANGE, 0, echo,
				      "C2HData: DATAL %u above any command buffer (%u)", datal,
				      c->local.max_c2h);
	pdu->data_off = pdo;
	pdu->data_len = datal;
	pdu->ddgst = c->ddgst;
	return 0;
}

static int check_r2t(const struct insitu_tcp_conn *c, const uint8_t *p, uint32_t plen,
		     uint32_t hdr_len, struct insitu_tcp_error *err)
{
	uint32_t echo = sizeof(struct insitu_tcp_r2t);
	uint32_t r2to = load_le32(p + OFF_DATAO), r2tl = load_le32(p + OFF_DATAL);
	bool dword = !c->local.allow_unaligned_data;

	if (plen != hdr_len)
		return tcp_fail_fatal(err, INSITU_TCP_FES_INVALID_HEADER_FIELD, OFF_PLEN, echo,
				      "R2T: PLEN %u, must be %u", plen, hdr_len);
	if (dword && r2to % 4)
		return tcp_fail_fatal(err, INSITU_TCP_FES_INVALID_HEADER_FIELD, OFF_DATAO, echo,
				      "R2T: R2TO %u is not a dword multiple", r2to);
	if (r2tl == 0 || (dword && r2tl % 4) || (uint64_t)r2to + r2tl > (uint64_t)UINT32_MAX + 1)
		return tcp_fail_fatal(err, INSITU_TCP_FES_INVALID_HEADER_FIELD, OFF_DATAL, echo,
				      "R2T: R2TL %u at R2TO %u is invalid", r2tl, r2to);
	return 0;
}

/* Stage 2: the whole header is present; verify its digest, then every field. */
static int check_header(const struct insitu_tcp_conn *c, const uint8_t *p, uint32_t hdr_len,
			bool hdgst, struct insitu_tcp_pdu *pdu, struct insitu_tcp_error *err)
{
	uint8_t type = p[OFF_TYPE];
	uint32_t hlen = p[OFF_HLEN];
	uint32_t plen = load_le32(p + OFF_PLEN);

	if (hdgst) {
		uint32_t rx = insitu_digest_load(p + hlen);
		uint32_t want = insitu_crc32c(p, hlen);

		if (rx != want)
			return tcp_fail_fatal(err, INSITU_TCP_FES_HEADER_DIGEST_ERROR, rx, hlen,
					      "%s: header digest %08x, computed %08x",
					      insitu_tcp_pdu_type_name(type), rx, want);
	}

	switch (type) {
	case INSITU_TCP_ICREQ:
	case INSITU_TCP_ICRESP:
		return check_ic(c, p, plen, err);
	case INSITU_TCP_H2C_TERM:
	case INSITU_TCP_C2H_TERM:
		if (plen < sizeof(struct insitu_tcp_term) || plen > INSITU_TCP_TERM_PLEN_MAX) {
			int rc = tcp_fail_fatal(err, INSITU_TCP_FES_INVALID_HEADER_FIELD, OFF_PLEN,
						hlen, "%s: PLEN %u outside 24..152",
						insitu_tcp_pdu_type_name(type), plen);
			if (err)
				err->send_term = false;	/* never answer a TermReq */
			return rc;
		}
		pdu->data_off = sizeof(struct insitu_tcp_term);
		pdu->data_len = plen - sizeof(struct insitu_tcp_term);
		return 0;
	case INSITU_TCP_CMD:
		return check_cmd(c, p, plen, hdr_len, pdu, err);
	case INSITU_TCP_RSP:
		if (plen != hdr_len)
			return tcp_fail_fatal(err, INSITU_TCP_FES_INVALID_HEADER_FIELD, OFF_PLEN, hlen,
					      "CapsuleResp: PLEN %u, must be %u", plen, hdr_len);
		return 0;
	case INSITU_TCP_H2C_DATA:
	case INSITU_TCP_C2H_DATA:
		return check_data(c, p, plen, hdr_len, pdu, err);
	case INSITU_TCP_R2T:
		return check_r2t(c, p, plen, hdr_len, err);
	default:
		/* check_common() let only defined types through */
		return tcp_fail_fatal(err, INSITU_TCP_FES_INVALID_HEADER_FIELD, OFF_TYPE, hlen,
				      "PDU type %#x is not defined", type);
	}
}

int insitu_tcp_pdu_parse_header(const struct insitu_tcp_conn *c, const void *buf, size_t len,
				struct insitu_tcp_pdu *pdu, struct insitu_tcp_error *err)
{
	const uint8_t *p = buf;
	int rc;

	if (!c || !pdu || (!buf && len))
		return tcp_fail_inval(err, "PDU parse: NULL argument");
	if ((c->role != INSITU_TCP_CONTROLLER && c->role != INSITU_TCP_HOST) ||
	    (c->state != INSITU_TCP_AWAIT_IC && c->state != INSITU_TCP_ESTABLISHED))
		return tcp_fail_inval(err, "PDU parse: connection not initialised");

	if (len < sizeof(struct insitu_tcp_ch))
		return need_more(err, sizeof(struct insitu_tcp_ch) - len);
	rc = check_common(c, p, len, err);
	if (rc)
		return rc;

	uint8_t type = p[OFF_TYPE];
	bool hdgst = c->hdgst && !is_ic(type) && !is_term(type);
	uint32_t hlen = p[OFF_HLEN];
	uint32_t hdr_len = hlen + (hdgst ? TCP_DIGEST : 0);

	if (len < hdr_len)
		return need_more(err, hdr_len - len);

	memset(pdu, 0, sizeof(*pdu));
	rc = check_header(c, p, hdr_len, hdgst, pdu, err);
	if (rc)
		return rc;

	memcpy(pdu->hdr.raw, p, hlen);
	pdu->type = type;
	pdu->flags = p[OFF_FLAGS];
	pdu->hlen = hlen;
	pdu->plen = load_le32(p + OFF_PLEN);
	pdu->hdgst = hdgst;
	if (err)
		memset(err, 0, sizeof(*err));
	return 0;
}

int insitu_tcp_pdu_parse(const struct insitu_tcp_conn *c, const void *buf, size_t len,
			 struct insitu_tcp_pdu *pdu, struct insitu_tcp_error *err)
{
	int rc = insitu_tcp_pdu_parse_header(c, buf, len, pdu, err);

	if (rc)
		return rc;
	if (len < pdu->plen)
		return need_more(err, pdu->plen - len);

	const uint8_t *p = buf;

	if (pdu->data_len)
		pdu->data = p + pdu->data_off;
	if (!pdu->ddgst)
		return 0;

	pdu->ddgst_rx = insitu_digest_load(p + pdu->data_off + pdu->data_len);
	return insitu_tcp_pdu_verify_ddgst(pdu, insitu_crc32c(pdu->data, pdu->data_len),
					   p + pdu->data_off + pdu->data_len, err);
}

int insitu_tcp_pdu_verify_ddgst(const struct insitu_tcp_pdu *pdu, uint32_t computed,
				const void *received, struct insitu_tcp_error *err)
{
	if (!pdu || !received)
		return tcp_fail_inval(err, "data digest: NULL argument");

	uint32_t rx = insitu_digest_load(received);

	if (rx == computed)
		return 0;
	if (err) {
		memset(err, 0, sizeof(*err));
		err->code = -EBADMSG;
		/* non-fatal [S 3.5]: the command fails, the connection lives on */
		err->status = insitu_status(NVME_SCT_GENERIC, NVME_SC_TRAN_TPORT_ERROR, false);
		snprintf(err->msg, sizeof(err->msg), "%s (CID %u): data digest %08x, computed %08x",
			 insitu_tcp_pdu_type_name(pdu->type), insitu_tcp_pdu_cccid(pdu), rx, computed);
	}
	return -EBADMSG;
}
