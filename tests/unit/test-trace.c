/*
 * Unit tests of trace events (core/trace.c, sdk trace.h): the declaration
 * macros, registration, -trace patterns and events=FILE, the line format
 * of QEMU's log backend (with and without -msg timestamp=on).
 *
 * Patterns are process-wide, as on the command line: each test uses event
 * names of its own.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "tracing.h"

static const tes_host *T_HOST;

/* The macros exactly as a plugin uses them. */
#define TES_TRACE_TABLE t_events
#define TES_TRACE_HOST T_HOST
#define T_TRACE(E)                                                                             \
    E(t_mmio_read, (uint64_t addr, unsigned size), (addr, size), "addr 0x%" PRIx64 " size %u") \
    E(t_reset, (void), (), "")                                                                 \
    E(t_named, (const char *who), (who), "who %s")
TES_TRACE_DECLARE(T_TRACE)
TES_TRACE_DEFINE(T_TRACE)

static GString *capture_start(void)
{
    GString *buf = g_string_new(NULL);

    log_set_capture(buf, TES_LOG_TRACE);
    return buf;
}

static void capture_end(GString *buf)
{
    log_set_capture(NULL, 0);
    g_string_free(buf, TRUE);
}

static void test_macros_print_only_while_enabled(void)
{
    GString *buf = capture_start();

    T_HOST = host_table();
    g_assert_cmpint(TES_TRACE_REGISTER(T_HOST), ==, 0);
    trace_t_mmio_read(0x10, 4);
    g_assert_cmpstr(buf->str, ==, "");
    g_assert_cmpuint(trace_set_pattern("t_*", true), ==, 3);
    trace_t_mmio_read(0x10, 4);
    trace_t_reset();
    trace_t_named("me");
    g_assert_cmpstr(buf->str, ==, "t_mmio_read addr 0x10 size 4\nt_reset \nt_named who me\n");
    trace_set_pattern("t_*", false);
    g_string_truncate(buf, 0);
    trace_t_reset();
    g_assert_cmpstr(buf->str, ==, "");
    capture_end(buf);
}

/* Command-line patterns apply in order, to events registered later too. */
static void test_patterns_in_order_and_before_registration(void)
{
    static tes_trace_event ev[] = {{"pa_one", "", 0, {0}}, {"pa_two", "", 0, {0}},
                                   {"pb_one", "", 0, {0}}};
    bool help = false;
    char *err = NULL;

    g_assert_true(trace_cli_add("pa_*", &help, &err));
    g_assert_true(trace_cli_add("-pa_two,enable=pb_?ne", &help, &err));
    g_assert_cmpint(trace_register_events(ev, 3, sizeof(ev[0])), ==, 0);
    g_assert_cmpint(ev[0].state, ==, 1);
    g_assert_cmpint(ev[1].state, ==, 0);
    g_assert_cmpint(ev[2].state, ==, 1);
    g_assert_false(help);
    g_assert_true(trace_cli_add("help", &help, &err));
    g_assert_true(help);
}

/* A pattern that is not UTF-8 (fuzz-cli: GLib's glob asserted on it and
 * aborted tessera) matches nothing, and its warning is escaped. */
static void test_pattern_not_utf8_matches_nothing(void)
{
    static tes_trace_event ev[] = {{"nu_one", "", 0, {0}}};
    bool help = false;
    char *err = NULL;

    g_assert_true(trace_cli_add("\x9c\xd2\xd3*\xee\x9cipv4\xd2", &help, &err));
    g_assert_true(trace_cli_add("*\xd2", &help, &err));
    g_assert_true(trace_cli_add("\xff", &help, &err));
    g_assert_cmpint(trace_register_events(ev, 1, sizeof(ev[0])), ==, 0);
    g_assert_cmpint(ev[0].state, ==, 0);
    g_assert_cmpuint(trace_set_pattern("\x9c\xd2\xd3*\xee\x9cipv4=\xd2", true), ==, 0);
    g_assert_cmpuint(trace_set_pattern("nu_*", true), ==, 1);
    if (g_test_subprocess()) {
        trace_warn_unknown();
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("*trace event '\\xff' does not exist*");
}

static void test_events_file(void)
{
    static tes_trace_event ev[] = {{"ef_a", "", 0, {0}}, {"ef_b", "", 0, {0}},
                                   {"ef_c", "", 0, {0}}};
    g_autofree char *path = NULL;
    char *err = NULL;
    int fd = g_file_open_tmp("trace-events-XXXXXX", &path, NULL);
    const char *text = "# comment\n\n  ef_*  \n-ef_b\n-\n";

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, text, strlen(text)), ==, (int)strlen(text));
    close(fd);
    g_assert_true(trace_events_file(path, &err));
    g_assert_cmpint(trace_register_events(ev, 3, sizeof(ev[0])), ==, 0);
    g_assert_cmpint(ev[0].state, ==, 1);
    g_assert_cmpint(ev[1].state, ==, 0);
    g_assert_cmpint(ev[2].state, ==, 1);
    g_unlink(path);
    g_assert_false(trace_events_file("/nonexistent/events", &err));
    g_assert_nonnull(strstr(err, "/nonexistent/events"));
    g_free(err);
}

