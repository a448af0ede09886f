/*
 * arm-smmuv3: an Arm SMMUv3 (IHI 0070) for the virt machine, as QEMU's
 * (hw/arm/smmuv3.c) is seen by the guest. Driver: Linux arm-smmu-v3.
 *
 * User manual
 *
 *   tessera -M virt,iommu=smmuv3 ...
 *
 * The board creates it (QEMU's spelling; there is no -device form): 128
 * KiB of registers at 0x09050000, its interrupts on SPIs 74..77 (eventq,
 * priq, cmdq-sync, gerror; edge), a device tree node "arm,smmu-v3" with
 * #iommu-cells = <1>, and iommu-map = <0 &smmu 0 0x10000> on the PCIe
 * host bridge: every function below pcie.0 (behind root ports too) is
 * translated, its requester id (bus as the guest numbered it, devfn) being
 * its stream id. Boot Linux with iommu.passthrough=0 (or without
 * iommu.passthrough=1) for translated DMA domains.
 *
 * What it implements: stage 1 only (IDR0.S1P; no stage 2, no HYP, no
 * ATS/PRI, no stalls: faulting transactions are terminated), AArch64
 * tables with 4K, 16K and 64K granules and up to 48-bit input and output
 * addresses, 16-bit stream ids, no substreams, 16-bit ASIDs. Stream
 * tables linear or 2-level (SPLIT 6, 8 or 10); the command queue (1024
 * entries at most) runs when the guest writes CMDQ_PROD: CFGI_STE,
 * CFGI_STE_RANGE (CFGI_ALL), CFGI_CD, CFGI_CD_ALL, the TLBI_NH_*,
 * TLBI_EL2_*, TLBI_S12_VMALL and TLBI_NSNH_ALL invalidations (by ASID,
 * address, address range (IDR3.RIL), or all), PREFETCH_*, and CMD_SYNC
 * with completion by interrupt, MSI write (IDR0.MSI: Linux polls the MSI
 * its CMD_SYNC writes into the queue itself) or none. The event queue (1024 entries at most)
 * takes C_BAD_STREAMID, F_STE_FETCH, C_BAD_STE, F_CD_FETCH, C_BAD_CD,
 * F_WALK_EABT, F_TRANSLATION, F_ADDR_SIZE, F_ACCESS and F_PERMISSION
 * records, raising the eventq interrupt (or its MSI when EVENTQ_IRQ_CFG0
 * holds an address); GERROR reports command errors (CMDQ_CONS.ERR: ILL,
 * ABT), event queue aborts and MSI aborts. With SMMUEN clear, GBPA.ABORT
 * decides between bypass (the reset value) and abort.
 *
 * Translation (smmuv3-walk.c) is cached in a configuration cache and an
 * IOTLB that only the guest's CFGI and TLBI commands make coherent, as on
 * hardware. A DMA that faults touches no memory (reads see all ones) and
 * is recorded as an event when the CD asks for it (CD.R).
 *
 * Errors: anything the guest programs wrong is logged under -d
 * guest_errors and reported the way the SMMU reports it (an event, a
 * command error, GERROR); queue sizes are clamped to IDR1, indexes masked
 * to them, stream table sizes to IDR1.SIDSIZE. Migration: the register
 * file; the caches start empty on the destination.
 */
#include <errno.h>
#include <string.h>
#include <tessera/smmuv3.h>

#include "iommu-claim.h"
#include "iommu-le.h"
#include "smmuv3.h"
#include "iommu-trace.h"

/* ---- the register file ---- */

uint32_t smmu_get32(smmu *s, unsigned off)
{
    return (uint32_t)get_le(s->regs + off, 4);
}

uint64_t smmu_get64(smmu *s, unsigned off)
{
    return get_le(s->regs + off, 8);
}

void smmu_set32(smmu *s, unsigned off, uint32_t v)
{
    set_le(s->regs + off, v, 4);
}

static void define(smmu *s, unsigned off, unsigned n, uint64_t val, uint64_t wmask)
{
    set_le(s->regs + off, val, n);
    set_le(s->wmask + off, wmask, n);
}

