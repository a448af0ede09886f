/*
 * tessera core: PCI model internals shared by pci.c (config space, buses,
 * BARs, bridges, INTx, capability lists, info, state) and pci-msi.c (MSI,
 * MSI-X, power management and PCIe capabilities). Nothing outside these two
 * files includes this header: struct pci_function and struct pci_bus stay
 * opaque to the rest of the core.
 */
#ifndef TESSERA_PCI_INTERNAL_H
#define TESSERA_PCI_INTERNAL_H

#include "core.h"

#define PCI_CONFIG_SIZE 256
#define PCIE_CONFIG_SIZE 4096
#define PCI_NUM_BARS 6
#define PCI_BAR_UNMAPPED UINT64_MAX
#define PCIE_EXP_SLTCTL 0x18
#define PCI_MAX_EXPANDERS 16 /* Slot Control in the PCIe capability */

typedef struct pci_bar {
    tes_region *r;     /* NULL: BAR not registered */
    unsigned flags;    /* TES_PCI_BAR_* */
    uint64_t size;
    uint64_t addr;     /* where r is mapped, PCI_BAR_UNMAPPED if not */
    tes_region *space; /* container it is mapped in */
} pci_bar;

struct pci_function {
    tes_device *dev;
    struct pci_bus *bus;
    uint8_t devfn;
    uint32_t config_size; /* 256, or 4096 once a PCIe capability exists */
    uint8_t config[PCIE_CONFIG_SIZE];
    uint8_t wmask[PCIE_CONFIG_SIZE];
    uint8_t w1cmask[PCIE_CONFIG_SIZE];
    uint8_t used[PCIE_CONFIG_SIZE]; /* bytes taken by header and capabilities */
    pci_bar bars[PCI_NUM_BARS];
    struct pci_bus *secondary; /* type 1 with pci_bridge_bus_new() */

    bool intx_level; /* as the device drives it */
    bool intx_sent;  /* asserted towards the parent bus */

    uint8_t msi_off, msix_off, pm_off, pcie_off;
    /* Hot-plug slot (pcie-slot.c): an event is pending towards the guest
     * (the MSI went), the guest wrote Slot Control since reset. */
    bool hp_pending;
    bool slot_touched;
    uint16_t ext_last; /* last extended capability, 0 none */
    unsigned msix_nvec;
    uint8_t *msix_table; /* msix_nvec * 16 bytes, little endian */
    uint8_t *msix_pba;   /* msix_pba_size bytes */
    uint32_t msix_pba_size;
    tes_region *msix_table_r, *msix_pba_r, *msix_bar_r;
};

struct pci_bus {
    tes_bus *bus;
    struct pci_function *bridge; /* NULL on a root bus */
    struct pci_bus *parent;      /* NULL on a root bus */
    tes_region *mem, *io;        /* where BARs of devices on it map */
    struct pci_function *devs[256];

    /* Root bus INTx routing (pci_bus_set_irqs). */
    tes_pci_map_irq map_irq;
    void *irq_opaque;
    tes_irq **irqs;
    unsigned nirqs;
    int *irq_count; /* per line: asserted sources */

    /* PCI expander bridges (pci-expander.c): an expander's root bus has
     * the number bus_nr and the pxb function on its parent root bus as
     * expander; that parent root lists its expanders by bus_nr. */
    uint8_t root_nr;
    struct pci_function *expander;
    struct pci_bus *exps[PCI_MAX_EXPANDERS];
    unsigned nexps;

    /* Bridge windows into the parent's mem/io (PCI-to-PCI Bridge 1.2,
     * section 3.2.5): aliases of mem/io, NULL while closed. */
    tes_region *win_io, *win_mem, *win_pref;
};

/* pci.c */
static inline uint16_t cfg_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t cfg_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void cfg_set16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void cfg_set32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

const char *pci_dev_name(tes_device *dev);
/* Called by pci_pcie_cap_init: space grows to 4 KiB. */
void pci_set_express(struct pci_function *f);
/* A device appeared on or left a port's secondary bus. */
void pcie_port_update_presence(struct pci_function *bridge);

/* A type 1 cycle's bus below b (bridges as numbered), NULL if none. */
struct pci_bus *pci_route_bus(struct pci_bus *b, unsigned busnr, unsigned depth);

/* pci-expander.c: the bus a host bridge's cycle for busnr reaches, from
 * its root bus through expanders and bridges; an expander's bus going. */
struct pci_bus *pci_root_route(struct pci_bus *root, unsigned busnr);
void pci_expander_free(struct pci_bus *b);

/* pci-msi.c */
void msi_config_written(struct pci_function *f, uint32_t off, unsigned len);
void msix_config_written(struct pci_function *f, uint32_t off, unsigned len);
void pm_config_written(struct pci_function *f, uint32_t off, unsigned len, uint8_t old_state);
void msi_reset(struct pci_function *f);
void msix_reset(struct pci_function *f);
void msix_free(struct pci_function *f);
void pcie_reset(struct pci_function *f);
bool pcie_has_slot(const struct pci_function *f); /* root or downstream port */

/* pcie-slot.c */
void pcie_slot_reset(struct pci_function *f);
void pcie_slot_power_default(struct pci_function *f);
void pcie_slot_loaded(struct pci_function *f);
/* A config write that touched [off, off + len); old_ctl: Slot Control
 * before it. */
void pcie_slot_written(struct pci_function *f, uint32_t off, unsigned len, uint16_t old_ctl);

/* pci.c: QEMU's name of a class (base << 8 | sub), NULL when unknown. */
const char *pci_class_name(uint16_t cls);

#endif
