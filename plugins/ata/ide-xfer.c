/*
 * ata: data transfers between a drive and guest memory through the
 * scatter list a controller built from its PRD table (BMDMA) or PRDT
 * (AHCI).
 *
 * Guest pages are mapped and handed to the drive as iovecs (no copy), in
 * pieces of at most IDE_MAX_IOV iovecs and 1 MiB: one drive request at a
 * time per transfer, so a hostile table of 65535 two-byte entries costs
 * memory for 64 iovecs, not for the table's worth of requests. Data the
 * device makes itself (IDENTIFY, ATAPI replies) is copied from u->buf with
 * dma_write instead.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ata.h"

#define PIECE_MAX (1u << 20)
#define SG_MAX 65536u /* entries: AHCI's PRDTL is 16 bits, BMDMA's table 8192 */

bool ide_sg_add(ide_sg **sg, unsigned *n, unsigned *cap, uint64_t addr, uint64_t len)
{
    if (*n == *cap) {
        unsigned ncap = *cap ? *cap * 2 : 16;
        ide_sg *p;

        if (ncap > SG_MAX) {
            return false;
        }
        p = realloc(*sg, ncap * sizeof(**sg));
        if (!p) {
            return false;
        }
        *sg = p;
        *cap = ncap;
    }
    (*sg)[(*n)++] = (ide_sg){addr, len};
    return true;
}

void ide_xfer_free_sg(ide_xfer *x)
{
    free(x->sg);
    x->sg = NULL;
    x->sg_n = x->sg_i = 0;
    x->sg_off = 0;
}

static tes_device *dma_dev(ide_xfer *x)
{
    return x->u->bus->ctrl;
}

static void unmap_all(ide_xfer *x)
{
    for (unsigned i = 0; i < x->niov; i++) {
        H->dma_unmap(dma_dev(x), x->iov[i].iov_base, x->iov[i].iov_len, x->to_guest);
    }
    x->niov = 0;
}

static void finish(ide_xfer *x, int err)
{
    unmap_all(x);
    ide_xfer_free_sg(x);
    x->end(x, x->cancel ? -ECANCELED : err);
}

/* Map the next piece into x->iov: its length, or -EFAULT (not RAM),
 * -EINVAL (the table ended before the data). */
static int64_t map_piece(ide_xfer *x)
{
    uint64_t total = 0;

    while (total < x->left && total < PIECE_MAX && x->niov < IDE_MAX_IOV &&
           x->sg_i < x->sg_n) {
        ide_sg *e = &x->sg[x->sg_i];
        uint64_t want = e->len - x->sg_off, n;
        void *p;

        want = want < x->left - total ? want : x->left - total;
        want = want < PIECE_MAX - total ? want : PIECE_MAX - total;
        n = want;
        p = H->dma_map(dma_dev(x), e->addr + x->sg_off, &n, x->to_guest);
        if (!p || !n) {
            ide_log(x->u, "DMA to 0x%llx: not RAM", (unsigned long long)(e->addr + x->sg_off));
            return -EFAULT;
        }
        n = n < want ? n : want;
        x->iov[x->niov++] = (struct iovec){p, n};
        total += n;
        x->sg_off += n;
        if (x->sg_off >= e->len) {
            x->sg_i++;
            x->sg_off = 0;
        }
    }
    if (!total && x->left) {
        ide_log(x->u, "PRD table ends %llu bytes before the data",
                (unsigned long long)x->left);
        return -EINVAL;
    }
    return (int64_t)total;
}

static void run_piece(ide_xfer *x);

static void piece_done(void *opaque, int ret)
{
    ide_xfer *x = opaque;
    uint64_t n = 0;

    x->busy = false;
    for (unsigned i = 0; i < x->niov; i++) {
        n += x->iov[i].iov_len;
    }
    unmap_all(x);
    if (ret < 0 || x->cancel) {
        finish(x, ret);
        return;
    }
    x->done += n;
    x->off += n;
    x->left -= n;
    if (!x->left) {
        finish(x, 0);
    } else {
        run_piece(x);
    }
}

static void run_piece(ide_xfer *x)
{
    int64_t n = map_piece(x);
    int ret;

    if (n < 0) {
        finish(x, (int)n);
        return;
    }
    x->busy = true;
    ret = H->drive_submit(x->u->drive, x->to_guest ? TES_BLK_READ : TES_BLK_WRITE, x->off,
                          x->iov, x->niov, (uint64_t)n,
                          !x->to_guest && x->fua ? TES_BLK_FUA : 0, piece_done, x);
    if (ret < 0) {
        x->busy = false;
        finish(x, ret);
    }
}

/* Generated data: u->buf <-> the scatter list, synchronously. */
static void copy_buf(ide_xfer *x)
{
    int err = 0;

    while (x->left && !err) {
        ide_sg *e = x->sg_i < x->sg_n ? &x->sg[x->sg_i] : NULL;
        uint64_t n;

        if (!e) {
            ide_log(x->u, "PRD table ends %llu bytes before the data",
                    (unsigned long long)x->left);
            err = -EINVAL;
            break;
        }
        n = e->len - x->sg_off < x->left ? e->len - x->sg_off : x->left;
        ata_dma_depth++;
        if ((x->to_guest ? H->dma_write(dma_dev(x), e->addr + x->sg_off, x->u->buf + x->done, n)
                         : H->dma_read(dma_dev(x), e->addr + x->sg_off, x->u->buf + x->done,
                                       n)) != TES_MEM_OK) {
            ide_log(x->u, "DMA to 0x%llx: not RAM", (unsigned long long)(e->addr + x->sg_off));
            err = -EFAULT;
        }
        ata_dma_depth--;
        x->done += n;
        x->left -= n;
        x->sg_off += n;
        if (x->sg_off >= e->len) {
            x->sg_i++;
            x->sg_off = 0;
        }
    }
    finish(x, err);
}

/* x->end may run before this returns (generated data, bad tables). */
void ide_xfer_start(ide_xfer *x)
{
    x->done = 0;
    x->niov = 0;
    x->busy = false;
    x->cancel = false;
    if (x->from_buf) {
        if (x->left > IDE_BUF_SIZE) {
            x->left = IDE_BUF_SIZE;
        }
        copy_buf(x);
    } else if (!x->left) {
        finish(x, 0);
    } else {
        run_piece(x);
    }
}
