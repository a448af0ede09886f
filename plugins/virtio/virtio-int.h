/*
 * virtio plugin internals: the transport-independent virtio core (queues,
 * features, status) shared by virtio-pci and virtio-mmio, and the device
 * types of this plugin.
 */
#ifndef VIRTIO_INT_H
#define VIRTIO_INT_H

#include <tessera/tessera.h>

#include <tessera/virtio.h>

#define VIRTIO_MAX_QUEUES 64
#define VIRTIO_MAX_QUEUE_SIZE 1024
#define VIRTIO_NO_VECTOR 0xffff
/* Interrupt status bits (ISR on PCI, InterruptStatus on MMIO). */
#define VIRTIO_ISR_QUEUE 0x1
#define VIRTIO_ISR_CONFIG 0x2

extern const tes_host *H;

/* How a transport signals the driver. */
typedef struct vtransport_ops {
    void (*notify_queue)(void *t, tes_virtq *vq);
    void (*notify_config)(void *t);
} vtransport_ops;

struct tes_virtq {
    tes_virtio *v;
    uint16_t index;
    uint16_t num; /* size the driver set */
    bool ready;
    uint64_t desc, avail, used; /* guest addresses */
    uint16_t last_avail;        /* next avail entry to pop */
    uint16_t used_idx;          /* shadow of used->idx */
    uint16_t signalled_used;    /* EVENT_IDX: used_idx at the last interrupt */
    bool signalled_valid;
    bool notify_deferred; /* vq_notify_now is queued (defer_call) and has not run */
    uint16_t vector; /* MSI-X vector (virtio-pci) */
    unsigned inflight;
    /* Host pointers to the rings, valid for generation gen (vq_gen). */
    uint64_t gen;
    bool mapped;
    uint8_t *desc_p, *avail_p, *used_p;
};

struct tes_virtio {
    tes_device *tdev; /* the transport: DMA master */
    const vtransport_ops *tops;
    void *topaque;
    tes_device *dev; /* the plugged device, NULL when empty */
    tes_virtio_dev_info info;
    uint64_t host_features, guest_features;
    uint8_t status, config_gen, isr;
    bool broken; /* a malformed chain was seen: pops stop until reset */
    bool has_dgen; /* the core has dma_generation (1.8) */
    bool has_defer; /* the core has defer_call (1.11) */
    /* Guest RAM the descriptors point into, mapped once per generation
     * (the rest of a RAM region from start): a dma_map per descriptor
     * otherwise, ~100 instructions each. */
    struct vwin {
        uint64_t gen, start, end; /* gen 0: empty */
        uint8_t *host;
        bool write;
    } win[2];
    tes_virtq vq[VIRTIO_MAX_QUEUES];
};

/* virtio.c: the core, called by transports. */
void vcore_init(tes_virtio *v, tes_device *tdev, const vtransport_ops *tops, void *topaque);
void vcore_reset(tes_virtio *v);
void vcore_set_status(tes_virtio *v, uint8_t val);
void vcore_set_driver_features(tes_virtio *v, unsigned sel, uint32_t val);
uint32_t vcore_device_features(tes_virtio *v, unsigned sel);
uint32_t vcore_config_read(tes_virtio *v, uint32_t off, unsigned size);
void vcore_config_write(tes_virtio *v, uint32_t off, uint32_t val, unsigned size);
void vcore_queue_set_num(tes_virtio *v, unsigned q, uint16_t num);
bool vcore_queue_enable(tes_virtio *v, unsigned q);
void vcore_queue_notify(tes_virtio *v, unsigned q);
unsigned vcore_num_queues(tes_virtio *v);
uint16_t vcore_queue_max(tes_virtio *v, unsigned q);
void vcore_quiesce(tes_virtio *v);
int vcore_save(tes_virtio *v, tes_stream *out);
int vcore_load(tes_virtio *v, tes_stream *in);
void vcore_guest_error(tes_virtio *v, const char *fmt, ...) TES_PRINTF(2, 3);

/* For this plugin's devices: is a chain waiting on q (without popping)?
 * And give back the chain popped last, unused, as if never popped (LIFO:
 * rewind several in the reverse order of their pops). */
bool vq_has_avail(tes_virtq *q);
void vq_rewind(tes_virtq *q, tes_virtio_elem *e);

/* Stream helpers (little-endian on the wire). */
void put_u64(tes_stream *s, uint64_t v);
int get_u64(tes_stream *s, uint64_t *v);

/* The interface table (virtio.c), for this plugin's own devices. */
extern const tes_virtio_ops virtio_ops;

/* Types. */
extern const tes_type_info virtio_mmio_type;
extern const tes_type_info virtio_blk_device_type, virtio_blk_pci_type;
extern const tes_type_info virtio_rng_device_type, virtio_rng_pci_type;
extern const tes_type_info virtio_net_device_type, virtio_net_pci_type;
extern const tes_type_info virtio_scsi_pci_type;
extern const tes_type_info virtio_iommu_pci_type;
extern const tes_type_info virtio_keyboard_device_type, virtio_keyboard_pci_type;
extern const tes_type_info virtio_mouse_device_type, virtio_mouse_pci_type;
extern const tes_type_info virtio_tablet_device_type, virtio_tablet_pci_type;
extern const tes_type_info virtio_gpu_device_type, virtio_gpu_pci_type;
extern const tes_virtio_mmio_ops virtio_mmio_ops;

/* virtio-pci.c */
tes_virtio_pci *vpci_new(tes_device *pci_dev, const char *vdev_type, const char *props);
/* The same with nvec MSI-X vectors (0: no MSI-X, INTx only; -1: one per
 * queue plus one for configuration changes, as vpci_new). */
tes_virtio_pci *vpci_new_vectors(tes_device *pci_dev, const char *vdev_type, const char *props,
                                 int nvec);
void vpci_free(tes_virtio_pci *p);
void vpci_reset(tes_virtio_pci *p);
int vpci_pre_save(tes_virtio_pci *p);
int vpci_save(tes_virtio_pci *p, tes_stream *out);
int vpci_load(tes_virtio_pci *p, tes_stream *in);

/* Shared by the PCI proxy types of this plugin: the instance starts with
 * the proxy pointer, then the forwarded properties. */
/* virtio-pci.c's transport (here so that tests can reach its state). */
struct tes_virtio_pci {
    tes_device *dev;
    tes_bus *bus;
    tes_virtio v;
    uint32_t dfselect, gfselect;
    uint16_t queue_sel, msix_config;
    unsigned nvec; /* MSI-X vectors, 0 for none */
};

typedef struct vpci_proxy {
    tes_virtio_pci *proxy;
} vpci_proxy;
extern const tes_state_info vpci_proxy_state;
void vpci_proxy_unrealize(tes_device *dev, void *s);
void vpci_proxy_reset(tes_device *dev, void *s);

#endif
