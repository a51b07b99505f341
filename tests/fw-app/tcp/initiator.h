/* A small NVMe/TCP test initiator over blocking sockets, built on proto/'s builders and
 * parsers: IC exchange, Fabrics Connect and properties, and commands with in-capsule data,
 * R2T/H2CData and C2HData. Test code: it checks what the daemon sends, exactly. */
#ifndef INSITU_TESTS_FW_TCP_INITIATOR_H
#define INSITU_TESTS_FW_TCP_INITIATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "insitu/proto/cqe.h"
#include "insitu/proto/pdu.h"
#include "insitu/proto/sqe.h"

#define TI_SUBNQN  "nqn.2026-11.dev.insitu:csd"
#define TI_DISCNQN "nqn.2014-08.org.nvmexpress.discovery"
#define TI_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:5a1c0de0-0000-4000-8000-000000000001"

struct ti {
	int fd;
	struct insitu_tcp_conn codec;
	struct insitu_tcp_icresp icresp;
	uint16_t cid;
	uint16_t cntlid;
	uint16_t qid;
	uint32_t icd_limit;     /* in-capsule data this side puts in a capsule */
	uint8_t *rx;            /* last PDU received */
	size_t rx_len;
	char err[256];
};

/* Connect a TCP socket to 127.0.0.1:port (30 s receive timeout); -errno on failure. */
int ti_socket(uint16_t port);
/* Socket + ICReq/ICResp; dgst: INSITU_TCP_DGST_* bits requested. */
int ti_open(struct ti *t, uint16_t port, uint8_t dgst);
void ti_close(struct ti *t);

int ti_send_all(int fd, const void *buf, size_t len);
/* Read exactly len bytes; -EPIPE on EOF, -ETIMEDOUT, -errno. */
int ti_recv_all(int fd, void *buf, size_t len);
/* Read one whole PDU (parsed as the host) into t->rx; returns the parse result. */
int ti_recv_pdu(struct ti *t, struct insitu_tcp_pdu *pdu, struct insitu_tcp_error *e);
/* true when the peer closed: read returns 0 (within the socket timeout). */
bool ti_eof(int fd);

/* A command: wdata (H2C) goes in-capsule when wlen <= t->icd_limit (force_r2t: never),
 * else through R2T/H2CData; rdata (C2H) receives C2HData. Returns 0 with *cqe filled, or
 * a negative errno with t->err saying what went wrong on the wire. */
int ti_cmd(struct ti *t, struct insitu_nvme_sqe *sqe, const void *wdata, uint32_t wlen,
	   void *rdata, uint32_t rlen, bool force_r2t, struct insitu_nvme_cqe *cqe);
/* Status of a command, or -1 on a transport failure. */
int ti_status(struct ti *t, struct insitu_nvme_sqe *sqe, const void *wdata, uint32_t wlen,
	      void *rdata, uint32_t rlen, struct insitu_nvme_cqe *cqe);

/* Fabrics Connect: qid 0 makes a controller (cntlid FFFFh), else joins t->cntlid. */
int ti_connect(struct ti *t, uint16_t qid, uint16_t sqsize, const char *subnqn, uint16_t cntlid,
	       uint32_t kato_ms);
int ti_prop_get(struct ti *t, uint32_t off, bool size8, uint64_t *val);
int ti_prop_set(struct ti *t, uint32_t off, uint32_t val);
/* Admin connect + CC.EN + wait CSTS.RDY. */
int ti_admin_up(struct ti *t, uint16_t port, uint8_t dgst, const char *subnqn);
/* I/O queue qid of the controller of admin. */
int ti_io_up(struct ti *t, const struct ti *admin, uint16_t port, uint8_t dgst, uint16_t qid,
	     uint16_t sqsize);
int ti_identify(struct ti *t, uint8_t cns, uint32_t nsid, void *buf4k);
int ti_write(struct ti *t, uint64_t lba, uint32_t nlb, const void *buf, uint32_t len, bool force_r2t);
int ti_read(struct ti *t, uint64_t lba, uint32_t nlb, void *buf, uint32_t len);
int ti_flush(struct ti *t);

#endif
