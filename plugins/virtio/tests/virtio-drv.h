/*
 * A tiny in-test virtio "guest driver" over the harness: split virtqueues
 * in harness RAM, driven through virtio-pci (modern) or virtio-mmio (v2)
 * registers exactly as a guest would. Shared by the plugin tests and the
 * virtio-blk benchmark. Header-only (static functions).
 */
#ifndef VIRTIO_DRV_H
#define VIRTIO_DRV_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tessera/harness.h>

#define VD_MAX_Q 64
#define VD_RING_BASE 0x100000ull  /* queue q rings at VD_RING_BASE + q * VD_RING_STRIDE */
#define VD_RING_STRIDE 0x10000ull
#define VD_BAR4 0x80000000ull
#define VD_MMIO_BASE 0x0a000000ull

#define VD_F_NEXT 1
#define VD_F_WRITE 2
#define VD_F_INDIRECT 4

typedef struct vd_queue {
    uint64_t desc, avail, used;
    uint16_t size, avail_idx, used_seen, next_desc;
} vd_queue;

typedef struct vd {
    tes_harness *h;
    tes_device *dev;
    uint8_t *ram;
    bool pci;
    uint64_t base; /* BAR4 or the MMIO window */
    vd_queue q[VD_MAX_Q];
} vd;

/* virtio-pci regions inside BAR4 (as the capabilities say; checked by a
 * test) and common config offsets. */
#define VD_COMMON 0x0000
#define VD_ISR 0x1000
#define VD_DEVCFG 0x2000
#define VD_NOTIFY 0x3000

static inline uint64_t vd_rd(vd *d, uint64_t off, unsigned size)
{
    return tes_harness_read(d->h, d->base + off, size);
}

static inline void vd_wr(vd *d, uint64_t off, uint64_t val, unsigned size)
{
    tes_harness_write(d->h, d->base + off, val, size);
}

static inline uint8_t vd_status(vd *d)
{
    return d->pci ? vd_rd(d, VD_COMMON + 0x14, 1) : vd_rd(d, 0x70, 4);
}

static inline void vd_set_status(vd *d, uint8_t s)
{
    if (d->pci) {
        vd_wr(d, VD_COMMON + 0x14, s, 1);
    } else {
        vd_wr(d, 0x70, s, 4);
    }
}

static inline uint64_t vd_device_features(vd *d)
{
    uint64_t f = 0;

    for (unsigned sel = 0; sel < 2; sel++) {
        vd_wr(d, d->pci ? VD_COMMON + 0x00 : 0x14, sel, 4);
        f |= (uint64_t)vd_rd(d, d->pci ? VD_COMMON + 0x04 : 0x10, 4) << (32 * sel);
    }
    return f;
}

static inline void vd_set_driver_features(vd *d, uint64_t f)
{
    for (unsigned sel = 0; sel < 2; sel++) {
        vd_wr(d, d->pci ? VD_COMMON + 0x08 : 0x24, sel, 4);
        vd_wr(d, d->pci ? VD_COMMON + 0x0c : 0x20, (uint32_t)(f >> (32 * sel)), 4);
    }
}

static inline uint32_t vd_cfg_read(vd *d, uint32_t off, unsigned size)
{
    return vd_rd(d, (d->pci ? VD_DEVCFG : 0x100) + off, size);
}

static inline unsigned vd_num_queues(vd *d)
{
    return d->pci ? vd_rd(d, VD_COMMON + 0x12, 2) : 0;
}

static inline uint16_t vd_queue_max(vd *d, unsigned i)
{
    if (d->pci) {
        vd_wr(d, VD_COMMON + 0x16, i, 2);
        return vd_rd(d, VD_COMMON + 0x18, 2);
    }
    vd_wr(d, 0x30, i, 4);
    return vd_rd(d, 0x34, 4);
}

/* Lay out queue i (size entries) in RAM and enable it; MSI-X vector vec. */
static inline void vd_queue_setup(vd *d, unsigned i, uint16_t size, uint16_t vec)
{
    vd_queue *q = &d->q[i];
    uint64_t base = VD_RING_BASE + i * VD_RING_STRIDE;

    memset(q, 0, sizeof(*q));
    q->size = size;
    q->desc = base;
    q->avail = base + 16ull * size;
    q->used = (q->avail + 6 + 2ull * size + 3) & ~3ull;
    memset(d->ram + base, 0, q->used + 6 + 8ull * size - base); /* the rings, no more */
    if (d->pci) {
        vd_wr(d, VD_COMMON + 0x16, i, 2);
        vd_wr(d, VD_COMMON + 0x18, size, 2);
        vd_wr(d, VD_COMMON + 0x1a, vec, 2);
        vd_wr(d, VD_COMMON + 0x20, q->desc, 8);
        vd_wr(d, VD_COMMON + 0x28, (uint32_t)q->avail, 4);
        vd_wr(d, VD_COMMON + 0x2c, q->avail >> 32, 4);
        vd_wr(d, VD_COMMON + 0x30, q->used, 8);
        vd_wr(d, VD_COMMON + 0x1c, 1, 2);
        return;
    }
    vd_wr(d, 0x30, i, 4);
    vd_wr(d, 0x38, size, 4);
    vd_wr(d, 0x80, (uint32_t)q->desc, 4);
    vd_wr(d, 0x84, q->desc >> 32, 4);
    vd_wr(d, 0x90, (uint32_t)q->avail, 4);
    vd_wr(d, 0x94, q->avail >> 32, 4);
    vd_wr(d, 0xa0, (uint32_t)q->used, 4);
    vd_wr(d, 0xa4, q->used >> 32, 4);
    vd_wr(d, 0x44, 1, 4);
}

