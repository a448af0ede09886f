/*
 * The SDL2 window (-display sdl, and the default when the machine has a
 * display and a desktop is there): shows graphic console 0 scaled to the
 * window, its title says the run state, and the keyboard and mouse reach
 * the guest's input devices through core/input.c. Ctrl-Alt-G grabs and
 * releases the mouse (a click in the window grabs it too, unless the guest
 * has a tablet, whose absolute pointer needs no grab), and closing the
 * window quits, as with QEMU's SDL display.
 *
 * Everything runs in the main loop: a ~30 Hz GLib timeout takes the core
 * lock, asks the console for its surface (the device's refresh), copies it
 * into a streaming texture, presents, and drains SDL's events.
 */
#include <SDL.h>
#include <stdlib.h>
#include <string.h>
#include <linux/input-event-codes.h>

#include "core.h"
#include "display.h"
#include "input.h"
#include "ui.h"

#define REFRESH_MS 33
#define DEFAULT_W 640
#define DEFAULT_H 480

typedef struct sdl_ui {
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    uint32_t tex_format, tex_w, tex_h;
    bool grabbed;
    bool ctrl, alt;
    runstate shown_state;
    guint timer;
} sdl_ui;

static sdl_ui ui;

/* SDL scancodes (USB HID usages) to Linux key codes. */
static const struct { uint16_t sdl, linux_key; } keymap[] = {
    {SDL_SCANCODE_A, KEY_A}, {SDL_SCANCODE_B, KEY_B}, {SDL_SCANCODE_C, KEY_C},
    {SDL_SCANCODE_D, KEY_D}, {SDL_SCANCODE_E, KEY_E}, {SDL_SCANCODE_F, KEY_F},
    {SDL_SCANCODE_G, KEY_G}, {SDL_SCANCODE_H, KEY_H}, {SDL_SCANCODE_I, KEY_I},
    {SDL_SCANCODE_J, KEY_J}, {SDL_SCANCODE_K, KEY_K}, {SDL_SCANCODE_L, KEY_L},
    {SDL_SCANCODE_M, KEY_M}, {SDL_SCANCODE_N, KEY_N}, {SDL_SCANCODE_O, KEY_O},
    {SDL_SCANCODE_P, KEY_P}, {SDL_SCANCODE_Q, KEY_Q}, {SDL_SCANCODE_R, KEY_R},
    {SDL_SCANCODE_S, KEY_S}, {SDL_SCANCODE_T, KEY_T}, {SDL_SCANCODE_U, KEY_U},
    {SDL_SCANCODE_V, KEY_V}, {SDL_SCANCODE_W, KEY_W}, {SDL_SCANCODE_X, KEY_X},
    {SDL_SCANCODE_Y, KEY_Y}, {SDL_SCANCODE_Z, KEY_Z},
    {SDL_SCANCODE_1, KEY_1}, {SDL_SCANCODE_2, KEY_2}, {SDL_SCANCODE_3, KEY_3},
    {SDL_SCANCODE_4, KEY_4}, {SDL_SCANCODE_5, KEY_5}, {SDL_SCANCODE_6, KEY_6},
    {SDL_SCANCODE_7, KEY_7}, {SDL_SCANCODE_8, KEY_8}, {SDL_SCANCODE_9, KEY_9},
    {SDL_SCANCODE_0, KEY_0},
    {SDL_SCANCODE_RETURN, KEY_ENTER}, {SDL_SCANCODE_ESCAPE, KEY_ESC},
    {SDL_SCANCODE_BACKSPACE, KEY_BACKSPACE}, {SDL_SCANCODE_TAB, KEY_TAB},
    {SDL_SCANCODE_SPACE, KEY_SPACE}, {SDL_SCANCODE_MINUS, KEY_MINUS},
    {SDL_SCANCODE_EQUALS, KEY_EQUAL}, {SDL_SCANCODE_LEFTBRACKET, KEY_LEFTBRACE},
    {SDL_SCANCODE_RIGHTBRACKET, KEY_RIGHTBRACE}, {SDL_SCANCODE_BACKSLASH, KEY_BACKSLASH},
    {SDL_SCANCODE_NONUSHASH, KEY_BACKSLASH}, {SDL_SCANCODE_SEMICOLON, KEY_SEMICOLON},
    {SDL_SCANCODE_APOSTROPHE, KEY_APOSTROPHE}, {SDL_SCANCODE_GRAVE, KEY_GRAVE},
    {SDL_SCANCODE_COMMA, KEY_COMMA}, {SDL_SCANCODE_PERIOD, KEY_DOT},
    {SDL_SCANCODE_SLASH, KEY_SLASH}, {SDL_SCANCODE_CAPSLOCK, KEY_CAPSLOCK},
    {SDL_SCANCODE_F1, KEY_F1}, {SDL_SCANCODE_F2, KEY_F2}, {SDL_SCANCODE_F3, KEY_F3},
    {SDL_SCANCODE_F4, KEY_F4}, {SDL_SCANCODE_F5, KEY_F5}, {SDL_SCANCODE_F6, KEY_F6},
    {SDL_SCANCODE_F7, KEY_F7}, {SDL_SCANCODE_F8, KEY_F8}, {SDL_SCANCODE_F9, KEY_F9},
    {SDL_SCANCODE_F10, KEY_F10}, {SDL_SCANCODE_F11, KEY_F11}, {SDL_SCANCODE_F12, KEY_F12},
    {SDL_SCANCODE_PRINTSCREEN, KEY_SYSRQ}, {SDL_SCANCODE_SCROLLLOCK, KEY_SCROLLLOCK},
    {SDL_SCANCODE_PAUSE, KEY_PAUSE}, {SDL_SCANCODE_INSERT, KEY_INSERT},
    {SDL_SCANCODE_HOME, KEY_HOME}, {SDL_SCANCODE_PAGEUP, KEY_PAGEUP},
    {SDL_SCANCODE_DELETE, KEY_DELETE}, {SDL_SCANCODE_END, KEY_END},
    {SDL_SCANCODE_PAGEDOWN, KEY_PAGEDOWN}, {SDL_SCANCODE_RIGHT, KEY_RIGHT},
    {SDL_SCANCODE_LEFT, KEY_LEFT}, {SDL_SCANCODE_DOWN, KEY_DOWN}, {SDL_SCANCODE_UP, KEY_UP},
    {SDL_SCANCODE_NUMLOCKCLEAR, KEY_NUMLOCK}, {SDL_SCANCODE_KP_DIVIDE, KEY_KPSLASH},
    {SDL_SCANCODE_KP_MULTIPLY, KEY_KPASTERISK}, {SDL_SCANCODE_KP_MINUS, KEY_KPMINUS},
    {SDL_SCANCODE_KP_PLUS, KEY_KPPLUS}, {SDL_SCANCODE_KP_ENTER, KEY_KPENTER},
    {SDL_SCANCODE_KP_1, KEY_KP1}, {SDL_SCANCODE_KP_2, KEY_KP2}, {SDL_SCANCODE_KP_3, KEY_KP3},
    {SDL_SCANCODE_KP_4, KEY_KP4}, {SDL_SCANCODE_KP_5, KEY_KP5}, {SDL_SCANCODE_KP_6, KEY_KP6},
    {SDL_SCANCODE_KP_7, KEY_KP7}, {SDL_SCANCODE_KP_8, KEY_KP8}, {SDL_SCANCODE_KP_9, KEY_KP9},
    {SDL_SCANCODE_KP_0, KEY_KP0}, {SDL_SCANCODE_KP_PERIOD, KEY_KPDOT},
    {SDL_SCANCODE_NONUSBACKSLASH, KEY_102ND}, {SDL_SCANCODE_APPLICATION, KEY_COMPOSE},
    {SDL_SCANCODE_LCTRL, KEY_LEFTCTRL}, {SDL_SCANCODE_LSHIFT, KEY_LEFTSHIFT},
    {SDL_SCANCODE_LALT, KEY_LEFTALT}, {SDL_SCANCODE_LGUI, KEY_LEFTMETA},
    {SDL_SCANCODE_RCTRL, KEY_RIGHTCTRL}, {SDL_SCANCODE_RSHIFT, KEY_RIGHTSHIFT},
    {SDL_SCANCODE_RALT, KEY_RIGHTALT}, {SDL_SCANCODE_RGUI, KEY_RIGHTMETA},
};

