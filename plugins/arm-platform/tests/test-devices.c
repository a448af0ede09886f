/*
 * arm-platform device tests through the harness: the GICv2 + v2m
 * (arm-gic), the PL011 UART and the PL031 RTC. The plugin files come from
 * $ARM_PLATFORM_PLUGIN and $CPU_ARM_PLUGIN (meson sets them); the CPUs
 * are there to access the GIC's banked registers.
 *
 * The harness maps no sysbus region by itself: each fixture maps the
 * device's regions (host->dev_mmio, as a board does) into system memory and
 * wires the GIC's outputs to the vCPUs' inputs (host->cpu_irq_in). Accesses
 * from the harness act as CPU 0; tests of banked state on other CPUs run
 * one load or store on that vCPU (the GIC asks host->cpu_current()).
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <tessera/harness.h>

#include "arm.h" /* cpu-arm: the vCPU state of cpu_access() */

#define DIST 0x08000000ull
#define CPUIF 0x08010000ull
#define V2M 0x08020000ull
#define UART 0x09000000ull
#define RTC 0x09010000ull
#define CODE 0x1000ull

#define GICD_CTLR 0x000
#define GICD_TYPER 0x004
#define GICD_IIDR 0x008
#define GICD_ISENABLER 0x100
#define GICD_ICENABLER 0x180
#define GICD_ISPENDR 0x200
#define GICD_ICPENDR 0x280
#define GICD_ISACTIVER 0x300
#define GICD_IPRIORITYR 0x400
#define GICD_ITARGETSR 0x800
#define GICD_ICFGR 0xc00
#define GICD_SGIR 0xf00
#define GICD_SPENDSGIR 0xf20
#define GICD_PIDR2 0xfe8
#define GICC_CTLR 0x00
#define GICC_PMR 0x04
#define GICC_IAR 0x0c
#define GICC_EOIR 0x10
#define GICC_RPR 0x14
#define GICC_HPPIR 0x18
#define GICC_IIDR 0xfc
#define GICC_DIR 0x1000
#define SPURIOUS 1023

static const char *plugin_path, *cpu_plugin_path;

#define NSPI 256 /* num-irq 288: inputs 256.. are the PPIs of each CPU */

typedef struct fixture {
    tes_harness *h;
    const tes_host *host;
    tes_device *dev;
    tes_cpu *cpu[2];
    arm_cpu *c[2];
} fixture;

static void up(fixture *f)
{
    memset(f, 0, sizeof(*f));
    f->h = tes_harness_new(16 << 20);
    if (!tes_harness_load(f->h, plugin_path) || !tes_harness_load(f->h, cpu_plugin_path)) {
        g_error("arm-platform/cpu-arm: %s", tes_harness_error(f->h));
    }
    f->host = tes_harness_host(f->h);
}

static void map_gic(fixture *f)
{
    tes_region *sys = f->host->system_memory();

    f->host->region_add(sys, DIST, f->host->dev_mmio(f->dev, 0), 0);
    f->host->region_add(sys, CPUIF, f->host->dev_mmio(f->dev, 1), 0);
    f->host->region_add(sys, V2M, f->host->dev_mmio(f->dev, 2), 0);
    g_assert_null(f->host->dev_mmio(f->dev, 3));
}

static void gic_up(fixture *f, const char *props)
{
    up(f);
    f->dev = tes_harness_device(f->h, "arm-gic", props);
    if (!f->dev) {
        g_error("arm-gic: %s", tes_harness_error(f->h));
    }
    map_gic(f);
}

/* vCPUs 0..n-1, for tests that watch the IRQ line or bank by CPU; the
 * GIC's IRQ output i drives vCPU i's IRQ input, as virt wires them. */
static void cpus_up(fixture *f, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        f->cpu[i] = tes_harness_cpu(f->h, "cortex-a57", i);
        g_assert_nonnull(f->cpu[i]);
        f->c[i] = tes_harness_cpu_state(f->cpu[i]);
        f->host->dev_connect_irq(f->dev, i, f->host->cpu_irq_in(f->cpu[i], TES_ARM_IRQ));
    }
}

static void down(fixture *f)
{
    tes_harness_free(f->h);
}

static uint32_t rd(fixture *f, uint64_t a)
{
    return tes_harness_read(f->h, a, 4);
}

static void wr(fixture *f, uint64_t a, uint32_t v)
{
    tes_harness_write(f->h, a, v, 4);
}

static void spi(fixture *f, unsigned n, int level)
{
    f->host->irq_set(f->host->dev_irq_in(f->dev, n), level);
}

/* Run one 32-bit load or store on vCPU i (MMU off: physical addresses), so
 * that the GIC sees that CPU as the accessor. */
static uint32_t cpu_access(fixture *f, unsigned i, uint64_t addr, uint32_t val, bool write)
{
    uint32_t insn = write ? 0xb9000022 /* str w2, [x1] */ : 0xb9400020 /* ldr w0, [x1] */;
    uint64_t pc = CODE + 0x100 * i, executed = 0;
    arm_cpu *c = f->c[i];

    tes_harness_write(f->h, pc, insn, 4); /* through the core: no stale translation */
    c->pc = pc;
    c->x[0] = 0xdeadbeef;
    c->x[1] = addr;
    c->x[2] = val;
    tes_harness_cpu_exec(f->h, f->cpu[i], 1, &executed);
    g_assert_cmpuint(executed, ==, 1);
    g_assert_cmphex(c->pc, ==, pc + 4);
    return c->x[0];
}

