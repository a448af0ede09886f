/*
 * Migration round trips of the IOMMUs (migtest.h): intel-iommu translating
 * edu's DMA (a transfer in flight at the cut, then a translation fault
 * recorded with its fault event pending, then the invalidation queue);
 * arm-smmuv3 with its command queue consumed and an event queued.
 */
#include <tessera/acpi.h>
#include <tessera/smmuv3.h>

#include "migtest.h"
#include "virtio/tests/virtio-drv.h"

#define EDU 0x10000000ull
#define IOVA_A 0x40000000ull
#define IOVA_UNMAPPED 0x40002000ull
#define PAGE_A 0x200000ull

static void put64(mt *m, uint64_t a, uint64_t v)
{
    mt_put64(m, a, v);
}

/* edu: a 64-byte DMA between its buffer and bus address bus. */
static void edu_dma(mt *m, uint64_t bus, bool to_ram)
{
    mt_wr(m, EDU + 0x80, to_ram ? 0x40000 : bus, 8);
    mt_wr(m, EDU + 0x88, to_ram ? bus : 0x40000, 8);
    mt_wr(m, EDU + 0x90, 64, 8);
    mt_wr(m, EDU + 0x98, 1 | (to_ram ? 2 : 0) | 4, 8);
}

/* ---- intel-iommu ---- */

#define VTD 0xfed90000ull
#define ROOT 0x100000ull
#define CTX 0x101000ull
#define L3 0x103000ull
#define L2 0x104000ull
#define L1 0x105000ull
#define IQ 0x110000ull
#define STATUS 0x120000ull
#define EDU_DEVFN 0x18

/* intel-iommu asks for the board's ACPI interface (its DMAR table): a
 * sink, as test-intel-iommu's. Interfaces outlive a harness. */
static int acpi_sink(const char *sig, uint8_t rev, const void *body, size_t len)
{
    return 0;
}

static tes_bus *root_bus;

static tes_bus *pci_root(uint16_t seg)
{
    return seg == 0 ? root_bus : NULL;
}

static const tes_acpi_iface acpi = {
    .size = sizeof(tes_acpi_iface), .add_table = acpi_sink, .pci_root = pci_root,
};

static void register_acpi(mt *m, tes_device *edu)
{
    const tes_host *host = tes_harness_host(m->h);
    static bool registered;

    root_bus = host->dev_bus(edu);
    if (!registered) {
        host->iface_register(TES_ACPI_IFACE, TES_ACPI_IFACE_VERSION, &acpi);
        registered = true;
    }
}

static void vtd_build(mt *m)
{
    tes_device *edu = mt_dev(m, "edu", "addr=03.0");

    mt_bar(m, edu, 0, EDU);
    register_acpi(m, edu);
    mt_dev(m, m->c->data, NULL);
}

static void vtd_regs(mt *m)
{
    mt_rd(m, VTD + 0x1c, 4);  /* GSTS */
    mt_rd(m, VTD + 0x34, 4);  /* FSTS */
    mt_rd(m, VTD + 0x38, 4);  /* FECTL */
    mt_rd(m, VTD + 0x22c, 4); /* FRCD 0, upper: F, reason */
    mt_rd(m, VTD + 0x228, 4); /* FRCD 0: source id */
}

/* Tables (3-level: IOVA_A -> PAGE_A), root pointer, translation on, the
 * fault event to the MSI window; edu's read of IOVA_A in flight. */
static void vtd_enable(mt *m)
{
    put64(m, ROOT, CTX | 1);
    put64(m, CTX + 16 * EDU_DEVFN, L3 | 1);
    put64(m, CTX + 16 * EDU_DEVFN + 8, 5 << 8 | 1);
    put64(m, L3 + 8, L2 | 3);
    put64(m, L2, L1 | 3);
    put64(m, L1, PAGE_A | 3);
    for (unsigned i = 0; i < 64; i++) {
        m->ram[PAGE_A + i] = (uint8_t)(0x80 + i);
    }
    mt_wr(m, VTD + 0x20, ROOT, 8);
    mt_wr(m, VTD + 0x18, 1u << 30, 4);
    mt_wr(m, VTD + 0x18, 1u << 31, 4);
    mt_wr(m, VTD + 0x3c, 0x4d, 4);
    mt_wr(m, VTD + 0x40, 0xfee00010, 4);
    mt_wr(m, VTD + 0x38, 0, 4);
    edu_dma(m, IOVA_A, false);
    vtd_regs(m);
}

/* Done; back out to IOVA_A + 0x100; then a write to an unmapped IOVA. */
static void vtd_fault(mt *m)
{
    mt_clock(m, 1000);
    mt_rd(m, EDU + 0x24, 4);
    mt_wr(m, EDU + 0x64, ~0u, 4);
    edu_dma(m, IOVA_A + 0x100, true);
    mt_clock(m, 1000);
    mt_ram(m, PAGE_A + 0x100, 64);
    edu_dma(m, IOVA_UNMAPPED, true);
    mt_clock(m, 1000);
    vtd_regs(m);
}

