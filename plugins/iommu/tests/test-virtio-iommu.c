/*
 * virtio-iommu through the harness: no guest, no CPU, no board. The test
 * drives virtio-iommu-pci (virtio plugin) carrying virtio-iommu-device
 * (iommu plugin) with the tiny virtio driver of plugins/virtio/tests, and
 * plays the board's side of tessera/fdt.h (virt) or tessera/acpi.h (q35).
 * The edu device is the bus master: its DMA goes through the core's
 * host->dma_read/dma_write, so through the IOMMU hook, with edu's
 * requester id. Plugin files come from $VIRTIO_PLUGIN, $IOMMU_PLUGIN and
 * $EDU_PLUGIN (meson sets them).
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tessera/harness.h>

#include "iommu-test.h"

#include "virtio-drv.h"

#define RAM (16u << 20)
#define EDU_RID 0x18    /* 00:03.0 */
#define VIOMMU_RID 0x10 /* 00:02.0 */
#define Q_REQ 0
#define Q_EVENT 1
#define QSIZE 16
#define REQ_OUT 0x300000ull
#define REQ_IN 0x301000ull
#define EVENTS 0x302000ull
#define PAGE_A 0x200000ull
#define PAGE_B 0x201000ull
#define IOVA_A 0x40000000ull
#define IOVA_B 0x40001000ull
#define F_WANT 0x17full /* INPUT_RANGE..BYPASS_CONFIG, bypass (3) aside */
#define F_VERSION_1 (1ull << 32)

enum { T_ATTACH = 1, T_DETACH, T_MAP, T_UNMAP, T_PROBE };
enum { S_OK, S_IOERR, S_UNSUPP, S_DEVERR, S_INVAL, S_RANGE, S_NOENT, S_FAULT, S_NOMEM };

static const char *virtio_path, *iommu_path, *edu_path;
static bool acpi_mode;
static tes_bus *root_bus;

/* ---- the board's side ---- */

static char node_name[64];
static uint8_t node_reg[32], iommu_map[64];
static uint32_t iommu_map_len;
static uint8_t viot[128];
static size_t viot_len;

static tes_bus *fdt_pci_root(void)
{
    return acpi_mode ? NULL : root_bus;
}

static uint32_t fdt_phandle(void)
{
    return 0x100;
}

static int fdt_add_node(tes_bus *bus, const char *name, const tes_fdt_prop *p, unsigned n)
{
    g_assert_true(bus == root_bus);
    g_strlcpy(node_name, name, sizeof(node_name));
    for (unsigned i = 0; i < n; i++) {
        if (!strcmp(p[i].name, "reg")) {
            g_assert_cmpuint(p[i].len, <=, sizeof(node_reg));
            memcpy(node_reg, p[i].val, p[i].len);
        }
    }
    return 0;
}

static int fdt_add_prop(tes_bus *bus, const tes_fdt_prop *p)
{
    if (iommu_map_len) {
        return -17; /* -EEXIST */
    }
    g_assert_cmpstr(p->name, ==, "iommu-map");
    g_assert_cmpuint(p->len, <=, sizeof(iommu_map));
    memcpy(iommu_map, p->val, p->len);
    iommu_map_len = p->len;
    return 0;
}

static const tes_fdt_iface fake_fdt = {
    .size = sizeof(tes_fdt_iface),
    .pci_root = fdt_pci_root,
    .alloc_phandle = fdt_phandle,
    .add_node = fdt_add_node,
    .add_prop = fdt_add_prop,
};

static int acpi_add_table(const char *sig, uint8_t rev, const void *body, size_t len)
{
    if (!memcmp(sig, "DMAR", 4)) {
        return 0; /* intel-iommu's, for the one-IOMMU test */
    }
    if (memcmp(sig, "VIOT", 4) || len > sizeof(viot)) {
        return -22;
    }
    if (viot_len) {
        return -17;
    }
    memcpy(viot, body, len);
    viot_len = len;
    return 0;
}

