/* The subsystem: NSID 1's flash, the controller table (dynamic controller IDs), the keep-alive
 * clock driven by fw_subsys_tick(), and the loop that turns flash completions into command
 * completions (never inside a flash callback) and retries commands the flash had no room for. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dedup/volume.h"
#include "internal.h"
#include "log.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void fw_ascii_pad(char *dst, size_t n, const char *src)
{
	size_t len = strnlen(src, n);
	memcpy(dst, src, len);
	memset(dst + len, ' ', n - len);
}

/* NGUID and UUID of NSID 1: derived from the subsystem's identity (NQN, serial) and, on a
 * dedup volume, the volume's own identity, so they stay the same across restarts, differ
 * between devices, and change when the namespace is formatted anew (a host must not take a
 * new namespace for the old one). Raw flash has no identity of its own to add. */
static void derive_ns_ids(struct fw_subsys *s)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char in[NVME_NQN_LENGTH + 96];
	uint64_t vol = s->flash.dedup ? dedup_volume_id(s->flash.vol) : 0;
	int n = snprintf(in, sizeof(in), "insitu-ns|%s|%s|nsid=1|volume=%016llx", s->cfg.subnqn,
			 s->cfg.serial, (unsigned long long)vol);
	if (!EVP_Digest(in, (size_t)n, md, &mdlen, EVP_sha256(), NULL) || mdlen < 32)
		memset(md, 0x5a, sizeof(md));
	memcpy(s->nguid, md, 16);
	memcpy(s->uuid, md + 16, 16);
	s->uuid[6] = (uint8_t)((s->uuid[6] & 0x0f) | 0x80);	/* RFC 9562 version 8 */
	s->uuid[8] = (uint8_t)((s->uuid[8] & 0x3f) | 0x80);	/* variant 10b */
}

int fw_subsys_create(const struct fw_config *cfg, struct fw_subsys **out, char *err,
		     size_t errlen)
{
	*out = NULL;
	if (cfg->queue_depth < 2 || cfg->queue_depth > 65536 || !cfg->max_io_queues ||
	    cfg->max_io_queues > 65535 || !cfg->max_controllers ||
	    cfg->max_controllers > FW_MAX_CNTLID || cfg->mdts_bytes < FW_LBA_SIZE) {
		snprintf(err, errlen, "configuration out of range: queue depth %u (2..65536), I/O "
			 "queues %u (1..65535), controllers %u (1..%u), MDTS %u (>= 4096)",
			 cfg->queue_depth, cfg->max_io_queues, cfg->max_controllers, FW_MAX_CNTLID,
			 cfg->mdts_bytes);
		return -EINVAL;
	}
	struct fw_subsys *s = calloc(1, sizeof(*s));
	if (!s || !(s->ctrls = calloc(cfg->max_controllers, sizeof(*s->ctrls)))) {
		free(s);
		snprintf(err, errlen, "out of memory for the subsystem");
		return -ENOMEM;
	}
	s->cfg = *cfg;
	int rc = fw_flash_open(cfg, &s->flash, err, errlen);
	if (rc < 0) {
		free(s->ctrls);
		free(s);
		return rc;
	}
	s->start_ns = clock_ns(CLOCK_MONOTONIC);
	s->start_realtime_ms = clock_ns(CLOCK_REALTIME) / 1000000u;
	s->next_cntlid = 1;
	derive_ns_ids(s);
	fw_info("subsystem %s: NSID 1 = %s (%s), %llu blocks of 4 KiB", cfg->subnqn, cfg->flash_path,
		s->flash.dedup ? "dedup volume" : "raw", (unsigned long long)s->flash.nblocks);
	*out = s;
	return 0;
}

int fw_subsys_destroy(struct fw_subsys *s, char *err, size_t errlen)
{
	if (!s)
		return 0;
	if (s->nqueues) {
		snprintf(err, errlen, "subsystem %s still has %u queues: destroy them first",
			 s->cfg.subnqn, s->nqueues);
		return -EBUSY;
	}
	/* Closing waits for every flash request (a shutdown's flush included) and writes the
	 * volume's final checkpoint. */
	int rc = fw_flash_close(&s->flash, err, errlen);
	for (unsigned i = 0; i < s->cfg.max_controllers; i++) {
		if (s->ctrls[i]) {
			free(s->ctrls[i]->io);
			free(s->ctrls[i]);
		}
	}
	free(s->ctrls);
	if (rc == 0)
		fw_info("subsystem %s closed cleanly", s->cfg.subnqn);
	free(s);
	return rc;
}

