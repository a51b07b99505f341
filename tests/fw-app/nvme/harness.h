/* A transport in miniature for the command-layer tests: it builds SQEs with the proto helpers,
 * hands over 4 KiB-aligned buffers, waits on the subsystem's event fd and polls it until the
 * command's done() ran, and records every close() the command layer asks for. */
#ifndef FW_NVME_TEST_HARNESS_H
#define FW_NVME_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "command.h"
#include "config.h"
#include "insitu/proto/fabrics.h"

#define H_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001"

struct h_env {
	char dir[256];
	char flash[300];
	struct fw_config cfg;
	struct fw_subsys *s;
};

struct h_queue {
	struct h_env *env;
	struct fw_queue *q;
	int closes;
	char reason[128];
};

struct h_cmd {
	struct fw_cmd cmd;
	int dones;
	uint8_t *buf;
	uint16_t status;      /* of prepare, or of the completion */
	bool prepared_fail;
};

/* Temp dir + flash file path; cfg defaults with a small volume. No subsystem yet. */
void h_env_init(struct h_env *e, bool dedup);
/* fw_subsys_create; returns its result (err printed on failure). */
int h_env_start(struct h_env *e);
/* Destroys the subsystem (must succeed) and removes the temp dir. */
void h_env_fini(struct h_env *e);

struct h_queue *h_queue_new(struct h_env *e, bool discovery_port);
/* fw_queue_abort + fw_queue_destroy, as a transport does when the connection ends. */
void h_queue_end(struct h_queue *hq);

/* Prepare + execute; data (len bytes) is the H2C data, or NULL. Returns the command; its
 * status is set once done() ran (h_wait). buf_len is the SGL length. */
struct h_cmd *h_start(struct h_queue *hq, const struct insitu_nvme_sqe *sqe, const void *data,
		      uint32_t buf_len);
/* Polls the subsystem until cmd completed; aborts the test after 10 s. */
void h_wait(struct h_env *e, struct h_cmd *c);
/* Start + wait; out gets the C2H data (xfer_len bytes) when not NULL. Returns the status. */
uint16_t h_run(struct h_queue *hq, const struct insitu_nvme_sqe *sqe, const void *data,
	       uint32_t buf_len, void *out, struct insitu_nvme_cqe *cqe);
void h_cmd_free(struct h_cmd *c);

/* Connect the admin queue (CNTLID FFFFh); returns the status, *cntlid on success. */
uint16_t h_connect_admin(struct h_queue *hq, const char *subnqn, const char *hostnqn,
			 uint16_t sqsize, uint32_t kato, uint16_t *cntlid);
uint16_t h_connect_io(struct h_queue *hq, uint16_t qid, uint16_t cntlid, const char *hostnqn,
		      uint16_t sqsize, uint8_t cattr, struct insitu_nvme_cqe *cqe);
uint16_t h_prop_get(struct h_queue *hq, uint32_t ofst, bool size8, uint64_t *val);
uint16_t h_prop_set(struct h_queue *hq, uint32_t ofst, uint32_t val);
/* Connect + enable (CC = EN | IOSQES 6 | IOCQES 4); returns the controller ID. */
uint16_t h_admin_ready(struct h_queue *hq);
/* A ready controller with one I/O queue: the admin queue in *admin, the I/O queue returned. */
struct h_queue *h_io_ready(struct h_env *e, struct h_queue **admin);

uint16_t h_identify(struct h_queue *hq, uint8_t cns, uint32_t nsid, uint8_t csi, void *out);
uint16_t h_get_log(struct h_queue *hq, uint8_t lid, uint32_t nsid, uint64_t lpo, uint32_t len,
		   void *out);
uint16_t h_features(struct h_queue *hq, bool set, uint8_t fid, uint32_t cdw11, uint32_t *dw0);
uint16_t h_rw(struct h_queue *hq, bool write, uint64_t slba, uint32_t nblocks, bool fua,
	      void *data);

extern uint16_t h_next_cid;

#endif
