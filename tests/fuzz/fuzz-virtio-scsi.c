/*
 * Fuzz target: virtio-scsi-pci (plugins/virtio) carrying virtio-scsi-device
 * (plugins/scsi) with a scsi-hd at 0:0 and a scsi-cd at 1:0, through the
 * harness; the generic actions are fuzz-dev.h's. Each input starts from a
 * driver that set up the control, event and two request queues (the
 * first byte picks INDIRECT_DESC, EVENT_IDX, HOTPLUG). Target actions:
 *
 *   0,1  a descriptor chain of 1..8 descriptors on any queue: addresses
 *        anywhere, lengths small or huge, flags and next fuzzed
 *   2    a well-formed SCSI command on a request queue: any target and
 *        LUN (mostly present ones), an opcode the disks know (or any)
 *        with fuzzed CDB bytes, data in or out of any length anywhere
 *   3    a control request: TMF of any subtype, LUN and tag (often one in
 *        flight), AN query/subscribe, or any type, of fuzzed sizes
 *   4    event buffers of fuzzed sizes on the event queue
 *   5    a config write (sense_size, cdb_size, or anywhere)
 *   6    reap used entries of every queue after block completions
 *   7    the avail index or flags written raw, a notify of any queue
 *   8    the spec check: drain, reset, set up again; TEST UNIT READY
 *        until GOOD, then a 4 KiB WRITE 10 completes GOOD and is on the
 *        image, and a looping chain sets DEVICE_NEEDS_RESET
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz-virtio.h"

#define RAM_SIZE (4ull << 20)
#define IMG_SIZE (1ull << 20)
#define QSIZE 16
#define NQ 4 /* control, event, two request queues */
#define REQ_BASE 0x200000ull
#define CHECK_BASE 0x300000ull
#define F_VERSION_1 (1ull << 32)
#define F_INDIRECT (1ull << 28)
#define F_EVENT_IDX (1ull << 29)
#define F_HOTPLUG (1ull << 1)
#define S_NEEDS_RESET 0x40

static char *image[2];
static vd drv;
static uint64_t features, last_tag;

static void remove_images(void)
{
    for (int i = 0; i < 2; i++) {
        g_unlink(image[i]);
    }
}

static void init(void)
{
    for (int i = 0; i < 2; i++) {
        int fd = g_file_open_tmp("fuzz-vscsi-XXXXXX.img", &image[i], NULL);
        if (fd < 0 || ftruncate(fd, IMG_SIZE) != 0) {
            fprintf(stderr, "fuzz-virtio-scsi: cannot make a scratch image\n");
            exit(1);
        }
        close(fd);
    }
    atexit(remove_images);
}

static void pci_map(fz *f)
{
    drv.base = fv_pci_map(f, drv.dev);
}

static void setup(fz *f)
{
    uint8_t fsel = fz_u8(f);
    unsigned hba;

    memset(&drv, 0, sizeof(drv));
    drv.h = f->h;
    drv.ram = f->ram;
    drv.pci = true;
    last_tag = 0;
    features = F_VERSION_1 | (fsel & 1 ? F_INDIRECT : 0) | (fsel & 2 ? F_EVENT_IDX : 0) |
               (fsel & 4 ? F_HOTPLUG : 0);
    for (int i = 0; i < 2; i++) {
        char *opt = g_strdup_printf("file=%s,if=none,id=d%d,format=raw%s", image[i], i,
                                    i ? ",readonly=on" : "");
        if (!tes_harness_drive(f->h, opt)) {
            fz_fail(f, "drive: %s", tes_harness_error(f->h));
        }
        g_free(opt);
    }
    drv.dev = fv_create(f, "virtio-scsi-pci", "id=scsi0,num_queues=2,virtqueue_size=16");
    /* A round trip of the HBA alone would drop its disks in the harness. */
    hba = fz_device_add(f, drv.dev, NULL);
    fz_device_fixed(f, hba);
    fz_device_add(f, fv_create(f, "scsi-hd", "drive=d0,bus=scsi0.0,scsi-id=0,lun=0"), NULL);
    fz_device_add(f, fv_create(f, "scsi-cd", "drive=d1,bus=scsi0.0,scsi-id=1,lun=0"), NULL);
    pci_map(f);
    fz_window_add(f, VD_BAR4, 0x4000, false);
    if (!vd_init(&drv, features, NQ, QSIZE, true)) {
        fz_fail(f, "virtio-scsi: a fresh device refuses features 0x%llx",
                (unsigned long long)features);
    }
}

/* ---- actions ---- */

static void chain(fz *f)
{
    unsigned qi = fz_u8(f) % NQ;

    fv_chain(f, &drv, qi);
}

static const uint8_t opcodes[] = {
    0x00, 0x03, 0x08, 0x0a, 0x12, 0x15, 0x1a, 0x1b, 0x1e, 0x25, 0x28, 0x2a, 0x2e, 0x2f,
    0x35, 0x41, 0x42, 0x43, 0x46, 0x4a, 0x51, 0x55, 0x5a, 0x88, 0x8a, 0x8f, 0x91, 0x93,
    0x9e, 0xa0, 0xa8, 0xaa, 0xaf, 0xbd,
};

