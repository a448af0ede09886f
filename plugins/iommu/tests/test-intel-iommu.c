/*
 * intel-iommu through the harness: no guest, no CPU, no board. The test
 * plays the q35 board's side of tessera/acpi.h (it registers the "acpi"
 * interface, keeps the DMAR table and hands pci.0 over as segment 0's root
 * bus) and the edu device plays the bus master: its DMA goes through the
 * core's host->dma_read/dma_write/dma_map, so through the IOMMU hook, with
 * edu's requester id. The plugin files come from $IOMMU_PLUGIN and
 * $EDU_PLUGIN (meson sets them).
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <tessera/harness.h>

#include "iommu-test.h"

#define RAM (16u << 20)
#define VTD 0xfed90000ull
#define EDU_DEVFN 0x18 /* 03.0 */
#define DID 5

/* Registers */
#define CAP 0x08
#define ECAP 0x10
#define GCMD 0x18
#define GSTS 0x1c
#define RTADDR 0x20
#define CCMD 0x28
#define FSTS 0x34
#define FECTL 0x38
#define FEDATA 0x3c
#define FEADDR 0x40
#define IQH 0x80
#define IQT 0x88
#define IQA 0x90
#define ICS 0x9c
#define IECTL 0xa0
#define IEDATA 0xa4
#define IEADDR 0xa8
#define IVA 0x200
#define IOTLB 0x208
#define IRTA 0xb8
#define FRCD 0x220
#define TE (1u << 31)
#define SRTP (1u << 30)
#define QIE (1u << 26)

/* Tables in guest RAM */
#define ROOT 0x100000ull
#define CTX 0x101000ull
#define L4 0x102000ull
#define L3 0x103000ull
#define L2 0x104000ull
#define L1 0x105000ull
#define IQ 0x110000ull
#define STATUS 0x120000ull
#define PAGE_A 0x200000ull /* read-write at IOVA_A */
#define PAGE_B 0x201000ull /* read-only at IOVA_B */
#define PAGE_C 0x202000ull
#define BIG 0x400000ull    /* a 2 MiB page */
#define IOVA_A 0x40000000ull
#define IOVA_B 0x40001000ull
#define IOVA_UNMAPPED 0x40002000ull

static const char *iommu_path, *edu_path, *platform_path;

static uint8_t dmar[256];
static size_t dmar_len;
static tes_bus *root_bus;

static int fake_add_table(const char *sig, uint8_t rev, const void *body, size_t len)
{
    if (memcmp(sig, "DMAR", 4) || len > sizeof(dmar)) {
        return -22;
    }
    if (dmar_len) {
        return -17; /* -EEXIST, as q35 answers a second DMAR */
    }
    memcpy(dmar, body, len);
    dmar_len = len;
    return 0;
}

static tes_bus *fake_pci_root(uint16_t seg)
{
    return seg == 0 ? root_bus : NULL;
}

static const tes_acpi_iface fake_acpi = {
    .size = sizeof(tes_acpi_iface),
    .add_table = fake_add_table,
    .pci_root = fake_pci_root,
};

typedef struct fixture {
    tes_harness *h;
    const tes_host *H;
    tes_device *edu, *iommu;
    uint8_t *ram;
} fixture;

static tes_device *iommu_create(fixture *f, const char *props)
{
    return tes_harness_device(f->h, "intel-iommu", props);
}

static void up_board(fixture *f, bool acpi)
{
    f->h = tes_harness_new(RAM);
    f->H = tes_harness_host(f->h);
    f->ram = tes_harness_ram(f->h);
    f->edu = iommu_test_edu(f->h, (const char *const[]){iommu_path, edu_path, NULL});
    root_bus = f->H->dev_bus(f->edu);
    dmar_len = 0;
    if (acpi) {
        /* Interfaces outlive a harness in this process: -EEXIST after the
         * first registration is the same table. */
        f->H->iface_register(TES_ACPI_IFACE, TES_ACPI_IFACE_VERSION, &fake_acpi);
    }
}

