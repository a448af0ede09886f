/*
 * A tiny in-test NVMe "host driver" over the harness: admin and I/O queue
 * pairs in harness RAM, driven through BAR0 registers and doorbells as
 * Linux's nvme driver does. Shared by the plugin tests and the benchmark.
 * Header-only (static functions).
 */
#ifndef NVME_DRV_H
#define NVME_DRV_H

#include <stdint.h>
#include <string.h>
#include <tessera/harness.h>

#define ND_BAR0 0x80000000ull
#define ND_MAX_Q 65
#define ND_ASQ 0x10000ull
#define ND_ACQ 0x20000ull
#define ND_IOQ_BASE 0x100000ull /* queue q: SQ at base + q * 0x40000, CQ 0x20000 above */
#define ND_IOQ_STRIDE 0x40000ull
#define ND_ADMIN_SIZE 32

typedef struct nd_queue {
    uint64_t sq, cq;
    uint16_t size, tail, head, cid;
    uint8_t phase;
} nd_queue;

typedef struct nd {
    tes_harness *h;
    tes_device *dev;
    uint8_t *ram;
    uint64_t bar;
    nd_queue q[ND_MAX_Q];
} nd;

typedef struct nd_cqe {
    uint32_t dw0;
    uint16_t sq_head, sqid, cid, status; /* status without the phase bit */
} nd_cqe;

static inline uint32_t nd_rd32(nd *d, uint64_t off)
{
    return tes_harness_read(d->h, d->bar + off, 4);
}

static inline uint64_t nd_rd64(nd *d, uint64_t off)
{
    return tes_harness_read(d->h, d->bar + off, 8);
}

static inline void nd_wr32(nd *d, uint64_t off, uint32_t v)
{
    tes_harness_write(d->h, d->bar + off, v, 4);
}

static inline void nd_wr64(nd *d, uint64_t off, uint64_t v)
{
    tes_harness_write(d->h, d->bar + off, v, 8);
}

/* Disable, program the admin queues, enable with 64/16-byte entries. */
static inline bool nd_enable(nd *d)
{
    nd_queue *a = &d->q[0];

    nd_wr32(d, 0x14, 0);
    memset(a, 0, sizeof(*a));
    a->sq = ND_ASQ, a->cq = ND_ACQ, a->size = ND_ADMIN_SIZE, a->phase = 1;
    /* Only the entries in use: a fuzz target calls this per input, and
     * touching more fresh RAM is page faults for nothing. */
    memset(d->ram + ND_ASQ, 0, 64 * ND_ADMIN_SIZE);
    memset(d->ram + ND_ACQ, 0, 16 * ND_ADMIN_SIZE);
    nd_wr32(d, 0x24, (ND_ADMIN_SIZE - 1) << 16 | (ND_ADMIN_SIZE - 1));
    nd_wr64(d, 0x28, ND_ASQ);
    nd_wr64(d, 0x30, ND_ACQ);
    nd_wr32(d, 0x14, 1 | 6 << 16 | 4 << 20);
    return (nd_rd32(d, 0x1c) & 3) == 1;
}

/* A 64-byte command: opcode, nsid, prp1/2, cdw10..15 (cid set at submit). */
static inline void nd_sqe(uint8_t *s, uint8_t opcode, uint32_t nsid, uint64_t prp1,
                          uint64_t prp2, const uint32_t cdw[6])
{
    memset(s, 0, 64);
    s[0] = opcode;
    memcpy(s + 4, &nsid, 4);
    memcpy(s + 24, &prp1, 8);
    memcpy(s + 32, &prp2, 8);
    if (cdw) {
        memcpy(s + 40, cdw, 24);
    }
}

/* Queue a command without ringing; returns its cid. */
static inline uint16_t nd_push(nd *d, unsigned qid, uint8_t *sqe)
{
    nd_queue *q = &d->q[qid];
    uint16_t cid = q->cid++;

    memcpy(sqe + 2, &cid, 2);
    memcpy(d->ram + q->sq + 64ull * q->tail, sqe, 64);
    q->tail = (q->tail + 1) % q->size;
    return cid;
}

static inline void nd_ring(nd *d, unsigned qid)
{
    nd_wr32(d, 0x1000 + 8 * qid, d->q[qid].tail);
}

/* Take one completion if its phase tag says it is new. */
static inline bool nd_peek(nd *d, unsigned qid, nd_cqe *c, bool ring)
{
    nd_queue *q = &d->q[qid];
    uint8_t *e = d->ram + q->cq + 16ull * q->head;
    uint16_t st;

    memcpy(&st, e + 14, 2);
    if ((st & 1) != q->phase) {
        return false;
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    memcpy(&c->dw0, e, 4);
    memcpy(&c->sq_head, e + 8, 2);
    memcpy(&c->sqid, e + 10, 2);
    memcpy(&c->cid, e + 12, 2);
    c->status = st >> 1;
    if (++q->head == q->size) {
        q->head = 0;
        q->phase ^= 1;
    }
    if (ring) {
        nd_wr32(d, 0x1000 + 8 * qid + 4, q->head);
    }
    return true;
}

/* Wait (through the block layer) for a completion on qid. */
static inline bool nd_wait(nd *d, unsigned qid, nd_cqe *c)
{
    for (int i = 0; i < 100000; i++) {
        if (nd_peek(d, qid, c, true)) {
            return true;
        }
        tes_harness_block_wait(d->h);
    }
    return false;
}

/* Submit one command and wait for it; returns the status (0xffff: none). */
static inline uint16_t nd_cmd(nd *d, unsigned qid, uint8_t opcode, uint32_t nsid, uint64_t prp1,
                              uint64_t prp2, const uint32_t cdw[6], uint32_t *dw0)
{
    uint8_t s[64];
    nd_cqe c;

    nd_sqe(s, opcode, nsid, prp1, prp2, cdw);
    nd_push(d, qid, s);
    nd_ring(d, qid);
    if (!nd_wait(d, qid, &c)) {
        return 0xffff;
    }
    if (dw0) {
        *dw0 = c.dw0;
    }
    return c.status;
}

/* Create I/O CQ and SQ qid of size entries with MSI-X vector vec. */
static inline uint16_t nd_create_ioq(nd *d, unsigned qid, uint16_t size, uint16_t vec)
{
    nd_queue *q = &d->q[qid];
    uint32_t cq[6] = {(uint32_t)(size - 1) << 16 | qid, (uint32_t)vec << 16 | 3};
    uint32_t sq[6] = {(uint32_t)(size - 1) << 16 | qid, qid << 16 | 1};
    uint16_t st;

    memset(q, 0, sizeof(*q));
    q->sq = ND_IOQ_BASE + qid * ND_IOQ_STRIDE;
    q->cq = q->sq + 0x20000;
    q->size = size;
    q->phase = 1;
    memset(d->ram + q->sq, 0, 64ull * size);
    memset(d->ram + q->cq, 0, 16ull * size);
    st = nd_cmd(d, 0, 0x05, 0, q->cq, 0, cq, NULL);
    return st ? st : nd_cmd(d, 0, 0x01, 0, q->sq, 0, sq, NULL);
}

#endif
