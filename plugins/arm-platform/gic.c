/*
 * arm-gic: a GICv2 interrupt controller (ARM IHI 0048B) for up to 8 CPUs,
 * without the Security Extensions, plus a GICv2m MSI frame (ARM Server
 * Base System Architecture, appendix "GICv2m").
 *
 * User manual
 *
 *   -device arm-gic[,num-cpu=N][,num-irq=N][,v2m-base-spi=N][,v2m-num-spi=N]
 *
 *   num-cpu       (u32, 1..8, default 1) CPU interfaces; interface i serves
 *                 vCPU i.
 *   num-irq       (u32, 64..1024, multiple of 32, default 288) interrupt IDs
 *                 including the 32 private ones: 288 gives 256 SPIs, as
 *                 QEMU's virt. IDs 1020..1023 are never implemented.
 *   v2m-base-spi  (u32, default 48) first SPI of the MSI frame: SPI 48 is
 *                 interrupt ID 80, QEMU virt's choice.
 *   v2m-num-spi   (u32, default 64) SPIs the MSI frame may raise.
 *
 * Regions (host->dev_mmio(dev, i)), which the board maps: 0 the
 * distributor (GICD_*, 64 KiB), 1 the CPU interface (GICC_*, 64 KiB with
 * GICC_DIR at 0x1000), 2 the v2m frame (4 KiB).
 * Inputs (host->dev_irq_in(dev, i)): i < num-irq - 32 is SPI i (ID
 * 32 + i); then 16 PPIs per CPU: num-irq - 32 + 16 * cpu + (ID - 16) for
 * PPI ID 16..31 (the generic timers are 26, 27, 29, 30).
 * Outputs (host->dev_connect_irq(dev, i, ...)): i < num-cpu is the IRQ
 * line of CPU interface i, num-cpu + i its FIQ line (never raised: all
 * interrupts are Group 0 signalled as IRQ). The board wires them to
 * host->cpu_irq_in(cpu, TES_ARM_IRQ / TES_ARM_FIQ).
 *
 * Model: every interrupt is Group 0 and signalled as IRQ (IGROUPR is
 * RAZ/WI, GICC_CTLR.FIQEn is ignored). Banked registers (SGI/PPI state,
 * the CPU interface) are those of the accessing vCPU
 * (host->cpu_current(); its index is the interface), CPU 0 when none.
 * Level-sensitive interrupts are pending while their line is high (or a
 * write to ISPENDR latched them); edge-triggered ones latch on the rising
 * edge. SGIs are pending per source CPU, as GICv2 requires. Priorities
 * have 8 bits; the running priority is kept as a bitmap of the active
 * group priorities so that EOIR drops the highest (nested EOIs, 3.3.2).
 * Guest mistakes are logged under -d guest_errors.
 */
#include <errno.h>
#include <stdlib.h>

#include "platform.h"
#include "plat-trace.h"

#define GIC_MAX_IRQ 1024
#define GIC_NWORDS (GIC_MAX_IRQ / 32)
#define GIC_FIRST_SPECIAL 1020
#define GIC_SPURIOUS 1023
#define GIC_IDLE 0x100

#define GICD_CTLR_EN 0x1
#define GICC_CTLR_EN 0x1
#define GICC_CTLR_EOIMODE (1u << 9)
#define GICC_CTLR_MASK 0x3ffu

#define GICD_IIDR_VAL 0x0200043b /* ARM implementer, GIC-400 style */
#define GICC_IIDR_VAL 0x0202043b /* Linux checks this for GIC-400 */
#define V2M_IIDR_VAL 0x0000043b

#define GIC_DIST_SIZE 0x10000
#define GIC_CPU_SIZE 0x10000
#define GIC_V2M_SIZE 0x1000

#define GIC_MAX_CPU 8

/* Per-interrupt bits, banked per CPU for IDs 0..31. */
enum { B_ENABLED, B_PEND, B_ACTIVE, B_LEVEL, B_EDGE, NUM_BITS };

struct gic {
    tes_device *dev;
    tes_region *dist, *cpu, *v2m;
    uint32_t num_cpu, num_irq, v2m_base_spi, v2m_num_spi; /* properties */

