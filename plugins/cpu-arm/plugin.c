/*
 * cpu-arm: the AArch64 CPU (cortex-a57, max), its GICv2 + v2m, PL011 UART,
 * PL031 RTC and the `virt` machine, as one plugin.
 */
#include "arm.h"

const tes_host *arm_host;

extern const tes_type_info arm_gic_type, pl011_type, pl031_type, virt_type;

static int arm_init(const tes_host *host)
{
    arm_host = host;
    return 0;
}

static const tes_type_info *const arm_types[] = {
    &arm_cortex_a57_type, &arm_max_type, &arm_gic_type, &pl011_type, &pl031_type, &virt_type,
    NULL,
};

TES_PLUGIN_DEFINE(.name = "cpu-arm", .version = "0.1.0", .license = "MIT",
                  .desc = "AArch64 CPU, GICv2, PL011, PL031 and the virt machine",
                  .types = arm_types, .init = arm_init);
