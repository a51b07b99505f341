/* Random workloads of writes (unique, duplicate, zero), overwrites, trims, Write Zeroes, FUA,
 * flushes, concurrent asynchronous batches, checkpoints, clean reopens and crash reopens after
 * a flush, checked after every step against an in-memory model of what each LBA holds, with
 * periodic audits. Seeded and reproducible (DEDUP_TEST_SEED). */
#include "dedup_test.h"

#define L 1024u
#define MAXN 16u

struct model {
	uint64_t pat[L]; /* pattern id per LBA; 0 = reads as zeros */
};

static struct dedup_open_options small_opts = {
	.queue_depth = 8,
	.max_request_blocks = MAXN,
	.checkpoint_journal_percent = 50,
	.checkpoint_dirty_pages = 6,
};

static uint64_t pick_pattern(uint64_t *rng)
{
	uint64_t r = rng_below(rng, 100);
	if (r < 10)
		return 0;                          /* zero block */
	if (r < 60)
		return 1 + rng_below(rng, 24);     /* hot: many duplicates */
	return 100 + rng_below(rng, 100000);       /* mostly unique */
}

static void verify_range(struct dedup_volume *v, const struct model *m, uint64_t lba, uint32_t n,
			 uint8_t *rd)
{
	CHECK_OK(v, dedup_volume_read(v, lba, n, rd));
	for (uint32_t i = 0; i < n; i++) {
		uint64_t got = pattern_of(rd + (size_t)i * BS);
		if (got != m->pat[lba + i]) {
			fprintf(stderr, "LBA %llu: expected pattern %llu, read %llu\n",
				(unsigned long long)(lba + i), (unsigned long long)m->pat[lba + i],
				(unsigned long long)got);
			exit(1);
		}
	}
}

static void verify_all(struct dedup_volume *v, const struct model *m, uint8_t *rd)
{
	for (uint64_t lba = 0; lba < L; lba += MAXN)
		verify_range(v, m, lba, MAXN, rd);
}

struct batch_req {
	bool done;
	int result;
};

static void batch_done(void *arg, int result)
{
	struct batch_req *b = arg;
	b->done = true;
	b->result = result;
}

/* Up to 8 concurrent writes/trims on disjoint ranges through the asynchronous interface. */
static void async_batch(struct dedup_volume *v, struct model *m, uint64_t *rng, uint8_t *bufs)
{
	struct batch_req reqs[8] = {{0}};
	unsigned n = 2 + (unsigned)rng_below(rng, 7);
	uint64_t slot = L / 8;
	for (unsigned i = 0; i < n; i++) {
		uint64_t lba = i * slot + rng_below(rng, slot - MAXN);
		uint32_t cnt = 1 + (uint32_t)rng_below(rng, MAXN);
		uint8_t *buf = bufs + (size_t)i * MAXN * BS;
		int rc;
		if (rng_below(rng, 5) == 0) {
			rc = dedup_volume_submit_trim(v, lba, cnt, 0, batch_done, &reqs[i]);
			for (uint32_t k = 0; k < cnt; k++)
				m->pat[lba + k] = 0;
		} else {
			for (uint32_t k = 0; k < cnt; k++) {
				uint64_t p = pick_pattern(rng);
				pattern_fill(buf + (size_t)k * BS, p);
				m->pat[lba + k] = p;
			}
			rc = dedup_volume_submit_write(v, lba, cnt, buf,
						       rng_below(rng, 4) == 0 ? DEDUP_FUA : 0,
						       batch_done, &reqs[i]);
		}
		CHECK_OK(v, rc);
	}
	for (unsigned i = 0; i < n; i++)
		while (!reqs[i].done)
			CHECK(dedup_volume_wait(v) >= 0);
	for (unsigned i = 0; i < n; i++)
		CHECK_OK(v, reqs[i].result);
}

