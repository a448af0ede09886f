/* Shared by the ata plugin tests (test-ata.c: piix3-ide, test-ahci.c). */
#ifndef TEST_ATA_H
#define TEST_ATA_H

#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <tessera/harness.h>

#include "ata.h"
#include "tests/ata-drv.h"

#define RAM_SIZE (32ull << 20)
#define IMG_SIZE (4ull << 20)
#define CD_IMG_SIZE (2ull << 20)

typedef struct afix {
    ad a;
    char *img[2];       /* d0: disk image (pattern), d1: CD image (pattern) */
    tes_device *dev[4];
} afix;

extern const char *ata_plugin_path;
uint8_t ata_pattern(uint64_t i);
char *ata_make_image(uint64_t size);
void ata_read_image(const char *path, uint64_t off, void *buf, size_t len);
/* A harness with controller ctrl and devs (type, props pairs, NULL-ended). */
void ata_up(afix *f, const char *ctrl, const char *const *devs);
void ata_down(afix *f);
void ahci_tests_register(void);
void atapi_media_tests_register(void);

#endif
