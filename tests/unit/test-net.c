/*
 * Unit tests of the network core: frames between a NIC (played by this
 * test through the 1.3 host entries) and a backend (a loop backend of the
 * test), back-pressure, deferred delivery, software offloads, queues,
 * link state, option parsing and MAC addresses.
 */
#include <errno.h>
#include <string.h>

#include "net-int.h"

/* ---- a backend that records what it is sent ---- */

typedef struct loop {
    GPtrArray *sent;      /* GBytes* */
    unsigned last_bq;
    unsigned rx_ready;    /* rx_ready calls */
    tes_netdev *echo_to;  /* answer every send at once, as slirp does */
} loop;

static loop lb;

static bool loop_init(tes_netdev *nd, net_opts *o, char **errp)
{
    bool vnet;

    if (!net_opt_uint(o, "queues", 1, NET_MAX_QUEUES, &nd->nqueues, errp) ||
        !net_opt_bool(o, "vnet_hdr", false, &vnet, errp)) {
        return false;
    }
    nd->offloads = vnet ? TES_NET_OFFLOAD_CSUM | TES_NET_OFFLOAD_TSO4 : 0;
    return true;
}

static void loop_send(tes_netdev *nd, unsigned bq, const tes_net_hdr *hdr,
                      const struct iovec *iov, unsigned iovcnt)
{
    GByteArray *b = g_byte_array_new();

    for (unsigned i = 0; i < iovcnt; i++) {
        g_byte_array_append(b, iov[i].iov_base, iov[i].iov_len);
    }
    lb.last_bq = bq;
    if (lb.echo_to) {
        net_deliver(lb.echo_to, 0, NULL, b->data, b->len);
    }
    g_ptr_array_add(lb.sent, g_byte_array_free_to_bytes(b));
}

static void loop_rx_ready(tes_netdev *nd)
{
    lb.rx_ready++;
}

static const net_backend loop_backend = {
    .type = "loop", .init = loop_init, .send = loop_send, .rx_ready = loop_rx_ready,
};

/* ---- a NIC ---- */

typedef struct nic {
    bool full;            /* can_receive says no */
    bool refuse;          /* receive returns 0 */
    bool inside;          /* inside a net_* call of ours */
    bool nested;          /* receive ran while inside: a contract breach */
    GPtrArray *got;       /* GBytes* received */
    unsigned queue_of[32]; /* queue of each frame received */
    int link;             /* -1: no link_changed yet */
} nic;

static nic n;

static bool nic_can_receive(void *opaque, unsigned queue)
{
    return !n.full;
}

static int nic_receive(void *opaque, unsigned queue, const tes_net_hdr *hdr, const uint8_t *buf,
                       size_t len)
{
    if (n.inside) {
        n.nested = true;
    }
    if (n.refuse) {
        return 0;
    }
    if (n.got->len < G_N_ELEMENTS(n.queue_of)) {
        n.queue_of[n.got->len] = queue;
    }
    g_ptr_array_add(n.got, g_bytes_new(buf, len));
    return (int)len;
}

static void nic_link(void *opaque, bool up)
{
    n.link = up;
}

static const tes_net_ops nic_ops = {
    .size = sizeof(tes_net_ops),
    .can_receive = nic_can_receive,
    .receive = nic_receive,
    .link_changed = nic_link,
};

static tes_device fake_dev;
static uint8_t nic_mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};

static tes_netdev *setup(const char *opts)
{
    net_opts o = {0};
    char *err = NULL;
    tes_netdev *nd;

    netdevs_close_all();
    if (lb.sent) {
        g_ptr_array_unref(lb.sent);
    }
    memset(&lb, 0, sizeof(lb));
    lb.sent = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    if (n.got) {
        g_ptr_array_unref(n.got);
    }
    memset(&n, 0, sizeof(n));
    n.got = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    n.link = -1;
    g_assert_true(net_opts_parse(opts, &o, &err));
    nd = netdev_create("n0", &loop_backend, &o, &err);
    g_assert_no_error(NULL);
    g_assert_nonnull(nd);
    net_opts_free(&o);
    g_assert_true(netdev_claim(nd, "nic0", NULL));
    g_assert_cmpint(net_attach(&fake_dev, nd, &nic_ops, &n, nic_mac), ==, 0);
    return nd;
}

