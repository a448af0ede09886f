/*
 * intel-iommu: cache invalidation, through the registers (CCMD, IOTLB with
 * IVA: VT-d 6.5.1) and the invalidation queue (6.5.2: legacy 128-bit
 * descriptors, processed when the guest moves the tail).
 *
 * Invalidations here are at least as wide as asked: a context-cache
 * invalidation of any granularity drops the whole context cache and IOTLB
 * (they are rare: device attach and detach), an IOTLB one drops exactly
 * the domain or the pages named. The actual granularity reported is the
 * one requested.
 */
#include <string.h>

#include "vtd.h"

/* ---- register-based (6.5.1) ---- */

static bool qi_enabled(vtd *s)
{
    return vtd_get32(s, VTD_GSTS) & VTD_GCMD_QIE;
}

void vtd_ccmd_write(vtd *s)
{
    uint64_t v = vtd_get64(s, VTD_CCMD);
    unsigned g = (v >> VTD_CCMD_CIRG_SHIFT) & 3;

    if (!(v & VTD_CCMD_ICC)) {
        return;
    }
    if (qi_enabled(s)) {
        H->log(TES_LOG_GUEST_ERROR, "intel-iommu: CCMD written with queued invalidation on");
    }
    if (g) {
        vtd_flush_ctx(s);
        vtd_flush_iotlb(s, -1, 0, -1);
    }
    v &= ~(VTD_CCMD_ICC | 3ull << VTD_CCMD_CAIG_SHIFT);
    vtd_set64(s, VTD_CCMD, v | (uint64_t)g << VTD_CCMD_CAIG_SHIFT);
}

void vtd_iotlb_write(vtd *s)
{
    uint64_t v = vtd_get64(s, VTD_IOTLB), iva = vtd_get64(s, VTD_IVA);
    unsigned g = (v >> VTD_IOTLB_IIRG_SHIFT) & 3, am = iva & 0x3f;
    int did = (int)((v >> 32) & 0xffff);

    if (!(v & VTD_IOTLB_IVT)) {
        return;
    }
    if (qi_enabled(s)) {
        H->log(TES_LOG_GUEST_ERROR, "intel-iommu: IOTLB written with queued invalidation on");
    }
    if (g == 3 && am > VTD_MAMV) {
        H->log(TES_LOG_GUEST_ERROR, "intel-iommu: IVA.AM %u above MAMV %u", am, VTD_MAMV);
        g = 0; /* IAIG 0: the request was not done */
    }
    if (g == 1) {
        vtd_flush_iotlb(s, -1, 0, -1);
    } else if (g == 2) {
        vtd_flush_iotlb(s, did, 0, -1);
    } else if (g == 3) {
        vtd_flush_iotlb(s, did, iva & ~0xfffull, (int)am);
    }
    v &= ~(VTD_IOTLB_IVT | 3ull << VTD_IOTLB_IAIG_SHIFT);
    vtd_set64(s, VTD_IOTLB, v | (uint64_t)g << VTD_IOTLB_IAIG_SHIFT);
}

/* ---- queued (6.5.2) ---- */

enum {
    DESC_CC = 1,    /* context-cache invalidate */
    DESC_IOTLB = 2,
    DESC_DEVTLB = 3,
    DESC_IEC = 4,   /* interrupt entry cache */
    DESC_WAIT = 5,
};

static bool desc_iotlb(vtd *s, uint64_t lo, uint64_t hi)
{
    unsigned g = (lo >> 4) & 3, am = hi & 0x3f;
    int did = (int)((lo >> 16) & 0xffff);

    switch (g) {
    case 1:
        vtd_flush_iotlb(s, -1, 0, -1);
        return true;
    case 2:
        vtd_flush_iotlb(s, did, 0, -1);
        return true;
    case 3:
        if (am > VTD_MAMV) {
            break;
        }
        vtd_flush_iotlb(s, did, hi & ~0xfffull, (int)am);
        return true;
    }
    H->log(TES_LOG_GUEST_ERROR, "intel-iommu: IOTLB descriptor with granularity %u, AM %u",
           g, am);
    return false;
}

