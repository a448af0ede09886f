/*
 * The VGA register file and the 0xa0000 window (vga-regs.h), after IBM's
 * VGA technical reference: register meanings, the index/data pairs, the
 * attribute controller's flip-flop, the DAC's three-byte cycles, and the
 * graphics controller's data path (latches, rotate, set/reset, logical
 * function, bit mask, map mask).
 */
#include <string.h>

#include "display-trace.h"
#include "vga-regs.h"

/* Register bits that exist (the rest read 0), per register index. */
static const uint8_t sr_mask[VGA_SR_COUNT] = {0x03, 0x3d, 0x0f, 0x3f, 0x0e, 0, 0, 0};
static const uint8_t gr_mask[VGA_GR_COUNT] = {0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f,
                                              0xff};

#define MISC_COLOR 0x01   /* CRTC and status 1 at 0x3dx, else 0x3bx */
#define ST01_RETRACE 0x09 /* vertical retrace | display disabled */
#define SR4_ODD_EVEN_OFF 0x04
#define SR4_CHAIN4 0x08
#define CR11_PROTECT 0x80

void vga_regs_reset(vga_regs *r)
{
    memset(r, 0, sizeof(*r));
}

static uint8_t ar_mask(unsigned index)
{
    if (index < 0x10) {
        return 0x3f; /* palette: 6 bits */
    }
    switch (index) {
    case 0x10:
        return 0xef; /* mode control: bit 4 reserved */
    case 0x12:
        return 0x3f; /* colour plane enable, video status mux */
    case 0x13:
    case 0x14:
        return 0x0f; /* pel panning, colour select */
    }
    return 0xff; /* overscan */
}

/* The block the I/O address select bit does not pick is not decoded. */
static bool decoded(const vga_regs *r, unsigned port)
{
    if (port >= 0x3b0 && port < 0x3c0) {
        return !(r->misc & MISC_COLOR);
    }
    if (port >= 0x3d0) {
        return r->misc & MISC_COLOR;
    }
    return true;
}

static uint8_t dac_read(vga_regs *r)
{
    uint8_t v = r->palette[r->dac_read_index * 3 + r->dac_sub_index];

    if (++r->dac_sub_index == 3) {
        r->dac_sub_index = 0;
        r->dac_read_index++;
    }
    return v;
}

static void dac_write(vga_regs *r, uint8_t val)
{
    r->dac_cache[r->dac_sub_index] = val;
    if (++r->dac_sub_index == 3) {
        memcpy(&r->palette[r->dac_write_index * 3], r->dac_cache, 3);
        r->dac_sub_index = 0;
        r->dac_write_index++;
    }
}

static uint8_t port_read(vga_regs *r, unsigned port)
{
    switch (port) {
    case 0x3c0:
        return r->ar_index; /* whichever way the flip-flop points */
    case 0x3c1:
        return (r->ar_index & 0x1f) < VGA_AR_COUNT ? r->ar[r->ar_index & 0x1f] : 0;
    case 0x3c4:
        return r->sr_index;
    case 0x3c5:
        return r->sr[r->sr_index];
    case 0x3c6:
        return 0xff; /* pixel mask: all planes */
    case 0x3c7:
        return r->dac_state;
    case 0x3c8:
        return r->dac_write_index;
    case 0x3c9:
        return dac_read(r);
    case 0x3ca:
        return r->fcr;
    case 0x3cc:
        return r->misc;
    case 0x3ce:
        return r->gr_index;
    case 0x3cf:
        return r->gr[r->gr_index];
    case 0x3b4:
    case 0x3d4:
        return r->cr_index;
    case 0x3b5:
    case 0x3d5:
        return r->cr[r->cr_index];
    case 0x3ba:
    case 0x3da:
        /* Reading input status 1 resets the attribute flip-flop; the
         * retrace bits toggle so that polling loops end. */
        r->st01 ^= ST01_RETRACE;
        r->ar_flip_flop = false;
        return r->st01;
    }
    return 0; /* input status 0 (0x3c2) and unused ports */
}

uint8_t vga_port_read(vga_regs *r, unsigned port)
{
    uint8_t v = decoded(r, port) ? port_read(r, port) : 0xff;

    trace_vga_std_read_io(port, v);
    return v;
}

static void ar_write(vga_regs *r, uint8_t val)
{
    if (!r->ar_flip_flop) {
        r->ar_index = val & 0x3f;
    } else if ((r->ar_index & 0x1f) < VGA_AR_COUNT) {
        r->ar[r->ar_index & 0x1f] = val & ar_mask(r->ar_index & 0x1f);
    }
    r->ar_flip_flop = !r->ar_flip_flop;
}

static void cr_write(vga_regs *r, uint8_t val)
{
    /* CR11 bit 7 write-protects CR0..CR7, except CR7's line compare bit. */
    if ((r->cr[0x11] & CR11_PROTECT) && r->cr_index <= 7) {
        if (r->cr_index == 7) {
            r->cr[7] = (uint8_t)((r->cr[7] & ~0x10) | (val & 0x10));
        }
        return;
    }
    r->cr[r->cr_index] = val;
}

