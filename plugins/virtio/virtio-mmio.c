/*
 * virtio-mmio: the MMIO transport, version 2 (virtio 1.2 section 4.2.2),
 * device tree compatible "virtio,mmio".
 *
 *   -device virtio-mmio                 (machines create these; the virt
 *                                        machine maps 32 at 0x0a000000 +
 *                                        0x200 * i)
 *   -device virtio-blk-device,drive=ID,bus=virtio-mmio-bus.N
 *
 * A 0x200-byte register window (interface "virtio-mmio" hands it to the
 * machine) and one interrupt output, high while InterruptStatus is not 0.
 * Each instance has a child bus "virtio-mmio-bus.N", N the lowest index
 * free when it was created. An empty transport reads DeviceID 0, which
 * Linux skips. Registers below 0x100 take 32-bit accesses only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "virtio-int.h"
#include "virtio-trace.h"

#define MAGIC 0x74726976 /* "virt" */
#define VENDOR 0x554d4551 /* "QEMU": what Linux and firmware are used to */
#define MAX_INSTANCES 256

#define R_MAGIC 0x000
#define R_VERSION 0x004
#define R_DEVICE_ID 0x008
#define R_VENDOR_ID 0x00c
#define R_DEV_FEATURES 0x010
#define R_DEV_FEATURES_SEL 0x014
#define R_DRV_FEATURES 0x020
#define R_DRV_FEATURES_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_INT_STATUS 0x060
#define R_INT_ACK 0x064
#define R_STATUS 0x070
#define R_QUEUE_DESC_LO 0x080
#define R_QUEUE_DESC_HI 0x084
#define R_QUEUE_DRIVER_LO 0x090
#define R_QUEUE_DRIVER_HI 0x094
#define R_QUEUE_DEVICE_LO 0x0a0
#define R_QUEUE_DEVICE_HI 0x0a4
#define R_CONFIG_GEN 0x0fc
#define R_CONFIG 0x100

typedef struct vmmio {
    tes_device *dev;
    tes_region *region;
    tes_virtio v;
    int index; /* N of virtio-mmio-bus.N, -1 before realize */
    uint32_t dfsel, gfsel, queue_sel;
} vmmio;

static bool used_index[MAX_INSTANCES];

static void update_irq(vmmio *m)
{
    trace_virtio_mmio_setting_irq(m->v.isr != 0);
    H->dev_set_irq(m->dev, 0, m->v.isr != 0);
}

static void mmio_notify_queue(void *t, tes_virtq *vq)
{
    update_irq(t);
}

static void mmio_notify_config(void *t)
{
    update_irq(t);
}

static const vtransport_ops mmio_tops = {
    .notify_queue = mmio_notify_queue,
    .notify_config = mmio_notify_config,
};

static tes_virtq *sel_queue(vmmio *m)
{
    return m->queue_sel < vcore_num_queues(&m->v) ? &m->v.vq[m->queue_sel] : NULL;
}

static uint32_t queue_reg_read(vmmio *m, uint64_t off)
{
    tes_virtq *q = sel_queue(m);

    if (!q) {
        return 0;
    }
    switch (off) {
    case R_QUEUE_NUM: return q->num;
    case R_QUEUE_READY: return q->ready;
    case R_QUEUE_DESC_LO: return q->desc;
    case R_QUEUE_DESC_HI: return q->desc >> 32;
    case R_QUEUE_DRIVER_LO: return q->avail;
    case R_QUEUE_DRIVER_HI: return q->avail >> 32;
    case R_QUEUE_DEVICE_LO: return q->used;
    case R_QUEUE_DEVICE_HI: return q->used >> 32;
    }
    return 0;
}

