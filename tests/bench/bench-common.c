/*
 * Shared part of the IOPS benchmarks: see bench-common.h. Both sides read
 * through the host page cache (the core's drives are buffered), so the
 * ratio measures the emulation's overhead on the same I/O. With --direct
 * both bypass it instead (O_DIRECT; the drive cache=none, as QEMU users
 * benchmark disks): the host's disk then sets the pace, and both sides'
 * requests stay in flight through the other side's turns, so each side's
 * figure counts what it reaped in its own turns.
 */
#define _GNU_SOURCE
#include "bench-common.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SEED 88172645463325252ull

/* --direct: both sides bypass the host page cache. */
static bool direct;

char *bench_drive_opts(const char *path)
{
    return g_strdup_printf("file=%s,if=none,id=d0,format=raw%s", path,
                           direct ? ",cache=none" : "");
}

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

typedef struct raw_side {
    struct io_uring ring;
    uint8_t *buf;
    uint64_t seed, nblocks;
    int fd;
} raw_side;

static void raw_prep(raw_side *s, unsigned slot)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);

    io_uring_prep_read(sqe, s->fd, s->buf + (size_t)slot * BS, BS,
                       rnd_block(&s->seed, s->nblocks) * BS);
    io_uring_sqe_set_data64(sqe, slot);
}

/* Reaps what completed and requeues each slot; returns how many. */
static unsigned raw_reap(raw_side *s)
{
    struct io_uring_cqe *cqe;
    unsigned head, n = 0;

    io_uring_wait_cqe(&s->ring, &cqe);
    io_uring_for_each_cqe(&s->ring, head, cqe) {
        if (cqe->res != BS) {
            fprintf(stderr, "raw: read returned %d\n", cqe->res);
            exit(1);
        }
        raw_prep(s, (unsigned)io_uring_cqe_get_data64(cqe));
        n++;
    }
    io_uring_cq_advance(&s->ring, n);
    io_uring_submit(&s->ring);
    return n;
}

/* Opens path and puts QD reads in flight. */
static void raw_up(raw_side *s, const char *path, uint64_t size)
{
    s->buf = aligned_alloc(4096, QD * BS);
    s->seed = SEED;
    s->nblocks = size / BS;
    s->fd = open(path, O_RDONLY | (direct ? O_DIRECT : 0));
    if (s->fd < 0 || io_uring_queue_init(QD * 2, &s->ring, 0) < 0) {
        fprintf(stderr, "raw: cannot open %s or set up io_uring\n", path);
        exit(1);
    }
    for (unsigned slot = 0; slot < QD; slot++) {
        raw_prep(s, slot);
    }
    io_uring_submit(&s->ring);
}

static void raw_down(raw_side *s)
{
    io_uring_queue_exit(&s->ring); /* waits for what is in flight */
    close(s->fd);
    free(s->buf);
}

/* ---- (b) the device through the harness ---- */

typedef struct dev_side {
    const bench_driver *drv;
    void *d;
    bench_rand r;
} dev_side;

static void dev_up(dev_side *s, const bench_driver *drv, const char *plugin, const char *path,
                   uint64_t size)
{
    s->drv = drv;
    s->d = drv->up(plugin, path);
    s->r = (bench_rand){SEED, size / BS};
    for (unsigned slot = 0; slot < QD; slot++) {
        drv->submit(s->d, slot, bench_next_sector(&s->r));
    }
    drv->kick(s->d);
}

/* ---- one run: the two sides in turns ---- */

/* What one side did in a run. */
typedef struct tally {
    uint64_t done;
    double wall, cpu, user, sys;
} tally;

/* The process's user and system CPU seconds so far (getrusage splits the
 * CPU time by where the scheduler's ticks found the process: over a run's
 * thousands of ticks, close enough to tell the kernel's share from the
 * emulation's). */
static void user_sys(double *user, double *sys)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    *user = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
    *sys = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Keeps side raw (or the device) busy for a turn of secs; adds to t. */
static void turn(raw_side *raw, dev_side *dev, double secs, tally *t)
{
    double t0 = now(), c0 = cpu_now(), el, u0, s0, u1, s1;

    user_sys(&u0, &s0);
    do {
        t->done += raw ? raw_reap(raw) : dev->drv->reap(dev->d, &dev->r);
        el = now() - t0;
    } while (el < secs);
    t->wall += el;
    t->cpu += cpu_now() - c0;
    user_sys(&u1, &s1);
    t->user += u1 - u0;
    t->sys += s1 - s0;
}

#define TURN 0.05 /* seconds: turns short enough that the host's speed,
                   * which drifts over seconds here, is the same for both */

/* secs of each side, in alternating turns of TURN seconds (the side that
 * goes first alternates too), both sides up the whole run. A side's turn
 * ends with its requests queued again; a read from the page cache
 * completes inside its submission, so they do no work in the other
 * side's turn and are reaped at the start of the next one. (From a cold
 * cache they would, on the kernel's workers, whose CPU time is the
 * process's: warm the file first, `cat FILE > /dev/null`.) */
