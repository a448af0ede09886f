/*
 * Unit tests of the core PCI model: config cycles, BAR sizing and mapping,
 * capability lists, MSI and MSI-X delivery, INTx routing, bridges and the
 * core-owned migration state. Devices are test-only types registered
 * through a fake plugin and created with the registry like -device would.
 */
#include <errno.h>
#include <string.h>

#include "core.h"

#define ROOT_IRQS 4
#define DOORBELL 0xfee00000ull

/* ---- test device types ---- */

typedef struct ep_state {
    tes_region *bar0, *bar2, *bar4;
    int pm_off, msi_off, msix_off, pcie_off, dsn_off;
} ep_state;

typedef struct bridge_state {
    int pcie_off;
    tes_bus *sec;
} bridge_state;

typedef struct legacy_state {
    tes_region *bar0;
} legacy_state;

static uint64_t tag_read(void *opaque, uint64_t offset, unsigned size)
{
    return (uint32_t)(uintptr_t)opaque | offset;
}

static void tag_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
}

static const tes_mem_ops tag_ops = {
    .size = sizeof(tes_mem_ops), .read = tag_read, .write = tag_write,
    .endian = TES_ENDIAN_LITTLE, .valid_min = 1, .valid_max = 4, .impl_min = 4, .impl_max = 4,
};

static int ep_realize(tes_device *dev, void *opaque)
{
    ep_state *s = opaque;

    s->bar0 = region_new_io(dev, "ep-bar0", 1 << 20, &tag_ops, (void *)(uintptr_t)0xa5a50000);
    s->bar2 = region_new_container(dev, "ep-bar2", 0x4000);
    s->bar4 = region_new_io(dev, "ep-bar4", 32, &tag_ops, (void *)(uintptr_t)0x5a00);
    if (pci_register_bar(dev, 0, TES_PCI_BAR_MEM32, s->bar0) ||
        pci_register_bar(dev, 2, TES_PCI_BAR_MEM64 | TES_PCI_BAR_PREFETCH, s->bar2) ||
        pci_register_bar(dev, 4, TES_PCI_BAR_IO, s->bar4)) {
        return -EINVAL;
    }
    s->pm_off = pci_pm_init(dev, 0x40);
    s->msi_off = pci_msi_init(dev, 0, 4, true, true);
    s->msix_off = pci_msix_init(dev, 0, 8, 2, s->bar2, 0, 0x2000);
    s->pcie_off = pci_pcie_cap_init(dev, 0, TES_PCIE_TYPE_ENDPOINT);
    s->dsn_off = pci_add_ext_cap(dev, TES_PCI_EXT_CAP_ID_DSN, 1, 0, 12);
    return 0;
}

static int legacy_realize(tes_device *dev, void *opaque)
{
    legacy_state *s = opaque;

    s->bar0 = region_new_io(dev, "legacy-bar0", 0x1000, &tag_ops, (void *)(uintptr_t)0x77000000);
    return pci_register_bar(dev, 0, TES_PCI_BAR_MEM32, s->bar0);
}

/* The out-of-tree author's mistake: MSI-X in a BAR that is an I/O region,
 * not a container. ignore_ret=on plays a plugin that ignores the result. */
typedef struct msix_io_state {
    tes_region *bar0;
    int msix_ret;
    bool ignore_ret;
} msix_io_state;

static int msix_io_realize(tes_device *dev, void *opaque)
{
    msix_io_state *s = opaque;

    s->bar0 = region_new_io(dev, "mio-bar0", 0x4000, &tag_ops, (void *)(uintptr_t)0x1000);
    if (pci_register_bar(dev, 0, TES_PCI_BAR_MEM32, s->bar0)) {
        return -EINVAL;
    }
    s->msix_ret = pci_msix_init(dev, 0, 4, 0, s->bar0, 0x2000, 0x3000);
    return s->ignore_ret ? 0 : s->msix_ret;
}

static int bridge_realize(tes_device *dev, void *opaque)
{
    bridge_state *s = opaque;

    s->pcie_off = pci_pcie_cap_init(dev, 0, TES_PCIE_TYPE_ROOT_PORT);
    s->sec = pci_bridge_bus_new(dev, dev->id ? dev->id : "bridge-bus");
    return s->sec ? 0 : -EINVAL;
}

static const tes_pci_info ep_pci = {
    .size = sizeof(tes_pci_info), .vendor_id = 0x1234, .device_id = 0x11e8,
    .subsystem_vendor_id = 0x1af4, .subsystem_id = 0x1100, .revision = 0x01,
    .class_id = 0x00ff, .irq_pin = 1,
};

static const tes_pci_info legacy_pci = {
    .size = sizeof(tes_pci_info), .vendor_id = 0x8086, .device_id = 0x100e,
    .class_id = 0x0200, .irq_pin = 1,
};

static const tes_pci_info bridge_pci = {
    .size = sizeof(tes_pci_info), .vendor_id = 0x1b36, .device_id = 0x000c,
    .class_id = 0x0604, .header_type = 1, .irq_pin = 1,
};

static const tes_type_info ep_type = {
    .size = sizeof(tes_type_info), .kind = TES_KIND_DEVICE, .name = "pt-ep",
    .desc = "PCIe endpoint with MSI, MSI-X and three BARs", .bus = TES_BUS_PCI,
    .instance_size = sizeof(ep_state), .realize = ep_realize, .class_info = &ep_pci,
};

static const tes_type_info legacy_type = {
    .size = sizeof(tes_type_info), .kind = TES_KIND_DEVICE, .name = "pt-legacy",
    .desc = "conventional PCI device, one BAR", .bus = TES_BUS_PCI,
    .instance_size = sizeof(legacy_state), .realize = legacy_realize,
    .class_info = &legacy_pci,
};

static const tes_prop_info msix_io_props[] = {
    TES_PROP("ignore_ret", TES_PROP_BOOL, msix_io_state, ignore_ret, "off", 0, 0,
             "realize returns 0 whatever pci_msix_init said"),
    TES_PROP_END,
};

