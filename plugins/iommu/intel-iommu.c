/*
 * intel-iommu: an Intel VT-d DMA remapping unit for the q35 machine, as
 * QEMU's (hw/i386/intel_iommu.c) is seen by the guest. Driver: Linux
 * intel-iommu (intel_iommu=on).
 *
 * User manual
 *
 *   tessera -M q35[,kernel_irqchip=split] ... -device intel-iommu[,PROPS]
 *
 *   (QEMU's older spelling -device intel_iommu is the same device.)
 *
 *   intremap=on|off|auto  interrupt remapping (vtd-ir.c): ECAP.IR, the
 *                         DMAR's INTR_REMAP flag and a device scope for
 *                         the I/O APIC (source id ff:00.0). auto is on,
 *                         as QEMU decides without KVM's in-kernel irqchip.
 *   eim=on|off|auto       extended interrupt mode (ECAP.EIM, x2APIC
 *                         destinations; auto: off, and the DMAR opts out
 *                         of x2APIC as QEMU's); eim=on needs intremap=on.
 *   caching-mode=on|off   CAP.CM: the guest invalidates after making
 *                         entries present as well (default off).
 *   aw-bits=39|48         guest address width: 39 (3-level tables only)
 *                         or 48 (3- and 4-level); default 48.
 *   device-iotlb=on|off   ECAP.DT: accepted; device-TLB invalidations
 *                         complete at once (no device here has an ATC).
 *   pt=on|off             ECAP.PT, pass-through context entries (on).
 *
 * Only on q35 (QEMU's words: "Intel IOMMU is only supported by q35
 * machine"), at most one. Registers at 0xfed90000 (4 KiB): VER, CAP,
 * ECAP, GCMD/GSTS, RTADDR, CCMD, FSTS, FECTL/FEDATA/FEADDR, PMEN (reads
 * 0), IQH/IQT/IQA, ICS, IECTL/IEDATA/IEADDR, IRTA (latched by SIRTP; IRE
 * and CFI as the guest sets them), IVA/IOTLB at 0x200 and
 * four fault recording registers at 0x220. The board lists the DMAR table
 * it hands over through tessera/acpi.h: one DRHD with INCLUDE_PCI_ALL, so
 * every function below pcie.0 (behind root ports too) is translated, by
 * requester id (bus as the guest numbered it, devfn).
 *
 * Translation (vtd-walk.c): legacy root and context tables; context types
 * 0 (untranslated requests) and 1 (with device-TLB, when device-iotlb=on)
 * walk 3- or 4-level second-level tables with 2 MiB and 1 GiB pages; 2 is
 * pass-through. Requests to 0xfee00000..0xfeefffff are interrupt requests
 * and pass untranslated (VT-d 3.14). Results are cached in a context cache
 * and an IOTLB that only the guest's invalidations (vtd-inval.c: CCMD,
 * IOTLB/IVA, and the invalidation queue's context, IOTLB, device-TLB,
 * interrupt entry cache and wait descriptors) make coherent, as on
 * hardware. A DMA that faults (not present, read-only, beyond the address
 * width, bad entries) touches no memory: reads see all ones, and the fault
 * goes to the fault recording registers with the fault event interrupt.
 *
 * Errors: anything the guest programs wrong is logged under -d
 * guest_errors and reported the way VT-d reports it (a fault record, for
 * interrupt requests too: not present, beyond the table, source id; or
 * FSTS.IQE); nothing is fatal. Bad properties fail at start-up with one
 * line. Migration: the register file and the latched root and interrupt
 * remapping tables; the
 * caches start empty on the destination.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommu-claim.h"
#include "iommu-le.h"
#include "smmuv3.h"
#include "viommu.h"
#include "vtd.h"
#include "iommu-trace.h"

const tes_host *iommu_host;
TES_TRACE_DEFINE(IOMMU_TRACE)

/* ---- the register file ---- */

uint32_t vtd_get32(vtd *s, unsigned off)
{
    return (uint32_t)get_le(s->regs + off, 4);
}

uint64_t vtd_get64(vtd *s, unsigned off)
{
    return get_le(s->regs + off, 8);
}

void vtd_set32(vtd *s, unsigned off, uint32_t v)
{
    set_le(s->regs + off, v, 4);
}