#define ADDR_51_2 0x000ffffffffffffcull

static uint32_t idr0(void)
{
    return 1u << 1                  /* S1P */
           | 2u << 2                /* TTF: AArch64 */
           | 1u << 4                /* COHACC */
           | 1u << 12               /* ASID16 */
           | 1u << 13               /* MSI */
           | 2u << 21               /* TTENDIAN: little-endian */
           | 1u << 24               /* STALL_MODEL: no stalls */
           | 1u << 26               /* TERM_MODEL: terminate = abort */
           | 1u << 27;              /* ST_LEVEL: 2-level stream tables */
}

static void regs_init(smmu *s)
{
    memset(s->regs, 0, sizeof(s->regs));
    memset(s->wmask, 0, sizeof(s->wmask));
    define(s, SMMU_IDR0, 4, idr0(), 0);
    define(s, SMMU_IDR1, 4, SMMU_CMDQS << 21 | SMMU_EVTQS << 16 | SMMU_SIDSIZE, 0);
    define(s, SMMU_IDR3, 4, 1u << 10, 0); /* RIL: range invalidation */
    /* IDR5: OAS 48 bits, 4K, 16K and 64K granules */
    define(s, SMMU_IDR5, 4, 1u << 6 | 1u << 5 | 1u << 4 | 5, 0);
    define(s, SMMU_CR0, 4, 0, 0x1d);
    define(s, SMMU_CR1, 4, 0, 0xfff);
    define(s, SMMU_CR2, 4, 0, 0x7);
    define(s, SMMU_GBPA, 4, 0x1000, 0x001f3f1f); /* SHCFG incoming, bypass */
    define(s, SMMU_IRQ_CTRL, 4, 0, 0x5);
    define(s, SMMU_GERRORN, 4, 0, GERROR_MASK);
    define(s, SMMU_GERROR_IRQ_CFG0, 8, 0, ADDR_51_2);
    define(s, SMMU_GERROR_IRQ_CFG1, 4, 0, 0xffffffffu);
    define(s, SMMU_GERROR_IRQ_CFG2, 4, 0, 0x3f);
    define(s, SMMU_STRTAB_BASE, 8, 0, 1ull << 62 | 0x000fffffffffffc0ull);
    define(s, SMMU_STRTAB_BASE_CFG, 4, 0, 0x307ff);
    define(s, SMMU_CMDQ_BASE, 8, 0, 1ull << 62 | 0x000fffffffffffffull);
    define(s, SMMU_CMDQ_PROD, 4, 0, 0xfffff);
    define(s, SMMU_CMDQ_CONS, 4, 0, 0xfffff);
    define(s, SMMU_EVTQ_BASE, 8, 0, 1ull << 62 | 0x000fffffffffffffull);
    define(s, SMMU_EVTQ_PROD, 4, 0, Q_OVF | 0xfffff);
    define(s, SMMU_EVTQ_CONS, 4, 0, Q_OVF | 0xfffff);
    define(s, SMMU_EVTQ_IRQ_CFG0, 8, 0, ADDR_51_2);
    define(s, SMMU_EVTQ_IRQ_CFG1, 4, 0, 0xffffffffu);
    define(s, SMMU_EVTQ_IRQ_CFG2, 4, 0, 0x3f);
}

/* ---- interrupts: a pulse on the wire, or the MSI the CFG registers
 * name (5.2 of the MSI chapter: address 0 means wired) ---- */

static void gerror_raise(smmu *s, uint32_t bit);

static void signal(smmu *s, unsigned irq, unsigned cfg0, unsigned abt_bit)
{
    uint64_t addr = cfg0 ? smmu_get64(s, cfg0) & ADDR_51_2 : 0;
    uint8_t data[4];

    trace_smmuv3_trigger_irq(irq);
    if (!addr) {
        SH->dev_set_irq(s->dev, irq, 1);
        SH->dev_set_irq(s->dev, irq, 0);
        return;
    }
    set_le(data, smmu_get32(s, cfg0 + 8), 4);
    /* The unit's own messages go straight to memory (no translation). */
    if (SH->as_write(SH->system_memory(), addr, data, 4) != TES_MEM_OK && abt_bit) {
        gerror_raise(s, abt_bit);
    }
}

