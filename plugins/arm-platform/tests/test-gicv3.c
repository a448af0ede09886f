/*
 * arm-gicv3 tests through the harness: distributor, redistributors, the
 * ICC_* CPU interface (reached as the CPU plugin reaches it, through
 * host->cpu_sysreg_read/write with the vCPU) and the ITS. The plugin files
 * come from $ARM_PLATFORM_PLUGIN, $CPU_ARM_PLUGIN and $EDU_PLUGIN (an edu
 * function is the PCI requester whose MSIs the ITS translates).
 *
 * Each fixture maps the GIC where virt does and wires IRQ output i to
 * vCPU i's IRQ input, whose level the tests read (arm_cpu.irq_line).
 */
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <tessera/harness.h>

#include "arm.h" /* cpu-arm: the vCPU state (irq_line) */

#define DIST 0x08000000ull
#define ITS 0x08080000ull
#define REDIST 0x080a0000ull
#define RD(cpu) (REDIST + 0x20000ull * (cpu))
#define SGI(cpu) (RD(cpu) + 0x10000)
#define NSPI 256
#define SPURIOUS 1023

#define ICC(crn, crm, op2) TES_ARM_SYSREG(3, 0, crn, crm, op2)
#define ICC_PMR ICC(4, 6, 0)
#define ICC_DIR ICC(12, 11, 1)
#define ICC_RPR ICC(12, 11, 3)
#define ICC_SGI1R ICC(12, 11, 5)
#define ICC_IAR1 ICC(12, 12, 0)
#define ICC_EOIR1 ICC(12, 12, 1)
#define ICC_HPPIR1 ICC(12, 12, 2)
#define ICC_CTLR ICC(12, 12, 4)
#define ICC_SRE ICC(12, 12, 5)
#define ICC_IGRPEN1 ICC(12, 12, 7)

/* Guest memory of the ITS tests. */
#define DEV_TABLE 0x100000ull
#define COLL_TABLE 0x200000ull
#define CMDQ 0x300000ull
#define PROP_TABLE 0x400000ull
#define PEND_TABLE 0x500000ull
#define ITT 0x600000ull
#define LPI 8192

static const char *plugin_path, *cpu_plugin_path, *edu_plugin_path;

typedef struct fixture {
    tes_harness *h;
    const tes_host *host;
    tes_device *dev;
    tes_cpu *cpu[2];
    arm_cpu *c[2];
    unsigned cmds;
} fixture;

static uint32_t rd(fixture *f, uint64_t a)
{
    return tes_harness_read(f->h, a, 4);
}

static void wr(fixture *f, uint64_t a, uint32_t v)
{
    tes_harness_write(f->h, a, v, 4);
}

static void wr64(fixture *f, uint64_t a, uint64_t v)
{
    tes_harness_write(f->h, a, v, 8);
}

static uint64_t icc_rd(fixture *f, unsigned cpu, uint32_t reg)
{
    uint64_t v = 0xdead;

    g_assert_true(f->host->cpu_sysreg_read(f->cpu[cpu], reg, &v));
    return v;
}

static void icc_wr(fixture *f, unsigned cpu, uint32_t reg, uint64_t v)
{
    g_assert_true(f->host->cpu_sysreg_write(f->cpu[cpu], reg, v));
}

/* Two vCPUs, the GIC with 256 SPIs, both groups enabled at the
 * distributor and Group 1 at each CPU interface with PMR 0xf0 (Linux's
 * set-up); every ID of the tests is Group 1. */
