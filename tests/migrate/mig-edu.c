/*
 * Migration round trips of edu (migtest.h): a factorial and a DMA in
 * flight at the cut, an interrupt raised and not yet acknowledged.
 */
#include "migtest.h"

#define BAR 0x10000000ull

static void edu_build(mt *m)
{
    tes_device *d = mt_dev(m, "edu", NULL);

    mt_bar(m, d, 0, BAR);
}

/* Registers away from reset; a factorial started, its 1 us not yet run. */
static void edu_start(mt *m)
{
    mt_wr(m, BAR + 0x04, 0x12345678, 4);
    mt_wr(m, BAR + 0x20, 0x80, 4); /* interrupt when the factorial is done */
    mt_wr(m, BAR + 0x08, 10, 4);
    mt_rd(m, BAR + 0x20, 4); /* computing */
    mt_rd(m, BAR + 0x04, 4);
}

/* The factorial's timer fires: status done, interrupt raised, not acked. */
static void edu_finish_fact(mt *m)
{
    mt_clock(m, 1000);
    mt_rd(m, BAR + 0x08, 4);
    mt_rd(m, BAR + 0x24, 4);
}

/* A DMA RAM -> device buffer armed, its 1 us not yet run; the fact irq
 * still pending. */
static void edu_dma_in(mt *m)
{
    for (unsigned i = 0; i < 64; i++) {
        m->ram[0x2000 + i] = (uint8_t)(i * 3 + 1);
    }
    mt_wr(m, BAR + 0x80, 0x2000, 8);
    mt_wr(m, BAR + 0x88, 0x40000, 8);
    mt_wr(m, BAR + 0x90, 64, 8);
    mt_wr(m, BAR + 0x98, 0x1 | 0x4, 8);
    mt_rd(m, BAR + 0x98, 8);
}

static void edu_ack_fact(mt *m)
{
    mt_clock(m, 500);
    mt_wr(m, BAR + 0x64, 0x1, 4);
    mt_rd(m, BAR + 0x24, 4);
}

/* The DMA completes; then out again to another RAM page (pending). */
static void edu_dma_out(mt *m)
{
    mt_clock(m, 500);
    mt_rd(m, BAR + 0x98, 8);
    mt_rd(m, BAR + 0x24, 4);
    mt_wr(m, BAR + 0x64, 0x100, 4);
    mt_wr(m, BAR + 0x80, 0x40000, 8);
    mt_wr(m, BAR + 0x88, 0x3000, 8);
    mt_wr(m, BAR + 0x90, 64, 8);
    mt_wr(m, BAR + 0x98, 0x1 | 0x2 | 0x4, 8);
}

static void edu_done(mt *m)
{
    mt_clock(m, 2000);
    mt_ram(m, 0x3000, 64);
    mt_rd(m, BAR + 0x24, 4);
    mt_wr(m, BAR + 0x64, 0x100, 4);
    mt_rd(m, BAR + 0x24, 4);
}

static const mt_case edu_intx = {
    .name = "edu/intx",
    .plugins = {"edu"},
    .build = edu_build,
    .steps = {edu_start, edu_finish_fact, edu_dma_in, edu_ack_fact, edu_dma_out, edu_done},
};

/* The same with MSI on: the message must come once, after the cut too. */
static void edu_build_msi(mt *m)
{
    edu_build(m);
}

static void edu_msi_on(mt *m)
{
    g_assert(tes_harness_msi_enable(m->h, m->dev[0]));
    mt_cfg_rd(m, m->dev[0], 0x40, 4);
    edu_start(m);
}

static const mt_case edu_msi = {
    .name = "edu/msi",
    .plugins = {"edu"},
    .build = edu_build_msi,
    .steps = {edu_msi_on, edu_finish_fact, edu_dma_in, edu_ack_fact, edu_dma_out, edu_done},
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    mt_add(&edu_intx);
    mt_add(&edu_msi);
    return g_test_run();
}
