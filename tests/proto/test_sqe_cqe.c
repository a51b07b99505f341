/* Queue entries and command encodings: status field bits against libnvme's enums and the
 * CQE's phase bit, SGL forms NVMe/TCP allows, Fabrics Connect/Property commands at their
 * spec byte offsets, the CP/SLM/vendor commands' dword positions, decoders refusing
 * undefined selects, and the status name table. */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <nvme/types.h>

#include "insitu/proto/cqe.h"
#include "insitu/proto/fabrics.h"
#include "insitu/proto/nvme_cs.h"
#include "insitu/proto/sqe.h"

static uint32_t rd32(const void *p, size_t off)
{
	uint32_t v;

	memcpy(&v, (const uint8_t *)p + off, 4);
	return le32toh(v);
}

static uint16_t rd16(const void *p, size_t off)
{
	uint16_t v;

	memcpy(&v, (const uint8_t *)p + off, 2);
	return le16toh(v);
}

static void status_encoding(void **state)
{
	struct insitu_nvme_cqe cqe;
	uint8_t raw[16];

	(void)state;
	/* the same numbers as libnvme's encoding */
	assert_int_equal(insitu_status(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_LOG_PAGE, true),
			 (NVME_SCT_CMD_SPECIFIC << NVME_SCT_SHIFT) | NVME_SC_INVALID_LOG_PAGE | NVME_SC_DNR);
	assert_int_equal(INSITU_STATUS_DNR, NVME_SC_DNR);
	assert_int_equal(INSITU_STATUS_MORE, NVME_SC_MORE);

	uint16_t s = insitu_status(NVME_SCT_GENERIC, NVME_SC_TRAN_TPORT_ERROR, false);
	assert_int_equal(insitu_status_sct(s), 0);
	assert_int_equal(insitu_status_sc(s), 0x22);
	assert_false(insitu_status_dnr(s));

	/* CQE: status word = status << 1 | phase, at bytes 15:14 */
	insitu_cqe_init(&cqe, 0xBEEF, 3, 17, insitu_status(1, 0x82, true), 0x11223344, 0x55667788);
	memcpy(raw, &cqe, 16);
	assert_int_equal(rd32(raw, 0), 0x11223344);
	assert_int_equal(rd32(raw, 4), 0x55667788);
	assert_int_equal(rd16(raw, 8), 17);
	assert_int_equal(rd16(raw, 10), 3);
	assert_int_equal(rd16(raw, 12), 0xBEEF);
	assert_int_equal(rd16(raw, 14), (0x4000 | 0x100 | 0x82) << 1);
	assert_false(insitu_cqe_phase(&cqe));
	insitu_cqe_set_status(&cqe, insitu_cqe_status(&cqe), true);
	assert_true(insitu_cqe_phase(&cqe));
	assert_int_equal(insitu_cqe_status(&cqe), 0x4182);
	assert_int_equal(insitu_cqe_result64(&cqe), 0x5566778811223344ull);
}

static void status_table(void **state)
{
	unsigned n;
	const struct insitu_status_info *t = insitu_status_table(&n);

	(void)state;
	assert_true(n > 40);
	for (unsigned i = 0; i < n; i++) {
		assert_true(t[i].name && t[i].name[0]);
		assert_int_equal(t[i].status & ~0x7ff, 0);	/* no DNR/More/CRD in keys */
		for (unsigned j = i + 1; j < n; j++)
			assert_int_not_equal(t[i].status, t[j].status);
	}
	assert_string_equal(insitu_status_name(0), "Successful Completion");
	assert_string_equal(insitu_status_name(NVME_SC_TRAN_TPORT_ERROR), "Transient Transport Error");
	assert_string_equal(insitu_status_name(insitu_status(1, NVME_SC_CONNECT_INVALID_PARAM, true)),
			    "Connect: Invalid Parameters");
	assert_string_equal(insitu_status_name(insitu_status(INSITU_VS_SCT,
							     INSITU_VS_SC_JOB_NOT_FOUND, true)),
			    "insitu: Job Not Found");
	assert_string_equal(insitu_status_name(insitu_status(2, 0x7F, false)), "Unknown status");
}