/* A global error becomes active (GERROR != GERRORN in that bit) once
 * until software acknowledges it by toggling GERRORN. */
static void gerror_raise(smmu *s, uint32_t bit)
{
    uint32_t g = smmu_get32(s, SMMU_GERROR), n = smmu_get32(s, SMMU_GERRORN);

    if ((g ^ n) & bit) {
        return;
    }
    smmu_set32(s, SMMU_GERROR, g ^ bit);
    SH->log(TES_LOG_GUEST_ERROR, "arm-smmuv3: global error 0x%x", bit);
    if (smmu_get32(s, SMMU_IRQ_CTRL) & IRQ_CTRL_GERROR_IRQEN) {
        /* the GERROR MSI itself failing is recorded, not signalled again */
        signal(s, SMMU_IRQ_GERROR, SMMU_GERROR_IRQ_CFG0,
               bit == GERROR_MSI_GERROR_ABT_ERR ? 0 : GERROR_MSI_GERROR_ABT_ERR);
    }
}

/* ---- queues (3.5): PROD and CONS hold an index and a wrap bit ---- */

typedef struct queue {
    uint64_t base;
    unsigned log2; /* entries, clamped to what IDR1 advertises */
    uint32_t mask; /* wrap bit and index */
} queue;

static queue q_of(smmu *s, unsigned base_reg, unsigned max)
{
    uint64_t b = smmu_get64(s, base_reg);
    queue q = {.base = b & 0x000fffffffffffe0ull, .log2 = b & 0x1f};

    if (q.log2 > max) {
        q.log2 = max;
    }
    q.mask = (2u << q.log2) - 1;
    return q;
}

static uint32_t q_idx(const queue *q, uint32_t v)
{
    return v & ((1u << q->log2) - 1);
}

static bool q_full(const queue *q, uint32_t prod, uint32_t cons)
{
    return ((prod ^ cons) & q->mask) == (1u << q->log2);
}

static void evtq_put(smmu *s, const queue *qp, uint32_t prod, uint32_t cons,
                     const uint64_t ev[4]);

void smmu_event(smmu *s, const uint64_t ev[4])
{
    queue q = q_of(s, SMMU_EVTQ_BASE, SMMU_EVTQS);
    uint32_t prod = smmu_get32(s, SMMU_EVTQ_PROD), cons = smmu_get32(s, SMMU_EVTQ_CONS);

    if (!(smmu_get32(s, SMMU_CR0) & CR0_EVTQEN) || s->evtq_busy) {
        /* discarded while the queue is off, and while an event is being
         * written: a queue or MSI aimed at a device's registers may make
         * it DMA, fault and come back here */
        return;
    }
    s->evtq_busy = true;
    evtq_put(s, &q, prod, cons, ev);
    s->evtq_busy = false;
}

static void evtq_put(smmu *s, const queue *qp, uint32_t prod, uint32_t cons,
                     const uint64_t ev[4])
{
    queue q = *qp;
    uint8_t rec[32];

    if (q_full(&q, prod, cons)) {
        /* OVFLG toggles to differ from CONS.OVACKFLG: once per overflow */
        if (!((prod ^ cons) & Q_OVF)) {
            smmu_set32(s, SMMU_EVTQ_PROD, prod ^ Q_OVF);
            signal(s, SMMU_IRQ_EVTQ, SMMU_EVTQ_IRQ_CFG0, GERROR_MSI_EVTQ_ABT_ERR);
        }
        return;
    }
    for (unsigned i = 0; i < 4; i++) {
        set_le(rec + 8 * i, ev[i], 8);
    }
    if (SH->as_write(SH->system_memory(), q.base + 32ull * q_idx(&q, prod), rec, 32) !=
        TES_MEM_OK) {
        gerror_raise(s, GERROR_EVTQ_ABT_ERR);
        return;
    }
    s->stat_events++;
    smmu_set32(s, SMMU_EVTQ_PROD, (prod & Q_OVF) | ((prod + 1) & q.mask));
    if (smmu_get32(s, SMMU_IRQ_CTRL) & IRQ_CTRL_EVTQ_IRQEN) {
        signal(s, SMMU_IRQ_EVTQ, SMMU_EVTQ_IRQ_CFG0, GERROR_MSI_EVTQ_ABT_ERR);
    }
}

