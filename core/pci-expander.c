/*
 * tessera core: PCI expander bridges (QEMU's pxb and pxb-pcie).
 *
 * An expander is a function on a root bus (the pxb device, a host bridge
 * by class) that brings another root bus with a number of its own,
 * bus_nr. Firmware describes it as one more host bridge (ACPI: a PNP0A03
 * or PNP0A08 device with _BBN = bus_nr; a device tree: one more ECAM
 * host node), but the hardware is the main host bridge's: its config
 * cycles for buses bus_nr up to the next expander's bus_nr reach the
 * expander's bus (then its bridges, as numbered), its BARs map where the
 * main root bus's do, and its INTx goes through the pxb function as
 * through a bridge (the pin rotated by the device's slot).
 */
#include <errno.h>

#include "pci-internal.h"

struct pci_bus *pci_root_route(struct pci_bus *root, unsigned busnr)
{
    struct pci_bus *best = NULL;

    /* The expander with the highest bus_nr at or below busnr owns it. */
    for (unsigned i = 0; i < root->nexps; i++) {
        struct pci_bus *e = root->exps[i];

        if (e->root_nr <= busnr && (!best || e->root_nr > best->root_nr)) {
            best = e;
        }
    }
    return pci_route_bus(best ? best : root, busnr, 0);
}

void pci_expander_free(struct pci_bus *b)
{
    struct pci_bus *root = b->expander ? b->expander->bus : NULL;

    for (unsigned i = 0; root && i < root->nexps; i++) {
        if (root->exps[i] == b) {
            root->exps[i] = root->exps[--root->nexps];
            break;
        }
    }
    b->expander = NULL;
}

static bool expander_nr_ok(tes_device *dev, struct pci_bus *root, unsigned bus_nr)
{
    if (bus_nr == 0) {
        core_set_error(&dev->error, "bus_nr 0 is the main root bus's; choose 1..255");
        return false;
    }
    if (root->nexps == PCI_MAX_EXPANDERS) {
        core_set_error(&dev->error, "more than %d expander bridges", PCI_MAX_EXPANDERS);
        return false;
    }
    for (unsigned i = 0; i < root->nexps; i++) {
        if (root->exps[i]->root_nr == bus_nr) {
            core_set_error(&dev->error, "bus_nr %u is taken by %s", bus_nr,
                           pci_dev_name(root->exps[i]->expander->dev));
            return false;
        }
    }
    return true;
}

tes_bus *pci_expander_bus_new(tes_device *dev, const char *name, uint8_t bus_nr)
{
    struct pci_function *f = dev ? dev->pci : NULL;
    struct pci_bus *root = f ? f->bus : NULL;
    tes_bus *bus;

    if (!root || !name) {
        return NULL;
    }
    if (root->bridge || root->expander) {
        core_set_error(&dev->error, "an expander bridge goes on the main root bus, not %s",
                       root->bus->name);
        return NULL;
    }
    if (!expander_nr_ok(dev, root, bus_nr)) {
        return NULL;
    }
    bus = pci_root_bus_new(dev, name, root->mem, root->io);
    if (!bus) {
        core_set_error(&dev->error, "cannot create bus '%s' (name taken?)", name);
        return NULL;
    }
    bus->pci->root_nr = bus_nr;
    bus->pci->expander = f;
    root->exps[root->nexps++] = bus->pci;
    return bus;
}
