/*
 * scsi-bus: the SCSI bus of plugins/scsi and the "scsi" interface HBAs use
 * (<tessera/scsi.h> is its contract): logical units addressed by channel,
 * scsi-id and lun, requests with their data buffers in guest memory, task
 * management, hotplug events, and what the bus answers for a target
 * itself (REPORT LUNS, absent LUNs, unit attentions).
 *
 * User manual: the bus is what an HBA gives its devices; with
 * -device virtio-scsi-pci,id=scsi0 it is "scsi0.0":
 *
 *   -device scsi-hd,drive=d0,bus=scsi0.0,channel=0,scsi-id=0,lun=0
 *
 * A device outside the HBA's limits (channel, scsi-id, lun) or at an
 * address already taken is refused with one line. Requests of the guest
 * never fail the bus: each ends with a SAM status and sense data, or a
 * host status the HBA turns into its own error code.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "dma-cache.h"
#include "scsi-int.h"
#include "scsi-trace.h"

#define MAX_MAP 1024 /* pieces of one req_map */
#define OP_REQUEST_SENSE 0x03
#define OP_INQUIRY 0x12
#define OP_REPORT_LUNS 0xa0
#define MAX_REPORT_LUNS 512
/* Finished requests kept for the next ones (of any bus: an HBA may free
 * a request after its bus is gone): a disk at queue depth 32 otherwise
 * costs a calloc and a free per command, which glibc serves from its slow
 * bins once more than 7 of a size are live (its per-thread cache). Under
 * the devices' lock, as the buses. */
#if defined(__SANITIZE_ADDRESS__)
#define FREE_REQS 0 /* under ASan a finished request is freed: use after free shows */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FREE_REQS 0
#endif
#endif
#ifndef FREE_REQS
#define FREE_REQS 64
#endif

const tes_host *H;
TES_TRACE_DEFINE(SCSI_TRACE)

struct tes_scsi_bus {
    tes_device *hba;
    tes_bus *bus;
    tes_scsi_bus_info info;
    tes_scsi_hba_ops ops;
    scsi_lu *lus;  /* plug order */
    sreq *reqs;    /* submitted, not yet completed */
    unsigned ninflight;
    dwins win;     /* req_map's kept windows of guest RAM (dma-cache.h) */
};

static sreq *free_reqs; /* finished, for req_new to reuse (linked by next) */
static unsigned nfree;

/* ---- the bus ---- */

static tes_scsi_bus *bus_new(tes_device *hba, const char *name, const tes_scsi_bus_info *info)
{
    tes_scsi_bus *b;
    char auto_name[256];

    if (!info || info->size < sizeof(*info) || !info->ops || !info->ops->complete) {
        H->error(hba, "scsi: bus info without a complete callback");
        return NULL;
    }
    b = calloc(1, sizeof(*b));
    if (!b) {
        H->error(hba, "scsi: out of memory");
        return NULL;
    }
    b->hba = hba;
    dwins_init(&b->win);
    b->info = *info;
    memcpy(&b->ops, info->ops,
           info->ops->size < sizeof(b->ops) ? info->ops->size : sizeof(b->ops));
    b->info.ops = &b->ops;
    if (!name) {
        snprintf(auto_name, sizeof(auto_name), "%s.0", H->dev_id(hba));
        name = auto_name;
    }
    b->bus = H->bus_new(hba, TES_SCSI_BUS, name, b);
    return b;
}

static void bus_drain(tes_scsi_bus *b);

static void bus_free(tes_scsi_bus *b)
{
    if (!b) {
        return;
    }
    bus_drain(b);
    free(b);
}

static tes_bus *bus_core(tes_scsi_bus *b)
{
    return b->bus;
}

static bool lun_at(tes_scsi_bus *b, unsigned i, uint32_t *ch, uint32_t *id, uint32_t *lun)
{
    scsi_lu *lu = b->lus;

    for (; lu && i; lu = lu->next) {
        i--;
    }
    if (!lu) {
        return false;
    }
    *ch = lu->channel, *id = lu->id, *lun = lu->lun;
    return true;
}

