/*
 * Input routing: keyboard, mouse and tablet models register handlers
 * (host->input_handler_new, SDK 1.7 input.h); frontends and the monitor
 * send Linux input events, which go to one handler per kind. The one the
 * guest activated last wins, else the first registered: QEMU's
 * qemu_input_find_handler over a list that activation reorders. Runs with
 * the core lock held.
 */
#include "core.h"
#include "input.h"

struct tes_input {
    tes_device *dev;
    unsigned kinds;
    tes_input_ops ops;
    void *opaque;
};

/* Handlers, the one to use first at the front. */
static GPtrArray *handlers;
/* Kinds that received an event since the last sync: they get the SYN. */
static unsigned pending_kinds;

tes_input *input_handler_new(tes_device *dev, unsigned kinds, const tes_input_ops *ops,
                             void *opaque)
{
    tes_input *h;
    unsigned all = TES_INPUT_KIND_KEYBOARD | TES_INPUT_KIND_MOUSE | TES_INPUT_KIND_TABLET;

    if (!dev || !ops || ops->size < offsetof(tes_input_ops, event) + sizeof(void *) ||
        !ops->event || !(kinds & all) || (kinds & ~all)) {
        core_log(TES_LOG_PLUGIN, "input_handler_new: %s with a bad ops table or kinds 0x%x",
                 dev ? dev->name : "(no device)", kinds);
        return NULL;
    }
    h = g_new0(tes_input, 1);
    h->dev = dev;
    h->kinds = kinds;
    h->ops = *ops;
    h->opaque = opaque;
    if (!handlers) {
        handlers = g_ptr_array_new();
    }
    g_ptr_array_add(handlers, h);
    return h;
}

void input_handler_activate(tes_input *h)
{
    if (h && handlers && g_ptr_array_remove(handlers, h)) {
        g_ptr_array_insert(handlers, 0, h);
    }
}

void input_dev_free(tes_device *dev)
{
    for (guint i = handlers ? handlers->len : 0; i-- > 0;) {
        tes_input *h = g_ptr_array_index(handlers, i);

        if (h->dev == dev) {
            g_ptr_array_remove_index(handlers, i);
            g_free(h);
        }
    }
}

static tes_input *find(unsigned kind)
{
    for (guint i = 0; handlers && i < handlers->len; i++) {
        tes_input *h = g_ptr_array_index(handlers, i);

        if (h->kinds & kind) {
            return h;
        }
    }
    return NULL;
}

/* To the first handler taking any kind in mask. */
static void send(unsigned mask, uint16_t type, uint16_t code, int32_t value)
{
    tes_input *h = find(mask);
    tes_input_event ev = {.type = type, .code = code, .value = value};

    if (h) {
        h->ops.event(h->opaque, &ev);
        pending_kinds |= h->kinds & mask;
    }
}

/* Linux numbers mouse buttons BTN_MOUSE (0x110) .. 0x117, so do we. */
static bool is_pointer_button(uint16_t code)
{
    return code >= 0x110 && code <= 0x117;
}

/* Buttons go with the pointer that comes first, mouse or tablet. */
void input_key(uint16_t code, bool down)
{
    send(is_pointer_button(code) ? TES_INPUT_KIND_MOUSE | TES_INPUT_KIND_TABLET
                                 : TES_INPUT_KIND_KEYBOARD,
         TES_INPUT_KEY, code, down);
}

/* Linux's REL_HWHEEL (6) and REL_WHEEL (8). */
static bool is_wheel(uint16_t axis)
{
    return axis == 0x06 || axis == 0x08;
}

/* Motion goes to a mouse; the wheel, like the buttons, to the pointer
 * that comes first, mouse or tablet: QEMU's wheel is a button event, and
 * its virtio-tablet reports REL_WHEEL itself (so does ours). */
void input_rel(uint16_t axis, int32_t delta)
{
    send(is_wheel(axis) ? TES_INPUT_KIND_MOUSE | TES_INPUT_KIND_TABLET : TES_INPUT_KIND_MOUSE,
         TES_INPUT_REL, axis, delta);
}

void input_abs(uint16_t axis, int32_t value)
{
    value = value < 0 ? 0 : value > TES_INPUT_ABS_MAX ? TES_INPUT_ABS_MAX : value;
    send(TES_INPUT_KIND_TABLET, TES_INPUT_ABS, axis, value);
}

bool input_has_tablet(void)
{
    return find(TES_INPUT_KIND_TABLET) != NULL;
}

void input_sync(void)
{
    static const unsigned kinds[] = {TES_INPUT_KIND_KEYBOARD, TES_INPUT_KIND_MOUSE,
                                     TES_INPUT_KIND_TABLET};
    tes_input *done[3] = {NULL, NULL, NULL};

    /* One SYN per handler that got events, even if it serves two kinds. */
    for (unsigned i = 0; i < 3; i++) {
        tes_input *h = (pending_kinds & kinds[i]) ? find(kinds[i]) : NULL;
        tes_input_event ev = {.type = TES_INPUT_SYN};

        if (h && h != done[0] && h != done[1]) {
            h->ops.event(h->opaque, &ev);
            done[i] = h;
        }
    }
    pending_kinds = 0;
}
