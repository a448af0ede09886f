/*
 * virtio-gpu-pci and virtio-gpu-device through the harness: the command
 * sequence Linux's virtio-gpu driver sends for its fbdev (display info,
 * EDID, create a resource, attach guest pages, set the scanout, transfer,
 * flush) and what QMP screendump then saves, pixel-exact; the error
 * response of each kind of bad command; the host memory cap; migration
 * and reset.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <tessera/harness.h>
#include <tessera/virtio.h>

#include "tests/virtio-drv.h"

#define RAM_SIZE (16ull << 20)
#define F_VERSION_1 (1ull << 32)
#define F_EDID (1ull << 1)
#define REQ 0x200000ull
#define RESP 0x208000ull
#define PAT_W 320
#define PAT_H 200
#define PAT_BYTES (PAT_W * PAT_H * 4)

/* Where each piece of the backing lives: out of order and apart, so that
 * the device must follow the list. */
static const struct {
    uint64_t addr;
    uint32_t len;
} pieces[] = {
    {0x600000, 0x10000},
    {0x400000, 0x10000},
    {0x500000, PAT_BYTES - 0x20000},
};

static const char *plugin_path;

typedef struct fixture {
    vd d;
    char *dir;
} fixture;

static void up_common(fixture *f)
{
    memset(f, 0, sizeof(*f));
    f->d.h = tes_harness_new(RAM_SIZE);
    g_assert_true(tes_harness_load(f->d.h, plugin_path));
    f->d.ram = tes_harness_ram(f->d.h);
    f->dir = g_dir_make_tmp("test-vgpu-XXXXXX", NULL);
    g_assert_nonnull(f->dir);
}

static void up(fixture *f, const char *props)
{
    up_common(f);
    f->d.dev = tes_harness_device(f->d.h, "virtio-gpu-pci", props);
    if (!f->d.dev) {
        g_error("virtio-gpu-pci: %s", tes_harness_error(f->d.h));
    }
    f->d.pci = true;
    f->d.base = VD_BAR4;
    g_assert_cmphex(tes_harness_bar_map(f->d.h, f->d.dev, 4, VD_BAR4), ==, VD_BAR4);
    g_assert_true(vd_init(&f->d, F_VERSION_1 | F_EDID, 2, 16, false));
}

static void down(fixture *f)
{
    tes_harness_free(f->d.h);
    g_rmdir(f->dir);
    g_free(f->dir);
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return v;
}

/* Send a request of len bytes on queue q with a resp_len-byte response
 * buffer (0: none); returns the response type (0 if none written) and
 * the bytes written in *written. */
static uint32_t send(fixture *f, unsigned q, const uint8_t *req, uint32_t len, uint32_t resp_len,
                     uint32_t *written)
{
    vd *d = &f->d;
    uint32_t head = ~0u, got = 0;

    memcpy(d->ram + REQ, req, len);
    memset(d->ram + RESP, 0xee, 2048);
    vd_desc(d, d->q[q].desc, 0, REQ, len, resp_len ? VD_F_NEXT : 0, 1);
    vd_desc(d, d->q[q].desc, 1, RESP, resp_len, VD_F_WRITE, 0);
    vd_publish(d, q, 0);
    vd_kick(d, q);
    g_assert_true(vd_reap(d, q, &head, &got));
    g_assert_cmpuint(head, ==, 0);
    if (written) {
        *written = got;
    }
    return got >= 4 ? get32(d->ram + RESP) : 0;
}

static uint32_t ctrl(fixture *f, const uint8_t *req, uint32_t len)
{
    uint32_t n, t = send(f, 0, req, len, 24, &n);

    g_assert_cmpuint(n, ==, 24);
    return t;
}

static void hdr(uint8_t *b, uint32_t type)
{
    memset(b, 0, 24);
    put32(b, type);
}

static uint32_t create_2d(fixture *f, uint32_t id, uint32_t fmt, uint32_t w, uint32_t h)
{
    uint8_t b[40];

    hdr(b, 0x101);
    put32(b + 24, id);
    put32(b + 28, fmt);
    put32(b + 32, w);
    put32(b + 36, h);
    return ctrl(f, b, sizeof(b));
}

