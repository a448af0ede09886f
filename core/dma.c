/*
 * tessera core: DMA from devices into system memory.
 *
 * A device's DMA goes up its bus chain; the first bus an IOMMU claimed
 * (dma_set_iommu) translates every access, in as many contiguous pieces as
 * the IOMMU reports. PCI functions master the bus only with Bus Master
 * Enable set (PCI Local Bus 3.0, 6.2.2, Command register bit 2); without it
 * the access is dropped. Writes to I/O regions (MSI doorbells, peer MMIO)
 * reach them as accesses of natural size through the memory core. An MSI
 * (msi_send) is offered first to the first IOMMU on the way up that
 * remaps interrupts (tes_iommu_ops.remap_msi, 1.5), then written as a DMA.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "core.h"

/* The bus whose IOMMU translates dev's accesses; bypass: also for a
 * device whose DMA bypasses translation (its messages do not). */
static tes_bus *iommu_bus_of(tes_device *dev, bool bypass)
{
    tes_bus *bus = dev && (!dev->dma_bypass || !bypass) ? dev->bus : NULL;

    while (bus) {
        if (bus->iommu && bus->iommu->translate) {
            return bus;
        }
        bus = bus->parent ? bus->parent->bus : NULL;
    }
    return NULL;
}

static tes_bus *iommu_bus(tes_device *dev)
{
    return iommu_bus_of(dev, true);
}

static const char *dev_name(tes_device *dev)
{
    return dev && dev->name ? dev->name : "device";
}

static bool may_master(tes_device *dev, uint64_t addr, uint64_t len, bool write)
{
    if (!dev || !dev->pci || pci_bus_master_enabled(dev)) {
        return true;
    }
    core_log(TES_LOG_GUEST_ERROR, "%s: DMA %s of %" PRIu64 " bytes at 0x%" PRIx64
             " dropped: bus mastering disabled", dev_name(dev), write ? "write" : "read",
             len, addr);
    return false;
}

/* Translate addr for dev: *pa and the contiguous length (<= *len). */
static int translate(tes_device *dev, tes_bus *bus, uint64_t addr, bool write, uint64_t *pa,
                     uint64_t *len)
{
    uint64_t n = 0;
    int ret;

    if (!bus) {
        *pa = addr;
        return 0;
    }
    ret = bus->iommu->translate(bus->iommu_opaque, dev->pci ? pci_requester_id(dev) : 0, addr,
                                write, pa, &n);
    if (ret < 0) {
        return ret;
    }
    *len = MIN(*len, MAX(n, 1));
    return 0;
}

/* The PCI function whose DMA is being dispatched on this thread (-1:
 * none). Thread-local: vCPU threads and the main loop DMA concurrently
 * only under the machine lock, but an I/O region may itself DMA while
 * dispatching (nested), hence the save and restore in dma_rw_via.
 * initial-exec: the core is loaded with the program (the harness library
 * too), never dlopen()ed; the default model cost a __tls_get_addr call
 * per access in the harness, two per DMA. */
static __thread int32_t cur_requester __attribute__((tls_model("initial-exec"))) = -1;

int32_t dma_requester(void)
{
    return cur_requester;
}

static int dma_rw_pieces(tes_device *dev, tes_bus *bus, uint64_t addr, uint8_t *buf,
                         uint64_t len, bool write);

static int dma_rw_via(tes_device *dev, tes_bus *bus, uint64_t addr, uint8_t *buf,
                      uint64_t len, bool write)
{
    int32_t saved = cur_requester;
    int ret;

    cur_requester = dev && dev->pci ? pci_requester_id(dev) : -1;
    ret = dma_rw_pieces(dev, bus, addr, buf, len, write);
    cur_requester = saved;
    return ret;
}