static int send1(tes_netdev *nd, unsigned q, const tes_net_hdr *hdr, const void *buf, size_t len)
{
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    int ret;

    n.inside = true;
    ret = net_send(nd, q, hdr, &iov, 1);
    n.inside = false;
    return ret;
}

static void test_deliver_direct(void)
{
    tes_netdev *nd = setup("id=n0");
    uint8_t f[64] = {1, 2, 3};

    g_assert_true(net_deliver(nd, 0, NULL, f, sizeof(f)));
    g_assert_cmpuint(n.got->len, ==, 1);
    g_assert_cmpuint(net_pending_count(nd), ==, 0);
}

/* A full NIC keeps frames in order; flush and the idle work deliver them
 * and tell the backend to resume. */
static void test_backpressure_keeps_order(void)
{
    tes_netdev *nd = setup("id=n0");
    uint8_t f[60] = {0};

    n.full = true;
    for (int i = 0; i < 3; i++) {
        f[0] = i;
        g_assert_false(net_deliver(nd, 0, NULL, f, sizeof(f)));
    }
    g_assert_cmpuint(net_pending_count(nd), ==, 3);
    n.full = false;
    /* A new frame must not overtake the kept ones. */
    f[0] = 3;
    g_assert_false(net_deliver(nd, 0, NULL, f, sizeof(f)));
    g_assert_cmpuint(n.got->len, ==, 0);
    net_flush(nd, 0);
    g_assert_cmpuint(n.got->len, ==, 0); /* never from inside net_flush */
    g_assert_cmpuint(nd->bh, !=, 0);
    net_run_pending(nd);
    g_assert_cmpuint(n.got->len, ==, 4);
    for (int i = 0; i < 4; i++) {
        gsize len;
        const uint8_t *d = g_bytes_get_data(g_ptr_array_index(n.got, i), &len);
        g_assert_cmpint(d[0], ==, i);
    }
    g_assert_cmpuint(lb.rx_ready, ==, 1);
}

static void test_receive_zero_is_kept(void)
{
    tes_netdev *nd = setup("id=n0");
    uint8_t f[60] = {0};

    n.refuse = true;
    g_assert_cmpint(net_deliver_ret(nd, 0, NULL, f, sizeof(f)), ==, 0);
    g_assert_cmpuint(net_pending_count(nd), ==, 1);
    n.refuse = false;
    net_flush(nd, 0);
    net_run_pending(nd);
    g_assert_cmpuint(n.got->len, ==, 1);
    g_assert_cmpuint(net_pending_count(nd), ==, 0);
}

/* A backend answering from inside net_send (slirp) does not reach the
 * NIC's receive before net_send returned. */
static void test_answer_during_send_is_deferred(void)
{
    tes_netdev *nd = setup("id=n0");
    uint8_t f[60] = {0xff};

    lb.echo_to = nd;
    g_assert_cmpint(send1(nd, 0, NULL, f, sizeof(f)), ==, 60);
    g_assert_false(n.nested);
    g_assert_cmpuint(n.got->len, ==, 0);
    g_assert_cmpuint(nd->bh, !=, 0);
    net_run_pending(nd);
    g_assert_cmpuint(n.got->len, ==, 1);
}

static void test_send_bad_lengths(void)
{
    tes_netdev *nd = setup("id=n0");
    static uint8_t big[TES_NET_MAX_FRAME + 1];
    struct iovec iov = {.iov_base = big, .iov_len = 0};

    g_assert_cmpint(net_send(nd, 0, NULL, &iov, 1), ==, -EINVAL);
    g_assert_cmpint(send1(nd, 0, NULL, big, sizeof(big)), ==, -EINVAL);
    g_assert_cmpuint(lb.sent->len, ==, 0);
    /* No backend at all: dropped, reported as sent. */
    g_assert_cmpint(send1(NULL, 0, NULL, big, 100), ==, 100);
    g_assert_true(net_link_up(NULL));
    g_assert_cmpuint(net_queues(NULL), ==, 1);
}

