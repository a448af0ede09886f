/*
 * tessera plugin harness: the core, in-process, playing host for a plugin
 * under test (sdk/include/tessera/harness.h is the contract).
 *
 * The harness owns a fresh core: RAM "ram" at 0, an MSI doorbell window at
 * TES_HARNESS_MSI_BASE that records 4-byte writes, a root PCI bus "pci.0"
 * whose INTx pins swizzle ((slot + pin) % 4) onto four observable lines,
 * and a virtual clock in manual mode. Only one harness exists at a time.
 *
 * Environment: TESSERA_HARNESS_LOG=guest_errors,... prints -d log items
 * on stderr. Independently, the items of the capture mask (guest errors and
 * unimplemented features unless the test says otherwise) are kept for
 * tes_harness_log_text(), so a test asserts on what a plugin logged.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <tessera/harness.h>

#include "core.h"
#include "migration-int.h"
#include "net-int.h"
#include "numa.h"

#define HARNESS_NINTX 4
#define HARNESS_FREE_BAR_BASE 0xe0000000ull /* where msi_enable maps MSI-X BARs */

typedef struct msi_msg {
    uint64_t addr;
    uint32_t data;
} msi_msg;

struct tes_harness {
    uint64_t ram_size;
    tes_region *ram, *msi; /* harness-owned (no device owns them) */
    tes_region *pci_mem;   /* pci.0's memory space, under RAM (build_pci) */
    tes_bus *pci0;
    tes_irq *intx[HARNESS_NINTX];
    GPtrArray *lines; /* tes_irq* wired to sysbus outputs */
    GArray *msis;     /* msi_msg, oldest first from msi_head */
    guint msi_head;
    uint64_t next_bar; /* next free address for BARs msi_enable maps */
    GString *log;      /* captured log messages */
    GString *events;   /* QMP events, one JSON line each */
    char *error;
};

static tes_harness *current;

static void set_error(tes_harness *h, char *msg)
{
    g_free(h->error);
    h->error = msg ? msg : g_strdup("unknown error");
}

/* ---- MSI doorbell ---- */

static uint64_t msi_read(void *opaque, uint64_t off, unsigned size)
{
    return 0;
}

static void msi_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    tes_harness *h = opaque;
    msi_msg *m;

    /* MSI and MSI-X messages are DWORD writes (PCI 3.0, section 6.8). */
    if (size != 4) {
        core_log(TES_LOG_GUEST_ERROR, "harness: %u-byte write to the MSI window at 0x%" PRIx64
                 " is not an MSI message", size, (uint64_t)(TES_HARNESS_MSI_BASE + off));
        return;
    }
    /* An array, not a list of allocations: one message per completion. */
    g_array_set_size(h->msis, h->msis->len + 1);
    m = &g_array_index(h->msis, msi_msg, h->msis->len - 1);
    m->addr = TES_HARNESS_MSI_BASE + off;
    m->data = (uint32_t)val;
}

static const tes_mem_ops msi_ops = {
    .size = sizeof(tes_mem_ops),
    .read = msi_read,
    .write = msi_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 8,
    .impl_min = 1, .impl_max = 8,
};

/* ---- set-up and teardown ---- */

static int swizzle(void *opaque, uint8_t devfn, int pin)
{
    return ((devfn >> 3) + pin) % HARNESS_NINTX;
}

static void build_pci(tes_harness *h)
{
    for (int i = 0; i < HARNESS_NINTX; i++) {
        h->intx[i] = irq_new(NULL, h, i);
    }
    /* BARs decode in a space of their own that system memory sees below
     * everything else, as QEMU's pc puts its PCI space under RAM: a guest
     * that programs a BAR over RAM (or over the MSI window, a sysbus
     * region) does not hide it from the CPU or from DMA. On the real
     * boards only their PCI holes reach the bus at all. */
    h->pci_mem = region_new_container(NULL, "pci-mem", UINT64_MAX);
    region_add(memory_system(), 0, h->pci_mem, -1);
    h->pci0 = pci_root_bus_new(NULL, "pci.0", h->pci_mem, memory_io());
    pci_bus_set_irqs(h->pci0, swizzle, h, h->intx, HARNESS_NINTX);
}

static void apply_log_env(void)
{
    const char *spec = g_getenv("TESSERA_HARNESS_LOG");
    char *err = NULL;

    if (spec && !log_set_mask(spec, &err)) {
        g_printerr("TESSERA_HARNESS_LOG: %s\n", err);
        g_free(err);
    }
}

