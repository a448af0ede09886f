/*
 * tessera core: qcow2 metadata — the L2 and refcount-block caches, the
 * cluster allocator, the ordered write-back that keeps the image
 * consistent, and the refcount rebuild of a dirty lazy_refcounts image.
 *
 * Ordering (see block-qcow2.c's top comment): a table that is dirty in a
 * cache reaches the file only in this order — refcount blocks (increments),
 * [fdatasync], the refcount table, [fdatasync: also makes the data of
 * allocating writes, copied-on-write parts included, durable], L2 tables,
 * [fdatasync], the L1 table, [fdatasync], then refcount decrements. So at any instant the
 * file's metadata never names a cluster whose refcount is not yet counted,
 * and a cluster is only counted free once nothing on disk names it: a crash
 * leaves at worst leaked clusters. Clusters freed in this session are not
 * reused in it (their holes are punched; the allocator takes the free
 * clusters the image had when opened, then bumps from the end of the
 * file), so no in-flight fast-path write can land in a cluster that a
 * later allocation handed to another guest block.
 */
#define _GNU_SOURCE /* fallocate */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>
#include <unistd.h>

#include "block-qcow2-int.h"

#define BUMP_TRIES (1u << 16) /* clusters skipped looking for a free one */

/* ---- host file I/O ---- */

/* The whole of len; past the end of the file reads zeroes. */
int host_pread(int fd, void *buf, size_t len, uint64_t off)
{
    size_t done = 0;

    while (done < len) {
        ssize_t r = pread(fd, (uint8_t *)buf + done, len - done, off + done);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            return -errno;
        }
        if (r == 0) {
            memset((uint8_t *)buf + done, 0, len - done);
            return 0;
        }
        done += r;
    }
    return 0;
}

int host_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
    size_t done = 0;

    while (done < len) {
        ssize_t r = pwrite(fd, (const uint8_t *)buf + done, len - done, off + done);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return r < 0 ? -errno : -EIO;
        }
        done += r;
    }
    return 0;
}

int q_sync(qcow2 *q)
{
    if (q->no_sync) {
        return 0;
    }
    while (fdatasync(q->fd_buf) < 0) {
        if (errno != EINTR) {
            return -errno;
        }
    }
    q->unsynced = false;
    return 0;
}

int hdr_write(qcow2 *q, uint64_t off, const void *data, size_t len)
{
    return host_pwrite(q->fd_buf, data, len, off);
}

/* A table or data cluster offset read from the file: aligned, not the
 * header, and below the bound of what we address. */
bool ent_valid(qcow2 *q, uint64_t off)
{
    return off != 0 && (off & (q->cs - 1)) == 0 && off < MAX_HOST_OFFSET;
}

/* A metadata table must also lie inside the file (as far as we made it). */
static bool table_valid(qcow2 *q, uint64_t off)
{
    return ent_valid(q, off) && off + q->cs <= q->host_end;
}

/* ---- the caches ---- */

bool mc_init(mcache *c, unsigned n, uint64_t cs)
{
    c->ents = g_new0(mc_ent, n);
    c->n = n;
    c->map = g_hash_table_new(g_int64_hash, g_int64_equal);
    return true;
}

void mc_free(mcache *c)
{
    for (unsigned i = 0; c->ents && i < c->n; i++) {
        g_free(c->ents[i].buf);
    }
    g_free(c->ents);
    if (c->map) {
        g_hash_table_destroy(c->map);
    }
    memset(c, 0, sizeof(*c));
}

static int rc_write(qcow2 *q);

static int mc_writeback(qcow2 *q, mcache *c, mc_ent *e)
{
    int ret;

    /* An L2 table may name clusters whose refcounts are only in the cache. */
    if (c == &q->l2c) {
        ret = rc_write(q);
        if (ret == 0 && q->unsynced) {
            ret = q_sync(q);
        }
        if (ret < 0) {
            return ret;
        }
    }
    ret = host_pwrite(q->fd_buf, e->buf, q->cs, e->off);
    if (ret == 0) {
        e->dirty = false;
        if (c == &q->rbc) {
            q->unsynced = true;
        }
    }
    return ret;
}