void vtd_set64(vtd *s, unsigned off, uint64_t v)
{
    set_le(s->regs + off, v, 8);
}

static void define32(vtd *s, unsigned off, uint32_t val, uint32_t wmask, uint32_t w1c)
{
    set_le(s->regs + off, val, 4);
    set_le(s->wmask + off, wmask, 4);
    set_le(s->w1c + off, w1c, 4);
}

static void define64(vtd *s, unsigned off, uint64_t val, uint64_t wmask, uint64_t w1c)
{
    set_le(s->regs + off, val, 8);
    set_le(s->wmask + off, wmask, 8);
    set_le(s->w1c + off, w1c, 8);
}

static void regs_init(vtd *s)
{
    memset(s->regs, 0, sizeof(s->regs));
    memset(s->wmask, 0, sizeof(s->wmask));
    memset(s->w1c, 0, sizeof(s->w1c));
    define32(s, VTD_VER, 0x10, 0, 0);
    define64(s, VTD_CAP, s->cap, 0, 0);
    define64(s, VTD_ECAP, s->ecap, 0, 0);
    define64(s, VTD_RTADDR, 0, ~0x3ffull, 0);
    define64(s, VTD_CCMD, 0, 0xe0000003ffffffffull, 0);
    define32(s, VTD_FSTS, 0, 0, VTD_FSTS_W1C);
    define32(s, VTD_FECTL, VTD_ECTL_IM, VTD_ECTL_IM, 0);
    define32(s, VTD_FEDATA, 0, 0xffffffffu, 0);
    define32(s, VTD_FEADDR, 0, 0xfffffffcu, 0);
    define32(s, VTD_FEUADDR, 0, 0xffffffffu, 0);
    define64(s, VTD_IQT, 0, 0x7fff0ull, 0);
    define64(s, VTD_IQA, 0, ~0xff8ull, 0);
    define32(s, VTD_ICS, 0, 0, VTD_ICS_IWC);
    define32(s, VTD_IECTL, VTD_ECTL_IM, VTD_ECTL_IM, 0);
    define32(s, VTD_IEDATA, 0, 0xffffffffu, 0);
    define32(s, VTD_IEADDR, 0, 0xfffffffcu, 0);
    define32(s, VTD_IEUADDR, 0, 0xffffffffu, 0);
    define64(s, VTD_IRTA, 0, ~0x7f0ull, 0);
    define64(s, VTD_IVA, 0, ~0xf80ull, 0);
    define64(s, VTD_IOTLB, 0, 0xb003ffff00000000ull, 0);
    for (unsigned i = 0; i < VTD_NFR; i++) {
        define64(s, VTD_FRCD + 16 * i + 8, 0, 0, 1ull << 63);
    }
}

/* ---- interrupts (fault events 7.3, invalidation completion 6.5.2.9) ---- */

static void send_msi(vtd *s, unsigned ctl, unsigned data, unsigned addr, unsigned uaddr)
{
    uint32_t c = vtd_get32(s, ctl);

    if (c & VTD_ECTL_IP) {
        return; /* one message until software clears the conditions */
    }
    if (c & VTD_ECTL_IM) {
        vtd_set32(s, ctl, c | VTD_ECTL_IP);
        return;
    }
    /* The unit's own messages are not requests from a device: written
     * straight to memory, never remapped nor blocked (VT-d 5.1.6). */
    H->as_write(H->system_memory(), (uint64_t)vtd_get32(s, uaddr) << 32 | vtd_get32(s, addr),
                s->regs + data, 4);
}

void vtd_fault_event(vtd *s)
{
    send_msi(s, VTD_FECTL, VTD_FEDATA, VTD_FEADDR, VTD_FEUADDR);
}

void vtd_inv_event(vtd *s)
{
    send_msi(s, VTD_IECTL, VTD_IEDATA, VTD_IEADDR, VTD_IEUADDR);
}

void vtd_update_fsts(vtd *s)
{
    uint32_t fsts = vtd_get32(s, VTD_FSTS) & ~VTD_FSTS_PPF;

    for (unsigned i = 0; i < VTD_NFR; i++) {
        if (vtd_get64(s, VTD_FRCD + 16 * i + 8) >> 63) {
            fsts |= VTD_FSTS_PPF;
        }
    }
    vtd_set32(s, VTD_FSTS, fsts);
    if (!(fsts & (VTD_FSTS_W1C | VTD_FSTS_PPF))) {
        vtd_set32(s, VTD_FECTL, vtd_get32(s, VTD_FECTL) & ~VTD_ECTL_IP);
    }
}

