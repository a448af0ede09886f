/*
 * Migration round trips of the Arm platform devices (migtest.h): the PL011
 * with its receive FIFO half read in loopback and an interrupt up, the
 * PL031 with a match armed on the virtual clock, the GICv3 distributor and
 * redistributor with SPIs and a PPI pending and not acknowledged, the GICv2
 * likewise, and the GICv3's ITS with LPIs pending on two redistributors
 * and commands queued while it is disabled.
 */
#include <string.h>

#include "migtest.h"
#include "cpu-arm/arm.h"

#define UART 0x09000000ull
#define RTC 0x09010000ull
#define DIST 0x08000000ull
#define REDIST 0x080a0000ull
#define GICC 0x08010000ull

/* ---- PL011 ---- */

static void pl011_build(mt *m)
{
    mt_map(m, mt_dev(m, "pl011", NULL), 0, UART);
}

/* 115200 8N1, FIFOs, loopback, RX and TX interrupts. */
static void pl011_program(mt *m)
{
    mt_wr(m, UART + 0x24, 13, 4);
    mt_wr(m, UART + 0x28, 1, 4);
    mt_wr(m, UART + 0x2c, 0x70, 4);
    mt_wr(m, UART + 0x34, 0x12, 4);
    mt_wr(m, UART + 0x38, 0x30, 4);
    mt_wr(m, UART + 0x30, 0x301 | 0x80, 4);
    mt_rd(m, UART + 0x3c, 4);
}

static void pl011_tx(mt *m)
{
    for (int i = 0; i < 5; i++) {
        mt_wr(m, UART, 'p' + i, 4);
    }
    mt_rd(m, UART + 0x18, 4);
    mt_rd(m, UART, 4);
    mt_rd(m, UART + 0x40, 4);
}

static void pl011_rx(mt *m)
{
    for (int i = 0; i < 5; i++) {
        mt_rd(m, UART + 0x18, 4);
        mt_rd(m, UART, 4);
    }
    mt_wr(m, UART + 0x44, 0x7ff, 4);
    mt_rd(m, UART + 0x3c, 4);
    mt_rd(m, UART + 0x30, 4);
    mt_rd(m, UART + 0x24, 4);
}

static const mt_case pl011 = {
    .name = "pl011",
    .plugins = {"arm-platform"},
    .build = pl011_build,
    .steps = {pl011_program, pl011_tx, pl011_rx},
};

/* ---- PL031 ---- */

static void pl031_build(mt *m)
{
    mt_map(m, mt_dev(m, "pl031", NULL), 0, RTC);
}

/* The counter loaded (the wall clock at realize differs between runs),
 * a match 3 s on, its interrupt enabled. */
static void pl031_arm(mt *m)
{
    mt_wr(m, RTC + 0x08, 1000000, 4);
    mt_wr(m, RTC + 0x04, 1000003, 4);
    mt_wr(m, RTC + 0x10, 1, 4);
    mt_clock(m, 1500000000);
    mt_rd(m, RTC, 4);
}

static void pl031_fire(mt *m)
{
    mt_clock(m, 1600000000);
    mt_rd(m, RTC, 4);
    mt_rd(m, RTC + 0x14, 4);
}

static void pl031_ack(mt *m)
{
    mt_wr(m, RTC + 0x1c, 1, 4);
    mt_rd(m, RTC + 0x18, 4);
    mt_rd(m, RTC + 0x04, 4);
    mt_rd(m, RTC + 0x0c, 4);
}

static const mt_case pl031 = {
    .name = "pl031",
    .plugins = {"arm-platform"},
    .build = pl031_build,
    .steps = {pl031_arm, pl031_fire, pl031_ack},
};

/* ---- GICv3 (no ITS traffic) ---- */

static void gicv3_build(mt *m)
{
    tes_device *g;

    mt_cpu(m, "cortex-a57");
    g = mt_dev(m, "arm-gicv3", "its=off");
    mt_map(m, g, 0, DIST);
    mt_map(m, g, 1, REDIST);
}

static void gic_state(mt *m, uint64_t dist)
{
    mt_rd(m, dist + 0x204, 4); /* ISPENDR1: SPIs 32..63 */
    mt_rd(m, dist + 0x304, 4); /* ISACTIVER1 */
    mt_rd(m, dist + 0x104, 4); /* ISENABLER1 */
    mt_rd(m, dist + 0x420, 4); /* IPRIORITYR 32..35 */
    mt_rd(m, dist + 0xc08, 4); /* ICFGR2 */
}

