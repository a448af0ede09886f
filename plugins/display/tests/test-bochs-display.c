/*
 * bochs-display through the harness: the registers Linux's bochs DRM
 * driver uses, the EDID, and what QMP screendump saves (pixel-exact, PPM
 * and PNG) for the modes the driver and a guest can set. The plugin comes
 * from $DISPLAY_PLUGIN (meson sets it) or the first argument.
 */
#include <zlib.h>

#include "display-test.h"

static void up(fixture *f, const char *props)
{
    fixture_up(f, "bochs-display", props);
}

static void vbe_wr(fixture *f, unsigned i, uint16_t v)
{
    tes_harness_write(f->h, VBE(i), v, 2);
}

/* What bochs_hw_setmode() and bochs_hw_setbase() write for a mode. */
static void set_mode(fixture *f, unsigned w, unsigned h, unsigned bpp, unsigned vw, unsigned vy)
{
    vbe_wr(f, VBE_ENABLE, 0);
    vbe_wr(f, VBE_BPP, bpp);
    vbe_wr(f, VBE_XRES, w);
    vbe_wr(f, VBE_YRES, h);
    vbe_wr(f, VBE_BANK, 0);
    vbe_wr(f, VBE_VIRT_WIDTH, vw);
    vbe_wr(f, VBE_VIRT_HEIGHT, (16 << 20) / (vw * bpp / 8));
    vbe_wr(f, VBE_X_OFFSET, 0);
    vbe_wr(f, VBE_Y_OFFSET, vy);
    vbe_wr(f, VBE_ENABLE, 0x41); /* ENABLED | LFB_ENABLED */
}

static uint32_t test_rgb(unsigned x, unsigned y)
{
    return (x * 7 + y) << 16 | (y * 3) << 8 | ((x ^ y) & 0xff);
}

/* Fill VRAM lines from first_line on, XRGB8888 little-endian as the CPU
 * writes it through BAR0, stride vw pixels. */
static void fill32(fixture *f, unsigned w, unsigned h, unsigned vw, unsigned first_line)
{
    for (unsigned y = 0; y < h; y++) {
        for (unsigned x = 0; x < w; x++) {
            uint64_t a = BAR0 + ((uint64_t)(first_line + y) * vw + x) * 4;

            tes_harness_write(f->h, a, test_rgb(x, y) & 0xffffff, 4);
        }
    }
}

static void assert_rgb_picture(const guint8 *px, unsigned w, unsigned h)
{
    for (unsigned y = 0; y < h; y++) {
        for (unsigned x = 0; x < w; x++) {
            const guint8 *p = px + ((gsize)y * w + x) * 3;
            uint32_t got = (uint32_t)p[0] << 16 | p[1] << 8 | p[2];

            if (got != (test_rgb(x, y) & 0xffffff)) {
                g_error("pixel %u,%u is 0x%06x, want 0x%06x", x, y, got,
                        test_rgb(x, y) & 0xffffff);
            }
        }
    }
}

static void test_pci_ids(void)
{
    fixture f;

    up(&f, NULL);
    g_assert_cmphex(tes_harness_cfg_read(f.h, f.dev, 0x00, 4), ==, 0x11111234);
    g_assert_cmphex(tes_harness_cfg_read(f.h, f.dev, 0x08, 4) >> 8, ==, 0x038000);
    g_assert_cmphex(tes_harness_cfg_read(f.h, f.dev, 0x08, 1), ==, 2); /* revision */
    g_assert_cmphex(tes_harness_cfg_read(f.h, f.dev, 0x2c, 4), ==, 0x11001af4);
    /* BAR0 is 16 MiB of prefetchable memory: size it as firmware does. */
    tes_harness_cfg_write(f.h, f.dev, 0x10, 0xffffffff, 4);
    g_assert_cmphex(tes_harness_cfg_read(f.h, f.dev, 0x10, 4), ==, 0xff000008);
    tes_harness_cfg_write(f.h, f.dev, 0x18, 0xffffffff, 4);
    g_assert_cmphex(tes_harness_cfg_read(f.h, f.dev, 0x18, 4), ==, 0xfffff000);
    down(&f);
}

