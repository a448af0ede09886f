/*
 * virtio: the transport-independent core of the virtio plugin (virtio 1.2,
 * sections 2 and 3): split virtqueues, feature negotiation, device status,
 * and the "virtio" interface other plugins' devices use.
 *
 * User manual
 *
 *   -device virtio-blk-pci,drive=ID[,num-queues=N][,queue-size=N]...
 *   -device virtio-rng-pci
 *   -device virtio-blk-device,drive=ID,bus=virtio-mmio-bus.N
 *
 * Only split rings; VERSION_1 is always offered (no legacy interface),
 * with INDIRECT_DESC and EVENT_IDX. A malformed descriptor chain (a loop,
 * a buffer outside RAM, a device-readable buffer after a device-writable
 * one, a bad indirect table) is logged under -d guest_errors and marks the
 * device DEVICE_NEEDS_RESET with a config interrupt; it never stops the
 * emulator.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "virtio-int.h"
#include "virtio-trace.h"

#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define MAX_IOV 1024           /* mapped pieces of one chain */
#define MAX_INDIRECT 1024      /* descriptors in one indirect table */
#define STATE_MAGIC 0x76697274 /* "virt": guards the core's save format */

const tes_host *H;
TES_TRACE_DEFINE(VIRTIO_TRACE)

static bool has_feature(tes_virtio *v, unsigned bit)
{
    return v->guest_features & (1ull << bit);
}

void vcore_guest_error(tes_virtio *v, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    H->log(TES_LOG_GUEST_ERROR, "%s: %s", v->dev ? H->dev_id(v->dev) : H->dev_id(v->tdev), msg);
}

/* ---- device status ---- */

static void set_needs_reset(tes_virtio *v)
{
    v->broken = true;
    v->status |= TES_VIRTIO_S_NEEDS_RESET;
    /* 1.2 section 2.1.2: after DRIVER_OK, NEEDS_RESET comes with a config
     * change notification. */
    if (v->status & TES_VIRTIO_S_DRIVER_OK) {
        v->isr |= VIRTIO_ISR_CONFIG;
        v->tops->notify_config(v->topaque);
    }
}

static void queue_reset(tes_virtq *q)
{
    tes_virtio *v = q->v;
    unsigned idx = q->index;

    memset(q, 0, sizeof(*q));
    q->v = v;
    q->index = idx;
    q->num = idx < v->info.num_queues ? v->info.queue_size : 0;
    q->vector = VIRTIO_NO_VECTOR;
}

void vcore_init(tes_virtio *v, tes_device *tdev, const vtransport_ops *tops, void *topaque)
{
    memset(v, 0, sizeof(*v));
    v->tdev = tdev;
    v->tops = tops;
    v->topaque = topaque;
    /* No device offers VIRTIO_F_ACCESS_PLATFORM (QEMU's iommu_platform=off,
     * its default), so drivers hand us guest-physical addresses: an IOMMU
     * (intel-iommu) must not translate them. A 1.4 core has no IOMMU. */
    if (H->size >= offsetof(tes_host, dma_set_bypass) + sizeof(void *)) {
        H->dma_set_bypass(tdev, true);
    }
    v->has_dgen = H->size >= offsetof(tes_host, dma_generation) + sizeof(void *);
    v->has_defer = H->size >= offsetof(tes_host, defer_call) + sizeof(void *);
    for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
        v->vq[i].v = v;
        v->vq[i].index = i;
        queue_reset(&v->vq[i]);
    }
}

void vcore_quiesce(tes_virtio *v)
{
    if (v->dev && v->info.ops->quiesce) {
        v->info.ops->quiesce(v->info.opaque);
    }
}

/* 1.2 section 2.4: reset drains requests first, then returns everything to
 * its initial state. */
void vcore_reset(tes_virtio *v)
{
    vcore_quiesce(v);
    if (v->dev && v->info.ops->reset) {
        v->info.ops->reset(v->info.opaque);
    }
    for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
        queue_reset(&v->vq[i]);
    }
    v->status = 0;
    v->guest_features = 0;
    v->isr = 0;
    v->broken = false;
}

/* 1.2 section 3.1.1: FEATURES_OK sticks only when the driver accepted a
 * subset of what was offered, VERSION_1 included. */
static bool features_ok(tes_virtio *v)
{
    if (v->guest_features & ~v->host_features) {
        vcore_guest_error(v, "driver accepted features 0x%llx not offered (0x%llx)",
                          (unsigned long long)v->guest_features,
                          (unsigned long long)v->host_features);
        return false;
    }
    if (!has_feature(v, TES_VIRTIO_F_VERSION_1)) {
        vcore_guest_error(v, "driver did not accept VIRTIO_F_VERSION_1 (legacy unsupported)");
        return false;
    }
    return true;
}

void vcore_set_status(tes_virtio *v, uint8_t val)
{
    if (val == 0) {
        vcore_reset(v);
        return;
    }
    if ((val & TES_VIRTIO_S_FEATURES_OK) && !(v->status & TES_VIRTIO_S_FEATURES_OK) &&
        !features_ok(v)) {
        val &= ~TES_VIRTIO_S_FEATURES_OK;
    }
    v->status = (val & ~TES_VIRTIO_S_NEEDS_RESET) | (v->status & TES_VIRTIO_S_NEEDS_RESET);
    if (v->dev && v->info.ops->set_status) {
        v->info.ops->set_status(v->info.opaque, v->status);
    }
}

