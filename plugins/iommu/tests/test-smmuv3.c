/*
 * arm-smmuv3 through the harness: no guest, no CPU, no board. The test
 * plays virt's side of <tessera/smmuv3.h> (it maps the registers, counts
 * the interrupt pulses and attaches pci.0), and the edu device plays the
 * bus master: its DMA goes through the core's host->dma_read/dma_write/
 * dma_map, so through the IOMMU hook, with edu's requester id as stream
 * id. The plugin files come from $IOMMU_PLUGIN and $EDU_PLUGIN.
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <tessera/harness.h>
#include <tessera/smmuv3.h>

#include "iommu-test.h"

#define RAM (16u << 20)
#define SMMU 0x09050000ull
#define EDU_DEVFN 0x18 /* 03.0: stream id 0x18 */
#define SID EDU_DEVFN
#define ASID 7

/* Registers */
#define IDR0 0x00
#define IDR1 0x04
#define IDR5 0x14
#define CR0 0x20
#define CR0ACK 0x24
#define GBPA 0x44
#define IRQ_CTRL 0x50
#define IRQ_CTRLACK 0x54
#define GERROR 0x60
#define GERRORN 0x64
#define STRTAB_BASE 0x80
#define STRTAB_BASE_CFG 0x88
#define CMDQ_BASE 0x90
#define CMDQ_PROD 0x98
#define CMDQ_CONS 0x9c
#define EVTQ_BASE 0xa0
#define EVTQ_PROD 0x100a8
#define EVTQ_CONS 0x100ac
#define EVTQ_IRQ_CFG0 0xb0
#define EVTQ_IRQ_CFG1 0xb8
#define SMMUEN 1u
#define EVTQEN 4u
#define CMDQEN 8u

/* Tables in guest RAM */
#define STRTAB 0x100000ull  /* linear: 256 STEs; 2-level: L1 here */
#define L2STRTAB 0x104000ull
#define CD 0x108000ull
#define CMDQ 0x110000ull    /* 8 commands: wraps soon */
#define EVTQ 0x112000ull    /* 4 events */
#define L0 0x120000ull
#define L1 0x121000ull
#define L2 0x122000ull
#define L3 0x123000ull
#define SYNC_WORD 0x130000ull
#define PAGE_A 0x200000ull  /* read-write at IOVA_A */
#define PAGE_B 0x201000ull  /* read-only at IOVA_B */
#define PAGE_C 0x202000ull
#define BIG 0x400000ull     /* a 2 MiB block */
#define IOVA_A 0x40000000ull
#define IOVA_B 0x40001000ull
#define IOVA_UNMAPPED 0x40002000ull
#define IOVA_BIG 0x40200000ull

/* Events */
#define C_BAD_STREAMID 0x02
#define C_BAD_STE 0x04
#define C_BAD_CD 0x0a
#define F_TRANSLATION 0x10
#define F_PERMISSION 0x13

static const char *iommu_path, *edu_path;

typedef struct fixture {
    tes_harness *h;
    const tes_host *H;
    tes_device *edu, *smmu;
    uint8_t *ram;
    unsigned cmds;        /* commands queued so far (PROD with wrap) */
    unsigned pulses[4];   /* rising edges per output */
    int level[4];
} fixture;

static void irq_handler(void *opaque, int n, int level)
{
    fixture *f = opaque;

    if (level && !f->level[n]) {
        f->pulses[n]++;
    }
    f->level[n] = level;
}

static void up(fixture *f)
{
    const tes_smmuv3_iface *si;

    memset(f, 0, sizeof(*f));
    f->h = tes_harness_new(RAM);
    f->H = tes_harness_host(f->h);
    f->ram = tes_harness_ram(f->h);
    f->edu = iommu_test_edu(f->h, (const char *const[]){iommu_path, edu_path, NULL});
    f->smmu = tes_harness_device(f->h, "arm-smmuv3", NULL);
    g_assert_nonnull(f->smmu);
    f->H->region_add(f->H->system_memory(), SMMU, f->H->dev_mmio(f->smmu, 0), 0);
    for (int i = 0; i < 4; i++) {
        f->H->dev_connect_irq(f->smmu, i, f->H->irq_new(irq_handler, f, i));
    }
    si = f->H->iface_lookup(TES_SMMUV3_IFACE, TES_SMMUV3_IFACE_VERSION);
    g_assert_nonnull(si);
    g_assert_cmpint(si->attach(f->edu, f->H->dev_bus(f->edu)), <, 0); /* not an SMMU */
    g_assert_cmpint(si->attach(f->smmu, f->H->dev_bus(f->edu)), ==, 0);
}

