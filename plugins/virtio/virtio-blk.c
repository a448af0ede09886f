/*
 * virtio-blk: the virtio block device (virtio 1.2 section 5.2).
 *
 * User manual
 *
 *   -device virtio-blk-pci,drive=ID[,num-queues=N][,queue-size=N]...
 *   -device virtio-blk-device,drive=ID,bus=virtio-mmio-bus.N[,...]
 *
 *   drive               (required) the -drive id= of the image
 *   num-queues          1..64, default 1 (VIRTIO_BLK_F_MQ when > 1)
 *   queue-size          power of two 2..1024, default 256
 *   seg-max             data segments per request, default queue-size - 2
 *   discard             on|off, default on (VIRTIO_BLK_F_DISCARD)
 *   write-zeroes        on|off, default on (VIRTIO_BLK_F_WRITE_ZEROES)
 *   serial              string returned by VIRTIO_BLK_T_GET_ID (20 bytes)
 *   logical_block_size  512..4096, default 512
 *
 * Requests go to the drive asynchronously with the request's iovecs, which
 * point straight into guest memory; many are in flight and complete in any
 * order. A range past the end is VIRTIO_BLK_S_IOERR, an unknown request
 * VIRTIO_BLK_S_UNSUPP. Reset and migration drain the drive first.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "virtio-int.h"
#include "virtio-trace.h"

#define VIRTIO_ID_BLOCK 2

/* Feature bits (1.2 section 5.2.3). */
#define F_SEG_MAX 2
#define F_RO 5
#define F_BLK_SIZE 6
#define F_FLUSH 9
#define F_MQ 12
#define F_DISCARD 13
#define F_WRITE_ZEROES 14

/* Config layout (1.2 section 5.2.4). */
#define CFG_CAPACITY 0
#define CFG_SEG_MAX 12
#define CFG_BLK_SIZE 20
#define CFG_NUM_QUEUES 34
#define CFG_MAX_DISCARD_SECTORS 36
#define CFG_MAX_DISCARD_SEG 40
#define CFG_DISCARD_ALIGN 44
#define CFG_MAX_WZ_SECTORS 48
#define CFG_MAX_WZ_SEG 52
#define CFG_WZ_MAY_UNMAP 56
#define CFG_SIZE 60

/* Requests (1.2 section 5.2.6). */
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define T_DISCARD 11
#define T_WRITE_ZEROES 13
#define S_OK 0
#define S_IOERR 1
#define S_UNSUPP 2
#define HDR_SIZE 16
#define SEG_SIZE 16
#define ID_BYTES 20
#define WZ_UNMAP 1
#define MAX_DZ_SECTORS 0x3fffff /* per discard/write-zeroes segment */

typedef struct vblk {
    tes_device *dev;
    tes_virtio *vdev;
    tes_drive *drive;
    uint32_t num_queues, queue_size, seg_max, lbs;
    bool discard, write_zeroes;
    char *serial;
    uint64_t sectors;
    bool ro;
    uint8_t config[CFG_SIZE];
} vblk;

typedef struct vreq {
    vblk *b;
    tes_virtq *vq;
    tes_virtio_elem *e;
    uint8_t *status;
    uint32_t written;
    struct iovec *copy; /* trimmed iovecs when the layout needs them */
} vreq;

/* ---- iovec helpers ---- */

static size_t iov_copy_out(const struct iovec *iov, unsigned cnt, void *buf, size_t len)
{
    size_t done = 0;

    for (unsigned i = 0; i < cnt && done < len; i++) {
        size_t n = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;
        memcpy((uint8_t *)buf + done, iov[i].iov_base, n);
        done += n;
    }
    return done;
}

static size_t iov_copy_in(const struct iovec *iov, unsigned cnt, const void *buf, size_t len)
{
    size_t done = 0;

    for (unsigned i = 0; i < cnt && done < len; i++) {
        size_t n = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;
        memcpy(iov[i].iov_base, (const uint8_t *)buf + done, n);
        done += n;
    }
    return done;
}

/*
 * The data part of iov: skip bytes dropped at the front, trim at the back.
 * Linux puts the header and the status byte in descriptors of their own,
 * so the fast path points into the element; other layouts get a copy.
 */