static void up(fixture *f, const char *props)
{
    up_board(f, true);
    f->iommu = iommu_create(f, props);
    if (!f->iommu) {
        g_error("intel-iommu: %s", tes_harness_error(f->h));
    }
}

static void down(fixture *f)
{
    tes_harness_free(f->h);
}

static uint64_t rd(fixture *f, unsigned off, unsigned size)
{
    return tes_harness_read(f->h, VTD + off, size);
}

static void wr(fixture *f, unsigned off, uint64_t val, unsigned size)
{
    tes_harness_write(f->h, VTD + off, val, size);
}

static void put64(fixture *f, uint64_t addr, uint64_t v)
{
    memcpy(f->ram + addr, &v, 8); /* the host is little-endian, as the guest */
}

static uint32_t get32(fixture *f, uint64_t addr)
{
    uint32_t v;

    memcpy(&v, f->ram + addr, 4);
    return v;
}

/* Root entry for bus 0, edu's context entry (levels 3 or 4, or type 2
 * pass-through), and the tables: IOVA_A -> PAGE_A read-write, IOVA_B ->
 * PAGE_B read-only, IOVA_A + 1 GiB (4-level only: 0x80000000) -> BIG as
 * a 2 MiB page. */
static void tables(fixture *f, unsigned levels)
{
    put64(f, ROOT, CTX | 1);
    if (levels == 0) {
        put64(f, CTX + 16 * EDU_DEVFN, 2 << 2 | 1);
        put64(f, CTX + 16 * EDU_DEVFN + 8, DID << 8 | 1);
        return;
    }
    put64(f, CTX + 16 * EDU_DEVFN, (levels == 4 ? L4 : L3) | 1);
    put64(f, CTX + 16 * EDU_DEVFN + 8, DID << 8 | (levels == 4 ? 2 : 1));
    put64(f, L4, L3 | 3);
    put64(f, L3 + 8 * 1, L2 | 3);          /* IOVA bits 38:30 = 1 */
    put64(f, L3 + 8 * 2, L2 | 3);          /* 0x80000000 */
    put64(f, L2 + 8 * 0, L1 | 3);
    put64(f, L2 + 8 * 1, BIG | 1 << 7 | 3); /* 0x40200000 and 0x80200000: 2 MiB */
    put64(f, L1 + 8 * 0, PAGE_A | 3);
    put64(f, L1 + 8 * 1, PAGE_B | 1);
}

static void enable(fixture *f)
{
    wr(f, RTADDR, ROOT, 8);
    wr(f, GCMD, SRTP, 4);
    g_assert_cmphex(rd(f, GSTS, 4) & SRTP, ==, SRTP);
    wr(f, GCMD, TE, 4);
    g_assert_cmphex(rd(f, GSTS, 4) & TE, ==, TE);
}


