/* The libinsitu handle: opens the right backend for a device name, builds the NVMe
 * commands of every operation, splits transfers at the largest transfer size and keeps the
 * pieces in flight together, and reports NVMe statuses by name (DESIGN.md §1, §4). */
#include <endian.h>
#include <errno.h>
#include <nvme/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "insitu/proto/cqe.h"
#include "internal.h"

#define NS_CACHE      8
#define MAX_NLB       65536u	/* NLB is a 16-bit 0's based count */
#define SPLIT_INFLIGHT 16u	/* pieces of one synchronous transfer in flight at once */

struct insitu_dev {
	char   name[288];
	struct tcp_ctrl *tc;
	struct kdev *k;
	uint32_t max_xfer;
	pthread_mutex_t ns_lock;
	struct {
		uint32_t nsid, bs;
		uint64_t nblocks;
	} ns[NS_CACHE];
	unsigned nns;
};

void insitu_open_opts_init(struct insitu_open_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->kato_ms = 10000;
	o->timeout_ms = 30000;
	o->io_queues = 2;
	o->queue_depth = 128;
}

int insitu_open(const char *name, const struct insitu_open_opts *opts, struct insitu_dev **out)
{
	struct insitu_open_opts defaults;
	int rc;

	ins_clear_error();
	if (!name || !out)
		return ins_fail(-EINVAL, "insitu_open: no device name");
	if (!opts) {
		insitu_open_opts_init(&defaults);
		opts = &defaults;
	}
	struct insitu_dev *d = calloc(1, sizeof(*d));

	if (!d)
		return ins_fail(-ENOMEM, "%s: out of memory", name);
	snprintf(d->name, sizeof(d->name), "%s", name);
	pthread_mutex_init(&d->ns_lock, NULL);
	if (strncasecmp(name, "nvme+tcp://", 11) == 0) {
		struct insitu_uri u;
		char why[256];

		rc = insitu_uri_parse(name, &u, why, sizeof(why));
		if (rc)
			rc = ins_fail(rc, "bad device URI: %s", why);
		else
			rc = tcp_ctrl_open(name, &u, opts, &d->tc);
		if (rc == 0)
			d->max_xfer = tcp_ctrl_max_transfer(d->tc);
	} else if (strncmp(name, "/dev/", 5) == 0) {
		rc = kdev_open(name, &d->k);
		if (rc == 0)
			d->max_xfer = kdev_max_transfer(d->k);
	} else {
		rc = ins_fail(-EINVAL, "'%s' is not a device: use nvme+tcp://HOST[:PORT]/NQN or "
			      "/dev/nvmeX", name);
	}
	if (rc) {
		pthread_mutex_destroy(&d->ns_lock);
		free(d);
		return rc;
	}
	*out = d;
	return 0;
}

int insitu_close(struct insitu_dev *d)
{
	int rc = 0;

	if (!d)
		return 0;
	ins_clear_error();
	if (d->tc)
		rc = tcp_ctrl_close(d->tc);
	if (d->k)
		kdev_close(d->k);
	pthread_mutex_destroy(&d->ns_lock);
	free(d);
	return rc;
}

const char *insitu_dev_name(const struct insitu_dev *d)
{
	return d->name;
}

bool insitu_is_tcp(const struct insitu_dev *d)
{
	return d->tc != NULL;
}

uint32_t insitu_max_transfer(const struct insitu_dev *d)
{
	return d->max_xfer;
}

uint16_t insitu_cntlid(const struct insitu_dev *d)
{
	return d->tc ? tcp_ctrl_cntlid(d->tc) : 0;
}

const char *insitu_hostnqn(const struct insitu_dev *d)
{
	return d->tc ? tcp_ctrl_hostnqn(d->tc) : "";
}

/* ---- command execution --------------------------------------------------------------- */

