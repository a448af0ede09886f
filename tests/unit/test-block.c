/*
 * Unit tests of block backends: -drive parsing and I/O through io_uring.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core.h"
#include "block-qcow2.h"

static char *tmpdir;

static char *make_image(const char *name, size_t size)
{
    char *path = g_build_filename(tmpdir, name, NULL);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, size), ==, 0);
    close(fd);
    return path;
}

static bool add(const char *fmt, const char *path, char **err)
{
    char *opt = g_strdup_printf(fmt, path);
    bool ok = drive_add(opt, err);

    g_free(opt);
    return ok;
}

/* How many io_uring instances this process holds. */
static unsigned count_rings(void)
{
    GDir *dir = g_dir_open("/proc/self/fd", 0, NULL);
    const char *e;
    unsigned n = 0;

    while (dir && (e = g_dir_read_name(dir))) {
        char *p = g_build_filename("/proc/self/fd", e, NULL);
        char *target = g_file_read_link(p, NULL);
        n += target && strstr(target, "io_uring") != NULL;
        g_free(target);
        g_free(p);
    }
    if (dir) {
        g_dir_close(dir);
    }
    return n;
}

static bool kernel_has_io_uring(void)
{
    struct io_uring ring;

    if (io_uring_queue_init(2, &ring, 0) < 0) {
        return false;
    }
    io_uring_queue_exit(&ring);
    return true;
}

static void test_read_write_round_trip(void)
{
    char *path = make_image("rw.img", 1 << 20);
    uint8_t in[8192], out[8192];
    unsigned rings = count_rings();
    char *err = NULL;
    tes_drive *d;

    g_assert_true(add("file=%s,if=none,id=d0,format=raw,cache=none", path, &err));
    g_assert_null(err);
    if (kernel_has_io_uring()) {
        g_assert_cmpuint(count_rings(), ==, rings + 1); /* the real thing, not a fallback */
    }
    d = drive_find("d0");
    g_assert_nonnull(d);
    g_assert_cmpuint(drive_size(d), ==, 1 << 20);
    g_assert_false(drive_readonly(d));
    for (unsigned i = 0; i < sizeof(in); i++) {
        in[i] = i * 13 + 1;
    }
    g_assert_cmpint(drive_pwrite(d, 4096 * 3 + 17, in, sizeof(in)), ==, 0);
    g_assert_cmpint(drive_flush(d), ==, 0);
    memset(out, 0, sizeof(out));
    g_assert_cmpint(drive_pread(d, 4096 * 3 + 17, out, sizeof(out)), ==, 0);
    g_assert_cmpmem(in, sizeof(in), out, sizeof(out));
    /* Past the end of the file: zeros, not an error. */
    memset(out, 0xaa, sizeof(out));
    g_assert_cmpint(drive_pread(d, (1 << 20) - 100, out, 200), ==, 0);
    g_assert_cmphex(out[0], ==, 0);
    g_assert_cmphex(out[150], ==, 0);
    drives_close_all();
    g_assert_cmpuint(count_rings(), ==, rings);
    g_free(path);
}

static void test_missing_file(void)
{
    char *err = NULL;

    g_assert_false(drive_add("file=/nonexistent/x.img,if=none,id=m0", &err));
    g_assert_cmpstr(err, ==,
                    "drive 'm0': cannot open '/nonexistent/x.img': No such file or directory");
    g_assert_null(drive_find("m0"));
    g_free(err);
}

static void test_readonly_refuses_writes(void)
{
    char *path = make_image("ro.img", 65536);
    uint8_t buf[512] = {1};
    char *err = NULL;
    tes_drive *d;
    int ret;

    g_assert_true(add("file=%s,if=none,id=r0,readonly=on", path, &err));
    d = drive_find("r0");
    g_assert_true(drive_readonly(d));
    ret = drive_pwrite(d, 0, buf, sizeof(buf));
    g_assert_true(ret == -EROFS || ret == -EBADF);
    g_assert_cmpint(drive_pread(d, 0, buf, sizeof(buf)), ==, 0);
    g_assert_cmphex(buf[0], ==, 0);
    drives_close_all();
    g_free(path);
}