tes_harness *tes_harness_new(uint64_t ram_size)
{
    tes_harness *h;

    g_assert(!current); /* one harness at a time: the core is a singleton */
    h = g_new0(tes_harness, 1);
    current = h;
    h->ram_size = ram_size;
    h->lines = g_ptr_array_new(); /* the lines themselves are the core's */
    h->next_bar = HARNESS_FREE_BAR_BASE;
    h->msis = g_array_new(FALSE, FALSE, sizeof(msi_msg));
    h->log = g_string_new(NULL);
    h->events = g_string_new(NULL);
    qmp_event_capture(h->events);
    apply_log_env();
    log_set_capture(h->log, TES_LOG_GUEST_ERROR | TES_LOG_UNIMP);
    registry_reset(); /* devices first: they unmap their regions */
    memdevs_reset(); /* a fresh host has no -object of the last one's */
    net_reset_macs();
    memory_reset();
    clock_set_manual(true);
    plugins_set_default_dirs(NULL, NULL);
    h->ram = region_new_ram(NULL, "ram", ram_size);
    region_add(memory_system(), 0, h->ram, 0);
    h->msi = region_new_io(NULL, "harness-msi", TES_HARNESS_MSI_SIZE, &msi_ops, h);
    region_add(memory_system(), TES_HARNESS_MSI_BASE, h->msi, 0);
    build_pci(h);
    return h;
}

void tes_harness_free(tes_harness *h)
{
    if (!h) {
        return;
    }
    block_batch_flush();
    cpus_clear();
    board_clear();
    registry_reset();
    memdevs_reset();
    drives_close_all();
    netdevs_close_all();
    net_reset_macs();
    region_free(h->ram);
    region_free(h->msi);
    region_free(h->pci_mem);
    memory_reset();
    clock_set_manual(false);
    g_ptr_array_unref(h->lines);
    irqs_free_all(); /* h->intx, h->lines and every device's lines */
    g_array_free(h->msis, TRUE);
    log_set_capture(NULL, 0);
    g_string_free(h->log, true);
    qmp_event_capture(NULL);
    g_string_free(h->events, true);
    g_free(h->error);
    g_free(h);
    current = NULL;
}

/* Plugins stay loaded across harnesses (their types stay registered);
 * plugin_load() takes a second load of the same file as the one there. */
bool tes_harness_load(tes_harness *h, const char *path)
{
    char *err = NULL;

    if (!plugin_load(path, true, &err)) {
        set_error(h, err);
        return false;
    }
    return true;
}

const char *tes_harness_error(tes_harness *h)
{
    return h->error ? h->error : "";
}

const tes_host *tes_harness_host(tes_harness *h)
{
    return host_table();
}

bool tes_harness_drive(tes_harness *h, const char *opts)
{
    char *err = NULL;

    if (!drive_add(opts, &err)) {
        set_error(h, err);
        return false;
    }
    return true;
}

char *tes_harness_qmp(tes_harness *h, const char *json)
{
    char *g = qmp_run_text(json), *out = strdup(g);

    g_free(g);
    return out;
}

char *tes_harness_qmp_events(tes_harness *h)
{
    char *out = strdup(h->events->str);

    g_string_truncate(h->events, 0);
    return out;
}

/* ---- devices ---- */

/* Give every unconnected sysbus output a harness line whose level we read. */
static void wire_outputs(tes_harness *h, tes_device *d)
{
    for (unsigned i = 0; i < d->n_irq_out; i++) {
        if (!d->irq_out[i]) {
            tes_irq *line = irq_new(NULL, h, (int)i);

            g_ptr_array_add(h->lines, line);
            d->irq_out[i] = line;
        }
    }
}

static tes_device *create(tes_harness *h, const char *type, const char *props)
{
    char *err = NULL;
    const type_entry *te = type_lookup(type, TES_KIND_DEVICE, &err);
    tes_device *d;
    tes_bus *bus = NULL;

    if (!te) {
        set_error(h, err);
        return NULL;
    }
    d = dev_new(type, TES_KIND_DEVICE, &err);
    if (!d || (props && !dev_set_opts(d, props, &err))) {
        if (d) {
            dev_free(d);
        }
        set_error(h, err);
        return NULL;
    }
    /* PCI devices go on pci.0 unless bus= names another PCI bus. */
    if (te->info->bus && strcmp(te->info->bus, TES_BUS_PCI) == 0 && !d->bus_opt) {
        bus = h->pci0;
    }
    if (!dev_realize(d, bus, &err)) {
        dev_free(d);
        set_error(h, err);
        return NULL;
    }
    wire_outputs(h, d);
    return d;
}

tes_device *tes_harness_device(tes_harness *h, const char *type, const char *props)
{
    return create(h, type, props);
}

void *tes_harness_state(tes_device *dev)
{
    return dev ? dev->s : NULL;
}

