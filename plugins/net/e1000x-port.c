/*
 * e1000x-port: the one place the NIC models meet the network backend
 * (tessera/net.h). The register and ring code calls send and rx_ready;
 * the core calls can_receive, receive and link_changed from its main loop.
 *
 * Without netdev= the handle is NULL and the host table makes the NIC
 * unplugged from any network: sends are dropped, nothing arrives, the
 * link reads up (as QEMU's NIC without a peer).
 */
#include "e1000x.h"

static bool port_can_receive(void *opaque, unsigned queue)
{
    return e1000x_can_receive(opaque);
}

static int port_receive(void *opaque, unsigned queue, const tes_net_hdr *hdr,
                        const uint8_t *buf, size_t len)
{
    struct iovec iov = {(void *)buf, len};

    return (int)e1000x_receive(opaque, &iov, 1);
}

static void port_link_changed(void *opaque, bool up)
{
    e1000x_set_link(opaque, up);
}

static const tes_net_ops port_ops = {
    .size = sizeof(tes_net_ops),
    .can_receive = port_can_receive,
    .receive = port_receive,
    .link_changed = port_link_changed,
};

int e1000x_port_open(e1000x *s)
{
    int ret = H->net_attach(s->dev, s->nd, &port_ops, s, s->mac);

    s->link_up = H->net_link_up(s->nd);
    return ret;
}

void e1000x_port_send(e1000x *s, const tes_net_hdr *hdr, const struct iovec *iov,
                      unsigned iovcnt)
{
    if (H->net_send(s->nd, 0, hdr, iov, iovcnt) < 0) {
        H->log(TES_LOG_GUEST_ERROR, "%s: tx: the network refused a %s frame",
               H->dev_id(s->dev), hdr ? "TSO" : "malformed");
    }
}

void e1000x_port_rx_ready(e1000x *s)
{
    H->net_flush(s->nd, 0);
}
