/* The NVMe/TCP controller as the host sees it: connecting the admin queue, enabling the
 * controller through properties, identifying it, connecting I/O queues, the keep-alive
 * thread, and the clean shutdown (DESIGN.md §2.1). */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nvme/types.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "insitu/proto/fabrics.h"
#include "internal.h"

#define ADMIN_DEPTH     31u	/* SQSIZE 31 (0's based 32 entries), as Linux hosts use */
#define MAX_IO_QUEUES   64u
#define CONNECT_TIMEOUT_MS 10000

struct tcp_ctrl {
	char     name[288];
	struct insitu_uri uri;
	struct insitu_open_opts opts;
	char     hostnqn[INSITU_NQN_MAX + 1];
	uint8_t  hostid[16];
	uint16_t cntlid;
	uint64_t cap;
	uint32_t max_xfer;
	uint32_t io_icd;           /* in-capsule data of I/O queues (IOCCSZ) */
	unsigned io_depth;         /* commands per shared I/O queue */
	unsigned granted;          /* I/O queues the controller granted */
	struct tq admin;
	struct tq *shared;         /* opts.io_queues of them */
	unsigned nshared;
	pthread_mutex_t qid_lock;
	uint8_t  qid_used[MAX_IO_QUEUES + 1];
	/* keep-alive */
	pthread_t ka_thread;
	bool     ka_running;
	bool     ka_stop;
	pthread_mutex_t ka_lock;
	pthread_cond_t  ka_cond;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- TCP connection ------------------------------------------------------------------ */

static int connect_addr(const struct addrinfo *ai, int *out)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			ai->ai_protocol);

	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
		int e = errno;

		close(fd);
		return -e;
	}
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int n;

	do
		n = poll(&p, 1, CONNECT_TIMEOUT_MS);
	while (n < 0 && errno == EINTR);
	if (n == 0) {
		close(fd);
		return -ETIMEDOUT;
	}
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
		int e = n < 0 ? errno : soerr ? soerr : errno;

		close(fd);
		return -e;
	}
	/* blocking from here: the queue polls before it receives */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*out = fd;
	return 0;
}

static int tcp_connect(const struct tcp_ctrl *c, int *out)
{
	char port[8];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	const char *where = c->uri.host;
	bool v6 = strchr(where, ':') != NULL;

	snprintf(port, sizeof(port), "%u", c->uri.port);
	int g = getaddrinfo(c->uri.host, port, &hints, &res);

	if (g)
		return ins_fail(g == EAI_SYSTEM ? -errno : -EHOSTUNREACH,
				"%s: cannot resolve host '%s': %s", c->name, c->uri.host,
				gai_strerror(g));
	int rc = -EHOSTUNREACH;

	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		rc = connect_addr(ai, out);
		if (rc == 0)
			break;
	}
	freeaddrinfo(res);
	if (rc == -ECONNREFUSED)
		return ins_fail(rc, "%s: connection refused: is insitu-fw running on %s%s%s:%u?",
				c->name, v6 ? "[" : "", where, v6 ? "]" : "", c->uri.port);
	if (rc == -ETIMEDOUT)
		return ins_fail(rc, "%s: connecting to %s port %u timed out after %u ms: is the "
				"host reachable?", c->name, where, c->uri.port, CONNECT_TIMEOUT_MS);
	if (rc)
		return ins_fail(rc, "%s: cannot connect to %s port %u: %s", c->name, where,
				c->uri.port, strerror(-rc));
	return 0;
}

/* ---- Fabrics commands ---------------------------------------------------------------- */

static const char *fabrics_name(uint8_t fctype)
{
	switch (fctype) {
	case nvme_fabrics_type_connect: return "Connect";
	case nvme_fabrics_type_property_get: return "Property Get";
	case nvme_fabrics_type_property_set: return "Property Set";
	default: return "Fabrics command";
	}
}

static int fabrics_exec(struct tcp_ctrl *c, struct tq *q, struct ins_req *r)
{
	int rc = tq_exec(q, r);

	if (rc == -EREMOTEIO) {
		const char *what = fabrics_name(insitu_nvmf_fctype(&r->sqe));
		const char *st = insitu_status_name(r->status);
		/* Connect's own statuses already start with "Connect:" */
		bool named = strncmp(st, what, strlen(what)) == 0;

		return ins_fail_status(r->status, "%s: %s%s%s (SCT %Xh SC %02Xh)", c->name,
				       named ? "" : what, named ? "" : ": ", st,
				       insitu_status_sct(r->status), insitu_status_sc(r->status));
	}
	return rc;
}

