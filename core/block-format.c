/*
 * tessera core: opening a drive's image — cache modes to open flags,
 * format probing (QEMU's rules and warning), the snapshot=on overlay, and
 * the qcow2 driver for qcow2 images. block.c does the I/O.
 */
#define _GNU_SOURCE /* O_DIRECT */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"
#include "block-qcow2.h"

/* cache= to open flags (QEMU: none = O_DIRECT, writethrough = O_DSYNC). */
static int cache_flags(const char *cache, bool *no_flush, bool *sync_meta)
{
    *no_flush = cache && !strcmp(cache, "unsafe");
    *sync_meta = cache && (!strcmp(cache, "writethrough") || !strcmp(cache, "directsync"));
    if (cache && !strcmp(cache, "none")) {
        return O_DIRECT;
    }
    if (cache && !strcmp(cache, "directsync")) {
        return O_DIRECT | O_DSYNC;
    }
    return *sync_meta ? O_DSYNC : 0;
}

static bool open_fds(drive_image *im, const drive_image_opts *o, const char *path, bool ro,
                     int cflags, char **errp)
{
    int flags = (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC;

    im->fd = open(path, flags | cflags);
    if (im->fd < 0 && errno == EINVAL && (cflags & O_DIRECT)) {
        core_set_error(errp, "drive '%s': cannot open '%s' with cache=%s: the filesystem does "
                       "not support O_DIRECT", o->id, path, o->cache);
        return false;
    }
    im->fd_buf = im->fd >= 0 && (cflags & O_DIRECT) ? open(path, flags) : im->fd;
    if (im->fd < 0 || im->fd_buf < 0) {
        core_set_error(errp, "drive '%s': cannot open '%s': %s", o->id, path, strerror(errno));
        return false;
    }
    return true;
}

/* A directory opens read-only and reads as EISDIR; a FIFO or a character
 * device has no size: neither is a disk image. */
static bool check_file(drive_image *im, const drive_image_opts *o, char **errp)
{
    struct stat st;

    if (fstat(im->fd, &st) < 0) {
        core_set_error(errp, "drive '%s': cannot open '%s': %s", o->id, o->path, strerror(errno));
        return false;
    }
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        core_set_error(errp, "drive '%s': '%s' is %s, not a disk image", o->id, o->path,
                       S_ISDIR(st.st_mode) ? "a directory" : "not a regular file or block device");
        return false;
    }
    im->size = st.st_size;
    if (S_ISBLK(st.st_mode) && ioctl(im->fd, BLKGETSIZE64, &im->size) < 0) {
        core_set_error(errp, "drive '%s': cannot get the size of '%s': %s", o->id, o->path,
                       strerror(errno));
        return false;
    }
    return true;
}

/* format= or QEMU's probe: qcow2 by magic, else raw with a warning. */
static bool is_qcow2(drive_image *im, const drive_image_opts *o)
{
    uint8_t magic[8] = {0};

    if (o->format) {
        return !strcmp(o->format, "qcow2");
    }
    if (pread(im->fd_buf, magic, sizeof(magic), 0) == sizeof(magic) && qcow2_probe(magic, 8)) {
        return true;
    }
    im->probed_raw = true;
    fprintf(stderr, "tessera: WARNING: Image format was not specified for '%s' and probing "
            "guessed raw. Automatically detecting the format is dangerous for raw images, write "
            "operations on block 0 will be restricted. Specify the 'raw' format explicitly to "
            "remove the restrictions.\n", o->path);
    return false;
}

static bool open_one(drive_image *im, const drive_image_opts *o, const char *path, bool ro,
                     char **errp)
{
    bool no_flush, sync_meta;
    int cflags = cache_flags(o->cache, &no_flush, &sync_meta);
    qcow2_opts qo = {.readonly = ro, .oflags = cflags & O_DIRECT, .no_sync = no_flush,
                     .sync_meta = sync_meta, .backing = o->backing,
                     .backing_fmt = o->backing_fmt, .no_backing = o->no_backing,
                     .lazy_refcounts = o->lazy_refcounts};

    im->no_flush = no_flush;
    if (!open_fds(im, o, path, ro, cflags, errp) || !check_file(im, o, errp)) {
        return false;
    }
    if (!is_qcow2(im, o)) {
        if (o->backing || o->no_backing || o->lazy_refcounts) {
            core_set_error(errp, "drive '%s': backing and lazy-refcounts apply to qcow2 "
                           "images only", o->id);
            return false;
        }
        return true;
    }
    im->qc = qcow2_open(im->fd, im->fd_buf, path, &qo, errp);
    if (im->qc) {
        im->size = qcow2_size(im->qc);
    }
    return im->qc != NULL;
}

/* snapshot=on: a qcow2 overlay in $TMPDIR over the image (read-only), its
 * name unlinked once open so it goes away however we exit. */
static bool open_overlay(drive_image *im, const drive_image_opts *o, char **errp)
{
    drive_image base = {.fd = -1, .fd_buf = -1};
    drive_image_opts bo = *o;
    g_autofree char *tmp = NULL, *abs = NULL;
    const char *fmt;
    int tfd;
    bool ok;

    bo.snapshot = false;
    if (!open_one(&base, &bo, o->path, true, errp)) {
        drive_image_close(&base);
        return false;
    }
    fmt = base.qc ? "qcow2" : "raw";
    drive_image_close(&base);
    abs = realpath(o->path, NULL);
    tfd = g_file_open_tmp("tessera-snapshot-XXXXXX.qcow2", &tmp, NULL);
    if (tfd < 0 || !abs) {
        core_set_error(errp, "drive '%s': cannot create a snapshot overlay: %s", o->id,
                       strerror(errno));
        if (tfd >= 0) {
            close(tfd);
        }
        return false;
    }
    close(tfd);
    bo.format = "qcow2";
    ok = qcow2_create(tmp, base.size, abs, fmt, errp) && open_one(im, &bo, tmp, false, errp);
    unlink(tmp);
    return ok;
}

bool drive_image_open(drive_image *im, const drive_image_opts *o, char **errp)
{
    memset(im, 0, sizeof(*im));
    im->fd = im->fd_buf = -1;
    if (o->snapshot && (o->backing || o->no_backing)) {
        core_set_error(errp, "drive '%s': snapshot=on and a backing override do not go "
                       "together", o->id);
        return false;
    }
    if (o->snapshot) {
        return open_overlay(im, o, errp);
    }
    return open_one(im, o, o->path, o->readonly, errp);
}

void drive_image_close(drive_image *im)
{
    qcow2_close(im->qc);
    im->qc = NULL;
    if (im->fd_buf >= 0 && im->fd_buf != im->fd) {
        close(im->fd_buf);
    }
    if (im->fd >= 0) {
        close(im->fd);
    }
    im->fd = im->fd_buf = -1;
}

bool drive_image_block0_refused(uint64_t off, const struct iovec *iov, unsigned iovcnt)
{
    uint8_t head[8];
    size_t got = 0;

    if (off != 0) {
        return false;
    }
    for (unsigned i = 0; i < iovcnt && got < sizeof(head); i++) {
        size_t n = MIN(iov[i].iov_len, sizeof(head) - got);
        memcpy(head + got, iov[i].iov_base, n);
        got += n;
    }
    return qcow2_probe(head, got);
}
