/*
 * pcie: PCI Express ports and bridges, and the generic ECAM host bridge
 * (gpex.c), register-compatible with QEMU's devices of the same names so
 * that command lines and guest drivers (Linux pcieport, pciehp) carry over.
 *
 * User manual
 *
 *   -device pcie-root-port,id=ID[,bus=B][,addr=SLOT][,chassis=N][,slot=N][,port=N]
 *   -device ioh3420,id=ID[,...]          the same root port as Intel's X58
 *                                        IOH port 8086:3420 (QEMU's older one)
 *   -device x3130-upstream,id=ID,bus=ROOTPORT
 *   -device xio3130-downstream,id=ID,bus=UPSTREAM[,chassis=N][,slot=N][,port=N]
 *   -device pci-bridge,id=ID,chassis_nr=N[,msi=on|off][,bus=B][,addr=SLOT]
 *
 *   Every port and bridge has a secondary bus named after its id; devices
 *   go behind it with bus=ID.
 *
 *   chassis (u8, default 0), slot (u16 0..8191, default 0)
 *             the physical slot number in Slot Capabilities (PCIe 4.0,
 *             7.5.3.9); a non-zero (chassis, slot) pair must be unique.
 *   port      (u8, default 0) the port number in Link Capabilities.
 *   chassis_nr (u8, required > 0) pci-bridge's chassis in its Slot
 *             Identification capability (PCI-to-PCI Bridge 1.2, 13.1).
 *   msi       (bool, default on) pci-bridge offers one MSI vector.
 *   x-secondary-bus (string) pci-bridge's secondary bus name instead of
 *             its id (pxb names the bridge it puts on its bus so).
 *
 * pxb and pxb-pcie (PCI expander bridges) are in pxb.c.
 *
 * pcie-root-port 1b36:000c and xio3130-downstream 104c:8233 have a
 * hot-plug capable slot (attention button, power controller, indicators;
 * presence detect and data link layer active follow what sits behind the
 * port: the core keeps them). x3130-upstream is 104c:8232. Every port has
 * the PCIe, MSI (one vector, for the port services: PME, hot-plug, AER)
 * and power management capabilities and INTA#. pci-bridge 1b36:0001 is a
 * conventional PCI-to-PCI bridge (no SHPC yet: hot-plug comes later).
 * Bus numbers, windows, bridge control and INTx swizzle are the core's
 * type 1 header. State: all of it is config space, which the core migrates.
 */
#include <errno.h>
#include <string.h>

#include <tessera/gpex.h>
#include "pcie-int.h"
#include "pcie-trace.h"

#define REDHAT_VENDOR 0x1b36
#define INTEL_VENDOR 0x8086
#define TI_VENDOR 0x104c
#define CLASS_BRIDGE_PCI 0x0604

/* PCIe capability registers (PCIe Base 4.0, section 7.5.3). */
#define EXP_LNKCAP 0x0c
#define EXP_SLTCAP 0x14
#define LNKCAP_PORT_SHIFT 24
#define SLTCAP_PSN_SHIFT 19
#define SLTCAP_PSN_MAX 0x1fff
#define SLTCAP_HP_BITS 0x60 /* Hot-Plug Surprise, Hot-Plug Capable */

/* Slot Identification capability (PCI-to-PCI Bridge 1.2, 13.1). */
#define CAP_ID_SLOTID 0x04
#define SID_ESR 2
#define SID_CHASSIS 3
#define SID_ESR_FIC 0x20 /* first in chassis */

#define MAX_SLOTTED 256

const tes_host *H;
TES_TRACE_DEFINE(PCIE_TRACE)

typedef struct port {
    tes_device *dev;
    tes_bus *sec;
    uint8_t chassis, port_nr;
    uint16_t slot;
    bool msi;
    bool hotplug; /* the slot is hot-plug capable (QEMU's hotplug=) */
    bool slotted; /* registered in slotted[] */
    char *secbus; /* pci-bridge x-secondary-bus= */
} port;

/* Ports with a (chassis, slot) pair, to refuse duplicates as QEMU does. */
static port *slotted[MAX_SLOTTED];

static bool slot_claim(port *p)
{
    int free_i = -1;

    if (p->slot == 0 && p->chassis == 0) {
        return true; /* unnumbered: nothing to collide with */
    }
    for (int i = 0; i < MAX_SLOTTED; i++) {
        port *o = slotted[i];
        if (o && o->chassis == p->chassis && o->slot == p->slot) {
            H->error(p->dev, "chassis %u slot %u is already taken by %s", p->chassis, p->slot,
                     H->dev_id(o->dev));
            return false;
        }
        if (!o && free_i < 0) {
            free_i = i;
        }
    }
    if (free_i < 0) {
        H->error(p->dev, "more than %d numbered slots", MAX_SLOTTED);
        return false;
    }
    slotted[free_i] = p;
    p->slotted = true;
    return true;
}

