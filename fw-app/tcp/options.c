/* insitu-fw's command line and config file (DESIGN.md §7): one table of keys shared by
 * both, sizes with K/M/G/T suffixes, and errors that name the flag (or file:line) and the
 * value refused. Declared in ../config.h beside the defaults. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum opt_kind { OPT_VALUE, OPT_FLAG };

enum opt_id {
	O_FLASH, O_FLASH_SIZE, O_NS_SIZE, O_FORMAT, O_NO_DEDUP, O_LISTEN, O_PORT, O_DISC_PORT,
	O_NQN, O_SERIAL, O_MAX_CONN, O_QUEUE_DEPTH, O_IO_QUEUES, O_MDTS, O_NO_DIGESTS,
	O_LOG_LEVEL, O_CONFIG, O_HELP,
};

struct opt {
	const char *name;
	enum opt_kind kind;
	enum opt_id id;
};

static const struct opt opts[] = {
	{ "flash", OPT_VALUE, O_FLASH },
	{ "flash-size", OPT_VALUE, O_FLASH_SIZE },
	{ "ns-size", OPT_VALUE, O_NS_SIZE },
	{ "format", OPT_FLAG, O_FORMAT },
	{ "no-dedup", OPT_FLAG, O_NO_DEDUP },
	{ "listen", OPT_VALUE, O_LISTEN },
	{ "port", OPT_VALUE, O_PORT },
	{ "discovery-port", OPT_VALUE, O_DISC_PORT },
	{ "nqn", OPT_VALUE, O_NQN },
	{ "serial", OPT_VALUE, O_SERIAL },
	{ "max-connections", OPT_VALUE, O_MAX_CONN },
	{ "queue-depth", OPT_VALUE, O_QUEUE_DEPTH },
	{ "io-queues", OPT_VALUE, O_IO_QUEUES },
	{ "mdts", OPT_VALUE, O_MDTS },
	{ "no-digests", OPT_FLAG, O_NO_DIGESTS },
	{ "log-level", OPT_VALUE, O_LOG_LEVEL },
	{ "config", OPT_VALUE, O_CONFIG },
	{ "help", OPT_FLAG, O_HELP },
};

int fw_config_parse_size(const char *text, uint64_t *out)
{
	const char *p = text;
	uint64_t v = 0, mult = 1;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	while (isdigit((unsigned char)*p)) {
		unsigned d = (unsigned)(*p++ - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	switch (toupper((unsigned char)*p)) {
	case 'K': mult = 1ull << 10; p++; break;
	case 'M': mult = 1ull << 20; p++; break;
	case 'G': mult = 1ull << 30; p++; break;
	case 'T': mult = 1ull << 40; p++; break;
	default: break;
	}
	if (mult > 1 && (p[0] == 'i' || p[0] == 'I') && (p[1] == 'B' || p[1] == 'b'))
		p += 2;
	else if (*p == 'B' || *p == 'b')
		p++;
	if (*p)
		return -EINVAL;
	if (v > UINT64_MAX / mult)
		return -EINVAL;
	*out = v * mult;
	return 0;
}

static int parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*text)
		return -EINVAL;
	for (const char *p = text; *p; p++) {
		if (!isdigit((unsigned char)*p) || v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static int parse_bool(const char *text, bool *out)
{
	static const char *const yes[] = { "", "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!strcasecmp(text, yes[i]))
			return *out = true, 0;
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (!strcasecmp(text, no[i]))
			return *out = false, 0;
	return -EINVAL;
}

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -EINVAL; } while (0)

static int copy_str(char *dst, size_t cap, const char *v, const char *where, char *err,
		    size_t errlen)
{
	if (!*v)
		FAIL("%s: empty value", where);
	if (strlen(v) >= cap)
		FAIL("%s: '%s' is longer than %zu characters", where, v, cap - 1);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

/* One key = value from a flag or a config file line; where names it in errors. */
static int apply(struct fw_config *cfg, struct fw_config_cli *cli, const struct opt *o,
		 const char *v, const char *where, char *err, size_t errlen)
{
	uint64_t n;
	bool b;
	int rc;

	switch (o->id) {
	case O_FLASH:
		return copy_str(cfg->flash_path, sizeof(cfg->flash_path), v, where, err, errlen);
	case O_FLASH_SIZE:
	case O_NS_SIZE:
		if (fw_config_parse_size(v, &n))
			FAIL("%s: '%s' is not a size (digits with an optional K/M/G/T suffix)", where, v);
		if (n % 4096)
			FAIL("%s: %s is not a multiple of 4 KiB", where, v);
		if (o->id == O_FLASH_SIZE)
			cfg->flash_bytes = n;
		else
			cfg->ns_bytes = n;
		return 0;
	case O_MDTS:
		if (fw_config_parse_size(v, &n))
			FAIL("%s: '%s' is not a size (digits with an optional K/M/G/T suffix)", where, v);
		if (n < 4096 || n > (64u << 20) || n % 4096)
			FAIL("%s: %s must be a multiple of 4 KiB between 4K and 64M", where, v);
		cfg->mdts_bytes = (uint32_t)n;
		return 0;
	case O_FORMAT:
	case O_NO_DEDUP:
	case O_NO_DIGESTS:
	case O_HELP:
		if (parse_bool(v, &b))
			FAIL("%s: '%s' is not a boolean (true/false, yes/no, on/off, 1/0)", where, v);
		if (o->id == O_FORMAT)
			cfg->format = b;
		else if (o->id == O_NO_DEDUP)
			cfg->dedup = !b;
		else if (o->id == O_NO_DIGESTS)
			cfg->digests = !b;
		else
			cli->help = b;
		return 0;
	case O_LISTEN:
		return copy_str(cfg->listen_addr, sizeof(cfg->listen_addr), v, where, err, errlen);
	case O_PORT:
		if (parse_uint(v, 0, 65535, &n))
			FAIL("%s: '%s' is not a port number (0-65535; 0: any free port)", where, v);
		cfg->port = (uint16_t)n;
		return 0;
	case O_DISC_PORT:
		if (!strcmp(v, "none")) {
			cfg->discovery_port = 0;
			cli->discovery_any = false;
			return 0;
		}
		if (parse_uint(v, 0, 65535, &n))
			FAIL("%s: '%s' is not a port number (0-65535, or 'none')", where, v);
		cfg->discovery_port = (uint16_t)n;
		cli->discovery_any = n == 0;
		return 0;
	case O_NQN:
		if (strncmp(v, "nqn.", 4))
			FAIL("%s: '%s' is not an NVMe Qualified Name (nqn.yyyy-mm.domain:...)", where, v);
		return copy_str(cfg->subnqn, sizeof(cfg->subnqn), v, where, err, errlen);
	case O_SERIAL:
		for (const char *p = v; *p; p++)
			if (*p < 0x20 || *p > 0x7e)
				FAIL("%s: the serial number must be printable ASCII", where);
		return copy_str(cfg->serial, sizeof(cfg->serial), v, where, err, errlen);
	case O_MAX_CONN:
		rc = parse_uint(v, 1, 1u << 20, &n);
		if (rc)
			FAIL("%s: '%s' is not a connection count (1-1048576)", where, v);
		cfg->max_connections = (uint32_t)n;
		return 0;
	case O_QUEUE_DEPTH:
		if (parse_uint(v, 2, 65536, &n))
			FAIL("%s: '%s' is not a queue depth (2-65536)", where, v);
		cfg->queue_depth = (uint32_t)n;
		return 0;
	case O_IO_QUEUES:
		if (parse_uint(v, 1, 65534, &n))
			FAIL("%s: '%s' is not a number of I/O queues (1-65534)", where, v);
		cfg->max_io_queues = (uint32_t)n;
		return 0;
	case O_LOG_LEVEL:
		if (!strcmp(v, "error") || !strcmp(v, "warn"))
			cfg->verbosity = 0;
		else if (!strcmp(v, "info"))
			cfg->verbosity = 1;
		else if (!strcmp(v, "debug"))
			cfg->verbosity = 2;
		else
			FAIL("%s: '%s' is not a log level (error, warn, info, debug)", where, v);
		return 0;
	case O_CONFIG:
		return 0; /* read before the flags */
	}
	FAIL("%s: unknown option", where);
}

