/* Get Log Page: Error Information (failed commands of this controller, newest first), SMART /
 * Health (host commands and data units as counted here), Firmware Slot, Commands Supported and
 * Effects, Discovery (discovery controllers), and the vendor Telemetry log C1h. Any page is
 * read at any dword offset (LPOL/LPOU) and length (NUMDL/NUMDU); past its end reads zeros. */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "dedup/volume.h"
#include "insitu/proto/nvme_cs.h"
#include "internal.h"
#include "log.h"

#define LOG_MAX 4096u	/* the largest page we build */

struct log_args {
	uint8_t  lid;
	uint8_t  csi;
	uint64_t lpo;
	uint64_t len;
};

static void log_args(const struct fw_cmd *cmd, struct log_args *a)
{
	uint32_t cdw10 = le32toh(cmd->sqe.cdw10), cdw11 = le32toh(cmd->sqe.cdw11);
	a->lid = (uint8_t)(cdw10 & 0xff);
	uint64_t numd = ((uint64_t)(cdw11 & 0xffff) << 16) | (cdw10 >> 16);
	a->len = (numd + 1) * 4;
	a->lpo = ((uint64_t)le32toh(cmd->sqe.cdw13) << 32) | le32toh(cmd->sqe.cdw12);
	a->csi = (uint8_t)(le32toh(cmd->sqe.cdw14) >> 24);
}

static size_t log_size(const struct fw_ctrl *c, uint8_t lid)
{
	if (c->discovery)
		return lid == NVME_LOG_LID_DISCOVER ?
		       sizeof(struct nvmf_discovery_log) + sizeof(struct nvmf_disc_log_entry) : 0;
	switch (lid) {
	case NVME_LOG_LID_ERROR:
		return FW_ERRLOG_ENTRIES * sizeof(struct nvme_error_log_page);
	case NVME_LOG_LID_SMART:
		return sizeof(struct nvme_smart_log);
	case NVME_LOG_LID_FW_SLOT:
		return sizeof(struct nvme_firmware_slot);
	case NVME_LOG_LID_CMD_EFFECTS:
		return sizeof(struct nvme_cmd_effects_log);
	case INSITU_LOG_VS_TELEMETRY:
		return sizeof(struct insitu_vs_telemetry_hdr);
	default:
		return 0;
	}
}

uint16_t fw_logpage_prepare(struct fw_queue *q, struct fw_cmd *cmd)
{
	struct log_args a;
	log_args(cmd, &a);
	size_t size = log_size(q->ctrl, a.lid);
	if (!size)
		return fw_sc_cmd(NVME_SC_INVALID_LOG_PAGE);
	if (a.len > q->s->cfg.mdts_bytes || (a.lpo & 3) || a.lpo > size)
		return fw_sc(NVME_SC_INVALID_FIELD);
	if (a.lid == NVME_LOG_LID_CMD_EFFECTS && a.csi != NVME_CSI_NVM)
		return fw_sc(NVME_SC_INVALID_FIELD);
	if (a.lid == NVME_LOG_LID_SMART) {
		uint32_t nsid = le32toh(cmd->sqe.nsid);
		if (nsid != 0 && nsid != 1 && nsid != NVME_NSID_ALL)
			return fw_sc(NVME_SC_INVALID_NS);
	}
	return fw_cmd_want(cmd, FW_DIR_C2H, (uint32_t)a.len, false);
}

/* ---- Error Information --------------------------------------------------------------------- */

void fw_errlog_record(struct fw_ctrl *c, const struct fw_cmd *cmd, uint16_t status)
{
	const struct fw_queue *q = cmd->queue;
	struct nvme_error_log_page *e = &c->errlog[c->err_count % FW_ERRLOG_ENTRIES];
	c->err_count++;
	memset(e, 0, sizeof(*e));
	e->error_count = htole64(c->err_count);
	e->sqid = htole16(q->qid);
	e->cmdid = cmd->sqe.cid;
	e->status_field = htole16((uint16_t)(status << 1));
	e->parm_error_location = htole16(0xffff);
	e->nsid = cmd->sqe.nsid;
	if (q->qid && (cmd->sqe.opc == nvme_cmd_read || cmd->sqe.opc == nvme_cmd_write ||
		       cmd->sqe.opc == nvme_cmd_write_zeroes))
		e->lba = htole64(((uint64_t)le32toh(cmd->sqe.cdw11) << 32) | le32toh(cmd->sqe.cdw10));
}

