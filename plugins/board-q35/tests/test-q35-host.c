/*
 * q35 chipset devices through the harness: the q35-pcihost's 0xcf8/0xcfc
 * config mechanism (with RST_CNT sharing 0xcf9), the MCH and ICH9-LPC
 * identities on its root bus, and the LPC's ACPI PM block at 0x600 (PM
 * timer rate, register read-back, SCI_EN fixed on). The plugin file comes
 * from $CPU_X86_PLUGIN (meson sets it) or the first argument.
 */
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <tessera/harness.h>

static const char *plugin_path, *platform_path; /* board-q35, pc-platform (ICH9-LPC) */

static tes_harness *harness(void)
{
    tes_harness *h = tes_harness_new(16 << 20);

    if (!tes_harness_load(h, plugin_path) || !tes_harness_load(h, platform_path)) {
        g_error("cannot load %s / %s: %s", plugin_path, platform_path, tes_harness_error(h));
    }
    return h;
}

static uint32_t cfg_read(tes_harness *h, unsigned devfn, unsigned off, unsigned size)
{
    tes_harness_io_write(h, 0xcf8, 0x80000000u | devfn << 8 | (off & 0xfc), 4);
    return (uint32_t)tes_harness_io_read(h, 0xcfc + (off & 3), size);
}

static void test_cf8_ids(void)
{
    tes_harness *h = harness();

    g_assert_nonnull(tes_harness_device(h, "q35-pcihost", NULL));
    g_assert_cmphex(cfg_read(h, 0x00, 0, 4), ==, 0x29c08086);   /* MCH at 00.0 */
    g_assert_cmphex(cfg_read(h, 0xf8, 0, 4), ==, 0x29188086);   /* LPC at 1f.0 */
    g_assert_cmphex(cfg_read(h, 0xf8, 0x0a, 2), ==, 0x0601);    /* ISA bridge */
    g_assert_cmphex(cfg_read(h, 0xf8, 0x02, 2), ==, 0x2918);    /* word at 0xcfe */
    g_assert_cmphex(cfg_read(h, 0xf8, 0x40, 4) & 0xffff, ==, 0x0601); /* PMBASE */
    g_assert_cmphex(cfg_read(h, 0x08, 0, 4), ==, 0xffffffff);   /* nothing at 01.0 */
    g_assert_cmphex(cfg_read(h, 0x00, 0x60, 4), ==, 0xb0000001); /* PCIEXBAR */
    /* enable bit clear: no config cycle */
    tes_harness_io_write(h, 0xcf8, 0x00000000, 4);
    g_assert_cmphex(tes_harness_io_read(h, 0xcfc, 4), ==, 0xffffffff);
    tes_harness_free(h);
}

/* A byte at 0xcf9 is the ICH9's RST_CNT, not part of CONFIG_ADDRESS. */
static void test_cf9_is_rst_cnt(void)
{
    tes_harness *h = harness();

    g_assert_nonnull(tes_harness_device(h, "q35-pcihost", NULL));
    tes_harness_io_write(h, 0xcf8, 0x8000f800, 4);
    tes_harness_io_write(h, 0xcf9, 0x02, 1); /* SYS_RST alone: no reset yet */
    g_assert_cmphex(tes_harness_io_read(h, 0xcf9, 1), ==, 0x02);
    g_assert_cmphex(tes_harness_io_read(h, 0xcf8, 4), ==, 0x8000f800);
    g_assert_cmphex(tes_harness_io_read(h, 0xcfc, 4), ==, 0x29188086);
    tes_harness_free(h);
}