static const tes_type_info msix_io_type = {
    .size = sizeof(tes_type_info), .kind = TES_KIND_DEVICE, .name = "pt-msix-io",
    .desc = "MSI-X table asked for in an I/O-region BAR", .bus = TES_BUS_PCI,
    .instance_size = sizeof(msix_io_state), .props = msix_io_props,
    .realize = msix_io_realize, .class_info = &legacy_pci,
};

static const tes_type_info bridge_type = {
    .size = sizeof(tes_type_info), .kind = TES_KIND_DEVICE, .name = "pt-bridge",
    .desc = "PCIe root port", .bus = TES_BUS_PCI, .instance_size = sizeof(bridge_state),
    .realize = bridge_realize, .class_info = &bridge_pci,
};

static const tes_type_info *const test_types[] = {&ep_type, &legacy_type, &bridge_type,
                                                  &msix_io_type, NULL};

static const tes_plugin_desc test_desc = {
    .size = sizeof(tes_plugin_desc), .abi_major = TES_ABI_MAJOR, .abi_minor = TES_ABI_MINOR,
    .name = "pci-test", .version = "1.0.0", .license = "MIT", .types = test_types,
};

static plugin test_plugin = {.path = (char *)"test-pci", .desc = &test_desc};

/* ---- fixture: root bus, MSI doorbell, INTx lines ---- */

static tes_bus *root;
static struct {
    unsigned count;
    uint64_t addr[16];
    uint32_t data[16];
    unsigned size[16];
} msis;
static int line_level[ROOT_IRQS];
static int map_calls_devfn = -1, map_calls_pin = -1;

static uint64_t doorbell_read(void *opaque, uint64_t offset, unsigned size)
{
    return 0;
}

static void doorbell_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    if (msis.count < 16) {
        msis.addr[msis.count] = DOORBELL + offset;
        msis.data[msis.count] = (uint32_t)value;
        msis.size[msis.count] = size;
    }
    msis.count++;
}

static const tes_mem_ops doorbell_ops = {
    .size = sizeof(tes_mem_ops), .read = doorbell_read, .write = doorbell_write,
    .endian = TES_ENDIAN_LITTLE, .valid_min = 1, .valid_max = 8, .impl_min = 1, .impl_max = 8,
};

static void line_handler(void *opaque, int n, int level)
{
    line_level[n] = level;
}

/* Classic swizzle at the root: (slot + pin) % 4. */
static int root_map_irq(void *opaque, uint8_t devfn, int pin)
{
    map_calls_devfn = devfn;
    map_calls_pin = pin;
    return ((devfn >> 3) + pin) % 4;
}

static void setup(void)
{
    tes_irq *irqs[ROOT_IRQS];

    memory_reset();
    memset(&msis, 0, sizeof(msis));
    memset(line_level, 0, sizeof(line_level));
    map_calls_devfn = map_calls_pin = -1;
    root = pci_root_bus_new(NULL, "pci.0", memory_system(), memory_io());
    g_assert_nonnull(root);
    region_add(memory_system(), DOORBELL,
               region_new_io(NULL, "doorbell", 0x100000, &doorbell_ops, NULL), 10);
    for (int i = 0; i < ROOT_IRQS; i++) {
        irqs[i] = irq_new(line_handler, NULL, i);
    }
    pci_bus_set_irqs(root, root_map_irq, NULL, irqs, ROOT_IRQS);
}

static void teardown(void)
{
    registry_reset();
    memory_reset();
}

static tes_device *mkdev(const char *type, const char *opts, tes_bus *bus)
{
    char *err = NULL;
    tes_device *d = dev_new(type, TES_KIND_DEVICE, &err);

    g_assert_null(err);
    g_assert_nonnull(d);
    if (!dev_set_opts(d, opts, &err) || !dev_realize(d, bus, &err)) {
        g_error("creating %s,%s: %s", type, opts, err);
    }
    return d;
}

static uint32_t cfgr(uint8_t bus, uint8_t devfn, uint32_t off, unsigned len)
{
    return pci_host_config_read(root, bus, devfn, off, len);
}

static void cfgw(uint8_t bus, uint8_t devfn, uint32_t off, uint32_t val, unsigned len)
{
    pci_host_config_write(root, bus, devfn, off, val, len);
}

static uint64_t mem_read(tes_region *as, uint64_t addr, unsigned size, int *ret)
{
    uint64_t v = 0;

    *ret = as_access(as, addr, &v, size, false);
    return v;
}

static uint32_t rd32(uint64_t addr)
{
    int ret;

    return (uint32_t)mem_read(memory_system(), addr, 4, &ret);
}

static void wr32(uint64_t addr, uint32_t val)
{
    uint64_t v = val;

    g_assert_cmpint(as_access(memory_system(), addr, &v, 4, true), ==, 0);
}

/* ---- tests ---- */

static void test_ids_readable(void)
{
    setup();
    mkdev("pt-ep", "id=e0,addr=04.0", root);
    g_assert_cmphex(cfgr(0, 0x20, 0x00, 4), ==, 0x11e81234);
    g_assert_cmphex(cfgr(0, 0x20, 0x02, 2), ==, 0x11e8);
    g_assert_cmphex(cfgr(0, 0x20, 0x08, 4), ==, 0x00ff0001);
    g_assert_cmphex(cfgr(0, 0x20, 0x2c, 4), ==, 0x11001af4);
    g_assert_cmphex(cfgr(0, 0x20, TES_PCI_HEADER_TYPE, 1), ==, 0);
    g_assert_cmphex(cfgr(0, 0x20, TES_PCI_INTERRUPT_PIN, 1), ==, 1);
    /* Read-only ids ignore writes; a dword-crossing read is split. */
    cfgw(0, 0x20, 0x00, 0xdeadbeef, 4);
    g_assert_cmphex(cfgr(0, 0x20, 0x00, 4), ==, 0x11e81234);
    g_assert_cmphex(cfgr(0, 0x20, 0x03, 2), ==, 0x0011);
    teardown();
}

