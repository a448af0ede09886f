/*
 * Fuzz target: arm-smmuv3 (plugins/iommu) through the harness, with an
 * edu function on pci.0 as the bus master whose DMA it translates. The
 * target plays virt's side of <tessera/smmuv3.h> (maps the registers,
 * attaches pci.0; the interrupt outputs stay unconnected).
 *
 * Beyond the generic actions (fuzz-dev.h), which scribble RAM (so stream
 * tables, CDs, page tables and queues are whatever the input left there):
 * register writes with values a driver would use (table and queue bases
 * into RAM, sizes, CR0 enables, PROD/CONS, GERRORN acknowledgements),
 * raw 64-bit words, STEs, CDs and descriptors planted in RAM, commands
 * appended to the command queue where its registers say, and DMA reads
 * and writes of edu at any IOVA, with the invariant that a DMA the SMMU
 * refuses writes no byte of RAM outside the event queue and the MSI
 * addresses the registers name. tests/fuzz/mkseeds-smmuv3.py writes the
 * seeds (a working translation, commands, events).
 */
#include <string.h>
#include <tessera/smmuv3.h>

#include "fuzz-iommu.h"

#define SMMU 0x09050000ull
#define BAR0 0x10000000ull
#define RAM_SIZE (1u << 20)

static void map_smmu(fz *f, tes_device *smmu)
{
    const tes_smmuv3_iface *si =
        f->host->iface_lookup(TES_SMMUV3_IFACE, TES_SMMUV3_IFACE_VERSION);

    f->host->region_add(f->host->system_memory(), SMMU, f->host->dev_mmio(smmu, 0), 0);
    if (!si || si->attach(smmu, f->host->dev_bus(f->dev[0])) != 0) {
        fz_fail(f, "arm-smmuv3: cannot attach pci.0");
    }
}

static void setup(fz *f)
{
    tes_device *edu = tes_harness_device(f->h, "edu", "addr=03.0");
    tes_device *smmu;

    if (!edu) {
        fz_fail(f, "edu: %s", tes_harness_error(f->h));
    }
    tes_harness_bar_map(f->h, edu, 0, BAR0);
    smmu = tes_harness_device(f->h, "arm-smmuv3", NULL);
    if (!smmu) {
        fz_fail(f, "arm-smmuv3: %s", tes_harness_error(f->h));
    }
    fz_device_add(f, edu, NULL);       /* dev[0]: the bus master */
    fz_device_add(f, smmu, map_smmu);  /* dev[1] */
    map_smmu(f, smmu);
    fz_window_add(f, SMMU, TES_SMMUV3_MMIO_SIZE, false);
    fz_window_add(f, BAR0, 0x100000, false);
}

static const uint32_t regs[] = {
    0x20, 0x44, 0x50, 0x64, 0x68, 0x80, 0x88, 0x90, 0x98, 0x9c, 0xa0, 0x100a8, 0x100ac, 0xb0,
};

static uint64_t reg_value(fz *f, uint32_t reg)
{
    switch (reg) {
    case 0x20: /* CR0 */
        return fz_u8(f) & 0x1f;
    case 0x44: /* GBPA: UPDATE, ABORT */
        return 1u << 31 | (uint32_t)(fz_u8(f) & 1) << 20;
    case 0x80:
    case 0x68:
    case 0xb0:
        return fz_addr(f) & ~0x3full;
    case 0x88: /* STRTAB_BASE_CFG: FMT, SPLIT, LOG2SIZE */
        return (uint32_t)(fz_u8(f) & 3) << 16 | (uint32_t)(fz_u8(f) & 0x1f) << 6 |
               (fz_u8(f) & 0x3f);
    case 0x90:
    case 0xa0: /* queue base and LOG2SIZE */
        return (fz_addr(f) & ~0x1full) | (fz_u8(f) & 0x1f);
    case 0x98:
    case 0x9c:
    case 0x100a8:
    case 0x100ac:
        return fz_u32(f) & 0x800fffffu;
    default:
        return fz_u64(f);
    }
}

static void reg_write(fz *f)
{
    uint32_t reg = regs[fz_u8(f) % (sizeof(regs) / sizeof(regs[0]))];
    unsigned size = (reg & 4) || reg == 0x20 || reg == 0x88 ? 4 : 8;

    tes_harness_write(f->h, SMMU + reg, reg_value(f, reg), size);
}

static void put64(fz *f, uint64_t at, uint64_t v)
{
    at = (at % RAM_SIZE) & ~7ull;
    memcpy(f->ram + at, &v, 8);
}

/* An STE (kind & 3: config abort, bypass, stage 1, stage 2) or a 2-level
 * stream table's L1 descriptor (kind & 4). */