static void test_option_errors(void)
{
    char *path = make_image("opt.img", 4096);
    char *err = NULL;

    g_assert_false(add("file=%s,if=none,id=o0,bogus=1", path, &err));
    g_assert_cmpstr(err, ==, "drive: unknown option 'bogus'");
    g_clear_pointer(&err, g_free);
    g_assert_false(add("file=%s,if=virtio,id=o0", path, &err));
    g_assert_cmpstr(err, ==, "drive: if=virtio not supported, use if=none with -device");
    g_clear_pointer(&err, g_free);
    g_assert_false(add("file=%s,if=none,id=o0,format=qcow2", path, &err));
    g_assert_nonnull(strstr(err, "qcow2"));
    g_clear_pointer(&err, g_free);
    g_assert_true(add("file=%s,if=none,id=o0", path, &err));
    g_assert_false(add("file=%s,if=none,id=o0", path, &err));
    g_assert_nonnull(strstr(err, "o0"));
    g_clear_pointer(&err, g_free);
    drives_close_all();
    g_free(path);
}

static void test_claim_once(void)
{
    char *path = make_image("claim.img", 4096);
    char *err = NULL;
    tes_drive *d;

    g_assert_true(add("file=%s,if=none,id=c0", path, &err));
    d = drive_find("c0");
    g_assert_true(drive_claim(d, "nvme0", &err));
    g_assert_false(drive_claim(d, "virtio-blk1", &err));
    g_assert_cmpstr(err, ==, "drive 'c0' is already in use by device 'nvme0' (a drive backs "
                    "one device)");
    g_clear_pointer(&err, g_free);
    drive_release(d);
    g_assert_true(drive_claim(d, "virtio-blk1", &err));
    drives_close_all();
    g_free(path);
}

/* Two devices without id= both carry their type's name while their
 * options are applied: the name must not let the second one share. */
static void test_claim_same_name_refused(void)
{
    char *path = make_image("claim2.img", 4096);
    char *err = NULL;
    tes_drive *d;

    g_assert_true(add("file=%s,if=none,id=c1", path, &err));
    d = drive_find("c1");
    g_assert_true(drive_claim(d, "nvme", &err));
    g_assert_false(drive_claim(d, "nvme", &err));
    g_assert_nonnull(strstr(err, "drive 'c1' is already in use by device 'nvme'"));
    g_clear_pointer(&err, g_free);
    drives_close_all();
    g_free(path);
}

/* cache=, aio=, discard=, media= are accepted for QEMU command lines but
 * a value QEMU would refuse is refused, not silently dropped. */
static void test_ignored_option_values_checked(void)
{
    char *path = make_image("ign.img", 4096);
    char *err = NULL;

    g_assert_true(add("file=%s,if=none,id=i0,cache=none,aio=io_uring,discard=unmap", path, &err));
    g_assert_false(add("file=%s,if=none,id=i1,cache=bogus", path, &err));
    g_assert_cmpstr(err, ==, "drive: cache=bogus is invalid (expected "
                    "none|writeback|writethrough|directsync|unsafe)");
    g_clear_pointer(&err, g_free);
    g_assert_false(add("file=%s,if=none,id=i2,aio=nonsense", path, &err));
    g_assert_cmpstr(err, ==, "drive: aio=nonsense is invalid (expected threads|native|io_uring)");
    g_clear_pointer(&err, g_free);
    drives_close_all();
    g_free(path);
}

/* A directory opens read-only (and reads as EISDIR later): say what it is. */
static void test_directory_refused(void)
{
    char *err = NULL;

    g_assert_false(add("file=%s,if=none,id=dir0,readonly=on", tmpdir, &err));
    g_assert_nonnull(strstr(err, "is a directory, not a disk image"));
    g_clear_pointer(&err, g_free);
    g_assert_null(drive_find("dir0"));
}

/* ---- asynchronous requests (ABI 1.1), through the ring and the pool ---- */

typedef struct done_log {
    unsigned calls;
    int ret;
} done_log;

