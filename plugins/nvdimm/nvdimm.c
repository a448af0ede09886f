/*
 * nvdimm: a persistent memory module over a memory backend, QEMU's
 * "-device nvdimm,memdev=ID[,id=NAME]".
 *
 * User manual
 *
 *   -machine q35,nvdimm=on -m 2G,slots=4,maxmem=10G
 *   -object memory-backend-file,share=on,id=mem1,mem-path=nvdimm.img,size=64M
 *   -device nvdimm,memdev=mem1,id=nvdimm1
 *
 * The device only takes the backend (one user per backend) and offers it
 * as its MMIO region 0: the board places it in its device memory area
 * above RAM and describes it to the guest (ACPI NFIT on q35, a
 * pmem-region DT node on virt), because where it goes and how it is
 * described is the machine's business, as in QEMU (hw/mem/nvdimm.c is a
 * pc-dimm; hw/acpi/nvdimm.c the board side). No label area: Linux then
 * makes one label-less pmem namespace of the whole module (/dev/pmemN).
 * With share=on on a file backend, what the guest writes is in the file.
 *
 * The plugin also provides pc-dimm (pc-dimm.c), the other memory device
 * over a backend: both are placed by the same board code, which asks this
 * plugin about them through the one "memory-device" interface it
 * registers (tessera/memory-device.h; an interface has one provider).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <tessera/tessera.h>

#include "memdev.h"

#define H memdev_H
const tes_host *memdev_H;

typedef struct nvdimm {
    char *memdev;
    uint64_t label_size;
    tes_region *mem;
} nvdimm;

static int nvdimm_realize(tes_device *dev, void *s)
{
    nvdimm *n = s;

    if (!n->memdev || !*n->memdev) {
        H->error(dev, "property 'memdev' is required");
        return -EINVAL;
    }
    if (n->label_size) {
        /* QEMU's label area lives in the backend and is served by _DSM
         * functions 4..6, which this model does not implement. */
        H->error(dev, "label-size is not supported (label-less namespaces only)");
        return -EINVAL;
    }
    n->mem = H->memdev_region(dev, n->memdev);
    if (!n->mem) {
        return -EINVAL; /* memdev_region reported it */
    }
    return H->dev_init_mmio(dev, n->mem) < 0 ? -EINVAL : 0;
}

static const tes_prop_info nvdimm_props[] = {
    TES_PROP("memdev", TES_PROP_STRING, nvdimm, memdev, NULL, 0, 0,
             "the -object memory-backend-* id holding the module's contents"),
    TES_PROP("label-size", TES_PROP_U64, nvdimm, label_size, "0", 0, 0,
             "label area bytes (only 0: no labels)"),
    TES_PROP_END,
};

static const tes_type_info nvdimm_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "nvdimm",
    .desc = "persistent memory module over a memory backend (needs a machine with nvdimm=on)",
    .bus = TES_BUS_SYSTEM,
    .instance_size = sizeof(nvdimm),
    .props = nvdimm_props,
    .realize = nvdimm_realize,
    .state = &memdev_empty_state,
};

/* ---- the "memory-device" interface (tessera/memory-device.h) ----
 * One provider for both types: the board asks it about every device it
 * finds in its device memory. */

static bool md_info(tes_device *dev, tes_memory_device_info *out)
{
    const char *type = dev ? H->dev_type(dev) : NULL;

    if (!type || !out || out->size < sizeof(*out)) {
        return false;
    }
    if (strcmp(type, "pc-dimm") == 0) {
        return pc_dimm_info(dev, out);
    }
    if (strcmp(type, "nvdimm") == 0) {
        out->kind = TES_MEMORY_DEVICE_NVDIMM;
        out->addr = 0;
        out->slot = -1;
        out->node = 0;
        return true;
    }
    return false;
}

static void md_placed(tes_device *dev, uint64_t addr, int32_t slot)
{
    if (dev && strcmp(H->dev_type(dev), "pc-dimm") == 0) {
        pc_dimm_placed(dev, addr, slot);
    }
}

static const tes_memory_device_iface md_iface = {
    .size = sizeof(tes_memory_device_iface),
    .info = md_info,
    .placed = md_placed,
};

static int nvdimm_plugin_init(const tes_host *host)
{
    if (host->size < offsetof(tes_host, memdev_region) + sizeof(void *)) {
        return -ENOSYS; /* needs the ABI 1.6 memory backends */
    }
    H = host;
    /* -EEXIST when a -plugin copy registered it first: that one answers. */
    host->iface_register(TES_MEMORY_DEVICE_IFACE, TES_MEMORY_DEVICE_IFACE_VERSION, &md_iface);
    return 0;
}

static const tes_type_info *const nvdimm_types[] = {&nvdimm_type, &pc_dimm_type, NULL};

TES_PLUGIN_DEFINE(.name = "nvdimm", .version = "0.2.0", .license = "MIT",
                  .desc = "memory modules over memory backends: NVDIMM, pc-dimm",
                  .types = nvdimm_types, .init = nvdimm_plugin_init);
