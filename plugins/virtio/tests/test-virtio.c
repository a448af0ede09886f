/*
 * virtio plugin tests through the harness: no guest, no CPU. An in-test
 * driver (virtio-drv.h) builds split virtqueues in harness RAM and drives
 * virtio-pci and virtio-mmio registers; requests go to a real raw image
 * through the core's asynchronous block layer. The plugin file comes from
 * $VIRTIO_PLUGIN (meson sets it) or the first argument.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>
#include <tessera/harness.h>

#include "tests/virtio-drv.h"
#include "virtio-int.h"
#include <tessera/virtio.h>

#define RAM_SIZE (64ull << 20)
#define IMG_SIZE (8ull << 20)
#define HDR_BASE 0x800000ull
#define DATA_BASE 0x1000000ull
#define F_VERSION_1 (1ull << 32)
#define F_INDIRECT (1ull << 28)
#define F_EVENT_IDX (1ull << 29)
#define BLK_F_MQ (1ull << 12)
#define BLK_F_DISCARD (1ull << 13)
#define BLK_F_WZ (1ull << 14)
#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_FLUSH 4
#define BLK_T_GET_ID 8
#define BLK_T_DISCARD 11
#define BLK_T_WRITE_ZEROES 13
#define S_NEEDS_RESET 0x40

static const char *plugin_path;

typedef struct fixture {
    vd d;
    char *img;
} fixture;

static uint8_t pattern(uint64_t i)
{
    return (uint8_t)(i * 7 + i / 512 + 1);
}

static char *make_image(void)
{
    g_autofree uint8_t *buf = g_malloc(IMG_SIZE);
    char *path = NULL;
    int fd = g_file_open_tmp("virtio-test-XXXXXX.img", &path, NULL);

    g_assert_cmpint(fd, >=, 0);
    for (uint64_t i = 0; i < IMG_SIZE; i++) {
        buf[i] = pattern(i);
    }
    g_assert_cmpint(write(fd, buf, IMG_SIZE), ==, (ssize_t)IMG_SIZE);
    close(fd);
    return path;
}

static void harness_up(fixture *f)
{
    memset(f, 0, sizeof(*f));
    f->d.h = tes_harness_new(RAM_SIZE);
    g_assert_true(tes_harness_load(f->d.h, plugin_path));
    f->d.ram = tes_harness_ram(f->d.h);
}

static void map_pci(fixture *f)
{
    f->d.pci = true;
    f->d.base = VD_BAR4;
    g_assert_cmphex(tes_harness_bar_map(f->d.h, f->d.dev, 4, VD_BAR4), ==, VD_BAR4);
}

static void pci_up(fixture *f, const char *type, const char *props)
{
    harness_up(f);
    if (g_str_has_prefix(type, "virtio-blk")) {
        f->img = make_image();
        g_autofree char *opt = g_strdup_printf("file=%s,if=none,id=d0,format=raw", f->img);
        g_assert_true(tes_harness_drive(f->d.h, opt));
    }
    f->d.dev = tes_harness_device(f->d.h, type, props);
    if (!f->d.dev) {
        g_error("%s: %s", type, tes_harness_error(f->d.h));
    }
    map_pci(f);
}

static tes_device *mmio_transport(fixture *f, uint64_t at)
{
    const tes_host *H = tes_harness_host(f->d.h);
    const tes_virtio_mmio_ops *mo =
        H->iface_lookup(TES_VIRTIO_MMIO_IFACE, TES_VIRTIO_MMIO_IFACE_VERSION);
    tes_device *t = tes_harness_device(f->d.h, "virtio-mmio", NULL);

    g_assert_nonnull(mo);
    g_assert_nonnull(t);
    g_assert_nonnull(mo->region(t));
    /* The same region as a platform device's region 0 (SDK 1.2). */
    g_assert_true(H->dev_mmio(t, 0) == mo->region(t));
    H->region_add(H->system_memory(), at, mo->region(t), 0);
    return t;
}

/* A virtio-mmio transport at VD_MMIO_BASE carrying a virtio-blk-device. */
static void mmio_blk_up(fixture *f, const char *props)
{
    g_autofree char *opt = NULL, *p = NULL;

    harness_up(f);
    f->img = make_image();
    opt = g_strdup_printf("file=%s,if=none,id=d0,format=raw", f->img);
    g_assert_true(tes_harness_drive(f->d.h, opt));
    f->d.dev = mmio_transport(f, VD_MMIO_BASE);
    p = g_strdup_printf("drive=d0,bus=virtio-mmio-bus.0%s%s", props ? "," : "", props ? props : "");
    g_assert_nonnull(tes_harness_device(f->d.h, "virtio-blk-device", p));
    f->d.base = VD_MMIO_BASE;
}

static void down(fixture *f)
{
    tes_harness_free(f->d.h);
    if (f->img) {
        g_unlink(f->img);
        g_free(f->img);
    }
}

/* ---- block requests ---- */

static uint64_t hdr_addr(unsigned qi, unsigned slot)
{
    return HDR_BASE + (qi * 256ull + slot) * 32;
}

static uint64_t data_addr(unsigned qi, unsigned slot)
{
    return DATA_BASE + (qi * 64ull + slot % 64) * 0x10000;
}

/* Header, optional data, status: descriptors 3*slot.. of queue qi. */
static void blk_req(vd *d, unsigned qi, unsigned slot, uint32_t type, uint64_t sector,
                    uint32_t len, bool dev_writes)
{
    uint64_t hdr = hdr_addr(qi, slot);
    unsigned j = slot * 3;
    uint32_t zero = 0;

    memcpy(d->ram + hdr, &type, 4);
    memcpy(d->ram + hdr + 4, &zero, 4);
    memcpy(d->ram + hdr + 8, &sector, 8);
    d->ram[hdr + 16] = 0xff;
    vd_desc(d, d->q[qi].desc, j, hdr, 16, VD_F_NEXT, j + 1);
    if (len) {
        vd_desc(d, d->q[qi].desc, j + 1, data_addr(qi, slot), len,
                VD_F_NEXT | (dev_writes ? VD_F_WRITE : 0), j + 2);
        vd_desc(d, d->q[qi].desc, j + 2, hdr + 16, 1, VD_F_WRITE, 0);
    } else {
        vd_desc(d, d->q[qi].desc, j + 1, hdr + 16, 1, VD_F_WRITE, 0);
    }
    vd_publish(d, qi, j);
}

