/*
 * arm-gicv3: the memory-mapped registers of the distributor (GICD_*) and
 * of the redistributors (GICR_*: RD_base and SGI_base frames of each vCPU)
 * with affinity routing (Arm IHI 0069, 12.9 and 12.10). They change the
 * state gicv3.c signals from; the accessing vCPU does not matter (nothing
 * is banked by CPU once ARE is set: each redistributor has its frames).
 *
 * Access sizes: 32-bit registers take 32-bit accesses, IPRIORITYR bytes
 * too, IROUTER and the 64-bit GICR registers 64-bit or two 32-bit halves;
 * anything else is a logged guest error.
 */
#include "gicv3.h"
#include "plat-trace.h"

#define GICD_IIDR_VAL 0x0000043b /* Arm implementer; no product quirks */
#define GICR_IIDR_VAL 0x0000043b

#define GICR_TYPER_PLPIS (1ull << 0)
#define GICR_TYPER_LAST (1ull << 4)

/* GICR_PROPBASER: IDbits, caches, shareability, PA 51:12, outer cache. */
#define PROPBASER_MASK 0x070fffffffffff9full
/* GICR_PENDBASER: caches, shareability, PA 51:16, outer cache (PTZ is
 * write-only). */
#define PENDBASER_MASK 0x070fffffffff0f80ull

/* ---- registers shared by the distributor and the SGI frame ---- */

/* Bit registers IGROUPR..ICACTIVER (0x080..0x3ff) of the 32 IDs from
 * base; base 0 is the redistributor's SGI frame of cpu. */
static uint32_t bits_read(gicv3 *g, unsigned cpu, uint64_t off, unsigned base)
{
    static const int kind[] = {B_GROUP, B_ENABLED, B_ENABLED, B_PEND, B_PEND, B_ACTIVE, B_ACTIVE};
    int k = kind[(off >> 7) - 1];

    if (base >= g->num_irq) {
        return 0;
    }
    return k == B_PEND ? pending_word(g, cpu, base) : *bits_word(g, k, cpu, base);
}

static void bits_write(gicv3 *g, unsigned cpu, uint64_t off, unsigned base, uint32_t v)
{
    static const int kind[] = {B_GROUP, B_ENABLED, B_ENABLED, B_PEND, B_PEND, B_ACTIVE, B_ACTIVE};
    unsigned reg = (unsigned)(off >> 7) - 1;
    uint32_t *w;

    if (base >= g->num_irq) {
        return;
    }
    if (base + 32 > GICV3_FIRST_SPECIAL) {
        v &= (1u << (GICV3_FIRST_SPECIAL - base)) - 1;
    }
    w = bits_word(g, kind[reg], cpu, base);
    if (reg == 0) {
        *w = v; /* IGROUPR */
    } else if (reg % 2) {
        *w |= v; /* IS*R */
    } else {
        *w &= ~v; /* IC*R */
    }
}

static uint32_t icfgr_read(gicv3 *g, unsigned cpu, unsigned base)
{
    uint32_t v = 0;

    for (unsigned i = 0; i < 16; i++) {
        if (base + i < g->num_irq && test_bit(g, B_EDGE, cpu, base + i)) {
            v |= 2u << (2 * i);
        }
    }
    return v;
}

static void icfgr_write(gicv3 *g, unsigned cpu, unsigned base, uint32_t v)
{
    for (unsigned i = 0; i < 16; i++) {
        unsigned irq = base + i;

        /* SGIs are always edge-triggered (ICFGR0 is read-only). */
        if (irq >= 16 && irq < g->num_irq && irq < GICV3_FIRST_SPECIAL) {
            put_bit(g, B_EDGE, cpu, irq, (v >> (2 * i + 1)) & 1);
        }
    }
}

/* PIDR/CIDR: GIC-500 style identification, PIDR2.ArchRev 3 (GICv3),
 * which Linux checks on the distributor, every redistributor frame and
 * the ITS. */