static scsi_lu *find_lu(tes_scsi_bus *b, uint32_t ch, uint32_t id, uint32_t lun)
{
    for (scsi_lu *lu = b->lus; lu; lu = lu->next) {
        if (lu->channel == ch && lu->id == id && lu->lun == lun) {
            return lu;
        }
    }
    return NULL;
}

/* The LU at ch:id:lun or NULL, for the HBAs of this plugin that describe
 * their devices to the guest (megasas: sizes, INQUIRY data). */
scsi_lu *scsi_bus_lu(tes_scsi_bus *b, uint32_t ch, uint32_t id, uint32_t lun)
{
    return find_lu(b, ch, id, lun);
}

static bool target_present(tes_scsi_bus *b, uint32_t ch, uint32_t id)
{
    for (scsi_lu *lu = b->lus; lu; lu = lu->next) {
        if (lu->channel == ch && lu->id == id) {
            return true;
        }
    }
    return false;
}

/* The LUNs of channel:id, ascending. */
unsigned lu_luns(tes_scsi_bus *b, uint32_t ch, uint32_t id, uint32_t *out, unsigned max)
{
    unsigned n = 0;

    for (scsi_lu *lu = b->lus; lu; lu = lu->next) {
        if (lu->channel == ch && lu->id == id && n < max) {
            unsigned i = n++;
            for (; i && out[i - 1] > lu->lun; i--) {
                out[i] = out[i - 1];
            }
            out[i] = lu->lun;
        }
    }
    return n;
}

/* ---- logical units ---- */

static bool pick_id(scsi_lu *lu, tes_scsi_bus *b)
{
    for (uint32_t id = 0; id <= b->info.max_target; id++) {
        if (!find_lu(b, lu->channel, id, lu->lun)) {
            lu->id = id;
            return true;
        }
    }
    return false;
}

int lu_attach(scsi_lu *lu)
{
    tes_bus *bus = H->dev_bus(lu->dev);
    tes_scsi_bus *b = bus ? H->bus_opaque(bus) : NULL;
    scsi_lu **tail;

    if (!b) {
        H->error(lu->dev, "%s: not on a SCSI bus", lu->cls->name);
        return -EINVAL;
    }
    if (lu->id == UINT32_MAX && !pick_id(lu, b)) {
        H->error(lu->dev, "%s: no free scsi-id on bus '%s'", lu->cls->name, H->bus_name(bus));
        return -EBUSY;
    }
    if (lu->channel > b->info.max_channel || lu->id > b->info.max_target ||
        lu->lun > b->info.max_lun) {
        H->error(lu->dev, "%s: channel=%u,scsi-id=%u,lun=%u is outside what bus '%s' "
                 "addresses (channel 0..%u, scsi-id 0..%u, lun 0..%u)", lu->cls->name,
                 lu->channel, lu->id, lu->lun, H->bus_name(bus), b->info.max_channel,
                 b->info.max_target, b->info.max_lun);
        return -EINVAL;
    }
    if (find_lu(b, lu->channel, lu->id, lu->lun)) {
        H->error(lu->dev, "%s: %u:%u:%u on bus '%s' is taken by '%s'", lu->cls->name,
                 lu->channel, lu->id, lu->lun, H->bus_name(bus),
                 H->dev_id(find_lu(b, lu->channel, lu->id, lu->lun)->dev));
        return -EBUSY;
    }
    for (tail = &b->lus; *tail; tail = &(*tail)->next) {
    }
    *tail = lu;
    lu->bus = b;
    lu->attached = true;
    if (b->ops.attached) {
        b->ops.attached(b->info.opaque, lu->channel, lu->id, lu->lun);
    }
    return 0;
}

static void lu_drain(scsi_lu *lu)
{
    /* Every request of lu in flight waits on its drive; each drain runs
     * the completions that ended. */
    while (lu->inflight && lu->drive && H->drive_inflight(lu->drive)) {
        H->drive_drain(lu->drive);
    }
}

