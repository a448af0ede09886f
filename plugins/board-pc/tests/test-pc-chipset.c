/*
 * The pc chipset through the harness, no guest: the i440FX function's PAM
 * decoding of 0xc0000..0xfffff (ROM side at reset, each RE/WE mode, per
 * segment, reserved bits, the firmware-like bios-shadowed state, SMRAM's
 * lock), the PIIX3's PIRQ routing (routes, sharing, re-routing, reserved
 * IRQs, the slot swizzle with a real PCI function, migration) and the
 * PIIX4 PM function (PMBA, PM timer, S5 and other sleep types, GPE0, the
 * power button's SCI). Plugins from $BOARD_PC_PLUGIN, $PC_PLATFORM_PLUGIN
 * and $EDU_PLUGIN (meson sets them).
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <tessera/harness.h>

static const char *board_path, *platform_path, *edu_path;

static tes_harness *harness(void)
{
    tes_harness *h = tes_harness_new(16 << 20);

    if (!tes_harness_load(h, board_path) || !tes_harness_load(h, platform_path) ||
        !tes_harness_load(h, edu_path)) {
        g_error("cannot load the plugins: %s", tes_harness_error(h));
    }
    return h;
}

/* ---- i440FX: PAM ---- */

static tes_device *i440fx(tes_harness *h, const char *props)
{
    tes_device *d = tes_harness_device(h, "i440FX", props);

    g_assert_nonnull(d);
    return d;
}

static void test_ids(void)
{
    tes_harness *h = harness();
    tes_device *f = i440fx(h, "addr=00.0");
    tes_device *p = tes_harness_device(h, "PIIX3", "addr=01.0");
    tes_device *pm = tes_harness_device(h, "PIIX4_PM", "addr=01.3");

    g_assert_nonnull(p);
    g_assert_nonnull(pm);
    g_assert_cmphex(tes_harness_cfg_read(h, f, 0, 4), ==, 0x12378086);
    g_assert_cmphex(tes_harness_cfg_read(h, f, 0x08, 1), ==, 0x02);      /* revision */
    g_assert_cmphex(tes_harness_cfg_read(h, p, 0, 4), ==, 0x70008086);
    g_assert_cmphex(tes_harness_cfg_read(h, p, 0x0a, 2), ==, 0x0601);    /* ISA bridge */
    g_assert_cmphex(tes_harness_cfg_read(h, p, 0x0e, 1) & 0x80, ==, 0x80); /* multi-function */
    g_assert_cmphex(tes_harness_cfg_read(h, pm, 0, 4), ==, 0x71138086);
    g_assert_cmphex(tes_harness_cfg_read(h, pm, 0x40, 4), ==, 0x601);    /* PMBA */
    g_assert_cmphex(tes_harness_cfg_read(h, pm, 0x80, 1), ==, 0x01);     /* PMIOSE */
    tes_harness_cfg_write(h, pm, 0x40, 0x1001, 4);                      /* fixed */
    g_assert_cmphex(tes_harness_cfg_read(h, pm, 0x40, 4), ==, 0x601);
    tes_harness_free(h);
}

static void test_pam_reset_is_rom_side(void)
{
    tes_harness *h = harness();
    uint8_t *ram = tes_harness_ram(h);
    tes_device *f;

    memset(ram + 0xb0000, 0xaa, 0x50000);
    f = i440fx(h, "addr=00.0");
    for (unsigned r = 0x59; r <= 0x5f; r++) {
        g_assert_cmphex(tes_harness_cfg_read(h, f, r, 1), ==, 0);
    }
    /* PAM 0: reads from the (empty) BIOS ROM, writes dropped */
    g_assert_cmphex(tes_harness_read(h, 0xf0000, 4), ==, 0);
    g_assert_cmphex(tes_harness_read(h, 0xc0000, 8), ==, 0);
    tes_harness_write(h, 0xf0010, 0x12345678, 4);
    g_assert_cmphex(ram[0xf0010], ==, 0xaa);
    /* below and above the BIOS area: plain RAM */
    g_assert_cmphex(tes_harness_read(h, 0xbfffc, 4), ==, 0xaaaaaaaa);
    g_assert_cmphex(tes_harness_read(h, 0x100000, 1), ==, 0);
    tes_harness_free(h);
}

