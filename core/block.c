/*
 * tessera core: block backends (-drive).
 *
 *   -drive file=PATH,if=none,id=ID[,format=raw|qcow2][,readonly=on|off]
 *          [,cache=writeback|none|writethrough|directsync|unsafe]
 *          [,aio=threads|io_uring|native][,snapshot=on|off]
 *   -device nvme,drive=ID,...
 *
 * Without file= a drive is empty (a CD-ROM's, QEMU's): size 0, every
 * request -ENOMEDIUM, until the monitor gives it a medium (block-media.c
 * through drive_medium_open/drive_medium_close: the image comes and goes,
 * the drive with its ring, id and device stays). qcow2 also takes
 * lazy-refcounts=on|off and a backing override, backing.file.filename=
 * [,backing.driver=] or backing=null; discard=ignore|off drops guests'
 * discards.
 *
 * Formats: raw, and qcow2 (block-qcow2*.c). Without format= the image is
 * probed as QEMU does: qcow2 by its magic, else raw with QEMU's warning,
 * and then a write to block 0 that would make it probe as qcow2 is refused
 * (-EPERM). cache=none/directsync open with O_DIRECT (an unaligned guest
 * buffer falls back to a second, buffered descriptor), writethrough and
 * directsync with O_DSYNC, unsafe makes flush a no-op. aio=threads uses the
 * thread pool below instead of io_uring (native = io_uring here).
 * snapshot=on opens a temporary qcow2 overlay over the image, unlinked as
 * soon as it is open: writes vanish at exit and the image is untouched.
 *
 * A qcow2 request whose clusters are allocated and whose L2 table is
 * cached is mapped to its host offset without blocking and goes down the
 * raw path; the others (allocation, backing, compressed, zeroes, discard,
 * flush) run in a per-drive thread pool that calls qcow2_request.
 *
 * Asynchronous requests (ABI 1.1, drive_submit): every drive opens one
 * io_uring of RING_ENTRIES at start-up; requests go straight from the
 * caller's iovecs (guest memory) to the kernel. The ring signals an eventfd
 * that the GLib main loop watches; its handler takes the machine lock, reaps
 * completions and runs the callbacks. The ring has no fixed files and no
 * setup flags: registered descriptors (IOSQE_FIXED_FILE) took fget/fput
 * out of the profile but measured no gain in three sessions, and the
 * vCPU thread and the main loop both submit and reap, which SINGLE_ISSUER
 * and DEFER_TASKRUN forbid; COOP_TASKRUN measured no gain on page-cache
 * reads, which complete inside the submission, and would let an
 * asynchronous completion wait for the submitting vCPU thread's next
 * kernel entry (docs/benchmarks.md, perf14d). Where the kernel refuses
 * io_uring (seccomp, io_uring_disabled, or TESSERA_NO_IO_URING=1 for tests) a small
 * thread pool does the same work with preadv/pwritev/fdatasync/fallocate
 * and completes through the same eventfd; we say so once.
 *
 * The synchronous calls (drive_pread/pwrite/flush, used at realize time
 * and by tests) use plain pread/pwrite so they never steal the ring's
 * completions.
 */
#define _GNU_SOURCE /* fallocate, pwritev2 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <liburing.h>
#include <poll.h>
#include <glib-unix.h>
#include <stddef.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "block-int.h"
#include "block-qcow2.h"

#define POOL_THREADS 4
#define READ_ALIGN 4096       /* reads may cover the partial last block up to this */

GPtrArray *block_drives;

static void stats_account(tes_drive *d, tes_blk_op op, uint64_t offset, uint64_t len, int ret);

typedef struct drive_opts {
    char *file, *iface, *id, *format, *readonly, *cache, *aio, *snapshot;
    char *discard, *lazy, *backing, *backing_file, *backing_fmt; /* qcow2's own keys */
} drive_opts;

/* ---- option parsing ---- */

/* Split "k=v,k=v" where ",," stands for a literal comma (QEMU's rule). */
static GPtrArray *split_opts(const char *s)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    GString *cur = g_string_new(NULL);

    for (; *s; s++) {
        if (*s == ',' && s[1] == ',') {
            g_string_append_c(cur, ',');
            s++;
        } else if (*s == ',') {
            g_ptr_array_add(out, g_string_free(cur, FALSE));
            cur = g_string_new(NULL);
        } else {
            g_string_append_c(cur, *s);
        }
    }
    g_ptr_array_add(out, g_string_free(cur, FALSE));
    return out;
}

/* Options with a fixed set of values (QEMU's): a misspelt value is refused
 * rather than silently dropped. discard, detect-zeroes and media are
 * accepted and otherwise ignored; cache, aio and snapshot are also stored. */
static const struct {
    const char *key;
    const char *const values[6];
} ignored_opts[] = {
    {"cache", {"none", "writeback", "writethrough", "directsync", "unsafe"}},
    {"aio", {"threads", "native", "io_uring"}},
    {"discard", {"ignore", "off", "unmap", "on"}},
    {"detect-zeroes", {"off", "on", "unmap"}},
    {"media", {"disk"}},
    {"snapshot", {"on", "off"}},
    {"lazy-refcounts", {"on", "off"}},
    {"backing", {"null"}},
    {"backing.driver", {"raw", "qcow2"}},
};