static const struct opt *find_opt(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (strlen(opts[i].name) == len && !strncmp(opts[i].name, name, len))
			return &opts[i];
	return NULL;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static int load_file(struct fw_config *cfg, struct fw_config_cli *cli, const char *path,
		     char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char line[4400];
	unsigned lineno = 0;
	int rc = 0;

	if (!f)
		FAIL("--config: cannot open '%s': %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char where[4200], *key, *val, *eq;
		const struct opt *o;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line longer than %zu bytes", path, lineno,
				 sizeof(line) - 2);
			rc = -EINVAL;
			break;
		}
		key = trim(line);
		if (!*key || *key == '#')
			continue;
		eq = strchr(key, '=');
		val = eq ? trim(eq + 1) : key + strlen(key);
		if (eq)
			*eq = 0;
		key = trim(key);
		o = find_opt(key, strlen(key));
		snprintf(where, sizeof(where), "%s:%u: %s", path, lineno, key);
		if (!o || o->id == O_CONFIG || o->id == O_HELP) {
			snprintf(err, errlen, "%s:%u: unknown key '%s'", path, lineno, key);
			rc = -EINVAL;
			break;
		}
		if (o->kind == OPT_VALUE && !eq) {
			snprintf(err, errlen, "%s: needs '= value'", where);
			rc = -EINVAL;
			break;
		}
		rc = apply(cfg, cli, o, val, where, err, errlen);
		if (rc)
			break;
	}
	fclose(f);
	return rc;
}