static void down(fixture *f)
{
    tes_harness_free(f->h);
}

static uint64_t rd(fixture *f, unsigned off, unsigned size)
{
    return tes_harness_read(f->h, SMMU + off, size);
}

static void wr(fixture *f, unsigned off, uint64_t val, unsigned size)
{
    tes_harness_write(f->h, SMMU + off, val, size);
}

static void put64(fixture *f, uint64_t addr, uint64_t v)
{
    memcpy(f->ram + addr, &v, 8); /* the host is little-endian, as the guest */
}

static uint64_t get64(fixture *f, uint64_t addr)
{
    uint64_t v;

    memcpy(&v, f->ram + addr, 8);
    return v;
}


/* STE at addr: valid, config (4 bypass, 5 stage 1, 0 abort), CD pointer */
static void ste(fixture *f, uint64_t addr, unsigned config, uint64_t cd)
{
    memset(f->ram + addr, 0, 64);
    put64(f, addr, cd | (uint64_t)config << 1 | 1);
}

/* CD: valid, AArch64, R, A, ASET, ASID, TG0, T0SZ, IPS 48-bit, TTB0 */
static void cd(fixture *f, unsigned tg, unsigned t0sz, uint64_t ttb)
{
    memset(f->ram + CD, 0, 64);
    put64(f, CD, (uint64_t)ASID << 48 | 1ull << 47 | 1ull << 46 | 1ull << 45 | 1ull << 41 |
                 5ull << 32 | 1ull << 31 | (uint64_t)tg << 6 | t0sz);
    put64(f, CD + 8, ttb);
}

#define PTE_TABLE 3ull
#define PTE_PAGE (3ull | 1ull << 10)         /* valid, page, AF */
#define PTE_BLOCK (1ull | 1ull << 10)
#define PTE_RO (1ull << 7)

/* 4K granule, 48-bit: IOVA_A -> PAGE_A, IOVA_B -> PAGE_B (read-only),
 * IOVA_BIG -> BIG as a 2 MiB block. */
static void tables_4k(fixture *f)
{
    put64(f, L0 + 8 * 0, L1 | PTE_TABLE);
    put64(f, L1 + 8 * 1, L2 | PTE_TABLE);     /* IOVA bits 38:30 = 1 */
    put64(f, L2 + 8 * 0, L3 | PTE_TABLE);
    put64(f, L2 + 8 * 1, BIG | PTE_BLOCK);
    put64(f, L3 + 8 * 0, PAGE_A | PTE_PAGE);
    put64(f, L3 + 8 * 1, PAGE_B | PTE_PAGE | PTE_RO);
    cd(f, 0, 16, L0);
}

static void queues(fixture *f, unsigned cmd_log2, unsigned evt_log2)
{
    wr(f, CMDQ_BASE, CMDQ | cmd_log2, 8);
    wr(f, CMDQ_PROD, 0, 4);
    wr(f, CMDQ_CONS, 0, 4);
    wr(f, EVTQ_BASE, EVTQ | evt_log2, 8);
    wr(f, EVTQ_PROD, 0, 4);
    wr(f, EVTQ_CONS, 0, 4);
    wr(f, IRQ_CTRL, 5, 4); /* GERROR and EVTQ interrupts */
    g_assert_cmphex(rd(f, IRQ_CTRLACK, 4), ==, 5);
}

/* Linear table of 256 STEs, edu's translating through CD; queues on. */
static void enable(fixture *f, unsigned cmd_log2, unsigned evt_log2)
{
    ste(f, STRTAB + 64 * SID, 5, CD);
    wr(f, STRTAB_BASE, STRTAB, 8);
    wr(f, STRTAB_BASE_CFG, 8, 4);
    queues(f, cmd_log2, evt_log2);
    wr(f, CR0, SMMUEN | EVTQEN | CMDQEN, 4);
    g_assert_cmphex(rd(f, CR0ACK, 4), ==, SMMUEN | EVTQEN | CMDQEN);
}