static tes_bus *acpi_pci_root(uint16_t seg)
{
    return acpi_mode && seg == 0 ? root_bus : NULL;
}

static const tes_acpi_iface fake_acpi = {
    .size = sizeof(tes_acpi_iface),
    .add_table = acpi_add_table,
    .pci_root = acpi_pci_root,
};

/* ---- fixture ---- */

typedef struct fixture {
    tes_harness *h;
    const tes_host *H;
    tes_device *edu, *iommu;
    vd d;
} fixture;

static void up_board(fixture *f, bool acpi)
{
    f->h = tes_harness_new(RAM);
    f->H = tes_harness_host(f->h);
    f->edu = iommu_test_edu(f->h,
                            (const char *const[]){virtio_path, iommu_path, edu_path, NULL});
    root_bus = f->H->dev_bus(f->edu);
    acpi_mode = acpi;
    iommu_map_len = 0;
    viot_len = 0;
    /* Interfaces outlive a harness in this process (-EEXIST: the same
     * tables); acpi_mode says which one answers. */
    f->H->iface_register(TES_FDT_IFACE, TES_FDT_IFACE_VERSION, &fake_fdt);
    f->H->iface_register(TES_ACPI_IFACE, TES_ACPI_IFACE_VERSION, &fake_acpi);
}

static void up(fixture *f, bool acpi, const char *props)
{
    char all[128];

    up_board(f, acpi);
    snprintf(all, sizeof(all), "addr=02.0%s%s", props ? "," : "", props ? props : "");
    f->iommu = tes_harness_device(f->h, "virtio-iommu-pci", all);
    if (!f->iommu) {
        g_error("virtio-iommu-pci: %s", tes_harness_error(f->h));
    }
    f->d = (vd){.h = f->h, .dev = f->iommu, .ram = tes_harness_ram(f->h), .pci = true,
                .base = VD_BAR4};
    g_assert_cmphex(tes_harness_bar_map(f->h, f->iommu, 4, VD_BAR4), ==, VD_BAR4);
    g_assert_true(vd_init(&f->d, F_WANT | F_VERSION_1, 2, QSIZE, false));
}

static void down(fixture *f)
{
    tes_harness_free(f->h);
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4); /* the host is little-endian, as the guest */
}

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One request: out bytes, then a device-writable part of in_len bytes;
 * returns the status the device left at its end. */
static uint8_t request(fixture *f, const uint8_t *out, uint32_t out_len, uint32_t in_len)
{
    vd_queue *q = &f->d.q[Q_REQ];
    uint32_t head = 0, len = 0;

    memcpy(f->d.ram + REQ_OUT, out, out_len);
    memset(f->d.ram + REQ_IN, 0xee, in_len);
    vd_desc(&f->d, q->desc, 0, REQ_OUT, out_len, VD_F_NEXT, 1);
    vd_desc(&f->d, q->desc, 1, REQ_IN, in_len, VD_F_WRITE, 0);
    vd_publish(&f->d, Q_REQ, 0);
    vd_kick(&f->d, Q_REQ);
    g_assert_true(vd_reap(&f->d, Q_REQ, &head, &len));
    g_assert_cmpuint(head, ==, 0);
    return f->d.ram[REQ_IN + in_len - 4];
}

static uint8_t attach(fixture *f, uint32_t dom, uint32_t ep, uint32_t flags)
{
    uint8_t r[20] = {T_ATTACH};

    put32(r + 4, dom);
    put32(r + 8, ep);
    put32(r + 12, flags);
    return request(f, r, sizeof(r), 4);
}

static uint8_t detach(fixture *f, uint32_t dom, uint32_t ep)
{
    uint8_t r[20] = {T_DETACH};

    put32(r + 4, dom);
    put32(r + 8, ep);
    return request(f, r, sizeof(r), 4);
}

static uint8_t map(fixture *f, uint32_t dom, uint64_t start, uint64_t end, uint64_t phys,
                   uint32_t flags)
{
    uint8_t r[36] = {T_MAP};

    put32(r + 4, dom);
    put64(r + 8, start);
    put64(r + 16, end);
    put64(r + 24, phys);
    put32(r + 32, flags);
    return request(f, r, sizeof(r), 4);
}