static void up(fixture *f, const char *props)
{
    tes_region *sys;

    memset(f, 0, sizeof(*f));
    f->h = tes_harness_new(16 << 20);
    if (!tes_harness_load(f->h, plugin_path) || !tes_harness_load(f->h, cpu_plugin_path) ||
        !tes_harness_load(f->h, edu_plugin_path)) {
        g_error("plugins: %s", tes_harness_error(f->h));
    }
    f->host = tes_harness_host(f->h);
    for (unsigned i = 0; i < 2; i++) {
        f->cpu[i] = tes_harness_cpu(f->h, "cortex-a57", i);
        f->c[i] = tes_harness_cpu_state(f->cpu[i]);
    }
    f->dev = tes_harness_device(f->h, "arm-gicv3", props);
    g_assert_nonnull(f->dev);
    sys = f->host->system_memory();
    f->host->region_add(sys, DIST, f->host->dev_mmio(f->dev, 0), 0);
    f->host->region_add(sys, REDIST, f->host->dev_mmio(f->dev, 1), 0);
    f->host->region_add(sys, ITS, f->host->dev_mmio(f->dev, 2), 0);
    for (unsigned i = 0; i < 2; i++) {
        f->host->dev_connect_irq(f->dev, i, f->host->cpu_irq_in(f->cpu[i], TES_ARM_IRQ));
        wr(f, SGI(i) + 0x80, ~0u); /* GICR_IGROUPR0 */
        icc_wr(f, i, ICC_PMR, 0xf0);
        icc_wr(f, i, ICC_IGRPEN1, 1);
    }
    wr(f, DIST + 0x0, 3); /* GICD_CTLR: EnableGrp0 | EnableGrp1 */
    for (unsigned i = 1; i < 9; i++) {
        wr(f, DIST + 0x80 + 4 * i, ~0u); /* GICD_IGROUPR */
    }
}

static void down(fixture *f)
{
    tes_harness_free(f->h);
}

static void spi_line(fixture *f, unsigned spi, int level)
{
    f->host->irq_set(f->host->dev_irq_in(f->dev, spi), level);
}

/* SPI id - 32 enabled, priority prio, routed to the vCPU of Aff0 cpu. */
static void spi_setup(fixture *f, unsigned id, uint8_t prio, unsigned cpu)
{
    wr(f, DIST + 0x100 + 4 * (id / 32), 1u << (id % 32));
    tes_harness_write(f->h, DIST + 0x400 + id, prio, 1);
    wr64(f, DIST + 0x6000 + 8 * id, cpu);
}

static void test_ids(void)
{
    fixture f;

    up(&f, "num-cpu=2");
    g_assert_cmphex(rd(&f, DIST + 0xffe8) & 0xf0, ==, 0x30); /* PIDR2.ArchRev 3 */
    g_assert_cmphex(rd(&f, RD(1) + 0xffe8) & 0xf0, ==, 0x30);
    g_assert_cmphex(rd(&f, ITS + 0xffe8) & 0xf0, ==, 0x30);
    g_assert_cmphex(rd(&f, DIST + 0x0) & 0x50, ==, 0x50); /* ARE, DS */
    g_assert_cmphex(rd(&f, DIST + 0x4) & 0x1f, ==, 8); /* ITLinesNumber: 288 IDs */
    /* GICR_TYPER: affinity = MPIDR Aff0, processor number, Last on CPU 1 only. */
    g_assert_cmphex(tes_harness_read(f.h, RD(0) + 0x8, 8), ==, 0x1);
    g_assert_cmphex(tes_harness_read(f.h, RD(1) + 0x8, 8), ==, 1ull << 32 | 1 << 8 | 0x10 | 1);
    g_assert_cmphex(icc_rd(&f, 0, ICC_SRE) & 1, ==, 1);
    g_assert_cmphex(icc_rd(&f, 0, ICC_IAR1), ==, SPURIOUS);
    down(&f);
}

static void test_spi_iar_eoi(void)
{
    fixture f;

    up(&f, "num-cpu=2");
    spi_setup(&f, 33, 0x80, 0);
    g_assert_cmpint(f.c[0]->irq_line, ==, 0);
    spi_line(&f, 1, 1);
    g_assert_cmpint(f.c[0]->irq_line, ==, 1);
    g_assert_cmpint(f.c[1]->irq_line, ==, 0);
    g_assert_cmpuint(icc_rd(&f, 0, ICC_HPPIR1), ==, 33);
    g_assert_cmpuint(icc_rd(&f, 0, ICC_IAR1), ==, 33);
    g_assert_cmpint(f.c[0]->irq_line, ==, 0); /* active: not signalled again */
    g_assert_cmphex(icc_rd(&f, 0, ICC_RPR), ==, 0x80);
    g_assert_cmphex(rd(&f, DIST + 0x304) & 2, ==, 2); /* GICD_ISACTIVER1 */
    spi_line(&f, 1, 0);
    icc_wr(&f, 0, ICC_EOIR1, 33);
    g_assert_cmphex(icc_rd(&f, 0, ICC_RPR), ==, 0xff);
    g_assert_cmphex(rd(&f, DIST + 0x304) & 2, ==, 0);
    g_assert_cmpuint(icc_rd(&f, 0, ICC_IAR1), ==, SPURIOUS);
    /* IROUTER to CPU 1 moves it there. */
    wr64(&f, DIST + 0x6000 + 8 * 33, 1);
    spi_line(&f, 1, 1);
    g_assert_cmpint(f.c[0]->irq_line, ==, 0);
    g_assert_cmpint(f.c[1]->irq_line, ==, 1);
    g_assert_cmpuint(icc_rd(&f, 1, ICC_IAR1), ==, 33);
    down(&f);
}