static void test_link_down_drops_both_ways(void)
{
    tes_netdev *nd = setup("id=n0");
    uint8_t f[60] = {0};
    char *err = NULL;

    g_assert_true(netdev_set_link("nic0", false, &err)); /* by the NIC's name */
    g_assert_cmpint(n.link, ==, 0);
    g_assert_false(net_link_up(nd));
    g_assert_cmpint(send1(nd, 0, NULL, f, sizeof(f)), ==, 60);
    g_assert_cmpuint(lb.sent->len, ==, 0);
    g_assert_true(net_deliver(nd, 0, NULL, f, sizeof(f)));
    g_assert_cmpuint(n.got->len, ==, 0);
    g_assert_true(netdev_set_link("n0", true, &err));
    g_assert_cmpint(n.link, ==, 1);
    g_assert_false(netdev_set_link("nope", true, &err));
    g_assert_cmpstr(err, ==, "Device 'nope' not found");
    g_free(err);
}

/* ---- frames for the offload tests ---- */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t s)
{
    for (size_t i = 0; i < len; i += 2) {
        s += (uint32_t)(p[i] << 8) | (i + 1 < len ? p[i + 1] : 0);
    }
    return s;
}

static uint16_t fold(uint32_t s)
{
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t)s;
}

/* True when the IPv4 header and TCP/UDP checksum of frame verify. */
static bool checksums_ok(const uint8_t *f, size_t len)
{
    const uint8_t *ip = f + 14;
    size_t ihl = (ip[0] & 15) * 4, l4len = len - 14 - ihl;
    uint32_t ps = sum16(ip + 12, 8, 0) + ip[9] + (uint32_t)l4len;

    if (fold(sum16(ip, ihl, 0)) != 0xffff) {
        return false;
    }
    return fold(sum16(ip + ihl, l4len, ps)) == 0xffff;
}

/* Ethernet + IPv4 + TCP (20 bytes) with payload bytes i & 0xff. */
static size_t tcp_frame(uint8_t *f, size_t payload, uint8_t flags)
{
    size_t len = 14 + 20 + 20 + payload;

    memset(f, 0, len);
    put16(f + 12, 0x0800);
    f[14] = 0x45;
    put16(f + 16, (uint16_t)(len - 14));
    put16(f + 18, 0x1000); /* id */
    f[22] = 64;
    f[23] = 6;
    memcpy(f + 26, (uint8_t[]){10, 0, 2, 15, 10, 0, 2, 2}, 8);
    put16(f + 34, 40000);
    put16(f + 36, 80);
    f[38] = 0x01; /* seq 0x01000000 */
    f[46] = 5 << 4;
    f[47] = flags;
    for (size_t i = 0; i < payload; i++) {
        f[54 + i] = (uint8_t)i;
    }
    return len;
}

static void test_software_checksum(void)
{
    tes_netdev *nd = setup("id=n0");
    uint8_t f[200];
    size_t len = tcp_frame(f, 100, 0x18);
    tes_net_hdr hdr = {.flags = TES_NET_HDR_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 16};
    uint32_t ps = sum16(f + 26, 8, 0) + 6 + (len - 34);
    gsize got;

    /* IP header checksum as the guest stack fills it; TCP field holds the
     * pseudo-header sum (CHECKSUM_PARTIAL). */
    put16(f + 24, (uint16_t)~fold(sum16(f + 14, 20, 0)));
    put16(f + 50, fold(ps));
    g_assert_cmpint(send1(nd, 0, &hdr, f, len), ==, (int)len);
    g_assert_cmpuint(lb.sent->len, ==, 1);
    const uint8_t *out = g_bytes_get_data(g_ptr_array_index(lb.sent, 0), &got);
    g_assert_cmpuint(got, ==, len);
    g_assert_true(checksums_ok(out, got));
}