static const char *admin_name(uint8_t opc)
{
	switch (opc) {
	case nvme_admin_get_log_page: return "Get Log Page";
	case nvme_admin_identify: return "Identify";
	case nvme_admin_set_features: return "Set Features";
	case nvme_admin_get_features: return "Get Features";
	case nvme_admin_keep_alive: return "Keep Alive";
	default: return "admin command";
	}
}

static const char *io_name(uint8_t opc)
{
	switch (opc) {
	case nvme_cmd_flush: return "Flush";
	case nvme_cmd_write: return "Write";
	case nvme_cmd_read: return "Read";
	case nvme_cmd_write_zeroes: return "Write Zeroes";
	case nvme_cmd_dsm: return "Dataset Management";
	default: return "I/O command";
	}
}

/* Turns a completed request into the call's return value and message. */
static int report(struct insitu_dev *d, const struct ins_req *r, bool admin, const char *detail)
{
	if (r->result == 0)
		return 0;
	const char *what = admin ? admin_name(r->sqe.opc) : io_name(r->sqe.opc);

	if (r->result == -EREMOTEIO)
		return ins_fail_status(r->status, "%s: %s%s: %s (SCT %Xh SC %02Xh)", d->name, what,
				       detail ? detail : "", insitu_status_name(r->status),
				       insitu_status_sct(r->status), insitu_status_sc(r->status));
	char why[512];

	snprintf(why, sizeof(why), "%s", insitu_errmsg());
	return ins_fail(r->result, "%s%s: %s", what, detail ? detail : "", why);
}

static int admin_exec(struct insitu_dev *d, struct ins_req *r, const char *detail)
{
	if (d->tc)
		tcp_ctrl_admin(d->tc, r);
	else
		kdev_exec(d->k, r, true);
	return report(d, r, true, detail);
}

/* Runs @n I/O requests, keeping up to SPLIT_INFLIGHT in flight; the first failure wins. */
static int io_exec_many(struct insitu_dev *d, struct ins_req *r, unsigned n, const char *detail)
{
	int rc = 0;

	if (d->k) {
		for (unsigned i = 0; i < n && rc == 0; i++) {
			kdev_exec(d->k, &r[i], false);
			rc = report(d, &r[i], false, detail);
		}
		return rc;
	}
	struct tq *q = tcp_ctrl_io_queue(d->tc);
	unsigned sent = 0;

	for (unsigned i = 0; i < n; i++) {
		int src = tq_submit(q, &r[i]);

		if (src < 0) {
			char why[512];

			snprintf(why, sizeof(why), "%s", insitu_errmsg());
			rc = ins_fail(src, "%s%s: %s", io_name(r[i].sqe.opc), detail ? detail : "",
				      why);
			break;
		}
		sent++;
	}
	for (unsigned i = 0; i < sent; i++) {
		tq_wait(q, &r[i]);
		if (rc == 0)
			rc = report(d, &r[i], false, detail);
	}
	return rc;
}

/* ---- admin operations ---------------------------------------------------------------- */

int insitu_identify_ctrl(struct insitu_dev *d, void *buf)
{
	struct ins_req r;

	ins_clear_error();
	ins_req_init(&r, nvme_admin_identify, 0, buf, NVME_IDENTIFY_DATA_SIZE);
	r.sqe.cdw10 = htole32(NVME_IDENTIFY_CNS_CTRL);
	return admin_exec(d, &r, " Controller");
}

int insitu_identify_ns(struct insitu_dev *d, uint32_t nsid, void *buf)
{
	struct ins_req r;
	char detail[48];

	ins_clear_error();
	ins_req_init(&r, nvme_admin_identify, nsid, buf, NVME_IDENTIFY_DATA_SIZE);
	r.sqe.cdw10 = htole32(NVME_IDENTIFY_CNS_NS);
	snprintf(detail, sizeof(detail), " Namespace (nsid %u)", nsid);
	return admin_exec(d, &r, detail);
}

