/*
 * e1000 and e1000e through the harness: no guest, no CPU. nic-drv.h plays
 * the Linux drivers' part (probe, rings); frames go around through the
 * MAC loopback (RCTL.LBM), which exercises both rings, the offload engine
 * and the interrupts without a backend. The plugin comes from
 * $E1000_PLUGIN (meson sets it) or the first argument.
 */
#include <glib.h>
#include <string.h>
#include <tessera/harness.h>

#include "tests/nic-drv.h"

static const char *plugin_path;

static void up(nd *n, const char *type)
{
    nd_up(n, plugin_path, type, "mac=52:54:00:ab:cd:ef");
}

/* With a harness backend: netdev n0 plays the network. */
static void up_net(nd *n, const char *type)
{
    nd_up_net(n, plugin_path, type, "mac=52:54:00:ab:cd:ef,netdev=n0");
}

/* ---- probe ---- */

static void check_eeprom(nd *n)
{
    uint16_t sum = 0, w[64];

    for (unsigned i = 0; i < 64; i++) {
        w[i] = ee_read(n, i);
        sum += w[i];
    }
    g_assert_cmphex(sum, ==, 0xbaba);
    g_assert_cmphex(w[0], ==, 0x5452);
    g_assert_cmphex(w[1], ==, 0xab00);
    g_assert_cmphex(w[2], ==, 0xefcd);
    g_assert_cmphex(w[0x0d], ==, n->e ? 0x10d3 : 0x100e);
}

static void test_probe(gconstpointer type)
{
    nd n;

    up(&n, type);
    g_assert_cmphex(tes_harness_cfg_read(n.h, n.dev, 0, 4), ==,
                    n.e ? 0x10d38086u : 0x100e8086u);
    g_assert_cmphex(tes_harness_cfg_read(n.h, n.dev, 0x0a, 2), ==, 0x0200);
    check_eeprom(&n);
    /* RA[0] holds the EEPROM's address, valid. */
    g_assert_cmphex(nd_r(&n, RAL0), ==, 0xab005452);
    g_assert_cmphex(nd_r(&n, RAH0), ==, 0x8000efcd);
    /* PHY: Marvell id, link up, autonegotiation complete. */
    g_assert_cmphex(phy_read(&n, 2), ==, 0x0141);
    g_assert_cmphex(phy_read(&n, 3), ==, n.e ? 0x0cb1 : 0x0c20);
    g_assert_cmphex(phy_read(&n, 1) & 0x24, ==, 0x24);
    /* STATUS: link up, full duplex, 1000 Mb/s. */
    g_assert_cmphex(nd_r(&n, STATUS) & 0xc3, ==, 0x83);
    /* A PHY address other than 1 answers with MDIC.ERROR. */
    g_assert_true(phy_cmd(&n, 2u << 26 | 2u << 21 | 1u << 16) & (1u << 30));
    /* The I/O window reaches the same registers. */
    tes_harness_io_write(n.h, ND_IO, STATUS, 4);
    g_assert_cmphex(tes_harness_io_read(n.h, ND_IO + 4, 4), ==, nd_r(&n, STATUS));
    tes_harness_free(n.h);
}

/* CTRL.RST brings the MAC registers back, RA[0] from the EEPROM. */
static void test_soft_reset(gconstpointer type)
{
    nd n;

    up(&n, type);
    nd_w(&n, RAL0, 0x12345678);
    nd_w(&n, IMS, I_RXT0);
    nd_w(&n, CTRL, nd_r(&n, CTRL) | (1u << 26));
    g_assert_cmphex(nd_r(&n, CTRL) & (1u << 26), ==, 0);
    g_assert_cmphex(nd_r(&n, RAL0), ==, 0xab005452);
    g_assert_cmphex(nd_r(&n, IMS), ==, 0);
    g_assert_cmphex(phy_read(&n, 3), ==, n.e ? 0x0cb1 : 0x0c20);
    tes_harness_free(n.h);
}

/* Statistics clear on read; the 64-bit octet pair when its high half is. */
static void test_stats_clear_on_read(gconstpointer type)
{
    nd n;
    uint8_t f[100];
    uint8_t *d;
    uint32_t len;

    up(&n, type);
    nd_rings(&n, RCTL_LBM_MAC | RCTL_SECRC);
    nd_frame(f, sizeof(f), 1);
    nd_send(&n, f, sizeof(f));
    g_assert_cmpuint(nd_rx(&n, &d, &len), !=, 0);
    g_assert_cmpuint(nd_r(&n, GPTC), ==, 1);
    g_assert_cmpuint(nd_r(&n, GPTC), ==, 0);
    g_assert_cmpuint(nd_r(&n, GPRC), ==, 1);
    g_assert_cmpuint(nd_r(&n, GOTCL), ==, 104);
    g_assert_cmpuint(nd_r(&n, GOTCH), ==, 0);
    g_assert_cmpuint(nd_r(&n, GOTCL), ==, 0);
    tes_harness_free(n.h);
}

/* ---- frames around the loopback ---- */

/* e1000: a frame sent through the TX ring lands in the RX ring with DD,
 * EOP and its length (with the FCS, which Linux e1000 subtracts), TXDW
 * and RXT0 raise INTA#, reading ICR lowers it. */
static void test_loopback_intx(void)
{
    nd n;
    uint8_t f[200];
    uint8_t *d;
    uint32_t len, st;

    up(&n, "e1000");
    nd_rings(&n, RCTL_LBM_MAC);
    nd_w(&n, IMS, I_RXT0 | I_TXDW | I_LSC | I_RXDMT0);
    g_assert_cmpint(tes_harness_intx_level(n.h, n.dev), ==, 0);
    nd_frame(f, sizeof(f), 3);
    nd_send(&n, f, sizeof(f));
    g_assert_cmpuint(nd_r(&n, TDH), ==, 1);
    g_assert_cmphex(n.ram[ND_TXR + 12] & 1, ==, 1); /* DD written back */
    st = nd_rx(&n, &d, &len);
    g_assert_cmphex(st & 0x03, ==, 0x03);
    g_assert_cmpuint(len, ==, sizeof(f) + 4);
    g_assert_cmpmem(d, sizeof(f), f, sizeof(f));
    g_assert_cmpint(tes_harness_intx_level(n.h, n.dev), ==, 1);
    g_assert_cmphex(nd_r(&n, ICR) & (I_RXT0 | I_TXDW), ==, I_RXT0 | I_TXDW);
    g_assert_cmpint(tes_harness_intx_level(n.h, n.dev), ==, 0);
    g_assert_cmphex(nd_r(&n, ICR), ==, 0);
    tes_harness_free(n.h);
}

