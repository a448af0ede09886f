/*
 * e1000/e1000e actions of fuzz-e1000.c and fuzz-e1000e.c (fuzz-e1000.h is
 * the manual).
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "fuzz-e1000.h"
#include "fuzz-net.h"
#include "net/tests/nic-drv.h"

#define BAR1 0x10200000ull /* e1000e flash */
#define TXR 0x100000ull    /* rings of RING descriptors */
#define RXR 0x110000ull
#define TXB 0x200000ull    /* TX buffers: 16 slots of 64 KiB */
#define RXB 0x400000ull    /* RX buffers: 16 slots of 16 KiB */
#define CHECK 0x800000ull  /* the spec check's frame */
#define RING 16
#define EECD_SK 0x1u
#define EECD_CS 0x2u
#define EECD_DI 0x4u
#define EECD_REQ 0x40u
#define RFCTL_EXTEN (1u << 15)

static nd drv;
static bool msix;

/* ---- set-up ---- */

static void map_bars(fz *f)
{
    drv.dev = f->dev[0]; /* a migration round trip may have replaced it */
    tes_harness_bar_map(f->h, drv.dev, 0, ND_BAR0);
    tes_harness_bar_map(f->h, drv.dev, drv.e ? 2 : 1, ND_IO);
    if (drv.e) {
        tes_harness_bar_map(f->h, drv.dev, 1, BAR1);
        tes_harness_bar_map(f->h, drv.dev, 3, ND_BAR3);
        if (msix) {
            tes_harness_msi_enable(f->h, drv.dev);
        }
    }
}

/* Rings as nd_rings lays them out, in our smaller RAM. */
static void rings(uint32_t rctl)
{
    memset(drv.ram + TXR, 0, RING * 16);
    memset(drv.ram + RXR, 0, RING * 16);
    for (int i = 0; i < RING; i++) {
        nd_st64(drv.ram + RXR + 16 * i, RXB + 0x4000 * i);
    }
    nd_w(&drv, TDBAL, (uint32_t)TXR);
    nd_w(&drv, TDBAH, 0);
    nd_w(&drv, TDLEN, RING * 16);
    nd_w(&drv, TDH, 0);
    nd_w(&drv, TDT, 0);
    nd_w(&drv, RDBAL, (uint32_t)RXR);
    nd_w(&drv, RDBAH, 0);
    nd_w(&drv, RDLEN, RING * 16);
    nd_w(&drv, RDH, 0);
    nd_w(&drv, RDT, RING - 1);
    drv.tdt = 0;
    drv.rdh = 0;
    nd_w(&drv, TCTL, TCTL_EN);
    nd_w(&drv, RCTL, RCTL_EN | RCTL_BAM | rctl);
}

static void irq_setup(void)
{
    if (msix) {
        nd_w(&drv, IVAR, 1u << 31 | (8 | 2) << 16 | (8 | 1) << 8 | (8 | 0));
        nd_w(&drv, EIAC, I_RXQ0 | I_TXQ0);
    }
    nd_w(&drv, IMS, 0x01ffffff);
}

static void fe_setup(fz *f, bool e)
{
    uint8_t sel = fz_u8(f);
    char *props = g_strdup_printf("netdev=%s,mac=52:54:00:12:34:56", FN_NETDEV);

    memset(&drv, 0, sizeof(drv));
    drv.h = f->h;
    drv.ram = f->ram;
    drv.e = e;
    msix = e && (sel & 2);
    if (!tes_harness_netdev(f->h, fn_netdev_opts(sel, 1))) {
        fz_fail(f, "netdev: %s", tes_harness_error(f->h));
    }
    drv.dev = tes_harness_device(f->h, e ? "e1000e" : "e1000", props);
    if (!drv.dev) {
        fz_fail(f, "%s: %s", e ? "e1000e" : "e1000", tes_harness_error(f->h));
    }
    g_free(props);
    fz_device_add(f, drv.dev, NULL);
    map_bars(f);
    fz_window_add(f, ND_BAR0, 0x20000, false);
    fz_window_add(f, ND_IO, e ? 0x20 : 0x40, true);
    if (e) {
        fz_window_add(f, ND_BAR3, 0x4000, false);
        fz_window_add(f, BAR1, 0x20000, false);
        nd_w(&drv, RFCTL, sel & 4 ? RFCTL_EXTEN : 0);
    }
    rings(sel & 0x78); /* UPE, MPE, LPE, loopback */
    irq_setup();
}

