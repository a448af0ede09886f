/*
 * nvme: an NVM Express 1.4 controller over PCIe.
 *
 * User manual
 *
 *   -drive file=IMG,if=none,id=D -device nvme,drive=D,serial=S[,...]
 *   -drive file=IMG2,if=none,id=D2 -device nvme-ns,drive=D2[,nsid=N][,bus=ID]
 *
 *   nvme:
 *   serial              (required) serial number (Identify, 20 characters)
 *   drive               image of namespace 1 (optional with nvme-ns)
 *   max_ioqpairs        I/O queue pairs offered, 1..64, default 64
 *   num_queues          older spelling: queue pairs + 1 (admin); 0 = unset
 *   mdts                maximum data transfer, 2^mdts 4 KiB pages, 1..10,
 *                       default 7 (512 KiB)
 *   msix_qsize          MSI-X vectors, 1..65, default 65
 *   logical_block_size  512 or 4096, default 512 (namespace 1)
 *
 *   nvme-ns (more namespaces; the bus is named after the controller's id=):
 *   drive               (required) the image
 *   nsid                1..16, default: the lowest free
 *   logical_block_size  512 or 4096, default 512
 *
 * PCI 1b36:0010 (QEMU's ids), class 0x010802. BAR0 (64-bit, 16 KiB):
 * registers at 0x0, doorbells from 0x1000 with a 4-byte stride (CAP.DSTRD
 * 0), the MSI-X table at 0x2000 and PBA at 0x3000. One MSI-X vector per
 * completion queue as the driver asks, one message per batch of
 * completions the driver has not acknowledged with the CQ head doorbell
 * (see cq_notify); INTA# (with INTMS/INTMC) otherwise.
 *
 * Commands are listed in nvme-cmd.c. I/O goes to the drive asynchronously
 * with iovecs mapped straight from the guest's PRPs. A completion queue
 * never overflows: a command is fetched only while its CQ has room for it
 * and everything in flight. Guest mistakes are logged under -d guest_errors
 * and answered with NVMe status codes; a doorbell value beyond its queue
 * sets CSTS.CFS (the driver then resets the controller). Controller reset,
 * shutdown and migration drain the drives; migration carries every
 * register, queue and outstanding async event request (QEMU's nvme blocks
 * migration).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvme.h"
#include "nvme-trace.h"

/* Registers (NVMe 1.4 section 3.1). */
#define REG_CAP 0x00
#define REG_VS 0x08
#define REG_INTMS 0x0c
#define REG_INTMC 0x10
#define REG_CC 0x14
#define REG_CSTS 0x1c
#define REG_NSSR 0x20
#define REG_AQA 0x24
#define REG_ASQ 0x28
#define REG_ACQ 0x30
#define REG_DBS 0x1000
#define REGS_SIZE 0x2000
#define BAR_SIZE 0x4000
#define MSIX_TABLE 0x2000
#define MSIX_PBA 0x3000

#define CC_EN 0x1
#define CC_CSS(cc) (((cc) >> 4) & 7)
#define CC_MPS(cc) (((cc) >> 7) & 0xf)
#define CC_AMS(cc) (((cc) >> 11) & 7)
#define CC_SHN(cc) (((cc) >> 14) & 3)
#define CSTS_RDY 0x1
#define CSTS_CFS 0x2
#define CSTS_SHST_MASK 0xc
#define CSTS_SHST_DONE 0x8
#define MPSMAX 4 /* 64 KiB pages */
#define VS_1_4 0x00010400

const tes_host *H;
TES_TRACE_DEFINE(NVME_TRACE)