void lu_detach(scsi_lu *lu)
{
    tes_scsi_bus *b = lu->bus;

    if (!lu->attached) {
        return;
    }
    lu_drain(lu);
    for (scsi_lu **p = &b->lus; *p; p = &(*p)->next) {
        if (*p == lu) {
            *p = lu->next;
            break;
        }
    }
    lu->attached = false;
    if (b->ops.detached) {
        b->ops.detached(b->info.opaque, lu->channel, lu->id, lu->lun);
    }
}

void lu_set_ua(scsi_lu *lu, scsi_sense s)
{
    lu->ua_key = s.key, lu->ua_asc = s.asc, lu->ua_ascq = s.ascq;
}

/* A changed CD reads as gone, then as changed (QEMU's scsi-cd): guests
 * that never poll GESN learn of the change this way. */
void lu_ua_reported(scsi_lu *lu)
{
    bool gone = lu->ua_key == SK_UNIT_ATTENTION && lu->ua_asc == 0x3a;

    lu->ua_key = 0;
    if (gone) {
        lu_set_ua(lu, SENSE_MEDIUM_CHANGED);
    }
}

/* ---- requests ---- */

/*
 * A reused request zeroed, but for the sense buffer and the inline map
 * (sense_len and nmap say how much of them holds anything). The head, up
 * to the sense, is one fixed-size clear (a few vector stores); the rest
 * is cleared field by field: as one memset GCC made it a `rep stos`,
 * whose start-up was nearly half of req_new's time (perf annotate), and
 * a memset of the whole (~500 bytes) was a libc call. The HBA's part, a
 * pointer for the HBAs here, is zeroed too.
 */
static void req_clear(sreq *r)
{
    memset(r, 0, offsetof(sreq, pub.sense));
    r->pub.host_status = 0;
    r->pub.residual = 0;
    r->pub.priv = NULL;
    r->bus = NULL;
    r->lu = NULL;
    r->prev = r->next = NULL;
    r->submitted = r->aborted = r->reset = false;
    r->pending = 0;
    r->err = 0;
    r->buflen = r->xfer = 0;
    r->dma_dev = NULL;
    r->map = NULL;
    r->nmap = 0;
    r->map_write = false;
    r->slice = NULL;
    r->bounce = NULL;
    r->bounce_len = r->lba = 0;
    r->then = NULL;
    if (r->priv_size == sizeof(void *)) {
        memset(r + 1, 0, sizeof(void *));
    } else {
        memset(r + 1, 0, r->priv_size);
    }
}

/* The CDB sizes HBAs send copied with fixed sizes (inline moves). */
static void cdb_copy(uint8_t *to, const uint8_t *cdb, uint32_t len)
{
    switch (len) {
    case 10: memcpy(to, cdb, 10); break;
    case 16: memcpy(to, cdb, 16); break;
    case 32: memcpy(to, cdb, 32); break;
    default: memcpy(to, cdb, len); break;
    }
}

static tes_scsi_req *req_new(tes_scsi_bus *b, uint32_t ch, uint32_t id, uint32_t lun,
                             uint64_t tag, const uint8_t *cdb, uint32_t cdb_len,
                             size_t priv_size)
{
    sreq *r = free_reqs;

    if (r && r->priv_size == priv_size) {
        free_reqs = r->next;
        nfree--;
        req_clear(r);
    } else if (!(r = calloc(1, sizeof(*r) + priv_size))) {
        return NULL;
    }
    r->priv_size = priv_size;
    r->pub.size = sizeof(r->pub);
    r->pub.channel = ch, r->pub.id = id, r->pub.lun = lun;
    r->pub.tag = tag;
    r->pub.cdb_len = cdb_len < TES_SCSI_CDB_MAX ? cdb_len : TES_SCSI_CDB_MAX;
    if (cdb) {
        cdb_copy(r->pub.cdb, cdb, r->pub.cdb_len);
    }
    r->pub.priv = priv_size ? (uint8_t *)(r + 1) : NULL;
    r->bus = b;
    trace_scsi_req_parsed(id, lun, tag, cdb && cdb_len ? cdb[0] : -1);
    return &r->pub;
}