static void test_absent_reads_ones(void)
{
    setup();
    mkdev("pt-ep", "addr=04.0", root);
    g_assert_cmphex(cfgr(0, 0x18, 0x00, 4), ==, 0xffffffff);
    g_assert_cmphex(cfgr(0, 0x21, 0x00, 2), ==, 0xffff);
    g_assert_cmphex(cfgr(7, 0x20, 0x00, 4), ==, 0xffffffff); /* no bridge routes bus 7 */
    cfgw(0, 0x18, 0x04, 0x7, 2);                             /* ignored, no crash */
    teardown();
}

static void test_plug_errors(void)
{
    char *err = NULL;
    tes_device *d;

    setup();
    mkdev("pt-ep", "id=e0,addr=0x4", root);
    g_assert_cmphex(cfgr(0, 0x20, 0x00, 2), ==, 0x1234);
    d = dev_new("pt-legacy", TES_KIND_DEVICE, &err);
    g_assert_true(dev_set_opts(d, "id=l0,addr=04.0", &err));
    g_assert_false(dev_realize(d, root, &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err, "PCI: slot 04.0 on bus pci.0 is already in use by e0"));
    g_free(err);
    err = NULL;
    g_assert_false(pci_plug(d, root, "zz.9", &err));
    g_assert_nonnull(strstr(err, "bad address"));
    g_free(err);
    dev_free(d);
    /* No address: the first free slot, function 0. */
    mkdev("pt-legacy", "id=l1", root);
    g_assert_cmphex(cfgr(0, 0x00, 0x00, 2), ==, 0x8086);
    teardown();
}

static void test_bar_sizing(void)
{
    setup();
    mkdev("pt-ep", "addr=04.0", root);
    /* 1 MiB 32-bit memory. */
    cfgw(0, 0x20, 0x10, 0xffffffff, 4);
    g_assert_cmphex(cfgr(0, 0x20, 0x10, 4), ==, 0xfff00000);
    /* 16 KiB 64-bit prefetchable: type bits 0xc in the low dword. */
    cfgw(0, 0x20, 0x18, 0xffffffff, 4);
    cfgw(0, 0x20, 0x1c, 0xffffffff, 4);
    g_assert_cmphex(cfgr(0, 0x20, 0x18, 4), ==, 0xffffc00c);
    g_assert_cmphex(cfgr(0, 0x20, 0x1c, 4), ==, 0xffffffff);
    /* 32 bytes of I/O. */
    cfgw(0, 0x20, 0x20, 0xffffffff, 4);
    g_assert_cmphex(cfgr(0, 0x20, 0x20, 4), ==, 0xffffffe1);
    /* Unimplemented BARs stay zero. */
    cfgw(0, 0x20, 0x14, 0xffffffff, 4);
    cfgw(0, 0x20, 0x24, 0xffffffff, 4);
    g_assert_cmphex(cfgr(0, 0x20, 0x14, 4), ==, 0);
    g_assert_cmphex(cfgr(0, 0x20, 0x24, 4), ==, 0);
    teardown();
}

static void test_bar_register_rejects_bad_sizes(void)
{
    tes_device *d;

    setup();
    d = mkdev("pt-legacy", "addr=01.0", root);
    g_assert_cmpint(pci_register_bar(d, 1, TES_PCI_BAR_MEM32,
                                     region_new_container(d, "odd", 0x3000)), ==, -EINVAL);
    g_assert_cmpint(pci_register_bar(d, 2, TES_PCI_BAR_MEM32,
                                     region_new_container(d, "tiny", 8)), ==, -EINVAL);
    g_assert_cmpint(pci_register_bar(d, 5, TES_PCI_BAR_MEM64,
                                     region_new_container(d, "last64", 0x1000)), ==, -EINVAL);
    g_assert_cmpint(pci_register_bar(d, 0, TES_PCI_BAR_MEM32,
                                     region_new_container(d, "taken", 0x1000)), ==, -EBUSY);
    teardown();
}

static void test_bar_mapping(void)
{
    int ret;

    setup();
    mkdev("pt-ep", "addr=04.0", root);
    cfgw(0, 0x20, 0x10, 0x10000000, 4);
    g_assert_cmphex(mem_read(memory_system(), 0x10000004, 4, &ret), ==, 0xffffffff);
    g_assert_cmpint(ret, ==, TES_MEM_UNASSIGNED);
    cfgw(0, 0x20, TES_PCI_COMMAND, TES_PCI_COMMAND_MEMORY, 2);
    g_assert_cmphex(mem_read(memory_system(), 0x10000004, 4, &ret), ==, 0xa5a50004);
    g_assert_cmpint(ret, ==, 0);
    /* Reprogrammed: moves. */
    cfgw(0, 0x20, 0x10, 0x20000000, 4);
    g_assert_cmphex(mem_read(memory_system(), 0x10000004, 4, &ret), ==, 0xffffffff);
    g_assert_cmphex(mem_read(memory_system(), 0x20000008, 4, &ret), ==, 0xa5a50008);
    /* Sizing while enabled unmaps (all ones is no address). */
    cfgw(0, 0x20, 0x10, 0xffffffff, 4);
    g_assert_cmphex(mem_read(memory_system(), 0x20000008, 4, &ret), ==, 0xffffffff);
    g_assert_cmphex(mem_read(memory_system(), 0xfff00008, 4, &ret), ==, 0xffffffff);
    cfgw(0, 0x20, 0x10, 0x20000000, 4);
    /* Memory decoding off: gone. */
    cfgw(0, 0x20, TES_PCI_COMMAND, 0, 2);
    g_assert_cmphex(mem_read(memory_system(), 0x20000008, 4, &ret), ==, 0xffffffff);
    /* I/O BAR decodes with COMMAND.IO only. */
    cfgw(0, 0x20, 0x20, 0xc000, 4);
    g_assert_cmphex(mem_read(memory_io(), 0xc004, 4, &ret), ==, 0xffffffff);
    cfgw(0, 0x20, TES_PCI_COMMAND, TES_PCI_COMMAND_IO, 2);
    g_assert_cmphex(mem_read(memory_io(), 0xc004, 4, &ret), ==, 0x5a04);
    teardown();
}

