/*
 * tessera core: memory regions and address spaces.
 *
 * An address space is a container region; containers hold subregions at
 * addresses with priorities (higher wins where they overlap, equal priority:
 * the one added last wins), aliases map a window of another region. Lookup
 * walks the tree from the root every time: no flattened view to keep in
 * sync, and no allocation on the access path. memory_generation() tells
 * soft TLBs when a cached host pointer may have gone stale.
 *
 * The system address space is "2^64" bytes: its size is stored as
 * UINT64_MAX, which covers every address but the very last byte.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>

#include "core.h"

#define PAGE_BITS 12
#define BITS_PER_LONG (8 * sizeof(unsigned long))
#define MAX_DEPTH 32 /* nesting of containers and aliases we follow */

static tes_region *system_root;
static tes_region *io_root;
/* Read through memory_generation() (core.h), inline in the DMA paths. */
uint64_t memory_gen;
static GPtrArray *ram_list; /* every RAM/ROM region alive, for dma_unmap */
static tes_region *last_dirty_ptr; /* memory_set_dirty_ptr's last hit, NULL when freed */

static const char *kind_name[] = {
    [REGION_RAM] = "ram", [REGION_ROM] = "rom", [REGION_IO] = "i/o",
    [REGION_CONTAINER] = "container", [REGION_ALIAS] = "alias",
};

static void notify_watchers(const uint8_t *host, uint64_t len);

/* ---- creation and the tree ---- */

/* r takes the mapping p (of r->size bytes; munmapped with r). */
static void region_adopt_ram(tes_region *r, void *p)
{
    uint64_t pages = (r->size + (1u << PAGE_BITS) - 1) >> PAGE_BITS;

    r->ram = p;
    r->dirty = g_new0(unsigned long, (pages + BITS_PER_LONG - 1) / BITS_PER_LONG + 1);
    if (!ram_list) {
        ram_list = g_ptr_array_new();
    }
    g_ptr_array_add(ram_list, r);
}

static bool region_alloc_ram(tes_region *r)
{
    void *p;

    /* Anonymous mapping: zeroed lazily by the kernel, page-aligned for soft
     * TLBs, and -m larger than free memory is fine until the guest uses it. */
    p = mmap(NULL, r->size ? r->size : 1, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        return false;
    }
    region_adopt_ram(r, p);
    r->anon = true;
    return true;
}

tes_region *region_new(region_kind kind, tes_device *owner, const char *name, uint64_t size)
{
    tes_region *r = g_new0(tes_region, 1);

    r->kind = kind;
    r->name = g_strdup(name ? name : "anonymous");
    r->size = size;
    r->owner = owner;
    r->enabled = true;
    if ((kind == REGION_RAM || kind == REGION_ROM) && !region_alloc_ram(r)) {
        g_free(r->name);
        g_free(r);
        return NULL;
    }
    if (kind == REGION_CONTAINER) {
        r->subregions = g_ptr_array_new();
    }
    if (owner) {
        if (!owner->regions) {
            owner->regions = g_ptr_array_new();
        }
        g_ptr_array_add(owner->regions, r);
    }
    return r;
}

tes_region *region_new_ram(tes_device *owner, const char *name, uint64_t size)
{
    return region_new(REGION_RAM, owner, name, size);
}

tes_region *region_new_ram_mapped(tes_device *owner, const char *name, uint64_t size, void *p)
{
    /* A container first (no allocation), then turned into RAM over p. */
    tes_region *r = region_new(REGION_CONTAINER, owner, name, size);

    g_ptr_array_free(r->subregions, TRUE);
    r->subregions = NULL;
    r->kind = REGION_RAM;
    region_adopt_ram(r, p);
    return r;
}

tes_region *region_new_rom(tes_device *owner, const char *name, uint64_t size)
{
    return region_new(REGION_ROM, owner, name, size);
}

tes_region *region_new_io(tes_device *owner, const char *name, uint64_t size,
                          const tes_mem_ops *ops, void *opaque)
{
    tes_region *r = region_new(REGION_IO, owner, name, size);

    r->ops = ops;
    r->opaque = opaque;
    r->valid_min = ops && ops->valid_min ? ops->valid_min : 1;
    r->valid_max = ops && ops->valid_max ? ops->valid_max : 8;
    r->impl_min = ops && ops->impl_min ? ops->impl_min : 1;
    r->impl_max = ops && ops->impl_max ? ops->impl_max : 8;
    return r;
}