static void slot_release(port *p)
{
    for (int i = 0; p->slotted && i < MAX_SLOTTED; i++) {
        if (slotted[i] == p) {
            slotted[i] = NULL;
        }
    }
    p->slotted = false;
}

/* Port number in Link Capabilities, physical slot in Slot Capabilities. */
static void exp_numbers(port *p, int exp, bool has_slot)
{
    uint8_t *c = H->pci_config(p->dev) + exp;

    st32(c + EXP_LNKCAP, (ld32(c + EXP_LNKCAP) & 0x00ffffff) |
                             (uint32_t)p->port_nr << LNKCAP_PORT_SHIFT);
    if (has_slot) {
        st32(c + EXP_SLTCAP, (ld32(c + EXP_SLTCAP) & ((1u << SLTCAP_PSN_SHIFT) - 1)) |
                                 (uint32_t)p->slot << SLTCAP_PSN_SHIFT);
        if (!p->hotplug) {
            /* hotplug=off: no Hot-Plug Capable / Surprise bits, so the
             * core neither adds nor removes devices through this slot. */
            st32(c + EXP_SLTCAP, ld32(c + EXP_SLTCAP) & ~SLTCAP_HP_BITS);
        }
    }
}

/* The secondary bus, named after the device's id. */
static int secondary_bus(port *p)
{
    const char *name = p->secbus && *p->secbus ? p->secbus : H->dev_id(p->dev);

    p->sec = H->pci_bridge_bus_new(p->dev, name);
    if (!p->sec) {
        H->error(p->dev, "cannot create secondary bus '%s' (bus name taken?)", name);
        return -EEXIST;
    }
    return 0;
}

/* PCIe capability, one MSI vector for port services, power management. */
static int express_port_init(port *p, uint8_t type, bool has_slot)
{
    int exp, ret;

    if (has_slot && p->slot > SLTCAP_PSN_MAX) {
        H->error(p->dev, "property 'slot' wants 0..%u, got %u", SLTCAP_PSN_MAX, p->slot);
        return -EINVAL;
    }
    if (has_slot && !slot_claim(p)) {
        return -EBUSY;
    }
    trace_pcie_port_init(H->dev_id(p->dev), H->dev_type(p->dev), p->chassis, p->slot);
    exp = H->pci_pcie_cap_init(p->dev, 0, type);
    if (exp < 0) {
        H->error(p->dev, "cannot add the PCIe capability: %s", strerror(-exp));
        return exp;
    }
    exp_numbers(p, exp, has_slot);
    ret = H->pci_msi_init(p->dev, 0, 1, true, true);
    if (ret >= 0) {
        ret = H->pci_pm_init(p->dev, 0);
    }
    if (ret < 0) {
        H->error(p->dev, "cannot add the MSI/PM capabilities: %s", strerror(-ret));
        return ret;
    }
    return secondary_bus(p);
}

static int root_port_realize(tes_device *dev, void *s)
{
    port *p = s;

    p->dev = dev;
    return express_port_init(p, TES_PCIE_TYPE_ROOT_PORT, true);
}

static int upstream_realize(tes_device *dev, void *s)
{
    port *p = s;

    p->dev = dev;
    return express_port_init(p, TES_PCIE_TYPE_UPSTREAM, false);
}

static int downstream_realize(tes_device *dev, void *s)
{
    port *p = s;

    p->dev = dev;
    return express_port_init(p, TES_PCIE_TYPE_DOWNSTREAM, true);
}

static int bridge_realize(tes_device *dev, void *s)
{
    port *p = s;
    uint8_t *c;
    int off;

    p->dev = dev;
    if (p->chassis == 0) {
        /* QEMU's rule: the Slot ID capability needs a chassis. */
        H->error(dev, "property 'chassis_nr' wants a unique chassis id > 0");
        return -EINVAL;
    }
    off = H->pci_add_cap(dev, CAP_ID_SLOTID, 0, 4);
    if (off < 0 || (p->msi && H->pci_msi_init(dev, 0, 1, true, true) < 0)) {
        H->error(dev, "cannot add the Slot ID/MSI capabilities");
        return -ENOSPC;
    }
    c = H->pci_config(dev);
    c[off + SID_ESR] = SID_ESR_FIC; /* no expansion slots described */
    c[off + SID_CHASSIS] = p->chassis;
    H->pci_wmask(dev)[off + SID_CHASSIS] = 0xff;
    trace_pci_bridge_init(H->dev_id(dev), p->chassis, p->msi);
    return secondary_bus(p);
}