static mc_ent *mc_victim(mcache *c)
{
    mc_ent *v = &c->ents[0];

    for (unsigned i = 0; i < c->n; i++) {
        if (!c->ents[i].off) {
            return &c->ents[i];
        }
        if (c->ents[i].lru < v->lru) {
            v = &c->ents[i];
        }
    }
    return v;
}

/* The table at off, loaded from the file or (!load) zeroed. */
static int mc_get(qcow2 *q, mcache *c, uint64_t off, bool load, mc_ent **out)
{
    mc_ent *e = g_hash_table_lookup(c->map, &off);
    int ret;

    if (!e) {
        e = mc_victim(c);
        if (e->off && e->dirty && (ret = mc_writeback(q, c, e)) < 0) {
            return ret;
        }
        if (e->off) {
            g_hash_table_remove(c->map, &e->off);
            e->off = 0;
        }
        if (!e->buf) {
            e->buf = g_malloc(q->cs);
        }
        if (!load) {
            memset(e->buf, 0, q->cs);
        } else if ((ret = host_pread(q->fd_buf, e->buf, q->cs, off)) < 0) {
            return ret;
        }
        e->off = off;
        e->dirty = false;
        g_hash_table_insert(c->map, &e->off, e);
    }
    e->lru = ++c->tick;
    *out = e;
    return 0;
}

/* ---- L1/L2 ---- */

int l2_entry(qcow2 *q, uint64_t vc, uint64_t *entry)
{
    uint64_t l1i = vc >> q->l2_bits, off;
    mc_ent *e;
    int ret;

    *entry = 0;
    if (l1i >= q->l1_size || !(off = q->l1[l1i] & L1E_OFFSET_MASK)) {
        return 0;
    }
    if (!table_valid(q, off)) {
        return -EIO;
    }
    if ((ret = mc_get(q, &q->l2c, off, true, &e)) < 0) {
        return ret;
    }
    *entry = GUINT64_FROM_BE(((uint64_t *)e->buf)[vc & ((1ull << q->l2_bits) - 1)]);
    return 0;
}

/* The L2 table of vc, made writable (allocated, or copied when a snapshot
 * shares it) and marked dirty: the caller changes entries in it. */
int l2_table_rw(qcow2 *q, uint64_t vc, uint64_t **tbl)
{
    uint64_t l1i = vc >> q->l2_bits, l1e = q->l1[l1i], old = l1e & L1E_OFFSET_MASK;
    g_autofree uint8_t *copy = NULL;
    int64_t nw;
    mc_ent *e;
    int ret;

    if (old && !table_valid(q, old)) {
        return -EIO;
    }
    if (old && (l1e & OFLAG_COPIED)) {
        if ((ret = mc_get(q, &q->l2c, old, true, &e)) < 0) {
            return ret;
        }
        e->dirty = true;
        *tbl = (uint64_t *)e->buf;
        return 0;
    }
    if (old) {
        if ((ret = mc_get(q, &q->l2c, old, true, &e)) < 0) {
            return ret;
        }
        copy = g_memdup2(e->buf, q->cs);
    }
    if ((nw = alloc_clusters(q, 1)) < 0) {
        return nw;
    }
    if ((ret = mc_get(q, &q->l2c, nw, false, &e)) < 0) {
        return ret;
    }
    if (copy) {
        memcpy(e->buf, copy, q->cs);
        free_later(q, old);
    }
    e->dirty = true;
    q->l1[l1i] = nw | OFLAG_COPIED;
    q->l1_dirty = true;
    *tbl = (uint64_t *)e->buf;
    return 0;
}

/* ---- refcounts ---- */

