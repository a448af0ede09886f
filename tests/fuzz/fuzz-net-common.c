/*
 * Network actions of the NIC fuzz targets (fuzz-net.h is the manual).
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "fuzz-net.h"

const uint8_t fn_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
const uint8_t fn_peer[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x09};

static void put16be(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = (uint8_t)v;
}

static void put_dst(fz *f, uint8_t *p, uint8_t sel)
{
    static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};

    switch (sel & 3) {
    case 0:
        memcpy(p, fn_mac, 6);
        break;
    case 1:
        memset(p, 0xff, 6);
        break;
    case 2:
        memcpy(p, mcast, 6);
        p[5] = fz_u8(f);
        break;
    default:
        for (int i = 0; i < 6; i++) {
            p[i] = fz_u8(f);
        }
        break;
    }
}

/* TCP (data offset 5 unless the input says) or UDP at p; its length. */
static size_t put_l4(fz *f, uint8_t *p, uint8_t proto, size_t payload)
{
    if (proto == 17) {
        put16be(p + 4, (uint16_t)(8 + payload));
        return 8;
    }
    uint8_t doff = fz_u8(f);
    doff = doff & 0x80 ? doff & 0xf : 5;
    p[12] = doff << 4;
    p[13] = fz_u8(f); /* flags: CWR, FIN, PSH... */
    return 20;
}

/* IPv4 or IPv6 (kind 0/1) with TCP or UDP at p; bytes of headers. */
static size_t put_l3(fz *f, uint8_t *p, unsigned kind, size_t payload)
{
    uint8_t sel = fz_u8(f);
    uint8_t proto = sel & 1 ? 17 : sel & 2 ? fz_u8(f) : 6;
    size_t ihl, l4;

    if (kind == 1) {
        p[0] = 0x60;
        p[6] = proto;
        p[7] = 64;
        p[8] = 0xfe;
        p[24] = 0xfe;
        l4 = put_l4(f, p + 40, proto, payload);
        put16be(p + 4, sel & 4 ? fz_u16(f) : (uint16_t)(l4 + payload));
        return 40 + l4;
    }
    ihl = sel & 8 ? fz_u8(f) & 0xf : 5;
    p[0] = 0x40 | (uint8_t)ihl;
    ihl = ihl < 5 ? 20 : ihl * 4;
    p[8] = 64;
    p[9] = proto;
    memcpy(p + 12, "\x0a\x00\x02\x0f\x0a\x00\x02\x02", 8);
    if (sel & 0x10) {
        put16be(p + 6, fz_u16(f)); /* fragment offset and flags */
    }
    l4 = put_l4(f, p + ihl, proto, payload);
    put16be(p + 2, sel & 4 ? fz_u16(f) : (uint16_t)(ihl + l4 + payload));
    return ihl + l4;
}

size_t fn_frame(fz *f, uint8_t *buf, size_t max)
{
    uint8_t sel = fz_u8(f), sz = fz_u8(f);
    size_t off = 12, payload = sz & 0x80 ? fz_u16(f) : (size_t)sz * 4;
    size_t len;

    memset(buf, 0, max < 128 ? max : 128);
    put_dst(f, buf, sel);
    memcpy(buf + 6, fn_peer, 6);
    if (sel & 4) {
        put16be(buf + 12, 0x8100);
        put16be(buf + 14, fz_u16(f)); /* TCI */
        off = 16;
    }
    switch (sel >> 3 & 3) {
    case 0:
    case 1:
        put16be(buf + off, sel & 8 ? 0x86dd : 0x0800);
        off += 2;
        off += put_l3(f, buf + off, sel >> 3 & 1, payload);
        break;
    case 2:
        put16be(buf + off, 0x0806);
        off += 2 + 28;
        break;
    default:
        put16be(buf + off, fz_u16(f));
        off += 2;
        break;
    }
    len = off + payload;
    len = len > max ? max : len;
    for (size_t i = off; i < len; i++) {
        buf[i] = (uint8_t)(i * 7 + sel);
    }
    return len ? len : 1;
}

