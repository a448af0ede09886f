/*
 * virtio-net: the virtio network device (virtio 1.2 section 5.1).
 *
 * User manual
 *
 *   -netdev user,id=n0 -device virtio-net-pci,netdev=n0[,mac=52:54:00:12:34:56]
 *   -netdev tap,id=t0,queues=4,vnet_hdr=on -device virtio-net-pci,netdev=t0,mq=on,vectors=9
 *   -device virtio-net-device,netdev=n0,bus=virtio-mmio-bus.N
 *
 *   netdev          the -netdev id= (none: frames go nowhere, link up)
 *   mac             MAC address; default QEMU's 52:54:00:12:34:56, :57, ...
 *   mq              on|off, default off: VIRTIO_NET_F_MQ with as many queue
 *                   pairs as the backend has (tap queues=N)
 *   queues          queue pairs with mq=on when the backend has fewer (a
 *                   tessera extension: received flows are spread by hash);
 *                   0 (default) takes the backend's count
 *   vectors         (virtio-net-pci) MSI-X vectors, default one per queue
 *                   plus one; 0 for INTx only. Linux needs 2 * pairs + 1
 *                   to give every RX/TX queue its own
 *   rx_queue_size, tx_queue_size   power of two 64..1024, default 256
 *   csum, host_tso4, host_tso6, host_ecn     on: the driver may send
 *                   partial checksums and TSO frames; the core finishes
 *                   them in software unless the backend takes them (tap)
 *   guest_csum, guest_tso4, guest_tso6, guest_ecn   offered only when the
 *                   backend delivers such frames (tap vnet_hdr=on)
 *   mrg_rxbuf, status, ctrl_vq, ctrl_rx, ctrl_mac_addr   on by default
 *
 * Queues: RX 2k, TX 2k+1 for pair k, then the control queue. The control
 * queue takes RX modes (promisc, allmulti, alluni, nomulti, nouni,
 * nobcast), MAC filter tables, the MAC address and the number of queue
 * pairs; everything else is answered VIRTIO_NET_ERR.
 *
 * Errors: a guest mistake (a chain shorter than the header, a zero-length
 * or oversized frame, a TSO frame without the feature, a bad control
 * command) is logged under guest_errors and the chain returned; malformed
 * chains (loops, rings outside RAM) are the virtio core's: NEEDS_RESET.
 * Nothing a guest does stops the emulator.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "virtio-net.h"

/* ---- helpers ---- */

static bool has(vnet *n, unsigned bit)
{
    return (virtio_ops.features(n->vdev) >> bit) & 1;
}

/* Copy len bytes from buf into the iovecs at offset off; bytes copied. */
static size_t iov_to(const struct iovec *iov, unsigned cnt, size_t off, const void *buf,
                     size_t len)
{
    size_t done = 0;

    for (unsigned i = 0; i < cnt && done < len; i++) {
        if (off >= iov[i].iov_len) {
            off -= iov[i].iov_len;
            continue;
        }
        size_t n = iov[i].iov_len - off;
        n = n < len - done ? n : len - done;
        memcpy((uint8_t *)iov[i].iov_base + off, (const uint8_t *)buf + done, n);
        done += n;
        off = 0;
    }
    return done;
}

static size_t iov_from(const struct iovec *iov, unsigned cnt, size_t off, void *buf, size_t len)
{
    size_t done = 0;

    for (unsigned i = 0; i < cnt && done < len; i++) {
        if (off >= iov[i].iov_len) {
            off -= iov[i].iov_len;
            continue;
        }
        size_t n = iov[i].iov_len - off;
        n = n < len - done ? n : len - done;
        memcpy((uint8_t *)buf + done, (const uint8_t *)iov[i].iov_base + off, n);
        done += n;
        off = 0;
    }
    return done;
}

static bool driver_ok(vnet *n)
{
    return n->vdev && (virtio_ops.status(n->vdev) & TES_VIRTIO_S_DRIVER_OK);
}

/* ---- receive filter (5.1.6.5) ---- */

static bool in_table(const uint8_t *table, unsigned count, const uint8_t *mac)
{
    for (unsigned i = 0; i < count; i++) {
        if (memcmp(table + 6 * i, mac, 6) == 0) {
            return true;
        }
    }
    return false;
}

