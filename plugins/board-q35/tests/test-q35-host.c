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
    g_test_add_func("/q35/lpc/pm-timer/counts-at-3.579545-mhz", test_pm_timer);
    g_test_add_func("/q35/lpc/pm1/sci-en-fixed-enable-masks", test_pm_registers);
    return g_test_run();
}