/* Header (51 bytes), optional data, response (108): descriptors 3*slot.. */
static void command(fz *f)
{
    unsigned qi = 2 + fz_u8(f) % 2, slot = fz_u8(f) % (QSIZE / 3), j = 3 * slot;
    uint64_t req = REQ_BASE + 0x200 * slot, resp = req + 0x100;
    uint8_t sel = fz_u8(f), *r = drv.ram + req;
    uint32_t len = sel & 0x20 ? fz_len(f) : 512u * (1 + fz_u8(f) % 8);
    uint64_t data = sel & 0x10 ? fz_addr(f) : REQ_BASE + 0x10000 + 0x2000 * slot;

    memset(r, 0, 51);
    r[0] = sel & 0x80 ? fz_u8(f) : 1;
    r[1] = sel & 0x40 ? fz_u8(f) : fz_u8(f) & 1;
    r[2] = 0x40, r[3] = sel & 0x40 ? fz_u8(f) : 0;
    last_tag = (last_tag + 1) & 0xff;
    memcpy(r + 8, &last_tag, 8);
    for (unsigned i = 0; i < 16; i++) {
        r[19 + i] = fz_u8(f);
    }
    if (!(sel & 0x08)) {
        r[19] = opcodes[r[19] % sizeof(opcodes)];
        r[20] &= 0x1f; /* mostly no protection bits */
    }
    vd_desc(&drv, drv.q[qi].desc, j, req, 51, VD_F_NEXT, j + 1);
    if ((sel & 3) == 1) {
        vd_desc(&drv, drv.q[qi].desc, j + 1, data, len, VD_F_NEXT, j + 2);
        vd_desc(&drv, drv.q[qi].desc, j + 2, resp, 108, VD_F_WRITE, 0);
    } else if ((sel & 3) == 2) {
        vd_desc(&drv, drv.q[qi].desc, j + 1, resp, 108, VD_F_WRITE | VD_F_NEXT, j + 2);
        vd_desc(&drv, drv.q[qi].desc, j + 2, data, len, VD_F_WRITE, 0);
    } else {
        vd_desc(&drv, drv.q[qi].desc, j + 1, resp, 108, VD_F_WRITE, 0);
    }
    vd_publish(&drv, qi, j);
    vd_kick(&drv, qi);
}

static void control(fz *f)
{
    unsigned slot = fz_u8(f) % (QSIZE / 2), j = 2 * slot;
    uint64_t req = REQ_BASE + 0x8000 + 0x40 * slot;
    uint8_t sel = fz_u8(f), *p = drv.ram + req;
    uint32_t type = sel & 0x80 ? fz_u32(f) : sel % 3, sub = fz_u8(f) % 9;
    uint64_t tag = sel & 0x40 ? fz_u64(f) : last_tag;

    memset(p, 0, 24);
    memcpy(p, &type, 4);
    memcpy(p + (type ? 12 : 4), &sub, 4);
    p[type ? 4 : 8] = 1;
    p[type ? 5 : 9] = fz_u8(f) & (sel & 0x20 ? 0xff : 1);
    p[type ? 6 : 10] = 0x40;
    memcpy(p + 16, &tag, 8);
    vd_desc(&drv, drv.q[0].desc, j, req, sel & 0x10 ? fz_len(f) : 24, VD_F_NEXT, j + 1);
    vd_desc(&drv, drv.q[0].desc, j + 1, req + 0x20, sel & 0x08 ? fz_len(f) : 8, VD_F_WRITE,
            0);
    vd_publish(&drv, 0, j);
    vd_kick(&drv, 0);
}

static void events(fz *f)
{
    unsigned n = 1 + fz_u8(f) % 4;

    for (unsigned i = 0; i < n; i++) {
        unsigned j = fz_u8(f) % QSIZE;
        uint8_t sel = fz_u8(f);
        vd_desc(&drv, drv.q[1].desc, j, sel & 1 ? fz_addr(f) : REQ_BASE + 0xc000 + 16 * j,
                sel & 2 ? fz_len(f) : 16, sel & 4 ? 0 : VD_F_WRITE, 0);
        vd_publish(&drv, 1, j);
    }
    vd_kick(&drv, 1);
}

static void config(fz *f)
{
    uint8_t sel = fz_u8(f);
    uint64_t off = sel & 0x80 ? fz_u8(f) : sel & 1 ? 24 : 20;

    vd_wr(&drv, VD_DEVCFG + off, fz_u32(f), sel & 0x40 ? fz_size(f) : 4);
}

static void reap(fz *f)
{
    uint32_t head, len;

    tes_harness_block_poll(f->h);
    for (unsigned q = 0; q < NQ; q++) {
        for (int i = 0; i < 64 && vd_reap(&drv, q, &head, &len); i++) {
        }
    }
}

static void rings(fz *f)
{
    uint8_t sel = fz_u8(f);
    vd_queue *q = &drv.q[sel % NQ];

    if (sel & 4) {
        q->avail_idx = fz_u16(f);
        vd_put16(&drv, q->avail + 2, q->avail_idx);
    } else {
        vd_put16(&drv, q->avail, fz_u16(f));
    }
    vd_kick(&drv, sel >> 3);
}

