/*
 * The host function table: the one door from plugins into the core.
 *
 * Most entries point straight at core functions; the few that need an
 * adapter (variadic logging, error recording, device creation by plugins,
 * the interface registry) live here. Entries are only ever appended
 * (docs/sdk.md, "ABI rules"); the static assertions below pin the layout of
 * the 1.0 table and structs so an accidental reorder fails the build.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>

#include "core.h"
#include "display.h"
#include "input.h"
#include "numa.h"
#include "tracing.h"
#include <tessera/gpex.h>
#include <tessera/acpi.h>
#include <tessera/fdt.h>
#include <tessera/smmuv3.h>
#include <tessera/isa.h>
#include <tessera/memory-device.h>
#include <tessera/scsi.h>
#include <tessera/virtio.h>

static void host_log(unsigned mask, const char *fmt, ...)
{
    va_list ap;

    if (!(core_log_mask & mask)) {
        return;
    }
    va_start(ap, fmt);
    core_logv(mask, fmt, ap);
    va_end(ap);
}

static bool host_log_enabled(unsigned mask)
{
    return (core_log_mask & mask) != 0;
}

static void host_error(tes_device *dev, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (!dev) {
        fprintf(stderr, "tessera: %s\n", msg);
        g_free(msg);
        return;
    }
    /* Keep the first error: it is usually the cause. */
    if (dev->error) {
        g_free(msg);
        return;
    }
    dev->error = msg;
}

static void *host_dev_state(tes_device *dev)
{
    return dev->s;
}

static const char *host_dev_id(tes_device *dev)
{
    return dev->id ? dev->id : dev->name;
}

static const char *host_dev_given_id(tes_device *dev)
{
    return dev ? dev->id : NULL;
}

static const char *host_dev_type(tes_device *dev)
{
    return dev->type->name;
}

static tes_bus *host_dev_bus(tes_device *dev)
{
    return dev->bus;
}

/* Machines and bridges create their default devices through this. */
static tes_device *host_dev_create(tes_device *parent, tes_bus *bus, const char *type,
                                   const char *props)
{
    char *err = NULL;
    tes_device *d = dev_new(type, TES_KIND_DEVICE, &err);

    if (d && props && !dev_set_opts(d, props, &err)) {
        dev_free(d);
        d = NULL;
    }
    if (d && !dev_realize(d, bus, &err)) {
        dev_free(d);
        d = NULL;
    }
    if (!d) {
        host_error(parent, "%s", err ? err : "cannot create device");
        g_free(err);
    }
    return d;
}

static void *host_bus_opaque(tes_bus *bus)
{
    return bus->opaque;
}

static const char *host_bus_name(tes_bus *bus)
{
    return bus->name;
}

static tes_device *host_bus_parent(tes_bus *bus)
{
    return bus->parent;
}

static tes_device *host_bus_child(tes_bus *bus, unsigned i)
{
    return i < bus->children->len ? g_ptr_array_index(bus->children, i) : NULL;
}

/* ---- interfaces between plugins ---- */

typedef struct iface {
    uint32_t version;
    const void *table;
} iface;

static GHashTable *ifaces;

static int host_iface_register(const char *name, uint32_t version, const void *table)
{
    if (!ifaces) {
        ifaces = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    }
    if (g_hash_table_contains(ifaces, name)) {
        return -EEXIST;
    }
    iface *i = g_new(iface, 1);
    i->version = version;
    i->table = table;
    g_hash_table_insert(ifaces, g_strdup(name), i);
    return 0;
}

static const void *host_iface_lookup(const char *name, uint32_t min_version)
{
    iface *i = ifaces ? g_hash_table_lookup(ifaces, name) : NULL;

    return i && i->version >= min_version ? i->table : NULL;
}

/* Harness teardown: plugins register again when loaded again. */
void host_ifaces_clear(void)
{
    if (ifaces) {
        g_hash_table_remove_all(ifaces);
    }
}

/* ---- ABI 1.6: topology, NUMA, memory backends ---- */

static tes_region *host_machine_ram_new(tes_device *machine, const char *name)
{
    char *err = NULL;
    tes_region *r = machine_ram_new(machine, name, &err);

    if (!r) {
        host_error(machine, "%s", err ? err : "cannot allocate RAM");
        g_free(err);
    }
    return r;
}

static tes_region *host_memdev_region(tes_device *owner, const char *id)
{
    char *err = NULL;
    tes_region *r = id ? memdev_region(owner, id, &err) : NULL;

    if (!r) {
        host_error(owner, "%s", err ? err : "memdev: no backend id given");
        g_free(err);
    }
    return r;
}