int insitu_ns_geometry(struct insitu_dev *d, uint32_t nsid, uint32_t *block_size,
		       uint64_t *nblocks)
{
	pthread_mutex_lock(&d->ns_lock);
	for (unsigned i = 0; i < d->nns; i++)
		if (d->ns[i].nsid == nsid) {
			*block_size = d->ns[i].bs;
			if (nblocks)
				*nblocks = d->ns[i].nblocks;
			pthread_mutex_unlock(&d->ns_lock);
			return 0;
		}
	pthread_mutex_unlock(&d->ns_lock);

	struct nvme_id_ns *id = aligned_alloc(4096, sizeof(*id));

	if (!id)
		return ins_fail(-ENOMEM, "%s: out of memory", d->name);
	int rc = insitu_identify_ns(d, nsid, id);

	if (rc) {
		free(id);
		return rc;
	}
	unsigned fmt = id->flbas & 0xf;
	unsigned lbads = fmt < 16 ? id->lbaf[fmt].ds : 0;
	uint64_t nsze = le64toh(id->nsze);

	free(id);
	if (nsze == 0)
		return ins_fail(-ENXIO, "%s: namespace %u is not active", d->name, nsid);
	if (lbads < 9 || lbads > 16)
		return ins_fail(-EPROTO, "%s: namespace %u reports a block size of 2^%u bytes",
				d->name, nsid, lbads);
	*block_size = 1u << lbads;
	if (nblocks)
		*nblocks = nsze;
	pthread_mutex_lock(&d->ns_lock);
	if (d->nns < NS_CACHE) {
		d->ns[d->nns].nsid = nsid;
		d->ns[d->nns].bs = 1u << lbads;
		d->ns[d->nns].nblocks = nsze;
		d->nns++;
	}
	pthread_mutex_unlock(&d->ns_lock);
	return 0;
}

int insitu_get_log(struct insitu_dev *d, uint8_t lid, uint32_t nsid, uint64_t offset, void *buf,
		   uint32_t len)
{
	char detail[48];

	ins_clear_error();
	if (len == 0 || len % 4 || offset % 4)
		return ins_fail(-EINVAL, "%s: Get Log Page %02Xh: length %u and offset %llu must be "
				"non-zero dword multiples", d->name, lid, len,
				(unsigned long long)offset);
	snprintf(detail, sizeof(detail), " %02Xh", lid);
	for (uint32_t done = 0; done < len;) {
		uint32_t n = len - done < d->max_xfer ? len - done : d->max_xfer & ~3u;
		uint32_t numd = n / 4 - 1;
		uint64_t off = offset + done;
		struct ins_req r;

		ins_req_init(&r, nvme_admin_get_log_page, nsid, (uint8_t *)buf + done, n);
		r.sqe.cdw10 = htole32(lid | (numd & 0xffff) << 16);
		r.sqe.cdw11 = htole32(numd >> 16);
		r.sqe.cdw12 = htole32((uint32_t)off);
		r.sqe.cdw13 = htole32((uint32_t)(off >> 32));
		int rc = admin_exec(d, &r, detail);

		if (rc)
			return rc;
		done += n;
	}
	return 0;
}

static int features(struct insitu_dev *d, uint8_t opc, uint8_t fid, uint32_t nsid,
		    uint32_t cdw11, uint32_t *result, void *buf, uint32_t len)
{
	struct ins_req r;
	char detail[32];

	ins_clear_error();
	ins_req_init(&r, opc, nsid, buf, len);
	r.sqe.cdw10 = htole32(fid);
	r.sqe.cdw11 = htole32(cdw11);
	snprintf(detail, sizeof(detail), " (FID %02Xh)", fid);
	int rc = admin_exec(d, &r, detail);

	if (rc == 0 && result)
		*result = r.dw0;
	return rc;
}