static int fabrics_connect(struct tcp_ctrl *c, struct tq *q, uint16_t qid, uint16_t sqsize)
{
	struct nvmf_connect_data data;
	struct insitu_nvmf_connect conn = { .qid = qid, .sqsize = sqsize,
					    .kato = qid == 0 ? c->opts.kato_ms : 0 };
	struct ins_req r;

	memset(&data, 0, sizeof(data));
	memcpy(data.hostid, c->hostid, sizeof(data.hostid));
	data.cntlid = htole16(qid == 0 ? 0xffff : c->cntlid);
	snprintf(data.subsysnqn, sizeof(data.subsysnqn), "%s", c->uri.nqn);
	snprintf(data.hostnqn, sizeof(data.hostnqn), "%s", c->hostnqn);

	ins_req_init(&r, nvme_admin_fabrics, 0, &data, sizeof(data));
	insitu_nvmf_connect_encode(&r.sqe, 0, &conn);
	r.dir = INSITU_DIR_TO_CTRL;
	int rc = fabrics_exec(c, q, &r);

	if (rc == -EREMOTEIO && (insitu_last_status() & 0x7ff) ==
	    ((NVME_SCT_CMD_SPECIFIC << NVME_SCT_SHIFT) | NVME_SC_CONNECT_INVALID_PARAM)) {
		char why[512];

		snprintf(why, sizeof(why), "%s", insitu_errmsg());
		return ins_fail_status(r.status, "%s (is %s the subsystem NQN? see insitu-fw --nqn)",
				       why, c->uri.nqn);
	}
	if (rc == 0 && qid == 0)
		c->cntlid = (uint16_t)r.dw0;
	return rc;
}

static int prop_get(struct tcp_ctrl *c, uint32_t ofst, bool size8, uint64_t *val)
{
	struct insitu_nvmf_property p = { .set = false, .size8 = size8, .ofst = ofst };
	struct ins_req r;

	ins_req_init(&r, nvme_admin_fabrics, 0, NULL, 0);
	insitu_nvmf_property_encode(&r.sqe, 0, &p);
	r.dir = INSITU_DIR_NONE;
	int rc = fabrics_exec(c, &c->admin, &r);

	if (rc == 0)
		*val = size8 ? (uint64_t)r.dw0 | (uint64_t)r.dw1 << 32 : r.dw0;
	return rc;
}

static int prop_set(struct tcp_ctrl *c, uint32_t ofst, uint32_t val)
{
	struct insitu_nvmf_property p = { .set = true, .size8 = false, .ofst = ofst, .value = val };
	struct ins_req r;

	ins_req_init(&r, nvme_admin_fabrics, 0, NULL, 0);
	insitu_nvmf_property_encode(&r.sqe, 0, &p);
	r.dir = INSITU_DIR_NONE;
	return fabrics_exec(c, &c->admin, &r);
}

/* Polls CSTS until (CSTS & mask) == want, for at most @limit_ms; 1 ms steps growing to 50. */
static int wait_csts(struct tcp_ctrl *c, uint32_t mask, uint32_t want, uint64_t limit_ms,
		     const char *what)
{
	uint64_t deadline = now_ms() + limit_ms;
	unsigned step_us = 1000;

	for (;;) {
		uint64_t csts;
		int rc = prop_get(c, NVME_REG_CSTS, false, &csts);

		if (rc)
			return rc;
		if (NVME_CSTS_CFS(csts))
			return ins_fail(-EIO, "%s: controller fatal status (CSTS.CFS) while waiting for %s",
					c->name, what);
		if ((csts & mask) == want)
			return 0;
		if (now_ms() >= deadline)
			return ins_fail(-ETIMEDOUT, "%s: controller did not report %s within %llu ms "
					"(CSTS %#llx)", c->name, what, (unsigned long long)limit_ms,
					(unsigned long long)csts);
		usleep(step_us);
		if (step_us < 50000)
			step_us *= 2;
	}
}