uint32_t vcore_device_features(tes_virtio *v, unsigned sel)
{
    return sel < 2 ? (uint32_t)(v->host_features >> (32 * sel)) : 0;
}

void vcore_set_driver_features(tes_virtio *v, unsigned sel, uint32_t val)
{
    if (sel >= 2) {
        return;
    }
    if (v->status & TES_VIRTIO_S_FEATURES_OK) {
        vcore_guest_error(v, "driver features written after FEATURES_OK; ignored");
        return;
    }
    v->guest_features &= ~(0xffffffffull << (32 * sel));
    v->guest_features |= (uint64_t)val << (32 * sel);
}

/* ---- config space ---- */

uint32_t vcore_config_read(tes_virtio *v, uint32_t off, unsigned size)
{
    uint8_t buf[4] = {0};

    if (!v->dev || size > 4 || off + size > v->info.config_size) {
        return 0;
    }
    v->info.ops->config_read(v->info.opaque, off, buf, size);
    return buf[0] | buf[1] << 8 | buf[2] << 16 | (uint32_t)buf[3] << 24;
}

void vcore_config_write(tes_virtio *v, uint32_t off, uint32_t val, unsigned size)
{
    uint8_t buf[4] = {val, val >> 8, val >> 16, val >> 24};

    if (!v->dev || size > 4 || off + size > v->info.config_size) {
        vcore_guest_error(v, "config write of %u bytes at 0x%x outside config space", size, off);
        return;
    }
    if (v->info.ops->config_write) {
        v->info.ops->config_write(v->info.opaque, off, buf, size);
    }
}

static void config_changed(tes_virtio *v)
{
    v->config_gen++;
    if (v->status & TES_VIRTIO_S_DRIVER_OK) {
        v->isr |= VIRTIO_ISR_CONFIG;
        v->tops->notify_config(v->topaque);
    }
}

/* ---- queues: set-up ---- */

unsigned vcore_num_queues(tes_virtio *v)
{
    return v->dev ? v->info.num_queues : 0;
}

uint16_t vcore_queue_max(tes_virtio *v, unsigned q)
{
    return q < vcore_num_queues(v) ? v->info.queue_size : 0;
}

void vcore_queue_set_num(tes_virtio *v, unsigned q, uint16_t num)
{
    if (q >= vcore_num_queues(v) || v->vq[q].ready) {
        vcore_guest_error(v, "queue size of queue %u written while absent or enabled", q);
        return;
    }
    if (num > v->info.queue_size) {
        /* 1.2 section 4.1.4.3.2: the driver must not. Ignored, as QEMU
         * does: a stored oversize value would make the state one that no
         * destination loads. */
        vcore_guest_error(v, "queue %u size %u written, max %u: ignored", q, num,
                          v->info.queue_size);
        return;
    }
    v->vq[q].num = num;
}

bool vcore_queue_enable(tes_virtio *v, unsigned q)
{
    tes_virtq *vq = &v->vq[q];

    if (q >= vcore_num_queues(v)) {
        vcore_guest_error(v, "enable of absent queue %u", q);
        return false;
    }
    if (vq->num == 0 || vq->num > v->info.queue_size) {
        vcore_guest_error(v, "queue %u enabled with size %u (max %u)", q, vq->num,
                          v->info.queue_size);
        return false;
    }
    vq->ready = true;
    vq->mapped = false;
    return true;
}

/* Map the three rings for direct access; redone when the memory map
 * changed. Each ring must be contiguous RAM (1.2 section 2.7). */
static bool map_ring(tes_virtq *q, uint64_t addr, uint64_t len, bool write, uint8_t **out)
{
    uint64_t n = len;

    *out = H->dma_map(q->v->tdev, addr, &n, write);
    if (!*out || n < len) {
        vcore_guest_error(q->v, "queue %u: ring at 0x%llx+0x%llx is not in RAM", q->index,
                          (unsigned long long)addr, (unsigned long long)len);
        return false;
    }
    return true;
}

/*
 * What kept ring and buffer pointers are valid for: dma_generation moves
 * with the memory map and with bus mastering, resets, loads and IOMMU
 * changes, and is 0 (map every time) while an IOMMU translates the
 * transport. A 1.7 core has only the memory generation (no buffer windows
 * then: vwin_map checks has_dgen).
 */
static uint64_t vq_gen(tes_virtio *v)
{
    return v->has_dgen ? H->dma_generation(v->tdev) : H->memory_generation();
}

static bool vq_remap(tes_virtq *q, uint64_t gen);

/* Inline: four calls a request, nearly all of them this test. */
static inline bool vq_map(tes_virtq *q)
{
    uint64_t gen = vq_gen(q->v);

    if (__builtin_expect(q->mapped && gen && q->gen == gen, 1)) {
        return true;
    }
    return vq_remap(q, gen);
}