static void test_pam_modes(void)
{
    tes_harness *h = harness();
    uint8_t *ram = tes_harness_ram(h);
    tes_device *f;
    char *r;

    memset(ram + 0xf0000, 0xaa, 0x10000);
    f = i440fx(h, "addr=00.0");
    tes_harness_log_capture(h, TES_LOG_TRACE);
    r = tes_harness_qmp(h, "{\"execute\": \"trace-event-set-state\", \"arguments\": "
                           "{\"name\": \"i440fx_pam_update\", \"enable\": true}}");
    g_assert_nonnull(strstr(r, "\"return\""));
    free(r);
    tes_harness_cfg_write(h, f, 0x59, 0x10, 1); /* RE: read RAM, writes dropped */
    g_assert_cmphex(tes_harness_read(h, 0xf0000, 2), ==, 0xaaaa);
    tes_harness_write(h, 0xf0000, 0x55, 1);
    g_assert_cmphex(ram[0xf0000], ==, 0xaa);
    tes_harness_cfg_write(h, f, 0x59, 0x20, 1); /* WE: read ROM, write RAM */
    g_assert_cmphex(tes_harness_read(h, 0xf0000, 1), ==, 0);
    tes_harness_write(h, 0xffff0, 0x1122334455667788ull, 8);
    g_assert_cmphex(ram[0xffff0], ==, 0x88);
    g_assert_cmphex(ram[0xffff7], ==, 0x11);
    tes_harness_cfg_write(h, f, 0x59, 0x30, 1); /* RE|WE: the RAM itself */
    g_assert_cmphex(tes_harness_read(h, 0xffff0, 8), ==, 0x1122334455667788ull);
    tes_harness_write(h, 0xf0000, 0x55, 1);
    g_assert_cmphex(ram[0xf0000], ==, 0x55);
    tes_harness_cfg_write(h, f, 0x59, 0x00, 1); /* back to the ROM */
    g_assert_cmphex(tes_harness_read(h, 0xf0000, 1), ==, 0);
    /* Our i440fx_pam_update lines: the segment's map changes (RE|WE is
     * plain RAM, anything else the ROM side's region). */
    g_assert_cmpstr(tes_harness_log_text(h), ==,
                    "i440fx_pam_update PAM segment 0 mode 3 (1 RE, 2 WE)\n"
                    "i440fx_pam_update PAM segment 0 mode 0 (1 RE, 2 WE)\n");
    tes_harness_free(h);
}

/* PAM1 bits 1:0 are 0xc0000..0xc3fff, bits 5:4 0xc4000..0xc7fff. */
static void test_pam_segments(void)
{
    tes_harness *h = harness();
    uint8_t *ram = tes_harness_ram(h);
    tes_device *f;

    memset(ram + 0xc0000, 0xaa, 0x30000);
    f = i440fx(h, "addr=00.0");
    tes_harness_cfg_write(h, f, 0x5a, 0x01, 1);
    g_assert_cmphex(tes_harness_read(h, 0xc3fff, 1), ==, 0xaa);
    g_assert_cmphex(tes_harness_read(h, 0xc4000, 1), ==, 0);
    tes_harness_cfg_write(h, f, 0x5a, 0x10, 1);
    g_assert_cmphex(tes_harness_read(h, 0xc3fff, 1), ==, 0);
    g_assert_cmphex(tes_harness_read(h, 0xc4000, 1), ==, 0xaa);
    tes_harness_cfg_write(h, f, 0x5f, 0x30, 1); /* PAM6 high: 0xec000..0xeffff */
    g_assert_cmphex(tes_harness_read(h, 0xebfff, 1), ==, 0);
    g_assert_cmphex(tes_harness_read(h, 0xec000, 1), ==, 0xaa);
    /* reserved bits read 0: PAM0 3:0, every PAM's 7:6 and 3:2 */
    tes_harness_cfg_write(h, f, 0x59, 0xffffffff, 4);
    g_assert_cmphex(tes_harness_cfg_read(h, f, 0x59, 1), ==, 0x30);
    g_assert_cmphex(tes_harness_cfg_read(h, f, 0x5a, 2), ==, 0x3333);
    tes_harness_free(h);
}