void tes_harness_reset(tes_harness *h)
{
    block_batch_flush();
    devices_reset_all();
}

/* ---- memory ---- */

uint64_t tes_harness_read(tes_harness *h, uint64_t addr, unsigned size)
{
    uint64_t val = 0;

    as_access(memory_system(), addr, &val, size, false);
    return val;
}

/* The harness's caller stands for a vCPU: as the accelerator submits a
 * slice's block requests when the slice ends, the requests its register
 * writes queue go to the kernel together at its next flush point (a
 * block poll or wait, a clock step, a reset, a CPU run, migration, free). */
static void write_deferred(tes_region *as, uint64_t addr, uint64_t val, unsigned size)
{
    block_batch_begin();
    as_access(as, addr, &val, size, true);
    block_batch_end_deferred();
}

void tes_harness_write(tes_harness *h, uint64_t addr, uint64_t val, unsigned size)
{
    write_deferred(memory_system(), addr, val, size);
}

uint64_t tes_harness_io_read(tes_harness *h, uint64_t port, unsigned size)
{
    uint64_t val = 0;

    as_access(memory_io(), port, &val, size, false);
    return val;
}

void tes_harness_io_write(tes_harness *h, uint64_t port, uint64_t val, unsigned size)
{
    write_deferred(memory_io(), port, val, size);
}

void *tes_harness_ram(tes_harness *h)
{
    return region_ram_ptr(h->ram);
}

uint64_t tes_harness_ram_size(tes_harness *h)
{
    return h->ram_size;
}

/* ---- PCI ---- */

/* Config cycles go through the root bus by the number the function answers
 * to, so bridges route them as they would a guest's. */
uint32_t tes_harness_cfg_read(tes_harness *h, tes_device *dev, uint32_t off, unsigned size)
{
    uint16_t rid = pci_requester_id(dev);

    return pci_host_config_read(h->pci0, rid >> 8, rid & 0xff, off, size);
}

void tes_harness_cfg_write(tes_harness *h, tes_device *dev, uint32_t off, uint32_t val,
                           unsigned size)
{
    uint16_t rid = pci_requester_id(dev);

    pci_host_config_write(h->pci0, rid >> 8, rid & 0xff, off, val, size);
}

static uint32_t ld32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void enable_decoding(tes_harness *h, tes_device *dev)
{
    uint32_t cmd = tes_harness_cfg_read(h, dev, TES_PCI_COMMAND, 2);

    cmd |= TES_PCI_COMMAND_MEMORY | TES_PCI_COMMAND_IO | TES_PCI_COMMAND_MASTER;
    tes_harness_cfg_write(h, dev, TES_PCI_COMMAND, cmd, 2);
}

/* A BAR is present when some of its address bits are writable. */
static bool bar_info(tes_device *dev, int bar, bool *io, bool *mem64, uint64_t *size)
{
    uint32_t off = TES_PCI_BAR0 + 4 * bar;
    uint32_t flags, wmask;
    uint64_t mask;

    if (!dev->pci || bar < 0 || bar > 5) {
        return false;
    }
    wmask = ld32(pci_wmask(dev) + off);
    if (wmask == 0) {
        return false;
    }
    flags = ld32(pci_config(dev) + off);
    *io = flags & 1;
    *mem64 = !*io && ((flags >> 1) & 3) == 2 && bar < 5;
    mask = wmask & (*io ? ~3u : ~0xfu);
    if (*mem64) {
        mask |= (uint64_t)ld32(pci_wmask(dev) + off + 4) << 32;
    } else {
        mask |= 0xffffffff00000000ull;
    }
    *size = ~mask + 1;
    return true;
}

uint64_t tes_harness_bar_map(tes_harness *h, tes_device *dev, int bar, uint64_t addr)
{
    bool io, mem64;
    uint64_t size;
    uint32_t off = TES_PCI_BAR0 + 4 * bar;

    if (!bar_info(dev, bar, &io, &mem64, &size)) {
        return UINT64_MAX;
    }
    tes_harness_cfg_write(h, dev, off, (uint32_t)addr, 4);
    if (mem64) {
        tes_harness_cfg_write(h, dev, off + 4, (uint32_t)(addr >> 32), 4);
    }
    enable_decoding(h, dev);
    return addr;
}

