/*
 * nvme command set: admin commands (NVMe 1.4 section 5) and NVM I/O
 * commands (section 6), with PRP data pointers (section 4.3).
 *
 *   admin: delete/create I/O SQ and CQ, get log page (error information,
 *          SMART / health, firmware slot), identify (CNS 00h namespace, 01h
 *          controller, 02h active namespace list, 03h namespace
 *          identification descriptors, 06h I/O command set controller),
 *          abort (never aborts: dword 0 bit 0 set), set/get features
 *          (power management, temperature threshold, error recovery,
 *          volatile write cache, number of queues, interrupt coalescing,
 *          interrupt vector configuration, write atomicity, async event
 *          configuration), asynchronous event request.
 *   I/O:   flush, write, read, compare, write zeroes (DEAC, FUA), dataset
 *          management (deallocate).
 *
 * SGLs are not supported (SGLS 0; PSDT != 0 is an invalid field). Reads and
 * writes map guest pages directly and go to the drive asynchronously.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvme.h"

#define ID_SIZE 4096
#define DSM_MAX_RANGES 256

/* Admin opcodes (section 5). */
#define ADM_DELETE_SQ 0x00
#define ADM_CREATE_SQ 0x01
#define ADM_GET_LOG 0x02
#define ADM_DELETE_CQ 0x04
#define ADM_CREATE_CQ 0x05
#define ADM_IDENTIFY 0x06
#define ADM_ABORT 0x08
#define ADM_SET_FEATURES 0x09
#define ADM_GET_FEATURES 0x0a
#define ADM_AER 0x0c
/* NVM opcodes (section 6). */
#define IO_FLUSH 0x00
#define IO_WRITE 0x01
#define IO_READ 0x02
#define IO_COMPARE 0x05
#define IO_WRITE_ZEROES 0x08
#define IO_DSM 0x09

/* Controller attributes we advertise (Identify Controller). */
#define ONCS_COMPARE 0x01
#define ONCS_DSM 0x04
#define ONCS_WRITE_ZEROES 0x08
#define OAES_NS_ATTR (1u << 8)

typedef struct sqe_view {
    uint8_t opcode, flags;
    uint32_t nsid;
    uint64_t prp1, prp2;
    uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
} sqe_view;

static sqe_view decode(const uint8_t *s)
{
    return (sqe_view){
        .opcode = s[0], .flags = s[1], .nsid = nvme_le32(s + 4),
        .prp1 = nvme_le64(s + 24), .prp2 = nvme_le64(s + 32),
        .cdw10 = nvme_le32(s + 40), .cdw11 = nvme_le32(s + 44), .cdw12 = nvme_le32(s + 48),
        .cdw13 = nvme_le32(s + 52), .cdw14 = nvme_le32(s + 56), .cdw15 = nvme_le32(s + 60),
    };
}

static uint16_t bad(nvme_req *r, uint16_t status, const char *fmt, ...) TES_PRINTF(3, 4);