static uint8_t unmap(fixture *f, uint32_t dom, uint64_t start, uint64_t end)
{
    uint8_t r[28] = {T_UNMAP}; /* head, domain, start, end, reserved: as Linux sends */

    put32(r + 4, dom);
    put64(r + 8, start);
    put64(r + 16, end);
    return request(f, r, sizeof(r), 4);
}

static uint8_t probe(fixture *f, uint32_t ep)
{
    uint8_t r[72] = {T_PROBE};

    put32(r + 4, ep);
    return request(f, r, sizeof(r), 512 + 4);
}

/* Offer one 24-byte event buffer on the event queue. */
static void post_event_buffer(fixture *f)
{
    vd_queue *q = &f->d.q[Q_EVENT];

    memset(f->d.ram + EVENTS, 0, 64);
    vd_desc(&f->d, q->desc, 0, EVENTS, 24, VD_F_WRITE, 0);
    vd_publish(&f->d, Q_EVENT, 0);
    vd_kick(&f->d, Q_EVENT);
}


/* ---- tests ---- */

static void test_identity_config_and_dt(void)
{
    fixture f;

    up(&f, false, NULL);
    g_assert_cmphex(tes_harness_cfg_read(f.h, f.iommu, 0, 4), ==, 0x10571af4);
    g_assert_cmphex(vd_device_features(&f.d) & 0xffff, ==, 0x77);
    g_assert_cmphex(vd_cfg_read(&f.d, 0, 4), ==, 0xfffff000u); /* page_size_mask */
    g_assert_cmphex(vd_cfg_read(&f.d, 4, 4), ==, 0xffffffffu);
    g_assert_cmphex(vd_cfg_read(&f.d, 16, 4), ==, 0xffffffffu); /* input_range.end */
    g_assert_cmphex(vd_cfg_read(&f.d, 28, 4), ==, 0xffffffffu); /* domain_range.end */
    g_assert_cmpuint(vd_cfg_read(&f.d, 32, 4), ==, 512);        /* probe_size */
    g_assert_cmpuint(vd_cfg_read(&f.d, 36, 1), ==, 1);          /* bypass */
    /* QEMU's virt: the function's node and iommu-map around its rid. */
    g_assert_cmpstr(node_name, ==, "virtio_iommu@2,0");
    g_assert_cmphex(be32(node_reg), ==, VIOMMU_RID << 8);
    g_assert_cmpuint(iommu_map_len, ==, 32);
    g_assert_cmphex(be32(iommu_map + 12), ==, VIOMMU_RID);
    g_assert_cmphex(be32(iommu_map + 16), ==, VIOMMU_RID + 1);
    g_assert_cmphex(be32(iommu_map + 28), ==, 0xffff - VIOMMU_RID);
    /* A second one finds iommu-map taken and is refused. */
    g_assert_null(tes_harness_device(f.h, "virtio-iommu-pci", NULL));
    g_assert_nonnull(strstr(tes_harness_error(f.h), "has an IOMMU already"));
    down(&f);
}