void nvme_guest_error(nvme_ctrl *n, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    if (!H->log_enabled(TES_LOG_GUEST_ERROR)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    H->log(TES_LOG_GUEST_ERROR, "nvme %s: %s", H->dev_id(n->dev), msg);
}

uint32_t nvme_page_size(nvme_ctrl *n)
{
    return 4096u << CC_MPS(n->cc);
}

static uint64_t cap_value(nvme_ctrl *n)
{
    /* MQES, CQR (contiguous queues required), TO 7.5 s, DSTRD 0, CSS NVM,
     * MPSMIN 4 KiB, MPSMAX 64 KiB (section 3.1.1). */
    return NVME_MQES | 1ull << 16 | 0xfull << 24 | 1ull << 37 | (uint64_t)MPSMAX << 52;
}

nvme_ns *nvme_ns_get(nvme_ctrl *n, uint32_t nsid)
{
    return nsid >= 1 && nsid <= NVME_MAX_NS ? n->ns[nsid] : NULL;
}

/* ---- interrupts ---- */

/* INTx is a level: held while a CQ with interrupts enabled has entries the
 * host has not consumed and its vector is not masked (section 7.5.1). */
static void update_intx(nvme_ctrl *n)
{
    int level = 0;

    if (H->pci_msix_enabled(n->dev)) {
        return;
    }
    for (unsigned q = 0; q <= n->max_ioqpairs && !level; q++) {
        level = n->cq_valid[q] && n->cq_ien[q] && n->cq_head[q] != n->cq_tail[q] &&
                !(n->intms & (1u << (n->cq_vector[q] & 31)));
    }
    trace_pci_nvme_irq_pin(level);
    H->pci_set_irq(n->dev, level);
}

/* MSI-X: one message per run of completions the host has not acknowledged.
 * Once a message is out, entries posted before the host writes the CQ head
 * doorbell are found by the same interrupt handler (Linux's nvme_irq reaps
 * every entry whose phase tag is new, then writes the doorbell); entries it
 * missed are still there at that doorbell write, which sends a new message
 * (cq_doorbell). So the host sees every completion with one message per
 * batch instead of one per command, as interrupt coalescing would give. */
static void cq_notify(nvme_ctrl *n, unsigned cqid)
{
    if (!n->cq_ien[cqid]) {
        return;
    }
    if (!H->pci_msix_enabled(n->dev)) {
        n->cq_irq_sent[cqid] = 0;
        update_intx(n);
    } else if (!n->cq_irq_sent[cqid]) {
        n->cq_irq_sent[cqid] = 1;
        trace_pci_nvme_irq_msix(n->cq_vector[cqid]);
        H->pci_notify(n->dev, n->cq_vector[cqid]);
    }
}

/* ---- completion queues ---- */

static uint32_t cq_used(nvme_ctrl *n, unsigned q)
{
    return (n->cq_tail[q] + n->cq_size[q] - n->cq_head[q]) % n->cq_size[q];
}

/* Write one CQE; dword 3 (with the phase tag) last, so a driver polling the
 * phase on another vCPU never sees a half-written entry (section 4.6). */
static void post_cqe(nvme_ctrl *n, unsigned cqid, unsigned sqid, uint16_t cid, uint16_t status,
                     uint32_t result)
{
    uint64_t addr = n->cq_base[cqid] + (uint64_t)n->cq_tail[cqid] * NVME_CQES, len = NVME_CQES;
    uint8_t cqe[NVME_CQES];
    uint8_t *p = H->dma_map(n->dev, addr, &len, true);

    trace_pci_nvme_enqueue_req_completion(cid, cqid, result, status);
    nvme_put32(cqe, result);
    nvme_put32(cqe + 4, 0);
    nvme_put16(cqe + 8, n->sq_head[sqid]);
    nvme_put16(cqe + 10, sqid);
    nvme_put16(cqe + 12, cid);
    nvme_put16(cqe + 14, (uint16_t)(status << 1) | n->cq_phase[cqid]);
    if (p && len == NVME_CQES) {
        memcpy(p, cqe, 12);
        __atomic_store_n((uint32_t *)(p + 12), nvme_le32(cqe + 12), __ATOMIC_RELEASE);
        H->dma_unmap(n->dev, p, NVME_CQES, true);
    } else if (H->dma_write(n->dev, addr, cqe, NVME_CQES) != TES_MEM_OK) {
        nvme_guest_error(n, "completion queue %u entry at 0x%llx is not in RAM", cqid,
                         (unsigned long long)addr);
    }
    if (++n->cq_tail[cqid] == n->cq_size[cqid]) {
        n->cq_tail[cqid] = 0;
        n->cq_phase[cqid] ^= 1;
    }
    cq_notify(n, cqid);
}

void nvme_req_free(nvme_req *r)
{
    nvme_ctrl *n = r->n;

    if (r->bounce) {
        free(r->bounce);
        r->bounce = NULL;
    }
    r->next = n->free_reqs;
    n->free_reqs = r;
}

static nvme_req *alloc_req(nvme_ctrl *n)
{
    nvme_req *r = n->free_reqs;

    if (r) {
        n->free_reqs = r->next;
    } else {
        r = malloc(sizeof(*r) + n->max_iov * sizeof(struct iovec));
        if (!r) {
            return NULL;
        }
    }
    memset(r, 0, sizeof(*r));
    r->n = n;
    r->maxiov = n->max_iov;
    return r;
}

void nvme_complete(nvme_req *r)
{
    nvme_ctrl *n = r->n;
    unsigned cqid = n->sq_cqid[r->sqid];

    if (!n->resetting && n->sq_valid[r->sqid]) {
        n->cq_inflight[cqid]--;
        if (r->status != SC_SUCCESS) {
            n->err_count++;
        }
        post_cqe(n, cqid, r->sqid, r->cid, r->status, r->result);
    }
    nvme_req_free(r);
}

/* ---- asynchronous events (section 5.2) ---- */

void nvme_aen_raise(nvme_ctrl *n, uint8_t type, uint8_t info, uint8_t log)
{
    uint32_t dw0 = type | info << 8 | (uint32_t)log << 16;

    if ((n->aen_masked & (1u << type)) || n->aen_count == 8) {
        return; /* one of this type is outstanding until its log is read */
    }
    n->aen_queue[n->aen_count++] = dw0;
    nvme_aer_post(n);
}

/* Pair queued events with outstanding requests while the admin CQ has
 * room beyond what is in flight. */
void nvme_aer_post(nvme_ctrl *n)
{
    while (n->aer_count && n->aen_count && n->cq_valid[0] &&
           cq_used(n, 0) + n->cq_inflight[0] + 1 < n->cq_size[0]) {
        uint32_t dw0 = n->aen_queue[0];

        memmove(n->aen_queue, n->aen_queue + 1, --n->aen_count * sizeof(uint32_t));
        n->aen_masked |= 1u << (dw0 & 7);
        post_cqe(n, 0, 0, n->aer_cid[--n->aer_count], SC_SUCCESS, dw0);
    }
}

/* ---- submission queues ---- */

static void run_cmd(nvme_ctrl *n, unsigned sqid, const uint8_t *sqe)
{
    nvme_req *r = alloc_req(n);
    uint16_t st;

    n->cq_inflight[n->sq_cqid[sqid]]++;
    if (!r) {
        n->cq_inflight[n->sq_cqid[sqid]]--;
        post_cqe(n, n->sq_cqid[sqid], sqid, nvme_le32(sqe) >> 16, SC_INTERNAL, 0);
        return;
    }
    r->sqid = sqid;
    r->cid = nvme_le32(sqe) >> 16;
    r->opcode = sqe[0];
    if (sqid) {
        trace_pci_nvme_io_cmd(r->cid, nvme_le32(sqe + 4), sqid, r->opcode);
    } else {
        trace_pci_nvme_admin_cmd(r->cid, sqid, r->opcode);
    }
    st = sqid ? nvme_io_cmd(r, sqe) : nvme_admin_cmd(r, sqe);
    if (st == SC_ASYNC) {
        return;
    }
    r->status = st;
    nvme_complete(r);
}

/* The part of an SQ mapped for fetching: entries first.. in len bytes. */
typedef struct sq_window {
    const uint8_t *p;
    uint64_t len;
    uint32_t first;
} sq_window;

static void window_drop(nvme_ctrl *n, sq_window *w)
{
    if (w->p) {
        H->dma_unmap(n->dev, (void *)w->p, w->len, false);
        w->p = NULL;
    }
}

/* Copy the entry at the SQ head out of the ring: through one mapping of
 * the entries up to the tail (or the wrap) for the whole doorbell batch,
 * with a DMA read when the ring is not plain RAM. */
static void sqe_fetch(nvme_ctrl *n, unsigned sqid, sq_window *w, uint8_t *sqe)
{
    uint32_t head = n->sq_head[sqid], tail = n->sq_tail[sqid];
    uint64_t addr = n->sq_base[sqid] + (uint64_t)head * NVME_SQES;

    if (!w->p || head < w->first || (uint64_t)(head - w->first + 1) * NVME_SQES > w->len) {
        window_drop(n, w);
        w->len = (uint64_t)((tail > head ? tail : n->sq_size[sqid]) - head) * NVME_SQES;
        w->p = H->dma_map(n->dev, addr, &w->len, false);
        w->first = head;
    }
    if (w->p && w->len >= NVME_SQES) {
        memcpy(sqe, w->p + (uint64_t)(head - w->first) * NVME_SQES, NVME_SQES);
    } else if (H->dma_read(n->dev, addr, sqe, NVME_SQES) != TES_MEM_OK) {
        nvme_guest_error(n, "submission queue %u entry at 0x%llx is not in RAM", sqid,
                         (unsigned long long)addr);
        memset(sqe, 0xff, NVME_SQES); /* answered as an invalid opcode */
    }
}

/* Fetch and run commands while the SQ has some and its CQ has room for the
 * completion on top of everything in flight. */
static void sq_run(nvme_ctrl *n, unsigned sqid)
{
    uint8_t sqe[NVME_SQES];
    sq_window w = {0};

    while (n->sq_valid[sqid] && n->sq_head[sqid] != n->sq_tail[sqid] &&
           !(n->csts & CSTS_CFS)) {
        unsigned cqid = n->sq_cqid[sqid];

        if (cq_used(n, cqid) + n->cq_inflight[cqid] + 1 >= n->cq_size[cqid]) {
            n->cq_stalled[cqid] = 1; /* resumes at the CQ head doorbell */
            break;
        }
        sqe_fetch(n, sqid, &w, sqe);
        n->sq_head[sqid] = (n->sq_head[sqid] + 1) % n->sq_size[sqid];
        run_cmd(n, sqid, sqe);
    }
    window_drop(n, &w);
}

bool nvme_sq_create(nvme_ctrl *n, uint16_t qid, uint64_t base, uint32_t size, uint16_t cqid)
{
    trace_pci_nvme_create_sq(base, qid, cqid, size);
    n->sq_base[qid] = base;
    n->sq_size[qid] = size;
    n->sq_head[qid] = n->sq_tail[qid] = 0;
    n->sq_cqid[qid] = cqid;
    n->sq_valid[qid] = 1;
    return true;
}

/* Commands of a deleted SQ complete first (section 5.6): drain. */
void nvme_sq_delete(nvme_ctrl *n, uint16_t qid)
{
    trace_pci_nvme_del_sq(qid);
    nvme_drain(n);
    n->sq_valid[qid] = 0;
    n->sq_head[qid] = n->sq_tail[qid] = 0;
}

void nvme_cq_create(nvme_ctrl *n, uint16_t qid, uint64_t base, uint32_t size, uint16_t vector,
                    bool ien)
{
    trace_pci_nvme_create_cq(base, qid, vector, size, ien);
    n->cq_base[qid] = base;
    n->cq_size[qid] = size;
    n->cq_head[qid] = n->cq_tail[qid] = 0;
    n->cq_vector[qid] = vector;
    n->cq_phase[qid] = 1;
    n->cq_ien[qid] = ien;
    n->cq_valid[qid] = 1;
    n->cq_inflight[qid] = 0;
    n->cq_irq_sent[qid] = 0;
    n->cq_stalled[qid] = 0;
}

void nvme_drain(nvme_ctrl *n)
{
    for (unsigned i = 1; i <= NVME_MAX_NS; i++) {
        if (n->ns[i]) {
            H->drive_drain(n->ns[i]->drive);
        }
    }
}

/* ---- doorbells (section 3.1.24) ---- */

static void fatal(nvme_ctrl *n, const char *what, unsigned qid, uint32_t val, uint32_t size)
{
    nvme_guest_error(n, "%s doorbell of queue %u written %u, beyond its %u entries: "
                     "controller fatal status", what, qid, val, size);
    n->csts |= CSTS_CFS;
}

static void cq_doorbell(nvme_ctrl *n, unsigned q, uint32_t val)
{
    uint32_t advance = (val + n->cq_size[q] - n->cq_head[q]) % n->cq_size[q];

    trace_pci_nvme_mmio_doorbell_cq(q, val);

    if (val >= n->cq_size[q] || advance > cq_used(n, q)) {
        fatal(n, "completion head", q, val, n->cq_size[q]);
        return;
    }
    n->cq_head[q] = val;
    n->cq_irq_sent[q] = 0; /* the host has acknowledged the last message */
    if (!H->pci_msix_enabled(n->dev)) {
        update_intx(n);
    } else if (n->cq_head[q] != n->cq_tail[q]) {
        cq_notify(n, q); /* posted after the handler looked */
    }
    /* Room was made: SQs that waited for it may fetch again (sq_run marks
     * the CQ stalled again if it is still short). */
    if (n->cq_stalled[q]) {
        n->cq_stalled[q] = 0;
        for (unsigned s = 0; s <= n->max_ioqpairs; s++) {
            if (n->sq_valid[s] && n->sq_cqid[s] == q && n->sq_head[s] != n->sq_tail[s]) {
                sq_run(n, s);
            }
        }
    }
    if (q == 0) {
        nvme_aer_post(n);
    }
}

static void doorbell_write(nvme_ctrl *n, uint64_t off, uint32_t val)
{
    unsigned idx = (off - REG_DBS) / 4, q = idx / 2;
    bool cq = idx & 1;

    if (!(n->csts & CSTS_RDY) || (n->csts & CSTS_CFS)) {
        nvme_guest_error(n, "doorbell 0x%llx written while the controller is not ready",
                         (unsigned long long)off);
        return;
    }
    if (q > n->max_ioqpairs || !(cq ? n->cq_valid[q] : n->sq_valid[q])) {
        nvme_guest_error(n, "doorbell of absent %s queue %u written", cq ? "completion" :
                         "submission", q);
        nvme_aen_raise(n, 0, 0x00, 0x01); /* error: invalid doorbell register */
        return;
    }
    if (cq) {
        cq_doorbell(n, q, val);
        return;
    }
    trace_pci_nvme_mmio_doorbell_sq(q, val);
    if (val >= n->sq_size[q]) {
        fatal(n, "submission tail", q, val, n->sq_size[q]);
        return;
    }
    n->sq_tail[q] = val;
    sq_run(n, q);
}

/* ---- controller enable, reset, shutdown (section 7.6) ---- */

static void queues_clear(nvme_ctrl *n)
{
    memset(n->sq_valid, 0, sizeof(n->sq_valid));
    memset(n->cq_valid, 0, sizeof(n->cq_valid));
    memset(n->sq_head, 0, sizeof(n->sq_head));
    memset(n->sq_tail, 0, sizeof(n->sq_tail));
    memset(n->cq_head, 0, sizeof(n->cq_head));
    memset(n->cq_tail, 0, sizeof(n->cq_tail));
    memset(n->cq_inflight, 0, sizeof(n->cq_inflight));
    memset(n->cq_irq_sent, 0, sizeof(n->cq_irq_sent));
    memset(n->cq_stalled, 0, sizeof(n->cq_stalled));
}

/* Controller reset: in-flight I/O finishes first, its completions are
 * dropped (the driver has given up on them); queues and features go. */
static void ctrl_reset(nvme_ctrl *n)
{
    n->resetting = true;
    nvme_drain(n);
    n->resetting = false;
    queues_clear(n);
    n->aer_count = n->aen_count = n->aen_masked = 0;
    n->feat_wce = 1;
    n->feat_coalesce = n->feat_aec = n->feat_errrec = 0;
    n->feat_temp = 0x157; /* 343 K over-temperature threshold */
    n->intms = 0;
    n->csts &= ~(CSTS_RDY | CSTS_CFS);
    H->pci_set_irq(n->dev, 0);
}

static bool enable_ok(nvme_ctrl *n, uint32_t cc)
{
    uint32_t ps = 4096u << CC_MPS(cc);
    const char *why = NULL;

    if (CC_CSS(cc) != 0) {
        why = "CC.CSS selects no supported command set";
    } else if (CC_MPS(cc) > MPSMAX) {
        why = "CC.MPS is larger than CAP.MPSMAX";
    } else if (CC_AMS(cc) != 0) {
        why = "CC.AMS selects an unsupported arbitration";
    } else if ((n->asq | n->acq) & (ps - 1)) {
        why = "ASQ/ACQ are not page aligned";
    } else if ((n->aqa & 0xfff) == 0 || ((n->aqa >> 16) & 0xfff) == 0) {
        why = "AQA asks for admin queues of fewer than 2 entries";
    }
    if (why) {
        nvme_guest_error(n, "enable refused: %s (CC 0x%x)", why, cc);
    }
    return !why;
}

static void cc_write(nvme_ctrl *n, uint32_t val)
{
    uint32_t old = n->cc;

    if ((val & CC_EN) && !(old & CC_EN)) {
        n->cc = val;
        n->csts &= ~CSTS_SHST_MASK;
        if (!enable_ok(n, val)) {
            trace_pci_nvme_err_startfail();
            n->csts |= CSTS_CFS;
            return;
        }
        trace_pci_nvme_mmio_start_success();
        nvme_sq_create(n, 0, n->asq, (n->aqa & 0xfff) + 1, 0);
        nvme_cq_create(n, 0, n->acq, ((n->aqa >> 16) & 0xfff) + 1, 0, true);
        n->csts |= CSTS_RDY;
        return;
    }
    if (!(val & CC_EN) && (old & CC_EN)) {
        trace_pci_nvme_mmio_stopped();
        ctrl_reset(n);
    }
    n->cc = val;
    if (CC_SHN(val) && !CC_SHN(old)) {
        /* Normal or abrupt shutdown: finish I/O, make it stable. */
        trace_pci_nvme_mmio_shutdown_set();
        nvme_drain(n);
        for (unsigned i = 1; i <= NVME_MAX_NS; i++) {
            if (n->ns[i]) {
                H->drive_flush(n->ns[i]->drive);
            }
        }
        n->csts = (n->csts & ~CSTS_SHST_MASK) | CSTS_SHST_DONE;
    } else if (!CC_SHN(val)) {
        if (CC_SHN(old)) {
            trace_pci_nvme_mmio_shutdown_cleared();
        }
        n->csts &= ~CSTS_SHST_MASK;
    }
}

/* ---- BAR0 ---- */

static uint64_t reg_read(void *opaque, uint64_t off, unsigned size)
{
    nvme_ctrl *n = opaque;
    uint64_t v;

    trace_pci_nvme_mmio_read(off, size);
    switch (off & ~7ull) {
    case REG_CAP: v = cap_value(n); break;
    case REG_VS: v = VS_1_4 | (uint64_t)n->intms << 32; break; /* VS, INTMS */
    case REG_INTMC: v = n->intms | (uint64_t)n->cc << 32; break; /* INTMC, CC */
    case 0x18: v = (uint64_t)n->csts << 32; break; /* reserved, CSTS */
    case REG_NSSR: v = (uint64_t)n->aqa << 32; break; /* NSSR, AQA */
    case REG_ASQ: v = n->asq; break;
    case REG_ACQ: v = n->acq; break;
    default: v = 0; /* CMBLOC, CMBSZ, ...: no CMB/PMR; doorbells read 0 */
    }
    if (size == 8) {
        return off & 7 ? 0 : v;
    }
    return (uint32_t)(v >> (8 * (off & 4)));
}

static void set_half(uint64_t *reg, uint64_t off, uint64_t val, unsigned size)
{
    unsigned sh = 8 * (off & 4);

    if (size == 8) {
        *reg = val;
    } else {
        *reg = (*reg & ~(0xffffffffull << sh)) | ((val & 0xffffffffull) << sh);
    }
}

static void admin_reg_write(nvme_ctrl *n, uint64_t off, uint64_t val, unsigned size)
{
    if (n->cc & CC_EN) {
        nvme_guest_error(n, "admin queue register 0x%x written while enabled", (unsigned)off);
        return;
    }
    if (off == REG_AQA) {
        n->aqa = val & 0x0fff0fff;
    } else {
        set_half(off < REG_ACQ ? &n->asq : &n->acq, off, val, size);
    }
}

static void reg_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    nvme_ctrl *n = opaque;

    trace_pci_nvme_mmio_write(off, val, size);
    if (off >= REG_DBS) {
        if (size == 4 && !(off & 3) && off < REG_DBS + 8u * (n->max_ioqpairs + 1)) {
            doorbell_write(n, off, val);
        } else {
            nvme_guest_error(n, "%u-byte doorbell write at 0x%llx", size, (unsigned long long)off);
        }
        return;
    }
    switch (off) {
    case REG_INTMS:
        n->intms |= val;
        trace_pci_nvme_mmio_intm_set(val, n->intms);
        update_intx(n);
        break;
    case REG_INTMC:
        n->intms &= ~val;
        trace_pci_nvme_mmio_intm_clr(val, n->intms);
        update_intx(n);
        break;
    case REG_CC:
        trace_pci_nvme_mmio_cfg(val);
        cc_write(n, val);
        break;
    case REG_AQA: case REG_ASQ: case REG_ASQ + 4: case REG_ACQ: case REG_ACQ + 4:
        admin_reg_write(n, off, val, size);
        break;
    case REG_NSSR:
        nvme_guest_error(n, "NSSR written; subsystem reset is not supported (CAP.NSSRS 0)");
        break;
    default:
        nvme_guest_error(n, "write of 0x%llx to read-only or reserved register 0x%llx",
                         (unsigned long long)val, (unsigned long long)off);
    }
}

