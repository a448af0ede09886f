/*
 * Fuzz target: the virt board's platform devices (plugins/arm-platform)
 * through the harness, mapped and wired as virt does: the GICv2 with its
 * v2m MSI frame (2 CPU interfaces; accesses act as CPU 0), the PL011 UART
 * on SPI 1 and the PL031 RTC on SPI 2.
 *
 * Beyond the generic actions (fuzz-dev.h): GIC input lines (SPIs and each
 * CPU's PPIs) raised and lowered, GIC distributor writes aimed at real
 * registers (enable, pending, active, priority, targets, config, SGIR),
 * interrupt acknowledge/EOI sequences on the CPU interface, and the spec
 * check: after a system reset the three devices read their identification
 * registers and the GIC its reset state.
 */
#include "fuzz-dev.h"

#define DIST 0x08000000ull
#define CPUIF 0x08010000ull
#define V2M 0x08020000ull
#define UART 0x09000000ull
#define RTC 0x09010000ull
#define NUM_IRQ 288

static tes_device *gic;

static tes_device *create(fz *f, const char *type, const char *props)
{
    tes_device *d = tes_harness_device(f->h, type, props);

    if (!d) {
        fz_fail(f, "%s: %s", type, tes_harness_error(f->h));
    }
    return d;
}

static void map_gic(fz *f, tes_device *d)
{
    tes_region *sys = f->host->system_memory();

    gic = d;
    f->host->region_add(sys, DIST, f->host->dev_mmio(d, 0), 0);
    f->host->region_add(sys, CPUIF, f->host->dev_mmio(d, 1), 0);
    f->host->region_add(sys, V2M, f->host->dev_mmio(d, 2), 0);
}

static void map_uart(fz *f, tes_device *d)
{
    f->host->region_add(f->host->system_memory(), UART, f->host->dev_mmio(d, 0), 0);
}

static void map_rtc(fz *f, tes_device *d)
{
    f->host->region_add(f->host->system_memory(), RTC, f->host->dev_mmio(d, 0), 0);
}

static void setup(fz *f)
{
    tes_device *g = create(f, "arm-gic", "num-cpu=2");
    tes_device *uart = create(f, "pl011", NULL);
    tes_device *rtc = create(f, "pl031", NULL);

    map_gic(f, g);
    map_uart(f, uart);
    map_rtc(f, rtc);
    f->host->dev_connect_irq(uart, 0, f->host->dev_irq_in(g, 1));
    f->host->dev_connect_irq(rtc, 0, f->host->dev_irq_in(g, 2));
    fz_window_add(f, DIST, 0x1000, false);
    fz_window_add(f, CPUIF, 0x2000, false);
    fz_window_add(f, V2M, 0x1000, false);
    fz_window_add(f, UART, 0x1000, false);
    fz_window_add(f, RTC, 0x1000, false);
    fz_device_add(f, g, map_gic);
    fz_device_add(f, uart, map_uart);
    fz_device_add(f, rtc, map_rtc);
}

static void line(fz *f)
{
    /* Inputs 0..255 are SPIs, then 32 PPIs per CPU (see the GIC manual). */
    uint16_t n = fz_u16(f) % (NUM_IRQ + 16);

    f->host->irq_set(f->host->dev_irq_in(gic, n), fz_u8(f) & 1);
}

static void dist_write(fz *f)
{
    static const uint16_t banks[] = {0x100, 0x180, 0x200, 0x280, 0x300, 0x380, 0x400,
                                     0x800, 0xc00, 0xf10, 0xf20};
    uint8_t sel = fz_u8(f);
    uint64_t off;

    if (sel & 0x80) {
        off = 0xf00; /* GICD_SGIR: SGIs to CPU lists */
    } else {
        off = banks[sel % (sizeof(banks) / sizeof(banks[0]))] + (fz_u8(f) & 0x7c);
    }
    tes_harness_write(f->h, DIST + off, fz_u32(f), 4);
}

/* Acknowledge the highest pending interrupt, then EOI (and maybe DIR) it,
 * or EOI a number of the input's choosing. */
static void ack_eoi(fz *f)
{
    uint8_t sel = fz_u8(f);
    uint32_t iar = tes_harness_read(f->h, CPUIF + 0x0c, 4);

    if (sel & 1) {
        iar = fz_u32(f);
    }
    tes_harness_write(f->h, CPUIF + 0x10, iar, 4);
    if (sel & 2) {
        tes_harness_write(f->h, CPUIF + 0x1000, iar, 4);
    }
}

static void expect(fz *f, const char *what, uint64_t addr, uint32_t want)
{
    uint32_t got = tes_harness_read(f->h, addr, 4);

    if (got != want) {
        fz_fail(f, "%s at 0x%llx reads 0x%x after reset, want 0x%x", what,
                (unsigned long long)addr, got, want);
    }
}

static void spec_check(fz *f)
{
    static const uint8_t uart_id[8] = {0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};
    static const uint8_t rtc_id[8] = {0x31, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};

    tes_harness_reset(f->h);
    expect(f, "GICD_IIDR", DIST + 0x008, 0x0200043b);
    expect(f, "GICD_PIDR2", DIST + 0xfe8, 0x2b);
    expect(f, "GICC_IIDR", CPUIF + 0xfc, 0x0202043b);
    expect(f, "GICD_CTLR", DIST, 0);
    for (unsigned i = 0; i < 8; i++) {
        expect(f, "PL011 ID", UART + 0xfe0 + 4 * i, uart_id[i]);
        expect(f, "PL031 ID", RTC + 0xfe0 + 4 * i, rtc_id[i]);
    }
    expect(f, "PL011 FR", UART + 0x018, 0x90);
}

static void op(fz *f, unsigned i)
{
    switch (i) {
    case 0:
    case 1:
        line(f);
        break;
    case 2:
    case 3:
        dist_write(f);
        break;
    case 4:
        ack_eoi(f);
        break;
    case 5:
        spec_check(f);
        break;
    }
}

static const fz_target arm_target = {
    .plugins = {"arm-platform", NULL},
    .ram_size = 1 << 20,
    .setup = setup,
    .n_ops = 6,
    .op = op,
};

FZ_TARGET(arm_target)
