/*
 * board-virt: the device tree of the virt machine. Platform devices (the
 * stock PL011 and PL031, and any added with -device) are described from
 * what their types declare (<tessera/platform.h>).
 *
 * The tree follows what QEMU's virt generates for GICv2 and GICv3 (compare
 * with `qemu-system-aarch64 -M virt,gic-version=2 -machine dumpdtb=q.dtb` and
 * `dtc -I dtb -O dts`), minus what we do not model: no flash, fw-cfg,
 * PL061/gpio-keys, PMU, platform bus, and no kaslr-seed/rng-seed (a KASLR
 * seed makes the kernel turn KPTI on for an A57, which only costs time).
 * The gpex PCIe host bridge and the 32 virtio-mmio transports are described
 * as QEMU does with highmem=off (no 64-bit window, ECAM below 4 GiB).
 *
 * Written with libfdt's sequential-write API; /chosen is patched afterwards
 * with the read-write API so that -dtb trees get the same treatment.
 */
#include <errno.h>
#include <libfdt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virt.h"

/* GIC binding (Documentation/devicetree/bindings/interrupt-controller/
 * arm,gic.yaml): cell 1 type, cell 2 number, cell 3 flags; for PPIs flags
 * bits 15:8 are the mask of CPUs the PPI is wired to. */
#define IRQ_TYPE_SPI 0
#define IRQ_TYPE_PPI 1
#define IRQ_FLAGS_EDGE_RISING 1
#define IRQ_FLAGS_LEVEL_HIGH 4
#define PPI_CPU_SHIFT 8
#define PPI_CPU_MAX 8

enum { PH_CLK = 1, PH_GIC, PH_V2M, PH_ITS, PH_SMMU, PH_CPU0 = 0x100 }; /* cpu@N: PH_CPU0 + N */

#define GICV3_REDIST_FRAME 0x20000 /* RD_base + SGI_base of one vCPU */

#define APB_PCLK_HZ 24000000
#define DTB_INITIAL_SIZE (64 * 1024)

/* PSCI 0.2 SMC64/HVC64 function ids (ARM DEN 0022). */
#define PSCI_CPU_SUSPEND 0xc4000001u
#define PSCI_CPU_OFF 0x84000002u
#define PSCI_CPU_ON 0xc4000003u
#define PSCI_MIGRATE 0xc4000005u

/* The writer stops at the first libfdt error and keeps it. */
typedef struct fdtw {
    void *fdt;
    int err;
} fdtw;

static void w_begin(fdtw *w, const char *name)
{
    if (!w->err) {
        w->err = fdt_begin_node(w->fdt, name);
    }
}

static void w_end(fdtw *w)
{
    if (!w->err) {
        w->err = fdt_end_node(w->fdt);
    }
}

static void w_prop(fdtw *w, const char *name, const void *val, int len)
{
    if (!w->err) {
        w->err = fdt_property(w->fdt, name, val, len);
    }
}

/* A string list: pass a literal with embedded NULs and its sizeof. */
#define w_strs(w, name, lit) w_prop(w, name, lit, sizeof(lit))

static void w_str(fdtw *w, const char *name, const char *s)
{
    if (!w->err) {
        w->err = fdt_property_string(w->fdt, name, s);
    }
}

static void w_empty(fdtw *w, const char *name)
{
    w_prop(w, name, NULL, 0);
}

/* Cells given as host integers, stored big-endian. */
static void w_cells(fdtw *w, const char *name, int n, ...)
{
    fdt32_t cells[16];
    va_list ap;

    va_start(ap, n);
    for (int i = 0; i < n && i < 16; i++) {
        cells[i] = cpu_to_fdt32(va_arg(ap, uint32_t));
    }
    va_end(ap);
    w_prop(w, name, cells, n * (int)sizeof(fdt32_t));
}

static void w_u32(fdtw *w, const char *name, uint32_t v)
{
    w_cells(w, name, 1, v);
}

/* reg = <base size> with #address-cells = #size-cells = 2. */
static void w_reg64(fdtw *w, uint64_t base, uint64_t size)
{
    w_cells(w, "reg", 4, (uint32_t)(base >> 32), (uint32_t)base, (uint32_t)(size >> 32),
            (uint32_t)size);
}

static void w_reg_range(fdtw *w, int idx)
{
    w_reg64(w, virt_memmap[idx].base, virt_memmap[idx].size);
}

