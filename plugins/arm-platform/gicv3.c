/*
 * arm-gicv3: a GICv3 interrupt controller (Arm IHI 0069) for up to 64
 * CPUs with affinity routing, LPIs and one ITS, without the Security
 * Extensions (GICD_CTLR.DS reads 1: one security state, as a guest at
 * non-secure EL1 sees QEMU's virt).
 *
 * User manual
 *
 *   created by boards (virt with gic-version=3 or max); not a -device.
 *   num-cpu  (u32, 1..64, default 1) redistributors and CPU interfaces;
 *            redistributor i and CPU interface i serve vCPU i.
 *   num-irq  (u32, 64..1024, multiple of 32, default 288) interrupt IDs
 *            including the 32 private ones: 288 gives 256 SPIs.
 *   its      (bool, default on) an ITS (gicv3-its.c) and LPIs.
 *
 * Regions (host->dev_mmio(dev, i)), which the board maps: 0 the
 * distributor (GICD_*, 64 KiB), 1 the redistributors (GICR_*, 128 KiB per
 * CPU: RD_base then SGI_base; the last one says GICR_TYPER.Last), 2 the
 * ITS (GITS_*, 128 KiB, with its=on).
 * Inputs (host->dev_irq_in(dev, i)), as arm-gic's: i < num-irq - 32 is SPI
 * i (ID 32 + i); then 16 PPIs per CPU: num-irq - 32 + 16 * cpu + (ID - 16).
 * Outputs (host->dev_connect_irq(dev, i, ...)): i < num-cpu is the IRQ line
 * of CPU i (Group 1 interrupts), num-cpu + i its FIQ line (Group 0).
 * CPU interface: the ICC_*_EL1 system registers of every vCPU, served
 * through host->cpu_set_sysregs (gicv3-cpuif.c).
 *
 * Model: affinity routing only (GICD_CTLR.ARE is RAO/WI, the legacy
 * GICv2 registers read as zero); SPIs go to the vCPU their IROUTER names
 * (no 1-of-N: GICD_TYPER.No1N); SGIs are sent with ICC_SGI1R_EL1 with
 * range selectors (RSS), so vCPU indexes above 15 (MPIDR Aff0 = index)
 * are reachable. Five priority bits (32 levels), as QEMU's and GIC-500's.
 * Level-sensitive interrupts are pending while their line is high (or a
 * write to ISPENDR latched them); edge-triggered ones latch on the rising
 * edge. LPIs have no active state: the acknowledge clears their pending
 * bit. Their configuration is read from the guest's table when LPIs are
 * enabled and on the ITS's INV and INVALL, which Linux sends after each
 * change (the architecture lets a redistributor cache it). Everything is
 * done synchronously: GICD_CTLR.RWP and GICR_CTLR.RWP always read 0.
 * Guest mistakes are logged under -d guest_errors.
 */
#include <errno.h>
#include <stdlib.h>

#include "gicv3.h"
#include "plat-trace.h"

/* ---- affinity ---- */

/* MPIDR_EL1's affinity as GICR_TYPER and IROUTER carry it: Aff3 in bits
 * 31:24 (MPIDR bits 39:32), Aff2..0 below. */
uint32_t gicv3_cpu_aff(gicv3 *g, unsigned cpu)
{
    tes_cpu *c = H->cpu_by_index(cpu);
    uint64_t mpidr = c ? H->cpu_arch_id(c) : cpu;

    return (uint32_t)(mpidr & 0xffffff) | (uint32_t)((mpidr >> 32) & 0xff) << 24;
}

/* The vCPU an IROUTER value names, -1 when none has that affinity. */
int16_t gicv3_route(gicv3 *g, uint64_t irouter)
{
    uint32_t aff = (uint32_t)(irouter & 0xffffff) | (uint32_t)((irouter >> 32) & 0xff) << 24;

    for (unsigned c = 0; c < g->num_cpu; c++) {
        if (gicv3_cpu_aff(g, c) == aff) {
            return (int16_t)c;
        }
    }
    return -1;
}
/* ---- signalling ---- */

static bool group_enabled(gicv3 *g, unsigned cpu, unsigned group)
{
    return (g->ctlr & (group ? GICD_CTLR_EN_GRP1 : GICD_CTLR_EN_GRP0)) &&
           (g->cpu[cpu].igrpen[group] & 1);
}

