/*
 * Virtio actions of the virtio fuzz targets (fuzz-virtio.h is the manual).
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <tessera/virtio.h>

#include "fuzz-virtio.h"

#define IMG_SIZE (1ull << 20)
#define REQ_BASE 0x200000ull   /* headers and data of action 3 */
#define CHECK_BASE 0x300000ull /* the spec check's header, data, table */
#define F_VERSION_1 (1ull << 32)
#define F_INDIRECT (1ull << 28)
#define F_EVENT_IDX (1ull << 29)
#define BLK_F_DISCARD (1ull << 13)
#define BLK_F_WZ (1ull << 14)
#define S_NEEDS_RESET 0x40

static char *image;
static vd drv;
static fv_kind kind;
static uint64_t features;

static void remove_image(void)
{
    g_unlink(image);
}

void fv_init(void)
{
    int fd = g_file_open_tmp("fuzz-virtio-XXXXXX.img", &image, NULL);

    if (fd < 0 || ftruncate(fd, IMG_SIZE) != 0) {
        fprintf(stderr, "fuzz-virtio: cannot make a scratch image\n");
        exit(1);
    }
    close(fd);
    atexit(remove_image);
}

/* ---- set-up ---- */

static void map_child(fz *f, tes_device *dev)
{
    /* virtio-blk-device lives on the transport's bus: nothing to map. */
}

static tes_device *mmio_transport(fz *f)
{
    const tes_virtio_mmio_ops *mo =
        f->host->iface_lookup(TES_VIRTIO_MMIO_IFACE, TES_VIRTIO_MMIO_IFACE_VERSION);
    tes_device *t = tes_harness_device(f->h, "virtio-mmio", NULL);

    if (!mo || !t) {
        fz_fail(f, "virtio-mmio: %s", tes_harness_error(f->h));
    }
    f->host->region_add(f->host->system_memory(), VD_MMIO_BASE, mo->region(t), 0);
    fz_window_add(f, VD_MMIO_BASE, 0x200, false);
    return t;
}

tes_device *fv_create(fz *f, const char *type, const char *props)
{
    tes_device *d = tes_harness_device(f->h, type, props);

    if (!d) {
        fz_fail(f, "%s: %s", type, tes_harness_error(f->h));
    }
    return d;
}

uint64_t fv_pci_map(fz *f, tes_device *dev)
{
    uint64_t base;

    fz_pci_park_bars(f, dev, 4);
    base = tes_harness_bar_map(f->h, dev, 4, VD_BAR4);
    tes_harness_msi_enable(f->h, dev);
    return base;
}

/* Map BAR4 where the driver expects it (again: the input may move it). */
static void pci_map(fz *f)
{
    drv.base = fv_pci_map(f, drv.dev);
}

static bool driver_up(void)
{
    return vd_init(&drv, features, 1, FV_QSIZE, drv.pci);
}

void fv_setup(fz *f, fv_kind k)
{
    char *opt = g_strdup_printf("file=%s,if=none,id=d0,format=raw", image);
    uint8_t fsel = fz_u8(f);

    kind = k;
    memset(&drv, 0, sizeof(drv));
    drv.h = f->h;
    drv.ram = f->ram;
    drv.pci = k != FV_BLK_MMIO;
    /* The first byte picks the features the driver asks for. */
    features = F_VERSION_1 | (fsel & 1 ? F_INDIRECT : 0) | (fsel & 2 ? F_EVENT_IDX : 0) |
               (fsel & 4 ? BLK_F_DISCARD | BLK_F_WZ : 0);
    if (k != FV_RNG_PCI && k != FV_INPUT_PCI && !tes_harness_drive(f->h, opt)) {
        fz_fail(f, "drive: %s", tes_harness_error(f->h));
    }
    g_free(opt);
    if (k == FV_BLK_MMIO) {
        drv.dev = mmio_transport(f);
        drv.base = VD_MMIO_BASE;
        fz_device_add(f, fv_create(f, "virtio-blk-device", "drive=d0,bus=virtio-mmio-bus.0"),
                      map_child);
    } else {
        drv.dev = fv_create(f, k == FV_RNG_PCI ? "virtio-rng-pci"
                               : k == FV_INPUT_PCI ? "virtio-tablet-pci" : "virtio-blk-pci",
                            k == FV_BLK_PCI ? "drive=d0" : NULL);
        fz_device_add(f, drv.dev, NULL);
        pci_map(f);
        fz_window_add(f, VD_BAR4, 0x4000, false);
    }
    if (!driver_up()) {
        fz_fail(f, "virtio: a fresh device refuses features 0x%llx",
                (unsigned long long)features);
    }
}

/* ---- actions ---- */

