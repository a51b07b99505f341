/* Test fixtures for the NVMe/TCP codec: connections in any negotiated state, described by
 * one configuration byte (the same byte that opens every fuzz input), and one valid sample
 * PDU of each type. Shared by the unit tests, the fuzz target and the corpus generator. */
#ifndef INSITU_TESTS_PDU_FIXTURE_H
#define INSITU_TESTS_PDU_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "insitu/proto/pdu.h"

/* Configuration byte: which side receives, in which state, with which negotiated values. */
#define FX_HOST        0x01	/* the receiver is the host (else the controller) */
#define FX_ESTABLISHED 0x02	/* the IC exchange is done */
#define FX_HDGST       0x04
#define FX_DDGST       0x08
#define FX_PDA_SHIFT   4	/* 2 bits selecting HPDA = CPDA among 0, 3, 15, 31 */
#define FX_PDA_MASK    0x3
#define FX_UNALIGNED   0x40	/* allow_unaligned_data */
#define FX_SMALL       0x80	/* small limits: ICD 64, MAXH2CDATA 4096, C2HData 4096 */

/* Limits the fixtures use (FX_SMALL picks the second set). */
#define FX_MAX_ICD        8192u
#define FX_MAXH2CDATA     65536u
#define FX_MAX_C2H        65536u
#define FX_SMALL_MAX_ICD  64u
#define FX_SMALL_MAXDATA  4096u

/* fx_pda() - the PDA value a configuration byte selects */
uint8_t fx_pda(uint8_t cfg);

/*
 * fx_conn() - the receiving connection @cfg describes.
 * fx_peer() - the matching sending side (opposite role, same negotiated values), whose
 * builders produce PDUs the receiver accepts.
 */
void fx_conn(struct insitu_tcp_conn *c, uint8_t cfg);
void fx_peer(struct insitu_tcp_conn *c, uint8_t cfg);

/*
 * fx_build() - a valid sample PDU of @type built by @sender, @variant picking the sample
 * (0: no data where data is optional, small data otherwise; 1: with data; 2: larger data).
 * Returns its length or a negative errno (e.g. -EINVAL when @type is not one @sender sends).
 */
ssize_t fx_build(const struct insitu_tcp_conn *sender, uint8_t type, unsigned variant,
		 uint8_t *buf, size_t cap);

/* fx_types_from() - the PDU types a @role sends; returns how many were stored in @types. */
unsigned fx_types_from(enum insitu_tcp_role role, bool established, uint8_t types[9]);

/*
 * fx_same() - whether two parsed PDUs say the same thing (every defined field and the data;
 * reserved bytes, PAD and digests are not compared). Writes the first difference to @why.
 */
bool fx_same(const struct insitu_tcp_pdu *a, const struct insitu_tcp_pdu *b, char *why, size_t n);

/*
 * fx_rebuild() - build, with @sender, the PDU @pdu describes (it was parsed by the receiver
 * of the same configuration). Returns its length or a negative errno.
 */
ssize_t fx_rebuild(const struct insitu_tcp_conn *sender, const struct insitu_tcp_pdu *pdu,
		   uint8_t *buf, size_t cap);

#endif
