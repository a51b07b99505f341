/* The one header of NVMe values libnvme 1.3 lacks: the Computational Programs (CP, CSI 4)
 * and Subsystem Local Memory (SLM, CSI 3) command sets, and every insitu vendor extension
 * (program type, opcodes, log pages, asynchronous event, status codes). Each value is
 * tagged: [S] spec text, [K] Linux kernel / upstream libnvme, [I] third-party CP/SLM
 * implementations (to check against the CP/SLM specs), [O] ours, in vendor ranges only.
 * DESIGN.md explains the choices. */
#ifndef INSITU_PROTO_NVME_CS_H
#define INSITU_PROTO_NVME_CS_H

#include <stdbool.h>
#include <stdint.h>

#include "insitu/proto/sqe.h"
#include "insitu/proto/wire.h"

/* ---- identifiers --------------------------------------------------------------------- */

/** Command Set Identifiers (libnvme >= 1.9 names them NVME_CSI_SLM/NVME_CSI_CP) [K] */
#define INSITU_CSI_SLM 0x03
#define INSITU_CSI_CP  0x04

/** Identify I/O Command Set data structure, I/O Command Set Combination vector bits [K] */
#define INSITU_IOCS_NVM (1ull << 0)
#define INSITU_IOCS_KV  (1ull << 1)
#define INSITU_IOCS_ZNS (1ull << 2)
#define INSITU_IOCS_SLM (1ull << 3)
#define INSITU_IOCS_CP  (1ull << 4)

/** Vendor-specific ranges of the base specification [S] */
#define INSITU_VS_ADMIN_OPC_FIRST 0xC0
#define INSITU_VS_IO_OPC_FIRST    0x80
#define INSITU_VS_LID_FIRST       0xC0
#define INSITU_VS_SCT             0x7	/* Status Code Type: Vendor Specific */
#define INSITU_VS_AEN_TYPE        0x7	/* Asynchronous Event Type: Vendor Specific */

/* ---- opcodes ------------------------------------------------------------------------- */

/**
 * enum insitu_cs_admin_opcode - admin opcodes of the CP command set and ours
 * @INSITU_ADMIN_LOAD_PROGRAM:     85h, Load Program (data 01b) [K]
 * @INSITU_ADMIN_PROGRAM_ACT_MGMT: 88h, Program Activation Management (no data) [K]
 * @INSITU_ADMIN_MEM_RANGE_SET_MGMT: 89h, Memory Range Set Management (data 01b) [K]
 * @INSITU_ADMIN_VS_JOB_MGMT:      C0h, Job Management: abort or release a job (no data) [O]
 */
enum insitu_cs_admin_opcode {
	INSITU_ADMIN_LOAD_PROGRAM       = 0x85,
	INSITU_ADMIN_PROGRAM_ACT_MGMT   = 0x88,
	INSITU_ADMIN_MEM_RANGE_SET_MGMT = 0x89,
	INSITU_ADMIN_VS_JOB_MGMT        = 0xC0,
};

/**
 * enum insitu_cp_opcode - I/O opcodes of a compute namespace (CSI 4)
 * @INSITU_CP_EXECUTE_PROGRAM:  01h, Execute Program, synchronous (data 01b) [I]
 * @INSITU_CP_VS_EXECUTE_DETACHED: 81h, Execute Program Detached: same fields, completes at
 *                              once with the job id in CQE DW0 (data 01b) [O]
 */
enum insitu_cp_opcode {
	INSITU_CP_EXECUTE_PROGRAM     = 0x01,
	INSITU_CP_VS_EXECUTE_DETACHED = 0x81,
};

/**
 * enum insitu_slm_opcode - I/O opcodes of a memory namespace (CSI 3) [I]
 * @INSITU_SLM_MEMORY_COPY:  01h, copy into device memory (data 01b: source descriptors)
 * @INSITU_SLM_MEMORY_READ:  02h, device memory to host (data 10b)
 * @INSITU_SLM_MEMORY_FILL:  04h, fill device memory (no data)
 * @INSITU_SLM_MEMORY_WRITE: 05h, host to device memory (data 01b)
 */
enum insitu_slm_opcode {
	INSITU_SLM_MEMORY_COPY  = 0x01,
	INSITU_SLM_MEMORY_READ  = 0x02,
	INSITU_SLM_MEMORY_FILL  = 0x04,
	INSITU_SLM_MEMORY_WRITE = 0x05,
};

/* ---- log pages ----------------------------------------------------------------------- */

