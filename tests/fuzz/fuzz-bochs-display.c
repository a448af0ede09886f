/*
 * Fuzz target: bochs-display (plugins/display) through the harness.
 * Beyond the generic actions (fuzz-dev.h): DISPI register writes biased
 * towards the values that decide the mode (bpp, sizes, virtual width,
 * panning offsets at and past the end of VRAM), the byte-order register,
 * pixels written into VRAM, and a screendump of whatever mode that made:
 * the surface the core reads must lie inside VRAM (ASan watches the read)
 * and the file must hold exactly width x height pixels.
 */
#include "fuzz-dev.h"

#define BAR0 0x20000000ull /* VRAM, 4 MiB */
#define BAR2 0x10000000ull
#define VRAM (4ull << 20)

static void setup(fz *f)
{
    tes_device *d = tes_harness_device(f->h, "bochs-display", "vgamem=4M,id=vga0");

    if (!d) {
        fz_fail(f, "bochs-display: %s", tes_harness_error(f->h));
    }
    fz_device_add(f, d, NULL);
    tes_harness_bar_map(f->h, d, 2, BAR2);
    tes_harness_bar_map(f->h, d, 0, BAR0);
    fz_window_add(f, BAR2, 0x1000, false);
    fz_window_add(f, BAR0, VRAM, false);
}

static uint16_t mode_value(fz *f, unsigned index)
{
    static const uint16_t bpps[] = {0, 4, 8, 15, 16, 24, 32, 0xffff};
    uint8_t pick = fz_u8(f);

    switch (index) {
    case 3:
        return bpps[pick % 8];
    case 4:
        return pick & 1 ? 0x41 : fz_u16(f);
    case 1:
    case 2:
    case 6:
        return pick & 1 ? 64 + (fz_u16(f) & 0x3ff) : fz_u16(f);
    }
    return pick & 1 ? fz_u16(f) & 0x7ff : fz_u16(f);
}

static void vbe_write(fz *f)
{
    unsigned index = fz_u8(f) % 12;

    tes_harness_write(f->h, BAR2 + 0x500 + 2 * index, mode_value(f, index), 2);
}

static void pixels(fz *f)
{
    uint64_t off = fz_u32(f) % VRAM;
    unsigned n = 1 + fz_u8(f) % 64;

    for (unsigned i = 0; i < n && off + 4 * i + 4 <= VRAM; i++) {
        tes_harness_write(f->h, BAR0 + off + 4 * i, fz_u32(f), 4);
    }
}

static void op(fz *f, unsigned i)
{
    switch (i) {
    case 0:
    case 1:
        vbe_write(f);
        break;
    case 2:
        tes_harness_write(f->h, BAR2 + 0x604, fz_u8(f) & 1 ? 0xbebebebe : 0x1e1e1e1e, 4);
        break;
    case 3:
        pixels(f);
        break;
    case 4:
        fz_check_screendump(f, "bochs-display", VRAM + 640 * 480 * 4);
        break;
    }
}

static const fz_target bochs_target = {
    .plugins = {"display", NULL},
    .ram_size = 1 << 20,
    .setup = setup,
    .n_ops = 5,
    .op = op,
};

FZ_TARGET(bochs_target)