static const tes_mem_ops reg_ops = {
    .size = sizeof(tes_mem_ops),
    .read = reg_read,
    .write = reg_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 4, .valid_max = 8,
    .impl_min = 4, .impl_max = 8,
};

/* ---- namespaces ---- */

static bool ns_setup(nvme_ctrl *n, nvme_ns *ns, tes_device *errdev)
{
    uint64_t size = H->drive_size(ns->drive);

    if (ns->lbs != 512 && ns->lbs != 4096) {
        H->error(errdev, "nvme: property 'logical_block_size' wants 512 or 4096, got %u",
                 ns->lbs);
        return false;
    }
    if (ns->nsid == 0) {
        for (ns->nsid = 1; ns->nsid <= NVME_MAX_NS && n->ns[ns->nsid]; ns->nsid++) {
        }
    }
    if (ns->nsid > NVME_MAX_NS || n->ns[ns->nsid]) {
        H->error(errdev, "nvme: namespace id %u is taken or beyond %u", ns->nsid, NVME_MAX_NS);
        return false;
    }
    ns->n = n;
    ns->lbads = ns->lbs == 4096 ? 12 : 9;
    ns->nlbas = size >> ns->lbads;
    ns->ro = H->drive_readonly(ns->drive);
    n->ns[ns->nsid] = ns;
    return true;
}

