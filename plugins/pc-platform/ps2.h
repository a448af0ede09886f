/*
 * PS/2 keyboard and mouse (ps2.c) behind the i8042 (i8042.c): each answers
 * the bytes the controller passes it and queues its replies and events
 * for the controller to hand the guest one byte at a time.
 */
#ifndef PS2_H
#define PS2_H

#include "pc-platform.h"

#define PS2_QUEUE_SIZE 256 /* QEMU's PS2_BUFFER_SIZE */
#define PS2_KBD_EVENTS 16  /* keyboard event bytes queued at most (QEMU) */
#define PS2_HEADROOM 8     /* kept free for command replies */

typedef struct ps2_queue {
    uint8_t data[PS2_QUEUE_SIZE];
    uint16_t rptr, count;
} ps2_queue;

typedef struct ps2_kbd {
    ps2_queue q;
    tes_input *h;
    uint8_t scan_enabled, set, leds;
    uint8_t pending; /* command waiting for its argument, 0 none */
} ps2_kbd;

typedef struct ps2_mouse {
    ps2_queue q;
    tes_input *h;
    uint8_t enabled, remote, scaling21, wrap;
    uint8_t rate, res, type, detect;
    uint8_t pending;
    uint8_t buttons; /* bit 0 left, 1 right, 2 middle, 3 side, 4 extra */
    int32_t dx, dy, dz;
} ps2_mouse;

bool ps2_queue_peek(const ps2_queue *q, uint8_t *v);
void ps2_queue_drop(ps2_queue *q);
bool ps2_queue_valid(const ps2_queue *q);

void ps2_kbd_reset(ps2_kbd *k);
/* A byte from the guest; xlat: the controller translates to set 1. */
void ps2_kbd_write(ps2_kbd *k, uint8_t v, bool xlat);
void ps2_kbd_event(ps2_kbd *k, const tes_input_event *ev, bool xlat);

void ps2_mouse_reset(ps2_mouse *m);
void ps2_mouse_write(ps2_mouse *m, uint8_t v);
void ps2_mouse_event(ps2_mouse *m, const tes_input_event *ev);

#endif
