/*
 * intel-iommu: interrupt remapping (VT-d 5.1). With GSTS.IRES set, a
 * message to 0xfee00000..0xfeefffff in the remappable format (address bit
 * 4) names an interrupt remapping table entry by its handle (address bits
 * 19:5 and 2, plus the data's subhandle when SHV, bit 3, is set); the
 * entry gives the destination, vector, delivery and trigger modes, and
 * the message sent on is a compatibility-format one built from it.
 * Compatibility-format messages pass only with GSTS.CFIS (the guest's
 * choice); the rest fault (7.1.3, reasons 0x20..0x26) and are dropped.
 *
 * Sources: PCI functions by their requester id; the board's I/O APIC,
 * which is no PCI function, sends on the system bus and is source id
 * ff:00.0 (VTD_IOAPIC_SID), as the DMAR's device scope for it says and as
 * QEMU's q35 numbers it, so the guest's source-id verification holds.
 *
 * Table entries are read at every message: there is no interrupt entry
 * cache, so interrupt entry cache invalidations have nothing to drop.
 */
#include <errno.h>

#include "vtd.h"

#define MSI_FORMAT_REMAP (1u << 4)
#define MSI_SHV (1u << 3)

/* Source-id verification (9.10, SVT/SQ/SID of the entry's high half) */
static bool sid_ok(uint64_t hi, uint16_t sid)
{
    static const uint16_t sq_mask[4] = {0xffff, 0xfffb, 0xfff9, 0xfff8};
    uint16_t want = (uint16_t)hi;
    unsigned svt = (hi >> 18) & 3, sq = (hi >> 16) & 3;

    switch (svt) {
    case 0:
        return true;
    case 1:
        return (sid & sq_mask[sq]) == (want & sq_mask[sq]);
    case 2: /* the bus range [SID 15:8, SID 7:0] */
        return (sid >> 8) >= (want >> 8) && (sid >> 8) <= (want & 0xff);
    }
    return false;
}

static int ir_fault(vtd *s, uint16_t sid, unsigned index, uint8_t reason, bool fpd)
{
    vtd_record_fault(s, sid, (uint64_t)index << 48, reason, true, fpd);
    return -EFAULT;
}

static int read_irte(vtd *s, unsigned index, uint64_t *lo, uint64_t *hi)
{
    uint8_t b[16];
    uint64_t base = s->irta & ~0xfffull & (((1ull << s->aw_bits) - 1));

    if (H->as_read(H->system_memory(), base + 16ull * index, b, 16) != TES_MEM_OK) {
        return -1;
    }
    *lo = *hi = 0;
    for (unsigned i = 8; i-- > 0;) {
        *lo = *lo << 8 | b[i];
        *hi = *hi << 8 | b[8 + i];
    }
    return 0;
}

/* The compatibility-format message the entry lo describes (5.1.4). */
static void irte_message(vtd *s, uint64_t lo, uint64_t *addr, uint32_t *data)
{
    uint32_t dest = (s->irta & (1u << 11)) ? (uint32_t)(lo >> 32)   /* EIME: x2APIC id */
                                           : (uint32_t)(lo >> 40) & 0xff;
    bool tm = lo & (1u << 4);

    if (dest > 0xff) {
        H->log(TES_LOG_UNIMP, "intel-iommu: x2APIC destination %u does not fit an MSI; "
               "sent to %u", dest, dest & 0xff);
    }
    *addr = 0xfee00000ull | (uint64_t)(dest & 0xff) << 12 | (lo & 8) /* RH */ | (lo & 4) /* DM */;
    *data = (uint32_t)((lo >> 16) & 0xff) | (uint32_t)((lo >> 5) & 7) << 8 | 1u << 14 |
            (tm ? 1u << 15 : 0);
}

static int remap(vtd *s, uint16_t sid, uint64_t *addr, uint32_t *data)
{
    unsigned index = ((*addr >> 5) & 0x7fff) | ((*addr & 4) ? 0x8000 : 0);
    uint64_t lo, hi;

    if (*addr & MSI_SHV) {
        index += *data & 0xffff;
    }
    if (*addr >> 32 || (*data >> 16)) {
        return ir_fault(s, sid, index, VTD_FR_IR_REQ_RSVD, false);
    }
    if (index >= (2u << (s->irta & 0xf))) {
        return ir_fault(s, sid, index, VTD_FR_IR_INDEX, false);
    }
    if (read_irte(s, index, &lo, &hi)) {
        return ir_fault(s, sid, index, VTD_FR_IR_TABLE, false);
    }
    if (!(lo & 1)) {
        return ir_fault(s, sid, index, VTD_FR_IR_NP, lo & 2);
    }
    /* IM (posted, bit 15) is not advertised; bits 14:12 and 63:52 of hi */
    if ((lo & 0xf000) || (hi >> 20)) {
        return ir_fault(s, sid, index, VTD_FR_IR_RSVD, lo & 2);
    }
    if (!sid_ok(hi, sid)) {
        return ir_fault(s, sid, index, VTD_FR_IR_SID, lo & 2);
    }
    irte_message(s, lo, addr, data);
    return 0;
}

int vtd_remap_msi_sid(vtd *s, uint16_t sid, uint64_t *addr, uint32_t *data)
{
    uint32_t gsts = vtd_get32(s, VTD_GSTS);

    if ((*addr >> 20) != 0xfee || !(gsts & VTD_GCMD_IRE)) {
        return 0; /* not an interrupt request, or remapping off */
    }
    if (*addr & MSI_FORMAT_REMAP) {
        return remap(s, sid, addr, data);
    }
    if (gsts & VTD_GCMD_CFI) {
        return 0; /* compatibility format allowed through */
    }
    return ir_fault(s, sid, 0, VTD_FR_IR_COMPAT, false);
}

int vtd_remap_msi(void *opaque, uint16_t rid, uint64_t *addr, uint32_t *data)
{
    return vtd_remap_msi_sid(opaque, rid, addr, data);
}

int vtd_remap_platform_msi(void *opaque, uint16_t rid, uint64_t *addr, uint32_t *data)
{
    return vtd_remap_msi_sid(opaque, VTD_IOAPIC_SID, addr, data);
}