    /* Distributor. spi_bits word 0 is unused: IDs 0..31 live in priv_bits.
     * B_PEND is the latch (edge, ISPENDR, SGI sources); the pending state
     * of a level-sensitive interrupt also includes its line. */
    uint32_t ctlr;
    uint32_t spi_bits[NUM_BITS][GIC_NWORDS];
    uint32_t priv_bits[NUM_BITS][GIC_MAX_CPU];
    uint8_t prio[GIC_MAX_IRQ];
    uint8_t priv_prio[GIC_MAX_CPU][32];
    uint8_t target[GIC_MAX_IRQ];
    uint8_t sgi_src[GIC_MAX_CPU][16]; /* [target][sgi]: source CPU mask */

    /* CPU interfaces. c_apr: bit p set while an interrupt of group
     * priority p is active (the running priority is the lowest set bit). */
    uint32_t c_ctlr[GIC_MAX_CPU], c_pmr[GIC_MAX_CPU];
    uint32_t c_bpr[GIC_MAX_CPU], c_abpr[GIC_MAX_CPU];
    uint32_t c_apr[GIC_MAX_CPU][8];

    /* Level last driven on each CPU's IRQ output; -1: unknown (resend). */
    int out_level[GIC_MAX_CPU];
};

/* ---- helpers ---- */

static unsigned cur_cpu(struct gic *g)
{
    tes_cpu *c = H->cpu_current();
    unsigned i = c ? H->cpu_index(c) : 0;

    return i < g->num_cpu ? i : 0;
}

static uint32_t cpu_mask(struct gic *g)
{
    return (1u << g->num_cpu) - 1;
}

static bool irq_ok(struct gic *g, unsigned irq)
{
    return irq < g->num_irq && irq < GIC_FIRST_SPECIAL;
}

static uint32_t *bits_word(struct gic *g, int kind, unsigned cpu, unsigned irq)
{
    return irq < 32 ? &g->priv_bits[kind][cpu] : &g->spi_bits[kind][irq / 32];
}

static bool test_bit(struct gic *g, int kind, unsigned cpu, unsigned irq)
{
    return (*bits_word(g, kind, cpu, irq) >> (irq % 32)) & 1;
}

static void put_bit(struct gic *g, int kind, unsigned cpu, unsigned irq, bool v)
{
    uint32_t *w = bits_word(g, kind, cpu, irq);

    *w = v ? *w | (1u << (irq % 32)) : *w & ~(1u << (irq % 32));
}

/* Pending state of 32 IDs from base: latch, or line high when level. */
static uint32_t pending_word(struct gic *g, unsigned cpu, unsigned base)
{
    uint32_t *p = base < 32 ? g->priv_bits[0] + cpu : g->spi_bits[0] + base / 32;
    unsigned stride = base < 32 ? GIC_MAX_CPU : GIC_NWORDS;

    return p[B_PEND * stride] | (p[B_LEVEL * stride] & ~p[B_EDGE * stride]);
}

static uint8_t *prio_ref(struct gic *g, unsigned cpu, unsigned irq)
{
    return irq < 32 ? &g->priv_prio[cpu][irq] : &g->prio[irq];
}

/* Group priority: the bits above the binary point (3.3.3, Table 3-2). */
static unsigned group_prio(struct gic *g, unsigned cpu, unsigned prio)
{
    return prio & (0xffu << (g->c_bpr[cpu] + 1)) & 0xff;
}

static unsigned running_prio(struct gic *g, unsigned cpu)
{
    for (unsigned i = 0; i < 8; i++) {
        if (g->c_apr[cpu][i]) {
            return i * 32 + __builtin_ctz(g->c_apr[cpu][i]);
        }
    }
    return GIC_IDLE;
}

static void set_sgi_pending_bit(struct gic *g, unsigned cpu, unsigned sgi)
{
    put_bit(g, B_PEND, cpu, sgi, g->sgi_src[cpu][sgi] != 0);
}

/* ---- signalling ---- */

/* Best candidate among the 32 IDs from base for cpu; keeps ties on the
 * lowest ID (the scan is ascending and strict). */
static void scan_word(struct gic *g, unsigned cpu, unsigned base, unsigned *best,
                      unsigned *best_prio)
{
    uint32_t w = pending_word(g, cpu, base) & *bits_word(g, B_ENABLED, cpu, base) &
                 ~*bits_word(g, B_ACTIVE, cpu, base);

    while (w) {
        unsigned irq = base + __builtin_ctz(w);
        unsigned p = *prio_ref(g, cpu, irq);

        w &= w - 1;
        if (irq >= 32 && g->num_cpu > 1 && !(g->target[irq] & (1u << cpu))) {
            continue;
        }
        if (p < *best_prio) {
            *best = irq;
            *best_prio = p;
        }
    }
}

