/* One workload of the insitu-fw benchmark against a device URI, through libinsitu's
 * asynchronous queue (one thread, QD requests in flight), printed as one key=value line.
 * run.sh drives it against insitu-fw with and without dedup and beside iperf3 (README). */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <insitu/insitu.h>

#define LAT_BUCKETS 100000	/* 1 us each; slower completions land in the last */

enum workload { SEQREAD, SEQWRITE, RANDREAD, RANDWRITE, DUPWRITE };

static const char *const workload_names[] = {
	[SEQREAD] = "seqread", [SEQWRITE] = "seqwrite", [RANDREAD] = "randread",
	[RANDWRITE] = "randwrite", [DUPWRITE] = "dupwrite",
};

struct params {
	const char *uri;
	enum workload wl;
	uint32_t bs;		/* bytes per request */
	unsigned qd;
	double secs;		/* timed part; 0: until --ops */
	double warmup;		/* untimed run of the same workload first */
	uint64_t ops;		/* stop after this many (0: no limit) */
	uint64_t lba, blocks;	/* the region worked on, in blocks */
	uint64_t seed;
	int watch_pid;		/* the daemon, whose CPU time is reported (0: none) */
};

/* One request slot: its request, buffer and submission time. */
struct slot {
	struct insitu_io io;
	uint8_t *buf;
	double t_submit;
};

