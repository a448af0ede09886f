/*
 * Migration round trips of e1000 and e1000e (migtest.h): rings set up, a
 * frame received into the ring with its interrupt (ICR) pending and not
 * read, a transmit queued past TDT not yet written, MSI-X on e1000e.
 */
#include "migtest.h"
#include "net/tests/nic-drv.h"

static nd drv;

static void e_prepare(mt *m)
{
    memset(&drv, 0, sizeof(drv));
}

static void e_build(mt *m)
{
    const char *type = m->c->data;

    mt_netdev(m, "n0");
    drv.h = m->h;
    drv.ram = m->ram;
    drv.e = !strcmp(type, "e1000e");
    drv.dev = mt_dev(m, type, "netdev=n0,mac=52:54:00:12:34:56");
    mt_bar(m, drv.dev, 0, ND_BAR0);
    if (drv.e) {
        mt_bar(m, drv.dev, 3, ND_BAR3);
    }
}

/* Up, interrupts unmasked; a frame in, ICR not read. */
static void e_start(mt *m)
{
    uint8_t f[80];

    if (drv.e) {
        g_assert(tes_harness_msi_enable(m->h, drv.dev));
    }
    nd_w(&drv, IMC, ~0u);
    nd_r(&drv, ICR);
    nd_rings(&drv, RCTL_UPE);
    nd_w(&drv, IMS, I_RXT0 | I_TXDW | I_LSC);
    nd_frame(f, sizeof(f), 1);
    mt_inject(m, "n0", f, sizeof(f));
    mt_rd(m, ND_BAR0 + STATUS, 4);
    mt_rd(m, ND_BAR0 + RDH, 4);
}

static void rx_reap(mt *m)
{
    uint8_t *data;
    uint32_t len, st;

    while ((st = nd_rx(&drv, &data, &len))) {
        mt_note(m, "rx status %#x len %u", st, len);
        mt_ram(m, (uint64_t)(data - m->ram), len);
    }
}

/* The interrupt handled; a frame described for transmit, TDT not moved. */
static void e_irq(mt *m)
{
    uint8_t f[60];

    mt_rd(m, ND_BAR0 + ICR, 4);
    rx_reap(m);
    nd_frame(f, sizeof(f), 9);
    nd_tx_desc(&drv, nd_tx_buf(&drv, f, sizeof(f)),
               (uint32_t)sizeof(f) | CMD_EOP | CMD_IFCS | CMD_RS, 0);
    nd_w(&drv, RDT, 0);
}

/* TDT: out; another frame in. */
static void e_tx(mt *m)
{
    uint8_t f[100];

    nd_w(&drv, TDT, drv.tdt);
    nd_frame(f, sizeof(f), 4);
    mt_inject(m, "n0", f, sizeof(f));
    mt_rd(m, ND_BAR0 + TDH, 4);
}

static void e_end(mt *m)
{
    mt_rd(m, ND_BAR0 + ICR, 4);
    rx_reap(m);
    mt_ram(m, ND_TXR, 16);
    mt_rd(m, ND_BAR0 + GPRC, 4);
    mt_rd(m, ND_BAR0 + GPTC, 4);
    mt_rd(m, ND_BAR0 + RDH, 4);
    mt_rd(m, ND_BAR0 + IMS, 4);
}

#define ECASE(t)                                                                           \
    {.name = t, .plugins = {"net/e1000"}, .ram_size = 20 << 20, .prepare = e_prepare,        \
     .build = e_build, .steps = {e_start, e_irq, e_tx, e_end}, .data = t}

static const mt_case cases[] = {ECASE("e1000"), ECASE("e1000e")};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        mt_add(&cases[i]);
    }
    return g_test_run();
}
