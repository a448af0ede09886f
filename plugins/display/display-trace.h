/*
 * display: trace points (sdk trace.h). QEMU's names where QEMU has the
 * event (vga_vbe_*, vga_std_*_io: -trace 'vga*' shows the register
 * traffic of either device); display_surface is ours: the picture a
 * console shows changed (0x0: the placeholder).
 */
#ifndef TESSERA_DISPLAY_TRACE_H
#define TESSERA_DISPLAY_TRACE_H

#include <tessera/host.h>

extern const tes_host *display_host;

#define TES_TRACE_TABLE display_trace_events
#define TES_TRACE_HOST display_host
#define DISPLAY_TRACE(E)                                                                       \
    E(vga_vbe_read, (unsigned index, unsigned val), (index, val),                              \
      "index 0x%x, val 0x%x")                                                                  \
    E(vga_vbe_write, (unsigned index, unsigned val), (index, val),                             \
      "index 0x%x, val 0x%x")                                                                  \
    E(vga_std_read_io, (unsigned addr, unsigned val), (addr, val), "addr 0x%x, val 0x%x")      \
    E(vga_std_write_io, (unsigned addr, unsigned val), (addr, val), "addr 0x%x, val 0x%x")     \
    E(display_surface, (const char *dev, unsigned w, unsigned h, unsigned format,              \
                        uint64_t offset),                                                      \
      (dev, w, h, format, offset), "%s: %ux%u format %u at VRAM offset 0x%" PRIx64)
TES_TRACE_DECLARE(DISPLAY_TRACE)

#endif