int fw_subsys_event_fd(const struct fw_subsys *s)
{
	return fw_flash_event_fd(&s->flash);
}

unsigned fw_subsys_inflight(const struct fw_subsys *s)
{
	return fw_flash_inflight(&s->flash) + s->ndeferred;
}

/* ---- flash completions --------------------------------------------------------------------- */

void fw_flash_done_cb(void *arg, int result)
{
	struct fw_cmd *cmd = arg;
	struct fw_subsys *s = cmd->queue->s;
	fw_cmd_state(cmd)->result = result;
	cmd->next = NULL;
	if (s->reaped_tail)
		s->reaped_tail->next = cmd;
	else
		s->reaped_head = cmd;
	s->reaped_tail = cmd;
}

void fw_subsys_defer(struct fw_subsys *s, struct fw_cmd *cmd)
{
	cmd->next = NULL;
	if (s->deferred_tail)
		s->deferred_tail->next = cmd;
	else
		s->deferred_head = cmd;
	s->deferred_tail = cmd;
	s->ndeferred++;
}

void fw_subsys_poll(struct fw_subsys *s)
{
	fw_flash_poll(&s->flash);
	/* Continue or complete what the flash finished; done() may run the transport, which may
	 * prepare and execute new commands: they queue behind, nothing here is re-entered. */
	while (s->reaped_head) {
		struct fw_cmd *cmd = s->reaped_head;
		s->reaped_head = cmd->next;
		if (!s->reaped_head)
			s->reaped_tail = NULL;
		cmd->next = NULL;
		fw_nvm_reaped(cmd);
	}
	while (s->deferred_head) {
		struct fw_cmd *cmd = s->deferred_head;
		s->deferred_head = cmd->next;
		if (!s->deferred_head)
			s->deferred_tail = NULL;
		s->ndeferred--;
		cmd->next = NULL;
		if (fw_nvm_resume(cmd) == -EAGAIN) {
			/* still no room: back to the front, in order */
			cmd->next = s->deferred_head;
			s->deferred_head = cmd;
			if (!s->deferred_tail)
				s->deferred_tail = cmd;
			s->ndeferred++;
			break;
		}
	}
	for (unsigned i = 0; i < s->cfg.max_controllers; i++)
		if (s->ctrls[i] && s->ctrls[i]->flush_wanted)
			fw_ctrl_shutdown_retry(s->ctrls[i]);
}

/* ---- controllers --------------------------------------------------------------------------- */

struct fw_ctrl *fw_ctrl_alloc(struct fw_subsys *s, bool discovery)
{
	unsigned slot = s->cfg.max_controllers;
	for (unsigned i = 0; i < s->cfg.max_controllers; i++) {
		if (!s->ctrls[i]) {
			slot = i;
			break;
		}
	}
	if (slot == s->cfg.max_controllers)
		return NULL;
	struct fw_ctrl *c = calloc(1, sizeof(*c));
	if (!c || !(c->io = calloc((size_t)s->cfg.max_io_queues + 1, sizeof(*c->io)))) {
		free(c);
		return NULL;
	}
	/* IDs advance round-robin so a host never sees a just-deleted controller's ID reused
	 * while it may still hold it. */
	for (;;) {
		uint16_t id = s->next_cntlid;
		s->next_cntlid = id >= FW_MAX_CNTLID ? 1 : (uint16_t)(id + 1);
		if (!fw_ctrl_find(s, id)) {
			c->cntlid = id;
			break;
		}
	}
	c->s = s;
	c->discovery = discovery;
	c->ka_last_ms = s->now_ms;
	s->ctrls[slot] = c;
	return c;
}

struct fw_ctrl *fw_ctrl_find(struct fw_subsys *s, uint16_t cntlid)
{
	for (unsigned i = 0; i < s->cfg.max_controllers; i++)
		if (s->ctrls[i] && s->ctrls[i]->cntlid == cntlid)
			return s->ctrls[i];
	return NULL;
}