/* -1: not an ignored option; else whether val is one of its values. */
static int ignored_opt(const char *key, const char *val, char **errp)
{
    for (size_t i = 0; i < G_N_ELEMENTS(ignored_opts); i++) {
        const char *const *v = ignored_opts[i].values;
        g_autofree char *list = NULL;

        if (strcmp(key, ignored_opts[i].key) != 0) {
            continue;
        }
        for (size_t j = 0; j < G_N_ELEMENTS(ignored_opts[i].values) && v[j]; j++) {
            if (strcmp(val, v[j]) == 0) {
                return 1;
            }
        }
        list = g_strjoinv("|", (char **)v);
        core_set_error(errp, "drive: %s=%s is invalid (expected %s)", key, val, list);
        return 0;
    }
    return -1;
}

/* The options drive_opts keeps (cache, aio and snapshot after their values
 * were checked against ignored_opts). */
static const struct {
    const char *key;
    size_t off;
} opt_slots[] = {
    {"file", offsetof(drive_opts, file)},         {"if", offsetof(drive_opts, iface)},
    {"id", offsetof(drive_opts, id)},             {"format", offsetof(drive_opts, format)},
    {"readonly", offsetof(drive_opts, readonly)}, {"cache", offsetof(drive_opts, cache)},
    {"aio", offsetof(drive_opts, aio)},           {"snapshot", offsetof(drive_opts, snapshot)},
    {"discard", offsetof(drive_opts, discard)},   {"lazy-refcounts", offsetof(drive_opts, lazy)},
    {"backing", offsetof(drive_opts, backing)},
    {"backing.file.filename", offsetof(drive_opts, backing_file)},
    {"backing.driver", offsetof(drive_opts, backing_fmt)},
};

static bool set_opt(drive_opts *o, const char *key, const char *val, char **errp)
{
    int ign = ignored_opt(key, val, errp);

    if (ign == 0) {
        return false;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(opt_slots); i++) {
        if (!strcmp(key, opt_slots[i].key)) {
            char **slot = (char **)((char *)o + opt_slots[i].off);
            g_free(*slot);
            *slot = g_strdup(val);
            return true;
        }
    }
    if (ign < 0) {
        core_set_error(errp, "drive: unknown option '%s'", key);
        return false;
    }
    return true;
}

static void opts_clear(drive_opts *o)
{
    g_free(o->file);
    g_free(o->iface);
    g_free(o->id);
    g_free(o->format);
    g_free(o->readonly);
    g_free(o->cache);
    g_free(o->aio);
    g_free(o->snapshot);
    g_free(o->discard);
    g_free(o->lazy);
    g_free(o->backing);
    g_free(o->backing_file);
    g_free(o->backing_fmt);
}

static bool parse_opts(const char *optarg, drive_opts *o, char **errp)
{
    GPtrArray *items = split_opts(optarg);
    bool ok = true;

    for (guint i = 0; i < items->len && ok; i++) {
        char *item = g_ptr_array_index(items, i);
        char *eq = strchr(item, '=');
        if (!*item) {
            continue;
        }
        if (!eq) {
            core_set_error(errp, "drive: option '%s' wants a value (%s=...)", item, item);
            ok = false;
            break;
        }
        *eq = '\0';
        ok = set_opt(o, item, eq + 1, errp);
    }
    g_ptr_array_free(items, TRUE);
    return ok;
}

static bool check_medium(drive_opts *o, bool *ro, char **errp);

static bool check_opts(drive_opts *o, bool *ro, char **errp)
{
    if (o->iface && strcmp(o->iface, "none") != 0) {
        core_set_error(errp, "drive: if=%s not supported, use if=none with -device", o->iface);
        return false;
    }
    if (!o->id) {
        core_set_error(errp, "drive: id= is required (if=none drives are named by -device drive=ID)");
        return false;
    }
    /* No file=: an empty drive (QEMU's), for a CD-ROM's medium to come. */
    if (drive_find(o->id)) {
        core_set_error(errp, "drive '%s': duplicate id", o->id);
        return false;
    }
    *ro = false;
    return check_medium(o, ro, errp);
}

/* format= and readonly= (*ro keeps its value when readonly= is absent). */
static bool check_medium(drive_opts *o, bool *ro, char **errp)
{
    if (o->format && strcmp(o->format, "raw") != 0 && strcmp(o->format, "qcow2") != 0) {
        core_set_error(errp, "drive '%s': unknown format '%s' (expected raw or qcow2)", o->id,
                       o->format);
        return false;
    }
    if (o->backing && o->backing_file) {
        core_set_error(errp, "drive '%s': backing=null and backing.file.filename= exclude each "
                       "other", o->id);
        return false;
    }
    if (o->readonly && !strcmp(o->readonly, "on")) {
        *ro = true;
    } else if (o->readonly && !strcmp(o->readonly, "off")) {
        *ro = false;
    } else if (o->readonly) {
        core_set_error(errp, "drive '%s': readonly wants on or off, got '%s'", o->id, o->readonly);
        return false;
    }
    return true;
}

/* ---- opening ---- */

static bool aio_init(tes_drive *d, char **errp);
static void aio_cleanup(tes_drive *d);

static void fmt_work(gpointer data, gpointer user);