static __attribute__((noinline)) bool vq_remap(tes_virtq *q, uint64_t gen)
{
    if (!map_ring(q, q->desc, 16ull * q->num, false, &q->desc_p) ||
        !map_ring(q, q->avail, 6 + 2ull * q->num, false, &q->avail_p) ||
        !map_ring(q, q->used, 6 + 8ull * q->num, true, &q->used_p)) {
        set_needs_reset(q->v);
        return false;
    }
    q->gen = gen;
    q->mapped = true;
    return true;
}

void vcore_queue_notify(tes_virtio *v, unsigned q)
{
    if (q >= vcore_num_queues(v)) {
        vcore_guest_error(v, "notify of absent queue %u", q);
        return;
    }
    if (!v->vq[q].ready || v->broken) {
        return;
    }
    v->info.ops->handle_queue(v->info.opaque, &v->vq[q], q);
}

/* ---- ring accessors (guest memory is little-endian) ---- */

static inline uint16_t ld16(const uint8_t *p)
{
    uint16_t v;

    memcpy(&v, p, 2);
    return le16toh(v);
}

static inline void st16(uint8_t *p, uint16_t v)
{
    v = htole16(v);
    memcpy(p, &v, 2);
}

static inline void st32(uint8_t *p, uint32_t v)
{
    v = htole32(v);
    memcpy(p, &v, 4);
}

typedef struct vdesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
} vdesc;

static void ld_desc(const uint8_t *table, unsigned i, vdesc *d)
{
    const uint8_t *p = table + 16 * i;
    uint64_t a;
    uint32_t l;

    memcpy(&a, p, 8);
    memcpy(&l, p + 8, 4);
    d->addr = le64toh(a);
    d->len = le32toh(l);
    d->flags = ld16(p + 12);
    d->next = ld16(p + 14);
}

/* ---- popping a chain (1.2 section 2.7.5) ---- */

typedef struct walk {
    tes_virtq *q;
    unsigned n, nout; /* pieces, of which device-readable */
    uint64_t out_len, in_len;
    struct iovec iov[MAX_IOV];
} walk;

static void walk_unmap(walk *w)
{
    for (unsigned i = 0; i < w->n; i++) {
        H->dma_unmap(w->q->v->tdev, w->iov[i].iov_base, w->iov[i].iov_len, i >= w->nout);
    }
}

/* Map a window from base to the end of its RAM region into w. */
static bool vwin_fill(tes_virtio *v, struct vwin *w, uint64_t gen, uint64_t base, bool write)
{
    uint64_t n = UINT64_MAX - base;
    uint8_t *p = H->dma_map(v->tdev, base, &n, write);

    if (!p || !n) {
        return false;
    }
    *w = (struct vwin){.gen = gen, .start = base, .end = base + n, .host = p, .write = write};
    return true;
}

/*
 * dma_map through the windows: the same pointer and contiguous length
 * (never past the region) as dma_map would give, for the queue's
 * generation. A miss maps from the 2 MiB boundary below addr when that is
 * RAM of the same region, so later buffers below addr hit too.
 */
static void *vwin_map(tes_virtq *q, uint64_t addr, uint64_t *len, bool write)
{
    tes_virtio *v = q->v;
    uint64_t base = addr & ~((1ull << 21) - 1);
    struct vwin *w;

    if (!v->has_dgen || !q->gen) {
        return H->dma_map(v->tdev, addr, len, write);
    }
    for (unsigned i = 0; i < 2; i++) {
        w = &v->win[i];
        if (w->gen == q->gen && addr >= w->start && addr < w->end && (w->write || !write)) {
            *len = *len < w->end - addr ? *len : w->end - addr;
            return w->host + (addr - w->start);
        }
    }
    w = &v->win[v->win[0].gen == q->gen && v->win[1].gen != q->gen]; /* replace the older */
    /* Writable when RAM allows, even for a read: a request's header and
     * its response, and the data after them, then share one window (the
     * fast walk tests one window a descriptor, not two). While a migration
     * logs, a writable mapping is one page, marked dirty: a read then
     * takes the read-only fill below. */
    if (!(vwin_fill(v, w, q->gen, base, true) && w->end > addr) &&
        !(!write && vwin_fill(v, w, q->gen, base, false) && w->end > addr) &&
        !vwin_fill(v, w, q->gen, addr, write)) {
        w->gen = 0;
        return H->dma_map(v->tdev, addr, len, write); /* not RAM: its own answer */
    }
    *len = *len < w->end - addr ? *len : w->end - addr;
    return w->host + (addr - w->start);
}

/* One buffer: mapped piece by piece as RAM is contiguous. */
static bool walk_buf(walk *w, const vdesc *d)
{
    bool write = d->flags & VRING_DESC_F_WRITE;
    uint64_t addr = d->addr, left = d->len;

    if (!write && w->n > w->nout) {
        vcore_guest_error(w->q->v, "queue %u: device-readable buffer after a device-writable "
                          "one", w->q->index);
        return false;
    }
    while (left) {
        uint64_t n = left;
        void *p = vwin_map(w->q, addr, &n, write);
        if (!p || !n) {
            vcore_guest_error(w->q->v, "queue %u: buffer 0x%llx+0x%x is not in RAM",
                              w->q->index, (unsigned long long)d->addr, d->len);
            return false;
        }
        if (w->n == MAX_IOV) {
            vcore_guest_error(w->q->v, "queue %u: chain has more than %u pieces", w->q->index,
                              MAX_IOV);
            H->dma_unmap(w->q->v->tdev, p, n, write);
            return false;
        }
        w->iov[w->n++] = (struct iovec){p, n};
        w->nout += !write;
        *(write ? &w->in_len : &w->out_len) += n;
        addr += n;
        left -= n;
    }
    return true;
}

