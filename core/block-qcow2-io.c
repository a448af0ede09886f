/*
 * tessera core: qcow2 requests — read, write (allocation with copy-on-
 * write of partial clusters), write-zeroes and discard, compressed cluster
 * decompression, reads through the backing chain, and the main loop's
 * non-blocking fast path. See block-qcow2.c for the design.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "block-qcow2-int.h"

#define MAX_RUN 512 /* clusters one allocation covers at most */

enum { C_UNALLOC, C_ZERO, C_NORMAL, C_COMPRESSED };

static int ctype(qcow2 *q, uint64_t e)
{
    if (e & OFLAG_COMPRESSED) {
        return C_COMPRESSED;
    }
    if (q->version >= 3 && (e & OFLAG_ZERO)) {
        return C_ZERO;
    }
    return (e & L2E_OFFSET_MASK) ? C_NORMAL : C_UNALLOC;
}

/* ---- iovecs ---- */

/* The bytes [skip, skip+len) of iov as a new vector in out. */
static unsigned iov_slice(const struct iovec *iov, unsigned cnt, uint64_t skip, uint64_t len,
                          struct iovec *out)
{
    unsigned n = 0;

    for (unsigned i = 0; i < cnt && len; i++) {
        size_t take;
        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        take = MIN(iov[i].iov_len - skip, len);
        out[n].iov_base = (uint8_t *)iov[i].iov_base + skip;
        out[n++].iov_len = take;
        len -= take;
        skip = 0;
    }
    return n;
}

static void iov_fill(struct iovec *v, unsigned n, const uint8_t *src)
{
    for (unsigned i = 0; i < n; i++) {
        if (src) {
            memcpy(v[i].iov_base, src, v[i].iov_len);
            src += v[i].iov_len;
        } else {
            memset(v[i].iov_base, 0, v[i].iov_len);
        }
    }
}

static void iov_skip(struct iovec **v, unsigned *n, uint64_t k)
{
    while (k && *n) {
        if (k < (*v)->iov_len) {
            (*v)->iov_base = (uint8_t *)(*v)->iov_base + k;
            (*v)->iov_len -= k;
            return;
        }
        k -= (*v)->iov_len;
        (*v)++;
        (*n)--;
    }
}

/* preadv/pwritev the whole of v at off; an O_DIRECT refusal (unaligned
 * guest buffer) retries on the buffered descriptor; reads past EOF give
 * zeroes. v is consumed. */
static int fd_io(int fd, int fd_buf, bool write, uint64_t off, struct iovec *v, unsigned n,
                 uint64_t len)
{
    uint64_t done = 0;

    while (done < len) {
        ssize_t r = write ? pwritev(fd, v, MIN(n, 1024), off + done)
                          : preadv(fd, v, MIN(n, 1024), off + done);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0 && errno == EINVAL && fd != fd_buf) {
            fd = fd_buf;
            continue;
        }
        if (r < 0) {
            return -errno;
        }
        if (r == 0) {
            if (write) {
                return -EIO;
            }
            iov_fill(v, n, NULL);
            return 0;
        }
        done += r;
        iov_skip(&v, &n, r);
    }
    return 0;
}

/* ---- sources of data ---- */

int bimage_read(bimage *b, uint64_t off, const struct iovec *iov, unsigned cnt, uint64_t len)
{
    uint64_t in = off >= b->size ? 0 : MIN(len, b->size - off);
    g_autofree struct iovec *v = g_new(struct iovec, cnt + 1);
    unsigned n;
    int ret = 0;

    if (in && b->q) {
        ret = qcow2_request(b->q, TES_BLK_READ, off, iov, cnt, in, 0);
    } else if (in) {
        n = iov_slice(iov, cnt, 0, in, v);
        ret = fd_io(b->fd, b->fd_buf, false, off, v, n, in);
    }
    if (ret == 0 && in < len) {
        n = iov_slice(iov, cnt, in, len - in, v);
        iov_fill(v, n, NULL);
    }
    return ret;
}

