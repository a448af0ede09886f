/*
 * The VNC server (-vnc [HOST]:N, -vnc unix:PATH), through libvncserver:
 * graphic console 0 for any number of RFB clients, their keys and pointer
 * to the guest's input devices (core/input.c), as QEMU's -vnc. TCP port
 * 5900 + N, on every address unless HOST names one.
 *
 * Everything runs in the main loop: a ~30 Hz GLib timeout takes the core
 * lock, copies the console's surface into the server's frame buffer (8-bit
 * R, G, B, x), marks the lines that changed, and lets libvncserver serve
 * its sockets without blocking. A unix socket is ours (libvncserver 0.9.14
 * listens on TCP only): its connections are handed to the server.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib-unix.h>
#include <linux/input-event-codes.h>
#include <rfb/keysym.h>
#include <rfb/rfb.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core.h"
#include "display.h"
#include "input.h"
#include "ui.h"

#define REFRESH_MS 33
#define BLANK_W 640
#define BLANK_H 480
#define VNC_BASE_PORT 5900

typedef struct vnc_ui {
    rfbScreenInfoPtr screen;
    uint8_t *fb;          /* what the clients see: w * h * 4 */
    uint32_t w, h;
    int unix_fd;          /* -vnc unix:PATH listening socket, else -1 */
    char *unix_path;
    guint timer, unix_watch;
    int last_x, last_y, buttons;
} vnc_ui;

static vnc_ui vnc = {.unix_fd = -1};

/* ---- keys: X keysyms (RFB KeyEvent) to Linux key codes ---- */

static const struct { uint32_t sym; uint16_t key; } special_keys[] = {
    {XK_BackSpace, KEY_BACKSPACE}, {XK_Tab, KEY_TAB}, {XK_Return, KEY_ENTER},
    {XK_Escape, KEY_ESC}, {XK_Delete, KEY_DELETE}, {XK_Home, KEY_HOME},
    {XK_Left, KEY_LEFT}, {XK_Up, KEY_UP}, {XK_Right, KEY_RIGHT}, {XK_Down, KEY_DOWN},
    {XK_Page_Up, KEY_PAGEUP}, {XK_Page_Down, KEY_PAGEDOWN}, {XK_End, KEY_END},
    {XK_Insert, KEY_INSERT}, {XK_Print, KEY_SYSRQ}, {XK_Pause, KEY_PAUSE},
    {XK_Scroll_Lock, KEY_SCROLLLOCK}, {XK_Num_Lock, KEY_NUMLOCK}, {XK_KP_Enter, KEY_KPENTER},
    {XK_F1, KEY_F1}, {XK_F2, KEY_F2}, {XK_F3, KEY_F3}, {XK_F4, KEY_F4}, {XK_F5, KEY_F5},
    {XK_F6, KEY_F6}, {XK_F7, KEY_F7}, {XK_F8, KEY_F8}, {XK_F9, KEY_F9}, {XK_F10, KEY_F10},
    {XK_F11, KEY_F11}, {XK_F12, KEY_F12},
    {XK_Shift_L, KEY_LEFTSHIFT}, {XK_Shift_R, KEY_RIGHTSHIFT},
    {XK_Control_L, KEY_LEFTCTRL}, {XK_Control_R, KEY_RIGHTCTRL},
    {XK_Caps_Lock, KEY_CAPSLOCK}, {XK_Meta_L, KEY_LEFTMETA}, {XK_Meta_R, KEY_RIGHTMETA},
    {XK_Alt_L, KEY_LEFTALT}, {XK_Alt_R, KEY_RIGHTALT}, {XK_Super_L, KEY_LEFTMETA},
    {XK_Super_R, KEY_RIGHTMETA}, {XK_Menu, KEY_COMPOSE},
};

/* Printable keysyms are Latin-1 characters: the key of a US keyboard that
 * types them (shifted ones too: the client sends the Shift itself). */
static const char *const char_rows[] = {
    "1234567890-=", "!@#$%^&*()_+", "qwertyuiop[]", "QWERTYUIOP{}",
    "asdfghjkl;'`", "ASDFGHJKL:\"~", "zxcvbnm,./", "ZXCVBNM<>?",
};
static const uint16_t row_first_key[] = {KEY_1, KEY_1, KEY_Q, KEY_Q, KEY_A, KEY_A, KEY_Z, KEY_Z};