/* ---- the controller type ---- */

/* Realized controllers. The serial is the subsystem NQN's tail (Identify
 * Controller SUBNQN): Linux takes two controllers with one serial for paths
 * to one subsystem and rejects the second ("Duplicate cntlid"), so the
 * second is refused here instead, as QEMU does. */
static nvme_ctrl *ctrls;

static bool serial_taken(const nvme_ctrl *n)
{
    for (const nvme_ctrl *c = ctrls; c; c = c->next_ctrl) {
        if (c != n && strcmp(c->serial, n->serial) == 0) {
            return true;
        }
    }
    return false;
}

static void ctrl_unlist(nvme_ctrl *n)
{
    for (nvme_ctrl **p = &ctrls; *p; p = &(*p)->next_ctrl) {
        if (*p == n) {
            *p = n->next_ctrl;
            return;
        }
    }
}

static bool check_props(tes_device *dev, nvme_ctrl *n)
{
    if (!n->serial || !n->serial[0]) {
        H->error(dev, "nvme: property 'serial' is required");
        return false;
    }
    if (serial_taken(n)) {
        H->error(dev, "nvme: serial '%s' is already used by another nvme controller", n->serial);
        return false;
    }
    if (n->num_queues) {
        if (n->num_queues < 2 || n->num_queues > NVME_MAX_Q) {
            H->error(dev, "nvme: property 'num_queues' wants 2..%u, got %u", NVME_MAX_Q,
                     n->num_queues);
            return false;
        }
        n->max_ioqpairs = n->num_queues - 1;
    }
    return true;
}