static uint32_t attach(fixture *f, uint32_t id, unsigned n, const uint64_t *addr,
                       const uint32_t *len)
{
    uint8_t b[32 + 16 * 8];

    g_assert_cmpuint(n, <=, 8);
    hdr(b, 0x106);
    put32(b + 24, id);
    put32(b + 28, n);
    for (unsigned i = 0; i < n; i++) {
        put64(b + 32 + 16 * i, addr[i]);
        put32(b + 40 + 16 * i, len[i]);
        put32(b + 44 + 16 * i, 0);
    }
    return ctrl(f, b, 32 + 16 * n);
}

static uint32_t attach_pattern(fixture *f, uint32_t id)
{
    uint64_t a[3];
    uint32_t l[3];

    for (unsigned i = 0; i < 3; i++) {
        a[i] = pieces[i].addr;
        l[i] = pieces[i].len;
    }
    return attach(f, id, 3, a, l);
}

/* rect commands: set_scanout (0x103), flush (0x104), transfer (0x105). */
static void rect(uint8_t *b, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
    put32(b, x);
    put32(b + 4, y);
    put32(b + 8, w);
    put32(b + 12, h);
}

static uint32_t set_scanout(fixture *f, uint32_t scanout, uint32_t id, uint32_t x, uint32_t y,
                            uint32_t w, uint32_t h)
{
    uint8_t b[48];

    hdr(b, 0x103);
    rect(b + 24, x, y, w, h);
    put32(b + 40, scanout);
    put32(b + 44, id);
    return ctrl(f, b, sizeof(b));
}

static uint32_t transfer(fixture *f, uint32_t id, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
                         uint64_t offset)
{
    uint8_t b[56];

    hdr(b, 0x105);
    rect(b + 24, x, y, w, h);
    put64(b + 40, offset);
    put32(b + 48, id);
    put32(b + 52, 0);
    return ctrl(f, b, sizeof(b));
}

static uint32_t flush(fixture *f, uint32_t id, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
    uint8_t b[48];

    hdr(b, 0x104);
    rect(b + 24, x, y, w, h);
    put32(b + 40, id);
    put32(b + 44, 0);
    return ctrl(f, b, sizeof(b));
}

static uint32_t res_cmd(fixture *f, uint32_t type, uint32_t id)
{
    uint8_t b[32] = {0};

    hdr(b, type);
    put32(b + 24, id);
    return ctrl(f, b, sizeof(b));
}

static uint32_t test_rgb(unsigned x, unsigned y, unsigned seed)
{
    return ((x * 7 + y + seed) & 0xff) << 16 | ((y * 3) & 0xff) << 8 | ((x ^ y ^ seed) & 0xff);
}

/* The backing byte at offset off lives in the piece holding it. */
static uint8_t *backing(fixture *f, uint64_t off)
{
    for (unsigned i = 0; i < 3; i++) {
        if (off < pieces[i].len) {
            return f->d.ram + pieces[i].addr + off;
        }
        off -= pieces[i].len;
    }
    g_assert_not_reached();
}

/* The pattern in the backing as 32-bit pixels bytes b0..b3 per the
 * format's memory order: order[i] = which of B(0), G(1), R(2), x(3). */
static void fill(fixture *f, unsigned seed, const unsigned order[4])
{
    for (unsigned y = 0; y < PAT_H; y++) {
        for (unsigned x = 0; x < PAT_W; x++) {
            uint32_t rgb = test_rgb(x, y, seed);
            uint8_t bgrx[4] = {rgb & 0xff, (rgb >> 8) & 0xff, rgb >> 16, 0x5a};

            for (unsigned i = 0; i < 4; i++) {
                *backing(f, ((uint64_t)y * PAT_W + x) * 4 + i) = bgrx[order[i]];
            }
        }
    }
}

static const unsigned ORDER_BGRX[4] = {0, 1, 2, 3};