static uint64_t rb_val(qcow2 *q, const uint8_t *b, uint64_t i)
{
    unsigned bits = q->rc_bits, per;
    uint64_t v = 0;

    if (bits >= 8) {
        for (unsigned k = 0; k < bits / 8; k++) {
            v = v << 8 | b[i * (bits / 8) + k];
        }
        return v;
    }
    per = 8 / bits;
    return (b[i / per] >> ((i % per) * bits)) & ((1u << bits) - 1);
}

static void rb_set(qcow2 *q, uint8_t *b, uint64_t i, uint64_t v)
{
    unsigned bits = q->rc_bits, per, sh;

    if (bits >= 8) {
        for (int k = bits / 8 - 1; k >= 0; k--, v >>= 8) {
            b[i * (bits / 8) + k] = v & 0xff;
        }
        return;
    }
    per = 8 / bits;
    sh = (i % per) * bits;
    b[i / per] = (b[i / per] & ~(((1u << bits) - 1) << sh)) | (v << sh);
}

static int rt_grow(qcow2 *q, uint64_t need);
static int rb_new(qcow2 *q, uint64_t bi);

/* The refcount block covering cluster c; NULL (not alloc) when none. */
static int rb_for(qcow2 *q, uint64_t c, bool alloc, mc_ent **e)
{
    uint64_t bi = c / q->rb_entries, off;
    int ret;

    *e = NULL;
    if (bi >= q->rt_entries && (!alloc || (ret = rt_grow(q, bi)) < 0)) {
        return alloc ? ret : 0;
    }
    off = q->rt[bi] & RTE_OFFSET_MASK;
    if (!off && (!alloc || (ret = rb_new(q, bi)) < 0)) {
        return alloc ? ret : 0;
    }
    off = q->rt[bi] & RTE_OFFSET_MASK;
    if (!table_valid(q, off)) {
        return -EIO;
    }
    return mc_get(q, &q->rbc, off, true, e);
}

int rc_get(qcow2 *q, uint64_t c, uint64_t *val)
{
    mc_ent *e;
    int ret = rb_for(q, c, false, &e);

    *val = e ? rb_val(q, e->buf, c % q->rb_entries) : 0;
    return ret;
}

int rc_add(qcow2 *q, uint64_t c, int64_t delta)
{
    uint64_t max = q->rc_bits == 64 ? UINT64_MAX : (1ull << q->rc_bits) - 1, v;
    mc_ent *e;
    int ret = rb_for(q, c, true, &e);

    if (ret < 0) {
        return ret;
    }
    v = rb_val(q, e->buf, c % q->rb_entries);
    if ((delta < 0 && v < (uint64_t)-delta) || (delta > 0 && max - v < (uint64_t)delta)) {
        return -EIO; /* underflow: the image is corrupt; overflow: too many users */
    }
    rb_set(q, e->buf, c % q->rb_entries, v + delta);
    e->dirty = true;
    return 0;
}

/* One cluster that was free when the image was opened, if any is left:
 * holes QEMU or an earlier session left. Clusters freed in this session are
 * skipped (see the top comment). */
static int64_t reuse_one(qcow2 *q)
{
    uint64_t v;

    /* Only below the end the file had at open: what bump() hands out has
     * no refcount yet until its caller takes it, and must not look free. */
    for (unsigned tries = 0; q->scan < q->scan_end && tries < BUMP_TRIES; tries++) {
        uint64_t c = q->scan++;
        if (rc_get(q, c, &v) == 0 && v == 0 && !g_hash_table_contains(q->freed, &c)) {
            return c;
        }
    }
    return -1;
}

/* k free clusters at the end of the image (refcounts not yet taken). */
static int64_t bump(qcow2 *q, uint64_t k)
{
    int64_t c1;

    if (k == 1 && q->rc_depth == 0 && (c1 = reuse_one(q)) >= 0) {
        return c1;
    }
    for (unsigned tries = 0; tries < BUMP_TRIES; tries++) {
        uint64_t c = q->next_free, v = 0, i;
        int ret = 0;

        for (i = 0; i < k && (ret = rc_get(q, c + i, &v)) == 0 && v == 0; i++) {
            continue;
        }
        if (ret < 0) {
            return ret;
        }
        if (i < k) {
            q->next_free = c + i + 1;
            continue;
        }
        if ((c + k) > (MAX_HOST_OFFSET >> q->cluster_bits)) {
            return -EFBIG;
        }
        q->next_free = c + k;
        q->host_end = MAX(q->host_end, q->next_free << q->cluster_bits);
        return c;
    }
    return -EIO;
}

