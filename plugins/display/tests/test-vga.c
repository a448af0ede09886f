/*
 * The std VGA (-device VGA, -vga std) through the harness: its PCI
 * identity, DISPI programmed through the legacy ports 0x1ce/0x1cf and
 * through BAR2 (as Linux's bochs driver does), the picture screendump
 * saves (pixel-exact), blanking through the attribute controller, the VGA
 * register file (index/data pairs, the attribute flip-flop, the DAC, the
 * mono/colour decode), the 0xa0000 window (chain-4, odd/even, planar
 * write modes and latches, DISPI banks), migration, and bad properties.
 * The plugin comes from $DISPLAY_PLUGIN (meson sets it) or argv[1].
 */
#include "display-test.h"

#define WIN 0xa0000ull

static void up(fixture *f, const char *props)
{
    fixture_up(f, "VGA", props);
}

/* DISPI through the x86 ports, words as `out dx, ax` writes them. */
static void port_vbe_wr(fixture *f, unsigned i, uint16_t v)
{
    tes_harness_io_write(f->h, 0x1ce, i, 2);
    tes_harness_io_write(f->h, 0x1cf, v, 2);
}

static uint16_t port_vbe_rd(fixture *f, unsigned i)
{
    tes_harness_io_write(f->h, 0x1ce, i, 2);
    return (uint16_t)tes_harness_io_read(f->h, 0x1cf, 2);
}

static void mmio_vbe_wr(fixture *f, unsigned i, uint16_t v)
{
    tes_harness_write(f->h, VBE(i), v, 2);
}

/* bochs_hw_blank(false): colour decode, reset the flip-flop, PAS on. */
static void unblank(fixture *f, bool via_mmio)
{
    if (via_mmio) {
        tes_harness_write(f->h, BAR2 + 0x400 + 0x02, 0x01, 1); /* 0x3c2 */
        tes_harness_read(f->h, BAR2 + 0x400 + 0x1a, 1);        /* 0x3da */
        tes_harness_write(f->h, BAR2 + 0x400, 0x20, 1);        /* 0x3c0 */
    } else {
        tes_harness_io_write(f->h, 0x3c2, 0x01, 1);
        tes_harness_io_read(f->h, 0x3da, 1);
        tes_harness_io_write(f->h, 0x3c0, 0x20, 1);
    }
}

/* bochs_hw_setmode() through either path. */
static void set_mode(fixture *f, bool via_ports, unsigned w, unsigned h, unsigned bpp)
{
    void (*wr)(fixture *, unsigned, uint16_t) = via_ports ? port_vbe_wr : mmio_vbe_wr;

    unblank(f, !via_ports);
    wr(f, VBE_ENABLE, 0);
    wr(f, VBE_BPP, bpp);
    wr(f, VBE_XRES, w);
    wr(f, VBE_YRES, h);
    wr(f, VBE_BANK, 0);
    wr(f, VBE_VIRT_WIDTH, w);
    wr(f, VBE_X_OFFSET, 0);
    wr(f, VBE_Y_OFFSET, 0);
    wr(f, VBE_ENABLE, 0x41);
}

static uint32_t test_rgb(unsigned x, unsigned y)
{
    return ((x * 5 + y) & 0xff) << 16 | ((y * 3) & 0xff) << 8 | ((x ^ y) & 0xff);
}

static void fill32(fixture *f, unsigned w, unsigned h)
{
    for (unsigned y = 0; y < h; y++) {
        for (unsigned x = 0; x < w; x++) {
            tes_harness_write(f->h, BAR0 + ((uint64_t)y * w + x) * 4, test_rgb(x, y), 4);
        }
    }
}

/* QMP screendump as a P6: its size and pixels (g_free). */
static guint8 *shot(fixture *f, unsigned *w, unsigned *h, gsize *npix)
{
    gsize len = 0, off;
    g_autofree guint8 *data = screendump(f, NULL, &len, NULL);

    g_assert_nonnull(data);
    off = ppm_parse(data, len, w, h);
    *npix = (gsize)*w * *h;
    return g_memdup2(data + off, *npix * 3);
}

