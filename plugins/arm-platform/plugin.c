/*
 * arm-platform: the Arm platform devices boards compose, as device
 * plugins any board can use and any user can replace with -plugin (a
 * plugin providing "pl011" wins over this one for that type only):
 *
 *   arm-gic    GICv2 interrupt controller + GICv2m MSI frame (gic.c)
 *   arm-gicv3  GICv3 interrupt controller + ITS (gicv3.c, gicv3-regs.c,
 *              gicv3-cpuif.c, gicv3-its.c)
 *   pl011      PrimeCell UART (pl011.c), a platform device
 *   pl031      PrimeCell RTC (pl031.c), a platform device
 *
 * One plugin for the four because they version together and nothing is
 * gained by four .so files; each type stands alone (no shared state).
 */
#include "platform.h"
#include "plat-trace.h"

const tes_host *plat_host;
TES_TRACE_DEFINE(PLAT_TRACE)

static int plat_init(const tes_host *host)
{
    if (host->size < offsetof(tes_host, dma_requester) + sizeof(void *)) {
        return -38; /* -ENOSYS: needs ABI 1.6 (the ITS's dma_requester) */
    }
    plat_host = host;
    return TES_TRACE_REGISTER(host);
}

static const tes_type_info *const plat_types[] = {
    &arm_gic_type, &arm_gicv3_type, &pl011_type, &pl031_type, NULL,
};

TES_PLUGIN_DEFINE(.name = "arm-platform", .version = "0.3.0", .license = "MIT",
                  .desc = "Arm platform devices: GICv2 + v2m, GICv3 + ITS, PL011 UART, PL031 RTC",
                  .types = plat_types, .init = plat_init);
