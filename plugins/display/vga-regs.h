/*
 * The VGA register file and memory window of the std VGA (vga.c): the
 * ports 0x3b0-0x3df (attribute controller, sequencer, graphics
 * controller, CRT controller, DAC palette, miscellaneous output, input
 * status) and the 128 KiB at 0xa0000 with its planar, odd/even and chain-4
 * addressing, latches, write modes 0-3 and read modes 0-1, as IBM's VGA
 * defines them.
 *
 * Video memory holds the four planes interleaved: byte p of plane offset
 * o is vram[4 * o + p], so chain-4 addresses are VRAM addresses. The
 * window reaches at most 4 * 128 KiB of it: inside the smallest vgamem.
 */
#ifndef TESSERA_DISPLAY_VGA_REGS_H
#define TESSERA_DISPLAY_VGA_REGS_H

#include <stdbool.h>
#include <stdint.h>

#define VGA_PORT_BASE 0x3b0
#define VGA_PORT_COUNT 0x30
#define VGA_WINDOW_BASE 0xa0000
#define VGA_WINDOW_SIZE 0x20000
#define VGA_SR_COUNT 8
#define VGA_GR_COUNT 16
#define VGA_CR_COUNT 256
#define VGA_AR_COUNT 0x15
#define VGA_AR_PAS 0x20 /* attribute index: palette address source (screen on) */

typedef struct vga_regs {
    uint8_t misc;    /* miscellaneous output (0x3c2 write, 0x3cc read) */
    uint8_t fcr;     /* feature control */
    uint8_t st01;    /* input status 1: retrace bits toggle per read */
    uint8_t sr_index, sr[VGA_SR_COUNT];
    uint8_t gr_index, gr[VGA_GR_COUNT];
    uint8_t cr_index, cr[VGA_CR_COUNT];
    uint8_t ar_index, ar[VGA_AR_COUNT + 3];
    bool ar_flip_flop; /* true: the next 0x3c0 write is data */
    uint8_t dac_read_index, dac_write_index, dac_sub_index, dac_state;
    uint8_t dac_cache[3];
    uint8_t palette[768];
    uint32_t latch;  /* plane p in byte p */
} vga_regs;

void vga_regs_reset(vga_regs *r);
/* port: 0x3b0..0x3df. The CRTC and input status 1 answer at 0x3dx or
 * 0x3bx as misc bit 0 (I/O address select) says; the other block reads
 * 0xff and ignores writes. */
uint8_t vga_port_read(vga_regs *r, unsigned port);
void vga_port_write(vga_regs *r, unsigned port, uint8_t val);
/* addr: offset into the 128 KiB window; vram of vram_size bytes (>= 512 KiB). */
uint8_t vga_mem_read(vga_regs *r, uint8_t *vram, uint64_t vram_size, uint64_t addr);
void vga_mem_write(vga_regs *r, uint8_t *vram, uint64_t vram_size, uint64_t addr, uint8_t val);

#endif
