/*
 * tessera core: offloads done in software, for backends that cannot take
 * a virtio-net header (slirp, socket, stream, a tap without vnet_hdr).
 *
 * A NIC may hand net_send a frame with a partial checksum (Linux's
 * CHECKSUM_PARTIAL: the field at csum_start + csum_offset holds the
 * pseudo-header sum, the rest is ours to add) and/or a TCP segmentation
 * request. We finish it the way Linux's software GSO does (net/ipv4/
 * tcp_offload.c, for the facts): each segment gets the headers of the
 * original, IPv4 id + i, TCP sequence + offset, FIN and PSH on the last
 * segment only, CWR on the first only, fresh IP and TCP checksums. UFO is
 * plain IPv4 fragmentation of the UDP datagram.
 *
 * Everything is bounds-checked against the frame: a guest can put any
 * header in front of any bytes, and a bad one is refused (-EINVAL), never
 * followed outside the buffer.
 */
#include <errno.h>
#include <string.h>

#include "net-int.h"

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

static uint16_t ld16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void st16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}

static void st32(uint8_t *p, uint32_t v)
{
    st16(p, v >> 16);
    st16(p + 2, v);
}

/* RFC 1071 sum of len bytes, not folded. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2) {
        sum += ld16(p + i);
        sum = (sum & 0xffff) + (sum >> 16);
    }
    if (len & 1) {
        sum += (uint32_t)p[len - 1] << 8;
    }
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

/* ---- frame layout ---- */

typedef struct layout {
    size_t l3, l4, payload; /* offsets */
    uint16_t proto;         /* ETH_P_IP or ETH_P_IPV6 */
    uint8_t l4proto;
} layout;

static bool parse(const uint8_t *f, size_t len, layout *lo)
{
    size_t off = ETH_HLEN;

    if (len < ETH_HLEN) {
        return false;
    }
    lo->proto = ld16(f + 12);
    if (lo->proto == ETH_P_8021Q && len >= ETH_HLEN + 4) {
        lo->proto = ld16(f + 16);
        off += 4;
    }
    lo->l3 = off;
    if (lo->proto == ETH_P_IP && len >= off + 20 && (f[off] >> 4) == 4) {
        lo->l4 = off + (f[off] & 15) * 4;
        lo->l4proto = f[off + 9];
    } else if (lo->proto == ETH_P_IPV6 && len >= off + 40) {
        /* Extension headers are not followed: Linux sends GSO only for
         * plain TCP over IPv6 here. */
        lo->l4 = off + 40;
        lo->l4proto = f[off + 6];
    } else {
        return false;
    }
    /* A TCP data offset under 5 words would put the payload inside the
     * header that segmentation rewrites (fuzz-e1000e found the overflow). */
    if (lo->l4proto == IPPROTO_TCP_ && len >= lo->l4 + 20 && (f[lo->l4 + 12] >> 4) >= 5) {
        lo->payload = lo->l4 + (f[lo->l4 + 12] >> 4) * 4;
    } else if (lo->l4proto == IPPROTO_UDP_ && len >= lo->l4 + 8) {
        lo->payload = lo->l4 + 8;
    } else {
        return false;
    }
    return lo->payload <= len && lo->l4 >= lo->l3 + 20;
}

/* Pseudo-header sum for an L4 length (RFC 793 / RFC 8200 8.1). */
static uint32_t pseudo_sum(const uint8_t *f, const layout *lo, size_t l4len)
{
    uint32_t sum;

    if (lo->proto == ETH_P_IP) {
        sum = csum_add(0, f + lo->l3 + 12, 8);
    } else {
        sum = csum_add(0, f + lo->l3 + 8, 32);
    }
    sum += lo->l4proto;
    sum += (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xffff);
    return sum;
}

static void l4_checksum(uint8_t *f, const layout *lo, size_t len)
{
    size_t field = lo->l4 + (lo->l4proto == IPPROTO_TCP_ ? 16 : 6);
    uint16_t c;

    st16(f + field, 0);
    c = csum_fold(csum_add(pseudo_sum(f, lo, len - lo->l4), f + lo->l4, len - lo->l4));
    if (lo->l4proto == IPPROTO_UDP_ && c == 0) {
        c = 0xffff; /* RFC 768: zero means "no checksum" */
    }
    st16(f + field, c);
}

static void ip_header_fix(uint8_t *f, const layout *lo, size_t len)
{
    if (lo->proto == ETH_P_IP) {
        st16(f + lo->l3 + 2, (uint16_t)(len - lo->l3));
        st16(f + lo->l3 + 10, 0);
        st16(f + lo->l3 + 10, csum_fold(csum_add(0, f + lo->l3, lo->l4 - lo->l3)));
    } else {
        st16(f + lo->l3 + 4, (uint16_t)(len - lo->l3 - 40));
    }
}

/* ---- the offloads ---- */

static int partial_csum(uint8_t *f, size_t len, const tes_net_hdr *hdr)
{
    size_t start = hdr->csum_start, field = start + hdr->csum_offset;

    if (start >= len || field + 2 > len) {
        return -EINVAL;
    }
    /* The field holds the pseudo-header sum: fold it in with the rest. */
    st16(f + field, csum_fold(csum_add(0, f + start, len - start)));
    return 0;
}