/* ---- registers ---- */

static const uint32_t hot[] = {
    CTRL, STATUS, EECD, EERD, CTRL_EXT, MDIC, 0x28, 0x2c, 0x30, 0x38, ICR, 0xc4, ICS, IMS, IMC,
    EIAC, IAM, IVAR, 0xe8, 0xec, RCTL, 0x170, TCTL, 0x410, 0xf00, 0x1000, 0x1008, 0x102c,
    0x2170, RDBAL, RDBAH, RDLEN, RDH, RDT, 0x2820, 0x2828, 0x282c, RDBAL + 0x100,
    RDLEN + 0x100, RDT + 0x100, TDBAL, TDBAH, TDLEN, TDH, TDT, 0x3820, 0x3828, 0x382c,
    0x3840, TDLEN + 0x100, TDT + 0x100, 0x4000, GPRC, GOTCL, 0x5000, RFCTL, 0x5200, RAL0,
    RAH0, 0x5600, 0x5800, 0x5820, 0x5b00, 0x5b50, 0x5b64,
};
#define N_HOT (sizeof(hot) / sizeof(hot[0]))

static uint32_t plausible(fz *f, uint32_t reg)
{
    uint8_t k = fz_u8(f);

    switch (k & 3) {
    case 0:
        return fz_u32(f);
    case 1:
        return k >> 2; /* small: ring indices, lengths in descriptors */
    case 2:
        return nd_r(&drv, reg) ^ (1u << (fz_u8(f) & 31)); /* one bit flipped */
    default:
        return (uint32_t)(k >> 2) << 7; /* ring lengths, multiples of 128 */
    }
}

static void reg_write(fz *f)
{
    uint32_t r = hot[fz_u8(f) % N_HOT];

    nd_w(&drv, r, plausible(f, r));
}

/* ---- transmit ---- */

static uint64_t tx_buf(fz *f, uint32_t *len)
{
    static uint8_t fr[0x10000];
    uint64_t a = TXB + 0x10000ull * (fz_u8(f) % 16);

    if (fz_u8(f) & 1) {
        *len = fz_len(f);
        return fz_addr(f);
    }
    *len = (uint32_t)fn_frame(f, fr, sizeof(fr));
    memcpy(drv.ram + a, fr, *len);
    return a;
}

/* Descriptor at the tail, which moves on. */
static void tx_put(uint64_t addr, uint32_t lower, uint32_t upper)
{
    uint8_t *d = drv.ram + TXR + 16 * (drv.tdt % RING);

    nd_st64(d, addr);
    nd_st32(d + 8, lower);
    nd_st32(d + 12, upper);
    drv.tdt = (drv.tdt + 1) % RING;
}

/* A context descriptor: checksum offsets and TSO set-up, any values. */
static void tx_context(fz *f, bool tse, uint8_t hdr_len, uint32_t paylen)
{
    uint8_t *d = drv.ram + TXR + 16 * (drv.tdt % RING);
    uint8_t sel = fz_u8(f);
    uint16_t mss = sel & 1 ? fz_u16(f) : 536 + fz_u8(f) * 4;

    nd_st32(d, sel & 2 ? fz_u32(f) : 14 | (14 + 10) << 8 | (uint32_t)(hdr_len - 1) << 16);
    nd_st32(d + 4, sel & 4 ? fz_u32(f) : (uint32_t)(14 + 20) | (14 + 20 + 16) << 8);
    nd_st32(d + 8, (paylen & 0xfffff) | (tse ? CMD_TSE : 0) | CMD_DEXT | CMD_RS |
                   (sel & 8 ? 1u << 24 : 0) | (sel & 0x10 ? 1u << 25 : 0));
    nd_st32(d + 12, (uint32_t)hdr_len << 8 | (uint32_t)mss << 16);
    drv.tdt = (drv.tdt + 1) % RING;
}

