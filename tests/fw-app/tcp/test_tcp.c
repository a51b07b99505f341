/* insitu-fw over real sockets: each case starts the daemon on a temporary sparse flash file
 * with --port 0, reads its ready line, and drives it with the test initiator. Usage:
 *   test_fw_tcp CASE INSITU_FW [INSITU_DEDUP]
 * Exit 0 pass, 1 fail, 77 skipped (with the reason). */
#include <endian.h>
#include <errno.h>
#include <nvme/types.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "initiator.h"
#include "insitu/proto/digest.h"
#include "insitu/proto/fabrics.h"

static const char *g_fw, *g_dedup;
static int g_fail;

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		g_fail = 1; \
		return 1; \
	} \
} while (0)

#define EXPECT_EQ(a, b) do { \
	long long va_ = (long long)(a), vb_ = (long long)(b); \
	CHECK(va_ == vb_, "%s = %lld, expected %lld", #a, va_, vb_); \
} while (0)

#define DGST_BOTH (INSITU_TCP_DGST_HDR | INSITU_TCP_DGST_DATA)
#define MIB (1u << 20)

static void flash_path(struct daemon *d, const char *name)
{
	snprintf(d->flash, sizeof(d->flash), "%s/%s.img", daemon_tmpdir(), name);
}

static int start(struct daemon *d, const char *name, const char *const *extra)
{
	static const char *const fresh[] = { "--flash-size", "256M", NULL };
	const char *args[32];
	int n = 0;

	flash_path(d, name);
	for (const char *const *e = fresh; *e; e++)
		args[n++] = *e;
	for (; extra && *extra && n < 30; extra++)
		args[n++] = *extra;
	args[n] = NULL;
	return daemon_start(d, g_fw, args);
}

static void fill(uint8_t *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
}

/* ---- cases ------------------------------------------------------------------------------ */

static int case_ic(void)
{
	struct daemon d, nd;
	struct ti t;
	uint64_t cap = 0;
	static const char *const nodig[] = { "--no-digests", NULL };

	CHECK(!start(&d, "ic", NULL), "daemon start");
	for (uint8_t dg = 0; dg <= DGST_BOTH; dg++) {
		EXPECT_EQ(ti_open(&t, d.nvm_port, dg), 0);
		EXPECT_EQ(t.icresp.ch.type, INSITU_TCP_ICRESP);
		EXPECT_EQ(le16toh(t.icresp.pfv), 0);
		EXPECT_EQ(t.icresp.cpda, 0);
		EXPECT_EQ(t.icresp.dgst, dg);
		EXPECT_EQ(le32toh(t.icresp.maxh2cdata), 128 * 1024);
		/* the negotiated digests carry a command both ways */
		EXPECT_EQ(ti_connect(&t, 0, 31, TI_SUBNQN, 0xffff, 0), 0);
		EXPECT_EQ(ti_prop_get(&t, NVME_REG_CAP, true, &cap), 0);
		EXPECT_EQ(cap & 0xffff, 127); /* MQES = --queue-depth 128, 0's based */
		ti_close(&t);
	}
	EXPECT_EQ(daemon_stop(&d, SIGTERM), 0);

	CHECK(!start(&nd, "ic-nodig", nodig), "daemon start --no-digests");
	EXPECT_EQ(ti_open(&t, nd.nvm_port, DGST_BOTH), 0);
	EXPECT_EQ(t.icresp.dgst, 0);
	EXPECT_EQ(ti_connect(&t, 0, 31, TI_SUBNQN, 0xffff, 0), 0);
	ti_close(&t);
	EXPECT_EQ(daemon_stop(&nd, SIGTERM), 0);
	return 0;
}