static void test_bar64_mapping_high(void)
{
    tes_device *d;
    int ret;

    setup();
    d = mkdev("pt-ep", "addr=04.0", root);
    cfgw(0, 0x20, 0x18, 0x0000000c, 4);
    cfgw(0, 0x20, 0x1c, 0x00000001, 4); /* 0x1_0000_0000 */
    cfgw(0, 0x20, TES_PCI_COMMAND, TES_PCI_COMMAND_MEMORY, 2);
    /* MSI-X table entry 0 vector control reads masked from above 4 GiB. */
    g_assert_cmphex(mem_read(memory_system(), 0x10000000cull, 4, &ret), ==, 1);
    g_assert_cmpint(ret, ==, 0);
    g_assert_true(pci_config(d)[0x18] == 0x0c);
    teardown();
}

static void test_cap_list(void)
{
    static const uint8_t want_id[] = {TES_PCI_CAP_ID_PM, TES_PCI_CAP_ID_MSI,
                                      TES_PCI_CAP_ID_MSIX, TES_PCI_CAP_ID_EXP};
    tes_device *d;
    ep_state *s;
    int got_off[4] = {0};
    unsigned n = 0, p;

    setup();
    d = mkdev("pt-ep", "addr=04.0", root);
    s = d->s;
    g_assert_cmpint(s->pm_off, ==, 0x40);
    g_assert_cmphex(cfgr(0, 0x20, TES_PCI_STATUS, 2) & TES_PCI_STATUS_CAP_LIST, !=, 0);
    for (p = cfgr(0, 0x20, TES_PCI_CAPABILITY_LIST, 1); p && n < 8; n++) {
        g_assert_cmpuint(n, <, 4);
        g_assert_cmphex(cfgr(0, 0x20, p, 1), ==, want_id[n]);
        got_off[n] = (int)p;
        p = cfgr(0, 0x20, p + 1, 1);
    }
    g_assert_cmpuint(n, ==, 4);
    g_assert_cmpint(got_off[0], ==, s->pm_off);
    g_assert_cmpint(got_off[1], ==, s->msi_off);
    g_assert_cmpint(got_off[2], ==, s->msix_off);
    g_assert_cmpint(got_off[3], ==, s->pcie_off);
    g_assert_cmpint(pci_find_cap(d, TES_PCI_CAP_ID_MSI), ==, s->msi_off);
    g_assert_cmpint(pci_find_cap(d, TES_PCI_CAP_ID_EXP), ==, s->pcie_off);
    g_assert_cmpint(pci_find_cap(d, TES_PCI_CAP_ID_VNDR), ==, 0);
    /* Overlapping an existing capability is refused. */
    g_assert_cmpint(pci_add_cap(d, TES_PCI_CAP_ID_VNDR, (uint8_t)s->msi_off, 4), ==, -EBUSY);
    /* PCIe capability version 2, endpoint; extended space with DSN at 0x100. */
    g_assert_cmphex(cfgr(0, 0x20, s->pcie_off + 2, 2) & 0xff, ==, 0x02);
    g_assert_cmpint(s->dsn_off, ==, 0x100);
    g_assert_cmphex(cfgr(0, 0x20, 0x100, 4), ==, 0x00010003);
    teardown();
}

static void test_conventional_extended_reads_zero(void)
{
    setup();
    mkdev("pt-legacy", "addr=01.0", root);
    g_assert_cmphex(cfgr(0, 0x08, 0x100, 4), ==, 0);
    g_assert_cmphex(cfgr(0, 0x08, 0xffc, 4), ==, 0);
    g_assert_cmphex(cfgr(0, 0x08, TES_PCI_STATUS, 2) & TES_PCI_STATUS_CAP_LIST, ==, 0);
    teardown();
}

static void test_pm_states(void)
{
    tes_device *d;
    ep_state *s;

    setup();
    d = mkdev("pt-ep", "addr=04.0", root);
    s = d->s;
    g_assert_cmphex(cfgr(0, 0x20, s->pm_off + 2, 2) & 7, ==, 3);
    cfgw(0, 0x20, s->pm_off + 4, 3, 2);
    g_assert_cmphex(cfgr(0, 0x20, s->pm_off + 4, 2) & 3, ==, 3);
    cfgw(0, 0x20, s->pm_off + 4, 1, 2); /* D1 unsupported: stays D3hot */
    g_assert_cmphex(cfgr(0, 0x20, s->pm_off + 4, 2) & 3, ==, 3);
    cfgw(0, 0x20, s->pm_off + 4, 0, 2);
    g_assert_cmphex(cfgr(0, 0x20, s->pm_off + 4, 2) & 3, ==, 0);
    teardown();
}

/* BAR2 at 0xe0000000 (table at +0, PBA at +0x2000), memory and master on. */
static tes_device *msix_dev(void)
{
    tes_device *d = mkdev("pt-ep", "addr=04.0", root);

    cfgw(0, 0x20, 0x18, 0xe000000c, 4);
    cfgw(0, 0x20, 0x1c, 0, 4);
    cfgw(0, 0x20, TES_PCI_COMMAND, TES_PCI_COMMAND_MEMORY | TES_PCI_COMMAND_MASTER, 2);
    return d;
}

