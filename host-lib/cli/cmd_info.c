/* Subcommands that read and print device information: id-ctrl, id-ns, smart-log, stats. */
#include <getopt.h>
#include <nvme/types.h>
#include <stdlib.h>
#include <string.h>
#include <endian.h>

#include "cli.h"

/* Parses "CMD DEV [-n NSID] [common]" for the information subcommands. */
static int parse_info(int argc, char **argv, const char *help, bool with_nsid,
		      struct cli_common *c, const char **dev, uint32_t *nsid)
{
	static const struct option opts[] = {
		{ "namespace-id", required_argument, NULL, 'n' },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = argv[0];
	int opt;

	memset(c, 0, sizeof(*c));
	optind = 1;
	while ((opt = getopt_long(argc, argv, with_nsid ? "n:o:h" : "o:h", opts, NULL)) != -1) {
		int t = cli_common_opt(c, opt, optarg);

		if (t == 1)
			continue;
		if (t < 0)
			return cli_usage_error(cmd, "output format '%s' is neither normal nor json",
					       optarg);
		if (opt == 'h') {
			printf("%s", help);
			return -1;
		}
		if (opt == 'n' && with_nsid) {
			uint64_t v;

			if (cli_parse_u64(cmd, "namespace id", optarg, &v))
				return EXIT_USAGE;
			if (v == 0 || v > 0xfffffffe)
				return cli_usage_error(cmd, "namespace id %s is out of range", optarg);
			*nsid = (uint32_t)v;
			continue;
		}
		return cli_usage_error(cmd, "unknown option");
	}
	if (optind != argc - 1)
		return cli_usage_error(cmd, "expects exactly one DEVICE");
	*dev = argv[optind];
	return 0;
}

/* ---- id-ctrl ------------------------------------------------------------------------- */

static const char id_ctrl_help[] =
	"usage: insitu id-ctrl DEVICE [options]\n"
	"Sends Identify Controller and prints its main fields.\n\n" CLI_COMMON_HELP;

int cmd_id_ctrl(int argc, char **argv)
{
	struct cli_common c;
	const char *dev;
	uint32_t nsid = 1;
	struct insitu_dev *d;

	PARSE_OR_RETURN(parse_info(argc, argv, id_ctrl_help, false, &c, &dev, &nsid));
	int rc = cli_open(&c, dev, &d);

	if (rc)
		return rc;
	struct nvme_id_ctrl *id = aligned_alloc(4096, sizeof(*id));

	if (!id || insitu_identify_ctrl(d, id) < 0) {
		rc = id ? cli_fail_lib() : EXIT_FAILED;
		free(id);
		insitu_close(d);
		return rc;
	}
	char sn[21], mn[41], fr[9], subnqn[257];

	cli_idstr(sn, sizeof(sn), id->sn, sizeof(id->sn));
	cli_idstr(mn, sizeof(mn), id->mn, sizeof(id->mn));
	cli_idstr(fr, sizeof(fr), id->fr, sizeof(id->fr));
	cli_idstr(subnqn, sizeof(subnqn), id->subnqn, sizeof(id->subnqn));
	uint32_t ver = le32toh(id->ver);
	const struct {
		const char *key;
		uint64_t val;
		bool hex;
	} nums[] = {
		{ "vid", le16toh(id->vid), true },
		{ "ssvid", le16toh(id->ssvid), true },
		{ "cntlid", le16toh(id->cntlid), true },
		{ "ver", ver, true },
		{ "mdts", id->mdts, false },
		{ "oacs", le16toh(id->oacs), true },
		{ "lpa", id->lpa, true },
		{ "elpe", id->elpe, false },
		{ "kas", le16toh(id->kas), false },
		{ "sqes", id->sqes, true },
		{ "cqes", id->cqes, true },
		{ "maxcmd", le16toh(id->maxcmd), false },
		{ "nn", le32toh(id->nn), false },
		{ "oncs", le16toh(id->oncs), true },
		{ "vwc", id->vwc, true },
		{ "sgls", le32toh(id->sgls), true },
		{ "ioccsz", le32toh(id->ioccsz), false },
		{ "iorcsz", le32toh(id->iorcsz), false },
		{ "msdbd", id->msdbd, false },
	};

	if (c.json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "sn", json_object_new_string(sn));
		json_object_object_add(o, "mn", json_object_new_string(mn));
		json_object_object_add(o, "fr", json_object_new_string(fr));
		for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
			json_object_object_add(o, nums[i].key, json_object_new_uint64(nums[i].val));
		json_object_object_add(o, "subnqn", json_object_new_string(subnqn));
		cli_json_print(o);
	} else {
		printf("NVME Identify Controller:\n");
		printf("%-9s : %s\n%-9s : %s\n%-9s : %s\n", "sn", sn, "mn", mn, "fr", fr);
		for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
			printf(nums[i].hex ? "%-9s : %#llx\n" : "%-9s : %llu\n", nums[i].key,
			       (unsigned long long)nums[i].val);
		printf("%-9s : %s\n", "subnqn", subnqn);
	}
	free(id);
	insitu_close(d);
	return EXIT_OK;
}

