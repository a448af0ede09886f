/*
 * tessera core: -netdev user, user-mode networking through libslirp.
 *
 *   -netdev user,id=ID[,net=10.0.2.0/24][,host=10.0.2.2][,dhcpstart=10.0.2.15]
 *          [,dns=10.0.2.3][,ipv4=on][,ipv6=on][,restrict=on|off]
 *          [,hostname=H][,domainname=D][,tftp=DIR][,bootfile=F]
 *          [,hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT]...
 *          [,guestfwd=[tcp]:SERVER:PORT-cmd:COMMAND]...
 *
 * The guest sees QEMU's network: gateway and host at 10.0.2.2, DNS at
 * 10.0.2.3, DHCP leases from 10.0.2.15. restrict=on keeps the guest from
 * reaching anything but the forwarded ports and the virtual hosts.
 *
 * libslirp is not thread-safe and runs on the machine lock: the NIC calls
 * slirp_input from net_send on a vCPU thread, and the main loop runs
 * slirp's sockets and timers under the same lock. Its sockets are polled
 * by a GSource whose prepare() asks slirp which fds and events it wants
 * (slirp_pollfds_fill) and whose dispatch() hands the results back
 * (slirp_pollfds_poll); notify() wakes the main loop when a frame from
 * the guest opened a socket the current poll() does not watch yet. Its
 * timers are core virtual-clock timers, as QEMU's are.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <slirp/libslirp.h>
#include <string.h>

#include "net-int.h"

typedef struct slirp_src {
    GSource src;
    struct user_net *u;
} slirp_src;

typedef struct user_net {
    tes_netdev *nd;
    Slirp *slirp;
    GSource *src;
    GArray *pfds; /* GPollFD, registered with the source */
    gint wake_pending; /* a wakeup asked since the last prepare */
    bool restrict_;
    struct in_addr net, mask, host, dhcp, dns;
} user_net;

/* ---- slirp's callbacks (machine lock held: we called into slirp) ---- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
    user_net *u = opaque;

    if (len > TES_NET_MAX_FRAME) {
        return -1;
    }
    net_deliver(u->nd, 0, NULL, buf, len);
    return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
    core_log(TES_LOG_GUEST_ERROR, "netdev user: %s", msg);
}

static int64_t cb_clock_ns(void *opaque)
{
    return clock_ns();
}

typedef struct slirp_timer {
    tes_timer *t;
    user_net *u;
    SlirpTimerId id;
    void *cb_opaque;
} slirp_timer;

static void timer_fired(void *opaque)
{
    slirp_timer *st = opaque;

    slirp_handle_timer(st->u->slirp, st->id, st->cb_opaque);
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
    slirp_timer *st = g_new0(slirp_timer, 1);

    st->u = opaque;
    st->id = id;
    st->cb_opaque = cb_opaque;
    st->t = timer_new(timer_fired, st);
    return st;
}

static void cb_timer_free(void *timer, void *opaque)
{
    slirp_timer *st = timer;

    timer_free(st->t);
    g_free(st);
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    slirp_timer *st = timer;

    timer_mod(st->t, expire_ms * 1000000);
}

static void cb_register_poll_fd(int fd, void *opaque)
{
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
}

static void cb_notify(void *opaque)
{
    g_main_context_wakeup(NULL);
}

static const SlirpCb callbacks = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_ns,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_poll_fd,
    .unregister_poll_fd = cb_unregister_poll_fd,
    .notify = cb_notify,
    .timer_new_opaque = cb_timer_new_opaque,
};

/* ---- the GSource ---- */

static void pfds_clear(user_net *u)
{
    for (guint i = 0; i < u->pfds->len; i++) {
        g_source_remove_poll(u->src, &g_array_index(u->pfds, GPollFD, i));
    }
    g_array_set_size(u->pfds, 0);
}

static int add_poll(int fd, int events, void *opaque)
{
    user_net *u = opaque;
    GPollFD p = {.fd = fd, .events = 0};

    if (events & SLIRP_POLL_IN) {
        p.events |= G_IO_IN;
    }
    if (events & SLIRP_POLL_OUT) {
        p.events |= G_IO_OUT;
    }
    if (events & SLIRP_POLL_PRI) {
        p.events |= G_IO_PRI;
    }
    if (events & SLIRP_POLL_ERR) {
        p.events |= G_IO_ERR;
    }
    if (events & SLIRP_POLL_HUP) {
        p.events |= G_IO_HUP;
    }
    g_array_append_val(u->pfds, p);
    return (int)u->pfds->len - 1;
}

