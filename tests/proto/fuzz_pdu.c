/* libFuzzer target over the NVMe/TCP decoder. Input: a configuration byte (pdu_fixture.h:
 * role, state, digests, alignment, limits) and then a byte stream, parsed PDU after PDU as
 * a receiver would, through the IC exchange. Besides "no crash, no out-of-bounds read",
 * it checks the decoder's promises: the header and full parsers agree, -EAGAIN asks for an
 * exact byte count, every fatal error yields a TermReq the peer accepts, the data digest
 * verifies the same incrementally, and every accepted PDU rebuilds into bytes that parse
 * to the same meaning. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "insitu/proto/digest.h"
#include "insitu/proto/pdu.h"
#include "pdu_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "fuzz_pdu: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                      \
		}                                                                     \
	} while (0)

static uint8_t rebuilt[1 << 17], term[256];

static void check_fatal(const struct insitu_tcp_conn *rx, const struct insitu_tcp_conn *tx,
			const struct insitu_tcp_error *e, const uint8_t *p, size_t left)
{
	struct insitu_tcp_pdu t;
	struct insitu_tcp_error te;

	CHECK(e->fes >= INSITU_TCP_FES_INVALID_HEADER_FIELD && e->fes <= INSITU_TCP_FES_UNSUPPORTED_PARAM);
	CHECK(e->echo_len <= INSITU_TCP_TERM_DATA_MAX && e->echo_len <= left);
	CHECK(e->msg[0] != '\0');
	ssize_t n = insitu_tcp_build_term_for(rx, term, sizeof(term), e, p, left);
	if (!e->send_term) {
		CHECK(n == 0);
		CHECK(p[0] == INSITU_TCP_H2C_TERM || p[0] == INSITU_TCP_C2H_TERM);
		return;
	}
	CHECK(n == 24 + (ssize_t)e->echo_len);
	CHECK(insitu_tcp_pdu_parse(tx, term, (size_t)n, &t, &te) == 0);
	CHECK(t.data_len == e->echo_len && memcmp(t.data, p, e->echo_len) == 0);
}

static void mirror(struct insitu_tcp_conn *tx, const struct insitu_tcp_conn *rx)
{
	tx->state = rx->state;
	tx->hdgst = rx->hdgst;
	tx->ddgst = rx->ddgst;
	tx->hpda = rx->hpda;
	tx->cpda = rx->cpda;
	tx->maxr2t = rx->maxr2t;
	tx->maxh2cdata = rx->maxh2cdata;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct insitu_tcp_conn rx, tx;
	struct insitu_tcp_xfer xfer;
	char why[128];

	if (size < 1)
		return 0;
	fx_conn(&rx, data[0]);
	fx_peer(&tx, data[0]);
	insitu_tcp_xfer_init(&xfer, 0, 1u << 20, false);

	const uint8_t *p = data + 1;
	size_t left = size - 1;
	for (int i = 0; i < 64 && left > 0; i++) {
		struct insitu_tcp_pdu hdr, pdu, again;
		struct insitu_tcp_error he, e, ae;
		int hrc = insitu_tcp_pdu_parse_header(&rx, p, left, &hdr, &he);
		int rc = insitu_tcp_pdu_parse(&rx, p, left, &pdu, &e);

		CHECK(he.code == hrc && e.code == rc);
		if (hrc != 0) {
			CHECK(hrc == -EAGAIN || hrc == -EPROTO);
			CHECK(rc == hrc);
			if (hrc == -EAGAIN) {
				CHECK(he.need > 0 && he.need <= 132 && he.need == e.need);
			} else {
				CHECK(he.fes == e.fes && he.fei == e.fei && he.echo_len == e.echo_len);
				check_fatal(&rx, &tx, &e, p, left);
			}
			return 0;
		}

		CHECK(hdr.data == NULL && hdr.hlen <= 128 && hdr.plen >= hdr.hlen);
		CHECK((uint64_t)hdr.data_off + hdr.data_len + (hdr.ddgst ? 4 : 0) <= hdr.plen);
		CHECK(hdr.plen <= insitu_tcp_conn_max_plen(&rx));
		if (rc == -EAGAIN) {
			CHECK(e.need == hdr.plen - left);
			return 0;
		}
		CHECK(rc == 0 || rc == -EBADMSG);
		CHECK(pdu.plen == hdr.plen && pdu.plen <= left);
		CHECK(pdu.data_len == 0 || pdu.data == p + pdu.data_off);

		/* the digest path, incrementally */
		if (pdu.ddgst) {
			struct insitu_crc32c c;
			size_t half = pdu.data_len / 3;

			insitu_crc32c_init(&c);
			insitu_crc32c_update(&c, pdu.data, half);
			insitu_crc32c_update(&c, pdu.data + half, pdu.data_len - half);
			uint32_t crc = insitu_crc32c_final(&c);
			CHECK(crc == insitu_crc32c(pdu.data, pdu.data_len));
			CHECK(insitu_tcp_pdu_verify_ddgst(&pdu, crc, pdu.data + pdu.data_len, NULL) == rc);
		} else {
			CHECK(rc == 0);
		}

		/* parse -> build -> parse keeps the meaning */
		ssize_t n = fx_rebuild(&tx, &pdu, rebuilt, sizeof(rebuilt));
		CHECK(n == (ssize_t)pdu.plen);
		CHECK(insitu_tcp_pdu_parse(&rx, rebuilt, (size_t)n, &again, &ae) == 0);
		if (!fx_same(&pdu, &again, why, sizeof(why))) {
			fprintf(stderr, "fuzz_pdu: rebuilt %s differs: %s\n",
				insitu_tcp_pdu_type_name(pdu.type), why);
			abort();
		}

		/* session-level helpers on the accepted PDU */
		if (pdu.type == INSITU_TCP_H2C_DATA || pdu.type == INSITU_TCP_C2H_DATA) {
			struct insitu_tcp_error xe;
			int xr = insitu_tcp_xfer_accept(&xfer, &pdu, &xe);
			CHECK(xr == 0 || (xr == -EPROTO && (xe.fes == INSITU_TCP_FES_PDU_SEQUENCE_ERROR ||
							    xe.fes == INSITU_TCP_FES_DATA_OUT_OF_RANGE)));
		}
		if (pdu.type == INSITU_TCP_ICREQ) {
			struct insitu_tcp_icresp r;
			CHECK(insitu_tcp_conn_accept_icreq(&rx, &pdu.hdr.icreq, &r, NULL) == 0);
			CHECK(insitu_tcp_build_icresp(&r, rebuilt, sizeof(rebuilt)) == 128);
			mirror(&tx, &rx);
		} else if (pdu.type == INSITU_TCP_ICRESP) {
			CHECK(insitu_tcp_conn_accept_icresp(&rx, &pdu.hdr.icresp, NULL) == 0);
			mirror(&tx, &rx);
		}
		p += pdu.plen;
		left -= pdu.plen;
	}
	return 0;
}
