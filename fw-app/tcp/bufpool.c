/* The command buffer pool: power-of-two classes, a global byte budget, a cache of freed
 * buffers (at most half the budget) so 1 MiB transfers do not mmap/munmap per command. */
#include "bufpool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static unsigned class_of(uint32_t len)
{
	unsigned c = 0;

	while (((uint64_t)FW_TCP_BUF_MIN << c) < len)
		c++;
	return c;
}

int fw_tcp_bufpool_init(struct fw_tcp_bufpool *p, uint32_t max_buf, uint64_t budget)
{
	memset(p, 0, sizeof(*p));
	if (max_buf < FW_TCP_BUF_MIN)
		max_buf = FW_TCP_BUF_MIN;
	if (class_of(max_buf) >= FW_TCP_BUF_CLASSES)
		return -EINVAL;
	p->max_buf = FW_TCP_BUF_MIN << class_of(max_buf);
	if (!budget) {
		budget = 64ull << 20;
		if (budget < 4ull * p->max_buf)
			budget = 4ull * p->max_buf;
	}
	p->budget = budget;
	return 0;
}

static void drop_cached(struct fw_tcp_bufpool *p, unsigned c)
{
	void *b = p->free[c];
	uint64_t size = (uint64_t)FW_TCP_BUF_MIN << c;

	memcpy(&p->free[c], b, sizeof(void *));
	free(b);
	p->allocated -= size;
	p->cached -= size;
}

void fw_tcp_bufpool_fini(struct fw_tcp_bufpool *p)
{
	for (unsigned c = 0; c < FW_TCP_BUF_CLASSES; c++)
		while (p->free[c])
			drop_cached(p, c);
}

uint32_t fw_tcp_buf_capacity(const struct fw_tcp_bufpool *p, uint32_t len)
{
	if (len > p->max_buf)
		return 0;
	return FW_TCP_BUF_MIN << class_of(len ? len : 1);
}

void *fw_tcp_buf_get(struct fw_tcp_bufpool *p, uint32_t len, uint64_t limit)
{
	uint32_t cap = fw_tcp_buf_capacity(p, len);
	unsigned c;
	void *b;

	if (!cap)
		return NULL;
	if (limit > p->budget)
		limit = p->budget;
	c = class_of(cap);
	if (p->free[c] && p->allocated - p->cached + cap <= limit) {
		b = p->free[c];
		memcpy(&p->free[c], b, sizeof(void *));
		p->cached -= cap;
		return b;
	}
	/* Make room by giving cached buffers of other sizes back to the system. */
	if (p->allocated - p->cached + cap > limit)
		return NULL;
	for (unsigned o = FW_TCP_BUF_CLASSES; o-- > 0 && p->allocated + cap > p->budget;)
		while (p->free[o] && p->allocated + cap > p->budget)
			drop_cached(p, o);
	if (p->allocated + cap > p->budget)
		return NULL;
	b = aligned_alloc(FW_TCP_BUF_MIN, cap);
	if (!b)
		return NULL;
	p->allocated += cap;
	return b;
}

void fw_tcp_buf_put(struct fw_tcp_bufpool *p, void *buf, uint32_t cap)
{
	unsigned c;

	if (!buf)
		return;
	c = class_of(cap);
	if (p->cached + cap > p->budget / 2) {
		free(buf);
		p->allocated -= cap;
		return;
	}
	memcpy(buf, &p->free[c], sizeof(void *));
	p->free[c] = buf;
	p->cached += cap;
}