static uint16_t linux_key(SDL_Scancode sc)
{
    for (size_t i = 0; i < G_N_ELEMENTS(keymap); i++) {
        if (keymap[i].sdl == sc) {
            return keymap[i].linux_key;
        }
    }
    return 0;
}

static uint32_t sdl_format(uint32_t format)
{
    switch (format) {
    case TES_PIXEL_XRGB8888:
        return SDL_PIXELFORMAT_RGB888;   /* 0x00RRGGBB in a native 32-bit word */
    case TES_PIXEL_BGRX8888:
        return SDL_PIXELFORMAT_BGRX8888; /* bytes x, R, G, B on little-endian hosts */
    case TES_PIXEL_RGB565:
        return SDL_PIXELFORMAT_RGB565;
    }
    return SDL_PIXELFORMAT_UNKNOWN;
}

static void update_title(void)
{
    runstate s = runstate_get();
    g_autofree char *title = NULL;

    if (s == ui.shown_state && ui.win && SDL_GetWindowTitle(ui.win)[0]) {
        return;
    }
    ui.shown_state = s;
    title = g_strdup_printf("tessera%s%s%s", s == RUN_RUNNING ? "" : " [",
                            s == RUN_RUNNING ? "" : runstate_name(s),
                            s == RUN_RUNNING ? "" : "]");
    if (ui.grabbed) {
        char *t = g_strconcat(title, " - Press Ctrl-Alt-G to exit grab", NULL);

        g_free(title);
        title = t;
    }
    SDL_SetWindowTitle(ui.win, title);
}