/**
 * enum insitu_cs_log_id - log page identifiers
 * @INSITU_LOG_REACHABILITY_GROUPS:       1Ah [S Base 2.2 Fig. 31][K]
 * @INSITU_LOG_REACHABILITY_ASSOCIATIONS: 1Bh [S][K]
 * @INSITU_LOG_PROGRAM_LIST:              82h, entries are struct insitu_cp_program_desc [S]
 * @INSITU_LOG_DOWNLOADABLE_PROGRAM_TYPES: 83h [S]
 * @INSITU_LOG_MEMORY_RANGE_SET_LIST:     84h [S]
 * @INSITU_LOG_VS_JOB_STATUS:             C0h, jobs of Execute Program Detached [O]
 * @INSITU_LOG_VS_TELEMETRY:              C1h, device telemetry for schedulers [O]
 */
enum insitu_cs_log_id {
	INSITU_LOG_REACHABILITY_GROUPS        = 0x1A,
	INSITU_LOG_REACHABILITY_ASSOCIATIONS  = 0x1B,
	INSITU_LOG_PROGRAM_LIST               = 0x82,
	INSITU_LOG_DOWNLOADABLE_PROGRAM_TYPES = 0x83,
	INSITU_LOG_MEMORY_RANGE_SET_LIST      = 0x84,
	INSITU_LOG_VS_JOB_STATUS              = 0xC0,
	INSITU_LOG_VS_TELEMETRY               = 0xC1,
};

/* ---- program types ------------------------------------------------------------------- */

/** Program Type values C0h..FFh are vendor specific [I] */
#define INSITU_CP_PTYPE_VS_FIRST 0xC0
/**
 * INSITU_CP_PTYPE_VS_OCI_TAR - program = an OCI image layout as a tar stream [O].
 * Its PID is the first 8 bytes of the image manifest's sha256 digest, big-endian.
 */
#define INSITU_CP_PTYPE_VS_OCI_TAR 0xC0

/* ---- status codes -------------------------------------------------------------------- */

/**
 * enum insitu_vs_status_code - Status Codes of SCT 7h (Vendor Specific) [O]
 * @INSITU_VS_SC_JOB_NOT_FOUND:    no job with that id in the compute namespace
 * @INSITU_VS_SC_JOB_QUEUE_FULL:   the job queue cannot take another job; retry later
 * @INSITU_VS_SC_JOB_RUNNING:      the job has not finished; its record cannot be released
 * @INSITU_VS_SC_PROGRAM_INVALID:  the loaded program image was rejected (layout, digest)
 * @INSITU_VS_SC_SANDBOX_FAILURE:  the program's sandbox could not be set up
 * @INSITU_VS_SC_PROGRAM_FAILED:   the program ran and failed (exit code in log C0h)
 */
enum insitu_vs_status_code {
	INSITU_VS_SC_JOB_NOT_FOUND   = 0x01,
	INSITU_VS_SC_JOB_QUEUE_FULL  = 0x02,
	INSITU_VS_SC_JOB_RUNNING     = 0x03,
	INSITU_VS_SC_PROGRAM_INVALID = 0x04,
	INSITU_VS_SC_SANDBOX_FAILURE = 0x05,
	INSITU_VS_SC_PROGRAM_FAILED  = 0x06,
};

/* ---- asynchronous event -------------------------------------------------------------- */

/** Asynchronous Event Information for vendor events: a job reached a final state [O] */
#define INSITU_VS_AEN_INFO_JOB_DONE 0x01

/**
 * insitu_vs_aen_job_done() - CQE DW0 of the Asynchronous Event Request completion that
 * reports finished jobs: type 7h (bits 2:0), information 01h (15:8), log page C0h (23:16)
 */
static inline uint32_t insitu_vs_aen_job_done(void)
{
	return ((uint32_t)INSITU_LOG_VS_JOB_STATUS << 16) |
	       ((uint32_t)INSITU_VS_AEN_INFO_JOB_DONE << 8) | INSITU_VS_AEN_TYPE;
}

/* ---- command fields (host order) and their SQE encoding -------------------------------- */

/**
 * struct insitu_cp_load_program - Load Program (85h) fields [I]
 * @pind:   Program Index (CDW10 15:0)
 * @ptype:  Program Type (CDW10 23:16)
 * @unload: SEL, CDW10 bit 24: 0 load, 1 unload
 * @pit:    Program Identifier Type (CDW10 27:25)
 * @psize:  Program Size in bytes (CDW11)
 * @pid:    Program Identifier (CDW12-13)
 * @numb:   Number of Bytes in this chunk (CDW14); the chunk is the command's data
 * @loff:   Load Offset of this chunk in the program (CDW15)
 */