static int io_flow(uint16_t port, uint8_t dg, uint64_t lba0)
{
	struct ti a, q;
	uint8_t *id = aligned_alloc(4096, 4096);
	uint8_t *w = malloc(MIB), *r = malloc(MIB);
	struct nvme_id_ctrl *ctrl = (void *)id;
	struct nvme_id_ns *ns = (void *)id;

	CHECK(id && w && r, "memory");
	EXPECT_EQ(ti_admin_up(&a, port, dg, TI_SUBNQN), 0);
	EXPECT_EQ(ti_identify(&a, NVME_IDENTIFY_CNS_CTRL, 0, id), 0);
	CHECK(!memcmp(ctrl->sn, "INSITU0001          ", 20), "SN '%.20s'", ctrl->sn);
	CHECK(!strcmp(ctrl->subnqn, TI_SUBNQN), "SUBNQN '%s'", ctrl->subnqn);
	EXPECT_EQ(ti_identify(&a, NVME_IDENTIFY_CNS_NS, 1, id), 0);
	EXPECT_EQ(ns->lbaf[ns->flbas & 0xf].ds, 12); /* 4 KiB LBAs */

	EXPECT_EQ(ti_io_up(&q, &a, port, dg, 1, 127), 0);
	/* in-capsule write: 8 KiB fits the 16 KiB I/O capsule */
	fill(w, 8192, 1);
	EXPECT_EQ(ti_write(&q, lba0, 2, w, 8192, false), 0);
	memset(r, 0, 8192);
	EXPECT_EQ(ti_read(&q, lba0, 2, r, 8192), 0);
	CHECK(!memcmp(w, r, 8192), "in-capsule write read back differs");
	/* R2T write of 1 MiB (eight H2CData PDUs of MAXH2CDATA), then a 1 MiB read */
	fill(w, MIB, 2);
	EXPECT_EQ(ti_write(&q, lba0 + 16, 256, w, MIB, false), 0);
	memset(r, 0, MIB);
	EXPECT_EQ(ti_read(&q, lba0 + 16, 256, r, MIB), 0);
	CHECK(!memcmp(w, r, MIB), "1 MiB write read back differs");
	/* a small write forced through R2T */
	fill(w, 4096, 3);
	{
		struct insitu_nvme_sqe sqe;
		struct insitu_nvme_cqe cqe;

		insitu_sqe_init(&sqe, nvme_cmd_write, 0, 1);
		sqe.cdw10 = htole32((uint32_t)(lba0 + 300));
		EXPECT_EQ(ti_cmd(&q, &sqe, w, 4096, NULL, 0, true, &cqe), 0);
		EXPECT_EQ(insitu_cqe_status(&cqe), 0);
	}
	EXPECT_EQ(ti_read(&q, lba0 + 300, 1, r, 4096), 0);
	CHECK(!memcmp(w, r, 4096), "R2T 4 KiB write read back differs");
	EXPECT_EQ(ti_flush(&q), 0);
	ti_close(&q);
	ti_close(&a);
	free(id);
	free(w);
	free(r);
	return 0;
}

static int case_io(void)
{
	struct daemon d;

	CHECK(!start(&d, "io", NULL), "daemon start");
	if (io_flow(d.nvm_port, 0, 0) || io_flow(d.nvm_port, DGST_BOTH, 1024))
		return 1;
	EXPECT_EQ(daemon_stop(&d, SIGTERM), 0);
	return 0;
}

/* Send raw bytes on a connection (IC done when dg >= 0) and expect a C2HTermReq with
 * exactly fes/fei, then the connection closed. */
static int expect_term(uint16_t port, int dg, const void *bytes, size_t len, uint16_t fes,
		       uint32_t fei, const char *what)
{
	struct insitu_tcp_error e;
	struct insitu_tcp_pdu pdu;
	struct ti t;

	if (dg >= 0) {
		CHECK(!ti_open(&t, port, (uint8_t)dg), "%s: IC", what);
	} else {
		struct insitu_tcp_params p;

		memset(&t, 0, sizeof(t));
		insitu_tcp_params_default(INSITU_TCP_HOST, &p);
		insitu_tcp_conn_init(&t.codec, INSITU_TCP_HOST, &p, &e);
		t.fd = ti_socket(port);
		CHECK(t.fd >= 0, "%s: connect", what);
	}
	CHECK(!ti_send_all(t.fd, bytes, len), "%s: send", what);
	CHECK(ti_recv_pdu(&t, &pdu, &e) == 0, "%s: no PDU (%s)", what, t.err);
	CHECK(pdu.type == INSITU_TCP_C2H_TERM, "%s: PDU type %u", what, pdu.type);
	CHECK(le16toh(pdu.hdr.term.fes) == fes && le32toh(pdu.hdr.term.fei) == fei,
	      "%s: FES %u FEI %u, expected FES %u FEI %u", what, le16toh(pdu.hdr.term.fes),
	      le32toh(pdu.hdr.term.fei), fes, fei);
	CHECK(ti_eof(t.fd), "%s: connection not closed after the C2HTermReq", what);
	ti_close(&t);
	return 0;
}

static size_t build_icreq(uint8_t *b, uint16_t pfv, uint8_t hpda, uint8_t hlen)
{
	struct insitu_tcp_icreq *q = (void *)b;

	memset(b, 0, 128);
	q->ch.type = INSITU_TCP_ICREQ;
	q->ch.hlen = hlen;
	q->ch.plen = htole32(128);
	q->pfv = htole16(pfv);
	q->hpda = hpda;
	return 128;
}

static size_t build_capsule(struct ti *peer, uint8_t *b, size_t cap, uint16_t cid,
			    uint32_t sgl_len, bool transport, const void *icd, uint32_t icd_len)
{
	struct insitu_nvme_sqe sqe;

	insitu_sqe_init(&sqe, nvme_cmd_write, cid, 1);
	sqe.cdw12 = htole32(sgl_len / 4096 ? sgl_len / 4096 - 1 : 0);
	if (transport)
		insitu_sqe_set_sgl_transport(&sqe, sgl_len);
	else
		insitu_sqe_set_sgl_incapsule(&sqe, sgl_len);
	return (size_t)insitu_tcp_build_cmd(&peer->codec, b, cap, &sqe, icd, icd_len);
}

