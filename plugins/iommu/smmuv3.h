/*
 * plugins/iommu: Arm SMMUv3 (arm-smmuv3) internals shared by its files:
 * smmuv3.c (the device, its registers, the command and event queues) and
 * smmuv3-walk.c (stream table, context descriptors, stage-1 page tables,
 * the configuration cache and IOTLB). Offsets, bits and event numbers are
 * the SMMUv3 architecture's (IHI 0070), names after Linux's
 * drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h where it has one.
 */
#ifndef IOMMU_SMMUV3_H
#define IOMMU_SMMUV3_H

#include <stdbool.h>
#include <stdint.h>
#include <tessera/tessera.h>

extern const tes_host *iommu_host; /* set by the plugin's init */
#define SH iommu_host

/* Registers (page 0; page 1 at 0x10000 aliases it, as QEMU's) */
#define SMMU_IDR0 0x00
#define SMMU_IDR1 0x04
#define SMMU_IDR2 0x08
#define SMMU_IDR3 0x0c
#define SMMU_IDR4 0x10
#define SMMU_IDR5 0x14
#define SMMU_IIDR 0x18
#define SMMU_AIDR 0x1c
#define SMMU_CR0 0x20
#define SMMU_CR0ACK 0x24
#define SMMU_CR1 0x28
#define SMMU_CR2 0x2c
#define SMMU_STATUSR 0x40
#define SMMU_GBPA 0x44
#define SMMU_AGBPA 0x48
#define SMMU_IRQ_CTRL 0x50
#define SMMU_IRQ_CTRLACK 0x54
#define SMMU_GERROR 0x60
#define SMMU_GERRORN 0x64
#define SMMU_GERROR_IRQ_CFG0 0x68
#define SMMU_GERROR_IRQ_CFG1 0x70
#define SMMU_GERROR_IRQ_CFG2 0x74
#define SMMU_STRTAB_BASE 0x80
#define SMMU_STRTAB_BASE_CFG 0x88
#define SMMU_CMDQ_BASE 0x90
#define SMMU_CMDQ_PROD 0x98
#define SMMU_CMDQ_CONS 0x9c
#define SMMU_EVTQ_BASE 0xa0
#define SMMU_EVTQ_PROD 0xa8 /* architecturally 0x100a8 (page 1) */
#define SMMU_EVTQ_CONS 0xac
#define SMMU_EVTQ_IRQ_CFG0 0xb0
#define SMMU_EVTQ_IRQ_CFG1 0xb8
#define SMMU_EVTQ_IRQ_CFG2 0xbc
#define SMMU_PRIQ_BASE 0xc0
#define SMMU_PRIQ_PROD 0xc8
#define SMMU_PRIQ_CONS 0xcc
#define SMMU_PRIQ_IRQ_CFG0 0xd0
#define SMMU_PRIQ_IRQ_CFG1 0xd8
#define SMMU_PRIQ_IRQ_CFG2 0xdc
#define SMMU_REGS 0xe0

#define CR0_SMMUEN (1u << 0)
#define CR0_EVTQEN (1u << 2)
#define CR0_CMDQEN (1u << 3)
#define GBPA_UPDATE (1u << 31)
#define GBPA_ABORT (1u << 20)
#define IRQ_CTRL_GERROR_IRQEN (1u << 0)
#define IRQ_CTRL_EVTQ_IRQEN (1u << 2)
#define GERROR_CMDQ_ERR (1u << 0)
#define GERROR_EVTQ_ABT_ERR (1u << 2)
#define GERROR_MSI_CMDQ_ABT_ERR (1u << 4)
#define GERROR_MSI_EVTQ_ABT_ERR (1u << 5)
#define GERROR_MSI_GERROR_ABT_ERR (1u << 7)
#define GERROR_MASK 0x1fdu
#define Q_OVF (1u << 31)
#define CMDQ_CONS_ERR_SHIFT 24

/* What the unit advertises (IDR0/1/5) */
#define SMMU_SIDSIZE 16     /* stream ids: PCI requester ids */
#define SMMU_CMDQS 10       /* at most 1024 commands... */
#define SMMU_EVTQS 10       /* ...and 1024 events */
#define SMMU_OAS_BITS 48

/* Command errors (CMDQ_CONS.ERR) */
enum { CERROR_NONE = 0, CERROR_ILL = 1, CERROR_ABT = 2 };