static void test_registers_and_dmar(void)
{
    fixture f;
    uint64_t cap, ecap;

    up(&f, "caching-mode=on,aw-bits=48");
    g_assert_cmphex(rd(&f, 0, 4), ==, 0x10);
    cap = rd(&f, CAP, 8);
    ecap = rd(&f, ECAP, 8);
    g_assert_cmphex((cap >> 8) & 0x1f, ==, 0x6);  /* SAGAW: 3- and 4-level */
    g_assert_cmpuint((cap >> 16) & 0x3f, ==, 47); /* MGAW */
    g_assert_cmphex(cap & (1 << 7), !=, 0);       /* CM */
    g_assert_cmphex(((cap >> 24) & 0x3ff) * 16, ==, FRCD);
    g_assert_cmphex(((ecap >> 8) & 0x3ff) * 16, ==, IVA);
    g_assert_cmphex(ecap & 2, ==, 2);             /* QI */
    g_assert_cmphex(ecap & 8, ==, 8);             /* IR: intremap=auto is on */
    g_assert_cmphex(rd(&f, FECTL, 4), ==, 0x80000000u); /* masked at reset */
    /* DMAR: HAW 47, INTR_REMAP | X2APIC_OPT_OUT, one DRHD, INCLUDE_PCI_ALL,
     * segment 0, at 0xfed90000, with the I/O APIC (id 0) as ff:00.0 */
    g_assert_cmpuint(dmar_len, ==, 36);
    g_assert_cmpuint(dmar[0], ==, 47);
    g_assert_cmpuint(dmar[1], ==, 3);
    g_assert_cmpuint(dmar[12] | dmar[13] << 8, ==, 0);
    g_assert_cmpuint(dmar[14] | dmar[15] << 8, ==, 24);
    g_assert_cmpmem(dmar + 28, 8, ((uint8_t[]){3, 8, 0, 0, 0, 0xff, 0, 0}), 8);
    g_assert_cmpuint(dmar[16], ==, 1);
    g_assert_cmphex(dmar[20] | dmar[21] << 8 | dmar[22] << 16 | (uint32_t)dmar[23] << 24, ==,
                    0xfed90000u);
    down(&f);
}

/* Runs first: no test has registered the "acpi" interface yet. */
static void test_no_board(void)
{
    fixture f;

    up_board(&f, false);
    g_assert_null(iommu_create(&f, NULL));
    g_assert_nonnull(strstr(tes_harness_error(f.h), "Intel IOMMU is only supported by q35"));
    down(&f);
}

static void test_bad_config(void)
{
    fixture f;

    up_board(&f, true);
    g_assert_null(iommu_create(&f, "aw-bits=40"));
    g_assert_nonnull(strstr(tes_harness_error(f.h), "Supported values for aw-bits are: 39, 48"));
    g_assert_null(iommu_create(&f, "intremap=off,eim=on"));
    g_assert_nonnull(strstr(tes_harness_error(f.h), "eim=on cannot be selected without"));
    g_assert_null(iommu_create(&f, "intremap=maybe"));
    g_assert_nonnull(iommu_create(&f, "intremap=off,device-iotlb=on"));
    g_assert_cmpuint(dmar_len, ==, 28); /* no remapping: no flags, no scope */
    g_assert_cmpuint(dmar[1], ==, 0);
    g_assert_cmphex(rd(&f, ECAP, 8) & 0xc, ==, 0x4); /* DT, no IR */
    g_assert_null(tes_harness_device(f.h, "intel_iommu", NULL)); /* only one */
    down(&f);
}


static void test_translate_3level(void)
{
    fixture f;
    uint64_t len = 8192;
    uint8_t *p;

    up(&f, "aw-bits=39");
    tables(&f, 3);
    enable(&f);
    iommu_test_check_translation(f.H, f.edu, f.ram, IOVA_A, PAGE_A, PAGE_B);
    /* dma_map: a host pointer to PAGE_A, cut at the page end */
    p = f.H->dma_map(f.edu, IOVA_A + 0x800, &len, true);
    g_assert_true(p == f.ram + PAGE_A + 0x800);
    g_assert_cmpuint(len, ==, 0x800);
    f.H->dma_unmap(f.edu, p, len, true);
    g_assert_cmphex(rd(&f, FSTS, 4), ==, 0);
    down(&f);
}

static void test_translate_4level_large(void)
{
    fixture f;
    uint8_t buf[8];

    up(&f, NULL);
    tables(&f, 4);
    enable(&f);
    iommu_test_check_translation(f.H, f.edu, f.ram, IOVA_A, PAGE_A, PAGE_B);
    /* 0x80200000 + 0x12345 lies in the 2 MiB page at BIG */
    f.ram[BIG + 0x12345] = 0xa5;
    g_assert_cmpint(f.H->dma_read(f.edu, 0x80212345ull, buf, 1), ==, 0);
    g_assert_cmphex(buf[0], ==, 0xa5);
    g_assert_cmphex(rd(&f, FSTS, 4), ==, 0);
    down(&f);
}