static int case_malformed(void)
{
	struct daemon d;
	uint8_t b[32768];
	struct ti peer;
	size_t n;

	CHECK(!start(&d, "malformed", NULL), "daemon start");

	memset(b, 0, 24);
	b[0] = 0x0a; b[2] = 24; b[4] = 24;
	if (expect_term(d.nvm_port, -1, b, 24, 1, 0, "undefined PDU type 0Ah"))
		return 1;
	n = build_icreq(b, 1, 0, 128);
	if (expect_term(d.nvm_port, -1, b, n, 6, 8, "ICReq PFV 1"))
		return 1;
	n = build_icreq(b, 0, 32, 128);
	if (expect_term(d.nvm_port, -1, b, n, 1, 10, "ICReq HPDA 32"))
		return 1;
	n = build_icreq(b, 0, 0, 127);
	if (expect_term(d.nvm_port, -1, b, n, 1, 2, "ICReq HLEN 127"))
		return 1;
	/* a CapsuleCmd before the ICReq: a sequence error */
	memset(&peer, 0, sizeof(peer));
	{
		struct insitu_tcp_params p;
		struct insitu_tcp_error e;
		struct insitu_tcp_icresp r;

		insitu_tcp_params_default(INSITU_TCP_HOST, &p);
		insitu_tcp_conn_init(&peer.codec, INSITU_TCP_HOST, &p, &e);
		memset(&r, 0, sizeof(r));
		r.maxh2cdata = htole32(131072);
		insitu_tcp_conn_accept_icresp(&peer.codec, &r, &e);
	}
	n = build_capsule(&peer, b, sizeof(b), 1, 0, true, NULL, 0);
	if (expect_term(d.nvm_port, -1, b, n, 2, 0, "CapsuleCmd before ICReq"))
		return 1;
	/* after the IC exchange */
	n = build_icreq(b, 0, 0, 128);
	if (expect_term(d.nvm_port, 0, b, n, 2, 0, "second ICReq"))
		return 1;
	memset(b, 0, 24);
	b[0] = INSITU_TCP_RSP; b[2] = 24; b[4] = 24;
	if (expect_term(d.nvm_port, 0, b, 24, 1, 0, "CapsuleResp from a host"))
		return 1;
	/* in-capsule data beyond the 16 KiB the daemon takes */
	{
		static uint8_t icd[20480];

		n = build_capsule(&peer, b, sizeof(b), 1, 20480, false, icd, sizeof(icd));
	}
	if (expect_term(d.nvm_port, 0, b, n, 1, 4, "20 KiB of in-capsule data"))
		return 1;
	/* H2CData whose TTAG names no R2T */
	{
		static uint8_t payload[4096];
		struct insitu_tcp_data_desc dd = { .cccid = 1, .ttag = 77, .datao = 0, .datal = 4096,
						   .data = payload, .last = true };

		n = (size_t)insitu_tcp_build_h2c_data(&peer.codec, b, sizeof(b), &dd);
		if (expect_term(d.nvm_port, 0, b, n, 1, 10, "H2CData with an unknown TTAG"))
			return 1;
		/* DATAL above MAXH2CDATA */
		dd.datal = 131072 + 4096;
		n = (size_t)insitu_tcp_build_h2c_data_hdr(&peer.codec, b, sizeof(b), &dd);
		if (expect_term(d.nvm_port, 0, b, n, 5, 0, "H2CData DATAL above MAXH2CDATA"))
			return 1;
	}
	/* header digest error: a CapsuleCmd whose HDGST is wrong */
	{
		struct ti dg;
		struct insitu_tcp_error e;
		struct insitu_tcp_pdu pdu;
		uint32_t bad;

		CHECK(!ti_open(&dg, d.nvm_port, INSITU_TCP_DGST_HDR), "IC with header digest");
		n = build_capsule(&dg, b, sizeof(b), 1, 0, true, NULL, 0);
		b[72] ^= 0xff;
		bad = insitu_digest_load(b + 72);
		CHECK(!ti_send_all(dg.fd, b, n), "send");
		CHECK(!ti_recv_pdu(&dg, &pdu, &e), "no TermReq: %s", dg.err);
		EXPECT_EQ(pdu.type, INSITU_TCP_C2H_TERM);
		EXPECT_EQ(le16toh(pdu.hdr.term.fes), 3);
		EXPECT_EQ(le32toh(pdu.hdr.term.fei), bad);
		CHECK(ti_eof(dg.fd), "not closed after the header digest error");
		ti_close(&dg);
	}
	/* H2CData out of sequence after a real R2T */
	{
		struct ti a, q;
		struct insitu_tcp_error e;
		struct insitu_tcp_pdu pdu;
		struct insitu_tcp_data_desc dd = { 0 };
		static uint8_t data4k[4096];

		CHECK(!ti_admin_up(&a, d.nvm_port, 0, TI_SUBNQN), "admin");
		CHECK(!ti_io_up(&q, &a, d.nvm_port, 0, 1, 31), "io queue");
		n = build_capsule(&q, b, sizeof(b), 9, 8192, true, NULL, 0);
		CHECK(!ti_send_all(q.fd, b, n), "send");
		CHECK(!ti_recv_pdu(&q, &pdu, &e) && pdu.type == INSITU_TCP_R2T, "no R2T");
		EXPECT_EQ(le32toh(pdu.hdr.r2t.r2tl), 8192);
		dd.cccid = 9;
		dd.ttag = le16toh(pdu.hdr.r2t.ttag);
		dd.datao = 4096; /* the transfer starts at 0 */
		dd.datal = 4096;
		dd.data = data4k;
		dd.last = true;
		n = (size_t)insitu_tcp_build_h2c_data(&q.codec, b, sizeof(b), &dd);
		CHECK(!ti_send_all(q.fd, b, n), "send");
		CHECK(!ti_recv_pdu(&q, &pdu, &e), "no TermReq: %s", q.err);
		EXPECT_EQ(pdu.type, INSITU_TCP_C2H_TERM);
		EXPECT_EQ(le16toh(pdu.hdr.term.fes), 2);
		CHECK(ti_eof(q.fd), "not closed");
		ti_close(&q);
		ti_close(&a);
	}
	/* a host's H2CTermReq closes the connection with no reply */
	{
		struct ti t;

		CHECK(!ti_open(&t, d.nvm_port, 0), "IC");
		n = (size_t)insitu_tcp_build_term(&t.codec, b, sizeof(b), 1, 0, NULL, 0);
		CHECK(!ti_send_all(t.fd, b, n), "send");
		CHECK(recv(t.fd, b, sizeof(b), 0) == 0, "expected EOF with no reply");
		ti_close(&t);
	}
	/* the daemon still serves */
	if (io_flow(d.nvm_port, 0, 0))
		return 1;
	EXPECT_EQ(daemon_stop(&d, SIGTERM), 0);
	return 0;
}

