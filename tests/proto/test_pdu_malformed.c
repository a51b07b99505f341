/* Malformed NVMe/TCP PDUs: every validation rule of DESIGN.md is broken once, on a valid
 * PDU, and must give exactly the return code, FES and FEI the spec requires, as soon as the
 * bytes that prove the fault are present (not a byte earlier). The TermReq built for each
 * fault must parse on the peer and echo the offending header. */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <nvme/types.h>

#include "insitu/proto/digest.h"
#include "insitu/proto/pdu.h"
#include "pdu_fixture.h"

#define C   (FX_ESTABLISHED)			/* controller receives, no digests */
#define CD  (FX_ESTABLISHED | FX_HDGST | FX_DDGST)
#define CA  0					/* controller before the IC exchange */
#define H   (FX_HOST | FX_ESTABLISHED)
#define HD  (FX_HOST | FX_ESTABLISHED | FX_HDGST | FX_DDGST)
#define HA  (FX_HOST)

#define RX_HDGST 0xFFFFFFFFu	/* expected FEI: the HDGST found in the PDU */
#define PLEN     0xFFFFFFFEu	/* edit value: the PDU's built length */

struct edit {
	uint8_t  off;
	uint8_t  width;		/* 1, 2 or 4; 0 ends the list */
	uint32_t value;
	uint8_t  xor;		/* width 1 only: XOR instead of set */
};

struct mcase {
	const char *name;
	uint8_t  cfg;
	uint8_t  type;
	uint8_t  variant;
	struct edit edits[3];
	bool     no_reseal;	/* keep the old header digest (to test the digest itself) */
	bool     rx_no_digest;	/* the receiving host asked for no digest */
	uint16_t data_flip;	/* > 0: flip the data byte at data_off + data_flip - 1 */
	int      rc;
	uint16_t fes;
	uint32_t fei;
	bool     no_term;	/* the error must not be answered with a TermReq */
	int      detect;	/* bytes at which the fault shows: 8, -1 = whole header, -2 = PLEN */
};

#define E1(o, v) { (o), 1, (v), 0 }
#define E2(o, v) { (o), 2, (v), 0 }
#define E4(o, v) { (o), 4, (v), 0 }
#define X1(o, v) { (o), 1, 0, (v) }
#define HDR (-1)
#define ALL (-2)

