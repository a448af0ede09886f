/*
 * tessera core: the qcow2 format driver's interface to block.c, and what
 * its files (block-qcow2.c: open/validate/create; block-qcow2-meta.c:
 * caches, refcounts, allocation, ordered metadata flush, repair;
 * block-qcow2-io.c: requests) share. See block-qcow2.c's top comment for
 * the design.
 */
#ifndef TESSERA_BLOCK_QCOW2_H
#define TESSERA_BLOCK_QCOW2_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <tessera/block.h>

typedef struct qcow2 qcow2;

typedef struct qcow2_opts {
    bool readonly;
    int oflags;     /* extra open flags for backing files (O_DIRECT, O_DSYNC) */
    bool no_sync;   /* cache=unsafe: fdatasync is a no-op */
    bool sync_meta; /* writethrough/directsync: metadata durable per write */
    /* The top image only (-blockdev qcow2 keys): */
    const char *backing;     /* this file as the backing, not the header's */
    const char *backing_fmt; /* ... in this format (NULL: probed) */
    bool no_backing;         /* backing=null: none, whatever the header says */
    int lazy_refcounts;      /* 0: as the header says; 1 on (v3 only); 2 off */
} qcow2_opts;

/* Whether the first bytes of a file are a qcow2 header's magic. */
bool qcow2_probe(const uint8_t *buf, size_t len);

/*
 * Open the qcow2 image on fd (data I/O; may be O_DIRECT) and fd_buf (the
 * same file without O_DIRECT, for metadata); path names it in messages and
 * anchors relative backing paths. Opens the backing chain. Takes neither fd:
 * the caller closes them after qcow2_close. NULL with *errp set on error.
 */
qcow2 *qcow2_open(int fd, int fd_buf, const char *path, const qcow2_opts *o, char **errp);

/* Virtual disk size in bytes. */
uint64_t qcow2_size(qcow2 *q);

/* Write back metadata, clear the dirty bit, close backing files, free. */
void qcow2_close(qcow2 *q);
/* Re-read the header and tables, dropping every cached one (the image
 * changed behind us: an incoming migration); 0 or -EIO with *errp. */
int qcow2_invalidate(qcow2 *q, char **errp);

/*
 * One request, synchronously (from a pool thread or a set-up path); safe to
 * call from several threads. Reads past the virtual size read zeroes.
 * Returns 0 or -errno.
 */
int qcow2_request(qcow2 *q, tes_blk_op op, uint64_t off, const struct iovec *iov,
                  unsigned iovcnt, uint64_t len, unsigned flags);

/*
 * Fast path for the main loop: when [off, off+len) maps to one host-
 * contiguous run of allocated clusters whose L2 table is cached (and, for
 * a write, that may be written in place), store the host offset and
 * return true without blocking; the caller then does plain I/O there.
 */
bool qcow2_map_fast(qcow2 *q, bool write, uint64_t off, uint64_t len, uint64_t *host);

/* Create an empty qcow2 v3 image (64 KiB clusters, 16-bit refcounts),
 * optionally over a backing file (absolute path) of format backing_fmt. */
bool qcow2_create(const char *path, uint64_t size, const char *backing, const char *backing_fmt,
                  char **errp);

/* ---- block-format.c: opening a drive's image in its format ---- */

typedef struct drive_image {
    int fd, fd_buf;  /* fd_buf: without O_DIRECT (may equal fd) */
    qcow2 *qc;       /* NULL: raw */
    bool probed_raw; /* no format= and not qcow2: block 0 is guarded */
    bool no_flush;   /* cache=unsafe */
    uint64_t size;   /* virtual size */
} drive_image;

typedef struct drive_image_opts {
    const char *id, *path, *format, *cache; /* format, cache may be NULL */
    bool readonly, snapshot;
    /* qcow2 only (qcow2_opts): NULL/false/0 for the header's way */
    const char *backing, *backing_fmt;
    bool no_backing;
    int lazy_refcounts;
} drive_image_opts;

/* Open (and probe, and for snapshot=on overlay) an image; one message in
 * *errp naming the drive on failure. */
bool drive_image_open(drive_image *im, const drive_image_opts *o, char **errp);
/* qcow2 metadata written back, descriptors closed. */
void drive_image_close(drive_image *im);
/* Whether a write of buf at off would make a probed raw image look like
 * another format (QEMU refuses those). */
bool drive_image_block0_refused(uint64_t off, const struct iovec *iov, unsigned iovcnt);

#endif
