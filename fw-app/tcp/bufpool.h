/* Command data buffers of the NVMe/TCP transport: 4 KiB-aligned, power-of-two classes up to
 * MDTS, one byte budget for all connections, freed buffers cached for reuse. A request the
 * budget cannot meet fails; the caller waits for a release (DESIGN.md §6). */
#ifndef INSITU_FW_TCP_BUFPOOL_H
#define INSITU_FW_TCP_BUFPOOL_H

#include <stdbool.h>
#include <stdint.h>

#define FW_TCP_BUF_MIN   4096u
#define FW_TCP_BUF_CLASSES 24

struct fw_tcp_bufpool {
	uint64_t budget;     /* bytes allocated from the system, in use + cached */
	uint64_t allocated;  /* bytes allocated now */
	uint64_t cached;     /* of which on free lists */
	uint32_t max_buf;    /* largest buffer (MDTS rounded up to a class) */
	void    *free[FW_TCP_BUF_CLASSES];
};

/* budget: 0 picks max(64 MiB, 4 x max_buf). */
int fw_tcp_bufpool_init(struct fw_tcp_bufpool *p, uint32_t max_buf, uint64_t budget);
void fw_tcp_bufpool_fini(struct fw_tcp_bufpool *p);

/* The capacity a request of len bytes gets (its class), 0 when len > max_buf. */
uint32_t fw_tcp_buf_capacity(const struct fw_tcp_bufpool *p, uint32_t len);

/* A buffer of fw_tcp_buf_capacity(len) bytes, or NULL when allocating it would take the
 * pool above limit bytes (at most the budget) or the system is out of memory: wait for
 * fw_tcp_buf_put() and retry. */
void *fw_tcp_buf_get(struct fw_tcp_bufpool *p, uint32_t len, uint64_t limit);
void fw_tcp_buf_put(struct fw_tcp_bufpool *p, void *buf, uint32_t cap);

#endif
