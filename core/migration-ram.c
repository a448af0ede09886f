/*
 * tessera core: live migration of RAM (pre-copy), as QEMU's RAM migration.
 *
 * The guest runs while its RAM goes out: first every region whole (the
 * RAM sections of migration.c, zero pages skipped), with dirty logging on
 * (memory.c: DMA and the core's own writes mark pages, and a CPU marks
 * the page it fills a soft TLB write entry for). Then rounds: the dirty
 * bits are taken (memory_dirty_sync, under the machine lock) and those
 * pages sent again as RAM_DIRTY sections. When what is left would go out
 * within downtime-limit at the bandwidth the last round reached, or after
 * MAX_ROUNDS (a guest that dirties faster than the link carries never
 * converges; QEMU would iterate on, we stop and copy), the guest stops and
 * migration_save_tail() sends the last dirty pages and the devices.
 * max-bandwidth caps the rate of the whole stream (QEMU's default, 128
 * MiB/s), downtime-limit is QEMU's (300 ms).
 *
 * Statistics for query-migrate's "ram" member are kept under stats_lock
 * (the monitor reads them while the migration thread writes).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <json-glib/json-glib.h>

#include "migration-int.h"

/* ---- RAM regions, their stream ids and RAM sections (stop-and-copy) ---- */



static void ram_collect(tes_region *r, void *opaque)
{
    ram_entry *e = g_new0(ram_entry, 1);

    e->r = r;
    g_ptr_array_add(opaque, e);
}

static void ram_entry_free(gpointer p)
{
    ram_entry *e = p;

    g_free(e->id);
    g_free(e);
}

/* RAM regions with their stream ids: the name, or owner/name when the
 * name alone is ambiguous. Same machine configuration, same ids. */
GPtrArray *mig_ram_list(void)
{
    GPtrArray *list = g_ptr_array_new_with_free_func(ram_entry_free);

    memory_foreach_ram(ram_collect, list);
    for (guint i = 0; i < list->len; i++) {
        ram_entry *e = g_ptr_array_index(list, i);
        unsigned same = 0;

        for (guint j = 0; j < list->len; j++) {
            ram_entry *o = g_ptr_array_index(list, j);
            same += strcmp(o->r->name, e->r->name) == 0;
        }
        e->id = same > 1 && e->r->owner
                    ? g_strdup_printf("%s/%s", e->r->owner->name, e->r->name)
                    : g_strdup(e->r->name);
    }
    return list;
}

static bool is_zero(const uint8_t *p, size_t len)
{
    /* p[0] == 0 and each byte equals the next: all zero. */
    return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

static size_t page_len(uint64_t size, uint64_t page)
{
    return MIN(MIG_PAGE, size - page * MIG_PAGE);
}

#define BITS (8 * sizeof(unsigned long))

static bool bit_test(const unsigned long *b, uint64_t p)
{
    return (b[p / BITS] >> (p % BITS)) & 1;
}

/* The pages of r that may hold other bytes than zero, one bit a page;
 * NULL when that is unknown (every page may). RAM the core mapped private
 * and anonymous reads as zero wherever the kernel holds no page for it,
 * neither present nor swapped out, and /proc/self/pagemap (bits 63 and 62
 * of each page's entry) says which without touching them: reading a
 * never-written page to test it costs a page fault, and on a virtualised
 * host those faults were most of a pass over a mostly empty guest RAM
 * (source and destination alike). A page written after the look is the
 * dirty log's (source) or the stream's (destination) business. */
static unsigned long *ram_maybe_nonzero(tes_region *r)
{
    uint64_t npages = (region_size(r) + MIG_PAGE - 1) / MIG_PAGE;
    uintptr_t first = (uintptr_t)region_ram_ptr(r) / MIG_PAGE;
    unsigned long *bits;
    uint64_t ent[1024];
    int fd;

    if (!r->anon || !region_ram_ptr(r) || sysconf(_SC_PAGESIZE) != MIG_PAGE ||
        (fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)) < 0) {
        return NULL;
    }
    bits = g_new0(unsigned long, npages / BITS + 1);
    for (uint64_t p = 0; p < npages;) {
        ssize_t got = pread(fd, ent, MIN(npages - p, G_N_ELEMENTS(ent)) * 8,
                            (off_t)(first + p) * 8);

        if (got <= 0 || got % 8) {
            g_clear_pointer(&bits, g_free);
            break;
        }
        for (ssize_t i = 0; i < got / 8; i++, p++) {
            if (ent[i] >> 62) {
                bits[p / BITS] |= 1ul << (p % BITS);
            }
        }
    }
    close(fd);
    return bits;
}