/* ---- commands (4.1-4.7) ---- */

enum {
    CMD_PREFETCH_CONFIG = 0x01,
    CMD_PREFETCH_ADDR = 0x02,
    CMD_CFGI_STE = 0x03,
    CMD_CFGI_STE_RANGE = 0x04,
    CMD_CFGI_CD = 0x05,
    CMD_CFGI_CD_ALL = 0x06,
    CMD_CFGI_VMS_PIDM = 0x07,
    CMD_TLBI_NH_ALL = 0x10,
    CMD_TLBI_NH_ASID = 0x11,
    CMD_TLBI_NH_VA = 0x12,
    CMD_TLBI_NH_VAA = 0x13,
    CMD_TLBI_EL2_ALL = 0x20,
    CMD_TLBI_EL2_ASID = 0x21,
    CMD_TLBI_EL2_VA = 0x22,
    CMD_TLBI_EL2_VAA = 0x23,
    CMD_TLBI_S12_VMALL = 0x28,
    CMD_TLBI_NSNH_ALL = 0x30,
    CMD_RESUME = 0x44,
    CMD_STALL_TERM = 0x45,
    CMD_SYNC = 0x46,
};

/* TLBI_*_VA(A): one address (the leaf it lies in), or with TG set a range
 * (IDR3.RIL, 4.4.1.1): NUM + 1 times 2^SCALE pages of the TG granule. */
static void tlbi_va(smmu *s, const uint64_t c[2], bool by_asid)
{
    static const uint8_t tg_shift[] = {0, 12, 14, 16};
    int asid = by_asid ? (int)(uint16_t)(c[0] >> 48) : -1;
    unsigned tg = (c[1] >> 10) & 3, num = (c[0] >> 12) & 0x1f, scale = (c[0] >> 20) & 0x1f;
    uint64_t addr = c[1] & ~0xfffull;

    if (!tg) {
        smmu_flush_tlb(s, asid, true, addr);
        return;
    }
    smmu_flush_tlb_range(s, asid, addr, (uint64_t)(num + 1) << (scale + tg_shift[tg]));
}

static int cmd_sync(smmu *s, const uint64_t c[2])
{
    unsigned cs = (c[0] >> 12) & 3;
    uint64_t addr = c[1] & ADDR_51_2;
    uint8_t data[4];

    if (cs != 1) {
        return 0; /* none, or SEV: nothing waits on this side */
    }
    if (!addr) {
        SH->dev_set_irq(s->dev, SMMU_IRQ_CMD_SYNC, 1);
        SH->dev_set_irq(s->dev, SMMU_IRQ_CMD_SYNC, 0);
        return 0;
    }
    set_le(data, c[0] >> 32, 4);
    if (SH->as_write(SH->system_memory(), addr, data, 4) != TES_MEM_OK) {
        gerror_raise(s, GERROR_MSI_CMDQ_ABT_ERR);
    }
    return 0;
}

static void cfgi_range(smmu *s, const uint64_t c[2])
{
    unsigned range = c[1] & 0x1f;
    uint32_t sid = (uint32_t)(c[0] >> 32);
    uint64_t n = 2ull << range; /* 2^(RANGE+1) stream ids, aligned */
    uint64_t first = sid & ~(n - 1);

    if (range >= 31) {
        smmu_flush_cfg_all(s);
        smmu_flush_tlb_all(s);
        return;
    }
    smmu_flush_cfg(s, (uint32_t)first, (uint32_t)(first + n - 1));
}

/* The TLB invalidations; false: not one. VMIDs and EL2 are not told apart
 * (no stage 2, no HYP): what they name is in these ASIDs or nowhere. */