static int setup_bar(tes_device *dev, nvme_ctrl *n)
{
    tes_region *bar = H->region_new_container(dev, "nvme-bar0", BAR_SIZE);
    tes_region *regs = H->region_new_io(dev, "nvme-regs", REGS_SIZE, &reg_ops, n);
    int ret;

    H->region_add(bar, 0, regs, 0);
    ret = H->pci_register_bar(dev, 0, TES_PCI_BAR_MEM64, bar);
    ret = ret ?: H->pci_pcie_cap_init(dev, 0, TES_PCIE_TYPE_ENDPOINT);
    ret = ret < 0 ? ret : H->pci_msix_init(dev, 0, n->msix_qsize, 0, bar, MSIX_TABLE, MSIX_PBA);
    if (ret < 0) {
        H->error(dev, "nvme: cannot set up BAR0, PCIe and MSI-X capabilities (%d)", ret);
        return ret;
    }
    return 0;
}

static int nvme_realize(tes_device *dev, void *s)
{
    nvme_ctrl *n = s;
    int ret;

    n->dev = dev;
    if (!check_props(dev, n)) {
        return -EINVAL;
    }
    n->max_iov = (1u << (n->mdts ? n->mdts : NVME_MAX_MDTS)) + 2;
    if (n->drive) {
        n->ns1 = (nvme_ns){.drive = n->drive, .nsid = 1, .lbs = n->lbs};
        if (!ns_setup(n, &n->ns1, dev)) {
            return -EINVAL;
        }
    }
    ret = setup_bar(dev, n);
    if (ret < 0) {
        return ret;
    }
    n->bus = H->bus_new(dev, "nvme-bus", H->dev_id(dev), n);
    ctrl_reset(n);
    n->next_ctrl = ctrls;
    ctrls = n;
    return 0;
}

