/*
 * tessera core: the io_uring side of the block layer (block.c has the
 * drives, their options and the thread pool; block-int.h what they
 * share).
 *
 * Each drive has one ring. A request goes on it at once, or, inside a
 * batch (block_batch_begin/end: a vCPU's slice, the harness between its
 * flush points), waits for the batch's end to be submitted with the
 * others in one io_uring_enter. Completions are reaped under the machine
 * lock: by the main loop when the eventfd the ring signals fires, by the
 * vCPU thread right after its submission (page-cache reads complete
 * inside it), or by drives_poll() for the harness. Callbacks run inside
 * an MSI batch: one message per vector for what completes together.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "block-int.h"

static unsigned batch_depth;
static GPtrArray *batch_drives; /* drives with requests queued in a batch */

/* ---- the ring ---- */

/* What an SQE names for d's descriptor: its fixed-file slot (0: fd, 1:
 * fd_buf; set IOSQE_FIXED_FILE) or the descriptor itself. */
static int ring_fd(const tes_drive *d, bool buffered)
{
    if (d->fixed_files) {
        return buffered ? 1 : 0;
    }
    return buffered ? d->fd_buf : d->fd;
}

/* r's single buffer; FUA: RWF_DSYNC makes a write durable before it
 * completes. */
static void ring_prep_one(struct io_uring_sqe *sqe, tes_drive *d, blk_req *r, uint64_t off)
{
    int fd = ring_fd(d, r->buffered);

    if (r->op == TES_BLK_READ) {
        io_uring_prep_read(sqe, fd, r->iov->iov_base, (unsigned)r->iov->iov_len, off);
    } else {
        io_uring_prep_write(sqe, fd, r->iov->iov_base, (unsigned)r->iov->iov_len, off);
        sqe->rw_flags = r->flags & TES_BLK_FUA ? RWF_DSYNC : 0;
    }
}

/* Put r's next step on the ring; false when the ring is full. */
static bool ring_prep(tes_drive *d, blk_req *r)
{
    struct io_uring_sqe *sqe;
    uint64_t off = r->offset + r->done;

    if (d->in_ring >= RING_ENTRIES || !(sqe = io_uring_get_sqe(&d->ring))) {
        return false;
    }
    if ((r->op == TES_BLK_READ || r->op == TES_BLK_WRITE) && r->iovcnt == 1 &&
        r->iov->iov_len <= UINT32_MAX) {
        /* READ/WRITE, not the vectored ops: the kernel need not copy in an
         * iovec array (most guest requests are one mapped buffer). */
        ring_prep_one(sqe, d, r, off);
    } else if (r->op == TES_BLK_READ) {
        io_uring_prep_readv(sqe, ring_fd(d, r->buffered), r->iov, r->iovcnt, off);
    } else if (r->op == TES_BLK_WRITE) {
        /* FUA: RWF_DSYNC makes this write durable before it completes. */
        io_uring_prep_writev2(sqe, ring_fd(d, r->buffered), r->iov, r->iovcnt, off,
                              r->flags & TES_BLK_FUA ? RWF_DSYNC : 0);
    } else if (r->op == TES_BLK_FLUSH) {
        io_uring_prep_fsync(sqe, ring_fd(d, false), IORING_FSYNC_DATASYNC);
    } else if (r->zero_write) {
        blk_zero_chunk(r);
        io_uring_prep_writev(sqe, ring_fd(d, false), r->iov, 1, off);
    } else {
        io_uring_prep_fallocate(sqe, ring_fd(d, false), blk_zero_mode(r), r->offset, r->len);
    }
    if (d->fixed_files) {
        /* The prep helpers cleared flags: a plain store, not |=, whose
         * load of the line just written stalled (perf annotate: a third
         * of ring_prep's time on the instruction after it). */
        sqe->flags = IOSQE_FIXED_FILE;
    }
    io_uring_sqe_set_data(sqe, r);
    d->in_ring++;
    return true;
}

void blk_ring_submit(tes_drive *d);

void block_batch_begin(void)
{
    batch_depth++;
}

/* Submit every drive's queued batch now, inside a batch or not: early is
 * always safe, it only costs the batching. */
void block_batch_flush(void)
{
    if (!batch_drives) {
        return;
    }
    for (guint i = 0; i < batch_drives->len; i++) {
        tes_drive *d = g_ptr_array_index(batch_drives, i);
        d->batched = false;
        blk_ring_submit(d);
    }
    g_ptr_array_set_size(batch_drives, 0);
}

void block_batch_end(void)
{
    if (--batch_depth == 0) {
        block_batch_flush();
    }
}

void block_batch_end_deferred(void)
{
    batch_depth--;
}

/* In a batch: remember d for the batch's end instead of submitting now. */
static bool batch_defer(tes_drive *d)
{
    if (batch_depth == 0) {
        return false;
    }
    if (!d->batched) {
        if (!batch_drives) {
            batch_drives = g_ptr_array_new();
        }
        g_ptr_array_add(batch_drives, d);
        d->batched = true;
    }
    return true;
}