static void test_bad_header_refused(void)
{
    tes_netdev *nd = setup("id=n0");
    uint8_t f[200];
    size_t len = tcp_frame(f, 10, 0);
    tes_net_hdr csum = {.flags = TES_NET_HDR_F_NEEDS_CSUM, .csum_start = 60, .csum_offset = 10};
    tes_net_hdr gso = {.gso_type = TES_NET_GSO_TCPV4, .gso_size = 0};
    tes_net_hdr udp = {.gso_type = TES_NET_GSO_UDP, .gso_size = 100};

    g_assert_cmpint(send1(nd, 0, &csum, f, len), ==, -EINVAL);
    g_assert_cmpint(send1(nd, 0, &gso, f, len), ==, -EINVAL);
    g_assert_cmpint(send1(nd, 0, &udp, f, len), ==, -EINVAL); /* not UDP */
    f[14] = 0x4f; /* IHL 60 bytes: TCP header past the frame's end */
    gso.gso_size = 100;
    g_assert_cmpint(send1(nd, 0, &gso, f, 14 + 20 + 5), ==, -EINVAL);
    g_assert_cmpuint(lb.sent->len, ==, 0);
}

static void test_software_tso_segments(void)
{
    tes_netdev *nd = setup("id=n0");
    static uint8_t f[14 + 40 + 10000];
    size_t len = tcp_frame(f, 10000, 0x19); /* FIN|PSH|ACK */
    tes_net_hdr hdr = {.flags = TES_NET_HDR_F_NEEDS_CSUM, .gso_type = TES_NET_GSO_TCPV4,
                       .hdr_len = 54, .gso_size = 1448, .csum_start = 34, .csum_offset = 16};
    size_t total = 0;

    g_assert_cmpint(send1(nd, 0, &hdr, f, len), ==, (int)len);
    g_assert_cmpuint(lb.sent->len, ==, 7); /* ceil(10000 / 1448) */
    for (guint i = 0; i < lb.sent->len; i++) {
        gsize sl;
        const uint8_t *s = g_bytes_get_data(g_ptr_array_index(lb.sent, i), &sl);
        bool last = i == lb.sent->len - 1;

        g_assert_cmpuint(sl, ==, 54 + (last ? 10000 - 6 * 1448 : 1448));
        g_assert_cmpuint(get16(s + 16), ==, sl - 14);
        g_assert_cmpuint(get16(s + 18), ==, 0x1000 + i);
        g_assert_cmpuint(((uint32_t)get16(s + 38) << 16 | get16(s + 40)), ==,
                         0x01000000 + i * 1448);
        g_assert_cmpint(s[47] & 0x09, ==, last ? 0x09 : 0); /* FIN, PSH last only */
        g_assert_cmpint(s[54], ==, (uint8_t)(i * 1448));
        g_assert_true(checksums_ok(s, sl));
        total += sl - 54;
    }
    g_assert_cmpuint(total, ==, 10000);
}

/* A backend with a vnet header gets the header through, untouched. */
static void test_native_offload_passes_header(void)
{
    tes_netdev *nd = setup("id=n0,vnet_hdr=on");
    static uint8_t f[14 + 40 + 5000];
    size_t len = tcp_frame(f, 5000, 0x10);
    tes_net_hdr hdr = {.flags = TES_NET_HDR_F_NEEDS_CSUM, .gso_type = TES_NET_GSO_TCPV4,
                       .gso_size = 1448, .csum_start = 34, .csum_offset = 16};

    g_assert_cmpuint(net_offloads(nd), ==, TES_NET_OFFLOAD_CSUM | TES_NET_OFFLOAD_TSO4);
    g_assert_cmpint(send1(nd, 0, &hdr, f, len), ==, (int)len);
    g_assert_cmpuint(lb.sent->len, ==, 1);
    /* Receive offloads: only what the backend has. */
    g_assert_cmpuint(net_set_rx_offloads(nd, TES_NET_OFFLOAD_CSUM | TES_NET_OFFLOAD_UFO), ==,
                     TES_NET_OFFLOAD_CSUM);
}

