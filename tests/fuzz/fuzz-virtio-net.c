/*
 * Fuzz target: virtio-net-pci (plugins/virtio) through the harness, with a
 * harness netdev as the network. The actions are fuzz-dev.h's generic
 * ones, fuzz-net.h's backend events, and:
 *
 *   0  a frame to send: a virtio-net header (sane offloads for the frame:
 *      partial checksum, TSO4/6, UFO, ECN; or any bytes) and a frame from
 *      fn_frame, cut into 1..4 descriptors anywhere, on any TX queue
 *   1  receive buffers on any RX queue: 1..8 chains of 1..3 pieces, small
 *      (shorter than the header), a page, or 64 KiB (mergeable or not)
 *   2  a control command: RX modes, MAC tables of any entry counts, the
 *      MAC address, VQ_PAIRS_SET of any count, or any class and command,
 *      cut into pieces, with or without the ack byte
 *   3-5  fuzz-virtio.h's raw chains, indirect tables and ring indices on
 *      any queue
 *   6  reap used entries of every queue; the timers (TX) run
 *   7  the spec check: reset by the driver and set up again, frames kept
 *      by the core taken; then a frame from the network lands in one RX
 *      buffer after a 12-byte header with num_buffers 1, a frame sent is
 *      on the network as it was, and RX_PROMISC is acked OK
 *
 * After every action, while only actions 0-2, reads, clock steps, backend
 * events and migrations ran since the driver set the device up: every
 * used entry is a chain the driver made available and the device has not
 * returned yet (virtio 1.2 2.7.8: each once).
 *
 * The first input byte picks the backend (vnet_hdr on or off, 1..4
 * queues), the device (mq, queues=, mrg_rxbuf) and the features the
 * driver accepts.
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "fuzz-net.h"
#include "fuzz-virtio.h"

#define RAM (32ull << 20)
#define QSIZE 16
#define BUF 0x1000000ull   /* buffers: 16 slots of 64 KiB a queue (9 queues) */
#define CHECK 0x1f00000ull /* the spec check's buffers */
#define HDR 12
#define F_VERSION_1 (1ull << 32)
#define F_INDIRECT (1ull << 28)
#define F_EVENT_IDX (1ull << 29)

static vd drv;
static unsigned nq, pairs, be_queues; /* queues of the device, pairs, backend queues */
static uint64_t features;
/* Chains made available and not yet returned, per queue and head; valid
 * while tracked (fz_generic_pokes and the raw actions end it). */
static uint8_t owed[2 * 4 + 1][QSIZE];
static unsigned outstanding[2 * 4 + 1];
static bool tracked;

static void track_reset(void)
{
    memset(owed, 0, sizeof(owed));
    memset(outstanding, 0, sizeof(outstanding));
    tracked = true;
}

/* Make head j of queue q available, unless the ring is full of chains the
 * device still has (the driver never overruns its ring). */
static bool publish(unsigned q, unsigned j)
{
    if (outstanding[q % 9] >= QSIZE) {
        return false;
    }
    owed[q % 9][j % QSIZE]++;
    outstanding[q % 9]++;
    vd_publish(&drv, q, j);
    return true;
}

static void pci_map(fz *f)
{
    drv.dev = f->dev[0]; /* a migration round trip may have replaced it */
    drv.base = fv_pci_map(f, drv.dev);
}

static void setup(fz *f)
{
    uint8_t sel = fz_u8(f), fsel = fz_u8(f);
    char *props;

    be_queues = 1 + (sel >> 1 & 3);
    if (!tes_harness_netdev(f->h, fn_netdev_opts(sel, be_queues))) {
        fz_fail(f, "netdev: %s", tes_harness_error(f->h));
    }
    props = g_strdup_printf("netdev=%s,mq=%s,queues=%u,mrg_rxbuf=%s,ctrl_vq=%s", FN_NETDEV,
                            sel & 8 ? "on" : "off", sel >> 4 & 7, sel & 0x80 ? "off" : "on",
                            fsel == 0xff ? "off" : "on");
    memset(&drv, 0, sizeof(drv));
    drv.h = f->h;
    drv.ram = f->ram;
    drv.pci = true;
    drv.dev = tes_harness_device(f->h, "virtio-net-pci", props);
    if (!drv.dev) {
        fz_fail(f, "virtio-net-pci %s: %s", props, tes_harness_error(f->h));
    }
    g_free(props);
    fz_device_add(f, drv.dev, NULL);
    pci_map(f);
    fz_window_add(f, VD_BAR4, 0x4000, false);
    nq = vd_num_queues(&drv);
    pairs = nq / 2;
    /* The second byte: which offered features the driver takes (the
     * control queue's and VERSION_1 always). */
    features = F_VERSION_1 | 0xfe0000ull | (fsel & 1 ? F_INDIRECT : 0) |
               (fsel & 2 ? F_EVENT_IDX : 0) | (fsel & 4 ? 0x3f83ull : 0) |
               (fsel & 8 ? 1ull << 15 : 0) | (fsel & 0x10 ? 1ull << 16 : 0) | 1ull << 5;
    if (!vd_init(&drv, features, nq, QSIZE, true)) {
        fz_fail(f, "virtio-net: a fresh device refuses features 0x%llx",
                (unsigned long long)features);
    }
    track_reset();
}