/* 3.579545 MHz from the virtual clock, 32 bits (FADT TMR_VAL_EXT). */
static void test_pm_timer(void)
{
    tes_harness *h = harness();
    uint32_t t0, t1;

    g_assert_nonnull(tes_harness_device(h, "ICH9-LPC", "addr=1f.0"));
    t0 = (uint32_t)tes_harness_io_read(h, 0x608, 4);
    tes_harness_clock_step(h, 1000000000);
    t1 = (uint32_t)tes_harness_io_read(h, 0x608, 4);
    g_assert_cmpuint(t1 - t0, >=, 3579544);
    g_assert_cmpuint(t1 - t0, <=, 3579546);
    tes_harness_clock_step(h, 1000);
    g_assert_cmpuint((uint32_t)tes_harness_io_read(h, 0x608, 4) - t1, >=, 3);
    tes_harness_free(h);
}

static void test_pm_registers(void)
{
    tes_harness *h = harness();
    tes_device *lpc = tes_harness_device(h, "ICH9-LPC", "addr=1f.0");

    g_assert_nonnull(lpc);
    g_assert_cmphex(tes_harness_cfg_read(h, lpc, 0x44, 1), ==, 0x80); /* ACPI_CNTL */
    /* ACPI mode is fixed on: SCI_EN set at reset and kept */
    g_assert_cmphex(tes_harness_io_read(h, 0x604, 2) & 1, ==, 1);
    tes_harness_io_write(h, 0x604, 0x0000, 2);
    g_assert_cmphex(tes_harness_io_read(h, 0x604, 2) & 1, ==, 1);
    /* PM1_EN keeps only its defined bits; GPE0_EN is plain storage */
    tes_harness_io_write(h, 0x602, 0xffff, 2);
    g_assert_cmphex(tes_harness_io_read(h, 0x602, 2), ==, 0x0521);
    tes_harness_io_write(h, 0x628, 0x04, 1);
    g_assert_cmphex(tes_harness_io_read(h, 0x628, 1), ==, 0x04);
    /* nothing pending, so no SCI even with everything enabled */
    g_assert_cmpint(tes_harness_irq_level(h, lpc, 0), ==, 0);
    tes_harness_free(h);
}

/* ---- the ICH9 TCO watchdog (ich9-tco.c) ---- */

#define TCO 0x660u /* PMBASE + 0x60 */
#define TCO_RLD (TCO + 0x00)
#define TCO1_STS (TCO + 0x04)
#define TCO2_STS (TCO + 0x06)
#define TCO1_CNT (TCO + 0x08)
#define TCO_TMR (TCO + 0x12)
#define SMI_EN 0x630u
#define SMI_STS 0x634u
#define GCS (0xfed1c000u + 0x3410u)
#define TICK 600000000ll

static tes_device *lpc_dev(tes_harness *h, const char *props)
{
    tes_device *lpc = tes_harness_device(h, "ICH9-LPC", props);

    g_assert_nonnull(lpc);
    g_free(tes_harness_qmp_events(h));
    return lpc;
}

/* Arm the timer with ticks as iTCO_wdt does: TCO_TMR, TCO_RLD, HLT clear. */
static void tco_start(tes_harness *h, unsigned ticks)
{
    tes_harness_io_write(h, TCO_TMR, ticks, 2);
    tes_harness_io_write(h, TCO_RLD, 1, 2);
    tes_harness_io_write(h, TCO1_CNT, tes_harness_io_read(h, TCO1_CNT, 2) & ~0x0800u, 2);
}

static void assert_events(tes_harness *h, const char *want)
{
    char *ev = tes_harness_qmp_events(h);

    if (*want) {
        if (!strstr(ev, want)) {
            g_error("QMP events: want %s, got \"%s\"", want, ev);
        }
    } else {
        g_assert_cmpstr(ev, ==, "");
    }
    free(ev);
}

