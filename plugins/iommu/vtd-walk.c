/*
 * intel-iommu: translation of a requester's DMA through the legacy-mode
 * root and context tables and the second-level page tables (VT-d 3.4,
 * 3.6, 9.1-9.3, 9.8), the context cache and IOTLB, and primary fault
 * logging (7.2.1).
 *
 * The caches hold what the walks found until the guest invalidates it, as
 * hardware may: a guest that changes an entry without invalidating keeps
 * seeing the old one. That is the behaviour Linux's intel-iommu is written
 * against, and what the tests check. Not-present entries are never cached
 * (so CAP.CM needs no extra work here), and neither are faults.
 */
#include <errno.h>
#include <string.h>

#include "vtd.h"

#define PAGE_SHIFT 12
#define PTE_R 1ull
#define PTE_W 2ull
#define PTE_PS (1ull << 7)
#define VTD_IRQ_FIRST 0xfee00000ull /* interrupt address range, VT-d 3.14 */
#define VTD_IRQ_LAST 0xfeefffffull

typedef struct walk {
    uint16_t sid;
    uint64_t iova;
    bool is_write;
    bool fpd;        /* context said: fault processing disabled */
    uint16_t did;
    uint64_t pa, size; /* result: address, bytes to the page's end */
    uint8_t perm;
} walk;

static uint64_t haw_mask(vtd *s)
{
    return ((1ull << s->aw_bits) - 1) & ~0xfffull;
}

static bool read64(uint64_t addr, uint64_t *v)
{
    uint8_t b[8];

    if (H->as_read(H->system_memory(), addr, b, 8) != TES_MEM_OK) {
        return false;
    }
    *v = 0;
    for (unsigned i = 8; i-- > 0;) {
        *v = *v << 8 | b[i];
    }
    return true;
}

/* ---- caches ---- */

void vtd_flush_ctx(vtd *s)
{
    memset(s->ctx, 0, sizeof(s->ctx));
}

void vtd_flush_iotlb(vtd *s, int did, uint64_t addr, int am)
{
    uint64_t pfn = addr >> PAGE_SHIFT;

    for (unsigned i = 0; i < VTD_IOTLB_SIZE; i++) {
        vtd_tlb *t = &s->tlb[i];
        if (!t->valid || (did >= 0 && t->did != did)) {
            continue;
        }
        if (am < 0 || (t->pfn >> am) == (pfn >> am)) {
            t->valid = false;
        }
    }
}

static vtd_tlb *tlb_slot(vtd *s, uint16_t sid, uint64_t pfn)
{
    return &s->tlb[(pfn ^ (pfn >> 10) ^ ((uint64_t)sid * 0x9e37u)) % VTD_IOTLB_SIZE];
}

/* ---- faults ---- */

void vtd_record_fault(vtd *s, uint16_t sid, uint64_t fi, uint8_t reason, bool is_write,
                      bool fpd)
{
    uint32_t fsts = vtd_get32(s, VTD_FSTS);
    unsigned fri = (fsts >> VTD_FSTS_FRI_SHIFT) & 0xff;
    unsigned off = VTD_FRCD + 16 * (fri % VTD_NFR);

    s->stat_faults++;
    H->log(TES_LOG_GUEST_ERROR, "intel-iommu: %s by %02x:%02x.%x at 0x%llx faults "
           "(reason 0x%x)%s", reason >= VTD_FR_IR_REQ_RSVD ? "interrupt request"
           : is_write ? "DMA write" : "DMA read", sid >> 8, (sid >> 3) & 0x1f, sid & 7,
           (unsigned long long)fi, reason, fpd ? ", not recorded (FPD)" : "");
    if (fpd || (fsts & VTD_FSTS_PFO)) {
        return;
    }
    if (vtd_get64(s, off + 8) >> 63) {
        vtd_set32(s, VTD_FSTS, fsts | VTD_FSTS_PFO); /* the next record is still full */
        vtd_fault_event(s);
        return;
    }
    vtd_set64(s, off, fi & ~0xfffull);
    /* F, T (1: read), fault reason, source id (VT-d 11.4.14) */
    vtd_set64(s, off + 8, 1ull << 63 | (uint64_t)!is_write << 62 | (uint64_t)reason << 32 | sid);
    fsts = (fsts & ~(0xffu << VTD_FSTS_FRI_SHIFT)) |
           (((fri + 1) % VTD_NFR) << VTD_FSTS_FRI_SHIFT);
    vtd_set32(s, VTD_FSTS, fsts);
    if (!(fsts & VTD_FSTS_PPF)) {
        vtd_update_fsts(s);
        vtd_fault_event(s);
    }
}

/* ---- root and context entries ---- */

static int context_entry(vtd *s, uint16_t sid, vtd_ctx **out)
{
    vtd_ctx *c = &s->ctx[sid % VTD_CTX_CACHE];
    uint64_t root_lo, root_hi, lo, hi, rt = s->root & haw_mask(s);

    if (c->valid && c->sid == sid) {
        *out = c;
        return 0;
    }
    if (s->root & 0xc00) {
        return VTD_FR_ROOT_RSVD; /* TTM: scalable mode, not advertised */
    }
    if (!read64(rt + 16ull * (sid >> 8), &root_lo) ||
        !read64(rt + 16ull * (sid >> 8) + 8, &root_hi)) {
        return VTD_FR_ROOT_ADDR;
    }
    if (!(root_lo & 1)) {
        return VTD_FR_ROOT_NP;
    }
    if ((root_lo & 0xffe) || root_hi) {
        return VTD_FR_ROOT_RSVD;
    }
    uint64_t ct = (root_lo & haw_mask(s)) + 16ull * (sid & 0xff);
    if (!read64(ct, &lo) || !read64(ct + 8, &hi)) {
        return VTD_FR_CTX_NP;
    }
    if (!(lo & 1)) {
        return VTD_FR_CTX_NP;
    }
    *c = (vtd_ctx){.valid = true, .sid = sid, .lo = lo, .hi = hi};
    *out = c;
    return 0;
}

