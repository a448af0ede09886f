/*
 * virtio-net through the harness: the in-test driver (virtio-drv.h) posts
 * buffers and frames; a harness netdev plays the network (frames are
 * injected and captured). No guest, no CPU.
 */
#include <glib.h>
#include <string.h>
#include <tessera/harness.h>

#include "tests/virtio-drv.h"
#include <tessera/virtio.h>

#define RAM_SIZE (64ull << 20)
#define BUF_BASE 0x1000000ull /* RX/TX buffers: 64 KiB slots */
#define F_VERSION_1 (1ull << 32)
#define F_EVENT_IDX (1ull << 29)
#define F_CSUM (1ull << 0)
#define F_GUEST_CSUM (1ull << 1)
#define F_MAC (1ull << 5)
#define F_GUEST_TSO4 (1ull << 7)
#define F_HOST_TSO4 (1ull << 11)
#define F_MRG_RXBUF (1ull << 15)
#define F_STATUS (1ull << 16)
#define F_CTRL_VQ (1ull << 17)
#define F_CTRL_RX (1ull << 18)
#define F_MQ (1ull << 22)
#define F_CTRL_MAC_ADDR (1ull << 23)
#define BASE_F (F_VERSION_1 | F_MAC | F_STATUS | F_CTRL_VQ | F_CTRL_RX | F_CTRL_MAC_ADDR)
#define HDR 12
#define S_NEEDS_RESET 0x40

static const char *plugin_path;

typedef struct net {
    vd d;
    unsigned nq; /* queues, the control queue last */
} net;

static uint64_t slot(unsigned q, unsigned i)
{
    return BUF_BASE + (q * 64ull + i % 64) * 0x10000;
}

static void up(net *n, const char *netdev, const char *props)
{
    memset(n, 0, sizeof(*n));
    n->d.h = tes_harness_new(RAM_SIZE);
    g_assert_true(tes_harness_load(n->d.h, plugin_path));
    n->d.ram = tes_harness_ram(n->d.h);
    g_assert_true(tes_harness_netdev(n->d.h, netdev));
    n->d.dev = tes_harness_device(n->d.h, "virtio-net-pci", props);
    if (!n->d.dev) {
        g_error("virtio-net-pci: %s", tes_harness_error(n->d.h));
    }
    n->d.pci = true;
    n->d.base = VD_BAR4;
    g_assert_cmphex(tes_harness_bar_map(n->d.h, n->d.dev, 4, VD_BAR4), ==, VD_BAR4);
    n->nq = vd_num_queues(&n->d);
}

static void down(net *n)
{
    tes_harness_free(n->d.h);
}

static bool start(net *n, uint64_t features)
{
    return vd_init(&n->d, features, n->nq, 256, false);
}

/* Post count RX buffers of len bytes on queue q (one descriptor each). */
static void post_rx(net *n, unsigned q, unsigned count, uint32_t len)
{
    for (unsigned i = 0; i < count; i++) {
        uint16_t j = n->d.q[q].next_desc++ % n->d.q[q].size;
        vd_desc(&n->d, n->d.q[q].desc, j, slot(q, j), len, VD_F_WRITE, 0);
        vd_publish(&n->d, q, j);
    }
    vd_kick(&n->d, q);
}

/* Send one frame (after a header hdr) on TX queue q, as two descriptors. */
static void send_tx(net *n, unsigned q, const uint8_t *hdr, const void *frame, uint32_t len)
{
    uint16_t j = n->d.q[q].next_desc;
    uint64_t a = slot(q, j);

    n->d.q[q].next_desc += 2;
    memcpy(n->d.ram + a, hdr, HDR);
    memcpy(n->d.ram + a + HDR, frame, len);
    vd_desc(&n->d, n->d.q[q].desc, j, a, HDR, VD_F_NEXT, j + 1);
    vd_desc(&n->d, n->d.q[q].desc, j + 1, a + HDR, len, 0, 0);
    vd_publish(&n->d, q, j);
    vd_kick(&n->d, q);
    tes_harness_clock_step(n->d.h, 1); /* TX runs from a timer due now */
}

/* A control command: returns the ack byte (0xee when not answered). */
static uint8_t ctrl(net *n, uint8_t cls, uint8_t cmd, const void *data, uint32_t len)
{
    unsigned q = n->nq - 1;
    uint16_t j = n->d.q[q].next_desc;
    uint64_t a = slot(q, j);
    uint32_t head = 0, ulen = 0;

    n->d.q[q].next_desc += 2;
    n->d.ram[a] = cls;
    n->d.ram[a + 1] = cmd;
    memcpy(n->d.ram + a + 2, data, len);
    n->d.ram[a + 0x8000] = 0xee;
    vd_desc(&n->d, n->d.q[q].desc, j, a, 2 + len, VD_F_NEXT, j + 1);
    vd_desc(&n->d, n->d.q[q].desc, j + 1, a + 0x8000, 1, VD_F_WRITE, 0);
    vd_publish(&n->d, q, j);
    vd_kick(&n->d, q);
    if (!vd_reap(&n->d, q, &head, &ulen)) {
        return 0xee;
    }
    return n->d.ram[a + 0x8000];
}

