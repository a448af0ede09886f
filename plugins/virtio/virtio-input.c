/*
 * virtio-input: keyboard, mouse and tablet (virtio 1.2 section 5.8), with
 * the identities and event bits of QEMU's virtio-input-hid models, so a
 * guest sees "QEMU Virtio Keyboard" and friends.
 *
 * User manual
 *
 *   -device virtio-keyboard-pci | virtio-mouse-pci | virtio-tablet-pci
 *   -device virtio-keyboard-device,bus=virtio-mmio-bus.N (and -mouse-,
 *    -tablet-)
 *
 * Events come from the window, VNC or the monitor (send-key,
 * input-send-event) through the core's input routing; a device takes them
 * once its driver is up (DRIVER_OK makes it the active one of its kind).
 * The eventq carries 8-byte virtio_input_event records; a group of
 * events (up to and with its SYN) goes out whole or, when the driver has
 * not posted enough buffers, is dropped whole, as QEMU drops it. The
 * statusq's LED and repeat events are taken and ignored.
 *
 * Trace points: virtio_input_event (each record sent to the guest),
 * virtio_input_queue_full (a group dropped, QEMU's), virtio_input_status
 * (the statusq's entries), virtio_input_config (select/subsel written).
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "virtio-int.h"
#include "virtio-trace.h"

#define VIRTIO_ID_INPUT 18
#define INPUT_QUEUE_SIZE 64
#define MAX_GROUP 64 /* events held until their SYN */

/* Config selectors (virtio 1.2, 5.8.4). */
#define CFG_UNSET 0x00
#define CFG_ID_NAME 0x01
#define CFG_ID_SERIAL 0x02
#define CFG_ID_DEVIDS 0x03
#define CFG_PROP_BITS 0x10
#define CFG_EV_BITS 0x11
#define CFG_ABS_INFO 0x12
#define CFG_SIZE 136 /* select, subsel, size, reserved[5], u[128] */
#define CFG_U 8

/* Linux event types and codes (linux/input-event-codes.h). */
#define EV_SYN 0x00
#define EV_KEY 0x01
#define EV_REL 0x02
#define EV_ABS 0x03
#define EV_LED 0x11
#define EV_REP 0x14
#define BTN_LEFT 0x110
#define BTN_EXTRA 0x114
#define REL_X 0x00
#define REL_Y 0x01
#define REL_HWHEEL 0x06
#define REL_WHEEL 0x08
#define ABS_X 0x00
#define ABS_Y 0x01
#define BUS_VIRTUAL 0x06

typedef enum vin_kind { VIN_KEYBOARD, VIN_MOUSE, VIN_TABLET } vin_kind;

typedef struct vin_event {
    uint16_t type, code;
    uint32_t value;
} vin_event;

typedef struct vinput {
    tes_device *dev;
    tes_virtio *vdev;
    tes_input *handler;
    vin_kind kind;
    uint8_t select, subsel;
    /* Events of the group not yet ended by a SYN. */
    uint32_t nqueued;
    vin_event queued[MAX_GROUP];
    bool overflow; /* the group outgrew MAX_GROUP: dropped at its SYN */
} vinput;

static const struct {
    const char *name;
    uint16_t product;
    unsigned kinds;
} kinds[] = {
    [VIN_KEYBOARD] = {"QEMU Virtio Keyboard", 0x0001, TES_INPUT_KIND_KEYBOARD},
    [VIN_MOUSE] = {"QEMU Virtio Mouse", 0x0002, TES_INPUT_KIND_MOUSE},
    [VIN_TABLET] = {"QEMU Virtio Tablet", 0x0003, TES_INPUT_KIND_TABLET},
};

static void set_bit(uint8_t *map, unsigned bit)
{
    map[bit / 8] |= 1u << (bit % 8);
}

/* The keys a keyboard reports: Linux's KEY_ESC..KEY_F24 and the two
 * beyond that the monitor's key names reach (KEY_PRINT, KEY_MEDIA). */
static void key_bits(uint8_t *map)
{
    for (unsigned k = 1; k <= 194; k++) {
        set_bit(map, k);
    }
    set_bit(map, 210);
    set_bit(map, 226);
}

