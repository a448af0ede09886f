/*
 * arm-gicv3: what gicv3.c (signalling, LPIs, life cycle, migration),
 * gicv3-regs.c (distributor and redistributor registers), gicv3-cpuif.c
 * (the ICC_* system registers) and gicv3-its.c (the ITS) share. Private
 * to the arm-platform plugin.
 */
#ifndef ARM_GICV3_H
#define ARM_GICV3_H

#include "platform.h"

#define GICV3_MAX_CPU 64
#define GICV3_MAX_IRQ 1024 /* SGIs, PPIs and SPIs: IDs 0..1019 */
#define GICV3_NWORDS (GICV3_MAX_IRQ / 32)
#define GICV3_FIRST_SPECIAL 1020
#define GICV3_SPURIOUS 1023
#define GICV3_IDLE 0x100 /* running priority with nothing active */

/* LPIs: GICD_TYPER.IDbits says 16 bits of INTID, so 8192..65535. */
#define GICV3_LPI_BASE 8192
#define GICV3_ID_BITS 16
#define GICV3_NUM_IDS (1u << GICV3_ID_BITS)

/* Five bits of priority (as QEMU's and GIC-500's CPU interfaces): the
 * active-priority registers hold one bit per value of bits 7:3. */
#define GICV3_PRI_BITS 5
#define GICV3_PRI_MASK 0xf8u
#define GICV3_MIN_BPR0 (7 - GICV3_PRI_BITS)
#define GICV3_MIN_BPR1 (GICV3_MIN_BPR0 + 1)

#define GICV3_DIST_SIZE 0x10000
#define GICV3_REDIST_SIZE 0x20000 /* RD_base + SGI_base frames per CPU */
#define GICV3_ITS_SIZE 0x20000    /* control + translation frames */

#define GICD_CTLR_EN_GRP0 0x1
#define GICD_CTLR_EN_GRP1 0x2
#define GICD_CTLR_ARE 0x10
#define GICD_CTLR_DS 0x40

#define GICR_CTLR_ENABLE_LPIS 0x1
#define GICR_WAKER_SLEEP 0x2
#define GICR_WAKER_ASLEEP 0x4
#define IROUTER_MASK 0xff00ffffffull /* Aff3, Aff2..0; IRM RAZ/WI (No1N) */

/* Per-interrupt bits, banked per CPU (redistributor) for IDs 0..31. */
enum { B_GROUP, B_ENABLED, B_PEND, B_ACTIVE, B_LEVEL, B_EDGE, NUM_BITS };

/* One redistributor and the CPU interface of the same vCPU. Migrated as
 * raw bytes: only fixed-width fields. */
typedef struct gicv3_cpu {
    uint32_t bits[NUM_BITS]; /* SGIs and PPIs */
    uint8_t prio[32];
    uint32_t ctlr, waker;
    uint64_t propbaser, pendbaser;
    /* CPU interface: ICC_CTLR_EL1 (CBPR, EOImode), PMR, BPR0/1, IGRPEN0/1
     * and the active priorities AP0R0/AP1R0 (bit p: an interrupt of group
     * priority p << 3 is active). */
    uint32_t icc_ctlr, pmr, bpr[2], igrpen[2], apr[2];
} gicv3_cpu;

typedef struct gicv3 {
    tes_device *dev;
    tes_region *dist, *redist, *its;
    uint32_t num_cpu, num_irq; /* properties */
    bool has_its;

    /* Distributor (affinity routing always on: ARE is RAO/WI). */
    uint32_t ctlr;
    uint32_t spi_bits[NUM_BITS][GICV3_NWORDS]; /* word 0 unused */
    uint8_t prio[GICV3_MAX_IRQ];
    uint64_t irouter[GICV3_MAX_IRQ];
    gicv3_cpu cpu[GICV3_MAX_CPU];

    /* LPIs: pending bitmaps of num_cpu redistributors (GICV3_NUM_IDS bits
     * each, migrated by save/load), the configuration bytes cached from
     * the guest's table (reloaded on INV/INVALL and when LPIs are enabled;
     * one cache, as GICR_TYPER.CommonLPIAff = 0 makes every redistributor
     * share the table). */
    uint64_t *lpi_pend;
    uint8_t *lpi_cfg;

    /* ITS registers (gicv3-its.c). */
    uint32_t its_ctlr;
    uint64_t its_baser[2]; /* device table, collection table */
    uint64_t its_cbaser, its_cwriter, its_creadr;

    /* Derived (rebuilt after a load): SPI target vCPU (-1: none), LPIs
     * pending per CPU and the best of them, output levels (-1: unknown). */
    int16_t target[GICV3_MAX_IRQ];
    uint32_t lpi_count[GICV3_MAX_CPU];
    uint32_t lpi_best[GICV3_MAX_CPU];
    int out_level[GICV3_MAX_CPU][2];
} gicv3;

