/*
 * tessera SDK: DMA and the IOMMU hook.
 *
 * Devices reach guest memory through dma_read/dma_write/dma_map. Addresses
 * are bus addresses; when an IOMMU plugin has claimed the device's bus with
 * dma_set_iommu(), each access is translated first.
 */
#ifndef TESSERA_DMA_H
#define TESSERA_DMA_H

#include <tessera/types.h>

/*
 * IOMMU translation: translate iova for the device with requester id rid.
 * Fills *pa with the physical address and *len with the number of bytes from
 * iova that map contiguously (at least 1). Returns 0, or -EFAULT when the
 * access faults (the IOMMU records the fault itself).
 */
typedef struct tes_iommu_ops {
    uint32_t size;
    int (*translate)(void *opaque, uint16_t rid, uint64_t iova, bool is_write,
                     uint64_t *pa, uint64_t *len);
} tes_iommu_ops;

#endif
