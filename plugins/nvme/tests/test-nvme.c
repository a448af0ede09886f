/*
 * nvme plugin tests through the harness: no guest, no CPU. An in-test
 * driver (nvme-drv.h) builds queues in harness RAM and rings BAR0
 * doorbells; I/O reaches a real raw image through the core's asynchronous
 * block layer. The plugin comes from $NVME_PLUGIN (meson sets it) or the
 * first argument.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>
#include <tessera/harness.h>

#include "nvme.h"
#include "tests/nvme-drv.h"

#define RAM_SIZE (64ull << 20)
#define IMG_SIZE (8ull << 20)
#define BUF 0x1000000ull  /* identify / data buffers */
#define BUF2 0x1800000ull
#define PRPL 0x2000000ull /* PRP lists */

/* Status codes as the CQE carries them (SCT << 8 | SC, DNR 0x4000). */
#define ST(s) ((s) & 0x3fff)

static const char *plugin_path;

typedef struct fixture {
    nd d;
    char *img[2];
} fixture;

static uint8_t pattern(uint64_t i)
{
    return (uint8_t)(i * 7 + i / 512 + 1);
}

static char *make_image(void)
{
    g_autofree uint8_t *buf = g_malloc(IMG_SIZE);
    char *path = NULL;
    int fd = g_file_open_tmp("nvme-test-XXXXXX.img", &path, NULL);

    g_assert_cmpint(fd, >=, 0);
    for (uint64_t i = 0; i < IMG_SIZE; i++) {
        buf[i] = pattern(i);
    }
    g_assert_cmpint(write(fd, buf, IMG_SIZE), ==, (ssize_t)IMG_SIZE);
    close(fd);
    return path;
}

static void read_image(fixture *f, int i, uint64_t off, void *buf, size_t len)
{
    FILE *fp = fopen(f->img[i], "rb");

    g_assert_nonnull(fp);
    g_assert_cmpint(fseek(fp, off, SEEK_SET), ==, 0);
    g_assert_cmpuint(fread(buf, 1, len, fp), ==, len);
    fclose(fp);
}

/* A harness with nvme (drive d0 = namespace 1) at BAR0, MSI-X optional. */
static void up_with(fixture *f, const char *props, bool msix, bool two_ns)
{
    g_autofree char *p = g_strdup_printf("drive=d0,serial=deadbeef%s%s", props ? "," : "",
                                         props ? props : "");

    memset(f, 0, sizeof(*f));
    f->d.h = tes_harness_new(RAM_SIZE);
    g_assert_true(tes_harness_load(f->d.h, plugin_path));
    f->d.ram = tes_harness_ram(f->d.h);
    for (int i = 0; i < (two_ns ? 2 : 1); i++) {
        g_autofree char *opt = NULL;
        f->img[i] = make_image();
        opt = g_strdup_printf("file=%s,if=none,id=d%d,format=raw", f->img[i], i);
        g_assert_true(tes_harness_drive(f->d.h, opt));
    }
    f->d.dev = tes_harness_device(f->d.h, "nvme", p);
    if (!f->d.dev) {
        g_error("nvme: %s", tes_harness_error(f->d.h));
    }
    if (two_ns && !tes_harness_device(f->d.h, "nvme-ns", "drive=d1,nsid=2")) {
        g_error("nvme-ns: %s", tes_harness_error(f->d.h));
    }
    f->d.bar = tes_harness_bar_map(f->d.h, f->d.dev, 0, ND_BAR0);
    g_assert_cmphex(f->d.bar, ==, ND_BAR0);
    if (msix) {
        g_assert_true(tes_harness_msi_enable(f->d.h, f->d.dev));
    }
}

static void up(fixture *f)
{
    up_with(f, NULL, true, false);
    g_assert_true(nd_enable(&f->d));
}

/* up() plus I/O queue pair 1 (vector 1). */
static void up_io(fixture *f)
{
    up(f);
    g_assert_cmphex(nd_create_ioq(&f->d, 1, 64, 1), ==, 0);
}

static void down(fixture *f)
{
    tes_harness_free(f->d.h);
    for (int i = 0; i < 2; i++) {
        if (f->img[i]) {
            g_unlink(f->img[i]);
            g_free(f->img[i]);
        }
    }
}

static uint16_t identify(fixture *f, uint8_t cns, uint32_t nsid)
{
    uint32_t cdw[6] = {cns};

    memset(f->d.ram + BUF, 0xaa, 4096);
    return nd_cmd(&f->d, 0, 0x06, nsid, BUF, 0, cdw, NULL);
}

static uint32_t ram32(fixture *f, uint64_t a)
{
    uint32_t v;

    memcpy(&v, f->d.ram + a, 4);
    return v;
}

static uint64_t ram64(fixture *f, uint64_t a)
{
    uint64_t v;

    memcpy(&v, f->d.ram + a, 8);
    return v;
}

/* Read or write nlb+1 blocks of nsid at slba through PRPs at buf. */
static uint16_t rw(fixture *f, uint8_t op, uint32_t nsid, uint64_t slba, uint32_t nlb0,
                   uint64_t prp1, uint64_t prp2)
{
    uint32_t cdw[6] = {(uint32_t)slba, slba >> 32, nlb0};

    return nd_cmd(&f->d, 1, op, nsid, prp1, prp2, cdw, NULL);
}

/* ---- registers ---- */

