/*
 * tessera core: the PCI/PCIe model.
 *
 * Config space of every function (256 bytes, 4 KiB once it has a PCIe
 * capability) with writable and write-1-to-clear masks, buses and the
 * config cycles a host bridge routes through PCI-to-PCI bridges, BAR sizing
 * and mapping as the guest programs the BARs and the command register,
 * bridge forwarding windows, INTx swizzling to the platform's lines,
 * capability lists, "info pci" and the core-owned migration state.
 * MSI, MSI-X, power management and the PCIe capability are in pci-msi.c.
 *
 * References: PCI Local Bus 3.0 (chapter 6, configuration space),
 * PCI-to-PCI Bridge Architecture 1.2 (chapter 3, type 1 header; section
 * 9.1, interrupt swizzling), PCI Express Base 4.0 (chapter 7).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "core-trace.h"
#include "pci-internal.h"

#define PCI_SLOT(devfn) ((devfn) >> 3)
#define PCI_FUNC(devfn) ((devfn) & 7)

/* Command bits the guest may write: I/O, memory, bus master, parity error
 * response, SERR# enable, interrupt disable (PCI 3.0, section 6.2.2). */
#define CMD_WMASK 0x0547
/* Status: master data parity error, signalled/received target abort,
 * received master abort, signalled system error, detected parity error
 * are RW1C (PCI 3.0, section 6.2.3). */
#define STATUS_W1C 0xf900
#define BRIDGE_CTL_WMASK 0x007f
#define BRIDGE_CTL_BUS_RESET 0x40

/* Type 1 header (PCI-to-PCI Bridge 1.2, section 3.2). */
#define PCI_IO_BASE 0x1c
#define PCI_IO_LIMIT 0x1d
#define PCI_SEC_STATUS 0x1e
#define PCI_MEM_BASE 0x20
#define PCI_MEM_LIMIT 0x22
#define PCI_PREF_BASE 0x24
#define PCI_PREF_LIMIT 0x26
#define PCI_PREF_BASE_UPPER 0x28
#define PCI_PREF_LIMIT_UPPER 0x2c
#define PCI_IO_BASE_UPPER 0x30
#define PCI_IO_LIMIT_UPPER 0x32

const char *pci_dev_name(tes_device *dev)
{
    if (dev->id) {
        return dev->id;
    }
    if (dev->name) {
        return dev->name;
    }
    return dev->type ? dev->type->name : "pci-device";
}

static struct pci_function *fn_of(tes_device *dev)
{
    return dev ? dev->pci : NULL;
}

static bool is_bridge(const struct pci_function *f)
{
    return (f->config[TES_PCI_HEADER_TYPE] & 0x7f) == 1;
}

static uint16_t command(const struct pci_function *f)
{
    return cfg_get16(f->config + TES_PCI_COMMAND);
}

static bool overlaps(uint32_t off, unsigned len, uint32_t start, uint32_t n)
{
    return off < start + n && start < off + len;
}

static const tes_pci_info *pci_info_of(tes_device *dev)
{
    const tes_pci_info *pi = dev->type ? dev->type->class_info : NULL;

    if (!pi || pi->size < offsetof(tes_pci_info, irq_pin) + sizeof(pi->irq_pin)) {
        return NULL;
    }
    return pi;
}

static unsigned bus_number(const struct pci_bus *b)
{
    return b->bridge ? b->bridge->config[TES_PCI_SECONDARY_BUS] : b->root_nr;
}

static struct pci_bus *root_of(struct pci_bus *b)
{
    while (b->parent) {
        b = b->parent;
    }
    return b;
}

/* ---- BARs ---- */

static unsigned bar_count(const struct pci_function *f)
{
    return is_bridge(f) ? 2 : PCI_NUM_BARS;
}

static uint64_t bar_config_addr(const struct pci_function *f, int i)
{
    const pci_bar *b = &f->bars[i];
    const uint8_t *p = f->config + TES_PCI_BAR0 + 4 * i;
    uint64_t addr;

    if (b->flags & TES_PCI_BAR_IO) {
        return cfg_get32(p) & ~3u;
    }
    addr = cfg_get32(p) & ~0xfu;
    if (b->flags & TES_PCI_BAR_MEM64) {
        addr |= (uint64_t)cfg_get32(p + 4) << 32;
    }
    return addr;
}

static tes_region *bar_space(const struct pci_function *f, const pci_bar *b)
{
    return (b->flags & TES_PCI_BAR_IO) ? f->bus->io : f->bus->mem;
}

/*
 * Where BAR i decodes now, or PCI_BAR_UNMAPPED: decoding off in the command
 * register, address 0, or a range that wraps or leaves the bus's space —
 * which also covers the all-ones pattern a guest leaves while sizing.
 */
static uint64_t bar_decode_addr(const struct pci_function *f, int i)
{
    const pci_bar *b = &f->bars[i];
    bool io = b->flags & TES_PCI_BAR_IO;
    tes_region *space = bar_space(f, b);
    uint64_t addr, last;

    if (!(command(f) & (io ? TES_PCI_COMMAND_IO : TES_PCI_COMMAND_MEMORY)) || !space) {
        return PCI_BAR_UNMAPPED;
    }
    addr = bar_config_addr(f, i);
    last = addr + b->size - 1;
    if (addr == 0 || last < addr || last >= region_size(space)) {
        return PCI_BAR_UNMAPPED;
    }
    if (!io && !(b->flags & TES_PCI_BAR_MEM64) && last >= UINT32_MAX) {
        return PCI_BAR_UNMAPPED;
    }
    return addr;
}

static void bar_unmap(pci_bar *b)
{
    if (b->addr != PCI_BAR_UNMAPPED) {
        region_del(b->space, b->r);
        b->addr = PCI_BAR_UNMAPPED;
        b->space = NULL;
    }
}

static void bars_update(struct pci_function *f)
{
    for (unsigned i = 0; i < bar_count(f); i++) {
        pci_bar *b = &f->bars[i];
        uint64_t addr;

        if (!b->r) {
            continue;
        }
        addr = bar_decode_addr(f, i);
        if (addr == b->addr) {
            continue;
        }
        bar_unmap(b);
        if (addr != PCI_BAR_UNMAPPED) {
            b->space = bar_space(f, b);
            region_add(b->space, addr, b->r, 1);
            b->addr = addr;
        }
    }
}

