/*
 * scsi-hd: a SCSI disk (SBC-3) on a SCSI bus, as Linux sd uses it.
 *
 * User manual
 *
 *   -drive file=disk.img,format=raw,if=none,id=d0
 *   -device virtio-scsi-pci,id=scsi0
 *   -device scsi-hd,drive=d0,bus=scsi0.0,channel=0,scsi-id=0,lun=0
 *
 *   drive                (required) the -drive id= of the image
 *   channel              0.., default 0 (the HBA says how many it has)
 *   scsi-id              target id, default the first free one
 *   lun                  logical unit number, default 0
 *   serial               VPD page 0x80 and the vendor designator of 0x83
 *   wwn                  NAA designator of VPD page 0x83 (0: none)
 *   logical_block_size   512, 1024, 2048 or 4096; default 512
 *   physical_block_size  a power of two >= logical_block_size (default it)
 *   write-cache          on|off: the caching page's WCE bit at reset (off:
 *                        every write is FUA); MODE SELECT changes it
 *   vendor, product, ver INQUIRY identification ("QEMU", "QEMU HARDDISK",
 *                        "2.5+" by default, as QEMU)
 *   bootindex            accepted for QEMU command lines; no firmware here
 *                        reads a boot order
 *
 * Commands: INQUIRY (VPD 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2), READ
 * CAPACITY 10/16, READ and WRITE 6/10/12/16, WRITE AND VERIFY, VERIFY
 * 10/12/16 (BYTCHK 0 and 1), WRITE SAME 10/16 (UNMAP, NDOB), UNMAP,
 * SYNCHRONIZE CACHE 10/16, MODE SENSE/SELECT 6/10 (caching 0x08, control
 * 0x0a, all 0x3f), REQUEST SENSE, TEST UNIT READY, REPORT LUNS (the bus),
 * START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL. Anything else, and every
 * malformed CDB, is CHECK CONDITION with ILLEGAL REQUEST sense: invalid
 * opcode (0x20), LBA out of range (0x21), invalid field in CDB (0x24) or
 * parameter list (0x26). Reads and writes go to the drive asynchronously
 * with the HBA's buffer (guest memory, mapped); a transfer larger than the
 * buffer is an overrun. A reset leaves the unit attention POWER ON, RESET
 * (0x29/0x00) for the next command.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "scsi-int.h"

#define OP_READ6 0x08
#define OP_WRITE6 0x0a
#define OP_START_STOP 0x1b
#define OP_PREVENT_ALLOW 0x1e
#define OP_READ_CAPACITY10 0x25
#define OP_READ10 0x28
#define OP_WRITE10 0x2a
#define OP_WRITE_VERIFY10 0x2e
#define OP_VERIFY10 0x2f
#define OP_SYNC_CACHE10 0x35
#define OP_WRITE_SAME10 0x41
#define OP_UNMAP 0x42
#define OP_READ16 0x88
#define OP_WRITE16 0x8a
#define OP_WRITE_VERIFY16 0x8e
#define OP_VERIFY16 0x8f
#define OP_SYNC_CACHE16 0x91
#define OP_WRITE_SAME16 0x93
#define OP_SAI16 0x9e
#define SAI_READ_CAPACITY16 0x10
#define OP_READ12 0xa8
#define OP_WRITE12 0xaa
#define OP_WRITE_VERIFY12 0xae
#define OP_VERIFY12 0xaf

#define MAX_BYTES_LIMIT (1ull << 30) /* WRITE SAME, UNMAP per descriptor */
#define MAX_UNMAP_DESC 256
#define MAX_VERIFY_BYTES (1u << 20)  /* VERIFY with data: read back this much */
#define WS_CHUNK (512u << 10)        /* WRITE SAME pattern buffer */

static uint64_t max_blocks(scsi_lu *lu)
{
    return MAX_BYTES_LIMIT / lu->lbs;
}

/* ---- LBA and length of the read/write family ---- */