/* ---- queues -------------------------------------------------------------------------- */

static int open_queue(struct tcp_ctrl *c, struct tq *q, uint16_t qid, unsigned depth)
{
	char qname[320];
	int fd = -1;

	snprintf(qname, sizeof(qname), "%s %s queue%s%.0u", c->name, qid ? "I/O" : "admin",
		 qid ? " " : "", (unsigned)qid);
	int rc = tcp_connect(c, &fd);

	if (rc)
		return rc;
	rc = tq_init(q, fd, qname, qid, depth, c->opts.timeout_ms);
	if (rc)
		return rc;
	uint8_t dg = (c->opts.hdgst ? INSITU_TCP_DGST_HDR : 0) |
		     (c->opts.ddgst ? INSITU_TCP_DGST_DATA : 0);

	rc = tq_handshake(q, dg, qid ? (c->max_xfer ? c->max_xfer : 1u << 20) : 1u << 20);
	if (rc == 0)
		rc = fabrics_connect(c, q, qid, (uint16_t)depth);
	if (rc) {
		tq_destroy(q);
		return rc;
	}
	if (qid)
		q->max_icd = c->io_icd;
	return 0;
}

static int alloc_qid(struct tcp_ctrl *c)
{
	int qid = -EBUSY;

	pthread_mutex_lock(&c->qid_lock);
	for (unsigned i = 1; i <= c->granted && i <= MAX_IO_QUEUES; i++)
		if (!c->qid_used[i]) {
			c->qid_used[i] = 1;
			qid = (int)i;
			break;
		}
	pthread_mutex_unlock(&c->qid_lock);
	return qid;
}

static void free_qid(struct tcp_ctrl *c, uint16_t qid)
{
	pthread_mutex_lock(&c->qid_lock);
	if (qid <= MAX_IO_QUEUES)
		c->qid_used[qid] = 0;
	pthread_mutex_unlock(&c->qid_lock);
}

int tcp_ctrl_new_queue(struct tcp_ctrl *c, unsigned depth, struct tq **out)
{
	int qid = alloc_qid(c);

	if (qid < 0)
		return ins_fail(qid, "%s: no I/O queue left (the controller granted %u)", c->name,
				c->granted);
	struct tq *q = calloc(1, sizeof(*q));

	if (!q) {
		free_qid(c, (uint16_t)qid);
		return ins_fail(-ENOMEM, "%s: out of memory", c->name);
	}
	unsigned mqes = (unsigned)NVME_CAP_MQES(c->cap);

	if (depth > mqes)
		depth = mqes;
	int rc = open_queue(c, q, (uint16_t)qid, depth);

	if (rc) {
		free(q);
		free_qid(c, (uint16_t)qid);
		return rc;
	}
	*out = q;
	return 0;
}

void tcp_ctrl_put_queue(struct tcp_ctrl *c, struct tq *q)
{
	uint16_t qid = q->qid;

	tq_destroy(q);
	free(q);
	free_qid(c, qid);
}

struct tq *tcp_ctrl_io_queue(struct tcp_ctrl *c)
{
	static _Thread_local unsigned my_index;
	static unsigned next_index;

	if (!my_index)
		my_index = __atomic_add_fetch(&next_index, 1, __ATOMIC_RELAXED);
	return &c->shared[my_index % c->nshared];
}

/* ---- keep-alive ---------------------------------------------------------------------- */

static void *keep_alive_main(void *arg)
{
	struct tcp_ctrl *c = arg;
	uint32_t period = c->opts.kato_ms / 2 ? c->opts.kato_ms / 2 : 1;

	pthread_mutex_lock(&c->ka_lock);
	while (!c->ka_stop) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += period / 1000;
		ts.tv_nsec += (long)(period % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		while (!c->ka_stop &&
		       pthread_cond_timedwait(&c->ka_cond, &c->ka_lock, &ts) != ETIMEDOUT)
			;
		if (c->ka_stop)
			break;
		pthread_mutex_unlock(&c->ka_lock);
		struct ins_req r;

		ins_req_init(&r, nvme_admin_keep_alive, 0, NULL, 0);
		int rc = tq_exec(&c->admin, &r);

		pthread_mutex_lock(&c->ka_lock);
		/* a failed admin queue fails every later call with its own message */
		if (rc && rc != -EREMOTEIO)
			break;
	}
	pthread_mutex_unlock(&c->ka_lock);
	return NULL;
}

