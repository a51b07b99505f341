/* The NVMe/TCP encoder: one function lays out every PDU (header, HDGST, PAD, data, DDGST)
 * according to the negotiated state; the public builders fill the PDU-specific header and
 * refuse values the spec forbids, so what we send passes our own parser and the peer's. */
#include "insitu/proto/pdu.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "insitu/proto/digest.h"
#include "pdu_internal.h"

/*
 * Writes a PDU whose header (hlen bytes, CH type/flags already set) is at @hdr.
 * @data_len bytes of data follow (copied from @data unless @hdr_only).
 */
static ssize_t emit(const struct insitu_tcp_conn *c, void *buf, size_t cap,
		    const union insitu_tcp_hdr *hdr, uint32_t hlen, const void *data,
		    uint32_t data_len, bool hdr_only)
{
	uint8_t type = hdr->ch.type;
	bool plain = type == INSITU_TCP_ICREQ || type == INSITU_TCP_ICRESP ||
		     type == INSITU_TCP_H2C_TERM || type == INSITU_TCP_C2H_TERM;
	bool hdgst = !plain && c && c->hdgst;
	bool ddgst = !plain && c && c->ddgst && data_len > 0;
	uint32_t hdr_len = hlen + (hdgst ? TCP_DIGEST : 0);
	uint64_t pdo = 0, plen = hdr_len;

	if (data_len > 0) {
		if (plain)
			pdo = hlen;	/* TermReq: the echoed header follows at once */
		else
			pdo = tcp_align_up(hdr_len, tcp_type_is_h2c(type) ? c->cpda : c->hpda);
		plen = pdo + data_len + (ddgst ? TCP_DIGEST : 0);
	}
	if (plen > UINT32_MAX || pdo > UINT8_MAX)
		return -EINVAL;
	if ((hdr_only ? (pdo ? pdo : hdr_len) : plen) > cap)
		return -ENOSPC;
	if (data_len > 0 && !hdr_only && !data)
		return -EINVAL;

	uint8_t *p = buf;
	struct insitu_tcp_ch ch = hdr->ch;

	ch.hlen = (uint8_t)hlen;
	ch.pdo = plain ? 0 : (uint8_t)pdo;
	ch.plen = htole32((uint32_t)plen);
	if (hdgst)
		ch.flags |= INSITU_TCP_F_HDGST;
	if (ddgst)
		ch.flags |= INSITU_TCP_F_DDGST;
	memcpy(p, hdr->raw, hlen);
	memcpy(p, &ch, sizeof(ch));
	if (hdgst)
		insitu_digest_store(p + hlen, insitu_crc32c(p, hlen));
	if (data_len == 0)
		return hdr_len;

	memset(p + hdr_len, 0, pdo - hdr_len);	/* PAD */
	if (hdr_only)
		return (ssize_t)pdo;
	memcpy(p + pdo, data, data_len);
	if (ddgst)
		insitu_digest_store(p + pdo + data_len, insitu_crc32c(p + pdo, data_len));
	return (ssize_t)plen;
}

ssize_t insitu_tcp_build_icreq(const struct insitu_tcp_conn *c, void *buf, size_t cap)
{
	union insitu_tcp_hdr h;

	if (!c || !buf)
		return -EINVAL;
	memset(&h, 0, sizeof(h));
	h.ch.type = INSITU_TCP_ICREQ;
	h.icreq.pfv = htole16(0);
	h.icreq.hpda = c->local.pda;
	h.icreq.dgst = c->local.digest;
	h.icreq.maxr2t = htole32(c->local.maxr2t);
	return emit(c, buf, cap, &h, sizeof(h.icreq), NULL, 0, false);
}

ssize_t insitu_tcp_build_icresp(const struct insitu_tcp_icresp *icresp, void *buf, size_t cap)
{
	union insitu_tcp_hdr h;

	if (!icresp || !buf)
		return -EINVAL;
	if (icresp->cpda > INSITU_TCP_PDA_MAX ||
	    le32toh(icresp->maxh2cdata) < INSITU_TCP_MIN_MAXH2CDATA || le32toh(icresp->maxh2cdata) % 4)
		return -EINVAL;
	memset(&h, 0, sizeof(h));
	h.icresp = *icresp;
	h.ch.type = INSITU_TCP_ICRESP;
	h.ch.flags = 0;
	memset(h.icresp.rsvd16, 0, sizeof(h.icresp.rsvd16));
	return emit(NULL, buf, cap, &h, sizeof(h.icresp), NULL, 0, false);
}

ssize_t insitu_tcp_build_term(const struct insitu_tcp_conn *c, void *buf, size_t cap, uint16_t fes,
			      uint32_t fei, const void *hdr, size_t hdr_len)
{
	union insitu_tcp_hdr h;

	if (!c || !buf || (!hdr && hdr_len))
		return -EINVAL;
	if (hdr_len > INSITU_TCP_TERM_DATA_MAX)
		hdr_len = INSITU_TCP_TERM_DATA_MAX;
	memset(&h, 0, sizeof(h));
	h.ch.type = c->role == INSITU_TCP_HOST ? INSITU_TCP_H2C_TERM : INSITU_TCP_C2H_TERM;
	h.term.fes = htole16(fes);
	h.term.fei = htole32(fei);
	return emit(c, buf, cap, &h, sizeof(h.term), hdr, (uint32_t)hdr_len, false);
}

