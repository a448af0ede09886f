/*
 * Fuzz target: the GICv3 with its ITS (plugins/arm-platform, arm-gicv3)
 * through the harness, mapped as virt maps it, with two vCPUs (cpu-arm)
 * whose ICC_* system registers the target reaches as the CPU plugin does
 * (host->cpu_sysreg_read/write).
 *
 * Beyond the generic actions (fuzz-dev.h): input lines (SPIs, PPIs),
 * distributor and redistributor writes aimed at real registers (IROUTER
 * 64-bit too), ICC_* writes of any value (PMR, BPR, CTLR, SGI1R, APR, ...)
 * and acknowledge/EOI/DIR sequences, ITS register writes, structured ITS
 * commands with fuzzed fields queued at CWRITER, MSIs to GITS_TRANSLATER,
 * a sane LPI/ITS set-up (so that the deep paths are reached), and the spec
 * check: after a system reset the identification registers and the reset
 * state read back.
 */
#include <string.h>

#include "fuzz-dev.h"

#define DIST 0x08000000ull
#define ITS 0x08080000ull
#define REDIST 0x080a0000ull
#define NCPU 2
#define NUM_IRQ 288

#define DEV_TABLE 0x10000ull
#define COLL_TABLE 0x20000ull
#define CMDQ 0x30000ull
#define PROP_TABLE 0x40000ull
#define ITT 0x60000ull

static tes_device *gic;
static tes_cpu *cpus[NCPU];

static void map_gic(fz *f, tes_device *d)
{
    tes_region *sys = f->host->system_memory();

    gic = d;
    f->host->region_add(sys, DIST, f->host->dev_mmio(d, 0), 0);
    f->host->region_add(sys, REDIST, f->host->dev_mmio(d, 1), 0);
    f->host->region_add(sys, ITS, f->host->dev_mmio(d, 2), 0);
    for (unsigned i = 0; i < NCPU; i++) {
        f->host->dev_connect_irq(d, i, f->host->cpu_irq_in(cpus[i], TES_ARM_IRQ));
        f->host->dev_connect_irq(d, NCPU + i, f->host->cpu_irq_in(cpus[i], TES_ARM_FIQ));
    }
}

static void setup(fz *f)
{
    tes_device *g;

    for (unsigned i = 0; i < NCPU; i++) {
        cpus[i] = tes_harness_cpu(f->h, "cortex-a57", i);
        if (!cpus[i]) {
            fz_fail(f, "cortex-a57: %s", tes_harness_error(f->h));
        }
    }
    g = tes_harness_device(f->h, "arm-gicv3", "num-cpu=2");
    if (!g) {
        fz_fail(f, "arm-gicv3: %s", tes_harness_error(f->h));
    }
    map_gic(f, g);
    fz_window_add(f, DIST, 0x10000, false);
    fz_window_add(f, REDIST, 0x40000, false);
    fz_window_add(f, ITS, 0x20000, false);
    fz_device_add(f, g, map_gic);
}

static void line(fz *f)
{
    uint16_t n = fz_u16(f) % (NUM_IRQ - 32 + 16 * NCPU);

    f->host->irq_set(f->host->dev_irq_in(gic, n), fz_u8(f) & 1);
}

static void dist_write(fz *f)
{
    static const uint16_t banks[] = {0x000, 0x080, 0x100, 0x180, 0x200, 0x280, 0x300, 0x380,
                                     0x400, 0xc00, 0x6100};
    uint8_t sel = fz_u8(f);
    uint64_t off = banks[sel % (sizeof(banks) / sizeof(banks[0]))] + (fz_u16(f) & 0x7fc);

    if (sel & 0x80) {
        tes_harness_write(f->h, DIST + (off & ~7ull), fz_u64(f), 8);
    } else {
        tes_harness_write(f->h, DIST + off, fz_u32(f), 4);
    }
}

static void redist_write(fz *f)
{
    static const uint32_t regs[] = {0x0000, 0x0014, 0x0070, 0x0074, 0x0078, 0x10080, 0x10100,
                                    0x10180, 0x10200, 0x10280, 0x10300, 0x10380, 0x10400,
                                    0x10c04};
    uint8_t sel = fz_u8(f);
    uint64_t a = REDIST + 0x20000ull * ((sel >> 4) % 3) + regs[sel % 14];

    tes_harness_write(f->h, a, sel & 0x80 ? fz_u64(f) : fz_u32(f), sel & 0x80 ? 8 : 4);
}

static uint32_t icc_reg(fz *f)
{
    static const uint8_t crm_op2[] = {0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x90, 0x91,
                                      0xb1, 0xb3, 0xb5, 0xb6, 0xb7, 0xc0, 0xc1, 0xc2,
                                      0xc3, 0xc4, 0xc5, 0xc6, 0xc7};
    uint8_t sel = fz_u8(f);
    uint8_t v = crm_op2[sel % sizeof(crm_op2)];

    if (sel == 0xff) {
        return TES_ARM_SYSREG(3, 0, 4, 6, 0); /* PMR */
    }
    return TES_ARM_SYSREG(3, 0, 12, v >> 4, v & 7);
}

static void icc_write(fz *f)
{
    tes_cpu *c = cpus[fz_u8(f) % NCPU];
    uint32_t reg = icc_reg(f);
    uint64_t v;

    if (fz_u8(f) & 1) {
        f->host->cpu_sysreg_read(c, reg, &v);
    } else {
        f->host->cpu_sysreg_write(c, reg, fz_u64(f));
    }
}