static void nvme_unrealize(tes_device *dev, void *s)
{
    nvme_ctrl *n = s;

    ctrl_unlist(n);
    nvme_drain(n);
    while (n->free_reqs) {
        nvme_req *r = n->free_reqs;
        n->free_reqs = r->next;
        free(r);
    }
}

static void nvme_reset(tes_device *dev, void *s)
{
    nvme_ctrl *n = s;

    ctrl_reset(n);
    n->cc = n->aqa = 0;
    n->asq = n->acq = 0;
    n->csts = 0;
}

/* Migration: every command has completed once the drives are drained, so
 * the registers and queue indices are the whole state; outstanding AERs
 * are recorded by command id. */
static int nvme_pre_save(tes_device *dev, void *s)
{
    nvme_drain(s);
    return 0;
}

/* The loader trusts nothing it reads: every value must be one the guest's
 * own register writes and admin commands could have produced, else the
 * next doorbell indexes past an array (aen_queue, a queue) or walks a
 * ring beyond its size. One H->error line names the first bad field. */
static bool queue_ok(nvme_ctrl *n, unsigned q, bool sq)
{
    uint32_t max = q == 0 ? 4096 : NVME_MQES + 1; /* AQA is 12 bits */
    uint32_t size = sq ? n->sq_size[q] : n->cq_size[q];
    uint32_t head = sq ? n->sq_head[q] : n->cq_head[q];
    uint32_t tail = sq ? n->sq_tail[q] : n->cq_tail[q];

    if (q > n->max_ioqpairs || !(n->csts & CSTS_RDY) || size < 2 || size > max ||
        head >= size || tail >= size) {
        return false;
    }
    if (sq) {
        uint16_t cq = n->sq_cqid[q];
        return cq < NVME_MAX_Q && n->cq_valid[cq] && (q == 0) == (cq == 0);
    }
    return n->cq_phase[q] <= 1 && n->cq_ien[q] <= 1 &&
           (!n->cq_ien[q] || n->cq_vector[q] < n->msix_qsize);
}

