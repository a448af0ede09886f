/*
 * tessera core: the -M machine.
 *
 * A machine is a plugin type of kind TES_KIND_MACHINE whose class_info is a
 * tes_machine_ops. It is a device too: it sits first on main-system-bus, its
 * props are the -M TYPE,k=v options, and ops->init builds the board from
 * machine_cfg (which the CLI fills; zero fields take the machine's
 * defaults here).
 */
#include <errno.h>
#include <string.h>

#include "core.h"
#include "numa.h"

tes_machine_config machine_cfg = {
    .size = sizeof(tes_machine_config),
};
unsigned machine_smp_max;

static const tes_machine_ops *machine_ops(tes_device *m)
{
    return m->type->class_info;
}

static bool is_help(const char *s)
{
    return strcmp(s, "help") == 0 || strcmp(s, "?") == 0;
}

/* A machine without CPUs ("none"): a -cpu or -smp would be silently
 * ignored, so they are refused (an unknown model as such). QEMU's none
 * creates one CPU of a -cpu model; ours has no CPU at all. */
static bool no_cpus_asked(tes_device *m, char **errp)
{
    const char *model = machine_cfg.cpu_model;

    if (model && !type_lookup(model, TES_KIND_CPU, errp)) {
        return false;
    }
    if (numa_nodes_given()) {
        core_set_error(errp, "-numa: NUMA is not supported by this machine-type");
        return false;
    }
    if (model || machine_cfg.smp > 1 || machine_smp_max > 1) {
        core_set_error(errp, "machine '%s' has no CPUs: %s cannot be used (choose a machine "
                       "with -M)", m->type->name, model ? "-cpu" : "-smp");
        return false;
    }
    return true;
}

/* QEMU's qemu_validate_options(): these only make sense with a kernel. */
static bool boot_options_ok(char **errp)
{
    const char *opt = machine_cfg.initrd ? "-initrd" : machine_cfg.append ? "-append"
                      : machine_cfg.dtb ? "-dtb" : NULL;

    if (opt && !machine_cfg.kernel) {
        core_set_error(errp, "%s only allowed with -kernel option", opt);
        return false;
    }
    return true;
}

/* Fill what -m, -smp and -cpu left unset; check -smp and -cpu. */
static bool apply_defaults(tes_device *m, char **errp)
{
    const tes_machine_ops *ops = machine_ops(m);
    const type_entry *cpu;

    if (!machine_cfg.ram_size) {
        machine_cfg.ram_size = ops->default_ram;
    }
    if (!machine_cfg.smp) {
        machine_cfg.smp = 1;
    }
    if (ops->max_cpus == 0) {
        return no_cpus_asked(m, errp);
    }
    if (MAX(machine_cfg.smp, machine_smp_max) > ops->max_cpus) {
        core_set_error(errp, "machine '%s' supports at most %u CPUs, got %s%u", m->type->name,
                       ops->max_cpus, machine_smp_max > machine_cfg.smp ? "maxcpus=" : "",
                       MAX(machine_cfg.smp, machine_smp_max));
        return false;
    }
    if (!numa_complete(machine_cfg.ram_size, ops->arch, MAX(machine_cfg.smp, machine_smp_max),
                       errp)) {
        return false;
    }
    if (!machine_cfg.cpu_model) {
        machine_cfg.cpu_model = ops->default_cpu;
    }
    if (!machine_cfg.cpu_model) {
        return true;
    }
    cpu = type_lookup(machine_cfg.cpu_model, TES_KIND_CPU, errp);
    if (!cpu) {
        return false;
    }
    const tes_cpu_ops *cops = cpu->info->class_info;
    if (ops->arch && cops->arch && strcmp(ops->arch, cops->arch) != 0) {
        core_set_error(errp, "CPU model '%s' is for %s, machine '%s' needs %s",
                       machine_cfg.cpu_model, cops->arch, m->type->name, ops->arch);
        return false;
    }
    return true;
}