/* The image of o->file into d (d->path set); aio_init is separate. */
static drive_image_opts image_opts(const drive_opts *o, const char *id, const char *path,
                                   bool readonly)
{
    return (drive_image_opts){.id = id, .path = path, .format = o->format, .cache = o->cache,
                              .readonly = readonly,
                              .snapshot = o->snapshot && !strcmp(o->snapshot, "on"),
                              .backing = o->backing_file, .backing_fmt = o->backing_fmt,
                              .no_backing = o->backing != NULL,
                              .lazy_refcounts = !o->lazy ? 0 : !strcmp(o->lazy, "on") ? 1 : 2};
}

static bool medium_open(tes_drive *d, const drive_opts *o, char **errp)
{
    drive_image im;
    drive_image_opts io = image_opts(o, d->id, d->path, d->readonly);
    bool ok = drive_image_open(&im, &io, errp);

    d->fd = im.fd;
    d->fd_buf = im.fd_buf;
    d->qc = im.qc;
    d->probed_raw = im.probed_raw;
    d->no_flush = im.no_flush;
    d->size = im.size;
    d->discard_ignore = o->discard && (!strcmp(o->discard, "ignore") ||
                                       !strcmp(o->discard, "off"));
    if (!ok) {
        d->fd = d->fd_buf = -1;
        d->qc = NULL;
        d->size = 0;
        return false;
    }
    if (d->qc) {
        d->fmt_pool = g_thread_pool_new(fmt_work, d, POOL_THREADS, FALSE, NULL);
    }
    d->has_medium = true;
    blk_ring_files(d);
    return true;
}

static bool drive_open(tes_drive *d, const drive_opts *o, char **errp)
{
    d->aio_threads = o->aio && !strcmp(o->aio, "threads");
    if (d->path && !medium_open(d, o, errp)) {
        return false;
    }
    return aio_init(d, errp);
}

static void drive_free(tes_drive *d)
{
    blk_batch_forget(d);
    aio_cleanup(d);
    drive_image_close(&(drive_image){.fd = d->fd, .fd_buf = d->fd_buf, .qc = d->qc});
    g_free(d->id);
    g_free(d->path);
    g_free(d->user);
    g_free(d);
}

bool drive_opts_check(const char *optarg, char **errp)
{
    drive_opts o = {0};
    bool ro, ok = parse_opts(optarg, &o, errp) && check_opts(&o, &ro, errp);

    opts_clear(&o);
    return ok;
}

bool drive_add(const char *optarg, char **errp)
{
    drive_opts o = {0};
    tes_drive *d;
    bool ro;

    if (!parse_opts(optarg, &o, errp) || !check_opts(&o, &ro, errp)) {
        opts_clear(&o);
        return false;
    }
    d = g_new0(tes_drive, 1);
    d->fd = d->fd_buf = -1;
    d->efd = -1;
    g_mutex_init(&d->done_lock);
    g_queue_init(&d->pending);
    g_queue_init(&d->done);
    d->id = g_strdup(o.id);
    d->path = g_strdup(o.file);
    d->readonly = ro;
    if (!drive_open(d, &o, errp)) {
        opts_clear(&o);
        drive_free(d);
        return false;
    }
    opts_clear(&o);
    if (!block_drives) {
        block_drives = g_ptr_array_new();
    }
    g_ptr_array_add(block_drives, d);
    return true;
}

tes_drive *drive_find(const char *id)
{
    for (guint i = 0; block_drives && id && i < block_drives->len; i++) {
        tes_drive *d = g_ptr_array_index(block_drives, i);
        if (!strcmp(d->id, id)) {
            return d;
        }
    }
    return NULL;
}

uint64_t drive_size(tes_drive *d)
{
    return d && d->has_medium ? d->size : 0;
}

bool drive_has_medium(tes_drive *d)
{
    return d && d->has_medium;
}

/* ---- removable media: the image comes and goes, the drive stays ---- */

void drive_medium_close(tes_drive *d)
{
    if (!d || !d->has_medium) {
        return;
    }
    drive_drain(d);
    if (d->fmt_pool) {
        g_thread_pool_free(d->fmt_pool, FALSE, TRUE);
        d->fmt_pool = NULL;
    }
    drive_image_close(&(drive_image){.fd = d->fd, .fd_buf = d->fd_buf, .qc = d->qc});
    d->fd = d->fd_buf = -1;
    d->qc = NULL;
    d->size = 0;
    d->probed_raw = d->no_flush = false;
    d->has_medium = false;
    blk_ring_files(d);
    g_clear_pointer(&d->path, g_free);
}

/* -drive keys for a medium: file (required), format, readonly, cache,
 * snapshot; aio stays the drive's. ro_def when readonly= is absent. */
bool drive_medium_open(tes_drive *d, const char *optarg, bool ro_def, char **errp)
{
    drive_opts o = {0};
    bool ok = parse_opts(optarg, &o, errp);

    if (ok && !o.file) {
        core_set_error(errp, "drive '%s': the medium needs file=", d->id);
        ok = false;
    }
    if (ok && d->has_medium) {
        core_set_error(errp, "There already is a medium in device '%s'", d->id);
        ok = false;
    }
    if (ok) {
        g_free(o.id);
        o.id = g_strdup(d->id);
        d->readonly = ro_def;
        ok = check_medium(&o, &d->readonly, errp);
    }
    if (ok) {
        d->path = g_strdup(o.file);
        ok = medium_open(d, &o, errp);
        if (!ok) {
            g_clear_pointer(&d->path, g_free);
        }
    }
    opts_clear(&o);
    return ok;
}