/* bios-shadowed=on: SeaBIOS's state at reset, and again after a reset. */
static void test_pam_bios_shadowed(void)
{
    tes_harness *h = harness();
    uint8_t *ram = tes_harness_ram(h);
    tes_device *f;

    memset(ram + 0xc0000, 0xaa, 0x40000);
    f = i440fx(h, "addr=00.0,bios-shadowed=on");
    g_assert_cmphex(tes_harness_cfg_read(h, f, 0x59, 1), ==, 0x10);
    for (unsigned r = 0x5a; r <= 0x5f; r++) {
        g_assert_cmphex(tes_harness_cfg_read(h, f, r, 1), ==, 0x33);
    }
    /* the ROM (zeros) was copied into RAM; 0xf0000 read-only, 0xe0000 RW */
    g_assert_cmphex(ram[0xc0000], ==, 0);
    tes_harness_write(h, 0xf0000, 0x55, 1);
    tes_harness_write(h, 0xe0000, 0x66, 1);
    g_assert_cmphex(tes_harness_read(h, 0xf0000, 1), ==, 0);
    g_assert_cmphex(tes_harness_read(h, 0xe0000, 1), ==, 0x66);
    tes_harness_cfg_write(h, f, 0x59, 0x00, 1);
    tes_harness_reset(h);
    g_assert_cmphex(tes_harness_cfg_read(h, f, 0x59, 1), ==, 0x10);
    g_assert_cmphex(tes_harness_read(h, 0xe0000, 1), ==, 0);
    tes_harness_free(h);
}

static void test_smram_lock(void)
{
    tes_harness *h = harness();
    tes_device *f = i440fx(h, "addr=00.0");

    g_assert_cmphex(tes_harness_cfg_read(h, f, 0x72, 1), ==, 0x02);
    tes_harness_cfg_write(h, f, 0x72, 0xff, 1);
    g_assert_cmphex(tes_harness_cfg_read(h, f, 0x72, 1), ==, 0x7a);
    tes_harness_cfg_write(h, f, 0x72, 0x00, 1); /* locked: only D_CLS moves */
    g_assert_cmphex(tes_harness_cfg_read(h, f, 0x72, 1), ==, 0x5a);
    tes_harness_reset(h);
    g_assert_cmphex(tes_harness_cfg_read(h, f, 0x72, 1), ==, 0x02);
    tes_harness_free(h);
}

/* The PAM mapping follows the migrated config space. */
static void test_pam_migrates(void)
{
    tes_harness *h = harness();
    uint8_t *ram = tes_harness_ram(h);
    tes_device *f;

    memset(ram + 0xf0000, 0xaa, 0x10000);
    f = i440fx(h, "addr=00.0");
    tes_harness_cfg_write(h, f, 0x59, 0x10, 1);
    f = tes_harness_migrate(h, f, NULL);
    g_assert_nonnull(f);
    g_assert_cmphex(tes_harness_cfg_read(h, f, 0x59, 1), ==, 0x10);
    g_assert_cmphex(tes_harness_read(h, 0xf0000, 1), ==, 0xaa);
    tes_harness_free(h);
}

/* ---- PIIX3: PIRQ routing ---- */

static void pirq(tes_harness *h, tes_device *p, unsigned n, int level)
{
    const tes_host *host = tes_harness_host(h);

    host->irq_set(host->dev_irq_in(p, n), level);
}

