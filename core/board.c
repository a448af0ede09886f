/*
 * tessera core: what boards compose CPUs and platform devices with (ABI
 * 1.2), so that a board is a plugin of its own that reads no other
 * plugin's state.
 *
 * CPUs: the boot state a board sets is kept here and re-applied after
 * every reset through the CPU's apply_boot(); input lines are tes_irqs
 * calling the CPU's set_irq(); a system-register server (GICv3 ICC_*) is
 * recorded per vCPU and reached by the CPU plugin through
 * cpu_sysreg_read/write. Outputs need nothing new: a vCPU is a device.
 *
 * Platform devices: their MMIO regions in registration order, their input
 * lines, and the addr=/irq= the user gave on the command line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* ---- CPUs ---- */

tes_device *cpu_dev(tes_cpu *cpu)
{
    return cpu ? cpu->dev : NULL;
}

static void cpu_in_handler(void *opaque, int n, int level)
{
    tes_cpu *cpu = opaque;

    if (cpu->ops->set_irq) {
        cpu->ops->set_irq(cpu, cpu->dev->s, n, level);
    }
}

tes_irq *cpu_irq_in(tes_cpu *cpu, int line)
{
    if (!cpu || line < 0 || line >= CPU_MAX_IRQ_IN) {
        return NULL;
    }
    if (!cpu->in[line]) {
        cpu->in[line] = irq_new(cpu_in_handler, cpu, line);
    }
    return cpu->in[line];
}

/* True when the CPU type's ops table reaches the entry at offset off. */
#define OPS_HAS(ops, member)                                                         \
    ((ops)->size >= offsetof(tes_cpu_ops, member) + sizeof((ops)->member) && (ops)->member)

/* TES_BOOT_POWER_OFF (1.8): the core's own mode, no CPU plugin sees it. */
bool cpu_boot_off(const tes_cpu *cpu)
{
    return cpu->has_boot && cpu->boot.mode == TES_BOOT_POWER_OFF;
}

void cpu_apply_boot(tes_cpu *cpu)
{
    if (cpu->has_boot && !cpu_boot_off(cpu) && OPS_HAS(cpu->ops, apply_boot)) {
        cpu->ops->apply_boot(cpu, cpu->dev->s, &cpu->boot);
    }
}

int cpu_set_boot(tes_cpu *cpu, const tes_cpu_boot *boot)
{
    tes_cpu_boot b = {0};
    int ret;

    if (!cpu || !boot || boot->size < offsetof(tes_cpu_boot, regs)) {
        return -EINVAL;
    }
    memcpy(&b, boot, boot->size < sizeof(b) ? boot->size : sizeof(b));
    b.size = sizeof(b);
    if (b.mode == TES_BOOT_RESET) {
        cpu->has_boot = false;
        return 0;
    }
    if (b.mode == TES_BOOT_POWER_OFF) {
        /* Its reset state stays as the CPU's reset made it; cpus_reset
         * keeps it off. */
        cpu->boot = b;
        cpu->has_boot = true;
        cpu_set_running(cpu, false);
        return 0;
    }
    if (!OPS_HAS(cpu->ops, apply_boot)) {
        return -ENOTSUP;
    }
    ret = cpu->ops->apply_boot(cpu, cpu->dev->s, &b);
    if (ret == 0) {
        cpu->boot = b;
        cpu->has_boot = true;
    }
    return ret;
}

/* host->cpu_start_at: the entry state of boot, applied once (after a
 * reset, so every other register is as the reset left it). */
int cpu_start_at(tes_cpu *cpu, const tes_cpu_boot *boot)
{
    tes_cpu_boot b = {0};

    if (!cpu || !boot || boot->size < offsetof(tes_cpu_boot, regs)) {
        return -EINVAL;
    }
    memcpy(&b, boot, boot->size < sizeof(b) ? boot->size : sizeof(b));
    b.size = sizeof(b);
    if (!OPS_HAS(cpu->ops, apply_boot)) {
        return -ENOTSUP;
    }
    return cpu->ops->apply_boot(cpu, cpu->dev->s, &b);
}

uint64_t cpu_arch_id(tes_cpu *cpu)
{
    if (!cpu) {
        return 0;
    }
    if (OPS_HAS(cpu->ops, arch_id)) {
        return cpu->ops->arch_id(cpu, cpu->dev->s);
    }
    return cpu->index;
}

/* System-register servers: up to CPU_MAX_SYSREG_SERVERS per vCPU, and as
 * many serving every vCPU (cpu NULL: an IOAPIC takes the EOI broadcasts of
 * all LAPICs, a PIC the acknowledge cycles of whichever CPU it is wired
 * to, present or created later). The first server claiming a register
 * answers; the vCPU's own servers are asked before the global ones. */
static const tes_cpu_sysregs *all_sysregs[CPU_MAX_SYSREG_SERVERS];
static void *all_sysregs_opaque[CPU_MAX_SYSREG_SERVERS];

static int servers_set(const tes_cpu_sysregs **ops, void **opq, const tes_cpu_sysregs *o,
                       void *opaque)
{
    int free_slot = -1;

    for (int i = 0; i < CPU_MAX_SYSREG_SERVERS; i++) {
        if (!o && opq[i] == opaque) {
            ops[i] = NULL; /* stop serving */
            opq[i] = NULL;
        } else if (o && ops[i] == o && opq[i] == opaque) {
            return -EBUSY;
        } else if (o && !ops[i] && free_slot < 0) {
            free_slot = i;
        }
    }
    if (!o) {
        return 0;
    }
    if (free_slot < 0) {
        return -ENOSPC;
    }
    ops[free_slot] = o;
    opq[free_slot] = opaque;
    return 0;
}

