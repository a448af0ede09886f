/*
 * virtio-keyboard/-mouse/-tablet through the harness: the config space a
 * Linux driver reads (names, ids, event bits, the tablet's axes), events
 * from QMP input-send-event in the eventq's buffers, and a group dropped
 * whole when the driver posted too few buffers.
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <tessera/harness.h>

#include "tests/virtio-drv.h"

#define RAM_SIZE (16ull << 20)
#define F_VERSION_1 (1ull << 32)
#define EVBUF 0x800000ull /* event buffer j at EVBUF + 8 * j */

static const char *plugin_path;

static void up(vd *d, const char *type)
{
    memset(d, 0, sizeof(*d));
    d->h = tes_harness_new(RAM_SIZE);
    g_assert_true(tes_harness_load(d->h, plugin_path));
    d->ram = tes_harness_ram(d->h);
    d->dev = tes_harness_device(d->h, type, NULL);
    if (!d->dev) {
        g_error("%s: %s", type, tes_harness_error(d->h));
    }
    d->pci = true;
    d->base = VD_BAR4;
    g_assert_cmphex(tes_harness_bar_map(d->h, d->dev, 4, VD_BAR4), ==, VD_BAR4);
}

/* select/subsel, then the size byte and u[] as the driver reads them. */
static unsigned cfg_select(vd *d, uint8_t sel, uint8_t sub, uint8_t *u)
{
    vd_wr(d, VD_DEVCFG + 0, sel, 1);
    vd_wr(d, VD_DEVCFG + 1, sub, 1);
    for (unsigned i = 0; i < 128; i++) {
        u[i] = (uint8_t)vd_rd(d, VD_DEVCFG + 8 + i, 1);
    }
    return (unsigned)vd_rd(d, VD_DEVCFG + 2, 1);
}

static void qmp_ok(vd *d, const char *json)
{
    char *r = tes_harness_qmp(d->h, json);

    g_assert_nonnull(r);
    if (!strstr(r, "\"return\"")) {
        g_error("%s -> %s", json, r);
    }
    free(r);
}

static void post_buffers(vd *d, unsigned from, unsigned n)
{
    for (unsigned j = from; j < from + n; j++) {
        vd_desc(d, d->q[0].desc, j, EVBUF + 8 * j, 8, VD_F_WRITE, 0);
        vd_publish(d, 0, j);
    }
    vd_kick(d, 0);
}

/* Used entry: the event in its buffer (type, code, value). */
static bool next_event(vd *d, uint16_t *type, uint16_t *code, uint32_t *value)
{
    uint32_t head, len;

    if (!vd_reap(d, 0, &head, &len)) {
        return false;
    }
    g_assert_cmpuint(len, ==, 8);
    *type = vd_get16(d, EVBUF + 8 * head);
    *code = vd_get16(d, EVBUF + 8 * head + 2);
    *value = vd_get32(d, EVBUF + 8 * head + 4);
    return true;
}

static void test_config(void)
{
    vd d;
    uint8_t u[128];

    up(&d, "virtio-tablet-pci");
    g_assert_cmphex(tes_harness_cfg_read(d.h, d.dev, 0, 4), ==, 0x10521af4);
    g_assert_cmpuint(cfg_select(&d, 0x01, 0, u), ==, strlen("QEMU Virtio Tablet"));
    g_assert_cmpmem(u, 18, "QEMU Virtio Tablet", 18);
    g_assert_cmpuint(cfg_select(&d, 0x03, 0, u), ==, 8);
    g_assert_cmphex(u[0] | u[1] << 8, ==, 0x06);   /* BUS_VIRTUAL */
    g_assert_cmphex(u[2] | u[3] << 8, ==, 0x0627); /* QEMU's vendor */
    g_assert_cmphex(u[4] | u[5] << 8, ==, 0x0003); /* tablet */
    g_assert_cmpuint(cfg_select(&d, 0x11, 0x03, u), ==, 1); /* EV_ABS: X, Y */
    g_assert_cmphex(u[0], ==, 0x03);
    g_assert_cmpuint(cfg_select(&d, 0x12, 0x00, u), ==, 20); /* ABS_X info */
    g_assert_cmphex(u[4] | u[5] << 8, ==, 0x7fff);
    g_assert_cmpuint(cfg_select(&d, 0x12, 0x05, u), ==, 0); /* no such axis */
    g_assert_cmpuint(cfg_select(&d, 0x02, 0, u), ==, 0);    /* no serial */
    g_assert_cmpuint(cfg_select(&d, 0x11, 0x14, u), ==, 0); /* no EV_REP */
    tes_harness_free(d.h);

    up(&d, "virtio-keyboard-pci");
    g_assert_cmpuint(cfg_select(&d, 0x11, 0x01, u), >, 30 / 8);
    g_assert_true(u[30 / 8] & (1u << (30 % 8))); /* KEY_A */
    g_assert_cmpuint(cfg_select(&d, 0x11, 0x14, u), ==, 1); /* EV_REP */
    g_assert_cmpuint(cfg_select(&d, 0x11, 0x03, u), ==, 0); /* no EV_ABS */
    tes_harness_free(d.h);
}

