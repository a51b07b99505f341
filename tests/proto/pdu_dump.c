/* Prints PDUs built by the codec, one per line as "<config byte> <PDU hex>", for
 * check_digests.py to verify with its own CRC32C: every type, digests on and off, all four
 * alignments, and data PDUs of many lengths. */
#include <stdio.h>
#include <string.h>

#include "pdu_fixture.h"

static uint8_t buf[20000];

static void dump(uint8_t cfg, const uint8_t *p, ssize_t n)
{
	printf("%02x ", cfg);
	for (ssize_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	putchar('\n');
}

int main(void)
{
	static uint8_t data[8192];
	unsigned lines = 0;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)((i * 2654435761u) >> 13);
	for (unsigned cfg = 0; cfg < 0x40; cfg++) {
		struct insitu_tcp_conn tx;
		uint8_t types[9];

		if (!(cfg & FX_ESTABLISHED) && (cfg & (FX_HDGST | FX_DDGST)))
			continue;
		fx_peer(&tx, (uint8_t)cfg);
		unsigned nt = fx_types_from(tx.role, tx.state == INSITU_TCP_ESTABLISHED, types);
		for (unsigned t = 0; t < nt; t++) {
			for (unsigned v = 0; v < 3; v++) {
				ssize_t n = fx_build(&tx, types[t], v, buf, sizeof(buf));
				if (n <= 0)
					return 1;
				dump((uint8_t)cfg, buf, n);
				lines++;
			}
		}
		if (tx.state != INSITU_TCP_ESTABLISHED)
			continue;
		/* data PDUs and capsules of many lengths */
		for (uint32_t len = 4; len <= 8192; len = len * 3 + 4) {
			struct insitu_tcp_data_desc d = { .cccid = (uint16_t)len, .ttag = 1,
							  .datao = len, .datal = len, .data = data,
							  .last = true };
			ssize_t n = tx.role == INSITU_TCP_HOST
					    ? insitu_tcp_build_h2c_data(&tx, buf, sizeof(buf), &d)
					    : insitu_tcp_build_c2h_data(&tx, buf, sizeof(buf), &d);
			if (n <= 0)
				return 1;
			dump((uint8_t)cfg, buf, n);
			lines++;
			if (tx.role == INSITU_TCP_HOST) {
				struct insitu_nvme_sqe sqe;

				insitu_sqe_init(&sqe, 0x01, (uint16_t)len, 1);
				insitu_sqe_set_sgl_incapsule(&sqe, len);
				n = insitu_tcp_build_cmd(&tx, buf, sizeof(buf), &sqe, data + 1, len);
				if (n <= 0)
					return 1;
				dump((uint8_t)cfg, buf, n);
				lines++;
			}
		}
	}
	fprintf(stderr, "pdu_dump: %u PDUs\n", lines);
	return 0;
}
