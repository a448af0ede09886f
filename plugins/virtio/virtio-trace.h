/*
 * virtio: trace points of the transports (sdk trace.h), so every virtio
 * device (blk, scsi, net, rng, iommu) is traced: register accesses,
 * queue notifications (the driver's kicks) and interrupts. QEMU's names
 * where it has the event (virtio_mmio_setting_irq, virtio_queue_notify).
 */
#ifndef VIRTIO_TRACE_H
#define VIRTIO_TRACE_H

#include <tessera/host.h>

extern const tes_host *H;

#define TES_TRACE_TABLE virtio_trace_events
#define TES_TRACE_HOST H
#define VIRTIO_TRACE(E)                                                                        \
    TES_TRACE_RW(E, virtio_pci_common_read, virtio_pci_common_write)                           \
    TES_TRACE_RW(E, virtio_pci_isr_read, virtio_pci_isr_write)                                 \
    TES_TRACE_RW(E, virtio_pci_device_read, virtio_pci_device_write)                           \
    TES_TRACE_RW(E, virtio_mmio_read, virtio_mmio_write)                                       \
    E(virtio_queue_notify, (const char *dev, unsigned queue), (dev, queue),                    \
      "device %s queue %u")                                                                    \
    E(virtio_pci_notify, (const char *dev, unsigned vector), (dev, vector),                    \
      "device %s MSI-X vector %u")                                                             \
    E(virtio_pci_intx, (const char *dev, int level), (dev, level), "device %s INTx level %d")  \
    E(virtio_mmio_setting_irq, (int level), (level), "virtio_mmio setting IRQ %d")             \
    E(virtio_blk_handle_read, (void *vdev, void *req, uint64_t sector, size_t nsectors),       \
      (vdev, req, sector, nsectors), "vdev %p req %p sector %" PRIu64 " nsectors %zu")         \
    E(virtio_blk_handle_write, (void *vdev, void *req, uint64_t sector, size_t nsectors),      \
      (vdev, req, sector, nsectors), "vdev %p req %p sector %" PRIu64 " nsectors %zu")         \
    E(virtio_blk_handle_req, (void *vdev, void *req, uint32_t type), (vdev, req, type),        \
      "vdev %p req %p type %" PRIu32)                                                          \
    E(virtio_blk_req_complete, (void *vdev, void *req, int status), (vdev, req, status),       \
      "vdev %p req %p status %d")                                                              \
    E(virtio_rng_request, (void *rng, size_t size, unsigned quota), (rng, size, quota),        \
      "rng %p: %zu bytes requested, %u bytes quota left")                                      \
    E(virtio_rng_pushed, (void *rng, size_t len), (rng, len), "rng %p: %zd bytes pushed")
TES_TRACE_DECLARE(VIRTIO_TRACE)

#endif