static void node_name(char *buf, size_t len, const char *name, uint64_t addr)
{
    snprintf(buf, len, "%s@%llx", name, (unsigned long long)addr);
}

static void fdt_root_props(fdtw *w)
{
    w_u32(w, "interrupt-parent", PH_GIC);
    w_str(w, "model", "linux,dummy-virt");
    w_u32(w, "#size-cells", 2);
    w_u32(w, "#address-cells", 2);
    w_str(w, "compatible", "linux,dummy-virt");
}

/* PSCI via HVC: we have no EL2/EL3, the CPU answers HVC #0 itself. */
static void fdt_psci(fdtw *w)
{
    w_begin(w, "psci");
    w_u32(w, "migrate", PSCI_MIGRATE);
    w_u32(w, "cpu_on", PSCI_CPU_ON);
    w_u32(w, "cpu_off", PSCI_CPU_OFF);
    w_u32(w, "cpu_suspend", PSCI_CPU_SUSPEND);
    w_str(w, "method", "hvc");
    w_strs(w, "compatible", "arm,psci-1.0\0arm,psci-0.2\0arm,psci");
    w_end(w);
}

/* One memory node per NUMA node (its numa-node-id), as QEMU writes them:
 * the nodes' RAM back to back from the base; nodes without RAM have none. */
static void fdt_memory(fdtw *w, const virt_fdt_cfg *c)
{
    const tes_topology *t = c->topo;
    unsigned nodes = t ? t->nodes : 0;
    uint64_t base = virt_memmap[VIRT_MEM].base;
    char name[40];

    for (unsigned i = 0; i < (nodes ? nodes : 1); i++) {
        uint64_t size = nodes ? t->node_mem[i] : c->ram_size;

        if (!size) {
            continue;
        }
        node_name(name, sizeof(name), "memory", base);
        w_begin(w, name);
        if (nodes) {
            w_u32(w, "numa-node-id", i);
        }
        w_reg64(w, base, size);
        w_str(w, "device_type", "memory");
        w_end(w);
        base += size;
    }
}

/* The NUMA distances (Documentation/devicetree/bindings/numa.txt), only
 * when -numa dist gave them (Linux defaults to 10/20 otherwise). */
static void fdt_distance_map(fdtw *w, const tes_topology *t)
{
    unsigned n = t ? t->nodes : 0;
    uint32_t *m;

    if (!n || !t->distance_given) {
        return;
    }
    m = calloc((size_t)n * n * 3, sizeof(uint32_t));
    if (!m) {
        w->err = w->err ? w->err : -FDT_ERR_NOSPACE;
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        for (unsigned j = 0; j < n; j++) {
            uint32_t *e = m + 3 * ((size_t)i * n + j);
            e[0] = cpu_to_fdt32(i);
            e[1] = cpu_to_fdt32(j);
            e[2] = cpu_to_fdt32(t->distance[i * n + j]);
        }
    }
    w_begin(w, "distance-map");
    w_prop(w, "distance-matrix", m, (int)((size_t)n * n * 3 * sizeof(uint32_t)));
    w_str(w, "compatible", "numa-distance-map-v1");
    w_end(w);
    free(m);
}

/* /cpus/cpu-map (Documentation/devicetree/bindings/cpu/cpu-topology.txt):
 * socketN/clusterN/coreN[/threadN] as QEMU's virt writes it, the thread
 * level only with threads > 1. */
static void fdt_cpu_map(fdtw *w, const virt_fdt_cfg *c)
{
    tes_topology one = {.sockets = 1, .dies = 1, .clusters = 1, .cores = c->ncpus,
                        .threads = 1};
    const tes_topology *t = c->topo ? c->topo : &one;
    unsigned per_socket = t->clusters * t->cores * t->threads;
    char name[32];

    w_begin(w, "cpu-map");
    for (unsigned s = 0; s * per_socket < c->ncpus; s++) {
        snprintf(name, sizeof(name), "socket%u", s);
        w_begin(w, name);
        for (unsigned k = 0; k < t->clusters; k++) {
            snprintf(name, sizeof(name), "cluster%u", k);
            w_begin(w, name);
            for (unsigned co = 0; co < t->cores; co++) {
                unsigned first = ((s * t->clusters + k) * t->cores + co) * t->threads;

                if (first >= c->ncpus) {
                    break;
                }
                snprintf(name, sizeof(name), "core%u", co);
                w_begin(w, name);
                for (unsigned th = 0; th < t->threads && first + th < c->ncpus; th++) {
                    if (t->threads > 1) {
                        snprintf(name, sizeof(name), "thread%u", th);
                        w_begin(w, name);
                    }
                    w_u32(w, "cpu", PH_CPU0 + first + th);
                    if (t->threads > 1) {
                        w_end(w);
                    }
                }
                w_end(w);
            }
            w_end(w);
        }
        w_end(w);
    }
    w_end(w);
}