static uint8_t req_status(vd *d, unsigned qi, unsigned slot)
{
    return d->ram[hdr_addr(qi, slot) + 16];
}

/* Run completions until n more used entries are visible on queue qi. */
static void wait_used(vd *d, unsigned qi, unsigned n)
{
    uint16_t want = d->q[qi].used_seen + n;

    for (int i = 0; i < 100000 && (uint16_t)(vd_used_idx(d, qi) - want) > 0x8000; i++) {
        tes_harness_block_wait(d->h);
    }
    g_assert_cmpuint(vd_used_idx(d, qi), ==, want);
}

static void blk_do(vd *d, unsigned qi, uint32_t type, uint64_t sector, uint32_t len,
                   bool dev_writes, uint8_t want_status)
{
    uint32_t head = 0, ulen = 0;

    blk_req(d, qi, 0, type, sector, len, dev_writes);
    vd_kick(d, qi);
    wait_used(d, qi, 1);
    g_assert_true(vd_reap(d, qi, &head, &ulen));
    g_assert_cmpuint(head, ==, 0);
    g_assert_cmpuint(req_status(d, qi, 0), ==, want_status);
}

static void assert_file(const char *path, uint64_t off, const uint8_t *want, size_t len)
{
    g_autofree char *data = NULL;
    gsize size;

    g_assert_true(g_file_get_contents(path, &data, &size, NULL));
    g_assert_cmpuint(size, >=, off + len);
    g_assert_cmpmem(data + off, len, want, len);
}

/* ---- tests: virtio-pci ---- */

static int find_vcap(fixture *f, uint8_t type)
{
    for (unsigned p = tes_harness_cfg_read(f->d.h, f->d.dev, 0x34, 1); p;
         p = tes_harness_cfg_read(f->d.h, f->d.dev, p + 1, 1)) {
        if (tes_harness_cfg_read(f->d.h, f->d.dev, p, 1) == 0x09 &&
            tes_harness_cfg_read(f->d.h, f->d.dev, p + 3, 1) == type) {
            return p;
        }
    }
    return 0;
}

static void test_pci_ids_and_caps(void)
{
    static const uint32_t offs[] = {0, VD_COMMON, VD_NOTIFY, VD_ISR, VD_DEVCFG};
    fixture f;
    int msix;

    pci_up(&f, "virtio-blk-pci", "drive=d0,num-queues=4");
    g_assert_cmphex(tes_harness_cfg_read(f.d.h, f.d.dev, 0, 4), ==, 0x10421af4);
    g_assert_cmphex(tes_harness_cfg_read(f.d.h, f.d.dev, 0x08, 1), ==, 1);
    g_assert_cmphex(tes_harness_cfg_read(f.d.h, f.d.dev, 0x2c, 4), ==, 0x00021af4);
    for (uint8_t t = 1; t <= 4; t++) {
        int c = find_vcap(&f, t);
        g_assert_cmpint(c, >, 0);
        g_assert_cmpuint(tes_harness_cfg_read(f.d.h, f.d.dev, c + 4, 1), ==, 4);
        g_assert_cmphex(tes_harness_cfg_read(f.d.h, f.d.dev, c + 8, 4), ==, offs[t]);
        g_assert_cmphex(tes_harness_cfg_read(f.d.h, f.d.dev, c + 12, 4), ==, 0x1000);
        if (t == 2) {
            g_assert_cmpuint(tes_harness_cfg_read(f.d.h, f.d.dev, c + 16, 4), ==, 4);
        }
    }
    msix = 0;
    for (unsigned p = tes_harness_cfg_read(f.d.h, f.d.dev, 0x34, 1); p;
         p = tes_harness_cfg_read(f.d.h, f.d.dev, p + 1, 1)) {
        if (tes_harness_cfg_read(f.d.h, f.d.dev, p, 1) == 0x11) {
            msix = p;
        }
    }
    g_assert_cmpint(msix, >, 0);
    /* Table size N-1: 4 queues + 1 config vector. */
    g_assert_cmpuint(tes_harness_cfg_read(f.d.h, f.d.dev, msix + 2, 2) & 0x7ff, ==, 4);
    g_assert_cmpuint(vd_num_queues(&f.d), ==, 4);
    down(&f);
}

static void test_pci_feature_negotiation(void)
{
    fixture f;
    uint64_t feat;

    pci_up(&f, "virtio-blk-pci", "drive=d0");
    feat = vd_device_features(&f.d);
    g_assert_true(feat & F_VERSION_1);
    g_assert_true(feat & BLK_F_DISCARD);
    g_assert_true(feat & BLK_F_WZ);
    g_assert_false(feat & BLK_F_MQ);
    vd_set_status(&f.d, 1);
    vd_set_status(&f.d, 3);
    /* Without VERSION_1 (legacy) FEATURES_OK does not stick. */
    vd_set_driver_features(&f.d, feat & ~F_VERSION_1);
    vd_set_status(&f.d, 0xb);
    g_assert_cmphex(vd_status(&f.d), ==, 3);
    vd_set_driver_features(&f.d, feat);
    vd_set_status(&f.d, 0xb);
    g_assert_cmphex(vd_status(&f.d), ==, 0xb);
    vd_set_status(&f.d, 0);
    g_assert_cmphex(vd_status(&f.d), ==, 0);
    /* Features not offered: refused too. */
    vd_set_status(&f.d, 3);
    vd_set_driver_features(&f.d, feat | (1ull << 40));
    vd_set_status(&f.d, 0xb);
    g_assert_cmphex(vd_status(&f.d), ==, 3);
    down(&f);
}