static bool data_iov(vreq *r, const struct iovec *iov, unsigned cnt, size_t skip, size_t trim,
                     const struct iovec **out, unsigned *outcnt)
{
    unsigned first = 0, last = cnt;

    if (cnt && skip == iov[0].iov_len && !trim) {
        *out = iov + 1, *outcnt = cnt - 1;
        return true;
    }
    if (cnt && !skip && trim == iov[cnt - 1].iov_len) {
        *out = iov, *outcnt = cnt - 1;
        return true;
    }
    r->copy = malloc(sizeof(struct iovec) * (cnt ? cnt : 1));
    if (!r->copy) {
        return false;
    }
    memcpy(r->copy, iov, sizeof(struct iovec) * cnt);
    for (; first < last && skip; first++) {
        size_t n = skip < r->copy[first].iov_len ? skip : r->copy[first].iov_len;
        r->copy[first].iov_base = (uint8_t *)r->copy[first].iov_base + n;
        r->copy[first].iov_len -= n;
        skip -= n;
        if (r->copy[first].iov_len) {
            break;
        }
    }
    for (; last > first && trim; last--) {
        size_t n = trim < r->copy[last - 1].iov_len ? trim : r->copy[last - 1].iov_len;
        r->copy[last - 1].iov_len -= n;
        trim -= n;
        if (r->copy[last - 1].iov_len) {
            break;
        }
    }
    *out = r->copy + first, *outcnt = last - first;
    return true;
}

/* ---- completion ---- */

static void req_complete(vreq *r, uint8_t status)
{
    tes_virtq *vq = r->vq;

    trace_virtio_blk_req_complete(r->b, r, status);
    *r->status = status;
    free(r->copy);
    virtio_ops.push(vq, r->e, r->written + 1); /* frees r (it lives in e) */
    virtio_ops.notify(vq);
}

static void req_done(void *opaque, int ret)
{
    vreq *r = opaque;

    if (ret < 0) {
        H->log(TES_LOG_TRACE, "virtio-blk: request failed: %s", strerror(-ret));
        r->written = 0;
    }
    req_complete(r, ret < 0 ? S_IOERR : S_OK);
}

static void submit(vreq *r, tes_blk_op op, uint64_t off, const struct iovec *iov, unsigned cnt,
                   uint64_t len, unsigned flags)
{
    int ret = H->drive_submit(r->b->drive, op, off, iov, cnt, len, flags, req_done, r);

    if (ret < 0) {
        r->written = 0;
        req_complete(r, S_IOERR);
    }
}

/* ---- requests ---- */

static bool range_ok(vblk *b, uint64_t sector, uint64_t bytes)
{
    return bytes % 512 == 0 && sector <= b->sectors && bytes / 512 <= b->sectors - sector;
}

static void req_rw(vreq *r, uint32_t type, uint64_t sector)
{
    tes_virtio_elem *e = r->e;
    const struct iovec *iov;
    unsigned cnt;
    bool write = type == T_OUT;
    uint64_t len = write ? e->out_len - HDR_SIZE : e->in_len - 1;

    if (!range_ok(r->b, sector, len) || (write && r->b->ro)) {
        H->log(TES_LOG_GUEST_ERROR, "virtio-blk: %s of %llu bytes at sector %llu refused "
               "(capacity %llu sectors%s)", write ? "write" : "read", (unsigned long long)len,
               (unsigned long long)sector, (unsigned long long)r->b->sectors,
               r->b->ro ? ", read-only" : "");
        req_complete(r, S_IOERR);
        return;
    }
    if (!(write ? data_iov(r, e->out, e->out_num, HDR_SIZE, 0, &iov, &cnt)
                : data_iov(r, e->in, e->in_num, 0, 1, &iov, &cnt))) {
        req_complete(r, S_IOERR);
        return;
    }
    r->written = write ? 0 : len;
    if (write) {
        trace_virtio_blk_handle_write(r->b, r, sector, len / 512);
    } else {
        trace_virtio_blk_handle_read(r->b, r, sector, len / 512);
    }
    submit(r, write ? TES_BLK_WRITE : TES_BLK_READ, sector * 512, iov, cnt, len, 0);
}

