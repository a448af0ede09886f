/*
 * Shared part of the IOPS benchmarks: see bench-common.h. Both sides read
 * through the host page cache (the core's drives are buffered), so the
 * ratio measures the emulation's overhead on the same I/O.
 */
#include "bench-common.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SEED 88172645463325252ull

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU time of the whole process (io_uring workers included): on a host
 * shared with other jobs, IOPS per CPU second moves much less than IOPS
 * per wall second, and it is the emulation's cost that the ratio is
 * about. */
static double cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* IOPS per wall second and per CPU second of one run. */
typedef struct rate {
    double wall, cpu;
} rate;

static rate rate_of(uint64_t done, double wall, double cpu0)
{
    double cpu = cpu_now() - cpu0;

    return (rate){done / wall, cpu > 0 ? done / cpu : 0};
}

static uint64_t rnd_block(uint64_t *state, uint64_t nblocks)
{
    /* xorshift64: cheap enough not to show up in either side. */
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state % nblocks;
}

uint64_t bench_next_sector(bench_rand *r)
{
    return rnd_block(&r->state, r->nblocks) * (BS / 512);
}

void bench_wait_irq(tes_harness *h)
{
    uint64_t addr;
    uint32_t msi;

    tes_harness_block_wait(h);
    while (tes_harness_msi_pop(h, &addr, &msi)) {
        /* the interrupt a guest would take */
    }
}

static bool make_file(const char *path, uint64_t size)
{
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    g_autofree uint8_t *buf = g_malloc(1 << 20);
    bool ok = fd >= 0;

    for (uint64_t off = 0; ok && off < size; off += 1 << 20) {
        memset(buf, (int)(off >> 20), 1 << 20);
        ok = write(fd, buf, 1 << 20) == 1 << 20;
    }
    if (fd >= 0) {
        ok = fsync(fd) == 0 && ok;
        close(fd);
    }
    return ok;
}

/* ---- (a) raw io_uring ---- */

static void raw_prep(struct io_uring *ring, int fd, uint8_t *buf, unsigned slot, uint64_t *seed,
                     uint64_t nblocks)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

    io_uring_prep_read(sqe, fd, buf + (size_t)slot * BS, BS, rnd_block(seed, nblocks) * BS);
    io_uring_sqe_set_data64(sqe, slot);
}

/* Reaps what completed and requeues each slot; returns how many. */
static unsigned raw_reap(struct io_uring *ring, int fd, uint8_t *buf, uint64_t *seed,
                         uint64_t nblocks)
{
    struct io_uring_cqe *cqe;
    unsigned head, n = 0;

    io_uring_wait_cqe(ring, &cqe);
    io_uring_for_each_cqe(ring, head, cqe) {
        if (cqe->res != BS) {
            fprintf(stderr, "raw: read returned %d\n", cqe->res);
            exit(1);
        }
        raw_prep(ring, fd, buf, (unsigned)io_uring_cqe_get_data64(cqe), seed, nblocks);
        n++;
    }
    io_uring_cq_advance(ring, n);
    io_uring_submit(ring);
    return n;
}

static rate run_raw(const char *path, uint64_t size, double secs)
{
    struct io_uring ring;
    uint8_t *buf = aligned_alloc(4096, QD * BS);
    uint64_t seed = SEED, done = 0, nblocks = size / BS;
    int fd = open(path, O_RDONLY);
    double t0, t, c0;

    if (fd < 0 || io_uring_queue_init(QD * 2, &ring, 0) < 0) {
        fprintf(stderr, "raw: cannot open %s or set up io_uring\n", path);
        exit(1);
    }
    for (unsigned s = 0; s < QD; s++) {
        raw_prep(&ring, fd, buf, s, &seed, nblocks);
    }
    io_uring_submit(&ring);
    t0 = now();
    c0 = cpu_now();
    do {
        done += raw_reap(&ring, fd, buf, &seed, nblocks);
        t = now() - t0;
    } while (t < secs);
    io_uring_queue_exit(&ring);
    close(fd);
    free(buf);
    return rate_of(done, t, c0);
}

/* ---- (b) the device through the harness ---- */

static rate run_dev(const bench_driver *drv, const char *plugin, const char *path,
                      uint64_t size, double secs)
{
    void *d = drv->up(plugin, path);
    bench_rand r = {SEED, size / BS};
    uint64_t done = 0;
    double t0, t, c0;
    rate rt;

    for (unsigned s = 0; s < QD; s++) {
        drv->submit(d, s, bench_next_sector(&r));
    }
    drv->kick(d);
    t0 = now();
    c0 = cpu_now();
    do {
        done += drv->reap(d, &r);
        t = now() - t0;
    } while (t < secs);
    rt = rate_of(done, t, c0);
    drv->down(d);
    return rt;
}