struct insitu_cp_load_program {
	uint16_t pind;
	uint8_t  ptype;
	bool     unload;
	uint8_t  pit;
	uint32_t psize;
	uint64_t pid;
	uint32_t numb;
	uint32_t loff;
};

/**
 * struct insitu_cp_program_act - Program Activation Management (88h) fields [I]
 * @pind:     Program Index (CDW10 15:0)
 * @activate: SEL (CDW10 19:16): 1 activate, 0 deactivate
 */
struct insitu_cp_program_act {
	uint16_t pind;
	bool     activate;
};

/**
 * struct insitu_cp_mrs_mgmt - Memory Range Set Management (89h) fields [I]
 * @sel:  Select (CDW10 3:0): INSITU_CP_MRS_CREATE or INSITU_CP_MRS_DELETE
 * @rsid: Memory Range Set Identifier (CDW10 31:16); a create returns the new one in DW0
 * @numr: Number of Memory Ranges that follow as data (CDW11 7:0)
 */
struct insitu_cp_mrs_mgmt {
	uint8_t  sel;
	uint16_t rsid;
	uint8_t  numr;
};
#define INSITU_CP_MRS_CREATE 0x0
#define INSITU_CP_MRS_DELETE 0x1

/**
 * struct insitu_cp_execute - Execute Program (01h) and Execute Program Detached (81h) [I]
 * @pind:    Program Index (CDW2 15:0)
 * @rsid:    Memory Range Set Identifier (CDW2 31:16), 0 = none
 * @numr:    Number of Memory Ranges (CDW3)
 * @dlen:    Data Length of the parameter data in DPTR (CDW4)
 * @cparam1: Computational Parameter 1 (CDW10-11)
 * @cparam2: Computational Parameter 2 (CDW12-13)
 */
struct insitu_cp_execute {
	uint16_t pind;
	uint16_t rsid;
	uint32_t numr;
	uint32_t dlen;
	uint64_t cparam1;
	uint64_t cparam2;
};

/**
 * struct insitu_slm_mem_rw - Memory Read/Write/Fill fields [I]
 * @sb:      Starting Byte in the memory namespace (CDW10-11)
 * @length:  Length in bytes (CDW12)
 * @pattern: Fill only: 32-bit pattern (CDW13) [U: not in the sources]
 */
struct insitu_slm_mem_rw {
	uint64_t sb;
	uint32_t length;
	uint32_t pattern;
};

/**
 * struct insitu_vs_job_mgmt - Job Management (C0h) fields [O]
 * @sel:   CDW10 3:0: INSITU_VS_JOB_ABORT or INSITU_VS_JOB_RELEASE
 * @jobid: CDW11
 */
struct insitu_vs_job_mgmt {
	uint8_t  sel;
	uint32_t jobid;
};
#define INSITU_VS_JOB_ABORT   0x0
#define INSITU_VS_JOB_RELEASE 0x1

/*
 * Encoders clear @sqe, set opcode, CID, NSID, PSDT = SGL, and the fields; DPTR is the
 * caller's (insitu_sqe_set_sgl_*). Decoders read an SQE of that opcode, and return -EINVAL
 * when the opcode differs or a field holds a value its command does not define.
 */
void insitu_cp_load_program_encode(struct insitu_nvme_sqe *sqe, uint16_t cid, uint32_t nsid,
				   const struct insitu_cp_load_program *a);
int insitu_cp_load_program_decode(const struct insitu_nvme_sqe *sqe, struct insitu_cp_load_program *a);
void insitu_cp_program_act_encode(struct insitu_nvme_sqe *sqe, uint16_t cid, uint32_t nsid,
				  const struct insitu_cp_program_act *a);
int insitu_cp_program_act_decode(const struct insitu_nvme_sqe *sqe, struct insitu_cp_program_act *a);
void insitu_cp_mrs_mgmt_encode(struct insitu_nvme_sqe *sqe, uint16_t cid, uint32_t nsid,
			       const struct insitu_cp_mrs_mgmt *a);
int insitu_cp_mrs_mgmt_decode(const struct insitu_nvme_sqe *sqe, struct insitu_cp_mrs_mgmt *a);
/* @opc: INSITU_CP_EXECUTE_PROGRAM or INSITU_CP_VS_EXECUTE_DETACHED */
void insitu_cp_execute_encode(struct insitu_nvme_sqe *sqe, uint8_t opc, uint16_t cid, uint32_t nsid,
			      const struct insitu_cp_execute *a);
