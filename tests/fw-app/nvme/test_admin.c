/* Admin commands of the NVM and discovery controllers: Identify (every field the Linux fabrics
 * host checks), the log pages (SMART counters moving by exact amounts, error log entries,
 * effects, the discovery entry, C1h dedup figures after duplicate writes), features, the
 * keep-alive timeout driven by explicit tick times, and AERs held, refused past AERL and
 * aborted with the queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "insitu/proto/nvme_cs.h"

#define SC(sc)   (NVME_SC_DNR | (sc))
#define SCT1(sc) (NVME_SC_DNR | (NVME_SCT_CMD_SPECIFIC << NVME_SCT_SHIFT) | (sc))

static int setup(void **state)
{
	static struct h_env e;
	h_env_init(&e, true);
	if (h_env_start(&e) < 0)
		return -1;
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	h_env_fini(*state);
	return 0;
}

static uint64_t u128_lo(const uint8_t *f)
{
	uint64_t v;
	memcpy(&v, f, 8);
	return le64toh(v);
}

static void test_identify(void **state)
{
	struct h_env *e = *state;
	struct h_queue *a = h_queue_new(e, false);
	uint16_t cntlid = h_admin_ready(a);
	struct nvme_id_ctrl id;
	assert_int_equal(h_identify(a, NVME_IDENTIFY_CNS_CTRL, 0, 0, &id), 0);
	assert_int_equal(le16toh(id.cntlid), cntlid);
	assert_memory_equal(id.sn, "INSITU0001          ", 20);
	assert_memory_equal(id.mn, "insitu computational storage            ", 40);
	assert_memory_equal(id.fr, "0.1.0   ", 8);
	assert_int_equal(id.cntrltype, NVME_CTRL_CNTRLTYPE_IO);
	assert_string_equal(id.subnqn, e->cfg.subnqn);
	assert_int_equal(id.mdts, 8);			/* 1 MiB = 4 KiB << 8 */
	assert_int_equal(le16toh(id.maxcmd), e->cfg.queue_depth);
	assert_int_equal(le16toh(id.kas), 10);
	assert_int_equal(id.sqes, 0x66);
	assert_int_equal(id.cqes, 0x44);
	assert_int_equal(le32toh(id.nn), 1);
	assert_int_equal(le32toh(id.ver), 0x10400);
	assert_int_equal(id.aerl, 3);
	assert_int_equal(id.elpe, 63);
	assert_int_equal(le16toh(id.oncs), NVME_CTRL_ONCS_DSM | NVME_CTRL_ONCS_WRITE_ZEROES);
	assert_int_equal(id.vwc, 0x7);
	assert_int_equal(id.lpa, NVME_CTRL_LPA_SMART_PER_NS | NVME_CTRL_LPA_CMD_EFFECTS |
				 NVME_CTRL_LPA_EXTENDED);
	assert_int_equal(le32toh(id.sgls), 1u | NVME_CTRL_SGLS_OFFSET | NVME_CTRL_SGLS_TPORT);
	assert_int_equal(le32toh(id.ioccsz), (64 + e->cfg.max_icd_bytes) / 16);
	assert_int_equal(le32toh(id.iorcsz), 1);
	assert_int_equal(le16toh(id.icdoff), 0);
	assert_int_equal(id.fcatt, 0);
	assert_int_equal(id.msdbd, 1);
	assert_int_equal(le16toh(id.oacs), 0);
	assert_int_equal(le32toh(id.ctratt), NVME_CTRL_CTRATT_128_ID | NVME_CTRL_CTRATT_TBKAS);

	struct nvme_id_ns ns;
	assert_int_equal(h_identify(a, NVME_IDENTIFY_CNS_NS, 1, 0, &ns), 0);
	assert_int_equal(le64toh(ns.nsze), e->cfg.ns_bytes / 4096);
	assert_int_equal(le64toh(ns.ncap), e->cfg.ns_bytes / 4096);
	assert_int_equal(le64toh(ns.nuse), 0);		/* thin: nothing written yet */
	assert_int_equal(ns.nlbaf, 0);
	assert_int_equal(ns.flbas, 0);
	assert_int_equal(ns.lbaf[0].ds, 12);
	assert_int_equal(ns.dlfeat, 0x09);
	uint8_t zero16[16] = {0};
	assert_memory_not_equal(ns.nguid, zero16, 16);
	assert_int_equal(h_identify(a, NVME_IDENTIFY_CNS_NS, 2, 0, &ns), SC(NVME_SC_INVALID_NS));
	assert_int_equal(h_identify(a, NVME_IDENTIFY_CNS_NS, NVME_NSID_ALL, 0, &ns),
			 SC(NVME_SC_INVALID_NS));

	uint8_t buf[4096];
	assert_int_equal(h_identify(a, NVME_IDENTIFY_CNS_NS_ACTIVE_LIST, 0, 0, buf), 0);
	uint32_t l0, l1;
	memcpy(&l0, buf, 4);
	memcpy(&l1, buf + 4, 4);
	assert_int_equal(le32toh(l0), 1);
	assert_int_equal(l1, 0);
	assert_int_equal(h_identify(a, NVME_IDENTIFY_CNS_NS_ACTIVE_LIST, 1, 0, buf), 0);
	memcpy(&l0, buf, 4);
	assert_int_equal(l0, 0);

	/* descriptors: NGUID (the same as in Identify Namespace), UUID, CSI 0 */
	assert_int_equal(h_identify(a, NVME_IDENTIFY_CNS_NS_DESC_LIST, 1, 0, buf), 0);
	assert_int_equal(buf[0], NVME_NIDT_NGUID);
	assert_int_equal(buf[1], 16);
	assert_memory_equal(buf + 4, ns.nguid, 16);
	assert_int_equal(buf[20], NVME_NIDT_UUID);
	assert_int_equal(buf[21], 16);
	assert_int_equal(buf[40], NVME_NIDT_CSI);
	assert_int_equal(buf[41], 1);
	assert_int_equal(buf[44], NVME_CSI_NVM);
	assert_int_equal(buf[45], 0);	/* end of the list */

	assert_int_equal(h_identify(a, NVME_IDENTIFY_CNS_CSI_NS, 1, NVME_CSI_NVM, buf), 0);
	assert_int_equal(h_identify(a, NVME_IDENTIFY_CNS_CSI_CTRL, 0, NVME_CSI_NVM, buf), 0);
	assert_int_equal(h_identify(a, NVME_IDENTIFY_CNS_CSI_CTRL, 0, 2, buf), SC(NVME_SC_INVALID_FIELD));
	assert_int_equal(h_identify(a, NVME_IDENTIFY_CNS_CTRL_LIST, 0, 0, buf), SC(NVME_SC_INVALID_FIELD));
	h_queue_end(a);

	/* the identifiers are those of the volume: the same after a restart */
	char err[256];
	assert_int_equal(fw_subsys_destroy(e->s, err, sizeof(err)), 0);
	e->s = NULL;
	assert_int_equal(h_env_start(e), 0);
	a = h_queue_new(e, false);
	h_admin_ready(a);
	struct nvme_id_ns ns2;
	assert_int_equal(h_identify(a, NVME_IDENTIFY_CNS_NS, 1, 0, &ns2), 0);
	assert_memory_equal(ns2.nguid, ns.nguid, 16);
	h_queue_end(a);

	/* a new format is a new namespace: new identifiers */
	assert_int_equal(fw_subsys_destroy(e->s, err, sizeof(err)), 0);
	e->s = NULL;
	e->cfg.format = true;
	assert_int_equal(h_env_start(e), 0);
	e->cfg.format = false;
	a = h_queue_new(e, false);
	h_admin_ready(a);
	assert_int_equal(h_identify(a, NVME_IDENTIFY_CNS_NS, 1, 0, &ns2), 0);
	assert_memory_not_equal(ns2.nguid, ns.nguid, 16);
	h_queue_end(a);
}

