/* libinsitu's private interfaces: the request every backend executes, one NVMe/TCP queue
 * (tcp_queue.c), the NVMe/TCP controller (tcp_ctrl.c), the kernel backend (kernel.c) and
 * the thread-local error report (error.c). DESIGN.md describes the flows. */
#ifndef INSITU_HOSTLIB_INTERNAL_H
#define INSITU_HOSTLIB_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "insitu/insitu.h"
#include "insitu/proto/pdu.h"
#include "insitu/proto/sqe.h"

#define INS_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ---- errors (error.c) ---------------------------------------------------------------- */

/* Stores a message for insitu_errmsg() and returns @rc (negative errno). */
int ins_fail(int rc, const char *fmt, ...) INS_PRINTF(2, 3);
/* The same, for a command that completed with NVMe status @status (-EREMOTEIO). */
int ins_fail_status(uint16_t status, const char *fmt, ...) INS_PRINTF(2, 3);
void ins_clear_error(void);

/* ---- one command --------------------------------------------------------------------- */

/*
 * A command as every backend executes it: the SQE (CID filled by the TCP queue), the data
 * buffer and its direction (from opcode bits 1:0), and on completion the result.
 */
struct ins_req {
	struct insitu_nvme_sqe sqe;
	void    *buf;
	uint32_t len;
	uint8_t  dir;                 /* INSITU_DIR_* */
	bool     async;               /* completion goes to the queue's done list */
	/* results */
	bool     done;
	int      result;              /* 0, -EREMOTEIO or a transport errno */
	uint16_t status;              /* NVMe status */
	uint32_t dw0, dw1;
	/* NVMe/TCP state while outstanding (owned by the queue's receiver) */
	uint16_t cid;
	bool     incapsule;
	uint16_t forced_status;       /* a data digest error seen on its data */
	struct insitu_tcp_xfer c2h;   /* C2HData window */
	uint32_t r2t_next;            /* where the next R2T must start */
	struct ins_req *next;         /* done list */
	void    *owner;               /* struct insitu_io of an asynchronous request */
};

/* Fills @r for opcode @opc on @nsid with @len bytes at @buf (direction from the opcode). */
void ins_req_init(struct ins_req *r, uint8_t opc, uint32_t nsid, void *buf, uint32_t len);

/* ---- one NVMe/TCP queue (tcp_queue.c) ------------------------------------------------ */

struct tq {
	int      fd;
	struct insitu_tcp_conn conn;
	char     name[320];            /* "DEVICE queue N" for messages */
	uint16_t qid;
	unsigned depth;                /* commands in flight at most */
	uint32_t max_icd;              /* largest in-capsule data */
	uint32_t timeout_ms;

	pthread_mutex_t lock;          /* slots, free list, done list, roles, failure */
	pthread_cond_t  cond;
	pthread_mutex_t send_lock;     /* one PDU sequence at a time on the socket */
	struct ins_req **slot;         /* by CID */
	uint16_t *free_cid;
	unsigned nfree;
	bool     receiving;            /* a thread holds the receiver role */
	int      dead;                 /* 0, or the errno the queue failed with */
	char     dead_msg[384];
	struct ins_req *done_head, *done_tail;
	unsigned ndone;

	/* receiver-only state */
	uint8_t *rx;
	size_t   rx_start, rx_end, rx_cap;
	uint8_t *tx;                   /* H2CData headers built by the receiver */
};

/* Takes ownership of the connected socket @fd; sets up the slots. */
int tq_init(struct tq *q, int fd, const char *name, uint16_t qid, unsigned depth,
	    uint32_t timeout_ms);
/* ICReq/ICResp: asks for @digest (INSITU_TCP_DGST_*), C2HData up to @max_c2h per PDU. */
int tq_handshake(struct tq *q, uint8_t digest, uint32_t max_c2h);
/* Sends @r (waits for a free CID) and waits for its completion. Returns r->result. */
int tq_exec(struct tq *q, struct ins_req *r);
/* Sends @r; -EAGAIN when no CID is free. Completion goes to the done list (r->async). */
int tq_submit_nowait(struct tq *q, struct ins_req *r);
/* Sends @r, waiting for a free CID (receiving meanwhile if nobody else does). */
int tq_submit(struct tq *q, struct ins_req *r);
/* Waits until @r completed. Returns r->result. */
int tq_wait(struct tq *q, struct ins_req *r);
/* Async: waits until @min requests sit in the done list (or nothing is outstanding), then
 * moves up to @max of them to @out. Returns the count. */
unsigned tq_reap(struct tq *q, struct ins_req **out, unsigned max, unsigned min);
/* Requests outstanding (submitted, not completed). */
unsigned tq_outstanding(struct tq *q);
/* Marks the queue failed with @err; outstanding commands complete with it. */
void tq_fail(struct tq *q, int err, const char *fmt, ...) INS_PRINTF(3, 4);
void tq_destroy(struct tq *q);

/* Receives and handles exactly one PDU; the caller holds the receiver role. Returns 0 or a
 * negative errno with q->dead_msg describing it (exposed for the fuzz target). */
int tq_recv_one(struct tq *q);

/* ---- NVMe/TCP controller (tcp_ctrl.c) ------------------------------------------------ */

struct tcp_ctrl;

int tcp_ctrl_open(const char *name, const struct insitu_uri *u, const struct insitu_open_opts *o,
		  struct tcp_ctrl **out);
int tcp_ctrl_close(struct tcp_ctrl *c);
int tcp_ctrl_admin(struct tcp_ctrl *c, struct ins_req *r);
/* The shared I/O queue of the calling thread. */
struct tq *tcp_ctrl_io_queue(struct tcp_ctrl *c);
/* A new I/O queue for an ioq; tcp_ctrl_put_queue() closes it. */
int tcp_ctrl_new_queue(struct tcp_ctrl *c, unsigned depth, struct tq **out);
void tcp_ctrl_put_queue(struct tcp_ctrl *c, struct tq *q);
uint32_t tcp_ctrl_max_transfer(const struct tcp_ctrl *c);
uint16_t tcp_ctrl_cntlid(const struct tcp_ctrl *c);
const char *tcp_ctrl_hostnqn(const struct tcp_ctrl *c);

/* ---- host identity (hostnqn.c) ------------------------------------------------------- */

/* The host NQN and 16-byte host identifier to connect with (DESIGN.md §2.1). */
int ins_host_identity(const char *given, char nqn[INSITU_NQN_MAX + 1], uint8_t hostid[16]);

/* ---- kernel backend (kernel.c) ------------------------------------------------------- */

struct kdev;

int kdev_open(const char *path, struct kdev **out);
void kdev_close(struct kdev *k);
int kdev_exec(struct kdev *k, struct ins_req *r, bool admin);
uint32_t kdev_max_transfer(const struct kdev *k);

#endif
