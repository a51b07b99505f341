/* Facts about NVMe/TCP PDU types and fatal error codes: fixed header lengths and the names
 * used in error messages and logs. */
#include "insitu/proto/pdu.h"

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pdu_internal.h"

uint8_t tcp_type_hlen(uint8_t type)
{
	switch (type) {
	case INSITU_TCP_ICREQ:    return sizeof(struct insitu_tcp_icreq);
	case INSITU_TCP_ICRESP:   return sizeof(struct insitu_tcp_icresp);
	case INSITU_TCP_H2C_TERM:
	case INSITU_TCP_C2H_TERM: return sizeof(struct insitu_tcp_term);
	case INSITU_TCP_CMD:      return sizeof(struct insitu_tcp_cmd);
	case INSITU_TCP_RSP:      return sizeof(struct insitu_tcp_rsp);
	case INSITU_TCP_H2C_DATA:
	case INSITU_TCP_C2H_DATA: return sizeof(struct insitu_tcp_data);
	case INSITU_TCP_R2T:      return sizeof(struct insitu_tcp_r2t);
	default:                  return 0;
	}
}

const char *insitu_tcp_pdu_type_name(uint8_t type)
{
	switch (type) {
	case INSITU_TCP_ICREQ:    return "ICReq";
	case INSITU_TCP_ICRESP:   return "ICResp";
	case INSITU_TCP_H2C_TERM: return "H2CTermReq";
	case INSITU_TCP_C2H_TERM: return "C2HTermReq";
	case INSITU_TCP_CMD:      return "CapsuleCmd";
	case INSITU_TCP_RSP:      return "CapsuleResp";
	case INSITU_TCP_H2C_DATA: return "H2CData";
	case INSITU_TCP_C2H_DATA: return "C2HData";
	case INSITU_TCP_R2T:      return "R2T";
	default:                  return "unknown";
	}
}

const char *insitu_tcp_fes_name(uint16_t fes)
{
	switch (fes) {
	case INSITU_TCP_FES_INVALID_HEADER_FIELD: return "Invalid PDU Header Field";
	case INSITU_TCP_FES_PDU_SEQUENCE_ERROR:   return "PDU Sequence Error";
	case INSITU_TCP_FES_HEADER_DIGEST_ERROR:  return "Header Digest Error";
	case INSITU_TCP_FES_DATA_OUT_OF_RANGE:    return "Data Transfer Out of Range";
	case INSITU_TCP_FES_DATA_LIMIT_EXCEEDED:  return "Data Transfer Limit Exceeded / R2T Limit Exceeded";
	case INSITU_TCP_FES_UNSUPPORTED_PARAM:    return "Unsupported Parameter";
	default:                                  return "unknown";
	}
}

int tcp_fail_fatal(struct insitu_tcp_error *err, uint16_t fes, uint32_t fei, uint32_t echo_len,
		   const char *fmt, ...)
{
	if (err) {
		va_list ap;

		memset(err, 0, sizeof(*err));
		err->code = -EPROTO;
		err->fes = fes;
		err->fei = fei;
		err->send_term = true;
		err->echo_len = echo_len > INSITU_TCP_TERM_DATA_MAX ? INSITU_TCP_TERM_DATA_MAX : echo_len;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -EPROTO;
}

uint16_t insitu_tcp_pdu_cccid(const struct insitu_tcp_pdu *pdu)
{
	switch (pdu->type) {
	case INSITU_TCP_CMD:      return le16toh(pdu->hdr.cmd.sqe.cid);
	case INSITU_TCP_RSP:      return le16toh(pdu->hdr.rsp.cqe.cid);
	case INSITU_TCP_H2C_DATA:
	case INSITU_TCP_C2H_DATA: return le16toh(pdu->hdr.data.cccid);
	case INSITU_TCP_R2T:      return le16toh(pdu->hdr.r2t.cccid);
	default:                  return 0;
	}
}
