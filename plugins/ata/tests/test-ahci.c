/*
 * ich9-ahci through the harness: ABAR registers, IDENTIFY, DMA and NCQ
 * reaching the image, ATAPI READ(10), COMRESET, hostile command lists and
 * PRDTs, migration. Disk d0 on port 0 (ide.0), CD d1 on port 2 (ide.2).
 */
#include "test-ata.h"

#define DATA 0x400000ull

static void ahci_up(afix *f)
{
    static const char *const devs[] = {"ide-hd", "drive=d0,bus=ide.0", "ide-cd",
                                       "drive=d1,bus=ide.2", NULL};

    ata_up(f, "ich9-ahci", devs);
    g_assert_cmphex(tes_harness_bar_map(f->a.h, f->a.ctrl, 5, AD_ABAR), ==, AD_ABAR);
    ad_wr(&f->a, 0x04, 0x80000002u); /* AE, IE */
    ad_port_start(&f->a, 0);
    ad_port_start(&f->a, 2);
}

static void test_ahci_regs(void)
{
    afix f;

    ahci_up(&f);
    g_assert_cmphex(tes_harness_cfg_read(f.a.h, f.a.ctrl, 0, 4), ==, 0x29228086);
    g_assert_cmphex(tes_harness_cfg_read(f.a.h, f.a.ctrl, 0x08, 4) >> 8, ==, 0x010601);
    g_assert_cmphex(ad_rd(&f.a, 0x00) & 0x1f, ==, 5);          /* 6 ports */
    g_assert_cmphex((ad_rd(&f.a, 0x00) >> 8) & 0x1f, ==, 31);  /* 32 slots */
    g_assert_cmphex(ad_rd(&f.a, 0x00) & 0xc0000000u, ==, 0xc0000000u); /* S64A, SNCQ */
    g_assert_cmphex(ad_rd(&f.a, 0x0c), ==, 0x3f);
    g_assert_cmphex(ad_rd(&f.a, ad_port(0, 0x28)), ==, 0x113);
    g_assert_cmphex(ad_rd(&f.a, ad_port(1, 0x28)), ==, 0);
    g_assert_cmphex(ad_rd(&f.a, ad_port(0, 0x24)), ==, 0x101);
    g_assert_cmphex(ad_rd(&f.a, ad_port(2, 0x24)), ==, 0xeb140101u);
    g_assert_cmphex(ad_rd(&f.a, ad_port(0, 0x18)) & 0xc011, ==, 0xc011); /* CR FR FRE ST */
    /* Buses ide.0..ide.5: a drive on the last port, none on a seventh. */
    g_assert_nonnull(tes_harness_device(f.a.h, "ide-cd", "bus=ide.5"));
    g_assert_null(tes_harness_device(f.a.h, "ide-cd", "bus=ide.6"));
    g_assert_null(tes_harness_device(f.a.h, "ide-cd", "bus=ide.0"));
    ata_down(&f);
}

static void test_ahci_identify(void)
{
    afix f;
    uint16_t id[256];

    ahci_up(&f);
    ad_cmd(&f.a, 0, 0, 0xec, 0, 0, 0, NULL, 1, false);
    ad_prdt(&f.a, 0, 0, 0, DATA, 512);
    g_assert_cmphex(ad_run(&f.a, 0, 1, false) & 0xff, ==, 0x50);
    memcpy(id, f.a.ram + DATA, 512);
    g_assert_cmphex(id[76] & 0x100, ==, 0x100); /* NCQ */
    g_assert_cmpuint(id[75], ==, 31);
    g_assert_cmpuint(id[100] | (uint32_t)id[101] << 16, ==, IMG_SIZE / 512);
    g_assert_cmpuint(ad_prdbc(&f.a, 0, 0), ==, 512);
    /* PIO Setup FIS with E_Status, then the D2H FIS; interrupt via INTx. */
    g_assert_cmphex(f.a.ram[AD_FB + 0x20], ==, 0x5f);
    g_assert_cmphex(f.a.ram[AD_FB + 0x20 + 15], ==, 0x50);
    g_assert_cmphex(f.a.ram[AD_FB + 0x40], ==, 0x34);
    g_assert_cmphex(ad_rd(&f.a, ad_port(0, 0x10)) & 1, ==, 1);
    g_assert_cmpint(tes_harness_intx_level(f.a.h, f.a.ctrl), ==, 1);
    g_assert_cmphex(ad_rd(&f.a, 0x08), ==, 1);
    ad_wr(&f.a, ad_port(0, 0x10), 0xffffffffu);
    ad_wr(&f.a, 0x08, 1);
    g_assert_cmpint(tes_harness_intx_level(f.a.h, f.a.ctrl), ==, 0);
    ata_down(&f);
}