static void test_map_dma_reaches_mapped_page(void)
{
    uint8_t w[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    fixture f;

    up(&f, false, NULL);
    g_assert_cmpuint(attach(&f, 7, EDU_RID, 0), ==, S_OK);
    g_assert_cmpuint(map(&f, 7, IOVA_A, IOVA_A + 0xfff, PAGE_A, 3), ==, S_OK);
    g_assert_cmpuint(map(&f, 7, IOVA_B, IOVA_B + 0xfff, PAGE_B, 1), ==, S_OK);
    /* Across the two mappings too: two pieces, two pages. */
    iommu_test_check_translation(f.H, f.edu, f.d.ram, IOVA_A, PAGE_A, PAGE_B);
    /* Read-only mapping: the write faults and PAGE_B keeps its bytes. */
    g_assert_cmpint(f.H->dma_write(f.edu, IOVA_B + 0x100, w, 8), ==, -14);
    g_assert_cmpuint(f.d.ram[PAGE_B + 0x100], ==, (uint8_t)(0x80 + 0x100));
    down(&f);
}

static void test_unmap_faults_with_event(void)
{
    uint8_t w[8] = {9, 9, 9, 9, 9, 9, 9, 9}, before[4096], buf[4];
    uint8_t *ev;
    uint32_t head = 0, len = 0, flags, ep;
    uint64_t addr;
    fixture f;

    up(&f, false, NULL);
    iommu_test_fill(f.d.ram, PAGE_A, 0x33);
    memcpy(before, f.d.ram + PAGE_A, sizeof(before));
    g_assert_cmpuint(attach(&f, 1, EDU_RID, 0), ==, S_OK);
    g_assert_cmpuint(map(&f, 1, IOVA_A, IOVA_A + 0xfff, PAGE_A, 3), ==, S_OK);
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A, buf, 4), ==, 0);
    g_assert_cmpuint(unmap(&f, 1, IOVA_A, IOVA_A + 0xfff), ==, S_OK);
    post_event_buffer(&f);
    g_assert_cmpint(f.H->dma_write(f.edu, IOVA_A + 0x40, w, 8), ==, -14);
    g_assert_cmpmem(f.d.ram + PAGE_A, 4096, before, 4096); /* no RAM written */
    g_assert_true(vd_reap(&f.d, Q_EVENT, &head, &len));
    g_assert_cmpuint(len, ==, 24);
    ev = f.d.ram + EVENTS;
    memcpy(&flags, ev + 4, 4);
    memcpy(&ep, ev + 8, 4);
    memcpy(&addr, ev + 16, 8);
    g_assert_cmpuint(ev[0], ==, 2); /* VIRTIO_IOMMU_FAULT_R_MAPPING */
    g_assert_cmphex(flags, ==, 0x102); /* F_ADDRESS | F_WRITE */
    g_assert_cmphex(ep, ==, EDU_RID);
    g_assert_cmphex(addr, ==, IOVA_A + 0x40);
    /* No buffer left: the next fault is dropped, the DMA still refused. */
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A, buf, 4), ==, -14);
    g_assert_cmphex(buf[0], ==, 0xff);
    g_assert_false(vd_reap(&f.d, Q_EVENT, &head, &len));
    down(&f);
}

static void test_attach_detach_and_bypass(void)
{
    uint8_t buf[4];
    uint32_t head = 0, len = 0;
    fixture f;

    up(&f, false, NULL);
    iommu_test_fill(f.d.ram, PAGE_A, 0x44);
    /* Unattached with config.bypass = 1: untranslated. */
    g_assert_cmpint(f.H->dma_read(f.edu, PAGE_A, buf, 4), ==, 0);
    g_assert_cmpmem(buf, 4, f.d.ram + PAGE_A, 4);
    /* bypass = 0: the same access faults (not attached). */
    vd_wr(&f.d, VD_DEVCFG + 36, 0, 1);
    g_assert_cmpuint(vd_cfg_read(&f.d, 36, 1), ==, 0);
    post_event_buffer(&f);
    g_assert_cmpint(f.H->dma_read(f.edu, PAGE_A, buf, 4), ==, -14);
    g_assert_true(vd_reap(&f.d, Q_EVENT, &head, &len));
    g_assert_cmpuint(f.d.ram[EVENTS], ==, 1); /* VIRTIO_IOMMU_FAULT_R_DOMAIN */
    /* A bypass domain passes everything; it takes no mappings. */
    g_assert_cmpuint(attach(&f, 2, EDU_RID, 1), ==, S_OK);
    g_assert_cmpint(f.H->dma_read(f.edu, PAGE_A, buf, 4), ==, 0);
    g_assert_cmpuint(map(&f, 2, IOVA_A, IOVA_A + 0xfff, PAGE_A, 3), ==, S_INVAL);
    g_assert_cmpuint(attach(&f, 2, EDU_RID, 0), ==, S_INVAL); /* bypass it stays */
    /* Moving to a translated domain frees the old one (its last endpoint). */
    g_assert_cmpuint(attach(&f, 3, EDU_RID, 0), ==, S_OK);
    g_assert_cmpuint(detach(&f, 2, EDU_RID), ==, S_NOENT);
    g_assert_cmpint(f.H->dma_read(f.edu, PAGE_A, buf, 4), ==, -14);
    g_assert_cmpuint(map(&f, 3, IOVA_A, IOVA_A + 0xfff, PAGE_A, 3), ==, S_OK);
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A, buf, 4), ==, 0);
    g_assert_cmpmem(buf, 4, f.d.ram + PAGE_A, 4);
    /* DETACH: the domain and its mappings go. */
    g_assert_cmpuint(detach(&f, 3, EDU_RID), ==, S_OK);
    g_assert_cmpuint(map(&f, 3, IOVA_B, IOVA_B + 0xfff, PAGE_A, 3), ==, S_NOENT);
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A, buf, 4), ==, -14);
    down(&f);
}

