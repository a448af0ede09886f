/*
 * tessera core: the path of frames between a NIC and its backend (the
 * host entries of ABI 1.3, sdk net.h).
 *
 * Receive: a backend calls net_deliver() from the main loop. The frame
 * goes straight to the NIC when nothing older waits on its queue, the NIC
 * is not inside one of our calls and can_receive() says yes; otherwise it
 * is copied onto the queue's pending list, and the backend is told to
 * stop producing. net_flush() (the NIC has buffers again) schedules an
 * idle source that offers pending frames in order; once every list is
 * empty the backend is told to resume (rx_ready).
 *
 * Transmit: net_send() finishes offloads the backend cannot take
 * (net-offload.c) and hands the frame to the backend synchronously.
 */
#include <errno.h>
#include <string.h>

#include "net-int.h"

typedef struct net_frame {
    bool has_hdr;
    tes_net_hdr hdr;
    size_t len;
    uint8_t data[];
} net_frame;

static bool hdr_is_zero(const tes_net_hdr *hdr)
{
    return !hdr->flags && !hdr->gso_type;
}

/* ---- receive ---- */

/* Which NIC queue gets a frame the backend received on bq. */
static unsigned rx_queue(tes_netdev *nd, unsigned bq, const uint8_t *buf, size_t len)
{
    unsigned n = nd->nic_queues;

    if (n <= 1) {
        return 0;
    }
    if (nd->nqueues >= n && bq < n) {
        return bq; /* tap queues=N: the kernel already spread the flows */
    }
    return net_flow_hash(buf, len) % n;
}

static void keep(tes_netdev *nd, unsigned q, const tes_net_hdr *hdr, const uint8_t *buf,
                 size_t len)
{
    net_frame *f;

    if (g_queue_get_length(&nd->pending[q]) >= NET_PENDING_MAX) {
        nd->rx_dropped++;
        return;
    }
    f = g_malloc(sizeof(*f) + len);
    f->has_hdr = hdr != NULL;
    if (hdr) {
        f->hdr = *hdr;
    }
    f->len = len;
    memcpy(f->data, buf, len);
    g_queue_push_tail(&nd->pending[q], f);
}

static gboolean pending_bh(gpointer opaque);

static void schedule(tes_netdev *nd)
{
    if (!nd->bh) {
        /* Default priority: a busy tap or timer source must not starve it. */
        nd->bh = g_idle_add_full(G_PRIORITY_DEFAULT, pending_bh, nd, NULL);
    }
}

/* Offer one frame; the NIC's answer (0: not taken). */
static int offer(tes_netdev *nd, unsigned q, const tes_net_hdr *hdr, const uint8_t *buf,
                 size_t len)
{
    int ret;

    if (nd->nops->can_receive && !nd->nops->can_receive(nd->nopaque, q)) {
        return 0;
    }
    /* Receive offloads the NIC did not enable never reach it. */
    if (hdr && (!nd->rx_offloads || hdr_is_zero(hdr))) {
        hdr = NULL;
    }
    nd->in_call++;
    ret = nd->nops->receive(nd->nopaque, q, hdr, buf, len);
    nd->in_call--;
    if (ret != 0) {
        nd->rx_frames++;
    }
    return ret;
}

int net_deliver_ret(tes_netdev *nd, unsigned bq, const tes_net_hdr *hdr, const uint8_t *buf,
                    size_t len)
{
    unsigned q;
    int ret = 0;

    if (!nd->nops || nd->link_down) {
        return (int)len; /* nobody listening: the wire drops it */
    }
    q = rx_queue(nd, bq, buf, len);
    if (g_queue_is_empty(&nd->pending[q]) && !nd->in_call) {
        ret = offer(nd, q, hdr, buf, len);
    } else if (nd->in_call) {
        schedule(nd); /* a frame produced while the NIC was calling us */
    }
    if (ret == 0) {
        keep(nd, q, hdr, buf, len);
        nd->blocked = true;
    }
    return ret;
}

bool net_deliver(tes_netdev *nd, unsigned bq, const tes_net_hdr *hdr, const uint8_t *buf,
                 size_t len)
{
    return net_deliver_ret(nd, bq, hdr, buf, len) != 0;
}

/* Offer queue q's kept frames in order; false when the NIC stalls. */
static bool drain_queue(tes_netdev *nd, unsigned q)
{
    net_frame *f;

    while (nd->nops && (f = g_queue_peek_head(&nd->pending[q]))) {
        if (offer(nd, q, f->has_hdr ? &f->hdr : NULL, f->data, f->len) == 0) {
            return false;
        }
        g_free(g_queue_pop_head(&nd->pending[q]));
    }
    return true;
}

void net_run_pending(tes_netdev *nd)
{
    bool all = true;

    if (nd->bh) {
        g_source_remove(nd->bh);
        nd->bh = 0;
    }
    for (unsigned q = 0; q < NET_MAX_QUEUES; q++) {
        all &= drain_queue(nd, q);
    }
    if (all && nd->blocked) {
        nd->blocked = false;
        if (nd->ops->rx_ready) {
            nd->ops->rx_ready(nd);
        }
    }
}

static gboolean pending_bh(gpointer opaque)
{
    tes_netdev *nd = opaque;

    core_lock();
    nd->bh = 0;
    net_run_pending(nd);
    core_unlock();
    return G_SOURCE_REMOVE;
}

