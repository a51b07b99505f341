/* NSID 1's backing store: opens the flash as a dedup volume (formatting it only when asked or
 * when it provably holds nothing) or as a raw 1:1 mapping, and routes the namespace's block
 * requests to whichever it is. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dedup/volume.h"
#include "internal.h"
#include "log.h"

/* What the flash holds before we open it. */
enum flash_content { FLASH_MISSING, FLASH_EMPTY, FLASH_BLANK, FLASH_SOMETHING };

/* A file that is missing, empty, or whose first 8 KiB (where a dedup volume keeps its two
 * superblocks) were never written holds no volume and may be formatted. Anything else is
 * somebody's data: only --format may overwrite it. */
static int flash_probe(const char *path, enum flash_content *out, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		if (errno == ENOENT) {
			*out = FLASH_MISSING;
			return 0;
		}
		int e = errno;
		snprintf(err, errlen, "flash %s: %s", path, strerror(e));
		return -e;
	}
	if (S_ISREG(st.st_mode) && st.st_size == 0) {
		*out = FLASH_EMPTY;
		return 0;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "flash %s: cannot open: %s", path, strerror(e));
		return -e;
	}
	uint8_t head[2 * DEDUP_BLOCK_SIZE];
	ssize_t n = pread(fd, head, sizeof(head), 0);
	int e = errno;
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "flash %s: cannot read its first blocks: %s", path, strerror(e));
		return -e;
	}
	*out = FLASH_BLANK;
	for (ssize_t i = 0; i < n; i++) {
		if (head[i]) {
			*out = FLASH_SOMETHING;
			break;
		}
	}
	return 0;
}

static int flash_open_dedup(const struct fw_config *cfg, struct fw_flash *f, char *err,
			    size_t errlen)
{
	enum flash_content content = FLASH_SOMETHING;
	int rc = flash_probe(cfg->flash_path, &content, err, errlen);
	if (rc < 0)
		return rc;

	if (cfg->format || content != FLASH_SOMETHING) {
		if ((content == FLASH_MISSING || content == FLASH_EMPTY) && !cfg->flash_bytes) {
			snprintf(err, errlen, "flash %s is %s: give its size (--flash-size) to format it",
				 cfg->flash_path, content == FLASH_MISSING ? "missing" : "empty");
			return -EINVAL;
		}
		uint64_t logical = cfg->ns_bytes ? cfg->ns_bytes : cfg->flash_bytes;
		if (!logical) {
			struct stat st;
			if (stat(cfg->flash_path, &st) == 0 && S_ISREG(st.st_mode))
				logical = (uint64_t)st.st_size;
		}
		logical &= ~(uint64_t)(DEDUP_BLOCK_SIZE - 1);
		if (!logical) {
			snprintf(err, errlen, "flash %s: give the namespace size (--ns-size) to format "
				 "a block device", cfg->flash_path);
			return -EINVAL;
		}
		struct dedup_format_options fo = {
			.logical_bytes = logical,
			.physical_bytes = cfg->flash_bytes,
		};
		struct dedup_error de = {0};
		fw_info("formatting %s as a dedup volume: %llu logical bytes (%s)", cfg->flash_path,
			(unsigned long long)logical,
			cfg->format ? "--format" : content == FLASH_MISSING ? "new file" :
			content == FLASH_EMPTY ? "empty file" : "no volume on it");
		rc = dedup_volume_format(cfg->flash_path, &fo, &de);
		if (rc < 0) {
			snprintf(err, errlen, "cannot format %s: %s", cfg->flash_path, de.msg);
			return rc;
		}
	}

	uint32_t max_blocks = cfg->mdts_bytes / DEDUP_BLOCK_SIZE;
	if (max_blocks < 1)
		max_blocks = 1;
	struct dedup_open_options oo = {
		.queue_depth = cfg->queue_depth > 64 ? cfg->queue_depth : 64,
		.max_request_blocks = max_blocks,
	};
	struct dedup_error de = {0};
	rc = dedup_volume_open(cfg->flash_path, &oo, &f->vol, &de);
	if (rc < 0) {
		snprintf(err, errlen, "%s%s", de.msg,
			 content == FLASH_SOMETHING && !cfg->format ?
			 " (the flash holds data that is not a dedup volume insitu-fw can open; "
			 "it was left untouched: pass --format to erase it)" : "");
		return rc;
	}
	const char *report = dedup_volume_open_report(f->vol);
	if (report && *report)
		fw_info("%s: %s", cfg->flash_path, report);
	f->dedup = true;
	f->nblocks = dedup_volume_logical_blocks(f->vol);
	f->max_blocks = max_blocks;
	return 0;
}