void fv_chain(fz *f, vd *d, unsigned qi)
{
    vd_queue *q = &d->q[qi];
    unsigned n = 1 + fz_u8(f) % 8, head = fz_u8(f) % q->size, j = head;

    for (unsigned i = 0; i < n; i++) {
        uint8_t fl = fz_u8(f);
        uint16_t next = fl & 0x80 ? fz_u16(f) : (j + 1) % q->size;
        uint16_t flags = (i + 1 < n ? VD_F_NEXT : 0) ^ (fl & 7);
        uint64_t addr = fz_addr(f);

        vd_desc(d, q->desc, j, addr, fz_len(f), flags, next);
        j = next % q->size;
    }
    vd_publish(d, qi, head);
    vd_kick(d, qi);
}

void fv_indirect(fz *f, vd *d, unsigned qi)
{
    unsigned n = 1 + fz_u8(f) % 16;
    uint64_t table = (fz_u32(f) % (f->ram_size - 16 * 16)) & ~15ull;
    unsigned head = fz_u8(f) % d->q[qi].size;

    for (unsigned i = 0; i < n; i++) {
        uint8_t fl = fz_u8(f);
        uint64_t addr = fz_addr(f);
        uint32_t len = fz_len(f);

        vd_desc(d, table, i, addr, len, (i + 1 < n ? VD_F_NEXT : 0) ^ (fl & 7),
                fl & 0x80 ? fz_u16(f) : i + 1);
    }
    uint32_t len = fz_u8(f) & 1 ? n * 16 : fz_len(f);
    vd_desc(d, d->q[qi].desc, head, table, len, VD_F_INDIRECT | (fz_u8(f) & 3), 0);
    vd_publish(d, qi, head);
    vd_kick(d, qi);
}

/* A request as the device expects it, with fuzzed contents. */
static void request(fz *f)
{
    static const uint32_t types[] = {0, 1, 4, 8, 11, 13};
    unsigned slot = fz_u8(f) % (FV_QSIZE / 3), j = 3 * slot;
    uint64_t hdr = REQ_BASE + 32 * slot;
    uint8_t sel = fz_u8(f);
    uint32_t type = sel & 0x80 ? fz_u32(f) : types[sel % 6];
    uint64_t sector = sel & 0x40 ? fz_u64(f) : fz_u16(f);
    uint32_t len = sel & 0x20 ? fz_len(f) : 512u * (1 + fz_u8(f) % 8);
    uint64_t data = sel & 0x10 ? fz_addr(f) : REQ_BASE + 0x10000 + 0x1000 * slot;
    uint16_t wr = type == 0 || type == 8 ? VD_F_WRITE : 0;

    if (kind == FV_RNG_PCI || kind == FV_INPUT_PCI) {
        vd_desc(&drv, drv.q[0].desc, j, data, len, VD_F_WRITE, 0);
        vd_publish(&drv, 0, j);
        vd_kick(&drv, 0);
        return;
    }
    memcpy(drv.ram + hdr, &type, 4);
    memset(drv.ram + hdr + 4, 0, 4);
    memcpy(drv.ram + hdr + 8, &sector, 8);
    vd_desc(&drv, drv.q[0].desc, j, hdr, 16, VD_F_NEXT, j + 1);
    vd_desc(&drv, drv.q[0].desc, j + 1, data, len, VD_F_NEXT | wr, j + 2);
    vd_desc(&drv, drv.q[0].desc, j + 2, hdr + 16, 1, VD_F_WRITE, 0);
    vd_publish(&drv, 0, j);
    vd_kick(&drv, 0);
}

void fv_rings(fz *f, vd *d, unsigned qi)
{
    vd_queue *q = &d->q[qi];
    uint8_t sel = fz_u8(f);

    switch (sel & 3) {
    case 0:
        q->avail_idx = fz_u16(f); /* jump the index: up to 65535 "new" heads */
        vd_put16(d, q->avail + 2, q->avail_idx);
        break;
    case 1:
        vd_put16(d, q->avail, fz_u16(f)); /* flags */
        vd_put16(d, q->avail + 4 + 2 * q->size, fz_u16(f)); /* used_event */
        break;
    case 2:
        vd_put16(d, q->used + 2, fz_u16(f)); /* the device's own index */
        break;
    }
    vd_kick(d, sel >> 2); /* a notify of any queue, 0..63 */
}

static void reap(fz *f)
{
    uint32_t head, len;

    tes_harness_block_poll(f->h);
    for (int i = 0; i < 64 && vd_reap(&drv, 0, &head, &len); i++) {
    }
}

/* ---- the spec check ---- */

