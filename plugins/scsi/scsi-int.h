/*
 * scsi plugin internals: the bus and its requests (scsi-bus.c), the logical
 * units scsi-hd (scsi-disk.c) and scsi-cd (scsi-cd.c) share, sense codes and
 * the helpers their command handlers use.
 */
#ifndef SCSI_INT_H
#define SCSI_INT_H

#include <tessera/tessera.h>

#include <tessera/scsi.h>
#include <sys/uio.h>

extern const tes_host *H;
extern const tes_scsi_ops scsi_ops;

/* Sense keys (SPC-4 table 27). */
#define SK_NO_SENSE 0x0
#define SK_NOT_READY 0x2
#define SK_MEDIUM_ERROR 0x3
#define SK_ILLEGAL_REQUEST 0x5
#define SK_UNIT_ATTENTION 0x6
#define SK_DATA_PROTECT 0x7
#define SK_ABORTED_COMMAND 0xb
#define SK_MISCOMPARE 0xe

typedef struct scsi_sense {
    uint8_t key, asc, ascq;
} scsi_sense;

#define SENSE(k, a, q) ((scsi_sense){(k), (a), (q)})
#define SENSE_NONE SENSE(SK_NO_SENSE, 0, 0)
#define SENSE_INVALID_OPCODE SENSE(SK_ILLEGAL_REQUEST, 0x20, 0x00)
#define SENSE_LBA_OUT_OF_RANGE SENSE(SK_ILLEGAL_REQUEST, 0x21, 0x00)
#define SENSE_INVALID_FIELD SENSE(SK_ILLEGAL_REQUEST, 0x24, 0x00)
#define SENSE_LUN_NOT_SUPPORTED SENSE(SK_ILLEGAL_REQUEST, 0x25, 0x00)
#define SENSE_INVALID_PARAM SENSE(SK_ILLEGAL_REQUEST, 0x26, 0x00)
#define SENSE_PARAM_LIST_LENGTH SENSE(SK_ILLEGAL_REQUEST, 0x1a, 0x00)
#define SENSE_SAVING_NOT_SUPPORTED SENSE(SK_ILLEGAL_REQUEST, 0x39, 0x00)
#define SENSE_REMOVAL_PREVENTED SENSE(SK_ILLEGAL_REQUEST, 0x53, 0x02)
#define SENSE_INCOMPATIBLE_MEDIUM SENSE(SK_ILLEGAL_REQUEST, 0x30, 0x00)
#define SENSE_WRITE_PROTECTED SENSE(SK_DATA_PROTECT, 0x27, 0x00)
#define SENSE_SPACE_ALLOC_FAILED SENSE(SK_DATA_PROTECT, 0x27, 0x07)
#define SENSE_NO_MEDIUM SENSE(SK_NOT_READY, 0x3a, 0x00)
#define SENSE_NO_MEDIUM_TRAY_OPEN SENSE(SK_NOT_READY, 0x3a, 0x02)
#define SENSE_RESET SENSE(SK_UNIT_ATTENTION, 0x29, 0x00)
#define SENSE_MEDIUM_CHANGED SENSE(SK_UNIT_ATTENTION, 0x28, 0x00)
/* The medium went (QEMU's UNIT_ATTENTION_NO_MEDIUM): reported once, then
 * MEDIUM CHANGED follows (lu_ua_reported). */
#define SENSE_UA_NO_MEDIUM SENSE(SK_UNIT_ATTENTION, 0x3a, 0x00)
#define SENSE_LUNS_CHANGED SENSE(SK_UNIT_ATTENTION, 0x3f, 0x0e)
#define SENSE_IO_ERROR SENSE(SK_ABORTED_COMMAND, 0x00, 0x06)
#define SENSE_READ_ERROR SENSE(SK_MEDIUM_ERROR, 0x11, 0x00)
#define SENSE_MISCOMPARE SENSE(SK_MISCOMPARE, 0x1d, 0x00)

struct scsi_lu;
typedef struct sreq sreq;
typedef void (*sreq_next_fn)(sreq *r);