/* Best candidate among the 32 IDs from base for cpu (ties: lowest ID). */
static void scan_word(gicv3 *g, unsigned cpu, unsigned base, unsigned *best, unsigned *best_prio)
{
    uint32_t w = pending_word(g, cpu, base) & *bits_word(g, B_ENABLED, cpu, base) &
                 ~*bits_word(g, B_ACTIVE, cpu, base);
    uint32_t grp = *bits_word(g, B_GROUP, cpu, base);

    if (!group_enabled(g, cpu, 0)) {
        w &= grp;
    }
    if (!group_enabled(g, cpu, 1)) {
        w &= ~grp;
    }
    while (w) {
        unsigned irq = base + __builtin_ctz(w);
        unsigned p = *prio_ref(g, cpu, irq);

        w &= w - 1;
        if (base >= 32 && g->target[irq] != (int16_t)cpu) {
            continue;
        }
        if (p < *best_prio) {
            *best = irq;
            *best_prio = p;
        }
    }
}

/* Highest priority pending interrupt of an enabled group for cpu (active
 * ones are not forwarded), GICV3_SPURIOUS when none. */
unsigned gicv3_hppi(gicv3 *g, unsigned cpu, unsigned *prio, unsigned *group)
{
    unsigned best = GICV3_SPURIOUS;

    *prio = GICV3_IDLE;
    for (unsigned base = 0; base < g->num_irq; base += 32) {
        scan_word(g, cpu, base, &best, prio);
    }
    if (g->lpi_count[cpu] && g->lpi_best[cpu] && group_enabled(g, cpu, 1) &&
        (g->cpu[cpu].ctlr & GICR_CTLR_ENABLE_LPIS)) {
        unsigned p = g->lpi_cfg[g->lpi_best[cpu]] & 0xfc;

        if (p < *prio) {
            best = g->lpi_best[cpu];
            *prio = p;
        }
    }
    *group = best < GICV3_FIRST_SPECIAL ? test_bit(g, B_GROUP, cpu, best) : 1;
    return best;
}

/* Group priority (the preemption bits): ICC_BPR0 for Group 0, BPR1 for
 * Group 1 unless ICC_CTLR_EL1.CBPR (then BPR0 too), bits 7:3 at most. */
static unsigned group_prio(gicv3 *g, unsigned cpu, unsigned prio, unsigned group)
{
    gicv3_cpu *c = &g->cpu[cpu];
    unsigned shift = group == 0 || (c->icc_ctlr & 1) ? c->bpr[0] + 1 : c->bpr[1];

    return prio & (0xffu << shift) & GICV3_PRI_MASK;
}

static unsigned running_prio(gicv3 *g, unsigned cpu)
{
    uint32_t a = g->cpu[cpu].apr[0] | g->cpu[cpu].apr[1];

    return a ? (unsigned)__builtin_ctz(a) << 3 : GICV3_IDLE;
}

/* The interrupt cpu's interface signals now (above the priority mask
 * and preempting the running priority), GICV3_SPURIOUS when none. */
unsigned gicv3_signalled(gicv3 *g, unsigned cpu, unsigned *prio, unsigned *group)
{
    unsigned irq = gicv3_hppi(g, cpu, prio, group);

    if (irq == GICV3_SPURIOUS || *prio >= g->cpu[cpu].pmr ||
        group_prio(g, cpu, *prio, *group) >= running_prio(g, cpu)) {
        return GICV3_SPURIOUS;
    }
    return irq;
}

static void set_out(gicv3 *g, unsigned cpu, unsigned line, int level)
{
    if (g->out_level[cpu][line] != level) {
        g->out_level[cpu][line] = level;
        H->dev_set_irq(g->dev, line * g->num_cpu + cpu, level);
    }
}

void gicv3_update(gicv3 *g, unsigned cpu)
{
    unsigned prio, group;
    unsigned irq = gicv3_signalled(g, cpu, &prio, &group);

    /* Group 1 is IRQ, Group 0 FIQ: lower first so that a vCPU never sees
     * both for one interrupt. */
    set_out(g, cpu, group == 1 ? 1 : 0, 0);
    set_out(g, cpu, group == 1 ? 0 : 1, irq != GICV3_SPURIOUS);
}

void gicv3_update_all(gicv3 *g)
{
    for (unsigned c = 0; c < g->num_cpu; c++) {
        gicv3_update(g, c);
    }
}

