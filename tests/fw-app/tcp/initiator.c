/* The test initiator: blocking sockets, proto/ builders and parsers in the host role. Every
 * PDU the daemon sends is parsed with the same strict rules the product's host uses. */
#include "initiator.h"

#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nvme/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "insitu/proto/digest.h"
#include "insitu/proto/fabrics.h"

int ti_socket(uint16_t port)
{
	struct sockaddr_in sin = { 0 };
	struct timeval tv = { .tv_sec = 30 };
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

int ti_send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ti_recv_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			return -EPIPE;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

bool ti_eof(int fd)
{
	char b[256];

	for (;;) {
		ssize_t n = recv(fd, b, sizeof(b), 0);

		if (n == 0)
			return true;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == ECONNRESET;
	}
}

int ti_recv_pdu(struct ti *t, struct insitu_tcp_pdu *pdu, struct insitu_tcp_error *e)
{
	size_t have = 0, need = sizeof(struct insitu_tcp_ch);
	int rc;

	for (;;) {
		if (need > t->rx_len) {
			uint8_t *n = realloc(t->rx, need);

			if (!n)
				return -ENOMEM;
			t->rx = n;
			t->rx_len = need;
		}
		rc = ti_recv_all(t->fd, t->rx + have, need - have);
		if (rc) {
			snprintf(t->err, sizeof(t->err), "receive: %s", strerror(-rc));
			return rc;
		}
		have = need;
		rc = insitu_tcp_pdu_parse(&t->codec, t->rx, have, pdu, e);
		if (rc != -EAGAIN)
			return rc;
		need = have + e->need;
	}
}

int ti_open(struct ti *t, uint16_t port, uint8_t dgst)
{
	struct insitu_tcp_params p;
	struct insitu_tcp_error e;
	struct insitu_tcp_pdu pdu;
	uint8_t buf[128];
	ssize_t n;
	int rc;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->icd_limit = 8192;
	insitu_tcp_params_default(INSITU_TCP_HOST, &p);
	p.digest = dgst;
	p.max_c2h = 1u << 20;
	if (insitu_tcp_conn_init(&t->codec, INSITU_TCP_HOST, &p, &e))
		return -EINVAL;
	t->fd = ti_socket(port);
	if (t->fd < 0)
		return t->fd;
	n = insitu_tcp_build_icreq(&t->codec, buf, sizeof(buf));
	if (n < 0 || ti_send_all(t->fd, buf, (size_t)n))
		return -EIO;
	rc = ti_recv_pdu(t, &pdu, &e);
	if (rc || pdu.type != INSITU_TCP_ICRESP) {
		snprintf(t->err, sizeof(t->err), "ICResp: rc %d type %u %s", rc, pdu.type, e.msg);
		return rc ? rc : -EPROTO;
	}
	t->icresp = pdu.hdr.icresp;
	if (insitu_tcp_conn_accept_icresp(&t->codec, &pdu.hdr.icresp, &e))
		return -EPROTO;
	return 0;
}

void ti_close(struct ti *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	free(t->rx);
	t->rx = NULL;
	t->rx_len = 0;
}

static int send_h2c(struct ti *t, uint16_t cid, uint16_t ttag, uint32_t off, uint32_t len,
		    const uint8_t *data)
{
	uint32_t maxd = le32toh(t->icresp.maxh2cdata);
	uint8_t hdr[256];

	for (uint32_t done = 0; done < len;) {
		struct insitu_tcp_data_desc d = { 0 };
		uint32_t chunk = len - done < maxd ? len - done : maxd;
		ssize_t n;

		d.cccid = cid;
		d.ttag = ttag;
		d.datao = off + done;
		d.datal = chunk;
		d.last = done + chunk == len;
		n = insitu_tcp_build_h2c_data_hdr(&t->codec, hdr, sizeof(hdr), &d);
		if (n < 0 || ti_send_all(t->fd, hdr, (size_t)n) ||
		    ti_send_all(t->fd, data + off + done, chunk))
			return -EIO;
		if (t->codec.ddgst) {
			uint8_t dg[4];

			insitu_digest_store(dg, insitu_tcp_data_digest(data + off + done, chunk));
			if (ti_send_all(t->fd, dg, 4))
				return -EIO;
		}
		done += chunk;
	}
	return 0;
}

int ti_cmd(struct ti *t, struct insitu_nvme_sqe *sqe, const void *wdata, uint32_t wlen,
	   void *rdata, uint32_t rlen, bool force_r2t, struct insitu_nvme_cqe *cqe)
{
	bool icd = wlen && wlen <= t->icd_limit && !force_r2t;
	uint16_t cid = ++t->cid;
	size_t cap = 128 + (icd ? wlen : 0);
	uint8_t *buf = malloc(cap);
	struct insitu_tcp_error e;
	struct insitu_tcp_pdu pdu;
	uint32_t got = 0;
	ssize_t n;
	int rc;

	if (!buf)
		return -ENOMEM;
	sqe->cid = htole16(cid);
	if (icd)
		insitu_sqe_set_sgl_incapsule(sqe, wlen);
	else
		insitu_sqe_set_sgl_transport(sqe, wlen ? wlen : rlen);
	n = insitu_tcp_build_cmd(&t->codec, buf, cap, sqe, icd ? wdata : NULL, icd ? wlen : 0);
	rc = n < 0 ? (int)n : ti_send_all(t->fd, buf, (size_t)n);
	free(buf);
	if (rc)
		return rc;
	for (;;) {
		rc = ti_recv_pdu(t, &pdu, &e);
		if (rc) {
			snprintf(t->err, sizeof(t->err), "rc %d: %s", rc, e.msg);
			return rc;
		}
		if (pdu.type == INSITU_TCP_RSP) {
			*cqe = pdu.hdr.rsp.cqe;
			if (le16toh(cqe->cid) != cid) {
				snprintf(t->err, sizeof(t->err), "CQE for CID %u, expected %u",
					 le16toh(cqe->cid), cid);
				return -EPROTO;
			}
			if (rdata && insitu_cqe_status(cqe) == 0 && got != rlen) {
				snprintf(t->err, sizeof(t->err), "read %u of %u bytes", got, rlen);
				return -EPROTO;
			}
			return 0;
		}
		if (pdu.type == INSITU_TCP_R2T) {
			uint32_t o = le32toh(pdu.hdr.r2t.r2to), l = le32toh(pdu.hdr.r2t.r2tl);

			if (le16toh(pdu.hdr.r2t.cccid) != cid || !wdata || (uint64_t)o + l > wlen) {
				snprintf(t->err, sizeof(t->err), "bad R2T %u+%u", o, l);
				return -EPROTO;
			}
			rc = send_h2c(t, cid, le16toh(pdu.hdr.r2t.ttag), o, l, wdata);
			if (rc)
				return rc;
			continue;
		}
		if (pdu.type == INSITU_TCP_C2H_DATA) {
			uint32_t o = le32toh(pdu.hdr.data.datao), l = le32toh(pdu.hdr.data.datal);

			if (le16toh(pdu.hdr.data.cccid) != cid || !rdata || (uint64_t)o + l > rlen ||
			    o != got) {
				snprintf(t->err, sizeof(t->err), "bad C2HData %u+%u", o, l);
				return -EPROTO;
			}
			memcpy((uint8_t *)rdata + o, pdu.data, l);
			got += l;
			continue;
		}
		if (pdu.type == INSITU_TCP_C2H_TERM) {
			snprintf(t->err, sizeof(t->err), "C2HTermReq FES %u FEI %u",
				 le16toh(pdu.hdr.term.fes), le32toh(pdu.hdr.term.fei));
			return -ECONNABORTED;
		}
		snprintf(t->err, sizeof(t->err), "unexpected PDU type %u", pdu.type);
		return -EPROTO;
	}
}

int ti_status(struct ti *t, struct insitu_nvme_sqe *sqe, const void *wdata, uint32_t wlen,
	      void *rdata, uint32_t rlen, struct insitu_nvme_cqe *cqe)
{
	struct insitu_nvme_cqe local;

	if (!cqe)
		cqe = &local;
	if (ti_cmd(t, sqe, wdata, wlen, rdata, rlen, false, cqe))
		return -1;
	return insitu_cqe_status(cqe);
}

int ti_connect(struct ti *t, uint16_t qid, uint16_t sqsize, const char *subnqn, uint16_t cntlid,
	       uint32_t kato_ms)
{
	struct insitu_nvmf_connect c = { .qid = qid, .sqsize = sqsize, .kato = kato_ms };
	struct nvmf_connect_data d;
	struct insitu_nvme_sqe sqe;
	struct insitu_nvme_cqe cqe;
	int st;

	memset(&d, 0, sizeof(d));
	memcpy(d.hostid, "insitu-test-host", 16);
	d.cntlid = htole16(cntlid);
	snprintf(d.subsysnqn, sizeof(d.subsysnqn), "%s", subnqn);
	snprintf(d.hostnqn, sizeof(d.hostnqn), "%s", TI_HOSTNQN);
	insitu_nvmf_connect_encode(&sqe, 0, &c);
	st = ti_status(t, &sqe, &d, sizeof(d), NULL, 0, &cqe);
	if (st == 0) {
		t->cntlid = (uint16_t)le32toh(cqe.dw0);
		t->qid = qid;
	}
	return st;
}

int ti_prop_get(struct ti *t, uint32_t off, bool size8, uint64_t *val)
{
	struct insitu_nvmf_property p = { .set = false, .size8 = size8, .ofst = off };
	struct insitu_nvme_sqe sqe;
	struct insitu_nvme_cqe cqe;
	int st;

	insitu_nvmf_property_encode(&sqe, 0, &p);
	st = ti_status(t, &sqe, NULL, 0, NULL, 0, &cqe);
	if (st == 0)
		*val = insitu_cqe_result64(&cqe);
	return st;
}

int ti_prop_set(struct ti *t, uint32_t off, uint32_t val)
{
	struct insitu_nvmf_property p = { .set = true, .size8 = false, .ofst = off, .value = val };
	struct insitu_nvme_sqe sqe;

	insitu_nvmf_property_encode(&sqe, 0, &p);
	return ti_status(t, &sqe, NULL, 0, NULL, 0, NULL);
}

int ti_admin_up(struct ti *t, uint16_t port, uint8_t dgst, const char *subnqn)
{
	uint64_t csts = 0;
	int st;

	if (ti_open(t, port, dgst))
		return -1;
	st = ti_connect(t, 0, 31, subnqn, 0xffff, 0);
	if (st)
		return st;
	st = ti_prop_set(t, NVME_REG_CC, 1u | (6u << 16) | (4u << 20));
	if (st)
		return st;
	for (int i = 0; i < 500; i++) {
		st = ti_prop_get(t, NVME_REG_CSTS, false, &csts);
		if (st || (csts & 1))
			return st;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL); /* polling CSTS.RDY is what a host does */
	}
	return -1;
}