static const char *shot_args; /* more screendump arguments, or NULL */

/* QMP screendump (PPM) of console 0 (or what shot_args name): its size
 * and RGB pixels. */
static guint8 *screendump(fixture *f, unsigned *w, unsigned *h)
{
    g_autofree char *path = g_build_filename(f->dir, "shot.ppm", NULL);
    g_autofree char *cmd =
        g_strdup_printf("{\"execute\":\"screendump\",\"arguments\":{\"filename\":\"%s\"%s}}",
                        path, shot_args ? shot_args : "");
    char *r = tes_harness_qmp(f->d.h, cmd);
    guint8 *data;
    gsize len;
    int n = 0;

    if (!strstr(r, "\"return\"")) {
        g_error("screendump: %s", r);
    }
    free(r);
    g_assert_true(g_file_get_contents(path, (char **)&data, &len, NULL));
    g_unlink(path);
    /* "255" then one newline (scanf's "\n" would eat white-space pixels). */
    g_assert_cmpint(sscanf((const char *)data, "P6\n%u %u\n255%n", w, h, &n), ==, 2);
    g_assert_cmphex(data[n++], ==, '\n');
    g_assert_cmpuint(len, ==, (gsize)n + (gsize)*w * *h * 3);
    memmove(data, data + n, len - n);
    return data;
}

/* The screendump shows the pattern's rectangle at (x0, y0), w x h;
 * pixels in the transferred rectangle t have seed new_seed, old_seed
 * elsewhere. */
static void assert_picture(fixture *f, unsigned x0, unsigned y0, unsigned w, unsigned h,
                           unsigned old_seed, unsigned new_seed, const unsigned t[4])
{
    unsigned sw, sh;
    g_autofree guint8 *px = screendump(f, &sw, &sh);

    g_assert_cmpuint(sw, ==, w);
    g_assert_cmpuint(sh, ==, h);
    for (unsigned y = 0; y < h; y++) {
        for (unsigned x = 0; x < w; x++) {
            const guint8 *p = px + ((gsize)y * w + x) * 3;
            unsigned rx = x0 + x, ry = y0 + y;
            bool in_t = t && rx >= t[0] && rx < t[0] + t[2] && ry >= t[1] && ry < t[1] + t[3];
            uint32_t want = test_rgb(rx, ry, in_t ? new_seed : old_seed);
            uint32_t got = (uint32_t)p[0] << 16 | p[1] << 8 | p[2];

            if (got != want) {
                g_error("pixel %u,%u is 0x%06x, want 0x%06x", x, y, got, want);
            }
        }
    }
}

/* What the driver reads first: ids, config, display info, EDID. */
static void test_identity(void)
{
    fixture f;
    uint8_t b[32];
    uint32_t n;
    const uint8_t *r;

    up(&f, "xres=1024,yres=768,max_outputs=2");
    g_assert_cmphex(tes_harness_cfg_read(f.d.h, f.d.dev, 0, 4), ==, 0x10501af4);
    g_assert_cmphex(tes_harness_cfg_read(f.d.h, f.d.dev, 0x08, 4) >> 8, ==, 0x038000);
    g_assert_true(vd_device_features(&f.d) & F_EDID);
    g_assert_cmpuint(vd_cfg_read(&f.d, 8, 4), ==, 2); /* num_scanouts */
    g_assert_cmpuint(vd_cfg_read(&f.d, 12, 4), ==, 0); /* num_capsets */
    hdr(b, 0x100);
    g_assert_cmphex(send(&f, 0, b, 24, 408, &n), ==, 0x1101);
    g_assert_cmpuint(n, ==, 408);
    r = f.d.ram + RESP + 24;
    g_assert_cmpuint(get32(r + 8), ==, 1024);
    g_assert_cmpuint(get32(r + 12), ==, 768);
    g_assert_cmpuint(get32(r + 16), ==, 1); /* enabled */
    g_assert_cmpuint(get32(r + 24 + 16), ==, 0); /* scanout 1: off */
    hdr(b, 0x10a);
    put32(b + 24, 0);
    put32(b + 28, 0);
    g_assert_cmphex(send(&f, 0, b, 32, 1056, &n), ==, 0x1104);
    g_assert_cmpuint(n, ==, 1056);
    g_assert_cmpuint(get32(r), ==, 128);
    g_assert_cmphex(r[8], ==, 0);
    g_assert_cmphex(r[9], ==, 0xff);
    /* The preferred mode's width, in the first detailed timing. */
    g_assert_cmpuint(r[8 + 56] | (r[8 + 58] >> 4) << 8, ==, 1024);
    put32(b + 24, 2);
    g_assert_cmphex(send(&f, 0, b, 32, 1056, &n), ==, 0x1205);
    down(&f);
}