int insitu_cp_execute_decode(const struct insitu_nvme_sqe *sqe, struct insitu_cp_execute *a);
/* @opc: one of enum insitu_slm_opcode except Memory Copy */
void insitu_slm_mem_rw_encode(struct insitu_nvme_sqe *sqe, uint8_t opc, uint16_t cid, uint32_t nsid,
			      const struct insitu_slm_mem_rw *a);
int insitu_slm_mem_rw_decode(const struct insitu_nvme_sqe *sqe, struct insitu_slm_mem_rw *a);
void insitu_vs_job_mgmt_encode(struct insitu_nvme_sqe *sqe, uint16_t cid, uint32_t nsid,
			       const struct insitu_vs_job_mgmt *a);
int insitu_vs_job_mgmt_decode(const struct insitu_nvme_sqe *sqe, struct insitu_vs_job_mgmt *a);

/* ---- data structures ----------------------------------------------------------------- */

/**
 * struct insitu_cp_mem_range - Memory Range descriptor (32 bytes), the data of Memory Range
 * Set Management [I]
 * @mnsid:  Memory Namespace ID (an SLM namespace)
 * @length: Length in bytes
 * @sb:     Starting Byte
 * @rsvd16: Reserved
 */
struct insitu_cp_mem_range {
	__le32 mnsid;
	__le32 length;
	__le64 sb;
	__u8   rsvd16[16];
} INSITU_PACKED;
INSITU_ASSERT_SIZE(struct insitu_cp_mem_range, 32);

/**
 * struct insitu_cp_program_desc - Program Descriptor (64 bytes), an entry of log 82h [I]
 * @attr:   PEOCC bits 1:0 (index occupied), ACT bit 2 (activated), PIT bits 5:3
 * @ptype:  Program Type
 * @rsvd2:  Reserved
 * @pid:    Program Identifier
 * @rsvd16: Reserved
 */
struct insitu_cp_program_desc {
	__u8   attr;
	__u8   ptype;
	__u8   rsvd2[6];
	__le64 pid;
	__u8   rsvd16[48];
} INSITU_PACKED;
INSITU_ASSERT_SIZE(struct insitu_cp_program_desc, 64);
#define INSITU_CP_PD_PEOCC_MASK 0x03
#define INSITU_CP_PD_ACT        0x04
#define INSITU_CP_PD_PIT_SHIFT  3
#define INSITU_CP_PD_PIT_MASK   0x7

/**
 * struct insitu_cp_id_ns - Identify Namespace, I/O command set specific, CSI 4 (4096 bytes) [I]
 * @maxact:   Maximum Activated Programs
 * @maxmemrs: Maximum Number of Memory Range Sets
 * @mrsg:     Memory Range Size Granularity, 2^n bytes
 * @maxmemr:  Maximum Number of Ranges in a Memory Range Set
 * @rsvd7:    Reserved
 * @maxpb:    Maximum bytes of all downloaded programs, in MiB
 * @lpg:      Load Program Granularity, 2^n bytes
 * @rsvd17:   Reserved
 */
struct insitu_cp_id_ns {
	__le16 maxact;
	__le16 maxmemrs;
	__le16 mrsg;
	__u8   maxmemr;
	__u8   rsvd7;
	__le64 maxpb;
	__u8   lpg;
	__u8   rsvd17[4079];
} INSITU_PACKED;
INSITU_ASSERT_SIZE(struct insitu_cp_id_ns, 4096);
INSITU_ASSERT_OFFSET(struct insitu_cp_id_ns, maxpb, 8);
INSITU_ASSERT_OFFSET(struct insitu_cp_id_ns, lpg, 16);

/**
 * enum insitu_vs_job_state - STATE of a job record [O]
 * @INSITU_VS_JOB_QUEUED:    accepted, waiting for a CPU slot
 * @INSITU_VS_JOB_RUNNING:   the program runs; PROGRESS and WORK_DONE move
 * @INSITU_VS_JOB_COMPLETED: finished, STATUS success, RETVAL valid
 * @INSITU_VS_JOB_FAILED:    finished with an error STATUS
 * @INSITU_VS_JOB_ABORTED:   stopped by Job Management or a controller reset
 */
