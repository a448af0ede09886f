/*
 * tessera SDK: the interface the PCI expander bridges of plugins/pcie (pxb,
 * pxb-pcie) offer board plugins, so that firmware tables describe each as
 * one more host bridge; installed as <tessera/pxb.h>.
 *
 *   const tes_pxb_iface *x = H->iface_lookup(TES_PXB_IFACE, TES_PXB_IFACE_VERSION);
 *   tes_pxb_info in = {.size = sizeof(in)};
 *   for (unsigned i = 0; x && x->get(root_bus, i, &in); i++) {
 *       ... a host bridge for buses in.bus_nr..in.last_bus, _PXM in.numa_node
 *   }
 *
 * The main root bus keeps buses 0..(the first bus_nr - 1). Plain C,
 * size-prefixed; new entries go at the end with a version bump.
 */
#ifndef TESSERA_PXB_H
#define TESSERA_PXB_H

#include <tessera/tessera.h>

#define TES_PXB_IFACE "pxb"
#define TES_PXB_IFACE_VERSION 1

typedef struct tes_pxb_info {
    uint32_t size;     /* the caller's sizeof(tes_pxb_info) */
    uint8_t bus_nr;    /* its root bus's number */
    uint8_t last_bus;  /* its range ends here: the next expander's bus_nr - 1, or 255 */
    uint8_t devfn;     /* the expander function on the main root bus */
    bool pcie;         /* pxb-pcie: a PCI Express root bus (ACPI PNP0A08) */
    int32_t numa_node; /* numa_node=, -1 when not given */
    tes_device *dev;
} tes_pxb_info;

typedef struct tes_pxb_iface {
    uint32_t size; /* sizeof(tes_pxb_iface) */
    /* The i-th expander on the main root bus root, by ascending bus_nr:
     * true with *out filled (up to out->size bytes), false past the end. */
    bool (*get)(tes_bus *root, unsigned i, tes_pxb_info *out);
} tes_pxb_iface;

#endif
