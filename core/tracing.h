/*
 * tessera core: trace events (core/trace.c), for the CLI, QMP and HMP.
 */
#ifndef CORE_TRACING_H
#define CORE_TRACING_H

#include <stdbool.h>
#include <stdio.h>
#include <tessera/trace.h>

/* host->trace_register and host->trace_emit. */
int trace_register_events(tes_trace_event *evs, unsigned n, size_t ev_size);
void trace_emit_event(const tes_trace_event *ev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One -trace argument; *help set for -trace help. false + *errp. */
bool trace_cli_add(const char *arg, bool *help, char **errp);
/* -trace events=FILE. */
bool trace_events_file(const char *path, char **errp);
/* -msg timestamp=on|off. */
bool trace_msg_option(const char *arg, char **errp);
/* A command-line pattern: applied now and to events registered later. */
void trace_add_pattern(const char *glob, bool enable);
void trace_clear_patterns(void);
/* Sets the events matching glob now; how many matched. */
unsigned trace_set_pattern(const char *glob, bool enable);
bool trace_exists(const char *name);
/* Warn about exact -trace names no plugin registered (after loading). */
void trace_warn_unknown(void);
void trace_foreach(void (*fn)(const char *name, bool enabled, void *opaque), void *opaque);
void trace_print_help(FILE *out);

#endif