/* ---- the spec check ---- */

static bool command_sync(fz *f, const uint8_t *cdb, unsigned cdb_len, uint64_t data,
                         uint32_t len, uint8_t *status)
{
    uint64_t req = CHECK_BASE, resp = CHECK_BASE + 0x100;
    uint16_t want = vd_used_idx(&drv, 2) + 1;
    uint8_t *r = drv.ram + req;

    memset(r, 0, 51);
    r[0] = 1, r[2] = 0x40;
    memcpy(r + 19, cdb, cdb_len);
    memset(drv.ram + resp, 0xee, 12);
    vd_desc(&drv, drv.q[2].desc, 0, req, 51, VD_F_NEXT, len ? 1 : 2);
    vd_desc(&drv, drv.q[2].desc, 1, data, len, VD_F_NEXT, 2);
    vd_desc(&drv, drv.q[2].desc, 2, resp, 108, VD_F_WRITE, 0);
    vd_publish(&drv, 2, 0);
    vd_kick(&drv, 2);
    for (int i = 0; i < 1000 && vd_used_idx(&drv, 2) != want; i++) {
        tes_harness_block_wait(f->h);
    }
    *status = drv.ram[resp + 10];
    return vd_used_idx(&drv, 2) == want && drv.ram[resp + 11] == 0;
}

static void check_file(fz *f, uint64_t off, const uint8_t *want, size_t len)
{
    uint8_t *got = g_malloc(len);
    FILE *fp = fopen(image[0], "rb");

    if (!fp || fseek(fp, off, SEEK_SET) != 0 || fread(got, 1, len, fp) != len) {
        fz_fail(f, "virtio-scsi: cannot read back the image");
    }
    fclose(fp);
    if (memcmp(got, want, len) != 0) {
        fz_fail(f, "virtio-scsi: a completed WRITE 10 of %zu bytes at 0x%llx is not on the "
                "image", len, (unsigned long long)off);
    }
    g_free(got);
}

static void write_check(fz *f, uint8_t lba, uint8_t seed)
{
    const uint8_t tur[6] = {0};
    const uint8_t wr[10] = {0x2a, 0, 0, 0, 0, lba, 0, 0, 8, 0};
    uint64_t data = CHECK_BASE + 0x1000;
    uint8_t status = 0xff;

    /* The reset left a unit attention: TEST UNIT READY takes it. */
    for (int i = 0; i < 3 && status != 0; i++) {
        if (!command_sync(f, tur, sizeof(tur), 0, 0, &status)) {
            fz_fail(f, "virtio-scsi: TEST UNIT READY after reset got no response");
        }
    }
    if (status != 0) {
        fz_fail(f, "virtio-scsi: TEST UNIT READY after reset is not GOOD (0x%x)", status);
    }
    for (unsigned i = 0; i < 0x1000; i++) {
        drv.ram[data + i] = (uint8_t)(seed + i * 11 + i / 512);
    }
    if (!command_sync(f, wr, sizeof(wr), data, 0x1000, &status) || status != 0) {
        fz_fail(f, "virtio-scsi: a 4 KiB WRITE 10 after reset did not complete GOOD (0x%x)",
                status);
    }
    check_file(f, lba * 512ull, drv.ram + data, 0x1000);
}

static void loop_check(fz *f)
{
    vd_desc(&drv, drv.q[3].desc, 3, CHECK_BASE + 0x3000, 64, VD_F_NEXT, 4);
    vd_desc(&drv, drv.q[3].desc, 4, CHECK_BASE + 0x3000, 64, VD_F_NEXT, 3);
    vd_publish(&drv, 3, 3);
    vd_kick(&drv, 3);
    fz_block_drain(f);
    if (!(vd_status(&drv) & S_NEEDS_RESET)) {
        fz_fail(f, "virtio-scsi: a looping descriptor chain did not set DEVICE_NEEDS_RESET");
    }
}

static void spec_check(fz *f)
{
    uint8_t lba = fz_u8(f), seed = fz_u8(f);

    fz_block_drain(f);
    pci_map(f);
    if (!vd_init(&drv, features, NQ, QSIZE, true)) {
        fz_fail(f, "virtio-scsi: the device refuses to set up again after a reset");
    }
    write_check(f, lba, seed);
    loop_check(f);
}

static void op(fz *f, unsigned i)
{
    drv.dev = f->dev[0];
    switch (i) {
    case 0: case 1: chain(f); break;
    case 2: command(f); break;
    case 3: control(f); break;
    case 4: events(f); break;
    case 5: config(f); break;
    case 6: reap(f); break;
    case 7: rings(f); break;
    default: spec_check(f); break;
    }
}

static const fz_target virtio_scsi_target = {
    .plugins = {"virtio", "scsi", NULL},
    .ram_size = RAM_SIZE,
    .init = init,
    .setup = setup,
    .n_ops = 9,
    .op = op,
};

FZ_TARGET(virtio_scsi_target)
