/* The backing store through io_uring: the only place that talks to the kernel about the
 * device. Requests carry their own completion callback; the ring's user_data is the request. */
#include "io.h"
#include "ondisk.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef RWF_DSYNC
#define RWF_DSYNC 0x00000002
#endif

#define DD_IO_CHUNK (1u << 20)

struct dd_io {
	int fd;
	int event_fd;
	bool direct;
	bool blockdev;
	uint64_t size;
	struct io_uring ring;
	bool ring_ok;
	unsigned entries;
	unsigned inflight;  /* in the kernel */
	unsigned prepared;  /* SQEs not yet submitted */
	struct dd_ioreq *backlog_head, *backlog_tail;
	struct dd_ioreq *injected_head, *injected_tail;
	const struct dedup_io_hooks *hooks;
	uint64_t next_id;
	uint64_t bytes_read, bytes_written; /* moved by completed transfers since open */
};

void *dd_io_alloc(size_t bytes)
{
	void *p = NULL;
	if (bytes == 0)
		bytes = DD_BLOCK_SIZE;
	if (posix_memalign(&p, DD_BLOCK_SIZE, bytes) != 0)
		return NULL;
	return p;
}

static int open_backing(struct dd_io *io, const char *path, bool read_only, struct dedup_error *err)
{
	int flags = (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	io->fd = open(path, flags | O_DIRECT);
	io->direct = true;
	if (io->fd < 0 && errno == EINVAL) {
		/* the filesystem refuses O_DIRECT (tmpfs): buffered I/O, same durability points */
		io->fd = open(path, flags);
		io->direct = false;
	}
	if (io->fd < 0)
		return dd_err(err, -errno, "cannot open backing store %s: %s", path, strerror(errno));

	/* after a crash the kernel finishes the dead process's in-flight I/O asynchronously,
	 * and that I/O keeps the file (and its lock) a few milliseconds longer: wait up to 2 s
	 * before deciding that another live process holds the volume */
	for (int tries = 0;; tries++) {
		if (flock(io->fd, (read_only ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0)
			break;
		int e = errno;
		if (e == EWOULDBLOCK && tries < 200) {
			struct timespec nap = {0, 10 * 1000 * 1000};
			nanosleep(&nap, NULL);
			continue;
		}
		if (e == EWOULDBLOCK)
			return dd_err(err, -EBUSY,
				      "backing store %s is in use by another process (it holds the "
				      "volume lock); stop it first", path);
		return dd_err(err, -e, "cannot lock backing store %s: %s", path, strerror(e));
	}

	struct stat st;
	if (fstat(io->fd, &st) != 0)
		return dd_err(err, -errno, "cannot stat backing store %s: %s", path, strerror(errno));
	if (S_ISBLK(st.st_mode)) {
		uint64_t bytes = 0;
		int ssz = 0;
		if (ioctl(io->fd, BLKGETSIZE64, &bytes) != 0)
			return dd_err(err, -errno, "cannot get the size of block device %s: %s", path,
				      strerror(errno));
		if (ioctl(io->fd, BLKSSZGET, &ssz) == 0 && ssz > (int)DD_BLOCK_SIZE)
			return dd_err(err, -EINVAL,
				      "block device %s has %d-byte sectors; dedup needs sectors of at "
				      "most 4096 bytes", path, ssz);
		io->size = bytes;
		io->blockdev = true;
	} else if (S_ISREG(st.st_mode)) {
		io->size = (uint64_t)st.st_size;
	} else {
		return dd_err(err, -EINVAL, "backing store %s is neither a regular file nor a block "
			      "device", path);
	}
	return 0;
}

int dd_io_open(const struct dd_io_open_args *args, struct dd_io **out, struct dedup_error *err)
{
	*out = NULL;
	struct dd_io *io = calloc(1, sizeof(*io));
	if (!io)
		return dd_err(err, -ENOMEM, "out of memory");
	io->fd = -1;
	io->event_fd = -1;
	io->hooks = args->hooks;
	io->entries = args->entries ? args->entries : 256;

	int rc = open_backing(io, args->path, args->read_only, err);
	if (rc < 0)
		goto fail;

	rc = io_uring_queue_init(io->entries, &io->ring, 0);
	if (rc < 0) {
		rc = dd_err(err, rc, "cannot create an io_uring of %u entries: %s%s", io->entries,
			    strerror(-rc),
			    rc == -ENOSYS ? " (the kernel has no io_uring)" :
			    rc == -EPERM ? " (io_uring is disabled by sysctl or seccomp)" : "");
		goto fail;
	}
	io->ring_ok = true;
	io->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (io->event_fd < 0) {
		rc = dd_err(err, -errno, "cannot create an eventfd: %s", strerror(errno));
		goto fail;
	}
	rc = io_uring_register_eventfd(&io->ring, io->event_fd);
	if (rc < 0) {
		rc = dd_err(err, rc, "cannot register the eventfd with io_uring: %s", strerror(-rc));
		goto fail;
	}
	*out = io;
	return 0;
fail:
	dd_io_close(io);
	return rc;
}

void dd_io_close(struct dd_io *io)
{
	if (!io)
		return;
	if (io->ring_ok) {
		/* I/O the kernel still owns may write into buffers about to be freed: let it end
		 * (its callbacks are not run; a crash leaves exactly what completed) */
		if (io->prepared)
			io_uring_submit(&io->ring);
		io->inflight += io->prepared;
		while (io->inflight > 0) {
			struct io_uring_cqe *cqe;
			int rc = io_uring_wait_cqe(&io->ring, &cqe);
			if (rc == -EINTR)
				continue;
			if (rc < 0)
				break;
			io_uring_cqe_seen(&io->ring, cqe);
			io->inflight--;
		}
	}
	/* the ring is torn down asynchronously and may hold the file a little longer: release
	 * the volume lock now so a reopen does not see it */
	if (io->fd >= 0)
		flock(io->fd, LOCK_UN);
	if (io->ring_ok)
		io_uring_queue_exit(&io->ring);
	if (io->event_fd >= 0)
		close(io->event_fd);
	if (io->fd >= 0)
		close(io->fd);
	free(io);
}

static struct dedup_io_event event_of(const struct dd_ioreq *req)
{
	struct dedup_io_event ev = {
		.op = req->op, .dsync = req->dsync, .offset = req->off, .len = req->len,
		.data = req->buf, .id = req->id,
	};
	return ev;
}

/* Puts the (remaining part of the) request on an SQE; false when the ring is full. */
static bool prep(struct dd_io *io, struct dd_ioreq *req)
{
	if (io->inflight + io->prepared >= io->entries)
		return false;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&io->ring);
	if (!sqe)
		return false;
	unsigned n = req->len - req->xfer;
	uint64_t off = req->off + req->xfer;
	switch (req->op) {
	case DEDUP_IO_READ:
		io_uring_prep_read(sqe, io->fd, (char *)req->buf + req->xfer, n, off);
		break;
	case DEDUP_IO_WRITE:
		io_uring_prep_write(sqe, io->fd, (char *)req->buf + req->xfer, n, off);
		if (req->dsync)
			sqe->rw_flags = RWF_DSYNC;
		break;
	case DEDUP_IO_FSYNC:
		io_uring_prep_fsync(sqe, io->fd, IORING_FSYNC_DATASYNC);
		break;
	}
	io_uring_sqe_set_data(sqe, req);
	io->prepared++;
	return true;
}

static void backlog_push(struct dd_io *io, struct dd_ioreq *req)
{
	req->next = NULL;
	if (io->backlog_tail)
		io->backlog_tail->next = req;
	else
		io->backlog_head = req;
	io->backlog_tail = req;
}

void dd_io_queue(struct dd_io *io, struct dd_ioreq *req)
{
	req->xfer = 0;
	req->id = ++io->next_id;
	req->next = NULL;
	if (io->hooks && io->hooks->submit) {
		struct dedup_io_event ev = event_of(req);
		int inj = io->hooks->submit(io->hooks->ctx, &ev);
		if (inj != 0) {
			req->result = inj < 0 ? inj : 0;
			bool was_empty = !io->injected_head;
			if (io->injected_tail)
				io->injected_tail->next = req;
			else
				io->injected_head = req;
			io->injected_tail = req;
			if (was_empty) /* the eventfd is already readable otherwise */
				dd_io_notify(io);
			return;
		}
	}
	if (io->backlog_head || !prep(io, req))
		backlog_push(io, req);
}

int dd_io_submit(struct dd_io *io)
{
	while (io->backlog_head && io->inflight + io->prepared < io->entries) {
		struct dd_ioreq *req = io->backlog_head;
		if (!prep(io, req))
			break;
		io->backlog_head = req->next;
		if (!io->backlog_head)
			io->backlog_tail = NULL;
	}
	if (io->prepared == 0)
		return 0;
	int rc = io_uring_submit(&io->ring);
	if (rc < 0)
		return rc;
	/* everything prepared is now owned by the kernel (submit retries partial consumption) */
	io->inflight += io->prepared;
	io->prepared = 0;
	return 0;
}

static void finish(struct dd_io *io, struct dd_ioreq *req, int result)
{
	if (io->hooks && io->hooks->complete) {
		struct dedup_io_event ev = event_of(req);
		io->hooks->complete(io->hooks->ctx, &ev, result);
	}
	req->done(req, result);
}

static void handle_cqe(struct dd_io *io, struct dd_ioreq *req, int res)
{
	io->inflight--;
	if (res == -EAGAIN || res == -EINTR) {
		if (!prep(io, req))
			backlog_push(io, req);
		return;
	}
	if (res < 0) {
		finish(io, req, res);
		return;
	}
	if (req->op == DEDUP_IO_FSYNC) {
		finish(io, req, 0);
		return;
	}
	if (res == 0) {
		/* a read past the end of the backing store, or a device that stopped writing */
		finish(io, req, -EIO);
		return;
	}
	req->xfer += (uint32_t)res;
	if (req->op == DEDUP_IO_READ)
		io->bytes_read += (uint64_t)res;
	else
		io->bytes_written += (uint64_t)res;
	if (req->xfer < req->len) {
		if (!prep(io, req))
			backlog_push(io, req);
		return;
	}
	finish(io, req, 0);
}

int dd_io_reap(struct dd_io *io)
{
	int n = 0;
	for (;;) {
		struct io_uring_cqe *cqes[32];
		unsigned got = io_uring_peek_batch_cqe(&io->ring, cqes, 32);
		if (got == 0)
			break;
		struct dd_ioreq *reqs[32];
		int res[32];
		for (unsigned i = 0; i < got; i++) {
			reqs[i] = io_uring_cqe_get_data(cqes[i]);
			res[i] = cqes[i]->res;
		}
		io_uring_cq_advance(&io->ring, got);
		for (unsigned i = 0; i < got; i++)
			handle_cqe(io, reqs[i], res[i]);
		n += (int)got;
	}
	while (io->injected_head) {
		struct dd_ioreq *req = io->injected_head;
		io->injected_head = req->next;
		if (!io->injected_head)
			io->injected_tail = NULL;
		finish(io, req, req->result);
		n++;
	}
	return n;
}

int dd_io_wait(struct dd_io *io)
{
	int rc = dd_io_submit(io);
	if (rc < 0)
		return rc;
	if (!io->injected_head && io->inflight > 0) {
		struct io_uring_cqe *cqe;
		do
			rc = io_uring_wait_cqe(&io->ring, &cqe);
		while (rc == -EINTR);
		if (rc < 0)
			return rc;
	}
	return dd_io_reap(io);
}

struct sync_piece {
	struct dd_ioreq req;
	int *pending;
	int *first_error;
	uint64_t *error_off;
};

static void sync_piece_done(struct dd_ioreq *req, int result)
{
	struct sync_piece *p = (struct sync_piece *)req;
	(*p->pending)--;
	if (result < 0 && *p->first_error == 0) {
		*p->first_error = result;
		*p->error_off = req->off;
	}
}

int dd_io_sync_rw(struct dd_io *io, enum dedup_io_op op, void *buf, uint64_t len, uint64_t off,
		  bool dsync, const char *what, struct dedup_error *err)
{
	enum { PIECES = 8 };
	struct sync_piece pieces[PIECES];
	int pending = 0, first_error = 0;
	uint64_t error_off = 0, done_len = 0;
	unsigned next = 0;

	while (done_len < len || pending > 0) {
		while (done_len < len && pending < PIECES) {
			struct sync_piece *p = &pieces[next++ % PIECES];
			uint64_t n = len - done_len;
			if (n > DD_IO_CHUNK)
				n = DD_IO_CHUNK;
			memset(p, 0, sizeof(*p));
			p->req.done = sync_piece_done;
			p->req.op = op;
			p->req.dsync = dsync;
			p->req.buf = (char *)buf + done_len;
			p->req.len = (uint32_t)n;
			p->req.off = off + done_len;
			p->pending = &pending;
			p->first_error = &first_error;
			p->error_off = &error_off;
			pending++;
			done_len += n;
			dd_io_queue(io, &p->req);
		}
		int rc = dd_io_wait(io);
		if (rc < 0)
			return dd_err(err, rc, "io_uring wait failed while %s %s: %s",
				      op == DEDUP_IO_READ ? "reading" : "writing", what, strerror(-rc));
	}
	if (first_error < 0)
		return dd_err(err, first_error, "cannot %s %s at byte offset %llu: %s",
			      op == DEDUP_IO_READ ? "read" : "write", what,
			      (unsigned long long)error_off, strerror(-first_error));
	return 0;
}

int dd_io_sync_fsync(struct dd_io *io, struct dedup_error *err)
{
	struct sync_piece p;
	int pending = 1, first_error = 0;
	uint64_t error_off = 0;
	memset(&p, 0, sizeof(p));
	p.req.done = sync_piece_done;
	p.req.op = DEDUP_IO_FSYNC;
	p.pending = &pending;
	p.first_error = &first_error;
	p.error_off = &error_off;
	dd_io_queue(io, &p.req);
	while (pending > 0) {
		int rc = dd_io_wait(io);
		if (rc < 0)
			return dd_err(err, rc, "io_uring wait failed during fdatasync: %s",
				      strerror(-rc));
	}
	if (first_error < 0)
		return dd_err(err, first_error, "fdatasync of the backing store failed: %s",
			      strerror(-first_error));
	return 0;
}

uint64_t dd_io_size(const struct dd_io *io) { return io->size; }
bool dd_io_direct(const struct dd_io *io) { return io->direct; }
bool dd_io_is_blockdev(const struct dd_io *io) { return io->blockdev; }
int dd_io_event_fd(const struct dd_io *io) { return io->event_fd; }
unsigned dd_io_inflight(const struct dd_io *io)
{
	return io->inflight + io->prepared + (io->backlog_head ? 1 : 0) +
	       (io->injected_head ? 1 : 0);
}

void dd_io_notify(struct dd_io *io)
{
	uint64_t one = 1;
	ssize_t n = write(io->event_fd, &one, sizeof(one));
	(void)n; /* EAGAIN means the counter is already non-zero: it is readable either way */
}

void dd_io_drain_event(struct dd_io *io)
{
	uint64_t v;
	ssize_t n = read(io->event_fd, &v, sizeof(v));
	(void)n; /* EAGAIN: nothing pending */
}

void dd_io_bytes(const struct dd_io *io, uint64_t *read, uint64_t *written)
{
	*read = io->bytes_read;
	*written = io->bytes_written;
}
