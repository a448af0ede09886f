/*
 * cpu-x86: linear to physical translation (SDM Vol. 3, chapter 4) and the
 * soft TLB every guest access goes through; segment:offset to linear
 * (x86_seg_addr) and port I/O.
 *
 * Paging modes: none (CR0.PG = 0, A20 always on), 32-bit (4K and 4M PSE
 * pages with PSE-36), PAE (PDPTEs read at walk time rather than latched on
 * the CR3 write) and 4-level (4K, 2M, 1G). MAXPHYADDR is 40 (CPUID
 * 0x80000008): entry bits 51:40 are reserved, as is XD without EFER.NXE.
 *
 * The TLB holds, per kind (read, write, fetch) and privilege (user =
 * CPL 3), the host pointer of a RAM page, or its physical address for
 * MMIO (host = NULL: H->as_read/as_write with the access size, so the
 * LAPIC and IOAPIC see their 4-byte accesses). An entry is filled only
 * once the access was permitted and the accessed (and, for writes, dirty)
 * bits were set in the tables, so a hit needs no check. Large pages fill
 * 4K entries; INVLPG of an address inside one flushes everything.
 */
#include "x86sys.h"

enum { AK_READ, AK_WRITE, AK_EXEC };

#define PAGE_MASK 0xfffull
#define PHYS_BITS 40
#define PHYS_MASK ((1ull << PHYS_BITS) - 1)
#define ADDR_MASK (PHYS_MASK & ~PAGE_MASK)
#define RSVD_HI (0x000fffffffffffffull & ~PHYS_MASK) /* bits 51:40 */
#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_XD (1ull << 63)

/* #PF error code (SDM 4.7) */
#define PF_P 1u
#define PF_W 2u
#define PF_U 4u
#define PF_RSVD 8u
#define PF_ID 16u

typedef struct xlate {
    uint64_t pa;
    bool global;
    bool large;
    uint32_t err; /* #PF error code when the walk fails */
} xlate;

/* ---- page table entries in guest physical memory ---- */

static uint64_t pte_read(uint64_t pa, unsigned size)
{
    uint64_t v = 0, len = 0;
    uint8_t *p = H->as_ram_ptr(H->system_memory(), pa, &len, false);

    if (p && len >= size) {
        memcpy(&v, p, size);
    } else {
        H->as_read(H->system_memory(), pa, &v, size);
    }
    return v;
}

static void pte_write(uint64_t pa, uint64_t v, unsigned size)
{
    H->as_write(H->system_memory(), pa, &v, size);
}

/* Accessed/dirty update: plain read-modify-write is atomic enough, as
 * vCPUs run one at a time under the machine lock. */
static void pte_set_bits(uint64_t pa, uint64_t old, uint64_t bits, unsigned size)
{
    if ((old & bits) != bits) {
        pte_write(pa, old | bits, size);
    }
}

/* ---- the walks ---- */

typedef struct walk_ctx {
    uint64_t pte_pa[4];
    uint64_t pte[4];
    unsigned n;
    unsigned size; /* entry size: 4 or 8 */
    bool rw, us, xd;
} walk_ctx;

static bool step(walk_ctx *w, uint64_t pa, uint64_t rsvd, xlate *x)
{
    uint64_t e = pte_read(pa, w->size);

    w->pte_pa[w->n] = pa;
    w->pte[w->n++] = e;
    if (!(e & PTE_P)) {
        return false;
    }
    if (e & rsvd) {
        x->err |= PF_RSVD | PF_P;
        return false;
    }
    w->rw &= (e & PTE_RW) != 0;
    w->us &= (e & PTE_US) != 0;
    w->xd |= w->size == 8 && (e & PTE_XD);
    return true;
}

static uint64_t rsvd_bits(x86_cpu *c)
{
    return RSVD_HI | ((c->efer & EFER_NXE) ? 0 : PTE_XD);
}

