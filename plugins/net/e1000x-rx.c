/*
 * e1000x receive: filters (exact addresses RA, multicast hash MTA, VLAN
 * table VFTA, promiscuous bits of RCTL), VLAN stripping, the FCS, and the
 * descriptor ring from RDH to RDT with legacy descriptors (8254x SDM 3.2)
 * or the 82574's extended descriptors (RFCTL.EXTEN, 82574 datasheet
 * 7.1.4.2) that Linux e1000e uses.
 *
 * A frame takes as many descriptors as its length needs at the buffer size
 * of RCTL. When the ring has too few free descriptors the frame is not
 * taken (RXO and RNBC count it) and the backend holds it until RDT moves.
 * Checksums are not verified: descriptors carry IXSM ("ignore checksum
 * indication") and the guest's stack verifies, as it must for any NIC.
 * A descriptor or buffer outside RAM is logged under guest_errors and the
 * rest of that frame is dropped.
 */
#include "e1000x.h"

static void rx_error(e1000x *s, const char *what)
{
    H->log(TES_LOG_GUEST_ERROR, "%s: rx: %s (RDH %u RDT %u RDLEN 0x%x)", H->dev_id(s->dev),
           what, rd(s, R_RDH), rd(s, R_RDT), rd(s, R_RDLEN));
}

uint32_t e1000x_rx_buf_size(e1000x *s)
{
    static const uint32_t sizes[2][4] = {{2048, 1024, 512, 256}, {2048, 16384, 8192, 4096}};
    uint32_t rctl = rd(s, R_RCTL);

    if (s->kind == E1000X_82574 && (rctl >> RCTL_FLXBUF_SHIFT & 0xf)) {
        return (rctl >> RCTL_FLXBUF_SHIFT & 0xf) * 1024;
    }
    return sizes[!!(rctl & RCTL_BSEX)][rctl >> RCTL_BSIZE_SHIFT & 3];
}

static bool rx_enabled(e1000x *s)
{
    return (rd(s, R_RCTL) & RCTL_EN) && (rd(s, R_STATUS) & STATUS_LU) &&
           (H->pci_config(s->dev)[TES_PCI_COMMAND] & TES_PCI_COMMAND_MASTER);
}

/* Descriptors the hardware owns: from RDH up to (not including) RDT. */
static uint32_t rx_free(e1000x *s)
{
    uint32_t size = rd(s, R_RDLEN) / DESC_LEN, h = rd(s, R_RDH), t = rd(s, R_RDT);

    if (!size || h >= size || t >= size) {
        return 0;
    }
    return (t + size - h) % size;
}

/* A frame can come when a descriptor is free, and also when the receiver
 * is off or the link down: the chip drops frames then rather than hold
 * them (e1000x_receive drops). */
bool e1000x_can_receive(e1000x *s)
{
    return !rx_enabled(s) || rx_free(s) > 0;
}

/* ---- filters ---- */

static bool rx_vlan_ok(e1000x *s, const uint8_t *b)
{
    uint16_t vid;

    if (!(rd(s, R_RCTL) & RCTL_VFE) || ld16be(b + 12) != (uint16_t)rd(s, R_VET)) {
        return true;
    }
    vid = ld16be(b + 14) & 0xfff;
    return rd(s, R_VFTA + 4 * (vid >> 5)) >> (vid & 31) & 1;
}

static bool rx_addr_ok(e1000x *s, const uint8_t *b)
{
    static const unsigned mo_shift[4] = {4, 3, 2, 0};
    uint32_t rctl = rd(s, R_RCTL), f;

    if (!memcmp(b, "\xff\xff\xff\xff\xff\xff", 6)) {
        if (rctl & RCTL_BAM) {
            return true;
        }
    } else if ((b[0] & 1) ? (rctl & RCTL_MPE) : (rctl & RCTL_UPE)) {
        return true;
    }
    for (int i = 0; i < 16; i++) {
        uint32_t lo = rd(s, R_RA + 8 * i), hi = rd(s, R_RA + 8 * i + 4);
        if ((hi & RAH_AV) && ld32le(b) == lo && (uint32_t)(b[4] | b[5] << 8) == (hi & 0xffff)) {
            return true;
        }
    }
    /* Inexact match: 12 bits of the destination pick a bit of MTA. */
    f = ((uint32_t)(b[5] << 8 | b[4]) >> mo_shift[rctl >> RCTL_MO_SHIFT & 3]) & 0xfff;
    return rd(s, R_MTA + 4 * (f >> 5)) >> (f & 31) & 1;
}

