/* NSID 1 through the NVM command set, on a dedup volume or (argument "raw") on raw flash:
 * data written is read back byte for byte (FUA and not), Flush, Write Zeroes (plain and
 * DEAC), Dataset Management deallocate, and every refusal with its exact status: namespace,
 * LBA range, MDTS, SGL length, opcode. A burst larger than the flash queue is deferred, not
 * failed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define SC(sc) (NVME_SC_DNR | (sc))

static bool g_raw;

struct fixture {
	struct h_env e;
	struct h_queue *admin, *io;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	h_env_init(&f->e, !g_raw);
	if (h_env_start(&f->e) < 0)
		return -1;
	f->io = h_io_ready(&f->e, &f->admin);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	h_queue_end(f->io);
	h_queue_end(f->admin);
	h_env_fini(&f->e);
	free(f);
	return 0;
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

static uint64_t nblocks(const struct fixture *f)
{
	return f->e.cfg.ns_bytes / 4096;
}

static void test_write_read(void **state)
{
	struct fixture *f = *state;
	size_t n = 16 * 4096;
	uint8_t *w = malloc(n), *r = malloc(n);
	fill(w, n, 1);
	assert_int_equal(h_rw(f->io, true, 100, 16, false, w), 0);
	memset(r, 0, n);
	assert_int_equal(h_rw(f->io, false, 100, 16, false, r), 0);
	assert_memory_equal(w, r, n);
	/* FUA write of one block over the middle, then the last block of the namespace */
	fill(w, 4096, 2);
	assert_int_equal(h_rw(f->io, true, 108, 1, true, w), 0);
	assert_int_equal(h_rw(f->io, false, 108, 1, false, r), 0);
	assert_memory_equal(w, r, 4096);
	assert_int_equal(h_rw(f->io, true, nblocks(f) - 1, 1, false, w), 0);
	assert_int_equal(h_rw(f->io, false, nblocks(f) - 1, 1, false, r), 0);
	assert_memory_equal(w, r, 4096);
	/* never written: zeros */
	assert_int_equal(h_rw(f->io, false, 5000, 2, false, r), 0);
	uint8_t zero[8192] = {0};
	assert_memory_equal(zero, r, 8192);
	/* the largest transfer (MDTS = 1 MiB) */
	size_t big = 1u << 20;
	uint8_t *bw = malloc(big), *br = malloc(big);
	fill(bw, big, 3);
	assert_int_equal(h_rw(f->io, true, 1024, 256, false, bw), 0);
	assert_int_equal(h_rw(f->io, false, 1024, 256, false, br), 0);
	assert_memory_equal(bw, br, big);
	free(bw);
	free(br);
	free(w);
	free(r);
}

static void test_refusals(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = calloc(1, 2u << 20);
	struct insitu_nvme_sqe sqe;
	/* LBA range */
	assert_int_equal(h_rw(f->io, false, nblocks(f), 1, false, buf), SC(NVME_SC_LBA_RANGE));
	assert_int_equal(h_rw(f->io, true, nblocks(f) - 1, 2, false, buf), SC(NVME_SC_LBA_RANGE));
	assert_int_equal(h_rw(f->io, false, ~0ull - 1, 4, false, buf), SC(NVME_SC_LBA_RANGE));
	/* MDTS exceeded: 257 blocks */
	assert_int_equal(h_rw(f->io, true, 0, 257, false, buf), SC(NVME_SC_INVALID_FIELD));
	/* namespace 2, namespace 0 */
	insitu_sqe_init(&sqe, nvme_cmd_read, 1, 2);
	insitu_sqe_set_sgl_transport(&sqe, 4096);
	assert_int_equal(h_run(f->io, &sqe, NULL, 4096, buf, NULL), SC(NVME_SC_INVALID_NS));
	sqe.nsid = 0;
	assert_int_equal(h_run(f->io, &sqe, NULL, 4096, buf, NULL), SC(NVME_SC_INVALID_NS));
	/* SGL shorter (and longer) than NLB says */
	sqe.nsid = htole32(1);
	sqe.cdw12 = htole32(1);	/* 2 blocks */
	assert_int_equal(h_run(f->io, &sqe, NULL, 4096, buf, NULL), SC(NVME_SC_SGL_INVALID_DATA));
	assert_int_equal(h_run(f->io, &sqe, NULL, 3 * 4096, buf, NULL), SC(NVME_SC_SGL_INVALID_DATA));
	/* unknown NVM opcode, an admin opcode on an I/O queue, a fused command */
	insitu_sqe_init(&sqe, nvme_cmd_compare, 2, 1);
	assert_int_equal(h_run(f->io, &sqe, NULL, 0, NULL, NULL), SC(NVME_SC_INVALID_OPCODE));
	insitu_sqe_init(&sqe, nvme_admin_identify, 3, 1);
	assert_int_equal(h_run(f->io, &sqe, NULL, 0, NULL, NULL), SC(NVME_SC_INVALID_OPCODE));
	insitu_sqe_init(&sqe, nvme_cmd_flush, 4, 1);
	sqe.flags |= 1;
	assert_int_equal(h_run(f->io, &sqe, NULL, 0, NULL, NULL), SC(NVME_SC_INVALID_FIELD));
	/* Property Get is an admin-queue command */
	struct insitu_nvmf_property p = { .ofst = NVME_REG_CSTS };
	insitu_nvmf_property_encode(&sqe, 5, &p);
	assert_int_equal(h_run(f->io, &sqe, NULL, 0, NULL, NULL), SC(NVME_SC_INVALID_OPCODE));
	free(buf);
}