static void tx_descs(fz *f)
{
    unsigned n = 1 + fz_u8(f) % 8;

    for (unsigned i = 0; i < n; i++) {
        uint8_t k = fz_u8(f), cmd = fz_u8(f), hl;
        uint32_t len, lower, upper;
        uint64_t a;

        switch (k & 3) {
        case 0: /* legacy: length, CSO, CMD; CSS, VLAN */
            a = tx_buf(f, &len);
            lower = (len & 0xffff) | (uint32_t)fz_u8(f) << 16 | (uint32_t)cmd << 24;
            upper = (uint32_t)fz_u8(f) << 8;
            tx_put(a, lower, upper | (uint32_t)fz_u16(f) << 16);
            break;
        case 1:
            hl = fz_u8(f);
            tx_context(f, cmd & 4, hl, fz_u32(f));
            break;
        case 2: /* data: DEXT, DTYP_D, DCMD; POPTS */
            a = tx_buf(f, &len);
            upper = (uint32_t)(fz_u8(f) & 3) << 8;
            tx_put(a, (len & 0xfffff) | DTYP_D | CMD_DEXT | (uint32_t)(cmd & 0xdf) << 24,
                   upper | (uint32_t)fz_u16(f) << 16);
            break;
        default:
            a = fz_addr(f);
            lower = fz_u32(f);
            tx_put(a, lower, fz_u32(f));
            break;
        }
    }
    nd_w(&drv, TDT, fz_u8(f) & 0x80 ? fz_u8(f) : drv.tdt);
}

/* Headers' length of a frame from fn_frame (Ethernet, VLAN, IP, TCP). */
static uint32_t hdr_len(const uint8_t *fr, size_t len)
{
    size_t l3 = len > 16 && fr[12] == 0x81 ? 18 : 14, l4;

    if (len < l3 + 40) {
        return (uint32_t)len;
    }
    l4 = l3 + ((fr[l3] >> 4) == 6 ? 40 : (fr[l3] & 0xf) * 4u);
    return (uint32_t)(l4 + 20 <= len ? l4 + (fr[l4 + 12] >> 4) * 4u : len);
}

static void tx_tso(fz *f)
{
    static uint8_t fr[0x10000];
    uint64_t a = TXB + 0x10000ull * (fz_u8(f) % 16);
    uint32_t len = (uint32_t)fn_frame(f, fr, sizeof(fr)), hl = hdr_len(fr, len), at = 0;
    unsigned n = 1 + fz_u8(f) % 4;
    uint8_t popts = fz_u8(f) & 3;

    memcpy(drv.ram + a, fr, len);
    tx_context(f, true, (uint8_t)(fz_u8(f) & 0x80 ? fz_u8(f) : hl), len - (hl < len ? hl : 0));
    for (unsigned i = 0; i < n; i++) {
        bool last = i + 1 == n;
        uint32_t piece = last ? len - at : fz_u16(f) % (len - at + 1);

        tx_put(a + at, piece | DTYP_D | CMD_DEXT | CMD_TSE | (last ? CMD_EOP | CMD_RS : 0),
               (uint32_t)popts << 8);
        at += piece;
    }
    nd_w(&drv, TDT, drv.tdt);
}

/* ---- receive ---- */

static void rx_descs(fz *f)
{
    unsigned n = 1 + fz_u8(f) % 8, t = nd_r(&drv, RDT) % RING;
    uint8_t sel = fz_u8(f);

    for (unsigned i = 0; i < n; i++, t = (t + 1) % RING) {
        uint8_t *d = drv.ram + RXR + 16 * t;
        uint8_t k = fz_u8(f);

        nd_st64(d, k & 1 ? fz_addr(f) : RXB + 0x4000ull * t + (k & 2 ? fz_u8(f) : 0));
        nd_st64(d + 8, k & 4 ? fz_u64(f) : 0); /* status (legacy) or header address */
    }
    switch (sel & 3) {
    case 0:
        nd_w(&drv, RDH, fz_u8(f));
        /* fall through */
    case 1:
        nd_w(&drv, RDT, fz_u8(f));
        break;
    default:
        nd_w(&drv, RDT, t);
        break;
    }
}

