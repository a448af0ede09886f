/*
 * tessera core: logging (-d MASK, -D FILE) and error strings.
 *
 * Log items follow QEMU's -d names where QEMU has one (guest_errors, unimp,
 * in_asm, int) so people's habits carry over.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "core.h"
#include "tracing.h"

/* Items someone wants: printed (-d) or captured (the harness). Readers
 * test this one mask; core_logv sorts out where a message goes. */
unsigned core_log_mask;

static unsigned print_mask;   /* -d */
static unsigned capture_mask; /* log_set_capture */
static GString *capture;
static FILE *log_file; /* -D FILE, NULL: stderr */
static GMutex log_mutex; /* vCPU threads and the main loop both log */

static const struct {
    const char *name;
    unsigned mask;
    const char *help;
} log_items[] = {
    {"guest_errors", TES_LOG_GUEST_ERROR, "log when the guest misprograms a device"},
    {"unimp", TES_LOG_UNIMP, "log unimplemented functionality"},
    {"in_asm", TES_LOG_IN_ASM, "show target assembly code for each compiled block"},
    {"int", TES_LOG_INT, "show interrupts and exceptions"},
    {"trace", TES_LOG_TRACE, "show device trace events"},
    {"plugin", TES_LOG_PLUGIN, "show plugin loading"},
    {"mmio", TES_LOG_MMIO, "log every MMIO and port I/O access"},
    {"out_asm", TES_LOG_OUT_ASM, "show generated host assembly code for each compiled block"},
    {"op", TES_LOG_OP, "show micro ops for each compiled block"},
};

void core_set_error(char **errp, const char *fmt, ...)
{
    va_list ap;

    if (!errp || *errp) {
        return; /* keep the first, most specific message */
    }
    va_start(ap, fmt);
    *errp = g_strdup_vprintf(fmt, ap);
    va_end(ap);
}

char *core_printable(const char *str)
{
    GString *out = g_string_new(NULL);

    for (const unsigned char *p = (const unsigned char *)(str ? str : ""); *p; p++) {
        if (*p < 0x20 || *p >= 0x7f || *p == '\\') {
            g_string_append_printf(out, "\\x%02x", *p);
        } else {
            g_string_append_c(out, (char)*p);
        }
    }
    return g_string_free(out, FALSE);
}

bool core_glob_match(const char *glob, const char *name)
{
    return g_utf8_validate(glob, -1, NULL) && g_pattern_match_simple(glob, name);
}

void log_print_help(void)
{
    printf("Log items (comma separated):\n");
    for (size_t i = 0; i < G_N_ELEMENTS(log_items); i++) {
        printf("%-15s %s\n", log_items[i].name, log_items[i].help);
    }
}

static bool log_item_mask(const char *name, unsigned *mask, char **errp)
{
    /* QEMU's -d trace:PATTERN switches trace events on. */
    if (g_str_has_prefix(name, "trace:")) {
        if (!name[6]) {
            core_set_error(errp, "-d trace: an event pattern is required");
            return false;
        }
        trace_add_pattern(name + 6, true);
        return true;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(log_items); i++) {
        if (strcmp(log_items[i].name, name) == 0) {
            *mask |= log_items[i].mask;
            return true;
        }
    }
    core_set_error(errp, "unknown log item '%s' (try -d help)", name);
    return false;
}

bool log_set_mask(const char *spec, char **errp)
{
    unsigned mask = 0;
    char **items;
    bool ok = true;

    if (strcmp(spec, "help") == 0) {
        log_print_help();
        return true;
    }
    items = g_strsplit(spec, ",", -1);
    for (char **p = items; *p && ok; p++) {
        if (**p) {
            ok = log_item_mask(*p, &mask, errp);
        }
    }
    g_strfreev(items);
    if (ok) {
        print_mask = mask;
        core_log_mask = print_mask | capture_mask;
    }
    return ok;
}

void log_set_capture(GString *buf, unsigned mask)
{
    g_mutex_lock(&log_mutex);
    capture = buf;
    capture_mask = buf ? mask : 0;
    core_log_mask = print_mask | capture_mask;
    g_mutex_unlock(&log_mutex);
}

bool log_set_file(const char *path, char **errp)
{
    FILE *f = fopen(path, "w");

    if (!f) {
        core_set_error(errp, "-D: cannot open log file '%s': %s", path, g_strerror(errno));
        return false;
    }
    setvbuf(f, NULL, _IOLBF, 0);
    g_mutex_lock(&log_mutex);
    if (log_file) {
        fclose(log_file);
    }
    log_file = f;
    g_mutex_unlock(&log_mutex);
    return true;
}

static void capture_append(const char *fmt, va_list ap)
{
    g_string_append_vprintf(capture, fmt, ap);
    if (capture->len && capture->str[capture->len - 1] != '\n') {
        g_string_append_c(capture, '\n');
    }
}

void core_logv(unsigned mask, const char *fmt, va_list ap)
{
    FILE *out;
    va_list again;

    if (!(core_log_mask & mask)) {
        return;
    }
    g_mutex_lock(&log_mutex);
    if (capture && (capture_mask & mask)) {
        va_copy(again, ap);
        capture_append(fmt, again);
        va_end(again);
    }
    if (print_mask & mask) {
        out = log_file ? log_file : stderr;
        vfprintf(out, fmt, ap);
        if (fmt[0] && fmt[strlen(fmt) - 1] != '\n') {
            fputc('\n', out); /* one event per line, whatever the caller wrote */
        }
        fflush(out);
    }
    g_mutex_unlock(&log_mutex);
}

void core_log(unsigned mask, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    core_logv(mask, fmt, ap);
    va_end(ap);
}

/* One trace event's line (core/trace.c): printed whatever -d says, since
 * switching the event on was the request; captured for the harness when
 * it asked for TES_LOG_TRACE. */
void log_write_trace(const char *line)
{
    g_mutex_lock(&log_mutex);
    if (capture && (capture_mask & TES_LOG_TRACE)) {
        g_string_append(capture, line);
    } else {
        fputs(line, log_file ? log_file : stderr);
        fflush(log_file ? log_file : stderr);
    }
    g_mutex_unlock(&log_mutex);
}