static void test_msix_pending_and_unmask(void)
{
    tes_device *d;
    ep_state *s;

    setup();
    d = msix_dev();
    s = d->s;
    g_assert_cmphex(cfgr(0, 0x20, s->msix_off + 2, 2), ==, 7); /* 8 vectors */
    g_assert_cmphex(cfgr(0, 0x20, s->msix_off + 4, 4), ==, 0x2);      /* BIR 2, offset 0 */
    g_assert_cmphex(cfgr(0, 0x20, s->msix_off + 8, 4), ==, 0x2002);
    cfgw(0, 0x20, s->msix_off + 2, 0x8000, 2);
    g_assert_true(pci_msix_enabled(d));
    g_assert_cmphex(rd32(0xe000001c), ==, 1); /* masked at reset */
    wr32(0xe0000010, (uint32_t)DOORBELL + 4);
    wr32(0xe0000014, 0);
    wr32(0xe0000018, 0x4321);
    pci_notify(d, 1);
    g_assert_cmpuint(msis.count, ==, 0);
    g_assert_cmphex(rd32(0xe0002000), ==, 0x2);
    wr32(0xe000001c, 0); /* unmask: the pending message goes */
    g_assert_cmpuint(msis.count, ==, 1);
    g_assert_cmphex(msis.addr[0], ==, DOORBELL + 4);
    g_assert_cmphex(msis.data[0], ==, 0x4321);
    g_assert_cmpuint(msis.size[0], ==, 4);
    g_assert_cmphex(rd32(0xe0002000), ==, 0);
    pci_notify(d, 1);
    g_assert_cmpuint(msis.count, ==, 2);
    /* Function mask holds every vector; clearing it releases them. */
    cfgw(0, 0x20, s->msix_off + 2, 0xc000, 2);
    pci_notify(d, 1);
    g_assert_cmpuint(msis.count, ==, 2);
    g_assert_cmphex(rd32(0xe0002000), ==, 0x2);
    cfgw(0, 0x20, s->msix_off + 2, 0x8000, 2);
    g_assert_cmpuint(msis.count, ==, 3);
    /* No bus master: the message is dropped. */
    cfgw(0, 0x20, TES_PCI_COMMAND, TES_PCI_COMMAND_MEMORY, 2);
    pci_notify(d, 1);
    g_assert_cmpuint(msis.count, ==, 3);
    teardown();
}

static void test_msi_multiple_vectors(void)
{
    tes_device *d;
    ep_state *s;
    unsigned o;

    setup();
    d = mkdev("pt-ep", "addr=04.0", root);
    s = d->s;
    o = (unsigned)s->msi_off;
    cfgw(0, 0x20, TES_PCI_COMMAND, TES_PCI_COMMAND_MASTER, 2);
    /* 64-bit, maskable, 4 vectors capable (MMC = 2). */
    g_assert_cmphex(cfgr(0, 0x20, o + 2, 2), ==, 0x0184);
    cfgw(0, 0x20, o + 4, (uint32_t)DOORBELL + 8, 4);
    cfgw(0, 0x20, o + 8, 0, 4);
    cfgw(0, 0x20, o + 0xc, 0x1233, 2);
    pci_notify(d, 0); /* not enabled: nothing */
    g_assert_cmpuint(msis.count, ==, 0);
    cfgw(0, 0x20, o + 2, 0x0021, 2); /* enable, MME = 4 vectors */
    g_assert_true(pci_msi_enabled(d));
    pci_notify(d, 2);
    g_assert_cmpuint(msis.count, ==, 1);
    g_assert_cmphex(msis.addr[0], ==, DOORBELL + 8);
    g_assert_cmphex(msis.data[0], ==, 0x1232);
    /* Masked: pending bit, sent on unmask. */
    cfgw(0, 0x20, o + 0x10, 0x8, 4);
    pci_notify(d, 3);
    g_assert_cmpuint(msis.count, ==, 1);
    g_assert_cmphex(cfgr(0, 0x20, o + 0x14, 4), ==, 0x8);
    cfgw(0, 0x20, o + 0x10, 0, 4);
    g_assert_cmpuint(msis.count, ==, 2);
    g_assert_cmphex(msis.data[1], ==, 0x1233);
    g_assert_cmphex(cfgr(0, 0x20, o + 0x14, 4), ==, 0);
    /* Beyond the enabled count: dropped. */
    pci_notify(d, 5);
    g_assert_cmpuint(msis.count, ==, 2);
    teardown();
}

static void test_intx_shared_and_disable(void)
{
    tes_device *a, *b;

    setup();
    a = mkdev("pt-legacy", "addr=01.0", root);
    b = mkdev("pt-legacy", "addr=05.0", root);
    /* Both INTA# land on line (1 + 0) % 4 == (5 + 0) % 4 == 1. */
    pci_set_irq(a, 1);
    g_assert_cmpint(line_level[1], ==, 1);
    pci_set_irq(b, 1);
    pci_set_irq(a, 0);
    g_assert_cmpint(line_level[1], ==, 1);
    pci_set_irq(b, 0);
    g_assert_cmpint(line_level[1], ==, 0);
    /* INTX_DISABLE masks the line, not the status bit. */
    pci_set_irq(a, 1);
    cfgw(0, 0x08, TES_PCI_COMMAND, TES_PCI_COMMAND_INTX_DISABLE, 2);
    g_assert_cmpint(line_level[1], ==, 0);
    g_assert_cmphex(cfgr(0, 0x08, TES_PCI_STATUS, 2) & TES_PCI_STATUS_INTERRUPT, !=, 0);
    cfgw(0, 0x08, TES_PCI_COMMAND, 0, 2);
    g_assert_cmpint(line_level[1], ==, 1);
    pci_set_irq(a, 0);
    g_assert_cmphex(cfgr(0, 0x08, TES_PCI_STATUS, 2) & TES_PCI_STATUS_INTERRUPT, ==, 0);
    g_assert_cmpint(line_level[1], ==, 0);
    teardown();
}