tes_region *region_new_container(tes_device *owner, const char *name, uint64_t size)
{
    return region_new(REGION_CONTAINER, owner, name, size);
}

tes_region *region_new_alias(tes_device *owner, const char *name, tes_region *target,
                             uint64_t offset, uint64_t size)
{
    tes_region *r = region_new(REGION_ALIAS, owner, name, size);

    r->alias = target;
    r->alias_offset = offset;
    return r;
}

void region_add(tes_region *parent, uint64_t addr, tes_region *child, int priority)
{
    guint i;

    if (!parent || !child || parent->kind != REGION_CONTAINER) {
        return;
    }
    if (child->parent) {
        region_del(child->parent, child);
    }
    child->addr = addr;
    child->priority = priority;
    child->parent = parent;
    /* Highest priority first; a newcomer goes before its equals so that the
     * region added last wins (QEMU's rule, which boards rely on). */
    for (i = 0; i < parent->subregions->len; i++) {
        tes_region *s = g_ptr_array_index(parent->subregions, i);
        if (s->priority <= priority) {
            break;
        }
    }
    g_ptr_array_insert(parent->subregions, i, child);
    memory_gen++;
}

void region_del(tes_region *parent, tes_region *child)
{
    if (!parent || !child || child->parent != parent) {
        return;
    }
    g_ptr_array_remove(parent->subregions, child);
    child->parent = NULL;
    memory_gen++;
}

void region_set_enabled(tes_region *r, bool enabled)
{
    if (r && r->enabled != enabled) {
        r->enabled = enabled;
        memory_gen++;
    }
}

void region_set_alias_offset(tes_region *alias, uint64_t offset)
{
    if (alias && alias->alias_offset != offset) {
        alias->alias_offset = offset;
        memory_gen++;
    }
}

void *region_ram_ptr(tes_region *r)
{
    return r && (r->kind == REGION_RAM || r->kind == REGION_ROM) ? r->ram : NULL;
}

uint64_t region_size(tes_region *r)
{
    return r ? r->size : 0;
}

