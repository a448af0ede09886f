/*
 * board-pc: the `pc` machine's layout and the interfaces between its
 * parts: pc.c (the board), i440fx.c (host bridge, PAM), acpi-pc.c (the
 * DSDT and the table set). Internal to the plugin. The bzImage loader and
 * the ACPI writer are board-q35's static library (boot.h, aml.h); the
 * CPUs (cpu-x86) and the platform devices (pc-platform: 8259, I/O APIC,
 * 8254, RTC, 16550A, i8042, PIIX3, PIIX4_PM) are other plugins, reached
 * through the SDK.
 */
#ifndef BOARD_PC_H
#define BOARD_PC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tessera/tessera.h>
#include <tessera/pxb.h>

#include "aml.h"

extern const tes_host *pc_tes_host; /* set by the plugin's init (pc.c) */
#define H pc_tes_host

#define KiB 1024ull
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)

/* Physical memory map (QEMU's pc): RAM below 4 GiB is all of it when it
 * is smaller than 3.5 GiB, else 3 GiB (QEMU's gigabyte_align); the rest
 * goes above 4 GiB. The 32-bit PCI window runs from the end of low RAM
 * to the IOAPIC. */
#define PC_LOWMEM_LIMIT 0xe0000000ull /* RAM at least this big is split */
#define PC_LOWMEM_SPLIT 0xc0000000ull /* ... at 3 GiB */
#define PC_HIGHMEM_BASE 0x100000000ull
#define PC_PCI_MEM32_END 0xfec00000ull /* exclusive: IOAPIC above */
#define PC_PCI_MEM64_SIZE (32 * GiB)
#define PC_IOAPIC_BASE 0xfec00000ull
#define PC_LAPIC_BASE 0xfee00000ull
#define PC_ACPI_BASE 0xe0000ull        /* ACPI tables: 0xe0000..0xfffff */
#define PC_ACPI_SIZE 0x20000ull
/* The BIOS area 0xc0000..0xfffff as the PCI side (PAM disabled) sees it:
 * a ROM holding the ACPI tables, also mapped below 4 GiB like QEMU's
 * pc.bios. */
#define PC_BIOS_AREA 0xc0000ull
#define PC_BIOS_AREA_SIZE 0x40000ull
#define PC_BIOS_ROM_HIGH (0x100000000ull - PC_BIOS_AREA_SIZE)

/* PIIX4 PM block (pc-platform's PIIX4_PM): PMBASE 0x600, GPE0 at 0xafe0,
 * SCI on IRQ 9, soft off is SLP_TYP 0 (what \_S5 says). */
#define PC_PMBASE 0x600u
#define PC_PM1_EVT (PC_PMBASE + 0x00)
#define PC_PM1_CNT (PC_PMBASE + 0x04)
#define PC_PM_TMR (PC_PMBASE + 0x08)
#define PC_GPE0 0xafe0u
#define PC_GPE0_LEN 4u
#define PC_RESET_PORT 0xcf9u           /* PIIX3 reset control */
#define PC_RESET_VALUE 0x06u
#define PC_SCI_IRQ 9u
#define PC_SLP_TYP_S5 0u
#define PC_SLP_TYP_S3 1u /* \_S3: QEMU's value, as PM1_CNT decodes */

/* PCI interrupts: PIRQA..D (PIIX3 0x60..0x63) take the ISA IRQs the
 * DSDT's link devices LNKA..LNKD offer (_PRS: 5, 10, 11), level, active
 * high, as the MADT's overrides say (with the SCI's 9). */
#define PC_PIRQ_IRQS 0x0e20u            /* 5, 9, 10, 11 */

/* ---- i440fx.c ---- */
/* The host's root bus pci.0 and memory space: x86_pci_host_bus / _mem
 * (pci-conf.h). */
extern const tes_type_info i440fx_pcihost_type, i440fx_type;
/* The BIOS ROM (PC_BIOS_AREA_SIZE bytes, the PCI side of 0xc0000..) to
 * fill; the bridge's reset copies it into shadow RAM when bios-shadowed. */
uint8_t *i440fx_pcihost_bios(tes_device *dev);

/* ---- acpi-pc.c ---- */
#define PC_MAX_CPUS 8

typedef struct pc_acpi_cfg {
    x86_acpi_devs devs;                /* processors, NVDIMMs, memory slots */
    uint64_t mem32_base;               /* the 32-bit PCI window's start */
    uint64_t mem64_base, mem64_size;   /* the 64-bit PCI window (size 0: none) */
    /* PCI expander bridges on pci.0 (tessera/pxb.h), ascending bus_nr */
    const tes_pxb_info *pxbs;
    unsigned npxbs;
} pc_acpi_cfg;

size_t pc_acpi_build(const pc_acpi_cfg *cfg, uint8_t *buf, uint64_t base, size_t len);

#endif