static int get_revents(int idx, void *opaque)
{
    user_net *u = opaque;
    GPollFD *p = &g_array_index(u->pfds, GPollFD, idx);
    int ev = 0;

    if (p->revents & G_IO_IN) {
        ev |= SLIRP_POLL_IN;
    }
    if (p->revents & G_IO_OUT) {
        ev |= SLIRP_POLL_OUT;
    }
    if (p->revents & G_IO_PRI) {
        ev |= SLIRP_POLL_PRI;
    }
    if (p->revents & G_IO_ERR) {
        ev |= SLIRP_POLL_ERR;
    }
    if (p->revents & G_IO_HUP) {
        ev |= SLIRP_POLL_HUP;
    }
    return ev;
}

static gboolean src_prepare(GSource *src, gint *timeout)
{
    user_net *u = ((slirp_src *)src)->u;
    uint32_t t = UINT32_MAX;

    core_lock();
    g_atomic_int_set(&u->wake_pending, 0);
    pfds_clear(u);
    slirp_pollfds_fill(u->slirp, &t, add_poll, u);
    /* The array is final now: register its elements (pointers stay put). */
    for (guint i = 0; i < u->pfds->len; i++) {
        g_source_add_poll(src, &g_array_index(u->pfds, GPollFD, i));
    }
    core_unlock();
    *timeout = t == UINT32_MAX ? -1 : (gint)MIN(t, (uint32_t)G_MAXINT);
    return *timeout == 0;
}

static gboolean src_check(GSource *src)
{
    /* As QEMU does: slirp_pollfds_poll after every poll, events or not.
     * It also runs slirp's TCP timers and sends frames queued behind an
     * ARP resolution (if_start), which no fd event announces. */
    return TRUE;
}

static gboolean src_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
    user_net *u = ((slirp_src *)src)->u;

    core_lock();
    slirp_pollfds_poll(u->slirp, 0, get_revents, u);
    core_unlock();
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs src_funcs = {
    .prepare = src_prepare,
    .check = src_check,
    .dispatch = src_dispatch,
};

/* ---- options ---- */

static bool parse_addr(const char *s, struct in_addr *a)
{
    return inet_pton(AF_INET, s, a) == 1;
}

/* net=A[/M] with M a prefix length or a dotted mask. */
static bool parse_net(user_net *u, const char *v, char **errp)
{
    g_auto(GStrv) parts = g_strsplit(v, "/", 2);
    char *end;

    /* net= (empty) splits into no part at all. */
    if (!parts[0] || !parse_addr(parts[0], &u->net)) {
        core_set_error(errp, "net= wants ADDR[/MASK], got '%s'", v);
        return false;
    }
    if (!parts[1]) {
        /* QEMU: the class of the address, 255.255.255.0 for 10.0.2.0. */
        u->mask.s_addr = htonl(0xffffff00u);
    } else if (!parse_addr(parts[1], &u->mask)) {
        unsigned long bits = strtoul(parts[1], &end, 10);
        if (!*parts[1] || *end || bits < 1 || bits > 30) {
            core_set_error(errp, "net= wants a prefix length 1..30 or a mask, got '%s'",
                           parts[1]);
            return false;
        }
        u->mask.s_addr = htonl(~0u << (32 - bits));
    }
    u->net.s_addr &= u->mask.s_addr;
    return true;
}

static struct in_addr in_net(user_net *u, uint32_t host_part)
{
    struct in_addr a = {.s_addr = u->net.s_addr | htonl(host_part)};

    return a;
}

static bool opt_addr(net_opts *o, const char *key, struct in_addr *a, char **errp)
{
    const char *v = net_opt_get(o, key);

    if (v && !parse_addr(v, a)) {
        core_set_error(errp, "%s= wants an IPv4 address, got '%s'", key, v);
        return false;
    }
    return true;
}

static bool addresses(user_net *u, net_opts *o, char **errp)
{
    const char *v = net_opt_get(o, "net");

    if (!parse_net(u, v ? v : "10.0.2.0/24", errp)) {
        return false;
    }
    u->host = in_net(u, 2);
    u->dns = in_net(u, 3);
    u->dhcp = in_net(u, 15);
    if (!opt_addr(o, "host", &u->host, errp) || !opt_addr(o, "dns", &u->dns, errp) ||
        !opt_addr(o, "dhcpstart", &u->dhcp, errp)) {
        return false;
    }
    if ((u->host.s_addr & u->mask.s_addr) != u->net.s_addr ||
        (u->dhcp.s_addr & u->mask.s_addr) != u->net.s_addr) {
        core_set_error(errp, "host= and dhcpstart= must be inside net=");
        return false;
    }
    return true;
}