uint32_t gicv3_id_read(uint64_t off)
{
    static const uint8_t pidr[] = {0x92, 0xb4, 0x3b, 0x00};
    static const uint8_t cidr[] = {0x0d, 0xf0, 0x05, 0xb1};

    off &= 0xffff;
    if (off == 0xffd0) {
        return 0x04;
    }
    if (off >= 0xffe0 && off < 0xfff0) {
        return pidr[(off - 0xffe0) / 4];
    }
    if (off >= 0xfff0) {
        return cidr[(off - 0xfff0) / 4];
    }
    return 0;
}

/* ---- distributor ---- */

static uint64_t gicd_typer(gicv3 *g)
{
    return (g->num_irq / 32 - 1) | (GICV3_ID_BITS - 1) << 19 | 1u << 25 /* No1N */ |
           1u << 26 /* RSS */ | (g->has_its ? 1u << 17 : 0) /* LPIS */;
}

static void irouter_write(gicv3 *g, unsigned irq, uint64_t v, uint64_t mask)
{
    int16_t old = g->target[irq];

    g->irouter[irq] = ((g->irouter[irq] & ~mask) | (v & mask)) & IROUTER_MASK;
    g->target[irq] = gicv3_route(g, g->irouter[irq]);
    if (old >= 0) {
        gicv3_update(g, (unsigned)old);
    }
}

static uint64_t dist_read_reg(gicv3 *g, uint64_t off)
{
    if (off >= 0x6100 && off < 0x7fe0) {
        unsigned irq = (unsigned)((off - 0x6000) / 8);

        return spi_ok(g, irq) ? g->irouter[irq] >> (off & 4 ? 32 : 0) : 0;
    }
    if (off >= 0x80 && off < 0x400) {
        return (off & 0x7f) ? bits_read(g, 0, off, (off & 0x7f) * 8) : 0;
    }
    if (off >= 0xc08 && off < 0xd00) {
        return icfgr_read(g, 0, (unsigned)(off - 0xc00) * 4);
    }
    switch (off) {
    case 0x0000: return g->ctlr | GICD_CTLR_ARE | GICD_CTLR_DS;
    case 0x0004: return (uint32_t)gicd_typer(g);
    case 0x0008: return GICD_IIDR_VAL;
    }
    return off >= 0xffd0 ? gicv3_id_read(off) : 0;
}

static void dist_write_reg(gicv3 *g, uint64_t off, uint32_t v)
{
    if (off >= 0x6100 && off < 0x7fe0) {
        unsigned irq = (unsigned)((off - 0x6000) / 8);

        if (spi_ok(g, irq)) {
            irouter_write(g, irq, (uint64_t)v << (off & 4 ? 32 : 0),
                          0xffffffffull << (off & 4 ? 32 : 0));
        }
    } else if (off >= 0x80 && off < 0x400) {
        if (off & 0x7f) {
            bits_write(g, 0, off, (off & 0x7f) * 8, v);
        }
    } else if (off >= 0xc08 && off < 0xd00) {
        icfgr_write(g, 0, (unsigned)(off - 0xc00) * 4, v);
    } else if (off == 0x0000) {
        g->ctlr = v & (GICD_CTLR_EN_GRP0 | GICD_CTLR_EN_GRP1);
    } else if (off < 0x80 || off >= 0xffd0) {
        H->log(TES_LOG_GUEST_ERROR, "arm-gicv3: write of 0x%x to read-only GICD register "
               "0x%llx", v, (unsigned long long)off);
    }
    /* ITARGETSR, IGRPMODR, NSACR, SGIR and friends: RAZ/WI with ARE. */
}

static uint64_t dist_read(void *opaque, uint64_t off, unsigned size)
{
    gicv3 *g = opaque;
    uint64_t v = 0;

    if (off >= 0x400 && off < 0x800) {
        for (unsigned i = 0; i < size; i++) {
            unsigned irq = (unsigned)(off - 0x400) + i;
            v |= (uint64_t)(spi_ok(g, irq) ? g->prio[irq] : 0) << (8 * i);
        }
        return v;
    }
    if (size == 8 && !(off & 7) && off >= 0x6000 && off < 0x8000) {
        return dist_read_reg(g, off) | dist_read_reg(g, off + 4) << 32;
    }
    if (size != 4 || (off & 3)) {
        H->log(TES_LOG_GUEST_ERROR, "arm-gicv3: %u-byte read of GICD register 0x%llx", size,
               (unsigned long long)off);
        return 0;
    }
    return (uint32_t)dist_read_reg(g, off);
}