static bool page_is_zero(const unsigned long *maybe, const uint8_t *ram, uint64_t size,
                         uint64_t p)
{
    return (maybe && !bit_test(maybe, p)) || is_zero(ram + p * MIG_PAGE, page_len(size, p));
}

/* Digest of a region's runs: page numbers and bytes, 8 at a time (a
 * multiply-rotate round as in xxHash; corruption, not attacks, is what it
 * catches: a crafted stream still meets the range checks). */
static uint64_t digest_mix(uint64_t h, uint64_t v)
{
    h ^= v * 0x9e3779b185ebca87ull;
    h = (h << 31) | (h >> 33);
    return h * 0xc2b2ae3d27d4eb4full;
}

static uint64_t digest_bytes(uint64_t h, const uint8_t *p, size_t len)
{
    uint64_t w;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        memcpy(&w, p + i, 8);
        h = digest_mix(h, w);
    }
    for (; i < len; i++) {
        h = digest_mix(h, p[i]);
    }
    return h;
}

static uint64_t ram_digest(uint64_t h, uint64_t start, uint32_t count, const uint8_t *p,
                           size_t len)
{
    h = digest_mix(h, start);
    h = digest_mix(h, count);
    return digest_bytes(h, p, len);
}

/* Write a run of guest RAM and return the digest of what was written: the
 * guest may be running (live migration) and change the pages meanwhile, so
 * each chunk is copied once and both written and digested from the copy.
 * Chunks are multiples of 8 bytes but the last: the same digest as
 * ram_digest() over the whole run. */
uint64_t mig_ram_write_run(tes_stream *s, uint64_t h, uint64_t start, uint32_t count,
                           const uint8_t *p, size_t len)
{
    static __thread uint8_t bounce[64 * 1024];

    h = digest_mix(h, start);
    h = digest_mix(h, count);
    mig_put_u64(s, start);
    mig_put_u32(s, count);
    for (size_t done = 0; done < len && !stream_error(s);) {
        size_t n = MIN(sizeof(bounce), len - done);

        memcpy(bounce, p + done, n);
        stream_write(s, bounce, n);
        h = digest_bytes(h, bounce, n);
        done += n;
    }
    return h;
}

uint64_t mig_ram_save_full(tes_stream *s, ram_entry *e,
                           void (*sent)(void *opaque, uint64_t bytes), void *opaque)
{
    uint64_t size = region_size(e->r);
    uint64_t npages = (size + MIG_PAGE - 1) / MIG_PAGE, digest = 0, nonzero = 0;
    const uint8_t *ram = region_ram_ptr(e->r);
    unsigned long *maybe = ram_maybe_nonzero(e->r);
    /* Live, runs of at most 1 MiB: sent() paces the stream between them. */
    uint64_t max_run = sent ? 256 : UINT32_MAX;

    mig_put_u8(s, 1 /* SECTION_RAM */);
    mig_put_str(s, e->id);
    mig_put_u64(s, size);
    mig_put_u32(s, MIG_PAGE);
    for (uint64_t p = 0; p < npages && ram && !stream_error(s);) {
        uint64_t start;
        size_t len;

        if (page_is_zero(maybe, ram, size, p)) {
            p++;
            continue;
        }
        for (start = p; p < npages && p - start < max_run &&
                        !page_is_zero(maybe, ram, size, p);) {
            p++;
        }
        len = MIN(p * MIG_PAGE, size) - start * MIG_PAGE;
        digest = mig_ram_write_run(s, digest, start, p - start, ram + start * MIG_PAGE, len);
        nonzero += p - start;
        if (sent) {
            sent(opaque, len + 12);
        }
    }
    g_free(maybe);
    mig_put_u64(s, 0);
    mig_put_u32(s, 0); /* end of runs */
    mig_put_u64(s, digest);
    return nonzero;
}

/* "256M", "64K", or bytes when not a round size. */
static char *size_str(uint64_t size)
{
    static const char units[] = "KMGT";
    int u = -1;

    while (u < 3 && size >= 1024 && size % 1024 == 0) {
        size /= 1024;
        u++;
    }
    return u < 0 ? g_strdup_printf("%" G_GUINT64_FORMAT " bytes", size)
                 : g_strdup_printf("%" G_GUINT64_FORMAT "%c", size, units[u]);
}