static void test_pirq_routes(void)
{
    tes_harness *h = harness();
    tes_device *p = tes_harness_device(h, "PIIX3", "addr=01.0");

    g_assert_nonnull(p);
    for (unsigned n = 0; n < 4; n++) {
        g_assert_cmphex(tes_harness_cfg_read(h, p, 0x60 + n, 1), ==, 0x80);
    }
    pirq(h, p, 2, 1); /* PIRQC asserted, not routed */
    for (unsigned irq = 0; irq < 16; irq++) {
        g_assert_cmpint(tes_harness_irq_level(h, p, irq), ==, 0);
    }
    tes_harness_cfg_write(h, p, 0x62, 10, 1);
    g_assert_cmpint(tes_harness_irq_level(h, p, 10), ==, 1);
    pirq(h, p, 2, 0);
    g_assert_cmpint(tes_harness_irq_level(h, p, 10), ==, 0);
    /* PIRQA and PIRQC share IRQ 11: the line is their OR */
    tes_harness_cfg_write(h, p, 0x60, 0x0b0000 | 11, 4);
    tes_harness_cfg_write(h, p, 0x62, 11, 1);
    pirq(h, p, 0, 1);
    pirq(h, p, 2, 1);
    pirq(h, p, 0, 0);
    g_assert_cmpint(tes_harness_irq_level(h, p, 11), ==, 1);
    /* re-routing an asserted PIRQ moves the level */
    tes_harness_cfg_write(h, p, 0x62, 5, 1);
    g_assert_cmpint(tes_harness_irq_level(h, p, 11), ==, 0);
    g_assert_cmpint(tes_harness_irq_level(h, p, 5), ==, 1);
    /* IRQEN# set: not routed */
    tes_harness_cfg_write(h, p, 0x62, 0x85, 1);
    g_assert_cmpint(tes_harness_irq_level(h, p, 5), ==, 0);
    tes_harness_free(h);
}

static void test_pirq_reserved_irqs(void)
{
    tes_harness *h = harness();
    tes_device *p = tes_harness_device(h, "PIIX3", "addr=01.0");
    static const unsigned reserved[] = {0, 1, 2, 8, 13};

    g_assert_nonnull(p);
    pirq(h, p, 1, 1);
    for (unsigned i = 0; i < G_N_ELEMENTS(reserved); i++) {
        tes_harness_log_clear(h);
        tes_harness_cfg_write(h, p, 0x61, reserved[i], 1);
        g_assert_cmpint(tes_harness_irq_level(h, p, reserved[i]), ==, 0);
        g_assert_nonnull(strstr(tes_harness_log_text(h), "reserved IRQ"));
    }
    /* the register keeps only IRQEN# and the IRQ bits */
    tes_harness_cfg_write(h, p, 0x61, 0x7f, 1);
    g_assert_cmphex(tes_harness_cfg_read(h, p, 0x61, 1), ==, 0x0f);
    g_assert_cmpint(tes_harness_irq_level(h, p, 15), ==, 1);
    tes_harness_free(h);
}

/* A function at slot S pin INTA# raises PIRQ (S - 1) & 3 (QEMU's pc). */
static void test_pirq_slot_swizzle(void)
{
    tes_harness *h = harness();
    tes_device *p = tes_harness_device(h, "PIIX3", "addr=01.0");
    tes_device *edu = tes_harness_device(h, "edu", "addr=03.0");

    g_assert_nonnull(p);
    g_assert_nonnull(edu);
    tes_harness_cfg_write(h, p, 0x60, 0x0b0a0905, 4); /* A 5, B 9, C 10, D 11 */
    tes_harness_bar_map(h, edu, 0, 0x10000000);
    tes_harness_cfg_write(h, edu, 0x04, 0x0002, 2);  /* memory decode */
    tes_harness_write(h, 0x10000000 + 0x60, 1, 4);   /* raise its interrupt */
    g_assert_cmpint(tes_harness_irq_level(h, p, 10), ==, 1); /* slot 3: PIRQC */
    g_assert_cmpint(tes_harness_irq_level(h, p, 5), ==, 0);
    tes_harness_write(h, 0x10000000 + 0x64, 1, 4);   /* acknowledge */
    g_assert_cmpint(tes_harness_irq_level(h, p, 10), ==, 0);
    tes_harness_free(h);
}

static void test_pirq_migrates(void)
{
    tes_harness *h = harness();
    tes_device *p = tes_harness_device(h, "PIIX3", "addr=01.0");

    g_assert_nonnull(p);
    tes_harness_cfg_write(h, p, 0x63, 11, 1);
    pirq(h, p, 3, 1);
    p = tes_harness_migrate(h, p, NULL);
    g_assert_nonnull(p);
    g_assert_cmphex(tes_harness_cfg_read(h, p, 0x63, 1), ==, 11);
    g_assert_cmpint(tes_harness_irq_level(h, p, 11), ==, 1);
    pirq(h, p, 3, 0);
    g_assert_cmpint(tes_harness_irq_level(h, p, 11), ==, 0);
    tes_harness_free(h);
}

/* ---- PIIX4_PM ---- */

