/* libinsitu: drive an insitu computational storage device from the host, over a userspace
 * NVMe/TCP initiator (nvme+tcp://HOST[:PORT]/NQN) or the kernel NVMe driver (/dev/nvmeX).
 * Every call returns 0 (or a count) or a negative errno; insitu_errmsg() says what failed. */
#ifndef INSITU_INSITU_H
#define INSITU_INSITU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define INSITU_DEFAULT_NQN  "nqn.2026-11.dev.insitu:csd"
#define INSITU_DEFAULT_PORT 4420
#define INSITU_NQN_MAX      223	/* NVMe NQN length limit, without the NUL */

/* ---- errors -------------------------------------------------------------------------- */

/**
 * insitu_errmsg() - message of the calling thread's last failed call: names the device,
 * the command and the NVMe status or transport error ("" when none)
 */
const char *insitu_errmsg(void);

/**
 * insitu_last_status() - NVMe status of the calling thread's last call that failed with
 * -EREMOTEIO (SC bits 7:0, SCT 10:8, DNR 14, as libnvme encodes it); 0 otherwise
 */
uint16_t insitu_last_status(void);

/** insitu_strerror() - text for a return code of this library (strerror of -@rc) */
const char *insitu_strerror(int rc);

/* ---- device names -------------------------------------------------------------------- */

/**
 * struct insitu_uri - a parsed nvme+tcp:// URI
 * @host: host name or address (IPv6 without its brackets)
 * @port: TCP port (4420 when absent)
 * @nqn:  subsystem NQN, percent-decoded (INSITU_DEFAULT_NQN when absent)
 */
struct insitu_uri {
	char     host[256];
	uint16_t port;
	char     nqn[INSITU_NQN_MAX + 1];
};

/**
 * insitu_uri_parse() - parse nvme+tcp://HOST[:PORT][/NQN]
 * @s:      the URI
 * @u:      filled on success
 * @err:    on failure, a message naming the part at fault (may be NULL)
 * @errlen: size of @err
 * Return: 0 or -EINVAL.
 */
int insitu_uri_parse(const char *s, struct insitu_uri *u, char *err, size_t errlen);

/**
 * insitu_parse_size() - "4096", "4K", "128KiB", "1M", "2G", "1T" (binary units)
 * Return: 0 or -EINVAL (not a size, or above UINT64_MAX).
 */
int insitu_parse_size(const char *s, uint64_t *out);

/* ---- opening a device ---------------------------------------------------------------- */

struct insitu_dev;

/**
 * struct insitu_open_opts - how to open a device (NVMe/TCP; the kernel backend ignores it)
 * @hostnqn:     host NQN; NULL: /etc/nvme/hostnqn, else one derived from /etc/machine-id
 * @kato_ms:     Keep Alive Timeout asked of the controller (0: no keep-alive)
 * @timeout_ms:  longest wait for any answer of the device before the queue fails
 * @io_queues:   I/O queues shared by the synchronous calls
 * @queue_depth: commands in flight per I/O queue (bounded by the controller's MQES)
 * @hdgst:       ask for header digests
 * @ddgst:       ask for data digests
 */
struct insitu_open_opts {
	const char *hostnqn;
	uint32_t    kato_ms;
	uint32_t    timeout_ms;
	unsigned    io_queues;
	unsigned    queue_depth;
	bool        hdgst;
	bool        ddgst;
};

/** insitu_open_opts_init() - defaults: KATO 10 s, timeout 30 s, 2 I/O queues, depth 128 */
void insitu_open_opts_init(struct insitu_open_opts *o);

/**
 * insitu_open() - open @name: an nvme+tcp:// URI, /dev/nvmeX or /dev/nvmeXnY
 * @opts: NULL for the defaults
 * Return: 0 and *@out, or a negative errno (ECONNREFUSED, ETIMEDOUT, EPROTO, ENOENT, ...).
 */
int insitu_open(const char *name, const struct insitu_open_opts *opts, struct insitu_dev **out);

