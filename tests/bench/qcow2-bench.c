/*
 * qcow2 beside raw through the core's drive API (drive_add +
 * drive_submit, what nvme and virtio-blk call), in one process.
 *
 *   qcow2-bench [--seconds N] [--runs R] [--size BYTES] [--dir DIR]
 *
 * Makes a raw file and a qcow2 image (the core's qcow2_create: 64 KiB
 * clusters) of --size (default 1 GiB) in DIR ($TMPDIR), and writes both
 * whole once through the drive API, so the qcow2 is "once allocated".
 * Then, for each of 4 KiB random read and write at queue depth 32 and
 * 1 MiB sequential read and write at depth 8, R runs (default 5) of N
 * seconds (default 2) on each format, alternating; prints the median of
 * each and the ratio qcow2/raw (aim >= 0.9). Both go through the host page
 * cache (cache=writeback), so the ratio is the format's overhead on the
 * same I/O. Not a pass/fail test.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "block-qcow2.h"

typedef struct job {
    tes_drive *d;
    tes_blk_op op;
    bool random;
    uint64_t bs, size, next, rng, ops, deadline_ns;
    uint64_t limit; /* sequential: stop at this offset (0: wrap around) */
    unsigned inflight;
    uint8_t *bufs;
} job;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void issue(job *j, unsigned slot);

/* CPU time of the process, format threads included: on a shared host the
 * work per CPU second moves far less than the work per wall second. */
static double cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void done(void *opaque, int ret)
{
    job *j = *(job **)opaque;
    unsigned slot = ((uint8_t *)opaque - (uint8_t *)j->bufs) / (sizeof(job *) + j->bs);

    if (ret < 0) {
        fprintf(stderr, "qcow2-bench: I/O error %d\n", ret);
        exit(1);
    }
    j->inflight--;
    j->ops++;
    if (now_ns() < j->deadline_ns && (!j->limit || j->next < j->limit)) {
        issue(j, slot);
    }
}

static void issue(job *j, unsigned slot)
{
    uint8_t *s = j->bufs + slot * (sizeof(job *) + j->bs);
    struct iovec v = {s + sizeof(job *), j->bs};
    uint64_t off;

    if (j->random) {
        j->rng = j->rng * 6364136223846793005ull + 1442695040888963407ull;
        off = (j->rng >> 17) % (j->size / j->bs) * j->bs;
    } else {
        off = j->next;
        j->next = j->limit ? j->next + j->bs : (j->next + j->bs) % j->size;
    }
    j->inflight++;
    drive_submit(j->d, j->op, off, &v, 1, j->bs, 0, done, s);
}

/* Operations per second of one run (per CPU second in *per_cpu when not
 * NULL); seconds 0: one sequential pass. */
