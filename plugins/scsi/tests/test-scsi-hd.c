/*
 * scsi-hd and scsi-cd through the harness: commands go through a real
 * virtio-scsi-pci (tests/scsi-drv.h plays the guest driver) to the disk,
 * whose drive is a real raw image read back from the host side. Every
 * command of the user manual, its bad CDBs and out-of-range LBAs.
 * Plugins: $VIRTIO_PLUGIN and $SCSI_PLUGIN (meson sets them).
 */
#include "tests/scsi-drv.h"

#define IMG (8ull << 20)
#define BLOCKS (IMG / 512)

static void hd_up(sd_fixture *f, const char *extra)
{
    g_autofree char *p = g_strdup_printf("drive=d0,bus=scsi0.0,scsi-id=0,lun=0%s%s",
                                         extra ? "," : "", extra ? extra : "");

    sd_harness(f, 2, IMG);
    sd_hba(f, 1, 0);
    sd_dev(f, "scsi-hd", p);
}

/* ---- INQUIRY ---- */

static void test_inquiry_standard(void)
{
    sd_fixture f;
    sd_resp r;
    uint8_t *d;

    hd_up(&f, NULL);
    d = sd_data(&f, 0);
    r = SD_CMD(&f, 0, 0, SD_IN, 96, 0x12, 0, 0, 0, 96, 0);
    SD_ASSERT_GOOD(r);
    g_assert_cmpuint(d[0], ==, 0);                 /* direct access, qualifier 0 */
    g_assert_cmpuint(d[2], ==, 5);                 /* SPC-3 */
    g_assert_cmpmem(d + 8, 8, "QEMU    ", 8);
    g_assert_cmpmem(d + 16, 16, "QEMU HARDDISK   ", 16);
    g_assert_cmpmem(d + 32, 4, "2.5+", 4);
    g_assert_cmpuint(r.resid, ==, 96 - 36);
    g_assert_cmpuint(r.used_len, ==, 108 + 36);
    /* The allocation length cuts the data. */
    r = SD_CMD(&f, 0, 0, SD_IN, 96, 0x12, 0, 0, 0, 5, 0);
    SD_ASSERT_GOOD(r);
    g_assert_cmpuint(r.resid, ==, 91);
    /* A page code without EVPD is an invalid field. */
    r = SD_CMD(&f, 0, 0, SD_IN, 96, 0x12, 0, 0x80, 0, 96, 0);
    SD_ASSERT_SENSE(r, 5, 0x24, 0);
    sd_down(&f);
}

static void test_inquiry_vpd(void)
{
    static const uint8_t pages[] = {0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2};
    sd_fixture f;
    sd_resp r;
    uint8_t *d;

    hd_up(&f, "serial=SER123,wwn=0x5000c50015ea71ac");
    d = sd_data(&f, 0);
    r = SD_CMD(&f, 0, 0, SD_IN, 255, 0x12, 1, 0x00, 0, 255, 0);
    SD_ASSERT_GOOD(r);
    g_assert_cmpuint(d[3], ==, sizeof(pages));
    g_assert_cmpmem(d + 4, sizeof(pages), pages, sizeof(pages));
    for (unsigned i = 0; i < sizeof(pages); i++) {
        r = SD_CMD(&f, 0, 0, SD_IN, 255, 0x12, 1, pages[i], 0, 255, 0);
        SD_ASSERT_GOOD(r);
        g_assert_cmphex(d[1], ==, pages[i]);
    }
    r = SD_CMD(&f, 0, 0, SD_IN, 255, 0x12, 1, 0x80, 0, 255, 0);
    g_assert_cmpuint(d[3], ==, 6);
    g_assert_cmpmem(d + 4, 6, "SER123", 6);
    /* 0x83: T10 vendor designator, then the NAA wwn. */
    r = SD_CMD(&f, 0, 0, SD_IN, 255, 0x12, 1, 0x83, 0, 255, 0);
    g_assert_cmphex(d[5], ==, 0x01);
    g_assert_cmpmem(d + 8, 14, "QEMU    SER123", 14);
    g_assert_cmphex(d[23], ==, 0x03);
    g_assert_cmphex(d[26], ==, 0x50);
    g_assert_cmphex(d[33], ==, 0xac);
    /* 0xb0: WSNZ, unmap limits; 0xb2: LBPU | LBPWS | LBPWS10 | LBPRZ. */
    r = SD_CMD(&f, 0, 0, SD_IN, 255, 0x12, 1, 0xb0, 0, 255, 0);
    g_assert_cmphex(d[4], ==, 1);
    g_assert_cmpuint(d[20] << 24 | d[21] << 16 | d[22] << 8 | d[23], ==, (1u << 30) / 512);
    r = SD_CMD(&f, 0, 0, SD_IN, 255, 0x12, 1, 0xb2, 0, 255, 0);
    g_assert_cmphex(d[5], ==, 0xe4);
    r = SD_CMD(&f, 0, 0, SD_IN, 255, 0x12, 1, 0x99, 0, 255, 0);
    SD_ASSERT_SENSE(r, 5, 0x24, 0);
    sd_down(&f);
}

/* ---- capacity ---- */

