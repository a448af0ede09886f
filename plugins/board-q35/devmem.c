/*
 * board-x86: device memory (-m SIZE,slots=N,maxmem=MAX) of the q35 and pc
 * machines and the memory modules in it: -device nvdimm and pc-dimm from
 * the command line (placed in devices_done, in -device order), pc-dimm
 * plugged and unplugged while the guest runs (QMP device_add/device_del:
 * the machine's hotplug and unplug_request ops), as QEMU's pc machines
 * are the hotplug handler of their memory devices.
 *
 * Placement (QEMU's facts): device memory starts at the first GiB
 * boundary above the high RAM and is maxmem - RAM + 1 GiB per slot long
 * (the slack is alignment room: the modules together stay within maxmem
 * - RAM). Each module takes a slot (slot=, or the first free one) and an
 * address (addr=, or the lowest free one at a 128 MiB boundary, a Linux
 * memory section, so the guest can add all of it). What the modules are
 * comes from the "memory-device" interface of their plugin
 * (tessera/memory-device.h).
 *
 * A DIMM goes to the guest through ACPI memory hotplug (mem-hotplug.c):
 * its slot reads enabled, and a hot-plugged one raises an insert event
 * and GPE0 bit 3; device_del raises a remove event; the guest's eject
 * unmaps it and the core frees it (host->dev_unplug: DEVICE_DELETED).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x86-board.h"
#include "x86-trace.h"

#define H x86_board_host
#define MiB (1024ull * 1024)
#define GiB (1024ull * MiB)
#define MODULE_ALIGN (128 * MiB)
#define PAGE 4096ull

uint64_t x86_devmem_base(const x86_board *b)
{
    return (4 * GiB + b->highmem + GiB - 1) & ~(GiB - 1);
}

uint64_t x86_devmem_size(const x86_board *b)
{
    const tes_topology *t = H->machine_topology();
    uint64_t ram = b->lowmem + b->highmem;

    if (!t || t->size < offsetof(tes_topology, ram_slots) + sizeof(unsigned) ||
        t->maxmem <= ram) {
        return 0;
    }
    return t->maxmem - ram + (uint64_t)t->ram_slots * GiB;
}

static const tes_memory_device_iface *md_iface(void)
{
    return H->iface_lookup(TES_MEMORY_DEVICE_IFACE, TES_MEMORY_DEVICE_IFACE_VERSION);
}

/* ---- the slots ---- */

/* A placement error: on the device for QMP device_add (its message is
 * device_add's), on the machine naming the device at start-up. */
static void fail(x86_board *b, tes_device *d, const char *fmt, ...)
{
    char msg[300];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (b->hotplugging) {
        H->error(d, "%s", msg);
    } else {
        H->error(b->dev, "%s '%s': %s", H->dev_type(d), H->dev_id(d), msg);
    }
}

/* In init: one slot per -m slots= (the register block at 0x0a00 only
 * with slots, as QEMU's). 0, or -ENOMEM/-EINVAL after the error. */
int x86_board_memslots(x86_board *b)
{
    const tes_topology *t = H->machine_topology();
    unsigned n = t && t->size >= offsetof(tes_topology, ram_slots) + sizeof(unsigned)
                     ? t->ram_slots : 0;

    if (n > X86_MAX_RAM_SLOTS) {
        H->error(b->dev, "-m slots=%u: at most %u memory slots", n, X86_MAX_RAM_SLOTS);
        return -EINVAL;
    }
    b->memhp.nslots = n;
    b->memhp.slot = n ? calloc(n, sizeof(x86_memslot)) : NULL;
    if (n && !b->memhp.slot) {
        return -ENOMEM;
    }
    return n ? x86_board_memhp_io(b) : 0;
}

/* Bytes the placed modules take (QEMU's memory_device_check_addable). */
static uint64_t used_bytes(const x86_board *b)
{
    uint64_t used = 0;

    for (unsigned i = 0; i < b->memhp.nslots; i++) {
        used += b->memhp.slot[i].dev ? b->memhp.slot[i].size : 0;
    }
    return used;
}

