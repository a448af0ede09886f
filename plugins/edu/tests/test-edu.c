/*
 * edu plugin tests, through the harness: no guest, no CPU. The plugin file
 * comes from $EDU_PLUGIN (meson sets it) or the first argument.
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <tessera/harness.h>

#define BAR0 0x10000000ull
#define REG_ID 0x00
#define REG_LIVE 0x04
#define REG_FACT 0x08
#define REG_STATUS 0x20
#define REG_IRQ_STATUS 0x24
#define REG_IRQ_RAISE 0x60
#define REG_IRQ_ACK 0x64
#define REG_DMA_SRC 0x80
#define REG_DMA_DST 0x88
#define REG_DMA_CNT 0x90
#define REG_DMA_CMD 0x98
#define BUF 0x40000

static const char *plugin_path;

typedef struct fixture {
    tes_harness *h;
    tes_device *dev;
} fixture;

static void edu_up(fixture *f, const char *props)
{
    f->h = tes_harness_new(16 << 20);
    g_assert_true(tes_harness_load(f->h, plugin_path));
    f->dev = tes_harness_device(f->h, "edu", props);
    if (!f->dev) {
        g_error("edu: %s", tes_harness_error(f->h));
    }
    g_assert_cmphex(tes_harness_bar_map(f->h, f->dev, 0, BAR0), ==, BAR0);
}

static void edu_down(fixture *f)
{
    tes_harness_free(f->h);
}

static uint32_t rd(fixture *f, uint64_t reg)
{
    return tes_harness_read(f->h, BAR0 + reg, 4);
}

static void wr(fixture *f, uint64_t reg, uint64_t val)
{
    tes_harness_write(f->h, BAR0 + reg, val, reg >= 0x80 ? 8 : 4);
}

static void test_id(void)
{
    fixture f;

    edu_up(&f, NULL);
    g_assert_cmphex(rd(&f, REG_ID), ==, 0x010000ed);
    wr(&f, REG_ID, 0x12345678); /* read-only */
    g_assert_cmphex(rd(&f, REG_ID), ==, 0x010000ed);
    edu_down(&f);
}

static void test_liveness(void)
{
    fixture f;

    edu_up(&f, NULL);
    wr(&f, REG_LIVE, 0x12345678);
    g_assert_cmphex(rd(&f, REG_LIVE), ==, 0xedcba987);
    wr(&f, REG_LIVE, 0);
    g_assert_cmphex(rd(&f, REG_LIVE), ==, 0xffffffff);
    edu_down(&f);
}

static void test_config_ids(void)
{
    fixture f;

    edu_up(&f, NULL);
    g_assert_cmphex(tes_harness_cfg_read(f.h, f.dev, 0x00, 4), ==, 0x11e81234);
    g_assert_cmphex(tes_harness_cfg_read(f.h, f.dev, 0x0a, 2), ==, 0x00ff);
    g_assert_cmphex(tes_harness_cfg_read(f.h, f.dev, 0x3d, 1), ==, 1); /* INTA# */
    g_assert_true(tes_harness_cfg_read(f.h, f.dev, 0x06, 2) & 0x10);   /* has caps */
    g_assert_cmphex(tes_harness_cfg_read(f.h, f.dev, 0x10, 4), ==, BAR0);
    edu_down(&f);
}

static void test_factorial_intx(void)
{
    fixture f;

    edu_up(&f, NULL);
    wr(&f, REG_STATUS, 0x80);
    wr(&f, REG_FACT, 10);
    g_assert_cmphex(rd(&f, REG_STATUS) & 1, ==, 1);
    tes_harness_clock_step(f.h, 500);
    g_assert_cmphex(rd(&f, REG_STATUS) & 1, ==, 1); /* not yet */
    g_assert_cmpint(tes_harness_intx_level(f.h, f.dev), ==, 0);
    tes_harness_clock_step(f.h, 600);
    g_assert_cmphex(rd(&f, REG_STATUS), ==, 0x80);
    g_assert_cmpuint(rd(&f, REG_FACT), ==, 3628800);
    g_assert_cmphex(rd(&f, REG_IRQ_STATUS), ==, 0x1);
    g_assert_cmpint(tes_harness_intx_level(f.h, f.dev), ==, 1);
    wr(&f, REG_IRQ_ACK, 0x1);
    g_assert_cmphex(rd(&f, REG_IRQ_STATUS), ==, 0);
    g_assert_cmpint(tes_harness_intx_level(f.h, f.dev), ==, 0);
    edu_down(&f);
}

