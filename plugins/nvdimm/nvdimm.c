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
 * pc-dimm; hw/acpi/nvdimm.c the board side). Without label-size, Linux
 * makes one label-less pmem namespace of the whole module (/dev/pmemN).
 * With label-size=N (>= 128K), the backend's last N bytes are the
 * namespace label area, which the guest reads and writes through the
 * board's _DSM (functions 4-6 on q35/pc); the guest maps the bytes before
 * it (rounded down to 2 MiB). With share=on on a file backend, what the
 * guest writes (labels too) is in the file.
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
#include "nvdimm-trace.h"

#define H memdev_H
const tes_host *memdev_H;

#define MIN_LABEL_SIZE (128u << 10) /* QEMU's MIN_NAMESPACE_LABEL_SIZE */

typedef struct nvdimm {
    char *memdev;
    uint64_t label_size;
    tes_region *mem;   /* the whole backend */
    tes_region *pmem;  /* what the guest maps: the backend before the labels */
    uint8_t *label;    /* the label area: the backend's last label_size bytes */
} nvdimm;

/* The label area at the end of the backend, as QEMU keeps it (so an image
 * carries its labels), and the guest's region in front of it. */
static int split_labels(tes_device *dev, nvdimm *n)
{
    uint64_t size = H->region_size(n->mem);
    uint8_t *ram = H->region_ram_ptr(n->mem);

    if (n->label_size < MIN_LABEL_SIZE) {
        H->error(dev, "label size 0x%llx must be at least 0x%x",
                 (unsigned long long)n->label_size, MIN_LABEL_SIZE);
        return -EINVAL;
    }
    if (!ram || size <= n->label_size || (size - n->label_size) < (2u << 20)) {
        H->error(dev, "memdev '%s' (%llu bytes) must be RAM and bigger than label-size plus "
                 "2 MiB", n->memdev, (unsigned long long)size);
        return -EINVAL;
    }
    /* The pmem region stays 2 MiB aligned (Linux's nd_pmem maps it in
     * sections); the rest before the labels is unused, as QEMU's. */
    n->label = ram + size - n->label_size;
    n->pmem = H->region_new_alias(dev, "nvdimm-pmem", n->mem, 0,
                                  (size - n->label_size) & ~((2ull << 20) - 1));
    return n->pmem ? 0 : -ENOMEM;
}

static int nvdimm_realize(tes_device *dev, void *s)
{
    nvdimm *n = s;

    if (!n->memdev || !*n->memdev) {
        H->error(dev, "property 'memdev' is required");
        return -EINVAL;
    }
    n->mem = H->memdev_region(dev, n->memdev);
    if (!n->mem) {
        return -EINVAL; /* memdev_region reported it */
    }
    n->pmem = n->mem;
    if (n->label_size && split_labels(dev, n) < 0) {
        return -EINVAL;
    }
    return H->dev_init_mmio(dev, n->pmem) < 0 ? -EINVAL : 0;
}

static bool nvdimm_label_access(tes_device *dev, uint64_t off, void *buf, uint64_t len,
                                bool write)
{
    nvdimm *n = dev && strcmp(H->dev_type(dev), "nvdimm") == 0 ? H->dev_state(dev) : NULL;

    if (!n || !n->label || off > n->label_size || len > n->label_size - off) {
        return false;
    }
    if (write) {
        memcpy(n->label + off, buf, len);
    } else {
        memcpy(buf, n->label + off, len);
    }
    return true;
}

static const tes_prop_info nvdimm_props[] = {
    TES_PROP("memdev", TES_PROP_STRING, nvdimm, memdev, NULL, 0, 0,
             "the -object memory-backend-* id holding the module's contents"),
    TES_PROP("label-size", TES_PROP_SIZE, nvdimm, label_size, "0", 0, 0,
             "namespace label area bytes at the end of memdev (0: none; else >= 128 KiB)"),
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
        if (out->size >= offsetof(tes_memory_device_info, label_size) + sizeof(uint64_t)) {
            out->label_size = ((nvdimm *)H->dev_state(dev))->label_size;
        }
        return true;
    }
    return false;
}

TES_TRACE_DEFINE(NVDIMM_TRACE)

static void md_placed(tes_device *dev, uint64_t addr, int32_t slot)
{
    trace_mhp_pc_dimm_assigned_slot(slot);
    trace_mhp_pc_dimm_assigned_address(addr);
    if (dev && strcmp(H->dev_type(dev), "pc-dimm") == 0) {
        pc_dimm_placed(dev, addr, slot);
    }
}

static const tes_memory_device_iface md_iface = {
    .size = sizeof(tes_memory_device_iface),
    .info = md_info,
    .placed = md_placed,
    .label_access = nvdimm_label_access,
};

static int nvdimm_plugin_init(const tes_host *host)
{
    if (host->size < offsetof(tes_host, memdev_region) + sizeof(void *)) {
        return -ENOSYS; /* needs the ABI 1.6 memory backends */
    }
    H = host;
    /* -EEXIST when a -plugin copy registered it first: that one answers. */
    host->iface_register(TES_MEMORY_DEVICE_IFACE, TES_MEMORY_DEVICE_IFACE_VERSION, &md_iface);
    return TES_TRACE_REGISTER(host);
}

static const tes_type_info *const nvdimm_types[] = {&nvdimm_type, &pc_dimm_type, NULL};

TES_PLUGIN_DEFINE(.name = "nvdimm", .version = "0.2.0", .license = "MIT",
                  .desc = "memory modules over memory backends: NVDIMM, pc-dimm",
                  .types = nvdimm_types, .init = nvdimm_plugin_init);
