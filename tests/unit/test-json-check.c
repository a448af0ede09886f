/*
 * Unit tests of the QMP monitor's JSON syntax check (core/json-check.c):
 * what it refuses, and that json-glib parses everything it accepts to the
 * end (the reason it exists: json-glib leaks on a failed parse).
 */
#include <json-glib/json-glib.h>
#include <string.h>

#include "json-check.h"

static bool check(const char *s)
{
    return json_check(s, strlen(s), JSON_CHECK_MAX_DEPTH, NULL);
}

/* json-glib must parse what json_check accepted. */
static void assert_glib_parses(const char *s)
{
    JsonParser *p = json_parser_new();
    GError *err = NULL;
    gboolean ok = json_parser_load_from_data(p, s, -1, &err);

    if (!ok) {
        g_test_message("json-glib refuses %s: %s", s, err->message);
        g_error_free(err);
    }
    g_assert_true(ok);
    g_object_unref(p);
}

static const char *const good[] = {
    "{}", "[]", " {\"execute\": \"qmp_capabilities\"}\n", "0", "-0", "1.5e-3", "-12E+4",
    "true", "false", "null", "\"\"", "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"",
    "\"\\u00e9\\ud83d\\ude00\"", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
    "{\"a\": [1, {\"b\": null}, [], {}], \"c\": -1.25}",
    "[[[[[[[[[[1]]]]]]]]]]", "9223372036854775807", "-9223372036854775808",
    "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"info status\"},\"id\":7}",
};

static const char *const bad[] = {
    "", "   ", "{", "[", "}", "]", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "[,1]", "{,}",
    "{1:2}", "{'a':1}", "'a'", "-", "01", "1.", ".5", "1e", "1e+", "+1", "-8[]", "[]{}",
    "{} x", "tru", "nul", "True", "NaN", "Infinity", "\"abc", "\"a\\x\"", "\"\\u12\"",
    "\"\\u0000\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"a\tb\"",
    "\"\xe0\x11}\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xff\"",
    "\"\xe2\x82\"", "{\"execut\xe0\x11}}}", "[1 2]", "{\"a\" 1}", "[1]]", "[[1]",
};

static void test_good(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        const char *why = "unset";

        if (!json_check(good[i], strlen(good[i]), JSON_CHECK_MAX_DEPTH, &why)) {
            g_test_message("refused %s: %s", good[i], why);
        }
        g_assert_true(json_check(good[i], strlen(good[i]), JSON_CHECK_MAX_DEPTH, &why));
        g_assert_null(why);
        assert_glib_parses(good[i]);
    }
}

static void test_bad(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        const char *why = NULL;

        if (json_check(bad[i], strlen(bad[i]), JSON_CHECK_MAX_DEPTH, &why)) {
            g_test_message("accepted %s", bad[i]);
        }
        g_assert_false(json_check(bad[i], strlen(bad[i]), JSON_CHECK_MAX_DEPTH, &why));
        g_assert_nonnull(why);
    }
}

/* Exactly max_depth levels pass, one more is refused, and the cap holds
 * whatever the caller asks. */
static void test_depth(void)
{
    GString *s = g_string_new(NULL);

    for (unsigned i = 0; i < JSON_CHECK_MAX_DEPTH; i++) {
        g_string_append_c(s, i % 2 ? '[' : '{');
        if (i % 2 == 0) {
            g_string_append(s, "\"k\":");
        }
    }
    g_string_append(s, "1");
    for (unsigned i = JSON_CHECK_MAX_DEPTH; i-- > 0;) {
        g_string_append_c(s, i % 2 ? ']' : '}');
    }
    g_assert_true(json_check(s->str, s->len, JSON_CHECK_MAX_DEPTH, NULL));
    assert_glib_parses(s->str);
    g_assert_false(json_check(s->str, s->len, 10, NULL));
    g_string_prepend_c(s, '[');
    g_string_append_c(s, ']');
    g_assert_false(json_check(s->str, s->len, JSON_CHECK_MAX_DEPTH, NULL));
    g_assert_false(json_check(s->str, s->len, 5000, NULL));
    g_string_free(s, TRUE);
}

/* Only len bytes count: text after them is not read, a cut value fails. */
static void test_length(void)
{
    const char *s = "{\"a\": 1}garbage";

    g_assert_true(json_check(s, 8, JSON_CHECK_MAX_DEPTH, NULL));
    g_assert_false(json_check(s, 7, JSON_CHECK_MAX_DEPTH, NULL));
    g_assert_false(check(s));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/json-check/accepts-json-glib-parses", test_good);
    g_test_add_func("/json-check/refuses-malformed", test_bad);
    g_test_add_func("/json-check/depth-limit", test_depth);
    g_test_add_func("/json-check/reads-only-len-bytes", test_length);
    return g_test_run();
}