/* "[ADDR]:PORT" of a forwarding rule. */
static bool fwd_endpoint(const char *s, struct in_addr *a, int *port)
{
    const char *colon = strrchr(s, ':');
    char *end;
    unsigned long p;

    if (!colon) {
        return false;
    }
    g_autofree char *addr = g_strndup(s, colon - s);
    if (*addr && !parse_addr(addr, a)) {
        return false;
    }
    p = strtoul(colon + 1, &end, 10);
    if (!colon[1] || *end || p > 65535) {
        return false;
    }
    *port = (int)p;
    return true;
}

/* hostfwd=[tcp|udp]:[HADDR]:HPORT-[GADDR]:GPORT */
static bool add_hostfwd(user_net *u, const char *rule, char **errp)
{
    const char *r = rule, *dash;
    struct in_addr haddr = {.s_addr = htonl(INADDR_ANY)}, gaddr = u->dhcp;
    int hport, gport, udp = 0;

    if (g_str_has_prefix(r, "tcp:")) {
        r += 4;
    } else if (g_str_has_prefix(r, "udp:")) {
        r += 4;
        udp = 1;
    } else if (*r == ':') {
        r += 1;
    }
    dash = strchr(r, '-');
    g_autofree char *host = dash ? g_strndup(r, dash - r) : NULL;
    g_autofree char *host_c = host ? g_strconcat(strchr(host, ':') ? "" : ":", host, NULL) : NULL;
    if (!dash || !fwd_endpoint(host_c, &haddr, &hport) ||
        !fwd_endpoint(dash + 1, &gaddr, &gport) || gport == 0) {
        core_set_error(errp, "invalid host forwarding rule '%s' (expected "
                       "[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT)", rule);
        return false;
    }
    if (slirp_add_hostfwd(u->slirp, udp, haddr, hport, gaddr, gport) < 0) {
        core_set_error(errp, "could not set up host forwarding rule '%s': %s", rule,
                       strerror(errno ? errno : EADDRINUSE));
        return false;
    }
    return true;
}

/* guestfwd=[tcp]:SERVER:PORT-cmd:COMMAND: each connection of the guest
 * to SERVER:PORT runs COMMAND with its stdin/stdout as the stream. */
static bool add_guestfwd(user_net *u, const char *rule, char **errp)
{
    const char *r = g_str_has_prefix(rule, "tcp:") ? rule + 4 : rule;
    const char *dash = strchr(r, '-');
    struct in_addr server = {0};
    int port;

    g_autofree char *ep = dash ? g_strndup(r, dash - r) : NULL;
    if (!dash || !fwd_endpoint(ep, &server, &port) || server.s_addr == 0 || port == 0) {
        core_set_error(errp, "invalid guest forwarding rule '%s' (expected "
                       "tcp:SERVER:PORT-cmd:COMMAND)", rule);
        return false;
    }
    if (!g_str_has_prefix(dash + 1, "cmd:")) {
        core_set_error(errp, "guest forwarding rule '%s': only cmd:COMMAND targets are "
                       "supported", rule);
        return false;
    }
    if (slirp_add_exec(u->slirp, dash + 5, &server, port) < 0) {
        core_set_error(errp, "could not set up guest forwarding rule '%s'", rule);
        return false;
    }
    return true;
}

static bool forwards(user_net *u, net_opts *o, char **errp)
{
    g_autoptr(GPtrArray) h = net_opt_get_all(o, "hostfwd");
    g_autoptr(GPtrArray) g = net_opt_get_all(o, "guestfwd");

    for (guint i = 0; i < h->len; i++) {
        if (!add_hostfwd(u, g_ptr_array_index(h, i), errp)) {
            return false;
        }
    }
    for (guint i = 0; i < g->len; i++) {
        if (!add_guestfwd(u, g_ptr_array_index(g, i), errp)) {
            return false;
        }
    }
    return true;
}

