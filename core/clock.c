/*
 * tessera core: the virtual clock and its timers.
 *
 * Real mode: virtual ns = host CLOCK_MONOTONIC minus the time spent paused,
 * 0 at first use. Manual mode (the plugin harness): time moves only with
 * clock_step(), which stops at each timer's deadline so a callback reading
 * clock_ns() sees exactly its own expiry.
 *
 * The timer list and clock state have their own small mutex: the main loop's
 * GSource prepare() reads the next deadline without the machine lock while
 * a vCPU (holding the machine lock) may be arming a timer. Callbacks run
 * with that mutex released, so they may re-arm, delete or free timers,
 * themselves included.
 */
#include <time.h>

#include "core.h"

#define RUN_LIMIT 100000 /* callbacks per timers_run: a 0-period timer can't hang us */

struct tes_timer {
    tes_timer_cb cb;
    void *opaque;
    int64_t expire;
    bool pending;
    tes_timer *next; /* sorted by expire, FIFO among equals */
};

static GMutex tl;
static tes_timer *head;
static bool manual;
static bool paused;
static bool started;
static int64_t base_ns;   /* real mode: host ns at virtual 0 */
static int64_t frozen_ns; /* paused real mode and manual mode: the time */

static int64_t host_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t now_locked(void)
{
    if (manual || paused) {
        return frozen_ns;
    }
    if (!started) {
        started = true;
        base_ns = host_ns();
    }
    return host_ns() - base_ns;
}

int64_t clock_ns(void)
{
    int64_t now;

    g_mutex_lock(&tl);
    now = now_locked();
    g_mutex_unlock(&tl);
    return now;
}

static void set_locked(int64_t ns)
{
    frozen_ns = ns;
    started = true;
    base_ns = host_ns() - ns;
}

void clock_set_manual(bool on)
{
    /* A mode switch starts a fresh clock at 0 (a new harness, a new run). */
    g_mutex_lock(&tl);
    manual = on;
    set_locked(0);
    g_mutex_unlock(&tl);
}

void clock_pause(void)
{
    g_mutex_lock(&tl);
    if (!paused) {
        frozen_ns = now_locked();
        paused = true;
    }
    g_mutex_unlock(&tl);
}

void clock_resume(void)
{
    g_mutex_lock(&tl);
    if (paused) {
        paused = false;
        set_locked(frozen_ns);
    }
    g_mutex_unlock(&tl);
    g_main_context_wakeup(NULL); /* deadlines count again */
}

void clock_set_ns(int64_t ns)
{
    g_mutex_lock(&tl);
    set_locked(ns);
    g_mutex_unlock(&tl);
    g_main_context_wakeup(NULL);
}

/* ---- timers ---- */

tes_timer *timer_new(tes_timer_cb cb, void *opaque)
{
    tes_timer *t = g_new0(tes_timer, 1);

    t->cb = cb;
    t->opaque = opaque;
    t->expire = -1;
    return t;
}

static void unlink_locked(tes_timer *t)
{
    tes_timer **pp = &head;

    if (!t->pending) {
        return;
    }
    while (*pp && *pp != t) {
        pp = &(*pp)->next;
    }
    if (*pp) {
        *pp = t->next;
    }
    t->next = NULL;
    t->pending = false;
}

void timer_mod(tes_timer *t, int64_t expire_ns)
{
    tes_timer **pp = &head;
    bool first;

    if (!t) {
        return;
    }
    g_mutex_lock(&tl);
    unlink_locked(t);
    while (*pp && (*pp)->expire <= expire_ns) {
        pp = &(*pp)->next;
    }
    t->next = *pp;
    t->expire = expire_ns;
    t->pending = true;
    *pp = t;
    first = head == t;
    g_mutex_unlock(&tl);
    /* A vCPU may arm a timer while the main loop sleeps on a later one. */
    if (first && !manual) {
        g_main_context_wakeup(NULL);
    }
}

void timer_del(tes_timer *t)
{
    if (!t) {
        return;
    }
    g_mutex_lock(&tl);
    unlink_locked(t);
    g_mutex_unlock(&tl);
}

bool timer_pending(tes_timer *t)
{
    return t && t->pending;
}

int64_t timer_expire(tes_timer *t)
{
    return t && t->pending ? t->expire : -1;
}

void timer_free(tes_timer *t)
{
    if (t) {
        timer_del(t);
        g_free(t);
    }
}

/* The first timer due at now, unlinked; NULL with *next_ns set otherwise. */
static tes_timer *pop_due(int64_t now, int64_t *next_ns)
{
    tes_timer *t;

    g_mutex_lock(&tl);
    t = head;
    if (t && t->expire <= now) {
        unlink_locked(t);
    } else {
        *next_ns = t ? t->expire - now : -1;
        t = NULL;
    }
    g_mutex_unlock(&tl);
    return t;
}

int64_t timers_run(void)
{
    int64_t now = clock_ns(), next = -1;
    tes_timer *t;

    for (int n = 0; (t = pop_due(now, &next)) != NULL; n++) {
        if (n == RUN_LIMIT) {
            timer_mod(t, t->expire); /* put it back; the next run goes on */
            return 0;
        }
        t->cb(t->opaque);
    }
    return next;
}

/* Earliest deadline, or -1. */
static int64_t next_deadline(void)
{
    int64_t d;

    g_mutex_lock(&tl);
    d = head ? head->expire : -1;
    g_mutex_unlock(&tl);
    return d;
}

void clock_step(int64_t ns)
{
    int64_t target, d;

    if (!manual) {
        timers_run();
        return;
    }
    target = clock_ns() + ns;
    for (int n = 0; n < RUN_LIMIT; n++) {
        d = next_deadline();
        if (d < 0 || d > target) {
            break;
        }
        g_mutex_lock(&tl);
        frozen_ns = MAX(frozen_ns, d);
        g_mutex_unlock(&tl);
        timers_run();
    }
    g_mutex_lock(&tl);
    frozen_ns = MAX(frozen_ns, target);
    g_mutex_unlock(&tl);
    timers_run();
}

/* ---- the main loop source ---- */

/* ms until the next deadline, rounded up; -1 when none or paused. */
static gint source_timeout(void)
{
    int64_t d, now;

    g_mutex_lock(&tl);
    d = head && !paused ? head->expire : -1;
    now = now_locked();
    g_mutex_unlock(&tl);
    if (d < 0) {
        return -1;
    }
    if (d <= now) {
        return 0;
    }
    return (gint)MIN((d - now + 999999) / 1000000, G_MAXINT);
}

static gboolean source_prepare(GSource *src, gint *timeout)
{
    *timeout = source_timeout();
    return *timeout == 0;
}

static gboolean source_check(GSource *src)
{
    return source_timeout() == 0;
}

static gboolean source_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
    /* Timer callbacks are device code: machine lock held (DESIGN, Threads). */
    core_lock();
    timers_run();
    net_run_deferred();
    core_unlock();
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs source_funcs = {
    .prepare = source_prepare,
    .check = source_check,
    .dispatch = source_dispatch,
};

GSource *timers_source_new(void)
{
    GSource *src = g_source_new(&source_funcs, sizeof(GSource));

    g_source_set_name(src, "tessera-timers");
    return src;
}