static void test_read_capacity(void)
{
    sd_fixture f;
    sd_resp r;
    uint8_t *d;

    hd_up(&f, "logical_block_size=4096,physical_block_size=8192");
    d = sd_data(&f, 0);
    r = SD_CMD(&f, 0, 0, SD_IN, 8, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    SD_ASSERT_GOOD(r);
    g_assert_cmpuint(d[2] << 8 | d[3], ==, IMG / 4096 - 1);
    g_assert_cmpuint(d[6] << 8 | d[7], ==, 4096);
    /* An LBA without PMI is an invalid field. */
    r = SD_CMD(&f, 0, 0, SD_IN, 8, 0x25, 0, 0, 0, 0, 1, 0, 0, 0, 0);
    SD_ASSERT_SENSE(r, 5, 0x24, 0);
    r = SD_CMD(&f, 0, 0, SD_IN, 32, 0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0);
    SD_ASSERT_GOOD(r);
    g_assert_cmpuint(d[6] << 8 | d[7], ==, IMG / 4096 - 1);
    g_assert_cmpuint(d[10] << 8 | d[11], ==, 4096);
    g_assert_cmpuint(d[13], ==, 1);    /* 2 logical blocks per physical */
    g_assert_cmphex(d[14], ==, 0xc0);  /* LBPME, LBPRZ */
    /* Another service action of SERVICE ACTION IN (16). */
    r = SD_CMD(&f, 0, 0, SD_IN, 32, 0x9e, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0);
    SD_ASSERT_SENSE(r, 5, 0x24, 0);
    sd_down(&f);
}

/* ---- READ and WRITE ---- */

static void expect_pattern(const uint8_t *d, uint64_t off, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (d[i] != sd_pattern(off + i)) {
            g_error("byte %zu of data from offset %llu: 0x%02x, wanted 0x%02x", i,
                    (unsigned long long)off, d[i], sd_pattern(off + i));
        }
    }
}

