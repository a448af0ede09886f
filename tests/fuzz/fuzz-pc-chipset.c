/*
 * Fuzz target: the pc machine's chipset functions through the harness:
 * the i440FX function (board-pc; PAM over 0xc0000..0xfffff of the 1 MiB
 * of RAM, SMRAM), the PIIX3 (pc-platform; PIRQ routing of pci.0's INTx,
 * with an edu at slot 3 raising INTA#) and PIIX4_PM (the PM block at
 * 0x600, GPE0 at 0xafe0). Config writes reach all three through the
 * generic actions (with migration round trips), as do memory accesses to
 * the BIOS area under any PAM mode.
 *
 * Its own operations: PIRQ input toggles and edu interrupt raise/ack; the
 * spec check: after a system reset PAM and PIRQRC hold their reset values,
 * 0xf0000 reads the (empty) BIOS ROM, and no ISA IRQ is driven.
 */
#include "fuzz-dev.h"

typedef struct pc_priv {
    tes_device *fn, *piix3, *edu;
} pc_priv;

static pc_priv priv;

static tes_device *create(fz *f, const char *type, const char *props)
{
    tes_device *d = tes_harness_device(f->h, type, props);

    if (!d) {
        fz_fail(f, "%s: %s", type, tes_harness_error(f->h));
    }
    return d;
}

static void setup(fz *f)
{
    priv.fn = create(f, "i440FX", "addr=00.0");
    priv.piix3 = create(f, "PIIX3", "addr=01.0");
    fz_device_add(f, create(f, "PIIX4_PM", "addr=01.3"), NULL);
    priv.edu = create(f, "edu", "addr=03.0");
    f->priv = &priv;
    fz_window_add(f, 0xc0000, 0x40000, false);
    fz_window_add(f, 0x600, 0x40, true);
    fz_window_add(f, 0xafe0, 4, true);
    fz_window_add(f, 0xcf8, 8, true);
    /* The i440FX and PIIX3 stay put (their state is board wiring). */
    fz_device_fixed(f, fz_device_add(f, priv.fn, NULL));
    fz_device_fixed(f, fz_device_add(f, priv.piix3, NULL));
    fz_device_add(f, priv.edu, NULL);
}

static void spec_check(fz *f)
{
    uint32_t got;

    tes_harness_reset(f->h);
    for (unsigned r = 0x59; r <= 0x5f; r++) {
        if ((got = tes_harness_cfg_read(f->h, priv.fn, r, 1)) != 0) {
            fz_fail(f, "i440FX: PAM register 0x%x reads 0x%x after reset", r, got);
        }
    }
    if ((got = (uint32_t)tes_harness_read(f->h, 0xf0000, 4)) != 0) {
        fz_fail(f, "i440FX: 0xf0000 reads 0x%x after reset, not the ROM", got);
    }
    if ((got = tes_harness_cfg_read(f->h, priv.piix3, 0x60, 4)) != 0x80808080) {
        fz_fail(f, "PIIX3: PIRQRC reads 0x%x after reset", got);
    }
    for (unsigned irq = 0; irq < 16; irq++) {
        if (tes_harness_irq_level(f->h, priv.piix3, irq)) {
            fz_fail(f, "PIIX3: ISA IRQ %u driven after reset", irq);
        }
    }
}

static void op(fz *f, unsigned i)
{
    uint8_t v = fz_u8(f);

    switch (i) {
    case 0:
        f->host->irq_set(f->host->dev_irq_in(priv.piix3, v & 3), (v >> 2) & 1);
        break;
    case 1:
        tes_harness_cfg_write(f->h, priv.piix3, 0x60 + (v & 3), fz_u8(f), 1);
        break;
    case 2:
        spec_check(f);
        break;
    }
}

static const fz_target pc_chipset_target = {
    .plugins = {"board-pc", "pc-platform", "edu", NULL},
    .ram_size = 1 << 20,
    .setup = setup,
    .n_ops = 3,
    .op = op,
};

FZ_TARGET(pc_chipset_target)