/* Unmasking sends what was held back (IP set while masked). */
static void ectl_write(vtd *s, unsigned ctl, void (*event)(vtd *))
{
    uint32_t c = vtd_get32(s, ctl);

    if ((c & VTD_ECTL_IP) && !(c & VTD_ECTL_IM)) {
        vtd_set32(s, ctl, c & ~VTD_ECTL_IP);
        event(s);
    }
}

/* ---- GCMD (11.4.4): persistent enables and one-shot commands ---- */

static void gcmd_write(vtd *s, uint32_t val)
{
    uint32_t sts = vtd_get32(s, VTD_GSTS);

    if (val & VTD_GCMD_SRTP) {
        s->root = vtd_get64(s, VTD_RTADDR);
        sts |= VTD_GCMD_SRTP;
        vtd_flush_ctx(s);
        vtd_flush_iotlb(s, -1, 0, -1);
    }
    if ((val ^ sts) & VTD_GCMD_TE) {
        sts ^= VTD_GCMD_TE;
        vtd_flush_iotlb(s, -1, 0, -1);
    }
    if ((val ^ sts) & VTD_GCMD_QIE) {
        sts ^= VTD_GCMD_QIE;
        vtd_set64(s, VTD_IQH, 0); /* 6.5.2: the head restarts at 0 */
        if (sts & VTD_GCMD_QIE) {
            vtd_qi_run(s);
        }
    }
    if (s->ir && (val & VTD_GCMD_SIRTP)) {
        s->irta = vtd_get64(s, VTD_IRTA);
        sts |= VTD_GCMD_SIRTP;
    }
    if (s->ir && ((val ^ sts) & VTD_GCMD_IRE)) {
        sts ^= VTD_GCMD_IRE;
    }
    if (val & (VTD_GCMD_SFL | VTD_GCMD_EAFL | VTD_GCMD_WBF) ||
        (!s->ir && (val & (VTD_GCMD_IRE | VTD_GCMD_SIRTP)))) {
        H->log(TES_LOG_GUEST_ERROR, "intel-iommu: GCMD 0x%08x asks for what CAP/ECAP do not "
               "offer (advanced fault logging, write-buffer flush%s); ignored", val,
               s->ir ? "" : ", interrupt remapping");
    }
    sts = (sts & ~VTD_GCMD_CFI) | (val & VTD_GCMD_CFI);
    vtd_set32(s, VTD_GSTS, sts);
}

/* ---- MMIO ---- */

static uint64_t vtd_read(void *opaque, uint64_t off, unsigned size)
{
    vtd *s = opaque;

    if ((size != 4 && size != 8) || (off & (size - 1))) {
        H->log(TES_LOG_GUEST_ERROR, "intel-iommu: %u-byte read at 0x%llx", size,
               (unsigned long long)off);
        return 0;
    }
    if (off + size > VTD_REGS || off == VTD_GCMD) {
        return 0; /* GCMD is write-only; the rest of the window is reserved */
    }
    return get_le(s->regs + off, size);
}

/* Masked store: read-only bits keep their value, W1C bits clear on 1. */
static void store(vtd *s, unsigned off, uint64_t val, unsigned size)
{
    uint64_t old = get_le(s->regs + off, size), wm = get_le(s->wmask + off, size);
    uint64_t w1c = get_le(s->w1c + off, size);

    set_le(s->regs + off, ((old & ~wm) | (val & wm)) & ~(val & w1c), size);
}

/* Side effects, by the register the access touched (4-byte halves of a
 * 64-bit register count: Linux writes CCMD and IOTLB with one writeq, other
 * drivers with two writel, the upper half last). */