/* The fault record cleared; an invalidation wait through the queue. */
static void vtd_qi(mt *m)
{
    mt_wr(m, VTD + 0x22c, 1u << 31, 4);
    mt_wr(m, VTD + 0x34, 0x7f, 4);
    vtd_regs(m);
    mt_wr(m, VTD + 0x90, IQ, 8);
    mt_wr(m, VTD + 0x18, 1u << 31 | 1u << 26, 4);
    put64(m, IQ, 0x5 | 1u << 5 | 0xabcdull << 32);
    put64(m, IQ + 8, STATUS);
    mt_wr(m, VTD + 0x88, 16, 8);
}

static void vtd_end(mt *m)
{
    mt_rd(m, VTD + 0x80, 8); /* IQH */
    mt_ram(m, STATUS, 4);
    vtd_regs(m);
    mt_rd(m, VTD + 0x20, 8);
}

/* Both spellings (QEMU's older -device intel_iommu is a type of its own). */
#define VTDCASE(t)                                                                         \
    {.name = t, .plugins = {"iommu", "edu"}, .ram_size = 4 << 20, .build = vtd_build,      \
     .steps = {vtd_enable, vtd_fault, vtd_qi, vtd_end}, .data = t}

static const mt_case vtd[] = {VTDCASE("intel-iommu"), VTDCASE("intel_iommu")};

/* ---- arm-smmuv3 ---- */

#define SMMU 0x09050000ull
#define STRTAB 0x100000ull
#define CMDQ 0x110000ull
#define EVTQ 0x112000ull
#define SID 0x18

static void smmu_build(mt *m)
{
    const tes_host *host = tes_harness_host(m->h);
    tes_device *edu = mt_dev(m, "edu", "addr=03.0");
    tes_device *smmu = mt_dev(m, "arm-smmuv3", NULL);
    const tes_smmuv3_iface *si = host->iface_lookup(TES_SMMUV3_IFACE, TES_SMMUV3_IFACE_VERSION);

    mt_bar(m, edu, 0, EDU);
    mt_map(m, smmu, 0, SMMU);
    g_assert(si && si->attach(smmu, host->dev_bus(edu)) == 0);
}

static void smmu_regs(mt *m)
{
    mt_rd(m, SMMU + 0x24, 4);    /* CR0ACK */
    mt_rd(m, SMMU + 0x9c, 4);    /* CMDQ_CONS */
    mt_rd(m, SMMU + 0x100a8, 4); /* EVTQ_PROD */
    mt_rd(m, SMMU + 0x60, 4);    /* GERROR */
}

static void cmd(mt *m, unsigned i, uint64_t w0, uint64_t w1)
{
    put64(m, CMDQ + 16 * i, w0);
    put64(m, CMDQ + 16 * i + 8, w1);
}

/* Stream table (every STE invalid), queues, interrupts, enabled; edu's
 * DMA in flight. */
static void smmu_enable(mt *m)
{
    mt_wr(m, SMMU + 0x80, STRTAB, 8);
    mt_wr(m, SMMU + 0x88, 8, 4);
    mt_wr(m, SMMU + 0x90, CMDQ | 3, 8);
    mt_wr(m, SMMU + 0xa0, EVTQ | 2, 8);
    mt_wr(m, SMMU + 0x50, 5, 4);
    mt_wr(m, SMMU + 0x20, 1 | 4 | 8, 4);
    for (unsigned i = 0; i < 64; i++) {
        m->ram[0x300000 + i] = (uint8_t)(0x33 + i);
    }
    edu_dma(m, 0x300000, false);
    smmu_regs(m);
}

/* Its fault in the event queue, not consumed. */
static void smmu_fault(mt *m)
{
    mt_clock(m, 1000);
    smmu_regs(m);
}

/* The event read and consumed; the STE made bypass, CFGI_STE and a
 * CMD_SYNC queued; the DMA again. */
static void smmu_fix(mt *m)
{
    mt_ram(m, EVTQ, 32);
    mt_wr(m, SMMU + 0x100ac, mt_rd(m, SMMU + 0x100a8, 4), 4);
    put64(m, STRTAB + 64 * SID, 4 << 1 | 1);
    cmd(m, 0, 0x03 | (uint64_t)SID << 32, 1);
    cmd(m, 1, 0x46, 0);
    mt_wr(m, SMMU + 0x98, 2, 4);
    mt_wr(m, EDU + 0x64, ~0u, 4);
    edu_dma(m, 0x300000, false);
}

static void smmu_end(mt *m)
{
    mt_clock(m, 1000);
    smmu_regs(m);
    mt_rd(m, EDU + 0x24, 4);
    edu_dma(m, 0x301000, true);
    mt_clock(m, 1000);
    mt_ram(m, 0x301000, 64);
}