static uint64_t slot(unsigned q, unsigned i)
{
    return BUF + ((q % 9) * 16ull + i % 16) * 0x10000;
}

/* len bytes at buf as up to 4 descriptors from j, the last without NEXT;
 * how many. */
static unsigned put_pieces(fz *f, unsigned q, unsigned j, uint64_t buf, uint32_t len,
                           uint16_t flags)
{
    unsigned n = 1 + fz_u8(f) % 4;
    uint32_t at = 0;

    for (unsigned i = 0; i < n; i++) {
        bool last = i + 1 == n;
        uint32_t piece = last ? len - at : fz_u16(f) % (len - at + 1);

        vd_desc(&drv, drv.q[q].desc, (j + i) % QSIZE, buf + at, piece,
                flags | (last ? 0 : VD_F_NEXT), (j + i + 1) % QSIZE);
        at += piece;
    }
    return n;
}

static void tx_frame(fz *f)
{
    static uint8_t fr[FN_FRAME_MAX];
    unsigned q = 2 * (fz_u8(f) % pairs) + 1, j = fz_u8(f) % QSIZE;
    uint64_t a = slot(q, fz_u8(f));
    size_t len = fn_frame(f, fr, 0x10000 - HDR);
    uint8_t *p = drv.ram + a;
    tes_net_hdr h;

    fn_hdr(f, &h, fr, len);
    p[0] = h.flags;
    p[1] = h.gso_type;
    memcpy(p + 2, &h.hdr_len, 2); /* little-endian host (x86-64, arm64) */
    memcpy(p + 4, &h.gso_size, 2);
    memcpy(p + 6, &h.csum_start, 2);
    memcpy(p + 8, &h.csum_offset, 2);
    memset(p + 10, 0, 2);
    memcpy(p + HDR, fr, len);
    put_pieces(f, q, j, a, (uint32_t)(HDR + len), 0);
    publish(q, j);
    vd_kick(&drv, q);
    tes_harness_clock_step(f->h, 1); /* TX runs from a timer due now */
}

static void rx_buffers(fz *f)
{
    unsigned q = 2 * (fz_u8(f) % pairs), n = 1 + fz_u8(f) % 8;

    for (unsigned i = 0; i < n; i++) {
        unsigned j = drv.q[q].next_desc % QSIZE;
        uint8_t k = fz_u8(f);
        uint32_t len = k & 0x80 ? 0x10000 : k & 0x40 ? 0x800 : k & 0x3f;
        /* Now and then a device-readable one: the device returns it unused. */
        uint16_t fl = (k & 0x30) == 0x30 ? 0 : VD_F_WRITE;

        drv.q[q].next_desc += put_pieces(f, q, j, slot(q, j), len, fl);
        publish(q, j);
    }
    vd_kick(&drv, q);
}

/* Two MAC tables: le32 entry counts (any), then as many entries as the
 * input says there are. */
static uint32_t mac_tables(fz *f, uint8_t *p)
{
    uint32_t len = 0;

    for (int t = 0; t < 2; t++) {
        uint32_t cnt = fz_u8(f) & 0x80 ? fz_u32(f) : fz_u8(f) % 80;
        uint32_t have = cnt > 80 ? fz_u8(f) : cnt;

        memcpy(p + len, &cnt, 4);
        len += 4;
        memset(p + len, 0x02 + t, 6 * have);
        len += 6 * have;
    }
    return len;
}