static double run_job(tes_drive *d, tes_blk_op op, bool random, uint64_t bs, unsigned qd,
                      uint64_t size, double seconds, double *per_cpu)
{
    job j = {.d = d, .op = op, .random = random, .bs = bs, .size = size, .rng = 42,
             .limit = seconds ? 0 : size};
    uint64_t t0;
    double c0 = cpu_s(), cpu;

    j.bufs = g_malloc0(qd * (sizeof(job *) + bs));
    for (unsigned i = 0; i < qd; i++) {
        *(job **)(j.bufs + i * (sizeof(job *) + bs)) = &j;
    }
    t0 = now_ns();
    j.deadline_ns = seconds ? t0 + (uint64_t)(seconds * 1e9) : UINT64_MAX;
    for (unsigned i = 0; i < qd && (!j.limit || j.next < j.limit); i++) {
        issue(&j, i);
    }
    while (j.inflight) {
        drives_poll(true);
    }
    g_free(j.bufs);
    cpu = cpu_s() - c0;
    if (per_cpu) {
        *per_cpu = cpu > 0 ? j.ops / cpu : 0;
    }
    return j.ops / ((now_ns() - t0) / 1e9);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The first pass (qcow2: allocating): one sequential stream of 1 MiB
 * writes at depth 8 over the whole disk, then a flush; returns MB/s. Both
 * host files are laid out in order, so later figures compare like with
 * like. */
static double fill(tes_drive *d, uint64_t size)
{
    uint64_t t0 = now_ns();

    run_job(d, TES_BLK_WRITE, false, 1 << 20, 8, size, 0, NULL);
    drive_flush(d);
    return size / ((now_ns() - t0) / 1e9) / 1e6;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {{"seconds", 1, 0, 's'}, {"runs", 1, 0, 'r'},
                                       {"size", 1, 0, 'z'}, {"dir", 1, 0, 'd'}, {0}};
    static const struct {
        const char *name;
        tes_blk_op op;
        bool random;
        uint64_t bs;
        unsigned qd;
    } wl[] = {{"4k-randread", TES_BLK_READ, true, 4096, 32},
              {"4k-randwrite", TES_BLK_WRITE, true, 4096, 32},
              {"1m-seqread", TES_BLK_READ, false, 1 << 20, 8},
              {"1m-seqwrite", TES_BLK_WRITE, false, 1 << 20, 8}};
    double seconds = 2;
    unsigned runs = 5;
    uint64_t size = 1ull << 30;
    const char *dir = g_get_tmp_dir();
    g_autofree char *raw = NULL, *qc = NULL, *o1 = NULL, *o2 = NULL;
    char *err = NULL;
    tes_drive *d[2];
    int c;

    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 's': seconds = atof(optarg); break;
        case 'r': runs = MAX(1, atoi(optarg)); break;
        case 'z': size = g_ascii_strtoull(optarg, NULL, 0); break;
        case 'd': dir = optarg; break;
        default:
            fprintf(stderr, "usage: qcow2-bench [--seconds N] [--runs R] [--size BYTES] "
                    "[--dir DIR]\n");
            return 2;
        }
    }
    raw = g_strdup_printf("%s/qcow2-bench-%d.raw", dir, getpid());
    qc = g_strdup_printf("%s/qcow2-bench-%d.qcow2", dir, getpid());
    FILE *f = fopen(raw, "w");
    if (!f || ftruncate(fileno(f), size) < 0 || !qcow2_create(qc, size, NULL, NULL, &err)) {
        fprintf(stderr, "qcow2-bench: cannot create the images in %s\n", dir);
        return 1;
    }
    fclose(f);
    o1 = g_strdup_printf("file=%s,if=none,id=raw,format=raw", raw);
    o2 = g_strdup_printf("file=%s,if=none,id=qcow2,format=qcow2", qc);
    if (!drive_add(o1, &err) || !drive_add(o2, &err)) {
        fprintf(stderr, "qcow2-bench: %s\n", err);
        return 1;
    }
    d[0] = drive_find("raw");
    d[1] = drive_find("qcow2");
    double f0 = fill(d[0], size), f1 = fill(d[1], size);
    printf("%-14s %14s %14s %7s %9s   (median of %u x %.1f s, %llu MiB, page cache)\n",
           "workload", "raw", "qcow2", "ratio", "per CPU", runs, seconds,
           (unsigned long long)(size >> 20));
    for (size_t w = 0; w < G_N_ELEMENTS(wl); w++) {
        double res[2][64], pc[2][64];
        unsigned n = MIN(runs, 64);
        for (unsigned r = 0; r < n; r++) {
            /* Alternate which goes first: neither gets the warmer start. */
            for (int i = 0; i < 2; i++) {
                int k = (i + r) & 1;
                res[k][r] = run_job(d[k], wl[w].op, wl[w].random, wl[w].bs, wl[w].qd, size,
                                    seconds, &pc[k][r]);
            }
        }
        for (int k = 0; k < 2; k++) {
            qsort(res[k], n, sizeof(double), cmp_double);
            qsort(pc[k], n, sizeof(double), cmp_double);
        }
        double a = res[0][n / 2], b = res[1][n / 2];
        bool mb = wl[w].bs > 4096;
        printf("%-14s %10.0f %s %10.0f %s %7.2f %9.2f\n", wl[w].name,
               mb ? a * wl[w].bs / 1e6 : a, mb ? "MB/s" : "IOPS", mb ? b * wl[w].bs / 1e6 : b,
               mb ? "MB/s" : "IOPS", b / a, pc[0][n / 2] > 0 ? pc[1][n / 2] / pc[0][n / 2] : 0);
        fflush(stdout);
    }
    printf("%-14s %10.0f MB/s %10.0f MB/s %7.2f   (one pass, qcow2 allocating)\n", "first-write",
           f0, f1, f1 / f0);
    drives_close_all();
    unlink(raw);
    unlink(qc);
    return 0;
}