/* ---- command line and report ---- */

typedef struct opts {
    const char *plugin, *path, *only;
    double secs;
    uint64_t size;
    int runs;
} opts;

static void parse(int argc, char **argv, opts *o)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--plugin") && i + 1 < argc) {
            o->plugin = argv[++i];
        } else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
            o->secs = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
            o->runs = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
            o->only = argv[++i]; /* "raw" or the driver's name: for profiling one side */
        } else if (!strcmp(argv[i], "--size") && i + 1 < argc) {
            o->size = g_ascii_strtoull(argv[++i], NULL, 0);
        } else {
            o->path = argv[i];
        }
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void print_ratio(const char *what, double dev, double raw, double aim)
{
    if (raw > 0 && dev > 0) {
        printf("%-23s%10.3f (aim >= %.1f)\n", what, dev / raw, aim);
    }
}

/* Runs the sides --only allows, alternating, --runs times (the host is
 * shared: one run is noise); prints each run, the medians and the ratios
 * of the medians, per wall second and per CPU second. */
static void report(const bench_driver *drv, const opts *o)
{
    g_autofree char *title = g_strdup_printf("%s (harness):", drv->title);
    g_autofree char *ratio = g_strdup_printf("ratio %s/raw:", drv->name);
    g_autofree double *raw = g_new0(double, 4 * o->runs);
    double *dev = raw + o->runs, *rawc = dev + o->runs, *devc = rawc + o->runs;
    bool do_raw = strcmp(o->only, drv->name) != 0, do_dev = strcmp(o->only, "raw") != 0;
    double aim = drv->aim ? drv->aim : 0.8, mr, md;

    printf("file %s, %.0f MiB, 4 KiB random reads, QD %d, buffered, %.0f s each, %d run(s)\n",
           o->path, o->size / 1048576.0, QD, o->secs, o->runs);
    for (int i = 0; i < o->runs; i++) {
        rate r = do_raw ? run_raw(o->path, o->size, o->secs) : (rate){0, 0};
        rate d = do_dev ? run_dev(drv, o->plugin, o->path, o->size, o->secs) : (rate){0, 0};

        raw[i] = r.wall, rawc[i] = r.cpu, dev[i] = d.wall, devc[i] = d.cpu;
        printf("  run %d:", i + 1);
        if (do_raw) {
            printf(" raw %.0f IOPS (%.0f per CPU s)", r.wall, r.cpu);
        }
        if (do_dev) {
            printf("%s %s %.0f IOPS (%.0f per CPU s)", do_raw ? "," : "", drv->name, d.wall, d.cpu);
        }
        printf("\n");
    }
    mr = median(raw, o->runs);
    md = median(dev, o->runs);
    if (do_raw) {
        printf("%-23s%10.0f IOPS (median)\n", "raw io_uring:", mr);
    }
    if (do_dev) {
        printf("%-23s%10.0f IOPS (median)\n", title, md);
    }
    print_ratio(ratio, md, mr, aim);
    print_ratio("ratio per CPU second:", median(devc, o->runs), median(rawc, o->runs), aim);
}

int bench_main(int argc, char **argv, const bench_driver *drv)
{
    opts o = {g_getenv(drv->plugin_env), NULL, "", 5, 1ull << 30, 1};
    g_autofree char *tmp = NULL;
    struct stat st;

    parse(argc, argv, &o);
    if (!o.plugin) {
        fprintf(stderr, "usage: %s --plugin %s [--seconds N] [--runs R] [--size B] [FILE]\n",
                argv[0], drv->plugin_so);
        return 2;
    }
    if (o.runs < 1 || o.secs <= 0) {
        fprintf(stderr, "%s: --runs and --seconds want positive numbers\n", argv[0]);
        return 2;
    }
    if (!o.path) {
        tmp = g_build_filename(g_get_tmp_dir(), drv->image, NULL);
        o.path = tmp;
        if (!make_file(o.path, o.size)) {
            fprintf(stderr, "cannot create %s\n", o.path);
            return 1;
        }
    }
    if (stat(o.path, &st) < 0 || (uint64_t)st.st_size < BS) {
        fprintf(stderr, "%s: missing or smaller than 4 KiB\n", o.path);
        return 1;
    }
    o.size = st.st_size;
    report(drv, &o);
    if (tmp) {
        unlink(tmp);
    }
    return 0;
}
