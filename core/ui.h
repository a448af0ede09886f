/*
 * Frontends that show the graphic consoles (core/display.c) and feed the
 * input handlers (core/input.c). Linked into the tessera binary only, not
 * the core library the harness uses.
 */
#ifndef TESSERA_CORE_UI_H
#define TESSERA_CORE_UI_H

#include <stdbool.h>

/* Open the SDL window on console 0. False, with *err saying why, when no
 * window system answers; required (an explicit -display sdl) only decides
 * whether the caller makes that fatal. */
bool ui_sdl_start(bool required, char **err);
void ui_sdl_stop(void);

/* -vnc [HOST]:N (TCP port 5900+N), unix:PATH or none; false with *err when
 * the spec is bad or the socket cannot be listened on. */
bool ui_vnc_start(const char *spec, char **err);
void ui_vnc_stop(void);

#endif