static void test_pm_timer(void)
{
    tes_harness *h = harness();
    uint32_t t0, t1;

    g_assert_nonnull(tes_harness_device(h, "PIIX4_PM", "addr=01.3"));
    t0 = (uint32_t)tes_harness_io_read(h, 0x608, 4);
    tes_harness_clock_step(h, 1000000000);
    t1 = (uint32_t)tes_harness_io_read(h, 0x608, 4);
    g_assert_cmpuint(t1 - t0, >=, 3579544);
    g_assert_cmpuint(t1 - t0, <=, 3579546);
    tes_harness_free(h);
}

/* SLP_TYP 0 | SLP_EN is soft off (PIIX4), SLP_TYP 1 is S3 (QEMU's \_S3);
 * other types are not supported. The reset of the wakeup from S3 (the
 * board pulses input 2 before it) leaves WAK_STS set with PWRBTN_STS as
 * the cause of a system_wakeup (QEMU's acpi_notify_wakeup), and only that
 * reset: a system_reset in S3 clears PM1_STS. */
static void pulse(tes_harness *h, tes_device *dev, unsigned input)
{
    const tes_host *host = tes_harness_host(h);

    host->irq_set(host->dev_irq_in(dev, input), 1);
    host->irq_set(host->dev_irq_in(dev, input), 0);
}

static void test_pm_sleep_types(void)
{
    tes_harness *h = harness();
    tes_device *pm = tes_harness_device(h, "PIIX4_PM", "addr=01.3");

    g_assert_nonnull(pm);
    tes_harness_log_capture(h, TES_LOG_TRACE | TES_LOG_UNIMP);
    g_assert_cmphex(tes_harness_io_read(h, 0x604, 2) & 1, ==, 1); /* SCI_EN */
    tes_harness_io_write(h, 0x604, 2 << 10 | 0x2000, 2); /* S4: not supported */
    g_assert_nonnull(strstr(tes_harness_log_text(h), "SLP_TYP 2 not supported"));
    g_assert_null(strstr(tes_harness_log_text(h), "ACPI S"));
    tes_harness_log_clear(h);
    tes_harness_reset(h);
    g_assert_cmphex(tes_harness_io_read(h, 0x600, 2) & 0x8000, ==, 0);
    tes_harness_io_write(h, 0x604, 1 << 10 | 0x2000, 2); /* S3 */
    g_assert_nonnull(strstr(tes_harness_log_text(h), "PIIX4_PM: ACPI S3"));
    g_assert_cmphex(tes_harness_io_read(h, 0x604, 2) & 0x2000, ==, 0); /* SLP_EN reads 0 */
    pulse(h, pm, 2);      /* the board: the next reset is the wakeup */
    tes_harness_reset(h); /* the wakeup's reset */
    g_assert_cmphex(tes_harness_io_read(h, 0x600, 2), ==, 0x8100); /* WAK_STS, PWRBTN */
    tes_harness_io_write(h, 0x600, 0x8100, 2);                     /* write 1 to clear */
    g_assert_cmphex(tes_harness_io_read(h, 0x600, 2), ==, 0);
    tes_harness_reset(h);
    g_assert_cmphex(tes_harness_io_read(h, 0x600, 2), ==, 0);
    pulse(h, pm, 2); /* not in S3: no wakeup */
    tes_harness_reset(h);
    g_assert_cmphex(tes_harness_io_read(h, 0x600, 2), ==, 0);
    tes_harness_io_write(h, 0x604, 1 << 10 | 0x2000, 2); /* S3, then system_reset */
    tes_harness_reset(h);
    g_assert_cmphex(tes_harness_io_read(h, 0x600, 2), ==, 0);
    tes_harness_log_clear(h);
    tes_harness_io_write(h, 0x604, 0x2000, 2); /* S5 */
    g_assert_nonnull(strstr(tes_harness_log_text(h), "PIIX4_PM: ACPI S5"));
    tes_harness_free(h);
}

/* The CMOS RTC's alarm (output 1, wired to the PM block's input 1 as the
 * boards do) sets RTC_STS, running or not (ICH9/PIIX4: "set when the RTC
 * generates an alarm"), only with AIE; RTC_EN turns it into an SCI (how
 * Linux's rtc-cmos leaves s2idle). In S3 with RTC_EN it is the wake cause:
 * the wakeup's reset leaves WAK_STS | RTC_STS (QEMU's
 * QEMU_WAKEUP_REASON_RTC); without RTC_EN the alarm does not wake. */
