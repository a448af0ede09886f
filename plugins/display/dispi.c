/*
 * The Bochs VBE "DISPI" interface shared by bochs-display and the std VGA
 * (dispi.h): registers, EDID, QEMU's extended registers, and the linear
 * frame buffer mode shown on the console.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dispi.h"
#include "display-trace.h"

#define H display_host
#define MIN_DIM 64
#define MAX_DIM 16384
#define MiB (1024ull * 1024)
#define QEXT_BIG_ENDIAN 0xbebebebe
#define QEXT_LITTLE_ENDIAN 0x1e1e1e1e

const tes_host *display_host;

static bool props_ok(dispi *d)
{
    if (d->vgamem < 4 * MiB || d->vgamem > 256 * MiB) {
        H->error(d->dev, "vgamem=%llu is outside 4M..256M", (unsigned long long)d->vgamem);
        return false;
    }
    while (d->vgamem & (d->vgamem - 1)) {
        d->vgamem += d->vgamem & -d->vgamem; /* up to the next power of two */
    }
    if (d->xres < MIN_DIM || d->yres < MIN_DIM || d->xres > MAX_DIM || d->yres > MAX_DIM) {
        H->error(d->dev, "xres=%u,yres=%u: each must be in 64..16384", d->xres, d->yres);
        return false;
    }
    return true;
}

int dispi_realize(dispi *d, tes_device *dev, const char *name, const tes_mem_ops *mmio_ops,
                  void *opaque)
{
    char rname[64];
    int ret;

    d->dev = dev;
    d->name = name;
    if (!props_ok(d)) {
        return -EINVAL;
    }
    snprintf(rname, sizeof(rname), "%s-vram", name);
    d->vram = H->region_new_ram(dev, rname, d->vgamem);
    d->vram_ptr = H->region_ram_ptr(d->vram);
    snprintf(rname, sizeof(rname), "%s-mmio", name);
    d->mmio = H->region_new_io(dev, rname, DISPI_MMIO_SIZE, mmio_ops, opaque);
    if (!d->vram_ptr || !d->mmio) {
        H->error(dev, "cannot make %llu bytes of video memory", (unsigned long long)d->vgamem);
        return -ENOMEM;
    }
    if (d->edid_on) {
        edid_generate(d->edid, d->xres, d->yres, 0);
    }
    ret = H->pci_register_bar(dev, 0, TES_PCI_BAR_MEM32 | TES_PCI_BAR_PREFETCH, d->vram);
    ret = ret ?: H->pci_register_bar(dev, 2, TES_PCI_BAR_MEM32, d->mmio);
    if (ret < 0) {
        H->error(dev, "cannot register the BARs (%d)", ret);
    }
    return ret;
}

uint64_t dispi_bank_offset(const dispi *d)
{
    return ((uint64_t)d->vbe[VBE_BANK] << 16) & (d->vgamem - 1);
}

bool dispi_mode_get(const dispi *d, dispi_mode *m)
{
    const uint16_t *v = d->vbe;
    uint32_t bpp, virt;

    if (!(v[VBE_ENABLE] & VBE_ENABLED)) {
        return false;
    }
    if (v[VBE_BPP] == 16) {
        m->format = TES_PIXEL_RGB565;
    } else if (v[VBE_BPP] == 32) {
        m->format = d->big_endian ? TES_PIXEL_BGRX8888 : TES_PIXEL_XRGB8888;
    } else {
        return false;
    }
    bpp = tes_pixel_bytes(m->format);
    m->width = v[VBE_XRES];
    m->height = v[VBE_YRES];
    virt = v[VBE_VIRT_WIDTH] < m->width ? m->width : v[VBE_VIRT_WIDTH];
    m->stride = virt * bpp;
    m->offset = (uint64_t)v[VBE_X_OFFSET] * bpp + (uint64_t)v[VBE_Y_OFFSET] * m->stride;
    if (m->width < MIN_DIM || m->height < MIN_DIM ||
        m->offset + (uint64_t)m->stride * m->height > d->vgamem) {
        return false;
    }
    m->pixels = d->vram_ptr + m->offset;
    return true;
}

void dispi_publish(dispi *d, const dispi_mode *m)
{
    if (memcmp(m, &d->shown, sizeof(*m))) {
        tes_surface s = {
            .size = sizeof(s), .format = m->format, .width = m->width, .height = m->height,
            .stride = m->stride, .pixels = m->pixels,
        };

        H->console_set_surface(d->con, &s);
        d->shown = *m;
        trace_display_surface(d->name, m->width, m->height, m->format, m->offset);
    }
    H->console_update(d->con, 0, 0, m->width, m->height);
}

void dispi_unpublish(dispi *d)
{
    if (d->shown.format) {
        H->console_set_surface(d->con, NULL);
        trace_display_surface(d->name, 0, 0, 0, 0);
    }
    memset(&d->shown, 0, sizeof(d->shown));
}