/* Queue a command and ring PROD (index and wrap of a 2^log2 queue). */
static void cmd(fixture *f, unsigned log2, uint64_t d0, uint64_t d1)
{
    unsigned idx = f->cmds & ((1u << log2) - 1);

    put64(f, CMDQ + 16 * idx, d0);
    put64(f, CMDQ + 16 * idx + 8, d1);
    f->cmds = (f->cmds + 1) & ((2u << log2) - 1);
    wr(f, CMDQ_PROD, f->cmds, 4);
}

/* The event at index i: type, stream id, input address; RnW. */
static void check_event(fixture *f, unsigned i, unsigned type, uint64_t iova, bool write)
{
    uint64_t e0 = get64(f, EVTQ + 32 * i), e1 = get64(f, EVTQ + 32 * i + 8);

    g_assert_cmphex(e0 & 0xff, ==, type);
    g_assert_cmphex(e0 >> 32, ==, SID);
    if (type >= F_TRANSLATION) {
        g_assert_cmphex(get64(f, EVTQ + 32 * i + 16), ==, iova);
        g_assert_cmphex((e1 >> 35) & 1, ==, !write);
    }
}

static void test_registers(void)
{
    fixture f;
    uint32_t idr0, idr1;

    up(&f);
    idr0 = (uint32_t)rd(&f, IDR0, 4);
    idr1 = (uint32_t)rd(&f, IDR1, 4);
    g_assert_cmphex(idr0 & 3, ==, 2);            /* S1P, no S2P */
    g_assert_cmphex((idr0 >> 2) & 3, ==, 2);     /* TTF AArch64 */
    g_assert_cmphex((idr0 >> 27) & 3, ==, 1);    /* 2-level stream tables */
    g_assert_cmphex((idr0 >> 21) & 3, ==, 2);    /* little-endian tables */
    g_assert_cmphex(idr1 & 0x3f, ==, 16);        /* SIDSIZE */
    g_assert_cmphex((idr1 >> 6) & 0x1f, ==, 0);  /* SSIDSIZE */
    g_assert_cmpuint((idr1 >> 21) & 0x1f, >, 6); /* CMDQS: Linux needs > 64 entries */
    g_assert_cmphex(rd(&f, IDR5, 4) & 0x77, ==, 0x75); /* 4K/16K/64K, OAS 48 */
    wr(&f, GBPA, 1u << 31 | 1u << 20, 4);
    g_assert_cmphex(rd(&f, GBPA, 4), ==, 1u << 20); /* UPDATE done, ABORT */
    wr(&f, CR0, 0xff, 4);
    g_assert_cmphex(rd(&f, CR0ACK, 4), ==, 0x1d); /* no PRIQEN: no PRI */
    /* 8-byte and 4-byte halves of a 64-bit register; page 1 aliases */
    wr(&f, CR0, 0, 4);
    wr(&f, STRTAB_BASE, 0x123456789abcdefull, 8);
    g_assert_cmphex(rd(&f, STRTAB_BASE, 8), ==, 0x0003456789abcdc0ull); /* bits 51:6 */
    wr(&f, STRTAB_BASE + 4, 0x42, 4);
    g_assert_cmphex(rd(&f, STRTAB_BASE, 8), ==, 0x0000004289abcdc0ull);
    wr(&f, EVTQ_CONS, 3, 4);
    g_assert_cmphex(rd(&f, 0xac, 4), ==, 3);
    g_assert_cmphex(rd(&f, 0x10000 + CR0ACK, 4), ==, 0);
    down(&f);
}


static void test_translate_4k(void)
{
    fixture f;
    uint64_t len = 8192;
    uint8_t *p, buf[1];

    up(&f);
    tables_4k(&f);
    enable(&f, 3, 2);
    iommu_test_check_translation(f.H, f.edu, f.ram, IOVA_A, PAGE_A, PAGE_B);
    p = f.H->dma_map(f.edu, IOVA_A + 0x800, &len, true);
    g_assert_true(p == f.ram + PAGE_A + 0x800);
    g_assert_cmpuint(len, ==, 0x800);
    f.H->dma_unmap(f.edu, p, len, true);
    f.ram[BIG + 0x12345] = 0xa5; /* in the 2 MiB block */
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_BIG + 0x12345, buf, 1), ==, 0);
    g_assert_cmphex(buf[0], ==, 0xa5);
    g_assert_cmphex(rd(&f, EVTQ_PROD, 4), ==, 0); /* no event */
    down(&f);
}