static void test_bad_cli(void)
{
    bool help = false;
    char *err = NULL;

    g_assert_false(trace_cli_add("", &help, &err));
    g_clear_pointer(&err, g_free);
    g_assert_false(trace_cli_add("x,", &help, &err));
    g_clear_pointer(&err, g_free);
    g_assert_false(trace_cli_add("foo=bar", &help, &err));
    g_assert_nonnull(strstr(err, "foo=bar"));
    g_clear_pointer(&err, g_free);
    g_assert_false(trace_msg_option("timestamp=maybe", &err));
    g_clear_pointer(&err, g_free);
}

/* Bad tables are refused whole; a bigger element (a newer plugin) is
 * stepped over by its size. */
static void test_register_checks(void)
{
    static tes_trace_event bad[] = {{"ok_one", "", 0, {0}}, {"bad name", "", 0, {0}}};
    static struct {
        tes_trace_event ev;
        uint64_t more;
    } big[2] = {{{"big_a", "", 0, {0}}, 0}, {{"big_b", "", 0, {0}}, 0}};

    g_assert_cmpint(trace_register_events(bad, 2, sizeof(bad[0])), ==, -EINVAL);
    g_assert_false(trace_exists("ok_one"));
    g_assert_cmpint(trace_register_events(bad, 1, 8), ==, -EINVAL);
    g_assert_cmpint(trace_register_events(&big[0].ev, 2, sizeof(big[0])), ==, 0);
    g_assert_cmpuint(trace_set_pattern("big_*", true), ==, 2);
    g_assert_cmpint(big[1].ev.state, ==, 1);
}

static void test_timestamp_format(void)
{
    static tes_trace_event ev[] = {{"ts_event", "n %d", 0, {0}}};
    GString *buf = capture_start();
    char *err = NULL;

    g_assert_cmpint(trace_register_events(ev, 1, sizeof(ev[0])), ==, 0);
    g_assert_true(trace_msg_option("timestamp=on", &err));
    trace_emit_event(&ev[0], "%s n %d", ev[0].name, 7);
    g_assert_true(g_regex_match_simple("^[0-9]+@[0-9]+\\.[0-9]{6}:ts_event n 7\n$", buf->str, 0,
                                       0));
    g_assert_true(trace_msg_option("timestamp=off", &err));
    g_string_truncate(buf, 0);
    trace_emit_event(&ev[0], "%s n %d", ev[0].name, 8);
    g_assert_cmpstr(buf->str, ==, "ts_event n 8\n");
    capture_end(buf);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/trace/macros/print-only-while-enabled", test_macros_print_only_while_enabled);
    g_test_add_func("/trace/cli/patterns-in-order-and-before-registration",
                    test_patterns_in_order_and_before_registration);
    g_test_add_func("/trace/cli/events-file-comments-and-minus", test_events_file);
    g_test_add_func("/trace/cli/pattern-not-utf8-matches-nothing",
                    test_pattern_not_utf8_matches_nothing);
    g_test_add_func("/trace/cli/bad-options-refused", test_bad_cli);
    g_test_add_func("/trace/register/bad-tables-refused-bigger-elements-stepped",
                    test_register_checks);
    g_test_add_func("/trace/emit/log-backend-line-with-and-without-timestamp",
                    test_timestamp_format);
    return g_test_run();
}
