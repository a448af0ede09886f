/* pci-counter through the harness; the plugin path is $PCI_COUNTER_PLUGIN. */
#include <glib.h>
#include <tessera/harness.h>

#define BAR0 0x10000000ull

static tes_harness *up(tes_device **dev, const char *props)
{
    tes_harness *h = tes_harness_new(1 << 20);

    if (!tes_harness_load(h, g_getenv("PCI_COUNTER_PLUGIN")) ||
        !(*dev = tes_harness_device(h, "pci-counter", props))) {
        g_error("pci-counter: %s", tes_harness_error(h));
    }
    g_assert_cmphex(tes_harness_bar_map(h, *dev, 0, BAR0), ==, BAR0);
    return h;
}

static void test_ids(void)
{
    tes_device *d;
    tes_harness *h = up(&d, NULL);

    g_assert_cmphex(tes_harness_cfg_read(h, d, 0, 4), ==, 0x01011b36);
    tes_harness_free(h);
}

static void test_counts_reads(void)
{
    tes_device *d;
    tes_harness *h = up(&d, "start=5");

    g_assert_cmpuint(tes_harness_read(h, BAR0, 4), ==, 5);
    g_assert_cmpuint(tes_harness_read(h, BAR0, 4), ==, 6);
    g_assert_cmpuint(tes_harness_read(h, BAR0 + 4, 4), ==, 7); /* peek: no count */
    g_assert_cmpuint(tes_harness_read(h, BAR0 + 4, 4), ==, 7);
    tes_harness_free(h);
}

static void test_write_sets_and_reset_restores(void)
{
    tes_device *d;
    tes_harness *h = up(&d, "start=3");

    tes_harness_write(h, BAR0 + 4, 100, 4);
    g_assert_cmpuint(tes_harness_read(h, BAR0, 4), ==, 100);
    tes_harness_reset(h); /* config space too: the BAR must be mapped again */
    tes_harness_bar_map(h, d, 0, BAR0);
    g_assert_cmpuint(tes_harness_read(h, BAR0 + 4, 4), ==, 3);
    tes_harness_free(h);
}

static void test_migrates(void)
{
    tes_device *d;
    tes_harness *h = up(&d, NULL);

    tes_harness_write(h, BAR0 + 4, 41, 4);
    d = tes_harness_migrate(h, d, NULL);
    g_assert_nonnull(d);
    g_assert_cmpuint(tes_harness_read(h, BAR0, 4), ==, 41);
    g_assert_cmpuint(tes_harness_read(h, BAR0, 4), ==, 42);
    tes_harness_free(h);
}

/* Guest mistakes are logged, not fatal: the test reads what was logged. */
static void test_logs_unknown_register(void)
{
    tes_device *d;
    tes_harness *h = up(&d, NULL);

    g_assert_cmpstr(tes_harness_log_text(h), ==, "");
    g_assert_cmpuint(tes_harness_read(h, BAR0 + 8, 4), ==, 0);
    g_assert_cmpstr(tes_harness_log_text(h), ==,
                    "pci-counter: read of unknown register 0x8\n");
    tes_harness_log_clear(h);
    tes_harness_write(h, BAR0 + 0, 1, 4);
    g_assert_cmpstr(tes_harness_log_text(h), ==,
                    "pci-counter: write to register 0x0 ignored\n");
    tes_harness_free(h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!g_getenv("PCI_COUNTER_PLUGIN")) {
        g_printerr("set PCI_COUNTER_PLUGIN to the path of pci-counter.so\n");
        return 1;
    }
    g_test_add_func("/pci-counter/config/vendor-1b36-device-0101", test_ids);
    g_test_add_func("/pci-counter/mmio/read-returns-then-increments", test_counts_reads);
    g_test_add_func("/pci-counter/mmio/write-sets-reset-restores-start",
                    test_write_sets_and_reset_restores);
    g_test_add_func("/pci-counter/migration/counter-survives", test_migrates);
    g_test_add_func("/pci-counter/log/unknown-register-is-a-guest-error",
                    test_logs_unknown_register);
    return g_test_run();
}
