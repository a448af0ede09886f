/*
 * ata plugin tests through the harness: piix3-ide with ide-hd and ide-cd
 * (this file) and ich9-ahci (test-ahci.c). I/O reaches real raw images
 * through the core's asynchronous block layer. The plugin comes from
 * $ATA_PLUGIN (meson sets it) or the first argument.
 */
#include "test-ata.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <unistd.h>

const char *ata_plugin_path;

uint8_t ata_pattern(uint64_t i)
{
    return (uint8_t)(i * 7 + i / 512 + 1);
}

char *ata_make_image(uint64_t size)
{
    g_autofree uint8_t *buf = g_malloc(size);
    char *path = NULL;
    int fd = g_file_open_tmp("ata-test-XXXXXX.img", &path, NULL);

    g_assert_cmpint(fd, >=, 0);
    for (uint64_t i = 0; i < size; i++) {
        buf[i] = ata_pattern(i);
    }
    g_assert_cmpint(write(fd, buf, size), ==, (ssize_t)size);
    close(fd);
    return path;
}

void ata_read_image(const char *path, uint64_t off, void *buf, size_t len)
{
    FILE *fp = fopen(path, "rb");

    g_assert_nonnull(fp);
    g_assert_cmpint(fseek(fp, (long)off, SEEK_SET), ==, 0);
    g_assert_cmpuint(fread(buf, 1, len, fp), ==, len);
    fclose(fp);
}

void ata_up(afix *f, const char *ctrl, const char *const *devs)
{
    memset(f, 0, sizeof(*f));
    f->a.h = tes_harness_new(RAM_SIZE);
    g_assert_true(tes_harness_load(f->a.h, ata_plugin_path));
    f->a.ram = tes_harness_ram(f->a.h);
    f->a.ram_size = RAM_SIZE;
    for (int i = 0; i < 2; i++) {
        g_autofree char *opt = NULL;
        f->img[i] = ata_make_image(i ? CD_IMG_SIZE : IMG_SIZE);
        opt = g_strdup_printf("file=%s,if=none,id=d%d,format=raw", f->img[i], i);
        g_assert_true(tes_harness_drive(f->a.h, opt));
    }
    f->a.ctrl = tes_harness_device(f->a.h, ctrl, NULL);
    if (!f->a.ctrl) {
        g_error("%s: %s", ctrl, tes_harness_error(f->a.h));
    }
    for (int i = 0; devs && devs[i]; i += 2) {
        f->dev[i / 2] = tes_harness_device(f->a.h, devs[i], devs[i + 1]);
        if (!f->dev[i / 2]) {
            g_error("%s,%s: %s", devs[i], devs[i + 1], tes_harness_error(f->a.h));
        }
    }
}

void ata_down(afix *f)
{
    tes_harness_free(f->a.h);
    for (int i = 0; i < 2; i++) {
        g_unlink(f->img[i]);
        g_free(f->img[i]);
    }
}

/* ---- piix3-ide ---- */

/* hd d0 on ide.0 unit 0, cd d1 on ide.1 unit 0. */
static void piix_up(afix *f)
{
    static const char *const devs[] = {"ide-hd", "drive=d0,bus=ide.0,serial=SN1234",
                                       "ide-cd", "drive=d1,bus=ide.1,unit=0", NULL};

    ata_up(f, "piix3-ide", devs);
    g_assert_cmphex(tes_harness_bar_map(f->a.h, f->a.ctrl, 4, AD_BM_PORT), ==, AD_BM_PORT);
}