/* 4-level paging (SDM 4.5). */
static bool walk_long(x86_cpu *c, uint64_t la, walk_ctx *w, xlate *x, unsigned *shift)
{
    uint64_t rsvd = rsvd_bits(c), table = c->cr3 & ADDR_MASK;

    for (int level = 3; level >= 0; level--) {
        unsigned sh = 12 + 9 * level;
        uint64_t r = rsvd | (level == 3 ? PTE_PS : 0);
        uint64_t e;

        /* PS in a PDPTE (1G) or PDE (2M): bits 12 .. sh-1 are reserved but bit 12 (PAT). */
        if (!step(w, table + ((la >> sh) & 511) * 8, r, x)) {
            return false;
        }
        e = w->pte[w->n - 1];
        if (level == 0 || ((level == 1 || level == 2) && (e & PTE_PS))) {
            if (level > 0 && (e & (((1ull << sh) - 1) & ~0x1fffull))) {
                x->err |= PF_RSVD | PF_P;
                return false;
            }
            *shift = sh;
            return true;
        }
        table = e & ADDR_MASK;
    }
    return false;
}

/* PAE paging (SDM 4.4): PDPTE, PD, PT, 8-byte entries. */
static bool walk_pae(x86_cpu *c, uint64_t la, walk_ctx *w, xlate *x, unsigned *shift)
{
    uint64_t rsvd = rsvd_bits(c);
    uint64_t pdpte_pa = (c->cr3 & 0xffffffe0ull) + ((la >> 30) & 3) * 8;
    uint64_t e;

    /* PDPTEs carry no R/W, U/S or XD: bits 1,2,5..8 and 63 are reserved. */
    if (!step(w, pdpte_pa, RSVD_HI | 0x1e6ull | PTE_XD, x)) {
        return false;
    }
    w->rw = w->us = true;
    if (!step(w, (w->pte[0] & ADDR_MASK) + ((la >> 21) & 511) * 8, rsvd, x)) {
        return false;
    }
    e = w->pte[1];
    if (e & PTE_PS) {
        if (e & 0x1fe000ull) {
            x->err |= PF_RSVD | PF_P;
            return false;
        }
        *shift = 21;
        return true;
    }
    *shift = 12;
    return step(w, (e & ADDR_MASK) + ((la >> 12) & 511) * 8, rsvd, x);
}

/* 32-bit paging (SDM 4.3), 4M pages with CR4.PSE and PSE-36. */
static bool walk_32(x86_cpu *c, uint64_t la, walk_ctx *w, xlate *x, unsigned *shift)
{
    uint64_t e;

    if (!step(w, (c->cr3 & 0xfffff000ull) + ((la >> 22) & 1023) * 4, 0, x)) {
        return false;
    }
    e = w->pte[0];
    if ((e & PTE_PS) && (c->cr4 & CR4_PSE)) {
        if (e & (1ull << 21)) {
            x->err |= PF_RSVD | PF_P;
            return false;
        }
        *shift = 22;
        return true;
    }
    *shift = 12;
    return step(w, (e & 0xfffff000ull) + ((la >> 12) & 1023) * 4, 0, x);
}

/* Physical address of the leaf's frame at la (4M PSE-36 frames hold PA
 * bits 39:32 in PDE bits 20:13). */
static uint64_t leaf_pa(const walk_ctx *w, uint64_t la, unsigned shift)
{
    uint64_t e = w->pte[w->n - 1], span = (1ull << shift) - 1;

    if (w->size == 4 && shift == 22) {
        return (e & 0xffc00000ull) | (((e >> 13) & 0xff) << 32) | (la & span);
    }
    return (e & ADDR_MASK & ~span) | (la & span);
}

static bool permitted(x86_cpu *c, const walk_ctx *w, int kind, bool user)
{
    if (user && !w->us) {
        return false;
    }
    if (kind == AK_WRITE && !w->rw && (user || (c->cr0 & CR0_WP))) {
        return false;
    }
    return !(kind == AK_EXEC && w->xd);
}