/* A command: class, command, then what that command takes. */
static uint32_t ctrl_data(fz *f, uint8_t *p)
{
    static const uint8_t classes[] = {0, 1, 4};
    uint8_t sel = fz_u8(f);
    uint32_t len = 2;
    uint16_t n;

    p[0] = (sel & 3) < 3 ? classes[sel & 3] : fz_u8(f);
    p[1] = fz_u8(f) & (sel & 4 ? 0xff : 7);
    if (p[0] == 0) {
        p[len++] = fz_u8(f) & 1;
    } else if (p[0] == 1 && p[1] == 0) {
        len += mac_tables(f, p + len);
    } else if (p[0] == 1) {
        memcpy(p + len, fn_mac, 6);
        p[len + 5] = fz_u8(f);
        len += 6;
    } else if (p[0] == 4) {
        n = fz_u8(f) & 0x80 ? fz_u16(f) : fz_u8(f) % 6;
        memcpy(p + len, &n, 2);
        len += 2;
    }
    return sel & 0x80 ? len - fz_u8(f) % (len + 1) : len; /* sometimes cut short */
}

static void ctrl_cmd(fz *f)
{
    unsigned q = nq - 1, j = fz_u8(f) % QSIZE, n;
    uint64_t a = slot(8, fz_u8(f));
    uint32_t len = ctrl_data(f, drv.ram + a);
    uint8_t ack = fz_u8(f);

    if (nq % 2 == 0) {
        return; /* no control queue */
    }
    n = put_pieces(f, q, j, a, len, 0);
    if (!(ack & 0x80)) {
        /* The last data piece chains to an ack buffer of 1..4 bytes. */
        uint8_t *d = drv.ram + drv.q[q].desc + 16 * ((j + n - 1) % QSIZE);
        uint16_t fl = VD_F_NEXT, nx = (j + n) % QSIZE;

        memcpy(d + 12, &fl, 2);
        memcpy(d + 14, &nx, 2);
        vd_desc(&drv, drv.q[q].desc, nx, a + 0x8000, 1 + (ack & 3), VD_F_WRITE, 0);
    }
    publish(q, j);
    vd_kick(&drv, q);
}

/* Take used entries; while tracked, each must be owed. */
static void reap(fz *f)
{
    uint32_t head, len;

    for (unsigned q = 0; q < nq; q++) {
        for (int i = 0; i < 64 && vd_reap(&drv, q, &head, &len); i++) {
            if (!tracked) {
                continue;
            }
            if (head >= QSIZE || !owed[q % 9][head]) {
                fz_fail(f, "virtio-net: queue %u returned head %u, not available to it", q,
                        head);
            }
            owed[q % 9][head]--;
            outstanding[q % 9]--;
        }
    }
}

static void check(fz *f)
{
    if (fz_generic_pokes(f)) {
        tracked = false;
    }
    reap(f);
}

/* ---- the spec check ---- */

/* Post one buffer of len bytes on RX queue 0 (descriptor: its avail slot). */
static void post_one(uint64_t a, uint32_t len)
{
    unsigned j = drv.q[0].avail_idx % QSIZE;

    vd_desc(&drv, drv.q[0].desc, j, a, len, VD_F_WRITE, 0);
    vd_publish(&drv, 0, j);
    vd_kick(&drv, 0);
}

/* Frames the core kept from before the reset go into buffers first; at
 * most QSIZE - 1 stay posted (rx_check posts one more). */
static void flush_kept(fz *f)
{
    unsigned posted = 0;
    uint32_t head, len;

    for (int round = 0; round < 256 && tes_harness_net_queued(f->h, FN_NETDEV); round++) {
        for (; posted < QSIZE - 1; posted++) {
            post_one(CHECK + 0x10000, 0x10000);
        }
        tes_harness_net_poll(f->h);
        for (; posted && vd_reap(&drv, 0, &head, &len); posted--) {
        }
    }
    if (tes_harness_net_queued(f->h, FN_NETDEV)) {
        fz_fail(f, "virtio-net: %u frames still kept after 256 rounds of empty buffers",
                tes_harness_net_queued(f->h, FN_NETDEV));
    }
}

/* A frame from the network lands, after a 12-byte header with
 * num_buffers 1, in the oldest buffer posted. */