static int bar_check(struct pci_function *f, int bar, unsigned flags, uint64_t size)
{
    bool io = flags & TES_PCI_BAR_IO;
    bool is64 = flags & TES_PCI_BAR_MEM64;

    if (bar < 0 || (unsigned)bar + (is64 ? 1 : 0) >= bar_count(f)) {
        return -EINVAL;
    }
    if (io && (flags & (TES_PCI_BAR_MEM64 | TES_PCI_BAR_PREFETCH))) {
        return -EINVAL;
    }
    if (size & (size - 1) || size < (io ? 4u : 16u) || (!is64 && size > (1ull << 31)) ||
        (io && size > 0x10000)) {
        return -EINVAL;
    }
    if (f->bars[bar].r || (is64 && f->bars[bar + 1].r) ||
        (bar > 0 && (f->bars[bar - 1].flags & TES_PCI_BAR_MEM64) && f->bars[bar - 1].r)) {
        return -EBUSY;
    }
    return 0;
}

int pci_register_bar(tes_device *dev, int bar, unsigned flags, tes_region *r)
{
    struct pci_function *f = fn_of(dev);
    uint64_t size = r ? region_size(r) : 0;
    uint8_t *c, *w;
    int ret;

    if (!f) {
        return -EINVAL;
    }
    ret = bar_check(f, bar, flags, size);
    if (ret < 0) {
        /* A plugin bug, not a guest one: the guest never sees this BAR. */
        core_log(TES_LOG_PLUGIN,
                 "PCI: %s: cannot register BAR%d (flags 0x%x, size 0x%" PRIx64 "): %s",
                 pci_dev_name(dev), bar, flags, size,
                 ret == -EBUSY ? "slot taken" : "want a power-of-two size, I/O >= 4, "
                                                "memory >= 16, a free BAR slot");
        return ret;
    }
    f->bars[bar] = (pci_bar){.r = r, .flags = flags, .size = size,
                             .addr = PCI_BAR_UNMAPPED};
    c = f->config + TES_PCI_BAR0 + 4 * bar;
    w = f->wmask + TES_PCI_BAR0 + 4 * bar;
    /* Sizing (PCI 3.0, section 6.2.5.1): the size-aligned address bits are
     * writable, the low type bits read back as the flags. */
    cfg_set32(c, flags & 0xf);
    cfg_set32(w, (uint32_t)~(size - 1) & ((flags & TES_PCI_BAR_IO) ? ~3u : ~0xfu));
    if (flags & TES_PCI_BAR_MEM64) {
        cfg_set32(c + 4, 0);
        cfg_set32(w + 4, (uint32_t)(~(size - 1) >> 32));
    }
    bars_update(f);
    return 0;
}

/* ---- bridge windows (PCI-to-PCI Bridge 1.2, section 3.2.5) ---- */

static void window_set(struct pci_bus *sec, tes_region **win, tes_region *space,
                       tes_region *target, uint64_t base, uint64_t limit, bool on,
                       const char *what)
{
    char *name;

    if (!on || base > limit || !space) {
        if (*win) {
            region_free(*win);
            *win = NULL;
        }
        return;
    }
    if (*win && (*win)->addr == base && region_size(*win) == limit - base + 1) {
        return;
    }
    if (*win) {
        region_free(*win);
    }
    name = g_strdup_printf("%s-%s-window", sec->bus->name, what);
    *win = region_new_alias(sec->bridge->dev, name, target, base, limit - base + 1);
    g_free(name);
    region_add(space, base, *win, 1);
}

static void windows_update(struct pci_function *f)
{
    struct pci_bus *sec = f->secondary;
    const uint8_t *c = f->config;
    uint16_t cmd = command(f);
    uint64_t base, limit;

    if (!sec) {
        return;
    }
    base = (uint64_t)(c[PCI_IO_BASE] & 0xf0) << 8;
    limit = (uint64_t)(c[PCI_IO_LIMIT] & 0xf0) << 8 | 0xfff;
    if ((c[PCI_IO_BASE] & 0xf) == 1) {
        base |= (uint64_t)cfg_get16(c + PCI_IO_BASE_UPPER) << 16;
        limit |= (uint64_t)cfg_get16(c + PCI_IO_LIMIT_UPPER) << 16;
    }
    window_set(sec, &sec->win_io, f->bus->io, sec->io, base, limit,
               cmd & TES_PCI_COMMAND_IO, "io");

    base = (uint64_t)(cfg_get16(c + PCI_MEM_BASE) & 0xfff0) << 16;
    limit = (uint64_t)(cfg_get16(c + PCI_MEM_LIMIT) & 0xfff0) << 16 | 0xfffff;
    window_set(sec, &sec->win_mem, f->bus->mem, sec->mem, base, limit,
               cmd & TES_PCI_COMMAND_MEMORY, "mem");

    base = (uint64_t)(cfg_get16(c + PCI_PREF_BASE) & 0xfff0) << 16;
    limit = (uint64_t)(cfg_get16(c + PCI_PREF_LIMIT) & 0xfff0) << 16 | 0xfffff;
    if ((c[PCI_PREF_BASE] & 0xf) == 1) {
        base |= (uint64_t)cfg_get32(c + PCI_PREF_BASE_UPPER) << 32;
        limit |= (uint64_t)cfg_get32(c + PCI_PREF_LIMIT_UPPER) << 32;
    }
    window_set(sec, &sec->win_pref, f->bus->mem, sec->mem, base, limit,
               cmd & TES_PCI_COMMAND_MEMORY, "pref");
}

static void bridge_header_init(struct pci_function *f)
{
    uint8_t *c = f->config, *w = f->wmask;

    /* Primary, secondary, subordinate bus numbers, secondary latency. */
    memset(w + TES_PCI_PRIMARY_BUS, 0xff, 4);
    /* 16-bit I/O decoding (type 0 in the low nibble), 64-bit prefetchable
     * memory (type 1). */
    w[PCI_IO_BASE] = w[PCI_IO_LIMIT] = 0xf0;
    cfg_set16(w + PCI_MEM_BASE, 0xfff0);
    cfg_set16(w + PCI_MEM_LIMIT, 0xfff0);
    c[PCI_PREF_BASE] = c[PCI_PREF_LIMIT] = 0x01;
    cfg_set16(w + PCI_PREF_BASE, 0xfff0);
    cfg_set16(w + PCI_PREF_LIMIT, 0xfff0);
    cfg_set32(w + PCI_PREF_BASE_UPPER, 0xffffffff);
    cfg_set32(w + PCI_PREF_LIMIT_UPPER, 0xffffffff);
    cfg_set16(f->w1cmask + PCI_SEC_STATUS, STATUS_W1C);
    cfg_set16(w + TES_PCI_BRIDGE_CONTROL, BRIDGE_CTL_WMASK);
}

