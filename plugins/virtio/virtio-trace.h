/*
 * virtio: trace points of the transports (sdk trace.h), so every virtio
 * device (blk, scsi, net, rng, iommu) is traced: register accesses,
 * queue notifications (the driver's kicks) and interrupts; and the
 * devices' own: virtio-gpu's commands and error responses, virtio-blk's
 * and virtio-rng's requests, virtio-net's control commands and frames
 * (sent, received, dropped and why), virtio-input's events, status
 * entries and config selects. QEMU's names where it has the event
 * (virtio_mmio_setting_irq, virtio_queue_notify, virtio_input_queue_full).
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
    E(virtio_mmio_setting_irq, (int level), (level), "virtio_mmio setting IRQ %d")            \
    E(virtio_gpu_cmd_get_display_info, (void), (), "")                                         \
    E(virtio_gpu_cmd_get_edid, (uint32_t scanout), (scanout), "scanout %u")                    \
    E(virtio_gpu_cmd_res_create_2d, (uint32_t res, uint32_t fmt, uint32_t w, uint32_t h),     \
      (res, fmt, w, h), "res 0x%x, fmt 0x%x, w %u, h %u")                                      \
    E(virtio_gpu_cmd_res_unref, (uint32_t res), (res), "res 0x%x")                             \
    E(virtio_gpu_cmd_set_scanout,                                                              \
      (uint32_t id, uint32_t res, uint32_t w, uint32_t h, uint32_t x, uint32_t y),            \
      (id, res, w, h, x, y), "id %u, res 0x%x, w %u, h %u, x %u, y %u")                        \
    E(virtio_gpu_cmd_res_flush, (uint32_t res, uint32_t w, uint32_t h, uint32_t x, uint32_t y), \
      (res, w, h, x, y), "res 0x%x, size %ux%u, offset %u,%u")                                 \
    E(virtio_gpu_cmd_res_xfer_toh_2d,                                                          \
      (uint32_t res, uint32_t w, uint32_t h, uint32_t x, uint32_t y, uint64_t off),           \
      (res, w, h, x, y, off), "res 0x%x, size %ux%u, at %u,%u, offset 0x%" PRIx64)             \
    E(virtio_gpu_cmd_res_back_attach, (uint32_t res, uint32_t nr), (res, nr),                 \
      "res 0x%x, %u entries")                                                                  \
    E(virtio_gpu_cmd_res_back_detach, (uint32_t res), (res), "res 0x%x")                       \
    E(virtio_gpu_update_cursor,                                                                \
      (uint32_t scanout, uint32_t x, uint32_t y, const char *type, uint32_t res),             \
      (scanout, x, y, type, res), "scanout %u @ %u,%u, type %s, res 0x%x")                     \
    E(virtio_gpu_ctrl_error, (uint32_t cmd, uint32_t resp), (cmd, resp),                      \
      "command 0x%x: error 0x%x")                                                               \
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
    E(virtio_rng_pushed, (void *rng, size_t len), (rng, len), "rng %p: %zd bytes pushed")       \
    E(virtio_net_handle_ctrl, (int cls, int cmd, size_t len, int ack), (cls, cmd, len, ack),   \
      "class %d cmd %d (%zu bytes) ack %d")                                                    \
    E(virtio_net_handle_mq, (unsigned old_pairs, unsigned pairs), (old_pairs, pairs),          \
      "queue pairs %u -> %u")                                                                  \
    E(virtio_net_tx, (unsigned queue, size_t len), (queue, len),                              \
      "queue %u: frame of %zu bytes sent")                                                     \
    E(virtio_net_rx, (unsigned queue, size_t len, unsigned bufs), (queue, len, bufs),         \
      "queue %u: frame of %zu bytes received in %u buffers")                                   \
    E(virtio_net_rx_drop, (unsigned queue, size_t len, const char *why), (queue, len, why),   \
      "queue %u: frame of %zu bytes dropped: %s")                                              \
    E(virtio_net_link_status, (int up), (up), "link up %d")                                    \
    E(virtio_input_event, (uint16_t type, uint16_t code, uint32_t value), (type, code, value), \
      "type 0x%x code 0x%x value 0x%x")                                                        \
    E(virtio_input_queue_full, (void), (), "queue full")                                       \
    E(virtio_input_status, (uint16_t type, uint16_t code, uint32_t value), (type, code, value),\
      "type 0x%x code 0x%x value 0x%x")                                                        \
    E(virtio_input_config, (uint8_t select, uint8_t subsel), (select, subsel),                 \
      "select 0x%x subsel 0x%x")
TES_TRACE_DECLARE(VIRTIO_TRACE)

#endif