/* Highest priority pending interrupt for cpu (active ones are not
 * forwarded), GIC_SPURIOUS when none. */
static unsigned hppi(struct gic *g, unsigned cpu, unsigned *prio)
{
    unsigned best = GIC_SPURIOUS;

    *prio = GIC_IDLE;
    for (unsigned base = 0; base < g->num_irq; base += 32) {
        scan_word(g, cpu, base, &best, prio);
    }
    return best;
}

/* The interrupt cpu's interface would signal now, or GIC_SPURIOUS: above
 * the priority mask and preempting the running priority (3.3.3). */
static unsigned signalled(struct gic *g, unsigned cpu, unsigned *prio)
{
    unsigned irq;

    if (!(g->ctlr & GICD_CTLR_EN) || !(g->c_ctlr[cpu] & GICC_CTLR_EN)) {
        return GIC_SPURIOUS;
    }
    irq = hppi(g, cpu, prio);
    if (irq == GIC_SPURIOUS || *prio >= g->c_pmr[cpu] ||
        group_prio(g, cpu, *prio) >= running_prio(g, cpu)) {
        return GIC_SPURIOUS;
    }
    return irq;
}

static void gic_update(struct gic *g)
{
    for (unsigned cpu = 0; cpu < g->num_cpu; cpu++) {
        unsigned prio;
        int level = signalled(g, cpu, &prio) != GIC_SPURIOUS;

        if (g->out_level[cpu] != level) {
            g->out_level[cpu] = level;
            H->dev_set_irq(g->dev, cpu, level);
        }
    }
}

/* An input line changed: record the level, latch a rising edge. */
static void set_line(struct gic *g, unsigned cpu, unsigned irq, int level)
{
    bool old = test_bit(g, B_LEVEL, cpu, irq);

    if (old == !!level) {
        return;
    }
    put_bit(g, B_LEVEL, cpu, irq, level);
    if (level && test_bit(g, B_EDGE, cpu, irq)) {
        put_bit(g, B_PEND, cpu, irq, true);
    }
    gic_update(g);
}

/* Input i: SPI i, then 16 PPIs per CPU (see the manual above). */
static void in_handler(void *opaque, int n, int level)
{
    struct gic *g = opaque;
    unsigned nspi = g->num_irq - 32;

    if ((unsigned)n < nspi) {
        set_line(g, 0, 32 + (unsigned)n, level);
    } else {
        n -= (int)nspi;
        set_line(g, (unsigned)n / 16, 16 + (unsigned)n % 16, level);
    }
}

/* ---- CPU interface: acknowledge and end of interrupt ---- */

static uint32_t cpu_ack(struct gic *g, unsigned cpu)
{
    unsigned prio, src = 0;
    unsigned irq = signalled(g, cpu, &prio);
    unsigned gp;

    if (irq == GIC_SPURIOUS) {
        return GIC_SPURIOUS;
    }
    if (irq < 16) {
        /* One source at a time; the SGI stays pending for the others. */
        src = __builtin_ctz(g->sgi_src[cpu][irq]);
        g->sgi_src[cpu][irq] &= ~(1u << src);
        set_sgi_pending_bit(g, cpu, irq);
    } else {
        put_bit(g, B_PEND, cpu, irq, false);
    }
    put_bit(g, B_ACTIVE, cpu, irq, true);
    gp = group_prio(g, cpu, prio);
    g->c_apr[cpu][gp / 32] |= 1u << (gp % 32);
    gic_update(g);
    return irq | src << 10;
}

static void drop_running_prio(struct gic *g, unsigned cpu)
{
    for (unsigned i = 0; i < 8; i++) {
        if (g->c_apr[cpu][i]) {
            g->c_apr[cpu][i] &= g->c_apr[cpu][i] - 1;
            return;
        }
    }
}

static void cpu_eoi(struct gic *g, unsigned cpu, uint32_t val)
{
    unsigned irq = val & 0x3ff;

    if (!irq_ok(g, irq) || !test_bit(g, B_ACTIVE, cpu, irq)) {
        H->log(TES_LOG_GUEST_ERROR, "arm-gic: EOIR of interrupt %u, which is not active on "
               "CPU %u", irq, cpu);
        return;
    }
    drop_running_prio(g, cpu);
    if (!(g->c_ctlr[cpu] & GICC_CTLR_EOIMODE)) {
        put_bit(g, B_ACTIVE, cpu, irq, false);
    }
    gic_update(g);
}