static size_t eth_frame(uint8_t *f, const uint8_t *dst, size_t len, uint8_t fill)
{
    static const uint8_t src[6] = {0x02, 0, 0, 0, 0, 9};

    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = 0x88;
    f[13] = 0xb5; /* local experimental ethertype */
    for (size_t i = 14; i < len; i++) {
        f[i] = (uint8_t)(fill + i);
    }
    return len;
}

static const uint8_t our_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t zero_hdr[HDR];

/* ---- tests ---- */

static void test_ids_mac_link(void)
{
    net n;

    up(&n, "id=n0", "netdev=n0");
    g_assert_cmphex(tes_harness_cfg_read(n.d.h, n.d.dev, 0, 4), ==, 0x10411af4);
    g_assert_cmphex(tes_harness_cfg_read(n.d.h, n.d.dev, 0x0a, 2), ==, 0x0200);
    g_assert_cmpuint(n.nq, ==, 3); /* rx, tx, control */
    for (int i = 0; i < 6; i++) {
        g_assert_cmphex(vd_cfg_read(&n.d, i, 1), ==, our_mac[i]);
    }
    g_assert_cmphex(vd_device_features(&n.d) & (F_MAC | F_STATUS | F_CSUM | F_HOST_TSO4), ==,
                    F_MAC | F_STATUS | F_CSUM | F_HOST_TSO4);
    /* No vnet_hdr backend: no offloaded frames towards the driver. */
    g_assert_cmphex(vd_device_features(&n.d) & (F_GUEST_CSUM | F_GUEST_TSO4), ==, 0);
    g_assert_true(start(&n, BASE_F));
    g_assert_cmpuint(vd_cfg_read(&n.d, 6, 2), ==, 1); /* LINK_UP */
    tes_harness_net_set_link(n.d.h, "n0", false);
    g_assert_cmpuint(vd_cfg_read(&n.d, 6, 2), ==, 0);
    tes_harness_net_set_link(n.d.h, "n0", true);
    g_assert_cmpuint(vd_cfg_read(&n.d, 6, 2), ==, 1);
    down(&n);
}

static void test_mac_property_and_second_default(void)
{
    net n;
    tes_device *second;

    up(&n, "id=n0", "netdev=n0,mac=02:11:22:33:44:55");
    g_assert_cmphex(vd_cfg_read(&n.d, 5, 1), ==, 0x55);
    /* The next NIC without mac= takes QEMU's first default. */
    second = tes_harness_device(n.d.h, "virtio-net-pci", NULL);
    g_assert_nonnull(second);
    g_assert_null(tes_harness_device(n.d.h, "virtio-net-pci", "mac=01:00:5e:00:00:01"));
    g_assert_nonnull(strstr(tes_harness_error(n.d.h), "unicast MAC"));
    g_assert_null(tes_harness_device(n.d.h, "virtio-net-pci", "netdev=n0"));
    g_assert_nonnull(strstr(tes_harness_error(n.d.h), "already in use"));
    down(&n);
}

static void test_tx_frame_reaches_backend(void)
{
    net n;
    uint8_t f[200], got[300];
    uint32_t head = 0, len = 0;
    unsigned q;

    up(&n, "id=n0", "netdev=n0");
    g_assert_true(start(&n, BASE_F));
    eth_frame(f, our_mac, sizeof(f), 3);
    send_tx(&n, 1, zero_hdr, f, sizeof(f));
    g_assert_cmpint(tes_harness_net_sent(n.d.h, "n0", got, sizeof(got), &q, NULL), ==, 200);
    g_assert_cmpmem(got, 200, f, 200);
    g_assert_true(vd_reap(&n.d, 1, &head, &len));
    g_assert_cmpuint(len, ==, 0);
    down(&n);
}

/* TSO from the driver, a backend without offloads: the core segments. */
static void test_tx_tso_segmented_for_plain_backend(void)
{
    net n;
    static uint8_t f[14 + 40 + 4000], got[2000];
    uint8_t hdr[HDR] = {1, 1}; /* NEEDS_CSUM, TCPV4 */
    uint16_t v[4] = {54, 1000, 34, 16};
    int count = 0, len;

    up(&n, "id=n0", "netdev=n0");
    g_assert_true(start(&n, BASE_F | F_CSUM | F_HOST_TSO4));
    memset(f, 0, sizeof(f));
    f[12] = 0x08;
    f[14] = 0x45;
    f[23] = 6;
    f[46] = 0x50;
    memcpy(hdr + 2, v, sizeof(v));
    send_tx(&n, 1, hdr, f, sizeof(f));
    while ((len = tes_harness_net_sent(n.d.h, "n0", got, sizeof(got), NULL, NULL)) > 0) {
        g_assert_cmpint(len, ==, 54 + 1000);
        count++;
    }
    g_assert_cmpint(count, ==, 4);
    down(&n);
}

/* The kick only arms a timer: frames are sent when it runs, all of them,
 * and the kick handler itself sends nothing. */