static bool make_slirp(user_net *u, net_opts *o, char **errp)
{
    SlirpConfig cfg = {.version = 4};
    bool v4, v6;

    if (!net_opt_bool(o, "restrict", false, &u->restrict_, errp) ||
        !net_opt_bool(o, "ipv4", true, &v4, errp) || !net_opt_bool(o, "ipv6", true, &v6, errp)) {
        return false;
    }
    cfg.restricted = u->restrict_;
    cfg.in_enabled = v4;
    cfg.vnetwork = u->net;
    cfg.vnetmask = u->mask;
    cfg.vhost = u->host;
    cfg.vdhcp_start = u->dhcp;
    cfg.vnameserver = u->dns;
    /* QEMU's IPv6 defaults: fec0::/64, host ::2, DNS ::3. */
    cfg.in6_enabled = v6;
    inet_pton(AF_INET6, "fec0::", &cfg.vprefix_addr6);
    cfg.vprefix_len = 64;
    inet_pton(AF_INET6, "fec0::2", &cfg.vhost6);
    inet_pton(AF_INET6, "fec0::3", &cfg.vnameserver6);
    cfg.vhostname = net_opt_get(o, "hostname");
    cfg.vdomainname = net_opt_get(o, "domainname");
    cfg.tftp_path = net_opt_get(o, "tftp");
    cfg.bootfile = net_opt_get(o, "bootfile");
    net_opt_get(o, "ipv6-net"); /* accepted; the default prefix is used */
    u->slirp = slirp_new(&cfg, &callbacks, u);
    if (!u->slirp) {
        core_set_error(errp, "cannot start user networking (libslirp refused the settings)");
        return false;
    }
    return true;
}

static void user_cleanup(tes_netdev *nd)
{
    user_net *u = nd->be;

    if (!u) {
        return;
    }
    if (u->src) {
        pfds_clear(u);
        g_source_destroy(u->src);
        g_source_unref(u->src);
    }
    if (u->slirp) {
        slirp_cleanup(u->slirp);
    }
    g_array_free(u->pfds, true);
    g_free(u);
    nd->be = NULL;
}

static bool user_init(tes_netdev *nd, net_opts *o, char **errp)
{
    user_net *u = g_new0(user_net, 1);

    u->nd = nd;
    u->pfds = g_array_new(false, false, sizeof(GPollFD));
    nd->be = u;
    if (net_dry_run) {
        g_ptr_array_unref(net_opt_get_all(o, "hostfwd"));
        g_ptr_array_unref(net_opt_get_all(o, "guestfwd"));
        return addresses(u, o, errp) && make_slirp(u, o, errp);
    }
    if (!addresses(u, o, errp) || !make_slirp(u, o, errp) || !forwards(u, o, errp)) {
        return false;
    }
    u->src = g_source_new(&src_funcs, sizeof(slirp_src));
    ((slirp_src *)u->src)->u = u;
    g_source_set_name(u->src, "tessera-slirp");
    g_source_attach(u->src, NULL);
    return true;
}

/* A frame from the guest may have queued data for a host socket (or
 * opened one): the main loop's poll() must be redone with slirp's new
 * wishes (POLLOUT), or the data waits for an unrelated event and guest
 * TCP crawls at slirp's window. One wakeup per poll cycle is enough. */
static void wake(user_net *u)
{
    /* From the main loop itself (virtio-net sends from a timer) the next
     * prepare comes anyway: an eventfd write per frame costs more than
     * the frame. */
    if (g_main_context_is_owner(NULL)) {
        return;
    }
    if (g_atomic_int_compare_and_exchange(&u->wake_pending, 0, 1)) {
        g_main_context_wakeup(NULL);
    }
}

static void user_send(tes_netdev *nd, unsigned bq, const tes_net_hdr *hdr,
                      const struct iovec *iov, unsigned iovcnt)
{
    user_net *u = nd->be;
    uint8_t *buf;
    size_t len = 0, off = 0;

    wake(u);
    if (iovcnt == 1) {
        slirp_input(u->slirp, iov[0].iov_base, (int)iov[0].iov_len);
        return;
    }
    for (unsigned i = 0; i < iovcnt; i++) {
        len += iov[i].iov_len;
    }
    buf = g_malloc(len);
    for (unsigned i = 0; i < iovcnt; i++) {
        memcpy(buf + off, iov[i].iov_base, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    slirp_input(u->slirp, buf, (int)len);
    g_free(buf);
}

static void user_info(tes_netdev *nd, GString *out)
{
    user_net *u = nd->be;
    char a[INET_ADDRSTRLEN];

    inet_ntop(AF_INET, &u->net, a, sizeof(a));
    g_string_append_printf(out, "net=%s,restrict=%s", a, u->restrict_ ? "on" : "off");
}

const net_backend net_user_backend = {
    .type = "user",
    .init = user_init,
    .send = user_send,
    .info = user_info,
    .cleanup = user_cleanup,
};
