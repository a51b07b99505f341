/* Private helpers of the NVMe/TCP codec, shared by the connection, parser, builder and
 * transfer files: fixed header lengths, alignment arithmetic, error constructors. */
#ifndef INSITU_PROTO_PDU_INTERNAL_H
#define INSITU_PROTO_PDU_INTERNAL_H

#include <stdint.h>

#include "insitu/proto/pdu.h"

#define TCP_DIGEST INSITU_TCP_DIGEST_LEN

/* No data limit may exceed this, so that header + pad + data + digest fits PLEN's 32 bits. */
#define TCP_DATA_MAX (UINT32_MAX - 512u)

/* Bytes of the data alignment a 0's based PDA value (HPDA/CPDA) asks for. */
static inline uint32_t tcp_pda_bytes(uint8_t pda)
{
	return ((uint32_t)pda + 1u) * 4u;
}

/* @n rounded up to the alignment of @pda. */
static inline uint64_t tcp_align_up(uint64_t n, uint8_t pda)
{
	uint64_t a = tcp_pda_bytes(pda);

	return (n + a - 1) / a * a;
}

/* Whether @type travels host to controller. */
static inline int tcp_type_is_h2c(uint8_t type)
{
	return (type & 1) == 0;
}

/* Fixed HLEN of a defined PDU type, 0 for an undefined type. */
uint8_t tcp_type_hlen(uint8_t type);

/* Records -EINVAL with a message; returns -EINVAL. */
int tcp_fail_inval(struct insitu_tcp_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Records a fatal transport error; returns -EPROTO. */
int tcp_fail_fatal(struct insitu_tcp_error *err, uint16_t fes, uint32_t fei, uint32_t echo_len,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