/* e1000e with MSI-X routed as Linux routes it (RX 0, TX 1, other 2):
 * extended descriptors, one message per vector, EIAC clears the causes
 * and masks them until the driver writes IMS again. */
static void msix_setup(nd *n)
{
    g_assert_true(tes_harness_msi_enable(n->h, n->dev));
    nd_w(n, RFCTL, 1u << 15); /* extended receive descriptors */
    nd_w(n, IVAR, 1u << 31 | (8 | 2) << 16 | (8 | 1) << 8 | (8 | 0));
    nd_w(n, CTRL_EXT, nd_r(n, CTRL_EXT) | (1u << 31)); /* PBA_CLR */
    nd_w(n, EIAC, I_RXQ0 | I_TXQ0);
    nd_w(n, IMS, I_RXQ0 | I_TXQ0 | I_OTHER | I_LSC);
}

static unsigned msi_vectors(nd *n, unsigned *mask)
{
    uint64_t addr;
    uint32_t data;
    unsigned count = 0;

    *mask = 0;
    while (tes_harness_msi_pop(n->h, &addr, &data)) {
        g_assert_cmphex(addr, ==, TES_HARNESS_MSI_BASE + 4 * data);
        *mask |= 1u << data;
        count++;
    }
    return count;
}

static void test_msix(void)
{
    nd n;
    uint8_t f[300];
    uint8_t *d;
    uint32_t len, st;
    unsigned mask;

    up(&n, "e1000e");
    nd_rings(&n, RCTL_LBM_MAC | RCTL_SECRC);
    msix_setup(&n);
    nd_frame(f, sizeof(f), 5);
    nd_send(&n, f, sizeof(f));
    st = nd_rx(&n, &d, &len);
    g_assert_cmphex(st & 0x03, ==, 0x03);
    g_assert_cmpuint(len, ==, sizeof(f)); /* SECRC: no FCS */
    g_assert_cmpmem(d, len, f, sizeof(f));
    g_assert_cmpuint(msi_vectors(&n, &mask), ==, 2);
    g_assert_cmphex(mask, ==, 0x3);
    g_assert_cmpint(tes_harness_intx_level(n.h, n.dev), ==, 0);
    /* Auto-cleared and masked: a second frame sends nothing... */
    g_assert_cmphex(nd_r(&n, IMS) & (I_RXQ0 | I_TXQ0), ==, 0);
    nd_send(&n, f, sizeof(f));
    g_assert_cmpuint(nd_rx(&n, &d, &len), !=, 0);
    g_assert_cmpuint(msi_vectors(&n, &mask), ==, 0);
    /* ...until the driver unmasks RX after NAPI. */
    nd_w(&n, IMS, I_RXQ0);
    g_assert_cmpuint(msi_vectors(&n, &mask), ==, 1);
    g_assert_cmphex(mask, ==, 0x1);
    /* Link change: the "other" vector, ICR shows LSC and OTHER. */
    nd_w(&n, ICS, I_LSC);
    g_assert_cmpuint(msi_vectors(&n, &mask), ==, 1);
    g_assert_cmphex(mask, ==, 0x4);
    g_assert_cmphex(nd_r(&n, ICR) & (I_LSC | I_OTHER), ==, I_LSC | I_OTHER);
    g_assert_cmphex(nd_r(&n, ICR) & I_LSC, ==, 0);
    tes_harness_free(n.h);
}

/* e1000e without MSI-X: ICR.INT_ASSERTED with an unmasked cause. */
static void test_e1000e_intx_asserted(void)
{
    nd n;

    up(&n, "e1000e");
    nd_w(&n, IMS, I_LSC);
    nd_w(&n, ICS, I_LSC);
    g_assert_cmpint(tes_harness_intx_level(n.h, n.dev), ==, 1);
    g_assert_cmphex(nd_r(&n, ICR), ==, I_ASSERTED | I_LSC);
    g_assert_cmpint(tes_harness_intx_level(n.h, n.dev), ==, 0);
    nd_w(&n, ICS, I_RXO); /* masked: no assertion */
    g_assert_cmphex(nd_r(&n, ICR), ==, I_RXO);
    tes_harness_free(n.h);
}

/* ---- offloads ---- */

static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    }
    if (n & 1) {
        sum += (uint32_t)p[n - 1] << 8;
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)sum;
}

/* Ethernet + IPv4 + TCP header (54 bytes) and payload; TCP checksum
 * field holds the pseudo-header sum without the length, as Linux leaves
 * it for TSO (with the length for plain checksum offload). */
static size_t tcp_frame(uint8_t *f, size_t payload, bool with_len)
{
    size_t len = 54 + payload;
    uint32_t ph;

    memset(f, 0, 54);
    memcpy(f, "\x52\x54\x00\xab\xcd\xef\x52\x54\x00\x12\x34\x56\x08\x00", 14);
    f[14] = 0x45;
    f[16] = (uint8_t)((len - 14) >> 8);
    f[17] = (uint8_t)(len - 14);
    f[18] = 0x12; /* id 0x1234 */
    f[19] = 0x34;
    f[22] = 64;
    f[23] = 6;
    memcpy(f + 26, "\x0a\x00\x02\x0f\x0a\x00\x02\x02", 8);
    f[34] = 0x30; f[35] = 0x39; f[36] = 0x00; f[37] = 0x50; /* ports */
    f[38] = 0x01; f[39] = 0x02; f[40] = 0x03; f[41] = 0x04; /* seq */
    f[46] = 0x50;
    f[47] = 0x19; /* ACK PSH FIN */
    for (size_t i = 54; i < len; i++) {
        f[i] = (uint8_t)(i * 13);
    }
    ph = csum(f + 26, 8, 6 + (with_len ? (uint32_t)(len - 34) : 0));
    f[50] = (uint8_t)(ph >> 8);
    f[51] = (uint8_t)ph;
    return len;
}

