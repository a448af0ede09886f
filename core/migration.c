/*
 * tessera core: migration streams and the stream format.
 *
 * Transports (exec:, file:, fd:, tcp:, unix:) and the migrate/incoming
 * commands live in migration-transport.c, RAM (its sections, live
 * pre-copy, dirty rounds) in migration-ram.c; this file turns the machine
 * into bytes and back.
 *
 * Stream format, version 3 (1 and 2 still load). Integers are little endian; a "string" is a
 * u32 length followed by that many bytes (no NUL).
 *
 *   header   "TESMIG\r\n" (8 bytes), u32 format version (2; 1 still loads)
 *   sections, each a u8 tag:
 *     1 RAM     string region id, u64 size, u32 page size (4096), then runs
 *               of non-zero pages: u64 first page, u32 page count, raw
 *               bytes; a run of count 0 ends the region. Pages in no run
 *               are zero (so an idle guest's RAM costs almost nothing).
 *               Version 2: then a u64 digest of the runs (ram_digest), so
 *               that corrupt or shifted runs do not load as guest RAM.
 *     2 CLOCK   i64 virtual ns.
 *     3 DEVICE  string device name (id= or type.N), string type name,
 *               string plugin name, string plugin version, u32 state
 *               version, u64 payload length, payload.
 *     4 SUSPENDED  u8 1: the guest was in ACPI S3 (only then written, so
 *               other streams stay as before): the destination starts in
 *               "suspended" and waits for a wakeup (QEMU 9's global state).
 *     5 VCPUS   (version 3) u32 vCPU count, then per vCPU a u8: bit 0
 *               powered (PSCI CPU_ON, SIPI), bit 1 halted (WFI, HLT).
 *               The core's run state of each vCPU, which no CPU plugin
 *               saves: without it a destination ran only vCPU 0. A
 *               version 1 or 2 stream leaves the reset state (vCPU 0 on).
 *     6 RAM_DIRTY  (version 3, live migration) string region id, then runs
 *               as in RAM (u64 first page, u32 count, bytes; count 0
 *               ends) and the digest: pages sent again because the guest
 *               wrote them since; pages in no run are left alone. Only
 *               after the region's RAM section; any number of times.
 *     7 PAUSED  u8 1: the source's guest was stopped (QMP stop) when the
 *               migration began (only then written): the destination stays
 *               "paused" until cont, as QEMU's global state does; without
 *               it the destination runs at the end of the load.
 *     0 END
 *   RAM sections come first, then CLOCK, VCPUS, then one DEVICE section for every
 *   device of the tree (tree order), so the destination can tell a missing
 *   device from a stateless one. Every section may appear once.
 *
 * Nothing read is trusted: lengths, counts, versions and the clock are
 * range-checked, names from the stream are printed escaped, and every
 * loader (the core's PCI state, each plugin's post_load()) refuses values
 * the guest could not have produced, with one line.
 *
 * Device payload (dev_state_save):
 *   PCI functions: the core-owned PCI state (pci_state_save) first;
 *   u32 field count; per field: string name, u8 kind (tes_field_kind),
 *   u32 element count, u32 byte length, bytes (LE elements);
 *   u8 1 when save() data follows, then u64 length and the data; else u8 0.
 * Fields are matched by name on load: a field the loader does not know is
 * skipped, a field the stream lacks keeps its current (reset) value, and a
 * kind or length that differs is refused rather than copied.
 *
 * The region id is the region's name, or "owner/name" when two RAM regions
 * share a name.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "migration-int.h"

#define STREAM_BUF_SIZE (64 * 1024)
#define MIG_MAGIC "TESMIG\r\n"
#define MIG_VERSION 3     /* 2: a digest ends every RAM section; 3: VCPUS */
#define MIG_VERSION_MIN 1
/* Virtual time is never negative; 2^62 ns is 146 years, and keeps every
 * timer deadline computed from it far from overflowing. */
#define MAX_CLOCK_NS (INT64_C(1) << 62)
#define MAX_STRING 4096u
#define MAX_PAYLOAD (1ull << 31) /* no device section is 2 GiB */
#define BLOB_CHUNK (1u << 20)   /* get_blob() grows by this much as bytes arrive */

enum {
    SECTION_END = 0,
    SECTION_RAM = 1,
    SECTION_CLOCK = 2,
    SECTION_DEVICE = 3,
    SECTION_SUSPENDED = 4,
    SECTION_VCPUS = 5,
    SECTION_RAM_DIRTY = 6,
    SECTION_PAUSED = 7,
};

/* ---- for migration-ram.c (migration-int.h) ---- */

void mig_put_u8(tes_stream *s, uint8_t v);
void mig_put_u32(tes_stream *s, uint32_t v);
void mig_put_u64(tes_stream *s, uint64_t v);
void mig_put_str(tes_stream *s, const char *str);

#define VCPU_POWERED 1u
#define VCPU_HALTED 2u

bool core_autostart = true;
static bool save_paused;  /* outgoing: the guest was stopped before the migration */
static bool load_paused;  /* incoming: the stream said so */

void migration_set_source_paused(bool paused)
{
    save_paused = paused;
}

bool migration_loaded_paused(void)
{
    return load_paused;
}

/* ---- streams ---- */

struct tes_stream {
    int fd;             /* -1 for memory streams */
    bool writing;
    int error;          /* first failure, sticky: 0 or -errno */
    uint8_t *buf;       /* fd streams: 64 KiB staging buffer */
    size_t pos, fill;   /* reader: buf[pos, fill) unread; writer: fill pending */
    GByteArray *out;    /* memory writer */
    const uint8_t *in;  /* memory reader */
    size_t in_len, in_pos;
    pid_t child;        /* exec: transport, reaped on close; 0 if none */
    int cancel_fd;      /* readable once cancelled; -1 if none */
    int timeout_ms;     /* longest wait for the peer; 0: no limit */
};

static void stream_fail(tes_stream *s, int err)
{
    if (!s->error) {
        s->error = err;
    }
}

