/*
 * Fuzz target: PCI expander bridges and PCIe native hot-plug (plugins/pcie,
 * core/pci-expander.c, core/pcie-slot.c) through the harness:
 *
 *   pci.0 ── 03.0 pxb-pcie px (bus_nr 8) ── 00.0 ioh3420 iop ── edu (unregistered)
 *        ├── 04.0 pxb pb (bus_nr 16) ── 00.0 pci-bridge (bus pb) ── 03.0 edu
 *        └── 05.0 pcie-root-port rp (hot-plug slot) ── edu, added and removed
 *
 * Beyond the generic actions (fuzz-dev.h): config cycles to any bus/devfn
 * (so expander routing meets whatever bus numbers the input programmed),
 * QMP device_add / device_del on the slot, the slot powered off and on by
 * Slot Control writes as pciehp does, and the spec check: the expander
 * functions answer at bus_nr after a reset, the hot-added edu appears at
 * 00.0 behind the port and a power-off while occupied removes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-dev.h"

#define PX_DEVFN (3 << 3)
#define PB_DEVFN (4 << 3)
#define RP_DEVFN (5 << 3)
#define EXP_CAP_SLTCTL 0x18
#define SLTCTL_ON 0x11f9  /* events, PIC on, attention off, power on */
#define SLTCTL_OFF 0x17f9 /* power controller off, PIC off */
#define SLTCTL_PIC_OFF 0x0300

enum { D_PX, D_IOP, D_E1, D_PB, D_E2, D_RP, D_N };

static tes_device *dev[D_N];

static tes_device *create(fz *f, const char *type, const char *props)
{
    tes_device *d = tes_harness_device(f->h, type, props);

    if (!d) {
        fz_fail(f, "%s,%s: %s", type, props, tes_harness_error(f->h));
    }
    return d;
}

static void setup(fz *f)
{
    dev[D_PX] = create(f, "pxb-pcie", "id=px,bus_nr=8,addr=03.0");
    dev[D_IOP] = create(f, "ioh3420", "id=iop,bus=px,chassis=1,slot=2");
    dev[D_E1] = create(f, "edu", "id=e1,bus=iop");
    dev[D_PB] = create(f, "pxb", "id=pb,bus_nr=16,addr=04.0");
    dev[D_E2] = create(f, "edu", "id=e2,bus=pb,addr=03.0");
    dev[D_RP] = create(f, "pcie-root-port", "id=rp,addr=05.0,chassis=3,slot=1");
    for (int i = 0; i < D_N; i++) {
        unsigned idx;

        if (i == D_E1) {
            continue; /* a raw Slot Control write on iop may unplug it */
        }
        idx = fz_device_add(f, dev[i], NULL);

        /* Expanders, bridges and ports keep their place; edu migrates. */
        if (i != D_E1 && i != D_E2) {
            fz_device_fixed(f, idx);
        }
    }
}

static void cfg_wr(fz *f, int bus, int devfn, uint32_t off, uint32_t v, unsigned size)
{
    tes_harness_cfg_write_bdf(f->h, bus, devfn, off, v, size);
}

static uint32_t cfg_rd(fz *f, int bus, int devfn, uint32_t off, unsigned size)
{
    return tes_harness_cfg_read_bdf(f->h, bus, devfn, off, size);
}

static unsigned rp_exp(fz *f)
{
    unsigned off = cfg_rd(f, 0, RP_DEVFN, TES_PCI_CAPABILITY_LIST, 1) & 0xfc;

    for (int n = 0; off && n < 48; n++) {
        if (cfg_rd(f, 0, RP_DEVFN, off, 1) == TES_PCI_CAP_ID_EXP) {
            return off;
        }
        off = cfg_rd(f, 0, RP_DEVFN, off + 1, 1) & 0xfc;
    }
    fz_fail(f, "pxb: the root port lost its PCIe capability");
}

static void qmp(fz *f, const char *json)
{
    free(tes_harness_qmp(f->h, json));
}

static void expect_ids(fz *f, int bus, int devfn, uint32_t ids, const char *what)
{
    uint32_t got = cfg_rd(f, bus, devfn, TES_PCI_VENDOR_ID, 4);

    if (got != ids) {
        fz_fail(f, "pxb: %s at %02x:%02x.%x reads 0x%08x, want 0x%08x", what, bus, devfn >> 3,
                devfn & 7, got, ids);
    }
}

