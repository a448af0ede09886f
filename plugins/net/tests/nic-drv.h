/*
 * A small e1000/e1000e driver for the harness tests: probes as Linux's
 * e1000 (Microwire EEPROM through EECD) and e1000e (EERD) drivers do,
 * builds transmit and receive rings in harness RAM and moves frames
 * through them. Header-only so each test file can include it.
 */
#ifndef NIC_DRV_H
#define NIC_DRV_H

#include <glib.h>
#include <string.h>
#include <tessera/harness.h>

#define ND_RAM (32ull << 20)
#define ND_BAR0 0x10000000ull
#define ND_BAR3 0x10100000ull /* e1000e MSI-X */
#define ND_IO 0xc000
#define ND_TXR 0x100000ull  /* transmit ring */
#define ND_RXR 0x200000ull  /* receive ring */
#define ND_TXB 0x300000ull  /* transmit buffers, 64 KiB apart */
#define ND_RXB 0x1000000ull /* receive buffers, 2 KiB apart */
#define ND_RING 16          /* descriptors per ring */

/* Registers and bits the tests use (8254x SDM 13, 82574 datasheet 10). */
enum {
    CTRL = 0x0, STATUS = 0x8, EECD = 0x10, EERD = 0x14, CTRL_EXT = 0x18, MDIC = 0x20,
    ICR = 0xc0, ICS = 0xc8, IMS = 0xd0, IMC = 0xd8, EIAC = 0xdc, IAM = 0xe0, IVAR = 0xe4,
    RCTL = 0x100, TCTL = 0x400, RDBAL = 0x2800, RDBAH = 0x2804, RDLEN = 0x2808,
    RDH = 0x2810, RDT = 0x2818, TDBAL = 0x3800, TDBAH = 0x3804, TDLEN = 0x3808,
    TDH = 0x3810, TDT = 0x3818, GPRC = 0x4074, GPTC = 0x4080, GOTCL = 0x4090,
    GOTCH = 0x4094, TPT = 0x40d4, RFCTL = 0x5008, RAL0 = 0x5400, RAH0 = 0x5404,
};
#define I_TXDW 0x1u
#define I_TXQE 0x2u
#define I_LSC 0x4u
#define I_RXDMT0 0x10u
#define I_RXO 0x40u
#define I_RXT0 0x80u
#define I_RXQ0 (1u << 20)
#define I_TXQ0 (1u << 22)
#define I_OTHER (1u << 24)
#define I_ASSERTED (1u << 31)
#define RCTL_EN 0x2u
#define RCTL_UPE 0x8u
#define RCTL_LBM_MAC 0x40u
#define RCTL_BAM 0x8000u
#define RCTL_SECRC (1u << 26)
#define TCTL_EN 0x2u
#define CMD_EOP (1u << 24)
#define CMD_IFCS (1u << 25)
#define CMD_TSE (1u << 26)
#define CMD_RS (1u << 27)
#define CMD_DEXT (1u << 29)
#define DTYP_D (1u << 20)

typedef struct nd {
    tes_harness *h;
    tes_device *dev;
    uint8_t *ram;
    bool e; /* e1000e */
    uint32_t tdt, rdh; /* our tail and the next receive descriptor to read */
} nd;

static inline uint32_t nd_r(nd *n, uint32_t off)
{
    return (uint32_t)tes_harness_read(n->h, ND_BAR0 + off, 4);
}

static inline void nd_w(nd *n, uint32_t off, uint32_t v)
{
    tes_harness_write(n->h, ND_BAR0 + off, v, 4);
}

