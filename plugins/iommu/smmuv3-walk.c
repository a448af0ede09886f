/*
 * arm-smmuv3: translation of a stream's DMA through the stream table
 * (linear or 2-level), its context descriptor and the AArch64 stage-1
 * page tables (4K, 16K and 64K granules), the configuration cache and the
 * IOTLB, and the events a failed translation records (IHI 0070, 3.3,
 * 5.2-5.4, 7.3).
 *
 * The caches hold what the walks found until the guest invalidates it
 * (CFGI_* for the configuration, TLBI_* for translations), as hardware
 * may: a guest that changes an entry without invalidating keeps seeing
 * the old one, which is what Linux's arm-smmu-v3 is written against and
 * what the tests check. Faults and bad configurations are never cached,
 * and invalidating everything is O(1) (a generation count), so no command
 * sequence costs more than one pass over a cache.
 */
#include <errno.h>
#include <string.h>

#include "smmuv3.h"

#define PAGE_SHIFT 12
#define PA_MASK ((1ull << SMMU_OAS_BITS) - 1)

/* STE (5.2) */
#define STE0_V 1ull
#define STE0_CFG(v) (((v) >> 1) & 7)
#define STE0_S1CTXPTR(v) ((v) & 0x000fffffffffffc0ull)
#define STE0_S1CDMAX(v) ((v) >> 59)
enum { STE_CFG_ABORT = 0, STE_CFG_BYPASS = 4, STE_CFG_S1 = 5 };

/* CD (5.4) */
#define CD0_T0SZ(v) ((v) & 0x3f)
#define CD0_TG0(v) (((v) >> 6) & 3)
#define CD0_EPD0 (1ull << 14)
#define CD0_ENDI (1ull << 15)
#define CD0_V (1ull << 31)
#define CD0_IPS(v) (((v) >> 32) & 7)
#define CD0_AFFD (1ull << 35)
#define CD0_AA64 (1ull << 41)
#define CD0_R (1ull << 45)
#define CD0_ASID(v) ((uint16_t)((v) >> 48))
#define CD1_TTB0(v) ((v) & 0x000ffffffffffff0ull)

/* Descriptors (Arm ARM D8.3) */
#define DESC_VALID 1ull
#define DESC_TABLE 2ull
#define DESC_AP_RO (1ull << 7)
#define DESC_AF (1ull << 10)
#define DESC_APTABLE_RO (1ull << 62)

typedef struct walk {
    uint32_t sid;
    uint64_t iova;
    bool is_write;
    /* result */
    uint64_t pa, size; /* address, bytes to the leaf's end */
    uint8_t perm, size_log2;
    /* fault */
    uint8_t event;
    uint8_t class;     /* 0 CD, 1 TT, 2 IN (the event's CLASS) */
    uint64_t fetch;    /* the address a fetch failed at */
} walk;

static bool read_le(uint64_t addr, uint64_t *v, unsigned n)
{
    uint8_t b[64];

    if (SH->as_read(SH->system_memory(), addr, b, 8ull * n) != TES_MEM_OK) {
        return false;
    }
    for (unsigned i = 0; i < n; i++) {
        v[i] = 0;
        for (unsigned j = 8; j-- > 0;) {
            v[i] = v[i] << 8 | b[8 * i + j];
        }
    }
    return true;
}

/* ---- caches ---- */

static uint32_t next_gen(uint32_t g, void *table, size_t size)
{
    if (++g == 0) { /* after 4 billion flushes: start over with an empty table */
        memset(table, 0, size);
        g = 1;
    }
    return g;
}

void smmu_flush_cfg_all(smmu *s)
{
    s->cfg_gen = next_gen(s->cfg_gen, s->cfg, sizeof(s->cfg));
}

void smmu_flush_tlb_all(smmu *s)
{
    s->tlb_gen = next_gen(s->tlb_gen, s->tlb, sizeof(s->tlb));
}

/* A stream's configuration changes: what it cached goes, and so do its
 * translations (they were made under the ASID the old CD named; hardware
 * would tag them so, this cache tags them by stream). */
void smmu_flush_cfg(smmu *s, uint32_t first, uint32_t last)
{
    for (unsigned i = 0; i < SMMU_CFG_CACHE; i++) {
        if (s->cfg[i].sid >= first && s->cfg[i].sid <= last) {
            s->cfg[i].gen = 0;
        }
    }
    for (unsigned i = 0; i < SMMU_TLB_SIZE; i++) {
        if (s->tlb[i].sid >= first && s->tlb[i].sid <= last) {
            s->tlb[i].gen = 0;
        }
    }
}

