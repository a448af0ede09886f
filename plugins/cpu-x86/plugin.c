/*
 * cpu-x86: the x86-64 CPU (qemu64, max), the PC platform devices and the
 * q35 machine, as one plugin.
 */
#include "x86.h"

const tes_host *x86_host;

/* Each part lists its types, NULL-terminated. */
extern const tes_type_info *const x86_cpu_types[];      /* cpu.c */
extern const tes_type_info *const x86_platform_types[]; /* devices */
extern const tes_type_info *const x86_board_types[];    /* q35.c */

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

    x86_host = host;
    add_types(x86_cpu_types, &n);
    add_types(x86_platform_types, &n);
    add_types(x86_board_types, &n);
    all_types[n] = NULL;
    return 0;
}

TES_PLUGIN_DEFINE(.name = "cpu-x86", .version = "0.1.0", .license = "MIT",
                  .desc = "x86-64 CPU, PC platform devices and the q35 machine",
                  .types = (const tes_type_info *const *)all_types, .init = x86_init);
