/* Writes the seed corpus of fuzz_fw_tcp_conn: byte streams a host sends on one connection
 * (byte 0 selects the chunking and, odd, the discovery port), built with proto/'s host-side
 * encoders. Usage: gen_conn_corpus DIR. The committed corpus/conn is its output. */
#include <endian.h>
#include <nvme/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "initiator.h"
#include "insitu/proto/fabrics.h"
#include "insitu/proto/pdu.h"

struct stream {
	uint8_t buf[65536];
	size_t len;
	struct insitu_tcp_conn c;
};

static void begin(struct stream *s, uint8_t first, uint8_t dgst)
{
	struct insitu_tcp_params p;
	struct insitu_tcp_error e;
	struct insitu_tcp_icresp r;
	ssize_t n;

	memset(s, 0, sizeof(*s));
	s->buf[s->len++] = first;
	insitu_tcp_params_default(INSITU_TCP_HOST, &p);
	p.digest = dgst;
	insitu_tcp_conn_init(&s->c, INSITU_TCP_HOST, &p, &e);
	n = insitu_tcp_build_icreq(&s->c, s->buf + s->len, sizeof(s->buf) - s->len);
	s->len += (size_t)n;
	memset(&r, 0, sizeof(r));
	r.dgst = dgst;
	r.maxh2cdata = htole32(131072);
	insitu_tcp_conn_accept_icresp(&s->c, &r, &e);
}

static void cmd(struct stream *s, struct insitu_nvme_sqe *sqe, const void *icd, uint32_t len)
{
	ssize_t n;

	if (icd)
		insitu_sqe_set_sgl_incapsule(sqe, len);
	else
		insitu_sqe_set_sgl_transport(sqe, len);
	n = insitu_tcp_build_cmd(&s->c, s->buf + s->len, sizeof(s->buf) - s->len, sqe, icd,
				 icd ? len : 0);
	s->len += (size_t)n;
}

static void connect_admin(struct stream *s, const char *nqn, bool r2t)
{
	struct insitu_nvmf_connect c = { .qid = 0, .sqsize = 31 };
	struct nvmf_connect_data d;
	struct insitu_nvme_sqe sqe;

	memset(&d, 0, sizeof(d));
	d.cntlid = htole16(0xffff);
	snprintf(d.subsysnqn, sizeof(d.subsysnqn), "%s", nqn);
	snprintf(d.hostnqn, sizeof(d.hostnqn), "%s", TI_HOSTNQN);
	insitu_nvmf_connect_encode(&sqe, 1, &c);
	if (!r2t) {
		cmd(s, &sqe, &d, sizeof(d));
		return;
	}
	cmd(s, &sqe, NULL, sizeof(d));
	struct insitu_tcp_data_desc dd = { .cccid = 1, .ttag = 0, .datal = sizeof(d), .data = &d,
					   .last = true };
	s->len += (size_t)insitu_tcp_build_h2c_data(&s->c, s->buf + s->len, sizeof(s->buf) - s->len,
						    &dd);
}

static void prop(struct stream *s, uint16_t cid, bool set, uint32_t off, uint64_t v)
{
	struct insitu_nvmf_property p = { .set = set, .size8 = !set && off == 0, .ofst = off,
					  .value = v };
	struct insitu_nvme_sqe sqe;

	insitu_nvmf_property_encode(&sqe, cid, &p);
	cmd(s, &sqe, NULL, 0);
}

static void admin(struct stream *s, uint8_t opc, uint16_t cid, uint32_t nsid, uint32_t cdw10,
		  uint32_t len)
{
	struct insitu_nvme_sqe sqe;

	insitu_sqe_init(&sqe, opc, cid, nsid);
	sqe.cdw10 = htole32(cdw10);
	cmd(s, &sqe, NULL, len);
}

static void save(const char *dir, const char *name, const struct stream *s)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(s->buf, 1, s->len, f) != s->len) {
		perror(path);
		exit(1);
	}
	fclose(f);
}

static void enabled_admin(struct stream *s, uint8_t first, uint8_t dgst, const char *nqn)
{
	begin(s, first, dgst);
	connect_admin(s, nqn, false);
	prop(s, 2, false, NVME_REG_CAP, 0);
	prop(s, 3, true, NVME_REG_CC, 1u | (6u << 16) | (4u << 20));
	prop(s, 4, false, NVME_REG_CSTS, 0);
}

int main(int argc, char **argv)
{
	static struct stream s;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	enabled_admin(&s, 0x10, 0, TI_SUBNQN);
	admin(&s, nvme_admin_identify, 5, 0, NVME_IDENTIFY_CNS_CTRL, 4096);
	admin(&s, nvme_admin_identify, 6, 1, NVME_IDENTIFY_CNS_NS, 4096);
	admin(&s, nvme_admin_get_log_page, 7, 0xffffffff, NVME_LOG_LID_SMART | (127u << 16), 512);
	admin(&s, nvme_admin_async_event, 8, 0, 0, 0);
	save(argv[1], "admin-identify", &s);

	enabled_admin(&s, 0x00, INSITU_TCP_DGST_HDR | INSITU_TCP_DGST_DATA, TI_SUBNQN);
	admin(&s, nvme_admin_identify, 5, 0, NVME_IDENTIFY_CNS_CTRL, 4096);
	save(argv[1], "admin-digests", &s);

	begin(&s, 0x22, 0);
	connect_admin(&s, TI_SUBNQN, true);
	prop(&s, 2, false, NVME_REG_VS, 0);
	save(argv[1], "connect-r2t", &s);

	enabled_admin(&s, 0x01, 0, TI_DISCNQN);
	admin(&s, nvme_admin_get_log_page, 5, 0, NVME_LOG_LID_DISCOVER | (1023u << 16), 4096);
	save(argv[1], "discovery-log", &s);

	begin(&s, 0x30, 0);
	s.len += (size_t)insitu_tcp_build_term(&s.c, s.buf + s.len, sizeof(s.buf) - s.len, 2, 0,
					       NULL, 0);
	save(argv[1], "host-termreq", &s);

	begin(&s, 0x40, 0);
	{
		struct insitu_tcp_data_desc dd = { .cccid = 9, .ttag = 3, .datal = 64, .data = s.buf,
						   .last = true };

		s.len += (size_t)insitu_tcp_build_h2c_data(&s.c, s.buf + s.len,
							   sizeof(s.buf) - s.len, &dd);
	}
	save(argv[1], "h2cdata-unknown-ttag", &s);
	return 0;
}