/* Zero pages [from, to) that are not zero already: untouched guest RAM
 * stays unallocated (and untouched: maybe, ram_maybe_nonzero()) on the
 * destination. */
static void ram_zero_pages(const unsigned long *maybe, uint8_t *ram, uint64_t size,
                           uint64_t from, uint64_t to)
{
    for (uint64_t p = from; p < to; p++) {
        if (!page_is_zero(maybe, ram, size, p)) {
            memset(ram + p * MIG_PAGE, 0, page_len(size, p));
        }
    }
}

ram_entry *mig_ram_find(GPtrArray *list, const char *id)
{
    for (guint i = 0; i < list->len; i++) {
        ram_entry *e = g_ptr_array_index(list, i);
        if (strcmp(e->id, id) == 0) {
            return e;
        }
    }
    return NULL;
}

static int ram_load_runs(tes_stream *s, ram_entry *e, uint64_t size, uint32_t version,
                         char **errp)
{
    uint64_t npages = (size + MIG_PAGE - 1) / MIG_PAGE, next = 0, digest = 0;
    uint8_t *ram = region_ram_ptr(e->r);
    /* Taken before any run lands: the gaps between runs are what it is
     * asked about, and nothing else writes the RAM while it loads. */
    g_autofree unsigned long *maybe = ram_maybe_nonzero(e->r);

    for (;;) {
        uint64_t start = mig_get_u64(s);
        uint32_t count = mig_get_u32(s);
        size_t len;

        if (stream_error(s) || count == 0) {
            break;
        }
        if (start < next || start > npages || count > npages - start) {
            core_set_error(errp, "RAM region '%s': pages %" G_GUINT64_FORMAT "+%u in the "
                           "stream are out of order or beyond its end", e->id, start, count);
            return -EINVAL;
        }
        ram_zero_pages(maybe, ram, size, next, start);
        next = start + count;
        len = MIN(next * MIG_PAGE, size) - start * MIG_PAGE;
        if (stream_read(s, ram + start * MIG_PAGE, len) == 0) {
            digest = ram_digest(digest, start, count, ram + start * MIG_PAGE, len);
        }
    }
    if (version >= 2 && !stream_error(s) && mig_get_u64(s) != digest && !stream_error(s)) {
        core_set_error(errp, "RAM region '%s': its pages do not match the stream's digest "
                       "(corrupt or shifted runs)", e->id);
        return -EINVAL;
    }
    if (stream_error(s)) {
        core_set_error(errp, "RAM region '%s': the stream is cut short", e->id);
        return -EIO;
    }
    ram_zero_pages(maybe, ram, size, next, npages);
    return 0;
}

int mig_ram_load_section(tes_stream *s, GPtrArray *list, uint32_t version, char **errp)
{
    g_autofree char *id = mig_get_str(s);
    uint64_t size = mig_get_u64(s);
    uint32_t page = mig_get_u32(s);
    g_autofree char *eid = NULL;
    ram_entry *e;

    if (stream_error(s)) {
        core_set_error(errp, "migration stream is cut short in a RAM section");
        return -EIO;
    }
    e = mig_ram_find(list, id);
    eid = core_printable(id);
    if (!e || e->seen) {
        core_set_error(errp, e ? "stream has RAM region '%s' twice"
                               : "stream has RAM region '%s' that this machine lacks", eid);
        return -EINVAL;
    }
    if (size != region_size(e->r)) {
        g_autofree char *there = size_str(size), *here = size_str(region_size(e->r));
        core_set_error(errp, "RAM region '%s' is %s in the stream, %s here", eid, there, here);
        return -EINVAL;
    }
    if (page != MIG_PAGE) {
        core_set_error(errp, "RAM region '%s': page size %u in the stream, want %u", eid, page,
                       MIG_PAGE);
        return -EINVAL;
    }
    e->seen = true;
    return ram_load_runs(s, e, size, version, errp);
}


/* ---- pre-copy ---- */

#define MAX_ROUNDS 30

static struct {
    int64_t downtime_limit_ms;
    int64_t max_bandwidth; /* bytes per second */
} params = {300, 128 << 20};

