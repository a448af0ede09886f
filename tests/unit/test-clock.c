/*
 * Unit tests of the virtual clock and timers.
 */
#include <time.h>

#include "core.h"

typedef struct fired {
    int64_t at[16];
    int id[16];
    unsigned n;
} fired;

static fired log_;

typedef struct tctx {
    int id;
    tes_timer *t;
    int64_t period; /* > 0: re-arm from inside the callback */
    int rearms;
    tes_timer *victim; /* deleted from inside the callback */
} tctx;

static void cb(void *opaque)
{
    tctx *c = opaque;

    if (log_.n < G_N_ELEMENTS(log_.at)) {
        log_.at[log_.n] = clock_ns();
        log_.id[log_.n++] = c->id;
    }
    if (c->period > 0 && c->rearms-- > 0) {
        timer_mod(c->t, clock_ns() + c->period);
    }
    if (c->victim) {
        timer_del(c->victim);
    }
}

static void setup(void)
{
    memset(&log_, 0, sizeof(log_));
    clock_set_manual(true);
}

static void test_deadline_order(void)
{
    tctx a = {1}, b = {2}, c = {3};

    setup();
    a.t = timer_new(cb, &a);
    b.t = timer_new(cb, &b);
    c.t = timer_new(cb, &c);
    timer_mod(a.t, 300);
    timer_mod(b.t, 100);
    timer_mod(c.t, 200);
    g_assert_cmpint(timer_expire(b.t), ==, 100);
    clock_step(250);
    g_assert_cmpuint(log_.n, ==, 2);
    g_assert_cmpint(log_.id[0], ==, 2);
    g_assert_cmpint(log_.at[0], ==, 100);
    g_assert_cmpint(log_.id[1], ==, 3);
    g_assert_cmpint(log_.at[1], ==, 200);
    g_assert_cmpint(clock_ns(), ==, 250);
    g_assert_true(timer_pending(a.t));
    g_assert_false(timer_pending(b.t));
    g_assert_cmpint(timer_expire(b.t), ==, -1);
    clock_step(50);
    g_assert_cmpuint(log_.n, ==, 3);
    g_assert_cmpint(log_.at[2], ==, 300);
    timer_free(a.t);
    timer_free(b.t);
    timer_free(c.t);
}

static void test_rearm_in_callback(void)
{
    tctx p = {7};

    setup();
    p.t = timer_new(cb, &p);
    p.period = 1000;
    p.rearms = 2;
    timer_mod(p.t, 1000);
    g_assert_cmpint(timers_run(), ==, 1000);
    clock_step(10000);
    g_assert_cmpuint(log_.n, ==, 3);
    g_assert_cmpint(log_.at[0], ==, 1000);
    g_assert_cmpint(log_.at[1], ==, 2000);
    g_assert_cmpint(log_.at[2], ==, 3000);
    g_assert_false(timer_pending(p.t));
    g_assert_cmpint(timers_run(), ==, -1);
    timer_free(p.t);
}

static void test_timer_del(void)
{
    tctx a = {1}, b = {2}, killer = {3};

    setup();
    a.t = timer_new(cb, &a);
    b.t = timer_new(cb, &b);
    killer.t = timer_new(cb, &killer);
    killer.victim = b.t;
    timer_mod(a.t, 10);
    timer_mod(b.t, 30);
    timer_mod(killer.t, 20);
    timer_del(a.t);
    clock_step(100);
    /* a was deleted before it was due, b by killer's callback. */
    g_assert_cmpuint(log_.n, ==, 1);
    g_assert_cmpint(log_.id[0], ==, 3);
    timer_free(a.t);
    timer_free(b.t);
    timer_free(killer.t);
}

static int64_t host_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void test_pause_freezes_real_clock(void)
{
    struct timespec ts = {0, 2000000};
    int64_t h0, c0, t0, h1, c1;

    clock_set_manual(false);
    h0 = host_now();
    c0 = clock_ns();
    nanosleep(&ts, NULL);
    g_assert_cmpint(clock_ns() - c0, >=, 2000000);
    clock_pause();
    t0 = clock_ns();
    nanosleep(&ts, NULL);
    g_assert_cmpint(clock_ns(), ==, t0);
    clock_resume();
    nanosleep(&ts, NULL);
    c1 = clock_ns();
    h1 = host_now();
    /* The 2 ms spent paused are missing from virtual time. */
    g_assert_cmpint((h1 - h0) - (c1 - c0), >=, 2000000);
    g_assert_cmpint(c1 - t0, >=, 2000000);
    clock_set_ns(5000000000ll);
    g_assert_cmpint(clock_ns(), >=, 5000000000ll);
    clock_set_manual(true);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/clock/manual/timers-fire-in-deadline-order-at-own-time",
                    test_deadline_order);
    g_test_add_func("/clock/manual/rearm-inside-callback", test_rearm_in_callback);
    g_test_add_func("/clock/manual/deleted-timers-do-not-fire", test_timer_del);
    g_test_add_func("/clock/real/pause-freezes-time", test_pause_freezes_real_clock);
    return g_test_run();
}
