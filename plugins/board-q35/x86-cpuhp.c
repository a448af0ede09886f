/*
 * board-x86: CPU hotplug on q35 and pc (QEMU's ACPI CPU hotplug, modern
 * interface only, as QEMU's q35 uses it): the register block of
 * cpu-hotplug.c at I/O 0x0cd8 when -smp maxcpus= leaves free slots, the
 * machine's cpu_plugged / cpu_unplug_request (tes_machine_ops, 1.8), GPE0
 * bit 2 through the PM device's GPE inputs, and the guest's eject.
 *
 *   tessera -M q35 -smp 2,maxcpus=4 ...
 *   (QMP) device_add driver=qemu64-x86_64-cpu id=c2 socket-id=2 core-id=0
 *         thread-id=0          Linux adds cpu2 (offline: echo 1 > online)
 *   (QMP) device_del id=c2     Linux offlines and ejects it; DEVICE_DELETED
 *
 * The tables (MADT: every possible CPU, the absent ones not enabled;
 * DSDT: \_SB.CPUS) are rebuilt after every change for the next reset.
 */
#include <errno.h>

#include "x86-board.h"

#define H x86_board_host

static uint64_t hp_io_read(void *opaque, uint64_t off, unsigned size)
{
    return x86_cpuhp_read(opaque, off, size);
}

static void hp_io_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    x86_cpuhp_write(opaque, off, val, size);
}

static const tes_mem_ops hp_io_ops = {
    .size = sizeof(tes_mem_ops),
    .read = hp_io_read,
    .write = hp_io_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 4,
    .impl_min = 1, .impl_max = 4,
};

/* A rising edge on the PM device's GPE input sets GPE0_STS bit 2. */
static void gpe_pulse(x86_board *b)
{
    tes_irq *in = b->pm ? H->dev_irq_in(b->pm, X86_PM_GPE_INPUT(X86_CPUHP_GPE_BIT)) : NULL;

    if (!in) {
        H->log(TES_LOG_UNIMP, "%s: the PM device has no GPE inputs: the guest is not told "
               "about the CPU", b->name);
        return;
    }
    H->irq_set(in, 1);
    H->irq_set(in, 0);
}

static void tables_changed(x86_board *b)
{
    if (b->build_tables && b->build_tables(b) < 0) {
        H->log(TES_LOG_GUEST_ERROR, "%s: the ACPI tables could not be rebuilt", b->name);
    }
}

static void hp_eject(void *opaque, unsigned idx)
{
    x86_board *b = opaque;
    tes_cpu *cpu = H->cpu_by_index(idx);

    H->log(TES_LOG_TRACE, "%s: the guest ejected CPU %u", b->name, idx);
    if (cpu) {
        H->cpu_remove(cpu);
    }
    tables_changed(b);
}

int x86_board_cpuhp_init(x86_board *b)
{
    const tes_topology *t = H->machine_topology();
    uint32_t ids[X86_CPUHP_MAX];
    unsigned n = t->max_cpus < X86_CPUHP_MAX ? t->max_cpus : X86_CPUHP_MAX;
    tes_region *r;

    if (n <= b->ncpus || H->size < offsetof(tes_host, cpu_remove) + sizeof(void *)) {
        return 0; /* no free slot (or an older core): no interface, as before */
    }
    for (unsigned i = 0; i < n; i++) {
        ids[i] = tes_topology_x86_apic_id(t, i);
    }
    x86_cpuhp_init(&b->cpuhp, n, ids, hp_eject, b);
    x86_board_ost_init(b);
    for (unsigned i = 0; i < b->ncpus; i++) {
        x86_cpuhp_plug(&b->cpuhp, i, false);
    }
    r = H->region_new_io(b->dev, "acpi-cpu-hotplug", X86_CPUHP_LEN, &hp_io_ops, &b->cpuhp);
    if (!r) {
        H->error(b->dev, "cannot create the CPU hotplug I/O region");
        return -ENOMEM;
    }
    H->region_add(H->system_io(), X86_CPUHP_BASE, r, 0);
    return 0;
}

int x86_board_cpu_plugged(tes_device *dev, void *s, tes_cpu *cpu, bool hotplug)
{
    x86_board *b = s;
    unsigned idx = H->cpu_index(cpu);

    if (!b->cpuhp.max_cpus || idx >= b->cpuhp.max_cpus) {
        H->error(dev, "CPU hot-plug needs free slots: -smp N,maxcpus=M with M > N");
        return -ENOTSUP;
    }
    x86_cpuhp_plug(&b->cpuhp, idx, hotplug);
    if (hotplug) {
        gpe_pulse(b);
        tables_changed(b);
    }
    return 0;
}

int x86_board_cpu_unplug_request(tes_device *dev, void *s, tes_cpu *cpu)
{
    x86_board *b = s;

    if (!x86_cpuhp_unplug_request(&b->cpuhp, H->cpu_index(cpu))) {
        H->error(dev, "CPU %u cannot be unplugged (no CPU hotplug interface)",
                 H->cpu_index(cpu));
        return -ENOTSUP;
    }
    gpe_pulse(b);
    return 0;
}

bool x86_board_cpus_added(const x86_board *b)
{
    for (unsigned i = b->ncpus; i < b->cpuhp.max_cpus; i++) {
        if (b->cpuhp.flags[i] & CPUHP_PRESENT) {
            return true;
        }
    }
    return false;
}

/* The stream is input too: its flags must describe the vCPUs this side
 * has (the destination's -device list). */
int x86_board_cpuhp_post_load(tes_device *dev, void *s, uint32_t version)
{
    x86_board *b = s;

    if (!x86_cpuhp_state_ok(&b->cpuhp)) {
        H->error(dev, "CPU hotplug state in the stream names CPUs beyond maxcpus=%u",
                 b->cpuhp.max_cpus);
        return -EINVAL;
    }
    for (unsigned i = 0; i < b->cpuhp.max_cpus; i++) {
        bool present = b->cpuhp.flags[i] & CPUHP_PRESENT;

        if (present != (H->cpu_by_index(i) != NULL)) {
            H->error(dev, "CPU %u is %s in the stream but %s here (give the same -smp and "
                     "-device ...-cpu on both sides)", i, present ? "present" : "absent",
                     present ? "absent" : "present");
            return -EINVAL;
        }
    }
    return 0;
}