static void plant_ste(fz *f)
{
    uint64_t at = fz_u32(f) & ~0x3full;
    uint8_t kind = fz_u8(f);
    static const uint8_t cfg[] = {0, 4, 5, 6};

    if (kind & 4) {
        put64(f, at, (fz_u32(f) % RAM_SIZE & ~0x3full) | (kind >> 3));
        return;
    }
    put64(f, at, (fz_u32(f) % RAM_SIZE & ~0x3full) | cfg[kind & 3] << 1 | 1 |
                     (uint64_t)(kind >> 7) << 59);
}

/* A CD: valid (mostly), AArch64, R, TG0, T0SZ, ASID, TTB0 into RAM. */
static void plant_cd(fz *f)
{
    uint64_t at = fz_u32(f) & ~0x3full;
    uint8_t kind = fz_u8(f);

    put64(f, at, (uint64_t)fz_u16(f) << 48 | 1ull << 45 | 1ull << 41 | 5ull << 32 |
                     (uint64_t)!(kind & 0x80) << 31 | (uint64_t)(kind & 3) << 6 |
                     (16u + (kind >> 2) % 26));
    put64(f, at + 8, fz_u32(f) % RAM_SIZE & ~0xfffull);
}

/* A descriptor: valid, table or page or block, AF, maybe read-only. */
static void plant_desc(fz *f)
{
    uint64_t at = fz_u32(f);
    uint8_t kind = fz_u8(f);

    put64(f, at, (fz_u32(f) % RAM_SIZE & ~0xfffull) | (kind & 0x83) | 1u << 10);
}

static void plant_raw(fz *f)
{
    uint64_t at = fz_u32(f);

    put64(f, at, fz_u64(f));
}

/* A command where CMDQ_BASE and CMDQ_PROD say the next one goes, then
 * PROD + 1. */
static void command(fz *f)
{
    static const uint8_t ops[] = {0x01, 0x03, 0x04, 0x05, 0x06, 0x10, 0x11, 0x12,
                                  0x13, 0x20, 0x22, 0x30, 0x46, 0x46, 0x7f, 0x44};
    uint64_t base = tes_harness_read(f->h, SMMU + 0x90, 8);
    uint32_t prod = (uint32_t)tes_harness_read(f->h, SMMU + 0x98, 4);
    unsigned log2 = base & 0x1f;
    uint8_t op = ops[fz_u8(f) % sizeof(ops)];
    uint64_t d0 = op | (uint64_t)(fz_u8(f) & 3) << 12 | (uint64_t)fz_u32(f) << 32;
    uint64_t d1 = fz_u8(f) & 1 ? (uint64_t)fz_u32(f) : fz_addr(f);

    if (log2 > 10) {
        log2 = 10;
    }
    base = (base & 0x000fffffffffffe0ull) + 16ull * (prod & ((1u << log2) - 1));
    if (base + 16 <= RAM_SIZE) {
        memcpy(f->ram + base, &d0, 8);
        memcpy(f->ram + base + 8, &d1, 8);
    }
    tes_harness_write(f->h, SMMU + 0x98, (prod + 1) & ((2u << log2) - 1), 4);
}

/* May a refused DMA have changed byte at? The event queue and the MSI
 * addresses (EVENTQ_IRQ_CFG0, GERROR_IRQ_CFG0) are the SMMU's own. */
static bool smmu_owned(fz *f, uint64_t at)
{
    uint64_t eq = tes_harness_read(f->h, SMMU + 0xa0, 8);
    uint64_t eq_base = eq & 0x000fffffffffffe0ull;
    unsigned log2 = eq & 0x1f;
    uint64_t msi[2] = {tes_harness_read(f->h, SMMU + 0xb0, 8) & ~3ull,
                       tes_harness_read(f->h, SMMU + 0x68, 8) & ~3ull};

    if (log2 > 10) {
        log2 = 10;
    }
    if (at >= eq_base && at < eq_base + (32ull << log2)) {
        return true;
    }
    for (unsigned i = 0; i < 2; i++) {
        if (msi[i] && at >= msi[i] && at < msi[i] + 4) {
            return true;
        }
    }
    return false;
}

static void op(fz *f, unsigned i)
{
    switch (i) {
    case 0:
    case 1:
        reg_write(f);
        break;
    case 2:
        plant_ste(f);
        break;
    case 3:
        plant_cd(f);
        break;
    case 4:
        plant_desc(f);
        break;
    case 5:
        plant_raw(f);
        break;
    case 6:
        command(f);
        break;
    case 7:
    case 8:
        fi_dma(f, RAM_SIZE, smmu_owned);
        break;
    case 9: /* registers read back (GERROR, CONS, PROD...) */
        tes_harness_read(f->h, SMMU + (fz_u32(f) & 0x1fff8), 8);
        break;
    }
}

static const fz_target smmuv3_target = {
    .plugins = {"iommu", "edu", NULL},
    .ram_size = RAM_SIZE,
    .setup = setup,
    .n_ops = 10,
    .op = op,
};

FZ_TARGET(smmuv3_target)