/* Discard and write-zeroes carry one segment (max_*_seg = 1). */
static void req_zero(vreq *r, uint32_t type)
{
    vblk *b = r->b;
    bool discard = type == T_DISCARD;
    uint8_t seg[SEG_SIZE], all[HDR_SIZE + SEG_SIZE];
    uint64_t sector;
    uint32_t num, flags;

    if (!(discard ? b->discard : b->write_zeroes) ||
        r->e->out_len != HDR_SIZE + SEG_SIZE) {
        req_complete(r, S_UNSUPP);
        return;
    }
    iov_copy_out(r->e->out, r->e->out_num, all, sizeof(all));
    memcpy(seg, all + HDR_SIZE, SEG_SIZE);
    memcpy(&sector, seg, 8), sector = le64toh(sector);
    memcpy(&num, seg + 8, 4), num = le32toh(num);
    memcpy(&flags, seg + 12, 4), flags = le32toh(flags);
    if (flags & ~(discard ? 0u : WZ_UNMAP)) {
        req_complete(r, S_UNSUPP);
        return;
    }
    if (b->ro || num > MAX_DZ_SECTORS || !range_ok(b, sector, (uint64_t)num * 512)) {
        H->log(TES_LOG_GUEST_ERROR, "virtio-blk: %s of %u sectors at %llu refused",
               discard ? "discard" : "write-zeroes", num, (unsigned long long)sector);
        req_complete(r, S_IOERR);
        return;
    }
    submit(r, discard ? TES_BLK_DISCARD : TES_BLK_WRITE_ZEROES, sector * 512, NULL, 0,
           (uint64_t)num * 512, flags & WZ_UNMAP ? TES_BLK_MAY_UNMAP : 0);
}

static void req_get_id(vreq *r)
{
    uint8_t id[ID_BYTES] = {0};
    const struct iovec *iov;
    unsigned cnt;

    if (r->b->serial) {
        size_t n = strlen(r->b->serial);
        memcpy(id, r->b->serial, n < ID_BYTES ? n : ID_BYTES); /* not terminated at 20 */
    }
    if (!data_iov(r, r->e->in, r->e->in_num, 0, 1, &iov, &cnt)) {
        req_complete(r, S_IOERR);
        return;
    }
    r->written = iov_copy_in(iov, cnt, id, ID_BYTES);
    req_complete(r, S_OK);
}

static void handle_req(vblk *b, tes_virtq *vq, tes_virtio_elem *e)
{
    vreq *r = e->priv;
    uint8_t hdr[HDR_SIZE];
    const struct iovec *last;
    uint32_t type;
    uint64_t sector;

    *r = (vreq){.b = b, .vq = vq, .e = e};
    if (e->out_len < HDR_SIZE || e->in_len < 1) {
        H->log(TES_LOG_GUEST_ERROR, "virtio-blk: request without header or status byte");
        virtio_ops.set_needs_reset(b->vdev);
        virtio_ops.push(vq, e, 0);
        return;
    }
    last = &e->in[e->in_num - 1];
    r->status = (uint8_t *)last->iov_base + last->iov_len - 1;
    iov_copy_out(e->out, e->out_num, hdr, HDR_SIZE);
    memcpy(&type, hdr, 4), type = le32toh(type);
    memcpy(&sector, hdr + 8, 8), sector = le64toh(sector);
    trace_virtio_blk_handle_req(b, r, type);
    switch (type) {
    case T_IN: case T_OUT: req_rw(r, type, sector); break;
    case T_FLUSH: submit(r, TES_BLK_FLUSH, 0, NULL, 0, 0, 0); break;
    case T_GET_ID: req_get_id(r); break;
    case T_DISCARD: case T_WRITE_ZEROES: req_zero(r, type); break;
    default: req_complete(r, S_UNSUPP);
    }
}

/* ---- the virtio device ---- */

static void blk_handle_queue(void *opaque, tes_virtq *vq, unsigned index)
{
    vblk *b = opaque;
    tes_virtio_elem *e;

    while ((e = virtio_ops.pop(vq, sizeof(vreq)))) {
        handle_req(b, vq, e);
    }
}