void blk_ring_submit(tes_drive *d)
{
    int ret = io_uring_submit(&d->ring);

    if (ret < 0 && ret != -EAGAIN && ret != -EBUSY && ret != -EINTR) {
        core_log(TES_LOG_UNIMP, "drive '%s': io_uring_submit: %s\n", d->id, strerror(-ret));
    }
}

/*
 * The drive's descriptors as the ring's fixed files: without them the
 * kernel looks each request's descriptor up in the process's table and
 * takes and drops a reference (fget/fput, ~1.5% of a page-cache read's
 * CPU). Called at set-up and whenever d->fd or d->fd_buf change (a medium
 * opened or closed); -1 empties a slot, so a closed image is not held
 * open by the table. Requests the kernel owns keep their own reference to
 * the file they started on; pending ones are prepared later with the new
 * slots, as they would be with the new descriptors. When the kernel
 * refuses, the SQEs name the descriptors as before.
 */
void blk_ring_files(tes_drive *d)
{
    int fds[2] = {d->fd, d->fd_buf};

    if (!d->has_ring) {
        return;
    }
    if (!d->fixed_files) {
        d->fixed_files = io_uring_register_files(&d->ring, fds, 2) == 0;
    } else if (io_uring_register_files_update(&d->ring, 0, fds, 2) != 2) {
        io_uring_unregister_files(&d->ring);
        d->fixed_files = false;
    }
}

/* Queue r's next step: on the ring if there is room, else pending. */
void blk_ring_queue(tes_drive *d, blk_req *r)
{
    if (!g_queue_is_empty(&d->pending) || !ring_prep(d, r)) {
        g_queue_push_tail(&d->pending, r);
        return;
    }
    if (!d->reaping && !batch_defer(d)) {
        blk_ring_submit(d);
    }
}

/* Bytes moved: go on, finish, or zero the tail of a read at EOF. */
static void ring_progress(tes_drive *d, blk_req *r, int res)
{
    if (res == 0 && r->op == TES_BLK_READ) {
        blk_iov_zero_rest(r);
        blk_req_finish(r, 0);
        return;
    }
    if (res == 0) {
        blk_req_finish(r, -EIO);
        return;
    }
    r->done += res;
    if (r->done >= r->len) {
        blk_req_finish(r, 0);
        return;
    }
    if (!r->zero_write) {
        blk_iov_advance(r, res);
    }
    blk_ring_queue(d, r);
}

static void ring_complete(tes_drive *d, blk_req *r, int res)
{
    d->in_ring--;
    if (res == -EAGAIN || res == -EINTR) {
        blk_ring_queue(d, r);
        return;
    }
    if (res == -EINVAL && !r->buffered && d->fd_buf != d->fd &&
        (r->op == TES_BLK_READ || r->op == TES_BLK_WRITE)) {
        r->buffered = true; /* O_DIRECT and an unaligned buffer */
        blk_ring_queue(d, r);
        return;
    }
    if (res == -EOPNOTSUPP && !r->zero_write &&
        (r->op == TES_BLK_WRITE_ZEROES || r->op == TES_BLK_DISCARD)) {
        blk_zero_fallback(r);
        blk_ring_queue(d, r);
        return;
    }
    if (res < 0 || r->op == TES_BLK_FLUSH ||
        ((r->op == TES_BLK_WRITE_ZEROES || r->op == TES_BLK_DISCARD) && !r->zero_write)) {
        blk_req_finish(r, res < 0 ? res : 0);
        return;
    }
    ring_progress(d, r, res);
}

/* ---- completion ---- */

/* Run every completion that is ready (lock held); true if any ran. */
static bool reap_once(tes_drive *d)
{
    struct io_uring_cqe *cqe;
    bool any = false;
    blk_req *r;

    while (d->has_ring && io_uring_peek_cqe(&d->ring, &cqe) == 0) {
        int res = cqe->res;

        r = io_uring_cqe_get_data(cqe);
        io_uring_cqe_seen(&d->ring, cqe);
        ring_complete(d, r, res);
        any = true;
    }
    for (;;) {
        g_mutex_lock(&d->done_lock);
        r = g_queue_pop_head(&d->done);
        g_mutex_unlock(&d->done_lock);
        if (!r) {
            break;
        }
        blk_req_finish(r, r->ret);
        any = true;
    }
    return any;
}

/* Reap, refill the ring from pending, and submit once at the end so that
 * requests callbacks queue go to the kernel in one batch. */
void blk_reap(tes_drive *d)
{
    bool was = d->reaping;

    msi_batch_begin(); /* one message per vector for what completes here */
    d->reaping = true;
    while (reap_once(d)) {
        while (!g_queue_is_empty(&d->pending) && ring_prep(d, g_queue_peek_head(&d->pending))) {
            g_queue_pop_head(&d->pending);
        }
    }
    d->reaping = was;
    if (d->has_ring && !was) {
        blk_ring_submit(d);
    }
    msi_batch_end();
}

void blk_efd_clear(tes_drive *d)
{
    uint64_t v;

    if (read(d->efd, &v, sizeof(v)) < 0) {
        /* EAGAIN: nothing signalled since the last read. */
    }
}

