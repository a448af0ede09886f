/*
 * Fuzz target: virtio-iommu-pci (plugins/virtio) carrying
 * virtio-iommu-device (plugins/iommu), with an edu function on pci.0 as
 * the bus master whose DMA it translates, through the harness; the generic
 * actions are fuzz-dev.h's. The target plays the board: the first input
 * byte picks virt's "fdt" interface or q35's "acpi" one (tessera/fdt.h,
 * tessera/acpi.h), boot-bypass, and the virtio ring features. Each input
 * starts from a driver that set up the request and event queues. Target
 * actions:
 *
 *   0    a descriptor chain of 1..8 descriptors on either queue
 *   1    a well-formed request (ATTACH, DETACH, MAP, UNMAP, PROBE, or any
 *        type): small domain ids and edu's endpoint mostly, page-aligned
 *        IOVAs in a small window mostly, any of them fuzzed; the
 *        device-writable part of the usual size or fuzzed
 *   2    event buffers of fuzzed sizes anywhere on the event queue
 *   3    a config write (bypass, or anywhere, any size)
 *   4    a DMA read or write of edu at an IOVA (small window or anywhere)
 *   5    an MSI from edu (x86 window or the arm SW_MSI IOVA window)
 *   6    reap used entries; the avail index or flags written raw
 *   7    the spec check: reset and set up again; with no event buffer,
 *        an unattached DMA write with bypass off and a write to an
 *        unmapped IOVA of an attached domain change no byte of RAM; a
 *        mapped one lands on its page; UNMAP makes it fault again
 */
#include <stdlib.h>
#include <string.h>
#include <tessera/acpi.h>
#include <tessera/fdt.h>

#include "fuzz-virtio.h"

#define RAM_SIZE (4ull << 20)
#define QSIZE 16
#define NQ 2
#define BAR0 0x10000000ull
#define EDU_RID 0x18
#define REQ_BASE 0x200000ull
#define CHECK_BASE 0x300000ull
#define IOVA_BASE 0x40000000ull
#define F_WANT 0x77ull
#define F_VERSION_1 (1ull << 32)
#define F_INDIRECT (1ull << 28)
#define F_EVENT_IDX (1ull << 29)

static vd drv;
static uint64_t features;
static tes_bus *root_bus;
static bool acpi_mode;

static tes_bus *fdt_root(void)
{
    return acpi_mode ? NULL : root_bus;
}

static uint32_t fdt_phandle(void)
{
    return 0x100;
}

static int fdt_node(tes_bus *bus, const char *name, const tes_fdt_prop *p, unsigned n)
{
    return 0;
}

static int fdt_prop(tes_bus *bus, const tes_fdt_prop *p)
{
    return 0;
}

static const tes_fdt_iface fdt = {
    .size = sizeof(tes_fdt_iface),
    .pci_root = fdt_root,
    .alloc_phandle = fdt_phandle,
    .add_node = fdt_node,
    .add_prop = fdt_prop,
};

static int add_table(const char *sig, uint8_t rev, const void *body, size_t len)
{
    return 0;
}

static tes_bus *acpi_root(uint16_t seg)
{
    return acpi_mode && !seg ? root_bus : NULL;
}

static const tes_acpi_iface acpi = {
    .size = sizeof(tes_acpi_iface),
    .add_table = add_table,
    .pci_root = acpi_root,
};

static bool driver_up(fz *f)
{
    drv.base = fv_pci_map(f, drv.dev);
    return vd_init(&drv, features, NQ, QSIZE, true);
}

static void setup(fz *f)
{
    uint8_t sel = fz_u8(f);
    tes_device *edu = fv_create(f, "edu", "addr=03.0");

    tes_harness_bar_map(f->h, edu, 0, BAR0);
    root_bus = f->host->dev_bus(edu);
    acpi_mode = sel & 1;
    f->host->iface_register(TES_FDT_IFACE, TES_FDT_IFACE_VERSION, &fdt);
    f->host->iface_register(TES_ACPI_IFACE, TES_ACPI_IFACE_VERSION, &acpi);
    memset(&drv, 0, sizeof(drv));
    drv.h = f->h;
    drv.ram = f->ram;
    drv.pci = true;
    drv.dev = fv_create(f, "virtio-iommu-pci",
                        sel & 2 ? "addr=02.0,boot-bypass=off" : "addr=02.0,aw-bits=48");
    features = F_WANT | F_VERSION_1 | (sel & 4 ? F_INDIRECT : 0) | (sel & 8 ? F_EVENT_IDX : 0);
    fz_device_add(f, drv.dev, NULL); /* dev[0] */
    fz_device_add(f, edu, NULL);     /* dev[1] */
    fz_window_add(f, VD_BAR4, 0x4000, false);
    fz_window_add(f, BAR0, 0x100000, false);
    if (!driver_up(f)) {
        fz_fail(f, "virtio-iommu: a fresh device refuses features 0x%llx",
                (unsigned long long)features);
    }
}

