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

#endif