/* Whether drive_medium_open(d, optarg, ro_def) would succeed, d left as
 * it is: the image is opened and closed again (blockdev-change-medium
 * keeps the old medium when the new one cannot be opened, as QEMU). */
bool drive_medium_check(tes_drive *d, const char *optarg, bool ro_def, char **errp)
{
    drive_opts o = {0};
    bool ro = ro_def;
    bool ok = parse_opts(optarg, &o, errp);
    drive_image im;
    drive_image_opts io;

    if (ok && !o.file) {
        core_set_error(errp, "drive '%s': the medium needs file=", d->id);
        ok = false;
    }
    if (ok) {
        g_free(o.id);
        o.id = g_strdup(d->id);
        ok = check_medium(&o, &ro, errp);
    }
    if (ok) {
        io = image_opts(&o, d->id, o.file, ro);
        ok = drive_image_open(&im, &io, errp);
        if (ok) {
            drive_image_close(&im);
        }
    }
    opts_clear(&o);
    return ok;
}

void drive_set_media_ops(tes_drive *d, const tes_drive_media_ops *ops, void *opaque)
{
    if (!d) {
        return;
    }
    memset(&d->mops_copy, 0, sizeof(d->mops_copy));
    if (ops) {
        size_t n = ops->size < sizeof(d->mops_copy) ? ops->size : sizeof(d->mops_copy);
        memcpy(&d->mops_copy, ops, n);
    }
    d->mops = ops ? &d->mops_copy : NULL;
    d->mops_opaque = opaque;
}

const tes_drive_media_ops *drive_media_ops(tes_drive *d, void **opaque)
{
    *opaque = d ? d->mops_opaque : NULL;
    return d ? d->mops : NULL;
}

bool drive_readonly(tes_drive *d)
{
    return !d || d->readonly;
}

const char *drive_format_name(tes_drive *d)
{
    return d && d->qc ? "qcow2" : "raw";
}

/* One device per drive, as QEMU: two guests' drivers writing one image
 * through two caches corrupt it. The caller (set_drive) does not claim again
 * for the device that holds the drive, so any holder is another device:
 * names cannot tell them apart, since a device without id= is named after
 * its type until it is realized. */
bool drive_claim(tes_drive *d, const char *devname, char **errp)
{
    if (d->user) {
        core_set_error(errp, "drive '%s' is already in use by device '%s' (a drive backs "
                       "one device)", d->id, d->user);
        return false;
    }
    g_free(d->user);
    d->user = g_strdup(devname);
    return true;
}

void drive_rename_user(tes_drive *d, const char *name)
{
    if (d && d->user) {
        g_free(d->user);
        d->user = g_strdup(name);
    }
}

void drive_release(tes_drive *d)
{
    if (d) {
        g_free(d->user);
        d->user = NULL;
        d->mops = NULL;
        d->mops_opaque = NULL;
    }
}

void drives_close_all(void)
{
    if (!block_drives) {
        return;
    }
    for (guint i = 0; i < block_drives->len; i++) {
        drive_free(g_ptr_array_index(block_drives, i));
    }
    g_ptr_array_free(block_drives, TRUE);
    block_drives = NULL;
}

/* ---- synchronous I/O ---- */

static ssize_t sync_one(tes_drive *d, int op, uint64_t off, void *buf, size_t len)
{
    ssize_t r;

    /* The buffered descriptor: callers' buffers need no O_DIRECT alignment. */
    if (op == 'r') {
        r = pread(d->fd_buf, buf, len, off);
    } else if (op == 'w') {
        r = pwrite(d->fd_buf, buf, len, off);
    } else {
        r = d->no_flush ? 0 : fdatasync(d->fd_buf);
    }
    return r < 0 ? -errno : r;
}

/* The whole of len, looping on short transfers; reads past EOF give zeros. */
static int drive_rw(tes_drive *d, int op, uint64_t off, uint8_t *buf, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t r = sync_one(d, op, off + done, buf + done, len - done);
        if (r == -EINTR || r == -EAGAIN) {
            continue;
        }
        if (r < 0) {
            return r;
        }
        if (r == 0) {
            if (op == 'w') {
                return -EIO;
            }
            memset(buf + done, 0, len - done);
            return 0;
        }
        done += r;
    }
    return 0;
}

int drive_pread(tes_drive *d, uint64_t off, void *buf, size_t len)
{
    struct iovec v = {buf, len};

    if (d && !d->has_medium) {
        return -ENOMEDIUM;
    }
    if (d && d->qc) {
        return qcow2_request(d->qc, TES_BLK_READ, off, &v, 1, len, 0);
    }
    return d ? drive_rw(d, 'r', off, buf, len) : -ENODEV;
}

int drive_pwrite(tes_drive *d, uint64_t off, const void *buf, size_t len)
{
    if (!d) {
        return -ENODEV;
    }
    struct iovec v = {(void *)buf, len};

    if (!d->has_medium) {
        return -ENOMEDIUM;
    }
    if (d->readonly) {
        return -EROFS;
    }
    if (d->qc) {
        return qcow2_request(d->qc, TES_BLK_WRITE, off, &v, 1, len, 0);
    }
    if (d->probed_raw && drive_image_block0_refused(off, &v, 1)) {
        return -EPERM;
    }
    /* drive_rw only reads buf for writes. */
    return drive_rw(d, 'w', off, (uint8_t *)buf, len);
}

