/*
 * Migration round trips of PCI devices whose guest-visible state is their
 * registers (migtest.h): bridges and PCIe ports with bus numbers, windows
 * and controls programmed and a device behind them still answering at the
 * same place; pxb and pxb-pcie; bochs-display with a mode set, EDID read
 * and pixels in VRAM.
 */
#include <string.h>

#include <tessera/gpex.h>

#include "migtest.h"

/* The whole type-1 header and the first capabilities, as lspci reads. */
static void cfg_dump(mt *m, tes_device *d)
{
    for (uint32_t off = 0; off < 0x100; off += 4) {
        mt_cfg_rd(m, d, off, 4);
    }
}

typedef struct bcase {
    const char *type, *props;
} bcase;

static void br_build(mt *m)
{
    const bcase *b = m->c->data;

    mt_dev(m, b->type, b->props);
    if (!g_str_has_prefix(b->type, "pxb")) {
        mt_dev(m, "edu", "bus=br0,addr=0");
    }
}

/* Bus numbers, windows, command and bridge control away from reset. */
static void br_program(mt *m)
{
    tes_device *br = m->dev[0];

    mt_cfg_wr(m, br, 0x18, 0x00050100 | 0x01, 4);
    mt_cfg_wr(m, br, 0x1c, 0xf0f0, 2);
    mt_cfg_wr(m, br, 0x20, 0x10101000, 4);
    mt_cfg_wr(m, br, 0x24, 0x1ff11001, 4);
    mt_cfg_wr(m, br, 0x3c, 0x0b, 1);
    mt_cfg_wr(m, br, 0x3e, 0x0003, 2);
    mt_cfg_wr(m, br, 0x04, 0x0107, 2);
    mt_cfg_rd(m, br, 0x18, 4);
}

/* The function behind: reached by its bus number, its BAR mapped. */
static void br_behind(mt *m)
{
    if (m->n_dev < 2) {
        mt_cfg_wr(m, m->dev[0], 0x0c, 0x10, 1);
        return;
    }
    mt_note(m, "behind: %#x", tes_harness_cfg_read_bdf(m->h, 1, 0, 0, 4));
    tes_harness_cfg_write_bdf(m->h, 1, 0, 0x10, 0x10000000, 4);
    tes_harness_cfg_write_bdf(m->h, 1, 0, 0x04, 0x6, 2);
    mt_rd(m, 0x10000000, 4);
}

static void br_end(mt *m)
{
    cfg_dump(m, m->dev[0]);
    if (m->n_dev > 1) {
        mt_note(m, "behind bar0 %#x", tes_harness_cfg_read_bdf(m->h, 1, 0, 0x10, 4));
        mt_wr(m, 0x10000004, 0x1234, 4);
        mt_rd(m, 0x10000004, 4);
    }
}

#define BCASE(nm, t, p)                                                                    \
    {.name = nm, .plugins = {"pcie", "edu"}, .build = br_build,                            \
     .steps = {br_program, br_behind, br_end}, .data = &(const bcase){t, p}}

/* ---- a switch: root port, x3130-upstream, xio3130-downstream, edu ---- */

static void sw_build(mt *m)
{
    mt_dev(m, "pcie-root-port", "id=rp0,chassis=9,slot=9");
    mt_dev(m, "x3130-upstream", "id=up0,bus=rp0");
    mt_dev(m, "xio3130-downstream", "id=dn0,bus=up0,chassis=10,slot=1");
    mt_dev(m, "edu", "bus=dn0,addr=0");
}

/* Bus numbers down the chain (1: the switch's upstream bus, 2: its
 * internal bus, 3: edu's), memory windows, decoding on. */
static void sw_program(mt *m)
{
    mt_cfg_wr(m, m->dev[0], 0x18, 0x00050100, 4);
    mt_cfg_wr(m, m->dev[0], 0x20, 0x10001000, 4);
    mt_cfg_wr(m, m->dev[0], 0x04, 0x0006, 2);
    tes_harness_cfg_write_bdf(m->h, 1, 0, 0x18, 0x00050201, 4);
    tes_harness_cfg_write_bdf(m->h, 1, 0, 0x20, 0x10001000, 4);
    tes_harness_cfg_write_bdf(m->h, 1, 0, 0x04, 0x0006, 2);
    mt_note(m, "upstream %#x", tes_harness_cfg_read_bdf(m->h, 1, 0, 0, 4));
}

static void sw_down(mt *m)
{
    tes_harness_cfg_write_bdf(m->h, 2, 0, 0x18, 0x00030302, 4);
    tes_harness_cfg_write_bdf(m->h, 2, 0, 0x20, 0x10001000, 4);
    tes_harness_cfg_write_bdf(m->h, 2, 0, 0x04, 0x0006, 2);
    mt_note(m, "downstream %#x", tes_harness_cfg_read_bdf(m->h, 2, 0, 0, 4));
    mt_note(m, "edu %#x", tes_harness_cfg_read_bdf(m->h, 3, 0, 0, 4));
    tes_harness_cfg_write_bdf(m->h, 3, 0, 0x10, 0x10000000, 4);
    tes_harness_cfg_write_bdf(m->h, 3, 0, 0x04, 0x6, 2);
}