/* ---- id-ns --------------------------------------------------------------------------- */

static const char id_ns_help[] =
	"usage: insitu id-ns DEVICE [-n NSID] [options]\n"
	"Sends Identify Namespace (NSID 1 unless -n) and prints its size and block formats.\n\n"
	"  -n, --namespace-id NSID  namespace to identify (default 1)\n" CLI_COMMON_HELP;

int cmd_id_ns(int argc, char **argv)
{
	struct cli_common c;
	const char *dev;
	uint32_t nsid = 1;
	struct insitu_dev *d;

	PARSE_OR_RETURN(parse_info(argc, argv, id_ns_help, true, &c, &dev, &nsid));
	int rc = cli_open(&c, dev, &d);

	if (rc)
		return rc;
	struct nvme_id_ns *ns = aligned_alloc(4096, sizeof(*ns));

	if (!ns || insitu_identify_ns(d, nsid, ns) < 0) {
		rc = ns ? cli_fail_lib() : EXIT_FAILED;
		free(ns);
		insitu_close(d);
		return rc;
	}
	unsigned nlbaf = ns->nlbaf < 63 ? ns->nlbaf : 63;
	unsigned inuse = ns->flbas & 0xf;

	if (c.json) {
		struct json_object *o = json_object_new_object(), *a = json_object_new_array();

		json_object_object_add(o, "nsid", json_object_new_uint64(nsid));
		json_object_object_add(o, "nsze", json_object_new_uint64(le64toh(ns->nsze)));
		json_object_object_add(o, "ncap", json_object_new_uint64(le64toh(ns->ncap)));
		json_object_object_add(o, "nuse", json_object_new_uint64(le64toh(ns->nuse)));
		json_object_object_add(o, "nsfeat", json_object_new_uint64(ns->nsfeat));
		json_object_object_add(o, "nlbaf", json_object_new_uint64(ns->nlbaf));
		json_object_object_add(o, "flbas", json_object_new_uint64(ns->flbas));
		for (unsigned i = 0; i <= nlbaf && i < 16; i++) {
			struct json_object *f = json_object_new_object();

			json_object_object_add(f, "ms", json_object_new_uint64(le16toh(ns->lbaf[i].ms)));
			json_object_object_add(f, "ds", json_object_new_uint64(ns->lbaf[i].ds));
			json_object_object_add(f, "rp", json_object_new_uint64(ns->lbaf[i].rp));
			json_object_array_add(a, f);
		}
		json_object_object_add(o, "lbafs", a);
		cli_json_print(o);
	} else {
		printf("NVME Identify Namespace %u:\n", nsid);
		printf("%-9s : %llu\n", "nsze", (unsigned long long)le64toh(ns->nsze));
		printf("%-9s : %llu\n", "ncap", (unsigned long long)le64toh(ns->ncap));
		printf("%-9s : %llu\n", "nuse", (unsigned long long)le64toh(ns->nuse));
		printf("%-9s : %#x\n", "nsfeat", ns->nsfeat);
		printf("%-9s : %u\n", "nlbaf", ns->nlbaf);
		printf("%-9s : %#x\n", "flbas", ns->flbas);
		for (unsigned i = 0; i <= nlbaf && i < 16; i++)
			printf("lbaf %2u : ms:%-3u lbads:%-2u rp:%#x%s\n", i, le16toh(ns->lbaf[i].ms),
			       ns->lbaf[i].ds, ns->lbaf[i].rp, i == inuse ? " (in use)" : "");
	}
	free(ns);
	insitu_close(d);
	return EXIT_OK;
}

