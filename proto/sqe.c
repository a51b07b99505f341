/* Submission Queue Entry helpers: building the common dwords and the two SGL forms
 * NVMe/TCP allows, and judging the SGL of a received command. */
#include "insitu/proto/sqe.h"

#include <endian.h>
#include <nvme/types.h>
#include <string.h>

#include "insitu/proto/cqe.h"

void insitu_sqe_init(struct insitu_nvme_sqe *sqe, uint8_t opc, uint16_t cid, uint32_t nsid)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opc = opc;
	sqe->flags = INSITU_SQE_PSDT_SGL << INSITU_SQE_PSDT_SHIFT;
	sqe->cid = htole16(cid);
	sqe->nsid = htole32(nsid);
}

uint16_t insitu_sqe_cid(const struct insitu_nvme_sqe *sqe)
{
	return le16toh(sqe->cid);
}

uint32_t insitu_sqe_nsid(const struct insitu_nvme_sqe *sqe)
{
	return le32toh(sqe->nsid);
}

unsigned insitu_sqe_psdt(const struct insitu_nvme_sqe *sqe)
{
	return (sqe->flags >> INSITU_SQE_PSDT_SHIFT) & INSITU_SQE_PSDT_MASK;
}

unsigned insitu_sqe_fuse(const struct insitu_nvme_sqe *sqe)
{
	return sqe->flags & INSITU_SQE_FUSE_MASK;
}

void insitu_sqe_set_sgl_incapsule(struct insitu_nvme_sqe *sqe, uint32_t len)
{
	memset(&sqe->dptr, 0, sizeof(sqe->dptr));
	sqe->dptr.sgl.addr = htole64(0);	/* offset into the in-capsule data */
	sqe->dptr.sgl.length = htole32(len);
	sqe->dptr.sgl.type = INSITU_SGL_TCP_INCAPSULE;
}

void insitu_sqe_set_sgl_transport(struct insitu_nvme_sqe *sqe, uint32_t len)
{
	memset(&sqe->dptr, 0, sizeof(sqe->dptr));
	sqe->dptr.sgl.length = htole32(len);
	sqe->dptr.sgl.type = INSITU_SGL_TCP_TRANSPORT;
}

uint32_t insitu_sqe_data_len(const struct insitu_nvme_sqe *sqe)
{
	return le32toh(sqe->dptr.sgl.length);
}

uint16_t insitu_sqe_check_tcp_sgl(const struct insitu_nvme_sqe *sqe, uint32_t icd_len,
				  uint32_t max_icd)
{
	const struct insitu_nvme_sgl *sgl = &sqe->dptr.sgl;
	uint32_t len = le32toh(sgl->length);

	switch (sgl->type) {
	case INSITU_SGL_TCP_INCAPSULE:
		if (le64toh(sgl->addr) != 0)
			return insitu_status(NVME_SCT_GENERIC, NVME_SC_SGL_INVALID_OFFSET, true);
		if (len > max_icd)
			return insitu_status(NVME_SCT_GENERIC, NVME_SC_SGL_INVALID_OFFSET, true);
		if (len != icd_len)
			return insitu_status(NVME_SCT_GENERIC, NVME_SC_SGL_INVALID_DATA, true);
		return 0;
	case INSITU_SGL_TCP_TRANSPORT:
		if (icd_len != 0)
			return insitu_status(NVME_SCT_GENERIC, NVME_SC_SGL_INVALID_DATA, true);
		return 0;
	default:
		/* A command without data may leave SGL1 zeroed (type 0, length 0). */
		if (len == 0 && icd_len == 0 && sgl->type == 0)
			return 0;
		return insitu_status(NVME_SCT_GENERIC, NVME_SC_SGL_INVALID_TYPE, true);
	}
}
