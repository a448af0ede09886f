/*
 * virtio-pci: the modern (virtio 1.x only) PCI transport, virtio 1.2
 * section 4.1, laid out as QEMU does so habits and dumps carry over.
 *
 * PCI 1af4:(1040 + device id), revision 1, subsystem 1af4:(device id).
 * BAR1: MSI-X table (0x000) and PBA (0x800), one vector per queue plus one
 * for configuration changes. BAR4: 64-bit prefetchable, 16 KiB:
 *
 *   0x0000 common configuration   (cfg_type 1)
 *   0x1000 ISR status             (cfg_type 3: read clears, lowers INTx)
 *   0x2000 device configuration   (cfg_type 4)
 *   0x3000 notifications          (cfg_type 2: queue q at 4 * q)
 *
 * Without MSI-X interrupts go through INTA# and the ISR byte.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "virtio-int.h"
#include "virtio-trace.h"

#define BAR_MSIX 1
#define BAR_CFG 4
#define REGION_SIZE 0x1000
#define OFF_COMMON 0x0000
#define OFF_ISR 0x1000
#define OFF_DEVICE 0x2000
#define OFF_NOTIFY 0x3000
#define NOTIFY_MULT 4
#define MSIX_PBA_OFF 0x800

/* virtio_pci_cap.cfg_type (1.2 section 4.1.4). */
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4

/* Common configuration offsets (1.2 section 4.1.4.3). */
#define CC_DFSELECT 0x00
#define CC_DF 0x04
#define CC_GFSELECT 0x08
#define CC_GF 0x0c
#define CC_MSIX 0x10
#define CC_NUMQ 0x12
#define CC_STATUS 0x14
#define CC_CFGGEN 0x15
#define CC_Q_SELECT 0x16
#define CC_Q_SIZE 0x18
#define CC_Q_MSIX 0x1a
#define CC_Q_ENABLE 0x1c
#define CC_Q_NOFF 0x1e
#define CC_Q_DESC 0x20
#define CC_Q_AVAIL 0x28
#define CC_Q_USED 0x30
#define CC_SIZE 0x38

/* ---- interrupts ---- */

static void raise_vector(tes_virtio_pci *p, uint16_t vector)
{
    if (H->pci_msix_enabled(p->dev)) {
        if (vector != VIRTIO_NO_VECTOR) {
            trace_virtio_pci_notify(H->dev_id(p->dev), vector);
            H->pci_notify(p->dev, vector);
        }
        return;
    }
    /* INTx: level until the driver reads ISR. */
    trace_virtio_pci_intx(H->dev_id(p->dev), p->v.isr != 0);
    H->pci_set_irq(p->dev, p->v.isr != 0);
}

static void pci_notify_queue(void *t, tes_virtq *vq)
{
    raise_vector(t, vq->vector);
}

static void pci_notify_config(void *t)
{
    tes_virtio_pci *p = t;

    raise_vector(p, p->msix_config);
}

static const vtransport_ops pci_tops = {
    .notify_queue = pci_notify_queue,
    .notify_config = pci_notify_config,
};

/* ---- common configuration ---- */

static tes_virtq *sel_queue(tes_virtio_pci *p)
{
    return p->queue_sel < vcore_num_queues(&p->v) ? &p->v.vq[p->queue_sel] : NULL;
}

static void put16(uint8_t *b, unsigned off, uint16_t v)
{
    b[off] = v;
    b[off + 1] = v >> 8;
}

static void put32(uint8_t *b, unsigned off, uint32_t v)
{
    put16(b, off, v);
    put16(b, off + 2, v >> 16);
}

static void put64(uint8_t *b, unsigned off, uint64_t v)
{
    put32(b, off, v);
    put32(b, off + 4, v >> 32);
}

