/*
 * i8042: the PC keyboard controller with a PS/2 keyboard and mouse behind
 * it (ps2.c).
 *
 * User manual
 *
 *   -device i8042   (the q35 and pc machines create it)
 *
 * Ports 0x60 (data) and 0x64 (status / command), mapped by the device.
 * Outputs 0 (IRQ1, keyboard data) and 1 (IRQ12, aux data), raised while
 * the output buffer holds a byte of that port and the command byte enables
 * its interrupt; the machine may leave them unwired.
 *
 * Controller commands: 0x20 / 0x60 read / write the command byte, 0xA7 /
 * 0xA8 disable / enable aux, 0xA9 aux test (0x00), 0xAA self-test (0x55),
 * 0xAB keyboard test (0x00), 0xAD / 0xAE disable / enable keyboard, 0xC0
 * input port, 0xD0 / 0xD1 read / write output port (bit 0 clear: system
 * reset), 0xD2 / 0xD3 echo a byte as keyboard / aux data, 0xD4 send to
 * the mouse, 0xDD / 0xDF A20 (ignored: A20 is always on), 0xF0-0xFF
 * pulse output lines (bit 0 clear pulses reset: 0xFE is Linux's reboot
 * method "kbd"). Other data bytes go to the keyboard. With the command
 * byte's XLAT bit (0x40) the keyboard's set 2 reaches the guest as set 1,
 * the controller's translation (done as the keyboard sends, as QEMU does).
 *
 * The keyboard takes the input routing's keys and the mouse its relative
 * motion and buttons (SDK input.h), each once the guest enables it (0xF4).
 */
#include <errno.h>

#include "pc-trace.h"
#include "ps2.h"

#define ST_OBF 0x01
#define ST_SYS 0x04
#define ST_CMD 0x08
#define ST_UNLOCKED 0x10
#define ST_AUXDATA 0x20
#define ST_TIMEOUT 0x40

#define CTR_KBDINT 0x01
#define CTR_AUXINT 0x02
#define CTR_KBDDIS 0x10
#define CTR_AUXDIS 0x20
#define CTR_XLAT 0x40

typedef struct i8042 {
    tes_device *dev;
    uint8_t status, ctr, outport;
    uint8_t obuf;      /* output buffer, valid while status has OBF */
    uint8_t pending;   /* command waiting for its data byte, 0 none */
    ps2_kbd kbd;
    ps2_mouse mouse;
} i8042;

static void update_irq(i8042 *s)
{
    bool full = s->status & ST_OBF, aux = s->status & ST_AUXDATA;

    H->dev_set_irq(s->dev, 0, full && !aux && (s->ctr & CTR_KBDINT));
    H->dev_set_irq(s->dev, 1, full && aux && (s->ctr & CTR_AUXINT));
}

static void put(i8042 *s, uint8_t v, bool aux, bool timeout)
{
    s->obuf = v;
    s->status = (s->status & ~(ST_AUXDATA | ST_TIMEOUT)) | ST_OBF | (aux ? ST_AUXDATA : 0) |
                (timeout ? ST_TIMEOUT : 0);
    update_irq(s);
}

/* An empty output buffer takes the next keyboard byte, else the next
 * mouse byte, from devices whose interface is enabled. */
static void kick(i8042 *s)
{
    uint8_t v;

    if (s->status & ST_OBF) {
        return;
    }
    if (!(s->ctr & CTR_KBDDIS) && ps2_queue_peek(&s->kbd.q, &v)) {
        ps2_queue_drop(&s->kbd.q);
        put(s, v, false, false);
    } else if (!(s->ctr & CTR_AUXDIS) && ps2_queue_peek(&s->mouse.q, &v)) {
        ps2_queue_drop(&s->mouse.q);
        put(s, v, true, false);
    }
}

static void reset_requested(const char *why)
{
    H->log(TES_LOG_TRACE, "i8042: system reset (%s)", why);
    H->request_reset();
}

