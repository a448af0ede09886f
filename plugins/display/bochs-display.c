/*
 * bochs-display: QEMU's VGA-less PCI display (the Bochs VBE "DISPI"
 * interface over MMIO and a linear frame buffer), the device Linux's
 * `bochs` DRM driver (drivers/gpu/drm/tiny/bochs.c) runs on both arches.
 *
 * User manual
 *
 *   tessera ... -device bochs-display[,vgamem=SIZE][,edid=on|off]
 *               [,xres=W,yres=H][,addr=SLOT][,id=ID]
 *
 *   vgamem  (size, default 16M) video memory, 4M..256M, rounded up to a
 *           power of two; BAR0 is that big.
 *   edid    (bool, default on) an EDID block at the start of BAR2, so the
 *           driver prefers xres x yres (1280x800 by default, QEMU's).
 *   xres, yres  (u32) the EDID's preferred mode.
 *
 * The picture is what QMP/HMP `screendump` saves (and what the window and
 * VNC show once they land). PCI 1234:1111 rev 2, class 0x0380, no
 * interrupt. BAR0: VRAM (32-bit prefetchable). BAR2: 4 KiB of registers:
 *
 *   0x000-0x0ff  EDID (read-only; zeros with edid=off)
 *   0x400-0x41f  VGA ports of the stdvga: absent here (read 0, writes
 *                ignored), as on QEMU's bochs-display
 *   0x500-0x515  VBE DISPI registers 0..10, 16 bits each: ID (reads
 *                0xB0C5), XRES, YRES, BPP (16 or 32), ENABLE (bit 0),
 *                BANK, VIRT_WIDTH, VIRT_HEIGHT, X_OFFSET, Y_OFFSET,
 *                VIDEO_MEMORY_64K (read-only: vgamem / 64 KiB)
 *   0x600        QEMU extended registers: size (reads 8)
 *   0x604        frame buffer byte order: write 0xbebebebe (big-endian)
 *                or 0x1e1e1e1e (little, the default); reads it back
 *
 * A mode shows while ENABLE bit 0 is set, BPP is 16 or 32, the mode is at
 * least 64x64 and it lies inside VRAM (the same rules as QEMU's); any
 * other setting shows nothing. Migrates the registers; VRAM goes with
 * the machine's RAM.
 */
#include <errno.h>
#include <string.h>

#include "display-types.h"
#include "dispi.h"

#define H display_host

typedef struct bochs_display {
    dispi d;
} bochs_display;

static void bochs_refresh(void *opaque)
{
    bochs_display *b = opaque;

    if (!dispi_refresh(&b->d)) {
        dispi_unpublish(&b->d);
    }
}

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
    bochs_display *b = opaque;
    uint64_t v = 0;

    if (dispi_mmio_read(&b->d, off, size, &v)) {
        return v;
    }
    if (off >= DISPI_VBE_OFF) {
        H->log(TES_LOG_GUEST_ERROR, "bochs-display: %u-byte read at 0x%llx", size,
               (unsigned long long)off);
    }
    return 0;
}

static void mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    bochs_display *b = opaque;

    if (dispi_mmio_write(&b->d, off, val, size)) {
        return;
    }
    /* The stdvga's ports (0x400..) are not here; the driver's blanking
     * writes to them are expected and harmless. */
    if (off < DISPI_VGA_OFF || off >= DISPI_VGA_OFF + DISPI_VGA_SIZE) {
        H->log(TES_LOG_GUEST_ERROR, "bochs-display: %u-byte write of 0x%llx at 0x%llx", size,
               (unsigned long long)val, (unsigned long long)off);
    }
}

static const tes_mem_ops mmio_ops = DISPI_MMIO_OPS(mmio_read, mmio_write);

static const tes_console_ops console_ops = {
    .size = sizeof(tes_console_ops),
    .refresh = bochs_refresh,
};

static int bochs_realize(tes_device *dev, void *s)
{
    bochs_display *b = s;
    int ret = dispi_realize(&b->d, dev, "bochs-display", &mmio_ops, b);

    ret = ret ?: H->pci_pcie_cap_init(dev, 0, TES_PCIE_TYPE_ENDPOINT);
    if (ret < 0) {
        return ret;
    }
    b->d.con = H->console_new(dev, &console_ops, b);
    return b->d.con ? 0 : -ENOMEM;
}

static void bochs_reset(tes_device *dev, void *s)
{
    dispi_reset(&((bochs_display *)s)->d);
}

static int bochs_post_load(tes_device *dev, void *s, uint32_t version)
{
    dispi_post_load(&((bochs_display *)s)->d);
    return 0;
}

static const tes_state_field bochs_fields[] = {
    DISPI_FIELDS(bochs_display),
    TES_FIELD_END,
};

static const tes_state_info bochs_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = bochs_fields,
    .post_load = bochs_post_load,
};

static const tes_prop_info bochs_props[] = {
    TES_PROP("vgamem", TES_PROP_SIZE, bochs_display, d.vgamem, "16M", 0, 0,
             "video memory (4M..256M, rounded up to a power of two)"),
    DISPI_EDID_PROPS(bochs_display),
    TES_PROP_END,
};

static const tes_pci_info bochs_pci = DISPI_PCI_INFO(0x0380);

const tes_type_info bochs_display_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "bochs-display",
    .desc = "PCI display with the Bochs VBE interface (Linux bochs DRM driver)",
    .bus = TES_BUS_PCI,
    .instance_size = sizeof(bochs_display),
    .props = bochs_props,
    .realize = bochs_realize,
    .reset = bochs_reset,
    .state = &bochs_state,
    .class_info = &bochs_pci,
};