static bool run_tlbi(smmu *s, const uint64_t c[2])
{
    switch (c[0] & 0xff) {
    case CMD_TLBI_NH_ASID:
    case CMD_TLBI_EL2_ASID:
        smmu_flush_tlb(s, (uint16_t)(c[0] >> 48), false, 0);
        return true;
    case CMD_TLBI_NH_VA:
    case CMD_TLBI_EL2_VA:
        tlbi_va(s, c, true);
        return true;
    case CMD_TLBI_NH_VAA:
    case CMD_TLBI_EL2_VAA:
        tlbi_va(s, c, false);
        return true;
    case CMD_TLBI_NH_ALL:
    case CMD_TLBI_EL2_ALL:
    case CMD_TLBI_S12_VMALL:
    case CMD_TLBI_NSNH_ALL:
        smmu_flush_tlb_all(s);
        return true;
    default:
        return false;
    }
}

static int run_cmd(smmu *s, const uint64_t c[2])
{
    uint32_t sid = (uint32_t)(c[0] >> 32);

    if (run_tlbi(s, c)) {
        return 0;
    }
    switch (c[0] & 0xff) {
    case CMD_PREFETCH_CONFIG:
    case CMD_PREFETCH_ADDR:
    case CMD_CFGI_VMS_PIDM:
    case CMD_RESUME:
    case CMD_STALL_TERM:
        return 0; /* nothing is prefetched, nothing stalls */
    case CMD_CFGI_STE:
    case CMD_CFGI_CD:
    case CMD_CFGI_CD_ALL:
        smmu_flush_cfg(s, sid, sid);
        return 0;
    case CMD_CFGI_STE_RANGE:
        cfgi_range(s, c);
        return 0;
    case CMD_SYNC:
        return cmd_sync(s, c);
    default:
        SH->log(TES_LOG_GUEST_ERROR, "arm-smmuv3: command 0x%02x is not implemented",
                (unsigned)(c[0] & 0xff));
        return CERROR_ILL;
    }
}

static bool read_cmd(uint64_t addr, uint64_t c[2])
{
    uint8_t b[16];

    if (SH->as_read(SH->system_memory(), addr, b, 16) != TES_MEM_OK) {
        return false;
    }
    c[0] = get_le(b, 8);
    c[1] = get_le(b + 8, 8);
    return true;
}

/* Consume from CONS up to PROD; stop on an error with CONS on the bad
 * command and CMDQ_ERR active, until software acknowledges it. */
static void cmdq_run(smmu *s)
{
    queue q = q_of(s, SMMU_CMDQ_BASE, SMMU_CMDQS);
    uint32_t cons = smmu_get32(s, SMMU_CMDQ_CONS) & q.mask, err = 0, budget = 1u << q.log2;

    /* A CMD_SYNC's MSI may be a write to PROD itself: the loop running
     * already sees it (it reads PROD again each time round). */
    if (s->cmdq_busy || !(smmu_get32(s, SMMU_CR0) & CR0_CMDQEN) ||
        ((smmu_get32(s, SMMU_GERROR) ^ smmu_get32(s, SMMU_GERRORN)) & GERROR_CMDQ_ERR)) {
        return;
    }
    s->cmdq_busy = true;
    /* One queue's worth per call: CMD_SYNC MSIs that keep moving PROD
     * ahead must not keep the queue running for ever. */
    while (cons != (smmu_get32(s, SMMU_CMDQ_PROD) & q.mask) && budget--) {
        uint64_t c[2];

        if (!read_cmd(q.base + 16ull * q_idx(&q, cons), c)) {
            err = CERROR_ABT;
        } else {
            err = (uint32_t)run_cmd(s, c);
        }
        if (err) {
            break;
        }
        cons = (cons + 1) & q.mask;
        if (!(smmu_get32(s, SMMU_CR0) & CR0_CMDQEN)) {
            break; /* an MSI turned the queue off */
        }
    }
    s->cmdq_busy = false;
    smmu_set32(s, SMMU_CMDQ_CONS, cons | err << CMDQ_CONS_ERR_SHIFT);
    if (err) {
        gerror_raise(s, GERROR_CMDQ_ERR);
    }
}

