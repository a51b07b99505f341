/* Test fixtures for the NVMe/TCP codec: connections from a configuration byte, sample PDUs,
 * semantic comparison of parsed PDUs, and rebuilding a PDU from its parsed view. */
#include "pdu_fixture.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "insitu/proto/sqe.h"

uint8_t fx_pda(uint8_t cfg)
{
	static const uint8_t pdas[] = { 0, 3, 15, 31 };

	return pdas[(cfg >> FX_PDA_SHIFT) & FX_PDA_MASK];
}

static void fill(struct insitu_tcp_conn *c, enum insitu_tcp_role role, uint8_t cfg)
{
	bool small = cfg & FX_SMALL;

	memset(c, 0, sizeof(*c));
	c->role = role;
	c->state = (cfg & FX_ESTABLISHED) ? INSITU_TCP_ESTABLISHED : INSITU_TCP_AWAIT_IC;
	c->hdgst = (cfg & FX_HDGST) && (cfg & FX_ESTABLISHED);
	c->ddgst = (cfg & FX_DDGST) && (cfg & FX_ESTABLISHED);
	c->hpda = c->cpda = fx_pda(cfg);
	c->maxr2t = 3;
	c->maxh2cdata = small ? FX_SMALL_MAXDATA : FX_MAXH2CDATA;
	c->local.pda = fx_pda(cfg);
	c->local.maxr2t = 3;
	c->local.maxh2cdata = c->maxh2cdata;
	c->local.max_icd = small ? FX_SMALL_MAX_ICD : FX_MAX_ICD;
	c->local.max_c2h = small ? FX_SMALL_MAXDATA : FX_MAX_C2H;
	c->local.allow_unaligned_data = cfg & FX_UNALIGNED;
	/* A receiving host accepts any digest; a sending host asks for the configured ones. */
	c->local.digest = INSITU_TCP_DGST_HDR | INSITU_TCP_DGST_DATA;
}

void fx_conn(struct insitu_tcp_conn *c, uint8_t cfg)
{
	fill(c, (cfg & FX_HOST) ? INSITU_TCP_HOST : INSITU_TCP_CONTROLLER, cfg);
}

void fx_peer(struct insitu_tcp_conn *c, uint8_t cfg)
{
	fill(c, (cfg & FX_HOST) ? INSITU_TCP_CONTROLLER : INSITU_TCP_HOST, cfg);
	c->local.digest = ((cfg & FX_HDGST) ? INSITU_TCP_DGST_HDR : 0) |
			  ((cfg & FX_DDGST) ? INSITU_TCP_DGST_DATA : 0);
}

static uint8_t pattern[8192];

static const uint8_t *sample_data(void)
{
	if (pattern[1] == 0)
		for (size_t i = 0; i < sizeof(pattern); i++)
			pattern[i] = (uint8_t)(i * 7 + 3);
	return pattern;
}