static void unmap_all(sreq *r)
{
    for (unsigned i = 0; i < r->nmap; i++) {
        H->dma_unmap(r->dma_dev, r->map[i].iov_base, r->map[i].iov_len, r->map_write);
    }
    if (r->map != r->map_inline) {
        free(r->map);
    }
    r->map = NULL;
    r->nmap = 0;
}

/* Room for one more mapped piece; false when out of memory. */
static bool map_room(sreq *r, unsigned *cap)
{
    struct iovec *m;

    if (r->nmap < *cap) {
        return true;
    }
    if (r->map == r->map_inline) {
        m = malloc(sizeof(*m) * *cap * 2);
        if (m) {
            memcpy(m, r->map, sizeof(*m) * r->nmap);
        }
    } else {
        m = realloc(r->map, sizeof(*m) * *cap * 2);
    }
    if (!m) {
        return false;
    }
    r->map = m;
    *cap *= 2;
    return true;
}

static inline void req_free(tes_scsi_req *pub)
{
    sreq *r = (sreq *)pub;

    if (!r) {
        return;
    }
    if (r->nmap) {
        unmap_all(r);
    }
    if (r->slice) {
        free(r->slice);
    }
    if (r->bounce) {
        free(r->bounce);
    }
    if (nfree < FREE_REQS) {
        r->next = free_reqs;
        free_reqs = r;
        nfree++;
        return;
    }
    free(r);
}

static int req_map(tes_scsi_req *pub, tes_device *dma_dev, tes_scsi_dir dir,
                   const tes_scsi_sge *sg, unsigned n)
{
    sreq *r = (sreq *)pub;
    bool write = dir == TES_SCSI_DIR_FROM_DEV;
    unsigned cap = SREQ_MAP_INLINE;

    if (r->map) { /* a request mapped before (req_clear leaves map NULL) */
        unmap_all(r);
    }
    r->pub.dir = dir;
    r->dma_dev = dma_dev;
    r->map_write = write;
    r->map = r->map_inline;
    for (unsigned i = 0; i < n; i++) {
        uint64_t addr = sg[i].addr, left = sg[i].len;
        while (left) {
            uint64_t len = left;
            void *p;
            if (r->nmap == MAX_MAP) {
                unmap_all(r);
                return -EINVAL;
            }
            p = dwin_map(&r->bus->win, dma_dev, addr, &len, write);
            if (!p || !len) {
                unmap_all(r);
                return -EFAULT;
            }
            if (!map_room(r, &cap)) {
                H->dma_unmap(dma_dev, p, len, false);
                unmap_all(r);
                return -ENOMEM;
            }
            r->map[r->nmap++] = (struct iovec){p, len};
            addr += len, left -= len;
        }
    }
    r->pub.iov = r->map;
    r->pub.iovcnt = r->nmap;
    return 0;
}

void sense_fixed(uint8_t *out, scsi_sense s)
{
    memset(out, 0, 18);
    out[0] = 0x70; /* current error, fixed format */
    out[2] = s.key;
    out[7] = 10; /* additional sense length */
    out[12] = s.asc;
    out[13] = s.ascq;
}

static void finish(sreq *r)
{
    tes_scsi_bus *b = r->bus;

    if (r->prev) {
        r->prev->next = r->next;
    } else {
        b->reqs = r->next;
    }
    if (r->next) {
        r->next->prev = r->prev;
    }
    b->ninflight--;
    if (r->lu) {
        r->lu->inflight--;
    }
    if (r->aborted || r->reset) {
        r->pub.status = TES_SCSI_TASK_ABORTED;
        r->pub.host_status = r->aborted ? TES_SCSI_HOST_ABORTED : TES_SCSI_HOST_RESET;
        r->pub.sense_len = 0;
        r->pub.residual = r->buflen;
    }
    b->ops.complete(b->info.opaque, &r->pub);
    req_free(&r->pub);
}

