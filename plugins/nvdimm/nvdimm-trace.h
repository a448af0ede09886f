/*
 * nvdimm plugin: trace points (sdk trace.h). QEMU's names and formats
 * (hw/mem/trace-events): where the board placed a pc-dimm or nvdimm.
 */
#ifndef NVDIMM_TRACE_H
#define NVDIMM_TRACE_H

#include "memdev.h"

#define TES_TRACE_TABLE nvdimm_trace_events
#define TES_TRACE_HOST memdev_H
#define NVDIMM_TRACE(E)                                                                        \
    E(mhp_pc_dimm_assigned_slot, (int slot), (slot), "%d")                                     \
    E(mhp_pc_dimm_assigned_address, (uint64_t addr), (addr), "0x%" PRIx64)
TES_TRACE_DECLARE(NVDIMM_TRACE)

#endif