static bool walk_table(walk *w, const uint8_t *table, unsigned max, unsigned i, bool direct);

/* 1.2 section 2.7.5.3: an indirect table is a multiple of 16 bytes, is not
 * nested and, per our reading of Linux, is the whole chain. */
static bool walk_indirect(walk *w, const vdesc *d, unsigned count)
{
    tes_virtio *v = w->q->v;
    uint64_t n = d->len;
    const uint8_t *table;
    bool ok;

    if (!has_feature(v, TES_VIRTIO_F_INDIRECT_DESC) || count != 1 ||
        (d->flags & VRING_DESC_F_NEXT)) {
        vcore_guest_error(v, "queue %u: indirect descriptor not negotiated or not alone",
                          w->q->index);
        return false;
    }
    if (d->len == 0 || d->len % 16 || d->len / 16 > MAX_INDIRECT) {
        vcore_guest_error(v, "queue %u: indirect table of %u bytes (multiple of 16, at most "
                          "%u entries)", w->q->index, d->len, MAX_INDIRECT);
        return false;
    }
    table = H->dma_map(v->tdev, d->addr, &n, false);
    if (!table || n < d->len) {
        vcore_guest_error(v, "queue %u: indirect table at 0x%llx is not in RAM", w->q->index,
                          (unsigned long long)d->addr);
        return false;
    }
    ok = walk_table(w, table, d->len / 16, 0, false);
    H->dma_unmap(v->tdev, (void *)table, d->len, false);
    return ok;
}

static bool walk_table(walk *w, const uint8_t *table, unsigned max, unsigned i, bool direct)
{
    unsigned count = 0;
    vdesc d;

    for (;;) {
        if (i >= max) {
            vcore_guest_error(w->q->v, "queue %u: descriptor index %u out of %u", w->q->index,
                              i, max);
            return false;
        }
        if (++count > max) {
            vcore_guest_error(w->q->v, "queue %u: chain longer than %u descriptors (a loop?)",
                              w->q->index, max);
            return false;
        }
        ld_desc(table, i, &d);
        if (d.flags & VRING_DESC_F_INDIRECT) {
            if (!direct) {
                vcore_guest_error(w->q->v, "queue %u: nested indirect table", w->q->index);
                return false;
            }
            return walk_indirect(w, &d, count);
        }
        if (!walk_buf(w, &d)) {
            return false;
        }
        if (!(d.flags & VRING_DESC_F_NEXT)) {
            return true;
        }
        i = d.next;
    }
}

/*
 * Elements up to ELEM_BLOCK bytes (a few pieces and a device's request
 * record) are recycled through a small free list: with 32 requests in
 * flight glibc's per-thread cache (7 chunks a size) runs dry and each
 * malloc/free pair took its slow bins (callgrind: ~600 instructions a
 * request); GCC also turns malloc + memset into calloc, which skips that
 * cache altogether. A header before the element tells its block size.
 * Pops and pushes run under the machine lock.
 */
#define ELEM_BLOCK 512
#define ELEM_SPARE 256

typedef union elem_hdr {
    struct {
        size_t block; /* ELEM_BLOCK, or 0: sized to fit, freed when pushed */
        /* Every piece came from a window kept for the queue's generation
         * (walk_fast): its readable pieces need no dma_unmap (ABI 1.8: only
         * writes through a kept pointer are followed by one). */
        bool kept;
    };
    max_align_t align;
} elem_hdr;

static elem_hdr *elem_spare[ELEM_SPARE];
static unsigned n_elem_spare;

static tes_virtio_elem *elem_alloc(size_t bytes)
{
    bool small = bytes <= ELEM_BLOCK - sizeof(elem_hdr);
    elem_hdr *h;

    if (small && n_elem_spare) {
        h = elem_spare[--n_elem_spare];
    } else {
        h = malloc(small ? ELEM_BLOCK : sizeof(elem_hdr) + bytes);
        if (!h) {
            return NULL;
        }
        h->block = small ? ELEM_BLOCK : 0;
    }
    return (tes_virtio_elem *)(h + 1);
}

static void elem_free(tes_virtio_elem *e)
{
    elem_hdr *h = (elem_hdr *)e - 1;

    if (h->block == ELEM_BLOCK && n_elem_spare < ELEM_SPARE) {
        elem_spare[n_elem_spare++] = h;
    } else {
        free(h);
    }
}

/* An element's layout: the element, the device's priv (zeroed), then
 * the pieces (readable first). */
#define ELEM_PRIV_OFF ((sizeof(tes_virtio_elem) + 15) & ~(size_t)15)

static size_t elem_iov_off(size_t priv_size)
{
    return ELEM_PRIV_OFF + ((priv_size + 15) & ~(size_t)15);
}