static bool machine_init(tes_device *m, char **errp)
{
    const tes_machine_ops *ops = machine_ops(m);
    int ret = ops->init ? ops->init(m, m->s, &machine_cfg) : 0;

    if (ret < 0) {
        if (m->error) {
            core_set_error(errp, "machine '%s': %s", m->type->name, m->error);
        } else {
            core_set_error(errp, "machine '%s': init failed: %s", m->type->name,
                           g_strerror(-ret));
        }
        return false;
    }
    core_log(TES_LOG_PLUGIN, "machine: %s from plugin %s, %" G_GUINT64_FORMAT " bytes RAM, %u CPUs",
             m->type->name, m->te->plugin->desc->name, machine_cfg.ram_size, machine_cfg.smp);
    return true;
}

/* "help" and "TYPE,...,help" print and return true: the CLI sees the word
 * and exits after. */
static bool print_help(const char *type, const char *opts, bool *printed, char **errp)
{
    *printed = false;
    if (is_help(type)) {
        types_print_help(TES_KIND_MACHINE, stdout);
        *printed = true;
    } else if (opts_want_help(opts)) {
        const type_entry *te = type_lookup(type, TES_KIND_MACHINE, errp);
        if (!te) {
            return false;
        }
        type_print_props(te, stdout);
        *printed = true;
    }
    return true;
}

bool machine_create(const char *optarg, char **errp)
{
    const char *comma = strchr(optarg, ',');
    g_autofree char *type = comma ? g_strndup(optarg, comma - optarg) : g_strdup(optarg);
    const char *opts = comma ? comma + 1 : NULL;
    bool printed;
    tes_device *m;

    if (!print_help(type, opts, &printed, errp)) {
        return false;
    }
    if (printed) {
        return true;
    }
    if (machine_current()) {
        core_set_error(errp, "a machine exists already ('%s')", machine_current()->type->name);
        return false;
    }
    m = dev_new(type, TES_KIND_MACHINE, errp);
    if (!m) {
        return false;
    }
    if (!dev_set_opts(m, opts, errp) || !boot_options_ok(errp) || !apply_defaults(m, errp) ||
        !dev_realize(m, sysbus_root(), errp) || !machine_init(m, errp)) {
        dev_free(m);
        return false;
    }
    return true;
}

/* A machine without devices_done places no platform device: one from
 * -device (a pl011 on q35) would sit unmapped and unwired, and addr=/irq=
 * would be silently ignored, so they are refused. */
static void find_placed(tes_device *d, void *opaque)
{
    tes_device **found = opaque;

    if (!*found && (d->place.has_addr || d->place.has_irq ||
                    (d->user_created && type_platform_info(d->type)))) {
        *found = d;
    }
}

static bool platform_unplaced(tes_device *m, char **errp)
{
    tes_device *d = NULL;

    devices_foreach(find_placed, &d);
    if (d) {
        core_set_error(errp, "machine '%s' does not place platform devices: device '%s' "
                       "(%s) cannot be added to it", m ? m->type->name : "none",
                       d->id ? d->id : d->name, d->type->name);
        return false;
    }
    return true;
}

/* After the command line's -device: the board places what the user added
 * and writes its firmware tables (tes_machine_ops.devices_done, 1.2). */
static bool devices_done(char **errp)
{
    tes_device *m = machine_current();
    const tes_machine_ops *ops = m ? machine_ops(m) : NULL;
    int ret;

    if (!ops || ops->size < offsetof(tes_machine_ops, devices_done) + sizeof(void *) ||
        !ops->devices_done) {
        return platform_unplaced(m, errp);
    }
    ret = ops->devices_done(m, m->s);
    if (ret < 0 && m->error && g_str_has_prefix(m->error, "machine '")) {
        core_set_error(errp, "%s", m->error); /* it names the machine */
        return false;
    }
    if (ret < 0) {
        core_set_error(errp, "machine '%s': %s", m->type->name,
                       m->error ? m->error : g_strerror(-ret));
        return false;
    }
    return true;
}

bool machine_ready;

bool machine_devices_done(char **errp)
{
    /* From here on a CPU device_add is a hot-plug: the guest is told. */
    machine_ready = devices_done(errp);
    return machine_ready;
}

/* Found in the tree rather than cached: registry_reset() may free it. */
tes_device *machine_current(void)
{
    tes_bus *root = sysbus_root();

    for (guint i = 0; i < root->children->len; i++) {
        tes_device *d = g_ptr_array_index(root->children, i);
        if (d->type->kind == TES_KIND_MACHINE) {
            return d;
        }
    }
    return NULL;
}