int64_t alloc_clusters(qcow2 *q, uint64_t k)
{
    int64_t c = bump(q, k);
    int ret;

    if (c < 0) {
        return c;
    }
    for (uint64_t i = 0; i < k; i++) {
        if ((ret = rc_add(q, c + i, 1)) < 0) {
            return ret;
        }
    }
    return c << q->cluster_bits;
}

/* A new refcount block for table index bi, counting itself. */
static int rb_new(qcow2 *q, uint64_t bi)
{
    int64_t c;
    mc_ent *e;
    int ret;

    if (q->rc_depth > 8) {
        return -EIO;
    }
    if ((c = bump(q, 1)) < 0) {
        return c;
    }
    if ((ret = mc_get(q, &q->rbc, c << q->cluster_bits, false, &e)) < 0) {
        return ret;
    }
    e->dirty = true;
    q->rt[bi] = c << q->cluster_bits;
    q->rt_dirty = true;
    q->rc_depth++;
    ret = rc_add(q, c, 1);
    q->rc_depth--;
    return ret;
}

static int rt_store(qcow2 *q)
{
    g_autofree uint64_t *be = g_new(uint64_t, q->rt_entries);
    int ret;

    for (uint64_t i = 0; i < q->rt_entries; i++) {
        be[i] = GUINT64_TO_BE(q->rt[i]);
    }
    ret = host_pwrite(q->fd_buf, be, q->rt_entries * 8, q->rt_off);
    if (ret == 0) {
        q->rt_dirty = false;
    }
    return ret;
}

/* A larger refcount table at the end of the file, switched to through the
 * header once it and every block it names are durable. */
static int rt_grow(qcow2 *q, uint64_t need)
{
    uint64_t per = q->cs / 8, want = MAX(need + 1, q->rt_entries * 2);
    uint64_t ncl = (want + per - 1) / per + 1, old_off = q->rt_off, old_cl = q->rt_clusters;
    uint64_t *rt;
    uint8_t hdr[12];
    uint64_t be_off;
    uint32_t be_cl;
    int64_t first;
    int ret = 0;

    if (ncl * q->cs > MAX_RT_BYTES || q->rc_depth > 8) {
        return -EFBIG;
    }
    if ((first = bump(q, ncl)) < 0) {
        return first;
    }
    rt = g_malloc0(ncl * q->cs);
    memcpy(rt, q->rt, q->rt_entries * 8);
    g_free(q->rt);
    q->rt = rt;
    q->rt_entries = ncl * per;
    q->rt_off = first << q->cluster_bits;
    q->rt_clusters = ncl;
    q->rc_depth++;
    for (uint64_t i = 0; i < ncl && ret == 0; i++) {
        ret = rc_add(q, first + i, 1);
    }
    q->rc_depth--;
    q->rt_dirty = true;
    if (ret < 0 || (ret = rc_write(q)) < 0 || (ret = q_sync(q)) < 0) {
        return ret;
    }
    be_off = GUINT64_TO_BE(q->rt_off);
    be_cl = GUINT32_TO_BE(q->rt_clusters);
    memcpy(hdr, &be_off, 8);
    memcpy(hdr + 8, &be_cl, 4);
    if ((ret = hdr_write(q, HDR_RT_OFFSET, hdr, 12)) < 0 || (ret = q_sync(q)) < 0) {
        return ret;
    }
    for (uint64_t i = 0; i < old_cl; i++) {
        free_later(q, old_off + i * q->cs);
    }
    return 0;
}

