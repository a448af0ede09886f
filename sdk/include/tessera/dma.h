/*
 * tessera SDK: DMA and the IOMMU hook.
 *
 * Devices reach guest memory through dma_read/dma_write/dma_map. Addresses
 * are bus addresses; when an IOMMU plugin has claimed the device's bus with
 * dma_set_iommu(), each access is translated first, and each MSI the
 * device sends is offered to its remap_msi (ABI 1.5).
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

    /* ==== ABI 1.5 (the core checks size) ==== */
    /*
     * Interrupt remapping: the MSI a device below the bus sends with
     * host->msi_send (MSI, MSI-X, an I/O APIC's messages) comes here first
     * with its address and data, which the IOMMU may rewrite (a remappable-
     * format message becomes the one its table entry names). rid is the
     * requester id (0 for a device that is not PCI). Returns 0 (the
     * message, rewritten or not, is then written as a DMA), or -EFAULT to
     * drop it (the IOMMU records the fault itself). translate may be NULL
     * in a table that only remaps interrupts (one claiming the system bus
     * for the platform's interrupt controllers); remap_msi NULL: messages
     * are plain DMA writes.
     */
    int (*remap_msi)(void *opaque, uint16_t rid, uint64_t *addr, uint32_t *data);
} tes_iommu_ops;

#endif