int cpu_set_sysregs(tes_cpu *cpu, const tes_cpu_sysregs *ops, void *opaque)
{
    if (ops && (ops->size < sizeof(tes_cpu_sysregs) || !ops->read || !ops->write)) {
        return -EINVAL;
    }
    if (!cpu) {
        return servers_set(all_sysregs, all_sysregs_opaque, ops, opaque);
    }
    return servers_set(cpu->sysregs, cpu->sysregs_opaque, ops, opaque);
}

void board_clear(void)
{
    memset(all_sysregs, 0, sizeof(all_sysregs));
    memset(all_sysregs_opaque, 0, sizeof(all_sysregs_opaque));
}

static bool servers_read(const tes_cpu_sysregs **ops, void **opq, tes_cpu *cpu, uint32_t reg,
                         uint64_t *val)
{
    for (int i = 0; i < CPU_MAX_SYSREG_SERVERS; i++) {
        if (ops[i] && ops[i]->read(opq[i], cpu, reg, val)) {
            return true;
        }
    }
    return false;
}

static bool servers_write(const tes_cpu_sysregs **ops, void **opq, tes_cpu *cpu, uint32_t reg,
                          uint64_t val)
{
    for (int i = 0; i < CPU_MAX_SYSREG_SERVERS; i++) {
        if (ops[i] && ops[i]->write(opq[i], cpu, reg, val)) {
            return true;
        }
    }
    return false;
}

bool cpu_sysreg_read(tes_cpu *cpu, uint32_t reg, uint64_t *val)
{
    uint64_t v = 0;

    if (!cpu || !(servers_read(cpu->sysregs, cpu->sysregs_opaque, cpu, reg, &v) ||
                  servers_read(all_sysregs, all_sysregs_opaque, cpu, reg, &v))) {
        return false;
    }
    *val = v;
    return true;
}

bool cpu_sysreg_write(tes_cpu *cpu, uint32_t reg, uint64_t val)
{
    return cpu && (servers_write(cpu->sysregs, cpu->sysregs_opaque, cpu, reg, val) ||
                   servers_write(all_sysregs, all_sysregs_opaque, cpu, reg, val));
}

/* ---- platform devices ---- */

int dev_init_mmio(tes_device *dev, tes_region *r)
{
    if (!dev || !r) {
        return -EINVAL;
    }
    if (!dev->mmio) {
        dev->mmio = g_ptr_array_new();
    }
    g_ptr_array_add(dev->mmio, r);
    return (int)dev->mmio->len - 1;
}

tes_region *dev_mmio(tes_device *dev, unsigned idx)
{
    return dev && dev->mmio && idx < dev->mmio->len ? g_ptr_array_index(dev->mmio, idx) : NULL;
}

void dev_init_irq_in(tes_device *dev, tes_irq_handler handler, void *opaque, unsigned n)
{
    if (!dev || dev->irq_in) {
        core_log(TES_LOG_GUEST_ERROR, "%s: input lines declared twice",
                 dev && dev->name ? dev->name : "device");
        return;
    }
    dev->irq_in = g_new0(tes_irq *, n ? n : 1);
    dev->n_irq_in = n;
    for (unsigned i = 0; i < n; i++) {
        dev->irq_in[i] = irq_new(handler, opaque, (int)i);
    }
}

tes_irq *dev_irq_in(tes_device *dev, unsigned idx)
{
    return dev && idx < dev->n_irq_in ? dev->irq_in[idx] : NULL;
}

/* Only system-bus device types carry a tes_platform_info (class_info of
 * other kinds is their tes_pci_info, tes_cpu_ops, ...). */
const tes_platform_info *type_platform_info(const tes_type_info *t)
{
    if (!t || t->kind != TES_KIND_DEVICE || (t->bus && strcmp(t->bus, TES_BUS_SYSTEM) != 0)) {
        return NULL;
    }
    return tes_platform_of(t->class_info);
}

const tes_platform_info *dev_platform_info(tes_device *dev)
{
    return dev ? type_platform_info(dev->type) : NULL;
}

bool dev_platform_place(tes_device *dev, tes_platform_place *out)
{
    if (!dev || !out || out->size < sizeof(tes_platform_place)) {
        return false;
    }
    *out = dev->place;
    out->size = sizeof(*out);
    return dev->place.has_addr || dev->place.has_irq;
}

static bool parse_u64(const char *s, uint64_t *v)
{
    char *end;

    if (!s[0] || s[0] == '-') {
        return false;
    }
    errno = 0;
    *v = strtoull(s, &end, 0);
    return errno == 0 && *end == 0;
}

/* addr=/irq= of a platform type (other types: not ours, return false with
 * *errp untouched so the caller goes on). */
bool dev_platform_opt(tes_device *d, const char *key, const char *value, char **errp)
{
    uint64_t v;

    if (!parse_u64(value, &v) || (strcmp(key, "irq") == 0 && v > UINT32_MAX)) {
        core_set_error(errp, "device '%s': %s= wants a number, got '%s'", d->type->name, key,
                       value);
        return false;
    }
    if (strcmp(key, "addr") == 0) {
        d->place.addr = v;
        d->place.has_addr = true;
    } else {
        d->place.irq = (uint32_t)v;
        d->place.has_irq = true;
    }
    return true;
}

void dev_board_free(tes_device *d)
{
    if (d->mmio) {
        g_ptr_array_free(d->mmio, true);
        d->mmio = NULL;
    }
    /* The lines stay allocated (others may still hold them, as for every
     * tes_irq) but forget the device. */
    for (unsigned i = 0; i < d->n_irq_in; i++) {
        d->irq_in[i]->handler = NULL;
    }
    g_free(d->irq_in);
    d->irq_in = NULL;
    d->n_irq_in = 0;
}