static bool wait_used(fz *f, uint16_t want)
{
    for (int i = 0; i < 1000; i++) {
        if (vd_used_idx(&drv, 0) == want) {
            return true;
        }
        tes_harness_block_wait(f->h);
    }
    return false;
}

static void check_file(fz *f, uint64_t off, const uint8_t *want, size_t len)
{
    uint8_t *got = g_malloc(len);
    FILE *fp = fopen(image, "rb");

    if (!fp || fseek(fp, off, SEEK_SET) != 0 || fread(got, 1, len, fp) != len) {
        fz_fail(f, "virtio-blk: cannot read back the image");
    }
    fclose(fp);
    if (memcmp(got, want, len) != 0) {
        fz_fail(f, "virtio-blk: a completed write of %zu bytes at 0x%llx is not on the image",
                len, (unsigned long long)off);
    }
    g_free(got);
}

/* A 4 KiB write of a pattern, completed OK, is on the image. */
static void blk_write_check(fz *f, uint64_t sector, uint8_t seed)
{
    uint64_t hdr = CHECK_BASE, data = CHECK_BASE + 0x1000;
    uint32_t type = 1;

    for (unsigned i = 0; i < 0x1000; i++) {
        drv.ram[data + i] = (uint8_t)(seed + i * 11 + i / 512);
    }
    memcpy(drv.ram + hdr, &type, 4);
    memset(drv.ram + hdr + 4, 0, 4);
    memcpy(drv.ram + hdr + 8, &sector, 8);
    drv.ram[hdr + 16] = 0xff;
    vd_desc(&drv, drv.q[0].desc, 0, hdr, 16, VD_F_NEXT, 1);
    vd_desc(&drv, drv.q[0].desc, 1, data, 0x1000, VD_F_NEXT, 2);
    vd_desc(&drv, drv.q[0].desc, 2, hdr + 16, 1, VD_F_WRITE, 0);
    vd_publish(&drv, 0, 0);
    vd_kick(&drv, 0);
    if (!wait_used(f, 1) || drv.ram[hdr + 16] != 0) {
        fz_fail(f, "virtio-blk: a 4 KiB write after reset did not complete OK (status %u)",
                drv.ram[hdr + 16]);
    }
    check_file(f, sector * 512, drv.ram + data, 0x1000);
}

/* virtio 1.2 section 2.1.2: a device that cannot go on sets NEEDS_RESET. */
static void loop_check(fz *f)
{
    vd_desc(&drv, drv.q[0].desc, 3, CHECK_BASE + 0x3000, 16, VD_F_NEXT, 4);
    vd_desc(&drv, drv.q[0].desc, 4, CHECK_BASE + 0x3000, 16, VD_F_NEXT, 3);
    vd_publish(&drv, 0, 3);
    vd_kick(&drv, 0);
    fz_block_drain(f);
    if (!(vd_status(&drv) & S_NEEDS_RESET)) {
        fz_fail(f, "virtio: a looping descriptor chain did not set DEVICE_NEEDS_RESET");
    }
}

static void rng_check(fz *f)
{
    uint32_t head = 0, len = 0;

    vd_desc(&drv, drv.q[0].desc, 0, CHECK_BASE, 64, VD_F_WRITE, 0);
    vd_publish(&drv, 0, 0);
    vd_kick(&drv, 0);
    if (!wait_used(f, 1) || !vd_reap(&drv, 0, &head, &len) || head != 0 || len == 0 ||
        len > 64) {
        fz_fail(f, "virtio-rng: a 64-byte buffer came back as head %u len %u", head, len);
    }
}

static void spec_check(fz *f)
{
    uint64_t sector = fz_u8(f) * 8ull;
    uint8_t seed = fz_u8(f);

    fz_block_drain(f);
    if (drv.pci) {
        pci_map(f);
    }
    if (!driver_up()) {
        fz_fail(f, "virtio: the device refuses to set up again after a reset");
    }
    if (kind == FV_RNG_PCI) {
        rng_check(f);
        return;
    }
    if (kind == FV_INPUT_PCI) {
        return; /* events come from the monitor: fuzz-virtio-input.c */
    }
    blk_write_check(f, sector, seed);
    loop_check(f);
}

void fv_op(fz *f, unsigned i)
{
    if (drv.pci) {
        drv.dev = f->dev[0]; /* a migration round trip may have replaced it */
    }
    switch (i) {
    case 0:
    case 1:
        fv_chain(f, &drv, 0);
        break;
    case 2:
        fv_indirect(f, &drv, 0);
        break;
    case 3:
        request(f);
        break;
    case 4:
        fv_rings(f, &drv, 0);
        break;
    case 5:
        reap(f);
        break;
    case 6:
        spec_check(f);
        break;
    }
}
