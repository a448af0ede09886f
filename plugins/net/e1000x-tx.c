/*
 * e1000x transmit: the descriptor ring from TDH to TDT, legacy, context
 * and data descriptors (8254x SDM 3.3, 82574 datasheet 7.2), checksum
 * insertion and TCP/UDP segmentation done in software as the chip's
 * offload engine would.
 *
 * A TSO packet is cut as it streams in: the header (hdr_len bytes) is kept
 * pristine in tx_hdr, each time header + MSS bytes are buffered a segment
 * leaves with its IP length and ID, TCP sequence number and flags, and
 * checksums fixed, and the next segment starts from the pristine header.
 * So a 256 KiB TSO send needs no 256 KiB buffer. That is the path for
 * loopback and for UDP; a TCP TSO packet that fits 64 KiB goes to the
 * backend whole with a virtio-net header instead (tx_gso): a tap with
 * vnet_hdr takes it as it is, and for the others the core segments it
 * in one pass, as Linux's GSO does (tessera/net.h).
 *
 * Guest mistakes are logged under guest_errors and end the way the chip
 * would end them: a ring or buffer outside RAM stops the ring (the fetch
 * fails; TDH stays), a packet longer than 64 KiB or a TSO packet past its
 * context's PAYLEN is dropped, TDH or TDT beyond the ring stops
 * transmission. One TDT write walks the ring at most once.
 */
#include "e1000x.h"

void e1000x_tx_reset(e1000x *s)
{
    memset(s->ctx, 0, sizeof(s->ctx));
    s->tx_len = s->tx_sent = 0;
    s->tx_frames = 0;
    s->tx_popts = s->tx_cso = s->tx_css = 0;
    s->tx_active = s->tx_ic = s->tx_tse = s->tx_vlan = s->tx_drop = s->tx_gso = false;
    s->tx_vlan_tci = 0;
}

static bool loopback(e1000x *s)
{
    return (rd(s, R_RCTL) & RCTL_LBM_MASK) == RCTL_LBM_MAC ||
           (s->phy[0][PHY_BMCR] & BMCR_LOOPBACK);
}

static void tx_error(e1000x *s, const char *what)
{
    H->log(TES_LOG_GUEST_ERROR, "%s: tx: %s (TDH %u TDT %u TDLEN 0x%x)", H->dev_id(s->dev),
           what, rd(s, R_TDH), rd(s, R_TDT), rd(s, R_TDLEN));
}

/* ---- checksums ---- */

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += ld16be(p + i);
    }
    if (n & 1) {
        sum += p[n - 1] << 8;
    }
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)sum;
}

/* Insert the ones' complement sum of [css, cse] (cse 0: to the end) at
 * sloc, as the chip's checksum engine does; offsets past the packet are
 * ignored, as they are on the chip. */
static void put_sum(uint8_t *buf, uint32_t n, uint32_t sloc, uint32_t css, uint32_t cse)
{
    uint16_t sum;

    if (cse && cse < n) {
        n = cse + 1;
    }
    if (css >= n || sloc + 2 > n) {
        return;
    }
    sum = (uint16_t)~fold(sum16(buf + css, n - css, 0));
    st16be(buf + sloc, sum ? sum : 0xffff); /* 0 means "no checksum" in UDP */
}

/* ---- sending ---- */

static void count_tx(e1000x *s, const uint8_t *buf, uint32_t len)
{
    static const uint32_t bounds[] = {64, 127, 255, 511, 1023};
    uint32_t fl = len + 4; /* with the FCS */
    unsigned i = 0;

    while (i < 5 && fl > bounds[i]) {
        i++;
    }
    if (fl >= 64) {
        stat_inc(s, S_PTC64 + 4 * i);
    }
    if (!memcmp(buf, "\xff\xff\xff\xff\xff\xff", 6)) {
        stat_inc(s, S_BPTC);
    } else if (buf[0] & 1) {
        stat_inc(s, S_MPTC);
    }
    stat_inc(s, S_TPT);
    stat_inc(s, S_GPTC);
    stat_add64(s, S_TOTL, fl);
    stat_add64(s, S_GOTCL, fl);
}

