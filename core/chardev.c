/*
 * tessera core: character backends for -serial.
 *
 *   -serial stdio | mon:stdio   the terminal, raw; Ctrl-A x quits, Ctrl-A h
 *                               helps, Ctrl-A Ctrl-A sends a Ctrl-A
 *   -serial null                output discarded
 *   -serial none                no serial port at this place
 *   -serial file:PATH           output only, PATH truncated
 *   -serial unix:PATH,server=on[,wait=off]
 *                               a listening socket, one client at a time;
 *                               output is dropped while nobody is connected
 *
 * Input arrives in the GLib main loop; it is queued and handed to the
 * device (with the machine lock held) as fast as its can_read allows.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "core.h"

#define CTRL_A 0x01
#define QUEUE_MAX 65536 /* bytes of input kept while the device is busy */

typedef enum chr_kind { CHR_STDIO, CHR_NULL, CHR_FILE, CHR_SOCKET } chr_kind;

struct tes_chr {
    chr_kind kind;
    int out_fd;     /* stdio: 1, file: the file, socket: the client */
    int in_fd;      /* stdio: 0, socket: the client, else -1 */
    int listen_fd;  /* socket */
    char *path;     /* socket path, unlinked at close */
    guint in_watch, listen_watch, retry;
    bool escape;    /* stdio: Ctrl-A seen */
    GByteArray *queue;
    tes_chr_can_read can_read;
    tes_chr_read read;
    void *opaque;
};

static GPtrArray *serials;
static struct termios saved_tio;
static bool tio_saved;

/* ---- the terminal ---- */

static void term_restore(void)
{
    if (tio_saved) {
        tcsetattr(0, TCSANOW, &saved_tio);
        tio_saved = false;
    }
}

static void term_raw(void)
{
    static bool atexit_done;
    struct termios tio;

    if (tio_saved || !isatty(0) || tcgetattr(0, &saved_tio) < 0) {
        return;
    }
    tio = saved_tio;
    /* Like QEMU's stdio chardev: keys go to the guest unechoed and
     * uncooked; output post-processing and ^C (signal=on) stay. */
    tio.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    tio.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);
    tio.c_cflag = (tio.c_cflag & ~(CSIZE | PARENB)) | CS8;
    tio.c_cc[VMIN] = 1;
    tio.c_cc[VTIME] = 0;
    tcsetattr(0, TCSANOW, &tio);
    tio_saved = true;
    if (!atexit_done) {
        atexit(term_restore);
        atexit_done = true;
    }
}

/* ---- input ---- */

static gboolean deliver_retry(gpointer data);

/* Hand queued bytes to the device as far as it takes them. */
static void deliver(tes_chr *chr)
{
    core_lock();
    while (chr->queue->len && chr->read) {
        int n = chr->can_read ? chr->can_read(chr->opaque) : (int)chr->queue->len;
        if (n <= 0) {
            break;
        }
        n = MIN((guint)n, chr->queue->len);
        chr->read(chr->opaque, chr->queue->data, n);
        g_byte_array_remove_range(chr->queue, 0, n);
    }
    core_unlock();
    if (chr->queue->len && chr->read && !chr->retry) {
        chr->retry = g_timeout_add(10, deliver_retry, chr);
    }
}

static gboolean deliver_retry(gpointer data)
{
    tes_chr *chr = data;

    chr->retry = 0;
    deliver(chr);
    return G_SOURCE_REMOVE;
}

static void queue_byte(tes_chr *chr, uint8_t c)
{
    if (chr->queue->len < QUEUE_MAX) {
        g_byte_array_append(chr->queue, &c, 1);
    }
}

/* QEMU's mux escapes on stdio: Ctrl-A x, Ctrl-A h, Ctrl-A Ctrl-A. */
static void stdio_byte(tes_chr *chr, uint8_t c)
{
    if (!chr->escape) {
        if (c == CTRL_A) {
            chr->escape = true;
        } else {
            queue_byte(chr, c);
        }
        return;
    }
    chr->escape = false;
    if (c == 'x') {
        const char msg[] = "tessera: terminating on signal from the terminal\r\n";
        if (write(2, msg, sizeof(msg) - 1) < 0) {
            /* nothing to do: we are leaving */
        }
        core_lock();
        core_request_shutdown(0);
        core_unlock();
    } else if (c == 'h') {
        const char help[] = "\r\nC-a h    print this help\r\nC-a x    exit emulator\r\n"
                            "C-a C-a  sends C-a\r\n";
        chr_write(chr, help, sizeof(help) - 1);
    } else if (c == CTRL_A) {
        queue_byte(chr, c);
    }
}

static void client_close(tes_chr *chr);

static gboolean input_ready(gint fd, GIOCondition cond, gpointer data)
{
    tes_chr *chr = data;
    uint8_t buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));

    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return G_SOURCE_CONTINUE;
    }
    if (n <= 0) { /* EOF: stdin closed or the client left */
        chr->in_watch = 0;
        if (chr->kind == CHR_SOCKET) {
            core_lock(); /* chr_write may be using the fd from a vCPU */
            client_close(chr);
            core_unlock();
        }
        return G_SOURCE_REMOVE;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (chr->kind == CHR_STDIO) {
            stdio_byte(chr, buf[i]);
        } else {
            queue_byte(chr, buf[i]);
        }
    }
    deliver(chr);
    return G_SOURCE_CONTINUE;
}