/* ---- per-interrupt state: IDs 0..31 in the redistributor of cpu ---- */
static inline bool spi_ok(gicv3 *g, unsigned irq)
{
    return irq >= 32 && irq < g->num_irq && irq < GICV3_FIRST_SPECIAL;
}

static inline uint32_t *bits_word(gicv3 *g, int kind, unsigned cpu, unsigned irq)
{
    return irq < 32 ? &g->cpu[cpu].bits[kind] : &g->spi_bits[kind][irq / 32];
}

static inline bool test_bit(gicv3 *g, int kind, unsigned cpu, unsigned irq)
{
    return (*bits_word(g, kind, cpu, irq) >> (irq % 32)) & 1;
}

static inline void put_bit(gicv3 *g, int kind, unsigned cpu, unsigned irq, bool v)
{
    uint32_t *w = bits_word(g, kind, cpu, irq);

    *w = v ? *w | (1u << (irq % 32)) : *w & ~(1u << (irq % 32));
}

static inline uint32_t pending_word(gicv3 *g, unsigned cpu, unsigned base)
{
    return *bits_word(g, B_PEND, cpu, base) |
           (*bits_word(g, B_LEVEL, cpu, base) & ~*bits_word(g, B_EDGE, cpu, base));
}

static inline uint8_t *prio_ref(gicv3 *g, unsigned cpu, unsigned irq)
{
    return irq < 32 ? &g->cpu[cpu].prio[irq] : &g->prio[irq];
}

/* gicv3.c */
int16_t gicv3_route(gicv3 *g, uint64_t irouter);
void gicv3_lpi_enable(gicv3 *g, unsigned cpu);
void gicv3_update(gicv3 *g, unsigned cpu);
void gicv3_update_all(gicv3 *g);
uint32_t gicv3_cpu_aff(gicv3 *g, unsigned cpu);
unsigned gicv3_signalled(gicv3 *g, unsigned cpu, unsigned *prio, unsigned *group);
unsigned gicv3_hppi(gicv3 *g, unsigned cpu, unsigned *prio, unsigned *group);
void gicv3_deactivate(gicv3 *g, unsigned cpu, unsigned irq);
void gicv3_ack(gicv3 *g, unsigned cpu, unsigned irq);
void gicv3_set_sgi(gicv3 *g, unsigned cpu, unsigned sgi, unsigned group);
/* LPIs */
bool gicv3_lpi_ok(gicv3 *g, unsigned cpu, uint32_t intid);
void gicv3_lpi_set(gicv3 *g, unsigned cpu, uint32_t intid, bool pending);
bool gicv3_lpi_pending(gicv3 *g, unsigned cpu, uint32_t intid);
void gicv3_lpi_load_cfg(gicv3 *g, unsigned cpu, uint32_t intid, uint32_t n);
void gicv3_lpi_rescan(gicv3 *g, unsigned cpu);

/* gicv3-regs.c */
uint32_t gicv3_id_read(uint64_t off);
extern const tes_mem_ops gicv3_dist_ops, gicv3_redist_ops;

/* gicv3-cpuif.c */
extern const tes_cpu_sysregs gicv3_sysregs;

/* gicv3-its.c */
uint64_t gicv3_its_read(void *opaque, uint64_t off, unsigned size);
void gicv3_its_write(void *opaque, uint64_t off, uint64_t val, unsigned size);
void gicv3_its_reset(gicv3 *g);
/* The ITS registers of a loaded stream: 0, or -EINVAL (error set). */
int gicv3_its_check(gicv3 *g);

#endif