static uint64_t reg_read(vmmio *m, uint64_t off)
{
    switch (off) {
    case R_MAGIC: return MAGIC;
    case R_VERSION: return 2;
    case R_DEVICE_ID: return m->v.dev ? m->v.info.device_id : 0;
    case R_VENDOR_ID: return VENDOR;
    case R_DEV_FEATURES: return vcore_device_features(&m->v, m->dfsel);
    case R_QUEUE_NUM_MAX: return vcore_queue_max(&m->v, m->queue_sel);
    case R_INT_STATUS: return m->v.isr;
    case R_STATUS: return m->v.status;
    case R_CONFIG_GEN: return m->v.config_gen;
    case R_QUEUE_NUM: case R_QUEUE_READY:
    case R_QUEUE_DESC_LO: case R_QUEUE_DESC_HI:
    case R_QUEUE_DRIVER_LO: case R_QUEUE_DRIVER_HI:
    case R_QUEUE_DEVICE_LO: case R_QUEUE_DEVICE_HI:
        return queue_reg_read(m, off);
    }
    vcore_guest_error(&m->v, "virtio-mmio: read of write-only or unknown register 0x%x",
                      (unsigned)off);
    return 0;
}

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
    vmmio *m = opaque;

    if (off >= R_CONFIG) {
        return vcore_config_read(&m->v, off - R_CONFIG, size);
    }
    if (size != 4 || (off & 3)) {
        vcore_guest_error(&m->v, "virtio-mmio: %u-byte read at 0x%x", size, (unsigned)off);
        return 0;
    }
    return reg_read(m, off);
}

static void set_half(uint64_t *reg, bool high, uint32_t val)
{
    unsigned sh = high ? 32 : 0;

    *reg = (*reg & ~(0xffffffffull << sh)) | ((uint64_t)val << sh);
}

static void queue_reg_write(vmmio *m, uint64_t off, uint32_t val)
{
    tes_virtq *q = sel_queue(m);

    if (!q) {
        vcore_guest_error(&m->v, "virtio-mmio: write to 0x%x for absent queue %u",
                          (unsigned)off, m->queue_sel);
        return;
    }
    if (off == R_QUEUE_READY) {
        /* 1.2 section 4.2.3.2: 0 stops using the queue. */
        if (val & 1) {
            vcore_queue_enable(&m->v, q->index);
        } else {
            q->ready = false;
        }
        return;
    }
    if (q->ready) {
        vcore_guest_error(&m->v, "virtio-mmio: queue %u register 0x%x written while ready",
                          q->index, (unsigned)off);
        return;
    }
    switch (off) {
    case R_QUEUE_NUM: vcore_queue_set_num(&m->v, q->index, val); break;
    case R_QUEUE_DESC_LO: case R_QUEUE_DESC_HI: set_half(&q->desc, off & 4, val); break;
    case R_QUEUE_DRIVER_LO: case R_QUEUE_DRIVER_HI: set_half(&q->avail, off & 4, val); break;
    default: set_half(&q->used, off & 4, val); break;
    }
}

static void reg_write(vmmio *m, uint64_t off, uint32_t val)
{
    switch (off) {
    case R_DEV_FEATURES_SEL: m->dfsel = val; return;
    case R_DRV_FEATURES: vcore_set_driver_features(&m->v, m->gfsel, val); return;
    case R_DRV_FEATURES_SEL: m->gfsel = val; return;
    case R_QUEUE_SEL: m->queue_sel = val; return;
    case R_QUEUE_NOTIFY: vcore_queue_notify(&m->v, val & 0xffff); return;
    case R_INT_ACK:
        m->v.isr &= ~val;
        update_irq(m);
        return;
    case R_STATUS:
        vcore_set_status(&m->v, val);
        update_irq(m);
        return;
    case R_QUEUE_NUM: case R_QUEUE_READY:
    case R_QUEUE_DESC_LO: case R_QUEUE_DESC_HI:
    case R_QUEUE_DRIVER_LO: case R_QUEUE_DRIVER_HI:
    case R_QUEUE_DEVICE_LO: case R_QUEUE_DEVICE_HI:
        queue_reg_write(m, off, val);
        return;
    }
    vcore_guest_error(&m->v, "virtio-mmio: write of 0x%x to read-only or unknown register 0x%x",
                      val, (unsigned)off);
}