static void test_piix_ids(void)
{
    afix f;

    piix_up(&f);
    g_assert_cmphex(tes_harness_cfg_read(f.a.h, f.a.ctrl, 0, 4), ==, 0x70108086);
    g_assert_cmphex(tes_harness_cfg_read(f.a.h, f.a.ctrl, 0x08, 4) >> 8, ==, 0x010180);
    /* Firmware's IDETIM decode enables: Linux's ata_piix needs them. */
    g_assert_cmphex(tes_harness_cfg_read(f.a.h, f.a.ctrl, 0x41, 1), ==, 0x80);
    g_assert_cmphex(tes_harness_cfg_read(f.a.h, f.a.ctrl, 0x43, 1), ==, 0x80);
    g_assert_cmphex(ad_inb(&f.a, 0x1f7), ==, 0x50);
    g_assert_cmphex(ad_inb(&f.a, 0x3f6), ==, 0x50);
    /* The slave of the primary is absent: reads as 0. */
    ad_outb(&f.a, 0x1f6, 0xb0);
    g_assert_cmphex(ad_inb(&f.a, 0x1f7), ==, 0);
    /* A third drive takes unit 1; a fourth on ide.0 finds none free. */
    g_assert_nonnull(tes_harness_device(f.a.h, "ide-cd", "bus=ide.0"));
    g_assert_null(tes_harness_device(f.a.h, "ide-cd", "bus=ide.0"));
    g_assert_nonnull(strstr(tes_harness_error(f.a.h), "no free unit"));
    g_assert_null(tes_harness_device(f.a.h, "ide-hd", "bus=ide.1,unit=1"));
    g_assert_nonnull(strstr(tes_harness_error(f.a.h), "'drive' is required"));
    ata_down(&f);
}

static void test_piix_identify(void)
{
    afix f;
    uint16_t id[256];
    char model[41] = {0}, serial[21] = {0};

    piix_up(&f);
    ad_issue(&f.a, 0, 0, 0xec, 0, 0, 0, false);
    g_assert_true(ad_pio_in(&f.a, 0, id, 512));
    for (int i = 0; i < 20; i++) {
        model[2 * i] = (char)(id[27 + i] >> 8);
        model[2 * i + 1] = (char)id[27 + i];
    }
    for (int i = 0; i < 10; i++) {
        serial[2 * i] = (char)(id[10 + i] >> 8);
        serial[2 * i + 1] = (char)id[10 + i];
    }
    g_assert_true(g_str_has_prefix(model, "QEMU HARDDISK "));
    g_assert_true(g_str_has_prefix(serial, "SN1234 "));
    g_assert_cmphex(id[49] & 0x300, ==, 0x300);                      /* LBA, DMA */
    g_assert_cmpuint(id[60] | (uint32_t)id[61] << 16, ==, IMG_SIZE / 512);
    g_assert_cmpuint(id[100] | (uint32_t)id[101] << 16, ==, IMG_SIZE / 512);
    g_assert_cmphex(id[83] & 0x400, ==, 0x400);                      /* LBA48 */
    g_assert_cmphex(id[76] & 0x100, ==, 0); /* no NCQ without AHCI */
    /* The data-in phase ended with the block: DRDY, no DRQ. */
    g_assert_cmphex(ad_inb(&f.a, 0x1f7), ==, 0x50);
    ata_down(&f);
}

static void test_piix_pio(void)
{
    afix f;
    uint8_t buf[1024], out[512], img[512];

    piix_up(&f);
    ad_issue(&f.a, 0, 0, 0x24, 0, 100, 2, true); /* READ SECTORS EXT */
    g_assert_true(ad_pio_in(&f.a, 0, buf, 1024));
    for (int i = 0; i < 1024; i++) {
        g_assert_cmphex(buf[i], ==, ata_pattern(100 * 512 + i));
    }
    g_assert_cmphex(ad_wait(&f.a, 0), ==, 0x50);
    for (int i = 0; i < 512; i++) {
        out[i] = (uint8_t)(0xa5 ^ i);
    }
    ad_issue(&f.a, 0, 0, 0x30, 0, 7, 1, false); /* WRITE SECTORS */
    g_assert_true(ad_pio_out(&f.a, 0, out, 512));
    g_assert_cmphex(ad_wait(&f.a, 0), ==, 0x50);
    /* The end of a PIO write interrupts (output 0, ISA IRQ 14). */
    g_assert_cmpint(tes_harness_irq_level(f.a.h, f.a.ctrl, 0), ==, 0); /* status read */
    ata_read_image(f.img[0], 7 * 512, img, 512);
    g_assert_cmpmem(img, 512, out, 512);
    ata_down(&f);
}

