/*
 * arm-platform: trace points (sdk trace.h): PL011 and PL031 registers and the PL011's interrupt, GICv2 distributor/CPU interface, v2m and GICv3 ITS registers. QEMU's names where it has them (pl011_*, pl031_*, gicv3_its_*).
 */
#ifndef PLAT_TRACE_H
#define PLAT_TRACE_H

#include <tessera/host.h>

extern const tes_host *plat_host;

#define TES_TRACE_TABLE plat_trace_events
#define TES_TRACE_HOST plat_host
#define PLAT_TRACE(E) \
    TES_TRACE_RW(E, pl011_read, pl011_write)                                                   \
    E(pl011_irq_state, (int level), (level), "irq state %d")                                  \
    TES_TRACE_RW(E, pl031_read, pl031_write)                                                   \
    TES_TRACE_RW(E, gic_dist_read, gic_dist_write)                                             \
    TES_TRACE_RW(E, gic_cpu_read, gic_cpu_write)                                               \
    TES_TRACE_RW(E, gicv2m_read, gicv2m_write)                                                 \
    TES_TRACE_RW(E, gicv3_its_read, gicv3_its_write)                                           \
    TES_TRACE_RW(E, gicv3_dist_read, gicv3_dist_write)                                         \
    TES_TRACE_RW(E, gicv3_redist_read, gicv3_redist_write)
TES_TRACE_DECLARE(PLAT_TRACE)

#endif
