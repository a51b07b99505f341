/* The initiator's queue against a scripted device on a socket pair, in every digest setting:
 * completions with their exact statuses and data, the H2CData PDUs R2Ts produce (parsed back
 * with proto as a controller would), and the exact failure, message and TermReq for streams
 * a device must not send. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "recv_fixture.h"

static struct fixture f;
static struct dev_stream s;
static uint8_t sent[131072];
static size_t nsent;

/* Everything the host sent, read from the device's end. */
static void drain_host_bytes(void)
{
	nsent = 0;
	for (;;) {
		ssize_t n = read(f.peer, sent + nsent, sizeof(sent) - nsent);

		if (n <= 0)
			break;
		nsent += (size_t)n;
	}
}

/* Parses the host's bytes as a controller would; returns the PDUs' offsets' count. */
static size_t next_pdu(size_t off, struct insitu_tcp_pdu *pdu)
{
	struct insitu_tcp_error e;

	assert_int_equal(insitu_tcp_pdu_parse(&s.ctrl, sent + off, nsent - off, pdu, &e), 0);
	return off + pdu->plen;
}

static void all_commands(void **state)
{
	(void)state;
	for (uint8_t dg = 0; dg < 4; dg++) {
		struct insitu_tcp_pdu pdu;
		size_t off = 0;

		fixture_open(&f, dg);
		stream_start(&s, dg);
		stream_c2h(&s, FIX_CID_ID, 0, FIX_ID_LEN, true, false);
		stream_resp(&s, FIX_CID_ID, 0);
		stream_r2t(&s, FIX_CID_WRITE, 7, 0, FIX_WRITE_LEN);
		stream_resp(&s, FIX_CID_FLUSH, 0x0002);
		stream_resp(&s, FIX_CID_WRITE, 0);
		stream_c2h(&s, FIX_CID_READ, 0, 4096, false, false);
		stream_c2h(&s, FIX_CID_READ, 4096, 4096, true, false);
		stream_resp(&s, FIX_CID_READ, 0x0080);
		assert_int_equal(fixture_run(&f, s.buf + 1, s.len - 1), -ECONNRESET);

		assert_true(f.r[3].done);
		assert_int_equal(f.r[3].result, 0);
		assert_memory_equal(f.idbuf, fixture_payload, FIX_ID_LEN);
		assert_true(f.r[1].done);
		assert_int_equal(f.r[1].result, 0);
		assert_true(f.r[2].done);
		assert_int_equal(f.r[2].result, -EREMOTEIO);
		assert_int_equal(f.r[2].status, 0x0002);
		assert_true(f.r[0].done);
		assert_int_equal(f.r[0].result, -EREMOTEIO);
		assert_int_equal(f.r[0].status, 0x0080);
		assert_memory_equal(f.rbuf, fixture_payload, FIX_READ_LEN);

		/* four capsules, then the write's data in MAXH2CDATA pieces */
		drain_host_bytes();
		for (int cid = 0; cid < 4; cid++) {
			off = next_pdu(off, &pdu);
			assert_int_equal(pdu.type, INSITU_TCP_CMD);
			assert_int_equal(le16toh(pdu.hdr.cmd.sqe.cid), cid);
			assert_int_equal(insitu_sqe_data_len(&pdu.hdr.cmd.sqe),
					 cid == 0 ? FIX_READ_LEN : cid == 1 ? FIX_WRITE_LEN
						  : cid == 3 ? FIX_ID_LEN : 0);
		}
		for (uint32_t datao = 0; datao < FIX_WRITE_LEN; datao += FIX_MAXH2CDATA) {
			off = next_pdu(off, &pdu);
			assert_int_equal(pdu.type, INSITU_TCP_H2C_DATA);
			assert_int_equal(le16toh(pdu.hdr.data.cccid), FIX_CID_WRITE);
			assert_int_equal(le16toh(pdu.hdr.data.ttag), 7);
			assert_int_equal(le32toh(pdu.hdr.data.datao), datao);
			assert_int_equal(pdu.data_len, FIX_MAXH2CDATA);
			assert_int_equal(!!(pdu.flags & INSITU_TCP_F_LAST),
					 datao + FIX_MAXH2CDATA == FIX_WRITE_LEN);
			assert_memory_equal(pdu.data, f.wbuf + datao, FIX_MAXH2CDATA);
		}
		assert_int_equal(off, nsent);
		fixture_close(&f);
	}
}

/* The TermReq the host sent after the capsules. */
static void expect_term(uint16_t fes, uint32_t fei)
{
	struct insitu_tcp_pdu pdu;
	size_t off = 0;

	drain_host_bytes();
	for (int i = 0; i < 4; i++)
		off = next_pdu(off, &pdu);
	off = next_pdu(off, &pdu);
	assert_int_equal(pdu.type, INSITU_TCP_H2C_TERM);
	assert_int_equal(le16toh(pdu.hdr.term.fes), fes);
	assert_int_equal(le32toh(pdu.hdr.term.fei), fei);
	assert_int_equal(off, nsent);
}