static void tx_send(e1000x *s, uint8_t *buf, uint32_t len, const tes_net_hdr *hdr)
{
    uint8_t tag[4];
    struct iovec iov[3];
    unsigned n = 0;

    if (len < 14) {
        tx_error(s, "frame shorter than an Ethernet header dropped");
        return;
    }
    if (s->tx_vlan) { /* 802.1Q tag after the addresses (SDM 3.3.7.2) */
        st16be(tag, (uint16_t)rd(s, R_VET));
        st16be(tag + 2, s->tx_vlan_tci);
        iov[n++] = (struct iovec){buf, 12};
        iov[n++] = (struct iovec){tag, 4};
        iov[n++] = (struct iovec){buf + 12, len - 12};
    } else {
        iov[n++] = (struct iovec){buf, len};
    }
    if (hdr) {
        tes_net_hdr h = *hdr;
        if (s->tx_vlan) { /* the tag moved the headers 4 bytes on */
            h.hdr_len += 4;
            h.csum_start += 4;
        }
        e1000x_port_send(s, &h, iov, n);
    } else if (loopback(s)) {
        count_tx(s, buf, len + (s->tx_vlan ? 4 : 0));
        e1000x_receive(s, iov, n); /* MAC or PHY loopback */
    } else {
        count_tx(s, buf, len + (s->tx_vlan ? 4 : 0));
        e1000x_port_send(s, NULL, iov, n);
    }
}

/* ---- TCP segmentation ---- */

static void tso_segment(e1000x *s, bool last)
{
    tx_ctx *c = &s->ctx[1];
    uint8_t *b = s->tx_buf;
    uint32_t len = s->tx_len, css = c->ipcss, tcss = c->tucss;

    if (css + 8 <= len) {
        if (c->ipv4) {
            st16be(b + css + 2, (uint16_t)(len - css));
            st16be(b + css + 4, (uint16_t)(ld16be(b + css + 4) + s->tx_frames));
        } else if (len >= css + 40) {
            st16be(b + css + 4, (uint16_t)(len - css - 40));
        }
    }
    if (c->tcp && tcss + 14 <= len) {
        uint32_t seq = (uint32_t)ld16be(b + tcss + 4) << 16 | ld16be(b + tcss + 6);
        seq += s->tx_sent;
        st16be(b + tcss + 4, (uint16_t)(seq >> 16));
        st16be(b + tcss + 6, (uint16_t)seq);
        if (!last) {
            b[tcss + 13] &= (uint8_t)~0x09; /* PSH and FIN only on the last */
        }
    } else if (!c->tcp && tcss + 6 <= len) {
        st16be(b + tcss + 4, (uint16_t)(len - tcss));
    }
    if ((s->tx_popts & TXD_POPTS_TXSM) && c->tucso + 2u <= len && tcss < len) {
        /* The driver left the pseudo-header sum without the length. */
        st16be(b + c->tucso, fold(ld16be(b + c->tucso) + (len - tcss)));
        put_sum(b, len, c->tucso, tcss, c->tucse);
    }
    if (s->tx_popts & TXD_POPTS_IXSM) {
        put_sum(b, len, c->ipcso, css, c->ipcse);
    }
    tx_send(s, b, len, NULL);
    s->tx_sent += len - c->hdr_len;
    s->tx_frames++;
    if (last && s->tx_frames > 1) {
        stat_inc(s, S_TSCTC);
    }
}

static bool tso_check(e1000x *s)
{
    tx_ctx *c = &s->ctx[1];

    if (!c->tse || !c->mss || !c->hdr_len || c->hdr_len + c->mss > TX_BUF_MAX) {
        tx_error(s, "TSO data without a valid TSO context (MSS, header length)");
        return false;
    }
    return true;
}

/* The whole TSO packet to the backend with a virtio-net header; the
 * statistics count the segments it becomes. */
static void gso_send(e1000x *s)
{
    tx_ctx *c = &s->ctx[1];
    uint32_t pay = s->tx_len > c->hdr_len ? s->tx_len - c->hdr_len : 0;
    tes_net_hdr h = {
        .flags = (s->tx_popts & TXD_POPTS_TXSM) ? TES_NET_HDR_F_NEEDS_CSUM : 0,
        .gso_type = c->ipv4 ? TES_NET_GSO_TCPV4 : TES_NET_GSO_TCPV6,
        .hdr_len = c->hdr_len,
        .gso_size = c->mss,
        .csum_start = c->tucss,
        .csum_offset = (uint16_t)(c->tucso - c->tucss),
    };
    uint32_t segs;

    if (c->tucso < c->tucss || s->tx_len < c->hdr_len || !c->mss) {
        tx_error(s, "TSO context with the checksum before its start, no header or an MSS "
                 "of 0; dropped");
        return;
    }
    segs = pay ? (pay + c->mss - 1) / c->mss : 1;
    for (uint32_t i = 0; i < segs; i++) {
        uint32_t n = pay - i * c->mss < c->mss ? pay - i * c->mss : c->mss;
        count_tx(s, s->tx_buf, c->hdr_len + n + (s->tx_vlan ? 4 : 0));
    }
    if (segs > 1) {
        stat_inc(s, S_TSCTC);
    }
    tx_send(s, s->tx_buf, s->tx_len, &h);
}