/* The fields every element gets; the pieces are at elem_iov_off. */
static void elem_init(tes_virtio_elem *e, tes_virtq *q, uint16_t head, size_t priv_size,
                      unsigned nout, unsigned n, uint64_t out_len, uint64_t in_len, bool kept)
{
    ((elem_hdr *)e - 1)->kept = kept;
    e->size = sizeof(*e);
    e->head = head;
    e->queue = q->index;
    e->out_num = nout;
    e->in_num = n - nout;
    e->out = (struct iovec *)((char *)e + elem_iov_off(priv_size));
    e->in = e->out + nout;
    e->out_len = out_len;
    e->in_len = in_len;
    e->priv = priv_size ? (char *)e + ELEM_PRIV_OFF : NULL;
    if (priv_size) {
        memset(e->priv, 0, priv_size);
    }
}

static tes_virtio_elem *elem_new(walk *w, uint16_t head, size_t priv_size)
{
    tes_virtio_elem *e = elem_alloc(elem_iov_off(priv_size) + sizeof(struct iovec) * w->n);

    if (!e) {
        return NULL;
    }
    memset(e, 0, sizeof(*e));
    elem_init(e, w->q, head, priv_size, w->nout, w->n, w->out_len, w->in_len, false);
    memcpy(e->out, w->iov, sizeof(struct iovec) * w->n);
    return e;
}

/* Ring slot of free-running index idx: a mask for the power-of-two sizes
 * split rings have (1.2 section 2.7), a division (~20 cycles, two a
 * request) only for a size a driver should not have written. */
static inline unsigned ring_slot(const tes_virtq *q, uint16_t idx)
{
    return q->num & (q->num - 1) ? idx % q->num : idx & (q->num - 1);
}

/* Next head from the avail ring; false when empty or broken. */
static bool next_head(tes_virtq *q, uint16_t *head)
{
    uint16_t avail_idx = ld16(q->avail_p + 2);

    if (avail_idx == q->last_avail) {
        return false;
    }
    if ((uint16_t)(avail_idx - q->last_avail) > q->num) {
        vcore_guest_error(q->v, "queue %u: avail idx %u moved %u past %u (size %u)", q->index,
                          avail_idx, (uint16_t)(avail_idx - q->last_avail), q->last_avail,
                          q->num);
        set_needs_reset(q->v);
        return false;
    }
    /* Read the ring entry only after seeing the index (1.2 section 2.7.13). */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    *head = ld16(q->avail_p + 4 + 2 * ring_slot(q, q->last_avail));
    q->last_avail++;
    if (has_feature(q->v, TES_VIRTIO_F_EVENT_IDX)) {
        st16(q->used_p + 4 + 8 * q->num, q->last_avail); /* avail_event */
    }
    return true;
}

/* A window as walk_fast tests it: empty unless kept for the walk's
 * generation, so each descriptor costs two compares a window. */
typedef struct fwin {
    uint64_t start, size; /* size 0: empty */
    uint8_t *host;
    bool write;
} fwin;

static inline fwin fwin_of(const struct vwin *x, uint64_t gen)
{
    return x->gen == gen ? (fwin){x->start, x->end - x->start, x->host, x->write}
                         : (fwin){0, 0, NULL, false};
}

/* Whether f holds all of d (and may be written when d is writable). */
static inline bool fwin_holds(const fwin *f, const vdesc *d, bool write)
{
    uint64_t off = d->addr - f->start;

    return off < f->size && d->len <= f->size - off && (f->write || !write);
}

/*
 * The chain nearly every request is: direct descriptors, or one indirect
 * table of them (what Linux's virtio_ring sends for a request of more than
 * one buffer once VIRTIO_F_INDIRECT_DESC is negotiated), each one buffer
 * inside a window vwin_map kept, the table too. Walked straight into a new
 * element's pieces (up to cap of them): the element, or NULL when the chain is
 * anything else (the general walk, which also tells the guest's errors,
 * starts over). Writing the pieces where they stay matters more than the
 * instructions it saves: copying them from a scratch walk read back, in
 * wide loads, what narrow stores had just written, which the CPU cannot
 * forward (perf: a sixth of vq_pop's time on one load). (callgrind, with
 * vq_map's test inline: 189 fewer instructions a three-descriptor
 * virtio-scsi command; the windows taken once a walk, 30 fewer again.)
 */