static bool walk(x86_cpu *c, uint64_t la, int kind, bool user, xlate *x)
{
    walk_ctx w = { .n = 0, .size = 8, .rw = true, .us = true, .xd = false };
    unsigned shift = 12;
    bool ok;

    x->err = (kind == AK_WRITE ? PF_W : 0) | (user ? PF_U : 0);
    if (kind == AK_EXEC && (c->cr4 & CR4_PAE) && (c->efer & EFER_NXE)) {
        x->err |= PF_ID;
    }
    if (c->efer & EFER_LMA) {
        ok = walk_long(c, la, &w, x, &shift);
    } else if (c->cr4 & CR4_PAE) {
        ok = walk_pae(c, la, &w, x, &shift);
    } else {
        w.size = 4;
        ok = walk_32(c, la, &w, x, &shift);
    }
    if (!ok) {
        return false;
    }
    if (!permitted(c, &w, kind, user)) {
        x->err |= PF_P;
        return false;
    }
    /* Accessed on every level, dirty on the leaf for writes (SDM 4.8);
     * legacy PAE PDPTEs have no accessed bit. */
    for (unsigned i = 0; i < w.n; i++) {
        bool pdpte = w.size == 8 && !(c->efer & EFER_LMA) && i == 0;
        uint64_t bits = pdpte ? 0 : PTE_A | (i == w.n - 1 && kind == AK_WRITE ? PTE_D : 0);

        pte_set_bits(w.pte_pa[i], w.pte[i], bits, w.size);
    }
    x->pa = leaf_pa(&w, la, shift);
    x->global = (c->cr4 & CR4_PGE) && (w.pte[w.n - 1] & PTE_G);
    x->large = shift > 12;
    return true;
}

static bool translate(x86_cpu *c, uint64_t la, int kind, bool user, xlate *x)
{
    x->global = false;
    x->large = false;
    if (!(c->cr0 & CR0_PG)) {
        x->pa = la & 0xffffffffull;
        return true;
    }
    return walk(c, la, kind, user, x);
}

/* ---- the soft TLB ---- */

static x86_tlb_entry *tlb_of(x86_cpu *c, int kind, bool user, uint64_t la)
{
    unsigned i = (la >> 12) & (X86_TLB_SIZE - 1);

    if (kind == AK_READ) {
        return &c->tlb_r[user][i];
    }
    return kind == AK_WRITE ? &c->tlb_w[user][i] : &c->tlb_x[user][i];
}

static void flush_array(x86_tlb_entry *t, unsigned n, bool keep_global)
{
    for (unsigned i = 0; i < n; i++) {
        if (!keep_global || !(t[i].pa & X86_TLB_GLOBAL)) {
            t[i].va_tag = 0;
        }
    }
}

void x86_tlb_flush(x86_cpu *c, bool keep_global)
{
    if (!keep_global) {
        memset(c->tlb_r, 0, sizeof(c->tlb_r));
        memset(c->tlb_w, 0, sizeof(c->tlb_w));
        memset(c->tlb_x, 0, sizeof(c->tlb_x));
    } else {
        flush_array(&c->tlb_r[0][0], 2 * X86_TLB_SIZE, true);
        flush_array(&c->tlb_w[0][0], 2 * X86_TLB_SIZE, true);
        flush_array(&c->tlb_x[0][0], 2 * X86_TLB_SIZE, true);
    }
    c->tlb_large = false;
    c->tlb_gen = H->memory_generation();
    x86_jit_tlb_flushed(c);
}