/* Event numbers (IHI 0070, 7.3) */
enum {
    EVT_F_UUT = 0x01,
    EVT_C_BAD_STREAMID = 0x02,
    EVT_F_STE_FETCH = 0x03,
    EVT_C_BAD_STE = 0x04,
    EVT_F_STREAM_DISABLED = 0x06,
    EVT_C_BAD_SUBSTREAMID = 0x08,
    EVT_F_CD_FETCH = 0x09,
    EVT_C_BAD_CD = 0x0a,
    EVT_F_WALK_EABT = 0x0b,
    EVT_F_TRANSLATION = 0x10,
    EVT_F_ADDR_SIZE = 0x11,
    EVT_F_ACCESS = 0x12,
    EVT_F_PERMISSION = 0x13,
};

/* Interrupt outputs, in the DT's interrupt-names order (QEMU's) */
enum { SMMU_IRQ_EVTQ, SMMU_IRQ_PRIQ, SMMU_IRQ_CMD_SYNC, SMMU_IRQ_GERROR, SMMU_NUM_IRQS };

#define SMMU_CFG_CACHE 256u  /* direct-mapped by stream id */
#define SMMU_TLB_SIZE 1024u  /* direct-mapped by (stream id, 4 KiB page) */

/* What a stream's STE (and CD) say, once validated. */
enum { CFG_ABORT, CFG_BYPASS, CFG_TRANS };

typedef struct smmu_cfg {
    uint32_t gen;      /* valid while it equals smmu.cfg_gen */
    uint32_t sid;
    uint8_t kind;      /* CFG_* */
    uint8_t granule;   /* log2: 12, 14 or 16 */
    uint8_t va_bits;   /* 64 - T0SZ */
    uint8_t oas;       /* output address bits (CD.IPS, capped by OAS) */
    bool epd0, affd, record;
    uint16_t asid;
    uint64_t ttb;
} smmu_cfg;

typedef struct smmu_tlb {
    uint32_t gen;      /* valid while it equals smmu.tlb_gen */
    uint32_t sid;
    uint16_t asid;
    uint8_t perm;      /* bit 0 read, bit 1 write */
    uint8_t size_log2; /* the leaf's size: TLBI by address matches it */
    uint64_t pfn;      /* iova >> 12 */
    uint64_t pa;       /* physical address of that 4 KiB page */
} smmu_tlb;

typedef struct smmu {
    tes_device *dev;
    tes_region *mmio;
    tes_bus *bus;      /* the PCI bus whose DMA it translates */
    uint8_t wmask[SMMU_REGS];
    /* migrated: the register file */
    uint8_t regs[SMMU_REGS];
    bool cmdq_busy;    /* cmdq_run is running (its MSIs may write PROD) */
    bool evtq_busy;    /* an event is being written */
    /* caches: dropped on migration and reset, refilled by walks */
    uint32_t cfg_gen, tlb_gen;
    smmu_cfg cfg[SMMU_CFG_CACHE];
    smmu_tlb tlb[SMMU_TLB_SIZE];
    uint64_t stat_hits, stat_walks, stat_faults, stat_events;
} smmu;

/* ---- smmuv3.c ---- */
extern const tes_type_info smmuv3_type;
/* The plugin's init: registers the board interface (<tessera/smmuv3.h>). */
int smmuv3_plugin_init(const tes_host *host);
uint32_t smmu_get32(smmu *s, unsigned off);
uint64_t smmu_get64(smmu *s, unsigned off);
void smmu_set32(smmu *s, unsigned off, uint32_t v);
/* Append a 32-byte record to the event queue (when enabled), with its
 * interrupt; overflow and queue errors as the architecture says. */
void smmu_event(smmu *s, const uint64_t ev[4]);

/* ---- smmuv3-walk.c ---- */
/* tes_iommu_ops.translate */
int smmu_translate(void *opaque, uint16_t rid, uint64_t iova, bool is_write, uint64_t *pa,
                   uint64_t *len);
void smmu_flush_cfg(smmu *s, uint32_t sid_first, uint32_t sid_last);
void smmu_flush_cfg_all(smmu *s);
void smmu_flush_tlb_all(smmu *s);
/* asid < 0: every ASID; leaf size matched when by_addr */
void smmu_flush_tlb(smmu *s, int asid, bool by_addr, uint64_t addr);
/* The leaves overlapping [addr, addr + len) (range invalidation, RIL) */
void smmu_flush_tlb_range(smmu *s, int asid, uint64_t addr, uint64_t len);

#endif