static void test_blk_read_matches_file(void)
{
    fixture f;
    uint64_t sector = 1234;

    pci_up(&f, "virtio-blk-pci", "drive=d0");
    g_assert_true(vd_init(&f.d, F_VERSION_1, 1, 256, false));
    g_assert_cmpuint(vd_cfg_read(&f.d, 0, 4), ==, IMG_SIZE / 512);
    memset(f.d.ram + data_addr(0, 0), 0, 8192);
    blk_do(&f.d, 0, BLK_T_IN, sector, 8192, true, 0);
    for (uint64_t i = 0; i < 8192; i++) {
        g_assert_cmpuint(f.d.ram[data_addr(0, 0) + i], ==, pattern(sector * 512 + i));
    }
    down(&f);
}

/* QEMU's virtio_blk_* command lines (and ours for the type), once on. */
static void test_blk_trace(void)
{
    fixture f;
    const char *log;
    g_autofree char *r = NULL;

    pci_up(&f, "virtio-blk-pci", "drive=d0");
    g_assert_true(vd_init(&f.d, F_VERSION_1, 1, 256, false));
    tes_harness_log_capture(f.d.h, TES_LOG_TRACE);
    blk_do(&f.d, 0, BLK_T_IN, 8, 1024, true, 0);
    g_assert_null(strstr(tes_harness_log_text(f.d.h), "virtio_blk"));
    r = tes_harness_qmp(f.d.h, "{\"execute\": \"trace-event-set-state\", "
                               "\"arguments\": {\"name\": \"virtio_blk_*\", \"enable\": true}}");
    g_assert_nonnull(strstr(r, "\"return\""));
    blk_do(&f.d, 0, BLK_T_IN, 8, 1024, true, 0);
    blk_do(&f.d, 0, BLK_T_OUT, 16, 512, false, 0);
    blk_do(&f.d, 0, 99, 0, 0, false, 2);
    log = tes_harness_log_text(f.d.h);
    g_assert_nonnull(strstr(log, " sector 8 nsectors 2\n"));
    g_assert_nonnull(strstr(log, "virtio_blk_handle_read vdev 0x"));
    g_assert_nonnull(strstr(log, "virtio_blk_handle_write vdev 0x"));
    g_assert_nonnull(strstr(log, " sector 16 nsectors 1\n"));
    g_assert_nonnull(strstr(log, " type 99\n"));
    g_assert_nonnull(strstr(log, " status 0\n"));
    g_assert_nonnull(strstr(log, " status 2\n"));
    g_assert_nonnull(strstr(log, "virtio_blk_req_complete vdev 0x"));
    down(&f);
}

static void test_blk_write_then_host_read_mmio(void)
{
    fixture f;
    uint8_t buf[4096];

    mmio_blk_up(&f, NULL);
    g_assert_cmphex(vd_rd(&f.d, 0x0, 4), ==, 0x74726976);
    g_assert_cmpuint(vd_rd(&f.d, 0x4, 4), ==, 2);
    g_assert_cmpuint(vd_rd(&f.d, 0x8, 4), ==, 2);
    g_assert_cmphex(vd_rd(&f.d, 0xc, 4), ==, 0x554d4551);
    g_assert_true(vd_init(&f.d, F_VERSION_1 | F_EVENT_IDX, 1, 128, false));
    for (unsigned i = 0; i < sizeof(buf); i++) {
        buf[i] = i ^ 0x5a;
    }
    memcpy(f.d.ram + data_addr(0, 0), buf, sizeof(buf));
    blk_do(&f.d, 0, BLK_T_OUT, 77, sizeof(buf), false, 0);
    g_assert_cmpint(tes_harness_irq_level(f.d.h, f.d.dev, 0), ==, 1);
    g_assert_cmpuint(vd_rd(&f.d, 0x60, 4) & 1, ==, 1);
    vd_wr(&f.d, 0x64, 1, 4);
    g_assert_cmpint(tes_harness_irq_level(f.d.h, f.d.dev, 0), ==, 0);
    blk_do(&f.d, 0, BLK_T_FLUSH, 0, 0, false, 0);
    assert_file(f.img, 77 * 512, buf, sizeof(buf));
    down(&f);
}

static void test_blk_out_of_range_is_ioerr(void)
{
    fixture f;

    pci_up(&f, "virtio-blk-pci", "drive=d0");
    g_assert_true(vd_init(&f.d, F_VERSION_1, 1, 256, false));
    blk_do(&f.d, 0, BLK_T_IN, IMG_SIZE / 512 - 1, 1024, true, 1);
    blk_do(&f.d, 0, BLK_T_OUT, IMG_SIZE / 512, 512, false, 1);
    blk_do(&f.d, 0, 99, 0, 0, false, 2); /* unknown type: UNSUPP */
    blk_do(&f.d, 0, BLK_T_IN, 0, 512, true, 0); /* still working */
    g_assert_cmphex(vd_status(&f.d) & S_NEEDS_RESET, ==, 0);
    down(&f);
}

static void test_blk_get_id(void)
{
    fixture f;

    pci_up(&f, "virtio-blk-pci", "drive=d0,serial=tessera-disk");
    g_assert_true(vd_init(&f.d, F_VERSION_1, 1, 256, false));
    memset(f.d.ram + data_addr(0, 0), 0xee, 20);
    blk_do(&f.d, 0, BLK_T_GET_ID, 0, 20, true, 0);
    g_assert_cmpmem(f.d.ram + data_addr(0, 0), 13, "tessera-disk\0", 13);
    down(&f);
}

/* One segment {sector, num, flags} as the out data of a request. */
static void zero_range(fixture *f, uint32_t type, uint64_t sector, uint32_t num, uint32_t flags)
{
    uint8_t seg[16];

    memcpy(seg, &sector, 8);
    memcpy(seg + 8, &num, 4);
    memcpy(seg + 12, &flags, 4);
    memcpy(f->d.ram + data_addr(0, 0), seg, 16);
    blk_do(&f->d, 0, type, 0, 16, false, 0);
}