/* What a kind of logical unit does with commands the bus passes on. */
typedef struct scsi_lu_class {
    const char *name;
    uint8_t type; /* peripheral device type: 0x00 disk, 0x05 MMC */
    void (*exec)(struct scsi_lu *lu, sreq *r);
    /* Mode page page (pc: 0 current, 1 changeable, 2 default) into buf
     * (up to 64 bytes): its length, 0 when the LU has no such page. */
    unsigned (*mode_page)(struct scsi_lu *lu, uint8_t page, uint8_t pc, uint8_t *buf);
    const uint8_t *mode_pages; /* what page 0x3f returns, 0-terminated */
    /* Mode parameter header: device-specific byte. */
    uint8_t (*mode_dev_param)(struct scsi_lu *lu);
    /* VPD pages beyond 0x00, 0x80, 0x83 (NULL: none): length or 0. */
    unsigned (*vpd_page)(struct scsi_lu *lu, uint8_t page, uint8_t *buf);
    const uint8_t *vpd_pages; /* listed in page 0x00 after 0x83, 0-terminated */
    bool removable;
} scsi_lu_class;

/* A logical unit: the instance of scsi-hd and scsi-cd. */
typedef struct scsi_lu {
    tes_device *dev;
    tes_scsi_bus *bus;
    const scsi_lu_class *cls;
    struct scsi_lu *next; /* on the bus, plug order */
    bool attached;
    /* Properties. */
    tes_drive *drive;
    uint32_t channel, id, lun;
    char *serial, *vendor, *product, *ver;
    uint64_t wwn;
    uint32_t lbs, pbs, bootindex;
    bool wce_default;
    /* Derived at realize. */
    uint64_t blocks;
    bool ro;
    unsigned inflight;
    /* Migrated. */
    uint8_t ua_key, ua_asc, ua_ascq; /* pending unit attention, key 0: none */
    bool wce;                        /* caching page WCE (write cache enabled) */
    bool tray_open, tray_locked;     /* scsi-cd */
    uint8_t media_event;             /* scsi-cd: GESN media event code pending */
    bool eject_req;                  /* scsi-cd: GESN eject request pending */
} scsi_lu;

/* Mapped pieces a request keeps inside itself: an HBA's 4 KiB command is
 * one or two; a malloc per command went to glibc's slow bins at QD 32. */
#define SREQ_MAP_INLINE 4

/* The bus's side of a request. req_clear (scsi-bus.c) clears it field by
 * field for reuse: a field added here is added there too. */
struct sreq {
    tes_scsi_req pub; /* first: what the HBA sees */
    tes_scsi_bus *bus;
    scsi_lu *lu;          /* NULL: no such LUN */
    sreq *prev, *next;    /* in flight on the bus */
    bool submitted, aborted, reset;
    unsigned pending; /* block requests in flight */
    int err;          /* first block error */
    uint64_t buflen;  /* bytes in pub.iov */
    uint64_t xfer;    /* bytes the command moves */
    /* req_map'd pieces, unmapped at free. */
    tes_device *dma_dev;
    struct iovec *map;   /* map_inline, or allocated past SREQ_MAP_INLINE */
    unsigned nmap;
    struct iovec map_inline[SREQ_MAP_INLINE];
    bool map_write; /* mapped for the device to write (data-in) */
    struct iovec *slice; /* pub.iov trimmed to xfer */
    uint8_t *bounce;     /* WRITE SAME pattern, VERIFY data */
    uint64_t bounce_len;
    uint64_t lba;        /* VERIFY: where the compare data came from */
    sreq_next_fn then;   /* after the block requests in flight */
    size_t priv_size;    /* of pub.priv, which follows the sreq */
};

/* scsi-bus.c: finishing requests. */
void sreq_good(sreq *r);
void sreq_check(sreq *r, scsi_sense s);
void sreq_host(sreq *r, tes_scsi_host_status hs);
/* Data-in of a command answered from a buffer: min(len, alloc, buffer)
 * bytes, then GOOD. */
void sreq_reply(sreq *r, const void *buf, uint64_t len, uint64_t alloc);
/* Data-out parameter list: copy up to len bytes; returns the count, or -1
 * after ending r when the initiator sent data-in. */
int64_t sreq_param(sreq *r, void *buf, uint64_t len);
/* The data buffer trimmed to xfer bytes moving in dir: false after ending
 * r with OVERRUN (wrong direction, buffer too small). */
bool sreq_data_slice(sreq *r, uint64_t xfer, tes_scsi_dir dir, const struct iovec **iov,
                     unsigned *cnt);
static inline bool sreq_data(sreq *r, uint64_t xfer, tes_scsi_dir dir,
                             const struct iovec **iov, unsigned *cnt)
{
    /* Inline, the case of nearly every command: the buffer is the size of
     * the transfer, in its direction. */
    if (xfer && xfer == r->buflen && r->pub.dir == dir) {
        r->xfer = xfer;
        r->pub.residual = 0;
        *iov = r->pub.iov, *cnt = r->pub.iovcnt;
        return true;
    }
    return sreq_data_slice(r, xfer, dir, iov, cnt);
}
/* Block requests of r to the LU's drive: issue them with sreq_blk, then
 * call sreq_blk_submitted; when the last one returned, then(r) runs (NULL:
 * r ends GOOD, or CHECK CONDITION after an error). */
