/*
 * tessera core: -netdev socket and -netdev stream, Ethernet frames over a
 * TCP (or Unix) stream between two emulators, no root needed.
 *
 *   -netdev socket,id=ID,listen=[HOST]:PORT      wait for the peer
 *   -netdev socket,id=ID,connect=HOST:PORT       join it
 *   -netdev stream,id=ID,server=on|off,addr.type=inet,addr.host=H,addr.port=P
 *   -netdev stream,id=ID,server=on|off,addr.type=unix,addr.path=PATH
 *          [,reconnect=SECONDS]                  (client: retry when lost)
 *
 * The wire format is QEMU's, so tessera and QEMU guests can be each
 * other's peer: every frame is a 4-byte big-endian length and the frame.
 * A server serves one peer at a time and waits for the next when it
 * leaves; a client connects at start-up (a refused connection is an error
 * unless reconnect= is given, then it retries every SECONDS).
 *
 * Back-pressure: while the NIC has no buffers the socket is not read, so
 * the peer's sends block in its kernel; frames we cannot write at once are
 * queued (up to TX_MAX bytes, beyond which frames are dropped as on a
 * congested wire) and written when the socket drains.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <glib-unix.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "net-int.h"

#define TX_MAX (4u << 20)
#define RX_CHUNK 65536

typedef struct sock {
    tes_netdev *nd;
    bool server;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char *desc;         /* "127.0.0.1:5555" or the path */
    char *unlink_path;  /* unix server socket to remove at exit */
    int listen_fd, fd;
    guint listen_watch, in_watch, out_watch, retry;
    unsigned reconnect; /* seconds, 0: never */
    bool blocked;
    GByteArray *rx, *tx;
} sock;

static void conn_close(sock *s);

/* ---- receiving ---- */

/* Deliver every complete frame in s->rx; false when the NIC is full. */
static bool parse_frames(sock *s)
{
    size_t off = 0;
    bool ok = true;

    while (ok && s->rx->len - off >= 4) {
        uint32_t len;
        memcpy(&len, s->rx->data + off, 4);
        len = ntohl(len);
        if (len == 0 || len > TES_NET_MAX_FRAME) {
            core_log(TES_LOG_GUEST_ERROR, "netdev %s: peer sent a frame of %u bytes: "
                     "dropping the connection", s->nd->id, len);
            g_byte_array_set_size(s->rx, 0);
            conn_close(s);
            return true;
        }
        if (s->rx->len - off < 4 + len) {
            break;
        }
        ok = net_deliver(s->nd, 0, NULL, s->rx->data + off + 4, len);
        off += 4 + len;
    }
    g_byte_array_remove_range(s->rx, 0, off);
    return ok;
}

static gboolean sock_readable(gint fd, GIOCondition cond, gpointer opaque)
{
    sock *s = opaque;
    uint8_t buf[RX_CHUNK];
    ssize_t n;

    core_lock();
    while (!s->blocked && (n = read(fd, buf, sizeof(buf))) > 0) {
        g_byte_array_append(s->rx, buf, n);
        s->blocked = !parse_frames(s);
        if (s->fd < 0) {
            break; /* a protocol error closed it */
        }
    }
    if (s->fd >= 0 && !s->blocked && (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))) {
        conn_close(s); /* the peer left */
    } else if (s->blocked && s->in_watch) {
        g_source_remove(s->in_watch);
        s->in_watch = 0;
    }
    core_unlock();
    return s->in_watch ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void sock_rx_ready(tes_netdev *nd)
{
    sock *s = nd->be;

    s->blocked = false;
    if (s->fd < 0) {
        return;
    }
    if (!parse_frames(s)) {
        s->blocked = true; /* frames still buffered: wait for the next flush */
    } else if (s->fd >= 0 && !s->in_watch) {
        s->in_watch = g_unix_fd_add(s->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, sock_readable, s);
    }
}

/* ---- sending ---- */

static gboolean sock_writable(gint fd, GIOCondition cond, gpointer opaque)
{
    sock *s = opaque;
    ssize_t n;

    core_lock();
    n = s->tx->len ? write(fd, s->tx->data, s->tx->len) : 0;
    if (n > 0) {
        g_byte_array_remove_range(s->tx, 0, n);
    }
    if (s->tx->len == 0 || (n < 0 && errno != EAGAIN)) {
        s->out_watch = 0;
        core_unlock();
        return G_SOURCE_REMOVE;
    }
    core_unlock();
    return G_SOURCE_CONTINUE;
}