/* Address of a memory BAR, mapping it at a free place when the test has not. */
static uint64_t bar_address(tes_harness *h, tes_device *dev, int bar)
{
    bool io, mem64;
    uint64_t size, base;
    uint32_t off = TES_PCI_BAR0 + 4 * bar;

    if (!bar_info(dev, bar, &io, &mem64, &size) || io) {
        return UINT64_MAX;
    }
    base = tes_harness_cfg_read(h, dev, off, 4) & ~0xfull;
    if (mem64) {
        base |= (uint64_t)tes_harness_cfg_read(h, dev, off + 4, 4) << 32;
    }
    if (base) {
        enable_decoding(h, dev);
        return base;
    }
    size = MAX(size, 0x1000);
    base = (h->next_bar + size - 1) & ~(size - 1); /* BARs are naturally aligned */
    h->next_bar = base + size;
    return tes_harness_bar_map(h, dev, bar, base);
}

/* MSI-X (PCI 3.0, section 6.8.2): table entries are address lo/hi, data,
 * vector control (bit 0 masked); control bit 15 enables, 14 masks all. */
static bool msix_enable(tes_harness *h, tes_device *dev, int cap)
{
    uint32_t ctrl = tes_harness_cfg_read(h, dev, cap + 2, 2);
    uint32_t table = tes_harness_cfg_read(h, dev, cap + 4, 4);
    unsigned n = (ctrl & 0x7ff) + 1;
    uint64_t base = bar_address(h, dev, table & 7);

    if (base == UINT64_MAX) {
        set_error(h, g_strdup_printf("%s: MSI-X table BAR %u is not a memory BAR",
                                     dev->name, table & 7));
        return false;
    }
    base += table & ~7u;
    for (unsigned i = 0; i < n; i++) {
        uint64_t addr = TES_HARNESS_MSI_BASE + 4 * i;

        tes_harness_write(h, base + 16 * i, (uint32_t)addr, 4);
        tes_harness_write(h, base + 16 * i + 4, addr >> 32, 4);
        tes_harness_write(h, base + 16 * i + 8, i, 4);
        tes_harness_write(h, base + 16 * i + 12, 0, 4);
    }
    ctrl = (ctrl | 0x8000) & ~0x4000u;
    tes_harness_cfg_write(h, dev, cap + 2, ctrl, 2);
    return true;
}

/* MSI (PCI 3.0, section 6.8.1): one address; vector i sends data | i. */
static void msi_enable(tes_harness *h, tes_device *dev, int cap)
{
    uint32_t ctrl = tes_harness_cfg_read(h, dev, cap + 2, 2);
    bool is64 = ctrl & 0x80;
    unsigned mmc = (ctrl >> 1) & 7;

    tes_harness_cfg_write(h, dev, cap + 4, (uint32_t)TES_HARNESS_MSI_BASE, 4);
    if (is64) {
        tes_harness_cfg_write(h, dev, cap + 8, (uint32_t)(TES_HARNESS_MSI_BASE >> 32), 4);
    }
    tes_harness_cfg_write(h, dev, cap + (is64 ? 12 : 8), 0, 2);
    if (ctrl & 0x100) { /* per-vector masking: unmask all */
        tes_harness_cfg_write(h, dev, cap + (is64 ? 16 : 12), 0, 4);
    }
    ctrl = (ctrl & ~0x70u) | (mmc << 4) | 1;
    tes_harness_cfg_write(h, dev, cap + 2, ctrl, 2);
}

bool tes_harness_msi_enable(tes_harness *h, tes_device *dev)
{
    int cap;

    if (!dev->pci) {
        return false;
    }
    enable_decoding(h, dev); /* an MSI is a DMA write: bus mastering */
    cap = pci_find_cap(dev, TES_PCI_CAP_ID_MSIX);
    if (cap > 0) {
        return msix_enable(h, dev, cap);
    }
    cap = pci_find_cap(dev, TES_PCI_CAP_ID_MSI);
    if (cap > 0) {
        msi_enable(h, dev, cap);
        return true;
    }
    return false;
}

/* ---- interrupts ---- */

int tes_harness_irq_level(tes_harness *h, tes_device *dev, unsigned idx)
{
    if (!dev || idx >= dev->n_irq_out || !dev->irq_out[idx]) {
        return 0;
    }
    return dev->irq_out[idx]->level;
}

int tes_harness_intx_level(tes_harness *h, tes_device *dev)
{
    uint8_t pin;
    uint16_t rid;

    if (!dev || !dev->pci) {
        return 0;
    }
    pin = pci_config(dev)[TES_PCI_INTERRUPT_PIN];
    if (pin == 0) {
        return 0;
    }
    if (dev->bus != h->pci0) {
        /* Behind a bridge the pin is swizzled and shared: ask the function. */
        return !!(pci_config(dev)[TES_PCI_STATUS] & TES_PCI_STATUS_INTERRUPT);
    }
    rid = pci_requester_id(dev);
    return h->intx[swizzle(h, rid & 0xff, pin - 1)]->level;
}

unsigned tes_harness_msi_count(tes_harness *h)
{
    return h->msis->len - h->msi_head;
}

