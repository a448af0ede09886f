/*
 * board-virt: what virt.c (the machine, the boot loader), virt-plat.c
 * (platform devices) and virt-fdt.c (its device tree) share. Private to
 * the plugin.
 */
#ifndef BOARD_VIRT_H
#define BOARD_VIRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tessera/machine.h>
#include <tessera/platform.h>
#include <tessera/pxb.h>

/* The memory map of QEMU's virt machine (hw/arm/virt.c, base_memmap), so
 * that device trees, kernels and habits carry over. */
enum {
    VIRT_GIC_DIST,
    VIRT_GIC_CPU,
    VIRT_GIC_V2M,
    VIRT_GIC_ITS,
    VIRT_GIC_REDIST, /* 123 redistributors of 128 KiB (GICv3) */
    VIRT_UART,
    VIRT_RTC,
    VIRT_SMMU,      /* iommu=smmuv3 */
    VIRT_MMIO,      /* 32 virtio-mmio transports of 0x200 */
    VIRT_PCIE_MMIO, /* the gpex host bridge's 32-bit memory window */
    VIRT_PCIE_PIO,
    VIRT_PCIE_ECAM,
    VIRT_MEM,
    VIRT_NR_REGIONS,
};

typedef struct virt_range {
    uint64_t base, size;
} virt_range;

extern const virt_range virt_memmap[VIRT_NR_REGIONS];

/* SPI numbers (GIC irq 32 + n), as QEMU's a15irqmap. */
#define VIRT_UART_SPI 1
#define VIRT_RTC_SPI 2
#define VIRT_PCIE_SPI 3 /* INTA..INTD of the host bridge: SPIs 3..6 */
#define VIRT_PCIE_IRQS 4
#define VIRT_MMIO_SPI 16
#define VIRT_SMMU_SPI 74 /* eventq, priq, cmdq-sync, gerror: 74..77 */
#define VIRT_MMIO_SLOTS 32
#define VIRT_MMIO_SLOT_SIZE 0x200

/* Architectural PPIs of the generic timer (GIC irq = 16 + n). */
#define VIRT_PPI_TIMER_SEC 13
#define VIRT_PPI_TIMER_PHYS 14
#define VIRT_PPI_TIMER_VIRT 11
#define VIRT_PPI_TIMER_HYP 10

/* A placed platform device, described from its type's tes_platform_info
 * (compatible, clocks, extra properties) and where the board put it. */
#define VIRT_PLAT_MAX_MMIO 4
#define VIRT_PLAT_MAX_IRQS 8
typedef struct virt_plat_node {
    const tes_platform_info *info;
    const char *type_name;  /* node name when info->node_name is NULL */
    unsigned nreg;
    uint64_t reg_base[VIRT_PLAT_MAX_MMIO], reg_size[VIRT_PLAT_MAX_MMIO];
    uint32_t first_spi;     /* its outputs drive SPIs first_spi + i */
} virt_plat_node;

/* Nodes and properties devices added through the "fdt" interface
 * (virt-dtiface.c, tessera/fdt.h). */
#define VIRT_DT_NODES 8
#define VIRT_DT_NODE_PROPS 8
#define VIRT_DT_PROPS 8
typedef struct virt_dt_prop {
    char name[32];
    uint8_t *val;
    uint32_t len;
} virt_dt_prop;

typedef struct virt_dt_node {
    bool pcie; /* under the pcie node, else under the root node */
    char name[64];
    unsigned nprops;
    virt_dt_prop props[VIRT_DT_NODE_PROPS];
} virt_dt_node;

typedef struct virt_dt_extra {
    virt_dt_node nodes[VIRT_DT_NODES];
    unsigned nnodes;
    virt_dt_prop pcie_props[VIRT_DT_PROPS], root_props[VIRT_DT_PROPS];
    unsigned npcie, nroot;
} virt_dt_extra;

/* Register the "fdt" interface; root is the host bridge's root bus. */
struct tes_host;
void virt_dtiface_register(const struct tes_host *host, struct tes_bus *root);
const virt_dt_extra *virt_dtiface_extra(void);
/* Whether the board itself writes property name on the pcie node (pcie)
 * or the root node: a device may not add it (virt-fdt.c). */
bool virt_fdt_board_prop(bool pcie, const char *name);

/* What the generated device tree describes. */
/* An NVDIMM the board placed in device memory: a pmem-region node. */
#define VIRT_MAX_NVDIMMS 32
typedef struct virt_pmem {
    uint64_t addr, size;
} virt_pmem;

typedef struct virt_fdt_cfg {
    unsigned ncpus;
    unsigned gic_version;     /* 2 or 3 */
    bool its;                 /* GICv3: an ITS, PCIe MSIs through it */
    const uint32_t *cpu_reg;  /* ncpus MPIDR affinity values (cpu@N reg) */
    const char *cpu_compat;   /* "arm,cortex-a57" */
    uint64_t ram_size;
    unsigned mmio_slots;      /* virtio-mmio nodes (0: none) */
    bool pcie;                /* describe the gpex host bridge */
    /* Platform devices in DT order: the board's RTC and UART first (the
     * UART's node is stdout-path), then the -device ones. */
    const virt_plat_node *plat;
    unsigned nplat;
    int stdout_plat;          /* plat[] index of the UART on serial0, -1: none */
    bool smmu;                /* an SMMUv3 translates the PCIe host's DMA */
    /* pxb-pcie expanders on pcie.0, ascending bus_nr, below the ECAM's
     * last bus: each one more ECAM host bridge node */
    const tes_pxb_info *pxbs;
    unsigned npxbs;
    /* -smp/-numa (NULL: one socket of ncpus cores, no NUMA): the cpu-map,
     * numa-node-id of memory and cpu nodes, distance-map. */
    const tes_topology *topo;
    const virt_dt_extra *extra; /* devices' additions, NULL: none */
    const virt_pmem *pmem;    /* -device nvdimm: one pmem-region each */
    unsigned npmem;
} virt_fdt_cfg;

/* Build the virt device tree (with /chosen holding only stdout-path).
 * Returns a malloc'd blob (fdt_totalsize() bytes), or NULL with a message
 * in err. */
void *virt_fdt_build(const virt_fdt_cfg *c, char *err, size_t errlen);

/* Copy blob into a malloc'd, packed tree whose /chosen holds bootargs
 * (when not NULL) and linux,initrd-start/end (when initrd_end > start).
 * Works on generated and user (-dtb) trees. NULL with err on failure
 * (blob is not a valid DTB, libfdt error). */
void *virt_fdt_set_chosen(const void *blob, const char *bootargs, uint64_t initrd_start,
                          uint64_t initrd_end, char *err, size_t errlen);

#endif
