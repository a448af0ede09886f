/*
 * pxb, pxb-pcie: PCI expander bridges, as QEMU's
 * (hw/pci-bridge/pci_expander_bridge.c): one more host bridge on the same
 * chipset, with a root bus of its own numbered bus_nr, so that devices can
 * sit on another NUMA node's host bridge.
 *
 * User manual
 *
 *   -device pxb,id=ID,bus_nr=N[,numa_node=M][,bus=pci.0][,addr=SLOT]     (pc)
 *   -device pxb-pcie,id=ID,bus_nr=N[,numa_node=M][,bus=pcie.0][,addr=SLOT]
 *                                                               (q35, virt)
 *
 *   bus_nr    (u8, 1..255, required, unique) the new root bus's number;
 *             the main host bridge keeps the buses below the first
 *             expander's, each expander those up to the next one's.
 *   numa_node (u16, default none) the node firmware names for it (ACPI
 *             _PXM, device tree numa-node-id): Linux gives the devices
 *             behind it that numa_node. It must be below the number of
 *             -numa nodes (QEMU's "Illegal numa node N").
 *
 * pxb-pcie: the root bus is named ID (a PCIe root bus: root ports such as
 * ioh3420 go on it, bus=ID). pxb: the root bus holds a pci-bridge at 00.0
 * (chassis_nr = bus_nr, as QEMU's) whose secondary bus, bus_nr + 1, is
 * named ID: -device e1000,bus=ID,addr=0x3.
 *
 * The expander function itself sits on the main root bus as a host bridge
 * (class 0600, 1b36:0009 pxb, 1b36:000b pxb-pcie) with no BARs; the core
 * routes config cycles, BARs and INTx (pci_expander_bus_new). Boards
 * describe each expander as a host bridge through the "pxb" interface
 * (tessera/pxb.h). State: config space, which the core migrates.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <tessera/machine.h>
#include <tessera/pxb.h>
#include "pcie-int.h"
#include "pcie-trace.h"

#define PXB_MAX 16
#define NUMA_NONE 0xffff

typedef struct pxb {
    tes_device *dev;
    tes_bus *root;  /* the expander's root bus */
    uint8_t bus_nr;
    uint16_t numa_node;
    bool pcie;
} pxb;

static pxb *pxbs[PXB_MAX];

static bool pxb_list(pxb *x)
{
    for (unsigned i = 0; i < PXB_MAX; i++) {
        if (!pxbs[i]) {
            pxbs[i] = x;
            return true;
        }
    }
    return false;
}

static int pxb_check(pxb *x)
{
    const char *id = H->dev_id(x->dev);

    if (H->size < offsetof(tes_host, pci_expander_bus_new) + sizeof(void *)) {
        H->error(x->dev, "needs a tessera with SDK ABI 1.6 (PCI expander bridges)");
        return -ENOSYS;
    }
    if (x->bus_nr == 0) {
        H->error(x->dev, "property 'bus_nr' wants 1..255 (the new root bus's number)");
        return -EINVAL;
    }
    if (x->numa_node != NUMA_NONE && x->numa_node >= H->machine_topology()->nodes) {
        /* QEMU's words; without -numa there is no node at all. */
        H->error(x->dev, "Illegal numa node %u", x->numa_node);
        return -EINVAL;
    }
    if (!id || !*id || strchr(id, '.') == id) {
        H->error(x->dev, "needs id= (the name of its bus)");
        return -EINVAL;
    }
    return 0;
}

static int pxb_common(pxb *x, const char *root_name)
{
    int ret = pxb_check(x);

    if (ret) {
        return ret;
    }
    x->root = H->pci_expander_bus_new(x->dev, root_name, x->bus_nr);
    if (!x->root) {
        return -EINVAL; /* the core said why */
    }
    if (x->numa_node != NUMA_NONE && H->bus_set_numa_node(x->root, x->numa_node) < 0) {
        H->error(x->dev, "Illegal numa node %u", x->numa_node);
        return -EINVAL;
    }
    if (!pxb_list(x)) {
        H->error(x->dev, "more than %d expander bridges", PXB_MAX);
        return -ENOSPC;
    }
    trace_pxb_init(H->dev_id(x->dev), x->bus_nr, x->pcie);
    return 0;
}

static int pxb_pcie_realize(tes_device *dev, void *s)
{
    pxb *x = s;

    x->dev = dev;
    x->pcie = true;
    return pxb_common(x, H->dev_id(dev));
}

/* pxb: QEMU puts a pci-bridge at 00.0 of the new bus and gives it the
 * pxb's id; here the bridge's secondary bus takes that name. */