static void test_read_all_sizes(void)
{
    sd_fixture f;
    sd_resp r;

    hd_up(&f, NULL);
    r = SD_CMD(&f, 0, 0, SD_IN, 1024, 0x08, 0, 0, 3, 2, 0); /* READ 6 */
    SD_ASSERT_GOOD(r);
    expect_pattern(sd_data(&f, 0), 3 * 512, 1024);
    r = SD_CMD(&f, 0, 0, SD_IN, 4096, 0x28, 0, 0, 0, 0, 0x10, 0, 0, 8, 0); /* READ 10 */
    SD_ASSERT_GOOD(r);
    expect_pattern(sd_data(&f, 0), 16 * 512, 4096);
    r = SD_CMD(&f, 0, 0, SD_IN, 512, 0xa8, 0, 0, 0, 0x3f, 0xff, 0, 0, 0, 1, 0, 0);
    SD_ASSERT_GOOD(r);
    expect_pattern(sd_data(&f, 0), (BLOCKS - 1) * 512, 512);
    r = SD_CMD(&f, 0, 0, SD_IN, 8192, 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 16, 0, 0);
    SD_ASSERT_GOOD(r);
    expect_pattern(sd_data(&f, 0), 100 * 512, 8192);
    g_assert_cmpuint(r.resid, ==, 0);
    g_assert_cmpuint(r.used_len, ==, 108 + 8192);
    /* A larger buffer than the transfer: the rest is residual. */
    r = SD_CMD(&f, 0, 0, SD_IN, 4096, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);
    SD_ASSERT_GOOD(r);
    g_assert_cmpuint(r.resid, ==, 4096 - 512);
    /* READ 6 with 0 blocks moves 256. */
    r = SD_CMD(&f, 0, 0, SD_IN, 256 * 512, 0x08, 0, 0, 0, 0, 0);
    SD_ASSERT_GOOD(r);
    expect_pattern(sd_data(&f, 0), 0, 256 * 512);
    /* READ 10 of 0 blocks: nothing moves. */
    r = SD_CMD(&f, 0, 0, SD_NONE, 0, 0x28, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    SD_ASSERT_GOOD(r);
    sd_down(&f);
}

static void write_check(sd_fixture *f, uint64_t lba, uint32_t blocks, const uint8_t *cdb,
                        unsigned cdb_len)
{
    uint8_t *d = sd_data(f, 0);
    sd_resp r;

    for (uint32_t i = 0; i < blocks * 512; i++) {
        d[i] = (uint8_t)(i * 3 + cdb[0]);
    }
    r = sd_cmd_q(f, 0, 0, 0, cdb, cdb_len, SD_OUT, blocks * 512);
    SD_ASSERT_GOOD(r);
    g_assert_cmpuint(r.used_len, ==, 108);
    sd_assert_file(f->img[0], lba * 512, d, blocks * 512);
}

static void test_write_reaches_file(void)
{
    static const uint8_t w6[] = {0x0a, 0, 0, 7, 1, 0};
    static const uint8_t w10[] = {0x2a, 0, 0, 0, 0, 0x20, 0, 0, 4, 0};
    static const uint8_t w10fua[] = {0x2a, 0x08, 0, 0, 0, 0x30, 0, 0, 2, 0};
    static const uint8_t w12[] = {0xaa, 0, 0, 0, 0x3f, 0xfe, 0, 0, 0, 2, 0, 0};
    static const uint8_t w16[] = {0x8a, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 8, 0, 0};
    static const uint8_t wv10[] = {0x2e, 0, 0, 0, 0, 0x50, 0, 0, 1, 0};
    sd_fixture f;

    hd_up(&f, NULL);
    write_check(&f, 7, 1, w6, sizeof(w6));
    write_check(&f, 0x20, 4, w10, sizeof(w10));
    write_check(&f, 0x30, 2, w10fua, sizeof(w10fua));
    write_check(&f, BLOCKS - 2, 2, w12, sizeof(w12));
    write_check(&f, 0x40, 8, w16, sizeof(w16));
    write_check(&f, 0x50, 1, wv10, sizeof(wv10));
    sd_down(&f);
}

static void test_out_of_range_and_bad_buffers(void)
{
    sd_fixture f;
    sd_resp r;

    hd_up(&f, NULL);
    /* The last block plus one. */
    r = SD_CMD(&f, 0, 0, SD_IN, 1024, 0x28, 0, 0, 0, 0x3f, 0xff, 0, 0, 2, 0);
    SD_ASSERT_SENSE(r, 5, 0x21, 0);
    g_assert_cmpuint(r.resid, ==, 1024);
    /* An LBA whose sum with the length wraps around. */
    r = SD_CMD(&f, 0, 0, SD_IN, 1024, 0x88, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
               0, 0, 0, 2, 0, 0);
    SD_ASSERT_SENSE(r, 5, 0x21, 0);
    r = SD_CMD(&f, 0, 0, SD_OUT, 512, 0x0a, 0x1f, 0xff, 0xff, 1, 0);
    SD_ASSERT_SENSE(r, 5, 0x21, 0);
    /* More data than the buffer holds, or the other direction: overrun. */
    r = SD_CMD(&f, 0, 0, SD_IN, 512, 0x28, 0, 0, 0, 0, 0, 0, 0, 2, 0);
    g_assert_cmpuint(r.response, ==, 1);
    r = SD_CMD(&f, 0, 0, SD_OUT, 512, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);
    g_assert_cmpuint(r.response, ==, 1);
    r = SD_CMD(&f, 0, 0, SD_IN, 512, 0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0);
    g_assert_cmpuint(r.response, ==, 1);
    /* RDPROTECT without protection information. */
    r = SD_CMD(&f, 0, 0, SD_IN, 512, 0x28, 0x20, 0, 0, 0, 0, 0, 0, 1, 0);
    SD_ASSERT_SENSE(r, 5, 0x24, 0);
    /* Unknown opcodes. */
    r = SD_CMD(&f, 0, 0, SD_NONE, 0, 0xff, 0, 0, 0, 0, 0);
    SD_ASSERT_SENSE(r, 5, 0x20, 0);
    r = SD_CMD(&f, 0, 0, SD_NONE, 0, 0x02, 0, 0, 0, 0, 0);
    SD_ASSERT_SENSE(r, 5, 0x20, 0);
    /* The image is untouched. */
    sd_assert_file(f.img[0], 0, (uint8_t[]){sd_pattern(0), sd_pattern(1)}, 2);
    sd_down(&f);
}

/* ---- VERIFY, WRITE SAME, UNMAP, SYNCHRONIZE CACHE ---- */

static void test_verify(void)
{
    sd_fixture f;
    sd_resp r;
    uint8_t *d;

    hd_up(&f, NULL);
    d = sd_data(&f, 0);
    r = SD_CMD(&f, 0, 0, SD_NONE, 0, 0x2f, 0, 0, 0, 0, 8, 0, 0, 4, 0);
    SD_ASSERT_GOOD(r);
    for (unsigned i = 0; i < 1024; i++) {
        d[i] = sd_pattern(8 * 512 + i);
    }
    r = SD_CMD(&f, 0, 0, SD_OUT, 1024, 0x2f, 0x02, 0, 0, 0, 8, 0, 0, 2, 0);
    SD_ASSERT_GOOD(r);
    d[700] ^= 1;
    r = SD_CMD(&f, 0, 0, SD_OUT, 1024, 0x2f, 0x02, 0, 0, 0, 8, 0, 0, 2, 0);
    SD_ASSERT_SENSE(r, 0xe, 0x1d, 0);
    r = SD_CMD(&f, 0, 0, SD_NONE, 0, 0x8f, 0, 0, 0, 0, 0, 0, 0, 0x3f, 0xff, 0, 0, 0, 2, 0, 0);
    SD_ASSERT_SENSE(r, 5, 0x21, 0);
    r = SD_CMD(&f, 0, 0, SD_NONE, 0, 0xaf, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0);
    SD_ASSERT_GOOD(r);
    sd_down(&f);
}

static void test_write_same(void)
{
    g_autofree uint8_t *want = g_malloc(64 * 512);
    uint8_t *d;
    sd_fixture f;
    sd_resp r;

    hd_up(&f, NULL);
    d = sd_data(&f, 0);
    for (unsigned i = 0; i < 512; i++) {
        d[i] = (uint8_t)(i ^ 0x5a);
    }
    for (unsigned i = 0; i < 64 * 512; i++) {
        want[i] = (uint8_t)((i % 512) ^ 0x5a);
    }
    r = SD_CMD(&f, 0, 0, SD_OUT, 512, 0x41, 0, 0, 0, 1, 0, 0, 0, 64, 0);
    SD_ASSERT_GOOD(r);
    sd_assert_file(f.img[0], 256 * 512, want, 64 * 512);
    /* More than one pattern buffer (512 KiB): 2100 blocks in 3 chunks. */
    {
        g_autofree uint8_t *big = g_malloc(2100 * 512);
        for (unsigned i = 0; i < 2100 * 512; i++) {
            big[i] = (uint8_t)((i % 512) ^ 0x5a);
        }
        r = SD_CMD(&f, 0, 0, SD_OUT, 512, 0x93, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0x08, 0x34,
                   0, 0);
        SD_ASSERT_GOOD(r);
        sd_assert_file(f.img[0], 4096 * 512, big, 2100 * 512);
        sd_assert_file(f.img[0], 6196 * 512, (uint8_t[]){sd_pattern(6196 * 512)}, 1);
    }
    /* WRITE SAME 16 with UNMAP of a zero block, and with NDOB. */
    memset(d, 0, 512);
    memset(want, 0, 64 * 512);
    r = SD_CMD(&f, 0, 0, SD_OUT, 512, 0x93, 0x08, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 64, 0,
               0);
    SD_ASSERT_GOOD(r);
    sd_assert_file(f.img[0], 512 * 512, want, 64 * 512);
    r = SD_CMD(&f, 0, 0, SD_NONE, 0, 0x93, 0x09, 0, 0, 0, 0, 0, 0, 0x03, 0, 0, 0, 0, 64, 0, 0);
    SD_ASSERT_GOOD(r);
    sd_assert_file(f.img[0], 768 * 512, want, 64 * 512);
    /* 0 blocks (WSNZ), ANCHOR, out of range. */
    r = SD_CMD(&f, 0, 0, SD_OUT, 512, 0x41, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    SD_ASSERT_SENSE(r, 5, 0x24, 0);
    r = SD_CMD(&f, 0, 0, SD_OUT, 512, 0x41, 0x10, 0, 0, 0, 0, 0, 0, 1, 0);
    SD_ASSERT_SENSE(r, 5, 0x24, 0);
    r = SD_CMD(&f, 0, 0, SD_OUT, 512, 0x41, 0, 0, 0, 0x3f, 0xff, 0, 0, 2, 0);
    SD_ASSERT_SENSE(r, 5, 0x21, 0);
    sd_down(&f);
}

static void put_unmap(uint8_t *d, uint64_t lba, uint32_t n)
{
    memset(d, 0, 24);
    d[1] = 22, d[3] = 16;
    for (int i = 0; i < 8; i++) {
        d[8 + i] = lba >> (56 - 8 * i);
    }
    d[16] = n >> 24, d[17] = n >> 16, d[18] = n >> 8, d[19] = n;
}

static void test_unmap(void)
{
    uint8_t zero[4096] = {0};
    sd_fixture f;
    sd_resp r;

    hd_up(&f, NULL);
    put_unmap(sd_data(&f, 0), 40, 8);
    r = SD_CMD(&f, 0, 0, SD_OUT, 24, 0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0);
    SD_ASSERT_GOOD(r);
    sd_assert_file(f.img[0], 40 * 512, zero, 4096);
    sd_assert_file(f.img[0], 48 * 512, (uint8_t[]){sd_pattern(48 * 512)}, 1);
    put_unmap(sd_data(&f, 0), BLOCKS - 1, 2);
    r = SD_CMD(&f, 0, 0, SD_OUT, 24, 0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0);
    SD_ASSERT_SENSE(r, 5, 0x21, 0);
    r = SD_CMD(&f, 0, 0, SD_OUT, 4, 0x42, 0, 0, 0, 0, 0, 0, 0, 4, 0);
    SD_ASSERT_SENSE(r, 5, 0x1a, 0);
    r = SD_CMD(&f, 0, 0, SD_OUT, 24, 0x42, 1, 0, 0, 0, 0, 0, 0, 24, 0);
    SD_ASSERT_SENSE(r, 5, 0x24, 0);
    sd_down(&f);
}

static void test_sync_cache(void)
{
    sd_fixture f;
    sd_resp r;

    hd_up(&f, NULL);
    r = SD_CMD(&f, 0, 0, SD_NONE, 0, 0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    SD_ASSERT_GOOD(r);
    r = SD_CMD(&f, 0, 0, SD_NONE, 0, 0x91, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0);
    SD_ASSERT_GOOD(r);
    r = SD_CMD(&f, 0, 0, SD_NONE, 0, 0x35, 0, 0, 0, 0x40, 0, 0, 0, 1, 0);
    SD_ASSERT_SENSE(r, 5, 0x21, 0);
    sd_down(&f);
}

/* ---- MODE SENSE / SELECT ---- */

static void test_mode_sense(void)
{
    sd_fixture f;
    sd_resp r;
    uint8_t *d;

    hd_up(&f, NULL);
    d = sd_data(&f, 0);
    r = SD_CMD(&f, 0, 0, SD_IN, 255, 0x1a, 0, 0x08, 0, 255, 0);
    SD_ASSERT_GOOD(r);
    g_assert_cmpuint(d[0], ==, 3 + 8 + 20);
    g_assert_cmphex(d[2], ==, 0x10); /* DPOFUA, not write protected */
    g_assert_cmpuint(d[3], ==, 8);
    g_assert_cmpuint(d[10] << 8 | d[11], ==, 512);
    g_assert_cmphex(d[12], ==, 0x08);
    g_assert_cmphex(d[14] & 0x04, ==, 0x04); /* WCE */
    /* All pages, no block descriptor, MODE SENSE 10. */
    r = SD_CMD(&f, 0, 0, SD_IN, 255, 0x5a, 0x08, 0x3f, 0, 0, 0, 0, 0, 255, 0);
    SD_ASSERT_GOOD(r);
    g_assert_cmpuint(d[0] << 8 | d[1], ==, 6 + 20 + 12);
    g_assert_cmphex(d[8], ==, 0x08);
    g_assert_cmphex(d[28], ==, 0x0a);
    /* Changeable values: WCE. */
    r = SD_CMD(&f, 0, 0, SD_IN, 255, 0x1a, 0x08, 0x48, 0, 255, 0);
    g_assert_cmphex(d[6], ==, 0x04);
    r = SD_CMD(&f, 0, 0, SD_IN, 255, 0x1a, 0, 0xc8, 0, 255, 0);
    SD_ASSERT_SENSE(r, 5, 0x39, 0);
    r = SD_CMD(&f, 0, 0, SD_IN, 255, 0x1a, 0, 0x1c, 0, 255, 0);
    SD_ASSERT_SENSE(r, 5, 0x24, 0);
    r = SD_CMD(&f, 0, 0, SD_IN, 255, 0x1a, 0, 0x08, 1, 255, 0);
    SD_ASSERT_SENSE(r, 5, 0x24, 0);
    sd_down(&f);
}

static void test_mode_select_wce(void)
{
    sd_fixture f;
    sd_resp r;
    uint8_t *d;

    hd_up(&f, NULL);
    d = sd_data(&f, 0);
    r = SD_CMD(&f, 0, 0, SD_IN, 255, 0x1a, 0x08, 0x08, 0, 255, 0);
    SD_ASSERT_GOOD(r);
    d[0] = 0;
    d[6] &= ~0x04; /* clear WCE in the caching page we read */
    r = SD_CMD(&f, 0, 0, SD_OUT, 24, 0x15, 0x10, 0, 0, 24, 0);
    SD_ASSERT_GOOD(r);
    r = SD_CMD(&f, 0, 0, SD_IN, 255, 0x1a, 0x08, 0x08, 0, 255, 0);
    g_assert_cmphex(d[6] & 0x04, ==, 0);
    /* A bit that is not changeable. */
    d[0] = 0;
    d[7] |= 0x01;
    r = SD_CMD(&f, 0, 0, SD_OUT, 24, 0x15, 0x10, 0, 0, 24, 0);
    SD_ASSERT_SENSE(r, 5, 0x26, 0);
    /* Save pages; a truncated page. */
    r = SD_CMD(&f, 0, 0, SD_OUT, 24, 0x15, 0x11, 0, 0, 24, 0);
    SD_ASSERT_SENSE(r, 5, 0x24, 0);
    r = SD_CMD(&f, 0, 0, SD_OUT, 10, 0x15, 0x10, 0, 0, 10, 0);
    SD_ASSERT_SENSE(r, 5, 0x1a, 0);
    /* A reset brings WCE back. */
    sd_reset(&f, 0);
    r = SD_CMD(&f, 0, 0, SD_IN, 255, 0x1a, 0x08, 0x08, 0, 255, 0);
    SD_ASSERT_SENSE(r, 6, 0x29, 0);
    r = SD_CMD(&f, 0, 0, SD_IN, 255, 0x1a, 0x08, 0x08, 0, 255, 0);
    g_assert_cmphex(d[6] & 0x04, ==, 0x04);
    sd_down(&f);
}

/* ---- unit attention, REQUEST SENSE, REPORT LUNS, absent LUNs ---- */

static void test_unit_attention_after_reset(void)
{
    sd_fixture f;
    sd_resp r;
    uint8_t *d;

    hd_up(&f, NULL);
    d = sd_data(&f, 0);
    r = SD_CMD(&f, 0, 0, SD_NONE, 0, 0x00, 0, 0, 0, 0, 0);
    SD_ASSERT_GOOD(r);
    sd_reset(&f, 0);
    /* INQUIRY does not consume it; REQUEST SENSE returns and clears it. */
    r = SD_CMD(&f, 0, 0, SD_IN, 96, 0x12, 0, 0, 0, 96, 0);
    SD_ASSERT_GOOD(r);
    r = SD_CMD(&f, 0, 0, SD_IN, 18, 0x03, 0, 0, 0, 18, 0);
    SD_ASSERT_GOOD(r);
    g_assert_cmphex(d[0], ==, 0x70);
    g_assert_cmphex(d[2], ==, 6);
    g_assert_cmphex(d[12], ==, 0x29);
    r = SD_CMD(&f, 0, 0, SD_IN, 18, 0x03, 0, 0, 0, 18, 0);
    g_assert_cmphex(d[2], ==, 0);
    /* Descriptor format. */
    r = SD_CMD(&f, 0, 0, SD_IN, 18, 0x03, 1, 0, 0, 18, 0);
    g_assert_cmphex(d[0], ==, 0x72);
    /* After the next reset the TEST UNIT READY gets it, then GOOD. */
    sd_reset(&f, 0);
    r = SD_CMD(&f, 0, 0, SD_NONE, 0, 0x00, 0, 0, 0, 0, 0);
    SD_ASSERT_SENSE(r, 6, 0x29, 0);
    r = SD_CMD(&f, 0, 0, SD_NONE, 0, 0x00, 0, 0, 0, 0, 0);
    SD_ASSERT_GOOD(r);
    r = SD_CMD(&f, 0, 0, SD_NONE, 0, 0x1b, 0, 0, 0, 1, 0); /* START STOP UNIT */
    SD_ASSERT_GOOD(r);
    sd_down(&f);
}

static void test_report_luns_and_absent_luns(void)
{
    sd_fixture f;
    sd_resp r;
    uint8_t *d;

    hd_up(&f, NULL);
    sd_dev(&f, "scsi-hd", "drive=d1,bus=scsi0.0,scsi-id=0,lun=300");
    d = sd_data(&f, 0);
    r = SD_CMD(&f, 0, 0, SD_IN, 64, 0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0);
    SD_ASSERT_GOOD(r);
    g_assert_cmpuint(d[3], ==, 16);
    g_assert_cmphex(d[8], ==, 0);
    g_assert_cmphex(d[9], ==, 0);
    g_assert_cmphex(d[16], ==, 0x41);
    g_assert_cmphex(d[17], ==, 300 & 0xff);
    /* Answered for an absent LUN of the target too. */
    r = SD_CMD(&f, 0, 7, SD_IN, 64, 0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0);
    SD_ASSERT_GOOD(r);
    g_assert_cmpuint(d[3], ==, 16);
    r = SD_CMD(&f, 0, 0, SD_IN, 64, 0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0);
    SD_ASSERT_SENSE(r, 5, 0x24, 0);
    r = SD_CMD(&f, 0, 0, SD_IN, 64, 0xa0, 0, 5, 0, 0, 0, 0, 0, 0, 64, 0, 0);
    SD_ASSERT_SENSE(r, 5, 0x24, 0);
    /* Absent LUN: INQUIRY qualifier 3, anything else LUN NOT SUPPORTED. */
    r = SD_CMD(&f, 0, 7, SD_IN, 96, 0x12, 0, 0, 0, 96, 0);
    SD_ASSERT_GOOD(r);
    g_assert_cmphex(d[0], ==, 0x7f);
    r = SD_CMD(&f, 0, 7, SD_NONE, 0, 0x00, 0, 0, 0, 0, 0);
    SD_ASSERT_SENSE(r, 5, 0x25, 0);
    /* Absent target: BAD_TARGET. */
    r = SD_CMD(&f, 3, 0, SD_NONE, 0, 0x00, 0, 0, 0, 0, 0);
    g_assert_cmpuint(r.response, ==, 3);
    sd_down(&f);
}

static void test_read_only_drive(void)
{
    sd_fixture f;
    sd_resp r;
    g_autofree char *opt = NULL;
    uint8_t *d;

    sd_harness(&f, 1, IMG);
    opt = g_strdup_printf("file=%s,if=none,id=ro,format=raw,readonly=on", f.img[0]);
    g_assert_true(tes_harness_drive(f.d.h, opt));
    sd_hba(&f, 1, 0);
    sd_dev(&f, "scsi-hd", "drive=ro,bus=scsi0.0,scsi-id=0");
    d = sd_data(&f, 0);
    r = SD_CMD(&f, 0, 0, SD_OUT, 512, 0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0);
    SD_ASSERT_SENSE(r, 7, 0x27, 0);
    r = SD_CMD(&f, 0, 0, SD_IN, 255, 0x1a, 0, 0x3f, 0, 255, 0);
    g_assert_cmphex(d[2] & 0x80, ==, 0x80);
    sd_down(&f);
}

static void test_bad_properties_refused(void)
{
    sd_fixture f;

    sd_harness(&f, 2, IMG);
    sd_hba(&f, 1, 0);
    sd_dev(&f, "scsi-hd", "drive=d0,bus=scsi0.0,scsi-id=0,lun=0");
    g_assert_null(tes_harness_device(f.d.h, "scsi-hd", "drive=d1,bus=scsi0.0,scsi-id=0,lun=0"));
    g_assert_nonnull(strstr(tes_harness_error(f.d.h), "is taken"));
    g_assert_null(tes_harness_device(f.d.h, "scsi-hd", "drive=d1,bus=scsi0.0,scsi-id=256"));
    g_assert_null(tes_harness_device(f.d.h, "scsi-hd", "drive=d1,bus=scsi0.0,channel=1"));
    g_assert_null(tes_harness_device(f.d.h, "scsi-hd",
                                     "drive=d1,bus=scsi0.0,logical_block_size=1000"));
    g_assert_null(tes_harness_device(f.d.h, "scsi-hd", "bus=scsi0.0"));
    /* Without scsi-id: the first free one (1). */
    sd_dev(&f, "scsi-hd", "drive=d1,bus=scsi0.0");
    SD_ASSERT_GOOD(SD_CMD(&f, 1, 0, SD_NONE, 0, 0x00, 0, 0, 0, 0, 0));
    sd_down(&f);
}

/* ---- scsi-cd ---- */

static void cd_up(sd_fixture *f, bool media)
{
    sd_harness(f, 1, IMG);
    sd_hba(f, 1, 0);
    sd_dev(f, "scsi-cd", media ? "drive=d0,bus=scsi0.0,scsi-id=2" : "bus=scsi0.0,scsi-id=2");
}

static void test_cd_identity_and_reads(void)
{
    sd_fixture f;
    sd_resp r;
    uint8_t *d;

    cd_up(&f, true);
    d = sd_data(&f, 0);
    r = SD_CMD(&f, 2, 0, SD_IN, 96, 0x12, 0, 0, 0, 96, 0);
    SD_ASSERT_GOOD(r);
    g_assert_cmphex(d[0], ==, 5);
    g_assert_cmphex(d[1], ==, 0x80);
    g_assert_cmpmem(d + 16, 16, "QEMU CD-ROM     ", 16);
    r = SD_CMD(&f, 2, 0, SD_IN, 8, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    SD_ASSERT_GOOD(r);
    g_assert_cmpuint(d[2] << 8 | d[3], ==, IMG / 2048 - 1);
    g_assert_cmpuint(d[6] << 8 | d[7], ==, 2048);
    r = SD_CMD(&f, 2, 0, SD_IN, 4096, 0x28, 0, 0, 0, 0, 3, 0, 0, 2, 0);
    SD_ASSERT_GOOD(r);
    expect_pattern(d, 3 * 2048, 4096);
    r = SD_CMD(&f, 2, 0, SD_IN, 2048, 0xa8, 0, 0, 0, 0x10, 0, 0, 0, 0, 1, 0, 0);
    SD_ASSERT_SENSE(r, 5, 0x21, 0);
    r = SD_CMD(&f, 2, 0, SD_OUT, 2048, 0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0);
    SD_ASSERT_SENSE(r, 7, 0x27, 0);
    r = SD_CMD(&f, 2, 0, SD_OUT, 512, 0x0a, 0, 0, 0, 1, 0);
    SD_ASSERT_SENSE(r, 5, 0x20, 0);
    sd_down(&f);
}

static void test_cd_toc_config_events(void)
{
    sd_fixture f;
    sd_resp r;
    uint8_t *d;

    cd_up(&f, true);
    d = sd_data(&f, 0);
    /* READ TOC format 0, LBA: track 1 at 0, lead-out at the end. */
    r = SD_CMD(&f, 2, 0, SD_IN, 64, 0x43, 0, 0, 0, 0, 0, 0, 0, 64, 0);
    SD_ASSERT_GOOD(r);
    g_assert_cmpuint(d[1], ==, 18);
    g_assert_cmphex(d[6], ==, 1);
    g_assert_cmphex(d[14], ==, 0xaa);
    g_assert_cmpuint(d[18] << 8 | d[19], ==, IMG / 2048);
    /* MSF: track 1 at 00:02:00. */
    r = SD_CMD(&f, 2, 0, SD_IN, 64, 0x43, 0x02, 0, 0, 0, 0, 0, 0, 64, 0);
    g_assert_cmpuint(d[9], ==, 0);
    g_assert_cmpuint(d[10], ==, 2);
    g_assert_cmpuint(d[11], ==, 0);
    r = SD_CMD(&f, 2, 0, SD_IN, 64, 0x43, 0, 1, 0, 0, 0, 0, 0, 64, 0); /* sessions */
    SD_ASSERT_GOOD(r);
    g_assert_cmpuint(d[1], ==, 10);
    r = SD_CMD(&f, 2, 0, SD_IN, 64, 0x43, 0, 2, 0, 0, 0, 0, 0, 64, 0);
    SD_ASSERT_SENSE(r, 5, 0x24, 0);
    r = SD_CMD(&f, 2, 0, SD_IN, 64, 0x43, 0, 0, 0, 0, 0, 5, 0, 64, 0);
    SD_ASSERT_SENSE(r, 5, 0x24, 0);
    /* GET CONFIGURATION: current profile CD-ROM. */
    r = SD_CMD(&f, 2, 0, SD_IN, 64, 0x46, 0, 0, 0, 0, 0, 0, 0, 64, 0);
    SD_ASSERT_GOOD(r);
    g_assert_cmpuint(d[6] << 8 | d[7], ==, 0x0008);
    r = SD_CMD(&f, 2, 0, SD_IN, 64, 0x46, 2, 0, 3, 0, 0, 0, 0, 64, 0);
    g_assert_cmpuint(d[3], ==, 4 + 8);
    g_assert_cmpuint(d[9], ==, 3);
    r = SD_CMD(&f, 2, 0, SD_IN, 64, 0x46, 3, 0, 0, 0, 0, 0, 0, 64, 0);
    SD_ASSERT_SENSE(r, 5, 0x24, 0);
    /* GESN: polled only, media class. */
    r = SD_CMD(&f, 2, 0, SD_IN, 8, 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0);
    SD_ASSERT_GOOD(r);
    g_assert_cmphex(d[2], ==, 4);
    g_assert_cmphex(d[5], ==, 2); /* medium present, tray closed */
    r = SD_CMD(&f, 2, 0, SD_IN, 8, 0x4a, 0, 0, 0, 0x10, 0, 0, 0, 8, 0);
    SD_ASSERT_SENSE(r, 5, 0x24, 0);
    /* Capabilities page. */
    r = SD_CMD(&f, 2, 0, SD_IN, 128, 0x5a, 0x08, 0x2a, 0, 0, 0, 0, 0, 128, 0);
    SD_ASSERT_GOOD(r);
    g_assert_cmphex(d[8], ==, 0x2a);
    sd_down(&f);
}

static void test_cd_tray_and_media_change(void)
{
    sd_fixture f;
    sd_resp r;
    uint8_t *d;

    cd_up(&f, true);
    d = sd_data(&f, 0);
    SD_ASSERT_GOOD(SD_CMD(&f, 2, 0, SD_NONE, 0, 0x1e, 0, 0, 0, 1, 0)); /* prevent */
    r = SD_CMD(&f, 2, 0, SD_NONE, 0, 0x1b, 0, 0, 0, 0x02, 0);         /* eject */
    SD_ASSERT_SENSE(r, 5, 0x53, 0x02);
    SD_ASSERT_GOOD(SD_CMD(&f, 2, 0, SD_NONE, 0, 0x1e, 0, 0, 0, 0, 0)); /* allow */
    SD_ASSERT_GOOD(SD_CMD(&f, 2, 0, SD_NONE, 0, 0x1b, 0, 0, 0, 0x02, 0));
    r = SD_CMD(&f, 2, 0, SD_NONE, 0, 0x00, 0, 0, 0, 0, 0);
    SD_ASSERT_SENSE(r, 2, 0x3a, 0x02);
    r = SD_CMD(&f, 2, 0, SD_IN, 2048, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);
    SD_ASSERT_SENSE(r, 2, 0x3a, 0x02);
    r = SD_CMD(&f, 2, 0, SD_IN, 8, 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0);
    g_assert_cmphex(d[4], ==, 3); /* media removal */
    g_assert_cmphex(d[5], ==, 1); /* tray open */
    r = SD_CMD(&f, 2, 0, SD_NONE, 0, 0x1b, 0, 0, 0, 0x03, 0); /* load */
    SD_ASSERT_GOOD(r);
    r = SD_CMD(&f, 2, 0, SD_NONE, 0, 0x00, 0, 0, 0, 0, 0);
    SD_ASSERT_SENSE(r, 6, 0x28, 0);
    r = SD_CMD(&f, 2, 0, SD_IN, 8, 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0);
    g_assert_cmphex(d[4], ==, 2); /* new media */
    SD_ASSERT_GOOD(SD_CMD(&f, 2, 0, SD_NONE, 0, 0x00, 0, 0, 0, 0, 0));
    sd_down(&f);
}

static void test_cd_empty_drive(void)
{
    sd_fixture f;
    sd_resp r;

    cd_up(&f, false);
    r = SD_CMD(&f, 2, 0, SD_NONE, 0, 0x00, 0, 0, 0, 0, 0);
    SD_ASSERT_SENSE(r, 2, 0x3a, 0);
    r = SD_CMD(&f, 2, 0, SD_IN, 64, 0x46, 0, 0, 0, 0, 0, 0, 0, 64, 0);
    SD_ASSERT_GOOD(r);
    g_assert_cmpuint(sd_data(&f, 0)[7], ==, 0); /* no current profile */
    sd_down(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    sd_plugins_from_env(argc, argv);
    g_test_add_func("/scsi-hd/inquiry/standard-data-and-allocation-length",
                    test_inquiry_standard);
    g_test_add_func("/scsi-hd/inquiry/vpd-pages-00-80-83-b0-b1-b2", test_inquiry_vpd);
    g_test_add_func("/scsi-hd/read-capacity/10-and-16", test_read_capacity);
    g_test_add_func("/scsi-hd/read/6-10-12-16-return-the-image", test_read_all_sizes);
    g_test_add_func("/scsi-hd/write/6-10-12-16-reach-the-image", test_write_reaches_file);
    g_test_add_func("/scsi-hd/bad/out-of-range-overrun-and-opcodes",
                    test_out_of_range_and_bad_buffers);
    g_test_add_func("/scsi-hd/verify/bytchk-0-and-1-miscompare", test_verify);
    g_test_add_func("/scsi-hd/write-same/pattern-unmap-ndob", test_write_same);
    g_test_add_func("/scsi-hd/unmap/zeroes-range-and-bad-lists", test_unmap);
    g_test_add_func("/scsi-hd/sync-cache/10-16-and-range", test_sync_cache);
    g_test_add_func("/scsi-hd/mode-sense/caching-control-all-pages", test_mode_sense);
    g_test_add_func("/scsi-hd/mode-select/wce-changes-and-resets", test_mode_select_wce);
    g_test_add_func("/scsi-hd/unit-attention/after-reset-then-good",
                    test_unit_attention_after_reset);
    g_test_add_func("/scsi-hd/report-luns/and-absent-luns-and-targets",
                    test_report_luns_and_absent_luns);
    g_test_add_func("/scsi-hd/read-only-drive/write-protected", test_read_only_drive);
    g_test_add_func("/scsi-hd/properties/bad-ones-refused", test_bad_properties_refused);
    g_test_add_func("/scsi-cd/identity-capacity-reads", test_cd_identity_and_reads);
    g_test_add_func("/scsi-cd/toc-configuration-events", test_cd_toc_config_events);
    g_test_add_func("/scsi-cd/tray-lock-eject-load-media-change", test_cd_tray_and_media_change);
    g_test_add_func("/scsi-cd/empty-drive-not-ready", test_cd_empty_drive);
    return g_test_run();
}
