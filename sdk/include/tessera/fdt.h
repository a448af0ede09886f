/*
 * tessera SDK: device tree nodes from devices that are not the board's own
 * (interface "fdt", SDK 1.5, needs no newer core).
 *
 * A board that generates a flattened device tree (virt) describes its own
 * devices; some devices created with -device need a node of their own or
 * a property on a board node: a paravirtual IOMMU on a PCI function (the
 * node for its function under the host bridge, and the bridge's
 * iommu-map pointing the other requester ids at it). Such a board
 * registers this interface with host->iface_register(TES_FDT_IFACE,
 * TES_FDT_IFACE_VERSION, &table) in its init, before any -device is
 * created; a device looks it up in realize and hands over nodes and
 * properties, which the board keeps and writes when it builds the tree
 * (after every device exists). A user's -dtb replaces the generated tree,
 * additions included.
 *
 * It is an interface between plugins (host->iface_lookup, SDK 1.0), the
 * same way as "acpi" (acpi.h): no host table entry, so it works with any
 * core that loads the board.
 */
#ifndef TESSERA_FDT_H
#define TESSERA_FDT_H

#include <stddef.h>
#include <tessera/types.h>

#define TES_FDT_IFACE "fdt"
#define TES_FDT_IFACE_VERSION 1

/* One property: len bytes as they go into the blob (cells big-endian,
 * strings with their NULs). Copied by the board. */
typedef struct tes_fdt_prop {
    const char *name;
    const void *val;
    uint32_t len;
} tes_fdt_prop;

typedef struct tes_fdt_iface {
    uint32_t size; /* sizeof(tes_fdt_iface) */
    /*
     * The root bus of the PCI host bridge the tree describes (the "pcie"
     * node of virt), NULL when the board has none.
     */
    tes_bus *(*pci_root)(void);
    /* A phandle no other node of the tree has; 0 when none is left. */
    uint32_t (*alloc_phandle)(void);
    /*
     * Add a node name ("virtio_iommu@1,0") below the node that describes
     * bus (the host bridge's for its root bus; NULL: the root node), with
     * nprops properties. Returns 0, -EEXIST (a node of that name is
     * there), -ENOSPC (the board keeps no more) or -EINVAL (no node
     * describes bus, bad name or property).
     */
    int (*add_node)(tes_bus *bus, const char *name, const tes_fdt_prop *props,
                    unsigned nprops);
    /*
     * Add a property to the node that describes bus (NULL: the root
     * node). Returns 0, -EEXIST (the node has that property already: the
     * board's own, or one added before; e.g. iommu-map when the machine
     * has an IOMMU of its own), -ENOSPC or -EINVAL.
     */
    int (*add_prop)(tes_bus *bus, const tes_fdt_prop *prop);
} tes_fdt_iface;

#endif