static void fdt_cpus(fdtw *w, const virt_fdt_cfg *c)
{
    char name[40];

    w_begin(w, "cpus");
    w_u32(w, "#size-cells", 0);
    w_u32(w, "#address-cells", 1);
    for (unsigned i = 0; i < c->ncpus; i++) {
        snprintf(name, sizeof(name), "cpu@%x", c->cpu_reg[i]);
        w_begin(w, name);
        w_u32(w, "phandle", PH_CPU0 + i);
        if (c->topo && c->topo->nodes) {
            w_u32(w, "numa-node-id", c->topo->cpu_node[i]);
        }
        w_u32(w, "reg", c->cpu_reg[i]);
        w_str(w, "enable-method", "psci");
        w_str(w, "compatible", c->cpu_compat);
        w_str(w, "device_type", "cpu");
        w_end(w);
    }
    fdt_cpu_map(w, c);
    w_end(w);
}

/* GICv3's binding has no CPU mask in PPI flags (affinity routing). */
static void fdt_timer(fdtw *w, unsigned ncpus, unsigned gic_version)
{
    unsigned n = ncpus < PPI_CPU_MAX ? ncpus : PPI_CPU_MAX;
    uint32_t flags = (gic_version == 2 ? ((1u << n) - 1) << PPI_CPU_SHIFT : 0) |
                     IRQ_FLAGS_LEVEL_HIGH;

    w_begin(w, "timer");
    /* Order fixed by the binding: secure, non-secure, virtual, hyp. */
    w_cells(w, "interrupts", 12, IRQ_TYPE_PPI, VIRT_PPI_TIMER_SEC, flags, IRQ_TYPE_PPI,
            VIRT_PPI_TIMER_PHYS, flags, IRQ_TYPE_PPI, VIRT_PPI_TIMER_VIRT, flags, IRQ_TYPE_PPI,
            VIRT_PPI_TIMER_HYP, flags);
    w_empty(w, "always-on");
    w_strs(w, "compatible", "arm,armv8-timer\0arm,armv7-timer");
    w_end(w);
}

static void fdt_gicv2(fdtw *w)
{
    char name[40];
    const virt_range *d = &virt_memmap[VIRT_GIC_DIST], *cpu = &virt_memmap[VIRT_GIC_CPU];

    node_name(name, sizeof(name), "intc", d->base);
    w_begin(w, name);
    w_u32(w, "phandle", PH_GIC);
    w_cells(w, "reg", 8, 0, (uint32_t)d->base, 0, (uint32_t)d->size, 0, (uint32_t)cpu->base, 0,
            (uint32_t)cpu->size);
    w_str(w, "compatible", "arm,cortex-a15-gic");
    w_empty(w, "ranges");
    w_u32(w, "#size-cells", 2);
    w_u32(w, "#address-cells", 2);
    w_empty(w, "interrupt-controller");
    w_u32(w, "#interrupt-cells", 3);

    node_name(name, sizeof(name), "v2m", virt_memmap[VIRT_GIC_V2M].base);
    w_begin(w, name);
    w_u32(w, "phandle", PH_V2M);
    w_reg_range(w, VIRT_GIC_V2M);
    w_empty(w, "msi-controller");
    w_str(w, "compatible", "arm,gic-v2m-frame");
    w_end(w);
    w_end(w);
}

/* Documentation/devicetree/bindings/interrupt-controller/arm,gic-v3.yaml
 * and its arm,gic-v3-its child, as QEMU's create_gic() for GICv3: one
 * redistributor region, sized for our vCPUs. */