static void run(uint64_t seed, unsigned steps, uint32_t journal_blocks, uint32_t dw_slots)
{
	char path[300];
	test_path(path, sizeof(path), "model.img");
	test_format(path, L, 6 << 20, journal_blocks, dw_slots);
	struct dedup_volume *v = test_open(path, &small_opts);
	struct model *m = calloc(1, sizeof(*m));
	uint8_t *buf = test_alloc(8 * MAXN * BS), *rd = test_alloc(MAXN * BS);
	uint64_t rng = seed;
	unsigned reopens = 0, crashes = 0, checkpoints_seen = 0;

	for (unsigned step = 0; step < steps; step++) {
		uint64_t op = rng_below(&rng, 100);
		uint64_t lba = rng_below(&rng, L);
		uint32_t n = 1 + (uint32_t)rng_below(&rng, MAXN);
		if (lba + n > L)
			n = (uint32_t)(L - lba);
		if (op < 45) {
			for (uint32_t k = 0; k < n; k++) {
				uint64_t p = pick_pattern(&rng);
				pattern_fill(buf + (size_t)k * BS, p);
				m->pat[lba + k] = p;
			}
			CHECK_OK(v, dedup_volume_write(v, lba, n, buf,
						       rng_below(&rng, 8) == 0 ? DEDUP_FUA : 0));
		} else if (op < 52) {
			CHECK_OK(v, dedup_volume_trim(v, lba, n, 0));
			for (uint32_t k = 0; k < n; k++)
				m->pat[lba + k] = 0;
		} else if (op < 56) {
			CHECK_OK(v, dedup_volume_write_zeroes(v, lba, n, 0));
			for (uint32_t k = 0; k < n; k++)
				m->pat[lba + k] = 0;
		} else if (op < 66) {
			async_batch(v, m, &rng, buf);
		} else if (op < 86) {
			verify_range(v, m, lba, n, rd);
		} else if (op < 92) {
			CHECK_OK(v, dedup_volume_flush(v));
		} else if (op < 94) {
			CHECK_OK(v, dedup_volume_checkpoint(v));
		} else if (op < 96) {
			test_close(v);
			v = test_open(path, &small_opts);
			reopens++;
			verify_all(v, m, rd);
		} else if (op < 98) {
			/* everything flushed survives a crash exactly */
			CHECK_OK(v, dedup_volume_flush(v));
			dedup_volume_crash(v);
			v = test_open(path, &small_opts);
			crashes++;
			verify_all(v, m, rd);
		} else {
			test_audit(v);
		}
		struct dedup_stats st;
		dedup_volume_get_stats(v, &st);
		CHECK(!st.failed);
		checkpoints_seen = (unsigned)st.checkpoints;
	}
	verify_all(v, m, rd);
	test_audit(v);
	struct dedup_stats st;
	dedup_volume_get_stats(v, &st);
	printf("  seed %llu: %u steps, %u reopens, %u crashes, %u checkpoints, %llu PBNs used, "
	       "%llu hits\n", (unsigned long long)seed, steps, reopens, crashes, checkpoints_seen,
	       (unsigned long long)st.physical_used, (unsigned long long)st.dedup_hits);
	CHECK(checkpoints_seen > 0);
	test_close(v);
	v = test_open(path, &small_opts);
	verify_all(v, m, rd);
	test_audit(v);
	test_close(v);
	free(m);
	free(buf);
	free(rd);
}

int main(void)
{
	test_dir("dedup-model");
	uint64_t seed = test_seed("dedup.model", 20261120);
	const char *steps_env = getenv("DEDUP_TEST_STEPS");
	unsigned steps = steps_env ? (unsigned)atoi(steps_env) : 600;
	/* tiny journal and doublewrite area: wraparound, journal-full stalls and multi-round
	 * checkpoints all happen; then a roomier geometry */
	run(seed, steps, 4, 1);
	run(seed + 1, steps, 6, 2);
	run(seed + 2, steps, 16, 8);
	run(seed + 3, steps, 64, 256);
	test_cleanup();
	printf("ok\n");
	return 0;
}
