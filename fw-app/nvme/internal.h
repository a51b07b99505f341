/* What the files of the command layer share and nothing outside nvme/ sees: the subsystem,
 * controller and queue objects, the flash backend interface (dedup volume or raw 1:1), the
 * per-command state kept in fw_cmd.priv, and the handlers each file provides. */
#ifndef INSITU_FW_NVME_INTERNAL_H
#define INSITU_FW_NVME_INTERNAL_H

#include <nvme/types.h>
#include <stdbool.h>
#include <stdint.h>

#include "command.h"
#include "config.h"

#define FW_LBA_SHIFT       12u           /* NSID 1 has one LBA format: 4 KiB */
#define FW_LBA_SIZE        (1u << FW_LBA_SHIFT)
#define FW_NN              1u            /* namespaces: NSID 1 (NVM) */
#define FW_AERL            3u            /* Identify AERL: 0's based, 4 held requests */
#define FW_ERRLOG_ENTRIES  64u           /* Error Information log entries per controller */
#define FW_KAS_100MS       10u           /* keep-alive granularity: 1 s */
#define FW_CAP_TO_500MS    30u           /* CAP.TO: 15 s to become ready / shut down */
#define FW_MAX_CNTLID      0xFFEFu       /* FFF0h-FFFFh are reserved */
#define FW_NVME_VERSION    0x00010400u   /* NVMe 1.4 */
#define FW_FIRMWARE_REV    "0.1.0"
#define FW_DSM_MAX_RANGES  256u

/* ---- flash backend (flash.c: dedup volume; raw.c: 1:1 mapping) -------------------------- */

typedef void (*fw_flash_cb)(void *arg, int result);

struct fw_raw;
struct dedup_volume;

struct fw_flash {
	bool dedup;
	struct dedup_volume *vol;
	struct fw_raw *raw;
	uint64_t nblocks;       /* logical 4 KiB blocks of NSID 1 */
	uint32_t max_blocks;    /* largest single request */
};

int fw_flash_open(const struct fw_config *cfg, struct fw_flash *f, char *err, size_t errlen);
int fw_flash_close(struct fw_flash *f, char *err, size_t errlen);
int fw_flash_read(struct fw_flash *f, uint64_t lba, uint32_t n, void *buf, fw_flash_cb cb, void *arg);
int fw_flash_write(struct fw_flash *f, uint64_t lba, uint32_t n, const void *buf, bool fua,
		   fw_flash_cb cb, void *arg);
int fw_flash_write_zeroes(struct fw_flash *f, uint64_t lba, uint32_t n, bool fua, fw_flash_cb cb,
			  void *arg);
int fw_flash_trim(struct fw_flash *f, uint64_t lba, uint32_t n, fw_flash_cb cb, void *arg);
int fw_flash_flush(struct fw_flash *f, fw_flash_cb cb, void *arg);
int fw_flash_event_fd(const struct fw_flash *f);
void fw_flash_poll(struct fw_flash *f);
unsigned fw_flash_inflight(const struct fw_flash *f);
const char *fw_flash_errmsg(const struct fw_flash *f);

/* raw.c: the flash file or device mapped 1:1, its own io_uring with an eventfd. */
int fw_raw_open(const char *path, uint64_t create_bytes, uint64_t ns_bytes, uint32_t depth,
		struct fw_raw **out, uint64_t *nblocks, char *err, size_t errlen);
int fw_raw_close(struct fw_raw *r, char *err, size_t errlen);
enum fw_raw_op { FW_RAW_READ, FW_RAW_WRITE, FW_RAW_ZEROES, FW_RAW_TRIM, FW_RAW_FLUSH };
int fw_raw_submit(struct fw_raw *r, enum fw_raw_op op, uint64_t lba, uint32_t n, void *buf,
		  bool fua, fw_flash_cb cb, void *arg);
int fw_raw_event_fd(const struct fw_raw *r);
void fw_raw_poll(struct fw_raw *r);
unsigned fw_raw_inflight(const struct fw_raw *r);
void fw_raw_bytes(const struct fw_raw *r, uint64_t *read, uint64_t *written);

/* ---- objects ----------------------------------------------------------------------------- */

