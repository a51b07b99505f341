/* insitu-dedup bench: the engine's write throughput beside raw XXH3-128 hashing of the same
 * data, for unique, 50 % duplicate, all-duplicate and all-zero data; the index's bytes per
 * unique block; and the recovery time of a volume whose journal is full. */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "dedup/testing.h"
#include "dedup/volume.h"
#include "ondisk.h"
#include "tool.h"

#define BS DEDUP_BLOCK_SIZE
#define REQ_BLOCKS 64u
#define QD 16u
#define TMPFS_MAGIC 0x01021994

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Different non-zero seeds give different data (xorshift64 state must not be 0). */
static void fill_random(uint8_t *buf, size_t blocks, uint64_t seed)
{
	uint64_t s = seed ? seed : 1;
	for (size_t i = 0; i < blocks * BS; i += 8) {
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		memcpy(buf + i, &s, 8);
	}
}

struct dataset {
	const char *name;
	const uint8_t *data;  /* contiguous blocks, or one REQ_BLOCKS buffer reused (stride 0) */
	size_t stride;        /* bytes between consecutive requests' buffers */
};

static const uint8_t *req_buf(const struct dataset *d, uint64_t req)
{
	return d->data + req * d->stride;
}

/* Hashes the data set's blocks for at least 0.3 s; returns blocks per second. */
static double hash_rate(const struct dataset *d, uint64_t blocks)
{
	volatile uint64_t sink = 0;
	uint64_t done = 0;
	double t0 = now_s(), t;
	do {
		for (uint64_t b = 0; b < blocks; b += REQ_BLOCKS) {
			const uint8_t *buf = req_buf(d, b / REQ_BLOCKS);
			for (unsigned i = 0; i < REQ_BLOCKS; i++)
				sink ^= XXH3_128bits(buf + (size_t)i * BS, BS).low64;
		}
		done += blocks;
		t = now_s() - t0;
	} while (t < 0.3);
	(void)sink;
	return (double)done / t;
}

/* The RAM store: the bench's I/O hook performs every transfer on an in-memory image of the
 * backing store, so the engine runs without media or kernel I/O. In "no media" mode a data
 * block's write is recorded by reference instead of copied — as a device's DMA would move it
 * without the CPU — and a read of that block copies from where it was written; metadata I/O
 * still goes to the image. The bench's buffers outlive the run, so the references stay valid. */
struct ram_store {
	uint8_t *img;
	uint64_t size;
	uint64_t data_off;       /* first byte of the data area */
	const uint8_t **written; /* [data block] where its last write came from; NULL: the image */
	bool no_media;
};

static int ram_submit(void *ctx, const struct dedup_io_event *e)
{
	struct ram_store *r = ctx;
	if (e->op == DEDUP_IO_FSYNC)
		return DEDUP_IO_HANDLED;
	if (e->offset > r->size || e->len > r->size - e->offset)
		return -EIO;
	bool data = r->no_media && e->offset >= r->data_off;
	if (!data) {
		if (e->op == DEDUP_IO_READ)
			memcpy(e->data, r->img + e->offset, e->len);
		else
			memcpy(r->img + e->offset, e->data, e->len);
		return DEDUP_IO_HANDLED;
	}
	/* data I/O covers one block or a coalesced run of them */
	uint64_t pbn = (e->offset - r->data_off) / BS;
	for (uint32_t i = 0; i < e->len / BS; i++, pbn++) {
		uint8_t *mem = (uint8_t *)e->data + (size_t)i * BS;
		const uint8_t *stored = r->img + e->offset + (size_t)i * BS;
		if (e->op == DEDUP_IO_WRITE)
			r->written[pbn] = mem;
		else
			memcpy(mem, r->written[pbn] ? r->written[pbn] : stored, BS);
	}
	return DEDUP_IO_HANDLED;
}

struct inflight {
	unsigned n;
	int error;
};

static void write_done(void *arg, int result)
{
	struct inflight *f = arg;
	f->n--;
	if (result < 0 && !f->error)
		f->error = result;
}