void sreq_good(sreq *r)
{
    r->pub.status = TES_SCSI_GOOD;
    finish(r);
}

void sreq_check(sreq *r, scsi_sense s)
{
    r->pub.status = TES_SCSI_CHECK_CONDITION;
    sense_fixed(r->pub.sense, s);
    r->pub.sense_len = 18;
    r->pub.residual = r->buflen;
    finish(r);
}

void sreq_host(sreq *r, tes_scsi_host_status hs)
{
    r->pub.status = TES_SCSI_GOOD;
    r->pub.host_status = hs;
    r->pub.residual = r->buflen;
    finish(r);
}

void sreq_reply(sreq *r, const void *buf, uint64_t len, uint64_t alloc)
{
    uint64_t n = len < alloc ? len : alloc, done = 0;

    if (r->pub.dir == TES_SCSI_DIR_TO_DEV && r->buflen) {
        sreq_host(r, TES_SCSI_HOST_OVERRUN);
        return;
    }
    for (unsigned i = 0; i < r->pub.iovcnt && done < n; i++) {
        uint64_t k = r->pub.iov[i].iov_len < n - done ? r->pub.iov[i].iov_len : n - done;
        memcpy(r->pub.iov[i].iov_base, (const uint8_t *)buf + done, k);
        done += k;
    }
    r->pub.residual = r->buflen - done;
    sreq_good(r);
}

int64_t sreq_param(sreq *r, void *buf, uint64_t len)
{
    uint64_t done = 0;

    if (r->pub.dir == TES_SCSI_DIR_FROM_DEV && r->buflen) {
        sreq_host(r, TES_SCSI_HOST_OVERRUN);
        return -1;
    }
    for (unsigned i = 0; i < r->pub.iovcnt && done < len; i++) {
        uint64_t k = r->pub.iov[i].iov_len < len - done ? r->pub.iov[i].iov_len : len - done;
        memcpy((uint8_t *)buf + done, r->pub.iov[i].iov_base, k);
        done += k;
    }
    r->pub.residual = r->buflen - done;
    return (int64_t)done;
}

bool sreq_data_slice(sreq *r, uint64_t xfer, tes_scsi_dir dir, const struct iovec **iov,
                     unsigned *cnt)
{
    uint64_t left = xfer;
    unsigned n = 0;

    if (xfer && (r->pub.dir != dir || r->buflen < xfer)) {
        H->log(TES_LOG_GUEST_ERROR, "scsi: %s %u:%u:%u: opcode 0x%02x moves %llu bytes %s, "
               "the buffer holds %llu %s", H->dev_id(r->lu->dev), r->pub.channel, r->pub.id,
               r->pub.lun, r->pub.cdb[0], (unsigned long long)xfer,
               dir == TES_SCSI_DIR_FROM_DEV ? "in" : "out", (unsigned long long)r->buflen,
               r->pub.dir == TES_SCSI_DIR_FROM_DEV ? "in" : r->pub.dir ? "out" : "none");
        sreq_host(r, TES_SCSI_HOST_OVERRUN);
        return false;
    }
    r->xfer = xfer;
    r->pub.residual = r->buflen - xfer;
    if (xfer == r->buflen) {
        *iov = r->pub.iov, *cnt = r->pub.iovcnt;
        return true;
    }
    r->slice = malloc(sizeof(*r->slice) * (r->pub.iovcnt ? r->pub.iovcnt : 1));
    if (!r->slice) {
        sreq_host(r, TES_SCSI_HOST_ERROR);
        return false;
    }
    for (unsigned i = 0; i < r->pub.iovcnt && left; i++) {
        r->slice[n] = r->pub.iov[i];
        if (r->slice[n].iov_len > left) {
            r->slice[n].iov_len = left;
        }
        left -= r->slice[n++].iov_len;
    }
    *iov = r->slice, *cnt = n;
    return true;
}