static void log_done(void *opaque, int ret)
{
    done_log *l = opaque;

    l->calls++;
    l->ret = ret;
}

/* Open drive id on path through the ring or (pool) the thread pool. */
static tes_drive *open_async(const char *id, const char *path, bool pool, const char *extra)
{
    char *opt = g_strdup_printf("file=%s,if=none,id=%s%s", path, id, extra ? extra : "");
    char *err = NULL;
    tes_drive *d;

    unsigned rings = count_rings();

    drives_force_thread_pool(pool);
    g_assert_true(drive_add(opt, &err));
    drives_force_thread_pool(false);
    g_assert_null(err);
    /* The backend asked for is the one in use. */
    if (pool || !kernel_has_io_uring()) {
        g_assert_cmpuint(count_rings(), ==, rings);
    } else {
        g_assert_cmpuint(count_rings(), ==, rings + 1);
    }
    g_free(opt);
    d = drive_find(id);
    g_assert_nonnull(d);
    return d;
}

static void fill_image(tes_drive *d, uint64_t size)
{
    uint8_t *buf = g_malloc(size);

    for (uint64_t i = 0; i < size; i++) {
        buf[i] = (uint8_t)(i * 7 + (i >> 12));
    }
    g_assert_cmpint(drive_pwrite(d, 0, buf, size), ==, 0);
    g_free(buf);
}

static uint8_t pattern_at(uint64_t i)
{
    return (uint8_t)(i * 7 + (i >> 12));
}

/* Submit one request over a single buffer and wait for it. */
static int run_one(tes_drive *d, tes_blk_op op, uint64_t off, void *buf, uint64_t len,
                   unsigned flags)
{
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    done_log l = {0};
    bool rw = op == TES_BLK_READ || op == TES_BLK_WRITE;

    g_assert_cmpint(drive_submit(d, op, off, rw ? &iov : NULL, rw ? 1 : 0, len, flags,
                                 log_done, &l), ==, 0);
    g_assert_cmpuint(l.calls, ==, 0); /* never from inside drive_submit */
    drive_drain(d);
    g_assert_cmpuint(l.calls, ==, 1);
    g_assert_cmpuint(drive_inflight(d), ==, 0);
    return l.ret;
}

static void test_async_concurrent_reads(gconstpointer pool)
{
    char *path = make_image("aread.img", 1 << 20);
    tes_drive *d = open_async("a0", path, GPOINTER_TO_INT(pool), NULL);
    uint8_t *buf = g_malloc0(64 * 4096);
    done_log l[64] = {{0}};
    struct iovec iov[2];

    fill_image(d, 1 << 20);
    for (unsigned i = 0; i < 64; i++) {
        /* Every other 4K block, split in two iovecs of one buffer. */
        iov[0] = (struct iovec){buf + i * 4096, 1000};
        iov[1] = (struct iovec){buf + i * 4096 + 1000, 3096};
        g_assert_cmpint(drive_submit(d, TES_BLK_READ, i * 8192, iov, 2, 0, 0, log_done, &l[i]),
                        ==, 0);
    }
    g_assert_cmpuint(drive_inflight(d), ==, 64);
    drive_drain(d);
    g_assert_cmpuint(drive_inflight(d), ==, 0);
    for (unsigned i = 0; i < 64; i++) {
        g_assert_cmpuint(l[i].calls, ==, 1);
        g_assert_cmpint(l[i].ret, ==, 0);
        for (unsigned j = 0; j < 4096; j += 511) {
            g_assert_cmphex(buf[i * 4096 + j], ==, pattern_at(i * 8192 + j));
        }
    }
    drives_close_all();
    g_free(buf);
    g_free(path);
}