void fn_hdr(fz *f, tes_net_hdr *h, const uint8_t *buf, size_t len)
{
    uint8_t sel = fz_u8(f);
    size_t l3 = len > 16 && buf[12] == 0x81 ? 18 : 14;
    bool v6 = len > l3 && (buf[l3] >> 4) == 6;
    size_t ihl = v6 ? 40 : len > l3 ? (buf[l3] & 0xf) * 4u : 20;

    memset(h, 0, sizeof(*h));
    if (sel & 0x80) {
        h->flags = fz_u8(f);
        h->gso_type = fz_u8(f);
        h->hdr_len = fz_u16(f);
        h->gso_size = fz_u16(f);
        h->csum_start = fz_u16(f);
        h->csum_offset = fz_u16(f);
        return;
    }
    h->flags = sel & 1 ? TES_NET_HDR_F_NEEDS_CSUM : sel & 2 ? TES_NET_HDR_F_DATA_VALID : 0;
    h->csum_start = (uint16_t)(l3 + ihl);
    h->csum_offset = sel & 4 ? 6 : 16; /* UDP or TCP */
    switch (sel >> 3 & 7) {
    case 1:
        h->gso_type = v6 ? TES_NET_GSO_TCPV6 : TES_NET_GSO_TCPV4;
        break;
    case 2:
        h->gso_type = (v6 ? TES_NET_GSO_TCPV6 : TES_NET_GSO_TCPV4) | TES_NET_GSO_ECN;
        break;
    case 3:
        h->gso_type = TES_NET_GSO_UDP;
        break;
    }
    if (h->gso_type) {
        h->flags |= TES_NET_HDR_F_NEEDS_CSUM;
        h->hdr_len = (uint16_t)(h->csum_start + (sel & 4 ? 8 : 20));
        h->gso_size = sel & 0x40 ? fz_u16(f) : 536 + fz_u8(f) * 4;
    }
}

static void inject(fz *f, unsigned nqueues)
{
    static uint8_t buf[FN_FRAME_MAX];
    uint8_t sel = fz_u8(f);
    size_t len = fn_frame(f, buf, sel & 0x40 ? FN_FRAME_MAX : 9216);
    tes_net_hdr h;

    if (sel & 0x80) {
        fn_hdr(f, &h, buf, len);
    }
    /* Any queue of the netdev (one past is refused by the harness). */
    tes_harness_net_inject(f->h, FN_NETDEV, sel % (nqueues + 1), sel & 0x80 ? &h : NULL, buf,
                           len);
}

void fn_drain(fz *f)
{
    static uint8_t buf[64];
    uint64_t addr;
    uint32_t data;

    /* A TSO packet is sent as up to 64 KiB / 1 byte segments: bounded. */
    for (unsigned i = 0; i < 100000 && tes_harness_net_sent(f->h, FN_NETDEV, buf, sizeof(buf),
                                                            NULL, NULL) >= 0; i++) {
    }
    for (unsigned i = 0; i < 100000 && tes_harness_msi_pop(f->h, &addr, &data); i++) {
    }
}

void fn_backend(fz *f, unsigned nqueues)
{
    uint8_t sel = fz_u8(f);

    switch (sel & 7) {
    case 0:
    case 1:
    case 2:
        inject(f, nqueues);
        break;
    case 3:
        for (unsigned i = 0, n = 2 + (sel >> 3); i < n; i++) {
            inject(f, nqueues);
        }
        break;
    case 4:
        tes_harness_net_poll(f->h);
        break;
    case 5:
        tes_harness_net_set_link(f->h, FN_NETDEV, sel & 8);
        break;
    default:
        fn_drain(f);
        break;
    }
}

const char *fn_netdev_opts(uint8_t sel, unsigned queues)
{
    static char opts[64];

    snprintf(opts, sizeof(opts), "id=%s,queues=%u,vnet_hdr=%s", FN_NETDEV, queues,
             sel & 1 ? "on" : "off");
    return opts;
}