static void fdt_gicv3(fdtw *w, const virt_fdt_cfg *c)
{
    char name[40];
    const virt_range *d = &virt_memmap[VIRT_GIC_DIST], *r = &virt_memmap[VIRT_GIC_REDIST];

    node_name(name, sizeof(name), "intc", d->base);
    w_begin(w, name);
    w_u32(w, "phandle", PH_GIC);
    w_cells(w, "reg", 8, 0, (uint32_t)d->base, 0, (uint32_t)d->size, 0, (uint32_t)r->base, 0,
            (uint32_t)(GICV3_REDIST_FRAME * c->ncpus));
    w_u32(w, "#redistributor-regions", 1);
    w_str(w, "compatible", "arm,gic-v3");
    w_empty(w, "ranges");
    w_u32(w, "#size-cells", 2);
    w_u32(w, "#address-cells", 2);
    w_empty(w, "interrupt-controller");
    w_u32(w, "#interrupt-cells", 3);
    if (c->its) {
        node_name(name, sizeof(name), "its", virt_memmap[VIRT_GIC_ITS].base);
        w_begin(w, name);
        w_u32(w, "phandle", PH_ITS);
        w_reg_range(w, VIRT_GIC_ITS);
        w_u32(w, "#msi-cells", 1);
        w_empty(w, "msi-controller");
        w_str(w, "compatible", "arm,gic-v3-its");
        w_end(w);
    }
    w_end(w);
}

static void fdt_clock(fdtw *w)
{
    w_begin(w, "apb-pclk");
    w_u32(w, "phandle", PH_CLK);
    w_str(w, "clock-output-names", "clk24mhz");
    w_u32(w, "clock-frequency", APB_PCLK_HZ);
    w_u32(w, "#clock-cells", 0);
    w_str(w, "compatible", "fixed-clock");
    w_end(w);
}

static void w_cell_array(fdtw *w, const char *name, const uint32_t *v, int n);
static void plat_node_name(char *buf, size_t len, const virt_plat_node *n);

/* Length of a NUL-separated list ending with an empty string, without
 * that final empty string: what a DT string-list property holds. */
static int strlist_len(const char *l)
{
    const char *p = l;

    while (*p) {
        p += strlen(p) + 1;
    }
    return (int)(p - l);
}

static void plat_extra_props(fdtw *w, const tes_dt_prop *p)
{
    for (; p && p->name; p++) {
        switch (p->kind) {
        case TES_DT_EMPTY:
            w_empty(w, p->name);
            break;
        case TES_DT_U32:
            w_u32(w, p->name, p->u32);
            break;
        case TES_DT_STRING:
            w_prop(w, p->name, p->str, p->len ? (int)p->len : (int)strlen(p->str) + 1);
            break;
        }
    }
}

/* A platform device's node from what its type declares (platform.h):
 * Linux's amba-pl011 for one needs both its clocks, "uartclk" for the
 * baud divisor and "apb_pclk", which the AMBA bus enables to read the
 * PrimeCell ID registers; every clock is the board's fixed APB clock. */
static void fdt_plat(fdtw *w, const virt_plat_node *n)
{
    const tes_platform_info *pi = n->info;
    uint32_t cells[4 * VIRT_PLAT_MAX_MMIO], irqs[3 * VIRT_PLAT_MAX_IRQS], clk[8];
    unsigned nirq = pi->num_irqs < VIRT_PLAT_MAX_IRQS ? pi->num_irqs : VIRT_PLAT_MAX_IRQS;
    unsigned nclk = 0;
    char name[64];

    plat_node_name(name, sizeof(name), n);
    w_begin(w, name);
    if (pi->clock_names && pi->clock_names[0]) {
        for (const char *c = pi->clock_names; *c && nclk < 8; c += strlen(c) + 1) {
            clk[nclk++] = PH_CLK;
        }
        w_prop(w, "clock-names", pi->clock_names, strlist_len(pi->clock_names));
        w_cell_array(w, "clocks", clk, (int)nclk);
    }
    for (unsigned i = 0; i < nirq; i++) {
        irqs[3 * i] = IRQ_TYPE_SPI;
        irqs[3 * i + 1] = n->first_spi + i;
        irqs[3 * i + 2] = IRQ_FLAGS_LEVEL_HIGH;
    }
    if (nirq) {
        w_cell_array(w, "interrupts", irqs, 3 * (int)nirq);
    }
    for (unsigned i = 0; i < n->nreg; i++) {
        cells[4 * i] = (uint32_t)(n->reg_base[i] >> 32);
        cells[4 * i + 1] = (uint32_t)n->reg_base[i];
        cells[4 * i + 2] = (uint32_t)(n->reg_size[i] >> 32);
        cells[4 * i + 3] = (uint32_t)n->reg_size[i];
    }
    w_cell_array(w, "reg", cells, 4 * (int)n->nreg);
    plat_extra_props(w, pi->dt_props);
    w_prop(w, "compatible", pi->compatible, strlist_len(pi->compatible));
    w_end(w);
}