/* ---- EEPROM and PHY ---- */

/* A Microwire transaction: CS, opcode and address bits, data bits read
 * or written, as the input says (8254x SDM 5.3.1). */
static void microwire(fz *f)
{
    uint32_t eecd = EECD_REQ | EECD_CS, cmd = fz_u16(f), bits = 3 + fz_u8(f) % 30;

    nd_w(&drv, EECD, EECD_REQ);
    nd_w(&drv, EECD, eecd);
    for (unsigned i = 0; i < bits; i++) {
        uint32_t di = (cmd >> (i % 16) & 1) ? EECD_DI : 0;
        nd_w(&drv, EECD, eecd | di);
        nd_w(&drv, EECD, eecd | di | EECD_SK);
        (void)nd_r(&drv, EECD);
        nd_w(&drv, EECD, eecd | di);
    }
    nd_w(&drv, EECD, fz_u8(f) & 1 ? EECD_REQ : 0); /* CS down, or left up */
}

static void eeprom_phy(fz *f)
{
    uint8_t sel = fz_u8(f);
    uint32_t v = fz_u16(f);

    switch (sel & 3) {
    case 0:
        microwire(f);
        break;
    case 1:
        nd_w(&drv, EERD, drv.e ? (v & 0x3fff) << 2 | 1 : (v & 0xff) << 8 | 1);
        (void)nd_r(&drv, EERD);
        break;
    case 2:
        nd_w(&drv, 0x102c, (v & 0x3fff) << 2 | 1 | (uint32_t)fz_u16(f) << 16); /* EEWR */
        break;
    default:
        /* MDIC: read or write, PHY 1 (or any), register any (page 22). */
        nd_w(&drv, MDIC, (sel & 4 ? 1u << 26 : 2u << 26) |
                             (sel & 8 ? (uint32_t)(sel >> 4) << 21 : 1u << 21) |
                             (uint32_t)(fz_u8(f) & 31) << 16 | v | (sel & 0x80 ? 1u << 29 : 0));
        (void)nd_r(&drv, MDIC);
        break;
    }
}

/* ---- interrupts ---- */

static void interrupts(fz *f)
{
    uint8_t sel = fz_u8(f);
    uint32_t causes = fz_u32(f);

    switch (sel & 7) {
    case 0:
        nd_w(&drv, ICS, causes);
        break;
    case 1:
        nd_w(&drv, sel & 8 ? IMC : IMS, causes);
        break;
    case 2:
        (void)nd_r(&drv, ICR);
        break;
    case 3: /* an MSI-X entry aimed anywhere: our own registers too */
        if (drv.e) {
            uint64_t e = ND_BAR3 + 16 * (sel >> 3 & 7);
            tes_harness_write(f->h, e, fz_addr(f), 8);
            tes_harness_write(f->h, e + 8, causes, 4);
            tes_harness_write(f->h, e + 12, fz_u8(f) & 1, 4); /* vector control: mask */
        }
        break;
    case 4: /* delay timers (ITR, RDTR, RADV, TIDV, TADV, EITR) fire */
        tes_harness_clock_step(f->h, fz_ns(f, 12));
        break;
    default:
        fn_drain(f);
        break;
    }
}

static void io_bar(fz *f)
{
    uint32_t r = hot[fz_u8(f) % N_HOT];
    uint8_t sel = fz_u8(f);

    tes_harness_io_write(f->h, ND_IO, sel & 1 ? fz_u32(f) : r, 4);
    if (sel & 2) {
        tes_harness_io_write(f->h, ND_IO + 4, plausible(f, r), 4);
    } else {
        (void)tes_harness_io_read(f->h, ND_IO + 4, 4);
    }
}

/* ---- the spec check ---- */

