/*
 * ata plugin internals: the IDE bus and its drives (ide.c, ide-xfer.c,
 * ide-dev.c, atapi.c) shared with the two controllers that carry them,
 * piix3-ide (piix.c) and ich9-ahci (ahci.c).
 *
 * A controller owns ide_bus structs, each a tes bus of kind "IDE" with one
 * or two units; an ide-hd or ide-cd device (ide_unit) plugs into one. The
 * command engine lives with the unit: the controller loads the task file
 * (I/O port writes, or an AHCI command FIS), calls ide_exec(), and hears
 * back through ide_bus_ops: where the data of a DMA command goes (a
 * scatter list it builds from its PRD table), when a PIO block is ready,
 * and when the command has ended.
 */
#ifndef ATA_H
#define ATA_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <tessera/tessera.h>

#define IDE_BUS_KIND "IDE"
#define IDE_MAX_UNITS 2
#define IDE_SECTOR 512u
#define CD_SECTOR 2048u
#define IDE_BUF_SIZE (128u * 1024u) /* PIO buffer: 256 sectors, 64 CD sectors */
#define IDE_MAX_IOV 64u             /* iovecs per drive request */
#define IDE_MAX_MULT 16u            /* READ/WRITE MULTIPLE block, sectors */

/* Status register (ATA8-ACS 6.1.9). */
#define ST_ERR 0x01
#define ST_DRQ 0x08
#define ST_DSC 0x10
#define ST_DF 0x20
#define ST_DRDY 0x40
#define ST_BSY 0x80
/* Error register. */
#define ER_ABRT 0x04
#define ER_IDNF 0x10
#define ER_UNC 0x40
/* Device control register. */
#define CTL_NIEN 0x02
#define CTL_SRST 0x04
#define CTL_HOB 0x80
/* ATAPI interrupt reason (sector count register). */
#define IR_COD 0x01
#define IR_IO 0x02

/* How the command in progress moves data (what AHCI's FISes and BMDMA
 * need to know). */
enum {
    IDE_PROTO_NONE = 0,
    IDE_PROTO_PIO_IN,
    IDE_PROTO_PIO_OUT,
    IDE_PROTO_DMA,
    IDE_PROTO_PACKET,
    IDE_PROTO_NCQ,
};

/* What a PIO DRQ phase leads to when its buffer is drained or filled. */
enum {
    PIO_END = 0,  /* the command is over */
    PIO_READ,     /* read the next block from the drive */
    PIO_WRITE,    /* write the buffer to the drive */
    PIO_PACKET,   /* the buffer holds an ATAPI packet */
    PIO_ATAPI,    /* the next block of an ATAPI read */
};

typedef struct ide_bus ide_bus;
typedef struct ide_unit ide_unit;
typedef struct ide_xfer ide_xfer;

typedef struct ide_sg {
    uint64_t addr;
    uint64_t len;
} ide_sg;

/*
 * One data transfer between the drive (or u->buf) and guest memory through
 * a scatter list the controller built. Runs in pieces of at most
 * IDE_MAX_IOV mapped iovecs, one drive request at a time.
 */
struct ide_xfer {
    ide_unit *u;
    bool to_guest;  /* device -> memory */
    bool from_buf;  /* u->buf rather than the drive */
    bool busy;      /* a drive request is in flight */
    bool cancel;    /* reset: end with -ECANCELED once the request is back */
    bool fua;       /* writes reach stable storage (write cache off) */
    int tag;        /* NCQ tag, -1 otherwise */
    uint64_t off;   /* drive byte offset of the next piece */
    uint64_t left;  /* bytes still to move */
    uint64_t done;  /* bytes moved (AHCI's PRDBC) */
    ide_sg *sg;     /* malloc'd by the controller's sg_build */
    unsigned sg_n, sg_i;
    uint64_t sg_off;
    unsigned niov;
    struct iovec iov[IDE_MAX_IOV];
    void (*end)(ide_xfer *x, int err);
};