/* More requests than the ring holds wait in the pending list. */
static void test_async_deeper_than_ring(gconstpointer pool)
{
    enum { N = 700 };
    char *path = make_image("adeep.img", 1 << 20);
    tes_drive *d = open_async("a1", path, GPOINTER_TO_INT(pool), NULL);
    uint8_t *buf = g_malloc0(N * 512);
    done_log *l = g_new0(done_log, N);

    fill_image(d, 1 << 20);
    for (unsigned i = 0; i < N; i++) {
        struct iovec iov = {buf + i * 512, 512};
        g_assert_cmpint(drive_submit(d, TES_BLK_READ, i * 1024, &iov, 1, 0, 0, log_done, &l[i]),
                        ==, 0);
    }
    while (drive_inflight(d)) {
        drives_poll(true);
    }
    for (unsigned i = 0; i < N; i++) {
        g_assert_cmpuint(l[i].calls, ==, 1);
        g_assert_cmphex(buf[i * 512 + 100], ==, pattern_at(i * 1024 + 100));
    }
    drives_close_all();
    g_free(l);
    g_free(buf);
    g_free(path);
}

static void test_async_write_read_back(gconstpointer pool)
{
    char *path = make_image("awrite.img", 1 << 20);
    tes_drive *d = open_async("a2", path, GPOINTER_TO_INT(pool), NULL);
    uint8_t *in = g_malloc(32 * 4096), *out = g_malloc0(32 * 4096);
    done_log l[32] = {{0}};

    for (unsigned i = 0; i < 32 * 4096; i++) {
        in[i] = (uint8_t)(i * 31 + 5);
    }
    for (unsigned i = 0; i < 32; i++) {
        struct iovec iov = {in + i * 4096, 4096};
        g_assert_cmpint(drive_submit(d, TES_BLK_WRITE, i * 4096 + 512, &iov, 1, 0,
                                     i & 1 ? TES_BLK_FUA : 0, log_done, &l[i]), ==, 0);
    }
    drive_drain(d);
    for (unsigned i = 0; i < 32; i++) {
        g_assert_cmpuint(l[i].calls, ==, 1);
        g_assert_cmpint(l[i].ret, ==, 0);
    }
    g_assert_cmpint(run_one(d, TES_BLK_FLUSH, 0, NULL, 0, 0), ==, 0);
    g_assert_cmpint(run_one(d, TES_BLK_READ, 512, out, 32 * 4096, 0), ==, 0);
    g_assert_cmpmem(in, 32 * 4096, out, 32 * 4096);
    drives_close_all();
    g_free(in);
    g_free(out);
    g_free(path);
}

/* Write-zeroes and discard zero exactly [off, off + len): on ext4 through
 * fallocate, on tmpfs (no ZERO_RANGE) through the write-zeroes fallback. */
static void check_zeroes(const char *path, bool pool)
{
    const uint64_t size = 256 * 1024;
    tes_drive *d = open_async("z0", path, pool, NULL);
    uint8_t *buf = g_malloc(size);
    const struct { tes_blk_op op; unsigned flags; uint64_t off, len; } cases[] = {
        {TES_BLK_WRITE_ZEROES, 0, 1000, 5000},
        {TES_BLK_WRITE_ZEROES, TES_BLK_MAY_UNMAP, 20001, 70000},
        {TES_BLK_DISCARD, 0, 131072 + 3, 65536},
    };

    for (unsigned c = 0; c < G_N_ELEMENTS(cases); c++) {
        uint64_t off = cases[c].off, end = off + cases[c].len;

        memset(buf, 0xff, size);
        g_assert_cmpint(drive_pwrite(d, 0, buf, size), ==, 0);
        g_assert_cmpint(run_one(d, cases[c].op, off, NULL, cases[c].len, cases[c].flags), ==, 0);
        memset(buf, 0x55, size);
        g_assert_cmpint(drive_pread(d, 0, buf, size), ==, 0);
        g_assert_cmphex(buf[off - 1], ==, 0xff);
        g_assert_cmphex(buf[end], ==, 0xff);
        g_assert_cmphex(buf[0], ==, 0xff);
        g_assert_cmphex(buf[size - 1], ==, 0xff);
        for (uint64_t i = off; i < end; i++) {
            if (buf[i]) {
                g_error("case %u: byte %" G_GUINT64_FORMAT " is 0x%x, not zero", c, i, buf[i]);
            }
        }
    }
    g_assert_cmpuint(drive_size(d), ==, size);
    drives_close_all();
    g_free(buf);
}