void region_free(tes_region *r)
{
    if (!r) {
        return;
    }
    region_del(r->parent, r);
    if (r->subregions) {
        for (guint i = 0; i < r->subregions->len; i++) {
            ((tes_region *)g_ptr_array_index(r->subregions, i))->parent = NULL;
        }
        g_ptr_array_free(r->subregions, TRUE);
        memory_gen++;
    }
    if (r->owner && r->owner->regions) {
        g_ptr_array_remove(r->owner->regions, r);
    }
    if (r->ram) {
        /* Translated code keyed by host address (CPU plugins' JIT) must
         * not match a later mapping at the same address: an unplugged
         * memory module's, then the next module's. */
        notify_watchers(r->ram, r->size);
        __atomic_compare_exchange_n(&last_dirty_ptr, &(tes_region *){r}, NULL, false,
                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
        g_ptr_array_remove(ram_list, r);
        munmap(r->ram, r->size ? r->size : 1);
    }
    g_free(r->dirty);
    g_free(r->name);
    g_free(r);
}

tes_region *memory_system(void)
{
    if (!system_root) {
        system_root = region_new_container(NULL, "system", UINT64_MAX);
    }
    return system_root;
}

tes_region *memory_io(void)
{
    if (!io_root) {
        io_root = region_new_container(NULL, "io", 0x10000);
    }
    return io_root;
}

/* Regions nobody owns (the harness's RAM and doorbell, made with owner
 * NULL) die with the address space they are mapped in; owned ones are
 * freed by their device. */
static void free_unowned(tes_region *r)
{
    for (guint i = r->subregions->len; i-- > 0;) {
        tes_region *s = g_ptr_array_index(r->subregions, i);
        if (!s->owner) {
            if (s->kind == REGION_CONTAINER) {
                free_unowned(s);
            }
            region_free(s);
        }
    }
}

void memory_reset(void)
{
    if (system_root) {
        free_unowned(system_root);
    }
    if (io_root) {
        free_unowned(io_root);
    }
    region_free(system_root);
    region_free(io_root);
    system_root = NULL;
    io_root = NULL;
    memory_gen++;
    memory_system();
    memory_io();
}


/* ---- lookup ---- */

/* Is addr inside [base, base + size)? Written to not overflow. */
static inline bool in_range(uint64_t addr, uint64_t base, uint64_t size)
{
    return addr >= base && addr - base < size;
}

/*
 * Find the leaf (RAM, ROM or I/O) region at addr in r. *off gets the offset
 * into it and *len is shortened to the bytes that map contiguously to the
 * same leaf (or, for a hole, that stay unassigned). NULL for a hole.
 */
static tes_region *resolve(tes_region *r, uint64_t addr, uint64_t *off, uint64_t *len)
{
    for (int depth = 0; r && depth < MAX_DEPTH; depth++) {
        if (addr >= r->size) {
            return NULL;
        }
        *len = MIN(*len, r->size - addr);
        if (r->kind == REGION_ALIAS) {
            addr += r->alias_offset;
            r = r->alias;
        } else if (r->kind == REGION_CONTAINER) {
            uint64_t next = UINT64_MAX; /* start of the nearest higher one */
            tes_region *hit = NULL;

            for (guint i = 0; i < r->subregions->len; i++) {
                tes_region *s = g_ptr_array_index(r->subregions, i);
                if (!s->enabled) {
                    continue;
                }
                if (in_range(addr, s->addr, s->size)) {
                    hit = s;
                    break;
                }
                if (s->addr > addr) {
                    next = MIN(next, s->addr);
                }
            }
            if (next != UINT64_MAX) {
                *len = MIN(*len, next - addr);
            }
            if (!hit) {
                return NULL;
            }
            addr -= hit->addr;
            r = hit;
        } else {
            *off = addr;
            return r;
        }
    }
    return NULL;
}

/*
 * resolve() walks the tree from the root; a device's DMA resolves the same
 * few windows (its rings, frames and buffers in RAM, an MSI doorbell) over
 * and over, several times per request. Each thread keeps the last few
 * answers: the window [start, end) of the address space that maps
 * contiguously to one leaf at leaf offset off + (addr - start). Any change
 * to the tree bumps the generation, which empties every cache.
 */
#define LOOKUP_WAYS 4

typedef struct lookup_entry {
    tes_region *as, *leaf;
    uint64_t gen, start, end, off;
} lookup_entry;

/* initial-exec: no __tls_get_addr call per lookup (the core is loaded
 * with the program, never dlopen()ed). */
static __thread lookup_entry lookup_cache[LOOKUP_WAYS] __attribute__((tls_model("initial-exec")));
static __thread unsigned lookup_next __attribute__((tls_model("initial-exec")));
/* The way of the last hit, tried first: a run of accesses to one window
 * (a doorbell, a ring) then takes one compare, not up to four (the scan
 * was ~60 instructions of a doorbell write, callgrind). */
static __thread unsigned lookup_mru __attribute__((tls_model("initial-exec")));

static tes_region *resolve_miss(tes_region *as, uint64_t addr, uint64_t *off, uint64_t *len);

/* The hit path inline in its callers (a call and its register saves were
 * a third of a hit's cost, ~7 lookups in a disk request). */
static inline tes_region *resolve_cached(tes_region *as, uint64_t addr, uint64_t *off,
                                         uint64_t *len)
{
    uint64_t gen = __atomic_load_n(&memory_gen, __ATOMIC_RELAXED);
    lookup_entry *e = &lookup_cache[lookup_mru];

    if (e->as == as && e->gen == gen && addr - e->start < e->end - e->start) {
        goto hit;
    }
    for (unsigned i = 0; i < LOOKUP_WAYS; i++) {
        e = &lookup_cache[i];
        if (e->as == as && e->gen == gen && addr - e->start < e->end - e->start) {
            lookup_mru = i;
            goto hit;
        }
    }
    return resolve_miss(as, addr, off, len);
hit:
    *off = e->off + (addr - e->start);
    *len = MIN(*len, e->end - addr);
    return e->leaf;
}

static tes_region *resolve_miss(tes_region *as, uint64_t addr, uint64_t *off, uint64_t *len)
{
    uint64_t gen = __atomic_load_n(&memory_gen, __ATOMIC_RELAXED), n = UINT64_MAX, o = 0;
    lookup_entry *e;
    tes_region *r;

    r = resolve(as, addr, &o, &n);
    if (r && n) { /* holes are rare and logged: not worth a way */
        lookup_mru = lookup_next++ % LOOKUP_WAYS;
        e = &lookup_cache[lookup_mru];
        *e = (lookup_entry){.as = as, .leaf = r, .gen = gen, .start = addr,
                            .end = addr + n < addr ? UINT64_MAX : addr + n, .off = o};
    }
    *off = o;
    *len = MIN(*len, n);
    return r;
}

/* ---- single accesses ---- */

static uint64_t ones(unsigned size)
{
    return size >= 8 ? UINT64_MAX : (1ull << (size * 8)) - 1;
}

static uint64_t ld_le(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

static void st_le(uint8_t *p, uint64_t v, unsigned size)
{
    for (unsigned i = 0; i < size; i++) {
        p[i] = v >> (8 * i);
    }
}

static uint64_t bswap(uint64_t v, unsigned size)
{
    switch (size) {
    case 2:
        return GUINT16_SWAP_LE_BE((uint16_t)v);
    case 4:
        return GUINT32_SWAP_LE_BE((uint32_t)v);
    case 8:
        return GUINT64_SWAP_LE_BE(v);
    default:
        return v;
    }
}

/* ---- writes by the core itself: dirty bits and RAM write watchers ----
 *
 * Every write the core makes to guest RAM (as_write, as_access, DMA,
 * dma_unmap of a written mapping, as_set_dirty, migration) goes through
 * mark_dirty(), so this is the one place that tells CPU plugins their
 * translated code may be stale (host.h ram_write_watch). Watchers are
 * registered by plugins, which stay loaded for the life of the process, so
 * memory_reset() keeps them. */
#define MAX_WATCHERS 8

typedef struct ram_watcher {
    void (*cb)(void *opaque, const void *host, uint64_t len);
    void *opaque;
} ram_watcher;

static ram_watcher watchers[MAX_WATCHERS];
static bool dirty_log; /* memory_dirty_log(); read by mark_dirty() */
static unsigned n_watchers;

void memory_ram_write_watch(void (*cb)(void *opaque, const void *host, uint64_t len),
                            void *opaque)
{
    for (unsigned i = 0; i < n_watchers; i++) {
        if (watchers[i].cb == cb && watchers[i].opaque == opaque) {
            return; /* registering twice is harmless */
        }
    }
    if (!cb || n_watchers == MAX_WATCHERS) {
        core_log(TES_LOG_GUEST_ERROR, "ram_write_watch: %s", cb ? "too many watchers" : "NULL");
        return;
    }
    watchers[n_watchers].cb = cb;
    watchers[n_watchers].opaque = opaque;
    __atomic_store_n(&n_watchers, n_watchers + 1, __ATOMIC_RELEASE);
}

/* Out of line: the dirty marking that calls it stays a leaf in its callers. */
static __attribute__((noinline)) void notify_watchers(const uint8_t *host, uint64_t len)
{
    unsigned n = __atomic_load_n(&n_watchers, __ATOMIC_ACQUIRE);

    for (unsigned i = 0; i < n; i++) {
        watchers[i].cb(watchers[i].opaque, host, len);
    }
}

static inline void mark_dirty(tes_region *r, uint64_t off, uint64_t len)
{
    uint64_t first = off >> PAGE_BITS, last = (off + len - 1) >> PAGE_BITS;

    if (len == 0) {
        return;
    }
    if (r->ram && __atomic_load_n(&n_watchers, __ATOMIC_RELAXED)) {
        notify_watchers(r->ram + off, len);
    }
    /* The bits are migration's alone, and it clears them as it starts
     * logging: marking them with logging off would be work thrown away
     * (dirty marking was ~6% of a disk request's user-space instructions,
     * three to four marks a request). */
    if (!r->dirty || !__atomic_load_n(&dirty_log, __ATOMIC_RELAXED)) {
        return;
    }
    /* A bit set already stays set: a plain load spares the locked OR, the
     * dearest instruction of a disk request's user-space path (perf: 8% of
     * it at QD 32, the same pages dirtied over and over). Whoever clears
     * bits (a migration's sync) must do it under the machine lock, which
     * the devices' DMA and this marking run under, or with them stopped. */
    for (uint64_t p = first; p <= last; p++) {
        unsigned long *w = &r->dirty[p / BITS_PER_LONG], bit = 1ul << (p % BITS_PER_LONG);

        if (!(__atomic_load_n(w, __ATOMIC_RELAXED) & bit)) {
            __atomic_fetch_or(w, bit, __ATOMIC_RELAXED);
        }
    }
}

/* The callbacks at their implemented width w, in host order. */
static uint64_t io_call_read(tes_region *r, uint64_t off, unsigned w)
{
    uint64_t v;

    if (!r->ops->read) {
        return ones(w);
    }
    v = r->ops->read(r->opaque, off, w) & ones(w);
    return r->ops->endian == TES_ENDIAN_BIG ? bswap(v, w) : v;
}

static inline void io_call_write(tes_region *r, uint64_t off, uint64_t v, unsigned w)
{
    if (r->ops->write) {
        /* A doorbell write may queue many block requests: hand them to the
         * kernel in one submission when the write returns. */
        block_batch_begin();
        defer_begin(); /* and what its completions defer runs after it */
        r->ops->write(r->opaque, off, r->ops->endian == TES_ENDIAN_BIG ? bswap(v, w) : v, w);
        defer_end();
        block_batch_end();
    }
}

/* One chunk of width w at chunk offset a covering bytes [lo, hi) of the
 * access that starts at off. */
static void io_chunk(tes_region *r, uint64_t a, unsigned w, uint64_t off, uint64_t lo,
                     uint64_t hi, uint64_t *val, bool write)
{
    unsigned in_chunk = (lo - a) * 8, in_val = (lo - off) * 8;
    uint64_t mask = ones(hi - lo);

    if (write) {
        uint64_t v = ((*val >> in_val) & mask) << in_chunk;
        if (hi - lo < w) { /* narrower than the callbacks: read-modify-write */
            v |= io_call_read(r, a, w) & ~(mask << in_chunk);
        }
        io_call_write(r, a, v, w);
    } else {
        *val |= ((io_call_read(r, a, w) >> in_chunk) & mask) << in_val;
    }
}

static int io_access(tes_region *r, uint64_t off, uint64_t *val, unsigned size, bool write)
{
    const tes_mem_ops *ops = r->ops;
    unsigned vmin = r->valid_min, vmax = r->valid_max;
    unsigned w = MIN(MAX(size, r->impl_min), r->impl_max);
    uint64_t in = write ? *val : 0;

    if (!ops || size < vmin || size > vmax) {
        core_log(TES_LOG_GUEST_ERROR, "%s: invalid %u-byte %s at offset 0x%" PRIx64
                 " (valid sizes %u..%u)", r->name, size, write ? "write" : "read", off,
                 vmin, vmax);
        if (!write) {
            *val = ones(size);
        }
        return TES_MEM_UNASSIGNED;
    }
    if (!write) {
        *val = 0;
    }
    if (size == w && !(off & (w - 1))) {
        /* One aligned chunk of the callbacks' width (nearly every access:
         * a doorbell, a register): what io_chunk does for it, without the
         * shifts and masks of a partial chunk. */
        if (write) {
            io_call_write(r, off, in & ones(size), w);
        } else {
            *val = io_call_read(r, off, w) & ones(size);
        }
    } else {
        /* Chunks are aligned to their width, as a bus would present them. */
        for (uint64_t a = off & ~(uint64_t)(w - 1); a < off + size; a += w) {
            io_chunk(r, a, w, off, MAX(a, off), MIN(a + w, off + size), write ? &in : val,
                     write);
        }
    }
    if (core_log_mask & TES_LOG_MMIO) {
        core_log(TES_LOG_MMIO, "mmio: %s %s+0x%" PRIx64 " size %u = 0x%" PRIx64,
                 write ? "write" : "read ", r->name, off, size, write ? in : *val);
    }
    return TES_MEM_OK;
}

static int leaf_access(tes_region *r, uint64_t off, uint64_t *val, unsigned size, bool write)
{
    switch (r->kind) {
    case REGION_RAM:
        if (write) {
            st_le(r->ram + off, *val, size);
            mark_dirty(r, off, size);
        } else {
            *val = ld_le(r->ram + off, size);
        }
        return TES_MEM_OK;
    case REGION_ROM:
        if (write) {
            core_log(TES_LOG_GUEST_ERROR, "%s: write to ROM at offset 0x%" PRIx64 " ignored",
                     r->name, off);
        } else {
            *val = ld_le(r->ram + off, size);
        }
        return TES_MEM_OK;
    default:
        return io_access(r, off, val, size, write);
    }
}

static void log_unassigned(tes_region *as, uint64_t addr, uint64_t len, bool write)
{
    core_log(TES_LOG_GUEST_ERROR, "%s: %s of %" PRIu64 " byte(s) at unassigned address 0x%"
             PRIx64, as ? as->name : "memory", write ? "write" : "read", len, addr);
}

int as_access(tes_region *as, uint64_t addr, uint64_t *val, unsigned size, bool write)
{
    uint64_t off = 0, len = size;
    tes_region *r;

    if (size == 0 || size > 8) {
        return -EINVAL;
    }
    r = resolve_cached(as, addr, &off, &len);
    if (r && len >= size) {
        return leaf_access(r, off, val, size, write);
    }
    if (!r && len >= size) {
        log_unassigned(as, addr, size, write);
        if (!write) {
            *val = ones(size);
        }
        return TES_MEM_UNASSIGNED;
    }
    /* Straddles two regions: byte by byte, little-endian. */
    int ret = TES_MEM_OK;
    uint64_t out = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t b = write ? (*val >> (8 * i)) & 0xff : 0;
        if (as_access(as, addr + i, &b, 1, write) != TES_MEM_OK) {
            ret = TES_MEM_UNASSIGNED;
        }
        out |= (b & 0xff) << (8 * i);
    }
    if (!write) {
        *val = out;
    }
    return ret;
}

/* ---- bulk accesses ---- */

/* An I/O range in accesses of natural size and alignment. */
static int io_bulk(tes_region *r, uint64_t off, uint8_t *buf, uint64_t len, bool write)
{
    unsigned widest = r->ops && r->ops->valid_max ? MIN(r->ops->valid_max, 8) : 8;
    int ret = TES_MEM_OK;

    while (len) {
        unsigned size = widest; /* a power of two: the sizes are 1/2/4/8 */
        uint64_t v = 0;
        while (size > len || (off & (size - 1))) {
            size >>= 1;
        }
        if (write) {
            v = ld_le(buf, size);
        }
        if (io_access(r, off, &v, size, write) != TES_MEM_OK) {
            ret = TES_MEM_UNASSIGNED;
        }
        if (!write) {
            st_le(buf, v, size);
        }
        off += size;
        buf += size;
        len -= size;
    }
    return ret;
}

static int as_rw(tes_region *as, uint64_t addr, uint8_t *buf, uint64_t len, bool write)
{
    int ret = TES_MEM_OK;

    while (len) {
        uint64_t off = 0, n = len;
        tes_region *r = resolve_cached(as, addr, &off, &n);

        if (n == 0) { /* past the end of the address space */
            n = len;
            r = NULL;
        }
        if (!r) {
            log_unassigned(as, addr, n, write);
            if (!write) {
                memset(buf, 0xff, n);
            }
            ret = TES_MEM_UNASSIGNED;
        } else if (r->kind == REGION_RAM || r->kind == REGION_ROM) {
            if (!write) {
                memcpy(buf, r->ram + off, n);
            } else if (r->kind == REGION_RAM) {
                memcpy(r->ram + off, buf, n);
                mark_dirty(r, off, n);
            } else {
                core_log(TES_LOG_GUEST_ERROR, "%s: write to ROM at offset 0x%" PRIx64
                         " ignored", r->name, off);
            }
        } else if (io_bulk(r, off, buf, n, write) != TES_MEM_OK) {
            ret = TES_MEM_UNASSIGNED;
        }
        addr += n;
        buf += n;
        len -= n;
    }
    return ret;
}

int as_read(tes_region *as, uint64_t addr, void *buf, uint64_t len)
{
    return as_rw(as, addr, buf, len, false);
}

int as_write(tes_region *as, uint64_t addr, const void *buf, uint64_t len)
{
    /* as_rw only reads buf when writing. */
    return as_rw(as, addr, (uint8_t *)buf, len, true);
}

void *as_ram_ptr(tes_region *as, uint64_t addr, uint64_t *len, bool write)
{
    uint64_t off = 0, n = *len ? *len : UINT64_MAX;
    tes_region *r = resolve_cached(as, addr, &off, &n);

    if (!r || r->kind == REGION_IO || (r->kind == REGION_ROM && write)) {
        *len = 0;
        return NULL;
    }
    if (write && dirty_log && r->dirty) {
        /* Migration runs: the page is dirty from now on, and the caller
         * gets this page only, so that a soft TLB entry stands for one
         * marked page (see memory_dirty_log). */
        uint64_t p = off >> PAGE_BITS;

        __atomic_fetch_or(&r->dirty[p / BITS_PER_LONG], 1ul << (p % BITS_PER_LONG),
                          __ATOMIC_RELAXED);
        n = MIN(n, (1u << PAGE_BITS) - (off & ((1u << PAGE_BITS) - 1)));
    }
    *len = n;
    return r->ram + off;
}

/*
 * Dirty logging for live migration. CPUs write guest RAM through host
 * pointers in their soft TLBs, which the core never sees; instead, while
 * logging is on, as_ram_ptr() for a write marks the page dirty when it
 * hands the pointer out. Every sync bumps the memory generation, which
 * CPU plugins check on entry to exec() (always under the machine lock,
 * as is the sync): no write entry filled before a sync survives it, so
 * the first write to a page after each sync refills, and marks, again.
 * Off (no migration), the cost is one test of a global in a TLB miss.
 * Writes the core makes itself (DMA, as_write, as_set_dirty) are marked
 * by mark_dirty() while logging is on, and not otherwise: nothing but a
 * migration reads the bits, and live_begin() clears them before it turns
 * logging on. The CPUs' write watchers are told either way.
 */
void memory_dirty_log(bool on)
{
    __atomic_store_n(&dirty_log, on, __ATOMIC_RELAXED);
    memory_gen++;
}

uint64_t memory_dirty_sync(tes_region *r, unsigned long *into)
{
    uint64_t pages = (r->size + (1u << PAGE_BITS) - 1) >> PAGE_BITS, n = 0;

    for (uint64_t w = 0; r->dirty && w < (pages + BITS_PER_LONG - 1) / BITS_PER_LONG; w++) {
        unsigned long v = __atomic_exchange_n(&r->dirty[w], 0, __ATOMIC_RELAXED);

        if (into) {
            into[w] |= v;
        }
        n += __builtin_popcountl(v);
    }
    memory_gen++;
    return n;
}

void as_set_dirty(tes_region *as, uint64_t addr, uint64_t len)
{
    while (len) {
        uint64_t off = 0, n = len;
        tes_region *r = resolve_cached(as, addr, &off, &n);

        if (n == 0) {
            return;
        }
        if (r && r->kind == REGION_RAM) {
            mark_dirty(r, off, n);
        }
        addr += n;
        len -= n;
    }
}

/* ---- RAM regions by host pointer (dma_unmap) ---- */

static void set_dirty_ptr_slow(const uint8_t *b, uint64_t len);

void memory_set_dirty_ptr(const void *p, uint64_t len)
{
    const uint8_t *b = p;
    tes_region *r;

    /* Nobody to tell: no migration logs and no CPU watches its code
     * (the harness; a machine's CPU plugins register watchers). */
    if (!__atomic_load_n(&dirty_log, __ATOMIC_RELAXED) &&
        !__atomic_load_n(&n_watchers, __ATOMIC_RELAXED)) {
        return;
    }
    r = __atomic_load_n(&last_dirty_ptr, __ATOMIC_RELAXED);
    /* The region of the last call first: a device's DMA is nearly always
     * into main RAM, which may sit anywhere in the list. The list walk is
     * out of line: this hit path then needs no saved registers (three
     * calls a virtio request, callgrind: ~20 instructions each of the 60). */
    if (__builtin_expect(r && b >= r->ram && (uint64_t)(b - r->ram) < r->size, 1)) {
        mark_dirty(r, b - r->ram, MIN(len, r->size - (b - r->ram)));
        return;
    }
    set_dirty_ptr_slow(b, len);
}

static __attribute__((noinline)) void set_dirty_ptr_slow(const uint8_t *b, uint64_t len)
{
    tes_region *r;

    for (guint i = 0; ram_list && i < ram_list->len; i++) {
        r = g_ptr_array_index(ram_list, i);
        if (b >= r->ram && (uint64_t)(b - r->ram) < r->size) {
            uint64_t off = b - r->ram;
            __atomic_store_n(&last_dirty_ptr, r, __ATOMIC_RELAXED);
            mark_dirty(r, off, MIN(len, r->size - off));
            return;
        }
    }
}

/* ---- info mtree and migration walks ---- */

static uint64_t last_byte(uint64_t base, uint64_t size)
{
    /* The 2^64 root is stored as UINT64_MAX: show it as ffff...ffff. */
    return size == UINT64_MAX ? UINT64_MAX : base + size - 1;
}

static void mtree_region(GString *out, tes_region *r, uint64_t base, int depth)
{
    uint64_t start = base + r->addr;

    g_string_append_printf(out, "%*s%016" PRIx64 "-%016" PRIx64 " (prio %d, %s): ",
                           depth * 2, "", start, last_byte(start, r->size), r->priority,
                           kind_name[r->kind]);
    if (r->kind == REGION_ALIAS) {
        g_string_append_printf(out, "alias %s @%s %016" PRIx64 "-%016" PRIx64, r->name,
                               r->alias ? r->alias->name : "(none)", r->alias_offset,
                               last_byte(r->alias_offset, r->size));
    } else {
        g_string_append(out, r->name);
    }
    g_string_append(out, r->enabled ? "\n" : " [disabled]\n");
    if (r->kind == REGION_CONTAINER && depth < MAX_DEPTH) {
        for (guint i = 0; i < r->subregions->len; i++) {
            mtree_region(out, g_ptr_array_index(r->subregions, i), start, depth + 1);
        }
    }
}

void mtree_print(GString *out)
{
    g_string_append(out, "address-space: memory\n");
    mtree_region(out, memory_system(), 0, 1);
    g_string_append(out, "\naddress-space: I/O\n");
    mtree_region(out, memory_io(), 0, 1);
}

/* info mtree -f: the leaves an access reaches, range by range (QEMU's
 * FlatView), found with resolve() so the view is what the guest gets. */
static void flat_print(GString *out, const char *as_name, tes_region *as)
{
    uint64_t addr = 0;

    g_string_append_printf(out, "FlatView #%d\n AS \"%s\", root: %s\n Root memory region: %s\n",
                           as == memory_io(), as_name, as->name, as->name);
    while (addr < as->size) {
        uint64_t off = 0, len = as->size - addr, start = addr;
        tes_region *leaf = resolve(as, addr, &off, &len);

        if (len == 0) {
            break;
        }
        addr += len;
        if (leaf) {
            g_string_append_printf(out, "  %016" PRIx64 "-%016" PRIx64 " (prio %d, %s): %s",
                                   start, start + len - 1, leaf->priority,
                                   kind_name[leaf->kind], leaf->name);
            if (off) {
                g_string_append_printf(out, " @%016" PRIx64, off);
            }
            g_string_append_c(out, '\n');
        }
        if (addr < start) {
            break; /* wrapped past 2^64 */
        }
    }
}

void mtree_print_flat(GString *out)
{
    flat_print(out, "memory", memory_system());
    g_string_append_c(out, '\n');
    flat_print(out, "I/O", memory_io());
}

static void ram_walk(tes_region *r, GHashTable *seen, int depth,
                     void (*fn)(tes_region *r, void *opaque), void *opaque)
{
    if (!r || depth > MAX_DEPTH || !g_hash_table_add(seen, r)) {
        return;
    }
    if (r->kind == REGION_RAM || r->kind == REGION_ROM) {
        fn(r, opaque);
    } else if (r->kind == REGION_ALIAS) {
        ram_walk(r->alias, seen, depth + 1, fn, opaque);
    } else if (r->kind == REGION_CONTAINER) {
        for (guint i = 0; i < r->subregions->len; i++) {
            ram_walk(g_ptr_array_index(r->subregions, i), seen, depth + 1, fn, opaque);
        }
    }
}

/* RAM and ROM (QEMU migrates ROM contents too), mapped or disabled alike:
 * a disabled window may be enabled again on the destination. */
void memory_foreach_ram(void (*fn)(tes_region *r, void *opaque), void *opaque)
{
    GHashTable *seen = g_hash_table_new(NULL, NULL);

    ram_walk(memory_system(), seen, 0, fn, opaque);
    g_hash_table_destroy(seen);
}