/* SPIs 33 (level) and 34 (edge) enabled, prioritised, pending. */
static void gicv3_program(mt *m)
{
    mt_wr(m, DIST, 0x13, 4); /* ARE, Grp1NS, Grp0 */
    mt_wr(m, DIST + 0x84, ~0u, 4);
    mt_wr(m, DIST + 0x420, 0x00a08000, 4);
    mt_wr(m, DIST + 0xc08, 0x20, 4);
    mt_wr(m, DIST + 0x6100 + 8 * 33, 0, 8);
    mt_wr(m, DIST + 0x104, 0x6, 4);
    mt_wr(m, REDIST + 0x14, 0, 4); /* GICR_WAKER: awake */
    mt_wr(m, REDIST + 0x10000 + 0x100, 1u << 27, 4); /* PPI 27 enabled */
    mt_irq_in(m, m->dev[0], 1, 1);
    mt_irq_in(m, m->dev[0], 2, 1);
    mt_irq_in(m, m->dev[0], 2, 0);
    gic_state(m, DIST);
}

static void gicv3_more(mt *m)
{
    mt_wr(m, DIST + 0x284, 1u << 2, 4); /* ICPENDR: the edge one cleared */
    mt_wr(m, DIST + 0x204, 1u << 3, 4); /* ISPENDR: 35 by software */
    mt_rd(m, REDIST + 0x10000 + 0x100, 4);
    mt_rd(m, REDIST + 0x14, 4);
    gic_state(m, DIST);
}

static void gicv3_end(mt *m)
{
    mt_irq_in(m, m->dev[0], 1, 0);
    gic_state(m, DIST);
    mt_rd(m, DIST, 4);
    mt_rd(m, DIST + 0x6100 + 8 * 33, 8);
}

static const mt_case gicv3 = {
    .name = "arm-gicv3",
    .plugins = {"cpu-arm", "arm-platform"},
    .build = gicv3_build,
    .steps = {gicv3_program, gicv3_more, gicv3_end},
};

/* ---- GICv2 ---- */

static void gicv2_build(mt *m)
{
    tes_device *g;

    mt_cpu(m, "cortex-a57");
    g = mt_dev(m, "arm-gic", NULL);
    mt_map(m, g, 0, DIST);
    mt_map(m, g, 1, GICC);
}

static void gicv2_program(mt *m)
{
    mt_wr(m, DIST, 1, 4);
    mt_wr(m, GICC, 1, 4);
    mt_wr(m, GICC + 0x4, 0xf0, 4);
    mt_wr(m, DIST + 0x420, 0x00a08000, 4);
    mt_wr(m, DIST + 0x820, 0x01010101, 4);
    mt_wr(m, DIST + 0x104, 0x6, 4);
    mt_irq_in(m, m->dev[0], 1, 1);
    gic_state(m, DIST);
}

/* Acknowledged (IAR): active, not yet EOI'd. */
static void gicv2_ack(mt *m)
{
    uint64_t iar = mt_rd(m, GICC + 0xc, 4);

    m->u[0] = iar;
    gic_state(m, DIST);
    mt_rd(m, GICC + 0x14, 4); /* running priority */
}

static void gicv2_eoi(mt *m)
{
    mt_irq_in(m, m->dev[0], 1, 0);
    mt_wr(m, GICC + 0x10, m->u[0], 4);
    gic_state(m, DIST);
    mt_rd(m, GICC + 0x14, 4);
    mt_rd(m, GICC + 0x18, 4);
}

static const mt_case gicv2 = {
    .name = "arm-gic",
    .plugins = {"cpu-arm", "arm-platform"},
    .build = gicv2_build,
    .steps = {gicv2_program, gicv2_ack, gicv2_eoi},
};

/* ---- the generic timer through the GICv3 to the CPU interface ---- */

#define SGI_BASE (REDIST + 0x10000)
#define SYSREG(op1, crn, crm, op2) TES_ARM_SYSREG(3, op1, crn, crm, op2)
#define ICC_PMR SYSREG(0, 4, 6, 0)
#define ICC_RPR SYSREG(0, 12, 11, 3)
#define ICC_IAR1 SYSREG(0, 12, 12, 0)
#define ICC_EOIR1 SYSREG(0, 12, 12, 1)
#define ICC_HPPIR1 SYSREG(0, 12, 12, 2)
#define ICC_IGRPEN1 SYSREG(0, 12, 12, 7)
#define PPI_VTIMER 27

/* A system register of vCPU cpu as the guest reads it, recorded. */
static uint64_t cpu_sysreg(mt *m, unsigned cpu, const char *name, uint32_t reg)
{
    const tes_host *host = tes_harness_host(m->h);
    uint64_t v = 0;

    g_assert(host->cpu_sysreg_read(m->cpu[cpu], reg, &v));
    mt_note(m, "cpu%u %s = %#" G_GINT64_MODIFIER "x", cpu, name, v);
    return v;
}