static int queues_check(nvme_ctrl *n)
{
    for (unsigned q = 0; q < NVME_MAX_Q; q++) {
        if (n->sq_valid[q] > 1 || n->cq_valid[q] > 1) {
            H->error(n->dev, "queue %u: valid flag %u/%u in the stream", q, n->sq_valid[q],
                     n->cq_valid[q]);
            return -EINVAL;
        }
        for (int sq = 0; sq <= 1; sq++) {
            if ((sq ? n->sq_valid[q] : n->cq_valid[q]) && !queue_ok(n, q, sq)) {
                H->error(n->dev, "%s %u in the stream is out of range (size %u, head %u, "
                         "tail %u, max_ioqpairs %u)", sq ? "SQ" : "CQ", q,
                         sq ? n->sq_size[q] : n->cq_size[q], sq ? n->sq_head[q] : n->cq_head[q],
                         sq ? n->sq_tail[q] : n->cq_tail[q], n->max_ioqpairs);
                return -EINVAL;
            }
        }
    }
    if (!!(n->csts & CSTS_RDY) != (n->sq_valid[0] && n->cq_valid[0])) {
        H->error(n->dev, "CSTS.RDY %u does not match the admin queues in the stream",
                 n->csts & CSTS_RDY);
        return -EINVAL;
    }
    return 0;
}

static int regs_check(nvme_ctrl *n)
{
    const char *why = NULL;

    if (n->aer_count > NVME_AERL + 1) {
        why = "aer_count";
    } else if (n->aen_count > sizeof(n->aen_queue) / sizeof(n->aen_queue[0])) {
        why = "aen_count";
    } else if ((n->csts & CSTS_RDY) && !(n->cc & 1)) {
        /* (CC's other fields: a guest may rewrite them while enabled.) */
        why = "CC (ready but not enabled)";
    }
    if (why) {
        H->error(n->dev, "%s in the stream is out of range (aer_count %u, aen_count %u, "
                 "CC 0x%x, CSTS 0x%x)", why, n->aer_count, n->aen_count, n->cc, n->csts);
        return -EINVAL;
    }
    return 0;
}

static int nvme_post_load(tes_device *dev, void *s, uint32_t version)
{
    nvme_ctrl *n = s;

    if (regs_check(n) || queues_check(n)) {
        return -EINVAL;
    }
    memset(n->cq_inflight, 0, sizeof(n->cq_inflight));
    memset(n->cq_irq_sent, 0, sizeof(n->cq_irq_sent));
    memset(n->cq_stalled, 1, sizeof(n->cq_stalled)); /* look at every SQ once */
    update_intx(n);
    return 0;
}

#define QARR(f, k) TES_FIELD_ARRAY(nvme_ctrl, f, k, NVME_MAX_Q)
static const tes_state_field nvme_fields[] = {
    TES_FIELD_U32(nvme_ctrl, cc), TES_FIELD_U32(nvme_ctrl, csts),
    TES_FIELD_U32(nvme_ctrl, aqa), TES_FIELD_U32(nvme_ctrl, intms),
    TES_FIELD_U64(nvme_ctrl, asq), TES_FIELD_U64(nvme_ctrl, acq),
    QARR(sq_base, TES_FIELD_U64), QARR(cq_base, TES_FIELD_U64),
    QARR(sq_size, TES_FIELD_U32), QARR(sq_head, TES_FIELD_U32), QARR(sq_tail, TES_FIELD_U32),
    QARR(cq_size, TES_FIELD_U32), QARR(cq_head, TES_FIELD_U32), QARR(cq_tail, TES_FIELD_U32),
    QARR(sq_cqid, TES_FIELD_U16), QARR(cq_vector, TES_FIELD_U16),
    QARR(sq_valid, TES_FIELD_U8), QARR(cq_valid, TES_FIELD_U8),
    QARR(cq_phase, TES_FIELD_U8), QARR(cq_ien, TES_FIELD_U8),
    TES_FIELD_U32(nvme_ctrl, feat_wce), TES_FIELD_U32(nvme_ctrl, feat_coalesce),
    TES_FIELD_U32(nvme_ctrl, feat_aec), TES_FIELD_U32(nvme_ctrl, feat_temp),
    TES_FIELD_U32(nvme_ctrl, feat_errrec),
    TES_FIELD_ARRAY(nvme_ctrl, aer_cid, TES_FIELD_U16, NVME_AERL + 1),
    TES_FIELD_U32(nvme_ctrl, aer_count),
    TES_FIELD_ARRAY(nvme_ctrl, aen_queue, TES_FIELD_U32, 8),
    TES_FIELD_U32(nvme_ctrl, aen_count), TES_FIELD_U32(nvme_ctrl, aen_masked),
    TES_FIELD_U64(nvme_ctrl, sectors_read), TES_FIELD_U64(nvme_ctrl, sectors_written),
    TES_FIELD_U64(nvme_ctrl, read_cmds), TES_FIELD_U64(nvme_ctrl, write_cmds),
    TES_FIELD_U64(nvme_ctrl, err_count),
    TES_FIELD_END,
};

