/*
 * tessera core: trace events (sdk trace.h), QEMU's "log" trace backend.
 *
 *   -trace PATTERN            enable the events matching a glob (* and ?)
 *   -trace enable=PATTERN     the same
 *   -trace events=FILE        one pattern per line, '#' comments, a leading
 *                             '-' disables
 *   -trace file=FILE          trace lines go to FILE (as -D FILE)
 *   -trace help               list the events and exit
 *   -d trace:PATTERN          as -trace PATTERN (QEMU's spelling)
 *   -msg timestamp=on         prefix each line with TID@SEC.USEC:
 *
 * Plugins register their events as they load, after the command line was
 * parsed: the patterns are kept, in order, and applied to each event as it
 * registers, so "-trace 'pci_nvme*' -trace -pci_nvme_mmio_read" works as in
 * QEMU. As QEMU, a pattern that matches nothing is fine and an exact name
 * nobody registered is a warning, printed once every plugin has loaded.
 *
 * The core writes each event's state byte; plugins read it without a lock
 * (a relaxed atomic load): a switch from the monitor reaches a vCPU thread
 * on its next trace point.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "core.h"
#include "core-trace.h"
#include "tracing.h"

TES_TRACE_DEFINE(CORE_TRACE)
const tes_host *core_trace_host;

typedef struct trace_pattern {
    char *glob;
    bool enable;
} trace_pattern;

static GPtrArray *events;   /* tes_trace_event *, in registration order */
static GPtrArray *patterns; /* trace_pattern *, in command-line order */
static bool with_timestamp; /* -msg timestamp=on */

static bool is_pattern(const char *s)
{
    return strpbrk(s, "*?") != NULL;
}

static bool name_ok(const char *s)
{
    if (!s || !*s) {
        return false;
    }
    for (; *s; s++) {
        if (!g_ascii_isalnum(*s) && *s != '_' && *s != '-' && *s != '.') {
            return false;
        }
    }
    return true;
}

static void set_state(tes_trace_event *ev, bool on)
{
    __atomic_store_n(&ev->state, on ? 1 : 0, __ATOMIC_RELAXED);
}

static int register_events(tes_trace_event *evs, unsigned n, size_t ev_size);

/* The core's own events come first, whichever use of the list is first
 * (a plugin registering, -trace, -trace help). */
void trace_core_register(void)
{
    if (!core_trace_host) {
        core_trace_host = host_table();
        register_events(core_trace_events, TES_TRACE_COUNT_, sizeof(tes_trace_event));
    }
}

int trace_register_events(tes_trace_event *evs, unsigned n, size_t ev_size)
{
    trace_core_register();
    return register_events(evs, n, ev_size);
}

static int register_events(tes_trace_event *evs, unsigned n, size_t ev_size)
{
    if (!evs || ev_size < sizeof(tes_trace_event)) {
        return -EINVAL;
    }
    for (unsigned i = 0; i < n; i++) {
        tes_trace_event *ev = (tes_trace_event *)((char *)evs + i * ev_size);

        if (!name_ok(ev->name) || !ev->fmt) {
            return -EINVAL;
        }
    }
    if (!events) {
        events = g_ptr_array_new();
    }
    for (unsigned i = 0; i < n; i++) {
        tes_trace_event *ev = (tes_trace_event *)((char *)evs + i * ev_size);

        set_state(ev, false);
        for (guint p = 0; patterns && p < patterns->len; p++) {
            trace_pattern *tp = g_ptr_array_index(patterns, p);

            if (core_glob_match(tp->glob, ev->name)) {
                set_state(ev, tp->enable);
            }
        }
        g_ptr_array_add(events, ev);
    }
    return 0;
}

/* Sets every event matching glob; the number of events matched. */
unsigned trace_set_pattern(const char *glob, bool enable)
{
    unsigned matched = 0;

    trace_core_register();
    for (guint i = 0; events && i < events->len; i++) {
        tes_trace_event *ev = g_ptr_array_index(events, i);

        if (core_glob_match(glob, ev->name)) {
            set_state(ev, enable);
            matched++;
        }
    }
    return matched;
}

bool trace_exists(const char *name)
{
    trace_core_register();
    for (guint i = 0; events && i < events->len; i++) {
        if (strcmp(((tes_trace_event *)g_ptr_array_index(events, i))->name, name) == 0) {
            return true;
        }
    }
    return false;
}

/* A pattern from the command line: applied now and to later events. */
void trace_add_pattern(const char *glob, bool enable)
{
    trace_pattern *tp = g_new0(trace_pattern, 1);

    if (!patterns) {
        patterns = g_ptr_array_new();
    }
    tp->glob = g_strdup(glob);
    tp->enable = enable;
    g_ptr_array_add(patterns, tp);
    trace_set_pattern(glob, enable);
}

/* Forget the command-line patterns (fuzz targets parse -d trace: again
 * and again); the events keep their states. */