void fw_ctrl_put(struct fw_ctrl *c)
{
	if (--c->refs)
		return;
	struct fw_subsys *s = c->s;
	for (unsigned i = 0; i < s->cfg.max_controllers; i++)
		if (s->ctrls[i] == c)
			s->ctrls[i] = NULL;
	fw_debug("controller %u deleted", c->cntlid);
	free(c->io);
	free(c);
}

bool fw_ctrl_ready(const struct fw_ctrl *c)
{
	return !c->failed && (c->csts & NVME_CSTS_RDY_MASK) && !(c->csts & (1u << NVME_CSTS_CFS_SHIFT));
}

void fw_ctrl_close_queues(struct fw_ctrl *c, bool include_admin, const char *reason)
{
	/* The transport may tear a queue down from inside close(): hold the controller and look
	 * every queue up again after each call. */
	c->refs++;
	for (uint32_t qid = 1; qid <= c->s->cfg.max_io_queues; qid++) {
		struct fw_queue *q = c->io[qid];
		if (q && !q->closing)
			fw_queue_close(q, reason);
	}
	if (include_admin && c->admin && !c->admin->closing)
		fw_queue_close(c->admin, reason);
	fw_ctrl_put(c);
}

/* The machine's CPU time so far, in jiffies: all of it and the idle part (idle + iowait), from
 * the first line of /proc/stat. false when it cannot be read (then cpu_busy stays 0). */
static bool cpu_jiffies(uint64_t *total, uint64_t *idle)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "re");
	if (!f)
		return false;
	int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		       &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 4)
		return false;
	*total = 0;
	for (int i = 0; i < 8; i++)
		*total += v[i];
	*idle = v[3] + v[4];
	return true;
}

/* Closes the sampling interval once a second of tick time has passed: host byte rates and
 * the share of CPU time not idle, for the telemetry log. */
static void sample_rates(struct fw_subsys *s, uint64_t now_ms)
{
	struct fw_rates *r = &s->rates;
	uint64_t total = 0, idle = 0;

	if (r->t_ms && now_ms >= r->t_ms && now_ms < r->t_ms + 1000)
		return;		/* the interval is still open */
	bool cpu = cpu_jiffies(&total, &idle);
	if (r->t_ms && now_ms >= r->t_ms + 1000) {
		uint64_t dt = now_ms - r->t_ms;
		r->read_bps = (s->host.read_bytes - r->read_bytes) * 1000 / dt;
		r->write_bps = (s->host.write_bytes - r->write_bytes) * 1000 / dt;
		r->cpu_busy = 0;
		if (cpu && total > r->cpu_total) {
			uint64_t dtot = total - r->cpu_total;
			uint64_t didle = idle >= r->cpu_idle ? idle - r->cpu_idle : 0;
			r->cpu_busy = (uint16_t)((dtot - (didle < dtot ? didle : dtot)) * 10000 / dtot);
		}
	}
	r->t_ms = now_ms;
	r->read_bytes = s->host.read_bytes;
	r->write_bytes = s->host.write_bytes;
	r->cpu_total = total;
	r->cpu_idle = idle;
}

void fw_subsys_clock(struct fw_subsys *s, uint64_t now_ms)
{
	if (now_ms > s->now_ms)
		s->now_ms = now_ms;
}

void fw_subsys_tick(struct fw_subsys *s, uint64_t now_ms)
{
	s->now_ms = now_ms;
	sample_rates(s, now_ms);
	for (unsigned i = 0; i < s->cfg.max_controllers; i++) {
		struct fw_ctrl *c = s->ctrls[i];
		if (!c || c->failed || !c->kato_ms || !c->admin)
			continue;
		if (now_ms <= c->ka_last_ms || now_ms - c->ka_last_ms <= c->kato_ms)
			continue;
		fw_warn("controller %u (host %s): keep-alive timeout, no command for %llu ms "
			"(KATO %u ms): deleting it", c->cntlid, c->hostnqn,
			(unsigned long long)(now_ms - c->ka_last_ms), c->kato_ms);
		c->failed = true;
		c->csts |= 1u << NVME_CSTS_CFS_SHIFT;
		fw_ctrl_close_queues(c, true, "keep-alive timeout");
	}
}