/**
 * insitu_close() - shut the controller down cleanly (NVMe/TCP: CC.SHN, wait for SHST,
 * disconnect) and free the handle. No call may be in progress on it.
 * Return: 0, or a negative errno when the shutdown was not acknowledged (the handle is
 * freed anyway).
 */
int insitu_close(struct insitu_dev *d);

/** insitu_dev_name() - the name the handle was opened with */
const char *insitu_dev_name(const struct insitu_dev *d);

/** insitu_is_tcp() - whether the handle uses the NVMe/TCP initiator */
bool insitu_is_tcp(const struct insitu_dev *d);

/** insitu_max_transfer() - largest data transfer of one command, in bytes (from MDTS) */
uint32_t insitu_max_transfer(const struct insitu_dev *d);

/** insitu_cntlid() - controller ID the device assigned (NVMe/TCP), or from Identify */
uint16_t insitu_cntlid(const struct insitu_dev *d);

/** insitu_hostnqn() - the host NQN used to connect ("" for the kernel backend) */
const char *insitu_hostnqn(const struct insitu_dev *d);

/* ---- admin commands ------------------------------------------------------------------ */

/** insitu_identify_ctrl() - Identify Controller: 4096 bytes (libnvme's struct nvme_id_ctrl) */
int insitu_identify_ctrl(struct insitu_dev *d, void *buf4096);

/** insitu_identify_ns() - Identify Namespace @nsid: 4096 bytes (struct nvme_id_ns) */
int insitu_identify_ns(struct insitu_dev *d, uint32_t nsid, void *buf4096);

/**
 * insitu_ns_geometry() - block size and size in blocks of namespace @nsid (cached after
 * the first call)
 */
int insitu_ns_geometry(struct insitu_dev *d, uint32_t nsid, uint32_t *block_size,
		       uint64_t *nblocks);

/**
 * insitu_get_log() - Get Log Page @lid for @nsid (0xffffffff: controller-wide), @len bytes
 * from byte @offset (a dword multiple), split at the largest transfer
 */
int insitu_get_log(struct insitu_dev *d, uint8_t lid, uint32_t nsid, uint64_t offset, void *buf,
		   uint32_t len);

/**
 * insitu_get_features() - Get Features @fid (SEL 0: current) with CDW11 @cdw11
 * @result: CQE DW0
 * @buf:    data the feature returns, or NULL with @len 0
 */
int insitu_get_features(struct insitu_dev *d, uint8_t fid, uint32_t nsid, uint32_t cdw11,
			uint32_t *result, void *buf, uint32_t len);

/** insitu_set_features() - Set Features @fid with CDW11 @cdw11 (and optional data) */
int insitu_set_features(struct insitu_dev *d, uint8_t fid, uint32_t nsid, uint32_t cdw11,
			uint32_t *result, const void *buf, uint32_t len);

/* ---- NVM I/O (lengths in bytes, multiples of the namespace's block size) ------------ */

#define INSITU_IO_FUA 0x1	/* Write: durable when it completes (Force Unit Access) */

/** insitu_read() - read @len bytes from block @lba of @nsid; split at the largest transfer */
int insitu_read(struct insitu_dev *d, uint32_t nsid, uint64_t lba, void *buf, size_t len);

/** insitu_write() - write @len bytes at block @lba of @nsid; @flags INSITU_IO_FUA */
int insitu_write(struct insitu_dev *d, uint32_t nsid, uint64_t lba, const void *buf, size_t len,
		 unsigned flags);

/** insitu_flush() - Flush: everything written to @nsid so far is durable */
int insitu_flush(struct insitu_dev *d, uint32_t nsid);

/** insitu_write_zeroes() - @nblocks blocks from @lba read back as zeros */
int insitu_write_zeroes(struct insitu_dev *d, uint32_t nsid, uint64_t lba, uint64_t nblocks);

/** insitu_deallocate() - Dataset Management, Deallocate @nblocks blocks from @lba */
int insitu_deallocate(struct insitu_dev *d, uint32_t nsid, uint64_t lba, uint64_t nblocks);

/* ---- asynchronous I/O ---------------------------------------------------------------- */

/**
 * enum insitu_io_op - what one asynchronous request does
 */