static void test_tx_batched_after_kick(void)
{
    net n;
    uint8_t f[100], got[100];

    up(&n, "id=n0", "netdev=n0");
    g_assert_true(start(&n, BASE_F | F_EVENT_IDX));
    eth_frame(f, our_mac, sizeof(f), 0);
    for (unsigned i = 0; i < 5; i++) {
        uint16_t j = n.d.q[1].next_desc;
        memcpy(n.d.ram + slot(1, j), zero_hdr, HDR);
        memcpy(n.d.ram + slot(1, j) + HDR, f, sizeof(f));
        vd_desc(&n.d, n.d.q[1].desc, j, slot(1, j), HDR + sizeof(f), 0, 0);
        n.d.q[1].next_desc++;
        vd_publish(&n.d, 1, j);
        if (i == 0) {
            vd_kick(&n.d, 1);
        }
    }
    g_assert_cmpuint(tes_harness_net_sent_count(n.d.h, "n0"), ==, 0);
    tes_harness_clock_step(n.d.h, 1);
    g_assert_cmpuint(tes_harness_net_sent_count(n.d.h, "n0"), ==, 5);
    g_assert_cmpuint(vd_used_idx(&n.d, 1), ==, 5);
    g_assert_cmpint(tes_harness_net_sent(n.d.h, "n0", got, sizeof(got), NULL, NULL), ==, 100);
    down(&n);
}

static void test_tx_gso_without_feature_is_guest_error(void)
{
    net n;
    uint8_t f[100] = {0}, got[100];
    uint8_t hdr[HDR] = {0, 1};
    uint32_t head = 0, len = 0;

    up(&n, "id=n0", "netdev=n0");
    g_assert_true(start(&n, BASE_F)); /* no HOST_TSO4 */
    send_tx(&n, 1, hdr, f, sizeof(f));
    g_assert_cmpint(tes_harness_net_sent(n.d.h, "n0", got, sizeof(got), NULL, NULL), ==, -1);
    g_assert_true(vd_reap(&n.d, 1, &head, &len)); /* the chain came back */
    g_assert_nonnull(strstr(tes_harness_log_text(n.d.h), "gso_type 1 not negotiated"));
    down(&n);
}

/* Chains with no frame after the header, or a writable buffer. */
static void test_tx_bad_chains_logged_and_returned(void)
{
    net n;
    uint8_t got[100];
    uint32_t head = 0, len = 0;
    uint64_t a = slot(1, 0);

    up(&n, "id=n0", "netdev=n0");
    g_assert_true(start(&n, BASE_F));
    vd_desc(&n.d, n.d.q[1].desc, 0, a, HDR, 0, 0); /* header only */
    vd_publish(&n.d, 1, 0);
    vd_desc(&n.d, n.d.q[1].desc, 1, a, 0, 0, 0); /* zero length */
    vd_publish(&n.d, 1, 1);
    vd_desc(&n.d, n.d.q[1].desc, 2, a, 100, VD_F_NEXT, 3); /* readable then writable */
    vd_desc(&n.d, n.d.q[1].desc, 3, a + 200, 100, VD_F_WRITE, 0);
    vd_publish(&n.d, 1, 2);
    vd_kick(&n.d, 1);
    tes_harness_clock_step(n.d.h, 1);
    for (int i = 0; i < 3; i++) {
        g_assert_true(vd_reap(&n.d, 1, &head, &len));
    }
    g_assert_cmpint(tes_harness_net_sent(n.d.h, "n0", got, sizeof(got), NULL, NULL), ==, -1);
    g_assert_nonnull(strstr(tes_harness_log_text(n.d.h), "no frame after the 12-byte header"));
    g_assert_cmphex(vd_status(&n.d) & S_NEEDS_RESET, ==, 0);
    down(&n);
}

/* A frame of 70000 bytes is longer than any Ethernet frame with headers. */
static void test_tx_oversized_refused(void)
{
    net n;
    uint32_t head = 0, len = 0;
    uint64_t a = slot(1, 0);

    up(&n, "id=n0", "netdev=n0");
    g_assert_true(start(&n, BASE_F));
    memset(n.d.ram + a, 0, HDR);
    vd_desc(&n.d, n.d.q[1].desc, 0, a, HDR + 70000, 0, 0);
    vd_publish(&n.d, 1, 0);
    vd_kick(&n.d, 1);
    tes_harness_clock_step(n.d.h, 1);
    g_assert_true(vd_reap(&n.d, 1, &head, &len));
    g_assert_cmpuint(tes_harness_net_sent_count(n.d.h, "n0"), ==, 0);
    g_assert_nonnull(strstr(tes_harness_log_text(n.d.h), "refused"));
    down(&n);
}

static void test_rx_frame_into_buffer(void)
{
    net n;
    uint8_t f[300];
    uint32_t head = 0, len = 0;
    uint16_t nbufs;

    up(&n, "id=n0", "netdev=n0");
    g_assert_true(start(&n, BASE_F | F_MRG_RXBUF));
    post_rx(&n, 0, 4, 2048);
    eth_frame(f, our_mac, sizeof(f), 7);
    g_assert_cmpint(tes_harness_net_inject(n.d.h, "n0", 0, NULL, f, sizeof(f)), ==, 300);
    g_assert_true(vd_reap(&n.d, 0, &head, &len));
    g_assert_cmpuint(len, ==, HDR + 300);
    memcpy(&nbufs, n.d.ram + slot(0, head) + 10, 2);
    g_assert_cmpuint(nbufs, ==, 1);
    g_assert_cmpmem(n.d.ram + slot(0, head) + HDR, 300, f, 300);
    down(&n);
}