#define T64_2 0x140000ull /* 64K tables: 64K-aligned */
#define T64_3 0x150000ull
#define PAGE64 0x300000ull
#define T16_0 0x160000ull  /* 16K tables */
#define T16_1 0x164000ull
#define T16_2 0x168000ull
#define T16_3 0x16c000ull

/* A 2-level stream table (SPLIT 8) and the 64K granule: 42-bit VA, two
 * levels (2: bits 41:29, 3: bits 28:16); then 16K, 48-bit: four levels
 * (0: bit 47, 1: 46:36, 2: 35:25, 3: 24:14). */
static void test_2level_64k_16k(void)
{
    fixture f;
    uint8_t buf[4];

    up(&f);
    put64(&f, STRTAB + 8 * (SID >> 8), L2STRTAB | 9); /* span 9: 256 STEs */
    ste(&f, L2STRTAB + 64 * (SID & 0xff), 5, CD);
    wr(&f, STRTAB_BASE, STRTAB, 8);
    wr(&f, STRTAB_BASE_CFG, 1u << 16 | 8u << 6 | 16, 4);
    queues(&f, 3, 2);
    wr(&f, CR0, SMMUEN | EVTQEN | CMDQEN, 4);
    /* 64K: IOVA 0x40010000: level 2 index 2, level 3 index 1 */
    cd(&f, 1, 64 - 42, T64_2);
    put64(&f, T64_2 + 8 * 2, T64_3 | PTE_TABLE);
    put64(&f, T64_3 + 8 * 1, PAGE64 | PTE_PAGE);
    iommu_test_fill(f.ram, PAGE64, 0x33);
    g_assert_cmpint(f.H->dma_read(f.edu, 0x40010004ull, buf, 1), ==, 0);
    g_assert_cmphex(buf[0], ==, 0x37);
    /* 16K, 47-bit: levels 0 (bit 46), 1 (45:36), 2 (35:25), 3 (24:14) */
    cd(&f, 2, 16, T16_0);
    cmd(&f, 3, 0x05 | (uint64_t)SID << 32, 1); /* CFGI_CD */
    put64(&f, T16_0 + 8 * 0, T16_1 | PTE_TABLE);
    put64(&f, T16_1 + 8 * 0, T16_2 | PTE_TABLE);
    put64(&f, T16_2 + 8 * 32, T16_3 | PTE_TABLE); /* 0x40000000 >> 25 = 32 */
    put64(&f, T16_3 + 8 * 1, PAGE_A | PTE_PAGE);  /* 0x40004000 */
    iommu_test_fill(f.ram, PAGE_A, 0x50);
    g_assert_cmpint(f.H->dma_read(f.edu, 0x40004008ull, buf, 1), ==, 0);
    g_assert_cmphex(buf[0], ==, 0x58);
    g_assert_cmphex(rd(&f, EVTQ_PROD, 4), ==, 0);
    /* a stream id past the L1 descriptor's span: C_BAD_STREAMID */
    put64(&f, STRTAB + 8 * (SID >> 8), L2STRTAB | 4); /* span 4: 8 STEs */
    cmd(&f, 3, 0x03 | (uint64_t)SID << 32, 1);   /* CFGI_STE */
    g_assert_cmpint(f.H->dma_read(f.edu, 0x40004008ull, buf, 1), <, 0);
    check_event(&f, 0, C_BAD_STREAMID, 0, false);
    down(&f);
}

/* A changed mapping stays as the IOTLB cached it until TLBI; a removed one
 * faults after TLBI_NH_ASID, whose CMD_SYNC completes by MSI write. */