/* Cells from an array, stored big-endian. */
static void w_cell_array(fdtw *w, const char *name, const uint32_t *v, int n)
{
    fdt32_t *cells = malloc((size_t)n * sizeof(*cells));

    if (!cells) {
        w->err = w->err ? w->err : -FDT_ERR_NOSPACE;
        return;
    }
    for (int i = 0; i < n; i++) {
        cells[i] = cpu_to_fdt32(v[i]);
    }
    w_prop(w, name, cells, n * (int)sizeof(fdt32_t));
    free(cells);
}

/* Written lowest address first, as in QEMU's tree (it adds them in
 * reverse with fdt_add_subnode, which prepends). Linux probes platform
 * devices in tree order. Edge-triggered, like QEMU's. */
static void fdt_virtio_mmio(fdtw *w, unsigned n)
{
    char name[40];

    for (unsigned i = 0; i < n; i++) {
        uint64_t base = virt_memmap[VIRT_MMIO].base + (uint64_t)i * VIRT_MMIO_SLOT_SIZE;
        node_name(name, sizeof(name), "virtio_mmio", base);
        w_begin(w, name);
        w_empty(w, "dma-coherent");
        w_cells(w, "interrupts", 3, IRQ_TYPE_SPI, VIRT_MMIO_SPI + i, IRQ_FLAGS_EDGE_RISING);
        w_reg64(w, base, VIRT_MMIO_SLOT_SIZE);
        w_str(w, "compatible", "virtio,mmio");
        w_end(w);
    }
}

/* PCI address cells (IEEE 1275 PCI binding): phys.hi space codes. */
#define PCI_SPACE_IO 0x01000000u
#define PCI_SPACE_MEM32 0x02000000u
#define PCI_DEVFN_SLOT_SHIFT 11
#define PCI_SLOTS_MAPPED 4
#define IMAP_CELLS 10 /* child 3 + pin 1, gic phandle, gic unit 2, gic irq 3 */

/* INTx: slot s pin p (1 = INTA) reaches SPI 3 + (s + p - 1) % 4; the
 * mask keeps the slot's low two bits, so the pattern repeats every four
 * slots (and bridges swizzle their own buses in the same way). On an
 * expander's root bus the pin first goes through the expander function
 * at slot rot of bus 0, as through a bridge: rot adds to the slot. */
static void fdt_pcie_intmap(fdtw *w, uint32_t rot)
{
    uint32_t map[PCI_SLOTS_MAPPED * VIRT_PCIE_IRQS * IMAP_CELLS], *e = map;

    for (uint32_t slot = 0; slot < PCI_SLOTS_MAPPED; slot++) {
        for (uint32_t pin = 1; pin <= VIRT_PCIE_IRQS; pin++) {
            uint32_t spi = VIRT_PCIE_SPI + (rot + slot + pin - 1) % VIRT_PCIE_IRQS;
            uint32_t ent[IMAP_CELLS] = {slot << PCI_DEVFN_SLOT_SHIFT, 0, 0, pin, PH_GIC, 0, 0,
                                        IRQ_TYPE_SPI, spi, IRQ_FLAGS_LEVEL_HIGH};
            memcpy(e, ent, sizeof(ent));
            e += IMAP_CELLS;
        }
    }
    w_cells(w, "interrupt-map-mask", 4, 3u << PCI_DEVFN_SLOT_SHIFT, 0, 0, 7);
    w_cell_array(w, "interrupt-map", map, (int)(e - map));
}

/* Properties the board writes itself: a device may not add them. */
static const char *const pcie_board_props[] = {
    "interrupt-map-mask", "interrupt-map", "#interrupt-cells", "ranges", "reg", "msi-map",
    "dma-coherent", "bus-range", "linux,pci-domain", "#size-cells", "#address-cells",
    "device_type", "compatible", NULL,
};
static const char *const root_board_props[] = {
    "interrupt-parent", "model", "#size-cells", "#address-cells", "compatible", NULL,
};

