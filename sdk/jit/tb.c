/*
 * tessera JIT: the block cache. Blocks are found through a per-vCPU jump
 * cache (indexed by pc, no lock) backed by one hash table keyed by
 * tes_jit_key. Every block is also on the list of each host page its
 * guest code touches, so that a write to a page finds the blocks to drop.
 *
 * Chaining patches an exit's jmp rel32 to the next block's entry and puts
 * the exit on that block's incoming list; dropping a block walks the list
 * and points each of those jumps back at its own return stub, so nothing
 * can enter a dropped block. Dropped blocks keep their code and struct
 * until the next flush (a vCPU may still be running one, a frontend may
 * still hold its pointer); their struct lives one flush longer still, so
 * that a pointer held across a flush meets valid == false, not freed
 * memory.
 */
#include "jit-internal.h"

#include <inttypes.h>

#define HOST_PAGE_BITS 12

static uint32_t key_hash(const tes_jit_key *k)
{
    uint64_t h = k->pc * 0x9e3779b97f4a7c15ull;

    h ^= (k->flags + 0x632be59bd9b4e019ull) * 0xc2b2ae3d27d4eb4full;
    h ^= (uint64_t)(uintptr_t)k->host * 0x165667b19e3779f9ull;
    return (uint32_t)(h >> 32);
}

static bool key_eq(const tes_jit_key *a, const tes_jit_key *b)
{
    return a->pc == b->pc && a->flags == b->flags && a->host == b->host;
}

/* ---- the hash of blocks ---- */

static tes_jit_tb **bucket(const tes_jit *j, const tes_jit_key *k)
{
    return &j->hash[key_hash(k) & (j->hash_size - 1)];
}

/* Under the lock. The block is complete before the release store makes
 * it visible to lock-free readers. */
static void hash_insert(tes_jit *j, tes_jit_tb *tb)
{
    tes_jit_tb **b = bucket(j, &tb->key);

    tb->hash_next = *b;
    __atomic_store_n(b, tb, __ATOMIC_RELEASE);
}

/* Under the lock. tb keeps its hash_next: a reader standing on it goes on
 * to the rest of the chain. */
static void hash_remove(tes_jit *j, tes_jit_tb *tb)
{
    tes_jit_tb **p = bucket(j, &tb->key);

    while (*p && *p != tb) {
        p = &(*p)->hash_next;
    }
    if (*p) {
        __atomic_store_n(p, tb->hash_next, __ATOMIC_RELEASE);
    }
}

/* Lock-free: a block published before the call is found unless it was
 * dropped; one inserted meanwhile may be missed (the caller then
 * translates, or retries under the lock). */
static tes_jit_tb *hash_find(tes_jit *j, const tes_jit_key *k)
{
    tes_jit_tb *tb = __atomic_load_n(bucket(j, k), __ATOMIC_ACQUIRE);

    for (; tb; tb = __atomic_load_n(&tb->hash_next, __ATOMIC_ACQUIRE)) {
        if (key_eq(&tb->key, k) && __atomic_load_n(&tb->valid, __ATOMIC_ACQUIRE)) {
            return tb;
        }
    }
    return NULL;
}

/* ---- the per-page index ---- */

static page_desc **page_slot(tes_jit *j, uintptr_t page)
{
    uint32_t h = (uint32_t)((page >> HOST_PAGE_BITS) * 0x9e3779b1u) & (j->pages_size - 1);
    page_desc **p = &j->pages[h];

    while (*p && (*p)->page != page) {
        p = &(*p)->next;
    }
    return p;
}

static void pages_resize(tes_jit *j)
{
    page_desc **old = j->pages;
    uint32_t n = j->pages_size;

    j->pages_size = n * 2;
    j->pages = jit_alloc(j->pages_size * sizeof(*j->pages));
    for (uint32_t i = 0; i < n; i++) {
        page_desc *pd = old[i], *next;

        for (; pd; pd = next) {
            page_desc **p = page_slot(j, pd->page);

            next = pd->next;
            pd->next = NULL;
            *p = pd;
        }
    }
    free(old);
}

static void page_add(tes_jit *j, tes_jit_tb *tb, uint32_t i, uintptr_t page)
{
    page_desc **p = page_slot(j, page);
    page_node *n = &tb->pages[i];

    if (!*p) {
        *p = jit_alloc(sizeof(page_desc));
        (*p)->page = page;
        if (j->cfg.protect_page) {
            j->cfg.protect_page(j->cfg.opaque, (const void *)page);
        }
        if (++j->pages_count > j->pages_size) {
            pages_resize(j);
            p = page_slot(j, page);
        }
    }
    n->tb = tb;
    n->next = (*p)->head;
    n->pprev = &(*p)->head;
    if (n->next) {
        n->next->pprev = &n->next;
    }
    (*p)->head = n;
}