/* ---- actions ---- */

static uint32_t domain_id(fz *f, uint8_t sel)
{
    return sel & 0x10 ? fz_u32(f) : fz_u8(f) % 4;
}

static uint64_t iova(fz *f, uint8_t sel)
{
    return sel & 0x20 ? fz_u64(f) : IOVA_BASE + ((uint64_t)(fz_u8(f) % 16) << 12);
}

static uint32_t put_request(fz *f, uint8_t *r)
{
    uint8_t sel = fz_u8(f), type = sel & 0x80 ? fz_u8(f) : 1 + fz_u8(f) % 5;
    uint32_t ep = sel & 0x40 ? fz_u32(f) : EDU_RID, flags = fz_u8(f) & (sel & 8 ? 0xff : 7);
    uint64_t start = iova(f, sel), end = start + ((uint64_t)(fz_u8(f) % 4 + 1) << 12) - 1;
    uint64_t phys = (fz_addr(f) & ~0xfffull) | (sel & 4 ? fz_u8(f) : 0);
    uint32_t dom = domain_id(f, sel);

    memset(r, 0, 72);
    r[0] = type;
    if (type == 1 || type == 2) {
        memcpy(r + 4, &dom, 4);
        memcpy(r + 8, &ep, 4);
        memcpy(r + 12, &flags, 4);
        return 20;
    }
    if (type == 3 || type == 4) {
        end = sel & 2 ? fz_u64(f) : end;
        memcpy(r + 4, &dom, 4);
        memcpy(r + 8, &start, 8);
        memcpy(r + 16, &end, 8);
        memcpy(r + 24, &phys, 8);
        memcpy(r + 32, &flags, 4);
        return type == 3 ? 36 : 28;
    }
    memcpy(r + 4, &ep, 4);
    return 72;
}

static void request(fz *f)
{
    unsigned slot = fz_u8(f) % (QSIZE / 2), j = 2 * slot;
    uint64_t req = REQ_BASE + 0x400 * slot;
    uint32_t out = put_request(f, drv.ram + req);
    uint8_t sel = fz_u8(f);
    uint32_t in = drv.ram[req] == 5 ? 512 + 4 : 4;

    vd_desc(&drv, drv.q[0].desc, j, req, sel & 1 ? fz_len(f) : out, VD_F_NEXT, j + 1);
    vd_desc(&drv, drv.q[0].desc, j + 1, req + 0x100, sel & 2 ? fz_len(f) % 0x300 : in,
            VD_F_WRITE, 0);
    vd_publish(&drv, 0, j);
    vd_kick(&drv, 0);
}

static void events(fz *f)
{
    unsigned n = 1 + fz_u8(f) % 4;

    for (unsigned i = 0; i < n; i++) {
        unsigned j = fz_u8(f) % QSIZE;
        uint8_t sel = fz_u8(f);

        vd_desc(&drv, drv.q[1].desc, j, sel & 1 ? fz_addr(f) : REQ_BASE + 0x3000 + 32 * j,
                sel & 2 ? fz_len(f) : 24, sel & 4 ? 0 : VD_F_WRITE, 0);
        vd_publish(&drv, 1, j);
    }
    vd_kick(&drv, 1);
}

static void config(fz *f)
{
    uint8_t sel = fz_u8(f);
    uint64_t off = sel & 0x80 ? fz_u8(f) % 48 : 36;

    vd_wr(&drv, VD_DEVCFG + off, fz_u8(f) & 1, sel & 0x40 ? fz_size(f) : 1);
}

static void dma(fz *f)
{
    uint8_t sel = fz_u8(f), buf[256];
    uint64_t addr = iova(f, sel) + fz_u16(f) % 0x1000;
    unsigned len = 1 + fz_u8(f);

    memset(buf, 0xa5, sizeof(buf));
    if (sel & 1) {
        f->host->dma_write(f->dev[1], addr, buf, len);
    } else {
        f->host->dma_read(f->dev[1], addr, buf, len);
    }
}

static void msi(fz *f)
{
    uint8_t sel = fz_u8(f);
    uint64_t addr = sel & 1 ? 0xfee00000u | (fz_u16(f) & 0xffc)
                            : 0x8000000u | (fz_u16(f) & 0xffc);

    f->host->msi_send(f->dev[1], addr, fz_u32(f));
}

