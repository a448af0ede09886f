/*
 * tessera core: block backends (-drive).
 *
 *   -drive file=PATH,if=none,id=ID[,format=raw][,readonly=on|off][,cache=MODE]
 *   -device nvme,drive=ID,...
 *
 * Only raw images and if=none (the device is created with -device) for now.
 * Every drive opens one io_uring at start-up; the synchronous calls here
 * submit and wait on it. Where the kernel refuses io_uring (seccomp,
 * io_uring_disabled) we fall back to pread/pwrite and say so once.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <liburing.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core.h"

#define RING_ENTRIES 8

struct tes_drive {
    char *id;
    char *path;
    int fd;
    bool readonly;
    uint64_t size;
    bool has_ring;
    struct io_uring ring;
    char *user; /* device that claimed it */
};

static GPtrArray *drives;

typedef struct drive_opts {
    char *file, *iface, *id, *format, *readonly;
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

static bool set_opt(drive_opts *o, const char *key, const char *val, char **errp)
{
    static const char *ignored[] = {"cache", "aio", "discard", "media", NULL};
    char **slot = NULL;

    if (!strcmp(key, "file")) {
        slot = &o->file;
    } else if (!strcmp(key, "if")) {
        slot = &o->iface;
    } else if (!strcmp(key, "id")) {
        slot = &o->id;
    } else if (!strcmp(key, "format")) {
        slot = &o->format;
    } else if (!strcmp(key, "readonly")) {
        slot = &o->readonly;
    } else if (g_strv_contains(ignored, key)) {
        return true; /* we always use the host page cache through io_uring */
    } else {
        core_set_error(errp, "drive: unknown option '%s'", key);
        return false;
    }
    g_free(*slot);
    *slot = g_strdup(val);
    return true;
}

static void opts_clear(drive_opts *o)
{
    g_free(o->file);
    g_free(o->iface);
    g_free(o->id);
    g_free(o->format);
    g_free(o->readonly);
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
    if (!o->file) {
        core_set_error(errp, "drive '%s': file= is required", o->id);
        return false;
    }
    if (o->format && strcmp(o->format, "raw") != 0) {
        core_set_error(errp, "drive '%s': format '%s' not supported, only format=raw", o->id,
                       o->format);
        return false;
    }
    if (drive_find(o->id)) {
        core_set_error(errp, "drive '%s': duplicate id", o->id);
        return false;
    }
    *ro = false;
    if (o->readonly && !strcmp(o->readonly, "on")) {
        *ro = true;
    } else if (o->readonly && strcmp(o->readonly, "off") != 0) {
        core_set_error(errp, "drive '%s': readonly wants on or off, got '%s'", o->id, o->readonly);
        return false;
    }
    return true;
}

/* ---- opening ---- */

static bool drive_open(tes_drive *d, char **errp)
{
    struct stat st;
    int ret;

    d->fd = open(d->path, (d->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (d->fd < 0 || fstat(d->fd, &st) < 0) {
        core_set_error(errp, "drive '%s': cannot open '%s': %s", d->id, d->path, strerror(errno));
        return false;
    }
    d->size = st.st_size;
    if (S_ISBLK(st.st_mode) && ioctl(d->fd, BLKGETSIZE64, &d->size) < 0) {
        core_set_error(errp, "drive '%s': cannot get the size of '%s': %s", d->id, d->path,
                       strerror(errno));
        return false;
    }
    ret = io_uring_queue_init(RING_ENTRIES, &d->ring, 0);
    if (ret < 0) {
        static bool told;
        if (!told) {
            fprintf(stderr, "tessera: io_uring unavailable (%s), using synchronous I/O\n",
                    strerror(-ret));
            told = true;
        }
    } else {
        d->has_ring = true;
    }
    return true;
}

static void drive_free(tes_drive *d)
{
    if (d->has_ring) {
        io_uring_queue_exit(&d->ring);
    }
    if (d->fd >= 0) {
        close(d->fd);
    }
    g_free(d->id);
    g_free(d->path);
    g_free(d->user);
    g_free(d);
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
    d->id = g_strdup(o.id);
    d->path = g_strdup(o.file);
    d->readonly = ro;
    opts_clear(&o);
    if (!drive_open(d, errp)) {
        drive_free(d);
        return false;
    }
    if (!drives) {
        drives = g_ptr_array_new();
    }
    g_ptr_array_add(drives, d);
    return true;
}

tes_drive *drive_find(const char *id)
{
    for (guint i = 0; drives && id && i < drives->len; i++) {
        tes_drive *d = g_ptr_array_index(drives, i);
        if (!strcmp(d->id, id)) {
            return d;
        }
    }
    return NULL;
}

uint64_t drive_size(tes_drive *d)
{
    return d ? d->size : 0;
}

bool drive_readonly(tes_drive *d)
{
    return !d || d->readonly;
}

bool drive_claim(tes_drive *d, const char *devname, char **errp)
{
    if (d->user && g_strcmp0(d->user, devname) != 0) {
        core_set_error(errp, "drive '%s' is already in use by %s", d->id, d->user);
        return false;
    }
    g_free(d->user);
    d->user = g_strdup(devname);
    return true;
}

void drive_release(tes_drive *d)
{
    if (d) {
        g_free(d->user);
        d->user = NULL;
    }
}

void drives_close_all(void)
{
    if (!drives) {
        return;
    }
    for (guint i = 0; i < drives->len; i++) {
        drive_free(g_ptr_array_index(drives, i));
    }
    g_ptr_array_free(drives, TRUE);
    drives = NULL;
}

/* ---- I/O ---- */

/* One request on the ring, waited for: bytes done or -errno. */
static ssize_t ring_one(tes_drive *d, int op, uint64_t off, void *buf, size_t len)
{
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    struct io_uring_sqe *sqe = io_uring_get_sqe(&d->ring);
    struct io_uring_cqe *cqe;
    ssize_t res;
    int ret;

    if (!sqe) {
        return -EBUSY;
    }
    if (op == 'r') {
        io_uring_prep_readv(sqe, d->fd, &iov, 1, off);
    } else if (op == 'w') {
        io_uring_prep_writev(sqe, d->fd, &iov, 1, off);
    } else {
        io_uring_prep_fsync(sqe, d->fd, 0);
    }
    ret = io_uring_submit_and_wait(&d->ring, 1);
    if (ret < 0) {
        return ret;
    }
    do {
        ret = io_uring_wait_cqe(&d->ring, &cqe);
    } while (ret == -EINTR);
    if (ret < 0) {
        return ret;
    }
    res = cqe->res;
    io_uring_cqe_seen(&d->ring, cqe);
    return res;
}

static ssize_t sync_one(tes_drive *d, int op, uint64_t off, void *buf, size_t len)
{
    ssize_t r;

    if (op == 'r') {
        r = pread(d->fd, buf, len, off);
    } else if (op == 'w') {
        r = pwrite(d->fd, buf, len, off);
    } else {
        r = fsync(d->fd);
    }
    return r < 0 ? -errno : r;
}

/* The whole of len, looping on short transfers; reads past EOF give zeros. */
static int drive_rw(tes_drive *d, int op, uint64_t off, uint8_t *buf, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t r = d->has_ring ? ring_one(d, op, off + done, buf + done, len - done)
                                : sync_one(d, op, off + done, buf + done, len - done);
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
    return d ? drive_rw(d, 'r', off, buf, len) : -ENODEV;
}

int drive_pwrite(tes_drive *d, uint64_t off, const void *buf, size_t len)
{
    if (!d) {
        return -ENODEV;
    }
    if (d->readonly) {
        return -EROFS;
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
    do {
        r = d->has_ring ? ring_one(d, 'f', 0, NULL, 0) : sync_one(d, 'f', 0, NULL, 0);
    } while (r == -EINTR || r == -EAGAIN);
    return r < 0 ? (int)r : 0;
}