/* Distributor and CPU interface 0 on, everything unmasked. */
static void gic_enable(fixture *f)
{
    wr(f, DIST + GICD_CTLR, 1);
    wr(f, CPUIF + GICC_CTLR, 1);
    wr(f, CPUIF + GICC_PMR, 0xf0);
}

static void spi_setup(fixture *f, unsigned id, uint8_t prio, bool edge)
{
    uint64_t cfg = DIST + GICD_ICFGR + id / 16 * 4;

    tes_harness_write(f->h, DIST + GICD_IPRIORITYR + id, prio, 1);
    wr(f, cfg, (rd(f, cfg) & ~(3u << (id % 16 * 2))) | (edge ? 2u : 0) << (id % 16 * 2));
    wr(f, DIST + GICD_ISENABLER + id / 32 * 4, 1u << (id % 32));
}

static bool pending(fixture *f, unsigned id)
{
    return (rd(f, DIST + GICD_ISPENDR + id / 32 * 4) >> (id % 32)) & 1;
}

/* ---- GIC ---- */

static void test_gic_ids(void)
{
    fixture f;

    gic_up(&f, "num-cpu=2");
    /* 288 IDs: ITLinesNumber 8; CPUNumber 1 (two CPUs). */
    g_assert_cmphex(rd(&f, DIST + GICD_TYPER), ==, 0x28);
    g_assert_cmphex(rd(&f, DIST + GICD_IIDR), ==, 0x0200043b);
    g_assert_cmphex(rd(&f, DIST + GICD_PIDR2), ==, 0x2b);
    g_assert_cmphex(rd(&f, CPUIF + GICC_IIDR), ==, 0x0202043b);
    /* Banked ITARGETSR0..7 read the accessing CPU's bit in every byte. */
    g_assert_cmphex(rd(&f, DIST + GICD_ITARGETSR), ==, 0x01010101);
    g_assert_cmphex(rd(&f, DIST + GICD_ITARGETSR + 28), ==, 0x01010101);
    /* SGIs are edge-triggered, read-only. */
    wr(&f, DIST + GICD_ICFGR, 0);
    g_assert_cmphex(rd(&f, DIST + GICD_ICFGR), ==, 0xaaaaaaaa);
    down(&f);
}

static void test_gic_bad_props(void)
{
    fixture f;

    up(&f);
    g_assert_null(tes_harness_device(f.h, "arm-gic", "num-irq=100"));
    g_assert_null(tes_harness_device(f.h, "arm-gic", "num-cpu=9"));
    g_assert_null(tes_harness_device(f.h, "arm-gic", "v2m-base-spi=250"));
    down(&f);
}

static void test_gic_level_ack_eoi(void)
{
    fixture f;

    gic_up(&f, NULL);
    gic_enable(&f);
    spi_setup(&f, 37, 0xa0, false);
    g_assert_cmpuint(rd(&f, CPUIF + GICC_HPPIR), ==, SPURIOUS);
    spi(&f, 5, 1);
    g_assert_cmpuint(rd(&f, CPUIF + GICC_HPPIR), ==, 37);
    g_assert_cmpuint(rd(&f, CPUIF + GICC_IAR), ==, 37);
    g_assert_cmphex(rd(&f, CPUIF + GICC_RPR), ==, 0xa0);
    /* Active (and still pending: the line is high) is not signalled again. */
    g_assert_cmpuint(rd(&f, CPUIF + GICC_IAR), ==, SPURIOUS);
    g_assert_true(pending(&f, 37));
    wr(&f, CPUIF + GICC_EOIR, 37);
    g_assert_cmphex(rd(&f, CPUIF + GICC_RPR), ==, 0xff);
    g_assert_cmpuint(rd(&f, CPUIF + GICC_IAR), ==, 37);
    spi(&f, 5, 0);
    wr(&f, CPUIF + GICC_EOIR, 37);
    g_assert_false(pending(&f, 37));
    g_assert_cmpuint(rd(&f, CPUIF + GICC_IAR), ==, SPURIOUS);
    down(&f);
}

static void test_gic_cpu_irq_line(void)
{
    fixture f;

    gic_up(&f, NULL);
    cpus_up(&f, 1);
    gic_enable(&f);
    spi_setup(&f, 33, 0x80, false);
    g_assert_cmpint(f.c[0]->irq_line, ==, 0);
    spi(&f, 1, 1);
    g_assert_cmpint(f.c[0]->irq_line, ==, 1);
    g_assert_cmpuint(rd(&f, CPUIF + GICC_IAR), ==, 33);
    g_assert_cmpint(f.c[0]->irq_line, ==, 0);
    spi(&f, 1, 0);
    wr(&f, CPUIF + GICC_EOIR, 33);
    g_assert_cmpint(f.c[0]->irq_line, ==, 0);
    /* Distributor disabled: nothing reaches the CPU. */
    wr(&f, DIST + GICD_CTLR, 0);
    spi(&f, 1, 1);
    g_assert_cmpint(f.c[0]->irq_line, ==, 0);
    wr(&f, DIST + GICD_CTLR, 1);
    g_assert_cmpint(f.c[0]->irq_line, ==, 1);
    down(&f);
}

