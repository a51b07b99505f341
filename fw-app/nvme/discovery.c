/* The Discovery log page (70h): one entry, our NVM subsystem over NVMe/TCP, with the address a
 * host can actually reach: the configured listen address, or when that is a wildcard or a host
 * name, the numeric address this host's connection came in on. */
#include <arpa/inet.h>
#include <endian.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static bool numeric_family(const char *addr, uint8_t *adrfam)
{
	unsigned char tmp[sizeof(struct in6_addr)];
	if (inet_pton(AF_INET, addr, tmp) == 1) {
		*adrfam = NVMF_ADDR_FAMILY_IP4;
		return strcmp(addr, "0.0.0.0") != 0;
	}
	if (inet_pton(AF_INET6, addr, tmp) == 1) {
		*adrfam = NVMF_ADDR_FAMILY_IP6;
		return memcmp(tmp, &in6addr_any, sizeof(in6addr_any)) != 0;
	}
	return false;
}

void fw_subsys_set_port(struct fw_subsys *s, uint16_t port)
{
	s->cfg.port = port;
}

size_t fw_discovery_log_build(const struct fw_queue *q, uint8_t *out, size_t cap)
{
	const struct fw_subsys *s = q->s;
	size_t len = sizeof(struct nvmf_discovery_log) + sizeof(struct nvmf_disc_log_entry);
	if (cap < len)
		return 0;
	memset(out, 0, len);
	struct nvmf_discovery_log *h = (struct nvmf_discovery_log *)(void *)out;
	h->genctr = htole64(1);		/* the one entry never changes while we run */
	h->numrec = htole64(1);
	h->recfmt = 0;

	struct nvmf_disc_log_entry *e = h->entries;
	uint8_t adrfam = NVMF_ADDR_FAMILY_IP4;
	const char *traddr = s->cfg.listen_addr;
	if (!numeric_family(traddr, &adrfam)) {
		traddr = q->lim.local_addr;
		numeric_family(traddr, &adrfam);
	}
	e->trtype = NVMF_TRTYPE_TCP;
	e->adrfam = adrfam;
	e->subtype = NVME_NQN_NVME;
	/* TREQ leaves the secure-channel field "not specified": libnvme 1.3 turns any value
	 * there into a 'tls' connect option that Linux 6.1 refuses (qemu/INTEROP.md). */
	e->treq = NVMF_TREQ_DISABLE_SQFLOW;
	e->portid = htole16(1);
	e->cntlid = htole16(0xFFFF);	/* dynamic controller model */
	e->asqsz = htole16((uint16_t)s->cfg.queue_depth);
	e->eflags = 0;
	snprintf(e->trsvcid, sizeof(e->trsvcid), "%u", s->cfg.port);
	snprintf(e->subnqn, sizeof(e->subnqn), "%s", s->cfg.subnqn);
	snprintf(e->traddr, sizeof(e->traddr), "%s", traddr);
	e->tsas.tcp.sectype = NVMF_TCP_SECTYPE_NONE;
	return len;
}
