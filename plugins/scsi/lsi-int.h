/*
 * lsi53c895a internals shared by its two files: the chip's state, the
 * SCRIPTS processor and SCSI phases (lsi-scripts.c), the register file,
 * BARs, resets and migration (lsi53c895a.c).
 */
#ifndef LSI_INT_H
#define LSI_INT_H

#include <endian.h>
#include <stdint.h>
#include <sys/uio.h>

#include "lsi-regs.h"
#include "scsi-int.h"

#define LSI_VENDOR 0x1000
#define LSI_DEVICE 0x0012
#define MAX_TARGET 6
#define NTARGETS 8
#define IO_SIZE 0x100
#define MMIO_SIZE 0x400
#define RAM_SIZE 0x2000
#define MAX_XFER (16u << 20)
/* A turn of the SCRIPTS processor: at most this many instructions or
 * bytes moved; a script still running then yields for YIELD_NS << spin
 * (spin: turns in a row that ended so, at most SPIN_MAX) plus NS_PER_BYTE
 * for each byte it moved, so a script that never stops costs the host a
 * small, bounded share of a CPU. */
#define INSN_BUDGET 2000
#define BYTE_BUDGET (4 << 20)
#define YIELD_NS 100000
#define SPIN_MAX 8
#define NS_PER_BYTE 4
#define MSG_MAX 8
#define MSGOUT_MAX 64
#define CDB_MAX 16
#define SENSE_SAVE 32
#define REG_DMA_MAX 256 /* bytes a memory move may put into the registers */
#define NONRAM_DMA_MAX 4096 /* bytes one DMA may move to or from no RAM */
#define NONRAM_COST 64      /* budget bytes a byte of such DMA counts for */
#define TAG_VALID (1u << 16)

/* What the SCRIPTS processor waits for (ISTAT1 SRUN stays set). */
enum {
    W_NONE = 0,     /* running, or stopped when SRUN is clear */
    W_TARGET = 1,   /* the command's request is in flight */
    W_RESELECT = 2, /* WAIT RESELECT: SIGP wakes it */
    W_RESUME = 3,   /* the resume timer is armed (budget spent, or done) */
};

/* What follows the last MESSAGE IN byte. */
enum {
    A_CMD = 0,        /* COMMAND phase */
    A_DISCONNECT = 1, /* bus free */
    A_RESUME = 2,     /* back to the phase ATN interrupted */
};

typedef struct lsi {
    tes_device *dev;
    tes_scsi_bus *sbus;
    tes_timer *timer;
    tes_scsi_req *req; /* in flight; NULL otherwise (never at save) */
    uint8_t *buf;      /* the staged data of the command, buf_len bytes */
    uint32_t buf_alloc; /* what buf holds (buf_len unless a stream lied) */
    struct iovec iov;
    bool running;      /* inside scripts_run */
    int64_t bytes_left; /* of this turn's budget */
    unsigned spin;      /* turns in a row that spent the whole budget */
    uint32_t nonram;    /* bytes of DMA to no RAM by this instruction */
    /* Migrated. */
    uint8_t r[256]; /* the register file */
    uint8_t ram[RAM_SIZE];
    uint8_t carry, waiting, msg_action, msg_len, resume_phase, status, dir;
    uint8_t msg[MSG_MAX];
    bool cmd_active, mismatch;
    uint8_t cdb[CDB_MAX];
    uint8_t cdb_len, cur_id, cur_lun;
    uint32_t tag;
    uint32_t buf_len, pos, valid;
    uint8_t sense[NTARGETS * SENSE_SAVE];
    uint8_t sense_len[NTARGETS];
} lsi;

/* ---- register file helpers ---- */

static inline uint32_t r32(lsi *s, unsigned off)
{
    return (uint32_t)s->r[off] | (uint32_t)s->r[off + 1] << 8 | (uint32_t)s->r[off + 2] << 16 |
           (uint32_t)s->r[off + 3] << 24;
}

static inline void w32(lsi *s, unsigned off, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++) {
        s->r[off + i] = v >> (8 * i);
    }
}

static inline uint32_t get_dbc(lsi *s)
{
    return r32(s, R_DBC) & 0xffffff;
}

static inline void set_dbc(lsi *s, uint32_t v)
{
    s->r[R_DBC] = v;
    s->r[R_DBC + 1] = v >> 8;
    s->r[R_DBC + 2] = v >> 16;
}

static inline uint32_t sext24(uint32_t v)
{
    return v & 0x800000 ? v | 0xff000000u : v & 0xffffff;
}

static inline const char *id_of(lsi *s)
{
    return H->dev_id(s->dev);
}


static inline uint8_t phase(lsi *s)
{
    return s->r[R_SSTAT1] & PHASE_MASK;
}

static inline bool connected(lsi *s)
{
    return s->r[R_SCNTL1] & SCNTL1_CON;
}

/* lsi-scripts.c */
void lsi_update_irq(lsi *s);
void lsi_scsi_interrupt(lsi *s, uint8_t stat0, uint8_t stat1);
void lsi_dma_interrupt(lsi *s, uint8_t stat);
void lsi_scripts_start(lsi *s); /* DSP written, DCNTL STD */
void lsi_scripts_run(lsi *s);   /* go on (SIGP woke WAIT RESELECT) */
void lsi_resume_cb(void *opaque);
void lsi_drop_command(lsi *s);
void lsi_hba_complete(void *opaque, tes_scsi_req *req);

/* lsi53c895a.c: register accesses (script: by the SCRIPTS processor). */
uint8_t lsi_reg_read(lsi *s, unsigned off);
void lsi_reg_write(lsi *s, unsigned off, uint8_t val, bool script);

#endif