static int tso(uint8_t *f, size_t len, const layout *lo, unsigned mss, net_emit_fn emit,
               void *ctx)
{
    size_t hlen = lo->payload, plen = len - hlen;
    uint8_t *seg = g_malloc(hlen + mss);
    uint32_t seq = ld32(f + lo->l4 + 4);
    uint16_t id = lo->proto == ETH_P_IP ? ld16(f + lo->l3 + 4) : 0;
    uint8_t flags = f[lo->l4 + 13];

    for (size_t off = 0, i = 0; off < plen || (plen == 0 && i == 0); off += mss, i++) {
        size_t n = MIN((size_t)mss, plen - off);
        bool last = off + n >= plen;

        memcpy(seg, f, hlen);
        memcpy(seg + hlen, f + hlen + off, n);
        st32(seg + lo->l4 + 4, seq + (uint32_t)off);
        seg[lo->l4 + 13] = flags & ~((last ? 0 : TCP_FIN | TCP_PSH) | (i ? TCP_CWR : 0));
        if (lo->proto == ETH_P_IP) {
            st16(seg + lo->l3 + 4, (uint16_t)(id + i));
        }
        ip_header_fix(seg, lo, hlen + n);
        l4_checksum(seg, lo, hlen + n);
        emit(ctx, seg, hlen + n);
        if (plen == 0) {
            break;
        }
    }
    g_free(seg);
    return 0;
}

/* UFO: one UDP datagram (checksummed whole) as IPv4 fragments. */
static int ufo(uint8_t *f, size_t len, const layout *lo, unsigned size, net_emit_fn emit,
               void *ctx)
{
    size_t data = len - lo->l4;
    size_t chunk = MAX((size_t)8, (size_t)size & ~(size_t)7);
    uint8_t *frag;

    if (lo->proto != ETH_P_IP) {
        return -EINVAL; /* IPv6 UFO needs a fragment header: not offered */
    }
    st16(f + lo->l4 + 4, (uint16_t)data); /* UDP length */
    l4_checksum(f, lo, len);
    frag = g_malloc(lo->l4 + chunk);
    for (size_t off = 0; off < data; off += chunk) {
        size_t n = MIN(chunk, data - off);
        bool more = off + n < data;

        memcpy(frag, f, lo->l4);
        memcpy(frag + lo->l4, f + lo->l4 + off, n);
        st16(frag + lo->l3 + 6, (uint16_t)((more ? 0x2000 : 0) | (off / 8)));
        ip_header_fix(frag, lo, lo->l4 + n);
        emit(ctx, frag, lo->l4 + n);
    }
    g_free(frag);
    return 0;
}

int net_offload_finish(uint8_t *f, size_t len, const tes_net_hdr *hdr, net_emit_fn emit,
                       void *ctx)
{
    unsigned gso = hdr->gso_type & ~TES_NET_GSO_ECN;
    layout lo;

    if (gso == TES_NET_GSO_NONE) {
        if ((hdr->flags & TES_NET_HDR_F_NEEDS_CSUM) && partial_csum(f, len, hdr) < 0) {
            return -EINVAL;
        }
        emit(ctx, f, len);
        return 0;
    }
    if (!parse(f, len, &lo) || hdr->gso_size == 0) {
        return -EINVAL;
    }
    if ((gso == TES_NET_GSO_TCPV4 && lo.proto == ETH_P_IP && lo.l4proto == IPPROTO_TCP_) ||
        (gso == TES_NET_GSO_TCPV6 && lo.proto == ETH_P_IPV6 && lo.l4proto == IPPROTO_TCP_)) {
        return tso(f, len, &lo, hdr->gso_size, emit, ctx);
    }
    if (gso == TES_NET_GSO_UDP && lo.l4proto == IPPROTO_UDP_) {
        return ufo(f, len, &lo, hdr->gso_size, emit, ctx);
    }
    return -EINVAL;
}

/* FNV-1a over the addresses and ports, then mixed: the same flow, the same
 * queue. */
uint32_t net_flow_hash(const uint8_t *f, size_t len)
{
    layout lo;
    uint32_t h = 2166136261u;
    size_t from, to;

    if (!parse(f, len, &lo)) {
        return 0;
    }
    from = lo.proto == ETH_P_IP ? lo.l3 + 12 : lo.l3 + 8;
    to = lo.l4 + 4; /* addresses, then both ports */
    for (size_t i = from; i < to && i < len; i++) {
        if (i >= (lo.proto == ETH_P_IP ? lo.l3 + 20 : lo.l3 + 40) && i < lo.l4) {
            continue; /* IPv4 options */
        }
        h = (h ^ f[i]) * 16777619u;
    }
    /* FNV-1a's low bits are weak (bit 0 is the parity of the bytes' bit 0,
     * and Linux picks even source ports for connect()): finish with
     * murmur3's fmix32 so that hash % queues spreads flows. */
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}