/* n! mod 2^32 for any n a guest writes, at once: a loop up to n = 4e9
 * (found by fuzz-edu) stalled the emulator for seconds in the timer. */
static void test_factorial_huge_n_is_zero_without_stalling(void)
{
    fixture f;
    gint64 t0;

    edu_up(&f, NULL);
    wr(&f, REG_FACT, 33);
    tes_harness_clock_step(f.h, 1000);
    g_assert_cmphex(rd(&f, REG_FACT), ==, 0x80000000); /* 33! has 31 factors of 2 */
    wr(&f, REG_FACT, 34);
    tes_harness_clock_step(f.h, 1000);
    g_assert_cmphex(rd(&f, REG_FACT), ==, 0);
    wr(&f, REG_FACT, 0xffffffff);
    t0 = g_get_monotonic_time();
    tes_harness_clock_step(f.h, 1000);
    g_assert_cmphex(rd(&f, REG_FACT), ==, 0);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 500000); /* was seconds */
    edu_down(&f);
}

static void test_factorial_no_irq_without_bit7(void)
{
    fixture f;

    edu_up(&f, NULL);
    wr(&f, REG_FACT, 5);
    tes_harness_clock_step(f.h, 2000);
    g_assert_cmpuint(rd(&f, REG_FACT), ==, 120);
    g_assert_cmphex(rd(&f, REG_IRQ_STATUS), ==, 0);
    g_assert_cmpint(tes_harness_intx_level(f.h, f.dev), ==, 0);
    edu_down(&f);
}

static void test_raise_ack(void)
{
    fixture f;

    edu_up(&f, NULL);
    wr(&f, REG_IRQ_RAISE, 0x5);
    g_assert_cmphex(rd(&f, REG_IRQ_STATUS), ==, 0x5);
    g_assert_cmpint(tes_harness_intx_level(f.h, f.dev), ==, 1);
    wr(&f, REG_IRQ_ACK, 0x1);
    g_assert_cmpint(tes_harness_intx_level(f.h, f.dev), ==, 1); /* 0x4 still set */
    wr(&f, REG_IRQ_ACK, 0x4);
    g_assert_cmpint(tes_harness_intx_level(f.h, f.dev), ==, 0);
    edu_down(&f);
}

static void test_msi(void)
{
    fixture f;
    uint64_t addr;
    uint32_t data;

    edu_up(&f, NULL);
    g_assert_true(tes_harness_msi_enable(f.h, f.dev));
    wr(&f, REG_STATUS, 0x80);
    wr(&f, REG_FACT, 6);
    g_assert_cmpuint(tes_harness_msi_count(f.h), ==, 0);
    tes_harness_clock_step(f.h, 1000);
    g_assert_cmpuint(rd(&f, REG_FACT), ==, 720);
    g_assert_cmpuint(tes_harness_msi_count(f.h), ==, 1);
    g_assert_true(tes_harness_msi_pop(f.h, &addr, &data));
    g_assert_cmphex(addr, ==, TES_HARNESS_MSI_BASE);
    g_assert_cmphex(data, ==, 0);
    g_assert_cmpint(tes_harness_intx_level(f.h, f.dev), ==, 0); /* MSI, not INTx */
    edu_down(&f);
}

static void dma(fixture *f, uint64_t src, uint64_t dst, uint64_t cnt, uint64_t cmd)
{
    wr(f, REG_DMA_SRC, src);
    wr(f, REG_DMA_DST, dst);
    wr(f, REG_DMA_CNT, cnt);
    wr(f, REG_DMA_CMD, cmd | 1);
}

static void test_dma_round_trip(void)
{
    fixture f;
    uint8_t *ram;

    edu_up(&f, NULL);
    ram = tes_harness_ram(f.h);
    for (int i = 0; i < 256; i++) {
        ram[0x1000 + i] = (uint8_t)(i * 7 + 3);
    }
    dma(&f, 0x1000, BUF + 0x100, 256, 0);
    g_assert_cmphex(rd(&f, REG_DMA_CMD) & 1, ==, 1);
    tes_harness_clock_step(f.h, 1000);
    g_assert_cmphex(rd(&f, REG_DMA_CMD) & 1, ==, 0);
    dma(&f, BUF + 0x100, 0x2000, 256, 0x2 | 0x4);
    tes_harness_clock_step(f.h, 500);
    g_assert_cmphex(ram[0x2000], ==, 0); /* still in flight */
    tes_harness_clock_step(f.h, 500);
    g_assert_cmpmem(ram + 0x2000, 256, ram + 0x1000, 256);
    g_assert_cmphex(rd(&f, REG_IRQ_STATUS), ==, 0x100);
    g_assert_cmpint(tes_harness_intx_level(f.h, f.dev), ==, 1);
    edu_down(&f);
}

