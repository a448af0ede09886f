/*
 * megasas: register, frame and firmware-interface definitions of the LSI
 * MegaRAID SAS 1078 (the MFI interface the Linux megaraid_sas driver, the
 * BSD mfi driver and QEMU's megasas speak), and the state megasas.c and
 * megasas-dcmd.c share.
 */
#ifndef MEGASAS_REGS_H
#define MEGASAS_REGS_H

#include <string.h>

#include "dma-cache.h"
#include "scsi-int.h"

/* BAR0 (and the I/O BAR's 256 bytes): 32-bit registers. */
#define MFI_OMSG0 0x18 /* outbound message 0: firmware status */
#define MFI_IDB 0x20   /* inbound doorbell: reset / handshake bits */
#define MFI_OSTS 0x30  /* outbound interrupt status */
#define MFI_OMSK 0x34  /* outbound interrupt mask */
#define MFI_IQP 0x40   /* inbound queue port: frame address | count << 1 | 1 */
#define MFI_ODCR0 0xa0 /* outbound doorbell clear (write 1 to clear) */
#define MFI_OSP0 0xb0  /* outbound scratch pad 0: firmware status (1078) */
#define MFI_OSP1 0xb4
#define MFI_IQPL 0xc0 /* inbound queue port, low half of a 64-bit address */
#define MFI_IQPH 0xc4 /* ... its high half, written first */
#define MFI_REGS_SIZE 0x2000
#define MFI_BAR0_SIZE 0x4000
#define MFI_MSIX_TABLE 0x2000
#define MFI_MSIX_PBA 0x3800
#define MFI_MSIX_VECTORS 15
#define MFI_QUEUE_BAR_SIZE 0x40000

/* Outbound interrupt status / mask: reply message posted (1078). */
#define MFI_1078_RM 0x80000000u

/* Firmware status (OMSG0, OSP0): state, SGEs, commands. */
#define MFI_FWSTATE_READY 0xb0000000u
#define MFI_FWSTATE_OPERATIONAL 0xc0000000u
#define MFI_FWSTATE_FAULT 0xf0000000u
#define MFI_FWSTATE_MSIX_SUPPORTED 0x04000000u /* Linux: also "IEEE SGLs" */

/* Inbound doorbell bits. */
#define MFI_FWINIT_ABORT 0x01
#define MFI_FWINIT_READY 0x02
#define MFI_FWINIT_STOP_ADP 0x20

/* Frame commands. */
#define MFI_CMD_INIT 0x00
#define MFI_CMD_LD_READ 0x01
#define MFI_CMD_LD_WRITE 0x02
#define MFI_CMD_LD_SCSI_IO 0x03
#define MFI_CMD_PD_SCSI_IO 0x04
#define MFI_CMD_DCMD 0x05
#define MFI_CMD_ABORT 0x06

/* Frame header (every frame): offsets. */
#define FR_CMD 0x00
#define FR_SENSE_LEN 0x01
#define FR_STATUS 0x02
#define FR_SCSI_STATUS 0x03
#define FR_TARGET 0x04
#define FR_LUN 0x05 /* LD IO: access byte (CDB byte 1: FUA) */
#define FR_CDB_LEN 0x06
#define FR_SGE_COUNT 0x07
#define FR_CONTEXT 0x08 /* 32 bits, 64 with MFI_QUEUE_FLAG_CONTEXT64 */
#define FR_FLAGS 0x10
#define FR_XFER_LEN 0x14 /* LD IO: block count */
#define FR_SENSE_LO 0x18 /* LD IO and pass-through */
#define FR_SENSE_HI 0x1c
#define FR_LBA_LO 0x20 /* LD IO */
#define FR_LBA_HI 0x24
#define FR_CDB 0x20    /* pass-through: 16 bytes */
#define FR_OPCODE 0x18 /* DCMD */
#define FR_MBOX 0x1c   /* DCMD: 12 bytes */
#define FR_QINFO_LO 0x18 /* INIT */
#define FR_QINFO_HI 0x1c
#define FR_ABORT_CONTEXT 0x18 /* ABORT */
#define FR_ABORT_ADDR_LO 0x20
#define FR_ABORT_ADDR_HI 0x24
#define SGL_IO 0x28
#define SGL_PASS 0x30
#define SGL_DCMD 0x28
#define MFI_FRAME_SIZE 64

/* Frame flags. */
#define MFI_FRAME_DONT_POST 0x0001
#define MFI_FRAME_SGL64 0x0002
#define MFI_FRAME_SENSE64 0x0004
#define MFI_FRAME_DIR_WRITE 0x0008
#define MFI_FRAME_DIR_READ 0x0010
#define MFI_FRAME_IEEE 0x0020

/* Init queue info flags. */
#define MFI_QUEUE_FLAG_CONTEXT64 0x2

