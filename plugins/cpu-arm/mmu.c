/*
 * cpu-arm: stage 1 translation of the EL1&0 regime (Arm ARM D5, VMSAv8-64,
 * 4K granule only) and the soft TLB every guest access goes through.
 *
 * The TLB holds, per EL and per kind (read, write, fetch), the page's
 * host pointer when it is RAM, or its physical address for MMIO (host =
 * NULL, dispatched through the core with the access size). An entry is
 * filled only once the access kind is permitted at that EL, so a hit needs
 * no permission check. ASIDs and global bits are not tagged: every TTBR,
 * TCR or SCTLR write flushes the whole TLB.
 *
 * Pages holding translated code get no host pointer for writes (tlb_fill;
 * translate.c explains). Not done: dirty tracking of RAM written through
 * host pointers (the core uses dirty bits only for migration today),
 * address size faults, and
 * device-memory alignment faults with the MMU off.
 */
#include "arm.h"

enum { AK_READ, AK_WRITE, AK_EXEC };

#define PAGE_MASK 0xfffull
#define OA_MASK 0x0000fffffffff000ull /* OA[47:12] of descriptors */
#define SCTLR_M (1u << 0)
#define SCTLR_A (1u << 1)
#define SCTLR_WXN (1u << 19)

/* Fault status codes (D17.2.37, DFSC/IFSC), | level. */
#define FSC_TRANSLATION 0x04
#define FSC_ACCESS 0x08
#define FSC_PERMISSION 0x0c
#define FSC_WALK_EXT 0x14
#define FSC_ALIGNMENT 0x21

typedef struct xlate {
    uint64_t pa;
    unsigned fsc;      /* when the translation failed */
    unsigned level;    /* of the leaf */
    unsigned attr_idx; /* MAIR index, for PAR_EL1 */
    unsigned sh;
    bool ng;           /* not global: tied to the ASID */
} xlate;

/* ---- the walk ---- */

static bool read_desc(uint64_t pa, uint64_t *desc)
{
    uint64_t len = 0;
    void *p = H->as_ram_ptr(H->system_memory(), pa, &len, false);

    if (p && len >= 8) {
        memcpy(desc, p, 8);
        return true;
    }
    return H->as_read(H->system_memory(), pa, desc, 8) == TES_MEM_OK;
}

/* Permission check of a leaf (D5.4): AP[2:1], UXN/PXN, the table
 * attributes accumulated on the way down, and SCTLR_EL1.WXN. */
static bool permitted(arm_cpu *c, uint64_t desc, unsigned tbl, int kind, unsigned el)
{
    unsigned ap = (desc >> 6) & 3; /* bit 0: AP[1] EL0 access; bit 1: AP[2] RO */
    bool el0_r = (ap & 1) && !(tbl & 1);
    bool el0_w = el0_r && !(ap & 2) && !(tbl & 2);
    bool el1_w = !(ap & 2) && !(tbl & 2);
    bool wxn = (c->sctlr_el1 & SCTLR_WXN) != 0;
    bool uxn = ((desc >> 54) & 1) || (tbl & 8);
    bool pxn = ((desc >> 53) & 1) || (tbl & 4);

    if (el == 0) {
        if (kind != AK_EXEC) {
            return kind == AK_READ ? el0_r : el0_w;
        }
        return el0_r && !uxn && !(wxn && el0_w);
    }
    if (kind == AK_EXEC) {
        /* Memory writable at EL0 is never executable at EL1. */
        return !pxn && !el0_w && !(wxn && el1_w);
    }
    return kind == AK_READ || el1_w;
}