static void test_reset_values(void)
{
    fixture f;
    uint64_t cap;

    up_with(&f, NULL, false, false);
    cap = nd_rd64(&f.d, 0x00);
    g_assert_cmphex(cap & 0xffff, ==, 0x7ff);           /* MQES */
    g_assert_cmphex(cap >> 16 & 1, ==, 1);              /* CQR */
    g_assert_cmphex(cap >> 24 & 0xff, !=, 0);           /* TO */
    g_assert_cmphex(cap >> 32 & 0xf, ==, 0);            /* DSTRD */
    g_assert_cmphex(cap >> 37 & 0xff, ==, 1);           /* CSS: NVM */
    g_assert_cmphex(cap >> 48 & 0xf, ==, 0);            /* MPSMIN 4 KiB */
    g_assert_cmphex(nd_rd32(&f.d, 0x00), ==, (uint32_t)cap);
    g_assert_cmphex(nd_rd32(&f.d, 0x08), ==, 0x00010400);
    g_assert_cmphex(nd_rd32(&f.d, 0x14), ==, 0);
    g_assert_cmphex(nd_rd32(&f.d, 0x1c), ==, 0);
    g_assert_cmphex(nd_rd32(&f.d, 0x24), ==, 0);
    g_assert_cmphex(nd_rd64(&f.d, 0x28), ==, 0);
    g_assert_cmphex(tes_harness_cfg_read(f.d.h, f.d.dev, 0, 4), ==, 0x00101b36);
    g_assert_cmphex(tes_harness_cfg_read(f.d.h, f.d.dev, 8, 4) >> 8, ==, 0x010802);
    down(&f);
}

static void test_enable_disable_shutdown(void)
{
    fixture f;

    up(&f);
    g_assert_cmphex(nd_rd32(&f.d, 0x1c), ==, 1);
    g_assert_cmphex(nd_rd64(&f.d, 0x28), ==, ND_ASQ);
    nd_wr32(&f.d, 0x14, nd_rd32(&f.d, 0x14) | 1 << 14); /* CC.SHN normal */
    g_assert_cmphex(nd_rd32(&f.d, 0x1c) & 0xc, ==, 0x8);
    nd_wr32(&f.d, 0x14, 0);
    g_assert_cmphex(nd_rd32(&f.d, 0x1c) & 1, ==, 0);
    g_assert_true(nd_enable(&f.d));
    g_assert_cmphex(nd_rd32(&f.d, 0x1c), ==, 1); /* SHST cleared by enable */
    down(&f);
}

static void test_enable_unaligned_asq_fails(void)
{
    fixture f;

    up_with(&f, NULL, true, false);
    nd_wr32(&f.d, 0x24, 0x001f001f);
    nd_wr64(&f.d, 0x28, ND_ASQ + 0x40);
    nd_wr64(&f.d, 0x30, ND_ACQ);
    nd_wr32(&f.d, 0x14, 1);
    g_assert_cmphex(nd_rd32(&f.d, 0x1c) & 3, ==, 2); /* CFS, not ready */
    down(&f);
}

/* ---- admin ---- */

static void test_identify_controller(void)
{
    fixture f;

    up(&f);
    g_assert_cmphex(identify(&f, 1, 0), ==, 0);
    g_assert_cmpmem(f.d.ram + BUF + 4, 8, "deadbeef", 8);
    g_assert_cmpuint(f.d.ram[BUF + 4 + 8], ==, ' ');
    g_assert_cmpuint(f.d.ram[BUF + 77], ==, 7);            /* MDTS */
    g_assert_cmphex(ram32(&f, BUF + 80), ==, 0x00010400);  /* VER */
    g_assert_cmphex(f.d.ram[BUF + 512], ==, 0x66);         /* SQES */
    g_assert_cmphex(f.d.ram[BUF + 513], ==, 0x44);         /* CQES */
    g_assert_cmpuint(ram32(&f, BUF + 516), >=, 1);         /* NN */
    g_assert_cmphex(f.d.ram[BUF + 520] & 0xd, ==, 0xd);    /* ONCS: compare, DSM, WZ */
    g_assert_cmphex(f.d.ram[BUF + 524] & 1, ==, 1);        /* VWC */
    g_assert_cmphex(ram32(&f, BUF + 536), ==, 0);          /* SGLS */
    g_assert_cmpstr((char *)f.d.ram + BUF + 768, ==, "nqn.2024-01.org.tessera:nvme:deadbeef");
    down(&f);
}

static void test_identify_namespace(void)
{
    fixture f;

    up(&f);
    g_assert_cmphex(identify(&f, 0, 1), ==, 0);
    g_assert_cmpuint(ram64(&f, BUF + 0), ==, IMG_SIZE / 512);  /* NSZE */
    g_assert_cmpuint(ram64(&f, BUF + 8), ==, IMG_SIZE / 512);  /* NCAP */
    g_assert_cmpuint(ram64(&f, BUF + 16), ==, IMG_SIZE / 512); /* NUSE */
    g_assert_cmpuint(f.d.ram[BUF + 25], ==, 1);                /* NLBAF */
    g_assert_cmpuint(f.d.ram[BUF + 26] & 0xf, ==, 0);          /* FLBAS */
    g_assert_cmpuint(f.d.ram[BUF + 128 + 2], ==, 9);
    g_assert_cmpuint(f.d.ram[BUF + 132 + 2], ==, 12);
    g_assert_cmphex(ram64(&f, BUF + 104) | ram64(&f, BUF + 112), !=, 0); /* NGUID */
    /* An inactive namespace identifies as zeroes; nsid 0 is invalid. */
    g_assert_cmphex(identify(&f, 0, 5), ==, 0);
    g_assert_cmpuint(ram64(&f, BUF), ==, 0);
    g_assert_cmphex(ST(identify(&f, 0, 0)), ==, 0x0b);
    down(&f);
}

