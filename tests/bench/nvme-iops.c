/*
 * nvme IOPS beside raw io_uring, in one process, on one raw file.
 *
 *   nvme-iops [--plugin nvme.so] [--seconds N] [--size BYTES]
 *             [--only raw|nvme] [FILE]
 *
 * (a) raw: liburing, 4 KiB random reads at queue depth 32 on FILE;
 * (b) nvme through the plugin harness (no guest CPU): an in-process driver
 *     (plugins/nvme/tests/nvme-drv.h) keeps 32 reads in flight on one I/O
 *     queue pair, rings the SQ tail and CQ head doorbells once per batch
 *     as Linux does, with MSI-X on.
 * Both read through the host page cache (the core's drives are buffered),
 * so the ratio measures the emulation's overhead on the same I/O. Without
 * FILE a 1 GiB file is made in $TMPDIR and removed afterwards. Prints IOPS
 * of each and the ratio (aim: >= 0.8). Not a pass/fail test.
 */
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

#include "tests/nvme-drv.h"

#define QD 32
#define BS 4096
#define QSIZE 128
#define DATA 0x1000000ull

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
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

static double run_raw(const char *path, uint64_t size, double secs)
{
    struct io_uring ring;
    struct io_uring_cqe *cqe;
    uint8_t *buf = aligned_alloc(4096, QD * BS);
    uint64_t seed = 88172645463325252ull, done = 0, nblocks = size / BS;
    int fd = open(path, O_RDONLY);
    double t0, t;

    if (fd < 0 || io_uring_queue_init(QD * 2, &ring, 0) < 0) {
        fprintf(stderr, "raw: cannot open %s or set up io_uring\n", path);
        exit(1);
    }
    for (unsigned s = 0; s < QD; s++) {
        raw_prep(&ring, fd, buf, s, &seed, nblocks);
    }
    io_uring_submit(&ring);
    t0 = now();
    do {
        unsigned head, n = 0;
        io_uring_wait_cqe(&ring, &cqe);
        io_uring_for_each_cqe(&ring, head, cqe) {
            if (cqe->res != BS) {
                fprintf(stderr, "raw: read returned %d\n", cqe->res);
                exit(1);
            }
            raw_prep(&ring, fd, buf, (unsigned)io_uring_cqe_get_data64(cqe), &seed, nblocks);
            n++;
        }
        io_uring_cq_advance(&ring, n);
        io_uring_submit(&ring);
        done += n;
        t = now() - t0;
    } while (t < secs);
    io_uring_queue_exit(&ring);
    close(fd);
    free(buf);
    return done / t;
}

/* ---- (b) nvme through the harness ---- */

static void nvme_read(nd *d, unsigned slot, uint64_t lba)
{
    uint32_t cdw[6] = {(uint32_t)lba, lba >> 32, BS / 512 - 1};
    uint8_t s[64];

    nd_sqe(s, 0x02, 1, DATA + slot * (uint64_t)BS, 0, cdw);
    d->q[1].cid = slot; /* the cid names the buffer slot */
    nd_push(d, 1, s);
}

static nd *nvme_up(const char *plugin, const char *path)
{
    static nd d;
    g_autofree char *drive = g_strdup_printf("file=%s,if=none,id=d0,format=raw", path);

    d.h = tes_harness_new(64ull << 20);
    if (!tes_harness_load(d.h, plugin) || !tes_harness_drive(d.h, drive) ||
        !(d.dev = tes_harness_device(d.h, "nvme", "drive=d0,serial=bench"))) {
        fprintf(stderr, "nvme: %s\n", tes_harness_error(d.h));
        exit(1);
    }
    d.ram = tes_harness_ram(d.h);
    d.bar = tes_harness_bar_map(d.h, d.dev, 0, ND_BAR0);
    if (!tes_harness_msi_enable(d.h, d.dev) || !nd_enable(&d) ||
        nd_create_ioq(&d, 1, QSIZE, 1) != 0) {
        fprintf(stderr, "nvme: controller set-up failed\n");
        exit(1);
    }
    return &d;
}

static double run_nvme(const char *plugin, const char *path, uint64_t size, double secs)
{
    nd *d = nvme_up(plugin, path);
    uint64_t seed = 88172645463325252ull, done = 0, nblocks = size / BS, addr;
    uint32_t msi;
    nd_cqe c;
    double t0, t;

    for (unsigned s = 0; s < QD; s++) {
        nvme_read(d, s, rnd_block(&seed, nblocks) * (BS / 512));
    }
    nd_ring(d, 1);
    t0 = now();
    do {
        unsigned n = 0;
        tes_harness_block_wait(d->h);
        while (tes_harness_msi_pop(d->h, &addr, &msi)) {
            /* the interrupt a guest would take */
        }
        while (nd_peek(d, 1, &c, false)) {
            if (c.status != 0) {
                fprintf(stderr, "nvme: read failed with status 0x%x\n", c.status);
                exit(1);
            }
            nvme_read(d, c.cid, rnd_block(&seed, nblocks) * (BS / 512));
            n++;
        }
        if (n) {
            nd_wr32(d, 0x1000 + 12, d->q[1].head); /* CQ head, then SQ tail */
            nd_ring(d, 1);
        }
        done += n;
        t = now() - t0;
    } while (t < secs);
    nd_wr32(d, 0x14, 0); /* controller reset drains what is in flight */
    tes_harness_free(d->h);
    return done / t;
}

int main(int argc, char **argv)
{
    const char *plugin = g_getenv("NVME_PLUGIN"), *path = NULL, *only = "";
    g_autofree char *tmp = NULL;
    double secs = 5, raw = 0, nv = 0;
    uint64_t size = 1ull << 30;
    struct stat st;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--plugin") && i + 1 < argc) {
            plugin = argv[++i];
        } else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
            secs = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
            only = argv[++i]; /* "raw" or "nvme": for profiling one side */
        } else if (!strcmp(argv[i], "--size") && i + 1 < argc) {
            size = g_ascii_strtoull(argv[++i], NULL, 0);
        } else {
            path = argv[i];
        }
    }
    if (!plugin) {
        fprintf(stderr, "usage: %s --plugin nvme.so [--seconds N] [--size B] [FILE]\n",
                argv[0]);
        return 2;
    }
    if (!path) {
        tmp = g_build_filename(g_get_tmp_dir(), "nvme-iops.img", NULL);
        path = tmp;
        if (!make_file(path, size)) {
            fprintf(stderr, "cannot create %s\n", path);
            return 1;
        }
    }
    if (stat(path, &st) < 0 || (uint64_t)st.st_size < BS) {
        fprintf(stderr, "%s: missing or smaller than 4 KiB\n", path);
        return 1;
    }
    size = st.st_size;
    printf("file %s, %.0f MiB, 4 KiB random reads, QD %d, buffered, %.0f s each\n", path,
           size / 1048576.0, QD, secs);
    if (strcmp(only, "nvme") != 0) {
        raw = run_raw(path, size, secs);
        printf("raw io_uring:          %10.0f IOPS\n", raw);
    }
    if (strcmp(only, "raw") != 0) {
        nv = run_nvme(plugin, path, size, secs);
        printf("nvme (harness):        %10.0f IOPS\n", nv);
    }
    if (raw > 0 && nv > 0) {
        printf("ratio nvme/raw:        %10.3f (aim >= 0.8)\n", nv / raw);
    }
    if (tmp) {
        unlink(tmp);
    }
    return 0;
}