static void blk_config_read(void *opaque, uint32_t off, void *buf, uint32_t len)
{
    vblk *b = opaque;

    memcpy(buf, b->config + off, len);
}

static void blk_quiesce(void *opaque)
{
    vblk *b = opaque;

    H->drive_drain(b->drive);
}

static const tes_virtio_dev_ops blk_ops = {
    .size = sizeof(tes_virtio_dev_ops),
    .config_read = blk_config_read,
    .handle_queue = blk_handle_queue,
    .quiesce = blk_quiesce,
};

static void cfg32(uint8_t *c, unsigned off, uint32_t v)
{
    v = htole32(v);
    memcpy(c + off, &v, 4);
}

static void build_config(vblk *b)
{
    uint64_t cap = htole64(b->sectors);
    uint16_t nq = htole16(b->num_queues);

    memcpy(b->config + CFG_CAPACITY, &cap, 8);
    cfg32(b->config, CFG_SEG_MAX, b->seg_max);
    cfg32(b->config, CFG_BLK_SIZE, b->lbs);
    memcpy(b->config + CFG_NUM_QUEUES, &nq, 2);
    cfg32(b->config, CFG_MAX_DISCARD_SECTORS, MAX_DZ_SECTORS);
    cfg32(b->config, CFG_MAX_DISCARD_SEG, 1);
    cfg32(b->config, CFG_DISCARD_ALIGN, b->lbs / 512);
    cfg32(b->config, CFG_MAX_WZ_SECTORS, MAX_DZ_SECTORS);
    cfg32(b->config, CFG_MAX_WZ_SEG, 1);
    b->config[CFG_WZ_MAY_UNMAP] = 1;
}

static uint64_t blk_features(vblk *b)
{
    uint64_t f = 1ull << F_SEG_MAX | 1ull << F_BLK_SIZE | 1ull << F_FLUSH;

    f |= b->num_queues > 1 ? 1ull << F_MQ : 0;
    f |= b->discard ? 1ull << F_DISCARD : 0;
    f |= b->write_zeroes ? 1ull << F_WRITE_ZEROES : 0;
    f |= b->ro ? 1ull << F_RO : 0;
    return f;
}

static bool blk_check_props(tes_device *dev, vblk *b)
{
    if (!b->drive) {
        H->error(dev, "virtio-blk: property 'drive' is required");
        return false;
    }
    if (b->queue_size & (b->queue_size - 1)) {
        H->error(dev, "virtio-blk: property 'queue-size' wants a power of two 2..1024, got %u",
                 b->queue_size);
        return false;
    }
    if (b->lbs & (b->lbs - 1)) {
        H->error(dev, "virtio-blk: property 'logical_block_size' wants a power of two "
                 "512..4096, got %u", b->lbs);
        return false;
    }
    if (b->seg_max == 0 || b->seg_max > b->queue_size - 2) {
        b->seg_max = b->queue_size - 2; /* the header and status take two */
    }
    return true;
}

static int blk_realize(tes_device *dev, void *s)
{
    vblk *b = s;
    tes_virtio_dev_info info = {.size = sizeof(info), .device_id = VIRTIO_ID_BLOCK,
                                .config_size = CFG_SIZE, .ops = &blk_ops, .opaque = b};

    b->dev = dev;
    if (!blk_check_props(dev, b)) {
        return -EINVAL;
    }
    b->sectors = H->drive_size(b->drive) / 512;
    b->ro = H->drive_readonly(b->drive);
    build_config(b);
    info.num_queues = b->num_queues;
    info.queue_size = b->queue_size;
    info.features = blk_features(b);
    b->vdev = virtio_ops.plug(dev, &info);
    return b->vdev ? 0 : -EINVAL;
}

static void blk_unrealize(tes_device *dev, void *s)
{
    vblk *b = s;

    virtio_ops.unplug(b->vdev);
}

/* The transport migrates queues and features; config comes from props. */
static const tes_state_info blk_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
};

