#ifndef TESSERA_DISPLAY_EDID_H
#define TESSERA_DISPLAY_EDID_H

#include <stdint.h>

#define EDID_BLOCK 128

/* One EDID 1.4 block (no extensions) whose preferred mode is width x
 * height at 60 Hz; serial goes in the serial number field. */
void edid_generate(uint8_t blob[EDID_BLOCK], uint32_t width, uint32_t height, uint32_t serial);

#endif