static void test_smart_and_telemetry(void **state)
{
	struct h_env *e = *state;
	struct h_queue *a;
	struct h_queue *io = h_io_ready(e, &a);
	struct nvme_smart_log s0, s1;
	assert_int_equal(h_get_log(a, NVME_LOG_LID_SMART, NVME_NSID_ALL, 0, 512, &s0), 0);
	assert_int_equal(s0.avail_spare, 100);

	/* 3 writes of the same 8 blocks of data (24 blocks = 96 KiB), 2 reads of 1 block */
	uint8_t *w = malloc(8 * 4096), *r = malloc(4096);
	for (size_t i = 0; i < 8 * 4096; i++)
		w[i] = (uint8_t)(i * 7 + i / 4096);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(h_rw(io, true, 100 + 8 * i, 8, false, w), 0);
	assert_int_equal(h_rw(io, false, 100, 1, false, r), 0);
	assert_int_equal(h_rw(io, false, 101, 1, false, r), 0);
	assert_int_equal(h_rw(io, false, 1u << 30, 1, false, r), SC(NVME_SC_LBA_RANGE));

	assert_int_equal(h_get_log(a, NVME_LOG_LID_SMART, 1, 0, 512, &s1), 0);
	assert_int_equal(u128_lo(s1.host_writes) - u128_lo(s0.host_writes), 3);
	assert_int_equal(u128_lo(s1.host_reads) - u128_lo(s0.host_reads), 2);
	/* 98304 bytes = 192 sectors -> 1 data unit (rounded up); 8192 bytes -> 1 */
	assert_int_equal(u128_lo(s1.data_units_written), 1);
	assert_int_equal(u128_lo(s1.data_units_read), 1);
	assert_int_equal(u128_lo(s1.num_err_log_entries), 1);
	assert_int_equal(h_get_log(a, NVME_LOG_LID_SMART, 2, 0, 512, &s1), SC(NVME_SC_INVALID_NS));

	/* C1h: 24 blocks written, 8 unique: 16 dedup hits, ratio 3.000 */
	struct insitu_vs_telemetry_hdr t;
	assert_int_equal(h_get_log(a, INSITU_LOG_VS_TELEMETRY, 0, 0, sizeof(t), &t), 0);
	assert_int_equal(le16toh(t.ver), 1);
	assert_int_equal(le16toh(t.hsz), 512);
	assert_int_equal(le16toh(t.psz), 64);
	assert_int_equal(le64toh(t.host_write_bytes), 24 * 4096);
	assert_int_equal(le64toh(t.host_read_bytes), 2 * 4096);
	assert_int_equal(le64toh(t.unique_blocks), 8);
	assert_int_equal(le64toh(t.phys_used), 8 * 4096);
	assert_int_equal(le64toh(t.logical_used), 24 * 4096);
	assert_int_equal(le64toh(t.dedup_hits), 16);
	assert_int_equal(le32toh(t.dedup_ratio), 3000);
	assert_true(le64toh(t.cap_bytes) > 0);
	assert_true(le16toh(t.ncpu) >= 1);
	assert_true(le64toh(t.mem_total) > 0);
	/* the 8 unique blocks reached the flash (with their journal entries) */
	assert_true(le64toh(t.flash_write_bytes) >= 8 * 4096);

	/* flash counters: reading the 8 stored blocks moves exactly their bytes, writes nothing */
	struct insitu_vs_telemetry_hdr t2;
	assert_int_equal(h_rw(io, false, 100, 8, false, w), 0);
	assert_int_equal(h_get_log(a, INSITU_LOG_VS_TELEMETRY, 0, 0, sizeof(t2), &t2), 0);
	assert_int_equal(le64toh(t2.flash_read_bytes) - le64toh(t.flash_read_bytes), 8 * 4096);
	assert_int_equal(le64toh(t2.flash_write_bytes), le64toh(t.flash_write_bytes));

	/* thin namespace: NUSE counts the 24 mapped blocks */
	struct nvme_id_ns ns;
	assert_int_equal(h_identify(a, NVME_IDENTIFY_CNS_NS, 1, 0, &ns), 0);
	assert_int_equal(le64toh(ns.nuse), 24);
	free(w);
	free(r);
	h_queue_end(io);
	h_queue_end(a);
}