void sreq_blk(sreq *r, tes_blk_op op, uint64_t off, const struct iovec *iov, unsigned cnt,
              uint64_t len, unsigned flags);
void sreq_blk_submitted(sreq *r, sreq_next_fn then);
void sense_fixed(uint8_t *out, scsi_sense s); /* 18 bytes */

/* scsi-bus.c: logical units. */
int lu_attach(scsi_lu *lu);
void lu_detach(scsi_lu *lu);
void lu_set_ua(scsi_lu *lu, scsi_sense s);
/* The pending unit attention was reported: cleared, or MEDIUM CHANGED
 * after a NO MEDIUM one. */
void lu_ua_reported(scsi_lu *lu);
unsigned lu_luns(tes_scsi_bus *bus, uint32_t channel, uint32_t id, uint32_t *out, unsigned max);
scsi_lu *scsi_bus_lu(tes_scsi_bus *bus, uint32_t channel, uint32_t id, uint32_t lun);

/* scsi-xfer.c: direction and most bytes a CDB moves on lu. */
void cdb_xfer(const scsi_lu *lu, const uint8_t *cdb, tes_scsi_dir *dir, uint64_t *len);

/* scsi-spc.c: commands every logical unit answers alike. */
bool spc_exec(scsi_lu *lu, sreq *r); /* false: not one of them */
void spc_inquiry_std(scsi_lu *lu, uint8_t *buf, unsigned *len);

/* Big-endian fields of CDBs and parameter data. */
static inline uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t be64(const uint8_t *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static inline void st_be16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}

static inline void st_be32(uint8_t *p, uint32_t v)
{
    st_be16(p, v >> 16);
    st_be16(p + 2, v);
}

static inline void st_be64(uint8_t *p, uint64_t v)
{
    st_be32(p, v >> 32);
    st_be32(p + 4, v);
}

/* scsi-disk.c: READ and WRITE 6/10/12/16 (range, write protection, FUA). */
void disk_rw(scsi_lu *lu, sreq *r, bool write);

/* Types (scsi-disk.c, scsi-cd.c, virtio-scsi.c, lsi53c895a.c, megasas.c). */
extern const tes_type_info scsi_hd_type, scsi_cd_type, virtio_scsi_device_type,
    lsi53c895a_type, megasas_type;
extern const scsi_lu_class scsi_hd_class, scsi_cd_class;
/* Properties scsi-hd and scsi-cd share (QEMU's names): the address on the
 * bus, then identification. */
#define LU_ADDR_PROPS                                                                         \
    TES_PROP("channel", TES_PROP_U32, scsi_lu, channel, "0", 0, 0, "channel on the HBA"),      \
    TES_PROP("scsi-id", TES_PROP_U32, scsi_lu, id, "4294967295", 0, 0,                        \
             "target id (4294967295: the first free one)"),                                       \
    TES_PROP("lun", TES_PROP_U32, scsi_lu, lun, "0", 0, 0, "logical unit number"),             \
    TES_PROP("serial", TES_PROP_STRING, scsi_lu, serial, NULL, 0, 0, "unit serial number"),    \
    TES_PROP("wwn", TES_PROP_U64, scsi_lu, wwn, "0", 0, 0, "world wide name (NAA)")
#define LU_ID_PROPS                                                                           \
    TES_PROP("vendor", TES_PROP_STRING, scsi_lu, vendor, NULL, 0, 0, "INQUIRY vendor"),        \
    TES_PROP("product", TES_PROP_STRING, scsi_lu, product, NULL, 0, 0, "INQUIRY product"),     \
    TES_PROP("ver", TES_PROP_STRING, scsi_lu, ver, NULL, 0, 0, "INQUIRY revision"),            \
    TES_PROP("bootindex", TES_PROP_U32, scsi_lu, bootindex, "0", 0, 0,                        \
             "boot order (accepted, unused)")

int lu_realize_common(tes_device *dev, scsi_lu *lu, const scsi_lu_class *cls);
void lu_unrealize(tes_device *dev, void *s);
void lu_reset(tes_device *dev, void *s);
extern const tes_state_info lu_state;

#endif