typedef struct ram_stats {
    uint64_t transferred, total, remaining, duplicate, normal, dirty_sync_count;
    uint64_t dirty_pages_rate; /* pages per second in the last round */
    double mbps;
    int64_t expected_downtime_ms, downtime_ms, total_time_ms, setup_time_ms;
} ram_stats;

static GMutex stats_lock;
static ram_stats stats;

/* One live migration's state. */
typedef struct live {
    tes_stream *s;
    GPtrArray *ram;        /* ram_entry */
    unsigned long **bits;  /* per region: pages to send */
    int64_t t0, stop_ns;   /* g_get_monotonic_time() µs */
    int64_t rate_t0;       /* start of the rate-limit window (µs) */
    uint64_t rate_bytes;   /* bytes in it */
    uint64_t sent;         /* bytes so far */
} live;

static uint64_t region_pages(ram_entry *e)
{
    return (region_size(e->r) + MIG_PAGE - 1) / MIG_PAGE;
}

/* Sleep as long as the stream is ahead of max-bandwidth. */
static void rate_limit(live *l, uint64_t bytes)
{
    int64_t now = g_get_monotonic_time(), due;

    l->sent += bytes;
    l->rate_bytes += bytes;
    g_mutex_lock(&stats_lock);
    stats.transferred = l->sent;
    g_mutex_unlock(&stats_lock);
    if (params.max_bandwidth <= 0) {
        return;
    }
    due = l->rate_t0 + (int64_t)(l->rate_bytes * 1000000.0 / params.max_bandwidth);
    if (due > now && !mig_stream_cancelled(l->s)) {
        g_usleep(MIN(due - now, 100000));
    }
    if (now - l->rate_t0 > 1000000) {
        l->rate_t0 = now; /* a fresh window each second */
        l->rate_bytes = 0;
    }
}

/* The dirty pages of one region as a RAM_DIRTY section; clears them. */
static void send_dirty_region(live *l, unsigned idx)
{
    ram_entry *e = g_ptr_array_index(l->ram, idx);
    unsigned long *b = l->bits[idx];
    uint64_t npages = region_pages(e), size = region_size(e->r), digest = 0;
    const uint8_t *ram = region_ram_ptr(e->r);

    mig_put_u8(l->s, 6); /* SECTION_RAM_DIRTY (migration.c) */
    mig_put_str(l->s, e->id);
    for (uint64_t p = 0; p < npages && ram && !stream_error(l->s);) {
        uint64_t start, len;

        if (!bit_test(b, p)) {
            p++;
            continue;
        }
        for (start = p; p < npages && p - start < 256 && bit_test(b, p); p++) {
        }
        len = MIN(p * MIG_PAGE, size) - start * MIG_PAGE;
        digest = mig_ram_write_run(l->s, digest, start, p - start, ram + start * MIG_PAGE, len);
        rate_limit(l, len + 12);
    }
    mig_put_u64(l->s, 0);
    mig_put_u32(l->s, 0);
    mig_put_u64(l->s, digest);
    memset(b, 0, (npages + BITS - 1) / BITS * sizeof(unsigned long));
}

/* Take the dirty bits (machine lock); returns the dirty page count. */
static uint64_t sync_dirty(live *l)
{
    uint64_t n = 0;

    core_lock();
    for (guint i = 0; i < l->ram->len; i++) {
        ram_entry *e = g_ptr_array_index(l->ram, i);
        n += memory_dirty_sync(e->r, l->bits[i]);
    }
    core_unlock();
    /* Pages dirty in an earlier round and not sent yet are in the bits
     * too: count what will go out. */
    n = 0;
    for (guint i = 0; i < l->ram->len; i++) {
        ram_entry *e = g_ptr_array_index(l->ram, i);
        for (uint64_t w = 0; w < (region_pages(e) + BITS - 1) / BITS; w++) {
            n += __builtin_popcountl(l->bits[i][w]);
        }
    }
    g_mutex_lock(&stats_lock);
    stats.dirty_sync_count++;
    stats.remaining = n * MIG_PAGE;
    g_mutex_unlock(&stats_lock);
    return n;
}

static void send_all_dirty(live *l)
{
    for (guint i = 0; i < l->ram->len && !stream_error(l->s); i++) {
        send_dirty_region(l, i);
    }
}

static void final_ram(tes_stream *s, void *opaque)
{
    live *l = opaque;

    sync_dirty(l);
    send_all_dirty(l);
}