typedef struct ide_bus_ops {
    /* Build x->sg for up to need bytes of u's command (fewer when the
     * table ends first). 0; -EAGAIN: the controller's DMA engine is not
     * running yet (it calls ide_dma_kick when it starts); -EINVAL: the
     * table is bad (logged). */
    int (*sg_build)(ide_bus *b, ide_unit *u, ide_xfer *x, uint64_t need);
    /* u's command ended: u->status and u->error are final. */
    void (*cmd_done)(ide_bus *b, ide_unit *u);
    /* A PIO data block is in, or wanted in, u->buf (DRQ set). */
    void (*pio_irq)(ide_bus *b, ide_unit *u);
    /* An NCQ command ended (err: 0, or the drive's -errno / -EINVAL). */
    void (*ncq_done)(ide_bus *b, ide_unit *u, ide_xfer *x, int err);
    /* Finish every request in flight on the controller (migration). */
    void (*drain)(ide_bus *b);
    /* A unit plugged in (may be NULL): AHCI's link comes up. */
    void (*attach)(ide_bus *b, ide_unit *u);
} ide_bus_ops;

struct ide_bus {
    tes_device *ctrl;
    tes_bus *bus;
    const ide_bus_ops *ops;
    void *opaque;         /* the controller's own per-bus state */
    unsigned index;       /* bus number within the controller */
    unsigned nunits;      /* 2 (piix) or 1 (AHCI port) */
    bool sg_only;         /* AHCI: every data phase goes through the PRDT */
    ide_unit *unit[IDE_MAX_UNITS];
};

struct ide_unit {
    /* properties */
    tes_drive *drive;
    char *serial, *model, *ver;
    uint64_t wwn;
    uint32_t unit_prop;   /* 0/1, 255 = first free */
    uint32_t bootindex;

    tes_device *dev;
    ide_bus *bus;
    unsigned unit;
    bool cd;
    bool has_media;
    uint64_t nsect;       /* capacity in 512-byte (hd) or 2048-byte (cd) sectors */
    char serial_id[21], model_id[41];

    /* task file (ATA8-ACS 6), with the previous contents for LBA48 */
    uint8_t feature, nsector, sector, lcyl, hcyl;
    uint8_t hob_feature, hob_nsector, hob_sector, hob_lcyl, hob_hcyl;
    uint8_t select, status, error, command, ctl;

    /* device settings */
    uint8_t mult;         /* SET MULTIPLE: sectors per block, 0 = off */
    uint8_t xfer_mode;    /* SET FEATURES 03h value */
    uint8_t wce;          /* volatile write cache enabled */
    uint8_t power;        /* CHECK POWER MODE answer: 0xff active, 0 standby */

    /* command in progress */
    uint8_t proto;
    uint8_t pio_next;
    uint8_t dma_wait;     /* a DMA command waits for the controller's engine */
    uint8_t dma_write;    /* ... in this direction */
    uint64_t lba;         /* next sector of a PIO/DMA command */
    uint32_t left;        /* sectors (ATA) or bytes (ATAPI PIO) still to move */
    uint32_t blk;         /* sectors in the current PIO block */
    uint32_t buf_pos, buf_len;
    uint32_t drq_end;     /* end of the current DRQ block in buf */
    uint32_t byte_limit;  /* ATAPI PIO: byte count limit of a DRQ block */
    /* the scatter-list phase (ide_sg_phase), kept so a DMA command that
     * waits for BMDMA's start bit survives migration */
    uint8_t sg_to_guest, sg_from_buf, sg_end; /* SG_END_* */
    uint64_t sg_off, sg_len;

    /* ATAPI (atapi.c) */
    uint8_t packet[16];
    uint8_t sense_key, asc, ascq;
    uint8_t ua;           /* unit attention pending (medium may have changed) */
    uint8_t new_media;    /* GET EVENT STATUS NOTIFICATION: report it once */
    uint8_t locked;       /* PREVENT ALLOW MEDIUM REMOVAL */
    uint8_t tray_open;    /* the monitor or the guest opened the tray */
    uint8_t cd_changed;   /* medium changed: 1 NOT READY next, 2 then UNIT ATTENTION */
    uint8_t eject_req;    /* GESN: the monitor asked for the medium */
    uint8_t dma;          /* the packet asked for DMA (features bit 0) */
    uint32_t dsm_pending; /* TRIM: discards in flight (run time) */
    int dsm_err;

    ide_xfer x;
    struct iovec piov;    /* the PIO block's drive request */
    bool pio_busy, pio_cancel;
    uint8_t *buf;         /* IDE_BUF_SIZE */
};