/* Reads of any width: a snapshot of the register file. */
static uint64_t common_read(void *opaque, uint64_t off, unsigned size)
{
    tes_virtio_pci *p = opaque;
    tes_virtq *q = sel_queue(p);
    uint8_t b[CC_SIZE] = {0};
    uint64_t val = 0;

    if (off + size > CC_SIZE) {
        return 0;
    }
    put32(b, CC_DFSELECT, p->dfselect);
    put32(b, CC_DF, vcore_device_features(&p->v, p->dfselect));
    put32(b, CC_GFSELECT, p->gfselect);
    put32(b, CC_GF, p->gfselect < 2 ? (uint32_t)(p->v.guest_features >> (32 * p->gfselect)) : 0);
    put16(b, CC_MSIX, p->msix_config);
    put16(b, CC_NUMQ, vcore_num_queues(&p->v));
    b[CC_STATUS] = p->v.status;
    b[CC_CFGGEN] = p->v.config_gen;
    put16(b, CC_Q_SELECT, p->queue_sel);
    if (q) {
        put16(b, CC_Q_SIZE, q->num);
        put16(b, CC_Q_MSIX, q->vector);
        put16(b, CC_Q_ENABLE, q->ready);
        put16(b, CC_Q_NOFF, p->queue_sel);
        put64(b, CC_Q_DESC, q->desc);
        put64(b, CC_Q_AVAIL, q->avail);
        put64(b, CC_Q_USED, q->used);
    }
    for (unsigned i = 0; i < size; i++) {
        val |= (uint64_t)b[off + i] << (8 * i);
    }
    return val;
}

/* MSI-X vector numbers the device accepts; else it reads back NO_VECTOR
 * (1.2 section 4.1.5.1.2, Linux checks the read-back). */
static uint16_t valid_vector(tes_virtio_pci *p, uint16_t vec)
{
    return vec < p->nvec ? vec : VIRTIO_NO_VECTOR;
}

static void write_addr(tes_virtio_pci *p, tes_virtq *q, uint64_t off, uint64_t val, unsigned size)
{
    uint64_t *reg = off < CC_Q_AVAIL ? &q->desc : off < CC_Q_USED ? &q->avail : &q->used;
    unsigned sh = (off & 4) * 8;

    if (q->ready) {
        vcore_guest_error(&p->v, "queue %u address written while enabled", q->index);
        return;
    }
    if (size == 8) {
        *reg = val;
    } else {
        *reg = (*reg & ~(0xffffffffull << sh)) | ((val & 0xffffffffull) << sh);
    }
}

static void write_queue_reg(tes_virtio_pci *p, uint64_t off, uint64_t val, unsigned size)
{
    tes_virtq *q = sel_queue(p);

    if (!q) {
        vcore_guest_error(&p->v, "write to 0x%x for absent queue %u", (unsigned)off,
                          p->queue_sel);
        return;
    }
    switch (off) {
    case CC_Q_SIZE:
        vcore_queue_set_num(&p->v, q->index, val);
        break;
    case CC_Q_MSIX:
        q->vector = valid_vector(p, val);
        break;
    case CC_Q_ENABLE:
        if (val == 1) {
            vcore_queue_enable(&p->v, q->index);
        }
        break;
    default:
        write_addr(p, q, off, val, size);
    }
}

static bool write_size_ok(uint64_t off, unsigned size)
{
    if (off >= CC_Q_DESC && off < CC_SIZE) {
        return size == 8 ? !(off & 7) : size == 4;
    }
    if (off == CC_STATUS) {
        return size == 1;
    }
    return size == (off < CC_MSIX ? 4u : 2u);
}

static void common_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    tes_virtio_pci *p = opaque;

    if (off >= CC_SIZE || !write_size_ok(off, size)) {
        vcore_guest_error(&p->v, "%u-byte common config write at 0x%x", size, (unsigned)off);
        return;
    }
    switch (off) {
    case CC_DFSELECT: p->dfselect = val; break;
    case CC_GFSELECT: p->gfselect = val; break;
    case CC_GF: vcore_set_driver_features(&p->v, p->gfselect, val); break;
    case CC_MSIX: p->msix_config = valid_vector(p, val); break;
    case CC_STATUS:
        vcore_set_status(&p->v, val);
        if (val == 0) {
            p->msix_config = VIRTIO_NO_VECTOR;
            H->pci_set_irq(p->dev, 0);
        }
        break;
    case CC_Q_SELECT: p->queue_sel = val; break;
    case CC_DF: case CC_NUMQ: case CC_CFGGEN: case CC_Q_NOFF:
        vcore_guest_error(&p->v, "write to read-only common config 0x%x", (unsigned)off);
        break;
    default:
        write_queue_reg(p, off, val, size);
    }
}

/* ---- ISR, device config, notify ---- */

static uint64_t isr_read(void *opaque, uint64_t off, unsigned size)
{
    tes_virtio_pci *p = opaque;
    uint8_t isr = p->v.isr;

    /* 1.2 section 4.1.4.5.1: reading clears and de-asserts INTx. */
    p->v.isr = 0;
    H->pci_set_irq(p->dev, 0);
    return off == 0 ? isr : 0;
}

static void ignore_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
}

