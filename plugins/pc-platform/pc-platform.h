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

/* ---- ich9-tco.c: the ICH9 TCO watchdog and what it reports to ---- */
/* TCO block at PMBASE + 0x60 (ICH9 datasheet 13.9), SMI_EN/SMI_STS at
 * PMBASE + 0x30/0x34 (13.8.3.8-9), GCS in the chipset configuration
 * registers (RCRB) at RCBA + 0x3410 (10.1.75). */
#define ICH9_PMIO_SMI 0x30u
#define ICH9_PMIO_SMI_LEN 8u
#define ICH9_PMIO_TCO 0x60u
#define ICH9_PMIO_TCO_LEN 0x20u
#define ICH9_RCBA 0xfed1c000u /* where QEMU's firmware (SeaBIOS) puts it */
#define ICH9_RCRB_SIZE 0x4000u
#define ICH9_CC_GCS 0x3410u
#define ICH9_CC_GCS_NO_REBOOT 0x20u
#define TCO_TICK_NS 600000000ll /* 0.6 s a tick (ICH9 13.9.8) */

typedef struct ich9_tco {
    tes_device *dev;  /* ICH9-LPC: output 1 is SMI# (pulsed) */
    tes_timer *timer;
    bool noreboot;    /* property: the SPKR "no reboot" strap */
    uint16_t rld, sts1, sts2, cnt1, cnt2, tmr;
    uint8_t din, dout, msg1, msg2, wdcnt, sw_irq_gen;
    uint8_t timeouts; /* expiries since the last reload: the second acts */
    int64_t expire_ns; /* -1: halted */
    uint32_t smi_en, smi_sts, gcs;
} ich9_tco;

/* Migration fields (ICH9-LPC's state version 2). */
#define ICH9_TCO_FIELDS(st, m)                                                                  \
    {"tco_rld", TES_FIELD_U16, offsetof(st, m.rld), 0, 2},                                      \
    {"tco_sts1", TES_FIELD_U16, offsetof(st, m.sts1), 0, 2},                                    \
    {"tco_sts2", TES_FIELD_U16, offsetof(st, m.sts2), 0, 2},                                    \
    {"tco_cnt1", TES_FIELD_U16, offsetof(st, m.cnt1), 0, 2},                                    \
    {"tco_cnt2", TES_FIELD_U16, offsetof(st, m.cnt2), 0, 2},                                    \
    {"tco_tmr", TES_FIELD_U16, offsetof(st, m.tmr), 0, 2},                                      \
    {"tco_din", TES_FIELD_U8, offsetof(st, m.din), 0, 2},                                       \
    {"tco_dout", TES_FIELD_U8, offsetof(st, m.dout), 0, 2},                                     \
    {"tco_msg1", TES_FIELD_U8, offsetof(st, m.msg1), 0, 2},                                     \
    {"tco_msg2", TES_FIELD_U8, offsetof(st, m.msg2), 0, 2},                                     \
    {"tco_wdcnt", TES_FIELD_U8, offsetof(st, m.wdcnt), 0, 2},                                   \
    {"tco_sw_irq_gen", TES_FIELD_U8, offsetof(st, m.sw_irq_gen), 0, 2},                         \
    {"tco_timeouts", TES_FIELD_U8, offsetof(st, m.timeouts), 0, 2},                             \
    {"tco_expire_ns", TES_FIELD_I64, offsetof(st, m.expire_ns), 0, 2},                          \
    {"smi_en", TES_FIELD_U32, offsetof(st, m.smi_en), 0, 2},                                    \
    {"smi_sts", TES_FIELD_U32, offsetof(st, m.smi_sts), 0, 2},                                  \
    {"gcs", TES_FIELD_U32, offsetof(st, m.gcs), 0, 2}

bool ich9_tco_init(ich9_tco *t, tes_device *dev);
void ich9_tco_reset(ich9_tco *t);
/* Offsets within the TCO block / the SMI_EN..SMI_STS pair / the RCRB. */
uint64_t ich9_tco_read(ich9_tco *t, uint64_t off, unsigned size);
void ich9_tco_write(ich9_tco *t, uint64_t off, uint64_t val, unsigned size);
uint64_t ich9_smi_read(ich9_tco *t, uint64_t off, unsigned size);
void ich9_smi_write(ich9_tco *t, uint64_t off, uint64_t val, unsigned size);
extern const tes_mem_ops ich9_rcrb_ops;
/* After a load: false (and an error on dev) when the state is out of
 * range; else the timer is armed again. */
bool ich9_tco_post_load(ich9_tco *t);

extern const tes_type_info i8259_type, ioapic_type, i8254_type, mc146818rtc_type,
    isa_serial_type, i8042_type, ich9_lpc_type, piix3_type, piix4_pm_type;

#endif
