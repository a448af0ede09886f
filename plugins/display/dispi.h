/*
 * The Bochs VBE "DISPI" interface and the register BAR that QEMU's
 * bochs-display and std VGA share (plugins/display): video memory, the
 * DISPI register file, the EDID block, QEMU's extended registers, and the
 * console showing the linear frame buffer mode the registers describe.
 * Each device embeds a dispi and adds what is its own (the VGA its
 * register file, legacy ports and memory window: vga.c).
 *
 * BAR2 layout (4 KiB), as QEMU's and Linux's bochs DRM driver know it:
 *
 *   0x000-0x0ff  EDID (read-only; zeros with edid=off)
 *   0x400-0x41f  the VGA ports 0x3c0-0x3df (the device's own business)
 *   0x500-0x515  DISPI registers 0..10, 16 bits each
 *   0x600        QEMU extended registers: size (reads 8)
 *   0x604        frame buffer byte order: 0xbebebebe big, 0x1e1e1e1e little
 */
#ifndef TESSERA_DISPLAY_DISPI_H
#define TESSERA_DISPLAY_DISPI_H

#include <stdbool.h>
#include <stdint.h>
#include <tessera/tessera.h>

#include "edid.h"

/* The plugin's host table (plugin.c sets it in init). */
extern const tes_host *display_host;

#define DISPI_MMIO_SIZE 0x1000
#define DISPI_VGA_OFF 0x400
#define DISPI_VGA_SIZE 0x20
#define DISPI_VBE_OFF 0x500
#define DISPI_QEXT_OFF 0x600
#define DISPI_QEXT_SIZE 8

#define VBE_ID 0x0
#define VBE_XRES 0x1
#define VBE_YRES 0x2
#define VBE_BPP 0x3
#define VBE_ENABLE 0x4
#define VBE_BANK 0x5
#define VBE_VIRT_WIDTH 0x6
#define VBE_VIRT_HEIGHT 0x7
#define VBE_X_OFFSET 0x8
#define VBE_Y_OFFSET 0x9
#define VBE_VIDEO_MEMORY_64K 0xa
#define VBE_NREGS 0xb
#define VBE_ID5 0xb0c5
#define VBE_ENABLED 0x01
#define VBE_NOCLEARMEM 0x80

typedef struct dispi_mode {
    uint32_t format, width, height, stride;
    uint64_t offset;
    const void *pixels; /* what the console shows (VRAM, or a device's buffer) */
} dispi_mode;

typedef struct dispi {
    /* properties (the device's vgamem, DISPI_EDID_PROPS) */
    uint64_t vgamem;
    bool edid_on;
    uint32_t xres, yres;

    tes_device *dev;
    const char *name;   /* the type, for messages */
    bool vga;           /* the std VGA's DISPI: banks, clear on enable */
    tes_console *con;
    tes_region *vram, *mmio;
    uint8_t *vram_ptr;
    uint8_t edid[EDID_BLOCK];
    uint16_t vbe[VBE_NREGS];
    bool big_endian;
    dispi_mode shown; /* format 0: nothing shown */
} dispi;

/* The EDID properties of both devices; st embeds a dispi as member d. */
#define DISPI_EDID_PROPS(st)                                                                   \
    TES_PROP("edid", TES_PROP_BOOL, st, d.edid_on, "on", 0, 0,                                 \
             "an EDID block in BAR2 naming the preferred mode"),                               \
        TES_PROP("xres", TES_PROP_U32, st, d.xres, "1280", 0, 0,                               \
                 "preferred width the EDID names"),                                            \
        TES_PROP("yres", TES_PROP_U32, st, d.yres, "800", 0, 0, "preferred height the EDID names")

/* Migration fields (named as bochs-display's state version 1 named them). */
#define DISPI_FIELDS(st)                                                                       \
    {"vbe", TES_FIELD_U16, offsetof(st, d.vbe), VBE_NREGS, 0},                                 \
        {"big_endian", TES_FIELD_BOOL, offsetof(st, d.big_endian), 0, 0}

/* BAR2's ops: byte to dword accesses, little-endian. */
#define DISPI_MMIO_OPS(rd, wr)                                                                 \
    {                                                                                          \
        .size = sizeof(tes_mem_ops), .read = rd, .write = wr, .endian = TES_ENDIAN_LITTLE,     \
        .valid_min = 1, .valid_max = 4, .impl_min = 1, .impl_max = 4,                          \
    }

/* QEMU's IDs for both (1234:1111, subsystem 1af4:1100, revision 2); the
 * class tells the VGA (0x0300) from the display-only device (0x0380). */
#define DISPI_PCI_INFO(cls)                                                                    \
    {                                                                                          \
        .size = sizeof(tes_pci_info), .vendor_id = 0x1234, .device_id = 0x1111,                \
        .subsystem_vendor_id = 0x1af4, .subsystem_id = 0x1100, .revision = 2,                  \
        .class_id = cls,                                                                       \
    }

/* realize: check the properties, make VRAM (BAR0, prefetchable) and the
 * register BAR (BAR2, mmio_ops on opaque), fill the EDID. 0 or -errno
 * after host->error(dev). The console is the device's to make. */
int dispi_realize(dispi *d, tes_device *dev, const char *name, const tes_mem_ops *mmio_ops,
                  void *opaque);
/* BAR2 accesses outside the VGA ports: true when handled. */
bool dispi_mmio_read(dispi *d, uint64_t off, unsigned size, uint64_t *val);
bool dispi_mmio_write(dispi *d, uint64_t off, uint64_t val, unsigned size);
/* One DISPI register by index (the VGA's 0x1ce/0x1cf ports use these). */
uint16_t dispi_read(dispi *d, unsigned index);
void dispi_write(dispi *d, unsigned index, uint16_t val);
/* The VRAM offset of the 64 KiB bank the VGA window shows in DISPI modes. */
uint64_t dispi_bank_offset(const dispi *d);
/* The linear frame buffer mode the registers describe (QEMU's rules: 16
 * or 32 bpp, at least 64x64, inside VRAM); false: none. */
bool dispi_mode_get(const dispi *d, dispi_mode *m);
/* Point the console at m (when it changed) and report it all damaged. */
void dispi_publish(dispi *d, const dispi_mode *m);
/* Show nothing (the core's placeholder). */
void dispi_unpublish(dispi *d);
/* Refresh for a DISPI mode: true when one is shown, false (console left
 * alone) when the registers describe none. */
bool dispi_refresh(dispi *d);
void dispi_reset(dispi *d);
/* After a migration: the next refresh sets the surface again. */
void dispi_post_load(dispi *d);

#endif