static bool desc_wait(vtd *s, uint64_t lo, uint64_t hi)
{
    if (lo & (1u << 5)) { /* SW: status write */
        uint8_t b[4] = {(uint8_t)(lo >> 32), (uint8_t)(lo >> 40), (uint8_t)(lo >> 48),
                        (uint8_t)(lo >> 56)};
        if (H->as_write(H->system_memory(), hi & ~3ull, b, 4) != TES_MEM_OK) {
            H->log(TES_LOG_GUEST_ERROR, "intel-iommu: wait descriptor status address "
                   "0x%llx is not memory", (unsigned long long)(hi & ~3ull));
        }
    }
    if (lo & (1u << 4)) { /* IF: interrupt */
        uint32_t ics = vtd_get32(s, VTD_ICS);
        vtd_set32(s, VTD_ICS, ics | VTD_ICS_IWC);
        if (!(ics & VTD_ICS_IWC)) {
            vtd_inv_event(s);
        }
    }
    return true;
}

static bool run_desc(vtd *s, uint64_t lo, uint64_t hi)
{
    if (lo & 0xe00) { /* type[6:4]: PASID and scalable-mode descriptors */
        H->log(TES_LOG_GUEST_ERROR, "intel-iommu: descriptor type 0x%llx not in legacy mode",
               (unsigned long long)((lo >> 5 & 0x70) | (lo & 0xf)));
        return false;
    }
    switch (lo & 0xf) {
    case DESC_CC:
        vtd_flush_ctx(s);
        vtd_flush_iotlb(s, -1, 0, -1);
        return true;
    case DESC_IOTLB:
        return desc_iotlb(s, lo, hi);
    case DESC_DEVTLB:
    case DESC_IEC:
        return true; /* no device-TLBs, no interrupt entry cache */
    case DESC_WAIT:
        return desc_wait(s, lo, hi);
    }
    H->log(TES_LOG_GUEST_ERROR, "intel-iommu: invalid descriptor type %llu",
           (unsigned long long)(lo & 0xf));
    return false;
}

static void qi_error(vtd *s)
{
    vtd_set32(s, VTD_FSTS, vtd_get32(s, VTD_FSTS) | VTD_FSTS_IQE);
    vtd_fault_event(s);
}

void vtd_qi_run(vtd *s)
{
    uint64_t iqa = vtd_get64(s, VTD_IQA), base = iqa & ~0xfffull;
    unsigned n = 256u << (iqa & 7); /* 2^QS pages of 16-byte descriptors */
    unsigned head = (unsigned)(vtd_get64(s, VTD_IQH) >> 4) & 0x7fff;
    unsigned tail = (unsigned)(vtd_get64(s, VTD_IQT) >> 4) & 0x7fff;

    if (!qi_enabled(s) || (vtd_get32(s, VTD_FSTS) & VTD_FSTS_IQE)) {
        return; /* IQE: stopped until software clears it */
    }
    if (tail >= n || head >= n) {
        H->log(TES_LOG_GUEST_ERROR, "intel-iommu: IQT %u beyond the %u-entry queue", tail, n);
        qi_error(s);
        return;
    }
    while (head != tail) {
        uint8_t d[16];
        uint64_t lo = 0, hi = 0;

        if (H->as_read(H->system_memory(), base + 16ull * head, d, 16) != TES_MEM_OK) {
            H->log(TES_LOG_GUEST_ERROR, "intel-iommu: invalidation queue at 0x%llx is not "
                   "memory", (unsigned long long)base);
            qi_error(s);
            break;
        }
        for (unsigned i = 8; i-- > 0;) {
            lo = lo << 8 | d[i];
            hi = hi << 8 | d[8 + i];
        }
        if (!run_desc(s, lo, hi)) {
            qi_error(s); /* IQH stays at the descriptor that failed */
            break;
        }
        head = (head + 1) % n;
    }
    vtd_set64(s, VTD_IQH, (uint64_t)head << 4);
}
