/*
 * board-virt: the "fdt" interface (tessera/fdt.h) through which devices
 * created with -device add nodes and properties to the generated device
 * tree: a virtio-iommu-pci's node under the pcie node and the pcie node's
 * iommu-map. The additions are kept here (one machine per process) and
 * virt-fdt.c writes them when it builds the tree, after every device
 * exists. Bounded: a few nodes and properties, each of limited size.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <tessera/fdt.h>
#include <tessera/tessera.h>

#include "virt.h"

/* Above the board's own (small numbers, cpu@N at 0x100 + N), as QEMU starts
 * its allocations at 0x8000. */
#define PHANDLE_FIRST 0x8000
#define PROP_MAX_LEN 1024

static virt_dt_extra extra;
static tes_bus *pcie_root;
static uint32_t next_phandle = PHANDLE_FIRST;

static tes_bus *dt_pci_root(void)
{
    return pcie_root;
}

static uint32_t dt_alloc_phandle(void)
{
    return next_phandle < 0xfffffff0u ? next_phandle++ : 0;
}

static bool name_ok(const char *name, size_t max)
{
    size_t n = name ? strlen(name) : 0;

    return n > 0 && n < max;
}

static int copy_prop(virt_dt_prop *dst, const tes_fdt_prop *p)
{
    if (!p || !name_ok(p->name, sizeof(dst->name)) || p->len > PROP_MAX_LEN ||
        (p->len && !p->val)) {
        return -EINVAL;
    }
    dst->val = malloc(p->len ? p->len : 1);
    if (!dst->val) {
        return -ENOMEM;
    }
    memcpy(dst->val, p->val, p->len);
    dst->len = p->len;
    strcpy(dst->name, p->name);
    return 0;
}

/* The node bus stands for: the pcie node for the host bridge's root bus,
 * the root node for NULL; false for any other bus. */
static bool which_node(tes_bus *bus, bool *pcie)
{
    *pcie = bus != NULL;
    return !bus || (pcie_root && bus == pcie_root);
}

static int dt_add_node(tes_bus *bus, const char *name, const tes_fdt_prop *props,
                       unsigned nprops)
{
    virt_dt_node *n;
    bool pcie;

    if (!which_node(bus, &pcie) || !name_ok(name, sizeof(n->name)) ||
        nprops > VIRT_DT_NODE_PROPS) {
        return -EINVAL;
    }
    for (unsigned i = 0; i < extra.nnodes; i++) {
        if (extra.nodes[i].pcie == pcie && !strcmp(extra.nodes[i].name, name)) {
            return -EEXIST;
        }
    }
    if (extra.nnodes >= VIRT_DT_NODES) {
        return -ENOSPC;
    }
    n = &extra.nodes[extra.nnodes];
    memset(n, 0, sizeof(*n));
    for (unsigned i = 0; i < nprops; i++) {
        int ret = copy_prop(&n->props[i], &props[i]);

        if (ret) {
            for (unsigned j = 0; j < i; j++) {
                free(n->props[j].val);
            }
            return ret;
        }
    }
    n->pcie = pcie;
    n->nprops = nprops;
    strcpy(n->name, name);
    extra.nnodes++;
    return 0;
}

static int dt_add_prop(tes_bus *bus, const tes_fdt_prop *prop)
{
    virt_dt_prop *list;
    unsigned *count;
    bool pcie;
    int ret;

    if (!prop || !prop->name || !which_node(bus, &pcie)) {
        return -EINVAL;
    }
    list = pcie ? extra.pcie_props : extra.root_props;
    count = pcie ? &extra.npcie : &extra.nroot;
    if (virt_fdt_board_prop(pcie, prop->name)) {
        return -EEXIST;
    }
    for (unsigned i = 0; i < *count; i++) {
        if (!strcmp(list[i].name, prop->name)) {
            return -EEXIST;
        }
    }
    if (*count >= VIRT_DT_PROPS) {
        return -ENOSPC;
    }
    ret = copy_prop(&list[*count], prop);
    if (!ret) {
        (*count)++;
    }
    return ret;
}

static const tes_fdt_iface dt_iface = {
    .size = sizeof(tes_fdt_iface),
    .pci_root = dt_pci_root,
    .alloc_phandle = dt_alloc_phandle,
    .add_node = dt_add_node,
    .add_prop = dt_add_prop,
};

static void free_props(virt_dt_prop *p, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        free(p[i].val);
    }
}

/* A process that builds a second machine (tests) starts from nothing;
 * registering again is harmless (-EEXIST, the same table). */
void virt_dtiface_register(const tes_host *host, tes_bus *root)
{
    for (unsigned i = 0; i < extra.nnodes; i++) {
        free_props(extra.nodes[i].props, extra.nodes[i].nprops);
    }
    free_props(extra.pcie_props, extra.npcie);
    free_props(extra.root_props, extra.nroot);
    memset(&extra, 0, sizeof(extra));
    next_phandle = PHANDLE_FIRST;
    pcie_root = root;
    host->iface_register(TES_FDT_IFACE, TES_FDT_IFACE_VERSION, &dt_iface);
}

const virt_dt_extra *virt_dtiface_extra(void)
{
    return &extra;
}
