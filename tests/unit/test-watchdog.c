/*
 * host->watchdog_perform_action (ABI 1.9) and -watchdog-action: QEMU's
 * seven action names and nothing else; each firing sends QMP WATCHDOG
 * with the action; poweroff asks the main loop to exit 0, none and debug
 * change nothing, inject-nmi without an x86 vCPU is logged, pause stops
 * the machine in run state "watchdog" until cont; QMP
 * watchdog-set-action takes the same names.
 */
#include <string.h>

#include "core.h"

static char *fire(void)
{
    GString *buf = g_string_new("");

    qmp_event_capture(buf);
    host_table()->watchdog_perform_action();
    qmp_event_capture(NULL);
    return g_string_free(buf, FALSE);
}

static void test_names(void)
{
    static const char *const good[] = {"reset", "shutdown", "poweroff", "pause",
                                       "debug", "none", "inject-nmi"};
    g_autofree char *err = NULL;

    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        g_assert_cmpint(watchdog_action_parse(good[i]), ==, (int)i);
    }
    g_assert_cmpint(watchdog_action_parse("reboot"), ==, -1);
    g_assert_cmpint(watchdog_action_parse("Reset"), ==, -1);
    g_assert_cmpint(watchdog_action_parse(""), ==, -1);
    g_assert_false(watchdog_set_action("reboot", &err));
    g_assert_cmpstr(err, ==, "-watchdog-action: unknown action 'reboot' (reset, shutdown, "
                             "poweroff, pause, debug, none, inject-nmi)");
    g_assert_cmpstr(watchdog_action_name(), ==, "reset"); /* QEMU's default, kept */
}

static void test_qmp_set_action(void)
{
    g_autofree char *bad = qmp_run_text("{\"execute\": \"watchdog-set-action\", "
                                        "\"arguments\": {\"action\": \"reboot\"}}");
    g_autofree char *good = qmp_run_text("{\"execute\": \"watchdog-set-action\", "
                                         "\"arguments\": {\"action\": \"none\"}}");

    g_assert_nonnull(strstr(bad, "does not accept value 'reboot'"));
    g_assert_nonnull(strstr(good, "\"return\":{}"));
    g_assert_cmpstr(watchdog_action_name(), ==, "none");
}

static void test_quiet_actions(void)
{
    static const char *const quiet[] = {"none", "debug", "inject-nmi"};

    for (size_t i = 0; i < G_N_ELEMENTS(quiet); i++) {
        g_autofree char *want = g_strdup_printf("\"event\":\"WATCHDOG\",\"data\":{\"action\":"
                                                "\"%s\"}", quiet[i]);
        g_autofree char *ev = NULL;

        g_assert_true(watchdog_set_action(quiet[i], NULL));
        ev = fire();
        g_assert_nonnull(strstr(ev, want));
        g_assert_false(core_shutdown_requested(NULL));
    }
}

/* pause: from the main loop, the run state "watchdog" (QMP query-status),
 * and cont runs the guest again. */
static void test_pause_stops_in_watchdog_state(void)
{
    g_autofree char *ev = NULL;
    g_autofree char *st = NULL;

    vm_start();
    g_assert_cmpint(runstate_get(), ==, RUN_RUNNING);
    g_assert_true(watchdog_set_action("pause", NULL));
    ev = fire();
    g_assert_nonnull(strstr(ev, "\"event\":\"WATCHDOG\",\"data\":{\"action\":\"pause\"}"));
    g_assert_cmpint(runstate_get(), ==, RUN_RUNNING); /* not inside the device's callback */
    while (g_main_context_iteration(NULL, FALSE)) {
    }
    g_assert_cmpint(runstate_get(), ==, RUN_WATCHDOG);
    st = qmp_run_text("{\"execute\": \"query-status\"}");
    g_assert_nonnull(strstr(st, "\"status\":\"watchdog\""));
    vm_start();
    g_assert_cmpint(runstate_get(), ==, RUN_RUNNING);
}

/* Last: the shutdown request stays set for the process. */
static void test_poweroff_exits_zero(void)
{
    g_autofree char *ev = NULL;
    int status = -1;

    g_assert_true(watchdog_set_action("poweroff", NULL));
    ev = fire();
    g_assert_nonnull(strstr(ev, "\"event\":\"WATCHDOG\",\"data\":{\"action\":\"poweroff\"}"));
    g_assert_true(core_shutdown_requested(&status));
    g_assert_cmpint(status, ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/watchdog/action/qemu-names-only-reset-by-default", test_names);
    g_test_add_func("/watchdog/action/qmp-watchdog-set-action", test_qmp_set_action);
    g_test_add_func("/watchdog/fire/none-debug-nmi-send-the-event-only", test_quiet_actions);
    g_test_add_func("/watchdog/fire/pause-stops-in-run-state-watchdog",
                    test_pause_stops_in_watchdog_state);
    g_test_add_func("/watchdog/fire/poweroff-asks-for-exit-0", test_poweroff_exits_zero);
    return g_test_run();
}