static const struct mcase cases[] = {
	/* stage 1: common header */
	{ "undefined type 08h", C, INSITU_TCP_CMD, 0, { E1(0, 0x08) }, .rc = -EPROTO, .fes = 1, .fei = 0, .detect = 8 },
	{ "undefined type FFh", C, INSITU_TCP_CMD, 0, { E1(0, 0xFF) }, .rc = -EPROTO, .fes = 1, .fei = 0, .detect = 8 },
	{ "C2H PDU at a controller", C, INSITU_TCP_CMD, 0, { E1(0, INSITU_TCP_RSP) }, .rc = -EPROTO, .fes = 1, .fei = 0, .detect = 8 },
	{ "H2C PDU at a host", H, INSITU_TCP_RSP, 0, { E1(0, INSITU_TCP_CMD) }, .rc = -EPROTO, .fes = 1, .fei = 0, .detect = 8 },
	{ "ICReq after the exchange", C, INSITU_TCP_ICREQ, 0, { { 0 } }, .rc = -EPROTO, .fes = 2, .fei = 0, .detect = 8 },
	{ "ICResp after the exchange", H, INSITU_TCP_ICRESP, 0, { { 0 } }, .rc = -EPROTO, .fes = 2, .fei = 0, .detect = 8 },
	{ "CapsuleCmd before ICReq", CA, INSITU_TCP_CMD, 0, { { 0 } }, .rc = -EPROTO, .fes = 2, .fei = 0, .detect = 8 },
	{ "H2CData before ICReq", CA, INSITU_TCP_H2C_DATA, 0, { { 0 } }, .rc = -EPROTO, .fes = 2, .fei = 0, .detect = 8 },
	{ "R2T before ICResp", HA, INSITU_TCP_R2T, 0, { { 0 } }, .rc = -EPROTO, .fes = 2, .fei = 0, .detect = 8 },
	{ "TermReq before ICReq is taken", CA, INSITU_TCP_H2C_TERM, 1, { { 0 } }, .rc = 0, .detect = ALL },
	{ "HDGSTF set, digests off", C, INSITU_TCP_CMD, 0, { E1(1, INSITU_TCP_F_HDGST) }, .rc = -EPROTO, .fes = 1, .fei = 1, .detect = 8 },
	{ "HDGSTF clear, digests on", CD, INSITU_TCP_CMD, 0, { E1(1, 0) }, .rc = -EPROTO, .fes = 1, .fei = 1, .detect = 8 },
	{ "DDGSTF on H2CData, digests off", C, INSITU_TCP_H2C_DATA, 1, { E1(1, INSITU_TCP_F_LAST | INSITU_TCP_F_DDGST) }, .rc = -EPROTO, .fes = 1, .fei = 1, .detect = 8 },
	{ "DDGSTF off on C2HData, digests on", HD, INSITU_TCP_C2H_DATA, 0, { E1(1, INSITU_TCP_F_HDGST) }, .rc = -EPROTO, .fes = 1, .fei = 1, .detect = 8 },
	{ "SUCCESS without LAST_PDU", H, INSITU_TCP_C2H_DATA, 0, { E1(1, INSITU_TCP_F_SUCCESS) }, .rc = -EPROTO, .fes = 1, .fei = 1, .detect = 8 },
	{ "CapsuleCmd HLEN 71", C, INSITU_TCP_CMD, 0, { E1(2, 71) }, .rc = -EPROTO, .fes = 1, .fei = 2, .detect = 8 },
	{ "H2CData HLEN 0", C, INSITU_TCP_H2C_DATA, 0, { E1(2, 0) }, .rc = -EPROTO, .fes = 1, .fei = 2, .detect = 8 },
	{ "ICReq HLEN 24", CA, INSITU_TCP_ICREQ, 0, { E1(2, 24) }, .rc = -EPROTO, .fes = 1, .fei = 2, .detect = 8 },
	{ "CapsuleResp HLEN 128", H, INSITU_TCP_RSP, 0, { E1(2, 128) }, .rc = -EPROTO, .fes = 1, .fei = 2, .detect = 8 },
	/* stage 2: header digest */
	{ "CapsuleCmd header digest", CD, INSITU_TCP_CMD, 1, { X1(20, 0x40) }, .no_reseal = true, .rc = -EPROTO, .fes = 3, .fei = RX_HDGST, .detect = HDR },
	{ "R2T header digest", HD, INSITU_TCP_R2T, 0, { X1(16, 0x01) }, .no_reseal = true, .rc = -EPROTO, .fes = 3, .fei = RX_HDGST, .detect = HDR },
	{ "plen garbage behind a bad digest", CD, INSITU_TCP_H2C_DATA, 0, { E4(4, 7) }, .no_reseal = true, .rc = -EPROTO, .fes = 3, .fei = RX_HDGST, .detect = HDR },
	/* stage 2: IC PDUs */
	{ "ICReq PLEN 127", CA, INSITU_TCP_ICREQ, 0, { E4(4, 127) }, .rc = -EPROTO, .fes = 1, .fei = 4, .detect = HDR },
	{ "ICReq PFV 1", CA, INSITU_TCP_ICREQ, 0, { E2(8, 1) }, .rc = -EPROTO, .fes = 6, .fei = 8, .detect = HDR },
	{ "ICReq HPDA 32", CA, INSITU_TCP_ICREQ, 0, { E1(10, 32) }, .rc = -EPROTO, .fes = 1, .fei = 10, .detect = HDR },
	{ "ICReq PFV and HPDA: lowest offset", CA, INSITU_TCP_ICREQ, 0, { E1(10, 255), E2(8, 9) }, .rc = -EPROTO, .fes = 6, .fei = 8, .detect = HDR },
	{ "ICResp PLEN 129", HA, INSITU_TCP_ICRESP, 0, { E4(4, 129) }, .rc = -EPROTO, .fes = 1, .fei = 4, .detect = HDR },
	{ "ICResp PFV 2", HA, INSITU_TCP_ICRESP, 0, { E2(8, 2) }, .rc = -EPROTO, .fes = 6, .fei = 8, .detect = HDR },
	{ "ICResp CPDA 32", HA, INSITU_TCP_ICRESP, 0, { E1(10, 32) }, .rc = -EPROTO, .fes = 1, .fei = 10, .detect = HDR },
	{ "ICResp digest not requested", HA | FX_HDGST, INSITU_TCP_ICRESP, 0, { { 0 } }, .rx_no_digest = true, .rc = -EPROTO, .fes = 1, .fei = 11, .detect = HDR },
	{ "ICResp MAXH2CDATA 4092", HA, INSITU_TCP_ICRESP, 0, { E4(12, 4092) }, .rc = -EPROTO, .fes = 1, .fei = 12, .detect = HDR },
	{ "ICResp MAXH2CDATA 4098", HA, INSITU_TCP_ICRESP, 0, { E4(12, 4098) }, .rc = -EPROTO, .fes = 1, .fei = 12, .detect = HDR },
	{ "ICResp MAXH2CDATA 0", HA, INSITU_TCP_ICRESP, 0, { E4(12, 0) }, .rc = -EPROTO, .fes = 1, .fei = 12, .detect = HDR },
	/* stage 2: TermReq, never answered */
	{ "C2HTermReq PLEN 23", H, INSITU_TCP_C2H_TERM, 0, { E4(4, 23) }, .rc = -EPROTO, .fes = 1, .fei = 4, .no_term = true, .detect = HDR },
	{ "C2HTermReq PLEN 153", H, INSITU_TCP_C2H_TERM, 2, { E4(4, 153) }, .rc = -EPROTO, .fes = 1, .fei = 4, .no_term = true, .detect = HDR },
	{ "H2CTermReq PLEN FFFFFFFFh", C, INSITU_TCP_H2C_TERM, 0, { E4(4, 0xFFFFFFFF) }, .rc = -EPROTO, .fes = 1, .fei = 4, .no_term = true, .detect = HDR },
	/* stage 2: CapsuleCmd */
	{ "CapsuleCmd PLEN below its header", C, INSITU_TCP_CMD, 0, { E4(4, 71) }, .rc = -EPROTO, .fes = 1, .fei = 4, .detect = HDR },
	{ "CapsuleCmd PLEN 0", C, INSITU_TCP_CMD, 0, { E4(4, 0) }, .rc = -EPROTO, .fes = 1, .fei = 4, .detect = HDR },
	{ "CapsuleCmd PLEN FFFFFFFFh, PDO 0", C, INSITU_TCP_CMD, 0, { E4(4, 0xFFFFFFFF) }, .rc = -EPROTO, .fes = 1, .fei = 3, .detect = HDR },
	{ "CapsuleCmd PLEN FFFFFFFFh, PDO 72", C, INSITU_TCP_CMD, 0, { E1(3, 72), E4(4, 0xFFFFFFFF) }, .rc = -EPROTO, .fes = 1, .fei = 4, .detect = HDR },
	{ "CapsuleCmd PDO 76", C, INSITU_TCP_CMD, 1, { E1(3, 76) }, .rc = -EPROTO, .fes = 1, .fei = 3, .detect = HDR },
	{ "CapsuleCmd PDO 0 with data", C, INSITU_TCP_CMD, 1, { E1(3, 0) }, .rc = -EPROTO, .fes = 1, .fei = 3, .detect = HDR },
	{ "CapsuleCmd data, DDGSTF clear", CD, INSITU_TCP_CMD, 1, { E1(1, INSITU_TCP_F_HDGST) }, .rc = -EPROTO, .fes = 1, .fei = 1, .detect = HDR },
	{ "CapsuleCmd data over the queue limit", C | FX_SMALL, INSITU_TCP_CMD, 1, { E4(4, 72 + 68) }, .rc = -EPROTO, .fes = 1, .fei = 4, .detect = HDR },
	{ "CapsuleCmd digest but no data", CD, INSITU_TCP_CMD, 1, { E4(4, 80) }, .rc = -EPROTO, .fes = 1, .fei = 4, .detect = HDR },
	{ "CapsuleCmd without data ignores PDO", C, INSITU_TCP_CMD, 0, { E1(3, 13) }, .rc = 0, .detect = ALL },
	/* stage 2: data PDUs */
	{ "H2CData PDO 28", C, INSITU_TCP_H2C_DATA, 1, { E1(3, 28) }, .rc = -EPROTO, .fes = 1, .fei = 3, .detect = HDR },
	{ "H2CData PLEN disagrees", C, INSITU_TCP_H2C_DATA, 1, { E4(4, 24 + 512 + 4) }, .rc = -EPROTO, .fes = 1, .fei = 4, .detect = HDR },
	{ "H2CData DATAO 2", C, INSITU_TCP_H2C_DATA, 0, { E4(12, 2) }, .rc = -EPROTO, .fes = 1, .fei = 12, .detect = HDR },
	{ "H2CData DATAL 0", C, INSITU_TCP_H2C_DATA, 0, { E4(16, 0), E4(4, 24) }, .rc = -EPROTO, .fes = 1, .fei = 16, .detect = HDR },
	{ "H2CData DATAL 6", C, INSITU_TCP_H2C_DATA, 0, { E4(16, 6), E4(4, 30) }, .rc = -EPROTO, .fes = 1, .fei = 16, .detect = HDR },
	{ "H2CData DATAO 2 DATAL 6, unaligned allowed", C | FX_UNALIGNED, INSITU_TCP_H2C_DATA, 0, { E4(12, 2), E4(16, 6), E4(4, 30) }, .rc = 0, .detect = ALL },
	{ "H2CData past 4 GiB", C, INSITU_TCP_H2C_DATA, 0, { E4(12, 0xFFFFFF00) }, .rc = -EPROTO, .fes = 4, .fei = 0, .detect = HDR },
	{ "H2CData above MAXH2CDATA", C | FX_SMALL, INSITU_TCP_H2C_DATA, 0, { E4(16, 4100), E4(4, 24 + 4100) }, .rc = -EPROTO, .fes = 5, .fei = 0, .detect = HDR },
	{ "C2HData above any buffer", H | FX_SMALL, INSITU_TCP_C2H_DATA, 0, { E4(16, 4100), E4(4, 24 + 4100) }, .rc = -EPROTO, .fes = 4, .fei = 0, .detect = HDR },
	{ "H2CData PDO 24 under CPDA 31", C | (3 << FX_PDA_SHIFT), INSITU_TCP_H2C_DATA, 0, { E1(3, 24), E4(4, 24 + 512) }, .rc = -EPROTO, .fes = 1, .fei = 3, .detect = HDR },
	{ "CapsuleResp PLEN 25", H, INSITU_TCP_RSP, 0, { E4(4, 25) }, .rc = -EPROTO, .fes = 1, .fei = 4, .detect = HDR },
	{ "R2T PLEN 28 without digest", H, INSITU_TCP_R2T, 0, { E4(4, 28) }, .rc = -EPROTO, .fes = 1, .fei = 4, .detect = HDR },
	{ "R2T R2TO 1", H, INSITU_TCP_R2T, 0, { E4(12, 1) }, .rc = -EPROTO, .fes = 1, .fei = 12, .detect = HDR },
	{ "R2T R2TL 0", H, INSITU_TCP_R2T, 0, { E4(16, 0) }, .rc = -EPROTO, .fes = 1, .fei = 16, .detect = HDR },
	{ "R2T past 4 GiB", H, INSITU_TCP_R2T, 0, { E4(12, 0xFFFFF000), E4(16, 8192) }, .rc = -EPROTO, .fes = 1, .fei = 16, .detect = HDR },
	/* stage 3: data digests are not fatal */
	{ "H2CData data digest", CD, INSITU_TCP_H2C_DATA, 1, { { 0 } }, .data_flip = 100, .rc = -EBADMSG, .detect = ALL },
	{ "CapsuleCmd data digest", CD, INSITU_TCP_CMD, 1, { { 0 } }, .data_flip = 1, .rc = -EBADMSG, .detect = ALL },
	{ "C2HData data digest", HD, INSITU_TCP_C2H_DATA, 2, { { 0 } }, .data_flip = 8192, .rc = -EBADMSG, .detect = ALL },
};