static void test_passthrough_and_msi_range(void)
{
    fixture f;
    uint8_t buf[4];
    uint64_t addr;
    uint32_t data;

    up(&f, NULL);
    tables(&f, 0);
    enable(&f);
    f.ram[0x3000] = 0x77;
    g_assert_cmpint(f.H->dma_read(f.edu, 0x3000, buf, 1), ==, 0);
    g_assert_cmphex(buf[0], ==, 0x77);
    /* Interrupt requests are not DMA-remapped, whatever the context says */
    tables(&f, 3);
    wr(&f, CCMD, 1ull << 63 | 1ull << 61, 8); /* global context invalidation */
    f.H->msi_send(f.edu, 0xfee01000, 0x4242);
    g_assert_true(tes_harness_msi_pop(f.h, &addr, &data));
    g_assert_cmphex(addr, ==, 0xfee01000);
    g_assert_cmphex(data, ==, 0x4242);
    down(&f);
}

/* A mapping changed without invalidation stays as the IOTLB cached it,
 * until the guest invalidates: through IOTLB/IVA, then the queue. */
static void test_invalidation(void)
{
    fixture f;
    uint8_t buf[4];
    uint64_t addr;
    uint32_t data;

    up(&f, NULL);
    tables(&f, 3);
    enable(&f);
    iommu_test_fill(f.ram, PAGE_A, 0x10);
    iommu_test_fill(f.ram, PAGE_C, 0x60);
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A, buf, 1), ==, 0);
    g_assert_cmphex(buf[0], ==, 0x10);
    put64(&f, L1, PAGE_C | 3);
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A, buf, 1), ==, 0);
    g_assert_cmphex(buf[0], ==, 0x10); /* stale, as on hardware */
    /* page-selective, domain DID */
    wr(&f, IVA, IOVA_A, 8);
    wr(&f, IOTLB, 1ull << 63 | 3ull << 60 | (uint64_t)DID << 32, 8);
    g_assert_cmphex(rd(&f, IOTLB, 8) >> 57 & 0x43, ==, 3); /* IVT clear, IAIG page */
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A, buf, 1), ==, 0);
    g_assert_cmphex(buf[0], ==, 0x60);

    /* queued: unmap, IOTLB domain invalidation, wait with status + interrupt */
    put64(&f, L1, 0);
    wr(&f, IQA, IQ, 8);
    wr(&f, GCMD, TE | QIE, 4);
    g_assert_cmphex(rd(&f, GSTS, 4) & (TE | QIE), ==, TE | QIE);
    wr(&f, IEADDR, 0xfee00000, 4);
    wr(&f, IEDATA, 0x31, 4);
    wr(&f, IECTL, 0, 4);
    put64(&f, IQ, 2 | 2 << 4 | (uint64_t)DID << 16);
    put64(&f, IQ + 8, 0);
    put64(&f, IQ + 16, 5 | 1 << 4 | 1 << 5 | 0xcafef00dull << 32);
    put64(&f, IQ + 24, STATUS);
    wr(&f, IQT, 2 << 4, 8);
    g_assert_cmphex(rd(&f, IQH, 8), ==, 2 << 4);
    g_assert_cmphex(get32(&f, STATUS), ==, 0xcafef00d);
    g_assert_cmphex(rd(&f, ICS, 4), ==, 1);
    g_assert_true(tes_harness_msi_pop(f.h, &addr, &data));
    g_assert_cmphex(addr, ==, 0xfee00000);
    g_assert_cmphex(data, ==, 0x31);
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A, buf, 1), <, 0); /* gone */
    /* a bad descriptor stops the queue with IQE, the head on it */
    put64(&f, IQ + 32, 9);
    wr(&f, IQT, 3 << 4, 8);
    g_assert_cmphex(rd(&f, IQH, 8), ==, 2 << 4);
    g_assert_cmphex(rd(&f, FSTS, 4) & 0x10, ==, 0x10);
    down(&f);
}