/* The driver's fbdev sequence; the screendump is the pattern. */
static void test_draw(void)
{
    fixture f;
    const unsigned rect_t[4] = {17, 9, 100, 50};

    up(&f, NULL);
    fill(&f, 0, ORDER_BGRX);
    g_assert_cmphex(create_2d(&f, 5, 2 /* B8G8R8X8 */, PAT_W, PAT_H), ==, 0x1100);
    g_assert_cmphex(attach_pattern(&f, 5), ==, 0x1100);
    g_assert_cmphex(set_scanout(&f, 0, 5, 0, 0, PAT_W, PAT_H), ==, 0x1100);
    g_assert_cmphex(transfer(&f, 5, 0, 0, PAT_W, PAT_H, 0), ==, 0x1100);
    g_assert_cmphex(flush(&f, 5, 0, 0, PAT_W, PAT_H), ==, 0x1100);
    assert_picture(&f, 0, 0, PAT_W, PAT_H, 0, 0, NULL);
    /* A damaged rectangle as the driver sends it: offset of its first
     * pixel in the backing; only that rectangle changes. */
    fill(&f, 9, ORDER_BGRX);
    g_assert_cmphex(transfer(&f, 5, rect_t[0], rect_t[1], rect_t[2], rect_t[3],
                             ((uint64_t)rect_t[1] * PAT_W + rect_t[0]) * 4), ==, 0x1100);
    g_assert_cmphex(flush(&f, 5, rect_t[0], rect_t[1], rect_t[2], rect_t[3]), ==, 0x1100);
    assert_picture(&f, 0, 0, PAT_W, PAT_H, 0, 9, rect_t);
    /* A scanout on a part of the resource. */
    g_assert_cmphex(set_scanout(&f, 0, 5, 40, 30, 200, 100), ==, 0x1100);
    assert_picture(&f, 40, 30, 200, 100, 0, 9, rect_t);
    /* Across a migration: the pixels and the scanout; the backing list
     * still works for a transfer afterwards. */
    f.d.dev = tes_harness_migrate(f.d.h, f.d.dev, NULL);
    g_assert_nonnull(f.d.dev);
    assert_picture(&f, 40, 30, 200, 100, 0, 9, rect_t);
    g_assert_cmphex(transfer(&f, 5, 0, 0, PAT_W, PAT_H, 0), ==, 0x1100);
    assert_picture(&f, 40, 30, 200, 100, 9, 9, NULL);
    /* Unref while shown: the console goes dark (QEMU's 640x480 blank). */
    g_assert_cmphex(res_cmd(&f, 0x102, 5), ==, 0x1100);
    {
        unsigned w, h;
        guint8 *px = screendump(&f, &w, &h);

        g_assert_cmpuint(w, ==, 640);
        g_assert_cmpuint(h, ==, 480);
        g_assert_cmphex(px[0] | px[1] | px[2], ==, 0); /* black */
        g_free(px);
    }
    down(&f);
}

/* A resource migrated before any ATTACH_BACKING gets its list after the
 * load as before (the load allocated an empty list that the attach then
 * leaked: fuzz-virtio-gpu; LeakSanitizer judges in the ASan build). */
