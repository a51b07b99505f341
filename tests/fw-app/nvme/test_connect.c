/* Fabrics Connect (admin and I/O, every refusal with its status and IATTR/IPO), the property
 * sequence a Linux host runs (CAP, VS, CC enable, CSTS, shutdown to SHST complete, reset), and
 * the state rules: only Connect before Connect, only Fabrics before the controller is ready. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <endian.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define SCT1(sc) (NVME_SC_DNR | (NVME_SCT_CMD_SPECIFIC << NVME_SCT_SHIFT) | (sc))
#define SC(sc)   (NVME_SC_DNR | (sc))

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

static void test_connect_admin_success(void **state)
{
	struct h_env *e = *state;
	struct h_queue *a = h_queue_new(e, false);
	assert_int_equal(fw_queue_qid(a->q), 0);
	assert_int_equal(fw_queue_depth(a->q), 0);
	uint16_t cntlid = 0;
	assert_int_equal(h_connect_admin(a, e->cfg.subnqn, H_HOSTNQN, 31, 5000, &cntlid), 0);
	assert_true(cntlid >= 1 && cntlid <= 0xFFEF);
	assert_int_equal(fw_queue_qid(a->q), 0);
	assert_int_equal(fw_queue_depth(a->q), 32);
	/* a second Connect on a connected queue */
	assert_int_equal(h_connect_admin(a, e->cfg.subnqn, H_HOSTNQN, 31, 5000, NULL),
			 SC(NVME_SC_CMD_SEQ_ERROR));
	/* a second admin queue gets another controller */
	struct h_queue *b = h_queue_new(e, false);
	uint16_t cntlid2 = 0;
	assert_int_equal(h_connect_admin(b, e->cfg.subnqn, H_HOSTNQN, 31, 5000, &cntlid2), 0);
	assert_int_not_equal(cntlid, cntlid2);
	h_queue_end(a);
	h_queue_end(b);
}

static void expect_invalid_param(struct h_queue *q, uint16_t st, const struct insitu_nvme_cqe *cqe,
				 bool in_data, uint16_t ipo)
{
	(void)q;
	assert_int_equal(st, SCT1(NVME_SC_CONNECT_INVALID_PARAM));
	assert_int_equal(le32toh(cqe->dw0), (in_data ? 1u << 16 : 0) | ipo);
}