static void run_pair(const bench_driver *drv, const char *plugin, const char *path,
                     uint64_t size, double secs, bool do_raw, bool do_dev, tally *r, tally *d)
{
    raw_side raw;
    dev_side dev;

    if (do_raw) {
        raw_up(&raw, path, size);
    }
    if (do_dev) {
        dev_up(&dev, drv, plugin, path, size);
    }
    for (unsigned i = 0; (do_raw && r->wall < secs) || (do_dev && d->wall < secs); i++) {
        bool raw_first = i % 2 == 0;

        for (unsigned k = 0; k < 2; k++) {
            bool is_raw = (k == 0) == raw_first;

            if (is_raw && do_raw && r->wall < secs) {
                turn(&raw, NULL, TURN, r);
            } else if (!is_raw && do_dev && d->wall < secs) {
                turn(NULL, &dev, TURN, d);
            }
        }
    }
    if (do_dev) {
        drv->down(dev.d);
    }
    if (do_raw) {
        raw_down(&raw);
    }
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
        } else if (!strcmp(argv[i], "--direct")) {
            direct = true;
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

static void print_ratio(const char *what, double ratio, double aim)
{
    printf("%-23s%10.3f (median of the runs; aim >= %.1f)\n", what, ratio, aim);
}

/* Runs the sides --only allows, --runs times (the host is shared: one run
 * is noise), each run in alternating turns (run_pair); prints each run,
 * the medians, and the ratios per wall and per CPU second: the median of
 * the runs' own ratios, each from turns taken side by side. */
static void report(const bench_driver *drv, const opts *o)
{
    g_autofree char *title = g_strdup_printf("%s (harness):", drv->title);
    g_autofree char *ratio = g_strdup_printf("ratio %s/raw:", drv->name);
    g_autofree double *raw = g_new0(double, 8 * o->runs);
    double *dev = raw + o->runs, *rw = dev + o->runs, *rc = rw + o->runs;
    double *ru = rc + o->runs, *rs = ru + o->runs, *du = rs + o->runs, *ds = du + o->runs;
    bool do_raw = strcmp(o->only, drv->name) != 0, do_dev = strcmp(o->only, "raw") != 0;
    double aim = drv->aim ? drv->aim : 0.8;

    printf("file %s, %.0f MiB, 4 KiB random reads, QD %d, %s, %.0f s of each side a "
           "run in turns of %.0f ms, %d run(s)\n",
           o->path, o->size / 1048576.0, QD,
           direct ? "O_DIRECT (the device's drive: cache=none)" : "buffered", o->secs,
           TURN * 1000, o->runs);
    for (int i = 0; i < o->runs; i++) {
        tally r = {0}, d = {0};
        double rwall, rcpu, dwall, dcpu;

        run_pair(drv, o->plugin, o->path, o->size, o->secs, do_raw, do_dev, &r, &d);
        rwall = r.wall > 0 ? r.done / r.wall : 0, rcpu = r.cpu > 0 ? r.done / r.cpu : 0;
        dwall = d.wall > 0 ? d.done / d.wall : 0, dcpu = d.cpu > 0 ? d.done / d.cpu : 0;
        raw[i] = rwall, dev[i] = dwall;
        ru[i] = r.done ? r.user / r.done * 1e6 : 0, rs[i] = r.done ? r.sys / r.done * 1e6 : 0;
        du[i] = d.done ? d.user / d.done * 1e6 : 0, ds[i] = d.done ? d.sys / d.done * 1e6 : 0;
        rw[i] = rwall > 0 ? dwall / rwall : 0, rc[i] = rcpu > 0 ? dcpu / rcpu : 0;
        printf("  run %d:", i + 1);
        if (do_raw) {
            printf(" raw %.0f IOPS (%.0f per CPU s)", rwall, rcpu);
        }
        if (do_dev) {
            printf("%s %s %.0f IOPS (%.0f per CPU s)", do_raw ? "," : "", drv->name, dwall,
                   dcpu);
        }
        if (do_raw && do_dev) {
            printf(", ratio %.3f (%.3f per CPU s)", rw[i], rc[i]);
        }
        printf("\n");
    }
    /* Where each side's CPU time goes, per request: the kernel's part is
     * the same read on both sides; the rest is what the emulation adds. */
    if (do_raw) {
        printf("%-23s%10.0f IOPS (median); CPU us a request: user %.3f, system %.3f\n",
               "raw io_uring:", median(raw, o->runs), median(ru, o->runs),
               median(rs, o->runs));
    }
    if (do_dev) {
        printf("%-23s%10.0f IOPS (median); CPU us a request: user %.3f, system %.3f\n",
               title, median(dev, o->runs), median(du, o->runs), median(ds, o->runs));
    }
    if (do_raw && do_dev) {
        print_ratio(ratio, median(rw, o->runs), aim);
        print_ratio("ratio per CPU second:", median(rc, o->runs), aim);
    }
}

int bench_main(int argc, char **argv, const bench_driver *drv)
{
    opts o = {g_getenv(drv->plugin_env), NULL, "", 5, 1ull << 30, 1};
    g_autofree char *tmp = NULL;
    struct stat st;

    parse(argc, argv, &o);
    if (!o.plugin) {
        fprintf(stderr, "usage: %s --plugin %s [--seconds N] [--runs R] [--size B] [--direct] "
                "[FILE]\n", argv[0], drv->plugin_so);
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