static void test_gic_pmr_masks(void)
{
    fixture f;

    gic_up(&f, NULL);
    gic_enable(&f);
    spi_setup(&f, 40, 0xa0, false);
    spi(&f, 8, 1);
    /* Signalled only when strictly higher priority than the mask. */
    wr(&f, CPUIF + GICC_PMR, 0xa0);
    g_assert_cmpuint(rd(&f, CPUIF + GICC_HPPIR), ==, SPURIOUS);
    g_assert_cmpuint(rd(&f, CPUIF + GICC_IAR), ==, SPURIOUS);
    wr(&f, CPUIF + GICC_PMR, 0xa8);
    g_assert_cmpuint(rd(&f, CPUIF + GICC_IAR), ==, 40);
    down(&f);
}

static void test_gic_preemption(void)
{
    fixture f;

    gic_up(&f, NULL);
    gic_enable(&f);
    spi_setup(&f, 40, 0xa0, false);
    spi_setup(&f, 41, 0xa0, false);
    spi_setup(&f, 42, 0x80, false);
    spi(&f, 8, 1);
    g_assert_cmpuint(rd(&f, CPUIF + GICC_IAR), ==, 40);
    spi(&f, 9, 1);
    /* Same group priority: no preemption. */
    g_assert_cmpuint(rd(&f, CPUIF + GICC_IAR), ==, SPURIOUS);
    spi(&f, 10, 1);
    g_assert_cmpuint(rd(&f, CPUIF + GICC_IAR), ==, 42);
    g_assert_cmphex(rd(&f, CPUIF + GICC_RPR), ==, 0x80);
    spi(&f, 10, 0);
    wr(&f, CPUIF + GICC_EOIR, 42);
    g_assert_cmphex(rd(&f, CPUIF + GICC_RPR), ==, 0xa0);
    wr(&f, CPUIF + GICC_EOIR, 40);
    g_assert_cmphex(rd(&f, CPUIF + GICC_RPR), ==, 0xff);
    /* Line 40 still high: it and 41 compete, the lower ID wins the tie. */
    g_assert_cmpuint(rd(&f, CPUIF + GICC_IAR), ==, 40);
    down(&f);
}

static void test_gic_edge_vs_level(void)
{
    fixture f;

    gic_up(&f, NULL);
    gic_enable(&f);
    spi_setup(&f, 50, 0xa0, true);
    spi_setup(&f, 51, 0xa0, false);
    /* A pulse latches an edge interrupt; a level one forgets it. */
    spi(&f, 18, 1);
    spi(&f, 18, 0);
    spi(&f, 19, 1);
    spi(&f, 19, 0);
    g_assert_true(pending(&f, 50));
    g_assert_false(pending(&f, 51));
    g_assert_cmpuint(rd(&f, CPUIF + GICC_IAR), ==, 50);
    g_assert_false(pending(&f, 50));
    wr(&f, CPUIF + GICC_EOIR, 50);
    g_assert_cmpuint(rd(&f, CPUIF + GICC_IAR), ==, SPURIOUS);
    /* A line held high raises an edge interrupt once. */
    spi(&f, 18, 1);
    g_assert_cmpuint(rd(&f, CPUIF + GICC_IAR), ==, 50);
    wr(&f, CPUIF + GICC_EOIR, 50);
    g_assert_cmpuint(rd(&f, CPUIF + GICC_IAR), ==, SPURIOUS);
    /* ICPENDR clears a latch but not a level held high. */
    spi(&f, 19, 1);
    wr(&f, DIST + GICD_ICPENDR + 4, 1u << (51 - 32));
    g_assert_true(pending(&f, 51));
    down(&f);
}

static void test_gic_enable_and_pend_regs(void)
{
    fixture f;

    gic_up(&f, NULL);
    gic_enable(&f);
    spi_setup(&f, 60, 0x10, false);
    wr(&f, DIST + GICD_ICENABLER + 4, 1u << (60 - 32));
    g_assert_cmphex(rd(&f, DIST + GICD_ISENABLER + 4), ==, 0);
    wr(&f, DIST + GICD_ISPENDR + 4, 1u << (60 - 32));
    g_assert_cmpuint(rd(&f, CPUIF + GICC_IAR), ==, SPURIOUS);
    wr(&f, DIST + GICD_ISENABLER + 4, 1u << (60 - 32));
    g_assert_cmpuint(rd(&f, CPUIF + GICC_IAR), ==, 60);
    g_assert_cmphex(rd(&f, DIST + GICD_ISACTIVER + 4), ==, 1u << (60 - 32));
    /* Priority bytes read back as written, word-wide too. */
    g_assert_cmphex(rd(&f, DIST + GICD_IPRIORITYR + 60), ==, 0x10);
    /* IDs past num-irq are not implemented. */
    wr(&f, DIST + GICD_ISENABLER + 9 * 4, ~0u);
    g_assert_cmphex(rd(&f, DIST + GICD_ISENABLER + 9 * 4), ==, 0);
    down(&f);
}