static uint16_t key_of_sym(uint32_t sym)
{
    for (size_t i = 0; i < G_N_ELEMENTS(special_keys); i++) {
        if (special_keys[i].sym == sym) {
            return special_keys[i].key;
        }
    }
    if (sym == ' ') {
        return KEY_SPACE;
    }
    if (sym == '\\' || sym == '|') {
        return KEY_BACKSLASH;
    }
    for (size_t r = 0; sym < 0x80 && r < G_N_ELEMENTS(char_rows); r++) {
        const char *p = strchr(char_rows[r], (int)sym);

        if (sym && p) {
            return (uint16_t)(row_first_key[r] + (p - char_rows[r]));
        }
    }
    return 0;
}

static void on_key(rfbBool down, rfbKeySym sym, rfbClientPtr cl)
{
    uint16_t key = key_of_sym((uint32_t)sym);

    if (key) {
        input_key(key, down);
        input_sync();
    }
}

/* ---- pointer ---- */

static void on_pointer(int mask, int x, int y, rfbClientPtr cl)
{
    static const uint16_t buttons[3] = {BTN_LEFT, BTN_MIDDLE, BTN_RIGHT};
    int changed = mask ^ vnc.buttons;

    if (input_has_tablet()) {
        input_abs(ABS_X, vnc.w > 1 ? (int32_t)((int64_t)x * TES_INPUT_ABS_MAX / (vnc.w - 1)) : 0);
        input_abs(ABS_Y, vnc.h > 1 ? (int32_t)((int64_t)y * TES_INPUT_ABS_MAX / (vnc.h - 1)) : 0);
    } else if (x != vnc.last_x || y != vnc.last_y) {
        input_rel(REL_X, x - vnc.last_x);
        input_rel(REL_Y, y - vnc.last_y);
    }
    for (int b = 0; b < 3; b++) {
        if (changed & (1 << b)) {
            input_key(buttons[b], mask & (1 << b));
        }
    }
    /* Buttons 4 and 5 are the wheel: one step per press. */
    if ((changed & mask) & 0x08) {
        input_rel(REL_WHEEL, 1);
    }
    if ((changed & mask) & 0x10) {
        input_rel(REL_WHEEL, -1);
    }
    input_sync();
    vnc.last_x = x, vnc.last_y = y, vnc.buttons = mask;
}

/* ---- the picture ---- */

static void resize(uint32_t w, uint32_t h)
{
    uint8_t *old = vnc.fb;

    vnc.fb = g_malloc0((size_t)w * h * 4);
    vnc.w = w, vnc.h = h;
    rfbNewFramebuffer(vnc.screen, (char *)vnc.fb, (int)w, (int)h, 8, 3, 4);
    g_free(old);
}

/* Copy the surface in (R, G, B, x bytes), marking the lines that changed. */
static void copy_surface(const tes_surface *s)
{
    int first = -1, last = -1;
    g_autofree uint8_t *line = g_malloc((size_t)s->width * 4);

    for (uint32_t y = 0; y < s->height; y++) {
        uint8_t *dst = vnc.fb + (size_t)y * s->width * 4;

        for (uint32_t x = 0; x < s->width; x++) {
            uint32_t v = display_pixel_rgb(s, x, y);

            line[4 * x] = v >> 16, line[4 * x + 1] = v >> 8, line[4 * x + 2] = v;
            line[4 * x + 3] = 0;
        }
        if (memcmp(dst, line, (size_t)s->width * 4)) {
            memcpy(dst, line, (size_t)s->width * 4);
            first = first < 0 ? (int)y : first;
            last = (int)y;
        }
    }
    if (first >= 0) {
        rfbMarkRectAsModified(vnc.screen, 0, first, (int)s->width, last + 1);
    }
}

static void refresh_picture(void)
{
    tes_console *con = display_console_find(NULL, 0, NULL);
    const tes_surface *s = con ? display_console_surface(con) : NULL;
    uint32_t w = s ? s->width : BLANK_W, h = s ? s->height : BLANK_H;

    if (w != vnc.w || h != vnc.h) {
        resize(w, h);
    }
    if (s) {
        copy_surface(s);
    } else if (vnc.fb[0] || memcmp(vnc.fb, vnc.fb + 1, (size_t)w * h * 4 - 1)) {
        memset(vnc.fb, 0, (size_t)w * h * 4);
        rfbMarkRectAsModified(vnc.screen, 0, 0, (int)w, (int)h);
    }
}

static gboolean tick(gpointer opaque)
{
    core_lock();
    if (vnc.screen->clientHead) {
        refresh_picture();
    }
    rfbProcessEvents(vnc.screen, 0);
    core_unlock();
    return G_SOURCE_CONTINUE;
}

/* ---- -vnc unix:PATH ---- */

static gboolean unix_acceptable(gint fd, GIOCondition cond, gpointer opaque)
{
    int c = accept(fd, NULL, NULL);

    if (c >= 0) {
        core_lock();
        rfbNewClient(vnc.screen, c);
        core_unlock();
    }
    return G_SOURCE_CONTINUE;
}