static void mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    vmmio *m = opaque;

    if (off >= R_CONFIG) {
        vcore_config_write(&m->v, off - R_CONFIG, val, size);
        return;
    }
    if (size != 4 || (off & 3)) {
        vcore_guest_error(&m->v, "virtio-mmio: %u-byte write at 0x%x", size, (unsigned)off);
        return;
    }
    reg_write(m, off, val);
}

TES_TRACE_RW_WRAP(vmmio, mmio_read, mmio_write, virtio_mmio_read, virtio_mmio_write)

static const tes_mem_ops mmio_ops = {
    .size = sizeof(tes_mem_ops),
    .read = vmmio_traced_read,
    .write = vmmio_traced_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 8,
    .impl_min = 1, .impl_max = 4,
};

static int mmio_realize(tes_device *dev, void *s)
{
    vmmio *m = s;
    char name[32];

    m->dev = dev;
    m->index = -1;
    for (int i = 0; i < MAX_INSTANCES && m->index < 0; i++) {
        if (!used_index[i]) {
            m->index = i;
        }
    }
    if (m->index < 0) {
        H->error(dev, "virtio-mmio: more than %d transports", MAX_INSTANCES);
        return -ENOSPC;
    }
    used_index[m->index] = true;
    vcore_init(&m->v, dev, &mmio_tops, m);
    m->region = H->region_new_io(dev, "virtio-mmio", TES_VIRTIO_MMIO_SIZE, &mmio_ops, m);
    /* ABI 1.2: boards may also map it as region 0 (host->dev_mmio). */
    if (H->size >= offsetof(tes_host, dev_init_mmio) + sizeof(void *)) {
        H->dev_init_mmio(dev, m->region);
    }
    H->dev_init_irqs(dev, 1);
    snprintf(name, sizeof(name), "virtio-mmio-bus.%d", m->index);
    H->bus_new(dev, TES_VIRTIO_BUS, name, &m->v);
    return 0;
}

static void mmio_unrealize(tes_device *dev, void *s)
{
    vmmio *m = s;

    if (m->index >= 0) {
        used_index[m->index] = false;
    }
}

static void mmio_reset(tes_device *dev, void *s)
{
    vmmio *m = s;

    vcore_reset(&m->v);
    m->dfsel = m->gfsel = m->queue_sel = 0;
    update_irq(m);
}

static int mmio_pre_save(tes_device *dev, void *s)
{
    vmmio *m = s;

    vcore_quiesce(&m->v);
    return 0;
}

static int mmio_save(tes_device *dev, void *s, tes_stream *out)
{
    vmmio *m = s;

    return vcore_save(&m->v, out);
}

static int mmio_load(tes_device *dev, void *s, tes_stream *in, uint32_t version)
{
    vmmio *m = s;
    int ret = vcore_load(&m->v, in);

    update_irq(m);
    return ret;
}

static const tes_state_field mmio_fields[] = {
    TES_FIELD_U32(vmmio, dfsel),
    TES_FIELD_U32(vmmio, gfsel),
    TES_FIELD_U32(vmmio, queue_sel),
    TES_FIELD_END,
};

static const tes_state_info mmio_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = mmio_fields,
    .pre_save = mmio_pre_save,
    .save = mmio_save,
    .load = mmio_load,
};

const tes_type_info virtio_mmio_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "virtio-mmio",
    .flags = TES_TYPE_NO_USER, /* created by its board or host bridge */
    .desc = "virtio MMIO transport (version 2)",
    .bus = TES_BUS_SYSTEM,
    .instance_size = sizeof(vmmio),
    .realize = mmio_realize,
    .unrealize = mmio_unrealize,
    .reset = mmio_reset,
    .state = &mmio_state,
};

static tes_region *mmio_region(tes_device *dev)
{
    /* The name pointer is ours only for our type (another plugin may
     * provide a type of the same name). */
    if (!dev || H->dev_type(dev) != virtio_mmio_type.name) {
        return NULL;
    }
    return ((vmmio *)H->dev_state(dev))->region;
}

const tes_virtio_mmio_ops virtio_mmio_ops = {
    .size = sizeof(tes_virtio_mmio_ops),
    .region = mmio_region,
};