int ti_io_up(struct ti *t, const struct ti *admin, uint16_t port, uint8_t dgst, uint16_t qid,
	     uint16_t sqsize)
{
	if (ti_open(t, port, dgst))
		return -1;
	t->icd_limit = 16384;
	return ti_connect(t, qid, sqsize, TI_SUBNQN, admin->cntlid, 0);
}

int ti_identify(struct ti *t, uint8_t cns, uint32_t nsid, void *buf4k)
{
	struct insitu_nvme_sqe sqe;

	insitu_sqe_init(&sqe, nvme_admin_identify, 0, nsid);
	sqe.cdw10 = htole32(cns);
	return ti_status(t, &sqe, NULL, 0, buf4k, 4096, NULL);
}

static void rw_sqe(struct insitu_nvme_sqe *sqe, uint8_t opc, uint64_t lba, uint32_t nlb)
{
	insitu_sqe_init(sqe, opc, 0, 1);
	sqe->cdw10 = htole32((uint32_t)lba);
	sqe->cdw11 = htole32((uint32_t)(lba >> 32));
	sqe->cdw12 = htole32(nlb - 1);
}

int ti_write(struct ti *t, uint64_t lba, uint32_t nlb, const void *buf, uint32_t len, bool force_r2t)
{
	struct insitu_nvme_sqe sqe;
	struct insitu_nvme_cqe cqe;

	rw_sqe(&sqe, nvme_cmd_write, lba, nlb);
	if (ti_cmd(t, &sqe, buf, len, NULL, 0, force_r2t, &cqe))
		return -1;
	return insitu_cqe_status(&cqe);
}

int ti_read(struct ti *t, uint64_t lba, uint32_t nlb, void *buf, uint32_t len)
{
	struct insitu_nvme_sqe sqe;

	rw_sqe(&sqe, nvme_cmd_read, lba, nlb);
	return ti_status(t, &sqe, NULL, 0, buf, len, NULL);
}

int ti_flush(struct ti *t)
{
	struct insitu_nvme_sqe sqe;

	insitu_sqe_init(&sqe, nvme_cmd_flush, 0, 1);
	return ti_status(t, &sqe, NULL, 0, NULL, 0, NULL);
}
