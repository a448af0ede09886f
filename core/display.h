/*
 * Graphic consoles (host->console_*, SDK 1.7 display.h) and what reads
 * them: QMP/HMP screendump now, the window and VNC frontends later. All of
 * it runs with the core lock held.
 */
#ifndef TESSERA_CORE_DISPLAY_H
#define TESSERA_CORE_DISPLAY_H

#include <stdbool.h>
#include <tessera/display.h>

tes_console *console_new(tes_device *dev, const tes_console_ops *ops, void *opaque);
void console_set_surface(tes_console *con, const tes_surface *surf);
void console_update(tes_console *con, uint32_t x, uint32_t y, uint32_t w, uint32_t h);

/* dev is going: its consoles go (registry's dev_free, after unrealize). */
void display_dev_free(tes_device *dev);

/* The console screendump/frontends show: head `head` of the device with
 * id `device`, or (device NULL) console 0, QEMU's rule. NULL with *err set
 * when there is none. */
tes_console *display_console_find(const char *device, int head, char **err);
/* The device's refresh(), then the surface to show; NULL: none (display
 * off or no mode set yet). */
const tes_surface *display_console_surface(tes_console *con);
/* The pixel at x, y of a valid surface as 0x00RRGGBB. */
uint32_t display_pixel_rgb(const tes_surface *s, uint32_t x, uint32_t y);

/* Write the console's picture to path as "ppm" (binary P6, QEMU's
 * default) or "png" (8-bit RGB). A console without a surface gives
 * QEMU's placeholder size, 640x480, black. */
bool display_screendump(tes_console *con, const char *path, const char *format, char **err);

#endif