static void test_invalidation(void)
{
    fixture f;
    uint8_t buf[4];

    up(&f);
    tables_4k(&f);
    enable(&f, 3, 2);
    iommu_test_fill(f.ram, PAGE_A, 0x10);
    iommu_test_fill(f.ram, PAGE_C, 0x60);
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A, buf, 1), ==, 0);
    g_assert_cmphex(buf[0], ==, 0x10);
    put64(&f, L3, PAGE_C | PTE_PAGE);
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A, buf, 1), ==, 0);
    g_assert_cmphex(buf[0], ==, 0x10); /* stale, as on hardware */
    cmd(&f, 3, 0x12 | (uint64_t)ASID << 48, (IOVA_A + 0x1000) | 1); /* other page */
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A, buf, 1), ==, 0);
    g_assert_cmphex(buf[0], ==, 0x10);
    cmd(&f, 3, 0x12 | (uint64_t)(ASID + 1) << 48, IOVA_A | 1);    /* other ASID */
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A, buf, 1), ==, 0);
    g_assert_cmphex(buf[0], ==, 0x10);
    cmd(&f, 3, 0x12 | (uint64_t)ASID << 48, IOVA_A | 1);          /* TLBI_NH_VA */
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A, buf, 1), ==, 0);
    g_assert_cmphex(buf[0], ==, 0x60);
    /* unmap, TLBI_NH_ASID, CMD_SYNC (CS=IRQ) with MSI write of 0xcafe */
    put64(&f, L3, 0);
    put64(&f, SYNC_WORD, 0);
    cmd(&f, 3, 0x11 | (uint64_t)ASID << 48, 0);
    cmd(&f, 3, 0x46 | 1u << 12 | 0xcafeull << 32, SYNC_WORD);
    g_assert_cmphex(get64(&f, SYNC_WORD), ==, 0xcafe);
    g_assert_cmphex(rd(&f, CMDQ_CONS, 4), ==, f.cmds);
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A, buf, 1), <, 0); /* gone */
    check_event(&f, 0, F_TRANSLATION, IOVA_A, false);
    /* range invalidation (RIL): TG 4K, NUM 1, SCALE 0: IOVA_B..+8 KiB
     * drops IOVA_B's entry, not IOVA_A's */
    g_assert_true(rd(&f, 0x0c, 4) & (1u << 10));
    put64(&f, L3, PAGE_A | PTE_PAGE);
    put64(&f, L3 + 8, PAGE_C | PTE_PAGE);
    cmd(&f, 3, 0x11 | (uint64_t)ASID << 48, 0);
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A, buf, 1), ==, 0);
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_B, buf, 1), ==, 0);
    g_assert_cmphex(buf[0], ==, 0x60);
    put64(&f, L3, PAGE_C | PTE_PAGE);
    put64(&f, L3 + 8, PAGE_A | PTE_PAGE);
    cmd(&f, 3, 0x12 | 1u << 12 | (uint64_t)ASID << 48, IOVA_B | 1u << 10 | 1);
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A, buf, 1), ==, 0);
    g_assert_cmphex(buf[0], ==, 0x10); /* outside the range: still cached */
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_B, buf, 1), ==, 0);
    g_assert_cmphex(buf[0], ==, 0x10); /* re-walked: now PAGE_A */
    put64(&f, L3, 0);
    cmd(&f, 3, 0x11 | (uint64_t)ASID << 48, 0);
    /* a 2 MiB block is dropped by a TLBI at any address inside it */
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_BIG + 0x5000, buf, 1), ==, 0);
    put64(&f, L2 + 8, 0);
    cmd(&f, 3, 0x12 | (uint64_t)ASID << 48, IOVA_BIG | 1);
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_BIG + 0x5000, buf, 1), <, 0);
    /* CFGI_ALL (CFGI_STE_RANGE 31) and TLBI_NSNH_ALL, CMD_SYNC CS=IRQ wired */
    put64(&f, L3, PAGE_A | PTE_PAGE);
    cmd(&f, 3, 0x04, 31);
    cmd(&f, 3, 0x30, 0);
    cmd(&f, 3, 0x46 | 1u << 12, 0);
    g_assert_cmpuint(f.pulses[2], ==, 1); /* cmdq-sync */
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A, buf, 1), ==, 0);
    g_assert_cmphex(rd(&f, GERROR, 4), ==, 0);
    down(&f);
}

/* Faults: the access touches no RAM, lands in the event queue with a
 * pulse on the eventq output. */