static void test_async_zeroes_and_discard(gconstpointer pool)
{
    char *path = make_image("azero.img", 256 * 1024);
    char *shm;
    int fd;

    check_zeroes(path, GPOINTER_TO_INT(pool));
    g_free(path);
    if (!g_file_test("/dev/shm", G_FILE_TEST_IS_DIR)) {
        return;
    }
    shm = g_strdup_printf("/dev/shm/tessera-zero-%d.img", (int)getpid());
    fd = open(shm, O_RDWR | O_CREAT | O_TRUNC, 0644);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, 256 * 1024), ==, 0);
    close(fd);
    check_zeroes(shm, GPOINTER_TO_INT(pool));
    unlink(shm);
    g_free(shm);
}

static void test_async_range_and_readonly(gconstpointer pool)
{
    char *path = make_image("arange.img", 8192 + 100);
    tes_drive *d = open_async("r1", path, GPOINTER_TO_INT(pool), NULL);
    uint8_t buf[4096];

    fill_image(d, 8192 + 100);
    /* The partial last block reads, its tail as zeroes. */
    memset(buf, 0xaa, sizeof(buf));
    g_assert_cmpint(run_one(d, TES_BLK_READ, 8192, buf, 4096, 0), ==, 0);
    g_assert_cmphex(buf[99], ==, pattern_at(8192 + 99));
    g_assert_cmphex(buf[100], ==, 0);
    g_assert_cmphex(buf[4095], ==, 0);
    g_assert_cmpint(run_one(d, TES_BLK_READ, 12288, buf, 512, 0), ==, -EINVAL);
    g_assert_cmpint(run_one(d, TES_BLK_WRITE, 8192, buf, 4096, 0), ==, -EINVAL);
    g_assert_cmpint(run_one(d, TES_BLK_WRITE_ZEROES, 8000, NULL, 4096, 0), ==, -EINVAL);
    g_assert_cmpint(run_one(d, TES_BLK_DISCARD, UINT64_MAX - 10, NULL, 20, 0), ==, -EINVAL);
    drives_close_all();

    d = open_async("r2", path, GPOINTER_TO_INT(pool), ",readonly=on");
    g_assert_cmpint(run_one(d, TES_BLK_WRITE, 0, buf, 512, 0), ==, -EROFS);
    g_assert_cmpint(run_one(d, TES_BLK_WRITE_ZEROES, 0, NULL, 512, 0), ==, -EROFS);
    g_assert_cmpint(run_one(d, TES_BLK_DISCARD, 0, NULL, 512, 0), ==, -EROFS);
    g_assert_cmpint(run_one(d, TES_BLK_READ, 0, buf, 512, 0), ==, 0);
    g_assert_cmphex(buf[1], ==, pattern_at(1));
    g_assert_cmpint(drive_submit(NULL, TES_BLK_READ, 0, NULL, 0, 0, 0, log_done, NULL), ==,
                    -ENODEV);
    drives_close_all();
    g_free(path);
}

/* A callback that queues the next request (how devices keep their queue
 * depth): each runs once, the chain reaches its end. */
typedef struct chain {
    tes_drive *d;
    uint8_t buf[512];
    unsigned left, calls;
} chain;

static void chain_next(void *opaque, int ret)
{
    chain *c = opaque;
    struct iovec iov = {c->buf, sizeof(c->buf)};

    g_assert_cmpint(ret, ==, 0);
    c->calls++;
    if (c->left) {
        c->left--;
        g_assert_cmpint(drive_submit(c->d, TES_BLK_READ, c->left * 512, &iov, 1, 0, 0,
                                     chain_next, c), ==, 0);
    }
}

static void test_async_submit_from_callback(gconstpointer pool)
{
    char *path = make_image("achain.img", 65536);
    chain c = {.left = 50};

    c.d = open_async("c1", path, GPOINTER_TO_INT(pool), NULL);
    fill_image(c.d, 65536);
    chain_next(&c, 0);
    drive_drain(c.d);
    g_assert_cmpuint(c.calls, ==, 51);
    g_assert_cmphex(c.buf[3], ==, pattern_at(3)); /* the last read was block 0 */
    drives_close_all();
    g_free(path);
}