/* Secondary bus reset (bridge control bit 6) resets what is below. */
static void bridge_secondary_reset(struct pci_function *f)
{
    if (!f->secondary) {
        return;
    }
    for (unsigned i = 0; i < 256; i++) {
        struct pci_function *c = f->secondary->devs[i];

        if (c) {
            tes_device *d = c->dev;

            pci_reset(d);
            if (d->type->reset) {
                d->type->reset(d, d->s);
            }
        }
    }
}

tes_bus *pci_bridge_bus_new(tes_device *dev, const char *name)
{
    struct pci_function *f = fn_of(dev);
    struct pci_bus *pb;
    tes_bus *bus;
    char *n;

    if (!f || !is_bridge(f) || f->secondary) {
        core_log(TES_LOG_PLUGIN, "PCI: %s: a secondary bus needs a type 1 function without one",
                 dev ? pci_dev_name(dev) : "(null)");
        return NULL;
    }
    bus = bus_create(dev, TES_BUS_PCI, name, NULL);
    if (!bus) {
        return NULL;
    }
    pb = g_new0(struct pci_bus, 1);
    pb->bus = bus;
    pb->bridge = f;
    pb->parent = f->bus;
    n = g_strdup_printf("%s-mem", name);
    pb->mem = region_new_container(dev, n, f->bus->mem ? region_size(f->bus->mem) : UINT64_MAX);
    g_free(n);
    n = g_strdup_printf("%s-io", name);
    pb->io = region_new_container(dev, n, f->bus->io ? region_size(f->bus->io) : 0x10000);
    g_free(n);
    bus->pci = pb;
    f->secondary = pb;
    windows_update(f);
    return bus;
}

void pci_bus_free(tes_bus *bus)
{
    struct pci_bus *pb = bus ? bus->pci : NULL;

    if (!pb) {
        return;
    }
    region_free(pb->win_io);
    region_free(pb->win_mem);
    region_free(pb->win_pref);
    if (pb->bridge) {
        region_free(pb->mem);
        region_free(pb->io);
        pb->bridge->secondary = NULL;
    }
    pci_expander_free(pb);
    g_free(pb->irqs);
    g_free(pb->irq_count);
    g_free(pb);
    bus->pci = NULL;
}

tes_bus *pci_root_bus_new(tes_device *host_bridge, const char *name, tes_region *mem,
                          tes_region *io)
{
    tes_bus *bus = bus_create(host_bridge, TES_BUS_PCI, name, NULL);
    struct pci_bus *pb;

    if (!bus) {
        return NULL;
    }
    pb = g_new0(struct pci_bus, 1);
    pb->bus = bus;
    pb->mem = mem;
    pb->io = io;
    bus->pci = pb;
    return bus;
}

/* ---- INTx (PCI 3.0, section 2.2.6; PCI-to-PCI Bridge 1.2, 9.1) ---- */

static void intx_route(struct pci_bus *b, uint8_t devfn, int pin, int delta)
{
    int idx, old;

    /* Each bridge rotates the pin by the slot of the device below it; an
     * expander's root bus goes through its pxb function the same way. */
    while (b->bridge || b->expander) {
        struct pci_function *up = b->bridge ? b->bridge : b->expander;

        pin = (pin + PCI_SLOT(devfn)) % 4;
        devfn = up->devfn;
        b = up->bus;
    }
    if (!b->irq_count) {
        return; /* not wired yet: pci_bus_set_irqs() counts it later */
    }
    idx = b->map_irq ? b->map_irq(b->irq_opaque, devfn, pin) : pin;
    if (idx < 0 || (unsigned)idx >= b->nirqs) {
        core_log(TES_LOG_GUEST_ERROR, "PCI: %s: INTx of %02x.%x pin %c maps to line %d of %u",
                 b->bus->name, PCI_SLOT(devfn), PCI_FUNC(devfn), 'A' + pin, idx, b->nirqs);
        return;
    }
    /* Shared lines are the OR of their sources. */
    old = b->irq_count[idx];
    b->irq_count[idx] += delta;
    if ((old != 0) != (b->irq_count[idx] != 0)) {
        irq_set(b->irqs[idx], b->irq_count[idx] != 0);
    }
}

static void intx_update(struct pci_function *f)
{
    uint8_t pin = f->config[TES_PCI_INTERRUPT_PIN];
    bool want = f->intx_level && pin >= 1 && pin <= 4 &&
                !(command(f) & TES_PCI_COMMAND_INTX_DISABLE);

    if (want == f->intx_sent) {
        return;
    }
    f->intx_sent = want;
    intx_route(f->bus, f->devfn, pin - 1, want ? 1 : -1);
}

void pci_set_irq(tes_device *dev, int level)
{
    struct pci_function *f = fn_of(dev);
    uint16_t status;

    if (!f) {
        return;
    }
    trace_pci_irq_level(dev->type->name, level != 0);
    f->intx_level = level != 0;
    status = cfg_get16(f->config + TES_PCI_STATUS) & ~TES_PCI_STATUS_INTERRUPT;
    if (f->intx_level) {
        status |= TES_PCI_STATUS_INTERRUPT;
    }
    cfg_set16(f->config + TES_PCI_STATUS, status);
    intx_update(f);
}

static void intx_recount(struct pci_bus *b)
{
    for (unsigned i = 0; i < 256; i++) {
        struct pci_function *f = b->devs[i];

        if (!f) {
            continue;
        }
        if (f->intx_sent) {
            intx_route(f->bus, f->devfn, f->config[TES_PCI_INTERRUPT_PIN] - 1, 1);
        }
        if (f->secondary) {
            intx_recount(f->secondary);
        }
    }
}

void pci_bus_set_irqs(tes_bus *bus, tes_pci_map_irq map_irq, void *opaque, tes_irq **irqs,
                      unsigned nirqs)
{
    struct pci_bus *b = bus ? bus->pci : NULL;

    if (!b || b->bridge) {
        core_log(TES_LOG_PLUGIN, "PCI: pci_bus_set_irqs wants a root PCI bus");
        return;
    }
    g_free(b->irqs);
    g_free(b->irq_count);
    b->map_irq = map_irq;
    b->irq_opaque = opaque;
    b->nirqs = nirqs;
    b->irqs = g_new0(tes_irq *, nirqs ? nirqs : 1);
    for (unsigned i = 0; i < nirqs; i++) {
        b->irqs[i] = irqs ? irqs[i] : NULL;
    }
    b->irq_count = g_new0(int, nirqs ? nirqs : 1);
    /* Sources asserted before the wiring count now. */
    intx_recount(b);
}