static void cpu_dir(struct gic *g, unsigned cpu, uint32_t val)
{
    unsigned irq = val & 0x3ff;

    if (!(g->c_ctlr[cpu] & GICC_CTLR_EOIMODE)) {
        H->log(TES_LOG_GUEST_ERROR, "arm-gic: GICC_DIR written with GICC_CTLR.EOImode 0");
        return;
    }
    if (irq_ok(g, irq)) {
        put_bit(g, B_ACTIVE, cpu, irq, false);
        gic_update(g);
    }
}

static uint32_t cpu_hppir(struct gic *g, unsigned cpu)
{
    unsigned prio, irq;

    if (!(g->ctlr & GICD_CTLR_EN) || !(g->c_ctlr[cpu] & GICC_CTLR_EN)) {
        return GIC_SPURIOUS;
    }
    irq = hppi(g, cpu, &prio);
    if (irq == GIC_SPURIOUS || prio >= g->c_pmr[cpu]) {
        return GIC_SPURIOUS;
    }
    return irq < 16 ? irq | (unsigned)__builtin_ctz(g->sgi_src[cpu][irq]) << 10 : irq;
}

static uint64_t cpu_read(void *opaque, uint64_t off, unsigned size)
{
    struct gic *g = opaque;
    unsigned cpu = cur_cpu(g);
    unsigned rp;

    switch (off) {
    case 0x00: return g->c_ctlr[cpu];
    case 0x04: return g->c_pmr[cpu];
    case 0x08: return g->c_bpr[cpu];
    case 0x0c: return cpu_ack(g, cpu);
    case 0x14:
        rp = running_prio(g, cpu);
        return rp == GIC_IDLE ? 0xff : rp;
    case 0x18: return cpu_hppir(g, cpu);
    case 0x1c: return g->c_abpr[cpu];
    case 0x20: case 0x28: return GIC_SPURIOUS; /* no Group 1 interrupts */
    case 0xfc: return GICC_IIDR_VAL;
    }
    if (off >= 0xd0 && off < 0xf0) {
        return 0; /* GICC_APRn / GICC_NSAPRn: RAZ/WI, allowed by 4.4.14 */
    }
    H->log(TES_LOG_GUEST_ERROR, "arm-gic: read of unknown GICC register 0x%llx",
           (unsigned long long)off);
    return 0;
}

static void cpu_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    struct gic *g = opaque;
    unsigned cpu = cur_cpu(g);

    switch (off) {
    case 0x00: g->c_ctlr[cpu] = val & GICC_CTLR_MASK; break;
    case 0x04: g->c_pmr[cpu] = val & 0xff; break;
    case 0x08: g->c_bpr[cpu] = val & 7; break;
    case 0x10: cpu_eoi(g, cpu, val); return;
    case 0x1c: g->c_abpr[cpu] = (val & 7) ? (val & 7) : 1; break;
    case 0x24: return; /* GICC_AEOIR: nothing is Group 1 */
    case 0x1000: cpu_dir(g, cpu, val); return;
    default:
        if (off >= 0xd0 && off < 0xf0) {
            return;
        }
        H->log(TES_LOG_GUEST_ERROR, "arm-gic: write of 0x%llx to %s GICC register 0x%llx",
               (unsigned long long)val, off == 0x0c || off == 0x14 || off == 0x18 || off == 0xfc
               ? "read-only" : "unknown", (unsigned long long)off);
        return;
    }
    gic_update(g);
}

/* ---- distributor ---- */

/* Writable bits of the bit register covering IDs base..base+31. */
static uint32_t impl_mask(struct gic *g, unsigned base)
{
    if (base >= g->num_irq) {
        return 0;
    }
    return base + 32 > GIC_FIRST_SPECIAL ? (1u << (GIC_FIRST_SPECIAL - base)) - 1 : ~0u;
}

static uint32_t bits_read(struct gic *g, int kind, unsigned cpu, unsigned base)
{
    if (!impl_mask(g, base)) {
        return 0;
    }
    if (kind == B_PEND) {
        return pending_word(g, cpu, base);
    }
    return *bits_word(g, kind, cpu, base);
}

/* Set (or clear) bits of ISENABLER..ICACTIVER. SGI pending state only
 * changes through SPENDSGIR/CPENDSGIR in GICv2 (4.3.7, 4.3.8). */