/* Select TTBR0/TTBR1 by VA[55] and check the VA against TxSZ (D5.2.4). */
static bool select_ttbr(arm_cpu *c, uint64_t va, uint64_t *table, unsigned *inbits)
{
    uint64_t tcr = c->tcr_el1;
    bool hi = (va >> 55) & 1;
    unsigned tsz = hi ? (tcr >> 16) & 63 : tcr & 63;
    bool tbi = hi ? (tcr >> 38) & 1 : (tcr >> 37) & 1;
    bool epd = hi ? (tcr >> 23) & 1 : (tcr >> 7) & 1;
    uint64_t top = tbi ? (uint64_t)((int64_t)(va << 8) >> 8) : va;

    tsz = tsz < 16 ? 16 : tsz > 39 ? 39 : tsz;
    *inbits = 64 - tsz;
    if ((top >> *inbits) != (hi ? UINT64_MAX >> *inbits : 0) || epd) {
        return false;
    }
    *table = (hi ? c->ttbr1_el1 : c->ttbr0_el1) & 0x0000fffffffffffeull;
    return true;
}

static bool walk(arm_cpu *c, uint64_t va, int kind, unsigned el, xlate *x)
{
    uint64_t table, desc;
    unsigned inbits, level, tbl = 0;

    if (!select_ttbr(c, va, &table, &inbits)) {
        x->fsc = FSC_TRANSLATION | 0;
        return false;
    }
    level = 4 - (inbits - 12 + 8) / 9;
    for (;; level++) {
        unsigned shift = 12 + 9 * (3 - level);
        unsigned bits = inbits - shift < 9 ? inbits - shift : 9;
        uint64_t idx = (va >> shift) & ((1ull << bits) - 1);

        if (!read_desc(table + idx * 8, &desc)) {
            x->fsc = FSC_WALK_EXT | level;
            return false;
        }
        /* Invalid, a level 0 block, or a level 3 "block": fault. */
        if (!(desc & 1) || (level == 0 && !(desc & 2)) || (level == 3 && !(desc & 2))) {
            x->fsc = FSC_TRANSLATION | level;
            return false;
        }
        if (level == 3 || !(desc & 2)) {
            break;
        }
        /* Table: APTable (62:61) -> bits 1:0, PXNTable -> 2, UXNTable -> 3. */
        tbl |= ((desc >> 61) & 3) | ((desc >> 59) & 1) << 2 | ((desc >> 60) & 1) << 3;
        table = desc & OA_MASK;
    }
    x->level = level;
    x->attr_idx = (desc >> 2) & 7;
    x->sh = (desc >> 8) & 3;
    x->ng = (desc >> 11) & 1;
    /* v8.0 has no hardware Access flag update: AF = 0 faults first. */
    if (!(desc & (1u << 10))) {
        x->fsc = FSC_ACCESS | level;
        return false;
    }
    if (!permitted(c, desc, tbl, kind, el)) {
        x->fsc = FSC_PERMISSION | level;
        return false;
    }
    uint64_t span = (1ull << (12 + 9 * (3 - level))) - 1;
    x->pa = ((desc & OA_MASK) & ~span) | (va & span);
    return true;
}

static bool translate(arm_cpu *c, uint64_t va, int kind, unsigned el, xlate *x)
{
    x->level = 3;
    x->attr_idx = 0;
    x->sh = 0;
    x->ng = false;
    if (!(c->sctlr_el1 & SCTLR_M)) {
        x->pa = va; /* flat; the core bounds the physical address */
        return true;
    }
    return walk(c, va, kind, el, x);
}

/* ---- aborts ---- */

static void abort_at(arm_cpu *c, uint64_t va, int kind, unsigned fsc)
{
    bool lower = c->el == 0;
    unsigned ec;
    uint32_t iss = fsc;

    c->far_el1 = va;
    if (kind == AK_EXEC) {
        ec = lower ? EC_IABT_LOWER : EC_IABT_SAME;
    } else {
        ec = lower ? EC_DABT_LOWER : EC_DABT_SAME;
        iss |= kind == AK_WRITE ? 1u << 6 : 0; /* WnR */
    }
    arm_exception(c, ec, iss, c->pc);
}

/* ---- the soft TLB ---- */