static void page_remove(tes_jit *j, page_node *n, uintptr_t page)
{
    page_desc **p;
    page_desc *pd;

    *n->pprev = n->next;
    if (n->next) {
        n->next->pprev = n->pprev;
    }
    p = page_slot(j, page);
    pd = *p;
    if (pd && !pd->head) {
        *p = pd->next;
        free(pd);
        j->pages_count--;
    }
}

static uintptr_t tb_page(const tes_jit_tb *tb, uint32_t i)
{
    return ((uintptr_t)tb->host >> HOST_PAGE_BITS << HOST_PAGE_BITS) +
           ((uintptr_t)i << HOST_PAGE_BITS);
}

/* ---- chaining ---- */

static void patch_jump(tes_jit *j, tes_jit_tb *from, unsigned slot, const uint8_t *target)
{
    uint8_t *at = from->code + from->jmp_off[slot];
    int32_t rel = (int32_t)(target - (at + 4));

    /* 4-byte aligned (gen_exit): one store, seen whole by other threads. */
    __atomic_store_n((int32_t *)jit_rw_of(j, at), rel, __ATOMIC_RELEASE);
}

static void unchain(tes_jit *j, tes_jit_tb *from, unsigned slot)
{
    tes_jit_tb *dest = from->jmp_dest[slot];
    uintptr_t me = (uintptr_t)from | slot;
    uintptr_t *p;

    if (!dest) {
        return;
    }
    patch_jump(j, from, slot, from->code + from->stub_off[slot]);
    for (p = &dest->jmp_in; *p; p = &tes_jit_ret_tb(*p)->jmp_next[tes_jit_ret_slot(*p)]) {
        if (*p == me) {
            *p = from->jmp_next[slot];
            break;
        }
    }
    from->jmp_dest[slot] = NULL;
    from->jmp_next[slot] = 0;
}

void tes_jit_chain(tes_jit *j, tes_jit_tb *from, unsigned slot, tes_jit_tb *to)
{
    pthread_mutex_lock(&j->lock);
    if (from && to && slot < 2 && from->valid && to->valid && from->jmp_off[slot] &&
        !from->jmp_dest[slot]) {
        patch_jump(j, from, slot, to->code);
        from->jmp_dest[slot] = to;
        from->jmp_next[slot] = to->jmp_in;
        to->jmp_in = (uintptr_t)from | slot;
        j->st.chained++;
    }
    pthread_mutex_unlock(&j->lock);
}

/* ---- dropping blocks ---- */

static void tb_drop(tes_jit *j, tes_jit_tb *tb)
{
    /* read without the lock by tes_jit_find on other threads */
    __atomic_store_n(&tb->valid, false, __ATOMIC_RELEASE);
    hash_remove(j, tb);
    /* Pairs with jc_fill's fence: either the filler sees valid == false
     * or this sees its entry. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    for (tes_jit_jc *jc = j->jcs; jc; jc = jc->next) {
        jc_entry *e = &jc->e[jit_jc_index(tb->key.pc)];

        /* A vCPU racing with this may still enter tb once, as it might
         * have been running it anyway. */
        if (__atomic_load_n(&e->tb, __ATOMIC_RELAXED) == tb) {
            __atomic_store_n(&e->tag, 0, __ATOMIC_RELAXED);
        }
    }
    while (tb->jmp_in) {
        tes_jit_tb *src = tes_jit_ret_tb(tb->jmp_in);

        unchain(j, src, tes_jit_ret_slot(tb->jmp_in));
    }
    unchain(j, tb, 0);
    unchain(j, tb, 1);
    for (uint32_t i = 0; i < tb->npages; i++) {
        page_remove(j, &tb->pages[i], tb_page(tb, i));
    }
    tb->npages = 0;
    j->st.invalidated++;
    j->st.tbs--;
}

static void free_list(tes_jit_tb *tb)
{
    while (tb) {
        tes_jit_tb *next = tb->all_next;

        free(tb->pages);
        free(tb);
        tb = next;
    }
}

/* Flush, or (final) free every block for tes_jit_free: then the hash
 * table, about to be freed itself, is not cleared (a megabyte of memset
 * per vCPU that each harness test case paid, most of an x86 JIT
 * instruction test's time under ASan). */