enum insitu_vs_job_state {
	INSITU_VS_JOB_QUEUED    = 1,
	INSITU_VS_JOB_RUNNING   = 2,
	INSITU_VS_JOB_COMPLETED = 3,
	INSITU_VS_JOB_FAILED    = 4,
	INSITU_VS_JOB_ABORTED   = 5,
};
#define INSITU_VS_JOB_PROGRESS_UNKNOWN 0xFF

/**
 * struct insitu_vs_job_log_hdr - Job Status log (C0h) header (64 bytes) [O]
 * @genctr:   Generation Counter: changes whenever any record changes
 * @njobs:    number of job records that follow
 * @esz:      size of one record (128)
 * @ver:      layout version (1)
 * @nqueued:  jobs queued
 * @nrunning: jobs running
 * @rsvd24:   Reserved
 */
struct insitu_vs_job_log_hdr {
	__le64 genctr;
	__le32 njobs;
	__le16 esz;
	__le16 ver;
	__le32 nqueued;
	__le32 nrunning;
	__u8   rsvd24[40];
} INSITU_PACKED;
INSITU_ASSERT_SIZE(struct insitu_vs_job_log_hdr, 64);

/**
 * struct insitu_vs_job_entry - one job record of log C0h (128 bytes) [O]
 * @jobid:      job id, as returned in DW0 of Execute Program Detached (never 0)
 * @nsid:       compute namespace
 * @pind:       Program Index
 * @state:      enum insitu_vs_job_state
 * @progress:   percent done 0..100, FFh unknown
 * @status:     status field the job finished with (libnvme encoding); 0 while running
 * @rsid:       Memory Range Set the job used
 * @retval:     program return value (as Execute Program's CQE DW0-1)
 * @submit_ts:  ms since the Unix epoch
 * @start_ts:   ms since the Unix epoch, 0 while queued
 * @end_ts:     ms since the Unix epoch, 0 until final
 * @work_done:  input bytes consumed
 * @work_total: input bytes to consume, 0 when unknown
 * @bytes_out:  bytes written by the program
 * @cpu_us:     CPU time used, microseconds
 * @peak_mem:   peak memory, bytes
 * @exit_code:  process exit status; 128 + n for signal n
 * @rsvd92:     Reserved
 * @cparam1:    CPARAM1 of the command
 * @cparam2:    CPARAM2 of the command
 * @rsvd112:    Reserved
 */
struct insitu_vs_job_entry {
	__le32 jobid;
	__le32 nsid;
	__le16 pind;
	__u8   state;
	__u8   progress;
	__le16 status;
	__le16 rsid;
	__le64 retval;
	__le64 submit_ts;
	__le64 start_ts;
	__le64 end_ts;
	__le64 work_done;
	__le64 work_total;
	__le64 bytes_out;
	__le64 cpu_us;
	__le64 peak_mem;
	__le32 exit_code;
	__u8   rsvd92[4];
	__le64 cparam1;
	__le64 cparam2;
	__u8   rsvd112[16];
} INSITU_PACKED;
INSITU_ASSERT_SIZE(struct insitu_vs_job_entry, 128);
INSITU_ASSERT_OFFSET(struct insitu_vs_job_entry, retval, 16);
INSITU_ASSERT_OFFSET(struct insitu_vs_job_entry, exit_code, 88);
INSITU_ASSERT_OFFSET(struct insitu_vs_job_entry, cparam1, 96);

/**
 * struct insitu_vs_telemetry_hdr - Telemetry log (C1h) header (512 bytes) [O]
 * @ver:               layout version (1)
 * @hsz:               header size (512)
 * @psz:               size of one program history entry (64)
 * @nprog:             program history entries that follow the header
 * @timestamp:         ms since the Unix epoch when the figures were taken
 * @uptime_ms:         daemon uptime
 * @ncpu:              CPUs of the device
 * @cpu_busy:          CPU busy over the last interval, 0.01 % units (0..10000)
 * @load1:             1-minute load average x 100
 * @cpu_time_ms:       CPU time used by jobs since start
 * @mem_total:         bytes of RAM
 * @mem_avail:         bytes available
 * @mem_jobs:          bytes used by running jobs
 * @jobs_running:      jobs running now
 * @jobs_queued:       jobs queued now
 * @jobs_done:         jobs completed successfully since start
 * @jobs_failed:       jobs failed or aborted since start
 * @host_read_bytes:   bytes read by hosts since start
 * @host_write_bytes:  bytes written by hosts since start
 * @flash_read_bytes:  bytes read from flash since start
 * @flash_write_bytes: bytes written to flash since start
 * @read_bps:          host read rate over the last interval, bytes/s
 * @write_bps:         host write rate over the last interval, bytes/s
 * @cap_bytes:         physical capacity
 * @phys_used:         physical bytes in use
 * @logical_used:      logical bytes stored by hosts
 * @unique_blocks:     distinct 4 KiB blocks stored
 * @dedup_hits:        block writes absorbed by deduplication
 * @zero_blocks:       zero blocks elided
 * @dedup_ratio:       logical / physical x 1000
 * @rsvd188:           Reserved
 */