/* The slot holding a module that overlaps [at, at + size), or -1. */
static int overlap(const x86_board *b, uint64_t at, uint64_t size)
{
    for (unsigned i = 0; i < b->memhp.nslots; i++) {
        const x86_memslot *s = &b->memhp.slot[i];

        if (s->dev && at < s->addr + s->size && s->addr < at + size) {
            return (int)i;
        }
    }
    return -1;
}

/* The lowest free MODULE_ALIGN-aligned address for size bytes, or 0. */
static uint64_t free_addr(const x86_board *b, uint64_t size)
{
    uint64_t base = x86_devmem_base(b), end = base + x86_devmem_size(b);
    uint64_t at = base;
    int hit;

    while (at + size <= end && (hit = overlap(b, at, size)) >= 0) {
        const x86_memslot *s = &b->memhp.slot[hit];

        at = (s->addr + s->size + MODULE_ALIGN - 1) & ~(MODULE_ALIGN - 1);
    }
    return at + size <= end ? at : 0;
}

static int pick_slot(x86_board *b, tes_device *d, int want)
{
    if (want >= 0) {
        if ((unsigned)want >= b->memhp.nslots) {
            fail(b, d, "invalid slot number %d, valid range is [0-%u]", want,
                     b->memhp.nslots - 1);
            return -1;
        }
        if (b->memhp.slot[want].dev) {
            fail(b, d, "slot %d is busy", want);
            return -1;
        }
        return want;
    }
    for (unsigned i = 0; i < b->memhp.nslots; i++) {
        if (!b->memhp.slot[i].dev) {
            return (int)i;
        }
    }
    fail(b, d, "no free slots left (-m slots=%u)", b->memhp.nslots);
    return -1;
}

/* addr= given: inside device memory, page aligned, not over another. */
static bool addr_ok(x86_board *b, tes_device *d, uint64_t at, uint64_t size)
{
    uint64_t base = x86_devmem_base(b), end = base + x86_devmem_size(b);
    int hit;

    if (at % PAGE || at < base || at + size > end || at + size < at) {
        fail(b, d, "can't add memory device [0x%llx:0x%llx], usable range for memory "
                 "devices [0x%llx:0x%llx]", (unsigned long long)at,
                 (unsigned long long)size, (unsigned long long)base,
                 (unsigned long long)(end - base));
        return false;
    }
    if ((hit = overlap(b, at, size)) >= 0) {
        fail(b, d, "address range conflicts with memory device id='%s'",
                 H->dev_id(b->memhp.slot[hit].dev));
        return false;
    }
    return true;
}

/* Checks QEMU's pc makes before plugging a memory device. */
static bool plug_ok(x86_board *b, tes_device *d, const tes_memory_device_info *mi,
                    uint64_t size)
{
    uint64_t room = x86_devmem_size(b);

    if (!room || !b->memhp.nslots) {
        fail(b, d, "memory devices (e.g. for memory hotplug) are not enabled, please "
                 "specify the maxmem option (-m SIZE,slots=N,maxmem=MAX)");
        return false;
    }
    if (mi->kind == TES_MEMORY_DEVICE_NVDIMM && !b->nvdimm) {
        fail(b, d, "-device nvdimm needs -machine %s,nvdimm=on", b->name);
        return false;
    }
    if (!size || size % (mi->kind == TES_MEMORY_DEVICE_NVDIMM ? 2 * MiB : PAGE)) {
        fail(b, d, "memory size %llu is not a multiple of %s", (unsigned long long)size,
                 mi->kind == TES_MEMORY_DEVICE_NVDIMM ? "2 MiB" : "the page size (4 KiB)");
        return false;
    }
    room -= (uint64_t)b->memhp.nslots * GiB;
    if (used_bytes(b) + size > room) {
        fail(b, d, "not enough space, currently 0x%llx in use of total space for memory "
                 "devices 0x%llx (-m maxmem=)", (unsigned long long)used_bytes(b),
                 (unsigned long long)room);
        return false;
    }
    return true;
}