static void assert_zeroed_exactly(fixture *f, uint64_t first, uint64_t n)
{
    g_autofree char *data = NULL;
    gsize size;

    g_assert_true(g_file_get_contents(f->img, &data, &size, NULL));
    g_assert_cmpuint(size, ==, IMG_SIZE);
    for (uint64_t i = (first - 1) * 512; i < (first + n + 1) * 512; i++) {
        bool inside = i >= first * 512 && i < (first + n) * 512;
        g_assert_cmpuint((uint8_t)data[i], ==, inside ? 0 : pattern(i));
    }
}

static void test_blk_discard_unaligned_exact(void)
{
    fixture f;

    pci_up(&f, "virtio-blk-pci", "drive=d0");
    g_assert_true(vd_init(&f.d, F_VERSION_1 | BLK_F_DISCARD | BLK_F_WZ, 1, 256, false));
    g_assert_cmpuint(vd_cfg_read(&f.d, 40, 4), ==, 1); /* max_discard_seg */
    zero_range(&f, BLK_T_DISCARD, 4099, 13, 0);
    assert_zeroed_exactly(&f, 4099, 13);
    down(&f);
}

static void test_blk_write_zeroes_unaligned_exact(void)
{
    fixture f;

    pci_up(&f, "virtio-blk-pci", "drive=d0");
    g_assert_true(vd_init(&f.d, F_VERSION_1 | BLK_F_DISCARD | BLK_F_WZ, 1, 256, false));
    zero_range(&f, BLK_T_WRITE_ZEROES, 1001, 7, 1);
    assert_zeroed_exactly(&f, 1001, 7);
    zero_range(&f, BLK_T_WRITE_ZEROES, 3001, 3, 0);
    assert_zeroed_exactly(&f, 3001, 3);
    down(&f);
}

static void test_blk_four_queues_msix(void)
{
    fixture f;
    uint64_t addr;
    uint32_t data;

    pci_up(&f, "virtio-blk-pci", "drive=d0,num-queues=4,queue-size=64");
    g_assert_true(tes_harness_msi_enable(f.d.h, f.d.dev));
    g_assert_true(vd_device_features(&f.d) & BLK_F_MQ);
    g_assert_true(vd_init(&f.d, F_VERSION_1 | BLK_F_MQ, 4, 64, true));
    g_assert_cmpuint(vd_cfg_read(&f.d, 34, 2), ==, 4);
    g_assert_cmpuint(vd_queue_max(&f.d, 3), ==, 64);
    g_assert_cmpuint(vd_queue_max(&f.d, 4), ==, 0);
    while (tes_harness_msi_pop(f.d.h, &addr, &data)) {
    }
    for (unsigned q = 0; q < 4; q++) {
        blk_do(&f.d, q, BLK_T_IN, 100 * q, 512, true, 0);
        g_assert_cmpuint(f.d.ram[data_addr(q, 0)], ==, pattern(100 * q * 512));
        g_assert_true(tes_harness_msi_pop(f.d.h, &addr, &data));
        g_assert_cmpuint(data, ==, q);
        g_assert_cmphex(addr, ==, TES_HARNESS_MSI_BASE + 4 * q);
        g_assert_false(tes_harness_msi_pop(f.d.h, &addr, &data));
    }
    down(&f);
}

static void test_blk_many_in_flight(void)
{
    fixture f;
    uint32_t head = 0, len = 0;
    unsigned seen = 0;

    pci_up(&f, "virtio-blk-pci", "drive=d0,queue-size=128");
    g_assert_true(vd_init(&f.d, F_VERSION_1 | F_EVENT_IDX, 1, 128, false));
    for (unsigned s = 0; s < 32; s++) {
        blk_req(&f.d, 0, s, BLK_T_IN, s * 16, 4096, true);
    }
    vd_kick(&f.d, 0);
    wait_used(&f.d, 0, 32);
    while (vd_reap(&f.d, 0, &head, &len)) {
        g_assert_cmpuint(head % 3, ==, 0);
        g_assert_cmpuint(len, ==, 4097);
        g_assert_cmpuint(req_status(&f.d, 0, head / 3), ==, 0);
        g_assert_cmpuint(f.d.ram[data_addr(0, head / 3) + 5], ==, pattern(head / 3 * 16 * 512 + 5));
        seen++;
    }
    g_assert_cmpuint(seen, ==, 32);
    down(&f);
}

/* ---- bad chains ---- */

typedef void (*chain_fn)(vd *d);

static void chain_loop(vd *d)
{
    vd_desc(d, d->q[0].desc, 0, hdr_addr(0, 0), 16, VD_F_NEXT, 1);
    vd_desc(d, d->q[0].desc, 1, hdr_addr(0, 1), 16, VD_F_NEXT, 0);
    vd_publish(d, 0, 0);
}

static void chain_outside_ram(vd *d)
{
    vd_desc(d, d->q[0].desc, 0, hdr_addr(0, 0), 16, VD_F_NEXT, 1);
    vd_desc(d, d->q[0].desc, 1, RAM_SIZE - 256, 4096, VD_F_NEXT | VD_F_WRITE, 2);
    vd_desc(d, d->q[0].desc, 2, hdr_addr(0, 0) + 16, 1, VD_F_WRITE, 0);
    vd_publish(d, 0, 0);
}

static void chain_readable_after_writable(vd *d)
{
    vd_desc(d, d->q[0].desc, 0, hdr_addr(0, 0), 16, VD_F_NEXT, 1);
    vd_desc(d, d->q[0].desc, 1, hdr_addr(0, 0) + 16, 1, VD_F_NEXT | VD_F_WRITE, 2);
    vd_desc(d, d->q[0].desc, 2, data_addr(0, 0), 512, 0, 0);
    vd_publish(d, 0, 0);
}