static void test_connect_refusals(void **state)
{
	struct h_env *e = *state;
	struct h_queue *a = h_queue_new(e, false);
	struct insitu_nvme_sqe sqe;
	struct insitu_nvme_cqe cqe;
	struct nvmf_connect_data d;
	uint16_t st;

	/* commands before Connect */
	insitu_sqe_init(&sqe, nvme_admin_identify, 9, 0);
	insitu_sqe_set_sgl_transport(&sqe, 4096);
	assert_int_equal(h_run(a, &sqe, NULL, 4096, NULL, &cqe), SC(NVME_SC_CMD_SEQ_ERROR));
	assert_int_equal(h_prop_get(a, NVME_REG_CAP, true, NULL), SC(NVME_SC_CMD_SEQ_ERROR));

	/* wrong subsystem NQN: IATTR 1, IPO 256 */
	struct insitu_nvmf_connect c = { .qid = 0, .sqsize = 31, .kato = 5000 };
	insitu_nvmf_connect_encode(&sqe, 10, &c);
	memset(&d, 0, sizeof(d));
	d.cntlid = htole16(0xFFFF);
	strcpy(d.subsysnqn, "nqn.2026-11.dev.other:none");
	strcpy(d.hostnqn, H_HOSTNQN);
	st = h_run(a, &sqe, &d, sizeof(d), NULL, &cqe);
	expect_invalid_param(a, st, &cqe, true, 256);

	/* empty host NQN: IPO 512 */
	snprintf(d.subsysnqn, sizeof(d.subsysnqn), "%s", e->cfg.subnqn);
	memset(d.hostnqn, 0, sizeof(d.hostnqn));
	st = h_run(a, &sqe, &d, sizeof(d), NULL, &cqe);
	expect_invalid_param(a, st, &cqe, true, 512);

	/* static controller ID: IPO 16 */
	strcpy(d.hostnqn, H_HOSTNQN);
	d.cntlid = htole16(5);
	st = h_run(a, &sqe, &d, sizeof(d), NULL, &cqe);
	expect_invalid_param(a, st, &cqe, true, 16);
	d.cntlid = htole16(0xFFFF);

	/* SQSIZE 0 and above MQES: IATTR 0, IPO 44 */
	c.sqsize = 0;
	insitu_nvmf_connect_encode(&sqe, 11, &c);
	st = h_run(a, &sqe, &d, sizeof(d), NULL, &cqe);
	expect_invalid_param(a, st, &cqe, false, 44);
	c.sqsize = (uint16_t)e->cfg.queue_depth;
	insitu_nvmf_connect_encode(&sqe, 12, &c);
	st = h_run(a, &sqe, &d, sizeof(d), NULL, &cqe);
	expect_invalid_param(a, st, &cqe, false, 44);

	/* QID above the I/O queue limit: IPO 42 */
	c.sqsize = 31;
	c.qid = (uint16_t)(e->cfg.max_io_queues + 1);
	insitu_nvmf_connect_encode(&sqe, 13, &c);
	st = h_run(a, &sqe, &d, sizeof(d), NULL, &cqe);
	expect_invalid_param(a, st, &cqe, false, 42);

	/* Record format other than 0 */
	c.qid = 0;
	c.recfmt = 1;
	insitu_nvmf_connect_encode(&sqe, 14, &c);
	assert_int_equal(h_run(a, &sqe, &d, sizeof(d), NULL, &cqe), SCT1(NVME_SC_CONNECT_FORMAT));

	/* Connect data shorter than 1024 bytes */
	c.recfmt = 0;
	insitu_nvmf_connect_encode(&sqe, 15, &c);
	assert_int_equal(h_run(a, &sqe, &d, 512, NULL, &cqe), SC(NVME_SC_SGL_INVALID_DATA));

	/* nothing above created a controller: the queue still connects */
	uint16_t cntlid;
	assert_int_equal(h_connect_admin(a, e->cfg.subnqn, H_HOSTNQN, 31, 0, &cntlid), 0);

	/* I/O queues: unknown controller, other host, controller not ready, then fine */
	struct h_queue *io = h_queue_new(e, false);
	st = h_connect_io(io, 1, (uint16_t)(cntlid + 100), H_HOSTNQN, 31, 0, &cqe);
	expect_invalid_param(io, st, &cqe, true, 16);
	assert_int_equal(h_connect_io(io, 1, cntlid, "nqn.2014-08.org.nvmexpress:uuid:other", 31, 0,
				      &cqe), SCT1(NVME_SC_CONNECT_INVALID_HOST));
	assert_int_equal(h_connect_io(io, 1, cntlid, H_HOSTNQN, 31, 0, &cqe),
			 SC(NVME_SC_CMD_SEQ_ERROR));
	assert_int_equal(h_prop_set(a, NVME_REG_CC, 1 | (6u << 16) | (4u << 20)), 0);
	assert_int_equal(h_connect_io(io, 1, cntlid, H_HOSTNQN, 31, 0, &cqe), 0);
	assert_int_equal(le32toh(cqe.dw0), cntlid);
	assert_int_equal(fw_queue_qid(io->q), 1);
	assert_int_equal(fw_queue_depth(io->q), 32);
	/* the same QID twice */
	struct h_queue *io2 = h_queue_new(e, false);
	assert_int_equal(h_connect_io(io2, 1, cntlid, H_HOSTNQN, 31, 0, &cqe),
			 SC(NVME_SC_CMD_SEQ_ERROR));
	/* Number of Queues granted 2: QID 3 refused, QID 2 accepted */
	h_queue_end(io);
	uint32_t dw0 = 0;
	assert_int_equal(h_features(a, true, NVME_FEAT_FID_NUM_QUEUES, (1u << 16) | 1u, &dw0), 0);
	assert_int_equal(dw0, (1u << 16) | 1u);
	st = h_connect_io(io2, 3, cntlid, H_HOSTNQN, 31, 0, &cqe);
	expect_invalid_param(io2, st, &cqe, false, 42);
	assert_int_equal(h_connect_io(io2, 2, cntlid, H_HOSTNQN, 31, 0, &cqe), 0);
	/* Number of Queues once I/O queues exist */
	assert_int_equal(h_features(a, true, NVME_FEAT_FID_NUM_QUEUES, 0, NULL),
			 SC(NVME_SC_CMD_SEQ_ERROR));
	h_queue_end(io2);
	h_queue_end(a);
}

