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

/* S3 (suspend to RAM) is SLP_TYP 1 on both, as QEMU's hw/acpi/core.c
 * decodes it and its DSDTs' \_S3 say. */
#define ACPI_SLP_TYP_S3 1u

/* PIIX4 PM (piix.c): PMBASE as QEMU's firmware leaves it, GPE0 at QEMU's
 * 0xafe0 (4 bytes); SLP_TYP 0 is soft off (PIIX4 datasheet, PMCNTRL). */
#define PIIX4_PMBASE 0x600u
#define PIIX4_GPE0 0xafe0u
#define PIIX4_GPE0_LEN 4u
#define PIIX4_SLP_TYP_S5 0u

/* ---- acpi-pm.c: the ACPI PM block of ICH9-LPC and PIIX4_PM ---- */
typedef struct acpi_pm {
    tes_device *dev;   /* its output 0 is the SCI */
    const char *name;  /* for logs */
    unsigned s5_typ;   /* the SLP_TYP that powers off */
    unsigned gpe_off;  /* GPE0 within the PM block; 0: a region of its own */
    unsigned gpe_half; /* bytes of GPE0_STS (GPE0_EN as many, after it) */
    uint16_t pm1_sts, pm1_en, pm1_cnt;
    uint8_t gpe_sts[8], gpe_en[8];
    int sci;
    bool sleeping;     /* in S3 (SLP_TYP 1 written) until the next reset */
    bool waking;       /* the board said the next reset is the wakeup */
    uint16_t wake_sts; /* the wake cause's PM1_STS bits (RTC_STS) */
} acpi_pm;

/* The PM block's inputs (acpi_pm_in). */
#define ACPI_PM_IN_POWER_BUTTON 0
#define ACPI_PM_IN_RTC_ALARM 1  /* from mc146818rtc output 1 */
#define ACPI_PM_IN_RESUME 2     /* from the board, before the wakeup's reset */
/* ACPI_PM_IN_GPE0 + n sets GPE0 status bit n (n < ACPI_PM_GPE_INPUTS): a
 * board's hotplug event, QEMU's acpi_send_event (CPU hotplug is bit 2,
 * \_GPE._E02; memory hotplug bit 3). */
#define ACPI_PM_IN_GPE0 3
#define ACPI_PM_GPE_INPUTS 16
#define ACPI_PM_INPUTS (ACPI_PM_IN_GPE0 + ACPI_PM_GPE_INPUTS)

/* Migration fields of an acpi_pm member m of the owner's state st (the
 * names ICH9-LPC's state version 1 has). */
#define ACPI_PM_FIELDS(st, m)                                                                   \
    {"pm1_sts", TES_FIELD_U16, offsetof(st, m.pm1_sts), 0, 0},                                  \
    {"pm1_en", TES_FIELD_U16, offsetof(st, m.pm1_en), 0, 0},                                    \
    {"pm1_cnt", TES_FIELD_U16, offsetof(st, m.pm1_cnt), 0, 0},                                  \
    {"gpe_sts", TES_FIELD_BYTES, offsetof(st, m.gpe_sts), 8, 0},                                \
    {"gpe_en", TES_FIELD_BYTES, offsetof(st, m.gpe_en), 8, 0},                                  \
    {"sci", TES_FIELD_U32, offsetof(st, m.sci), 0, 0},                                          \
    {"sleeping", TES_FIELD_BOOL, offsetof(st, m.sleeping), 0, 0},                               \
    {"wake_sts", TES_FIELD_U16, offsetof(st, m.wake_sts), 0, 0}

/* The PM block's I/O ops (opaque: the acpi_pm) and its input handler
 * (opaque: the acpi_pm; ACPI_PM_INPUTS inputs, each acting on a rising
 * edge). */
extern const tes_mem_ops acpi_pm_ops;
void acpi_pm_in(void *opaque, int n, int level);

/* Offsets within the PM block (PM1_STS at 0). Writes may raise the SCI. */
uint64_t acpi_pm_read(acpi_pm *pm, uint64_t off, unsigned size);
void acpi_pm_write(acpi_pm *pm, uint64_t off, uint64_t val, unsigned size);
/* Offsets within GPE0 (STS bytes, then EN bytes); call update_sci after. */
uint8_t acpi_pm_gpe_read(acpi_pm *pm, uint64_t off);
void acpi_pm_gpe_write(acpi_pm *pm, uint64_t off, uint8_t b);
void acpi_pm_update_sci(acpi_pm *pm);
void acpi_pm_power_button(acpi_pm *pm);
void acpi_pm_reset(acpi_pm *pm);

extern const tes_type_info i8259_type, ioapic_type, i8254_type, mc146818rtc_type,
    isa_serial_type, i8042_type, ich9_lpc_type, piix3_type, piix4_pm_type;

#endif