/* No buffer yet: the core keeps the frame; posting buffers (a kick) lets
 * it through, in order. */
static void test_rx_waits_for_buffers(void)
{
    net n;
    uint8_t f[100];
    uint32_t head = 0, len = 0;

    up(&n, "id=n0", "netdev=n0");
    g_assert_true(start(&n, BASE_F | F_MRG_RXBUF));
    for (int i = 0; i < 3; i++) {
        eth_frame(f, our_mac, sizeof(f), (uint8_t)i);
        g_assert_cmpint(tes_harness_net_inject(n.d.h, "n0", 0, NULL, f, sizeof(f)), ==, 0);
    }
    g_assert_cmpuint(tes_harness_net_queued(n.d.h, "n0"), ==, 3);
    post_rx(&n, 0, 8, 2048);
    tes_harness_net_poll(n.d.h);
    g_assert_cmpuint(tes_harness_net_queued(n.d.h, "n0"), ==, 0);
    for (int i = 0; i < 3; i++) {
        g_assert_true(vd_reap(&n.d, 0, &head, &len));
        g_assert_cmpuint(n.d.ram[slot(0, head) + HDR + 14], ==, (uint8_t)(i + 14));
    }
    down(&n);
}

/* Mergeable buffers: a 9000-byte frame from a vnet_hdr backend with
 * GUEST_TSO spreads over 1500-byte buffers, num_buffers says how many. */
static void test_rx_mergeable_spreads_big_frame(void)
{
    net n;
    static uint8_t f[9000];
    uint32_t head = 0, len = 0, total = 0;
    uint16_t nbufs;
    tes_net_hdr h = {.flags = 1, .gso_type = 1, .hdr_len = 54, .gso_size = 1448,
                     .csum_start = 34, .csum_offset = 16};

    up(&n, "id=n0,vnet_hdr=on", "netdev=n0");
    g_assert_cmphex(vd_device_features(&n.d) & (F_GUEST_CSUM | F_GUEST_TSO4), ==,
                    F_GUEST_CSUM | F_GUEST_TSO4);
    g_assert_true(start(&n, BASE_F | F_MRG_RXBUF | F_GUEST_CSUM | F_GUEST_TSO4));
    post_rx(&n, 0, 10, 1500);
    eth_frame(f, our_mac, sizeof(f), 1);
    g_assert_cmpint(tes_harness_net_inject(n.d.h, "n0", 0, &h, f, sizeof(f)), ==, 9000);
    g_assert_true(vd_reap(&n.d, 0, &head, &len));
    g_assert_cmpuint(n.d.ram[slot(0, head)], ==, 1);  /* NEEDS_CSUM passed on */
    g_assert_cmpuint(n.d.ram[slot(0, head) + 1], ==, 1); /* GSO TCPv4 */
    memcpy(&nbufs, n.d.ram + slot(0, head) + 10, 2);
    g_assert_cmpuint(nbufs, ==, 7); /* 9012 bytes in 1500-byte buffers */
    total = len;
    for (unsigned i = 1; i < nbufs; i++) {
        g_assert_true(vd_reap(&n.d, 0, &head, &len));
        total += len;
    }
    g_assert_cmpuint(total, ==, HDR + 9000);
    /* Too few buffers for the next one: it waits, the buffers stay. */
    g_assert_cmpint(tes_harness_net_inject(n.d.h, "n0", 0, &h, f, sizeof(f)), ==, 0);
    g_assert_cmpuint(vd_used_idx(&n.d, 0), ==, 7);
    post_rx(&n, 0, 10, 1500);
    tes_harness_net_poll(n.d.h);
    g_assert_cmpuint(vd_used_idx(&n.d, 0), ==, 14);
    down(&n);
}

/* A chain the device cannot use (device-readable) after a usable one, too
 * few bytes for the frame: the frame waits, and when buffers come it lands
 * in the usable chains; every chain comes back used exactly once (the bad
 * one with 0 bytes). Before, the bad chain was returned at once and the
 * rewind of the good one took back the bad one's ring slot instead: the
 * bad chain came back twice and the good one never. */
