/*
 * gpex-pcihost: the generic PCIe host bridge of the virt machine (QEMU's
 * gpex; Linux's "pci-host-ecam-generic" driver), and gpex-root, its host
 * bridge function at 00.0.
 *
 * User manual (machines create it; see <tessera/gpex.h> for mapping it)
 *
 *   gpex-pcihost[,ecam-buses=N][,mmio-base=A][,mmio-size=S][,pio-size=S]
 *
 *   ecam-buses (u32 1..256, default 16) buses the ECAM region decodes,
 *              1 MiB each (virt's low ECAM: 16 MiB).
 *   mmio-base, mmio-size (default 0x10000000, 0x2eff0000: virt's 32-bit
 *              window) the PCI memory window the mmio region aliases.
 *   pio-size   (size, default 64 KiB) the PCI I/O window.
 *
 * The root bus is "pcie.0"; INTx of a device at slot S pin P drives output
 * (S + P) % 4 (after bridges' swizzle), as virt's interrupt-map says. ECAM
 * (PCIe Base 4.0, 7.2.2): offset bus << 20 | devfn << 12 | register;
 * 1/2/4-byte accesses, functions that are absent read all ones.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <tessera/gpex.h>
#include "pcie-int.h"
#include "pcie-trace.h"

#define ROOT_BUS_NAME "pcie.0"
#define PCI_IO_SPACE 0x10000

typedef struct gpex {
    tes_device *dev;
    uint32_t ecam_buses;
    uint64_t mmio_base, mmio_size, pio_size;
    tes_region *mem, *io;          /* the root bus's address spaces */
    tes_region *ecam, *mmio, *pio; /* what the machine maps */
    tes_bus *bus;
    tes_irq *intx[TES_GPEX_NUM_IRQS]; /* root bus lines -> our outputs */
    unsigned windows;                 /* mmio_window() aliases made */
} gpex;

/* ---- INTx ---- */

static void intx_in(void *opaque, int n, int level)
{
    gpex *g = opaque;

    trace_gpex_set_irq(n, level);
    H->dev_set_irq(g->dev, (unsigned)n, level);
}

/* The standard swizzle of a root complex (PCI-to-PCI Bridge 1.2, 9.1). */
static int map_irq(void *opaque, uint8_t devfn, int pin)
{
    return ((devfn >> 3) + pin) % TES_GPEX_NUM_IRQS;
}

/* ---- realize ---- */

static int gpex_regions(gpex *g)
{
    tes_device *dev = g->dev;

    g->mem = H->region_new_container(dev, "pcie-mmio", UINT64_MAX);
    g->io = H->region_new_container(dev, "pcie-pio", PCI_IO_SPACE);
    g->mmio = H->region_new_alias(dev, "pcie-mmio-window", g->mem, g->mmio_base, g->mmio_size);
    g->pio = H->region_new_alias(dev, "pcie-pio-window", g->io, 0, g->pio_size);
    if (!g->mem || !g->io || !g->mmio || !g->pio) {
        H->error(dev, "cannot create the MMIO/PIO regions");
        return -ENOMEM;
    }
    return 0;
}

static int gpex_realize(tes_device *dev, void *s)
{
    gpex *g = s;
    int ret;

    g->dev = dev;
    if (g->mmio_size == 0 || g->mmio_base + g->mmio_size < g->mmio_base ||
        g->pio_size == 0 || g->pio_size > PCI_IO_SPACE) {
        H->error(dev, "properties want mmio-size > 0 without wrapping and pio-size 1..64K");
        return -EINVAL;
    }
    ret = gpex_regions(g);
    if (ret < 0) {
        return ret;
    }
    g->bus = H->pci_root_bus_new(dev, ROOT_BUS_NAME, g->mem, g->io);
    if (!g->bus) {
        H->error(dev, "cannot create root bus '%s' (name taken?)", ROOT_BUS_NAME);
        return -EEXIST;
    }
    /* ECAM decoding is the core's (host->pci_ecam_new), shared by every
     * host bridge. */
    g->ecam = H->pci_ecam_new(dev, g->bus, (uint64_t)g->ecam_buses << 20);
    if (!g->ecam) {
        H->error(dev, "cannot create the ECAM region");
        return -ENOMEM;
    }
    H->dev_init_irqs(dev, TES_GPEX_NUM_IRQS);
    for (int i = 0; i < TES_GPEX_NUM_IRQS; i++) {
        g->intx[i] = H->irq_new(intx_in, g, i);
    }
    H->pci_bus_set_irqs(g->bus, map_irq, g, g->intx, TES_GPEX_NUM_IRQS);
    if (!H->dev_create(dev, g->bus, "gpex-root", "addr=00.0")) {
        return -ENODEV;
    }
    gpex_iface_register(); /* a harness may have dropped the interfaces */
    return 0;
}