/* 32 concurrent 4 KiB writes at odd places (cluster-crossing, some FUA)
 * of pattern seed, then read back in one request. */
static void qcow2_round(tes_drive *d, uint8_t seed, uint8_t *in, uint8_t *out)
{
    done_log l[32] = {{0}};
    const uint64_t span = 32 * 12288;

    for (uint64_t i = 0; i < span; i++) {
        in[i] = (i % 12288) < 4096 ? (uint8_t)(i * 7 + seed) : 0;
    }
    for (unsigned i = 0; i < 32; i++) {
        struct iovec iov = {in + i * 12288, 4096};
        g_assert_cmpint(drive_submit(d, TES_BLK_WRITE, 65536 - 512 + i * 12288, &iov, 1, 0,
                                     i & 1 ? TES_BLK_FUA : 0, log_done, &l[i]), ==, 0);
    }
    drive_drain(d);
    for (unsigned i = 0; i < 32; i++) {
        g_assert_cmpint(l[i].ret, ==, 0);
    }
    g_assert_cmpint(run_one(d, TES_BLK_READ, 65536 - 512, out, span, 0), ==, 0);
    g_assert_cmpmem(in, span, out, span);
}

static void test_async_qcow2(gconstpointer pool)
{
    char *path = g_build_filename(tmpdir, "q.qcow2", NULL);
    uint8_t *in = g_malloc(32 * 12288), *out = g_malloc(32 * 12288), z[4096];
    char *err = NULL;
    tes_drive *d;

    g_assert_true(qcow2_create(path, 4 << 20, NULL, NULL, &err));
    d = open_async("q0", path, GPOINTER_TO_INT(pool), NULL);
    g_assert_cmpstr(drive_format_name(d), ==, "qcow2");
    g_assert_cmpuint(drive_size(d), ==, 4 << 20);
    qcow2_round(d, 1, in, out); /* allocating */
    qcow2_round(d, 2, in, out); /* in place: the raw path at host offsets */
    g_assert_cmpint(run_one(d, TES_BLK_WRITE_ZEROES, 131072, NULL, 65536, TES_BLK_MAY_UNMAP), ==,
                    0);
    g_assert_cmpint(run_one(d, TES_BLK_FLUSH, 0, NULL, 0, 0), ==, 0);
    drives_close_all();
    d = open_async("q0", path, GPOINTER_TO_INT(pool), ",format=qcow2");
    g_assert_cmpint(run_one(d, TES_BLK_READ, 131072 + 61440, z, 4096, 0), ==, 0);
    memset(out, 0, 4096);
    g_assert_cmpmem(z, 4096, out, 4096);
    g_assert_cmpint(run_one(d, TES_BLK_READ, 65536 - 512, out, 4096, 0), ==, 0);
    g_assert_cmpmem(in, 4096, out, 4096);
    drives_close_all();
    unlink(path);
    g_free(path);
    g_free(in);
    g_free(out);
}

/* A batch ended with block_batch_end_deferred (the harness's register
 * writes) stays out of the kernel until a flush point: drives_poll submits
 * it, and closing a drive with one queued neither hangs nor leaks. */
