/*
 * An EDID 1.4 base block (VESA E-EDID, release A2) describing a flat panel
 * whose preferred mode is the one asked for: what display devices put in
 * front of the guest's DRM driver so that it picks that mode first.
 */
#include <string.h>

#include "edid.h"

#define EDID_DTD0 54
#define EDID_DESC_LEN 18
/* Reduced blanking in the spirit of VESA CVT-RB: Linux takes the mode
 * as given, there is no monitor to sync. */
#define H_FRONT 48
#define H_SYNC 32
#define H_BLANK 160
#define V_FRONT 3
#define V_SYNC 5
#define V_BLANK 23
#define REFRESH_HZ 60
#define DPI_X10 960 /* 96 dpi: millimetres = pixels * 254 / 960 */

static uint16_t mm_of(uint32_t pixels)
{
    return (uint16_t)((uint64_t)pixels * 254 / DPI_X10);
}

/* Detailed timing descriptor: the preferred mode. */
static void put_dtd(uint8_t *d, uint32_t w, uint32_t h)
{
    uint64_t clock = (uint64_t)(w + H_BLANK) * (h + V_BLANK) * REFRESH_HZ / 10000;
    uint16_t wmm = mm_of(w), hmm = mm_of(h);

    d[0] = clock & 0xff;
    d[1] = (clock >> 8) & 0xff;
    d[2] = w & 0xff;
    d[3] = H_BLANK & 0xff;
    d[4] = ((w >> 8) & 0xf) << 4 | ((H_BLANK >> 8) & 0xf);
    d[5] = h & 0xff;
    d[6] = V_BLANK & 0xff;
    d[7] = ((h >> 8) & 0xf) << 4 | ((V_BLANK >> 8) & 0xf);
    d[8] = H_FRONT;
    d[9] = H_SYNC;
    d[10] = (V_FRONT & 0xf) << 4 | (V_SYNC & 0xf);
    d[11] = 0;
    d[12] = wmm & 0xff;
    d[13] = hmm & 0xff;
    d[14] = ((wmm >> 8) & 0xf) << 4 | ((hmm >> 8) & 0xf);
    d[15] = d[16] = 0;
    d[17] = 0x1e; /* digital separate sync, both polarities positive */
}

/* A display descriptor: tag 0xfc name, 0xfd range limits, 0x10 dummy. */
static void put_desc(uint8_t *d, uint8_t tag, const char *text)
{
    size_t n = text ? strlen(text) : 0;

    memset(d, 0, EDID_DESC_LEN);
    d[3] = tag;
    if (!text) {
        return;
    }
    memset(d + 5, ' ', 13);
    memcpy(d + 5, text, n > 12 ? 12 : n);
    d[5 + (n > 12 ? 12 : n)] = '\n';
}

static void put_range(uint8_t *d)
{
    put_desc(d, 0xfd, NULL);
    d[5] = 50;   /* vertical Hz, min and max */
    d[6] = 125;
    d[7] = 30;   /* horizontal kHz, min and max */
    d[8] = 160;
    d[9] = 60;   /* max pixel clock / 10 MHz: 600 MHz */
    d[10] = 0x01; /* range limits only, no timing formula */
    d[11] = '\n';
    memset(d + 12, ' ', 6);
}

void edid_generate(uint8_t blob[EDID_BLOCK], uint32_t width, uint32_t height, uint32_t serial)
{
    /* "TES": letters as 5-bit codes, 'A' = 1, in a big-endian word. */
    uint16_t vendor = ('T' - '@') << 10 | ('E' - '@') << 5 | ('S' - '@');
    static const uint8_t header[8] = {0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00};
    /* sRGB primaries and D65 white, as E-EDID encodes chromaticity. */
    static const uint8_t srgb[10] = {0xee, 0x91, 0xa3, 0x54, 0x4c, 0x99, 0x26, 0x0f, 0x50, 0x54};
    uint8_t sum = 0;

    memset(blob, 0, EDID_BLOCK);
    memcpy(blob, header, sizeof(header));
    blob[8] = vendor >> 8;
    blob[9] = vendor & 0xff;
    blob[10] = 0x34, blob[11] = 0x12;    /* product code 0x1234 */
    memcpy(blob + 12, &(uint8_t[4]){serial, serial >> 8, serial >> 16, serial >> 24}, 4);
    blob[16] = 1, blob[17] = 2026 - 1990; /* week 1 of 2026 */
    blob[18] = 1, blob[19] = 4;          /* EDID 1.4 */
    blob[20] = 0xa0;                     /* digital, 8 bits per primary */
    blob[21] = (mm_of(width) + 5) / 10;  /* screen size, cm */
    blob[22] = (mm_of(height) + 5) / 10;
    blob[23] = 120;                      /* gamma 2.2 */
    blob[24] = 0x06;                     /* sRGB default, preferred mode native */
    memcpy(blob + 25, srgb, sizeof(srgb));
    blob[35] = 0x21;                     /* 640x480@60, 800x600@60 */
    blob[36] = 0x08;                     /* 1024x768@60 */
    memset(blob + 38, 0x01, 16);         /* no standard timings */
    put_dtd(blob + EDID_DTD0, width, height);
    put_desc(blob + EDID_DTD0 + EDID_DESC_LEN, 0xfc, "tessera");
    put_range(blob + EDID_DTD0 + 2 * EDID_DESC_LEN);
    put_desc(blob + EDID_DTD0 + 3 * EDID_DESC_LEN, 0x10, NULL);
    for (int i = 0; i < EDID_BLOCK - 1; i++) {
        sum += blob[i];
    }
    blob[EDID_BLOCK - 1] = (uint8_t)(0x100 - sum);
}