static void test_gic_eoimode_dir(void)
{
    fixture f;

    gic_up(&f, NULL);
    gic_enable(&f);
    wr(&f, CPUIF + GICC_CTLR, 1 | 1u << 9); /* EOImode: EOIR drops, DIR deactivates */
    spi_setup(&f, 45, 0xa0, true);
    wr(&f, DIST + GICD_ISPENDR + 4, 1u << (45 - 32));
    g_assert_cmpuint(rd(&f, CPUIF + GICC_IAR), ==, 45);
    wr(&f, CPUIF + GICC_EOIR, 45);
    g_assert_cmphex(rd(&f, CPUIF + GICC_RPR), ==, 0xff);
    g_assert_cmphex(rd(&f, DIST + GICD_ISACTIVER + 4), ==, 1u << (45 - 32));
    wr(&f, CPUIF + GICC_DIR, 45);
    g_assert_cmphex(rd(&f, DIST + GICD_ISACTIVER + 4), ==, 0);
    down(&f);
}

static void test_gic_sgi_sources(void)
{
    fixture f;

    gic_up(&f, "num-cpu=2");
    gic_enable(&f);
    wr(&f, DIST + GICD_ISENABLER, 0xffff);
    /* SGI 2 pending on CPU 0 from CPUs 0 and 1: acked once per source. */
    tes_harness_write(f.h, DIST + GICD_SPENDSGIR + 2, 0x3, 1);
    g_assert_cmphex(rd(&f, CPUIF + GICC_IAR), ==, 2);
    wr(&f, CPUIF + GICC_EOIR, 2);
    g_assert_cmphex(rd(&f, CPUIF + GICC_IAR), ==, 2 | 1 << 10);
    wr(&f, CPUIF + GICC_EOIR, 2 | 1 << 10);
    g_assert_cmpuint(rd(&f, CPUIF + GICC_IAR), ==, SPURIOUS);
    /* SGIR "self" filter from CPU 0. */
    wr(&f, DIST + GICD_SGIR, 2u << 24 | 7);
    g_assert_cmphex(rd(&f, CPUIF + GICC_IAR), ==, 7);
    down(&f);
}

static void test_gic_sgi_between_cpus(void)
{
    fixture f;

    gic_up(&f, "num-cpu=2");
    cpus_up(&f, 2);
    wr(&f, DIST + GICD_CTLR, 1);
    for (unsigned i = 0; i < 2; i++) {
        cpu_access(&f, i, CPUIF + GICC_CTLR, 1, true);
        cpu_access(&f, i, CPUIF + GICC_PMR, 0xf0, true);
        cpu_access(&f, i, DIST + GICD_ISENABLER, 0xffff, true);
    }
    g_assert_cmphex(cpu_access(&f, 1, DIST + GICD_ITARGETSR, 0, false), ==, 0x02020202);
    /* CPU 0 sends SGI 3 to CPU 1 (target list). */
    cpu_access(&f, 0, DIST + GICD_SGIR, 0x2u << 16 | 3, true);
    g_assert_cmpint(f.c[1]->irq_line, ==, 1);
    g_assert_cmpint(f.c[0]->irq_line, ==, 0);
    g_assert_cmphex(cpu_access(&f, 1, CPUIF + GICC_IAR, 0, false), ==, 3);
    cpu_access(&f, 1, CPUIF + GICC_EOIR, 3, true);
    g_assert_cmpint(f.c[1]->irq_line, ==, 0);
    /* CPU 1 sends SGI 5 to all others: CPU 0 sees source 1. */
    cpu_access(&f, 1, DIST + GICD_SGIR, 1u << 24 | 5, true);
    g_assert_cmpint(f.c[0]->irq_line, ==, 1);
    g_assert_cmpint(f.c[1]->irq_line, ==, 0);
    g_assert_cmphex(cpu_access(&f, 0, CPUIF + GICC_IAR, 0, false), ==, 5 | 1 << 10);
    down(&f);
}

static void test_gic_ppi_banked(void)
{
    fixture f;

    gic_up(&f, "num-cpu=2");
    gic_enable(&f);
    wr(&f, DIST + GICD_ISENABLER, 1u << 27);
    /* CPU 1's timer PPI is invisible to CPU 0. */
    f.host->irq_set(f.host->dev_irq_in(f.dev, NSPI + 16 + 27 - 16), 1);
    g_assert_false(pending(&f, 27));
    g_assert_cmpuint(rd(&f, CPUIF + GICC_IAR), ==, SPURIOUS);
    f.host->irq_set(f.host->dev_irq_in(f.dev, NSPI + 27 - 16), 1);
    g_assert_true(pending(&f, 27));
    g_assert_cmpuint(rd(&f, CPUIF + GICC_IAR), ==, 27);
    down(&f);
}

/* Without any CPU: the GIC's outputs (IRQ of interface i, then FIQ) are
 * plain device outputs a board wires; platform types declare themselves. */