static bool rx_accept(vnet *n, const uint8_t *buf, size_t len)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

    if (n->promisc || len < 6) {
        return n->promisc;
    }
    if (memcmp(buf, bcast, 6) == 0) {
        return !n->nobcast;
    }
    if (buf[0] & 1) {
        return !n->nomulti &&
               (n->allmulti || n->multi_overflow || in_table(n->multi, n->multi_count, buf));
    }
    if (n->nouni) {
        return false;
    }
    return n->alluni || n->uni_overflow || memcmp(buf, n->cur_mac, 6) == 0 ||
           in_table(n->uni, n->uni_count, buf);
}

/* ---- receive (5.1.6.4) ---- */

static bool net_can_receive(void *opaque, unsigned q)
{
    vnet *n = opaque;

    /* Until the driver is up, frames are dropped rather than kept. */
    if (!driver_ok(n) || q >= n->cur_pairs) {
        return true;
    }
    return vq_has_avail(virtio_ops.queue(n->vdev, 2 * q));
}

static void rx_header(vnet *n, const tes_net_hdr *hdr, uint16_t nbufs, uint8_t *out)
{
    memset(out, 0, VNET_HDR_LEN);
    if (hdr && n->rx_offloads) {
        uint16_t v[4] = {htole16(hdr->hdr_len), htole16(hdr->gso_size),
                         htole16(hdr->csum_start), htole16(hdr->csum_offset)};
        out[0] = hdr->flags;
        out[1] = hdr->gso_type;
        memcpy(out + 2, v, sizeof(v));
    }
    nbufs = htole16(nbufs);
    memcpy(out + 10, &nbufs, 2);
}

/*
 * Pop chains until they hold need bytes; how many, 0 when they do not.
 * A chain the device cannot use (device-readable buffers, or a first one
 * shorter than the header) goes back used with nothing written; but once
 * a usable chain is popped, a bad one waits in rx_bad until the frame is
 * placed: the chains popped for a frame that does not fit are rewound
 * (last_avail moves back one per chain), and one returned meanwhile would
 * make that rewind take back its ring slot instead of a usable chain's
 * (the bad chain came back twice, the usable one never).
 */
static unsigned rx_gather(vnet *n, tes_virtq *vq, size_t need, bool *too_small)
{
    unsigned max = n->mrg ? VNET_MAX_RX_CHAINS : 1, cnt = 0, bad = 0;
    size_t cap = 0;
    tes_virtio_elem *e;

    *too_small = false;
    while (cap < need && cnt < max && bad < VNET_MAX_RX_CHAINS &&
           (e = virtio_ops.pop(vq, 0))) {
        if (e->out_num || (cnt == 0 && e->in_len < VNET_HDR_LEN)) {
            vnet_guest_error(n, "rx queue %u: chain with device-readable buffers, or too short "
                             "for the %d-byte header", vq->index, VNET_HDR_LEN);
            if (cnt == 0) {
                virtio_ops.push(vq, e, 0);
            } else {
                n->rx_bad[bad++] = e;
            }
            continue;
        }
        n->rx_chain[cnt++] = e;
        cap += e->in_len;
    }
    if (cap >= need) {
        while (bad) {
            virtio_ops.push(vq, n->rx_bad[--bad], 0);
        }
        return cnt;
    }
    /* Too short a single buffer (no mergeable buffers): the hardware
     * would drop the frame; anything else waits for more buffers. */
    *too_small = !n->mrg && cnt == 1;
    while (bad) {
        vq_rewind(vq, n->rx_bad[--bad]);
    }
    while (cnt) {
        vq_rewind(vq, n->rx_chain[--cnt]);
    }
    return 0;
}

