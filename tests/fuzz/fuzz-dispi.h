/*
 * Shared by the fuzz targets of the DISPI displays (fuzz-bochs-display.c,
 * fuzz-vga.c; plugins/display/dispi.c): the device with its BARs mapped
 * and fuzzed, and DISPI register values biased towards the ones that
 * decide the mode.
 */
#ifndef FUZZ_DISPI_H
#define FUZZ_DISPI_H

#include "fuzz-dev.h"

#define FD_BAR0 0x20000000ull /* VRAM, 4 MiB */
#define FD_BAR2 0x10000000ull /* EDID, VGA ports, DISPI, QEMU extended */
#define FD_VRAM (4ull << 20)

/* type with props (4 MiB of VRAM, id=vga0), BAR0 and BAR2 mapped and
 * their windows given to the generic actions. */
static inline tes_device *fd_setup(fz *f, const char *type, const char *props)
{
    tes_device *d = tes_harness_device(f->h, type, props);

    if (!d) {
        fz_fail(f, "%s: %s", type, tes_harness_error(f->h));
    }
    fz_device_add(f, d, NULL);
    tes_harness_bar_map(f->h, d, 2, FD_BAR2);
    tes_harness_bar_map(f->h, d, 0, FD_BAR0);
    fz_window_add(f, FD_BAR2, 0x1000, false);
    fz_window_add(f, FD_BAR0, FD_VRAM, false);
    return d;
}

/* A value for DISPI register index: a bpp from the interesting ones,
 * enable (ENABLED | LFB, or from enables[] with pick bit 1), sizes from
 * 64, panning offsets small; else any. */
static inline uint16_t fd_mode_value(fz *f, unsigned index, const uint16_t enables[2])
{
    static const uint16_t bpps[] = {0, 4, 8, 15, 16, 24, 32, 0xffff};
    uint8_t pick = fz_u8(f);

    switch (index) {
    case 3:
        return bpps[pick % 8];
    case 4:
        return pick & 1 ? enables[(pick >> 1) & 1] : fz_u16(f);
    case 1:
    case 2:
    case 6:
        return pick & 1 ? 64 + (fz_u16(f) & 0x3ff) : fz_u16(f);
    }
    return pick & 1 ? fz_u16(f) & 0x7ff : fz_u16(f);
}

/* Its register through BAR2's DISPI block (0x500 + 2 * index). */
static inline void fd_bar2_write(fz *f, unsigned index, uint16_t v)
{
    tes_harness_write(f->h, FD_BAR2 + 0x500 + 2 * index, v, 2);
}

#endif
