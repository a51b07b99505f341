/* Test and benchmark hooks of the dedup library: observe or fail every backing-store I/O,
 * abandon a volume as a crash would, force a checkpoint. The production I/O path is the same
 * io_uring path with or without hooks; nothing here replaces it. Not for the daemon. */
#ifndef DEDUP_TESTING_H
#define DEDUP_TESTING_H

#include <stdbool.h>
#include <stdint.h>

#include "dedup/volume.h"

#ifdef __cplusplus
extern "C" {
#endif

enum dedup_io_op {
	DEDUP_IO_READ = 1,
	DEDUP_IO_WRITE = 2,
	DEDUP_IO_FSYNC = 3, /* fdatasync of the whole backing store */
};

struct dedup_io_event {
	enum dedup_io_op op;
	bool dsync;          /* a write that is durable when it completes (RWF_DSYNC / FUA) */
	uint64_t offset;     /* bytes */
	uint32_t len;        /* bytes; 0 for fsync */
	void *data;          /* a write's data (read it only); a read's destination */
	uint64_t id;         /* unique per I/O for the life of the volume */
};

/* Returned by a submit hook that performed the I/O itself (the benchmark's RAM store). */
#define DEDUP_IO_HANDLED 1

struct dedup_io_hooks {
	void *ctx;
	/* Before an I/O is submitted. Return 0 to submit it; a negative errno to complete it
	 * with that result without submitting it (fault injection); or DEDUP_IO_HANDLED when
	 * the hook did the transfer itself (a read filled ev->data), so it completes with
	 * success without reaching the kernel. May be NULL. */
	int (*submit)(void *ctx, const struct dedup_io_event *ev);
	/* After an I/O completed (or was failed by submit), with its result. May be NULL. */
	void (*complete)(void *ctx, const struct dedup_io_event *ev, int result);
};

/* Frees the volume without waiting for anything or writing anything, leaving the backing
 * store exactly as a kill -9 at this moment would (completed I/O stays, in-memory state is
 * lost). In-flight I/O is cancelled by closing the ring; requests are not called back. */
void dedup_volume_crash(struct dedup_volume *vol);

/* Starts a checkpoint now (if none is running) and waits for it. */
int dedup_volume_checkpoint(struct dedup_volume *vol);

/* Bits of the fingerprint key this library build keeps (64, or fewer in the test build that
 * forces collisions: DEDUP_TEST_KEY_BITS). */
unsigned dedup_key_bits(void);

/* The key the library computes for a 4 KiB block. */
uint64_t dedup_block_key(const void *block);

#ifdef __cplusplus
}
#endif

#endif