/* Root port at 02.0 with a conventional device at 03.0 behind it. */
static tes_device *bridge_fixture(tes_device **behind)
{
    tes_device *br = mkdev("pt-bridge", "id=br0,addr=02.0", root);
    bridge_state *bs = br->s;

    g_assert_nonnull(bs->sec);
    *behind = mkdev("pt-legacy", "id=nic,addr=03.0", bs->sec);
    return br;
}

static void test_bridge_config_routing(void)
{
    tes_device *br, *nic;
    bridge_state *bs;

    setup();
    br = bridge_fixture(&nic);
    bs = br->s;
    g_assert_cmphex(cfgr(0, 0x10, TES_PCI_HEADER_TYPE, 1), ==, 1);
    g_assert_cmphex(cfgr(1, 0x18, 0x00, 4), ==, 0xffffffff); /* not numbered yet */
    cfgw(0, 0x10, TES_PCI_PRIMARY_BUS, 0x00010100, 4);        /* pri 0, sec 1, sub 1 */
    g_assert_cmphex(cfgr(1, 0x18, 0x00, 4), ==, 0x100e8086);
    g_assert_cmphex(cfgr(1, 0x20, 0x00, 4), ==, 0xffffffff);
    g_assert_cmphex(pci_requester_id(nic), ==, 0x0118);
    /* Root port: slot implemented, presence and link active with a device. */
    g_assert_cmphex(cfgr(0, 0x10, bs->pcie_off + 2, 2), ==, 0x0142);
    g_assert_cmphex(cfgr(0, 0x10, bs->pcie_off + 0x1a, 2) & 0x40, ==, 0x40);
    g_assert_cmphex(cfgr(0, 0x10, bs->pcie_off + 0x12, 2) & 0x2000, ==, 0x2000);
    /* Slot status change bits are RW1C. */
    pci_config(br)[bs->pcie_off + 0x1a] |= 0x08;
    cfgw(0, 0x10, bs->pcie_off + 0x1a, 0x08, 2);
    g_assert_cmphex(cfgr(0, 0x10, bs->pcie_off + 0x1a, 2) & 0x08, ==, 0);
    /* Renumbered out of range: unreachable again. */
    cfgw(0, 0x10, TES_PCI_SECONDARY_BUS, 0x0505, 2);
    g_assert_cmphex(cfgr(1, 0x18, 0x00, 4), ==, 0xffffffff);
    g_assert_cmphex(cfgr(5, 0x18, 0x00, 2), ==, 0x8086);
    teardown();
}

static void test_bridge_intx_swizzle(void)
{
    tes_device *br, *nic;

    setup();
    br = bridge_fixture(&nic);
    (void)br;
    pci_set_irq(nic, 1);
    /* INTA# of slot 3 becomes INTD# (pin 3) of the bridge at devfn 0x10,
     * which the root maps to line (2 + 3) % 4. */
    g_assert_cmpint(map_calls_devfn, ==, 0x10);
    g_assert_cmpint(map_calls_pin, ==, 3);
    g_assert_cmpint(line_level[1], ==, 1);
    pci_set_irq(nic, 0);
    g_assert_cmpint(line_level[1], ==, 0);
    teardown();
}

static void test_bridge_memory_window(void)
{
    tes_device *br, *nic;
    int ret;

    setup();
    br = bridge_fixture(&nic);
    (void)br;
    cfgw(0, 0x10, TES_PCI_PRIMARY_BUS, 0x00010100, 4);
    cfgw(1, 0x18, 0x10, 0x30000000, 4);
    cfgw(1, 0x18, TES_PCI_COMMAND, TES_PCI_COMMAND_MEMORY, 2);
    cfgw(0, 0x10, 0x20, 0x30003000, 4); /* window 0x30000000..0x300fffff */
    /* Bridge not forwarding memory yet. */
    g_assert_cmphex(mem_read(memory_system(), 0x30000010, 4, &ret), ==, 0xffffffff);
    cfgw(0, 0x10, TES_PCI_COMMAND, TES_PCI_COMMAND_MEMORY, 2);
    g_assert_cmphex(mem_read(memory_system(), 0x30000010, 4, &ret), ==, 0x77000010);
    g_assert_cmpint(ret, ==, 0);
    /* Window moved away: the BAR is no longer reachable. */
    cfgw(0, 0x10, 0x20, 0x40004000, 4);
    g_assert_cmphex(mem_read(memory_system(), 0x30000010, 4, &ret), ==, 0xffffffff);
    g_assert_cmpint(ret, ==, TES_MEM_UNASSIGNED);
    /* Closed window (base > limit). */
    cfgw(0, 0x10, 0x20, 0x30003010, 4);
    cfgw(1, 0x18, 0x10, 0x30100000, 4);
    g_assert_cmphex(mem_read(memory_system(), 0x30100010, 4, &ret), ==, 0xffffffff);
    teardown();
}

static void test_bus_master_through_bridge(void)
{
    tes_device *br, *nic;

    setup();
    br = bridge_fixture(&nic);
    (void)br;
    cfgw(0, 0x10, TES_PCI_PRIMARY_BUS, 0x00010100, 4);
    cfgw(1, 0x18, TES_PCI_COMMAND, TES_PCI_COMMAND_MASTER, 2);
    g_assert_false(pci_bus_master_enabled(nic));
    cfgw(0, 0x10, TES_PCI_COMMAND, TES_PCI_COMMAND_MASTER, 2);
    g_assert_true(pci_bus_master_enabled(nic));
    teardown();
}

static int fake_translate(void *opaque, uint16_t rid, uint64_t iova, bool is_write,
                          uint64_t *pa, uint64_t *len)
{
    *pa = iova;
    *len = 1;
    return 0;
}

static const tes_iommu_ops fake_iommu = {.size = sizeof(tes_iommu_ops),
                                         .translate = fake_translate};

/* dma_generation (1.8): no value while the function may not master the
 * bus or an IOMMU translates it; a new one after every change that may
 * stale a kept dma_map pointer, the same one when nothing changed. */