/* ---- open / close -------------------------------------------------------------------- */

static int identify_and_configure(struct tcp_ctrl *c)
{
	struct nvme_id_ctrl *id = aligned_alloc(4096, sizeof(*id));
	struct ins_req r;

	if (!id)
		return ins_fail(-ENOMEM, "%s: out of memory", c->name);
	ins_req_init(&r, nvme_admin_identify, 0, id, sizeof(*id));
	r.sqe.cdw10 = htole32(NVME_IDENTIFY_CNS_CTRL);
	int rc = tq_exec(&c->admin, &r);

	if (rc) {
		free(id);
		if (rc == -EREMOTEIO)
			return ins_fail_status(r.status, "%s: Identify Controller: %s", c->name,
					       insitu_status_name(r.status));
		return rc;
	}
	uint32_t mps = 1u << (12 + NVME_CAP_MPSMIN(c->cap));

	c->max_xfer = id->mdts ? (id->mdts + __builtin_ctz(mps) >= 31 ? 1u << 30
					     : mps << id->mdts)
			       : 1u << 20;
	if (c->max_xfer > (16u << 20))
		c->max_xfer = 16u << 20;	/* our own bound on one command's buffer */
	uint32_t ioccsz = le32toh(id->ioccsz);

	c->io_icd = ioccsz >= 4 ? (ioccsz * 16 - 64) : 0;
	if (c->io_icd > c->max_xfer)
		c->io_icd = c->max_xfer;
	free(id);

	/* Number of Queues: NSQR/NCQR 0's based in CDW11; the grant comes back in DW0 */
	unsigned want = c->opts.io_queues + 8;

	if (want > MAX_IO_QUEUES)
		want = MAX_IO_QUEUES;
	ins_req_init(&r, nvme_admin_set_features, 0, NULL, 0);
	r.sqe.cdw10 = htole32(NVME_FEAT_FID_NUM_QUEUES);
	r.sqe.cdw11 = htole32((want - 1) | (want - 1) << 16);
	rc = tq_exec(&c->admin, &r);
	if (rc == -EREMOTEIO)
		return ins_fail_status(r.status, "%s: Set Features Number of Queues: %s", c->name,
				       insitu_status_name(r.status));
	if (rc)
		return rc;
	unsigned nsq = (r.dw0 & 0xffff) + 1, ncq = (r.dw0 >> 16) + 1;

	c->granted = nsq < ncq ? nsq : ncq;
	if (c->granted > want)
		c->granted = want;
	return 0;
}

int tcp_ctrl_open(const char *name, const struct insitu_uri *u, const struct insitu_open_opts *o,
		  struct tcp_ctrl **out)
{
	struct tcp_ctrl *c = calloc(1, sizeof(*c));

