/* insitu-fw: the device daemon. Reads the configuration (DESIGN.md §7), listens, opens the
 * flash through the command layer, prints the ready line on stdout, serves NVMe/TCP until
 * SIGTERM/SIGINT, then closes the volume cleanly. Logs go to stderr. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "config.h"
#include "listen.h"
#include "log.h"
#include "nvme/command.h"
#include "reactor.h"

static void usage(FILE *out)
{
	fputs(
"Usage: insitu-fw --flash PATH [options]\n"
"Serve the insitu computational storage device over NVMe/TCP.\n"
"\n"
"  --flash PATH            flash file or block device (a missing file is created sparse)\n"
"  --flash-size SIZE       physical size when creating/formatting (K/M/G/T suffixes)\n"
"  --ns-size SIZE          logical size of namespace 1 when formatting (default: flash size)\n"
"  --format                format even when the flash holds a volume\n"
"  --no-dedup              namespace 1 maps LBAs 1:1 onto the flash\n"
"  --listen ADDR           address to listen on (default 127.0.0.1)\n"
"  --port N                NVM subsystem port (default 4420; 0: any free port)\n"
"  --discovery-port N      discovery port (default 8009; 0: any free port; none: only --port)\n"
"  --nqn NQN               subsystem NQN (default nqn.2026-11.dev.insitu:csd)\n"
"  --serial SN             controller serial number (default INSITU0001)\n"
"  --max-connections N     connections at once (default 1024)\n"
"  --queue-depth N         entries per queue (default 128)\n"
"  --io-queues N           I/O queues per controller (default 8)\n"
"  --mdts SIZE             largest transfer of one command (default 1M)\n"
"  --no-digests            refuse header/data digests\n"
"  --config FILE           read 'key = value' lines (the long option names); flags override\n"
"  -v, -q                  more / less logging (--log-level error|warn|info|debug)\n"
"  --help                  this text\n"
"\n"
"When listening, one line goes to stdout:\n"
"  ready nvm=ADDR:PORT discovery=ADDR:PORT\n"
"SIGTERM/SIGINT: finish outstanding commands, close the volume cleanly, exit 0.\n",
	      out);
}

/* Up to the hard limit: every connection is a descriptor. */
static void raise_nofile(uint32_t max_connections)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)max_connections + 64)
		fw_warn("open-file limit %llu is below --max-connections %u: connections beyond "
			"it will be refused", (unsigned long long)rl.rlim_cur, max_connections);
}

int main(int argc, char **argv)
{
	struct fw_tcp_listener ls[2];
	struct fw_config_cli cli;
	struct fw_config cfg;
	struct fw_subsys *s = NULL;
	char err[512], nvm[96], disc[96];
	unsigned nls = 0;
	sigset_t sigs;
	int sigfd, rc;

	fw_config_defaults(&cfg);
	if (fw_config_parse_args(&cfg, &cli, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "insitu-fw: %s\nTry 'insitu-fw --help'.\n", err);
		return 2;
	}
	if (cli.help) {
		usage(stdout);
		return 0;
	}
	fw_log_set_level(cfg.verbosity <= 0 ? FW_LOG_WARN
			 : cfg.verbosity == 1 ? FW_LOG_INFO : FW_LOG_DEBUG);
	raise_nofile(cfg.max_connections);

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) ||
	    (sigfd = signalfd(-1, &sigs, SFD_CLOEXEC)) < 0) {
		fw_err("signalfd: %s", strerror(errno));
		return 1;
	}

	rc = fw_tcp_listen(cfg.listen_addr, cfg.port, false, &ls[nls], err, sizeof(err));
	if (rc) {
		fw_err("--port: %s", err);
		return 1;
	}
	cfg.port = ls[nls++].port;
	if (cfg.discovery_port || cli.discovery_any) {
		rc = fw_tcp_listen(cfg.listen_addr, cfg.discovery_port, true, &ls[nls], err,
				   sizeof(err));
		if (rc) {
			fw_err("--discovery-port: %s", err);
			close(ls[0].fd);
			return 1;
		}
		cfg.discovery_port = ls[nls++].port;
	}

	rc = fw_subsys_create(&cfg, &s, err, sizeof(err));
	if (rc) {
		fw_err("%s", err);
		for (unsigned i = 0; i < nls; i++)
			close(ls[i].fd);
		return 1;
	}

	fw_tcp_format_endpoint(ls[0].addr, ls[0].port, nvm, sizeof(nvm));
	fw_tcp_format_endpoint(ls[nls - 1].addr, ls[nls - 1].port, disc, sizeof(disc));
	fw_info("serving %s on %s (discovery on %s), flash %s", cfg.subnqn, nvm, disc,
		cfg.flash_path);
	printf("ready nvm=%s discovery=%s\n", nvm, disc);
	fflush(stdout);

	rc = fw_reactor_run(s, &cfg, ls, nls, sigfd, err, sizeof(err));
	if (rc)
		fw_err("%s", err);
	if (fw_subsys_destroy(s, err, sizeof(err))) {
		fw_err("closing the subsystem: %s", err);
		rc = -EIO;
	}
	close(sigfd);
	if (!rc)
		fw_info("stopped cleanly");
	return rc ? 1 : 0;
}