static uint64_t devcfg_read(void *opaque, uint64_t off, unsigned size)
{
    tes_virtio_pci *p = opaque;

    return vcore_config_read(&p->v, off, size);
}

static void devcfg_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    tes_virtio_pci *p = opaque;

    vcore_config_write(&p->v, off, val, size);
}

static void notify_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    tes_virtio_pci *p = opaque;

    /* Without VIRTIO_F_NOTIFICATION_DATA the value is the queue index; the
     * address already names it (notify_off = index). */
    trace_virtio_queue_notify(H->dev_id(p->dev), off / NOTIFY_MULT);
    vcore_queue_notify(&p->v, off / NOTIFY_MULT);
}

static uint64_t zero_read(void *opaque, uint64_t off, unsigned size)
{
    return 0;
}

#define OPS(nm, rd, wr, lo, hi)                                                               \
    static const tes_mem_ops nm = {.size = sizeof(tes_mem_ops), .read = rd, .write = wr,     \
                                   .endian = TES_ENDIAN_LITTLE, .valid_min = lo,              \
                                   .valid_max = hi, .impl_min = lo, .impl_max = hi}
TES_TRACE_RW_WRAP(common, common_read, common_write, virtio_pci_common_read,
                  virtio_pci_common_write)
TES_TRACE_RW_WRAP(isr, isr_read, ignore_write, virtio_pci_isr_read, virtio_pci_isr_write)
TES_TRACE_RW_WRAP(devcfg, devcfg_read, devcfg_write, virtio_pci_device_read,
                  virtio_pci_device_write)
OPS(common_ops, common_traced_read, common_traced_write, 1, 8);
OPS(isr_ops, isr_traced_read, isr_traced_write, 1, 4);
OPS(devcfg_ops, devcfg_traced_read, devcfg_traced_write, 1, 4);
OPS(notify_ops, zero_read, notify_write, 1, 4);

/* ---- set-up ---- */

static int add_vcap(tes_virtio_pci *p, uint8_t type, uint32_t off, uint32_t len)
{
    uint8_t caplen = type == CAP_NOTIFY ? 20 : 16;
    int at = H->pci_add_cap(p->dev, TES_PCI_CAP_ID_VNDR, 0, caplen);
    uint8_t *c;

    if (at < 0) {
        return at;
    }
    c = H->pci_config(p->dev) + at;
    c[2] = caplen;
    c[3] = type;
    c[4] = BAR_CFG;
    put32(c, 8, off);
    put32(c, 12, len);
    if (type == CAP_NOTIFY) {
        put32(c, 16, NOTIFY_MULT);
    }
    return 0;
}

static tes_region *sub(tes_virtio_pci *p, tes_region *bar, uint64_t at, const tes_mem_ops *ops,
                       const char *name)
{
    tes_region *r = H->region_new_io(p->dev, name, REGION_SIZE, ops, p);

    H->region_add(bar, at, r, 0);
    return r;
}

static int setup_bars(tes_virtio_pci *p)
{
    tes_region *bar = H->region_new_container(p->dev, "virtio-pci", 4 * REGION_SIZE);
    tes_region *msix = H->region_new_container(p->dev, "virtio-pci-msix", 0x1000);
    int ret;

    sub(p, bar, OFF_COMMON, &common_ops, "virtio-pci-common");
    sub(p, bar, OFF_ISR, &isr_ops, "virtio-pci-isr");
    sub(p, bar, OFF_DEVICE, &devcfg_ops, "virtio-pci-device");
    sub(p, bar, OFF_NOTIFY, &notify_ops, "virtio-pci-notify");
    ret = H->pci_register_bar(p->dev, BAR_CFG, TES_PCI_BAR_MEM64 | TES_PCI_BAR_PREFETCH, bar);
    ret = ret ?: H->pci_register_bar(p->dev, BAR_MSIX, TES_PCI_BAR_MEM32, msix);
    if (ret < 0) {
        return ret;
    }
    ret = p->nvec ? H->pci_msix_init(p->dev, 0, p->nvec, BAR_MSIX, msix, 0, MSIX_PBA_OFF) : 0;
    if (ret < 0) {
        return ret;
    }
    ret = add_vcap(p, CAP_COMMON, OFF_COMMON, REGION_SIZE);
    ret = ret ?: add_vcap(p, CAP_ISR, OFF_ISR, REGION_SIZE);
    ret = ret ?: add_vcap(p, CAP_DEVICE, OFF_DEVICE, REGION_SIZE);
    ret = ret ?: add_vcap(p, CAP_NOTIFY, OFF_NOTIFY, REGION_SIZE);
    return ret;
}