static bool listen_unix(const char *path, char **err)
{
    struct sockaddr_un sa;

    if (!unix_socket_path_prepare("-vnc", path, &sa, err)) {
        return false;
    }
    vnc.unix_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (vnc.unix_fd < 0 || bind(vnc.unix_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(vnc.unix_fd, 4) < 0) {
        core_set_error(err, "-vnc: cannot listen on '%s': %s", path, g_strerror(errno));
        return false;
    }
    vnc.unix_path = g_strdup(path);
    vnc.unix_watch = g_unix_fd_add(vnc.unix_fd, G_IO_IN, unix_acceptable, NULL);
    return true;
}

/* "[HOST]:N", "unix:PATH" or "none"; QEMU's options after a comma are
 * not taken (one line says so). */
static bool parse_spec(const char *spec, char **host, int *display, char **path, char **err)
{
    const char *colon;
    char *end = NULL;
    long n;

    if (strchr(spec, ',')) {
        core_set_error(err, "-vnc %s: options after the address are not supported", spec);
        return false;
    }
    if (g_str_has_prefix(spec, "unix:")) {
        *path = g_strdup(spec + 5);
        return true;
    }
    colon = strrchr(spec, ':');
    n = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || !colon[1] || *end || n < 0 || n > 65535 - VNC_BASE_PORT) {
        core_set_error(err, "-vnc %s: expected [HOST]:DISPLAY (0..%d), unix:PATH or none",
                       spec, 65535 - VNC_BASE_PORT);
        return false;
    }
    *host = g_strndup(spec, colon - spec);
    *display = (int)n;
    return true;
}

static bool listen_tcp(const char *host, int display, char **err)
{
    vnc.screen->port = vnc.screen->ipv6port = VNC_BASE_PORT + display;
    vnc.screen->autoPort = FALSE;
    if (*host) {
        struct in_addr a;

        if (!inet_aton(host, &a)) {
            core_set_error(err, "-vnc: '%s' is not an IPv4 address", host);
            return false;
        }
        vnc.screen->listenInterface = a.s_addr;
        vnc.screen->ipv6port = 0;
    }
    rfbInitServer(vnc.screen);
    if (vnc.screen->listenSock == RFB_INVALID_SOCKET) {
        core_set_error(err, "-vnc: cannot listen on port %d (in use?)", VNC_BASE_PORT + display);
        return false;
    }
    return true;
}

bool ui_vnc_start(const char *spec, char **err)
{
    g_autofree char *host = NULL, *path = NULL;
    int display = 0;
    bool ok;

    if (!strcmp(spec, "none")) {
        return true;
    }
    if (!parse_spec(spec, &host, &display, &path, err)) {
        return false;
    }
    rfbLogEnable(FALSE);
    vnc.w = BLANK_W, vnc.h = BLANK_H;
    vnc.fb = g_malloc0((size_t)vnc.w * vnc.h * 4);
    vnc.screen = rfbGetScreen(NULL, NULL, (int)vnc.w, (int)vnc.h, 8, 3, 4);
    vnc.screen->frameBuffer = (char *)vnc.fb;
    vnc.screen->desktopName = "tessera";
    vnc.screen->alwaysShared = TRUE;
    /* No server-side arrow painted over the guest's picture (QEMU draws
     * none either; the viewer shows its own pointer). */
    vnc.screen->cursor = NULL;
    vnc.screen->kbdAddEvent = on_key;
    vnc.screen->ptrAddEvent = on_pointer;
    if (path) {
        vnc.screen->port = vnc.screen->ipv6port = 0; /* no TCP: ours is the unix socket */
        vnc.screen->autoPort = FALSE;
        rfbInitServer(vnc.screen);
        ok = listen_unix(path, err);
    } else {
        ok = listen_tcp(host, display, err);
    }
    if (!ok) {
        ui_vnc_stop();
        return false;
    }
    vnc.timer = g_timeout_add(REFRESH_MS, tick, NULL);
    return true;
}

void ui_vnc_stop(void)
{
    if (vnc.timer) {
        g_source_remove(vnc.timer);
    }
    if (vnc.unix_watch) {
        g_source_remove(vnc.unix_watch);
    }
    if (vnc.unix_fd >= 0) {
        close(vnc.unix_fd);
        unlink(vnc.unix_path);
    }
    if (vnc.screen) {
        rfbShutdownServer(vnc.screen, TRUE);
        rfbScreenCleanup(vnc.screen);
    }
    g_free(vnc.fb);
    g_free(vnc.unix_path);
    memset(&vnc, 0, sizeof(vnc));
    vnc.unix_fd = -1;
}