ssize_t fx_build(const struct insitu_tcp_conn *s, uint8_t type, unsigned variant, uint8_t *buf,
		 size_t cap)
{
	const uint8_t *data = sample_data();
	bool small = s->local.max_icd == FX_SMALL_MAX_ICD || s->maxh2cdata == FX_SMALL_MAXDATA;

	switch (type) {
	case INSITU_TCP_ICREQ:
		return insitu_tcp_build_icreq(s, buf, cap);
	case INSITU_TCP_ICRESP: {
		struct insitu_tcp_icresp r;

		memset(&r, 0, sizeof(r));
		r.cpda = s->cpda;
		r.dgst = s->local.digest;
		r.maxh2cdata = htole32(s->maxh2cdata);
		return insitu_tcp_build_icresp(&r, buf, cap);
	}
	case INSITU_TCP_H2C_TERM:
	case INSITU_TCP_C2H_TERM: {
		static const size_t echo[] = { 0, 24, 128 };
		return insitu_tcp_build_term(s, buf, cap, INSITU_TCP_FES_INVALID_HEADER_FIELD, 2, data,
					     echo[variant % 3]);
	}
	case INSITU_TCP_CMD: {
		struct insitu_nvme_sqe sqe;
		uint32_t icd = variant == 0 ? 0 : variant == 1 ? 64 : (small ? 64 : 4096);

		insitu_sqe_init(&sqe, 0x01 /* Write */, 0x1234, 1);
		sqe.cdw10 = htole32(0x10);
		if (icd)
			insitu_sqe_set_sgl_incapsule(&sqe, icd);
		else
			insitu_sqe_set_sgl_transport(&sqe, 8192);
		return insitu_tcp_build_cmd(s, buf, cap, &sqe, data, icd);
	}
	case INSITU_TCP_RSP: {
		struct insitu_nvme_cqe cqe;

		insitu_cqe_init(&cqe, 0x1234, 1, 7, 0, 0xdeadbeef, variant);
		return insitu_tcp_build_rsp(s, buf, cap, &cqe);
	}
	case INSITU_TCP_H2C_DATA:
	case INSITU_TCP_C2H_DATA: {
		struct insitu_tcp_data_desc d = {
			.cccid = 0x1234, .ttag = 7, .datao = variant ? 4096 : 0,
			.datal = variant == 2 ? (small ? FX_SMALL_MAXDATA : 8192) : 512,
			.data = data, .last = variant != 0,
			.success = type == INSITU_TCP_C2H_DATA && variant == 1,
		};
		return type == INSITU_TCP_H2C_DATA ? insitu_tcp_build_h2c_data(s, buf, cap, &d)
						   : insitu_tcp_build_c2h_data(s, buf, cap, &d);
	}
	case INSITU_TCP_R2T:
		return insitu_tcp_build_r2t(s, buf, cap, 0x1234, 7, variant ? 4096 : 0, 8192);
	default:
		return -EINVAL;
	}
}

unsigned fx_types_from(enum insitu_tcp_role role, bool established, uint8_t types[9])
{
	unsigned n = 0;

	if (role == INSITU_TCP_HOST) {
		if (!established)
			types[n++] = INSITU_TCP_ICREQ;
		types[n++] = INSITU_TCP_H2C_TERM;
		if (established) {
			types[n++] = INSITU_TCP_CMD;
			types[n++] = INSITU_TCP_H2C_DATA;
		}
	} else {
		if (!established)
			types[n++] = INSITU_TCP_ICRESP;
		types[n++] = INSITU_TCP_C2H_TERM;
		if (established) {
			types[n++] = INSITU_TCP_RSP;
			types[n++] = INSITU_TCP_C2H_DATA;
			types[n++] = INSITU_TCP_R2T;
		}
	}
	return n;
}

#define DIFF(cond, ...)                                  \
	do {                                             \
		if (cond) {                              \
			snprintf(why, n, __VA_ARGS__);   \
			return false;                    \
		}                                        \
	} while (0)

bool fx_same(const struct insitu_tcp_pdu *a, const struct insitu_tcp_pdu *b, char *why, size_t n)
{
	const union insitu_tcp_hdr *x = &a->hdr, *y = &b->hdr;

	DIFF(a->type != b->type, "type %u vs %u", a->type, b->type);
	DIFF(a->hlen != b->hlen || a->plen != b->plen, "hlen/plen %u/%u vs %u/%u", a->hlen, a->plen,
	     b->hlen, b->plen);
	DIFF(a->hdgst != b->hdgst || a->ddgst != b->ddgst, "digest presence differs");
	DIFF(a->data_off != b->data_off || a->data_len != b->data_len, "data %u+%u vs %u+%u",
	     a->data_off, a->data_len, b->data_off, b->data_len);
	DIFF(a->data_len && a->data && b->data && memcmp(a->data, b->data, a->data_len),
	     "data bytes differ");

	switch (a->type) {
	case INSITU_TCP_ICREQ:
		DIFF(x->icreq.pfv != y->icreq.pfv || x->icreq.hpda != y->icreq.hpda ||
		     (x->icreq.dgst & 3) != (y->icreq.dgst & 3) || x->icreq.maxr2t != y->icreq.maxr2t,
		     "ICReq fields differ");
		break;
	case INSITU_TCP_ICRESP:
		DIFF(x->icresp.pfv != y->icresp.pfv || x->icresp.cpda != y->icresp.cpda ||
		     (x->icresp.dgst & 3) != (y->icresp.dgst & 3) ||
		     x->icresp.maxh2cdata != y->icresp.maxh2cdata, "ICResp fields differ");
		break;
	case INSITU_TCP_H2C_TERM:
	case INSITU_TCP_C2H_TERM:
		DIFF(x->term.fes != y->term.fes || x->term.fei != y->term.fei, "FES/FEI differ");
		break;
	case INSITU_TCP_CMD:
		DIFF(memcmp(&x->cmd.sqe, &y->cmd.sqe, sizeof(x->cmd.sqe)), "SQE differs");
		break;
	case INSITU_TCP_RSP:
		DIFF(memcmp(&x->rsp.cqe, &y->rsp.cqe, sizeof(x->rsp.cqe)), "CQE differs");
		break;
	case INSITU_TCP_H2C_DATA:
	case INSITU_TCP_C2H_DATA: {
		uint8_t defined = INSITU_TCP_F_LAST |
				  (a->type == INSITU_TCP_C2H_DATA ? INSITU_TCP_F_SUCCESS : 0);
		DIFF((a->flags & defined) != (b->flags & defined), "LAST/SUCCESS differ");
		DIFF(x->data.cccid != y->data.cccid || x->data.datao != y->data.datao ||
		     x->data.datal != y->data.datal, "data header fields differ");
		DIFF(a->type == INSITU_TCP_H2C_DATA && x->data.ttag != y->data.ttag, "TTAG differs");
		break;
	}
	case INSITU_TCP_R2T:
		DIFF(x->r2t.cccid != y->r2t.cccid || x->r2t.ttag != y->r2t.ttag ||
		     x->r2t.r2to != y->r2t.r2to || x->r2t.r2tl != y->r2t.r2tl, "R2T fields differ");
		break;
	default:
		DIFF(1, "unexpected type %u", a->type);
	}
	return true;
}

