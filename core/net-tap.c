/*
 * tessera core: -netdev tap, a Linux TAP interface.
 *
 *   -netdev tap,id=ID[,ifname=NAME][,script=PATH|no][,downscript=PATH|no]
 *          [,vnet_hdr=on|off][,queues=N]
 *   -netdev tap,id=ID,fd=N | fds=N:M:...   (interfaces opened by the caller)
 *
 * As QEMU: script (default /etc/qemu-ifup) runs with the interface name
 * once it exists, downscript (default /etc/qemu-ifdown) when tessera
 * exits; "no" runs nothing. vnet_hdr is used when the kernel offers it
 * (vnet_hdr=off refuses it): frames then carry the virtio-net header both
 * ways, so TSO frames of a virtio-net guest go to the kernel unsegmented,
 * and a NIC that enabled receive offloads gets the kernel's large frames.
 * queues=N opens N queues of a multi-queue interface; queues the NIC does
 * not use are detached (TUNSETQUEUE), so the kernel sends them no flow.
 *
 * Frames from the interface are read in the main loop, a batch per wake;
 * when the NIC is out of buffers the fd is not watched until it has them
 * again, leaving the kernel's queue to hold (and in the end drop) frames.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net-int.h"

#define TAP_BATCH 64 /* frames read per wake-up */
#define VNET_HDR 10  /* struct virtio_net_hdr: our tes_net_hdr, host order */

typedef struct tap_queue {
    struct tap *t;
    unsigned idx;
    int fd;
    guint watch;
    bool attached;
} tap_queue;

typedef struct tap {
    tes_netdev *nd;
    char ifname[IFNAMSIZ];
    char *downscript;
    bool vnet, blocked;
    unsigned nq;
    tap_queue q[NET_MAX_QUEUES];
    uint8_t buf[VNET_HDR + TES_NET_MAX_FRAME];
} tap;

/* ---- reading ---- */

static gboolean tap_readable(gint fd, GIOCondition cond, gpointer opaque);

static void watch(tap_queue *q, bool on)
{
    if (on && !q->watch && q->attached) {
        q->watch = g_unix_fd_add(q->fd, G_IO_IN, tap_readable, q);
    } else if (!on && q->watch) {
        g_source_remove(q->watch);
        q->watch = 0;
    }
}

static gboolean tap_readable(gint fd, GIOCondition cond, gpointer opaque)
{
    tap_queue *q = opaque;
    tap *t = q->t;
    size_t hl = t->vnet ? VNET_HDR : 0;

    core_lock();
    for (int i = 0; i < TAP_BATCH && !t->blocked; i++) {
        ssize_t n = read(fd, t->buf, sizeof(t->buf));
        if (n <= (ssize_t)hl) {
            break; /* EAGAIN, or nothing useful */
        }
        tes_net_hdr h;
        memcpy(&h, t->buf, sizeof(h));
        if (!net_deliver(t->nd, q->idx, hl ? &h : NULL, t->buf + hl, n - hl)) {
            t->blocked = true;
        }
    }
    if (t->blocked) {
        for (unsigned k = 0; k < t->nq; k++) {
            watch(&t->q[k], false);
        }
    }
    core_unlock();
    return q->watch ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void tap_rx_ready(tes_netdev *nd)
{
    tap *t = nd->be;

    t->blocked = false;
    for (unsigned k = 0; k < t->nq; k++) {
        watch(&t->q[k], true);
    }
}

/* ---- writing ---- */

static void tap_send(tes_netdev *nd, unsigned bq, const tes_net_hdr *hdr,
                     const struct iovec *iov, unsigned iovcnt)
{
    tap *t = nd->be;
    struct iovec v[iovcnt + 1];
    unsigned n = 0;

    if (t->vnet) {
        v[n].iov_base = (void *)hdr;
        v[n++].iov_len = VNET_HDR;
    }
    memcpy(v + n, iov, iovcnt * sizeof(*iov));
    /* A full kernel queue drops the frame, as a wire would. */
    if (writev(t->q[bq].fd, v, n + iovcnt) < 0 && errno != EAGAIN) {
        core_log(TES_LOG_TRACE, "netdev %s: write to %s: %s", nd->id, t->ifname,
                 strerror(errno));
    }
}

static void tap_set_rx_offloads(tes_netdev *nd, unsigned mask)
{
    tap *t = nd->be;
    unsigned f = 0;

    if (mask & TES_NET_OFFLOAD_CSUM) {
        f |= TUN_F_CSUM;
        f |= mask & TES_NET_OFFLOAD_TSO4 ? TUN_F_TSO4 : 0;
        f |= mask & TES_NET_OFFLOAD_TSO6 ? TUN_F_TSO6 : 0;
        f |= mask & TES_NET_OFFLOAD_ECN ? TUN_F_TSO_ECN : 0;
    }
    for (unsigned k = 0; k < t->nq; k++) {
        if (ioctl(t->q[k].fd, TUNSETOFFLOAD, f) < 0) {
            core_log(TES_LOG_TRACE, "netdev %s: TUNSETOFFLOAD: %s", nd->id, strerror(errno));
        }
    }
}

static void tap_set_queues(tes_netdev *nd, unsigned n)
{
    tap *t = nd->be;

    if (t->nq < 2) {
        return; /* a single-queue interface cannot detach its queue */
    }
    for (unsigned k = 0; k < t->nq; k++) {
        tap_queue *q = &t->q[k];
        bool want = k < n;
        struct ifreq ifr = {.ifr_flags = want ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE};

        if (want == q->attached || ioctl(q->fd, TUNSETQUEUE, &ifr) < 0) {
            continue;
        }
        q->attached = want;
        watch(q, want && !t->blocked);
    }
}

/* ---- set-up ---- */

/* script IFNAME, waited for; false with a message when it fails. */
static bool run_script(const char *script, const char *ifname, char **errp)
{
    char *argv[] = {(char *)script, (char *)ifname, NULL};
    GError *gerr = NULL;
    int status = 0;

    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL, NULL, NULL,
                      &status, &gerr)) {
        core_set_error(errp, "could not launch network script %s: %s", script, gerr->message);
        g_error_free(gerr);
        return false;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        core_set_error(errp, "network script %s failed with status %d", script, status);
        return false;
    }
    return true;
}