/* Dirty refcount blocks, then (after a sync) the refcount table. */
static int rc_write(qcow2 *q)
{
    bool wrote = false;
    int ret;

    for (unsigned i = 0; i < q->rbc.n; i++) {
        mc_ent *e = &q->rbc.ents[i];
        if (e->off && e->dirty) {
            if ((ret = host_pwrite(q->fd_buf, e->buf, q->cs, e->off)) < 0) {
                return ret;
            }
            e->dirty = false;
            wrote = true;
        }
    }
    if (q->rt_dirty) {
        if (wrote && !q->lazy && (ret = q_sync(q)) < 0) {
            return ret;
        }
        if ((ret = rt_store(q)) < 0) {
            return ret;
        }
        wrote = true;
    }
    if (wrote) {
        q->unsynced = true;
    }
    return 0;
}

/* Remember the clusters an L2 entry (or a bare table offset) used; their
 * refcounts drop once the metadata that no longer names them is durable. */
void free_later(qcow2 *q, uint64_t entry)
{
    uint64_t off, end;

    if (entry & OFLAG_COMPRESSED) {
        unsigned x = 62 - (q->cluster_bits - 8);
        uint64_t sectors = ((entry >> x) & ((1ull << (q->cluster_bits - 8)) - 1)) + 1;
        off = entry & ((1ull << x) - 1);
        end = (off & ~511ull) + sectors * 512;
        off &= ~(q->cs - 1);
    } else {
        off = entry & L2E_OFFSET_MASK;
        end = off + q->cs;
    }
    for (; off && off < end && off < MAX_HOST_OFFSET; off += q->cs) {
        g_array_append_val(q->pending_free, off);
    }
}

static int apply_frees(qcow2 *q)
{
    int ret = 0;

    for (guint i = 0; i < q->pending_free->len && ret == 0; i++) {
        uint64_t off = g_array_index(q->pending_free, uint64_t, i), v;
        ret = rc_add(q, off >> q->cluster_bits, -1);
        if (ret == 0 && rc_get(q, off >> q->cluster_bits, &v) == 0 && v == 0) {
            uint64_t *c = g_new(uint64_t, 1);
            *c = off >> q->cluster_bits;
            g_hash_table_add(q->freed, c);
            /* Give the space back; a failure only costs space. */
            if (fallocate(q->fd_buf, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, q->cs) < 0) {
                /* EOPNOTSUPP: the cluster stays allocated in the host file */
            }
        }
    }
    g_array_set_size(q->pending_free, 0);
    return ret < 0 ? ret : rc_write(q);
}

static int l2_write_all(qcow2 *q, bool *wrote)
{
    int ret;

    for (unsigned i = 0; i < q->l2c.n; i++) {
        mc_ent *e = &q->l2c.ents[i];
        if (!e->off || !e->dirty) {
            continue;
        }
        if (!*wrote && q->unsynced && (ret = q_sync(q)) < 0) {
            return ret;
        }
        *wrote = true;
        if ((ret = host_pwrite(q->fd_buf, e->buf, q->cs, e->off)) < 0) {
            return ret;
        }
        e->dirty = false;
    }
    return 0;
}

static int l1_store(qcow2 *q)
{
    g_autofree uint64_t *be = g_new(uint64_t, q->l1_size ? q->l1_size : 1);

    for (uint32_t i = 0; i < q->l1_size; i++) {
        be[i] = GUINT64_TO_BE(q->l1[i]);
    }
    return host_pwrite(q->fd_buf, be, (size_t)q->l1_size * 8, q->l1_off);
}

int meta_flush(qcow2 *q, bool sync)
{
    bool wrote = false;
    int ret;

    if (q->ro) {
        return 0;
    }
    if ((ret = rc_write(q)) < 0 || (ret = l2_write_all(q, &wrote)) < 0) {
        return ret;
    }
    if (q->l1_dirty) {
        if ((wrote || q->unsynced) && (ret = q_sync(q)) < 0) {
            return ret;
        }
        if ((ret = l1_store(q)) < 0) {
            return ret;
        }
        q->l1_dirty = false;
        wrote = true;
    }
    if (q->pending_free->len) {
        if ((ret = q_sync(q)) < 0 || (ret = apply_frees(q)) < 0) {
            return ret;
        }
    }
    return sync ? q_sync(q) : 0;
}