/* Source of arm_cpu.tlb_epoch values: global, so that a value is never
 * reused, even after arm_cpu_reset() clears the CPU. */
static uint64_t tlb_epochs;

static tlb_entry *tlb_of(arm_cpu *c, int kind, unsigned el, uint64_t va)
{
    unsigned i = (va >> 12) & (TLB_SIZE - 1);

    if (kind == AK_READ) {
        return &c->tlb_r[el][i];
    }
    return kind == AK_WRITE ? &c->tlb_w[el][i] : &c->tlb_x[el][i];
}

void arm_tlb_flush(arm_cpu *c)
{
    memset(c->tlb_r, 0, sizeof(c->tlb_r));
    memset(c->tlb_w, 0, sizeof(c->tlb_w));
    memset(c->tlb_x, 0, sizeof(c->tlb_x));
    c->tlb_blk_lo = UINT64_MAX;
    c->tlb_blk_hi = 0;
    c->tlb_ng_hi = false;
    c->tlb_gen = H->memory_generation();
    c->tlb_epoch = ++tlb_epochs;
    arm_jit_tlb_flushed(c);
}

static void flush_low_half(tlb_entry *t, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (!((t[i].va_tag >> 55) & 1)) {
            t[i].va_tag = 0;
        }
    }
}

void arm_tlb_flush_asid(arm_cpu *c)
{
    if (c->tlb_ng_hi) {
        arm_tlb_flush(c);
        return;
    }
    c->tlb_epoch = ++tlb_epochs;
    arm_jit_tlb_flushed(c);
    flush_low_half(&c->tlb_r[0][0], 2 * TLB_SIZE);
    flush_low_half(&c->tlb_w[0][0], 2 * TLB_SIZE);
    flush_low_half(&c->tlb_x[0][0], 2 * TLB_SIZE);
}

void arm_tlb_flush_page(arm_cpu *c, uint64_t va)
{
    /* Compare VA[55:12] only: TLBI carries no top byte (tags, TBI). */
    const uint64_t m = 0x00fffffffffff000ull;

    if (c->tlb_blk_lo <= c->tlb_blk_hi && ((va & m) >= (c->tlb_blk_lo & m)) &&
        ((va & m) <= (c->tlb_blk_hi & m))) {
        arm_tlb_flush(c); /* part of a block: its 4K entries are scattered */
        return;
    }
    c->tlb_epoch = ++tlb_epochs;
    arm_jit_tlb_flushed_page(c, va);
    for (unsigned el = 0; el < 2; el++) {
        for (int kind = AK_READ; kind <= AK_EXEC; kind++) {
            tlb_entry *e = tlb_of(c, kind, el, va);

            if ((e->va_tag & 1) && ((e->va_tag ^ va) & m) == 0) {
                e->va_tag = 0;
            }
        }
    }
}

static void tlb_fill(arm_cpu *c, tlb_entry *e, uint64_t va, int kind, const xlate *x)
{
    uint64_t pa_page = x->pa & ~PAGE_MASK, len = 0;
    uint8_t *host = H->as_ram_ptr(H->system_memory(), pa_page, &len, kind == AK_WRITE);

    e->va_tag = (va & ~PAGE_MASK) | 1;
    e->host = host && len >= 4096 ? host : NULL;
    e->code_host = NULL;
    /* A page holding translated code is written by the slow path, which
     * drops the stale blocks (entry_write). */
    if (kind == AK_WRITE && e->host && arm_jit_page_has_code(e->host)) {
        e->code_host = e->host;
        e->host = NULL;
    }
    /* A watched page: every access takes the slow path, which checks it
     * (debug.c); code_host too goes, so writes reach the core (as_write
     * tells the translator). */
    if (kind != AK_EXEC && c->gdb.nwp && gdb_wp_in_page(&c->gdb, va)) {
        e->host = NULL;
        e->code_host = NULL;
    }
    e->pa = pa_page;
    if (x->ng && ((va >> 55) & 1)) {
        c->tlb_ng_hi = true;
    }
    if (x->level < 3) {
        uint64_t p = va & ~PAGE_MASK;

        c->tlb_blk_lo = p < c->tlb_blk_lo ? p : c->tlb_blk_lo;
        c->tlb_blk_hi = p > c->tlb_blk_hi ? p : c->tlb_blk_hi;
    }
}

