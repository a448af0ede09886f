/*
 * tessera core: the qcow2 format (versions 2 and 3) — opening, validation,
 * the backing chain, creation (snapshot=on overlays) and closing.
 *
 *   -drive file=disk.qcow2,if=none,id=d0[,format=qcow2]
 *
 * Facts from QEMU's docs/interop/qcow2.txt. Read: cluster_bits 9..21,
 * refcount_order 0..6, zero clusters, compressed clusters (zlib raw
 * deflate, zstd when the header's compression_type says so), backing
 * chains (relative names resolve against the image's directory), the
 * active L1 (internal snapshots are left alone: a write to a cluster they
 * share copies it first). Refused with one line: unknown incompatible
 * features, external data files, extended L2 entries, encryption, an image
 * marked corrupt opened for writing. Everything read from the file is
 * bounded before use (table sizes, offsets, the chain's depth).
 *
 * Design. Metadata lives in memory: the L1 and refcount tables whole, L2
 * tables and refcount blocks in two LRU caches of cluster-sized tables.
 * A request runs synchronously in block.c's per-drive thread pool under
 * the image's mutex (block-qcow2-io.c): the data of each host-contiguous
 * run goes to the file with one preadv/pwritev, allocating writes copy the
 * head and tail of partial clusters from the old content (backing file,
 * zeroes, a compressed cluster), then change L2 entries in the cache. The
 * steady state does not take that path: block.c asks qcow2_map_fast first,
 * which, without blocking (trylock, cached L2 only), turns a request on
 * allocated clusters into a raw request at the host offset on the same
 * io_uring as raw drives. That keeps "once allocated" qcow2 near raw.
 *
 * Crash consistency: metadata is written back in dependency order (see
 * block-qcow2-meta.c) at a flush, a FUA write, or when a dirty table
 * leaves its cache, with fdatasync between the steps; data is always in
 * the file before the L2 entry that names it. A kill -9 at any point leaves
 * an image with at most leaked clusters, and a flush makes everything
 * before it durable. With lazy_refcounts the dirty bit is set first and a
 * dirty image gets its refcounts rebuilt on the next open, as QEMU does.
 */
#define _GNU_SOURCE /* O_DIRECT */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"
#include "block-qcow2-int.h"

#define EXT_END 0
#define EXT_BACKING_FMT 0xe2792acau
#define EXT_FEATURES 0x6803f857u

typedef struct hdr {
    uint32_t version, cluster_bits, crypt, l1_size, rt_clusters, nb_snapshots, refcount_order;
    uint32_t backing_size, header_len;
    uint64_t backing_off, size, l1_off, rt_off, incompat, compat, autoclear;
    uint8_t compression_type;
    char *backing_fmt;
    char *feature_names[64]; /* incompatible feature names from the table */
} hdr;

