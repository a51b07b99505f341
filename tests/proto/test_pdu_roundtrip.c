/* NVMe/TCP round trips: every PDU type, built by one side in every negotiated state (digests
 * off/on, four alignments, both limit sets), parses on the other side; rebuilding from the
 * parsed view gives the same bytes; every prefix reports exactly how many bytes are missing;
 * the header-only builders plus data and digest equal the full builders; and a full
 * ICReq/ICResp exchange negotiates what both sides asked for. */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "insitu/proto/digest.h"
#include "insitu/proto/pdu.h"
#include "pdu_fixture.h"

#define BUF 20000
static uint8_t wire[BUF], again[BUF];

/* Configurations worth covering: every role/state/digest/alignment, then the limit and
 * alignment-relaxing variants on a few. */
static unsigned configs(uint8_t out[128])
{
	unsigned n = 0;

	for (unsigned cfg = 0; cfg < 64; cfg++) {
		if (!(cfg & FX_ESTABLISHED) && (cfg & (FX_HDGST | FX_DDGST)))
			continue;	/* digests exist only after the exchange */
		out[n++] = (uint8_t)cfg;
	}
	out[n++] = FX_ESTABLISHED | FX_HDGST | FX_DDGST | FX_SMALL;
	out[n++] = FX_HOST | FX_ESTABLISHED | FX_DDGST | FX_SMALL;
	out[n++] = FX_ESTABLISHED | FX_UNALIGNED;
	out[n++] = FX_HOST | FX_ESTABLISHED | FX_HDGST | FX_UNALIGNED | (1 << FX_PDA_SHIFT);
	return n;
}

/* Where the parser's stages end for a PDU: the common header, then the whole header. */
static size_t header_end(const struct insitu_tcp_pdu *pdu)
{
	return pdu->hlen + (pdu->hdgst ? INSITU_TCP_DIGEST_LEN : 0);
}

static void one_pdu(uint8_t cfg, uint8_t type, unsigned variant)
{
	struct insitu_tcp_conn rx, tx;
	struct insitu_tcp_pdu pdu, pdu2, hdr;
	struct insitu_tcp_error err;
	char why[128];

	fx_conn(&rx, cfg);
	fx_peer(&tx, cfg);
	ssize_t n = fx_build(&tx, type, variant, wire, sizeof(wire));
	if (n <= 0)
		fail_msg("cfg %#x type %u variant %u: build failed %zd", cfg, type, variant, n);

	int rc = insitu_tcp_pdu_parse(&rx, wire, (size_t)n, &pdu, &err);
	if (rc != 0)
		fail_msg("cfg %#x %s v%u: parse rc %d: %s", cfg, insitu_tcp_pdu_type_name(type),
			 variant, rc, err.msg);
	assert_int_equal(pdu.type, type);
	assert_int_equal(pdu.plen, (uint32_t)n);
	assert_int_equal(le32toh(pdu.hdr.ch.plen), (uint32_t)n);

	/* Digests sit where the spec puts them and are the CRC32C of what they cover. */
	bool digestable = type >= INSITU_TCP_CMD;
	assert_int_equal(pdu.hdgst, digestable && (cfg & FX_HDGST) && (cfg & FX_ESTABLISHED));
	if (pdu.hdgst)
		assert_int_equal(insitu_digest_load(wire + pdu.hlen), insitu_crc32c(wire, pdu.hlen));
	if (pdu.data_len) {
		assert_ptr_equal(pdu.data, wire + pdu.data_off);
		assert_true(pdu.data_off + pdu.data_len <= pdu.plen);
		if (digestable)
			assert_int_equal(pdu.data_off % ((fx_pda(cfg) + 1) * 4), 0);
	}
	if (pdu.ddgst)
		assert_int_equal(insitu_digest_load(wire + pdu.data_off + pdu.data_len),
				 insitu_crc32c(pdu.data, pdu.data_len));

	/* Rebuilding from the view gives the same bytes and the same meaning. */
	ssize_t m = fx_rebuild(&tx, &pdu, again, sizeof(again));
	assert_int_equal(m, n);
	assert_memory_equal(again, wire, (size_t)n);
	assert_int_equal(insitu_tcp_pdu_parse(&rx, again, (size_t)m, &pdu2, &err), 0);
	if (!fx_same(&pdu, &pdu2, why, sizeof(why)))
		fail_msg("cfg %#x %s: %s", cfg, insitu_tcp_pdu_type_name(type), why);

	/* Every prefix: -EAGAIN with the exact number of bytes missing for the next stage. */
	size_t hend = header_end(&pdu);
	for (size_t len = 0; len < (size_t)n; len++) {
		size_t stage = len < 8 ? 8 : len < hend ? hend : (size_t)n;

		rc = insitu_tcp_pdu_parse(&rx, wire, len, &pdu2, &err);
		assert_int_equal(rc, -EAGAIN);
		assert_int_equal(err.code, -EAGAIN);
		assert_int_equal(err.need, stage - len);

		rc = insitu_tcp_pdu_parse_header(&rx, wire, len, &hdr, &err);
		if (len < hend) {
			assert_int_equal(rc, -EAGAIN);
			assert_int_equal(err.need, (len < 8 ? 8 : hend) - len);
		} else {
			assert_int_equal(rc, 0);
			assert_null(hdr.data);
			assert_int_equal(hdr.plen, pdu.plen);
			assert_int_equal(hdr.data_len, pdu.data_len);
		}
	}

	/* Bytes after the PDU are not looked at. */
	memset(wire + n, 0xEE, 64);
	assert_int_equal(insitu_tcp_pdu_parse(&rx, wire, (size_t)n + 64, &pdu2, &err), 0);
	assert_int_equal(pdu2.plen, (uint32_t)n);
}