/* QEMU's reset values; RCBA where the firmware leaves it, GCS clear. */
static void test_tco_defaults(void)
{
    tes_harness *h = harness();
    tes_device *lpc = lpc_dev(h, "addr=1f.0");

    g_assert_cmphex(tes_harness_io_read(h, TCO_RLD, 2), ==, 0);
    g_assert_cmphex(tes_harness_io_read(h, TCO + 2, 2), ==, 0);      /* DAT_IN, DAT_OUT */
    g_assert_cmphex(tes_harness_io_read(h, TCO1_STS, 4), ==, 0);     /* TCO1/2_STS */
    g_assert_cmphex(tes_harness_io_read(h, TCO1_CNT, 4), ==, 0x00080000); /* TCO2_CNT 8 */
    g_assert_cmphex(tes_harness_io_read(h, TCO + 0x0c, 4), ==, 0);   /* MESSAGE1/2, WDCNT */
    g_assert_cmphex(tes_harness_io_read(h, TCO + 0x10, 1), ==, 0x03); /* SW_IRQ_GEN */
    g_assert_cmphex(tes_harness_io_read(h, TCO_TMR, 2), ==, 0x0004);
    g_assert_cmphex(tes_harness_io_read(h, SMI_EN, 4), ==, 0x20);   /* APMC_EN: no SMM */
    g_assert_cmphex(tes_harness_cfg_read(h, lpc, 0xf0, 4), ==, 0xfed1c001);
    g_assert_cmphex(tes_harness_read(h, GCS, 4), ==, 0);
    tes_harness_free(h);
}

/* 0.6 s a tick: TCO_RLD reads the ticks left; a write reloads. */
static void test_tco_countdown(void)
{
    tes_harness *h = harness();

    lpc_dev(h, "addr=1f.0");
    tco_start(h, 10);
    g_assert_cmpuint(tes_harness_io_read(h, TCO_RLD, 2), ==, 10);
    tes_harness_clock_step(h, 3 * TICK + 1);
    g_assert_cmpuint(tes_harness_io_read(h, TCO_RLD, 2), ==, 6);
    tes_harness_io_write(h, TCO_RLD, 1, 2);
    g_assert_cmpuint(tes_harness_io_read(h, TCO_RLD, 2), ==, 10);
    /* byte access to the high byte of a 16-bit register */
    g_assert_cmphex(tes_harness_io_read(h, TCO_TMR + 1, 1), ==, 0);
    tes_harness_io_write(h, TCO_TMR + 1, 0x01, 1);
    g_assert_cmphex(tes_harness_io_read(h, TCO_TMR, 2), ==, 0x010a);
    tes_harness_free(h);
}

/* TCO_TMR_HLT stops the count: no expiry however long it waits; 0 and 1
 * in TCO_TMR do not start it either. */
static void test_tco_halt(void)
{
    tes_harness *h = harness();

    lpc_dev(h, "addr=1f.0");
    tco_start(h, 4);
    tes_harness_io_write(h, TCO1_CNT, 0x0800, 2);
    tes_harness_clock_step(h, 100 * TICK);
    g_assert_cmphex(tes_harness_io_read(h, TCO1_STS, 2), ==, 0);
    tco_start(h, 1);
    tes_harness_clock_step(h, 100 * TICK);
    g_assert_cmphex(tes_harness_io_read(h, TCO1_STS, 2), ==, 0);
    assert_events(h, "");
    tes_harness_free(h);
}

/* First expiry: TIMEOUT (and TCO_STS in SMI_STS with TCO_EN), reload;
 * second: SECOND_TO_STS, BOOT_STS and the watchdog action (QMP WATCHDOG
 * reset: the core's default), the timer halted. */
