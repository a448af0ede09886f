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