static void fault_events(fixture *f)
{
    wr(f, FEADDR, 0xfee00000, 4);
    wr(f, FEDATA, 0x55, 4);
    wr(f, FECTL, 0, 4);
}

static void fault_setup(fixture *f)
{
    up(f, NULL);
    tables(f, 3);
    enable(f);
    fault_events(f);
}

static void check_record(fixture *f, unsigned i, uint64_t iova, unsigned reason, bool write)
{
    uint64_t hi = rd(f, FRCD + 16 * i + 8, 8);

    g_assert_cmphex(rd(f, FRCD + 16 * i, 8), ==, iova);
    g_assert_cmphex(hi >> 63, ==, 1);                /* F */
    g_assert_cmphex((hi >> 62) & 1, ==, !write);     /* T: 1 = read */
    g_assert_cmphex((hi >> 32) & 0xff, ==, reason);
    g_assert_cmphex(hi & 0xffff, ==, EDU_DEVFN);     /* source id 00:03.0 */
}

/* Faults: the access touches no RAM, lands in the fault recording
 * registers and raises one fault event until software clears them. */
static void test_faults(void)
{
    fixture f;
    uint8_t w[16], buf[16], *before = g_malloc(RAM);
    uint64_t addr;
    uint32_t data;

    fault_setup(&f);
    memset(w, 0xee, sizeof(w));
    memcpy(before, f.ram, RAM);
    g_assert_cmpint(f.H->dma_write(f.edu, IOVA_UNMAPPED + 8, w, 16), <, 0);
    g_assert_cmpint(memcmp(before, f.ram, RAM), ==, 0);
    check_record(&f, 0, IOVA_UNMAPPED, 5, true);
    g_assert_cmphex(rd(&f, FSTS, 4), ==, 0x102); /* PPF, FRI 1 */
    g_assert_true(tes_harness_msi_pop(f.h, &addr, &data));
    g_assert_cmphex(addr, ==, 0xfee00000);
    g_assert_cmphex(data, ==, 0x55);

    /* a write to the read-only page: recorded, no second event yet */
    g_assert_cmpint(f.H->dma_write(f.edu, IOVA_B, w, 4), <, 0);
    g_assert_cmpint(memcmp(before, f.ram, RAM), ==, 0);
    check_record(&f, 1, IOVA_B, 5, true);
    g_assert_cmpuint(tes_harness_msi_count(f.h), ==, 0);
    /* reading it is fine */
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_B, buf, 4), ==, 0);

    /* software clears F: PPF drops; the next fault raises a new event */
    wr(&f, FRCD + 12, 0x80000000u, 4);
    wr(&f, FRCD + 16 + 8, 1ull << 63, 8);
    g_assert_cmphex(rd(&f, FSTS, 4) & 2, ==, 0);
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_UNMAPPED, buf, 16), <, 0);
    for (unsigned i = 0; i < 16; i++) {
        g_assert_cmphex(buf[i], ==, 0xff);
    }
    check_record(&f, 2, IOVA_UNMAPPED, 6, false);
    g_assert_cmpuint(tes_harness_msi_count(f.h), ==, 1);
    g_assert_cmpint(memcmp(before, f.ram, RAM), ==, 0);
    g_free(before);
    down(&f);
}

/* Masked events are held (IP) and sent when unmasked. */
static void test_fault_masked(void)
{
    fixture f;
    uint8_t buf[4];

    fault_setup(&f);
    wr(&f, FECTL, 0x80000000u, 4);
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_UNMAPPED, buf, 4), <, 0);
    g_assert_cmpuint(tes_harness_msi_count(f.h), ==, 0);
    g_assert_cmphex(rd(&f, FECTL, 4), ==, 0xc0000000u);
    wr(&f, FECTL, 0, 4);
    g_assert_cmpuint(tes_harness_msi_count(f.h), ==, 1);
    g_assert_cmphex(rd(&f, FECTL, 4), ==, 0);
    down(&f);
}

