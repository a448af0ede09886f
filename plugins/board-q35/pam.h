/*
 * board-x86: PAM, the host bridges' shadow RAM control of the BIOS area
 * 0xc0000..0xfffff (i440FX datasheet 3.2.18, Intel 3 Series / Q35 MCH
 * datasheet 5.1.17): seven config registers, 13 segments (0xf0000 64 KiB
 * in PAM0 bits 5:4; 0xc0000..0xeffff in 16 KiB pieces, PAM1 bits 1:0 the
 * first, bits 5:4 the next, ...), each with RE (reads from RAM) and WE
 * (writes to RAM); otherwise reads come from the PCI side (the BIOS ROM,
 * or all ones where the board has none) and writes are dropped.
 *
 * In RE|WE mode a segment is the RAM itself (no region on top); in the
 * other modes an I/O region above the RAM decides per access. The state
 * is the config registers: after a load, x86_pam_update() remaps.
 */
#ifndef X86_PAM_H
#define X86_PAM_H

#include <stdbool.h>
#include <stdint.h>
#include <tessera/device.h>
#include <tessera/host.h>

#define X86_PAM_BASE 0xc0000ull
#define X86_PAM_SIZE 0x40000ull
#define X86_PAM_REGS 7
#define X86_PAM_SEGS 13
#define X86_PAM_RE 1
#define X86_PAM_WE 2

typedef struct x86_pam x86_pam;

typedef struct x86_pam_seg {
    x86_pam *p;
    unsigned idx;
    tes_region *r;
    bool mapped; /* the I/O region is enabled (mode != RE|WE) */
} x86_pam_seg;

struct x86_pam {
    const tes_host *host; /* set before x86_pam_init */
    tes_device *dev;      /* the PCI function holding the registers */
    unsigned reg;         /* config offset of PAM0 */
    const uint8_t *rom;   /* the PCI side, X86_PAM_SIZE bytes; NULL: all ones */
    void (*trace)(unsigned seg, unsigned mode); /* a segment remapped */
    uint8_t *ram;         /* the shadow RAM (found by x86_pam_init) */
    x86_pam_seg seg[X86_PAM_SEGS];
};

/* Find the RAM under 0xc0000..0xfffff and lay the segment regions over it
 * (all mapped); set the wmask (reserved bits read 0). 0 or -errno, with
 * the error reported on dev. */
int x86_pam_init(x86_pam *p);
/* The mode (RE|WE bits) of segment i. */
unsigned x86_pam_mode(const x86_pam *p, unsigned i);
/* Map each segment as the registers say; only changes touch the map. */
void x86_pam_update(x86_pam *p);
/* Program PAM as SeaBIOS (fw/shadow.c) leaves it with no option ROMs:
 * 0xf0000 read-only RAM, 0xc0000..0xeffff read/write RAM; with a ROM,
 * the ROM copied into the RAM first. */
void x86_pam_shadow(x86_pam *p);

#endif