enum insitu_io_op {
	INSITU_OP_READ = 1,
	INSITU_OP_WRITE,
	INSITU_OP_FLUSH,
	INSITU_OP_WRITE_ZEROES,
};

/**
 * struct insitu_io - one asynchronous request; owned by the caller until reaped
 * @op:     operation
 * @nsid:   namespace
 * @lba:    first block
 * @buf:    data (READ/WRITE)
 * @len:    bytes: a block multiple, at most insitu_max_transfer() (WRITE_ZEROES: the
 *          bytes to zero, no buffer)
 * @flags:  INSITU_IO_FUA
 * @user:   the caller's
 * @result: out: 0, -EREMOTEIO (see @status) or a transport error
 * @status: out: NVMe status when @result is -EREMOTEIO
 * @priv:   the library's
 */
struct insitu_io {
	enum insitu_io_op op;
	uint32_t nsid;
	uint64_t lba;
	void    *buf;
	size_t   len;
	unsigned flags;
	void    *user;
	int      result;
	uint16_t status;
	uint64_t priv[4];
};

struct insitu_ioq;

/**
 * insitu_ioq_open() - an I/O queue of the caller's own, @depth commands deep (NVMe/TCP: a
 * new connection and QID). Used by one thread at a time.
 * Return: 0, -EBUSY when the controller granted no further queue, or a transport error.
 */
int insitu_ioq_open(struct insitu_dev *d, unsigned depth, struct insitu_ioq **out);

/**
 * insitu_ioq_submit() - send @io; returns at once
 * Return: 0, -EAGAIN when @depth requests are outstanding (reap first), -EINVAL for a
 * request that breaks the rules above, or the queue's error.
 */
int insitu_ioq_submit(struct insitu_ioq *q, struct insitu_io *io);

/**
 * insitu_ioq_reap() - wait until at least @min requests completed (fewer if fewer are
 * outstanding); store up to @max of them in @done
 * Return: number stored, or a negative errno when the queue failed (outstanding requests
 * are then returned with their @result set, by later calls).
 */
int insitu_ioq_reap(struct insitu_ioq *q, struct insitu_io **done, unsigned max, unsigned min);

/** insitu_ioq_inflight() - requests submitted and not yet reaped */
unsigned insitu_ioq_inflight(const struct insitu_ioq *q);

/** insitu_ioq_close() - reap what is outstanding, then close the queue */
void insitu_ioq_close(struct insitu_ioq *q);

/* ---- telemetry (vendor log C1h) ------------------------------------------------------ */

#define INSITU_LOG_TELEMETRY 0xC1

/**
 * struct insitu_telemetry - log C1h header in host order (field meanings: proto/DESIGN.md)
 */
struct insitu_telemetry {
	uint16_t ver;
	uint16_t nprog;
	uint64_t timestamp_ms;
	uint64_t uptime_ms;
	uint16_t ncpu;
	uint16_t cpu_busy;	/* 0.01 % */
	uint32_t load1;		/* x 100 */
	uint64_t cpu_time_ms;
	uint64_t mem_total, mem_avail, mem_jobs;
	uint32_t jobs_running, jobs_queued;
	uint64_t jobs_done, jobs_failed;
	uint64_t host_read_bytes, host_write_bytes;
	uint64_t flash_read_bytes, flash_write_bytes;
	uint64_t read_bps, write_bps;
	uint64_t cap_bytes, phys_used, logical_used;
	uint64_t unique_blocks, dedup_hits, zero_blocks;
	uint32_t dedup_ratio;	/* logical / physical x 1000 */
};

/**
 * insitu_telemetry_decode() - validate and decode a log C1h image of @len bytes
 * Return: 0, or -EBADMSG (with insitu_errmsg()) when the header is inconsistent.
 */
int insitu_telemetry_decode(const void *buf, size_t len, struct insitu_telemetry *t);

/** insitu_telemetry_read() - read log C1h from the device and decode its header */
int insitu_telemetry_read(struct insitu_dev *d, struct insitu_telemetry *t);

#ifdef __cplusplus
}
#endif

#endif