static void lpi_put(gicv3 *g, unsigned cpu, uint32_t intid, bool pending);

/* Acknowledge irq (IAR): active, no longer pending (an LPI has no active
 * state), its group priority in the active priorities. */
void gicv3_ack(gicv3 *g, unsigned cpu, unsigned irq)
{
    unsigned prio, gp, group;

    if (irq >= GICV3_LPI_BASE) {
        prio = g->lpi_cfg[irq] & 0xfc;
        group = 1;
        lpi_put(g, cpu, irq, false);
    } else {
        prio = *prio_ref(g, cpu, irq);
        group = test_bit(g, B_GROUP, cpu, irq);
        put_bit(g, B_PEND, cpu, irq, false);
        put_bit(g, B_ACTIVE, cpu, irq, true);
    }
    gp = group_prio(g, cpu, prio, group);
    g->cpu[cpu].apr[group] |= 1u << (gp >> 3);
    gicv3_update(g, cpu);
}

void gicv3_deactivate(gicv3 *g, unsigned cpu, unsigned irq)
{
    if (irq < 32 || spi_ok(g, irq)) {
        put_bit(g, B_ACTIVE, cpu, irq, false);
    }
}

void gicv3_set_sgi(gicv3 *g, unsigned cpu, unsigned sgi, unsigned group)
{
    if (test_bit(g, B_GROUP, cpu, sgi) == group) {
        put_bit(g, B_PEND, cpu, sgi, true);
        gicv3_update(g, cpu);
    }
}

/* An input line changed: record the level, latch a rising edge. */
static void set_line(gicv3 *g, unsigned cpu, unsigned irq, int level)
{
    if (test_bit(g, B_LEVEL, cpu, irq) == !!level) {
        return;
    }
    put_bit(g, B_LEVEL, cpu, irq, level);
    if (level && test_bit(g, B_EDGE, cpu, irq)) {
        put_bit(g, B_PEND, cpu, irq, true);
    }
    if (irq < 32) {
        gicv3_update(g, cpu);
    } else if (g->target[irq] >= 0) {
        gicv3_update(g, (unsigned)g->target[irq]);
    }
}

static void in_handler(void *opaque, int n, int level)
{
    gicv3 *g = opaque;
    unsigned nspi = g->num_irq - 32;

    if ((unsigned)n < nspi) {
        set_line(g, 0, 32 + (unsigned)n, level);
    } else if ((unsigned)n - nspi < 16 * g->num_cpu) {
        n -= (int)nspi;
        set_line(g, (unsigned)n / 16, 16 + (unsigned)n % 16, level);
    }
}

/* ---- LPIs ---- */

static uint64_t *lpi_bitmap(gicv3 *g, unsigned cpu)
{
    return g->lpi_pend + (size_t)cpu * (GICV3_NUM_IDS / 64);
}

/* intid is an LPI the redistributor of cpu takes: LPIs enabled there and
 * the ID within GICR_PROPBASER.IDbits (and ours). */
bool gicv3_lpi_ok(gicv3 *g, unsigned cpu, uint32_t intid)
{
    unsigned bits = (unsigned)(g->cpu[cpu].propbaser & 0x1f) + 1;

    if (bits > GICV3_ID_BITS) {
        bits = GICV3_ID_BITS;
    }
    return g->has_its && (g->cpu[cpu].ctlr & GICR_CTLR_ENABLE_LPIS) &&
           intid >= GICV3_LPI_BASE && intid < (1u << bits);
}

bool gicv3_lpi_pending(gicv3 *g, unsigned cpu, uint32_t intid)
{
    return intid < GICV3_NUM_IDS && ((lpi_bitmap(g, cpu)[intid / 64] >> (intid % 64)) & 1);
}

/* The best enabled pending LPI of cpu, lowest ID on ties (0: none). */
void gicv3_lpi_rescan(gicv3 *g, unsigned cpu)
{
    uint64_t *bm = lpi_bitmap(g, cpu);
    unsigned best = 0, best_prio = GICV3_IDLE;

    for (unsigned w = GICV3_LPI_BASE / 64; g->lpi_count[cpu] && w < GICV3_NUM_IDS / 64; w++) {
        for (uint64_t v = bm[w]; v; v &= v - 1) {
            unsigned id = w * 64 + (unsigned)__builtin_ctzll(v);
            unsigned cfg = g->lpi_cfg[id];

            if ((cfg & 1) && (cfg & 0xfc) < best_prio) {
                best = id;
                best_prio = cfg & 0xfc;
            }
        }
    }
    g->lpi_best[cpu] = best;
}

