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
#include <tessera/tessera.h>

#include "edid.h"

#define MMIO_SIZE 0x1000
#define EDID_OFF 0x000
#define VBE_OFF 0x500
#define QEXT_OFF 0x600
#define QEXT_SIZE 8

#define VBE_ID 0x0
#define VBE_XRES 0x1
#define VBE_YRES 0x2
#define VBE_BPP 0x3
#define VBE_ENABLE 0x4
#define VBE_VIRT_WIDTH 0x6
#define VBE_X_OFFSET 0x8
#define VBE_Y_OFFSET 0x9
#define VBE_VIDEO_MEMORY_64K 0xa
#define VBE_NREGS 0xb
#define VBE_ID5 0xb0c5
#define VBE_ENABLED 0x01

#define QEXT_BIG_ENDIAN 0xbebebebe
#define QEXT_LITTLE_ENDIAN 0x1e1e1e1e

#define MIN_DIM 64
#define MiB (1024ull * 1024)

typedef struct bochs_mode {
    uint32_t format, width, height, stride;
    uint64_t offset;
} bochs_mode;

typedef struct bochs_display {
    tes_device *dev;
    tes_console *con;
    tes_region *vram;
    uint8_t *vram_ptr;
    uint64_t vgamem;
    bool edid_on;
    uint32_t xres, yres;
    uint8_t edid[EDID_BLOCK];
    uint16_t vbe[VBE_NREGS];
    bool big_endian;
    bochs_mode shown; /* format 0: nothing shown */
} bochs_display;

static const tes_host *H;

/* Trace points (sdk trace.h): QEMU's names and formats for the VBE
 * registers (hw/display/trace-events). */
#define TES_TRACE_TABLE bochs_trace_events
#define TES_TRACE_HOST H
#define BOCHS_TRACE(E)                                                                         \
    E(vga_vbe_read, (uint32_t index, uint32_t val), (index, val), "index 0x%x, val 0x%x")      \
    E(vga_vbe_write, (uint32_t index, uint32_t val), (index, val), "index 0x%x, val 0x%x")     \
    E(bochs_display_qext_write, (uint64_t off, uint32_t val), (off, val),                      \
      "offset 0x%" PRIx64 " val 0x%x")
TES_TRACE_DECLARE(BOCHS_TRACE)
TES_TRACE_DEFINE(BOCHS_TRACE)

/* The mode the registers describe, QEMU's rules; false: none. */
static bool current_mode(bochs_display *b, bochs_mode *m)
{
    const uint16_t *v = b->vbe;
    uint32_t bpp, virt;

    if (!(v[VBE_ENABLE] & VBE_ENABLED)) {
        return false;
    }
    if (v[VBE_BPP] == 16) {
        m->format = TES_PIXEL_RGB565;
    } else if (v[VBE_BPP] == 32) {
        m->format = b->big_endian ? TES_PIXEL_BGRX8888 : TES_PIXEL_XRGB8888;
    } else {
        return false;
    }
    bpp = tes_pixel_bytes(m->format);
    m->width = v[VBE_XRES];
    m->height = v[VBE_YRES];
    virt = v[VBE_VIRT_WIDTH] < m->width ? m->width : v[VBE_VIRT_WIDTH];
    m->stride = virt * bpp;
    m->offset = (uint64_t)v[VBE_X_OFFSET] * bpp + (uint64_t)v[VBE_Y_OFFSET] * m->stride;
    return m->width >= MIN_DIM && m->height >= MIN_DIM &&
           m->offset + (uint64_t)m->stride * m->height <= b->vgamem;
}

/* Before a frontend looks: follow mode changes; the CPUs write VRAM
 * directly, so the whole picture may have changed. */
static void bochs_refresh(void *opaque)
{
    bochs_display *b = opaque;
    bochs_mode m = {0};

    if (!current_mode(b, &m)) {
        if (b->shown.format) {
            H->console_set_surface(b->con, NULL);
        }
        memset(&b->shown, 0, sizeof(b->shown));
        return;
    }
    if (memcmp(&m, &b->shown, sizeof(m))) {
        tes_surface s = {
            .size = sizeof(s), .format = m.format, .width = m.width, .height = m.height,
            .stride = m.stride, .pixels = b->vram_ptr + m.offset,
        };

        H->console_set_surface(b->con, &s);
        b->shown = m;
    }
    H->console_update(b->con, 0, 0, m.width, m.height);
}