gboolean blk_on_efd(gint fd, GIOCondition cond, gpointer opaque)
{
    tes_drive *d = opaque;

    core_lock();
    blk_efd_clear(d);
    blk_reap(d);
    core_unlock();
    return G_SOURCE_CONTINUE;
}

void blk_efd_wait(tes_drive *d)
{
    struct pollfd p = {.fd = d->efd, .events = POLLIN};

    while (poll(&p, 1, -1) < 0 && errno == EINTR) {
        continue;
    }
    blk_efd_clear(d);
}

/* Wait until a drive with requests in flight signals; true if there was
 * one. *polled: false when completions were there already, without a
 * poll (page-cache reads complete inside the submission): the eventfds
 * then stay signalled, which costs at most one spurious wake-up later
 * and saves two system calls (poll, read) per batch. */
static bool poll_wait_any(bool *polled)
{
    struct pollfd *fds;
    unsigned n = 0;

    *polled = false;
    for (guint i = 0; block_drives && i < block_drives->len; i++) {
        tes_drive *d = g_ptr_array_index(block_drives, i);
        if (d->inflight && d->has_ring && io_uring_cq_ready(&d->ring)) {
            return true;
        }
    }
    *polled = true;
    fds = g_new0(struct pollfd, block_drives ? block_drives->len : 1);
    for (guint i = 0; block_drives && i < block_drives->len; i++) {
        tes_drive *d = g_ptr_array_index(block_drives, i);
        if (d->inflight) {
            fds[n].fd = d->efd;
            fds[n++].events = POLLIN;
        }
    }
    while (n && poll(fds, n, -1) < 0 && errno == EINTR) {
        continue;
    }
    g_free(fds);
    return n > 0;
}

void drives_poll(bool wait)
{
    bool polled = true;

    core_lock();
    /* A deferred batch (block_batch_end_deferred) is what we would wait for. */
    block_batch_flush();
    if (!wait || poll_wait_any(&polled)) {
        for (guint i = 0; block_drives && i < block_drives->len; i++) {
            tes_drive *d = g_ptr_array_index(block_drives, i);
            if (polled) {
                blk_efd_clear(d);
            }
            blk_reap(d);
        }
    }
    core_unlock();
}

/* ---- completions on the vCPU thread ---- */

/*
 * A page-cache read completes inside its submission. Handed to the main
 * loop (eventfd, poll wake-up, the machine lock the vCPU thread gives up
 * with a yield) it cost 100-300 us per request on a loaded host before
 * the guest saw its interrupt, most of a QD1 read's time. So the vCPU
 * thread submits its slice's batch with the drive's eventfd muted and
 * runs what completed at once itself; unmuted, whatever is left in the
 * ring (an asynchronous completion, or one the kernel posted while muted)
 * gets the eventfd signal the kernel would have given. A notification
 * lost in the kernel's race with the unmuting (its check of the flag and
 * our check of the ring crossing) is caught by drives_reap_ready() at the
 * vCPU thread's next round, 10 ms at most even when every vCPU sleeps.
 */
static void submit_and_reap(tes_drive *d)
{
    bool muted = io_uring_cq_eventfd_toggle(&d->ring, false) == 0;
    uint64_t one = 1;

    blk_ring_submit(d);
    /* Callbacks may queue more (submitted at reap's end): a few rounds. */
    for (unsigned i = 0; i < 4 && io_uring_cq_ready(&d->ring); i++) {
        blk_reap(d);
    }
    if (!muted) {
        return;
    }
    io_uring_cq_eventfd_toggle(&d->ring, true);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (io_uring_cq_ready(&d->ring) && write(d->efd, &one, sizeof(one)) < 0) {
        /* Only EAGAIN at a counter of 2^64-2: already signalled. */
    }
}

void block_batch_end_reap(void)
{
    GPtrArray *list = batch_drives;

    if (--batch_depth > 0 || !list || !list->len) {
        return;
    }
    /* The callbacks may start a new batch: give them a fresh list. */
    batch_drives = NULL;
    for (guint i = 0; i < list->len; i++) {
        tes_drive *d = g_ptr_array_index(list, i);
        d->batched = false;
        submit_and_reap(d);
    }
    g_ptr_array_set_size(list, 0);
    if (batch_drives) {
        block_batch_flush(); /* nothing left normally: their batches ended */
        g_ptr_array_free(batch_drives, TRUE);
    }
    batch_drives = list;
}

void drives_reap_ready(void)
{
    for (guint i = 0; block_drives && i < block_drives->len; i++) {
        tes_drive *d = g_ptr_array_index(block_drives, i);
        if (d->inflight && d->has_ring && !d->reaping && io_uring_cq_ready(&d->ring)) {
            blk_reap(d);
        }
    }
}

void blk_batch_forget(tes_drive *d)
{
    if (d->batched) {
        /* aio_cleanup waits for what the kernel owns: hand it over first. */
        blk_ring_submit(d);
        d->batched = false;
        g_ptr_array_remove(batch_drives, d);
    }
}