/* Set or clear the pending bit of an LPI and keep the best one; the
 * caller updates the outputs (once: an IAR must never raise a line). */
static void lpi_put(gicv3 *g, unsigned cpu, uint32_t intid, bool pending)
{
    uint64_t *w, bit = 1ull << (intid % 64);
    unsigned cfg, best = g->lpi_best[cpu];

    if (intid < GICV3_LPI_BASE || intid >= GICV3_NUM_IDS) {
        return;
    }
    w = &lpi_bitmap(g, cpu)[intid / 64];
    if (!!(*w & bit) == pending) {
        return;
    }
    *w ^= bit;
    g->lpi_count[cpu] += pending ? 1 : -1;
    cfg = g->lpi_cfg[intid];
    if (!pending) {
        if (best == intid) {
            gicv3_lpi_rescan(g, cpu);
        }
    } else if ((cfg & 1) && (!best || (cfg & 0xfc) < (g->lpi_cfg[best] & 0xfc) ||
                             ((cfg & 0xfc) == (g->lpi_cfg[best] & 0xfc) && intid < best))) {
        g->lpi_best[cpu] = intid;
    }
}

void gicv3_lpi_set(gicv3 *g, unsigned cpu, uint32_t intid, bool pending)
{
    lpi_put(g, cpu, intid, pending);
    gicv3_update(g, cpu);
}

/* GICR_CTLR.EnableLPIs went to 1: the pending table starts empty (Linux
 * hands over a zeroed one) and the configuration table is read now. */
void gicv3_lpi_enable(gicv3 *g, unsigned cpu)
{
    memset(lpi_bitmap(g, cpu), 0, GICV3_NUM_IDS / 8);
    g->lpi_count[cpu] = 0;
    gicv3_lpi_load_cfg(g, cpu, GICV3_LPI_BASE, GICV3_NUM_IDS - GICV3_LPI_BASE);
}

/* Reload the configuration bytes of LPIs intid..intid+n-1 from the table
 * at cpu's GICR_PROPBASER (bounded by its IDbits), then every CPU's best
 * (the table is common to all). */
void gicv3_lpi_load_cfg(gicv3 *g, unsigned cpu, uint32_t intid, uint32_t n)
{
    uint64_t base = g->cpu[cpu].propbaser & 0x000ffffffffff000ull;
    unsigned bits = (unsigned)(g->cpu[cpu].propbaser & 0x1f) + 1;
    uint32_t end = bits >= GICV3_ID_BITS ? GICV3_NUM_IDS : 1u << bits;

    if (intid < GICV3_LPI_BASE) {
        n = intid + n > GICV3_LPI_BASE ? intid + n - GICV3_LPI_BASE : 0;
        intid = GICV3_LPI_BASE;
    }
    if (intid < end && n) {
        n = n > end - intid ? end - intid : n;
        if (H->as_read(H->system_memory(), base + intid - GICV3_LPI_BASE, g->lpi_cfg + intid,
                       n) != TES_MEM_OK) {
            H->log(TES_LOG_GUEST_ERROR, "arm-gicv3: LPI configuration table at 0x%llx is not "
                   "all RAM", (unsigned long long)base);
        }
    }
    for (unsigned c = 0; c < g->num_cpu; c++) {
        gicv3_lpi_rescan(g, c);
        gicv3_update(g, c);
    }
}

/* ---- life cycle ---- */

TES_TRACE_RW_WRAP(its, gicv3_its_read, gicv3_its_write, gicv3_its_read, gicv3_its_write)

static const tes_mem_ops its_ops = {
    .size = sizeof(tes_mem_ops),
    .read = its_traced_read,
    .write = its_traced_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 8,
    .impl_min = 1, .impl_max = 8,
};

static void gicv3_reset(tes_device *dev, void *s);