static void flush(tes_jit *j, bool final)
{
    free_list(j->zombie);
    if (final) {
        free_list(j->all);
        j->zombie = NULL;
    } else {
        j->zombie = j->all;
        for (tes_jit_tb *tb = j->all; tb; tb = tb->all_next) {
            __atomic_store_n(&tb->valid, false, __ATOMIC_RELEASE);
            tb->jmp_in = 0;
            tb->jmp_dest[0] = tb->jmp_dest[1] = NULL;
        }
    }
    j->all = NULL;
    if (!final) {
        memset(j->hash, 0, j->hash_size * sizeof(*j->hash));
    }
    for (uint32_t i = 0; i < j->pages_size; i++) {
        while (j->pages[i]) {
            page_desc *pd = j->pages[i];

            j->pages[i] = pd->next;
            free(pd);
        }
    }
    j->pages_count = 0;
    for (tes_jit_jc *jc = j->jcs; jc; jc = jc->next) {
        memset(jc->e, 0, sizeof(jc->e));
        memset(jc->e2, 0, sizeof(jc->e2));
    }
    j->used = j->head_len;
    j->st.tbs = 0;
    j->st.flushes++;
}

void jit_flush_locked(tes_jit *j)
{
    flush(j, false);
}

void jit_free_blocks_locked(tes_jit *j)
{
    flush(j, true);
}

void tes_jit_flush(tes_jit *j)
{
    pthread_mutex_lock(&j->lock);
    jit_flush_locked(j);
    pthread_mutex_unlock(&j->lock);
}

/* Drop the blocks of one host page that overlap [lo, hi). */
static void invalidate_page(tes_jit *j, uintptr_t page, uintptr_t lo, uintptr_t hi)
{
    page_desc *pd = *page_slot(j, page);
    page_node *n = pd ? pd->head : NULL;

    while (n) {
        page_node *next = n->next; /* another block's: survives the drop */
        tes_jit_tb *tb = n->tb;
        uintptr_t s = (uintptr_t)tb->host;

        if (s < hi && lo < s + tb->len) {
            tb_drop(j, tb); /* may free pd when the page empties */
        }
        n = next;
    }
}

void tes_jit_invalidate(tes_jit *j, const void *host, size_t len)
{
    uintptr_t lo = (uintptr_t)host, hi = lo + len;
    uintptr_t first = lo >> HOST_PAGE_BITS << HOST_PAGE_BITS;

    if (!len) {
        return;
    }
    pthread_mutex_lock(&j->lock);
    if (len >> HOST_PAGE_BITS <= j->pages_count) {
        for (uintptr_t page = first; page < hi; page += 1u << HOST_PAGE_BITS) {
            invalidate_page(j, page, lo, hi);
        }
    } else {
        /* A write larger than all code pages together (DMA, a loader):
         * visit the code pages instead of the written ones. */
        uint32_t n = 0, cap = j->pages_count;
        uintptr_t *hit = jit_alloc((cap + 1) * sizeof(*hit));

        for (uint32_t i = 0; i < j->pages_size; i++) {
            for (page_desc *pd = j->pages[i]; pd; pd = pd->next) {
                if (pd->page >= first && pd->page < hi && n < cap) {
                    hit[n++] = pd->page;
                }
            }
        }
        for (uint32_t i = 0; i < n; i++) {
            invalidate_page(j, hit[i], lo, hi);
        }
        free(hit);
    }
    pthread_mutex_unlock(&j->lock);
}

bool tes_jit_page_has_code(tes_jit *j, const void *host_page)
{
    uintptr_t page = (uintptr_t)host_page >> HOST_PAGE_BITS << HOST_PAGE_BITS;
    bool r;

    pthread_mutex_lock(&j->lock);
    r = *page_slot(j, page) != NULL;
    pthread_mutex_unlock(&j->lock);
    return r;
}

/* ---- adding blocks ---- */

void jit_tb_insert(tes_jit *j, tes_jit_tb *tb)
{
    uintptr_t first = (uintptr_t)tb->host >> HOST_PAGE_BITS;
    uintptr_t last = ((uintptr_t)tb->host + (tb->len ? tb->len - 1 : 0)) >> HOST_PAGE_BITS;

    hash_insert(j, tb);
    tb->npages = tb->host ? (uint32_t)(last - first + 1) : 0;
    tb->pages = jit_alloc((tb->npages + 1) * sizeof(page_node));
    for (uint32_t i = 0; i < tb->npages; i++) {
        page_add(j, tb, i, tb_page(tb, i));
    }
    tb->all_next = j->all;
    j->all = tb;
    j->st.tbs++;
    j->st.translated++;
}

/* ---- finding blocks ---- */

tes_jit_jc *tes_jit_jc_new(tes_jit *j)
{
    tes_jit_jc *jc = jit_alloc(sizeof(*jc));

    jc->j = j;
    jc->gtag = 1ull << 32;
    pthread_mutex_lock(&j->lock);
    jc->next = j->jcs;
    j->jcs = jc;
    pthread_mutex_unlock(&j->lock);
    return jc;
}