static void rx_check(fz *f)
{
    uint8_t fr[300], *d;
    uint32_t head = nd_r(&drv, RDH), len, st;
    uint64_t at;

    memcpy(fr, fn_mac, 6);
    memcpy(fr + 6, fn_peer, 6);
    for (unsigned i = 12; i < sizeof(fr); i++) {
        fr[i] = (uint8_t)(i * 5 + f->actions);
    }
    if (tes_harness_net_inject(f->h, FN_NETDEV, 0, NULL, fr, sizeof(fr)) != sizeof(fr)) {
        fz_fail(f, "e1000: after a reset a frame from the network is not taken");
    }
    d = drv.ram + RXR + 16 * head;
    at = nd_ld32(d) | (uint64_t)nd_ld32(d + 4) << 32;
    st = drv.e && (nd_r(&drv, RFCTL) & RFCTL_EXTEN) ? nd_ld32(d + 8) : d[12];
    len = nd_ld16(d + 8);
    if ((st & 3) != 3 || len != sizeof(fr) || memcmp(drv.ram + at, fr, sizeof(fr))) {
        fz_fail(f, "e1000: a received 300-byte frame came back as status 0x%x length %u", st,
                len);
    }
}

static void tx_check(fz *f)
{
    uint8_t got[400], *p = drv.ram + CHECK;
    uint32_t head = nd_r(&drv, TDH);
    int n;

    memset(p, 0xff, 6);
    memcpy(p + 6, fn_mac, 6);
    for (unsigned i = 12; i < 200; i++) {
        p[i] = (uint8_t)(i + f->actions);
    }
    drv.tdt = head;
    tx_put(CHECK, 200 | CMD_EOP | CMD_IFCS | CMD_RS, 0);
    nd_w(&drv, TDT, drv.tdt);
    n = tes_harness_net_sent(f->h, FN_NETDEV, got, sizeof(got), NULL, NULL);
    if (n != 200 || memcmp(got, p, 200) || nd_r(&drv, TDH) != drv.tdt) {
        fz_fail(f, "e1000: after a reset a 200-byte frame went out as %d bytes (TDH %u)", n,
                nd_r(&drv, TDH));
    }
}

static void spec_check(fz *f)
{
    fn_drain(f);
    map_bars(f);
    tes_harness_net_set_link(f->h, FN_NETDEV, true);
    nd_w(&drv, CTRL, 1u << 26); /* CTRL.RST: the MAC */
    nd_w(&drv, CTRL, 1u << 6); /* SLU */
    /* The PHY keeps its state through CTRL.RST (its loopback too): the
     * driver resets it through BMCR, as Linux's e1000_phy_reset does. */
    nd_w(&drv, MDIC, 1u << 26 | 1u << 21 | 0x9140);
    /* Receiver off: frames kept by the core are dropped. */
    nd_w(&drv, RDT, 0);
    tes_harness_net_poll(f->h);
    if (tes_harness_net_queued(f->h, FN_NETDEV)) {
        fz_fail(f, "e1000: %u frames kept with the receiver off after a reset",
                tes_harness_net_queued(f->h, FN_NETDEV));
    }
    rings(RCTL_SECRC);
    irq_setup();
    rx_check(f);
    tx_check(f);
    fn_drain(f);
}

static void fe_op(fz *f, unsigned i)
{
    drv.dev = f->dev[0]; /* a migration round trip may have replaced it */
    switch (i) {
    case 0:
    case 1:
        reg_write(f);
        break;
    case 2:
        tx_descs(f);
        break;
    case 3:
        tx_tso(f);
        break;
    case 4:
        rx_descs(f);
        break;
    case 5:
        eeprom_phy(f);
        break;
    case 6:
        interrupts(f);
        break;
    case 7:
        io_bar(f);
        break;
    case 8:
    case 9:
        fn_backend(f, 1);
        break;
    case 10:
        spec_check(f);
        break;
    }
}

static void setup_e1000(fz *f)
{
    fe_setup(f, false);
}

static void setup_e1000e(fz *f)
{
    fe_setup(f, true);
}

#define FE_TARGET(setup_fn)                                                  \
    {                                                                        \
        .plugins = {"net/e1000", NULL}, .ram_size = 16ull << 20,             \
        .setup = setup_fn, .n_ops = 11, .op = fe_op, .teardown = fn_drain,   \
    }

const fz_target fe_e1000_target = FE_TARGET(setup_e1000);
const fz_target fe_e1000e_target = FE_TARGET(setup_e1000e);