static void test_bad_requests(void)
{
    uint8_t junk[8] = {0x42}, shortreq[8] = {T_MAP};
    fixture f;

    up(&f, false, "aw-bits=48");
    g_assert_cmpuint(request(&f, junk, sizeof(junk), 4), ==, S_UNSUPP);
    g_assert_cmpuint(request(&f, shortreq, sizeof(shortreq), 4), ==, S_INVAL);
    g_assert_cmpuint(attach(&f, 1, 0x0800, 0), ==, S_NOENT);       /* nothing at 08:00.0 */
    g_assert_cmpuint(attach(&f, 1, VIOMMU_RID, 0), ==, S_NOENT);   /* not itself */
    g_assert_cmpuint(attach(&f, 1, 0x10000, 0), ==, S_NOENT);
    g_assert_cmpuint(attach(&f, 1, EDU_RID, 0x80), ==, S_INVAL);   /* unknown flag */
    g_assert_cmpuint(detach(&f, 9, EDU_RID), ==, S_NOENT);
    g_assert_cmpuint(map(&f, 1, IOVA_A, IOVA_A + 0xfff, PAGE_A, 3), ==, S_NOENT);
    g_assert_cmpuint(attach(&f, 1, EDU_RID, 0), ==, S_OK);
    g_assert_cmpuint(detach(&f, 2, EDU_RID), ==, S_NOENT);
    g_assert_cmpuint(map(&f, 1, IOVA_A + 8, IOVA_A + 0xfff, PAGE_A, 3), ==, S_RANGE);
    g_assert_cmpuint(map(&f, 1, IOVA_A, IOVA_A + 0xfff, PAGE_A + 8, 3), ==, S_RANGE);
    g_assert_cmpuint(map(&f, 1, 1ull << 48, (1ull << 48) + 0xfff, PAGE_A, 3), ==, S_RANGE);
    g_assert_cmpuint(map(&f, 1, IOVA_A + 0xfff, IOVA_A, PAGE_A, 3), ==, S_INVAL);
    g_assert_cmpuint(map(&f, 1, IOVA_A, IOVA_A + 0xfff, PAGE_A, 0x10), ==, S_INVAL);
    g_assert_cmpuint(map(&f, 1, IOVA_A, IOVA_A + 0x1fff, PAGE_A, 3), ==, S_OK);
    g_assert_cmpuint(map(&f, 1, IOVA_A + 0x1000, IOVA_A + 0x1fff, PAGE_B, 3), ==, S_INVAL);
    /* UNMAP that would split a mapping: S_RANGE, and it stays whole. */
    g_assert_cmpuint(unmap(&f, 1, IOVA_A, IOVA_A + 0xfff), ==, S_RANGE);
    g_assert_cmpuint(map(&f, 1, IOVA_A, IOVA_A + 0xfff, PAGE_A, 3), ==, S_INVAL);
    g_assert_cmpuint(unmap(&f, 1, 0, UINT64_MAX), ==, S_OK);
    g_assert_cmpuint(map(&f, 1, IOVA_A, IOVA_A + 0xfff, PAGE_A, 3), ==, S_OK);
    /* PROBE without room for probe_size bytes of properties. */
    g_assert_cmpuint(request(&f, (uint8_t[72]){T_PROBE, 0, 0, 0, EDU_RID}, 72, 16), ==,
                     S_INVAL);
    g_assert_cmpuint(probe(&f, 0x0800), ==, S_NOENT);
    down(&f);
}