static uint8_t buf[20000], term[256];

static void apply(uint8_t *p, const struct edit *e, uint32_t built)
{
	uint32_t v = e->value == PLEN ? built : e->value;

	switch (e->width) {
	case 1:
		p[e->off] = e->xor ? (uint8_t)(p[e->off] ^ e->xor) : (uint8_t)v;
		break;
	case 2: {
		uint16_t le = htole16((uint16_t)v);
		memcpy(p + e->off, &le, 2);
		break;
	}
	case 4: {
		uint32_t le = htole32(v);
		memcpy(p + e->off, &le, 4);
		break;
	}
	}
}

static void run_case(const struct mcase *m)
{
	struct insitu_tcp_conn rx, tx;
	struct insitu_tcp_pdu pdu, tpdu;
	struct insitu_tcp_error err, terr;

	fx_conn(&rx, m->cfg);
	fx_peer(&tx, m->cfg);
	if (m->rx_no_digest)
		rx.local.digest = 0;
	ssize_t n = fx_build(&tx, m->type, m->variant, buf, sizeof(buf));
	if (n <= 0)
		fail_msg("%s: build failed %zd", m->name, n);
	uint8_t hlen0 = buf[2];

	for (int i = 0; i < 3 && m->edits[i].width; i++)
		apply(buf, &m->edits[i], (uint32_t)n);
	if (m->data_flip) {
		uint32_t off = buf[3] ? buf[3] : hlen0;
		buf[off + m->data_flip - 1] ^= 0x10;
	}
	/* Re-seal the header digest unless the digest itself is under test. */
	bool hdgst = (m->cfg & FX_HDGST) && (m->cfg & FX_ESTABLISHED) && m->type >= INSITU_TCP_CMD;
	if (hdgst && !m->no_reseal && buf[2] == hlen0)
		insitu_digest_store(buf + hlen0, insitu_crc32c(buf, hlen0));

	uint32_t plen = le32toh(((struct insitu_tcp_ch *)(void *)buf)->plen);
	size_t detect = m->detect == HDR ? (size_t)hlen0 + (hdgst ? 4 : 0)
			: m->detect == ALL ? (m->rc == 0 || m->rc == -EBADMSG ? plen : (size_t)n)
					   : (size_t)m->detect;

	/* One byte short: the parser cannot know yet. */
	int rc = insitu_tcp_pdu_parse(&rx, buf, detect - 1, &pdu, &err);
	if (rc != -EAGAIN)
		fail_msg("%s: with %zu bytes rc %d (%s), expected -EAGAIN", m->name, detect - 1, rc,
			 err.msg);
	assert_int_equal(err.need, 1);

	rc = insitu_tcp_pdu_parse(&rx, buf, detect, &pdu, &err);
	if (rc != m->rc)
		fail_msg("%s: rc %d (%s), expected %d", m->name, rc, err.msg, m->rc);
	assert_int_equal(err.code, m->rc);
	if (rc == -EBADMSG) {
		assert_int_equal(err.status, (NVME_SCT_GENERIC << 8) | NVME_SC_TRAN_TPORT_ERROR);
		assert_false(err.status & INSITU_STATUS_DNR);
		assert_int_equal(insitu_tcp_pdu_cccid(&pdu), 0x1234);
		assert_int_equal(pdu.plen, plen);
	}
	if (rc != -EPROTO)
		return;

	uint32_t fei = m->fei == RX_HDGST ? insitu_digest_load(buf + hlen0) : m->fei;
	if (err.fes != m->fes || err.fei != fei)
		fail_msg("%s: FES %u FEI %u (%s), expected FES %u FEI %u", m->name, err.fes, err.fei,
			 err.msg, m->fes, fei);
	assert_int_equal(err.send_term, !m->no_term);
	assert_true(err.echo_len <= INSITU_TCP_TERM_DATA_MAX && err.echo_len <= detect);
	assert_true(err.msg[0] != '\0');

	/* The answer: a TermReq the peer accepts, echoing the offending header. */
	ssize_t t = insitu_tcp_build_term_for(&rx, term, sizeof(term), &err, buf, detect);
	if (m->no_term) {
		assert_int_equal(t, 0);
		return;
	}
	assert_int_equal(t, 24 + (ssize_t)err.echo_len);
	assert_int_equal(insitu_tcp_pdu_parse(&tx, term, (size_t)t, &tpdu, &terr), 0);
	assert_int_equal(le16toh(tpdu.hdr.term.fes), m->fes);
	assert_int_equal(le32toh(tpdu.hdr.term.fei), fei);
	assert_int_equal(tpdu.data_len, err.echo_len);
	assert_memory_equal(tpdu.data, buf, err.echo_len);
}