static void bad_streams(void **state)
{
	(void)state;
	/* data for a command that reads nothing */
	fixture_open(&f, 0);
	stream_start(&s, 0);
	stream_c2h(&s, FIX_CID_FLUSH, 0, 4096, true, false);
	assert_int_equal(fixture_run(&f, s.buf + 1, s.len - 1), -EPROTO);
	expect_term(INSITU_TCP_FES_INVALID_HEADER_FIELD, 8);
	fixture_close(&f);

	/* a CapsuleResp for a CID nobody sent */
	fixture_open(&f, 1);
	stream_start(&s, 1);
	stream_resp(&s, 3, 0);
	stream_resp(&s, 3, 0);
	assert_int_equal(fixture_run(&f, s.buf + 1, s.len - 1), -EPROTO);
	expect_term(INSITU_TCP_FES_INVALID_HEADER_FIELD, 20);
	fixture_close(&f);

	/* an R2T beyond the write's 16 KiB */
	fixture_open(&f, 0);
	stream_start(&s, 0);
	stream_r2t(&s, FIX_CID_WRITE, 1, 0, 32768);
	assert_int_equal(fixture_run(&f, s.buf + 1, s.len - 1), -EPROTO);
	expect_term(INSITU_TCP_FES_DATA_OUT_OF_RANGE, 0);
	fixture_close(&f);

	/* an R2T that does not continue where the previous one ended */
	fixture_open(&f, 0);
	stream_start(&s, 0);
	stream_r2t(&s, FIX_CID_WRITE, 1, 8192, 8192);
	assert_int_equal(fixture_run(&f, s.buf + 1, s.len - 1), -EPROTO);
	expect_term(INSITU_TCP_FES_PDU_SEQUENCE_ERROR, 0);
	fixture_close(&f);

	/* C2HData past the read's buffer */
	fixture_open(&f, 0);
	stream_start(&s, 0);
	stream_c2h(&s, FIX_CID_READ, 0, 4096, false, false);
	stream_c2h(&s, FIX_CID_READ, 4096, 8192, true, false);
	assert_int_equal(fixture_run(&f, s.buf + 1, s.len - 1), -EPROTO);
	expect_term(INSITU_TCP_FES_DATA_OUT_OF_RANGE, 0);
	fixture_close(&f);

	/* a header digest that does not match */
	fixture_open(&f, 1);
	stream_start(&s, 1);
	stream_resp(&s, FIX_CID_FLUSH, 0);
	s.buf[1 + 24] ^= 1;
	assert_int_equal(fixture_run(&f, s.buf + 1, s.len - 1), -EPROTO);
	fixture_close(&f);

	/* the device gives up */
	fixture_open(&f, 3);
	stream_start(&s, 3);
	stream_term(&s, INSITU_TCP_FES_PDU_SEQUENCE_ERROR, 0);
	assert_int_equal(fixture_run(&f, s.buf + 1, s.len - 1), -EPROTO);
	fixture_close(&f);
}

/* A data digest error is not fatal: the read completes with Transient Transport Error. */
static void data_digest_error(void **state)
{
	(void)state;
	fixture_open(&f, 2);
	stream_start(&s, 2);
	stream_c2h(&s, FIX_CID_READ, 0, FIX_READ_LEN, true, false);
	s.buf[1 + 24 + 100] ^= 0x40;
	stream_resp(&s, FIX_CID_READ, 0);
	stream_resp(&s, FIX_CID_FLUSH, 0);
	assert_int_equal(fixture_run(&f, s.buf + 1, s.len - 1), -ECONNRESET);
	assert_true(f.r[0].done);
	assert_int_equal(f.r[0].result, -EREMOTEIO);
	assert_int_equal(f.r[0].status, 0x0022);
	assert_true(f.r[2].done);
	assert_int_equal(f.r[2].result, 0);
	fixture_close(&f);
}

/* A failed queue completes what is outstanding with its error and refuses new commands. */
static void failure_completes_all(void **state)
{
	struct ins_req *done[8], extra;

	(void)state;
	fixture_open(&f, 0);
	tq_fail(&f.q, ECONNRESET, "test: link down");
	assert_int_equal(tq_reap(&f.q, done, 8, 4), 4);
	for (int i = 0; i < 4; i++) {
		assert_true(f.r[i].done);
		assert_int_equal(f.r[i].result, -ECONNRESET);
	}
	ins_req_init(&extra, 0x00, 1, NULL, 0);
	assert_int_equal(tq_submit(&f.q, &extra), -ECONNRESET);
	assert_string_equal(insitu_errmsg(), "test: link down");
	fixture_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(all_commands),
		cmocka_unit_test(bad_streams),
		cmocka_unit_test(data_digest_error),
		cmocka_unit_test(failure_completes_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