static int gicv3_realize(tes_device *dev, void *s)
{
    gicv3 *g = s;

    if (g->num_irq < 64 || g->num_irq > GICV3_MAX_IRQ || g->num_irq % 32) {
        H->error(dev, "arm-gicv3: property 'num-irq' wants a multiple of 32 in 64..1024, "
                 "got %u", g->num_irq);
        return -EINVAL;
    }
    g->dev = dev;
    g->lpi_pend = calloc((size_t)g->num_cpu, GICV3_NUM_IDS / 8);
    g->lpi_cfg = calloc(1, GICV3_NUM_IDS);
    if (!g->lpi_pend || !g->lpi_cfg) {
        H->error(dev, "arm-gicv3: out of memory for the LPI tables");
        return -ENOMEM;
    }
    g->dist = H->region_new_io(dev, "gicv3-dist", GICV3_DIST_SIZE, &gicv3_dist_ops, g);
    g->redist = H->region_new_io(dev, "gicv3-redist", (uint64_t)GICV3_REDIST_SIZE * g->num_cpu,
                                 &gicv3_redist_ops, g);
    H->dev_init_mmio(dev, g->dist);
    H->dev_init_mmio(dev, g->redist);
    if (g->has_its) {
        g->its = H->region_new_io(dev, "gicv3-its", GICV3_ITS_SIZE, &its_ops, g);
        H->dev_init_mmio(dev, g->its);
    }
    H->dev_init_irq_in(dev, in_handler, g, g->num_irq - 32 + 16 * g->num_cpu);
    H->dev_init_irqs(dev, 2 * g->num_cpu);
    if (H->cpu_set_sysregs(NULL, &gicv3_sysregs, g) < 0) {
        H->error(dev, "arm-gicv3: cannot serve the ICC_* system registers (already 4 servers)");
        return -EBUSY;
    }
    gicv3_reset(dev, g);
    return 0;
}

static void gicv3_unrealize(tes_device *dev, void *s)
{
    gicv3 *g = s;

    H->cpu_set_sysregs(NULL, NULL, g);
    free(g->lpi_pend);
    free(g->lpi_cfg);
    g->lpi_pend = NULL;
    g->lpi_cfg = NULL;
}

static void reset_cpu(gicv3 *g, unsigned c)
{
    gicv3_cpu *r = &g->cpu[c];
    uint32_t level = r->bits[B_LEVEL];

    memset(r, 0, sizeof(*r));
    r->bits[B_LEVEL] = level; /* lines belong to the devices driving them */
    r->bits[B_EDGE] = 0xffff; /* SGIs */
    r->waker = GICR_WAKER_SLEEP | GICR_WAKER_ASLEEP;
    r->bpr[0] = GICV3_MIN_BPR0;
    r->bpr[1] = GICV3_MIN_BPR1;
    g->lpi_count[c] = 0;
    g->lpi_best[c] = 0;
    g->out_level[c][0] = g->out_level[c][1] = -1;
}

static void gicv3_reset(tes_device *dev, void *s)
{
    gicv3 *g = s;

    g->ctlr = 0;
    for (int k = 0; k < NUM_BITS; k++) {
        if (k != B_LEVEL) {
            memset(g->spi_bits[k], 0, sizeof(g->spi_bits[k]));
        }
    }
    memset(g->prio, 0, sizeof(g->prio));
    memset(g->irouter, 0, sizeof(g->irouter));
    for (unsigned i = 0; i < GICV3_MAX_IRQ; i++) {
        g->target[i] = 0; /* IROUTER 0: the vCPU of affinity 0.0.0.0 */
    }
    for (unsigned c = 0; c < GICV3_MAX_CPU; c++) {
        reset_cpu(g, c);
    }
    memset(g->lpi_pend, 0, (size_t)g->num_cpu * GICV3_NUM_IDS / 8);
    memset(g->lpi_cfg, 0, GICV3_NUM_IDS);
    gicv3_its_reset(g);
    gicv3_update_all(g);
}

/* ---- migration ---- */

/* Values register writes bound: a stream outside them would shift by
 * more than 31 or index past the active-priority bits. */
static int check_cpu(gicv3 *g, unsigned c)
{
    gicv3_cpu *r = &g->cpu[c];

    if (r->pmr > 0xff || r->bpr[0] < GICV3_MIN_BPR0 || r->bpr[0] > 7 ||
        r->bpr[1] < GICV3_MIN_BPR1 || r->bpr[1] > 7) {
        H->error(g->dev, "arm-gicv3: CPU interface %u: PMR %u or BPR %u/%u in the stream out "
                 "of range", c, r->pmr, r->bpr[0], r->bpr[1]);
        return -EINVAL;
    }
    return 0;
}