static void assert_picture(fixture *f, unsigned want_w, unsigned want_h)
{
    unsigned w, h;
    gsize n;
    g_autofree guint8 *px = shot(f, &w, &h, &n);

    g_assert_cmpuint(w, ==, want_w);
    g_assert_cmpuint(h, ==, want_h);
    for (unsigned y = 0; y < h; y++) {
        for (unsigned x = 0; x < w; x++) {
            const guint8 *p = px + ((gsize)y * w + x) * 3;
            uint32_t got = (uint32_t)p[0] << 16 | p[1] << 8 | p[2];

            if (got != test_rgb(x, y)) {
                g_error("pixel %u,%u is 0x%06x, want 0x%06x", x, y, got, test_rgb(x, y));
            }
        }
    }
}

static void assert_blank(fixture *f)
{
    unsigned w, h;
    gsize n;
    g_autofree guint8 *px = shot(f, &w, &h, &n);

    g_assert_cmpuint(w, ==, 640); /* the placeholder */
    g_assert_cmpuint(h, ==, 480);
    for (gsize i = 0; i < n * 3; i++) {
        g_assert_cmpuint(px[i], ==, 0);
    }
}

static void test_pci_ids(void)
{
    fixture f;

    up(&f, NULL);
    g_assert_cmphex(tes_harness_cfg_read(f.h, f.dev, 0x00, 4), ==, 0x11111234);
    g_assert_cmphex(tes_harness_cfg_read(f.h, f.dev, 0x08, 4), ==, 0x03000002);
    g_assert_cmphex(tes_harness_cfg_read(f.h, f.dev, 0x2c, 4), ==, 0x11001af4);
    g_assert_cmpuint(tes_harness_cfg_read(f.h, f.dev, 0x3d, 1), ==, 0); /* no INTx */
    tes_harness_cfg_write(f.h, f.dev, 0x10, 0xffffffff, 4);
    g_assert_cmphex(tes_harness_cfg_read(f.h, f.dev, 0x10, 4), ==, 0xff000008);
    tes_harness_cfg_write(f.h, f.dev, 0x18, 0xffffffff, 4);
    g_assert_cmphex(tes_harness_cfg_read(f.h, f.dev, 0x18, 4), ==, 0xfffff000);
    down(&f);

    up(&f, "vgamem_mb=5");
    tes_harness_cfg_write(f.h, f.dev, 0x10, 0xffffffff, 4);
    g_assert_cmphex(tes_harness_cfg_read(f.h, f.dev, 0x10, 4), ==, 0xff800008); /* 8M */
    g_assert_cmpuint(port_vbe_rd(&f, 0xa), ==, 128);
    down(&f);
}

/* The same registers through the ports and through BAR2. */
static void test_dispi_paths(void)
{
    fixture f;

    up(&f, NULL);
    g_assert_cmphex(port_vbe_rd(&f, 0), ==, 0xb0c5);
    g_assert_cmpuint(port_vbe_rd(&f, 0xa), ==, 256); /* 16 MiB in 64 KiB units */
    port_vbe_wr(&f, VBE_XRES, 0x1234);
    g_assert_cmphex(tes_harness_read(f.h, VBE(VBE_XRES), 2), ==, 0x1234);
    mmio_vbe_wr(&f, VBE_YRES, 0x0321);
    g_assert_cmphex(port_vbe_rd(&f, VBE_YRES), ==, 0x0321);
    /* The index port reads back; ID and memory size ignore writes. */
    tes_harness_io_write(f.h, 0x1ce, 0x0002, 2);
    g_assert_cmphex(tes_harness_io_read(f.h, 0x1ce, 2), ==, 0x0002);
    port_vbe_wr(&f, 0, 0x1234);
    port_vbe_wr(&f, 0xa, 1);
    g_assert_cmphex(port_vbe_rd(&f, 0), ==, 0xb0c5);
    g_assert_cmpuint(port_vbe_rd(&f, 0xa), ==, 256);
    /* An index past the registers reads all ones and takes no write. */
    port_vbe_wr(&f, 0x55, 7);
    g_assert_cmphex(port_vbe_rd(&f, 0x55), ==, 0xffff);
    down(&f);
}