	if (!c)
		return ins_fail(-ENOMEM, "%s: out of memory", name);
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->uri = *u;
	c->opts = *o;
	if (c->opts.io_queues == 0)
		c->opts.io_queues = 1;
	if (c->opts.queue_depth < 2)
		c->opts.queue_depth = 2;
	pthread_mutex_init(&c->qid_lock, NULL);
	pthread_mutex_init(&c->ka_lock, NULL);
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->ka_cond, &ca);
	pthread_condattr_destroy(&ca);

	int rc = ins_host_identity(o->hostnqn, c->hostnqn, c->hostid);

	if (rc)
		goto fail_free;
	rc = open_queue(c, &c->admin, 0, ADMIN_DEPTH);
	if (rc)
		goto fail_free;

	uint64_t cc = 0;

	rc = prop_get(c, NVME_REG_CAP, true, &c->cap);
	if (rc)
		goto fail_admin;
	uint64_t to_ms = (NVME_CAP_TO(c->cap) ? NVME_CAP_TO(c->cap) : 1) * 500ull;

	cc = (1u << NVME_CC_EN_SHIFT) | (NVME_CC_CSS_NVM << NVME_CC_CSS_SHIFT) |
	     (6u << NVME_CC_IOSQES_SHIFT) | (4u << NVME_CC_IOCQES_SHIFT);
	rc = prop_set(c, NVME_REG_CC, (uint32_t)cc);
	if (rc == 0)
		rc = wait_csts(c, NVME_CSTS_RDY_MASK, 1, to_ms, "ready (CSTS.RDY)");
	if (rc == 0)
		rc = identify_and_configure(c);
	if (rc)
		goto fail_admin;

	unsigned mqes = (unsigned)NVME_CAP_MQES(c->cap);

	c->io_depth = c->opts.queue_depth < mqes ? c->opts.queue_depth : mqes;
	c->nshared = c->opts.io_queues < c->granted ? c->opts.io_queues : c->granted;
	if (c->nshared == 0) {
		rc = ins_fail(-EBUSY, "%s: the controller granted no I/O queue", c->name);
		goto fail_admin;
	}
	c->shared = calloc(c->nshared, sizeof(*c->shared));
	if (!c->shared) {
		rc = ins_fail(-ENOMEM, "%s: out of memory", c->name);
		goto fail_admin;
	}
	for (unsigned i = 0; i < c->nshared; i++) {
		int qid = alloc_qid(c);

		rc = qid < 0 ? ins_fail(qid, "%s: no I/O queue left", c->name)
			     : open_queue(c, &c->shared[i], (uint16_t)qid, c->io_depth);
		if (rc) {
			while (i--)
				tq_destroy(&c->shared[i]);
			free(c->shared);
			goto fail_admin;
		}
	}
	if (c->opts.kato_ms) {
		if (pthread_create(&c->ka_thread, NULL, keep_alive_main, c) == 0)
			c->ka_running = true;
	}
	*out = c;
	return 0;

fail_admin:
	tq_destroy(&c->admin);
fail_free:
	pthread_mutex_destroy(&c->qid_lock);
	pthread_mutex_destroy(&c->ka_lock);
	pthread_cond_destroy(&c->ka_cond);
	free(c);
	return rc;
}

int tcp_ctrl_close(struct tcp_ctrl *c)
{
	int rc = 0;

	if (c->ka_running) {
		pthread_mutex_lock(&c->ka_lock);
		c->ka_stop = true;
		pthread_cond_signal(&c->ka_cond);
		pthread_mutex_unlock(&c->ka_lock);
		pthread_join(c->ka_thread, NULL);
	}
	for (unsigned i = 0; i < c->nshared; i++)
		tq_destroy(&c->shared[i]);
	free(c->shared);

	/* normal shutdown: CC.SHN = 01b, then CSTS.SHST = 10b within CAP.TO */
	if (!c->admin.dead) {
		uint64_t to_ms = (NVME_CAP_TO(c->cap) ? NVME_CAP_TO(c->cap) : 1) * 500ull;
		uint32_t cc = (1u << NVME_CC_EN_SHIFT) | (6u << NVME_CC_IOSQES_SHIFT) |
			      (4u << NVME_CC_IOCQES_SHIFT) |
			      (NVME_CC_SHN_NORMAL << NVME_CC_SHN_SHIFT);

		rc = prop_set(c, NVME_REG_CC, cc);
		if (rc == 0)
			rc = wait_csts(c, NVME_CSTS_SHST_MASK << NVME_CSTS_SHST_SHIFT,
				       NVME_CSTS_SHST_CMPLT << NVME_CSTS_SHST_SHIFT, to_ms,
				       "shutdown complete (CSTS.SHST)");
	}
	tq_destroy(&c->admin);
	pthread_mutex_destroy(&c->qid_lock);
	pthread_mutex_destroy(&c->ka_lock);
	pthread_cond_destroy(&c->ka_cond);
	free(c);
	return rc;
}

int tcp_ctrl_admin(struct tcp_ctrl *c, struct ins_req *r)
{
	return tq_exec(&c->admin, r);
}

uint32_t tcp_ctrl_max_transfer(const struct tcp_ctrl *c)
{
	return c->max_xfer;
}

uint16_t tcp_ctrl_cntlid(const struct tcp_ctrl *c)
{
	return c->cntlid;
}

const char *tcp_ctrl_hostnqn(const struct tcp_ctrl *c)
{
	return c->hostnqn;
}
