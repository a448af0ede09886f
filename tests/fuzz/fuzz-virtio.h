/*
 * Virtio actions shared by the virtio fuzz targets (fuzz-virtio-blk-pci.c,
 * fuzz-virtio-blk-mmio.c, fuzz-virtio-rng.c), on top of fuzz-dev.h and the
 * plugin tests' driver (plugins/virtio/tests/virtio-drv.h).
 *
 * Each input starts from a device the driver set up (features, queue 0 of
 * FV_QSIZE entries, DRIVER_OK). The target actions:
 *
 *   0,1  a descriptor chain of 1..8 descriptors at any head of queue 0:
 *        addresses anywhere (fz_addr), lengths small or huge, flags and
 *        next fields fuzzed (loops, INDIRECT, WRITE before READ), published
 *        and kicked
 *   2    an indirect table in RAM and a head descriptor pointing at it
 *   3    a well-formed request of the device (virtio-blk: a header of any
 *        type and sector, data anywhere, a status byte; virtio-rng: a
 *        writable buffer), published and kicked
 *   4    the avail index or flags written raw, the used ring's event, a
 *        notify of any queue
 *   5    reap used entries
 *   6    the spec check: drain, reset the device, set it up again, then
 *        (virtio-blk) write a pattern and find it on the image, and a
 *        looping chain must set DEVICE_NEEDS_RESET; (virtio-rng) a buffer
 *        comes back used with its length
 */
#ifndef FUZZ_VIRTIO_H
#define FUZZ_VIRTIO_H

#include "fuzz-dev.h"
#include "virtio/tests/virtio-drv.h"

#define FV_QSIZE 16
#define FV_OPS 7

/* FV_INPUT_PCI: virtio-tablet-pci (its eventq is queue 0; action 3 posts
 * an event buffer, the spec check only sets the device up again). */
typedef enum fv_kind { FV_BLK_PCI, FV_BLK_MMIO, FV_RNG_PCI, FV_INPUT_PCI } fv_kind;

/* Once per process: the scratch image (virtio-blk). */
void fv_init(void);
/* Per input: the device of kind, set up by the driver. */
void fv_setup(fz *f, fv_kind kind);
/* Target action i (0..FV_OPS-1). */
void fv_op(fz *f, unsigned i);
/* Create and realize a device, or fail the input with the harness error. */
tes_device *fv_create(fz *f, const char *type, const char *props);

/* Map the modern interface (BAR4) of a virtio PCI device at VD_BAR4 and
 * enable MSI-X, as a driver's probe does, after parking its other BARs
 * (fz_pci_park_bars: an input may have moved the MSI-X table over BAR4).
 * Returns BAR4's address. */
uint64_t fv_pci_map(fz *f, tes_device *dev);

/* Actions on queue qi of any driver d (fuzz-virtio-net.c uses them too):
 * a fuzzed chain (actions 0,1), an indirect table (2), raw ring indices
 * and a notify of any queue (4). */
void fv_chain(fz *f, vd *d, unsigned qi);
void fv_indirect(fz *f, vd *d, unsigned qi);
void fv_rings(fz *f, vd *d, unsigned qi);

#endif
