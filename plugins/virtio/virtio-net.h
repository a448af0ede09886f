/*
 * virtio-net internals shared by virtio-net.c (queues, config, the device
 * type), virtio-net-ctrl.c (the control queue) and virtio-net-pci.c.
 */
#ifndef VIRTIO_NET_H
#define VIRTIO_NET_H

#include <sys/uio.h>

#include "virtio-int.h"
#include "virtio-trace.h"

#define VIRTIO_ID_NET 1

/* Feature bits (1.2 section 5.1.3). */
#define F_CSUM 0
#define F_GUEST_CSUM 1
#define F_MAC 5
#define F_GUEST_TSO4 7
#define F_GUEST_TSO6 8
#define F_GUEST_ECN 9
#define F_HOST_TSO4 11
#define F_HOST_TSO6 12
#define F_HOST_ECN 13
#define F_MRG_RXBUF 15
#define F_STATUS 16
#define F_CTRL_VQ 17
#define F_CTRL_RX 18
#define F_MQ 22
#define F_CTRL_MAC_ADDR 23

#define VNET_HDR_LEN 12  /* virtio_net_hdr with num_buffers (VERSION_1) */
#define VNET_CFG_SIZE 12 /* mac, status, max_virtqueue_pairs, mtu */
#define VNET_MAX_PAIRS 31 /* 63 queues with the control queue */
#define VNET_MAC_TABLE 64 /* filter entries kept per table; more: overflow */
#define VNET_MAX_RX_CHAINS VIRTIO_MAX_QUEUE_SIZE

typedef struct vnet {
    tes_device *dev;
    tes_virtio *vdev;
    /* Properties. */
    tes_netdev *nd;
    uint8_t mac[6];
    bool mq;
    uint32_t queues, rx_queue_size, tx_queue_size;
    bool p_csum, p_host_tso4, p_host_tso6, p_host_ecn;
    bool p_guest_csum, p_guest_tso4, p_guest_tso6, p_guest_ecn;
    bool p_mrg_rxbuf, p_status, p_ctrl_vq, p_ctrl_rx, p_ctrl_mac_addr;
    /* Fixed at realize. */
    uint16_t max_pairs;
    unsigned ctrl_index;
    bool ctrl;
    /* Device state (migrated: vnet_save). */
    uint8_t cur_mac[6];
    uint16_t cur_pairs;
    bool promisc, allmulti, alluni, nomulti, nouni, nobcast;
    bool uni_overflow, multi_overflow;
    uint32_t uni_count, multi_count;
    uint8_t uni[6 * VNET_MAC_TABLE], multi[6 * VNET_MAC_TABLE];
    /* Derived from the negotiated features and the backend. */
    bool mrg, link_up;
    unsigned rx_offloads;
    uint64_t rx_frames, tx_frames, rx_dropped;
    /* TX runs from a timer, not inside the kick (see tx_kick). */
    tes_timer *tx_timer[VNET_MAX_PAIRS];
    struct vnet_txq {
        struct vnet *n;
        unsigned q;
    } txq[VNET_MAX_PAIRS];
    /* Scratch. */
    tes_virtio_elem *rx_chain[VNET_MAX_RX_CHAINS];
    tes_virtio_elem *rx_bad[VNET_MAX_RX_CHAINS]; /* unusable, after a usable one */
    struct iovec tx_iov[VIRTIO_MAX_QUEUE_SIZE * 2];
} vnet;

#define vnet_guest_error(n, fmt, ...)                                                        \
    H->log(TES_LOG_GUEST_ERROR, "%s: " fmt, H->dev_id((n)->dev), ##__VA_ARGS__)

/* Properties shared by virtio-net-device and virtio-net-pci; nd_kind is
 * TES_PROP_NETDEV on the device, TES_PROP_STRING on the PCI wrapper that
 * passes it on. */
#define VNET_PROPS(st, nd_kind)                                                               \
    TES_PROP("netdev", nd_kind, st, nd, NULL, 0, 0, "network backend (-netdev id=)"),         \
    TES_PROP("mac", TES_PROP_MACADDR, st, mac, NULL, 0, 0, "MAC address"),                   \
    TES_PROP("mq", TES_PROP_BOOL, st, mq, "off", 0, 0, "multi-queue (VIRTIO_NET_F_MQ)"),     \
    TES_PROP("queues", TES_PROP_U32, st, queues, "0", 0, VNET_MAX_PAIRS,                     \
             "queue pairs with mq=on (0: as many as the backend)"),                          \
    TES_PROP("rx_queue_size", TES_PROP_U32, st, rx_queue_size, "256", 64, 1024,              \
             "RX virtqueue size"),                                                            \
    TES_PROP("tx_queue_size", TES_PROP_U32, st, tx_queue_size, "256", 64, 1024,              \
             "TX virtqueue size"),                                                            \
    TES_PROP("csum", TES_PROP_BOOL, st, p_csum, "on", 0, 0, "driver may send partial csums"), \
    TES_PROP("host_tso4", TES_PROP_BOOL, st, p_host_tso4, "on", 0, 0, "driver may send TSOv4"), \
    TES_PROP("host_tso6", TES_PROP_BOOL, st, p_host_tso6, "on", 0, 0, "driver may send TSOv6"), \
    TES_PROP("host_ecn", TES_PROP_BOOL, st, p_host_ecn, "on", 0, 0, "driver may send TSO+ECN"), \
    TES_PROP("guest_csum", TES_PROP_BOOL, st, p_guest_csum, "on", 0, 0,                      \
             "partial csums to the driver (backend permitting)"),                            \
    TES_PROP("guest_tso4", TES_PROP_BOOL, st, p_guest_tso4, "on", 0, 0,                      \
             "TSOv4 frames to the driver (backend permitting)"),                             \
    TES_PROP("guest_tso6", TES_PROP_BOOL, st, p_guest_tso6, "on", 0, 0,                      \
             "TSOv6 frames to the driver (backend permitting)"),                             \
    TES_PROP("guest_ecn", TES_PROP_BOOL, st, p_guest_ecn, "on", 0, 0,                        \
             "TSO+ECN frames to the driver (backend permitting)"),                           \
    TES_PROP("mrg_rxbuf", TES_PROP_BOOL, st, p_mrg_rxbuf, "on", 0, 0, "mergeable RX buffers"), \
    TES_PROP("status", TES_PROP_BOOL, st, p_status, "on", 0, 0, "link status in config"),    \
    TES_PROP("ctrl_vq", TES_PROP_BOOL, st, p_ctrl_vq, "on", 0, 0, "control queue"),          \
    TES_PROP("ctrl_rx", TES_PROP_BOOL, st, p_ctrl_rx, "on", 0, 0, "RX mode commands"),       \
    TES_PROP("ctrl_mac_addr", TES_PROP_BOOL, st, p_ctrl_mac_addr, "on", 0, 0,                \
             "MAC address command")

/* virtio-net-ctrl.c */
void vnet_ctrl_queue(vnet *n, tes_virtq *vq);
/* virtio-net.c */
void vnet_filter_reset(vnet *n);

#endif
