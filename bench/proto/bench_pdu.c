/* Benchmarks of the wire layer, each figure beside a peer measured in the same run:
 *  - CRC32C through ISA-L's dispatched crc32_iscsi (what proto uses) against ISA-L's
 *    portable crc32_iscsi_base (what a CPU without CRC instructions would run);
 *  - receiving a 128 KiB H2CData PDU (parse, bounds checks, data digest) against one
 *    memcpy of the same bytes, the copy any receiver makes anyway;
 *  - header-only parsing of CapsuleCmd PDUs with header digests, per PDU.
 * Run by hand: proto_bench_pdu [seconds per figure, default 1]. */
#include <isa-l/crc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "insitu/proto/digest.h"
#include "pdu_fixture.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static volatile uint32_t sink;

/* Runs @fn until @secs elapse; returns calls per second. */
#define RATE(secs, body)                                          \
	({                                                        \
		double t0_ = now(), t_;                           \
		unsigned long n_ = 0;                             \
		do {                                              \
			for (int i_ = 0; i_ < 64; i_++, n_++) {   \
				body;                             \
			}                                         \
			t_ = now() - t0_;                         \
		} while (t_ < (secs));                            \
		n_ / t_;                                          \
	})

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	static uint8_t data[128 * 1024], copy[sizeof(data) + 256], pdu[sizeof(data) + 256];
	struct insitu_tcp_conn rx, tx;
	struct insitu_tcp_pdu v;
	struct insitu_tcp_error e;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 131 + 7);

	printf("%-44s %14s %14s %8s\n", "figure", "insitu", "peer", "ratio");
	static const size_t sizes[] = { 4096, 128 * 1024 };
	for (size_t s = 0; s < 2; s++) {
		size_t len = sizes[s];
		double ours = RATE(secs, sink ^= insitu_crc32c(data, len)) * len / 1e9;
		double base = RATE(secs, sink ^= ~crc32_iscsi_base(data, (int)len, ~0u)) * len / 1e9;
		char name[64];
		snprintf(name, sizeof(name), "CRC32C %zu B, GB/s (peer: ISA-L base)", len);
		printf("%-44s %14.2f %14.2f %7.1fx\n", name, ours, base, ours / base);
	}

	/* a 128 KiB H2CData with both digests, as a controller receives it */
	uint8_t cfg = FX_ESTABLISHED | FX_HDGST | FX_DDGST;
	fx_conn(&rx, cfg);
	fx_peer(&tx, cfg);
	rx.maxh2cdata = tx.maxh2cdata = sizeof(data);
	struct insitu_tcp_data_desc d = { .cccid = 1, .ttag = 1, .datal = sizeof(data),
					  .data = data, .last = true };
	ssize_t n = insitu_tcp_build_h2c_data(&tx, pdu, sizeof(pdu), &d);
	if (n <= 0 || insitu_tcp_pdu_parse(&rx, pdu, (size_t)n, &v, &e) != 0) {
		fprintf(stderr, "bench: sample PDU rejected: %s\n", e.msg);
		return 1;
	}
	double parse = RATE(secs, sink ^= (uint32_t)insitu_tcp_pdu_parse(&rx, pdu, (size_t)n, &v, &e) ^ v.plen);
	double mcpy = RATE(secs, (memcpy(copy, pdu, (size_t)n), sink ^= copy[i_]));
	printf("%-44s %14.2f %14.2f %7.2fx\n", "H2CData 128 KiB received, GB/s (peer: memcpy)",
	       parse * n / 1e9, mcpy * n / 1e9, parse / mcpy);

	/* header-only parse of a CapsuleCmd with header digest */
	n = fx_build(&tx, INSITU_TCP_CMD, 0, pdu, sizeof(pdu));
	double hdr = RATE(secs, sink ^= (uint32_t)insitu_tcp_pdu_parse_header(&rx, pdu, (size_t)n, &v, &e));
	double hcpy = RATE(secs, (memcpy(copy, pdu, (size_t)n), sink ^= copy[i_]));
	printf("%-44s %14.1f %14.1f %7.2fx\n", "CapsuleCmd header parse, ns (peer: memcpy)",
	       1e9 / hdr, 1e9 / hcpy, hcpy / hdr);
	return 0;
}