static void sock_send(tes_netdev *nd, unsigned bq, const tes_net_hdr *hdr,
                      const struct iovec *iov, unsigned iovcnt)
{
    sock *s = nd->be;
    size_t len = 0, done;
    uint32_t be;
    struct iovec v[iovcnt + 1];
    ssize_t n = 0;

    for (unsigned i = 0; i < iovcnt; i++) {
        len += iov[i].iov_len;
    }
    if (s->fd < 0 || s->tx->len + 4 + len > TX_MAX) {
        return; /* no peer, or congested: the frame is lost */
    }
    be = htonl((uint32_t)len);
    v[0] = (struct iovec){.iov_base = &be, .iov_len = 4};
    memcpy(v + 1, iov, iovcnt * sizeof(*iov));
    if (s->tx->len == 0) {
        n = writev(s->fd, v, iovcnt + 1);
        n = n < 0 ? 0 : n;
    }
    /* Whatever was not written waits, in order, for the socket to drain. */
    done = (size_t)n;
    for (unsigned i = 0; i <= iovcnt; i++) {
        if (done >= v[i].iov_len) {
            done -= v[i].iov_len;
            continue;
        }
        g_byte_array_append(s->tx, (uint8_t *)v[i].iov_base + done, v[i].iov_len - done);
        done = 0;
    }
    if (s->tx->len && !s->out_watch) {
        s->out_watch = g_unix_fd_add(s->fd, G_IO_OUT, sock_writable, s);
    }
}

/* ---- connections ---- */

static void conn_attach(sock *s, int fd)
{
    int one = 1;

    g_unix_set_fd_nonblocking(fd, TRUE, NULL);
    if (s->addr.ss_family != AF_UNIX) {
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    s->fd = fd;
    s->blocked = false;
    g_byte_array_set_size(s->rx, 0);
    g_byte_array_set_size(s->tx, 0);
    s->in_watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, sock_readable, s);
}

static gboolean retry_connect(gpointer opaque);

static void conn_close(sock *s)
{
    if (s->in_watch) {
        g_source_remove(s->in_watch);
        s->in_watch = 0;
    }
    if (s->out_watch) {
        g_source_remove(s->out_watch);
        s->out_watch = 0;
    }
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    if (!s->server && s->reconnect && !s->retry) {
        s->retry = g_timeout_add_seconds(s->reconnect, retry_connect, s);
    }
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer opaque)
{
    sock *s = opaque;
    int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

    if (c < 0) {
        return G_SOURCE_CONTINUE;
    }
    core_lock();
    if (s->fd >= 0) {
        close(c); /* one peer at a time, as QEMU */
    } else {
        conn_attach(s, c);
    }
    core_unlock();
    return G_SOURCE_CONTINUE;
}

static int try_connect(sock *s)
{
    int fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd >= 0 && connect(fd, (struct sockaddr *)&s->addr, s->addrlen) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static gboolean retry_connect(gpointer opaque)
{
    sock *s = opaque;
    int fd = try_connect(s);

    if (fd < 0) {
        return G_SOURCE_CONTINUE;
    }
    core_lock();
    s->retry = 0;
    conn_attach(s, fd);
    core_unlock();
    return G_SOURCE_REMOVE;
}

/* ---- set-up ---- */

static bool resolve(sock *s, const char *host, const char *port, char **errp)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE}, *res = NULL;
    int ret;

    if (!port || !*port) {
        core_set_error(errp, "a port is required");
        return false;
    }
    ret = getaddrinfo(host && *host ? host : NULL, port, &hints, &res);
    if (ret != 0 || !res) {
        core_set_error(errp, "cannot resolve '%s:%s': %s", host ? host : "", port,
                       gai_strerror(ret));
        return false;
    }
    memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
    s->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    s->desc = g_strdup_printf("%s:%s", host && *host ? host : "0.0.0.0", port);
    return true;
}

static bool set_unix(sock *s, const char *path, char **errp)
{
    struct sockaddr_un *un = (struct sockaddr_un *)&s->addr;

    if (!path || !*path || strlen(path) >= sizeof(un->sun_path)) {
        core_set_error(errp, "addr.path wants a socket path of 1..%zu bytes",
                       sizeof(un->sun_path) - 1);
        return false;
    }
    un->sun_family = AF_UNIX;
    strcpy(un->sun_path, path);
    s->addrlen = sizeof(*un);
    s->desc = g_strdup(path);
    return true;
}

/* "[HOST]:PORT" of socket's listen=/connect= */
static bool host_port(sock *s, const char *v, char **errp)
{
    const char *colon = strrchr(v, ':');

    if (!colon) {
        core_set_error(errp, "'%s' is not HOST:PORT", v);
        return false;
    }
    g_autofree char *host = g_strndup(v, colon - v);
    return resolve(s, host, colon + 1, errp);
}