static int net_receive(void *opaque, unsigned q, const tes_net_hdr *hdr, const uint8_t *buf,
                       size_t len)
{
    vnet *n = opaque;
    tes_virtq *vq;
    uint8_t vh[VNET_HDR_LEN];
    size_t off = 0, need = VNET_HDR_LEN + len;
    unsigned cnt;
    bool too_small;

    const char *drop = !driver_ok(n)              ? "driver not ready"
                       : q >= n->cur_pairs            ? "queue pair not in use"
                       : !rx_accept(n, buf, len)      ? "receive filter"
                                                      : NULL;

    if (drop) {
        trace_virtio_net_rx_drop(2 * q, len, drop);
        return (int)len;
    }
    vq = virtio_ops.queue(n->vdev, 2 * q);
    cnt = rx_gather(n, vq, need, &too_small);
    if (!cnt) {
        if (too_small) {
            n->rx_dropped++;
            trace_virtio_net_rx_drop(2 * q, len, "buffer too small");
            vnet_guest_error(n, "rx queue %u: buffer too small for a %zu-byte frame", 2 * q,
                             len);
            return (int)len;
        }
        return 0;
    }
    rx_header(n, hdr, cnt, vh);
    for (unsigned i = 0; i < cnt; i++) {
        tes_virtio_elem *e = n->rx_chain[i];
        size_t w = 0;
        if (i == 0) {
            w = iov_to(e->in, e->in_num, 0, vh, VNET_HDR_LEN);
        }
        w += iov_to(e->in, e->in_num, w, buf + off, len - off);
        off += w - (i == 0 ? VNET_HDR_LEN : 0);
        virtio_ops.push(vq, e, (uint32_t)w);
    }
    trace_virtio_net_rx(2 * q, len, cnt);
    virtio_ops.notify(vq);
    n->rx_frames++;
    return (int)len;
}

static void net_link_changed(void *opaque, bool up)
{
    vnet *n = opaque;

    n->link_up = up;
    trace_virtio_net_link_status(up);
    if (n->vdev && has(n, F_STATUS)) {
        virtio_ops.config_changed(n->vdev);
    }
}

static const tes_net_ops vnet_net_ops = {
    .size = sizeof(tes_net_ops),
    .can_receive = net_can_receive,
    .receive = net_receive,
    .link_changed = net_link_changed,
};

/* ---- transmit (5.1.6.2) ---- */

static bool tx_header(vnet *n, tes_virtio_elem *e, tes_net_hdr *h)
{
    uint8_t vh[VNET_HDR_LEN];
    uint16_t v[4];

    iov_from(e->out, e->out_num, 0, vh, VNET_HDR_LEN);
    memcpy(v, vh + 2, sizeof(v));
    h->flags = vh[0];
    h->gso_type = vh[1];
    h->hdr_len = le16toh(v[0]);
    h->gso_size = le16toh(v[1]);
    h->csum_start = le16toh(v[2]);
    h->csum_offset = le16toh(v[3]);
    switch (h->gso_type & ~TES_NET_GSO_ECN) {
    case TES_NET_GSO_NONE:
        return true;
    case TES_NET_GSO_TCPV4:
        return has(n, F_HOST_TSO4);
    case TES_NET_GSO_TCPV6:
        return has(n, F_HOST_TSO6);
    default:
        return false;
    }
}

static void tx_one(vnet *n, unsigned q, tes_virtio_elem *e)
{
    struct iovec *iov = n->tx_iov;
    unsigned cnt = 0;
    size_t skip = VNET_HDR_LEN;
    tes_net_hdr h;

    if (e->out_len <= VNET_HDR_LEN || e->in_num) {
        vnet_guest_error(n, "tx queue %u: chain of %llu device-readable bytes (%u writable "
                         "buffers): no frame after the %d-byte header", 2 * q + 1,
                         (unsigned long long)e->out_len, e->in_num, VNET_HDR_LEN);
        return;
    }
    if (!tx_header(n, e, &h)) {
        vnet_guest_error(n, "tx queue %u: gso_type %u not negotiated", 2 * q + 1, h.gso_type);
        return;
    }
    for (unsigned i = 0; i < e->out_num; i++) {
        if (skip >= e->out[i].iov_len) {
            skip -= e->out[i].iov_len;
            continue;
        }
        iov[cnt].iov_base = (uint8_t *)e->out[i].iov_base + skip;
        iov[cnt++].iov_len = e->out[i].iov_len - skip;
        skip = 0;
    }
    if (H->net_send(n->nd, q, &h, iov, cnt) < 0) {
        vnet_guest_error(n, "tx queue %u: frame of %llu bytes refused (too long, or a header "
                         "that does not fit it)", 2 * q + 1,
                         (unsigned long long)e->out_len - VNET_HDR_LEN);
        return;
    }
    trace_virtio_net_tx(2 * q + 1, e->out_len - VNET_HDR_LEN);
    n->tx_frames++;
}

/* Frames sent per timer run before yielding to the rest of the machine. */
#define TX_BURST 256