static void test_attach_after_migrating_without_backing(void)
{
    fixture f;

    up(&f, NULL);
    fill(&f, 3, ORDER_BGRX);
    g_assert_cmphex(create_2d(&f, 6, 2 /* B8G8R8X8 */, PAT_W, PAT_H), ==, 0x1100);
    f.d.dev = tes_harness_migrate(f.d.h, f.d.dev, NULL);
    g_assert_nonnull(f.d.dev);
    g_assert_cmphex(transfer(&f, 6, 0, 0, PAT_W, PAT_H, 0), ==, 0x1200); /* no backing */
    g_assert_cmphex(res_cmd(&f, 0x107, 6), ==, 0x1200); /* DETACH: none to detach */
    g_assert_cmphex(attach_pattern(&f, 6), ==, 0x1100);
    g_assert_cmphex(set_scanout(&f, 0, 6, 0, 0, PAT_W, PAT_H), ==, 0x1100);
    g_assert_cmphex(transfer(&f, 6, 0, 0, PAT_W, PAT_H, 0), ==, 0x1100);
    g_assert_cmphex(flush(&f, 6, 0, 0, PAT_W, PAT_H), ==, 0x1100);
    assert_picture(&f, 0, 0, PAT_W, PAT_H, 3, 3, NULL);
    down(&f);
}

/* The R-first and x-first formats reach the screen with the same colours. */
static void test_formats(void)
{
    static const struct {
        uint32_t fmt;
        unsigned order[4];
    } cases[] = {
        {4, {3, 2, 1, 0}},   /* X8R8G8B8: bytes x, R, G, B */
        {134, {2, 1, 0, 3}}, /* R8G8B8X8 */
        {68, {3, 0, 1, 2}},  /* X8B8G8R8 */
        {121, {3, 0, 1, 2}}, /* A8B8G8R8 */
        {1, {0, 1, 2, 3}},   /* B8G8R8A8 */
    };
    fixture f;

    up(&f, NULL);
    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        fill(&f, i, cases[i].order);
        g_assert_cmphex(create_2d(&f, 10 + i, cases[i].fmt, PAT_W, PAT_H), ==, 0x1100);
        g_assert_cmphex(attach_pattern(&f, 10 + i), ==, 0x1100);
        g_assert_cmphex(transfer(&f, 10 + i, 0, 0, PAT_W, PAT_H, 0), ==, 0x1100);
        g_assert_cmphex(set_scanout(&f, 0, 10 + i, 0, 0, PAT_W, PAT_H), ==, 0x1100);
        assert_picture(&f, 0, 0, PAT_W, PAT_H, i, i, NULL);
    }
    g_assert_cmphex(create_2d(&f, 99, 0x55, 64, 64), ==, 0x1205); /* no such format */
    down(&f);
}