static int dma_rw_pieces(tes_device *dev, tes_bus *bus, uint64_t addr, uint8_t *buf,
                         uint64_t len, bool write)
{
    int ret = 0;

    if (!may_master(dev, addr, len, write)) {
        if (!write) {
            memset(buf, 0xff, len);
        }
        return -EPERM;
    }
    while (len) {
        uint64_t pa, n = len;
        if (translate(dev, bus, addr, write, &pa, &n) < 0) {
            /* The IOMMU recorded the fault; the rest of the transfer aborts. */
            if (!write) {
                memset(buf, 0xff, len);
            }
            return -EFAULT;
        }
        if ((write ? as_write(memory_system(), pa, buf, n)
                   : as_read(memory_system(), pa, buf, n)) != TES_MEM_OK) {
            ret = TES_MEM_UNASSIGNED;
        }
        addr += n;
        buf += n;
        len -= n;
    }
    return ret;
}

/*
 * Whether dev masters the bus and no IOMMU translates its DMA, cached per
 * device until the epoch moves: bus master enable of the function and its
 * bridges, the IOMMU search up the buses and the requester id cost ~100
 * instructions per access (a disk's request makes 3-6), and what they
 * depend on changes only with the calls that invalidate.
 */
static uint64_t dma_epoch = 1;

void dma_invalidate(void)
{
    __atomic_add_fetch(&dma_epoch, 1, __ATOMIC_RELAXED);
}

static inline bool dma_direct(tes_device *dev)
{
    uint64_t epoch = __atomic_load_n(&dma_epoch, __ATOMIC_RELAXED);

    if (!dev) {
        return false;
    }
    if (dev->dma_epoch == epoch) {
        return true;
    }
    if (iommu_bus(dev) || (dev->pci && !pci_bus_master_enabled(dev))) {
        return false;
    }
    dev->dma_rid = dev->pci ? pci_requester_id(dev) : -1;
    dev->dma_epoch = epoch;
    return true;
}

/*
 * Both counters only grow, so their sum moves whenever either does: a
 * device keeping dma_map pointers (a reply queue, virtio rings) checks
 * this one value at each use. The memory generation covers map changes,
 * RAM unplug and dirty-log syncs; the epoch bus mastering, resets, loads
 * and IOMMU changes. Under an IOMMU there is no value: its translations
 * change at its own invalidations, which the core does not see.
 */
static __attribute__((noinline)) uint64_t dma_generation_slow(tes_device *dev)
{
    if (!dma_direct(dev)) {
        return 0;
    }
    return __atomic_load_n(&dma_epoch, __ATOMIC_RELAXED) + memory_generation();
}

/* The answer for a device whose directness this epoch knows, without a
 * register save: devices ask it at each use of a kept pointer, three or
 * four times a request (callgrind: ~16 instructions a call, now ~8). */
uint64_t dma_generation(tes_device *dev)
{
    uint64_t epoch = __atomic_load_n(&dma_epoch, __ATOMIC_RELAXED);

    if (__builtin_expect(dev && dev->dma_epoch == epoch, 1)) {
        return epoch + memory_generation();
    }
    return dma_generation_slow(dev);
}

static int dma_rw(tes_device *dev, uint64_t addr, uint8_t *buf, uint64_t len, bool write)
{
    int32_t saved = cur_requester;
    int ret;

    if (!dma_direct(dev)) {
        return dma_rw_via(dev, iommu_bus(dev), addr, buf, len, write);
    }
    cur_requester = dev->dma_rid;
    ret = write ? as_write(memory_system(), addr, buf, len)
                : as_read(memory_system(), addr, buf, len);
    cur_requester = saved;
    return ret == TES_MEM_OK ? 0 : TES_MEM_UNASSIGNED;
}

int dma_read(tes_device *dev, uint64_t addr, void *buf, uint64_t len)
{
    return dma_rw(dev, addr, buf, len, false);
}

int dma_write(tes_device *dev, uint64_t addr, const void *buf, uint64_t len)
{
    /* dma_rw does not write to buf when write is set. */
    return dma_rw(dev, addr, (uint8_t *)buf, len, true);
}

void *dma_map(tes_device *dev, uint64_t addr, uint64_t *len, bool is_write)
{
    uint64_t pa, n = *len;

    if (dma_direct(dev)) {
        return as_ram_ptr(memory_system(), addr, len, is_write);
    }
    if (!may_master(dev, addr, *len, is_write) ||
        translate(dev, iommu_bus(dev), addr, is_write, &pa, &n) < 0) {
        *len = 0;
        return NULL;
    }
    *len = n;
    return as_ram_ptr(memory_system(), pa, len, is_write);
}

