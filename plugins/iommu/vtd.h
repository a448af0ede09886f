/*
 * plugins/iommu: Intel VT-d (intel-iommu) internals shared by its files:
 * intel-iommu.c (the device, its registers, the DMAR table), vtd-walk.c
 * (root/context/second-level page tables, the caches, fault recording),
 * vtd-inval.c (register-based and queued invalidation). Register offsets
 * and bits are the VT-d specification's (rev. 4.1, chapter 11), names
 * after Linux's include/linux/intel-iommu.h where it has one.
 */
#ifndef IOMMU_VTD_H
#define IOMMU_VTD_H

#include <stdbool.h>
#include <stdint.h>
#include <tessera/tessera.h>

extern const tes_host *iommu_host; /* set by the plugin's init */
#define H iommu_host

#define VTD_BASE 0xfed90000ull /* QEMU's Q35_HOST_BRIDGE_IOMMU_ADDR */
#define VTD_MMIO_SIZE 0x1000u
#define VTD_REGS 0x260u        /* the implemented part of the window */

/* Registers (VT-d 11.4) */
#define VTD_VER 0x00
#define VTD_CAP 0x08
#define VTD_ECAP 0x10
#define VTD_GCMD 0x18
#define VTD_GSTS 0x1c
#define VTD_RTADDR 0x20
#define VTD_CCMD 0x28
#define VTD_FSTS 0x34
#define VTD_FECTL 0x38
#define VTD_FEDATA 0x3c
#define VTD_FEADDR 0x40
#define VTD_FEUADDR 0x44
#define VTD_PMEN 0x64
#define VTD_IQH 0x80
#define VTD_IQT 0x88
#define VTD_IQA 0x90
#define VTD_ICS 0x9c
#define VTD_IECTL 0xa0
#define VTD_IEDATA 0xa4
#define VTD_IEADDR 0xa8
#define VTD_IEUADDR 0xac
#define VTD_IRTA 0xb8
#define VTD_IVA 0x200          /* ECAP.IRO = 0x20 (16-byte units) */
#define VTD_IOTLB 0x208
#define VTD_FRCD 0x220         /* CAP.FRO = 0x22 */
#define VTD_NFR 4u             /* fault recording registers (CAP.NFR + 1) */

/* GCMD / GSTS (11.4.4, 11.4.5): the same bit positions */
#define VTD_GCMD_TE (1u << 31)
#define VTD_GCMD_SRTP (1u << 30)
#define VTD_GCMD_SFL (1u << 29)
#define VTD_GCMD_EAFL (1u << 28)
#define VTD_GCMD_WBF (1u << 27)
#define VTD_GCMD_QIE (1u << 26)
#define VTD_GCMD_IRE (1u << 25)
#define VTD_GCMD_SIRTP (1u << 24)
#define VTD_GCMD_CFI (1u << 23)

/* FSTS (11.4.9.1) and FECTL/IECTL */
#define VTD_FSTS_PFO (1u << 0)
#define VTD_FSTS_PPF (1u << 1)
#define VTD_FSTS_IQE (1u << 4)
#define VTD_FSTS_ICE (1u << 5)
#define VTD_FSTS_ITE (1u << 6)
#define VTD_FSTS_W1C 0x7du
#define VTD_FSTS_FRI_SHIFT 8
#define VTD_ECTL_IM (1u << 31)
#define VTD_ECTL_IP (1u << 30)
#define VTD_ICS_IWC 1u

/* CCMD (11.4.7.1), IOTLB (11.4.8.1) */
#define VTD_CCMD_ICC (1ull << 63)
#define VTD_CCMD_CIRG_SHIFT 61
#define VTD_CCMD_CAIG_SHIFT 59
#define VTD_IOTLB_IVT (1ull << 63)
#define VTD_IOTLB_IIRG_SHIFT 60
#define VTD_IOTLB_IAIG_SHIFT 57
#define VTD_MAMV 18u

/* Fault reasons (VT-d 7.1.3, Table 26: legacy mode) */
enum {
    VTD_FR_ROOT_NP = 0x1,
    VTD_FR_CTX_NP = 0x2,
    VTD_FR_CTX_INVALID = 0x3,
    VTD_FR_BEYOND_AW = 0x4,
    VTD_FR_WRITE = 0x5,
    VTD_FR_READ = 0x6,
    VTD_FR_PT_ADDR = 0x7,
    VTD_FR_ROOT_ADDR = 0x8,
    VTD_FR_ROOT_RSVD = 0xa,
    VTD_FR_CTX_RSVD = 0xb,
    VTD_FR_PTE_RSVD = 0xc,
    /* interrupt remapping */
    VTD_FR_IR_REQ_RSVD = 0x20,
    VTD_FR_IR_INDEX = 0x21,
    VTD_FR_IR_NP = 0x22,
    VTD_FR_IR_TABLE = 0x23,
    VTD_FR_IR_RSVD = 0x24,
    VTD_FR_IR_COMPAT = 0x25,
    VTD_FR_IR_SID = 0x26,
};