static void test_identify_4k_format(void)
{
    fixture f;

    up_with(&f, "logical_block_size=4096", true, false);
    g_assert_true(nd_enable(&f.d));
    g_assert_cmphex(identify(&f, 0, 1), ==, 0);
    g_assert_cmpuint(ram64(&f, BUF), ==, IMG_SIZE / 4096);
    g_assert_cmpuint(f.d.ram[BUF + 26] & 0xf, ==, 1);
    down(&f);
}

static void test_ns_list_and_descriptors(void)
{
    fixture f;
    uint64_t nguid;

    up_with(&f, NULL, true, true);
    g_assert_true(nd_enable(&f.d));
    g_assert_cmphex(identify(&f, 2, 0), ==, 0);
    g_assert_cmpuint(ram32(&f, BUF), ==, 1);
    g_assert_cmpuint(ram32(&f, BUF + 4), ==, 2);
    g_assert_cmpuint(ram32(&f, BUF + 8), ==, 0);
    g_assert_cmphex(identify(&f, 2, 1), ==, 0);
    g_assert_cmpuint(ram32(&f, BUF), ==, 2);
    g_assert_cmphex(identify(&f, 0, 2), ==, 0);
    nguid = ram64(&f, BUF + 104);
    g_assert_cmphex(identify(&f, 3, 2), ==, 0);
    /* EUI-64 (8 bytes), then NGUID (16), as the namespace reports it. */
    g_assert_cmpuint(f.d.ram[BUF], ==, 1);
    g_assert_cmpuint(f.d.ram[BUF + 1], ==, 8);
    g_assert_cmpuint(f.d.ram[BUF + 12], ==, 2);
    g_assert_cmpuint(f.d.ram[BUF + 13], ==, 16);
    g_assert_cmphex(ram64(&f, BUF + 16), ==, nguid);
    g_assert_cmphex(identify(&f, 0, 1), ==, 0);
    g_assert_cmphex(ram64(&f, BUF + 104), !=, nguid); /* unique per namespace */
    down(&f);
}

static void test_features(void)
{
    fixture f;
    uint32_t dw0 = 0, nq[6] = {0x07, 0x00070007}, wce[6] = {0x06, 0}, get[6] = {0x06};

    up_with(&f, "max_ioqpairs=8", true, false);
    g_assert_true(nd_enable(&f.d));
    g_assert_cmphex(nd_cmd(&f.d, 0, 0x09, 0, 0, 0, nq, &dw0), ==, 0);
    g_assert_cmphex(dw0, ==, 0x00070007);
    g_assert_cmphex(nd_cmd(&f.d, 0, 0x09, 0, 0, 0, wce, NULL), ==, 0);
    g_assert_cmphex(nd_cmd(&f.d, 0, 0x0a, 0, 0, 0, get, &dw0), ==, 0);
    g_assert_cmphex(dw0, ==, 0);
    wce[1] = 1;
    g_assert_cmphex(nd_cmd(&f.d, 0, 0x09, 0, 0, 0, wce, NULL), ==, 0);
    g_assert_cmphex(nd_cmd(&f.d, 0, 0x0a, 0, 0, 0, get, &dw0), ==, 0);
    g_assert_cmphex(dw0, ==, 1);
    down(&f);
}

static void test_num_queues_legacy(void)
{
    fixture f;
    uint32_t dw0 = 0, nq[6] = {0x07, 0x003f003f};

    up_with(&f, "num_queues=5", true, false);
    g_assert_true(nd_enable(&f.d));
    g_assert_cmphex(nd_cmd(&f.d, 0, 0x09, 0, 0, 0, nq, &dw0), ==, 0);
    g_assert_cmphex(dw0, ==, 0x00030003);
    g_assert_cmphex(ST(nd_create_ioq(&f.d, 5, 16, 5)), ==, 0x101); /* beyond 4 pairs */
    g_assert_cmphex(nd_create_ioq(&f.d, 4, 16, 4), ==, 0);
    down(&f);
}

static void test_logs(void)
{
    fixture f;
    uint32_t smart[6] = {0x02 | (512 / 4 - 1) << 16}, fw[6] = {0x03 | (512 / 4 - 1) << 16};
    uint32_t bogus[6] = {0x7f | 3 << 16};

    up_io(&f);
    g_assert_cmphex(rw(&f, 0x02, 1, 0, 7, BUF2, 0), ==, 0);
    g_assert_cmphex(nd_cmd(&f.d, 0, 0x02, 0xffffffff, BUF, 0, smart, NULL), ==, 0);
    g_assert_cmpuint(ram64(&f, BUF + 64), ==, 1);   /* host read commands */
    g_assert_cmpuint(ram64(&f, BUF + 32), ==, 1);   /* data units read (rounded up) */
    g_assert_cmphex(nd_cmd(&f.d, 0, 0x02, 0, BUF, 0, fw, NULL), ==, 0);
    g_assert_cmpuint(f.d.ram[BUF], ==, 1);          /* AFI: slot 1 active */
    g_assert_cmpmem(f.d.ram + BUF + 8, 3, "1.0", 3);
    g_assert_cmphex(ST(nd_cmd(&f.d, 0, 0x02, 0, BUF, 0, bogus, NULL)), ==, 0x109);
    down(&f);
}

/* ---- I/O ---- */