static void test_screendump_ports(void)
{
    fixture f;

    up(&f, NULL);
    set_mode(&f, true, 96, 64, 32);
    fill32(&f, 96, 64);
    assert_picture(&f, 96, 64);
    down(&f);
}

static void test_screendump_mmio(void)
{
    fixture f;

    up(&f, NULL);
    set_mode(&f, false, 64, 80, 32);
    fill32(&f, 64, 80);
    assert_picture(&f, 64, 80);
    /* Panning: Y_OFFSET moves the picture by whole lines. */
    mmio_vbe_wr(&f, VBE_Y_OFFSET, 1);
    {
        unsigned w, h;
        gsize n;
        g_autofree guint8 *px = shot(&f, &w, &h, &n);

        g_assert_cmpuint(px[0] << 16 | px[1] << 8 | px[2], ==, test_rgb(0, 1));
    }
    down(&f);
}

/* Blanked (PAS clear) shows nothing, whatever DISPI says; turning a mode
 * on clears VRAM and starts panning over, as on QEMU's VGA. */
static void test_blank_and_enable(void)
{
    fixture f;

    up(&f, NULL);
    set_mode(&f, false, 64, 64, 32);
    fill32(&f, 64, 64);
    tes_harness_io_read(f.h, 0x3da, 1);
    tes_harness_io_write(f.h, 0x3c0, 0x00, 1); /* PAS off */
    assert_blank(&f);
    unblank(&f, false);
    assert_picture(&f, 64, 64);
    mmio_vbe_wr(&f, VBE_ENABLE, 0);
    assert_blank(&f);
    mmio_vbe_wr(&f, VBE_Y_OFFSET, 3);
    mmio_vbe_wr(&f, VBE_ENABLE, 0x41);
    g_assert_cmpuint(tes_harness_read(f.h, VBE(VBE_Y_OFFSET), 2), ==, 0);
    g_assert_cmphex(tes_harness_read(f.h, BAR0 + 4, 4), ==, 0); /* cleared */
    fill32(&f, 64, 64);
    mmio_vbe_wr(&f, VBE_ENABLE, 0);
    mmio_vbe_wr(&f, VBE_ENABLE, 0xc1); /* NOCLEARMEM */
    assert_picture(&f, 64, 64);
    down(&f);
}

static void test_register_file(void)
{
    fixture f;
    tes_harness *h;

    up(&f, NULL);
    h = f.h;
    /* Sequencer and graphics controller: index/data, a word as index+data,
     * bits that do not exist read 0. */
    tes_harness_io_write(h, 0x3c4, 0x0f02, 2);
    g_assert_cmphex(tes_harness_io_read(h, 0x3c4, 1), ==, 0x02);
    g_assert_cmphex(tes_harness_io_read(h, 0x3c5, 1), ==, 0x0f);
    tes_harness_io_write(h, 0x3c5, 0xff, 1);
    g_assert_cmphex(tes_harness_io_read(h, 0x3c5, 1), ==, 0x0f);
    tes_harness_io_write(h, 0x3ce, 0x05, 1);
    tes_harness_io_write(h, 0x3cf, 0xff, 1);
    g_assert_cmphex(tes_harness_io_read(h, 0x3cf, 1), ==, 0x7b);
    /* CRTC at 0x3bx while misc bit 0 is clear, at 0x3dx once set. */
    tes_harness_io_write(h, 0x3c2, 0x00, 1);
    tes_harness_io_write(h, 0x3b4, 0x0c, 1);
    tes_harness_io_write(h, 0x3b5, 0x12, 1);
    g_assert_cmphex(tes_harness_io_read(h, 0x3b5, 1), ==, 0x12);
    g_assert_cmphex(tes_harness_io_read(h, 0x3d5, 1), ==, 0xff);
    tes_harness_io_write(h, 0x3c2, 0x01, 1);
    g_assert_cmphex(tes_harness_io_read(h, 0x3cc, 1), ==, 0x01);
    g_assert_cmphex(tes_harness_io_read(h, 0x3d5, 1), ==, 0x12);
    g_assert_cmphex(tes_harness_io_read(h, 0x3b5, 1), ==, 0xff);
    /* CR11 bit 7 protects CR0..7. */
    tes_harness_io_write(h, 0x3d4, 0x0111, 2);
    tes_harness_io_write(h, 0x3d4, 0x5501, 2);
    tes_harness_io_write(h, 0x3d4, 0x8011, 2);
    tes_harness_io_write(h, 0x3d4, 0x6601, 2);
    tes_harness_io_write(h, 0x3d4, 0x01, 1);
    g_assert_cmphex(tes_harness_io_read(h, 0x3d5, 1), ==, 0x55);
    down(&f);
}