static bool tcp_ok(const uint8_t *f, size_t len)
{
    uint32_t ph = 6 + (uint32_t)(len - 34);

    return csum(f + 14, 20, 0) == 0xffff &&
           csum(f + 34, len - 34, csum(f + 26, 8, ph)) == 0xffff;
}

/* Context descriptor: IP at 14 (sum at 24), TCP at 34 (sum at 50). */
static void ctx_desc(nd *n, uint32_t tucmd, uint32_t paylen, uint8_t hdr, uint16_t mss)
{
    uint8_t *d = n->ram + ND_TXR + 16 * n->tdt;

    d[0] = 14; d[1] = 24; d[2] = 33; d[3] = 0;
    d[4] = 34; d[5] = 50; d[6] = 0; d[7] = 0;
    nd_st32(d + 8, CMD_DEXT | tucmd | paylen);
    d[12] = 0;
    d[13] = hdr;
    d[14] = (uint8_t)mss;
    d[15] = (uint8_t)(mss >> 8);
    n->tdt = (n->tdt + 1) % ND_RING;
}

/* Checksum offload (TXSM, IXSM) fills both sums; the frame is split over
 * two data descriptors. */
static void test_tx_checksum(gconstpointer type)
{
    nd n;
    uint8_t f[600], *d;
    size_t len = tcp_frame(f, 500, true);
    uint32_t rlen;
    uint64_t a;

    up(&n, type);
    nd_rings(&n, RCTL_LBM_MAC | RCTL_SECRC);
    ctx_desc(&n, 3u << 24 /* TCP, IPv4 */, 0, 0, 0);
    a = nd_tx_buf(&n, f, len);
    nd_tx_desc(&n, a, 40 | CMD_DEXT | DTYP_D, 3u << 8);
    nd_tx_desc(&n, a + 40, (uint32_t)(len - 40) | CMD_DEXT | DTYP_D | CMD_EOP | CMD_RS,
               3u << 8);
    nd_w(&n, TDT, n.tdt);
    g_assert_cmpuint(nd_rx(&n, &d, &rlen), !=, 0);
    g_assert_cmpuint(rlen, ==, len);
    g_assert_true(tcp_ok(d, rlen));
    g_assert_cmpmem(d + 54, 500, f + 54, 500);
    tes_harness_free(n.h);
}

/* TSO: 1000 bytes at MSS 400 leave as 400 + 400 + 200, each a valid
 * TCP/IPv4 packet with its own length, id, sequence number and flags. */
static void test_tso(gconstpointer type)
{
    nd n;
    uint8_t f[1100], *d;
    size_t len = tcp_frame(f, 1000, false);
    uint32_t rlen;
    static const uint32_t seg[] = {400, 400, 200};

    up(&n, type);
    nd_rings(&n, RCTL_LBM_MAC | RCTL_SECRC);
    ctx_desc(&n, 7u << 24 /* TCP, IPv4, TSE */, 1000, 54, 400);
    nd_tx_desc(&n, nd_tx_buf(&n, f, len),
               (uint32_t)len | CMD_DEXT | DTYP_D | CMD_TSE | CMD_EOP | CMD_RS, 3u << 8);
    nd_w(&n, TDT, n.tdt);
    for (int i = 0; i < 3; i++) {
        uint32_t seq;
        g_assert_cmpuint(nd_rx(&n, &d, &rlen), !=, 0);
        g_assert_cmpuint(rlen, ==, 54 + seg[i]);
        g_assert_cmpuint((uint32_t)(d[16] << 8 | d[17]), ==, 40 + seg[i]);
        g_assert_cmpuint((uint32_t)(d[18] << 8 | d[19]), ==, 0x1234u + i);
        seq = (uint32_t)d[38] << 24 | d[39] << 16 | d[40] << 8 | d[41];
        g_assert_cmphex(seq, ==, 0x01020304u + 400 * i);
        g_assert_cmphex(d[47], ==, i < 2 ? 0x10 : 0x19);
        g_assert_true(tcp_ok(d, rlen));
        g_assert_cmpmem(d + 54, seg[i], f + 54 + 400 * i, seg[i]);
    }
    g_assert_cmpuint(nd_rx(&n, &d, &rlen), ==, 0);
    tes_harness_free(n.h);
}

/* ---- through the backend ---- */

/* A frame sent through the TX ring reaches the backend as it was. */
static void test_backend_tx(gconstpointer type)
{
    nd n;
    uint8_t f[500], got[600];
    unsigned q;

    up_net(&n, type);
    nd_rings(&n, 0);
    nd_frame(f, sizeof(f), 11);
    nd_send(&n, f, sizeof(f));
    g_assert_cmpuint(tes_harness_net_sent_count(n.h, "n0"), ==, 1);
    g_assert_cmpint(tes_harness_net_sent(n.h, "n0", got, sizeof(got), &q, NULL), ==,
                    sizeof(f));
    g_assert_cmpmem(got, sizeof(f), f, sizeof(f));
    g_assert_cmpuint(nd_r(&n, TPT), ==, 1);
    tes_harness_free(n.h);
}

/* TSO towards the backend: segments arrive whole, each a valid packet. */
static size_t tcp_frame(uint8_t *f, size_t payload, bool with_len);
static bool tcp_ok(const uint8_t *f, size_t len);
static void ctx_desc(nd *n, uint32_t tucmd, uint32_t paylen, uint8_t hdr, uint16_t mss);