/*
 * A guest that programs a BAR over RAM (a fuzzed virtio-blk-pci input put
 * its MSI-X table on the rings at 1 MiB) must not hide that RAM: on the
 * boards RAM decodes first, as on real chipsets, and the harness's PCI
 * space sits under RAM the same way. The CPU and another device's DMA
 * still reach the RAM there.
 */
static void test_bar_over_ram_does_not_hide_ram(void)
{
    fixture f;
    tes_device *other;
    uint8_t *ram;

    edu_up(&f, NULL);
    ram = tes_harness_ram(f.h);
    other = tes_harness_device(f.h, "edu", NULL);
    g_assert_nonnull(other);
    g_assert_cmphex(tes_harness_bar_map(f.h, other, 0, 0x100000), ==, 0x100000);
    for (int i = 0; i < 256; i++) {
        ram[0x100000 + i] = (uint8_t)(i * 5 + 1);
    }
    g_assert_cmphex(tes_harness_read(f.h, 0x100000, 4), ==, 0x100b0601);
    tes_harness_write(f.h, 0x100100, 0x12345678, 4);
    g_assert_cmphex(ram[0x100100], ==, 0x78);
    dma(&f, 0x100000, BUF, 256, 0);
    tes_harness_clock_step(f.h, 1000);
    dma(&f, BUF, 0x2000, 256, 0x2);
    tes_harness_clock_step(f.h, 1000);
    g_assert_cmpmem(ram + 0x2000, 256, ram + 0x100000, 256);
    /* Moved off RAM, the BAR decodes again. */
    g_assert_cmphex(tes_harness_bar_map(f.h, other, 0, 0x20000000), ==, 0x20000000);
    g_assert_cmphex(tes_harness_read(f.h, 0x20000000, 4), ==, 0x010000ed);
    edu_down(&f);
}

static void test_dma_mask_clamps(void)
{
    fixture f;
    uint8_t *ram;

    edu_up(&f, "dma_mask=0xffff");
    ram = tes_harness_ram(f.h);
    memset(ram + 0x300, 0xa5, 16);
    dma(&f, 0x10300, BUF, 16, 0); /* bit 16 is outside the mask */
    tes_harness_clock_step(f.h, 1000);
    dma(&f, BUF, 0x500, 16, 0x2);
    tes_harness_clock_step(f.h, 1000);
    g_assert_cmpmem(ram + 0x500, 16, ram + 0x300, 16);
    edu_down(&f);
}

/* The guest's mistake is logged, not fatal; tes_harness_log_text() shows
 * the test what edu logged. */
static void test_dma_outside_buffer(void)
{
    fixture f;
    uint8_t *ram, *copy;

    edu_up(&f, NULL);
    ram = tes_harness_ram(f.h);
    memset(ram, 0x5a, 0x10000);
    copy = g_memdup2(ram, 0x10000);
    dma(&f, BUF + 0xf00, 0x1000, 0x200, 0x2 | 0x4); /* runs past the end */
    tes_harness_clock_step(f.h, 1000);
    g_assert_nonnull(strstr(tes_harness_log_text(f.h),
                            "edu: DMA of 0x200 bytes at device address 0x40f00 is outside"));
    tes_harness_log_clear(f.h);
    dma(&f, 0x1000, BUF + 0x1000, 4, 0); /* just past the end */
    tes_harness_clock_step(f.h, 1000);
    g_assert_nonnull(strstr(tes_harness_log_text(f.h), "edu: DMA of 0x4 bytes"));
    g_assert_cmpmem(ram, 0x10000, copy, 0x10000);
    g_assert_cmphex(rd(&f, REG_DMA_CMD) & 1, ==, 0); /* engine not wedged */
    g_assert_cmphex(rd(&f, REG_ID), ==, 0x010000ed);
    g_free(copy);
    edu_down(&f);
}