static void test_gic_outputs_and_platform_info(void)
{
    fixture f;
    const tes_platform_info *pi;
    tes_device *uart;

    gic_up(&f, "num-cpu=2");
    gic_enable(&f);
    spi_setup(&f, 40, 0x80, false);
    tes_harness_write(f.h, DIST + GICD_ITARGETSR + 40, 0x1, 1); /* to CPU 0 */
    spi(&f, 8, 1);
    g_assert_cmpint(tes_harness_irq_level(f.h, f.dev, 0), ==, 1);
    g_assert_cmpint(tes_harness_irq_level(f.h, f.dev, 1), ==, 0);
    g_assert_cmpint(tes_harness_irq_level(f.h, f.dev, 2), ==, 0); /* FIQ 0 */
    spi(&f, 8, 0);
    g_assert_cmpint(tes_harness_irq_level(f.h, f.dev, 0), ==, 0);
    g_assert_nonnull(f.host->dev_irq_in(f.dev, NSPI + 2 * 16 - 1));
    g_assert_null(f.host->dev_irq_in(f.dev, NSPI + 2 * 16));
    g_assert_null(f.host->dev_platform_info(f.dev)); /* the board writes its node */
    uart = tes_harness_device(f.h, "pl011", NULL);
    pi = f.host->dev_platform_info(uart);
    g_assert_nonnull(pi);
    g_assert_cmpstr(pi->compatible, ==, "arm,pl011");
    g_assert_cmpstr(pi->compatible + strlen(pi->compatible) + 1, ==, "arm,primecell");
    g_assert_cmpuint(pi->num_mmio, ==, 1);
    g_assert_cmpuint(pi->num_irqs, ==, 1);
    g_assert_cmphex(f.host->region_size(f.host->dev_mmio(uart, 0)), ==, 0x1000);
    down(&f);
}

static void test_gic_v2m(void)
{
    fixture f;

    gic_up(&f, NULL);
    gic_enable(&f);
    /* QEMU virt's frame: SPIs 48..111, i.e. IDs 80..143. */
    g_assert_cmphex(rd(&f, V2M + 0x008), ==, 80u << 16 | 64);
    spi_setup(&f, 83, 0xa0, true);
    wr(&f, V2M + 0x040, 79); /* below the frame: ignored */
    g_assert_cmpuint(rd(&f, CPUIF + GICC_IAR), ==, SPURIOUS);
    wr(&f, V2M + 0x040, 83);
    g_assert_true(pending(&f, 83));
    g_assert_cmpuint(rd(&f, CPUIF + GICC_IAR), ==, 83);
    wr(&f, CPUIF + GICC_EOIR, 83);
    g_assert_cmpuint(rd(&f, CPUIF + GICC_IAR), ==, SPURIOUS);
    down(&f);
}

static void test_gic_migrate(void)
{
    fixture f;

    gic_up(&f, "num-cpu=2");
    gic_enable(&f);
    spi_setup(&f, 70, 0x30, true);
    tes_harness_write(f.h, DIST + GICD_ITARGETSR + 70, 0x2, 1);
    wr(&f, DIST + GICD_ISPENDR + 8, 1u << (70 - 64));
    f.dev = tes_harness_migrate(f.h, f.dev, NULL);
    if (!f.dev) {
        g_error("migration: %s", tes_harness_error(f.h));
    }
    map_gic(&f);
    g_assert_cmphex(rd(&f, CPUIF + GICC_PMR), ==, 0xf0);
    g_assert_cmphex(rd(&f, DIST + GICD_IPRIORITYR + 68), ==, 0x00300000);
    g_assert_cmphex(rd(&f, DIST + GICD_ITARGETSR + 68), ==, 0x00020000);
    g_assert_cmphex(rd(&f, DIST + GICD_ICFGR + 70 / 16 * 4) >> (70 % 16 * 2), ==, 2);
    g_assert_true(pending(&f, 70));
    g_assert_cmphex(rd(&f, DIST + GICD_ISENABLER + 8), ==, 1u << (70 - 64));
    down(&f);
}

/* ---- PL011 ---- */

static void uart_up(fixture *f)
{
    up(f);
    f->dev = tes_harness_device(f->h, "pl011", NULL);
    g_assert_nonnull(f->dev);
    f->host->region_add(f->host->system_memory(), UART, f->host->dev_mmio(f->dev, 0), 0);
}

static void test_pl011_ids_and_reset(void)
{
    static const uint8_t id[8] = {0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};
    fixture f;

    uart_up(&f);
    for (unsigned i = 0; i < 8; i++) {
        g_assert_cmphex(rd(&f, UART + 0xfe0 + 4 * i), ==, id[i]);
    }
    g_assert_cmphex(rd(&f, UART + 0x018), ==, 0x90); /* FR: TXFE | RXFE */
    g_assert_cmphex(rd(&f, UART + 0x030), ==, 0x300);
    g_assert_cmphex(rd(&f, UART + 0x034), ==, 0x12);
    down(&f);
}