/* ---- capability lists (PCI 3.0, section 6.7; PCIe 4.0, section 7.6) ---- */

static bool range_used(const struct pci_function *f, unsigned off, unsigned len)
{
    for (unsigned i = off; i < off + len; i++) {
        if (f->used[i]) {
            return true;
        }
    }
    return false;
}

static void range_claim(struct pci_function *f, unsigned off, unsigned len)
{
    memset(f->used + off, 1, len);
    memset(f->config + off, 0, len);
    memset(f->wmask + off, 0, len);
    memset(f->w1cmask + off, 0, len);
}

/* First 4-aligned offset after the last used byte in [lo, hi). */
static unsigned free_after_last(const struct pci_function *f, unsigned lo, unsigned hi)
{
    unsigned end = lo;

    for (unsigned i = lo; i < hi; i++) {
        if (f->used[i]) {
            end = i + 1;
        }
    }
    return (end + 3) & ~3u;
}

int pci_add_cap(tes_device *dev, uint8_t id, uint8_t offset, uint8_t len)
{
    struct pci_function *f = fn_of(dev);
    unsigned off = offset, last = 0;

    if (!f || len < 2) {
        return -EINVAL;
    }
    if (off == 0) {
        off = free_after_last(f, 0x40, PCI_CONFIG_SIZE);
    } else if (off < 0x40 || (off & 3)) {
        return -EINVAL;
    }
    if (off + len > PCI_CONFIG_SIZE) {
        return -ENOSPC;
    }
    if (range_used(f, off, len)) {
        core_log(TES_LOG_PLUGIN, "PCI: %s: capability 0x%02x at 0x%02x+%u overlaps another",
                 pci_dev_name(dev), id, off, len);
        return -EBUSY;
    }
    range_claim(f, off, len);
    f->config[off] = id;
    /* Append at the tail so the list walks in the order caps were added. */
    for (unsigned p = f->config[TES_PCI_CAPABILITY_LIST], n = 0; p && n < 64;
         p = f->config[p + 1], n++) {
        last = p;
    }
    if (last) {
        f->config[last + 1] = (uint8_t)off;
    } else {
        f->config[TES_PCI_CAPABILITY_LIST] = (uint8_t)off;
    }
    f->config[TES_PCI_STATUS] |= TES_PCI_STATUS_CAP_LIST;
    return (int)off;
}

int pci_find_cap(tes_device *dev, uint8_t id)
{
    struct pci_function *f = fn_of(dev);

    if (!f || !(f->config[TES_PCI_STATUS] & TES_PCI_STATUS_CAP_LIST)) {
        return 0;
    }
    for (unsigned p = f->config[TES_PCI_CAPABILITY_LIST] & ~3u, n = 0; p >= 0x40 && n < 64;
         p = f->config[p + 1] & ~3u, n++) {
        if (f->config[p] == id) {
            return (int)p;
        }
    }
    return 0;
}

static void ext_link(struct pci_function *f, unsigned off)
{
    uint8_t *prev;

    if (!f->ext_last && off != 0x100) {
        /* The list starts at 0x100: a null header there points on
         * (PCIe 4.0, section 7.6.3). */
        range_claim(f, 0x100, 4);
        f->ext_last = 0x100;
    }
    if (f->ext_last) {
        prev = f->config + f->ext_last;
        cfg_set32(prev, (cfg_get32(prev) & 0x000fffff) | (uint32_t)off << 20);
    }
    f->ext_last = (uint16_t)off;
}

int pci_add_ext_cap(tes_device *dev, uint16_t id, uint8_t version, uint16_t offset,
                    uint16_t len)
{
    struct pci_function *f = fn_of(dev);
    unsigned off = offset;

    if (!f || f->config_size < PCIE_CONFIG_SIZE || len < 4) {
        return -EINVAL;
    }
    if (off == 0) {
        off = free_after_last(f, PCI_CONFIG_SIZE, PCIE_CONFIG_SIZE);
    } else if (off < PCI_CONFIG_SIZE || (off & 3)) {
        return -EINVAL;
    }
    if (off + len > PCIE_CONFIG_SIZE) {
        return -ENOSPC;
    }
    if (range_used(f, off, len)) {
        core_log(TES_LOG_PLUGIN, "PCI: %s: extended capability 0x%04x at 0x%03x overlaps",
                 pci_dev_name(dev), id, off);
        return -EBUSY;
    }
    range_claim(f, off, len);
    cfg_set32(f->config + off, id | (uint32_t)(version & 0xf) << 16);
    ext_link(f, off);
    return (int)off;
}

void pci_set_express(struct pci_function *f)
{
    f->config_size = PCIE_CONFIG_SIZE;
}

/* ---- plugging ---- */

static bool parse_addr(const char *addr, unsigned *devfn)
{
    char **parts = g_strsplit(addr, ".", -1);
    unsigned n = g_strv_length(parts);
    unsigned long slot = 0, fn = 0;
    bool ok = n == 1 || n == 2;
    char *end;

    for (unsigned i = 0; ok && i < n; i++) {
        unsigned long v;

        if (!parts[i][0]) {
            ok = false;
            break;
        }
        v = strtoul(parts[i], &end, 16);
        ok = *end == '\0' && parts[i][0] != '-' && parts[i][0] != '+';
        *(i == 0 ? &slot : &fn) = v;
    }
    g_strfreev(parts);
    if (!ok || slot > 0x1f || fn > 7) {
        return false;
    }
    *devfn = (unsigned)(slot << 3 | fn);
    return true;
}

static int first_free_slot(const struct pci_bus *b)
{
    for (unsigned slot = 0; slot < 32; slot++) {
        bool used = false;

        for (unsigned fn = 0; fn < 8; fn++) {
            used |= b->devs[slot << 3 | fn] != NULL;
        }
        if (!used) {
            return (int)(slot << 3);
        }
    }
    return -1;
}