static void test_rx_bad_chain_after_good_one_used_once(void)
{
    net n;
    uint8_t f[1000];
    uint32_t head, len, seen[3] = {0}, got = 0, count = 0;
    uint16_t nbufs;

    up(&n, "id=n0", "netdev=n0");
    g_assert_true(start(&n, BASE_F | F_MRG_RXBUF));
    vd_desc(&n.d, n.d.q[0].desc, 0, slot(0, 0), 100, VD_F_WRITE, 0);
    vd_desc(&n.d, n.d.q[0].desc, 1, slot(0, 1), 64, 0, 0); /* device-readable */
    vd_publish(&n.d, 0, 0);
    vd_publish(&n.d, 0, 1);
    vd_kick(&n.d, 0);
    eth_frame(f, our_mac, sizeof(f), 3);
    g_assert_cmpint(tes_harness_net_inject(n.d.h, "n0", 0, NULL, f, sizeof(f)), ==, 0);
    vd_desc(&n.d, n.d.q[0].desc, 2, slot(0, 2), 2048, VD_F_WRITE, 0);
    vd_publish(&n.d, 0, 2);
    vd_kick(&n.d, 0);
    tes_harness_net_poll(n.d.h);
    while (vd_reap(&n.d, 0, &head, &len)) {
        g_assert_cmpuint(head, <, 3);
        seen[head % 3]++;
        count++;
        if (head == 0) {
            memcpy(&nbufs, n.d.ram + slot(0, 0) + 10, 2);
            g_assert_cmpuint(nbufs, ==, 2);
            g_assert_cmpmem(n.d.ram + slot(0, 0) + HDR, 100 - HDR, f, 100 - HDR);
        }
        got += head == 1 ? 0 : len;
        if (head == 1) {
            g_assert_cmpuint(len, ==, 0);
        }
    }
    g_assert_cmpuint(count, ==, 3);
    g_assert_cmpuint(seen[0], ==, 1);
    g_assert_cmpuint(seen[1], ==, 1);
    g_assert_cmpuint(seen[2], ==, 1);
    g_assert_cmpuint(got, ==, HDR + sizeof(f));
    g_assert_cmpmem(n.d.ram + slot(0, 2), sizeof(f) - (100 - HDR), f + 100 - HDR,
                    sizeof(f) - (100 - HDR));
    down(&n);
}

static void test_rx_small_buffer_without_mrg_drops(void)
{
    net n;
    uint8_t f[1000];

    up(&n, "id=n0", "netdev=n0");
    g_assert_true(start(&n, BASE_F));
    post_rx(&n, 0, 2, 500);
    eth_frame(f, our_mac, sizeof(f), 1);
    g_assert_cmpint(tes_harness_net_inject(n.d.h, "n0", 0, NULL, f, sizeof(f)), ==, 1000);
    g_assert_cmpuint(vd_used_idx(&n.d, 0), ==, 0); /* the buffer stays with the device */
    g_assert_nonnull(strstr(tes_harness_log_text(n.d.h), "too small"));
    /* A frame that fits still arrives. */
    g_assert_cmpint(tes_harness_net_inject(n.d.h, "n0", 0, NULL, f, 400), ==, 400);
    g_assert_cmpuint(vd_used_idx(&n.d, 0), ==, 1);
    down(&n);
}

static void test_rx_filter_follows_control_queue(void)
{
    net n;
    uint8_t f[100], off = 0, on = 1;
    static const uint8_t other[6] = {0x52, 0x54, 0, 0, 0, 0x99};
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

    up(&n, "id=n0", "netdev=n0");
    g_assert_true(start(&n, BASE_F | F_MRG_RXBUF));
    post_rx(&n, 0, 16, 2048);
    /* Reset state is promiscuous: a frame to another MAC arrives. */
    eth_frame(f, other, 100, 0);
    g_assert_cmpint(tes_harness_net_inject(n.d.h, "n0", 0, NULL, f, 100), ==, 100);
    g_assert_cmpuint(vd_used_idx(&n.d, 0), ==, 1);
    g_assert_cmpuint(ctrl(&n, 0, 0, &off, 1), ==, 0); /* PROMISC off */
    tes_harness_net_inject(n.d.h, "n0", 0, NULL, f, 100);
    g_assert_cmpuint(vd_used_idx(&n.d, 0), ==, 1); /* filtered */
    eth_frame(f, our_mac, 100, 0);
    tes_harness_net_inject(n.d.h, "n0", 0, NULL, f, 100);
    g_assert_cmpuint(vd_used_idx(&n.d, 0), ==, 2);
    eth_frame(f, bcast, 100, 0);
    tes_harness_net_inject(n.d.h, "n0", 0, NULL, f, 100);
    g_assert_cmpuint(vd_used_idx(&n.d, 0), ==, 3);
    g_assert_cmpuint(ctrl(&n, 0, 5, &on, 1), ==, 0); /* NOBCAST */
    tes_harness_net_inject(n.d.h, "n0", 0, NULL, f, 100);
    g_assert_cmpuint(vd_used_idx(&n.d, 0), ==, 3);
    /* MAC_ADDR_SET: the new address passes, the config shows it. */
    g_assert_cmpuint(ctrl(&n, 1, 1, other, 6), ==, 0);
    g_assert_cmphex(vd_cfg_read(&n.d, 5, 1), ==, 0x99);
    eth_frame(f, other, 100, 0);
    tes_harness_net_inject(n.d.h, "n0", 0, NULL, f, 100);
    g_assert_cmpuint(vd_used_idx(&n.d, 0), ==, 4);
    /* Bad commands answer ERR and are logged. */
    g_assert_cmpuint(ctrl(&n, 0, 9, &on, 1), ==, 1);
    g_assert_cmpuint(ctrl(&n, 7, 0, &on, 1), ==, 1);
    g_assert_cmpuint(ctrl(&n, 1, 1, other, 5), ==, 1);
    g_assert_nonnull(strstr(tes_harness_log_text(n.d.h), "control command class 7"));
    down(&n);
}

