/*
 * Migration round trips of the Arm platform devices (migtest.h): the PL011
 * with its receive FIFO half read in loopback and an interrupt up, the
 * PL031 with a match armed on the virtual clock, the GICv3 distributor and
 * redistributor with SPIs and a PPI pending and not acknowledged, the GICv2
 * likewise.
 */
#include "migtest.h"

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

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    mt_add(&pl011);
    mt_add(&pl031);
    mt_add(&gicv3);
    mt_add(&gicv2);
    return g_test_run();
}