static uint16_t vbe_read(bochs_display *b, unsigned index)
{
    switch (index) {
    case VBE_ID:
        return VBE_ID5;
    case VBE_VIDEO_MEMORY_64K:
        return (uint16_t)(b->vgamem / (64 * 1024));
    }
    return index < VBE_NREGS ? b->vbe[index] : 0xffff;
}

static uint32_t qext_read(bochs_display *b, uint64_t off)
{
    switch (off) {
    case 0:
        return QEXT_SIZE;
    case 4:
        return b->big_endian ? QEXT_BIG_ENDIAN : QEXT_LITTLE_ENDIAN;
    }
    return 0;
}

static void qext_write(bochs_display *b, uint64_t off, uint32_t val)
{
    if (off != 4) {
        return;
    }
    if (val == QEXT_BIG_ENDIAN) {
        b->big_endian = true;
    } else if (val == QEXT_LITTLE_ENDIAN) {
        b->big_endian = false;
    } else {
        H->log(TES_LOG_GUEST_ERROR, "bochs-display: byte order 0x%x is neither 0x%x nor 0x%x",
               val, QEXT_BIG_ENDIAN, QEXT_LITTLE_ENDIAN);
    }
}

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
    bochs_display *b = opaque;

    if (off < EDID_OFF + sizeof(b->edid)) {
        uint64_t v = 0;

        for (unsigned i = 0; i < size && off + i < sizeof(b->edid); i++) {
            v |= (uint64_t)b->edid[off + i] << (8 * i);
        }
        return v;
    }
    if (off >= VBE_OFF && off < VBE_OFF + 2 * VBE_NREGS && size == 2 && !(off & 1)) {
        uint16_t v = vbe_read(b, (off - VBE_OFF) / 2);

        trace_vga_vbe_read((uint32_t)(off - VBE_OFF) / 2, v);
        return v;
    }
    if (off >= QEXT_OFF && off < QEXT_OFF + QEXT_SIZE && size == 4 && !(off & 3)) {
        return qext_read(b, off - QEXT_OFF);
    }
    if (off >= VBE_OFF) {
        H->log(TES_LOG_GUEST_ERROR, "bochs-display: %u-byte read at 0x%llx", size,
               (unsigned long long)off);
    }
    return 0;
}

static void mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    bochs_display *b = opaque;

    if (off >= VBE_OFF && off < VBE_OFF + 2 * VBE_NREGS && size == 2 && !(off & 1)) {
        unsigned index = (off - VBE_OFF) / 2;

        trace_vga_vbe_write(index, (uint16_t)val);
        if (index != VBE_ID && index != VBE_VIDEO_MEMORY_64K) {
            b->vbe[index] = (uint16_t)val;
        }
        return;
    }
    if (off >= QEXT_OFF && off < QEXT_OFF + QEXT_SIZE && size == 4 && !(off & 3)) {
        trace_bochs_display_qext_write(off - QEXT_OFF, (uint32_t)val);
        qext_write(b, off - QEXT_OFF, (uint32_t)val);
        return;
    }
    /* The stdvga's ports (0x400..) are not here; the driver's blanking
     * writes to them are expected and harmless. */
    if (off < 0x400 || off >= 0x420) {
        H->log(TES_LOG_GUEST_ERROR, "bochs-display: %u-byte write of 0x%llx at 0x%llx", size,
               (unsigned long long)val, (unsigned long long)off);
    }
}

static const tes_mem_ops mmio_ops = {
    .size = sizeof(tes_mem_ops),
    .read = mmio_read,
    .write = mmio_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 4,
    .impl_min = 1, .impl_max = 4,
};

static const tes_console_ops console_ops = {
    .size = sizeof(tes_console_ops),
    .refresh = bochs_refresh,
};