/* ---- FCS ---- */

static uint32_t crc32_eth(const uint8_t *p, size_t n)
{
    static uint32_t table[256];
    uint32_t crc = 0xffffffff;

    if (!table[1]) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) {
                c = (c & 1) ? 0xedb88320 ^ (c >> 1) : c >> 1;
            }
            table[i] = c;
        }
    }
    while (n--) {
        crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    }
    return ~crc;
}

/* ---- descriptors ---- */

static void count_rx(e1000x *s, const uint8_t *b, uint32_t len)
{
    static const uint32_t bounds[] = {64, 127, 255, 511, 1023};
    uint32_t fl = len + 4;
    unsigned i = 0;

    while (i < 5 && fl > bounds[i]) {
        i++;
    }
    if (fl >= 64) {
        stat_inc(s, S_PRC64 + 4 * i);
    }
    if (!memcmp(b, "\xff\xff\xff\xff\xff\xff", 6)) {
        stat_inc(s, S_BPRC);
    } else if (b[0] & 1) {
        stat_inc(s, S_MPRC);
    }
    stat_inc(s, S_TPR);
    stat_inc(s, S_GPRC);
    stat_add64(s, S_TORL, fl);
    stat_add64(s, S_GORCL, fl);
}

/* Fill one descriptor's write-back fields (legacy or extended layout). */
static void desc_status(e1000x *s, uint8_t *d, uint32_t len, uint32_t status, uint16_t tci)
{
    if (s->kind == E1000X_82574 && (rd(s, R_RFCTL) & RFCTL_EXTEN)) {
        memset(d, 0, 8);            /* MRQ, RSS hash / IP id + checksum */
        st32le(d + 8, status);      /* status and errors */
        d[12] = (uint8_t)len;
        d[13] = (uint8_t)(len >> 8);
        d[14] = (uint8_t)tci;
        d[15] = (uint8_t)(tci >> 8);
        return;
    }
    d[8] = (uint8_t)len;
    d[9] = (uint8_t)(len >> 8);
    d[10] = d[11] = 0; /* packet checksum */
    d[12] = (uint8_t)status;
    d[13] = 0; /* errors */
    d[14] = (uint8_t)tci;
    d[15] = (uint8_t)(tci >> 8);
}

/* Store total bytes of b into the ring; false when DMA failed. */
static bool rx_store(e1000x *s, const uint8_t *b, uint32_t total, uint32_t vp, uint16_t tci)
{
    uint32_t size = rd(s, R_RDLEN) / DESC_LEN, bufsz = e1000x_rx_buf_size(s), off = 0;
    uint64_t base = (uint64_t)rd(s, R_RDBAH) << 32 | rd(s, R_RDBAL);
    uint8_t d[DESC_LEN];

    /* At most one pass over the ring, whatever DMA into our own BAR does. */
    for (uint32_t i = 0; off < total; i++) {
        uint64_t addr = base + (uint64_t)rd(s, R_RDH) * DESC_LEN, buf;
        uint32_t n = total - off < bufsz ? total - off : bufsz;
        if (H->dma_read(s->dev, addr, d, DESC_LEN)) {
            rx_error(s, "descriptor outside RAM; frame dropped");
            return false;
        }
        buf = ld64le(d);
        if (!buf) {
            n = 0; /* a null buffer is skipped: DD set, nothing stored */
        } else if (H->dma_write(s->dev, buf, b + off, n)) {
            rx_error(s, "buffer outside RAM; frame dropped");
            return false;
        }
        off += n;
        desc_status(s, d, n, RXD_STAT_DD | vp | (off >= total ? RXD_STAT_EOP | RXD_STAT_IXSM : 0),
                    tci);
        if (H->dma_write(s->dev, addr, d, DESC_LEN)) {
            rx_error(s, "descriptor write-back outside RAM");
        }
        wr(s, R_RDH, (rd(s, R_RDH) + 1) % size);
        if (!n && (rx_free(s) == 0 || i + 1 >= size)) {
            rx_error(s, "ring ran out on null buffers; frame dropped");
            return false;
        }
    }
    return true;
}

