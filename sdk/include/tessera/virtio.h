/*
 * tessera SDK: the virtio plugin's interface (installed as <tessera/virtio.h>),
 * which other plugins use to provide virtio
 * devices (virtio-scsi, virtio-net, vendor devices) without writing a
 * transport. Plain C, every struct starts with its size; tables only grow.
 *
 * A virtio device type sets bus = TES_VIRTIO_BUS ("virtio") and, in realize,
 * plugs itself into the transport it was put on (virtio-pci, virtio-mmio):
 *
 *   const tes_virtio_ops *vio = H->iface_lookup(TES_VIRTIO_IFACE,
 *                                               TES_VIRTIO_IFACE_VERSION);
 *   tes_virtio_dev_info info = {.size = sizeof(info), .device_id = 8,
 *       .num_queues = 3, .queue_size = 256, .config_size = sizeof(cfg),
 *       .features = MY_FEATURES, .ops = &my_ops, .opaque = s};
 *   s->vdev = vio->plug(dev, &info);   // NULL: reported through H->error
 *
 * and in unrealize calls vio->unplug(s->vdev). The transport owns the
 * virtqueues, feature negotiation, device status and migrates all of it
 * (with the device's own save/load inside its section). The device handles
 * queues: handle_queue() runs when the driver kicks; it pops elements
 * (scatter-gather lists mapped straight from guest memory), and pushes them
 * back (in any order, later is fine) with the byte count it wrote.
 *
 * PCI types carrying a virtio device ("virtio-blk-pci") live in the virtio
 * plugin for now; version 2 dropped the pci_proxy_* entries that would let
 * another plugin define one (never called nor tested; they come back, with
 * tests, with the first plugin that needs them).
 *
 * History: version 1 (SDK 1.1, as tessera/virtio/virtio-dev.h, not part
 * of the versioned SDK headers); version 2 (SDK 1.2): installed as
 * <tessera/virtio.h>, pci_proxy_* removed, sizes pinned.
 *
 * Every call runs with the machine lock held, like all device callbacks.
 */
#ifndef TESSERA_VIRTIO_H
#define TESSERA_VIRTIO_H

#include <tessera/tessera.h>

struct iovec;

#define TES_VIRTIO_IFACE "virtio"
#define TES_VIRTIO_IFACE_VERSION 2
#define TES_VIRTIO_BUS "virtio" /* bus kind of the transports' child buses */

/* Feature bits the transport handles itself (virtio 1.2, section 6). */
#define TES_VIRTIO_F_INDIRECT_DESC 28
#define TES_VIRTIO_F_EVENT_IDX 29
#define TES_VIRTIO_F_VERSION_1 32

/* Device status bits (virtio 1.2, section 2.1). */
#define TES_VIRTIO_S_ACKNOWLEDGE 0x01
#define TES_VIRTIO_S_DRIVER 0x02
#define TES_VIRTIO_S_DRIVER_OK 0x04
#define TES_VIRTIO_S_FEATURES_OK 0x08
#define TES_VIRTIO_S_NEEDS_RESET 0x40
#define TES_VIRTIO_S_FAILED 0x80

typedef struct tes_virtio tes_virtio;         /* a device plugged in a transport */
typedef struct tes_virtq tes_virtq;           /* one of its virtqueues */
typedef struct tes_virtio_pci tes_virtio_pci; /* a virtio-pci transport */

/* One descriptor chain, mapped: out = device-readable, in = device-writable. */
typedef struct tes_virtio_elem {
    uint32_t size;   /* sizeof(tes_virtio_elem) */
    uint16_t head;   /* descriptor index the chain starts at */
    uint16_t queue;  /* queue index */
    unsigned out_num, in_num;
    struct iovec *out, *in; /* host pointers into guest RAM */
    uint64_t out_len, in_len; /* byte totals */
    void *priv; /* priv_size bytes asked from pop(), zeroed, for the device */
} tes_virtio_elem;