static void cmos(tes_harness *h, uint8_t reg, uint8_t val)
{
    tes_harness_io_write(h, 0x70, reg, 1);
    tes_harness_io_write(h, 0x71, val, 1);
}

static tes_device *rtc_and_pm(tes_harness *h, tes_device **rtc)
{
    const tes_host *host = tes_harness_host(h);
    tes_device *pm = tes_harness_device(h, "PIIX4_PM", "addr=01.3");

    *rtc = tes_harness_device(h, "mc146818rtc", NULL);
    g_assert_nonnull(pm);
    g_assert_nonnull(*rtc);
    host->dev_connect_irq(*rtc, 1, host->dev_irq_in(pm, 1));
    for (uint8_t r = 1; r <= 5; r += 2) {
        cmos(h, r, 0xc0); /* alarm seconds, minutes, hours: don't care */
    }
    tes_harness_log_capture(h, TES_LOG_TRACE);
    return pm;
}

static void test_pm_rtc_alarm_sets_rtc_sts(void)
{
    tes_harness *h = harness();
    tes_device *rtc, *pm = rtc_and_pm(h, &rtc);

    cmos(h, 0x0b, 0x12); /* UIE only: the clock ticks, no alarm interrupt */
    tes_harness_clock_step(h, 1100000000);
    g_assert_cmpint(tes_harness_irq_level(h, rtc, 0), ==, 1); /* IRQ 8: update */
    g_assert_cmphex(tes_harness_io_read(h, 0x600, 2) & 0x400, ==, 0);
    cmos(h, 0x0b, 0x22); /* AIE */
    tes_harness_clock_step(h, 1000000000);
    g_assert_cmphex(tes_harness_io_read(h, 0x600, 2) & 0x400, ==, 0x400);
    g_assert_cmpint(tes_harness_irq_level(h, pm, 0), ==, 0); /* RTC_EN clear */
    tes_harness_io_write(h, 0x602, 0x400, 2);                /* RTC_EN */
    g_assert_cmpint(tes_harness_irq_level(h, pm, 0), ==, 1);
    tes_harness_io_write(h, 0x600, 0x400, 2); /* write 1 to clear */
    g_assert_cmpint(tes_harness_irq_level(h, pm, 0), ==, 0);
    tes_harness_clock_step(h, 1000000000);    /* the next alarm: the SCI again */
    g_assert_cmpint(tes_harness_irq_level(h, pm, 0), ==, 1);
    g_assert_null(strstr(tes_harness_log_text(h), "wakes from S3")); /* running */
    tes_harness_free(h);
}

static void test_pm_rtc_alarm_wakes_s3(void)
{
    tes_harness *h = harness();
    tes_device *rtc, *pm = rtc_and_pm(h, &rtc);

    tes_harness_io_write(h, 0x604, 1 << 10 | 0x2000, 2); /* S3 without RTC_EN */
    cmos(h, 0x0b, 0x22);
    tes_harness_clock_step(h, 1100000000);
    g_assert_null(strstr(tes_harness_log_text(h), "wakes from S3"));
    pulse(h, pm, 2); /* a system_wakeup: the cause is the "power button" */
    tes_harness_reset(h);
    g_assert_cmphex(tes_harness_io_read(h, 0x600, 2), ==, 0x8100);
    tes_harness_io_write(h, 0x600, 0xffff, 2);
    tes_harness_io_write(h, 0x602, 0x400, 2);            /* RTC_EN */
    tes_harness_io_write(h, 0x604, 1 << 10 | 0x2000, 2); /* S3 */
    cmos(h, 0x0b, 0x22); /* the reset cleared AIE; the guest sets it again */
    tes_harness_clock_step(h, 1000000000);
    g_assert_nonnull(strstr(tes_harness_log_text(h), "PIIX4_PM: RTC alarm wakes from S3"));
    pulse(h, pm, 2);
    tes_harness_reset(h);
    g_assert_cmphex(tes_harness_io_read(h, 0x600, 2), ==, 0x8400); /* WAK_STS, RTC_STS */
    g_assert_cmphex(tes_harness_io_read(h, 0x602, 2), ==, 0);      /* PM1_EN reset */
    tes_harness_reset(h); /* the cause does not outlive that reset */
    g_assert_cmphex(tes_harness_io_read(h, 0x600, 2), ==, 0);
    tes_harness_free(h);
}