static int format_and_open(const char *path, uint64_t logical_blocks, uint64_t physical_bytes,
			   const struct dedup_open_options *o, struct dedup_volume **v)
{
	struct dedup_format_options fo = {.logical_bytes = logical_blocks * BS,
					  .physical_bytes = physical_bytes};
	struct dedup_error err = {0};
	unlink(path);
	if (dedup_volume_format(path, &fo, &err) != 0 || dedup_volume_open(path, o, v, &err) != 0) {
		fprintf(stderr, "insitu-dedup bench: %s\n", err.msg);
		return -1;
	}
	return 0;
}

enum mode { MODE_NO_MEDIA, MODE_RAM, MODE_TMPFS };

struct slot_ref {
	struct inflight *f;
	bool busy;
};

static void slot_done(void *arg, int result)
{
	struct slot_ref *s = arg;
	s->busy = false;
	write_done(s->f, result);
}

/* Writes the data set through the asynchronous interface (QD requests of REQ_BLOCKS blocks in
 * flight) and a final flush, on a fresh volume in a tmpfs file (real io_uring) or in RAM
 * (through the RAM store hook); returns blocks per second, or a negative errno. */
static double engine_rate(const char *path, const struct dataset *d, uint64_t blocks,
			  enum mode mode, struct dedup_stats *st)
{
	/* room for every block to be unique, plus metadata */
	uint64_t physical = (blocks + blocks / 50 + 1024) * BS;
	struct dedup_format_options fo = {.logical_bytes = blocks * BS, .physical_bytes = physical};
	struct dedup_error err = {0};
	unlink(path);
	if (dedup_volume_format(path, &fo, &err) != 0) {
		fprintf(stderr, "insitu-dedup bench: %s\n", err.msg);
		return -EIO;
	}
	struct ram_store store = {.no_media = mode == MODE_NO_MEDIA};
	struct dedup_io_hooks hooks = {.ctx = &store, .submit = ram_submit};
	struct dedup_open_options o = {.queue_depth = QD, .max_request_blocks = REQ_BLOCKS,
				       .io_hooks = mode != MODE_TMPFS ? &hooks : NULL};
	if (mode != MODE_TMPFS) {
		store.size = physical;
		store.img = malloc(physical);
		store.written = calloc(physical / BS, sizeof(*store.written));
		FILE *f = fopen(path, "rb");
		if (!store.img || !store.written || !f ||
		    fread(store.img, 1, physical, f) != physical) {
			fprintf(stderr, "insitu-dedup bench: cannot load %s into RAM\n", path);
			if (f)
				fclose(f);
			free(store.img);
			free(store.written);
			return -EIO;
		}
		fclose(f);
		/* the data area starts after the metadata, as superblock copy 0 says */
		uint64_t data_start;
		memcpy(&data_start, store.img + offsetof(struct dd_superblock, data_start),
		       sizeof(data_start));
		store.data_off = data_start * BS;
	}
	struct dedup_volume *v;
	if (dedup_volume_open(path, &o, &v, &err) != 0) {
		fprintf(stderr, "insitu-dedup bench: %s\n", err.msg);
		free(store.img);
		free(store.written);
		return -EIO;
	}
	struct inflight f = {0};
	double t0 = now_s();
	for (uint64_t b = 0; b < blocks || f.n;) {
		while (f.n < QD && b < blocks) {
			int rc = dedup_volume_submit_write(v, b, REQ_BLOCKS, req_buf(d, b / REQ_BLOCKS),
							   0, write_done, &f);
			if (rc == -EAGAIN)
				break;
			if (rc < 0) {
				f.error = rc;
				break;
			}
			f.n++;
			b += REQ_BLOCKS;
		}
		if (f.error)
			break;
		if (dedup_volume_wait(v) < 0)
			break;
	}
	int rc = f.error ? f.error : dedup_volume_flush(v);
	double t = now_s() - t0;
	dedup_volume_get_stats(v, st);
	if (rc < 0)
		fprintf(stderr, "insitu-dedup bench: write failed: %s\n", dedup_volume_errmsg(v));
	dedup_volume_close(v, &err);
	unlink(path);
	free(store.img);
	free(store.written);
	return rc < 0 ? rc : (double)blocks / t;
}

