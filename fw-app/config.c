/* insitu-fw's configuration: the defaults. Parsing of flags and the config file lives beside
 * the daemon's main (tcp/), which owns the command line. */
#include "config.h"

#include <stdio.h>
#include <string.h>

void fw_config_defaults(struct fw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->dedup = true;
	snprintf(cfg->subnqn, sizeof(cfg->subnqn), "nqn.2026-11.dev.insitu:csd");
	snprintf(cfg->serial, sizeof(cfg->serial), "INSITU0001");
	snprintf(cfg->model, sizeof(cfg->model), "insitu computational storage");
	snprintf(cfg->listen_addr, sizeof(cfg->listen_addr), "127.0.0.1");
	cfg->port = 4420;
	cfg->discovery_port = 8009;
	cfg->max_connections = 1024;
	cfg->max_io_queues = 8;
	cfg->queue_depth = 128;
	cfg->mdts_bytes = 1u << 20;
	cfg->max_icd_bytes = 16u << 10;
	cfg->maxh2cdata = 128u << 10;
	cfg->kato_max_ms = 0;
	cfg->max_controllers = 128;
	cfg->digests = true;
	cfg->verbosity = 1;
}
