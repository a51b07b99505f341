/* libFuzzer target over the command decoders: 64 bytes of SQE as received from a host (and
 * optionally 4 bytes of in-capsule data length), through every CP/SLM/vendor/Fabrics
 * decoder and the NVMe/TCP SGL check. What a decoder accepts must re-encode into an SQE
 * that decodes to the same fields. */
#include <endian.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvme/types.h>

#include "insitu/proto/cqe.h"
#include "insitu/proto/fabrics.h"
#include "insitu/proto/nvme_cs.h"
#include "insitu/proto/sqe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "fuzz_sqe: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                      \
		}                                                                     \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct insitu_nvme_sqe sqe, re;
	uint32_t icd = 0;

	if (size < sizeof(sqe))
		return 0;
	memcpy(&sqe, data, sizeof(sqe));
	if (size >= sizeof(sqe) + 4) {
		memcpy(&icd, data + sizeof(sqe), 4);
		icd = le32toh(icd);
	}
	uint16_t cid = insitu_sqe_cid(&sqe);
	uint32_t nsid = insitu_sqe_nsid(&sqe);

	uint16_t st = insitu_sqe_check_tcp_sgl(&sqe, icd, 8192);
	CHECK(st == 0 || st == insitu_status(0, NVME_SC_SGL_INVALID_TYPE, true) ||
	      st == insitu_status(0, NVME_SC_SGL_INVALID_OFFSET, true) ||
	      st == insitu_status(0, NVME_SC_SGL_INVALID_DATA, true));
	CHECK(insitu_status_name(le16toh(sqe.cid)) != NULL);

	struct insitu_cp_load_program lp, lp2;
	if (insitu_cp_load_program_decode(&sqe, &lp) == 0) {
		insitu_cp_load_program_encode(&re, cid, nsid, &lp);
		CHECK(insitu_cp_load_program_decode(&re, &lp2) == 0);
		CHECK(lp.pind == lp2.pind && lp.ptype == lp2.ptype && lp.unload == lp2.unload &&
		      lp.pit == lp2.pit && lp.psize == lp2.psize && lp.pid == lp2.pid &&
		      lp.numb == lp2.numb && lp.loff == lp2.loff);
	}
	struct insitu_cp_program_act pa, pa2;
	if (insitu_cp_program_act_decode(&sqe, &pa) == 0) {
		insitu_cp_program_act_encode(&re, cid, nsid, &pa);
		CHECK(insitu_cp_program_act_decode(&re, &pa2) == 0);
		CHECK(pa.pind == pa2.pind && pa.activate == pa2.activate);
	}
	struct insitu_cp_mrs_mgmt mr, mr2;
	if (insitu_cp_mrs_mgmt_decode(&sqe, &mr) == 0) {
		insitu_cp_mrs_mgmt_encode(&re, cid, nsid, &mr);
		CHECK(insitu_cp_mrs_mgmt_decode(&re, &mr2) == 0);
		CHECK(mr.sel == mr2.sel && mr.rsid == mr2.rsid && mr.numr == mr2.numr);
	}
	struct insitu_cp_execute ex, ex2;
	if (insitu_cp_execute_decode(&sqe, &ex) == 0) {
		insitu_cp_execute_encode(&re, sqe.opc, cid, nsid, &ex);
		CHECK(insitu_cp_execute_decode(&re, &ex2) == 0);
		CHECK(ex.pind == ex2.pind && ex.rsid == ex2.rsid && ex.numr == ex2.numr &&
		      ex.dlen == ex2.dlen && ex.cparam1 == ex2.cparam1 && ex.cparam2 == ex2.cparam2);
	}
	struct insitu_slm_mem_rw rw, rw2;
	if (insitu_slm_mem_rw_decode(&sqe, &rw) == 0) {
		insitu_slm_mem_rw_encode(&re, sqe.opc, cid, nsid, &rw);
		CHECK(insitu_slm_mem_rw_decode(&re, &rw2) == 0);
		CHECK(rw.sb == rw2.sb && rw.length == rw2.length && rw.pattern == rw2.pattern);
	}
	struct insitu_vs_job_mgmt jm, jm2;
	if (insitu_vs_job_mgmt_decode(&sqe, &jm) == 0) {
		insitu_vs_job_mgmt_encode(&re, cid, nsid, &jm);
		CHECK(insitu_vs_job_mgmt_decode(&re, &jm2) == 0);
		CHECK(jm.sel == jm2.sel && jm.jobid == jm2.jobid);
	}
	struct insitu_nvmf_connect c, c2;
	if (insitu_nvmf_connect_decode(&sqe, &c) == 0) {
		insitu_nvmf_connect_encode(&re, cid, &c);
		CHECK(insitu_nvmf_connect_decode(&re, &c2) == 0);
		CHECK(c.qid == c2.qid && c.sqsize == c2.sqsize && c.cattr == c2.cattr &&
		      c.kato == c2.kato && c.recfmt == c2.recfmt);
	}
	struct insitu_nvmf_property pr, pr2;
	if (insitu_nvmf_property_decode(&sqe, &pr) == 0) {
		insitu_nvmf_property_encode(&re, cid, &pr);
		CHECK(insitu_nvmf_property_decode(&re, &pr2) == 0);
		CHECK(pr.set == pr2.set && pr.size8 == pr2.size8 && pr.ofst == pr2.ofst &&
		      pr.value == pr2.value);
	}
	return 0;
}