int fw_flash_open(const struct fw_config *cfg, struct fw_flash *f, char *err, size_t errlen)
{
	memset(f, 0, sizeof(*f));
	if (!cfg->flash_path[0]) {
		snprintf(err, errlen, "no flash given (--flash PATH)");
		return -EINVAL;
	}
	if (cfg->dedup)
		return flash_open_dedup(cfg, f, err, errlen);
	uint32_t depth = cfg->queue_depth > 64 ? cfg->queue_depth : 64;
	int rc = fw_raw_open(cfg->flash_path, cfg->flash_bytes, cfg->ns_bytes, depth, &f->raw,
			     &f->nblocks, err, errlen);
	if (rc < 0)
		return rc;
	f->max_blocks = cfg->mdts_bytes / FW_LBA_SIZE ? cfg->mdts_bytes / FW_LBA_SIZE : 1;
	return 0;
}

int fw_flash_close(struct fw_flash *f, char *err, size_t errlen)
{
	int rc = 0;
	if (f->vol) {
		struct dedup_error de = {0};
		rc = dedup_volume_close(f->vol, &de);
		if (rc < 0)
			snprintf(err, errlen, "%s", de.msg);
		f->vol = NULL;
	}
	if (f->raw) {
		rc = fw_raw_close(f->raw, err, errlen);
		f->raw = NULL;
	}
	return rc;
}

int fw_flash_read(struct fw_flash *f, uint64_t lba, uint32_t n, void *buf, fw_flash_cb cb, void *arg)
{
	if (f->dedup)
		return dedup_volume_submit_read(f->vol, lba, n, buf, cb, arg);
	return fw_raw_submit(f->raw, FW_RAW_READ, lba, n, buf, false, cb, arg);
}

int fw_flash_write(struct fw_flash *f, uint64_t lba, uint32_t n, const void *buf, bool fua,
		   fw_flash_cb cb, void *arg)
{
	if (f->dedup)
		return dedup_volume_submit_write(f->vol, lba, n, buf, fua ? DEDUP_FUA : 0, cb, arg);
	return fw_raw_submit(f->raw, FW_RAW_WRITE, lba, n, (void *)(uintptr_t)buf, fua, cb, arg);
}

int fw_flash_write_zeroes(struct fw_flash *f, uint64_t lba, uint32_t n, bool fua, fw_flash_cb cb,
			  void *arg)
{
	if (f->dedup)
		return dedup_volume_submit_write_zeroes(f->vol, lba, n, fua ? DEDUP_FUA : 0, cb, arg);
	return fw_raw_submit(f->raw, FW_RAW_ZEROES, lba, n, NULL, fua, cb, arg);
}

int fw_flash_trim(struct fw_flash *f, uint64_t lba, uint32_t n, fw_flash_cb cb, void *arg)
{
	if (f->dedup)
		return dedup_volume_submit_trim(f->vol, lba, n, 0, cb, arg);
	return fw_raw_submit(f->raw, FW_RAW_TRIM, lba, n, NULL, false, cb, arg);
}

int fw_flash_flush(struct fw_flash *f, fw_flash_cb cb, void *arg)
{
	if (f->dedup)
		return dedup_volume_submit_flush(f->vol, cb, arg);
	return fw_raw_submit(f->raw, FW_RAW_FLUSH, 0, 0, NULL, false, cb, arg);
}

int fw_flash_event_fd(const struct fw_flash *f)
{
	return f->dedup ? dedup_volume_event_fd(f->vol) : fw_raw_event_fd(f->raw);
}

void fw_flash_poll(struct fw_flash *f)
{
	if (f->dedup)
		dedup_volume_poll(f->vol);
	else
		fw_raw_poll(f->raw);
}

unsigned fw_flash_inflight(const struct fw_flash *f)
{
	return f->dedup ? dedup_volume_inflight(f->vol) : fw_raw_inflight(f->raw);
}

const char *fw_flash_errmsg(const struct fw_flash *f)
{
	return f->dedup ? dedup_volume_errmsg(f->vol) : "raw flash I/O failed";
}