static void side_effects(vtd *s, unsigned off, unsigned size)
{
    unsigned end = off + size;

#define TOUCHES(r, lo, hi) (off < (r) + (hi) && end > (r) + (lo))
    if (TOUCHES(VTD_CCMD, 4, 8)) {
        vtd_ccmd_write(s);
    }
    if (TOUCHES(VTD_IOTLB, 4, 8)) {
        vtd_iotlb_write(s);
    }
    if (TOUCHES(VTD_IQT, 0, 4)) {
        vtd_qi_run(s);
    }
    if (TOUCHES(VTD_FECTL, 0, 4)) {
        ectl_write(s, VTD_FECTL, vtd_fault_event);
    }
    if (TOUCHES(VTD_IECTL, 0, 4)) {
        ectl_write(s, VTD_IECTL, vtd_inv_event);
    }
    if (TOUCHES(VTD_ICS, 0, 4) && !(vtd_get32(s, VTD_ICS) & VTD_ICS_IWC)) {
        vtd_set32(s, VTD_IECTL, vtd_get32(s, VTD_IECTL) & ~VTD_ECTL_IP);
    }
    if (TOUCHES(VTD_FSTS, 0, 4) || TOUCHES(VTD_FRCD, 0, 16 * VTD_NFR)) {
        vtd_update_fsts(s);
    }
#undef TOUCHES
}

static void vtd_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    vtd *s = opaque;

    if ((size != 4 && size != 8) || (off & (size - 1))) {
        H->log(TES_LOG_GUEST_ERROR, "intel-iommu: %u-byte write at 0x%llx", size,
               (unsigned long long)off);
        return;
    }
    if (off == VTD_GCMD) {
        gcmd_write(s, (uint32_t)val);
        return;
    }
    if (off + size > VTD_REGS) {
        H->log(TES_LOG_GUEST_ERROR, "intel-iommu: write of 0x%llx to reserved offset 0x%llx",
               (unsigned long long)val, (unsigned long long)off);
        return;
    }
    store(s, (unsigned)off, val, size);
    side_effects(s, (unsigned)off, size);
}

TES_TRACE_RW_WRAP(vtd, vtd_read, vtd_write, vtd_reg_read, vtd_reg_write)

static const tes_mem_ops vtd_ops = {
    .size = sizeof(tes_mem_ops),
    .read = vtd_traced_read,
    .write = vtd_traced_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 8,
    .impl_min = 1, .impl_max = 8, /* sizes checked above */
};

/* ---- the DMAR table (VT-d 8.1, 8.3) ---- */

static size_t build_dmar(vtd *s, uint8_t *b)
{
    size_t len = s->ir ? 36 : 28;

    memset(b, 0, len);
    b[0] = (uint8_t)(s->aw_bits - 1); /* host address width - 1 */
    /* INTR_REMAP; X2APIC_OPT_OUT unless EIM (as QEMU) */
    b[1] = s->ir ? (s->ecap & (1u << 4) ? 0x1 : 0x3) : 0;
    /* DRHD: type 0, its length, INCLUDE_PCI_ALL, segment 0, base */
    set_le(b + 12, 0, 2);
    set_le(b + 14, len - 12, 2);
    b[16] = 1;
    set_le(b + 18, 0, 2);
    set_le(b + 20, VTD_BASE, 8);
    if (s->ir) {
        /* device scope (8.3.1): type 3 I/O APIC, length 8, enumeration id,
         * start bus 0xff, path 00.0: its source id for remapping */
        b[28] = 3;
        b[29] = 8;
        b[32] = VTD_IOAPIC_ID;
        b[33] = VTD_IOAPIC_SID >> 8;
        b[34] = 0;
        b[35] = 0;
    }
    return len;
}

/* ---- the device ---- */

static bool on_off_auto(const char *v)
{
    return !strcmp(v, "on") || !strcmp(v, "off") || !strcmp(v, "auto");
}

static int decide_config(vtd *s)
{
    if (!on_off_auto(s->intremap)) {
        H->error(s->dev, "property 'intremap' wants on, off or auto, got '%s'", s->intremap);
        return -EINVAL;
    }
    if (!on_off_auto(s->eim)) {
        H->error(s->dev, "property 'eim' wants on, off or auto, got '%s'", s->eim);
        return -EINVAL;
    }
    /* auto: on, as QEMU decides without an in-kernel irqchip (TCG) */
    s->ir = strcmp(s->intremap, "off") != 0;
    if (!strcmp(s->eim, "on") && !s->ir) {
        H->error(s->dev, "eim=on cannot be selected without intremap=on");
        return -EINVAL;
    }
    if (s->aw_bits != 39 && s->aw_bits != 48) {
        H->error(s->dev, "Supported values for aw-bits are: 39, 48");
        return -EINVAL;
    }
    return 0;
}

