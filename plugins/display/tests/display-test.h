/*
 * What the display plugin's harness tests share: a harness with one
 * display device whose BAR0 (VRAM) and BAR2 (registers) are mapped, a
 * scratch directory, and QMP screendump read back as a PPM.
 */
#ifndef DISPLAY_TEST_H
#define DISPLAY_TEST_H

#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tessera/harness.h>

#define BAR0 0x20000000ull /* VRAM */
#define BAR2 0x10000000ull /* registers */
#define VBE(i) (BAR2 + 0x500 + 2 * (i))
#define VBE_XRES 1
#define VBE_YRES 2
#define VBE_BPP 3
#define VBE_ENABLE 4
#define VBE_BANK 5
#define VBE_VIRT_WIDTH 6
#define VBE_VIRT_HEIGHT 7
#define VBE_X_OFFSET 8
#define VBE_Y_OFFSET 9

static const char *plugin_path;

typedef struct fixture {
    tes_harness *h;
    tes_device *dev;
    char *dir;
} fixture;

static void fixture_up(fixture *f, const char *type, const char *props)
{
    f->h = tes_harness_new(16 << 20);
    g_assert_true(tes_harness_load(f->h, plugin_path));
    f->dev = tes_harness_device(f->h, type, props);
    if (!f->dev) {
        g_error("%s: %s", type, tes_harness_error(f->h));
    }
    g_assert_cmphex(tes_harness_bar_map(f->h, f->dev, 2, BAR2), ==, BAR2);
    g_assert_cmphex(tes_harness_bar_map(f->h, f->dev, 0, BAR0), ==, BAR0);
    f->dir = g_dir_make_tmp("test-display-XXXXXX", NULL);
    g_assert_nonnull(f->dir);
}

static void down(fixture *f)
{
    tes_harness_free(f->h);
    g_rmdir(f->dir); /* the tests remove their files */
    g_free(f->dir);
}

/* Run QMP screendump; returns the file's bytes (NULL with the reply in
 * *reply when it failed). */
static guint8 *screendump(fixture *f, const char *extra, gsize *len, char **reply)
{
    g_autofree char *path = g_build_filename(f->dir, "shot", NULL);
    g_autofree char *cmd = g_strdup_printf(
        "{\"execute\":\"screendump\",\"arguments\":{\"filename\":\"%s\"%s}}", path,
        extra ? extra : "");
    char *r = tes_harness_qmp(f->h, cmd);
    guint8 *data = NULL;

    if (strstr(r, "\"return\"")) {
        g_assert_true(g_file_get_contents(path, (char **)&data, len, NULL));
        g_unlink(path);
    }
    if (reply) {
        *reply = r;
    } else {
        free(r);
    }
    return data;
}

/* A P6 PPM's size and the offset of its pixels. */
static gsize ppm_parse(const guint8 *d, gsize len, unsigned *w, unsigned *h)
{
    gsize n = 0;

    /* Three header lines ("\n" in a scanf format would also eat a first
     * pixel byte that is white space). */
    for (gsize i = 0, lines = 0; i < len && lines < 3; i++) {
        if (d[i] == '\n' && ++lines == 3) {
            n = i + 1;
        }
    }
    g_assert_cmpuint(n, >, 0);
    g_assert_cmpint(sscanf((const char *)d, "P6 %u %u 255", w, h), ==, 2);
    g_assert_cmpuint(len, ==, (gsize)n + (gsize)*w * *h * 3);
    return n;
}

/* The test's main: the plugin from $DISPLAY_PLUGIN or argv[1]. */
static bool display_test_init(int *argc, char ***argv, const char *name)
{
    g_test_init(argc, argv, NULL);
    plugin_path = getenv("DISPLAY_PLUGIN");
    if (*argc > 1) {
        plugin_path = (*argv)[1];
    }
    if (!plugin_path) {
        g_printerr("usage: %s PLUGIN.so (or DISPLAY_PLUGIN)\n", name);
        return false;
    }
    return true;
}

#endif
