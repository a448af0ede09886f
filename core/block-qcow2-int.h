/*
 * tessera core: qcow2 internals shared by block-qcow2*.c (not for block.c).
 * On-disk facts from QEMU's docs/interop/qcow2.txt.
 */
#ifndef TESSERA_BLOCK_QCOW2_INT_H
#define TESSERA_BLOCK_QCOW2_INT_H

#include <glib.h>

#include "block-qcow2.h"

#define QCOW2_MAGIC 0x514649fbu /* "QFI\xfb" */
#define L1E_OFFSET_MASK 0x00fffffffffffe00ull
#define L2E_OFFSET_MASK 0x00fffffffffffe00ull
#define RTE_OFFSET_MASK 0xfffffffffffffe00ull
#define OFLAG_COPIED (1ull << 63)
#define OFLAG_COMPRESSED (1ull << 62)
#define OFLAG_ZERO (1ull << 0)

#define INCOMPAT_DIRTY (1ull << 0)
#define INCOMPAT_CORRUPT (1ull << 1)
#define INCOMPAT_DATA_FILE (1ull << 2)
#define INCOMPAT_COMPRESSION (1ull << 3)
#define INCOMPAT_EXTL2 (1ull << 4)
#define COMPAT_LAZY_REFCOUNTS (1ull << 0)

/* Header field offsets (big-endian). */
#define HDR_RT_OFFSET 48
#define HDR_RT_CLUSTERS 56
#define HDR_INCOMPAT 72
#define HDR_AUTOCLEAR 88

/* Bounds on what a file may ask of us (QEMU's are similar). */
#define MAX_L1_BYTES (32u << 20)
#define MAX_RT_BYTES (8u << 20)
#define MAX_HOST_OFFSET (1ull << 56)
#define MAX_CHAIN 32

/* A cache of cluster-sized metadata tables (L2 tables or refcount blocks). */
typedef struct mc_ent {
    uint64_t off; /* host offset; 0 = free slot */
    uint8_t *buf;
    bool dirty;
    uint64_t lru;
} mc_ent;

typedef struct mcache {
    mc_ent *ents;
    unsigned n;
    uint64_t tick;
    GHashTable *map; /* host offset -> mc_ent* */
} mcache;

/* A backing image: raw (q == NULL) or qcow2. */
typedef struct bimage {
    int fd, fd_buf; /* fd_buf: without O_DIRECT */
    qcow2 *q;
    uint64_t size;
} bimage;

struct qcow2 {
    int fd, fd_buf;
    char *path;
    bool ro, no_sync, sync_meta;
    GMutex lock;

    uint32_t version, cluster_bits, l2_bits;
    uint64_t cs; /* cluster size */
    uint64_t size;
    uint64_t incompat, compat, autoclear;
    int compression_type; /* 0 zlib, 1 zstd */

    uint64_t l1_off;
    uint32_t l1_size;
    uint64_t *l1; /* host-endian */
    bool l1_dirty;

    uint64_t rt_off;
    uint32_t rt_clusters;
    uint64_t rt_entries;
    uint64_t *rt; /* host-endian */
    bool rt_dirty;
    unsigned refcount_order, rc_bits;
    uint64_t rb_entries; /* refcounts per block */

    mcache l2c, rbc;
    bool unsynced; /* data or refcount writes not yet fdatasync'd */
    GArray *pending_free; /* uint64_t host cluster offsets to decrement */
    uint64_t next_free;   /* bump allocator, cluster index */
    uint64_t scan, scan_end; /* holes the image had at open: next to try, end */
    GHashTable *freed;    /* clusters freed this session (never reused) */
    uint64_t host_end;    /* bytes: file size including our appends */
    bool lazy, dirty_marked;
    int lazy_opt;         /* qcow2_opts.lazy_refcounts of the open */
    unsigned rc_depth; /* recursion guard of refcount allocation */

    bimage *backing;
    uint8_t *zbuf, *cbuf; /* compressed input, a decompressed cluster */
    uint64_t zbuf_len;
};

/* block-qcow2-meta.c */
bool mc_init(mcache *c, unsigned n, uint64_t cs);
void mc_free(mcache *c);
int host_pread(int fd, void *buf, size_t len, uint64_t off);
int host_pwrite(int fd, const void *buf, size_t len, uint64_t off);
int q_sync(qcow2 *q);
int l2_entry(qcow2 *q, uint64_t vc, uint64_t *entry);
int l2_table_rw(qcow2 *q, uint64_t vc, uint64_t **tbl);
int rc_add(qcow2 *q, uint64_t c, int64_t delta);
int rc_get(qcow2 *q, uint64_t c, uint64_t *val);
int64_t alloc_clusters(qcow2 *q, uint64_t k);
void free_later(qcow2 *q, uint64_t entry);
int meta_flush(qcow2 *q, bool sync);
int mark_dirty(qcow2 *q);
int rc_rebuild(qcow2 *q);
int hdr_write(qcow2 *q, uint64_t off, const void *data, size_t len);
bool ent_valid(qcow2 *q, uint64_t off);

/* block-qcow2-io.c */
int bimage_read(bimage *b, uint64_t off, const struct iovec *iov, unsigned cnt, uint64_t len);
int q_decompress(qcow2 *q, uint64_t entry, uint8_t *out);

#endif