static int case_ddgst(void)
{
	struct daemon d;
	struct ti a, q;
	uint8_t *w = malloc(65536), *r = malloc(65536), b[256];
	struct insitu_tcp_error e;
	struct insitu_tcp_pdu pdu;
	size_t n;

	CHECK(w && r, "memory");
	CHECK(!start(&d, "ddgst", NULL), "daemon start");
	CHECK(!ti_admin_up(&a, d.nvm_port, DGST_BOTH, TI_SUBNQN), "admin");
	CHECK(!ti_io_up(&q, &a, d.nvm_port, DGST_BOTH, 1, 31), "io");
	fill(w, 8192, 5);
	EXPECT_EQ(ti_write(&q, 40, 2, w, 8192, false), 0);

	/* in-capsule data with a wrong DDGST: Transient Transport Error, data untouched */
	{
		uint8_t *cap = malloc(9000);
		uint8_t *nw = malloc(8192);
		struct insitu_nvme_sqe sqe;

		fill(nw, 8192, 6);
		insitu_sqe_init(&sqe, nvme_cmd_write, 0x55, 1);
		sqe.cdw10 = htole32(40);
		sqe.cdw12 = htole32(1);
		insitu_sqe_set_sgl_incapsule(&sqe, 8192);
		n = (size_t)insitu_tcp_build_cmd(&q.codec, cap, 9000, &sqe, nw, 8192);
		cap[n - 1] ^= 0x01;
		CHECK(!ti_send_all(q.fd, cap, n), "send");
		CHECK(!ti_recv_pdu(&q, &pdu, &e) && pdu.type == INSITU_TCP_RSP, "no response: %s",
		      q.err);
		EXPECT_EQ(le16toh(pdu.hdr.rsp.cqe.cid), 0x55);
		EXPECT_EQ(insitu_cqe_status(&pdu.hdr.rsp.cqe), 0x22);
		free(cap);
		free(nw);
	}
	/* H2CData with a wrong DDGST: the same status once the window is complete */
	{
		struct insitu_nvme_sqe sqe;
		struct insitu_tcp_data_desc dd = { 0 };
		uint8_t dgb[4];

		insitu_sqe_init(&sqe, nvme_cmd_write, 0x66, 1);
		sqe.cdw10 = htole32(40);
		sqe.cdw12 = htole32(15);
		insitu_sqe_set_sgl_transport(&sqe, 65536);
		n = (size_t)insitu_tcp_build_cmd(&q.codec, b, sizeof(b), &sqe, NULL, 0);
		CHECK(!ti_send_all(q.fd, b, n), "send");
		CHECK(!ti_recv_pdu(&q, &pdu, &e) && pdu.type == INSITU_TCP_R2T, "no R2T");
		fill(r, 65536, 7);
		for (uint32_t off = 0; off < 65536; off += 32768) {
			dd.cccid = 0x66;
			dd.ttag = le16toh(pdu.hdr.r2t.ttag);
			dd.datao = off;
			dd.datal = 32768;
			dd.last = off + 32768 == 65536;
			n = (size_t)insitu_tcp_build_h2c_data_hdr(&q.codec, b, sizeof(b), &dd);
			insitu_digest_store(dgb, insitu_tcp_data_digest(r + off, 32768) ^ (off ? 0 : 1));
			CHECK(!ti_send_all(q.fd, b, n) && !ti_send_all(q.fd, r + off, 32768) &&
			      !ti_send_all(q.fd, dgb, 4), "send");
		}
		CHECK(!ti_recv_pdu(&q, &pdu, &e) && pdu.type == INSITU_TCP_RSP, "no response");
		EXPECT_EQ(le16toh(pdu.hdr.rsp.cqe.cid), 0x66);
		EXPECT_EQ(insitu_cqe_status(&pdu.hdr.rsp.cqe), 0x22);
	}
	/* the connection lives on, and neither bad write reached the flash */
	memset(r, 0, 8192);
	EXPECT_EQ(ti_read(&q, 40, 2, r, 8192), 0);
	CHECK(!memcmp(w, r, 8192), "a write with a data digest error changed the data");
	ti_close(&q);
	ti_close(&a);
	EXPECT_EQ(daemon_stop(&d, SIGTERM), 0);
	free(w);
	free(r);
	return 0;
}