static void test_migrate(void)
{
    fixture f;
    size_t bytes;
    uint8_t buf[4];

    up(&f, NULL);
    tables(&f, 3);
    enable(&f);
    iommu_test_fill(f.ram, PAGE_A, 0x33);
    dmar_len = 0; /* the destination's board has no DMAR yet */
    f.iommu = tes_harness_migrate(f.h, f.iommu, &bytes);
    g_assert_nonnull(f.iommu);
    g_assert_cmpuint(bytes, >, 0x200);
    g_assert_cmphex(rd(&f, GSTS, 4) & TE, ==, TE);
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A, buf, 1), ==, 0);
    g_assert_cmphex(buf[0], ==, 0x33);
    down(&f);
}

/* ---- interrupt remapping ---- */

#define IRT 0x130000ull
#define IRE (1u << 25)
#define SIRTP (1u << 24)
#define CFI (1u << 23)

/* IRTE index: present, vector, physical destination dest, source-id
 * verification against sid (SVT 1, SQ 0). */
static void irte(fixture *f, unsigned index, uint8_t vector, uint8_t dest, uint16_t sid)
{
    put64(f, IRT + 16 * index, 1 | (uint64_t)vector << 16 | (uint64_t)dest << 40);
    put64(f, IRT + 16 * index + 8, sid | 1u << 18);
}

static void ir_enable(fixture *f, uint32_t extra)
{
    wr(f, IRTA, IRT | 7, 8); /* 256 entries */
    wr(f, GCMD, SIRTP, 4);
    g_assert_cmphex(rd(f, GSTS, 4) & SIRTP, ==, SIRTP);
    wr(f, GCMD, IRE | extra, 4);
    g_assert_cmphex(rd(f, GSTS, 4) & (IRE | extra), ==, IRE | extra);
}

static void test_ir_msi(void)
{
    fixture f;
    uint64_t addr;
    uint32_t data;

    up(&f, "intremap=on");
    irte(&f, 5, 0x40, 3, EDU_DEVFN);
    ir_enable(&f, 0);
    /* remappable format: handle 5 in address bits 19:5, bit 4 set */
    f.H->msi_send(f.edu, 0xfee00000 | 5 << 5 | 0x10, 0);
    g_assert_true(tes_harness_msi_pop(f.h, &addr, &data));
    g_assert_cmphex(addr, ==, 0xfee03000);
    g_assert_cmphex(data, ==, 0x4040);
    /* SHV: handle 4 + subhandle 1 */
    f.H->msi_send(f.edu, 0xfee00000 | 4 << 5 | 0x18, 1);
    g_assert_true(tes_harness_msi_pop(f.h, &addr, &data));
    g_assert_cmphex(addr, ==, 0xfee03000);
    fault_events(&f);
    /* compatibility format is blocked while CFIS is clear... */
    f.H->msi_send(f.edu, 0xfee00000, 0x30);
    g_assert_cmpuint(tes_harness_msi_count(f.h), ==, 1); /* the fault event only */
    g_assert_true(tes_harness_msi_pop(f.h, &addr, &data));
    g_assert_cmphex(data, ==, 0x55);
    check_record(&f, 0, 0, 0x25, true);
    /* ...and passes with it */
    wr(&f, GCMD, IRE | CFI, 4);
    f.H->msi_send(f.edu, 0xfee00000, 0x30);
    g_assert_true(tes_harness_msi_pop(f.h, &addr, &data));
    g_assert_cmphex(data, ==, 0x30);
    /* an entry for another source, a missing one: dropped and recorded */
    irte(&f, 6, 0x41, 3, 0x0020);
    f.H->msi_send(f.edu, 0xfee00000 | 6 << 5 | 0x10, 0);
    check_record(&f, 1, 6ull << 48, 0x26, true);
    f.H->msi_send(f.edu, 0xfee00000 | 9 << 5 | 0x10, 0);
    check_record(&f, 2, 9ull << 48, 0x22, true);
    f.H->msi_send(f.edu, 0xfee00000 | 300 << 5 | 0x10, 0);
    check_record(&f, 3, 300ull << 48, 0x21, true);
    g_assert_cmpuint(tes_harness_msi_count(f.h), ==, 0); /* PPF was already set */
    down(&f);
}