static void test_faults(void)
{
    fixture f;
    uint8_t w[16], buf[16], *before = g_malloc(RAM);

    up(&f);
    tables_4k(&f);
    enable(&f, 3, 3);
    memset(w, 0xee, sizeof(w));
    memcpy(before, f.ram, RAM);
    g_assert_cmpint(f.H->dma_write(f.edu, IOVA_UNMAPPED + 8, w, 16), <, 0);
    /* the event queue is RAM too: compare all but it */
    g_assert_cmpint(memcmp(before, f.ram, EVTQ), ==, 0);
    g_assert_cmpint(memcmp(before + EVTQ + 0x1000, f.ram + EVTQ + 0x1000,
                           RAM - EVTQ - 0x1000), ==, 0);
    check_event(&f, 0, F_TRANSLATION, IOVA_UNMAPPED + 8, true);
    g_assert_cmphex(rd(&f, EVTQ_PROD, 4), ==, 1);
    g_assert_cmpuint(f.pulses[0], ==, 1);
    /* a write to the read-only page: F_PERMISSION; reading it is fine */
    g_assert_cmpint(f.H->dma_write(f.edu, IOVA_B, w, 4), <, 0);
    g_assert_cmpint(memcmp(before + PAGE_B, f.ram + PAGE_B, 4096), ==, 0);
    check_event(&f, 1, F_PERMISSION, IOVA_B, true);
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_B, buf, 4), ==, 0);
    /* a read of an unmapped IOVA sees all ones */
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_UNMAPPED, buf, 16), <, 0);
    for (unsigned i = 0; i < 16; i++) {
        g_assert_cmphex(buf[i], ==, 0xff);
    }
    check_event(&f, 2, F_TRANSLATION, IOVA_UNMAPPED, false);
    g_assert_cmpuint(f.pulses[0], ==, 3);
    /* beyond the 48-bit input range */
    g_assert_cmpint(f.H->dma_read(f.edu, 1ull << 48, buf, 1), <, 0);
    check_event(&f, 3, F_TRANSLATION, 1ull << 48, false);
    /* MSI instead of the wire when EVENTQ_IRQ_CFG0 holds an address */
    wr(&f, EVTQ_IRQ_CFG0, SYNC_WORD, 8);
    wr(&f, EVTQ_IRQ_CFG1, 0x77, 4);
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_UNMAPPED, buf, 1), <, 0);
    g_assert_cmphex(get64(&f, SYNC_WORD), ==, 0x77);
    g_assert_cmpuint(f.pulses[0], ==, 4);
    g_free(before);
    down(&f);
}

/* Bad configurations: C_BAD_STE (V clear, stage 2), C_BAD_CD, stream id
 * beyond the table; abort STEs terminate without an event. */
static void test_bad_config(void)
{
    fixture f;
    uint8_t buf[4];

    up(&f);
    tables_4k(&f);
    enable(&f, 3, 3);
    put64(&f, STRTAB + 64 * SID, 0); /* V = 0 */
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A, buf, 1), <, 0);
    check_event(&f, 0, C_BAD_STE, 0, false);
    ste(&f, STRTAB + 64 * SID, 6, CD); /* stage 2: not implemented */
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A, buf, 1), <, 0);
    check_event(&f, 1, C_BAD_STE, 0, false);
    ste(&f, STRTAB + 64 * SID, 5, CD);
    put64(&f, CD, get64(&f, CD) | 3ull << 6); /* TG0 reserved */
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A, buf, 1), <, 0);
    check_event(&f, 2, C_BAD_CD, 0, false);
    ste(&f, STRTAB + 64 * SID, 0, 0); /* abort: no event */
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A, buf, 1), <, 0);
    g_assert_cmphex(rd(&f, EVTQ_PROD, 4), ==, 3);
    ste(&f, STRTAB + 64 * SID, 4, 0); /* bypass, once invalidated */
    g_assert_cmpint(f.H->dma_read(f.edu, 0x3000, buf, 1), <, 0); /* abort is cached */
    cmd(&f, 3, 0x03 | (uint64_t)SID << 32, 1);
    f.ram[0x3000] = 0x77;
    g_assert_cmpint(f.H->dma_read(f.edu, 0x3000, buf, 1), ==, 0);
    g_assert_cmphex(buf[0], ==, 0x77);
    wr(&f, STRTAB_BASE_CFG, 4, 4); /* 16 stream ids: edu's 0x18 is beyond */
    cmd(&f, 3, 0x04, 31); /* CFGI_ALL */
    g_assert_cmpint(f.H->dma_read(f.edu, 0x3000, buf, 1), <, 0);
    check_event(&f, 3, C_BAD_STREAMID, 0, false);
    g_assert_cmpuint(f.pulses[0], ==, 4);
    down(&f);
}