static void test_deferred_batch(void)
{
    char *path = make_image("adefer.img", 1 << 20);
    tes_drive *d;
    uint8_t *buf = g_malloc0(8192);
    struct iovec iov = {buf, 4096};
    done_log l = {0};

    if (!kernel_has_io_uring()) {
        g_test_skip("no io_uring");
        g_free(buf);
        g_free(path);
        return;
    }
    d = open_async("a9", path, false, NULL);
    fill_image(d, 1 << 20);
    block_batch_begin();
    g_assert_cmpint(drive_submit(d, TES_BLK_READ, 8192, &iov, 1, 0, 0, log_done, &l), ==, 0);
    block_batch_end_deferred();
    /* Submitted, a page-cache read would have landed by now. */
    g_usleep(20000);
    g_assert_cmphex(buf[100], ==, 0);
    g_assert_cmphex(buf[4000], ==, 0);
    g_assert_cmpuint(drive_inflight(d), ==, 1);
    while (drive_inflight(d)) {
        drives_poll(true);
    }
    g_assert_cmpuint(l.calls, ==, 1);
    g_assert_cmpint(l.ret, ==, 0);
    g_assert_cmphex(buf[100], ==, pattern_at(8192 + 100));
    g_assert_cmphex(buf[4000], ==, pattern_at(8192 + 4000));

    iov.iov_base = buf + 4096;
    block_batch_begin();
    g_assert_cmpint(drive_submit(d, TES_BLK_READ, 0, &iov, 1, 0, 0, log_done, &l), ==, 0);
    block_batch_end_deferred();
    drives_close_all(); /* hands the batch to the kernel, then waits for it */
    g_free(buf);
    g_free(path);
}

/* The vCPU's end of slice (block_batch_end_reap): what completed inside
 * the submission runs there, with the eventfd muted; the rest still
 * completes through drives_poll (the eventfd unmuted and signalled), each
 * request exactly once. Writes with FUA too: those may finish later. */
static void test_batch_end_reap(void)
{
    enum { N = 48 };
    char *path = make_image("areap.img", 1 << 20);
    tes_drive *d;
    uint8_t *buf = g_malloc0(N * 4096);
    done_log l[N] = {{0}};
    unsigned ran_at_end = 0;

    if (!kernel_has_io_uring()) {
        g_test_skip("no io_uring");
        g_free(buf);
        g_free(path);
        return;
    }
    d = open_async("a8", path, false, NULL);
    fill_image(d, 1 << 20);
    block_batch_begin();
    for (unsigned i = 0; i < N; i++) {
        struct iovec iov = {buf + i * 4096, 4096};
        tes_blk_op op = i % 3 == 2 ? TES_BLK_WRITE : TES_BLK_READ;
        g_assert_cmpint(drive_submit(d, op, (uint64_t)i * 8192, &iov, 1, 0,
                                     op == TES_BLK_WRITE ? TES_BLK_FUA : 0, log_done, &l[i]), ==, 0);
    }
    block_batch_end_reap();
    for (unsigned i = 0; i < N; i++) {
        g_assert_cmpuint(l[i].calls, <=, 1);
        ran_at_end += l[i].calls;
    }
    g_test_message("%u of %u completed at the end of the batch", ran_at_end, N);
    while (drive_inflight(d)) {
        drives_poll(true);
    }
    for (unsigned i = 0; i < N; i++) {
        g_assert_cmpuint(l[i].calls, ==, 1);
        g_assert_cmpint(l[i].ret, ==, 0);
        if (i % 3 != 2) {
            g_assert_cmphex(buf[i * 4096 + 100], ==, pattern_at(i * 8192 + 100));
        }
    }
    drives_close_all();
    g_free(buf);
    g_free(path);
}

/* Write byte v over the whole of path (size bytes). */
static void fill_file(const char *path, uint8_t v, size_t size)
{
    uint8_t *buf = g_malloc(size);
    int fd = open(path, O_WRONLY);

    memset(buf, v, size);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pwrite(fd, buf, size, 0), ==, (ssize_t)size);
    close(fd);
    g_free(buf);
}

/* After a medium change the ring reads the new image, through the O_DIRECT
 * descriptor (aligned) and the buffered one (unaligned), and an empty
 * drive reads nothing: whatever the ring keeps of the image's
 * descriptors (fixed files were tried) must follow the change. */