static void test_piix_dma(void)
{
    afix f;
    uint8_t img[4096];

    piix_up(&f);
    /* 64 sectors read into two PRDs of 16 KiB. */
    ad_prd(&f.a, 0, 0x200000, 0x4000, false);
    ad_prd(&f.a, 1, 0x300000, 0x4000, true);
    ad_issue(&f.a, 0, 0, 0x25, 0, 1000, 64, true);
    ad_bm_start(&f.a, 0, AD_PRD, true);
    g_assert_cmphex(ad_wait(&f.a, 0), ==, 0x50);
    g_assert_cmphex(ad_bm_status(&f.a, 0) & 0x07, ==, 0x04); /* interrupt, not active */
    g_assert_cmpint(tes_harness_irq_level(f.a.h, f.a.ctrl, 0), ==, 0);
    for (int i = 0; i < 0x4000; i++) {
        g_assert_cmphex(f.a.ram[0x200000 + i], ==, ata_pattern(1000 * 512 + i));
        g_assert_cmphex(f.a.ram[0x300000 + i], ==, ata_pattern(1000 * 512 + 0x4000 + i));
    }
    /* 8 sectors written from RAM reach the image. */
    memset(f.a.ram + 0x200000, 0x3c, 4096);
    ad_prd(&f.a, 0, 0x200000, 4096, true);
    ad_issue(&f.a, 0, 0, 0xca, 0, 20, 8, false);
    ad_bm_start(&f.a, 0, AD_PRD, false);
    g_assert_cmphex(ad_wait(&f.a, 0), ==, 0x50);
    ata_read_image(f.img[0], 20 * 512, img, 4096);
    for (int i = 0; i < 4096; i++) {
        g_assert_cmphex(img[i], ==, 0x3c);
    }
    ata_down(&f);
}

/* The interrupt is raised at the end of a command and acknowledged by a
 * status read; nIEN masks it. */
static void test_piix_irq(void)
{
    afix f;

    piix_up(&f);
    ad_issue(&f.a, 0, 0, 0xe7, 0, 0, 0, false); /* FLUSH CACHE */
    for (int i = 0; i < 100 && (ad_inb(&f.a, 0x3f6) & 0x80); i++) {
        tes_harness_block_wait(f.a.h);
    }
    g_assert_cmpint(tes_harness_irq_level(f.a.h, f.a.ctrl, 0), ==, 1);
    g_assert_cmphex(ad_inb(&f.a, 0x1f7), ==, 0x50);
    g_assert_cmpint(tes_harness_irq_level(f.a.h, f.a.ctrl, 0), ==, 0);
    ad_outb(&f.a, 0x3f6, 0x02); /* nIEN */
    ad_issue(&f.a, 0, 0, 0xe5, 0, 0, 0, false); /* CHECK POWER MODE */
    g_assert_cmpint(tes_harness_irq_level(f.a.h, f.a.ctrl, 0), ==, 0);
    g_assert_cmphex(ad_inb(&f.a, 0x1f2), ==, 0xff); /* active */
    ata_down(&f);
}

