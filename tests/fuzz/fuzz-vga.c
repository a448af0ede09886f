/*
 * Fuzz target: the std VGA (plugins/display) through the harness. Beyond
 * the generic actions (fuzz-dev.h, with windows on BAR0, BAR2, the VGA
 * ports 0x3b0-0x3df, the DISPI ports 0x1ce-0x1d0 and the 0xa0000
 * window): DISPI register writes through the ports or BAR2 biased towards
 * the values that decide the mode and the bank, VGA register writes
 * biased towards the ones that steer the memory window (map mask, memory
 * mode, graphics controller data path, memory map) and the attribute
 * controller's blanking, bursts of window accesses in whatever addressing
 * that made, and a screendump: the surface the core reads must lie inside
 * VRAM (ASan watches) and the file must hold exactly width x height pixels.
 */
#include "fuzz-dispi.h"

#define WIN 0xa0000ull

static void setup(fz *f)
{
    fd_setup(f, "VGA", "vgamem_mb=4,id=vga0");
    fz_window_add(f, WIN, 0x20000, false);
    fz_window_add(f, 0x3b0, 0x30, true);
    fz_window_add(f, 0x1ce, 3, true);
}

static void vbe_write(fz *f)
{
    /* ENABLED | LFB, with or without NOCLEARMEM */
    static const uint16_t enables[2] = {0x41, 0xc1};
    unsigned index = fz_u8(f) % 12;
    uint16_t v = fd_mode_value(f, index, enables);

    if (fz_u8(f) & 1) {
        tes_harness_io_write(f->h, 0x1ce, index, 2);
        tes_harness_io_write(f->h, 0x1cf, v, 2);
    } else {
        fd_bar2_write(f, index, v);
    }
}

/* An index/data pair of the sequencer, graphics controller or CRTC, or
 * an attribute controller write after resetting its flip-flop. */
static void vga_write(fz *f)
{
    static const uint16_t index_port[] = {0x3c4, 0x3ce, 0x3d4, 0x3b4};
    uint8_t pick = fz_u8(f), index = fz_u8(f), val = fz_u8(f);

    if ((pick & 7) == 7) {
        tes_harness_io_read(f->h, 0x3da, 1);
        tes_harness_io_read(f->h, 0x3ba, 1);
        tes_harness_io_write(f->h, 0x3c0, index & 0x3f, 1);
        tes_harness_io_write(f->h, 0x3c0, val, 1);
        return;
    }
    if ((pick & 7) == 6) {
        tes_harness_io_write(f->h, 0x3c2, val, 1);
        return;
    }
    tes_harness_io_write(f->h, index_port[pick & 3], (uint16_t)(val << 8 | (index & 0x1f)), 2);
}

static void window_burst(fz *f)
{
    uint64_t off = fz_u32(f) % 0x20000;
    unsigned n = 1 + fz_u8(f) % 32;
    bool write = fz_u8(f) & 1;

    for (unsigned i = 0; i < n && off + i < 0x20000; i++) {
        if (write) {
            tes_harness_write(f->h, WIN + off + i, fz_u8(f), 1);
        } else {
            tes_harness_read(f->h, WIN + off + i, 1);
        }
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
    case 3:
        vga_write(f);
        break;
    case 4:
        window_burst(f);
        break;
    case 5:
        fz_check_screendump(f, "VGA", FD_VRAM + 640 * 480 * 4);
        break;
    }
}

static const fz_target vga_target = {
    .plugins = {"display", NULL},
    .ram_size = 1 << 20,
    .setup = setup,
    .n_ops = 6,
    .op = op,
};

FZ_TARGET(vga_target)
