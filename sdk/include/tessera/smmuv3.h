/*
 * tessera SDK: the interface the iommu plugin's Arm SMMUv3 ("arm-smmuv3")
 * offers boards; installed as <tessera/smmuv3.h>.
 *
 * arm-smmuv3 is a sysbus device with one MMIO region (128 KiB: register
 * pages 0 and 1) and four interrupt outputs, in the order of the device
 * tree binding's interrupt-names as QEMU's virt writes them: 0 eventq,
 * 1 priq, 2 cmdq-sync, 3 gerror (edge-triggered: each is a pulse). A board
 * creates it, maps the region, wires the outputs, and hands it the PCI
 * bus whose DMA it translates (stream id = requester id):
 *
 *   #include <tessera/smmuv3.h>
 *   const tes_smmuv3_iface *si = H->iface_lookup(TES_SMMUV3_IFACE,
 *                                                TES_SMMUV3_IFACE_VERSION);
 *   tes_device *smmu = H->dev_create(machine, NULL, "arm-smmuv3", NULL);
 *   H->region_add(sysmem, 0x09050000, H->dev_mmio(smmu, 0), 0);
 *   for (unsigned i = 0; i < TES_SMMUV3_NUM_IRQS; i++) {
 *       H->dev_connect_irq(smmu, i, gic_spi[74 + i]);
 *   }
 *   si->attach(smmu, pci_root_bus);
 *
 * Plain C, size-prefixed; new entries go at the end with a version bump.
 */
#ifndef TESSERA_SMMUV3_H
#define TESSERA_SMMUV3_H

#include <tessera/tessera.h>

#define TES_SMMUV3_IFACE "arm-smmuv3"
#define TES_SMMUV3_IFACE_VERSION 1
#define TES_SMMUV3_NUM_IRQS 4
#define TES_SMMUV3_MMIO_SIZE 0x20000u

typedef struct tes_smmuv3_iface {
    uint32_t size; /* sizeof(tes_smmuv3_iface) */
    /* Translate every DMA of the devices below bus (its requester ids are
     * the stream ids). 0, or -EINVAL when dev is no arm-smmuv3 or bus is
     * NULL. One bus per SMMU; a second attach moves the claim. */
    int (*attach)(tes_device *dev, tes_bus *bus);
} tes_smmuv3_iface;

#endif
