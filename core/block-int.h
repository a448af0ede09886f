/*
 * tessera core: what block.c (drives, options, requests, the thread pool)
 * and block-batch.c (the io_uring ring, batched submission, completion)
 * share: the drive and its asynchronous requests.
 */
#ifndef BLOCK_INT_H
#define BLOCK_INT_H

#include <glib.h>
#include <liburing.h>
#include <sys/uio.h>

#include "core.h"
#include "block-qcow2.h"

#define RING_ENTRIES 256
#define ZERO_CHUNK (1u << 20) /* write-zeroes fallback writes this much at a time */

typedef struct blk_req blk_req;
/* Finished requests a drive keeps for the next ones: at queue depth 32
 * glibc's per-thread cache (7 chunks a size) is exhausted and every
 * malloc/free pair took its slow bins. */
#define SPARE_REQS 64

struct tes_drive {
    char *id;
    char *path;
    int fd;
    bool readonly;
    uint64_t size;      /* virtual size */
    char *user; /* device that claimed it */

    /* Format and cache mode (see the top comment). */
    int fd_buf;         /* fd without O_DIRECT (== fd when not cache=none) */
    qcow2 *qc;          /* NULL: raw */
    GThreadPool *fmt_pool; /* qcow2 requests that need the format */
    bool probed_raw;    /* raw by probing: block 0 is guarded */
    bool no_flush;      /* cache=unsafe */
    bool aio_threads;   /* aio=threads */
    bool discard_ignore; /* discard=ignore|off: guests' discards do nothing */

    /* Asynchronous requests: see the comment at the top. */
    bool has_ring;
    bool fixed_files;   /* fd and fd_buf are the ring's fixed files 0 and 1 */
    struct io_uring ring;
    GThreadPool *pool;  /* when there is no ring */
    int efd;            /* completions ready: ring CQEs or done list */
    guint watch;        /* GLib source on efd */
    unsigned inflight;  /* accepted, callback not run yet */
    unsigned in_ring;   /* SQEs the kernel owns */
    bool reaping;       /* in reap(): submit once at its end */
    bool batched;       /* in batch_drives, submitted at block_batch_end */
    gint no_fallocate;  /* bit 0: ZERO_RANGE refused, bit 1: PUNCH_HOLE */
    GQueue pending;     /* blk_req* waiting for ring room */
    GMutex done_lock;
    GQueue done;        /* blk_req* finished by the pool or refused early */

    drive_stats stats;  /* query-blockstats: see stats_account() */
    blk_req *spare;     /* finished requests kept for reuse (req_new) */
    unsigned n_spare;

    /* Removable media (ABI 1.5, block-media.c): a drive without a medium
     * keeps its ring, id and device; its image fields are fd -1, size 0. */
    bool has_medium;
    const tes_drive_media_ops *mops; /* the device's, NULL: not removable */
    tes_drive_media_ops mops_copy;   /* ops as 1.5 (members past size NULL) */
    void *mops_opaque;
};

struct blk_req {
    tes_drive *d;
    tes_blk_op op;
    unsigned flags;
    uint64_t offset, len, done; /* len: bytes of the whole request */
    struct iovec *iov;          /* what is left to transfer */
    unsigned iovcnt;
    struct iovec *iov_alloc;    /* our copy of the caller's array */
    struct iovec iov_inline[4];
    uint8_t *zbuf;              /* zeroes written when fallocate is refused */
    bool zero_write;
    bool buffered;              /* O_DIRECT refused this one: use fd_buf */
    int ret;
    tes_blk_cb cb;
    void *opaque;
    blk_req *next_spare;        /* on d->spare */
};

extern GPtrArray *block_drives; /* every drive (-drive, blockdev-add) */

/* block.c */
void blk_req_finish(blk_req *r, int ret); /* the callback, lock held */
void blk_iov_advance(blk_req *r, uint64_t n);
void blk_iov_zero_rest(blk_req *r);
int blk_zero_mode(blk_req *r);
void blk_zero_fallback(blk_req *r);
void blk_zero_chunk(blk_req *r);

/* block-batch.c */
void blk_ring_submit(tes_drive *d);
void blk_ring_files(tes_drive *d); /* after d->fd or d->fd_buf changed */
void blk_ring_queue(tes_drive *d, blk_req *r);
void blk_reap(tes_drive *d);
void blk_efd_clear(tes_drive *d);
void blk_efd_wait(tes_drive *d);
gboolean blk_on_efd(gint fd, GIOCondition cond, gpointer opaque);
/* d goes away: submit what a batch holds of it and forget it. */
void blk_batch_forget(tes_drive *d);

#endif
