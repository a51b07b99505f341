/* Sequencing of the data PDUs of one transfer window (an R2T's window for H2CData, a
 * command's buffer for C2HData): offsets must be contiguous, stay in the window, and stop
 * at LAST_PDU. Shared so the daemon and the host library map faults to the same FES. */
#include "insitu/proto/pdu.h"

#include <endian.h>
#include <errno.h>

#include "pdu_internal.h"

void insitu_tcp_xfer_init(struct insitu_tcp_xfer *x, uint32_t offset, uint32_t length, bool exact)
{
	x->next = offset;
	x->end = (uint64_t)offset + length;
	x->exact = exact;
	x->done = false;
}

int insitu_tcp_xfer_accept(struct insitu_tcp_xfer *x, const struct insitu_tcp_pdu *pdu,
			   struct insitu_tcp_error *err)
{
	if (!x || !pdu || (pdu->type != INSITU_TCP_H2C_DATA && pdu->type != INSITU_TCP_C2H_DATA))
		return tcp_fail_inval(err, "transfer: not a data PDU");

	const char *name = insitu_tcp_pdu_type_name(pdu->type);
	uint64_t datao = le32toh(pdu->hdr.data.datao);
	uint64_t datal = le32toh(pdu->hdr.data.datal);
	bool last = (pdu->flags & INSITU_TCP_F_LAST) != 0;

	if (x->done)
		return tcp_fail_fatal(err, INSITU_TCP_FES_PDU_SEQUENCE_ERROR, 0, pdu->hlen,
				      "%s after the transfer's LAST_PDU", name);
	if (datao != x->next)
		return tcp_fail_fatal(err, INSITU_TCP_FES_PDU_SEQUENCE_ERROR, 0, pdu->hlen,
				      "%s: DATAO %llu, the transfer continues at %llu", name,
				      (unsigned long long)datao, (unsigned long long)x->next);
	if (datao + datal > x->end)
		return tcp_fail_fatal(err, INSITU_TCP_FES_DATA_OUT_OF_RANGE, 0, pdu->hlen,
				      "%s: bytes %llu..%llu pass the window's end %llu", name,
				      (unsigned long long)datao, (unsigned long long)(datao + datal),
				      (unsigned long long)x->end);
	x->next += datal;
	if (x->exact && last != (x->next == x->end))
		return tcp_fail_fatal(err, INSITU_TCP_FES_PDU_SEQUENCE_ERROR, 0, pdu->hlen,
				      last ? "%s: LAST_PDU before the end of the R2T window"
					   : "%s: R2T window complete without LAST_PDU", name);
	if (last)
		x->done = true;
	return 0;
}