static void test_attribute_flip_flop(void)
{
    fixture f;
    tes_harness *h;

    up(&f, NULL);
    h = f.h;
    tes_harness_io_write(h, 0x3c2, 0x01, 1);
    tes_harness_io_read(h, 0x3da, 1);   /* flip-flop to index */
    tes_harness_io_write(h, 0x3c0, 0x03, 1); /* index 3 */
    g_assert_cmphex(tes_harness_io_read(h, 0x3c0, 1), ==, 0x03);
    tes_harness_io_write(h, 0x3c0, 0x2a, 1); /* data */
    g_assert_cmphex(tes_harness_io_read(h, 0x3c1, 1), ==, 0x2a);
    tes_harness_io_write(h, 0x3c0, 0x34, 1); /* index 0x14, PAS on */
    tes_harness_io_write(h, 0x3c0, 0xff, 1); /* colour select: 4 bits */
    g_assert_cmphex(tes_harness_io_read(h, 0x3c1, 1), ==, 0x0f);
    /* Index, then data is expected: reading status 1 goes back to index. */
    tes_harness_io_write(h, 0x3c0, 0x05, 1);
    tes_harness_io_read(h, 0x3da, 1);
    tes_harness_io_write(h, 0x3c0, 0x06, 1); /* an index again, not data */
    tes_harness_io_write(h, 0x3c0, 0x11, 1);
    g_assert_cmphex(tes_harness_io_read(h, 0x3c1, 1), ==, 0x11);
    tes_harness_io_write(h, 0x3c0, 0x05, 1);
    g_assert_cmphex(tes_harness_io_read(h, 0x3c1, 1), ==, 0x00);
    /* Status 1's retrace bits change between reads (polling ends). */
    g_assert_cmphex(tes_harness_io_read(h, 0x3da, 1) ^ tes_harness_io_read(h, 0x3da, 1), ==,
                    0x09);
    /* The same flip-flop through BAR2's copy of the ports. */
    tes_harness_read(h, BAR2 + 0x41a, 1);
    tes_harness_write(h, BAR2 + 0x400, 0x07, 1);
    tes_harness_write(h, BAR2 + 0x400, 0x15, 1);
    g_assert_cmphex(tes_harness_io_read(h, 0x3c0, 1), ==, 0x07);
    tes_harness_io_write(h, 0x3c0, 0x07, 1);
    g_assert_cmphex(tes_harness_read(h, BAR2 + 0x401, 1), ==, 0x15);
    down(&f);
}

static void test_dac(void)
{
    fixture f;
    tes_harness *h;

    up(&f, NULL);
    h = f.h;
    tes_harness_io_write(h, 0x3c8, 0x10, 1);
    for (unsigned i = 0; i < 6; i++) {
        tes_harness_io_write(h, 0x3c9, 0x30 + i, 1);
    }
    g_assert_cmpuint(tes_harness_io_read(h, 0x3c8, 1), ==, 0x12);
    g_assert_cmpuint(tes_harness_io_read(h, 0x3c7, 1), ==, 0); /* write mode */
    tes_harness_io_write(h, 0x3c7, 0x11, 1);
    g_assert_cmpuint(tes_harness_io_read(h, 0x3c7, 1), ==, 3);
    g_assert_cmphex(tes_harness_io_read(h, 0x3c9, 1), ==, 0x33);
    g_assert_cmphex(tes_harness_io_read(h, 0x3c9, 1), ==, 0x34);
    g_assert_cmphex(tes_harness_io_read(h, 0x3c9, 1), ==, 0x35);
    down(&f);
}

