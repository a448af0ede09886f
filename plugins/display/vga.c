/*
 * VGA: QEMU's std VGA ("-vga std", "-device VGA"), the PCI VGA with the
 * Bochs VBE extensions that Linux's bochs DRM driver and firmware video
 * drivers program. The default display of the pc and q35 machines.
 *
 * User manual
 *
 *   tessera ... -vga std | -device VGA[,vgamem_mb=N][,edid=on|off]
 *               [,xres=W,yres=H][,addr=SLOT][,id=ID]
 *
 *   vgamem_mb  (u32, default 16) video memory in MiB, 4..256, rounded up
 *              to a power of two; BAR0 is that big.
 *   edid       (bool, default on) an EDID block at the start of BAR2.
 *   xres, yres (u32, default 1280x800) the EDID's preferred mode.
 *
 * PCI 1234:1111 rev 2, class 0x0300 (VGA compatible), no interrupt, not
 * a PCIe function (as QEMU's). BAR0: VRAM (32-bit prefetchable). BAR2:
 * 4 KiB, laid out as bochs-display's (dispi.h) with the VGA ports
 * 0x3c0-0x3df at 0x400-0x41f. Legacy decoding, whatever the command
 * register says (as QEMU's): the VGA ports 0x3b0-0x3df (vga-regs.h), the
 * DISPI index/data ports 0x1ce/0x1cf (16 bits) and the memory window
 * 0xa0000-0xbffff over RAM (on a PC: a machine with something else there,
 * virt's flash, gets no window). One VGA per machine owns them: a second
 * -device VGA is refused.
 *
 * The picture (screendump, the window, VNC): nothing while the attribute
 * controller's palette address source bit (0x3c0 index bit 5) is clear,
 * as on QEMU's VGA (the bochs driver sets it when it unblanks); else the
 * DISPI linear frame buffer mode under bochs-display's rules. Legacy
 * text and planar graphics modes are not drawn (the placeholder shows).
 * While DISPI is enabled the window at 0xa0000 shows 64 KiB of VRAM at
 * the BANK register's offset. Migrates the DISPI and VGA registers;
 * VRAM goes with the machine's RAM.
 */
#include <errno.h>
#include <string.h>

#include "display-types.h"
#include "dispi.h"
#include "vga-regs.h"

#define H display_host
#define VBE_PORT 0x1ce
#define VBE_PORT_COUNT 3 /* index 0x1ce, data 0x1cf (a word: to 0x1d0) */
#define MiB (1024ull * 1024)

typedef struct vga_dev {
    dispi d;
    uint32_t vgamem_mb;
    vga_regs r;
    uint16_t vbe_index;
    /* The DISPI ports, byte by byte (see vbe_port_write). */
    uint16_t vbe_data;
    bool vbe_index_low;
    tes_region *window, *ports, *vbe_ports;
    bool legacy_owner, window_mapped;
} vga_dev;

/* The VGA that owns the legacy ranges (one per machine). */
static vga_dev *legacy_vga;

static void vga_refresh(void *opaque)
{
    vga_dev *v = opaque;

    if ((v->r.ar_index & VGA_AR_PAS) && dispi_refresh(&v->d)) {
        return;
    }
    dispi_unpublish(&v->d);
}

/* ---- the 0xa0000 window ---- */

static uint64_t window_read(void *opaque, uint64_t off, unsigned size)
{
    vga_dev *v = opaque;

    if (v->d.vbe[VBE_ENABLE] & VBE_ENABLED) {
        return off < 0x10000 ? v->d.vram_ptr[dispi_bank_offset(&v->d) + off] : 0xff;
    }
    return vga_mem_read(&v->r, v->d.vram_ptr, v->d.vgamem, off);
}

static void window_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    vga_dev *v = opaque;

    if (v->d.vbe[VBE_ENABLE] & VBE_ENABLED) {
        if (off < 0x10000) {
            v->d.vram_ptr[dispi_bank_offset(&v->d) + off] = (uint8_t)val;
        }
        return;
    }
    vga_mem_write(&v->r, v->d.vram_ptr, v->d.vgamem, off, (uint8_t)val);
}

static const tes_mem_ops window_ops = {
    .size = sizeof(tes_mem_ops),
    .read = window_read,
    .write = window_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 8,
    .impl_min = 1, .impl_max = 1,
};

/* ---- the VGA ports (0x3b0-0x3df, and BAR2 0x400-0x41f) ---- */

static uint64_t ports_read(void *opaque, uint64_t off, unsigned size)
{
    return vga_port_read(&((vga_dev *)opaque)->r, VGA_PORT_BASE + (unsigned)off);
}

static void ports_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    vga_port_write(&((vga_dev *)opaque)->r, VGA_PORT_BASE + (unsigned)off, (uint8_t)val);
}

static const tes_mem_ops ports_ops = {
    .size = sizeof(tes_mem_ops),
    .read = ports_read,
    .write = ports_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 2,
    .impl_min = 1, .impl_max = 1, /* a word to an index port: index, then data */
};

