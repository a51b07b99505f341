/* The tests' transport: see harness.h. Failures abort with a message naming the step. */
#include "harness.h"

#include <endian.h>
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

uint16_t h_next_cid = 1;

static void die(const char *what)
{
	fprintf(stderr, "harness: %s\n", what);
	abort();
}

void h_env_init(struct h_env *e, bool dedup)
{
	memset(e, 0, sizeof(*e));
	const char *tmp = getenv("TMPDIR");
	snprintf(e->dir, sizeof(e->dir), "%s/fwnvme-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(e->dir))
		die("mkdtemp");
	snprintf(e->flash, sizeof(e->flash), "%s/flash", e->dir);
	fw_config_defaults(&e->cfg);
	snprintf(e->cfg.flash_path, sizeof(e->cfg.flash_path), "%s", e->flash);
	e->cfg.flash_bytes = 64ull << 20;
	e->cfg.ns_bytes = 32ull << 20;
	e->cfg.dedup = dedup;
	e->cfg.max_io_queues = 4;
	e->cfg.queue_depth = 64;
	e->cfg.max_controllers = 8;
	if (!getenv("FW_TEST_VERBOSE"))
		fw_log_set_level(FW_LOG_ERROR);
}

int h_env_start(struct h_env *e)
{
	char err[512] = "";
	int rc = fw_subsys_create(&e->cfg, &e->s, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "fw_subsys_create: %s\n", err);
	return rc;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(p);
}

void h_env_fini(struct h_env *e)
{
	if (e->s) {
		char err[512] = "";
		if (fw_subsys_destroy(e->s, err, sizeof(err)) < 0) {
			fprintf(stderr, "fw_subsys_destroy: %s\n", err);
			abort();
		}
		e->s = NULL;
	}
	nftw(e->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void on_close(void *ctx, const char *reason)
{
	struct h_queue *hq = ctx;
	hq->closes++;
	snprintf(hq->reason, sizeof(hq->reason), "%s", reason);
}

struct h_queue *h_queue_new(struct h_env *e, bool discovery_port)
{
	struct h_queue *hq = calloc(1, sizeof(*hq));
	struct fw_queue_limits lim = { .max_icd = 8192, .local_port = 4420 };
	snprintf(lim.local_addr, sizeof(lim.local_addr), "192.0.2.7");
	static const struct fw_queue_ops ops = { .close = on_close };
	hq->env = e;
	hq->q = fw_queue_create(e->s, &lim, &ops, hq, "192.0.2.1:50000", discovery_port);
	if (!hq->q)
		die("fw_queue_create");
	return hq;
}

void h_queue_end(struct h_queue *hq)
{
	fw_queue_abort(hq->q);
	fw_queue_destroy(hq->q);
	free(hq);
}

static void on_done(struct fw_cmd *cmd)
{
	struct h_cmd *c = (struct h_cmd *)cmd;
	c->dones++;
	c->status = insitu_cqe_status(&cmd->cqe);
}

struct h_cmd *h_start(struct h_queue *hq, const struct insitu_nvme_sqe *sqe, const void *data,
		      uint32_t buf_len)
{
	struct h_cmd *c = calloc(1, sizeof(*c));
	c->cmd.sqe = *sqe;
	c->cmd.buf_len = buf_len;
	c->cmd.done = on_done;
	uint16_t st = fw_cmd_prepare(hq->q, &c->cmd);
	if (st) {
		c->status = st;
		c->prepared_fail = true;
		return c;
	}
	if (c->cmd.data_len > buf_len)
		die("prepare asked for more data than the SGL describes");
	size_t alloc = ((size_t)c->cmd.data_len + 4095) / 4096 * 4096;
	if (alloc && posix_memalign((void **)&c->buf, 4096, alloc))
		die("posix_memalign");
	if (alloc)
		memset(c->buf, 0xEE, alloc);
	if (c->cmd.dir == FW_DIR_H2C && data)
		memcpy(c->buf, data, c->cmd.data_len);
	c->cmd.buf = c->buf;
	fw_cmd_execute(hq->q, &c->cmd);
	return c;
}

void h_wait(struct h_env *e, struct h_cmd *c)
{
	if (c->prepared_fail)
		return;
	for (int i = 0; c->dones == 0 && i < 10000; i++) {
		struct pollfd pfd = { .fd = fw_subsys_event_fd(e->s), .events = POLLIN };
		poll(&pfd, 1, 1);
		fw_subsys_poll(e->s);
	}
	if (c->dones != 1) {
		fprintf(stderr, "harness: command opcode %02xh completed %d times\n", c->cmd.sqe.opc,
			c->dones);
		abort();
	}
	if (c->cmd.dir == FW_DIR_C2H && c->cmd.xfer_len > c->cmd.data_len)
		die("xfer_len above data_len");
}

void h_cmd_free(struct h_cmd *c)
{
	free(c->buf);
	free(c);
}

uint16_t h_run(struct h_queue *hq, const struct insitu_nvme_sqe *sqe, const void *data,
	       uint32_t buf_len, void *out, struct insitu_nvme_cqe *cqe)
{
	struct h_cmd *c = h_start(hq, sqe, data, buf_len);
	h_wait(hq->env, c);
	if (out && !c->prepared_fail && c->cmd.dir == FW_DIR_C2H)
		memcpy(out, c->buf, c->cmd.xfer_len);
	if (cqe)
		*cqe = c->cmd.cqe;
	if (insitu_cqe_status(&c->cmd.cqe) != c->status)
		die("CQE status differs from the status returned");
	if (le16toh(c->cmd.cqe.cid) != le16toh(sqe->cid))
		die("CQE CID differs from the SQE's");
	uint16_t st = c->status;
	h_cmd_free(c);
	return st;
}

static uint16_t cid(void)
{
	return h_next_cid++;
}

uint16_t h_connect_admin(struct h_queue *hq, const char *subnqn, const char *hostnqn,
			 uint16_t sqsize, uint32_t kato, uint16_t *cntlid)
{
	struct insitu_nvme_sqe sqe;
	struct insitu_nvmf_connect c = { .qid = 0, .sqsize = sqsize, .kato = kato };
	insitu_nvmf_connect_encode(&sqe, cid(), &c);
	struct nvmf_connect_data d;
	memset(&d, 0, sizeof(d));
	d.cntlid = htole16(0xFFFF);
	d.hostid[0] = 0x42;
	snprintf(d.subsysnqn, sizeof(d.subsysnqn), "%s", subnqn);
	snprintf(d.hostnqn, sizeof(d.hostnqn), "%s", hostnqn);
	struct insitu_nvme_cqe cqe;
	uint16_t st = h_run(hq, &sqe, &d, sizeof(d), NULL, &cqe);
	if (!st && cntlid)
		*cntlid = (uint16_t)le32toh(cqe.dw0);
	return st;
}

uint16_t h_connect_io(struct h_queue *hq, uint16_t qid, uint16_t cntlid, const char *hostnqn,
		      uint16_t sqsize, uint8_t cattr, struct insitu_nvme_cqe *cqe)
{
	struct insitu_nvme_sqe sqe;
	struct insitu_nvmf_connect c = { .qid = qid, .sqsize = sqsize, .cattr = cattr };
	insitu_nvmf_connect_encode(&sqe, cid(), &c);
	struct nvmf_connect_data d;
	memset(&d, 0, sizeof(d));
	d.cntlid = htole16(cntlid);
	d.hostid[0] = 0x42;
	snprintf(d.subsysnqn, sizeof(d.subsysnqn), "%s", hq->env->cfg.subnqn);
	snprintf(d.hostnqn, sizeof(d.hostnqn), "%s", hostnqn);
	return h_run(hq, &sqe, &d, sizeof(d), NULL, cqe);
}

uint16_t h_prop_get(struct h_queue *hq, uint32_t ofst, bool size8, uint64_t *val)
{
	struct insitu_nvme_sqe sqe;
	struct insitu_nvmf_property p = { .set = false, .size8 = size8, .ofst = ofst };
	insitu_nvmf_property_encode(&sqe, cid(), &p);
	struct insitu_nvme_cqe cqe;
	uint16_t st = h_run(hq, &sqe, NULL, 0, NULL, &cqe);
	if (val)
		*val = insitu_cqe_result64(&cqe);
	return st;
}

uint16_t h_prop_set(struct h_queue *hq, uint32_t ofst, uint32_t val)
{
	struct insitu_nvme_sqe sqe;
	struct insitu_nvmf_property p = { .set = true, .ofst = ofst, .value = val };
	insitu_nvmf_property_encode(&sqe, cid(), &p);
	return h_run(hq, &sqe, NULL, 0, NULL, NULL);
}

uint16_t h_admin_ready(struct h_queue *hq)
{
	uint16_t cntlid = 0;
	if (h_connect_admin(hq, hq->env->cfg.subnqn, H_HOSTNQN, 31, 5000, &cntlid))
		die("admin Connect failed");
	if (h_prop_set(hq, NVME_REG_CC, 1 | (6u << 16) | (4u << 20)))
		die("Property Set CC failed");
	return cntlid;
}

struct h_queue *h_io_ready(struct h_env *e, struct h_queue **admin)
{
	*admin = h_queue_new(e, false);
	uint16_t cntlid = h_admin_ready(*admin);
	struct h_queue *io = h_queue_new(e, false);
	if (h_connect_io(io, 1, cntlid, H_HOSTNQN, 31, 0, NULL))
		die("I/O Connect failed");
	return io;
}

uint16_t h_identify(struct h_queue *hq, uint8_t cns, uint32_t nsid, uint8_t csi, void *out)
{
	struct insitu_nvme_sqe sqe;
	insitu_sqe_init(&sqe, nvme_admin_identify, cid(), nsid);
	insitu_sqe_set_sgl_transport(&sqe, 4096);
	sqe.cdw10 = htole32(cns);
	sqe.cdw11 = htole32((uint32_t)csi << 24);
	return h_run(hq, &sqe, NULL, 4096, out, NULL);
}

uint16_t h_get_log(struct h_queue *hq, uint8_t lid, uint32_t nsid, uint64_t lpo, uint32_t len,
		   void *out)
{
	struct insitu_nvme_sqe sqe;
	insitu_sqe_init(&sqe, nvme_admin_get_log_page, cid(), nsid);
	insitu_sqe_set_sgl_transport(&sqe, len);
	uint32_t numd = len / 4 - 1;
	sqe.cdw10 = htole32(lid | ((numd & 0xffff) << 16));
	sqe.cdw11 = htole32(numd >> 16);
	sqe.cdw12 = htole32((uint32_t)lpo);
	sqe.cdw13 = htole32((uint32_t)(lpo >> 32));
	return h_run(hq, &sqe, NULL, len, out, NULL);
}

uint16_t h_features(struct h_queue *hq, bool set, uint8_t fid, uint32_t cdw11, uint32_t *dw0)
{
	struct insitu_nvme_sqe sqe;
	insitu_sqe_init(&sqe, set ? nvme_admin_set_features : nvme_admin_get_features, cid(), 0);
	sqe.cdw10 = htole32(fid);
	sqe.cdw11 = htole32(cdw11);
	struct insitu_nvme_cqe cqe;
	uint16_t st = h_run(hq, &sqe, NULL, 0, NULL, &cqe);
	if (dw0)
		*dw0 = le32toh(cqe.dw0);
	return st;
}

uint16_t h_rw(struct h_queue *hq, bool write, uint64_t slba, uint32_t nblocks, bool fua,
	      void *data)
{
	struct insitu_nvme_sqe sqe;
	insitu_sqe_init(&sqe, write ? nvme_cmd_write : nvme_cmd_read, cid(), 1);
	uint32_t len = nblocks * 4096;
	insitu_sqe_set_sgl_transport(&sqe, len);
	sqe.cdw10 = htole32((uint32_t)slba);
	sqe.cdw11 = htole32((uint32_t)(slba >> 32));
	sqe.cdw12 = htole32((nblocks - 1) | (fua ? 1u << 30 : 0));
	return h_run(hq, &sqe, write ? data : NULL, len, write ? NULL : data, NULL);
}
