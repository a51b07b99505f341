/* insitu-dedup: format, fill, read, trim, inspect, audit and benchmark a dedup volume from the
 * command line. Each subcommand is one function; errors say what failed and what to do.
 * Exit codes: 0 success, 1 failure, 2 usage error, 3 check found problems. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dedup/volume.h"
#include "tool.h"

#define EXIT_USAGE 2
#define EXIT_PROBLEMS 3
#define CHUNK_BLOCKS 256u

static const char *prog = "insitu-dedup";

static void usage(FILE *out)
{
	fprintf(out,
"Usage: %s COMMAND [OPTIONS] ARGS\n"
"\n"
"A deduplicated volume of 4 KiB blocks on a file or block device. LBA and COUNT are in\n"
"4 KiB blocks; SIZE accepts K, M, G, T suffixes (powers of 1024).\n"
"\n"
"Commands:\n"
"  format [--physical-size SIZE] [--journal-blocks N] [--doublewrite-slots N] [--force]\n"
"         VOLUME LOGICAL_SIZE\n"
"      Create an empty volume exporting LOGICAL_SIZE bytes. A missing file is created\n"
"      sparse with --physical-size bytes; otherwise the file or device size is used.\n"
"      Refuses to replace an existing volume without --force.\n"
"  write [--fua] VOLUME LBA FILE\n"
"      Write FILE (- for stdin) at LBA; a partial last block is padded with zeros.\n"
"      The data is flushed before the command returns.\n"
"  read VOLUME LBA COUNT [OUTPUT]\n"
"      Write COUNT blocks from LBA to OUTPUT (default: stdout).\n"
"  trim VOLUME LBA COUNT\n"
"      Deallocate COUNT blocks from LBA (they read back as zeros) and flush.\n"
"  stats [-o normal|json] VOLUME\n"
"      Space, deduplication and metadata figures (recovers in memory, writes nothing).\n"
"  check [-o normal|json] VOLUME\n"
"      Offline audit: recompute every reference count from the block map, every\n"
"      fingerprint from the data, the index and the free-space accounting; list every\n"
"      mismatch. Exit status 3 when anything is wrong.\n"
"  bench [--blocks N] [--dir DIR] [--recovery-dir DIR] [--recovery-size SIZE]\n"
"      Raw XXH3-128 speed beside the engine's write throughput for unique, 50%%\n"
"      duplicate, all-duplicate and all-zero data; index bytes per block; recovery time\n"
"      of a volume with a full journal. See dedup/README.md.\n"
"\n"
"Exit status: 0 success, 1 failure (message on stderr), 2 usage error, 3 check found\n"
"problems.\n", prog);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nRun '%s --help' for usage.\n", prog);
	return EXIT_USAGE;
}

int tool_parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: return -1;
	}
	if (*end == 'i' || *end == 'B')
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end != '\0' || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end != '\0' || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

void tool_human_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)bytes;
	unsigned u = 0;
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64 " B", bytes);
	else
		snprintf(buf, len, "%.2f %s", v, units[u]);
}

static void *alloc_aligned(size_t bytes)
{
	void *p = NULL;
	return posix_memalign(&p, DEDUP_BLOCK_SIZE, bytes) == 0 ? p : NULL;
}

static struct dedup_volume *open_volume(const char *path, bool read_only)
{
	struct dedup_volume *v = NULL;
	struct dedup_error err = {0};
	struct dedup_open_options o = {.read_only = read_only};
	if (dedup_volume_open(path, &o, &v, &err) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
		return NULL;
	}
	return v;
}

static int close_volume(struct dedup_volume *v)
{
	struct dedup_error err = {0};
	if (dedup_volume_close(v, &err) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
		return 1;
	}
	return 0;
}

/* A request failed: name it, give the volume's message, close without hiding it. */
static int request_failed(struct dedup_volume *v, const char *what, int rc)
{
	fprintf(stderr, "%s: %s failed: %s: %s\n", prog, what, strerror(-rc),
		dedup_volume_errmsg(v));
	struct dedup_error err = {0};
	dedup_volume_close(v, &err);
	return 1;
}

static int check_range(struct dedup_volume *v, uint64_t lba, uint64_t count)
{
	uint64_t n = dedup_volume_logical_blocks(v);
	if (lba >= n || count > n - lba) {
		fprintf(stderr, "%s: blocks %" PRIu64 "..%" PRIu64 " are beyond the volume's %" PRIu64
			" blocks (LBA 0..%" PRIu64 ")\n", prog, lba, lba + count - 1, n, n - 1);
		return -1;
	}
	return 0;
}

