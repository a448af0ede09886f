/*
 * Graphic consoles: what display devices show (host->console_new,
 * console_set_surface, console_update; SDK 1.7 display.h) and the
 * screendump that reads them. A console holds a copy of the device's
 * surface descriptor (the pixels stay the device's) and the damage since a
 * frontend last looked. Everything here runs with the core lock held: the
 * devices call in from their callbacks, the monitor from its dispatch.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "core.h"
#include "display.h"

#define SURFACE_MAX_DIM 16384
/* What QEMU's screendump of a console with no mode saves (its
 * "Display output is not active." placeholder surface). */
#define BLANK_WIDTH 640
#define BLANK_HEIGHT 480

struct tes_console {
    tes_device *dev;
    tes_console_ops ops;
    void *opaque;
    bool has_surface;
    tes_surface surf;
    /* damage since the last display_console_surface: [x0, x1) x [y0, y1) */
    uint32_t x0, y0, x1, y1;
};

static GPtrArray *consoles; /* tes_console *, in creation order */

tes_console *console_new(tes_device *dev, const tes_console_ops *ops, void *opaque)
{
    tes_console *con;

    if (!dev || !ops || ops->size < offsetof(tes_console_ops, refresh) + sizeof(void *)) {
        core_log(TES_LOG_PLUGIN, "console_new: %s without a valid ops table",
                 dev ? dev->name : "(no device)");
        return NULL;
    }
    con = g_new0(tes_console, 1);
    con->dev = dev;
    con->ops = *ops;
    con->opaque = opaque;
    if (!consoles) {
        consoles = g_ptr_array_new();
    }
    g_ptr_array_add(consoles, con);
    return con;
}

/* Fits in 32 bits and in what the frontends draw; the pixels of the last
 * line end within stride * height. */
static bool surface_valid(const tes_surface *s, const char **why)
{
    uint32_t bpp = tes_pixel_bytes(s->format);

    if (s->size < sizeof(tes_surface) || !s->pixels) {
        *why = "no pixels or a short descriptor";
    } else if (!bpp) {
        *why = "unknown pixel format";
    } else if (!s->width || !s->height || s->width > SURFACE_MAX_DIM ||
               s->height > SURFACE_MAX_DIM) {
        *why = "width or height out of 1..16384";
    } else if ((uint64_t)s->width * bpp > s->stride) {
        *why = "stride shorter than a line";
    } else {
        return true;
    }
    return false;
}

void console_set_surface(tes_console *con, const tes_surface *surf)
{
    const char *why = NULL;

    if (!con) {
        return;
    }
    con->has_surface = false;
    if (!surf) {
        return;
    }
    if (!surface_valid(surf, &why)) {
        core_log(TES_LOG_PLUGIN, "%s: console surface refused: %s", con->dev->name, why);
        return;
    }
    con->surf = *surf;
    con->surf.size = sizeof(tes_surface);
    con->has_surface = true;
    con->x0 = con->y0 = 0;
    con->x1 = surf->width;
    con->y1 = surf->height;
}

void console_update(tes_console *con, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
    uint32_t x1, y1;

    if (!con || !con->has_surface || x >= con->surf.width || y >= con->surf.height) {
        return;
    }
    x1 = x + MIN(w, con->surf.width - x);
    y1 = y + MIN(h, con->surf.height - y);
    if (x1 == x || y1 == y) {
        return;
    }
    if (con->x1 == con->x0) {
        con->x0 = x, con->y0 = y, con->x1 = x1, con->y1 = y1;
        return;
    }
    con->x0 = MIN(con->x0, x);
    con->y0 = MIN(con->y0, y);
    con->x1 = MAX(con->x1, x1);
    con->y1 = MAX(con->y1, y1);
}

void display_dev_free(tes_device *dev)
{
    for (guint i = consoles ? consoles->len : 0; i-- > 0;) {
        tes_console *con = g_ptr_array_index(consoles, i);

        if (con->dev == dev) {
            g_ptr_array_remove_index(consoles, i);
            g_free(con);
        }
    }
}

static unsigned console_head(tes_console *con)
{
    unsigned head = 0;

    for (guint i = 0; i < consoles->len && g_ptr_array_index(consoles, i) != con; i++) {
        head += ((tes_console *)g_ptr_array_index(consoles, i))->dev == con->dev;
    }
    return head;
}

tes_console *display_console_find(const char *device, int head, char **err)
{
    for (guint i = 0; consoles && i < consoles->len; i++) {
        tes_console *con = g_ptr_array_index(consoles, i);

        if (!device) {
            return con;
        }
        if (con->dev->id && !strcmp(con->dev->id, device) && head >= 0 &&
            console_head(con) == (unsigned)head) {
            return con;
        }
    }
    if (!device) {
        core_set_error(err, "There is no console to take a screendump from");
    } else {
        core_set_error(err, "Device '%s' has no head %d (no such device, or not a display)",
                       device, head);
    }
    return NULL;
}

const tes_surface *display_console_surface(tes_console *con)
{
    if (con->ops.refresh) {
        con->ops.refresh(con->opaque);
    }
    con->x0 = con->y0 = con->x1 = con->y1 = 0;
    return con->has_surface ? &con->surf : NULL;
}

