/*
 * -vga and the board's default display, as QEMU's select_vgahw and
 * default_vga: after the machine, before the NICs and -device, the core
 * creates the machine's default display (tes_machine_ops.default_display,
 * "VGA" on pc and q35) unless -vga none, -nodefaults, or a -device of a
 * VGA-class type (PCI class 0x0300: QEMU's list of VGA devices that turn
 * the default off is exactly those). -vga std is -device VGA on any
 * machine with PCI; -vga virtio is -device virtio-vga where a plugin
 * provides it. Without the plugin that provides the default display, a
 * machine has none (as QEMU built without its VGA); -vga std then fails.
 */
#include "core.h"
#include "vga-cli.h"

/* QEMU's -vga names that tessera does not model. */
static const char *const unmodelled[] = {"cirrus", "vmware", "qxl", "xenfb", "tcx", "cg3",
                                         NULL};

bool vga_cli_check(const char *vga, char **errp)
{
    if (!vga || !strcmp(vga, "std") || !strcmp(vga, "none") || !strcmp(vga, "virtio")) {
        return true;
    }
    for (unsigned i = 0; unmodelled[i]; i++) {
        if (!strcmp(vga, unmodelled[i])) {
            core_set_error(errp, "-vga %s: tessera has no %s VGA (std, virtio or none)", vga,
                           vga);
            return false;
        }
    }
    core_set_error(errp, "-vga %s: unknown VGA type (expected std, virtio or none)", vga);
    return false;
}

/* A -device argument whose type is a VGA-compatible PCI function. */
static bool is_vga_device(const char *arg)
{
    const char *comma = strchr(arg, ',');
    g_autofree char *driver = comma ? g_strndup(arg, comma - arg) : g_strdup(arg);
    const type_entry *te = type_lookup(driver, TES_KIND_DEVICE, NULL);
    const tes_type_info *t = te ? te->info : NULL;
    const tes_pci_info *pi;

    if (!t || !t->bus || strcmp(t->bus, TES_BUS_PCI) != 0 || !t->class_info) {
        return false;
    }
    pi = t->class_info;
    return pi->class_id == 0x0300;
}

/* The type -vga (or the machine's default) asks for; NULL: none. */
static const char *wanted_type(const char *vga, bool nodefaults, GPtrArray *devices)
{
    if (vga) {
        return !strcmp(vga, "std") ? "VGA" : !strcmp(vga, "virtio") ? "virtio-vga" : NULL;
    }
    if (nodefaults) {
        return NULL;
    }
    for (guint i = 0; i < devices->len; i++) {
        if (is_vga_device(g_ptr_array_index(devices, i))) {
            return NULL;
        }
    }
    return machine_default_display();
}

bool vga_cli_create(const char *vga, bool nodefaults, GPtrArray *devices, char **errp)
{
    const char *type = wanted_type(vga, nodefaults, devices);
    bool printed = false;

    if (!type) {
        return true;
    }
    if (!type_lookup(type, TES_KIND_DEVICE, NULL)) {
        if (!vga) {
            return true; /* the default display's plugin is not here: none */
        }
        core_set_error(errp, "-vga %s: no plugin provides the %s device (-vga std or none)",
                       vga, type);
        return false;
    }
    return dev_create_cli(type, &printed, errp) != NULL;
}