static void test_ahci_dma(void)
{
    afix f;
    uint8_t img[8192];

    ahci_up(&f);
    /* READ DMA EXT of 24 sectors over three PRDT entries. */
    ad_cmd(&f.a, 0, 3, 0x25, 0, 2000, 24, NULL, 3, false);
    for (unsigned i = 0; i < 3; i++) {
        ad_prdt(&f.a, 0, 3, i, DATA + 0x10000 * i, 4096);
    }
    g_assert_cmphex(ad_run(&f.a, 0, 1u << 3, false) & 0xff, ==, 0x50);
    for (unsigned i = 0; i < 3 * 4096; i++) {
        g_assert_cmphex(f.a.ram[DATA + 0x10000 * (i / 4096) + i % 4096], ==,
                        ata_pattern(2000 * 512 + i));
    }
    g_assert_cmpuint(ad_prdbc(&f.a, 0, 3), ==, 3 * 4096);
    /* WRITE DMA EXT of 16 sectors reaches the image. */
    memset(f.a.ram + DATA, 0x77, 8192);
    ad_cmd(&f.a, 0, 0, 0x35, 0, 64, 16, NULL, 1, true);
    ad_prdt(&f.a, 0, 0, 0, DATA, 8192);
    g_assert_cmphex(ad_run(&f.a, 0, 1, false) & 0xff, ==, 0x50);
    ata_read_image(f.img[0], 64 * 512, img, 8192);
    for (int i = 0; i < 8192; i++) {
        g_assert_cmphex(img[i], ==, 0x77);
    }
    ata_down(&f);
}

/* Eight FPDMA commands in flight at once; MSI signals completions. */
static void test_ahci_ncq(void)
{
    afix f;
    uint8_t img[4096];
    uint64_t addr;
    uint32_t data;

    ahci_up(&f);
    g_assert_true(tes_harness_msi_enable(f.a.h, f.a.ctrl));
    for (unsigned s = 0; s < 8; s++) {
        bool wr = s & 1;
        /* FPDMA: count in FEATURES, tag in COUNT bits 7:3 */
        ad_cmd(&f.a, 0, s, wr ? 0x61 : 0x60, 8, 300 + 8 * s, s << 3, NULL, 1, wr);
        ad_prdt(&f.a, 0, s, 0, DATA + 0x1000 * s, 4096);
        if (wr) {
            memset(f.a.ram + DATA + 0x1000 * s, 0xc0 | s, 4096);
        }
    }
    g_assert_cmphex(ad_run(&f.a, 0, 0xff, true) & 0x01, ==, 0);
    g_assert_cmphex(ad_rd(&f.a, ad_port(0, 0x34)), ==, 0);
    g_assert_cmphex(ad_rd(&f.a, ad_port(0, 0x10)) & 0x8, ==, 0x8); /* SDBS */
    g_assert_cmpuint(tes_harness_msi_count(f.a.h), >=, 1);
    g_assert_true(tes_harness_msi_pop(f.a.h, &addr, &data));
    g_assert_cmphex(addr, ==, TES_HARNESS_MSI_BASE);
    for (unsigned s = 0; s < 8; s++) {
        if (s & 1) {
            ata_read_image(f.img[0], (300 + 8 * s) * 512ull, img, 4096);
            g_assert_cmphex(img[0], ==, 0xc0 | s);
            g_assert_cmphex(img[4095], ==, 0xc0 | s);
        } else {
            g_assert_cmphex(f.a.ram[DATA + 0x1000 * s + 9], ==,
                            ata_pattern((300 + 8 * s) * 512ull + 9));
        }
    }
    ata_down(&f);
}