static void test_mac_table_and_overflow(void)
{
    net n;
    uint8_t tbl[4 + 6 + 4 + 6] = {1, 0, 0, 0, 0x52, 0x54, 0, 0, 0, 0x42, 1, 0, 0, 0,
                                  0x01, 0x00, 0x5e, 0, 0, 1};
    uint8_t f[100], off = 0;
    static const uint8_t uni[6] = {0x52, 0x54, 0, 0, 0, 0x42};
    static const uint8_t mc[6] = {0x01, 0x00, 0x5e, 0, 0, 1}, mc2[6] = {0x01, 0x00, 0x5e, 0, 0, 2};

    up(&n, "id=n0", "netdev=n0");
    g_assert_true(start(&n, BASE_F | F_MRG_RXBUF));
    post_rx(&n, 0, 16, 2048);
    g_assert_cmpuint(ctrl(&n, 0, 0, &off, 1), ==, 0);
    g_assert_cmpuint(ctrl(&n, 1, 0, tbl, sizeof(tbl)), ==, 0);
    tes_harness_net_inject(n.d.h, "n0", 0, NULL, (eth_frame(f, uni, 100, 0), f), 100);
    tes_harness_net_inject(n.d.h, "n0", 0, NULL, (eth_frame(f, mc, 100, 0), f), 100);
    tes_harness_net_inject(n.d.h, "n0", 0, NULL, (eth_frame(f, mc2, 100, 0), f), 100);
    g_assert_cmpuint(vd_used_idx(&n.d, 0), ==, 2);
    /* A table claiming more entries than it carries is refused. */
    tbl[0] = 9;
    g_assert_cmpuint(ctrl(&n, 1, 0, tbl, sizeof(tbl)), ==, 1);
    down(&n);
}

/* mq=on over a 4-queue backend: 4 pairs + control; VQ_PAIRS_SET; frames
 * of backend queue 2 land on RX queue 4. */
static void test_mq_pairs(void)
{
    net n;
    uint8_t f[100];
    uint16_t pairs = 4, bad = 5;
    unsigned q;

    up(&n, "id=n0,queues=4", "netdev=n0,mq=on");
    g_assert_cmpuint(n.nq, ==, 9);
    g_assert_cmpuint(vd_cfg_read(&n.d, 8, 2), ==, 4);
    g_assert_true(start(&n, BASE_F | F_MQ | F_MRG_RXBUF));
    for (unsigned i = 0; i < 4; i++) {
        post_rx(&n, 2 * i, 4, 2048);
    }
    g_assert_cmpuint(ctrl(&n, 4, 0, &bad, 2), ==, 1);
    g_assert_cmpuint(ctrl(&n, 4, 0, &pairs, 2), ==, 0);
    eth_frame(f, our_mac, 100, 0);
    g_assert_cmpint(tes_harness_net_inject(n.d.h, "n0", 2, NULL, f, 100), ==, 100);
    g_assert_cmpuint(vd_used_idx(&n.d, 4), ==, 1);
    g_assert_cmpuint(vd_used_idx(&n.d, 0), ==, 0);
    send_tx(&n, 7, zero_hdr, f, 100); /* TX of pair 3 */
    g_assert_cmpint(tes_harness_net_sent(n.d.h, "n0", f, sizeof(f), &q, NULL), ==, 100);
    g_assert_cmpuint(q, ==, 3);
    down(&n);
}

/* Our virtio_net_* lines, once switched on: control commands with their
 * ack, a queue pair change, frames sent, received and dropped (why), the
 * link going down. */
static void test_trace(void)
{
    static const char *const want[] = {
        "virtio_net_rx_drop queue 0: frame of 100 bytes dropped: driver not ready\n",
        "virtio_net_tx queue 1: frame of 100 bytes sent\n",
        "virtio_net_rx queue 0: frame of 100 bytes received in 1 buffers\n",
        "virtio_net_handle_ctrl class 0 cmd 0 (3 bytes) ack 0\n",
        "virtio_net_rx_drop queue 0: frame of 60 bytes dropped: receive filter\n",
        "virtio_net_handle_mq queue pairs 1 -> 2\n",
        "virtio_net_handle_ctrl class 4 cmd 0 (4 bytes) ack 0\n",
        "virtio_net_link_status link up 0\n",
        NULL,
    };
    static const uint8_t other[6] = {0x52, 0x54, 0, 0, 0, 0x99};
    uint8_t f[100], off = 0;
    uint16_t pairs = 2;
    g_autofree char *r = NULL;
    net n;

    up(&n, "id=n0,queues=2", "netdev=n0,mq=on");
    tes_harness_log_capture(n.d.h, TES_LOG_TRACE);
    eth_frame(f, our_mac, 100, 0);
    g_assert_cmpint(tes_harness_net_inject(n.d.h, "n0", 0, NULL, f, 100), ==, 100);
    g_assert_null(strstr(tes_harness_log_text(n.d.h), "virtio_net"));
    g_assert_true(vd_trace_on(n.d.h, "virtio_net_*"));
    g_assert_cmpint(tes_harness_net_inject(n.d.h, "n0", 0, NULL, f, 100), ==, 100);
    g_assert_true(start(&n, BASE_F | F_MQ | F_MRG_RXBUF));
    post_rx(&n, 0, 4, 2048);
    send_tx(&n, 1, zero_hdr, f, 100);
    g_assert_cmpint(tes_harness_net_inject(n.d.h, "n0", 0, NULL, f, 100), ==, 100);
    g_assert_cmpuint(ctrl(&n, 0, 0, &off, 1), ==, 0); /* PROMISC off */
    tes_harness_net_inject(n.d.h, "n0", 0, NULL, (eth_frame(f, other, 60, 0), f), 60);
    g_assert_cmpuint(ctrl(&n, 4, 0, &pairs, 2), ==, 0);
    g_assert_cmpuint(vd_used_idx(&n.d, 0), ==, 1);
    r = tes_harness_qmp(n.d.h, "{\"execute\": \"set_link\", "
                               "\"arguments\": {\"name\": \"n0\", \"up\": false}}");
    g_assert_nonnull(strstr(r, "\"return\""));
    g_assert_cmpstr(vd_log_missing(n.d.h, want), ==, NULL);
    down(&n);
}