/* ---- the DISPI ports 0x1ce/0x1cf ----
 * x86 software writes both as words (out dx, ax), and the data word at
 * 0x1cf covers 0x1cf-0x1d0. The core hands an unaligned word to a region
 * as bytes in address order, so the region takes bytes: 0 is the index's
 * low byte, and 1 its high byte right after it, else the data's low
 * byte; 2 the data's high byte. A data byte takes effect at once (a byte
 * write is a byte-wide register write, as on QEMU's). */

static uint64_t vbe_port_read(void *opaque, uint64_t off, unsigned size)
{
    vga_dev *v = opaque;
    bool index_high = off == 1 && v->vbe_index_low;

    v->vbe_index_low = off == 0;
    if (off == 0 || index_high) {
        return (uint8_t)(v->vbe_index >> (index_high ? 8 : 0));
    }
    if (off == 1) {
        v->vbe_data = dispi_read(&v->d, v->vbe_index);
        return (uint8_t)v->vbe_data;
    }
    return (uint8_t)(v->vbe_data >> 8);
}

static void vbe_port_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    vga_dev *v = opaque;
    bool index_high = off == 1 && v->vbe_index_low;

    v->vbe_index_low = off == 0;
    if (off == 0) {
        v->vbe_index = (uint8_t)val;
    } else if (index_high) {
        v->vbe_index = (uint16_t)((v->vbe_index & 0xff) | (val & 0xff) << 8);
    } else if (off == 1) {
        v->vbe_data = (uint8_t)val;
        dispi_write(&v->d, v->vbe_index, v->vbe_data);
    } else {
        v->vbe_data = (uint16_t)((v->vbe_data & 0xff) | (val & 0xff) << 8);
        dispi_write(&v->d, v->vbe_index, v->vbe_data);
    }
}

static const tes_mem_ops vbe_port_ops = {
    .size = sizeof(tes_mem_ops),
    .read = vbe_port_read,
    .write = vbe_port_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 2,
    .impl_min = 1, .impl_max = 1,
};

/* ---- BAR2 ---- */

static bool is_vga_port(uint64_t off)
{
    return off >= DISPI_VGA_OFF && off < DISPI_VGA_OFF + DISPI_VGA_SIZE;
}

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
    vga_dev *v = opaque;
    uint64_t val = 0;

    if (is_vga_port(off)) {
        for (unsigned i = 0; i < size && is_vga_port(off + i); i++) {
            val |= (uint64_t)vga_port_read(&v->r, 0x3c0 + (unsigned)(off + i - DISPI_VGA_OFF))
                   << (8 * i);
        }
        return val;
    }
    if (!dispi_mmio_read(&v->d, off, size, &val) && off >= DISPI_VBE_OFF) {
        H->log(TES_LOG_GUEST_ERROR, "VGA: %u-byte read at 0x%llx of BAR2", size,
               (unsigned long long)off);
    }
    return val;
}

static void mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    vga_dev *v = opaque;

    if (is_vga_port(off)) {
        for (unsigned i = 0; i < size && is_vga_port(off + i); i++) {
            vga_port_write(&v->r, 0x3c0 + (unsigned)(off + i - DISPI_VGA_OFF),
                           (uint8_t)(val >> (8 * i)));
        }
        return;
    }
    if (!dispi_mmio_write(&v->d, off, val, size)) {
        H->log(TES_LOG_GUEST_ERROR, "VGA: %u-byte write of 0x%llx at 0x%llx of BAR2", size,
               (unsigned long long)val, (unsigned long long)off);
    }
}

static const tes_mem_ops mmio_ops = DISPI_MMIO_OPS(mmio_read, mmio_write);

static const tes_console_ops console_ops = {
    .size = sizeof(tes_console_ops),
    .refresh = vga_refresh,
};

/* The ports and the window at their ISA places, over RAM. */
static int map_legacy(vga_dev *v, tes_device *dev)
{
    uint64_t len = 0;

    if (legacy_vga) {
        H->error(dev, "the legacy VGA ports and memory are taken by another VGA "
                      "(one per machine; use bochs-display for more displays)");
        return -EBUSY;
    }
    v->window = H->region_new_io(dev, "vga-lowmem", VGA_WINDOW_SIZE, &window_ops, v);
    v->ports = H->region_new_io(dev, "vga-ioports", VGA_PORT_COUNT, &ports_ops, v);
    v->vbe_ports = H->region_new_io(dev, "vbe-ioports", VBE_PORT_COUNT, &vbe_port_ops, v);
    if (!v->window || !v->ports || !v->vbe_ports) {
        H->error(dev, "cannot make the legacy VGA regions");
        return -ENOMEM;
    }
    /* The window goes over RAM where a PC has it; a machine with
     * something else at 0xa0000 (virt's flash) gets no window. */
    if (H->as_ram_ptr(H->system_memory(), VGA_WINDOW_BASE, &len, true) &&
        len >= VGA_WINDOW_SIZE) {
        H->region_add(H->system_memory(), VGA_WINDOW_BASE, v->window, 1);
        v->window_mapped = true;
    }
    H->region_add(H->system_io(), VGA_PORT_BASE, v->ports, 0);
    H->region_add(H->system_io(), VBE_PORT, v->vbe_ports, 0);
    legacy_vga = v;
    v->legacy_owner = true;
    return 0;
}