void smmu_flush_tlb(smmu *s, int asid, bool by_addr, uint64_t addr)
{
    for (unsigned i = 0; i < SMMU_TLB_SIZE; i++) {
        smmu_tlb *t = &s->tlb[i];

        if (t->gen != s->tlb_gen || (asid >= 0 && t->asid != asid)) {
            continue;
        }
        if (!by_addr || (((t->pfn << PAGE_SHIFT) ^ addr) >> t->size_log2) == 0) {
            t->gen = 0;
        }
    }
}

void smmu_flush_tlb_range(smmu *s, int asid, uint64_t addr, uint64_t len)
{
    uint64_t last = addr + len - 1 < addr ? UINT64_MAX : addr + len - 1;

    for (unsigned i = 0; i < SMMU_TLB_SIZE; i++) {
        smmu_tlb *t = &s->tlb[i];
        uint64_t base = (t->pfn << PAGE_SHIFT) & ~((1ull << t->size_log2) - 1);
        uint64_t end = base + ((1ull << t->size_log2) - 1);

        if (t->gen == s->tlb_gen && (asid < 0 || t->asid == asid) && base <= last &&
            end >= addr) {
            t->gen = 0;
        }
    }
}

static smmu_tlb *tlb_slot(smmu *s, uint32_t sid, uint64_t pfn)
{
    return &s->tlb[(pfn ^ (pfn >> 10) ^ ((uint64_t)sid * 0x9e37u)) % SMMU_TLB_SIZE];
}

/* ---- events ---- */

static void record(smmu *s, const walk *w)
{
    uint64_t ev[4] = {0};

    s->stat_faults++;
    SH->log(TES_LOG_GUEST_ERROR, "arm-smmuv3: %s by stream 0x%x at 0x%llx: event 0x%02x",
            w->is_write ? "DMA write" : "DMA read", w->sid, (unsigned long long)w->iova,
            w->event);
    ev[0] = w->event | (uint64_t)w->sid << 32;
    switch (w->event) {
    case EVT_F_TRANSLATION:
    case EVT_F_ADDR_SIZE:
    case EVT_F_ACCESS:
    case EVT_F_PERMISSION:
    case EVT_F_WALK_EABT:
        /* RnW (1: read), CLASS; the input address; the fetch address */
        ev[1] = (uint64_t)!w->is_write << 35 | (uint64_t)w->class << 40;
        ev[2] = w->iova;
        ev[3] = w->fetch & ~7ull;
        break;
    case EVT_F_STE_FETCH:
    case EVT_F_CD_FETCH:
        ev[3] = w->fetch & ~7ull;
        break;
    default:
        break;
    }
    smmu_event(s, ev);
}

/* ---- the stream table (5.2, 3.3.2) ---- */

static uint8_t ste_addr(smmu *s, uint32_t sid, walk *w, uint64_t *addr)
{
    uint32_t cfg = smmu_get32(s, SMMU_STRTAB_BASE_CFG);
    unsigned fmt = (cfg >> 16) & 3, split = (cfg >> 6) & 0x1f, log2size = cfg & 0x3f;
    uint64_t base = smmu_get64(s, SMMU_STRTAB_BASE) & 0x000fffffffffffc0ull, l1;

    if (log2size > SMMU_SIDSIZE) {
        log2size = SMMU_SIDSIZE;
    }
    if (sid >> log2size) {
        return EVT_C_BAD_STREAMID;
    }
    if (fmt == 0) {
        *addr = base + 64ull * sid;
        return 0;
    }
    /* 2-level: SPLIT 6, 8 or 10; Span 0 is an invalid L1 descriptor */
    if (fmt != 1 || (split != 6 && split != 8 && split != 10)) {
        return EVT_C_BAD_STREAMID;
    }
    if (!read_le(base + 8ull * (sid >> split), &l1, 1)) {
        w->fetch = base + 8ull * (sid >> split);
        return EVT_F_STE_FETCH;
    }
    unsigned span = l1 & 0x1f, sub = sid & ((1u << split) - 1);
    if (span == 0 || span > split + 1 || (sub >> (span - 1))) {
        return EVT_C_BAD_STREAMID;
    }
    *addr = (l1 & 0x000fffffffffffc0ull) + 64ull * sub;
    return 0;
}