bool dispi_refresh(dispi *d)
{
    dispi_mode m;

    memset(&m, 0, sizeof(m)); /* compared whole, padding included */
    if (!dispi_mode_get(d, &m)) {
        return false;
    }
    dispi_publish(d, &m);
    return true;
}

uint16_t dispi_read(dispi *d, unsigned index)
{
    uint16_t v;

    switch (index) {
    case VBE_ID:
        v = VBE_ID5;
        break;
    case VBE_VIDEO_MEMORY_64K:
        v = (uint16_t)(d->vgamem / (64 * 1024));
        break;
    default:
        v = index < VBE_NREGS ? d->vbe[index] : 0xffff;
    }
    trace_vga_vbe_read(index, v);
    return v;
}

/* The std VGA turning a mode on (QEMU's VGA, as Bochs): panning and the
 * virtual width start over, and VRAM is cleared unless asked not to. */
static void vga_enable(dispi *d, uint16_t val)
{
    uint64_t bpp = d->vbe[VBE_BPP] <= 8 ? 1 : (d->vbe[VBE_BPP] + 7) / 8;
    uint64_t len = bpp * d->vbe[VBE_XRES] * d->vbe[VBE_YRES];

    d->vbe[VBE_VIRT_WIDTH] = d->vbe[VBE_XRES];
    d->vbe[VBE_X_OFFSET] = 0;
    d->vbe[VBE_Y_OFFSET] = 0;
    if (!(val & VBE_NOCLEARMEM)) {
        memset(d->vram_ptr, 0, len < d->vgamem ? len : d->vgamem);
    }
}

void dispi_write(dispi *d, unsigned index, uint16_t val)
{
    trace_vga_vbe_write(index, val);
    if (index >= VBE_NREGS || index == VBE_ID || index == VBE_VIDEO_MEMORY_64K) {
        return;
    }
    if (d->vga && index == VBE_ENABLE && (val & VBE_ENABLED) &&
        !(d->vbe[VBE_ENABLE] & VBE_ENABLED)) {
        vga_enable(d, val);
    }
    d->vbe[index] = val;
}

static uint32_t qext_read(dispi *d, uint64_t off)
{
    switch (off) {
    case 0:
        return DISPI_QEXT_SIZE;
    case 4:
        return d->big_endian ? QEXT_BIG_ENDIAN : QEXT_LITTLE_ENDIAN;
    }
    return 0;
}

static void qext_write(dispi *d, uint64_t off, uint32_t val)
{
    if (off != 4) {
        return;
    }
    if (val == QEXT_BIG_ENDIAN) {
        d->big_endian = true;
    } else if (val == QEXT_LITTLE_ENDIAN) {
        d->big_endian = false;
    } else {
        H->log(TES_LOG_GUEST_ERROR, "%s: byte order 0x%x is neither 0x%x nor 0x%x", d->name,
               val, QEXT_BIG_ENDIAN, QEXT_LITTLE_ENDIAN);
    }
}

static bool is_vbe(uint64_t off, unsigned size)
{
    return off >= DISPI_VBE_OFF && off < DISPI_VBE_OFF + 2 * VBE_NREGS && size == 2 &&
           !(off & 1);
}

static bool is_qext(uint64_t off, unsigned size)
{
    return off >= DISPI_QEXT_OFF && off < DISPI_QEXT_OFF + DISPI_QEXT_SIZE && size == 4 &&
           !(off & 3);
}

bool dispi_mmio_read(dispi *d, uint64_t off, unsigned size, uint64_t *val)
{
    if (off < sizeof(d->edid)) {
        *val = 0;
        for (unsigned i = 0; i < size && off + i < sizeof(d->edid); i++) {
            *val |= (uint64_t)d->edid[off + i] << (8 * i);
        }
        return true;
    }
    if (is_vbe(off, size)) {
        *val = dispi_read(d, (unsigned)(off - DISPI_VBE_OFF) / 2);
        return true;
    }
    if (is_qext(off, size)) {
        *val = qext_read(d, off - DISPI_QEXT_OFF);
        return true;
    }
    return false;
}

bool dispi_mmio_write(dispi *d, uint64_t off, uint64_t val, unsigned size)
{
    if (is_vbe(off, size)) {
        dispi_write(d, (unsigned)(off - DISPI_VBE_OFF) / 2, (uint16_t)val);
        return true;
    }
    if (is_qext(off, size)) {
        qext_write(d, off - DISPI_QEXT_OFF, (uint32_t)val);
        return true;
    }
    return false;
}

void dispi_reset(dispi *d)
{
    memset(d->vbe, 0, sizeof(d->vbe));
    d->big_endian = false;
    dispi_unpublish(d);
}

void dispi_post_load(dispi *d)
{
    memset(&d->shown, 0, sizeof(d->shown));
    H->console_set_surface(d->con, NULL);
}