static void header_init(struct pci_function *f, const tes_pci_info *pi)
{
    uint8_t *c = f->config, *w = f->wmask;

    cfg_set16(c + TES_PCI_VENDOR_ID, pi->vendor_id);
    cfg_set16(c + TES_PCI_DEVICE_ID, pi->device_id);
    c[TES_PCI_REVISION_ID] = pi->revision;
    c[TES_PCI_CLASS_PROG] = pi->prog_if;
    cfg_set16(c + TES_PCI_CLASS_DEVICE, pi->class_id);
    c[TES_PCI_HEADER_TYPE] = pi->header_type & 0x7f;
    c[TES_PCI_INTERRUPT_PIN] = pi->irq_pin <= 4 ? pi->irq_pin : 0;
    cfg_set16(w + TES_PCI_COMMAND, CMD_WMASK);
    cfg_set16(f->w1cmask + TES_PCI_STATUS, STATUS_W1C);
    w[0x0c] = 0xff; /* cache line size */
    w[0x0d] = 0xff; /* latency timer */
    w[TES_PCI_INTERRUPT_LINE] = 0xff;
    memset(f->used, 1, 0x40);
    f->config_size = PCI_CONFIG_SIZE;
    if (is_bridge(f)) {
        bridge_header_init(f);
    } else {
        cfg_set16(c + TES_PCI_SUBSYSTEM_VENDOR_ID, pi->subsystem_vendor_id);
        cfg_set16(c + TES_PCI_SUBSYSTEM_ID, pi->subsystem_id);
    }
    for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
        f->bars[i].addr = PCI_BAR_UNMAPPED;
    }
}

/* Function 0 advertises other functions in its slot (PCI 3.0, 6.2.1). */
static void multifunction_update(struct pci_bus *b, unsigned devfn)
{
    unsigned base = devfn & ~7u;
    bool others = false;

    if (!b->devs[base]) {
        return;
    }
    for (unsigned fn = 1; fn < 8; fn++) {
        others |= b->devs[base + fn] != NULL;
    }
    b->devs[base]->config[TES_PCI_HEADER_TYPE] =
        (b->devs[base]->config[TES_PCI_HEADER_TYPE] & 0x7f) | (others ? 0x80 : 0);
}

static bool choose_devfn(struct pci_bus *b, tes_device *dev, const char *addr,
                         unsigned *devfn, char **errp)
{
    int free_devfn;

    if (!addr) {
        free_devfn = first_free_slot(b);
        if (free_devfn < 0) {
            core_set_error(errp, "PCI: %s: no free slot on bus %s", pci_dev_name(dev),
                           b->bus->name);
            return false;
        }
        *devfn = (unsigned)free_devfn;
        return true;
    }
    if (!parse_addr(addr, devfn)) {
        core_set_error(errp, "PCI: %s: bad address '%s', expected SLOT[.FN] in hex "
                       "(slot 0..1f, function 0..7), like addr=04.0", pci_dev_name(dev), addr);
        return false;
    }
    if (b->devs[*devfn]) {
        core_set_error(errp, "PCI: slot %02x.%x on bus %s is already in use by %s",
                       PCI_SLOT(*devfn), PCI_FUNC(*devfn), b->bus->name,
                       pci_dev_name(b->devs[*devfn]->dev));
        return false;
    }
    return true;
}

bool pci_plug(tes_device *dev, tes_bus *bus, const char *addr, char **errp)
{
    struct pci_bus *b = bus ? bus->pci : NULL;
    const tes_pci_info *pi = pci_info_of(dev);
    struct pci_function *f;
    unsigned devfn;

    if (!b) {
        core_set_error(errp, "PCI: %s: bus %s is not a PCI bus", pci_dev_name(dev),
                       bus ? bus->name : "(none)");
        return false;
    }
    if (!pi) {
        core_set_error(errp, "PCI: %s: type %s has no tes_pci_info class_info",
                       pci_dev_name(dev), dev->type ? dev->type->name : "?");
        return false;
    }
    if (!choose_devfn(b, dev, addr, &devfn, errp)) {
        return false;
    }
    f = g_new0(struct pci_function, 1);
    f->dev = dev;
    f->bus = b;
    f->devfn = (uint8_t)devfn;
    header_init(f, pi);
    b->devs[devfn] = f;
    dev->pci = f;
    multifunction_update(b, devfn);
    if (b->bridge) {
        pcie_port_update_presence(b->bridge);
    }
    return true;
}

void pci_unplug(tes_device *dev)
{
    struct pci_function *f = fn_of(dev);
    struct pci_bus *b;

    if (!f) {
        return;
    }
    dma_invalidate(); /* the bridges above what was below it change */
    b = f->bus;
    for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
        if (f->bars[i].r) {
            bar_unmap(&f->bars[i]);
        }
    }
    if (f->secondary) {
        struct pci_bus *sec = f->secondary;

        cfg_set16(f->config + TES_PCI_COMMAND, 0);
        windows_update(f);
        /* The tes_bus may outlive us in the registry: make it a dead end. */
        sec->bridge = NULL;
        sec->parent = NULL;
    }
    f->intx_level = false;
    intx_update(f);
    msix_free(f);
    b->devs[f->devfn] = NULL;
    multifunction_update(b, f->devfn);
    if (b->bridge) {
        pcie_port_update_presence(b->bridge);
    }
    dev->pci = NULL;
    g_free(f);
}

/* Config space back to power-on values: writable and RW1C bits clear, the
 * layout (ids, BAR types, capabilities) stays (PCI 3.0, section 6.2). The
 * device's reset callback restores its own registers after this. */
void pci_reset(tes_device *dev)
{
    struct pci_function *f = fn_of(dev);

    if (!f) {
        return;
    }
    for (unsigned i = TES_PCI_COMMAND; i < f->config_size; i++) {
        f->config[i] &= ~(f->wmask[i] | f->w1cmask[i]);
    }
    dma_invalidate();
    msi_reset(f);
    msix_reset(f);
    pcie_reset(f);
    f->intx_level = false;
    f->config[TES_PCI_STATUS] &= ~TES_PCI_STATUS_INTERRUPT;
    intx_update(f);
    bars_update(f);
    windows_update(f);
}

/* ---- config space access ---- */

uint8_t *pci_config(tes_device *dev)
{
    return fn_of(dev) ? dev->pci->config : NULL;
}

uint8_t *pci_wmask(tes_device *dev)
{
    return fn_of(dev) ? dev->pci->wmask : NULL;
}

uint8_t *pci_w1cmask(tes_device *dev)
{
    return fn_of(dev) ? dev->pci->w1cmask : NULL;
}

static bool len_ok(unsigned len)
{
    return len == 1 || len == 2 || len == 4;
}

static uint32_t ones(unsigned len)
{
    return len >= 4 ? 0xffffffffu : (1u << (8 * len)) - 1;
}

uint32_t pci_default_config_read(tes_device *dev, uint32_t off, unsigned len)
{
    struct pci_function *f = fn_of(dev);
    uint32_t val = 0;

    if (!f || !len_ok(len) || off + len > PCIE_CONFIG_SIZE) {
        return f ? 0 : ones(len);
    }
    /* Conventional functions: the extended space reads as zeroes. */
    for (unsigned i = 0; i < len; i++) {
        if (off + i < f->config_size) {
            val |= (uint32_t)f->config[off + i] << (8 * i);
        }
    }
    return val;
}