void dma_unmap(tes_device *dev, void *ptr, uint64_t len, bool is_write)
{
    if (ptr && is_write) {
        memory_set_dirty_ptr(ptr, len);
    }
}

void dma_set_iommu(tes_bus *bus, const tes_iommu_ops *ops, void *opaque)
{
    if (bus) {
        bus->iommu = ops;
        bus->iommu_opaque = opaque;
        dma_invalidate();
    }
}

static bool has_remap(const tes_iommu_ops *ops)
{
    return ops && ops->size >= offsetof(tes_iommu_ops, remap_msi) + sizeof(void *) &&
           ops->remap_msi;
}

static tes_bus *remap_bus(tes_device *dev)
{
    tes_bus *bus = dev ? dev->bus : NULL;

    while (bus) {
        if (has_remap(bus->iommu)) {
            return bus;
        }
        bus = bus->parent ? bus->parent->bus : NULL;
    }
    return NULL;
}

/* A virtio device whose driver did not accept VIRTIO_F_ACCESS_PLATFORM
 * hands it guest-physical addresses: its DMA must not be translated (QEMU's
 * virtio devices with iommu_platform=off). Its MSIs are still remapped. */
void dma_set_bypass(tes_device *dev, bool bypass)
{
    if (dev) {
        dev->dma_bypass = bypass;
        dma_invalidate();
    }
}

/*
 * Messages sent while completions are reaped (msi_batch_begin/end around
 * the block layer's callbacks, under the machine lock) go out once each
 * at the end: a device completing 32 requests in one reap would otherwise
 * send the same message 32 times (megasas at each reply, virtio without
 * EVENT_IDX at each used entry: ~750 instructions a request through the
 * memory core). The guest cannot tell: the interrupt controller keeps one
 * pending bit per vector (local APIC IRR, GIC LPI), so identical messages
 * that arrive before it is taken are one interrupt, and the one sent
 * comes after everything the batch wrote, which is what the handler
 * reads. Distinct messages keep the order of their first sending.
 */
#define MSI_BATCH_MAX 16

typedef struct msi_msg {
    tes_device *dev;
    uint64_t addr;
    uint32_t data;
} msi_msg;

static __thread unsigned msi_depth __attribute__((tls_model("initial-exec")));
static __thread unsigned msi_n __attribute__((tls_model("initial-exec")));
static __thread msi_msg msi_q[MSI_BATCH_MAX] __attribute__((tls_model("initial-exec")));

static void msi_deliver(tes_device *dev, uint64_t addr, uint32_t data);

/*
 * Calls deferred to the end of a batch (host->defer_call): a device
 * completing 32 requests in one reap would otherwise raise its interrupt,
 * or take virtio's notification barrier, 32 times. A batch is a register
 * write being handled (memory.c's io_call_write) or a reap (msi_batch_begin/
 * end, which runs them before it sends its messages, so theirs join); not
 * a vCPU's slice, which may run long.
 * Distinct calls keep the order of their first deferral.
 */
#define DEFER_MAX 32

typedef struct deferred {
    tes_device *dev;
    void (*fn)(void *opaque);
    void *opaque;
} deferred;

static __thread unsigned defer_depth __attribute__((tls_model("initial-exec")));
static __thread unsigned defer_n __attribute__((tls_model("initial-exec")));
static __thread deferred defer_q[DEFER_MAX] __attribute__((tls_model("initial-exec")));

/* Runs what was deferred, with the depth at 0: a call that defers more
 * runs it at once. Each is taken off the queue as it runs, not from a
 * snapshot, so that one whose device a call before it freed (an MSI
 * aimed at a hotplug controller) was cancelled and does not run. */
static void defer_flush(void)
{
    while (defer_n) {
        deferred d = defer_q[0];

        memmove(defer_q, defer_q + 1, sizeof(defer_q[0]) * --defer_n);
        d.fn(d.opaque);
    }
}