static void test_piix_errors(void)
{
    afix f;

    piix_up(&f);
    ad_issue(&f.a, 0, 0, 0xff, 0, 0, 0, false); /* no such command */
    g_assert_cmphex(ad_wait(&f.a, 0), ==, 0x41);
    g_assert_cmphex(ad_inb(&f.a, 0x1f1), ==, 0x04);
    ad_issue(&f.a, 0, 0, 0x24, 0, IMG_SIZE / 512 - 1, 2, true); /* past the end */
    g_assert_cmphex(ad_wait(&f.a, 0), ==, 0x41);
    g_assert_cmphex(ad_inb(&f.a, 0x1f1), ==, 0x14);
    ad_issue(&f.a, 0, 0, 0xc4, 0, 0, 1, false); /* READ MULTIPLE works (mult 16) */
    g_assert_cmphex(ad_wait(&f.a, 0), ==, 0x58);
    ad_outb(&f.a, 0x3f6, 0x04); /* SRST ends the PIO phase */
    ad_outb(&f.a, 0x3f6, 0x00);
    g_assert_cmphex(ad_wait(&f.a, 0), ==, 0x50);
    g_assert_cmphex(ad_inb(&f.a, 0x1f4), ==, 0x00); /* ATA signature */
    /* Hostile PRD tables: not in RAM, too short, a 64 KiB table of
     * two-byte entries without EOT, data outside RAM: each aborts. */
    static const uint32_t tables[] = {0xfff00000u, AD_PRD, AD_PRD, AD_PRD};
    for (unsigned t = 0; t < 4; t++) {
        if (t == 1) {
            ad_prd(&f.a, 0, 0x200000, 512, true);
        } else if (t == 2) {
            for (unsigned i = 0; i < 8192; i++) {
                ad_prd(&f.a, i, 0x200000, 2, false);
            }
        } else if (t == 3) {
            ad_prd(&f.a, 0, 0xfff00000u, 0x8000, true);
        }
        ad_issue(&f.a, 0, 0, 0xc8, 0, 0, 64, false);
        ad_bm_start(&f.a, 0, tables[t], true);
        g_assert_cmphex(ad_wait(&f.a, 0) & 0x89, ==, 0x01);
        g_assert_cmphex(ad_inb(&f.a, 0x1f1), ==, 0x04);
    }
    /* After all that the drive still works. */
    ad_prd(&f.a, 0, 0x200000, 512, true);
    ad_issue(&f.a, 0, 0, 0xc8, 0, 3, 1, false);
    ad_bm_start(&f.a, 0, AD_PRD, true);
    g_assert_cmphex(ad_wait(&f.a, 0), ==, 0x50);
    g_assert_cmphex(f.a.ram[0x200000 + 5], ==, ata_pattern(3 * 512 + 5));
    ata_down(&f);
}

/* ---- ATAPI on piix ---- */

/* Send a 12-byte packet to ide.1 unit 0 (PIO packet phase). */
static void packet(afix *f, const uint8_t *cdb, uint16_t limit, bool dma)
{
    ad_issue(&f->a, 1, 0, 0xa0, dma ? 1 : 0, (uint64_t)limit << 8, 0, false);
    g_assert_cmphex(ad_wait(&f->a, 1) & 0x08, ==, 0x08);
    g_assert_cmphex(ad_inb(&f->a, 0x172) & 3, ==, 1); /* CoD */
    for (int i = 0; i < 12; i += 2) {
        tes_harness_io_write(f->a.h, 0x170, cdb[i] | cdb[i + 1] << 8, 2);
    }
}

static uint8_t sense_key(afix *f)
{
    uint8_t cdb[12] = {0x03, 0, 0, 0, 18}, s[18];

    packet(f, cdb, 18, false);
    g_assert_true(ad_pio_in(&f->a, 1, s, 18));
    g_assert_cmphex(ad_wait(&f->a, 1), ==, 0x50);
    return s[2];
}

