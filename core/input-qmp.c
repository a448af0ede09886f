/*
 * The monitor's input commands: QMP send-key and input-send-event, HMP
 * sendkey. They feed core/input.c as a window would.
 *
 * send-key presses the keys in order and releases them in reverse, with a
 * delay after every event: hold-time when given, else 10 ms (QEMU's
 * kbd_default_delay_ms: its qmp_send_key passes hold-time to
 * qemu_input_event_send_key_delay after each event, 0 meaning that
 * default). The delays run on the real-time clock (a GLib timeout) from a
 * queue, so a second send-key waits for the first, as QEMU's key queue
 * does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "input-qmp.h"
#include "input.h"

#define DEFAULT_DELAY_MS 10
#define MAX_HOLD_MS 60000 /* a bound: a day-long hold-time is a mistake */
#define MAX_QUEUE 4096    /* pending key steps; QEMU bounds its queue too */

/* Linux button codes and axes (linux/input-event-codes.h). */
#define BTN_LEFT 0x110
#define BTN_RIGHT 0x111
#define BTN_MIDDLE 0x112
#define BTN_SIDE 0x113
#define BTN_EXTRA 0x114
#define REL_WHEEL 0x08
#define REL_HWHEEL 0x06

typedef struct key_step {
    uint16_t code;
    bool down;
    unsigned delay_ms; /* after this event */
} key_step;

static GQueue steps = G_QUEUE_INIT;
static guint step_timer;

static void run_steps(void);

static gboolean step_timeout(gpointer opaque)
{
    core_lock();
    step_timer = 0;
    run_steps();
    core_unlock();
    return G_SOURCE_REMOVE;
}

/* Send queued keys until one asks for a delay. */
static void run_steps(void)
{
    key_step *s;

    while (!step_timer && (s = g_queue_pop_head(&steps))) {
        input_key(s->code, s->down);
        input_sync();
        if (s->delay_ms) {
            step_timer = g_timeout_add(s->delay_ms, step_timeout, NULL);
        }
        g_free(s);
    }
}

static void queue_key(uint16_t code, bool down, unsigned delay_ms)
{
    key_step *s = g_new(key_step, 1);

    s->code = code;
    s->down = down;
    s->delay_ms = delay_ms;
    g_queue_push_tail(&steps, s);
}

static JsonNode *empty_object(void)
{
    JsonNode *n = json_node_alloc();

    json_node_take_object(n, json_object_new());
    return n;
}

static bool node_is(JsonNode *n, GType t)
{
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == t;
}

/* A KeyValue {"type": "qcode"|"number", "data": ...} to a Linux code:
 * 0 for a number QEMU knows no key for (sent as nothing, as QEMU's
 * unmapped key), -1 after setting *err. */
static int key_value(JsonNode *kv, char **err)
{
    JsonObject *o = kv && JSON_NODE_HOLDS_OBJECT(kv) ? json_node_get_object(kv) : NULL;
    JsonNode *type = o ? json_object_get_member(o, "type") : NULL;
    JsonNode *data = o ? json_object_get_member(o, "data") : NULL;
    const char *t = node_is(type, G_TYPE_STRING) ? json_node_get_string(type) : NULL;
    int code;

    if (!o || !t) {
        core_set_error(err, "Parameter 'type' is missing");
        return -1;
    }
    if (!strcmp(t, "number")) {
        if (!node_is(data, G_TYPE_INT64)) {
            core_set_error(err, "Invalid parameter type for 'data', expected: integer");
            return -1;
        }
        code = input_qnum_to_linux(json_node_get_int(data));
        return code < 0 ? 0 : code;
    }
    if (strcmp(t, "qcode")) {
        core_set_error(err, "Parameter 'type' does not accept value '%s'", t);
        return -1;
    }
    if (!node_is(data, G_TYPE_STRING)) {
        core_set_error(err, "Invalid parameter type for 'data', expected: string");
        return -1;
    }
    code = input_qcode_to_linux(json_node_get_string(data));
    if (code < 0) {
        core_set_error(err, "Parameter 'data' does not accept value '%s'",
                       json_node_get_string(data));
    }
    return code;
}

/* Queue presses in order, releases in reverse, delay_ms after each. */
static bool send_keys(const int *codes, guint n, unsigned delay_ms, char **err)
{
    if (g_queue_get_length(&steps) + 2 * n > MAX_QUEUE) {
        core_set_error(err, "too many keys queued");
        return false;
    }
    for (guint i = 0; i < n; i++) {
        queue_key((uint16_t)codes[i], true, delay_ms);
    }
    for (guint i = n; i-- > 0;) {
        queue_key((uint16_t)codes[i], false, delay_ms);
    }
    if (!step_timer) {
        run_steps();
    }
    return true;
}