static int case_vanish(void)
{
	struct daemon d;
	struct ti a, q;
	uint8_t b[256], *data = malloc(MIB);
	struct insitu_tcp_error e;
	struct insitu_tcp_pdu pdu;
	struct insitu_tcp_data_desc dd = { 0 };
	size_t n;

	CHECK(data != NULL, "memory");
	CHECK(!start(&d, "vanish", NULL), "daemon start");
	CHECK(!ti_admin_up(&a, d.nvm_port, 0, TI_SUBNQN), "admin");
	CHECK(!ti_io_up(&q, &a, d.nvm_port, 0, 1, 31), "io");
	n = build_capsule(&q, b, sizeof(b), 3, MIB, true, NULL, 0);
	CHECK(!ti_send_all(q.fd, b, n), "send");
	CHECK(!ti_recv_pdu(&q, &pdu, &e) && pdu.type == INSITU_TCP_R2T, "no R2T");
	fill(data, MIB, 9);
	dd.cccid = 3;
	dd.ttag = le16toh(pdu.hdr.r2t.ttag);
	dd.datal = 131072;
	dd.data = data;
	n = (size_t)insitu_tcp_build_h2c_data_hdr(&q.codec, b, sizeof(b), &dd);
	CHECK(!ti_send_all(q.fd, b, n) && !ti_send_all(q.fd, data, 65536), "send");
	/* gone mid-PDU, mid-R2T: with a reset, as a crashed host */
	{
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(q.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	ti_close(&q);
	ti_close(&a);
	if (io_flow(d.nvm_port, 0, 2048))
		return 1;
	EXPECT_EQ(daemon_stop(&d, SIGTERM), 0);
	free(data);
	return 0;
}

static int case_qdepth(void)
{
	struct daemon d;
	struct ti a, q;
	uint8_t b[256], *data = malloc(4096 * 4);
	struct insitu_tcp_error e;
	struct insitu_tcp_pdu pdu;
	uint16_t ttag[4];
	size_t n;

	CHECK(data != NULL, "memory");
	CHECK(!start(&d, "qdepth", NULL), "daemon start");
	CHECK(!ti_admin_up(&a, d.nvm_port, 0, TI_SUBNQN), "admin");
	CHECK(!ti_io_up(&q, &a, d.nvm_port, 0, 1, 3), "io queue of 4 entries");
	/* writes through R2T stay outstanding until their data comes */
	for (uint16_t i = 0; i < 5; i++) {
		uint16_t cid = i < 2 ? (uint16_t)(100 + i) : i == 2 ? 101 : (uint16_t)(99 + i);

		n = build_capsule(&q, b, sizeof(b), cid, 4096, true, NULL, 0);
		((struct insitu_tcp_cmd *)b)->sqe.cdw10 = htole32(500u + cid - 100u);
		CHECK(!ti_send_all(q.fd, b, n), "send");
		CHECK(!ti_recv_pdu(&q, &pdu, &e), "no PDU: %s", q.err);
		if (i == 2) {
			/* the CID of an outstanding command: Command ID Conflict, DNR */
			EXPECT_EQ(pdu.type, INSITU_TCP_RSP);
			EXPECT_EQ(le16toh(pdu.hdr.rsp.cqe.cid), 101);
			EXPECT_EQ(insitu_cqe_status(&pdu.hdr.rsp.cqe), 0x03 | NVME_SC_DNR);
			continue;
		}
		EXPECT_EQ(pdu.type, INSITU_TCP_R2T);
		EXPECT_EQ(le16toh(pdu.hdr.r2t.cccid), cid);
		ttag[cid - 100] = le16toh(pdu.hdr.r2t.ttag);
	}
	/* four are outstanding: a fifth is beyond the depth, Command Interrupted (retryable) */
	n = build_capsule(&q, b, sizeof(b), 104, 4096, true, NULL, 0);
	CHECK(!ti_send_all(q.fd, b, n), "send");
	CHECK(!ti_recv_pdu(&q, &pdu, &e) && pdu.type == INSITU_TCP_RSP, "no response");
	EXPECT_EQ(le16toh(pdu.hdr.rsp.cqe.cid), 104);
	EXPECT_EQ(insitu_cqe_status(&pdu.hdr.rsp.cqe), 0x21);
	/* the four complete once their data arrives */
	fill(data, 4096 * 4, 11);
	for (uint16_t i = 0; i < 4; i++) {
		struct insitu_tcp_data_desc dd = { .cccid = (uint16_t)(100 + i), .ttag = ttag[i],
						   .datal = 4096, .data = data + 4096 * i,
						   .last = true };
		uint8_t pb[4200];

		n = (size_t)insitu_tcp_build_h2c_data(&q.codec, pb, sizeof(pb), &dd);
		CHECK(!ti_send_all(q.fd, pb, n), "send");
	}
	for (int i = 0; i < 4; i++) {
		CHECK(!ti_recv_pdu(&q, &pdu, &e) && pdu.type == INSITU_TCP_RSP, "no response");
		EXPECT_EQ(insitu_cqe_status(&pdu.hdr.rsp.cqe), 0);
	}
	{
		uint8_t r[4096];

		EXPECT_EQ(ti_read(&q, 502, 1, r, 4096), 0);
		CHECK(!memcmp(r, data + 8192, 4096), "data of the third write");
	}
	ti_close(&q);
	ti_close(&a);
	EXPECT_EQ(daemon_stop(&d, SIGTERM), 0);
	free(data);
	return 0;
}

/* Bound on the daemon's resident memory per established idle connection. */
#define IDLE_CONN_RSS_BOUND_KIB 8

static int case_many(void)
{
	enum { N = 2000 };
	static const char *const extra[] = { "--max-connections", "2002", NULL };
	struct rlimit rl;
	struct daemon d;
	struct ti *conns = calloc(N, sizeof(*conns));
	unsigned long before, after;
	int extra_fd;

	CHECK(conns != NULL, "memory");
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_max < N + 200) {
		printf("SKIP: the open-file hard limit %llu is below the %d sockets this test needs\n",
		       (unsigned long long)rl.rlim_max, N + 200);
		return 77;
	}
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);

	CHECK(!start(&d, "many", extra), "daemon start");
	/* a first I/O pass so the buffers every connection shares are already resident */
	if (io_flow(d.nvm_port, 0, 0))
		return 1;
	before = daemon_rss_kib(&d);
	for (int i = 0; i < N; i++)
		CHECK(ti_open(&conns[i], d.nvm_port, 0) == 0, "connection %d: %s", i, conns[i].err);
	/* another host does I/O while the 2000 are open; its two queues fill the limit
	 * (2002), so one more connection is refused */
	{
		struct ti a, q;
		uint8_t *w = malloc(MIB), *r = malloc(MIB);

		CHECK(w && r, "memory");
		CHECK(!ti_admin_up(&a, d.nvm_port, DGST_BOTH, TI_SUBNQN), "admin");
		CHECK(!ti_io_up(&q, &a, d.nvm_port, DGST_BOTH, 1, 127), "io");
		extra_fd = ti_socket(d.nvm_port);
		CHECK(extra_fd >= 0, "connect");
		CHECK(ti_eof(extra_fd), "connection beyond --max-connections was not closed");
		close(extra_fd);
		fill(w, MIB, 41);
		EXPECT_EQ(ti_write(&q, 4096, 256, w, MIB, false), 0);
		EXPECT_EQ(ti_read(&q, 4096, 256, r, MIB), 0);
		CHECK(!memcmp(w, r, MIB), "1 MiB read back differs");
		ti_close(&q);
		ti_close(&a);
		free(w);
		free(r);
	}
	after = daemon_rss_kib(&d);
	printf("daemon RSS: %lu KiB before, %lu KiB with %d idle connections: %.2f KiB each "
	       "(bound %d KiB)\n", before, after, N, (double)(after - before) / N,
	       IDLE_CONN_RSS_BOUND_KIB);
	CHECK(after - before < (unsigned long)N * IDLE_CONN_RSS_BOUND_KIB, "RSS grew %lu KiB",
	      after - before);
	for (int i = 0; i < N; i++)
		ti_close(&conns[i]);
	EXPECT_EQ(daemon_stop(&d, SIGTERM), 0);
	free(conns);
	return 0;
}