/* EV_BITS for event type ev: the bitmap into u, its size in bytes. */
static uint8_t ev_bits(const vinput *v, uint8_t ev, uint8_t *u)
{
    bool pointer = v->kind != VIN_KEYBOARD;

    switch (ev) {
    case EV_KEY:
        if (!pointer) {
            key_bits(u);
            return 226 / 8 + 1;
        }
        for (unsigned b = BTN_LEFT; b <= BTN_EXTRA; b++) {
            set_bit(u, b);
        }
        return BTN_EXTRA / 8 + 1;
    case EV_REL:
        if (!pointer) {
            return 0;
        }
        if (v->kind == VIN_MOUSE) {
            set_bit(u, REL_X);
            set_bit(u, REL_Y);
        }
        set_bit(u, REL_HWHEEL);
        set_bit(u, REL_WHEEL);
        return REL_WHEEL / 8 + 1;
    case EV_ABS:
        if (v->kind != VIN_TABLET) {
            return 0;
        }
        set_bit(u, ABS_X);
        set_bit(u, ABS_Y);
        return 1;
    case EV_LED:
        if (pointer) {
            return 0;
        }
        u[0] = 0x7; /* LED_NUML, LED_CAPSL, LED_SCROLLL */
        return 1;
    case EV_REP:
        return pointer ? 0 : 1; /* present (empty): the guest repeats keys */
    default:
        return 0;
    }
}

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    put_le16(p, (uint16_t)v);
    put_le16(p + 2, (uint16_t)(v >> 16));
}

/* The config space for the current select/subsel. */
static void build_config(const vinput *v, uint8_t *cfg)
{
    uint8_t *u = cfg + CFG_U;
    size_t size = 0;

    memset(cfg, 0, CFG_SIZE);
    cfg[0] = v->select;
    cfg[1] = v->subsel;
    switch (v->select) {
    case CFG_ID_NAME:
        if (v->subsel == 0) {
            size = strlen(kinds[v->kind].name);
            memcpy(u, kinds[v->kind].name, size);
        }
        break;
    case CFG_ID_DEVIDS:
        if (v->subsel == 0) {
            put_le16(u, BUS_VIRTUAL);
            put_le16(u + 2, 0x0627); /* QEMU's vendor id for its HID devices */
            put_le16(u + 4, kinds[v->kind].product);
            put_le16(u + 6, 0x0001);
            size = 8;
        }
        break;
    case CFG_EV_BITS:
        size = ev_bits(v, v->subsel, u);
        break;
    case CFG_ABS_INFO:
        if (v->kind == VIN_TABLET && (v->subsel == ABS_X || v->subsel == ABS_Y)) {
            put_le32(u, 0);                      /* min */
            put_le32(u + 4, TES_INPUT_ABS_MAX);  /* max; fuzz, flat, res 0 */
            size = 20;
        }
        break;
    default: /* UNSET, ID_SERIAL (no serial), PROP_BITS (none) */
        break;
    }
    cfg[2] = (uint8_t)size;
}

static void vin_config_read(void *opaque, uint32_t off, void *buf, uint32_t len)
{
    uint8_t cfg[CFG_SIZE];

    build_config(opaque, cfg);
    memcpy(buf, cfg + off, len);
}

/* Only select and subsel are writable. */
static void vin_config_write(void *opaque, uint32_t off, const void *buf, uint32_t len)
{
    vinput *v = opaque;
    const uint8_t *b = buf;

    for (uint32_t i = 0; i < len; i++) {
        if (off + i == 0) {
            v->select = b[i];
        } else if (off + i == 1) {
            v->subsel = b[i];
        }
    }
    if (off < 2) {
        trace_virtio_input_config(v->select, v->subsel);
    }
}

static bool driver_ok(vinput *v)
{
    return virtio_ops.status(v->vdev) & TES_VIRTIO_S_DRIVER_OK;
}

/* An 8-byte record into the chain's device-writable buffers; the bytes
 * written. */
static uint32_t iov_from(tes_virtio_elem *e, const uint8_t *rec)
{
    size_t done = 0;

    for (unsigned i = 0; i < e->in_num && done < 8; i++) {
        size_t n = e->in[i].iov_len < 8 - done ? e->in[i].iov_len : 8 - done;

        memcpy(e->in[i].iov_base, rec + done, n);
        done += n;
    }
    return (uint32_t)done;
}

/* Send the held group and its SYN whole, or drop it all. */
static void flush_group(vinput *v)
{
    tes_virtq *vq = virtio_ops.queue(v->vdev, 0);
    tes_virtio_elem *e[MAX_GROUP + 1];
    uint32_t n = v->nqueued + 1, got = 0;

    v->queued[v->nqueued] = (vin_event){EV_SYN, 0, 0};
    while (got < n && (e[got] = virtio_ops.pop(vq, 0))) {
        got++;
    }
    if (got < n) {
        while (got > 0) {
            vq_rewind(vq, e[--got]);
        }
        trace_virtio_input_queue_full();
        return; /* no room: the group is lost, as on QEMU */
    }
    for (uint32_t i = 0; i < n; i++) {
        uint8_t rec[8];

        put_le16(rec, v->queued[i].type);
        put_le16(rec + 2, v->queued[i].code);
        put_le32(rec + 4, v->queued[i].value);
        trace_virtio_input_event(v->queued[i].type, v->queued[i].code, v->queued[i].value);
        /* A buffer shorter than a record gets what fits, as on QEMU. */
        virtio_ops.push(vq, e[i], iov_from(e[i], rec));
    }
    virtio_ops.notify(vq);
}

