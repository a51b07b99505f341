/* Writes the seed corpora of the proto fuzz targets: for fuzz_proto_pdu, one file per valid
 * PDU (configuration byte + PDU) for each type a side sends in each negotiated state, plus
 * a stream per state that starts with the IC exchange; for fuzz_proto_sqe, one encoded
 * command of each kind. Usage: proto_gen_pdu_corpus DIR (creates DIR/pdu and DIR/sqe). */
#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <nvme/types.h>

#include "insitu/proto/fabrics.h"
#include "insitu/proto/nvme_cs.h"
#include "pdu_fixture.h"

static uint8_t buf[1 << 16];

static int write_file(const char *dir, const char *name, uint8_t lead, bool has_lead,
		      const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "gen_pdu_corpus: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if ((has_lead && fwrite(&lead, 1, 1, f) != 1) || fwrite(p, 1, n, f) != n) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

static void lower(char *dst, const char *src, size_t n)
{
	size_t i = 0;

	for (; src[i] && i + 1 < n; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = '\0';
}

static int pdus(const char *dir)
{
	static const uint8_t cfgs[] = {
		0, FX_HDGST | FX_DDGST, FX_HOST, FX_HOST | FX_DDGST,
		FX_ESTABLISHED, FX_ESTABLISHED | FX_HDGST, FX_ESTABLISHED | FX_DDGST,
		FX_ESTABLISHED | FX_HDGST | FX_DDGST,
		FX_HOST | FX_ESTABLISHED, FX_HOST | FX_ESTABLISHED | FX_HDGST,
		FX_HOST | FX_ESTABLISHED | FX_DDGST, FX_HOST | FX_ESTABLISHED | FX_HDGST | FX_DDGST,
		FX_ESTABLISHED | FX_HDGST | FX_DDGST | (2 << FX_PDA_SHIFT),
		FX_HOST | FX_ESTABLISHED | FX_HDGST | FX_DDGST | (3 << FX_PDA_SHIFT),
		FX_ESTABLISHED | FX_DDGST | FX_SMALL, FX_HOST | FX_ESTABLISHED | FX_SMALL,
		FX_ESTABLISHED | FX_UNALIGNED, FX_HOST | FX_ESTABLISHED | FX_UNALIGNED | FX_HDGST,
	};
	char name[64], tname[32];
	unsigned files = 0;

	for (size_t i = 0; i < sizeof(cfgs); i++) {
		uint8_t cfg = cfgs[i], types[9];
		struct insitu_tcp_conn tx, later;
		size_t stream = 0;

		fx_peer(&tx, cfg);
		fx_peer(&later, cfg | FX_ESTABLISHED);
		unsigned nt = fx_types_from(tx.role, tx.state == INSITU_TCP_ESTABLISHED, types);
		for (unsigned t = 0; t < nt; t++) {
			for (unsigned v = 0; v < 2; v++) {
				ssize_t n = fx_build(&tx, types[t], v, buf, sizeof(buf));
				if (n <= 0)
					return -1;
				lower(tname, insitu_tcp_pdu_type_name(types[t]), sizeof(tname));
				snprintf(name, sizeof(name), "c%02x-%s-v%u", cfg, tname, v);
				if (write_file(dir, name, cfg, true, buf, (size_t)n))
					return -1;
				files++;
			}
		}
		/* a stream: the IC PDU if the state needs it, then every type once */
		if (tx.state == INSITU_TCP_AWAIT_IC) {
			ssize_t n = fx_build(&tx, tx.role == INSITU_TCP_HOST ? INSITU_TCP_ICREQ
									  : INSITU_TCP_ICRESP,
					     0, buf, sizeof(buf));
			if (n <= 0)
				return -1;
			stream = (size_t)n;
		}
		nt = fx_types_from(later.role, true, types);
		for (unsigned t = 0; t < nt; t++) {
			ssize_t n = fx_build(&later, types[t], 1, buf + stream, sizeof(buf) - stream);
			if (n <= 0)
				return -1;
			stream += (size_t)n;
		}
		snprintf(name, sizeof(name), "c%02x-stream", cfg);
		if (write_file(dir, name, cfg, true, buf, stream))
			return -1;
		files++;
	}
	printf("gen_pdu_corpus: %u PDU seeds\n", files);
	return 0;
}

static int sqes(const char *dir)
{
	struct insitu_nvme_sqe sqe;
	unsigned files = 0;

#define EMIT(name)                                                              \
	do {                                                                    \
		if (write_file(dir, name, 0, false, &sqe, sizeof(sqe)))         \
			return -1;                                              \
		files++;                                                        \
	} while (0)

	struct insitu_cp_load_program lp = { .pind = 1, .ptype = INSITU_CP_PTYPE_VS_OCI_TAR,
					     .psize = 1 << 20, .pid = 0x1122334455667788ull,
					     .numb = 65536, .loff = 65536 };
	insitu_cp_load_program_encode(&sqe, 1, 2, &lp);
	insitu_sqe_set_sgl_transport(&sqe, 65536);
	EMIT("load-program");
	struct insitu_cp_program_act pa = { .pind = 1, .activate = true };
	insitu_cp_program_act_encode(&sqe, 2, 2, &pa);
	EMIT("program-activation");
	struct insitu_cp_mrs_mgmt mr = { .sel = INSITU_CP_MRS_CREATE, .numr = 2 };
	insitu_cp_mrs_mgmt_encode(&sqe, 3, 2, &mr);
	insitu_sqe_set_sgl_incapsule(&sqe, 64);
	EMIT("mrs-create");
	struct insitu_cp_execute ex = { .pind = 1, .rsid = 5, .numr = 2, .dlen = 16,
					.cparam1 = 42, .cparam2 = 7 };
	insitu_cp_execute_encode(&sqe, INSITU_CP_EXECUTE_PROGRAM, 4, 2, &ex);
	insitu_sqe_set_sgl_incapsule(&sqe, 16);
	EMIT("execute");
	insitu_cp_execute_encode(&sqe, INSITU_CP_VS_EXECUTE_DETACHED, 5, 2, &ex);
	EMIT("execute-detached");
	struct insitu_slm_mem_rw rw = { .sb = 4096, .length = 8192, .pattern = 0xFFFF0000 };
	insitu_slm_mem_rw_encode(&sqe, INSITU_SLM_MEMORY_READ, 6, 3, &rw);
	insitu_sqe_set_sgl_transport(&sqe, 8192);
	EMIT("memory-read");
	insitu_slm_mem_rw_encode(&sqe, INSITU_SLM_MEMORY_WRITE, 7, 3, &rw);
	insitu_sqe_set_sgl_incapsule(&sqe, 8192);
	EMIT("memory-write");
	insitu_slm_mem_rw_encode(&sqe, INSITU_SLM_MEMORY_FILL, 8, 3, &rw);
	EMIT("memory-fill");
	struct insitu_vs_job_mgmt jm = { .sel = INSITU_VS_JOB_ABORT, .jobid = 9 };
	insitu_vs_job_mgmt_encode(&sqe, 9, 2, &jm);
	EMIT("job-abort");
	struct insitu_nvmf_connect c = { .qid = 0, .sqsize = 31, .kato = 5000 };
	insitu_nvmf_connect_encode(&sqe, 10, &c);
	EMIT("connect");
	struct insitu_nvmf_property pg = { .set = false, .size8 = true, .ofst = NVME_REG_CAP };
	insitu_nvmf_property_encode(&sqe, 11, &pg);
	EMIT("property-get");
	struct insitu_nvmf_property ps = { .set = true, .ofst = NVME_REG_CC, .value = 0x460001 };
	insitu_nvmf_property_encode(&sqe, 12, &ps);
	EMIT("property-set");
#undef EMIT
	printf("gen_pdu_corpus: %u SQE seeds\n", files);
	return 0;
}

int main(int argc, char **argv)
{
	char pdu_dir[4096], sqe_dir[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	snprintf(pdu_dir, sizeof(pdu_dir), "%s/pdu", argv[1]);
	snprintf(sqe_dir, sizeof(sqe_dir), "%s/sqe", argv[1]);
	mkdir(argv[1], 0755);
	mkdir(pdu_dir, 0755);
	mkdir(sqe_dir, 0755);
	if (pdus(pdu_dir) || sqes(sqe_dir))
		return 1;
	return 0;
}