/* ---- sockets ---- */

static void client_close(tes_chr *chr)
{
    if (chr->in_watch) {
        g_source_remove(chr->in_watch);
        chr->in_watch = 0;
    }
    if (chr->in_fd >= 0) {
        close(chr->in_fd);
    }
    chr->in_fd = chr->out_fd = -1;
}

static void client_attach(tes_chr *chr, int fd)
{
    g_unix_set_fd_nonblocking(fd, TRUE, NULL);
    chr->in_fd = chr->out_fd = fd;
    chr->in_watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, input_ready, chr);
}

static gboolean listen_ready(gint fd, GIOCondition cond, gpointer data)
{
    tes_chr *chr = data;
    int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

    if (c < 0) {
        return G_SOURCE_CONTINUE;
    }
    if (chr->in_fd >= 0) {
        close(c); /* one client at a time, like QEMU's socket chardev */
        return G_SOURCE_CONTINUE;
    }
    core_lock();
    client_attach(chr, c);
    core_unlock();
    return G_SOURCE_CONTINUE;
}

static bool unix_opts(const char *spec, char **path, bool *wait, char **errp)
{
    char **parts = g_strsplit(spec, ",", -1);
    bool server = false, ok = true;

    *path = g_strdup(parts[0] ? parts[0] : "");
    *wait = true;
    for (char **p = parts + (parts[0] != NULL); *p && ok; p++) {
        if (!strcmp(*p, "server") || !strcmp(*p, "server=on")) {
            server = true;
        } else if (!strcmp(*p, "nowait") || !strcmp(*p, "wait=off")) {
            *wait = false;
        } else if (!strcmp(*p, "wait=on")) {
            *wait = true;
        } else if (strcmp(*p, "server=off") != 0) {
            core_set_error(errp, "serial unix:%s: unknown option '%s'", *path, *p);
            ok = false;
        }
    }
    g_strfreev(parts);
    if (ok && !server) {
        core_set_error(errp, "serial unix:%s: only server=on is supported", *path);
        ok = false;
    }
    return ok;
}

static bool socket_open(tes_chr *chr, const char *spec, char **errp)
{
    struct sockaddr_un sa;
    bool wait, bound;

    if (!unix_opts(spec, &chr->path, &wait, errp) ||
        !unix_socket_path_prepare("-serial", chr->path, &sa, errp)) {
        g_clear_pointer(&chr->path, g_free);
        return false;
    }
    chr->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bound = chr->listen_fd >= 0 && bind(chr->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    if (!bound || listen(chr->listen_fd, 1) < 0) {
        int e = errno;

        /* chr_free() unlinks the path of a listening socket only: a failed
         * bind() may have met someone else's file. */
        if (bound) {
            unlink(chr->path);
        }
        if (chr->listen_fd >= 0) {
            close(chr->listen_fd);
            chr->listen_fd = -1;
        }
        core_set_error(errp, "serial unix:%s: cannot listen: %s", chr->path, strerror(e));
        return false;
    }
    if (wait) {
        int c;
        fprintf(stderr, "tessera: waiting for connection on unix:%s\n", chr->path);
        do {
            c = accept4(chr->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        } while (c < 0 && errno == EINTR);
        if (c >= 0) {
            client_attach(chr, c);
        }
    }
    g_unix_set_fd_nonblocking(chr->listen_fd, TRUE, NULL);
    chr->listen_watch = g_unix_fd_add(chr->listen_fd, G_IO_IN, listen_ready, chr);
    return true;
}

/* ---- Unix socket paths (also -qmp's) ---- */

/* A socket file nobody accepts on: connect() is refused. */
static bool socket_is_stale(const struct sockaddr_un *sa)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool stale;

    if (fd < 0) {
        return false;
    }
    stale = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 && errno == ECONNREFUSED;
    close(fd);
    return stale;
}

/*
 * Make path ready for bind(). QEMU removes whatever is there; we remove
 * only a socket that no process listens on (an earlier run's), since a
 * mistyped -qmp unix:disk.img must not delete the disk. A path that does
 * not fit sun_path is refused instead of being truncated by the kernel's
 * rules into another name.
 */
bool unix_socket_addr(const char *what, const char *path, struct sockaddr_un *sa, char **errp)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (!*path || strlen(path) >= sizeof(sa->sun_path)) {
        core_set_error(errp, "%s: socket path '%s' is %s (1..%zu bytes)", what, path,
                       *path ? "too long" : "empty", sizeof(sa->sun_path) - 1);
        return false;
    }
    memcpy(sa->sun_path, path, strlen(path) + 1);
    return true;
}