static void test_priority_mask(void)
{
    fixture f;

    up(&f, "num-cpu=2");
    spi_setup(&f, 34, 0x80, 0);
    icc_wr(&f, 0, ICC_PMR, 0x80); /* only priorities below 0x80 pass */
    spi_line(&f, 2, 1);
    g_assert_cmpint(f.c[0]->irq_line, ==, 0);
    g_assert_cmpuint(icc_rd(&f, 0, ICC_IAR1), ==, SPURIOUS);
    icc_wr(&f, 0, ICC_PMR, 0x88);
    g_assert_cmpint(f.c[0]->irq_line, ==, 1);
    /* A higher priority SPI preempts the active one; an equal one waits. */
    g_assert_cmpuint(icc_rd(&f, 0, ICC_IAR1), ==, 34);
    spi_setup(&f, 35, 0x80, 0);
    spi_setup(&f, 36, 0x40, 0);
    spi_line(&f, 3, 1);
    g_assert_cmpint(f.c[0]->irq_line, ==, 0);
    spi_line(&f, 4, 1);
    g_assert_cmpint(f.c[0]->irq_line, ==, 1);
    g_assert_cmpuint(icc_rd(&f, 0, ICC_IAR1), ==, 36);
    g_assert_cmphex(icc_rd(&f, 0, ICC_RPR), ==, 0x40);
    icc_wr(&f, 0, ICC_EOIR1, 36);
    g_assert_cmphex(icc_rd(&f, 0, ICC_RPR), ==, 0x80); /* nested: back to 34's */
    down(&f);
}

/* EOImode 1 (Linux at EL2): EOIR drops the priority, DIR deactivates. */
static void test_eoimode(void)
{
    fixture f;

    up(&f, "num-cpu=2");
    icc_wr(&f, 0, ICC_CTLR, 2);
    spi_setup(&f, 40, 0x80, 0);
    spi_line(&f, 8, 1);
    g_assert_cmpuint(icc_rd(&f, 0, ICC_IAR1), ==, 40);
    icc_wr(&f, 0, ICC_EOIR1, 40);
    g_assert_cmphex(icc_rd(&f, 0, ICC_RPR), ==, 0xff);
    g_assert_cmpint(f.c[0]->irq_line, ==, 0); /* still active: the line waits */
    icc_wr(&f, 0, ICC_DIR, 40);
    g_assert_cmpint(f.c[0]->irq_line, ==, 1); /* level still high: pending again */
    down(&f);
}

static void test_sgi_other_cpu(void)
{
    fixture f;

    up(&f, "num-cpu=2");
    wr(&f, SGI(1) + 0x100, 1u << 3); /* GICR_ISENABLER0 of CPU 1: SGI 3 */
    /* TargetList bit 1 in cluster 0.0.0 with RS 0: Aff0 1, SGI 3. */
    icc_wr(&f, 0, ICC_SGI1R, 3ull << 24 | 1u << 1);
    g_assert_cmpint(f.c[0]->irq_line, ==, 0);
    g_assert_cmpint(f.c[1]->irq_line, ==, 1);
    g_assert_cmpuint(icc_rd(&f, 1, ICC_IAR1), ==, 3);
    icc_wr(&f, 1, ICC_EOIR1, 3);
    g_assert_cmpint(f.c[1]->irq_line, ==, 0);
    /* IRM: every CPU but the sender; not enabled on CPU 0. */
    wr(&f, SGI(0) + 0x100, 1u << 3);
    icc_wr(&f, 1, ICC_SGI1R, 3ull << 24 | 1ull << 40);
    g_assert_cmpint(f.c[0]->irq_line, ==, 1);
    g_assert_cmpint(f.c[1]->irq_line, ==, 0);
    /* RS 1 names Aff0 16..31: no such CPU, nothing happens. */
    icc_wr(&f, 0, ICC_SGI1R, 3ull << 24 | 1ull << 44 | 2);
    g_assert_cmpint(f.c[1]->irq_line, ==, 0);
    down(&f);
}