/* Status codes (cmd_status). */
#define MFI_STAT_OK 0x00
#define MFI_STAT_INVALID_CMD 0x01
#define MFI_STAT_INVALID_DCMD 0x02
#define MFI_STAT_INVALID_PARAMETER 0x03
#define MFI_STAT_ABORT_NOT_POSSIBLE 0x05
#define MFI_STAT_DEVICE_NOT_FOUND 0x0c
#define MFI_STAT_MEMORY_NOT_AVAILABLE 0x20
#define MFI_STAT_SCSI_DONE_WITH_ERROR 0x2d
#define MFI_STAT_SCSI_IO_FAILED 0x2e
#define MFI_STAT_WRONG_STATE 0x32
#define MFI_STAT_INVALID_STATUS 0xff
#define MFI_PENDING 0x100 /* not a status: the command completes later */

/* DCMD opcodes. */
#define DCMD_CTRL_GET_INFO 0x01010000u
#define DCMD_CTRL_GET_PROPERTIES 0x01020100u
#define DCMD_CTRL_SET_PROPERTIES 0x01020200u
#define DCMD_CTRL_EVENT_GETINFO 0x01040100u
#define DCMD_CTRL_EVENT_WAIT 0x01040500u
#define DCMD_CTRL_SHUTDOWN 0x01050000u
#define DCMD_CTRL_GET_TIME 0x01080101u
#define DCMD_CTRL_SET_TIME 0x01080102u
#define DCMD_CTRL_CACHE_FLUSH 0x01101000u
#define DCMD_PD_GET_LIST 0x02010000u
#define DCMD_PD_LIST_QUERY 0x02010100u
#define DCMD_PD_GET_INFO 0x02020000u
#define DCMD_LD_GET_LIST 0x03010000u
#define DCMD_LD_LIST_QUERY 0x03010100u
#define DCMD_LD_GET_INFO 0x03020000u
#define DCMD_LD_GET_PROP 0x03030000u

/* Events (EVENT_WAIT's answer). */
#define MR_EVT_PD_INSERTED 0x005b
#define MR_EVT_PD_REMOVED 0x0070
#define MR_EVT_LD_CREATED 0x008a
#define MR_EVT_LD_DELETED 0x008b
#define MFI_EVT_DETAIL_SIZE 256

#define MFI_MAX_LD 64        /* logical drives: scsi-id 0..63, LUN 0 */
#define MFI_MAX_SGE 255      /* what the status register's 8 bits carry */
#define MFI_MAX_CMDS 2048
#define MFI_SENSE_MAX 128

typedef struct megasas megasas;

/* One frame the guest handed over, until its completion is posted. */
typedef struct mcmd {
    megasas *s;
    struct mcmd *next;
    struct mcmd **pprev; /* what points at this one: unlinking is O(1) */
    uint64_t frame;   /* guest address */
    uint64_t context; /* what goes into the reply queue */
    uint64_t sense_addr;
    uint16_t flags;
    uint8_t cmd, sense_len;
    tes_scsi_req *req; /* on the SCSI bus, or NULL */
    bool aen;          /* a parked EVENT_WAIT */
    uint64_t evt_addr; /* EVENT_WAIT: where the event detail goes */
    uint32_t evt_len;
    bool dead;         /* ended by a reset: complete without a reply */
} mcmd;

/* A scatter-gather list read from a frame. */
typedef struct msgl {
    tes_scsi_sge sg[MFI_MAX_SGE];
    unsigned n;
    uint64_t total;
} msgl;

struct megasas {
    tes_device *dev;
    tes_scsi_bus *sbus;
    /* Properties. */
    uint32_t max_sge, max_cmds;
    bool msi, msix, use_jbod;
    uint64_t sas_addr;
    char *hba_serial;
    /* Migrated. */
    uint32_t fw_state, intr_mask, osts, frame_hi;
    uint64_t rq_pa, pi_pa, ci_pa;
    uint32_t rq_entries, producer;
    bool ctx64;
    uint32_t event_seq;
    /* An event no EVENT_WAIT was parked for yet (hotplug). */
    bool ev_pending;
    uint32_t ev_code, ev_target;
    /* Nonzero while we access guest memory or send an MSI: a register
     * write then (DMA aimed at our own BAR) is dropped, never run inside
     * the access that caused it. */
    unsigned dma_depth;
    /* Frames in flight (parked AENs included). */
    mcmd *cmds;
    unsigned ncmds;
    /* The SGL of the I/O frame being submitted: the bus copies it in
     * req_map, so one per controller does; a 4 KiB malloc per frame went
     * to glibc's slow bins (a quarter of the user-space instructions per
     * request). */
    msgl io_sgl;
    /* Finished frame records for the next frames: at QD 32 a malloc and
     * free each went to glibc's slow bins (its per-thread cache holds 7). */
    mcmd *spare;
    unsigned nspare;
    /* The pages of the frames, the reply queue and its indexes, mapped
     * once (dma-cache.h): five DMAs a request otherwise. */
    dcache dc;
    /* The reply queue and its two indexes as host pointers, kept while
     * dma_generation stays ring_gen (0: not mapped; cleared whenever the
     * guest gives new addresses), as virtio keeps its rings: one
     * generation test a reply instead of three page lookups. Not
     * migrated: a load changes the generation. */
    uint64_t ring_gen;
    bool has_defer; /* the core has defer_call (1.11): one interrupt a batch */
    bool raise_deferred; /* raise_now is queued (defer_call) and has not run */
    uint8_t *rq_host, *pi_host;
    const uint8_t *ci_host;
};

