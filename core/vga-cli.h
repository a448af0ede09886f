/* -vga and the board's default display (vga-cli.c). */
#ifndef TESSERA_CORE_VGA_CLI_H
#define TESSERA_CORE_VGA_CLI_H

#include <glib.h>
#include <stdbool.h>

/* -vga's value (NULL: not given) is one tessera knows: else false with
 * one line in *errp. */
bool vga_cli_check(const char *vga, char **errp);
/* After the machine, before the NICs and -device: the display -vga asks
 * for, or the machine's default unless nodefaults or a VGA-class type in
 * devices (the -device arguments). false with *errp set on failure. */
bool vga_cli_create(const char *vga, bool nodefaults, GPtrArray *devices, char **errp);

#endif
