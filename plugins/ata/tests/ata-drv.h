/*
 * A tiny ATA host driver for the harness: piix3-ide through its legacy
 * ports and BAR4 bus-master DMA, ich9-ahci through ABAR, command lists and
 * PRDTs in harness RAM. Shared by the plugin tests and the fuzz targets
 * (tests/fuzz/fuzz-piix3-ide.c, fuzz-ahci.c). Header-only, static inline.
 */
#ifndef ATA_DRV_H
#define ATA_DRV_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <tessera/harness.h>

#define AD_BM_PORT 0xc000u     /* piix3-ide BAR4 */
#define AD_PRD 0x100000ull     /* PRD tables (piix) */
#define AD_ABAR 0xfebf0000ull  /* ich9-ahci BAR5 */
#define AD_CLB 0x110000ull     /* AHCI command lists: 1 KiB per port */
#define AD_FB 0x120000ull      /* FIS receive areas: 256 bytes per port */
#define AD_CT 0x130000ull      /* command tables: 0x1000 per slot */
#define AD_POLL 100000

typedef struct ad {
    tes_harness *h;
    tes_device *ctrl;
    uint8_t *ram;
    uint64_t ram_size;
} ad;

static inline uint8_t ad_inb(ad *a, uint16_t port)
{
    return (uint8_t)tes_harness_io_read(a->h, port, 1);
}

static inline void ad_outb(ad *a, uint16_t port, uint8_t v)
{
    tes_harness_io_write(a->h, port, v, 1);
}

/* ---- piix3-ide ---- */

static inline uint16_t ad_cmd_base(unsigned ch)
{
    return ch ? 0x170 : 0x1f0;
}

/* Wait until BSY clears (drive requests complete through the harness). */
static inline uint8_t ad_wait(ad *a, unsigned ch)
{
    uint8_t st = 0xff;

    for (int i = 0; i < AD_POLL; i++) {
        st = ad_inb(a, ad_cmd_base(ch) + 7);
        if (!(st & 0x80)) {
            break;
        }
        tes_harness_block_wait(a->h);
    }
    return st;
}

/* Load the task file for LBA48 (ext) or LBA28 addressing and issue cmd. */
static inline void ad_issue(ad *a, unsigned ch, unsigned unit, uint8_t cmd, uint8_t feature,
                            uint64_t lba, uint32_t count, bool ext)
{
    uint16_t b = ad_cmd_base(ch);

    ad_outb(a, b + 6, (uint8_t)(0xe0 | unit << 4 | (ext ? 0 : (lba >> 24) & 0xf)));
    if (ext) {
        ad_outb(a, b + 1, 0);
        ad_outb(a, b + 2, (uint8_t)(count >> 8));
        ad_outb(a, b + 3, (uint8_t)(lba >> 24));
        ad_outb(a, b + 4, (uint8_t)(lba >> 32));
        ad_outb(a, b + 5, (uint8_t)(lba >> 40));
    }
    ad_outb(a, b + 1, feature);
    ad_outb(a, b + 2, (uint8_t)count);
    ad_outb(a, b + 3, (uint8_t)lba);
    ad_outb(a, b + 4, (uint8_t)(lba >> 8));
    ad_outb(a, b + 5, (uint8_t)(lba >> 16));
    ad_outb(a, b + 7, cmd);
}

/* PIO data-in: read n bytes (16-bit accesses) once DRQ is up. */
static inline bool ad_pio_in(ad *a, unsigned ch, void *buf, uint32_t n)
{
    uint8_t *p = buf;

    for (uint32_t i = 0; i < n; i += 2) {
        if (!(i % 512) && !(ad_wait(a, ch) & 0x08)) {
            return false;
        }
        uint16_t w = (uint16_t)tes_harness_io_read(a->h, ad_cmd_base(ch), 2);
        p[i] = (uint8_t)w;
        p[i + 1] = (uint8_t)(w >> 8);
    }
    return true;
}

static inline bool ad_pio_out(ad *a, unsigned ch, const void *buf, uint32_t n)
{
    const uint8_t *p = buf;

    for (uint32_t i = 0; i < n; i += 2) {
        if (!(i % 512) && !(ad_wait(a, ch) & 0x08)) {
            return false;
        }
        tes_harness_io_write(a->h, ad_cmd_base(ch), p[i] | p[i + 1] << 8, 2);
    }
    return true;
}

/* One PRD entry i of the channel's table (len 0x10000 is written as 0). */
static inline void ad_prd(ad *a, unsigned i, uint32_t addr, uint32_t len, bool eot)
{
    uint8_t *e = a->ram + AD_PRD + 8 * i;
    uint32_t w1 = (len & 0xffff) | (eot ? 0x80000000u : 0);

    memcpy(e, &addr, 4);
    memcpy(e + 4, &w1, 4);
}

/* Start bus-master DMA with the table at table (reads: to memory). */
static inline void ad_bm_start(ad *a, unsigned ch, uint32_t table, bool to_mem)
{
    uint16_t bm = (uint16_t)(AD_BM_PORT + 8 * ch);

    tes_harness_io_write(a->h, bm, 0, 1);
    tes_harness_io_write(a->h, bm + 2, 0x06, 1); /* clear interrupt, error */
    tes_harness_io_write(a->h, bm + 4, table, 4);
    tes_harness_io_write(a->h, bm, to_mem ? 0x09 : 0x01, 1);
}