static void every_type_every_state(void **state)
{
	uint8_t cfgs[128], types[9];
	unsigned ncfg = configs(cfgs), checked = 0;

	(void)state;
	for (unsigned i = 0; i < ncfg; i++) {
		struct insitu_tcp_conn tx;

		fx_peer(&tx, cfgs[i]);
		unsigned nt = fx_types_from(tx.role, tx.state == INSITU_TCP_ESTABLISHED, types);
		for (unsigned t = 0; t < nt; t++)
			for (unsigned v = 0; v < 3; v++, checked++)
				one_pdu(cfgs[i], types[t], v);
	}
	/* all nine types were covered in some state */
	assert_true(checked > 9 * 3);
}

/* The header-only builders leave the data to the caller; with the data and the digest
 * appended they give exactly what the full builders give. */
static void header_only_builders(void **state)
{
	static const uint8_t cfgs[] = {
		FX_ESTABLISHED, FX_ESTABLISHED | FX_HDGST | FX_DDGST | (2 << FX_PDA_SHIFT),
		FX_HOST | FX_ESTABLISHED | FX_DDGST | (3 << FX_PDA_SHIFT),
	};
	uint8_t data[4096];

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i ^ 0x5a);
	for (size_t i = 0; i < sizeof(cfgs); i++) {
		struct insitu_tcp_conn tx, rx;
		struct insitu_tcp_data_desc d = { .cccid = 9, .ttag = 3, .datao = 4096, .datal = 2048,
						  .data = data, .last = true };
		struct insitu_nvme_sqe sqe;
		ssize_t full, hdr;

		fx_peer(&tx, cfgs[i]);
		fx_conn(&rx, cfgs[i]);
		if (tx.role == INSITU_TCP_HOST) {
			full = insitu_tcp_build_h2c_data(&tx, wire, sizeof(wire), &d);
			hdr = insitu_tcp_build_h2c_data_hdr(&tx, again, sizeof(again), &d);
		} else {
			full = insitu_tcp_build_c2h_data(&tx, wire, sizeof(wire), &d);
			hdr = insitu_tcp_build_c2h_data_hdr(&tx, again, sizeof(again), &d);
		}
		assert_true(full > 0 && hdr > 0);
		memcpy(again + hdr, data, d.datal);
		size_t total = (size_t)hdr + d.datal;
		if (tx.ddgst) {
			insitu_digest_store(again + total, insitu_tcp_data_digest(data, d.datal));
			total += 4;
		}
		assert_int_equal(total, (size_t)full);
		assert_memory_equal(again, wire, total);

		if (tx.role == INSITU_TCP_HOST) {
			insitu_sqe_init(&sqe, 0x01, 5, 1);
			insitu_sqe_set_sgl_incapsule(&sqe, 1024);
			full = insitu_tcp_build_cmd(&tx, wire, sizeof(wire), &sqe, data, 1024);
			hdr = insitu_tcp_build_cmd_hdr(&tx, again, sizeof(again), &sqe, 1024);
			assert_true(full > 0 && hdr > 0);
			memcpy(again + hdr, data, 1024);
			total = (size_t)hdr + 1024;
			if (tx.ddgst) {
				insitu_digest_store(again + total, insitu_tcp_data_digest(data, 1024));
				total += 4;
			}
			assert_int_equal(total, (size_t)full);
			assert_memory_equal(again, wire, total);
		}
	}
}

