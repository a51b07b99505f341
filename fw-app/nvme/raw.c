/* NSID 1 without deduplication: LBA n is byte n * 4096 of the flash file or block device,
 * driven through a small io_uring of its own (O_DIRECT where the filesystem allows it) whose
 * eventfd the reactor watches exactly like the dedup volume's. The benchmark's baseline. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "log.h"

struct raw_slot {
	fw_flash_cb cb;
	void *arg;
	uint8_t op;
	bool sync_after;     /* FUA Write Zeroes: fdatasync once the range is zeroed */
	bool busy;
	uint32_t expect;     /* bytes a read/write must move */
};

struct fw_raw {
	int fd;
	int efd;
	char *path;
	struct io_uring ring;
	uint32_t depth;
	unsigned inflight;
	struct raw_slot *slots;
	uint32_t free_hint;
	uint64_t bytes_read, bytes_written; /* completed transfers since open */
};

static int raw_size(int fd, const struct stat *st, uint64_t *bytes)
{
	if (S_ISBLK(st->st_mode))
		return ioctl(fd, BLKGETSIZE64, bytes) < 0 ? -errno : 0;
	*bytes = (uint64_t)st->st_size;
	return 0;
}

int fw_raw_open(const char *path, uint64_t create_bytes, uint64_t ns_bytes, uint32_t depth,
		struct fw_raw **out, uint64_t *nblocks, char *err, size_t errlen)
{
	*out = NULL;
	struct fw_raw *r = calloc(1, sizeof(*r));
	if (!r || !(r->slots = calloc(depth, sizeof(*r->slots))) || !(r->path = strdup(path))) {
		if (r)
			free(r->slots);
		free(r);
		snprintf(err, errlen, "out of memory opening raw flash %s", path);
		return -ENOMEM;
	}
	r->depth = depth;
	r->fd = r->efd = -1;
	int rc;

	r->fd = open(path, O_RDWR | O_CLOEXEC | O_CREAT | O_DIRECT, 0600);
	if (r->fd < 0 && errno == EINVAL) {
		/* the filesystem refuses O_DIRECT (tmpfs): buffered I/O, same durability points */
		r->fd = open(path, O_RDWR | O_CLOEXEC | O_CREAT, 0600);
	}
	if (r->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "raw flash %s: cannot open: %s", path, strerror(-rc));
		goto fail;
	}
	struct stat st;
	uint64_t size = 0;
	if (fstat(r->fd, &st) < 0 || (rc = raw_size(r->fd, &st, &size)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "raw flash %s: cannot size it: %s", path, strerror(-rc));
		goto fail;
	}
	if (S_ISREG(st.st_mode) && create_bytes > size) {
		if (ftruncate(r->fd, (off_t)create_bytes) < 0) {
			rc = -errno;
			snprintf(err, errlen, "raw flash %s: cannot grow it to %llu bytes: %s", path,
				 (unsigned long long)create_bytes, strerror(-rc));
			goto fail;
		}
		size = create_bytes;
	}
	if (ns_bytes && ns_bytes < size)
		size = ns_bytes;
	*nblocks = size >> FW_LBA_SHIFT;
	if (!*nblocks) {
		rc = -EINVAL;
		snprintf(err, errlen, "raw flash %s holds less than one 4 KiB block: give its size "
			 "(--flash-size)", path);
		goto fail;
	}
	rc = io_uring_queue_init(depth, &r->ring, 0);
	if (rc < 0) {
		snprintf(err, errlen, "raw flash %s: io_uring_queue_init: %s", path, strerror(-rc));
		goto fail;
	}
	r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->efd < 0 || (rc = io_uring_register_eventfd(&r->ring, r->efd)) < 0) {
		rc = r->efd < 0 ? -errno : rc;
		snprintf(err, errlen, "raw flash %s: eventfd: %s", path, strerror(-rc));
		io_uring_queue_exit(&r->ring);
		goto fail;
	}
	*out = r;
	return 0;
fail:
	if (r->efd >= 0)
		close(r->efd);
	if (r->fd >= 0)
		close(r->fd);
	free(r->path);
	free(r->slots);
	free(r);
	return rc;
}

static void raw_wait_all(struct fw_raw *r)
{
	while (r->inflight) {
		struct io_uring_cqe *cqe;
		if (io_uring_wait_cqe(&r->ring, &cqe) < 0)
			break;
		fw_raw_poll(r);
	}
}

int fw_raw_close(struct fw_raw *r, char *err, size_t errlen)
{
	raw_wait_all(r);
	int rc = 0;
	if (fdatasync(r->fd) < 0) {
		rc = -errno;
		snprintf(err, errlen, "raw flash %s: fdatasync: %s", r->path, strerror(-rc));
	}
	io_uring_queue_exit(&r->ring);
	close(r->efd);
	close(r->fd);
	free(r->path);
	free(r->slots);
	free(r);
	return rc;
}