void trace_clear_patterns(void)
{
    for (guint p = 0; patterns && p < patterns->len; p++) {
        trace_pattern *tp = g_ptr_array_index(patterns, p);

        g_free(tp->glob);
        g_free(tp);
    }
    g_clear_pointer(&patterns, g_ptr_array_unref);
}

void trace_warn_unknown(void)
{
    for (guint p = 0; patterns && p < patterns->len; p++) {
        trace_pattern *tp = g_ptr_array_index(patterns, p);

        if (!is_pattern(tp->glob) && !trace_exists(tp->glob)) {
            g_autofree char *name = core_printable(tp->glob);

            fprintf(stderr, "tessera: -trace %s: warning: trace event '%s' does not exist\n",
                    name, name);
        }
    }
}

/* Each unique name once, in registration order, with its state. */
void trace_foreach(void (*fn)(const char *name, bool enabled, void *opaque), void *opaque)
{
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);

    trace_core_register();
    for (guint i = 0; events && i < events->len; i++) {
        tes_trace_event *ev = g_ptr_array_index(events, i);

        if (g_hash_table_add(seen, (gpointer)ev->name)) {
            fn(ev->name, __atomic_load_n(&ev->state, __ATOMIC_RELAXED) != 0, opaque);
        }
    }
    g_hash_table_destroy(seen);
}

/* ---- -trace and events=FILE ---- */

static void add_line_pattern(const char *line)
{
    if (*line == '-') {
        trace_add_pattern(line + 1, false);
    } else {
        trace_add_pattern(line, true);
    }
}

bool trace_events_file(const char *path, char **errp)
{
    char *text = NULL;
    GError *gerr = NULL;

    if (!g_file_get_contents(path, &text, NULL, &gerr)) {
        core_set_error(errp, "-trace events=%s: %s", path, gerr->message);
        g_error_free(gerr);
        return false;
    }
    char **lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        char *s = g_strstrip(*l);

        if (*s && *s != '#' && strcmp(s, "-") != 0) {
            add_line_pattern(s);
        }
    }
    g_strfreev(lines);
    g_free(text);
    return true;
}

static bool trace_item(const char *item, bool *help, char **errp)
{
    if (g_str_has_prefix(item, "enable=")) {
        item += strlen("enable=");
    } else if (g_str_has_prefix(item, "events=")) {
        return trace_events_file(item + strlen("events="), errp);
    } else if (g_str_has_prefix(item, "file=")) {
        return log_set_file(item + strlen("file="), errp);
    } else if (strchr(item, '=')) {
        core_set_error(errp, "-trace: unknown option '%s' (expected PATTERN, enable=, "
                       "events=, file=)", item);
        return false;
    }
    if (!*item) {
        core_set_error(errp, "-trace: an empty event pattern");
        return false;
    }
    if (strcmp(item, "help") == 0) {
        *help = true;
        return true;
    }
    add_line_pattern(item);
    return true;
}

bool trace_cli_add(const char *arg, bool *help, char **errp)
{
    char **items = g_strsplit(arg, ",", -1);
    bool ok = true;

    if (!items[0]) {
        core_set_error(errp, "-trace: an event pattern is required");
        ok = false;
    }
    for (char **p = items; ok && *p; p++) {
        ok = trace_item(*p, help, errp);
    }
    g_strfreev(items);
    return ok;
}

bool trace_msg_option(const char *arg, char **errp)
{
    char **items = g_strsplit(arg, ",", -1);
    bool ok = true;

    for (char **p = items; ok && *p; p++) {
        if (strcmp(*p, "timestamp=on") == 0 || strcmp(*p, "timestamp") == 0) {
            with_timestamp = true;
        } else if (strcmp(*p, "timestamp=off") == 0) {
            with_timestamp = false;
        } else if (!g_str_has_prefix(*p, "guest-name=")) {
            core_set_error(errp, "-msg: unknown option '%s' (expected timestamp=on|off)", *p);
            ok = false;
        }
    }
    g_strfreev(items);
    return ok;
}

static void print_name(const char *name, bool enabled, void *opaque)
{
    fprintf(opaque, "%s\n", name);
}

void trace_print_help(FILE *out)
{
    trace_foreach(print_name, out);
}

/* ---- emission ---- */

void trace_emit_event(const tes_trace_event *ev, const char *fmt, ...)
{
    GString *line = g_string_sized_new(128);
    va_list ap;

    if (with_timestamp) {
        struct timeval now;

        gettimeofday(&now, NULL);
        g_string_append_printf(line, "%ld@%ld.%06ld:", (long)syscall(SYS_gettid),
                               (long)now.tv_sec, (long)now.tv_usec);
    }
    va_start(ap, fmt);
    g_string_append_vprintf(line, fmt, ap);
    va_end(ap);
    g_string_append_c(line, '\n');
    log_write_trace(line->str);
    g_string_free(line, TRUE);
}