static inline uint8_t ad_bm_status(ad *a, unsigned ch)
{
    return (uint8_t)tes_harness_io_read(a->h, AD_BM_PORT + 8 * ch + 2, 1);
}

/* ---- ich9-ahci ---- */

static inline uint32_t ad_rd(ad *a, uint64_t off)
{
    return (uint32_t)tes_harness_read(a->h, AD_ABAR + off, 4);
}

static inline void ad_wr(ad *a, uint64_t off, uint32_t v)
{
    tes_harness_write(a->h, AD_ABAR + off, v, 4);
}

static inline uint64_t ad_port(unsigned p, unsigned reg)
{
    return 0x100 + 0x80 * p + reg;
}

/* Command list and FIS area of port p, FIS receive and start. */
static inline void ad_port_start(ad *a, unsigned p)
{
    ad_wr(a, ad_port(p, 0x18), 0); /* stop */
    ad_wr(a, ad_port(p, 0x00), (uint32_t)(AD_CLB + 0x400 * p));
    ad_wr(a, ad_port(p, 0x04), 0);
    ad_wr(a, ad_port(p, 0x08), (uint32_t)(AD_FB + 0x100 * p));
    ad_wr(a, ad_port(p, 0x0c), 0);
    ad_wr(a, ad_port(p, 0x30), 0xffffffffu);
    ad_wr(a, ad_port(p, 0x10), 0xffffffffu);
    ad_wr(a, ad_port(p, 0x14), 0x7dc000ffu);
    ad_wr(a, ad_port(p, 0x18), 0x10); /* FRE */
    ad_wr(a, ad_port(p, 0x18), 0x11); /* ST */
}

static inline uint64_t ad_ctba(unsigned p, unsigned slot)
{
    return AD_CT + 0x1000ull * (p * 32 + slot);
}

/* Write command header slot of port p: the Register H2D FIS from the
 * task-file values, an optional ATAPI packet, nprd PRDT entries that the
 * caller fills with ad_prdt. */
static inline void ad_cmd(ad *a, unsigned p, unsigned slot, uint8_t cmd, uint8_t feature,
                          uint64_t lba, uint32_t count, const uint8_t *packet, uint16_t nprd,
                          bool write)
{
    uint8_t *h = a->ram + AD_CLB + 0x400 * p + 32 * slot;
    uint8_t *t = a->ram + ad_ctba(p, slot);
    uint32_t dw0 = 5 | (packet ? 0x20 : 0) | (write ? 0x40 : 0) | (uint32_t)nprd << 16;
    uint64_t ct = ad_ctba(p, slot);

    memset(h, 0, 32);
    memcpy(h, &dw0, 4);
    memcpy(h + 8, &ct, 8);
    memset(t, 0, 0x80);
    t[0] = 0x27;
    t[1] = 0x80;
    t[2] = cmd;
    t[3] = feature;
    t[4] = (uint8_t)lba;
    t[5] = (uint8_t)(lba >> 8);
    t[6] = (uint8_t)(lba >> 16);
    t[7] = 0x40;
    t[8] = (uint8_t)(lba >> 24);
    t[9] = (uint8_t)(lba >> 32);
    t[10] = (uint8_t)(lba >> 40);
    t[12] = (uint8_t)count;
    t[13] = (uint8_t)(count >> 8);
    if (packet) {
        memcpy(t + 0x40, packet, 12);
    }
}

static inline void ad_prdt(ad *a, unsigned p, unsigned slot, unsigned i, uint64_t addr,
                           uint32_t len)
{
    uint8_t *e = a->ram + ad_ctba(p, slot) + 0x80 + 16 * i;
    uint32_t dbc = len - 1;

    memcpy(e, &addr, 8);
    memset(e + 8, 0, 4);
    memcpy(e + 12, &dbc, 4);
}

/* Issue slot and wait for PxCI (and PxSACT when ncq) to clear; PxTFD. */
static inline uint32_t ad_run(ad *a, unsigned p, uint32_t slots, bool ncq)
{
    if (ncq) {
        ad_wr(a, ad_port(p, 0x34), slots);
    }
    ad_wr(a, ad_port(p, 0x38), slots);
    for (int i = 0; i < AD_POLL; i++) {
        uint32_t busy = ad_rd(a, ad_port(p, 0x38)) | (ncq ? ad_rd(a, ad_port(p, 0x34)) : 0);
        if (!(busy & slots) || (ad_rd(a, ad_port(p, 0x10)) & 0x40000000u)) {
            break;
        }
        tes_harness_block_wait(a->h);
    }
    return ad_rd(a, ad_port(p, 0x20));
}

/* PRDBC of slot: bytes the HBA moved. */
static inline uint32_t ad_prdbc(ad *a, unsigned p, unsigned slot)
{
    uint32_t v;

    memcpy(&v, a->ram + AD_CLB + 0x400 * p + 32 * slot + 4, 4);
    return v;
}

#endif