static struct io_uring_sqe *raw_get_sqe(struct fw_raw *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
	if (!sqe) {
		io_uring_submit(&r->ring);
		sqe = io_uring_get_sqe(&r->ring);
	}
	return sqe;
}

static void raw_prep(struct fw_raw *r, struct io_uring_sqe *sqe, uint8_t op, uint64_t lba,
		     uint32_t n, void *buf, bool fua)
{
	uint64_t off = lba << FW_LBA_SHIFT;
	uint64_t len = (uint64_t)n << FW_LBA_SHIFT;
	switch (op) {
	case FW_RAW_READ:
		io_uring_prep_read(sqe, r->fd, buf, (unsigned)len, off);
		break;
	case FW_RAW_WRITE:
		io_uring_prep_write(sqe, r->fd, buf, (unsigned)len, off);
		if (fua)
			sqe->rw_flags = RWF_DSYNC;
		break;
	case FW_RAW_ZEROES:
		io_uring_prep_fallocate(sqe, r->fd, FALLOC_FL_ZERO_RANGE, off, len);
		break;
	case FW_RAW_TRIM:
		io_uring_prep_fallocate(sqe, r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off,
					len);
		break;
	default:
		io_uring_prep_fsync(sqe, r->fd, IORING_FSYNC_DATASYNC);
		break;
	}
}

int fw_raw_submit(struct fw_raw *r, enum fw_raw_op op, uint64_t lba, uint32_t n, void *buf,
		  bool fua, fw_flash_cb cb, void *arg)
{
	if (r->inflight >= r->depth)
		return -EAGAIN;
	uint32_t i = r->free_hint;
	while (r->slots[i].busy)
		i = (i + 1) % r->depth;
	struct io_uring_sqe *sqe = raw_get_sqe(r);
	if (!sqe)
		return -EAGAIN;
	struct raw_slot *sl = &r->slots[i];
	*sl = (struct raw_slot){ .cb = cb, .arg = arg, .op = (uint8_t)op, .busy = true,
				 .sync_after = op == FW_RAW_ZEROES && fua,
				 .expect = (op == FW_RAW_READ || op == FW_RAW_WRITE) ?
					   n << FW_LBA_SHIFT : 0 };
	raw_prep(r, sqe, (uint8_t)op, lba, n, buf, fua);
	io_uring_sqe_set_data64(sqe, i);
	r->free_hint = (i + 1) % r->depth;
	r->inflight++;
	int rc = io_uring_submit(&r->ring);
	if (rc < 0)
		fw_warn("raw flash %s: io_uring_submit: %s (will retry at the next submission)",
			r->path, strerror(-rc));
	return 0;
}

void fw_raw_poll(struct fw_raw *r)
{
	uint64_t v;
	while (read(r->efd, &v, sizeof(v)) > 0)
		;
	struct io_uring_cqe *cqe;
	while (io_uring_peek_cqe(&r->ring, &cqe) == 0) {
		uint32_t i = (uint32_t)io_uring_cqe_get_data64(cqe);
		int res = cqe->res;
		io_uring_cqe_seen(&r->ring, cqe);
		if (i >= r->depth || !r->slots[i].busy)
			continue;
		struct raw_slot *sl = &r->slots[i];
		if (res >= 0 && sl->expect && (uint32_t)res != sl->expect)
			res = -EIO;		/* a short transfer inside the device's bounds */
		if (res >= 0 && sl->sync_after) {
			struct io_uring_sqe *sqe = raw_get_sqe(r);
			if (sqe) {
				sl->sync_after = false;
				io_uring_prep_fsync(sqe, r->fd, IORING_FSYNC_DATASYNC);
				io_uring_sqe_set_data64(sqe, i);
				io_uring_submit(&r->ring);
				continue;
			}
		}
		if (res < 0)
			fw_warn("raw flash %s: %s failed: %s", r->path,
				sl->op == FW_RAW_READ ? "read" : sl->op == FW_RAW_WRITE ? "write" :
				sl->op == FW_RAW_FLUSH ? "flush" : "fallocate", strerror(-res));
		if (res >= 0 && sl->op == FW_RAW_READ)
			r->bytes_read += sl->expect;
		else if (res >= 0 && sl->op == FW_RAW_WRITE)
			r->bytes_written += sl->expect;
		fw_flash_cb cb = sl->cb;
		void *arg = sl->arg;
		sl->busy = false;
		r->inflight--;
		cb(arg, res < 0 ? res : 0);
	}
	io_uring_submit(&r->ring);
}

int fw_raw_event_fd(const struct fw_raw *r)
{
	return r->efd;
}

unsigned fw_raw_inflight(const struct fw_raw *r)
{
	return r->inflight;
}

void fw_raw_bytes(const struct fw_raw *r, uint64_t *read, uint64_t *written)
{
	*read = r->bytes_read;
	*written = r->bytes_written;
}