static void test_read_write_prp_list(void)
{
    fixture f;
    uint64_t list[4] = {BUF + 0x1000, BUF + 0x2000, BUF + 0x3000, BUF + 0x4000};
    g_autofree uint8_t *img = g_malloc(0x4000);
    uint64_t a, msis = 0;
    uint32_t data;

    up_io(&f);
    /* 16 KiB from LBA 8 at an offset into the first page: a PRP list. */
    memcpy(f.d.ram + PRPL, list, sizeof(list));
    g_assert_cmphex(rw(&f, 0x02, 1, 8, 31, BUF + 0x200, PRPL), ==, 0);
    for (uint64_t i = 0; i < 0x4000; i++) {
        g_assert_cmpuint(f.d.ram[BUF + 0x200 + i], ==, pattern(8 * 512 + i));
    }
    while (tes_harness_msi_pop(f.d.h, &a, &data)) {
        msis += data == 1; /* vector 1 is I/O queue 1's */
    }
    g_assert_cmpuint(msis, >=, 1);
    /* Write two pages through PRP1 + PRP2 and find them in the image. */
    memset(f.d.ram + BUF2, 0x5a, 0x1000);
    memset(f.d.ram + BUF2 + 0x3000, 0xa5, 0x1000);
    g_assert_cmphex(rw(&f, 0x01, 1, 100, 15, BUF2, BUF2 + 0x3000), ==, 0);
    read_image(&f, 0, 100 * 512, img, 0x2000);
    g_assert_cmpuint(img[0], ==, 0x5a);
    g_assert_cmpuint(img[0xfff], ==, 0x5a);
    g_assert_cmpuint(img[0x1000], ==, 0xa5);
    g_assert_cmpuint(img[0x1fff], ==, 0xa5);
    g_assert_cmphex(nd_cmd(&f.d, 1, 0x00, 1, 0, 0, NULL, NULL), ==, 0); /* flush */
    down(&f);
}

/* Write zeroes of NLB+1 blocks at SLBA: exactly those bytes, nothing else
 * (QEMU once got the offset and count wrong and corrupted ext4). */
static void test_write_zeroes_exact_range(void)
{
    fixture f;
    uint32_t cdw[6] = {13, 0, 2}; /* LBAs 13..15 */
    uint8_t img[6 * 512];

    up_io(&f);
    g_assert_cmphex(nd_cmd(&f.d, 1, 0x08, 1, 0, 0, cdw, NULL), ==, 0);
    read_image(&f, 0, 12 * 512, img, sizeof(img));
    for (unsigned i = 0; i < sizeof(img); i++) {
        bool zero = i >= 512 && i < 4 * 512;
        g_assert_cmpuint(img[i], ==, zero ? 0 : pattern(12 * 512 + i));
    }
    cdw[0] = 17, cdw[2] = 1u << 25; /* one block, deallocate allowed */
    g_assert_cmphex(nd_cmd(&f.d, 1, 0x08, 1, 0, 0, cdw, NULL), ==, 0);
    read_image(&f, 0, 16 * 512, img, 3 * 512);
    for (unsigned i = 0; i < 3 * 512; i++) {
        g_assert_cmpuint(img[i], ==, i >= 512 && i < 1024 ? 0 : pattern(16 * 512 + i));
    }
    down(&f);
}

static void test_dsm_deallocate(void)
{
    fixture f;
    uint32_t cdw[6] = {1, 4}; /* two ranges, AD */
    uint8_t range[32] = {0}, img[4 * 512];
    uint32_t len = 2;
    uint64_t slba = 40;

    up_io(&f);
    memcpy(range + 4, &len, 4);
    memcpy(range + 8, &slba, 8);
    len = 1, slba = 43;
    memcpy(range + 16 + 4, &len, 4);
    memcpy(range + 16 + 8, &slba, 8);
    memcpy(f.d.ram + BUF, range, sizeof(range));
    g_assert_cmphex(nd_cmd(&f.d, 1, 0x09, 1, BUF, 0, cdw, NULL), ==, 0);
    read_image(&f, 0, 40 * 512, img, sizeof(img));
    for (unsigned i = 0; i < sizeof(img); i++) {
        bool zero = i < 1024 || i >= 3 * 512;
        g_assert_cmpuint(img[i], ==, zero ? 0 : pattern(40 * 512 + i));
    }
    down(&f);
}

static void test_compare(void)
{
    fixture f;
    uint32_t cdw[6] = {3, 0, 0};

    up_io(&f);
    for (unsigned i = 0; i < 512; i++) {
        f.d.ram[BUF + i] = pattern(3 * 512 + i);
    }
    g_assert_cmphex(nd_cmd(&f.d, 1, 0x05, 1, BUF, 0, cdw, NULL), ==, 0);
    f.d.ram[BUF + 100] ^= 1;
    g_assert_cmphex(ST(nd_cmd(&f.d, 1, 0x05, 1, BUF, 0, cdw, NULL)), ==, 0x285);
    down(&f);
}

static void test_second_namespace_io(void)
{
    fixture f;
    uint8_t b[512];

    up_with(&f, NULL, true, true);
    g_assert_true(nd_enable(&f.d));
    g_assert_cmphex(nd_create_ioq(&f.d, 1, 16, 1), ==, 0);
    memset(f.d.ram + BUF, 0x77, 512);
    g_assert_cmphex(rw(&f, 0x01, 2, 5, 0, BUF, 0), ==, 0);
    read_image(&f, 1, 5 * 512, b, 512);
    g_assert_cmpuint(b[0], ==, 0x77);
    read_image(&f, 0, 5 * 512, b, 512);
    g_assert_cmpuint(b[0], ==, pattern(5 * 512));
    down(&f);
}

/* ---- bad commands ---- */

