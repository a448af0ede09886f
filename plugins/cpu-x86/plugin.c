/*
 * cpu-x86: the x86-64 CPUs (qemu64, max) with their local APICs, and
 * nothing else. The PC platform devices (plugins/pc-platform) and the q35
 * board (plugins/board-q35) are plugins of their own, using these CPUs
 * through the SDK's CPU<->board interface.
 */
#include "x86.h"

const tes_host *x86_host;

/* Each part lists its types, NULL-terminated. */
extern const tes_type_info *const x86_cpu_types[];      /* cpu.c */

static const tes_type_info *all_types[32];

static void add_types(const tes_type_info *const *list, unsigned *n)
{
    for (; *list && *n < (sizeof(all_types) / sizeof(all_types[0])) - 1; list++) {
        all_types[(*n)++] = *list;
    }
}

/* The core reads the type list after init(), so it is assembled here. */
static int x86_init(const tes_host *host)
{
    unsigned n = 0;

    if (host->size < offsetof(tes_host, cpu_sysreg_write) + sizeof(void *)) {
        return -38; /* -ENOSYS: needs the ABI 1.2 CPU<->board interface */
    }
    x86_host = host;
    add_types(x86_cpu_types, &n);
    all_types[n] = NULL;
    return 0;
}

TES_PLUGIN_DEFINE(.name = "cpu-x86", .version = "0.1.0", .license = "MIT",
                  .desc = "x86-64 CPUs (qemu64, max) with their local APICs",
                  .types = (const tes_type_info *const *)all_types, .init = x86_init);
