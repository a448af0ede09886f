/*
 * Fuzz target: intel-iommu (plugins/iommu) through the harness, with an
 * edu function on pci.0 as the bus master whose DMA it translates. The
 * target plays q35's side of tessera/acpi.h (the "acpi" interface: the
 * DMAR goes nowhere, pci.0 is segment 0).
 *
 * Beyond the generic actions (fuzz-dev.h), which scribble RAM (so the root,
 * context and page tables and the invalidation queue are whatever the
 * input left there): register writes with values a driver would use
 * (table pointers into RAM, GCMD commands, queue tails, invalidation
 * requests), table entries planted where the registers point, and DMA
 * reads and writes of edu at any IOVA, with the invariant that a DMA the
 * IOMMU refuses writes no byte of RAM, and MSIs through interrupt
 * remapping. tests/fuzz/mkseeds-intel-iommu.py writes the seeds (a
 * working translation, queued invalidation, remapped interrupts).
 */
#include <string.h>
#include <tessera/acpi.h>

#include "fuzz-iommu.h"

#define VTD 0xfed90000ull
#define BAR0 0x10000000ull
#define RAM_SIZE (1u << 20)

static tes_bus *root_bus;

static int add_table(const char *sig, uint8_t rev, const void *body, size_t len)
{
    return 0;
}

static tes_bus *pci_root(uint16_t seg)
{
    return seg ? NULL : root_bus;
}

static const tes_acpi_iface acpi = {
    .size = sizeof(tes_acpi_iface),
    .add_table = add_table,
    .pci_root = pci_root,
};

static const char *const props[] = {
    NULL, "aw-bits=39", "caching-mode=on", "device-iotlb=on,pt=off", "intremap=on",
};

static void setup(fz *f)
{
    tes_device *edu = tes_harness_device(f->h, "edu", "addr=03.0");
    tes_device *iommu;

    if (!edu) {
        fz_fail(f, "edu: %s", tes_harness_error(f->h));
    }
    tes_harness_bar_map(f->h, edu, 0, BAR0);
    root_bus = f->host->dev_bus(edu);
    f->host->iface_register(TES_ACPI_IFACE, TES_ACPI_IFACE_VERSION, &acpi);
    iommu = tes_harness_device(f->h, "intel-iommu", props[fz_u8(f) % 5]);
    if (!iommu) {
        fz_fail(f, "intel-iommu: %s", tes_harness_error(f->h));
    }
    fz_device_add(f, edu, NULL);   /* dev[0]: the bus master */
    fz_device_add(f, iommu, NULL); /* dev[1] */
    fz_window_add(f, VTD, 0x1000, false);
    fz_window_add(f, BAR0, 0x100000, false);
}

static const uint16_t regs[] = {
    0x18, 0x20, 0x28, 0x2c, 0x34, 0x38, 0x3c, 0x40, 0x88, 0x90, 0x9c, 0xa0, 0xa4, 0xa8,
    0xb8, 0x200, 0x208, 0x20c, 0x22c, 0x238, 0x248, 0x258,
};

static uint64_t reg_value(fz *f, uint16_t reg)
{
    switch (reg) {
    case 0x18: /* GCMD: bits 31:23 (TE, SRTP, ..., QIE, IRE, SIRTP, CFI) */
        return (uint64_t)(fz_u16(f) & 0x1ff) << 23;
    case 0x20:
    case 0x90:
        return (fz_addr(f) & ~0xfffull) | (fz_u8(f) & 0x7);
    case 0x28: /* CCMD: ICC, granularity */
        return 1ull << 63 | (uint64_t)(fz_u8(f) & 3) << 61 | fz_u32(f);
    case 0x88: /* IQT */
        return (uint64_t)(fz_u16(f) & 0x7ff) << 4;
    case 0x208: /* IOTLB: IVT, granularity, domain */
        return 1ull << 63 | (uint64_t)(fz_u8(f) & 3) << 60 | (uint64_t)fz_u16(f) << 32;
    case 0x40:
    case 0xa8:
        return 0xfee00000u | (fz_u16(f) & 0xffc);
    default:
        return fz_u64(f);
    }
}

static void reg_write(fz *f)
{
    uint16_t reg = regs[fz_u8(f) % (sizeof(regs) / sizeof(regs[0]))];
    unsigned size = (reg & 4) || reg == 0x18 || (reg >= 0x34 && reg <= 0x40) ? 4 : 8;

    tes_harness_write(f->h, VTD + reg, reg_value(f, reg), size);
}

/* A table entry (kind even): present, pointing at a page of RAM, maybe
 * writable or large; or (kind odd) a context entry's high half: AW, DID;
 * or an interrupt remapping entry's low half (kind & 0x80). */
static void plant_entry(fz *f)
{
    uint64_t at = (fz_u32(f) % RAM_SIZE) & ~7ull;
    uint8_t kind = fz_u8(f);
    uint64_t v;

    if (kind & 1) {
        v = ((kind >> 1) & 3) | (uint64_t)fz_u16(f) << 8;
    } else if (kind & 0x80) {
        v = 1 | (uint64_t)fz_u8(f) << 16 | (uint64_t)fz_u8(f) << 40 | (kind & 0x1c);
    } else {
        v = (fz_u32(f) % RAM_SIZE & ~0xfffull) | (kind & 0x86) | 1;
    }
    memcpy(f->ram + at, &v, 8);
}

/* An MSI from edu: remappable (address bit 4) or not, any handle. */
static void msi(fz *f)
{
    uint32_t lo = fz_u32(f) & 0xffffc;

    f->host->msi_send(f->dev[0], 0xfee00000u | lo, fz_u32(f));
}

/* May a refused DMA have changed byte at? Any, when the input pointed
 * the fault event's address (FEADDR/FEUADDR) into RAM. */
static bool vtd_owned(fz *f, uint64_t at)
{
    return tes_harness_read(f->h, VTD + 0x44, 4) == 0 &&
           tes_harness_read(f->h, VTD + 0x40, 4) < RAM_SIZE;
}

static void op(fz *f, unsigned i)
{
    switch (i) {
    case 0:
    case 1:
    case 2:
        reg_write(f);
        break;
    case 3:
        plant_entry(f);
        break;
    case 4:
    case 5:
        fi_dma(f, RAM_SIZE, vtd_owned);
        break;
    case 6: /* registers read back (FSTS, FRCD...) */
        tes_harness_read(f->h, VTD + (fz_u16(f) & 0xff8), 8);
        break;
    case 7:
        msi(f);
        break;
    }
}

static const fz_target iommu_target = {
    .plugins = {"iommu", "edu", NULL},
    .ram_size = RAM_SIZE,
    .setup = setup,
    .n_ops = 8,
    .op = op,
};

FZ_TARGET(iommu_target)