static void test_dma_generation(void)
{
    tes_device *br, *nic;
    uint64_t g1, g2, g3;

    setup();
    br = bridge_fixture(&nic);
    cfgw(0, 0x10, TES_PCI_PRIMARY_BUS, 0x00010100, 4);
    cfgw(1, 0x18, TES_PCI_COMMAND, TES_PCI_COMMAND_MASTER, 2);
    g_assert_cmpuint(dma_generation(nic), ==, 0); /* the bridge does not master */
    cfgw(0, 0x10, TES_PCI_COMMAND, TES_PCI_COMMAND_MASTER, 2);
    g1 = dma_generation(nic);
    g_assert_cmpuint(g1, !=, 0);
    g_assert_cmpuint(dma_generation(nic), ==, g1);
    region_add(memory_system(), 0x40000000, region_new_ram(NULL, "extra", 0x1000), 0);
    g2 = dma_generation(nic);
    g_assert_cmpuint(g2, !=, 0);
    g_assert_cmpuint(g2, !=, g1); /* the map changed */
    cfgw(1, 0x18, 0x3c, 5, 1);
    g3 = dma_generation(nic);
    g_assert_cmpuint(g3, !=, g2); /* any config write */
    g_assert_cmpuint(g3, !=, 0);
    dma_set_iommu(((bridge_state *)br->s)->sec, &fake_iommu, NULL);
    g_assert_cmpuint(dma_generation(nic), ==, 0);
    dma_set_iommu(((bridge_state *)br->s)->sec, NULL, NULL);
    g_assert_cmpuint(dma_generation(nic), >, g3);
    cfgw(0, 0x10, TES_PCI_COMMAND, 0, 2);
    g_assert_cmpuint(dma_generation(nic), ==, 0); /* bus master off above it */
    teardown();
}

static void test_reset(void)
{
    tes_device *d;
    ep_state *s;

    setup();
    d = msix_dev();
    s = d->s;
    cfgw(0, 0x20, s->msix_off + 2, 0x8000, 2);
    wr32(0xe000000c, 0);
    cfgw(0, 0x20, 0x3c, 11, 1);
    pci_reset(d);
    g_assert_cmphex(cfgr(0, 0x20, TES_PCI_COMMAND, 2), ==, 0);
    g_assert_cmphex(cfgr(0, 0x20, 0x18, 4), ==, 0x0c);
    g_assert_cmphex(cfgr(0, 0x20, 0x3c, 1), ==, 0);
    g_assert_false(pci_msix_enabled(d));
    g_assert_cmphex(cfgr(0, 0x20, 0x00, 4), ==, 0x11e81234);
    g_assert_cmpint(pci_find_cap(d, TES_PCI_CAP_ID_MSIX), ==, s->msix_off);
    /* Table masks back to 1, seen once the BAR is mapped again. */
    cfgw(0, 0x20, 0x18, 0xe000000c, 4);
    cfgw(0, 0x20, TES_PCI_COMMAND, TES_PCI_COMMAND_MEMORY, 2);
    g_assert_cmphex(rd32(0xe000000c), ==, 1);
    teardown();
}

static void test_state_round_trip(void)
{
    tes_device *d;
    tes_stream *out, *in;
    const void *data;
    size_t len;
    int ret;

    setup();
    d = mkdev("pt-ep", "addr=04.0", root);
    cfgw(0, 0x20, 0x10, 0x10000000, 4);
    cfgw(0, 0x20, TES_PCI_COMMAND, TES_PCI_COMMAND_MEMORY, 2);
    cfgw(0, 0x20, 0x18, 0xe000000c, 4);
    wr32(0xe0000008, 0xabcd);
    pci_set_irq(d, 1);
    g_assert_cmpint(line_level[(4 + 0) % 4], ==, 1);

    out = stream_new_mem();
    pci_state_save(d, out);
    data = stream_mem_data(out, &len);
    g_assert_cmpuint(len, >, 4096);
    pci_reset(d);
    g_assert_cmphex(mem_read(memory_system(), 0x10000004, 4, &ret), ==, 0xffffffff);
    g_assert_cmpint(line_level[0], ==, 0);

    in = stream_new_mem_reader(data, len);
    g_assert_cmpint(pci_state_load(d, in), ==, 0);
    g_assert_cmphex(mem_read(memory_system(), 0x10000004, 4, &ret), ==, 0xa5a50004);
    g_assert_cmphex(rd32(0xe0000008), ==, 0xabcd);
    g_assert_cmpint(line_level[0], ==, 1);
    stream_close(in);
    /* A truncated stream is refused. */
    in = stream_new_mem_reader(data, 100);
    g_assert_cmpint(pci_state_load(d, in), <, 0);
    stream_close(in);
    stream_close(out);
    teardown();
}

/* As QEMU's get_pci_config_device(): what the guest can write may differ
 * in a stream, read-only bits (IDs, BAR size bits) may not. */
static void test_state_read_only_config_bits_refused(void)
{
    tes_device *d;
    tes_stream *out, *in;
    g_autofree uint8_t *copy = NULL;
    const void *data;
    char *err = NULL;
    size_t len;

    setup();
    d = mkdev("pt-ep", "addr=04.0", root);
    out = stream_new_mem();
    pci_state_save(d, out);
    data = stream_mem_data(out, &len);
    copy = g_memdup2(data, len);
    copy[8 + TES_PCI_COMMAND] |= TES_PCI_COMMAND_MEMORY; /* writable: loads */
    in = stream_new_mem_reader(copy, len);
    g_assert_cmpint(pci_state_load_err(d, in, &err), ==, 0);
    g_assert_null(err);
    stream_close(in);
    copy[8 + TES_PCI_DEVICE_ID] ^= 1; /* after u32 version, u32 size */
    in = stream_new_mem_reader(copy, len);
    g_assert_cmpint(pci_state_load_err(d, in, &err), <, 0);
    g_assert_nonnull(strstr(err, "config byte 0x2 is"));
    g_clear_pointer(&err, g_free);
    stream_close(in);
    copy[8 + TES_PCI_DEVICE_ID] ^= 1;
    copy[8 + 0x10] ^= 0x10; /* a size bit of BAR 0 */
    in = stream_new_mem_reader(copy, len);
    g_assert_cmpint(pci_state_load_err(d, in, &err), <, 0);
    g_assert_nonnull(strstr(err, "config byte 0x10 is"));
    g_free(err);
    stream_close(in);
    stream_close(out);
    teardown();
}