static void chain_bad_indirect_len(vd *d)
{
    vd_desc(d, d->q[0].desc, 0, data_addr(0, 1), 24, VD_F_INDIRECT, 0);
    vd_publish(d, 0, 0);
}

static void chain_nested_indirect(vd *d)
{
    uint64_t t = data_addr(0, 1);

    vd_desc(d, t, 0, data_addr(0, 2), 16, VD_F_INDIRECT, 0);
    vd_desc(d, d->q[0].desc, 0, t, 16, VD_F_INDIRECT, 0);
    vd_publish(d, 0, 0);
}

/* Tables the straight walk (walk_fast) enters from a kept window and
 * must hand over to the checking walk. */
static void chain_indirect_loop(vd *d)
{
    uint64_t t = data_addr(0, 1);

    vd_desc(d, t, 0, hdr_addr(0, 0), 16, VD_F_NEXT, 1);
    vd_desc(d, t, 1, hdr_addr(0, 0) + 16, 1, VD_F_NEXT | VD_F_WRITE, 0);
    vd_desc(d, d->q[0].desc, 0, t, 32, VD_F_INDIRECT, 0);
    vd_publish(d, 0, 0);
}

static void chain_indirect_next_outside_table(vd *d)
{
    uint64_t t = data_addr(0, 1);

    vd_desc(d, t, 0, hdr_addr(0, 0), 16, VD_F_NEXT, 5); /* a table of 2 */
    vd_desc(d, t, 1, hdr_addr(0, 0) + 16, 1, VD_F_WRITE, 0);
    vd_desc(d, d->q[0].desc, 0, t, 32, VD_F_INDIRECT, 0);
    vd_publish(d, 0, 0);
}

static void chain_indirect_with_next(vd *d)
{
    uint64_t t = data_addr(0, 1);

    vd_desc(d, t, 0, hdr_addr(0, 0), 16, VD_F_NEXT, 1);
    vd_desc(d, t, 1, hdr_addr(0, 0) + 16, 1, VD_F_WRITE, 0);
    vd_desc(d, d->q[0].desc, 0, t, 32, VD_F_INDIRECT | VD_F_NEXT, 1);
    vd_desc(d, d->q[0].desc, 1, hdr_addr(0, 1), 16, 0, 0);
    vd_publish(d, 0, 0);
}

static void chain_indirect_after_direct(vd *d)
{
    uint64_t t = data_addr(0, 1);

    vd_desc(d, t, 0, data_addr(0, 0), 512, VD_F_NEXT | VD_F_WRITE, 1);
    vd_desc(d, t, 1, hdr_addr(0, 0) + 16, 1, VD_F_WRITE, 0);
    vd_desc(d, d->q[0].desc, 0, hdr_addr(0, 0), 16, VD_F_NEXT, 1);
    vd_desc(d, d->q[0].desc, 1, t, 32, VD_F_INDIRECT, 0);
    vd_publish(d, 0, 0);
}

static void chain_indirect_table_past_ram(vd *d)
{
    vd_desc(d, d->q[0].desc, 0, RAM_SIZE - 16, 48, VD_F_INDIRECT, 0);
    vd_publish(d, 0, 0);
}

/* In the device's own BAR: no window holds it (taken as RAM, the straight
 * walk would read gigabytes past guest RAM's mapping). */
static void chain_indirect_table_in_mmio(vd *d)
{
    vd_desc(d, d->q[0].desc, 0, VD_BAR4 + 0x100, 48, VD_F_INDIRECT, 0);
    vd_publish(d, 0, 0);
}

static void chain_avail_beyond_size(vd *d)
{
    /* Claims more chains than the queue holds descriptors. */
    d->q[0].avail_idx += d->q[0].size + 1;
    vd_put16(d, d->q[0].avail + 2, d->q[0].avail_idx);
}

static void chain_head_out_of_range(vd *d)
{
    vd_publish(d, 0, 1000);
}

static void bad_chain(gconstpointer data)
{
    chain_fn fn = (chain_fn)data;
    fixture f;
    uint64_t addr;
    uint32_t msi;

    pci_up(&f, "virtio-blk-pci", "drive=d0,queue-size=16");
    g_assert_true(tes_harness_msi_enable(f.d.h, f.d.dev));
    g_assert_true(vd_init(&f.d, F_VERSION_1 | F_INDIRECT, 1, 16, true));
    /* A good request first: the device then keeps windows on the
     * header and data areas, and the bad chain starts on its straight
     * walk (walk_fast), which must hand over to the checking one. */
    blk_do(&f.d, 0, BLK_T_IN, 3, 512, true, 0);
    while (tes_harness_msi_pop(f.d.h, &addr, &msi)) {
    }
    fn(&f.d);
    vd_kick(&f.d, 0);
    tes_harness_block_poll(f.d.h);
    g_assert_cmphex(vd_status(&f.d) & S_NEEDS_RESET, ==, S_NEEDS_RESET);
    /* The config vector (1: after queue 0) told the driver. */
    g_assert_true(tes_harness_msi_pop(f.d.h, &addr, &msi));
    g_assert_cmpuint(msi, ==, 1);
    g_assert_cmpuint(vd_used_idx(&f.d, 0), ==, 1);
    /* Reset brings it back to life. */
    g_assert_true(vd_init(&f.d, F_VERSION_1 | F_INDIRECT, 1, 16, true));
    g_assert_cmphex(vd_status(&f.d), ==, 0xf);
    blk_do(&f.d, 0, BLK_T_IN, 3, 512, true, 0);
    down(&f);
}