static void test_bad_commands(void)
{
    fixture f;
    uint32_t cns[6] = {0x55}, sq0[6] = {15 << 16, 1 << 16 | 1}, del[6] = {9};
    uint32_t cqbig[6] = {15 << 16 | 65, 3};

    up_io(&f);
    g_assert_cmphex(nd_cmd(&f.d, 0, 0x7e, 0, 0, 0, NULL, NULL), ==, 0x4001);  /* admin */
    g_assert_cmphex(nd_cmd(&f.d, 1, 0x7e, 1, BUF, 0, NULL, NULL), ==, 0x4001); /* I/O */
    g_assert_cmphex(nd_cmd(&f.d, 0, 0x06, 0, BUF, 0, cns, NULL), ==, 0x4002);
    g_assert_cmphex(ST(rw(&f, 0x02, 1, IMG_SIZE / 512 - 1, 1, BUF, 0)), ==, 0x80);
    g_assert_cmphex(ST(rw(&f, 0x02, 1, ~0ull - 1, 3, BUF, 0)), ==, 0x80); /* wraps */
    g_assert_cmphex(ST(nd_cmd(&f.d, 0, 0x01, 0, ND_IOQ_BASE, 0, sq0, NULL)), ==, 0x101);
    g_assert_cmphex(ST(nd_cmd(&f.d, 0, 0x00, 0, 0, 0, del, NULL)), ==, 0x101);
    g_assert_cmphex(ST(nd_cmd(&f.d, 0, 0x05, 0, ND_IOQ_BASE, 0, cqbig, NULL)), ==, 0x101);
    g_assert_cmphex(ST(rw(&f, 0x02, 1, 0, 0, BUF + 2, 0)), ==, 0x13);      /* PRP1 */
    g_assert_cmphex(ST(rw(&f, 0x02, 1, 0, 15, BUF, BUF2 + 8)), ==, 0x13);  /* PRP2 */
    g_assert_cmphex(ST(rw(&f, 0x02, 1, 0, 31, BUF, PRPL + 4)), ==, 0x13);  /* list ptr */
    g_assert_cmphex(ST(rw(&f, 0x02, 9, 0, 0, BUF, 0)), ==, 0x0b);         /* nsid */
    g_assert_cmphex(ST(rw(&f, 0x02, 1, 0, 0, 0x7ffff000ull, 0)), ==, 0x04); /* not RAM */
    /* Still answers properly afterwards. */
    g_assert_cmphex(rw(&f, 0x02, 1, 0, 0, BUF, 0), ==, 0);
    g_assert_cmpuint(f.d.ram[BUF + 1], ==, pattern(1));
    down(&f);
}

/* A PRP list pointer at the last entry of a page chains to the next list
 * page: a guest pointing that entry back at itself (or anywhere not page
 * aligned) once made the walk loop forever and hang the VM. NVMe 1.4
 * section 4.3: list pages other than PRP2's are page aligned, so every page
 * followed yields data entries and the walk ends. */
static void test_prp_list_self_loop_is_an_error(void)
{
    fixture f;
    uint64_t self = PRPL + 0xff8, page = PRPL;

    up_io(&f);
    /* 3 pages: PRP1, then the list at 0xff8 whose only entry is a pointer. */
    memcpy(f.d.ram + PRPL + 0xff8, &self, 8);
    g_assert_cmphex(ST(rw(&f, 0x02, 1, 0, 23, BUF, PRPL + 0xff8)), ==, 0x13);
    /* A page-aligned self loop consumes entries each round and ends: all
     * 511 data entries of the page point at BUF, the last back at it. */
    for (int i = 0; i < 511; i++) {
        uint64_t e = BUF;

        memcpy(f.d.ram + PRPL + 8 * i, &e, 8);
    }
    memcpy(f.d.ram + PRPL + 0xff8, &page, 8);
    g_assert_cmphex(rw(&f, 0x02, 1, 0, 1023, BUF, PRPL), ==, 0);
    /* Still answers properly afterwards. */
    g_assert_cmphex(rw(&f, 0x02, 1, 0, 0, BUF, 0), ==, 0);
    down(&f);
}

static void test_mdts_exceeded_is_invalid_field(void)
{
    fixture f;

    up_with(&f, "mdts=1", true, false);
    g_assert_true(nd_enable(&f.d));
    g_assert_cmphex(nd_create_ioq(&f.d, 1, 16, 1), ==, 0);
    g_assert_cmphex(rw(&f, 0x02, 1, 0, 15, BUF, BUF + 0x1000), ==, 0);   /* 8 KiB: ok */
    g_assert_cmphex(ST(rw(&f, 0x02, 1, 0, 16, BUF, PRPL)), ==, 0x02);     /* more */
    down(&f);
}

static void test_doorbell_beyond_queue_sets_cfs(void)
{
    fixture f;

    up_io(&f);
    nd_wr32(&f.d, 0x1000 + 8, 64); /* SQ 1 has 64 entries: 0..63 */
    g_assert_cmphex(nd_rd32(&f.d, 0x1c) & 2, ==, 2);
    nd_wr32(&f.d, 0x1000 + 8, 1);  /* ignored now */
    g_assert_true(nd_enable(&f.d)); /* a reset recovers */
    g_assert_cmphex(nd_rd32(&f.d, 0x1c), ==, 1);
    g_assert_cmphex(nd_create_ioq(&f.d, 1, 64, 1), ==, 0);
    nd_wr32(&f.d, 0x1000 + 12, 5); /* CQ head past what was posted */
    g_assert_cmphex(nd_rd32(&f.d, 0x1c) & 2, ==, 2);
    down(&f);
}