/* mq=on,queues=4 over a single-queue backend: flows spread by hash. */
static void test_mq_spreads_flows_over_single_queue_backend(void)
{
    net n;
    uint8_t f[100];
    uint16_t pairs = 4;
    unsigned used = 0;

    up(&n, "id=n0", "netdev=n0,mq=on,queues=4");
    g_assert_cmpuint(n.nq, ==, 9);
    g_assert_true(start(&n, BASE_F | F_MQ | F_MRG_RXBUF));
    for (unsigned i = 0; i < 4; i++) {
        post_rx(&n, 2 * i, 32, 2048);
    }
    g_assert_cmpuint(ctrl(&n, 4, 0, &pairs, 2), ==, 0);
    for (unsigned port = 0; port < 32; port++) {
        memset(f, 0, sizeof(f));
        memcpy(f, our_mac, 6);
        f[12] = 0x08; f[14] = 0x45; f[23] = 17;
        f[34] = (uint8_t)port;
        g_assert_cmpint(tes_harness_net_inject(n.d.h, "n0", 0, NULL, f, 100), ==, 100);
    }
    for (unsigned i = 0; i < 4; i++) {
        used += vd_used_idx(&n.d, 2 * i) > 0;
    }
    g_assert_cmpuint(used, >, 1);
    down(&n);
}

static void test_rx_ring_outside_ram_needs_reset(void)
{
    net n;
    uint8_t f[100];

    up(&n, "id=n0", "netdev=n0");
    g_assert_true(start(&n, BASE_F | F_MRG_RXBUF));
    vd_desc(&n.d, n.d.q[0].desc, 0, RAM_SIZE + 0x100000, 2048, VD_F_WRITE, 0);
    vd_publish(&n.d, 0, 0);
    vd_kick(&n.d, 0);
    eth_frame(f, our_mac, 100, 0);
    tes_harness_net_inject(n.d.h, "n0", 0, NULL, f, 100);
    tes_harness_net_poll(n.d.h);
    g_assert_cmphex(vd_status(&n.d) & S_NEEDS_RESET, ==, S_NEEDS_RESET);
    /* Reset and it works again. */
    g_assert_true(start(&n, BASE_F | F_MRG_RXBUF));
    post_rx(&n, 0, 2, 2048);
    tes_harness_net_poll(n.d.h);
    g_assert_cmpint(tes_harness_net_inject(n.d.h, "n0", 0, NULL, f, 100), ==, 100);
    down(&n);
}

static void test_rx_descriptor_loop_needs_reset(void)
{
    net n;
    uint8_t f[100];

    up(&n, "id=n0", "netdev=n0");
    g_assert_true(start(&n, BASE_F | F_MRG_RXBUF));
    vd_desc(&n.d, n.d.q[0].desc, 0, slot(0, 0), 64, VD_F_WRITE | VD_F_NEXT, 1);
    vd_desc(&n.d, n.d.q[0].desc, 1, slot(0, 1), 64, VD_F_WRITE | VD_F_NEXT, 0);
    vd_publish(&n.d, 0, 0);
    vd_kick(&n.d, 0);
    eth_frame(f, our_mac, 100, 0);
    tes_harness_net_inject(n.d.h, "n0", 0, NULL, f, 100);
    g_assert_cmphex(vd_status(&n.d) & S_NEEDS_RESET, ==, S_NEEDS_RESET);
    down(&n);
}

static void test_migration_keeps_filter_and_mac(void)
{
    net n;
    size_t bytes = 0;
    uint8_t off = 0, f[100];
    static const uint8_t other[6] = {0x52, 0x54, 0, 0, 0, 0x77};
    tes_device *nd;

    up(&n, "id=n0", "netdev=n0");
    g_assert_true(start(&n, BASE_F | F_MRG_RXBUF));
    post_rx(&n, 0, 8, 2048);
    g_assert_cmpuint(ctrl(&n, 0, 0, &off, 1), ==, 0);
    g_assert_cmpuint(ctrl(&n, 1, 1, other, 6), ==, 0);
    nd = tes_harness_migrate(n.d.h, n.d.dev, &bytes);
    g_assert_nonnull(nd);
    n.d.dev = nd;
    g_assert_cmphex(vd_cfg_read(&n.d, 5, 1), ==, 0x77);
    /* Filter state came along: the old MAC is filtered, the new passes. */
    tes_harness_net_inject(n.d.h, "n0", 0, NULL, (eth_frame(f, our_mac, 100, 0), f), 100);
    g_assert_cmpuint(vd_used_idx(&n.d, 0), ==, 0);
    tes_harness_net_inject(n.d.h, "n0", 0, NULL, (eth_frame(f, other, 100, 0), f), 100);
    g_assert_cmpuint(vd_used_idx(&n.d, 0), ==, 1);
    down(&n);
}