static void test_controller_busy(void **state)
{
	struct h_env *e = *state;
	struct h_queue *q[9];
	for (unsigned i = 0; i < e->cfg.max_controllers; i++) {
		q[i] = h_queue_new(e, false);
		assert_int_equal(h_connect_admin(q[i], e->cfg.subnqn, H_HOSTNQN, 31, 0, NULL), 0);
	}
	struct h_queue *extra = h_queue_new(e, false);
	assert_int_equal(h_connect_admin(extra, e->cfg.subnqn, H_HOSTNQN, 31, 0, NULL),
			 (NVME_SCT_CMD_SPECIFIC << NVME_SCT_SHIFT) | NVME_SC_CONNECT_CTRL_BUSY);
	h_queue_end(q[0]);
	assert_int_equal(h_connect_admin(extra, e->cfg.subnqn, H_HOSTNQN, 31, 0, NULL), 0);
	for (unsigned i = 1; i < e->cfg.max_controllers; i++)
		h_queue_end(q[i]);
	h_queue_end(extra);
}

static void test_property_sequence(void **state)
{
	struct h_env *e = *state;
	struct h_queue *a = h_queue_new(e, false);
	assert_int_equal(h_connect_admin(a, e->cfg.subnqn, H_HOSTNQN, 31, 5000, NULL), 0);
	uint64_t v;
	assert_int_equal(h_prop_get(a, NVME_REG_CAP, true, &v), 0);
	assert_int_equal(NVME_CAP_MQES(v), e->cfg.queue_depth - 1);
	assert_int_equal(NVME_CAP_CQR(v), 1);
	assert_int_equal(NVME_CAP_CSS(v), NVME_CAP_CSS_NVM);
	assert_int_equal(NVME_CAP_MPSMIN(v), 0);
	assert_true(NVME_CAP_TO(v) > 0);
	assert_int_equal(h_prop_get(a, NVME_REG_VS, false, &v), 0);
	assert_int_equal(v, 0x10400);
	assert_int_equal(h_prop_get(a, NVME_REG_CAP, false, &v), SC(NVME_SC_INVALID_FIELD));
	assert_int_equal(h_prop_get(a, 0x40, false, &v), SC(NVME_SC_INVALID_FIELD));
	assert_int_equal(h_prop_set(a, NVME_REG_CSTS, 1), SC(NVME_SC_INVALID_FIELD));
	assert_int_equal(h_prop_get(a, NVME_REG_CSTS, false, &v), 0);
	assert_int_equal(v, 0);

	/* admin commands need the controller ready */
	uint8_t id[4096];
	assert_int_equal(h_identify(a, NVME_IDENTIFY_CNS_CTRL, 0, 0, id), SC(NVME_SC_CMD_SEQ_ERROR));

	/* enable with a wrong IOSQES: controller fatal status */
	assert_int_equal(h_prop_set(a, NVME_REG_CC, 1 | (5u << 16) | (4u << 20)), 0);
	assert_int_equal(h_prop_get(a, NVME_REG_CSTS, false, &v), 0);
	assert_int_equal(v, 1u << NVME_CSTS_CFS_SHIFT);
	assert_int_equal(h_prop_set(a, NVME_REG_CC, 0), 0);
	assert_int_equal(h_prop_get(a, NVME_REG_CSTS, false, &v), 0);
	assert_int_equal(v, 0);

	uint32_t cc = 1 | (6u << 16) | (4u << 20);
	assert_int_equal(h_prop_set(a, NVME_REG_CC, cc), 0);
	assert_int_equal(h_prop_get(a, NVME_REG_CC, false, &v), 0);
	assert_int_equal(v, cc);
	assert_int_equal(h_prop_get(a, NVME_REG_CSTS, false, &v), 0);
	assert_int_equal(v, NVME_CSTS_RDY_MASK);
	assert_int_equal(h_identify(a, NVME_IDENTIFY_CNS_CTRL, 0, 0, id), 0);

	/* an I/O queue, then a normal shutdown: SHST goes to complete once the flush ran */
	uint16_t cntlid = (uint16_t)le16toh(((struct nvme_id_ctrl *)(void *)id)->cntlid);
	struct h_queue *io = h_queue_new(e, false);
	assert_int_equal(h_connect_io(io, 1, cntlid, H_HOSTNQN, 31, 0, NULL), 0);
	assert_int_equal(h_prop_set(a, NVME_REG_CC, cc | (NVME_CC_SHN_NORMAL << NVME_CC_SHN_SHIFT)), 0);
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(h_prop_get(a, NVME_REG_CSTS, false, &v), 0);
		if (NVME_CSTS_SHST(v) == NVME_CSTS_SHST_CMPLT)
			break;
		assert_int_equal(NVME_CSTS_SHST(v), NVME_CSTS_SHST_OCCUR);
		fw_subsys_poll(e->s);
	}
	assert_int_equal(v, NVME_CSTS_RDY_MASK | (NVME_CSTS_SHST_CMPLT << NVME_CSTS_SHST_SHIFT));
	assert_int_equal(io->closes, 0);

	/* reset: the I/O queue is closed, exactly once, and CSTS clears */
	assert_int_equal(h_prop_set(a, NVME_REG_CC, 0), 0);
	assert_int_equal(io->closes, 1);
	assert_string_equal(io->reason, "controller reset");
	assert_int_equal(a->closes, 0);
	assert_int_equal(h_prop_get(a, NVME_REG_CSTS, false, &v), 0);
	assert_int_equal(v, 0);
	h_queue_end(io);
	h_queue_end(a);
}