static void build_errlog(const struct fw_ctrl *c, uint8_t *out)
{
	struct nvme_error_log_page *e = (struct nvme_error_log_page *)(void *)out;
	for (uint64_t i = 0; i < FW_ERRLOG_ENTRIES && i < c->err_count; i++)
		e[i] = c->errlog[(c->err_count - 1 - i) % FW_ERRLOG_ENTRIES];
}

/* ---- SMART / Health ------------------------------------------------------------------------ */

static void put_u128(uint8_t *field, uint64_t v)
{
	uint64_t le = htole64(v);
	memcpy(field, &le, sizeof(le));
}

/* Data units are thousands of 512-byte units, rounded up [NVMe Base, SMART log]. */
static uint64_t data_units(uint64_t bytes)
{
	uint64_t sectors = bytes / 512;
	return (sectors + 999) / 1000;
}

static uint64_t uptime_ms(const struct fw_subsys *s)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return (now - s->start_ns) / 1000000u;
}

/* Composite temperature in kelvins from the SoC's first thermal zone; 0 (not reported) on a
 * machine without one. */
static uint16_t soc_temperature_k(void)
{
	FILE *f = fopen("/sys/class/thermal/thermal_zone0/temp", "re");
	long mc = 0;
	int ok = f && fscanf(f, "%ld", &mc) == 1;
	if (f)
		fclose(f);
	if (!ok || mc < -273000 || mc > 200000)
		return 0;
	return (uint16_t)(mc / 1000 + 273);
}

static void build_smart(const struct fw_queue *q, uint8_t *out)
{
	const struct fw_subsys *s = q->s;
	struct nvme_smart_log *l = (struct nvme_smart_log *)(void *)out;
	uint16_t temp = htole16(soc_temperature_k());
	memcpy(l->temperature, &temp, sizeof(temp));
	l->avail_spare = 100;
	l->spare_thresh = 10;
	put_u128(l->data_units_read, data_units(s->host.read_bytes));
	put_u128(l->data_units_written, data_units(s->host.write_bytes));
	put_u128(l->host_reads, s->host.read_cmds);
	put_u128(l->host_writes, s->host.write_cmds);
	put_u128(l->power_cycles, 1);
	put_u128(l->power_on_hours, uptime_ms(s) / 3600000u);
	put_u128(l->num_err_log_entries, q->ctrl->err_count);
}

/* ---- Firmware Slot, Commands Supported and Effects ----------------------------------------- */

static void build_fw_slot(uint8_t *out)
{
	struct nvme_firmware_slot *l = (struct nvme_firmware_slot *)(void *)out;
	l->afi = 1;
	fw_ascii_pad(l->frs[0], sizeof(l->frs[0]), FW_FIRMWARE_REV);
}

static void build_effects(uint8_t *out)
{
	struct nvme_cmd_effects_log *l = (struct nvme_cmd_effects_log *)(void *)out;
	static const uint8_t admin[] = {
		nvme_admin_get_log_page, nvme_admin_identify, nvme_admin_abort_cmd,
		nvme_admin_set_features, nvme_admin_get_features, nvme_admin_async_event,
		nvme_admin_keep_alive,
	};
	for (size_t i = 0; i < sizeof(admin); i++)
		l->acs[admin[i]] = htole32(NVME_CMD_EFFECTS_CSUPP);
	l->iocs[nvme_cmd_flush] = htole32(NVME_CMD_EFFECTS_CSUPP);
	l->iocs[nvme_cmd_read] = htole32(NVME_CMD_EFFECTS_CSUPP);
	l->iocs[nvme_cmd_write] = htole32(NVME_CMD_EFFECTS_CSUPP | NVME_CMD_EFFECTS_LBCC);
	l->iocs[nvme_cmd_write_zeroes] = htole32(NVME_CMD_EFFECTS_CSUPP | NVME_CMD_EFFECTS_LBCC);
	l->iocs[nvme_cmd_dsm] = htole32(NVME_CMD_EFFECTS_CSUPP | NVME_CMD_EFFECTS_LBCC);
}