static void bridge_written(struct pci_function *f, uint32_t off, unsigned len, uint8_t old_bctl)
{
    uint8_t bctl = f->config[TES_PCI_BRIDGE_CONTROL];

    if (overlaps(off, len, PCI_IO_BASE, 2) || overlaps(off, len, PCI_MEM_BASE, 0x10) ||
        overlaps(off, len, PCI_IO_BASE_UPPER, 4)) {
        windows_update(f);
    }
    if ((bctl & BRIDGE_CTL_BUS_RESET) && !(old_bctl & BRIDGE_CTL_BUS_RESET)) {
        bridge_secondary_reset(f);
    }
}

/* What the guest's write changed before it: bridge control, PM state,
 * Slot Control. */
typedef struct config_old {
    uint8_t bctl, pm;
    uint16_t sltctl;
} config_old;

static void config_written(struct pci_function *f, uint32_t off, unsigned len,
                           const config_old *old)
{
    dma_invalidate(); /* bus master enable, bus numbers */
    if (overlaps(off, len, TES_PCI_COMMAND, 2)) {
        bars_update(f);
        windows_update(f);
        intx_update(f);
    }
    if (overlaps(off, len, TES_PCI_BAR0, 4 * bar_count(f))) {
        bars_update(f);
    }
    if (is_bridge(f)) {
        bridge_written(f, off, len, old->bctl);
    }
    if (f->msi_off) {
        msi_config_written(f, off, len);
    }
    if (f->msix_off) {
        msix_config_written(f, off, len);
    }
    if (f->pm_off) {
        pm_config_written(f, off, len, old->pm);
    }
    if (f->pcie_off) {
        pcie_slot_written(f, off, len, old->sltctl);
    }
}

void pci_default_config_write(tes_device *dev, uint32_t off, uint32_t val, unsigned len)
{
    struct pci_function *f = fn_of(dev);
    config_old old;

    if (!f || !len_ok(len) || off + len > f->config_size) {
        return;
    }
    old.bctl = f->config[TES_PCI_BRIDGE_CONTROL];
    old.pm = f->pm_off ? f->config[f->pm_off + 4] : 0;
    old.sltctl = f->pcie_off ? cfg_get16(f->config + f->pcie_off + PCIE_EXP_SLTCTL) : 0;
    for (unsigned i = 0; i < len; i++) {
        unsigned o = off + i;
        uint8_t b = (uint8_t)(val >> (8 * i));

        f->config[o] = (f->config[o] & ~f->wmask[o]) | (b & f->wmask[o]);
        f->config[o] &= ~(b & f->w1cmask[o]);
    }
    config_written(f, off, len, &old);
}

static const tes_pci_info *hooks_of(tes_device *dev)
{
    const tes_pci_info *pi = pci_info_of(dev);

    if (!pi || pi->size < offsetof(tes_pci_info, config_write) + sizeof(pi->config_write)) {
        return NULL;
    }
    return pi;
}

uint32_t pci_config_read(tes_device *dev, uint32_t off, unsigned len)
{
    const tes_pci_info *pi;

    if (!fn_of(dev)) {
        return ones(len);
    }
    pi = hooks_of(dev);
    if (pi && pi->config_read) {
        return pi->config_read(dev, dev->s, off, len);
    }
    return pci_default_config_read(dev, off, len);
}

void pci_config_write(tes_device *dev, uint32_t off, uint32_t val, unsigned len)
{
    const tes_pci_info *pi;

    if (!fn_of(dev)) {
        return;
    }
    pi = hooks_of(dev);
    if (pi && pi->config_write) {
        pi->config_write(dev, dev->s, off, val, len);
        return;
    }
    pci_default_config_write(dev, off, val, len);
}

/* ---- host bridge config cycles ---- */

/* The bus a type 1 cycle for busnr reaches, through bridges whose
 * secondary..subordinate range (as the guest numbered them) holds it. */
struct pci_bus *pci_route_bus(struct pci_bus *b, unsigned busnr, unsigned depth)
{
    if (busnr == bus_number(b)) {
        return b;
    }
    if (depth > 256) {
        return NULL;
    }
    for (unsigned i = 0; i < 256; i++) {
        struct pci_function *f = b->devs[i];
        unsigned sec, sub;

        if (!f || !f->secondary) {
            continue;
        }
        sec = f->config[TES_PCI_SECONDARY_BUS];
        sub = f->config[TES_PCI_SUBORDINATE_BUS];
        if (sec != 0 && sec <= busnr && busnr <= sub) {
            return pci_route_bus(f->secondary, busnr, depth + 1);
        }
    }
    return NULL;
}

static struct pci_function *host_lookup(tes_bus *root, uint8_t busnr, uint8_t devfn)
{
    struct pci_bus *b = root ? root->pci : NULL;

    b = b ? pci_root_route(b, busnr) : NULL;
    return b ? b->devs[devfn] : NULL;
}

uint32_t pci_host_config_read(tes_bus *root, uint8_t bus, uint8_t devfn, uint32_t off,
                              unsigned len)
{
    struct pci_function *f = host_lookup(root, bus, devfn);
    uint32_t val = 0;

    if (!len_ok(len) || off + len > PCIE_CONFIG_SIZE) {
        core_log(TES_LOG_GUEST_ERROR, "PCI: config read of %u bytes at 0x%x", len, off);
        return ones(len == 0 || len > 4 ? 4 : len);
    }
    if (!f) {
        return ones(len);
    }
    if ((off & 3) + len > 4) {
        /* Misaligned across a dword: as byte cycles. */
        for (unsigned i = 0; i < len; i++) {
            val |= pci_config_read(f->dev, off + i, 1) << (8 * i);
        }
    } else {
        val = pci_config_read(f->dev, off, len) & ones(len);
    }
    trace_pci_cfg_read(f->dev->type->name, bus, devfn >> 3, devfn & 7, off, val);
    return val;
}

void pci_host_config_write(tes_bus *root, uint8_t bus, uint8_t devfn, uint32_t off,
                           uint32_t val, unsigned len)
{
    struct pci_function *f = host_lookup(root, bus, devfn);

    if (!len_ok(len) || off + len > PCIE_CONFIG_SIZE) {
        core_log(TES_LOG_GUEST_ERROR, "PCI: config write of %u bytes at 0x%x", len, off);
        return;
    }
    if (!f) {
        return;
    }
    trace_pci_cfg_write(f->dev->type->name, bus, devfn >> 3, devfn & 7, off, val);
    if ((off & 3) + len > 4) {
        for (unsigned i = 0; i < len; i++) {
            pci_config_write(f->dev, off + i, (val >> (8 * i)) & 0xff, 1);
        }
        return;
    }
    pci_config_write(f->dev, off, val, len);
}