tes_virtio_pci *vpci_new(tes_device *pci_dev, const char *vdev_type, const char *props)
{
    return vpci_new_vectors(pci_dev, vdev_type, props, -1);
}

tes_virtio_pci *vpci_new_vectors(tes_device *pci_dev, const char *vdev_type, const char *props,
                                 int nvec)
{
    tes_virtio_pci *p = calloc(1, sizeof(*p));
    int ret;

    if (!p) {
        H->error(pci_dev, "virtio-pci: out of memory");
        return NULL;
    }
    p->dev = pci_dev;
    p->msix_config = VIRTIO_NO_VECTOR;
    vcore_init(&p->v, pci_dev, &pci_tops, p);
    p->bus = H->bus_new(pci_dev, TES_VIRTIO_BUS, NULL, &p->v);
    if (!H->dev_create(pci_dev, p->bus, vdev_type, props)) {
        free(p); /* the bus goes with pci_dev; it has no device */
        return NULL;
    }
    p->nvec = nvec < 0 ? vcore_num_queues(&p->v) + 1 : (unsigned)nvec;
    ret = setup_bars(p);
    if (ret < 0) {
        H->error(pci_dev, "virtio-pci: cannot set up BARs and capabilities (%d)", ret);
        free(p);
        return NULL;
    }
    return p;
}

void vpci_free(tes_virtio_pci *p)
{
    free(p);
}

void vpci_reset(tes_virtio_pci *p)
{
    vcore_reset(&p->v);
    p->dfselect = p->gfselect = 0;
    p->queue_sel = 0;
    p->msix_config = VIRTIO_NO_VECTOR;
    H->pci_set_irq(p->dev, 0);
}

int vpci_pre_save(tes_virtio_pci *p)
{
    vcore_quiesce(&p->v);
    return 0;
}

int vpci_save(tes_virtio_pci *p, tes_stream *out)
{
    put_u64(out, p->dfselect | (uint64_t)p->gfselect << 32);
    put_u64(out, p->queue_sel | (uint64_t)p->msix_config << 16);
    return vcore_save(&p->v, out);
}

/* Vectors as a guest write could leave them (valid_vector()). */
static int vectors_check(tes_virtio_pci *p)
{
    if (valid_vector(p, p->msix_config) != p->msix_config) {
        H->error(p->dev, "virtio-pci: config vector %u in the stream is out of range",
                 p->msix_config);
        return -EINVAL;
    }
    for (unsigned i = 0; i < vcore_num_queues(&p->v); i++) {
        uint16_t vec = p->v.vq[i].vector;

        if (valid_vector(p, vec) != vec) {
            H->error(p->dev, "virtio-pci: queue %u vector %u in the stream is out of range", i,
                     vec);
            return -EINVAL;
        }
    }
    return 0;
}

int vpci_load(tes_virtio_pci *p, tes_stream *in)
{
    uint64_t a, b;
    int ret = get_u64(in, &a);

    ret = ret ?: get_u64(in, &b);
    if (ret < 0) {
        return ret;
    }
    p->dfselect = (uint32_t)a;
    p->gfselect = a >> 32;
    p->queue_sel = b & 0xffff;
    p->msix_config = b >> 16;
    ret = vcore_load(&p->v, in);
    return ret ? ret : vectors_check(p);
}

/* ---- shared by this plugin's proxy types (virtio-blk-pci, ...) ---- */

void vpci_proxy_unrealize(tes_device *dev, void *s)
{
    vpci_proxy *px = s;

    /* The child device is gone already (child buses go first): only the
     * transport remains. */
    vpci_free(px->proxy);
    px->proxy = NULL;
}

void vpci_proxy_reset(tes_device *dev, void *s)
{
    vpci_proxy *px = s;

    vpci_reset(px->proxy);
}

static int proxy_pre_save(tes_device *dev, void *s)
{
    return vpci_pre_save(((vpci_proxy *)s)->proxy);
}

static int proxy_save(tes_device *dev, void *s, tes_stream *out)
{
    return vpci_save(((vpci_proxy *)s)->proxy, out);
}

static int proxy_load(tes_device *dev, void *s, tes_stream *in, uint32_t version)
{
    return vpci_load(((vpci_proxy *)s)->proxy, in);
}

const tes_state_info vpci_proxy_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .pre_save = proxy_pre_save,
    .save = proxy_save,
    .load = proxy_load,
};