static void test_tco_expiry(void)
{
    tes_harness *h = harness();

    lpc_dev(h, "addr=1f.0");
    tes_harness_io_write(h, SMI_EN, 0x2000 | 0x20, 4); /* TCO_EN */
    tco_start(h, 4);
    tes_harness_clock_step(h, 4 * TICK - 1);
    g_assert_cmphex(tes_harness_io_read(h, TCO1_STS, 2), ==, 0);
    tes_harness_clock_step(h, 1);
    g_assert_cmphex(tes_harness_io_read(h, TCO1_STS, 2), ==, 0x0008);
    g_assert_cmphex(tes_harness_io_read(h, SMI_STS, 4), ==, 0x2000);
    g_assert_cmpuint(tes_harness_io_read(h, TCO_RLD, 2), ==, 4);
    assert_events(h, "");
    tes_harness_io_write(h, SMI_STS, 0x2000, 4); /* write 1 to clear */
    g_assert_cmphex(tes_harness_io_read(h, SMI_STS, 4), ==, 0);
    tes_harness_clock_step(h, 4 * TICK);
    g_assert_cmphex(tes_harness_io_read(h, TCO2_STS, 2), ==, 0x0006);
    assert_events(h, "\"event\":\"WATCHDOG\",\"data\":{\"action\":\"reset\"}");
    g_assert_cmpuint(tes_harness_io_read(h, TCO_RLD, 2), ==, 0); /* halted */
    tes_harness_clock_step(h, 100 * TICK);
    assert_events(h, "");
    /* the status bits are write-1-to-clear, as iTCO_wdt clears them */
    tes_harness_io_write(h, TCO1_STS, 0x0000, 2);
    g_assert_cmphex(tes_harness_io_read(h, TCO1_STS, 2), ==, 0x0008);
    tes_harness_io_write(h, TCO1_STS, 0x0008, 2);
    tes_harness_io_write(h, TCO2_STS, 0x0002, 2);
    g_assert_cmphex(tes_harness_io_read(h, TCO1_STS, 4), ==, 0x00040000);
    /* SECOND_TO_STS/BOOT_STS survive a reset (resume well), the rest not */
    tes_harness_reset(h);
    g_assert_cmphex(tes_harness_io_read(h, TCO1_STS, 4), ==, 0x00040000);
    tes_harness_free(h);
}

/* A reload between the expiries starts the two-expiry count again. */
static void test_tco_reload_forgets_first_expiry(void)
{
    tes_harness *h = harness();

    lpc_dev(h, "addr=1f.0");
    tco_start(h, 4);
    for (int i = 0; i < 5; i++) {
        tes_harness_clock_step(h, 4 * TICK);
        tes_harness_io_write(h, TCO_RLD, 1, 2);
    }
    g_assert_cmphex(tes_harness_io_read(h, TCO2_STS, 2), ==, 0);
    assert_events(h, "");
    tes_harness_free(h);
}

/* 4 ticks, two expiries: SECOND_TO_STS set, no action, still counting. */
static void expire_twice_harmlessly(tes_harness *h)
{
    tco_start(h, 4);
    tes_harness_clock_step(h, 8 * TICK);
    g_assert_cmphex(tes_harness_io_read(h, TCO2_STS, 2), ==, 0x0006);
    assert_events(h, "");
    g_assert_cmpuint(tes_harness_io_read(h, TCO_RLD, 2), ==, 4);
}

/* GCS.NO_REBOOT (what iTCO_wdt sets while stopped) and the noreboot strap
 * keep the second expiry from acting; the timer goes on. */
static void test_tco_no_reboot(void)
{
    tes_harness *h = harness();

    lpc_dev(h, "addr=1f.0");
    tes_harness_write(h, GCS, 0x20, 4);
    g_assert_cmphex(tes_harness_read(h, GCS, 4), ==, 0x20);
    expire_twice_harmlessly(h);
    tes_harness_free(h);

    h = harness();
    lpc_dev(h, "addr=1f.0,noreboot=on");
    g_assert_cmphex(tes_harness_read(h, GCS, 4), ==, 0x20);
    tes_harness_write(h, GCS, 0, 4); /* the guest clears it: the strap still holds */
    expire_twice_harmlessly(h);
    tes_harness_free(h);
}

