/*
 * pc-platform: the ACPI PM register block (ACPI 6.4, 4.8: PM1 event and
 * control registers, PM timer, GPE0) that ICH9-LPC (ich9-lpc.c) and
 * PIIX4_PM (piix.c) both carry; each maps it at its PMBASE and says where
 * its GPE0 block is. Linux reads PM1_TMR for clocksource calibration
 * (acpi_pm), takes the SCI on IRQ 9, powers off with PM1_CNT =
 * SLP_TYP(\_S5) | SLP_EN and suspends to RAM with SLP_TYP(\_S3) (the core
 * stops the vCPUs until a wakeup resets the machine). ACPI mode is fixed
 * on: SMI_CMD is 0 in the FADT and SCI_EN reads 1.
 *
 * Inputs: 0 the fixed power button (a rising edge presses it); 1 the CMOS
 * RTC's alarm (its output 1): it sets RTC_STS, and in S3 with RTC_EN wakes
 * the machine (QEMU's QEMU_WAKEUP_REASON_RTC); 2 the board's "resume" at
 * a wakeup: the reset that follows leaves WAK_STS set with the cause
 * (RTC_STS for the alarm, PWRBTN_STS otherwise, as QEMU's
 * acpi_notify_wakeup), where a plain reset clears PM1_STS.
 */
#include "pc-platform.h"
#include "pc-trace.h"

#define PM1_PWRBTN_STS 0x0100
#define PM1_RTC_STS 0x0400
#define PM1_WAK_STS 0x8000
#define PM1_RTC_EN 0x0400
#define PM1_STS_MASK 0x8d31 /* WAK, PWRBTN, RTC, GBL, BM, TMR */
#define PM1_EN_MASK 0x0521  /* RTC_EN, PWRBTN_EN, GBL_EN, TMR_EN */
#define PM1_CNT_SCI_EN 0x0001
#define PM1_CNT_SLP_EN 0x2000
#define PM1_CNT_SLP_TYP(v) (((v) >> 10) & 7)
#define PM_TMR_HZ 3579545ull

static uint32_t pm_timer(void)
{
    return (uint32_t)((unsigned __int128)H->clock_ns() * PM_TMR_HZ / 1000000000u);
}

void acpi_pm_update_sci(acpi_pm *pm)
{
    bool gpe = false;
    int level;

    for (unsigned i = 0; i < pm->gpe_half; i++) {
        gpe |= (pm->gpe_sts[i] & pm->gpe_en[i]) != 0;
    }
    level = gpe || (pm->pm1_sts & pm->pm1_en & PM1_EN_MASK);
    if (level != pm->sci) {
        pm->sci = level;
        if (pm->gpe_off) {
            trace_ich9_pm_sci(level);
        }
        H->dev_set_irq(pm->dev, 0, level);
    }
}

static void pm1_cnt_write(acpi_pm *pm, uint16_t val)
{
    unsigned typ = PM1_CNT_SLP_TYP(val);

    pm->pm1_cnt = (val & ~PM1_CNT_SLP_EN) | PM1_CNT_SCI_EN;
    if (!(val & PM1_CNT_SLP_EN)) {
        return;
    }
    if (typ == pm->s5_typ) {
        H->log(TES_LOG_TRACE, "%s: ACPI S5 (soft off)", pm->name);
        H->request_shutdown(0);
    } else if (typ == ACPI_SLP_TYP_S3) {
        H->log(TES_LOG_TRACE, "%s: ACPI S3 (suspend to RAM)", pm->name);
        pm->sleeping = true;
        H->request_suspend();
    } else {
        H->log(TES_LOG_UNIMP, "%s: sleep state SLP_TYP %u not supported (only S3 = %u, S5 = %u)",
               pm->name, typ, ACPI_SLP_TYP_S3, pm->s5_typ);
    }
}