/* vCPU 18 has MPIDR Aff0 18: RS 1, TargetList bit 2 (Linux needs
 * GICD_TYPER.RSS and ICC_CTLR_EL1.RSS for vCPUs past 15). */
static void test_sgi_range_selector(void)
{
    tes_harness *h = tes_harness_new(1 << 20);
    const tes_host *host;
    tes_cpu *cpu[20];
    tes_device *dev;
    uint64_t v = 0;

    g_assert_true(tes_harness_load(h, plugin_path) && tes_harness_load(h, cpu_plugin_path));
    host = tes_harness_host(h);
    for (unsigned i = 0; i < 20; i++) {
        cpu[i] = tes_harness_cpu(h, "cortex-a57", i);
    }
    dev = tes_harness_device(h, "arm-gicv3", "num-cpu=20");
    g_assert_nonnull(dev);
    host->region_add(host->system_memory(), REDIST, host->dev_mmio(dev, 1), 0);
    host->dev_connect_irq(dev, 18, host->cpu_irq_in(cpu[18], TES_ARM_IRQ));
    g_assert_true(host->cpu_sysreg_read(cpu[0], ICC_CTLR, &v));
    g_assert_cmphex(v & (1u << 18), !=, 0); /* RSS */
    tes_harness_write(h, SGI(18) + 0x80, 1u << 7, 4);  /* Group 1 */
    tes_harness_write(h, SGI(18) + 0x100, 1u << 7, 4); /* enabled */
    host->cpu_sysreg_write(cpu[18], ICC_PMR, 0xf0);
    host->cpu_sysreg_write(cpu[18], ICC_IGRPEN1, 1);
    host->cpu_sysreg_write(cpu[0], ICC_SGI1R, 7ull << 24 | 1ull << 44 | 1u << 2);
    g_assert_cmpint(((arm_cpu *)tes_harness_cpu_state(cpu[18]))->irq_line, ==, 0);
    /* Pending, but Group 1 is still disabled at the distributor. */
    host->region_add(host->system_memory(), DIST, host->dev_mmio(dev, 0), 0);
    tes_harness_write(h, DIST, 2, 4); /* GICD_CTLR.EnableGrp1 */
    g_assert_cmpint(((arm_cpu *)tes_harness_cpu_state(cpu[18]))->irq_line, ==, 1);
    g_assert_true(host->cpu_sysreg_read(cpu[18], ICC_IAR1, &v));
    g_assert_cmpuint(v, ==, 7);
    tes_harness_free(h);
}

/* ---- ITS ---- */

static void cmd(fixture *f, uint64_t d0, uint64_t d1, uint64_t d2, uint64_t d3)
{
    uint64_t *q = (uint64_t *)((uint8_t *)tes_harness_ram(f->h) + CMDQ + 32 * f->cmds);

    q[0] = d0;
    q[1] = d1;
    q[2] = d2;
    q[3] = d3;
    f->cmds++;
    wr64(f, ITS + 0x88, 32ull * f->cmds); /* GITS_CWRITER */
    g_assert_cmphex(tes_harness_read(f->h, ITS + 0x90, 8), ==, 32ull * f->cmds);
}

/* LPIs on both redistributors (priority 0xa0, enabled: IDs LPI..LPI+15),
 * the ITS's tables, collection c -> redistributor c. */