/* TCO_LOCK: stays set once written until a reset, and freezes TCO_EN. */
static void test_tco_lock(void)
{
    tes_harness *h = harness();

    lpc_dev(h, "addr=1f.0");
    tes_harness_io_write(h, SMI_EN, 0x2020, 4);
    tes_harness_io_write(h, TCO1_CNT, 0x1800, 2);
    g_assert_cmphex(tes_harness_io_read(h, TCO1_CNT, 2), ==, 0x1800);
    tes_harness_io_write(h, TCO1_CNT, 0x0800, 2);
    g_assert_cmphex(tes_harness_io_read(h, TCO1_CNT, 2), ==, 0x1800);
    tes_harness_io_write(h, SMI_EN, 0x0021, 4);
    g_assert_cmphex(tes_harness_io_read(h, SMI_EN, 4), ==, 0x2021);
    tes_harness_reset(h);
    g_assert_cmphex(tes_harness_io_read(h, TCO1_CNT, 2), ==, 0);
    tes_harness_io_write(h, SMI_EN, 0x0020, 4);
    g_assert_cmphex(tes_harness_io_read(h, SMI_EN, 4), ==, 0x20);
    tes_harness_free(h);
}

/* -watchdog-action as QMP sets it: the event names the action. */
static void test_tco_action(void)
{
    tes_harness *h = harness();
    char *r;

    lpc_dev(h, "addr=1f.0");
    r = tes_harness_qmp(h, "{\"execute\": \"watchdog-set-action\", "
                           "\"arguments\": {\"action\": \"reboot\"}}");
    g_assert_nonnull(strstr(r, "\"error\""));
    free(r);
    r = tes_harness_qmp(h, "{\"execute\": \"watchdog-set-action\", "
                           "\"arguments\": {\"action\": \"none\"}}");
    g_assert_cmpstr(r, ==, "{\"return\":{}}");
    free(r);
    tco_start(h, 2);
    tes_harness_clock_step(h, 4 * TICK);
    assert_events(h, "\"event\":\"WATCHDOG\",\"data\":{\"action\":\"none\"}");
    r = tes_harness_qmp(h, "{\"execute\": \"watchdog-set-action\", "
                           "\"arguments\": {\"action\": \"reset\"}}");
    free(r);
    tes_harness_free(h);
}

/* Migration mid-countdown: the ticks left, the first expiry and the
 * registers carry over; the second expiry then acts on time. A stream
 * with an impossible expiry or count is refused. */
static void test_tco_migrate(void)
{
    tes_harness *h = harness();
    tes_device *lpc = lpc_dev(h, "addr=1f.0");
    size_t len;
    void *st;

    tco_start(h, 10);
    tes_harness_clock_step(h, 10 * TICK);  /* first expiry */
    tes_harness_clock_step(h, 3 * TICK + 1);
    tes_harness_io_write(h, TCO + 0x0c, 0x5a, 1); /* TCO_MESSAGE1 */
    lpc = tes_harness_migrate(h, lpc, NULL);
    g_assert_nonnull(lpc);
    g_assert_cmpuint(tes_harness_io_read(h, TCO_RLD, 2), ==, 6);
    g_assert_cmphex(tes_harness_io_read(h, TCO1_STS, 2), ==, 0x0008);
    g_assert_cmphex(tes_harness_io_read(h, TCO + 0x0c, 1), ==, 0x5a);
    tes_harness_clock_step(h, 7 * TICK - 2);
    assert_events(h, "");
    tes_harness_clock_step(h, 1);
    assert_events(h, "\"event\":\"WATCHDOG\",\"data\":{\"action\":\"reset\"}");

    st = tes_harness_state_save(h, lpc, &len);
    g_assert_nonnull(st);
    g_assert_true(tes_harness_state_poke(lpc, st, len, "tco_timeouts", 0, 7));
    g_assert_cmpint(tes_harness_state_load(h, lpc, st, len), <, 0);
    free(st);
    st = tes_harness_state_save(h, lpc, &len);
    g_assert_true(tes_harness_state_poke(lpc, st, len, "tco_expire_ns", 0,
                                         (uint64_t)tes_harness_clock_ns(h) + 2000 * TICK));
    g_assert_cmpint(tes_harness_state_load(h, lpc, st, len), <, 0);
    free(st);
    tes_harness_free(h);
}