static void set_caps(vtd *s)
{
    s->cap = 6ull                                  /* ND: 16-bit domain ids */
             | (s->caching_mode ? 1ull << 7 : 0)   /* CM */
             | (s->aw_bits == 48 ? 0x6ull : 0x2ull) << 8 /* SAGAW: 3(+4)-level */
             | (uint64_t)(s->aw_bits - 1) << 16    /* MGAW */
             | (uint64_t)(VTD_FRCD / 16) << 24     /* FRO */
             | 0x3ull << 34                        /* SLLPS: 2 MiB, 1 GiB */
             | 1ull << 39                          /* PSI */
             | (uint64_t)(VTD_NFR - 1) << 40       /* NFR */
             | (uint64_t)VTD_MAMV << 48;           /* MAMV */
    s->ecap = 1ull                                 /* C: walks see the CPUs' writes */
              | 1ull << 1                          /* QI */
              | (s->device_iotlb ? 1ull << 2 : 0)  /* DT */
              | (s->ir ? 1ull << 3 : 0)            /* IR */
              | (s->ir && !strcmp(s->eim, "on") ? 1ull << 4 : 0) /* EIM */
              | (s->pt ? 1ull << 6 : 0)            /* PT */
              | (uint64_t)(VTD_IVA / 16) << 8      /* IRO */
              | (s->ir ? 0xfull << 20 : 0);        /* MHMV */
}

static const tes_iommu_ops vtd_iommu_ops = {
    .size = sizeof(tes_iommu_ops),
    .translate = vtd_translate,
    .remap_msi = vtd_remap_msi,
};

/* The system bus: no DMA to translate, only the I/O APIC's messages. */
static const tes_iommu_ops vtd_platform_ops = {
    .size = sizeof(tes_iommu_ops),
    .remap_msi = vtd_remap_platform_msi,
};

static int vtd_realize(tes_device *dev, void *opaque)
{
    vtd *s = opaque;
    const tes_acpi_iface *acpi = H->iface_lookup(TES_ACPI_IFACE, TES_ACPI_IFACE_VERSION);
    uint8_t dmar[64];
    int ret;

    s->dev = dev;
    if (!acpi || !(s->bus = acpi->pci_root(0))) {
        H->error(dev, "Intel IOMMU is only supported by q35 machine");
        return -ENODEV;
    }
    if (iommu_holder(s->bus)) {
        H->error(dev, "the PCI root bus has an IOMMU already (%s)", iommu_holder(s->bus));
        return -EEXIST;
    }
    ret = decide_config(s);
    if (ret) {
        return ret;
    }
    set_caps(s);
    regs_init(s);
    ret = acpi->add_table("DMAR", 1, dmar, build_dmar(s, dmar));
    if (ret) {
        H->error(dev, ret == -EEXIST ? "there can be only one IOMMU (a DMAR table is there "
                 "already)" : "the board cannot add the DMAR table (%s)", strerror(-ret));
        return ret;
    }
    s->mmio = H->region_new_io(dev, "intel-iommu", VTD_MMIO_SIZE, &vtd_ops, s);
    H->region_add(H->system_memory(), VTD_BASE, s->mmio, 0);
    H->dma_set_iommu(s->bus, &vtd_iommu_ops, s);
    iommu_claim(s->bus, s, "intel-iommu");
    if (s->ir) {
        s->sysbus = H->dev_bus(dev);
        H->dma_set_iommu(s->sysbus, &vtd_platform_ops, s);
    }
    return 0;
}

static void vtd_unrealize(tes_device *dev, void *opaque)
{
    vtd *s = opaque;

    /* The core drops the claims on s->bus and s->sysbus (host.h): pci.0
     * may be gone already. */
    iommu_unclaim(s);
    if (s->mmio) {
        H->region_del(H->system_memory(), s->mmio);
    }
}

static void vtd_reset(tes_device *dev, void *opaque)
{
    vtd *s = opaque;

    regs_init(s);
    s->root = s->irta = 0;
    vtd_flush_ctx(s);
    vtd_flush_iotlb(s, -1, 0, -1);
}

/* The stream carries registers as the guest left them; read-only ones
 * are what this build advertises, and the caches start cold. */