/* What a device provides. Every callback gets info.opaque. */
typedef struct tes_virtio_dev_ops {
    uint32_t size; /* sizeof(tes_virtio_dev_ops) */
    /* Device config space (little-endian fields); off + len <= config_size. */
    void (*config_read)(void *opaque, uint32_t off, void *buf, uint32_t len);
    void (*config_write)(void *opaque, uint32_t off, const void *buf, uint32_t len);
    /* The driver kicked queue vq (number index). */
    void (*handle_queue)(void *opaque, tes_virtq *vq, unsigned index);
    /* Finish (complete and push) every request in flight: reset, migration. */
    void (*quiesce)(void *opaque);
    /* Device reset (after quiesce): drop device state to power-on values. */
    void (*reset)(void *opaque);
    /* Status written by the driver (optional). */
    void (*set_status)(void *opaque, uint8_t status);
    /* The device's own migration state (optional), saved inside the
     * transport's section after the queues. Return 0 or -errno. */
    int (*save)(void *opaque, tes_stream *out);
    int (*load)(void *opaque, tes_stream *in);
} tes_virtio_dev_ops;

/* Given to plug(); copied. */
typedef struct tes_virtio_dev_info {
    uint32_t size;        /* sizeof(tes_virtio_dev_info) */
    uint16_t device_id;   /* virtio device id: 2 block, 4 entropy, ... */
    uint16_t num_queues;  /* 1..64 */
    uint16_t queue_size;  /* maximum queue size, a power of two <= 1024 */
    uint32_t config_size; /* bytes of device config space, <= 0x1000 */
    /* Device-specific feature bits offered; the transport adds VERSION_1,
     * INDIRECT_DESC and EVENT_IDX. */
    uint64_t features;
    const tes_virtio_dev_ops *ops;
    void *opaque;
} tes_virtio_dev_info;

/* Interface "virtio" version 2: what the transports provide to devices. */
typedef struct tes_virtio_ops {
    uint32_t size; /* sizeof(tes_virtio_ops) */
    /* Plug dev (a type with bus = "virtio") into the transport of its bus.
     * NULL after reporting through H->error(dev) (no transport, occupied). */
    tes_virtio *(*plug)(tes_device *dev, const tes_virtio_dev_info *info);
    void (*unplug)(tes_virtio *v);
    tes_virtq *(*queue)(tes_virtio *v, unsigned index);
    /* Next available chain of vq, NULL when none or when the chain is
     * malformed (the device is then marked NEEDS_RESET and the driver told). */
    tes_virtio_elem *(*pop)(tes_virtq *vq, size_t priv_size);
    /* Give e back to the driver with written bytes in its in-buffers; frees
     * e. notify() then interrupts the driver if it wants it (EVENT_IDX,
     * NO_INTERRUPT). */
    void (*push)(tes_virtq *vq, tes_virtio_elem *e, uint32_t written);
    void (*notify)(tes_virtq *vq);
    /* Config space changed: bump config_generation and interrupt. */
    void (*config_changed)(tes_virtio *v);
    /* Unrecoverable device error: NEEDS_RESET and a config interrupt. */
    void (*set_needs_reset)(tes_virtio *v);
    uint64_t (*features)(tes_virtio *v); /* negotiated */
    uint8_t (*status)(tes_virtio *v);
} tes_virtio_ops;

/* Interface "virtio-mmio" version 1: for machines placing transports.
 * (The transport also registers its region with host->dev_init_mmio, so a
 * board may use dev_mmio(dev, 0) instead.) */
#define TES_VIRTIO_MMIO_IFACE "virtio-mmio"
#define TES_VIRTIO_MMIO_IFACE_VERSION 1
#define TES_VIRTIO_MMIO_SIZE 0x200

typedef struct tes_virtio_mmio_ops {
    uint32_t size; /* sizeof(tes_virtio_mmio_ops) */
    /* The register region of a "virtio-mmio" device (map it with
     * H->region_add), NULL for another type. Its irq is output 0. */
    tes_region *(*region)(tes_device *dev);
} tes_virtio_mmio_ops;

#endif