static void test_indirect_ok(void)
{
    fixture f;
    uint64_t t = data_addr(0, 2), hdr = hdr_addr(0, 0);
    uint32_t type = BLK_T_IN, head = 0, len = 0;
    uint64_t sector = 42;

    pci_up(&f, "virtio-blk-pci", "drive=d0");
    g_assert_true(vd_init(&f.d, F_VERSION_1 | F_INDIRECT, 1, 256, false));
    memcpy(f.d.ram + hdr, &type, 4);
    memcpy(f.d.ram + hdr + 8, &sector, 8);
    vd_desc(&f.d, t, 0, hdr, 16, VD_F_NEXT, 1);
    vd_desc(&f.d, t, 1, data_addr(0, 0), 512, VD_F_NEXT | VD_F_WRITE, 2);
    vd_desc(&f.d, t, 2, hdr + 16, 1, VD_F_WRITE, 0);
    vd_desc(&f.d, f.d.q[0].desc, 0, t, 48, VD_F_INDIRECT, 0);
    vd_publish(&f.d, 0, 0);
    vd_kick(&f.d, 0);
    wait_used(&f.d, 0, 1);
    g_assert_true(vd_reap(&f.d, 0, &head, &len));
    g_assert_cmpuint(req_status(&f.d, 0, 0), ==, 0);
    g_assert_cmpuint(f.d.ram[data_addr(0, 0) + 9], ==, pattern(42 * 512 + 9));
    down(&f);
}

/* Indirect tables as Linux sends them, once the device keeps windows on
 * guest RAM (a direct request first): the straight walk takes them, and
 * what the guest sees is what the checking walk gives. Reads and writes,
 * the data split over two descriptors, four requests in flight. */
static void test_indirect_warm(void)
{
    fixture f;
    uint8_t want[4096];
    uint32_t head = 0, len = 0;

    pci_up(&f, "virtio-blk-pci", "drive=d0");
    g_assert_true(vd_init(&f.d, F_VERSION_1 | F_INDIRECT, 1, 256, false));
    blk_do(&f.d, 0, BLK_T_IN, 3, 512, true, 0);
    for (unsigned s = 1; s <= 4; s++) {
        uint64_t hdr = hdr_addr(0, s), t = data_addr(0, 40 + s), buf = data_addr(0, s);
        uint32_t type = s == 4 ? BLK_T_OUT : BLK_T_IN, zero = 0;
        uint64_t sector = 100 + 8 * s;

        memcpy(f.d.ram + hdr, &type, 4);
        memcpy(f.d.ram + hdr + 4, &zero, 4);
        memcpy(f.d.ram + hdr + 8, &sector, 8);
        f.d.ram[hdr + 16] = 0xff;
        if (type == BLK_T_OUT) {
            for (unsigned i = 0; i < 4096; i++) {
                f.d.ram[buf + i] = want[i] = (uint8_t)(i * 13 + 5);
            }
        } else {
            memset(f.d.ram + buf, 0, 4096);
        }
        unsigned wr = type == BLK_T_IN ? VD_F_WRITE : 0;
        vd_desc(&f.d, t, 0, hdr, 16, VD_F_NEXT, 1);
        vd_desc(&f.d, t, 1, buf, 1024, VD_F_NEXT | wr, 2);
        vd_desc(&f.d, t, 2, buf + 1024, 3072, VD_F_NEXT | wr, 3);
        vd_desc(&f.d, t, 3, hdr + 16, 1, VD_F_WRITE, 0);
        vd_desc(&f.d, f.d.q[0].desc, s, t, 64, VD_F_INDIRECT, 0);
        vd_publish(&f.d, 0, s);
    }
    vd_kick(&f.d, 0);
    wait_used(&f.d, 0, 4);
    for (unsigned k = 0; k < 4; k++) {
        g_assert_true(vd_reap(&f.d, 0, &head, &len));
        g_assert_cmpuint(head, >=, 1);
        g_assert_cmpuint(head, <=, 4);
        /* used.len: the bytes the device wrote (data and status for a read) */
        g_assert_cmpuint(len, ==, head == 4 ? 1 : 4097);
    }
    for (unsigned s = 1; s <= 3; s++) {
        uint64_t buf = data_addr(0, s);

        g_assert_cmpuint(req_status(&f.d, 0, s), ==, 0);
        for (unsigned i = 0; i < 4096; i += 511) {
            g_assert_cmpuint(f.d.ram[buf + i], ==, pattern((100 + 8 * s) * 512 + i));
        }
    }
    g_assert_cmpuint(req_status(&f.d, 0, 4), ==, 0);
    assert_file(f.img, (100 + 8 * 4) * 512, want, sizeof(want));
    down(&f);
}

/* ---- reset, INTx, migration ---- */

static void test_reset_mid_io_drains(void)
{
    fixture f;

    pci_up(&f, "virtio-blk-pci", "drive=d0,queue-size=128");
    g_assert_true(vd_init(&f.d, F_VERSION_1, 1, 128, false));
    for (unsigned s = 0; s < 32; s++) {
        blk_req(&f.d, 0, s, BLK_T_IN, s, 4096, true);
    }
    vd_kick(&f.d, 0);
    vd_set_status(&f.d, 0); /* reset while reads are in flight */
    g_assert_cmphex(vd_status(&f.d), ==, 0);
    /* Every request completed into the old ring before the reset returned. */
    g_assert_cmpuint(vd_used_idx(&f.d, 0), ==, 32);
    for (unsigned s = 0; s < 32; s++) {
        g_assert_cmpuint(req_status(&f.d, 0, s), ==, 0);
    }
    tes_harness_block_poll(f.d.h);
    g_assert_true(vd_init(&f.d, F_VERSION_1, 1, 128, false));
    blk_do(&f.d, 0, BLK_T_IN, 5, 512, true, 0);
    down(&f);
}

static void test_intx_through_isr(void)
{
    fixture f;

    pci_up(&f, "virtio-blk-pci", "drive=d0");
    g_assert_true(vd_init(&f.d, F_VERSION_1, 1, 256, false));
    blk_do(&f.d, 0, BLK_T_IN, 0, 512, true, 0);
    g_assert_cmpint(tes_harness_intx_level(f.d.h, f.d.dev), ==, 1);
    g_assert_cmphex(vd_rd(&f.d, VD_ISR, 1), ==, 1);
    g_assert_cmpint(tes_harness_intx_level(f.d.h, f.d.dev), ==, 0);
    g_assert_cmphex(vd_rd(&f.d, VD_ISR, 1), ==, 0);
    down(&f);
}

