/*
 * PS/2 keyboard and mouse: the command sets Linux's atkbd and psmouse
 * drivers use, scancode sets 1 and 2 (set 3 is answered as set 2), the
 * IntelliMouse (id 3) and IntelliMouse Explorer (id 4) wheel modes QEMU's
 * ps2.c offers after the sample-rate knocks. Events arrive as Linux input
 * codes (SDK input.h).
 */
#include "ps2.h"

#define ACK 0xfa
#define RESEND 0xfe
#define BAT_OK 0xaa

/* ---- byte queues ---- */

static bool push(ps2_queue *q, uint8_t v)
{
    if (q->count >= PS2_QUEUE_SIZE) {
        return false;
    }
    q->data[(q->rptr + q->count++) % PS2_QUEUE_SIZE] = v;
    return true;
}

/* A command reply replaces whatever was queued, as a device answering a
 * command stops sending its old data. */
static void reply(ps2_queue *q, const uint8_t *v, unsigned n)
{
    q->rptr = q->count = 0;
    for (unsigned i = 0; i < n; i++) {
        push(q, v[i]);
    }
}

static void reply1(ps2_queue *q, uint8_t v)
{
    reply(q, &v, 1);
}

bool ps2_queue_peek(const ps2_queue *q, uint8_t *v)
{
    if (!q->count) {
        return false;
    }
    *v = q->data[q->rptr % PS2_QUEUE_SIZE];
    return true;
}

void ps2_queue_drop(ps2_queue *q)
{
    if (q->count) {
        q->rptr = (q->rptr + 1) % PS2_QUEUE_SIZE;
        q->count--;
    }
}

bool ps2_queue_valid(const ps2_queue *q)
{
    return q->rptr < PS2_QUEUE_SIZE && q->count <= PS2_QUEUE_SIZE;
}

/* ---- keyboard ---- */

/* Set 2 make codes of Linux keys 1..88 (KEY_ESC..KEY_F12); 0: none. */
static const uint8_t set2[89] = {
    0,    0x76, 0x16, 0x1e, 0x26, 0x25, 0x2e, 0x36, 0x3d, 0x3e, 0x46, 0x45, 0x4e, 0x55, 0x66,
    0x0d, 0x15, 0x1d, 0x24, 0x2d, 0x2c, 0x35, 0x3c, 0x43, 0x44, 0x4d, 0x54, 0x5b, 0x5a, 0x14,
    0x1c, 0x1b, 0x23, 0x2b, 0x34, 0x33, 0x3b, 0x42, 0x4b, 0x4c, 0x52, 0x0e, 0x12, 0x5d, 0x1a,
    0x22, 0x21, 0x2a, 0x32, 0x31, 0x3a, 0x41, 0x49, 0x4a, 0x59, 0x7c, 0x11, 0x29, 0x58, 0x05,
    0x06, 0x04, 0x0c, 0x03, 0x0b, 0x83, 0x0a, 0x01, 0x09, 0x77, 0x7e, 0x6c, 0x75, 0x7d, 0x7b,
    0x6b, 0x73, 0x74, 0x79, 0x69, 0x72, 0x7a, 0x70, 0x71, 0,    0,    0x61, 0x78, 0x07,
};

/* Keys sent with an 0xe0 prefix: Linux code, set 1, set 2. */
static const struct {
    uint16_t code;
    uint8_t s1, s2;
} ext[] = {
    {96, 0x1c, 0x5a},  {97, 0x1d, 0x14},  {98, 0x35, 0x4a},  {99, 0x37, 0x7c},
    {100, 0x38, 0x11}, {102, 0x47, 0x6c}, {103, 0x48, 0x75}, {104, 0x49, 0x7d},
    {105, 0x4b, 0x6b}, {106, 0x4d, 0x74}, {107, 0x4f, 0x69}, {108, 0x50, 0x72},
    {109, 0x51, 0x7a}, {110, 0x52, 0x70}, {111, 0x53, 0x71}, {113, 0x20, 0x23},
    {114, 0x2e, 0x21}, {115, 0x30, 0x32}, {116, 0x5e, 0x37}, {125, 0x5b, 0x1f},
    {126, 0x5c, 0x27}, {127, 0x5d, 0x2f}, {142, 0x5f, 0x3f}, {143, 0x63, 0x5e},
};