bool tes_harness_msi_pop(tes_harness *h, uint64_t *addr, uint32_t *data)
{
    msi_msg *m;

    if (h->msi_head >= h->msis->len) {
        return false;
    }
    m = &g_array_index(h->msis, msi_msg, h->msi_head++);
    if (addr) {
        *addr = m->addr;
    }
    if (data) {
        *data = m->data;
    }
    if (h->msi_head == h->msis->len) {
        g_array_set_size(h->msis, 0);
        h->msi_head = 0;
    }
    return true;
}

/* ---- clock ---- */

int64_t tes_harness_clock_ns(tes_harness *h)
{
    return clock_ns();
}

void tes_harness_clock_step(tes_harness *h, int64_t ns)
{
    block_batch_flush();
    clock_step(ns);
}

/* ---- migration ---- */

static void append_opt(GString *opts, const char *name, const char *value)
{
    if (opts->len) {
        g_string_append_c(opts, ',');
    }
    g_string_append_printf(opts, "%s=", name);
    for (const char *p = value; *p; p++) {
        g_string_append_c(opts, *p);
        if (*p == ',') {
            g_string_append_c(opts, ','); /* ",," escapes a comma */
        }
    }
}

/* Everything needed to create the same device at the same place. */
static char *device_opts(tes_harness *h, tes_device *dev)
{
    GString *opts = g_string_new(NULL);
    const tes_prop_info *p = dev->type->props;

    for (; p && p->name; p++) {
        char *v = prop_value_string(dev, p);
        /* A backend property never set has no value to give back. */
        bool unset_backend = (p->kind == TES_PROP_CHR || p->kind == TES_PROP_DRIVE ||
                              p->kind == TES_PROP_NETDEV) &&
                             (!v || !*v);

        if (v && !unset_backend) {
            append_opt(opts, p->name, v);
        }
        g_free(v);
    }
    if (dev->id) {
        append_opt(opts, "id", dev->id);
    }
    if (dev->pci) {
        uint8_t devfn = pci_requester_id(dev) & 0xff;
        char *addr = g_strdup_printf("%x.%x", devfn >> 3, devfn & 7);

        append_opt(opts, "addr", addr);
        g_free(addr);
    }
    if (dev->bus && dev->bus != h->pci0 && dev->bus->parent) {
        append_opt(opts, "bus", dev->bus->name);
    }
    return g_string_free(opts, false);
}

/* dev_state_save() carries the core-owned PCI state (BARs, command, MSI)
 * ahead of the device's fields, so the new device answers where the old one
 * did. */
static GBytes *save_device(tes_device *dev, int *ret)
{
    tes_stream *w = stream_new_mem();
    const void *data;
    size_t len;
    GBytes *out;

    *ret = dev_state_save(dev, w);
    if (*ret == 0) {
        *ret = stream_error(w);
    }
    data = stream_mem_data(w, &len);
    out = g_bytes_new(data, len);
    stream_close(w);
    return out;
}

/* 0, or -errno with the loader's one-line refusal in *errp. */
static int load_device(tes_device *dev, GBytes *bytes, uint32_t version, char **errp)
{
    size_t len;
    const void *data = g_bytes_get_data(bytes, &len);
    tes_stream *r = stream_new_mem_reader(data, len);
    int ret = dev_state_load_err(dev, r, version, errp);

    stream_close(r);
    return ret;
}

static char *qualified_type(tes_device *dev)
{
    if (dev->te && dev->te->plugin) {
        return g_strdup_printf("%s:%s", dev->te->plugin->desc->name, dev->type->name);
    }
    return g_strdup(dev->type->name);
}

tes_device *tes_harness_migrate(tes_harness *h, tes_device *dev, size_t *bytes)
{
    const tes_state_info *st = dev->type->state;
    char *type, *opts, *err = NULL;
    GBytes *blob;
    tes_device *nd;
    int ret;

    if (!st || dev->type->migration_blocker) {
        set_error(h, g_strdup_printf("%s: type '%s' cannot migrate: %s", dev->name,
                                     dev->type->name, dev->type->migration_blocker
                                     ? dev->type->migration_blocker : "no migration state"));
        return NULL;
    }
    block_batch_flush();
    blob = save_device(dev, &ret);
    if (ret < 0) {
        set_error(h, g_strdup_printf("%s: saving state failed (%d)", dev->name, ret));
        g_bytes_unref(blob);
        return NULL;
    }
    if (bytes) {
        *bytes = g_bytes_get_size(blob);
    }
    type = qualified_type(dev);
    opts = device_opts(h, dev);
    dev_free(dev);
    nd = create(h, type, opts);
    if (nd && (ret = load_device(nd, blob, st->version, &err)) < 0) {
        set_error(h, g_strdup_printf("%s: loading state failed: %s", nd->name,
                                     err ? err : g_strerror(-ret)));
        nd = NULL; /* left in place: the test inspects the error */
    }
    g_free(err);
    g_free(type);
    g_free(opts);
    g_bytes_unref(blob);
    return nd;
}