static void test_aer_limit_and_invalid_doorbell_event(void)
{
    fixture f;
    uint8_t s[64];
    nd_cqe c = {0};

    up(&f);
    for (int i = 0; i < 4; i++) {
        nd_sqe(s, 0x0c, 0, 0, 0, NULL);
        nd_push(&f.d, 0, s);
    }
    nd_ring(&f.d, 0);
    g_assert_false(nd_peek(&f.d, 0, &c, true)); /* all four outstanding */
    g_assert_cmphex(ST(nd_cmd(&f.d, 0, 0x0c, 0, 0, 0, NULL, NULL)), ==, 0x105);
    nd_wr32(&f.d, 0x1000 + 8 * 7, 1); /* doorbell of an absent queue */
    g_assert_true(nd_peek(&f.d, 0, &c, true));
    g_assert_cmphex(c.status, ==, 0);
    g_assert_cmphex(c.dw0 & 7, ==, 0); /* error status event */
    g_assert_cmphex(c.dw0 >> 16 & 0xff, ==, 1); /* error information log */
    g_assert_cmphex(nd_rd32(&f.d, 0x1c), ==, 1);
    down(&f);
}

/* ---- interrupts ---- */

static void test_intx_fallback(void)
{
    fixture f;
    nd_cqe c = {0};

    up_with(&f, NULL, false, false);
    g_assert_true(nd_enable(&f.d));
    g_assert_cmpint(tes_harness_intx_level(f.d.h, f.d.dev), ==, 0);
    nd_push(&f.d, 0, (uint8_t[64]){0x0a, 0, 0, 0, [40] = 0x06});
    nd_ring(&f.d, 0);
    g_assert_cmpint(tes_harness_intx_level(f.d.h, f.d.dev), ==, 1);
    nd_wr32(&f.d, 0x0c, 1); /* INTMS masks vector 0 */
    g_assert_cmpint(tes_harness_intx_level(f.d.h, f.d.dev), ==, 0);
    nd_wr32(&f.d, 0x10, 1);
    g_assert_cmpint(tes_harness_intx_level(f.d.h, f.d.dev), ==, 1);
    g_assert_true(nd_peek(&f.d, 0, &c, true));
    g_assert_cmpint(tes_harness_intx_level(f.d.h, f.d.dev), ==, 0);
    down(&f);
}

/* ---- queue flow control ---- */

static unsigned reap_all(fixture *f, unsigned qid, bool ring, unsigned want)
{
    nd_cqe c = {0};
    unsigned got = 0;

    for (int i = 0; i < 200 && got < want; i++) {
        while (nd_peek(&f->d, qid, &c, ring)) {
            g_assert_cmphex(c.status, ==, 0);
            got++;
        }
        if (got < want) {
            tes_harness_block_wait(f->d.h);
        }
    }
    return got;
}

/* A CQ never overflows: commands wait in the SQ until the host makes room. */
static void test_full_cq_holds_commands(void)
{
    fixture f;
    uint8_t s[64];
    uint32_t cdw[6] = {0, 0, 0}, cq[6] = {3 << 16 | 1, 1 << 16 | 3}, sq[6] = {7 << 16 | 1, 1 << 16 | 1};
    nd_queue *q = &f.d.q[1];

    up(&f);
    memset(q, 0, sizeof(*q));
    q->sq = ND_IOQ_BASE, q->cq = ND_IOQ_BASE + 0x20000, q->size = 8, q->phase = 1;
    g_assert_cmphex(nd_cmd(&f.d, 0, 0x05, 0, q->cq, 0, cq, NULL), ==, 0); /* 4 entries */
    g_assert_cmphex(nd_cmd(&f.d, 0, 0x01, 0, q->sq, 0, sq, NULL), ==, 0); /* 8 entries */
    for (int i = 0; i < 5; i++) {
        nd_sqe(s, 0x02, 1, BUF + 0x1000 * i, 0, cdw);
        nd_push(&f.d, 1, s);
    }
    nd_ring(&f.d, 1);
    q->size = 4; /* the CQ's size, for reaping */
    /* Without a CQ head doorbell only size - 1 completions may be posted. */
    g_assert_cmpuint(reap_all(&f, 1, false, 5), ==, 3);
    nd_wr32(&f.d, 0x1000 + 12, q->head);
    g_assert_cmpuint(reap_all(&f, 1, true, 2), ==, 2);
    g_assert_cmphex(nd_rd32(&f.d, 0x1c), ==, 1);
    down(&f);
}

/* ---- migration ---- */

static void test_migrate_mid_workload(void)
{
    fixture f;
    uint8_t s[64];
    nd_cqe c = {0};
    size_t bytes = 0;
    unsigned got = 0;
    uint16_t aer;

    up_io(&f);
    /* 16 reads in flight, plus an AER outstanding. */
    for (unsigned i = 0; i < 16; i++) {
        uint32_t cdw[6] = {i, 0, 0};
        nd_sqe(s, 0x02, 1, BUF + 0x1000 * i, 0, cdw);
        nd_push(&f.d, 1, s);
    }
    nd_ring(&f.d, 1);
    nd_sqe(s, 0x0c, 0, 0, 0, NULL);
    aer = nd_push(&f.d, 0, s);
    nd_ring(&f.d, 0);
    f.d.dev = tes_harness_migrate(f.d.h, f.d.dev, &bytes);
    if (!f.d.dev) {
        g_error("migrate: %s", tes_harness_error(f.d.h));
    }
    g_assert_cmpuint(bytes, >, 0);
    g_assert_cmphex(nd_rd32(&f.d, 0x1c), ==, 1);
    while (nd_peek(&f.d, 1, &c, true)) {
        g_assert_cmphex(c.status, ==, 0);
        g_assert_cmpuint(f.d.ram[BUF + 0x1000 * c.cid + 5], ==, pattern(c.cid * 512 + 5));
        got++;
    }
    g_assert_cmpuint(got, ==, 16); /* drained before the save, delivered */
    /* Queues work on the new device; the recorded AER fires. */
    g_assert_cmphex(rw(&f, 0x02, 1, 33, 0, BUF, 0), ==, 0);
    g_assert_cmpuint(f.d.ram[BUF + 7], ==, pattern(33 * 512 + 7));
    nd_wr32(&f.d, 0x1000 + 8 * 9, 1);
    g_assert_true(nd_peek(&f.d, 0, &c, true));
    g_assert_cmpuint(c.cid, ==, aer);
    down(&f);
}