static void test_ahci_atapi(void)
{
    afix f;
    uint8_t tur[12] = {0}, rd[12] = {0x28, 0, 0, 0, 0, 9, 0, 0, 2};

    ahci_up(&f);
    ad_cmd(&f.a, 2, 0, 0xa0, 0, 0, 0, tur, 0, false);
    g_assert_cmphex(ad_run(&f.a, 2, 1, false) & 0xf001, ==, 0x6001); /* UNIT ATTENTION */
    g_assert_cmphex(ad_rd(&f.a, ad_port(2, 0x10)) & 0x40000000u, ==, 0x40000000u); /* TFES */
    ad_wr(&f.a, ad_port(2, 0x10), 0xffffffffu);
    ad_cmd(&f.a, 2, 1, 0xa0, 1, 0, 0, rd, 2, false);
    ad_prdt(&f.a, 2, 1, 0, DATA, 2048);
    ad_prdt(&f.a, 2, 1, 1, DATA + 0x8000, 2048);
    g_assert_cmphex(ad_run(&f.a, 2, 2, false) & 0xff, ==, 0x50);
    for (unsigned i = 0; i < 4096; i++) {
        g_assert_cmphex(f.a.ram[DATA + (i < 2048 ? i : 0x8000 + i - 2048)], ==,
                        ata_pattern(9 * 2048 + i));
    }
    g_assert_cmpuint(ad_prdbc(&f.a, 2, 1), ==, 4096);
    ata_down(&f);
}

/* One ATAPI command with a reply of up to len bytes at DATA on port 2. */
static uint32_t atapi_reply(afix *f, const uint8_t *cdb, uint32_t len)
{
    memset(f->a.ram + DATA, 0xee, 256);
    ad_cmd(&f->a, 2, 4, 0xa0, 0, 0, 0, cdb, 1, false);
    ad_prdt(&f->a, 2, 4, 0, DATA, len);
    return ad_run(&f->a, 2, 1u << 4, false);
}

/* What Linux's sr and cdrom read at probe and mount time. */
static void test_ahci_atapi_probe(void)
{
    afix f;
    uint8_t toc[12] = {0x43, 2, 0, 0, 0, 0, 0, 0, 32};
    uint8_t gesn[12] = {0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8};
    uint8_t conf[12] = {0x46, 0, 0, 0, 0, 0, 0, 0, 64};
    uint8_t ms[12] = {0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 64};
    uint8_t inq[12] = {0x12, 0, 0, 0, 36}, *r;

    ahci_up(&f);
    r = f.a.ram + DATA;
    /* GET EVENT STATUS NOTIFICATION: new media once, then no change. */
    g_assert_cmphex(atapi_reply(&f, gesn, 8) & 0xff, ==, 0x50);
    g_assert_cmphex(r[2], ==, 0x04);
    g_assert_cmphex(r[4], ==, 2);
    g_assert_cmphex(r[5], ==, 2);
    g_assert_cmphex(atapi_reply(&f, gesn, 8) & 0xff, ==, 0x50);
    g_assert_cmphex(r[4], ==, 0);
    /* READ TOC, MSF: the data track at 00:02:00, lead-out at the end
     * (after the unit attention the first medium access reports). */
    g_assert_cmphex(atapi_reply(&f, toc, 32) & 0xf001, ==, 0x6001);
    ad_wr(&f.a, ad_port(2, 0x10), 0xffffffffu);
    g_assert_cmphex(atapi_reply(&f, toc, 32) & 0xff, ==, 0x50);
    g_assert_cmpuint(r[1], ==, 18);
    g_assert_cmphex(r[4 + 2], ==, 1);
    g_assert_cmphex(r[4 + 6], ==, 2); /* seconds */
    g_assert_cmphex(r[12 + 2], ==, 0xaa);
    g_assert_cmpuint((r[12 + 5] * 60u + r[12 + 6]) * 75u + r[12 + 7], ==,
                     CD_IMG_SIZE / 2048 + 150);
    /* GET CONFIGURATION: current profile CD-ROM, profile list first. */
    g_assert_cmphex(atapi_reply(&f, conf, 64) & 0xff, ==, 0x50);
    g_assert_cmphex(r[6] << 8 | r[7], ==, 0x0008);
    g_assert_cmphex(r[8] << 8 | r[9], ==, 0x0000);
    /* MODE SENSE(10) page 2Ah; INQUIRY with QEMU's strings. */
    g_assert_cmphex(atapi_reply(&f, ms, 64) & 0xff, ==, 0x50);
    g_assert_cmphex(r[8], ==, 0x2a);
    g_assert_cmphex(atapi_reply(&f, inq, 36) & 0xff, ==, 0x50);
    g_assert_cmpmem(r + 8, 16, "QEMU    QEMU DVD", 16);
    ata_down(&f);
}

