/*
 * board-x86: what the guest reports through _OST (ACPI 6.5, 6.3.5) about
 * the hotplug slots, to QMP, as QEMU's pc and q35: an ACPI_DEVICE_OST
 * event on every status write of the memory (mem-hotplug.c) and CPU
 * (cpu-hotplug.c) register blocks, and query-acpi-ospm-status with each
 * slot's last report (memory slots first, then the CPUs, QEMU's order).
 *
 *   {"event": "ACPI_DEVICE_OST", "data": {"info": {"device": "c2",
 *    "slot": "2", "slot-type": "CPU", "source": 1, "status": 0}}}
 *
 * "device" is the module's or vCPU's id= and left out without one (QEMU's
 * optional member). source is the Notify code the guest answers (1 device
 * check, 3 eject request, 0x103 the eject itself), status 0 success.
 */
#include <stdio.h>

#include "x86-board.h"

#define H x86_board_host

/* The device member: "\"device\": \"ID\", " or nothing. ids are QEMU ids
 * ([A-Za-z][A-Za-z0-9_.-]*, the core checks): no escaping needed. */
static void device_member(char *out, size_t n, tes_device *dev)
{
    const char *id = dev && H->dev_given_id ? H->dev_given_id(dev) : NULL;

    snprintf(out, n, id ? "\"device\": \"%s\", " : "%s", id ? id : "");
}

static void info_json(char *out, size_t n, tes_device *dev, const char *type, unsigned slot,
                      uint32_t source, uint32_t status)
{
    char devm[160];

    device_member(devm, sizeof(devm), dev);
    snprintf(out, n, "{%s\"slot\": \"%u\", \"slot-type\": \"%s\", \"source\": %u, "
             "\"status\": %u}", devm, slot, type, source, status);
}

static tes_device *cpu_device(unsigned idx)
{
    tes_cpu *cpu = H->cpu_by_index(idx);

    return cpu ? H->cpu_dev(cpu) : NULL;
}

static void send(const char *info)
{
    char data[400];

    snprintf(data, sizeof(data), "{\"info\": %s}", info);
    H->qmp_event("ACPI_DEVICE_OST", data);
}

static bool can_send(void)
{
    return H->size >= offsetof(tes_host, dev_given_id) + sizeof(void *);
}

static void cpu_ost(void *opaque, unsigned idx)
{
    x86_cpuhp *hp = &((x86_board *)opaque)->cpuhp;
    char info[300];

    if (can_send()) {
        info_json(info, sizeof(info), cpu_device(idx), "CPU", idx, hp->ost_ev[idx],
                  hp->ost_st[idx]);
        send(info);
    }
}

static void mem_ost(void *opaque, unsigned i)
{
    const x86_memslot *s = &((x86_board *)opaque)->memhp.slot[i];
    char info[300];

    if (can_send()) {
        info_json(info, sizeof(info), s->dev, "DIMM", i, s->ost_event, s->ost_status);
        send(info);
    }
}

void x86_board_ost_init(x86_board *b)
{
    b->cpuhp.ost = cpu_ost;
    b->memhp.ost = mem_ost;
}

void x86_board_ospm_status(tes_device *machine, void *s,
                           void (*put)(void *ctx, const char *info_json), void *ctx)
{
    x86_board *b = s;
    char info[300];

    for (unsigned i = 0; i < b->memhp.nslots; i++) {
        const x86_memslot *sl = &b->memhp.slot[i];

        info_json(info, sizeof(info), sl->dev, "DIMM", i, sl->ost_event, sl->ost_status);
        put(ctx, info);
    }
    for (unsigned i = 0; i < b->cpuhp.max_cpus; i++) {
        info_json(info, sizeof(info), cpu_device(i), "CPU", i, b->cpuhp.ost_ev[i],
                  b->cpuhp.ost_st[i]);
        put(ctx, info);
    }
}