struct insitu_vs_telemetry_hdr {
	__le16 ver;
	__le16 hsz;
	__le16 psz;
	__le16 nprog;
	__le64 timestamp;
	__le64 uptime_ms;
	__le16 ncpu;
	__le16 cpu_busy;
	__le32 load1;
	__le64 cpu_time_ms;
	__le64 mem_total;
	__le64 mem_avail;
	__le64 mem_jobs;
	__le32 jobs_running;
	__le32 jobs_queued;
	__le64 jobs_done;
	__le64 jobs_failed;
	__le64 host_read_bytes;
	__le64 host_write_bytes;
	__le64 flash_read_bytes;
	__le64 flash_write_bytes;
	__le64 read_bps;
	__le64 write_bps;
	__le64 cap_bytes;
	__le64 phys_used;
	__le64 logical_used;
	__le64 unique_blocks;
	__le64 dedup_hits;
	__le64 zero_blocks;
	__le32 dedup_ratio;
	__u8   rsvd188[324];
} INSITU_PACKED;
INSITU_ASSERT_SIZE(struct insitu_vs_telemetry_hdr, 512);
INSITU_ASSERT_OFFSET(struct insitu_vs_telemetry_hdr, ncpu, 24);
INSITU_ASSERT_OFFSET(struct insitu_vs_telemetry_hdr, jobs_running, 64);
INSITU_ASSERT_OFFSET(struct insitu_vs_telemetry_hdr, cap_bytes, 136);
INSITU_ASSERT_OFFSET(struct insitu_vs_telemetry_hdr, dedup_ratio, 184);

/**
 * struct insitu_vs_prog_history - per-program entry of log C1h (64 bytes) [O]
 * @pind:        Program Index
 * @ptype:       Program Type
 * @flags:       bit 0 loaded, bit 1 activated
 * @rsvd4:       Reserved
 * @runs:        executions since load
 * @failures:    executions that failed
 * @run_time_ms: total run time
 * @last_end_ts: ms since the Unix epoch of the last execution's end
 * @bytes_in:    input bytes over all executions
 * @bytes_out:   output bytes over all executions
 * @last_status: status field of the last execution
 * @rsvd58:      Reserved
 */
struct insitu_vs_prog_history {
	__le16 pind;
	__u8   ptype;
	__u8   flags;
	__u8   rsvd4[4];
	__le64 runs;
	__le64 failures;
	__le64 run_time_ms;
	__le64 last_end_ts;
	__le64 bytes_in;
	__le64 bytes_out;
	__le16 last_status;
	__u8   rsvd58[6];
} INSITU_PACKED;
INSITU_ASSERT_SIZE(struct insitu_vs_prog_history, 64);
#define INSITU_VS_PROG_LOADED 0x01
#define INSITU_VS_PROG_ACTIVE 0x02

/* Vendor values must stay in vendor ranges. */
_Static_assert(INSITU_ADMIN_VS_JOB_MGMT >= INSITU_VS_ADMIN_OPC_FIRST, "vendor admin opcode");
_Static_assert(INSITU_CP_VS_EXECUTE_DETACHED >= INSITU_VS_IO_OPC_FIRST, "vendor I/O opcode");
_Static_assert(INSITU_LOG_VS_JOB_STATUS >= INSITU_VS_LID_FIRST, "vendor log page");
_Static_assert(INSITU_LOG_VS_TELEMETRY >= INSITU_VS_LID_FIRST, "vendor log page");
_Static_assert(INSITU_CP_PTYPE_VS_OCI_TAR >= INSITU_CP_PTYPE_VS_FIRST, "vendor program type");
/* Opcode bits 1:0 declare the data direction; ours must declare what they move. */
_Static_assert((INSITU_ADMIN_VS_JOB_MGMT & 3) == INSITU_DIR_NONE, "Job Management moves no data");
_Static_assert((INSITU_CP_VS_EXECUTE_DETACHED & 3) == INSITU_DIR_TO_CTRL,
	       "Execute Program Detached carries parameter data to the controller");

#endif