/* ---- DMA gate and ids ---- */

bool pci_bus_master_enabled(tes_device *dev)
{
    struct pci_function *f = fn_of(dev);

    if (!f) {
        return true; /* not a PCI function: nothing gates it */
    }
    /* Upstream bridges forward a function's requests only with their own
     * bus master enable set (PCI-to-PCI Bridge 1.2, section 3.2.5.1). */
    for (; f; f = f->bus->bridge) {
        if (!(command(f) & TES_PCI_COMMAND_MASTER)) {
            return false;
        }
    }
    return true;
}

uint16_t pci_requester_id(tes_device *dev)
{
    struct pci_function *f = fn_of(dev);

    return f ? (uint16_t)(bus_number(f->bus) << 8 | f->devfn) : 0;
}

/* ---- info pci ---- */

const char *pci_class_name(uint16_t cls)
{
    static const struct {
        uint16_t cls;
        const char *name;
    } names[] = {
        {0x0100, "SCSI controller"}, {0x0101, "IDE controller"},
        {0x0106, "SATA controller"}, {0x0108, "NVMe controller"},
        {0x0200, "Ethernet controller"}, {0x0300, "VGA controller"},
        {0x0600, "Host bridge"}, {0x0604, "PCI bridge"},
        {0x0c03, "USB controller"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        if (names[i].cls == cls) {
            return names[i].name;
        }
    }
    return NULL;
}

static void print_bars(GString *out, const struct pci_function *f)
{
    for (unsigned i = 0; i < bar_count(f); i++) {
        const pci_bar *b = &f->bars[i];

        if (!b->r) {
            continue;
        }
        if (b->flags & TES_PCI_BAR_IO) {
            g_string_append_printf(out, "      BAR%u: I/O at 0x%04" PRIx64 " [0x%04" PRIx64 "].\n",
                                   i, b->addr, b->addr + b->size - 1);
        } else {
            g_string_append_printf(out,
                                   "      BAR%u: %d bit%s memory at 0x%08" PRIx64
                                   " [0x%08" PRIx64 "].\n",
                                   i, (b->flags & TES_PCI_BAR_MEM64) ? 64 : 32,
                                   (b->flags & TES_PCI_BAR_PREFETCH) ? " prefetchable" : "",
                                   b->addr, b->addr + b->size - 1);
        }
    }
}

static void print_bridge(GString *out, const struct pci_function *f)
{
    const uint8_t *c = f->config;
    uint64_t io_base = (uint64_t)(c[PCI_IO_BASE] & 0xf0) << 8;
    uint64_t io_limit = (uint64_t)(c[PCI_IO_LIMIT] & 0xf0) << 8 | 0xfff;
    uint64_t pbase = (uint64_t)(cfg_get16(c + PCI_PREF_BASE) & 0xfff0) << 16 |
                     (uint64_t)cfg_get32(c + PCI_PREF_BASE_UPPER) << 32;
    uint64_t plimit = ((uint64_t)(cfg_get16(c + PCI_PREF_LIMIT) & 0xfff0) << 16 | 0xfffff) |
                      (uint64_t)cfg_get32(c + PCI_PREF_LIMIT_UPPER) << 32;

    g_string_append_printf(out, "      BUS %u.\n", c[TES_PCI_PRIMARY_BUS]);
    g_string_append_printf(out, "      secondary bus %u.\n", c[TES_PCI_SECONDARY_BUS]);
    g_string_append_printf(out, "      subordinate bus %u.\n", c[TES_PCI_SUBORDINATE_BUS]);
    g_string_append_printf(out, "      IO range [0x%04" PRIx64 ", 0x%04" PRIx64 "]\n", io_base,
                           io_limit);
    g_string_append_printf(out, "      memory range [0x%08x, 0x%08x]\n",
                           (cfg_get16(c + PCI_MEM_BASE) & 0xfff0u) << 16,
                           (cfg_get16(c + PCI_MEM_LIMIT) & 0xfff0u) << 16 | 0xfffff);
    g_string_append_printf(out, "      prefetchable memory range [0x%08" PRIx64 ", 0x%08" PRIx64
                           "]\n", pbase, plimit);
}

static void print_bus(GString *out, const struct pci_bus *b);

static void print_function(GString *out, const struct pci_function *f)
{
    const uint8_t *c = f->config;
    uint16_t cls = cfg_get16(c + TES_PCI_CLASS_DEVICE);
    const char *name = pci_class_name(cls);
    uint8_t pin = c[TES_PCI_INTERRUPT_PIN];

    g_string_append_printf(out, "  Bus %2u, device %3u, function %u:\n", bus_number(f->bus),
                           PCI_SLOT(f->devfn), PCI_FUNC(f->devfn));
    if (name) {
        g_string_append_printf(out, "    %s", name);
    } else {
        g_string_append_printf(out, "    Class %04x", cls);
    }
    g_string_append_printf(out, ": PCI device %04x:%04x\n", cfg_get16(c + TES_PCI_VENDOR_ID),
                           cfg_get16(c + TES_PCI_DEVICE_ID));
    if (!is_bridge(f)) {
        g_string_append_printf(out, "      PCI subsystem %04x:%04x\n",
                               cfg_get16(c + TES_PCI_SUBSYSTEM_VENDOR_ID),
                               cfg_get16(c + TES_PCI_SUBSYSTEM_ID));
    }
    if (pin >= 1 && pin <= 4) {
        g_string_append_printf(out, "      IRQ %u, pin %c\n", c[TES_PCI_INTERRUPT_LINE],
                               'A' + pin - 1);
    }
    if (is_bridge(f)) {
        print_bridge(out, f);
    }
    print_bars(out, f);
    g_string_append_printf(out, "      id \"%s\"\n", f->dev->id ? f->dev->id : "");
    if (f->secondary) {
        print_bus(out, f->secondary);
    }
}

static void print_bus(GString *out, const struct pci_bus *b)
{
    for (unsigned i = 0; i < 256; i++) {
        if (b->devs[i]) {
            print_function(out, b->devs[i]);
        }
    }
}

static void collect_root(tes_device *dev, void *opaque)
{
    GPtrArray *roots = opaque;
    struct pci_bus *root;

    if (!dev->pci) {
        return;
    }
    root = root_of(dev->pci->bus);
    if (!g_ptr_array_find(roots, root, NULL)) {
        g_ptr_array_add(roots, root);
    }
}

void pci_info_print(GString *out)
{
    GPtrArray *roots = g_ptr_array_new();

    devices_foreach(collect_root, roots);
    for (unsigned i = 0; i < roots->len; i++) {
        print_bus(out, g_ptr_array_index(roots, i));
    }
    g_ptr_array_free(roots, TRUE);
}

/* ---- migration ---- */

/* Stream layout, version 1 (little endian): u32 version, u32 config size,
 * config bytes, u32 MSI-X vectors, table (16 bytes each), u32 PBA size, PBA
 * bytes, u8 INTx level. */
#define PCI_STATE_VERSION 1

static void put_u32(tes_stream *s, uint32_t v)
{
    uint8_t b[4];

    cfg_set32(b, v);
    stream_write(s, b, 4);
}

static int get_u32(tes_stream *s, uint32_t *v)
{
    uint8_t b[4];
    int ret = stream_read(s, b, 4);

    *v = cfg_get32(b);
    return ret;
}

void pci_state_save(tes_device *dev, tes_stream *s)
{
    struct pci_function *f = fn_of(dev);
    uint8_t level;

    if (!f) {
        return;
    }
    level = f->intx_level;
    put_u32(s, PCI_STATE_VERSION);
    put_u32(s, f->config_size);
    stream_write(s, f->config, f->config_size);
    put_u32(s, f->msix_nvec);
    stream_write(s, f->msix_table, f->msix_nvec * 16u);
    put_u32(s, f->msix_pba_size);
    stream_write(s, f->msix_pba, f->msix_pba_size);
    stream_write(s, &level, 1);
}

static int state_check(struct pci_function *f, uint32_t have, uint32_t want, const char *what,
                       char **errp)
{
    if (have != want) {
        core_set_error(errp, "PCI state: the stream has %s %u, the device %u", what, have,
                       want);
        return -EINVAL;
    }
    return 0;
}

/* Read-only bits the device itself changes as it runs (interrupt status,
 * PCIe link/slot/device/root status, MSI pending bits): not compared. */
static void dynamic_bits(const struct pci_function *f, uint8_t *dyn)
{
    dyn[TES_PCI_STATUS] = (uint8_t)~TES_PCI_STATUS_CAP_LIST;
    dyn[TES_PCI_STATUS + 1] = 0xff;
    if (f->pcie_off) {
        static const uint8_t sta[] = {0x0a, 0x0b, 0x12, 0x13, 0x1a, 0x1b,
                                      0x20, 0x21, 0x22, 0x23, 0x32, 0x33};
        for (size_t i = 0; i < sizeof(sta); i++) {
            dyn[f->pcie_off + sta[i]] = 0xff;
        }
    }
    if (f->msi_off && (cfg_get16(f->config + f->msi_off + 2) & 0x0100)) {
        /* Pending bits follow the mask bits, after a 32- or 64-bit address. */
        unsigned pend = f->msi_off + ((cfg_get16(f->config + f->msi_off + 2) & 0x80) ? 0x14
                                                                                  : 0x10);
        memset(dyn + pend, 0xff, 4);
    }
}

/* As QEMU's get_pci_config_device(): a stream may change what the guest
 * could write, never the bits that are read-only to it (IDs, BAR sizes,
 * capability layout): those would break the core's assumptions. */
static int check_readonly(struct pci_function *f, const uint8_t *cfg, char **errp)
{
    g_autofree uint8_t *dyn = g_malloc0(PCIE_CONFIG_SIZE);

    dynamic_bits(f, dyn);
    for (uint32_t i = 0; i < f->config_size; i++) {
        uint8_t ro = ~(f->wmask[i] | f->w1cmask[i] | dyn[i]);

        if ((cfg[i] ^ f->config[i]) & ro) {
            core_set_error(errp, "PCI state: config byte 0x%x is 0x%02x in the stream, 0x%02x "
                           "here (read-only bits 0x%02x)", i, cfg[i], f->config[i], ro);
            return -EINVAL;
        }
    }
    return 0;
}

/* The stream's MSI-X vectors pending beyond the table do not exist. */
static int check_pba(struct pci_function *f, const uint8_t *pba, char **errp)
{
    for (uint32_t v = f->msix_nvec; v < f->msix_pba_size * 8u; v++) {
        if (pba[v / 8] & (1u << (v % 8))) {
            core_set_error(errp, "PCI state: MSI-X vector %u pending, the device has %u", v,
                           f->msix_nvec);
            return -EINVAL;
        }
    }
    return 0;
}

int pci_state_load_err(tes_device *dev, tes_stream *s, char **errp)
{
    struct pci_function *f = fn_of(dev);
    g_autofree uint8_t *cfg = NULL, *table = NULL, *pba = NULL;
    uint32_t version, size, nvec, pba_size;
    uint8_t level;

    if (!f) {
        return -EINVAL;
    }
    if (get_u32(s, &version) ||
        state_check(f, version, PCI_STATE_VERSION, "PCI state version", errp) ||
        get_u32(s, &size) || state_check(f, size, f->config_size, "config size", errp)) {
        return -EINVAL;
    }
    cfg = g_malloc(size);
    if (stream_read(s, cfg, size) || get_u32(s, &nvec) ||
        state_check(f, nvec, f->msix_nvec, "MSI-X vectors", errp)) {
        return -EINVAL;
    }
    table = g_malloc(nvec * 16u + 1);
    if (stream_read(s, table, nvec * 16u) || get_u32(s, &pba_size) ||
        state_check(f, pba_size, f->msix_pba_size, "PBA size", errp)) {
        return -EINVAL;
    }
    pba = g_malloc(pba_size + 1);
    if (stream_read(s, pba, pba_size) || stream_read(s, &level, 1)) {
        core_set_error(errp, "PCI state: cut short");
        return -EIO;
    }
    if (check_readonly(f, cfg, errp) || check_pba(f, pba, errp)) {
        return -EINVAL;
    }
    memcpy(f->config, cfg, size);
    dma_invalidate();
    if (nvec) {
        memcpy(f->msix_table, table, nvec * 16u);
        memcpy(f->msix_pba, pba, pba_size);
    }
    f->intx_level = level != 0;
    bars_update(f);
    windows_update(f);
    intx_update(f);
    pcie_slot_loaded(f);
    return 0;
}

int pci_state_load(tes_device *dev, tes_stream *s)
{
    return pci_state_load_err(dev, s, NULL);
}