int drive_flush(tes_drive *d)
{
    ssize_t r;

    if (!d) {
        return -ENODEV;
    }
    if (!d->has_medium) {
        return -ENOMEDIUM;
    }
    if (d->qc && !d->no_flush) {
        return qcow2_request(d->qc, TES_BLK_FLUSH, 0, NULL, 0, 0, 0);
    }
    do {
        r = sync_one(d, 'f', 0, NULL, 0);
    } while (r == -EINTR || r == -EAGAIN);
    return r < 0 ? (int)r : 0;
}

/* ---- asynchronous requests (ABI 1.1) ---- */


static void tell_no_ring(const char *why)
{
    static bool told;

    if (!told) {
        fprintf(stderr, "tessera: io_uring unavailable (%s), using a thread pool for block I/O\n",
                why);
        told = true;
    }
}

/* Skip n bytes of the remaining iovecs (after a short transfer). */
void blk_iov_advance(blk_req *r, uint64_t n)
{
    while (n && r->iovcnt) {
        if (n < r->iov->iov_len) {
            r->iov->iov_base = (uint8_t *)r->iov->iov_base + n;
            r->iov->iov_len -= n;
            return;
        }
        n -= r->iov->iov_len;
        r->iov++;
        r->iovcnt--;
    }
}

/* A read hit the end of the file: the rest of the request reads zeroes. */
void blk_iov_zero_rest(blk_req *r)
{
    for (unsigned i = 0; i < r->iovcnt; i++) {
        memset(r->iov[i].iov_base, 0, r->iov[i].iov_len);
    }
}

/* The fallocate mode of write-zeroes/discard (fallocate(2)). */
int blk_zero_mode(blk_req *r)
{
    if (r->op == TES_BLK_DISCARD || (r->flags & TES_BLK_MAY_UNMAP)) {
        return FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
    }
    return FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
}

/* The filesystem refused that fallocate mode: write zeroes from now on. */
void blk_zero_fallback(blk_req *r)
{
    int bit = blk_zero_mode(r) & FALLOC_FL_ZERO_RANGE ? 1 : 2;

    g_atomic_int_or(&r->d->no_fallocate, bit);
    r->zero_write = true;
}

static bool zero_refused(blk_req *r)
{
    int bit = blk_zero_mode(r) & FALLOC_FL_ZERO_RANGE ? 1 : 2;

    return g_atomic_int_get(&r->d->no_fallocate) & bit;
}

/* Point the iovec at the next chunk of zeroes to write. */
void blk_zero_chunk(blk_req *r)
{
    uint64_t n = MIN(r->len - r->done, ZERO_CHUNK);

    if (!r->zbuf) {
        r->zbuf = g_malloc0(MIN(r->len, ZERO_CHUNK));
    }
    r->iov_inline[0].iov_base = r->zbuf;
    r->iov_inline[0].iov_len = n;
    r->iov = r->iov_inline;
    r->iovcnt = 1;
}

static bool range_ok(tes_drive *d, blk_req *r)
{
    uint64_t limit = d->size;

    if (r->op == TES_BLK_FLUSH) {
        return true;
    }
    if (r->op == TES_BLK_READ) {
        /* A partial last block reads with its tail as zeroes. */
        limit = (d->size + READ_ALIGN - 1) / READ_ALIGN * READ_ALIGN;
    }
    return r->offset <= limit && r->len <= limit - r->offset;
}

/* Every field but the inline iovecs (filled as needed): a memset of the
 * whole became a `rep stos`, whose start-up was the most expensive
 * instruction of a request's submission (perf). */
static void req_init(blk_req *r, tes_drive *d, tes_blk_op op, uint64_t offset, uint64_t len,
                     unsigned flags)
{
    r->d = d;
    r->op = op;
    r->flags = flags;
    r->offset = offset;
    r->len = len;
    r->done = 0;
    r->iov = r->iov_alloc = NULL;
    r->iovcnt = 0;
    r->zbuf = NULL;
    r->zero_write = r->buffered = false;
    r->ret = 0;
    r->cb = NULL;
    r->opaque = r->next_spare = NULL;
}

static blk_req *req_new(tes_drive *d, tes_blk_op op, uint64_t offset, const struct iovec *iov,
                        unsigned iovcnt, uint64_t len, unsigned flags)
{
    blk_req *r = d->spare;

    if (r) {
        d->spare = r->next_spare;
        d->n_spare--;
    } else {
        r = g_new(blk_req, 1);
    }
    req_init(r, d, op, offset, len, flags);
    if (op == TES_BLK_READ || op == TES_BLK_WRITE) {
        /* Copy the array (not the data): short transfers advance it. One
         * buffer (most guest requests) without the memcpy call and loop. */
        r->iovcnt = iovcnt;
        if (iovcnt == 1) {
            r->iov = r->iov_inline;
            r->iov_inline[0] = iov[0];
            r->len = iov[0].iov_len;
            return r;
        }
        r->iov = iovcnt <= G_N_ELEMENTS(r->iov_inline) ? r->iov_inline
                                                       : (r->iov_alloc = g_new(struct iovec, iovcnt));
        memcpy(r->iov, iov, sizeof(*iov) * iovcnt);
        r->len = 0;
        for (unsigned i = 0; i < iovcnt; i++) {
            r->len += iov[i].iov_len;
        }
    } else if (op == TES_BLK_FLUSH) {
        r->len = 0;
    }
    return r;
}