/* Each kind of mistake and the response type it gets; fences echo. */
static void test_errors(void)
{
    fixture f;
    uint8_t b[64];
    uint64_t a[2] = {0x400000, 0x400000};
    uint32_t l[2] = {0x1000, 0x1000}, n;

    up(&f, "max_outputs=2");
    tes_harness_log_clear(f.d.h);
    hdr(b, 0x100);
    g_assert_cmphex(send(&f, 0, b, 20, 24, &n), ==, 0x1200); /* shorter than a header */
    /* Display info into a 24-byte buffer: the header fits, the rest not. */
    g_assert_cmphex(ctrl(&f, b, 24), ==, 0x1101);
    hdr(b, 0x101);
    g_assert_cmphex(ctrl(&f, b, 36), ==, 0x1200); /* create_2d cut short */
    hdr(b, 0x999);
    g_assert_cmphex(ctrl(&f, b, 24), ==, 0x1200); /* unknown command */
    hdr(b, 0x200);
    g_assert_cmphex(ctrl(&f, b, 64), ==, 0x1200); /* 3D: not offered */
    g_assert_cmphex(create_2d(&f, 0, 2, 64, 64), ==, 0x1203);
    g_assert_cmphex(create_2d(&f, 1, 2, 0, 64), ==, 0x1205);
    g_assert_cmphex(create_2d(&f, 1, 2, 64, 16385), ==, 0x1205);
    g_assert_cmphex(create_2d(&f, 1, 2, 64, 64), ==, 0x1100);
    g_assert_cmphex(create_2d(&f, 1, 2, 64, 64), ==, 0x1203); /* exists */
    g_assert_cmphex(res_cmd(&f, 0x102, 7), ==, 0x1203);       /* unref unknown */
    g_assert_cmphex(res_cmd(&f, 0x107, 1), ==, 0x1200);       /* detach: none */
    g_assert_cmphex(transfer(&f, 1, 0, 0, 64, 64, 0), ==, 0x1200); /* no backing */
    g_assert_cmphex(attach(&f, 7, 2, a, l), ==, 0x1203);
    a[1] = 0xfffff000; /* not RAM */
    g_assert_cmphex(attach(&f, 1, 2, a, l), ==, 0x1200);
    a[1] = RAM_SIZE - 0x800; /* runs off the end of RAM */
    g_assert_cmphex(attach(&f, 1, 2, a, l), ==, 0x1200);
    hdr(b, 0x106);
    put32(b + 24, 1);
    put32(b + 28, 3); /* three entries listed, one sent */
    g_assert_cmphex(ctrl(&f, b, 48), ==, 0x1200);
    put32(b + 28, 16385);
    g_assert_cmphex(ctrl(&f, b, 48), ==, 0x1200);
    a[1] = 0x401000;
    g_assert_cmphex(attach(&f, 1, 2, a, l), ==, 0x1100);
    g_assert_cmphex(attach(&f, 1, 2, a, l), ==, 0x1200); /* already attached */
    g_assert_cmphex(transfer(&f, 1, 1, 0, 64, 64, 0), ==, 0x1205);
    g_assert_cmphex(transfer(&f, 1, 0xffffffff, 0, 2, 1, 0), ==, 0x1205);
    g_assert_cmphex(transfer(&f, 1, 0, 0, 64, 64, 0), ==, 0x1100); /* backing short: ok */
    g_assert_cmphex(transfer(&f, 1, 0, 0, 64, 64, ~0ull - 8), ==, 0x1100);
    g_assert_cmphex(set_scanout(&f, 2, 1, 0, 0, 64, 64), ==, 0x1202);
    g_assert_cmphex(set_scanout(&f, 0, 9, 0, 0, 64, 64), ==, 0x1203);
    g_assert_cmphex(set_scanout(&f, 0, 1, 0, 0, 64, 65), ==, 0x1205);
    g_assert_cmphex(set_scanout(&f, 0, 1, 0, 0, 15, 64), ==, 0x1205);
    g_assert_cmphex(set_scanout(&f, 1, 1, 0, 0, 64, 64), ==, 0x1100);
    g_assert_cmphex(set_scanout(&f, 1, 0, 0, 0, 0, 0), ==, 0x1100); /* off */
    g_assert_cmphex(flush(&f, 1, 60, 0, 5, 1), ==, 0x1205);
    g_assert_cmphex(flush(&f, 3, 0, 0, 1, 1), ==, 0x1203);
    g_assert_cmphex(res_cmd(&f, 0x107, 1), ==, 0x1100);
    g_assert_true(strstr(tes_harness_log_text(f.d.h), "not RAM") != NULL);
    /* A fenced command answers with its fence id and context. */
    hdr(b, 0x100);
    put32(b + 4, 1);
    put64(b + 8, 0x1122334455667788ull);
    put32(b + 16, 3);
    g_assert_cmphex(send(&f, 0, b, 24, 408, &n), ==, 0x1101);
    g_assert_cmphex(get32(f.d.ram + RESP + 4), ==, 1);
    g_assert_cmphex(get32(f.d.ram + RESP + 8), ==, 0x55667788);
    g_assert_cmphex(get32(f.d.ram + RESP + 12), ==, 0x11223344);
    g_assert_cmphex(get32(f.d.ram + RESP + 16), ==, 3);
    /* Errors of a fenced command carry the fence too. */
    put32(b, 0x999);
    g_assert_cmphex(send(&f, 0, b, 24, 24, &n), ==, 0x1200);
    g_assert_cmphex(get32(f.d.ram + RESP + 8), ==, 0x55667788);
    /* The cursor queue takes its commands without an answer. */
    memset(b, 0, 56);
    put32(b, 0x300);
    g_assert_cmphex(send(&f, 1, b, 56, 0, &n), ==, 0);
    g_assert_cmpuint(n, ==, 0);
    down(&f);
}

