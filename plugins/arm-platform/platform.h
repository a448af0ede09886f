/*
 * arm-platform: what the plugin's files share. Internal (not SDK): boards
 * and tests reach these devices only through the host table (dev_mmio,
 * dev_irq_in, dev_connect_irq) and the types' tes_platform_info.
 */
#ifndef ARM_PLATFORM_H
#define ARM_PLATFORM_H

#include <string.h>
#include <tessera/tessera.h>

extern const tes_host *plat_host; /* set by the plugin's init */
#define H plat_host

extern const tes_type_info arm_gic_type, arm_gicv3_type, pl011_type, pl031_type;

#endif
