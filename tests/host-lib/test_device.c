/* libinsitu against a real insitu-fw on a sparse file (fw_daemon.h): identify fields, data
 * round trips across MDTS splits and both write paths (in-capsule, R2T), FUA, flush, write
 * zeroes, deallocate, logs, features, NVMe errors by name, one handle shared by threads,
 * the QD32 asynchronous path, digests, and the messages of refused connections.
 * Usage: host-lib.device PATH-TO-insitu-fw */
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <nvme/types.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "fw_daemon.h"
#include "insitu/insitu.h"

#define BS 4096u

static const char *fw_path;
static struct fw_daemon fw;
static struct insitu_dev *dev;

static void fill(uint8_t *b, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b[i] = (uint8_t)x;
	}
}

static void *xalloc(size_t n)
{
	void *p = aligned_alloc(4096, (n + 4095) / 4096 * 4096);

	assert_non_null(p);
	return p;
}

static int setup(void **state)
{
	(void)state;
	if (fw_daemon_start(&fw, fw_path, NULL) < 0)
		return -1;
	if (insitu_open(fw.uri, NULL, &dev) < 0) {
		fprintf(stderr, "open: %s\n", insitu_errmsg());
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	int rc = insitu_close(dev);

	if (rc)
		fprintf(stderr, "close: %s\n", insitu_errmsg());
	int st = fw_daemon_stop(&fw);

	return rc || st ? -1 : 0;
}

static void identify(void **state)
{
	struct nvme_id_ctrl *id = xalloc(sizeof(*id));
	struct nvme_id_ns *ns = xalloc(sizeof(*ns));
	uint32_t bs;
	uint64_t nblocks;

	(void)state;
	assert_int_equal(insitu_identify_ctrl(dev, id), 0);
	assert_memory_equal(id->sn, "INSITU0001          ", 20);
	assert_memory_equal(id->mn, "insitu computational storage", 28);
	assert_string_equal(id->subnqn, "nqn.2026-11.dev.insitu:csd");
	assert_int_equal(le32toh(id->nn), 1);
	assert_int_equal(id->mdts, 8);	/* 1 MiB in 4 KiB pages, insitu-fw's default */
	assert_int_equal(le16toh(id->cntlid), insitu_cntlid(dev));
	assert_int_equal(insitu_max_transfer(dev), 1u << 20);
	assert_int_equal(insitu_identify_ns(dev, 1, ns), 0);
	assert_true(le64toh(ns->nsze) == 65536);
	assert_int_equal(ns->lbaf[ns->flbas & 0xf].ds, 12);
	assert_int_equal(insitu_ns_geometry(dev, 1, &bs, &nblocks), 0);
	assert_int_equal(bs, BS);
	assert_true(nblocks == 65536);
	assert_true(insitu_is_tcp(dev));
	assert_int_equal(strncmp(insitu_hostnqn(dev), "nqn.", 4), 0);
	free(id);
	free(ns);
}

/* 3 MiB + 12 KiB: four commands at MDTS, each larger than in-capsule data, so R2T/H2CData
 * and C2HData carry them; then single blocks, which go in-capsule. */
static void read_write_split(void **state)
{
	size_t len = (3u << 20) + 3 * BS;
	uint8_t *w = xalloc(len), *r = xalloc(len);

	(void)state;
	fill(w, len, 1);
	assert_int_equal(insitu_write(dev, 1, 10, w, len, 0), 0);
	memset(r, 0xee, len);
	assert_int_equal(insitu_read(dev, 1, 10, r, len), 0);
	assert_memory_equal(r, w, len);
	/* in-capsule writes of one block, read back in one piece with the rest */
	fill(w, BS, 2);
	assert_int_equal(insitu_write(dev, 1, 11, w, BS, 0), 0);
	assert_int_equal(insitu_read(dev, 1, 11, r, BS), 0);
	assert_memory_equal(r, w, BS);
	assert_int_equal(insitu_write(dev, 1, 11, w, 100, 0), -EINVAL);
	free(w);
	free(r);
}

static void fua_and_flush(void **state)
{
	uint8_t *w = xalloc(8 * BS), *r = xalloc(8 * BS);

	(void)state;
	fill(w, 8 * BS, 3);
	assert_int_equal(insitu_write(dev, 1, 2000, w, 8 * BS, INSITU_IO_FUA), 0);
	assert_int_equal(insitu_flush(dev, 1), 0);
	assert_int_equal(insitu_read(dev, 1, 2000, r, 8 * BS), 0);
	assert_memory_equal(r, w, 8 * BS);
	free(w);
	free(r);
}

static void write_zeroes_and_deallocate(void **state)
{
	uint8_t *w = xalloc(16 * BS), *r = xalloc(16 * BS), *z = calloc(1, 16 * BS);

	(void)state;
	fill(w, 16 * BS, 4);
	assert_int_equal(insitu_write(dev, 1, 3000, w, 16 * BS, 0), 0);
	assert_int_equal(insitu_write_zeroes(dev, 1, 3004, 5), 0);
	assert_int_equal(insitu_read(dev, 1, 3000, r, 16 * BS), 0);
	assert_memory_equal(r, w, 4 * BS);
	assert_memory_equal(r + 4 * BS, z, 5 * BS);
	assert_memory_equal(r + 9 * BS, w + 9 * BS, 7 * BS);

	assert_int_equal(insitu_deallocate(dev, 1, 3010, 6), 0);
	assert_int_equal(insitu_read(dev, 1, 3000, r, 16 * BS), 0);
	assert_memory_equal(r + 9 * BS, w + 9 * BS, 1 * BS);
	assert_memory_equal(r + 10 * BS, z, 6 * BS);
	free(w);
	free(r);
	free(z);
}

static void logs_and_features(void **state)
{
	struct nvme_smart_log smart;
	struct insitu_telemetry t0, t1;
	uint8_t errlog[64];
	uint8_t *w = xalloc(8 * BS);
	uint32_t dw0 = 0;

	(void)state;
	assert_int_equal(insitu_get_log(dev, NVME_LOG_LID_SMART, 0xffffffff, 0, &smart,
					sizeof(smart)), 0);
	assert_int_equal(smart.avail_spare, 100);
	assert_int_equal(insitu_get_log(dev, NVME_LOG_LID_ERROR, 0xffffffff, 0, errlog,
					sizeof(errlog)), 0);
	assert_int_equal(insitu_get_log(dev, NVME_LOG_LID_SMART, 0xffffffff, 0, &smart, 6),
			 -EINVAL);

	/* the telemetry counts exactly the bytes this test writes */
	assert_int_equal(insitu_telemetry_read(dev, &t0), 0);
	assert_int_equal(t0.ver, 1);
	fill(w, 8 * BS, 5);
	assert_int_equal(insitu_write(dev, 1, 4000, w, 8 * BS, 0), 0);
	assert_int_equal(insitu_telemetry_read(dev, &t1), 0);
	assert_true(t1.host_write_bytes - t0.host_write_bytes == 8 * BS);

	/* Number of Queues was set at open; Get Features returns the grant */
	assert_int_equal(insitu_get_features(dev, NVME_FEAT_FID_NUM_QUEUES, 0, 0, &dw0, NULL, 0), 0);
	assert_true((dw0 & 0xffff) >= 1);
	free(w);
}

static void nvme_error_by_name(void **state)
{
	uint8_t *r = xalloc(BS);
	char want[512];

	(void)state;
	assert_int_equal(insitu_read(dev, 1, 65536, r, BS), -EREMOTEIO);
	assert_int_equal(insitu_last_status() & 0x7ff, 0x0080);
	snprintf(want, sizeof(want), "%s: Read (nsid 1, lba 65536, 4096 bytes): LBA Out of Range "
		 "(SCT 0h SC 80h)", fw.uri);
	assert_string_equal(insitu_errmsg(), want);
	assert_int_equal(insitu_read(dev, 7, 0, r, BS), -EREMOTEIO);
	free(r);
}

/* ---- one handle, several threads ----------------------------------------------------- */

#define THREADS 6
#define ROUNDS  20

struct worker {
	int idx;
	int failures;
};

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	size_t len = 48 * BS;
	uint8_t *w = aligned_alloc(4096, len), *r = aligned_alloc(4096, len);
	uint64_t lba = 10000 + (uint64_t)wk->idx * 64;

	for (int i = 0; i < ROUNDS && w && r; i++) {
		fill(w, len, (uint32_t)(wk->idx * 1000 + i));
		if (insitu_write(dev, 1, lba, w, len, 0) || insitu_read(dev, 1, lba, r, len) ||
		    memcmp(w, r, len))
			wk->failures++;
	}
	free(w);
	free(r);
	return NULL;
}