tes_stream *stream_new_fd(int fd, bool writing)
{
    tes_stream *s = g_new0(tes_stream, 1);

    s->fd = fd;
    s->writing = writing;
    s->buf = g_malloc(STREAM_BUF_SIZE);
    s->cancel_fd = -1;
    return s;
}

void stream_set_limits(tes_stream *s, int cancel_fd, int timeout_ms)
{
    int fl = fcntl(s->fd, F_GETFL);

    s->cancel_fd = cancel_fd;
    s->timeout_ms = timeout_ms;
    /* Waits happen in poll(), where cancellation and the timeout are seen. */
    if (fl >= 0) {
        fcntl(s->fd, F_SETFL, fl | O_NONBLOCK);
    }
}

static bool stream_cancelled(tes_stream *s)
{
    struct pollfd p = {.fd = s->cancel_fd, .events = POLLIN};

    return s->cancel_fd >= 0 && poll(&p, 1, 0) > 0;
}

/* The fd would block: wait for it, the cancel fd or the timeout. Records
 * and returns -ECANCELED or -ETIMEDOUT, else 0. */
static int stream_wait(tes_stream *s, short events)
{
    struct pollfd p[2] = {{.fd = s->fd, .events = events},
                          {.fd = s->cancel_fd, .events = POLLIN}};
    int n;

    do {
        n = poll(p, s->cancel_fd >= 0 ? 2 : 1, s->timeout_ms > 0 ? s->timeout_ms : -1);
    } while (n < 0 && errno == EINTR);
    if (n == 0 || (n > 0 && p[1].revents)) {
        stream_fail(s, n == 0 ? -ETIMEDOUT : -ECANCELED);
        return s->error;
    }
    return 0;
}

/* read()/write() result n: true to retry (interrupted, or waited until
 * the fd is ready), false to stop (error recorded when n says so). */
static bool stream_retry(tes_stream *s, ssize_t n, short events)
{
    if (n < 0 && errno == EINTR) {
        return true;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return stream_wait(s, events) == 0;
    }
    if (n <= 0) {
        stream_fail(s, n < 0 ? -errno : -EIO);
    }
    return false;
}

tes_stream *stream_new_fd_child(int fd, bool writing, pid_t child)
{
    tes_stream *s = stream_new_fd(fd, writing);

    s->child = child;
    return s;
}

tes_stream *stream_new_mem(void)
{
    tes_stream *s = g_new0(tes_stream, 1);

    s->fd = -1;
    s->writing = true;
    s->out = g_byte_array_new();
    return s;
}

tes_stream *stream_new_mem_reader(const void *data, size_t len)
{
    tes_stream *s = g_new0(tes_stream, 1);

    s->fd = -1;
    s->in = data;
    s->in_len = len;
    return s;
}

const void *stream_mem_data(tes_stream *s, size_t *len)
{
    if (s->out) {
        *len = s->out->len;
        return s->out->data;
    }
    *len = s->in ? s->in_len : 0;
    return s->in;
}

int stream_error(tes_stream *s)
{
    return s->error;
}

static void write_all(tes_stream *s, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    if (stream_cancelled(s)) {
        stream_fail(s, -ECANCELED);
    }
    while (len && !s->error) {
        ssize_t n = write(s->fd, p, len);

        if (n <= 0) {
            if (!stream_retry(s, n, POLLOUT)) {
                stream_fail(s, -EIO);
                return;
            }
            continue;
        }
        p += n;
        len -= n;
    }
}

static void stream_flush(tes_stream *s)
{
    if (s->fd >= 0 && s->writing && s->fill) {
        write_all(s, s->buf, s->fill);
        s->fill = 0;
    }
}

void stream_write(tes_stream *s, const void *buf, size_t len)
{
    if (s->error || !len) {
        return;
    }
    if (!s->writing) {
        stream_fail(s, -EBADF);
        return;
    }
    if (s->out) {
        g_byte_array_append(s->out, buf, len);
        return;
    }
    if (s->fill + len > STREAM_BUF_SIZE) {
        stream_flush(s);
    }
    if (len >= STREAM_BUF_SIZE) {
        write_all(s, buf, len); /* large blocks (RAM pages) skip the copy */
        return;
    }
    memcpy(s->buf + s->fill, buf, len);
    s->fill += len;
}

/* Refill the buffer; false at EOF or error. */
static bool stream_refill(tes_stream *s)
{
    if (stream_cancelled(s)) {
        stream_fail(s, -ECANCELED);
        return false;
    }
    for (;;) {
        ssize_t n = read(s->fd, s->buf, STREAM_BUF_SIZE);

        if (n <= 0) {
            if (stream_retry(s, n, POLLIN)) {
                continue;
            }
            stream_fail(s, -EIO); /* EOF: the stream was cut */
            return false;
        }
        s->pos = 0;
        s->fill = n;
        return true;
    }
}

static int stream_read_fd(tes_stream *s, uint8_t *p, size_t len)
{
    while (len) {
        size_t avail = s->fill - s->pos;

        if (!avail && len >= STREAM_BUF_SIZE) {
            ssize_t n = read(s->fd, p, len); /* big reads go straight in */
            if (n <= 0) {
                if (stream_retry(s, n, POLLIN)) {
                    continue;
                }
                stream_fail(s, -EIO);
                return -EIO;
            }
            p += n;
            len -= n;
            continue;
        }
        if (!avail && !stream_refill(s)) {
            return -EIO;
        }
        avail = MIN(s->fill - s->pos, len);
        memcpy(p, s->buf + s->pos, avail);
        s->pos += avail;
        p += avail;
        len -= avail;
    }
    return 0;
}

int stream_read(tes_stream *s, void *buf, size_t len)
{
    if (s->error) {
        return -EIO;
    }
    if (s->writing) {
        stream_fail(s, -EBADF);
        return -EIO;
    }
    if (s->fd >= 0) {
        return stream_read_fd(s, buf, len);
    }
    if (len > s->in_len - s->in_pos) {
        stream_fail(s, -EIO); /* short: the stream was cut */
        return -EIO;
    }
    memcpy(buf, s->in + s->in_pos, len);
    s->in_pos += len;
    return 0;
}