static uint8_t ips_bits(unsigned ips)
{
    static const uint8_t bits[] = {32, 36, 40, 42, 44, 48};

    return ips < 6 ? bits[ips] : SMMU_OAS_BITS;
}

/* The CD of a stage-1 stream: only AArch64, little-endian tables, a T0SZ
 * the granule allows (48-bit VA at most: IDR5.VAX is 0). */
static uint8_t decode_cd(const uint64_t cd[8], smmu_cfg *c)
{
    static const uint8_t granule[] = {12, 16, 14, 0};
    unsigned t0sz = CD0_T0SZ(cd[0]);

    if (!(cd[0] & CD0_V) || !(cd[0] & CD0_AA64) || (cd[0] & CD0_ENDI) ||
        !granule[CD0_TG0(cd[0])] || t0sz < 64 - 48 || t0sz > 39) {
        return EVT_C_BAD_CD;
    }
    c->kind = CFG_TRANS;
    c->granule = granule[CD0_TG0(cd[0])];
    c->va_bits = (uint8_t)(64 - t0sz);
    c->oas = ips_bits(CD0_IPS(cd[0]));
    c->epd0 = cd[0] & CD0_EPD0;
    c->affd = cd[0] & CD0_AFFD;
    c->record = cd[0] & CD0_R;
    c->asid = CD0_ASID(cd[0]);
    c->ttb = CD1_TTB0(cd[1]) & PA_MASK;
    return 0;
}

static uint8_t fetch_cfg(smmu *s, walk *w, smmu_cfg *c)
{
    uint64_t addr, ste[8], cd[8];
    uint8_t ev = ste_addr(s, w->sid, w, &addr);

    if (ev) {
        return ev;
    }
    if (!read_le(addr, ste, 8)) {
        w->fetch = addr;
        return EVT_F_STE_FETCH;
    }
    if (!(ste[0] & STE0_V)) {
        return EVT_C_BAD_STE;
    }
    switch (STE0_CFG(ste[0])) {
    case STE_CFG_ABORT:
        c->kind = CFG_ABORT;
        return 0;
    case STE_CFG_BYPASS:
        c->kind = CFG_BYPASS;
        return 0;
    case STE_CFG_S1:
        break;
    default: /* stage 2 is not implemented (IDR0.S2P 0), 1..3 reserved */
        return EVT_C_BAD_STE;
    }
    if (STE0_S1CDMAX(ste[0])) {
        return EVT_C_BAD_STE; /* substreams: IDR1.SSIDSIZE is 0 */
    }
    if (!read_le(STE0_S1CTXPTR(ste[0]), cd, 8)) {
        w->fetch = STE0_S1CTXPTR(ste[0]);
        return EVT_F_CD_FETCH;
    }
    return decode_cd(cd, c);
}

static uint8_t stream_cfg(smmu *s, walk *w, smmu_cfg **out)
{
    smmu_cfg *c = &s->cfg[w->sid % SMMU_CFG_CACHE], tmp = {0};
    uint8_t ev;

    if (c->gen == s->cfg_gen && c->sid == w->sid) {
        *out = c;
        return 0;
    }
    ev = fetch_cfg(s, w, &tmp);
    if (ev) {
        return ev;
    }
    tmp.gen = s->cfg_gen;
    tmp.sid = w->sid;
    *c = tmp;
    *out = c;
    return 0;
}

/* ---- stage-1 page tables (Arm ARM D8.2-D8.3) ---- */

/* Blocks: 4K at levels 1 and 2, 16K and 64K at level 2 (no 52-bit). */
static bool block_ok(unsigned granule, unsigned level)
{
    return level == 2 || (granule == 12 && level == 1);
}

static uint8_t leaf(const smmu_cfg *c, walk *w, uint64_t desc, unsigned shift, bool ro)
{
    uint64_t out = desc & PA_MASK & ~((1ull << shift) - 1);

    w->class = 2;
    if (!(desc & DESC_AF) && !c->affd) {
        return EVT_F_ACCESS;
    }
    ro = ro || (desc & DESC_AP_RO);
    if (w->is_write && ro) {
        return EVT_F_PERMISSION;
    }
    if (out >> c->oas) {
        return EVT_F_ADDR_SIZE;
    }
    w->size_log2 = (uint8_t)shift;
    w->pa = out | (w->iova & ((1ull << shift) - 1));
    w->size = (1ull << shift) - (w->iova & ((1ull << shift) - 1));
    w->perm = ro ? 1 : 3;
    return 0;
}