static void test_events_and_drops(void)
{
    vd d;
    uint16_t t, c;
    uint32_t v;

    up(&d, "virtio-tablet-pci");
    g_assert_true(vd_init(&d, F_VERSION_1, 2, 64, false));
    post_buffers(&d, 0, 4);
    qmp_ok(&d, "{\"execute\":\"input-send-event\",\"arguments\":{\"events\":["
               "{\"type\":\"abs\",\"data\":{\"axis\":\"y\",\"value\":16384}},"
               "{\"type\":\"btn\",\"data\":{\"down\":true,\"button\":\"left\"}}]}}");
    g_assert_true(next_event(&d, &t, &c, &v));
    g_assert_cmpuint(t, ==, 3);
    g_assert_cmpuint(c, ==, 1);
    g_assert_cmpuint(v, ==, 16384);
    g_assert_true(next_event(&d, &t, &c, &v));
    g_assert_cmpuint(t, ==, 1);
    g_assert_cmphex(c, ==, 0x110);
    g_assert_cmpuint(v, ==, 1);
    g_assert_true(next_event(&d, &t, &c, &v));
    g_assert_cmpuint(t, ==, 0); /* SYN */
    g_assert_false(next_event(&d, &t, &c, &v));
    /* One buffer left, a group of three: dropped whole, the buffer kept. */
    qmp_ok(&d, "{\"execute\":\"input-send-event\",\"arguments\":{\"events\":["
               "{\"type\":\"abs\",\"data\":{\"axis\":\"x\",\"value\":1}},"
               "{\"type\":\"abs\",\"data\":{\"axis\":\"y\",\"value\":2}}]}}");
    g_assert_false(next_event(&d, &t, &c, &v));
    post_buffers(&d, 4, 1);
    g_assert_false(next_event(&d, &t, &c, &v));
    /* Across a migration (queues, the config selector): still delivered. */
    vd_wr(&d, VD_DEVCFG, 0x12, 1);
    d.dev = tes_harness_migrate(d.h, d.dev, NULL);
    g_assert_nonnull(d.dev);
    g_assert_cmphex(vd_rd(&d, VD_DEVCFG, 1), ==, 0x12);
    /* Two buffers: the next group of one event and its SYN goes. */
    qmp_ok(&d, "{\"execute\":\"input-send-event\",\"arguments\":{\"events\":["
               "{\"type\":\"abs\",\"data\":{\"axis\":\"x\",\"value\":40000}}]}}");
    g_assert_true(next_event(&d, &t, &c, &v));
    g_assert_cmpuint(t, ==, 3);
    g_assert_cmpuint(v, ==, 0x7fff); /* clamped to the axis */
    g_assert_true(next_event(&d, &t, &c, &v));
    g_assert_cmpuint(t, ==, 0);
    tes_harness_free(d.h);
}

/* Our virtio_input_* lines (and QEMU's virtio_input_queue_full), once
 * switched on: the config selector, events sent, a group dropped, the
 * statusq's LED entry. */
static void test_trace(void)
{
    static const char *const want[] = {
        "virtio_input_config select 0x11 subsel 0x14\n",
        "virtio_input_event type 0x1 code 0x1e value 0x1\n",
        "virtio_input_event type 0x0 code 0x0 value 0x0\n",
        "virtio_input_queue_full queue full\n",
        "virtio_input_status type 0x11 code 0x1 value 0x1\n",
        NULL,
    };
    vd d;
    uint8_t u[128];
    uint32_t head, len;

    up(&d, "virtio-keyboard-pci");
    g_assert_true(vd_init(&d, F_VERSION_1, 2, 64, false));
    tes_harness_log_capture(d.h, TES_LOG_TRACE);
    g_assert_true(vd_trace_on(d.h, "virtio_input_*"));
    g_assert_cmpuint(cfg_select(&d, 0x11, 0x14, u), ==, 1);
    post_buffers(&d, 0, 2);
    qmp_ok(&d, "{\"execute\":\"input-send-event\",\"arguments\":{\"events\":["
               "{\"type\":\"key\",\"data\":{\"down\":true,"
               "\"key\":{\"type\":\"qcode\",\"data\":\"a\"}}}]}}");
    qmp_ok(&d, "{\"execute\":\"input-send-event\",\"arguments\":{\"events\":["
               "{\"type\":\"key\",\"data\":{\"down\":false,"
               "\"key\":{\"type\":\"qcode\",\"data\":\"a\"}}}]}}");
    /* The driver lights caps lock: EV_LED LED_CAPSL 1 on the statusq. */
    memcpy(d.ram + EVBUF + 0x100, (const uint8_t[8]){0x11, 0, 0x01, 0, 1, 0, 0, 0}, 8);
    vd_desc(&d, d.q[1].desc, 0, EVBUF + 0x100, 8, 0, 0);
    vd_publish(&d, 1, 0);
    vd_kick(&d, 1);
    g_assert_true(vd_reap(&d, 1, &head, &len));
    g_assert_cmpstr(vd_log_missing(d.h, want), ==, NULL);
    tes_harness_free(d.h);
}