static void sgl_forms(void **state)
{
	struct insitu_nvme_sqe sqe;
	uint8_t raw[64];

	(void)state;
	insitu_sqe_init(&sqe, nvme_cmd_write, 0x1234, 7);
	memcpy(raw, &sqe, 64);
	assert_int_equal(raw[0], 0x01);
	assert_int_equal(raw[1], 0x40);		/* PSDT 01b: SGL, as Linux hosts send */
	assert_int_equal(rd16(raw, 2), 0x1234);
	assert_int_equal(rd32(raw, 4), 7);
	assert_int_equal(insitu_sqe_psdt(&sqe), INSITU_SQE_PSDT_SGL);
	assert_int_equal(insitu_sqe_fuse(&sqe), 0);
	assert_int_equal(insitu_opcode_dir(nvme_cmd_write), INSITU_DIR_TO_CTRL);
	assert_int_equal(insitu_opcode_dir(nvme_cmd_read), INSITU_DIR_TO_HOST);

	insitu_sqe_set_sgl_incapsule(&sqe, 4096);
	memcpy(raw, &sqe, 64);
	assert_int_equal(raw[39], 0x01);
	assert_int_equal(rd32(raw, 32), 4096);
	assert_int_equal(insitu_sqe_check_tcp_sgl(&sqe, 4096, 8192), 0);
	assert_int_equal(insitu_sqe_check_tcp_sgl(&sqe, 4092, 8192),
			 insitu_status(0, NVME_SC_SGL_INVALID_DATA, true));
	assert_int_equal(insitu_sqe_check_tcp_sgl(&sqe, 4096, 1024),
			 insitu_status(0, NVME_SC_SGL_INVALID_OFFSET, true));
	sqe.dptr.sgl.addr = htole64(16);
	assert_int_equal(insitu_sqe_check_tcp_sgl(&sqe, 4096, 8192),
			 insitu_status(0, NVME_SC_SGL_INVALID_OFFSET, true));

	insitu_sqe_set_sgl_transport(&sqe, 1 << 20);
	memcpy(raw, &sqe, 64);
	assert_int_equal(raw[39], 0x5A);
	assert_int_equal(insitu_sqe_data_len(&sqe), 1 << 20);
	assert_int_equal(insitu_sqe_check_tcp_sgl(&sqe, 0, 8192), 0);
	assert_int_equal(insitu_sqe_check_tcp_sgl(&sqe, 64, 8192),
			 insitu_status(0, NVME_SC_SGL_INVALID_DATA, true));

	sqe.dptr.sgl.type = 0x20;	/* Segment descriptor: not over NVMe/TCP */
	assert_int_equal(insitu_sqe_check_tcp_sgl(&sqe, 0, 8192),
			 insitu_status(0, NVME_SC_SGL_INVALID_TYPE, true));
	memset(&sqe.dptr, 0, sizeof(sqe.dptr));	/* a data-less command */
	assert_int_equal(insitu_sqe_check_tcp_sgl(&sqe, 0, 8192), 0);
}

static void fabrics_commands(void **state)
{
	struct insitu_nvme_sqe sqe;
	struct insitu_nvmf_connect c = { .qid = 3, .sqsize = 127, .cattr = INSITU_NVMF_CATTR_DISABLE_SQFLOW,
					 .kato = 15000 }, c2;
	struct insitu_nvmf_property p = { .set = true, .size8 = false, .ofst = NVME_REG_CC,
					  .value = 0x1FFFF00460001ull }, p2;
	uint8_t raw[64];

	(void)state;
	insitu_nvmf_connect_encode(&sqe, 9, &c);
	memcpy(raw, &sqe, 64);
	assert_int_equal(raw[0], 0x7F);
	assert_int_equal(raw[4], nvme_fabrics_type_connect);
	assert_int_equal(raw[39], INSITU_SGL_TCP_INCAPSULE);
	assert_int_equal(rd32(raw, 32), 1024);
	assert_int_equal(rd16(raw, 42), 3);
	assert_int_equal(rd16(raw, 44), 127);
	assert_int_equal(raw[46], 0x04);
	assert_int_equal(rd32(raw, 48), 15000);
	assert_true(insitu_nvmf_is_fabrics(&sqe));
	assert_int_equal(insitu_nvmf_fctype(&sqe), 1);
	assert_int_equal(insitu_nvmf_connect_decode(&sqe, &c2), 0);
	assert_int_equal(c2.qid, 3);
	assert_int_equal(c2.sqsize, 127);
	assert_int_equal(c2.kato, 15000);
	assert_int_equal(insitu_nvmf_property_decode(&sqe, &p2), -EINVAL);

	insitu_nvmf_property_encode(&sqe, 10, &p);
	memcpy(raw, &sqe, 64);
	assert_int_equal(raw[4], nvme_fabrics_type_property_set);
	assert_int_equal(raw[40], 0);
	assert_int_equal(rd32(raw, 44), NVME_REG_CC);
	assert_int_equal(rd32(raw, 48), 0x00460001);	/* 4-byte property: upper half dropped */
	assert_int_equal(rd32(raw, 52), 0);
	assert_int_equal(insitu_nvmf_property_decode(&sqe, &p2), 0);
	assert_true(p2.set);
	assert_int_equal(p2.value, 0x00460001);

	p.set = false;
	p.size8 = true;
	p.ofst = NVME_REG_CAP;
	insitu_nvmf_property_encode(&sqe, 11, &p);
	memcpy(raw, &sqe, 64);
	assert_int_equal(raw[4], nvme_fabrics_type_property_get);
	assert_int_equal(raw[40], 1);
	assert_int_equal(insitu_nvmf_property_decode(&sqe, &p2), 0);
	assert_false(p2.set);
	assert_true(p2.size8);
	assert_int_equal(p2.ofst, NVME_REG_CAP);
	raw[40] = 2;	/* reserved size */
	memcpy(&sqe, raw, 64);
	assert_int_equal(insitu_nvmf_property_decode(&sqe, &p2), -EINVAL);
	assert_int_equal(insitu_nvmf_connect_decode(&sqe, &c2), -EINVAL);

	assert_int_equal(insitu_nvmf_connect_invalid_param(true, 512), 0x10200);
	assert_int_equal(insitu_nvmf_connect_invalid_param(false, 42), 42);
}

