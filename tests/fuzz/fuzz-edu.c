/*
 * Fuzz target: edu (plugins/edu) through the harness. Beyond the generic
 * actions (fuzz-dev.h): register writes the DMA engine and factorial care
 * about, with guest addresses anywhere, and a check that the device still
 * answers as its manual says after whatever came before.
 */
#include "fuzz-dev.h"

#define BAR0 0x10000000ull
#define EDU_ID 0x010000ed

static const uint64_t regs[] = {0x04, 0x08, 0x20, 0x60, 0x64, 0x80, 0x88, 0x90, 0x98};

static void setup(fz *f)
{
    tes_device *d = tes_harness_device(f->h, "edu", NULL);

    if (!d) {
        fz_fail(f, "edu: %s", tes_harness_error(f->h));
    }
    fz_device_add(f, d, NULL);
    tes_harness_bar_map(f->h, d, 0, BAR0);
    tes_harness_msi_enable(f->h, d);
    fz_window_add(f, BAR0, 0x100000, false);
}

static void reg_write(fz *f)
{
    uint64_t reg = regs[fz_u8(f) % (sizeof(regs) / sizeof(regs[0]))];
    uint64_t val;

    switch (reg) {
    case 0x80:
    case 0x88:
        /* The device buffer (0x40000) or a guest address. */
        val = fz_u8(f) & 1 ? 0x40000ull + (fz_u16(f) & 0x1fff) : fz_addr(f);
        break;
    case 0x90:
        val = fz_u8(f) & 1 ? (uint64_t)(fz_u16(f) & 0x1fff) : fz_u64(f);
        break;
    default:
        val = fz_u32(f);
        break;
    }
    tes_harness_write(f->h, BAR0 + reg, val, reg >= 0x80 ? 8 : 4);
}

/* Whatever the guest did, a re-mapped edu identifies itself and its
 * liveness register inverts. */
static void spec_check(fz *f)
{
    uint32_t v = fz_u32(f);

    tes_harness_bar_map(f->h, f->dev[0], 0, BAR0);
    if (tes_harness_read(f->h, BAR0, 4) != EDU_ID) {
        fz_fail(f, "edu: identification reads 0x%x", (unsigned)tes_harness_read(f->h, BAR0, 4));
    }
    tes_harness_write(f->h, BAR0 + 4, v, 4);
    if (tes_harness_read(f->h, BAR0 + 4, 4) != (uint32_t)~v) {
        fz_fail(f, "edu: liveness does not invert 0x%x", v);
    }
}

static void op(fz *f, unsigned i)
{
    switch (i) {
    case 0:
    case 1:
        reg_write(f);
        break;
    case 2:
        spec_check(f);
        break;
    }
}

static const fz_target edu_target = {
    .plugins = {"edu", NULL},
    .ram_size = 1 << 20,
    .setup = setup,
    .n_ops = 3,
    .op = op,
};

FZ_TARGET(edu_target)
