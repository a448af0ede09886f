/*
 * tessera core: private glue between qmp.c and hmp.c (not a core.h
 * contract: only the two monitor files use it).
 */
#ifndef TESSERA_MONITOR_H
#define TESSERA_MONITOR_H

#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <tessera/cpu.h>

typedef struct qmp_client qmp_client;
typedef JsonNode *(*qmp_fn)(JsonObject *args, qmp_client *c, char **err);

typedef struct qmp_cmd {
    const char *name;
    qmp_fn fn;
} qmp_cmd;

/* qmp-inspect.c: trace events, query-cpus-fast, query-pci, qom-list,
 * qom-get; ends with a NULL name. */
extern const qmp_cmd qmp_inspect_commands[];

/* hmp-inspect.c: more HMP commands and info items; each list ends with a
 * NULL name. fn gets the rest of the line (never NULL). */
typedef struct hmp_ext_cmd {
    const char *name;
    bool (*fn)(const char *arg, GString *out);
    const char *help;
} hmp_ext_cmd;
extern const hmp_ext_cmd hmp_inspect_commands[];
extern const hmp_ext_cmd hmp_inspect_infos[];
/* The CPU's own text for a TES_CPU_DUMP_* kind; false when it has none. */
bool hmp_cpu_dump(tes_cpu *cpu, unsigned what, GString *out);

/* hmp.c: stop reading stdin; called by monitors_close_all() in qmp.c. */
void hmp_close_all(void);
/* qmp.c: a sandboxed monitor (the fuzz target) exists: commands that open
 * host files (HMP change) refuse. */
bool qmp_is_sandboxed(void);
/* hmp-device.c: device_add, device_del, info hotpluggable-cpus (through
 * the QMP commands). */
#include <glib.h>
/* HMP x/xp: one item of size bytes at addr, guest virtual (virt, through
 * the first vCPU) or physical (hmp-inspect.c); x /i's disassembly of count
 * instructions from addr (hmp-disas.c). */
bool hmp_read_value(bool virt, uint64_t addr, unsigned size, uint64_t *v);
bool hmp_disas(GString *out, uint64_t addr, unsigned count, bool virt);
bool hmp_device_add(const char *arg, GString *out);
bool hmp_device_del(const char *arg, GString *out);
void hmp_info_hotpluggable_cpus(GString *out);

#endif