/* ---- MMIO ---- */

static uint64_t smmu_read(void *opaque, uint64_t off, unsigned size)
{
    smmu *s = opaque;

    if ((size != 4 && size != 8) || (off & (size - 1))) {
        SH->log(TES_LOG_GUEST_ERROR, "arm-smmuv3: %u-byte read at 0x%llx", size,
                (unsigned long long)off);
        return 0;
    }
    off &= 0xffff; /* page 1 holds the queues' PROD/CONS: the same registers */
    if (off + size > SMMU_REGS) {
        return 0;
    }
    return get_le(s->regs + off, size);
}

static void cr0_write(smmu *s)
{
    uint32_t cr0 = smmu_get32(s, SMMU_CR0), old = smmu_get32(s, SMMU_CR0ACK);

    smmu_set32(s, SMMU_CR0ACK, cr0);
    if ((cr0 ^ old) & CR0_SMMUEN) {
        smmu_flush_cfg_all(s);
        smmu_flush_tlb_all(s);
    }
    if ((cr0 & ~old) & CR0_CMDQEN) {
        cmdq_run(s);
    }
}

/* Writes that only take while their queue is off (3.5.2), and GBPA's
 * UPDATE handshake (done at once). */
static bool write_allowed(smmu *s, unsigned off)
{
    uint32_t cr0 = smmu_get32(s, SMMU_CR0);

    if ((off == SMMU_CMDQ_CONS || (off >= SMMU_CMDQ_BASE && off < SMMU_CMDQ_PROD)) &&
        (cr0 & CR0_CMDQEN)) {
        return false;
    }
    if ((off == SMMU_EVTQ_PROD || (off >= SMMU_EVTQ_BASE && off < SMMU_EVTQ_PROD)) &&
        (cr0 & CR0_EVTQEN)) {
        return false;
    }
    return true;
}

static void side_effects(smmu *s, unsigned off, unsigned size)
{
    unsigned end = off + size;

#define TOUCHES(r) (off <= (r) && end > (r))
    if (TOUCHES(SMMU_CR0)) {
        cr0_write(s);
    }
    if (TOUCHES(SMMU_IRQ_CTRL)) {
        smmu_set32(s, SMMU_IRQ_CTRLACK, smmu_get32(s, SMMU_IRQ_CTRL));
    }
    if (TOUCHES(SMMU_GBPA)) {
        smmu_set32(s, SMMU_GBPA, smmu_get32(s, SMMU_GBPA) & ~GBPA_UPDATE);
    }
    if (TOUCHES(SMMU_CMDQ_PROD) || TOUCHES(SMMU_GERRORN)) {
        cmdq_run(s); /* new commands, or a command error acknowledged */
    }
#undef TOUCHES
}

static void smmu_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    smmu *s = opaque;
    uint64_t old, wm;

    if ((size != 4 && size != 8) || (off & (size - 1))) {
        SH->log(TES_LOG_GUEST_ERROR, "arm-smmuv3: %u-byte write at 0x%llx", size,
                (unsigned long long)off);
        return;
    }
    off &= 0xffff;
    if (off + size > SMMU_REGS || !write_allowed(s, (unsigned)off)) {
        SH->log(TES_LOG_GUEST_ERROR, "arm-smmuv3: write of 0x%llx to 0x%llx ignored "
                "(reserved, or its queue is enabled)", (unsigned long long)val,
                (unsigned long long)off);
        return;
    }
    old = get_le(s->regs + off, size);
    wm = get_le(s->wmask + off, size);
    set_le(s->regs + off, (old & ~wm) | (val & wm), size);
    side_effects(s, (unsigned)off, size);
}

TES_TRACE_RW_WRAP(smmu, smmu_read, smmu_write, smmuv3_read_mmio, smmuv3_write_mmio)

