/*
 * iommu: trace points (sdk trace.h): VT-d and SMMUv3 register accesses and SMMUv3 interrupts, with QEMU's names (vtd_reg_*, smmuv3_*_mmio, smmuv3_trigger_irq).
 */
#ifndef IOMMU_TRACE_H
#define IOMMU_TRACE_H

#include <tessera/host.h>

extern const tes_host *iommu_host;

#define TES_TRACE_TABLE iommu_trace_events
#define TES_TRACE_HOST iommu_host
#define IOMMU_TRACE(E) \
    TES_TRACE_RW(E, vtd_reg_read, vtd_reg_write)                                               \
    TES_TRACE_RW(E, smmuv3_read_mmio, smmuv3_write_mmio)                                       \
    E(smmuv3_trigger_irq, (unsigned irq), (irq), "irq=%u")
TES_TRACE_DECLARE(IOMMU_TRACE)

#endif