static void test_no_netdev_drops_quietly(void)
{
    net n;
    uint8_t f[100] = {0};
    uint32_t head = 0, len = 0;

    memset(&n, 0, sizeof(n));
    n.d.h = tes_harness_new(RAM_SIZE);
    g_assert_true(tes_harness_load(n.d.h, plugin_path));
    n.d.ram = tes_harness_ram(n.d.h);
    n.d.dev = tes_harness_device(n.d.h, "virtio-net-pci", NULL);
    g_assert_nonnull(n.d.dev);
    n.d.pci = true;
    n.d.base = VD_BAR4;
    tes_harness_bar_map(n.d.h, n.d.dev, 4, VD_BAR4);
    n.nq = vd_num_queues(&n.d);
    g_assert_true(start(&n, BASE_F));
    g_assert_cmpuint(vd_cfg_read(&n.d, 6, 2), ==, 1);
    send_tx(&n, 1, zero_hdr, f, sizeof(f));
    g_assert_true(vd_reap(&n.d, 1, &head, &len));
    down(&n);
}

static void test_vectors_property(void)
{
    net n;
    int cap = 0;

    up(&n, "id=n0,queues=4", "netdev=n0,mq=on,vectors=9");
    for (unsigned p = tes_harness_cfg_read(n.d.h, n.d.dev, 0x34, 1); p;
         p = tes_harness_cfg_read(n.d.h, n.d.dev, p + 1, 1)) {
        if (tes_harness_cfg_read(n.d.h, n.d.dev, p, 1) == 0x11) {
            cap = p;
        }
    }
    g_assert_cmpint(cap, !=, 0);
    g_assert_cmpuint((tes_harness_cfg_read(n.d.h, n.d.dev, cap + 2, 2) & 0x7ff) + 1, ==, 9);
    down(&n);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    plugin_path = g_getenv("VIRTIO_PLUGIN");
    if (!plugin_path && argc > 1) {
        plugin_path = argv[1];
    }
    g_assert_nonnull(plugin_path);
    g_test_add_func("/virtio-net/pci/ids-default-mac-link-status", test_ids_mac_link);
    g_test_add_func("/virtio-net/props/mac-and-netdev-refusals", test_mac_property_and_second_default);
    g_test_add_func("/virtio-net/props/vectors-sizes-msix-table", test_vectors_property);
    g_test_add_func("/virtio-net/tx/frame-reaches-backend", test_tx_frame_reaches_backend);
    g_test_add_func("/virtio-net/tx/batched-after-kick", test_tx_batched_after_kick);
    g_test_add_func("/virtio-net/tx/tso-segmented-for-plain-backend",
                    test_tx_tso_segmented_for_plain_backend);
    g_test_add_func("/virtio-net/tx/gso-without-feature-is-guest-error",
                    test_tx_gso_without_feature_is_guest_error);
    g_test_add_func("/virtio-net/tx/bad-chains-logged-and-returned",
                    test_tx_bad_chains_logged_and_returned);
    g_test_add_func("/virtio-net/tx/oversized-frame-refused", test_tx_oversized_refused);
    g_test_add_func("/virtio-net/tx/no-netdev-drops-quietly", test_no_netdev_drops_quietly);
    g_test_add_func("/virtio-net/rx/bad-chain-after-good-one-used-once",
                    test_rx_bad_chain_after_good_one_used_once);
    g_test_add_func("/virtio-net/rx/frame-into-buffer", test_rx_frame_into_buffer);
    g_test_add_func("/virtio-net/rx/waits-for-buffers-in-order", test_rx_waits_for_buffers);
    g_test_add_func("/virtio-net/rx/mergeable-spreads-big-frame",
                    test_rx_mergeable_spreads_big_frame);
    g_test_add_func("/virtio-net/rx/small-buffer-without-mrg-drops",
                    test_rx_small_buffer_without_mrg_drops);
    g_test_add_func("/virtio-net/rx/ring-outside-ram-needs-reset",
                    test_rx_ring_outside_ram_needs_reset);
    g_test_add_func("/virtio-net/rx/descriptor-loop-needs-reset",
                    test_rx_descriptor_loop_needs_reset);
    g_test_add_func("/virtio-net/ctrl/rx-filter-follows-control-queue",
                    test_rx_filter_follows_control_queue);
    g_test_add_func("/virtio-net/ctrl/mac-table-and-bad-table", test_mac_table_and_overflow);
    g_test_add_func("/virtio-net/mq/pairs-set-and-queue-mapping", test_mq_pairs);
    g_test_add_func("/virtio-net/trace/ctrl-mq-tx-rx-drops", test_trace);
    g_test_add_func("/virtio-net/mq/flows-spread-over-single-queue-backend",
                    test_mq_spreads_flows_over_single_queue_backend);
    g_test_add_func("/virtio-net/migration/keeps-filter-and-mac",
                    test_migration_keeps_filter_and_mac);
    return g_test_run();
}
