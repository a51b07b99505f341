/* The asynchronous interface driven the way insitu-fw will drive it: an outside event loop
 * waits on the volume's eventfd with poll(2) and calls dedup_volume_poll(); each completed
 * write's callback submits a read of it, which checks the data; FUA writes, Write Zeroes and
 * flushes are mixed in. Also: -EAGAIN at the queue limit, callbacks never run inside a submit
 * call, and a completion that needs no I/O (a trim) still wakes the loop. */
#include <poll.h>

#include "dedup_test.h"

#define L 4096u
#define N 8u     /* blocks per request */
#define TOTAL 600u
#define QD 16u

struct loop {
	struct dedup_volume *v;
	uint8_t *wbuf, *rbuf;
	unsigned writes_done, reads_ok, flushes, errors;
	bool in_submit;
};

struct ctx {
	struct loop *l;
	unsigned id;
	bool is_read;
};

static struct ctx ctxs[2 * TOTAL];

static uint64_t pattern_for(unsigned i, unsigned k)
{
	if (i % 11 == 0 || (i + k) % 5 == 0)
		return 0;                           /* Write Zeroes request, zero blocks */
	if ((i + k) % 3 == 0)
		return 1 + (i + k) % 4;             /* duplicates */
	return 1000 + (uint64_t)i * N + k;          /* unique */
}

static void done(void *arg, int result);

static void submit_read(struct loop *l, unsigned i)
{
	struct ctx *c = &ctxs[TOTAL + i];
	*c = (struct ctx){l, i, true};
	l->in_submit = true;
	int rc = dedup_volume_submit_read(l->v, (i * N) % L, N,
					  l->rbuf + (size_t)(i % 64) * N * BS, done, c);
	l->in_submit = false;
	CHECK_OK(l->v, rc); /* at most 8 writes + their reads are in flight: it always fits */
}

static void done(void *arg, int result)
{
	struct ctx *c = arg;
	struct loop *l = c->l;
	CHECK(!l->in_submit);
	if (result != 0) {
		fprintf(stderr, "request %u: %d %s\n", c->id, result, dedup_volume_errmsg(l->v));
		l->errors++;
		return;
	}
	if (!c->is_read) {
		l->writes_done++;
		submit_read(l, c->id);
		return;
	}
	const uint8_t *r = l->rbuf + (size_t)(c->id % 64) * N * BS;
	for (unsigned k = 0; k < N; k++)
		CHECK_EQ(pattern_of(r + (size_t)k * BS), pattern_for(c->id, k));
	l->reads_ok++;
}

static void flush_done(void *arg, int result)
{
	struct loop *l = arg;
	CHECK_EQ(result, 0);
	l->flushes++;
}

static int submit_write(struct loop *l, unsigned i)
{
	uint8_t *b = l->wbuf + (size_t)(i % 64) * N * BS;
	for (unsigned k = 0; k < N; k++)
		pattern_fill(b + (size_t)k * BS, pattern_for(i, k));
	struct ctx *c = &ctxs[i];
	*c = (struct ctx){l, i, false};
	l->in_submit = true;
	int rc = i % 11 == 0 ? dedup_volume_submit_write_zeroes(l->v, (i * N) % L, N, 0, done, c)
			     : dedup_volume_submit_write(l->v, (i * N) % L, N, b,
							 i % 7 == 0 ? DEDUP_FUA : 0, done, c);
	l->in_submit = false;
	return rc;
}

static void wait_event(int efd)
{
	struct pollfd pfd = {.fd = efd, .events = POLLIN};
	CHECK_EQ(poll(&pfd, 1, 10000), 1); /* ten silent seconds would mean a lost wakeup */
}

int main(void)
{
	test_dir("dedup-eventloop");
	char path[300];
	test_path(path, sizeof(path), "vol.img");
	test_format(path, L, 32 << 20, 32, 8);
	struct dedup_open_options o = {.queue_depth = QD, .max_request_blocks = N,
				       .checkpoint_dirty_pages = 16};
	struct loop l = {.v = test_open(path, &o)};
	l.wbuf = test_alloc(64 * N * BS);
	l.rbuf = test_alloc(64 * N * BS);
	int efd = dedup_volume_event_fd(l.v);
	CHECK(efd >= 0);

	/* writes to the same LBAs are 512 requests apart and at most 8 are in flight, so a
	 * read-back never races a newer write to its blocks */
	unsigned next = 0, wakeups = 0;
	while (l.reads_ok + l.errors < TOTAL) {
		while (next < TOTAL && dedup_volume_inflight(l.v) < 8) {
			CHECK_OK(l.v, submit_write(&l, next));
			if (next % 50 == 49)
				CHECK_OK(l.v, dedup_volume_submit_flush(l.v, flush_done, &l));
			next++;
		}
		wait_event(efd);
		dedup_volume_poll(l.v);
		wakeups++;
	}
	CHECK_EQ(l.errors, 0);
	CHECK_EQ(l.writes_done, TOTAL);
	CHECK_EQ(l.reads_ok, TOTAL);
	while (dedup_volume_inflight(l.v) > 0) {
		wait_event(efd);
		dedup_volume_poll(l.v);
	}
	CHECK_EQ(l.flushes, TOTAL / 50);
	printf("%u writes and %u verified reads through %u eventfd wakeups, %u flushes\n",
	       l.writes_done, l.reads_ok, wakeups, l.flushes);

	/* the queue limit: QD requests accepted, the next refused until a completion */
	uint8_t *b = test_alloc(BS);
	pattern_fill(b, 4242);
	for (unsigned i = 0; i < QD; i++)
		CHECK_OK(l.v, dedup_volume_submit_write(l.v, i, 1, b, 0, NULL, NULL));
	CHECK_EQ(dedup_volume_submit_write(l.v, QD, 1, b, 0, NULL, NULL), -EAGAIN);
	while (dedup_volume_inflight(l.v) == QD) {
		wait_event(efd);
		dedup_volume_poll(l.v);
	}
	CHECK_OK(l.v, dedup_volume_submit_write(l.v, QD, 1, b, 0, NULL, NULL));
	while (dedup_volume_inflight(l.v) > 0) {
		wait_event(efd);
		dedup_volume_poll(l.v);
	}

	/* a trim completes without I/O; the eventfd still says so */
	CHECK_OK(l.v, dedup_volume_submit_trim(l.v, 0, N, 0, NULL, NULL));
	wait_event(efd);
	CHECK_EQ(dedup_volume_poll(l.v), 1);
	CHECK_EQ(dedup_volume_inflight(l.v), 0);
	test_audit(l.v);
	test_close(l.v);
	free(b);
	free(l.wbuf);
	free(l.rbuf);
	test_cleanup();
	printf("ok\n");
	return 0;
}