static int case_slowloris(void)
{
	struct daemon d;
	int silent, half_ic;
	struct ti half_pdu;
	uint8_t b[256];
	size_t n;

	CHECK(!start(&d, "slowloris", NULL), "daemon start");
	silent = ti_socket(d.nvm_port);
	half_ic = ti_socket(d.nvm_port);
	CHECK(silent >= 0 && half_ic >= 0, "connect");
	n = build_icreq(b, 0, 0, 128);
	CHECK(!ti_send_all(half_ic, b, 60), "send");
	CHECK(!ti_open(&half_pdu, d.nvm_port, 0), "IC");
	n = build_capsule(&half_pdu, b, sizeof(b), 1, 0, true, NULL, 0);
	CHECK(!ti_send_all(half_pdu.fd, b, 40), "send");
	/* an honest host is served meanwhile */
	if (io_flow(d.nvm_port, 0, 0))
		return 1;
	CHECK(ti_eof(silent), "a connection that never sent its ICReq stayed open");
	CHECK(ti_eof(half_ic), "a connection with half an ICReq stayed open");
	CHECK(ti_eof(half_pdu.fd), "a connection with half a CapsuleCmd stayed open");
	close(silent);
	close(half_ic);
	ti_close(&half_pdu);
	if (io_flow(d.nvm_port, 0, 64))
		return 1;
	EXPECT_EQ(daemon_stop(&d, SIGTERM), 0);
	(void)n;
	return 0;
}