static int inflate_zlib(const uint8_t *in, uint64_t inlen, uint8_t *out, uint64_t cs)
{
    z_stream s = {0};
    int ret;

    /* QEMU writes raw deflate (no zlib header), window up to 2^12. */
    if (inflateInit2(&s, -15) != Z_OK) {
        return -ENOMEM;
    }
    s.next_in = (Bytef *)in;
    s.avail_in = inlen;
    s.next_out = out;
    s.avail_out = cs;
    ret = inflate(&s, Z_FINISH);
    inflateEnd(&s);
    return (ret == Z_STREAM_END || ret == Z_BUF_ERROR) && s.avail_out == 0 ? 0 : -EIO;
}

static int inflate_zstd(const uint8_t *in, uint64_t inlen, uint8_t *out, uint64_t cs)
{
    ZSTD_DCtx *dc = ZSTD_createDCtx();
    ZSTD_inBuffer ib = {in, inlen, 0};
    ZSTD_outBuffer ob = {out, cs, 0};
    int ret = -EIO;

    /* The sectors after the frame are padding: stop once the cluster is full. */
    while (dc && ob.pos < cs) {
        size_t before = ib.pos + ob.pos, r = ZSTD_decompressStream(dc, &ob, &ib);
        if (ZSTD_isError(r) || (r == 0 && ob.pos < cs) || ib.pos + ob.pos == before) {
            break;
        }
    }
    if (dc && ob.pos == cs) {
        ret = 0;
    }
    ZSTD_freeDCtx(dc);
    return ret;
}

int q_decompress(qcow2 *q, uint64_t entry, uint8_t *out)
{
    unsigned x = 62 - (q->cluster_bits - 8);
    uint64_t sectors = ((entry >> x) & ((1ull << (q->cluster_bits - 8)) - 1)) + 1;
    uint64_t off = entry & ((1ull << x) - 1), len = sectors * 512 - (off & 511);
    int ret;

    if (!off || off >= MAX_HOST_OFFSET) {
        return -EIO;
    }
    if (q->zbuf_len < len) {
        g_free(q->zbuf);
        q->zbuf = g_malloc(len);
        q->zbuf_len = len;
    }
    if ((ret = host_pread(q->fd_buf, q->zbuf, len, off)) < 0) {
        return ret;
    }
    return q->compression_type == 1 ? inflate_zstd(q->zbuf, len, out, q->cs)
                                    : inflate_zlib(q->zbuf, len, out, q->cs);
}

/* ---- read ---- */

/* How many bytes from vo on (up to max) map host-contiguously after entry e. */
static int extend_run(qcow2 *q, uint64_t vo, uint64_t e, bool write, uint64_t max, uint64_t *n)
{
    uint64_t vc = vo >> q->cluster_bits, host = e & L2E_OFFSET_MASK, ne;
    int ret;

    *n = MIN(q->cs - (vo & (q->cs - 1)), max);
    for (uint64_t k = 1; *n < max; k++) {
        if ((ret = l2_entry(q, vc + k, &ne)) < 0) {
            return ret;
        }
        if (ctype(q, ne) != C_NORMAL || (ne & L2E_OFFSET_MASK) != host + k * q->cs ||
            (write && !(ne & OFLAG_COPIED))) {
            break;
        }
        *n += MIN(q->cs, max - *n);
    }
    return 0;
}

/* One piece of a read starting at virtual offset vo, pos bytes into iov. */
static int read_piece(qcow2 *q, uint64_t vo, const struct iovec *iov, unsigned cnt, uint64_t pos,
                      uint64_t max, uint64_t *n, struct iovec *v)
{
    uint64_t co = vo & (q->cs - 1), e;
    unsigned nv;
    int ret;

    *n = MIN(q->cs - co, max);
    if ((ret = l2_entry(q, vo >> q->cluster_bits, &e)) < 0) {
        return ret;
    }
    switch (ctype(q, e)) {
    case C_NORMAL:
        if (!ent_valid(q, e & L2E_OFFSET_MASK) || (ret = extend_run(q, vo, e, false, max, n)) < 0) {
            return ret < 0 ? ret : -EIO;
        }
        nv = iov_slice(iov, cnt, pos, *n, v);
        return fd_io(q->fd, q->fd_buf, false, (e & L2E_OFFSET_MASK) + co, v, nv, *n);
    case C_COMPRESSED:
        if ((ret = q_decompress(q, e, q->cbuf)) < 0) {
            return ret;
        }
        nv = iov_slice(iov, cnt, pos, *n, v);
        iov_fill(v, nv, q->cbuf + co);
        return 0;
    case C_UNALLOC:
        if (q->backing) {
            nv = iov_slice(iov, cnt, pos, *n, v);
            return bimage_read(q->backing, vo, v, nv, *n);
        }
        /* fall through */
    default:
        nv = iov_slice(iov, cnt, pos, *n, v);
        iov_fill(v, nv, NULL);
        return 0;
    }
}

