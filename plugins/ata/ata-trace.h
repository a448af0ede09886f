/*
 * ata: trace points (sdk trace.h): AHCI ABAR, PIIX IDE command/control and bus-master registers, AHCI interrupts. QEMU's names where it has them (ahci_mem_*, bmdma_*, ide_ioport_*).
 */
#ifndef ATA_TRACE_H
#define ATA_TRACE_H

#include <tessera/host.h>

extern const tes_host *H;

#define TES_TRACE_TABLE ata_trace_events
#define TES_TRACE_HOST H
#define ATA_TRACE(E) \
    TES_TRACE_RW(E, ahci_mem_read, ahci_mem_write)                                             \
    TES_TRACE_RW(E, bmdma_read, bmdma_write)                                                   \
    TES_TRACE_RW(E, ide_ioport_read, ide_ioport_write)                                         \
    TES_TRACE_RW(E, ide_cmd_read, ide_cmd_write)                                               \
    E(ahci_irq, (int level, int msi), (level, msi), "level %d msi %d")
TES_TRACE_DECLARE(ATA_TRACE)

#endif