/* ---- block I/O of requests ---- */

static void blk_end(sreq *r);

static void blk_cb(void *opaque, int ret)
{
    sreq *r = opaque;

    if (ret < 0 && !r->err) {
        r->err = ret;
    }
    if (--r->pending == 0) {
        blk_end(r);
    }
}

void sreq_blk(sreq *r, tes_blk_op op, uint64_t off, const struct iovec *iov, unsigned cnt,
              uint64_t len, unsigned flags)
{
    int ret;

    r->pending++;
    ret = H->drive_submit(r->lu->drive, op, off, iov, cnt, len, flags, blk_cb, r);
    if (ret < 0) {
        r->pending--;
        if (!r->err) {
            r->err = ret;
        }
    }
}

static scsi_sense errno_sense(int err)
{
    switch (err) {
    case -ENOSPC: return SENSE_SPACE_ALLOC_FAILED;
    case -EROFS: case -EPERM: return SENSE_WRITE_PROTECTED;
    case -EINVAL: return SENSE_LBA_OUT_OF_RANGE;
    default: return SENSE_IO_ERROR;
    }
}

/* Every block request of r returned: the next step, or the end. */
static void blk_end(sreq *r)
{
    sreq_next_fn then = r->then;

    r->then = NULL;
    if (then && !r->err && !r->aborted && !r->reset) {
        then(r);
        return;
    }
    if (r->err && !r->aborted && !r->reset) {
        H->log(TES_LOG_TRACE, "scsi: %s: opcode 0x%02x failed: %s", H->dev_id(r->lu->dev),
               r->pub.cdb[0], strerror(-r->err));
        sreq_check(r, errno_sense(r->err));
        return;
    }
    sreq_good(r);
}

void sreq_blk_submitted(sreq *r, sreq_next_fn then)
{
    r->then = then;
    if (r->pending == 0) {
        blk_end(r); /* none was queued: drive_submit failed at once */
    }
}

/* ---- what the bus answers itself ---- */

static void report_luns(tes_scsi_bus *b, sreq *r)
{
    static uint8_t buf[8 + 8 * MAX_REPORT_LUNS];
    uint32_t luns[MAX_REPORT_LUNS];
    const uint8_t *cdb = r->pub.cdb;
    uint32_t alloc = be32(cdb + 6);
    unsigned n;

    /* SPC-4 6.33: select report 0 (all), 1 (well-known: none), 2 (all
     * LUNs); allocation length at least 16. */
    if (cdb[2] > 2 || alloc < 16) {
        sreq_check(r, SENSE_INVALID_FIELD);
        return;
    }
    n = cdb[2] == 1 ? 0 : lu_luns(b, r->pub.channel, r->pub.id, luns, MAX_REPORT_LUNS);
    memset(buf, 0, sizeof(buf));
    st_be32(buf, 8 * n);
    for (unsigned i = 0; i < n; i++) {
        /* SAM-5 4.7: peripheral addressing below 256, flat above. */
        buf[8 + 8 * i] = luns[i] < 256 ? 0 : 0x40 | (luns[i] >> 8);
        buf[9 + 8 * i] = luns[i] & 0xff;
    }
    sreq_reply(r, buf, 8 + 8 * n, alloc);
}

static void absent_lun(tes_scsi_bus *b, sreq *r, scsi_lu *any)
{
    const uint8_t *cdb = r->pub.cdb;
    uint8_t buf[96];
    unsigned len;

    switch (cdb[0]) {
    case OP_INQUIRY:
        if (cdb[1] & 1) {
            sreq_check(r, SENSE_LUN_NOT_SUPPORTED);
            return;
        }
        /* SPC-4 6.6.2: peripheral qualifier 3, no device type. */
        spc_inquiry_std(any, buf, &len);
        buf[0] = 0x7f;
        sreq_reply(r, buf, len, be16(cdb + 3));
        return;
    case OP_REQUEST_SENSE:
        sense_fixed(buf, SENSE_LUN_NOT_SUPPORTED);
        sreq_reply(r, buf, 18, cdb[4]);
        return;
    default:
        sreq_check(r, SENSE_LUN_NOT_SUPPORTED);
    }
}