ssize_t insitu_tcp_build_term_for(const struct insitu_tcp_conn *c, void *buf, size_t cap,
				  const struct insitu_tcp_error *e, const void *rx, size_t rx_len)
{
	if (!e || e->code != -EPROTO)
		return -EINVAL;
	if (!e->send_term)
		return 0;
	size_t echo = e->echo_len < rx_len ? e->echo_len : rx_len;
	return insitu_tcp_build_term(c, buf, cap, e->fes, e->fei, rx, echo);
}

static ssize_t build_cmd(const struct insitu_tcp_conn *c, void *buf, size_t cap,
			 const struct insitu_nvme_sqe *sqe, const void *icd, uint32_t icd_len,
			 bool hdr_only)
{
	union insitu_tcp_hdr h;

	if (!c || !buf || !sqe)
		return -EINVAL;
	memset(&h, 0, sizeof(h));
	h.ch.type = INSITU_TCP_CMD;
	h.cmd.sqe = *sqe;
	return emit(c, buf, cap, &h, sizeof(h.cmd), icd, icd_len, hdr_only);
}

ssize_t insitu_tcp_build_cmd(const struct insitu_tcp_conn *c, void *buf, size_t cap,
			     const struct insitu_nvme_sqe *sqe, const void *icd, uint32_t icd_len)
{
	return build_cmd(c, buf, cap, sqe, icd, icd_len, false);
}

ssize_t insitu_tcp_build_cmd_hdr(const struct insitu_tcp_conn *c, void *buf, size_t cap,
				 const struct insitu_nvme_sqe *sqe, uint32_t icd_len)
{
	return build_cmd(c, buf, cap, sqe, NULL, icd_len, true);
}

ssize_t insitu_tcp_build_rsp(const struct insitu_tcp_conn *c, void *buf, size_t cap,
			     const struct insitu_nvme_cqe *cqe)
{
	union insitu_tcp_hdr h;

	if (!c || !buf || !cqe)
		return -EINVAL;
	memset(&h, 0, sizeof(h));
	h.ch.type = INSITU_TCP_RSP;
	h.rsp.cqe = *cqe;
	return emit(c, buf, cap, &h, sizeof(h.rsp), NULL, 0, false);
}

static ssize_t build_data(const struct insitu_tcp_conn *c, void *buf, size_t cap, uint8_t type,
			  const struct insitu_tcp_data_desc *d, bool hdr_only)
{
	union insitu_tcp_hdr h;
	bool dword = !(c && c->local.allow_unaligned_data);

	if (!c || !buf || !d || d->datal == 0)
		return -EINVAL;
	if (dword && (d->datao % 4 || d->datal % 4))
		return -EINVAL;
	if ((uint64_t)d->datao + d->datal > (uint64_t)UINT32_MAX + 1)
		return -EINVAL;
	if (d->success && (type != INSITU_TCP_C2H_DATA || !d->last))
		return -EINVAL;
	memset(&h, 0, sizeof(h));
	h.ch.type = type;
	h.ch.flags = (d->last ? INSITU_TCP_F_LAST : 0) | (d->success ? INSITU_TCP_F_SUCCESS : 0);
	h.data.cccid = htole16(d->cccid);
	h.data.ttag = htole16(type == INSITU_TCP_H2C_DATA ? d->ttag : 0);
	h.data.datao = htole32(d->datao);
	h.data.datal = htole32(d->datal);
	return emit(c, buf, cap, &h, sizeof(h.data), d->data, d->datal, hdr_only);
}

ssize_t insitu_tcp_build_h2c_data(const struct insitu_tcp_conn *c, void *buf, size_t cap,
				  const struct insitu_tcp_data_desc *d)
{
	return build_data(c, buf, cap, INSITU_TCP_H2C_DATA, d, false);
}

ssize_t insitu_tcp_build_c2h_data(const struct insitu_tcp_conn *c, void *buf, size_t cap,
				  const struct insitu_tcp_data_desc *d)
{
	return build_data(c, buf, cap, INSITU_TCP_C2H_DATA, d, false);
}

ssize_t insitu_tcp_build_h2c_data_hdr(const struct insitu_tcp_conn *c, void *buf, size_t cap,
				      const struct insitu_tcp_data_desc *d)
{
	return build_data(c, buf, cap, INSITU_TCP_H2C_DATA, d, true);
}

ssize_t insitu_tcp_build_c2h_data_hdr(const struct insitu_tcp_conn *c, void *buf, size_t cap,
				      const struct insitu_tcp_data_desc *d)
{
	return build_data(c, buf, cap, INSITU_TCP_C2H_DATA, d, true);
}

ssize_t insitu_tcp_build_r2t(const struct insitu_tcp_conn *c, void *buf, size_t cap,
			     uint16_t cccid, uint16_t ttag, uint32_t r2to, uint32_t r2tl)
{
	union insitu_tcp_hdr h;

	if (!c || !buf || r2tl == 0 || (uint64_t)r2to + r2tl > (uint64_t)UINT32_MAX + 1)
		return -EINVAL;
	if (!c->local.allow_unaligned_data && (r2to % 4 || r2tl % 4))
		return -EINVAL;
	memset(&h, 0, sizeof(h));
	h.ch.type = INSITU_TCP_R2T;
	h.r2t.cccid = htole16(cccid);
	h.r2t.ttag = htole16(ttag);
	h.r2t.r2to = htole32(r2to);
	h.r2t.r2tl = htole32(r2tl);
	return emit(c, buf, cap, &h, sizeof(h.r2t), NULL, 0, false);
}

uint32_t insitu_tcp_data_digest(const void *data, size_t len)
{
	return insitu_crc32c(data, len);
}
