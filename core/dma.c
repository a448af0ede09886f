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

static tes_bus *iommu_bus(tes_device *dev)
{
    tes_bus *bus = dev && !dev->dma_bypass ? dev->bus : NULL;

    while (bus) {
        if (bus->iommu && bus->iommu->translate) {
            return bus;
        }
        bus = bus->parent ? bus->parent->bus : NULL;
    }
    return NULL;
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
 * dispatching (nested), hence the save and restore in dma_rw. */
static __thread int32_t cur_requester = -1;

int32_t dma_requester(void)
{
    return cur_requester;
}

static int dma_rw_pieces(tes_device *dev, uint64_t addr, uint8_t *buf, uint64_t len, bool write);

static int dma_rw(tes_device *dev, uint64_t addr, uint8_t *buf, uint64_t len, bool write)
{
    int32_t saved = cur_requester;
    int ret;

    cur_requester = dev && dev->pci ? pci_requester_id(dev) : -1;
    ret = dma_rw_pieces(dev, addr, buf, len, write);
    cur_requester = saved;
    return ret;
}

static int dma_rw_pieces(tes_device *dev, uint64_t addr, uint8_t *buf, uint64_t len, bool write)
{
    tes_bus *bus = iommu_bus(dev);
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
    }
}

void msi_send(tes_device *dev, uint64_t addr, uint32_t data)
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
    /* An aligned 4-byte write reaches an I/O doorbell as one access. */
    dma_write(dev, addr, buf, sizeof(buf));
}