/* SAM-5 5.14: a pending unit attention ends the next command of the LUN
 * that is not INQUIRY, REPORT LUNS or REQUEST SENSE. */
static bool unit_attention(scsi_lu *lu, sreq *r)
{
    uint8_t op = r->pub.cdb[0];
    scsi_sense s = SENSE(lu->ua_key, lu->ua_asc, lu->ua_ascq);

    if (!lu->ua_key || op == OP_INQUIRY || op == OP_REPORT_LUNS || op == OP_REQUEST_SENSE) {
        return false;
    }
    /* MMC-6 4.1.6.1: these two report media events themselves */
    if (lu->cls->removable && (op == 0x46 || op == 0x4a)) {
        return false;
    }
    lu_ua_reported(lu);
    sreq_check(r, s);
    return true;
}

static uint64_t iov_total(const struct iovec *iov, unsigned cnt)
{
    uint64_t n = 0;

    for (unsigned i = 0; i < cnt; i++) {
        n += iov[i].iov_len;
    }
    return n;
}

static void track(sreq *r)
{
    tes_scsi_bus *b = r->bus;

    r->submitted = true;
    r->next = b->reqs;
    if (b->reqs) {
        b->reqs->prev = r;
    }
    b->reqs = r;
    b->ninflight++;
    r->buflen = r->pub.dir == TES_SCSI_DIR_NONE ? 0 : iov_total(r->pub.iov, r->pub.iovcnt);
}

/* No LU at the address: the target answers, or there is none. */
static void no_lu(tes_scsi_bus *b, sreq *r)
{
    scsi_lu *any = NULL;

    for (scsi_lu *l = b->lus; l && !any; l = l->next) {
        any = l->channel == r->pub.channel && l->id == r->pub.id ? l : NULL;
    }
    if (!any) {
        sreq_host(r, TES_SCSI_HOST_NO_TARGET);
    } else if (r->pub.cdb[0] == OP_REPORT_LUNS) {
        report_luns(b, r);
    } else {
        absent_lun(b, r, any);
    }
}

static void req_submit(tes_scsi_req *pub)
{
    sreq *r = (sreq *)pub;
    tes_scsi_bus *b = r->bus;
    scsi_lu *lu = find_lu(b, pub->channel, pub->id, pub->lun);

    track(r);
    if (!lu) {
        no_lu(b, r);
        return;
    }
    r->lu = lu;
    lu->inflight++;
    if (unit_attention(lu, r)) {
        return;
    }
    if (pub->cdb[0] == OP_REPORT_LUNS) {
        report_luns(b, r);
        return;
    }
    lu->cls->exec(lu, r);
}

/* ---- task management ---- */

static bool tmf_matches(sreq *r, tes_scsi_tmf fn, uint32_t ch, uint32_t id, uint32_t lun,
                        uint64_t tag)
{
    switch (fn) {
    case TES_SCSI_TMF_BUS_RESET: return true;
    case TES_SCSI_TMF_TARGET_RESET: return r->pub.channel == ch && r->pub.id == id;
    case TES_SCSI_TMF_ABORT_TASK: case TES_SCSI_TMF_QUERY_TASK:
        if (r->pub.tag != tag) {
            return false;
        }
        /* fall through */
    default:
        return r->pub.channel == ch && r->pub.id == id && r->pub.lun == lun;
    }
}

static void tmf_end(tes_scsi_bus *b, tes_scsi_tmf fn, uint32_t ch, uint32_t id, uint32_t lun,
                    uint64_t tag)
{
    bool reset = fn >= TES_SCSI_TMF_LUN_RESET;

    for (sreq *r = b->reqs; r; r = r->next) {
        if (tmf_matches(r, fn, ch, id, lun, tag)) {
            r->aborted |= !reset;
            r->reset |= reset;
        }
    }
    for (scsi_lu *lu = b->lus; lu; lu = lu->next) {
        bool hit = fn == TES_SCSI_TMF_BUS_RESET ||
                   (lu->channel == ch && lu->id == id &&
                    (fn == TES_SCSI_TMF_TARGET_RESET || lu->lun == lun));
        if (hit) {
            lu_drain(lu);
            if (reset) {
                lu_set_ua(lu, SENSE_RESET);
            }
        }
    }
}