static void dist_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    gicv3 *g = opaque;

    if (off >= 0x400 && off < 0x800) {
        for (unsigned i = 0; i < size; i++) {
            unsigned irq = (unsigned)(off - 0x400) + i;
            if (spi_ok(g, irq)) {
                g->prio[irq] = (uint8_t)(val >> (8 * i)) & GICV3_PRI_MASK;
            }
        }
    } else if (size == 8 && !(off & 7) && off >= 0x6000 && off < 0x8000) {
        dist_write_reg(g, off, (uint32_t)val);
        dist_write_reg(g, off + 4, (uint32_t)(val >> 32));
    } else if (size != 4 || (off & 3)) {
        H->log(TES_LOG_GUEST_ERROR, "arm-gicv3: %u-byte write of GICD register 0x%llx", size,
               (unsigned long long)off);
        return;
    } else {
        dist_write_reg(g, off, (uint32_t)val);
    }
    gicv3_update_all(g);
}

/* ---- redistributors ---- */

static uint64_t gicr_typer(gicv3 *g, unsigned cpu)
{
    return (uint64_t)gicv3_cpu_aff(g, cpu) << 32 | (uint64_t)cpu << 8 |
           (cpu == g->num_cpu - 1 ? GICR_TYPER_LAST : 0) | (g->has_its ? GICR_TYPER_PLPIS : 0);
}

static uint64_t rd_read_reg(gicv3 *g, unsigned cpu, uint64_t off)
{
    gicv3_cpu *c = &g->cpu[cpu];

    switch (off) {
    case 0x0000: return c->ctlr;
    case 0x0004: return GICR_IIDR_VAL;
    case 0x0008: return (uint32_t)gicr_typer(g, cpu);
    case 0x000c: return gicr_typer(g, cpu) >> 32;
    case 0x0014: return c->waker;
    case 0x0070: return (uint32_t)c->propbaser;
    case 0x0074: return c->propbaser >> 32;
    case 0x0078: return (uint32_t)c->pendbaser;
    case 0x007c: return c->pendbaser >> 32;
    }
    return off >= 0xffd0 ? gicv3_id_read(off) : 0;
}

static void rd_set_ctlr(gicv3 *g, unsigned cpu, uint32_t v)
{
    gicv3_cpu *c = &g->cpu[cpu];
    bool was = c->ctlr & GICR_CTLR_ENABLE_LPIS;

    c->ctlr = g->has_its ? v & GICR_CTLR_ENABLE_LPIS : 0;
    if (!was && (c->ctlr & GICR_CTLR_ENABLE_LPIS)) {
        gicv3_lpi_enable(g, cpu);
    }
}

static void rd_write_reg(gicv3 *g, unsigned cpu, uint64_t off, uint32_t v)
{
    gicv3_cpu *c = &g->cpu[cpu];
    bool lpis = c->ctlr & GICR_CTLR_ENABLE_LPIS;

    switch (off) {
    case 0x0000: rd_set_ctlr(g, cpu, v); return;
    case 0x0014:
        c->waker = v & GICR_WAKER_SLEEP ? GICR_WAKER_SLEEP | GICR_WAKER_ASLEEP : 0;
        return;
    case 0x0070: case 0x0074: case 0x0078: case 0x007c: {
        uint64_t *r = off < 0x78 ? &c->propbaser : &c->pendbaser;
        unsigned sh = off & 4 ? 32 : 0;

        if (lpis) {
            H->log(TES_LOG_GUEST_ERROR, "arm-gicv3: GICR_%sBASER of CPU %u written with LPIs "
                   "enabled", off < 0x78 ? "PROP" : "PEND", cpu);
            return;
        }
        *r = ((*r & ~(0xffffffffull << sh)) | (uint64_t)v << sh) &
             (off < 0x78 ? PROPBASER_MASK : PENDBASER_MASK);
        return;
    }
    }
    H->log(TES_LOG_GUEST_ERROR, "arm-gicv3: write of 0x%x to GICR register 0x%llx of CPU %u "
           "ignored", v, (unsigned long long)off, cpu);
}