/* A stream's CONFIG_ADDRESS and RST_CNT as guest writes leave them: a
 * reserved bit set is refused with one line; the good stream loads. */
static void test_host_migrate_refuses_reserved_bits(void)
{
    static const struct {
        const char *field;
        uint64_t value;
    } bad[] = {{"config_addr", 0x8000f843}, {"config_addr", 0x7f000000}, {"rst_cnt", 0x04}};
    tes_harness *h = harness();
    tes_device *d = tes_harness_device(h, "q35-pcihost", NULL);
    size_t len;
    void *good;

    g_assert_nonnull(d);
    tes_harness_io_write(h, 0xcf8, 0x8000f840, 4);
    good = tes_harness_state_save(h, d, &len);
    g_assert_nonnull(good);
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        void *blob = g_memdup2(good, len);

        g_assert_true(tes_harness_state_poke(d, blob, len, bad[i].field, 0, bad[i].value));
        g_assert_cmpint(tes_harness_state_load(h, d, blob, len), ==, -EINVAL);
        g_assert_nonnull(strstr(tes_harness_error(h), "reserved bits set"));
        g_assert_null(strchr(tes_harness_error(h), '\n'));
        g_free(blob);
    }
    g_assert_cmpint(tes_harness_state_load(h, d, good, len), ==, 0);
    g_assert_cmphex(tes_harness_io_read(h, 0xcf8, 4), ==, 0x8000f840);
    g_assert_cmphex(tes_harness_io_read(h, 0xcfc, 4) & 0xffff, ==, 0x0601); /* PMBASE */
    free(good);
    tes_harness_free(h);
}

/* ---- the MCH's PAM, SMRAM and ESMRAMC (a bare mch at 00.0) ---- */

#define MCH_PAM0 0x90
#define MCH_SMRAM 0x9d
#define MCH_ESMRAMC 0x9e

static tes_device *mch_dev(tes_harness *h)
{
    tes_device *d = tes_harness_device(h, "mch", "addr=00.0");

    g_assert_nonnull(d);
    return d;
}

/* No firmware runs: PAM starts as SeaBIOS leaves it. Each mode decides
 * what the CPU reads and where its writes go; the PCI side has nothing
 * (all ones, writes dropped); reserved bits read 0; reset restores. */
static void test_mch_pam(void)
{
    tes_harness *h = harness();
    tes_device *d = mch_dev(h);

    g_assert_cmphex(tes_harness_cfg_read(h, d, MCH_PAM0, 4), ==, 0x33333310);
    g_assert_cmphex(tes_harness_cfg_read(h, d, MCH_PAM0 + 4, 4), ==, 0x00333333);
    tes_harness_write(h, 0xf0000, 0x11223344, 4);  /* RE only: dropped */
    g_assert_cmphex(tes_harness_read(h, 0xf0000, 4), ==, 0);
    tes_harness_write(h, 0xc4000, 0xcafe, 4);      /* RE|WE: the RAM */
    g_assert_cmphex(tes_harness_read(h, 0xc4000, 4), ==, 0xcafe);
    tes_harness_cfg_write(h, d, MCH_PAM0 + 1, 0x02, 1); /* 0xc0000 WE, 0xc4000 off */
    tes_harness_write(h, 0xc0000, 0x5a5a, 4);
    g_assert_cmphex(tes_harness_read(h, 0xc0000, 4), ==, 0xffffffff);
    g_assert_cmphex(tes_harness_read(h, 0xc4000, 4), ==, 0xffffffff);
    tes_harness_cfg_write(h, d, MCH_PAM0 + 1, 0x31, 1); /* 0xc0000 RE, 0xc4000 RE|WE */
    g_assert_cmphex(tes_harness_read(h, 0xc0000, 4), ==, 0x5a5a);
    g_assert_cmphex(tes_harness_read(h, 0xc4000, 4), ==, 0xcafe);
    tes_harness_write(h, 0xc0000, 0x7777, 4);       /* RE only now: dropped */
    g_assert_cmphex(tes_harness_read(h, 0xc0000, 4), ==, 0x5a5a);
    tes_harness_cfg_write(h, d, MCH_PAM0, 0xffffffff, 4);
    g_assert_cmphex(tes_harness_cfg_read(h, d, MCH_PAM0, 4), ==, 0x33333330);
    tes_harness_write(h, 0xf0000, 0x11223344, 4);
    g_assert_cmphex(tes_harness_read(h, 0xf0000, 4), ==, 0x11223344);
    tes_harness_reset(h);
    g_assert_cmphex(tes_harness_cfg_read(h, d, MCH_PAM0, 4), ==, 0x33333310);
    tes_harness_free(h);
}