void x86_tlb_flush_page(x86_cpu *c, uint64_t la)
{
    if (c->tlb_large) {
        /* A large page's 4K entries are scattered over the TLB. */
        x86_tlb_flush(c, false);
        return;
    }
    for (int user = 0; user < 2; user++) {
        for (int kind = AK_READ; kind <= AK_EXEC; kind++) {
            x86_tlb_entry *e = tlb_of(c, kind, user, la);

            if (e->va_tag == ((la & ~PAGE_MASK) | 1)) {
                e->va_tag = 0;
            }
        }
    }
    x86_jit_tlb_flushed_page(c, la);
}

static void tlb_fill(x86_cpu *c, x86_tlb_entry *e, uint64_t la, int kind, const xlate *x)
{
    uint64_t pa_page = x->pa & ~PAGE_MASK, len = 0;
    uint8_t *host = H->as_ram_ptr(H->system_memory(), pa_page, &len, kind == AK_WRITE);

    e->va_tag = (la & ~PAGE_MASK) | 1;
    e->host = host && len >= 4096 ? host : NULL;
    e->ram = e->host;
    /* Stores to translated code must reach x86_jit_code_written(). */
    if (kind == AK_WRITE && e->host && x86_jit_page_has_code(e->host)) {
        e->host = NULL;
    }
    /* A watched page: no host pointer, so every access comes to access()
     * (debug.c); the core's as_write then tells the translator too. */
    if (kind != AK_EXEC && c->gdb.nwp && gdb_wp_in_page(&c->gdb, la)) {
        e->host = NULL;
        e->ram = NULL;
    }
    e->pa = pa_page | (x->global ? X86_TLB_GLOBAL : 0);
    c->tlb_large |= x->large;
}

static void page_fault(x86_cpu *c, uint64_t la, uint32_t err)
{
    c->cr2 = la;
    x86_exception(c, EXC_PF, true, err);
}

/* The entry for la's page, translating on a miss; NULL once a #PF was
 * delivered. */
static x86_tlb_entry *tlb_get(x86_cpu *c, uint64_t la, int kind, bool user)
{
    x86_tlb_entry *e = tlb_of(c, kind, user, la);
    xlate x;

    if (e->va_tag == ((la & ~PAGE_MASK) | 1)) {
        return e;
    }
    x86_tlb_check_gen(c); /* host pointers of the old map must not be refilled beside new ones */
    if (!translate(c, la, kind, user, &x)) {
        page_fault(c, la, x.err);
        return NULL;
    }
    tlb_fill(c, e, la, kind, &x);
    return e;
}

/* ---- accesses ---- */

/* MMIO in pieces of at most 8 bytes (10- and 16-byte operands). */
static void mmio_read(uint64_t pa, uint8_t *buf, unsigned size)
{
    while (size) {
        unsigned n = size >= 8 ? 8 : size >= 4 ? 4 : size >= 2 ? 2 : 1;

        if (H->as_read(H->system_memory(), pa, buf, n) != TES_MEM_OK) {
            H->log(TES_LOG_GUEST_ERROR, "cpu-x86: read of unassigned PA 0x%llx\n",
                   (unsigned long long)pa);
        }
        pa += n;
        buf += n;
        size -= n;
    }
}

static void mmio_write(uint64_t pa, const uint8_t *buf, unsigned size)
{
    while (size) {
        unsigned n = size >= 8 ? 8 : size >= 4 ? 4 : size >= 2 ? 2 : 1;

        if (H->as_write(H->system_memory(), pa, buf, n) != TES_MEM_OK) {
            H->log(TES_LOG_GUEST_ERROR, "cpu-x86: write of unassigned PA 0x%llx\n",
                   (unsigned long long)pa);
        }
        pa += n;
        buf += n;
        size -= n;
    }
}

static void entry_read(const x86_tlb_entry *e, uint64_t la, void *buf, unsigned size)
{
    if (e->host) {
        memcpy(buf, e->host + (la & PAGE_MASK), size);
    } else {
        mmio_read((e->pa & ~PAGE_MASK) | (la & PAGE_MASK), buf, size);
    }
}