static uint32_t sgi_read_reg(gicv3 *g, unsigned cpu, uint64_t off)
{
    if (off >= 0x80 && off < 0x400 && !(off & 0x7f)) {
        return bits_read(g, cpu, off, 0);
    }
    if (off == 0xc00) {
        return 0xaaaaaaaa; /* SGIs: edge */
    }
    if (off == 0xc04) {
        return icfgr_read(g, cpu, 16);
    }
    return 0;
}

static void sgi_write_reg(gicv3 *g, unsigned cpu, uint64_t off, uint32_t v)
{
    if (off >= 0x80 && off < 0x400 && !(off & 0x7f)) {
        bits_write(g, cpu, off, 0, v);
    } else if (off == 0xc04) {
        icfgr_write(g, cpu, 16, v);
    } else if (off != 0xc00 && off != 0xd00 && off != 0xe00) {
        H->log(TES_LOG_GUEST_ERROR, "arm-gicv3: write of 0x%x to GICR SGI frame register "
               "0x%llx of CPU %u ignored", v, (unsigned long long)off, cpu);
    }
}

static uint64_t redist_read(void *opaque, uint64_t off, unsigned size)
{
    gicv3 *g = opaque;
    unsigned cpu = (unsigned)(off / GICV3_REDIST_SIZE);
    uint64_t fo = off % GICV3_REDIST_SIZE, v = 0;

    if (cpu >= g->num_cpu) {
        return 0;
    }
    if (fo >= 0x10400 && fo < 0x10420) {
        for (unsigned i = 0; i < size && fo + i < 0x10420; i++) {
            v |= (uint64_t)g->cpu[cpu].prio[fo - 0x10400 + i] << (8 * i);
        }
        return v;
    }
    if ((size != 4 && size != 8) || (fo & (size - 1))) {
        H->log(TES_LOG_GUEST_ERROR, "arm-gicv3: %u-byte read of GICR offset 0x%llx", size,
               (unsigned long long)off);
        return 0;
    }
    for (unsigned i = 0; i < size; i += 4) {
        uint32_t w = fo < 0x10000 ? (uint32_t)rd_read_reg(g, cpu, fo + i)
                                  : sgi_read_reg(g, cpu, fo - 0x10000 + i);
        v |= (uint64_t)w << (8 * i);
    }
    return v;
}

static void redist_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    gicv3 *g = opaque;
    unsigned cpu = (unsigned)(off / GICV3_REDIST_SIZE);
    uint64_t fo = off % GICV3_REDIST_SIZE;

    if (cpu >= g->num_cpu) {
        return;
    }
    if (fo >= 0x10400 && fo < 0x10420) {
        for (unsigned i = 0; i < size && fo + i < 0x10420; i++) {
            g->cpu[cpu].prio[fo - 0x10400 + i] = (uint8_t)(val >> (8 * i)) & GICV3_PRI_MASK;
        }
    } else if ((size != 4 && size != 8) || (fo & (size - 1))) {
        H->log(TES_LOG_GUEST_ERROR, "arm-gicv3: %u-byte write of GICR offset 0x%llx", size,
               (unsigned long long)off);
        return;
    } else {
        for (unsigned i = 0; i < size; i += 4) {
            if (fo < 0x10000) {
                rd_write_reg(g, cpu, fo + i, (uint32_t)(val >> (8 * i)));
            } else {
                sgi_write_reg(g, cpu, fo - 0x10000 + i, (uint32_t)(val >> (8 * i)));
            }
        }
    }
    gicv3_update(g, cpu);
}

TES_TRACE_RW_WRAP(dist, dist_read, dist_write, gicv3_dist_read, gicv3_dist_write)
TES_TRACE_RW_WRAP(redist, redist_read, redist_write, gicv3_redist_read, gicv3_redist_write)

const tes_mem_ops gicv3_dist_ops = {
    .size = sizeof(tes_mem_ops),
    .read = dist_traced_read,
    .write = dist_traced_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 8,
    .impl_min = 1, .impl_max = 8,
};

const tes_mem_ops gicv3_redist_ops = {
    .size = sizeof(tes_mem_ops),
    .read = redist_traced_read,
    .write = redist_traced_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 8,
    .impl_min = 1, .impl_max = 8,
};