uint8_t acpi_pm_gpe_read(acpi_pm *pm, uint64_t o)
{
    if (o < pm->gpe_half) {
        return pm->gpe_sts[o];
    }
    return o < 2u * pm->gpe_half ? pm->gpe_en[o - pm->gpe_half] : 0;
}

void acpi_pm_gpe_write(acpi_pm *pm, uint64_t o, uint8_t b)
{
    if (o < pm->gpe_half) {
        pm->gpe_sts[o] &= (uint8_t)~b; /* write 1 to clear */
    } else if (o < 2u * pm->gpe_half) {
        pm->gpe_en[o - pm->gpe_half] = b;
    }
}

/* One byte of the block: PM1_STS, PM1_EN, PM1_CNT, PM_TMR, then GPE0 at
 * gpe_off when the owner keeps it in the same block. */
static uint64_t pm_byte(acpi_pm *pm, uint64_t o)
{
    if (o < 2) {
        return pm->pm1_sts >> (8 * o);
    } else if (o < 4) {
        return pm->pm1_en >> (8 * (o - 2));
    } else if (o < 6) {
        return pm->pm1_cnt >> (8 * (o - 4));
    } else if (o >= 8 && o < 12) {
        return pm_timer() >> (8 * (o - 8));
    } else if (pm->gpe_off && o >= pm->gpe_off) {
        return acpi_pm_gpe_read(pm, o - pm->gpe_off);
    }
    return 0;
}

uint64_t acpi_pm_read(acpi_pm *pm, uint64_t off, unsigned size)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < size; i++) {
        v |= (pm_byte(pm, off + i) & 0xff) << (8 * i);
    }
    return v;
}

static void pm_write_byte(acpi_pm *pm, uint64_t o, uint8_t b)
{
    if (o < 2) {
        /* write 1 to clear */
        pm->pm1_sts &= (uint16_t) ~((b << (8 * o)) & PM1_STS_MASK);
    } else if (o < 4) {
        unsigned sh = 8 * (unsigned)(o - 2);
        pm->pm1_en = (uint16_t)((pm->pm1_en & ~(0xff << sh)) | ((b << sh) & PM1_EN_MASK));
    } else if (pm->gpe_off && o >= pm->gpe_off && o < pm->gpe_off + 2u * pm->gpe_half) {
        acpi_pm_gpe_write(pm, o - pm->gpe_off, b);
    } else if (o < 8 || o >= 12) {
        H->log(TES_LOG_UNIMP, "%s: write 0x%02x to PM register 0x%llx ignored", pm->name, b,
               (unsigned long long)o);
    }
}

void acpi_pm_write(acpi_pm *pm, uint64_t off, uint64_t val, unsigned size)
{
    if (off == 4 && size >= 2) {
        pm1_cnt_write(pm, (uint16_t)val);
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        if (off + i == 4 || off + i == 5) {
            /* a byte-wide PM1_CNT write: merge, then apply as a word */
            unsigned sh = 8 * (unsigned)(off + i - 4);
            uint16_t cnt = (uint16_t)((pm->pm1_cnt & ~(0xff << sh)) |
                                      (((val >> (8 * i)) & 0xff) << sh));
            pm1_cnt_write(pm, cnt);
        } else {
            pm_write_byte(pm, off + i, (uint8_t)(val >> (8 * i)));
        }
    }
    acpi_pm_update_sci(pm);
}

/* Whose PM block (the ICH9's holds GPE0; the PIIX4's has it apart) and
 * whether off is in GPE0, for the trace point's name. */
static void pm_trace(acpi_pm *pm, uint64_t off, unsigned size, uint64_t val, bool write)
{
    bool gpe = pm->gpe_off && off >= pm->gpe_off && off < pm->gpe_off + 2u * pm->gpe_half;

    if (!pm->gpe_off) {
        write ? trace_piix4_pm_io_write(off, size, val) : trace_piix4_pm_io_read(off, size, val);
    } else if (gpe) {
        write ? trace_ich9_gpe_writeb(off - pm->gpe_off, size, val)
              : trace_ich9_gpe_readb(off - pm->gpe_off, size, val);
    } else {
        write ? trace_ich9_pm_io_write(off, size, val) : trace_ich9_pm_io_read(off, size, val);
    }
}

