/*
 * scsi: trace points (sdk trace.h): every command a SCSI bus carries (scsi_req_parsed, as QEMU's), megasas and lsi53c895a registers and interrupts.
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
    E(lsi_irq, (int level), (level), "level %d")
TES_TRACE_DECLARE(SCSI_TRACE)

#endif
