/* kill -9: a child process runs a seeded workload (writes with duplicates and zeros, trims,
 * FUA writes, flushes) on a volume and publishes its progress in shared memory; the parent
 * kills it with SIGKILL at a random point, reopens the volume (recovery), checks that every
 * LBA holds its last flushed data or data from a write issued after the last flush — never
 * anything else — and runs the audit. Several rounds on the same volume, each recovering what
 * the previous kill left. Seeded (DEDUP_TEST_SEED). */
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "dedup_test.h"

#define L 2048u
#define MAX_OPS 4000u
#define ROUNDS 6

struct progress {
	atomic_uint_fast64_t started; /* ops begun (the op at started-1 may be in flight) */
	atomic_uint_fast64_t done;    /* ops completed */
	atomic_uint_fast64_t flushed; /* every op below this index is durable */
	atomic_uint_fast64_t failed;  /* the child met an error */
	atomic_uchar fua_done[MAX_OPS];
};

enum kind { K_WRITE, K_TRIM, K_FLUSH };

struct op {
	enum kind kind;
	uint64_t lba;
	uint32_t n;
	bool fua;
	uint64_t pat[8];
};

/* The workload of a round is a pure function of its seed, so the parent can replay it. */
static void gen_op(uint64_t *rng, unsigned round, unsigned i, struct op *op)
{
	uint64_t r = rng_below(rng, 100);
	op->kind = r < 80 ? K_WRITE : r < 90 ? K_TRIM : K_FLUSH;
	op->lba = rng_below(rng, L - 8);
	op->n = 1 + (uint32_t)rng_below(rng, 8);
	op->fua = rng_below(rng, 8) == 0;
	for (uint32_t k = 0; k < 8; k++) {
		uint64_t q = rng_below(rng, 10);
		op->pat[k] = q == 0 ? 0 : q < 4 ? 1 + rng_below(rng, 10)
				   : (uint64_t)(round + 1) * 1000000 + i * 8 + k;
	}
}

static void child(const char *path, unsigned round, uint64_t seed, struct progress *pr)
{
	struct dedup_open_options o = {.checkpoint_dirty_pages = 8, .queue_depth = 4,
				       .max_request_blocks = 8};
	struct dedup_volume *v = NULL;
	struct dedup_error err = {0};
	if (dedup_volume_open(path, &o, &v, &err) != 0) {
		fprintf(stderr, "child: open: %s\n", err.msg);
		pr->failed = 1;
		_exit(1);
	}
	uint8_t *buf = test_alloc(8 * BS);
	uint64_t rng = seed;
	for (unsigned i = 0; i < MAX_OPS; i++) {
		struct op op;
		gen_op(&rng, round, i, &op);
		pr->started = i + 1;
		int rc = 0;
		switch (op.kind) {
		case K_WRITE:
			for (uint32_t k = 0; k < op.n; k++)
				pattern_fill(buf + (size_t)k * BS, op.pat[k]);
			rc = dedup_volume_write(v, op.lba, op.n, buf, op.fua ? DEDUP_FUA : 0);
			break;
		case K_TRIM:
			rc = dedup_volume_trim(v, op.lba, op.n, op.fua ? DEDUP_FUA : 0);
			break;
		case K_FLUSH:
			rc = dedup_volume_flush(v);
			break;
		}
		if (rc != 0) {
			fprintf(stderr, "child: op %u: %s\n", i, dedup_volume_errmsg(v));
			pr->failed = 1;
			_exit(1);
		}
		if (op.fua && op.kind != K_FLUSH)
			pr->fua_done[i] = 1;
		if (op.kind == K_FLUSH)
			pr->flushed = i + 1;
		pr->done = i + 1;
	}
	for (;;)
		pause(); /* the parent kills */
}

static bool touches(const struct op *op, uint64_t lba)
{
	return op->kind != K_FLUSH && lba >= op->lba && lba < op->lba + op->n;
}

static uint64_t value(const struct op *op, uint64_t lba)
{
	return op->kind == K_WRITE ? op->pat[lba - op->lba] : 0;
}