/* ---- whole-machine migration ---- */

/* The harness's lines (sysbus outputs and pci.0's INTx) stand for the inputs
 * of an interrupt controller, and a controller's input levels are its
 * migration state: their levels go ahead of the stream, in creation order,
 * which a destination built by the same steps repeats. */
#define HARNESS_MACHINE_MAGIC 0x4d484854u /* "THHM" */

static void lines_save(tes_harness *h, tes_stream *w)
{
    mig_put_u32(w, HARNESS_MACHINE_MAGIC);
    mig_put_u32(w, HARNESS_NINTX + h->lines->len);
    for (unsigned i = 0; i < HARNESS_NINTX; i++) {
        mig_put_u8(w, h->intx[i]->level != 0);
    }
    for (guint i = 0; i < h->lines->len; i++) {
        mig_put_u8(w, ((tes_irq *)g_ptr_array_index(h->lines, i))->level != 0);
    }
}

static int lines_load(tes_harness *h, tes_stream *r)
{
    uint32_t magic = mig_get_u32(r), n = mig_get_u32(r);
    uint8_t v;

    if (stream_error(r) || magic != HARNESS_MACHINE_MAGIC ||
        n != HARNESS_NINTX + h->lines->len) {
        set_error(h, g_strdup_printf("harness machine state: %u lines saved, this harness has "
                                     "%u (not built as the source was)", n,
                                     HARNESS_NINTX + h->lines->len));
        return -EINVAL;
    }
    for (uint32_t i = 0; i < n; i++) {
        tes_irq *l = i < HARNESS_NINTX ? h->intx[i]
                                       : g_ptr_array_index(h->lines, i - HARNESS_NINTX);

        if (stream_read(r, &v, 1) < 0) {
            return -EIO;
        }
        /* The level only: the line has no handler, the "controller" is
         * the test, which reads it. A device that re-drove it at load
         * already agrees. */
        l->level = v;
    }
    return 0;
}

void *tes_harness_machine_save(tes_harness *h, size_t *len)
{
    tes_stream *w = stream_new_mem();
    char *err = NULL;
    void *out = NULL;
    const void *data;

    block_batch_flush();
    lines_save(h, w);
    if (migration_save(w, &err) < 0) {
        set_error(h, err ? err : g_strdup("saving the machine failed"));
        err = NULL;
    } else {
        data = stream_mem_data(w, len);
        out = malloc(*len);
        memcpy(out, data, *len);
    }
    g_free(err);
    stream_close(w);
    return out;
}

int tes_harness_machine_load(tes_harness *h, const void *data, size_t len)
{
    tes_stream *r = stream_new_mem_reader(data, len);
    char *err = NULL;
    int ret = lines_load(h, r);

    if (ret == 0 && (ret = migration_load(r, &err)) < 0) {
        set_error(h, err ? err : g_strdup("loading the machine failed"));
        err = NULL;
    }
    g_free(err);
    stream_close(r);
    return ret;
}

void *tes_harness_state_save(tes_harness *h, tes_device *dev, size_t *len)
{
    int ret;
    GBytes *blob;
    void *data = NULL;

    block_batch_flush();
    blob = save_device(dev, &ret);

    if (ret < 0) {
        set_error(h, g_strdup_printf("%s: saving state failed (%d)", dev->name, ret));
    } else {
        const void *p = g_bytes_get_data(blob, len);
        data = malloc(*len ? *len : 1);
        memcpy(data, p, *len);
    }
    g_bytes_unref(blob);
    return data;
}

int tes_harness_state_load(tes_harness *h, tes_device *dev, const void *data, size_t len)
{
    const tes_state_info *st = dev->type->state;
    g_autoptr(GBytes) blob = g_bytes_new_static(data, len);
    char *err = NULL;
    int ret = load_device(dev, blob, st ? st->version : 0, &err);

    if (ret < 0) {
        set_error(h, g_strdup_printf("%s: loading state failed: %s", dev->name,
                                     err ? err : g_strerror(-ret)));
    }
    g_free(err);
    return ret;
}

/* Cursor over a payload; false once it would pass the end. */
typedef struct poke_cur {
    uint8_t *p;
    size_t left;
} poke_cur;

static bool cur_skip(poke_cur *c, uint64_t n)
{
    if (n > c->left) {
        return false;
    }
    c->p += n;
    c->left -= n;
    return true;
}

