/*
 * scsi: trace points (sdk trace.h): every command a SCSI bus carries
 * (scsi_req_parsed, as QEMU's), megasas and lsi53c895a registers and
 * interrupts, virtio-scsi's requests, task management, asynchronous
 * notification and events (QEMU's virtio_scsi_* names and formats).
 */
#ifndef SCSI_TRACE_H
#define SCSI_TRACE_H

#include <tessera/host.h>

extern const tes_host *H;

#define TES_TRACE_TABLE scsi_trace_events
#define TES_TRACE_HOST H
#define SCSI_TRACE(E) \
    E(scsi_req_parsed, (int target, int lun, uint64_t tag, int cmd), (target, lun, tag, cmd),  \
      "target %d lun %d tag %" PRIu64 " command 0x%02x")                                       \
    TES_TRACE_RW(E, megasas_mmio_read, megasas_mmio_write)                                     \
    TES_TRACE_RW(E, megasas_port_read, megasas_port_write)                                     \
    TES_TRACE_RW(E, megasas_queue_read, megasas_queue_write)                                   \
    E(megasas_irq, (int msi, int level), (msi, level), "msi %d level %d")                      \
    TES_TRACE_RW(E, lsi_reg_read, lsi_reg_write)                                               \
    TES_TRACE_RW(E, lsi_ram_read, lsi_ram_write)                                               \
    E(lsi_irq, (int level), (level), "level %d")                                               \
    E(virtio_scsi_cmd_req, (int lun, uint32_t tag, uint8_t cmd), (lun, tag, cmd),              \
      "virtio_scsi_cmd_req lun=%u tag=0x%x cmd=0x%x")                                          \
    E(virtio_scsi_cmd_resp, (int lun, uint32_t tag, int response, uint8_t status),             \
      (lun, tag, response, status),                                                            \
      "virtio_scsi_cmd_resp lun=%u tag=0x%x response=%d status=0x%x")                          \
    E(virtio_scsi_tmf_req, (int lun, uint32_t tag, int subtype), (lun, tag, subtype),          \
      "virtio_scsi_tmf_req lun=%u tag=0x%x subtype=%d")                                        \
    E(virtio_scsi_tmf_resp, (int lun, uint32_t tag, int response), (lun, tag, response),       \
      "virtio_scsi_tmf_resp lun=%u tag=0x%x response=%d")                                      \
    E(virtio_scsi_an_req, (int lun, uint32_t event_requested), (lun, event_requested),         \
      "virtio_scsi_an_req lun=%u event_requested=0x%x")                                        \
    E(virtio_scsi_an_resp, (int lun, int response), (lun, response),                           \
      "virtio_scsi_an_resp lun=%u response=%d")                                                \
    E(virtio_scsi_event, (int lun, int event, int reason), (lun, event, reason),               \
      "virtio_scsi_event lun=%u event=%d reason=%d")
TES_TRACE_DECLARE(SCSI_TRACE)

#endif