/* The exec: command is waited for only when it must confirm a stream it
 * took whole; a reader's command, or one whose stream failed, is killed
 * (with its process group: sh -c may have children) rather than waited
 * for. With limits set, the wait itself can be cancelled or time out. */
static int stream_reap_child(tes_stream *s)
{
    bool limited = s->cancel_fd >= 0 || s->timeout_ms > 0;
    gint64 deadline = g_get_monotonic_time() + (gint64)s->timeout_ms * 1000;
    bool kill_it = !s->writing || s->error;
    int status;
    pid_t r;

    for (;;) {
        int why;

        r = waitpid(s->child, &status, limited || kill_it ? WNOHANG : 0);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r != 0) {
            break;
        }
        why = stream_cancelled(s) ? -ECANCELED
              : s->timeout_ms > 0 && g_get_monotonic_time() > deadline ? -ETIMEDOUT : 0;
        if (kill_it || why) {
            kill(-s->child, SIGKILL);
            if (s->writing) {
                stream_fail(s, why ? why : -EIO);
            }
            kill_it = limited = false; /* now reap it */
        } else {
            g_usleep(10 * 1000);
        }
    }
    if (r < 0) {
        return -errno;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

int stream_close(tes_stream *s)
{
    int ret;

    if (!s) {
        return 0;
    }
    stream_flush(s);
    if (s->fd >= 0 && close(s->fd) < 0 && s->writing) {
        stream_fail(s, -errno); /* NFS and pipes report late errors here */
    }
    if (s->child > 0) {
        int r = stream_reap_child(s);
        if (r < 0) {
            stream_fail(s, r);
        }
    }
    ret = s->error;
    if (s->out) {
        g_byte_array_unref(s->out);
    }
    g_free(s->buf);
    g_free(s);
    return ret;
}

/* Bytes not yet consumed by a memory reader. */
static size_t stream_mem_left(tes_stream *s)
{
    return s->in_len - s->in_pos;
}

/* ---- little-endian helpers ---- */

static void put_u8(tes_stream *s, uint8_t v)
{
    stream_write(s, &v, 1);
}

static void put_u32(tes_stream *s, uint32_t v)
{
    v = GUINT32_TO_LE(v);
    stream_write(s, &v, 4);
}

static void put_u64(tes_stream *s, uint64_t v)
{
    v = GUINT64_TO_LE(v);
    stream_write(s, &v, 8);
}

static void put_str(tes_stream *s, const char *str)
{
    size_t len = str ? strlen(str) : 0;

    put_u32(s, len);
    stream_write(s, str, len);
}

/* The getters return 0 on a cut stream; callers check stream_error(). */
static uint8_t get_u8(tes_stream *s)
{
    uint8_t v = 0;

    stream_read(s, &v, 1);
    return v;
}

static uint32_t get_u32(tes_stream *s)
{
    uint32_t v = 0;

    stream_read(s, &v, 4);
    return GUINT32_FROM_LE(v);
}

static uint64_t get_u64(tes_stream *s)
{
    uint64_t v = 0;

    stream_read(s, &v, 8);
    return GUINT64_FROM_LE(v);
}

/* A g_malloc'd string, or NULL (stream error set) when cut or too long. */
static char *get_str(tes_stream *s)
{
    uint32_t len = get_u32(s);
    char *str;

    if (s->error || len > MAX_STRING) {
        stream_fail(s, -EINVAL);
        return NULL;
    }
    str = g_malloc(len + 1);
    if (stream_read(s, str, len) < 0) {
        g_free(str);
        return NULL;
    }
    str[len] = '\0';
    if (memchr(str, '\0', len)) {
        g_free(str); /* "edu.0\0junk" must not pass for "edu.0" */
        stream_fail(s, -EINVAL);
        return NULL;
    }
    return str;
}

/* Skip len bytes (an unknown field). */
static int stream_skip(tes_stream *s, uint64_t len)
{
    uint8_t tmp[512];

    while (len) {
        size_t n = MIN(len, sizeof(tmp));
        if (stream_read(s, tmp, n) < 0) {
            return -EIO;
        }
        len -= n;
    }
    return 0;
}

/* Read a length-prefixed blob into a new buffer (NULL + error when cut).
 * Memory is committed only as the bytes arrive: a 20-byte stream that
 * claims a 4 GiB section costs nothing (found by fuzz-migration-stream). */
static uint8_t *get_blob(tes_stream *s, uint64_t len)
{
    GByteArray *b;

    if (len > MAX_PAYLOAD || (s->fd < 0 && len > stream_mem_left(s))) {
        stream_fail(s, len > MAX_PAYLOAD ? -EINVAL : -EIO);
        return NULL;
    }
    b = g_byte_array_sized_new(MIN(len, BLOB_CHUNK) + 1);
    while (b->len < len) {
        guint at = b->len, n = (guint)MIN(len - at, BLOB_CHUNK);

        g_byte_array_set_size(b, at + n);
        if (stream_read(s, b->data + at, n) < 0) {
            g_byte_array_unref(b);
            return NULL;
        }
    }
    if (!b->len) {
        g_byte_array_set_size(b, 1); /* a valid pointer for an empty blob */
    }
    return g_byte_array_free(b, FALSE);
}

/* ---- device state: the field table ---- */

static unsigned field_elem_size(tes_field_kind k)
{
    switch (k) {
    case TES_FIELD_BOOL:
    case TES_FIELD_U8:
    case TES_FIELD_BYTES:
        return 1;
    case TES_FIELD_U16:
        return 2;
    case TES_FIELD_U32:
        return 4;
    case TES_FIELD_U64:
    case TES_FIELD_I64:
        return 8;
    }
    return 0;
}

static const char *field_kind_name(unsigned k)
{
    static const char *const names[] = {
        [TES_FIELD_BOOL] = "bool", [TES_FIELD_U8] = "u8",   [TES_FIELD_U16] = "u16",
        [TES_FIELD_U32] = "u32",   [TES_FIELD_U64] = "u64", [TES_FIELD_I64] = "i64",
        [TES_FIELD_BYTES] = "bytes",
    };

    return k < G_N_ELEMENTS(names) && names[k] ? names[k] : "unknown";
}

static uint32_t field_count(const tes_state_field *f)
{
    return f->count ? f->count : 1;
}

static const char *dev_type_name(tes_device *dev)
{
    return dev->type ? dev->type->name : "?";
}

/* Copy n elements of esz bytes between host order and the stream's LE. */
static void elems_swap_copy(uint8_t *dst, const uint8_t *src, uint32_t n, unsigned esz)
{
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
    memcpy(dst, src, (size_t)n * esz);
#else
    for (size_t i = 0; i < n; i++) {
        for (unsigned b = 0; b < esz; b++) {
            dst[i * esz + b] = src[i * esz + esz - 1 - b];
        }
    }
#endif
}

static void field_save(tes_stream *s, const uint8_t *inst, const tes_state_field *f)
{
    unsigned esz = field_elem_size(f->kind);
    uint32_t n = field_count(f);
    size_t len = (size_t)n * esz;
    uint8_t *tmp = g_malloc(len ? len : 1);

    put_str(s, f->name);
    put_u8(s, f->kind);
    put_u32(s, n);
    put_u32(s, len);
    elems_swap_copy(tmp, inst + f->offset, n, esz);
    if (f->kind == TES_FIELD_BOOL) {
        for (uint32_t i = 0; i < n; i++) {
            tmp[i] = tmp[i] != 0; /* a bool is 0 or 1 on the wire */
        }
    }
    stream_write(s, tmp, len);
    g_free(tmp);
}

static void fields_save(tes_device *dev, const tes_state_info *info, tes_stream *s)
{
    const tes_state_field *f = info ? info->fields : NULL;
    uint32_t n = 0;

    while (f && f[n].name) {
        n++;
    }
    put_u32(s, n);
    for (uint32_t i = 0; i < n; i++) {
        field_save(s, dev->s, &f[i]);
    }
}

/* save() output goes through a memory stream so its length can prefix it. */
static int custom_save(tes_device *dev, const tes_state_info *info, tes_stream *s)
{
    tes_stream *tmp;
    const void *data;
    size_t len;
    int ret;

    if (!info || !info->save) {
        put_u8(s, 0);
        return 0;
    }
    tmp = stream_new_mem();
    ret = info->save(dev, dev->s, tmp);
    if (ret == 0 && stream_error(tmp)) {
        ret = stream_error(tmp);
    }
    if (ret == 0) {
        data = stream_mem_data(tmp, &len);
        put_u8(s, 1);
        put_u64(s, len);
        stream_write(s, data, len);
    }
    stream_close(tmp);
    return ret > 0 ? -EIO : ret;
}

/* The device's pre_save() (drain its requests, note its deadlines): 0 or
 * a -errno. */
static int dev_pre_save(tes_device *dev)
{
    const tes_state_info *info = dev->type->state;
    int ret = info && info->pre_save ? info->pre_save(dev, dev->s) : 0;

    return ret > 0 ? -EIO : ret;
}

/* The payload of a device whose pre_save() has run. */
static int dev_state_write(tes_device *dev, tes_stream *s)
{
    const tes_state_info *info = dev->type->state;
    int ret;

    if (dev->pci) {
        pci_state_save(dev, s);
    }
    fields_save(dev, info, s);
    ret = custom_save(dev, info, s);
    return ret ? ret : stream_error(s);
}

int dev_state_save(tes_device *dev, tes_stream *s)
{
    int ret = dev_pre_save(dev);

    return ret ? ret : dev_state_write(dev, s);
}

static const tes_state_field *field_find(const tes_state_info *info, const char *name)
{
    for (const tes_state_field *f = info ? info->fields : NULL; f && f->name; f++) {
        if (strcmp(f->name, name) == 0) {
            return f;
        }
    }
    return NULL;
}

/* Check the stream's description of field f against ours, then copy. */
static int field_load(tes_device *dev, tes_stream *s, const tes_state_field *f, unsigned kind,
                      uint32_t n, uint32_t len, char **errp)
{
    unsigned esz = field_elem_size(f->kind);
    uint8_t *tmp, *dst = (uint8_t *)dev->s + f->offset;

    if (kind != (unsigned)f->kind) {
        core_set_error(errp, "device '%s' (%s): field '%s' is %s in the stream, %s here",
                       dev->name, dev_type_name(dev), f->name, field_kind_name(kind),
                       field_kind_name(f->kind));
        return -EINVAL;
    }
    if (n != field_count(f) || len != (uint64_t)field_count(f) * esz) {
        core_set_error(errp,
                       "device '%s' (%s): field '%s' has %u elements (%u bytes) in the "
                       "stream, %u (%u bytes) here",
                       dev->name, dev_type_name(dev), f->name, n, len, field_count(f),
                       field_count(f) * esz);
        return -EINVAL;
    }
    tmp = get_blob(s, len);
    if (!tmp) {
        return -EIO;
    }
    elems_swap_copy(dst, tmp, n, esz);
    if (f->kind == TES_FIELD_BOOL) {
        for (uint32_t i = 0; i < n; i++) {
            ((bool *)dst)[i] = tmp[i] != 0;
        }
    }
    g_free(tmp);
    return 0;
}

static int fields_load(tes_device *dev, const tes_state_info *info, tes_stream *s,
                       char **errp)
{
    uint32_t count = get_u32(s);

    for (uint32_t i = 0; i < count && !stream_error(s); i++) {
        char *name = get_str(s);
        unsigned kind = get_u8(s);
        uint32_t n = get_u32(s), len = get_u32(s);
        const tes_state_field *f = name ? field_find(info, name) : NULL;
        int ret = 0;

        if (stream_error(s)) {
            g_free(name);
            break;
        }
        if (f) {
            ret = field_load(dev, s, f, kind, n, len, errp);
        } else {
            /* A newer plugin's field: ours does without it. */
            core_log(TES_LOG_PLUGIN, "migration: device '%s' (%s): skipping field '%s' "
                     "unknown to this plugin", dev->name, dev_type_name(dev), name);
            ret = stream_skip(s, len);
        }
        g_free(name);
        if (ret == -EINVAL) {
            return ret;
        }
    }
    return stream_error(s) ? -EIO : 0;
}

/* A plugin's load()/post_load() refusal: its H->error() line, if any. */
static void plugin_refusal(tes_device *dev, const char *what, int ret, char **errp)
{
    if (dev->error) {
        core_set_error(errp, "device '%s' (%s): %s", dev->name, dev_type_name(dev),
                       dev->error);
        g_clear_pointer(&dev->error, g_free);
    } else {
        core_set_error(errp, "device '%s' (%s): %s failed: %s", dev->name,
                       dev_type_name(dev), what, g_strerror(ret < 0 ? -ret : EIO));
    }
}

static int custom_load(tes_device *dev, const tes_state_info *info, tes_stream *s,
                       uint32_t version, char **errp)
{
    uint64_t len;
    uint8_t *data;
    tes_stream *in;
    int ret;

    if (!get_u8(s)) {
        return stream_error(s) ? -EIO : 0;
    }
    len = get_u64(s);
    data = stream_error(s) ? NULL : get_blob(s, len);
    if (!data) {
        return -EIO;
    }
    if (!info || !info->load) {
        core_set_error(errp, "device '%s' (%s): the stream carries save() data but this "
                       "plugin has no load()", dev->name, dev_type_name(dev));
        g_free(data);
        return -EINVAL;
    }
    in = stream_new_mem_reader(data, len);
    ret = info->load(dev, dev->s, in, version);
    if (ret == 0 && stream_error(in)) {
        ret = -EIO;
    }
    if (ret && dev->error) {
        plugin_refusal(dev, "load()", ret, errp);
    } else if (ret) {
        core_set_error(errp, "device '%s' (%s): load() refused its %" G_GUINT64_FORMAT
                       " bytes of saved data: %s", dev->name, dev_type_name(dev), len,
                       g_strerror(ret < 0 ? -ret : EIO));
    } else if (stream_mem_left(in)) {
        core_set_error(errp, "device '%s' (%s): load() left %zu of %" G_GUINT64_FORMAT
                       " bytes unread", dev->name, dev_type_name(dev), stream_mem_left(in),
                       len);
        ret = -EINVAL;
    }
    stream_close(in);
    g_free(data);
    return ret ? -EINVAL : 0;
}

static bool version_ok(tes_device *dev, const tes_state_info *info, uint32_t version,
                       char **errp)
{
    uint32_t cur = info ? info->version : 0;
    uint32_t min = info ? info->min_version : 0;

    if (version > cur) {
        core_set_error(errp, "device '%s' (%s): state version %u is newer than this "
                       "plugin's %u", dev->name, dev_type_name(dev), version, cur);
        return false;
    }
    if (version < min) {
        core_set_error(errp, "device '%s' (%s): state version %u is older than its "
                       "minimum %u", dev->name, dev_type_name(dev), version, min);
        return false;
    }
    return true;
}

int dev_state_load_err(tes_device *dev, tes_stream *s, uint32_t version, char **errp)
{
    const tes_state_info *info = dev->type->state;
    int ret;

    if (!version_ok(dev, info, version, errp)) {
        return -EINVAL;
    }
    if (dev->pci) {
        g_autofree char *why = NULL;

        if (pci_state_load_err(dev, s, &why) < 0) {
            core_set_error(errp, "device '%s' (%s): %s", dev->name, dev_type_name(dev),
                           why ? why : "its PCI state does not load");
            return -EINVAL;
        }
    }
    g_clear_pointer(&dev->error, g_free);
    ret = fields_load(dev, info, s, errp);
    if (ret == 0) {
        ret = custom_load(dev, info, s, version, errp);
    }
    if (ret == -EIO) {
        core_set_error(errp, "device '%s' (%s): its state in the stream is cut short",
                       dev->name, dev_type_name(dev));
    }
    if (ret == 0 && info && info->post_load) {
        ret = info->post_load(dev, dev->s, version);
        if (ret) {
            plugin_refusal(dev, "post_load()", ret, errp);
        }
    }
    g_clear_pointer(&dev->error, g_free);
    return ret ? -EINVAL : 0;
}

int dev_state_load(tes_device *dev, tes_stream *s, uint32_t version)
{
    char *err = NULL;
    int ret = dev_state_load_err(dev, s, version, &err);

    if (ret) {
        g_printerr("tessera: %s\n", err);
        g_free(err);
    }
    return ret;
}

/* ---- migration blockers ---- */

static const char *device_blocker(tes_device *d)
{
    if (d->type->migration_blocker) {
        return d->type->migration_blocker;
    }
    if (!d->type->state && d->type->instance_size) {
        return "no migration state declared";
    }
    return NULL;
}

static void blocked_one(tes_device *d, void *opaque)
{
    char **msg = opaque;
    const char *reason = device_blocker(d);

    if (reason && !*msg) {
        *msg = g_strdup_printf("device '%s' (%s) does not support migration: %s", d->name,
                               dev_type_name(d), reason);
    }
}

bool migration_blocked(char **errp)
{
    char *msg = NULL;

    devices_foreach(blocked_one, &msg);
    if (!msg) {
        return false;
    }
    core_set_error(errp, "%s", msg);
    g_free(msg);
    return true;
}

/* ---- devices ---- */

typedef struct save_ctx {
    tes_stream *s;
    char *err;
} save_ctx;

static void device_pre_save(tes_device *d, void *opaque)
{
    save_ctx *c = opaque;
    int ret;

    if (!c->err && (ret = dev_pre_save(d)) < 0) {
        c->err = g_strdup_printf("device '%s' (%s): saving its state failed: %s", d->name,
                                 dev_type_name(d), g_strerror(-ret));
    }
}

static void device_section_save(tes_device *d, void *opaque)
{
    save_ctx *c = opaque;
    const plugin *p = d->te ? d->te->plugin : NULL;
    tes_stream *tmp;
    const void *data;
    size_t len;
    int ret;

    if (c->err) {
        return;
    }
    tmp = stream_new_mem();
    ret = dev_state_write(d, tmp);
    if (ret) {
        c->err = g_strdup_printf("device '%s' (%s): saving its state failed: %s", d->name,
                                 dev_type_name(d), g_strerror(-ret));
    } else {
        data = stream_mem_data(tmp, &len);
        put_u8(c->s, SECTION_DEVICE);
        put_str(c->s, d->name);
        put_str(c->s, dev_type_name(d));
        put_str(c->s, p ? p->desc->name : "");
        put_str(c->s, p ? p->desc->version : "");
        put_u32(c->s, d->type->state ? d->type->state->version : 0);
        put_u64(c->s, len);
        stream_write(c->s, data, len);
    }
    stream_close(tmp);
}

typedef struct load_ctx {
    tes_stream *s;
    uint32_t version;  /* of the stream format */
    bool clock_seen;
    bool vcpus_seen;
    bool suspended_seen;
    bool paused_seen;
    uint8_t *vcpu_flags; /* the vCPU section's run flags, cpu_count() of them */
    GPtrArray *ram;
    GHashTable *devs_seen;
    char *missing; /* first destination device absent from the stream */
} load_ctx;

static tes_device *device_section_match(load_ctx *c, const char *name, const char *type,
                                        char **errp)
{
    tes_device *d = dev_find(name);
    g_autofree char *ename = core_printable(name), *etype = core_printable(type);

    if (!d) {
        core_set_error(errp, "stream has device '%s' (%s) that this machine lacks", ename,
                       etype);
        return NULL;
    }
    if (strcmp(dev_type_name(d), type) != 0) {
        core_set_error(errp, "stream has device '%s' of type '%s', this machine has '%s'",
                       ename, etype, dev_type_name(d));
        return NULL;
    }
    if (!g_hash_table_add(c->devs_seen, d)) {
        core_set_error(errp, "stream has device '%s' twice", ename);
        return NULL;
    }
    return d;
}

/* The payload is read whole so that a device's loader, however wrong,
 * cannot lose the framing of the sections after it. */
static int device_section_load(load_ctx *c, char **errp)
{
    tes_stream *s = c->s, *in;
    g_autofree char *name = get_str(s), *type = get_str(s);
    g_autofree char *pname = get_str(s), *pver = get_str(s);
    uint32_t version = get_u32(s);
    uint64_t len = get_u64(s);
    g_autofree uint8_t *data = NULL;
    tes_device *d;
    int ret;

    if (stream_error(s)) {
        core_set_error(errp, "migration stream is cut short in a device section");
        return -EIO;
    }
    d = device_section_match(c, name, type, errp);
    if (!d) {
        return -EINVAL;
    }
    data = get_blob(s, len);
    if (!data) {
        core_set_error(errp, "device '%s' (%s): its section is cut short", d->name,
                       dev_type_name(d));
        return -EIO;
    }
    if (core_log_mask & TES_LOG_PLUGIN) {
        g_autofree char *ep = core_printable(pname), *ev = core_printable(pver);
        core_log(TES_LOG_PLUGIN, "migration: loading device '%s' (%s) saved by plugin %s %s, "
                 "state version %u", d->name, dev_type_name(d), ep, ev, version);
    }
    in = stream_new_mem_reader(data, len);
    ret = dev_state_load_err(d, in, version, errp);
    if (ret == 0 && stream_mem_left(in)) {
        core_set_error(errp, "device '%s' (%s): %zu bytes of its section were left unread",
                       d->name, dev_type_name(d), stream_mem_left(in));
        ret = -EINVAL;
    }
    stream_close(in);
    return ret;
}

static void device_check_seen(tes_device *d, void *opaque)
{
    load_ctx *c = opaque;

    if (!c->missing && !g_hash_table_contains(c->devs_seen, d)) {
        c->missing = g_strdup_printf("device '%s' (%s) of this machine is missing from the "
                                     "stream", d->name, dev_type_name(d));
    }
}

/* ---- vCPU run state ---- */

static void vcpus_save(tes_stream *s)
{
    put_u8(s, SECTION_VCPUS);
    put_u32(s, cpu_count());
    for (unsigned i = 0; i < cpu_count(); i++) {
        tes_cpu *cpu = cpu_by_index(i);
        put_u8(s, (cpu && cpu->powered ? VCPU_POWERED : 0) |
                      (cpu && cpu->halted ? VCPU_HALTED : 0));
    }
}

static int vcpus_load(load_ctx *c, char **errp)
{
    uint32_t n = get_u32(c->s);
    g_autofree uint8_t *flags = NULL;

    if (stream_error(c->s) || c->vcpus_seen) {
        core_set_error(errp, stream_error(c->s) ? "migration stream is cut short in the "
                       "vCPU section" : "migration stream has the vCPU section twice");
        return stream_error(c->s) ? -EIO : -EINVAL;
    }
    if (n != cpu_count()) {
        core_set_error(errp, "migration stream has %u vCPUs, this machine %u", n, cpu_count());
        return -EINVAL;
    }
    flags = g_malloc0(n + 1);
    if (n && stream_read(c->s, flags, n) < 0) {
        core_set_error(errp, "migration stream is cut short in the vCPU section");
        return -EIO;
    }
    for (unsigned i = 0; i < n; i++) {
        tes_cpu *cpu = cpu_by_index(i);

        if (!cpu) {
            /* A hot-plugged vCPU of the source: the destination needs the
             * same -device of it. */
            core_set_error(errp, "migration stream: vCPU %u is present in the stream but not "
                           "on this machine (-device it as on the source)", i);
            return -EINVAL;
        }
        if (flags[i] & ~(VCPU_POWERED | VCPU_HALTED)) {
            core_set_error(errp, "migration stream: vCPU %u has unknown run state 0x%x", i,
                           flags[i]);
            return -EINVAL;
        }
        cpu->powered = flags[i] & VCPU_POWERED;
        cpu->halted = flags[i] & VCPU_HALTED;
    }
    c->vcpus_seen = true;
    c->vcpu_flags = g_steal_pointer(&flags);
    cpu_kick(NULL);
    return 0;
}

/* Once every device is loaded: the stream's run flags win over what a CPU
 * plugin's post_load guessed (cpu-x86 powers a vCPU not waiting for a SIPI
 * on, as for streams before version 3; a vCPU 0 its board left off, with
 * nothing to boot, must stay off). */
static void vcpus_reapply(load_ctx *c)
{
    for (unsigned i = 0; c->vcpu_flags && i < cpu_count(); i++) {
        tes_cpu *cpu = cpu_by_index(i);

        if (cpu) {
            cpu->powered = c->vcpu_flags[i] & VCPU_POWERED;
            cpu->halted = c->vcpu_flags[i] & VCPU_HALTED;
        }
    }
    cpu_kick(NULL);
}

/* ---- the whole machine ---- */

/* Clock and device sections into a memory stream, under the machine lock:
 * pre_save() drains every device, so nothing changes guest RAM after. */
static tes_stream *devices_save(char **errp)
{
    tes_stream *devs = stream_new_mem();
    save_ctx c = {.s = devs};

    /* Timers due at the stopped clock fire now: their effect (an IRR bit,
     * a re-armed period) is device state and goes in the stream, whereas
     * a device's post_load() re-arming from its registers cannot tell an
     * expired one-shot that fired from one that did not. */
    timers_run();
    /* Every device drained before any section is written: a request that
     * completes in a drain raises its interrupt (an MSI into a LAPIC's
     * IRR, an IOAPIC or 8259 input) in a device that may come earlier in
     * the list. Saved first, that device went without the interrupt and
     * the destination's guest waited for a completion that was already
     * in its queue (issue 17: the guest stalled, idle in HLT). */
    devices_foreach(device_pre_save, &c);
    put_u8(devs, SECTION_CLOCK);
    put_u64(devs, (uint64_t)clock_ns());
    vcpus_save(devs);
    if (runstate_was_suspended()) {
        put_u8(devs, SECTION_SUSPENDED);
        put_u8(devs, 1);
    }
    if (save_paused) {
        put_u8(devs, SECTION_PAUSED);
        put_u8(devs, 1);
    }
    devices_foreach(device_section_save, &c);
    put_u8(devs, SECTION_END);
    if (c.err) {
        core_set_error(errp, "%s", c.err);
        g_free(c.err);
        stream_close(devs);
        return NULL;
    }
    return devs;
}

/* Lock held, the guest stopped: every device's state, then the disks
 * flushed (before a byte goes out: the destination may start the guest as
 * soon as it has the stream, on disks that must hold every write). NULL
 * and *ret a -errno on failure. */
static tes_stream *devices_snapshot(char **errp, int *ret)
{
    tes_stream *devs;

    if (migration_blocked(errp) || !(devs = devices_save(errp))) {
        *ret = -ENOTSUP;
        return NULL;
    }
    if (drives_flush_all(errp) < 0) {
        stream_close(devs);
        *ret = -EIO;
        return NULL;
    }
    return devs;
}

/* The caller has stopped the guest. The lock is held only while devices
 * are saved: RAM (the long part, at the peer's pace) is written without
 * it, so that the monitor keeps answering. */
int migration_save(tes_stream *s, char **errp)
{
    GPtrArray *ram;
    tes_stream *devs;
    const void *data;
    size_t len;
    int ret;

    core_lock();
    if (!(devs = devices_snapshot(errp, &ret))) {
        core_unlock();
        return ret;
    }
    ram = mig_ram_list();
    core_unlock();
    stream_write(s, MIG_MAGIC, 8);
    put_u32(s, MIG_VERSION);
    for (guint i = 0; i < ram->len && !stream_error(s); i++) {
        mig_ram_save_full(s, g_ptr_array_index(ram, i), NULL, NULL);
    }
    g_ptr_array_unref(ram);
    data = stream_mem_data(devs, &len);
    stream_write(s, data, len);
    stream_close(devs);
    stream_flush(s);
    if (stream_error(s)) {
        core_set_error(errp, "writing the migration stream failed: %s",
                       g_strerror(-stream_error(s)));
        return stream_error(s);
    }
    return 0;
}

static int header_load(tes_stream *s, uint32_t *version, char **errp)
{
    char magic[8];

    if (stream_read(s, magic, 8) < 0 || memcmp(magic, MIG_MAGIC, 8) != 0) {
        core_set_error(errp, "not a tessera migration stream (no TESMIG header)");
        return -EINVAL;
    }
    *version = get_u32(s);
    if (stream_error(s) || *version < MIG_VERSION_MIN || *version > MIG_VERSION) {
        core_set_error(errp, "migration stream format version %u, this tessera reads %u..%u",
                       *version, MIG_VERSION_MIN, MIG_VERSION);
        return -EINVAL;
    }
    return 0;
}

static int clock_load(load_ctx *c, char **errp)
{
    int64_t ns = (int64_t)get_u64(c->s);

    if (stream_error(c->s)) {
        core_set_error(errp, "migration stream is cut short in the clock section");
        return -EIO;
    }
    if (c->clock_seen) {
        core_set_error(errp, "migration stream has the clock section twice");
        return -EINVAL;
    }
    if (ns < 0 || ns > MAX_CLOCK_NS) {
        core_set_error(errp, "migration stream: virtual clock %" G_GINT64_FORMAT " ns is out "
                       "of range (0..2^62)", ns);
        return -EINVAL;
    }
    c->clock_seen = true;
    /* Before the devices: post_load() may re-arm timers from now. */
    clock_set_ns(ns);
    return 0;
}

/* A run-state flag section (SUSPENDED, PAUSED): u8 1, at most once. */
static int flag_load(load_ctx *c, const char *what, bool *seen, char **errp)
{
    uint8_t v = get_u8(c->s);

    if (stream_error(c->s)) {
        core_set_error(errp, "migration stream is cut short in the %s section", what);
        return -EIO;
    }
    if (v != 1 || *seen) {
        core_set_error(errp, "migration stream: bad %s section (value %u%s)", what, v,
                       *seen ? ", twice" : "");
        return -EINVAL;
    }
    *seen = true;
    return 0;
}

static int suspended_load(load_ctx *c, char **errp)
{
    int ret = flag_load(c, "suspended", &c->suspended_seen, errp);

    if (ret == 0) {
        runstate_set_suspended();
    }
    return ret;
}

static int section_load_locked(load_ctx *c, uint8_t tag, char **errp);

/* RAM is read without the machine lock (the guest is stopped and nothing
 * else touches its RAM while "inmigrate"); the rest with it. */
static int section_load(load_ctx *c, uint8_t tag, char **errp)
{
    int ret;

    if (tag == SECTION_RAM) {
        return mig_ram_load_section(c->s, c->ram, c->version, errp);
    }
    if (tag == SECTION_RAM_DIRTY && c->version >= 3) {
        return ram_dirty_load(c->s, c->ram, errp);
    }
    core_lock();
    ret = section_load_locked(c, tag, errp);
    core_unlock();
    return ret;
}

static int section_load_locked(load_ctx *c, uint8_t tag, char **errp)
{
    switch (tag) {
    case SECTION_CLOCK:
        return clock_load(c, errp);
    case SECTION_DEVICE:
        return device_section_load(c, errp);
    case SECTION_VCPUS:
        if (c->version >= 3) {
            return vcpus_load(c, errp);
        }
        break; /* no such section before version 3 */
    case SECTION_SUSPENDED:
        return suspended_load(c, errp);
    case SECTION_PAUSED:
        return flag_load(c, "paused", &c->paused_seen, errp);
    default:
        break;
    }
    core_set_error(errp, "migration stream has an unknown section (tag %u)", tag);
    return -EINVAL;
}

/* Every RAM region and device of this machine had to be in the stream. */
static int load_check_complete(load_ctx *c, char **errp)
{
    for (guint i = 0; i < c->ram->len; i++) {
        ram_entry *e = g_ptr_array_index(c->ram, i);
        if (!e->seen) {
            core_set_error(errp, "RAM region '%s' of this machine is missing from the stream",
                           e->id);
            return -EINVAL;
        }
    }
    devices_foreach(device_check_seen, c);
    if (c->missing) {
        core_set_error(errp, "%s", c->missing);
        g_free(c->missing);
        return -EINVAL;
    }
    return 0;
}

int migration_load(tes_stream *s, char **errp)
{
    load_ctx c = {.s = s};
    int ret = header_load(s, &c.version, errp);

    core_lock();
    c.ram = mig_ram_list();
    core_unlock();
    c.devs_seen = g_hash_table_new(NULL, NULL);
    load_paused = false;
    while (ret == 0) {
        uint8_t tag = get_u8(s);

        if (stream_error(s)) {
            core_set_error(errp, "migration stream is cut short (no end marker)");
            ret = -EIO;
        } else if (tag == SECTION_END) {
            core_lock();
            ret = load_check_complete(&c, errp);
            if (ret == 0) {
                vcpus_reapply(&c);
                load_paused = c.paused_seen;
            }
            core_unlock();
            break;
        } else {
            ret = section_load(&c, tag, errp);
        }
    }
    g_ptr_array_unref(c.ram);
    g_hash_table_destroy(c.devs_seen);
    g_free(c.vcpu_flags);
    return ret;
}

/* ---- helpers for migration-ram.c ---- */

void mig_put_u8(tes_stream *s, uint8_t v)
{
    put_u8(s, v);
}

void mig_put_u32(tes_stream *s, uint32_t v)
{
    put_u32(s, v);
}

void mig_put_u64(tes_stream *s, uint64_t v)
{
    put_u64(s, v);
}

void mig_put_str(tes_stream *s, const char *str)
{
    put_str(s, str);
}

uint64_t mig_get_u64(tes_stream *s)
{
    return get_u64(s);
}

uint32_t mig_get_u32(tes_stream *s)
{
    return get_u32(s);
}

char *mig_get_str(tes_stream *s)
{
    return get_str(s);
}


bool mig_stream_cancelled(tes_stream *s)
{
    return stream_cancelled(s);
}

void mig_stream_flush(tes_stream *s)
{
    stream_flush(s);
}

void mig_write_header(tes_stream *s)
{
    stream_write(s, MIG_MAGIC, 8);
    put_u32(s, MIG_VERSION);
}

/* The tail of a live migration, the guest stopped: devices (their
 * pre_save drains the DMA that dirties RAM), disks flushed, then the
 * pages dirtied since the last round, then the device sections. */
int migration_save_tail(tes_stream *s, void (*final_ram)(tes_stream *, void *), void *opaque,
                        char **errp)
{
    tes_stream *devs;
    const void *data;
    size_t len;
    int ret;

    core_lock();
    if (!(devs = devices_snapshot(errp, &ret))) {
        core_unlock();
        return ret;
    }
    core_unlock();
    final_ram(s, opaque);
    data = stream_mem_data(devs, &len);
    stream_write(s, data, len);
    stream_close(devs);
    stream_flush(s);
    if (stream_error(s)) {
        core_set_error(errp, "writing the migration stream failed: %s",
                       g_strerror(-stream_error(s)));
        return stream_error(s);
    }
    return 0;
}