static bool start_server(sock *s, char **errp)
{
    int one = 1, fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (s->addr.ss_family == AF_UNIX) {
        unlink(((struct sockaddr_un *)&s->addr)->sun_path);
        s->unlink_path = g_strdup(((struct sockaddr_un *)&s->addr)->sun_path);
    } else if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    }
    if (fd < 0 || bind(fd, (struct sockaddr *)&s->addr, s->addrlen) < 0 || listen(fd, 1) < 0) {
        core_set_error(errp, "cannot listen on %s: %s", s->desc, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return false;
    }
    s->listen_fd = fd;
    s->listen_watch = g_unix_fd_add(fd, G_IO_IN, on_accept, s);
    return true;
}

static bool start_client(sock *s, char **errp)
{
    int fd = try_connect(s);

    if (fd >= 0) {
        conn_attach(s, fd);
        return true;
    }
    if (!s->reconnect) {
        core_set_error(errp, "cannot connect to %s: %s", s->desc, strerror(errno));
        return false;
    }
    s->retry = g_timeout_add_seconds(s->reconnect, retry_connect, s);
    return true;
}

static sock *sock_new(tes_netdev *nd)
{
    sock *s = g_new0(sock, 1);

    s->nd = nd;
    s->fd = s->listen_fd = -1;
    s->rx = g_byte_array_new();
    s->tx = g_byte_array_new();
    nd->be = s;
    return s;
}

static bool socket_init(tes_netdev *nd, net_opts *o, char **errp)
{
    sock *s = sock_new(nd);
    const char *listen_ = net_opt_get(o, "listen"), *conn = net_opt_get(o, "connect");

    if (!!listen_ == !!conn) {
        core_set_error(errp, "socket wants one of listen=[HOST]:PORT or connect=HOST:PORT "
                       "(mcast= and udp= are not supported)");
        return false;
    }
    s->server = listen_ != NULL;
    if (!host_port(s, s->server ? listen_ : conn, errp)) {
        return false;
    }
    return s->server ? start_server(s, errp) : start_client(s, errp);
}

static bool stream_addr(sock *s, net_opts *o, char **errp)
{
    const char *type = net_opt_get(o, "addr.type");

    net_opt_get(o, "addr.numeric");
    net_opt_get(o, "addr.ipv4");
    net_opt_get(o, "addr.ipv6");
    if (!type || strcmp(type, "inet") == 0) {
        return resolve(s, net_opt_get(o, "addr.host"), net_opt_get(o, "addr.port"), errp);
    }
    if (strcmp(type, "unix") == 0) {
        return set_unix(s, net_opt_get(o, "addr.path"), errp);
    }
    core_set_error(errp, "addr.type wants inet or unix, got '%s'", type);
    return false;
}

static bool stream_init(tes_netdev *nd, net_opts *o, char **errp)
{
    sock *s = sock_new(nd);

    if (!net_opt_bool(o, "server", false, &s->server, errp) || !stream_addr(s, o, errp)) {
        return false;
    }
    if (net_opt_get(o, "reconnect") &&
        !net_opt_uint(o, "reconnect", 0, 3600, &s->reconnect, errp)) {
        return false;
    }
    return s->server ? start_server(s, errp) : start_client(s, errp);
}

static void sock_info(tes_netdev *nd, GString *out)
{
    sock *s = nd->be;

    g_string_append_printf(out, "%s %s%s", s->server ? "listening on" : "connecting to",
                           s->desc ? s->desc : "?", s->fd >= 0 ? " (connected)" : "");
}

static void sock_cleanup(tes_netdev *nd)
{
    sock *s = nd->be;

    if (!s) {
        return;
    }
    s->reconnect = 0;
    conn_close(s);
    if (s->retry) {
        g_source_remove(s->retry);
    }
    if (s->listen_watch) {
        g_source_remove(s->listen_watch);
    }
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
    }
    if (s->unlink_path) {
        unlink(s->unlink_path);
        g_free(s->unlink_path);
    }
    g_byte_array_free(s->rx, true);
    g_byte_array_free(s->tx, true);
    g_free(s->desc);
    g_free(s);
    nd->be = NULL;
}

const net_backend net_socket_backend = {
    .type = "socket",
    .init = socket_init,
    .send = sock_send,
    .rx_ready = sock_rx_ready,
    .info = sock_info,
    .cleanup = sock_cleanup,
};

const net_backend net_stream_backend = {
    .type = "stream",
    .init = stream_init,
    .send = sock_send,
    .rx_ready = sock_rx_ready,
    .info = sock_info,
    .cleanup = sock_cleanup,
};