static void test_migrate_mid_factorial(void)
{
    fixture f;
    tes_device *nd;
    size_t bytes = 0;
    uint8_t *ram;

    edu_up(&f, NULL);
    ram = tes_harness_ram(f.h);
    memcpy(ram + 0x100, "migrating buffer", 16);
    dma(&f, 0x100, BUF + 0x10, 16, 0);
    tes_harness_clock_step(f.h, 1000);
    wr(&f, REG_LIVE, 0xf0f0f0f0);
    wr(&f, REG_STATUS, 0x80);
    wr(&f, REG_FACT, 12);
    tes_harness_clock_step(f.h, 400);
    nd = tes_harness_migrate(f.h, f.dev, &bytes);
    if (!nd) {
        g_error("migrate: %s", tes_harness_error(f.h));
    }
    f.dev = nd;
    g_assert_cmpuint(bytes, >, 4096); /* the buffer travels */
    g_assert_cmphex(rd(&f, REG_LIVE), ==, 0x0f0f0f0f);
    g_assert_cmphex(rd(&f, REG_STATUS), ==, 0x81); /* still computing */
    tes_harness_clock_step(f.h, 700);
    g_assert_cmpuint(rd(&f, REG_FACT), ==, 479001600);
    g_assert_cmphex(rd(&f, REG_STATUS), ==, 0x80);
    g_assert_cmpint(tes_harness_intx_level(f.h, f.dev), ==, 1);
    dma(&f, BUF + 0x10, 0x200, 16, 0x2); /* the buffer came along */
    tes_harness_clock_step(f.h, 1000);
    g_assert_cmpmem(ram + 0x200, 16, "migrating buffer", 16);
    edu_down(&f);
}

/* A section forged with a value no guest write makes must not load: a
 * deadline far ahead left "computing" stuck for ever. */
static void test_migrate_refuses_forged_timers_and_status(void)
{
    static const struct {
        const char *field;
        uint64_t value;
        const char *want;
    } bad[] = {
        {"fact_deadline", (uint64_t)INT64_MAX, "timer deadlines"},
        {"fact_deadline", (uint64_t)-5, "timer deadlines"},
        {"status", 0x101, "status 0x101"},
    };
    fixture f;

    edu_up(&f, NULL);
    wr(&f, REG_FACT, 5); /* computing: the deadline travels */
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        size_t len;
        void *blob = tes_harness_state_save(f.h, f.dev, &len);
        const char *err;

        g_assert_nonnull(blob);
        g_assert_cmpint(tes_harness_state_load(f.h, f.dev, blob, len), ==, 0);
        g_assert_true(tes_harness_state_poke(f.dev, blob, len, bad[i].field, 0, bad[i].value));
        g_assert_cmpint(tes_harness_state_load(f.h, f.dev, blob, len), <, 0);
        err = tes_harness_error(f.h);
        g_assert_nonnull(strstr(err, bad[i].want));
        g_assert_null(strchr(err, '\n'));
        free(blob);
    }
    edu_down(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    plugin_path = g_getenv("EDU_PLUGIN");
    if (!plugin_path && argc > 1) {
        plugin_path = argv[1];
    }
    if (!plugin_path) {
        g_printerr("test-edu: set EDU_PLUGIN or pass the path of edu.so\n");
        return 1;
    }
    g_test_add_func("/edu/mmio/id-register-reads-010000ed", test_id);
    g_test_add_func("/edu/mmio/liveness-reads-inverse-of-write", test_liveness);
    g_test_add_func("/edu/config/ids-class-pin-and-bar", test_config_ids);
    g_test_add_func("/edu/factorial/completes-after-1us-and-raises-intx-until-acked",
                    test_factorial_intx);
    g_test_add_func("/edu/factorial/huge-n-is-zero-without-stalling",
                    test_factorial_huge_n_is_zero_without_stalling);
    g_test_add_func("/edu/factorial/no-interrupt-without-status-bit7",
                    test_factorial_no_irq_without_bit7);
    g_test_add_func("/edu/irq/intx-stays-high-until-every-bit-acked", test_raise_ack);
    g_test_add_func("/edu/msi/factorial-interrupt-is-an-msi-when-enabled", test_msi);
    g_test_add_func("/edu/dma/ram-to-buffer-to-ram-round-trip-copies-bytes",
                    test_dma_round_trip);
    g_test_add_func("/edu/dma/source-address-clamped-to-dma-mask", test_dma_mask_clamps);
    g_test_add_func("/edu/harness/bar-over-ram-hides-neither-cpu-nor-dma-access",
                    test_bar_over_ram_does_not_hide_ram);
    g_test_add_func("/edu/dma/outside-buffer-logs-and-copies-nothing",
                    test_dma_outside_buffer);
    g_test_add_func("/edu/migration/refuses-forged-timers-and-status",
                    test_migrate_refuses_forged_timers_and_status);
    g_test_add_func("/edu/migration/mid-factorial-completes-on-new-device-buffer-kept",
                    test_migrate_mid_factorial);
    return g_test_run();
}