static bool vgamem_ok(bochs_display *b)
{
    if (b->vgamem < 4 * MiB || b->vgamem > 256 * MiB) {
        H->error(b->dev, "vgamem=%llu is outside 4M..256M", (unsigned long long)b->vgamem);
        return false;
    }
    while (b->vgamem & (b->vgamem - 1)) {
        b->vgamem += b->vgamem & -b->vgamem; /* up to the next power of two */
    }
    if (b->xres < MIN_DIM || b->yres < MIN_DIM || b->xres > 16384 || b->yres > 16384) {
        H->error(b->dev, "xres=%u,yres=%u: each must be in 64..16384", b->xres, b->yres);
        return false;
    }
    return true;
}

static int bochs_realize(tes_device *dev, void *s)
{
    bochs_display *b = s;
    tes_region *mmio;
    int ret;

    b->dev = dev;
    if (!vgamem_ok(b)) {
        return -EINVAL;
    }
    b->vram = H->region_new_ram(dev, "bochs-display-vram", b->vgamem);
    b->vram_ptr = H->region_ram_ptr(b->vram);
    mmio = H->region_new_io(dev, "bochs-display-mmio", MMIO_SIZE, &mmio_ops, b);
    if (b->edid_on) {
        edid_generate(b->edid, b->xres, b->yres, 0);
    }
    ret = H->pci_register_bar(dev, 0, TES_PCI_BAR_MEM32 | TES_PCI_BAR_PREFETCH, b->vram);
    ret = ret ?: H->pci_register_bar(dev, 2, TES_PCI_BAR_MEM32, mmio);
    ret = ret ?: H->pci_pcie_cap_init(dev, 0, TES_PCIE_TYPE_ENDPOINT);
    if (ret < 0) {
        H->error(dev, "cannot set up the BARs and the PCIe capability (%d)", ret);
        return ret;
    }
    b->con = H->console_new(dev, &console_ops, b);
    return b->con ? 0 : -ENOMEM;
}

static void bochs_reset(tes_device *dev, void *s)
{
    bochs_display *b = s;

    memset(b->vbe, 0, sizeof(b->vbe));
    b->big_endian = false;
    memset(&b->shown, 0, sizeof(b->shown));
    H->console_set_surface(b->con, NULL);
}

static int bochs_post_load(tes_device *dev, void *s, uint32_t version)
{
    bochs_display *b = s;

    /* The next refresh sets the surface of the loaded mode. */
    memset(&b->shown, 0, sizeof(b->shown));
    H->console_set_surface(b->con, NULL);
    return 0;
}

static const tes_state_field bochs_fields[] = {
    TES_FIELD_ARRAY(bochs_display, vbe, TES_FIELD_U16, VBE_NREGS),
    TES_FIELD_BOOL(bochs_display, big_endian),
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
    TES_PROP("vgamem", TES_PROP_SIZE, bochs_display, vgamem, "16M", 0, 0,
             "video memory (4M..256M, rounded up to a power of two)"),
    TES_PROP("edid", TES_PROP_BOOL, bochs_display, edid_on, "on", 0, 0,
             "an EDID block in BAR2 naming the preferred mode"),
    TES_PROP("xres", TES_PROP_U32, bochs_display, xres, "1280", 0, 0,
             "preferred width the EDID names"),
    TES_PROP("yres", TES_PROP_U32, bochs_display, yres, "800", 0, 0,
             "preferred height the EDID names"),
    TES_PROP_END,
};

static const tes_pci_info bochs_pci = {
    .size = sizeof(tes_pci_info),
    .vendor_id = 0x1234,
    .device_id = 0x1111,
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = 0x1100,
    .revision = 2,
    .class_id = 0x0380,
};

static const tes_type_info bochs_type = {
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

static int bochs_plugin_init(const tes_host *host)
{
    if (host->size < offsetof(tes_host, console_update) + sizeof(void *)) {
        return -ENOTSUP; /* a core without graphic consoles */
    }
    H = host;
    return TES_TRACE_REGISTER(host);
}

static const tes_type_info *const bochs_types[] = {&bochs_type, NULL};

TES_PLUGIN_DEFINE(.name = "display", .version = "0.1.0", .license = "MIT",
                  .desc = "display devices: bochs-display", .types = bochs_types,
                  .init = bochs_plugin_init);