static void its_up(fixture *f)
{
    up(f, "num-cpu=2");
    memset((uint8_t *)tes_harness_ram(f->h) + PROP_TABLE, 0xa1, 16);
    for (unsigned i = 0; i < 2; i++) {
        wr64(f, RD(i) + 0x70, PROP_TABLE | 15); /* IDbits: 16 */
        wr64(f, RD(i) + 0x78, PEND_TABLE + 0x10000 * i);
        wr(f, RD(i) + 0x0, 1); /* EnableLPIs */
    }
    wr64(f, ITS + 0x100, 1ull << 63 | DEV_TABLE | 15);  /* 16 pages of 4K */
    wr64(f, ITS + 0x108, 1ull << 63 | COLL_TABLE | 0);
    wr64(f, ITS + 0x80, 1ull << 63 | CMDQ | 0);         /* 128 commands */
    wr(f, ITS + 0x0, 1);
    cmd(f, 0x09, 0, 1ull << 63 | 0ull << 16 | 0, 0);     /* MAPC 0 -> RD 0 */
    cmd(f, 0x09, 0, 1ull << 63 | 1ull << 16 | 1, 0);     /* MAPC 1 -> RD 1 */
}

static void test_its_translate(void)
{
    fixture f;

    its_up(&f);
    g_assert_cmphex(tes_harness_read(f.h, ITS + 0x100, 8) >> 56 & 7, ==, 1); /* Device */
    /* MAPD device 0 (a CPU's write is DeviceID 0), 4 EventID bits; MAPTI
     * event 2 -> LPI + 1 on collection 1; SYNC. */
    cmd(&f, 0x08, 3, 1ull << 63 | ITT, 0);
    cmd(&f, 0x0a | 0ull << 32, 2 | (uint64_t)(LPI + 1) << 32, 1, 0);
    cmd(&f, 0x05, 0, 1ull << 16, 0);
    g_assert_cmpint(f.c[1]->irq_line, ==, 0);
    wr(&f, ITS + 0x10040, 2); /* GITS_TRANSLATER */
    g_assert_cmpint(f.c[0]->irq_line, ==, 0);
    g_assert_cmpint(f.c[1]->irq_line, ==, 1);
    g_assert_cmpuint(icc_rd(&f, 1, ICC_IAR1), ==, LPI + 1);
    g_assert_cmpint(f.c[1]->irq_line, ==, 0); /* no active state: just not pending */
    icc_wr(&f, 1, ICC_EOIR1, LPI + 1);
    g_assert_cmphex(icc_rd(&f, 1, ICC_RPR), ==, 0xff);
    /* MOVI to collection 0, then INT: CPU 0 takes it. */
    cmd(&f, 0x01, 2, 0, 0);
    cmd(&f, 0x03, 2, 0, 0);
    g_assert_cmpint(f.c[0]->irq_line, ==, 1);
    g_assert_cmpuint(icc_rd(&f, 0, ICC_IAR1), ==, LPI + 1);
    /* A disabled LPI (config byte, INV) stays pending but is not signalled;
     * CLEAR drops it. */
    ((uint8_t *)tes_harness_ram(f.h))[PROP_TABLE + 1] = 0xa0;
    cmd(&f, 0x0c, 2, 0, 0);
    icc_wr(&f, 0, ICC_EOIR1, LPI + 1);
    wr(&f, ITS + 0x10040, 2);
    g_assert_cmpint(f.c[0]->irq_line, ==, 0);
    /* Event 9 was never mapped, event 16 is past the ITT: dropped. */
    wr(&f, ITS + 0x10040, 9);
    wr(&f, ITS + 0x10040, 16);
    g_assert_cmpint(f.c[0]->irq_line + f.c[1]->irq_line, ==, 0);
    down(&f);
}