static int vga_realize(tes_device *dev, void *s)
{
    vga_dev *v = s;
    int ret;

    if (v->vgamem_mb < 4 || v->vgamem_mb > 256) {
        H->error(dev, "vgamem_mb=%u is outside 4..256", v->vgamem_mb);
        return -EINVAL;
    }
    v->d.vgamem = v->vgamem_mb * MiB;
    v->d.vga = true;
    ret = dispi_realize(&v->d, dev, "VGA", &mmio_ops, v);
    ret = ret ?: map_legacy(v, dev);
    if (ret < 0) {
        return ret;
    }
    v->d.con = H->console_new(dev, &console_ops, v);
    return v->d.con ? 0 : -ENOMEM;
}

static void vga_unrealize(tes_device *dev, void *s)
{
    vga_dev *v = s;

    if (v->legacy_owner) {
        if (v->window_mapped) {
            H->region_del(H->system_memory(), v->window);
        }
        H->region_del(H->system_io(), v->ports);
        H->region_del(H->system_io(), v->vbe_ports);
        legacy_vga = NULL;
        v->legacy_owner = false;
    }
}

static void vga_reset(tes_device *dev, void *s)
{
    vga_dev *v = s;

    dispi_reset(&v->d);
    vga_regs_reset(&v->r);
    v->vbe_index = 0;
    v->vbe_data = 0;
    v->vbe_index_low = false;
}

static int vga_post_load(tes_device *dev, void *s, uint32_t version)
{
    dispi_post_load(&((vga_dev *)s)->d);
    return 0;
}

static const tes_state_field vga_fields[] = {
    DISPI_FIELDS(vga_dev),
    TES_FIELD_U16(vga_dev, vbe_index),
    TES_FIELD_U16(vga_dev, vbe_data),
    TES_FIELD_BOOL(vga_dev, vbe_index_low),
    TES_FIELD_U8(vga_dev, r.misc),
    TES_FIELD_U8(vga_dev, r.fcr),
    TES_FIELD_U8(vga_dev, r.st01),
    TES_FIELD_U8(vga_dev, r.sr_index),
    TES_FIELD_ARRAY(vga_dev, r.sr, TES_FIELD_U8, VGA_SR_COUNT),
    TES_FIELD_U8(vga_dev, r.gr_index),
    TES_FIELD_ARRAY(vga_dev, r.gr, TES_FIELD_U8, VGA_GR_COUNT),
    TES_FIELD_U8(vga_dev, r.cr_index),
    TES_FIELD_ARRAY(vga_dev, r.cr, TES_FIELD_U8, VGA_CR_COUNT),
    TES_FIELD_U8(vga_dev, r.ar_index),
    TES_FIELD_ARRAY(vga_dev, r.ar, TES_FIELD_U8, VGA_AR_COUNT),
    TES_FIELD_BOOL(vga_dev, r.ar_flip_flop),
    TES_FIELD_U8(vga_dev, r.dac_read_index),
    TES_FIELD_U8(vga_dev, r.dac_write_index),
    TES_FIELD_U8(vga_dev, r.dac_sub_index),
    TES_FIELD_U8(vga_dev, r.dac_state),
    TES_FIELD_ARRAY(vga_dev, r.dac_cache, TES_FIELD_U8, 3),
    TES_FIELD_ARRAY(vga_dev, r.palette, TES_FIELD_U8, 768),
    TES_FIELD_U32(vga_dev, r.latch),
    TES_FIELD_END,
};

static const tes_state_info vga_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = vga_fields,
    .post_load = vga_post_load,
};

static const tes_prop_info vga_props[] = {
    TES_PROP("vgamem_mb", TES_PROP_U32, vga_dev, vgamem_mb, "16", 4, 256,
             "video memory in MiB, rounded up to a power of two"),
    DISPI_EDID_PROPS(vga_dev),
    TES_PROP_END,
};

static const tes_pci_info vga_pci = DISPI_PCI_INFO(0x0300);

const tes_type_info vga_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "VGA",
    .desc = "std VGA with the Bochs VBE extensions (-vga std; Linux bochs DRM driver)",
    .bus = TES_BUS_PCI,
    .instance_size = sizeof(vga_dev),
    .props = vga_props,
    .realize = vga_realize,
    .unrealize = vga_unrealize,
    .reset = vga_reset,
    .state = &vga_state,
    .class_info = &vga_pci,
};
