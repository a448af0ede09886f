/*
 * tessera SDK: memory devices (ABI 1.8), the modules a board places in
 * its device memory (-m SIZE,slots=N,maxmem=MAX): QEMU's pc-dimm and
 * nvdimm.
 *
 * The plugin providing such device types (plugins/nvdimm: nvdimm,
 * pc-dimm) registers this interface with host->iface_register in its
 * init; a board looks it up to learn, for a device it found on its system
 * bus (devices_done) or was handed by QMP device_add (the machine's
 * hotplug op, machine.h), what the user asked for. The module's RAM is
 * its MMIO region 0 (host->dev_mmio(dev, 0)); where it goes and how the
 * guest learns of it (ACPI memory hotplug, NFIT, a DT node) is the
 * board's business, as in QEMU.
 *
 * It is an interface between plugins (host->iface_lookup, SDK 1.0): no
 * entry of the host table changes.
 */
#ifndef TESSERA_MEMORY_DEVICE_H
#define TESSERA_MEMORY_DEVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <tessera/types.h>

#define TES_MEMORY_DEVICE_IFACE "memory-device"
#define TES_MEMORY_DEVICE_IFACE_VERSION 1

typedef enum tes_memory_device_kind {
    TES_MEMORY_DEVICE_DIMM = 1,   /* pc-dimm: RAM the guest onlines */
    TES_MEMORY_DEVICE_NVDIMM = 2, /* nvdimm: persistent memory */
} tes_memory_device_kind;

typedef struct tes_memory_device_info {
    uint32_t size; /* sizeof(tes_memory_device_info), set by the caller */
    tes_memory_device_kind kind;
    uint64_t addr; /* addr=: guest-physical base; 0: the board chooses */
    int32_t slot;  /* slot=: 0..slots-1; -1: the first free one */
    uint32_t node; /* node=: NUMA proximity domain */
    /* ---- 1.8, continued (the caller's size says it is there) ---- */
    uint64_t label_size; /* nvdimm label-size=: its label area's bytes, 0: none */
} tes_memory_device_info;

typedef struct tes_memory_device_iface {
    uint32_t size; /* sizeof(tes_memory_device_iface) */
    /* What the user asked for dev (out->size set by the caller). false
     * when dev is not a memory device of this provider. */
    bool (*info)(tes_device *dev, tes_memory_device_info *out);
    /* The board placed dev: its addr and slot read back as what the board
     * chose (QEMU's pc-dimm properties after plugging). */
    void (*placed)(tes_device *dev, uint64_t addr, int32_t slot);
    /* ---- 1.8, continued (check size): NVDIMM namespace labels ---- */
    /* Read (write: false) or write len bytes at off of dev's label area
     * (label_size bytes kept at the end of its backend, after the region
     * the guest maps, as QEMU's). false, nothing done: dev has no label
     * area or [off, off + len) is not inside it. */
    bool (*label_access)(tes_device *dev, uint64_t off, void *buf, uint64_t len, bool write);
} tes_memory_device_iface;

#endif