static const tes_mem_ops smmu_ops = {
    .size = sizeof(tes_mem_ops),
    .read = smmu_traced_read,
    .write = smmu_traced_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 8,
    .impl_min = 1, .impl_max = 8, /* sizes checked above */
};

/* ---- the device ---- */

static const tes_iommu_ops smmu_iommu_ops = {
    .size = sizeof(tes_iommu_ops),
    .translate = smmu_translate,
};

static void caches_cold(smmu *s)
{
    memset(s->cfg, 0, sizeof(s->cfg));
    memset(s->tlb, 0, sizeof(s->tlb));
    s->cfg_gen = s->tlb_gen = 1;
}

static int smmu_realize(tes_device *dev, void *opaque)
{
    smmu *s = opaque;

    s->dev = dev;
    regs_init(s);
    caches_cold(s);
    s->mmio = SH->region_new_io(dev, "arm-smmuv3", TES_SMMUV3_MMIO_SIZE, &smmu_ops, s);
    SH->dev_init_mmio(dev, s->mmio);
    SH->dev_init_irqs(dev, SMMU_NUM_IRQS);
    return 0;
}

static void smmu_reset(tes_device *dev, void *opaque)
{
    smmu *s = opaque;

    regs_init(s);
    caches_cold(s);
}

static int smmu_post_load(tes_device *dev, void *opaque, uint32_t version)
{
    smmu *s = opaque;
    uint8_t saved[SMMU_REGS];

    /* Read-only identification is what this build advertises. */
    memcpy(saved, s->regs, sizeof(saved));
    regs_init(s);
    memcpy(s->regs + SMMU_CR0, saved + SMMU_CR0, SMMU_REGS - SMMU_CR0);
    caches_cold(s);
    return 0;
}

static const tes_state_field smmu_fields[] = {
    TES_FIELD_BYTES(smmu, regs),
    TES_FIELD_END,
};

static const tes_state_info smmu_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = smmu_fields,
    .post_load = smmu_post_load,
};

/* The core drops the dma_set_iommu claim with the device; the plugin's
 * own table of claims (iommu-claim.h) is ours to clear. */
static void smmu_unrealize(tes_device *dev, void *opaque)
{
    iommu_unclaim(opaque);
}

const tes_type_info smmuv3_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "arm-smmuv3",
    .desc = "Arm SMMUv3 (stage 1), created by -M virt,iommu=smmuv3",
    .bus = NULL,
    .instance_size = sizeof(smmu),
    .realize = smmu_realize,
    .unrealize = smmu_unrealize,
    .reset = smmu_reset,
    .state = &smmu_state,
};

static int smmu_attach(tes_device *dev, tes_bus *bus)
{
    smmu *s;

    if (!dev || !bus || strcmp(SH->dev_type(dev), smmuv3_type.name) != 0) {
        return -EINVAL;
    }
    s = SH->dev_state(dev);
    /* One IOMMU per root bus (iommu-claim.h): a virtio-iommu-pci created
     * later is then refused with one line naming us. */
    if (iommu_holder(bus) && s->bus != bus) {
        SH->error(dev, "the bus %s has an IOMMU already (%s)", SH->bus_name(bus),
                  iommu_holder(bus));
        return -EEXIST;
    }
    if (s->bus && s->bus != bus) {
        SH->dma_set_iommu(s->bus, NULL, NULL);
        iommu_unclaim(s);
    }
    if (s->bus != bus && !iommu_claim(bus, s, smmuv3_type.name)) {
        SH->error(dev, "too many IOMMUs");
        return -ENOSPC;
    }
    s->bus = bus;
    SH->dma_set_iommu(bus, &smmu_iommu_ops, s);
    return 0;
}

static const tes_smmuv3_iface smmu_iface = {
    .size = sizeof(tes_smmuv3_iface),
    .attach = smmu_attach,
};

int smmuv3_plugin_init(const tes_host *host)
{
    int ret = host->iface_register(TES_SMMUV3_IFACE, TES_SMMUV3_IFACE_VERSION, &smmu_iface);

    /* A harness registers again in the same process: the same table. */
    return ret == -EEXIST ? 0 : ret;
}