/* ---- smart-log ----------------------------------------------------------------------- */

static const char smart_help[] =
	"usage: insitu smart-log DEVICE [options]\n"
	"Reads the SMART / Health Information log (02h) of the controller.\n\n" CLI_COMMON_HELP;

/* The 128-bit little-endian counters of the SMART log, as decimal text. */
static void u128_text(const uint8_t v[16], char out[48])
{
	unsigned __int128 x = 0;
	char tmp[48];
	int n = 0;

	for (int i = 15; i >= 0; i--)
		x = x << 8 | v[i];
	do {
		tmp[n++] = (char)('0' + (int)(x % 10));
		x /= 10;
	} while (x);
	for (int i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
}

int cmd_smart_log(int argc, char **argv)
{
	struct cli_common c;
	const char *dev;
	uint32_t nsid = 0xffffffffu;
	struct insitu_dev *d;
	struct nvme_smart_log log;

	PARSE_OR_RETURN(parse_info(argc, argv, smart_help, false, &c, &dev, &nsid));
	int rc = cli_open(&c, dev, &d);

	if (rc)
		return rc;
	if (insitu_get_log(d, NVME_LOG_LID_SMART, 0xffffffffu, 0, &log, sizeof(log)) < 0) {
		rc = cli_fail_lib();
		insitu_close(d);
		return rc;
	}
	uint16_t kelvin = (uint16_t)(log.temperature[0] | log.temperature[1] << 8);
	const struct {
		const char *key;
		const uint8_t *v128;
	} big[] = {
		{ "data_units_read", log.data_units_read },
		{ "data_units_written", log.data_units_written },
		{ "host_read_commands", log.host_reads },
		{ "host_write_commands", log.host_writes },
		{ "controller_busy_time", log.ctrl_busy_time },
		{ "power_cycles", log.power_cycles },
		{ "power_on_hours", log.power_on_hours },
		{ "unsafe_shutdowns", log.unsafe_shutdowns },
		{ "media_errors", log.media_errors },
		{ "num_err_log_entries", log.num_err_log_entries },
	};
	char num[48];

	if (c.json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "critical_warning", json_object_new_uint64(log.critical_warning));
		json_object_object_add(o, "temperature", json_object_new_uint64(kelvin));
		json_object_object_add(o, "avail_spare", json_object_new_uint64(log.avail_spare));
		json_object_object_add(o, "spare_thresh", json_object_new_uint64(log.spare_thresh));
		json_object_object_add(o, "percent_used", json_object_new_uint64(log.percent_used));
		for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
			u128_text(big[i].v128, num);
			json_object_object_add(o, big[i].key,
					       json_object_new_uint64(strtoull(num, NULL, 10)));
		}
		cli_json_print(o);
	} else {
		printf("Smart Log for NVME device:%s namespace-id:ffffffff\n", dev);
		printf("%-24s : %#x\n", "critical_warning", log.critical_warning);
		printf("%-24s : %d C (%u Kelvin)\n", "temperature", kelvin ? (int)kelvin - 273 : 0,
		       kelvin);
		printf("%-24s : %u%%\n", "available_spare", log.avail_spare);
		printf("%-24s: %u%%\n", "available_spare_threshold", log.spare_thresh);
		printf("%-24s : %u%%\n", "percentage_used", log.percent_used);
		for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
			u128_text(big[i].v128, num);
			printf("%-24s : %s\n", big[i].key, num);
		}
	}
	insitu_close(d);
	return EXIT_OK;
}

/* ---- stats --------------------------------------------------------------------------- */

static const char stats_help[] =
	"usage: insitu stats DEVICE [options]\n"
	"Reads the insitu telemetry log (C1h): dedup, capacity, host and flash I/O, jobs.\n\n"
	CLI_COMMON_HELP;

