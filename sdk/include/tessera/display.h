/*
 * tessera SDK: graphic consoles (SDK 1.7).
 *
 * A display device (bochs-display, a VGA, virtio-gpu's scanout) owns one
 * console per head: host->console_new in realize. It shows the guest's
 * picture by pointing the console at a surface, pixels the device keeps
 * (its VRAM, a resource it copied), and tells the core which rectangle
 * changed. Frontends (screendump, a window, VNC) read the surface on the
 * main loop with the core lock held; before each read the core calls the
 * device's refresh(), in which a device that learns of changes only by
 * looking (a linear frame buffer the CPUs write) sets the surface for the
 * current mode and reports damage. A device never calls a frontend.
 *
 * The console goes with its device (the core frees it after unrealize).
 * Consoles are numbered in creation order, as QEMU's graphic consoles are:
 * screendump without device= takes console 0.
 */
#ifndef TESSERA_DISPLAY_H
#define TESSERA_DISPLAY_H

#include <stdint.h>
#include <tessera/types.h>

typedef struct tes_console tes_console;

/* Pixel layouts a surface may have (the in-memory byte order). */
typedef enum tes_pixel_format {
    TES_PIXEL_NONE = 0,
    /* 32 bits little-endian 0x00RRGGBB: bytes B, G, R, x (DRM XRGB8888). */
    TES_PIXEL_XRGB8888 = 1,
    /* 32 bits big-endian 0x00RRGGBB: bytes x, R, G, B (DRM BGRX8888). */
    TES_PIXEL_BGRX8888 = 2,
    /* 16 bits little-endian RRRRRGGG GGGBBBBB (DRM RGB565). */
    TES_PIXEL_RGB565 = 3,
} tes_pixel_format;

typedef struct tes_surface {
    uint32_t size;       /* sizeof(tes_surface) */
    uint32_t format;     /* tes_pixel_format */
    uint32_t width;      /* pixels, 1 .. 16384 */
    uint32_t height;     /* lines, 1 .. 16384 */
    uint32_t stride;     /* bytes from one line to the next, >= width * bpp */
    uint32_t reserved;
    /*
     * The first pixel. It must stay valid, stride * height bytes of it,
     * until the next console_set_surface or the device's unrealize; the
     * frontends read it only with the core lock held.
     */
    const void *pixels;
} tes_surface;

typedef struct tes_console_ops {
    uint32_t size; /* sizeof(tes_console_ops) */
    /*
     * A frontend is about to read the surface (core lock held, main
     * loop): set the surface if the mode changed and report damage. NULL:
     * the device keeps the console current itself.
     */
    void (*refresh)(void *opaque);
} tes_console_ops;

/* Bytes per pixel of a format, 0 for none or an unknown one. */
static inline uint32_t tes_pixel_bytes(uint32_t format)
{
    switch (format) {
    case TES_PIXEL_XRGB8888:
    case TES_PIXEL_BGRX8888:
        return 4;
    case TES_PIXEL_RGB565:
        return 2;
    }
    return 0;
}

#endif