static int q_read(qcow2 *q, uint64_t off, const struct iovec *iov, unsigned cnt, uint64_t len)
{
    uint64_t in = off >= q->size ? 0 : MIN(len, q->size - off), pos = 0, n;
    g_autofree struct iovec *v = g_new(struct iovec, cnt + 1);
    int ret = 0;

    while (pos < in && ret == 0) {
        ret = read_piece(q, off + pos, iov, cnt, pos, in - pos, &n, v);
        pos += n;
    }
    if (ret == 0 && in < len) {
        iov_fill(v, iov_slice(iov, cnt, in, len - in, v), NULL);
    }
    return ret;
}

/* ---- write ---- */

/* The old content [from, to) of cluster vc whose entry was e, into buf. */
static int cow_fill(qcow2 *q, uint64_t vc, uint64_t e, uint64_t from, uint64_t to, uint8_t *buf)
{
    struct iovec v = {buf, to - from};
    int ret;

    switch (ctype(q, e)) {
    case C_NORMAL:
        return ent_valid(q, e & L2E_OFFSET_MASK)
                   ? host_pread(q->fd_buf, buf, to - from, (e & L2E_OFFSET_MASK) + from)
                   : -EIO;
    case C_COMPRESSED:
        if ((ret = q_decompress(q, e, q->cbuf)) == 0) {
            memcpy(buf, q->cbuf + from, to - from);
        }
        return ret;
    case C_UNALLOC:
        if (q->backing) {
            return bimage_read(q->backing, (vc << q->cluster_bits) + from, &v, 1, to - from);
        }
        /* fall through */
    default:
        memset(buf, 0, to - from);
        return 0;
    }
}

/* Copy [from, to) of the old cluster vc (entry e) to its new place. */
static int cow_piece(qcow2 *q, uint64_t vc, uint64_t e, uint64_t from, uint64_t to, uint64_t host)
{
    g_autofree uint8_t *buf = NULL;
    int ret;

    if (from >= to) {
        return 0;
    }
    buf = g_malloc(to - from);
    if ((ret = cow_fill(q, vc, e, from, to, buf)) < 0) {
        return ret;
    }
    return host_pwrite(q->fd_buf, buf, to - from, host + from);
}

static bool needs_alloc(qcow2 *q, uint64_t e)
{
    return ctype(q, e) != C_NORMAL || !(e & OFLAG_COPIED);
}

/* Point k L2 entries from vc on at host.., freeing what they named. */
static int l2_point(qcow2 *q, uint64_t vc, uint64_t k, uint64_t host)
{
    uint64_t mask = (1ull << q->l2_bits) - 1, *tbl, old;
    int ret;

    for (uint64_t i = 0; i < k; i++) {
        if ((ret = l2_table_rw(q, vc + i, &tbl)) < 0) {
            return ret;
        }
        old = GUINT64_FROM_BE(tbl[(vc + i) & mask]);
        tbl[(vc + i) & mask] = GUINT64_TO_BE((host + i * q->cs) | OFLAG_COPIED);
        if ((old & L2E_OFFSET_MASK) || (old & OFLAG_COMPRESSED)) {
            free_later(q, old);
        }
    }
    return 0;
}

/* A write at vo into clusters that need allocation: new clusters, the
 * head and tail copied from the old content, then the data, then L2. */