static void tx_queue(vnet *n, tes_virtq *vq, unsigned q)
{
    tes_virtio_elem *e;
    unsigned done = 0;

    while (done < TX_BURST && (e = virtio_ops.pop(vq, 0))) {
        tx_one(n, q, e);
        virtio_ops.push(vq, e, 0);
        done++;
    }
    if (done) {
        virtio_ops.notify(vq);
    }
    if (done == TX_BURST) {
        H->timer_mod(n->tx_timer[q], H->clock_ns());
    }
}

static void tx_timer_cb(void *opaque)
{
    struct vnet_txq *t = opaque;

    if (t->n->vdev) {
        tx_queue(t->n, virtio_ops.queue(t->n->vdev, 2 * t->q + 1), t->q);
    }
}

/*
 * A kick only arms a timer due now; the main loop sends (QEMU's tx=bh).
 * Until then nothing is popped, so with EVENT_IDX avail_event stays where
 * it was and the driver adds more frames without kicking again: one timer
 * run sends the batch and raises one interrupt for it, where sending
 * inside each kick completed every frame alone, with an interrupt each.
 * The main loop also runs on another host thread than the vCPUs.
 */
static void tx_kick(vnet *n, unsigned q)
{
    if (!H->timer_pending(n->tx_timer[q])) {
        H->timer_mod(n->tx_timer[q], H->clock_ns());
    }
}

static void vnet_handle_queue(void *opaque, tes_virtq *vq, unsigned index)
{
    vnet *n = opaque;

    if (index == n->ctrl_index && n->ctrl) {
        vnet_ctrl_queue(n, vq);
    } else if (index & 1) {
        tx_kick(n, index / 2);
    } else {
        H->net_flush(n->nd, index / 2); /* buffers posted: kept frames may go */
    }
}

/* ---- config space (5.1.4), status, reset ---- */

static void vnet_config_read(void *opaque, uint32_t off, void *buf, uint32_t len)
{
    vnet *n = opaque;
    uint8_t cfg[VNET_CFG_SIZE] = {0};
    uint16_t status = htole16(n->link_up ? 1 : 0), pairs = htole16(n->max_pairs);

    memcpy(cfg, n->cur_mac, 6);
    memcpy(cfg + 6, &status, 2);
    memcpy(cfg + 8, &pairs, 2);
    memcpy(buf, cfg + off, len);
}

static void vnet_config_write(void *opaque, uint32_t off, const void *buf, uint32_t len)
{
    vnet *n = opaque;

    /* 5.1.4.2: a modern driver does not write the MAC here. */
    vnet_guest_error(n, "write of %u bytes to read-only config space at %u", len, off);
}

static unsigned negotiated_rx_offloads(vnet *n)
{
    unsigned m = 0;

    if (has(n, F_GUEST_CSUM)) {
        m |= TES_NET_OFFLOAD_CSUM;
        m |= has(n, F_GUEST_TSO4) ? TES_NET_OFFLOAD_TSO4 : 0;
        m |= has(n, F_GUEST_TSO6) ? TES_NET_OFFLOAD_TSO6 : 0;
        m |= has(n, F_GUEST_ECN) ? TES_NET_OFFLOAD_ECN : 0;
    }
    return m;
}

static void apply_features(vnet *n)
{
    n->mrg = has(n, F_MRG_RXBUF);
    n->rx_offloads = H->net_set_rx_offloads(n->nd, negotiated_rx_offloads(n));
    H->net_set_queues(n->nd, n->cur_pairs);
    for (unsigned q = 0; q < n->cur_pairs; q++) {
        H->net_flush(n->nd, q);
    }
}

static void vnet_set_status(void *opaque, uint8_t status)
{
    vnet *n = opaque;

    if (status & TES_VIRTIO_S_DRIVER_OK) {
        apply_features(n);
    }
}

/* 5.1.6.5.1: a device reset brings back promiscuous mode ("compatibility"
 * as QEMU calls it) until the driver sets its RX mode. */
void vnet_filter_reset(vnet *n)
{
    memcpy(n->cur_mac, n->mac, 6);
    n->promisc = true;
    n->allmulti = n->alluni = n->nomulti = n->nouni = n->nobcast = false;
    n->uni_count = n->multi_count = 0;
    n->uni_overflow = n->multi_overflow = false;
}