static void every_rule(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(buf, 0, sizeof(buf));
		run_case(&cases[i]);
	}
}

/* The echo of a stage-1 error is the header the type says, or the 8 CH bytes if the type
 * is unknown; a long header never echoes more than 128 bytes. */
static void echo_lengths(void **state)
{
	struct insitu_tcp_conn rx, tx;
	struct insitu_tcp_pdu pdu;
	struct insitu_tcp_error err;

	(void)state;
	fx_conn(&rx, C);
	fx_peer(&tx, C);
	ssize_t n = fx_build(&tx, INSITU_TCP_CMD, 1, buf, sizeof(buf));
	buf[2] = 70;
	assert_int_equal(insitu_tcp_pdu_parse(&rx, buf, (size_t)n, &pdu, &err), -EPROTO);
	assert_int_equal(err.echo_len, 72);
	buf[0] = 0x0B;
	assert_int_equal(insitu_tcp_pdu_parse(&rx, buf, (size_t)n, &pdu, &err), -EPROTO);
	assert_int_equal(err.echo_len, 8);
}

/* API misuse is -EINVAL, never a crash. */
static void misuse(void **state)
{
	struct insitu_tcp_conn c;
	struct insitu_tcp_pdu pdu;
	struct insitu_tcp_error err;
	struct insitu_tcp_params p;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(insitu_tcp_pdu_parse(&c, buf, 8, &pdu, &err), -EINVAL);
	assert_int_equal(insitu_tcp_pdu_parse(NULL, buf, 8, &pdu, &err), -EINVAL);
	fx_conn(&c, C);
	assert_int_equal(insitu_tcp_pdu_parse(&c, NULL, 8, &pdu, &err), -EINVAL);
	assert_int_equal(insitu_tcp_pdu_parse(&c, NULL, 0, &pdu, &err), -EAGAIN);
	assert_int_equal(err.need, 8);
	assert_int_equal(insitu_tcp_pdu_parse(&c, buf, 8, &pdu, NULL), -EPROTO);	/* ICReq at an established controller */

	insitu_tcp_params_default(INSITU_TCP_CONTROLLER, &p);
	p.pda = 32;
	assert_int_equal(insitu_tcp_conn_init(&c, INSITU_TCP_CONTROLLER, &p, &err), -EINVAL);
	p.pda = 0;
	p.maxh2cdata = 4095;
	assert_int_equal(insitu_tcp_conn_init(&c, INSITU_TCP_CONTROLLER, &p, &err), -EINVAL);
	p.maxh2cdata = 4096;
	p.digest = 4;
	assert_int_equal(insitu_tcp_conn_init(&c, INSITU_TCP_CONTROLLER, &p, &err), -EINVAL);
	p.digest = 0;
	assert_int_equal(insitu_tcp_conn_init(&c, INSITU_TCP_CONTROLLER, &p, &err), 0);
	memset(&pdu, 0, sizeof(pdu));
	assert_int_equal(insitu_tcp_conn_accept_icresp(&c, &pdu.hdr.icresp, &err), -EINVAL);
	assert_int_equal(insitu_tcp_conn_max_plen(&c), 76 + 8192 + 4);

	/* the negotiation refuses what the parser would have refused */
	struct insitu_tcp_icresp r;
	pdu.hdr.icreq.hpda = 40;
	fx_conn(&c, CA);
	assert_int_equal(insitu_tcp_conn_accept_icreq(&c, &pdu.hdr.icreq, &r, &err), -EINVAL);
	assert_int_equal(c.state, INSITU_TCP_AWAIT_IC);
	pdu.hdr.icreq.hpda = 31;
	assert_int_equal(insitu_tcp_conn_accept_icreq(&c, &pdu.hdr.icreq, &r, &err), 0);
	assert_int_equal(c.state, INSITU_TCP_ESTABLISHED);
	assert_int_equal(c.hpda, 31);
	fx_conn(&c, HA);
	memset(&r, 0, sizeof(r));
	assert_int_equal(insitu_tcp_conn_accept_icresp(&c, &r, &err), -EINVAL);	/* MAXH2CDATA 0 */
	r.maxh2cdata = htole32(4096);
	assert_int_equal(insitu_tcp_conn_accept_icresp(&c, &r, &err), 0);
}