/* ---- Telemetry (vendor, C1h) ---------------------------------------------------------------- */

static void build_telemetry(const struct fw_subsys *s, uint8_t *out)
{
	struct insitu_vs_telemetry_hdr *t = (struct insitu_vs_telemetry_hdr *)(void *)out;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	t->ver = htole16(1);
	t->hsz = htole16(sizeof(*t));
	t->psz = htole16(sizeof(struct insitu_vs_prog_history));
	t->nprog = 0;
	t->timestamp = htole64((uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u);
	t->uptime_ms = htole64(uptime_ms(s));
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	t->ncpu = htole16((uint16_t)(ncpu > 0 ? ncpu : 1));
	double load[1];
	if (getloadavg(load, 1) == 1)
		t->load1 = htole32((uint32_t)(load[0] * 100.0));
	struct sysinfo si;
	if (sysinfo(&si) == 0) {
		t->mem_total = htole64((uint64_t)si.totalram * si.mem_unit);
		t->mem_avail = htole64(((uint64_t)si.freeram + si.bufferram) * si.mem_unit);
	}
	t->host_read_bytes = htole64(s->host.read_bytes);
	t->host_write_bytes = htole64(s->host.write_bytes);
	t->read_bps = htole64(s->rates.read_bps);
	t->write_bps = htole64(s->rates.write_bps);
	t->cpu_busy = htole16(s->rates.cpu_busy);
	if (!s->flash.dedup) {
		uint64_t rd, wr;
		fw_raw_bytes(s->flash.raw, &rd, &wr);
		t->flash_read_bytes = htole64(rd);
		t->flash_write_bytes = htole64(wr);
		t->cap_bytes = htole64(s->flash.nblocks << FW_LBA_SHIFT);
		return;
	}
	struct dedup_stats st;
	dedup_volume_get_stats(s->flash.vol, &st);
	t->flash_read_bytes = htole64(st.flash_read_bytes);
	t->flash_write_bytes = htole64(st.flash_write_bytes);
	t->cap_bytes = htole64(st.data_blocks * DEDUP_BLOCK_SIZE);
	t->phys_used = htole64(st.physical_used * DEDUP_BLOCK_SIZE);
	t->logical_used = htole64((st.mapped_blocks + st.zero_blocks) * DEDUP_BLOCK_SIZE);
	t->unique_blocks = htole64(st.physical_used);
	t->dedup_hits = htole64(st.dedup_hits);
	t->zero_blocks = htole64(st.zero_blocks);
	/* logical_used over phys_used, as the field's definition says: zero blocks count as
	 * stored (a host wrote them), so a sparse tensor shows its saving too. */
	t->dedup_ratio = htole32(st.physical_used ?
				 (uint32_t)((st.mapped_blocks + st.zero_blocks) * 1000 /
					    st.physical_used) : 0);
}

void fw_logpage_execute(struct fw_queue *q, struct fw_cmd *cmd)
{
	struct log_args a;
	log_args(cmd, &a);
	uint8_t *page = calloc(1, LOG_MAX);
	if (!page) {
		fw_cmd_complete(cmd, NVME_SC_INTERNAL, 0, 0);
		return;
	}
	size_t size = log_size(q->ctrl, a.lid);
	switch (a.lid) {
	case NVME_LOG_LID_ERROR:
		build_errlog(q->ctrl, page);
		break;
	case NVME_LOG_LID_SMART:
		build_smart(q, page);
		break;
	case NVME_LOG_LID_FW_SLOT:
		build_fw_slot(page);
		break;
	case NVME_LOG_LID_CMD_EFFECTS:
		build_effects(page);
		break;
	case NVME_LOG_LID_DISCOVER:
		size = fw_discovery_log_build(q, page, LOG_MAX);
		break;
	default:
		build_telemetry(q->s, page);
		break;
	}
	uint64_t n = a.lpo < size ? size - a.lpo : 0;
	if (n > a.len)
		n = a.len;
	memcpy(cmd->buf, page + a.lpo, n);
	memset(cmd->buf + n, 0, a.len - n);
	free(page);
	cmd->xfer_len = (uint32_t)a.len;
	fw_cmd_complete(cmd, 0, 0, 0);
}