static void test_atapi_piix(void)
{
    afix f;
    uint8_t tur[12] = {0}, cap[12] = {0x25}, rd[12] = {0x28, 0, 0, 0, 0, 5, 0, 0, 3};
    uint8_t buf[3 * 2048];

    piix_up(&f);
    /* IDENTIFY DEVICE aborts with the packet signature. */
    ad_issue(&f.a, 1, 0, 0xec, 0, 0, 0, false);
    g_assert_cmphex(ad_wait(&f.a, 1) & 0x01, ==, 0x01);
    g_assert_cmphex(ad_inb(&f.a, 0x174), ==, 0x14);
    g_assert_cmphex(ad_inb(&f.a, 0x175), ==, 0xeb);
    ad_issue(&f.a, 1, 0, 0xa1, 0, 0, 0, false);
    g_assert_true(ad_pio_in(&f.a, 1, buf, 512));
    g_assert_cmphex(buf[0] | buf[1] << 8, ==, 0x85c0);
    /* The medium is new: UNIT ATTENTION once, then ready. */
    packet(&f, tur, 0, false);
    g_assert_cmphex(ad_wait(&f.a, 1) & 0x01, ==, 0x01);
    g_assert_cmphex(ad_inb(&f.a, 0x171) >> 4, ==, 0x06);
    g_assert_cmphex(sense_key(&f), ==, 0x06);
    packet(&f, tur, 0, false);
    g_assert_cmphex(ad_wait(&f.a, 1), ==, 0x50);
    g_assert_cmphex(ad_inb(&f.a, 0x172) & 3, ==, 3); /* status phase */
    packet(&f, cap, 8, false);
    g_assert_true(ad_pio_in(&f.a, 1, buf, 8));
    g_assert_cmpuint(getbe32(buf), ==, CD_IMG_SIZE / 2048 - 1);
    g_assert_cmpuint(getbe32(buf + 4), ==, 2048);
    /* READ(10) by PIO with a 2048-byte limit: three DRQ blocks. */
    packet(&f, rd, 2048, false);
    for (int b = 0; b < 3; b++) {
        g_assert_cmphex(ad_wait(&f.a, 1) & 0x08, ==, 0x08);
        g_assert_cmpuint(ad_inb(&f.a, 0x174) | ad_inb(&f.a, 0x175) << 8, ==, 2048);
        g_assert_true(ad_pio_in(&f.a, 1, buf + 2048 * b, 2048));
    }
    g_assert_cmphex(ad_wait(&f.a, 1), ==, 0x50);
    for (int i = 0; i < 3 * 2048; i++) {
        g_assert_cmphex(buf[i], ==, ata_pattern(5 * 2048 + i));
    }
    /* READ(10) by DMA. */
    ad_prd(&f.a, 0, 0x200000, 3 * 2048, true);
    packet(&f, rd, 0, true);
    ad_bm_start(&f.a, 1, AD_PRD, true);
    g_assert_cmphex(ad_wait(&f.a, 1), ==, 0x50);
    g_assert_cmpmem(f.a.ram + 0x200000, 3 * 2048, buf, 3 * 2048);
    /* Past the end: ILLEGAL REQUEST. */
    rd[5] = 0xff;
    rd[4] = 0xff;
    packet(&f, rd, 2048, false);
    g_assert_cmphex(ad_wait(&f.a, 1) & 0x01, ==, 0x01);
    g_assert_cmphex(sense_key(&f), ==, 0x05);
    ata_down(&f);
}

static void test_atapi_no_media(void)
{
    afix f;
    static const char *const devs[] = {"ide-cd", "bus=ide.1", NULL};
    uint8_t tur[12] = {0}, inq[12] = {0x12, 0, 0, 0, 36}, buf[36];

    ata_up(&f, "piix3-ide", devs);
    packet(&f, tur, 0, false);
    g_assert_cmphex(ad_wait(&f.a, 1) & 0x01, ==, 0x01);
    g_assert_cmphex(ad_inb(&f.a, 0x171) >> 4, ==, 0x02); /* NOT READY */
    g_assert_cmphex(sense_key(&f), ==, 0x02);
    packet(&f, inq, 36, false); /* INQUIRY works without a medium */
    g_assert_true(ad_pio_in(&f.a, 1, buf, 36));
    g_assert_cmphex(buf[0], ==, 0x05);
    g_assert_cmphex(ad_wait(&f.a, 1), ==, 0x50);
    ata_down(&f);
}