static int context_check(vtd *s, const vtd_ctx *c, unsigned *levels)
{
    unsigned tt = (c->lo >> 2) & 3, aw = c->hi & 7;

    if ((c->lo & 0xff0) || (c->hi & ~0xffff07ull)) {
        return VTD_FR_CTX_RSVD;
    }
    if (tt == 3 || (tt == 1 && !s->device_iotlb) || (tt == 2 && !s->pt)) {
        return VTD_FR_CTX_INVALID;
    }
    if (tt == 2) {
        *levels = 0;
        return 0;
    }
    /* SAGAW: 1 = 39-bit (3-level), 2 = 48-bit (4-level, aw-bits=48 only) */
    if (aw != 1 && !(aw == 2 && s->aw_bits == 48)) {
        return VTD_FR_CTX_INVALID;
    }
    *levels = aw + 2;
    return 0;
}

/* ---- second-level page tables ---- */

static int page_walk(vtd *s, uint64_t table, unsigned levels, walk *w)
{
    uint8_t perm = 3;

    if (w->iova >> (PAGE_SHIFT + 9 * levels) || w->iova >> s->aw_bits) {
        return VTD_FR_BEYOND_AW;
    }
    for (unsigned level = levels; level >= 1; level--) {
        unsigned shift = PAGE_SHIFT + 9 * (level - 1);
        uint64_t pte;

        if (!read64(table + 8 * ((w->iova >> shift) & 511), &pte)) {
            return VTD_FR_PT_ADDR;
        }
        if (!(pte & (PTE_R | PTE_W))) {
            return w->is_write ? VTD_FR_WRITE : VTD_FR_READ;
        }
        perm &= pte & 3;
        if (level == 1 || (pte & PTE_PS)) {
            if (level > 3 || (pte & haw_mask(s) & ((1ull << shift) - 1))) {
                return VTD_FR_PTE_RSVD; /* PS at level 4, or an unaligned large page */
            }
            w->size = 1ull << shift;
            w->pa = (pte & haw_mask(s) & ~(w->size - 1)) | (w->iova & (w->size - 1));
            w->size -= w->iova & (w->size - 1);
            w->perm = perm;
            return 0;
        }
        table = pte & haw_mask(s);
    }
    return VTD_FR_PTE_RSVD; /* not reached: level 1 always ends the walk */
}

static int do_walk(vtd *s, walk *w)
{
    vtd_ctx *c;
    unsigned levels;
    int fr = context_entry(s, w->sid, &c);

    if (fr) {
        return fr;
    }
    w->fpd = c->lo & 2;
    w->did = (uint16_t)(c->hi >> 8);
    fr = context_check(s, c, &levels);
    if (fr) {
        return fr;
    }
    if (!levels) { /* pass-through */
        w->pa = w->iova;
        w->size = 0x1000 - (w->iova & 0xfff);
        w->perm = 3;
        return 0;
    }
    s->stat_walks++;
    fr = page_walk(s, c->lo & haw_mask(s), levels, w);
    if (!fr) {
        vtd_tlb *t = tlb_slot(s, w->sid, w->iova >> PAGE_SHIFT);
        *t = (vtd_tlb){.valid = true, .perm = w->perm, .sid = w->sid, .did = w->did,
                       .pfn = w->iova >> PAGE_SHIFT, .pa = w->pa & ~0xfffull};
    }
    return fr;
}

int vtd_translate(void *opaque, uint16_t rid, uint64_t iova, bool is_write, uint64_t *pa,
                  uint64_t *len)
{
    vtd *s = opaque;
    walk w = {.sid = rid, .iova = iova, .is_write = is_write};
    vtd_tlb *t = tlb_slot(s, rid, iova >> PAGE_SHIFT);
    int fr;

    if (!(vtd_get32(s, VTD_GSTS) & VTD_GCMD_TE) ||
        (iova >= VTD_IRQ_FIRST && iova <= VTD_IRQ_LAST)) {
        *pa = iova;
        *len = (iova >= VTD_IRQ_FIRST && iova <= VTD_IRQ_LAST) ? VTD_IRQ_LAST + 1 - iova
                                                                 : 0x1000 - (iova & 0xfff);
        return 0;
    }
    if (t->valid && t->sid == rid && t->pfn == iova >> PAGE_SHIFT &&
        (t->perm & (is_write ? 2 : 1))) {
        s->stat_hits++;
        *pa = t->pa | (iova & 0xfff);
        *len = 0x1000 - (iova & 0xfff);
        return 0;
    }
    /* A miss, or a cached entry that does not allow this access: walk. */
    fr = do_walk(s, &w);
    if (!fr && !(w.perm & (is_write ? 2 : 1))) {
        fr = is_write ? VTD_FR_WRITE : VTD_FR_READ;
    }
    if (fr) {
        vtd_record_fault(s, w.sid, w.iova, (uint8_t)fr, is_write, w.fpd);
        return -EFAULT;
    }
    *pa = w.pa;
    *len = w.size;
    return 0;
}