static void cpu_sysreg_wr(mt *m, unsigned cpu, uint32_t reg, uint64_t v)
{
    g_assert(tes_harness_host(m->h)->cpu_sysreg_write(m->cpu[cpu], reg, v));
}

static uint64_t sysreg(mt *m, const char *name, uint32_t reg)
{
    return cpu_sysreg(m, 0, name, reg);
}

static void sysreg_wr(mt *m, uint32_t reg, uint64_t v)
{
    cpu_sysreg_wr(m, 0, reg, v);
}

/* As board-virt wires them: the virtual timer to PPI 27, the GIC's IRQ
 * output to the vCPU. */
static void vtimer_build(mt *m)
{
    const tes_host *host;
    tes_device *g;

    mt_cpu(m, "cortex-a57");
    g = mt_dev(m, "arm-gicv3", "its=off");
    mt_map(m, g, 0, DIST);
    mt_map(m, g, 1, REDIST);
    host = tes_harness_host(m->h);
    host->dev_connect_irq(host->cpu_dev(m->cpu[0]), TES_ARM_TIMER_VIRT,
                          host->dev_irq_in(g, 256 + PPI_VTIMER - 16));
    host->dev_connect_irq(g, 0, host->cpu_irq_in(m->cpu[0], TES_ARM_IRQ));
}

/* The timer is the vCPU's own: programmed by code, as a guest does
 * (cpu_sysreg_* reach the GIC's registers, not the CPU's). */
static const uint32_t timer_code[] = {
    0xd51be343, /* 0x1100: msr cntv_cval_el0, x3 */
    0xd51be324, /* 0x1104: msr cntv_ctl_el0, x4 */
    0xd53be325, /* 0x1108: mrs x5, cntv_ctl_el0 */
    0x17ffffff, /* 0x110c: b 0x1108 */
};

/* Set CNTV_CVAL (cval) and CNTV_CTL (ctl) and read CNTV_CTL back. */
static void timer_prog(mt *m, uint64_t cval, uint64_t ctl)
{
    arm_cpu *c = tes_harness_cpu_state(m->cpu[0]);

    for (size_t i = 0; i < G_N_ELEMENTS(timer_code); i++) {
        tes_harness_write(m->h, 0x1100 + 4 * i, timer_code[i], 4);
    }
    c->pc = 0x1100;
    c->x[3] = cval;
    c->x[4] = ctl;
    mt_exec(m, 0, 3);
}

static void vtimer_state(mt *m)
{
    arm_cpu *c = tes_harness_cpu_state(m->cpu[0]);

    mt_rd(m, SGI_BASE + 0x200, 4); /* GICR_ISPENDR0 */
    mt_rd(m, SGI_BASE + 0x300, 4); /* GICR_ISACTIVER0 */
    mt_exec(m, 0, 2); /* mrs x5, cntv_ctl_el0 again */
    mt_note(m, "CNTV_CTL %#" G_GINT64_MODIFIER "x", c->x[5]);
    sysreg(m, "ICC_HPPIR1", ICC_HPPIR1);
    sysreg(m, "ICC_RPR", ICC_RPR);
}

/* Linux's set-up; the timer armed 1000 ticks (16 us) on, half run. */
static void vtimer_arm(mt *m)
{
    mt_wr(m, SGI_BASE + 0x80, ~0u, 4);
    mt_wr(m, SGI_BASE + 0x400 + PPI_VTIMER, 0x80, 1);
    mt_wr(m, SGI_BASE + 0x100, 1u << PPI_VTIMER, 4);
    mt_wr(m, DIST, 3, 4);
    sysreg_wr(m, ICC_PMR, 0xf0);
    sysreg_wr(m, ICC_IGRPEN1, 1);
    timer_prog(m, (uint64_t)tes_harness_clock_ns(m->h) / 16 + 1000, 1);
    mt_clock(m, 8000);
    vtimer_state(m);
}

/* The deadline passes: PPI 27 pending, the IRQ up at the vCPU. */
static void vtimer_fire(mt *m)
{
    mt_clock(m, 10000);
    vtimer_state(m);
}

/* The handler: acknowledged (active, running priority 0x80), the timer
 * masked as Linux's handler does. */
static void vtimer_ack(mt *m)
{
    m->u[0] = sysreg(m, "ICC_IAR1", ICC_IAR1);
    timer_prog(m, (uint64_t)tes_harness_clock_ns(m->h) / 16, 3);
    vtimer_state(m);
}