/* SMMUEN clear: GBPA decides, no event either way. */
static void test_disabled_bypass_abort(void)
{
    fixture f;
    uint8_t buf[1];

    up(&f);
    f.ram[0x5000] = 0x42;
    g_assert_cmpint(f.H->dma_read(f.edu, 0x5000, buf, 1), ==, 0);
    g_assert_cmphex(buf[0], ==, 0x42);
    wr(&f, GBPA, 1u << 31 | 1u << 20, 4);
    g_assert_cmpint(f.H->dma_read(f.edu, 0x5000, buf, 1), <, 0);
    down(&f);
}

/* Command errors stop the queue with CONS on the bad command and GERROR
 * CMDQ_ERR (a pulse on gerror) until GERRORN acknowledges it. The queue
 * of 8 wraps twice on the way. */
static void test_cmd_error_and_wrap(void)
{
    fixture f;

    up(&f);
    tables_4k(&f);
    enable(&f, 3, 2);
    for (unsigned i = 0; i < 20; i++) {
        cmd(&f, 3, 0x46, 0); /* CMD_SYNC, no completion signal */
    }
    g_assert_cmphex(rd(&f, CMDQ_CONS, 4), ==, f.cmds);
    g_assert_cmphex(f.cmds, ==, 20 & 15); /* index 4, wrap bit 0 after 2 wraps */
    put64(&f, SYNC_WORD, 0);
    cmd(&f, 3, 0x7f, 0); /* no such command */
    cmd(&f, 3, 0x46 | 1u << 12 | 1ull << 32, SYNC_WORD);
    g_assert_cmphex(rd(&f, CMDQ_CONS, 4), ==, 1u << 24 | ((f.cmds - 2) & 15)); /* ILL */
    g_assert_cmphex(rd(&f, GERROR, 4), ==, 1);
    g_assert_cmpuint(f.pulses[3], ==, 1);
    g_assert_cmphex(get64(&f, SYNC_WORD), ==, 0); /* held back */
    /* software fixes the command (Linux: a CMD_SYNC) and acknowledges */
    put64(&f, CMDQ + 16 * ((f.cmds - 2) & 7), 0x46);
    wr(&f, GERRORN, 1, 4);
    g_assert_cmphex(rd(&f, CMDQ_CONS, 4), ==, f.cmds);
    g_assert_cmphex(get64(&f, SYNC_WORD), ==, 1);
    /* the queue cannot move while enabled; CONS stays */
    wr(&f, CMDQ_CONS, 0, 4);
    g_assert_cmphex(rd(&f, CMDQ_CONS, 4), ==, f.cmds);
    down(&f);
}

/* The event queue of 4: full after 4 faults, then an overflow flag (once),
 * and room again once software consumes. */
static void test_event_queue_wrap(void)
{
    fixture f;
    uint8_t buf[1];

    up(&f);
    tables_4k(&f);
    enable(&f, 3, 2);
    for (unsigned i = 0; i < 6; i++) {
        g_assert_cmpint(f.H->dma_read(f.edu, IOVA_UNMAPPED + i, buf, 1), <, 0);
    }
    g_assert_cmphex(rd(&f, EVTQ_PROD, 4), ==, 1u << 31 | 4); /* full, overflowed */
    g_assert_cmpuint(f.pulses[0], ==, 5);
    check_event(&f, 3, F_TRANSLATION, IOVA_UNMAPPED + 3, false);
    /* consume 3, acknowledge the overflow */
    wr(&f, EVTQ_CONS, 1u << 31 | 3, 4);
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_UNMAPPED + 9, buf, 1), <, 0);
    g_assert_cmphex(rd(&f, EVTQ_PROD, 4), ==, 1u << 31 | 5); /* index 1, wrapped */
    check_event(&f, 0, F_TRANSLATION, IOVA_UNMAPPED + 9, false);
    down(&f);
}

/* MSIs are DMA writes: translated (Linux maps the GIC's doorbell at an
 * IOVA), also from a device whose DMA bypasses the IOMMU (virtio without
 * ACCESS_PLATFORM), whose data accesses stay untranslated. */
