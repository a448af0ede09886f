/*
 * Fuzz target: virtio-tablet-pci (plugins/virtio) through the harness; the
 * actions are fuzz-dev.h's generic ones, fuzz-virtio.h's (raw chains,
 * event buffers, ring indices on the eventq) and:
 *
 *   FV_OPS    a monitor command feeding the input routing: input-send-event
 *             with 1..8 events of any type (abs, rel, btn, key) and value,
 *             or send-key of a key number; the tablet takes abs and
 *             buttons, groups going out whole or dropped
 *   FV_OPS+1  the config space: select and subsel written (any values),
 *             then the size and all of u[] read back; the size byte must
 *             fit u[] (128 bytes)
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz-virtio.h"

#define DEVCFG 0x2000 /* virtio-pci device config inside BAR4 */

static void setup(fz *f)
{
    fv_setup(f, FV_INPUT_PCI);
}

static void send_events(fz *f)
{
    static const char *const types[] = {"abs", "rel", "btn", "key"};
    static const char *const buttons[] = {"left", "right", "middle", "wheel-up", "side", "touch"};
    GString *s = g_string_new("{\"execute\":\"input-send-event\",\"arguments\":{\"events\":[");
    unsigned n = 1 + fz_u8(f) % 8;
    char *r;

    for (unsigned i = 0; i < n; i++) {
        uint8_t t = fz_u8(f);
        int32_t v = (int32_t)fz_u32(f);
        const char *type = types[t % 4];

        g_string_append_printf(s, "%s{\"type\":\"%s\",\"data\":", i ? "," : "", type);
        if (t % 4 < 2) {
            g_string_append_printf(s, "{\"axis\":\"%s\",\"value\":%d}}", t & 4 ? "y" : "x", v);
        } else if (t % 4 == 2) {
            g_string_append_printf(s, "{\"down\":%s,\"button\":\"%s\"}}", t & 4 ? "true" : "false",
                                   buttons[(t >> 3) % 6]);
        } else {
            g_string_append_printf(s, "{\"down\":%s,\"key\":{\"type\":\"number\",\"data\":%d}}}",
                                   t & 4 ? "true" : "false", v % 512);
        }
    }
    g_string_append(s, "]}}");
    r = tes_harness_qmp(f->h, s->str);
    free(r);
    g_string_free(s, TRUE);
}

static void config(fz *f)
{
    /* Inputs move BARs and turn decoding off: map BAR4 again first. */
    uint64_t bar = fv_pci_map(f, f->dev[0]);
    unsigned size;

    tes_harness_write(f->h, bar + DEVCFG, fz_u8(f), 1);
    tes_harness_write(f->h, bar + DEVCFG + 1, fz_u8(f), 1);
    size = (unsigned)tes_harness_read(f->h, bar + DEVCFG + 2, 1);
    for (unsigned i = 0; i < 136; i += 4) {
        tes_harness_read(f->h, bar + DEVCFG + i, 4);
    }
    if (size > 128) {
        fz_fail(f, "virtio-input: config size %u beyond u[]", size);
    }
}

static void op(fz *f, unsigned i)
{
    if (i == FV_OPS) {
        send_events(f);
    } else if (i == FV_OPS + 1) {
        config(f);
    } else {
        fv_op(f, i);
    }
}

static const fz_target virtio_input_target = {
    .plugins = {"virtio", NULL},
    .ram_size = 4 << 20,
    .init = fv_init,
    .setup = setup,
    .n_ops = FV_OPS + 2,
    .op = op,
};

FZ_TARGET(virtio_input_target)