static inline void req_free(blk_req *r)
{
    tes_drive *d = r->d;

    if (r->iov_alloc || r->zbuf) { /* rare: no two calls of g_free(NULL) a request */
        g_free(r->iov_alloc);
        g_free(r->zbuf);
    }
    if (d->n_spare < SPARE_REQS) {
        r->next_spare = d->spare;
        d->spare = r;
        d->n_spare++;
    } else {
        g_free(r);
    }
}

static void spares_free(tes_drive *d)
{
    while (d->spare) {
        blk_req *r = d->spare;
        d->spare = r->next_spare;
        g_free(r);
    }
    d->n_spare = 0;
}

/* Run the callback (lock held, from reap). */
void blk_req_finish(blk_req *r, int ret)
{
    tes_drive *d = r->d;
    tes_blk_cb cb = r->cb;
    void *opaque = r->opaque;

    stats_account(d, r->op, r->offset, r->len, ret);
    req_free(r);
    d->inflight--;
    cb(opaque, ret);
}

/* Completed away from the ring (pool, early refusal): tell the loop. */
static void push_done(blk_req *r, int ret)
{
    uint64_t one = 1;
    tes_drive *d = r->d;

    r->ret = ret;
    g_mutex_lock(&d->done_lock);
    g_queue_push_tail(&d->done, r);
    g_mutex_unlock(&d->done_lock);
    if (write(d->efd, &one, sizeof(one)) < 0) {
        /* Only EAGAIN at a counter of 2^64-2: already signalled. */
    }
}

/* ---- the thread pool (no io_uring) ---- */

/* Read or write the rest of r; 0 or -errno. */
static int pool_rw(blk_req *r)
{
    int dsync = r->flags & TES_BLK_FUA ? RWF_DSYNC : 0;

    while (r->done < r->len) {
        uint64_t off = r->offset + r->done;
        int fd = r->buffered ? r->d->fd_buf : r->d->fd;
        ssize_t n = r->op == TES_BLK_READ ? preadv(fd, r->iov, r->iovcnt, off)
                                          : pwritev2(fd, r->iov, r->iovcnt, off, dsync);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (n < 0 && errno == EINVAL && !r->buffered && r->d->fd_buf != r->d->fd) {
            r->buffered = true; /* O_DIRECT and an unaligned buffer */
            continue;
        }
        if (n < 0) {
            return -errno;
        }
        if (n == 0) {
            if (r->op != TES_BLK_READ) {
                return -EIO;
            }
            blk_iov_zero_rest(r);
            return 0;
        }
        r->done += n;
        blk_iov_advance(r, n);
    }
    return 0;
}

static int pool_zero(blk_req *r)
{
    if (!zero_refused(r)) {
        if (fallocate(r->d->fd, blk_zero_mode(r), r->offset, r->len) == 0) {
            return 0;
        }
        if (errno != EOPNOTSUPP) {
            return -errno;
        }
        blk_zero_fallback(r);
    }
    while (r->done < r->len) {
        ssize_t n;

        blk_zero_chunk(r);
        n = pwritev(r->d->fd, r->iov, 1, r->offset + r->done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return n < 0 ? -errno : -EIO;
        }
        r->done += n;
    }
    return 0;
}

static void pool_work(gpointer data, gpointer user)
{
    blk_req *r = data;
    int ret;

    switch (r->op) {
    case TES_BLK_READ:
    case TES_BLK_WRITE:
        ret = pool_rw(r);
        break;
    case TES_BLK_FLUSH:
        ret = fdatasync(r->d->fd) < 0 ? -errno : 0;
        break;
    default:
        ret = pool_zero(r);
        break;
    }
    push_done(r, ret);
}

/* A qcow2 request the fast path could not map (see the top comment). */
static void fmt_work(gpointer data, gpointer user)
{
    blk_req *r = data;

    push_done(r, qcow2_request(r->d->qc, r->op, r->offset, r->iov, r->iovcnt, r->len, r->flags));
}

/* ---- the 1.1 entries ---- */

/* A qcow2 read or write on allocated, cached clusters becomes a raw
 * request at the host offset (FUA may need metadata: the pool). */
static bool fmt_fast(tes_drive *d, blk_req *r)
{
    uint64_t host;

    if ((r->op != TES_BLK_READ && r->op != TES_BLK_WRITE) || (r->flags & TES_BLK_FUA) ||
        !qcow2_map_fast(d->qc, r->op == TES_BLK_WRITE, r->offset, r->len, &host)) {
        return false;
    }
    r->offset = host;
    return true;
}