/* ---- the interface for boards (<tessera/gpex.h>) ---- */

static gpex *of(tes_device *dev)
{
    if (!dev || strcmp(H->dev_type(dev), gpex_type.name) != 0) {
        return NULL;
    }
    return H->dev_state(dev);
}

static tes_region *if_ecam(tes_device *dev)
{
    gpex *g = of(dev);
    return g ? g->ecam : NULL;
}

static tes_region *if_mmio(tes_device *dev)
{
    gpex *g = of(dev);
    return g ? g->mmio : NULL;
}

static tes_region *if_mmio_window(tes_device *dev, uint64_t pci_addr, uint64_t size)
{
    gpex *g = of(dev);
    char name[40];

    if (!g || size == 0) {
        return NULL;
    }
    snprintf(name, sizeof(name), "pcie-mmio-window%u", ++g->windows);
    return H->region_new_alias(dev, name, g->mem, pci_addr, size);
}

static tes_region *if_pio(tes_device *dev)
{
    gpex *g = of(dev);
    return g ? g->pio : NULL;
}

static tes_bus *if_root_bus(tes_device *dev)
{
    gpex *g = of(dev);
    return g ? g->bus : NULL;
}

static void if_connect_intx(tes_device *dev, unsigned idx, tes_irq *irq)
{
    if (of(dev) && idx < TES_GPEX_NUM_IRQS) {
        H->dev_connect_irq(dev, idx, irq);
    }
}

static const tes_gpex_iface gpex_iface = {
    .size = sizeof(tes_gpex_iface),
    .ecam = if_ecam,
    .mmio = if_mmio,
    .mmio_window = if_mmio_window,
    .pio = if_pio,
    .root_bus = if_root_bus,
    .connect_intx = if_connect_intx,
};

void gpex_iface_register(void)
{
    /* -EEXIST when already there: fine. */
    H->iface_register(TES_GPEX_IFACE, TES_GPEX_IFACE_VERSION, &gpex_iface);
}

/* ---- type tables ---- */

static const tes_prop_info gpex_props[] = {
    TES_PROP("ecam-buses", TES_PROP_U32, gpex, ecam_buses, "16", 1, 256,
             "buses the ECAM region decodes (1 MiB each)"),
    TES_PROP("mmio-base", TES_PROP_U64, gpex, mmio_base, "0x10000000", 0, 0,
             "PCI address of the 32-bit memory window"),
    TES_PROP("mmio-size", TES_PROP_SIZE, gpex, mmio_size, "0x2eff0000", 0, 0,
             "size of the 32-bit memory window"),
    TES_PROP("pio-size", TES_PROP_SIZE, gpex, pio_size, "64K", 0, 0,
             "size of the PCI I/O window"),
    TES_PROP_END,
};

static const tes_state_field no_fields[] = {TES_FIELD_END};
static const tes_state_info no_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = no_fields,
};

const tes_type_info gpex_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "gpex-pcihost",
    .flags = TES_TYPE_NO_USER, /* created by its board or host bridge */
    .desc = "generic PCIe host bridge (ECAM, MMIO and PIO windows, 4 INTx)",
    .bus = TES_BUS_SYSTEM,
    .instance_size = sizeof(gpex),
    .props = gpex_props,
    .realize = gpex_realize,
    .state = &no_state,
};

static const tes_pci_info gpex_root_pci = {
    .size = sizeof(tes_pci_info),
    .vendor_id = 0x1b36,
    .device_id = 0x0008,
    .class_id = 0x0600, /* host bridge */
};

const tes_type_info gpex_root_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "gpex-root",
    .flags = TES_TYPE_NO_USER, /* created by its board or host bridge */
    .desc = "host bridge function of gpex-pcihost (created by it)",
    .bus = TES_BUS_PCI,
    .instance_size = sizeof(int),
    .state = &no_state,
    .class_info = &gpex_root_pci,
};
