/* Power loss, simulated at the backing-store layer. A workload runs over the real io_uring
 * path while the test's I/O hooks record every write (with its data), every fdatasync and
 * every completion. For many crash points — every persistence point and every few I/O events
 * — a crash image is built: writes made durable by a completed fdatasync or RWF_DSYNC are
 * applied; every other write issued before the crash is dropped, applied, or torn at 512-byte
 * sectors (seeded). The image is then opened (recovery) and checked: every LBA whose last
 * durable write was flushed holds exactly that data or a later write's, never anything else;
 * the audit passes; and the recovered volume takes new writes, flushes and another crash. */
#include "dedup_test.h"

#define L 256u
#define PHYS (1u << 20)
#define SECTOR 512u

struct rec_write {
	uint64_t id, off;
	uint32_t len;
	bool dsync;
	uint64_t submit_ev, complete_ev;
	uint8_t *data;
};

struct rec_fsync {
	uint64_t id, submit_ev, complete_ev;
};

struct recorder {
	uint64_t ev;
	struct rec_write *w;
	size_t nw, capw;
	struct rec_fsync *f;
	size_t nf, capf;
};

static int rec_submit(void *ctx, const struct dedup_io_event *e)
{
	struct recorder *r = ctx;
	if (e->op == DEDUP_IO_WRITE) {
		/* the engine never has two writes in flight to the same bytes: the crash model
		 * below relies on it, so check it */
		for (size_t i = r->nw; i-- > 0 && i + 64 > r->nw;)
			if (r->w[i].complete_ev == UINT64_MAX && r->w[i].off < e->offset + e->len &&
			    e->offset < r->w[i].off + r->w[i].len) {
				fprintf(stderr, "overlapping writes in flight at offset %llu\n",
					(unsigned long long)e->offset);
				exit(1);
			}
		if (r->nw == r->capw) {
			r->capw = r->capw ? r->capw * 2 : 1024;
			r->w = realloc(r->w, r->capw * sizeof(*r->w));
			CHECK(r->w);
		}
		struct rec_write *w = &r->w[r->nw++];
		w->id = e->id;
		w->off = e->offset;
		w->len = e->len;
		w->dsync = e->dsync;
		w->submit_ev = ++r->ev;
		w->complete_ev = UINT64_MAX;
		w->data = malloc(e->len);
		CHECK(w->data);
		memcpy(w->data, e->data, e->len);
	} else if (e->op == DEDUP_IO_FSYNC) {
		if (r->nf == r->capf) {
			r->capf = r->capf ? r->capf * 2 : 256;
			r->f = realloc(r->f, r->capf * sizeof(*r->f));
			CHECK(r->f);
		}
		r->f[r->nf++] = (struct rec_fsync){e->id, ++r->ev, UINT64_MAX};
	}
	return 0;
}

static void rec_complete(void *ctx, const struct dedup_io_event *e, int result)
{
	struct recorder *r = ctx;
	CHECK_EQ(result, 0);
	if (e->op == DEDUP_IO_WRITE) {
		for (size_t i = r->nw; i-- > 0;)
			if (r->w[i].id == e->id) {
				r->w[i].complete_ev = ++r->ev;
				return;
			}
		CHECK(!"completion of an unrecorded write");
	} else if (e->op == DEDUP_IO_FSYNC) {
		for (size_t i = r->nf; i-- > 0;)
			if (r->f[i].id == e->id) {
				r->f[i].complete_ev = ++r->ev;
				return;
			}
		CHECK(!"completion of an unrecorded fsync");
	}
}

enum op_kind { OP_WRITE, OP_TRIM, OP_ZERO, OP_FLUSH, OP_CLOSE };

struct wl_op {
	enum op_kind kind;
	uint64_t lba;
	uint32_t n;
	bool fua;
	uint64_t pat[8];
	uint64_t start_ev, end_ev;
};

static struct recorder rec;
static struct wl_op ops[400];
static size_t nops;
static uint8_t *base_img;