static tes_virtio_elem *walk_fast(tes_virtq *q, uint16_t head, size_t priv_size)
{
    tes_virtio *v = q->v;
    uint64_t gen = q->gen, out_len = 0, in_len = 0;
    size_t iov_off = elem_iov_off(priv_size);
    unsigned n = 0, nout = 0, cap, max = q->num, i = head;
    const uint8_t *table = q->desc_p;
    tes_virtio_elem *e;
    struct iovec *iov;
    fwin f0, f1;

    if (!v->has_dgen || !gen || iov_off + sizeof(struct iovec) > ELEM_BLOCK - sizeof(elem_hdr)) {
        return NULL;
    }
    cap = (ELEM_BLOCK - sizeof(elem_hdr) - iov_off) / sizeof(struct iovec);
    if (!(e = elem_alloc(ELEM_BLOCK - sizeof(elem_hdr)))) {
        return NULL;
    }
    iov = (struct iovec *)((char *)e + iov_off);
    f0 = fwin_of(&v->win[0], gen);
    f1 = fwin_of(&v->win[1], gen);
    if (i < max && (ld16(table + 16 * i + 12) & VRING_DESC_F_INDIRECT)) {
        /* The whole chain is the table, by walk_indirect's rules; anything
         * else (a nested table included: the loop stops at it) goes to the
         * general walk. Tested before the loop, which stays as tight as
         * for direct chains. */
        const fwin *f = &f0;
        vdesc d;

        ld_desc(table, i, &d);
        if ((d.flags & (VRING_DESC_F_NEXT | VRING_DESC_F_WRITE)) || !d.len || d.len % 16 ||
            d.len / 16 > MAX_INDIRECT || !has_feature(v, TES_VIRTIO_F_INDIRECT_DESC) ||
            !(fwin_holds(f, &d, false) || fwin_holds(f = &f1, &d, false))) {
            elem_free(e);
            return NULL;
        }
        table = f->host + (d.addr - f->start);
        max = d.len / 16;
        i = 0;
    }
    for (unsigned count = 0; count < max && i < max && n < cap; count++) {
        const fwin *f = &f0;
        bool write;
        vdesc d;

        ld_desc(table, i, &d);
        write = d.flags & VRING_DESC_F_WRITE;
        if ((d.flags & VRING_DESC_F_INDIRECT) || !d.len || (!write && n > nout)) {
            break;
        }
        if (!fwin_holds(f, &d, write) && !fwin_holds(f = &f1, &d, write)) {
            break;
        }
        iov[n++] = (struct iovec){f->host + (d.addr - f->start), d.len};
        if (write) {
            in_len += d.len;
        } else {
            nout++;
            out_len += d.len;
        }
        if (!(d.flags & VRING_DESC_F_NEXT)) {
            elem_init(e, q, head, priv_size, nout, n, out_len, in_len, true);
            return e;
        }
        i = d.next;
    }
    elem_free(e);
    return NULL;
}

static tes_virtio_elem *vq_pop(tes_virtq *q, size_t priv_size)
{
    /* 16 KiB: kept off the stack. Not thread-local (a plugin's costs a
     * __tls_get_addr call): pops run under the machine lock, as the
     * element free list below, and nothing pops while a walk is on. */
    static walk the_walk;
    walk *w = &the_walk;
    tes_virtio_elem *e;
    uint16_t head;

    if (!q->ready || q->v->broken || !vq_map(q) || !next_head(q, &head)) {
        return NULL;
    }
    e = walk_fast(q, head, priv_size);
    if (!e) {
        memset(w, 0, offsetof(walk, iov));
        w->q = q;
        if (!walk_table(w, q->desc_p, q->num, head, true)) {
            walk_unmap(w);
            set_needs_reset(q->v);
            return NULL;
        }
        e = elem_new(w, head, priv_size);
        if (!e) {
            walk_unmap(w);
            return NULL;
        }
    }
    q->inflight++;
    return e;
}

static void elem_unmap(tes_virtio *v, tes_virtio_elem *e);

/* For this plugin's devices (virtio-int.h). */
bool vq_has_avail(tes_virtq *q)
{
    if (!q->ready || q->v->broken || !vq_map(q)) {
        return false;
    }
    return ld16(q->avail_p + 2) != q->last_avail;
}

void vq_rewind(tes_virtq *q, tes_virtio_elem *e)
{
    elem_unmap(q->v, e);
    elem_free(e);
    q->inflight--;
    q->last_avail--;
    if (has_feature(q->v, TES_VIRTIO_F_EVENT_IDX) && q->ready && vq_map(q)) {
        st16(q->used_p + 4 + 8 * q->num, q->last_avail);
    }
}

static void elem_unmap(tes_virtio *v, tes_virtio_elem *e)
{
    for (unsigned i = 0; i < e->out_num && !((elem_hdr *)e - 1)->kept; i++) {
        H->dma_unmap(v->tdev, e->out[i].iov_base, e->out[i].iov_len, false);
    }
    for (unsigned i = 0; i < e->in_num; i++) {
        H->dma_unmap(v->tdev, e->in[i].iov_base, e->in[i].iov_len, true);
    }
}

/* 1.2 section 2.7.8: the used entry is written before the index. */
static void vq_push(tes_virtq *q, tes_virtio_elem *e, uint32_t written)
{
    uint16_t head = e->head;
    uint8_t *ent;

    elem_unmap(q->v, e);
    q->inflight--;
    elem_free(e);
    if (!q->ready || !vq_map(q)) {
        return;
    }
    ent = q->used_p + 4 + 8 * ring_slot(q, q->used_idx);
    st32(ent, head);
    st32(ent + 4, written);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    q->used_idx++;
    st16(q->used_p + 2, q->used_idx);
    /* Dirty for migration: the index and the entry in one call (the bytes
     * between are the ring's own, marking them costs nothing). */
    H->dma_unmap(q->v->tdev, q->used_p, ent + 8 - q->used_p, true);
}

/* 1.2 section 2.7.10: with EVENT_IDX interrupt only when used_event was
 * crossed since the last interrupt; else unless NO_INTERRUPT. */