/* Log a guest mistake and return its status (with Do Not Retry). */
static uint16_t bad(nvme_req *r, uint16_t status, const char *fmt, ...)
{
    char msg[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    nvme_guest_error(r->n, "sq %u cid %u opcode 0x%02x: %s (status 0x%x)", r->sqid, r->cid,
                     r->opcode, msg, status);
    return status | SC_DNR;
}

/* ---- PRPs (section 4.3) ---- */

typedef uint16_t (*chunk_fn)(nvme_req *r, uint64_t addr, uint64_t len, void *opaque);

#define PRP_BATCH 64

/* Entries of a PRP list from list on; the last entry of a list page points
 * to the next list page when more data remains. Only PRP2 may point into
 * the middle of a page; a chained list pointer must be page aligned (as
 * QEMU checks), so every list page followed yields ps/8 - 1 data entries
 * and the walk ends: PRP2 at offset 0xff8 pointing at itself (or any chain
 * back into a page's last entry) would otherwise loop forever. */
static uint16_t prp_list(nvme_req *r, uint64_t list, uint64_t len, chunk_fn fn, void *op)
{
    uint32_t ps = nvme_page_size(r->n);
    uint64_t ent[PRP_BATCH];

    while (len) {
        uint64_t in_page = (ps - (list & (ps - 1))) / 8, need = (len + ps - 1) / ps;
        uint64_t take = need < in_page ? need : in_page;
        uint16_t st;

        take = take < PRP_BATCH ? take : PRP_BATCH;
        if (H->dma_read(r->n->dev, list, ent, take * 8) != TES_MEM_OK) {
            return bad(r, SC_DATA_XFER_ERROR, "PRP list at 0x%llx is not in RAM",
                       (unsigned long long)list);
        }
        for (uint64_t i = 0; i < take && len; i++) {
            uint64_t e = le64toh(ent[i]), n = len < ps ? len : ps;

            if (i + 1 == in_page && need > 1) { /* chained to the next list page */
                if (e & (ps - 1)) {
                    return bad(r, SC_PRP_OFFSET_INVALID,
                               "chained PRP list pointer 0x%llx is not page aligned",
                               (unsigned long long)e);
                }
                list = e;
                goto next_page;
            }
            if (e & (ps - 1)) {
                return bad(r, SC_PRP_OFFSET_INVALID, "PRP entry 0x%llx has an offset",
                           (unsigned long long)e);
            }
            if ((st = fn(r, e, n, op))) {
                return st;
            }
            len -= n;
            need--;
        }
        list += take * 8;
    next_page:;
    }
    return 0;
}

static uint16_t prp_walk(nvme_req *r, uint64_t prp1, uint64_t prp2, uint64_t len, chunk_fn fn,
                         void *op)
{
    uint32_t ps = nvme_page_size(r->n);
    uint64_t first = ps - (prp1 & (ps - 1));
    uint16_t st;

    if (prp1 & 3) {
        return bad(r, SC_PRP_OFFSET_INVALID, "PRP1 0x%llx is not dword aligned",
                   (unsigned long long)prp1);
    }
    first = first < len ? first : len;
    if ((st = fn(r, prp1, first, op))) {
        return st;
    }
    len -= first;
    if (!len) {
        return 0;
    }
    if (len <= ps) {
        if (prp2 & (ps - 1)) {
            return bad(r, SC_PRP_OFFSET_INVALID, "PRP2 0x%llx has an offset",
                       (unsigned long long)prp2);
        }
        return fn(r, prp2, len, op);
    }
    if (prp2 & 7) {
        return bad(r, SC_PRP_OFFSET_INVALID, "PRP list pointer 0x%llx is not qword aligned",
                   (unsigned long long)prp2);
    }
    return prp_list(r, prp2, len, fn, op);
}

/* Map a chunk into r->iov, merging with the previous one when contiguous. */
static uint16_t map_chunk(nvme_req *r, uint64_t addr, uint64_t len, void *op)
{
    while (len) {
        uint64_t n = len;
        uint8_t *p = H->dma_map(r->n->dev, addr, &n, r->to_guest);
        struct iovec *last = r->niov ? &r->iov[r->niov - 1] : NULL;

        if (!p || !n) {
            return bad(r, SC_DATA_XFER_ERROR, "data at 0x%llx is not in RAM",
                       (unsigned long long)addr);
        }
        if (last && (uint8_t *)last->iov_base + last->iov_len == p) {
            last->iov_len += n;
        } else if (r->niov == r->maxiov) {
            H->dma_unmap(r->n->dev, p, n, false);
            return bad(r, SC_INVALID_FIELD, "data split in more than %u pieces", r->maxiov);
        } else {
            r->iov[r->niov++] = (struct iovec){p, n};
        }
        addr += n;
        len -= n;
    }
    return 0;
}

static void unmap_all(nvme_req *r)
{
    for (unsigned i = 0; i < r->niov; i++) {
        H->dma_unmap(r->n->dev, r->iov[i].iov_base, r->iov[i].iov_len, r->to_guest);
    }
    r->niov = 0;
}

static uint16_t map_prps(nvme_req *r, const sqe_view *c, uint64_t len)
{
    uint16_t st = prp_walk(r, c->prp1, c->prp2, len, map_chunk, NULL);

    if (st) {
        unmap_all(r);
    }
    return st;
}

/* Copy between buf and the PRP-described guest memory (admin data). */
typedef struct copy_ctx {
    uint8_t *buf;
    bool to_guest;
} copy_ctx;

static uint16_t copy_chunk(nvme_req *r, uint64_t addr, uint64_t len, void *op)
{
    copy_ctx *c = op;
    int ret = c->to_guest ? H->dma_write(r->n->dev, addr, c->buf, len)
                          : H->dma_read(r->n->dev, addr, c->buf, len);

    if (ret != TES_MEM_OK) {
        return bad(r, SC_DATA_XFER_ERROR, "data at 0x%llx is not in RAM",
                   (unsigned long long)addr);
    }
    c->buf += len;
    return 0;
}

static uint16_t to_guest(nvme_req *r, const sqe_view *c, const void *buf, uint64_t len)
{
    copy_ctx ctx = {(uint8_t *)buf, true};

    return prp_walk(r, c->prp1, c->prp2, len, copy_chunk, &ctx);
}

static uint16_t from_guest(nvme_req *r, const sqe_view *c, void *buf, uint64_t len)
{
    copy_ctx ctx = {buf, false};

    return prp_walk(r, c->prp1, c->prp2, len, copy_chunk, &ctx);
}

/* ---- identify (section 5.15) ---- */

static void put_str(uint8_t *dst, const char *s, size_t width)
{
    size_t n = strlen(s);

    memset(dst, ' ', width);
    memcpy(dst, s, n < width ? n : width);
}

static void identify_ctrl(nvme_ctrl *n, uint8_t *id)
{
    uint32_t nn = NVME_MAX_NS;

    nvme_put16(id + 0, 0x1b36);  /* VID */
    nvme_put16(id + 2, 0x1af4);  /* SSVID */
    put_str(id + 4, n->serial, 20);
    put_str(id + 24, "tessera NVMe Ctrl", 40);
    put_str(id + 64, "1.0", 8);
    id[72] = 6;                  /* RAB */
    id[73] = 0x00, id[74] = 0x54, id[75] = 0x52; /* IEEE OUI (QEMU's) */
    id[77] = n->mdts;
    nvme_put16(id + 78, 0);      /* CNTLID */
    nvme_put32(id + 80, 0x00010400);
    nvme_put32(id + 92, OAES_NS_ATTR);
    id[111] = 1;                 /* CNTRLTYPE: I/O controller */
    nvme_put16(id + 256, 0);     /* OACS: no optional admin commands */
    id[258] = 3;                 /* ACL */
    id[259] = NVME_AERL;
    id[260] = 1 << 1 | 1;        /* FRMW: one slot, slot 1 read-only */
    id[261] = 1 << 2;            /* LPA: extended data for get log page */
    id[262] = 0;                 /* ELPE: one error log entry */
    nvme_put16(id + 266, 0x0157); /* WCTEMP 343 K */
    nvme_put16(id + 268, 0x0175); /* CCTEMP 373 K */
    id[512] = 0x66;              /* SQES: 64 bytes */
    id[513] = 0x44;              /* CQES: 16 bytes */
    nvme_put16(id + 514, 0);     /* MAXCMD (fabrics only) */
    nvme_put32(id + 516, nn);
    nvme_put16(id + 520, ONCS_COMPARE | ONCS_DSM | ONCS_WRITE_ZEROES);
    id[525] = 0;                 /* FNA */
    id[524] = 1;                 /* VWC present */
    nvme_put32(id + 536, 0);     /* SGLS: none */
    snprintf((char *)id + 768, 256, "nqn.2024-01.org.tessera:nvme:%s", n->serial);
    nvme_put16(id + 2048, 0x9c4); /* PSD0: 25 W */
}

/* NGUID/EUI-64/UUID per serial and nsid, unique and stable. */
static uint64_t ns_hash(nvme_ns *ns)
{
    uint64_t h = 1469598103934665603ull;

    for (const char *p = ns->n->serial; *p; p++) {
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    }
    return (h ^ ns->nsid) * 1099511628211ull;
}

static void ns_ids(nvme_ns *ns, uint8_t nguid[16], uint8_t eui[8], uint8_t uuid[16])
{
    uint64_t h = ns_hash(ns);

    nvme_put64(eui, h);
    eui[0] = 0x52, eui[1] = 0x54, eui[2] = 0x00; /* OUI first (EUI-64) */
    nvme_put64(nguid, h);
    nvme_put64(nguid + 8, h * 31 + ns->nsid);
    memcpy(uuid, nguid, 16);
    uuid[6] = (uuid[6] & 0x0f) | 0x40; /* version 4 */
    uuid[8] = (uuid[8] & 0x3f) | 0x80; /* RFC 4122 variant */
}

static void identify_ns(nvme_ns *ns, uint8_t *id)
{
    uint8_t uuid[16];

    nvme_put64(id + 0, ns->nlbas);   /* NSZE */
    nvme_put64(id + 8, ns->nlbas);   /* NCAP */
    nvme_put64(id + 16, ns->nlbas);  /* NUSE */
    id[24] = 0;                      /* NSFEAT */
    id[25] = 1;                      /* NLBAF: two formats */
    id[26] = ns->lbads == 12 ? 1 : 0; /* FLBAS */
    /* DLFEAT: deallocated blocks read zeroes; write zeroes may deallocate. */
    id[33] = 0x01 | 0x08;
    ns_ids(ns, id + 104, id + 120, uuid);
    id[128 + 2] = 9;                 /* LBAF0: 512 bytes */
    id[132 + 2] = 12;                /* LBAF1: 4096 bytes */
}

static void ns_desc_list(nvme_ns *ns, uint8_t *d)
{
    uint8_t nguid[16], eui[8], uuid[16];

    ns_ids(ns, nguid, eui, uuid);
    d[0] = 1, d[1] = 8, memcpy(d + 4, eui, 8);            /* EUI-64 */
    d += 12;
    d[0] = 2, d[1] = 16, memcpy(d + 4, nguid, 16);        /* NGUID */
    d += 20;
    d[0] = 3, d[1] = 16, memcpy(d + 4, uuid, 16);         /* UUID */
    d += 20;
    d[0] = 4, d[1] = 1, d[4] = 0;                          /* CSI: NVM */
}

static uint16_t identify_ns_cns(nvme_req *r, const sqe_view *c, uint8_t cns, uint8_t *id)
{
    nvme_ns *ns = nvme_ns_get(r->n, c->nsid);

    if (c->nsid == 0 || (c->nsid > NVME_MAX_NS && c->nsid != 0xffffffff) ||
        (cns == 3 && !ns)) {
        return bad(r, SC_INVALID_NSID, "identify CNS %u of namespace %u", cns, c->nsid);
    }
    if (cns == 0 && ns) {
        identify_ns(ns, id);
    } else if (cns == 0 && c->nsid == 0xffffffff) {
        id[25] = 1, id[128 + 2] = 9, id[132 + 2] = 12; /* capabilities common to all */
    } else if (cns == 3) {
        ns_desc_list(ns, id);
    }
    return 0; /* an inactive namespace identifies as zeroes */
}

static uint16_t adm_identify(nvme_req *r, const sqe_view *c)
{
    uint8_t *id = calloc(1, ID_SIZE);
    uint8_t cns = c->cdw10 & 0xff, csi = c->cdw11 >> 24;
    uint16_t st = 0;
    unsigned k = 0;

    if (!id) {
        return SC_INTERNAL;
    }
    switch (cns) {
    case 0x00: case 0x03: st = identify_ns_cns(r, c, cns, id); break;
    case 0x01: identify_ctrl(r->n, id); break;
    case 0x02:
        if (c->nsid >= 0xfffffffe) {
            st = bad(r, SC_INVALID_NSID, "active namespace list after %u", c->nsid);
        }
        for (uint32_t i = c->nsid + 1; !st && i <= NVME_MAX_NS; i++) {
            if (r->n->ns[i]) {
                nvme_put32(id + 4 * k++, i);
            }
        }
        break;
    case 0x06: /* I/O command set specific controller: NVM has no limits */
        if (csi != 0) {
            st = bad(r, SC_INVALID_FIELD, "identify CNS 6 for command set %u", csi);
        }
        break;
    default:
        st = bad(r, SC_INVALID_FIELD, "identify CNS 0x%x is not supported", cns);
    }
    st = st ?: to_guest(r, c, id, ID_SIZE);
    free(id);
    return st;
}

/* ---- queues (sections 5.3-5.7) ---- */

static uint16_t adm_create_cq(nvme_req *r, const sqe_view *c)
{
    nvme_ctrl *n = r->n;
    uint16_t qid = c->cdw10 & 0xffff, vec = c->cdw11 >> 16;
    uint32_t size = (c->cdw10 >> 16) + 1;

    if (qid == 0 || qid > n->max_ioqpairs || n->cq_valid[qid]) {
        return bad(r, SC_INVALID_QID, "create CQ %u (max %u, or in use)", qid, n->max_ioqpairs);
    }
    if (size < 2 || size > NVME_MQES + 1) {
        return bad(r, SC_INVALID_QSIZE, "create CQ %u of %u entries", qid, size);
    }
    if (!(c->cdw11 & 1) || (c->prp1 & (nvme_page_size(n) - 1))) {
        return bad(r, SC_INVALID_FIELD, "create CQ %u: not physically contiguous or base "
                   "0x%llx not page aligned", qid, (unsigned long long)c->prp1);
    }
    if ((c->cdw11 & 2) && vec >= n->msix_qsize) {
        return bad(r, SC_INVALID_VECTOR, "create CQ %u with vector %u of %u", qid, vec,
                   n->msix_qsize);
    }
    nvme_cq_create(n, qid, c->prp1, size, vec, c->cdw11 & 2);
    return 0;
}

static uint16_t adm_create_sq(nvme_req *r, const sqe_view *c)
{
    nvme_ctrl *n = r->n;
    uint16_t qid = c->cdw10 & 0xffff, cqid = c->cdw11 >> 16;
    uint32_t size = (c->cdw10 >> 16) + 1;

    if (cqid == 0 || cqid > n->max_ioqpairs || !n->cq_valid[cqid]) {
        return bad(r, SC_CQ_INVALID, "create SQ %u on absent CQ %u", qid, cqid);
    }
    if (qid == 0 || qid > n->max_ioqpairs || n->sq_valid[qid]) {
        return bad(r, SC_INVALID_QID, "create SQ %u (max %u, or in use)", qid, n->max_ioqpairs);
    }
    if (size < 2 || size > NVME_MQES + 1) {
        return bad(r, SC_INVALID_QSIZE, "create SQ %u of %u entries", qid, size);
    }
    if (!(c->cdw11 & 1) || (c->prp1 & (nvme_page_size(n) - 1))) {
        return bad(r, SC_INVALID_FIELD, "create SQ %u: not physically contiguous or base "
                   "0x%llx not page aligned", qid, (unsigned long long)c->prp1);
    }
    nvme_sq_create(n, qid, c->prp1, size, cqid);
    return 0;
}

static uint16_t adm_delete_sq(nvme_req *r, const sqe_view *c)
{
    uint16_t qid = c->cdw10 & 0xffff;

    if (qid == 0 || qid > r->n->max_ioqpairs || !r->n->sq_valid[qid]) {
        return bad(r, SC_INVALID_QID, "delete of absent SQ %u", qid);
    }
    nvme_sq_delete(r->n, qid);
    return 0;
}

static uint16_t adm_delete_cq(nvme_req *r, const sqe_view *c)
{
    nvme_ctrl *n = r->n;
    uint16_t qid = c->cdw10 & 0xffff;

    if (qid == 0 || qid > n->max_ioqpairs || !n->cq_valid[qid]) {
        return bad(r, SC_INVALID_QID, "delete of absent CQ %u", qid);
    }
    for (unsigned s = 1; s <= n->max_ioqpairs; s++) {
        if (n->sq_valid[s] && n->sq_cqid[s] == qid) {
            return bad(r, SC_INVALID_QUEUE_DELETION, "delete of CQ %u still used by SQ %u",
                       qid, s);
        }
    }
    n->cq_valid[qid] = 0;
    return 0;
}

/* ---- log pages (section 5.14) ---- */

static void smart_log(nvme_ctrl *n, uint8_t *l)
{
    nvme_put16(l + 1, 0x0143); /* composite temperature 323 K */
    l[3] = 100;                /* available spare */
    l[4] = 10;                 /* threshold */
    /* Data units are thousands of 512-byte units, rounded up. */
    nvme_put64(l + 32, (n->sectors_read + 999) / 1000);
    nvme_put64(l + 48, (n->sectors_written + 999) / 1000);
    nvme_put64(l + 64, n->read_cmds);
    nvme_put64(l + 80, n->write_cmds);
    nvme_put64(l + 112, 1);    /* power cycles */
    nvme_put64(l + 176, n->err_count);
}

static uint16_t adm_get_log(nvme_req *r, const sqe_view *c)
{
    nvme_ctrl *n = r->n;
    uint8_t lid = c->cdw10 & 0xff, page[512] = {0};
    uint64_t len = ((uint64_t)(c->cdw11 & 0xffff) << 16 | c->cdw10 >> 16) * 4 + 4;
    uint64_t off = (uint64_t)c->cdw13 << 32 | c->cdw12, size;
    uint8_t *buf;
    uint16_t st;

    switch (lid) {
    case 0x01: size = 64; break;                           /* error information */
    case 0x02: size = 512; smart_log(n, page); break;      /* SMART / health */
    case 0x03: size = 512; page[0] = 1; put_str(page + 8, "1.0", 8); break; /* firmware */
    default: return bad(r, SC_INVALID_LOG_PAGE, "log page 0x%x", lid);
    }
    if (off & 3 || off > size || len > 1 << 20) {
        return bad(r, SC_INVALID_FIELD, "log page 0x%x offset %llu length %llu", lid,
                   (unsigned long long)off, (unsigned long long)len);
    }
    if (!(c->cdw10 & (1u << 15))) {
        n->aen_masked &= ~(lid == 0x01 ? 1u : lid == 0x02 ? 2u : 0u); /* RAE clear */
    }
    buf = calloc(1, len);
    if (!buf) {
        return SC_INTERNAL;
    }
    memcpy(buf, page + off, size - off < len ? size - off : len);
    st = to_guest(r, c, buf, len);
    free(buf);
    return st;
}

/* ---- features (section 5.21) ---- */

static uint16_t feature(nvme_req *r, const sqe_view *c, bool set)
{
    nvme_ctrl *n = r->n;
    uint8_t fid = c->cdw10 & 0xff;
    uint32_t *v = NULL, nq = (n->max_ioqpairs - 1) | (n->max_ioqpairs - 1) << 16;

    switch (fid) {
    case 0x02: case 0x0a: r->result = 0; return 0; /* power state 0; no atomic ops */
    case 0x04: v = &n->feat_temp; break;
    case 0x05: v = &n->feat_errrec; break;
    case 0x06: v = &n->feat_wce; break;
    case 0x08: v = &n->feat_coalesce; break;
    case 0x0b: v = &n->feat_aec; break;
    case 0x07:
        if (set && ((c->cdw11 & 0xffff) == 0xffff || c->cdw11 >> 16 == 0xffff)) {
            return bad(r, SC_INVALID_FIELD, "number of queues 0x%x", c->cdw11);
        }
        r->result = nq; /* what is allocated, whatever was asked (section 5.21.1.7) */
        return 0;
    case 0x09:
        if ((c->cdw11 & 0xffff) > n->max_ioqpairs) {
            return bad(r, SC_INVALID_FIELD, "interrupt vector configuration of %u",
                       c->cdw11 & 0xffff);
        }
        r->result = c->cdw11 & 0xffff;
        return 0;
    default:
        return bad(r, SC_INVALID_FIELD, "%s features 0x%x", set ? "set" : "get", fid);
    }
    if (set) {
        *v = c->cdw11 & (fid == 0x06 ? 1u : fid == 0x04 ? 0x3fffffu : ~0u);
    }
    r->result = *v;
    return 0;
}

static uint16_t adm_features(nvme_req *r, const sqe_view *c, bool set)
{
    if (set && (c->cdw10 >> 31)) {
        return bad(r, SC_FEAT_NOT_SAVEABLE, "set features 0x%x with save", c->cdw10 & 0xff);
    }
    if (!set && ((c->cdw10 >> 8) & 7) == 3) {
        r->result = 1u << 2; /* supported capabilities: changeable, not saveable */
        return 0;
    }
    return feature(r, c, set);
}

/* An AER stays outstanding until an event: only its command id is kept
 * (and migrated); the request goes back to the pool. */
static uint16_t adm_aer(nvme_req *r)
{
    nvme_ctrl *n = r->n;

    if (n->aer_count > NVME_AERL) {
        return bad(r, SC_AER_LIMIT, "more than %u async event requests", NVME_AERL + 1);
    }
    n->aer_cid[n->aer_count++] = r->cid;
    n->cq_inflight[0]--;
    nvme_req_free(r);
    nvme_aer_post(n);
    return SC_ASYNC;
}

uint16_t nvme_admin_cmd(nvme_req *r, const uint8_t *sqe)
{
    sqe_view c = decode(sqe);

    if (c.flags & 0xc3) {
        return bad(r, SC_INVALID_FIELD, "fused operation or SGL (flags 0x%x)", c.flags);
    }
    switch (c.opcode) {
    case ADM_DELETE_SQ: return adm_delete_sq(r, &c);
    case ADM_CREATE_SQ: return adm_create_sq(r, &c);
    case ADM_GET_LOG: return adm_get_log(r, &c);
    case ADM_DELETE_CQ: return adm_delete_cq(r, &c);
    case ADM_CREATE_CQ: return adm_create_cq(r, &c);
    case ADM_IDENTIFY: return adm_identify(r, &c);
    case ADM_ABORT: r->result = 1; return 0; /* command not aborted */
    case ADM_SET_FEATURES: return adm_features(r, &c, true);
    case ADM_GET_FEATURES: return adm_features(r, &c, false);
    case ADM_AER: return adm_aer(r);
    }
    return bad(r, SC_INVALID_OPCODE, "unknown admin opcode");
}

/* ---- I/O (section 6) ---- */

static void io_done(void *opaque, int ret)
{
    nvme_req *r = opaque;

    if (ret < 0 && !r->status) {
        H->log(TES_LOG_TRACE, "nvme: backend request failed: %s", strerror(-ret));
        r->status = ret == -EINVAL ? SC_LBA_RANGE : SC_INTERNAL;
    }
    if (--r->pending) {
        return;
    }
    if (r->opcode == IO_COMPARE && !r->status) {
        uint64_t off = 0;

        for (unsigned i = 0; i < r->niov && !r->status; i++) {
            if (memcmp(r->iov[i].iov_base, r->bounce + off, r->iov[i].iov_len)) {
                r->status = SC_COMPARE_FAILURE;
            }
            off += r->iov[i].iov_len;
        }
    }
    unmap_all(r);
    nvme_complete(r);
}

static uint16_t submit(nvme_req *r, tes_blk_op op, uint64_t off, const struct iovec *iov,
                       unsigned cnt, uint64_t len, unsigned flags)
{
    int ret;

    r->pending++;
    ret = H->drive_submit(r->ns->drive, op, off, iov, cnt, len, flags, io_done, r);
    if (ret < 0) {
        r->pending--;
        r->status = SC_INTERNAL;
    }
    return ret < 0 ? SC_INTERNAL : 0;
}

/* Finish a command whose backend requests are all submitted. */
static uint16_t io_launched(nvme_req *r)
{
    if (r->pending) {
        return SC_ASYNC;
    }
    unmap_all(r);
    return r->status;
}

static uint16_t check_range(nvme_req *r, uint64_t slba, uint64_t nlb)
{
    nvme_ns *ns = r->ns;

    if (slba > ns->nlbas || nlb > ns->nlbas - slba) {
        return bad(r, SC_LBA_RANGE, "LBAs %llu+%llu beyond namespace %u's %llu",
                   (unsigned long long)slba, (unsigned long long)nlb, ns->nsid,
                   (unsigned long long)ns->nlbas);
    }
    return 0;
}

static uint16_t io_rw(nvme_req *r, const sqe_view *c)
{
    nvme_ctrl *n = r->n;
    uint64_t slba = (uint64_t)c->cdw11 << 32 | c->cdw10, nlb = (c->cdw12 & 0xffff) + 1;
    uint64_t len = nlb << r->ns->lbads;
    bool write = c->opcode == IO_WRITE;
    unsigned flags = write && ((c->cdw12 >> 30 & 1) || !n->feat_wce) ? TES_BLK_FUA : 0;
    uint16_t st = check_range(r, slba, nlb);

    if (st) {
        return st;
    }
    if (len > (4096ull << (n->mdts ? n->mdts : NVME_MAX_MDTS))) {
        return bad(r, SC_INVALID_FIELD, "%llu bytes exceed MDTS %u", (unsigned long long)len,
                   n->mdts);
    }
    if (write && r->ns->ro) {
        return bad(r, SC_NS_WRITE_PROTECTED, "write to read-only namespace %u", r->ns->nsid);
    }
    r->to_guest = !write;
    if ((st = map_prps(r, c, len))) {
        return st;
    }
    if (write) {
        n->write_cmds++, n->sectors_written += len >> 9;
    } else {
        n->read_cmds++, n->sectors_read += len >> 9;
    }
    submit(r, write ? TES_BLK_WRITE : TES_BLK_READ, slba << r->ns->lbads, r->iov, r->niov, len,
           flags);
    return io_launched(r);
}

static uint16_t io_compare(nvme_req *r, const sqe_view *c)
{
    uint64_t slba = (uint64_t)c->cdw11 << 32 | c->cdw10, nlb = (c->cdw12 & 0xffff) + 1;
    uint64_t len = nlb << r->ns->lbads;
    uint16_t st = check_range(r, slba, nlb);
    struct iovec biov;

    if (st) {
        return st;
    }
    if (len > (4096ull << (r->n->mdts ? r->n->mdts : NVME_MAX_MDTS))) {
        return bad(r, SC_INVALID_FIELD, "compare of %llu bytes exceeds MDTS",
                   (unsigned long long)len);
    }
    r->to_guest = false;
    if ((st = map_prps(r, c, len))) {
        return st;
    }
    r->bounce = malloc(len);
    if (!r->bounce) {
        unmap_all(r);
        return SC_INTERNAL;
    }
    biov = (struct iovec){r->bounce, len};
    submit(r, TES_BLK_READ, slba << r->ns->lbads, &biov, 1, len, 0);
    return io_launched(r);
}

/* Write zeroes: bytes [SLBA * bs, (SLBA + NLB + 1) * bs) exactly. */
static uint16_t io_write_zeroes(nvme_req *r, const sqe_view *c)
{
    nvme_ns *ns = r->ns;
    uint64_t slba = (uint64_t)c->cdw11 << 32 | c->cdw10, nlb = (c->cdw12 & 0xffff) + 1;
    uint16_t st = check_range(r, slba, nlb);
    unsigned flags = (c->cdw12 >> 25 & 1) ? TES_BLK_MAY_UNMAP : 0;

    if (st) {
        return st;
    }
    if (ns->ro) {
        return bad(r, SC_NS_WRITE_PROTECTED, "write zeroes to read-only namespace %u", ns->nsid);
    }
    flags |= (c->cdw12 >> 30 & 1) ? TES_BLK_FUA : 0;
    submit(r, TES_BLK_WRITE_ZEROES, slba << ns->lbads, NULL, 0, nlb << ns->lbads, flags);
    return io_launched(r);
}

/* Dataset management: deallocate each range (section 6.7); the other
 * attributes are hints. A range's length is in blocks, not 0's based. */
static uint16_t io_dsm(nvme_req *r, const sqe_view *c)
{
    nvme_ns *ns = r->ns;
    unsigned nr = (c->cdw10 & 0xff) + 1;
    uint8_t ranges[DSM_MAX_RANGES * 16];
    uint16_t st;

    if (!(c->cdw11 & 4)) {
        return 0;
    }
    if (ns->ro) {
        return bad(r, SC_NS_WRITE_PROTECTED, "deallocate on read-only namespace %u", ns->nsid);
    }
    if ((st = from_guest(r, c, ranges, nr * 16))) {
        return st;
    }
    for (unsigned i = 0; i < nr; i++) {
        uint64_t nlb = nvme_le32(ranges + 16 * i + 4), slba = nvme_le64(ranges + 16 * i + 8);
        if ((st = check_range(r, slba, nlb))) {
            return st;
        }
    }
    for (unsigned i = 0; i < nr && !r->status; i++) {
        uint64_t nlb = nvme_le32(ranges + 16 * i + 4), slba = nvme_le64(ranges + 16 * i + 8);
        if (nlb) {
            submit(r, TES_BLK_DISCARD, slba << ns->lbads, NULL, 0, nlb << ns->lbads, 0);
        }
    }
    return io_launched(r);
}

static uint16_t io_flush(nvme_req *r, const sqe_view *c)
{
    nvme_ctrl *n = r->n;

    if (c->nsid != 0xffffffff) {
        return submit(r, TES_BLK_FLUSH, 0, NULL, 0, 0, 0) ?: io_launched(r);
    }
    for (unsigned i = 1; i <= NVME_MAX_NS && !r->status; i++) {
        if (n->ns[i]) {
            r->ns = n->ns[i];
            submit(r, TES_BLK_FLUSH, 0, NULL, 0, 0, 0);
        }
    }
    return io_launched(r);
}

uint16_t nvme_io_cmd(nvme_req *r, const uint8_t *sqe)
{
    sqe_view c = decode(sqe);

    if (c.flags & 0xc3) {
        return bad(r, SC_INVALID_FIELD, "fused operation or SGL (flags 0x%x)", c.flags);
    }
    r->ns = nvme_ns_get(r->n, c.nsid);
    if (!r->ns && !(c.opcode == IO_FLUSH && c.nsid == 0xffffffff)) {
        return bad(r, SC_INVALID_NSID, "namespace %u is not active", c.nsid);
    }
    switch (c.opcode) {
    case IO_FLUSH: return io_flush(r, &c);
    case IO_WRITE: case IO_READ: return io_rw(r, &c);
    case IO_COMPARE: return io_compare(r, &c);
    case IO_WRITE_ZEROES: return io_write_zeroes(r, &c);
    case IO_DSM: return io_dsm(r, &c);
    }
    return bad(r, SC_INVALID_OPCODE, "unknown I/O opcode");
}