void machine_powerdown(void)
{
    tes_device *m = machine_current();

    if (m && machine_ops(m)->powerdown) {
        machine_ops(m)->powerdown(m, m->s);
        return;
    }
    core_log(TES_LOG_UNIMP, "system_powerdown: machine '%s' has no power button",
             m ? m->type->name : "(none)");
}

/* Whether m's ops reach member end (a 1.7 machine). */
#define OPS_HAS(ops, member) \
    ((ops)->size >= offsetof(tes_machine_ops, member) + sizeof(void *) && (ops)->member)

/* The machine's hotplug op refused: its message (host->error on the
 * device) becomes the command's; the device stays usable for a retry. */
static bool hotplug_refused(tes_device *dev, const char *fallback, char **errp)
{
    core_set_error(errp, "%s", dev->error ? dev->error : fallback);
    g_clear_pointer(&dev->error, g_free);
    return false;
}

bool machine_hotplug(tes_device *dev, char **errp)
{
    tes_device *m = machine_current();
    const tes_machine_ops *ops = m ? machine_ops(m) : NULL;

    if (!ops || !OPS_HAS(ops, hotplug)) {
        core_set_error(errp, "Device '%s' does not support hotplugging", dev->type->name);
        return false;
    }
    return ops->hotplug(m, m->s, dev) == 0 ||
           hotplug_refused(dev, "the machine refused the device", errp);
}

bool machine_unplug_request(tes_device *dev, char **errp)
{
    tes_device *m = machine_current();
    const tes_machine_ops *ops = m ? machine_ops(m) : NULL;

    if (!ops || !OPS_HAS(ops, unplug_request)) {
        core_set_error(errp, "Device '%s' does not support hotplugging",
                       dev->id ? dev->id : dev->name);
        return false;
    }
    return ops->unplug_request(m, m->s, dev) == 0 ||
           hotplug_refused(dev, "the machine refused to unplug it", errp);
}

void machine_reset(void)
{
    devices_reset_all();
    cpus_reset();
}

/* tes_machine_ops.wakeup (1.7): the board's resume path. */
bool machine_wakeup(tes_cpu_boot *boot)
{
    tes_device *m = machine_current();
    const tes_machine_ops *ops = m ? machine_ops(m) : NULL;

    if (ops && ops->size >= offsetof(tes_machine_ops, wakeup) + sizeof(void *) &&
        ops->wakeup) {
        *boot = (tes_cpu_boot){.size = sizeof(*boot)};
        return ops->wakeup(m, m->s, boot);
    }
    return false;
}

/* tes_machine_ops.default_display (1.8), NULL when the machine names none. */
const char *machine_default_display(void)
{
    tes_device *m = machine_current();
    const tes_machine_ops *ops = m ? machine_ops(m) : NULL;

    if (!ops || ops->size < offsetof(tes_machine_ops, default_display) + sizeof(void *)) {
        return NULL;
    }
    return ops->default_display;
}

/* tes_machine_ops.default_nic (1.3), NULL when the machine names none. */
const char *machine_default_nic(void)
{
    tes_device *m = machine_current();
    const tes_machine_ops *ops = m ? machine_ops(m) : NULL;

    if (!ops || ops->size < offsetof(tes_machine_ops, default_nic) + sizeof(void *)) {
        return NULL;
    }
    return ops->default_nic;
}

/* tes_machine_ops.default_block_if and ide_units_per_bus (1.4); "none"
 * and 0 for older machines, as QEMU's default block_default_type. */
const char *machine_default_block_if(void)
{
    tes_device *m = machine_current();
    const tes_machine_ops *ops = m ? machine_ops(m) : NULL;

    if (!ops || ops->size < offsetof(tes_machine_ops, default_block_if) + sizeof(void *) ||
        !ops->default_block_if) {
        return "none";
    }
    return ops->default_block_if;
}

unsigned machine_ide_units_per_bus(void)
{
    tes_device *m = machine_current();
    const tes_machine_ops *ops = m ? machine_ops(m) : NULL;

    if (!ops || ops->size < offsetof(tes_machine_ops, ide_units_per_bus) + sizeof(unsigned)) {
        return 0;
    }
    return ops->ide_units_per_bus;
}