static uint16_t flush(struct fixture *f, uint32_t nsid)
{
	struct insitu_nvme_sqe sqe;
	insitu_sqe_init(&sqe, nvme_cmd_flush, 9, nsid);
	return h_run(f->io, &sqe, NULL, 0, NULL, NULL);
}

static uint16_t write_zeroes(struct fixture *f, uint64_t slba, uint32_t n, bool deac, bool fua)
{
	struct insitu_nvme_sqe sqe;
	insitu_sqe_init(&sqe, nvme_cmd_write_zeroes, 10, 1);
	sqe.cdw10 = htole32((uint32_t)slba);
	sqe.cdw11 = htole32((uint32_t)(slba >> 32));
	sqe.cdw12 = htole32((n - 1) | (deac ? 1u << 25 : 0) | (fua ? 1u << 30 : 0));
	return h_run(f->io, &sqe, NULL, 0, NULL, NULL);
}

static uint16_t dsm(struct fixture *f, const struct nvme_dsm_range *r, unsigned nr, bool ad)
{
	struct insitu_nvme_sqe sqe;
	insitu_sqe_init(&sqe, nvme_cmd_dsm, 11, 1);
	uint32_t len = nr * (uint32_t)sizeof(*r);
	insitu_sqe_set_sgl_incapsule(&sqe, len);
	sqe.cdw10 = htole32(nr - 1);
	sqe.cdw11 = htole32(ad ? NVME_DSMGMT_AD : 0);
	return h_run(f->io, &sqe, r, len, NULL, NULL);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void test_flush_zeroes_dsm(void **state)
{
	struct fixture *f = *state;
	size_t n = 600 * 4096;
	uint8_t *w = malloc(n), *r = malloc(n);
	fill(w, n, 7);
	/* 600 blocks in three writes */
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(h_rw(f->io, true, 2000 + i * 200, 200, false, w + i * 200 * 4096), 0);
	assert_int_equal(flush(f, 1), 0);
	assert_int_equal(flush(f, NVME_NSID_ALL), 0);
	assert_int_equal(flush(f, 2), SC(NVME_SC_INVALID_NS));

	/* Write Zeroes of 300 blocks (more than one flash request) from block 2010, FUA */
	assert_int_equal(write_zeroes(f, 2010, 300, false, true), 0);
	/* DEAC over 10 blocks at 2500 */
	assert_int_equal(write_zeroes(f, 2500, 10, true, false), 0);
	assert_int_equal(write_zeroes(f, nblocks(f) - 5, 10, false, false), SC(NVME_SC_LBA_RANGE));
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(h_rw(f->io, false, 2000 + i * 200, 200, false, r + i * 200 * 4096), 0);
	assert_memory_equal(r, w, 10 * 4096);
	assert_true(all_zero(r + 10 * 4096, 300 * 4096));
	assert_memory_equal(r + 310 * 4096, w + 310 * 4096, 190 * 4096);
	assert_true(all_zero(r + 500 * 4096, 10 * 4096));
	assert_memory_equal(r + 510 * 4096, w + 510 * 4096, 90 * 4096);

	/* DSM deallocate: two ranges (one larger than a flash request), one empty range */
	assert_int_equal(h_rw(f->io, true, 2000, 200, false, w), 0);
	struct nvme_dsm_range rg[3] = {
		{ .nlb = htole32(3), .slba = htole64(2001) },
		{ .nlb = htole32(0), .slba = htole64(0) },
		{ .nlb = htole32(290), .slba = htole64(2100) },
	};
	assert_int_equal(dsm(f, rg, 3, true), 0);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(h_rw(f->io, false, 2000 + i * 200, 200, false, r + i * 200 * 4096), 0);
	assert_memory_equal(r, w, 4096);
	assert_true(all_zero(r + 4096, 3 * 4096));
	assert_memory_equal(r + 4 * 4096, w + 4 * 4096, 96 * 4096);
	assert_true(all_zero(r + 100 * 4096, 290 * 4096));
	/* without AD nothing changes; a range past the end fails before anything is deallocated */
	assert_int_equal(h_rw(f->io, true, 2000, 10, false, w), 0);
	struct nvme_dsm_range one = { .nlb = htole32(5), .slba = htole64(2000) };
	assert_int_equal(dsm(f, &one, 1, false), 0);
	struct nvme_dsm_range bad[2] = {
		{ .nlb = htole32(5), .slba = htole64(2000) },
		{ .nlb = htole32(2), .slba = htole64(nblocks(f) - 1) },
	};
	assert_int_equal(dsm(f, bad, 2, true), SC(NVME_SC_LBA_RANGE));
	assert_int_equal(h_rw(f->io, false, 2000, 10, false, r), 0);
	assert_memory_equal(r, w, 10 * 4096);
	/* DSM data shorter than NR ranges */
	struct insitu_nvme_sqe sqe;
	insitu_sqe_init(&sqe, nvme_cmd_dsm, 12, 1);
	sqe.cdw10 = htole32(1);
	sqe.cdw11 = htole32(NVME_DSMGMT_AD);
	insitu_sqe_set_sgl_incapsule(&sqe, 16);
	assert_int_equal(h_run(f->io, &sqe, &one, 16, NULL, NULL), SC(NVME_SC_SGL_INVALID_DATA));
	free(w);
	free(r);
}

/* 200 writes in flight at once against a flash queue of 64: the command layer defers what
 * does not fit and every command completes once, successfully, with its data in place. */
static void test_burst_deferred(void **state)
{
	struct fixture *f = *state;
	enum { N = 200 };
	struct h_cmd *c[N];
	uint8_t *data = malloc((size_t)N * 4096);
	fill(data, (size_t)N * 4096, 11);
	for (unsigned i = 0; i < N; i++) {
		struct insitu_nvme_sqe sqe;
		insitu_sqe_init(&sqe, nvme_cmd_write, (uint16_t)(100 + i), 1);
		insitu_sqe_set_sgl_transport(&sqe, 4096);
		sqe.cdw10 = htole32(3000 + i);
		c[i] = h_start(f->io, &sqe, data + (size_t)i * 4096, 4096);
		assert_false(c[i]->prepared_fail);
	}
	assert_true(fw_subsys_inflight(f->e.s) > 0);
	for (unsigned i = 0; i < N; i++) {
		h_wait(&f->e, c[i]);
		assert_int_equal(c[i]->status, 0);
		assert_int_equal(c[i]->dones, 1);
		h_cmd_free(c[i]);
	}
	assert_int_equal(fw_subsys_inflight(f->e.s), 0);
	uint8_t *r = malloc((size_t)N * 4096);
	assert_int_equal(h_rw(f->io, false, 3000, N, false, r), 0);
	assert_memory_equal(r, data, (size_t)N * 4096);
	free(r);
	free(data);
}

int main(int argc, char **argv)
{
	g_raw = argc > 1 && strcmp(argv[1], "raw") == 0;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_zeroes_dsm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_burst_deferred, setup, teardown),
	};
	return cmocka_run_group_tests_name(g_raw ? "nvm-raw" : "nvm-dedup", tests, NULL, NULL);
}