/* hold-time: ms, absent or 0 for the default delay. */
static bool hold_time(JsonObject *args, unsigned *ms, char **err)
{
    JsonNode *n = args ? json_object_get_member(args, "hold-time") : NULL;
    gint64 v;

    *ms = DEFAULT_DELAY_MS;
    if (!n) {
        return true;
    }
    if (!node_is(n, G_TYPE_INT64)) {
        core_set_error(err, "Invalid parameter type for 'hold-time', expected: integer");
        return false;
    }
    v = json_node_get_int(n);
    if (v < 0 || v > MAX_HOLD_MS) {
        core_set_error(err, "Parameter 'hold-time' expects a value from 0 to %d ms",
                       MAX_HOLD_MS);
        return false;
    }
    *ms = v ? (unsigned)v : DEFAULT_DELAY_MS;
    return true;
}

JsonNode *qmp_send_key(JsonObject *args, struct qmp_client *c, char **err)
{
    JsonNode *kn = args ? json_object_get_member(args, "keys") : NULL;
    JsonArray *keys = kn && JSON_NODE_HOLDS_ARRAY(kn) ? json_node_get_array(kn) : NULL;
    g_autofree int *codes = NULL;
    guint n = 0, used = 0;
    unsigned ms;

    if (!keys) {
        core_set_error(err, kn ? "Invalid parameter type for 'keys', expected: array"
                               : "Parameter 'keys' is missing");
        return NULL;
    }
    if (!hold_time(args, &ms, err)) {
        return NULL;
    }
    n = json_array_get_length(keys);
    codes = g_new0(int, n + 1);
    for (guint i = 0; i < n; i++) {
        int code = key_value(json_array_get_element(keys, i), err);

        if (code < 0) {
            return NULL;
        }
        if (code > 0) {
            codes[used++] = code;
        }
    }
    return send_keys(codes, used, ms, err) ? empty_object() : NULL;
}

/* One "btn" button name to its Linux code or a wheel step (REL). */
static bool button_code(const char *name, uint16_t *code, int *wheel, uint16_t *axis)
{
    static const struct {
        const char *name;
        uint16_t code;
        int wheel;
        uint16_t axis;
    } buttons[] = {
        {"left", BTN_LEFT, 0, 0},    {"right", BTN_RIGHT, 0, 0},
        {"middle", BTN_MIDDLE, 0, 0}, {"side", BTN_SIDE, 0, 0},
        {"extra", BTN_EXTRA, 0, 0},  {"wheel-up", 0, 1, REL_WHEEL},
        {"wheel-down", 0, -1, REL_WHEEL}, {"wheel-left", 0, -1, REL_HWHEEL},
        {"wheel-right", 0, 1, REL_HWHEEL},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(buttons); i++) {
        if (!strcmp(buttons[i].name, name)) {
            *code = buttons[i].code;
            *wheel = buttons[i].wheel;
            *axis = buttons[i].axis;
            return true;
        }
    }
    return false;
}

/* A checked event, ready to send. */
typedef struct pending_ev {
    uint16_t type, code;
    int32_t value;
} pending_ev;

static bool get_down(JsonObject *d, bool *down, char **err)
{
    JsonNode *n = json_object_get_member(d, "down");

    if (!node_is(n, G_TYPE_BOOLEAN)) {
        core_set_error(err, n ? "Invalid parameter type for 'down', expected: boolean"
                              : "Parameter 'down' is missing");
        return false;
    }
    *down = json_node_get_boolean(n);
    return true;
}

static bool parse_btn(JsonObject *d, pending_ev *pe, char **err)
{
    JsonNode *bn = json_object_get_member(d, "button");
    const char *name = node_is(bn, G_TYPE_STRING) ? json_node_get_string(bn) : NULL;
    uint16_t code, axis;
    int wheel;
    bool down;

    if (!get_down(d, &down, err)) {
        return false;
    }
    if (!name) {
        core_set_error(err, "Parameter 'button' is missing");
        return false;
    }
    if (!button_code(name, &code, &wheel, &axis) && strcmp(name, "touch")) {
        core_set_error(err, "Parameter 'button' does not accept value '%s'", name);
        return false;
    }
    if (!strcmp(name, "touch")) {
        pe->type = TES_INPUT_SYN; /* no device here takes touch: nothing */
    } else if (wheel) {
        /* A wheel "button" is one notch on press, as QEMU's HID models
         * turn it; its release sends nothing. */
        pe->type = down ? TES_INPUT_REL : TES_INPUT_SYN;
        pe->code = axis;
        pe->value = wheel;
    } else {
        pe->type = TES_INPUT_KEY;
        pe->code = code;
        pe->value = down;
    }
    return true;
}

static bool parse_axis(JsonObject *d, bool abs, pending_ev *pe, char **err)
{
    JsonNode *an = json_object_get_member(d, "axis");
    JsonNode *vn = json_object_get_member(d, "value");
    const char *axis = node_is(an, G_TYPE_STRING) ? json_node_get_string(an) : NULL;
    gint64 v;

    if (!axis) {
        core_set_error(err, "Parameter 'axis' is missing");
        return false;
    }
    if (strcmp(axis, "x") && strcmp(axis, "y")) {
        core_set_error(err, "Parameter 'axis' does not accept value '%s'", axis);
        return false;
    }
    if (!node_is(vn, G_TYPE_INT64)) {
        core_set_error(err, vn ? "Invalid parameter type for 'value', expected: integer"
                               : "Parameter 'value' is missing");
        return false;
    }
    v = json_node_get_int(vn);
    pe->type = abs ? TES_INPUT_ABS : TES_INPUT_REL;
    pe->code = axis[0] == 'y'; /* REL_X/ABS_X 0, REL_Y/ABS_Y 1 */
    pe->value = (int32_t)CLAMP(v, INT32_MIN, INT32_MAX);
    return true;
}