static bool cur_u32(poke_cur *c, uint32_t *v)
{
    if (c->left < 4) {
        return false;
    }
    *v = c->p[0] | c->p[1] << 8 | c->p[2] << 16 | (uint32_t)c->p[3] << 24;
    return cur_skip(c, 4);
}

/* The core's PCI state (pci_state_save): version, config, MSI-X, INTx. */
static bool cur_skip_pci(poke_cur *c)
{
    uint32_t v, n;

    return cur_u32(c, &v) && cur_u32(c, &n) && cur_skip(c, n) && cur_u32(c, &n) &&
           cur_skip(c, (uint64_t)n * 16) && cur_u32(c, &n) && cur_skip(c, n) &&
           cur_skip(c, 1);
}

bool tes_harness_state_poke(tes_device *dev, void *data, size_t len, const char *name,
                            unsigned index, uint64_t value)
{
    poke_cur c = {data, len};
    uint32_t count, nlen, n, blen;

    if ((dev->pci && !cur_skip_pci(&c)) || !cur_u32(&c, &count)) {
        return false;
    }
    for (uint32_t i = 0; i < count; i++) {
        bool match;

        if (!cur_u32(&c, &nlen) || nlen > c.left) {
            return false;
        }
        match = nlen == strlen(name) && memcmp(c.p, name, nlen) == 0;
        if (!cur_skip(&c, nlen + 1) || !cur_u32(&c, &n) || !cur_u32(&c, &blen) ||
            blen > c.left) {
            return false;
        }
        if (match) {
            unsigned esz = n ? blen / n : 0;
            if (index >= n || esz == 0 || esz > 8) {
                return false;
            }
            for (unsigned b = 0; b < esz; b++) {
                c.p[index * esz + b] = (uint8_t)(value >> (8 * b));
            }
            return true;
        }
        cur_skip(&c, blen);
    }
    return false;
}

/* ---- vCPUs ---- */

tes_cpu *tes_harness_cpu(tes_harness *h, const char *model, unsigned index)
{
    tes_cpu *cpu = cpu_create(NULL, model, index);

    if (!cpu) {
        set_error(h, g_strdup_printf("cannot create CPU '%s'", model));
        return NULL;
    }
    cpu_set_running(cpu, true);
    return cpu;
}

tes_exec_status tes_harness_cpu_exec(tes_harness *h, tes_cpu *cpu, uint64_t budget,
                                     uint64_t *executed)
{
    uint64_t n = 0;
    tes_exec_status st;

    block_batch_begin(); /* as the accelerator's slices (accel.c run_one) */
    st = cpu_exec_one(cpu, budget, &n);
    block_batch_end();

    if (executed) {
        *executed = n;
    }
    return st;
}

void *tes_harness_cpu_state(tes_cpu *cpu)
{
    return cpu_state(cpu);
}

void tes_harness_cpu_reset(tes_harness *h, tes_cpu *cpu)
{
    if (cpu->ops->reset) {
        cpu->ops->reset(cpu, cpu->dev->s);
    }
    cpu_apply_boot(cpu);
}

/* ---- log capture ---- */

void tes_harness_log_capture(tes_harness *h, unsigned mask)
{
    log_set_capture(h->log, mask);
}

const char *tes_harness_log_text(tes_harness *h)
{
    return h->log->str;
}

void tes_harness_log_clear(tes_harness *h)
{
    g_string_truncate(h->log, 0);
}

/* ---- asynchronous block completions, config cycles by BDF ---- */

void tes_harness_block_poll(tes_harness *h)
{
    drives_poll(false);
}

void tes_harness_block_wait(tes_harness *h)
{
    drives_poll(true);
}

uint32_t tes_harness_cfg_read_bdf(tes_harness *h, uint8_t bus, uint8_t devfn, uint32_t off,
                                  unsigned size)
{
    return pci_host_config_read(h->pci0, bus, devfn, off, size);
}

void tes_harness_cfg_write_bdf(tes_harness *h, uint8_t bus, uint8_t devfn, uint32_t off,
                               uint32_t val, unsigned size)
{
    pci_host_config_write(h->pci0, bus, devfn, off, val, size);
}

/* Level of root INTx line i of pci.0 (after the (slot + pin) % 4 swizzle). */
int tes_harness_pci_line(tes_harness *h, unsigned line)
{
    return line < HARNESS_NINTX ? h->intx[line]->level : 0;
}

/* ---- network: a backend that is the test ---- */

typedef struct sent_frame {
    unsigned queue;
    tes_net_hdr hdr;
    size_t len;
    uint8_t data[];
} sent_frame;

typedef struct hnet {
    GQueue sent; /* sent_frame*, oldest first */
} hnet;