int insitu_get_features(struct insitu_dev *d, uint8_t fid, uint32_t nsid, uint32_t cdw11,
			uint32_t *result, void *buf, uint32_t len)
{
	return features(d, nvme_admin_get_features, fid, nsid, cdw11, result, buf, len);
}

int insitu_set_features(struct insitu_dev *d, uint8_t fid, uint32_t nsid, uint32_t cdw11,
			uint32_t *result, const void *buf, uint32_t len)
{
	return features(d, nvme_admin_set_features, fid, nsid, cdw11, result, (void *)buf, len);
}

/* ---- NVM I/O ------------------------------------------------------------------------- */

static void rw_sqe(struct ins_req *r, uint8_t opc, uint32_t nsid, uint64_t lba, uint32_t nlb,
		   unsigned flags, void *buf, uint32_t len)
{
	ins_req_init(r, opc, nsid, buf, len);
	r->sqe.cdw10 = htole32((uint32_t)lba);
	r->sqe.cdw11 = htole32((uint32_t)(lba >> 32));
	r->sqe.cdw12 = htole32((nlb - 1) | ((flags & INSITU_IO_FUA) ? 1u << 30 : 0));
}

static int rw(struct insitu_dev *d, uint8_t opc, uint32_t nsid, uint64_t lba, void *buf,
	      size_t len, unsigned flags)
{
	uint32_t bs;
	uint64_t nblocks;
	char detail[96];

	ins_clear_error();
	int rc = insitu_ns_geometry(d, nsid, &bs, &nblocks);

	if (rc)
		return rc;
	snprintf(detail, sizeof(detail), " (nsid %u, lba %llu, %zu bytes)", nsid,
		 (unsigned long long)lba, len);
	if (len % bs)
		return ins_fail(-EINVAL, "%s: %s%s: length is not a multiple of the %u-byte block",
				d->name, io_name(opc), detail, bs);
	uint64_t chunk = d->max_xfer / bs * bs;

	if (chunk > (uint64_t)MAX_NLB * bs)
		chunk = (uint64_t)MAX_NLB * bs;
	if (chunk == 0)
		return ins_fail(-EINVAL, "%s: largest transfer %u is below the block size %u",
				d->name, d->max_xfer, bs);

	struct ins_req reqs[SPLIT_INFLIGHT];

	for (size_t done = 0; done < len;) {
		unsigned n = 0;

		while (n < SPLIT_INFLIGHT && done < len) {
			uint32_t piece = (uint32_t)(len - done < chunk ? len - done : chunk);

			rw_sqe(&reqs[n++], opc, nsid, lba + done / bs, piece / bs, flags,
			       (uint8_t *)buf + done, piece);
			done += piece;
		}
		rc = io_exec_many(d, reqs, n, detail);
		if (rc)
			return rc;
	}
	return 0;
}

int insitu_read(struct insitu_dev *d, uint32_t nsid, uint64_t lba, void *buf, size_t len)
{
	return rw(d, nvme_cmd_read, nsid, lba, buf, len, 0);
}

int insitu_write(struct insitu_dev *d, uint32_t nsid, uint64_t lba, const void *buf, size_t len,
		 unsigned flags)
{
	return rw(d, nvme_cmd_write, nsid, lba, (void *)buf, len, flags);
}

int insitu_flush(struct insitu_dev *d, uint32_t nsid)
{
	struct ins_req r;
	char detail[32];

	ins_clear_error();
	ins_req_init(&r, nvme_cmd_flush, nsid, NULL, 0);
	snprintf(detail, sizeof(detail), " (nsid %u)", nsid);
	return io_exec_many(d, &r, 1, detail);
}