static void bits_write(struct gic *g, int kind, unsigned cpu, unsigned base, uint32_t v, bool set)
{
    uint32_t *w = bits_word(g, kind, cpu, base);

    v &= impl_mask(g, base);
    if (kind == B_PEND && base == 0) {
        v &= ~0xffffu;
    }
    *w = set ? *w | v : *w & ~v;
}

static uint32_t icfgr_read(struct gic *g, unsigned cpu, unsigned base)
{
    uint32_t v = 0;

    for (unsigned i = 0; i < 16; i++) {
        if (irq_ok(g, base + i) && test_bit(g, B_EDGE, cpu, base + i)) {
            v |= 2u << (2 * i);
        }
    }
    return v;
}

static void icfgr_write(struct gic *g, unsigned cpu, unsigned base, uint32_t v)
{
    for (unsigned i = 0; i < 16; i++) {
        unsigned irq = base + i;

        /* SGIs are always edge-triggered (ICFGR0 is read-only). */
        if (irq >= 16 && irq_ok(g, irq)) {
            put_bit(g, B_EDGE, cpu, irq, (v >> (2 * i + 1)) & 1);
        }
    }
}

static void sgir_write(struct gic *g, unsigned cpu, uint32_t v)
{
    unsigned sgi = v & 0xf;
    uint32_t targets;

    switch ((v >> 24) & 3) {
    case 0: targets = (v >> 16) & 0xff; break;
    case 1: targets = ~(1u << cpu); break;
    case 2: targets = 1u << cpu; break;
    default:
        H->log(TES_LOG_GUEST_ERROR, "arm-gic: GICD_SGIR with reserved filter 3 ignored");
        return;
    }
    targets &= cpu_mask(g);
    for (unsigned t = 0; t < g->num_cpu; t++) {
        if (targets & (1u << t)) {
            g->sgi_src[t][sgi] |= 1u << cpu;
            set_sgi_pending_bit(g, t, sgi);
        }
    }
}

/* Byte-wide registers: IPRIORITYR, ITARGETSR, CPENDSGIR, SPENDSGIR. */
static bool is_byte_reg(uint64_t off)
{
    return (off >= 0x400 && off < 0xc00) || (off >= 0xf10 && off < 0xf30);
}

static uint8_t dist_read_byte(struct gic *g, unsigned cpu, uint64_t off)
{
    unsigned irq = (off - 0x400) & 0x3ff;

    if (off >= 0xf10) {
        return g->sgi_src[cpu][(off - 0xf10) & 0xf];
    }
    if (!irq_ok(g, irq)) {
        return 0;
    }
    if (off < 0x800) {
        return *prio_ref(g, cpu, irq);
    }
    /* ITARGETSR: private IDs read the accessing CPU's own bit (4.3.12). */
    if (irq < 32) {
        return 1u << cpu;
    }
    return g->num_cpu == 1 ? 1 : g->target[irq];
}

static void dist_write_byte(struct gic *g, unsigned cpu, uint64_t off, uint8_t v)
{
    unsigned irq = (off - 0x400) & 0x3ff;

    if (off >= 0xf10) {
        unsigned sgi = (off - 0xf10) & 0xf;

        if (off >= 0xf20) {
            g->sgi_src[cpu][sgi] |= v & cpu_mask(g);
        } else {
            g->sgi_src[cpu][sgi] &= ~v;
        }
        set_sgi_pending_bit(g, cpu, sgi);
    } else if (!irq_ok(g, irq)) {
        return;
    } else if (off < 0x800) {
        *prio_ref(g, cpu, irq) = v;
    } else if (irq >= 32) {
        g->target[irq] = v & cpu_mask(g);
    }
}

static uint32_t dist_read_id(uint64_t off)
{
    /* GIC-400 identification; PIDR2 0x2b = ArchRev 2 (GICv2). */
    static const uint8_t pidr[] = {0x90, 0xb4, 0x2b, 0x00};
    static const uint8_t cidr[] = {0x0d, 0xf0, 0x05, 0xb1};

    if (off == 0xfd0) {
        return 0x04;
    }
    if (off >= 0xfe0 && off < 0xff0) {
        return pidr[(off - 0xfe0) / 4];
    }
    if (off >= 0xff0) {
        return cidr[(off - 0xff0) / 4];
    }
    return 0;
}