static void test_sqhd(void **state)
{
	struct h_env *e = *state;
	struct h_queue *a;
	struct h_queue *io = h_io_ready(e, &a);
	struct insitu_nvme_sqe sqe;
	struct insitu_nvme_cqe cqe;
	/* Connect was the I/O queue's first command: SQHD 1; a flush moves it to 2 */
	insitu_sqe_init(&sqe, nvme_cmd_flush, 77, 1);
	assert_int_equal(h_run(io, &sqe, NULL, 0, NULL, &cqe), 0);
	assert_int_equal(le16toh(cqe.sqhd), 2);
	assert_int_equal(le16toh(cqe.sqid), 1);
	assert_int_equal(le16toh(cqe.cid), 77);
	/* a refused command moves it too, and wraps at the queue size (32) */
	for (int i = 3; i <= 33; i++) {
		insitu_sqe_init(&sqe, 0x7E, (uint16_t)i, 1);
		assert_int_equal(h_run(io, &sqe, NULL, 0, NULL, &cqe), SC(NVME_SC_INVALID_OPCODE));
		assert_int_equal(le16toh(cqe.sqhd), i % 32);
	}
	h_queue_end(io);
	/* SQ flow control disabled at Connect: SQHD reads 0 */
	struct h_queue *io2 = h_queue_new(e, false);
	uint16_t cntlid = (uint16_t)(e->s ? 0 : 0);
	uint8_t id[4096];
	assert_int_equal(h_identify(a, NVME_IDENTIFY_CNS_CTRL, 0, 0, id), 0);
	cntlid = le16toh(((struct nvme_id_ctrl *)(void *)id)->cntlid);
	assert_int_equal(h_connect_io(io2, 2, cntlid, H_HOSTNQN, 31,
				      INSITU_NVMF_CATTR_DISABLE_SQFLOW, &cqe), 0);
	assert_int_equal(le16toh(cqe.sqhd), 0);
	insitu_sqe_init(&sqe, nvme_cmd_flush, 78, 1);
	assert_int_equal(h_run(io2, &sqe, NULL, 0, NULL, &cqe), 0);
	assert_int_equal(le16toh(cqe.sqhd), 0);
	h_queue_end(io2);
	h_queue_end(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_connect_admin_success, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connect_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_controller_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_property_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sqhd, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