static void test_ahci_comreset(void)
{
    afix f;

    ahci_up(&f);
    memset(f.a.ram + AD_FB, 0, 0x100);
    ad_wr(&f.a, ad_port(0, 0x2c), 1);
    g_assert_cmphex(ad_rd(&f.a, ad_port(0, 0x28)) & 0xf, ==, 0);
    ad_wr(&f.a, ad_port(0, 0x2c), 0);
    g_assert_cmphex(ad_rd(&f.a, ad_port(0, 0x28)), ==, 0x113);
    g_assert_cmphex(ad_rd(&f.a, ad_port(0, 0x20)) & 0xff, ==, 0x50);
    g_assert_cmphex(f.a.ram[AD_FB + 0x40], ==, 0x34);
    g_assert_cmphex(f.a.ram[AD_FB + 0x40 + 12], ==, 1); /* signature: count 1 */
    ata_down(&f);
}

/* Bad commands and hostile lists end with TFES and an ABRT, and the port
 * works afterwards. */
static void test_ahci_errors(void)
{
    afix f;

    ahci_up(&f);
    ad_cmd(&f.a, 0, 0, 0xff, 0, 0, 0, NULL, 0, false); /* unknown command */
    g_assert_cmphex(ad_run(&f.a, 0, 1, false), ==, 0x0441);
    g_assert_cmphex(ad_rd(&f.a, ad_port(0, 0x38)), ==, 0);
    ad_cmd(&f.a, 0, 0, 0x25, 0, 0, 8, NULL, 0, false); /* no PRDT for the data */
    g_assert_cmphex(ad_run(&f.a, 0, 1, false) & 0x401, ==, 0x401);
    ad_cmd(&f.a, 0, 0, 0x25, 0, 0, 8, NULL, 1, false); /* data outside RAM */
    ad_prdt(&f.a, 0, 0, 0, 0xfff00000ull, 4096);
    g_assert_cmphex(ad_run(&f.a, 0, 1, false) & 0x401, ==, 0x401);
    /* 65535 entries of 2 bytes for a 32 MiB read: too short, bounded. */
    ad_cmd(&f.a, 0, 1, 0x25, 0, 0, 0, NULL, 0xffff, false);
    for (unsigned i = 0; i < 0xffff; i++) {
        ad_prdt(&f.a, 0, 1, i, DATA, 2);
    }
    g_assert_cmphex(ad_run(&f.a, 0, 2, false) & 0x401, ==, 0x401);
    ad_cmd(&f.a, 0, 0, 0x60, 8, 1ull << 40, 0, NULL, 1, false); /* NCQ past the end */
    g_assert_cmphex(ad_run(&f.a, 0, 1, true) & 0x401, ==, 0x401);
    /* A command list outside RAM. */
    ad_wr(&f.a, ad_port(0, 0x18), 0x10);
    ad_wr(&f.a, ad_port(0, 0x00), 0xfffff000u);
    ad_wr(&f.a, ad_port(0, 0x18), 0x11);
    g_assert_cmphex(ad_run(&f.a, 0, 1, false) & 0x1, ==, 0x1);
    /* Restart the port: it works. */
    ad_port_start(&f.a, 0);
    ad_cmd(&f.a, 0, 0, 0x25, 0, 5, 1, NULL, 1, false);
    ad_prdt(&f.a, 0, 0, 0, DATA, 512);
    g_assert_cmphex(ad_run(&f.a, 0, 1, false) & 0xff, ==, 0x50);
    g_assert_cmphex(f.a.ram[DATA + 1], ==, ata_pattern(5 * 512 + 1));
    ata_down(&f);
}

/* DATA SET MANAGEMENT TRIM: the range reads back as zeroes; a range
 * past the end aborts and discards nothing. */