static bool want_interrupt(tes_virtq *q)
{
    uint16_t old = q->signalled_used, now = q->used_idx, event;
    bool valid = q->signalled_valid;

    /* The used index store must be visible before reading the driver's
     * suppression fields (the driver does the mirror image). */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!has_feature(q->v, TES_VIRTIO_F_EVENT_IDX)) {
        return !(ld16(q->avail_p) & VRING_AVAIL_F_NO_INTERRUPT);
    }
    q->signalled_used = now;
    q->signalled_valid = true;
    event = ld16(q->avail_p + 4 + 2 * q->num);
    return !valid || (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}

static void vq_notify_now(void *opaque)
{
    tes_virtq *q = opaque;

    q->notify_deferred = false;
    if (!q->ready || !vq_map(q) || !want_interrupt(q)) {
        return;
    }
    q->v->isr |= VIRTIO_ISR_QUEUE;
    q->v->tops->notify_queue(q->v->topaque, q);
}

/* At the end of the batch the push ran in (1.11): one barrier and event
 * index test for all of a batch's completions on q, not one each (the
 * barrier was 84% of vq_notify's time, perf annotate). */
static void vq_notify(tes_virtq *q)
{
    if (q->v->has_defer) {
        /* Queued already for this batch: the core would find it in its
         * queue, ~40 instructions a completion (callgrind). The flag is
         * set first: outside a batch the call runs at once and clears it. */
        if (!q->notify_deferred) {
            q->notify_deferred = true;
            H->defer_call(q->v->tdev, vq_notify_now, q);
        }
    } else {
        vq_notify_now(q);
    }
}

/* ---- migration of the core (inside the transport's section) ---- */

void put_u64(tes_stream *s, uint64_t v)
{
    v = htole64(v);
    H->stream_write(s, &v, sizeof(v));
}

int get_u64(tes_stream *s, uint64_t *v)
{
    int ret = H->stream_read(s, v, sizeof(*v));

    *v = le64toh(*v);
    return ret;
}

static void save_queue(tes_virtq *q, tes_stream *out)
{
    put_u64(out, q->num | (uint64_t)q->ready << 16 | (uint64_t)q->vector << 32);
    put_u64(out, q->desc);
    put_u64(out, q->avail);
    put_u64(out, q->used);
    put_u64(out, q->last_avail | (uint64_t)q->used_idx << 16 |
                     (uint64_t)q->signalled_used << 32 | (uint64_t)q->signalled_valid << 48);
}

static int load_queue(tes_virtq *q, tes_stream *in)
{
    uint64_t a, b;
    int ret = get_u64(in, &a);

    ret = ret ?: get_u64(in, &q->desc);
    ret = ret ?: get_u64(in, &q->avail);
    ret = ret ?: get_u64(in, &q->used);
    ret = ret ?: get_u64(in, &b);
    if (ret < 0) {
        return ret;
    }
    q->num = a & 0xffff;
    q->ready = (a >> 16) & 1;
    q->vector = a >> 32;
    q->last_avail = b & 0xffff;
    q->used_idx = b >> 16;
    q->signalled_used = b >> 32;
    q->signalled_valid = (b >> 48) & 1;
    q->mapped = false;
    if (q->num > q->v->info.queue_size || (q->ready && q->num == 0)) {
        H->error(q->v->tdev, "virtio: queue %u of size %u in the stream (max %u)", q->index,
                 q->num, q->v->info.queue_size);
        return -EINVAL;
    }
    return 0;
}

/* Requests in flight are finished first (pre_save), so only indices need
 * saving: last_avail equals what the device pushed. */
int vcore_save(tes_virtio *v, tes_stream *out)
{
    unsigned n = vcore_num_queues(v);

    put_u64(out, STATE_MAGIC | (uint64_t)n << 32);
    put_u64(out, v->host_features);
    put_u64(out, v->guest_features);
    put_u64(out, v->status | v->config_gen << 8 | v->isr << 16 | (uint64_t)v->broken << 24);
    for (unsigned i = 0; i < n; i++) {
        save_queue(&v->vq[i], out);
    }
    if (v->dev && v->info.ops->save) {
        return v->info.ops->save(v->info.opaque, out);
    }
    return 0;
}

int vcore_load(tes_virtio *v, tes_stream *in)
{
    uint64_t hdr, host, misc;
    int ret = get_u64(in, &hdr);

    ret = ret ?: get_u64(in, &host);
    ret = ret ?: get_u64(in, &v->guest_features);
    ret = ret ?: get_u64(in, &misc);
    if (ret < 0) {
        return ret;
    }
    if ((uint32_t)hdr != STATE_MAGIC || hdr >> 32 != vcore_num_queues(v) ||
        host != v->host_features) {
        H->log(TES_LOG_PLUGIN, "virtio: incoming state of %u queues, features 0x%llx does not "
               "match this device (%u queues, 0x%llx)", (unsigned)(hdr >> 32),
               (unsigned long long)host, vcore_num_queues(v),
               (unsigned long long)v->host_features);
        return -EINVAL;
    }
    v->status = misc & 0xff;
    v->config_gen = misc >> 8;
    v->isr = misc >> 16;
    v->broken = (misc >> 24) & 1;
    if ((v->status & TES_VIRTIO_S_FEATURES_OK) && !features_ok(v)) {
        /* vcore_set_status() would have refused FEATURES_OK: the device
         * would run feature code paths it never offered. */
        H->error(v->tdev, "virtio: driver features 0x%llx in the stream, offered 0x%llx",
                 (unsigned long long)v->guest_features, (unsigned long long)v->host_features);
        return -EINVAL;
    }
    for (unsigned i = 0; i < vcore_num_queues(v) && ret == 0; i++) {
        ret = load_queue(&v->vq[i], in);
    }
    if (ret == 0 && v->dev && v->info.ops->load) {
        ret = v->info.ops->load(v->info.opaque, in);
    }
    return ret;
}

