/* SQE encoding of the CP, SLM and vendor commands: where each field of nvme_cs.h sits in
 * the command dwords. Both the daemon (decode) and the host library (encode) use these, so
 * the bit positions live in exactly one place. */
#include "insitu/proto/nvme_cs.h"

#include <endian.h>
#include <errno.h>

static uint32_t dw(__le32 v)
{
	return le32toh(v);
}

static __le32 le(uint32_t v)
{
	return htole32(v);
}

void insitu_cp_load_program_encode(struct insitu_nvme_sqe *sqe, uint16_t cid, uint32_t nsid,
				   const struct insitu_cp_load_program *a)
{
	insitu_sqe_init(sqe, INSITU_ADMIN_LOAD_PROGRAM, cid, nsid);
	sqe->cdw10 = le(a->pind | (uint32_t)a->ptype << 16 | (uint32_t)(a->unload ? 1 : 0) << 24 |
			(uint32_t)(a->pit & 0x7) << 25);
	sqe->cdw11 = le(a->psize);
	sqe->cdw12 = le((uint32_t)a->pid);
	sqe->cdw13 = le((uint32_t)(a->pid >> 32));
	sqe->cdw14 = le(a->numb);
	sqe->cdw15 = le(a->loff);
}

int insitu_cp_load_program_decode(const struct insitu_nvme_sqe *sqe, struct insitu_cp_load_program *a)
{
	if (sqe->opc != INSITU_ADMIN_LOAD_PROGRAM)
		return -EINVAL;
	uint32_t c10 = dw(sqe->cdw10);
	a->pind = (uint16_t)c10;
	a->ptype = (uint8_t)(c10 >> 16);
	a->unload = (c10 >> 24) & 1;
	a->pit = (c10 >> 25) & 0x7;
	a->psize = dw(sqe->cdw11);
	a->pid = dw(sqe->cdw12) | (uint64_t)dw(sqe->cdw13) << 32;
	a->numb = dw(sqe->cdw14);
	a->loff = dw(sqe->cdw15);
	return 0;
}

void insitu_cp_program_act_encode(struct insitu_nvme_sqe *sqe, uint16_t cid, uint32_t nsid,
				  const struct insitu_cp_program_act *a)
{
	insitu_sqe_init(sqe, INSITU_ADMIN_PROGRAM_ACT_MGMT, cid, nsid);
	sqe->cdw10 = le(a->pind | (uint32_t)(a->activate ? 1 : 0) << 16);
}

int insitu_cp_program_act_decode(const struct insitu_nvme_sqe *sqe, struct insitu_cp_program_act *a)
{
	if (sqe->opc != INSITU_ADMIN_PROGRAM_ACT_MGMT)
		return -EINVAL;
	uint32_t c10 = dw(sqe->cdw10);
	uint32_t sel = (c10 >> 16) & 0xF;
	if (sel > 1)
		return -EINVAL;
	a->pind = (uint16_t)c10;
	a->activate = sel == 1;
	return 0;
}

void insitu_cp_mrs_mgmt_encode(struct insitu_nvme_sqe *sqe, uint16_t cid, uint32_t nsid,
			       const struct insitu_cp_mrs_mgmt *a)
{
	insitu_sqe_init(sqe, INSITU_ADMIN_MEM_RANGE_SET_MGMT, cid, nsid);
	sqe->cdw10 = le((a->sel & 0xFu) | (uint32_t)a->rsid << 16);
	sqe->cdw11 = le(a->numr);
}

int insitu_cp_mrs_mgmt_decode(const struct insitu_nvme_sqe *sqe, struct insitu_cp_mrs_mgmt *a)
{
	if (sqe->opc != INSITU_ADMIN_MEM_RANGE_SET_MGMT)
		return -EINVAL;
	uint32_t c10 = dw(sqe->cdw10);
	uint8_t sel = c10 & 0xF;
	if (sel != INSITU_CP_MRS_CREATE && sel != INSITU_CP_MRS_DELETE)
		return -EINVAL;
	a->sel = sel;
	a->rsid = (uint16_t)(c10 >> 16);
	a->numr = (uint8_t)dw(sqe->cdw11);
	return 0;
}

