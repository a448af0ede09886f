/*
 * Kept page mappings for a device's small DMAs: see dma-cache.h.
 */
#include <stddef.h>
#include <string.h>

#include "dma-cache.h"

_Static_assert(DCACHE_WAYS == 16, "dcache_ptr's index takes the top 4 bits of the hash");

void dcache_init(dcache *c, tes_device *dev)
{
    memset(c, 0, sizeof(*c));
    c->dev = dev;
    c->usable = H->size >= offsetof(tes_host, dma_generation) + sizeof(H->dma_generation);
}

/* Map page into e for the generation gen; false (e left empty) when it is
 * not one page of RAM from here. */
bool dcache_fill(dcache *c, dcache_ent *e, uint64_t gen, uint64_t page, bool write)
{
    uint64_t n = DCACHE_PAGE;
    uint8_t *p = H->dma_map(c->dev, page, &n, write);

    e->gen = 0;
    if (!p || n < DCACHE_PAGE) {
        return false;
    }
    e->page = page;
    e->host = p;
    e->write = write;
    e->gen = gen;
    return true;
}

void dwins_init(dwins *c)
{
    memset(c, 0, sizeof(*c));
    c->usable = H->size >= offsetof(tes_host, dma_generation) + sizeof(H->dma_generation);
}

/* Map [base, end of its region) into w; false when base is not RAM. */
static bool dwin_fill(dwin *w, tes_device *dev, uint64_t gen, uint64_t base, bool write)
{
    uint64_t n = UINT64_MAX - base;
    uint8_t *p = H->dma_map(dev, base, &n, write);

    if (!p || !n) {
        return false;
    }
    *w = (dwin){.dev = dev, .gen = gen, .start = base, .end = base + n, .host = p,
                .write = write};
    return true;
}

void *dwin_map_slow(dwins *c, tes_device *dev, uint64_t gen, uint64_t addr, uint64_t *len,
                    bool write)
{
    uint64_t base;
    dwin *w;

    if (!gen) {
        return H->dma_map(dev, addr, len, write);
    }
    /* From the 2 MiB boundary below when that is the same RAM region, so
     * that later buffers below addr hit too. */
    w = &c->w[c->next];
    c->next ^= 1;
    base = addr & ~((1ull << 21) - 1);
    if (!(dwin_fill(w, dev, gen, base, write) && w->end > addr) &&
        !dwin_fill(w, dev, gen, addr, write)) {
        w->gen = 0;
        return H->dma_map(dev, addr, len, write); /* not RAM: its own answer */
    }
    *len = *len < w->end - addr ? *len : w->end - addr;
    return w->host + (addr - w->start);
}
