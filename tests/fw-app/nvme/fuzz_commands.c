/* libFuzzer target over the command layer: an input is a sequence of records
 *   [queue u8][flags u8][SQE 64 bytes][data length u16 LE][data]
 * fed to a connected admin queue (0), an I/O queue (1), a discovery controller (2) or a fresh,
 * unconnected queue (3) of a small dedup volume; flags bit 7 turns the record into a keep-alive
 * clock tick (SQE bytes 0-3: milliseconds to advance). Invariants checked: prepare never asks
 * for more than the SGL describes, done() runs exactly once for every executed command and
 * never for a refused one, xfer_len <= data_len, every completion carries the command's CID,
 * and the subsystem drains to nothing in flight. */
#include <endian.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CMDS 256
#define MAX_BUF  (2u << 20)

struct fz_cmd {
	struct fw_cmd cmd;
	int dones;
	bool executed;
	uint8_t *buf;
};

static struct h_env g_env;
static bool g_ready;
static uint64_t g_now;

static void fz_die(const char *what)
{
	fprintf(stderr, "fuzz_commands: invariant broken: %s\n", what);
	abort();
}

static void on_done(struct fw_cmd *cmd)
{
	struct fz_cmd *c = (struct fz_cmd *)cmd;
	c->dones++;
	if (!c->executed)
		fz_die("done() for a command that was never executed");
	if (c->dones > 1)
		fz_die("done() twice");
	if (cmd->dir == FW_DIR_C2H && cmd->xfer_len > cmd->data_len)
		fz_die("xfer_len above data_len");
	if (cmd->cqe.cid != cmd->sqe.cid)
		fz_die("CQE CID differs from the SQE's");
}

/* The volume lives for the whole run; its temporary directory goes with the process. */
static void env_fini(void)
{
	if (g_ready)
		h_env_fini(&g_env);
	g_ready = false;
}

static void env_init(void)
{
	h_env_init(&g_env, true);
	g_env.cfg.flash_bytes = 16ull << 20;
	g_env.cfg.ns_bytes = 8ull << 20;
	if (h_env_start(&g_env) < 0)
		fz_die("cannot create the subsystem");
	g_ready = true;
	atexit(env_fini);
}

static void drain(void)
{
	for (int i = 0; fw_subsys_inflight(g_env.s) && i < 10000; i++) {
		struct pollfd pfd = { .fd = fw_subsys_event_fd(g_env.s), .events = POLLIN };
		poll(&pfd, 1, 1);
		fw_subsys_poll(g_env.s);
	}
	fw_subsys_poll(g_env.s);
	if (fw_subsys_inflight(g_env.s))
		fz_die("flash requests never completed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!g_ready)
		env_init();
	struct h_queue *admin, *io, *disc, *fresh;
	io = h_io_ready(&g_env, &admin);
	disc = h_queue_new(&g_env, true);
	if (h_connect_admin(disc, NVME_DISC_SUBSYS_NAME, H_HOSTNQN, 31, 0, NULL) ||
	    h_prop_set(disc, NVME_REG_CC, 1 | (6u << 16) | (4u << 20)))
		fz_die("discovery controller setup");
	fresh = h_queue_new(&g_env, false);
	struct h_queue *queues[4] = { admin, io, disc, fresh };

	static struct fz_cmd *cmds[MAX_CMDS];
	unsigned n = 0;
	size_t off = 0;
	while (off + 68 <= size && n < MAX_CMDS) {
		uint8_t sel = data[off] & 3, flags = data[off + 1];
		const uint8_t *sqe_bytes = data + off + 2;
		uint16_t dlen = (uint16_t)(data[off + 66] | (data[off + 67] << 8));
		off += 68;
		if (dlen > size - off)
			dlen = (uint16_t)(size - off);
		const uint8_t *payload = data + off;
		off += dlen;
		if (flags & 0x80) {
			uint32_t adv;
			memcpy(&adv, sqe_bytes, 4);
			g_now += le32toh(adv) % 120000;
			fw_subsys_tick(g_env.s, g_now);
			continue;
		}
		struct h_queue *hq = queues[sel];
		struct fz_cmd *c = calloc(1, sizeof(*c));
		cmds[n++] = c;
		memcpy(&c->cmd.sqe, sqe_bytes, 64);
		uint32_t sgl = insitu_sqe_data_len(&c->cmd.sqe);
		c->cmd.buf_len = sgl < MAX_BUF ? sgl : MAX_BUF;
		c->cmd.done = on_done;
		if (fw_cmd_prepare(hq->q, &c->cmd)) {
			if (c->cmd.cqe.cid != c->cmd.sqe.cid)
				fz_die("refused command's CQE has another CID");
			continue;
		}
		if (c->cmd.data_len > c->cmd.buf_len)
			fz_die("prepare asked for more data than the SGL describes");
		if (c->cmd.data_len && posix_memalign((void **)&c->buf, 4096,
						      (c->cmd.data_len + 4095) / 4096 * 4096))
			fz_die("out of memory");
		if (c->buf) {
			memset(c->buf, 0, c->cmd.data_len);
			if (c->cmd.dir == FW_DIR_H2C)
				memcpy(c->buf, payload, dlen < c->cmd.data_len ? dlen : c->cmd.data_len);
		}
		c->cmd.buf = c->buf;
		c->executed = true;
		fw_cmd_execute(hq->q, &c->cmd);
		fw_subsys_poll(g_env.s);
	}
	drain();
	/* The connections end: held commands (AERs) come back, nothing else is pending. */
	for (int i = 3; i >= 0; i--)
		fw_queue_abort(queues[i]->q);
	drain();
	for (unsigned i = 0; i < n; i++) {
		if (cmds[i]->executed && cmds[i]->dones != 1)
			fz_die("an executed command never completed");
		free(cmds[i]->buf);
		free(cmds[i]);
	}
	for (int i = 3; i >= 0; i--) {
		fw_queue_destroy(queues[i]->q);
		free(queues[i]);
	}
	return 0;
}