/* ACKNOWLEDGE, DRIVER, features, FEATURES_OK (checked), queues, DRIVER_OK. */
static inline bool vd_init(vd *d, uint64_t want, unsigned nq, uint16_t qsize, bool vectors)
{
    uint64_t f;

    vd_set_status(d, 0);
    vd_set_status(d, 1);
    vd_set_status(d, 3);
    f = vd_device_features(d) & want;
    vd_set_driver_features(d, f);
    vd_set_status(d, 0xb);
    if (!(vd_status(d) & 8)) {
        return false;
    }
    if (d->pci && vectors) {
        vd_wr(d, VD_COMMON + 0x10, nq, 2); /* config: the last vector */
    }
    for (unsigned i = 0; i < nq; i++) {
        vd_queue_setup(d, i, qsize, vectors ? i : 0xffff);
    }
    vd_set_status(d, 0xf);
    return true;
}

static inline void vd_put16(vd *d, uint64_t a, uint16_t v)
{
    memcpy(d->ram + a, &v, 2);
}

static inline uint16_t vd_get16(vd *d, uint64_t a)
{
    uint16_t v;

    memcpy(&v, d->ram + a, 2);
    return v;
}

static inline uint32_t vd_get32(vd *d, uint64_t a)
{
    uint32_t v;

    memcpy(&v, d->ram + a, 4);
    return v;
}

/* Write descriptor j of a table at table. */
static inline void vd_desc(vd *d, uint64_t table, unsigned j, uint64_t addr, uint32_t len,
                           uint16_t flags, uint16_t next)
{
    uint8_t *p = d->ram + table + 16ull * j;

    memcpy(p, &addr, 8);
    memcpy(p + 8, &len, 4);
    memcpy(p + 12, &flags, 2);
    memcpy(p + 14, &next, 2);
}

/* Publish head in the avail ring (without kicking). */
static inline void vd_publish(vd *d, unsigned i, uint16_t head)
{
    vd_queue *q = &d->q[i];

    vd_put16(d, q->avail + 4 + 2 * (q->avail_idx % q->size), head);
    q->avail_idx++;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    vd_put16(d, q->avail + 2, q->avail_idx);
}

static inline void vd_kick(vd *d, unsigned i)
{
    if (d->pci) {
        vd_wr(d, VD_NOTIFY + 4 * i, i, 2);
    } else {
        vd_wr(d, 0x50, i, 4);
    }
}

static inline uint16_t vd_used_idx(vd *d, unsigned i)
{
    return vd_get16(d, d->q[i].used + 2);
}

/* Pop one used entry: true with head/len, false when none. */
static inline bool vd_reap(vd *d, unsigned i, uint32_t *head, uint32_t *len)
{
    vd_queue *q = &d->q[i];
    uint64_t ent;

    if (vd_used_idx(d, i) == q->used_seen) {
        return false;
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    ent = q->used + 4 + 8 * (q->used_seen % q->size);
    *head = vd_get32(d, ent);
    *len = vd_get32(d, ent + 4);
    q->used_seen++;
    return true;
}

/* With EVENT_IDX: ask for the next interrupt at the first used entry
 * after what was reaped (used_event, 1.2 section 2.7.10), as Linux's
 * virtqueue_enable_cb does once its callback has drained the ring. */
static inline void vd_used_event(vd *d, unsigned i)
{
    vd_queue *q = &d->q[i];

    vd_put16(d, q->avail + 4 + 2ull * q->size, q->used_seen);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* ---- trace points: switch events on, find their lines ---- */

/* QMP trace-event-set-state for the events matching pattern: true when
 * the monitor took it. */
static inline bool vd_trace_on(tes_harness *h, const char *pattern)
{
    char json[256];
    char *r;
    bool ok;

    snprintf(json, sizeof(json),
             "{\"execute\": \"trace-event-set-state\", "
             "\"arguments\": {\"name\": \"%s\", \"enable\": true}}",
             pattern);
    r = tes_harness_qmp(h, json);
    ok = r && strstr(r, "\"return\"");
    free(r);
    return ok;
}

/* The first of the NULL-ended strings not in the captured log (the
 * harness's log capture), NULL when every one is there. */
static inline const char *vd_log_missing(tes_harness *h, const char *const *want)
{
    const char *log = tes_harness_log_text(h);

    for (; *want; want++) {
        if (!strstr(log, *want)) {
            return *want;
        }
    }
    return NULL;
}

#endif