bool virt_fdt_board_prop(bool pcie, const char *name)
{
    for (const char *const *p = pcie ? pcie_board_props : root_board_props; *p; p++) {
        if (!strcmp(*p, name)) {
            return true;
        }
    }
    return false;
}

/* What devices added through the "fdt" interface (virt-dtiface.c), for
 * the pcie node or the root node: properties first, then subnodes. */
static void fdt_extra(fdtw *w, const virt_dt_extra *x, bool pcie)
{
    unsigned np = x ? (pcie ? x->npcie : x->nroot) : 0;
    const virt_dt_prop *props = x ? (pcie ? x->pcie_props : x->root_props) : NULL;

    for (unsigned i = 0; i < np; i++) {
        w_prop(w, props[i].name, props[i].val, (int)props[i].len);
    }
    for (unsigned i = 0; x && i < x->nnodes; i++) {
        const virt_dt_node *n = &x->nodes[i];

        if (n->pcie != pcie) {
            continue;
        }
        w_begin(w, n->name);
        for (unsigned j = 0; j < n->nprops; j++) {
            w_prop(w, n->props[j].name, n->props[j].val, (int)n->props[j].len);
        }
        w_end(w);
    }
}
/* One ECAM host bridge node: buses first..last (its part of the ECAM
 * window), I/O ports [io_off, io_off + io_size) of the PIO window, the
 * memory [mem, mem + mem_size). */
typedef struct pci_host_node {
    uint32_t first, last;
    uint32_t io_off, io_size;
    uint64_t mem, mem_size;
    uint32_t irq_rot;
    uint32_t domain;
    int32_t numa_node; /* -1: none */
} pci_host_node;

/* The gpex host bridge (Documentation/devicetree/bindings/pci/
 * host-generic-pci.yaml), as QEMU's create_pcie() with highmem off; an
 * expander bridge is one more such node over its buses. */
static void fdt_pci_host(fdtw *w, const virt_fdt_cfg *c, const pci_host_node *h)
{
    const virt_range *ecam = &virt_memmap[VIRT_PCIE_ECAM];
    const virt_range *pio = &virt_memmap[VIRT_PCIE_PIO];
    uint64_t io_cpu = pio->base + h->io_off;
    uint32_t ranges[] = {
        PCI_SPACE_IO, 0, h->io_off, (uint32_t)(io_cpu >> 32), (uint32_t)io_cpu, 0, h->io_size,
        PCI_SPACE_MEM32, (uint32_t)(h->mem >> 32), (uint32_t)h->mem,
        (uint32_t)(h->mem >> 32), (uint32_t)h->mem, 0, (uint32_t)h->mem_size,
    };
    char name[40];

    node_name(name, sizeof(name), "pcie", h->mem);
    w_begin(w, name);
    fdt_pcie_intmap(w, h->irq_rot);
    w_u32(w, "#interrupt-cells", 1);
    w_cell_array(w, "ranges", ranges, (int)(sizeof(ranges) / sizeof(ranges[0])));
    w_reg64(w, ecam->base + ((uint64_t)h->first << 20),
            (uint64_t)(h->last - h->first + 1) << 20);
    /* Every requester id maps 1:1 onto the v2m frame, or onto the ITS's
     * DeviceIDs; GICv3 without an ITS: INTx only. */
    if (c->gic_version == 2 || c->its) {
        w_cells(w, "msi-map", 4, 0, c->gic_version == 2 ? PH_V2M : PH_ITS, 0, 0x10000);
    }
    if (c->smmu) {
        /* ...and onto the SMMU's stream ids */
        w_cells(w, "iommu-map", 4, 0, PH_SMMU, 0, 0x10000);
    }
    w_empty(w, "dma-coherent");
    w_cells(w, "bus-range", 2, h->first, h->last);
    w_u32(w, "linux,pci-domain", h->domain);
    if (h->numa_node >= 0) {
        w_u32(w, "numa-node-id", (uint32_t)h->numa_node);
    }
    w_u32(w, "#size-cells", 2);
    w_u32(w, "#address-cells", 3);
    w_str(w, "device_type", "pci");
    w_str(w, "compatible", "pci-host-ecam-generic");
    /* What devices add (virtio-iommu-pci) is about pcie.0's node only. */
    if (h->domain == 0) {
        fdt_extra(w, c->extra, true);
    }
    w_end(w);
}