static void cp_slm_vendor_commands(void **state)
{
	struct insitu_nvme_sqe sqe;
	uint8_t raw[64];

	(void)state;
	struct insitu_cp_load_program lp = { .pind = 0x0102, .ptype = INSITU_CP_PTYPE_VS_OCI_TAR,
					     .unload = true, .pit = 5, .psize = 123456789,
					     .pid = 0x0123456789ABCDEFull, .numb = 65536,
					     .loff = 131072 }, lp2;
	insitu_cp_load_program_encode(&sqe, 1, 2, &lp);
	memcpy(raw, &sqe, 64);
	assert_int_equal(raw[0], 0x85);
	assert_int_equal(rd32(raw, 40), 0x0102u | 0xC0u << 16 | 1u << 24 | 5u << 25);
	assert_int_equal(rd32(raw, 44), 123456789);
	assert_int_equal(rd32(raw, 48), 0x89ABCDEF);
	assert_int_equal(rd32(raw, 52), 0x01234567);
	assert_int_equal(rd32(raw, 56), 65536);
	assert_int_equal(rd32(raw, 60), 131072);
	assert_int_equal(insitu_cp_load_program_decode(&sqe, &lp2), 0);
	assert_true(lp2.pind == lp.pind && lp2.ptype == lp.ptype && lp2.unload && lp2.pit == 5 &&
		    lp2.psize == lp.psize && lp2.pid == lp.pid && lp2.numb == lp.numb &&
		    lp2.loff == lp.loff);

	struct insitu_cp_program_act pa = { .pind = 7, .activate = true }, pa2;
	insitu_cp_program_act_encode(&sqe, 1, 2, &pa);
	assert_int_equal(le32toh(sqe.cdw10), 0x10007);
	assert_int_equal(insitu_cp_program_act_decode(&sqe, &pa2), 0);
	assert_true(pa2.activate);
	sqe.cdw10 = htole32(0x20007);	/* SEL 2 is not defined */
	assert_int_equal(insitu_cp_program_act_decode(&sqe, &pa2), -EINVAL);

	struct insitu_cp_mrs_mgmt mr = { .sel = INSITU_CP_MRS_DELETE, .rsid = 0x55, .numr = 3 }, mr2;
	insitu_cp_mrs_mgmt_encode(&sqe, 1, 2, &mr);
	assert_int_equal(le32toh(sqe.cdw10), 0x550001);
	assert_int_equal(le32toh(sqe.cdw11), 3);
	assert_int_equal(insitu_cp_mrs_mgmt_decode(&sqe, &mr2), 0);
	assert_int_equal(mr2.rsid, 0x55);
	sqe.cdw10 = htole32(0x55000F);
	assert_int_equal(insitu_cp_mrs_mgmt_decode(&sqe, &mr2), -EINVAL);

	struct insitu_cp_execute ex = { .pind = 3, .rsid = 9, .numr = 2, .dlen = 512,
					.cparam1 = 0x1111222233334444ull,
					.cparam2 = 0x5555666677778888ull }, ex2;
	insitu_cp_execute_encode(&sqe, INSITU_CP_VS_EXECUTE_DETACHED, 1, 2, &ex);
	memcpy(raw, &sqe, 64);
	assert_int_equal(raw[0], 0x81);
	assert_int_equal(rd32(raw, 8), 0x90003);
	assert_int_equal(rd32(raw, 12), 2);
	assert_int_equal(rd32(raw, 16), 512);
	assert_int_equal(rd32(raw, 40), 0x33334444);
	assert_int_equal(rd32(raw, 52), 0x55556666);
	assert_int_equal(insitu_cp_execute_decode(&sqe, &ex2), 0);
	assert_true(ex2.pind == 3 && ex2.rsid == 9 && ex2.numr == 2 && ex2.dlen == 512 &&
		    ex2.cparam1 == ex.cparam1 && ex2.cparam2 == ex.cparam2);
	sqe.opc = INSITU_SLM_MEMORY_READ;
	assert_int_equal(insitu_cp_execute_decode(&sqe, &ex2), -EINVAL);

	struct insitu_slm_mem_rw rw = { .sb = 0x100000000ull, .length = 4096, .pattern = 0xA5A5A5A5 }, rw2;
	insitu_slm_mem_rw_encode(&sqe, INSITU_SLM_MEMORY_FILL, 1, 2, &rw);
	assert_int_equal(le32toh(sqe.cdw11), 1);
	assert_int_equal(le32toh(sqe.cdw13), 0xA5A5A5A5);
	assert_int_equal(insitu_slm_mem_rw_decode(&sqe, &rw2), 0);
	assert_true(rw2.sb == rw.sb && rw2.length == 4096 && rw2.pattern == rw.pattern);
	insitu_slm_mem_rw_encode(&sqe, INSITU_SLM_MEMORY_WRITE, 1, 2, &rw);
	assert_int_equal(le32toh(sqe.cdw13), 0);	/* no pattern outside Fill */

	struct insitu_vs_job_mgmt jm = { .sel = INSITU_VS_JOB_RELEASE, .jobid = 77 }, jm2;
	insitu_vs_job_mgmt_encode(&sqe, 1, 2, &jm);
	assert_int_equal(sqe.opc, 0xC0);
	assert_int_equal(insitu_vs_job_mgmt_decode(&sqe, &jm2), 0);
	assert_int_equal(jm2.jobid, 77);
	sqe.cdw10 = htole32(3);
	assert_int_equal(insitu_vs_job_mgmt_decode(&sqe, &jm2), -EINVAL);

	assert_int_equal(insitu_vs_aen_job_done(), 0x00C00107);
}

