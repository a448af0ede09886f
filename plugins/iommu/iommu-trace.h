/*
 * iommu: trace points (sdk trace.h): VT-d and SMMUv3 register accesses
 * and SMMUv3 interrupts, with QEMU's names (vtd_reg_*, smmuv3_*_mmio,
 * smmuv3_trigger_irq); virtio-iommu's requests, translations, faults,
 * config and resets with QEMU's virtio_iommu_* names and formats (the
 * translate event's "mr" is the device type: there is one per machine),
 * and virtio_iommu_probe (ours: a PROBE request's endpoint).
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
    E(smmuv3_trigger_irq, (unsigned irq), (irq), "irq=%u")                                     \
    E(virtio_iommu_device_reset, (void), (), "reset!")                                         \
    E(virtio_iommu_system_reset, (void), (), "system reset!")                                  \
    E(virtio_iommu_get_config,                                                                 \
      (uint64_t page_size_mask, uint64_t start, uint64_t end, uint32_t domain_start,          \
       uint32_t domain_end, uint32_t probe_size, uint8_t bypass),                              \
      (page_size_mask, start, end, domain_start, domain_end, probe_size, bypass),              \
      "page_size_mask=0x%" PRIx64 " input range start=0x%" PRIx64 " input range end=0x%" PRIx64 \
      " domain range start=%d domain range end=%d probe_size=0x%x bypass=0x%x")                \
    E(virtio_iommu_set_config, (uint8_t bypass), (bypass), "bypass=0x%x")                      \
    E(virtio_iommu_attach, (uint32_t domain_id, uint32_t ep_id), (domain_id, ep_id),           \
      "domain=%d endpoint=%d")                                                                 \
    E(virtio_iommu_detach, (uint32_t domain_id, uint32_t ep_id), (domain_id, ep_id),           \
      "domain=%d endpoint=%d")                                                                 \
    E(virtio_iommu_map,                                                                        \
      (uint32_t domain_id, uint64_t virt_start, uint64_t virt_end, uint64_t phys_start,       \
       uint32_t flags),                                                                        \
      (domain_id, virt_start, virt_end, phys_start, flags),                                    \
      "domain=%d virt_start=0x%" PRIx64 " virt_end=0x%" PRIx64 " phys_start=0x%" PRIx64        \
      " flags=%d")                                                                             \
    E(virtio_iommu_unmap, (uint32_t domain_id, uint64_t virt_start, uint64_t virt_end),       \
      (domain_id, virt_start, virt_end),                                                       \
      "domain=%d virt_start=0x%" PRIx64 " virt_end=0x%" PRIx64)                                \
    E(virtio_iommu_probe, (uint32_t ep_id), (ep_id), "endpoint=%d")                            \
    E(virtio_iommu_fill_resv_property,                                                         \
      (uint32_t devid, uint8_t subtype, uint64_t start, uint64_t end),                         \
      (devid, subtype, start, end), "dev= %d, type=%d start=0x%" PRIx64 " end=0x%" PRIx64)     \
    E(virtio_iommu_translate, (const char *name, uint32_t rid, uint64_t iova, int flag),       \
      (name, rid, iova, flag), "mr=%s rid=%d addr=0x%" PRIx64 " flag=%d")                      \
    E(virtio_iommu_translate_out, (uint64_t virt_addr, uint64_t phys_addr, uint32_t sid),      \
      (virt_addr, phys_addr, sid), "0x%" PRIx64 " -> 0x%" PRIx64 " for sid=%d")                \
    E(virtio_iommu_report_fault, (uint8_t reason, uint32_t flags, uint32_t endpoint,          \
                                  uint64_t addr),                                              \
      (reason, flags, endpoint, addr),                                                         \
      "FAULT reason=%d flags=%d endpoint=%d address =0x%" PRIx64)
TES_TRACE_DECLARE(IOMMU_TRACE)

#endif