static void port_unrealize(tes_device *dev, void *s)
{
    slot_release(s);
}

/* ---- type tables ---- */

static const tes_prop_info express_props[] = {
    TES_PROP("chassis", TES_PROP_U8, port, chassis, "0", 0, 0, "chassis number"),
    TES_PROP("slot", TES_PROP_U16, port, slot, "0", 0, SLTCAP_PSN_MAX,
             "physical slot number (Slot Capabilities)"),
    TES_PROP("hotplug", TES_PROP_BOOL, port, hotplug, "on", 0, 0,
             "the slot is hot-plug capable (off: devices stay until reset)"),
    TES_PROP("port", TES_PROP_U8, port, port_nr, "0", 0, 0,
             "port number (Link Capabilities)"),
    TES_PROP_END,
};

static const tes_prop_info bridge_props[] = {
    TES_PROP("chassis_nr", TES_PROP_U8, port, chassis, "0", 0, 0,
             "chassis number in the Slot ID capability, unique, > 0"),
    TES_PROP("msi", TES_PROP_BOOL, port, msi, "on", 0, 0, "offer one MSI vector"),
    TES_PROP("x-secondary-bus", TES_PROP_STRING, port, secbus, NULL, 0, 0,
             "name of the secondary bus (default: the id; pxb sets it)"),
    TES_PROP_END,
};

/* All the state is config space, which the core migrates itself. */
static const tes_state_field no_fields[] = {TES_FIELD_END};
static const tes_state_info port_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = no_fields,
};

#define BRIDGE_PCI(vendor, device)                                                       \
    {                                                                                    \
        .size = sizeof(tes_pci_info), .vendor_id = (vendor), .device_id = (device),      \
        .class_id = CLASS_BRIDGE_PCI, .header_type = 1, .irq_pin = 1,                    \
    }

static const tes_pci_info root_port_pci = BRIDGE_PCI(REDHAT_VENDOR, 0x000c);
static const tes_pci_info ioh3420_pci = {
    .size = sizeof(tes_pci_info), .vendor_id = INTEL_VENDOR, .device_id = 0x3420,
    .revision = 0x02, .class_id = CLASS_BRIDGE_PCI, .header_type = 1, .irq_pin = 1,
};
static const tes_pci_info upstream_pci = BRIDGE_PCI(TI_VENDOR, 0x8232);
static const tes_pci_info downstream_pci = BRIDGE_PCI(TI_VENDOR, 0x8233);
static const tes_pci_info bridge_pci = BRIDGE_PCI(REDHAT_VENDOR, 0x0001);

#define PORT_TYPE(nm, dsc, rlz, prp, pci)                                                \
    {                                                                                    \
        .size = sizeof(tes_type_info), .kind = TES_KIND_DEVICE, .name = (nm),            \
        .desc = (dsc), .bus = TES_BUS_PCI, .instance_size = sizeof(port),                \
        .props = (prp), .realize = (rlz), .unrealize = port_unrealize,                   \
        .state = &port_state, .class_info = (pci),                                       \
    }

static const tes_type_info root_port_type =
    PORT_TYPE("pcie-root-port", "PCI Express root port (hot-plug capable slot)",
              root_port_realize, express_props, &root_port_pci);
static const tes_type_info ioh3420_type =
    PORT_TYPE("ioh3420", "Intel X58 IOH PCI Express root port (as pcie-root-port)",
              root_port_realize, express_props, &ioh3420_pci);
static const tes_type_info upstream_type =
    PORT_TYPE("x3130-upstream", "TI X3130 PCI Express switch upstream port", upstream_realize,
              NULL, &upstream_pci);
static const tes_type_info downstream_type =
    PORT_TYPE("xio3130-downstream", "TI X3130 PCI Express switch downstream port",
              downstream_realize, express_props, &downstream_pci);
static const tes_type_info bridge_type =
    PORT_TYPE("pci-bridge", "PCI-to-PCI bridge", bridge_realize, bridge_props, &bridge_pci);

static int pcie_plugin_init(const tes_host *host)
{
    H = host;
    gpex_iface_register();
    pxb_iface_register();
    return TES_TRACE_REGISTER(host);
}

static const tes_type_info *const pcie_types[] = {
    &root_port_type, &ioh3420_type, &upstream_type, &downstream_type, &bridge_type,
    &gpex_type,      &gpex_root_type, &pxb_type,       &pxb_pcie_type,  NULL,
};

TES_PLUGIN_DEFINE(.name = "pcie", .version = "0.1.0", .license = "MIT",
                  .desc = "PCIe root and switch ports, PCI bridge, generic ECAM host bridge, "
                          "PCI expander bridges",
                  .types = pcie_types, .init = pcie_plugin_init);
