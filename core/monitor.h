/*
 * tessera core: private glue between qmp.c and hmp.c (not a core.h
 * contract: only the two monitor files use it).
 */
#ifndef TESSERA_MONITOR_H
#define TESSERA_MONITOR_H

#include <stdbool.h>

/* hmp.c: stop reading stdin; called by monitors_close_all() in qmp.c. */
void hmp_close_all(void);
/* qmp.c: a sandboxed monitor (the fuzz target) exists: commands that open
 * host files (HMP change) refuse. */
bool qmp_is_sandboxed(void);
/* hmp-device.c: device_add, device_del, info hotpluggable-cpus (through
 * the QMP commands). */
#include <glib.h>
bool hmp_device_add(const char *arg, GString *out);
bool hmp_device_del(const char *arg, GString *out);
void hmp_info_hotpluggable_cpus(GString *out);

#endif