struct fw_ctrl {
	struct fw_subsys *s;
	uint16_t cntlid;
	bool     discovery;              /* a discovery controller (CNTRLTYPE 2) */
	char     hostnqn[NVME_NQN_LENGTH];
	uint8_t  hostid[16];
	unsigned refs;                   /* attached queues + pending shutdown flush */

	uint32_t cc;
	uint32_t csts;
	uint32_t kato_ms;                /* 0: no keep-alive timeout */
	uint64_t ka_last_ms;             /* tick time of the last command or keep alive */
	bool     failed;                 /* keep-alive expired or fatal: no more commands */
	bool     flush_wanted;           /* shutdown flush waits for room in the flash queue */

	uint16_t io_queues;              /* granted by Set Features Number of Queues */
	bool     io_queues_set;
	uint32_t aec;                    /* Asynchronous Event Configuration */

	struct fw_queue *admin;
	struct fw_queue **io;            /* [1..max_io_queues], NULL when not connected */

	struct fw_cmd *aer_head, *aer_tail;
	unsigned naer;

	struct nvme_error_log_page errlog[FW_ERRLOG_ENTRIES];
	uint64_t err_count;              /* Error Information log entries ever recorded */
};

struct fw_queue {
	struct fw_subsys *s;
	struct fw_ctrl *ctrl;            /* NULL until Connect succeeds */
	struct fw_queue_limits lim;
	struct fw_queue_ops ops;
	void *tctx;
	char peer[64];
	bool discovery_port;

	bool connected;
	uint16_t qid;
	uint32_t depth;                  /* SQSIZE + 1 */
	bool sqflow_disabled;
	uint32_t sqhd;
	unsigned executing;              /* commands between execute() and done() */
	bool closing;                    /* ops.close called */
	bool aborted;
};

struct fw_host_counters {
	uint64_t read_cmds, write_cmds;
	uint64_t read_bytes, write_bytes;
};

/* Figures of the last sampling interval (>= 1 s of fw_subsys_tick time) for log C1h. */
struct fw_rates {
	uint64_t t_ms;                   /* when the current interval began; 0: not yet */
	uint64_t read_bytes, write_bytes;/* host counters then */
	uint64_t cpu_total, cpu_idle;    /* /proc/stat jiffies then */
	uint64_t read_bps, write_bps;    /* host rates over the last complete interval */
	uint16_t cpu_busy;               /* 0.01 % units over the last complete interval */
};

struct fw_subsys {
	struct fw_config cfg;
	struct fw_flash flash;
	uint64_t start_ns;               /* CLOCK_MONOTONIC at create: power-on time */
	uint64_t start_realtime_ms;
	uint64_t now_ms;                 /* time of the last fw_subsys_tick() */
	uint8_t  nguid[16];              /* NSID 1 identifiers */
	uint8_t  uuid[16];

	struct fw_ctrl **ctrls;          /* max_controllers slots */
	uint16_t next_cntlid;
	unsigned nqueues;                /* queues not yet destroyed */

	struct fw_cmd *deferred_head, *deferred_tail; /* waiting for room in the flash queue */
	unsigned ndeferred;
	struct fw_cmd *reaped_head, *reaped_tail;     /* flash callbacks ran, continue in poll */

	struct fw_host_counters host;
	struct fw_rates rates;
};

/* ---- per-command state in fw_cmd.priv ------------------------------------------------------ */

struct fw_cmd_state {
	uint64_t lba;                    /* next block of a chunked operation */
	uint32_t left;                   /* blocks still to submit in this range */
	uint16_t range;                  /* DSM: current range */
	uint8_t  op;                     /* enum fw_nvm_op */
	uint8_t  flags;
	int32_t  result;                 /* flash callback result */
	uint32_t total_blocks;
};
_Static_assert(sizeof(struct fw_cmd_state) <= sizeof(((struct fw_cmd *)0)->priv),
	       "command state fits fw_cmd.priv");

static inline struct fw_cmd_state *fw_cmd_state(struct fw_cmd *cmd)
{
	return (struct fw_cmd_state *)(void *)cmd->priv;
}

/* ---- helpers shared by the files ----------------------------------------------------------- */

