/* Shared pieces of the insitu command-line tool: exit codes, common options, output in
 * human or JSON form, and the progress bar. One file per group of subcommands. */
#ifndef INSITU_CLI_H
#define INSITU_CLI_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "insitu/insitu.h"

/* Exit codes (README.md): */
enum {
	EXIT_OK      = 0,
	EXIT_FAILED  = 1,	/* the device refused the command or the transfer failed */
	EXIT_USAGE   = 2,	/* bad command line */
	EXIT_NODEV   = 3,	/* the device could not be opened or reached */
};

struct cli_common {
	bool json;
	const char *hostnqn;
	bool hdgst, ddgst;
};

/* Long options every subcommand accepts (merged into each one's table). */
#define CLI_COMMON_LONGOPTS \
	{ "output-format", required_argument, NULL, 'o' }, \
	{ "hostnqn", required_argument, NULL, 1001 }, \
	{ "hdgst", no_argument, NULL, 1002 }, \
	{ "ddgst", no_argument, NULL, 1003 }, \
	{ "help", no_argument, NULL, 'h' }
#define CLI_COMMON_HELP \
	"  -o, --output-format FMT  normal (default) or json\n" \
	"      --hostnqn NQN        host NQN for nvme+tcp:// devices\n" \
	"      --hdgst, --ddgst     ask for NVMe/TCP header / data digests\n" \
	"  -h, --help               this text\n"

/* Returns from a subcommand when its option parser says so: a negative result means --help
 * was printed (success), a positive one is the exit code of a usage error. */
#define PARSE_OR_RETURN(call)                          \
	do {                                           \
		int _r = (call);                       \
		if (_r)                                \
			return _r < 0 ? EXIT_OK : _r;  \
	} while (0)

/* Handles a common option; returns 1 if taken, 0 if not common, -1 on a bad value. */
int cli_common_opt(struct cli_common *c, int opt, const char *arg);
/* Opens @dev with the common options; on failure prints the library's message. */
int cli_open(const struct cli_common *c, const char *dev, struct insitu_dev **out);
/* Prints "insitu: <insitu_errmsg()>" and returns EXIT_FAILED. */
int cli_fail_lib(void);
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_parse_u64(const char *cmd, const char *what, const char *s, uint64_t *out);
int cli_parse_size(const char *cmd, const char *what, const char *s, uint64_t *out);

void cli_json_print(struct json_object *o);
/* Trims trailing spaces of a fixed-width identify string into @out. */
void cli_idstr(char *out, size_t cap, const char *field, size_t len);

struct cli_progress {
	bool     on;
	uint64_t total, done;
	const char *label;
};
void cli_progress_start(struct cli_progress *p, const struct cli_common *c, const char *label,
			uint64_t total);
void cli_progress_update(struct cli_progress *p, uint64_t done);
void cli_progress_end(struct cli_progress *p);

int cmd_list(int argc, char **argv);
int cmd_id_ctrl(int argc, char **argv);
int cmd_id_ns(int argc, char **argv);
int cmd_smart_log(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_read(int argc, char **argv);
int cmd_write(int argc, char **argv);
int cmd_put(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_trim(int argc, char **argv);

#endif