/* One queue of ifname (the kernel's "tap%d" when empty). */
static int open_queue(tap *t, const char *ifname, unsigned flags, char **errp)
{
    struct ifreq ifr = {.ifr_flags = flags};
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

    if (fd < 0) {
        core_set_error(errp, "could not open /dev/net/tun: %s", strerror(errno));
        return -1;
    }
    g_strlcpy(ifr.ifr_name, ifname, IFNAMSIZ);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        core_set_error(errp, "could not configure /dev/net/tun (%s): %s",
                       *ifname ? ifname : "tap%d", strerror(errno));
        close(fd);
        return -1;
    }
    g_strlcpy(t->ifname, ifr.ifr_name, IFNAMSIZ);
    return fd;
}

static bool open_tap(tap *t, net_opts *o, bool want_vnet, char **errp)
{
    const char *ifname = net_opt_get(o, "ifname");
    unsigned features = 0, flags = IFF_TAP | IFF_NO_PI;
    int probe = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

    if (probe >= 0 && ioctl(probe, TUNGETFEATURES, &features) == 0 &&
        (features & IFF_VNET_HDR) && want_vnet) {
        flags |= IFF_VNET_HDR;
        t->vnet = true;
    }
    if (probe >= 0) {
        close(probe);
    }
    if (t->nq > 1) {
        flags |= IFF_MULTI_QUEUE;
    }
    for (unsigned k = 0; k < t->nq; k++) {
        /* Queues after the first join the interface the first created. */
        t->q[k].fd = open_queue(t, k ? t->ifname : (ifname ? ifname : ""), flags, errp);
        if (t->q[k].fd < 0) {
            return false;
        }
    }
    return true;
}

/* fd=N or fds=N:M:...: queues someone else opened (libvirt does). */
static bool take_fds(tap *t, const char *list, char **errp)
{
    g_auto(GStrv) fds = g_strsplit(list, ":", NET_MAX_QUEUES + 1);
    struct ifreq ifr = {0};

    t->nq = g_strv_length(fds);
    if (t->nq == 0 || t->nq > NET_MAX_QUEUES) {
        core_set_error(errp, "fd=/fds= wants 1..%d descriptors", NET_MAX_QUEUES);
        return false;
    }
    for (unsigned k = 0; k < t->nq; k++) {
        char *end;
        long fd = strtol(fds[k], &end, 10);
        if (!*fds[k] || *end || fd < 0 || fcntl((int)fd, F_GETFD) < 0 ||
            ioctl((int)fd, TUNGETIFF, &ifr) < 0) {
            core_set_error(errp, "'%s' is not an open tap file descriptor", fds[k]);
            return false;
        }
        t->q[k].fd = (int)fd;
        t->vnet = (ifr.ifr_flags & IFF_VNET_HDR) != 0;
        g_strlcpy(t->ifname, ifr.ifr_name, IFNAMSIZ);
    }
    return true;
}

