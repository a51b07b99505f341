/* insitu list: the kernel's NVMe controllers (from sysfs) that are insitu devices, or all
 * of them with --all, plus every nvme+tcp:// URI given, identified over the network. */
#include <dirent.h>
#include <getopt.h>
#include <nvme/types.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define SYSFS_NVME "/sys/class/nvme"

struct row {
	char device[288], sn[24], mn[48], fr[16], transport[16], address[300], subnqn[224];
	bool insitu;
};

static void sysfs_attr(const char *dir, const char *name, char *out, size_t cap)
{
	char path[512];
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(out, (int)cap, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
	size_t n = strlen(out);

	while (n && out[n - 1] == ' ')
		out[--n] = '\0';
}

static bool is_insitu(const struct row *r)
{
	return strncmp(r->mn, "insitu", 6) == 0 ||
	       strncmp(r->subnqn, "nqn.2026-11.dev.insitu:", 23) == 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strverscmp(*(const char *const *)a, *(const char *const *)b);
}

/* Controllers under the sysfs class directory (INSITU_SYSFS_NVME overrides it, so the
 * listing can be tested on machines without NVMe). */
static int scan_sysfs(struct row **rows, size_t *n, bool all)
{
	const char *base = getenv("INSITU_SYSFS_NVME");
	DIR *dir = opendir(base ? base : SYSFS_NVME);
	char *names[256];
	size_t nn = 0;
	struct dirent *e;

	if (!dir)
		return 0;
	while ((e = readdir(dir)) && nn < 256)
		if (strncmp(e->d_name, "nvme", 4) == 0 && !strchr(e->d_name + 4, 'n') &&
		    !strchr(e->d_name + 4, 'c'))
			names[nn++] = strdup(e->d_name);
	closedir(dir);
	qsort(names, nn, sizeof(names[0]), cmp_name);
	for (size_t i = 0; i < nn; i++) {
		char d[512];
		struct row r;

		memset(&r, 0, sizeof(r));
		snprintf(d, sizeof(d), "%s/%s", base ? base : SYSFS_NVME, names[i]);
		snprintf(r.device, sizeof(r.device), "/dev/%s", names[i]);
		sysfs_attr(d, "serial", r.sn, sizeof(r.sn));
		sysfs_attr(d, "model", r.mn, sizeof(r.mn));
		sysfs_attr(d, "firmware_rev", r.fr, sizeof(r.fr));
		sysfs_attr(d, "transport", r.transport, sizeof(r.transport));
		sysfs_attr(d, "address", r.address, sizeof(r.address));
		sysfs_attr(d, "subsysnqn", r.subnqn, sizeof(r.subnqn));
		r.insitu = is_insitu(&r);
		free(names[i]);
		if (!all && !r.insitu)
			continue;
		struct row *nr = realloc(*rows, (*n + 1) * sizeof(**rows));

		if (!nr)
			continue;
		*rows = nr;
		(*rows)[(*n)++] = r;
	}
	return 0;
}

static int identify_uri(const struct cli_common *c, const char *uri, struct row *r)
{
	struct insitu_dev *d;
	struct nvme_id_ctrl *id;

	memset(r, 0, sizeof(*r));
	snprintf(r->device, sizeof(r->device), "%s", uri);
	int rc = cli_open(c, uri, &d);

	if (rc)
		return rc;
	id = aligned_alloc(4096, sizeof(*id));
	if (!id || insitu_identify_ctrl(d, id) < 0) {
		rc = id ? cli_fail_lib() : EXIT_FAILED;
		free(id);
		insitu_close(d);
		return rc;
	}
	struct insitu_uri u;

	insitu_uri_parse(uri, &u, NULL, 0);
	cli_idstr(r->sn, sizeof(r->sn), id->sn, sizeof(id->sn));
	cli_idstr(r->mn, sizeof(r->mn), id->mn, sizeof(id->mn));
	cli_idstr(r->fr, sizeof(r->fr), id->fr, sizeof(id->fr));
	cli_idstr(r->subnqn, sizeof(r->subnqn), id->subnqn, sizeof(id->subnqn));
	snprintf(r->transport, sizeof(r->transport), "tcp (user)");
	snprintf(r->address, sizeof(r->address), "traddr=%s,trsvcid=%u", u.host, u.port);
	r->insitu = is_insitu(r);
	free(id);
	insitu_close(d);
	return 0;
}

static const char list_help[] =
	"usage: insitu list [--all] [URI...] [options]\n"
	"Lists the kernel's NVMe controllers that are insitu devices (every NVMe controller\n"
	"with --all), then each nvme+tcp:// URI given, identified through the userspace\n"
	"initiator.\n\n"
	"  -a, --all                every NVMe controller, not only insitu devices\n" CLI_COMMON_HELP;

int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct cli_common c;
	bool all = false;
	int opt, rc = EXIT_OK;

	memset(&c, 0, sizeof(c));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "ao:h", opts, NULL)) != -1) {
		int t = cli_common_opt(&c, opt, optarg);

		if (t == 1)
			continue;
		if (t < 0)
			return cli_usage_error("list", "output format '%s' is neither normal nor json",
					       optarg);
		if (opt == 'h') {
			printf("%s", list_help);
			return EXIT_OK;
		}
		if (opt == 'a') {
			all = true;
			continue;
		}
		return cli_usage_error("list", "unknown option");
	}
	struct row *rows = NULL;
	size_t n = 0;

	scan_sysfs(&rows, &n, all);
	for (int i = optind; i < argc; i++) {
		struct row r;
		int e = identify_uri(&c, argv[i], &r);

		if (e) {
			rc = e;
			continue;
		}
		struct row *nr = realloc(rows, (n + 1) * sizeof(*rows));

		if (!nr)
			break;
		rows = nr;
		rows[n++] = r;
	}
	if (c.json) {
		struct json_object *o = json_object_new_object(), *a = json_object_new_array();

		for (size_t i = 0; i < n; i++) {
			struct json_object *d = json_object_new_object();

			json_object_object_add(d, "device", json_object_new_string(rows[i].device));
			json_object_object_add(d, "serial", json_object_new_string(rows[i].sn));
			json_object_object_add(d, "model", json_object_new_string(rows[i].mn));
			json_object_object_add(d, "firmware", json_object_new_string(rows[i].fr));
			json_object_object_add(d, "transport", json_object_new_string(rows[i].transport));
			json_object_object_add(d, "address", json_object_new_string(rows[i].address));
			json_object_object_add(d, "subnqn", json_object_new_string(rows[i].subnqn));
			json_object_object_add(d, "insitu", json_object_new_boolean(rows[i].insitu));
			json_object_array_add(a, d);
		}
		json_object_object_add(o, "devices", a);
		cli_json_print(o);
	} else if (n == 0) {
		printf("no insitu device found%s\n", all ? "" : " (--all lists every NVMe controller)");
	} else {
		printf("%-44s %-12s %-30s %-8s %-10s %s\n", "Device", "SN", "Model", "FW", "Transport",
		       "Address");
		for (size_t i = 0; i < n; i++)
			printf("%-44s %-12s %-30s %-8s %-10s %s\n", rows[i].device, rows[i].sn,
			       rows[i].mn, rows[i].fr, rows[i].transport, rows[i].address);
	}
	free(rows);
	return rc;
}