/* ---- the "virtio" interface ---- */

static bool info_valid(tes_device *dev, const tes_virtio_dev_info *info)
{
    uint16_t qs = info->queue_size;

    if (info->size < sizeof(*info) || !info->ops || !info->ops->handle_queue ||
        !info->ops->config_read) {
        H->error(dev, "virtio: device info is incomplete");
        return false;
    }
    if (info->num_queues < 1 || info->num_queues > VIRTIO_MAX_QUEUES || qs < 2 ||
        qs > VIRTIO_MAX_QUEUE_SIZE || (qs & (qs - 1)) || info->config_size > 0x1000) {
        H->error(dev, "virtio: wants 1..%u queues of a power-of-two size 2..%u, got %u of %u",
                 VIRTIO_MAX_QUEUES, VIRTIO_MAX_QUEUE_SIZE, info->num_queues, qs);
        return false;
    }
    return true;
}

static tes_virtio *if_plug(tes_device *dev, const tes_virtio_dev_info *info)
{
    tes_bus *bus = H->dev_bus(dev);
    tes_virtio *v = bus ? H->bus_opaque(bus) : NULL;

    if (!v || !info_valid(dev, info)) {
        if (!v) {
            H->error(dev, "virtio: not on a virtio transport's bus");
        }
        return NULL;
    }
    if (v->dev) {
        H->error(dev, "virtio: bus '%s' already carries '%s'", H->bus_name(bus),
                 H->dev_id(v->dev));
        return NULL;
    }
    v->dev = dev;
    v->info = *info;
    v->info.size = sizeof(v->info);
    v->host_features = info->features | 1ull << TES_VIRTIO_F_VERSION_1 |
                       1ull << TES_VIRTIO_F_INDIRECT_DESC | 1ull << TES_VIRTIO_F_EVENT_IDX;
    for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
        queue_reset(&v->vq[i]);
    }
    return v;
}

static void if_unplug(tes_virtio *v)
{
    if (v) {
        vcore_reset(v);
        v->dev = NULL;
        v->host_features = 0;
        memset(&v->info, 0, sizeof(v->info));
        for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
            queue_reset(&v->vq[i]);
        }
    }
}

static tes_virtq *if_queue(tes_virtio *v, unsigned index)
{
    return index < vcore_num_queues(v) ? &v->vq[index] : NULL;
}

static uint64_t if_features(tes_virtio *v)
{
    return v->guest_features;
}

static uint8_t if_status(tes_virtio *v)
{
    return v->status;
}

const tes_virtio_ops virtio_ops = {
    .size = sizeof(tes_virtio_ops),
    .plug = if_plug,
    .unplug = if_unplug,
    .queue = if_queue,
    .pop = vq_pop,
    .push = vq_push,
    .notify = vq_notify,
    .config_changed = config_changed,
    .set_needs_reset = set_needs_reset,
    .features = if_features,
    .status = if_status,
};

/* ---- the plugin ---- */

static int virtio_plugin_init(const tes_host *host)
{
    H = host;
    if (TES_TRACE_REGISTER(host) != 0) {
        return -22; /* -EINVAL: a malformed event table */
    }
    if (H->size < offsetof(tes_host, drive_inflight) + sizeof(H->drive_inflight)) {
        return -ENOTSUP; /* needs ABI 1.1 asynchronous block requests */
    }
    /* -EEXIST: another provider registered first; ours stay usable inside
     * this plugin. */
    H->iface_register(TES_VIRTIO_IFACE, TES_VIRTIO_IFACE_VERSION, &virtio_ops);
    H->iface_register(TES_VIRTIO_MMIO_IFACE, TES_VIRTIO_MMIO_IFACE_VERSION, &virtio_mmio_ops);
    return 0;
}

static const tes_type_info *const virtio_types[] = {
    &virtio_mmio_type,
    &virtio_blk_device_type,
    &virtio_blk_pci_type,
    &virtio_rng_device_type,
    &virtio_rng_pci_type,
    &virtio_net_device_type,
    &virtio_net_pci_type,
    &virtio_scsi_pci_type,
    &virtio_iommu_pci_type,
    &virtio_keyboard_device_type,
    &virtio_keyboard_pci_type,
    &virtio_mouse_device_type,
    &virtio_mouse_pci_type,
    &virtio_tablet_device_type,
    &virtio_tablet_pci_type,
    &virtio_gpu_device_type,
    &virtio_gpu_pci_type,
    NULL,
};

TES_PLUGIN_DEFINE(.name = "virtio", .version = "0.1.0", .license = "MIT",
                  .desc = "virtio 1.x: PCI and MMIO transports, block, entropy, network, input "
                          "and GPU devices",
                  .types = virtio_types, .init = virtio_plugin_init);
