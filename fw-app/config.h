/* insitu-fw's configuration: every knob the daemon has, filled from defaults, an optional
 * config file and the command line (config.c), read by the transport and the command layer. */
#ifndef INSITU_FW_CONFIG_H
#define INSITU_FW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fw_config {
	/* flash and namespace 1 */
	char     flash_path[4096];   /* file or block device; a missing file is created sparse */
	uint64_t flash_bytes;        /* physical size; 0: the existing file or device's size */
	uint64_t ns_bytes;           /* logical size of NSID 1 when formatting; 0: = flash_bytes
	                                (dedup) / the flash size (raw) */
	bool     format;             /* format even when the flash holds a volume */
	bool     dedup;              /* true: NSID 1 is a dedup volume; false: raw 1:1 mapping */

	/* identity */
	char     subnqn[224];        /* NVMe Qualified Name of the NVM subsystem */
	char     serial[21];         /* Identify Controller SN (ASCII, space padded on the wire) */
	char     model[41];          /* Identify Controller MN */

	/* network */
	char     listen_addr[64];    /* IPv4/IPv6 literal or host name; default 127.0.0.1 */
	uint16_t port;               /* NVM subsystem port; default 4420 */
	uint16_t discovery_port;     /* discovery controller port; default 8009; 0 = none
	                                (discovery is always also served on port) */

	/* limits */
	uint32_t max_connections;    /* connections at once; default 1024 */
	uint32_t max_io_queues;      /* I/O queues per controller; default 8 */
	uint32_t queue_depth;        /* MQES + 1: entries per queue; default 128 */
	uint32_t mdts_bytes;         /* largest data transfer of one command; default 1 MiB */
	uint32_t max_icd_bytes;      /* in-capsule data on I/O queues; default 16 KiB */
	uint32_t maxh2cdata;         /* largest H2CData PDU; default 128 KiB */
	uint32_t kato_max_ms;        /* upper bound on a host's Keep Alive Timeout; 0 = none */
	uint32_t max_controllers;    /* controllers at once; default 128 */
	bool     digests;            /* grant header/data digests when a host asks; default on */

	int      verbosity;          /* 0 errors+warnings, 1 info (default), 2 debug */
};

/* Defaults for everything (the values in the comments above). */
void fw_config_defaults(struct fw_config *cfg);

/* What the command line says beyond struct fw_config. */
struct fw_config_cli {
	bool help;             /* --help: print usage, do nothing else */
	bool discovery_any;    /* --discovery-port 0: any free port (discovery_port 0 = none) */
};

/* "4096", "64K", "1M", "2G", "1T" (binary multiples; an optional trailing "B" or "iB").
 * Returns 0 or -EINVAL (not a size, or above UINT64_MAX). */
int fw_config_parse_size(const char *text, uint64_t *out);

/* Applies the config file named by --config (if any), then every flag (DESIGN.md §7), to
 * cfg, which holds the defaults. On error returns -EINVAL with err naming the flag or the
 * file and line, and the value it refused. */
int fw_config_parse_args(struct fw_config *cfg, struct fw_config_cli *cli, int argc,
			 char *const argv[], char *err, size_t errlen);

#endif