/* The legacy window: odd/even text, chain-4, planar writes with latches. */
static void test_window(void)
{
    fixture f;
    tes_harness *h;

    up(&f, NULL);
    h = f.h;
    /* Reset: odd/even, map mask 0 (nothing written). Planes 0+1 on: the
     * text layout, character in plane 0, attribute in plane 1. */
    tes_harness_io_write(h, 0x3c4, 0x0302, 2);
    tes_harness_io_write(h, 0x3ce, 0x0e06, 2); /* 0xb8000, 32 KiB, odd/even */
    tes_harness_write(h, 0xb8000, 0x1f41, 2);
    g_assert_cmphex(tes_harness_read(h, 0xb8000, 2), ==, 0x1f41);
    g_assert_cmphex(tes_harness_read(h, BAR0, 2), ==, 0x1f41); /* plane 0, plane 1 of offset 0 */
    g_assert_cmphex(tes_harness_read(h, 0xa0000, 1), ==, 0xff); /* not decoded there */
    /* Chain-4 at 0xa0000 (mode 13h's layout): bytes are VRAM bytes. */
    tes_harness_io_write(h, 0x3c4, 0x0f02, 2);
    tes_harness_io_write(h, 0x3c4, 0x0e04, 2);
    tes_harness_io_write(h, 0x3ce, 0x0506, 2);
    tes_harness_write(h, 0xa0010, 0x44332211, 4);
    g_assert_cmphex(tes_harness_read(h, BAR0 + 0x10, 4), ==, 0x44332211);
    /* Planar, write mode 0 with set/reset on planes 0 and 2. */
    tes_harness_io_write(h, 0x3c4, 0x0604, 2);
    tes_harness_io_write(h, 0x3ce, 0x0500, 2); /* set/reset value */
    tes_harness_io_write(h, 0x3ce, 0x0501, 2); /* enable for planes 0, 2 */
    tes_harness_io_write(h, 0x3ce, 0xff08, 2);
    tes_harness_write(h, 0xa0100, 0x3c, 1);
    g_assert_cmphex(tes_harness_read(h, BAR0 + 0x400, 4), ==, 0x3cff3cff);
    /* Read mode 0 latches; write mode 1 copies the latches elsewhere. */
    g_assert_cmphex(tes_harness_read(h, 0xa0100, 1), ==, 0xff); /* plane 0 (GR4 = 0) */
    tes_harness_io_write(h, 0x3ce, 0x0104, 2);
    g_assert_cmphex(tes_harness_read(h, 0xa0100, 1), ==, 0x3c);
    tes_harness_io_write(h, 0x3ce, 0x0105, 2);
    tes_harness_write(h, 0xa0200, 0x00, 1);
    g_assert_cmphex(tes_harness_read(h, BAR0 + 0x800, 4), ==, 0x3cff3cff);
    /* Read mode 1: colour compare 0b0101 over all planes matches 0xff^... */
    tes_harness_io_write(h, 0x3ce, 0x0805, 2);
    tes_harness_io_write(h, 0x3ce, 0x0502, 2);
    tes_harness_io_write(h, 0x3ce, 0x0f07, 2);
    g_assert_cmphex(tes_harness_read(h, 0xa0100, 1), ==, 0xc3);
    /* Write mode 2 with bit mask 0x0f and XOR with the latches. */
    tes_harness_io_write(h, 0x3ce, 0x0205, 2);
    tes_harness_io_write(h, 0x3ce, 0x0f08, 2);
    tes_harness_io_write(h, 0x3ce, 0x1803, 2);
    tes_harness_read(h, 0xa0100, 1); /* latch 0x3cff3cff */
    tes_harness_write(h, 0xa0100, 0x03, 1); /* planes 0, 1 = 0xff, XOR, low nibble */
    g_assert_cmphex(tes_harness_read(h, BAR0 + 0x400, 4), ==, 0x3cff33f0);
    down(&f);
}

