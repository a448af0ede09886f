/*
 * tessera core: QMP query-pci, in QEMU's shape (qapi/pci.json): one entry
 * per root bus with its devices; a bridge carries its windows and the
 * devices behind it under "pci_bridge".
 */
#include <json-glib/json-glib.h>

#include "core.h"
#include "pci-internal.h"

#define PCI_SLOT(devfn) ((devfn) >> 3)
#define PCI_FUNC(devfn) ((devfn) & 7)

static unsigned query_bus_number(const struct pci_bus *b)
{
    return b->bridge ? b->bridge->config[TES_PCI_SECONDARY_BUS] : b->root_nr;
}

static bool query_is_bridge(const struct pci_function *f)
{
    return (f->config[TES_PCI_HEADER_TYPE] & 0x7f) == 1;
}

static JsonObject *bar_json(unsigned i, const pci_bar *b)
{
    JsonObject *o = json_object_new();
    bool io = b->flags & TES_PCI_BAR_IO;

    json_object_set_int_member(o, "bar", i);
    json_object_set_string_member(o, "type", io ? "io" : "memory");
    /* QEMU reports -1 (as unsigned) for an unmapped BAR. */
    json_object_set_int_member(o, "address", (gint64)b->addr);
    json_object_set_int_member(o, "size", (gint64)b->size);
    if (!io) {
        json_object_set_boolean_member(o, "prefetch", (b->flags & TES_PCI_BAR_PREFETCH) != 0);
        json_object_set_boolean_member(o, "mem_type_64", (b->flags & TES_PCI_BAR_MEM64) != 0);
    }
    return o;
}

static JsonObject *range_json(uint64_t base, uint64_t limit)
{
    JsonObject *o = json_object_new();

    json_object_set_int_member(o, "base", (gint64)base);
    json_object_set_int_member(o, "limit", (gint64)limit);
    return o;
}

static JsonArray *devices_json(const struct pci_bus *b);

static JsonObject *bridge_json(const struct pci_function *f)
{
    const uint8_t *c = f->config;
    JsonObject *br = json_object_new(), *bus = json_object_new();
    uint64_t io_base = (uint64_t)(c[0x1c] & 0xf0) << 8, io_limit = (uint64_t)(c[0x1d] & 0xf0) << 8;
    uint64_t mem_base = (uint64_t)(cfg_get16(c + 0x20) & 0xfff0) << 16;
    uint64_t mem_limit = (uint64_t)(cfg_get16(c + 0x22) & 0xfff0) << 16 | 0xfffff;
    uint64_t pf_base = (uint64_t)(cfg_get16(c + 0x24) & 0xfff0) << 16;
    uint64_t pf_limit = (uint64_t)(cfg_get16(c + 0x26) & 0xfff0) << 16 | 0xfffff;

    pf_base |= (uint64_t)cfg_get32(c + 0x28) << 32;
    pf_limit |= (uint64_t)cfg_get32(c + 0x2c) << 32;
    json_object_set_int_member(bus, "number", c[TES_PCI_PRIMARY_BUS]);
    json_object_set_int_member(bus, "secondary", c[TES_PCI_SECONDARY_BUS]);
    json_object_set_int_member(bus, "subordinate", c[TES_PCI_SUBORDINATE_BUS]);
    json_object_set_object_member(bus, "io_range", range_json(io_base, io_limit | 0xfff));
    json_object_set_object_member(bus, "memory_range", range_json(mem_base, mem_limit));
    json_object_set_object_member(bus, "prefetchable_range", range_json(pf_base, pf_limit));
    json_object_set_object_member(br, "bus", bus);
    if (f->secondary) {
        json_object_set_array_member(br, "devices", devices_json(f->secondary));
    }
    return br;
}

static JsonObject *ids_json(const uint8_t *c, bool bridge)
{
    JsonObject *id = json_object_new();

    json_object_set_int_member(id, "device", cfg_get16(c + TES_PCI_DEVICE_ID));
    json_object_set_int_member(id, "vendor", cfg_get16(c + TES_PCI_VENDOR_ID));
    if (!bridge) {
        json_object_set_int_member(id, "subsystem", cfg_get16(c + TES_PCI_SUBSYSTEM_ID));
        json_object_set_int_member(id, "subsystem-vendor",
                                   cfg_get16(c + TES_PCI_SUBSYSTEM_VENDOR_ID));
    }
    return id;
}

static JsonObject *function_json(const struct pci_function *f, unsigned busnr)
{
    const uint8_t *c = f->config;
    JsonObject *o = json_object_new(), *cls = json_object_new();
    uint16_t class = cfg_get16(c + TES_PCI_CLASS_DEVICE);
    JsonArray *regions = json_array_new();
    unsigned nbars = query_is_bridge(f) ? 2 : PCI_NUM_BARS;

    json_object_set_int_member(o, "bus", busnr);
    json_object_set_int_member(o, "slot", PCI_SLOT(f->devfn));
    json_object_set_int_member(o, "function", PCI_FUNC(f->devfn));
    if (pci_class_name(class)) {
        json_object_set_string_member(cls, "desc", pci_class_name(class));
    }
    json_object_set_int_member(cls, "class", class);
    json_object_set_object_member(o, "class_info", cls);
    json_object_set_object_member(o, "id", ids_json(c, query_is_bridge(f)));
    if (c[TES_PCI_INTERRUPT_PIN]) {
        json_object_set_int_member(o, "irq", c[TES_PCI_INTERRUPT_LINE]);
    }
    json_object_set_int_member(o, "irq_pin", c[TES_PCI_INTERRUPT_PIN]);
    json_object_set_string_member(o, "qdev_id", f->dev->id ? f->dev->id : "");
    if (query_is_bridge(f)) {
        json_object_set_object_member(o, "pci_bridge", bridge_json(f));
    }
    for (unsigned i = 0; i < nbars; i++) {
        if (f->bars[i].r) {
            json_array_add_object_element(regions, bar_json(i, &f->bars[i]));
        }
    }
    json_object_set_array_member(o, "regions", regions);
    return o;
}

static JsonArray *devices_json(const struct pci_bus *b)
{
    JsonArray *a = json_array_new();

    for (unsigned i = 0; i < 256; i++) {
        if (b->devs[i]) {
            json_array_add_object_element(a, function_json(b->devs[i], query_bus_number(b)));
        }
    }
    return a;
}

static void collect_roots(tes_device *dev, void *opaque)
{
    GPtrArray *roots = opaque;
    struct pci_bus *b;

    if (!dev->pci) {
        return;
    }
    for (b = dev->pci->bus; b->parent; b = b->parent) {
    }
    if (!g_ptr_array_find(roots, b, NULL)) {
        g_ptr_array_add(roots, b);
    }
}

/* The "return" array of query-pci. */
JsonArray *pci_query(void)
{
    GPtrArray *roots = g_ptr_array_new();
    JsonArray *a = json_array_new();

    devices_foreach(collect_roots, roots);
    for (guint i = 0; i < roots->len; i++) {
        struct pci_bus *b = g_ptr_array_index(roots, i);
        JsonObject *o = json_object_new();

        json_object_set_int_member(o, "bus", query_bus_number(b));
        json_object_set_array_member(o, "devices", devices_json(b));
        json_array_add_object_element(a, o);
    }
    g_ptr_array_free(roots, TRUE);
    return a;
}