#define KEY_PAUSE 119

void ps2_kbd_reset(ps2_kbd *k)
{
    k->q.rptr = k->q.count = 0;
    k->scan_enabled = 1;
    k->set = 2;
    k->leds = 0;
    k->pending = 0;
}

/* Event bytes go only while the queue has room for all of them. */
static void queue_event(ps2_kbd *k, const uint8_t *b, unsigned n)
{
    if (k->q.count + n > PS2_KBD_EVENTS) {
        return; /* the guest is not reading: dropped, as QEMU drops them */
    }
    for (unsigned i = 0; i < n; i++) {
        push(&k->q, b[i]);
    }
}

static void send_pause(ps2_kbd *k, bool set1)
{
    static const uint8_t p1[] = {0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5};
    static const uint8_t p2[] = {0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77};

    if (set1) {
        queue_event(k, p1, sizeof(p1));
    } else {
        queue_event(k, p2, sizeof(p2));
    }
}

/* Set 1 is the scancode set 2 turns into through the 8042's
 * translation, so with XLAT on (or set 1 chosen) the key goes as set 1. */
static void send_key(ps2_kbd *k, uint16_t code, bool down, bool xlat)
{
    bool set1 = xlat || k->set == 1;
    uint8_t b[4], n = 0, s1 = 0, s2 = 0;
    bool e0 = false;

    if (code == KEY_PAUSE) {
        if (down) {
            send_pause(k, set1); /* no break code */
        }
        return;
    }
    if (code >= 1 && code <= 88) {
        s1 = code;
        s2 = set2[code];
    }
    for (size_t i = 0; !s2 && i < sizeof(ext) / sizeof(ext[0]); i++) {
        if (ext[i].code == code) {
            s1 = ext[i].s1;
            s2 = ext[i].s2;
            e0 = true;
        }
    }
    if (!s2) {
        return; /* no PC scancode for this key */
    }
    if (e0) {
        b[n++] = 0xe0;
    }
    if (set1) {
        b[n++] = down ? s1 : s1 | 0x80;
    } else {
        if (!down) {
            b[n++] = 0xf0;
        }
        b[n++] = s2;
    }
    queue_event(k, b, n);
}

void ps2_kbd_event(ps2_kbd *k, const tes_input_event *ev, bool xlat)
{
    if (ev->type == TES_INPUT_KEY && k->scan_enabled) {
        send_key(k, ev->code, ev->value != 0, xlat);
    }
}

/* The argument of 0xed, 0xf3 or 0xf0. */
static void kbd_argument(ps2_kbd *k, uint8_t cmd, uint8_t v, bool xlat)
{
    /* Set numbers as the guest reads them through the translation. */
    static const uint8_t xlat_set[4] = {0, 0x43, 0x41, 0x3f};

    if (cmd == 0xed) {
        k->leds = v & 7;
    } else if (cmd == 0xf0 && v == 0) {
        uint8_t r[2] = {ACK, xlat ? xlat_set[k->set] : k->set};

        reply(&k->q, r, 2);
        return;
    } else if (cmd == 0xf0) {
        if (v > 3) {
            reply1(&k->q, RESEND);
            return;
        }
        k->set = v == 3 ? 2 : v; /* set 3: answered in set 2 */
    }
    reply1(&k->q, ACK);
}