/* The board's I/O APIC (pc-platform) sends remappable-format entries
 * through the system bus as source ff:00.0. */
static void test_ir_ioapic(void)
{
    fixture f;
    tes_device *ioapic;
    uint64_t addr;
    uint32_t data;

    up(&f, NULL);
    g_assert_true(tes_harness_load(f.h, platform_path));
    ioapic = tes_harness_device(f.h, "ioapic", NULL);
    g_assert_nonnull(ioapic);
    f.H->region_add(f.H->system_memory(), 0xfec00000, f.H->dev_mmio(ioapic, 0), 0);
    irte(&f, 7, 0x51, 2, 0xff00);
    ir_enable(&f, 0);
    /* pin 4: vector 0x31 (for EOI), edge; remappable: bit 48, handle 7 */
    tes_harness_write(f.h, 0xfec00000, 0x18, 4);
    tes_harness_write(f.h, 0xfec00010, 0x31, 4);
    tes_harness_write(f.h, 0xfec00000, 0x19, 4);
    tes_harness_write(f.h, 0xfec00010, 7u << 17 | 1u << 16, 4);
    f.H->irq_set(f.H->dev_irq_in(ioapic, 4), 1);
    g_assert_true(tes_harness_msi_pop(f.h, &addr, &data));
    g_assert_cmphex(addr, ==, 0xfee02000);
    g_assert_cmphex(data, ==, 0x4051);
    g_assert_cmphex(rd(&f, FSTS, 4), ==, 0);
    down(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    iommu_path = getenv("IOMMU_PLUGIN");
    edu_path = getenv("EDU_PLUGIN");
    platform_path = getenv("PC_PLATFORM_PLUGIN");
    if (!iommu_path || !edu_path || !platform_path) {
        g_printerr("set IOMMU_PLUGIN, EDU_PLUGIN and PC_PLATFORM_PLUGIN\n");
        return 1;
    }
    g_test_add_func("/intel-iommu/config/refused-without-q35", test_no_board);
    g_test_add_func("/intel-iommu/registers/caps-and-dmar-table", test_registers_and_dmar);
    g_test_add_func("/intel-iommu/config/bad-props-and-only-one", test_bad_config);
    g_test_add_func("/intel-iommu/translate/3-level-read-write-map", test_translate_3level);
    g_test_add_func("/intel-iommu/translate/4-level-and-2m-page", test_translate_4level_large);
    g_test_add_func("/intel-iommu/translate/pass-through-and-msi-range",
                    test_passthrough_and_msi_range);
    g_test_add_func("/intel-iommu/invalidate/stale-until-register-then-queue",
                    test_invalidation);
    g_test_add_func("/intel-iommu/fault/unmapped-and-read-only-touch-no-ram", test_faults);
    g_test_add_func("/intel-iommu/fault/masked-event-sent-on-unmask", test_fault_masked);
    g_test_add_func("/intel-iommu/migrate/keeps-translation", test_migrate);
    g_test_add_func("/intel-iommu/intremap/msi-remapped-verified-blocked", test_ir_msi);
    g_test_add_func("/intel-iommu/intremap/ioapic-as-ff-00-0", test_ir_ioapic);
    return g_test_run();
}