static void decode_lba(const uint8_t *cdb, uint64_t *lba, uint32_t *n)
{
    switch (cdb[0] >> 5) {
    case 0: /* 6-byte: 21-bit LBA, 0 blocks means 256 */
        *lba = (cdb[1] & 0x1fu) << 16 | be16(cdb + 2);
        *n = cdb[4] ? cdb[4] : 256;
        break;
    case 1: case 2: /* 10-byte */
        *lba = be32(cdb + 2);
        *n = be16(cdb + 7);
        break;
    case 4: /* 16-byte */
        *lba = be64(cdb + 2);
        *n = be32(cdb + 10);
        break;
    default: /* 12-byte */
        *lba = be32(cdb + 2);
        *n = be32(cdb + 6);
    }
}

static bool in_range(scsi_lu *lu, uint64_t lba, uint64_t n)
{
    return lba <= lu->blocks && n <= lu->blocks - lba;
}

/* Why access_ok refused: told to the guest (and the log). */
static __attribute__((cold, noinline)) void access_refused(scsi_lu *lu, sreq *r, uint64_t lba,
                                                           uint64_t n, bool write)
{
    const uint8_t *cdb = r->pub.cdb;

    if ((cdb[0] >> 5) != 0 && (cdb[1] & 0xe0)) {
        sreq_check(r, SENSE_INVALID_FIELD);
    } else if (!in_range(lu, lba, n)) {
        H->log(TES_LOG_GUEST_ERROR, "scsi-hd %s: opcode 0x%02x at LBA %llu + %llu past the "
               "end (%llu blocks)", H->dev_id(lu->dev), cdb[0], (unsigned long long)lba,
               (unsigned long long)n, (unsigned long long)lu->blocks);
        sreq_check(r, SENSE_LBA_OUT_OF_RANGE);
    } else {
        sreq_check(r, SENSE_WRITE_PROTECTED);
    }
}

/* The checks every medium access makes; false after ending r. */
static inline bool access_ok(scsi_lu *lu, sreq *r, uint64_t lba, uint64_t n, bool write)
{
    const uint8_t *cdb = r->pub.cdb;

    /* RDPROTECT/WRPROTECT/VRPROTECT: no protection information here. */
    if (((cdb[0] >> 5) != 0 && (cdb[1] & 0xe0)) || !in_range(lu, lba, n) || (write && lu->ro)) {
        access_refused(lu, r, lba, n, write);
        return false;
    }
    return true;
}

void disk_rw(scsi_lu *lu, sreq *r, bool write)
{
    const uint8_t *cdb = r->pub.cdb;
    const struct iovec *iov;
    unsigned cnt, flags = 0;
    uint64_t lba, bytes;
    uint32_t n;

    decode_lba(cdb, &lba, &n);
    if (!access_ok(lu, r, lba, n, write)) {
        return;
    }
    bytes = (uint64_t)n * lu->lbs;
    if (!sreq_data(r, bytes, write ? TES_SCSI_DIR_TO_DEV : TES_SCSI_DIR_FROM_DEV, &iov, &cnt)) {
        return;
    }
    if (!bytes) {
        sreq_good(r);
        return;
    }
    if (write && ((cdb[0] >> 5 && (cdb[1] & 0x08)) || !lu->wce)) {
        flags = TES_BLK_FUA; /* FUA bit, or the write cache is off */
    }
    sreq_blk(r, write ? TES_BLK_WRITE : TES_BLK_READ, lba * lu->lbs, iov, cnt, bytes, flags);
    sreq_blk_submitted(r, NULL);
}

/* ---- VERIFY ---- */

static void verify_compare(sreq *r)
{
    uint64_t done = 0;

    for (unsigned i = 0; i < r->pub.iovcnt && done < r->xfer; i++) {
        uint64_t k = r->pub.iov[i].iov_len;
        k = k < r->xfer - done ? k : r->xfer - done;
        if (memcmp(r->pub.iov[i].iov_base, r->bounce + done, k)) {
            sreq_check(r, SENSE_MISCOMPARE);
            return;
        }
        done += k;
    }
    sreq_good(r);
}