static void run_workload(const char *path, uint64_t seed, unsigned count)
{
	struct dedup_io_hooks hooks = {.ctx = &rec, .submit = rec_submit, .complete = rec_complete};
	struct dedup_open_options o = {
		.queue_depth = 4, .max_request_blocks = 8, .checkpoint_dirty_pages = 3,
		.checkpoint_journal_percent = 50, .io_hooks = &hooks,
	};
	struct dedup_volume *v = test_open(path, &o);
	uint8_t *buf = test_alloc(8 * BS);
	uint64_t rng = seed;
	for (unsigned i = 0; i < count; i++) {
		struct wl_op *op = &ops[nops++];
		uint64_t r = rng_below(&rng, 100);
		op->lba = rng_below(&rng, L - 8);
		op->n = 1 + (uint32_t)rng_below(&rng, 8);
		op->fua = rng_below(&rng, 6) == 0;
		op->kind = r < 70 ? OP_WRITE : r < 78 ? OP_TRIM : r < 83 ? OP_ZERO : OP_FLUSH;
		op->start_ev = ++rec.ev;
		switch (op->kind) {
		case OP_WRITE:
			for (uint32_t k = 0; k < op->n; k++) {
				uint64_t q = rng_below(&rng, 10);
				/* zeros, a few hot duplicates, and unique data */
				op->pat[k] = q == 0 ? 0 : q < 5 ? 1 + rng_below(&rng, 6)
							  : 1000 + nops * 8 + k;
				pattern_fill(buf + (size_t)k * BS, op->pat[k]);
			}
			CHECK_OK(v, dedup_volume_write(v, op->lba, op->n, buf, op->fua ? DEDUP_FUA : 0));
			break;
		case OP_TRIM:
			CHECK_OK(v, dedup_volume_trim(v, op->lba, op->n, op->fua ? DEDUP_FUA : 0));
			break;
		case OP_ZERO:
			CHECK_OK(v, dedup_volume_write_zeroes(v, op->lba, op->n, op->fua ? DEDUP_FUA : 0));
			break;
		default:
			CHECK_OK(v, dedup_volume_flush(v));
			break;
		}
		op->end_ev = ++rec.ev;
	}
	struct wl_op *op = &ops[nops++];
	op->kind = OP_CLOSE;
	op->start_ev = ++rec.ev;
	test_close(v);
	op->end_ev = ++rec.ev;
	free(buf);
}

/* Is op i durable at crash point k (every event < k happened)? */
static bool op_durable(size_t i, uint64_t k)
{
	const struct wl_op *op = &ops[i];
	if (op->end_ev >= k)
		return false;
	if ((op->fua || op->kind == OP_FLUSH || op->kind == OP_CLOSE))
		return true;
	for (size_t j = i + 1; j < nops; j++)
		if ((ops[j].kind == OP_FLUSH || ops[j].kind == OP_CLOSE) && ops[j].end_ev < k)
			return true;
	return false;
}

static uint64_t op_value(const struct wl_op *op, uint64_t lba)
{
	return op->kind == OP_WRITE ? op->pat[lba - op->lba] : 0;
}

static bool touches(const struct wl_op *op, uint64_t lba)
{
	return op->kind <= OP_ZERO && lba >= op->lba && lba < op->lba + op->n;
}

/* Allowed contents of an LBA after a crash at k: its last durable value, or any value an op
 * started later gave it. */
static bool allowed(uint64_t lba, uint64_t got, uint64_t k)
{
	size_t last = SIZE_MAX;
	for (size_t i = 0; i < nops; i++)
		if (touches(&ops[i], lba) && op_durable(i, k))
			last = i;
	uint64_t durable = last == SIZE_MAX ? 0 : op_value(&ops[last], lba);
	if (got == durable)
		return true;
	for (size_t i = last == SIZE_MAX ? 0 : last + 1; i < nops; i++)
		if (touches(&ops[i], lba) && ops[i].start_ev < k && op_value(&ops[i], lba) == got)
			return true;
	return false;
}

static void build_image(uint8_t *img, uint64_t k, uint64_t rng, bool tear)
{
	memcpy(img, base_img, PHYS);
	for (size_t i = 0; i < rec.nw; i++) {
		const struct rec_write *w = &rec.w[i];
		if (w->submit_ev >= k)
			break;
		bool durable = false;
		if (w->complete_ev < k) {
			durable = w->dsync;
			for (size_t j = 0; j < rec.nf && !durable; j++)
				durable = rec.f[j].submit_ev > w->complete_ev && rec.f[j].complete_ev < k;
		}
		uint64_t mode = durable ? 1 : rng_below(&rng, tear ? 3 : 2);
		if (mode == 1) {
			memcpy(img + w->off, w->data, w->len);
		} else if (mode == 2) {
			for (uint32_t s = 0; s < w->len; s += SECTOR)
				if (rng_below(&rng, 2))
					memcpy(img + w->off + s, w->data + s, SECTOR);
		}
	}
}

static unsigned checked_points;