/* max_hostmem bounds what resources take; freeing gives it back. */
static void test_hostmem(void)
{
    fixture f;

    up(&f, "max_hostmem=1M");
    g_assert_cmphex(create_2d(&f, 1, 2, 512, 512), ==, 0x1201);
    g_assert_cmphex(create_2d(&f, 1, 2, 256, 512), ==, 0x1100); /* half */
    g_assert_cmphex(create_2d(&f, 2, 2, 256, 512), ==, 0x1201); /* + bookkeeping */
    g_assert_cmphex(create_2d(&f, 2, 2, 256, 500), ==, 0x1100);
    g_assert_cmphex(res_cmd(&f, 0x102, 1), ==, 0x1100);
    g_assert_cmphex(create_2d(&f, 3, 2, 256, 500), ==, 0x1100);
    /* Reset frees everything. */
    tes_harness_reset(f.d.h);
    tes_harness_bar_map(f.d.h, f.d.dev, 4, VD_BAR4);
    g_assert_true(vd_init(&f.d, F_VERSION_1, 2, 16, false));
    g_assert_cmphex(create_2d(&f, 1, 2, 256, 1000), ==, 0x1100);
    down(&f);
}

static void test_properties(void)
{
    tes_harness *h = tes_harness_new(RAM_SIZE);

    g_assert_true(tes_harness_load(h, plugin_path));
    g_assert_null(tes_harness_device(h, "virtio-gpu-pci", "max_outputs=0"));
    g_assert_null(tes_harness_device(h, "virtio-gpu-pci", "max_outputs=17"));
    g_assert_null(tes_harness_device(h, "virtio-gpu-pci", "xres=8"));
    tes_harness_free(h);
}

/* A stream whose scanout names a resource it does not carry, or a
 * rectangle outside it, is refused (the scanouts end the payload: three
 * 64-bit words each). */
static void test_forged_stream(void)
{
    fixture f;
    size_t len;
    uint8_t *data;

    up(&f, NULL);
    fill(&f, 1, ORDER_BGRX);
    g_assert_cmphex(create_2d(&f, 5, 2, PAT_W, PAT_H), ==, 0x1100);
    g_assert_cmphex(set_scanout(&f, 0, 5, 0, 0, PAT_W, PAT_H), ==, 0x1100);
    data = tes_harness_state_save(f.d.h, f.d.dev, &len);
    g_assert_nonnull(data);
    g_assert_cmpuint(get32(data + len - 24), ==, 5);
    g_assert_cmpint(tes_harness_state_load(f.d.h, f.d.dev, data, len), ==, 0);
    put32(data + len - 24, 99);
    g_assert_cmpint(tes_harness_state_load(f.d.h, f.d.dev, data, len), <, 0);
    put32(data + len - 24, 5);
    put32(data + len - 8, PAT_H + 1); /* height */
    g_assert_cmpint(tes_harness_state_load(f.d.h, f.d.dev, data, len), <, 0);
    g_assert_cmpint(tes_harness_state_load(f.d.h, f.d.dev, data, len - 30), <, 0);
    free(data);
    down(&f);
}

/* Scanout 1 is the device's second console (screendump device=ID
 * head=1); scanout 0 stays dark. */