static void test_probe_and_viot_on_x86(void)
{
    uint8_t w[4] = {0x31, 0, 0, 0};
    uint64_t start, end, addr;
    uint32_t data;
    fixture f;

    up(&f, true, NULL);
    /* VIOT: two nodes from offset 48: the virtio-pci IOMMU (type 3) at our
     * bdf, then a PCI range (type 1) 0000..ffff whose output is it. */
    g_assert_cmpuint(viot_len, ==, 52);
    g_assert_cmpuint(viot[0], ==, 2);
    g_assert_cmpuint(viot[2], ==, 48);
    g_assert_cmpuint(viot[12], ==, 3);
    g_assert_cmpuint(viot[18], ==, VIOMMU_RID);
    g_assert_cmpuint(viot[28], ==, 1);
    g_assert_cmpuint(viot[42] | viot[43] << 8, ==, 0xffff);
    g_assert_cmpuint(viot[44], ==, 48);
    /* PROBE: one RESV_MEM property, subtype MSI, the interrupt window. */
    g_assert_cmpuint(probe(&f, EDU_RID), ==, S_OK);
    g_assert_cmpuint(f.d.ram[REQ_IN], ==, 1);
    g_assert_cmpuint(f.d.ram[REQ_IN + 2], ==, 20);
    g_assert_cmpuint(f.d.ram[REQ_IN + 4], ==, 1);
    memcpy(&start, f.d.ram + REQ_IN + 8, 8);
    memcpy(&end, f.d.ram + REQ_IN + 16, 8);
    g_assert_cmphex(start, ==, 0xfee00000u);
    g_assert_cmphex(end, ==, 0xfeefffffu);
    g_assert_cmpuint(f.d.ram[REQ_IN + 24], ==, 0); /* NONE ends the list */
    /* Attached with no mapping at all: an MSI write still gets through. */
    g_assert_cmpuint(attach(&f, 1, EDU_RID, 0), ==, S_OK);
    while (tes_harness_msi_pop(f.h, &addr, &data)) {
    }
    g_assert_cmpint(f.H->dma_write(f.edu, 0xfee00000u, w, 4), ==, 0);
    g_assert_true(tes_harness_msi_pop(f.h, &addr, &data));
    g_assert_cmphex(addr, ==, 0xfee00000u);
    g_assert_cmphex(data, ==, 0x31);
    down(&f);
}

/* QEMU's virtio_iommu_* lines, once switched on: the config (its page
 * size mask), attach, map, a translation, unmap, a fault, probe, detach. */
