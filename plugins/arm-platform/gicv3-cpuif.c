/*
 * arm-gicv3: the CPU interface, the ICC_*_EL1 system registers (Arm IHI
 * 0069, chapter 12), served for every vCPU through host->cpu_set_sysregs:
 * the CPU plugin hands over the MRS/MSR it does not implement itself, with
 * the accessing vCPU, so nothing here depends on a CPU plugin's state.
 *
 * What Linux's irq-gic-v3.c uses: SRE (RAO: system registers only), CTLR
 * (EOImode: 0 at EL1, where the driver drops and deactivates with EOIR1;
 * 1 with ICC_DIR_EL1 when it runs a hypervisor), PMR, BPR1, IGRPEN1,
 * IAR1, EOIR1, HPPIR1, RPR, AP1R0 (cleared at CPU bring-up), SGI1R (IPIs),
 * and the Group 0 registers, probed through PMR and AP0R0 writes. ASGI1R
 * targets the other security state, which does not exist here: ignored.
 */
#include "gicv3.h"

#define ICC(crn, crm, op2) TES_ARM_SYSREG(3, 0, crn, crm, op2)
#define ICC_PMR ICC(4, 6, 0)
#define ICC_IAR0 ICC(12, 8, 0)
#define ICC_EOIR0 ICC(12, 8, 1)
#define ICC_HPPIR0 ICC(12, 8, 2)
#define ICC_BPR0 ICC(12, 8, 3)
#define ICC_AP0R0 ICC(12, 8, 4) /* ..AP0R3: op2 4..7 */
#define ICC_AP1R0 ICC(12, 9, 0) /* ..AP1R3: op2 0..3 */
#define ICC_DIR ICC(12, 11, 1)
#define ICC_RPR ICC(12, 11, 3)
#define ICC_SGI1R ICC(12, 11, 5)
#define ICC_ASGI1R ICC(12, 11, 6)
#define ICC_SGI0R ICC(12, 11, 7)
#define ICC_IAR1 ICC(12, 12, 0)
#define ICC_EOIR1 ICC(12, 12, 1)
#define ICC_HPPIR1 ICC(12, 12, 2)
#define ICC_BPR1 ICC(12, 12, 3)
#define ICC_CTLR ICC(12, 12, 4)
#define ICC_SRE ICC(12, 12, 5)
#define ICC_IGRPEN0 ICC(12, 12, 6)
#define ICC_IGRPEN1 ICC(12, 12, 7)

#define ICC_CTLR_CBPR 0x1
#define ICC_CTLR_EOIMODE 0x2
/* Read-only: PRIbits (priority bits - 1), IDbits 0 (16 bits), RSS. */
#define ICC_CTLR_RO ((GICV3_PRI_BITS - 1) << 8 | 1u << 18)

#define SGI_IRM (1ull << 40)

/* The vCPU's interface, or NULL for a vCPU past num-cpu. */
static gicv3_cpu *iface(gicv3 *g, tes_cpu *cpu, unsigned *idx)
{
    *idx = cpu ? H->cpu_index(cpu) : 0;
    return *idx < g->num_cpu ? &g->cpu[*idx] : NULL;
}

/* IAR0/IAR1: the signalled interrupt when it is of that group. */
static uint32_t ack(gicv3 *g, unsigned cpu, unsigned group)
{
    unsigned prio, grp;
    unsigned irq = gicv3_signalled(g, cpu, &prio, &grp);

    if (irq == GICV3_SPURIOUS || grp != group) {
        return GICV3_SPURIOUS;
    }
    gicv3_ack(g, cpu, irq);
    return irq;
}

static uint32_t hppir(gicv3 *g, unsigned cpu, unsigned group)
{
    unsigned prio, grp;
    unsigned irq = gicv3_hppi(g, cpu, &prio, &grp);

    return irq != GICV3_SPURIOUS && grp == group && prio < g->cpu[cpu].pmr ? irq
                                                                           : GICV3_SPURIOUS;
}

/* EOIR0/EOIR1: priority drop of the group's highest active priority;
 * deactivation too with EOImode 0. The special IDs are ignored. */
static void eoi(gicv3 *g, unsigned cpu, unsigned group, uint64_t val)
{
    gicv3_cpu *c = &g->cpu[cpu];
    uint32_t irq = val & 0xffffff;

    if (irq >= GICV3_FIRST_SPECIAL && irq < GICV3_LPI_BASE) {
        return;
    }
    if (!c->apr[group]) {
        H->log(TES_LOG_GUEST_ERROR, "arm-gicv3: EOIR%u of %u on CPU %u with no active "
               "priority", group, irq, cpu);
        return;
    }
    c->apr[group] &= c->apr[group] - 1;
    if (!(c->icc_ctlr & ICC_CTLR_EOIMODE)) {
        gicv3_deactivate(g, cpu, irq);
    }
}

static void dir(gicv3 *g, unsigned cpu, uint64_t val)
{
    if (!(g->cpu[cpu].icc_ctlr & ICC_CTLR_EOIMODE)) {
        H->log(TES_LOG_GUEST_ERROR, "arm-gicv3: ICC_DIR_EL1 written with EOImode 0 on CPU %u",
               cpu);
        return;
    }
    gicv3_deactivate(g, cpu, val & 0xffffff);
}

/* ICC_SGI1R/SGI0R: TargetList bit n is Aff0 = RS * 16 + n in cluster
 * Aff3.Aff2.Aff1; IRM: every CPU but the sender. */