static void rings(fz *f)
{
    uint8_t sel = fz_u8(f);
    vd_queue *q = &drv.q[sel % NQ];
    uint32_t head, len;

    for (unsigned i = 0; i < NQ; i++) {
        for (int k = 0; k < 64 && vd_reap(&drv, i, &head, &len); k++) {
        }
    }
    if (sel & 2) {
        if (sel & 4) {
            q->avail_idx = fz_u16(f);
            vd_put16(&drv, q->avail + 2, q->avail_idx);
        } else {
            vd_put16(&drv, q->avail, fz_u16(f));
        }
        vd_kick(&drv, sel >> 3);
    }
}

/* ---- the spec check ---- */

static uint8_t request_sync(fz *f, const uint8_t *r, uint32_t len)
{
    uint16_t want = vd_used_idx(&drv, 0) + 1;

    memcpy(drv.ram + CHECK_BASE, r, len);
    drv.ram[CHECK_BASE + 0x100] = 0xee;
    vd_desc(&drv, drv.q[0].desc, 0, CHECK_BASE, len, VD_F_NEXT, 1);
    vd_desc(&drv, drv.q[0].desc, 1, CHECK_BASE + 0x100, 4, VD_F_WRITE, 0);
    vd_publish(&drv, 0, 0);
    vd_kick(&drv, 0);
    if (vd_used_idx(&drv, 0) != want) {
        fz_fail(f, "virtio-iommu: request type %u got no answer", r[0]);
    }
    return drv.ram[CHECK_BASE + 0x100];
}

static void must(fz *f, uint8_t status, uint8_t want, const char *what)
{
    if (status != want) {
        fz_fail(f, "virtio-iommu: %s: status %u, want %u", what, status, want);
    }
}

static void refused_write_changes_nothing(fz *f, uint64_t addr, const char *what)
{
    static uint8_t before[RAM_SIZE];
    uint8_t buf[64];

    memset(buf, 0x5a, sizeof(buf));
    memcpy(before, f->ram, RAM_SIZE);
    if (f->host->dma_write(f->dev[1], addr, buf, sizeof(buf)) != -14) {
        fz_fail(f, "virtio-iommu: %s: a DMA write at 0x%llx was not refused", what,
                (unsigned long long)addr);
    }
    if (memcmp(before, f->ram, RAM_SIZE)) {
        fz_fail(f, "virtio-iommu: %s: a refused DMA write changed RAM", what);
    }
}

static void spec_check(fz *f)
{
    uint8_t r[36] = {1, 0, 0, 0, 9, 0, 0, 0, EDU_RID}, buf[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint64_t page = CHECK_BASE + 0x1000, start = IOVA_BASE, end = IOVA_BASE + 0xfff;

    drv.dev = f->dev[0];
    if (!driver_up(f)) {
        fz_fail(f, "virtio-iommu: the device refuses to set up again after a reset");
    }
    tes_harness_bar_map(f->h, f->dev[1], 0, BAR0); /* edu masters the bus again */
    vd_wr(&drv, VD_DEVCFG + 36, 0, 1);
    refused_write_changes_nothing(f, page, "unattached, bypass off");
    must(f, request_sync(f, r, 20), 0, "ATTACH");
    refused_write_changes_nothing(f, start, "attached, nothing mapped");
    memset(r, 0, sizeof(r));
    r[0] = 3, r[4] = 9, r[32] = 3;
    memcpy(r + 8, &start, 8);
    memcpy(r + 16, &end, 8);
    memcpy(r + 24, &page, 8);
    must(f, request_sync(f, r, 36), 0, "MAP");
    if (f->host->dma_write(f->dev[1], start + 8, buf, 8) != 0 ||
        memcmp(f->ram + page + 8, buf, 8)) {
        fz_fail(f, "virtio-iommu: a mapped DMA write did not land on its page");
    }
    r[0] = 4;
    must(f, request_sync(f, r, 28), 0, "UNMAP");
    refused_write_changes_nothing(f, start, "after UNMAP");
}

static void op(fz *f, unsigned i)
{
    drv.dev = f->dev[0];
    switch (i) {
    case 0: fv_chain(f, &drv, fz_u8(f) % NQ); break;
    case 1: request(f); break;
    case 2: events(f); break;
    case 3: config(f); break;
    case 4: dma(f); break;
    case 5: msi(f); break;
    case 6: rings(f); break;
    default: spec_check(f); break;
    }
}

static const fz_target viommu_target = {
    .plugins = {"virtio", "iommu", "edu", NULL},
    .ram_size = RAM_SIZE,
    .setup = setup,
    .n_ops = 8,
    .op = op,
};

FZ_TARGET(viommu_target)