static void vtimer_eoi(mt *m)
{
    sysreg_wr(m, ICC_EOIR1, m->u[0]);
    timer_prog(m, (uint64_t)tes_harness_clock_ns(m->h) / 16 + 500, 1);
    vtimer_state(m);
}

static void vtimer_again(mt *m)
{
    mt_clock(m, 8000);
    vtimer_state(m);
}

static const mt_case vtimer = {
    .name = "cpu-arm/vtimer-gicv3",
    .plugins = {"cpu-arm", "arm-platform"},
    .build = vtimer_build,
    .steps = {vtimer_arm, vtimer_fire, vtimer_ack, vtimer_eoi, vtimer_again},
};

/* ---- GICv3 ITS traffic ---- */

#define ITS 0x08080000ull
#define RD(cpu) (REDIST + 0x20000ull * (cpu))
#define SGI(cpu) (RD(cpu) + 0x10000)
#define TRANSLATER (ITS + 0x10040)
/* Guest memory of the ITS's tables (2 MiB of RAM). */
#define DEV_TABLE 0x10000ull  /* 16 pages */
#define COLL_TABLE 0x20000ull
#define CMDQ 0x30000ull       /* one page: 128 commands */
#define PROP_TABLE 0x40000ull
#define PEND_TABLE 0x50000ull /* one 64 KiB table per redistributor */
#define ITT 0x70000ull
#define LPI 8192
#define ncmd u[1]             /* commands written to the queue */

enum { MAPC = 0x09, MAPD = 0x08, MAPTI = 0x0a, INT = 0x03, CLEAR = 0x04, SYNC = 0x05,
       MOVI = 0x01, DISCARD = 0x0f, INV = 0x0c };

/* Two vCPUs; the GIC's outputs stay on harness lines (the runner records
 * them), the CPU interfaces are reached as the vCPU reaches them. */
static void its_build(mt *m)
{
    tes_device *g;

    mt_cpu(m, "cortex-a57");
    mt_cpu(m, "cortex-a57");
    g = mt_dev(m, "arm-gicv3", "num-cpu=2");
    mt_map(m, g, 0, DIST);
    mt_map(m, g, 1, REDIST);
    mt_map(m, g, 2, ITS);
}

/* A command in the queue's next slot (not yet handed to the ITS). */
static void its_cmd(mt *m, uint64_t d0, uint64_t d1, uint64_t d2, uint64_t d3)
{
    uint64_t a = CMDQ + 32 * (m->ncmd++ % 128);

    mt_put64(m, a, d0);
    mt_put64(m, a + 8, d1);
    mt_put64(m, a + 16, d2);
    mt_put64(m, a + 24, d3);
}

static void its_kick(mt *m)
{
    mt_wr(m, ITS + 0x88, 32 * (m->ncmd % 128), 8); /* GITS_CWRITER */
}

/* What the guest sees: the ITS's registers, each CPU's highest pending
 * interrupt and running priority. */
static void its_state(mt *m)
{
    mt_rd(m, ITS + 0x0, 4);   /* GITS_CTLR */
    mt_rd(m, ITS + 0x80, 8);  /* CBASER */
    mt_rd(m, ITS + 0x88, 8);  /* CWRITER */
    mt_rd(m, ITS + 0x90, 8);  /* CREADR */
    mt_rd(m, ITS + 0x100, 8); /* BASER0: devices */
    mt_rd(m, ITS + 0x108, 8); /* BASER1: collections */
    for (unsigned c = 0; c < 2; c++) {
        mt_rd(m, RD(c) + 0x0, 4);  /* GICR_CTLR: EnableLPIs */
        mt_rd(m, RD(c) + 0x70, 8); /* PROPBASER */
        cpu_sysreg(m, c, "ICC_HPPIR1", ICC_HPPIR1);
        cpu_sysreg(m, c, "ICC_RPR", ICC_RPR);
    }
}

/* Linux's set-up (its-gic-v3.c): LPIs 0..15 enabled at priority 0xa0,
 * LPI+2 at 0x80; tables; collection c on redistributor c; device 0 with
 * 16 events, event 2 -> LPI+1 on collection 1, event 3 -> LPI+2 on
 * collection 0. Then two MSIs: LPI+1 pending on CPU 1, LPI+2 on CPU 0,
 * neither acknowledged. */