static void test_pl011_tx_interrupt(void)
{
    fixture f;

    uart_up(&f);
    wr(&f, UART + 0x000, 'A');
    g_assert_cmphex(rd(&f, UART + 0x03c) & 0x20, ==, 0x20); /* TXRIS */
    g_assert_cmphex(rd(&f, UART + 0x040), ==, 0);
    g_assert_cmpint(tes_harness_irq_level(f.h, f.dev, 0), ==, 0);
    wr(&f, UART + 0x038, 0x20); /* IMSC.TXIM */
    g_assert_cmphex(rd(&f, UART + 0x040), ==, 0x20);
    g_assert_cmpint(tes_harness_irq_level(f.h, f.dev, 0), ==, 1);
    wr(&f, UART + 0x044, 0x20); /* ICR */
    g_assert_cmpint(tes_harness_irq_level(f.h, f.dev, 0), ==, 0);
    g_assert_cmphex(rd(&f, UART + 0x018) & 0x28, ==, 0); /* never TXFF, BUSY */
    down(&f);
}

static void test_pl011_loopback_rx(void)
{
    fixture f;

    uart_up(&f);
    wr(&f, UART + 0x02c, 0x70);       /* LCR_H: 8 bits, FIFOs on */
    wr(&f, UART + 0x030, 0x381);      /* UARTEN | LBE | TXE | RXE */
    wr(&f, UART + 0x038, 0x50);       /* RXIM | RTIM */
    wr(&f, UART + 0x000, 'x');
    wr(&f, UART + 0x000, 'y');
    /* Below the 1/2 trigger: receive timeout, not RX. */
    g_assert_cmphex(rd(&f, UART + 0x03c) & 0x50, ==, 0x40);
    g_assert_cmpint(tes_harness_irq_level(f.h, f.dev, 0), ==, 1);
    g_assert_cmphex(rd(&f, UART + 0x018) & 0x10, ==, 0);
    g_assert_cmphex(rd(&f, UART + 0x000), ==, 'x');
    g_assert_cmphex(rd(&f, UART + 0x000), ==, 'y');
    g_assert_cmphex(rd(&f, UART + 0x018) & 0x10, ==, 0x10);
    g_assert_cmpint(tes_harness_irq_level(f.h, f.dev, 0), ==, 0);
    for (unsigned i = 0; i < 8; i++) {
        wr(&f, UART + 0x000, '0' + i);
    }
    g_assert_cmphex(rd(&f, UART + 0x03c) & 0x50, ==, 0x10);
    down(&f);
}

static void test_pl011_overrun_without_fifo(void)
{
    fixture f;

    uart_up(&f);
    wr(&f, UART + 0x030, 0x381);
    wr(&f, UART + 0x000, 'a');
    g_assert_cmphex(rd(&f, UART + 0x018) & 0x40, ==, 0x40); /* RXFF: 1 deep */
    wr(&f, UART + 0x000, 'b');
    g_assert_cmphex(rd(&f, UART + 0x03c) & 0x400, ==, 0x400); /* OERIS */
    g_assert_cmphex(rd(&f, UART + 0x004), ==, 0x8);
    g_assert_cmphex(rd(&f, UART + 0x000), ==, 'a');
    wr(&f, UART + 0x004, 0);
    g_assert_cmphex(rd(&f, UART + 0x004), ==, 0);
    down(&f);
}

/* Linux's driver uses 16-bit accesses on virt: a narrow write to DR must
 * not read DR first (a received byte would be swallowed each time the
 * console prints while input waits), and a narrow write to another
 * register keeps its other bytes. */
static void test_pl011_narrow_accesses(void)
{
    fixture f;

    uart_up(&f);
    wr(&f, UART + 0x02c, 0x70);  /* LCR_H: 8 bits, FIFOs on */
    wr(&f, UART + 0x030, 0x381); /* loopback: 'x' lands in the RX FIFO */
    wr(&f, UART + 0x000, 'x');
    tes_harness_write(f.h, UART + 0x030, 0x301, 2); /* loopback off */
    g_assert_cmphex(rd(&f, UART + 0x030), ==, 0x301);
    tes_harness_write(f.h, UART + 0x000, 'A', 2);  /* printk's writew */
    tes_harness_write(f.h, UART + 0x000, 'B', 1);
    g_assert_cmphex(rd(&f, UART + 0x018) & 0x10, ==, 0); /* 'x' still waits */
    g_assert_cmphex(tes_harness_read(f.h, UART + 0x001, 1), ==, 0);
    g_assert_cmphex(tes_harness_read(f.h, UART + 0x000, 2), ==, 'x');
    g_assert_cmphex(rd(&f, UART + 0x018) & 0x10, ==, 0x10);
    tes_harness_write(f.h, UART + 0x031, 0x02, 1); /* CR[15:8]: TXE off */
    g_assert_cmphex(rd(&f, UART + 0x030), ==, 0x201);
    tes_harness_write(f.h, UART + 0x030, 0x00, 1); /* CR[7:0]: UARTEN off */
    g_assert_cmphex(rd(&f, UART + 0x030), ==, 0x200);
    g_assert_cmphex(tes_harness_read(f.h, UART + 0x031, 1), ==, 0x02);
    g_assert_cmphex(tes_harness_read(f.h, UART + 0xfe0, 2), ==, 0x11);
    down(&f);
}