static int host_bus_set_numa_node(tes_bus *bus, int node)
{
    if (!bus || node < -1 || (node >= 0 && (unsigned)node >= machine_topology()->nodes)) {
        return -EINVAL;
    }
    bus->numa_node1 = node + 1;
    return 0;
}

static int host_bus_numa_node(tes_bus *bus)
{
    return bus ? bus->numa_node1 - 1 : -1;
}

static const tes_host table = {
    .size = sizeof(tes_host),
    .abi_major = TES_ABI_MAJOR,
    .abi_minor = TES_ABI_MINOR,
    .core_version = TESSERA_VERSION,

    .log = host_log,
    .log_enabled = host_log_enabled,
    .error = host_error,

    .dev_state = host_dev_state,
    .dev_id = host_dev_id,
    .dev_type = host_dev_type,
    .dev_bus = host_dev_bus,
    .dev_create = host_dev_create,
    .bus_new = bus_create,
    .bus_opaque = host_bus_opaque,
    .bus_name = host_bus_name,
    .bus_parent = host_bus_parent,
    .bus_child = host_bus_child,
    .iface_register = host_iface_register,
    .iface_lookup = host_iface_lookup,

    .region_new_ram = region_new_ram,
    .region_new_rom = region_new_rom,
    .region_new_io = region_new_io,
    .region_new_container = region_new_container,
    .region_new_alias = region_new_alias,
    .region_add = region_add,
    .region_del = region_del,
    .region_set_enabled = region_set_enabled,
    .region_set_alias_offset = region_set_alias_offset,
    .region_ram_ptr = region_ram_ptr,
    .region_size = region_size,
    .system_memory = memory_system,
    .system_io = memory_io,
    .as_read = as_read,
    .as_write = as_write,
    .as_ram_ptr = as_ram_ptr,
    .as_set_dirty = as_set_dirty,
    .memory_generation = memory_generation,

    .dma_read = dma_read,
    .dma_write = dma_write,
    .dma_map = dma_map,
    .dma_unmap = dma_unmap,
    .dma_set_iommu = dma_set_iommu,

    .irq_new = irq_new,
    .irq_set = irq_set,
    .dev_init_irqs = dev_init_irqs,
    .dev_connect_irq = dev_connect_irq,
    .dev_set_irq = dev_set_irq,
    .msi_send = msi_send,

    .clock_ns = clock_ns,
    .timer_new = timer_new,
    .timer_mod = timer_mod,
    .timer_del = timer_del,
    .timer_pending = timer_pending,
    .timer_expire = timer_expire,
    .timer_free = timer_free,

    .stream_write = stream_write,
    .stream_read = stream_read,

    .pci_config = pci_config,
    .pci_wmask = pci_wmask,
    .pci_w1cmask = pci_w1cmask,
    .pci_register_bar = pci_register_bar,
    .pci_add_cap = pci_add_cap,
    .pci_add_ext_cap = pci_add_ext_cap,
    .pci_find_cap = pci_find_cap,
    .pci_msi_init = pci_msi_init,
    .pci_msix_init = pci_msix_init,
    .pci_msi_enabled = pci_msi_enabled,
    .pci_msix_enabled = pci_msix_enabled,
    .pci_notify = pci_notify,
    .pci_set_irq = pci_set_irq,
    .pci_pcie_cap_init = pci_pcie_cap_init,
    .pci_pm_init = pci_pm_init,
    .pci_requester_id = pci_requester_id,
    .pci_default_config_read = pci_default_config_read,
    .pci_default_config_write = pci_default_config_write,
    .pci_root_bus_new = pci_root_bus_new,
    .pci_bus_set_irqs = pci_bus_set_irqs,
    .pci_host_config_read = pci_host_config_read,
    .pci_host_config_write = pci_host_config_write,
    .pci_bridge_bus_new = pci_bridge_bus_new,

    .cpu_create = cpu_create,
    .cpu_state = cpu_state,
    .cpu_index = cpu_index,
    .cpu_by_index = cpu_by_index,
    .cpu_count = cpu_count,
    .cpu_kick = cpu_kick,
    .cpu_set_running = cpu_set_running,
    .request_shutdown = core_request_shutdown,
    .request_reset = core_request_reset,

    .serial_chr = serial_chr,
    .chr_write = chr_write,
    .chr_set_handlers = chr_set_handlers,

    .drive_size = drive_size,
    .drive_readonly = drive_readonly,
    .drive_pread = drive_pread,
    .drive_pwrite = drive_pwrite,
    .drive_flush = drive_flush,
    .drive_submit = drive_submit,
    .drive_drain = drive_drain,
    .drive_inflight = drive_inflight,
    .ram_write_watch = memory_ram_write_watch,

    .cpu_current = cpu_current,
    .cpu_dev = cpu_dev,
    .cpu_irq_in = cpu_irq_in,
    .cpu_set_boot = cpu_set_boot,
    .cpu_arch_id = cpu_arch_id,
    .cpu_set_sysregs = cpu_set_sysregs,
    .cpu_sysreg_read = cpu_sysreg_read,
    .cpu_sysreg_write = cpu_sysreg_write,
    .dev_init_mmio = dev_init_mmio,
    .dev_mmio = dev_mmio,
    .dev_init_irq_in = dev_init_irq_in,
    .dev_irq_in = dev_irq_in,
    .dev_platform_info = dev_platform_info,
    .dev_platform_place = dev_platform_place,
    .pci_ecam_new = pci_ecam_new,

    .net_attach = net_attach,
    .net_send = net_send,
    .net_flush = net_flush,
    .net_link_up = net_link_up,
    .net_queues = net_queues,
    .net_set_queues = net_set_queues,
    .net_offloads = net_offloads,
    .net_set_rx_offloads = net_set_rx_offloads,

    .drive_set_media_ops = drive_set_media_ops,
    .drive_has_medium = drive_has_medium,
    .drive_tray_moved = drive_tray_moved,
    .dma_set_bypass = dma_set_bypass,
    .machine_topology = machine_topology,
    .machine_ram_new = host_machine_ram_new,
    .bus_set_numa_node = host_bus_set_numa_node,
    .bus_numa_node = host_bus_numa_node,
    .memdev_region = host_memdev_region,
    .dma_requester = dma_requester,
    .pci_expander_bus_new = pci_expander_bus_new,
    .request_suspend = core_request_suspend,
    .request_wakeup = core_request_wakeup,
    .trace_register = trace_register_events,
    .trace_emit = trace_emit_event,
    .console_new = console_new,
    .console_set_surface = console_set_surface,
    .console_update = console_update,
    .input_handler_new = input_handler_new,
    .input_handler_activate = input_handler_activate,
    .cpu_remove = cpu_remove,
    .dev_unplug = dev_unplug,
    .dma_generation = dma_generation,
    .qmp_event = qmp_event_plugin,
    .dev_given_id = host_dev_given_id,
    .watchdog_perform_action = watchdog_perform_action,
    .defer_call = defer_call,
};