int fw_config_parse_args(struct fw_config *cfg, struct fw_config_cli *cli, int argc,
			 char *const argv[], char *err, size_t errlen)
{
	const char *config_path = NULL;
	int rc;

	memset(cli, 0, sizeof(*cli));
	/* Pass 1: the config file first, so flags override it. */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config")) {
			if (i + 1 >= argc)
				FAIL("--config: needs a file name");
			config_path = argv[++i];
		} else if (!strncmp(argv[i], "--config=", 9)) {
			config_path = argv[i] + 9;
		}
	}
	if (config_path) {
		rc = load_file(cfg, cli, config_path, err, errlen);
		if (rc)
			return rc;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL, *eq;
		const struct opt *o;
		char where[80];

		if (!strcmp(a, "-v")) {
			cfg->verbosity = 2;
			continue;
		}
		if (!strcmp(a, "-q")) {
			cfg->verbosity = 0;
			continue;
		}
		if (!strcmp(a, "-h")) {
			cli->help = true;
			continue;
		}
		if (strncmp(a, "--", 2))
			FAIL("unexpected argument '%s' (options start with --)", a);
		a += 2;
		eq = strchr(a, '=');
		o = find_opt(a, eq ? (size_t)(eq - a) : strlen(a));
		if (!o)
			FAIL("unknown option '%s'", argv[i]);
		snprintf(where, sizeof(where), "--%s", o->name);
		if (o->kind == OPT_FLAG) {
			v = eq ? eq + 1 : "";
		} else if (eq) {
			v = eq + 1;
		} else {
			if (i + 1 >= argc)
				FAIL("%s: needs a value", where);
			v = argv[++i];
		}
		rc = apply(cfg, cli, o, v, where, err, errlen);
		if (rc)
			return rc;
	}
	if (!cli->help && !cfg->flash_path[0])
		FAIL("--flash: required (a file or block device; a missing file is created sparse)");
	if (cfg->discovery_port && cfg->discovery_port == cfg->port)
		FAIL("--discovery-port: %u is also the NVM port (use 'none' to serve discovery "
		     "only on --port)", cfg->port);
	return 0;
}