void ps2_kbd_write(ps2_kbd *k, uint8_t v, bool xlat)
{
    uint8_t cmd = k->pending;

    k->pending = 0;
    if (cmd && v != 0xff && v != 0xee && v != 0xf2) {
        kbd_argument(k, cmd, v, xlat);
        return;
    }
    switch (v) {
    case 0xed: case 0xf3: case 0xf0:
        k->pending = v;
        reply1(&k->q, ACK);
        break;
    case 0xee:
        reply1(&k->q, 0xee);
        break;
    case 0xf2: {
        uint8_t r[3] = {ACK, 0xab, xlat ? 0x41 : 0x83};

        reply(&k->q, r, 3);
        break;
    }
    case 0xf4:
        k->scan_enabled = 1;
        reply1(&k->q, ACK);
        H->input_handler_activate(k->h);
        break;
    case 0xf5: case 0xf6:
        ps2_kbd_reset(k);
        k->scan_enabled = v == 0xf6;
        reply1(&k->q, ACK);
        break;
    case 0xf7: case 0xf8: case 0xf9: case 0xfa: case 0xfb: case 0xfc: case 0xfd:
        reply1(&k->q, ACK); /* set 3 key types: accepted, ignored */
        break;
    case 0xff: {
        uint8_t r[2] = {ACK, BAT_OK};

        ps2_kbd_reset(k);
        reply(&k->q, r, 2);
        break;
    }
    default:
        reply1(&k->q, RESEND);
        break;
    }
}

/* ---- mouse ---- */

void ps2_mouse_reset(ps2_mouse *m)
{
    ps2_queue q = m->q;
    tes_input *h = m->h;

    memset(m, 0, sizeof(*m));
    m->q = q;
    m->q.rptr = m->q.count = 0;
    m->h = h;
    m->rate = 100;
    m->res = 2;
}

/* The sample-rate knocks: 200, 100, 80 makes an IntelliMouse (id 3);
 * 200, 200, 80 an IntelliMouse Explorer (id 4), as QEMU follows them. */
static void knock(ps2_mouse *m, uint8_t rate)
{
    switch (m->detect) {
    case 0:
        m->detect = rate == 200;
        break;
    case 1:
        m->detect = rate == 100 ? 2 : rate == 200 ? 3 : 0;
        break;
    case 2:
        if (rate == 80) {
            m->type = 3;
        }
        m->detect = 0;
        break;
    default:
        if (rate == 80) {
            m->type = 4;
        }
        m->detect = 0;
        break;
    }
}

static int64_t clamp64(int64_t v)
{
    return v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX : v;
}