static void test_migrate_keeps_queue_indices(void)
{
    fixture f;
    size_t bytes = 0;

    pci_up(&f, "virtio-blk-pci", "drive=d0,num-queues=2");
    g_assert_true(vd_init(&f.d, F_VERSION_1 | F_EVENT_IDX | BLK_F_MQ, 2, 256, false));
    for (int i = 0; i < 3; i++) {
        blk_do(&f.d, 1, BLK_T_IN, i, 512, true, 0);
    }
    f.d.dev = tes_harness_migrate(f.d.h, f.d.dev, &bytes);
    if (!f.d.dev) {
        g_error("migrate: %s", tes_harness_error(f.d.h));
    }
    g_assert_cmpuint(bytes, >, 0);
    g_assert_cmphex(vd_status(&f.d), ==, 0xf);
    vd_wr(&f.d, VD_COMMON + 0x16, 1, 2);
    g_assert_cmpuint(vd_rd(&f.d, VD_COMMON + 0x1c, 2), ==, 1);
    g_assert_cmphex(vd_rd(&f.d, VD_COMMON + 0x20, 8), ==, f.d.q[1].desc);
    blk_do(&f.d, 1, BLK_T_IN, 9, 512, true, 0);
    g_assert_cmpuint(vd_used_idx(&f.d, 1), ==, 4);
    g_assert_cmpuint(f.d.ram[data_addr(1, 0) + 1], ==, pattern(9 * 512 + 1));
    down(&f);
}

/* 1.2 section 4.1.4.3.2: the driver must not write more than the maximum.
 * Stored, it made state that no destination loads. */
static void test_queue_size_above_max_ignored_and_migrates(void)
{
    fixture f;

    pci_up(&f, "virtio-blk-pci", "drive=d0");
    tes_harness_log_clear(f.d.h);
    vd_wr(&f.d, VD_COMMON + 0x16, 0, 2);
    vd_wr(&f.d, VD_COMMON + 0x18, 1024, 2);
    g_assert_cmpuint(vd_rd(&f.d, VD_COMMON + 0x18, 2), ==, 256);
    g_assert_nonnull(strstr(tes_harness_log_text(f.d.h), "size 1024 written, max 256"));
    f.d.dev = tes_harness_migrate(f.d.h, f.d.dev, NULL);
    if (!f.d.dev) {
        g_error("migrate: %s", tes_harness_error(f.d.h));
    }
    down(&f);
}

static void bent_refused(void (*bend)(tes_virtio_pci *p), const char *want)
{
    fixture f;

    pci_up(&f, "virtio-blk-pci", "drive=d0,num-queues=2");
    g_assert_true(vd_init(&f.d, F_VERSION_1 | F_EVENT_IDX | BLK_F_MQ, 2, 256, false));
    bend(((vpci_proxy *)tes_harness_state(f.d.dev))->proxy);
    g_assert_null(tes_harness_migrate(f.d.h, f.d.dev, NULL));
    g_assert_nonnull(strstr(tes_harness_error(f.d.h), want));
    down(&f);
}

static void bend_features(tes_virtio_pci *p)
{
    p->v.guest_features |= 1ull << 50;
}

static void bend_queue_num(tes_virtio_pci *p)
{
    p->v.vq[1].num = 512;
}

static void bend_vector(tes_virtio_pci *p)
{
    p->v.vq[0].vector = 7;
}

static void test_migrate_refuses_state_no_guest_could_make(void)
{
    bent_refused(bend_features, "driver features");
    bent_refused(bend_queue_num, "queue 1 of size 512");
    bent_refused(bend_vector, "queue 0 vector 7");
}

static void test_missing_drive_is_refused(void)
{
    fixture f;

    harness_up(&f);
    g_assert_null(tes_harness_device(f.d.h, "virtio-blk-pci", NULL));
    g_assert_nonnull(strstr(tes_harness_error(f.d.h), "virtio-blk: property 'drive' is required"));
    g_assert_null(tes_harness_device(f.d.h, "virtio-blk-pci", "drive=nope"));
    down(&f);
}

static void test_mmio_empty_reports_id_0(void)
{
    fixture f;

    harness_up(&f);
    f.d.dev = mmio_transport(&f, VD_MMIO_BASE);
    g_assert_nonnull(mmio_transport(&f, VD_MMIO_BASE + 0x200));
    f.d.base = VD_MMIO_BASE;
    g_assert_cmphex(vd_rd(&f.d, 0x0, 4), ==, 0x74726976);
    g_assert_cmpuint(vd_rd(&f.d, 0x8, 4), ==, 0);
    g_assert_cmpuint(vd_rd(&f.d, 0x34, 4), ==, 0);
    /* The second transport's bus exists and takes a device. */
    g_assert_nonnull(tes_harness_device(f.d.h, "virtio-rng-device", "bus=virtio-mmio-bus.1"));
    f.d.base = VD_MMIO_BASE + 0x200;
    g_assert_cmpuint(vd_rd(&f.d, 0x8, 4), ==, 4);
    down(&f);
}