/* Place d: a slot, an address, its RAM mapped there. 0 or -EINVAL. */
static int place(x86_board *b, tes_device *d, const tes_memory_device_info *mi)
{
    tes_region *r = H->dev_mmio(d, 0);
    uint64_t size = r ? H->region_size(r) : 0, at;
    int slot;

    if (!plug_ok(b, d, mi, size) || (slot = pick_slot(b, d, mi->slot)) < 0) {
        return -EINVAL;
    }
    if (mi->addr) {
        at = addr_ok(b, d, mi->addr, size) ? mi->addr : 0;
    } else if (!(at = free_addr(b, size))) {
        fail(b, d, "could not find position in guest address space for memory device - "
                 "memory fragmented or too small");
    }
    if (!at) {
        return -EINVAL;
    }
    H->region_add(H->system_memory(), at, r, 0);
    b->memhp.slot[slot] = (x86_memslot){
        .dev = d, .addr = at, .size = size, .node = mi->node,
        .nvdimm = mi->kind == TES_MEMORY_DEVICE_NVDIMM,
        .enabled = mi->kind != TES_MEMORY_DEVICE_NVDIMM,
        /* the slot's _OST codes are the guest's, not the module's */
        .ost_event = b->memhp.slot[slot].ost_event,
        .ost_status = b->memhp.slot[slot].ost_status,
    };
    if (md_iface()->size >= offsetof(tes_memory_device_iface, placed) + sizeof(void *)) {
        md_iface()->placed(d, at, slot);
    }
    return 0;
}

static bool memory_device(tes_device *d, tes_memory_device_info *mi)
{
    const tes_memory_device_iface *md = md_iface();

    *mi = (tes_memory_device_info){.size = sizeof(*mi)};
    return md && md->info(d, mi);
}

/* b->nvd (the NFIT's modules) from the slots, in slot order. */
static void collect_nvdimms(x86_board *b)
{
    tes_memory_device_info mi;

    b->nnvd = 0;
    for (unsigned i = 0; i < b->memhp.nslots && b->nnvd < X86_MAX_NVDIMMS; i++) {
        const x86_memslot *s = &b->memhp.slot[i];

        if (s->dev && s->nvdimm) {
            b->nvd_dev[b->nnvd] = s->dev;
            b->nvd[b->nnvd++] = (x86_nvdimm){
                .addr = s->addr, .size = s->size,
                .label_size = memory_device(s->dev, &mi) ? mi.label_size : 0,
            };
        }
    }
}

int x86_board_memdevs(x86_board *b)
{
    tes_bus *sys = H->dev_bus(b->dev);
    tes_memory_device_info mi;
    tes_device *d;

    for (unsigned i = b->own_sysbus; sys && (d = H->bus_child(sys, i)); i++) {
        if (memory_device(d, &mi) && place(b, d, &mi)) {
            return -EINVAL; /* fail() said why */
        }
    }
    collect_nvdimms(b);
    return x86_board_nvdimm_dsm(b);
}

/* ---- hotplug (tes_machine_ops.hotplug / unplug_request) ---- */

static x86_memslot *slot_of(x86_board *b, tes_device *d)
{
    for (unsigned i = 0; i < b->memhp.nslots; i++) {
        if (b->memhp.slot[i].dev == d) {
            return &b->memhp.slot[i];
        }
    }
    return NULL;
}

/* GPE0 bit 3 through the PM device's input 3 + bit (pc-platform's ACPI
 * PM block: 0 power button, 1 RTC alarm, 2 resume, then GPE0 bits). */
#define PM_IN_GPE0 3

static void raise_gpe(x86_board *b)
{
    tes_irq *in = b->pm ? H->dev_irq_in(b->pm, PM_IN_GPE0 + X86_MEMHP_GPE) : NULL;

    if (!in) {
        H->log(TES_LOG_GUEST_ERROR, "%s: the PM device has no GPE inputs: the guest is not "
               "told of the memory slot change", b->name);
        return;
    }
    H->irq_set(in, 1);
    H->irq_set(in, 0);
}

int x86_board_hotplug(tes_device *machine, void *s, tes_device *dev)
{
    x86_board *b = s;
    tes_memory_device_info mi;
    x86_memslot *slot;

    if (!memory_device(dev, &mi) || mi.kind != TES_MEMORY_DEVICE_DIMM) {
        H->error(dev, "Device '%s' does not support hotplugging", H->dev_type(dev));
        return -ENOTSUP;
    }
    b->hotplugging = true;
    slot = place(b, dev, &mi) ? NULL : slot_of(b, dev);
    b->hotplugging = false;
    if (!slot) {
        return -EINVAL;
    }
    slot->inserting = true;
    trace_mhp_acpi_plug((uint32_t)(slot - b->memhp.slot), slot->addr, slot->size);
    raise_gpe(b);
    return 0;
}

