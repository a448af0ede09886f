/*
 * virtio-net: the control virtqueue (virtio 1.2 section 5.1.6.5).
 *
 * A command is one chain: class and command bytes, the command's data
 * (device-readable), then one device-writable ack byte. The whole
 * readable part is copied out first (it may be split anywhere), so a
 * command never reads guest memory twice.
 */
#include <endian.h>
#include <string.h>
#include <sys/uio.h>

#include "virtio-net.h"

#define CTRL_OK 0
#define CTRL_ERR 1

#define CLASS_RX 0
#define RX_PROMISC 0
#define RX_ALLMULTI 1
#define RX_ALLUNI 2
#define RX_NOMULTI 3
#define RX_NOUNI 4
#define RX_NOBCAST 5

#define CLASS_MAC 1
#define MAC_TABLE_SET 0
#define MAC_ADDR_SET 1

#define CLASS_MQ 4
#define MQ_VQ_PAIRS_SET 0

#define CMD_MAX 4096 /* bytes of a command kept; two full MAC tables fit */

static uint8_t ctrl_rx(vnet *n, uint8_t cmd, const uint8_t *data, size_t len)
{
    bool *flags[] = {&n->promisc, &n->allmulti, &n->alluni, &n->nomulti, &n->nouni,
                     &n->nobcast};

    if (len != 1 || cmd > RX_NOBCAST || !(virtio_ops.features(n->vdev) >> F_CTRL_RX & 1)) {
        return CTRL_ERR;
    }
    *flags[cmd] = data[0] != 0;
    return CTRL_OK;
}

/* One table: le32 entries, then the addresses. Returns bytes used, 0 bad. */
static size_t mac_table(const uint8_t *data, size_t len, uint8_t *table, uint32_t *count,
                        bool *overflow)
{
    uint32_t entries;

    if (len < 4) {
        return 0;
    }
    memcpy(&entries, data, 4);
    entries = le32toh(entries);
    if (entries > (len - 4) / 6) {
        return 0;
    }
    *overflow = entries > VNET_MAC_TABLE;
    *count = *overflow ? 0 : entries;
    memcpy(table, data + 4, 6 * *count);
    return 4 + 6 * (size_t)entries;
}

static uint8_t ctrl_mac(vnet *n, uint8_t cmd, const uint8_t *data, size_t len)
{
    size_t used;

    if (cmd == MAC_ADDR_SET) {
        if (len != 6 || !(virtio_ops.features(n->vdev) >> F_CTRL_MAC_ADDR & 1)) {
            return CTRL_ERR;
        }
        memcpy(n->cur_mac, data, 6);
        return CTRL_OK;
    }
    if (cmd != MAC_TABLE_SET) {
        return CTRL_ERR;
    }
    used = mac_table(data, len, n->uni, &n->uni_count, &n->uni_overflow);
    if (!used ||
        mac_table(data + used, len - used, n->multi, &n->multi_count, &n->multi_overflow) !=
            len - used) {
        n->uni_count = n->multi_count = 0;
        return CTRL_ERR;
    }
    return CTRL_OK;
}

static uint8_t ctrl_mq(vnet *n, uint8_t cmd, const uint8_t *data, size_t len)
{
    uint16_t pairs;

    if (cmd != MQ_VQ_PAIRS_SET || len != 2 || !(virtio_ops.features(n->vdev) >> F_MQ & 1)) {
        return CTRL_ERR;
    }
    memcpy(&pairs, data, 2);
    pairs = le16toh(pairs);
    if (pairs < 1 || pairs > n->max_pairs) {
        return CTRL_ERR;
    }
    trace_virtio_net_handle_mq(n->cur_pairs, pairs);
    n->cur_pairs = pairs;
    H->net_set_queues(n->nd, pairs);
    for (unsigned q = 0; q < pairs; q++) {
        H->net_flush(n->nd, q);
    }
    return CTRL_OK;
}

static uint8_t ctrl_one(vnet *n, const uint8_t *cmd, size_t len)
{
    uint8_t ack = CTRL_ERR;
    int cls = len ? cmd[0] : -1, op = len > 1 ? cmd[1] : -1;

    if (len >= 2) {
        switch (cmd[0]) {
        case CLASS_RX:
            ack = ctrl_rx(n, cmd[1], cmd + 2, len - 2);
            break;
        case CLASS_MAC:
            ack = ctrl_mac(n, cmd[1], cmd + 2, len - 2);
            break;
        case CLASS_MQ:
            ack = ctrl_mq(n, cmd[1], cmd + 2, len - 2);
            break;
        }
    }
    trace_virtio_net_handle_ctrl(cls, op, len, ack);
    if (ack != CTRL_OK) {
        vnet_guest_error(n, "control command class %d cmd %d (%zu bytes) refused", cls, op,
                         len);
    }
    return ack;
}

void vnet_ctrl_queue(vnet *n, tes_virtq *vq)
{
    static uint8_t cmd[CMD_MAX];
    tes_virtio_elem *e;

    while ((e = virtio_ops.pop(vq, 0))) {
        size_t len = 0;
        uint8_t ack = CTRL_ERR;

        for (unsigned i = 0; i < e->out_num && len < CMD_MAX; i++) {
            size_t k = e->out[i].iov_len < CMD_MAX - len ? e->out[i].iov_len : CMD_MAX - len;
            memcpy(cmd + len, e->out[i].iov_base, k);
            len += k;
        }
        if (e->in_len < 1 || e->out_len > CMD_MAX) {
            vnet_guest_error(n, "control chain with %llu readable and %llu writable bytes",
                             (unsigned long long)e->out_len, (unsigned long long)e->in_len);
            virtio_ops.push(vq, e, 0);
            continue;
        }
        ack = ctrl_one(n, cmd, len);
        /* The ack is the last device-writable byte (5.1.6.5). */
        struct iovec *last = &e->in[e->in_num - 1];
        ((uint8_t *)last->iov_base)[last->iov_len - 1] = ack;
        virtio_ops.push(vq, e, 1);
    }
    virtio_ops.notify(vq);
}