static uint64_t pm_io_read(void *opaque, uint64_t off, unsigned size)
{
    uint64_t v = acpi_pm_read(opaque, off, size);

    pm_trace(opaque, off, size, v, false);
    return v;
}

static void pm_io_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    pm_trace(opaque, off, size, val, true);
    acpi_pm_write(opaque, off, val, size);
}

const tes_mem_ops acpi_pm_ops = {
    .size = sizeof(tes_mem_ops),
    .read = pm_io_read,
    .write = pm_io_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 4,
    .impl_min = 1, .impl_max = 4,
};

/* The RTC alarm sets RTC_STS, running or not (ICH9 and PIIX4 datasheets:
 * "set when the RTC generates an alarm"), so RTC_EN raises the SCI: how
 * Linux's rtc-cmos wakes an x86 guest from s2idle (its ACPI fixed event,
 * not IRQ 8). QEMU sets it only on a wake from S3 and so cannot wake
 * s2idle by the alarm. In S3 with RTC_EN it is the wake cause (QEMU's
 * wakeup_reason_mask checks the same enable). */
static void rtc_alarm(acpi_pm *pm)
{
    pm->pm1_sts |= PM1_RTC_STS;
    if (pm->sleeping && (pm->pm1_en & PM1_RTC_EN)) {
        pm->wake_sts |= PM1_RTC_STS;
        H->log(TES_LOG_TRACE, "%s: RTC alarm wakes from S3", pm->name);
        H->request_wakeup();
    }
    acpi_pm_update_sci(pm);
}

void acpi_pm_in(void *opaque, int n, int level)
{
    acpi_pm *pm = opaque;

    if (!level) {
        return;
    }
    if (n == ACPI_PM_IN_POWER_BUTTON) {
        acpi_pm_power_button(pm);
    } else if (n == ACPI_PM_IN_RTC_ALARM) {
        rtc_alarm(pm);
    } else if (n == ACPI_PM_IN_RESUME && pm->sleeping) {
        pm->waking = true;
    } else if (n >= ACPI_PM_IN_GPE0 && (unsigned)(n - ACPI_PM_IN_GPE0) / 8 < pm->gpe_half) {
        /* A general-purpose event (QEMU's acpi_send_event): the board's
         * hotplug controller asks the guest to run \_GPE._Exx. */
        unsigned bit = (unsigned)(n - ACPI_PM_IN_GPE0);

        pm->gpe_sts[bit / 8] |= (uint8_t)(1u << (bit % 8));
        acpi_pm_update_sci(pm);
    }
}

/* The fixed power button (system_powerdown): PWRBTN_STS, SCI when enabled. */
void acpi_pm_power_button(acpi_pm *pm)
{
    pm->pm1_sts |= PM1_PWRBTN_STS;
    acpi_pm_update_sci(pm);
}

void acpi_pm_reset(acpi_pm *pm)
{
    /* The reset of a wakeup from S3 leaves WAK_STS and the cause set, as
     * QEMU's acpi_notify_wakeup after its reset: the OS's wake path reads
     * and clears them (Linux's rtc-cmos reports the alarm from RTC_STS). */
    if (pm->waking) {
        pm->pm1_sts = PM1_WAK_STS | (pm->wake_sts ? pm->wake_sts : PM1_PWRBTN_STS);
    } else {
        pm->pm1_sts = 0;
    }
    pm->pm1_en = 0;
    pm->sleeping = pm->waking = false;
    pm->wake_sts = 0;
    pm->pm1_cnt = PM1_CNT_SCI_EN;
    memset(pm->gpe_sts, 0, sizeof(pm->gpe_sts));
    memset(pm->gpe_en, 0, sizeof(pm->gpe_en));
    pm->sci = 0;
    H->dev_set_irq(pm->dev, 0, 0);
}