static void test_backend_tso(gconstpointer type)
{
    nd n;
    uint8_t f[3100], got[2000];
    size_t len = tcp_frame(f, 3000, false);

    up_net(&n, type);
    nd_rings(&n, 0);
    ctx_desc(&n, 7u << 24, 3000, 54, 1448);
    nd_tx_desc(&n, nd_tx_buf(&n, f, len),
               (uint32_t)len | CMD_DEXT | DTYP_D | CMD_TSE | CMD_EOP | CMD_RS, 3u << 8);
    nd_w(&n, TDT, n.tdt);
    g_assert_cmpuint(tes_harness_net_sent_count(n.h, "n0"), ==, 3);
    for (int i = 0; i < 3; i++) {
        int l = tes_harness_net_sent(n.h, "n0", got, sizeof(got), NULL, NULL);
        g_assert_cmpint(l, ==, 54 + (i < 2 ? 1448 : 104));
        g_assert_true(tcp_ok(got, (size_t)l));
    }
    tes_harness_free(n.h);
}

/* Towards a backend that takes offloads (a tap with vnet_hdr), a TSO
 * packet leaves whole with its virtio-net header: TCPv4, MSS, header
 * length, the partial checksum's place. */
static void test_backend_tso_whole(gconstpointer type)
{
    nd n;
    uint8_t f[3100], got[3200];
    size_t len = tcp_frame(f, 3000, false);
    tes_net_hdr hdr;

    nd_up_netdev(&n, plugin_path, type, "mac=52:54:00:ab:cd:ef,netdev=n0",
                 "id=n0,vnet_hdr=on");
    nd_rings(&n, 0);
    ctx_desc(&n, 7u << 24, 3000, 54, 1448);
    nd_tx_desc(&n, nd_tx_buf(&n, f, len),
               (uint32_t)len | CMD_DEXT | DTYP_D | CMD_TSE | CMD_EOP | CMD_RS, 3u << 8);
    nd_w(&n, TDT, n.tdt);
    g_assert_cmpuint(tes_harness_net_sent_count(n.h, "n0"), ==, 1);
    g_assert_cmpint(tes_harness_net_sent(n.h, "n0", got, sizeof(got), NULL, &hdr), ==, len);
    g_assert_cmpuint(hdr.gso_type, ==, TES_NET_GSO_TCPV4);
    g_assert_cmpuint(hdr.gso_size, ==, 1448);
    g_assert_cmpuint(hdr.hdr_len, ==, 54);
    g_assert_cmpuint(hdr.flags & TES_NET_HDR_F_NEEDS_CSUM, !=, 0);
    g_assert_cmpuint(hdr.csum_start, ==, 34);
    g_assert_cmpuint(hdr.csum_offset, ==, 16);
    g_assert_cmpmem(got + 54, 3000, f + 54, 3000);
    g_assert_cmpuint(nd_r(&n, GPTC), ==, 3); /* counted as the 3 segments */
    tes_harness_free(n.h);
}

/* A frame from the network lands in the RX ring: DD, EOP, its length
 * (FCS included unless SECRC), the bytes, and the interrupt: INTA# on
 * the e1000, the RX queue's MSI-X vector on the e1000e. */
static void test_backend_rx(gconstpointer type)
{
    nd n;
    uint8_t f[700], *d;
    uint32_t len, st;
    unsigned mask;

    up_net(&n, type);
    nd_rings(&n, 0);
    if (n.e) {
        msix_setup(&n);
    } else {
        nd_w(&n, IMS, I_RXT0);
    }
    nd_frame(f, sizeof(f), 12);
    g_assert_cmpint(tes_harness_net_inject(n.h, "n0", 0, NULL, f, sizeof(f)), ==, sizeof(f));
    st = nd_rx(&n, &d, &len);
    g_assert_cmphex(st & 3, ==, 3);
    g_assert_cmpuint(len, ==, sizeof(f) + 4);
    g_assert_cmpmem(d, sizeof(f), f, sizeof(f));
    if (n.e) {
        g_assert_cmpuint(msi_vectors(&n, &mask), ==, 1);
        g_assert_cmphex(mask, ==, 1);
    } else {
        g_assert_cmpint(tes_harness_intx_level(n.h, n.dev), ==, 1);
        g_assert_cmphex(nd_r(&n, ICR) & I_RXT0, ==, I_RXT0);
    }
    /* A unicast frame for someone else is filtered (taken, not stored). */
    f[0] = 0x52; f[1] = 0x54; f[2] = 0; f[3] = 1; f[4] = 2; f[5] = 3;
    g_assert_cmpint(tes_harness_net_inject(n.h, "n0", 0, NULL, f, sizeof(f)), ==, sizeof(f));
    g_assert_cmpuint(nd_rx(&n, &d, &len), ==, 0);
    /* Short frames are padded to 60 bytes. */
    g_assert_cmpint(tes_harness_net_inject(n.h, "n0", 0, NULL, "\xff\xff\xff\xff\xff\xff"
                                           "\x52\x54\x00\x12\x34\x56\x08\x06", 14), ==, 14);
    g_assert_cmpuint(nd_rx(&n, &d, &len), !=, 0);
    g_assert_cmpuint(len, ==, 64);
    tes_harness_free(n.h);
}

/* 802.1Q: CTRL.VME inserts the tag of a VLE descriptor on transmit and
 * strips it on receive (VP, the TCI in the descriptor); RCTL.VFE with
 * VFTA drops VLANs the guest did not join. */