int insitu_write_zeroes(struct insitu_dev *d, uint32_t nsid, uint64_t lba, uint64_t nblocks)
{
	char detail[80];

	ins_clear_error();
	snprintf(detail, sizeof(detail), " (nsid %u, lba %llu, %llu blocks)", nsid,
		 (unsigned long long)lba, (unsigned long long)nblocks);
	while (nblocks) {
		struct ins_req reqs[SPLIT_INFLIGHT];
		unsigned n = 0;

		while (n < SPLIT_INFLIGHT && nblocks) {
			uint32_t nlb = nblocks < MAX_NLB ? (uint32_t)nblocks : MAX_NLB;

			rw_sqe(&reqs[n++], nvme_cmd_write_zeroes, nsid, lba, nlb, 0, NULL, 0);
			lba += nlb;
			nblocks -= nlb;
		}
		int rc = io_exec_many(d, reqs, n, detail);

		if (rc)
			return rc;
	}
	return 0;
}

int insitu_deallocate(struct insitu_dev *d, uint32_t nsid, uint64_t lba, uint64_t nblocks)
{
	char detail[80];

	ins_clear_error();
	snprintf(detail, sizeof(detail), " deallocate (nsid %u, lba %llu, %llu blocks)", nsid,
		 (unsigned long long)lba, (unsigned long long)nblocks);
	while (nblocks) {
		/* one range per command; a range holds up to 2^32-1 blocks */
		struct nvme_dsm_range *range = aligned_alloc(16, sizeof(*range));

		if (!range)
			return ins_fail(-ENOMEM, "%s: out of memory", d->name);
		uint32_t nlb = nblocks < 0xffffffffu ? (uint32_t)nblocks : 0xffffffffu;
		struct ins_req r;

		memset(range, 0, sizeof(*range));
		range->nlb = htole32(nlb);
		range->slba = htole64(lba);
		ins_req_init(&r, nvme_cmd_dsm, nsid, range, sizeof(*range));
		r.sqe.cdw10 = htole32(0);	/* NR: one range, 0's based */
		r.sqe.cdw11 = htole32(NVME_DSMGMT_AD);
		int rc = io_exec_many(d, &r, 1, detail);

		free(range);
		if (rc)
			return rc;
		lba += nlb;
		nblocks -= nlb;
	}
	return 0;
}

/* ---- asynchronous I/O ---------------------------------------------------------------- */

struct insitu_ioq {
	struct insitu_dev *d;
	struct tq *q;                 /* NVMe/TCP: the queue of our own */
	unsigned depth;
	unsigned inflight;
	struct ins_req *reqs;         /* depth of them */
	struct ins_req **free_req;
	unsigned nfree;
	/* kernel backend: requests complete at submission */
	struct insitu_io **kdone;
	unsigned nkdone;
};

int insitu_ioq_open(struct insitu_dev *d, unsigned depth, struct insitu_ioq **out)
{
	ins_clear_error();
	if (depth == 0 || depth > 4096)
		return ins_fail(-EINVAL, "%s: queue depth %u outside 1..4096", d->name, depth);
	struct insitu_ioq *q = calloc(1, sizeof(*q));

	if (!q)
		return ins_fail(-ENOMEM, "%s: out of memory", d->name);
	q->d = d;
	if (d->tc) {
		int rc = tcp_ctrl_new_queue(d->tc, depth, &q->q);

		if (rc) {
			free(q);
			return rc;
		}
		depth = q->q->depth;
	}
	q->depth = depth;
	q->reqs = calloc(depth, sizeof(*q->reqs));
	q->free_req = calloc(depth, sizeof(*q->free_req));
	q->kdone = calloc(depth, sizeof(*q->kdone));
	if (!q->reqs || !q->free_req || !q->kdone) {
		insitu_ioq_close(q);
		return ins_fail(-ENOMEM, "%s: out of memory", d->name);
	}
	for (unsigned i = 0; i < depth; i++)
		q->free_req[q->nfree++] = &q->reqs[i];
	*out = q;
	return 0;
}

