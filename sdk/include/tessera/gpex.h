/*
 * tessera SDK: the interface the generic PCIe host bridge (plugins/pcie,
 * "gpex-pcihost") offers board plugins; installed as <tessera/gpex.h>.
 *
 * gpex-pcihost is a sysbus device; a board (plugins/board-virt) creates
 * it, then asks this interface for the regions to map and wires its four
 * INTx outputs:
 *
 *   #include <tessera/gpex.h>
 *   const tes_gpex_iface *g = H->iface_lookup(TES_GPEX_IFACE,
 *                                             TES_GPEX_IFACE_VERSION);
 *   tes_device *gp = H->dev_create(machine, NULL, "gpex-pcihost",
 *                                  "ecam-buses=16,mmio-base=0x10000000,"
 *                                  "mmio-size=0x2eff0000");
 *   H->region_add(sysmem, 0x3f000000, g->ecam(gp), 0);
 *   H->region_add(sysmem, 0x10000000, g->mmio(gp), 0);
 *   H->region_add(sysmem, 0x8000000000, g->mmio_window(gp, 0x8000000000,
 *                                                   0x8000000000), 0);
 *   H->region_add(sysmem, 0x3eff0000, g->pio(gp), 0);
 *   for (unsigned i = 0; i < 4; i++) {
 *       H->dev_connect_irq(gp, i, gic_spi[3 + i]);
 *   }
 *
 * PCI bus addresses equal CPU addresses in the memory windows (mmio and
 * mmio_window alias the root bus's memory space at the given PCI address;
 * map them at that same CPU address). The I/O window holds PCI ports
 * [0, pio-size). INTx: a device at slot S raising pin P (0 = INTA) drives
 * output (S + P) % 4 after the bridges' swizzle, as QEMU's virt and its
 * device tree interrupt-map describe.
 *
 * Plain C, size-prefixed; new entries go at the end with a version bump
 * (a board asks for the version whose last entry it uses).
 *
 * History: version 1 (SDK 1.1, plugins/pcie/gpex.h, not installed);
 * installed with SDK 1.2, same layout, sizes pinned.
 */
#ifndef TESSERA_GPEX_H
#define TESSERA_GPEX_H

#include <tessera/tessera.h>

#define TES_GPEX_IFACE "gpex"
#define TES_GPEX_IFACE_VERSION 1
#define TES_GPEX_NUM_IRQS 4

typedef struct tes_gpex_iface {
    uint32_t size; /* sizeof(tes_gpex_iface) */
    /* ECAM config space: 1 MiB per bus (ecam-buses buses), offset
     * bus << 20 | devfn << 12 | register. NULL if dev is no gpex-pcihost. */
    tes_region *(*ecam)(tes_device *dev);
    /* The 32-bit memory window [mmio-base, mmio-base + mmio-size). */
    tes_region *(*mmio)(tes_device *dev);
    /* Another memory window (e.g. the 64-bit one) at PCI address pci_addr;
     * owned by dev. NULL when size is 0. */
    tes_region *(*mmio_window)(tes_device *dev, uint64_t pci_addr, uint64_t size);
    /* The I/O window: PCI ports [0, pio-size). */
    tes_region *(*pio)(tes_device *dev);
    /* The root bus, "pcie.0": devices plug into it with bus=pcie.0. */
    tes_bus *(*root_bus)(tes_device *dev);
    /* Route INTx output idx (0..3) to irq; same as host->dev_connect_irq. */
    void (*connect_intx)(tes_device *dev, unsigned idx, tes_irq *irq);
} tes_gpex_iface;

#endif