static void test_queues_spread_by_flow(void)
{
    tes_netdev *nd = setup("id=n0");
    uint8_t f[100];
    unsigned seen = 0;

    g_assert_cmpint(net_set_queues(nd, 0), ==, -EINVAL);
    g_assert_cmpint(net_set_queues(nd, 4), ==, 0);
    /* Source ports as Linux picks them for connect(): all even. */
    for (int port = 0; port < 16; port++) {
        tcp_frame(f, 10, 0);
        put16(f + 34, 40000 + 2 * port);
        g_assert_true(net_deliver(nd, 0, NULL, f, 64));
    }
    for (int i = 0; i < 16; i++) {
        g_assert_cmpuint(n.queue_of[i], <, 4);
        seen |= 1u << n.queue_of[i];
    }
    g_assert_cmpuint(seen, ==, 0xf); /* every queue gets flows */
    /* The same flow lands on the same queue. */
    put16(f + 34, 40006);
    g_assert_true(net_deliver(nd, 0, NULL, f, 64));
    g_assert_cmpuint(n.queue_of[16], ==, n.queue_of[3]);
    /* Two queues: the even ports still use both. */
    g_assert_cmpint(net_set_queues(nd, 2), ==, 0);
    seen = 0;
    for (int port = 0; port < 8; port++) {
        put16(f + 34, 50000 + 2 * port);
        g_assert_true(net_deliver(nd, 0, NULL, f, 64));
        seen |= 1u << n.queue_of[17 + port];
    }
    g_assert_cmpuint(seen, ==, 3);
    /* Sends from NIC queue 3 go out on backend queue 3 % 1. */
    g_assert_cmpint(send1(nd, 3, NULL, f, 64), ==, 64);
    g_assert_cmpuint(lb.last_bq, ==, 0);
}

static void test_tap_like_queues_map_one_to_one(void)
{
    tes_netdev *nd = setup("id=n0,queues=4");
    uint8_t f[64] = {0};

    g_assert_cmpuint(net_queues(nd), ==, 4);
    net_set_queues(nd, 4);
    g_assert_true(net_deliver(nd, 2, NULL, f, sizeof(f)));
    g_assert_cmpuint(n.queue_of[0], ==, 2);
    g_assert_cmpint(send1(nd, 3, NULL, f, sizeof(f)), ==, 64);
    g_assert_cmpuint(lb.last_bq, ==, 3);
}

static void test_options_refused(void)
{
    net_opts o = {0};
    char *err = NULL;

    netdevs_close_all();
    g_assert_true(net_opts_parse("id=x,queues=0", &o, &err));
    g_assert_null(netdev_create("x", &loop_backend, &o, &err));
    g_assert_cmpstr(err, ==, "netdev 'x': option 'queues' wants 1..64, got '0'");
    g_clear_pointer(&err, g_free);
    net_opts_free(&o);
    g_assert_true(net_opts_parse("id=x,bogus=1", &o, &err));
    g_assert_null(netdev_create("x", &loop_backend, &o, &err));
    g_assert_cmpstr(err, ==, "netdev 'x': unknown option 'bogus' for type loop");
    g_clear_pointer(&err, g_free);
    net_opts_free(&o);
    g_assert_false(netdev_add("nosuch,id=y", &err));
    g_assert_nonnull(strstr(err, "unknown type 'nosuch'"));
    g_clear_pointer(&err, g_free);
    /* ",," is a comma inside a value. */
    g_assert_true(net_opts_parse("id=z,script=/a,,b", &o, &err));
    g_assert_cmpstr(net_opt_get(&o, "script"), ==, "/a,b");
    net_opts_free(&o);
}

/* -net nic,vlan=N pairs with -net BACKEND,vlan=N: vlan= is the pairing's,
 * not an unknown NIC option, and the options taken out are freed (found by
 * fuzz-cli: "unknown option 'vlan=1'", and a leak under LeakSanitizer). */