int insitu_ioq_submit(struct insitu_ioq *q, struct insitu_io *io)
{
	struct insitu_dev *d = q->d;
	uint32_t bs = 512;
	uint8_t opc;

	if (q->nfree == 0)
		return -EAGAIN;
	if (io->op != INSITU_OP_FLUSH) {
		int rc = insitu_ns_geometry(d, io->nsid, &bs, NULL);

		if (rc)
			return rc;
		if (io->len == 0 || io->len % bs)
			return ins_fail(-EINVAL, "%s: request of %zu bytes is not a block multiple",
					d->name, io->len);
		if (io->op != INSITU_OP_WRITE_ZEROES &&
		    (io->len > d->max_xfer || io->len / bs > MAX_NLB || !io->buf))
			return ins_fail(-EINVAL, "%s: request of %zu bytes exceeds the largest "
					"transfer %u (or has no buffer)", d->name, io->len,
					d->max_xfer);
		if (io->len / bs > MAX_NLB)
			return ins_fail(-EINVAL, "%s: Write Zeroes of more than %u blocks", d->name,
					MAX_NLB);
	}
	switch (io->op) {
	case INSITU_OP_READ: opc = nvme_cmd_read; break;
	case INSITU_OP_WRITE: opc = nvme_cmd_write; break;
	case INSITU_OP_FLUSH: opc = nvme_cmd_flush; break;
	case INSITU_OP_WRITE_ZEROES: opc = nvme_cmd_write_zeroes; break;
	default: return ins_fail(-EINVAL, "%s: unknown operation %d", d->name, (int)io->op);
	}
	struct ins_req *r = q->free_req[--q->nfree];

	if (io->op == INSITU_OP_FLUSH)
		ins_req_init(r, opc, io->nsid, NULL, 0);
	else
		rw_sqe(r, opc, io->nsid, io->lba, (uint32_t)(io->len / bs), io->flags,
		       io->op == INSITU_OP_WRITE_ZEROES ? NULL : io->buf,
		       io->op == INSITU_OP_WRITE_ZEROES ? 0 : (uint32_t)io->len);
	r->async = true;
	r->owner = io;
	io->result = 0;
	io->status = 0;
	if (!q->q) {
		kdev_exec(d->k, r, false);
		io->result = r->result;
		io->status = r->status;
		q->free_req[q->nfree++] = r;
		q->kdone[q->nkdone++] = io;
		q->inflight++;
		return 0;
	}
	int rc = tq_submit_nowait(q->q, r);

	if (rc) {
		q->free_req[q->nfree++] = r;
		return rc;
	}
	q->inflight++;
	return 0;
}

int insitu_ioq_reap(struct insitu_ioq *q, struct insitu_io **done, unsigned max, unsigned min)
{
	unsigned n = 0;

	if (!q->q) {
		while (n < max && q->nkdone)
			done[n++] = q->kdone[--q->nkdone];
		q->inflight -= n;
		return (int)n;
	}
	struct ins_req *reqs[64];

	if (min > q->inflight)
		min = q->inflight;
	while (n < max) {
		unsigned want = max - n < 64 ? max - n : 64;
		unsigned got = tq_reap(q->q, reqs, want, min > n ? min - n : 0);

		for (unsigned i = 0; i < got; i++) {
			struct insitu_io *io = reqs[i]->owner;

			io->result = reqs[i]->result;
			io->status = reqs[i]->status;
			done[n++] = io;
			q->free_req[q->nfree++] = reqs[i];
			q->inflight--;
		}
		if (got == 0 || n >= min)
			break;
	}
	return (int)n;
}

unsigned insitu_ioq_inflight(const struct insitu_ioq *q)
{
	return q->inflight;
}

void insitu_ioq_close(struct insitu_ioq *q)
{
	if (!q)
		return;
	if (q->q) {
		struct insitu_io *sink[64];

		while (q->inflight && insitu_ioq_reap(q, sink, 64, 1) > 0)
			;
		tcp_ctrl_put_queue(q->d->tc, q->q);
	}
	free(q->reqs);
	free(q->free_req);
	free(q->kdone);
	free(q);
}
