/*
 * virtio-net-pci: the virtio-pci transport carrying a virtio-net-device
 * (its user manual is in virtio-net.c); adds `vectors`.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "virtio-net.h"

typedef struct vnet_pci {
    vpci_proxy px; /* first: the shared proxy callbacks cast to it */
    char *nd;      /* -netdev id, passed on */
    uint8_t mac[6];
    bool mq;
    uint32_t queues, rx_queue_size, tx_queue_size, vectors;
    bool p_csum, p_host_tso4, p_host_tso6, p_host_ecn;
    bool p_guest_csum, p_guest_tso4, p_guest_tso6, p_guest_ecn;
    bool p_mrg_rxbuf, p_status, p_ctrl_vq, p_ctrl_rx, p_ctrl_mac_addr;
} vnet_pci;

#define VECTORS_DEFAULT 0xffff

static const tes_prop_info vnet_pci_props[] = {
    VNET_PROPS(vnet_pci, TES_PROP_STRING),
    TES_PROP("vectors", TES_PROP_U32, vnet_pci, vectors, "65535", 0, 65535,
             "MSI-X vectors (0: INTx only; default one per queue plus one)"),
    TES_PROP_END,
};

static void add(char *buf, size_t size, const char *name, const char *val)
{
    size_t n = strlen(buf);

    n += snprintf(buf + n, n < size ? size - n : 0, "%s%s=", n ? "," : "", name);
    for (; *val && n + 2 < size; val++) {
        buf[n++] = *val;
        if (*val == ',') {
            buf[n++] = ','; /* ",," escapes a comma */
        }
    }
    buf[n < size ? n : size - 1] = 0;
}

static void add_u(char *buf, size_t size, const char *name, unsigned v)
{
    char num[16];

    snprintf(num, sizeof(num), "%u", v);
    add(buf, size, name, num);
}

static int vnet_pci_realize(tes_device *dev, void *s)
{
    vnet_pci *p = s;
    char props[1024] = "", mac[18];
    const struct { const char *name; unsigned v; } nums[] = {
        {"mq", p->mq}, {"queues", p->queues}, {"rx_queue_size", p->rx_queue_size},
        {"tx_queue_size", p->tx_queue_size}, {"csum", p->p_csum},
        {"host_tso4", p->p_host_tso4}, {"host_tso6", p->p_host_tso6},
        {"host_ecn", p->p_host_ecn}, {"guest_csum", p->p_guest_csum},
        {"guest_tso4", p->p_guest_tso4}, {"guest_tso6", p->p_guest_tso6},
        {"guest_ecn", p->p_guest_ecn}, {"mrg_rxbuf", p->p_mrg_rxbuf},
        {"status", p->p_status}, {"ctrl_vq", p->p_ctrl_vq}, {"ctrl_rx", p->p_ctrl_rx},
        {"ctrl_mac_addr", p->p_ctrl_mac_addr},
    };

    if (p->nd) {
        add(props, sizeof(props), "netdev", p->nd);
    }
    snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", p->mac[0], p->mac[1],
             p->mac[2], p->mac[3], p->mac[4], p->mac[5]);
    add(props, sizeof(props), "mac", mac);
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        add_u(props, sizeof(props), nums[i].name, nums[i].v);
    }
    p->px.proxy = vpci_new_vectors(dev, virtio_net_device_type.name, props,
                                   p->vectors == VECTORS_DEFAULT ? -1 : (int)p->vectors);
    return p->px.proxy ? 0 : -EINVAL;
}

static const tes_pci_info vnet_pci_info = {
    .size = sizeof(tes_pci_info),
    .vendor_id = 0x1af4,
    .device_id = 0x1040 + VIRTIO_ID_NET,
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = VIRTIO_ID_NET,
    .revision = 1,
    .class_id = 0x0200, /* network, Ethernet */
    .irq_pin = 1,
};

const tes_type_info virtio_net_pci_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "virtio-net-pci",
    .desc = "virtio network device over PCI",
    .bus = TES_BUS_PCI,
    .instance_size = sizeof(vnet_pci),
    .props = vnet_pci_props,
    .realize = vnet_pci_realize,
    .unrealize = vpci_proxy_unrealize,
    .reset = vpci_proxy_reset,
    .state = &vpci_proxy_state,
    .class_info = &vnet_pci_info,
};