static int gicv3_post_load(tes_device *dev, void *s, uint32_t version)
{
    gicv3 *g = s;

    for (unsigned c = 0; c < g->num_cpu; c++) {
        if (check_cpu(g, c)) {
            return -EINVAL;
        }
    }
    if (gicv3_its_check(g)) {
        return -EINVAL;
    }
    for (unsigned i = 32; i < GICV3_MAX_IRQ; i++) {
        g->irouter[i] &= IROUTER_MASK;
        g->target[i] = gicv3_route(g, g->irouter[i]);
    }
    memset(g->lpi_cfg, 0, GICV3_NUM_IDS);
    for (unsigned c = 0; c < g->num_cpu; c++) {
        g->out_level[c][0] = g->out_level[c][1] = -1;
        if (g->cpu[c].ctlr & GICR_CTLR_ENABLE_LPIS) {
            gicv3_lpi_load_cfg(g, c, GICV3_LPI_BASE, GICV3_NUM_IDS - GICV3_LPI_BASE);
        }
    }
    gicv3_update_all(g);
    return 0;
}

/* The LPI pending bitmaps of the num_cpu redistributors. */
static int gicv3_save(tes_device *dev, void *s, tes_stream *out)
{
    gicv3 *g = s;

    H->stream_write(out, g->lpi_pend, (size_t)g->num_cpu * GICV3_NUM_IDS / 8);
    return 0;
}

static int gicv3_load(tes_device *dev, void *s, tes_stream *in, uint32_t version)
{
    gicv3 *g = s;

    if (H->stream_read(in, g->lpi_pend, (size_t)g->num_cpu * GICV3_NUM_IDS / 8)) {
        return -EIO;
    }
    for (unsigned c = 0; c < g->num_cpu; c++) {
        uint64_t *bm = lpi_bitmap(g, c);

        memset(bm, 0, GICV3_LPI_BASE / 8); /* IDs below 8192 are no LPIs */
        g->lpi_count[c] = 0;
        for (unsigned w = 0; w < GICV3_NUM_IDS / 64; w++) {
            g->lpi_count[c] += (uint32_t)__builtin_popcountll(bm[w]);
        }
    }
    return 0;
}

static const tes_state_field gicv3_fields[] = {
    TES_FIELD_U32(gicv3, ctlr),
    TES_FIELD_BYTES(gicv3, spi_bits),
    TES_FIELD_BYTES(gicv3, prio),
    TES_FIELD_ARRAY(gicv3, irouter, TES_FIELD_U64, GICV3_MAX_IRQ),
    TES_FIELD_BYTES(gicv3, cpu),
    TES_FIELD_U32(gicv3, its_ctlr),
    TES_FIELD_ARRAY(gicv3, its_baser, TES_FIELD_U64, 2),
    TES_FIELD_U64(gicv3, its_cbaser),
    TES_FIELD_U64(gicv3, its_cwriter),
    TES_FIELD_U64(gicv3, its_creadr),
    TES_FIELD_END,
};

static const tes_state_info gicv3_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = gicv3_fields,
    .post_load = gicv3_post_load,
    .save = gicv3_save,
    .load = gicv3_load,
};

static const tes_prop_info gicv3_props[] = {
    TES_PROP("num-cpu", TES_PROP_U32, gicv3, num_cpu, "1", 1, GICV3_MAX_CPU,
             "redistributors and CPU interfaces (vCPUs 0..N-1)"),
    TES_PROP("num-irq", TES_PROP_U32, gicv3, num_irq, "288", 64, GICV3_MAX_IRQ,
             "interrupt IDs including the 32 private ones (multiple of 32)"),
    TES_PROP("its", TES_PROP_BOOL, gicv3, has_its, "on", 0, 0, "an ITS and LPIs"),
    TES_PROP_END,
};

const tes_type_info arm_gicv3_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "arm-gicv3",
    .flags = TES_TYPE_NO_USER, /* created by its board */
    .desc = "GICv3 interrupt controller with an ITS",
    .bus = NULL,
    .instance_size = sizeof(gicv3),
    .props = gicv3_props,
    .realize = gicv3_realize,
    .unrealize = gicv3_unrealize,
    .reset = gicv3_reset,
    .state = &gicv3_state,
};