static uint32_t dist_read_word(struct gic *g, unsigned cpu, uint64_t off)
{
    unsigned base = (off & 0x7f) * 8; /* first ID of a bit register */

    switch (off) {
    case 0x000: return g->ctlr;
    case 0x004: return (g->num_irq / 32 - 1) | (g->num_cpu - 1) << 5;
    case 0x008: return GICD_IIDR_VAL;
    }
    switch (off & ~0x7full) {
    case 0x100: case 0x180: return bits_read(g, B_ENABLED, cpu, base);
    case 0x200: case 0x280: return bits_read(g, B_PEND, cpu, base);
    case 0x300: case 0x380: return bits_read(g, B_ACTIVE, cpu, base);
    }
    if (off >= 0xc00 && off < 0xd00) {
        return icfgr_read(g, cpu, (off - 0xc00) * 4);
    }
    if (off >= 0xfd0 && off < 0x1000) {
        return dist_read_id(off);
    }
    /* IGROUPR (all Group 0), NSACR, PPI/SPI status, SGIR: read as zero. */
    return 0;
}

static void dist_write_word(struct gic *g, unsigned cpu, uint64_t off, uint32_t v)
{
    unsigned base = (off & 0x7f) * 8;

    switch (off & ~0x7full) {
    case 0x100: bits_write(g, B_ENABLED, cpu, base, v, true); return;
    case 0x180: bits_write(g, B_ENABLED, cpu, base, v, false); return;
    case 0x200: bits_write(g, B_PEND, cpu, base, v, true); return;
    case 0x280: bits_write(g, B_PEND, cpu, base, v, false); return;
    case 0x300: bits_write(g, B_ACTIVE, cpu, base, v, true); return;
    case 0x380: bits_write(g, B_ACTIVE, cpu, base, v, false); return;
    }
    if (off == 0x000) {
        g->ctlr = v & 3;
    } else if (off >= 0xc00 && off < 0xd00) {
        icfgr_write(g, cpu, (off - 0xc00) * 4, v);
    } else if (off == 0xf00) {
        sgir_write(g, cpu, v);
    } else if (!(off >= 0x80 && off < 0x100) && off != 0xe00) {
        H->log(TES_LOG_GUEST_ERROR, "arm-gic: write of 0x%x to %s GICD register 0x%llx", v,
               off < 0x10 || off >= 0xd00 ? "read-only" : "unknown", (unsigned long long)off);
    }
}

static uint64_t dist_read(void *opaque, uint64_t off, unsigned size)
{
    struct gic *g = opaque;
    unsigned cpu = cur_cpu(g);
    uint64_t v = 0;

    if (is_byte_reg(off)) {
        for (unsigned i = 0; i < size; i++) {
            v |= (uint64_t)dist_read_byte(g, cpu, off + i) << (8 * i);
        }
        return v;
    }
    if (size != 4 || (off & 3)) {
        H->log(TES_LOG_GUEST_ERROR, "arm-gic: %u-byte read of GICD register 0x%llx", size,
               (unsigned long long)off);
        return 0;
    }
    return off < 0x1000 ? dist_read_word(g, cpu, off) : 0;
}

static void dist_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    struct gic *g = opaque;
    unsigned cpu = cur_cpu(g);

    if (is_byte_reg(off)) {
        for (unsigned i = 0; i < size; i++) {
            dist_write_byte(g, cpu, off + i, val >> (8 * i));
        }
    } else if (size != 4 || (off & 3)) {
        H->log(TES_LOG_GUEST_ERROR, "arm-gic: %u-byte write of GICD register 0x%llx", size,
               (unsigned long long)off);
        return;
    } else if (off < 0x1000) {
        dist_write_word(g, cpu, off, val);
    }
    gic_update(g);
}

/* ---- GICv2m MSI frame ---- */

static uint64_t v2m_read(void *opaque, uint64_t off, unsigned size)
{
    struct gic *g = opaque;

    switch (off) {
    case 0x008: /* MSI_TYPER: first interrupt ID << 16 | number of SPIs */
        return (32 + g->v2m_base_spi) << 16 | g->v2m_num_spi;
    case 0xfcc: return V2M_IIDR_VAL;
    }
    return 0;
}

static void v2m_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    struct gic *g = opaque;
    unsigned id = val & 0x3ff;

    if (off != 0x040) {
        H->log(TES_LOG_GUEST_ERROR, "arm-gic: v2m write to 0x%llx ignored",
               (unsigned long long)off);
        return;
    }
    /* MSI_SETSPI_NS: the SPI whose ID is written sees a rising edge. */
    if (id < 32 + g->v2m_base_spi || id >= 32 + g->v2m_base_spi + g->v2m_num_spi) {
        H->log(TES_LOG_GUEST_ERROR, "arm-gic: MSI_SETSPI_NS of ID %u outside the frame's "
               "%u..%u", id, 32 + g->v2m_base_spi, 32 + g->v2m_base_spi + g->v2m_num_spi - 1);
        return;
    }
    put_bit(g, B_PEND, 0, id, true);
    gic_update(g);
}

