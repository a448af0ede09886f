/*
 * Fuzz target: nvme (plugins/nvme) through the harness, driven by the
 * plugin tests' own driver (plugins/nvme/tests/nvme-drv.h). Each input
 * starts from an enabled controller with admin queues and I/O queue pair 1
 * on a 1 MiB raw image; beyond the generic actions (fuzz-dev.h):
 *
 *   0  submit: an SQE with a fuzzed opcode (mostly real ones), namespace,
 *      PRP1/PRP2 anywhere (fz_addr), CDW10..15, on the admin queue, I/O
 *      queue 1 or a queue the input created; rung at once or not
 *   1  a PRP list: up to 16 entries at a RAM address, each a guest address
 *      or a page of RAM, the last possibly pointing back into the list
 *   2  doorbell with a raw value (SQ tail or CQ head of any queue id)
 *   3  reap completions of the admin and I/O queue 1
 *   4  the spec check: drain, system reset, re-enable, write a pattern
 *      through the device and find it in the image, then bad PRPs must be
 *      answered with their NVMe status (Data Transfer Error for memory
 *      that is not RAM, PRP Offset Invalid for a self-chained list)
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz-dev.h"
#include "nvme/tests/nvme-drv.h"

#define RAM_SIZE (4ull << 20)
#define IMG_SIZE (1ull << 20)
#define IOQ_SIZE 16
#define CHECK_BUF 0x300000ull  /* the spec check's data (RAM the driver owns) */
#define CHECK_LIST 0x310000ull

static char *image;
static nd drv;

static void remove_image(void)
{
    g_unlink(image);
}

static void init(void)
{
    int fd = g_file_open_tmp("fuzz-nvme-XXXXXX.img", &image, NULL);

    if (fd < 0 || ftruncate(fd, IMG_SIZE) != 0) {
        fprintf(stderr, "fuzz-nvme: cannot make a scratch image\n");
        exit(1);
    }
    close(fd);
    atexit(remove_image);
}

static void bring_up(fz *f)
{
    memset(&drv, 0, sizeof(drv));
    drv.h = f->h;
    drv.dev = f->dev[0];
    drv.ram = f->ram;
    drv.bar = tes_harness_bar_map(f->h, drv.dev, 0, ND_BAR0);
    tes_harness_msi_enable(f->h, drv.dev);
}

static void setup(fz *f)
{
    char *opt = g_strdup_printf("file=%s,if=none,id=d0,format=raw", image);
    tes_device *d;

    if (!tes_harness_drive(f->h, opt) ||
        !(d = tes_harness_device(f->h, "nvme", "drive=d0,serial=fuzz,mdts=4"))) {
        fz_fail(f, "nvme: %s", tes_harness_error(f->h));
    }
    g_free(opt);
    fz_device_add(f, d, NULL);
    bring_up(f);
    fz_window_add(f, ND_BAR0, 0x4000, false);
    if (!nd_enable(&drv) || nd_create_ioq(&drv, 1, IOQ_SIZE, 1) != 0) {
        fz_fail(f, "nvme: a fresh controller does not come up");
    }
}

static const uint8_t admin_ops[] = {0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x08, 0x09, 0x0a, 0x0c};
static const uint8_t io_ops[] = {0x00, 0x01, 0x02, 0x05, 0x08, 0x09};

static void submit(fz *f)
{
    uint8_t sel = fz_u8(f), s[64];
    unsigned qid = sel & 3;
    uint8_t opcode = fz_u8(f);
    uint32_t nsid, cdw[6];
    uint64_t prp1, prp2;
    nd_queue *q;

    if (!(sel & 0x80)) { /* mostly opcodes the controller implements */
        opcode = qid ? io_ops[opcode % sizeof(io_ops)] : admin_ops[opcode % sizeof(admin_ops)];
    }
    nsid = sel & 0x40 ? fz_u32(f) : 1;
    prp1 = fz_addr(f);
    prp2 = fz_addr(f);
    for (int i = 0; i < 6; i++) {
        /* Small values are what most fields take (lengths, qids, sizes). */
        cdw[i] = sel & 0x20 ? fz_u32(f) : fz_u8(f) | (uint32_t)(fz_u8(f) & 0xf) << 16;
    }
    q = &drv.q[qid];
    if (!q->size) { /* a queue the driver does not know: place it anyway */
        q->sq = ND_IOQ_BASE + qid * ND_IOQ_STRIDE;
        q->cq = q->sq + 0x20000;
        q->size = IOQ_SIZE;
        q->phase = 1;
    }
    nd_sqe(s, opcode, nsid, prp1, prp2, cdw);
    s[1] = fz_u8(f) & 0xc3; /* FUSE and PSDT bits */
    nd_push(&drv, qid, s);
    if (!(sel & 0x10)) {
        nd_ring(&drv, qid);
    }
}