/* An edu function's MSI: its requester id (slot 3: 0x18) is the DeviceID. */
static void test_its_device_id(void)
{
    fixture f;
    tes_device *edu;
    int msi;
    uint64_t bar;

    its_up(&f);
    edu = tes_harness_device(f.h, "edu", "addr=3");
    g_assert_nonnull(edu);
    bar = tes_harness_bar_map(f.h, edu, 0, 0x10000000);
    msi = f.host->pci_find_cap(edu, 0x05);
    g_assert_cmpint(msi, >, 0);
    tes_harness_cfg_write(f.h, edu, msi + 4, (uint32_t)(ITS + 0x10040), 4);
    tes_harness_cfg_write(f.h, edu, msi + 8, 0, 4);
    tes_harness_cfg_write(f.h, edu, msi + 12, 5, 2); /* data: EventID 5 */
    tes_harness_cfg_write(f.h, edu, msi + 2, 1, 2);  /* MSI enable */
    /* DeviceID 0x18 unmapped: the MSI is dropped, nothing crashes. */
    tes_harness_log_clear(f.h);
    wr(&f, bar + 0x60, 1);
    g_assert_cmpint(f.c[0]->irq_line + f.c[1]->irq_line, ==, 0);
    g_assert_nonnull(strstr(tes_harness_log_text(f.h), "DeviceID not mapped (0x18, 0x5)"));
    wr(&f, bar + 0x64, 1);
    /* Mapped on device 0x18, event 5 -> LPI + 3 on CPU 0. */
    cmd(&f, 0x08 | 0x18ull << 32, 2, 1ull << 63 | ITT, 0);
    cmd(&f, 0x0a | 0x18ull << 32, 5 | (uint64_t)(LPI + 3) << 32, 0, 0);
    wr(&f, bar + 0x60, 1);
    g_assert_cmpint(f.c[0]->irq_line, ==, 1);
    g_assert_cmpuint(icc_rd(&f, 0, ICC_IAR1), ==, LPI + 3);
    /* DeviceID 0 maps no event 5: a CPU write there does not raise it. */
    icc_wr(&f, 0, ICC_EOIR1, LPI + 3);
    wr(&f, ITS + 0x10040, 5);
    g_assert_cmpint(f.c[0]->irq_line, ==, 0);
    down(&f);
}

/* Guest nonsense in the command queue: skipped, CREADR still catches up. */
static void test_its_bad_commands(void)
{
    fixture f;

    its_up(&f);
    cmd(&f, 0x08 | 0xffffull << 32, 3, 1ull << 63 | ITT, 0); /* past the device table */
    cmd(&f, 0x09, 0, 1ull << 63 | 7ull << 16 | 2, 0);         /* no redistributor 7 */
    cmd(&f, 0x0a, 2 | 5ull << 32, 1, 0);                        /* pINTID 5 is no LPI */
    cmd(&f, 0x2a, 0, 0, 0);                                     /* VMAPTI: unknown */
    cmd(&f, 0x0e, 0, 9ull << 16, 0);                            /* MOVALL from RD 9 */
    /* CWRITER past a 4 KiB queue stops processing without hanging. */
    wr64(&f, ITS + 0x88, 0xfffe0);
    g_assert_cmphex(tes_harness_read(f.h, ITS + 0x90, 8), ==, 32ull * f.cmds);
    down(&f);
}

/* Our gicv3_dist_*, gicv3_redist_* and gicv3_its_* lines (register
 * accesses), once switched on. */
static void test_trace(void)
{
    fixture f;
    char *r;
    const char *log;

    up(&f, "num-cpu=2");
    tes_harness_log_capture(f.h, TES_LOG_TRACE);
    rd(&f, DIST + 0x4);
    g_assert_cmpstr(tes_harness_log_text(f.h), ==, "");
    r = tes_harness_qmp(f.h, "{\"execute\": \"trace-event-set-state\", "
                             "\"arguments\": {\"name\": \"gicv3_*\", \"enable\": true}}");
    g_assert_nonnull(strstr(r, "\"return\""));
    free(r);
    wr(&f, DIST + 0x0, 3);
    g_assert_cmphex(rd(&f, RD(1) + 0xffe8) & 0xf0, ==, 0x30);
    g_assert_cmphex(rd(&f, ITS + 0xffe8) & 0xf0, ==, 0x30);
    log = tes_harness_log_text(f.h);
    g_assert_nonnull(strstr(log, "gicv3_dist_write addr 0x0 size 4 val 0x3\n"));
    g_assert_nonnull(strstr(log, "gicv3_redist_read addr 0x2ffe8 size 4 val 0x3"));
    g_assert_nonnull(strstr(log, "gicv3_its_read addr 0xffe8 size 4 val 0x3"));
    down(&f);
}

static void test_migrate(void)
{
    fixture f;
    size_t bytes;

    its_up(&f);
    cmd(&f, 0x08, 3, 1ull << 63 | ITT, 0);
    cmd(&f, 0x0a, 2 | (uint64_t)LPI << 32, 1, 0);
    spi_setup(&f, 33, 0x80, 0);
    spi_line(&f, 1, 1);
    wr(&f, ITS + 0x10040, 2);
    f.dev = tes_harness_migrate(f.h, f.dev, &bytes);
    g_assert_nonnull(f.dev);
    f.host->region_add(f.host->system_memory(), DIST, f.host->dev_mmio(f.dev, 0), 0);
    f.host->region_add(f.host->system_memory(), REDIST, f.host->dev_mmio(f.dev, 1), 0);
    for (unsigned i = 0; i < 2; i++) {
        f.host->dev_connect_irq(f.dev, i, f.host->cpu_irq_in(f.cpu[i], TES_ARM_IRQ));
    }
    spi_line(&f, 1, 1);
    g_assert_cmpuint(icc_rd(&f, 0, ICC_IAR1), ==, 33);
    g_assert_cmpuint(icc_rd(&f, 1, ICC_IAR1), ==, LPI); /* the pending LPI came along */
    down(&f);
}