/* A stream is only as good as its checks: f's controller state, bent by
 * bend(), must not load into the destination (one line naming why). */
static void migrate_bent(void (*bend)(nvme_ctrl *n), const char *want)
{
    fixture f;
    const char *err;

    up_io(&f);
    bend(tes_harness_state(f.d.dev));
    g_assert_null(tes_harness_migrate(f.d.h, f.d.dev, NULL));
    err = tes_harness_error(f.d.h);
    g_assert_nonnull(strstr(err, want));
    g_assert_null(strchr(err, '\n'));
    g_test_message("%s", err);
    down(&f);
}

static void bend_aen_count(nvme_ctrl *n)
{
    n->aen_count = 1u << 24;
}

static void bend_aer_count(nvme_ctrl *n)
{
    n->aer_count = NVME_AERL + 2;
}

static void bend_sq_tail(nvme_ctrl *n)
{
    n->sq_tail[1] = n->sq_size[1];
}

static void bend_cq_size(nvme_ctrl *n)
{
    n->cq_size[1] = NVME_MQES + 2;
}

static void bend_sq_cqid(nvme_ctrl *n)
{
    n->sq_cqid[1] = 40000;
}

static void bend_sq_on_absent_cq(nvme_ctrl *n)
{
    n->sq_cqid[1] = 5;
}

static void bend_cq_vector(nvme_ctrl *n)
{
    n->cq_vector[1] = n->msix_qsize;
}

static void test_migrate_refuses_aen_count_beyond_its_queue(void)
{
    /* Loaded, the next admin doorbell overflowed the heap (nvme_aer_post). */
    migrate_bent(bend_aen_count, "aen_count");
    migrate_bent(bend_aer_count, "aer_count");
}

static void test_migrate_refuses_queue_fields_out_of_range(void)
{
    migrate_bent(bend_sq_tail, "SQ 1 in the stream is out of range");
    migrate_bent(bend_cq_size, "CQ 1 in the stream is out of range");
    migrate_bent(bend_sq_cqid, "SQ 1 in the stream is out of range");
    migrate_bent(bend_sq_on_absent_cq, "SQ 1 in the stream is out of range");
    migrate_bent(bend_cq_vector, "CQ 1 in the stream is out of range");
}

/* MSI-X messages of vector vec sent since the last call. */
static unsigned msis_of(fixture *f, uint32_t vec)
{
    uint64_t addr;
    uint32_t data;
    unsigned n = 0;

    while (tes_harness_msi_pop(f->d.h, &addr, &data)) {
        n += data == vec;
    }
    return n;
}

/* Whether the k-th entry past the driver's CQ head has been posted. */
static bool cqe_posted(fixture *f, unsigned qid, unsigned k)
{
    nd_queue *q = &f->d.q[qid];
    unsigned i = (q->head + k) % q->size;
    uint8_t phase = i < q->head ? !q->phase : q->phase;

    return (f->d.ram[q->cq + 16ull * i + 14] & 1) == phase;
}

static void read_async(fixture *f, unsigned slot)
{
    uint32_t cdw[6] = {8 * slot, 0, 7};
    uint8_t s[64];

    nd_sqe(s, 0x02, 1, BUF + 0x1000 * slot, 0, cdw);
    nd_push(&f->d, 1, s);
}

/* Completions posted while a message is unacknowledged (no CQ head
 * doorbell since it was sent) share it; a doorbell that leaves entries
 * behind sends another, so no completion goes unsignalled. */
static void test_msix_one_message_per_batch(void)
{
    fixture f;
    nd_cqe c;

    up_io(&f);
    msis_of(&f, 1);
    for (unsigned i = 0; i < 3; i++) {
        read_async(&f, i);
    }
    nd_ring(&f.d, 1);
    for (int i = 0; i < 1000 && !cqe_posted(&f, 1, 2); i++) {
        tes_harness_block_wait(f.d.h);
    }
    g_assert_true(cqe_posted(&f, 1, 2));
    g_assert_cmpuint(msis_of(&f, 1), ==, 1);
    /* The handler took one entry and left two: a new message. */
    g_assert_true(nd_peek(&f.d, 1, &c, true));
    g_assert_cmpuint(msis_of(&f, 1), ==, 1);
    /* It takes the other two, then acknowledges: nothing left, no message. */
    g_assert_true(nd_peek(&f.d, 1, &c, false));
    g_assert_true(nd_peek(&f.d, 1, &c, false));
    nd_wr32(&f.d, 0x1000 + 12, f.d.q[1].head);
    g_assert_cmpuint(msis_of(&f, 1), ==, 0);
    /* The next completion is signalled again. */
    g_assert_cmphex(rw(&f, 0x02, 1, 40, 0, BUF, 0), ==, 0);
    g_assert_cmpuint(msis_of(&f, 1), ==, 1);
    down(&f);
}

static void test_missing_serial_refused(void)
{
    tes_harness *h = tes_harness_new(RAM_SIZE);

    g_assert_true(tes_harness_load(h, plugin_path));
    g_assert_null(tes_harness_device(h, "nvme", NULL));
    g_assert_nonnull(strstr(tes_harness_error(h), "property 'serial' is required"));
    tes_harness_free(h);
}

/* ---- trace points ---- */

