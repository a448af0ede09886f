/*
 * nvme plugin internals: the controller state shared by the register file
 * and queues (nvme.c) and the command set (nvme-cmd.c).
 */
#ifndef NVME_H
#define NVME_H

#include <sys/uio.h>
#include <tessera/tessera.h>

#define NVME_MAX_IOQ 64               /* I/O queue pairs */
#define NVME_MAX_Q (NVME_MAX_IOQ + 1) /* plus the admin pair */
#define NVME_MAX_NS 16
#define NVME_MQES 0x7ff               /* CAP.MQES: 2048 entries (0's based) */
#define NVME_AERL 3                   /* four outstanding AERs (0's based) */
#define NVME_SQES 64
#define NVME_CQES 16
#define NVME_MAX_MDTS 10              /* 4 MiB at 4 KiB pages */

/* Status codes: SCT << 8 | SC (NVMe 1.4 section 4.6.1.2). */
#define SC_SUCCESS 0x0000
#define SC_INVALID_OPCODE 0x0001
#define SC_INVALID_FIELD 0x0002
#define SC_DATA_XFER_ERROR 0x0004
#define SC_INTERNAL 0x0006
#define SC_INVALID_NSID 0x000b
#define SC_PRP_OFFSET_INVALID 0x0013
#define SC_NS_WRITE_PROTECTED 0x0020
#define SC_LBA_RANGE 0x0080
#define SC_CQ_INVALID 0x0100
#define SC_INVALID_QID 0x0101
#define SC_INVALID_QSIZE 0x0102
#define SC_AER_LIMIT 0x0105
#define SC_INVALID_VECTOR 0x0108
#define SC_INVALID_LOG_PAGE 0x0109
#define SC_INVALID_QUEUE_DELETION 0x010c
#define SC_FEAT_NOT_SAVEABLE 0x010d
#define SC_COMPARE_FAILURE 0x0285
#define SC_DNR 0x4000
#define SC_ASYNC 0xffff /* internal: the command completes later */

typedef struct nvme_ctrl nvme_ctrl;

typedef struct nvme_ns {
    tes_device *dev; /* the nvme-ns device; NULL for the controller's drive= */
    nvme_ctrl *n;
    tes_drive *drive;
    uint32_t nsid;
    uint32_t lbs;    /* logical_block_size property */
    uint32_t lbads;  /* log2 of the block size */
    uint64_t nlbas;
    bool ro;
} nvme_ns;

/* One command between fetch and completion. */
typedef struct nvme_req {
    nvme_ctrl *n;
    struct nvme_req *next; /* free list */
    nvme_ns *ns;
    uint16_t sqid, cid;
    uint16_t status;
    uint8_t opcode;
    bool to_guest;    /* data moves device -> guest memory (mapped for write) */
    uint32_t result;  /* CQE dword 0 */
    uint32_t pending; /* backend requests outstanding */
    uint64_t bytes;
    uint8_t *bounce;  /* compare, DSM ranges */
    unsigned niov, maxiov;
    struct iovec iov[];
} nvme_req;

struct nvme_ctrl {
    tes_device *dev;
    tes_bus *bus;
    /* properties */
    tes_drive *drive;
    char *serial;
    uint32_t max_ioqpairs, num_queues, msix_qsize, lbs;
    uint8_t mdts;
    /* registers (NVMe 1.4 section 3.1) */
    uint32_t cc, csts, aqa, intms;
    uint64_t asq, acq;
    /* queues, structure of arrays so the state table declares them */
    uint64_t sq_base[NVME_MAX_Q], cq_base[NVME_MAX_Q];
    uint32_t sq_size[NVME_MAX_Q], sq_head[NVME_MAX_Q], sq_tail[NVME_MAX_Q];
    uint32_t cq_size[NVME_MAX_Q], cq_head[NVME_MAX_Q], cq_tail[NVME_MAX_Q];
    uint16_t sq_cqid[NVME_MAX_Q], cq_vector[NVME_MAX_Q];
    uint8_t sq_valid[NVME_MAX_Q], cq_valid[NVME_MAX_Q], cq_phase[NVME_MAX_Q];
    uint8_t cq_ien[NVME_MAX_Q];
    /* features (section 5.21.1) */
    uint32_t feat_wce, feat_coalesce, feat_aec, feat_temp, feat_errrec;
    /* asynchronous events (section 5.2) */
    uint16_t aer_cid[NVME_AERL + 1];
    uint32_t aer_count;
    uint32_t aen_queue[8]; /* CQE dword 0 of events not yet reported */
    uint32_t aen_count;
    uint32_t aen_masked;   /* event types reported and not yet cleared */
    /* SMART / health counters (section 5.14.1.2) */
    uint64_t sectors_read, sectors_written, read_cmds, write_cmds;
    uint64_t err_count;
    /* run time, not migrated (zero once drained) */
    uint32_t cq_inflight[NVME_MAX_Q];
    /* MSI-X coalescing: a message went out for this CQ and the host has not
     * written its head doorbell since (nvme.c cq_notify). */
    uint8_t cq_irq_sent[NVME_MAX_Q];
    /* An SQ of this CQ stopped fetching for want of room in it. */
    uint8_t cq_stalled[NVME_MAX_Q];
    nvme_ns ns1;
    nvme_ns *ns[NVME_MAX_NS + 1];
    nvme_req *free_reqs;
    unsigned max_iov;
    bool resetting;
    nvme_ctrl *next_ctrl; /* realized controllers: serials are unique */
};

extern const tes_host *H;

/* nvme.c */
void nvme_guest_error(nvme_ctrl *n, const char *fmt, ...) TES_PRINTF(2, 3);
uint32_t nvme_page_size(nvme_ctrl *n);
/* Complete a fetched command (status/result in req) and free it. */
void nvme_complete(nvme_req *r);
/* Return a request to the pool without completing it. */
void nvme_req_free(nvme_req *r);
bool nvme_sq_create(nvme_ctrl *n, uint16_t qid, uint64_t base, uint32_t size, uint16_t cqid);
void nvme_sq_delete(nvme_ctrl *n, uint16_t qid);
void nvme_cq_create(nvme_ctrl *n, uint16_t qid, uint64_t base, uint32_t size, uint16_t vector,
                    bool ien);
void nvme_drain(nvme_ctrl *n);
void nvme_aer_post(nvme_ctrl *n);
void nvme_aen_raise(nvme_ctrl *n, uint8_t type, uint8_t info, uint8_t log);
nvme_ns *nvme_ns_get(nvme_ctrl *n, uint32_t nsid);

/* nvme-cmd.c: execute one fetched command; SC_ASYNC when it completes later. */
uint16_t nvme_admin_cmd(nvme_req *r, const uint8_t *sqe);
uint16_t nvme_io_cmd(nvme_req *r, const uint8_t *sqe);

static inline uint32_t nvme_le32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t nvme_le64(const uint8_t *p)
{
    return nvme_le32(p) | (uint64_t)nvme_le32(p + 4) << 32;
}

static inline void nvme_put16(uint8_t *p, uint16_t v)
{
    p[0] = v;
    p[1] = v >> 8;
}

static inline void nvme_put32(uint8_t *p, uint32_t v)
{
    nvme_put16(p, v);
    nvme_put16(p + 2, v >> 16);
}

static inline void nvme_put64(uint8_t *p, uint64_t v)
{
    nvme_put32(p, v);
    nvme_put32(p + 4, v >> 32);
}

#endif