static tes_scsi_tmf_result tmf(tes_scsi_bus *b, tes_scsi_tmf fn, uint32_t ch, uint32_t id,
                               uint32_t lun, uint64_t tag)
{
    if (fn < TES_SCSI_TMF_ABORT_TASK || fn > TES_SCSI_TMF_QUERY_TASK_SET) {
        return TES_SCSI_TMF_REJECTED;
    }
    if (fn != TES_SCSI_TMF_BUS_RESET && !target_present(b, ch, id)) {
        return TES_SCSI_TMF_NO_TARGET;
    }
    if (fn != TES_SCSI_TMF_BUS_RESET && fn != TES_SCSI_TMF_TARGET_RESET &&
        !find_lu(b, ch, id, lun)) {
        return TES_SCSI_TMF_INCORRECT_LUN;
    }
    if (fn == TES_SCSI_TMF_QUERY_TASK || fn == TES_SCSI_TMF_QUERY_TASK_SET) {
        for (sreq *r = b->reqs; r; r = r->next) {
            if (tmf_matches(r, fn, ch, id, lun, tag)) {
                return TES_SCSI_TMF_SUCCEEDED;
            }
        }
        return TES_SCSI_TMF_COMPLETE;
    }
    tmf_end(b, fn, ch, id, lun, tag);
    return TES_SCSI_TMF_COMPLETE;
}

static void bus_drain(tes_scsi_bus *b)
{
    for (scsi_lu *lu = b->lus; lu; lu = lu->next) {
        lu_drain(lu);
    }
}

static unsigned bus_inflight(tes_scsi_bus *b)
{
    return b->ninflight;
}

static void req_xfer(tes_scsi_req *pub, tes_scsi_dir *dir, uint64_t *len)
{
    sreq *r = (sreq *)pub;

    cdb_xfer(find_lu(r->bus, pub->channel, pub->id, pub->lun), pub->cdb, dir, len);
}

const tes_scsi_ops scsi_ops = {
    .size = sizeof(tes_scsi_ops),
    .bus_new = bus_new,
    .bus_free = bus_free,
    .bus = bus_core,
    .lun_at = lun_at,
    .req_new = req_new,
    .req_map = req_map,
    .req_submit = req_submit,
    .req_free = req_free,
    .tmf = tmf,
    .drain = bus_drain,
    .inflight = bus_inflight,
    .req_xfer = req_xfer,
};

/* ---- the plugin ---- */

static int scsi_plugin_init(const tes_host *host)
{
    H = host;
    if (H->size < offsetof(tes_host, drive_inflight) + sizeof(H->drive_inflight)) {
        return -ENOTSUP; /* needs ABI 1.1 asynchronous block requests */
    }
    if (TES_TRACE_REGISTER(host) != 0) {
        return -EINVAL;
    }
    /* -EEXIST: another provider registered first; ours stay usable inside
     * this plugin. */
    H->iface_register(TES_SCSI_IFACE, TES_SCSI_IFACE_VERSION, &scsi_ops);
    return 0;
}

static const tes_type_info *const scsi_types[] = {
    &scsi_hd_type,
    &scsi_cd_type,
    &virtio_scsi_device_type,
    &lsi53c895a_type,
    &megasas_type,
    NULL,
};

TES_PLUGIN_DEFINE(.name = "scsi", .version = "0.1.0", .license = "MIT",
                  .desc = "SCSI bus, scsi-hd and scsi-cd, the virtio-scsi device, "
                          "lsi53c895a, megasas",
                  .types = scsi_types, .init = scsi_plugin_init);