static void test_error_log_effects_offsets(void **state)
{
	struct h_env *e = *state;
	struct h_queue *a;
	struct h_queue *io = h_io_ready(e, &a);
	uint8_t r[4096];
	struct insitu_nvme_sqe sqe;
	/* two failures: an LBA out of range on QID 1, an unknown admin opcode on QID 0 */
	insitu_sqe_init(&sqe, nvme_cmd_read, 0x1234, 1);
	insitu_sqe_set_sgl_transport(&sqe, 4096);
	sqe.cdw10 = htole32(0x7fffffff);
	assert_int_equal(h_run(io, &sqe, NULL, 4096, r, NULL), SC(NVME_SC_LBA_RANGE));
	insitu_sqe_init(&sqe, 0xF7, 0x4321, 0);
	assert_int_equal(h_run(a, &sqe, NULL, 0, NULL, NULL), SC(NVME_SC_INVALID_OPCODE));

	struct nvme_error_log_page el[64];
	assert_int_equal(h_get_log(a, NVME_LOG_LID_ERROR, 0, 0, sizeof(el), el), 0);
	assert_int_equal(le64toh(el[0].error_count), 2);	/* newest first */
	assert_int_equal(le16toh(el[0].sqid), 0);
	assert_int_equal(le16toh(el[0].cmdid), 0x4321);
	assert_int_equal(le16toh(el[0].status_field) >> 1, SC(NVME_SC_INVALID_OPCODE));
	assert_int_equal(le64toh(el[1].error_count), 1);
	assert_int_equal(le16toh(el[1].sqid), 1);
	assert_int_equal(le16toh(el[1].cmdid), 0x1234);
	assert_int_equal(le16toh(el[1].status_field) >> 1, SC(NVME_SC_LBA_RANGE));
	assert_int_equal(le64toh(el[1].lba), 0x7fffffff);
	assert_int_equal(le32toh(el[1].nsid), 1);
	assert_int_equal(le64toh(el[2].error_count), 0);
	/* LPO: the second entry alone */
	struct nvme_error_log_page one;
	assert_int_equal(h_get_log(a, NVME_LOG_LID_ERROR, 0, 64, 64, &one), 0);
	assert_memory_equal(&one, &el[1], 64);
	/* LPO not a dword multiple, past the end; unknown log page */
	assert_int_equal(h_get_log(a, NVME_LOG_LID_ERROR, 0, 2, 64, &one), SC(NVME_SC_INVALID_FIELD));
	assert_int_equal(h_get_log(a, NVME_LOG_LID_ERROR, 0, 8192, 64, &one), SC(NVME_SC_INVALID_FIELD));
	assert_int_equal(h_get_log(a, 0x0D, 0, 0, 64, &one), SCT1(NVME_SC_INVALID_LOG_PAGE));
	assert_int_equal(h_get_log(a, NVME_LOG_LID_DISCOVER, 0, 0, 1024, r),
			 SCT1(NVME_SC_INVALID_LOG_PAGE));
	/* reading beyond a page's end gives zeros after it */
	uint8_t smart[1024];
	assert_int_equal(h_get_log(a, NVME_LOG_LID_SMART, 0, 0, 1024, smart), 0);
	uint8_t zero[512] = {0};
	assert_memory_equal(smart + 512, zero, 512);

	struct nvme_cmd_effects_log fx;
	assert_int_equal(h_get_log(a, NVME_LOG_LID_CMD_EFFECTS, 0, 0, sizeof(fx), &fx), 0);
	assert_int_equal(le32toh(fx.acs[nvme_admin_identify]), NVME_CMD_EFFECTS_CSUPP);
	assert_int_equal(le32toh(fx.acs[nvme_admin_keep_alive]), NVME_CMD_EFFECTS_CSUPP);
	assert_int_equal(le32toh(fx.acs[nvme_admin_format_nvm]), 0);
	assert_int_equal(le32toh(fx.iocs[nvme_cmd_read]), NVME_CMD_EFFECTS_CSUPP);
	assert_int_equal(le32toh(fx.iocs[nvme_cmd_write]), NVME_CMD_EFFECTS_CSUPP | NVME_CMD_EFFECTS_LBCC);
	assert_int_equal(le32toh(fx.iocs[nvme_cmd_dsm]), NVME_CMD_EFFECTS_CSUPP | NVME_CMD_EFFECTS_LBCC);
	assert_int_equal(le32toh(fx.iocs[nvme_cmd_compare]), 0);

	struct nvme_firmware_slot fs;
	assert_int_equal(h_get_log(a, NVME_LOG_LID_FW_SLOT, 0, 0, sizeof(fs), &fs), 0);
	assert_int_equal(fs.afi, 1);
	assert_memory_equal(fs.frs[0], "0.1.0   ", 8);
	h_queue_end(io);
	h_queue_end(a);
}

