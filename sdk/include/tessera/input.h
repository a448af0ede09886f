/*
 * tessera SDK: input devices (SDK 1.7).
 *
 * A keyboard, mouse or tablet model (PS/2 behind the i8042,
 * virtio-keyboard/-mouse/-tablet) registers a handler with
 * host->input_handler_new in realize, naming the kinds of events it takes.
 * The core routes what the user types and points (the window, VNC, QMP
 * send-key and input-send-event) to one handler per kind: the one the
 * guest activated last (host->input_handler_activate, e.g. when its driver
 * sets DRIVER_OK or enables scanning), else the first registered, as
 * QEMU's qemu_input_handler_activate does. Events come on the main loop
 * with the core lock held, one at a time, each group ended by a
 * TES_INPUT_SYN event, as Linux's evdev reports them.
 *
 * Codes are Linux's (linux/input-event-codes.h): KEY_* and BTN_* for
 * TES_INPUT_KEY, REL_X/REL_Y/REL_WHEEL for TES_INPUT_REL, ABS_X/ABS_Y for
 * TES_INPUT_ABS with values scaled to 0..TES_INPUT_ABS_MAX over the
 * screen. A handler goes with its device.
 */
#ifndef TESSERA_INPUT_H
#define TESSERA_INPUT_H

#include <stdint.h>
#include <tessera/types.h>

typedef struct tes_input tes_input;

/* Event types: Linux's EV_SYN, EV_KEY, EV_REL, EV_ABS. */
#define TES_INPUT_SYN 0x00
#define TES_INPUT_KEY 0x01
#define TES_INPUT_REL 0x02
#define TES_INPUT_ABS 0x03

#define TES_INPUT_ABS_MAX 0x7fff

/* Handler kinds (a mask): keys, relative pointer, absolute pointer. The
 * buttons go with the pointer kinds. */
#define TES_INPUT_KIND_KEYBOARD 0x1u
#define TES_INPUT_KIND_MOUSE 0x2u
#define TES_INPUT_KIND_TABLET 0x4u

typedef struct tes_input_event {
    uint16_t type;  /* TES_INPUT_SYN .. TES_INPUT_ABS */
    uint16_t code;  /* KEY_A, BTN_LEFT, REL_X, ABS_Y, ... */
    int32_t value;  /* keys: 1 down, 0 up; REL: delta; ABS: 0..ABS_MAX */
} tes_input_event;

typedef struct tes_input_ops {
    uint32_t size; /* sizeof(tes_input_ops) */
    /* One event (main loop, core lock held). */
    void (*event)(void *opaque, const tes_input_event *ev);
} tes_input_ops;

#endif