/* IAR1 then EOIR1 (and DIR) of what it returned or of the input's ID. */
static void ack_eoi(fz *f)
{
    tes_cpu *c = cpus[fz_u8(f) % NCPU];
    uint8_t sel = fz_u8(f);
    uint64_t iar = 0;

    f->host->cpu_sysreg_read(c, TES_ARM_SYSREG(3, 0, 12, 12, sel & 4 ? 0 : 2), &iar);
    if (sel & 1) {
        iar = fz_u32(f);
    }
    f->host->cpu_sysreg_write(c, TES_ARM_SYSREG(3, 0, 12, 12, 1), iar);
    if (sel & 2) {
        f->host->cpu_sysreg_write(c, TES_ARM_SYSREG(3, 0, 12, 11, 1), iar);
    }
}

static void its_write(fz *f)
{
    static const uint16_t regs[] = {0x00, 0x80, 0x88, 0x100, 0x108, 0x110, 0x84, 0x8c};
    uint8_t sel = fz_u8(f);
    uint16_t off = regs[sel % 8];

    tes_harness_write(f->h, ITS + off, sel & 0x80 ? fz_u64(f) : fz_u32(f),
                      (sel & 0x80) && !(off & 4) ? 8 : 4);
}

/* A sane set-up: LPIs on both redistributors with every LPI enabled,
 * tables in RAM, the ITS enabled. The fuzzer then breaks it at will. */
static void its_setup(fz *f)
{
    if (f->ram_size >= PROP_TABLE + 0x10000) {
        memset(f->ram + PROP_TABLE, 0xa1, 0x10000);
    }
    for (unsigned i = 0; i < NCPU; i++) {
        tes_harness_write(f->h, REDIST + 0x20000ull * i + 0x70, PROP_TABLE | 15, 8);
        tes_harness_write(f->h, REDIST + 0x20000ull * i + 0x0, 1, 4);
        f->host->cpu_sysreg_write(cpus[i], TES_ARM_SYSREG(3, 0, 4, 6, 0), 0xf0);
        f->host->cpu_sysreg_write(cpus[i], TES_ARM_SYSREG(3, 0, 12, 12, 7), 1);
    }
    tes_harness_write(f->h, DIST, 3, 4);
    tes_harness_write(f->h, ITS + 0x100, 1ull << 63 | DEV_TABLE | 3, 8);
    tes_harness_write(f->h, ITS + 0x108, 1ull << 63 | COLL_TABLE, 8);
    tes_harness_write(f->h, ITS + 0x80, 1ull << 63 | CMDQ, 8);
    tes_harness_write(f->h, ITS + 0x0, 1, 4);
}

/* One command at CREADR's slot with fuzzed fields, then CWRITER past it. */
static void its_cmd(fz *f)
{
    static const uint8_t ops[] = {0x01, 0x03, 0x04, 0x05, 0x08, 0x09, 0x0a, 0x0b,
                                  0x0c, 0x0d, 0x0e, 0x0f};
    uint64_t rd = tes_harness_read(f->h, ITS + 0x90, 8) & 0xfffe0;
    uint64_t c[4];

    c[0] = ops[fz_u8(f) % sizeof(ops)] | (uint64_t)(fz_u16(f) & 0x3f) << 32;
    c[1] = (fz_u8(f) & 0x1f) | (uint64_t)(8192 + (fz_u16(f) & 0x3fff)) << 32;
    /* MAPD's ITT address and the RDbase of MAPC/SYNC/MOVALL share DW2. */
    c[2] = 1ull << 63 | ((c[0] & 0xff) == 0x08 ? ITT : (uint64_t)(fz_u8(f) % 3) << 16) |
           (fz_u8(f) & 3);
    c[3] = (uint64_t)(fz_u8(f) % 3) << 16;
    if (fz_u8(f) & 1) {
        c[1] = fz_u64(f);
        c[2] = fz_u64(f);
    }
    if (CMDQ + rd + 32 <= f->ram_size) {
        memcpy(f->ram + CMDQ + rd, c, sizeof(c));
    }
    tes_harness_write(f->h, ITS + 0x88, rd + 32, 8);
}

static void msi(fz *f)
{
    tes_harness_write(f->h, ITS + 0x10040, fz_u8(f) & 0x3f, 4);
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
    tes_harness_reset(f->h);
    expect(f, "GICD_PIDR2", DIST + 0xffe8, 0x3b);
    expect(f, "GICR_PIDR2", REDIST + 0x20000 + 0xffe8, 0x3b);
    expect(f, "GITS_PIDR2", ITS + 0xffe8, 0x3b);
    expect(f, "GICD_CTLR", DIST, 0x50);
    expect(f, "GICR_TYPER of CPU 1", REDIST + 0x20000 + 8, 0x111);
    expect(f, "GITS_CTLR", ITS, 0x80000000u);
    expect(f, "GITS_CREADR", ITS + 0x90, 0);
}

static void op(fz *f, unsigned i)
{
    switch (i) {
    case 0: line(f); break;
    case 1: dist_write(f); break;
    case 2: redist_write(f); break;
    case 3: icc_write(f); break;
    case 4: ack_eoi(f); break;
    case 5: its_write(f); break;
    case 6: its_setup(f); break;
    case 7: its_cmd(f); break;
    case 8: msi(f); break;
    case 9: spec_check(f); break;
    }
}

static const fz_target gicv3_target = {
    .plugins = {"arm-platform", "cpu-arm", NULL},
    .ram_size = 1 << 20,
    .setup = setup,
    .n_ops = 10,
    .op = op,
};

FZ_TARGET(gicv3_target)
