/* The receive-path fixture (recv_fixture.h): a host queue whose socket's other end the test
 * plays the device on. */
#include "recv_fixture.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void fixture_open(struct fixture *f, uint8_t dg)
{
	struct insitu_tcp_params p;
	struct insitu_tcp_error e;
	struct insitu_tcp_icresp icr;
	int sv[2];

	memset(f, 0, sizeof(*f));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	f->peer = sv[1];
	if (tq_init(&f->q, sv[0], "test queue", 1, 4, 2000) < 0)
		abort();
	insitu_tcp_params_default(INSITU_TCP_HOST, &p);
	p.digest = dg;
	p.max_c2h = 65536;
	if (insitu_tcp_conn_init(&f->q.conn, INSITU_TCP_HOST, &p, &e) < 0)
		abort();
	memset(&icr, 0, sizeof(icr));
	icr.ch.type = INSITU_TCP_ICRESP;
	icr.ch.hlen = sizeof(icr);
	icr.ch.plen = htole32(sizeof(icr));
	icr.dgst = dg;
	icr.maxh2cdata = htole32(FIX_MAXH2CDATA);
	if (insitu_tcp_conn_accept_icresp(&f->q.conn, &icr, &e) < 0)
		abort();
	f->q.max_icd = 0;	/* every write waits for R2Ts */

	ins_req_init(&f->r[0], 0x02, 1, f->rbuf, FIX_READ_LEN);
	ins_req_init(&f->r[1], 0x01, 1, f->wbuf, FIX_WRITE_LEN);
	ins_req_init(&f->r[2], 0x00, 1, NULL, 0);
	ins_req_init(&f->r[3], 0x06, 0, f->idbuf, FIX_ID_LEN);
	for (size_t i = 0; i < FIX_WRITE_LEN; i++)
		f->wbuf[i] = (uint8_t)(i * 13 + 5);
	for (int i = 0; i < 4; i++) {
		f->r[i].async = true;
		if (tq_submit_nowait(&f->q, &f->r[i]) != 0 || f->r[i].cid != i)
			abort();
	}
}

int fixture_run(struct fixture *f, const uint8_t *data, size_t len)
{
	size_t off = 0;

	/* what does not fit the socket buffer is dropped */
	fcntl(f->peer, F_SETFL, O_NONBLOCK);
	while (off < len) {
		ssize_t w = write(f->peer, data + off, len - off);

		if (w <= 0)
			break;
		off += (size_t)w;
	}
	shutdown(f->peer, SHUT_WR);
	/* each PDU consumes at least 8 bytes, so the stream ends within len/8 + 1 PDUs */
	for (size_t i = 0; i <= len / 8 + 1; i++) {
		int rc = tq_recv_one(&f->q);

		if (rc < 0)
			return rc;
	}
	return 0;
}

void fixture_close(struct fixture *f)
{
	tq_destroy(&f->q);
	close(f->peer);
}

/* ---- device streams ------------------------------------------------------------------ */

uint8_t fixture_payload[FIX_WRITE_LEN];

static void put(struct dev_stream *s, ssize_t n)
{
	if (n <= 0)
		abort();
	s->len += (size_t)n;
}

void stream_start(struct dev_stream *s, uint8_t dg)
{
	struct insitu_tcp_params p;
	struct insitu_tcp_icreq icreq;
	struct insitu_tcp_icresp icresp;

	for (size_t i = 0; i < sizeof(fixture_payload); i++)
		fixture_payload[i] = (uint8_t)(i * 7 + 1);
	insitu_tcp_params_default(INSITU_TCP_CONTROLLER, &p);
	p.maxh2cdata = FIX_MAXH2CDATA;
	if (insitu_tcp_conn_init(&s->ctrl, INSITU_TCP_CONTROLLER, &p, NULL) < 0)
		abort();
	memset(&icreq, 0, sizeof(icreq));
	icreq.dgst = dg;
	if (insitu_tcp_conn_accept_icreq(&s->ctrl, &icreq, &icresp, NULL) < 0)
		abort();
	s->buf[0] = dg;
	s->len = 1;
}

void stream_resp(struct dev_stream *s, uint16_t cid, uint16_t status)
{
	struct insitu_nvme_cqe cqe;

	insitu_cqe_init(&cqe, cid, 1, 0, status, 0, 0);
	put(s, insitu_tcp_build_rsp(&s->ctrl, s->buf + s->len, sizeof(s->buf) - s->len, &cqe));
}

void stream_c2h(struct dev_stream *s, uint16_t cid, uint32_t off, uint32_t len, bool last,
		bool success)
{
	struct insitu_tcp_data_desc d = { .cccid = cid, .datao = off, .datal = len,
					  .data = fixture_payload + off, .last = last,
					  .success = success };

	put(s, insitu_tcp_build_c2h_data(&s->ctrl, s->buf + s->len, sizeof(s->buf) - s->len, &d));
}

void stream_r2t(struct dev_stream *s, uint16_t cid, uint16_t ttag, uint32_t off, uint32_t len)
{
	put(s, insitu_tcp_build_r2t(&s->ctrl, s->buf + s->len, sizeof(s->buf) - s->len, cid, ttag,
				    off, len));
}

void stream_term(struct dev_stream *s, uint16_t fes, uint32_t fei)
{
	put(s, insitu_tcp_build_term(&s->ctrl, s->buf + s->len, sizeof(s->buf) - s->len, fes, fei,
				     NULL, 0));
}