static void test_ahci_trim(void)
{
    afix f;
    uint64_t ranges[2] = {100 | 8ull << 48, (IMG_SIZE / 512 - 1) | 2ull << 48};
    uint16_t id[256];

    ahci_up(&f);
    ad_cmd(&f.a, 0, 0, 0xec, 0, 0, 0, NULL, 1, false);
    ad_prdt(&f.a, 0, 0, 0, DATA, 512);
    ad_run(&f.a, 0, 1, false);
    memcpy(id, f.a.ram + DATA, 512);
    g_assert_cmphex(id[169] & 1, ==, 1);
    memset(f.a.ram + DATA, 0, 512);
    memcpy(f.a.ram + DATA, &ranges[1], 8);
    ad_cmd(&f.a, 0, 0, 0x06, 1, 0, 1, NULL, 1, true);
    ad_prdt(&f.a, 0, 0, 0, DATA, 512);
    g_assert_cmphex(ad_run(&f.a, 0, 1, false) & 0x401, ==, 0x401);
    ad_wr(&f.a, ad_port(0, 0x10), 0xffffffffu);
    memset(f.a.ram + DATA, 0, 512);
    memcpy(f.a.ram + DATA, &ranges[0], 8);
    ad_cmd(&f.a, 0, 0, 0x06, 1, 0, 1, NULL, 1, true);
    ad_prdt(&f.a, 0, 0, 0, DATA, 512);
    g_assert_cmphex(ad_run(&f.a, 0, 1, false) & 0xff, ==, 0x50);
    memset(f.a.ram + DATA, 0xee, 8192);
    ad_cmd(&f.a, 0, 0, 0x25, 0, 99, 10, NULL, 1, false);
    ad_prdt(&f.a, 0, 0, 0, DATA, 5120);
    g_assert_cmphex(ad_run(&f.a, 0, 1, false) & 0xff, ==, 0x50);
    g_assert_cmphex(f.a.ram[DATA + 511], ==, ata_pattern(99 * 512 + 511));
    for (unsigned i = 512; i < 9 * 512; i++) {
        g_assert_cmphex(f.a.ram[DATA + i], ==, 0);
    }
    g_assert_cmphex(f.a.ram[DATA + 9 * 512], ==, ata_pattern(108 * 512));
    ata_down(&f);
}

static void test_ahci_migrate(void)
{
    afix f;
    size_t len = 0;
    void *st;

    ahci_up(&f);
    st = tes_harness_state_save(f.a.h, f.a.ctrl, &len);
    g_assert_nonnull(st);
    ad_wr(&f.a, ad_port(0, 0x18), 0);
    ad_wr(&f.a, ad_port(0, 0x00), 0x5000);
    if (tes_harness_state_load(f.a.h, f.a.ctrl, st, len) != 0) {
        g_error("%s", tes_harness_error(f.a.h));
    }
    g_assert_cmphex(ad_rd(&f.a, ad_port(0, 0x00)), ==, (uint32_t)AD_CLB);
    g_assert_cmphex(ad_rd(&f.a, ad_port(0, 0x18)) & 1, ==, 1);
    free(st);
    /* The disk itself round-trips and keeps working. */
    f.dev[0] = tes_harness_migrate(f.a.h, f.dev[0], NULL);
    g_assert_nonnull(f.dev[0]);
    ad_cmd(&f.a, 0, 0, 0x25, 0, 6, 1, NULL, 1, false);
    ad_prdt(&f.a, 0, 0, 0, DATA, 512);
    g_assert_cmphex(ad_run(&f.a, 0, 1, false) & 0xff, ==, 0x50);
    g_assert_cmphex(f.a.ram[DATA + 2], ==, ata_pattern(6 * 512 + 2));
    ata_down(&f);
}

void ahci_tests_register(void)
{
    g_test_add_func("/ata/ahci/registers-ports-signatures", test_ahci_regs);
    g_test_add_func("/ata/ahci/identify-through-prdt", test_ahci_identify);
    g_test_add_func("/ata/ahci/dma-read-write-reach-the-image", test_ahci_dma);
    g_test_add_func("/ata/ahci/ncq-eight-in-flight-msi", test_ahci_ncq);
    g_test_add_func("/ata/ahci/atapi-read10", test_ahci_atapi);
    g_test_add_func("/ata/ahci/atapi-toc-gesn-config-mode-inquiry", test_ahci_atapi_probe);
    g_test_add_func("/ata/ahci/comreset-posts-signature", test_ahci_comreset);
    g_test_add_func("/ata/ahci/errors-and-hostile-lists-abort", test_ahci_errors);
    g_test_add_func("/ata/ahci/trim-zeroes-the-range", test_ahci_trim);
    g_test_add_func("/ata/ahci/migrate", test_ahci_migrate);
}
