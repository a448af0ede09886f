/*
 * tessera SDK: ACPI tables from devices that are not the board's own
 * (ABI 1.5).
 *
 * Some devices are described to the OS by an ACPI table of their own
 * rather than by the DSDT: an IOMMU by the DMAR (Intel VT-d) or IVRS
 * table, a TPM by TPM2. A board that writes ACPI tables (q35) registers
 * this interface with host->iface_register(TES_ACPI_IFACE,
 * TES_ACPI_IFACE_VERSION, &table) in its init, before any -device is
 * created; such a device looks it up in realize and hands the board the
 * body of its table. The board writes the header (OEM ids, length,
 * checksum), lists the table in the RSDT and XSDT, and rewrites the
 * tables in guest memory (and in -M q35,dumpacpi=DIR).
 *
 * It is an interface between plugins (host->iface_lookup, SDK 1.0): no
 * entry of the host table changes, so it needs no newer core. A device
 * that finds no such interface is on a board without ACPI tables (virt,
 * pc for the devices it does not describe) and says so in realize.
 */
#ifndef TESSERA_ACPI_H
#define TESSERA_ACPI_H

#include <stddef.h>
#include <tessera/types.h>

#define TES_ACPI_IFACE "acpi"
#define TES_ACPI_IFACE_VERSION 1

typedef struct tes_acpi_iface {
    uint32_t size; /* sizeof(tes_acpi_iface) */
    /*
     * Add a table of signature sig (4 characters, "DMAR") and revision rev
     * whose bytes after the 36-byte header are body[0..len). Copied.
     * Returns 0, -EEXIST (a table of that signature is there already),
     * -ENOSPC (no room left in the board's table area) or -EINVAL.
     */
    int (*add_table)(const char *sig, uint8_t rev, const void *body, size_t len);
    /*
     * The root bus of PCI segment seg as the board's tables describe it
     * (MCFG, the DSDT's PCI0): where a DMAR's INCLUDE_PCI_ALL unit claims
     * DMA with host->dma_set_iommu. NULL when the board has no such bus.
     */
    tes_bus *(*pci_root)(uint16_t seg);
} tes_acpi_iface;

#endif