static uint32_t be32_at(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static uint64_t be64_at(const uint8_t *p)
{
    return (uint64_t)be32_at(p) << 32 | be32_at(p + 4);
}

bool qcow2_probe(const uint8_t *buf, size_t len)
{
    return len >= 8 && be32_at(buf) == QCOW2_MAGIC && (be32_at(buf + 4) == 2 || be32_at(buf + 4) == 3);
}

uint64_t qcow2_size(qcow2 *q)
{
    return q->size;
}

/* ---- header ---- */

static void hdr_clear(hdr *h)
{
    g_free(h->backing_fmt);
    for (int i = 0; i < 64; i++) {
        g_free(h->feature_names[i]);
    }
}

static void ext_features(hdr *h, const uint8_t *d, uint32_t len)
{
    /* 48-byte entries: type, bit, 46-byte name. */
    for (uint32_t o = 0; o + 48 <= len; o += 48) {
        if (d[o] == 0 && d[o + 1] < 64 && !h->feature_names[d[o + 1]]) {
            h->feature_names[d[o + 1]] = g_strndup((const char *)d + o + 2, 46);
        }
    }
}

/* Header extensions between the fixed header and end (bounded by buf). */
static bool parse_exts(hdr *h, const uint8_t *buf, size_t end, const char *path, char **errp)
{
    size_t o = h->version >= 3 ? h->header_len : 72;

    while (o + 8 <= end) {
        uint32_t type = be32_at(buf + o), len = be32_at(buf + o + 4);
        if (type == EXT_END) {
            return true;
        }
        if (len > end - o - 8) {
            core_set_error(errp, "qcow2 '%s': header extension 0x%x overruns the header", path, type);
            return false;
        }
        if (type == EXT_BACKING_FMT && !h->backing_fmt) {
            h->backing_fmt = g_strndup((const char *)buf + o + 8, MIN(len, 32));
        } else if (type == EXT_FEATURES) {
            ext_features(h, buf + o + 8, len);
        }
        o += 8 + (((uint64_t)len + 7) & ~7ull);
    }
    return true;
}

static void parse_fixed(hdr *h, const uint8_t *b, size_t n)
{
    h->version = be32_at(b + 4);
    h->backing_off = be64_at(b + 8);
    h->backing_size = be32_at(b + 16);
    h->cluster_bits = be32_at(b + 20);
    h->size = be64_at(b + 24);
    h->crypt = be32_at(b + 32);
    h->l1_size = be32_at(b + 36);
    h->l1_off = be64_at(b + 40);
    h->rt_off = be64_at(b + 48);
    h->rt_clusters = be32_at(b + 56);
    h->nb_snapshots = be32_at(b + 60);
    h->refcount_order = 4;
    h->header_len = 72;
    if (h->version >= 3 && n >= 104) {
        h->incompat = be64_at(b + 72);
        h->compat = be64_at(b + 80);
        h->autoclear = be64_at(b + 88);
        h->refcount_order = be32_at(b + 96);
        h->header_len = be32_at(b + 100);
        h->compression_type = h->header_len > 104 && n > 104 ? b[104] : 0;
    }
}

static bool check_features(hdr *h, bool ro, const char *path, char **errp)
{
    uint64_t unknown = h->incompat & ~(INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_COMPRESSION);

    if (unknown) {
        int bit = __builtin_ctzll(unknown);
        core_set_error(errp, "qcow2 '%s': unsupported incompatible feature %s%s%s(bit %d)", path,
                       h->feature_names[bit] ? "'" : "",
                       h->feature_names[bit] ? h->feature_names[bit] : "",
                       h->feature_names[bit] ? "' " : "", bit);
        return false;
    }
    if (h->crypt) {
        core_set_error(errp, "qcow2 '%s': encrypted images are not supported", path);
        return false;
    }
    if ((h->incompat & INCOMPAT_CORRUPT) && !ro) {
        core_set_error(errp, "qcow2 '%s': image is marked corrupt; open it with readonly=on or "
                       "repair it (qemu-img check -r all)", path);
        return false;
    }
    if (h->compression_type > 1 || (h->compression_type && !(h->incompat & INCOMPAT_COMPRESSION))) {
        core_set_error(errp, "qcow2 '%s': unknown compression type %u", path, h->compression_type);
        return false;
    }
    return true;
}

/* Sizes and offsets bounded before anything is allocated or read. */
static bool check_geometry(hdr *h, uint64_t fsize, const char *path, char **errp)
{
    uint64_t cs = 1ull << (h->cluster_bits & 31), l2n = cs / 8, need;
    const char *bad = NULL;

    if (h->version < 3 && h->refcount_order != 4) {
        bad = "refcount order";
    } else if (h->cluster_bits < 9 || h->cluster_bits > 21) {
        bad = "cluster size (cluster_bits 9..21)";
    } else if (h->version >= 3 && (h->header_len < 104 || h->header_len > cs || h->header_len % 8)) {
        bad = "header length";
    } else if (h->refcount_order > 6) {
        bad = "refcount order (0..6)";
    } else if (h->size > (1ull << 61)) {
        bad = "virtual size";
    } else if ((uint64_t)h->l1_size * 8 > MAX_L1_BYTES || (h->l1_off & (cs - 1)) ||
               h->l1_off > fsize || (uint64_t)h->l1_size * 8 > fsize - h->l1_off) {
        bad = "L1 table (size, alignment, or beyond the end of the file)";
    } else if (!h->rt_clusters || h->rt_clusters * cs > MAX_RT_BYTES || (h->rt_off & (cs - 1)) ||
               !h->rt_off || h->rt_off > fsize || h->rt_clusters * cs > fsize - h->rt_off) {
        bad = "refcount table (size, alignment, or beyond the end of the file)";
    } else if (h->backing_off && (h->backing_size > 1023 || h->backing_off > fsize ||
                                  h->backing_size > fsize - h->backing_off)) {
        bad = "backing file name";
    }
    need = bad ? 0 : (h->size + cs * l2n - 1) / (cs * l2n);
    if (!bad && h->l1_size < need) {
        bad = "L1 table (too small for the disk size)";
    }
    if (bad) {
        core_set_error(errp, "qcow2 '%s': invalid %s", path, bad);
    }
    return !bad;
}

static bool read_header(int fd, uint64_t fsize, hdr *h, bool ro, const char *path, char **errp)
{
    uint8_t fixed[112] = {0};
    g_autofree uint8_t *cl = NULL;
    uint64_t cs, end;

    if (fsize < 72 || host_pread(fd, fixed, sizeof(fixed), 0) < 0 || be32_at(fixed) != QCOW2_MAGIC) {
        core_set_error(errp, "qcow2 '%s': truncated or missing header", path);
        return false;
    }
    parse_fixed(h, fixed, MIN(fsize, sizeof(fixed)));
    if (h->version != 2 && h->version != 3) {
        core_set_error(errp, "qcow2 '%s': unsupported version %u", path, h->version);
        return false;
    }
    if (h->version == 3 && fsize < 104) {
        core_set_error(errp, "qcow2 '%s': truncated header", path);
        return false;
    }
    if (!check_geometry(h, fsize, path, errp)) {
        return false;
    }
    cs = 1ull << h->cluster_bits;
    end = MIN(cs, fsize);
    if (h->backing_off && h->backing_off < end) {
        end = h->backing_off;
    }
    cl = g_malloc(cs);
    if (host_pread(fd, cl, cs, 0) < 0) {
        core_set_error(errp, "qcow2 '%s': cannot read the header extensions", path);
        return false;
    }
    if (!parse_exts(h, cl, end, path, errp)) {
        return false;
    }
    return check_features(h, ro, path, errp);
}

/* ---- tables ---- */

static bool load_table(int fd, uint64_t off, uint64_t n, uint64_t **out)
{
    uint64_t *t = g_try_new0(uint64_t, n ? n : 1);

    if (!t || host_pread(fd, t, n * 8, off) < 0) {
        g_free(t);
        return false;
    }
    for (uint64_t i = 0; i < n; i++) {
        t[i] = GUINT64_FROM_BE(t[i]);
    }
    *out = t;
    return true;
}

static void setup_geometry(qcow2 *q, const hdr *h)
{
    q->version = h->version;
    q->cluster_bits = h->cluster_bits;
    q->cs = 1ull << h->cluster_bits;
    q->l2_bits = h->cluster_bits - 3;
    q->size = h->size;
    q->incompat = h->incompat;
    q->compat = h->compat;
    q->autoclear = h->autoclear;
    q->compression_type = h->compression_type;
    q->l1_off = h->l1_off;
    q->l1_size = h->l1_size;
    q->rt_off = h->rt_off;
    q->rt_clusters = h->rt_clusters;
    q->rt_entries = (uint64_t)h->rt_clusters * q->cs / 8;
    q->refcount_order = h->refcount_order;
    q->rc_bits = 1u << h->refcount_order;
    q->rb_entries = q->cs * 8 / q->rc_bits;
    q->lazy = !q->ro && (h->compat & COMPAT_LAZY_REFCOUNTS);
    if (q->lazy_opt) {
        q->lazy = !q->ro && q->lazy_opt == 1;
    }
    q->next_free = (q->host_end + q->cs - 1) >> q->cluster_bits;
    q->scan = 1; /* cluster 0 is the header */
    q->scan_end = q->next_free;
    q->freed = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    mc_init(&q->l2c, CLAMP((16u << 20) >> q->cluster_bits, 4, 1024), q->cs);
    mc_init(&q->rbc, CLAMP((4u << 20) >> q->cluster_bits, 4, 256), q->cs);
    q->pending_free = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    q->cbuf = g_malloc(q->cs);
}

/* ---- the backing chain ---- */

static qcow2 *open_depth(int fd, int fd_buf, const char *path, const qcow2_opts *o, unsigned depth,
                         char **errp);

static void bimage_close(bimage *b)
{
    if (!b) {
        return;
    }
    if (b->q) {
        qcow2_close(b->q);
    }
    if (b->fd_buf >= 0 && b->fd_buf != b->fd) {
        close(b->fd_buf);
    }
    if (b->fd >= 0) {
        close(b->fd);
    }
    g_free(b);
}

static char *backing_path(const char *image, const char *name)
{
    g_autofree char *dir = NULL;

    if (g_path_is_absolute(name)) {
        return g_strdup(name);
    }
    dir = g_path_get_dirname(image);
    return g_build_filename(dir, name, NULL);
}

static bool bimage_format(bimage *b, const char *fmt, const char *path, bool *is_qcow2, char **errp)
{
    uint8_t magic[8] = {0};

    if (fmt && strcmp(fmt, "raw") != 0 && strcmp(fmt, "qcow2") != 0) {
        core_set_error(errp, "qcow2: backing file '%s' has unsupported format '%s'", path, fmt);
        return false;
    }
    if (fmt) {
        *is_qcow2 = !strcmp(fmt, "qcow2");
        return true;
    }
    *is_qcow2 = host_pread(b->fd_buf, magic, sizeof(magic), 0) == 0 && qcow2_probe(magic, 8);
    return true;
}

static bimage *bimage_open(const char *path, const char *fmt, const qcow2_opts *o, unsigned depth,
                           char **errp)
{
    bimage *b = g_new0(bimage, 1);
    qcow2_opts bo = *o;
    struct stat st;
    bool is_qcow2;

    b->fd = open(path, O_RDONLY | O_CLOEXEC | o->oflags);
    b->fd_buf = (o->oflags & O_DIRECT) ? open(path, O_RDONLY | O_CLOEXEC) : b->fd;
    if (b->fd < 0 || b->fd_buf < 0 || fstat(b->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        core_set_error(errp, "qcow2: cannot open backing file '%s': %s", path,
                       b->fd < 0 || b->fd_buf < 0 ? strerror(errno) : "not a regular file");
        bimage_close(b);
        return NULL;
    }
    if (!bimage_format(b, fmt, path, &is_qcow2, errp)) {
        bimage_close(b);
        return NULL;
    }
    b->size = st.st_size;
    if (is_qcow2) {
        bo.readonly = true;
        bo.backing = bo.backing_fmt = NULL; /* the overrides are the top's */
        bo.no_backing = false;
        bo.lazy_refcounts = 0;
        if (!(b->q = open_depth(b->fd, b->fd_buf, path, &bo, depth + 1, errp))) {
            bimage_close(b);
            return NULL;
        }
        b->size = b->q->size;
    }
    return b;
}

static bool open_backing(qcow2 *q, const hdr *h, const qcow2_opts *o, unsigned depth, char **errp)
{
    g_autofree char *name = NULL, *path = NULL;

    if (o->no_backing) {
        return true; /* backing=null: unallocated clusters read zeroes */
    }
    if (o->backing) {
        q->backing = bimage_open(o->backing, o->backing_fmt, o, depth, errp);
        return q->backing != NULL;
    }
    if (!h->backing_off || !h->backing_size) {
        return true;
    }
    if (depth >= MAX_CHAIN) {
        core_set_error(errp, "qcow2 '%s': backing chain deeper than %d (a loop?)", q->path,
                       MAX_CHAIN);
        return false;
    }
    name = g_malloc0(h->backing_size + 1);
    if (host_pread(q->fd_buf, name, h->backing_size, h->backing_off) < 0 || strlen(name) == 0 ||
        strchr(name, ':') != NULL) {
        core_set_error(errp, "qcow2 '%s': unsupported backing file name '%s'", q->path, name);
        return false;
    }
    path = backing_path(q->path, name);
    q->backing = bimage_open(path, h->backing_fmt, o, depth, errp);
    return q->backing != NULL;
}

/* ---- open and close ---- */

/* Read-write open: forget bitmaps and other autoclear features we do not
 * maintain, and repair a dirty image. */
static bool open_rw_fixups(qcow2 *q, const hdr *h, char **errp)
{
    uint64_t v = 0;
    int ret;

    if (q->autoclear && (ret = hdr_write(q, HDR_AUTOCLEAR, &v, 8)) < 0) {
        core_set_error(errp, "qcow2 '%s': cannot write the header: %s", q->path, strerror(-ret));
        return false;
    }
    q->autoclear = 0;
    if (!(q->incompat & INCOMPAT_DIRTY)) {
        return true;
    }
    if (h->nb_snapshots) {
        core_set_error(errp, "qcow2 '%s': dirty image with internal snapshots; repair it with "
                       "qemu-img check -r all", q->path);
        return false;
    }
    q->dirty_marked = true; /* the rebuild below clears it at close */
    if ((ret = rc_rebuild(q)) < 0) {
        core_set_error(errp, "qcow2 '%s': cannot repair the refcounts of a dirty image: %s",
                       q->path, strerror(-ret));
        return false;
    }
    v = GUINT64_TO_BE(q->incompat & ~INCOMPAT_DIRTY);
    if (hdr_write(q, HDR_INCOMPAT, &v, 8) < 0 || q_sync(q) < 0) {
        core_set_error(errp, "qcow2 '%s': cannot write the header", q->path);
        return false;
    }
    q->incompat &= ~INCOMPAT_DIRTY;
    q->dirty_marked = false;
    return true;
}

static void q_free(qcow2 *q)
{
    bimage_close(q->backing);
    mc_free(&q->l2c);
    mc_free(&q->rbc);
    if (q->pending_free) {
        g_array_free(q->pending_free, TRUE);
    }
    if (q->freed) {
        g_hash_table_destroy(q->freed);
    }
    g_free(q->l1);
    g_free(q->rt);
    g_free(q->zbuf);
    g_free(q->cbuf);
    g_free(q->path);
    g_mutex_clear(&q->lock);
    g_free(q);
}

static qcow2 *open_depth(int fd, int fd_buf, const char *path, const qcow2_opts *o, unsigned depth,
                         char **errp)
{
    qcow2 *q = g_new0(qcow2, 1);
    hdr h = {0};
    struct stat st;
    bool ok;

    g_mutex_init(&q->lock);
    q->fd = fd;
    q->fd_buf = fd_buf;
    q->path = g_strdup(path);
    q->ro = o->readonly;
    q->no_sync = o->no_sync;
    q->sync_meta = o->sync_meta;
    q->lazy_opt = o->lazy_refcounts;
    ok = fstat(fd_buf, &st) == 0 && read_header(fd_buf, st.st_size, &h, q->ro, path, errp);
    if (ok && o->lazy_refcounts == 1 && h.version < 3) {
        /* QEMU's words */
        core_set_error(errp, "qcow2 '%s': Lazy refcounts require a qcow2 image with at least "
                       "qemu 1.1 compatibility level", path);
        ok = false;
    }
    if (ok) {
        q->host_end = st.st_size;
        setup_geometry(q, &h);
        ok = load_table(fd_buf, q->l1_off, q->l1_size, &q->l1) &&
             load_table(fd_buf, q->rt_off, q->rt_entries, &q->rt);
        if (!ok) {
            core_set_error(errp, "qcow2 '%s': cannot read the L1 or refcount table", path);
        }
    }
    ok = ok && open_backing(q, &h, o, depth, errp) && (q->ro || open_rw_fixups(q, &h, errp));
    hdr_clear(&h);
    if (!ok) {
        q_free(q);
        return NULL;
    }
    return q;
}

qcow2 *qcow2_open(int fd, int fd_buf, const char *path, const qcow2_opts *o, char **errp)
{
    return open_depth(fd, fd_buf, path, o, 0, errp);
}

/* The per-image state setup_geometry() allocates. */
static void geometry_free(qcow2 *q)
{
    mc_free(&q->l2c);
    mc_free(&q->rbc);
    g_clear_pointer(&q->pending_free, g_array_unref);
    g_clear_pointer(&q->freed, g_hash_table_destroy);
    g_clear_pointer(&q->l1, g_free);
    g_clear_pointer(&q->rt, g_free);
    g_clear_pointer(&q->cbuf, g_free);
}

/* The destination of a migration opened the image before the source's
 * last writes: every table and cached block read then (L1, refcounts,
 * L2, the end of the file) may be stale. Nothing is dirty here (the
 * guest has not run on this side), so the caches are dropped and read
 * again as at open, as QEMU's bdrv_activate() does. */
int qcow2_invalidate(qcow2 *q, char **errp)
{
    hdr h = {0};
    struct stat st;
    bool ok;

    g_mutex_lock(&q->lock);
    ok = fstat(q->fd_buf, &st) == 0 && read_header(q->fd_buf, st.st_size, &h, q->ro, q->path,
                                                   errp);
    if (ok && (h.cluster_bits != q->cluster_bits || h.size != q->size)) {
        core_set_error(errp, "qcow2 '%s': its geometry changed during the migration", q->path);
        ok = false;
    }
    if (ok) {
        geometry_free(q);
        q->host_end = st.st_size;
        setup_geometry(q, &h);
        ok = load_table(q->fd_buf, q->l1_off, q->l1_size, &q->l1) &&
             load_table(q->fd_buf, q->rt_off, q->rt_entries, &q->rt);
        if (!ok) {
            core_set_error(errp, "qcow2 '%s': cannot read the L1 or refcount table", q->path);
        }
    }
    hdr_clear(&h);
    g_mutex_unlock(&q->lock);
    return ok ? 0 : -EIO;
}

void qcow2_close(qcow2 *q)
{
    uint64_t v;

    if (!q) {
        return;
    }
    if (!q->ro) {
        int ret = meta_flush(q, true);
        if (ret < 0) {
            fprintf(stderr, "tessera: qcow2 '%s': cannot write metadata back: %s\n", q->path,
                    strerror(-ret));
        } else if (q->dirty_marked) {
            v = GUINT64_TO_BE(q->incompat & ~INCOMPAT_DIRTY);
            if (hdr_write(q, HDR_INCOMPAT, &v, 8) == 0) {
                q_sync(q);
            }
        }
    }
    q_free(q);
}

/* ---- creation ---- */

static void put32(uint8_t *p, uint32_t v)
{
    *(uint32_t *)p = GUINT32_TO_BE(v);
}

static void put64(uint8_t *p, uint64_t v)
{
    *(uint64_t *)p = GUINT64_TO_BE(v);
}

/* Header, extensions and backing name in cluster 0; returns its length. */
static size_t create_header(uint8_t *b, uint64_t size, uint32_t l1_size, const char *backing,
                            const char *fmt)
{
    const uint64_t cs = 1u << 16;
    size_t o = 104;

    put32(b, QCOW2_MAGIC);
    put32(b + 4, 3);
    put32(b + 20, 16);
    put64(b + 24, size);
    put32(b + 36, l1_size);
    put64(b + 40, 3 * cs);
    put64(b + 48, cs);
    put32(b + 56, 1);
    put32(b + 96, 4);
    put32(b + 100, 104);
    if (backing && fmt) {
        put32(b + o, EXT_BACKING_FMT);
        put32(b + o + 4, strlen(fmt));
        memcpy(b + o + 8, fmt, strlen(fmt));
        o += 8 + ((strlen(fmt) + 7) & ~7u);
    }
    o += 8; /* the end extension: zeroes */
    if (backing) {
        put64(b + 8, o);
        put32(b + 16, strlen(backing));
        memcpy(b + o, backing, strlen(backing));
        o += strlen(backing);
    }
    return o;
}

bool qcow2_create(const char *path, uint64_t size, const char *backing, const char *backing_fmt,
                  char **errp)
{
    const uint64_t cs = 1u << 16, per_l1 = cs * (cs / 8);
    uint64_t l1_size = (size + per_l1 - 1) / per_l1, l1_cl = (l1_size * 8 + cs - 1) / cs;
    g_autofree uint8_t *b = g_malloc0(3 * cs);
    int fd, ret = 0;

    if ((backing && strlen(backing) > 1023) || l1_size * 8 > MAX_L1_BYTES) {
        core_set_error(errp, "qcow2 '%s': cannot create: size or backing name too large", path);
        return false;
    }
    create_header(b, size, l1_size, backing, backing_fmt);
    put64(b + cs, 2 * cs);                             /* refcount table -> block */
    for (uint64_t c = 0; c < 3 + (l1_cl ? l1_cl : 1); c++) { /* 16-bit refcounts */
        b[2 * cs + c * 2 + 1] = 1;
    }
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || (ret = host_pwrite(fd, b, 3 * cs, 0)) < 0 ||
        ftruncate(fd, (3 + (l1_cl ? l1_cl : 1)) * cs) < 0) {
        core_set_error(errp, "qcow2 '%s': cannot create: %s", path,
                       strerror(ret < 0 ? -ret : errno));
        if (fd >= 0) {
            close(fd);
        }
        return false;
    }
    close(fd);
    return true;
}