unsigned net_pending_count(tes_netdev *nd)
{
    unsigned n = 0;

    for (unsigned q = 0; q < NET_MAX_QUEUES; q++) {
        n += g_queue_get_length(&nd->pending[q]);
    }
    return n;
}

/* ---- the host entries ---- */

int net_attach(tes_device *dev, tes_netdev *nd, const tes_net_ops *ops, void *opaque,
               const uint8_t *mac)
{
    if (!nd) {
        return 0;
    }
    if (!ops || ops->size < offsetof(tes_net_ops, link_changed) || !ops->receive) {
        dev->error = dev->error ? dev->error
                                : g_strdup_printf("net_attach: tes_net_ops without receive");
        return -EINVAL;
    }
    nd->nic = dev;
    nd->nops = ops;
    nd->nopaque = opaque;
    nd->mac = mac;
    return 0;
}

void net_flush(tes_netdev *nd, unsigned queue)
{
    if (nd && nd->nops && (queue >= NET_MAX_QUEUES || !g_queue_is_empty(&nd->pending[queue]) ||
                           nd->blocked)) {
        schedule(nd);
    }
}

bool net_link_up(tes_netdev *nd)
{
    return !nd || !nd->link_down;
}

unsigned net_queues(tes_netdev *nd)
{
    return nd ? nd->nqueues : 1;
}

int net_set_queues(tes_netdev *nd, unsigned n)
{
    if (n == 0 || n > NET_MAX_QUEUES) {
        return -EINVAL;
    }
    if (!nd) {
        return 0;
    }
    /* Frames kept for queues that go away move to queue 0. */
    for (unsigned q = n; q < nd->nic_queues; q++) {
        while (!g_queue_is_empty(&nd->pending[q])) {
            g_queue_push_tail(&nd->pending[0], g_queue_pop_head(&nd->pending[q]));
        }
    }
    nd->nic_queues = n;
    if (nd->ops->set_queues) {
        nd->ops->set_queues(nd, MIN(n, nd->nqueues));
    }
    return 0;
}

unsigned net_offloads(tes_netdev *nd)
{
    return nd ? nd->offloads : 0;
}

unsigned net_set_rx_offloads(tes_netdev *nd, unsigned mask)
{
    if (!nd) {
        return 0;
    }
    nd->rx_offloads = mask & nd->offloads;
    if (nd->ops->set_rx_offloads) {
        nd->ops->set_rx_offloads(nd, nd->rx_offloads);
    }
    return nd->rx_offloads;
}

/* ---- transmit ---- */

typedef struct emit_ctx {
    tes_netdev *nd;
    unsigned bq;
} emit_ctx;

static void emit_plain(void *opaque, const uint8_t *buf, size_t len)
{
    emit_ctx *c = opaque;
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    tes_net_hdr zero = {0};

    c->nd->ops->send(c->nd, c->bq, c->nd->offloads ? &zero : NULL, &iov, 1);
}

/* Offloads the backend takes natively for this header. */
static bool native(tes_netdev *nd, const tes_net_hdr *hdr)
{
    unsigned need = 0;

    if (hdr->flags & TES_NET_HDR_F_NEEDS_CSUM) {
        need |= TES_NET_OFFLOAD_CSUM;
    }
    switch (hdr->gso_type & ~TES_NET_GSO_ECN) {
    case TES_NET_GSO_TCPV4:
        need |= TES_NET_OFFLOAD_TSO4;
        break;
    case TES_NET_GSO_TCPV6:
        need |= TES_NET_OFFLOAD_TSO6;
        break;
    case TES_NET_GSO_UDP:
        need |= TES_NET_OFFLOAD_UFO;
        break;
    }
    if (hdr->gso_type & TES_NET_GSO_ECN) {
        need |= TES_NET_OFFLOAD_ECN;
    }
    return (nd->offloads & need) == need;
}

static int send_software(tes_netdev *nd, unsigned bq, const tes_net_hdr *hdr,
                         const struct iovec *iov, unsigned iovcnt, size_t len)
{
    uint8_t *frame = g_malloc(len);
    size_t off = 0;
    emit_ctx c = {nd, bq};
    int ret;

    for (unsigned i = 0; i < iovcnt; i++) {
        memcpy(frame + off, iov[i].iov_base, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    ret = net_offload_finish(frame, len, hdr, emit_plain, &c);
    g_free(frame);
    return ret;
}

int net_send(tes_netdev *nd, unsigned queue, const tes_net_hdr *hdr, const struct iovec *iov,
             unsigned iovcnt)
{
    size_t len = 0;
    int ret = 0;

    for (unsigned i = 0; i < iovcnt; i++) {
        len += iov[i].iov_len;
    }
    if (len == 0 || len > TES_NET_MAX_FRAME) {
        return -EINVAL;
    }
    if (!nd || nd->link_down) {
        return (int)len;
    }
    unsigned bq = queue % nd->nqueues;
    tes_net_hdr zero = {0};
    nd->in_call++;
    if (hdr && !hdr_is_zero(hdr) && !native(nd, hdr)) {
        ret = send_software(nd, bq, hdr, iov, iovcnt, len);
    } else {
        nd->ops->send(nd, bq, nd->offloads ? (hdr ? hdr : &zero) : NULL, iov, iovcnt);
    }
    nd->in_call--;
    nd->tx_frames++;
    return ret < 0 ? ret : (int)len;
}