static void vnet_reset(void *opaque)
{
    vnet *n = opaque;

    vnet_filter_reset(n);
    n->cur_pairs = 1;
    n->mrg = false;
    n->rx_offloads = H->net_set_rx_offloads(n->nd, 0);
    H->net_set_queues(n->nd, 1);
}

static int vnet_save(void *opaque, tes_stream *out);
static int vnet_load(void *opaque, tes_stream *in);

static const tes_virtio_dev_ops vnet_ops = {
    .size = sizeof(tes_virtio_dev_ops),
    .config_read = vnet_config_read,
    .config_write = vnet_config_write,
    .handle_queue = vnet_handle_queue,
    .reset = vnet_reset,
    .set_status = vnet_set_status,
    .save = vnet_save,
    .load = vnet_load,
};

/* ---- realize ---- */

static uint64_t offered(vnet *n)
{
    unsigned be = H->net_offloads(n->nd);
    uint64_t f = 1ull << F_MAC;
    const struct { bool on; unsigned bit; unsigned needs; } opt[] = {
        {n->p_csum, F_CSUM, 0},
        {n->p_csum && n->p_host_tso4, F_HOST_TSO4, 0},
        {n->p_csum && n->p_host_tso6, F_HOST_TSO6, 0},
        {n->p_csum && n->p_host_ecn, F_HOST_ECN, 0},
        {n->p_guest_csum, F_GUEST_CSUM, TES_NET_OFFLOAD_CSUM},
        {n->p_guest_csum && n->p_guest_tso4, F_GUEST_TSO4, TES_NET_OFFLOAD_TSO4},
        {n->p_guest_csum && n->p_guest_tso6, F_GUEST_TSO6, TES_NET_OFFLOAD_TSO6},
        {n->p_guest_csum && n->p_guest_ecn, F_GUEST_ECN, TES_NET_OFFLOAD_ECN},
        {n->p_mrg_rxbuf, F_MRG_RXBUF, 0},
        {n->p_status, F_STATUS, 0},
        {n->p_ctrl_vq, F_CTRL_VQ, 0},
        {n->p_ctrl_vq && n->p_ctrl_rx, F_CTRL_RX, 0},
        {n->p_ctrl_vq && n->p_ctrl_mac_addr, F_CTRL_MAC_ADDR, 0},
        {n->p_ctrl_vq && n->mq, F_MQ, 0},
    };

    for (size_t i = 0; i < sizeof(opt) / sizeof(opt[0]); i++) {
        if (opt[i].on && (be & opt[i].needs) == opt[i].needs) {
            f |= 1ull << opt[i].bit;
        }
    }
    return f;
}

static bool check_sizes(tes_device *dev, vnet *n)
{
    const uint32_t sizes[2] = {n->rx_queue_size, n->tx_queue_size};

    for (int i = 0; i < 2; i++) {
        if (sizes[i] < 64 || sizes[i] > 1024 || (sizes[i] & (sizes[i] - 1))) {
            H->error(dev, "property '%s' wants a power of two 64..1024, got %u",
                     i ? "tx_queue_size" : "rx_queue_size", sizes[i]);
            return false;
        }
    }
    return true;
}

static int vnet_realize(tes_device *dev, void *s)
{
    vnet *n = s;

    n->dev = dev;
    if (H->size < offsetof(tes_host, net_set_rx_offloads) + sizeof(void *)) {
        H->error(dev, "needs a core with SDK ABI 1.3 (network backends)");
        return -ENOTSUP;
    }
    if (!check_sizes(dev, n)) {
        return -EINVAL;
    }
    n->max_pairs = !n->mq ? 1 : n->queues ? n->queues : H->net_queues(n->nd);
    if (n->max_pairs > VNET_MAX_PAIRS) {
        H->error(dev, "%u queue pairs, at most %d", n->max_pairs, VNET_MAX_PAIRS);
        return -EINVAL;
    }
    n->ctrl = n->p_ctrl_vq;
    n->ctrl_index = 2 * n->max_pairs;
    n->link_up = H->net_link_up(n->nd);
    vnet_filter_reset(n);
    n->cur_pairs = 1;
    tes_virtio_dev_info info = {.size = sizeof(info), .device_id = VIRTIO_ID_NET,
                                .num_queues = 2 * n->max_pairs + (n->ctrl ? 1 : 0),
                                .queue_size = n->rx_queue_size > n->tx_queue_size
                                              ? n->rx_queue_size : n->tx_queue_size,
                                .config_size = VNET_CFG_SIZE, .features = offered(n),
                                .ops = &vnet_ops, .opaque = n};
    n->vdev = virtio_ops.plug(dev, &info);
    if (!n->vdev) {
        return -EINVAL;
    }
    for (unsigned q = 0; q < n->max_pairs; q++) {
        n->txq[q] = (struct vnet_txq){.n = n, .q = q};
        n->tx_timer[q] = H->timer_new(tx_timer_cb, &n->txq[q]);
    }
    return H->net_attach(dev, n->nd, &vnet_net_ops, n, n->cur_mac);
}