static void vin_event_cb(void *opaque, const tes_input_event *ev)
{
    vinput *v = opaque;

    if (ev->type != TES_INPUT_SYN) {
        if (v->nqueued < MAX_GROUP) {
            v->queued[v->nqueued++] = (vin_event){ev->type, ev->code, (uint32_t)ev->value};
        } else {
            v->overflow = true;
        }
        return;
    }
    if (v->nqueued && !v->overflow && driver_ok(v)) {
        flush_group(v);
    }
    v->nqueued = 0;
    v->overflow = false;
}

/* A statusq entry's record (zeros past a short chain), for the trace. */
static void trace_status(const tes_virtio_elem *e)
{
    uint8_t rec[8] = {0};
    size_t done = 0;

    for (unsigned i = 0; i < e->out_num && done < 8; i++) {
        size_t n = e->out[i].iov_len < 8 - done ? e->out[i].iov_len : 8 - done;

        memcpy(rec + done, e->out[i].iov_base, n);
        done += n;
    }
    trace_virtio_input_status((uint16_t)(rec[0] | rec[1] << 8), (uint16_t)(rec[2] | rec[3] << 8),
                              (uint32_t)rec[4] | (uint32_t)rec[5] << 8 |
                                  (uint32_t)rec[6] << 16 | (uint32_t)rec[7] << 24);
}

/* statusq: LED and repeat-rate events from the driver, taken and ignored
 * (nothing here shows LEDs). */
static void vin_handle_queue(void *opaque, tes_virtq *vq, unsigned index)
{
    tes_virtio_elem *e;
    bool pushed = false;

    if (index != 1) {
        return; /* eventq kicks: buffers are taken when events come */
    }
    while ((e = virtio_ops.pop(vq, 0))) {
        trace_status(e);
        virtio_ops.push(vq, e, 0);
        pushed = true;
    }
    if (pushed) {
        virtio_ops.notify(vq);
    }
}

static void vin_set_status(void *opaque, uint8_t status)
{
    vinput *v = opaque;

    if (status & TES_VIRTIO_S_DRIVER_OK) {
        H->input_handler_activate(v->handler);
    }
}

static void vin_reset(void *opaque)
{
    vinput *v = opaque;

    v->select = v->subsel = 0;
    v->nqueued = 0;
    v->overflow = false;
}

/* select, subsel, the held group (a group in flight crosses over). */
static int vin_save(void *opaque, tes_stream *out)
{
    vinput *v = opaque;

    put_u64(out, v->select | (uint64_t)v->subsel << 8 | (uint64_t)v->overflow << 16 |
                     (uint64_t)v->nqueued << 32);
    for (uint32_t i = 0; i < v->nqueued; i++) {
        put_u64(out, v->queued[i].type | (uint64_t)v->queued[i].code << 16 |
                         (uint64_t)v->queued[i].value << 32);
    }
    return 0;
}

static int vin_load(void *opaque, tes_stream *in)
{
    vinput *v = opaque;
    uint64_t w;
    int ret = get_u64(in, &w);

    if (ret < 0) {
        return ret;
    }
    if ((w >> 32) > MAX_GROUP) {
        return -EINVAL;
    }
    v->select = (uint8_t)w;
    v->subsel = (uint8_t)(w >> 8);
    v->overflow = (w >> 16) & 1;
    v->nqueued = (uint32_t)(w >> 32);
    for (uint32_t i = 0; i < v->nqueued; i++) {
        if ((ret = get_u64(in, &w)) < 0) {
            v->nqueued = 0;
            return ret;
        }
        v->queued[i] = (vin_event){(uint16_t)w, (uint16_t)(w >> 16), (uint32_t)(w >> 32)};
    }
    if (driver_ok(v)) {
        H->input_handler_activate(v->handler); /* in use on the source */
    }
    return 0;
}

static const tes_virtio_dev_ops vin_ops = {
    .size = sizeof(tes_virtio_dev_ops),
    .config_read = vin_config_read,
    .config_write = vin_config_write,
    .handle_queue = vin_handle_queue,
    .reset = vin_reset,
    .set_status = vin_set_status,
    .save = vin_save,
    .load = vin_load,
};

static const tes_input_ops vin_input_ops = {
    .size = sizeof(tes_input_ops),
    .event = vin_event_cb,
};