static void entry_write(x86_cpu *c, const x86_tlb_entry *e, uint64_t la, const void *buf,
                        unsigned size)
{
    if (e->host) {
        memcpy(e->host + (la & PAGE_MASK), buf, size);
    } else if (e->ram) {
        memcpy(e->ram + (la & PAGE_MASK), buf, size);
        x86_jit_code_written(c, e->ram + (la & PAGE_MASK), size);
    } else {
        mmio_write((e->pa & ~PAGE_MASK) | (la & PAGE_MASK), buf, size);
    }
}

/* Outside 64-bit mode linear addresses are 32 bits (they wrap). */
static inline uint64_t la_mask(x86_cpu *c, uint64_t la)
{
    return (c->efer & EFER_LMA) ? la : la & 0xffffffffull;
}

static bool access(x86_cpu *c, uint64_t la, void *buf, unsigned size, int kind, bool user)
{
    unsigned first = 4096 - (unsigned)(la & PAGE_MASK);
    x86_tlb_entry e1, e2, *e;

    la = la_mask(c, la);
    e = tlb_get(c, la, kind, user);
    if (!e) {
        return false;
    }
    if (c->gdb.nwp && kind != AK_EXEC) {
        gdb_wp_hit(&c->gdb, la, size, kind == AK_WRITE);
    }
    if (first >= size) {
        if (kind == AK_WRITE) {
            entry_write(c, e, la, buf, size);
        } else {
            entry_read(e, la, buf, size);
        }
        return true;
    }
    /* Crosses a page: both translations (and faults) before any byte moves. */
    e1 = *e;
    e = tlb_get(c, la_mask(c, la + first), kind, user);
    if (!e) {
        return false;
    }
    e2 = *e;
    if (kind == AK_WRITE) {
        entry_write(c, &e1, la, buf, first);
        entry_write(c, &e2, la + first, (const uint8_t *)buf + first, size - first);
    } else {
        entry_read(&e1, la, buf, first);
        entry_read(&e2, la + first, (uint8_t *)buf + first, size - first);
    }
    return true;
}

bool x86_read(x86_cpu *c, uint64_t la, void *buf, unsigned size, bool user)
{
    x86_tlb_entry *e = &c->tlb_r[user][(la >> 12) & (X86_TLB_SIZE - 1)];

    if (e->va_tag == ((la & ~PAGE_MASK) | 1) && e->host && (la & PAGE_MASK) <= 4096 - size) {
        memcpy(buf, e->host + (la & PAGE_MASK), size);
        return true;
    }
    return access(c, la, buf, size, AK_READ, user);
}

bool x86_write(x86_cpu *c, uint64_t la, const void *buf, unsigned size, bool user)
{
    x86_tlb_entry *e = &c->tlb_w[user][(la >> 12) & (X86_TLB_SIZE - 1)];

    if (e->va_tag == ((la & ~PAGE_MASK) | 1) && e->host && (la & PAGE_MASK) <= 4096 - size) {
        memcpy(e->host + (la & PAGE_MASK), buf, size);
        return true;
    }
    return access(c, la, (void *)buf, size, AK_WRITE, user);
}

bool x86_probe_write(x86_cpu *c, uint64_t la, unsigned size, bool user, bool *direct)
{
    unsigned first = 4096 - (unsigned)(la & PAGE_MASK);
    x86_tlb_entry *e;

    la = la_mask(c, la);
    e = tlb_get(c, la, AK_WRITE, user);
    if (!e) {
        return false;
    }
    *direct = e->host != NULL;
    if (first < size) {
        e = tlb_get(c, la_mask(c, la + first), AK_WRITE, user);
        if (!e) {
            return false;
        }
        *direct = *direct && e->host != NULL;
    }
    return true;
}

