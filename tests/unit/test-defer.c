/*
 * host->defer_call (ABI 1.11): at once outside a batch; inside one (a
 * reap's msi_batch, a register write being handled) once per (dev, fn,
 * opaque) when the outermost batch ends, in the order of first deferral;
 * a call that defers again runs at once; a full queue runs early rather
 * than losing calls; defer_cancel drops one device's calls only, also
 * while the batch's calls run.
 */
#include <string.h>

#include "core.h"

#define LOG_MAX 64

static int log_buf[LOG_MAX];
static unsigned log_n;

static void note(void *opaque)
{
    g_assert_cmpuint(log_n, <, LOG_MAX);
    log_buf[log_n++] = GPOINTER_TO_INT(opaque);
}

/* Defers note(opaque + 100) from inside a deferred call. */
static void note_and_defer(void *opaque)
{
    note(opaque);
    defer_call(NULL, note, GINT_TO_POINTER(GPOINTER_TO_INT(opaque) + 100));
}

static void log_reset(void)
{
    log_n = 0;
    memset(log_buf, 0, sizeof(log_buf));
}

static void test_outside_a_batch_at_once(void)
{
    log_reset();
    host_table()->defer_call(NULL, note, GINT_TO_POINTER(7));
    g_assert_cmpuint(log_n, ==, 1);
    g_assert_cmpint(log_buf[0], ==, 7);
    defer_call(NULL, NULL, NULL); /* no function: nothing, no crash */
    g_assert_cmpuint(log_n, ==, 1);
}

static void test_once_at_the_end_in_order(void)
{
    int a, b;
    tes_device *da = (tes_device *)&a, *db = (tes_device *)&b;

    log_reset();
    msi_batch_begin();
    defer_call(da, note, GINT_TO_POINTER(1));
    defer_call(db, note, GINT_TO_POINTER(2));
    defer_call(da, note, GINT_TO_POINTER(1)); /* again: still once */
    msi_batch_begin();                        /* nested: the outer end runs them */
    defer_call(da, note, GINT_TO_POINTER(3));
    msi_batch_end();
    g_assert_cmpuint(log_n, ==, 0);
    defer_call(db, note, GINT_TO_POINTER(1)); /* another device: its own call */
    msi_batch_end();
    g_assert_cmpuint(log_n, ==, 4);
    g_assert_cmpint(log_buf[0], ==, 1);
    g_assert_cmpint(log_buf[1], ==, 2);
    g_assert_cmpint(log_buf[2], ==, 3);
    g_assert_cmpint(log_buf[3], ==, 1);
}

static void test_deferring_from_a_deferred_call(void)
{
    log_reset();
    defer_begin();
    defer_call(NULL, note_and_defer, GINT_TO_POINTER(5));
    defer_end();
    g_assert_cmpuint(log_n, ==, 2);
    g_assert_cmpint(log_buf[0], ==, 5);
    g_assert_cmpint(log_buf[1], ==, 105);
}

static void test_full_queue_runs_early(void)
{
    log_reset();
    defer_begin();
    for (int i = 0; i < 40; i++) {
        defer_call(NULL, note, GINT_TO_POINTER(i));
    }
    g_assert_cmpuint(log_n, >, 0); /* some ran before the end: none lost */
    defer_end();
    g_assert_cmpuint(log_n, ==, 40);
    for (int i = 0; i < 40; i++) {
        g_assert_cmpint(log_buf[i], ==, i);
    }
}

static void test_cancel_drops_one_device(void)
{
    int a, b;
    tes_device *da = (tes_device *)&a, *db = (tes_device *)&b;

    log_reset();
    defer_begin();
    defer_call(da, note, GINT_TO_POINTER(1));
    defer_call(db, note, GINT_TO_POINTER(2));
    defer_call(da, note, GINT_TO_POINTER(3));
    defer_cancel(da);
    defer_end();
    g_assert_cmpuint(log_n, ==, 1);
    g_assert_cmpint(log_buf[0], ==, 2);
}

/* A call that frees a device (dev_free cancels its calls) while the
 * batch's calls run: the freed device's later call does not run. */
static int victim;

static void cancel_victim(void *opaque)
{
    note(opaque);
    defer_cancel((tes_device *)&victim);
}

static void test_cancel_while_running(void)
{
    int a;

    log_reset();
    defer_begin();
    defer_call((tes_device *)&a, cancel_victim, GINT_TO_POINTER(1));
    defer_call((tes_device *)&victim, note, GINT_TO_POINTER(2));
    defer_call((tes_device *)&a, note, GINT_TO_POINTER(3));
    defer_end();
    g_assert_cmpuint(log_n, ==, 2);
    g_assert_cmpint(log_buf[0], ==, 1);
    g_assert_cmpint(log_buf[1], ==, 3);
}

/* A register write is a batch: what its handler defers runs after the
 * handler returned, before the access does. */
static unsigned writes_seen_by_deferred;
static unsigned writes;

static void count_writes(void *opaque)
{
    writes_seen_by_deferred = writes;
}

static void reg_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    defer_call(NULL, count_writes, NULL);
    g_assert_cmpuint(writes_seen_by_deferred, ==, 0); /* not yet */
    writes++;
}

static void test_register_write_is_a_batch(void)
{
    static const tes_mem_ops ops = {.size = sizeof(tes_mem_ops), .write = reg_write};
    tes_region *io;
    uint64_t v = 1;

    memory_reset();
    io = region_new_io(NULL, "dev", 16, &ops, NULL);
    region_add(memory_system(), 0x1000, io, 0);
    writes = writes_seen_by_deferred = 0;
    g_assert_cmpint(as_access(memory_system(), 0x1000, &v, 4, true), ==, TES_MEM_OK);
    g_assert_cmpuint(writes, ==, 1);
    g_assert_cmpuint(writes_seen_by_deferred, ==, 1);
    memory_reset();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/defer/outside-a-batch-at-once", test_outside_a_batch_at_once);
    g_test_add_func("/defer/once-at-the-end-in-order", test_once_at_the_end_in_order);
    g_test_add_func("/defer/deferring-from-a-deferred-call", test_deferring_from_a_deferred_call);
    g_test_add_func("/defer/full-queue-runs-early", test_full_queue_runs_early);
    g_test_add_func("/defer/cancel-drops-one-device", test_cancel_drops_one_device);
    g_test_add_func("/defer/cancel-while-running", test_cancel_while_running);
    g_test_add_func("/defer/register-write-is-a-batch", test_register_write_is_a_batch);
    return g_test_run();
}
