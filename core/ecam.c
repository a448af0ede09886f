/*
 * tessera core: ECAM, the PCIe Enhanced Configuration Access Mechanism
 * (PCIe Base 6.0, section 7.2.2), decoded in one place for every host
 * bridge (gpex, q35, the none machine's test bridge).
 *
 * A window of size bytes maps config space of the root bus's hierarchy:
 * offset A[27:20] bus, A[19:15] device, A[14:12] function, A[11:0]
 * register. Bus numbers route through bridges as the guest numbered them.
 */
#include "core.h"

static uint64_t ecam_read(void *opaque, uint64_t off, unsigned size)
{
    return pci_host_config_read(opaque, (uint8_t)(off >> 20), (uint8_t)(off >> 12),
                                off & 0xfff, size);
}

static void ecam_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    pci_host_config_write(opaque, (uint8_t)(off >> 20), (uint8_t)(off >> 12), off & 0xfff,
                          (uint32_t)val, size);
}

static const tes_mem_ops ecam_ops = {
    .size = sizeof(tes_mem_ops),
    .read = ecam_read,
    .write = ecam_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 4,
    .impl_min = 1, .impl_max = 4,
};

tes_region *pci_ecam_new(tes_device *owner, tes_bus *root, uint64_t size)
{
    if (!root || !size || size > 256ull << 20 || (size & 0xfffff)) {
        return NULL;
    }
    return region_new_io(owner, "pcie-ecam", size, &ecam_ops, root);
}