static const char *fs_kind(const char *dir)
{
	struct statfs sf;
	if (statfs(dir, &sf) != 0)
		return "unknown filesystem";
	return (unsigned long)sf.f_type == TMPFS_MAGIC ? "tmpfs (RAM)" : "disk filesystem";
}

/* A volume whose journal is full at the crash: every LBA written once with unique data, then
 * overwritten until the journal holds all it can; then the open is timed. */
static int recovery_bench(const char *dir, uint64_t bytes)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/insitu-dedup-bench-recovery.img", dir);
	uint64_t blocks = bytes / BS;
	struct dedup_open_options o = {.checkpoint_journal_percent = 100,
				       .checkpoint_dirty_pages = UINT32_MAX, .queue_depth = QD,
				       .max_request_blocks = REQ_BLOCKS};
	struct dedup_volume *v;
	if (format_and_open(path, blocks, bytes, &o, &v) < 0)
		return 1;
	struct dedup_stats st;
	dedup_volume_get_stats(v, &st);
	uint64_t data = st.data_blocks, lbas = data - data / 8; /* leave room to overwrite */
	uint8_t *buf = NULL;
	if (posix_memalign((void **)&buf, BS, (size_t)QD * REQ_BLOCKS * BS) != 0)
		return 1;
	/* each in-flight request owns its buffer slot until its callback */
	struct slot_ref slots[QD];
	struct inflight f = {0};
	for (unsigned i = 0; i < QD; i++)
		slots[i] = (struct slot_ref){&f, false};
	uint64_t written = 0, seed = 1;
	/* stop while the requests in flight still fit: a full journal, not a checkpoint */
	uint64_t margin = (QD * REQ_BLOCKS + 167) / 168 + 2;
	double t0 = now_s();
	for (;;) {
		dedup_volume_get_stats(v, &st);
		if (st.journal_used + margin >= st.journal_blocks || f.error)
			break;
		unsigned i = 0;
		while (i < QD && slots[i].busy)
			i++;
		if (i < QD) {
			uint8_t *b = buf + (size_t)i * REQ_BLOCKS * BS;
			fill_random(b, REQ_BLOCKS, 2 * seed++ + 1);
			int rc = dedup_volume_submit_write(v, written % (lbas - REQ_BLOCKS), REQ_BLOCKS,
							   b, 0, slot_done, &slots[i]);
			if (rc < 0 && rc != -EAGAIN) {
				f.error = rc;
				break;
			}
			if (rc == 0) {
				slots[i].busy = true;
				f.n++;
				written += REQ_BLOCKS;
				continue;
			}
		}
		dedup_volume_wait(v);
	}
	while (f.n)
		dedup_volume_wait(v);
	int rc = f.error ? f.error : dedup_volume_flush(v);
	if (rc < 0) {
		fprintf(stderr, "insitu-dedup bench: recovery fill failed: %s\n",
			dedup_volume_errmsg(v));
		dedup_volume_crash(v);
		unlink(path);
		free(buf);
		return 1;
	}
	dedup_volume_get_stats(v, &st);
	double fill = now_s() - t0;
	uint64_t used = st.journal_used, jblocks = st.journal_blocks;
	uint64_t mapped_before = st.mapped_blocks, used_before = st.physical_used;
	dedup_volume_crash(v); /* as kill -9: nothing beyond what is on disk */

	struct dedup_error err = {0};
	double t1 = now_s();
	if (dedup_volume_open(path, NULL, &v, &err) != 0) {
		fprintf(stderr, "insitu-dedup bench: recovery failed: %s\n", err.msg);
		unlink(path);
		free(buf);
		return 1;
	}
	double t = now_s() - t1;
	dedup_volume_get_stats(v, &st);
	if (st.mapped_blocks != mapped_before || st.physical_used != used_before) {
		fprintf(stderr, "insitu-dedup bench: recovery lost data: %" PRIu64 " LBAs mapped and %"
			PRIu64 " blocks used before the crash, %" PRIu64 " and %" PRIu64 " after\n",
			mapped_before, used_before, st.mapped_blocks, st.physical_used);
		dedup_volume_crash(v);
		unlink(path);
		free(buf);
		return 1;
	}
	char hb[32];
	tool_human_bytes(bytes, hb, sizeof(hb));
	printf("recovery: %s volume on %s (%s I/O), journal %" PRIu64 " of %" PRIu64
	       " blocks full after writing %" PRIu64 " blocks in %.1f s:\n"
	       "          open replayed %" PRIu64 " journal entries and rebuilt an index of %"
	       PRIu64 " blocks in %.1f ms\n", hb, fs_kind(dir), st.direct_io ? "O_DIRECT" : "buffered",
	       used, jblocks, written, fill, st.recovery_entries, st.index_entries, t * 1e3);
	dedup_volume_close(v, &err);
	unlink(path);
	free(buf);
	return 0;
}