static void test_vbe_registers(void)
{
    fixture f;

    up(&f, "vgamem=5M");
    g_assert_cmphex(tes_harness_read(f.h, VBE(0), 2), ==, 0xb0c5);
    /* 5M rounds up to 8M: 128 blocks of 64 KiB, as the driver reads it. */
    g_assert_cmpuint(tes_harness_read(f.h, VBE(0xa), 2), ==, 128);
    vbe_wr(&f, 0, 0x1234);
    vbe_wr(&f, 0xa, 1);
    g_assert_cmphex(tes_harness_read(f.h, VBE(0), 2), ==, 0xb0c5);
    g_assert_cmpuint(tes_harness_read(f.h, VBE(0xa), 2), ==, 128);
    vbe_wr(&f, VBE_XRES, 800);
    g_assert_cmpuint(tes_harness_read(f.h, VBE(VBE_XRES), 2), ==, 800);
    /* QEMU's extended registers: size 8, byte order little by default. */
    g_assert_cmpuint(tes_harness_read(f.h, BAR2 + 0x600, 4), ==, 8);
    g_assert_cmphex(tes_harness_read(f.h, BAR2 + 0x604, 4), ==, 0x1e1e1e1e);
    tes_harness_write(f.h, BAR2 + 0x604, 0xbebebebe, 4);
    g_assert_cmphex(tes_harness_read(f.h, BAR2 + 0x604, 4), ==, 0xbebebebe);
    tes_harness_write(f.h, BAR2 + 0x604, 0x12345678, 4); /* neither: ignored */
    g_assert_cmphex(tes_harness_read(f.h, BAR2 + 0x604, 4), ==, 0xbebebebe);
    tes_harness_reset(f.h); /* also clears the BARs' decoding: map again */
    tes_harness_bar_map(f.h, f.dev, 2, BAR2);
    g_assert_cmphex(tes_harness_read(f.h, BAR2 + 0x604, 4), ==, 0x1e1e1e1e);
    g_assert_cmpuint(tes_harness_read(f.h, VBE(VBE_XRES), 2), ==, 0);
    down(&f);
}

/* QEMU's vga_vbe_read/vga_vbe_write lines (index, value), once on. */
static void test_vbe_trace(void)
{
    fixture f;
    char *r;
    const char *log;

    up(&f, NULL);
    tes_harness_log_capture(f.h, TES_LOG_TRACE);
    vbe_wr(&f, VBE_XRES, 640);
    g_assert_cmpstr(tes_harness_log_text(f.h), ==, "");
    r = tes_harness_qmp(f.h, "{\"execute\": \"trace-event-set-state\", "
                             "\"arguments\": {\"name\": \"vga_vbe_*\", \"enable\": true}}");
    g_assert_nonnull(strstr(r, "\"return\""));
    free(r);
    g_assert_cmphex(tes_harness_read(f.h, VBE(0), 2), ==, 0xb0c5);
    vbe_wr(&f, VBE_XRES, 800);
    log = tes_harness_log_text(f.h);
    g_assert_nonnull(strstr(log, "vga_vbe_read index 0x0, val 0xb0c5\n"));
    g_assert_nonnull(strstr(log, "vga_vbe_write index 0x1, val 0x320\n"));
    down(&f);
}

static void test_edid(void)
{
    fixture f;
    guint8 e[128];
    guint8 sum = 0;

    up(&f, "xres=1024,yres=768");
    for (unsigned i = 0; i < 128; i++) {
        e[i] = tes_harness_read(f.h, BAR2 + i, 1);
        sum += e[i];
    }
    g_assert_cmphex(e[0], ==, 0);
    g_assert_cmphex(e[1], ==, 0xff);
    g_assert_cmphex(e[7], ==, 0);
    g_assert_cmpuint(e[18], ==, 1);
    g_assert_cmpuint(e[19], ==, 4);
    g_assert_cmpuint(sum, ==, 0);
    /* The first detailed timing is the preferred mode: 1024 x 768. */
    g_assert_cmpuint(e[56] | (e[58] >> 4) << 8, ==, 1024);
    g_assert_cmpuint(e[59] | (e[61] >> 4) << 8, ==, 768);
    g_assert_cmphex(tes_harness_read(f.h, BAR2, 4), ==, 0xffffff00);
    down(&f);

    up(&f, "edid=off");
    g_assert_cmphex(tes_harness_read(f.h, BAR2 + 1, 1), ==, 0);
    down(&f);
}

/* The driver's own sequence (32 bpp, XRGB8888) and the guest's pixels. */
static void test_screendump_ppm(void)
{
    fixture f;
    gsize len, off;
    unsigned w, h;
    g_autofree guint8 *d = NULL;

    up(&f, NULL);
    set_mode(&f, 80, 64, 32, 80, 0);
    fill32(&f, 80, 64, 80, 0);
    d = screendump(&f, NULL, &len, NULL);
    g_assert_nonnull(d);
    off = ppm_parse(d, len, &w, &h);
    g_assert_cmpuint(w, ==, 80);
    g_assert_cmpuint(h, ==, 64);
    assert_rgb_picture(d + off, w, h);
    down(&f);
}

/* Panning (Y_OFFSET, as bochs_hw_setbase moves to the second buffer) and
 * a virtual width wider than the mode. */