bool x86_fetch(x86_cpu *c, uint64_t la, void *buf, unsigned size)
{
    bool user = c->cpl == 3;
    x86_tlb_entry *e = &c->tlb_x[user][(la >> 12) & (X86_TLB_SIZE - 1)];

    if (e->va_tag == ((la & ~PAGE_MASK) | 1) && e->host && (la & PAGE_MASK) <= 4096 - size) {
        memcpy(buf, e->host + (la & PAGE_MASK), size);
        return true;
    }
    return access(c, la, buf, size, AK_EXEC, user);
}

/* ---- segmentation ---- */

static bool seg_fault(x86_cpu *c, int seg)
{
    x86_exception(c, seg == S_SS ? EXC_SS : EXC_GP, true, 0);
    return false;
}

static inline bool canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* Protected-mode checks of a data access (SDM 5.3, 5.4): usable, type
 * allows it, offset within limits (expand-down segments count upwards
 * from limit + 1). Real mode keeps the cached limit (unreal mode). */
static bool seg_check(x86_cpu *c, const x86_seg *s, int seg, uint64_t off, unsigned size,
                      bool write)
{
    unsigned type = s->attr & 0xf;
    uint64_t last = off + size - 1;

    if (c->cr0 & CR0_PE) {
        if (!(s->attr & SEG_ATTR_P)) {
            return false;
        }
        if ((s->attr & SEG_ATTR_S) && (type & 8)) { /* code */
            if (write || (!(type & 2) && seg != S_CS)) {
                return false;
            }
        } else if (write && !(type & 2)) {
            return false;
        }
        if ((s->attr & SEG_ATTR_S) && (type & 0xc) == 0x4) { /* expand-down data */
            uint64_t top = (s->attr & SEG_ATTR_DB) ? 0xffffffffull : 0xffffull;

            return off > s->limit && last <= top;
        }
    }
    return last <= s->limit;
}

bool x86_seg_addr(x86_cpu *c, int seg, uint64_t off, unsigned size, bool write, uint64_t *la)
{
    const x86_seg *s = &c->seg[seg];

    if (c->code_bits == 64) {
        /* 64-bit mode: no limits, only FS and GS have a base (SDM 3.2.4). */
        uint64_t a = (seg == S_FS || seg == S_GS) ? s->base + off : off;

        if (!canonical(a) || !canonical(a + size - 1)) {
            return seg_fault(c, seg);
        }
        *la = a;
        return true;
    }
    if (!seg_check(c, s, seg, off, size, write)) {
        return seg_fault(c, seg);
    }
    *la = (s->base + off) & 0xffffffffull;
    return true;
}

/* Fixed-size copies the compiler turns into single moves. */
static inline void copy_sized(void *dst, const void *src, unsigned size)
{
    switch (size) {
    case 1: memcpy(dst, src, 1); break;
    case 2: memcpy(dst, src, 2); break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    default: memcpy(dst, src, size); break;
    }
}

/* 64-bit mode fast path: the host pointer of a TLB hit for seg:off
 * within one page, or NULL (then the full path checks and faults). */
static inline uint8_t *fast_host(x86_cpu *c, x86_tlb_entry (*tlb)[X86_TLB_SIZE], int seg,
                                 uint64_t off, unsigned size)
{
    uint64_t a = off;
    x86_tlb_entry *e;

    if (c->code_bits != 64) {
        return NULL;
    }
    if (seg == S_FS || seg == S_GS) {
        a += c->seg[seg].base;
    }
    e = &tlb[c->cpl == 3][(a >> 12) & (X86_TLB_SIZE - 1)];
    /* a canonical and not crossing the page: a + size - 1 is canonical */
    if (e->va_tag != ((a & ~PAGE_MASK) | 1) || !e->host || (a & PAGE_MASK) > 4096 - size ||
        !canonical(a)) {
        return NULL;
    }
    return e->host + (a & PAGE_MASK);
}