int x86_board_unplug_request(tes_device *machine, void *s, tes_device *dev)
{
    x86_board *b = s;
    x86_memslot *slot = slot_of(b, dev);

    if (!slot || slot->nvdimm) {
        H->error(dev, "nvdimm device hot unplug is not supported yet.");
        return -ENOTSUP;
    }
    slot->removing = true;
    raise_gpe(b);
    return 0;
}

/* The guest ejected dev (mem-hotplug.c cleared its slot): it leaves the
 * address space now, the core frees it from the main loop. */
static void eject(void *opaque, tes_device *dev)
{
    tes_region *r = H->dev_mmio(dev, 0);

    H->region_del(H->system_memory(), r);
    H->dev_unplug(dev);
}

/* ---- migration: the slots' register state (QEMU's vmstate of
 * memory hotplug: selector, then per slot the flags and _OST codes). The
 * modules themselves come back from the destination's command line, as
 * in QEMU, and their RAM is in the stream by backend id. ---- */

int x86_board_memhp_save(tes_device *dev, void *s, tes_stream *out)
{
    x86_board *b = s;
    uint32_t hdr[2] = {b->memhp.selector, b->memhp.nslots};

    H->stream_write(out, hdr, sizeof(hdr));
    for (unsigned i = 0; i < b->memhp.nslots; i++) {
        const x86_memslot *sl = &b->memhp.slot[i];
        uint32_t v[3] = {(sl->enabled ? 1u : 0) | (sl->inserting ? 2u : 0) |
                         (sl->removing ? 4u : 0), sl->ost_event, sl->ost_status};

        H->stream_write(out, v, sizeof(v));
    }
    return 0;
}

int x86_board_memhp_load(tes_device *dev, void *s, tes_stream *in, uint32_t version)
{
    x86_board *b = s;
    uint32_t hdr[2], v[3];

    if (version < 2) {
        return 0; /* a stream from before memory hotplug: no slot in use */
    }
    if (H->stream_read(in, hdr, sizeof(hdr))) {
        return -EIO;
    }
    if (hdr[1] != b->memhp.nslots) {
        H->error(dev, "the stream has %u memory slots, this machine %u (-m slots=)", hdr[1],
                 b->memhp.nslots);
        return -EINVAL;
    }
    b->memhp.selector = hdr[0];
    for (unsigned i = 0; i < b->memhp.nslots; i++) {
        x86_memslot *sl = &b->memhp.slot[i];

        if (H->stream_read(in, v, sizeof(v))) {
            return -EIO;
        }
        /* Only a module the destination has in that slot can be in use. */
        sl->enabled = (v[0] & 1) && sl->dev && !sl->nvdimm;
        sl->inserting = (v[0] & 2) && sl->enabled;
        sl->removing = (v[0] & 4) && sl->enabled;
        sl->ost_event = v[1];
        sl->ost_status = v[2];
    }
    return 0;
}

/* ---- the register block ---- */

static uint64_t memhp_io_read(void *opaque, uint64_t off, unsigned size)
{
    return x86_memhp_read(&((x86_board *)opaque)->memhp, off, size);
}

static void memhp_io_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    x86_memhp_write(&((x86_board *)opaque)->memhp, off, val, size);
}

static const tes_mem_ops memhp_ops = {
    .size = sizeof(tes_mem_ops),
    .read = memhp_io_read,
    .write = memhp_io_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 4,
    .impl_min = 1, .impl_max = 4,
};

int x86_board_memhp_io(x86_board *b)
{
    tes_region *r = H->region_new_io(b->dev, "acpi-mem-hotplug", X86_MEMHP_LEN, &memhp_ops, b);

    if (!r) {
        return -ENOMEM;
    }
    b->memhp.eject = eject;
    b->memhp.opaque = b;
    x86_board_ost_init(b);
    H->region_add(H->system_io(), X86_MEMHP_BASE, r, 0);
    return 0;
}

void x86_board_memslots_free(x86_board *b)
{
    free(b->memhp.slot);
    b->memhp.slot = NULL;
    b->memhp.nslots = 0;
}