static void test_screendump_pan(void)
{
    fixture f;
    gsize len, off;
    unsigned w, h;
    g_autofree guint8 *d = NULL;

    up(&f, NULL);
    set_mode(&f, 64, 64, 32, 100, 70);
    fill32(&f, 64, 64, 100, 70);
    d = screendump(&f, NULL, &len, NULL);
    off = ppm_parse(d, len, &w, &h);
    g_assert_cmpuint(w, ==, 64);
    assert_rgb_picture(d + off, w, h);
    down(&f);
}

/* The PNG: chunks with valid CRCs, IHDR, and IDAT inflating to filter-0
 * lines of the same pixels. */
/* A big-endian 32-bit number at any alignment (PNG chunks are packed). */
static guint32 be32(const guint8 *p)
{
    return (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
}

static void test_screendump_png(void)
{
    fixture f;
    gsize len, pos = 8, rawlen = 0;
    g_autofree guint8 *d = NULL;
    g_autoptr(GByteArray) idat = g_byte_array_new();
    g_autofree guint8 *raw = NULL;
    g_autofree guint8 *px = NULL;
    unsigned w = 0, h = 0;
    uLongf out_len;

    up(&f, NULL);
    set_mode(&f, 64, 70, 32, 64, 0);
    fill32(&f, 64, 70, 64, 0);
    d = screendump(&f, ",\"format\":\"png\"", &len, NULL);
    g_assert_cmpmem(d, 8, "\x89PNG\r\n\x1a\n", 8);
    while (pos + 12 <= len) {
        guint32 n = be32(d + pos);
        const guint8 *type = d + pos + 4;

        g_assert_cmpuint(pos + 12 + n, <=, len);
        g_assert_cmphex(crc32(0, type, 4 + n), ==, be32(type + 4 + n));
        if (!memcmp(type, "IHDR", 4)) {
            w = be32(type + 4);
            h = be32(type + 8);
            g_assert_cmpuint(type[12], ==, 8); /* bit depth */
            g_assert_cmpuint(type[13], ==, 2); /* truecolour */
        } else if (!memcmp(type, "IDAT", 4)) {
            g_byte_array_append(idat, type + 4, n);
        }
        pos += 12 + n;
    }
    g_assert_cmpuint(pos, ==, len);
    g_assert_cmpuint(w, ==, 64);
    g_assert_cmpuint(h, ==, 70);
    rawlen = (gsize)(w * 3 + 1) * h;
    raw = g_malloc(rawlen);
    out_len = rawlen;
    g_assert_cmpint(uncompress(raw, &out_len, idat->data, idat->len), ==, Z_OK);
    g_assert_cmpuint(out_len, ==, rawlen);
    px = g_malloc((gsize)w * h * 3);
    for (unsigned y = 0; y < h; y++) {
        g_assert_cmpuint(raw[y * (w * 3 + 1)], ==, 0);
        memcpy(px + y * w * 3, raw + y * (w * 3 + 1) + 1, w * 3);
    }
    assert_rgb_picture(px, w, h);
    down(&f);
}

/* 16 bpp RGB565 and big-endian 32 bpp, one pixel each way. */
static void test_screendump_formats(void)
{
    fixture f;
    gsize len, off;
    unsigned w, h;
    guint8 *d;

    up(&f, NULL);
    set_mode(&f, 64, 64, 16, 64, 0);
    tes_harness_write(f.h, BAR0, 0xf800, 2);          /* red */
    tes_harness_write(f.h, BAR0 + 2, 0x07e0, 2);      /* green */
    tes_harness_write(f.h, BAR0 + 4, 0x001f, 2);      /* blue */
    d = screendump(&f, NULL, &len, NULL);
    off = ppm_parse(d, len, &w, &h);
    g_assert_cmpmem(d + off, 9, "\xff\x00\x00\x00\xff\x00\x00\x00\xff", 9);
    g_free(d);

    tes_harness_write(f.h, BAR2 + 0x604, 0xbebebebe, 4);
    set_mode(&f, 64, 64, 32, 64, 0);
    tes_harness_write(f.h, BAR0, 0x33221100, 4); /* bytes 00 11 22 33: x R G B */
    d = screendump(&f, NULL, &len, NULL);
    off = ppm_parse(d, len, &w, &h);
    g_assert_cmpmem(d + off, 3, "\x11\x22\x33", 3);
    g_free(d);
    down(&f);
}

/* Modes QEMU shows nothing for: the placeholder, 640x480 black. */
static void assert_blank(fixture *f)
{
    gsize len, off;
    unsigned w, h;
    g_autofree guint8 *d = screendump(f, NULL, &len, NULL);

    off = ppm_parse(d, len, &w, &h);
    g_assert_cmpuint(w, ==, 640);
    g_assert_cmpuint(h, ==, 480);
    for (gsize i = off; i < len; i++) {
        g_assert_cmpuint(d[i], ==, 0);
    }
}

static void test_no_mode(void)
{
    fixture f;

    up(&f, NULL);
    assert_blank(&f);                       /* never enabled */
    set_mode(&f, 64, 64, 24, 64, 0);        /* 24 bpp: not shown */
    assert_blank(&f);
    set_mode(&f, 63, 64, 32, 63, 0);        /* under 64 pixels */
    assert_blank(&f);
    set_mode(&f, 4096, 4096, 32, 4096, 0);  /* 64 MiB: beyond VRAM */
    assert_blank(&f);
    set_mode(&f, 64, 64, 32, 64, 65500);    /* panned off the end */
    assert_blank(&f);
    set_mode(&f, 64, 64, 32, 64, 0);
    vbe_wr(&f, VBE_ENABLE, 0);              /* disabled again */
    assert_blank(&f);
    down(&f);
}

static void test_screendump_errors(void)
{
    fixture f;
    char *r;

    up(&f, NULL);
    g_assert_null(screendump(&f, ",\"format\":\"bmp\"", NULL, &r));
    g_assert_nonnull(strstr(r, "'format'"));
    free(r);
    g_assert_null(screendump(&f, ",\"device\":\"nosuch\"", NULL, &r));
    g_assert_nonnull(strstr(r, "nosuch"));
    free(r);
    g_assert_null(screendump(&f, ",\"head\":1", NULL, &r));
    g_assert_nonnull(strstr(r, "'head'"));
    free(r);
    r = tes_harness_qmp(f.h, "{\"execute\":\"screendump\",\"arguments\":"
                             "{\"filename\":\"/nonexistent-dir/x.ppm\"}}");
    g_assert_nonnull(strstr(r, "\"error\""));
    free(r);
    down(&f);

    /* A machine without a display. */
    f.h = tes_harness_new(1 << 20);
    r = tes_harness_qmp(f.h, "{\"execute\":\"screendump\",\"arguments\":"
                             "{\"filename\":\"/tmp/never\"}}");
    g_assert_nonnull(strstr(r, "There is no console"));
    free(r);
    tes_harness_free(f.h);
}

/* The mode survives a migration round trip (VRAM goes with RAM, which
 * the harness does not carry: only the mode is compared). */
static void test_migrate(void)
{
    fixture f;
    gsize len;
    unsigned w, h;
    size_t bytes;
    g_autofree guint8 *d = NULL;

    up(&f, "id=vga0");
    set_mode(&f, 96, 72, 32, 96, 0);
    tes_harness_write(f.h, BAR2 + 0x604, 0xbebebebe, 4);
    f.dev = tes_harness_migrate(f.h, f.dev, &bytes);
    g_assert_nonnull(f.dev);
    g_assert_cmphex(tes_harness_read(f.h, BAR2 + 0x604, 4), ==, 0xbebebebe);
    d = screendump(&f, ",\"device\":\"vga0\",\"head\":0", &len, NULL);
    g_assert_nonnull(d);
    ppm_parse(d, len, &w, &h);
    g_assert_cmpuint(w, ==, 96);
    g_assert_cmpuint(h, ==, 72);
    down(&f);
}

static void test_bad_properties(void)
{
    tes_harness *h = tes_harness_new(1 << 20);

    g_assert_true(tes_harness_load(h, plugin_path));
    g_assert_null(tes_harness_device(h, "bochs-display", "vgamem=2M"));
    g_assert_nonnull(strstr(tes_harness_error(h), "vgamem"));
    g_assert_null(tes_harness_device(h, "bochs-display", "xres=10"));
    g_assert_nonnull(strstr(tes_harness_error(h), "xres"));
    tes_harness_free(h);
}

int main(int argc, char **argv)
{
    if (!display_test_init(&argc, &argv, "test-bochs-display")) {
        return 2;
    }
    g_test_add_func("/bochs-display/pci-ids", test_pci_ids);
    g_test_add_func("/bochs-display/vbe-registers", test_vbe_registers);
    g_test_add_func("/bochs-display/trace/qemu-vga-vbe-lines", test_vbe_trace);
    g_test_add_func("/bochs-display/edid", test_edid);
    g_test_add_func("/bochs-display/screendump-ppm", test_screendump_ppm);
    g_test_add_func("/bochs-display/screendump-pan", test_screendump_pan);
    g_test_add_func("/bochs-display/screendump-png", test_screendump_png);
    g_test_add_func("/bochs-display/screendump-formats", test_screendump_formats);
    g_test_add_func("/bochs-display/no-mode", test_no_mode);
    g_test_add_func("/bochs-display/screendump-errors", test_screendump_errors);
    g_test_add_func("/bochs-display/migrate", test_migrate);
    g_test_add_func("/bochs-display/bad-properties", test_bad_properties);
    return g_test_run();
}