static void test_async_medium_change(gconstpointer pool)
{
    char *a = make_image("media-a.img", 1 << 16), *b = make_image("media-b.img", 1 << 16);
    char *opt = g_strdup_printf("file=%s,format=raw,cache=none", b);
    tes_drive *d = open_async("m0", a, GPOINTER_TO_INT(pool), ",format=raw,cache=none");
    uint8_t *buf = g_malloc(8192 + 1);
    char *err = NULL;

    fill_file(a, 0xaa, 1 << 16);
    fill_file(b, 0xbb, 1 << 16);
    g_assert_cmpint(run_one(d, TES_BLK_READ, 4096, buf, 4096, 0), ==, 0);
    g_assert_cmphex(buf[0], ==, 0xaa);
    drive_medium_close(d);
    g_assert_cmpint(run_one(d, TES_BLK_READ, 4096, buf, 4096, 0), ==, -ENOMEDIUM);
    g_assert_true(drive_medium_open(d, opt, false, &err));
    g_assert_null(err);
    memset(buf, 0, 8192 + 1);
    g_assert_cmpint(run_one(d, TES_BLK_READ, 4096, buf, 4096, 0), ==, 0);
    g_assert_cmpint(run_one(d, TES_BLK_READ, 8192, buf + 4097, 4096, 0), ==, 0);
    g_assert_cmphex(buf[0], ==, 0xbb);
    g_assert_cmphex(buf[4095], ==, 0xbb);
    g_assert_cmphex(buf[4097], ==, 0xbb);
    g_assert_cmphex(buf[8192], ==, 0xbb);
    drives_close_all();
    g_free(buf);
    g_free(opt);
    g_free(a);
    g_free(b);
}

static void add_async(const char *name, GTestDataFunc fn)
{
    char *ring = g_strdup_printf("/block/async/io-uring/%s", name);
    char *pool = g_strdup_printf("/block/async/thread-pool/%s", name);

    g_test_add_data_func(ring, GINT_TO_POINTER(0), fn);
    g_test_add_data_func(pool, GINT_TO_POINTER(1), fn);
    g_free(ring);
    g_free(pool);
}

static void remove_tmpdir(void)
{
    GDir *dir = g_dir_open(tmpdir, 0, NULL);
    const char *n;

    while (dir && (n = g_dir_read_name(dir))) {
        char *p = g_build_filename(tmpdir, n, NULL);
        unlink(p);
        g_free(p);
    }
    if (dir) {
        g_dir_close(dir);
    }
    rmdir(tmpdir);
    g_free(tmpdir);
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("tessera-block-XXXXXX", NULL);
    g_test_add_func("/block/io/pwrite-pread-round-trip-through-io-uring",
                    test_read_write_round_trip);
    g_test_add_func("/block/open/missing-file-names-drive-and-path", test_missing_file);
    g_test_add_func("/block/readonly/refuses-writes", test_readonly_refuses_writes);
    g_test_add_func("/block/options/bad-options-rejected-with-message", test_option_errors);
    g_test_add_func("/block/claim/one-device-per-drive", test_claim_once);
    g_test_add_func("/block/claim/same-name-does-not-share", test_claim_same_name_refused);
    g_test_add_func("/block/options/ignored-options-check-values",
                    test_ignored_option_values_checked);
    g_test_add_func("/block/open/directory-is-refused", test_directory_refused);
    add_async("64-concurrent-reads-land-in-their-iovecs", test_async_concurrent_reads);
    add_async("more-requests-than-ring-entries-all-complete", test_async_deeper_than_ring);
    add_async("writes-fua-and-flush-read-back", test_async_write_read_back);
    add_async("write-zeroes-and-discard-zero-exactly-their-range",
              test_async_zeroes_and_discard);
    add_async("past-end-einval-readonly-erofs-through-callback",
              test_async_range_and_readonly);
    add_async("callback-may-submit-the-next-request", test_async_submit_from_callback);
    g_test_add_func("/block/async/io-uring/batch-end-reap-completes-each-once",
                    test_batch_end_reap);
    g_test_add_func("/block/async/io-uring/deferred-batch-waits-for-a-flush-point",
                    test_deferred_batch);
    add_async("medium-change-reads-the-new-image", test_async_medium_change);
    add_async("qcow2-allocating-then-in-place-writes-read-back-after-reopen", test_async_qcow2);
    ret = g_test_run();
    remove_tmpdir();
    return ret;
}
