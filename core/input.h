/*
 * Input routing (host->input_handler_*, SDK 1.7 input.h): what the window,
 * VNC and the monitor (send-key, input-send-event) type and point goes to
 * the handler of each kind the guest activated last, else the first
 * registered (QEMU's rule). All of it runs with the core lock held.
 */
#ifndef TESSERA_CORE_INPUT_H
#define TESSERA_CORE_INPUT_H

#include <stdbool.h>
#include <tessera/input.h>

tes_input *input_handler_new(tes_device *dev, unsigned kinds, const tes_input_ops *ops,
                             void *opaque);
void input_handler_activate(tes_input *h);
/* dev is going: its handlers go (registry's dev_free, after unrealize). */
void input_dev_free(tes_device *dev);

/* Frontends: one event each (Linux codes), then input_sync() to end the
 * group. A key or button goes to the keyboard handler (KEY_*) or the
 * pointer's (BTN_*); REL to the mouse, ABS to the tablet (a frontend
 * with absolute coordinates falls back to the mouse when there is no
 * tablet: input_has_tablet()). Nothing happens when no handler takes it. */
void input_key(uint16_t code, bool down);
void input_rel(uint16_t axis, int32_t delta);
void input_abs(uint16_t axis, int32_t value); /* 0..TES_INPUT_ABS_MAX */
void input_sync(void);
bool input_has_tablet(void);

#endif