static void sw_end(mt *m)
{
    mt_rd(m, 0x10000000, 4);
    for (uint8_t bus = 1; bus <= 3; bus++) {
        for (uint32_t off = 0; off < 0x40; off += 4) {
            mt_note(m, "%u:00.0 %#x = %#x", bus, off,
                    tes_harness_cfg_read_bdf(m->h, bus, 0, off, 4));
        }
    }
    cfg_dump(m, m->dev[0]);
}

static const mt_case sw = {
    .name = "x3130-upstream+xio3130-downstream",
    .plugins = {"pcie", "edu"},
    .build = sw_build,
    .steps = {sw_program, sw_down, sw_end},
};

/* ---- gpex-pcihost (virt's): ECAM, its windows, edu behind it ---- */

#define ECAM 0x30000000ull
#define GPEX_MMIO 0x10000000ull

/* As board-virt maps it (<tessera/gpex.h>); its INTx outputs stay the
 * harness's lines, observed. */
static void gpex_build(mt *m)
{
    const tes_host *host = tes_harness_host(m->h);
    const tes_gpex_iface *gi = host->iface_lookup(TES_GPEX_IFACE, TES_GPEX_IFACE_VERSION);
    tes_device *g = mt_dev(m, "gpex-pcihost", "ecam-buses=4,mmio-size=0x1000000");

    g_assert(gi);
    host->region_add(host->system_memory(), ECAM, gi->ecam(g), 0);
    host->region_add(host->system_memory(), GPEX_MMIO, gi->mmio(g), 0);
    mt_dev(m, "edu", "bus=pcie.0,addr=2");
}

/* edu at 00:02.0 through ECAM: BAR0 in the window, INTA up (a factorial
 * with its interrupt), not acknowledged. */
static void gpex_program(mt *m)
{
    uint64_t cfg = ECAM + (2 << 15);

    mt_rd(m, cfg, 4);
    mt_wr(m, cfg + 0x10, GPEX_MMIO + 0x100000, 4);
    mt_wr(m, cfg + 0x04, 0x6, 2);
    mt_rd(m, cfg + 0x10, 4);
    mt_wr(m, GPEX_MMIO + 0x100000 + 0x20, 0x80, 4);
    mt_wr(m, GPEX_MMIO + 0x100000 + 0x08, 5, 4);
    mt_clock(m, 2000);
}

static void gpex_ack(mt *m)
{
    uint64_t cfg = ECAM + (2 << 15);

    mt_rd(m, cfg + 0x04, 4); /* status: interrupt */
    mt_rd(m, GPEX_MMIO + 0x100000 + 0x08, 4);
    mt_wr(m, GPEX_MMIO + 0x100000 + 0x64, 1, 4);
    mt_rd(m, ECAM, 4); /* gpex-root */
    mt_rd(m, cfg + 0x04, 4);
}

static const mt_case gpex = {
    .name = "gpex-pcihost+gpex-root",
    .plugins = {"pcie", "edu"},
    .build = gpex_build,
    .steps = {gpex_program, gpex_ack},
};

/* ---- bochs-display ---- */

#define VRAM 0x40000000ull
#define REGS 0x50000000ull

static void bochs_build(mt *m)
{
    tes_device *d = mt_dev(m, "bochs-display", "vgamem=4M");

    mt_bar(m, d, 0, VRAM);
    mt_bar(m, d, 2, REGS);
}

static void bochs_mode(mt *m)
{
    mt_wr(m, REGS + 0x500 + 2 * 4, 0, 2);
    mt_wr(m, REGS + 0x500 + 2 * 1, 640, 2);
    mt_wr(m, REGS + 0x500 + 2 * 2, 480, 2);
    mt_wr(m, REGS + 0x500 + 2 * 3, 32, 2);
    mt_wr(m, REGS + 0x500 + 2 * 4, 0x41, 2);
    for (uint64_t i = 0; i < 64; i++) {
        mt_wr(m, VRAM + 4 * i, 0x00102030 + i, 4);
    }
}

static void bochs_pan(mt *m)
{
    mt_wr(m, REGS + 0x500 + 2 * 9, 3, 2);
    for (unsigned r = 0; r < 11; r++) {
        mt_rd(m, REGS + 0x500 + 2 * r, 2);
    }
}

static void bochs_end(mt *m)
{
    for (uint64_t i = 0; i < 64; i += 7) {
        mt_rd(m, VRAM + 4 * i, 4);
    }
    mt_rd(m, REGS + 0x0, 4);
    mt_rd(m, REGS + 0x600, 4);
}