struct run {
	const struct params *p;
	struct insitu_ioq *q;
	struct slot *slots;
	uint64_t rng[4];
	uint64_t next_seq;	/* next sequential request index */
	uint64_t nreq;		/* requests of bs bytes in the region */
	uint64_t stamp;		/* unique write stamps handed out */
	uint64_t nonce;
	uint32_t block;		/* namespace block size */
	uint32_t *lat;		/* histogram, 1 us buckets */
	uint64_t lat_n;
	double lat_sum;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* xoshiro256** (Blackman and Vigna), seeded through splitmix64 */
static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(uint64_t s[4])
{
	uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

static void rng_seed(uint64_t s[4], uint64_t seed)
{
	for (int i = 0; i < 4; i++) {
		uint64_t z = (seed += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		s[i] = z ^ (z >> 31);
	}
}

static void rng_fill(uint64_t s[4], uint8_t *buf, size_t len)
{
	for (size_t i = 0; i + 8 <= len; i += 8) {
		uint64_t v = rng_next(s);

		memcpy(buf + i, &v, 8);
	}
}

static double cpu_seconds_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* utime + stime of @pid from /proc (fields 14 and 15), or -1 */
static double cpu_seconds_pid(int pid)
{
	char path[64], line[1024];
	unsigned long ut, st;
	FILE *f;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	char *end = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;

	fclose(f);
	/* after "pid (comm)": state is field 3, utime 14, stime 15 */
	if (!end || sscanf(end + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			   &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Fills @s's request for its next turn: position by the workload, write data made unique
 * by a 16-byte stamp (process nonce, counter) at the start of every block, so the dedup
 * engine sees each block once whatever the rest of the (random) buffer holds. */
static void prepare(struct run *r, struct slot *s)
{
	const struct params *p = r->p;
	uint64_t idx;

	if (p->wl == SEQREAD || p->wl == SEQWRITE)
		idx = r->next_seq++ % r->nreq;
	else
		idx = (uint64_t)(((unsigned __int128)rng_next(r->rng) * r->nreq) >> 64);
	s->io = (struct insitu_io){
		.op = (p->wl == SEQREAD || p->wl == RANDREAD) ? INSITU_OP_READ : INSITU_OP_WRITE,
		.nsid = 1,
		.lba = p->lba + idx * (p->bs / r->block),
		.buf = s->buf,
		.len = p->bs,
		.user = s,
	};
	if (p->wl == SEQWRITE || p->wl == RANDWRITE) {
		for (uint32_t off = 0; off < p->bs; off += r->block) {
			uint64_t st = r->stamp++;

			memcpy(s->buf + off, &r->nonce, 8);
			memcpy(s->buf + off + 8, &st, 8);
		}
	}
}

struct phase {
	uint64_t ops;
	double secs;
};

/* Keeps qd requests in flight until @secs elapse (0: no time limit) or @ops complete
 * (0: no count limit); then stops submitting, and drains. Completions after the limit are
 * not counted. Returns 0 or -1 with a message on stderr. */
static int run_phase(struct run *r, double secs, uint64_t ops, bool record, struct phase *out)
{
	const struct params *p = r->p;
	struct insitu_io *done[256];
	uint64_t submitted = 0, completed = 0;
	double t0 = now(), t_end = 0;
	bool stopping = false;
	int rc;

	for (unsigned i = 0; i < p->qd && (!ops || submitted < ops); i++) {
		prepare(r, &r->slots[i]);
		r->slots[i].t_submit = now();
		rc = insitu_ioq_submit(r->q, &r->slots[i].io);
		if (rc < 0) {
			fprintf(stderr, "bench_fw: submit: %s\n", insitu_errmsg());
			return -1;
		}
		submitted++;
	}
	while (insitu_ioq_inflight(r->q) > 0) {
		int n = insitu_ioq_reap(r->q, done, p->qd, 1);

		if (n < 0) {
			fprintf(stderr, "bench_fw: reap: %s\n", insitu_errmsg());
			return -1;
		}
		double t = now();

		for (int i = 0; i < n; i++) {
			struct slot *s = done[i]->user;

			if (s->io.result) {
				fprintf(stderr, "bench_fw: %s of lba %llu failed: %s (status %#x)\n",
					s->io.op == INSITU_OP_READ ? "read" : "write",
					(unsigned long long)s->io.lba,
					insitu_strerror(s->io.result), s->io.status);
				return -1;
			}
			if (stopping)
				continue;
			completed++;
			if (record) {
				double us = (t - s->t_submit) * 1e6;
				uint64_t b = us < LAT_BUCKETS - 1 ? (uint64_t)us : LAT_BUCKETS - 1;

				r->lat[b]++;
				r->lat_n++;
				r->lat_sum += us;
			}
			if ((secs > 0 && t - t0 >= secs) || (ops && completed >= ops)) {
				stopping = true;
				t_end = t;
				continue;
			}
			if (ops && submitted >= ops)
				continue;
			prepare(r, s);
			s->t_submit = now();
			rc = insitu_ioq_submit(r->q, &s->io);
			if (rc < 0) {
				fprintf(stderr, "bench_fw: submit: %s\n", insitu_errmsg());
				return -1;
			}
			submitted++;
		}
	}
	if (!stopping)
		t_end = now();
	out->ops = completed;
	out->secs = t_end - t0;
	return 0;
}

static double lat_percentile(const struct run *r, double pct)
{
	uint64_t want = (uint64_t)(r->lat_n * pct / 100.0), seen = 0;

	for (uint64_t b = 0; b < LAT_BUCKETS; b++) {
		seen += r->lat[b];
		if (seen > want)
			return (double)b + 0.5;
	}
	return LAT_BUCKETS;
}

static void usage(FILE *out)
{
	fputs(
"Usage: bench_fw URI WORKLOAD [options]\n"
"Run one workload against an insitu device through libinsitu's asynchronous queue and\n"
"print one line of key=value figures.\n"
"\n"
"Workloads: seqread, seqwrite, randread, randwrite (every block unique), dupwrite (every\n"
"           block the same non-zero content)\n"
"  --bs SIZE       bytes per request (default 4K)\n"
"  --qd N          requests in flight (default 32, at most 256)\n"
"  --secs S        timed duration (default 5; 0: until --ops)\n"
"  --ops N         stop after N requests (default: no limit)\n"
"  --warmup S      untimed run of the same workload first (default 0)\n"
"  --lba N         first block of the region (default 0)\n"
"  --blocks N      blocks in the region (default: the rest of namespace 1)\n"
"  --seed N        random seed (default: from the clock and pid)\n"
"  --watch-pid PID report this process's CPU time over the timed part (the daemon)\n",
	      out);
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return (errno || end == s || *end) ? -1 : 0;
}

static int parse_args(int argc, char **argv, struct params *p)
{
	static const struct option opts[] = {
		{ "bs", required_argument, NULL, 'b' },   { "qd", required_argument, NULL, 'q' },
		{ "secs", required_argument, NULL, 's' }, { "ops", required_argument, NULL, 'o' },
		{ "warmup", required_argument, NULL, 'w' }, { "lba", required_argument, NULL, 'l' },
		{ "blocks", required_argument, NULL, 'n' }, { "seed", required_argument, NULL, 'r' },
		{ "watch-pid", required_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t v;
	int c, li = 0;

	*p = (struct params){ .bs = 4096, .qd = 32, .secs = 5,
			      .seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) };
	while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
		char *end = NULL;

		switch (c) {
		case 'b':
			if (insitu_parse_size(optarg, &v) || v == 0 || v > UINT32_MAX)
				goto bad;
			p->bs = (uint32_t)v;
			break;
		case 'q':
			if (parse_u64(optarg, &v) || v == 0 || v > 256)
				goto bad;
			p->qd = (unsigned)v;
			break;
		case 's':
		case 'w':
			errno = 0;
			double d = strtod(optarg, &end);

			if (errno || end == optarg || *end || d < 0 || d > 86400)
				goto bad;
			*(c == 's' ? &p->secs : &p->warmup) = d;
			break;
		case 'o':
			if (parse_u64(optarg, &p->ops))
				goto bad;
			break;
		case 'l':
			if (parse_u64(optarg, &p->lba))
				goto bad;
			break;
		case 'n':
			if (parse_u64(optarg, &p->blocks) || p->blocks == 0)
				goto bad;
			break;
		case 'r':
			if (parse_u64(optarg, &p->seed))
				goto bad;
			break;
		case 'p':
			if (parse_u64(optarg, &v) || v == 0 || v > INT32_MAX)
				goto bad;
			p->watch_pid = (int)v;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
		continue;
bad:
		fprintf(stderr, "bench_fw: --%s %s: not a valid value\n", opts[li].name, optarg);
		return -1;
	}
	if (argc - optind != 2)
		return -1;
	p->uri = argv[optind];
	size_t i = 0, nw = sizeof(workload_names) / sizeof(workload_names[0]);

	while (i < nw && strcmp(argv[optind + 1], workload_names[i]))
		i++;
	if (i == nw) {
		fprintf(stderr, "bench_fw: unknown workload '%s'\n", argv[optind + 1]);
		return -1;
	}
	p->wl = (enum workload)i;
	if (p->secs == 0 && p->ops == 0) {
		fprintf(stderr, "bench_fw: --secs 0 needs --ops\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct insitu_telemetry t0 = { 0 }, t1 = { 0 };
	struct insitu_open_opts oo;
	struct insitu_dev *d = NULL;
	struct params p;
	struct run r = { .p = &p };
	struct phase ph;
	uint64_t nblocks;
	int rc = 1;

	if (parse_args(argc, argv, &p)) {
		usage(stderr);
		return 2;
	}
	insitu_open_opts_init(&oo);
	oo.io_queues = 1;	/* the synchronous calls (telemetry) only; I/O uses its own ioq */
	if (insitu_open(p.uri, &oo, &d) < 0) {
		fprintf(stderr, "bench_fw: %s\n", insitu_errmsg());
		return 1;
	}
	if (insitu_ns_geometry(d, 1, &r.block, &nblocks) < 0) {
		fprintf(stderr, "bench_fw: %s\n", insitu_errmsg());
		goto out;
	}
	if (p.bs % r.block || p.bs > insitu_max_transfer(d)) {
		fprintf(stderr, "bench_fw: --bs %u must be a multiple of the block size %u and at "
			"most the device's largest transfer %u\n", p.bs, r.block,
			insitu_max_transfer(d));
		goto out;
	}
	if (p.lba >= nblocks || (p.blocks && p.blocks > nblocks - p.lba)) {
		fprintf(stderr, "bench_fw: region %llu+%llu is outside namespace 1 (%llu blocks)\n",
			(unsigned long long)p.lba, (unsigned long long)p.blocks,
			(unsigned long long)nblocks);
		goto out;
	}
	if (!p.blocks)
		p.blocks = nblocks - p.lba;
	r.nreq = p.blocks / (p.bs / r.block);
	if (r.nreq == 0) {
		fprintf(stderr, "bench_fw: the region holds no request of %u bytes\n", p.bs);
		goto out;
	}

	rng_seed(r.rng, p.seed);
	r.nonce = rng_next(r.rng) | 1;
	r.lat = calloc(LAT_BUCKETS, sizeof(*r.lat));
	r.slots = calloc(p.qd, sizeof(*r.slots));
	if (!r.lat || !r.slots)
		goto out;
	/* Buffers of random bytes: writes stamp them (unique) or send them as they are (one
	 * block content repeated, for dupwrite); reads overwrite them. */
	uint64_t dup_rng[4];

	rng_seed(dup_rng, 0x1d5e7u);
	for (unsigned i = 0; i < p.qd; i++) {
		if (posix_memalign((void **)&r.slots[i].buf, 4096, p.bs))
			goto out;
		if (p.wl != DUPWRITE) {
			rng_fill(r.rng, r.slots[i].buf, p.bs);
			continue;
		}
		if (i == 0)
			rng_fill(dup_rng, r.slots[0].buf, r.block);
		for (uint32_t off = 0; off < p.bs; off += r.block)
			memcpy(r.slots[i].buf + off, r.slots[0].buf, r.block);
	}
	if (insitu_ioq_open(d, p.qd, &r.q) < 0) {
		fprintf(stderr, "bench_fw: %s\n", insitu_errmsg());
		goto out;
	}
	if (p.warmup > 0 && run_phase(&r, p.warmup, 0, false, &ph))
		goto out;
	/* dedup's counters show that unique data was unique; a device without them reads 0 */
	bool telemetry = insitu_telemetry_read(d, &t0) == 0;
	double cpu0 = cpu_seconds_self(), fw0 = cpu_seconds_pid(p.watch_pid);

	if (run_phase(&r, p.secs, p.ops, true, &ph))
		goto out;
	double cpu1 = cpu_seconds_self(), fw1 = cpu_seconds_pid(p.watch_pid);

	telemetry = telemetry && insitu_telemetry_read(d, &t1) == 0;
	printf("workload=%s bs=%u qd=%u ops=%llu secs=%.3f iops=%.0f MBps=%.1f lat_avg_us=%.1f "
	       "lat_p50_us=%.1f lat_p99_us=%.1f cpu_client=%.2f cpu_fw=%.2f dedup_hits=%lld "
	       "unique_blocks=%lld\n",
	       workload_names[p.wl], p.bs, p.qd, (unsigned long long)ph.ops, ph.secs,
	       ph.ops / ph.secs, ph.ops * (double)p.bs / ph.secs / 1e6,
	       r.lat_n ? r.lat_sum / r.lat_n : 0.0, lat_percentile(&r, 50),
	       lat_percentile(&r, 99), (cpu1 - cpu0) / ph.secs,
	       fw0 >= 0 && fw1 >= 0 ? (fw1 - fw0) / ph.secs : -1.0,
	       telemetry ? (long long)(t1.dedup_hits - t0.dedup_hits) : -1,
	       telemetry ? (long long)(t1.unique_blocks - t0.unique_blocks) : -1);
	rc = 0;
out:
	if (r.q)
		insitu_ioq_close(r.q);
	if (r.slots)
		for (unsigned i = 0; i < p.qd; i++)
			free(r.slots[i].buf);
	free(r.slots);
	free(r.lat);
	if (d && insitu_close(d) < 0 && rc == 0) {
		fprintf(stderr, "bench_fw: closing: %s\n", insitu_errmsg());
		rc = 1;
	}
	return rc;
}