/* Append len bytes at addr to the segment being built, cutting segments. */
static void tso_append(e1000x *s, uint64_t addr, uint32_t len)
{
    tx_ctx *c = &s->ctx[1];
    uint32_t full = c->hdr_len + c->mss;

    if (!c->mss || full > TX_BUF_MAX || s->tx_len > full) {
        /* A context descriptor changed MSS or the header mid-packet. */
        tx_error(s, "TSO context changed inside a packet; packet dropped");
        s->tx_drop = true;
        return;
    }
    while (len && !s->tx_drop) {
        uint32_t n = full - s->tx_len;
        n = n < len ? n : len;
        if (s->tx_len + n > c->hdr_len &&
            s->tx_sent + (s->tx_len + n - c->hdr_len) > c->paylen) {
            /* Bounds the work: a packet never exceeds PAYLEN (< 1 MiB). */
            tx_error(s, "TSO packet longer than its context's PAYLEN dropped");
            s->tx_drop = true;
            return;
        }
        if (H->dma_read(s->dev, addr, s->tx_buf + s->tx_len, n)) {
            tx_error(s, "buffer outside RAM; packet dropped");
            s->tx_drop = true;
            return;
        }
        if (s->tx_frames == 0 && s->tx_len < c->hdr_len && s->tx_len + n >= c->hdr_len) {
            memcpy(s->tx_hdr, s->tx_buf, c->hdr_len);
        }
        s->tx_len += n;
        addr += n;
        len -= n;
        if (s->tx_len == full) {
            tso_segment(s, false);
            memcpy(s->tx_buf, s->tx_hdr, c->hdr_len);
            s->tx_len = c->hdr_len;
        }
    }
}

static void tx_append(e1000x *s, uint64_t addr, uint32_t len)
{
    if (s->tx_drop || !len) {
        return;
    }
    if (s->tx_tse && !s->tx_gso) {
        tso_append(s, addr, len);
        return;
    }
    if (len > TX_BUF_MAX - s->tx_len) {
        tx_error(s, "packet longer than 64 KiB dropped");
        s->tx_drop = true;
        return;
    }
    if (H->dma_read(s->dev, addr, s->tx_buf + s->tx_len, len)) {
        tx_error(s, "buffer outside RAM; packet dropped");
        s->tx_drop = true;
        return;
    }
    s->tx_len += len;
}

/* EOP: checksum and send what was gathered, then forget the packet. */
static void tx_finish(e1000x *s)
{
    tx_ctx *c = &s->ctx[0];

    if (s->tx_drop) {
        /* nothing leaves */
    } else if (s->tx_gso) {
        gso_send(s);
    } else if (s->tx_tse) {
        if (s->tx_len > s->ctx[1].hdr_len || s->tx_frames == 0) {
            tso_segment(s, true);
        }
    } else {
        if (s->tx_ic) {
            put_sum(s->tx_buf, s->tx_len, s->tx_cso, s->tx_css, 0);
        }
        if (s->tx_popts & TXD_POPTS_TXSM) {
            put_sum(s->tx_buf, s->tx_len, c->tucso, c->tucss, c->tucse);
        }
        if (s->tx_popts & TXD_POPTS_IXSM) {
            put_sum(s->tx_buf, s->tx_len, c->ipcso, c->ipcss, c->ipcse);
        }
        tx_send(s, s->tx_buf, s->tx_len, NULL);
    }
    s->tx_len = s->tx_sent = 0;
    s->tx_frames = 0;
    s->tx_active = s->tx_ic = s->tx_tse = s->tx_vlan = s->tx_drop = s->tx_gso = false;
    s->tx_popts = 0;
}

/* ---- descriptors ---- */

static void read_context(e1000x *s, const uint8_t *d, uint32_t lower)
{
    tx_ctx *c = &s->ctx[(lower & TXD_CMD_TSE) ? 1 : 0];

    c->ipcss = d[0];
    c->ipcso = d[1];
    c->ipcse = (uint16_t)(d[2] | d[3] << 8);
    c->tucss = d[4];
    c->tucso = d[5];
    c->tucse = (uint16_t)(d[6] | d[7] << 8);
    c->paylen = lower & 0xfffff;
    c->hdr_len = d[13];
    c->mss = (uint16_t)(d[14] | d[15] << 8);
    c->tcp = lower & TXD_CTX_TCP;
    c->ipv4 = lower & TXD_CTX_IP;
    c->tse = lower & TXD_CMD_TSE;
}