/* The entry for va's page, translating on a miss; NULL once an abort was
 * raised. */
static tlb_entry *tlb_get(arm_cpu *c, uint64_t va, int kind, unsigned el)
{
    tlb_entry *e = tlb_of(c, kind, el, va);
    xlate x;

    if (e->va_tag == ((va & ~PAGE_MASK) | 1)) {
        return e;
    }
    if (H->memory_generation() != c->tlb_gen) {
        arm_tlb_flush(c);
    }
    if (!translate(c, va, kind, el, &x)) {
        abort_at(c, va, kind, x.fsc);
        return NULL;
    }
    tlb_fill(c, e, va, kind, &x);
    return e;
}

/* ---- accesses ---- */

static inline uint64_t load_host(const uint8_t *p, unsigned size)
{
    switch (size) {
    case 1:
        return *p;
    case 2: {
        uint16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    case 4: {
        uint32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    default: {
        uint64_t v;
        memcpy(&v, p, 8);
        return v;
    }
    }
}

static inline void store_host(uint8_t *p, unsigned size, uint64_t v)
{
    switch (size) {
    case 1:
        *p = (uint8_t)v;
        break;
    case 2: {
        uint16_t t = (uint16_t)v;
        memcpy(p, &t, 2);
        break;
    }
    case 4: {
        uint32_t t = (uint32_t)v;
        memcpy(p, &t, 4);
        break;
    }
    default:
        memcpy(p, &v, 8);
        break;
    }
}

static uint64_t entry_read(tlb_entry *e, uint64_t va, unsigned size)
{
    uint64_t v = 0;
    uint64_t pa = e->pa | (va & PAGE_MASK);

    if (e->host) {
        return load_host(e->host + (va & PAGE_MASK), size);
    }
    if (H->as_read(H->system_memory(), pa, &v, size) != TES_MEM_OK) {
        H->log(TES_LOG_GUEST_ERROR, "cpu-arm: read of unassigned PA 0x%llx\n",
               (unsigned long long)pa);
    }
    return size == 8 ? v : v & ((1ull << (8 * size)) - 1);
}

static void entry_write(tlb_entry *e, uint64_t va, unsigned size, uint64_t v)
{
    uint64_t pa = e->pa | (va & PAGE_MASK);

    if (e->host) {
        store_host(e->host + (va & PAGE_MASK), size, v);
        return;
    }
    if (e->code_host) {
        /* A page holding translated code: write, drop the blocks the
         * bytes belong to (data next to code drops none), and once the
         * page holds no block, let writes go direct again. */
        store_host(e->code_host + (va & PAGE_MASK), size, v);
        arm_jit_code_written(e->code_host + (va & PAGE_MASK), size);
        if (!arm_jit_page_has_code(e->code_host)) {
            e->host = e->code_host;
            e->code_host = NULL;
        }
        return;
    }
    if (H->as_write(H->system_memory(), pa, &v, size) != TES_MEM_OK) {
        H->log(TES_LOG_GUEST_ERROR, "cpu-arm: write of unassigned PA 0x%llx\n",
               (unsigned long long)pa);
    }
}

static inline unsigned acc_el(arm_cpu *c, unsigned acc)
{
    return (acc & ACC_UNPRIV) ? 0 : c->el;
}

/* Alignment fault (SCTLR_EL1.A, or an access that must be aligned). */
static bool misaligned(arm_cpu *c, uint64_t va, unsigned size, unsigned acc, int kind)
{
    if (!(va & (size - 1)) || !((acc & ACC_ALIGN) || (c->sctlr_el1 & SCTLR_A))) {
        return false;
    }
    abort_at(c, va, kind, FSC_ALIGNMENT);
    return true;
}

static bool read_slow(arm_cpu *c, uint64_t va, unsigned size, uint64_t *val, unsigned acc)
{
    unsigned el = acc_el(c, acc);
    tlb_entry *e;

    if (misaligned(c, va, size, acc, AK_READ)) {
        return false;
    }
    if (c->gdb.nwp && arm_wp_hit(c, va, size, false)) {
        return false; /* the instruction is abandoned, as by an abort */
    }
    if ((va & PAGE_MASK) + size > 4096) {
        /* Crosses a page: byte by byte, each through its own page. */
        uint64_t v = 0, b;

        for (unsigned i = 0; i < size; i++) {
            if (!arm_read(c, va + i, 1, &b, acc & ~ACC_ALIGN)) {
                return false;
            }
            v |= b << (8 * i);
        }
        *val = v;
        return true;
    }
    e = tlb_get(c, va, AK_READ, el);
    if (!e) {
        return false;
    }
    *val = entry_read(e, va, size);
    return true;
}

bool arm_read(arm_cpu *c, uint64_t va, unsigned size, uint64_t *val, unsigned acc)
{
    tlb_entry *e = &c->tlb_r[acc_el(c, acc)][(va >> 12) & (TLB_SIZE - 1)];

    if (e->va_tag == ((va & ~PAGE_MASK) | 1) && e->host && (va & PAGE_MASK) <= 4096 - size &&
        !(va & (size - 1) && ((acc & ACC_ALIGN) || (c->sctlr_el1 & SCTLR_A)))) {
        *val = load_host(e->host + (va & PAGE_MASK), size);
        return true;
    }
    return read_slow(c, va, size, val, acc);
}

static bool write_slow(arm_cpu *c, uint64_t va, unsigned size, uint64_t val, unsigned acc)
{
    unsigned el = acc_el(c, acc);
    tlb_entry *e;

    if (misaligned(c, va, size, acc, AK_WRITE)) {
        return false;
    }
    if (c->gdb.nwp && arm_wp_hit(c, va, size, true)) {
        return false;
    }
    if ((va & PAGE_MASK) + size > 4096) {
        /* Make sure the second page is writable before writing anything. */
        if (!tlb_get(c, va + size - 1, AK_WRITE, el)) {
            return false;
        }
        for (unsigned i = 0; i < size; i++) {
            if (!arm_write(c, va + i, 1, val >> (8 * i), acc & ~ACC_ALIGN)) {
                return false;
            }
        }
        return true;
    }
    e = tlb_get(c, va, AK_WRITE, el);
    if (!e) {
        return false;
    }
    entry_write(e, va, size, val);
    return true;
}

bool arm_write(arm_cpu *c, uint64_t va, unsigned size, uint64_t val, unsigned acc)
{
    tlb_entry *e = &c->tlb_w[acc_el(c, acc)][(va >> 12) & (TLB_SIZE - 1)];

    if (e->va_tag == ((va & ~PAGE_MASK) | 1) && e->host && (va & PAGE_MASK) <= 4096 - size &&
        !(va & (size - 1) && ((acc & ACC_ALIGN) || (c->sctlr_el1 & SCTLR_A)))) {
        store_host(e->host + (va & PAGE_MASK), size, val);
        return true;
    }
    return write_slow(c, va, size, val, acc);
}

bool arm_read128(arm_cpu *c, uint64_t va, vreg *out, unsigned acc)
{
    unsigned el = acc_el(c, acc);
    tlb_entry *e;

    if (misaligned(c, va, 16, acc, AK_READ)) {
        return false;
    }
    if ((va & PAGE_MASK) <= 4096 - 16) {
        e = tlb_get(c, va, AK_READ, el);
        if (!e) {
            return false;
        }
        if (e->host) {
            memcpy(out->b, e->host + (va & PAGE_MASK), 16);
            return true;
        }
    }
    return arm_read(c, va, 8, &out->d[0], acc & ~ACC_ALIGN) &&
           arm_read(c, va + 8, 8, &out->d[1], acc & ~ACC_ALIGN);
}

bool arm_write128(arm_cpu *c, uint64_t va, const vreg *in, unsigned acc)
{
    unsigned el = acc_el(c, acc);
    tlb_entry *e;

    if (misaligned(c, va, 16, acc, AK_WRITE)) {
        return false;
    }
    /* Both halves' pages must be writable before either is written. */
    e = tlb_get(c, va, AK_WRITE, el);
    if (!e || !tlb_get(c, va + 15, AK_WRITE, el)) {
        return false;
    }
    e = tlb_get(c, va, AK_WRITE, el); /* may share a slot with va + 15 */
    if (e && e->host && (va & PAGE_MASK) <= 4096 - 16) {
        memcpy(e->host + (va & PAGE_MASK), in->b, 16);
        return true;
    }
    return e && arm_write(c, va, 8, in->d[0], acc & ~ACC_ALIGN) &&
           arm_write(c, va + 8, 8, in->d[1], acc & ~ACC_ALIGN);
}

bool arm_fetch(arm_cpu *c, uint64_t va, uint32_t *insn)
{
    tlb_entry *e = &c->tlb_x[c->el][(va >> 12) & (TLB_SIZE - 1)];

    if (e->va_tag != ((va & ~PAGE_MASK) | 1)) {
        e = tlb_get(c, va, AK_EXEC, c->el);
        if (!e) {
            return false;
        }
    }
    *insn = (uint32_t)(e->host ? load_host(e->host + (va & PAGE_MASK), 4) : entry_read(e, va, 4));
    return true;
}

bool arm_dc_zva(arm_cpu *c, uint64_t va)
{
    /* DCZID_EL0.BS = 4: 16 words = 64 bytes, aligned down; one page. */
    tlb_entry *e;

    va &= ~63ull;
    e = tlb_get(c, va, AK_WRITE, c->el);
    if (!e) {
        return false;
    }
    if (e->host) {
        memset(e->host + (va & PAGE_MASK), 0, 64);
        return true;
    }
    for (unsigned i = 0; i < 64; i += 8) {
        entry_write(e, va + i, 8, 0);
    }
    return true;
}

/* ---- AT and physical access ---- */

void arm_at(arm_cpu *c, uint64_t va, bool write, bool el0)
{
    xlate x;

    if (!translate(c, va, write ? AK_WRITE : AK_READ, el0 ? 0 : 1, &x)) {
        /* Fault format (D17.2.113): F, FST, bit 11 RES1. */
        c->par_el1 = 1 | (uint64_t)x.fsc << 1 | 1u << 11;
        return;
    }
    /* Success: PA[47:12], SH, and the MAIR attribute byte in 63:56. */
    c->par_el1 = (x.pa & OA_MASK) | (uint64_t)x.sh << 7 |
                 ((c->mair_el1 >> (8 * x.attr_idx)) & 0xff) << 56;
}

bool arm_phys_read(uint64_t pa, void *buf, uint64_t len)
{
    return H->as_read(H->system_memory(), pa, buf, len) == TES_MEM_OK;
}

/* A debugger's access (gdbstub): the walk of the current EL's regime as a
 * read sees it, whatever the page's write permission (QEMU's debug
 * accesses ignore it too, so gdb can write to read-only kernel text); no
 * abort is raised and the TLB is not touched. */
bool arm_debug_translate(arm_cpu *c, uint64_t va, bool write, uint64_t *pa)
{
    xlate x;

    (void)write;
    if (!translate(c, va, AK_READ, c->el, &x)) {
        return false;
    }
    *pa = x.pa;
    return true;
}
