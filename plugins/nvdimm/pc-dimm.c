/*
 * pc-dimm: a DIMM of RAM over a memory backend, QEMU's
 * "-device pc-dimm,memdev=ID[,id=NAME][,addr=A][,slot=S][,node=N]",
 * plugged at start-up or while the guest runs (memory hotplug).
 *
 * User manual
 *
 *   -m 2G,slots=4,maxmem=8G
 *   -object memory-backend-ram,id=m0,size=1G
 *   -device pc-dimm,id=dimm0,memdev=m0
 *
 *   (QMP, while the guest runs)
 *   {"execute": "object-add", "arguments": {"qom-type": "memory-backend-ram",
 *                                            "id": "m1", "size": 1073741824}}
 *   {"execute": "device_add", "arguments": {"driver": "pc-dimm", "id": "dimm1",
 *                                            "memdev": "m1"}}
 *   {"execute": "device_del", "arguments": {"id": "dimm1"}}
 *       -> the guest offlines and ejects it (ACPI _EJ0), then DEVICE_DELETED
 *   {"execute": "object-del", "arguments": {"id": "m1"}}
 *
 *   memdev=ID   the -object memory-backend-{ram,file,memfd} holding the
 *               DIMM's RAM (one user per backend); its size is the DIMM's.
 *   addr=A      guest-physical base (0: the board chooses the lowest free
 *               address in device memory); reads back as the one chosen.
 *   slot=S      memory slot 0..slots-1 (4294967295, the default: the
 *               first free one); reads back as the one chosen.
 *   node=N      NUMA node (the SRAT range and _PXM of the slot).
 *
 * The device only takes the backend and offers it as its MMIO region 0.
 * Where it goes, whether it fits (slots=, maxmem=, alignment) and how the
 * guest learns of it is the machine's business, as in QEMU (hw/mem/
 * pc-dimm.c is the device, the machine its hotplug handler): the x86
 * boards place it in device memory and describe it through QEMU's ACPI
 * memory hotplug interface (board-q35's mem-hotplug.c). The board finds
 * the properties through the "memory-device" interface this plugin
 * registers (tessera/memory-device.h), for both of its types.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <tessera/tessera.h>

#include "memdev.h"

typedef struct pc_dimm {
    char *memdev;
    uint64_t addr;
    uint32_t slot;
    uint32_t node;
    tes_region *mem;
} pc_dimm;

static int dimm_realize(tes_device *dev, void *s)
{
    pc_dimm *d = s;
    const tes_topology *t = memdev_H->machine_topology();
    unsigned nodes = t && t->nodes ? t->nodes : 1;

    if (!d->memdev || !*d->memdev) {
        memdev_H->error(dev, "property 'memdev' is required");
        return -EINVAL;
    }
    if (d->node >= nodes) {
        memdev_H->error(dev, "'DIMM property node has value %u' which exceeds the number of "
                        "numa nodes: %u", d->node, nodes);
        return -EINVAL;
    }
    if (d->slot != UINT32_MAX && t && d->slot >= t->ram_slots) {
        memdev_H->error(dev, "invalid slot number %u, valid range is [0-%u]", d->slot,
                        t->ram_slots ? t->ram_slots - 1 : 0);
        return -EINVAL;
    }
    d->mem = memdev_H->memdev_region(dev, d->memdev);
    if (!d->mem) {
        return -EINVAL; /* memdev_region reported it */
    }
    return memdev_H->dev_init_mmio(dev, d->mem) < 0 ? -EINVAL : 0;
}

static const tes_prop_info dimm_props[] = {
    TES_PROP("memdev", TES_PROP_STRING, pc_dimm, memdev, NULL, 0, 0,
             "the -object memory-backend-* id holding the DIMM's RAM"),
    TES_PROP("addr", TES_PROP_U64, pc_dimm, addr, "0", 0, 0,
             "guest-physical base (0: the board chooses)"),
    TES_PROP("slot", TES_PROP_U32, pc_dimm, slot, "4294967295", 0, 0,
             "memory slot (4294967295: the first free one)"),
    TES_PROP("node", TES_PROP_U32, pc_dimm, node, "0", 0, 0, "NUMA node"),
    TES_PROP_END,
};

/* Nothing of its own to migrate: its RAM is in the stream by backend id
 * (the destination's command line has the same -object and -device, as
 * QEMU's), its placement is the machine's. */
const tes_state_info memdev_empty_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
};

const tes_type_info pc_dimm_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "pc-dimm",
    .desc = "DIMM of RAM over a memory backend (-m SIZE,slots=N,maxmem=MAX; hot-pluggable)",
    .bus = TES_BUS_SYSTEM,
    .instance_size = sizeof(pc_dimm),
    .props = dimm_props,
    .realize = dimm_realize,
    .state = &memdev_empty_state,
    .flags = TES_TYPE_MACHINE_HOTPLUG,
};

bool pc_dimm_info(tes_device *dev, tes_memory_device_info *out)
{
    pc_dimm *d = memdev_H->dev_state(dev);

    out->kind = TES_MEMORY_DEVICE_DIMM;
    out->addr = d->addr;
    out->slot = d->slot == UINT32_MAX ? -1 : (int32_t)d->slot;
    out->node = d->node;
    return true;
}

void pc_dimm_placed(tes_device *dev, uint64_t addr, int32_t slot)
{
    pc_dimm *d = memdev_H->dev_state(dev);

    d->addr = addr;
    d->slot = (uint32_t)slot;
}
