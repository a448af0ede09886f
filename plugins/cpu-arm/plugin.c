/*
 * cpu-arm: the AArch64 CPU (cortex-a57, max) and nothing else. Boards
 * (plugins/board-virt) and platform devices (plugins/arm-platform: GIC,
 * PL011, PL031) are plugins of their own and use these CPUs through the
 * SDK's CPU<->board interface.
 */
#include "arm.h"

const tes_host *arm_host;

static int arm_init(const tes_host *host)
{
    if (host->size < offsetof(tes_host, cpu_sysreg_write) + sizeof(void *)) {
        return -38; /* -ENOSYS: needs the ABI 1.2 CPU<->board interface */
    }
    arm_host = host;
    return 0;
}

static const tes_type_info *const arm_types[] = {
    &arm_cortex_a57_type, &arm_max_type, NULL,
};

TES_PLUGIN_DEFINE(.name = "cpu-arm", .version = "0.1.0", .license = "MIT",
                  .desc = "AArch64 CPUs (cortex-a57, max)",
                  .types = arm_types, .init = arm_init);