/* megasas.c: DMA that missed the page cache (dma-cache.h), through the core. */
int mfi_dma_read_slow(megasas *s, uint64_t addr, void *buf, uint64_t len);
int mfi_dma_write_slow(megasas *s, uint64_t addr, const void *buf, uint64_t len);

/* Guest memory to buf and back: through a kept page when there is one.
 * Inline: nearly every call has a constant length (a status byte, a reply
 * entry, an index, a frame), so the copy is a move or two, not a call. */
static inline int mfi_dma_read(megasas *s, uint64_t addr, void *buf, uint64_t len)
{
    const uint8_t *p = dcache_ptr(&s->dc, addr, len, false);

    if (!p) {
        return mfi_dma_read_slow(s, addr, buf, len);
    }
    memcpy(buf, p, len);
    return TES_MEM_OK;
}

/* mfi_dma_write for a caller that makes several: *gen is the
 * dma_generation read for them (0: read it here), set to 0 again when the
 * write went through the core, whose DMA may have run device code. */
static inline int mfi_dma_write_gen(megasas *s, uint64_t *gen, uint64_t addr, const void *buf,
                                    uint64_t len)
{
    uint8_t *p;

    if (!*gen && s->dc.usable) {
        *gen = H->dma_generation(s->dev);
    }
    p = *gen ? dcache_ptr_gen(&s->dc, *gen, addr, len, true) : NULL;
    if (!p) {
        *gen = 0;
        return mfi_dma_write_slow(s, addr, buf, len);
    }
    memcpy(p, buf, len);
    H->dma_unmap(s->dev, p, len, true); /* dirty, and CPUs' code over it */
    return TES_MEM_OK;
}

static inline int mfi_dma_write(megasas *s, uint64_t addr, const void *buf, uint64_t len)
{
    uint64_t gen = 0;

    return mfi_dma_write_gen(s, &gen, addr, buf, len);
}
void mfi_guest_error(megasas *s, const char *fmt, ...) TES_PRINTF(2, 3);
/* The SGL at frame + off; hdr: the frame's first MFI_FRAME_SIZE bytes as
 * read already, where an SGL that ends inside them is taken from. */
uint32_t mfi_sgl_read_any(megasas *s, uint64_t frame, const uint8_t *hdr, uint32_t off,
                          uint16_t flags, unsigned count, msgl *out);
/* buf (len bytes) through sgl, at most limit bytes: MFI status. */
uint32_t mfi_sgl_write(megasas *s, const msgl *sgl, uint64_t limit, const void *buf,
                       uint64_t len);
void mfi_event_deliver(megasas *s);
/* megasas-dcmd.c: a DCMD frame (hdr: its first 64 bytes). */
uint32_t mfi_dcmd(megasas *s, mcmd *c, const uint8_t *hdr);

static inline uint16_t mfi_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t mfi_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t mfi_le64(const uint8_t *p)
{
    return mfi_le32(p) | (uint64_t)mfi_le32(p + 4) << 32;
}

static inline void mfi_st16(uint8_t *p, uint16_t v)
{
    p[0] = v;
    p[1] = v >> 8;
}

static inline void mfi_st32(uint8_t *p, uint32_t v)
{
    mfi_st16(p, v);
    mfi_st16(p + 2, v >> 16);
}

static inline void mfi_st64(uint8_t *p, uint64_t v)
{
    mfi_st32(p, v);
    mfi_st32(p + 4, v >> 32);
}

/* mfi_sgl_read_any with its common case inline: one 64-bit SGE inside
 * the frame, what Linux sends for small I/O (the call, its SGE-size
 * choice and loop were ~60 instructions a request, callgrind). */
static inline uint32_t mfi_sgl_read(megasas *s, uint64_t frame, const uint8_t *hdr,
                                    uint32_t off, uint16_t flags, unsigned count, msgl *out)
{
    uint32_t len;

    if (count != 1 || !s->max_sge || off + 12 > MFI_FRAME_SIZE ||
        (flags & (MFI_FRAME_IEEE | MFI_FRAME_SGL64)) != MFI_FRAME_SGL64) {
        return mfi_sgl_read_any(s, frame, hdr, off, flags, count, out);
    }
    len = mfi_le32(hdr + off + 8);
    out->sg[0].addr = mfi_le32(hdr + off) | (uint64_t)mfi_le32(hdr + off + 4) << 32;
    out->sg[0].len = len;
    out->n = len != 0;
    out->total = len;
    return MFI_STAT_OK;
}

#endif