void insitu_cp_execute_encode(struct insitu_nvme_sqe *sqe, uint8_t opc, uint16_t cid, uint32_t nsid,
			      const struct insitu_cp_execute *a)
{
	insitu_sqe_init(sqe, opc, cid, nsid);
	sqe->cdw2 = le(a->pind | (uint32_t)a->rsid << 16);
	sqe->cdw3 = le(a->numr);
	sqe->cdw4 = le(a->dlen);
	sqe->cdw10 = le((uint32_t)a->cparam1);
	sqe->cdw11 = le((uint32_t)(a->cparam1 >> 32));
	sqe->cdw12 = le((uint32_t)a->cparam2);
	sqe->cdw13 = le((uint32_t)(a->cparam2 >> 32));
}

int insitu_cp_execute_decode(const struct insitu_nvme_sqe *sqe, struct insitu_cp_execute *a)
{
	if (sqe->opc != INSITU_CP_EXECUTE_PROGRAM && sqe->opc != INSITU_CP_VS_EXECUTE_DETACHED)
		return -EINVAL;
	uint32_t c2 = dw(sqe->cdw2);
	a->pind = (uint16_t)c2;
	a->rsid = (uint16_t)(c2 >> 16);
	a->numr = dw(sqe->cdw3);
	a->dlen = dw(sqe->cdw4);
	a->cparam1 = dw(sqe->cdw10) | (uint64_t)dw(sqe->cdw11) << 32;
	a->cparam2 = dw(sqe->cdw12) | (uint64_t)dw(sqe->cdw13) << 32;
	return 0;
}

static bool is_slm_rw(uint8_t opc)
{
	return opc == INSITU_SLM_MEMORY_READ || opc == INSITU_SLM_MEMORY_WRITE ||
	       opc == INSITU_SLM_MEMORY_FILL;
}

void insitu_slm_mem_rw_encode(struct insitu_nvme_sqe *sqe, uint8_t opc, uint16_t cid, uint32_t nsid,
			      const struct insitu_slm_mem_rw *a)
{
	insitu_sqe_init(sqe, opc, cid, nsid);
	sqe->cdw10 = le((uint32_t)a->sb);
	sqe->cdw11 = le((uint32_t)(a->sb >> 32));
	sqe->cdw12 = le(a->length);
	if (opc == INSITU_SLM_MEMORY_FILL)
		sqe->cdw13 = le(a->pattern);
}

int insitu_slm_mem_rw_decode(const struct insitu_nvme_sqe *sqe, struct insitu_slm_mem_rw *a)
{
	if (!is_slm_rw(sqe->opc))
		return -EINVAL;
	a->sb = dw(sqe->cdw10) | (uint64_t)dw(sqe->cdw11) << 32;
	a->length = dw(sqe->cdw12);
	a->pattern = sqe->opc == INSITU_SLM_MEMORY_FILL ? dw(sqe->cdw13) : 0;
	return 0;
}

void insitu_vs_job_mgmt_encode(struct insitu_nvme_sqe *sqe, uint16_t cid, uint32_t nsid,
			       const struct insitu_vs_job_mgmt *a)
{
	insitu_sqe_init(sqe, INSITU_ADMIN_VS_JOB_MGMT, cid, nsid);
	sqe->cdw10 = le(a->sel & 0xFu);
	sqe->cdw11 = le(a->jobid);
}

int insitu_vs_job_mgmt_decode(const struct insitu_nvme_sqe *sqe, struct insitu_vs_job_mgmt *a)
{
	if (sqe->opc != INSITU_ADMIN_VS_JOB_MGMT)
		return -EINVAL;
	uint8_t sel = dw(sqe->cdw10) & 0xF;
	if (sel != INSITU_VS_JOB_ABORT && sel != INSITU_VS_JOB_RELEASE)
		return -EINVAL;
	a->sel = sel;
	a->jobid = dw(sqe->cdw11);
	return 0;
}
