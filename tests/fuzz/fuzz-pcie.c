/*
 * Fuzz target: the PCIe ports and bridges and the ECAM host bridge
 * (plugins/pcie) through the harness, with edu functions behind them:
 *
 *   pci.0 ── 04.0 pcie-root-port rp1 ── x3130-upstream ── xio3130-downstream ── edu
 *        └── 05.0 pci-bridge br ── edu
 *   gpex-pcihost (ECAM at 0x3f000000) pcie.0 ── 01.0 pcie-root-port rp2 ── edu
 *
 * Beyond the generic actions (fuzz-dev.h): config cycles by bus/devfn
 * (routed through whatever bus numbers the input programmed), ECAM accesses,
 * and the spec check: after a system reset, numbering the buses and opening
 * the windows as a firmware does makes every edu answer through the
 * bridges again, and read-only IDs never change.
 */
#include <stdio.h>
#include <string.h>
#include <tessera/gpex.h>

#include "fuzz-dev.h"

#define ECAM 0x3f000000ull
#define ECAM_BUSES 4
#define GPEX_PIO 0x3eff0000ull
#define GPEX_MMIO 0x40000000ull
#define WIN 0xa0000000ull /* pci.0 bridges' memory windows */
#define EDU_ID 0x010000ed
#define RP_DEVFN (4 << 3)
#define BR_DEVFN (5 << 3)

enum { D_RP1, D_UP1, D_DN1, D_E1, D_BR, D_E2, D_GPEX, D_RP2, D_E3, D_N };

static tes_device *dev[D_N];
static const tes_gpex_iface *gpex;

static tes_device *create(fz *f, const char *type, const char *props)
{
    tes_device *d = tes_harness_device(f->h, type, props);

    if (!d) {
        fz_fail(f, "%s,%s: %s", type, props, tes_harness_error(f->h));
    }
    return d;
}

static void map_gpex(fz *f)
{
    tes_region *sys = f->host->system_memory();

    gpex = f->host->iface_lookup(TES_GPEX_IFACE, TES_GPEX_IFACE_VERSION);
    if (!gpex) {
        fz_fail(f, "no gpex interface");
    }
    f->host->region_add(sys, ECAM, gpex->ecam(dev[D_GPEX]), 0);
    f->host->region_add(sys, GPEX_MMIO, gpex->mmio(dev[D_GPEX]), 0);
    f->host->region_add(sys, GPEX_PIO, gpex->pio(dev[D_GPEX]), 0);
    fz_window_add(f, ECAM, ECAM_BUSES << 20, false);
    fz_window_add(f, GPEX_MMIO, 0x200000, false);
    fz_window_add(f, GPEX_PIO, 0x10000, false);
}

static void setup(fz *f)
{
    dev[D_RP1] = create(f, "pcie-root-port",
                        "id=rp1,addr=04.0,chassis=1,slot=5,port=7,hotplug=off");
    dev[D_UP1] = create(f, "x3130-upstream", "id=up1,bus=rp1");
    dev[D_DN1] = create(f, "xio3130-downstream", "id=dn1,bus=up1,addr=00.0,chassis=2,slot=1,hotplug=off");
    dev[D_E1] = create(f, "edu", "id=e1,bus=dn1");
    dev[D_BR] = create(f, "pci-bridge", "id=br,chassis_nr=3,addr=05.0");
    dev[D_E2] = create(f, "edu", "id=e2,bus=br");
    dev[D_GPEX] = create(f, "gpex-pcihost", "ecam-buses=4,mmio-base=0x40000000,"
                                            "mmio-size=0x10000000");
    dev[D_RP2] = create(f, "pcie-root-port", "id=rp2,bus=pcie.0,addr=01.0,chassis=4,slot=1,hotplug=off");
    dev[D_E3] = create(f, "edu", "id=e3,bus=rp2");
    map_gpex(f);
    for (int i = 0; i < D_N; i++) {
        if (i == D_GPEX) {
            continue;
        }
        unsigned idx = fz_device_add(f, dev[i], NULL);

        /* Bridges and ports keep their place; edu (a leaf) migrates. */
        if (i != D_E1 && i != D_E2 && i != D_E3) {
            fz_device_fixed(f, idx);
        }
    }
    fz_window_add(f, WIN, 0x200000, false);
}

/* ---- firmware-like set-up, for the spec check ---- */

static void cfg_wr(fz *f, int bus, int devfn, uint32_t off, uint32_t v, unsigned size)
{
    tes_harness_cfg_write_bdf(f->h, bus, devfn, off, v, size);
}

static uint32_t cfg_rd(fz *f, int bus, int devfn, uint32_t off, unsigned size)
{
    return tes_harness_cfg_read_bdf(f->h, bus, devfn, off, size);
}

/* Secondary bus numbers, a memory window [base, base + 1 MiB) and memory
 * decoding with bus mastering for one bridge. */
static void bridge(fz *f, int bus, int devfn, int sec, int sub, uint64_t base)
{
    uint32_t w = (uint32_t)(base >> 16);

    cfg_wr(f, bus, devfn, TES_PCI_PRIMARY_BUS, bus | sec << 8 | sub << 16, 4);
    cfg_wr(f, bus, devfn, 0x20, w | w << 16, 4); /* base | limit: one 1 MiB granule */
    cfg_wr(f, bus, devfn, TES_PCI_COMMAND, TES_PCI_COMMAND_MEMORY | TES_PCI_COMMAND_MASTER, 2);
}

