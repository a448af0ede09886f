/*
 * board-q35: the q35 machine's layout and the interfaces between its
 * parts: q35.c (the board), q35-host.c (PCIe host bridge, MCH), acpi.c
 * (ACPI tables), boot.c (the Linux bzImage loader). Internal to the
 * plugin. The CPUs (cpu-x86) and the platform devices (pc-platform:
 * 8259, I/O APIC, 8254, RTC, 16550A, i8042, ICH9 LPC with the ACPI PM
 * block) are other plugins, reached through the SDK.
 */
#ifndef BOARD_Q35_H
#define BOARD_Q35_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tessera/tessera.h>
#include <tessera/pxb.h>

#include "aml.h"

extern const tes_host *q35_tes_host; /* set by the plugin's init (q35.c) */
#define H q35_tes_host

#define KiB 1024ull
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)

/* Physical memory map (QEMU's q35 where it has one). */
#define Q35_LOWMEM_MAX 0x80000000ull  /* RAM below 4 GiB ends here at most */
#define Q35_HIGHMEM_BASE 0x100000000ull
#define Q35_ECAM_BASE 0xb0000000ull   /* MCH PCIEXBAR: 256 buses */
#define Q35_ECAM_BUSES 256u
#define Q35_PCI_MEM32_BASE 0xc0000000ull
#define Q35_PCI_MEM32_END 0xfec00000ull /* exclusive: IOAPIC above */
#define Q35_PCI_MEM64_SIZE (32 * GiB)
#define Q35_IOAPIC_BASE 0xfec00000ull
#define Q35_LAPIC_BASE 0xfee00000ull
#define Q35_PCI_IO_BASE 0x1000u        /* PCI port window above legacy ISA */
#define Q35_ACPI_BASE 0xe0000ull       /* ACPI tables: 0xe0000..0xfffff */
#define Q35_ACPI_SIZE 0x20000ull

/* ICH9 ACPI PM block at PMBASE (ICH9 datasheet 13.8.3): where pc-platform's
 * ICH9-LPC puts it (fixed, as QEMU's), which the FADT and DSDT describe. */
#define Q35_PMBASE 0x600u
#define Q35_PM1_EVT (Q35_PMBASE + 0x00) /* PM1_STS (2), PM1_EN (2) */
#define Q35_PM1_CNT (Q35_PMBASE + 0x04)
#define Q35_PM_TMR (Q35_PMBASE + 0x08)
#define Q35_GPE0 (Q35_PMBASE + 0x20)    /* GPE0_STS (8), GPE0_EN (8) */
#define Q35_GPE0_LEN 16u
#define Q35_RESET_PORT 0xcf9u           /* ICH9 RST_CNT */
#define Q35_RESET_VALUE 0x06u           /* RST_CPU | SYS_RST */
#define Q35_SCI_IRQ 9u
#define Q35_SLP_TYP_S5 5u               /* what \_S5 says and PM1_CNT decodes */
#define Q35_SLP_TYP_S3 1u               /* \_S3: QEMU's value, as PM1_CNT decodes */

/* PCI INTx: a device at slot S pin P (0 = INTA) on pcie.0 raises GSI
 * 16 + (S + P) % 8; the DSDT's _PRT says the same. */
#define Q35_PCI_GSI_BASE 16u
#define Q35_PCI_GSIS 8u
static inline unsigned q35_pci_gsi(unsigned slot, unsigned pin)
{
    return Q35_PCI_GSI_BASE + (slot + pin) % Q35_PCI_GSIS;
}

/* ---- q35-host.c ---- */
extern const tes_type_info q35_pcihost_type, q35_mch_type;
/* The ECAM region of a q35-pcihost, for the machine to map; its root
 * bus pcie.0 and memory space: x86_pci_host_bus / _mem (pci-conf.h). */
tes_region *q35_pcihost_ecam(tes_device *dev);
tes_device *q35_pcihost_lpc(tes_device *dev); /* its ICH9-LPC at 1f.0 */

/* ---- acpi.c ---- */
#define Q35_MAX_CPUS 8

typedef struct q35_acpi_cfg {
    x86_acpi_devs devs;       /* processors, NVDIMMs, memory slots */
    uint64_t mem64_base, mem64_size; /* the 64-bit PCI window (size 0: none) */
    /* tables devices added (tessera/acpi.h: the DMAR of intel-iommu) */
    const struct acpi_dev_table *dev_tables;
    unsigned ndev_tables;
    /* PCI expander bridges on pcie.0 (tessera/pxb.h), ascending bus_nr */
    const tes_pxb_info *pxbs;
    unsigned npxbs;
} q35_acpi_cfg;

/* Build RSDP, RSDT, XSDT, FADT, FACS, DSDT, MADT and MCFG into buf, which
 * the guest sees at physical address base. Returns the bytes used (the
 * RSDP comes first, at base), or 0 when len is too small. */
size_t q35_acpi_build(const q35_acpi_cfg *cfg, uint8_t *buf, uint64_t base, size_t len);
/* Walk built tables: the i-th table the XSDT lists (0 is the FADT, whose
 * DSDT and FACS come as i = n and n + 1), with its signature in sig[5].
 * NULL past the end. For -M q35,dumpacpi=DIR and the tests. */
const uint8_t *q35_acpi_table(const uint8_t *buf, uint64_t base, size_t len, unsigned i,
                              char sig[5], size_t *tlen);

/* ---- boot.c (boot.h, shared with board-pc) ---- */
#include "boot.h"
/* The e820 map of q35 (the default when q35_boot_cfg has none). */
unsigned q35_e820_build(uint64_t lowmem, uint64_t highmem, q35_e820 *map);

#endif