void tes_jit_jc_free(tes_jit_jc *jc)
{
    tes_jit *j;

    if (!jc) {
        return;
    }
    j = jc->j;
    if (j) {
        pthread_mutex_lock(&j->lock);
        for (tes_jit_jc **p = &j->jcs; *p; p = &(*p)->next) {
            if (*p == jc) {
                *p = jc->next;
                break;
            }
        }
        pthread_mutex_unlock(&j->lock);
    }
    free(jc);
}

/* Called by the vCPU that owns jc only (it alone fills and probes it). */
void tes_jit_jc_clear(tes_jit_jc *jc)
{
    uint64_t gtag = jc->gtag + (1ull << 32);

    if (!gtag) {
        /* 2^32 clears: wrap to generation 1 over an empty cache */
        for (uint32_t i = 0; i < JC_SIZE; i++) {
            __atomic_store_n(&jc->e[i].tag, 0, __ATOMIC_RELAXED);
        }
        gtag = 1ull << 32;
    }
    __atomic_store_n(&jc->gtag, gtag, __ATOMIC_RELAXED);
}

/* The whole cache: entries are placed by the one-to-one index, not by
 * page, and finding one page's entries would cost more than refilling
 * from e2. Kept as its own call so that frontends say what they mean. */
void tes_jit_jc_clear_page(tes_jit_jc *jc, uint64_t va)
{
    (void)va;
    tes_jit_jc_clear(jc);
}

static void jc_fill(tes_jit_jc *jc, jc_entry *e, tes_jit_tb *tb)
{
    if (tb->key.flags > JC_FLAGS_MAX) {
        return;
    }
    __atomic_store_n(&e->tag, 0, __ATOMIC_RELAXED);
    e->pc = tb->key.pc;
    e->code = tb->code;
    __atomic_store_n(&e->tb, tb, __ATOMIC_RELAXED);
    __atomic_store_n(&e->tag, tb->key.flags | jc->gtag, __ATOMIC_RELEASE);
    /* Pairs with tb_drop's fence (a drop on another thread). */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!__atomic_load_n(&tb->valid, __ATOMIC_RELAXED)) {
        __atomic_store_n(&e->tag, 0, __ATOMIC_RELAXED);
    }
}

/* A hit needs neither the lock nor the hash; the host address is still
 * compared (the block's struct, one line) since the caller has it. */
tes_jit_tb *tes_jit_find(tes_jit *j, tes_jit_jc *jc, const tes_jit_key *k)
{
    jc_entry *e = NULL;
    tes_jit_tb *tb;

    if (jc) {
        e = &jc->e[jit_jc_index(k->pc)];
        tb = e->tb;
        if (e->pc == k->pc && __atomic_load_n(&e->tag, __ATOMIC_ACQUIRE) == (k->flags | jc->gtag) &&
            tb->key.host == k->host) {
            return tb;
        }
    }
    if (jc) {
        tb = jc->e2[jit_jc2_index(k->pc)];
        if (tb && key_eq(&tb->key, k) && __atomic_load_n(&tb->valid, __ATOMIC_ACQUIRE)) {
            jc_fill(jc, e, tb);
            return tb;
        }
    }
    tb = hash_find(j, k);
    if (!tb) {
        /* a block inserted while we looked: the lock orders us after it */
        pthread_mutex_lock(&j->lock);
        tb = hash_find(j, k);
        pthread_mutex_unlock(&j->lock);
    }
    if (tb && e) {
        jc->e2[jit_jc2_index(k->pc)] = tb;
        jc_fill(jc, e, tb);
    }
    return tb;
}

const void *tes_jit_find_code(tes_jit *j, tes_jit_jc *jc, const tes_jit_key *k)
{
    tes_jit_tb *tb = tes_jit_find(j, jc, k);

    return tb ? tb->code : NULL;
}

const void *tes_jit_jc_lookup(tes_jit_jc *jc, uint64_t pc, uint64_t flags)
{
    const jc_entry *e = &jc->e[jit_jc_index(pc)];

    if (e->pc == pc && __atomic_load_n(&e->tag, __ATOMIC_ACQUIRE) == (flags | jc->gtag)) {
        return e->code;
    }
    return NULL;
}

uintptr_t tes_jit_exec(tes_jit *j, void *env, tes_jit_tb *tb)
{
    /* A dropped block still runs (its code lives until the next flush). */
    return tb ? j->entry(env, tb->code) : TES_JIT_RET_OTHER;
}

uint32_t tes_jit_tb_ninsns(const tes_jit_tb *tb)
{
    return tb->ninsns;
}

uint64_t tes_jit_tb_pc(const tes_jit_tb *tb)
{
    return tb->key.pc;
}

void tes_jit_get_stats(tes_jit *j, tes_jit_stats *st)
{
    pthread_mutex_lock(&j->lock);
    *st = j->st;
    st->code_used = j->used;
    st->code_size = j->size;
    pthread_mutex_unlock(&j->lock);
}