static void test_backend_vlan(gconstpointer type)
{
    nd n;
    uint8_t f[100], t[104], got[200], *d;
    uint32_t len;

    up_net(&n, type);
    nd_rings(&n, RCTL_SECRC | (1u << 18) /* VFE */);
    nd_w(&n, CTRL, nd_r(&n, CTRL) | (1u << 30)); /* VME */
    nd_w(&n, 0x38, 0x8100);                       /* VET */
    nd_w(&n, 0x5600, 1u << 5);                    /* VFTA: VLAN 5 */
    nd_frame(f, sizeof(f), 15);
    nd_tx_desc(&n, nd_tx_buf(&n, f, sizeof(f)),
               sizeof(f) | CMD_EOP | CMD_IFCS | CMD_RS | (1u << 30), 0x0123u << 16);
    nd_w(&n, TDT, n.tdt);
    g_assert_cmpint(tes_harness_net_sent(n.h, "n0", got, sizeof(got), NULL, NULL), ==,
                    sizeof(f) + 4);
    g_assert_cmphex(got[12] << 8 | got[13], ==, 0x8100);
    g_assert_cmphex(got[14] << 8 | got[15], ==, 0x0123);
    g_assert_cmpmem(got + 16, sizeof(f) - 12, f + 12, sizeof(f) - 12);
    memcpy(t, f, 12);
    t[12] = 0x81; t[13] = 0x00; t[14] = 0x00; t[15] = 0x05;
    memcpy(t + 16, f + 12, sizeof(f) - 12);
    g_assert_cmpint(tes_harness_net_inject(n.h, "n0", 0, NULL, t, sizeof(t)), ==, sizeof(t));
    g_assert_cmphex(nd_rx(&n, &d, &len) & 0x08, ==, 0x08); /* VP */
    g_assert_cmpuint(len, ==, sizeof(f));
    g_assert_cmpmem(d, sizeof(f), f, sizeof(f));
    g_assert_cmphex(nd_ld16(n.ram + ND_RXR + 14), ==, 5);
    t[15] = 0x06; /* VLAN 6: not joined */
    g_assert_cmpint(tes_harness_net_inject(n.h, "n0", 0, NULL, t, sizeof(t)), ==, sizeof(t));
    g_assert_cmpuint(nd_rx(&n, &d, &len), ==, 0);
    tes_harness_free(n.h);
}

/* No free descriptor: the core keeps the frame; RDT moving lets it in. */
static void test_backend_rx_backpressure(gconstpointer type)
{
    nd n;
    uint8_t f[100], *d;
    uint32_t len;

    up_net(&n, type);
    nd_rings(&n, RCTL_SECRC);
    nd_w(&n, RDT, 0);
    nd_frame(f, sizeof(f), 13);
    g_assert_cmpint(tes_harness_net_inject(n.h, "n0", 0, NULL, f, sizeof(f)), ==, 0);
    g_assert_cmpuint(tes_harness_net_queued(n.h, "n0"), ==, 1);
    nd_w(&n, RDT, 4);
    tes_harness_net_poll(n.h);
    g_assert_cmpuint(tes_harness_net_queued(n.h, "n0"), ==, 0);
    g_assert_cmpuint(nd_rx(&n, &d, &len), !=, 0);
    g_assert_cmpuint(len, ==, sizeof(f));
    tes_harness_free(n.h);
}

/* set_link: STATUS.LU and the PHY follow, LSC is raised both ways. */
static void test_backend_set_link(gconstpointer type)
{
    nd n;

    up_net(&n, type);
    nd_w(&n, IMS, I_LSC);
    tes_harness_net_set_link(n.h, "n0", false);
    g_assert_cmphex(nd_r(&n, STATUS) & 2, ==, 0);
    g_assert_cmphex(phy_read(&n, 1) & 4, ==, 0);
    g_assert_cmpint(tes_harness_intx_level(n.h, n.dev), ==, 1);
    g_assert_cmphex(nd_r(&n, ICR) & I_LSC, ==, I_LSC);
    tes_harness_net_set_link(n.h, "n0", true);
    g_assert_cmphex(nd_r(&n, STATUS) & 2, ==, 2);
    g_assert_cmphex(phy_read(&n, 1) & 0x24, ==, 0x24);
    g_assert_cmphex(nd_r(&n, ICR) & I_LSC, ==, I_LSC);
    tes_harness_free(n.h);
}

/* Migration in the middle of traffic: frames kept by the core and a
 * half-assembled packet both arrive afterwards. */
static void test_migrate_traffic(gconstpointer type)
{
    nd n;
    uint8_t f[800], got[900], *d;
    uint32_t len;
    size_t bytes = 0;
    uint64_t a;

    up_net(&n, type);
    nd_rings(&n, RCTL_SECRC);
    nd_frame(f, sizeof(f), 14);
    g_assert_cmpint(tes_harness_net_inject(n.h, "n0", 0, NULL, f, sizeof(f)), ==, sizeof(f));
    a = nd_tx_buf(&n, f, sizeof(f));
    nd_tx_desc(&n, a, 300 | CMD_RS, 0);
    nd_w(&n, TDT, n.tdt);
    n.dev = tes_harness_migrate(n.h, n.dev, &bytes);
    g_assert_nonnull(n.dev);
    g_assert_cmpuint(nd_rx(&n, &d, &len), !=, 0);
    g_assert_cmpuint(len, ==, sizeof(f));
    nd_tx_desc(&n, a + 300, 500 | CMD_EOP | CMD_RS, 0);
    nd_w(&n, TDT, n.tdt);
    g_assert_cmpint(tes_harness_net_sent(n.h, "n0", got, sizeof(got), NULL, NULL), ==,
                    sizeof(f));
    g_assert_cmpmem(got, sizeof(f), f, sizeof(f));
    g_assert_cmpint(tes_harness_net_inject(n.h, "n0", 0, NULL, f, sizeof(f)), ==, sizeof(f));
    g_assert_cmpuint(nd_rx(&n, &d, &len), !=, 0);
    tes_harness_free(n.h);
}

/* ---- guest mistakes ---- */

static void expect_log(nd *n, const char *what)
{
    const char *log = tes_harness_log_text(n->h);

    if (!strstr(log, what)) {
        g_error("expected '%s' in the log, got: %s", what, log);
    }
    tes_harness_log_clear(n->h);
}

/* A ring outside RAM: logged, TDH stays, nothing crashes; a sane ring
 * afterwards works. */