const tes_host *host_table(void)
{
    return &table;
}

/*
 * ABI 1.0 pins (x86-64 and aarch64 LP64). A failure here means a public
 * struct changed shape: that breaks every binary plugin. Add new members at
 * the end and bump TES_ABI_MINOR instead.
 */
#define PIN(type, member, off) static_assert(offsetof(type, member) == (off), #type "." #member)
PIN(tes_plugin_desc, abi_major, 4);
PIN(tes_plugin_desc, name, 8);
PIN(tes_plugin_desc, types, 40);
PIN(tes_plugin_desc, fini, 56);
static_assert(sizeof(tes_plugin_desc) == 64, "tes_plugin_desc 1.0 size");
PIN(tes_type_info, name, 8);
PIN(tes_type_info, realize, 48);
PIN(tes_type_info, class_info, 88);
PIN(tes_type_info, flags, 104);
PIN(tes_type_info, print_info, 112); /* 1.10: HMP info pic */
static_assert(sizeof(tes_type_info) == 120, "tes_type_info 1.10 size");
static_assert(sizeof(tes_prop_info) == 56, "tes_prop_info 1.0 size");
static_assert(sizeof(tes_state_field) == 32, "tes_state_field 1.0 size");
static_assert(sizeof(tes_state_info) == 56, "tes_state_info 1.0 size");
static_assert(sizeof(tes_mem_ops) == 32, "tes_mem_ops 1.0 size");
static_assert(sizeof(tes_pci_info) == 40, "tes_pci_info 1.0 size");
PIN(tes_machine_ops, powerdown, 48); /* 1.0 ended here (56 bytes) */
PIN(tes_cpu_ops, get_pc, 64);        /* 1.0 ended here (72 bytes) */
static_assert(sizeof(tes_machine_config) == 72, "tes_machine_config 1.0 size");
PIN(tes_host, log, 16);
PIN(tes_host, region_new_ram, 136);
PIN(tes_host, drive_flush, 752);
/* ABI 1.1 appended the asynchronous block entries. */
PIN(tes_host, drive_submit, 760);
/* ABI 1.2 appended ram_write_watch, then the CPU<->board interface and
 * platform devices. */
