/*
 * pc-platform: what the plugin's files share. Internal (not SDK): boards
 * reach these devices through the host table only (dev_irq_in, dev_mmio,
 * dev_connect_irq), CPUs through the CPU<->board interface (the 8259's
 * INTR output and acknowledge cycle, the I/O APIC's messages to the LAPIC
 * window and the LAPICs' EOI broadcasts).
 */
#ifndef PC_PLATFORM_H
#define PC_PLATFORM_H

#include <stdbool.h>
#include <string.h>
#include <tessera/tessera.h>

extern const tes_host *pc_host; /* set by the plugin's init */
#define H pc_host

/* ICH9 ACPI PM block (ich9-lpc.c): fixed at PMBASE, as QEMU's q35 (the
 * board's FADT and DSDT say the same); SLP_TYP 5 is S5 (the DSDT's \_S5). */
#define ICH9_PMBASE 0x600u
#define ICH9_SLP_TYP_S5 5u

extern const tes_type_info i8259_type, ioapic_type, i8254_type, mc146818rtc_type,
    isa_serial_type, i8042_type, ich9_lpc_type;

#endif