int drive_submit(tes_drive *d, tes_blk_op op, uint64_t offset, const struct iovec *iov,
                 unsigned iovcnt, uint64_t len, unsigned flags, tes_blk_cb cb, void *opaque)
{
    blk_req *r;

    if (!d) {
        return -ENODEV;
    }
    if (op < TES_BLK_READ || op > TES_BLK_DISCARD || !cb || (iovcnt && !iov)) {
        return -EINVAL;
    }
    r = req_new(d, op, offset, iov, iovcnt, len, flags);
    r->cb = cb;
    r->opaque = opaque;
    d->inflight++;
    /* Refusals go through cb too, after drive_submit returns. */
    if (!d->has_medium) {
        push_done(r, -ENOMEDIUM);
    } else if (op != TES_BLK_READ && op != TES_BLK_FLUSH && d->readonly) {
        push_done(r, -EROFS);
    } else if (!range_ok(d, r)) {
        push_done(r, -EINVAL);
    } else if ((r->len == 0 && op != TES_BLK_FLUSH) || (op == TES_BLK_FLUSH && d->no_flush) ||
               (op == TES_BLK_DISCARD && d->discard_ignore)) {
        push_done(r, 0);
    } else if (op == TES_BLK_WRITE && d->probed_raw &&
               drive_image_block0_refused(offset, r->iov, r->iovcnt)) {
        push_done(r, -EPERM);
    } else if (d->qc && !fmt_fast(d, r)) {
        g_thread_pool_push(d->fmt_pool, r, NULL);
    } else if ((op == TES_BLK_WRITE_ZEROES || op == TES_BLK_DISCARD) && zero_refused(r)) {
        r->zero_write = true;
        d->has_ring ? blk_ring_queue(d, r) : g_thread_pool_push(d->pool, r, NULL);
    } else if (d->has_ring) {
        blk_ring_queue(d, r);
    } else {
        g_thread_pool_push(d->pool, r, NULL);
    }
    return 0;
}

void drive_drain(tes_drive *d)
{
    if (!d) {
        return;
    }
    blk_reap(d);
    while (d->inflight > 0) {
        /* Called from a callback, blk_reap() has not submitted its batch yet. */
        if (d->has_ring) {
            blk_ring_submit(d);
        }
        blk_efd_wait(d);
        blk_reap(d);
    }
}

unsigned drive_inflight(tes_drive *d)
{
    return d ? d->inflight : 0;
}

/* ---- set-up and teardown ---- */

static bool force_pool;

void drives_force_thread_pool(bool on)
{
    force_pool = on;
}

static bool aio_init(tes_drive *d, char **errp)
{
    const char *why = NULL;
    int ret;

    d->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (d->efd < 0) {
        core_set_error(errp, "drive '%s': eventfd: %s", d->id, strerror(errno));
        return false;
    }
    if (!g_strcmp0(g_getenv("TESSERA_NO_IO_URING"), "1")) {
        why = "TESSERA_NO_IO_URING=1";
    } else if (force_pool) {
        why = "disabled for a test";
    } else if (d->aio_threads) {
        d->pool = g_thread_pool_new(pool_work, d, POOL_THREADS, FALSE, NULL);
        d->watch = g_unix_fd_add(d->efd, G_IO_IN, blk_on_efd, d);
        return true;
    } else if ((ret = io_uring_queue_init(RING_ENTRIES, &d->ring, 0)) < 0) {
        why = strerror(-ret);
    } else if ((ret = io_uring_register_eventfd(&d->ring, d->efd)) < 0) {
        io_uring_queue_exit(&d->ring);
        why = strerror(-ret);
    }
    if (why) {
        tell_no_ring(why);
        d->pool = g_thread_pool_new(pool_work, d, POOL_THREADS, FALSE, NULL);
    } else {
        d->has_ring = true;
        blk_ring_files(d);
    }
    d->watch = g_unix_fd_add(d->efd, G_IO_IN, blk_on_efd, d);
    return true;
}

/* Wait for the kernel and the pool to let go of every request, without
 * running callbacks: their devices are gone by now. */
static void aio_cleanup(tes_drive *d)
{
    struct io_uring_cqe *cqe;
    blk_req *r;

    if (d->watch) {
        g_source_remove(d->watch);
    }
    if (d->pool) {
        g_thread_pool_free(d->pool, FALSE, TRUE);
    }
    if (d->fmt_pool) {
        g_thread_pool_free(d->fmt_pool, FALSE, TRUE);
    }
    while (d->has_ring && d->in_ring && io_uring_wait_cqe(&d->ring, &cqe) == 0) {
        req_free(io_uring_cqe_get_data(cqe));
        io_uring_cqe_seen(&d->ring, cqe);
        d->in_ring--;
    }
    if (d->has_ring) {
        io_uring_queue_exit(&d->ring);
    }
    while ((r = g_queue_pop_head(&d->pending)) || (r = g_queue_pop_head(&d->done))) {
        req_free(r);
    }
    spares_free(d);
    if (d->efd >= 0) {
        close(d->efd);
    }
    g_mutex_clear(&d->done_lock);
}

/* ---- the monitor's view (blockcli: query-block, query-blockstats,
 * blockdev-del) ---- */

/* Every finished asynchronous request (what guests' devices do; the
 * synchronous calls are realize-time and test I/O), as QEMU's block
 * accounting counts them: bytes and operations when it succeeded, a failed
 * operation otherwise; write-zeroes count as writes, discards as unmaps.
 * Atomic, so that drive_get_stats() may read from any thread. */