static void test_trace(void)
{
    static const char *const want[] = {
        "virtio_iommu_get_config page_size_mask=0xfffffffffffff000 input range start=0x0 "
        "input range end=0xffffffffffffffff ",
        "virtio_iommu_attach domain=5 endpoint=24\n",
        "virtio_iommu_map domain=5 virt_start=0x40000000 virt_end=0x40000fff "
        "phys_start=0x200000 flags=1\n",
        "virtio_iommu_translate mr=virtio-iommu rid=24 addr=0x40000020 flag=1\n",
        "virtio_iommu_translate_out 0x40000020 -> 0x200020 for sid=24\n",
        "virtio_iommu_unmap domain=5 virt_start=0x40000000 virt_end=0x40000fff\n",
        "virtio_iommu_report_fault FAULT reason=2 flags=257 endpoint=24 address =0x40000000\n",
        "virtio_iommu_probe endpoint=24\n",
        "virtio_iommu_fill_resv_property dev= 24, type=1 start=0xfee00000 end=0xfeefffff\n",
        "virtio_iommu_detach domain=5 endpoint=24\n",
        NULL,
    };
    uint32_t head = 0, len = 0;
    uint8_t buf[4];
    fixture f;

    up(&f, true, NULL);
    tes_harness_log_capture(f.h, TES_LOG_TRACE);
    g_assert_true(vd_trace_on(f.h, "virtio_iommu_*"));
    g_assert_cmphex(vd_cfg_read(&f.d, 0, 4), ==, 0xfffff000u);
    g_assert_cmpuint(attach(&f, 5, EDU_RID, 0), ==, S_OK);
    g_assert_cmpuint(map(&f, 5, IOVA_A, IOVA_A + 0xfff, PAGE_A, 1), ==, S_OK);
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A + 0x20, buf, 4), ==, 0);
    g_assert_cmpuint(unmap(&f, 5, IOVA_A, IOVA_A + 0xfff), ==, S_OK);
    post_event_buffer(&f);
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A, buf, 4), ==, -14);
    g_assert_true(vd_reap(&f.d, Q_EVENT, &head, &len));
    g_assert_cmpuint(probe(&f, EDU_RID), ==, S_OK);
    g_assert_cmpuint(detach(&f, 5, EDU_RID), ==, S_OK);
    g_assert_cmpstr(vd_log_missing(f.h, want), ==, NULL);
    down(&f);
}

static void test_probe_on_virt_reports_nothing(void)
{
    fixture f;

    up(&f, false, NULL);
    g_assert_cmpuint(probe(&f, EDU_RID), ==, S_OK);
    for (unsigned i = 0; i < 512; i++) {
        g_assert_cmpuint(f.d.ram[REQ_IN + i], ==, 0);
    }
    down(&f);
}

static void test_migration_keeps_domains_and_mappings(void)
{
    uint8_t buf[4];
    size_t bytes = 0;
    fixture f;

    up(&f, false, NULL);
    iommu_test_fill(f.d.ram, PAGE_A, 0x55);
    g_assert_cmpuint(attach(&f, 5, EDU_RID, 0), ==, S_OK);
    g_assert_cmpuint(map(&f, 5, IOVA_A, IOVA_A + 0xfff, PAGE_A, 1), ==, S_OK);
    vd_wr(&f.d, VD_DEVCFG + 36, 0, 1);
    iommu_map_len = 0; /* the destination board has a tree of its own */
    f.iommu = tes_harness_migrate(f.h, f.iommu, &bytes);
    if (!f.iommu) {
        g_error("migration: %s", tes_harness_error(f.h));
    }
    g_assert_cmpuint(bytes, >, 0);
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A + 4, buf, 4), ==, 0);
    g_assert_cmpmem(buf, 4, f.d.ram + PAGE_A + 4, 4);
    g_assert_cmpint(f.H->dma_write(f.edu, IOVA_A + 4, buf, 4), ==, -14); /* read-only */
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_B, buf, 4), ==, -14);
    g_assert_cmpuint(vd_cfg_read(&f.d, 36, 1), ==, 0);
    /* The domain came over: mapping more into it works. */
    f.d.q[Q_REQ].used_seen = vd_used_idx(&f.d, Q_REQ);
    g_assert_cmpuint(map(&f, 5, IOVA_B, IOVA_B + 0xfff, PAGE_B, 3), ==, S_OK);
    down(&f);
}