static void verify(scsi_lu *lu, sreq *r)
{
    uint8_t bytchk = (r->pub.cdb[1] >> 1) & 3;
    const struct iovec *iov;
    struct iovec b;
    uint64_t lba, bytes;
    unsigned cnt;
    uint32_t n;

    decode_lba(r->pub.cdb, &lba, &n);
    if (!access_ok(lu, r, lba, n, false)) {
        return;
    }
    bytes = (uint64_t)n * lu->lbs;
    if (bytchk == 0 || !n) {
        sreq_good(r); /* the medium is always readable */
        return;
    }
    if (bytchk != 1 || bytes > MAX_VERIFY_BYTES) {
        sreq_check(r, SENSE_INVALID_FIELD);
        return;
    }
    if (!sreq_data(r, bytes, TES_SCSI_DIR_TO_DEV, &iov, &cnt)) {
        return;
    }
    r->bounce = malloc(bytes);
    if (!r->bounce) {
        sreq_check(r, SENSE_IO_ERROR);
        return;
    }
    b = (struct iovec){r->bounce, bytes};
    sreq_blk(r, TES_BLK_READ, lba * lu->lbs, &b, 1, bytes, 0);
    sreq_blk_submitted(r, verify_compare);
}

/* ---- WRITE SAME, UNMAP, SYNCHRONIZE CACHE ---- */

