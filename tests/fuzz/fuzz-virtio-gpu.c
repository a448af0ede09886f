/*
 * Fuzz target: virtio-gpu-pci (plugins/virtio, max_outputs=2,
 * max_hostmem=8M) through the harness; the generic actions are
 * fuzz-dev.h's. Each input starts from a driver that set up the control
 * and cursor queues (the first byte picks INDIRECT_DESC, EVENT_IDX, EDID).
 * Target actions:
 *
 *   0,1  a descriptor chain of 1..8 descriptors on either queue: addresses
 *        anywhere, lengths small or huge, flags and next fuzzed
 *   2    a well-formed control command of the 2D set (or any type), its
 *        fields fuzzed around what the driver sends: resource ids 0..4,
 *        the spec's formats, sizes up to 2^32, rectangles anywhere,
 *        backing lists of 0..8 entries anywhere (or a huge count), the
 *        fence flag; the request or response cut short at times
 *   3    a cursor command (update or move, any fields) on the cursorq
 *   4    a config read or write (events_clear, or anywhere)
 *   5    reap used entries of both queues
 *   6    the avail index or flags written raw, a notify of any queue
 *   7    the spec check: reset, set up again; a 64x64 resource with a
 *        pattern in RAM, set on scanout 0, transferred and flushed: every
 *        command answers OK_NODATA and QMP screendump shows the pattern
 *        (the first check of an input: a screendump writes a file);
 *        a looping chain sets DEVICE_NEEDS_RESET
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz-virtio.h"

#define RAM_SIZE (4ull << 20)
#define QSIZE 16
#define NQ 2
#define REQ_BASE 0x200000ull /* slot s: request at + 0x1000 * s, response + 0x600 */
#define PAT_BASE 0x300000ull /* backing the commands point at */
#define CHECK_BASE 0x380000ull
#define F_VERSION_1 (1ull << 32)
#define F_INDIRECT (1ull << 28)
#define F_EVENT_IDX (1ull << 29)
#define F_EDID (1ull << 1)
#define S_NEEDS_RESET 0x40
#define CHK 64 /* the spec check's resource: CHK x CHK */

static vd drv;
static uint64_t features;
static char *shot;
static bool shot_taken; /* one screendump an input: the file write is slow */

static void remove_shot(void)
{
    g_unlink(shot);
}

static void init(void)
{
    int fd = g_file_open_tmp("fuzz-vgpu-XXXXXX.ppm", &shot, NULL);

    if (fd < 0) {
        fprintf(stderr, "fuzz-virtio-gpu: cannot make a scratch file\n");
        exit(1);
    }
    close(fd);
    atexit(remove_shot);
}

static void setup(fz *f)
{
    uint8_t fsel = fz_u8(f);

    memset(&drv, 0, sizeof(drv));
    drv.h = f->h;
    drv.ram = f->ram;
    drv.pci = true;
    shot_taken = false;
    features = F_VERSION_1 | (fsel & 1 ? F_INDIRECT : 0) | (fsel & 2 ? F_EVENT_IDX : 0) |
               (fsel & 4 ? 0 : F_EDID);
    drv.dev = fv_create(f, "virtio-gpu-pci", "max_outputs=2,max_hostmem=8M");
    fz_device_add(f, drv.dev, NULL);
    drv.base = fv_pci_map(f, drv.dev);
    fz_window_add(f, VD_BAR4, 0x4000, false);
    if (!vd_init(&drv, features, NQ, QSIZE, true)) {
        fz_fail(f, "virtio-gpu: a fresh device refuses features 0x%llx",
                (unsigned long long)features);
    }
}

/* ---- actions ---- */

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static const uint32_t types[] = {0x100, 0x101, 0x102, 0x103, 0x104, 0x105, 0x106, 0x107,
                                 0x10a, 0x108, 0x200, 0x300};
static const uint32_t formats[] = {1, 2, 3, 4, 67, 68, 121, 134};

/* A dimension: mostly small, at times the limits or any 32-bit value. */
static uint32_t dim(fz *f)
{
    uint8_t s = fz_u8(f);

    if (s < 0xc0) {
        return s;
    }
    return s < 0xe0 ? 16384u + (s & 1) : fz_u32(f);
}

static void rect(fz *f, uint8_t *p)
{
    for (int i = 0; i < 4; i++) {
        put32(p + 4 * i, dim(f));
    }
}

/* The body of a command of type t at p (after its 24-byte header); its
 * length. */
