/* Backing-store I/O through the volume's io_uring ring (DESIGN.md §4.3): O_DIRECT with a
 * buffered fallback, batched submission, a software backlog beyond the ring's depth, short
 * transfer continuation, an eventfd for the caller's event loop, and the test hooks. */
#ifndef DEDUP_IO_H
#define DEDUP_IO_H

#include <stdbool.h>
#include <stdint.h>

#include "dedup/testing.h"
#include "error.h"

struct dd_io;

struct dd_ioreq {
	struct dd_ioreq *next; /* backlog / injected-completion list */
	void (*done)(struct dd_ioreq *req, int result);
	void *owner; /* for the callback */
	void *buf;
	uint64_t off;
	uint32_t len;
	uint32_t xfer; /* bytes already transferred */
	enum dedup_io_op op;
	bool dsync;
	uint64_t id;
	int result; /* injected result, while on the injected list */
};

struct dd_io_open_args {
	const char *path;
	bool read_only;
	unsigned entries;    /* ring depth; 0: 256 */
	const struct dedup_io_hooks *hooks;
};

int dd_io_open(const struct dd_io_open_args *args, struct dd_io **out, struct dedup_error *err);
void dd_io_close(struct dd_io *io);

/* Prepares the I/O (or backlogs it); nothing reaches the kernel until dd_io_submit(). */
void dd_io_queue(struct dd_io *io, struct dd_ioreq *req);
/* Submits everything prepared since the last call. */
int dd_io_submit(struct dd_io *io);
/* Processes every available completion, calling each request's done. Returns how many. */
int dd_io_reap(struct dd_io *io);
/* Submits, blocks until at least one completion is available, then reaps. */
int dd_io_wait(struct dd_io *io);

/* Synchronous transfer of any size (split in 1 MiB pieces, several in flight), for format,
 * recovery and audit, when no asynchronous I/O depends on the ring. The error names `what`. */
int dd_io_sync_rw(struct dd_io *io, enum dedup_io_op op, void *buf, uint64_t len, uint64_t off,
		  bool dsync, const char *what, struct dedup_error *err);
int dd_io_sync_fsync(struct dd_io *io, struct dedup_error *err);

uint64_t dd_io_size(const struct dd_io *io);
bool dd_io_direct(const struct dd_io *io);
bool dd_io_is_blockdev(const struct dd_io *io);
int dd_io_event_fd(const struct dd_io *io);
/* Bytes moved to and from the backing store by completed reads and writes since open. */
void dd_io_bytes(const struct dd_io *io, uint64_t *read, uint64_t *written);
/* Makes the eventfd readable (work is due without an I/O completion). */
void dd_io_notify(struct dd_io *io);
/* Resets the eventfd. */
void dd_io_drain_event(struct dd_io *io);
unsigned dd_io_inflight(const struct dd_io *io);
/* Aligned allocation for I/O buffers (O_DIRECT needs 4 KiB alignment). */
void *dd_io_alloc(size_t bytes);

#endif
