/*
 * nvdimm plugin: the memory devices over memory backends (nvdimm.c,
 * pc-dimm.c) and the "memory-device" interface they share (nvdimm.c).
 * Internal to the plugin.
 */
#ifndef NVDIMM_MEMDEV_H
#define NVDIMM_MEMDEV_H

#include <tessera/tessera.h>

extern const tes_host *memdev_H; /* set by the plugin's init */

extern const tes_type_info pc_dimm_type;
/* Both types' migration state: none (the RAM goes by backend id). */
extern const tes_state_info memdev_empty_state;
/* tes_memory_device_iface.info / placed for a pc-dimm. */
bool pc_dimm_info(tes_device *dev, tes_memory_device_info *out);
void pc_dimm_placed(tes_device *dev, uint64_t addr, int32_t slot);

#endif