/* ---- format ---------------------------------------------------------------------------- */

static int cmd_format(int argc, char **argv)
{
	static const struct option opts[] = {
		{"physical-size", required_argument, NULL, 'p'},
		{"journal-blocks", required_argument, NULL, 'j'},
		{"doublewrite-slots", required_argument, NULL, 'd'},
		{"force", no_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct dedup_format_options fo = {0};
	bool force = false;
	uint64_t n;
	int c;
	while ((c = getopt_long(argc, argv, "p:j:d:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (tool_parse_size(optarg, &fo.physical_bytes) < 0 ||
			    fo.physical_bytes % DEDUP_BLOCK_SIZE)
				return usage_error("--physical-size '%s': give a size in bytes, a "
						   "multiple of 4096 (e.g. 1G)", optarg);
			break;
		case 'j':
			if (parse_u64(optarg, &n) < 0 || n > UINT32_MAX)
				return usage_error("--journal-blocks '%s': give a number", optarg);
			fo.journal_blocks = (uint32_t)n;
			break;
		case 'd':
			if (parse_u64(optarg, &n) < 0 || n > UINT32_MAX)
				return usage_error("--doublewrite-slots '%s': give a number", optarg);
			fo.doublewrite_slots = (uint32_t)n;
			break;
		case 'f': force = true; break;
		case 'h': usage(stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (argc - optind != 2)
		return usage_error("format needs VOLUME and LOGICAL_SIZE");
	const char *path = argv[optind];
	if (tool_parse_size(argv[optind + 1], &fo.logical_bytes) < 0 || fo.logical_bytes == 0 ||
	    fo.logical_bytes % DEDUP_BLOCK_SIZE)
		return usage_error("logical size '%s': give a non-zero multiple of 4096 bytes "
				   "(e.g. 4G)", argv[optind + 1]);

	if (!force && access(path, F_OK) == 0) {
		struct dedup_volume *v = NULL;
		struct dedup_error err = {0};
		struct dedup_open_options o = {.read_only = true};
		if (dedup_volume_open(path, &o, &v, &err) == 0) {
			struct dedup_error e2 = {0};
			dedup_volume_close(v, &e2);
			fprintf(stderr, "%s: %s already holds a dedup volume; add --force to replace "
				"it (its data will be lost)\n", prog, path);
			return 1;
		}
	}
	struct dedup_error err = {0};
	if (dedup_volume_format(path, &fo, &err) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
		return 1;
	}
	struct dedup_volume *v = open_volume(path, true);
	if (!v)
		return 1;
	struct dedup_stats st;
	dedup_volume_get_stats(v, &st);
	char lb[32], pb[32];
	tool_human_bytes(st.logical_blocks * DEDUP_BLOCK_SIZE, lb, sizeof(lb));
	tool_human_bytes(st.data_blocks * DEDUP_BLOCK_SIZE, pb, sizeof(pb));
	printf("formatted %s: %s logical (%" PRIu64 " blocks), %s of data blocks (%" PRIu64
	       "), journal %" PRIu64 " blocks\n", path, lb, st.logical_blocks, pb, st.data_blocks,
	       st.journal_blocks);
	return close_volume(v);
}

/* ---- write / read / trim --------------------------------------------------------------- */

static ssize_t read_full(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int cmd_write(int argc, char **argv)
{
	static const struct option opts[] = {
		{"fua", no_argument, NULL, 'F'}, {"help", no_argument, NULL, 'h'}, {0},
	};
	unsigned flags = 0;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'F')
			flags |= DEDUP_FUA;
		else if (c == 'h')
			return usage(stdout), 0;
		else
			return EXIT_USAGE;
	}
	if (argc - optind != 3)
		return usage_error("write needs VOLUME LBA FILE");
	uint64_t lba;
	if (parse_u64(argv[optind + 1], &lba) < 0)
		return usage_error("LBA '%s' is not a number", argv[optind + 1]);
	const char *file = argv[optind + 2];
	int fd = strcmp(file, "-") == 0 ? STDIN_FILENO : open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s: cannot open %s: %s\n", prog, file, strerror(errno));
		return 1;
	}
	struct dedup_volume *v = open_volume(argv[optind], false);
	uint8_t *buf = alloc_aligned(CHUNK_BLOCKS * DEDUP_BLOCK_SIZE);
	if (!v || !buf) {
		free(buf);
		if (v)
			close_volume(v);
		return 1;
	}
	struct dedup_stats before, after;
	dedup_volume_get_stats(v, &before);
	uint64_t at = lba, bytes = 0;
	int rc = 0;
	for (;;) {
		ssize_t n = read_full(fd, buf, CHUNK_BLOCKS * DEDUP_BLOCK_SIZE);
		if (n < 0) {
			fprintf(stderr, "%s: reading %s: %s\n", prog, file, strerror(errno));
			rc = 1;
			break;
		}
		if (n == 0)
			break;
		uint32_t blocks = (uint32_t)(((size_t)n + DEDUP_BLOCK_SIZE - 1) / DEDUP_BLOCK_SIZE);
		memset(buf + n, 0, (size_t)blocks * DEDUP_BLOCK_SIZE - (size_t)n);
		if (check_range(v, at, blocks) < 0) {
			rc = 1;
			break;
		}
		int r = dedup_volume_write(v, at, blocks, buf, flags);
		if (r < 0) {
			free(buf);
			return request_failed(v, "write", r);
		}
		at += blocks;
		bytes += (uint64_t)n;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	free(buf);
	if (rc == 0) {
		int r = dedup_volume_flush(v);
		if (r < 0)
			return request_failed(v, "flush", r);
	}
	dedup_volume_get_stats(v, &after);
	if (at > lba)
		printf("wrote %" PRIu64 " blocks (%" PRIu64 " bytes) at LBA %" PRIu64 "..%" PRIu64
		       ": %" PRIu64 " deduplicated, %" PRIu64 " zero, %" PRIu64 " new physical blocks\n",
		       at - lba, bytes, lba, at - 1, after.dedup_hits - before.dedup_hits,
		       after.zero_writes - before.zero_writes,
		       after.physical_used > before.physical_used
			       ? after.physical_used - before.physical_used : 0);
	else
		printf("wrote nothing: %s is empty\n", file);
	int crc = close_volume(v);
	return rc ? rc : crc;
}

static int parse_lba_count(int argc, char **argv, int first, uint64_t *lba, uint64_t *count)
{
	if (parse_u64(argv[first], lba) < 0)
		return usage_error("LBA '%s' is not a number", argv[first]);
	if (parse_u64(argv[first + 1], count) < 0 || *count == 0)
		return usage_error("COUNT '%s' is not a positive number", argv[first + 1]);
	(void)argc;
	return 0;
}

static int cmd_read(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return usage(stdout), 0;
	if (argc != 4 && argc != 5)
		return usage_error("read needs VOLUME LBA COUNT [OUTPUT]");
	uint64_t lba, count;
	int rc = parse_lba_count(argc, argv, 2, &lba, &count);
	if (rc)
		return rc;
	const char *out = argc == 5 ? argv[4] : "-";
	struct dedup_volume *v = open_volume(argv[1], true);
	if (!v)
		return 1;
	if (check_range(v, lba, count) < 0) {
		close_volume(v);
		return 1;
	}
	int fd = strcmp(out, "-") == 0 ? STDOUT_FILENO
				       : open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	uint8_t *buf = alloc_aligned(CHUNK_BLOCKS * DEDUP_BLOCK_SIZE);
	if (fd < 0 || !buf) {
		fprintf(stderr, "%s: cannot open %s: %s\n", prog, out, strerror(errno));
		free(buf);
		close_volume(v);
		return 1;
	}
	for (uint64_t done = 0; done < count;) {
		uint32_t n = (uint32_t)(count - done < CHUNK_BLOCKS ? count - done : CHUNK_BLOCKS);
		int r = dedup_volume_read(v, lba + done, n, buf);
		if (r < 0) {
			free(buf);
			return request_failed(v, "read", r);
		}
		size_t len = (size_t)n * DEDUP_BLOCK_SIZE, off = 0;
		while (off < len) {
			ssize_t w = write(fd, buf + off, len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				fprintf(stderr, "%s: writing %s: %s\n", prog, out, strerror(errno));
				free(buf);
				close_volume(v);
				return 1;
			}
			off += (size_t)w;
		}
		done += n;
	}
	free(buf);
	if (fd != STDOUT_FILENO && close(fd) != 0) {
		fprintf(stderr, "%s: closing %s: %s\n", prog, out, strerror(errno));
		close_volume(v);
		return 1;
	}
	return close_volume(v);
}

static int cmd_trim(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return usage(stdout), 0;
	if (argc != 4)
		return usage_error("trim needs VOLUME LBA COUNT");
	uint64_t lba, count;
	int rc = parse_lba_count(argc, argv, 2, &lba, &count);
	if (rc)
		return rc;
	struct dedup_volume *v = open_volume(argv[1], false);
	if (!v)
		return 1;
	if (check_range(v, lba, count) < 0) {
		close_volume(v);
		return 1;
	}
	struct dedup_stats before, after;
	dedup_volume_get_stats(v, &before);
	for (uint64_t done = 0; done < count;) {
		uint32_t n = (uint32_t)(count - done < CHUNK_BLOCKS ? count - done : CHUNK_BLOCKS);
		int r = dedup_volume_trim(v, lba + done, n, 0);
		if (r < 0)
			return request_failed(v, "trim", r);
		done += n;
	}
	int r = dedup_volume_flush(v);
	if (r < 0)
		return request_failed(v, "flush", r);
	dedup_volume_get_stats(v, &after);
	printf("trimmed %" PRIu64 " blocks at LBA %" PRIu64 "..%" PRIu64 ": %" PRIu64
	       " physical blocks freed\n", count, lba, lba + count - 1,
	       before.physical_used - after.physical_used);
	return close_volume(v);
}

/* ---- stats / check --------------------------------------------------------------------- */

static int parse_output_opt(int argc, char **argv, bool *json, const char *cmd)
{
	static const struct option opts[] = {
		{"output-format", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'}, {0},
	};
	int c;
	*json = false;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (c == 'o') {
			if (!strcmp(optarg, "json"))
				*json = true;
			else if (strcmp(optarg, "normal") != 0)
				return usage_error("-o '%s': use normal or json", optarg);
		} else if (c == 'h') {
			usage(stdout);
			return -1;
		} else {
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return usage_error("%s needs VOLUME", cmd);
	return 0;
}

static json_object *stats_json(const struct dedup_stats *st, const char *report)
{
	json_object *o = json_object_new_object();
#define ADD(name) json_object_object_add(o, #name, json_object_new_uint64(st->name))
	ADD(logical_blocks);
	ADD(data_blocks);
	ADD(mapped_blocks);
	ADD(zero_blocks);
	ADD(physical_used);
	ADD(physical_free);
	ADD(bytes_saved);
	ADD(dedup_hits);
	ADD(verify_mismatches);
	ADD(saturations);
	ADD(zero_writes);
	ADD(index_entries);
	ADD(index_bytes);
	ADD(index_capacity);
	ADD(metadata_bytes);
	ADD(journal_blocks);
	ADD(journal_used);
	ADD(checkpoints);
	ADD(recovery_entries);
	ADD(recovery_ns);
	ADD(generation);
#undef ADD
	json_object_object_add(o, "block_size", json_object_new_int(DEDUP_BLOCK_SIZE));
	json_object_object_add(o, "direct_io", json_object_new_boolean(st->direct_io));
	double ratio = st->physical_used
			       ? (double)(st->mapped_blocks + st->zero_blocks) / (double)st->physical_used
			       : 0;
	json_object_object_add(o, "dedup_ratio", json_object_new_double(ratio));
	json_object_object_add(o, "open_report", json_object_new_string(report));
	return o;
}

static int cmd_stats(int argc, char **argv)
{
	bool json;
	int rc = parse_output_opt(argc, argv, &json, "stats");
	if (rc)
		return rc < 0 ? 0 : rc;
	const char *path = argv[optind];
	struct dedup_volume *v = open_volume(path, true);
	if (!v)
		return 1;
	struct dedup_stats st;
	dedup_volume_get_stats(v, &st);
	if (json) {
		json_object *o = stats_json(&st, dedup_volume_open_report(v));
		json_object_object_add(o, "volume", json_object_new_string(path));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
		return close_volume(v);
	}
	char a[32], b[32], c2[32], d[32];
	uint64_t stored = st.mapped_blocks + st.zero_blocks;
	printf("volume               %s\n", path);
	tool_human_bytes(st.logical_blocks * DEDUP_BLOCK_SIZE, a, sizeof(a));
	printf("logical size         %s (%" PRIu64 " blocks of 4 KiB)\n", a, st.logical_blocks);
	tool_human_bytes(st.data_blocks * DEDUP_BLOCK_SIZE, a, sizeof(a));
	printf("physical capacity    %s (%" PRIu64 " data blocks)\n", a, st.data_blocks);
	printf("logical blocks       %" PRIu64 " mapped to data, %" PRIu64 " zero, %" PRIu64
	       " unmapped\n", st.mapped_blocks, st.zero_blocks,
	       st.logical_blocks - st.mapped_blocks - st.zero_blocks);
	tool_human_bytes(st.physical_used * DEDUP_BLOCK_SIZE, a, sizeof(a));
	printf("physical used        %s (%" PRIu64 " blocks, %.1f%%)\n", a, st.physical_used,
	       st.data_blocks ? 100.0 * (double)st.physical_used / (double)st.data_blocks : 0);
	tool_human_bytes(st.bytes_saved, b, sizeof(b));
	printf("saved                %s (%.2fx: %" PRIu64 " logical blocks in %" PRIu64
	       " physical)\n", b, st.physical_used ? (double)stored / (double)st.physical_used : 0,
	       stored, st.physical_used);
	printf("dedup hits           %" PRIu64 " (lifetime)\n", st.dedup_hits);
	printf("verify mismatches    %" PRIu64 " (index candidates whose bytes differed)\n",
	       st.verify_mismatches);
	printf("zero blocks written  %" PRIu64 "\n", st.zero_writes);
	printf("saturations          %" PRIu64 " (blocks that reached 254 references)\n",
	       st.saturations);
	tool_human_bytes(st.index_bytes, c2, sizeof(c2));
	printf("index memory         %s for %" PRIu64 " entries (%.1f bytes per data block)\n", c2,
	       st.index_entries, st.data_blocks ? (double)st.index_bytes / (double)st.data_blocks : 0);
	tool_human_bytes(st.metadata_bytes, d, sizeof(d));
	printf("metadata memory      %s\n", d);
	printf("journal              %" PRIu64 " of %" PRIu64 " blocks in use, %" PRIu64
	       " checkpoints\n", st.journal_used, st.journal_blocks, st.checkpoints);
	printf("open                 %.2f ms, %" PRIu64 " journal entries replayed, %s I/O\n",
	       st.recovery_ns / 1e6, st.recovery_entries, st.direct_io ? "direct" : "buffered");
	const char *rep = dedup_volume_open_report(v);
	if (rep[0])
		printf("notes\n%s", rep);
	return close_volume(v);
}

struct check_lines {
	json_object *arr;
	bool json;
};

static void check_line(void *arg, const char *line)
{
	struct check_lines *cl = arg;
	if (cl->json)
		json_object_array_add(cl->arr, json_object_new_string(line));
	else
		printf("  %s\n", line);
}

static int cmd_check(int argc, char **argv)
{
	bool json;
	int rc = parse_output_opt(argc, argv, &json, "check");
	if (rc)
		return rc < 0 ? 0 : rc;
	const char *path = argv[optind];
	struct dedup_volume *v = open_volume(path, true);
	if (!v)
		return 1;
	struct check_lines cl = {.json = json, .arr = json ? json_object_new_array() : NULL};
	struct dedup_check_result res;
	struct dedup_error err = {0};
	if (!json)
		printf("checking %s\n", path);
	if (dedup_volume_check(v, check_line, &cl, &res, &err) != 0) {
		fprintf(stderr, "%s: check could not run: %s\n", prog, err.msg);
		json_object_put(cl.arr);
		close_volume(v);
		return 1;
	}
	if (json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "volume", json_object_new_string(path));
#define ADD(name) json_object_object_add(o, #name, json_object_new_uint64(res.name))
		ADD(blocks_checked);
		ADD(refcount_mismatches);
		ADD(key_mismatches);
		ADD(index_errors);
		ADD(accounting_errors);
		ADD(zero_data_blocks);
		ADD(read_errors);
		ADD(problems);
#undef ADD
		json_object_object_add(o, "findings", cl.arr);
		json_object_object_add(o, "open_report",
				       json_object_new_string(dedup_volume_open_report(v)));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
	} else {
		const char *rep = dedup_volume_open_report(v);
		if (rep[0])
			printf("open notes:\n%s", rep);
		printf("%" PRIu64 " data blocks read and hashed; %" PRIu64 " problems "
		       "(%" PRIu64 " reference counts, %" PRIu64 " fingerprints, %" PRIu64 " index, %"
		       PRIu64 " accounting, %" PRIu64 " zero data blocks, %" PRIu64 " read errors)\n",
		       res.blocks_checked, res.problems, res.refcount_mismatches, res.key_mismatches,
		       res.index_errors, res.accounting_errors, res.zero_data_blocks, res.read_errors);
		if (res.problems == 0)
			printf("all reference counts, fingerprints, index entries and free blocks match\n");
	}
	int crc = close_volume(v);
	if (res.problems)
		return EXIT_PROBLEMS;
	return crc;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("no command given");
	const char *cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{"format", cmd_format}, {"write", cmd_write}, {"read", cmd_read},
		{"trim", cmd_trim},     {"stats", cmd_stats}, {"check", cmd_check},
		{"bench", tool_bench},
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmd, cmds[i].name)) {
			optind = 1;
			return cmds[i].fn(argc - 1, argv + 1);
		}
	return usage_error("unknown command '%s'", cmd);
}