static uint32_t rgb565_to_rgb(uint16_t p)
{
    uint32_t r = (p >> 11) & 0x1f, g = (p >> 5) & 0x3f, b = p & 0x1f;

    /* Replicate the top bits into the low ones: 0x1f -> 0xff. */
    r = (r << 3) | (r >> 2);
    g = (g << 2) | (g >> 4);
    b = (b << 3) | (b >> 2);
    return (r << 16) | (g << 8) | b;
}

uint32_t display_pixel_rgb(const tes_surface *s, uint32_t x, uint32_t y)
{
    const uint8_t *p = (const uint8_t *)s->pixels + (size_t)y * s->stride;

    switch (s->format) {
    case TES_PIXEL_XRGB8888:
        p += (size_t)x * 4;
        return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
    case TES_PIXEL_BGRX8888:
        p += (size_t)x * 4;
        return (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    case TES_PIXEL_RGB565:
        p += (size_t)x * 2;
        return rgb565_to_rgb((uint16_t)(p[0] | p[1] << 8));
    }
    return 0;
}

/* The picture as packed 8-bit R, G, B lines; *w and *h set. */
static uint8_t *picture_rgb(const tes_surface *s, uint32_t *w, uint32_t *h)
{
    uint8_t *rgb, *q;

    *w = s ? s->width : BLANK_WIDTH;
    *h = s ? s->height : BLANK_HEIGHT;
    rgb = g_malloc0((size_t)*w * *h * 3);
    if (!s) {
        return rgb;
    }
    for (uint32_t y = 0; y < *h; y++) {
        q = rgb + (size_t)y * *w * 3;
        for (uint32_t x = 0; x < *w; x++, q += 3) {
            uint32_t v = display_pixel_rgb(s, x, y);

            q[0] = v >> 16, q[1] = v >> 8, q[2] = v;
        }
    }
    return rgb;
}

static void put_be32(GByteArray *b, uint32_t v)
{
    uint8_t x[4] = {v >> 24, v >> 16, v >> 8, v};

    g_byte_array_append(b, x, 4);
}

/* One PNG chunk: length, type, data, CRC-32 of type and data. */
static void png_chunk(GByteArray *out, const char *type, const uint8_t *data, size_t len)
{
    uLong crc = crc32(0, (const Bytef *)type, 4);

    put_be32(out, (uint32_t)len);
    g_byte_array_append(out, (const uint8_t *)type, 4);
    if (len) {
        g_byte_array_append(out, data, (guint)len);
        crc = crc32(crc, data, (uInt)len);
    }
    put_be32(out, (uint32_t)crc);
}

/* PNG (ISO/IEC 15948): 8-bit truecolour, filter type 0 on every line. */
static GByteArray *encode_png(const uint8_t *rgb, uint32_t w, uint32_t h, char **err)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    size_t line = (size_t)w * 3 + 1, raw_len = line * h;
    uint8_t ihdr[13] = {w >> 24, w >> 16, w >> 8, w, h >> 24, h >> 16, h >> 8, h,
                        8, 2, 0, 0, 0};
    g_autofree uint8_t *raw = g_malloc(raw_len);
    uLongf zlen = compressBound(raw_len);
    g_autofree uint8_t *z = g_malloc(zlen);
    GByteArray *out;

    for (uint32_t y = 0; y < h; y++) {
        raw[y * line] = 0;
        memcpy(raw + y * line + 1, rgb + (size_t)y * w * 3, line - 1);
    }
    if (compress2(z, &zlen, raw, raw_len, 6) != Z_OK) {
        core_set_error(err, "screendump: compressing the picture failed");
        return NULL;
    }
    out = g_byte_array_new();
    g_byte_array_append(out, sig, sizeof(sig));
    png_chunk(out, "IHDR", ihdr, sizeof(ihdr));
    png_chunk(out, "IDAT", z, zlen);
    png_chunk(out, "IEND", NULL, 0);
    return out;
}

static GByteArray *encode_ppm(const uint8_t *rgb, uint32_t w, uint32_t h)
{
    GByteArray *out = g_byte_array_new();
    g_autofree char *hdr = g_strdup_printf("P6\n%u %u\n255\n", w, h);

    g_byte_array_append(out, (const uint8_t *)hdr, (guint)strlen(hdr));
    g_byte_array_append(out, rgb, (guint)((size_t)w * h * 3));
    return out;
}

bool display_screendump(tes_console *con, const char *path, const char *format, char **err)
{
    const tes_surface *s;
    g_autofree uint8_t *rgb = NULL;
    GByteArray *data;
    GError *gerr = NULL;
    uint32_t w, h;
    bool png;

    if (format && strcmp(format, "ppm") && strcmp(format, "png")) {
        core_set_error(err, "Parameter 'format' does not accept value '%s' (ppm or png)",
                       format);
        return false;
    }
    png = format && !strcmp(format, "png");
    s = display_console_surface(con);
    rgb = picture_rgb(s, &w, &h);
    data = png ? encode_png(rgb, w, h, err) : encode_ppm(rgb, w, h);
    if (!data) {
        return false;
    }
    if (!g_file_set_contents(path, (const char *)data->data, data->len, &gerr)) {
        core_set_error(err, "screendump: %s", gerr->message);
        g_error_free(gerr);
        g_byte_array_unref(data);
        return false;
    }
    g_byte_array_unref(data);
    return true;
}