int main(void)
{
	test_dir("dedup-kill");
	char path[300];
	test_path(path, sizeof(path), "vol.img");
	uint64_t seed = test_seed("dedup.kill", 777);
	test_format(path, L, 16 << 20, 8, 4);
	/* verify that io_uring works before forking children that would only report failure */
	test_close(test_open(path, NULL));

	struct progress *pr = mmap(NULL, sizeof(*pr), PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(pr != MAP_FAILED);
	uint64_t *state = calloc(L, sizeof(uint64_t)); /* what each LBA holds at round start */
	struct op *ops = calloc(MAX_OPS, sizeof(*ops));
	uint8_t *rd = test_alloc(64 * BS);
	uint64_t rng = seed;

	for (unsigned round = 0; round < ROUNDS; round++) {
		memset(pr, 0, sizeof(*pr));
		uint64_t round_seed = rng_next(&rng);
		uint64_t target = 20 + rng_below(&rng, 500);
		fflush(NULL);
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0)
			child(path, round, round_seed, pr);

		/* wait for the child to get that far, then kill it wherever it is */
		struct timespec t0, now, nap = {0, 200000};
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;) {
			int status;
			if (waitpid(pid, &status, WNOHANG) == pid) {
				fprintf(stderr, "child exited early (status %d, failed %d)\n", status,
					(int)pr->failed);
				exit(1);
			}
			if (pr->done >= target)
				break;
			clock_gettime(CLOCK_MONOTONIC, &now);
			CHECK(now.tv_sec - t0.tv_sec < 120); /* a stuck child fails the test */
			nanosleep(&nap, NULL);
		}
		CHECK(kill(pid, SIGKILL) == 0);
		int status;
		CHECK(waitpid(pid, &status, 0) == pid);
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		uint64_t started = pr->started, done = pr->done, flushed = pr->flushed;

		/* replay the child's ops to know what may be where */
		uint64_t orng = round_seed;
		for (unsigned i = 0; i < started; i++)
			gen_op(&orng, round, i, &ops[i]);

		struct dedup_volume *v = test_open(path, &(struct dedup_open_options){.read_only = true});
		struct dedup_stats st;
		dedup_volume_get_stats(v, &st);
		unsigned bad = 0;
		for (uint64_t lba = 0; lba < L; lba += 64) {
			CHECK_OK(v, dedup_volume_read(v, lba, 64, rd));
			for (uint64_t j = 0; j < 64; j++) {
				uint64_t x = lba + j, got = pattern_of(rd + j * BS);
				size_t last = SIZE_MAX;
				for (size_t i = 0; i < started; i++)
					if (touches(&ops[i], x) &&
					    (i < flushed || (i < done && pr->fua_done[i])))
						last = i;
				uint64_t durable = last == SIZE_MAX ? state[x] : value(&ops[last], x);
				bool ok = got == durable;
				for (size_t i = last == SIZE_MAX ? 0 : last + 1; i < started && !ok; i++)
					ok = touches(&ops[i], x) && value(&ops[i], x) == got;
				if (!ok && bad++ < 10)
					fprintf(stderr, "round %u: LBA %llu holds %llu; durable %llu\n",
						round, (unsigned long long)x, (unsigned long long)got,
						(unsigned long long)durable);
				state[x] = got;
			}
		}
		CHECK_EQ(bad, 0);
		test_audit(v);
		printf("  round %u: killed after %llu ops (%llu flushed), recovered %llu journal "
		       "entries in %.2f ms, %llu PBNs in use\n", round, (unsigned long long)done,
		       (unsigned long long)flushed, (unsigned long long)st.recovery_entries,
		       st.recovery_ns / 1e6, (unsigned long long)st.physical_used);
		test_close(v);
	}

	/* finally a writable recovery, a clean close, and the same contents again */
	struct dedup_volume *v = test_open(path, NULL);
	test_audit(v);
	test_close(v);
	v = test_open(path, NULL);
	for (uint64_t lba = 0; lba < L; lba += 64) {
		CHECK_OK(v, dedup_volume_read(v, lba, 64, rd));
		for (uint64_t j = 0; j < 64; j++)
			CHECK_EQ(pattern_of(rd + j * BS), state[lba + j]);
	}
	test_close(v);
	munmap(pr, sizeof(*pr));
	free(state);
	free(ops);
	free(rd);
	test_cleanup();
	printf("ok\n");
	return 0;
}