/* QEMU's mch: D_LCK clears D_OPEN and leaves only D_CLS writable and
 * ESMRAMC read-only, until reset; the lock survives migration. */
static void test_mch_smram_lock(void)
{
    tes_harness *h = harness();
    tes_device *d = mch_dev(h);

    g_assert_cmphex(tes_harness_cfg_read(h, d, MCH_SMRAM, 2), ==, 0x3802);
    tes_harness_cfg_write(h, d, MCH_SMRAM, 0xef, 1);   /* all but D_LCK */
    tes_harness_cfg_write(h, d, MCH_ESMRAMC, 0xff, 1);
    g_assert_cmphex(tes_harness_cfg_read(h, d, MCH_SMRAM, 2), ==, 0xbf6a); /* no D_LCK */
    tes_harness_cfg_write(h, d, MCH_ESMRAMC, 0x02, 1);
    tes_harness_cfg_write(h, d, MCH_SMRAM, 0x58, 1);  /* D_OPEN | D_LCK | G_SMRAME */
    g_assert_cmphex(tes_harness_cfg_read(h, d, MCH_SMRAM, 2), ==, 0x3a1a);
    d = tes_harness_migrate(h, d, NULL);
    g_assert_nonnull(d);
    tes_harness_cfg_write(h, d, MCH_SMRAM, 0x68, 1);  /* D_OPEN | D_CLS */
    tes_harness_cfg_write(h, d, MCH_ESMRAMC, 0x81, 1);
    g_assert_cmphex(tes_harness_cfg_read(h, d, MCH_SMRAM, 2), ==, 0x3a3a);
    tes_harness_reset(h);
    g_assert_cmphex(tes_harness_cfg_read(h, d, MCH_SMRAM, 2), ==, 0x3802);
    tes_harness_cfg_write(h, d, MCH_SMRAM, 0x48, 1);
    g_assert_cmphex(tes_harness_cfg_read(h, d, MCH_SMRAM, 1), ==, 0x4a);
    tes_harness_free(h);
}

/* A stream whose PAM maps a segment elsewhere moves the map on load; one
 * with bits a guest cannot set (reserved PAM bits, C_BASE_SEG, ESMRAMC's
 * fixed bits: the core's read-only check; D_OPEN with D_LCK: the MCH's)
 * is refused with one line. The config
 * space is the payload's start (core/pci.c pci_state_save: u32 version,
 * u32 size, the bytes). */
