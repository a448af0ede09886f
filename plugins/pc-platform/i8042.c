/*
 * i8042: the PC keyboard controller with no keyboard or mouse behind it,
 * enough for reset and for Linux's i8042 driver to find no device.
 *
 * User manual
 *
 *   -device i8042   (the q35 machine creates it)
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
 * the aux device, 0xDD / 0xDF A20 (ignored: A20 is always on), 0xF0-0xFF
 * pulse output lines (bit 0 clear pulses reset: 0xFE is Linux's reboot
 * method "kbd"). Bytes for the keyboard or the mouse find no device: the
 * controller answers 0xFF with the timeout bit, as a real 8042 does.
 */
#include "pc-platform.h"

#define ST_OBF 0x01
#define ST_SYS 0x04
#define ST_CMD 0x08
#define ST_UNLOCKED 0x10
#define ST_AUXDATA 0x20
#define ST_TIMEOUT 0x40

#define CTR_KBDINT 0x01
#define CTR_AUXINT 0x02

typedef struct i8042 {
    tes_device *dev;
    uint8_t status, ctr, outport;
    uint8_t obuf;      /* output buffer, valid while status has OBF */
    uint8_t pending;   /* command waiting for its data byte, 0 none */
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
    case 0xa7: s->ctr |= 0x20; break;
    case 0xa8: s->ctr &= ~0x20; break;
    case 0xa9: case 0xab: put(s, 0x00, false, false); break;
    case 0xaa: s->status |= ST_SYS; put(s, 0x55, false, false); break;
    case 0xad: s->ctr |= 0x10; break;
    case 0xae: s->ctr &= ~0x10; break;
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
        break;
    case 0xd1:
        s->outport = v;
        if (!(v & 1)) {
            reset_requested("output port");
        }
        break;
    case 0xd2: put(s, v, false, false); break;
    case 0xd3: put(s, v, true, false); break;
    case 0xd4: put(s, 0xff, true, true); break; /* no mouse */
    default: put(s, 0xff, false, true); break;  /* no keyboard */
    }
}

static uint64_t data_read(void *opaque, uint64_t off, unsigned size)
{
    i8042 *s = opaque;

    s->status &= ~(ST_OBF | ST_AUXDATA | ST_TIMEOUT);
    update_irq(s);
    return s->obuf;
}

static void data_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    i8042 *s = opaque;

    s->status &= ~ST_CMD;
    data(s, val);
}

static uint64_t cmd_read(void *opaque, uint64_t off, unsigned size)
{
    i8042 *s = opaque;

    return s->status;
}

static void cmd_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    i8042 *s = opaque;

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
    s->ctr = CTR_KBDINT | CTR_AUXINT | 0x04; /* interrupts on, system flag */
    s->outport = 0x03; /* reset line inactive, A20 on */
    s->obuf = s->pending = 0;
    update_irq(s);
}

static int i8042_realize(tes_device *dev, void *opaque)
{
    i8042 *s = opaque;
    tes_region *io = H->system_io();

    s->dev = dev;
    H->dev_init_irqs(dev, 2);
    /* One 5-port region would cover 0x61-0x63 (the PIT's port 0x61): two. */
    H->region_add(io, 0x60, H->region_new_io(dev, "i8042-data", 1, &data_ops, s), 0);
    H->region_add(io, 0x64, H->region_new_io(dev, "i8042-cmd", 1, &cmd_ops, s), 0);
    i8042_reset(dev, s);
    return 0;
}

static const tes_state_field i8042_fields[] = {
    TES_FIELD_U8(i8042, status), TES_FIELD_U8(i8042, ctr), TES_FIELD_U8(i8042, outport),
    TES_FIELD_U8(i8042, obuf), TES_FIELD_U8(i8042, pending),
    TES_FIELD_END,
};

static const tes_state_info i8042_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = i8042_fields,
};

const tes_type_info i8042_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "i8042",
    .flags = TES_TYPE_NO_USER, /* created by its board or host bridge */
    .desc = "PC keyboard controller (no keyboard or mouse attached)",
    .instance_size = sizeof(i8042),
    .realize = i8042_realize,
    .reset = i8042_reset,
    .state = &i8042_state,
};