static int pxb_realize(tes_device *dev, void *s)
{
    pxb *x = s;
    char name[96], props[160];
    int ret;

    x->dev = dev;
    snprintf(name, sizeof(name), "%s-root", H->dev_id(dev) ? H->dev_id(dev) : "");
    ret = pxb_common(x, name);
    if (ret) {
        return ret;
    }
    snprintf(props, sizeof(props), "addr=00.0,chassis_nr=%u,x-secondary-bus=%s", x->bus_nr,
             H->dev_id(dev));
    if (!H->dev_create(dev, x->root, "pci-bridge", props)) {
        return -EINVAL;
    }
    return 0;
}

static void pxb_unrealize(tes_device *dev, void *s)
{
    for (unsigned i = 0; i < PXB_MAX; i++) {
        if (pxbs[i] == s) {
            pxbs[i] = NULL;
        }
    }
}

/* ---- the "pxb" interface (tessera/pxb.h) ---- */

static unsigned on_root(tes_bus *root, pxb **out)
{
    unsigned n = 0;

    for (unsigned i = 0; i < PXB_MAX; i++) {
        if (pxbs[i] && pxbs[i]->root && H->dev_bus(pxbs[i]->dev) == root) {
            unsigned j = n++;

            /* insertion sort by bus_nr */
            for (; j > 0 && out[j - 1]->bus_nr > pxbs[i]->bus_nr; j--) {
                out[j] = out[j - 1];
            }
            out[j] = pxbs[i];
        }
    }
    return n;
}

static bool iface_get(tes_bus *root, unsigned i, tes_pxb_info *out)
{
    pxb *list[PXB_MAX];
    unsigned n = on_root(root, list);
    tes_pxb_info in;

    if (!out || i >= n) {
        return false;
    }
    in = (tes_pxb_info){
        .size = sizeof(in),
        .bus_nr = list[i]->bus_nr,
        .last_bus = i + 1 < n ? list[i + 1]->bus_nr - 1 : 0xff,
        .devfn = (uint8_t)H->pci_requester_id(list[i]->dev),
        .pcie = list[i]->pcie,
        .numa_node = list[i]->numa_node == NUMA_NONE ? -1 : list[i]->numa_node,
        .dev = list[i]->dev,
    };
    memcpy(out, &in, out->size < sizeof(in) ? out->size : sizeof(in));
    out->size = out->size < sizeof(in) ? out->size : sizeof(in);
    return true;
}

static const tes_pxb_iface pxb_iface = {
    .size = sizeof(tes_pxb_iface),
    .get = iface_get,
};

void pxb_iface_register(void)
{
    H->iface_register(TES_PXB_IFACE, TES_PXB_IFACE_VERSION, &pxb_iface);
}

/* ---- type tables ---- */

static const tes_prop_info pxb_props[] = {
    TES_PROP("bus_nr", TES_PROP_U8, pxb, bus_nr, "0", 0, 0,
             "number of the new root bus (1..255, unique)"),
    TES_PROP("numa_node", TES_PROP_U16, pxb, numa_node, "65535", 0, 0,
             "NUMA node of the host bridge (ACPI _PXM, DT numa-node-id); 65535: none"),
    TES_PROP_END,
};

static const tes_state_field no_fields[] = {TES_FIELD_END};
static const tes_state_info pxb_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = no_fields,
};

static const tes_pci_info pxb_pci = {
    .size = sizeof(tes_pci_info), .vendor_id = 0x1b36, .device_id = 0x0009,
    .class_id = 0x0600,
};
static const tes_pci_info pxb_pcie_pci = {
    .size = sizeof(tes_pci_info), .vendor_id = 0x1b36, .device_id = 0x000b,
    .class_id = 0x0600,
};

const tes_type_info pxb_type = {
    .size = sizeof(tes_type_info), .kind = TES_KIND_DEVICE, .name = "pxb",
    .desc = "PCI expander bridge (a host bridge with its own root bus)",
    .bus = TES_BUS_PCI, .instance_size = sizeof(pxb), .props = pxb_props,
    .realize = pxb_realize, .unrealize = pxb_unrealize, .state = &pxb_state,
    .class_info = &pxb_pci,
};
const tes_type_info pxb_pcie_type = {
    .size = sizeof(tes_type_info), .kind = TES_KIND_DEVICE, .name = "pxb-pcie",
    .desc = "PCI Express expander bridge (a host bridge with its own PCIe root bus)",
    .bus = TES_BUS_PCI, .instance_size = sizeof(pxb), .props = pxb_props,
    .realize = pxb_pcie_realize, .unrealize = pxb_unrealize, .state = &pxb_state,
    .class_info = &pxb_pcie_pci,
};
