/* Decoding of the vendor Telemetry log (C1h, layout in proto/nvme_cs.h): the header is
 * checked for the version and sizes we understand before any field is believed. */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "insitu/proto/nvme_cs.h"
#include "internal.h"

int insitu_telemetry_decode(const void *buf, size_t len, struct insitu_telemetry *t)
{
	struct insitu_vs_telemetry_hdr h;

	if (!buf || !t)
		return ins_fail(-EINVAL, "telemetry: NULL argument");
	if (len < sizeof(h))
		return ins_fail(-EBADMSG, "telemetry log C1h: %zu bytes, the header alone is %zu",
				len, sizeof(h));
	memcpy(&h, buf, sizeof(h));
	uint16_t ver = le16toh(h.ver), hsz = le16toh(h.hsz), psz = le16toh(h.psz);
	uint16_t nprog = le16toh(h.nprog);

	if (ver != 1)
		return ins_fail(-EBADMSG, "telemetry log C1h: version %u, this library reads 1", ver);
	if (hsz < sizeof(h))
		return ins_fail(-EBADMSG, "telemetry log C1h: header size %u below %zu", hsz,
				sizeof(h));
	if (psz < sizeof(struct insitu_vs_prog_history))
		return ins_fail(-EBADMSG, "telemetry log C1h: program entry size %u below %zu", psz,
				sizeof(struct insitu_vs_prog_history));
	if (le16toh(h.cpu_busy) > 10000)
		return ins_fail(-EBADMSG, "telemetry log C1h: CPU busy %u above 100.00 %%",
				le16toh(h.cpu_busy));

	memset(t, 0, sizeof(*t));
	t->ver = ver;
	t->nprog = nprog;
	t->timestamp_ms = le64toh(h.timestamp);
	t->uptime_ms = le64toh(h.uptime_ms);
	t->ncpu = le16toh(h.ncpu);
	t->cpu_busy = le16toh(h.cpu_busy);
	t->load1 = le32toh(h.load1);
	t->cpu_time_ms = le64toh(h.cpu_time_ms);
	t->mem_total = le64toh(h.mem_total);
	t->mem_avail = le64toh(h.mem_avail);
	t->mem_jobs = le64toh(h.mem_jobs);
	t->jobs_running = le32toh(h.jobs_running);
	t->jobs_queued = le32toh(h.jobs_queued);
	t->jobs_done = le64toh(h.jobs_done);
	t->jobs_failed = le64toh(h.jobs_failed);
	t->host_read_bytes = le64toh(h.host_read_bytes);
	t->host_write_bytes = le64toh(h.host_write_bytes);
	t->flash_read_bytes = le64toh(h.flash_read_bytes);
	t->flash_write_bytes = le64toh(h.flash_write_bytes);
	t->read_bps = le64toh(h.read_bps);
	t->write_bps = le64toh(h.write_bps);
	t->cap_bytes = le64toh(h.cap_bytes);
	t->phys_used = le64toh(h.phys_used);
	t->logical_used = le64toh(h.logical_used);
	t->unique_blocks = le64toh(h.unique_blocks);
	t->dedup_hits = le64toh(h.dedup_hits);
	t->zero_blocks = le64toh(h.zero_blocks);
	t->dedup_ratio = le32toh(h.dedup_ratio);
	return 0;
}

int insitu_telemetry_read(struct insitu_dev *d, struct insitu_telemetry *t)
{
	uint8_t buf[sizeof(struct insitu_vs_telemetry_hdr)];
	int rc = insitu_get_log(d, INSITU_LOG_VS_TELEMETRY, 0xffffffffu, 0, buf, sizeof(buf));

	if (rc)
		return rc;
	rc = insitu_telemetry_decode(buf, sizeof(buf), t);
	if (rc) {
		char why[512];

		snprintf(why, sizeof(why), "%s", insitu_errmsg());
		return ins_fail(rc, "%s: %s", insitu_dev_name(d), why);
	}
	return 0;
}
