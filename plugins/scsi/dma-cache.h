/*
 * A device's small DMAs (frames, status bytes, reply queue entries and
 * indexes) through host pointers it keeps, one guest page each, for as
 * long as the core's dma_generation (ABI 1.8) says they stay valid.
 *
 * Each access through the core (dma_read/dma_write) costs ~150-200
 * instructions (bus-master check, address-space lookup, copy, dirty
 * marking); megasas makes five a request on a handful of pages the driver
 * allocated once. Here a hit is a hash, two compares and the copy; writes
 * still go through dma_unmap for dirty tracking and the CPUs' translated
 * code. Anything else (no 1.8 core, an IOMMU translating the device, bus
 * mastering off, I/O memory, an access across a page) returns NULL and
 * the caller takes the ordinary path, so what the guest sees is the same.
 */
#ifndef SCSI_DMA_CACHE_H
#define SCSI_DMA_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "scsi-int.h"

#define DCACHE_PAGE 4096u
#define DCACHE_WAYS 16 /* a power of two: the index is the top bits of a hash */

typedef struct dcache_ent {
    uint64_t gen;  /* dma_generation when mapped; 0: empty */
    uint64_t page; /* bus address of the page */
    uint8_t *host;
    bool write;    /* mapped for writing (reads may use it too) */
} dcache_ent;

typedef struct dcache {
    tes_device *dev;
    bool usable; /* the core has dma_generation */
    dcache_ent e[DCACHE_WAYS];
} dcache;

void dcache_init(dcache *c, tes_device *dev);
bool dcache_fill(dcache *c, dcache_ent *e, uint64_t gen, uint64_t page, bool write);

/* dcache_ptr for a dma_generation the caller read (non-zero) and knows
 * is still current: nothing between its read and here ran device code or
 * changed the memory map (a DMA that missed the cache may have). */
static inline uint8_t *dcache_ptr_gen(dcache *c, uint64_t gen, uint64_t addr, uint64_t len,
                                      bool write)
{
    uint64_t page = addr & ~(uint64_t)(DCACHE_PAGE - 1);
    dcache_ent *e;

    if (len > DCACHE_PAGE - (addr - page)) {
        return NULL;
    }
    /* Fibonacci hashing of the page number: a driver's pages are often
     * consecutive or a power of two apart. */
    e = &c->e[((page / DCACHE_PAGE) * 0x9e3779b97f4a7c15ull) >> (64 - 4)];
    if ((e->gen != gen || e->page != page || (write && !e->write)) &&
        !dcache_fill(c, e, gen, page, write)) {
        return NULL;
    }
    return e->host + (addr - page);
}

/* Host pointer to [addr, addr + len) when it lies in one page of RAM the
 * device may reach directly, else NULL. */
static inline uint8_t *dcache_ptr(dcache *c, uint64_t addr, uint64_t len, bool write)
{
    uint64_t gen = c->usable ? H->dma_generation(c->dev) : 0;

    return gen ? dcache_ptr_gen(c, gen, addr, len, write) : NULL;
}

/*
 * Bigger buffers (a command's data): dma_map through two windows, each the
 * rest of a RAM region from a 2 MiB boundary, mapped once per generation.
 * The pointer and contiguous length are the ones dma_map would give; the
 * caller still unmaps what it got (dirty marking of what the device wrote).
 */
typedef struct dwin {
    tes_device *dev;
    uint64_t gen, start, end; /* gen 0: empty */
    uint8_t *host;
    bool write;
} dwin;

typedef struct dwins {
    bool usable; /* the core has dma_generation */
    unsigned next; /* the way a miss replaces */
    dwin w[2];
} dwins;

void dwins_init(dwins *c);
/* A miss (or no generation): maps a window, or asks dma_map itself. */
void *dwin_map_slow(dwins *c, tes_device *dev, uint64_t gen, uint64_t addr, uint64_t *len,
                    bool write);

/* The hit inline in req_map: a call with len spilled to memory was a
 * third of the mapping's cost (callgrind). */
static inline void *dwin_map(dwins *c, tes_device *dev, uint64_t addr, uint64_t *len,
                             bool write)
{
    uint64_t gen = c->usable ? H->dma_generation(dev) : 0;

    for (unsigned i = 0; gen && i < 2; i++) {
        dwin *w = &c->w[i];
        if (w->gen == gen && w->dev == dev && addr - w->start < w->end - w->start &&
            (w->write || !write)) {
            *len = *len < w->end - addr ? *len : w->end - addr;
            return w->host + (addr - w->start);
        }
    }
    return dwin_map_slow(c, dev, gen, addr, len, write);
}

#endif