static void test_reset_forgets_everything(void)
{
    uint8_t buf[4];
    fixture f;

    up(&f, false, "boot-bypass=off");
    g_assert_cmpuint(vd_cfg_read(&f.d, 36, 1), ==, 0);
    g_assert_cmpint(f.H->dma_read(f.edu, PAGE_A, buf, 4), ==, -14);
    g_assert_cmpuint(attach(&f, 1, EDU_RID, 1), ==, S_OK);
    g_assert_cmpint(f.H->dma_read(f.edu, PAGE_A, buf, 4), ==, 0);
    tes_harness_reset(f.h);
    tes_harness_bar_map(f.h, f.edu, 0, 0x10000000); /* bus mastering again */
    g_assert_cmpint(f.H->dma_read(f.edu, PAGE_A, buf, 4), ==, -14);
    /* config.bypass survives a device reset (status 0), not a system one. */
    g_assert_cmphex(tes_harness_bar_map(f.h, f.iommu, 4, VD_BAR4), ==, VD_BAR4);
    g_assert_true(vd_init(&f.d, F_WANT | F_VERSION_1, 2, QSIZE, false));
    vd_wr(&f.d, VD_DEVCFG + 36, 1, 1);
    g_assert_cmpuint(attach(&f, 1, EDU_RID, 0), ==, S_OK);
    g_assert_cmpint(f.H->dma_read(f.edu, PAGE_A, buf, 4), ==, -14);
    vd_set_status(&f.d, 0);
    g_assert_cmpuint(vd_cfg_read(&f.d, 36, 1), ==, 1);
    g_assert_cmpint(f.H->dma_read(f.edu, PAGE_A, buf, 4), ==, 0); /* detached: bypass */
    tes_harness_reset(f.h);
    g_assert_cmphex(tes_harness_bar_map(f.h, f.iommu, 4, VD_BAR4), ==, VD_BAR4);
    g_assert_cmpuint(vd_cfg_read(&f.d, 36, 1), ==, 0);
    down(&f);
}

/* Both IOMMUs of the plugin on q35's root bus: the second is refused. */
static void test_one_iommu_per_root_bus(void)
{
    fixture f;

    for (int order = 0; order < 2; order++) {
        const char *first = order ? "virtio-iommu-pci" : "intel-iommu";
        const char *second = order ? "intel-iommu" : "virtio-iommu-pci";

        up_board(&f, true);
        g_assert_nonnull(tes_harness_device(f.h, first, NULL));
        g_assert_null(tes_harness_device(f.h, second, NULL));
        g_assert_nonnull(strstr(tes_harness_error(f.h), "has an IOMMU already"));
        g_assert_nonnull(strstr(tes_harness_error(f.h), order ? "virtio-iommu" : "intel-iommu"));
        down(&f);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    virtio_path = getenv("VIRTIO_PLUGIN");
    iommu_path = getenv("IOMMU_PLUGIN");
    edu_path = getenv("EDU_PLUGIN");
    if (!virtio_path || !iommu_path || !edu_path) {
        g_printerr("set VIRTIO_PLUGIN, IOMMU_PLUGIN and EDU_PLUGIN\n");
        return 1;
    }
    g_test_add_func("/virtio-iommu/identity/config-and-device-tree", test_identity_config_and_dt);
    g_test_add_func("/virtio-iommu/map/dma-reaches-mapped-page", test_map_dma_reaches_mapped_page);
    g_test_add_func("/virtio-iommu/unmap/dma-faults-with-event-and-no-write",
                    test_unmap_faults_with_event);
    g_test_add_func("/virtio-iommu/attach-detach/domains-and-bypass",
                    test_attach_detach_and_bypass);
    g_test_add_func("/virtio-iommu/requests/bad-ones-get-their-status", test_bad_requests);
    g_test_add_func("/virtio-iommu/probe/x86-msi-window-and-viot", test_probe_and_viot_on_x86);
    g_test_add_func("/virtio-iommu/trace/config-attach-map-translate-fault-probe", test_trace);
    g_test_add_func("/virtio-iommu/probe/virt-reports-no-region",
                    test_probe_on_virt_reports_nothing);
    g_test_add_func("/virtio-iommu/migration/keeps-domains-and-mappings",
                    test_migration_keeps_domains_and_mappings);
    g_test_add_func("/virtio-iommu/reset/forgets-domains-bypass-sticky-until-system-reset",
                    test_reset_forgets_everything);
    g_test_add_func("/virtio-iommu/refused/second-iommu-on-the-root-bus",
                    test_one_iommu_per_root_bus);
    return g_test_run();
}