TES_TRACE_RW_WRAP(dist, dist_read, dist_write, gic_dist_read, gic_dist_write)

static const tes_mem_ops dist_ops = {
    .size = sizeof(tes_mem_ops),
    .read = dist_traced_read,
    .write = dist_traced_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 4,
    .impl_min = 1, .impl_max = 4,
};

TES_TRACE_RW_WRAP(cpu, cpu_read, cpu_write, gic_cpu_read, gic_cpu_write)

static const tes_mem_ops cpu_ops = {
    .size = sizeof(tes_mem_ops),
    .read = cpu_traced_read,
    .write = cpu_traced_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 4, .valid_max = 4,
    .impl_min = 4, .impl_max = 4,
};

TES_TRACE_RW_WRAP(v2m, v2m_read, v2m_write, gicv2m_read, gicv2m_write)

static const tes_mem_ops v2m_ops = {
    .size = sizeof(tes_mem_ops),
    .read = v2m_traced_read,
    .write = v2m_traced_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 2, .valid_max = 4,
    .impl_min = 4, .impl_max = 4,
};

/* ---- life cycle ---- */

static void gic_reset(tes_device *dev, void *s);

static bool check_props(tes_device *dev, struct gic *g)
{
    if (g->num_irq < 64 || g->num_irq > GIC_MAX_IRQ || g->num_irq % 32) {
        H->error(dev, "arm-gic: property 'num-irq' wants a multiple of 32 in 64..1024, got %u",
                 g->num_irq);
        return false;
    }
    if ((uint64_t)g->v2m_base_spi + g->v2m_num_spi > g->num_irq - 32 ||
        32 + g->v2m_base_spi + g->v2m_num_spi > GIC_FIRST_SPECIAL) {
        H->error(dev, "arm-gic: v2m SPIs %u..+%u do not fit the %u SPIs of num-irq",
                 g->v2m_base_spi, g->v2m_num_spi, g->num_irq - 32);
        return false;
    }
    return true;
}

static int gic_realize(tes_device *dev, void *s)
{
    struct gic *g = s;
    unsigned nspi = g->num_irq - 32;

    if (!check_props(dev, g)) {
        return -EINVAL;
    }
    g->dev = dev;
    g->dist = H->region_new_io(dev, "gic-dist", GIC_DIST_SIZE, &dist_ops, g);
    g->cpu = H->region_new_io(dev, "gic-cpu", GIC_CPU_SIZE, &cpu_ops, g);
    g->v2m = H->region_new_io(dev, "gic-v2m", GIC_V2M_SIZE, &v2m_ops, g);
    H->dev_init_mmio(dev, g->dist);
    H->dev_init_mmio(dev, g->cpu);
    H->dev_init_mmio(dev, g->v2m);
    H->dev_init_irq_in(dev, in_handler, g, nspi + 16 * g->num_cpu);
    H->dev_init_irqs(dev, 2 * g->num_cpu); /* IRQ then FIQ of each CPU */
    for (unsigned c = 0; c < GIC_MAX_CPU; c++) {
        g->out_level[c] = -1;
    }
    gic_reset(dev, g); /* the core resets devices at machine start only */
    return 0;
}

/* Reset values of 4.3 and 4.4; input line levels are kept: they belong to
 * the devices driving them. */
static void gic_reset(tes_device *dev, void *s)
{
    struct gic *g = s;

    g->ctlr = 0;
    for (int k = 0; k < NUM_BITS; k++) {
        if (k != B_LEVEL) {
            memset(g->spi_bits[k], 0, sizeof(g->spi_bits[k]));
            memset(g->priv_bits[k], 0, sizeof(g->priv_bits[k]));
        }
    }
    memset(g->prio, 0, sizeof(g->prio));
    memset(g->priv_prio, 0, sizeof(g->priv_prio));
    memset(g->target, 0, sizeof(g->target));
    memset(g->sgi_src, 0, sizeof(g->sgi_src));
    memset(g->c_apr, 0, sizeof(g->c_apr));
    for (unsigned c = 0; c < GIC_MAX_CPU; c++) {
        g->priv_bits[B_EDGE][c] = 0xffff; /* SGIs */
        g->c_ctlr[c] = g->c_pmr[c] = g->c_bpr[c] = 0;
        g->c_abpr[c] = 1;
    }
    gic_update(g);
}