static void test_net_vlan_option_taken(void)
{
    GPtrArray *none = g_ptr_array_new(), *nets = g_ptr_array_new();
    char *err = NULL;

    netdevs_close_all();
    net_dry_run = true; /* no slirp: the pairing is what is tested */
    g_ptr_array_add(nets, "nic,vlan=1,macaddr=52:54:00:00:00:01,name=a");
    g_ptr_array_add(nets, "user,vlan=1,name=b");
    g_assert_true(net_cli_backends(none, none, nets, &err));
    g_assert_null(err);
    g_assert_true(net_cli_create_nics(&err));
    g_ptr_array_set_size(nets, 0);
    g_ptr_array_add(nets, "nic,vlan=2,bogus=1");
    g_assert_false(net_cli_backends(none, none, nets, &err));
    g_assert_cmpstr(err, ==, "-net nic: unknown option 'bogus=1'");
    g_clear_pointer(&err, g_free);
    net_cli_create_nics(&err);
    net_dry_run = false;
    netdevs_close_all();
    g_ptr_array_free(none, true);
    g_ptr_array_free(nets, true);
}

/* -netdev user,net= (empty): one line, not a NULL inet_pton (found by
 * fuzz-cli: SIGSEGV). */
static void test_user_empty_net_refused(void)
{
    char *err = NULL;

    netdevs_close_all();
    g_assert_false(netdev_add("user,id=u0,net=", &err));
    g_assert_cmpstr(err, ==, "netdev 'u0': net= wants ADDR[/MASK], got ''");
    g_clear_pointer(&err, g_free);
    g_assert_false(netdev_add("user,id=u0,net=/24", &err));
    g_clear_pointer(&err, g_free);
}

static void test_mac_addresses(void)
{
    uint8_t mac[6];
    char *s;

    g_assert_true(net_parse_mac("52:54:00:ab:cd:ef", mac));
    g_assert_cmpint(mac[5], ==, 0xef);
    g_assert_false(net_parse_mac("01:00:5e:00:00:01", mac)); /* multicast */
    g_assert_false(net_parse_mac("52:54:00:ab:cd", mac));
    g_assert_false(net_parse_mac("52:54:00:ab:cd:ef:00", mac));
    net_reset_macs();
    net_default_mac(mac);
    s = net_format_mac(mac);
    g_assert_cmpstr(s, ==, "52:54:00:12:34:56");
    g_free(s);
    net_default_mac(mac);
    g_assert_cmpint(mac[5], ==, 0x57);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/net/rx/delivered-straight-to-a-ready-nic", test_deliver_direct);
    g_test_add_func("/net/rx/full-nic-keeps-frames-in-order-until-flush",
                    test_backpressure_keeps_order);
    g_test_add_func("/net/rx/receive-returning-zero-keeps-the-frame", test_receive_zero_is_kept);
    g_test_add_func("/net/rx/answer-during-send-is-deferred", test_answer_during_send_is_deferred);
    g_test_add_func("/net/tx/bad-lengths-refused-null-netdev-drops", test_send_bad_lengths);
    g_test_add_func("/net/link/down-drops-both-ways", test_link_down_drops_both_ways);
    g_test_add_func("/net/offload/software-checksum", test_software_checksum);
    g_test_add_func("/net/offload/bad-header-refused", test_bad_header_refused);
    g_test_add_func("/net/offload/software-tso-segments", test_software_tso_segments);
    g_test_add_func("/net/offload/native-backend-gets-header", test_native_offload_passes_header);
    g_test_add_func("/net/queues/spread-by-flow-over-one-backend-queue",
                    test_queues_spread_by_flow);
    g_test_add_func("/net/queues/multi-queue-backend-maps-one-to-one",
                    test_tap_like_queues_map_one_to_one);
    g_test_add_func("/net/options/refused-with-one-line", test_options_refused);
    g_test_add_func("/net/mac/parse-and-defaults", test_mac_addresses);
    g_test_add_func("/net/cli/net-vlan-option-taken-and-freed", test_net_vlan_option_taken);
    g_test_add_func("/net/options/user-empty-net-refused", test_user_empty_net_refused);
    return g_test_run();
}