static void test_info_pci(void)
{
    GString *out = g_string_new(NULL);
    tes_device *br, *nic;

    setup();
    mkdev("pt-ep", "id=e0,addr=04.0", root);
    br = bridge_fixture(&nic);
    (void)br;
    cfgw(0, 0x10, TES_PCI_PRIMARY_BUS, 0x00010100, 4);
    cfgw(0, 0x20, 0x10, 0x10000000, 4);
    cfgw(0, 0x20, TES_PCI_COMMAND, TES_PCI_COMMAND_MEMORY, 2);
    cfgw(0, 0x20, 0x3c, 11, 1);
    pci_info_print(out);
    g_assert_nonnull(strstr(out->str, "  Bus  0, device   4, function 0:\n"
                                      "    Class 00ff: PCI device 1234:11e8\n"
                                      "      PCI subsystem 1af4:1100\n"
                                      "      IRQ 11, pin A\n"
                                      "      BAR0: 32 bit memory at 0x10000000 [0x100fffff].\n"));
    g_assert_nonnull(strstr(out->str, "      id \"e0\"\n"));
    g_assert_nonnull(strstr(out->str, "    PCI bridge: PCI device 1b36:000c\n"));
    g_assert_nonnull(strstr(out->str, "      secondary bus 1.\n"));
    g_assert_nonnull(strstr(out->str, "  Bus  1, device   3, function 0:\n"));
    g_string_free(out, TRUE);
    teardown();
}

/* pci_msix_init() maps the table into the BAR's region: an I/O region
 * cannot hold it, so it is refused with a line naming the device, the BAR
 * and what was expected, and realize fails even if the plugin ignores it. */
static void test_msix_needs_container(void)
{
    static const char *const opts[] = {"addr=05.0", "addr=05.0,ignore_ret=on"};

    for (size_t i = 0; i < G_N_ELEMENTS(opts); i++) {
        char *err = NULL;
        tes_device *d;

        setup();
        d = dev_new("pt-msix-io", TES_KIND_DEVICE, &err);
        g_assert_nonnull(d);
        g_assert_true(dev_set_opts(d, opts[i], &err));
        g_assert_false(dev_realize(d, root, &err));
        g_assert_cmpint(((msix_io_state *)d->s)->msix_ret, ==, -EINVAL);
        g_assert_nonnull(err);
        g_assert_true(g_str_has_prefix(err, "device 'pt-msix-io"));
        g_assert_nonnull(strstr(err, "BAR0 region 'mio-bar0' is not a container"));
        g_assert_nonnull(strstr(err, "region_new_container()"));
        g_assert_null(strchr(err, '\n'));
        /* Nothing stays plugged: the slot reads all ones. */
        g_assert_cmphex(cfgr(0, 0x28, 0, 4), ==, 0xffffffff);
        g_free(err);
        dev_free(d);
        teardown();
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    registry_add_plugin_types(&test_plugin);
    g_test_add_func("/pci/config/ids-readable-through-host", test_ids_readable);
    g_test_add_func("/pci/config/absent-function-reads-all-ones", test_absent_reads_ones);
    g_test_add_func("/pci/config/conventional-extended-space-reads-zero",
                    test_conventional_extended_reads_zero);
    g_test_add_func("/pci/plug/slot-in-use-and-bad-address-refused", test_plug_errors);
    g_test_add_func("/pci/bar/sizing-reads-back-size-and-flags", test_bar_sizing);
    g_test_add_func("/pci/bar/register-rejects-bad-sizes-and-slots",
                    test_bar_register_rejects_bad_sizes);
    g_test_add_func("/pci/bar/mapped-with-command-and-moved-when-reprogrammed",
                    test_bar_mapping);
    g_test_add_func("/pci/bar/64bit-maps-above-4g", test_bar64_mapping_high);
    g_test_add_func("/pci/cap/list-walk-finds-pm-msi-msix-pcie", test_cap_list);
    g_test_add_func("/pci/cap/pm-d1-refused-d3hot-kept", test_pm_states);
    g_test_add_func("/pci/msix/masked-sets-pba-unmask-delivers", test_msix_pending_and_unmask);
    g_test_add_func("/pci/msix/non-container-bar-region-refused", test_msix_needs_container);
    g_test_add_func("/pci/msi/multiple-vectors-replace-data-low-bits",
                    test_msi_multiple_vectors);
    g_test_add_func("/pci/intx/shared-lines-or-and-intx-disable",
                    test_intx_shared_and_disable);
    g_test_add_func("/pci/bridge/config-routed-by-bus-numbers", test_bridge_config_routing);
    g_test_add_func("/pci/bridge/intx-swizzled", test_bridge_intx_swizzle);
    g_test_add_func("/pci/bridge/bar-reachable-only-in-memory-window",
                    test_bridge_memory_window);
    g_test_add_func("/pci/bridge/bus-master-needs-upstream-bridge",
                    test_bus_master_through_bridge);
    g_test_add_func("/pci/dma/generation-moves-with-master-map-and-iommu",
                    test_dma_generation);
    g_test_add_func("/pci/reset/clears-command-bars-and-msix", test_reset);
    g_test_add_func("/pci/state/round-trip-restores-bars-msix-intx", test_state_round_trip);
    g_test_add_func("/pci/state/read-only-config-bits-refused",
                    test_state_read_only_config_bits_refused);
    g_test_add_func("/pci/info/prints-devices-and-bridges", test_info_pci);
    return g_test_run();
}
