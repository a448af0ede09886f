/*
 * tessera SDK: the PCI/PCIe model.
 *
 * The core owns config space (4 KiB per function), the capability lists,
 * BAR sizing and mapping as the guest programs them, the command register,
 * INTx routing and MSI/MSI-X delivery. A PCI device type sets bus =
 * TES_BUS_PCI and class_info to a tes_pci_info; in realize it registers BARs
 * and capabilities through the host table.
 */
#ifndef TESSERA_PCI_H
#define TESSERA_PCI_H

#include <tessera/types.h>

/* Config space offsets (PCI Local Bus 3.0, section 6.1). */
#define TES_PCI_VENDOR_ID 0x00
#define TES_PCI_DEVICE_ID 0x02
#define TES_PCI_COMMAND 0x04
#define TES_PCI_STATUS 0x06
#define TES_PCI_REVISION_ID 0x08
#define TES_PCI_CLASS_PROG 0x09
#define TES_PCI_CLASS_DEVICE 0x0a
#define TES_PCI_HEADER_TYPE 0x0e
#define TES_PCI_BAR0 0x10
#define TES_PCI_PRIMARY_BUS 0x18   /* type 1 */
#define TES_PCI_SECONDARY_BUS 0x19 /* type 1 */
#define TES_PCI_SUBORDINATE_BUS 0x1a
#define TES_PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define TES_PCI_SUBSYSTEM_ID 0x2e
#define TES_PCI_CAPABILITY_LIST 0x34
#define TES_PCI_INTERRUPT_LINE 0x3c
#define TES_PCI_INTERRUPT_PIN 0x3d
#define TES_PCI_BRIDGE_CONTROL 0x3e

#define TES_PCI_COMMAND_IO 0x1
#define TES_PCI_COMMAND_MEMORY 0x2
#define TES_PCI_COMMAND_MASTER 0x4
#define TES_PCI_COMMAND_INTX_DISABLE 0x400
#define TES_PCI_STATUS_INTERRUPT 0x08
#define TES_PCI_STATUS_CAP_LIST 0x10

/* Capability IDs. */
#define TES_PCI_CAP_ID_PM 0x01
#define TES_PCI_CAP_ID_MSI 0x05
#define TES_PCI_CAP_ID_VNDR 0x09
#define TES_PCI_CAP_ID_EXP 0x10
#define TES_PCI_CAP_ID_MSIX 0x11
/* Extended capability IDs. */
#define TES_PCI_EXT_CAP_ID_ERR 0x0001
#define TES_PCI_EXT_CAP_ID_DSN 0x0003

/* PCIe device/port types (PCIe Capability register bits 7:4). */
#define TES_PCIE_TYPE_ENDPOINT 0x0
#define TES_PCIE_TYPE_LEG_END 0x1
#define TES_PCIE_TYPE_ROOT_PORT 0x4
#define TES_PCIE_TYPE_UPSTREAM 0x5
#define TES_PCIE_TYPE_DOWNSTREAM 0x6
#define TES_PCIE_TYPE_RC_END 0x9

/* BAR flags for pci_register_bar(). */
#define TES_PCI_BAR_MEM32 0x0
#define TES_PCI_BAR_IO 0x1
#define TES_PCI_BAR_MEM64 0x4
#define TES_PCI_BAR_PREFETCH 0x8

struct tes_pci_info {
    uint32_t size; /* sizeof(tes_pci_info) */
    uint16_t vendor_id, device_id;
    uint16_t subsystem_vendor_id, subsystem_id;
    uint8_t revision;
    uint8_t prog_if;
    uint16_t class_id; /* base class << 8 | subclass */
    uint8_t header_type; /* 0 = endpoint, 1 = PCI-to-PCI bridge */
    uint8_t irq_pin;     /* 0 none, 1 = INTA# .. 4 = INTD# */
    /*
     * Optional config-space hooks. The default read returns the config
     * array; the default write applies the writable mask and the core's BAR,
     * command, MSI and MSI-X handling. A hook that wants the default calls
     * host->pci_default_config_read/write.
     */
    uint32_t (*config_read)(tes_device *dev, void *s, uint32_t off, unsigned len);
    void (*config_write)(tes_device *dev, void *s, uint32_t off, uint32_t val, unsigned len);
};

/*
 * INTx routing of a bus: maps a device's pin (0 = INTA#) to the pin seen on
 * the parent side. Root buses route to interrupt lines of the platform with
 * pci_bus_set_irqs(); bridges swizzle (PCI-to-PCI Bridge 1.2, section 9.1).
 */
typedef int (*tes_pci_map_irq)(void *opaque, uint8_t devfn, int pin);

#endif
