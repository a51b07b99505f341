/* Fuzz target: bytes from the network straight into one NVMe/TCP connection of insitu-fw
 * (fw_tcp_conn_input), no sockets, over the real command layer on a small dedup volume.
 * Output is consumed as if sent; the connection is torn down the way the reactor does it,
 * and every command must come back. Byte 0 of an input picks the receive chunk size. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "conn.h"
#include "log.h"
#include "nvme/command.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fw_config g_cfg;
static struct fw_subsys *g_subsys;
static struct fw_tcp_ctx *g_ctx;
static int g_closing;

static void hook_tx_ready(struct fw_tcp_conn *c, void *owner) { (void)c; (void)owner; }
static void hook_rx_resume(struct fw_tcp_conn *c, void *owner) { (void)c; (void)owner; }
static void hook_closing(struct fw_tcp_conn *c, void *owner, bool linger)
{
	(void)c; (void)owner; (void)linger;
	g_closing = 1;
}

static const struct fw_tcp_hooks hooks = { hook_tx_ready, hook_rx_resume, hook_closing };

static void cleanup(void)
{
	char err[256];

	if (g_ctx)
		fw_tcp_ctx_destroy(g_ctx);
	if (g_subsys)
		fw_subsys_destroy(g_subsys, err, sizeof(err));
	unlink(g_cfg.flash_path);
}

static void init_once(void)
{
	char err[512];
	const char *tmp = getenv("TMPDIR");
	int fd;

	if (g_subsys)
		return;
	fw_log_set_level(getenv("FUZZ_CONN_VERBOSE") ? FW_LOG_DEBUG : FW_LOG_ERROR);
	fw_config_defaults(&g_cfg);
	snprintf(g_cfg.flash_path, sizeof(g_cfg.flash_path), "%s/insitu-fuzz-conn-XXXXXX",
		 tmp ? tmp : "/tmp");
	fd = mkstemp(g_cfg.flash_path);
	if (fd < 0) {
		perror("mkstemp");
		abort();
	}
	close(fd);
	unlink(g_cfg.flash_path);
	g_cfg.flash_bytes = 64ull << 20;
	g_cfg.format = true;
	g_cfg.mdts_bytes = 128u << 10;
	g_cfg.verbosity = 0;
	if (fw_subsys_create(&g_cfg, &g_subsys, err, sizeof(err))) {
		fprintf(stderr, "fuzz_conn: %s\n", err);
		abort();
	}
	if (fw_tcp_ctx_create(g_subsys, &g_cfg, &hooks, &g_ctx, err, sizeof(err))) {
		fprintf(stderr, "fuzz_conn: %s\n", err);
		abort();
	}
	atexit(cleanup);
}

static void drain_output(struct fw_tcp_conn *c, uint64_t now)
{
	struct iovec iov[48];
	int n;

	/* bounded: each round consumes at least one queued PDU */
	for (int round = 0; round < 100000 && (n = fw_tcp_conn_tx_iov(c, iov, 48)) > 0; round++) {
		size_t bytes = 0;

		for (int i = 0; i < n; i++)
			bytes += iov[i].iov_len;
		fw_tcp_conn_tx_done(c, bytes, now);
	}
}

static void wait_flash(void)
{
	struct pollfd p = { .fd = fw_subsys_event_fd(g_subsys), .events = POLLIN };

	for (int i = 0; i < 10000 && fw_subsys_inflight(g_subsys); i++) {
		poll(&p, 1, 100);
		fw_subsys_poll(g_subsys);
	}
	fw_subsys_poll(g_subsys);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fw_tcp_conn *c;
	size_t chunk, off = 1;
	uint64_t now = 1000;

	if (!size)
		return 0;
	init_once();
	chunk = (size_t)data[0] * 7 + 1;
	g_closing = 0;
	c = fw_tcp_conn_create(g_ctx, NULL, "fuzz", "127.0.0.1", 4420, data[0] & 1, now);
	if (!c)
		return 0;
	while (off < size && !g_closing) {
		size_t n = size - off < chunk ? size - off : chunk;
		size_t took = fw_tcp_conn_input(c, data + off, n, now);

		drain_output(c, now);
		wait_flash();
		fw_tcp_ctx_run(g_ctx);
		drain_output(c, now);
		if (!took && fw_tcp_conn_paused(c))
			break; /* waiting on a buffer no one will release: stop feeding */
		off += took;
		now += 10;
	}
	drain_output(c, now);
	fw_tcp_conn_close(c, "end of input");
	fw_tcp_conn_detach(c);
	wait_flash();
	fw_tcp_ctx_run(g_ctx);
	if (!fw_tcp_ctx_idle(g_ctx)) {
		fprintf(stderr, "fuzz_conn: a command never came back after the connection closed\n");
		abort();
	}
	return 0;
}
