/*
 * none: the empty machine (QEMU's "-M none"), plus an optional test PCI host.
 *
 * User manual
 *
 *   tessera -M none[,pci=on|off] [-m SIZE] [-device ...] [-monitor stdio]
 *
 * No CPU, no firmware, no interrupt controller. It exists to try devices
 * from the monitor (info qtree, info pci, info mtree) without booting
 * anything.
 *
 *   -m SIZE   RAM at physical address 0 (default: no RAM at all, as in QEMU).
 *   pci=on    (default) a simple PCI host bridge: a root bus "pci.0" whose
 *             BARs map into system memory and the I/O port space, and a
 *             1 MiB ECAM config window (bus 0 only) at 0x30000000:
 *             offset = devfn << 12 | register. `-device edu` then shows up
 *             in `info pci`. INTx lines go nowhere (there is no interrupt
 *             controller); MSI writes land in system memory like any DMA.
 *   pci=off   no bus but the system bus, exactly QEMU's empty machine.
 *
 * The machine has no state of its own, so it never blocks migration.
 */
#include <tessera/tessera.h>

#define ECAM_BASE 0x30000000ull
#define ECAM_SIZE 0x100000ull /* one bus: 32 slots x 8 functions x 4 KiB */

typedef struct none_machine {
    bool pci;
    tes_device *dev;
    tes_bus *root;
} none_machine;

static const tes_host *H;

static int none_init(tes_device *dev, void *s, const tes_machine_config *cfg)
{
    none_machine *m = s;

    m->dev = dev;
    if (cfg->kernel) {
        /* QEMU's words: nothing would load or run it. */
        H->error(dev, "the -kernel parameter is not supported (no CPU, no boot loader)");
        return -22; /* -EINVAL */
    }
    if (cfg->ram_size > 0) {
        tes_region *ram = H->region_new_ram(dev, "ram", cfg->ram_size);

        if (!ram) {
            H->error(dev, "cannot allocate %llu bytes of RAM",
                     (unsigned long long)cfg->ram_size);
            return -12; /* -ENOMEM */
        }
        H->region_add(H->system_memory(), 0, ram, 0);
    }
    if (m->pci) {
        m->root = H->pci_root_bus_new(dev, "pci.0", H->system_memory(), H->system_io());
        if (!m->root) {
            H->error(dev, "cannot create the root PCI bus pci.0");
            return -22; /* -EINVAL */
        }
        /* Bus 0 only: the window is one MiB. */
        tes_region *ecam = H->pci_ecam_new(dev, m->root, ECAM_SIZE);
        H->region_add(H->system_memory(), ECAM_BASE, ecam, 0);
    }
    return 0;
}

static const tes_machine_ops none_ops = {
    .size = sizeof(tes_machine_ops),
    .arch = NULL,
    .default_cpu = NULL,
    .default_ram = 0,
    .max_cpus = 0,
    .init = none_init,
};

static const tes_prop_info none_props[] = {
    TES_PROP("pci", TES_PROP_BOOL, none_machine, pci, "on", 0, 0,
             "root PCI bus pci.0 with an ECAM window at 0x30000000"),
    TES_PROP_END,
};

/* Nothing guest-visible lives in the machine itself: an empty section. */
static const tes_state_info none_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
};

static const tes_type_info none_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_MACHINE,
    .name = "none",
    .desc = "empty machine (optional test PCI host bridge)",
    .instance_size = sizeof(none_machine),
    .props = none_props,
    .state = &none_state,
    .class_info = &none_ops,
};

static int none_plugin_init(const tes_host *host)
{
    H = host;
    return 0;
}

static const tes_type_info *const none_types[] = {&none_type, NULL};

TES_PLUGIN_DEFINE(.name = "none", .version = "0.1.0", .license = "MIT",
                  .desc = "the empty machine", .types = none_types,
                  .init = none_plugin_init);
