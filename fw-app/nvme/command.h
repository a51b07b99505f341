/* The transport-free NVMe command layer of insitu-fw: the subsystem (namespaces, controllers,
 * discovery), its queues, and the two-stage life of a command. A transport (NVMe/TCP today, a
 * PCIe front end on silicon) hands it 64-byte commands and data buffers; nothing here knows
 * about sockets or PDUs. DESIGN.md §3 is the contract this header states. */
#ifndef INSITU_FW_NVME_COMMAND_H
#define INSITU_FW_NVME_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "insitu/proto/cqe.h"
#include "insitu/proto/sqe.h"

struct fw_subsys;
struct fw_queue;
struct fw_config;

/* Per-connection limits the transport has fixed before the first command (DESIGN.md §3.1). */
struct fw_queue_limits {
	uint32_t max_icd;        /* in-capsule data the transport accepts on this queue (bytes) */
	char     local_addr[64]; /* address the host reached us at (numeric), for the
	                            discovery log when listening on a wildcard address */
	uint16_t local_port;     /* port the host reached us at */
};

/* What the command layer may ask of the transport that owns a queue. */
struct fw_queue_ops {
	/* Tear the connection down (keep-alive timeout, controller deleted or reset, a fatal
	 * protocol state). The transport closes the socket, then calls fw_queue_abort() and,
	 * once every command it handed over has come back through done(), fw_queue_destroy().
	 * May be called from inside fw_cmd_execute() or fw_subsys_tick(). */
	void (*close)(void *transport_ctx, const char *reason);
};

/*
 * One command, owned by the transport for its whole life.
 *   1. The transport fills sqe and buf_len (the SGL's data length; 0 when none) and calls
 *      fw_cmd_prepare(). A non-zero return is the NVMe status: cqe is filled, no data moves,
 *      the transport sends cqe and is done with the command.
 *   2. Otherwise prepare() set dir and data_len (bytes the command will move, <= buf_len).
 *      The transport provides buf (data_len bytes; for FW_DIR_H2C already holding the host's
 *      data, in-capsule or gathered through R2T/H2CData) and calls fw_cmd_execute().
 *   3. The command layer calls done(cmd) exactly once, inline or later (flash I/O, an Async
 *      Event Request held for minutes). cqe is complete (cid, sqid, sqhd, status, result);
 *      for FW_DIR_C2H the first xfer_len bytes of buf go to the host before the response.
 */
enum fw_dir {
	FW_DIR_NONE = 0,
	FW_DIR_H2C  = 1, /* host to controller: Write, Connect, Set Features with data, ... */
	FW_DIR_C2H  = 2, /* controller to host: Read, Identify, Get Log Page, ... */
};

struct fw_cmd {
	struct insitu_nvme_sqe sqe;      /* in: the command as received */
	uint32_t buf_len;                /* in: data length the SGL describes */
	enum fw_dir dir;                 /* out of prepare() */
	uint32_t data_len;               /* out of prepare(): bytes to move, <= buf_len */
	uint8_t *buf;                    /* in to execute(): data_len bytes, 4 KiB aligned */
	uint32_t xfer_len;               /* out of execute(), C2H: bytes of buf to send */
	struct insitu_nvme_cqe cqe;      /* out: the completion */
	void (*done)(struct fw_cmd *cmd);/* in: the transport's completion callback */
	void *transport_priv;            /* the transport's, untouched here */
	/* private to the command layer */
	struct fw_queue *queue;
	struct fw_cmd *next;             /* held AERs, deferred I/O */
	uint64_t priv[4];
};

/* ---- subsystem ------------------------------------------------------------------------ */

/* Opens (formatting when asked or when the flash is empty) the flash as NSID 1, dedup or
 * raw as configured, and builds the NVM and discovery subsystems. err gets a message naming
 * the object on failure. */
int fw_subsys_create(const struct fw_config *cfg, struct fw_subsys **out, char *err,
		     size_t errlen);
/* Every queue must be destroyed first. Waits for the flash, closes the volume cleanly. */
int fw_subsys_destroy(struct fw_subsys *s, char *err, size_t errlen);

/* The fd the reactor watches (readable: flash completions are due), and the call that runs
 * them; completions call done() of the commands they finish. */
int fw_subsys_event_fd(const struct fw_subsys *s);
void fw_subsys_poll(struct fw_subsys *s);
/* Called by the reactor at least once a second: keep-alive timeouts, shutdown progress. */
void fw_subsys_tick(struct fw_subsys *s, uint64_t now_ms);
/* The current time, given whenever the transport's loop wakes, so that a command's
 * keep-alive stamp is exact rather than as old as the last tick (fw_subsys_tick also sets
 * it). Time never goes back: an earlier value is ignored. */
void fw_subsys_clock(struct fw_subsys *s, uint64_t now_ms);
/* Flash requests in flight (the reactor drains them on SIGTERM before destroy). */
unsigned fw_subsys_inflight(const struct fw_subsys *s);
/* The NVM port actually bound, when the configuration asked for any free port (port 0): the
 * Discovery log page must name it. */
void fw_subsys_set_port(struct fw_subsys *s, uint16_t port);

/* ---- queues --------------------------------------------------------------------------- */

/* A new connection: a queue with no controller until its Fabrics Connect. peer names the
 * host in logs ("192.0.2.1:51234"). discovery: the connection came in on the discovery port
 * (only the discovery NQN may be connected there). */
struct fw_queue *fw_queue_create(struct fw_subsys *s, const struct fw_queue_limits *lim,
				 const struct fw_queue_ops *ops, void *transport_ctx,
				 const char *peer, bool discovery);
/* The connection is gone: complete held commands (AERs) with Command Aborted due to SQ
 * Deletion through done(); commands already executing still come back through done(). */
void fw_queue_abort(struct fw_queue *q);
/* Frees the queue; no command of it may be between execute() and done(). */
void fw_queue_destroy(struct fw_queue *q);
/* After Connect: the queue id, and the SQ size (entries) the host asked for; the transport
 * refuses more commands outstanding than that. 0 before Connect. */
uint16_t fw_queue_qid(const struct fw_queue *q);
uint32_t fw_queue_depth(const struct fw_queue *q);

/* ---- commands ------------------------------------------------------------------------- */

uint16_t fw_cmd_prepare(struct fw_queue *q, struct fw_cmd *cmd);
void fw_cmd_execute(struct fw_queue *q, struct fw_cmd *cmd);

#endif