static void test_bad_tx_ring(gconstpointer type)
{
    nd n;
    uint8_t f[64], *d;
    uint32_t len;

    up(&n, type);
    nd_rings(&n, RCTL_LBM_MAC);
    nd_w(&n, TDBAL, 0xf0000000);
    nd_w(&n, TDBAH, 0x7);
    nd_w(&n, TDT, 3);
    g_assert_cmpuint(nd_r(&n, TDH), ==, 0);
    expect_log(&n, "descriptor outside RAM");
    /* Tail beyond the ring. */
    nd_w(&n, TDBAL, (uint32_t)ND_TXR);
    nd_w(&n, TDBAH, 0);
    nd_w(&n, TDT, 200);
    g_assert_cmpuint(nd_r(&n, TDH), ==, 0);
    expect_log(&n, "beyond the ring");
    nd_w(&n, TDT, 0);
    nd_frame(f, sizeof(f), 9);
    nd_send(&n, f, sizeof(f));
    g_assert_cmpuint(nd_rx(&n, &d, &len), !=, 0);
    tes_harness_free(n.h);
}

/* A buffer outside RAM and a zero-length buffer; a whole ring without EOP
 * (a descriptor "loop" that never ends a packet) is consumed once; a
 * packet longer than 64 KiB is dropped. */
static void test_bad_tx_buffers(gconstpointer type)
{
    nd n;
    uint8_t f[64], *d;
    uint32_t len;

    up(&n, type);
    nd_rings(&n, RCTL_LBM_MAC);
    nd_tx_desc(&n, 0x7f00000000ull, 64 | CMD_EOP | CMD_RS, 0);
    nd_w(&n, TDT, n.tdt);
    expect_log(&n, "buffer outside RAM");
    g_assert_cmpuint(nd_rx(&n, &d, &len), ==, 0);
    nd_tx_desc(&n, ND_TXB, 0 | CMD_EOP | CMD_RS, 0);
    nd_w(&n, TDT, n.tdt);
    g_assert_cmpuint(nd_r(&n, TDH), ==, n.tdt);
    g_assert_cmpuint(nd_rx(&n, &d, &len), ==, 0);
    expect_log(&n, "shorter than an Ethernet header");
    /* 15 descriptors of 16 KiB without EOP, then TDT one behind TDH. */
    for (int i = 0; i < ND_RING - 1; i++) {
        nd_tx_desc(&n, ND_TXB, 0x4000 | CMD_RS, 0);
    }
    nd_w(&n, TDT, n.tdt);
    g_assert_cmpuint(nd_r(&n, TDH), ==, n.tdt);
    /* The 64 KiB + EOP ends it: dropped. */
    nd_tx_desc(&n, ND_TXB, 0x4000 | CMD_EOP | CMD_RS, 0);
    nd_w(&n, TDT, n.tdt);
    expect_log(&n, "longer than 64 KiB");
    g_assert_cmpuint(nd_rx(&n, &d, &len), ==, 0);
    /* The next frame is whole. */
    nd_frame(f, sizeof(f), 2);
    nd_send(&n, f, sizeof(f));
    g_assert_cmpuint(nd_rx(&n, &d, &len), !=, 0);
    g_assert_cmpmem(d, sizeof(f), f, sizeof(f));
    tes_harness_free(n.h);
}

/* TSO with MSS 0, and a descriptor ring inside the device's own BAR. */
static void test_bad_tso_and_self_dma(gconstpointer type)
{
    nd n;
    uint8_t f[200], *d;
    uint32_t len;

    up(&n, type);
    nd_rings(&n, RCTL_LBM_MAC | RCTL_SECRC);
    nd_frame(f, sizeof(f), 6);
    ctx_desc(&n, 7u << 24, 100, 54, 0);
    nd_tx_desc(&n, nd_tx_buf(&n, f, sizeof(f)),
               sizeof(f) | CMD_DEXT | DTYP_D | CMD_TSE | CMD_EOP | CMD_RS, 0);
    nd_w(&n, TDT, n.tdt);
    expect_log(&n, "TSO data without a valid TSO context");
    g_assert_cmpuint(nd_rx(&n, &d, &len), ==, 0);
    /* The rings point at our own registers: DMA reaches MMIO, no hang. */
    nd_w(&n, TDBAL, (uint32_t)ND_BAR0 + 0x3800);
    nd_w(&n, RDBAL, (uint32_t)ND_BAR0 + 0x2800);
    nd_w(&n, TDH, 0);
    nd_w(&n, TDT, 5);
    nd_w(&n, RDBAL, (uint32_t)ND_RXR);
    nd_w(&n, TDBAL, (uint32_t)ND_TXR);
    tes_harness_free(n.h);
}

/* MSI-X messages aimed at the NIC's own ICS register: each message sets
 * more causes, which send more messages; it ends, nothing hangs. */
static void test_bad_msix_to_own_ics(void)
{
    nd n;
    unsigned mask;

    up(&n, "e1000e");
    msix_setup(&n);
    nd_w(&n, EIAC, 0); /* no auto-clear: causes stay sent */
    for (int v = 0; v < 3; v++) {
        tes_harness_write(n.h, ND_BAR3 + 16 * v, (uint32_t)ND_BAR0 + ICS, 4);
        tes_harness_write(n.h, ND_BAR3 + 16 * v + 4, 0, 4);
        tes_harness_write(n.h, ND_BAR3 + 16 * v + 8, I_RXQ0 | I_TXQ0 | I_OTHER | I_LSC, 4);
    }
    nd_w(&n, ICS, I_RXQ0);
    g_assert_cmphex(nd_r(&n, ICR) & (I_RXQ0 | I_TXQ0), ==, I_RXQ0 | I_TXQ0);
    g_assert_cmpuint(msi_vectors(&n, &mask), ==, 0); /* none reached the window */
    tes_harness_free(n.h);
}

/* Receive with no free descriptor: RXO, the frame is not taken; an RX
 * ring outside RAM: logged. */