bool x86_mem_read(x86_cpu *c, int seg, uint64_t off, void *buf, unsigned size)
{
    uint8_t *p = fast_host(c, c->tlb_r, seg, off, size);
    uint64_t la;

    if (p) {
        copy_sized(buf, p, size);
        return true;
    }
    return x86_seg_addr(c, seg, off, size, false, &la) &&
           x86_read(c, la, buf, size, c->cpl == 3);
}

bool x86_mem_write(x86_cpu *c, int seg, uint64_t off, const void *buf, unsigned size)
{
    uint8_t *p = fast_host(c, c->tlb_w, seg, off, size);
    uint64_t la;

    if (p) {
        copy_sized(p, buf, size);
        return true;
    }
    return x86_seg_addr(c, seg, off, size, true, &la) &&
           x86_write(c, la, buf, size, c->cpl == 3);
}

/* A debugger's access (gdbstub): the walk as the current privilege sees
 * it, without setting accessed bits (QEMU's debug accesses ignore write
 * protection too); no fault, no TLB change. */
bool x86_debug_translate(x86_cpu *c, uint64_t va, bool write, uint64_t *pa)
{
    walk_ctx w = { .n = 0, .size = 8, .rw = true, .us = true, .xd = false };
    unsigned shift = 12;
    uint64_t la = la_mask(c, va);
    xlate x = {0};
    bool ok;

    (void)write;
    if (!(c->cr0 & CR0_PG)) {
        *pa = va & 0xffffffffull;
        return true;
    }
    if (c->efer & EFER_LMA) {
        ok = walk_long(c, la, &w, &x, &shift);
    } else if (c->cr4 & CR4_PAE) {
        ok = walk_pae(c, la, &w, &x, &shift);
    } else {
        w.size = 4;
        ok = walk_32(c, la, &w, &x, &shift);
    }
    if (ok) {
        *pa = leaf_pa(&w, la, shift);
    }
    return ok;
}

/* ---- port I/O ---- */

uint64_t x86_io_read(x86_cpu *c, uint16_t port, unsigned size)
{
    uint64_t v = 0;

    (void)c;
    H->as_read(H->system_io(), port, &v, size);
    return size >= 8 ? v : v & ((1ull << (8 * size)) - 1);
}

void x86_io_write(x86_cpu *c, uint16_t port, uint64_t val, unsigned size)
{
    (void)c;
    H->as_write(H->system_io(), port, &val, size);
}

/* ---- the monitor's walk (HMP x, info tlb) ---- */

/* Every present leaf of the 4-level tables under table, for info tlb and
 * info mem: fn(opaque, va, pte, size, prot) with prot the AND of the
 * levels' RW (bit 0) and US (bit 1). */
static void walk_all(uint64_t table, unsigned level, uint64_t va_base, unsigned prot,
                     x86_page_fn fn, void *opaque)
{
    for (uint64_t i = 0; i < 512; i++) {
        uint64_t e = pte_read((table & ADDR_MASK) + i * 8, 8);
        uint64_t va = va_base | (i << (12 + 9 * level));
        unsigned p = prot & (((e & PTE_RW) ? 1u : 0) | ((e & PTE_US) ? 2u : 0));

        if (!(e & PTE_P)) {
            continue;
        }
        if (level == 3 && (va >> 47)) {
            va |= 0xffff000000000000ull; /* canonical upper half */
        }
        if (level == 0 || ((level == 1 || level == 2) && (e & PTE_PS))) {
            fn(opaque, va, e, 1ull << (12 + 9 * level), p);
        } else if (level > 0) {
            walk_all(e, level - 1, va, p, fn, opaque);
        }
    }
}

/* false when the vCPU is not in long mode with paging (only that is shown). */
bool x86_mmu_foreach(x86_cpu *c, x86_page_fn fn, void *opaque)
{
    if (!(c->cr0 & CR0_PG) || !(c->efer & EFER_LMA)) {
        return false;
    }
    walk_all(c->cr3, 3, 0, 3, fn, opaque);
    return true;
}
