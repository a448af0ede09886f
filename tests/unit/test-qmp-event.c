/*
 * tes_host.qmp_event (ABI 1.8): a plugin's QMP event reaches the clients
 * as {"event": NAME, "data": {...}, "timestamp": ...}; a bad name or data
 * that is not a JSON object is refused with -EINVAL and nothing is sent.
 * And query-acpi-ospm-status without a machine that answers it: [].
 */
#include <errno.h>
#include <string.h>

#include "core.h"

static void test_event_sent_with_data(void)
{
    const tes_host *h = host_table();
    g_autoptr(GString) buf = g_string_new("");

    qmp_event_capture(buf);
    g_assert_cmpint(h->qmp_event("ACPI_DEVICE_OST",
                                 "{\"info\": {\"slot\": \"2\", \"source\": 1}}"), ==, 0);
    g_assert_cmpint(h->qmp_event("RESET", NULL), ==, 0);
    qmp_event_capture(NULL);
    g_assert_nonnull(strstr(buf->str, "\"event\":\"ACPI_DEVICE_OST\""));
    g_assert_nonnull(strstr(buf->str, "\"data\":{\"info\":{\"slot\":\"2\",\"source\":1}}"));
    g_assert_nonnull(strstr(buf->str, "\"event\":\"RESET\""));
    g_assert_nonnull(strstr(buf->str, "\"timestamp\""));
}

static void test_bad_events_refused(void)
{
    static const char *const bad_data[] = {
        "", "[1, 2]", "3", "\"text\"", "{\"a\": ", "null",
    };
    const tes_host *h = host_table();
    g_autoptr(GString) buf = g_string_new("");

    qmp_event_capture(buf);
    g_assert_cmpint(h->qmp_event(NULL, NULL), ==, -EINVAL);
    g_assert_cmpint(h->qmp_event("", NULL), ==, -EINVAL);
    g_assert_cmpint(h->qmp_event("lower_case", NULL), ==, -EINVAL);
    g_assert_cmpint(h->qmp_event("SPACE HERE", NULL), ==, -EINVAL);
    g_assert_cmpint(h->qmp_event("QUOTE\"", NULL), ==, -EINVAL);
    for (size_t i = 0; i < G_N_ELEMENTS(bad_data); i++) {
        g_assert_cmpint(h->qmp_event("GOOD_NAME", bad_data[i]), ==, -EINVAL);
    }
    qmp_event_capture(NULL);
    g_assert_cmpstr(buf->str, ==, "");
}

static void test_ospm_status_without_machine(void)
{
    g_autofree char *r = qmp_run_text("{\"execute\": \"query-acpi-ospm-status\"}");

    g_assert_nonnull(r);
    g_assert_nonnull(strstr(r, "\"return\":[]"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qmp-event/plugin/sent-with-data-and-timestamp", test_event_sent_with_data);
    g_test_add_func("/qmp-event/plugin/bad-name-or-data-refused", test_bad_events_refused);
    g_test_add_func("/qmp-event/ospm-status/empty-without-a-machine",
                    test_ospm_status_without_machine);
    return g_test_run();
}