static void rx_irq(e1000x *s)
{
    uint32_t size = rd(s, R_RDLEN) / DESC_LEN;
    unsigned rdmts = rd(s, R_RCTL) >> RCTL_RDMTS_SHIFT & 3;
    uint32_t causes = ICR_RXT0;

    /* RXDMT0: free descriptors fell to the threshold (1/2, 1/4, 1/8). */
    if (rx_free(s) <= size >> (rdmts + 1)) {
        causes |= ICR_RXDMT0;
    }
    e1000x_set_cause(s, e1000x_msix(s) ? ICR_RXQ0 : causes);
}

/* Gather the frame, padded to the 60-byte minimum; 0 when too long. */
static uint32_t rx_gather(e1000x *s, const struct iovec *iov, unsigned iovcnt)
{
    uint32_t len = 0;

    for (unsigned i = 0; i < iovcnt; i++) {
        if (iov[i].iov_len > RX_FRAME_MAX - len) {
            return 0;
        }
        memcpy(s->rx_buf + len, iov[i].iov_base, iov[i].iov_len);
        len += (uint32_t)iov[i].iov_len;
    }
    if (len < 60) {
        memset(s->rx_buf + len, 0, 60 - len);
        len = 60;
    }
    return len;
}

static bool rx_oversized(e1000x *s, uint32_t len)
{
    uint32_t rctl = rd(s, R_RCTL);
    uint32_t max = (rctl & RCTL_LPE) ? RX_FRAME_MAX - 4 : 1518; /* 14 + 4 + 1500 */

    if (len > max && !(rctl & RCTL_SBP)) {
        stat_inc(s, S_ROC);
        return true;
    }
    return false;
}

size_t e1000x_receive(e1000x *s, const struct iovec *iov, unsigned iovcnt)
{
    size_t size = 0;
    uint8_t *b = s->rx_buf;
    uint32_t len, total, vp = 0;
    uint16_t tci = 0;

    for (unsigned i = 0; i < iovcnt; i++) {
        size += iov[i].iov_len;
    }
    if (s->in_rx || !rx_enabled(s)) {
        return size; /* receiver off (or re-entered through our BAR): dropped */
    }
    len = rx_gather(s, iov, iovcnt);
    if (!len || rx_oversized(s, len) || !rx_vlan_ok(s, b) || !rx_addr_ok(s, b)) {
        return size;
    }
    if ((rd(s, R_CTRL) & CTRL_VME) && ld16be(b + 12) == (uint16_t)rd(s, R_VET)) {
        tci = ld16be(b + 14); /* strip the 802.1Q tag (SDM 3.2.6) */
        memmove(b + 4, b, 12);
        b += 4;
        len -= 4;
        vp = RXD_STAT_VP;
    }
    total = len;
    if (!(rd(s, R_RCTL) & RCTL_SECRC)) {
        st32le(b + len, crc32_eth(b, len)); /* the FCS stays in the buffer */
        total += 4;
    }
    if (rx_free(s) * e1000x_rx_buf_size(s) < total) {
        stat_inc(s, S_RNBC);
        stat_inc(s, S_MPC);
        e1000x_set_cause(s, ICR_RXO);
        return 0;
    }
    s->in_rx = true;
    if (rx_store(s, b, total, vp, tci)) {
        count_rx(s, b, len);
    }
    s->in_rx = false;
    rx_irq(s);
    return size;
}