/* After a reset and firmware's numbering: expanders answer at their
 * bus_nr; a hot-added edu is at 00.0 behind the port until a power-off. */
static void spec_check(fz *f)
{
    unsigned exp;

    tes_harness_reset(f->h);
    expect_ids(f, 0, PX_DEVFN, 0x000b1b36, "pxb-pcie");
    expect_ids(f, 0, PB_DEVFN, 0x00091b36, "pxb");
    expect_ids(f, 8, 0, 0x34208086, "ioh3420 on the pxb-pcie bus");
    expect_ids(f, 16, 0, 0x00011b36, "pxb's pci-bridge");
    cfg_wr(f, 16, 0, TES_PCI_PRIMARY_BUS, 16 | 17 << 8 | 17 << 16, 4);
    expect_ids(f, 17, 3 << 3, 0x11e81234, "edu behind pxb");
    cfg_wr(f, 0, RP_DEVFN, TES_PCI_PRIMARY_BUS, 0 | 1 << 8 | 1 << 16, 4);
    qmp(f, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"edu\",\"id\":\"hp\","
           "\"bus\":\"rp\"}}");
    expect_ids(f, 1, 0, 0x11e81234, "hot-added edu");
    exp = rp_exp(f);
    cfg_wr(f, 0, RP_DEVFN, exp + EXP_CAP_SLTCTL, SLTCTL_ON, 2);
    cfg_wr(f, 0, RP_DEVFN, exp + EXP_CAP_SLTCTL, SLTCTL_OFF, 2);
    expect_ids(f, 1, 0, 0xffffffff, "edu after the slot's power-off");
}

/* ---- actions ---- */

static void cfg_bdf(fz *f, bool write)
{
    uint8_t sel = fz_u8(f);
    static const uint8_t buses[] = {0, 1, 8, 9, 16, 17, 2, 7};
    int bus = sel & 0x80 ? fz_u8(f) : buses[sel & 7];
    int devfn = sel & 0x40 ? fz_u8(f) : (sel & 8 ? PX_DEVFN : sel & 0x10 ? RP_DEVFN : 0);
    unsigned size = 1u << (fz_u8(f) % 3);
    uint32_t off = fz_u16(f) & 0xfff & ~(size - 1);

    if (write) {
        cfg_wr(f, bus, devfn, off, fz_u32(f), size);
    } else {
        cfg_rd(f, bus, devfn, off, size);
    }
}

static const char *const qmp_cmds[] = {
    "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"edu\",\"id\":\"hp\","
    "\"bus\":\"rp\"}}",
    "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"edu\",\"id\":\"hq\","
    "\"bus\":\"iop\"}}",
    "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"hp\"}}",
    "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"hq\"}}",
    "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"px\"}}",
    "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"pxb-pcie\",\"id\":\"p2\","
    "\"bus_nr\":8}}",
};

/* Slot Control of rp as pciehp writes it: on, off in two steps, blink.
 * (iop's slot is only reached by raw config writes: what sits behind it
 * is registered with the generic actions and must not be unplugged.) */
static void slot_cmd(fz *f)
{
    static const uint16_t vals[] = {SLTCTL_ON, SLTCTL_ON | 0x0400, SLTCTL_OFF,
                                    (SLTCTL_ON & ~SLTCTL_PIC_OFF) | 0x0200};

    cfg_wr(f, 0, RP_DEVFN, rp_exp(f) + EXP_CAP_SLTCTL, vals[fz_u8(f) & 3], 2);
}

static void op(fz *f, unsigned i)
{
    switch (i) {
    case 0:
    case 1:
        cfg_bdf(f, i == 1);
        break;
    case 2:
        qmp(f, qmp_cmds[fz_u8(f) % (sizeof(qmp_cmds) / sizeof(qmp_cmds[0]))]);
        break;
    case 3:
        slot_cmd(f);
        break;
    case 4:
        spec_check(f);
        break;
    }
}

static const fz_target pxb_target = {
    .plugins = {"pcie", "edu", NULL},
    .ram_size = 1 << 20,
    .setup = setup,
    .n_ops = 5,
    .op = op,
};

FZ_TARGET(pxb_target)