static void set_grab(bool on)
{
    ui.grabbed = on;
    SDL_SetRelativeMouseMode(on ? SDL_TRUE : SDL_FALSE);
    ui.shown_state = (runstate)-1; /* the title changes */
}

/* A new texture when the mode changed; the window follows the mode. */
static bool ensure_texture(const tes_surface *s)
{
    uint32_t f = sdl_format(s->format);

    if (ui.tex && ui.tex_format == f && ui.tex_w == s->width && ui.tex_h == s->height) {
        return true;
    }
    if (ui.tex) {
        SDL_DestroyTexture(ui.tex);
    }
    ui.tex = SDL_CreateTexture(ui.ren, f, SDL_TEXTUREACCESS_STREAMING, (int)s->width,
                               (int)s->height);
    ui.tex_format = f, ui.tex_w = s->width, ui.tex_h = s->height;
    if (ui.tex) {
        SDL_SetWindowSize(ui.win, (int)s->width, (int)s->height);
        SDL_RenderSetLogicalSize(ui.ren, (int)s->width, (int)s->height);
    }
    return ui.tex != NULL;
}

static void draw(void)
{
    tes_console *con = display_console_find(NULL, 0, NULL);
    const tes_surface *s = con ? display_console_surface(con) : NULL;

    SDL_SetRenderDrawColor(ui.ren, 0, 0, 0, 255);
    SDL_RenderClear(ui.ren);
    if (s && ensure_texture(s)) {
        SDL_UpdateTexture(ui.tex, NULL, s->pixels, (int)s->stride);
        SDL_RenderCopy(ui.ren, ui.tex, NULL, NULL);
    }
    SDL_RenderPresent(ui.ren);
}

/* Window coordinates to the tablet's 0..ABS_MAX over the picture. */
static int32_t abs_of(int v, int size)
{
    return size > 1 ? (int32_t)((int64_t)v * TES_INPUT_ABS_MAX / (size - 1)) : 0;
}

static void on_key(const SDL_KeyboardEvent *k)
{
    bool down = k->type == SDL_KEYDOWN;
    uint16_t code = linux_key(k->keysym.scancode);

    if (k->keysym.scancode == SDL_SCANCODE_LCTRL || k->keysym.scancode == SDL_SCANCODE_RCTRL) {
        ui.ctrl = down;
    } else if (k->keysym.scancode == SDL_SCANCODE_LALT ||
               k->keysym.scancode == SDL_SCANCODE_RALT) {
        ui.alt = down;
    } else if (down && ui.ctrl && ui.alt && k->keysym.scancode == SDL_SCANCODE_G) {
        set_grab(!ui.grabbed);
        return; /* the hot key is the window's, not the guest's */
    }
    if (code && !k->repeat) {
        input_key(code, down);
        input_sync();
    }
}