static int vtd_post_load(tes_device *dev, void *opaque, uint32_t version)
{
    vtd *s = opaque;

    vtd_set32(s, VTD_VER, 0x10);
    vtd_set64(s, VTD_CAP, s->cap);
    vtd_set64(s, VTD_ECAP, s->ecap);
    vtd_flush_ctx(s);
    vtd_flush_iotlb(s, -1, 0, -1);
    vtd_update_fsts(s);
    return 0;
}

static const tes_state_field vtd_fields[] = {
    TES_FIELD_BYTES(vtd, regs),
    TES_FIELD_U64(vtd, root),
    TES_FIELD_U64(vtd, irta),
    TES_FIELD_END,
};

static const tes_state_info vtd_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = vtd_fields,
    .post_load = vtd_post_load,
};

static const tes_prop_info vtd_props[] = {
    TES_PROP("intremap", TES_PROP_STRING, vtd, intremap, "auto", 0, 0,
             "on|off|auto: interrupt remapping (auto: on, as QEMU without KVM)"),
    TES_PROP("eim", TES_PROP_STRING, vtd, eim, "auto", 0, 0,
             "on|off|auto: extended interrupt mode (needs intremap=on)"),
    TES_PROP("caching-mode", TES_PROP_BOOL, vtd, caching_mode, "off", 0, 0,
             "CAP.CM: the guest also invalidates not-present to present changes"),
    TES_PROP("aw-bits", TES_PROP_U8, vtd, aw_bits, "48", 0, 0,
             "guest address width: 39 or 48"),
    TES_PROP("device-iotlb", TES_PROP_BOOL, vtd, device_iotlb, "off", 0, 0,
             "ECAP.DT: device-TLB support (context type 1)"),
    TES_PROP("pt", TES_PROP_BOOL, vtd, pt, "on", 0, 0, "ECAP.PT: pass-through contexts"),
    TES_PROP_END,
};

#define VTD_TYPE(nm)                                                                \
    {                                                                               \
        .size = sizeof(tes_type_info), .kind = TES_KIND_DEVICE, .name = nm,         \
        .desc = "Intel IOMMU (VT-d) DMA Remapping device", .bus = NULL,             \
        .instance_size = sizeof(vtd), .props = vtd_props, .realize = vtd_realize,   \
        .unrealize = vtd_unrealize, .reset = vtd_reset, .state = &vtd_state,        \
    }

static const tes_type_info vtd_type = VTD_TYPE("intel-iommu");
static const tes_type_info vtd_type_old = VTD_TYPE("intel_iommu"); /* QEMU < 2.7 */

/* ---- one IOMMU per root bus (iommu-claim.h) ---- */

#define MAX_CLAIMS 8

static struct {
    tes_bus *bus;
    const void *owner;
    const char *type;
} claims[MAX_CLAIMS];

const char *iommu_holder(tes_bus *bus)
{
    for (unsigned i = 0; i < MAX_CLAIMS; i++) {
        if (claims[i].owner && claims[i].bus == bus) {
            return claims[i].type;
        }
    }
    return NULL;
}

bool iommu_claim(tes_bus *bus, const void *owner, const char *type)
{
    for (unsigned i = 0; i < MAX_CLAIMS; i++) {
        if (!claims[i].owner) {
            claims[i].bus = bus;
            claims[i].owner = owner;
            claims[i].type = type;
            return true;
        }
    }
    return false;
}

void iommu_unclaim(const void *owner)
{
    for (unsigned i = 0; i < MAX_CLAIMS; i++) {
        if (claims[i].owner == owner) {
            claims[i].owner = NULL;
            claims[i].bus = NULL;
        }
    }
}

static int iommu_plugin_init(const tes_host *host)
{
    iommu_host = host;
    if (TES_TRACE_REGISTER(host) != 0) {
        return -22; /* -EINVAL: a malformed event table */
    }
    return smmuv3_plugin_init(host);
}

static const tes_type_info *const iommu_types[] = {&vtd_type, &vtd_type_old, &smmuv3_type,
                                                   &viommu_type, NULL};

TES_PLUGIN_DEFINE(.name = "iommu", .version = "0.1.0", .license = "MIT",
                  .desc = "IOMMUs: Intel VT-d (intel-iommu) for q35, Arm SMMUv3 for virt, "
                          "virtio-iommu",
                  .types = iommu_types, .init = iommu_plugin_init);