void vga_port_write(vga_regs *r, unsigned port, uint8_t val)
{
    trace_vga_std_write_io(port, val);
    if (!decoded(r, port)) {
        return;
    }
    switch (port) {
    case 0x3c0:
        ar_write(r, val);
        break;
    case 0x3c2:
        r->misc = val & ~0x10;
        break;
    case 0x3c4:
        r->sr_index = val & (VGA_SR_COUNT - 1);
        break;
    case 0x3c5:
        r->sr[r->sr_index] = val & sr_mask[r->sr_index];
        break;
    case 0x3c7:
        r->dac_read_index = val;
        r->dac_sub_index = 0;
        r->dac_state = 3;
        break;
    case 0x3c8:
        r->dac_write_index = val;
        r->dac_sub_index = 0;
        r->dac_state = 0;
        break;
    case 0x3c9:
        dac_write(r, val);
        break;
    case 0x3ce:
        r->gr_index = val & (VGA_GR_COUNT - 1);
        break;
    case 0x3cf:
        r->gr[r->gr_index] = val & gr_mask[r->gr_index];
        break;
    case 0x3b4:
    case 0x3d4:
        r->cr_index = val;
        break;
    case 0x3b5:
    case 0x3d5:
        cr_write(r, val);
        break;
    case 0x3ba:
    case 0x3da:
        r->fcr = val & 0x10;
        break;
    }
}

/* ---- the memory window ---- */

/* The window offset as the memory map select (GR6 bits 2-3) decodes it;
 * false: outside the range the VGA answers. */
static bool window_offset(const vga_regs *r, uint64_t *addr)
{
    switch ((r->gr[6] >> 2) & 3) {
    case 1: /* 0xa0000, 64 KiB */
        return *addr < 0x10000;
    case 2: /* 0xb0000, 32 KiB */
        if (*addr < 0x10000 || *addr >= 0x18000) {
            return false;
        }
        *addr -= 0x10000;
        return true;
    case 3: /* 0xb8000, 32 KiB */
        if (*addr < 0x18000) {
            return false;
        }
        *addr -= 0x18000;
        return true;
    }
    return true; /* 0xa0000, 128 KiB */
}

/* A byte in every plane: bits 0-3 of c select which planes get 0xff. */
static uint32_t expand(uint8_t c)
{
    uint32_t v = 0;

    for (unsigned p = 0; p < 4; p++) {
        if (c & (1u << p)) {
            v |= 0xffu << (8 * p);
        }
    }
    return v;
}

static uint32_t load_planes(const uint8_t *vram, uint64_t off)
{
    return (uint32_t)vram[4 * off] | (uint32_t)vram[4 * off + 1] << 8 |
           (uint32_t)vram[4 * off + 2] << 16 | (uint32_t)vram[4 * off + 3] << 24;
}

/* Read mode 1: a bit is set where every plane that counts matches the
 * colour compare register. */
static uint8_t color_compare(const vga_regs *r)
{
    uint32_t diff = (r->latch ^ expand(r->gr[2])) & expand(r->gr[7]);
    uint8_t any = (uint8_t)(diff | diff >> 8 | diff >> 16 | diff >> 24);

    return (uint8_t)~any;
}

uint8_t vga_mem_read(vga_regs *r, uint8_t *vram, uint64_t vram_size, uint64_t addr)
{
    if (!window_offset(r, &addr) || vram_size < 4 * VGA_WINDOW_SIZE) {
        return 0xff;
    }
    if (r->sr[4] & SR4_CHAIN4) {
        return vram[addr];
    }
    if (!(r->sr[4] & SR4_ODD_EVEN_OFF)) {
        unsigned plane = (r->gr[4] & 2) | (addr & 1);

        return vram[4 * (addr & ~1ull) + plane];
    }
    r->latch = load_planes(vram, addr);
    if (r->gr[5] & 0x08) {
        return color_compare(r);
    }
    return (uint8_t)(r->latch >> (8 * (r->gr[4] & 3)));
}

static uint8_t rotate(uint8_t v, unsigned n)
{
    n &= 7;
    return n ? (uint8_t)(v >> n | v << (8 - n)) : v;
}

/* Write modes 0-3 through the logical function and the bit mask: the
 * four planes' new bytes. */
static uint32_t planar_value(const vga_regs *r, uint8_t val)
{
    uint32_t v, mask = r->gr[8];

    switch (r->gr[5] & 3) {
    case 1:
        return r->latch;
    case 2:
        v = expand(val);
        break;
    case 3:
        mask &= rotate(val, r->gr[3]);
        v = expand(r->gr[0]);
        break;
    default:
        v = rotate(val, r->gr[3]) * 0x01010101u;
        v = (v & ~expand(r->gr[1])) | (expand(r->gr[0]) & expand(r->gr[1]));
    }
    switch ((r->gr[3] >> 3) & 3) {
    case 1:
        v &= r->latch;
        break;
    case 2:
        v |= r->latch;
        break;
    case 3:
        v ^= r->latch;
        break;
    }
    mask *= 0x01010101u;
    return (v & mask) | (r->latch & ~mask);
}

void vga_mem_write(vga_regs *r, uint8_t *vram, uint64_t vram_size, uint64_t addr, uint8_t val)
{
    uint8_t map = r->sr[2] & 0x0f;
    uint32_t v;

    if (!window_offset(r, &addr) || vram_size < 4 * VGA_WINDOW_SIZE) {
        return;
    }
    if (r->sr[4] & SR4_CHAIN4) {
        if (map & (1u << (addr & 3))) {
            vram[addr] = val;
        }
        return;
    }
    if (!(r->sr[4] & SR4_ODD_EVEN_OFF)) {
        /* Even addresses go to planes 0 and 2, odd ones to 1 and 3. */
        map &= addr & 1 ? 0x0a : 0x05;
        for (unsigned p = 0; p < 4; p++) {
            if (map & (1u << p)) {
                vram[4 * (addr & ~1ull) + p] = val;
            }
        }
        return;
    }
    v = planar_value(r, val);
    for (unsigned p = 0; p < 4; p++) {
        if (map & (1u << p)) {
            vram[4 * addr + p] = (uint8_t)(v >> (8 * p));
        }
    }
}