static int write_alloc(qcow2 *q, uint64_t vo, uint64_t e0, const struct iovec *iov, unsigned cnt,
                       uint64_t pos, uint64_t max, uint64_t *n, struct iovec *v)
{
    uint64_t vc = vo >> q->cluster_bits, co = vo & (q->cs - 1), k = 1, ek = e0, e, tail;
    uint64_t l2n = 1ull << q->l2_bits;
    int64_t host;
    int ret;

    /* Following clusters of the same L2 table that need allocation too (one
     * at a time while the image has holes to fill: they are not contiguous). */
    while (k < MAX_RUN && q->scan >= q->scan_end && k * q->cs - co < max && ((vc + k) & (l2n - 1)) != 0) {
        if ((ret = l2_entry(q, vc + k, &e)) < 0) {
            return ret;
        }
        if (!needs_alloc(q, e)) {
            break;
        }
        ek = e;
        k++;
    }
    *n = MIN(k * q->cs - co, max);
    tail = (co + *n) & (q->cs - 1);
    if ((host = alloc_clusters(q, k)) < 0) {
        return host;
    }
    if ((ret = cow_piece(q, vc, e0, 0, co, host)) < 0 ||
        (tail && (ret = cow_piece(q, vc + k - 1, k == 1 ? e0 : ek, tail, q->cs,
                                  host + (k - 1) * q->cs)) < 0)) {
        return ret;
    }
    ret = fd_io(q->fd, q->fd_buf, true, host + co, v, iov_slice(iov, cnt, pos, *n, v), *n);
    q->unsynced = true; /* synced before an L2 table names the clusters */
    return ret < 0 ? ret : l2_point(q, vc, k, host);
}

static int write_piece(qcow2 *q, uint64_t vo, const struct iovec *iov, unsigned cnt, uint64_t pos,
                       uint64_t max, uint64_t *n, struct iovec *v)
{
    uint64_t e;
    int ret;

    if ((ret = l2_entry(q, vo >> q->cluster_bits, &e)) < 0) {
        return ret;
    }
    if (needs_alloc(q, e)) {
        return write_alloc(q, vo, e, iov, cnt, pos, max, n, v);
    }
    if (!ent_valid(q, e & L2E_OFFSET_MASK) || (ret = extend_run(q, vo, e, true, max, n)) < 0) {
        return ret < 0 ? ret : -EIO;
    }
    return fd_io(q->fd, q->fd_buf, true, (e & L2E_OFFSET_MASK) + (vo & (q->cs - 1)), v,
                 iov_slice(iov, cnt, pos, *n, v), *n);
}

static int q_write(qcow2 *q, uint64_t off, const struct iovec *iov, unsigned cnt, uint64_t len)
{
    g_autofree struct iovec *v = g_new(struct iovec, cnt + 1);
    uint64_t pos = 0, n = 0;
    int ret = 0;

    while (pos < len && ret == 0) {
        ret = write_piece(q, off + pos, iov, cnt, pos, len - pos, &n, v);
        pos += n;
    }
    return ret;
}

/* ---- write-zeroes and discard ---- */

static int write_zero_bytes(qcow2 *q, uint64_t off, uint64_t len)
{
    g_autofree uint8_t *z = g_malloc0(len);
    struct iovec v = {z, len};

    return q_write(q, off, &v, 1, len);
}

/* Part of a cluster: write zeroes unless it already reads as zeroes. */
static int zero_partial(qcow2 *q, uint64_t off, uint64_t len)
{
    uint64_t e;
    int ret = l2_entry(q, off >> q->cluster_bits, &e), t = ctype(q, e);

    if (ret < 0 || t == C_ZERO || (t == C_UNALLOC && !q->backing)) {
        return ret;
    }
    return write_zero_bytes(q, off, len);
}

/* A whole cluster: the v3 zero flag (keeping the allocation unless we may
 * unmap), or unallocated when nothing shows through; v2 writes zeroes. */
static int zero_cluster(qcow2 *q, uint64_t vc, tes_blk_op op, bool unmap)
{
    uint64_t e, nw, mask = (1ull << q->l2_bits) - 1, *tbl;
    int ret = l2_entry(q, vc, &e), t = ctype(q, e);

    if (ret < 0 || (t == C_UNALLOC && !q->backing && (unmap || q->version < 3))) {
        return ret;
    }
    if (q->version < 3 && (q->backing || !unmap)) {
        return write_zero_bytes(q, vc << q->cluster_bits, MIN(q->cs, q->size - (vc << q->cluster_bits)));
    }
    if (!unmap && (t == C_NORMAL || t == C_ZERO) && (e & OFLAG_COPIED)) {
        nw = (e & L2E_OFFSET_MASK) | OFLAG_COPIED | OFLAG_ZERO; /* stays allocated */
    } else {
        nw = (op == TES_BLK_DISCARD && !q->backing) || q->version < 3 ? 0 : OFLAG_ZERO;
    }
    if (nw == e) {
        return 0;
    }
    if ((ret = l2_table_rw(q, vc, &tbl)) < 0) {
        return ret;
    }
    tbl[vc & mask] = GUINT64_TO_BE(nw);
    if (!(nw & L2E_OFFSET_MASK) && ((e & L2E_OFFSET_MASK) || (e & OFLAG_COMPRESSED))) {
        free_later(q, e);
    }
    return 0;
}