/* The I/O APIC's source id: ff:00.0, QEMU's Q35_PSEUDO_BUS_PLATFORM and
 * devfn, which the DMAR's device scope gives the guest. */
#define VTD_IOAPIC_SID 0xff00u
#define VTD_IOAPIC_ID 0u /* its APIC id in the MADT */

#define VTD_CTX_CACHE 256u  /* direct-mapped by source id */
#define VTD_IOTLB_SIZE 1024u /* direct-mapped by (source id, 4 KiB page) */

typedef struct vtd_ctx {
    bool valid;
    uint16_t sid;
    uint64_t lo, hi; /* the context entry (VT-d 9.3) */
} vtd_ctx;

typedef struct vtd_tlb {
    bool valid;
    uint8_t perm;     /* bit 0 read, bit 1 write */
    uint16_t sid, did;
    uint64_t pfn;     /* iova >> 12 */
    uint64_t pa;      /* physical address of that 4 KiB page */
} vtd_tlb;

typedef struct vtd {
    tes_device *dev;
    tes_region *mmio;
    tes_bus *bus;      /* the PCI root bus whose DMA it translates */
    /* properties */
    char *intremap;    /* on|off|auto */
    char *eim;         /* on|off|auto */
    bool caching_mode, device_iotlb, pt;
    uint8_t aw_bits;
    /* derived at realize */
    bool ir;           /* interrupt remapping advertised */
    uint64_t cap, ecap;
    uint8_t wmask[VTD_REGS], w1c[VTD_REGS];
    /* migrated: the register file and the root table the guest latched */
    uint8_t regs[VTD_REGS];
    uint64_t root;     /* RTADDR as of the last SRTP */
    uint64_t irta;     /* IRTA as of the last SIRTP */
    tes_bus *sysbus;   /* where the I/O APIC sends from (remapping only) */
    /* caches: dropped on migration and reset, refilled by walks */
    vtd_ctx ctx[VTD_CTX_CACHE];
    vtd_tlb tlb[VTD_IOTLB_SIZE];
    uint64_t stat_hits, stat_walks, stat_faults;
} vtd;

/* ---- intel-iommu.c: the register file ---- */
uint32_t vtd_get32(vtd *s, unsigned off);
uint64_t vtd_get64(vtd *s, unsigned off);
void vtd_set32(vtd *s, unsigned off, uint32_t v);
void vtd_set64(vtd *s, unsigned off, uint64_t v);
/* FECTL/IECTL interrupt conditions (VT-d 7.3.1 and 6.5.2.9) */
void vtd_fault_event(vtd *s);
void vtd_inv_event(vtd *s);
/* PPF from the fault records; drops FECTL.IP once nothing is pending */
void vtd_update_fsts(vtd *s);

/* ---- vtd-walk.c ---- */
/* tes_iommu_ops.translate */
int vtd_translate(void *opaque, uint16_t rid, uint64_t iova, bool is_write, uint64_t *pa,
                  uint64_t *len);
void vtd_flush_ctx(vtd *s);
/* did < 0: every domain; am < 0: every page of it */
void vtd_flush_iotlb(vtd *s, int did, uint64_t addr, int am);

/* A fault record (7.2.1): fi is the page address or, for interrupt
 * requests, the index in bits 63:48; fpd: fault processing disabled. */
void vtd_record_fault(vtd *s, uint16_t sid, uint64_t fi, uint8_t reason, bool is_write,
                      bool fpd);

/* ---- vtd-ir.c: tes_iommu_ops.remap_msi, for PCI requesters and for the
 * system bus (whose only sender of messages is the I/O APIC) ---- */
int vtd_remap_msi(void *opaque, uint16_t rid, uint64_t *addr, uint32_t *data);
int vtd_remap_platform_msi(void *opaque, uint16_t rid, uint64_t *addr, uint32_t *data);

/* ---- vtd-inval.c ---- */
void vtd_ccmd_write(vtd *s);
void vtd_iotlb_write(vtd *s);
/* IQT written or QIE set: run descriptors from IQH up to IQT */
void vtd_qi_run(vtd *s);

#endif