static inline void nd_st32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static inline void nd_st64(uint8_t *p, uint64_t v)
{
    nd_st32(p, (uint32_t)v);
    nd_st32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t nd_ld32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint16_t nd_ld16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* A harness with the device at BAR0 (and its I/O BAR, and BAR3). */
static inline void nd_up(nd *n, const char *plugin, const char *type, const char *props)
{
    memset(n, 0, sizeof(*n));
    n->h = tes_harness_new(ND_RAM);
    g_assert_true(tes_harness_load(n->h, plugin));
    n->ram = tes_harness_ram(n->h);
    n->e = !strcmp(type, "e1000e");
    n->dev = tes_harness_device(n->h, type, props);
    if (!n->dev) {
        g_error("%s: %s", type, tes_harness_error(n->h));
    }
    g_assert_cmphex(tes_harness_bar_map(n->h, n->dev, 0, ND_BAR0), ==, ND_BAR0);
    g_assert_cmphex(tes_harness_bar_map(n->h, n->dev, n->e ? 2 : 1, ND_IO), ==, ND_IO);
    if (n->e) {
        g_assert_cmphex(tes_harness_bar_map(n->h, n->dev, 3, ND_BAR3), ==, ND_BAR3);
    }
}

/* The same with a harness network backend "n0" (netdev_opts) first. */
static inline void nd_up_netdev(nd *n, const char *plugin, const char *type, const char *props,
                                const char *netdev_opts)
{
    memset(n, 0, sizeof(*n));
    n->h = tes_harness_new(ND_RAM);
    g_assert_true(tes_harness_load(n->h, plugin));
    g_assert_true(tes_harness_netdev(n->h, netdev_opts));
    n->ram = tes_harness_ram(n->h);
    n->e = !strcmp(type, "e1000e");
    n->dev = tes_harness_device(n->h, type, props);
    if (!n->dev) {
        g_error("%s: %s", type, tes_harness_error(n->h));
    }
    g_assert_cmphex(tes_harness_bar_map(n->h, n->dev, 0, ND_BAR0), ==, ND_BAR0);
    if (n->e) {
        g_assert_cmphex(tes_harness_bar_map(n->h, n->dev, 3, ND_BAR3), ==, ND_BAR3);
    }
}

static inline void nd_up_net(nd *n, const char *plugin, const char *type, const char *props)
{
    nd_up_netdev(n, plugin, type, props, "id=n0");
}

/* ---- EEPROM, as the Linux drivers read it ---- */

static inline void ee_clock(nd *n, uint32_t eecd)
{
    nd_w(n, EECD, eecd | 1); /* SK up */
    nd_w(n, EECD, eecd & ~1u);
}

/* e1000_read_eeprom on a Microwire part: REQ/GNT, CS, opcode 110, 6
 * address bits, then 16 data bits MSB first. */
static inline uint16_t ee_read_microwire(nd *n, unsigned addr)
{
    uint32_t eecd = nd_r(n, EECD) | 0x40; /* REQ */
    uint32_t cmd = 6u << 6 | (addr & 0x3f);
    uint16_t v = 0;

    nd_w(n, EECD, eecd);
    g_assert_true(nd_r(n, EECD) & 0x80); /* GNT */
    eecd &= ~0x5u;
    nd_w(n, EECD, eecd);
    eecd |= 0x2; /* CS */
    nd_w(n, EECD, eecd);
    for (int i = 8; i >= 0; i--) {
        uint32_t di = (cmd >> i & 1) ? 0x4 : 0;
        nd_w(n, EECD, (eecd & ~0x4u) | di);
        ee_clock(n, (eecd & ~0x4u) | di);
    }
    eecd &= ~0x4u;
    for (int i = 0; i < 16; i++) {
        nd_w(n, EECD, eecd | 1);
        v = (uint16_t)(v << 1 | !!(nd_r(n, EECD) & 0x8));
        nd_w(n, EECD, eecd);
    }
    nd_w(n, EECD, eecd & ~0x42u); /* CS and REQ down */
    return v;
}

/* e1000e_read_nvm_eerd: START with the address, poll DONE, data above. */
static inline uint16_t ee_read_eerd(nd *n, unsigned addr)
{
    uint32_t v;

    nd_w(n, EERD, addr << 2 | 1);
    v = nd_r(n, EERD);
    g_assert_true(v & 0x2);
    return (uint16_t)(v >> 16);
}

static inline uint16_t ee_read(nd *n, unsigned addr)
{
    return n->e ? ee_read_eerd(n, addr) : ee_read_microwire(n, addr);
}

static inline uint32_t phy_cmd(nd *n, uint32_t cmd)
{
    uint32_t v;

    nd_w(n, MDIC, cmd);
    v = nd_r(n, MDIC);
    g_assert_true(v & (1u << 28)); /* READY */
    return v;
}

static inline uint16_t phy_read(nd *n, unsigned reg)
{
    uint32_t v = phy_cmd(n, 2u << 26 | 1u << 21 | reg << 16);

    g_assert_false(v & (1u << 30)); /* ERROR */
    return (uint16_t)v;
}

/* ---- rings ---- */

/* Rings of 16 descriptors; RX owns 15 buffers (RDT one behind RDH). */
static inline void nd_rings(nd *n, uint32_t rctl_extra)
{
    memset(n->ram + ND_TXR, 0, ND_RING * 16);
    memset(n->ram + ND_RXR, 0, ND_RING * 16);
    for (int i = 0; i < ND_RING; i++) {
        nd_st64(n->ram + ND_RXR + 16 * i, ND_RXB + 0x800 * i);
    }
    nd_w(n, TDBAL, (uint32_t)ND_TXR);
    nd_w(n, TDBAH, 0);
    nd_w(n, TDLEN, ND_RING * 16);
    nd_w(n, TDH, 0);
    nd_w(n, TDT, 0);
    nd_w(n, RDBAL, (uint32_t)ND_RXR);
    nd_w(n, RDBAH, 0);
    nd_w(n, RDLEN, ND_RING * 16);
    nd_w(n, RDH, 0);
    nd_w(n, RDT, ND_RING - 1);
    n->tdt = 0;
    n->rdh = 0;
    nd_w(n, TCTL, TCTL_EN);
    nd_w(n, RCTL, RCTL_EN | RCTL_BAM | rctl_extra);
}

/* Queue one transmit descriptor; buffers sit 64 KiB apart by index. */
static inline void nd_tx_desc(nd *n, uint64_t addr, uint32_t lower, uint32_t upper)
{
    uint8_t *d = n->ram + ND_TXR + 16 * n->tdt;

    nd_st64(d, addr);
    nd_st32(d + 8, lower);
    nd_st32(d + 12, upper);
    n->tdt = (n->tdt + 1) % ND_RING;
}

static inline uint64_t nd_tx_buf(nd *n, const void *data, size_t len)
{
    uint64_t addr = ND_TXB + 0x10000ull * n->tdt;

    memcpy(n->ram + addr, data, len);
    return addr;
}

/* One frame in one legacy descriptor (EOP, IFCS, RS), then TDT. */
static inline void nd_send(nd *n, const void *data, size_t len)
{
    nd_tx_desc(n, nd_tx_buf(n, data, len), (uint32_t)len | CMD_EOP | CMD_IFCS | CMD_RS, 0);
    nd_w(n, TDT, n->tdt);
}

/* The next receive descriptor: status byte (legacy offset 12, extended
 * 8), length, and the frame. Returns the status; 0 when not written. */
static inline uint32_t nd_rx(nd *n, uint8_t **data, uint32_t *len)
{
    uint8_t *d = n->ram + ND_RXR + 16 * n->rdh;
    bool ext = n->e && (nd_r(n, RFCTL) & (1u << 15));
    uint32_t status = ext ? nd_ld32(d + 8) : d[12];

    *data = NULL;
    *len = 0;
    if (!(status & 1)) {
        return 0;
    }
    *len = ext ? nd_ld16(d + 12) : nd_ld16(d + 8);
    *data = n->ram + ND_RXB + 0x800 * n->rdh;
    n->rdh = (n->rdh + 1) % ND_RING;
    return status;
}

/* A broadcast test frame of len bytes: pattern after the header. */
static inline void nd_frame(uint8_t *f, size_t len, uint8_t seed)
{
    memset(f, 0xff, 6);
    memcpy(f + 6, "\x52\x54\x00\x12\x34\x56", 6);
    f[12] = 0x88;
    f[13] = 0xb5; /* local experimental ethertype */
    for (size_t i = 14; i < len; i++) {
        f[i] = (uint8_t)(i * 7 + seed);
    }
}

#endif
