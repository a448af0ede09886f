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
 */
#include <errno.h>
#include <stddef.h>

#include <tessera/tessera.h>

static const tes_host *H;

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
};

static int nvdimm_plugin_init(const tes_host *host)
{
    if (host->size < offsetof(tes_host, memdev_region) + sizeof(void *)) {
        return -ENOSYS; /* needs the ABI 1.6 memory backends */
    }
    H = host;
    return 0;
}

static const tes_type_info *const nvdimm_types[] = {&nvdimm_type, NULL};

TES_PLUGIN_DEFINE(.name = "nvdimm", .version = "0.1.0", .license = "MIT",
                  .desc = "NVDIMM (persistent memory) over memory backends",
                  .types = nvdimm_types, .init = nvdimm_plugin_init);