#define BLK_PROPS(st, drive_kind)                                                             \
    TES_PROP("drive", drive_kind, st, drive, NULL, 0, 0, "block backend (-drive id=)"),       \
    TES_PROP("num-queues", TES_PROP_U32, st, num_queues, "1", 1, 64, "request queues"),       \
    TES_PROP("queue-size", TES_PROP_U32, st, queue_size, "256", 2, 1024,                      \
             "virtqueue size (power of two)"),                                                \
    TES_PROP("seg-max", TES_PROP_U32, st, seg_max, "0", 0, 1022,                              \
             "data segments per request (0: queue-size - 2)"),                                \
    TES_PROP("discard", TES_PROP_BOOL, st, discard, "on", 0, 0, "offer discard"),             \
    TES_PROP("write-zeroes", TES_PROP_BOOL, st, write_zeroes, "on", 0, 0,                     \
             "offer write-zeroes"),                                                           \
    TES_PROP("serial", TES_PROP_STRING, st, serial, NULL, 0, 0, "serial (GET_ID)"),           \
    TES_PROP("logical_block_size", TES_PROP_U32, st, lbs, "512", 512, 4096,                   \
             "logical block size in bytes"),                                                  \
    TES_PROP_END

static const tes_prop_info blk_props[] = {BLK_PROPS(vblk, TES_PROP_DRIVE)};

const tes_type_info virtio_blk_device_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "virtio-blk-device",
    .desc = "virtio block device",
    .bus = TES_VIRTIO_BUS,
    .instance_size = sizeof(vblk),
    .props = blk_props,
    .realize = blk_realize,
    .unrealize = blk_unrealize,
    .state = &blk_state,
};

/* ---- virtio-blk-pci: virtio-pci carrying a virtio-blk-device ---- */

typedef struct vblk_pci {
    vpci_proxy px; /* first: the shared proxy callbacks cast to it */
    char *drive;
    uint32_t num_queues, queue_size, seg_max, lbs;
    bool discard, write_zeroes;
    char *serial;
} vblk_pci;

static const tes_prop_info blk_pci_props[] = {BLK_PROPS(vblk_pci, TES_PROP_STRING)};

static void add_opt(char *buf, size_t size, const char *name, const char *val)
{
    size_t n = strlen(buf);

    n += snprintf(buf + n, n < size ? size - n : 0, "%s%s=", n ? "," : "", name);
    for (; *val && n + 2 < size; val++) {
        buf[n++] = *val;
        if (*val == ',') {
            buf[n++] = ','; /* ",," escapes a comma */
        }
    }
    buf[n < size ? n : size - 1] = 0;
}

static int blk_pci_realize(tes_device *dev, void *s)
{
    vblk_pci *p = s;
    char props[512] = "", num[16];

    if (p->drive) {
        add_opt(props, sizeof(props), "drive", p->drive);
    }
    const struct { const char *name; uint32_t v; } nums[] = {
        {"num-queues", p->num_queues}, {"queue-size", p->queue_size},
        {"seg-max", p->seg_max}, {"logical_block_size", p->lbs},
        {"discard", p->discard}, {"write-zeroes", p->write_zeroes},
    };
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        snprintf(num, sizeof(num), "%u", nums[i].v);
        add_opt(props, sizeof(props), nums[i].name, num);
    }
    if (p->serial) {
        add_opt(props, sizeof(props), "serial", p->serial);
    }
    p->px.proxy = vpci_new(dev, virtio_blk_device_type.name, props);
    return p->px.proxy ? 0 : -EINVAL;
}

static const tes_pci_info blk_pci_info = {
    .size = sizeof(tes_pci_info),
    .vendor_id = 0x1af4,
    .device_id = 0x1040 + VIRTIO_ID_BLOCK,
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = VIRTIO_ID_BLOCK,
    .revision = 1,
    .class_id = 0x0100, /* mass storage, SCSI: what QEMU reports */
    .irq_pin = 1,
};

const tes_type_info virtio_blk_pci_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "virtio-blk-pci",
    .desc = "virtio block device over PCI",
    .bus = TES_BUS_PCI,
    .instance_size = sizeof(vblk_pci),
    .props = blk_pci_props,
    .realize = blk_pci_realize,
    .unrealize = vpci_proxy_unrealize,
    .reset = vpci_proxy_reset,
    .state = &vpci_proxy_state,
    .class_info = &blk_pci_info,
};