static void qmp_ok(fixture *f, const char *json)
{
    g_autofree char *r = tes_harness_qmp(f->d.h, json);

    g_assert_nonnull(strstr(r, "\"return\""));
}

/* QEMU's event names and formats, only while enabled: a switched-off event
 * prints nothing. */
static void test_trace_points(void)
{
    fixture f;
    const char *log;

    up_with(&f, NULL, true, false);
    tes_harness_log_capture(f.d.h, TES_LOG_TRACE);
    nd_rd32(&f.d, 0x08);
    g_assert_null(strstr(tes_harness_log_text(f.d.h), "pci_nvme"));
    qmp_ok(&f, "{\"execute\": \"trace-event-set-state\","
               " \"arguments\": {\"name\": \"pci_nvme*\", \"enable\": true}}");
    nd_rd32(&f.d, 0x08);
    g_assert_true(nd_enable(&f.d));
    log = tes_harness_log_text(f.d.h);
    g_assert_nonnull(strstr(log, "pci_nvme_mmio_read addr 0x8 size 4\n"));
    g_assert_nonnull(strstr(log, "pci_nvme_mmio_cfg wrote MMIO, config controller config=0x"));
    g_assert_nonnull(strstr(log, "pci_nvme_mmio_start_success setting controller enable bit"));
    g_assert_cmphex(identify(&f, 1, 0), ==, 0);
    log = tes_harness_log_text(f.d.h);
    g_assert_nonnull(strstr(log, "pci_nvme_mmio_doorbell_sq sqid 0 new_tail 1\n"));
    g_assert_nonnull(strstr(log, "pci_nvme_admin_cmd cid "));
    g_assert_nonnull(strstr(log, " opc 0x6\n"));
    g_assert_nonnull(strstr(log, "pci_nvme_enqueue_req_completion cid "));
    g_assert_nonnull(strstr(log, "pci_nvme_irq_msix raising MSI-X IRQ vector 0\n"));
    qmp_ok(&f, "{\"execute\": \"trace-event-set-state\","
               " \"arguments\": {\"name\": \"pci_nvme*\", \"enable\": false}}");
    tes_harness_log_clear(f.d.h);
    g_assert_cmphex(identify(&f, 1, 0), ==, 0);
    g_assert_null(strstr(tes_harness_log_text(f.d.h), "pci_nvme"));
    down(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    plugin_path = argc > 1 ? argv[1] : g_getenv("NVME_PLUGIN");
    if (!plugin_path) {
        g_printerr("usage: %s PLUGIN.so (or set NVME_PLUGIN)\n", argv[0]);
        return 2;
    }
    g_test_add_func("/nvme/regs/reset-values", test_reset_values);
    g_test_add_func("/nvme/regs/enable-disable-shutdown", test_enable_disable_shutdown);
    g_test_add_func("/nvme/regs/unaligned-asq-fails-enable", test_enable_unaligned_asq_fails);
    g_test_add_func("/nvme/admin/identify-controller/reports-mdts-oncs-vwc",
                    test_identify_controller);
    g_test_add_func("/nvme/admin/identify-namespace/reports-size-and-formats",
                    test_identify_namespace);
    g_test_add_func("/nvme/admin/identify-namespace/4k-format", test_identify_4k_format);
    g_test_add_func("/nvme/admin/ns-list-and-descriptors", test_ns_list_and_descriptors);
    g_test_add_func("/nvme/admin/features/queues-and-write-cache", test_features);
    g_test_add_func("/nvme/admin/features/num-queues-legacy-property", test_num_queues_legacy);
    g_test_add_func("/nvme/admin/log-pages", test_logs);
    g_test_add_func("/nvme/io/read-write-prp-list", test_read_write_prp_list);
    g_test_add_func("/nvme/io/write-zeroes-exact-range", test_write_zeroes_exact_range);
    g_test_add_func("/nvme/io/dsm-deallocate-zeroes-ranges", test_dsm_deallocate);
    g_test_add_func("/nvme/io/compare-match-and-mismatch", test_compare);
    g_test_add_func("/nvme/io/second-namespace", test_second_namespace_io);
    g_test_add_func("/nvme/bad/commands-get-nvme-status", test_bad_commands);
    g_test_add_func("/nvme/bad/prp-list-self-loop-is-an-error",
                    test_prp_list_self_loop_is_an_error);
    g_test_add_func("/nvme/bad/mdts-exceeded-is-invalid-field",
                    test_mdts_exceeded_is_invalid_field);
    g_test_add_func("/nvme/bad/doorbell-beyond-queue-sets-cfs",
                    test_doorbell_beyond_queue_sets_cfs);
    g_test_add_func("/nvme/aer/limit-and-invalid-doorbell-event",
                    test_aer_limit_and_invalid_doorbell_event);
    g_test_add_func("/nvme/irq/intx-fallback-and-mask", test_intx_fallback);
    g_test_add_func("/nvme/irq/msix-one-message-per-unacknowledged-batch",
                    test_msix_one_message_per_batch);
    g_test_add_func("/nvme/queue/full-cq-holds-commands", test_full_cq_holds_commands);
    g_test_add_func("/nvme/migration/mid-workload", test_migrate_mid_workload);
    g_test_add_func("/nvme/migration/refuses-aen-count-beyond-its-queue",
                    test_migrate_refuses_aen_count_beyond_its_queue);
    g_test_add_func("/nvme/migration/refuses-queue-fields-out-of-range",
                    test_migrate_refuses_queue_fields_out_of_range);
    g_test_add_func("/nvme/props/missing-serial-refused", test_missing_serial_refused);
    g_test_add_func("/nvme/trace/qemu-names-only-while-enabled", test_trace_points);
    return g_test_run();
}