static void test_rng_fills_buffers(void)
{
    fixture f;
    uint32_t head = 0, len = 0;
    uint8_t zero[256] = {0};

    pci_up(&f, "virtio-rng-pci", NULL);
    g_assert_cmphex(tes_harness_cfg_read(f.d.h, f.d.dev, 0, 4), ==, 0x10441af4);
    g_assert_true(vd_init(&f.d, F_VERSION_1, 1, 64, false));
    tes_harness_log_capture(f.d.h, TES_LOG_TRACE);
    g_free(tes_harness_qmp(f.d.h, "{\"execute\": \"trace-event-set-state\", \"arguments\": "
                                  "{\"name\": \"virtio_rng_*\", \"enable\": true}}"));
    memset(f.d.ram + data_addr(0, 0), 0, 512);
    vd_desc(&f.d, f.d.q[0].desc, 0, data_addr(0, 0), 256, VD_F_WRITE | VD_F_NEXT, 1);
    vd_desc(&f.d, f.d.q[0].desc, 1, data_addr(0, 0) + 256, 256, VD_F_WRITE, 0);
    vd_publish(&f.d, 0, 0);
    vd_kick(&f.d, 0);
    g_assert_true(vd_reap(&f.d, 0, &head, &len));
    g_assert_cmpuint(len, ==, 512);
    g_assert_true(memcmp(f.d.ram + data_addr(0, 0), zero, 256) != 0);
    g_assert_true(memcmp(f.d.ram + data_addr(0, 0) + 256, zero, 256) != 0);
    /* QEMU's virtio_rng_* lines: the request and what went back. */
    g_assert_nonnull(strstr(tes_harness_log_text(f.d.h), ": 512 bytes requested, "));
    g_assert_nonnull(strstr(tes_harness_log_text(f.d.h), ": 512 bytes pushed\n"));
    down(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    plugin_path = g_getenv("VIRTIO_PLUGIN");
    if (argc > 1) {
        plugin_path = argv[1];
    }
    if (!plugin_path) {
        g_printerr("usage: %s VIRTIO_PLUGIN.so (or set $VIRTIO_PLUGIN)\n", argv[0]);
        return 2;
    }
    g_test_add_func("/virtio/pci/ids-and-capabilities", test_pci_ids_and_caps);
    g_test_add_func("/virtio/pci/feature-negotiation-needs-version-1", test_pci_feature_negotiation);
    g_test_add_func("/virtio/pci/intx-through-isr-read-clears", test_intx_through_isr);
    g_test_add_func("/virtio/blk/read-returns-file-content", test_blk_read_matches_file);
    g_test_add_func("/virtio/blk/trace/qemu-virtio-blk-lines", test_blk_trace);
    g_test_add_func("/virtio/blk/mmio/write-then-host-read", test_blk_write_then_host_read_mmio);
    g_test_add_func("/virtio/blk/out-of-range-is-ioerr", test_blk_out_of_range_is_ioerr);
    g_test_add_func("/virtio/blk/get-id-returns-serial", test_blk_get_id);
    g_test_add_func("/virtio/blk/discard-unaligned-zeroes-exact-range",
                    test_blk_discard_unaligned_exact);
    g_test_add_func("/virtio/blk/write-zeroes-unaligned-zeroes-exact-range",
                    test_blk_write_zeroes_unaligned_exact);
    g_test_add_func("/virtio/blk/num-queues-4-each-queue-own-msix-vector",
                    test_blk_four_queues_msix);
    g_test_add_func("/virtio/blk/32-requests-in-flight", test_blk_many_in_flight);
    g_test_add_func("/virtio/blk/indirect-table-works", test_indirect_ok);
    g_test_add_func("/virtio/blk/indirect-tables-on-kept-windows", test_indirect_warm);
    g_test_add_data_func("/virtio/vq/bad-chain/loop-needs-reset", chain_loop, bad_chain);
    g_test_add_data_func("/virtio/vq/bad-chain/outside-ram-needs-reset", chain_outside_ram,
                         bad_chain);
    g_test_add_data_func("/virtio/vq/bad-chain/readable-after-writable-needs-reset",
                         chain_readable_after_writable, bad_chain);
    g_test_add_data_func("/virtio/vq/bad-chain/indirect-bad-length-needs-reset",
                         chain_bad_indirect_len, bad_chain);
    g_test_add_data_func("/virtio/vq/bad-chain/nested-indirect-needs-reset",
                         chain_nested_indirect, bad_chain);
    g_test_add_data_func("/virtio/vq/bad-chain/indirect-loop-needs-reset",
                         chain_indirect_loop, bad_chain);
    g_test_add_data_func("/virtio/vq/bad-chain/indirect-next-outside-table-needs-reset",
                         chain_indirect_next_outside_table, bad_chain);
    g_test_add_data_func("/virtio/vq/bad-chain/indirect-with-next-needs-reset",
                         chain_indirect_with_next, bad_chain);
    g_test_add_data_func("/virtio/vq/bad-chain/indirect-after-direct-needs-reset",
                         chain_indirect_after_direct, bad_chain);
    g_test_add_data_func("/virtio/vq/bad-chain/indirect-table-in-mmio-needs-reset",
                         chain_indirect_table_in_mmio, bad_chain);
    g_test_add_data_func("/virtio/vq/bad-chain/indirect-table-past-ram-needs-reset",
                         chain_indirect_table_past_ram, bad_chain);
    g_test_add_data_func("/virtio/vq/bad-chain/avail-beyond-queue-size-needs-reset",
                         chain_avail_beyond_size, bad_chain);
    g_test_add_data_func("/virtio/vq/bad-chain/head-out-of-range-needs-reset",
                         chain_head_out_of_range, bad_chain);
    g_test_add_func("/virtio/blk/reset-mid-io-drains", test_reset_mid_io_drains);
    g_test_add_func("/virtio/blk/migration-keeps-queue-indices", test_migrate_keeps_queue_indices);
    g_test_add_func("/virtio/pci/queue-size-above-max-ignored-and-migrates",
                    test_queue_size_above_max_ignored_and_migrates);
    g_test_add_func("/virtio/blk/migration-refuses-state-no-guest-could-make",
                    test_migrate_refuses_state_no_guest_could_make);
    g_test_add_func("/virtio/blk/missing-drive-is-refused", test_missing_drive_is_refused);
    g_test_add_func("/virtio/mmio/empty-transport-reports-device-0", test_mmio_empty_reports_id_0);
    g_test_add_func("/virtio/rng/fills-buffers-traced", test_rng_fills_buffers);
    return g_test_run();
}