static uint8_t page_walk(const smmu_cfg *c, walk *w)
{
    unsigned g = c->granule, stride = g - 3;
    unsigned levels = (c->va_bits - g + stride - 1) / stride;
    uint64_t table = c->ttb & ~7ull, desc;
    bool ro = false;

    w->class = 1;
    if (c->epd0 || (w->iova >> c->va_bits)) {
        w->class = 2;
        return EVT_F_TRANSLATION; /* TTB1's half: Linux disables it (EPD1) */
    }
    for (unsigned level = 4 - levels; level <= 3; level++) {
        unsigned shift = g + stride * (3 - level);
        uint64_t at = table + 8 * ((w->iova >> shift) & ((1ull << stride) - 1));

        if (!read_le(at, &desc, 1)) {
            w->fetch = at;
            return EVT_F_WALK_EABT;
        }
        if (!(desc & DESC_VALID) || (level == 3 && !(desc & DESC_TABLE)) ||
            (level < 3 && !(desc & DESC_TABLE) && !block_ok(g, level))) {
            w->class = 2;
            return EVT_F_TRANSLATION;
        }
        if (level == 3 || !(desc & DESC_TABLE)) {
            return leaf(c, w, desc, shift, ro);
        }
        ro = ro || (desc & DESC_APTABLE_RO);
        table = desc & PA_MASK & ~((1ull << g) - 1);
        if (table >> c->oas) {
            w->class = 2;
            return EVT_F_ADDR_SIZE;
        }
    }
    return EVT_F_TRANSLATION; /* not reached: level 3 ends the walk */
}

/* ---- the hook ---- */

static void pass(uint64_t iova, uint64_t *pa, uint64_t *len)
{
    *pa = iova;
    *len = 0x1000 - (iova & 0xfff);
}

static int translate_cfg(smmu *s, walk *w, uint64_t *pa, uint64_t *len)
{
    smmu_cfg *c;
    uint8_t ev = stream_cfg(s, w, &c);

    if (!ev && c->kind == CFG_ABORT) {
        return -EFAULT; /* STE.Config abort: terminated, no event (5.2) */
    }
    if (!ev && c->kind == CFG_BYPASS) {
        pass(w->iova, pa, len);
        return 0;
    }
    if (!ev) {
        s->stat_walks++;
        ev = page_walk(c, w);
        if (ev && !c->record && ev != EVT_F_WALK_EABT) {
            return -EFAULT; /* CD.R clear: not recorded */
        }
    }
    if (ev) {
        w->event = ev;
        record(s, w);
        return -EFAULT;
    }
    *tlb_slot(s, w->sid, w->iova >> PAGE_SHIFT) = (smmu_tlb){
        .gen = s->tlb_gen, .sid = w->sid, .asid = c->asid, .perm = w->perm,
        .size_log2 = w->size_log2, .pfn = w->iova >> PAGE_SHIFT,
        .pa = w->pa & ~0xfffull,
    };
    *pa = w->pa;
    *len = w->size;
    return 0;
}

int smmu_translate(void *opaque, uint16_t rid, uint64_t iova, bool is_write, uint64_t *pa,
                   uint64_t *len)
{
    smmu *s = opaque;
    walk w = {.sid = rid, .iova = iova, .is_write = is_write};
    smmu_tlb *t = tlb_slot(s, rid, iova >> PAGE_SHIFT);

    if (!(smmu_get32(s, SMMU_CR0) & CR0_SMMUEN)) {
        /* disabled: GBPA says bypass or abort (no event either way) */
        if (smmu_get32(s, SMMU_GBPA) & GBPA_ABORT) {
            return -EFAULT;
        }
        pass(iova, pa, len);
        return 0;
    }
    if (t->gen == s->tlb_gen && t->sid == rid && t->pfn == iova >> PAGE_SHIFT &&
        (t->perm & (is_write ? 2 : 1))) {
        s->stat_hits++;
        *pa = t->pa | (iova & 0xfff);
        *len = 0x1000 - (iova & 0xfff);
        return 0;
    }
    /* A miss, or a cached entry that does not allow this access: walk. */
    return translate_cfg(s, &w, pa, len);
}