ssize_t fx_rebuild(const struct insitu_tcp_conn *s, const struct insitu_tcp_pdu *pdu, uint8_t *buf,
		   size_t cap)
{
	const union insitu_tcp_hdr *h = &pdu->hdr;

	switch (pdu->type) {
	case INSITU_TCP_ICREQ: {
		struct insitu_tcp_conn host = *s;

		host.local.pda = h->icreq.hpda;
		host.local.digest = h->icreq.dgst & (INSITU_TCP_DGST_HDR | INSITU_TCP_DGST_DATA);
		host.local.maxr2t = le32toh(h->icreq.maxr2t);
		return insitu_tcp_build_icreq(&host, buf, cap);
	}
	case INSITU_TCP_ICRESP: {
		struct insitu_tcp_icresp r = h->icresp;

		r.dgst &= INSITU_TCP_DGST_HDR | INSITU_TCP_DGST_DATA;
		return insitu_tcp_build_icresp(&r, buf, cap);
	}
	case INSITU_TCP_H2C_TERM:
	case INSITU_TCP_C2H_TERM:
		return insitu_tcp_build_term(s, buf, cap, le16toh(h->term.fes), le32toh(h->term.fei),
					     pdu->data, pdu->data_len);
	case INSITU_TCP_CMD:
		return insitu_tcp_build_cmd(s, buf, cap, &h->cmd.sqe, pdu->data, pdu->data_len);
	case INSITU_TCP_RSP:
		return insitu_tcp_build_rsp(s, buf, cap, &h->rsp.cqe);
	case INSITU_TCP_H2C_DATA:
	case INSITU_TCP_C2H_DATA: {
		struct insitu_tcp_data_desc d = {
			.cccid = le16toh(h->data.cccid), .ttag = le16toh(h->data.ttag),
			.datao = le32toh(h->data.datao), .datal = le32toh(h->data.datal),
			.data = pdu->data, .last = pdu->flags & INSITU_TCP_F_LAST,
			.success = pdu->type == INSITU_TCP_C2H_DATA &&
				   (pdu->flags & INSITU_TCP_F_SUCCESS),
		};
		return pdu->type == INSITU_TCP_H2C_DATA ? insitu_tcp_build_h2c_data(s, buf, cap, &d)
							: insitu_tcp_build_c2h_data(s, buf, cap, &d);
	}
	case INSITU_TCP_R2T:
		return insitu_tcp_build_r2t(s, buf, cap, le16toh(h->r2t.cccid), le16toh(h->r2t.ttag),
					    le32toh(h->r2t.r2to), le32toh(h->r2t.r2tl));
	default:
		return -EINVAL;
	}
}