static int q_zero(qcow2 *q, tes_blk_op op, uint64_t off, uint64_t len, unsigned flags)
{
    bool unmap = op == TES_BLK_DISCARD || (flags & TES_BLK_MAY_UNMAP);
    uint64_t pos = off, end = off + len;
    int ret = 0;

    while (pos < end && ret == 0) {
        uint64_t cstart = pos & ~(q->cs - 1), cend = MIN(cstart + q->cs, q->size);
        uint64_t n = MIN(cend, end) - pos;
        /* The image's last cluster counts as whole when the range reaches the end. */
        if (pos == cstart && pos + n == cend) {
            ret = zero_cluster(q, pos >> q->cluster_bits, op, unmap);
        } else {
            ret = zero_partial(q, pos, n);
        }
        pos += n;
    }
    return ret;
}

/* ---- entry points ---- */

int qcow2_request(qcow2 *q, tes_blk_op op, uint64_t off, const struct iovec *iov,
                  unsigned iovcnt, uint64_t len, unsigned flags)
{
    bool modifies = op != TES_BLK_READ && op != TES_BLK_FLUSH;
    int ret = 0;

    if (modifies && q->ro) {
        return -EROFS;
    }
    if (modifies && (off > q->size || len > q->size - off)) {
        return -EINVAL;
    }
    g_mutex_lock(&q->lock);
    if (modifies) {
        ret = mark_dirty(q);
    }
    if (ret == 0) {
        switch (op) {
        case TES_BLK_READ:
            ret = q_read(q, off, iov, iovcnt, len);
            break;
        case TES_BLK_WRITE:
            ret = q_write(q, off, iov, iovcnt, len);
            break;
        case TES_BLK_FLUSH:
            ret = meta_flush(q, true);
            break;
        default:
            ret = q_zero(q, op, off, len, flags);
            break;
        }
    }
    if (ret == 0 && modifies && ((flags & TES_BLK_FUA) || q->sync_meta)) {
        ret = meta_flush(q, true);
    }
    g_mutex_unlock(&q->lock);
    return ret;
}

/* The cached L2 entry of vc, without loading anything (lock held). */
static bool cached_entry(qcow2 *q, uint64_t vc, uint64_t *entry)
{
    uint64_t l1i = vc >> q->l2_bits, off;
    mc_ent *e;

    if (l1i >= q->l1_size || !(off = q->l1[l1i] & L1E_OFFSET_MASK) ||
        !(e = g_hash_table_lookup(q->l2c.map, &off))) {
        return false;
    }
    e->lru = ++q->l2c.tick;
    *entry = GUINT64_FROM_BE(((uint64_t *)e->buf)[vc & ((1ull << q->l2_bits) - 1)]);
    return true;
}

bool qcow2_map_fast(qcow2 *q, bool write, uint64_t off, uint64_t len, uint64_t *host)
{
    uint64_t vc, last, base = 0, e;
    bool ok = true;

    if (len == 0 || off >= q->size || len > q->size - off || (write && q->ro)) {
        return false;
    }
    vc = off >> q->cluster_bits;
    last = (off + len - 1) >> q->cluster_bits;
    if (last - vc > 64 || !g_mutex_trylock(&q->lock)) {
        return false;
    }
    for (uint64_t c = vc; c <= last && ok; c++) {
        ok = cached_entry(q, c, &e) && ctype(q, e) == C_NORMAL && ent_valid(q, e & L2E_OFFSET_MASK) &&
             (!write || (e & OFLAG_COPIED));
        if (ok && c == vc) {
            base = e & L2E_OFFSET_MASK;
        }
        ok = ok && (e & L2E_OFFSET_MASK) == base + (c - vc) * q->cs;
    }
    g_mutex_unlock(&q->lock);
    *host = base + (off & (q->cs - 1));
    return ok;
}