bool unix_socket_path_prepare(const char *what, const char *path, struct sockaddr_un *sa,
                              char **errp)
{
    struct stat st;

    if (!unix_socket_addr(what, path, sa, errp)) {
        return false;
    }
    if (lstat(path, &st) < 0) {
        return true; /* nothing there, or bind() will say why */
    }
    if (!S_ISSOCK(st.st_mode)) {
        core_set_error(errp, "%s: '%s' exists and is not a socket; not replacing it", what, path);
        return false;
    }
    if (!socket_is_stale(sa)) {
        core_set_error(errp, "%s: socket '%s' is in use by another process", what, path);
        return false;
    }
    unlink(path);
    return true;
}

/* ---- the list ---- */

static void chr_free(tes_chr *chr)
{
    if (!chr) {
        return;
    }
    if (chr->kind == CHR_SOCKET) {
        client_close(chr);
    }
    if (chr->in_watch) {
        g_source_remove(chr->in_watch);
    }
    if (chr->listen_watch) {
        g_source_remove(chr->listen_watch);
    }
    if (chr->retry) {
        g_source_remove(chr->retry);
    }
    if (chr->listen_fd >= 0) {
        close(chr->listen_fd);
        unlink(chr->path);
    }
    if (chr->kind == CHR_FILE && chr->out_fd >= 0) {
        close(chr->out_fd);
    }
    g_byte_array_unref(chr->queue);
    g_free(chr->path);
    g_free(chr);
}

static bool unknown_backend(const char *spec, char **errp)
{
    core_set_error(errp, "serial '%s': unknown backend (want stdio, null, none, file:PATH "
                   "or unix:PATH,server=on,wait=off)", spec);
    return false;
}

static bool chr_open(tes_chr *chr, const char *spec, char **errp)
{
    if (!strcmp(spec, "stdio") || !strcmp(spec, "mon:stdio")) {
        chr->kind = CHR_STDIO;
        chr->out_fd = 1;
        chr->in_fd = 0;
        term_raw();
        chr->in_watch = g_unix_fd_add(0, G_IO_IN | G_IO_HUP, input_ready, chr);
        return true;
    }
    if (!strcmp(spec, "null")) {
        chr->kind = CHR_NULL;
        return true;
    }
    if (g_str_has_prefix(spec, "file:")) {
        chr->kind = CHR_FILE;
        chr->out_fd = open(spec + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (chr->out_fd < 0) {
            core_set_error(errp, "serial %s: cannot open: %s", spec, strerror(errno));
            return false;
        }
        return true;
    }
    if (g_str_has_prefix(spec, "unix:")) {
        chr->kind = CHR_SOCKET;
        return socket_open(chr, spec + 5, errp);
    }
    return unknown_backend(spec, errp);
}

bool serial_spec_check(const char *spec, char **errp)
{
    static const char *const plain[] = {"none", "null", "stdio", "mon:stdio"};
    struct sockaddr_un sa;
    char *path = NULL;
    bool wait, ok;

    for (size_t i = 0; i < G_N_ELEMENTS(plain); i++) {
        if (!strcmp(spec, plain[i])) {
            return true;
        }
    }
    if (g_str_has_prefix(spec, "file:")) {
        return true; /* any path: open() says what is wrong with it */
    }
    if (!g_str_has_prefix(spec, "unix:")) {
        return unknown_backend(spec, errp);
    }
    ok = unix_opts(spec + 5, &path, &wait, errp) && unix_socket_addr("-serial", path, &sa, errp);
    g_free(path);
    return ok;
}

bool serial_add(const char *spec, char **errp)
{
    tes_chr *chr;

    if (!strcmp(spec, "none")) {
        return true; /* as QEMU: this place gets no serial port */
    }
    chr = g_new0(tes_chr, 1);
    chr->out_fd = chr->in_fd = chr->listen_fd = -1;
    chr->queue = g_byte_array_new();
    if (!chr_open(chr, spec, errp)) {
        chr_free(chr);
        return false;
    }
    if (!serials) {
        serials = g_ptr_array_new();
    }
    g_ptr_array_add(serials, chr);
    return true;
}

tes_chr *serial_chr(unsigned index)
{
    return serials && index < serials->len ? g_ptr_array_index(serials, index) : NULL;
}

void chr_write(tes_chr *chr, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    if (!chr || chr->kind == CHR_NULL) {
        return;
    }
    while (len && chr->out_fd >= 0) {
        ssize_t n = chr->kind == CHR_SOCKET
                        ? send(chr->out_fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT)
                        : write(chr->out_fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN && chr->kind == CHR_SOCKET) {
            return; /* a slow client loses output rather than stall the guest */
        }
        if (n <= 0) {
            if (chr->kind == CHR_SOCKET) {
                client_close(chr);
            }
            return;
        }
        p += n;
        len -= n;
    }
}

void chr_set_handlers(tes_chr *chr, tes_chr_can_read can_read, tes_chr_read read,
                      void *opaque)
{
    if (!chr) {
        return;
    }
    chr->can_read = can_read;
    chr->read = read;
    chr->opaque = opaque;
}

void chardevs_close_all(void)
{
    for (guint i = 0; serials && i < serials->len; i++) {
        chr_free(g_ptr_array_index(serials, i));
    }
    if (serials) {
        g_ptr_array_free(serials, TRUE);
        serials = NULL;
    }
    term_restore();
}