static void command(i8042 *s, uint8_t cmd)
{
    switch (cmd) {
    case 0x20: put(s, s->ctr, false, false); break;
    case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4: s->pending = cmd; break;
    case 0xa7: s->ctr |= CTR_AUXDIS; break;
    case 0xa8: s->ctr &= ~CTR_AUXDIS; kick(s); break;
    case 0xa9: case 0xab: put(s, 0x00, false, false); break;
    case 0xaa: s->status |= ST_SYS; put(s, 0x55, false, false); break;
    case 0xad: s->ctr |= CTR_KBDDIS; break;
    case 0xae: s->ctr &= ~CTR_KBDDIS; kick(s); break;
    case 0xc0: put(s, 0x00, false, false); break;
    case 0xd0: put(s, s->outport, false, false); break;
    case 0xdd: case 0xdf: break;
    default:
        if (cmd >= 0xf0) {
            if (!(cmd & 1)) {
                reset_requested("pulse command");
            }
            break;
        }
        H->log(TES_LOG_UNIMP, "i8042: command 0x%02x ignored", cmd);
        break;
    }
}

static void data(i8042 *s, uint8_t v)
{
    uint8_t cmd = s->pending;

    s->pending = 0;
    switch (cmd) {
    case 0x60:
        s->ctr = v;
        update_irq(s);
        kick(s);
        break;
    case 0xd1:
        s->outport = v;
        if (!(v & 1)) {
            reset_requested("output port");
        }
        break;
    case 0xd2: put(s, v, false, false); break;
    case 0xd3: put(s, v, true, false); break;
    case 0xd4: ps2_mouse_write(&s->mouse, v); break;
    default: ps2_kbd_write(&s->kbd, v, s->ctr & CTR_XLAT); break;
    }
    kick(s);
}

static uint64_t data_read(void *opaque, uint64_t off, unsigned size)
{
    i8042 *s = opaque;

    uint8_t v = s->obuf;

    trace_pckbd_kbd_read_data(v);
    s->status &= ~(ST_OBF | ST_AUXDATA | ST_TIMEOUT);
    update_irq(s);
    kick(s);
    return v;
}

static void data_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    i8042 *s = opaque;

    trace_pckbd_kbd_write_data(val);
    s->status &= ~ST_CMD;
    data(s, val);
}

static uint64_t cmd_read(void *opaque, uint64_t off, unsigned size)
{
    i8042 *s = opaque;

    trace_pckbd_kbd_read_status(s->status);
    return s->status;
}

static void cmd_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    i8042 *s = opaque;

    trace_pckbd_kbd_write_command(val);
    s->status |= ST_CMD;
    command(s, val);
}

static const tes_mem_ops data_ops = {
    .size = sizeof(tes_mem_ops), .read = data_read, .write = data_write,
    .endian = TES_ENDIAN_LITTLE, .valid_min = 1, .valid_max = 1, .impl_min = 1, .impl_max = 1,
};

static const tes_mem_ops cmd_ops = {
    .size = sizeof(tes_mem_ops), .read = cmd_read, .write = cmd_write,
    .endian = TES_ENDIAN_LITTLE, .valid_min = 1, .valid_max = 1, .impl_min = 1, .impl_max = 1,
};

static void i8042_reset(tes_device *dev, void *opaque)
{
    i8042 *s = opaque;

    s->status = ST_SYS | ST_UNLOCKED;
    /* Interrupts on, system flag, translation on: what PC firmware
     * leaves (Linux drives the keyboard raw without XLAT). */
    s->ctr = CTR_KBDINT | CTR_AUXINT | 0x04 | CTR_XLAT;
    s->outport = 0x03; /* reset line inactive, A20 on */
    s->obuf = s->pending = 0;
    ps2_kbd_reset(&s->kbd);
    ps2_mouse_reset(&s->mouse);
    update_irq(s);
}

static void kbd_event(void *opaque, const tes_input_event *ev)
{
    i8042 *s = opaque;

    ps2_kbd_event(&s->kbd, ev, s->ctr & CTR_XLAT);
    kick(s);
}

static void mouse_event(void *opaque, const tes_input_event *ev)
{
    i8042 *s = opaque;

    ps2_mouse_event(&s->mouse, ev);
    kick(s);
}