static void test_msi_through_iova(void)
{
    fixture f;
    uint64_t addr;
    uint32_t data;
    uint8_t buf[1];

    up(&f);
    tables_4k(&f);
    put64(&f, L3 + 8 * 3, TES_HARNESS_MSI_BASE | PTE_PAGE); /* IOVA_A + 0x3000 */
    enable(&f, 3, 2);
    f.H->msi_send(f.edu, IOVA_A + 0x3004, 0x99);
    g_assert_true(tes_harness_msi_pop(f.h, &addr, &data));
    g_assert_cmphex(addr, ==, TES_HARNESS_MSI_BASE + 4);
    g_assert_cmphex(data, ==, 0x99);
    f.H->dma_set_bypass(f.edu, true);
    f.ram[IOVA_A & 0xffffff] = 0x5a; /* 0x000000: what a bypassed read sees */
    f.ram[PAGE_A] = 0xa5;
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A & 0xffffff, buf, 1), ==, 0);
    g_assert_cmphex(buf[0], ==, 0x5a);
    f.H->msi_send(f.edu, IOVA_A + 0x3008, 0x98);
    g_assert_true(tes_harness_msi_pop(f.h, &addr, &data));
    g_assert_cmphex(addr, ==, TES_HARNESS_MSI_BASE + 8);
    /* an MSI to an unmapped IOVA is dropped and recorded */
    f.H->msi_send(f.edu, IOVA_UNMAPPED, 0x97);
    g_assert_cmpuint(tes_harness_msi_count(f.h), ==, 0);
    check_event(&f, 0, F_TRANSLATION, IOVA_UNMAPPED, true);
    down(&f);
}

static void test_migrate(void)
{
    fixture f;
    size_t bytes;
    uint8_t buf[4];

    up(&f);
    tables_4k(&f);
    enable(&f, 3, 2);
    iommu_test_fill(f.ram, PAGE_A, 0x33);
    f.smmu = tes_harness_migrate(f.h, f.smmu, &bytes);
    g_assert_nonnull(f.smmu);
    g_assert_cmpuint(bytes, >=, 0xe0);
    /* the board's part again: map it and hand it the bus */
    f.H->region_add(f.H->system_memory(), SMMU, f.H->dev_mmio(f.smmu, 0), 0);
    g_assert_cmpint(((const tes_smmuv3_iface *)f.H->iface_lookup(
                        TES_SMMUV3_IFACE, TES_SMMUV3_IFACE_VERSION))->attach(
                        f.smmu, f.H->dev_bus(f.edu)), ==, 0);
    g_assert_cmphex(rd(&f, CR0ACK, 4), ==, SMMUEN | EVTQEN | CMDQEN);
    g_assert_cmphex(rd(&f, IDR1, 4) & 0x3f, ==, 16);
    g_assert_cmpint(f.H->dma_read(f.edu, IOVA_A, buf, 1), ==, 0);
    g_assert_cmphex(buf[0], ==, 0x33);
    down(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    iommu_path = getenv("IOMMU_PLUGIN");
    edu_path = getenv("EDU_PLUGIN");
    if (!iommu_path || !edu_path) {
        g_printerr("set IOMMU_PLUGIN and EDU_PLUGIN\n");
        return 1;
    }
    g_test_add_func("/smmuv3/registers/idr-cr0ack-gbpa-page1", test_registers);
    g_test_add_func("/smmuv3/translate/4k-read-write-map-block", test_translate_4k);
    g_test_add_func("/smmuv3/translate/2-level-strtab-64k-16k", test_2level_64k_16k);
    g_test_add_func("/smmuv3/invalidate/stale-until-tlbi-then-fault", test_invalidation);
    g_test_add_func("/smmuv3/fault/unmapped-and-read-only-touch-no-ram", test_faults);
    g_test_add_func("/smmuv3/fault/bad-ste-cd-streamid-abort-bypass", test_bad_config);
    g_test_add_func("/smmuv3/config/disabled-gbpa-bypass-abort", test_disabled_bypass_abort);
    g_test_add_func("/smmuv3/cmdq/error-ack-resume-and-wrap", test_cmd_error_and_wrap);
    g_test_add_func("/smmuv3/evtq/overflow-and-wrap", test_event_queue_wrap);
    g_test_add_func("/smmuv3/msi/translated-also-when-dma-bypasses", test_msi_through_iova);
    g_test_add_func("/smmuv3/migrate/keeps-translation", test_migrate);
    return g_test_run();
}