static void test_pm_gpe_and_sci(void)
{
    tes_harness *h = harness();
    tes_device *pm = tes_harness_device(h, "PIIX4_PM", "addr=01.3");
    const tes_host *host = tes_harness_host(h);

    g_assert_nonnull(pm);
    tes_harness_io_write(h, 0xafe2, 0xffff, 2); /* GPE0_EN: plain storage */
    g_assert_cmphex(tes_harness_io_read(h, 0xafe2, 2), ==, 0xffff);
    g_assert_cmphex(tes_harness_io_read(h, 0xafe0, 2), ==, 0);
    g_assert_cmpint(tes_harness_irq_level(h, pm, 0), ==, 0);
    /* the power button: PWRBTN_STS, an SCI once PWRBTN_EN is set */
    host->irq_set(host->dev_irq_in(pm, 0), 1);
    host->irq_set(host->dev_irq_in(pm, 0), 0);
    g_assert_cmphex(tes_harness_io_read(h, 0x600, 2) & 0x100, ==, 0x100);
    g_assert_cmpint(tes_harness_irq_level(h, pm, 0), ==, 0);
    tes_harness_io_write(h, 0x602, 0x100, 2);
    g_assert_cmpint(tes_harness_irq_level(h, pm, 0), ==, 1);
    tes_harness_io_write(h, 0x600, 0x100, 2); /* write 1 to clear */
    g_assert_cmpint(tes_harness_irq_level(h, pm, 0), ==, 0);
    tes_harness_free(h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    board_path = getenv("BOARD_PC_PLUGIN");
    platform_path = getenv("PC_PLATFORM_PLUGIN");
    edu_path = getenv("EDU_PLUGIN");
    if (!board_path || !platform_path || !edu_path) {
        g_printerr("usage: BOARD_PC_PLUGIN=board-pc.so PC_PLATFORM_PLUGIN=pc-platform.so "
                   "EDU_PLUGIN=edu.so test-pc-chipset\n");
        return 2;
    }
    g_test_add_func("/pc/chipset/ids-pmba", test_ids);
    g_test_add_func("/pc/i440fx/pam/reset-reads-rom-drops-writes", test_pam_reset_is_rom_side);
    g_test_add_func("/pc/i440fx/pam/re-we-modes", test_pam_modes);
    g_test_add_func("/pc/i440fx/pam/segments-and-reserved-bits", test_pam_segments);
    g_test_add_func("/pc/i440fx/pam/bios-shadowed-as-seabios-leaves-it",
                    test_pam_bios_shadowed);
    g_test_add_func("/pc/i440fx/smram/d-lck-locks", test_smram_lock);
    g_test_add_func("/pc/i440fx/pam/mapping-follows-migration", test_pam_migrates);
    g_test_add_func("/pc/piix3/pirq/route-share-reroute-disable", test_pirq_routes);
    g_test_add_func("/pc/piix3/pirq/reserved-irqs-route-nothing", test_pirq_reserved_irqs);
    g_test_add_func("/pc/piix3/pirq/slot-swizzle", test_pirq_slot_swizzle);
    g_test_add_func("/pc/piix3/pirq/level-survives-migration", test_pirq_migrates);
    g_test_add_func("/pc/piix4-pm/pm-timer/3.579545-mhz", test_pm_timer);
    g_test_add_func("/pc/piix4-pm/pm1-cnt/s5-soft-off-others-unsupported",
                    test_pm_sleep_types);
    g_test_add_func("/pc/piix4-pm/gpe0-and-power-button-sci", test_pm_gpe_and_sci);
    g_test_add_func("/pc/piix4-pm/rtc-alarm/sets-rtc-sts-and-sci", test_pm_rtc_alarm_sets_rtc_sts);
    g_test_add_func("/pc/piix4-pm/rtc-alarm/wakes-s3-with-rtc-en", test_pm_rtc_alarm_wakes_s3);
    return g_test_run();
}