static bool hnet_init(tes_netdev *nd, net_opts *o, char **errp)
{
    bool vnet;
    hnet *b;

    if (!net_opt_uint(o, "queues", 1, NET_MAX_QUEUES, &nd->nqueues, errp) ||
        !net_opt_bool(o, "vnet_hdr", false, &vnet, errp)) {
        return false;
    }
    nd->offloads = vnet ? TES_NET_OFFLOAD_CSUM | TES_NET_OFFLOAD_TSO4 | TES_NET_OFFLOAD_TSO6 |
                          TES_NET_OFFLOAD_ECN | TES_NET_OFFLOAD_UFO : 0;
    b = g_new0(hnet, 1);
    g_queue_init(&b->sent);
    nd->be = b;
    return true;
}

static void hnet_send(tes_netdev *nd, unsigned bq, const tes_net_hdr *hdr,
                      const struct iovec *iov, unsigned iovcnt)
{
    hnet *b = nd->be;
    size_t len = 0, off = 0;
    sent_frame *f;

    for (unsigned i = 0; i < iovcnt; i++) {
        len += iov[i].iov_len;
    }
    f = g_malloc0(sizeof(*f) + len);
    f->queue = bq;
    if (hdr) {
        f->hdr = *hdr;
    }
    f->len = len;
    for (unsigned i = 0; i < iovcnt; i++) {
        memcpy(f->data + off, iov[i].iov_base, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    g_queue_push_tail(&b->sent, f);
}

static void hnet_cleanup(tes_netdev *nd)
{
    hnet *b = nd->be;

    if (b) {
        g_queue_clear_full(&b->sent, g_free);
        g_free(b);
    }
}

static const net_backend hnet_backend = {
    .type = "harness",
    .init = hnet_init,
    .send = hnet_send,
    .cleanup = hnet_cleanup,
};

bool tes_harness_netdev(tes_harness *h, const char *opts)
{
    net_opts o = {0};
    char *err = NULL;
    tes_netdev *nd = NULL;

    if (net_opts_parse(opts, &o, &err)) {
        nd = netdev_create(net_opt_get(&o, "id"), &hnet_backend, &o, &err);
    }
    net_opts_free(&o);
    if (!nd) {
        set_error(h, err);
        return false;
    }
    nd->legacy = true;
    return true;
}

static tes_netdev *harness_nd(const char *id)
{
    tes_netdev *nd = netdev_find(id);

    return nd && nd->ops == &hnet_backend ? nd : NULL;
}

int tes_harness_net_inject(tes_harness *h, const char *id, unsigned queue, const tes_net_hdr *hdr,
                           const void *buf, size_t len)
{
    tes_netdev *nd = harness_nd(id);
    int ret;

    if (!nd) {
        return -ENODEV;
    }
    if (len == 0 || len > TES_NET_MAX_FRAME || queue >= nd->nqueues) {
        return -EINVAL;
    }
    core_lock();
    ret = net_deliver_ret(nd, queue, hdr, buf, len);
    core_unlock();
    return ret;
}

void tes_harness_net_poll(tes_harness *h)
{
    GPtrArray *all = netdevs_list();

    core_lock();
    for (guint i = 0; all && i < all->len; i++) {
        tes_netdev *nd = g_ptr_array_index(all, i);
        if (nd->bh) {
            net_run_pending(nd);
        }
    }
    core_unlock();
}

unsigned tes_harness_net_queued(tes_harness *h, const char *id)
{
    tes_netdev *nd = netdev_find(id);

    return nd ? net_pending_count(nd) : 0;
}

unsigned tes_harness_net_sent_count(tes_harness *h, const char *id)
{
    tes_netdev *nd = harness_nd(id);

    return nd ? g_queue_get_length(&((hnet *)nd->be)->sent) : 0;
}

int tes_harness_net_sent(tes_harness *h, const char *id, void *buf, size_t size,
                         unsigned *queue, tes_net_hdr *hdr)
{
    tes_netdev *nd = harness_nd(id);
    sent_frame *f = nd ? g_queue_pop_head(&((hnet *)nd->be)->sent) : NULL;
    int len;

    if (!f) {
        return -1;
    }
    memcpy(buf, f->data, MIN(size, f->len));
    if (queue) {
        *queue = f->queue;
    }
    if (hdr) {
        *hdr = f->hdr;
    }
    len = (int)f->len;
    g_free(f);
    return len;
}

void tes_harness_net_set_link(tes_harness *h, const char *id, bool up)
{
    char *err = NULL;

    core_lock();
    if (!netdev_set_link(id, up, &err)) {
        set_error(h, err);
    }
    core_unlock();
}
