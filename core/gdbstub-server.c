/*
 * tessera core: the gdb stub's listening socket (-gdb tcp:[HOST]:PORT,
 * -s = -gdb tcp::1234), served from the GLib main loop.
 *
 * One client at a time (a second connection is closed at once, as QEMU
 * refuses it). The client's socket is non-blocking; what it does not read
 * waits in a buffer, and a client that lets more than OUT_MAX bytes pile
 * up is dropped rather than let it block the main loop or grow memory.
 */
#include <errno.h>
#include <glib-unix.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gdbstub.h"

#define OUT_MAX (1u << 20)

static int listen_fd = -1;
static guint listen_src;
static int client_fd = -1;
static guint client_src, out_src;
static gdb_session *session;
static GString *out_buf;

static void client_close(void)
{
    if (client_fd < 0) {
        return;
    }
    if (client_src) {
        g_source_remove(client_src);
    }
    if (out_src) {
        g_source_remove(out_src);
    }
    client_src = out_src = 0;
    close(client_fd);
    client_fd = -1;
    gdb_session_detach(session);
    gdb_session_free(session);
    session = NULL;
}

static void flush_out(void)
{
    while (out_buf->len) {
        ssize_t n = send(client_fd, out_buf->str, out_buf->len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        g_string_erase(out_buf, 0, n);
    }
}

static gboolean out_ready(gint fd, GIOCondition cond, gpointer opaque)
{
    flush_out();
    if (out_buf->len == 0) {
        out_src = 0;
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

/* The session's output (main loop, machine lock held). */
static void client_write(void *opaque, const void *buf, size_t len)
{
    if (client_fd < 0) {
        return;
    }
    if (out_buf->len + len > OUT_MAX) {
        g_string_truncate(out_buf, 0); /* the client does not read: hang up later */
        shutdown(client_fd, SHUT_RDWR);
        return;
    }
    g_string_append_len(out_buf, buf, (gssize)len);
    flush_out();
    if (out_buf->len && !out_src) {
        out_src = g_unix_fd_add(client_fd, G_IO_OUT, out_ready, NULL);
    }
}

static gboolean client_ready(gint fd, GIOCondition cond, gpointer opaque)
{
    uint8_t buf[4096];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);

    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return G_SOURCE_CONTINUE;
    }
    if (n <= 0) {
        client_src = 0;
        client_close();
        return G_SOURCE_REMOVE;
    }
    gdb_session_input(session, buf, (size_t)n);
    return G_SOURCE_CONTINUE;
}

static gboolean listen_ready(gint fd, GIOCondition cond, gpointer opaque)
{
    int one = 1;
    int c = accept(fd, NULL, NULL);

    if (c < 0) {
        return G_SOURCE_CONTINUE;
    }
    if (client_fd >= 0) {
        close(c); /* one debugger at a time */
        return G_SOURCE_CONTINUE;
    }
    if (!g_unix_set_fd_nonblocking(c, TRUE, NULL)) {
        close(c);
        return G_SOURCE_CONTINUE;
    }
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    client_fd = c;
    if (!out_buf) {
        out_buf = g_string_new(NULL);
    }
    g_string_truncate(out_buf, 0);
    session = gdb_session_new(client_write, NULL);
    gdb_session_attach(session);
    client_src = g_unix_fd_add(c, G_IO_IN | G_IO_HUP | G_IO_ERR, client_ready, NULL);
    return G_SOURCE_CONTINUE;
}

/* "tcp:[HOST]:PORT" or ":PORT"... as QEMU: the last ':' splits. */
static int tcp_listen(const char *spec, char **errp)
{
    const char *addr = g_str_has_prefix(spec, "tcp:") ? spec + 4 : spec;
    const char *colon = strrchr(addr, ':');
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE}, *res = NULL;
    char *host;
    int fd = -1, err, one = 1;

    char *tail = NULL;
    unsigned long port = colon ? strtoul(colon + 1, &tail, 10) : 0;

    /* getaddrinfo takes 99999 (or a service name) without a word. */
    if (!colon || !colon[1] || *tail || port == 0 || port > 65535) {
        core_set_error(errp, "-gdb: '%s': want tcp:[HOST]:PORT with PORT 1..65535", spec);
        return -1;
    }
    host = g_strndup(addr, colon - addr);
    err = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &res);
    g_free(host);
    if (err) {
        core_set_error(errp, "-gdb: '%s': %s", spec, gai_strerror(err));
        return -1;
    }
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1) < 0) {
            err = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        core_set_error(errp, "-gdb: cannot listen on '%s': %s", spec,
                       err ? strerror(err) : "no address");
    }
    return fd;
}

bool gdbstub_add(const char *spec, char **errp)
{
    if (strcmp(spec, "none") == 0) {
        return true;
    }
    if (listen_fd >= 0) {
        core_set_error(errp, "-gdb: only one gdb server ('%s' is the second)", spec);
        return false;
    }
    if (!g_str_has_prefix(spec, "tcp:")) {
        core_set_error(errp, "-gdb: '%s': only tcp:[HOST]:PORT is supported", spec);
        return false;
    }
    listen_fd = tcp_listen(spec, errp);
    if (listen_fd < 0) {
        return false;
    }
    listen_src = g_unix_fd_add(listen_fd, G_IO_IN, listen_ready, NULL);
    return true;
}

void gdbstub_shutdown(void)
{
    gdbstub_close();
    if (client_fd >= 0) {
        flush_out();
        client_close();
    }
    if (listen_fd >= 0) {
        g_source_remove(listen_src);
        close(listen_fd);
        listen_fd = -1;
    }
}