/* The SMMUv3 (Documentation/devicetree/bindings/iommu/arm,smmu-v3.yaml),
 * as QEMU's create_smmu(): wired, edge-triggered interrupts in its order
 * (no msi-parent: Linux falls back to them), one cell per master. */
static void fdt_smmu(fdtw *w)
{
    const virt_range *r = &virt_memmap[VIRT_SMMU];
    char name[40];

    node_name(name, sizeof(name), "smmuv3", r->base);
    w_begin(w, name);
    w_u32(w, "phandle", PH_SMMU);
    w_u32(w, "#iommu-cells", 1);
    w_empty(w, "dma-coherent");
    w_strs(w, "interrupt-names", "eventq\0priq\0cmdq-sync\0gerror");
    w_cells(w, "interrupts", 12, IRQ_TYPE_SPI, VIRT_SMMU_SPI, IRQ_FLAGS_EDGE_RISING,
            IRQ_TYPE_SPI, VIRT_SMMU_SPI + 1, IRQ_FLAGS_EDGE_RISING, IRQ_TYPE_SPI,
            VIRT_SMMU_SPI + 2, IRQ_FLAGS_EDGE_RISING, IRQ_TYPE_SPI, VIRT_SMMU_SPI + 3,
            IRQ_FLAGS_EDGE_RISING);
    w_reg_range(w, VIRT_SMMU);
    w_str(w, "compatible", "arm,smmu-v3");
    w_end(w);
}

/* Expanders (pxb-pcie) take the top 32 MiB slices of the memory window
 * and 4 KiB of the ports each; their buses end where the next begins.
 * Linux's ECAM driver claims each node's config window, so they must not
 * overlap: the main node keeps the buses below the first expander's, and
 * each node is a PCI domain of its own (linux,pci-domain). */
#define PXB_MEM (32ull << 20)
#define PXB_IO 0x1000u

static void fdt_pcie(fdtw *w, const virt_fdt_cfg *c)
{
    const virt_range *ecam = &virt_memmap[VIRT_PCIE_ECAM];
    const virt_range *pio = &virt_memmap[VIRT_PCIE_PIO], *mem = &virt_memmap[VIRT_PCIE_MMIO];
    uint32_t n = c->npxbs, last = (uint32_t)(ecam->size >> 20) - 1;
    pci_host_node h = {
        .first = 0, .last = n ? c->pxbs[0].bus_nr - 1u : last,
        .io_size = (uint32_t)pio->size - n * PXB_IO,
        .mem = mem->base, .mem_size = mem->size - n * PXB_MEM, .numa_node = -1,
    };

    fdt_pci_host(w, c, &h);
    for (uint32_t k = 0; k < n; k++) {
        const tes_pxb_info *x = &c->pxbs[k];
        pci_host_node e = {
            .first = x->bus_nr, .last = x->last_bus < last ? x->last_bus : last,
            .io_off = (uint32_t)pio->size - (k + 1) * PXB_IO, .io_size = PXB_IO,
            .mem = mem->base + mem->size - (k + 1) * PXB_MEM, .mem_size = PXB_MEM,
            .irq_rot = x->devfn >> 3, .domain = k + 1, .numa_node = x->numa_node,
        };

        fdt_pci_host(w, c, &e);
    }
}

static void plat_node_name(char *buf, size_t len, const virt_plat_node *n)
{
    node_name(buf, len, n->info->node_name ? n->info->node_name : n->type_name, n->reg_base[0]);
}

static void fdt_chosen(fdtw *w, const virt_fdt_cfg *c)
{
    char path[72];

    w_begin(w, "chosen");
    if (c->stdout_plat >= 0 && (unsigned)c->stdout_plat < c->nplat) {
        path[0] = '/';
        plat_node_name(path + 1, sizeof(path) - 1, &c->plat[c->stdout_plat]);
        w_str(w, "stdout-path", path);
    }
    w_end(w);
}

/* One pmem-region per NVDIMM (Linux's of_pmem,
 * Documentation/devicetree/bindings/pmem/pmem-region.yaml): no
 * "volatile", so the region is persistent memory and its namespace a
 * /dev/pmemN. QEMU describes NVDIMMs on virt by ACPI only (NFIT under
 * UEFI); with a DT boot this is how Linux finds them. */