static void test_pl011_migrate(void)
{
    fixture f;
    uart_up(&f);
    wr(&f, UART + 0x02c, 0x70);
    wr(&f, UART + 0x030, 0x381);
    wr(&f, UART + 0x038, 0x40);
    wr(&f, UART + 0x000, 'q');
    f.dev = tes_harness_migrate(f.h, f.dev, NULL);
    if (!f.dev) {
        g_error("migration: %s", tes_harness_error(f.h));
    }
    f.host->region_add(f.host->system_memory(), UART, f.host->dev_mmio(f.dev, 0), 0);
    g_assert_cmpint(tes_harness_irq_level(f.h, f.dev, 0), ==, 1);
    g_assert_cmphex(rd(&f, UART + 0x000), ==, 'q');
    g_assert_cmphex(rd(&f, UART + 0x02c), ==, 0x70);
    down(&f);
}

/* ---- PL031 ---- */

static void rtc_up(fixture *f)
{
    up(f);
    f->dev = tes_harness_device(f->h, "pl031", NULL);
    g_assert_nonnull(f->dev);
    f->host->region_add(f->host->system_memory(), RTC, f->host->dev_mmio(f->dev, 0), 0);
}

static void test_pl031_counter(void)
{
    static const uint8_t id[8] = {0x31, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};
    fixture f;
    uint32_t t0;

    rtc_up(&f);
    for (unsigned i = 0; i < 8; i++) {
        g_assert_cmphex(rd(&f, RTC + 0xfe0 + 4 * i), ==, id[i]);
    }
    t0 = rd(&f, RTC + 0x00);
    g_assert_cmpint(labs((long)t0 - (long)time(NULL)), <=, 2); /* host wall time */
    tes_harness_clock_step(f.h, 3000000000ll);
    g_assert_cmpuint(rd(&f, RTC + 0x00), ==, t0 + 3);
    wr(&f, RTC + 0x08, 1000); /* LR loads the counter */
    g_assert_cmpuint(rd(&f, RTC + 0x00), ==, 1000);
    tes_harness_clock_step(f.h, 1000000000ll);
    g_assert_cmpuint(rd(&f, RTC + 0x00), ==, 1001);
    g_assert_cmpuint(rd(&f, RTC + 0x0c), ==, 1);
    down(&f);
}

static void test_pl031_match_interrupt(void)
{
    fixture f;

    rtc_up(&f);
    wr(&f, RTC + 0x08, 100);
    wr(&f, RTC + 0x04, 102);
    wr(&f, RTC + 0x10, 1);
    tes_harness_clock_step(f.h, 1000000000ll);
    g_assert_cmpuint(rd(&f, RTC + 0x14), ==, 0);
    g_assert_cmpint(tes_harness_irq_level(f.h, f.dev, 0), ==, 0);
    tes_harness_clock_step(f.h, 1000000000ll);
    g_assert_cmpuint(rd(&f, RTC + 0x00), ==, 102);
    g_assert_cmpuint(rd(&f, RTC + 0x14), ==, 1);
    g_assert_cmpuint(rd(&f, RTC + 0x18), ==, 1);
    g_assert_cmpint(tes_harness_irq_level(f.h, f.dev, 0), ==, 1);
    wr(&f, RTC + 0x1c, 1);
    g_assert_cmpint(tes_harness_irq_level(f.h, f.dev, 0), ==, 0);
    down(&f);
}

static void test_pl031_migrate(void)
{
    fixture f;
    rtc_up(&f);
    wr(&f, RTC + 0x08, 5000);
    wr(&f, RTC + 0x04, 5002);
    wr(&f, RTC + 0x10, 1);
    f.dev = tes_harness_migrate(f.h, f.dev, NULL);
    if (!f.dev) {
        g_error("migration: %s", tes_harness_error(f.h));
    }
    f.host->region_add(f.host->system_memory(), RTC, f.host->dev_mmio(f.dev, 0), 0);
    g_assert_cmpuint(rd(&f, RTC + 0x00), ==, 5000);
    /* The alarm is re-armed on the destination. */
    tes_harness_clock_step(f.h, 2000000000ll);
    g_assert_cmpint(tes_harness_irq_level(f.h, f.dev, 0), ==, 1);
    down(&f);
}

/* Forge one field of a copy of dev's section (saved while it was sound:
 * a refused load leaves the device as it was half-loaded) and load it:
 * refused, with one line. */
static void forged_refused(fixture *f, const void *good, size_t len, const char *field,
                           unsigned index, uint64_t value, const char *want)
{
    void *blob = g_memdup2(good, len);
    const char *err;

    g_assert_true(tes_harness_state_poke(f->dev, blob, len, field, index, value));
    g_assert_cmpint(tes_harness_state_load(f->h, f->dev, blob, len), <, 0);
    err = tes_harness_error(f->h);
    g_assert_nonnull(strstr(err, want));
    g_assert_null(strchr(err, '\n'));
    g_free(blob);
}

static void test_gic_migrate_refuses_forged_state(void)
{
    fixture f;
    size_t len;
    void *good;

    gic_up(&f, "num-cpu=2");
    good = tes_harness_state_save(f.h, f.dev, &len);
    forged_refused(&f, good, len, "c_bpr", 1, 40, "BPR 40"); /* 0xff << 41 */
    forged_refused(&f, good, len, "target", 70, 0x4, "IRQ 70: targets 0x4");
    forged_refused(&f, good, len, "sgi_src", 3, 0x80, "SGI 3 of CPU 0");
    free(good);
    down(&f);
}