static void test_two_heads(void)
{
    fixture f;
    unsigned w, h;

    up(&f, "id=gpu0,max_outputs=2");
    fill(&f, 5, ORDER_BGRX);
    g_assert_cmphex(create_2d(&f, 1, 2, PAT_W, PAT_H), ==, 0x1100);
    g_assert_cmphex(attach_pattern(&f, 1), ==, 0x1100);
    g_assert_cmphex(transfer(&f, 1, 0, 0, PAT_W, PAT_H, 0), ==, 0x1100);
    g_assert_cmphex(set_scanout(&f, 1, 1, 0, 0, PAT_W, PAT_H), ==, 0x1100);
    shot_args = ",\"device\":\"gpu0\",\"head\":1";
    assert_picture(&f, 0, 0, PAT_W, PAT_H, 5, 5, NULL);
    shot_args = ",\"device\":\"gpu0\",\"head\":0";
    g_free(screendump(&f, &w, &h));
    g_assert_cmpuint(w, ==, 640); /* dark: QEMU's placeholder */
    shot_args = NULL;
    down(&f);
}

/* virtio-gpu-device on a virtio-mmio transport draws the same. */
static void test_mmio(void)
{
    fixture f;
    const tes_host *H;
    const tes_virtio_mmio_ops *mo;
    tes_device *t;

    up_common(&f);
    H = tes_harness_host(f.d.h);
    mo = H->iface_lookup(TES_VIRTIO_MMIO_IFACE, TES_VIRTIO_MMIO_IFACE_VERSION);
    t = tes_harness_device(f.d.h, "virtio-mmio", NULL);
    g_assert_nonnull(t);
    H->region_add(H->system_memory(), VD_MMIO_BASE, mo->region(t), 0);
    g_assert_nonnull(tes_harness_device(f.d.h, "virtio-gpu-device", "bus=virtio-mmio-bus.0"));
    f.d.dev = t;
    f.d.base = VD_MMIO_BASE;
    g_assert_cmphex(vd_rd(&f.d, 0x08, 4), ==, 16); /* DeviceID */
    g_assert_true(vd_init(&f.d, F_VERSION_1, 2, 16, false));
    fill(&f, 3, ORDER_BGRX);
    g_assert_cmphex(create_2d(&f, 1, 2, PAT_W, PAT_H), ==, 0x1100);
    g_assert_cmphex(attach_pattern(&f, 1), ==, 0x1100);
    g_assert_cmphex(transfer(&f, 1, 0, 0, PAT_W, PAT_H, 0), ==, 0x1100);
    g_assert_cmphex(set_scanout(&f, 0, 1, 0, 0, PAT_W, PAT_H), ==, 0x1100);
    assert_picture(&f, 0, 0, PAT_W, PAT_H, 3, 3, NULL);
    /* edid=on by default but not negotiated here: GET_EDID refused. */
    g_assert_cmphex(res_cmd(&f, 0x10a, 0), ==, 0x1200);
    down(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    plugin_path = argc > 1 ? argv[1] : g_getenv("VIRTIO_PLUGIN");
    if (!plugin_path) {
        g_printerr("usage: %s VIRTIO_PLUGIN.so (or set $VIRTIO_PLUGIN)\n", argv[0]);
        return 2;
    }
    g_test_add_func("/virtio-gpu/identity-config-display-info-edid", test_identity);
    g_test_add_func("/virtio-gpu/draw/screendump-pixel-exact-migrate-unref", test_draw);
    g_test_add_func("/virtio-gpu/draw/formats-same-colours", test_formats);
    g_test_add_func("/virtio-gpu/errors/response-types-and-fences", test_errors);
    g_test_add_func("/virtio-gpu/max-hostmem-bounds-resources", test_hostmem);
    g_test_add_func("/virtio-gpu/properties-refused", test_properties);
    g_test_add_func("/virtio-gpu/two-heads-two-consoles", test_two_heads);
    g_test_add_func("/virtio-gpu/migration/forged-stream-refused", test_forged_stream);
    g_test_add_func("/virtio-gpu/migration/attach-after-migrating-without-backing",
                    test_attach_after_migrating_without_backing);
    g_test_add_func("/virtio-gpu/mmio/draws", test_mmio);
    return g_test_run();
}