static void threads_share_handle(void **state)
{
	pthread_t t[THREADS];
	struct worker wk[THREADS];

	(void)state;
	for (int i = 0; i < THREADS; i++) {
		wk[i] = (struct worker){ .idx = i };
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &wk[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(wk[i].failures, 0);
	}
}

/* ---- QD32 asynchronous path ---------------------------------------------------------- */

#define QD    32
#define NIOS  512

static void async_qd32(void **state)
{
	struct insitu_ioq *q;
	struct insitu_io *ios = calloc(NIOS, sizeof(*ios)), *done[QD];
	uint8_t *w = xalloc((size_t)NIOS * BS), *r = xalloc((size_t)NIOS * BS);
	unsigned next = 0, completed = 0, max_inflight = 0;

	(void)state;
	assert_int_equal(insitu_ioq_open(dev, QD, &q), 0);
	fill(w, (size_t)NIOS * BS, 6);
	for (int pass = 0; pass < 2; pass++) {
		next = completed = 0;
		while (completed < NIOS) {
			while (next < NIOS && insitu_ioq_inflight(q) < QD) {
				/* a scattered permutation of blocks 20000.. */
				unsigned slot = (next * 37) % NIOS;

				ios[next] = (struct insitu_io){
					.op = pass ? INSITU_OP_READ : INSITU_OP_WRITE, .nsid = 1,
					.lba = 20000 + slot, .len = BS,
					.buf = (pass ? r : w) + (size_t)slot * BS, .user = &ios[next] };
				assert_int_equal(insitu_ioq_submit(q, &ios[next]), 0);
				next++;
			}
			if (insitu_ioq_inflight(q) > max_inflight)
				max_inflight = insitu_ioq_inflight(q);
			int n = insitu_ioq_reap(q, done, QD, 1);

			assert_true(n >= 1);
			for (int i = 0; i < n; i++) {
				assert_ptr_equal(done[i]->user, done[i]);
				assert_int_equal(done[i]->result, 0);
			}
			completed += (unsigned)n;
		}
	}
	assert_int_equal(max_inflight, QD);
	assert_memory_equal(r, w, (size_t)NIOS * BS);
	/* a full queue refuses more */
	for (unsigned i = 0; i < QD; i++) {
		ios[i] = (struct insitu_io){ .op = INSITU_OP_READ, .nsid = 1, .lba = 20000 + i,
					     .len = BS, .buf = r + (size_t)i * BS };
		assert_int_equal(insitu_ioq_submit(q, &ios[i]), 0);
	}
	struct insitu_io extra = { .op = INSITU_OP_FLUSH, .nsid = 1 };

	assert_int_equal(insitu_ioq_submit(q, &extra), -EAGAIN);
	insitu_ioq_close(q);
	free(ios);
	free(w);
	free(r);
}

/* ---- connections ----------------------------------------------------------------------- */

static void digests(void **state)
{
	struct insitu_open_opts o;
	struct insitu_dev *d2;
	size_t len = (1u << 20) + BS;
	uint8_t *w = xalloc(len), *r = xalloc(len);

	(void)state;
	insitu_open_opts_init(&o);
	o.hdgst = o.ddgst = true;
	assert_int_equal(insitu_open(fw.uri, &o, &d2), 0);
	fill(w, len, 7);
	assert_int_equal(insitu_write(d2, 1, 30000, w, len, 0), 0);
	assert_int_equal(insitu_read(d2, 1, 30000, r, len), 0);
	assert_memory_equal(r, w, len);
	/* the first handle sees the same data */
	memset(r, 0, len);
	assert_int_equal(insitu_read(dev, 1, 30000, r, len), 0);
	assert_memory_equal(r, w, len);
	assert_int_equal(insitu_close(d2), 0);
	free(w);
	free(r);
}

/* With a 1 s Keep Alive Timeout and nothing to do for 3 s, the handle's keep-alive thread is
 * what keeps the controller alive: insitu-fw deletes a controller silent for longer than
 * KATO at its next 1 s tick (tests/fw-app/nvme proves that side). The idle time is the
 * stimulus here, not a wait for something to happen. */
static void keep_alive(void **state)
{
	struct insitu_open_opts o;
	struct insitu_dev *d2;
	uint8_t *r = xalloc(BS);
	struct timespec idle = { .tv_sec = 3 };

	(void)state;
	insitu_open_opts_init(&o);
	o.kato_ms = 1000;
	assert_int_equal(insitu_open(fw.uri, &o, &d2), 0);
	while (nanosleep(&idle, &idle) < 0 && errno == EINTR)
		;
	assert_int_equal(insitu_read(d2, 1, 0, r, BS), 0);
	assert_int_equal(insitu_close(d2), 0);
	free(r);
}

static void refused(void **state)
{
	struct insitu_dev *d2 = NULL;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	char uri[128], want[256];
	int s = socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	/* a port nobody listens on: bound (so it is ours) but never listening */
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
	snprintf(uri, sizeof(uri), "nvme+tcp://127.0.0.1:%u", ntohs(a.sin_port));
	assert_int_equal(insitu_open(uri, NULL, &d2), -ECONNREFUSED);
	snprintf(want, sizeof(want), "%s: connection refused: is insitu-fw running on "
		 "127.0.0.1:%u?", uri, ntohs(a.sin_port));
	assert_string_equal(insitu_errmsg(), want);
	close(s);

	assert_int_equal(insitu_open("nvme+tcp://127.0.0.1:0", NULL, &d2), -EINVAL);
	assert_string_equal(insitu_errmsg(), "bad device URI: 'nvme+tcp://127.0.0.1:0': port 0 is "
			    "out of range 1..65535");
	assert_int_equal(insitu_open("csd0", NULL, &d2), -EINVAL);
	assert_string_equal(insitu_errmsg(), "'csd0' is not a device: use "
			    "nvme+tcp://HOST[:PORT]/NQN or /dev/nvmeX");
}

static void wrong_nqn(void **state)
{
	struct insitu_dev *d2 = NULL;
	char uri[128], want[512];

	(void)state;
	snprintf(uri, sizeof(uri), "nvme+tcp://%s/nqn.2026-11.dev.insitu:other", fw.addr);
	assert_int_equal(insitu_open(uri, NULL, &d2), -EREMOTEIO);
	snprintf(want, sizeof(want), "%s: Connect: Invalid Parameters (SCT 1h SC 82h) (is "
		 "nqn.2026-11.dev.insitu:other the subsystem NQN? see insitu-fw --nqn)", uri);
	assert_string_equal(insitu_errmsg(), want);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-insitu-fw\n", argv[0]);
		return 2;
	}
	fw_path = argv[1];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(identify),
		cmocka_unit_test(read_write_split),
		cmocka_unit_test(fua_and_flush),
		cmocka_unit_test(write_zeroes_and_deallocate),
		cmocka_unit_test(logs_and_features),
		cmocka_unit_test(nvme_error_by_name),
		cmocka_unit_test(threads_share_handle),
		cmocka_unit_test(async_qd32),
		cmocka_unit_test(digests),
		cmocka_unit_test(keep_alive),
		cmocka_unit_test(refused),
		cmocka_unit_test(wrong_nqn),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