static bool tap_options(tap *t, net_opts *o, bool *vnet, const char **script, char **errp)
{
    const char *v = net_opt_get(o, "vnet_hdr");

    *vnet = true;
    if (v && !net_opt_bool(o, "vnet_hdr", true, vnet, errp)) {
        return false;
    }
    if (!net_opt_uint(o, "queues", 1, NET_MAX_QUEUES, &t->nq, errp)) {
        return false;
    }
    *script = net_opt_get(o, "script");
    t->downscript = g_strdup(net_opt_get(o, "downscript"));
    *script = *script ? *script : "/etc/qemu-ifup";
    if (!t->downscript) {
        t->downscript = g_strdup("/etc/qemu-ifdown");
    }
    net_opt_get(o, "helper");
    net_opt_get(o, "vhost"); /* no vhost here: the kernel path is ours */
    return true;
}

static bool tap_init(tes_netdev *nd, net_opts *o, char **errp)
{
    tap *t = g_new0(tap, 1);
    const char *fds = net_opt_get(o, "fds"), *fd = net_opt_get(o, "fd"), *script;
    bool vnet;

    t->nd = nd;
    nd->be = t;
    for (unsigned k = 0; k < NET_MAX_QUEUES; k++) {
        t->q[k].fd = -1;
    }
    if (!tap_options(t, o, &vnet, &script, errp)) {
        return false;
    }
    if (fd || fds) {
        g_clear_pointer(&t->downscript, g_free); /* not ours to tear down */
        if (!take_fds(t, fds ? fds : fd, errp)) {
            return false;
        }
    } else if (!open_tap(t, o, vnet, errp)) {
        return false;
    } else if (strcmp(script, "no") != 0 && !run_script(script, t->ifname, errp)) {
        g_clear_pointer(&t->downscript, g_free);
        return false;
    }
    if (vnet == false && t->vnet) {
        core_set_error(errp, "vnet_hdr=off, but the descriptor has IFF_VNET_HDR set");
        return false;
    }
    nd->nqueues = t->nq;
    nd->offloads = t->vnet ? TES_NET_OFFLOAD_CSUM | TES_NET_OFFLOAD_TSO4 |
                             TES_NET_OFFLOAD_TSO6 | TES_NET_OFFLOAD_ECN : 0;
    for (unsigned k = 0; k < t->nq; k++) {
        t->q[k] = (tap_queue){.t = t, .idx = k, .fd = t->q[k].fd, .attached = true};
        g_unix_set_fd_nonblocking(t->q[k].fd, TRUE, NULL);
        watch(&t->q[k], true);
    }
    tap_set_rx_offloads(nd, 0);
    return true;
}

static void tap_info(tes_netdev *nd, GString *out)
{
    tap *t = nd->be;

    g_string_append_printf(out, "ifname=%s,vnet_hdr=%s,queues=%u", t->ifname,
                           t->vnet ? "on" : "off", t->nq);
}

static void tap_cleanup(tes_netdev *nd)
{
    tap *t = nd->be;

    if (!t) {
        return;
    }
    for (unsigned k = 0; k < NET_MAX_QUEUES; k++) {
        watch(&t->q[k], false);
        if (t->q[k].fd >= 0) {
            close(t->q[k].fd);
        }
    }
    if (t->downscript && strcmp(t->downscript, "no") != 0 && t->ifname[0]) {
        char *err = NULL;
        if (!run_script(t->downscript, t->ifname, &err)) {
            fprintf(stderr, "tessera: warning: netdev %s: %s\n", nd->id, err);
            g_free(err);
        }
    }
    g_free(t->downscript);
    g_free(t);
    nd->be = NULL;
}

const net_backend net_tap_backend = {
    .type = "tap",
    .init = tap_init,
    .send = tap_send,
    .rx_ready = tap_rx_ready,
    .set_rx_offloads = tap_set_rx_offloads,
    .set_queues = tap_set_queues,
    .info = tap_info,
    .cleanup = tap_cleanup,
};