static void test_mch_migrate(void)
{
    static const struct {
        unsigned reg;
        uint8_t value;
    } bad[] = {{MCH_PAM0, 0x31}, {MCH_PAM0 + 3, 0x44}, {MCH_SMRAM, 0x03},
               {MCH_SMRAM, 0x52}, {MCH_ESMRAMC, 0x78}, {MCH_ESMRAMC, 0x40}};
    tes_harness *h = harness();
    tes_device *d = mch_dev(h);
    size_t len;
    uint8_t *good;

    tes_harness_write(h, 0xf0000, 0xabcd, 4); /* dropped: 0xf0000 read-only */
    tes_harness_cfg_write(h, d, MCH_PAM0, 0x30, 1);
    tes_harness_write(h, 0xf0000, 0xabcd, 4);
    good = tes_harness_state_save(h, d, &len);
    g_assert_nonnull(good);
    g_assert_cmpuint(len, >, 8 + MCH_ESMRAMC);
    tes_harness_cfg_write(h, d, MCH_PAM0, 0x00, 1);
    g_assert_cmphex(tes_harness_read(h, 0xf0000, 4), ==, 0xffffffff);
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        uint8_t *blob = g_memdup2(good, len);

        blob[8 + bad[i].reg] = bad[i].value;
        g_assert_cmpint(tes_harness_state_load(h, d, blob, len), ==, -EINVAL);
        g_assert_nonnull(strstr(tes_harness_error(h), "mch"));
        g_assert_null(strchr(tes_harness_error(h), '\n'));
        g_free(blob);
    }
    g_assert_cmpint(tes_harness_state_load(h, d, good, len), ==, 0);
    g_assert_cmphex(tes_harness_read(h, 0xf0000, 4), ==, 0xabcd);
    free(good);
    tes_harness_free(h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    plugin_path = getenv("BOARD_Q35_PLUGIN");
    platform_path = getenv("PC_PLATFORM_PLUGIN");
    if (!plugin_path || !platform_path) {
        g_printerr("usage: BOARD_Q35_PLUGIN=board-q35.so PC_PLATFORM_PLUGIN=pc-platform.so "
                   "test-q35-host\n");
        return 2;
    }
    g_test_add_func("/q35/host/cf8-cfc/mch-lpc-ids-and-all-ones-elsewhere", test_cf8_ids);
    g_test_add_func("/q35/host/cf9/byte-is-rst-cnt-not-config-address", test_cf9_is_rst_cnt);
    g_test_add_func("/q35/host/migrate/refuses-reserved-bits",
                    test_host_migrate_refuses_reserved_bits);
    g_test_add_func("/q35/mch/pam/firmware-state-at-reset-modes-remap-bios-area", test_mch_pam);
    g_test_add_func("/q35/mch/smram/d-lck-locks-until-reset-across-migration",
                    test_mch_smram_lock);
    g_test_add_func("/q35/mch/migrate/remaps-on-load-refuses-impossible-bits",
                    test_mch_migrate);
    g_test_add_func("/q35/lpc/pm-timer/counts-at-3.579545-mhz", test_pm_timer);
    g_test_add_func("/q35/lpc/pm1/sci-en-fixed-enable-masks", test_pm_registers);
    g_test_add_func("/q35/lpc/tco/reset-values-rcba-gcs", test_tco_defaults);
    g_test_add_func("/q35/lpc/tco/rld-counts-down-0.6s-ticks", test_tco_countdown);
    g_test_add_func("/q35/lpc/tco/halt-or-tmr-below-2-never-expires", test_tco_halt);
    g_test_add_func("/q35/lpc/tco/second-expiry-sends-watchdog-reset", test_tco_expiry);
    g_test_add_func("/q35/lpc/tco/reload-forgets-first-expiry",
                    test_tco_reload_forgets_first_expiry);
    g_test_add_func("/q35/lpc/tco/no-reboot-bit-and-strap-prevent-reset", test_tco_no_reboot);
    g_test_add_func("/q35/lpc/tco/lock-sticks-until-reset-and-freezes-tco-en", test_tco_lock);
    g_test_add_func("/q35/lpc/tco/watchdog-set-action-names-the-event", test_tco_action);
    g_test_add_func("/q35/lpc/tco/migrates-mid-countdown-refuses-bad-state", test_tco_migrate);
    return g_test_run();
}
