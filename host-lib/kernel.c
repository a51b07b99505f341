/* The kernel backend: /dev/nvmeX (admin) and /dev/nvmeXnY (I/O) through the Linux NVMe
 * driver, with the same SQEs the NVMe/TCP initiator sends, handed to libnvme's passthrough
 * calls (DESIGN.md §3). The kernel owns queues, keep-alive and shutdown. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <nvme/ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

struct kdev {
	int      cfd;           /* controller character device */
	int      nfd;           /* namespace block device, -1 when none */
	char     ctrl[32];      /* "nvme0" */
	char     ns[64];        /* "nvme0n1" or "" */
	uint32_t max_xfer;
};

/* "/dev/nvme0" -> ctrl "nvme0", ns ""; "/dev/nvme0n2" -> "nvme0", "nvme0n2" */
static int split_name(const char *path, char *ctrl, char *ns)
{
	const char *base = strrchr(path, '/');
	unsigned c, n;
	int used = 0;

	base = base ? base + 1 : path;
	if (sscanf(base, "nvme%u%n", &c, &used) != 1 || used <= 4)
		return -EINVAL;
	snprintf(ctrl, 32, "nvme%u", c);
	ns[0] = '\0';
	if (base[used] == '\0')
		return 0;
	int used2 = 0;

	if (sscanf(base + used, "n%u%n", &n, &used2) != 1 || base[used + used2] != '\0')
		return -EINVAL;
	snprintf(ns, 64, "nvme%un%u", c, n);
	return 0;
}

int kdev_open(const char *path, struct kdev **out)
{
	struct kdev *k = calloc(1, sizeof(*k));
	char p[PATH_MAX];

	if (!k)
		return ins_fail(-ENOMEM, "%s: out of memory", path);
	if (split_name(path, k->ctrl, k->ns)) {
		free(k);
		return ins_fail(-EINVAL, "'%s' is neither /dev/nvmeX nor /dev/nvmeXnY nor an "
				"nvme+tcp:// URI", path);
	}
	snprintf(p, sizeof(p), "/dev/%s", k->ctrl);
	k->cfd = open(p, O_RDWR | O_CLOEXEC);
	if (k->cfd < 0) {
		int e = errno;

		free(k);
		if (e == ENOENT)
			return ins_fail(-e, "%s: no such device: is the nvme driver loaded (see "
					"'insitu list')?", p);
		if (e == EACCES || e == EPERM)
			return ins_fail(-e, "%s: permission denied: NVMe passthrough needs root", p);
		return ins_fail(-e, "%s: %s", p, strerror(e));
	}
	if (!k->ns[0]) {
		snprintf(k->ns, sizeof(k->ns), "%sn1", k->ctrl);
		snprintf(p, sizeof(p), "/dev/%s", k->ns);
		if (access(p, F_OK) != 0)
			k->ns[0] = '\0';
	}
	k->nfd = -1;
	if (k->ns[0]) {
		snprintf(p, sizeof(p), "/dev/%s", k->ns);
		k->nfd = open(p, O_RDWR | O_CLOEXEC);
		if (k->nfd < 0) {
			int e = errno;

			close(k->cfd);
			free(k);
			return ins_fail(-e, "%s: %s", p, strerror(e));
		}
	}
	/* the block layer's limit for one request is what passthrough accepts */
	k->max_xfer = 128u * 1024;
	if (k->ns[0]) {
		char v[32];
		FILE *f;

		snprintf(p, sizeof(p), "/sys/block/%s/queue/max_hw_sectors_kb", k->ns);
		f = fopen(p, "re");
		if (f) {
			unsigned long kb;

			if (fgets(v, sizeof(v), f) && sscanf(v, "%lu", &kb) == 1 && kb >= 4 &&
			    kb <= 16384)
				k->max_xfer = (uint32_t)kb * 1024;
			fclose(f);
		}
	}
	*out = k;
	return 0;
}

void kdev_close(struct kdev *k)
{
	if (!k)
		return;
	if (k->nfd >= 0)
		close(k->nfd);
	close(k->cfd);
	free(k);
}

int kdev_exec(struct kdev *k, struct ins_req *r, bool admin)
{
	struct nvme_passthru_cmd cmd = {
		.opcode = r->sqe.opc,
		.nsid = le32toh(r->sqe.nsid),
		.cdw2 = le32toh(r->sqe.cdw2),
		.cdw3 = le32toh(r->sqe.cdw3),
		.addr = (uint64_t)(uintptr_t)r->buf,
		.data_len = r->len,
		.cdw10 = le32toh(r->sqe.cdw10),
		.cdw11 = le32toh(r->sqe.cdw11),
		.cdw12 = le32toh(r->sqe.cdw12),
		.cdw13 = le32toh(r->sqe.cdw13),
		.cdw14 = le32toh(r->sqe.cdw14),
		.cdw15 = le32toh(r->sqe.cdw15),
	};
	__u32 result = 0;
	int fd = admin ? k->cfd : k->nfd;

	if (fd < 0)
		return r->result = ins_fail(-ENODEV, "/dev/%s has no namespace for I/O", k->ctrl);
	int rc = admin ? nvme_submit_admin_passthru(fd, &cmd, &result)
		       : nvme_submit_io_passthru(fd, &cmd, &result);

	r->done = true;
	r->dw0 = result;
	if (rc < 0) {
		r->result = -errno;
		return ins_fail(r->result, "/dev/%s: passthrough: %s", admin ? k->ctrl : k->ns,
				strerror(errno));
	}
	r->status = (uint16_t)(rc & 0x7fff);
	r->result = rc ? -EREMOTEIO : 0;
	return r->result;
}

uint32_t kdev_max_transfer(const struct kdev *k)
{
	return k->max_xfer;
}