static int run_check(const char *flash)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		execl(g_dedup, g_dedup, "check", flash, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int case_sigterm(void)
{
	enum { NW = 8, WL = 65536 };
	struct daemon d;
	struct ti a, q;
	uint8_t *data = malloc((size_t)NW * WL), b[256], r[WL];
	struct insitu_tcp_error e;
	struct insitu_tcp_pdu pdu;
	uint16_t ttag[NW];
	int st, done = 0;

	CHECK(data != NULL, "memory");
	CHECK(g_dedup, "needs the insitu-dedup path");
	CHECK(!start(&d, "sigterm", NULL), "daemon start");
	CHECK(!ti_admin_up(&a, d.nvm_port, 0, TI_SUBNQN), "admin");
	CHECK(!ti_io_up(&q, &a, d.nvm_port, 0, 1, 63), "io");
	fill(data, (size_t)NW * WL, 21);
	/* NW writes accepted (each has its R2T) but their data not sent yet */
	for (int i = 0; i < NW; i++) {
		size_t n = build_capsule(&q, b, sizeof(b), (uint16_t)(200 + i), WL, true, NULL, 0);

		((struct insitu_tcp_cmd *)b)->sqe.cdw10 = htole32(1000u + 16u * (uint32_t)i);
		CHECK(!ti_send_all(q.fd, b, n), "send");
		CHECK(!ti_recv_pdu(&q, &pdu, &e) && pdu.type == INSITU_TCP_R2T, "no R2T");
		ttag[i] = le16toh(pdu.hdr.r2t.ttag);
	}
	kill(d.pid, SIGTERM);
	/* the daemon still takes the data of the commands it accepted, and answers them */
	for (int i = 0; i < NW; i++) {
		struct insitu_tcp_data_desc dd = { .cccid = (uint16_t)(200 + i), .ttag = ttag[i],
						   .datal = WL, .last = true };
		size_t n = (size_t)insitu_tcp_build_h2c_data_hdr(&q.codec, b, sizeof(b), &dd);

		CHECK(!ti_send_all(q.fd, b, n) && !ti_send_all(q.fd, data + (size_t)WL * i, WL),
		      "send data %d after SIGTERM", i);
	}
	while (ti_recv_pdu(&q, &pdu, &e) == 0) {
		CHECK(pdu.type == INSITU_TCP_RSP, "PDU type %u", pdu.type);
		EXPECT_EQ(insitu_cqe_status(&pdu.hdr.rsp.cqe), 0);
		done++;
	}
	EXPECT_EQ(done, NW);
	CHECK(ti_eof(q.fd), "connection not closed after its commands finished");
	st = daemon_stop(&d, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status %#x", st);
	ti_close(&q);
	ti_close(&a);
	EXPECT_EQ(run_check(d.flash), 0);
	/* what was acknowledged is there after a restart */
	{
		const char *const again[] = { NULL };

		CHECK(!daemon_start(&d, g_fw, again), "restart");
	}
	CHECK(!ti_admin_up(&a, d.nvm_port, 0, TI_SUBNQN), "admin");
	CHECK(!ti_io_up(&q, &a, d.nvm_port, 0, 1, 63), "io");
	for (int i = 0; i < NW; i++) {
		EXPECT_EQ(ti_read(&q, 1000u + 16u * (uint32_t)i, 16, r, WL), 0);
		CHECK(!memcmp(r, data + (size_t)WL * i, WL), "write %d acknowledged but lost", i);
	}
	ti_close(&q);
	ti_close(&a);
	EXPECT_EQ(daemon_stop(&d, SIGTERM), 0);
	EXPECT_EQ(run_check(d.flash), 0);
	free(data);
	return 0;
}

static int case_kill9(void)
{
	struct daemon d;
	struct ti a, q;
	uint8_t *w = malloc(MIB), *r = malloc(MIB);
	const char *const again[] = { NULL };
	int st;

	CHECK(w && r, "memory");
	CHECK(!start(&d, "kill9", NULL), "daemon start");
	CHECK(!ti_admin_up(&a, d.nvm_port, 0, TI_SUBNQN), "admin");
	CHECK(!ti_io_up(&q, &a, d.nvm_port, 0, 1, 31), "io");
	fill(w, MIB, 31);
	EXPECT_EQ(ti_write(&q, 77, 256, w, MIB, false), 0);
	EXPECT_EQ(ti_write(&q, 2000, 1, w + 4096, 4096, false), 0);
	EXPECT_EQ(ti_flush(&q), 0);
	st = daemon_stop(&d, SIGKILL);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status %#x", st);
	ti_close(&q);
	ti_close(&a);
	CHECK(!daemon_start(&d, g_fw, again), "restart after kill -9");
	CHECK(!ti_admin_up(&a, d.nvm_port, 0, TI_SUBNQN), "admin");
	CHECK(!ti_io_up(&q, &a, d.nvm_port, 0, 1, 31), "io");
	EXPECT_EQ(ti_read(&q, 77, 256, r, MIB), 0);
	CHECK(!memcmp(w, r, MIB), "flushed 1 MiB lost after kill -9");
	EXPECT_EQ(ti_read(&q, 2000, 1, r, 4096), 0);
	CHECK(!memcmp(w + 4096, r, 4096), "flushed 4 KiB lost after kill -9");
	ti_close(&q);
	ti_close(&a);
	EXPECT_EQ(daemon_stop(&d, SIGTERM), 0);
	if (g_dedup)
		EXPECT_EQ(run_check(d.flash), 0);
	free(w);
	free(r);
	return 0;
}

static int case_discovery(void)
{
	struct daemon d;
	struct ti t;
	uint8_t *log = aligned_alloc(4096, 4096);
	struct insitu_nvme_sqe sqe;
	struct nvmf_discovery_log *dl = (void *)log;

	CHECK(log != NULL, "memory");
	CHECK(!start(&d, "discovery", NULL), "daemon start");
	CHECK(d.disc_port != d.nvm_port, "two ports");
	EXPECT_EQ(ti_admin_up(&t, d.disc_port, 0, TI_DISCNQN), 0);
	insitu_sqe_init(&sqe, nvme_admin_get_log_page, 0, 0);
	sqe.cdw10 = htole32(NVME_LOG_LID_DISCOVER | ((4096u / 4 - 1) << 16));
	EXPECT_EQ(ti_status(&t, &sqe, NULL, 0, log, 4096, NULL), 0);
	CHECK(le64toh(dl->numrec) >= 1, "%llu records", (unsigned long long)le64toh(dl->numrec));
	{
		char port[8];

		snprintf(port, sizeof(port), "%u", d.nvm_port);
		CHECK(!strncmp(dl->entries[0].trsvcid, port, strlen(port)), "TRSVCID '%.32s', want %s",
		      dl->entries[0].trsvcid, port);
		CHECK(!strcmp(dl->entries[0].subnqn, TI_SUBNQN), "SUBNQN '%s'", dl->entries[0].subnqn);
	}
	ti_close(&t);
	EXPECT_EQ(daemon_stop(&d, SIGTERM), 0);
	free(log);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct { const char *name; int (*fn)(void); } cases[] = {
		{ "ic", case_ic }, { "io", case_io }, { "malformed", case_malformed },
		{ "ddgst", case_ddgst }, { "vanish", case_vanish }, { "qdepth", case_qdepth },
		{ "many", case_many }, { "slowloris", case_slowloris }, { "sigterm", case_sigterm },
		{ "kill9", case_kill9 }, { "discovery", case_discovery },
	};
	int rc = -1;

	if (argc < 3) {
		fprintf(stderr, "usage: %s CASE INSITU_FW [INSITU_DEDUP]\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	g_fw = argv[2];
	g_dedup = argc > 3 ? argv[3] : NULL;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!strcmp(argv[1], cases[i].name))
			rc = cases[i].fn();
	if (rc < 0) {
		fprintf(stderr, "unknown case '%s'\n", argv[1]);
		return 2;
	}
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", daemon_tmpdir());
		if (system(cmd)) {
			/* leftovers in TMPDIR are harmless */
		}
	}
	if (rc == 77)
		return 77;
	return rc || g_fail ? 1 : 0;
}