static void ecam_wr(int bus, int devfn, uint32_t off, uint32_t v, unsigned size, fz *f)
{
    tes_harness_write(f->h, ECAM + ((uint64_t)bus << 20 | devfn << 12 | off), v, size);
}

static void firmware(fz *f)
{
    /* pci.0: rp1 -> up1 -> dn1 -> e1 (buses 1..3), br -> e2 (bus 4). */
    bridge(f, 0, RP_DEVFN, 1, 3, WIN);
    bridge(f, 1, 0, 2, 3, WIN);
    bridge(f, 2, 0, 3, 3, WIN);
    tes_harness_bar_map(f->h, f->dev[3], 0, WIN);
    bridge(f, 0, BR_DEVFN, 4, 4, WIN + 0x100000);
    tes_harness_bar_map(f->h, f->dev[5], 0, WIN + 0x100000);
    /* pcie.0 through ECAM: rp2 (01.0) -> e3 on bus 1. */
    ecam_wr(0, 1 << 3, TES_PCI_PRIMARY_BUS, 0 | 1 << 8 | 1 << 16, 4, f);
    ecam_wr(0, 1 << 3, 0x20, (GPEX_MMIO >> 16) | (GPEX_MMIO >> 16) << 16, 4, f);
    ecam_wr(0, 1 << 3, TES_PCI_COMMAND, TES_PCI_COMMAND_MEMORY, 2, f);
    ecam_wr(1, 0, TES_PCI_BAR0, (uint32_t)GPEX_MMIO, 4, f);
    ecam_wr(1, 0, TES_PCI_COMMAND, TES_PCI_COMMAND_MEMORY, 2, f);
}

static void expect_edu(fz *f, const char *name, uint64_t bar)
{
    uint32_t id = tes_harness_read(f->h, bar, 4);

    if (id != EDU_ID) {
        fz_fail(f, "pcie: %s behind the bridges reads 0x%x at 0x%llx after reset and set-up",
                name, id, (unsigned long long)bar);
    }
}

static void expect_ids(fz *f, int bus, int devfn, uint32_t ids)
{
    uint32_t got;

    cfg_wr(f, bus, devfn, TES_PCI_VENDOR_ID, ~ids, 4); /* read-only */
    got = cfg_rd(f, bus, devfn, TES_PCI_VENDOR_ID, 4);
    if (got != ids) {
        fz_fail(f, "pcie: %02x:%02x.%x IDs read 0x%08x, want 0x%08x", bus, devfn >> 3,
                devfn & 7, got, ids);
    }
}

static void spec_check(fz *f)
{
    expect_ids(f, 0, RP_DEVFN, 0x000c1b36);
    expect_ids(f, 0, BR_DEVFN, 0x00011b36);
    tes_harness_reset(f->h);
    firmware(f);
    expect_ids(f, 1, 0, 0x8232104c);
    expect_ids(f, 2, 0, 0x8233104c);
    expect_edu(f, "edu e1 (rp1/up1/dn1)", WIN);
    expect_edu(f, "edu e2 (pci-bridge)", WIN + 0x100000);
    expect_edu(f, "edu e3 (gpex/rp2)", GPEX_MMIO);
}

/* ---- actions ---- */

static void cfg_bdf(fz *f, bool write)
{
    uint8_t sel = fz_u8(f);
    int bus = sel & 0x80 ? fz_u8(f) : sel & 7;
    int devfn = sel & 0x40 ? fz_u8(f) : (sel & 8 ? BR_DEVFN : sel & 0x10 ? RP_DEVFN : 0);
    unsigned size = 1u << (fz_u8(f) % 3);
    uint32_t off = fz_u16(f) & 0xfff & ~(size - 1);

    if (write) {
        cfg_wr(f, bus, devfn, off, fz_u32(f), size);
    } else {
        cfg_rd(f, bus, devfn, off, size);
    }
}

static void ecam(fz *f, bool write)
{
    uint8_t sel = fz_u8(f);
    unsigned size = 1u << (fz_u8(f) % 3);
    uint64_t off = ((uint64_t)(sel % ECAM_BUSES) << 20 | (uint64_t)fz_u8(f) << 12 |
                    (fz_u16(f) & 0xfff)) & ~(uint64_t)(size - 1);

    if (write) {
        tes_harness_write(f->h, ECAM + off, fz_u32(f), size);
    } else {
        tes_harness_read(f->h, ECAM + off, size);
    }
}

static void op(fz *f, unsigned i)
{
    switch (i) {
    case 0:
    case 1:
        cfg_bdf(f, i == 1);
        break;
    case 2:
    case 3:
        ecam(f, i == 3);
        break;
    case 4:
        firmware(f);
        break;
    case 5:
        spec_check(f);
        break;
    }
}

static const fz_target pcie_target = {
    .plugins = {"pcie", "edu", NULL},
    .ram_size = 1 << 20,
    .setup = setup,
    .n_ops = 6,
    .op = op,
};

FZ_TARGET(pcie_target)