/* Opcode bits 1:0 declare the data direction; the CP/SLM values from third-party sources
 * must at least agree with what their commands move. */
static void opcode_directions(void **state)
{
	(void)state;
	assert_int_equal(insitu_opcode_dir(INSITU_ADMIN_LOAD_PROGRAM), INSITU_DIR_TO_CTRL);
	assert_int_equal(insitu_opcode_dir(INSITU_ADMIN_PROGRAM_ACT_MGMT), INSITU_DIR_NONE);
	assert_int_equal(insitu_opcode_dir(INSITU_ADMIN_MEM_RANGE_SET_MGMT), INSITU_DIR_TO_CTRL);
	assert_int_equal(insitu_opcode_dir(INSITU_CP_EXECUTE_PROGRAM), INSITU_DIR_TO_CTRL);
	assert_int_equal(insitu_opcode_dir(INSITU_SLM_MEMORY_READ), INSITU_DIR_TO_HOST);
	assert_int_equal(insitu_opcode_dir(INSITU_SLM_MEMORY_WRITE), INSITU_DIR_TO_CTRL);
	assert_int_equal(insitu_opcode_dir(INSITU_SLM_MEMORY_FILL), INSITU_DIR_NONE);
	assert_int_equal(insitu_opcode_dir(INSITU_SLM_MEMORY_COPY), INSITU_DIR_TO_CTRL);
	assert_int_equal(insitu_opcode_dir(INSITU_ADMIN_VS_JOB_MGMT), INSITU_DIR_NONE);
	assert_int_equal(insitu_opcode_dir(INSITU_CP_VS_EXECUTE_DETACHED), INSITU_DIR_TO_CTRL);
	/* our values do not collide with libnvme's admin opcodes */
	assert_int_not_equal(INSITU_ADMIN_LOAD_PROGRAM, nvme_admin_sanitize_nvm);
	assert_int_not_equal(INSITU_ADMIN_LOAD_PROGRAM, nvme_admin_get_lba_status);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(status_encoding),
		cmocka_unit_test(status_table),
		cmocka_unit_test(sgl_forms),
		cmocka_unit_test(fabrics_commands),
		cmocka_unit_test(cp_slm_vendor_commands),
		cmocka_unit_test(opcode_directions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
