/* The display plugin's types (plugin.c lists them). */
#ifndef TESSERA_DISPLAY_TYPES_H
#define TESSERA_DISPLAY_TYPES_H

#include <tessera/tessera.h>

extern const tes_type_info bochs_display_type;
extern const tes_type_info vga_type;

#endif
