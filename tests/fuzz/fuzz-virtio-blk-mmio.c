/*
 * Fuzz target: virtio-blk-device on a virtio-mmio transport (plugins/virtio) through the harness; the actions
 * are fuzz-dev.h's generic ones and fuzz-virtio.h's.
 */
#include "fuzz-virtio.h"

static void setup(fz *f)
{
    fv_setup(f, FV_BLK_MMIO);
}

static const fz_target virtio_blk_mmio_target = {
    .plugins = {"virtio", NULL},
    .ram_size = 4 << 20,
    .init = fv_init,
    .setup = setup,
    .n_ops = FV_OPS,
    .op = fv_op,
};

FZ_TARGET(virtio_blk_mmio_target)