/* Values the register writes bound (c_bpr & 7, targets & cpu_mask...):
 * a stream outside them would shift by 2^32 or signal absent CPUs. */
static int gic_cpu_check(struct gic *g, unsigned c)
{
    if (g->c_bpr[c] > 7 || g->c_abpr[c] < 1 || g->c_abpr[c] > 7 || g->c_pmr[c] > 0xff) {
        H->error(g->dev, "CPU interface %u: BPR %u, ABPR %u or PMR %u in the stream out of "
                 "range", c, g->c_bpr[c], g->c_abpr[c], g->c_pmr[c]);
        return -EINVAL;
    }
    for (unsigned i = 0; i < 16; i++) {
        if (g->sgi_src[c][i] & ~cpu_mask(g)) {
            H->error(g->dev, "SGI %u of CPU %u: sources 0x%x in the stream, %u CPUs", i, c,
                     g->sgi_src[c][i], g->num_cpu);
            return -EINVAL;
        }
    }
    return 0;
}

static int gic_state_check(struct gic *g)
{
    for (unsigned c = 0; c < GIC_MAX_CPU; c++) {
        if (gic_cpu_check(g, c)) {
            return -EINVAL;
        }
    }
    for (unsigned irq = 0; irq < GIC_MAX_IRQ; irq++) {
        if (g->target[irq] & ~cpu_mask(g)) {
            H->error(g->dev, "IRQ %u: targets 0x%x in the stream, %u CPUs", irq,
                     g->target[irq], g->num_cpu);
            return -EINVAL;
        }
    }
    return 0;
}

static int gic_post_load(tes_device *dev, void *s, uint32_t version)
{
    struct gic *g = s;

    if (gic_state_check(g)) {
        return -EINVAL;
    }

    for (unsigned c = 0; c < GIC_MAX_CPU; c++) {
        g->out_level[c] = -1;
    }
    gic_update(g);
    return 0;
}

static const tes_state_field gic_fields[] = {
    TES_FIELD_U32(struct gic, ctlr),
    TES_FIELD_BYTES(struct gic, spi_bits),
    TES_FIELD_BYTES(struct gic, priv_bits),
    TES_FIELD_BYTES(struct gic, prio),
    TES_FIELD_BYTES(struct gic, priv_prio),
    TES_FIELD_BYTES(struct gic, target),
    TES_FIELD_BYTES(struct gic, sgi_src),
    TES_FIELD_ARRAY(struct gic, c_ctlr, TES_FIELD_U32, GIC_MAX_CPU),
    TES_FIELD_ARRAY(struct gic, c_pmr, TES_FIELD_U32, GIC_MAX_CPU),
    TES_FIELD_ARRAY(struct gic, c_bpr, TES_FIELD_U32, GIC_MAX_CPU),
    TES_FIELD_ARRAY(struct gic, c_abpr, TES_FIELD_U32, GIC_MAX_CPU),
    TES_FIELD_BYTES(struct gic, c_apr),
    TES_FIELD_END,
};

static const tes_state_info gic_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = gic_fields,
    .post_load = gic_post_load,
};

static const tes_prop_info gic_props[] = {
    TES_PROP("num-cpu", TES_PROP_U32, struct gic, num_cpu, "1", 1, GIC_MAX_CPU,
             "CPU interfaces (vCPUs 0..N-1)"),
    TES_PROP("num-irq", TES_PROP_U32, struct gic, num_irq, "288", 64, GIC_MAX_IRQ,
             "interrupt IDs including the 32 private ones (multiple of 32)"),
    TES_PROP("v2m-base-spi", TES_PROP_U32, struct gic, v2m_base_spi, "48", 0, 987,
             "first SPI of the GICv2m MSI frame (ID 32 + N)"),
    TES_PROP("v2m-num-spi", TES_PROP_U32, struct gic, v2m_num_spi, "64", 0, 988,
             "SPIs the GICv2m MSI frame may raise"),
    TES_PROP_END,
};

const tes_type_info arm_gic_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "arm-gic",
    .flags = TES_TYPE_NO_USER, /* created by its board or host bridge */
    .desc = "GICv2 interrupt controller with a GICv2m MSI frame",
    .bus = NULL,
    .instance_size = sizeof(struct gic),
    .props = gic_props,
    .realize = gic_realize,
    .reset = gic_reset,
    .state = &gic_state,
};