static bool all_zero(const uint8_t *p, size_t n)
{
    return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* One chunk of the pattern after the other: a bounded buffer per command
 * however many blocks it covers (r->lba: next byte offset, r->xfer: bytes
 * left). */
static void ws_next(sreq *r)
{
    uint64_t n = r->xfer < r->bounce_len ? r->xfer : r->bounce_len;
    struct iovec v = {r->bounce, n};

    if (!n) {
        sreq_good(r);
        return;
    }
    sreq_blk(r, TES_BLK_WRITE, r->lba, &v, 1, n, r->lu->wce ? 0 : TES_BLK_FUA);
    r->lba += n;
    r->xfer -= n;
    sreq_blk_submitted(r, ws_next);
}

static void write_pattern(scsi_lu *lu, sreq *r, uint64_t lba, uint64_t bytes)
{
    uint64_t chunk = bytes < WS_CHUNK ? bytes : WS_CHUNK;
    uint8_t *p = realloc(r->bounce, chunk);

    if (!p) {
        sreq_check(r, SENSE_IO_ERROR);
        return;
    }
    r->bounce = p;
    r->bounce_len = chunk;
    for (uint64_t off = lu->lbs; off < chunk; off += lu->lbs) {
        memcpy(p + off, p, lu->lbs);
    }
    r->lba = lba * lu->lbs;
    r->xfer = bytes;
    ws_next(r);
}

static void write_same(scsi_lu *lu, sreq *r)
{
    const uint8_t *cdb = r->pub.cdb;
    bool sixteen = cdb[0] == OP_WRITE_SAME16, unmap = cdb[1] & 0x08;
    bool ndob = sixteen && (cdb[1] & 0x01);
    const struct iovec *iov;
    uint64_t lba = sixteen ? be64(cdb + 2) : be32(cdb + 2);
    uint32_t n = sixteen ? be32(cdb + 10) : be16(cdb + 7);
    unsigned cnt;

    /* ANCHOR is not supported; WSNZ: 0 blocks is not "to the end". */
    if ((cdb[1] & 0x10) || n == 0 || n > max_blocks(lu)) {
        sreq_check(r, SENSE_INVALID_FIELD);
        return;
    }
    if (!access_ok(lu, r, lba, n, true)) {
        return;
    }
    r->bounce = calloc(1, lu->lbs);
    if (!r->bounce) {
        sreq_check(r, SENSE_IO_ERROR);
        return;
    }
    if (!ndob) {
        if (!sreq_data(r, lu->lbs, TES_SCSI_DIR_TO_DEV, &iov, &cnt)) {
            return;
        }
        for (uint64_t done = 0, i = 0; i < cnt; done += iov[i++].iov_len) {
            memcpy(r->bounce + done, iov[i].iov_base, iov[i].iov_len);
        }
    }
    if (all_zero(r->bounce, lu->lbs)) {
        sreq_blk(r, TES_BLK_WRITE_ZEROES, lba * lu->lbs, NULL, 0, (uint64_t)n * lu->lbs,
                 unmap ? TES_BLK_MAY_UNMAP : 0);
        sreq_blk_submitted(r, NULL);
        return;
    }
    write_pattern(lu, r, lba, (uint64_t)n * lu->lbs);
}

/* Every descriptor in range before any block goes (SBC-3 5.28). */
static bool unmap_list_ok(scsi_lu *lu, sreq *r, const uint8_t *buf, uint32_t bddl)
{
    for (uint32_t off = 8; off + 16 <= 8 + bddl; off += 16) {
        uint64_t lba = be64(buf + off);
        uint32_t n = be32(buf + off + 8);
        if (n > max_blocks(lu) || !in_range(lu, lba, n)) {
            sreq_check(r, n > max_blocks(lu) ? SENSE_INVALID_PARAM : SENSE_LBA_OUT_OF_RANGE);
            return false;
        }
    }
    return true;
}

static void unmap_cmd(scsi_lu *lu, sreq *r)
{
    uint8_t buf[8 + 16 * MAX_UNMAP_DESC];
    uint32_t len = be16(r->pub.cdb + 7), bddl;
    int64_t got;

    if (r->pub.cdb[1] & 0x01) { /* ANCHOR */
        sreq_check(r, SENSE_INVALID_FIELD);
        return;
    }
    if (len == 0) {
        sreq_good(r);
        return;
    }
    got = sreq_param(r, buf, len < sizeof(buf) ? len : sizeof(buf));
    if (got < 0) {
        return;
    }
    bddl = got >= 8 ? be16(buf + 2) : 0;
    if (len < 8 || got < 8 || bddl > got - 8) {
        sreq_check(r, bddl > MAX_UNMAP_DESC * 16 ? SENSE_INVALID_PARAM : SENSE_PARAM_LIST_LENGTH);
        return;
    }
    if (lu->ro) {
        sreq_check(r, SENSE_WRITE_PROTECTED);
        return;
    }
    if (!unmap_list_ok(lu, r, buf, bddl)) {
        return;
    }
    for (uint32_t off = 8; off + 16 <= 8 + bddl; off += 16) {
        uint32_t n = be32(buf + off + 8);
        if (n) {
            sreq_blk(r, TES_BLK_DISCARD, be64(buf + off) * lu->lbs, NULL, 0,
                     (uint64_t)n * lu->lbs, 0);
        }
    }
    sreq_blk_submitted(r, NULL);
}

static void sync_cache(scsi_lu *lu, sreq *r)
{
    const uint8_t *cdb = r->pub.cdb;
    bool sixteen = cdb[0] == OP_SYNC_CACHE16;
    uint64_t lba = sixteen ? be64(cdb + 2) : be32(cdb + 2);
    uint32_t n = sixteen ? be32(cdb + 10) : be16(cdb + 7);

    if (!in_range(lu, lba, n)) {
        sreq_check(r, SENSE_LBA_OUT_OF_RANGE);
        return;
    }
    sreq_blk(r, TES_BLK_FLUSH, 0, NULL, 0, 0, 0);
    sreq_blk_submitted(r, NULL);
}

/* ---- READ CAPACITY ---- */

static unsigned log2u(uint32_t v)
{
    unsigned n = 0;

    while (v > 1) {
        v >>= 1, n++;
    }
    return n;
}

static void read_capacity(scsi_lu *lu, sreq *r)
{
    const uint8_t *cdb = r->pub.cdb;
    uint8_t buf[32] = {0};
    uint64_t last = lu->blocks ? lu->blocks - 1 : 0;

    if (cdb[0] == OP_READ_CAPACITY10) {
        /* SBC-3 5.15: an LBA without PMI is an invalid field. */
        if (!(cdb[8] & 1) && be32(cdb + 2)) {
            sreq_check(r, SENSE_INVALID_FIELD);
            return;
        }
        st_be32(buf, last > 0xffffffff ? 0xffffffff : (uint32_t)last);
        st_be32(buf + 4, lu->lbs);
        sreq_reply(r, buf, 8, 8);
        return;
    }
    if ((cdb[1] & 0x1f) != SAI_READ_CAPACITY16) {
        sreq_check(r, SENSE_INVALID_FIELD);
        return;
    }
    st_be64(buf, last);
    st_be32(buf + 8, lu->lbs);
    buf[13] = log2u(lu->pbs / lu->lbs);
    buf[14] = 0x80 | 0x40; /* LBPME, LBPRZ: unmapped blocks read zero */
    sreq_reply(r, buf, 32, be32(cdb + 10));
}

/* ---- VPD and mode pages ---- */

static unsigned hd_vpd(scsi_lu *lu, uint8_t page, uint8_t *buf)
{
    switch (page) {
    case 0xb0: /* block limits, SBC-3 6.5.3 */
        buf[4] = 0x01; /* WSNZ */
        st_be16(buf + 6, lu->pbs / lu->lbs);
        st_be32(buf + 8, 0xffff);                /* maximum transfer length */
        st_be32(buf + 20, max_blocks(lu));       /* maximum unmap LBA count */
        st_be32(buf + 24, MAX_UNMAP_DESC);       /* maximum unmap descriptors */
        st_be32(buf + 28, lu->pbs / lu->lbs);    /* optimal unmap granularity */
        st_be64(buf + 36, max_blocks(lu));       /* maximum write same length */
        return 64;
    case 0xb1: /* block device characteristics, SBC-3 6.5.2 */
        return 64;
    case 0xb2: /* logical block provisioning, SBC-3 6.5.4 */
        buf[5] = 0x80 | 0x40 | 0x20 | 0x04; /* LBPU, LBPWS, LBPWS10, LBPRZ */
        buf[6] = 0x02;                      /* thin provisioned */
        return 8;
    default:
        return 0;
    }
}

static unsigned hd_mode_page(scsi_lu *lu, uint8_t page, uint8_t pc, uint8_t *buf)
{
    switch (page) {
    case 0x08: /* caching, SBC-3 6.4.5 */
        memset(buf, 0, 20);
        buf[0] = 0x08, buf[1] = 0x12;
        if (pc == 1) {
            buf[2] = 0x04; /* WCE is changeable */
        } else if (pc == 0 ? lu->wce : lu->wce_default) {
            buf[2] = 0x04;
        }
        return 20;
    case 0x0a: /* control, SPC-4 7.5.8 */
        memset(buf, 0, 12);
        buf[0] = 0x0a, buf[1] = 0x0a;
        return 12;
    default:
        return 0;
    }
}

static uint8_t hd_dev_param(scsi_lu *lu)
{
    return (lu->ro ? 0x80 : 0) | 0x10; /* WP, DPOFUA */
}

/* ---- dispatch ---- */

static void hd_exec(scsi_lu *lu, sreq *r)
{
    switch (r->pub.cdb[0]) {
    case OP_READ6: case OP_READ10: case OP_READ12: case OP_READ16:
        disk_rw(lu, r, false);
        break;
    case OP_WRITE6: case OP_WRITE10: case OP_WRITE12: case OP_WRITE16:
    case OP_WRITE_VERIFY10: case OP_WRITE_VERIFY12: case OP_WRITE_VERIFY16:
        disk_rw(lu, r, true);
        break;
    case OP_VERIFY10: case OP_VERIFY12: case OP_VERIFY16: verify(lu, r); break;
    case OP_READ_CAPACITY10: case OP_SAI16: read_capacity(lu, r); break;
    case OP_SYNC_CACHE10: case OP_SYNC_CACHE16: sync_cache(lu, r); break;
    case OP_WRITE_SAME10: case OP_WRITE_SAME16: write_same(lu, r); break;
    case OP_UNMAP: unmap_cmd(lu, r); break;
    case OP_START_STOP: case OP_PREVENT_ALLOW: sreq_good(r); break;
    default:
        if (!spc_exec(lu, r)) {
            H->log(TES_LOG_UNIMP, "scsi-hd %s: opcode 0x%02x not supported",
                   H->dev_id(lu->dev), r->pub.cdb[0]);
            sreq_check(r, SENSE_INVALID_OPCODE);
        }
    }
}

static const uint8_t hd_vpd_list[] = {0xb0, 0xb1, 0xb2, 0};
static const uint8_t hd_mode_list[] = {0x08, 0x0a, 0};

const scsi_lu_class scsi_hd_class = {
    .name = "scsi-hd",
    .type = 0x00,
    .exec = hd_exec,
    .mode_page = hd_mode_page,
    .mode_pages = hd_mode_list,
    .mode_dev_param = hd_dev_param,
    .vpd_page = hd_vpd,
    .vpd_pages = hd_vpd_list,
};

/* ---- the device ---- */

static bool block_sizes_ok(tes_device *dev, scsi_lu *lu)
{
    if (lu->lbs & (lu->lbs - 1)) {
        H->error(dev, "scsi-hd: property 'logical_block_size' wants 512, 1024, 2048 or 4096, "
                 "got %u", lu->lbs);
        return false;
    }
    if (!lu->pbs) {
        lu->pbs = lu->lbs;
    }
    if ((lu->pbs & (lu->pbs - 1)) || lu->pbs < lu->lbs) {
        H->error(dev, "scsi-hd: property 'physical_block_size' wants a power of two "
                 ">= logical_block_size (%u), got %u", lu->lbs, lu->pbs);
        return false;
    }
    return true;
}

int lu_realize_common(tes_device *dev, scsi_lu *lu, const scsi_lu_class *cls)
{
    lu->dev = dev;
    lu->cls = cls;
    lu->wce = lu->wce_default;
    if (lu->drive) {
        lu->blocks = H->drive_size(lu->drive) / lu->lbs;
        lu->ro = lu->ro || H->drive_readonly(lu->drive);
    }
    return lu_attach(lu);
}

static int hd_realize(tes_device *dev, void *s)
{
    scsi_lu *lu = s;

    if (!lu->drive) {
        H->error(dev, "scsi-hd: property 'drive' is required");
        return -EINVAL;
    }
    if (!block_sizes_ok(dev, lu)) {
        return -EINVAL;
    }
    return lu_realize_common(dev, lu, &scsi_hd_class);
}

void lu_unrealize(tes_device *dev, void *s)
{
    lu_detach(s);
}

void lu_reset(tes_device *dev, void *s)
{
    scsi_lu *lu = s;

    lu_set_ua(lu, SENSE_RESET);
    lu->wce = lu->wce_default;
    lu->tray_locked = false;
    lu->eject_req = false;
}

static int lu_pre_save(tes_device *dev, void *s)
{
    scsi_lu *lu = s;

    /* Requests finish before the state is written: nothing in flight
     * needs migrating. */
    if (lu->attached) {
        scsi_ops.drain(lu->bus);
    }
    return 0;
}

static int lu_post_load(tes_device *dev, void *s, uint32_t version)
{
    scsi_lu *lu = s;

    if (lu->ua_key > 0xf) {
        H->error(dev, "%s: unit attention key %u in the stream", lu->cls->name, lu->ua_key);
        return -EINVAL;
    }
    return 0;
}

static const tes_state_field lu_fields[] = {
    TES_FIELD_U8(scsi_lu, ua_key),
    TES_FIELD_U8(scsi_lu, ua_asc),
    TES_FIELD_U8(scsi_lu, ua_ascq),
    TES_FIELD_BOOL(scsi_lu, wce),
    TES_FIELD_BOOL(scsi_lu, tray_open),
    TES_FIELD_BOOL(scsi_lu, tray_locked),
    TES_FIELD_U8(scsi_lu, media_event),
    {"eject_req", TES_FIELD_BOOL, offsetof(scsi_lu, eject_req), 1, 2}, /* version 2 */
    TES_FIELD_END,
};

const tes_state_info lu_state = {
    .size = sizeof(tes_state_info),
    .version = 2,
    .min_version = 1,
    .fields = lu_fields,
    .pre_save = lu_pre_save,
    .post_load = lu_post_load,
};

static const tes_prop_info hd_props[] = {
    TES_PROP("drive", TES_PROP_DRIVE, scsi_lu, drive, NULL, 0, 0, "block backend (-drive id=)"),
    LU_ADDR_PROPS,
    TES_PROP("logical_block_size", TES_PROP_U32, scsi_lu, lbs, "512", 512, 4096,
             "logical block size in bytes"),
    TES_PROP("physical_block_size", TES_PROP_U32, scsi_lu, pbs, "0", 0, 65536,
             "physical block size in bytes (0: the logical one)"),
    TES_PROP("write-cache", TES_PROP_BOOL, scsi_lu, wce_default, "on", 0, 0,
             "write cache enabled (WCE) at reset"),
    LU_ID_PROPS,
    TES_PROP_END,
};

const tes_type_info scsi_hd_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "scsi-hd",
    .desc = "SCSI disk",
    .bus = TES_SCSI_BUS,
    .instance_size = sizeof(scsi_lu),
    .props = hd_props,
    .realize = hd_realize,
    .unrealize = lu_unrealize,
    .reset = lu_reset,
    .state = &lu_state,
    .flags = TES_TYPE_HOTPLUG,
};