/* libnvme-encoded statuses with DNR, as every refusal here is final. */
static inline uint16_t fw_sc(uint8_t sc)
{
	return (uint16_t)(NVME_SC_DNR | sc);
}
static inline uint16_t fw_sc_cmd(uint8_t sc)
{
	return (uint16_t)(NVME_SC_DNR | (NVME_SCT_CMD_SPECIFIC << NVME_SCT_SHIFT) | sc);
}

/* queue.c: completes cmd (CQE, SQHD, error log) and calls done(). */
void fw_cmd_complete(struct fw_cmd *cmd, uint16_t status, uint32_t dw0, uint32_t dw1);
/* queue.c: the data the command moves: dir and data_len, or Data SGL Length Invalid when the
 * SGL describes less (or, exact, any other length). */
uint16_t fw_cmd_want(struct fw_cmd *cmd, enum fw_dir dir, uint32_t len, bool exact);
/* queue.c: asks the transport to close q (once). */
void fw_queue_close(struct fw_queue *q, const char *reason);

/* subsys.c: controllers */
struct fw_ctrl *fw_ctrl_alloc(struct fw_subsys *s, bool discovery);
struct fw_ctrl *fw_ctrl_find(struct fw_subsys *s, uint16_t cntlid);
void fw_ctrl_put(struct fw_ctrl *c);
/* Closes every queue of c through the transport (keep-alive expiry, reset, admin queue gone). */
void fw_ctrl_close_queues(struct fw_ctrl *c, bool include_admin, const char *reason);
bool fw_ctrl_ready(const struct fw_ctrl *c);
/* subsys.c: flash completions continue in fw_subsys_poll(), never inside the callback. */
void fw_subsys_defer(struct fw_subsys *s, struct fw_cmd *cmd);
void fw_flash_done_cb(void *arg, int result);

/* connect.c, property.c */
uint16_t fw_connect_prepare(struct fw_queue *q, struct fw_cmd *cmd);
void fw_connect_execute(struct fw_queue *q, struct fw_cmd *cmd);
/* property.c: submits a shutdown's flush that found the flash queue full. */
void fw_ctrl_shutdown_retry(struct fw_ctrl *c);
uint16_t fw_property_prepare(struct fw_queue *q, struct fw_cmd *cmd);
void fw_property_execute(struct fw_queue *q, struct fw_cmd *cmd);

/* admin.c */
uint16_t fw_admin_prepare(struct fw_queue *q, struct fw_cmd *cmd);
void fw_admin_execute(struct fw_queue *q, struct fw_cmd *cmd);
void fw_aer_abort_all(struct fw_ctrl *c, uint16_t status);

/* identify.c, logpage.c, features.c */
uint16_t fw_identify_prepare(struct fw_queue *q, struct fw_cmd *cmd);
void fw_identify_execute(struct fw_queue *q, struct fw_cmd *cmd);
uint16_t fw_logpage_prepare(struct fw_queue *q, struct fw_cmd *cmd);
void fw_logpage_execute(struct fw_queue *q, struct fw_cmd *cmd);
void fw_errlog_record(struct fw_ctrl *c, const struct fw_cmd *cmd, uint16_t status);
uint16_t fw_features_prepare(struct fw_queue *q, struct fw_cmd *cmd);
void fw_features_execute(struct fw_queue *q, struct fw_cmd *cmd);

/* discovery.c: the Discovery log page (header + one entry) as seen from q */
size_t fw_discovery_log_build(const struct fw_queue *q, uint8_t *out, size_t cap);

/* nvm.c */
uint16_t fw_nvm_prepare(struct fw_queue *q, struct fw_cmd *cmd);
void fw_nvm_execute(struct fw_queue *q, struct fw_cmd *cmd);
/* Continues a command after a flash completion, or (re)submits a deferred step. Returns
 * -EAGAIN when the flash queue is still full (the command stays deferred). */
int fw_nvm_resume(struct fw_cmd *cmd);
void fw_nvm_reaped(struct fw_cmd *cmd);

/* Space-padded copy into a fixed ASCII field (SN, MN, FR). */
void fw_ascii_pad(char *dst, size_t n, const char *src);

#endif