/* lazy_refcounts: the dirty bit is set (durably) before the first metadata
 * change, so a crash is repaired by a rebuild on the next open. */
int mark_dirty(qcow2 *q)
{
    uint64_t v;
    int ret;

    if (!q->lazy || q->dirty_marked) {
        return 0;
    }
    v = GUINT64_TO_BE(q->incompat | INCOMPAT_DIRTY);
    if ((ret = hdr_write(q, HDR_INCOMPAT, &v, 8)) < 0 || (ret = q_sync(q)) < 0) {
        return ret;
    }
    q->incompat |= INCOMPAT_DIRTY;
    q->dirty_marked = true;
    return 0;
}

/* ---- rebuild (open of a dirty image) ---- */

static void count_range(uint32_t *cnt, uint64_t n, qcow2 *q, uint64_t off, uint64_t len)
{
    for (uint64_t c = off >> q->cluster_bits; len && c < n && c <= (off + len - 1) >> q->cluster_bits;
         c++) {
        cnt[c]++;
    }
}

static int count_l2(qcow2 *q, uint32_t *cnt, uint64_t n, uint64_t l2off)
{
    g_autofree uint64_t *t = g_malloc(q->cs);
    int ret = host_pread(q->fd_buf, t, q->cs, l2off);

    for (uint64_t i = 0; ret == 0 && i < q->cs / 8; i++) {
        uint64_t e = GUINT64_FROM_BE(t[i]);
        if (e & OFLAG_COMPRESSED) {
            unsigned x = 62 - (q->cluster_bits - 8);
            uint64_t sectors = ((e >> x) & ((1ull << (q->cluster_bits - 8)) - 1)) + 1;
            uint64_t off = e & ((1ull << x) - 1);
            count_range(cnt, n, q, off, sectors * 512 - (off & 511));
        } else if (e & L2E_OFFSET_MASK) {
            count_range(cnt, n, q, e & L2E_OFFSET_MASK, q->cs);
        }
    }
    return ret;
}

/* Recount every cluster from the metadata (as QEMU does for a dirty
 * lazy_refcounts image) and store the counts. */
int rc_rebuild(qcow2 *q)
{
    uint64_t n = (q->host_end + q->cs - 1) >> q->cluster_bits;
    g_autofree uint32_t *cnt = NULL;
    int ret = 0;

    if (n > (1ull << 28) || !(cnt = g_try_new0(uint32_t, n))) {
        return -EFBIG;
    }
    count_range(cnt, n, q, 0, q->cs);
    count_range(cnt, n, q, q->l1_off, (uint64_t)q->l1_size * 8);
    count_range(cnt, n, q, q->rt_off, (uint64_t)q->rt_clusters * q->cs);
    for (uint64_t i = 0; i < q->rt_entries; i++) {
        count_range(cnt, n, q, q->rt[i] & RTE_OFFSET_MASK, (q->rt[i] & RTE_OFFSET_MASK) ? q->cs : 0);
    }
    for (uint32_t i = 0; i < q->l1_size && ret == 0; i++) {
        uint64_t off = q->l1[i] & L1E_OFFSET_MASK;
        if (off && table_valid(q, off)) {
            count_range(cnt, n, q, off, q->cs);
            ret = count_l2(q, cnt, n, off);
        }
    }
    for (uint64_t c = 0; c < n && ret == 0; c++) {
        uint64_t v;
        if ((ret = rc_get(q, c, &v)) == 0 && v != cnt[c]) {
            ret = rc_add(q, c, (int64_t)cnt[c] - (int64_t)v);
        }
    }
    return ret < 0 ? ret : meta_flush(q, true);
}
