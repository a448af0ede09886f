/*
 * pci-counter: the smallest useful out-of-tree tessera device.
 *
 *   tessera -M none -plugin ./pci-counter.so -device pci-counter[,start=N]
 *
 *   start  (u32, default 0) counter value after reset
 *
 * PCI 1b36:0101, class 0x00ff, no interrupt. BAR0: 4 KiB MMIO, 4-byte
 * accesses:
 *   0x0 R   the counter; every read returns it, then adds one
 *   0x4 RW  read: the counter, unchanged; write: set the counter
 * Migrates the counter.
 */
#include <errno.h>
#include <tessera/tessera.h>

typedef struct counter {
    uint32_t start;
    uint32_t value;
} counter;

static const tes_host *H;

static uint64_t counter_read(void *opaque, uint64_t off, unsigned size)
{
    counter *c = opaque;

    (void)size; /* always 4: valid_min = valid_max = 4 */
    switch (off) {
    case 0x0: return c->value++;
    case 0x4: return c->value;
    }
    H->log(TES_LOG_GUEST_ERROR, "pci-counter: read of unknown register 0x%x", (unsigned)off);
    return 0;
}

static void counter_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    counter *c = opaque;

    (void)size; /* always 4 */
    if (off == 0x4) {
        c->value = (uint32_t)val;
        return;
    }
    H->log(TES_LOG_GUEST_ERROR, "pci-counter: write to register 0x%x ignored", (unsigned)off);
}

static const tes_mem_ops counter_ops = {
    .size = sizeof(tes_mem_ops),
    .read = counter_read,
    .write = counter_write,
    .valid_min = 4, .valid_max = 4,
    .impl_min = 4, .impl_max = 4,
};

static int counter_realize(tes_device *dev, void *s)
{
    counter *c = s;
    tes_region *bar = H->region_new_io(dev, "pci-counter", 4096, &counter_ops, c);

    c->value = c->start;
    return H->pci_register_bar(dev, 0, TES_PCI_BAR_MEM32, bar) < 0 ? -EINVAL : 0;
}

static void counter_reset(tes_device *dev, void *s)
{
    counter *c = s;

    (void)dev;
    c->value = c->start;
}

static const tes_prop_info counter_props[] = {
    TES_PROP("start", TES_PROP_U32, counter, start, "0", 0, 0, "counter value after reset"),
    TES_PROP_END,
};

static const tes_state_field counter_fields[] = {
    TES_FIELD_U32(counter, value),
    TES_FIELD_END,
};

static const tes_state_info counter_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = counter_fields,
};

static const tes_pci_info counter_pci = {
    .size = sizeof(tes_pci_info),
    .vendor_id = 0x1b36,
    .device_id = 0x0101,
    .class_id = 0x00ff,
};

static const tes_type_info counter_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "pci-counter",
    .desc = "example PCI device: a counter in BAR0",
    .bus = TES_BUS_PCI,
    .instance_size = sizeof(counter),
    .props = counter_props,
    .realize = counter_realize,
    .reset = counter_reset,
    .state = &counter_state,
    .class_info = &counter_pci,
};

static int counter_init(const tes_host *host)
{
    H = host;
    return 0;
}

static const tes_type_info *const types[] = {&counter_type, NULL};

TES_PLUGIN_DEFINE(.name = "pci-counter", .version = "1.0.0", .license = "MIT",
                  .desc = "example out-of-tree PCI device", .types = types,
                  .init = counter_init);