static void rx_check(fz *f)
{
    uint8_t fr[300];
    uint32_t head = 0, len = 0;
    uint16_t nbuf;
    uint64_t at;

    memcpy(fr, fn_mac, 6);
    memcpy(fr + 6, fn_peer, 6);
    for (unsigned i = 12; i < sizeof(fr); i++) {
        fr[i] = (uint8_t)(i * 3 + f->actions);
    }
    post_one(CHECK, 0x1000);
    if (tes_harness_net_inject(f->h, FN_NETDEV, 0, NULL, fr, sizeof(fr)) != sizeof(fr) ||
        !vd_reap(&drv, 0, &head, &len)) {
        fz_fail(f, "virtio-net: after a reset a frame from the network is not taken");
    }
    memcpy(&at, drv.ram + drv.q[0].desc + 16 * (head % QSIZE), 8);
    memcpy(&nbuf, drv.ram + at + 10, 2);
    if (len != HDR + sizeof(fr) || nbuf != 1 || memcmp(drv.ram + at + HDR, fr, sizeof(fr))) {
        fz_fail(f, "virtio-net: a received frame came back as %u bytes, num_buffers %u", len,
                nbuf);
    }
}

static void tx_check(fz *f)
{
    uint8_t got[400], *p = drv.ram + CHECK + 0x2000;
    uint32_t head, len;
    int n;

    memset(p, 0, HDR);
    memset(p + HDR, 0xff, 6);
    memcpy(p + HDR + 6, fn_mac, 6);
    for (unsigned i = 12; i < 200; i++) {
        p[HDR + i] = (uint8_t)(i + f->actions);
    }
    vd_desc(&drv, drv.q[1].desc, 0, CHECK + 0x2000, HDR + 200, 0, 0);
    vd_publish(&drv, 1, 0);
    vd_kick(&drv, 1);
    tes_harness_clock_step(f->h, 1);
    n = tes_harness_net_sent(f->h, FN_NETDEV, got, sizeof(got), NULL, NULL);
    if (n != 200 || memcmp(got, p + HDR, 200) || !vd_reap(&drv, 1, &head, &len)) {
        fz_fail(f, "virtio-net: after a reset a 200-byte frame went out as %d bytes", n);
    }
}

static void ctrl_check(fz *f)
{
    uint8_t *p = drv.ram + CHECK + 0x3000;
    unsigned q = nq - 1;
    uint32_t head, len;

    p[0] = 0; /* RX */
    p[1] = 0; /* PROMISC */
    p[2] = 1;
    p[0x100] = 0xee;
    vd_desc(&drv, drv.q[q].desc, 0, CHECK + 0x3000, 3, VD_F_NEXT, 1);
    vd_desc(&drv, drv.q[q].desc, 1, CHECK + 0x3100, 1, VD_F_WRITE, 0);
    vd_publish(&drv, q, 0);
    vd_kick(&drv, q);
    if (!vd_reap(&drv, q, &head, &len) || p[0x100] != 0) {
        fz_fail(f, "virtio-net: RX_PROMISC after a reset answered %u", p[0x100]);
    }
}

static void spec_check(fz *f)
{
    fn_drain(f);
    pci_map(f);
    tes_harness_net_set_link(f->h, FN_NETDEV, true);
    if (!vd_init(&drv, F_VERSION_1 | 0x7ull << 16 | 1ull << 5, nq, QSIZE, true)) {
        fz_fail(f, "virtio-net: the device refuses to set up again after a reset");
    }
    flush_kept(f);
    rx_check(f);
    tx_check(f);
    if (nq % 2) {
        ctrl_check(f);
    }
    fn_drain(f);
    /* Back to the input's features, with nothing outstanding. */
    if (!vd_init(&drv, features, nq, QSIZE, true)) {
        fz_fail(f, "virtio-net: the device refuses its features after a reset");
    }
    track_reset();
}

static void op(fz *f, unsigned i)
{
    unsigned q = fz_u8(f) % nq;

    drv.dev = f->dev[0]; /* a migration round trip may have replaced it */
    if (i >= 5 && i <= 7) {
        tracked = false; /* raw chains and indices: no bookkeeping holds */
    }
    switch (i) {
    case 0:
    case 1:
        tx_frame(f);
        break;
    case 2:
    case 3:
        rx_buffers(f);
        break;
    case 4:
        ctrl_cmd(f);
        break;
    case 5:
        fv_chain(f, &drv, q);
        break;
    case 6:
        fv_indirect(f, &drv, q);
        break;
    case 7:
        fv_rings(f, &drv, q);
        break;
    case 8:
        tes_harness_clock_step(f->h, 1); /* the TX timers */
        break;
    case 9:
    case 10:
        fn_backend(f, be_queues);
        break;
    case 11:
        spec_check(f);
        break;
    }
}

static const fz_target virtio_net_target = {
    .plugins = {"virtio", NULL},
    .ram_size = RAM,
    .setup = setup,
    .n_ops = 12,
    .op = op,
    .check = check,
    .teardown = fn_drain,
};

FZ_TARGET(virtio_net_target)
