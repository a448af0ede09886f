/*
 * Fuzz target: bochs-display (plugins/display) through the harness.
 * Beyond the generic actions (fuzz-dev.h): DISPI register writes biased
 * towards the values that decide the mode (bpp, sizes, virtual width,
 * panning offsets at and past the end of VRAM), the byte-order register,
 * pixels written into VRAM, and a screendump of whatever mode that made:
 * the surface the core reads must lie inside VRAM (ASan watches the read)
 * and the file must hold exactly width x height pixels.
 */
#include "fuzz-dispi.h"

static void setup(fz *f)
{
    fd_setup(f, "bochs-display", "vgamem=4M,id=vga0");
}

static void vbe_write(fz *f)
{
    static const uint16_t enables[2] = {0x41, 0x41}; /* ENABLED | LFB */
    unsigned index = fz_u8(f) % 12;

    fd_bar2_write(f, index, fd_mode_value(f, index, enables));
}

static void pixels(fz *f)
{
    uint64_t off = fz_u32(f) % FD_VRAM;
    unsigned n = 1 + fz_u8(f) % 64;

    for (unsigned i = 0; i < n && off + 4 * i + 4 <= FD_VRAM; i++) {
        tes_harness_write(f->h, FD_BAR0 + off + 4 * i, fz_u32(f), 4);
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
        tes_harness_write(f->h, FD_BAR2 + 0x604, fz_u8(f) & 1 ? 0xbebebebe : 0x1e1e1e1e, 4);
        break;
    case 3:
        pixels(f);
        break;
    case 4:
        fz_check_screendump(f, "bochs-display", FD_VRAM + 640 * 480 * 4);
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