static const tes_state_info nvme_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = nvme_fields,
    .pre_save = nvme_pre_save,
    .post_load = nvme_post_load,
};

static const tes_prop_info nvme_props[] = {
    TES_PROP("drive", TES_PROP_DRIVE, nvme_ctrl, drive, NULL, 0, 0,
             "image of namespace 1 (-drive id=)"),
    TES_PROP("serial", TES_PROP_STRING, nvme_ctrl, serial, NULL, 0, 0, "serial number"),
    TES_PROP("max_ioqpairs", TES_PROP_U32, nvme_ctrl, max_ioqpairs, "64", 1, NVME_MAX_IOQ,
             "I/O queue pairs"),
    TES_PROP("num_queues", TES_PROP_U32, nvme_ctrl, num_queues, "0", 0, NVME_MAX_Q,
             "older spelling: I/O queue pairs + 1 (0: unset)"),
    TES_PROP("mdts", TES_PROP_U8, nvme_ctrl, mdts, "7", 1, NVME_MAX_MDTS,
             "maximum data transfer: 2^mdts pages of 4 KiB"),
    TES_PROP("msix_qsize", TES_PROP_U32, nvme_ctrl, msix_qsize, "65", 1, NVME_MAX_Q,
             "MSI-X vectors"),
    TES_PROP("logical_block_size", TES_PROP_U32, nvme_ctrl, lbs, "512", 512, 4096,
             "block size of namespace 1 (512 or 4096)"),
    TES_PROP_END,
};

/* Linux frees and re-allocates its vectors while the controller runs:
 * after MSI-X goes off or on, a message sent before proves nothing about a
 * handler to come, so the next completion of every CQ sends again. */
static void nvme_config_write(tes_device *dev, void *s, uint32_t off, uint32_t val,
                              unsigned len)
{
    nvme_ctrl *n = s;
    bool was = H->pci_msix_enabled(dev);

    H->pci_default_config_write(dev, off, val, len);
    if (H->pci_msix_enabled(dev) != was) {
        memset(n->cq_irq_sent, 0, sizeof(n->cq_irq_sent));
    }
}

static const tes_pci_info nvme_pci = {
    .size = sizeof(tes_pci_info),
    .vendor_id = 0x1b36,
    .device_id = 0x0010,
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = 0x1100,
    .revision = 2,
    .prog_if = 0x02, /* NVM Express */
    .class_id = 0x0108,
    .irq_pin = 1,
    .config_write = nvme_config_write,
};

static const tes_type_info nvme_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "nvme",
    .desc = "NVM Express 1.4 controller",
    .bus = TES_BUS_PCI,
    .instance_size = sizeof(nvme_ctrl),
    .props = nvme_props,
    .realize = nvme_realize,
    .unrealize = nvme_unrealize,
    .reset = nvme_reset,
    .state = &nvme_state,
    .class_info = &nvme_pci,
};

/* ---- nvme-ns ---- */

static int ns_realize(tes_device *dev, void *s)
{
    nvme_ns *ns = s;
    nvme_ctrl *n = H->bus_opaque(H->dev_bus(dev));

    ns->dev = dev;
    if (!ns->drive) {
        H->error(dev, "nvme-ns: property 'drive' is required");
        return -EINVAL;
    }
    return ns_setup(n, ns, dev) ? 0 : -EINVAL;
}

static void ns_unrealize(tes_device *dev, void *s)
{
    nvme_ns *ns = s;

    if (ns->n) {
        H->drive_drain(ns->drive);
        ns->n->ns[ns->nsid] = NULL;
    }
}

/* A namespace's state is its configuration (properties). */
static const tes_state_info ns_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
};

static const tes_prop_info ns_props[] = {
    TES_PROP("drive", TES_PROP_DRIVE, nvme_ns, drive, NULL, 0, 0, "image (-drive id=)"),
    TES_PROP("nsid", TES_PROP_U32, nvme_ns, nsid, "0", 0, NVME_MAX_NS,
             "namespace id (0: the lowest free)"),
    TES_PROP("logical_block_size", TES_PROP_U32, nvme_ns, lbs, "512", 512, 4096,
             "block size (512 or 4096)"),
    TES_PROP_END,
};

static const tes_type_info nvme_ns_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "nvme-ns",
    .desc = "NVMe namespace of an nvme controller",
    .bus = "nvme-bus",
    .instance_size = sizeof(nvme_ns),
    .props = ns_props,
    .realize = ns_realize,
    .unrealize = ns_unrealize,
    .state = &ns_state,
};

static int nvme_plugin_init(const tes_host *host)
{
    if (host->size < offsetof(tes_host, drive_inflight) + sizeof(host->drive_inflight)) {
        return -ENOTSUP; /* needs SDK 1.1 asynchronous block requests */
    }
    H = host;
    TES_TRACE_REGISTER(host);
    return 0;
}

static const tes_type_info *const nvme_types[] = {&nvme_type, &nvme_ns_type, NULL};

TES_PLUGIN_DEFINE(.name = "nvme", .version = "0.1.0", .license = "MIT",
                  .desc = "NVM Express controller and namespaces", .types = nvme_types,
                  .init = nvme_plugin_init);