static void vnet_unrealize(tes_device *dev, void *s)
{
    vnet *n = s;

    for (unsigned q = 0; q < n->max_pairs; q++) {
        if (n->tx_timer[q]) {
            H->timer_free(n->tx_timer[q]);
            n->tx_timer[q] = NULL;
        }
    }
    virtio_ops.unplug(n->vdev);
    n->vdev = NULL;
}

/* ---- migration: inside the transport's section (after the queues) ---- */

static const struct {
    size_t off;
} flag_fields[] = {
    {offsetof(vnet, promisc)}, {offsetof(vnet, allmulti)}, {offsetof(vnet, alluni)},
    {offsetof(vnet, nomulti)}, {offsetof(vnet, nouni)}, {offsetof(vnet, nobcast)},
    {offsetof(vnet, uni_overflow)}, {offsetof(vnet, multi_overflow)},
};

static int vnet_save(void *opaque, tes_stream *out)
{
    vnet *n = opaque;
    uint64_t flags = 0, mac = 0;

    for (size_t i = 0; i < sizeof(flag_fields) / sizeof(flag_fields[0]); i++) {
        flags |= (uint64_t)*(bool *)((char *)n + flag_fields[i].off) << i;
    }
    memcpy(&mac, n->cur_mac, 6);
    put_u64(out, mac);
    put_u64(out, n->cur_pairs | flags << 16);
    put_u64(out, n->uni_count | (uint64_t)n->multi_count << 32);
    H->stream_write(out, n->uni, 6 * n->uni_count);
    H->stream_write(out, n->multi, 6 * n->multi_count);
    return 0;
}

static int vnet_load(void *opaque, tes_stream *in)
{
    vnet *n = opaque;
    uint64_t mac, w, counts;
    int ret = get_u64(in, &mac) ?: get_u64(in, &w) ?: get_u64(in, &counts);

    if (ret < 0) {
        return ret;
    }
    n->cur_pairs = (uint16_t)w;
    n->uni_count = (uint32_t)counts;
    n->multi_count = (uint32_t)(counts >> 32);
    if (n->cur_pairs < 1 || n->cur_pairs > n->max_pairs || n->uni_count > VNET_MAC_TABLE ||
        n->multi_count > VNET_MAC_TABLE) {
        return -EINVAL;
    }
    memcpy(n->cur_mac, &mac, 6);
    for (size_t i = 0; i < sizeof(flag_fields) / sizeof(flag_fields[0]); i++) {
        *(bool *)((char *)n + flag_fields[i].off) = (w >> (16 + i)) & 1;
    }
    ret = H->stream_read(in, n->uni, 6 * n->uni_count) ?:
          H->stream_read(in, n->multi, 6 * n->multi_count);
    if (ret == 0 && driver_ok(n)) {
        apply_features(n);
        for (unsigned q = 0; q < n->cur_pairs; q++) {
            tx_kick(n, q); /* frames queued without a kick (EVENT_IDX) */
        }
    }
    return ret;
}

/* The state travels with the transport (vnet_save/vnet_load above). */
static const tes_state_info vnet_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
};

static const tes_prop_info vnet_props[] = {
    VNET_PROPS(vnet, TES_PROP_NETDEV),
    TES_PROP_END,
};

const tes_type_info virtio_net_device_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "virtio-net-device",
    .desc = "virtio network device",
    .bus = TES_VIRTIO_BUS,
    .instance_size = sizeof(vnet),
    .props = vnet_props,
    .realize = vnet_realize,
    .unrealize = vnet_unrealize,
    .state = &vnet_state,
};