PIN(tes_host, ram_write_watch, 784);
PIN(tes_host, cpu_current, 792);
PIN(tes_host, dev_platform_place, 896);
PIN(tes_host, pci_ecam_new, 904);
/* ABI 1.3 appended the network entries (net.h). */
PIN(tes_host, net_attach, 912);
PIN(tes_host, net_set_rx_offloads, 968);
/* ABI 1.5 appended removable media (block.h). */
PIN(tes_host, drive_set_media_ops, 976);
/* ABI 1.5, continued: dma_set_bypass (IOMMUs, dma.h). */
PIN(tes_host, dma_set_bypass, 1000);
/* ABI 1.6 appended topology, NUMA and memory backends (machine.h). */
PIN(tes_host, machine_topology, 1008);
PIN(tes_host, memdev_region, 1040);
/* ABI 1.6, continued: dma_requester (dma.h). */
PIN(tes_host, dma_requester, 1048);
/* ABI 1.6, continued: pci_expander_bus_new (PCI expander bridges). */
PIN(tes_host, pci_expander_bus_new, 1056);
/* ABI 1.7: request_suspend (ACPI S3). */
PIN(tes_host, request_suspend, 1064);
/* ABI 1.7, continued: request_wakeup (the RTC alarm wakes from S3). */
PIN(tes_host, request_wakeup, 1072);
/* ABI 1.7, continued: trace events (trace.h). */
PIN(tes_host, trace_register, 1080);
PIN(tes_host, trace_emit, 1088);
PIN(tes_trace_event, fmt, 8);
PIN(tes_trace_event, state, 16);
static_assert(sizeof(tes_trace_event) == 24, "tes_trace_event 1.7 size");
/* ABI 1.7, continued: graphic consoles (display.h). */
PIN(tes_host, console_new, 1096);
PIN(tes_host, console_update, 1112);
/* ABI 1.7, continued: input devices (input.h). */
PIN(tes_host, input_handler_new, 1120);
PIN(tes_host, input_handler_activate, 1128);
/* ABI 1.8: cpu_remove (CPU hot-unplug). */
PIN(tes_host, cpu_remove, 1136);
/* ABI 1.8, continued: dev_unplug (memory hot-unplug). */
PIN(tes_host, dev_unplug, 1144);
/* ABI 1.8, continued: dma_generation (mappings a device keeps, dma.h). */
PIN(tes_host, dma_generation, 1152);
/* ABI 1.8, continued: qmp_event, dev_given_id (ACPI_DEVICE_OST). */
PIN(tes_host, qmp_event, 1160);
PIN(tes_host, dev_given_id, 1168);
/* ABI 1.9: watchdog_perform_action (-watchdog-action, QMP WATCHDOG). */
PIN(tes_host, watchdog_perform_action, 1176);
/* ABI 1.11: defer_call (a device's work after a batch). */
PIN(tes_host, defer_call, 1184);
static_assert(sizeof(tes_host) == 1192, "tes_host 1.11 size");
PIN(tes_topology, max_cpus, 8);
PIN(tes_topology, node_mem, 40);
PIN(tes_topology, distance_given, 64);
PIN(tes_topology, maxmem, 72); /* 1.7 */
PIN(tes_topology, ram_slots, 80);
static_assert(sizeof(tes_topology) == 88, "tes_topology 1.7 size");
static_assert(sizeof(tes_drive_media_ops) == 40, "tes_drive_media_ops 1.5 size");
static_assert(sizeof(tes_net_ops) == 32, "tes_net_ops 1.3 size");
static_assert(sizeof(tes_net_hdr) == 10, "tes_net_hdr 1.3 size");
PIN(tes_net_hdr, csum_offset, 8);
PIN(tes_cpu_ops, apply_boot, 72);
/* ABI 1.7, continued: debugger entries (the gdbstub). */
PIN(tes_cpu_ops, arch_id, 80);   /* 1.2 ended here (88 bytes) */
PIN(tes_cpu_ops, translate, 88);
PIN(tes_cpu_ops, debug_point, 96);
PIN(tes_cpu_ops, debug_reason, 104);
/* ABI 1.7, continued: monitor inspection (info registers, info tlb). */
PIN(tes_cpu_ops, dump, 112);
static_assert(sizeof(tes_cpu_ops) == 120, "tes_cpu_ops 1.7 size");
PIN(tes_machine_ops, devices_done, 56);
PIN(tes_machine_ops, default_nic, 64); /* 1.2 ended here */
PIN(tes_machine_ops, default_block_if, 72); /* 1.3 ended here */
PIN(tes_machine_ops, ide_units_per_bus, 80);
PIN(tes_machine_ops, wakeup, 88); /* 1.7 */
PIN(tes_machine_ops, cpu_plugged, 96); /* 1.8: CPU hot-plug */
PIN(tes_machine_ops, cpu_unplug_request, 104);
PIN(tes_machine_ops, hotplug, 112); /* 1.8, continued: memory hot-plug */
PIN(tes_machine_ops, unplug_request, 120);
PIN(tes_machine_ops, default_display, 128); /* 1.8, continued: the default display */
PIN(tes_machine_ops, ospm_status, 136); /* 1.8, continued: query-acpi-ospm-status */
static_assert(sizeof(tes_machine_ops) == 144, "tes_machine_ops 1.8 size");
PIN(tes_cpu_boot, entry, 8);
PIN(tes_cpu_boot, page_table, 80);
static_assert(sizeof(tes_cpu_boot) == 104, "tes_cpu_boot 1.2 size");
static_assert(sizeof(tes_cpu_sysregs) == 24, "tes_cpu_sysregs 1.2 size");
PIN(tes_platform_info, compatible, 8);
PIN(tes_platform_info, dt_props, 40);
static_assert(sizeof(tes_platform_info) == 48, "tes_platform_info 1.2 size");
static_assert(sizeof(tes_dt_prop) == 32, "tes_dt_prop 1.2 size");
static_assert(sizeof(tes_platform_place) == 24, "tes_platform_place 1.2 size");