/* Builders refuse what the spec forbids and buffers that are too small. */
static void builder_refusals(void **state)
{
	struct insitu_tcp_conn host, ctrl;
	struct insitu_tcp_data_desc d = { .cccid = 1, .datal = 4, .data = "abcd" };
	uint8_t small[8];

	(void)state;
	fx_peer(&host, FX_ESTABLISHED);			/* host sender */
	fx_peer(&ctrl, FX_HOST | FX_ESTABLISHED);	/* controller sender */
	assert_int_equal(insitu_tcp_build_h2c_data(&host, small, sizeof(small), &d), -ENOSPC);
	d.datal = 0;
	assert_int_equal(insitu_tcp_build_h2c_data(&host, wire, sizeof(wire), &d), -EINVAL);
	d.datal = 3;
	assert_int_equal(insitu_tcp_build_h2c_data(&host, wire, sizeof(wire), &d), -EINVAL);
	d.datal = 4;
	d.success = true;	/* SUCCESS only on C2HData, only with LAST */
	assert_int_equal(insitu_tcp_build_h2c_data(&host, wire, sizeof(wire), &d), -EINVAL);
	assert_int_equal(insitu_tcp_build_c2h_data(&ctrl, wire, sizeof(wire), &d), -EINVAL);
	d.last = true;
	assert_true(insitu_tcp_build_c2h_data(&ctrl, wire, sizeof(wire), &d) > 0);
	d.data = NULL;
	assert_int_equal(insitu_tcp_build_c2h_data(&ctrl, wire, sizeof(wire), &d), -EINVAL);
	assert_int_equal(insitu_tcp_build_r2t(&ctrl, wire, sizeof(wire), 1, 1, 0, 0), -EINVAL);
	assert_int_equal(insitu_tcp_build_r2t(&ctrl, wire, sizeof(wire), 1, 1, 0xFFFFFFFC, 8), -EINVAL);
	assert_int_equal(insitu_tcp_build_r2t(&ctrl, small, sizeof(small), 1, 1, 0, 8), -ENOSPC);

	/* TermReq echoes at most 128 bytes: PLEN 152 at most */
	assert_int_equal(insitu_tcp_build_term(&ctrl, wire, sizeof(wire), 1, 0, wire + 1000, 500), 152);

	struct insitu_tcp_icresp r;
	memset(&r, 0, sizeof(r));
	r.maxh2cdata = htole32(4092);
	assert_int_equal(insitu_tcp_build_icresp(&r, wire, sizeof(wire)), -EINVAL);
}

/* A host and a controller negotiate through real ICReq/ICResp PDUs, then move a write with
 * R2T/H2CData and a read with C2HData, with digests and padding on both ways. */
