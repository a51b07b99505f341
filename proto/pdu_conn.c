/* NVMe/TCP connection parameters and the ICReq/ICResp negotiation: the only code that
 * changes a struct insitu_tcp_conn. */
#include "insitu/proto/pdu.h"

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pdu_internal.h"

void insitu_tcp_params_default(enum insitu_tcp_role role, struct insitu_tcp_params *p)
{
	memset(p, 0, sizeof(*p));
	if (role == INSITU_TCP_CONTROLLER) {
		p->digest = INSITU_TCP_DGST_HDR | INSITU_TCP_DGST_DATA;
		p->maxh2cdata = 128u * 1024;
		p->max_icd = INSITU_TCP_ADMIN_ICD_MAX;
	} else {
		p->max_c2h = 1u * 1024 * 1024;
	}
}

int insitu_tcp_conn_init(struct insitu_tcp_conn *c, enum insitu_tcp_role role,
			 const struct insitu_tcp_params *p, struct insitu_tcp_error *err)
{
	if (!c || !p)
		return tcp_fail_inval(err, "connection: NULL argument");
	if (role != INSITU_TCP_CONTROLLER && role != INSITU_TCP_HOST)
		return tcp_fail_inval(err, "connection: unknown role %d", (int)role);
	if (p->pda > INSITU_TCP_PDA_MAX)
		return tcp_fail_inval(err, "connection: PDA %u above %u", p->pda, INSITU_TCP_PDA_MAX);
	if (p->digest & ~(INSITU_TCP_DGST_HDR | INSITU_TCP_DGST_DATA))
		return tcp_fail_inval(err, "connection: unknown digest bits %#x", p->digest);
	if (role == INSITU_TCP_CONTROLLER &&
	    (p->maxh2cdata < INSITU_TCP_MIN_MAXH2CDATA || p->maxh2cdata % 4))
		return tcp_fail_inval(err, "connection: MAXH2CDATA %u must be a dword multiple >= %u",
				      p->maxh2cdata, INSITU_TCP_MIN_MAXH2CDATA);
	if (role == INSITU_TCP_CONTROLLER && p->max_icd > TCP_DATA_MAX)
		return tcp_fail_inval(err, "connection: in-capsule data limit %u too large", p->max_icd);
	if (role == INSITU_TCP_HOST && (p->max_c2h == 0 || p->max_c2h > TCP_DATA_MAX))
		return tcp_fail_inval(err, "connection: C2HData limit %u out of range", p->max_c2h);

	memset(c, 0, sizeof(*c));
	c->role = role;
	c->state = INSITU_TCP_AWAIT_IC;
	c->local = *p;
	if (role == INSITU_TCP_CONTROLLER) {
		c->cpda = p->pda;
		c->maxh2cdata = p->maxh2cdata;
	} else {
		c->hpda = p->pda;
		c->maxr2t = p->maxr2t;
	}
	if (err)
		memset(err, 0, sizeof(*err));
	return 0;
}

int insitu_tcp_conn_accept_icreq(struct insitu_tcp_conn *c, const struct insitu_tcp_icreq *icreq,
				 struct insitu_tcp_icresp *icresp, struct insitu_tcp_error *err)
{
	if (!c || !icreq || !icresp)
		return tcp_fail_inval(err, "ICReq: NULL argument");
	if (c->role != INSITU_TCP_CONTROLLER || c->state != INSITU_TCP_AWAIT_IC)
		return tcp_fail_inval(err, "ICReq: connection is not a controller awaiting ICReq");
	if (icreq->hpda > INSITU_TCP_PDA_MAX)
		return tcp_fail_inval(err, "ICReq: HPDA %u above %u (not validated?)", icreq->hpda,
				      INSITU_TCP_PDA_MAX);

	uint8_t granted = icreq->dgst & c->local.digest;

	c->hdgst = (granted & INSITU_TCP_DGST_HDR) != 0;
	c->ddgst = (granted & INSITU_TCP_DGST_DATA) != 0;
	c->hpda = icreq->hpda;
	c->maxr2t = le32toh(icreq->maxr2t);
	c->state = INSITU_TCP_ESTABLISHED;

	memset(icresp, 0, sizeof(*icresp));
	icresp->ch.type = INSITU_TCP_ICRESP;
	icresp->ch.hlen = sizeof(*icresp);
	icresp->ch.plen = htole32(sizeof(*icresp));
	icresp->pfv = htole16(0);
	icresp->cpda = c->cpda;
	icresp->dgst = granted;
	icresp->maxh2cdata = htole32(c->maxh2cdata);
	return 0;
}

int insitu_tcp_conn_accept_icresp(struct insitu_tcp_conn *c, const struct insitu_tcp_icresp *icresp,
				  struct insitu_tcp_error *err)
{
	if (!c || !icresp)
		return tcp_fail_inval(err, "ICResp: NULL argument");
	if (c->role != INSITU_TCP_HOST || c->state != INSITU_TCP_AWAIT_IC)
		return tcp_fail_inval(err, "ICResp: connection is not a host awaiting ICResp");
	if (icresp->cpda > INSITU_TCP_PDA_MAX || le32toh(icresp->maxh2cdata) < INSITU_TCP_MIN_MAXH2CDATA ||
	    le32toh(icresp->maxh2cdata) % 4)
		return tcp_fail_inval(err, "ICResp: CPDA %u / MAXH2CDATA %u invalid (not validated?)",
				      icresp->cpda, le32toh(icresp->maxh2cdata));

	c->hdgst = (icresp->dgst & INSITU_TCP_DGST_HDR) != 0;
	c->ddgst = (icresp->dgst & INSITU_TCP_DGST_DATA) != 0;
	c->cpda = icresp->cpda;
	c->maxh2cdata = le32toh(icresp->maxh2cdata);
	c->state = INSITU_TCP_ESTABLISHED;
	return 0;
}

uint32_t insitu_tcp_conn_max_plen(const struct insitu_tcp_conn *c)
{
	/* Digests may not be negotiated yet: count them, it is an upper bound. */
	uint64_t max;

	if (c->role == INSITU_TCP_CONTROLLER) {
		uint64_t cmd = tcp_align_up(sizeof(struct insitu_tcp_cmd) + TCP_DIGEST, c->cpda) +
			       c->local.max_icd;
		uint64_t h2c = tcp_align_up(sizeof(struct insitu_tcp_data) + TCP_DIGEST, c->cpda) +
			       c->maxh2cdata;
		max = (cmd > h2c ? cmd : h2c) + TCP_DIGEST;
	} else {
		max = tcp_align_up(sizeof(struct insitu_tcp_data) + TCP_DIGEST, c->hpda) +
		      (uint64_t)c->local.max_c2h + TCP_DIGEST;
	}
	if (max < sizeof(struct insitu_tcp_icreq))
		max = sizeof(struct insitu_tcp_icreq);
	return max > UINT32_MAX ? UINT32_MAX : (uint32_t)max;
}

int tcp_fail_inval(struct insitu_tcp_error *err, const char *fmt, ...)
{
	if (err) {
		va_list ap;

		memset(err, 0, sizeof(*err));
		err->code = -EINVAL;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}