static void fdt_pmem(fdtw *w, const virt_fdt_cfg *c)
{
    char name[40];

    for (unsigned i = 0; i < c->npmem; i++) {
        node_name(name, sizeof(name), "pmem", c->pmem[i].addr);
        w_begin(w, name);
        w_str(w, "compatible", "pmem-region");
        w_reg64(w, c->pmem[i].addr, c->pmem[i].size);
        w_end(w);
    }
}

static void fdt_write_all(fdtw *w, const virt_fdt_cfg *c)
{
    if (!w->err) {
        w->err = fdt_finish_reservemap(w->fdt);
    }
    w_begin(w, "");
    fdt_root_props(w);
    fdt_extra(w, c->extra, false);
    fdt_psci(w);
    fdt_memory(w, c);
    fdt_pmem(w, c);
    fdt_distance_map(w, c->topo);
    if (c->pcie) {
        fdt_pcie(w, c);
    }
    if (c->smmu) {
        fdt_smmu(w);
    }
    fdt_virtio_mmio(w, c->mmio_slots);
    for (unsigned i = 0; i < c->nplat; i++) {
        fdt_plat(w, &c->plat[i]);
    }
    if (c->gic_version == 3) {
        fdt_gicv3(w, c);
    } else {
        fdt_gicv2(w);
    }
    fdt_cpus(w, c);
    fdt_timer(w, c->ncpus, c->gic_version);
    fdt_clock(w);
    fdt_chosen(w, c);
    w_end(w);
    if (!w->err) {
        w->err = fdt_finish(w->fdt);
    }
}

void *virt_fdt_build(const virt_fdt_cfg *c, char *err, size_t errlen)
{
    fdtw w = {.fdt = malloc(DTB_INITIAL_SIZE)};

    if (!w.fdt) {
        snprintf(err, errlen, "cannot allocate the device tree");
        return NULL;
    }
    w.err = fdt_create(w.fdt, DTB_INITIAL_SIZE);
    fdt_write_all(&w, c);
    if (w.err) {
        snprintf(err, errlen, "cannot build the device tree: %s", fdt_strerror(w.err));
        free(w.fdt);
        return NULL;
    }
    return w.fdt;
}

static int chosen_offset(void *fdt)
{
    int off = fdt_path_offset(fdt, "/chosen");

    if (off == -FDT_ERR_NOTFOUND) {
        off = fdt_add_subnode(fdt, 0, "chosen");
    }
    return off;
}

/* linux,initrd-start/end: Linux reads them with of_read_number(), any
 * number of cells; 64-bit like QEMU with #address-cells = 2. */
static int set_chosen_props(void *fdt, const char *bootargs, uint64_t is, uint64_t ie)
{
    int off = chosen_offset(fdt), ret = 0;

    if (off < 0) {
        return off;
    }
    if (bootargs) {
        ret = fdt_setprop_string(fdt, off, "bootargs", bootargs);
    }
    if (!ret && ie > is) {
        ret = fdt_setprop_u64(fdt, off, "linux,initrd-start", is);
    }
    if (!ret && ie > is) {
        ret = fdt_setprop_u64(fdt, off, "linux,initrd-end", ie);
    }
    return ret;
}

void *virt_fdt_set_chosen(const void *blob, const char *bootargs, uint64_t initrd_start,
                          uint64_t initrd_end, char *err, size_t errlen)
{
    int ret = fdt_check_header(blob);
    size_t size;
    void *fdt;

    if (ret) {
        snprintf(err, errlen, "not a flattened device tree (%s)", fdt_strerror(ret));
        return NULL;
    }
    size = fdt_totalsize(blob) + 4096 + (bootargs ? strlen(bootargs) : 0);
    fdt = malloc(size);
    if (!fdt) {
        snprintf(err, errlen, "cannot allocate %zu bytes for the device tree", size);
        return NULL;
    }
    ret = fdt_open_into(blob, fdt, (int)size);
    if (!ret) {
        ret = set_chosen_props(fdt, bootargs, initrd_start, initrd_end);
    }
    if (!ret) {
        ret = fdt_pack(fdt);
    }
    if (ret) {
        snprintf(err, errlen, "cannot update /chosen: %s", fdt_strerror(ret));
        free(fdt);
        return NULL;
    }
    return fdt;
}