static void send_sgi(gicv3 *g, unsigned self, uint64_t v, unsigned group)
{
    unsigned sgi = (v >> 24) & 0xf;
    uint32_t cluster = (uint32_t)((v >> 16) & 0xff) << 8 | (uint32_t)((v >> 32) & 0xff) << 16 |
                       (uint32_t)((v >> 48) & 0xff) << 24;
    unsigned rs = (v >> 44) & 0xf;

    for (unsigned c = 0; c < g->num_cpu; c++) {
        uint32_t aff = gicv3_cpu_aff(g, c);
        unsigned a0 = aff & 0xff;

        if (v & SGI_IRM ? c != self
                        : (aff & ~0xffu) == cluster && a0 / 16 == rs && ((v >> (a0 % 16)) & 1)) {
            gicv3_set_sgi(g, c, sgi, group);
        }
    }
}

static bool read_apr(gicv3_cpu *c, uint32_t reg, uint64_t *val)
{
    if (reg >= ICC_AP0R0 && reg <= ICC_AP0R0 + 3) {
        *val = reg == ICC_AP0R0 ? c->apr[0] : 0;
        return true;
    }
    if (reg >= ICC_AP1R0 && reg <= ICC_AP1R0 + 3) {
        *val = reg == ICC_AP1R0 ? c->apr[1] : 0;
        return true;
    }
    return false;
}

static bool icc_read(void *opaque, tes_cpu *vcpu, uint32_t reg, uint64_t *val)
{
    gicv3 *g = opaque;
    unsigned cpu;
    gicv3_cpu *c = iface(g, vcpu, &cpu);
    uint32_t ap;

    if (!c) {
        return false;
    }
    switch (reg) {
    case ICC_PMR: *val = c->pmr; return true;
    case ICC_IAR0: *val = ack(g, cpu, 0); return true;
    case ICC_IAR1: *val = ack(g, cpu, 1); return true;
    case ICC_HPPIR0: *val = hppir(g, cpu, 0); return true;
    case ICC_HPPIR1: *val = hppir(g, cpu, 1); return true;
    case ICC_BPR0: *val = c->bpr[0]; return true;
    case ICC_BPR1: *val = c->bpr[1]; return true;
    case ICC_CTLR: *val = c->icc_ctlr | ICC_CTLR_RO; return true;
    case ICC_SRE: *val = 7; return true; /* SRE, DFB, DIB: RAO/WI */
    case ICC_IGRPEN0: *val = c->igrpen[0]; return true;
    case ICC_IGRPEN1: *val = c->igrpen[1]; return true;
    case ICC_RPR:
        ap = c->apr[0] | c->apr[1];
        *val = ap ? (unsigned)__builtin_ctz(ap) << 3 : 0xff;
        return true;
    case ICC_DIR: case ICC_EOIR0: case ICC_EOIR1: case ICC_SGI0R: case ICC_SGI1R:
    case ICC_ASGI1R:
        *val = 0; /* write-only: reads are UNKNOWN */
        return true;
    }
    return read_apr(c, reg, val);
}

static bool write_apr(gicv3_cpu *c, uint32_t reg, uint64_t val)
{
    if (reg >= ICC_AP0R0 && reg <= ICC_AP0R0 + 3) {
        c->apr[0] = reg == ICC_AP0R0 ? (uint32_t)val : c->apr[0];
        return true;
    }
    if (reg >= ICC_AP1R0 && reg <= ICC_AP1R0 + 3) {
        c->apr[1] = reg == ICC_AP1R0 ? (uint32_t)val : c->apr[1];
        return true;
    }
    return false;
}

static bool icc_write_reg(gicv3 *g, unsigned cpu, gicv3_cpu *c, uint32_t reg, uint64_t val)
{
    switch (reg) {
    case ICC_PMR: c->pmr = val & GICV3_PRI_MASK; return true;
    case ICC_EOIR0: eoi(g, cpu, 0, val); return true;
    case ICC_EOIR1: eoi(g, cpu, 1, val); return true;
    case ICC_DIR: dir(g, cpu, val); return true;
    case ICC_BPR0: c->bpr[0] = (val & 7) < GICV3_MIN_BPR0 ? GICV3_MIN_BPR0 : val & 7; return true;
    case ICC_BPR1: c->bpr[1] = (val & 7) < GICV3_MIN_BPR1 ? GICV3_MIN_BPR1 : val & 7; return true;
    case ICC_CTLR: c->icc_ctlr = val & (ICC_CTLR_CBPR | ICC_CTLR_EOIMODE); return true;
    case ICC_SRE: return true;
    case ICC_IGRPEN0: c->igrpen[0] = val & 1; return true;
    case ICC_IGRPEN1: c->igrpen[1] = val & 1; return true;
    case ICC_SGI1R: send_sgi(g, cpu, val, 1); return true;
    case ICC_SGI0R: send_sgi(g, cpu, val, 0); return true;
    case ICC_ASGI1R: return true;
    case ICC_IAR0: case ICC_IAR1: case ICC_HPPIR0: case ICC_HPPIR1: case ICC_RPR:
        H->log(TES_LOG_GUEST_ERROR, "arm-gicv3: write to a read-only ICC register on CPU %u",
               cpu);
        return true;
    }
    return write_apr(c, reg, val);
}

static bool icc_write(void *opaque, tes_cpu *vcpu, uint32_t reg, uint64_t val)
{
    gicv3 *g = opaque;
    unsigned cpu;
    gicv3_cpu *c = iface(g, vcpu, &cpu);

    if (!c || !icc_write_reg(g, cpu, c, reg, val)) {
        return false;
    }
    gicv3_update(g, cpu);
    return true;
}

const tes_cpu_sysregs gicv3_sysregs = {
    .size = sizeof(tes_cpu_sysregs),
    .read = icc_read,
    .write = icc_write,
};