static void live_begin(live *l)
{
    uint64_t total = 0;

    core_lock();
    l->ram = mig_ram_list();
    l->bits = g_new0(unsigned long *, l->ram->len);
    for (guint i = 0; i < l->ram->len; i++) {
        ram_entry *e = g_ptr_array_index(l->ram, i);
        l->bits[i] = g_new0(unsigned long, (region_pages(e) + BITS - 1) / BITS + 1);
        memory_dirty_sync(e->r, NULL); /* what DMA marked before counts as sent */
        total += region_size(e->r);
    }
    memory_dirty_log(true);
    core_unlock();
    g_mutex_lock(&stats_lock);
    stats.total = total;
    stats.setup_time_ms = (g_get_monotonic_time() - l->t0) / 1000;
    g_mutex_unlock(&stats_lock);
}

static void live_end(live *l)
{
    core_lock();
    memory_dirty_log(false);
    core_unlock();
    for (guint i = 0; l->ram && i < l->ram->len; i++) {
        g_free(l->bits[i]);
    }
    g_free(l->bits);
    if (l->ram) {
        g_ptr_array_unref(l->ram);
    }
}

static void full_sent(void *opaque, uint64_t bytes)
{
    rate_limit(opaque, bytes);
}

/* The first pass: every region whole, while the guest runs. */
static void send_full(live *l)
{
    for (guint i = 0; i < l->ram->len && !stream_error(l->s); i++) {
        ram_entry *e = g_ptr_array_index(l->ram, i);
        uint64_t nonzero = mig_ram_save_full(l->s, e, full_sent, l);

        g_mutex_lock(&stats_lock);
        stats.normal += nonzero;
        stats.duplicate += region_pages(e) - nonzero;
        g_mutex_unlock(&stats_lock);
    }
}

/* Rounds until the dirty rest fits the downtime limit. */
static void rounds(live *l)
{
    for (unsigned r = 0; r < MAX_ROUNDS && !stream_error(l->s); r++) {
        int64_t t = g_get_monotonic_time();
        uint64_t sent0 = l->sent, n = sync_dirty(l);
        double bw; /* bytes per second the last round reached */
        int64_t expect;

        if (mig_stream_cancelled(l->s)) {
            return;
        }
        send_all_dirty(l);
        mig_stream_flush(l->s);
        t = MAX(g_get_monotonic_time() - t, 1);
        bw = (l->sent - sent0) * 1e6 / t;
        if (params.max_bandwidth > 0) {
            bw = MIN(bw, params.max_bandwidth);
        }
        n = sync_dirty(l);
        expect = bw > 0 ? (int64_t)(n * MIG_PAGE * 1000.0 / bw) : 0;
        g_mutex_lock(&stats_lock);
        stats.normal += n;
        stats.dirty_pages_rate = (uint64_t)(n * 1e6 / t);
        stats.mbps = bw * 8 / 1e6;
        stats.expected_downtime_ms = expect;
        g_mutex_unlock(&stats_lock);
        if (expect <= params.downtime_limit_ms) {
            return;
        }
    }
}

int ram_live_save(tes_stream *s, void (*stop_cb)(void), char **errp)
{
    live l = {.s = s, .t0 = g_get_monotonic_time()};
    int ret;

    l.rate_t0 = l.t0;
    ram_stats_reset();
    live_begin(&l);
    mig_write_header(s);
    send_full(&l);
    rounds(&l);
    if (stream_error(s) || mig_stream_cancelled(s)) {
        live_end(&l);
        core_set_error(errp, "writing the migration stream failed: %s",
                       g_strerror(stream_error(s) ? -stream_error(s) : ECANCELED));
        return stream_error(s) ? stream_error(s) : -ECANCELED;
    }
    /* The disks synced and what the guest dirtied meanwhile sent, while
     * it runs: the downtime's flush and last pages are what is left. */
    drives_preflush();
    sync_dirty(&l);
    send_all_dirty(&l);
    /* The downtime counts from the stop request, as QEMU's does. */
    l.stop_ns = g_get_monotonic_time();
    core_lock();
    stop_cb();
    core_unlock();
    ret = migration_save_tail(s, final_ram, &l, errp);
    g_mutex_lock(&stats_lock);
    stats.downtime_ms = (g_get_monotonic_time() - l.stop_ns) / 1000;
    stats.total_time_ms = (g_get_monotonic_time() - l.t0) / 1000;
    stats.remaining = 0;
    g_mutex_unlock(&stats_lock);
    live_end(&l);
    return ret;
}