static bool parse_event(JsonNode *en, pending_ev *pe, char **err)
{
    JsonObject *o = en && JSON_NODE_HOLDS_OBJECT(en) ? json_node_get_object(en) : NULL;
    JsonNode *tn = o ? json_object_get_member(o, "type") : NULL;
    JsonNode *dn = o ? json_object_get_member(o, "data") : NULL;
    JsonObject *d = dn && JSON_NODE_HOLDS_OBJECT(dn) ? json_node_get_object(dn) : NULL;
    const char *t = node_is(tn, G_TYPE_STRING) ? json_node_get_string(tn) : NULL;
    bool down;
    int code;

    if (!t || !d) {
        core_set_error(err, "Parameter '%s' is missing", t ? "data" : "type");
        return false;
    }
    if (!strcmp(t, "key")) {
        if (!get_down(d, &down, err) || (code = key_value(json_object_get_member(d, "key"),
                                                          err)) < 0) {
            return false;
        }
        pe->type = code ? TES_INPUT_KEY : TES_INPUT_SYN;
        pe->code = (uint16_t)code;
        pe->value = down;
        return true;
    }
    if (!strcmp(t, "btn")) {
        return parse_btn(d, pe, err);
    }
    if (!strcmp(t, "rel") || !strcmp(t, "abs")) {
        return parse_axis(d, t[0] == 'a', pe, err);
    }
    core_set_error(err, "Parameter 'type' does not accept value '%s'", t);
    return false;
}

/* input-send-event {"events": [...]}: all checked first, then sent as one
 * group. "device" and "head" (QEMU: the console whose handlers take the
 * events) are accepted and ignored: events go where the window's would. */
JsonNode *qmp_input_send_event(JsonObject *args, struct qmp_client *c, char **err)
{
    JsonNode *en = args ? json_object_get_member(args, "events") : NULL;
    JsonArray *events = en && JSON_NODE_HOLDS_ARRAY(en) ? json_node_get_array(en) : NULL;
    g_autofree pending_ev *pe = NULL;
    guint n;

    if (!events) {
        core_set_error(err, en ? "Invalid parameter type for 'events', expected: array"
                               : "Parameter 'events' is missing");
        return NULL;
    }
    n = json_array_get_length(events);
    pe = g_new0(pending_ev, n + 1);
    for (guint i = 0; i < n; i++) {
        if (!parse_event(json_array_get_element(events, i), &pe[i], err)) {
            return NULL;
        }
    }
    for (guint i = 0; i < n; i++) {
        if (pe[i].type == TES_INPUT_KEY) {
            input_key(pe[i].code, pe[i].value);
        } else if (pe[i].type == TES_INPUT_REL) {
            input_rel(pe[i].code, pe[i].value);
        } else if (pe[i].type == TES_INPUT_ABS) {
            input_abs(pe[i].code, pe[i].value);
        }
    }
    input_sync();
    return empty_object();
}

/* One HMP key: a QEMU key name or a number (0x1d, as QEMU's HMP takes). */
static int hmp_key(const char *word)
{
    char *end = NULL;
    long v;

    if (g_ascii_isdigit(word[0]) && word[1]) {
        errno = 0;
        v = strtol(word, &end, 0);
        if (!errno && end && !*end) {
            return input_qnum_to_linux(v);
        }
    }
    return input_qcode_to_linux(word);
}

bool hmp_sendkey(const char *arg, char **err)
{
    g_auto(GStrv) w = g_strsplit_set(arg ? arg : "", " \t", -1);
    g_auto(GStrv) names = NULL;
    g_autofree int *codes = NULL;
    guint n, k = 0;
    unsigned ms = DEFAULT_DELAY_MS;
    char *end = NULL;

    if (!w[0] || !*w[0] || (w[1] && w[2])) {
        core_set_error(err, "usage: sendkey keys [hold_ms]");
        return false;
    }
    if (w[1]) {
        long v = strtol(w[1], &end, 0);

        if (!*w[1] || *end || v < 0 || v > MAX_HOLD_MS) {
            core_set_error(err, "invalid hold time: %s", w[1]);
            return false;
        }
        ms = v ? (unsigned)v : DEFAULT_DELAY_MS;
    }
    names = g_strsplit(w[0], "-", -1);
    n = g_strv_length(names);
    codes = g_new0(int, n + 1);
    for (guint i = 0; i < n; i++) {
        int code = *names[i] ? hmp_key(names[i]) : -1;

        if (code < 0) {
            core_set_error(err, "invalid parameter: %s", names[i]);
            return false;
        }
        codes[k++] = code;
    }
    return send_keys(codes, k, ms, err);
}
