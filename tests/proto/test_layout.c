/* Wire layouts against the specification's byte numbers, at run time as well as by the
 * headers' static asserts: sizes and field offsets of every structure proto defines, and of
 * the libnvme structures it relies on instead of redefining. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>
#include <nvme/types.h>

#include "insitu/proto/cqe.h"
#include "insitu/proto/fabrics.h"
#include "insitu/proto/nvme_cs.h"
#include "insitu/proto/pdu.h"
#include "insitu/proto/sqe.h"

struct layout {
	const char *what;
	size_t got;
	size_t spec;
};

#define SIZE(type, bytes) { "sizeof " #type, sizeof(type), (bytes) }
#define OFF(type, field, byte) { #type "." #field, offsetof(type, field), (byte) }

static const struct layout table[] = {
	/* NVMe/TCP, TCP transport spec figures 19-28 */
	SIZE(struct insitu_tcp_ch, 8),
	OFF(struct insitu_tcp_ch, hlen, 2),
	OFF(struct insitu_tcp_ch, pdo, 3),
	OFF(struct insitu_tcp_ch, plen, 4),
	SIZE(struct insitu_tcp_icreq, 128),
	OFF(struct insitu_tcp_icreq, pfv, 8),
	OFF(struct insitu_tcp_icreq, hpda, 10),
	OFF(struct insitu_tcp_icreq, dgst, 11),
	OFF(struct insitu_tcp_icreq, maxr2t, 12),
	SIZE(struct insitu_tcp_icresp, 128),
	OFF(struct insitu_tcp_icresp, cpda, 10),
	OFF(struct insitu_tcp_icresp, dgst, 11),
	OFF(struct insitu_tcp_icresp, maxh2cdata, 12),
	SIZE(struct insitu_tcp_term, 24),
	OFF(struct insitu_tcp_term, fes, 8),
	OFF(struct insitu_tcp_term, fei, 10),
	OFF(struct insitu_tcp_term, rsvd14, 14),
	SIZE(struct insitu_tcp_cmd, 72),
	OFF(struct insitu_tcp_cmd, sqe, 8),
	SIZE(struct insitu_tcp_rsp, 24),
	OFF(struct insitu_tcp_rsp, cqe, 8),
	SIZE(struct insitu_tcp_data, 24),
	OFF(struct insitu_tcp_data, cccid, 8),
	OFF(struct insitu_tcp_data, ttag, 10),
	OFF(struct insitu_tcp_data, datao, 12),
	OFF(struct insitu_tcp_data, datal, 16),
	SIZE(struct insitu_tcp_r2t, 24),
	OFF(struct insitu_tcp_r2t, r2to, 12),
	OFF(struct insitu_tcp_r2t, r2tl, 16),
	SIZE(union insitu_tcp_hdr, 128),
	/* SQE / CQE / SGL, base spec */
	SIZE(struct insitu_nvme_sqe, 64),
	OFF(struct insitu_nvme_sqe, cid, 2),
	OFF(struct insitu_nvme_sqe, nsid, 4),
	OFF(struct insitu_nvme_sqe, cdw2, 8),
	OFF(struct insitu_nvme_sqe, cdw4, 16),
	OFF(struct insitu_nvme_sqe, dptr, 24),
	OFF(struct insitu_nvme_sqe, cdw10, 40),
	OFF(struct insitu_nvme_sqe, cdw15, 60),
	SIZE(struct insitu_nvme_sgl, 16),
	OFF(struct insitu_nvme_sgl, length, 8),
	OFF(struct insitu_nvme_sgl, type, 15),
	SIZE(struct insitu_nvme_cqe, 16),
	OFF(struct insitu_nvme_cqe, sqhd, 8),
	OFF(struct insitu_nvme_cqe, sqid, 10),
	OFF(struct insitu_nvme_cqe, cid, 12),
	OFF(struct insitu_nvme_cqe, status, 14),
	/* Fabrics */
	SIZE(struct insitu_nvmf_connect_cmd, 64),
	OFF(struct insitu_nvmf_connect_cmd, fctype, 4),
	OFF(struct insitu_nvmf_connect_cmd, sgl, 24),
	OFF(struct insitu_nvmf_connect_cmd, qid, 42),
	OFF(struct insitu_nvmf_connect_cmd, sqsize, 44),
	OFF(struct insitu_nvmf_connect_cmd, cattr, 46),
	OFF(struct insitu_nvmf_connect_cmd, kato, 48),
	SIZE(struct insitu_nvmf_property_cmd, 64),
	OFF(struct insitu_nvmf_property_cmd, attrib, 40),
	OFF(struct insitu_nvmf_property_cmd, ofst, 44),
	OFF(struct insitu_nvmf_property_cmd, value, 48),
	/* CP / SLM [I] and vendor [O] */
	SIZE(struct insitu_cp_mem_range, 32),
	OFF(struct insitu_cp_mem_range, length, 4),
	OFF(struct insitu_cp_mem_range, sb, 8),
	SIZE(struct insitu_cp_program_desc, 64),
	OFF(struct insitu_cp_program_desc, ptype, 1),
	OFF(struct insitu_cp_program_desc, pid, 8),
	SIZE(struct insitu_cp_id_ns, 4096),
	OFF(struct insitu_cp_id_ns, mrsg, 4),
	OFF(struct insitu_cp_id_ns, maxmemr, 6),
	OFF(struct insitu_cp_id_ns, maxpb, 8),
	OFF(struct insitu_cp_id_ns, lpg, 16),
	SIZE(struct insitu_vs_job_log_hdr, 64),
	OFF(struct insitu_vs_job_log_hdr, njobs, 8),
	OFF(struct insitu_vs_job_log_hdr, esz, 12),
	OFF(struct insitu_vs_job_log_hdr, nrunning, 20),
	SIZE(struct insitu_vs_job_entry, 128),
	OFF(struct insitu_vs_job_entry, pind, 8),
	OFF(struct insitu_vs_job_entry, state, 10),
	OFF(struct insitu_vs_job_entry, status, 12),
	OFF(struct insitu_vs_job_entry, retval, 16),
	OFF(struct insitu_vs_job_entry, end_ts, 40),
	OFF(struct insitu_vs_job_entry, peak_mem, 80),
	OFF(struct insitu_vs_job_entry, exit_code, 88),
	OFF(struct insitu_vs_job_entry, cparam2, 104),
	SIZE(struct insitu_vs_telemetry_hdr, 512),
	OFF(struct insitu_vs_telemetry_hdr, timestamp, 8),
	OFF(struct insitu_vs_telemetry_hdr, load1, 28),
	OFF(struct insitu_vs_telemetry_hdr, mem_total, 40),
	OFF(struct insitu_vs_telemetry_hdr, host_read_bytes, 88),
	OFF(struct insitu_vs_telemetry_hdr, write_bps, 128),
	OFF(struct insitu_vs_telemetry_hdr, zero_blocks, 176),
	OFF(struct insitu_vs_telemetry_hdr, rsvd188, 188),
	SIZE(struct insitu_vs_prog_history, 64),
	OFF(struct insitu_vs_prog_history, runs, 8),
	OFF(struct insitu_vs_prog_history, last_status, 56),
	/* libnvme structures reused, not redefined */
	SIZE(struct nvme_id_ctrl, 4096),
	SIZE(struct nvme_id_ns, 4096),
	SIZE(struct nvme_smart_log, 512),
	SIZE(struct nvme_error_log_page, 64),
	SIZE(struct nvme_cmd_effects_log, 4096),
	SIZE(struct nvme_id_iocs, 4096),
	SIZE(struct nvmf_connect_data, 1024),
	OFF(struct nvmf_connect_data, cntlid, 16),
	OFF(struct nvmf_connect_data, subsysnqn, 256),
	OFF(struct nvmf_connect_data, hostnqn, 512),
	OFF(struct nvme_id_ctrl, ioccsz, 1792),
	OFF(struct nvme_id_ctrl, subnqn, 768),
};

static void layouts_match_the_spec(void **state)
{
	unsigned bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (table[i].got != table[i].spec) {
			print_error("%s is %zu, the spec says %zu\n", table[i].what, table[i].got,
				    table[i].spec);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(layouts_match_the_spec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