static void prp_list(fz *f)
{
    uint64_t at = (fz_u32(f) % RAM_SIZE) & ~7ull;
    unsigned n = fz_u8(f) % 17;

    for (unsigned i = 0; i < n && at + 8 * i + 8 <= RAM_SIZE; i++) {
        uint8_t k = fz_u8(f);
        uint64_t e = k & 1 ? fz_addr(f) : (fz_u16(f) * 0x1000ull) % RAM_SIZE;

        if (k == 0xff) {
            e = at; /* back into the list itself */
        }
        memcpy(f->ram + at + 8 * i, &e, 8);
    }
}

static void doorbell(fz *f)
{
    uint8_t sel = fz_u8(f);

    nd_wr32(&drv, 0x1000 + 4 * (sel & 0x1f), sel & 0x80 ? fz_u32(f) : fz_u8(f));
}

static void reap(fz *f)
{
    nd_cqe c;

    tes_harness_block_poll(f->h);
    for (unsigned q = 0; q < 2; q++) {
        for (int i = 0; i < 64 && drv.q[q].size && nd_peek(&drv, q, &c, true); i++) {
        }
    }
}

static uint16_t io(fz *f, uint8_t op, uint64_t slba, uint32_t nlb0, uint64_t prp1, uint64_t prp2)
{
    uint32_t cdw[6] = {(uint32_t)slba, slba >> 32, nlb0};

    return nd_cmd(&drv, 1, op, 1, prp1, prp2, cdw, NULL);
}

static void check_file(fz *f, uint64_t off, const uint8_t *want, size_t len)
{
    uint8_t *got = g_malloc(len);
    FILE *fp = fopen(image, "rb");

    if (!fp || fseek(fp, off, SEEK_SET) != 0 || fread(got, 1, len, fp) != len) {
        fz_fail(f, "nvme: cannot read back the image");
    }
    fclose(fp);
    if (memcmp(got, want, len) != 0) {
        fz_fail(f, "nvme: a completed write of %zu bytes at 0x%llx is not on the image", len,
                (unsigned long long)off);
    }
    g_free(got);
}

/* After anything at all, a reset controller works as the spec says. */
static void spec_check(fz *f)
{
    uint64_t slba = fz_u8(f) * 4ull, self = CHECK_LIST + 0xff8;
    uint8_t seed = fz_u8(f);
    uint16_t st;

    fz_block_drain(f);
    tes_harness_reset(f->h);
    bring_up(f);
    if (!nd_enable(&drv) || nd_create_ioq(&drv, 1, IOQ_SIZE, 1) != 0) {
        fz_fail(f, "nvme: the controller does not come up after a reset");
    }
    for (unsigned i = 0; i < 0x2000; i++) {
        f->ram[CHECK_BUF + i] = (uint8_t)(seed + i * 13 + i / 512);
    }
    if ((st = io(f, 0x01, slba, 15, CHECK_BUF, CHECK_BUF + 0x1000)) != 0) {
        fz_fail(f, "nvme: an 8 KiB write after reset failed with status 0x%x", st);
    }
    check_file(f, slba * 512, f->ram + CHECK_BUF, 0x2000);
    st = io(f, 0x02, slba, 0, RAM_SIZE + 0x10000000ull, 0);
    if ((st & 0x3fff) != 0x04) {
        fz_fail(f, "nvme: a read into no RAM got status 0x%x, not Data Transfer Error", st);
    }
    memcpy(f->ram + CHECK_LIST + 0xff8, &self, 8);
    st = io(f, 0x02, slba, 23, CHECK_BUF, self);
    if ((st & 0x3fff) != 0x13) {
        fz_fail(f, "nvme: a self-chained PRP list got status 0x%x, not PRP Offset Invalid", st);
    }
}

static void op(fz *f, unsigned i)
{
    drv.dev = f->dev[0]; /* a migration round trip may have replaced it */
    switch (i) {
    case 0:
    case 1:
    case 2:
        submit(f);
        break;
    case 3:
        prp_list(f);
        break;
    case 4:
        doorbell(f);
        break;
    case 5:
        reap(f);
        break;
    case 6:
        spec_check(f);
        break;
    }
}

static const fz_target nvme_target = {
    .plugins = {"nvme", NULL},
    .ram_size = RAM_SIZE,
    .init = init,
    .setup = setup,
    .n_ops = 7,
    .op = op,
};

FZ_TARGET(nvme_target)