static void its_setup(mt *m)
{
    memset(m->ram + PROP_TABLE, 0xa1, 16);
    m->ram[PROP_TABLE + 2] = 0x81;
    mt_wr(m, DIST, 0x13, 4);
    for (unsigned c = 0; c < 2; c++) {
        mt_wr(m, RD(c) + 0x14, 0, 4); /* GICR_WAKER: awake */
        mt_wr(m, SGI(c) + 0x80, ~0u, 4);
        mt_wr(m, RD(c) + 0x70, PROP_TABLE | 15, 8);
        mt_wr(m, RD(c) + 0x78, PEND_TABLE + 0x10000 * c, 8);
        mt_wr(m, RD(c) + 0x0, 1, 4);
        cpu_sysreg_wr(m, c, ICC_PMR, 0xf0);
        cpu_sysreg_wr(m, c, ICC_IGRPEN1, 1);
    }
    mt_wr(m, ITS + 0x100, 1ull << 63 | DEV_TABLE | 15, 8);
    mt_wr(m, ITS + 0x108, 1ull << 63 | COLL_TABLE, 8);
    mt_wr(m, ITS + 0x80, 1ull << 63 | CMDQ, 8);
    mt_wr(m, ITS + 0x0, 1, 4);
    its_cmd(m, MAPC, 0, 1ull << 63 | 0ull << 16 | 0, 0);
    its_cmd(m, MAPC, 0, 1ull << 63 | 1ull << 16 | 1, 0);
    its_cmd(m, MAPD, 3, 1ull << 63 | ITT, 0);
    its_cmd(m, MAPTI, 2 | (uint64_t)(LPI + 1) << 32, 1, 0);
    its_cmd(m, MAPTI, 3 | (uint64_t)(LPI + 2) << 32, 0, 0);
    its_cmd(m, SYNC, 0, 1ull << 16, 0);
    its_kick(m);
    mt_wr(m, TRANSLATER, 2, 4);
    mt_wr(m, TRANSLATER, 3, 4);
    its_state(m);
}

/* The ITS disabled (as Linux's suspend path does) and commands queued
 * behind CWRITER without being run: event 4 mapped to LPI+3 on
 * collection 1 and raised, event 3 moved to collection 1. An MSI while
 * disabled is dropped. */
static void its_queue(mt *m)
{
    mt_wr(m, ITS + 0x0, 0, 4);
    its_cmd(m, MAPTI, 4 | (uint64_t)(LPI + 3) << 32, 1, 0);
    its_cmd(m, INT, 4, 0, 0);
    its_cmd(m, MOVI, 3, 1, 0);
    its_kick(m);
    mt_wr(m, TRANSLATER, 2, 4);
    its_state(m);
}

/* Enabled again: the queue runs. CPU 1 takes the LPI that moved to it
 * (priority 0x80) and the first of the two at 0xa0; LPI+3 stays
 * pending. */
static void its_run(mt *m)
{
    mt_wr(m, ITS + 0x0, 1, 4);
    its_state(m);
    m->u[2] = cpu_sysreg(m, 1, "ICC_IAR1", ICC_IAR1);
    cpu_sysreg_wr(m, 1, ICC_EOIR1, m->u[2]);
    m->u[3] = cpu_sysreg(m, 1, "ICC_IAR1", ICC_IAR1);
    its_state(m);
}

/* The handler's EOI crosses the cut; LPI+3 cleared by CLEAR, event 2
 * discarded (its MSI then dropped), LPI+2 disabled in the table and
 * re-read (INV): event 3's MSI leaves it pending, not signalled, until
 * it is enabled again. */
static void its_end(mt *m)
{
    cpu_sysreg_wr(m, 1, ICC_EOIR1, m->u[3]);
    its_cmd(m, CLEAR, 4, 0, 0);
    its_cmd(m, DISCARD, 2, 0, 0);
    m->ram[PROP_TABLE + 2] = 0x80;
    its_cmd(m, INV, 3, 0, 0);
    its_kick(m);
    mt_wr(m, TRANSLATER, 2, 4);
    mt_wr(m, TRANSLATER, 3, 4);
    its_state(m);
    m->ram[PROP_TABLE + 2] = 0x81;
    its_cmd(m, INV, 3, 0, 0);
    its_kick(m);
    its_state(m);
    mt_ram(m, DEV_TABLE, 0x10);
    mt_ram(m, COLL_TABLE, 0x10);
    mt_ram(m, ITT, 0x80);
}

static const mt_case its = {
    .name = "arm-gicv3/its",
    .plugins = {"cpu-arm", "arm-platform"},
    .build = its_build,
    .steps = {its_setup, its_queue, its_run, its_end},
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    mt_add(&pl011);
    mt_add(&pl031);
    mt_add(&gicv3);
    mt_add(&gicv2);
    mt_add(&vtimer);
    mt_add(&its);
    return g_test_run();
}