/* A tablet alone (no mouse) takes the wheel, as QEMU's virtio-tablet:
 * QMP btn wheel-up/down and wheel-left/right become REL_WHEEL/REL_HWHEEL
 * on its eventq, which its EV_REL bits advertise. */
static void test_tablet_wheel(void)
{
    vd d;
    uint16_t t, c;
    uint32_t v;
    uint8_t u[128];

    up(&d, "virtio-tablet-pci");
    g_assert_cmpuint(cfg_select(&d, 0x11, 0x02, u), ==, 2); /* EV_REL */
    g_assert_cmphex(u[1], ==, 0x01);                       /* REL_WHEEL */
    g_assert_true(vd_init(&d, F_VERSION_1, 2, 64, false));
    post_buffers(&d, 0, 8);
    qmp_ok(&d, "{\"execute\":\"input-send-event\",\"arguments\":{\"events\":["
               "{\"type\":\"btn\",\"data\":{\"down\":true,\"button\":\"wheel-down\"}}]}}");
    g_assert_true(next_event(&d, &t, &c, &v));
    g_assert_cmpuint(t, ==, 2);      /* EV_REL */
    g_assert_cmpuint(c, ==, 8);      /* REL_WHEEL */
    g_assert_cmpint((int32_t)v, ==, -1);
    g_assert_true(next_event(&d, &t, &c, &v));
    g_assert_cmpuint(t, ==, 0);
    qmp_ok(&d, "{\"execute\":\"input-send-event\",\"arguments\":{\"events\":["
               "{\"type\":\"btn\",\"data\":{\"down\":true,\"button\":\"wheel-right\"}}]}}");
    g_assert_true(next_event(&d, &t, &c, &v));
    g_assert_cmpuint(t, ==, 2);
    g_assert_cmpuint(c, ==, 6);      /* REL_HWHEEL */
    g_assert_cmpint((int32_t)v, ==, 1);
    tes_harness_free(d.h);
}

/* The monitor's errors: an unknown key name, as QEMU words it. */
static void test_qmp_errors(void)
{
    vd d;
    char *r;

    up(&d, "virtio-keyboard-pci");
    r = tes_harness_qmp(d.h, "{\"execute\":\"send-key\",\"arguments\":{\"keys\":"
                             "[{\"type\":\"qcode\",\"data\":\"nosuchkey\"}]}}");
    g_assert_nonnull(strstr(r, "Parameter 'data' does not accept value 'nosuchkey'"));
    free(r);
    r = tes_harness_qmp(d.h, "{\"execute\":\"input-send-event\",\"arguments\":{\"events\":"
                             "[{\"type\":\"rel\",\"data\":{\"axis\":\"z\",\"value\":1}}]}}");
    g_assert_nonnull(strstr(r, "\"error\""));
    free(r);
    tes_harness_free(d.h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    plugin_path = argc > 1 ? argv[1] : g_getenv("VIRTIO_PLUGIN");
    if (!plugin_path) {
        g_printerr("usage: %s VIRTIO_PLUGIN.so (or set $VIRTIO_PLUGIN)\n", argv[0]);
        return 2;
    }
    g_test_add_func("/virtio-input/config-space", test_config);
    g_test_add_func("/virtio-input/events-and-dropped-groups", test_events_and_drops);
    g_test_add_func("/virtio-input/qmp-errors", test_qmp_errors);
    g_test_add_func("/virtio-input/trace/config-events-queue-full-status", test_trace);
    g_test_add_func("/virtio-input/tablet-alone-takes-the-wheel", test_tablet_wheel);
    return g_test_run();
}