/* The first descriptor of a packet decides its offloads. */
static void packet_start(e1000x *s, const uint8_t *d, uint32_t lower, bool data)
{
    s->tx_active = true;
    s->tx_tse = data && (lower & TXD_CMD_TSE);
    s->tx_popts = data ? d[13] : 0;
    s->tx_ic = !data && (lower & TXD_CMD_IC);
    s->tx_cso = d[10];
    s->tx_css = d[13];
    if (s->tx_tse && !tso_check(s)) {
        s->tx_drop = true;
    }
    /* TCP that fits one buffer goes whole; UDP (UFO) and loopback are cut
     * here. A later context descriptor cannot change that mid-packet. */
    s->tx_gso = s->tx_tse && !s->tx_drop && s->ctx[1].tcp && !loopback(s) &&
                (uint32_t)s->ctx[1].hdr_len + s->ctx[1].paylen <= TX_BUF_MAX;
}

static void process_desc(e1000x *s, const uint8_t *d)
{
    uint32_t lower = ld32le(d + 8);
    bool dext = lower & TXD_DEXT;
    unsigned dtyp = lower >> 20 & 0xf;

    if (dext && dtyp == 0) {
        read_context(s, d, lower);
        return;
    }
    if (dext && dtyp != 1) {
        tx_error(s, "descriptor of reserved type skipped");
        return;
    }
    if (!s->tx_active) {
        packet_start(s, d, lower, dext);
    }
    /* VLE counts on the EOP descriptor; TSO segments leave before it, so
     * there any data descriptor asking for the tag gives it. */
    if (((lower & TXD_CMD_EOP) || s->tx_tse) && (rd(s, R_CTRL) & CTRL_VME) &&
        (lower & TXD_CMD_VLE)) {
        s->tx_vlan = true;
        s->tx_vlan_tci = (uint16_t)(d[14] | d[15] << 8);
    }
    tx_append(s, ld64le(d), dext ? lower & 0xfffff : lower & 0xffff);
    if (lower & TXD_CMD_EOP) {
        tx_finish(s);
    }
}

/* Write DD back when the descriptor asks for status (RS, or the 82574's
 * IVAR "interrupt on every write-back"); returns the cause to raise. */
static uint32_t write_back(e1000x *s, uint64_t addr, uint8_t *d)
{
    uint32_t lower = ld32le(d + 8);

    if (!(lower & (TXD_CMD_RS | TXD_CMD_RPS)) &&
        !(s->kind == E1000X_82574 && (rd(s, R_IVAR) & IVAR_TX_EVERY_WB))) {
        return 0;
    }
    d[12] = (uint8_t)((d[12] | TXD_STAT_DD) & ~0x0e); /* no EC, LC, TU */
    if (H->dma_write(s->dev, addr + 12, d + 12, 1)) {
        tx_error(s, "descriptor write-back outside RAM");
    }
    return e1000x_msix(s) ? ICR_TXQ0 : ICR_TXDW;
}

void e1000x_start_xmit(e1000x *s)
{
    uint32_t size = rd(s, R_TDLEN) / DESC_LEN, causes = 0;
    uint64_t base = (uint64_t)rd(s, R_TDBAH) << 32 | rd(s, R_TDBAL);
    uint8_t d[DESC_LEN];

    if (!(rd(s, R_TCTL) & TCTL_EN) || s->in_tx || !size || rd(s, R_TDH) == rd(s, R_TDT)) {
        return;
    }
    if (rd(s, R_TDH) >= size || rd(s, R_TDT) >= size) {
        tx_error(s, "head or tail beyond the ring; transmission stopped");
        return;
    }
    s->in_tx = true; /* a descriptor or buffer in our own BAR re-enters */
    for (uint32_t n = 0; n < size && rd(s, R_TDH) != rd(s, R_TDT); n++) {
        uint64_t addr = base + (uint64_t)rd(s, R_TDH) * DESC_LEN;
        if (H->dma_read(s->dev, addr, d, DESC_LEN)) {
            tx_error(s, "descriptor outside RAM; transmission stopped");
            break;
        }
        process_desc(s, d);
        causes |= write_back(s, addr, d);
        wr(s, R_TDH, (rd(s, R_TDH) + 1) % size);
    }
    s->in_tx = false;
    if (rd(s, R_TDH) == rd(s, R_TDT)) {
        causes |= ICR_TXQE;
    }
    if (causes) {
        e1000x_set_cause(s, causes);
    }
}