/* A PIO read half done survives a migration of the drive. */
static void test_piix_migrate(void)
{
    afix f;
    uint8_t buf[1024];
    size_t bytes = 0;

    piix_up(&f);
    ad_issue(&f.a, 0, 0, 0x24, 0, 50, 2, true);
    g_assert_true(ad_pio_in(&f.a, 0, buf, 256));
    f.dev[0] = tes_harness_migrate(f.a.h, f.dev[0], &bytes);
    g_assert_nonnull(f.dev[0]);
    g_assert_cmpuint(bytes, >, 256);
    g_assert_true(ad_pio_in(&f.a, 0, buf + 256, 256));
    g_assert_true(ad_pio_in(&f.a, 0, buf + 512, 512));
    for (int i = 0; i < 1024; i++) {
        g_assert_cmphex(buf[i], ==, ata_pattern(50 * 512 + i));
    }
    /* After a system reset the migrated drive still answers. */
    tes_harness_reset(f.a.h);
    ad_issue(&f.a, 0, 0, 0xec, 0, 0, 0, false);
    g_assert_true(ad_pio_in(&f.a, 0, buf, 512));
    g_assert_cmphex(buf[54], ==, 'E');
    /* A forged stream that points past the buffer is refused. */
    void *st = tes_harness_state_save(f.a.h, f.dev[0], &bytes);
    g_assert_true(tes_harness_state_poke(f.dev[0], st, bytes, "drq_end", 0, 0x100000));
    g_assert_cmpint(tes_harness_state_load(f.a.h, f.dev[0], st, bytes), <, 0);
    free(st);
    ata_down(&f);
}

static int isa_levels[16];

static void isa_handler(void *opaque, int n, int level)
{
    isa_levels[n] = level;
}

static tes_irq *isa_lines[16];

static tes_irq *test_isa_irq(unsigned n)
{
    return n < 16 ? isa_lines[n] : NULL;
}

/* With a board's ISA interface, the channels drive IRQ 14 and 15. */
static void test_piix_isa_iface(void)
{
    static const tes_isa_iface iface = {sizeof(tes_isa_iface), test_isa_irq};
    tes_harness *h = tes_harness_new(RAM_SIZE);
    const tes_host *host = tes_harness_host(h);
    tes_device *d;
    ad a = {.h = h};

    g_assert_true(tes_harness_load(h, ata_plugin_path));
    for (int i = 0; i < 16; i++) {
        isa_lines[i] = host->irq_new(isa_handler, NULL, i);
    }
    g_assert_cmpint(host->iface_register(TES_ISA_IFACE, TES_ISA_IFACE_VERSION, &iface), ==, 0);
    d = tes_harness_device(h, "piix3-ide", NULL);
    g_assert_nonnull(d);
    g_assert_nonnull(tes_harness_device(h, "ide-cd", "bus=ide.1"));
    ad_issue(&a, 1, 0, 0xe5, 0, 0, 0, false); /* CHECK POWER MODE */
    g_assert_cmpint(isa_levels[15], ==, 1);
    g_assert_cmpint(isa_levels[14], ==, 0);
    ad_inb(&a, 0x177);
    g_assert_cmpint(isa_levels[15], ==, 0);
    /* Only one piix3-ide owns the legacy ports. */
    g_assert_null(tes_harness_device(h, "piix3-ide", NULL));
    tes_harness_free(h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ata_plugin_path = g_getenv("ATA_PLUGIN");
    if (argc > 1) {
        ata_plugin_path = argv[1];
    }
    if (!ata_plugin_path) {
        g_printerr("set ATA_PLUGIN or pass the plugin path\n");
        return 1;
    }
    /* First: the ISA interface test below leaves its iface registered,
     * and piix3-ide created after it would use that test's lines. */
    atapi_media_tests_register();
    g_test_add_func("/ata/piix/ids-ports-and-units", test_piix_ids);
    g_test_add_func("/ata/piix/identify-reports-model-serial-sizes", test_piix_identify);
    g_test_add_func("/ata/piix/pio-read-write-reach-the-image", test_piix_pio);
    g_test_add_func("/ata/piix/dma-read-write-reach-the-image", test_piix_dma);
    g_test_add_func("/ata/piix/irq-raised-acked-and-masked", test_piix_irq);
    g_test_add_func("/ata/piix/errors-and-hostile-prd-abort", test_piix_errors);
    g_test_add_func("/ata/piix/atapi-ua-capacity-read10-pio-dma", test_atapi_piix);
    g_test_add_func("/ata/piix/atapi-without-medium-not-ready", test_atapi_no_media);
    g_test_add_func("/ata/piix/migrate-mid-pio-read", test_piix_migrate);
    g_test_add_func("/ata/piix/isa-interface-irq14-15", test_piix_isa_iface);
    ahci_tests_register();
    return g_test_run();
}
