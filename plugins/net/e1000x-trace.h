/*
 * e1000/e1000e: trace points (sdk trace.h) for both models: register
 * accesses through BAR0 and the I/O window, and interrupts.
 */
#ifndef E1000X_TRACE_H
#define E1000X_TRACE_H

#include <tessera/host.h>

extern const tes_host *H;

#define TES_TRACE_TABLE e1000x_trace_events
#define TES_TRACE_HOST H
#define E1000X_TRACE(E)                                                                        \
    TES_TRACE_RW(E, e1000x_mmio_read, e1000x_mmio_write)                                       \
    TES_TRACE_RW(E, e1000x_io_read, e1000x_io_write)                                           \
    E(e1000x_irq_legacy_notify, (int level), (level), "INTx level %d")                         \
    E(e1000x_irq_msi_notify, (unsigned vector, uint32_t causes), (vector, causes),            \
      "MSI/MSI-X vector %u causes 0x%" PRIx32)
TES_TRACE_DECLARE(E1000X_TRACE)

#endif