static void test_bad_rx(gconstpointer type)
{
    nd n;
    uint8_t f[64], *d;
    uint32_t len;

    up(&n, type);
    nd_rings(&n, RCTL_LBM_MAC);
    nd_w(&n, IMS, I_RXO);
    nd_w(&n, RDT, 0); /* no buffers */
    nd_frame(f, sizeof(f), 4);
    nd_send(&n, f, sizeof(f));
    g_assert_cmphex(nd_r(&n, ICR) & I_RXO, ==, I_RXO);
    g_assert_cmpuint(nd_rx(&n, &d, &len), ==, 0);
    nd_w(&n, RDBAL, 0xfff00000);
    nd_w(&n, RDBAH, 0x3);
    nd_w(&n, RDT, 5);
    nd_send(&n, f, sizeof(f));
    expect_log(&n, "rx: descriptor outside RAM");
    tes_harness_free(n.h);
}

/* A guest gone wild: random register writes (any offset, any size), ring
 * registers at random places in and out of RAM, garbage descriptors,
 * frames of every length from the network, link flaps, migrations. The
 * device must neither crash nor hang; each step is bounded. Seeded, so a
 * failure replays (TESSERA_NIC_SEED). */
static uint32_t rnd(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return (uint32_t)*x;
}

static void random_step(nd *n, uint64_t *x, uint8_t *frame)
{
    static const uint32_t hot[] = {CTRL, ICR, ICS, IMS, IMC, EIAC, IAM, IVAR, RCTL, TCTL,
                                   RDBAL, RDBAH, RDLEN, RDH, RDT, TDBAL, TDBAH, TDLEN,
                                   TDH, TDT, EECD, EERD, MDIC, CTRL_EXT, RFCTL};
    uint32_t r = rnd(x), v = rnd(x);
    unsigned sizes[] = {1, 2, 4};

    switch (r % 8) {
    case 0: case 1: /* a hot register, often with plausible values */
        if (hot[v % 25] == CTRL && (v & (1u << 26))) {
            v &= ~(1u << 26) | (rnd(x) & 1u << 26);
        }
        nd_w(n, hot[v % 25], (r & 0x100) ? rnd(x) : rnd(x) % (ND_RING * 4));
        break;
    case 2: /* anywhere in the BAR */
        tes_harness_write(n->h, ND_BAR0 + (rnd(x) % 0x20000), v, sizes[r % 3]);
        break;
    case 3:
        (void)tes_harness_read(n->h, ND_BAR0 + (rnd(x) % 0x20000), sizes[r % 3]);
        break;
    case 4: /* garbage descriptors in the rings */
        for (int i = 0; i < 8; i++) {
            nd_st32(n->ram + ND_TXR + 4 * (rnd(x) % (ND_RING * 4)), rnd(x));
            nd_st32(n->ram + ND_RXR + 4 * (rnd(x) % (ND_RING * 4)), rnd(x));
        }
        nd_w(n, TDT, rnd(x) % ND_RING);
        break;
    case 5: { /* a frame of any length */
        size_t len = 1 + rnd(x) % 20000;
        for (size_t i = 0; i < len; i += 4) {
            nd_st32(frame + i, rnd(x));
        }
        if (r & 0x200) {
            memset(frame, 0xff, 6); /* broadcast: passes the filter */
        }
        tes_harness_net_inject(n->h, "n0", 0, NULL, frame, len);
        tes_harness_net_poll(n->h);
        break;
    }
    case 6:
        tes_harness_io_write(n->h, ND_IO + (r & 4), rnd(x) % 0x30000, 4);
        (void)tes_harness_io_read(n->h, ND_IO + 4, 4);
        break;
    default:
        tes_harness_net_set_link(n->h, "n0", r & 1);
        break;
    }
}

static void test_random_guest(gconstpointer type)
{
    const char *seed_env = g_getenv("TESSERA_NIC_SEED");
    uint64_t x = seed_env ? g_ascii_strtoull(seed_env, NULL, 0) : 0x9e3779b97f4a7c15ull;
    uint8_t *frame = g_malloc(20004);
    uint8_t f[64];
    nd n;

    up_net(&n, type);
    tes_harness_log_capture(n.h, 0); /* thousands of guest errors: keep none */
    if (n.e) {
        msix_setup(&n);
    }
    nd_rings(&n, 0);
    for (int i = 0; i < 6000; i++) {
        random_step(&n, &x, frame);
        if (i % 1500 == 1499) {
            size_t bytes;
            n.dev = tes_harness_migrate(n.h, n.dev, &bytes);
            g_assert_nonnull(n.dev);
        }
    }
    /* Still a working NIC after a reset by the driver. */
    nd_w(&n, CTRL, 1u << 26);
    tes_harness_net_set_link(n.h, "n0", true);
    nd_rings(&n, RCTL_LBM_MAC);
    while (tes_harness_net_sent(n.h, "n0", frame, 20004, NULL, NULL) >= 0) {
    }
    nd_frame(f, sizeof(f), 1);
    nd_send(&n, f, sizeof(f));
    g_assert_cmpuint(nd_r(&n, TDH), ==, 1);
    g_free(frame);
    tes_harness_free(n.h);
}

/* ---- migration ---- */

/* A TSO context descriptor shrinking MSS in the middle of a packet leaves
 * more bytes buffered than header + MSS: the next data descriptor drops
 * the packet (tso_append), and the state must still migrate (a guest
 * never makes its device unmigratable). It was refused on load. */