void defer_begin(void)
{
    defer_depth++;
}

void defer_end(void)
{
    if (--defer_depth == 0 && defer_n) {
        defer_flush();
    }
}

void defer_call(tes_device *dev, void (*fn)(void *opaque), void *opaque)
{
    if (!fn) {
        return;
    }
    if (!defer_depth) {
        fn(opaque);
        return;
    }
    for (unsigned i = 0; i < defer_n; i++) {
        if (defer_q[i].fn == fn && defer_q[i].opaque == opaque && defer_q[i].dev == dev) {
            return;
        }
    }
    if (defer_n == DEFER_MAX) {
        /* Full: run the batch's calls so far (early is safe, it only
         * costs the batching). */
        unsigned depth = defer_depth;

        defer_depth = 0;
        defer_flush();
        defer_depth = depth;
    }
    defer_q[defer_n++] = (deferred){dev, fn, opaque};
}

void defer_cancel(tes_device *dev)
{
    unsigned j = 0;

    for (unsigned i = 0; i < defer_n; i++) {
        if (defer_q[i].dev != dev) {
            defer_q[j++] = defer_q[i];
        }
    }
    defer_n = j;
}

void msi_batch_begin(void)
{
    msi_depth++;
    defer_begin();
}

/* Sends what was queued; the caller's batch goes on. */
static void msi_batch_flush(void)
{
    /* Delivering may re-enter (an I/O doorbell that reaps): send from a
     * snapshot with the queue empty. */
    msi_msg q[MSI_BATCH_MAX];
    unsigned n = msi_n;

    memcpy(q, msi_q, sizeof(q[0]) * n);
    msi_n = 0;
    for (unsigned i = 0; i < n; i++) {
        msi_deliver(q[i].dev, q[i].addr, q[i].data);
    }
}

void msi_batch_end(void)
{
    defer_end(); /* before the messages: what it raises joins them */
    if (--msi_depth == 0 && msi_n) {
        msi_batch_flush();
    }
}

/* In a batch: queue the message unless it is queued already. */
static bool msi_defer(tes_device *dev, uint64_t addr, uint32_t data)
{
    if (!msi_depth) {
        return false;
    }
    for (unsigned i = 0; i < msi_n; i++) {
        if (msi_q[i].dev == dev && msi_q[i].addr == addr && msi_q[i].data == data) {
            return true;
        }
    }
    if (msi_n == MSI_BATCH_MAX) {
        msi_batch_flush();
    }
    msi_q[msi_n++] = (msi_msg){dev, addr, data};
    return true;
}

void msi_send(tes_device *dev, uint64_t addr, uint32_t data)
{
    if (!msi_defer(dev, addr, data)) {
        msi_deliver(dev, addr, data);
    }
}

static void msi_deliver(tes_device *dev, uint64_t addr, uint32_t data)
{
    tes_bus *bus = remap_bus(dev);
    uint8_t buf[4];

    /* A function that may not master the bus sends no message at all:
     * the interrupt remapper must not see (nor fault) one. */
    if (!may_master(dev, addr, 4, true)) {
        return;
    }
    if (bus && bus->iommu->remap_msi(bus->iommu_opaque, dev->pci ? pci_requester_id(dev) : 0,
                                     &addr, &data) < 0) {
        return; /* blocked; the IOMMU recorded why */
    }
    buf[0] = (uint8_t)data;
    buf[1] = (uint8_t)(data >> 8);
    buf[2] = (uint8_t)(data >> 16);
    buf[3] = (uint8_t)(data >> 24);
    /* An aligned 4-byte write reaches an I/O doorbell as one access. It
     * is translated even for a device whose DMA bypasses the IOMMU (a
     * virtio device without ACCESS_PLATFORM): the guest composed the
     * address for the device's domain (Linux on an SMMU maps the GIC's
     * doorbell at an IOVA), as QEMU sends it through the IOMMU too. */
    dma_rw_via(dev, iommu_bus_of(dev, false), addr, buf, sizeof(buf), true);
}