static void test_pl031_migrate_refuses_forged_offset(void)
{
    fixture f;
    size_t len;
    void *good;

    rtc_up(&f);
    good = tes_harness_state_save(f.h, f.dev, &len);
    forged_refused(&f, good, len, "tick_offset", 0, (uint64_t)INT64_MAX, "tick_offset");
    free(good);
    down(&f);
}

/* el indexes the soft TLBs (two of them): EL2 from a stream wrote past. */
static void test_cpu_migrate_refuses_forged_el(void)
{
    fixture f;
    size_t len;
    void *good;

    up(&f);
    f.cpu[0] = tes_harness_cpu(f.h, "cortex-a57", 0);
    f.dev = f.host->cpu_dev(f.cpu[0]);
    good = tes_harness_state_save(f.h, f.dev, &len);
    g_assert_nonnull(good);
    forged_refused(&f, good, len, "el", 0, 2, "EL 2");
    forged_refused(&f, good, len, "excl_size", 0, 4096, "exclusive size 4096");
    free(good);
    down(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    plugin_path = g_getenv("ARM_PLATFORM_PLUGIN");
    cpu_plugin_path = g_getenv("CPU_ARM_PLUGIN");
    if (!plugin_path || !cpu_plugin_path) {
        g_printerr("usage: ARM_PLATFORM_PLUGIN=arm-platform.so CPU_ARM_PLUGIN=cpu-arm.so %s\n",
                   argv[0]);
        return 2;
    }
    g_test_add_func("/arm-platform/gic/ids/typer-iidr-and-banked-targets", test_gic_ids);
    g_test_add_func("/arm-platform/gic/props/bad-values-refused", test_gic_bad_props);
    g_test_add_func("/arm-platform/gic/spi/level-acked-by-iar-ended-by-eoir", test_gic_level_ack_eoi);
    g_test_add_func("/arm-platform/gic/spi/raises-and-drops-cpu-irq-line", test_gic_cpu_irq_line);
    g_test_add_func("/arm-platform/gic/priority/pmr-masks-equal-or-lower", test_gic_pmr_masks);
    g_test_add_func("/arm-platform/gic/priority/only-higher-group-preempts", test_gic_preemption);
    g_test_add_func("/arm-platform/gic/spi/edge-latches-level-follows-line", test_gic_edge_vs_level);
    g_test_add_func("/arm-platform/gic/dist/enable-pending-active-registers",
                    test_gic_enable_and_pend_regs);
    g_test_add_func("/arm-platform/gic/cpu/eoimode-splits-drop-and-deactivate",
                    test_gic_eoimode_dir);
    g_test_add_func("/arm-platform/gic/sgi/pending-per-source-cpu", test_gic_sgi_sources);
    g_test_add_func("/arm-platform/gic/sgi/cpu0-to-cpu1-with-source-id", test_gic_sgi_between_cpus);
    g_test_add_func("/arm-platform/gic/ppi/banked-per-cpu", test_gic_ppi_banked);
    g_test_add_func("/arm-platform/gic/v2m/setspi-raises-spi-in-frame", test_gic_v2m);
    g_test_add_func("/arm-platform/gic/outputs-without-cpus-and-platform-info",
                    test_gic_outputs_and_platform_info);
    g_test_add_func("/arm-platform/gic/migrate/keeps-distributor-and-cpu-state", test_gic_migrate);
    g_test_add_func("/arm-platform/gic/migrate/refuses-forged-state",
                    test_gic_migrate_refuses_forged_state);
    g_test_add_func("/arm-platform/cpu/migrate/refuses-forged-el",
                    test_cpu_migrate_refuses_forged_el);
    g_test_add_func("/arm-platform/pl031/migrate/refuses-forged-offset",
                    test_pl031_migrate_refuses_forged_offset);
    g_test_add_func("/arm-platform/pl011/ids-and-reset-values", test_pl011_ids_and_reset);
    g_test_add_func("/arm-platform/pl011/tx-sets-txris-irq-follows-imsc", test_pl011_tx_interrupt);
    g_test_add_func("/arm-platform/pl011/loopback-rx-fifo-timeout-and-trigger",
                    test_pl011_loopback_rx);
    g_test_add_func("/arm-platform/pl011/overrun-without-fifo", test_pl011_overrun_without_fifo);
    g_test_add_func("/arm-platform/pl011/narrow-write-keeps-rx-byte-and-other-bytes",
                    test_pl011_narrow_accesses);
    g_test_add_func("/arm-platform/pl011/migrate/keeps-rx-fifo-and-irq", test_pl011_migrate);
    g_test_add_func("/arm-platform/pl031/counter-follows-virtual-clock", test_pl031_counter);
    g_test_add_func("/arm-platform/pl031/match-raises-interrupt", test_pl031_match_interrupt);
    g_test_add_func("/arm-platform/pl031/migrate/keeps-counter-and-alarm", test_pl031_migrate);
    return g_test_run();
}