extern const tes_host *H;

/* Nonzero while the plugin itself accesses guest memory (DMA, FIS
 * writes, MSI): a guest may point those at a controller's own registers,
 * and a register write arriving then is dropped rather than run inside
 * the access that caused it (no re-entrant command processing, no
 * unbounded recursion). */
extern unsigned ata_dma_depth;

/* ide.c: the bus, register access, commands */
void ide_log(ide_unit *u, const char *fmt, ...) TES_PRINTF(2, 3);
/* Create a child bus of kind IDE named as contract 2 says (ide.N, or
 * ID.N when the controller has an id=). */
void ide_bus_init(ide_bus *b, tes_device *ctrl, unsigned index, unsigned nunits,
                  const ide_bus_ops *ops, void *opaque);
ide_unit *ide_bus_selected(ide_bus *b, uint8_t select);
/* Port writes/reads of the command block (reg 0..7) and control block. */
void ide_bus_write(ide_bus *b, unsigned reg, uint8_t val, uint8_t *select);
uint8_t ide_bus_read(ide_bus *b, unsigned reg, uint8_t select);
uint32_t ide_data_read(ide_unit *u, unsigned size);
void ide_data_write(ide_unit *u, uint32_t val, unsigned size);
void ide_ctl_write(ide_bus *b, uint8_t val);
/* Execute u->command with the task file as loaded. */
void ide_exec(ide_unit *u);
/* Reset a unit (power-on, SRST, COMRESET): signature, idle. */
void ide_unit_reset(ide_unit *u, bool hard);
void ide_set_signature(ide_unit *u);
/* End the command: status DRDY|DSC or ERR with error, tell the controller. */
void ide_cmd_ok(ide_unit *u);
void ide_cmd_abort(ide_unit *u, uint8_t error);
/* Move len bytes (drive offset off, or u->buf when from_buf) through the
 * controller's scatter list, then end the command as end says: an ATA
 * command, a packet command (atapi_xfer_end), or DATA SET MANAGEMENT
 * whose ranges are now in u->buf. */
enum { SG_END_ATA = 0, SG_END_ATAPI, SG_END_DSM };
void ide_sg_phase(ide_unit *u, bool to_guest, bool from_buf, uint64_t off, uint64_t len,
                  uint8_t end);
/* The controller's DMA engine started: run a DMA command waiting for it. */
void ide_dma_kick(ide_bus *b);
/* NCQ (AHCI): start READ/WRITE FPDMA QUEUED with x->sg built; false when
 * the command is bad (x untouched; the caller fails it). */
bool ide_ncq_start(ide_unit *u, ide_xfer *x, bool write, uint64_t lba, uint32_t count);
/* Drain u's drive until nothing is in flight. */
void ide_unit_drain(ide_unit *u);

/* ide-xfer.c: scatter-list transfers */
/* Start x (fields set); x->end runs when done, never from inside. */
void ide_xfer_start(ide_xfer *x);
void ide_xfer_free_sg(ide_xfer *x);
/* Validate the guest-made scatter list pieces: at most max entries. */
bool ide_sg_add(ide_sg **sg, unsigned *n, unsigned *cap, uint64_t addr, uint64_t len);

/* ide-dev.c: IDENTIFY data */
void ide_identify(ide_unit *u, bool ncq, uint8_t *out);
void ide_identify_packet(ide_unit *u, uint8_t *out);
extern const tes_type_info ide_hd_type, ide_cd_type;

/* atapi.c */
void atapi_packet(ide_unit *u);
void atapi_read_next(ide_unit *u);
void atapi_xfer_end(ide_xfer *x, int err);
void atapi_reset(ide_unit *u);
/* ide-cd: register with the drive as removable (ABI 1.5; nothing on an
 * older core), and bring has_media/nsect up to date with drive and tray. */
void atapi_media_init(ide_unit *u);
void atapi_media_refresh(ide_unit *u);

/* piix.c, ahci.c */
extern const tes_type_info piix3_ide_type, ich9_ahci_type;

static inline void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static inline uint32_t get32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void be32(uint8_t *p, uint32_t v)
{
    be16(p, (uint16_t)(v >> 16));
    be16(p + 2, (uint16_t)v);
}

static inline uint32_t getbe32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

#endif