/* In a DISPI mode the window shows 64 KiB of VRAM at the bank. */
static void test_window_banks(void)
{
    fixture f;

    up(&f, NULL);
    set_mode(&f, false, 640, 480, 32);
    mmio_vbe_wr(&f, VBE_BANK, 3);
    tes_harness_write(f.h, WIN + 0x10, 0xdeadbeef, 4);
    g_assert_cmphex(tes_harness_read(f.h, BAR0 + 0x30010, 4), ==, 0xdeadbeef);
    g_assert_cmphex(tes_harness_read(f.h, WIN + 0x10000, 1), ==, 0xff); /* past 64 KiB */
    mmio_vbe_wr(&f, VBE_BANK, 0xffff); /* masked to VRAM: bank 255 of 16 MiB */
    tes_harness_write(f.h, WIN + 0xfffc, 0x01020304, 4);
    g_assert_cmphex(tes_harness_read(f.h, BAR0 + 0xfffffc, 4), ==, 0x01020304);
    down(&f);
}

static void test_migrate(void)
{
    fixture f;
    size_t bytes;

    up(&f, "id=vga0");
    set_mode(&f, true, 96, 72, 32);
    tes_harness_io_write(f.h, 0x3c4, 0x0502, 2);
    tes_harness_io_write(f.h, 0x3c8, 0x04, 1);
    tes_harness_io_write(f.h, 0x3c9, 0x2a, 1);
    f.dev = tes_harness_migrate(f.h, f.dev, &bytes);
    g_assert_nonnull(f.dev);
    g_assert_cmpuint(port_vbe_rd(&f, VBE_XRES), ==, 96);
    g_assert_cmphex(tes_harness_io_read(f.h, 0x3c5, 1), ==, 0x05);
    tes_harness_io_write(f.h, 0x3c9, 0x2b, 1);
    tes_harness_io_write(f.h, 0x3c9, 0x2c, 1);
    tes_harness_io_write(f.h, 0x3c7, 0x04, 1);
    g_assert_cmphex(tes_harness_io_read(f.h, 0x3c9, 1), ==, 0x2a); /* the DAC cycle went on */
    {
        unsigned w, h;
        gsize n;
        g_autofree guint8 *px = shot(&f, &w, &h, &n);

        g_assert_nonnull(px);
        g_assert_cmpuint(w, ==, 96);
        g_assert_cmpuint(h, ==, 72);
    }
    down(&f);
}

static void test_bad_properties(void)
{
    tes_harness *h = tes_harness_new(1 << 20);

    g_assert_true(tes_harness_load(h, plugin_path));
    g_assert_null(tes_harness_device(h, "VGA", "vgamem_mb=2"));
    g_assert_nonnull(strstr(tes_harness_error(h), "vgamem_mb"));
    g_assert_null(tes_harness_device(h, "VGA", "xres=10"));
    g_assert_nonnull(strstr(tes_harness_error(h), "xres"));
    /* One VGA owns the legacy ports and window. */
    g_assert_nonnull(tes_harness_device(h, "VGA", NULL));
    g_assert_null(tes_harness_device(h, "VGA", NULL));
    g_assert_nonnull(strstr(tes_harness_error(h), "legacy VGA"));
    tes_harness_free(h);
}

int main(int argc, char **argv)
{
    if (!display_test_init(&argc, &argv, "test-vga")) {
        return 2;
    }
    g_test_add_func("/vga/pci-ids", test_pci_ids);
    g_test_add_func("/vga/dispi/ports-and-bar2-are-one-register-file", test_dispi_paths);
    g_test_add_func("/vga/screendump/mode-set-through-ports", test_screendump_ports);
    g_test_add_func("/vga/screendump/mode-set-through-bar2", test_screendump_mmio);
    g_test_add_func("/vga/screendump/blanking-and-enable", test_blank_and_enable);
    g_test_add_func("/vga/registers/index-data-and-decode", test_register_file);
    g_test_add_func("/vga/registers/attribute-flip-flop", test_attribute_flip_flop);
    g_test_add_func("/vga/registers/dac", test_dac);
    g_test_add_func("/vga/window/text-chain4-planar", test_window);
    g_test_add_func("/vga/window/dispi-banks", test_window_banks);
    g_test_add_func("/vga/migrate", test_migrate);
    g_test_add_func("/vga/bad-properties", test_bad_properties);
    return g_test_run();
}