/* Interfaces between plugins (installed SDK headers since 1.2): a change
 * of shape here needs the interface's version bumped (docs/sdk.md). */
static_assert(sizeof(tes_gpex_iface) == 56, "gpex interface v1 size");
PIN(tes_gpex_iface, connect_intx, 48);
static_assert(sizeof(tes_virtio_ops) == 88, "virtio interface v2 size");
PIN(tes_virtio_ops, status, 80);
static_assert(sizeof(tes_virtio_dev_ops) == 72, "tes_virtio_dev_ops v2 size");
static_assert(sizeof(tes_virtio_dev_info) == 40, "tes_virtio_dev_info v2 size");
static_assert(sizeof(tes_virtio_elem) == 56, "tes_virtio_elem v2 size");
static_assert(sizeof(tes_virtio_mmio_ops) == 16, "virtio-mmio interface v1 size");
static_assert(sizeof(tes_isa_iface) == 16, "isa-irq interface v1 size");
PIN(tes_isa_iface, irq, 8);
PIN(tes_iommu_ops, translate, 8);
PIN(tes_iommu_ops, remap_msi, 16); /* 1.5 */
static_assert(sizeof(tes_acpi_iface) == 24, "acpi interface v1 size");
PIN(tes_acpi_iface, add_table, 8);
PIN(tes_acpi_iface, pci_root, 16);
static_assert(sizeof(tes_fdt_iface) == 40, "fdt interface v1 size");
PIN(tes_fdt_iface, pci_root, 8);
PIN(tes_fdt_iface, alloc_phandle, 16);
PIN(tes_fdt_iface, add_node, 24);
PIN(tes_memory_device_iface, placed, 16);
/* 1.8, continued (the interface is 1.8's, size-checked): NVDIMM labels */
PIN(tes_memory_device_iface, label_access, 24);
static_assert(sizeof(tes_memory_device_iface) == 32, "memory-device interface v1 size");
PIN(tes_memory_device_info, label_size, 24);
static_assert(sizeof(tes_memory_device_info) == 32, "tes_memory_device_info v1 size");
PIN(tes_fdt_iface, add_prop, 32);
static_assert(sizeof(tes_fdt_prop) == 24, "tes_fdt_prop v1 size");
static_assert(sizeof(tes_smmuv3_iface) == 16, "arm-smmuv3 interface v1 size");
PIN(tes_smmuv3_iface, attach, 8);
static_assert(sizeof(tes_scsi_ops) == 104, "scsi interface v1 size");
PIN(tes_scsi_ops, req_xfer, 96);
static_assert(sizeof(tes_scsi_req) == 200, "tes_scsi_req v1 size");
PIN(tes_scsi_req, priv, 192);
static_assert(sizeof(tes_scsi_hba_ops) == 32, "tes_scsi_hba_ops v1 size");
static_assert(sizeof(tes_scsi_bus_info) == 32, "tes_scsi_bus_info v1 size");
static_assert(sizeof(tes_scsi_sge) == 16, "tes_scsi_sge v1 size");