int cmd_stats(int argc, char **argv)
{
	struct cli_common c;
	const char *dev;
	uint32_t nsid = 0;
	struct insitu_dev *d;
	struct insitu_telemetry t;

	PARSE_OR_RETURN(parse_info(argc, argv, stats_help, false, &c, &dev, &nsid));
	int rc = cli_open(&c, dev, &d);

	if (rc)
		return rc;
	if (insitu_telemetry_read(d, &t) < 0) {
		rc = cli_fail_lib();
		insitu_close(d);
		return rc;
	}
	const struct {
		const char *key;
		uint64_t val;
	} f[] = {
		{ "uptime_ms", t.uptime_ms },
		{ "ncpu", t.ncpu },
		{ "cpu_busy_centipct", t.cpu_busy },
		{ "load1_x100", t.load1 },
		{ "mem_total", t.mem_total },
		{ "mem_avail", t.mem_avail },
		{ "jobs_running", t.jobs_running },
		{ "jobs_queued", t.jobs_queued },
		{ "jobs_done", t.jobs_done },
		{ "jobs_failed", t.jobs_failed },
		{ "host_read_bytes", t.host_read_bytes },
		{ "host_write_bytes", t.host_write_bytes },
		{ "flash_read_bytes", t.flash_read_bytes },
		{ "flash_write_bytes", t.flash_write_bytes },
		{ "read_bps", t.read_bps },
		{ "write_bps", t.write_bps },
		{ "cap_bytes", t.cap_bytes },
		{ "phys_used", t.phys_used },
		{ "logical_used", t.logical_used },
		{ "unique_blocks", t.unique_blocks },
		{ "dedup_hits", t.dedup_hits },
		{ "zero_blocks", t.zero_blocks },
		{ "dedup_ratio_x1000", t.dedup_ratio },
	};

	if (c.json) {
		struct json_object *o = json_object_new_object();

		for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
			json_object_object_add(o, f[i].key, json_object_new_uint64(f[i].val));
		cli_json_print(o);
	} else {
		printf("insitu telemetry of %s:\n", dev);
		printf("%-18s : %llu.%03llu s\n", "uptime", (unsigned long long)(t.uptime_ms / 1000),
		       (unsigned long long)(t.uptime_ms % 1000));
		printf("%-18s : %u (busy %u.%02u %%, load %u.%02u)\n", "cpus", t.ncpu,
		       t.cpu_busy / 100, t.cpu_busy % 100, t.load1 / 100, t.load1 % 100);
		printf("%-18s : %llu bytes total, %llu available\n", "memory",
		       (unsigned long long)t.mem_total, (unsigned long long)t.mem_avail);
		printf("%-18s : %u running, %u queued, %llu done, %llu failed\n", "jobs",
		       t.jobs_running, t.jobs_queued, (unsigned long long)t.jobs_done,
		       (unsigned long long)t.jobs_failed);
		printf("%-18s : %llu bytes read, %llu bytes written\n", "host I/O",
		       (unsigned long long)t.host_read_bytes, (unsigned long long)t.host_write_bytes);
		printf("%-18s : %llu bytes read, %llu bytes written\n", "flash I/O",
		       (unsigned long long)t.flash_read_bytes,
		       (unsigned long long)t.flash_write_bytes);
		printf("%-18s : %llu bytes\n", "capacity", (unsigned long long)t.cap_bytes);
		printf("%-18s : %llu bytes\n", "logical used", (unsigned long long)t.logical_used);
		printf("%-18s : %llu bytes\n", "physical used", (unsigned long long)t.phys_used);
		printf("%-18s : %llu\n", "unique blocks", (unsigned long long)t.unique_blocks);
		printf("%-18s : %llu\n", "dedup hits", (unsigned long long)t.dedup_hits);
		printf("%-18s : %llu\n", "zero blocks", (unsigned long long)t.zero_blocks);
		printf("%-18s : %u.%03u\n", "dedup ratio", t.dedup_ratio / 1000, t.dedup_ratio % 1000);
	}
	insitu_close(d);
	return EXIT_OK;
}
