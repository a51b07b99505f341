/* Subcommands that move data: read and write (blocks), put and get (files as extents).
 * Transfers go in 4 MiB steps so memory stays bounded and the progress bar moves. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define STEP (4u << 20)

struct data_args {
	struct cli_common c;
	const char *dev;
	const char *file;       /* -O / -I / put's FILE */
	uint32_t nsid;
	uint64_t lba;
	bool     have_lba;
	uint64_t count;         /* blocks (read) */
	bool     have_count;
	uint64_t bytes;         /* get */
	bool     have_bytes;
	bool     fua;
};

enum { OPT_LBA = 2001, OPT_COUNT, OPT_BYTES, OPT_FUA };

static int parse_data(int argc, char **argv, const char *help, const char *shortopts,
		      int npos, struct data_args *a, const char **pos)
{
	static const struct option opts[] = {
		{ "namespace-id", required_argument, NULL, 'n' },
		{ "lba", required_argument, NULL, OPT_LBA },
		{ "start-block", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "block-count", required_argument, NULL, 'c' },
		{ "bytes", required_argument, NULL, OPT_BYTES },
		{ "output-file", required_argument, NULL, 'O' },
		{ "input-file", required_argument, NULL, 'I' },
		{ "fua", no_argument, NULL, OPT_FUA },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = argv[0];
	int opt;

	memset(a, 0, sizeof(*a));
	a->nsid = 1;
	optind = 1;
	while ((opt = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		int t = cli_common_opt(&a->c, opt, optarg);
		uint64_t v;

		if (t == 1)
			continue;
		if (t < 0)
			return cli_usage_error(cmd, "output format '%s' is neither normal nor json",
					       optarg);
		switch (opt) {
		case 'h':
			printf("%s", help);
			return -1;
		case 'n':
			if (cli_parse_u64(cmd, "namespace id", optarg, &v))
				return EXIT_USAGE;
			if (v == 0 || v > 0xfffffffe)
				return cli_usage_error(cmd, "namespace id %s is out of range", optarg);
			a->nsid = (uint32_t)v;
			break;
		case OPT_LBA:
		case 's':
			if (cli_parse_u64(cmd, "lba", optarg, &a->lba))
				return EXIT_USAGE;
			a->have_lba = true;
			break;
		case OPT_COUNT:
		case 'c':
			if (cli_parse_u64(cmd, "count", optarg, &a->count))
				return EXIT_USAGE;
			if (a->count == 0)
				return cli_usage_error(cmd, "count must be at least 1 block");
			a->have_count = true;
			break;
		case OPT_BYTES:
			if (cli_parse_size(cmd, "bytes", optarg, &a->bytes))
				return EXIT_USAGE;
			a->have_bytes = true;
			break;
		case 'O':
		case 'I':
			a->file = optarg;
			break;
		case OPT_FUA:
			a->fua = true;
			break;
		default:
			return cli_usage_error(cmd, "unknown option");
		}
	}
	if (argc - optind != npos)
		return cli_usage_error(cmd, npos == 1 ? "expects exactly one DEVICE"
						      : "expects a DEVICE and a FILE");
	a->dev = argv[optind];
	for (int i = 1; i < npos; i++)
		pos[i - 1] = argv[optind + i];
	return 0;
}

static int full_write(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads up to @n bytes (fewer only at end of file). */
static ssize_t full_read(int fd, void *buf, size_t n)
{
	uint8_t *p = buf;
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* Reads @bytes from block @lba into @fd (the last block cut to @bytes). */
static int device_to_fd(struct insitu_dev *d, const struct data_args *a, uint32_t bs,
			uint64_t bytes, int fd, const char *fname)
{
	struct cli_progress p;
	uint8_t *buf = aligned_alloc(4096, STEP);

	if (!buf)
		return cli_usage_error(a->c.json ? "get" : "read", "out of memory");
	cli_progress_start(&p, &a->c, "read ", bytes);
	int rc = EXIT_OK;

	for (uint64_t done = 0; done < bytes;) {
		uint64_t n = bytes - done < STEP ? bytes - done : STEP;
		uint64_t padded = (n + bs - 1) / bs * bs;

		if (insitu_read(d, a->nsid, a->lba + done / bs, buf, padded) < 0) {
			cli_progress_end(&p);
			rc = cli_fail_lib();
			break;
		}
		int w = full_write(fd, buf, n);

		if (w) {
			cli_progress_end(&p);
			fprintf(stderr, "insitu: %s: %s\n", fname, strerror(-w));
			rc = EXIT_FAILED;
			break;
		}
		done += n;
		cli_progress_update(&p, done);
	}
	cli_progress_end(&p);
	free(buf);
	return rc;
}

/* Writes everything @fd holds from block @lba, zero-padding the last block. */
static int fd_to_device(struct insitu_dev *d, const struct data_args *a, uint32_t bs, int fd,
			uint64_t size_hint, const char *fname, uint64_t *written)
{
	struct cli_progress p;
	uint8_t *buf = aligned_alloc(4096, STEP);

	if (!buf)
		return EXIT_FAILED;
	cli_progress_start(&p, &a->c, "write", size_hint);
	int rc = EXIT_OK;
	uint64_t done = 0;

	for (;;) {
		ssize_t n = full_read(fd, buf, STEP);

		if (n < 0) {
			cli_progress_end(&p);
			fprintf(stderr, "insitu: %s: %s\n", fname, strerror((int)-n));
			rc = EXIT_FAILED;
			break;
		}
		if (n == 0)
			break;
		size_t padded = ((size_t)n + bs - 1) / bs * bs;

		memset(buf + n, 0, padded - (size_t)n);
		if (insitu_write(d, a->nsid, a->lba + done / bs, buf, padded,
				 a->fua ? INSITU_IO_FUA : 0) < 0) {
			cli_progress_end(&p);
			rc = cli_fail_lib();
			break;
		}
		done += (uint64_t)n;
		cli_progress_update(&p, done);
		if ((size_t)n < STEP)
			break;
	}
	cli_progress_end(&p);
	free(buf);
	*written = done;
	return rc;
}

static int open_out(const char *file)
{
	if (!file || strcmp(file, "-") == 0)
		return STDOUT_FILENO;
	return open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

/* ---- read / get ---------------------------------------------------------------------- */

static const char read_help[] =
	"usage: insitu read DEVICE --lba N --count N [-O FILE] [options]\n"
	"Reads COUNT blocks from block LBA into FILE (stdout when absent or '-').\n\n"
	"  -s, --lba N              first block\n"
	"  -c, --count N            number of blocks\n"
	"  -O, --output-file FILE   where the data goes\n"
	"  -n, --namespace-id NSID  namespace (default 1)\n" CLI_COMMON_HELP;

static const char get_help[] =
	"usage: insitu get DEVICE --lba N --bytes N -O FILE [options]\n"
	"Fetches BYTES bytes starting at block LBA into FILE: the extent 'insitu put' printed.\n\n"
	"  -s, --lba N              first block\n"
	"      --bytes SIZE         bytes to fetch (4096, 4K, 1M, ...)\n"
	"  -O, --output-file FILE   where the data goes\n"
	"  -n, --namespace-id NSID  namespace (default 1)\n" CLI_COMMON_HELP;

static int read_common(int argc, char **argv, bool get)
{
	struct data_args a;
	struct insitu_dev *d;
	uint32_t bs;
	uint64_t nblocks;
	const char *cmd = argv[0];

	PARSE_OR_RETURN(parse_data(argc, argv, get ? get_help : read_help, "s:c:O:n:o:h", 1, &a,
				   NULL));
	if (!a.have_lba)
		return cli_usage_error(cmd, "--lba is required");
	if (!get && !a.have_count)
		return cli_usage_error(cmd, "--count is required");
	if (get && (!a.have_bytes || !a.file))
		return cli_usage_error(cmd, "--bytes and -O FILE are required");
	if (get && a.bytes == 0)
		return cli_usage_error(cmd, "--bytes must be at least 1");
	int rc = cli_open(&a.c, a.dev, &d);

	if (rc)
		return rc;
	if (insitu_ns_geometry(d, a.nsid, &bs, &nblocks) < 0) {
		rc = cli_fail_lib();
		insitu_close(d);
		return rc;
	}
	if (!get && a.count > UINT64_MAX / bs) {
		insitu_close(d);
		return cli_usage_error(cmd, "count %llu is too large", (unsigned long long)a.count);
	}
	uint64_t bytes = get ? a.bytes : a.count * bs;
	uint64_t blocks = (bytes + bs - 1) / bs;

	if (a.lba >= nblocks || blocks > nblocks - a.lba) {
		fprintf(stderr, "insitu %s: blocks %llu..%llu are beyond namespace %u's %llu blocks of "
			"%u bytes\n", cmd, (unsigned long long)a.lba,
			(unsigned long long)(a.lba + blocks - 1), a.nsid, (unsigned long long)nblocks,
			bs);
		insitu_close(d);
		return EXIT_USAGE;
	}
	int fd = open_out(a.file);

	if (fd < 0) {
		fprintf(stderr, "insitu %s: cannot create %s: %s\n", cmd, a.file, strerror(errno));
		insitu_close(d);
		return EXIT_FAILED;
	}
	rc = device_to_fd(d, &a, bs, bytes, fd, a.file ? a.file : "stdout");
	if (fd != STDOUT_FILENO && close(fd) < 0 && rc == EXIT_OK) {
		fprintf(stderr, "insitu %s: %s: %s\n", cmd, a.file, strerror(errno));
		rc = EXIT_FAILED;
	}
	if (insitu_close(d) < 0 && rc == EXIT_OK)
		rc = cli_fail_lib();
	if (rc == EXIT_OK && get && a.c.json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "file", json_object_new_string(a.file));
		json_object_object_add(o, "nsid", json_object_new_uint64(a.nsid));
		json_object_object_add(o, "lba", json_object_new_uint64(a.lba));
		json_object_object_add(o, "bytes", json_object_new_uint64(bytes));
		cli_json_print(o);
	} else if (rc == EXIT_OK && get) {
		printf("got %llu bytes from lba %llu into %s\n", (unsigned long long)bytes,
		       (unsigned long long)a.lba, a.file);
	}
	return rc;
}

int cmd_read(int argc, char **argv)
{
	return read_common(argc, argv, false);
}

int cmd_get(int argc, char **argv)
{
	return read_common(argc, argv, true);
}

/* ---- write / put --------------------------------------------------------------------- */

static const char write_help[] =
	"usage: insitu write DEVICE --lba N [-I FILE] [--fua] [options]\n"
	"Writes FILE (stdin when absent or '-') from block LBA; the last block is padded\n"
	"with zeros.\n\n"
	"  -s, --lba N              first block\n"
	"  -I, --input-file FILE    data to write\n"
	"      --fua                durable before the command completes (Force Unit Access)\n"
	"  -n, --namespace-id NSID  namespace (default 1)\n" CLI_COMMON_HELP;

static const char put_help[] =
	"usage: insitu put DEVICE FILE [--lba N] [--fua] [options]\n"
	"Stores FILE from block LBA (default 0), padding its last block with zeros, and\n"
	"prints the extent and the 'insitu get' command that fetches it back.\n\n"
	"  -s, --lba N              first block (default 0)\n"
	"      --fua                durable before each command completes\n"
	"  -n, --namespace-id NSID  namespace (default 1)\n" CLI_COMMON_HELP;

static int write_common(int argc, char **argv, bool put)
{
	struct data_args a;
	struct insitu_dev *d;
	const char *pos[1] = { NULL };
	uint32_t bs;
	uint64_t nblocks;
	const char *cmd = argv[0];

	PARSE_OR_RETURN(parse_data(argc, argv, put ? put_help : write_help,
				   put ? "s:n:o:h" : "s:I:n:o:h", put ? 2 : 1, &a, pos));
	if (put)
		a.file = pos[0];
	else if (!a.have_lba)
		return cli_usage_error(cmd, "--lba is required");
	int fd = STDIN_FILENO;
	uint64_t size = 0;

	if (a.file && strcmp(a.file, "-") != 0) {
		fd = open(a.file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "insitu %s: cannot open %s: %s\n", cmd, a.file, strerror(errno));
			return EXIT_FAILED;
		}
	}
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		size = (uint64_t)st.st_size;
	int rc = cli_open(&a.c, a.dev, &d);

	if (rc) {
		if (fd != STDIN_FILENO)
			close(fd);
		return rc;
	}
	if (insitu_ns_geometry(d, a.nsid, &bs, &nblocks) < 0) {
		rc = cli_fail_lib();
		goto out;
	}
	uint64_t need = (size + bs - 1) / bs;

	if (size && (a.lba >= nblocks || need > nblocks - a.lba)) {
		fprintf(stderr, "insitu %s: %llu bytes from block %llu do not fit namespace %u's "
			"%llu blocks of %u bytes\n", cmd, (unsigned long long)size,
			(unsigned long long)a.lba, a.nsid, (unsigned long long)nblocks, bs);
		rc = EXIT_USAGE;
		goto out;
	}
	uint64_t written = 0;

	rc = fd_to_device(d, &a, bs, fd, size, a.file ? a.file : "stdin", &written);
	if (rc)
		goto out;
	uint64_t blocks = (written + bs - 1) / bs;

	if (a.c.json) {
		struct json_object *o = json_object_new_object();

		if (a.file)
			json_object_object_add(o, "file", json_object_new_string(a.file));
		json_object_object_add(o, "nsid", json_object_new_uint64(a.nsid));
		json_object_object_add(o, "lba", json_object_new_uint64(a.lba));
		json_object_object_add(o, "blocks", json_object_new_uint64(blocks));
		json_object_object_add(o, "bytes", json_object_new_uint64(written));
		cli_json_print(o);
	} else if (put) {
		printf("stored %s: nsid %u, lba %llu, %llu blocks, %llu bytes\n", a.file, a.nsid,
		       (unsigned long long)a.lba, (unsigned long long)blocks,
		       (unsigned long long)written);
		printf("get it back: insitu get %s --lba %llu --bytes %llu -O FILE\n", a.dev,
		       (unsigned long long)a.lba, (unsigned long long)written);
	} else {
		printf("wrote %llu bytes (%llu blocks) at lba %llu\n", (unsigned long long)written,
		       (unsigned long long)blocks, (unsigned long long)a.lba);
	}
out:
	if (fd != STDIN_FILENO)
		close(fd);
	if (insitu_close(d) < 0 && rc == EXIT_OK)
		rc = cli_fail_lib();
	return rc;
}

int cmd_write(int argc, char **argv)
{
	return write_common(argc, argv, false);
}

int cmd_put(int argc, char **argv)
{
	return write_common(argc, argv, true);
}

static const char trim_help[] =
	"usage: insitu trim DEVICE --lba N --count N [options]\n"
	"Deallocates COUNT blocks from block LBA (Dataset Management, Deallocate): they read\n"
	"back as zeros, and a deduplicating device frees the flash blocks nothing else shares.\n\n"
	"  -s, --lba N              first block\n"
	"  -c, --count N            blocks to deallocate\n"
	"  -n, --namespace-id NSID  namespace (default 1)\n" CLI_COMMON_HELP;

int cmd_trim(int argc, char **argv)
{
	struct data_args a;
	struct insitu_dev *d;
	const char *cmd = argv[0];
	int rc;

	PARSE_OR_RETURN(parse_data(argc, argv, trim_help, "s:c:n:o:h", 1, &a, NULL));
	if (!a.have_lba || !a.have_count)
		return cli_usage_error(cmd, "--lba and --count are required");
	rc = cli_open(&a.c, a.dev, &d);
	if (rc)
		return rc;
	if (insitu_deallocate(d, a.nsid, a.lba, a.count) < 0) {
		rc = cli_fail_lib();
	} else if (a.c.json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "nsid", json_object_new_uint64(a.nsid));
		json_object_object_add(o, "lba", json_object_new_uint64(a.lba));
		json_object_object_add(o, "blocks", json_object_new_uint64(a.count));
		cli_json_print(o);
	} else {
		printf("deallocated %llu blocks at lba %llu\n", (unsigned long long)a.count,
		       (unsigned long long)a.lba);
	}
	if (insitu_close(d) < 0 && rc == EXIT_OK)
		rc = cli_fail_lib();
	return rc;
}