static void negotiate_and_transfer(void **state)
{
	struct insitu_tcp_params hp, cp;
	struct insitu_tcp_conn host, ctrl;
	struct insitu_tcp_pdu pdu;
	struct insitu_tcp_icresp icresp;
	struct insitu_tcp_error err;
	ssize_t n;

	(void)state;
	insitu_tcp_params_default(INSITU_TCP_HOST, &hp);
	hp.digest = INSITU_TCP_DGST_HDR | INSITU_TCP_DGST_DATA;
	hp.pda = 15;		/* 64-byte aligned C2H data */
	hp.maxr2t = 1;
	insitu_tcp_params_default(INSITU_TCP_CONTROLLER, &cp);
	cp.digest = INSITU_TCP_DGST_DATA;	/* this controller grants only data digests */
	cp.pda = 7;		/* 32-byte aligned H2C data */
	assert_int_equal(insitu_tcp_conn_init(&host, INSITU_TCP_HOST, &hp, &err), 0);
	assert_int_equal(insitu_tcp_conn_init(&ctrl, INSITU_TCP_CONTROLLER, &cp, &err), 0);

	n = insitu_tcp_build_icreq(&host, wire, sizeof(wire));
	assert_int_equal(n, 128);
	assert_int_equal(insitu_tcp_pdu_parse(&ctrl, wire, (size_t)n, &pdu, &err), 0);
	assert_int_equal(insitu_tcp_conn_accept_icreq(&ctrl, &pdu.hdr.icreq, &icresp, &err), 0);
	n = insitu_tcp_build_icresp(&icresp, wire, sizeof(wire));
	assert_int_equal(n, 128);
	assert_int_equal(insitu_tcp_pdu_parse(&host, wire, (size_t)n, &pdu, &err), 0);
	assert_int_equal(insitu_tcp_conn_accept_icresp(&host, &pdu.hdr.icresp, &err), 0);

	assert_int_equal(host.state, INSITU_TCP_ESTABLISHED);
	assert_int_equal(ctrl.state, INSITU_TCP_ESTABLISHED);
	assert_false(host.hdgst);
	assert_false(ctrl.hdgst);
	assert_true(host.ddgst && ctrl.ddgst);
	assert_int_equal(host.hpda, 15);
	assert_int_equal(ctrl.hpda, 15);
	assert_int_equal(host.cpda, 7);
	assert_int_equal(ctrl.maxr2t, 1);
	assert_int_equal(host.maxh2cdata, 128 * 1024);
	/* IC PDUs are no longer acceptable */
	n = insitu_tcp_build_icreq(&host, wire, sizeof(wire));
	assert_int_equal(insitu_tcp_pdu_parse(&ctrl, wire, (size_t)n, &pdu, &err), -EPROTO);
	assert_int_equal(err.fes, INSITU_TCP_FES_PDU_SEQUENCE_ERROR);

	/* write: CapsuleCmd (transport SGL) -> R2T -> H2CData -> CapsuleResp */
	struct insitu_nvme_sqe sqe;
	insitu_sqe_init(&sqe, 0x01, 0x42, 1);
	insitu_sqe_set_sgl_transport(&sqe, 8192);
	n = insitu_tcp_build_cmd(&host, wire, sizeof(wire), &sqe, NULL, 0);
	assert_int_equal(n, 72);
	assert_int_equal(insitu_tcp_pdu_parse(&ctrl, wire, (size_t)n, &pdu, &err), 0);
	assert_int_equal(insitu_sqe_check_tcp_sgl(&pdu.hdr.cmd.sqe, pdu.data_len, 8192), 0);
	assert_int_equal(insitu_sqe_data_len(&pdu.hdr.cmd.sqe), 8192);

	n = insitu_tcp_build_r2t(&ctrl, wire, sizeof(wire), 0x42, 11, 0, 8192);
	assert_int_equal(insitu_tcp_pdu_parse(&host, wire, (size_t)n, &pdu, &err), 0);
	assert_int_equal(le32toh(pdu.hdr.r2t.r2tl), 8192);

	struct insitu_tcp_xfer x;
	insitu_tcp_xfer_init(&x, 0, 8192, true);
	static uint8_t payload[8192];
	for (uint32_t off = 0; off < 8192; off += 4096) {
		struct insitu_tcp_data_desc d = { .cccid = 0x42, .ttag = 11, .datao = off,
						  .datal = 4096, .data = payload + off,
						  .last = off + 4096 == 8192 };
		n = insitu_tcp_build_h2c_data(&host, wire, sizeof(wire), &d);
		assert_true(n > 0);
		assert_int_equal(insitu_tcp_pdu_parse(&ctrl, wire, (size_t)n, &pdu, &err), 0);
		assert_int_equal(pdu.data_off, 32);	/* 24 rounded up to CPDA's 32 bytes */
		assert_int_equal(insitu_tcp_xfer_accept(&x, &pdu, &err), 0);
	}
	assert_true(x.done);

	/* read: C2HData at 64-byte alignment (HPDA 15) */
	struct insitu_tcp_data_desc d = { .cccid = 0x43, .datao = 0, .datal = 512,
					  .data = payload, .last = true, .success = true };
	n = insitu_tcp_build_c2h_data(&ctrl, wire, sizeof(wire), &d);
	assert_int_equal(n, 64 + 512 + 4);
	assert_int_equal(insitu_tcp_pdu_parse(&host, wire, (size_t)n, &pdu, &err), 0);
	assert_int_equal(pdu.data_off, 64);
	assert_int_equal(insitu_tcp_pdu_cccid(&pdu), 0x43);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_type_every_state),
		cmocka_unit_test(header_only_builders),
		cmocka_unit_test(builder_refusals),
		cmocka_unit_test(negotiate_and_transfer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