static void test_features(void **state)
{
	struct h_env *e = *state;
	struct h_queue *a = h_queue_new(e, false);
	h_admin_ready(a);
	uint32_t v;
	assert_int_equal(h_features(a, false, NVME_FEAT_FID_NUM_QUEUES, 0, &v), 0);
	assert_int_equal(v, (3u << 16) | 3u);		/* 4 I/O queues configured */
	assert_int_equal(h_features(a, true, NVME_FEAT_FID_NUM_QUEUES, (63u << 16) | 63u, &v), 0);
	assert_int_equal(v, (3u << 16) | 3u);		/* asked for 64, granted 4 */
	assert_int_equal(h_features(a, true, NVME_FEAT_FID_NUM_QUEUES, (5u << 16) | 1u, &v), 0);
	assert_int_equal(v, (1u << 16) | 1u);
	assert_int_equal(h_features(a, true, NVME_FEAT_FID_NUM_QUEUES, 0xffffu, &v),
			 SC(NVME_SC_INVALID_FIELD));
	assert_int_equal(h_features(a, false, NVME_FEAT_FID_KATO, 0, &v), 0);
	assert_int_equal(v, 5000);			/* from Connect */
	assert_int_equal(h_features(a, true, NVME_FEAT_FID_KATO, 12000, &v), 0);
	assert_int_equal(h_features(a, false, NVME_FEAT_FID_KATO, 0, &v), 0);
	assert_int_equal(v, 12000);
	assert_int_equal(h_features(a, true, NVME_FEAT_FID_ASYNC_EVENT, 0x1f, &v), 0);
	assert_int_equal(h_features(a, false, NVME_FEAT_FID_ASYNC_EVENT, 0, &v), 0);
	assert_int_equal(v, 0x1f);
	assert_int_equal(h_features(a, true, NVME_FEAT_FID_ASYNC_EVENT, 1u << 8, &v),
			 SC(NVME_SC_INVALID_FIELD));
	assert_int_equal(h_features(a, false, NVME_FEAT_FID_VOLATILE_WC, 0, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(h_features(a, true, NVME_FEAT_FID_VOLATILE_WC, 0, &v),
			 SCT1(NVME_SC_FEATURE_NOT_CHANGEABLE));
	assert_int_equal(h_features(a, false, NVME_FEAT_FID_ARBITRATION, 0, &v),
			 SC(NVME_SC_INVALID_FIELD));
	assert_int_equal(h_features(a, true, NVME_FEAT_FID_TIMESTAMP, 0, &v),
			 SC(NVME_SC_INVALID_FIELD));
	/* Save bit: not saveable */
	struct insitu_nvme_sqe sqe;
	insitu_sqe_init(&sqe, nvme_admin_set_features, 700, 0);
	sqe.cdw10 = htole32(NVME_FEAT_FID_KATO | 0x80000000u);
	sqe.cdw11 = htole32(1000);
	assert_int_equal(h_run(a, &sqe, NULL, 0, NULL, NULL), SCT1(NVME_SC_FEATURE_NOT_SAVEABLE));
	h_queue_end(a);
}

static void tick(struct h_env *e, uint64_t ms)
{
	fw_subsys_tick(e->s, ms);
}

/* Host rates and CPU use in log C1h cover the last complete interval of tick time. */
static void test_telemetry_rates(void **state)
{
	struct h_env *e = *state;
	struct insitu_vs_telemetry_hdr t;
	uint8_t *buf = calloc(8, 4096);

	tick(e, 1000);
	struct h_queue *a;
	struct h_queue *io = h_io_ready(e, &a);
	for (unsigned i = 0; i < 8 * 4096; i++)
		buf[i] = (uint8_t)(i * 13 + 1);
	assert_int_equal(h_rw(io, true, 0, 8, false, buf), 0);	/* 32768 bytes */
	assert_int_equal(h_rw(io, false, 0, 2, false, buf), 0);	/* 8192 bytes */
	tick(e, 1500);		/* the interval is still open: no rates yet */
	assert_int_equal(h_get_log(a, INSITU_LOG_VS_TELEMETRY, 0, 0, sizeof(t), &t), 0);
	assert_int_equal(le64toh(t.write_bps), 0);
	assert_int_equal(le64toh(t.read_bps), 0);
	tick(e, 3000);		/* 2 s closed: 32768 B / 2 s written, 8192 B / 2 s read */
	assert_int_equal(h_get_log(a, INSITU_LOG_VS_TELEMETRY, 0, 0, sizeof(t), &t), 0);
	assert_int_equal(le64toh(t.write_bps), 16384);
	assert_int_equal(le64toh(t.read_bps), 4096);
	assert_true(le16toh(t.cpu_busy) <= 10000);
	tick(e, 4000);		/* a quiet second */
	assert_int_equal(h_get_log(a, INSITU_LOG_VS_TELEMETRY, 0, 0, sizeof(t), &t), 0);
	assert_int_equal(le64toh(t.write_bps), 0);
	assert_int_equal(le64toh(t.read_bps), 0);
	free(buf);
	h_queue_end(io);
	h_queue_end(a);
}

static void test_keep_alive_expiry(void **state)
{
	struct h_env *e = *state;
	tick(e, 1000);
	/* controller A (KATO 5 s) with two I/O queues, controller B (KATO 0) with one */
	struct h_queue *a = h_queue_new(e, false);
	uint16_t ca = h_admin_ready(a);
	struct h_queue *a1 = h_queue_new(e, false), *a2 = h_queue_new(e, false);
	assert_int_equal(h_connect_io(a1, 1, ca, H_HOSTNQN, 31, 0, NULL), 0);
	assert_int_equal(h_connect_io(a2, 2, ca, H_HOSTNQN, 31, 0, NULL), 0);
	struct h_queue *b = h_queue_new(e, false);
	uint16_t cb = 0;
	assert_int_equal(h_connect_admin(b, e->cfg.subnqn, H_HOSTNQN, 31, 0, &cb), 0);
	assert_int_equal(h_prop_set(b, NVME_REG_CC, 1 | (6u << 16) | (4u << 20)), 0);
	struct h_queue *b1 = h_queue_new(e, false);
	assert_int_equal(h_connect_io(b1, 1, cb, H_HOSTNQN, 31, 0, NULL), 0);

	/* a Keep Alive at 4 s restarts A's timer */
	tick(e, 4000);
	struct insitu_nvme_sqe sqe;
	insitu_sqe_init(&sqe, nvme_admin_keep_alive, 500, 0);
	assert_int_equal(h_run(a, &sqe, NULL, 0, NULL, NULL), 0);
	tick(e, 9000);		/* exactly KATO after it: not yet */
	assert_int_equal(a->closes + a1->closes + a2->closes, 0);
	/* I/O traffic counts as keep alive too (TBKAS) */
	insitu_sqe_init(&sqe, nvme_cmd_flush, 501, 1);
	assert_int_equal(h_run(a1, &sqe, NULL, 0, NULL, NULL), 0);
	tick(e, 14000);
	assert_int_equal(a->closes + a1->closes + a2->closes, 0);
	tick(e, 14001);
	assert_int_equal(a->closes, 1);
	assert_int_equal(a1->closes, 1);
	assert_int_equal(a2->closes, 1);
	assert_string_equal(a->reason, "keep-alive timeout");
	assert_int_equal(b->closes + b1->closes, 0);
	/* later ticks do not close again; the dead controller refuses commands */
	tick(e, 60000);
	assert_int_equal(a->closes + a1->closes + a2->closes, 3);
	assert_int_equal(h_run(a1, &sqe, NULL, 0, NULL, NULL), SC(NVME_SC_CMD_SEQ_ERROR));
	h_queue_end(a1);
	h_queue_end(a);
	h_queue_end(a2);
	/* B lives on */
	assert_int_equal(h_run(b1, &sqe, NULL, 0, NULL, NULL), 0);
	h_queue_end(b1);
	h_queue_end(b);
}

/* Between ticks the transport gives the time (fw_subsys_clock): a Keep Alive 900 ms after a
 * tick counts from then, not from the tick (a 1 s KATO would otherwise expire while the
 * host keeps it alive every 500 ms). */
static void test_keep_alive_clock(void **state)
{
	struct h_env *e = *state;
	struct insitu_nvme_sqe sqe;
	tick(e, 1000);
	struct h_queue *a = h_queue_new(e, false);
	uint16_t ca = 0;
	assert_int_equal(h_connect_admin(a, e->cfg.subnqn, H_HOSTNQN, 31, 1000, &ca), 0);
	assert_int_equal(h_prop_set(a, NVME_REG_CC, 1 | (6u << 16) | (4u << 20)), 0);
	fw_subsys_clock(e->s, 1900);
	insitu_sqe_init(&sqe, nvme_admin_keep_alive, 510, 0);
	assert_int_equal(h_run(a, &sqe, NULL, 0, NULL, NULL), 0);
	tick(e, 2000);
	tick(e, 2900);		/* exactly KATO after the Keep Alive: alive */
	assert_int_equal(a->closes, 0);
	fw_subsys_clock(e->s, 2500);	/* time never goes back */
	tick(e, 2901);
	assert_int_equal(a->closes, 1);
	h_queue_end(a);
}

static void test_aer(void **state)
{
	struct h_env *e = *state;
	struct h_queue *a = h_queue_new(e, false);
	h_admin_ready(a);
	struct h_cmd *held[4];
	struct insitu_nvme_sqe sqe;
	for (int i = 0; i < 4; i++) {
		insitu_sqe_init(&sqe, nvme_admin_async_event, (uint16_t)(600 + i), 0);
		held[i] = h_start(a, &sqe, NULL, 0);
		assert_false(held[i]->prepared_fail);
		assert_int_equal(held[i]->dones, 0);
	}
	/* the fifth: limit exceeded, at once */
	insitu_sqe_init(&sqe, nvme_admin_async_event, 604, 0);
	assert_int_equal(h_run(a, &sqe, NULL, 0, NULL, NULL), SCT1(NVME_SC_ASYNC_LIMIT));
	/* other commands pass the held ones */
	uint8_t id[4096];
	assert_int_equal(h_identify(a, NVME_IDENTIFY_CNS_CTRL, 0, 0, id), 0);
	fw_subsys_poll(e->s);
	for (int i = 0; i < 4; i++)
		assert_int_equal(held[i]->dones, 0);
	/* the connection ends: each completes once, Command Aborted due to SQ Deletion */
	fw_queue_abort(a->q);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(held[i]->dones, 1);
		assert_int_equal(held[i]->status, NVME_SC_ABORT_QUEUE);
		assert_int_equal(le16toh(held[i]->cmd.cqe.cid), 600 + i);
		h_cmd_free(held[i]);
	}
	fw_queue_destroy(a->q);
	free(a);
}

static void test_discovery(void **state)
{
	struct h_env *e = *state;
	/* on the discovery port only the discovery NQN is served */
	struct h_queue *d = h_queue_new(e, true);
	struct insitu_nvme_cqe cqe;
	(void)cqe;
	assert_int_equal(h_connect_admin(d, e->cfg.subnqn, H_HOSTNQN, 31, 0, NULL),
			 SCT1(NVME_SC_CONNECT_INVALID_PARAM));
	uint16_t cntlid = 0;
	assert_int_equal(h_connect_admin(d, NVME_DISC_SUBSYS_NAME, H_HOSTNQN, 31, 0, &cntlid), 0);
	assert_int_equal(h_prop_set(d, NVME_REG_CC, 1 | (6u << 16) | (4u << 20)), 0);
	struct nvme_id_ctrl id;
	assert_int_equal(h_identify(d, NVME_IDENTIFY_CNS_CTRL, 0, 0, &id), 0);
	assert_int_equal(id.cntrltype, NVME_CTRL_CNTRLTYPE_DISCOVERY);
	assert_string_equal(id.subnqn, NVME_DISC_SUBSYS_NAME);
	assert_int_equal(le16toh(id.cntlid), cntlid);
	assert_int_equal(le32toh(id.nn), 0);
	assert_int_equal(h_identify(d, NVME_IDENTIFY_CNS_NS, 1, 0, &id), SC(NVME_SC_INVALID_FIELD));

	/* header, then the entry at offset 1024, as nvme-cli reads them */
	uint8_t log[2048];
	assert_int_equal(h_get_log(d, NVME_LOG_LID_DISCOVER, 0, 0, 1024, log), 0);
	const struct nvmf_discovery_log *h = (const void *)log;
	assert_int_equal(le64toh(h->numrec), 1);
	assert_int_equal(le64toh(h->genctr), 1);
	assert_int_equal(h_get_log(d, NVME_LOG_LID_DISCOVER, 0, 1024, 1024, log + 1024), 0);
	const struct nvmf_disc_log_entry *en = (const void *)(log + 1024);
	assert_int_equal(en->trtype, NVMF_TRTYPE_TCP);
	assert_int_equal(en->adrfam, NVMF_ADDR_FAMILY_IP4);
	assert_int_equal(en->subtype, NVME_NQN_NVME);
	assert_int_equal(en->treq, NVMF_TREQ_DISABLE_SQFLOW);
	assert_int_equal(le16toh(en->cntlid), 0xFFFF);
	assert_int_equal(le16toh(en->asqsz), e->cfg.queue_depth);
	assert_string_equal(en->trsvcid, "4420");
	assert_string_equal(en->traddr, "127.0.0.1");
	assert_string_equal(en->subnqn, e->cfg.subnqn);
	assert_int_equal(en->tsas.tcp.sectype, NVMF_TCP_SECTYPE_NONE);
	/* only discovery commands */
	assert_int_equal(h_get_log(d, NVME_LOG_LID_SMART, 0, 0, 512, log), SCT1(NVME_SC_INVALID_LOG_PAGE));
	assert_int_equal(h_features(d, false, NVME_FEAT_FID_NUM_QUEUES, 0, NULL), SC(NVME_SC_INVALID_FIELD));
	struct insitu_nvme_sqe sqe;
	insitu_sqe_init(&sqe, nvme_admin_abort_cmd, 5, 0);
	assert_int_equal(h_run(d, &sqe, NULL, 0, NULL, NULL), SC(NVME_SC_INVALID_OPCODE));
	insitu_sqe_init(&sqe, nvme_admin_keep_alive, 6, 0);
	assert_int_equal(h_run(d, &sqe, NULL, 0, NULL, NULL), 0);
	h_queue_end(d);

	/* listening on a wildcard: the entry names the address the host reached; a port bound
	 * as "any" is the one the transport reports */
	snprintf(e->cfg.listen_addr, sizeof(e->cfg.listen_addr), "0.0.0.0");
	char err[256];
	assert_int_equal(fw_subsys_destroy(e->s, err, sizeof(err)), 0);
	e->s = NULL;
	assert_int_equal(h_env_start(e), 0);
	fw_subsys_set_port(e->s, 45678);
	d = h_queue_new(e, false);	/* discovery is served on the NVM port too */
	assert_int_equal(h_connect_admin(d, NVME_DISC_SUBSYS_NAME, H_HOSTNQN, 31, 0, NULL), 0);
	assert_int_equal(h_prop_set(d, NVME_REG_CC, 1 | (6u << 16) | (4u << 20)), 0);
	assert_int_equal(h_get_log(d, NVME_LOG_LID_DISCOVER, 0, 0, 2048, log), 0);
	assert_string_equal(en->traddr, "192.0.2.7");
	assert_string_equal(en->trsvcid, "45678");
	/* a discovery controller takes no I/O queue */
	struct h_queue *io = h_queue_new(e, false);
	assert_int_equal(h_connect_io(io, 1, 1, H_HOSTNQN, 31, 0, &cqe),
			 SCT1(NVME_SC_CONNECT_INVALID_PARAM));
	h_queue_end(io);
	h_queue_end(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_smart_and_telemetry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_telemetry_rates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_log_effects_offsets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_alive_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_alive_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discovery, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