static int32_t clamp(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* One packet from the deltas held, taking from them what it carries.
 * room: queue bytes it may use. */
static bool send_packet(ps2_mouse *m, unsigned room)
{
    unsigned len = m->type ? 4 : 3;
    int32_t dx = clamp(m->dx, -256, 255), dy = clamp(m->dy, -256, 255);
    int32_t dz = m->type == 4 ? clamp(m->dz, -8, 7) : clamp(m->dz, -128, 127);
    uint8_t b0 = 0x08 | (m->buttons & 7); /* left, right, middle */

    if (room < len) {
        return false;
    }
    b0 |= (dx < 0 ? 0x10 : 0) | (dy < 0 ? 0x20 : 0);
    push(&m->q, b0);
    push(&m->q, (uint8_t)dx);
    push(&m->q, (uint8_t)dy);
    if (m->type == 3) {
        push(&m->q, (uint8_t)dz);
    } else if (m->type == 4) {
        push(&m->q, (uint8_t)((dz & 0x0f) | (m->buttons & 0x18) << 1));
    }
    m->dx -= dx;
    m->dy -= dy;
    m->dz -= dz;
    return true;
}

/* One packet at least (a button may have changed), more while motion
 * beyond one packet's range is left. */
static void mouse_sync(ps2_mouse *m)
{
    for (unsigned i = 0; i < 8; i++) {
        unsigned used = m->q.count + PS2_HEADROOM;
        unsigned room = used < PS2_QUEUE_SIZE ? PS2_QUEUE_SIZE - used : 0;

        if (!send_packet(m, room)) {
            break; /* full: the motion waits for the next sync */
        }
        if (!m->dx && !m->dy && !m->dz) {
            break;
        }
    }
}

void ps2_mouse_event(ps2_mouse *m, const tes_input_event *ev)
{
    if (ev->type == TES_INPUT_KEY && ev->code >= 0x110 && ev->code <= 0x114) {
        /* BTN_LEFT, RIGHT, MIDDLE, SIDE, EXTRA: bits 0..4 */
        uint8_t bit = 1u << (ev->code - 0x110);

        m->buttons = ev->value ? m->buttons | bit : m->buttons & ~bit;
    } else if (ev->type == TES_INPUT_REL) {
        int64_t v = ev->value;

        if (ev->code == 0) {
            m->dx = (int32_t)clamp64(m->dx + v);
        } else if (ev->code == 1) {
            m->dy = (int32_t)clamp64(m->dy - v); /* PS/2 counts up as positive */
        } else if (ev->code == 8) {
            m->dz = (int32_t)clamp64(m->dz - v); /* wheel up is a negative z */
        }
    } else if (ev->type == TES_INPUT_SYN && m->enabled && !m->remote) {
        mouse_sync(m);
    }
}

static void mouse_argument(ps2_mouse *m, uint8_t cmd, uint8_t v)
{
    if (cmd == 0xf3) {
        m->rate = v;
        knock(m, v);
    } else {
        m->res = v & 3;
    }
    reply1(&m->q, ACK);
}

static void mouse_status(ps2_mouse *m)
{
    uint8_t r[4] = {ACK, 0, m->res, m->rate};

    r[1] = (m->remote ? 0x40 : 0) | (m->enabled ? 0x20 : 0) | (m->scaling21 ? 0x10 : 0) |
           (m->buttons & 1) << 2 | (m->buttons & 4) >> 1 | (m->buttons & 2) >> 1;
    reply(&m->q, r, 4);
}

static void mouse_command(ps2_mouse *m, uint8_t v)
{
    switch (v) {
    case 0xe6: case 0xe7:
        m->scaling21 = v == 0xe7;
        reply1(&m->q, ACK);
        break;
    case 0xe8: case 0xf3:
        m->pending = v;
        reply1(&m->q, ACK);
        break;
    case 0xe9:
        mouse_status(m);
        break;
    case 0xea: case 0xf0:
        m->remote = v == 0xf0;
        reply1(&m->q, ACK);
        break;
    case 0xeb: /* read data: one packet now */
        reply1(&m->q, ACK);
        send_packet(m, PS2_QUEUE_SIZE - m->q.count);
        break;
    case 0xec: case 0xee:
        m->wrap = v == 0xee;
        reply1(&m->q, ACK);
        break;
    case 0xf2: {
        uint8_t r[2] = {ACK, m->type};

        reply(&m->q, r, 2);
        break;
    }
    case 0xf4: case 0xf5:
        m->enabled = v == 0xf4;
        reply1(&m->q, ACK);
        if (m->enabled) {
            H->input_handler_activate(m->h);
        }
        break;
    case 0xf6: {
        ps2_mouse_reset(m);
        reply1(&m->q, ACK);
        break;
    }
    case 0xff: {
        uint8_t r[3] = {ACK, BAT_OK, 0x00};

        ps2_mouse_reset(m);
        reply(&m->q, r, 3);
        break;
    }
    default:
        reply1(&m->q, RESEND);
        break;
    }
}

void ps2_mouse_write(ps2_mouse *m, uint8_t v)
{
    uint8_t cmd = m->pending;

    m->pending = 0;
    if (m->wrap && v != 0xec && v != 0xff) {
        reply1(&m->q, v); /* wrap mode echoes */
        return;
    }
    if (cmd) {
        mouse_argument(m, cmd, v);
        return;
    }
    mouse_command(m, v);
}