static void on_motion(const SDL_MouseMotionEvent *m)
{
    int lw = 0, lh = 0;
    float x, y;

    if (input_has_tablet() && !ui.grabbed) {
        SDL_RenderGetLogicalSize(ui.ren, &lw, &lh);
        /* The event is in window pixels; the renderer maps them back to
         * the picture's own (the window may be scaled). */
        SDL_RenderWindowToLogical(ui.ren, m->x, m->y, &x, &y);
        input_abs(ABS_X, abs_of((int)x, lw));
        input_abs(ABS_Y, abs_of((int)y, lh));
        input_sync();
    } else if (ui.grabbed) {
        input_rel(REL_X, m->xrel);
        input_rel(REL_Y, m->yrel);
        input_sync();
    }
}

static void on_button(const SDL_MouseButtonEvent *b)
{
    static const uint16_t buttons[] = {0, BTN_LEFT, BTN_MIDDLE, BTN_RIGHT, BTN_SIDE, BTN_EXTRA};
    bool down = b->type == SDL_MOUSEBUTTONDOWN;

    if (!ui.grabbed && !input_has_tablet()) {
        if (down && b->button == SDL_BUTTON_LEFT) {
            set_grab(true); /* QEMU grabs on a click when the guest points relatively */
        }
        return;
    }
    if (b->button < G_N_ELEMENTS(buttons) && buttons[b->button]) {
        input_key(buttons[b->button], down);
        input_sync();
    }
}

static void handle(const SDL_Event *e)
{
    switch (e->type) {
    case SDL_QUIT:
        core_request_shutdown(0);
        break;
    case SDL_KEYDOWN:
    case SDL_KEYUP:
        on_key(&e->key);
        break;
    case SDL_MOUSEMOTION:
        on_motion(&e->motion);
        break;
    case SDL_MOUSEBUTTONDOWN:
    case SDL_MOUSEBUTTONUP:
        on_button(&e->button);
        break;
    case SDL_MOUSEWHEEL:
        if (ui.grabbed || input_has_tablet()) {
            input_rel(REL_WHEEL, e->wheel.y);
            input_sync();
        }
        break;
    }
}

static gboolean tick(gpointer opaque)
{
    SDL_Event e;

    core_lock();
    while (SDL_PollEvent(&e)) {
        handle(&e);
    }
    update_title();
    draw();
    core_unlock();
    return G_SOURCE_CONTINUE;
}

bool ui_sdl_start(bool required, char **err)
{
    const char *drv;

    /* No desktop to open a window on: SDL would fall back to its
     * offscreen driver (and probe Wayland noisily on the way). */
    if (!getenv("DISPLAY") && !getenv("WAYLAND_DISPLAY") && !getenv("SDL_VIDEODRIVER")) {
        core_set_error(err, "-display sdl: no window system (neither DISPLAY nor "
                       "WAYLAND_DISPLAY is set)");
        return false;
    }
    /* SIGINT and SIGTERM stay the main loop's (a clean shutdown). */
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        core_set_error(err, "-display sdl: %s", SDL_GetError());
        return false;
    }
    drv = SDL_GetCurrentVideoDriver();
    if (!getenv("SDL_VIDEODRIVER") && drv &&
        (!strcmp(drv, "offscreen") || !strcmp(drv, "dummy"))) {
        core_set_error(err, "-display sdl: no window system (SDL found only '%s')", drv);
        SDL_Quit();
        return false;
    }
    ui.win = SDL_CreateWindow("tessera", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED,
                              DEFAULT_W, DEFAULT_H, SDL_WINDOW_RESIZABLE);
    ui.ren = ui.win ? SDL_CreateRenderer(ui.win, -1, 0) : NULL;
    if (!ui.ren) {
        core_set_error(err, "-display sdl: cannot open a window (%s)", SDL_GetError());
        ui_sdl_stop();
        return false;
    }
    ui.shown_state = (runstate)-1;
    ui.timer = g_timeout_add(REFRESH_MS, tick, NULL);
    return true;
}

void ui_sdl_stop(void)
{
    if (ui.timer) {
        g_source_remove(ui.timer);
    }
    if (ui.tex) {
        SDL_DestroyTexture(ui.tex);
    }
    if (ui.ren) {
        SDL_DestroyRenderer(ui.ren);
    }
    if (ui.win) {
        SDL_DestroyWindow(ui.win);
    }
    if (SDL_WasInit(SDL_INIT_VIDEO)) {
        SDL_Quit();
    }
    memset(&ui, 0, sizeof(ui));
}