/* A stream's ITS registers as only register writes leave them: CREADR off
 * the command grid would never meet CWRITER (the ITS spun for ever on the
 * next CWRITER write before the check). Each forged copy refused with one
 * line; the ITS keeps working from the good one. */
static void test_its_migrate_refuses_forged_registers(void)
{
    static const struct {
        const char *field;
        unsigned index;
        uint64_t value;
    } bad[] = {
        {"its_creadr", 0, 0x10},
        {"its_cwriter", 0, 0x28},
        {"its_creadr", 0, 0x100000},
        {"its_ctlr", 0, 0x3},
        {"its_cbaser", 0, 1ull << 63 | CMDQ | 0x300},
        {"its_baser", 1, 1ull << 63 | COLL_TABLE | 1ull << 48},
    };
    fixture f;
    size_t len;
    void *good;

    its_up(&f);
    good = tes_harness_state_save(f.h, f.dev, &len);
    g_assert_nonnull(good);
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        void *blob = g_memdup2(good, len);
        const char *err;

        g_assert_true(tes_harness_state_poke(f.dev, blob, len, bad[i].field, bad[i].index,
                                             bad[i].value));
        g_assert_cmpint(tes_harness_state_load(f.h, f.dev, blob, len), ==, -EINVAL);
        err = tes_harness_error(f.h);
        g_assert_nonnull(strstr(err, "ITS registers in the stream out of range"));
        g_assert_null(strchr(err, '\n'));
        g_free(blob);
    }
    g_assert_cmpint(tes_harness_state_load(f.h, f.dev, good, len), ==, 0);
    cmd(&f, 0x08, 3, 1ull << 63 | ITT, 0); /* CREADR follows CWRITER again */
    free(good);
    down(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    plugin_path = g_getenv("ARM_PLATFORM_PLUGIN");
    cpu_plugin_path = g_getenv("CPU_ARM_PLUGIN");
    edu_plugin_path = g_getenv("EDU_PLUGIN");
    if (!plugin_path || !cpu_plugin_path || !edu_plugin_path) {
        g_printerr("ARM_PLATFORM_PLUGIN, CPU_ARM_PLUGIN and EDU_PLUGIN must be set\n");
        return 1;
    }
    g_test_add_func("/gicv3/ids/pidr2-typer-last-and-sre", test_ids);
    g_test_add_func("/gicv3/spi/raised-reaches-iar1-eoi-drops-and-deactivates", test_spi_iar_eoi);
    g_test_add_func("/gicv3/cpuif/pmr-masks-and-priorities-preempt", test_priority_mask);
    g_test_add_func("/gicv3/cpuif/eoimode1-dir-deactivates", test_eoimode);
    g_test_add_func("/gicv3/sgi/sgi1r-reaches-the-target-cpu-only", test_sgi_other_cpu);
    g_test_add_func("/gicv3/sgi/range-selector-reaches-cpu-18", test_sgi_range_selector);
    g_test_add_func("/gicv3/its/mapd-mapc-mapti-translater-pends-lpi-on-its-cpu",
                    test_its_translate);
    g_test_add_func("/gicv3/its/device-id-is-the-requester-unmapped-dropped",
                    test_its_device_id);
    g_test_add_func("/gicv3/its/bad-commands-are-skipped", test_its_bad_commands);
    g_test_add_func("/gicv3/its/migrate/refuses-forged-registers",
                    test_its_migrate_refuses_forged_registers);
    g_test_add_func("/gicv3/migrate/spi-and-pending-lpi-survive", test_migrate);
    g_test_add_func("/gicv3/trace/dist-redist-its-register-lines", test_trace);
    return g_test_run();
}