static const tes_input_ops kbd_input_ops = {.size = sizeof(tes_input_ops), .event = kbd_event};
static const tes_input_ops mouse_input_ops = {.size = sizeof(tes_input_ops),
                                              .event = mouse_event};

static int i8042_realize(tes_device *dev, void *opaque)
{
    i8042 *s = opaque;
    tes_region *io = H->system_io();

    s->dev = dev;
    H->dev_init_irqs(dev, 2);
    if (H->size >= offsetof(tes_host, input_handler_activate) + sizeof(void *)) {
        s->kbd.h = H->input_handler_new(dev, TES_INPUT_KIND_KEYBOARD, &kbd_input_ops, s);
        s->mouse.h = H->input_handler_new(dev, TES_INPUT_KIND_MOUSE, &mouse_input_ops, s);
    }
    /* One 5-port region would cover 0x61-0x63 (the PIT's port 0x61): two. */
    H->region_add(io, 0x60, H->region_new_io(dev, "i8042-data", 1, &data_ops, s), 0);
    H->region_add(io, 0x64, H->region_new_io(dev, "i8042-cmd", 1, &cmd_ops, s), 0);
    i8042_reset(dev, s);
    return 0;
}

#define V2(f, kind, n) {#f, kind, offsetof(i8042, f), n, 2}

static const tes_state_field i8042_fields[] = {
    TES_FIELD_U8(i8042, status), TES_FIELD_U8(i8042, ctr), TES_FIELD_U8(i8042, outport),
    TES_FIELD_U8(i8042, obuf), TES_FIELD_U8(i8042, pending),
    /* Version 2: the keyboard and the mouse. */
    V2(kbd.q.data, TES_FIELD_BYTES, PS2_QUEUE_SIZE), V2(kbd.q.rptr, TES_FIELD_U16, 0),
    V2(kbd.q.count, TES_FIELD_U16, 0), V2(kbd.scan_enabled, TES_FIELD_U8, 0),
    V2(kbd.set, TES_FIELD_U8, 0), V2(kbd.leds, TES_FIELD_U8, 0),
    V2(kbd.pending, TES_FIELD_U8, 0),
    V2(mouse.q.data, TES_FIELD_BYTES, PS2_QUEUE_SIZE), V2(mouse.q.rptr, TES_FIELD_U16, 0),
    V2(mouse.q.count, TES_FIELD_U16, 0), V2(mouse.enabled, TES_FIELD_U8, 0),
    V2(mouse.remote, TES_FIELD_U8, 0), V2(mouse.scaling21, TES_FIELD_U8, 0),
    V2(mouse.wrap, TES_FIELD_U8, 0), V2(mouse.rate, TES_FIELD_U8, 0),
    V2(mouse.res, TES_FIELD_U8, 0), V2(mouse.type, TES_FIELD_U8, 0),
    V2(mouse.detect, TES_FIELD_U8, 0), V2(mouse.pending, TES_FIELD_U8, 0),
    V2(mouse.buttons, TES_FIELD_U8, 0),
    TES_FIELD_END,
};

/* A queue or a mode from the stream must be one this code can hold. */
static int i8042_post_load(tes_device *dev, void *opaque, uint32_t version)
{
    i8042 *s = opaque;

    if (!ps2_queue_valid(&s->kbd.q) || !ps2_queue_valid(&s->mouse.q) || s->kbd.set < 1 ||
        s->kbd.set > 2 || (s->mouse.type != 0 && s->mouse.type != 3 && s->mouse.type != 4)) {
        return -EINVAL;
    }
    s->mouse.dx = s->mouse.dy = s->mouse.dz = 0;
    return 0;
}

static const tes_state_info i8042_state = {
    .size = sizeof(tes_state_info),
    .version = 2,
    .min_version = 1,
    .fields = i8042_fields,
    .post_load = i8042_post_load,
};

const tes_type_info i8042_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "i8042",
    .flags = TES_TYPE_NO_USER, /* created by its board or host bridge */
    .desc = "PC keyboard controller with a PS/2 keyboard and mouse",
    .instance_size = sizeof(i8042),
    .realize = i8042_realize,
    .reset = i8042_reset,
    .state = &i8042_state,
};
