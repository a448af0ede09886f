/*
 * iommu plugin: one IOMMU per root bus. host->dma_set_iommu lets the last
 * claim win silently, so the plugin's devices (intel-iommu, virtio-iommu)
 * note here which of them translates a bus and refuse a second one with
 * one line. Private to the plugin (its devices share this table).
 */
#ifndef IOMMU_CLAIM_H
#define IOMMU_CLAIM_H

#include <tessera/tessera.h>

/* The type name of the device that translates bus, NULL when none. */
const char *iommu_holder(tes_bus *bus);
/* owner (its state) translates bus from now on; false when the table is
 * full (it holds more buses than any machine has). */
bool iommu_claim(tes_bus *bus, const void *owner, const char *type);
/* Forget owner's claims (unrealize). */
void iommu_unclaim(const void *owner);

#endif