static const mt_case bochs = {
    .name = "bochs-display",
    .plugins = {"display"},
    .build = bochs_build,
    .steps = {bochs_mode, bochs_pan, bochs_end},
};

/* ---- VGA: the legacy ports and window, and the DISPI registers ---- */

static void vga_build(mt *m)
{
    tes_device *d = mt_dev(m, "VGA", "vgamem_mb=4");

    mt_bar(m, d, 0, VRAM);
    mt_bar(m, d, 2, REGS);
}

/* A driver mid-way through its register sequences at the cut: the DAC
 * write index two bytes into a colour, the attribute controller's
 * flip-flop waiting for data, an index selected on the sequencer, CRTC
 * and DISPI ports; chain-4 bytes written through the 0xa0000 window. */
static void vga_start(mt *m)
{
    mt_out(m, 0x3c2, 0x67, 1);  /* misc: colour, CRTC at 0x3d4 */
    mt_out(m, 0x3c4, 0x04, 1);  /* sequencer memory mode: chain-4 */
    mt_out(m, 0x3c5, 0x0e, 1);
    mt_out(m, 0x3c4, 0x02, 1);  /* map mask, left selected */
    mt_out(m, 0x3c5, 0x0f, 1);
    mt_out(m, 0x3ce, 0x06, 1);  /* graphics misc: window at 0xa0000, 64 KiB */
    mt_out(m, 0x3cf, 0x05, 1);
    mt_out(m, 0x3d4, 0x0c, 1);  /* CRTC start address high, left selected */
    mt_out(m, 0x3d5, 0x12, 1);
    mt_out(m, 0x3c8, 5, 1);     /* DAC colour 5: red, green (blue after the cut) */
    mt_out(m, 0x3c9, 0x11, 1);
    mt_out(m, 0x3c9, 0x22, 1);
    mt_in(m, 0x3da, 1);         /* the flip-flop to index */
    mt_out(m, 0x3c0, 0x01, 1);  /* attribute index 1: data next */
    mt_out(m, 0x1ce, 1, 2);     /* DISPI index XRES, left selected */
    for (uint64_t i = 0; i < 16; i++) {
        mt_wr(m, 0xa0000 + i, 0x40 + i, 1);
    }
    mt_in(m, 0x3c5, 1);
    mt_in(m, 0x3d5, 1);
}

static void vga_finish(mt *m)
{
    mt_out(m, 0x3c9, 0x33, 1);  /* the colour's blue */
    mt_out(m, 0x3c0, 0x3f, 1);  /* attribute 1's data */
    mt_out(m, 0x1cf, 800, 2);   /* XRES */
    mt_out(m, 0x3c7, 5, 1);     /* read colour 5: red now, the rest after the cut */
    mt_in(m, 0x3c9, 1);
    mt_out(m, 0x3c5, 0x03, 1);  /* map mask, through the index selected */
}

static void vga_end(mt *m)
{
    mt_in(m, 0x3c9, 1);
    mt_in(m, 0x3c9, 1);
    mt_in(m, 0x3c0, 1);
    mt_out(m, 0x3c0, 0x01, 1);  /* the flip-flop was at index: a write selects */
    mt_in(m, 0x3c1, 1);
    mt_in(m, 0x1cf, 2);
    mt_in(m, 0x3c5, 1);
    mt_in(m, 0x3d5, 1);
    for (uint64_t i = 0; i < 16; i += 3) {
        mt_rd(m, 0xa0000 + i, 1);
        mt_rd(m, VRAM + i, 1);
    }
    mt_rd(m, REGS + 0x500 + 2 * 1, 2);
    mt_rd(m, REGS + 0x400 + 0x0c, 1); /* misc output read, through BAR2 */
}

static const mt_case vga = {
    .name = "VGA",
    .plugins = {"display"},
    .build = vga_build,
    .steps = {vga_start, vga_finish, vga_end},
};

static const mt_case cases[] = {
    BCASE("pcie-root-port", "pcie-root-port", "id=br0,chassis=1,slot=2"),
    BCASE("ioh3420", "ioh3420", "id=br0,chassis=2,slot=3"),
    BCASE("xio3130-downstream", "xio3130-downstream", "id=br0,chassis=3,slot=4"),
    BCASE("pci-bridge", "pci-bridge", "id=br0,chassis_nr=1"),
    BCASE("pxb", "pxb", "id=br0,bus_nr=32"),
    BCASE("pxb-pcie", "pxb-pcie", "id=br0,bus_nr=64"),
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        mt_add(&cases[i]);
    }
    mt_add(&sw);
    mt_add(&bochs);
    mt_add(&vga);
    mt_add(&gpex);
    return g_test_run();
}