static void test_migrate_tso_context_shrunk_mid_packet(gconstpointer type)
{
    nd n;
    uint8_t f[600];
    size_t bytes = 0;
    uint64_t a;
    /* ipcss 14, ipcso 24, ipcse 0; tucss 34, tucso 50: IPv4/TCP. */
    uint64_t setup = 14 | 24 << 8 | (uint64_t)(34 | 50 << 8) << 32;
    uint32_t tucmd = CMD_DEXT | CMD_TSE | 3u << 24; /* TCP, IPv4 */

    up(&n, type);
    nd_rings(&n, 0);
    nd_frame(f, sizeof(f), 9);
    nd_tx_desc(&n, setup, 200000 | tucmd, 54u << 8 | 1000u << 16); /* MSS 1000 */
    a = nd_tx_buf(&n, f, sizeof(f));
    nd_tx_desc(&n, a, 500 | DTYP_D | CMD_DEXT | CMD_TSE, 0); /* no EOP */
    nd_tx_desc(&n, setup, 200000 | tucmd, 54u << 8 | 100u << 16); /* MSS 100 */
    nd_w(&n, TDT, n.tdt);
    g_assert_cmpuint(nd_r(&n, TDH), ==, 3);
    n.dev = tes_harness_migrate(n.h, n.dev, &bytes);
    if (!n.dev) {
        g_error("migration refused: %s", tes_harness_error(n.h));
    }
    /* The packet goes on being dropped; the ring goes on working. */
    nd_tx_desc(&n, a, 100 | DTYP_D | CMD_DEXT | CMD_TSE | CMD_EOP | CMD_RS, 0);
    nd_w(&n, TDT, n.tdt);
    g_assert_cmpuint(nd_r(&n, TDH), ==, 4);
    tes_harness_free(n.h);
}

/* Half a packet (no EOP yet) travels; the rest after migration completes
 * it, and the pending interrupt state survives. */
static void test_migrate(gconstpointer type)
{
    nd n;
    uint8_t f[1000], *d;
    uint32_t len;
    size_t bytes = 0;
    uint64_t a;

    up(&n, type);
    nd_rings(&n, RCTL_LBM_MAC | RCTL_SECRC);
    nd_w(&n, IMS, I_LSC);
    nd_frame(f, sizeof(f), 7);
    a = nd_tx_buf(&n, f, sizeof(f));
    nd_tx_desc(&n, a, 600 | CMD_RS, 0);
    nd_w(&n, TDT, n.tdt);
    nd_w(&n, ICS, I_RXO); /* a masked cause pending */
    n.dev = tes_harness_migrate(n.h, n.dev, &bytes);
    g_assert_nonnull(n.dev);
    g_assert_cmpuint(bytes, >, 600);
    g_assert_cmpuint(nd_r(&n, TDH), ==, 1);
    g_assert_cmpuint(nd_r(&n, RDLEN), ==, ND_RING * 16);
    nd_tx_desc(&n, a + 600, 400 | CMD_EOP | CMD_RS, 0);
    nd_w(&n, TDT, n.tdt);
    g_assert_cmpuint(nd_rx(&n, &d, &len), !=, 0);
    g_assert_cmpuint(len, ==, sizeof(f));
    g_assert_cmpmem(d, len, f, sizeof(f));
    g_assert_cmphex(nd_r(&n, ICR) & I_RXO, ==, I_RXO);
    g_assert_cmphex(ee_read(&n, 1), ==, 0xab00);
    tes_harness_free(n.h);
}

int main(int argc, char **argv)
{
    static const char *types[] = {"e1000", "e1000e"};

    g_test_init(&argc, &argv, NULL);
    plugin_path = g_getenv("E1000_PLUGIN");
    if (argc > 1) {
        plugin_path = argv[1];
    }
    if (!plugin_path) {
        g_printerr("set E1000_PLUGIN or pass the plugin path\n");
        return 1;
    }
    /* Test paths live until g_test_run() returns (LeakSanitizer). */
    GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
    for (int i = 0; i < 2; i++) {
        const char *t = types[i];
#define ADD(name, fn)                                                          \
    do {                                                                       \
        char *path_ = g_strdup_printf("/%s/" name, t);                         \
        g_ptr_array_add(paths, path_);                                         \
        g_test_add_data_func(path_, t, fn);                                    \
    } while (0)
        ADD("probe/eeprom-mac-checksum-phy-link", test_probe);
        ADD("ctrl-rst/restores-mac-registers", test_soft_reset);
        ADD("stats/clear-on-read", test_stats_clear_on_read);
        ADD("tx/checksum-offload-fills-ip-and-tcp-sums", test_tx_checksum);
        ADD("tx/tso-cuts-segments-with-headers-fixed", test_tso);
        ADD("bad/tx-ring-outside-ram-or-tail-beyond", test_bad_tx_ring);
        ADD("bad/tx-buffers-zero-long-and-no-eop", test_bad_tx_buffers);
        ADD("bad/tso-mss-zero-and-ring-in-own-bar", test_bad_tso_and_self_dma);
        ADD("bad/rx-no-buffers-and-ring-outside-ram", test_bad_rx);
        ADD("migrate/half-sent-packet-completes", test_migrate);
        ADD("migrate/tso-context-shrunk-mid-packet", test_migrate_tso_context_shrunk_mid_packet);
        ADD("net/tx-frame-reaches-backend", test_backend_tx);
        ADD("net/tso-segments-reach-backend-whole", test_backend_tso);
        ADD("net/tso-packet-to-offloading-backend-with-header", test_backend_tso_whole);
        ADD("net/rx-frame-lands-in-ring-with-interrupt", test_backend_rx);
        ADD("net/rx-without-buffers-waits-for-rdt", test_backend_rx_backpressure);
        ADD("net/vlan-tag-inserted-stripped-and-filtered", test_backend_vlan);
        ADD("net/set-link-updates-status-and-raises-lsc", test_backend_set_link);
        ADD("migrate/mid-traffic-with-backend", test_migrate_traffic);
        ADD("bad/random-guest-neither-crashes-nor-hangs", test_random_guest);
#undef ADD
    }
    g_test_add_func("/e1000/loopback/frame-lands-in-rx-ring-intx", test_loopback_intx);
    g_test_add_func("/e1000e/msix/vectors-auto-clear-and-other", test_msix);
    g_test_add_func("/e1000e/intx/icr-int-asserted", test_e1000e_intx_asserted);
    g_test_add_func("/e1000e/bad/msix-aimed-at-own-ics-ends", test_bad_msix_to_own_ics);
    int ret = g_test_run();
    g_ptr_array_free(paths, TRUE);
    return ret;
}