static int vin_realize(tes_device *dev, vinput *v, vin_kind kind)
{
    tes_virtio_dev_info info = {.size = sizeof(info), .device_id = VIRTIO_ID_INPUT,
                                .num_queues = 2, .queue_size = INPUT_QUEUE_SIZE,
                                .config_size = CFG_SIZE, .ops = &vin_ops, .opaque = v};

    if (H->size < offsetof(tes_host, input_handler_activate) + sizeof(void *)) {
        H->error(dev, "virtio-input needs a core with input handlers (SDK 1.7)");
        return -ENOTSUP;
    }
    v->dev = dev;
    v->kind = kind;
    v->handler = H->input_handler_new(dev, kinds[kind].kinds, &vin_input_ops, v);
    if (!v->handler) {
        return -EINVAL;
    }
    v->vdev = virtio_ops.plug(dev, &info);
    return v->vdev ? 0 : -EINVAL;
}

static int kbd_realize(tes_device *dev, void *s)
{
    return vin_realize(dev, s, VIN_KEYBOARD);
}

static int mouse_realize(tes_device *dev, void *s)
{
    return vin_realize(dev, s, VIN_MOUSE);
}

static int tablet_realize(tes_device *dev, void *s)
{
    return vin_realize(dev, s, VIN_TABLET);
}

static void vin_unrealize(tes_device *dev, void *s)
{
    vinput *v = s;

    if (v->vdev) {
        virtio_ops.unplug(v->vdev);
    }
}

/* The state travels with the transport (vin_save/vin_load above). */
static const tes_state_info vin_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
};

#define VIN_DEVICE_TYPE(var, tname, tdesc, fn)                                                   \
    const tes_type_info var = {                                                                \
        .size = sizeof(tes_type_info),                                                         \
        .kind = TES_KIND_DEVICE,                                                               \
        .name = tname,                                                                         \
        .desc = tdesc,                                                                         \
        .bus = TES_VIRTIO_BUS,                                                                 \
        .instance_size = sizeof(vinput),                                                       \
        .realize = fn,                                                                         \
        .unrealize = vin_unrealize,                                                            \
        .state = &vin_state,                                                                   \
    }

VIN_DEVICE_TYPE(virtio_keyboard_device_type, "virtio-keyboard-device", "virtio keyboard",
                kbd_realize);
VIN_DEVICE_TYPE(virtio_mouse_device_type, "virtio-mouse-device", "virtio mouse",
                mouse_realize);
VIN_DEVICE_TYPE(virtio_tablet_device_type, "virtio-tablet-device",
                "virtio tablet (absolute pointer)", tablet_realize);

/* ---- the PCI types: virtio-pci carrying one of the above ---- */

static int pci_realize(tes_device *dev, void *s, const char *vdev_type)
{
    vpci_proxy *px = s;

    px->proxy = vpci_new(dev, vdev_type, NULL);
    return px->proxy ? 0 : -EINVAL;
}

static int kbd_pci_realize(tes_device *dev, void *s)
{
    return pci_realize(dev, s, virtio_keyboard_device_type.name);
}

static int mouse_pci_realize(tes_device *dev, void *s)
{
    return pci_realize(dev, s, virtio_mouse_device_type.name);
}

static int tablet_pci_realize(tes_device *dev, void *s)
{
    return pci_realize(dev, s, virtio_tablet_device_type.name);
}

/* QEMU's virtio-input-pci: modern-only id 0x1052, class "other input". */
static const tes_pci_info vin_pci_info = {
    .size = sizeof(tes_pci_info),
    .vendor_id = 0x1af4,
    .device_id = 0x1040 + VIRTIO_ID_INPUT,
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = 0x1100,
    .revision = 1,
    .class_id = 0x0980,
    .irq_pin = 1,
};

#define VIN_PCI_TYPE(var, tname, tdesc, fn)                                                      \
    const tes_type_info var = {                                                                \
        .size = sizeof(tes_type_info),                                                         \
        .kind = TES_KIND_DEVICE,                                                               \
        .name = tname,                                                                         \
        .desc = tdesc,                                                                         \
        .bus = TES_BUS_PCI,                                                                    \
        .instance_size = sizeof(vpci_proxy),                                                   \
        .realize = fn,                                                                         \
        .unrealize = vpci_proxy_unrealize,                                                     \
        .reset = vpci_proxy_reset,                                                             \
        .state = &vpci_proxy_state,                                                            \
        .class_info = &vin_pci_info,                                                           \
    }

VIN_PCI_TYPE(virtio_keyboard_pci_type, "virtio-keyboard-pci", "virtio keyboard over PCI",
             kbd_pci_realize);
VIN_PCI_TYPE(virtio_mouse_pci_type, "virtio-mouse-pci", "virtio mouse over PCI",
             mouse_pci_realize);
VIN_PCI_TYPE(virtio_tablet_pci_type, "virtio-tablet-pci", "virtio tablet over PCI",
             tablet_pci_realize);
