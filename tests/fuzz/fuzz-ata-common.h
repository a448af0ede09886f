/*
 * Shared by the ATA fuzz targets (fuzz-piix3-ide.c, fuzz-ahci.c): scratch
 * images made once per process and a check that data a completed write
 * put through the device is on the image.
 */
#ifndef FUZZ_ATA_COMMON_H
#define FUZZ_ATA_COMMON_H

#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz-dev.h"
#include "ata/tests/ata-drv.h"

#define FA_RAM_SIZE (4ull << 20)
#define FA_HD_SIZE (1ull << 20)
#define FA_CD_SIZE (256ull << 10)
#define FA_CHECK_BUF 0x300000ull

static char *fa_img[2];

static void fa_remove_images(void)
{
    for (int i = 0; i < 2; i++) {
        if (fa_img[i]) {
            g_unlink(fa_img[i]);
        }
    }
}

static void fa_init(void)
{
    for (int i = 0; i < 2; i++) {
        int fd = g_file_open_tmp("fuzz-ata-XXXXXX.img", &fa_img[i], NULL);
        if (fd < 0 || ftruncate(fd, i ? FA_CD_SIZE : FA_HD_SIZE) != 0) {
            fprintf(stderr, "fuzz-ata: cannot make a scratch image\n");
            exit(1);
        }
        close(fd);
    }
    atexit(fa_remove_images);
}

/* Drives d0 (disk) and d1 (CD image). */
static void fa_drives(fz *f)
{
    for (int i = 0; i < 2; i++) {
        char *opt = g_strdup_printf("file=%s,if=none,id=d%d,format=raw", fa_img[i], i);
        if (!tes_harness_drive(f->h, opt)) {
            fz_fail(f, "ata: %s", tes_harness_error(f->h));
        }
        g_free(opt);
    }
}

static tes_device *fa_device(fz *f, const char *type, const char *props)
{
    tes_device *d = tes_harness_device(f->h, type, props);

    if (!d) {
        fz_fail(f, "%s: %s", type, tes_harness_error(f->h));
    }
    return d;
}

static void fa_check_file(fz *f, uint64_t off, const uint8_t *want, size_t len)
{
    uint8_t got[4096];
    FILE *fp = fopen(fa_img[0], "rb");

    if (len > sizeof(got) || !fp || fseek(fp, (long)off, SEEK_SET) != 0 ||
        fread(got, 1, len, fp) != len) {
        fz_fail(f, "ata: cannot read back the image");
    }
    fclose(fp);
    if (memcmp(got, want, len) != 0) {
        fz_fail(f, "ata: a completed write of %zu bytes at 0x%llx is not on the image", len,
                (unsigned long long)off);
    }
}

/* Commands worth trying: the implemented ones, and a few that must abort. */
static const uint8_t fa_cmds[] = {
    0xec, 0xa1, 0x20, 0x24, 0x29, 0xc4, 0x30, 0x34, 0x39, 0xc5, 0xc8, 0x25, 0xca, 0x35,
    0x60, 0x61, 0x40, 0x42, 0xe7, 0xea, 0xef, 0xc6, 0xe0, 0xe1, 0xe2, 0xe3, 0xe5, 0x90,
    0x91, 0x10, 0x70, 0x08, 0xa0, 0x00, 0x06, 0xf8, 0x2f,
};
static const uint8_t fa_packets[] = {
    0x00, 0x03, 0x12, 0x1b, 0x1e, 0x25, 0x28, 0xa8, 0x2b, 0x43, 0x46, 0x4a, 0x51, 0x5a,
    0xbd, 0xbb, 0x1a, 0xbe, 0xff,
};

static uint8_t fa_cmd(fz *f)
{
    uint8_t sel = fz_u8(f);

    return sel & 0x80 ? fz_u8(f) : fa_cmds[sel % sizeof(fa_cmds)];
}

/* A packet with an opcode mostly from the implemented set. */
static void fa_packet(fz *f, uint8_t *cdb)
{
    uint8_t sel = fz_u8(f);

    for (int i = 0; i < 12; i++) {
        cdb[i] = fz_u8(f);
    }
    cdb[0] = sel & 0x80 ? cdb[0] : fa_packets[sel % sizeof(fa_packets)];
}

#endif