/* ---- the destination ---- */

int ram_dirty_load(tes_stream *s, GPtrArray *list, char **errp)
{
    g_autofree char *id = mig_get_str(s);
    ram_entry *e = id ? mig_ram_find(list, id) : NULL;
    uint64_t npages, size, next = 0, digest = 0;
    uint8_t *ram;

    if (!e || !e->seen) {
        core_set_error(errp, "migration stream has dirty pages of RAM region '%s' %s",
                       e ? e->id : "?", e ? "before the region" : "that this machine lacks");
        return -EINVAL;
    }
    size = region_size(e->r);
    npages = (size + MIG_PAGE - 1) / MIG_PAGE;
    ram = region_ram_ptr(e->r);
    for (;;) {
        uint64_t start = mig_get_u64(s), len;
        uint32_t count = mig_get_u32(s);

        if (stream_error(s) || count == 0) {
            break;
        }
        if (start < next || start > npages || count > npages - start) {
            core_set_error(errp, "RAM region '%s': dirty pages %" G_GUINT64_FORMAT "+%u are out "
                           "of order or beyond its end", e->id, start, count);
            return -EINVAL;
        }
        next = start + count;
        len = MIN(next * MIG_PAGE, size) - start * MIG_PAGE;
        if (stream_read(s, ram + start * MIG_PAGE, len) == 0) {
            digest = ram_digest(digest, start, count, ram + start * MIG_PAGE, len);
        }
    }
    if (!stream_error(s) && mig_get_u64(s) != digest && !stream_error(s)) {
        core_set_error(errp, "RAM region '%s': its dirty pages do not match the stream's "
                       "digest", e->id);
        return -EINVAL;
    }
    if (stream_error(s)) {
        core_set_error(errp, "RAM region '%s': the stream is cut short", e->id);
        return -EIO;
    }
    return 0;
}

/* ---- parameters and statistics ---- */

bool ram_set_param(const char *name, int64_t v, char **errp)
{
    if (strcmp(name, "downtime-limit") == 0) {
        if (v < 0 || v > 2000000) {
            core_set_error(errp, "Parameter 'downtime_limit' expects an integer in the range of "
                           "0 to 2000000 milliseconds");
            return false;
        }
        params.downtime_limit_ms = v;
        return true;
    }
    if (strcmp(name, "max-bandwidth") == 0) {
        if (v < 0) {
            core_set_error(errp, "Parameter 'max_bandwidth' expects a non-negative integer "
                           "(bytes per second)");
            return false;
        }
        params.max_bandwidth = v;
        return true;
    }
    core_set_error(errp, "Parameter '%s' is unexpected", name);
    return false;
}

int64_t ram_get_param(const char *name)
{
    return strcmp(name, "downtime-limit") == 0 ? params.downtime_limit_ms
                                               : params.max_bandwidth;
}

void ram_stats_reset(void)
{
    g_mutex_lock(&stats_lock);
    memset(&stats, 0, sizeof(stats));
    g_mutex_unlock(&stats_lock);
}

void ram_stats_json(void *json_object, bool completed)
{
    JsonObject *o = json_object, *ram = json_object_new();
    ram_stats st;

    g_mutex_lock(&stats_lock);
    st = stats;
    g_mutex_unlock(&stats_lock);
    json_object_set_int_member(ram, "transferred", st.transferred);
    json_object_set_int_member(ram, "remaining", st.remaining);
    json_object_set_int_member(ram, "total", st.total);
    json_object_set_int_member(ram, "duplicate", st.duplicate);
    json_object_set_int_member(ram, "normal", st.normal);
    json_object_set_int_member(ram, "normal-bytes", st.normal * MIG_PAGE);
    json_object_set_int_member(ram, "dirty-pages-rate", st.dirty_pages_rate);
    json_object_set_double_member(ram, "mbps", st.mbps);
    json_object_set_int_member(ram, "dirty-sync-count", st.dirty_sync_count);
    json_object_set_int_member(ram, "page-size", MIG_PAGE);
    json_object_set_object_member(o, "ram", ram);
    json_object_set_int_member(o, "setup-time", st.setup_time_ms);
    if (completed) {
        json_object_set_int_member(o, "total-time", st.total_time_ms);
        json_object_set_int_member(o, "downtime", st.downtime_ms);
    } else {
        json_object_set_int_member(o, "expected-downtime", st.expected_downtime_ms);
    }
}