/* Transfer windows: contiguous offsets, inside the window, LAST where it belongs. */
static void transfer_sequencing(void **state)
{
	struct insitu_tcp_conn rx, tx;
	struct insitu_tcp_pdu pdu;
	struct insitu_tcp_error err;
	struct insitu_tcp_xfer x;
	static const uint8_t data[4096];
	struct insitu_tcp_data_desc d = { .cccid = 1, .ttag = 2, .data = data };

	(void)state;
	fx_conn(&rx, C);
	fx_peer(&tx, C);

#define SEND(o, l, last_)                                                                  \
	do {                                                                               \
		d.datao = (o);                                                             \
		d.datal = (l);                                                             \
		d.last = (last_);                                                          \
		ssize_t n_ = insitu_tcp_build_h2c_data(&tx, buf, sizeof(buf), &d);         \
		assert_true(n_ > 0);                                                       \
		assert_int_equal(insitu_tcp_pdu_parse(&rx, buf, (size_t)n_, &pdu, &err), 0); \
	} while (0)

	insitu_tcp_xfer_init(&x, 4096, 8192, true);
	SEND(4096, 4096, false);
	assert_int_equal(insitu_tcp_xfer_accept(&x, &pdu, &err), 0);
	SEND(12288, 1024, false);	/* gap */
	assert_int_equal(insitu_tcp_xfer_accept(&x, &pdu, &err), -EPROTO);
	assert_int_equal(err.fes, INSITU_TCP_FES_PDU_SEQUENCE_ERROR);
	SEND(8192, 4096, false);	/* reaches the end without LAST */
	assert_int_equal(insitu_tcp_xfer_accept(&x, &pdu, &err), -EPROTO);
	assert_int_equal(err.fes, INSITU_TCP_FES_PDU_SEQUENCE_ERROR);

	insitu_tcp_xfer_init(&x, 0, 4096, true);
	SEND(0, 2048, true);		/* LAST too early */
	assert_int_equal(insitu_tcp_xfer_accept(&x, &pdu, &err), -EPROTO);
	insitu_tcp_xfer_init(&x, 0, 4096, true);
	SEND(0, 4096 + 0, true);
	assert_int_equal(insitu_tcp_xfer_accept(&x, &pdu, &err), 0);
	SEND(4096, 4, true);		/* after LAST */
	assert_int_equal(insitu_tcp_xfer_accept(&x, &pdu, &err), -EPROTO);
	assert_int_equal(err.fes, INSITU_TCP_FES_PDU_SEQUENCE_ERROR);

	insitu_tcp_xfer_init(&x, 0, 1024, false);	/* C2H-style window */
	SEND(0, 2048, false);
	assert_int_equal(insitu_tcp_xfer_accept(&x, &pdu, &err), -EPROTO);
	assert_int_equal(err.fes, INSITU_TCP_FES_DATA_OUT_OF_RANGE);
	insitu_tcp_xfer_init(&x, 0, 4096, false);
	SEND(0, 1024, true);		/* a short transfer may end early */
	assert_int_equal(insitu_tcp_xfer_accept(&x, &pdu, &err), 0);
	assert_true(x.done);
#undef SEND
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_rule),
		cmocka_unit_test(echo_lengths),
		cmocka_unit_test(misuse),
		cmocka_unit_test(transfer_sequencing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