static uint32_t body(fz *f, uint32_t t, uint8_t *p)
{
    uint32_t id = fz_u8(f) % 5, n;

    switch (t) {
    case 0x101:
        put32(p, id);
        put32(p + 4, formats[fz_u8(f) % 8]);
        put32(p + 8, dim(f));
        put32(p + 12, dim(f));
        return 16;
    case 0x103:
    case 0x104:
        rect(f, p);
        put32(p + 16, t == 0x103 ? fz_u8(f) % 3 : id);
        put32(p + 20, id);
        return 24;
    case 0x105:
        rect(f, p);
        put64(p + 16, fz_u8(f) & 1 ? fz_u64(f) : fz_u16(f) * 4ull);
        put32(p + 24, id);
        return 32;
    case 0x106:
        n = fz_u8(f);
        put32(p, id);
        put32(p + 4, n & 0x80 ? fz_u32(f) : n % 9);
        for (unsigned i = 0; i < n % 9; i++) {
            uint8_t s = fz_u8(f);

            put64(p + 8 + 16 * i, s & 1 ? fz_addr(f) : PAT_BASE + 0x1000 * (s >> 4));
            put32(p + 16 + 16 * i, s & 2 ? fz_len(f) : 0x1000u * (1 + (s >> 5)));
            put32(p + 20 + 16 * i, 0);
        }
        return 8 + 16 * (n % 9);
    default: /* unref, detach, get_edid, and any other */
        put32(p, t == 0x10a ? fz_u8(f) % 3 : id);
        put32(p + 4, 0);
        return 8 + (t > 0x10a ? fz_u8(f) : 0);
    }
}

static void command(fz *f)
{
    unsigned slot = fz_u8(f) % (QSIZE / 2), j = 2 * slot;
    uint64_t req = REQ_BASE + 0x1000ull * slot, resp = req + 0x600;
    uint8_t sel = fz_u8(f), *p = drv.ram + req;
    uint32_t t = sel & 0x80 ? fz_u32(f) : types[(sel & 0xf) % G_N_ELEMENTS(types)], len;

    memset(p, 0, 0x600);
    put32(p, t);
    put32(p + 4, sel & 0x40 ? 1 : 0); /* FLAG_FENCE */
    put64(p + 8, fz_u64(f));
    len = 24 + body(f, t, p + 24);
    vd_desc(&drv, drv.q[0].desc, j, req, sel & 0x20 ? fz_len(f) : len, VD_F_NEXT, j + 1);
    vd_desc(&drv, drv.q[0].desc, j + 1, resp, sel & 0x10 ? fz_len(f) : 0x500, VD_F_WRITE, 0);
    vd_publish(&drv, 0, j);
    vd_kick(&drv, 0);
}

static void cursor(fz *f)
{
    unsigned j = fz_u8(f) % QSIZE;
    uint64_t req = REQ_BASE + 0x8000 + 0x40 * j;
    uint8_t sel = fz_u8(f), *p = drv.ram + req;

    memset(p, 0, 56);
    put32(p, sel & 1 ? 0x301 : 0x300);
    for (unsigned i = 24; i < 56; i += 4) {
        put32(p + i, sel & 2 ? fz_u32(f) : fz_u8(f));
    }
    vd_desc(&drv, drv.q[1].desc, j, req, sel & 4 ? fz_len(f) : 56, 0, 0);
    vd_publish(&drv, 1, j);
    vd_kick(&drv, 1);
}

static void config(fz *f)
{
    uint8_t sel = fz_u8(f);
    uint64_t off = sel & 0x80 ? fz_u8(f) % 32 : 4;

    if (sel & 1) {
        vd_rd(&drv, VD_DEVCFG + off, sel & 0x40 ? fz_size(f) : 4);
    } else {
        vd_wr(&drv, VD_DEVCFG + off, fz_u32(f), sel & 0x40 ? fz_size(f) : 4);
    }
}