static inline void stat_add(uint64_t *p, uint64_t n)
{
    __atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

static void stats_account(tes_drive *d, tes_blk_op op, uint64_t offset, uint64_t len, int ret)
{
    drive_stats *s = &d->stats;
    uint64_t *ops, *bytes = NULL, *failed;

    switch (op) {
    case TES_BLK_READ:
        ops = &s->rd_ops, bytes = &s->rd_bytes, failed = &s->failed_rd_ops;
        break;
    case TES_BLK_FLUSH:
        ops = &s->flush_ops, failed = &s->failed_flush_ops;
        break;
    case TES_BLK_DISCARD:
        ops = &s->unmap_ops, bytes = &s->unmap_bytes, failed = &s->failed_unmap_ops;
        break;
    default:
        ops = &s->wr_ops, bytes = &s->wr_bytes, failed = &s->failed_wr_ops;
        break;
    }
    /* One writer (completions run under the machine lock): a relaxed load
     * and store, not a locked add, is enough for readers on other threads
     * to see whole values; two locked adds were ~5% of a request's user
     * time. */
    if (ret < 0) {
        stat_add(failed, 1);
        return;
    }
    stat_add(ops, 1);
    if (bytes) {
        stat_add(bytes, len);
    }
    if (bytes == &s->wr_bytes && offset + len > __atomic_load_n(&s->wr_highest_offset,
                                                                __ATOMIC_RELAXED)) {
        __atomic_store_n(&s->wr_highest_offset, offset + len, __ATOMIC_RELAXED);
    }
}

void drive_get_stats(tes_drive *d, drive_stats *out)
{
    uint64_t *src = (uint64_t *)&d->stats, *dst = (uint64_t *)out;

    for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++) {
        dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
    }
}

const char *drive_id(tes_drive *d)
{
    return d->id;
}

const char *drive_path(tes_drive *d)
{
    return d->path;
}

const char *drive_user(tes_drive *d)
{
    return d->user;
}

tes_drive *drive_by_user(const char *id)
{
    for (guint i = 0; block_drives && id && i < block_drives->len; i++) {
        tes_drive *d = g_ptr_array_index(block_drives, i);
        if (d->user && !strcmp(d->user, id)) {
            return d;
        }
    }
    return NULL;
}

void drives_foreach(void (*fn)(tes_drive *d, void *opaque), void *opaque)
{
    for (guint i = 0; block_drives && i < block_drives->len; i++) {
        fn(g_ptr_array_index(block_drives, i), opaque);
    }
}

/* The end of an outgoing migration (guest stopped, devices drained by
 * their pre_save): every request done and every image's data and qcow2
 * metadata on disk before the destination may run, as QEMU's
 * bdrv_flush_all(). The first failure is returned (the migration fails). */
typedef struct mig_walk {
    int ret;
    char *err;
} mig_walk;

static void flush_one(tes_drive *d, void *opaque)
{
    mig_walk *w = opaque;
    int ret;

    drive_drain(d);
    if (!d->has_medium || drive_readonly(d)) {
        return;
    }
    ret = drive_flush(d);
    if (ret < 0 && !w->ret) {
        w->ret = ret;
        w->err = g_strdup_printf("drive '%s': flushing it failed: %s", d->id, g_strerror(-ret));
    }
}

int drives_flush_all(char **errp)
{
    mig_walk w = {0};

    drives_foreach(flush_one, &w);
    if (w.err) {
        core_set_error(errp, "%s", w.err);
        g_free(w.err);
    }
    return w.ret;
}

static void preflush_one(tes_drive *d, void *opaque)
{
    int fd;

    if (d->has_medium && !drive_readonly(d) && !d->no_flush && d->fd >= 0 &&
        (fd = fcntl(d->fd, F_DUPFD_CLOEXEC, 0)) >= 0) {
        g_array_append_val(opaque, fd);
    }
}

/* Each image's fd is duplicated under the lock (a medium change may
 * close it meanwhile) and synced without it: fdatasync() beside the
 * guest's own writes is the kernel's to order, and a qcow2 image's
 * metadata, the format's, waits for the flush in the downtime. */
void drives_preflush(void)
{
    g_autoptr(GArray) fds = g_array_new(FALSE, FALSE, sizeof(int));

    core_lock();
    drives_foreach(preflush_one, fds);
    core_unlock();
    for (guint i = 0; i < fds->len; i++) {
        fdatasync(g_array_index(fds, int, i));
        close(g_array_index(fds, int, i));
    }
}

/* The end of an incoming migration: see qcow2_invalidate(). */
static void invalidate_one(tes_drive *d, void *opaque)
{
    mig_walk *w = opaque;
    g_autofree char *err = NULL;

    if (!w->ret && d->qc && qcow2_invalidate(d->qc, &err) < 0) {
        w->ret = -EIO;
        w->err = g_strdup_printf("drive '%s': %s", d->id, err);
    }
}

int drives_invalidate_all(char **errp)
{
    mig_walk w = {0};

    drives_foreach(invalidate_one, &w);
    if (w.err) {
        core_set_error(errp, "%s", w.err);
        g_free(w.err);
    }
    return w.ret;
}

/* blockdev-del: closed only when no device holds it. */
bool drive_del(const char *id, char **errp)
{
    tes_drive *d = drive_find(id);

    if (!d) {
        core_set_error(errp, "Failed to find node with node-name='%s'", id);
        return false;
    }
    if (d->user) {
        core_set_error(errp, "Node '%s' is in use by device '%s'", id, d->user);
        return false;
    }
    drive_drain(d);
    g_ptr_array_remove(block_drives, d);
    drive_free(d);
    return true;
}

/* QEMU's "k=v,k=v" with ",," for a comma, for the CLI's own keys. */
GPtrArray *drive_split_opts(const char *optarg)
{
    return split_opts(optarg);
}
