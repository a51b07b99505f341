/* The initiator state the receive-path fuzz target and its corpus generator share: one
 * NVMe/TCP queue with four commands outstanding (CID 0 read of 8 KiB, CID 1 write of
 * 16 KiB awaiting R2Ts, CID 2 flush, CID 3 Identify of 4 KiB), digests chosen by the first
 * input byte. */
#ifndef INSITU_TESTS_HOSTLIB_RECV_FIXTURE_H
#define INSITU_TESTS_HOSTLIB_RECV_FIXTURE_H

#define FIX_READ_LEN   8192u
#define FIX_WRITE_LEN  16384u
#define FIX_ID_LEN     4096u
#define FIX_MAXH2CDATA 8192u
#define FIX_CID_READ   0
#define FIX_CID_WRITE  1
#define FIX_CID_FLUSH  2
#define FIX_CID_ID     3

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

struct fixture {
	struct tq q;
	int peer;                     /* the device's end of the socket pair */
	struct ins_req r[4];
	uint8_t rbuf[FIX_READ_LEN], wbuf[FIX_WRITE_LEN], idbuf[FIX_ID_LEN];
};

/* Sets up the queue with digests @dg and the four commands outstanding; aborts on failure
 * (a broken fixture is a broken test, not a finding). */
void fixture_open(struct fixture *f, uint8_t dg);
/* Feeds @len device bytes, ends the stream, receives until it ends or the queue fails.
 * Returns the first negative tq_recv_one() result. */
int fixture_run(struct fixture *f, const uint8_t *data, size_t len);
void fixture_close(struct fixture *f);

/* A device stream under construction, built with proto's controller-side encoders: byte 0
 * is the digest selector the fuzz target reads, the PDUs follow. */
struct dev_stream {
	struct insitu_tcp_conn ctrl;
	uint8_t buf[65536];
	size_t  len;
};

extern uint8_t fixture_payload[FIX_WRITE_LEN];	/* what C2HData PDUs carry */

void stream_start(struct dev_stream *s, uint8_t dg);
void stream_resp(struct dev_stream *s, uint16_t cid, uint16_t status);
void stream_c2h(struct dev_stream *s, uint16_t cid, uint32_t off, uint32_t len, bool last,
		bool success);
void stream_r2t(struct dev_stream *s, uint16_t cid, uint16_t ttag, uint32_t off, uint32_t len);
void stream_term(struct dev_stream *s, uint16_t fes, uint32_t fei);

#endif