int tool_bench(int argc, char **argv)
{
	static const struct option opts[] = {
		{"blocks", required_argument, NULL, 'n'},
		{"dir", required_argument, NULL, 'd'},
		{"recovery-dir", required_argument, NULL, 'r'},
		{"recovery-size", required_argument, NULL, 's'},
		{"skip-recovery", no_argument, NULL, 'S'},
		{"repeat", required_argument, NULL, 'R'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	uint64_t blocks = 65536, rsize = 1ull << 30;
	const char *dir = "/dev/shm", *rdir = ".";
	bool skip_recovery = false;
	unsigned repeat = 3;
	int c;
	while ((c = getopt_long(argc, argv, "n:d:r:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			blocks = strtoull(optarg, NULL, 0);
			break;
		case 'd': dir = optarg; break;
		case 'r': rdir = optarg; break;
		case 's':
			if (tool_parse_size(optarg, &rsize) < 0) {
				fprintf(stderr, "insitu-dedup bench: --recovery-size '%s' is not a size\n",
					optarg);
				return 2;
			}
			break;
		case 'S': skip_recovery = true; break;
		case 'R':
			repeat = (unsigned)strtoul(optarg, NULL, 0);
			if (repeat == 0)
				repeat = 1;
			break;
		case 'h':
			printf("Usage: insitu-dedup bench [--blocks N] [--dir DIR] [--recovery-dir DIR] "
			       "[--recovery-size SIZE] [--skip-recovery]\n"
			       "  --blocks N          blocks per data set (default 65536 = 256 MiB)\n"
			       "  --dir DIR           backing store directory for the write runs (default "
			       "/dev/shm)\n"
			       "  --recovery-dir DIR  where the recovery volume goes (default: .; use a "
			       "disk, not tmpfs)\n"
			       "  --recovery-size S   its size (default 1G)\n"
			       "  --repeat N          runs per figure, the best is printed (default 3)\n"
			       "  --skip-recovery     no recovery measurement\n");
			return 0;
		default: return 2;
		}
	}
	blocks = (blocks + REQ_BLOCKS - 1) / REQ_BLOCKS * REQ_BLOCKS;
	if (blocks < 1024) {
		fprintf(stderr, "insitu-dedup bench: --blocks must be at least 1024\n");
		return 2;
	}
	uint8_t *unique = NULL, *half = NULL, *same = NULL, *zero = NULL;
	if (posix_memalign((void **)&unique, BS, blocks * BS) ||
	    posix_memalign((void **)&half, BS, blocks * BS) ||
	    posix_memalign((void **)&same, BS, REQ_BLOCKS * BS) ||
	    posix_memalign((void **)&zero, BS, REQ_BLOCKS * BS)) {
		fprintf(stderr, "insitu-dedup bench: out of memory for %" PRIu64 " blocks\n", blocks);
		return 1;
	}
	fill_random(unique, blocks, 42);
	/* 50 %: even blocks new, odd blocks a copy of an earlier new block */
	uint64_t s = 7;
	for (uint64_t i = 0; i < blocks; i++) {
		uint64_t src = i / 2;
		if (i % 2) {
			s ^= s << 13, s ^= s >> 7, s ^= s << 17;
			src = s % (i / 2 + 1);
		}
		memcpy(half + i * BS, unique + src * BS, BS);
	}
	for (unsigned i = 0; i < REQ_BLOCKS; i++)
		memcpy(same + (size_t)i * BS, unique, BS);
	memset(zero, 0, REQ_BLOCKS * BS);
	const struct dataset sets[] = {
		{"unique", unique, REQ_BLOCKS * BS},
		{"50% duplicate", half, REQ_BLOCKS * BS},
		{"all duplicate", same, 0},
		{"all zero", zero, 0},
	};
	char path[4096];
	snprintf(path, sizeof(path), "%s/insitu-dedup-bench.img", dir);
	char hb[32];
	tool_human_bytes(blocks * BS, hb, sizeof(hb));
	printf("insitu-dedup bench: %" PRIu64 " blocks (%s) per data set, best of %u runs, one "
	       "thread\n"
	       "engine: the whole write path (zero check, XXH3-128, index probe, byte-compare "
	       "verify, allocation,\n"
	       "        data write, journal, checkpoints) and a final flush; %u requests of %u "
	       "blocks in flight\n"
	       "  no media: data blocks written by reference, as a device's DMA would (no CPU "
	       "copy); verify reads\n"
	       "            copy from where the block was written; metadata I/O copied to RAM\n"
	       "  RAM:      every backing-store I/O is a memcpy to an in-memory image\n"
	       "  tmpfs:    real io_uring I/O to a file in %s (%s; the kernel's page "
	       "allocation and copy included)\n"
	       "XXH3-128: the same blocks hashed in a loop on the same thread, before the engine "
	       "runs\n\n",
	       blocks, hb, repeat, QD, REQ_BLOCKS, dir, fs_kind(dir));
	printf("%-14s %13s %13s %8s %13s %8s %13s %8s %10s\n", "data set", "XXH3 blk/s",
	       "no-media/s", "ratio", "RAM blk/s", "ratio", "tmpfs blk/s", "ratio", "phys blks");
	/* hash rates first: a volume's teardown (io_uring workers, tmpfs pages) would compete */
	enum { NSETS = sizeof(sets) / sizeof(sets[0]) };
	double hash[NSETS] = {0};
	for (unsigned r = 0; r < repeat; r++)
		for (size_t i = 0; i < NSETS; i++) {
			double x = hash_rate(&sets[i], blocks);
			hash[i] = x > hash[i] ? x : hash[i];
		}
	struct dedup_stats unique_stats = {0};
	for (size_t i = 0; i < NSETS; i++) {
		double h = hash[i], best[3] = {0, 0, 0};
		struct dedup_stats st;
		for (unsigned r = 0; r < repeat; r++)
			for (int m = MODE_NO_MEDIA; m <= MODE_TMPFS; m++) {
				double x = engine_rate(path, &sets[i], blocks, (enum mode)m, &st);
				if (x < 0)
					return 1;
				best[m] = x > best[m] ? x : best[m];
			}
		if (i == 0)
			unique_stats = st;
		printf("%-14s %13.0f %13.0f %8.3f %13.0f %8.3f %13.0f %8.3f %10" PRIu64 "\n",
		       sets[i].name, h, best[0], best[0] / h, best[1], best[1] / h, best[2],
		       best[2] / h, st.physical_used);
	}
	printf("\nindex: %.2f bytes of RAM per unique block (%" PRIu64 " bytes: table of %" PRIu64
	       " slots + keys, %" PRIu64 " unique blocks in %" PRIu64 " data blocks)\n",
	       (double)unique_stats.index_bytes / (double)unique_stats.physical_used,
	       unique_stats.index_bytes, unique_stats.index_capacity, unique_stats.physical_used,
	       unique_stats.data_blocks);
	free(unique);
	free(half);
	free(same);
	free(zero);
	if (skip_recovery)
		return 0;
	return recovery_bench(rdir, rsize);
}