static const mt_case smmu = {
    .name = "arm-smmuv3",
    .plugins = {"iommu", "edu"},
    .ram_size = 4 << 20,
    .build = smmu_build,
    .steps = {smmu_enable, smmu_fault, smmu_fix, smmu_end},
};

/* ---- virtio-iommu-pci ---- */

#define VIOMMU_REQ 0x300000ull
#define VIOMMU_EVT 0x302000ull

static vd vdrv;

static void viommu_prepare(mt *m)
{
    memset(&vdrv, 0, sizeof(vdrv));
}

static void viommu_build(mt *m)
{
    tes_device *edu = mt_dev(m, "edu", "addr=03.0");

    mt_bar(m, edu, 0, EDU);
    register_acpi(m, edu);
    vdrv.h = m->h;
    vdrv.ram = m->ram;
    vdrv.pci = true;
    vdrv.base = VD_BAR4;
    vdrv.dev = mt_dev(m, "virtio-iommu-pci", "addr=02.0");
    mt_bar(m, vdrv.dev, 4, VD_BAR4);
}

/* One request in slot (descriptors 2*slot, 2*slot+1), not kicked. */
static void vreq(mt *m, unsigned slot, const uint8_t *out, uint32_t len)
{
    uint64_t o = VIOMMU_REQ + 0x100 * slot;

    memcpy(m->ram + o, out, len);
    memset(m->ram + o + 0x80, 0xee, 4);
    vd_desc(&vdrv, vdrv.q[0].desc, 2 * slot, o, len, VD_F_NEXT, 2 * slot + 1);
    vd_desc(&vdrv, vdrv.q[0].desc, 2 * slot + 1, o + 0x80, 4, VD_F_WRITE, 0);
    vd_publish(&vdrv, 0, 2 * slot);
}

static void vreap(mt *m)
{
    uint32_t head, len;

    mt_rd(m, VD_BAR4 + VD_ISR, 1);
    for (unsigned q = 0; q < 2; q++) {
        while (vd_reap(&vdrv, q, &head, &len)) {
            mt_set_add(m, "q%u head %u len %u", q, head, len);
        }
    }
    mt_set_flush(m);
}

/* Driver up, event buffers posted; ATTACH edu to domain 1 and MAP
 * 0x40000000 -> 0x200000 done, not reaped; edu's DMA through it. */
static void viommu_map(mt *m)
{
    uint8_t at[20] = {1}, mp[36] = {3};
    uint32_t v;
    uint64_t q;

    g_assert(vd_init(&vdrv, 0x17full | 1ull << 32, 2, 16, false));
    for (unsigned i = 0; i < 4; i++) {
        vd_desc(&vdrv, vdrv.q[1].desc, i, VIOMMU_EVT + 0x40 * i, 32, VD_F_WRITE, 0);
        vd_publish(&vdrv, 1, i);
    }
    vd_kick(&vdrv, 1);
    v = 1, memcpy(at + 4, &v, 4);
    v = 0x18, memcpy(at + 8, &v, 4);
    vreq(m, 0, at, sizeof(at));
    v = 1, memcpy(mp + 4, &v, 4);
    q = 0x40000000, memcpy(mp + 8, &q, 8);
    q = 0x40000fff, memcpy(mp + 16, &q, 8);
    q = 0x200000, memcpy(mp + 24, &q, 8);
    v = 3, memcpy(mp + 32, &v, 4);
    vreq(m, 1, mp, sizeof(mp));
    vd_kick(&vdrv, 0);
    for (unsigned i = 0; i < 64; i++) {
        m->ram[0x200000 + i] = (uint8_t)(0x71 + i);
    }
    edu_dma(m, 0x40000000, false);
}

/* Reaped; the DMA done; back out, and one to an unmapped IOVA: a fault
 * event, not reaped. */
static void viommu_fault(mt *m)
{
    vreap(m);
    mt_ram(m, VIOMMU_REQ + 0x80, 4);
    mt_ram(m, VIOMMU_REQ + 0x180, 4);
    mt_clock(m, 1000);
    mt_wr(m, EDU + 0x64, ~0u, 4);
    edu_dma(m, 0x40000100, true);
    mt_clock(m, 1000);
    mt_wr(m, EDU + 0x64, ~0u, 4);
    edu_dma(m, 0x50000000, true);
    mt_clock(m, 1000);
}

static void viommu_end(mt *m)
{
    vreap(m);
    mt_ram(m, VIOMMU_EVT, 32);
    mt_ram(m, 0x200100, 64);
    mt_rd(m, VD_BAR4 + VD_COMMON + 0x14, 1);
}

static const mt_case viommu = {
    .name = "virtio-iommu-pci",
    .plugins = {"virtio", "iommu", "edu"},
    .ram_size = 4 << 20,
    .prepare = viommu_prepare,
    .build = viommu_build,
    .steps = {viommu_map, viommu_fault, viommu_end},
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    mt_add(&vtd[0]);
    mt_add(&vtd[1]);
    mt_add(&smmu);
    mt_add(&viommu);
    return g_test_run();
}