static void reap(fz *f)
{
    uint32_t head, len;

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

/* One command on slot 0 of the control queue; its response type. */
static uint32_t command_sync(fz *f, const uint8_t *req, uint32_t len)
{
    uint64_t resp = CHECK_BASE + 0x400;
    uint16_t want = vd_used_idx(&drv, 0) + 1;
    uint32_t type;

    memcpy(drv.ram + CHECK_BASE, req, len);
    memset(drv.ram + resp, 0xee, 24);
    vd_desc(&drv, drv.q[0].desc, 0, CHECK_BASE, len, VD_F_NEXT, 1);
    vd_desc(&drv, drv.q[0].desc, 1, resp, 24, VD_F_WRITE, 0);
    vd_publish(&drv, 0, 0);
    vd_kick(&drv, 0);
    if (vd_used_idx(&drv, 0) != want) {
        fz_fail(f, "virtio-gpu: command 0x%x got no response", req[0] | req[1] << 8);
    }
    memcpy(&type, drv.ram + resp, 4);
    return type;
}

static void check_cmd(fz *f, uint32_t t, const uint32_t *w, unsigned n)
{
    uint8_t b[64] = {0};

    put32(b, t);
    for (unsigned i = 0; i < n; i++) {
        put32(b + 24 + 4 * i, w[i]);
    }
    if (command_sync(f, b, 24 + 4 * n) != 0x1100) {
        fz_fail(f, "virtio-gpu: after a reset, command 0x%x is refused", t);
    }
}

static void check_screen(fz *f, uint8_t seed)
{
    g_autofree char *cmd = g_strdup_printf(
        "{\"execute\":\"screendump\",\"arguments\":{\"filename\":\"%s\"}}", shot);
    char *r = tes_harness_qmp(f->h, cmd);
    g_autofree guint8 *d = NULL;
    gsize len;
    int n = 0;
    unsigned w = 0, h = 0;

    free(r);
    /* "255" then one newline: scanf's "\n" would also eat pixel bytes that
     * look like white space. */
    if (!g_file_get_contents(shot, (char **)&d, &len, NULL) ||
        sscanf((const char *)d, "P6\n%u %u\n255%n", &w, &h, &n) != 2 || w != CHK ||
        h != CHK || d[n++] != '\n' || len != (gsize)n + CHK * CHK * 3) {
        fz_fail(f, "virtio-gpu: the screendump is not the %ux%u scanout", CHK, CHK);
    }
    for (unsigned i = 0; i < CHK * CHK; i++) {
        const guint8 *p = d + n + 3 * i, *s = drv.ram + PAT_BASE + 4 * i;

        if (p[0] != s[2] || p[1] != s[1] || p[2] != s[0]) {
            fz_fail(f, "virtio-gpu: screendump pixel %u is not the pattern (seed %u)", i,
                    seed);
        }
    }
}

static void draw_check(fz *f, uint8_t seed)
{
    const uint32_t create[] = {1, 2, CHK, CHK};
    const uint32_t attach[] = {1, 1, (uint32_t)PAT_BASE, 0, CHK * CHK * 4, 0};
    const uint32_t scanout[] = {0, 0, CHK, CHK, 0, 1};
    const uint32_t xfer[] = {0, 0, CHK, CHK, 0, 0, 1, 0};
    const uint32_t flush[] = {0, 0, CHK, CHK, 1, 0};

    for (unsigned i = 0; i < CHK * CHK * 4; i++) {
        drv.ram[PAT_BASE + i] = (uint8_t)(seed + i * 7 + i / 256);
    }
    check_cmd(f, 0x101, create, 4);
    check_cmd(f, 0x106, attach, 6);
    check_cmd(f, 0x103, scanout, 6);
    check_cmd(f, 0x105, xfer, 8);
    check_cmd(f, 0x104, flush, 6);
    if (!shot_taken) {
        shot_taken = true;
        check_screen(f, seed);
    }
}

static void loop_check(fz *f)
{
    vd_desc(&drv, drv.q[1].desc, 3, CHECK_BASE + 0x3000, 64, VD_F_NEXT, 4);
    vd_desc(&drv, drv.q[1].desc, 4, CHECK_BASE + 0x3000, 64, VD_F_NEXT, 3);
    vd_publish(&drv, 1, 3);
    vd_kick(&drv, 1);
    if (!(vd_status(&drv) & S_NEEDS_RESET)) {
        fz_fail(f, "virtio-gpu: a looping descriptor chain did not set DEVICE_NEEDS_RESET");
    }
}

static void spec_check(fz *f)
{
    uint8_t seed = fz_u8(f);

    drv.base = fv_pci_map(f, drv.dev);
    if (!vd_init(&drv, features, NQ, QSIZE, true)) {
        fz_fail(f, "virtio-gpu: the device refuses to set up again after a reset");
    }
    draw_check(f, seed);
    loop_check(f);
}

static void op(fz *f, unsigned i)
{
    drv.dev = f->dev[0];
    switch (i) {
    case 0: case 1: fv_chain(f, &drv, fz_u8(f) % NQ); break;
    case 2: command(f); break;
    case 3: cursor(f); break;
    case 4: config(f); break;
    case 5: reap(f); break;
    case 6: rings(f); break;
    default: spec_check(f); break;
    }
}

static const fz_target virtio_gpu_target = {
    .plugins = {"virtio", NULL},
    .ram_size = RAM_SIZE,
    .init = init,
    .setup = setup,
    .n_ops = 8,
    .op = op,
};

FZ_TARGET(virtio_gpu_target)
