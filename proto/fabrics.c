/* Fabrics command encoding: Connect and Property Get/Set through their 64-byte layouts. */
#include "insitu/proto/fabrics.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

bool insitu_nvmf_is_fabrics(const struct insitu_nvme_sqe *sqe)
{
	return sqe->opc == nvme_admin_fabrics;
}

uint8_t insitu_nvmf_fctype(const struct insitu_nvme_sqe *sqe)
{
	struct insitu_nvmf_property_cmd f;

	memcpy(&f, sqe, sizeof(f));
	return f.fctype;
}

void insitu_nvmf_connect_encode(struct insitu_nvme_sqe *sqe, uint16_t cid,
				const struct insitu_nvmf_connect *c)
{
	struct insitu_nvmf_connect_cmd f;

	memset(&f, 0, sizeof(f));
	f.opc = nvme_admin_fabrics;
	f.flags = INSITU_SQE_PSDT_SGL << INSITU_SQE_PSDT_SHIFT;
	f.cid = htole16(cid);
	f.fctype = nvme_fabrics_type_connect;
	f.sgl.length = htole32(sizeof(struct nvmf_connect_data));
	f.sgl.type = INSITU_SGL_TCP_INCAPSULE;
	f.recfmt = htole16(c->recfmt);
	f.qid = htole16(c->qid);
	f.sqsize = htole16(c->sqsize);
	f.cattr = c->cattr;
	f.kato = htole32(c->kato);
	memcpy(sqe, &f, sizeof(f));
}

int insitu_nvmf_connect_decode(const struct insitu_nvme_sqe *sqe, struct insitu_nvmf_connect *c)
{
	struct insitu_nvmf_connect_cmd f;

	memcpy(&f, sqe, sizeof(f));
	if (f.opc != nvme_admin_fabrics || f.fctype != nvme_fabrics_type_connect)
		return -EINVAL;
	c->recfmt = le16toh(f.recfmt);
	c->qid = le16toh(f.qid);
	c->sqsize = le16toh(f.sqsize);
	c->cattr = f.cattr;
	c->kato = le32toh(f.kato);
	return 0;
}

void insitu_nvmf_property_encode(struct insitu_nvme_sqe *sqe, uint16_t cid,
				 const struct insitu_nvmf_property *p)
{
	struct insitu_nvmf_property_cmd f;

	memset(&f, 0, sizeof(f));
	f.opc = nvme_admin_fabrics;
	f.flags = INSITU_SQE_PSDT_SGL << INSITU_SQE_PSDT_SHIFT;
	f.cid = htole16(cid);
	f.fctype = p->set ? nvme_fabrics_type_property_set : nvme_fabrics_type_property_get;
	f.attrib = p->size8 ? INSITU_NVMF_PROP_SIZE_8 : INSITU_NVMF_PROP_SIZE_4;
	f.ofst = htole32(p->ofst);
	if (p->set)
		f.value = htole64(p->size8 ? p->value : (uint32_t)p->value);
	memcpy(sqe, &f, sizeof(f));
}

int insitu_nvmf_property_decode(const struct insitu_nvme_sqe *sqe, struct insitu_nvmf_property *p)
{
	struct insitu_nvmf_property_cmd f;

	memcpy(&f, sqe, sizeof(f));
	if (f.opc != nvme_admin_fabrics || (f.fctype != nvme_fabrics_type_property_set &&
					    f.fctype != nvme_fabrics_type_property_get))
		return -EINVAL;
	uint8_t size = f.attrib & 0x7;
	if (size != INSITU_NVMF_PROP_SIZE_4 && size != INSITU_NVMF_PROP_SIZE_8)
		return -EINVAL;
	p->set = f.fctype == nvme_fabrics_type_property_set;
	p->size8 = size == INSITU_NVMF_PROP_SIZE_8;
	p->ofst = le32toh(f.ofst);
	p->value = p->set ? le64toh(f.value) : 0;
	if (p->set && !p->size8)
		p->value = (uint32_t)p->value;
	return 0;
}