static void check_point(const char *dir, uint64_t k, uint64_t seed, bool tear, bool extra)
{
	static uint8_t *img;
	if (!img)
		img = malloc(PHYS);
	CHECK(img);
	build_image(img, k, seed ^ (k * UINT64_C(0x9e3779b97f4a7c15)), tear);
	char path[300];
	snprintf(path, sizeof(path), "%s/crash.img", dir);
	FILE *f = fopen(path, "wb");
	CHECK(f && fwrite(img, 1, PHYS, f) == PHYS && fclose(f) == 0);

	struct dedup_volume *v = NULL;
	struct dedup_error err = {0};
	if (dedup_volume_open(path, NULL, &v, &err) != 0) {
		fprintf(stderr, "crash point %llu: recovery failed: %s\n", (unsigned long long)k,
			err.msg);
		exit(1);
	}
	uint8_t *rd = test_alloc(L * BS);
	CHECK_OK(v, dedup_volume_read(v, 0, 128, rd));
	CHECK_OK(v, dedup_volume_read(v, 128, L - 128, rd + 128 * BS));
	uint64_t state[L];
	for (uint64_t lba = 0; lba < L; lba++) {
		uint64_t got = pattern_of(rd + lba * BS);
		if (!allowed(lba, got, k)) {
			fprintf(stderr, "crash point %llu (seed %llu, tear %d): LBA %llu holds %s%llu, "
				"not its flushed data nor a later write\n", (unsigned long long)k,
				(unsigned long long)seed, tear, (unsigned long long)lba,
				got == UINT64_MAX ? "garbage " : "pattern ",
				(unsigned long long)(got == UINT64_MAX ? 0 : got));
			fprintf(stderr, "open report:\n%s", dedup_volume_open_report(v));
			exit(1);
		}
		state[lba] = got;
	}
	test_audit(v);

	if (extra) {
		/* the recovered volume works: new writes, a flush, another crash, all kept */
		uint8_t *buf = test_alloc(4 * BS);
		for (uint32_t i = 0; i < 4; i++) {
			pattern_fill(buf + (size_t)i * BS, 900000 + k * 4 + i);
			state[(k * 7 + i * 31) % L] = 900000 + k * 4 + i;
			CHECK_OK(v, dedup_volume_write(v, (k * 7 + i * 31) % L, 1, buf + (size_t)i * BS, 0));
		}
		CHECK_OK(v, dedup_volume_flush(v));
		dedup_volume_crash(v);
		v = test_open(path, NULL);
		CHECK_OK(v, dedup_volume_read(v, 0, 128, rd));
		CHECK_OK(v, dedup_volume_read(v, 128, L - 128, rd + 128 * BS));
		for (uint64_t lba = 0; lba < L; lba++)
			CHECK_EQ(pattern_of(rd + lba * BS), state[lba]);
		test_audit(v);
		free(buf);
	}
	test_close(v);
	free(rd);
	checked_points++;
}

static bool persistence_point(uint64_t k)
{
	for (size_t j = 0; j < rec.nf; j++)
		if (rec.f[j].complete_ev + 1 == k)
			return true;
	for (size_t i = 0; i < rec.nw; i++)
		if (rec.w[i].dsync && rec.w[i].complete_ev + 1 == k)
			return true;
	return false;
}

static void run(const char *dir, uint64_t seed, unsigned count, bool tear, unsigned stride)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/vol.img", dir);
	test_format(path, L, PHYS, 6, 2);
	base_img = malloc(PHYS);
	FILE *f = fopen(path, "rb");
	CHECK(base_img && f && fread(base_img, 1, PHYS, f) == PHYS);
	fclose(f);

	memset(&rec, 0, sizeof(rec));
	nops = 0;
	run_workload(path, seed, count);
	unsigned before = checked_points, pp = 0;
	for (uint64_t k = 1; k <= rec.ev + 1; k++) {
		bool at_pp = persistence_point(k);
		if (at_pp)
			pp++;
		if (at_pp || k % stride == 0 || k == rec.ev + 1)
			check_point(dir, k, seed, tear, k % (stride * 4) == 0);
	}
	printf("  seed %llu (%s): %zu ops, %zu writes, %zu fsyncs, %llu events, %u crash points "
	       "checked (%u persistence points)\n", (unsigned long long)seed,
	       tear ? "drop/keep/tear" : "drop/keep", nops, rec.nw, rec.nf,
	       (unsigned long long)rec.ev, checked_points - before, pp);
	for (size_t i = 0; i < rec.nw; i++)
		free(rec.w[i].data);
	free(rec.w);
	free(rec.f);
	free(base_img);
}

int main(void)
{
	const char *dir = test_dir("dedup-powerloss");
	uint64_t seed = test_seed("dedup.powerloss", 4242);
	run(dir, seed, 120, false, 5);
	run(dir, seed + 1, 120, true, 5);
	run(dir, seed + 2, 200, true, 9);
	test_cleanup();
	printf("ok: %u crash points\n", checked_points);
	return 0;
}
