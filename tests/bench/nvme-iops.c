/*
 * nvme IOPS beside raw io_uring, in one process, on one raw file.
 *
 *   nvme-iops [--plugin nvme.so] [--seconds N] [--runs R] [--size BYTES]
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
 * The shared part (raw side, timing, printing) is in bench-common.c.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench-common.h"
#include "tests/nvme-drv.h"

static void nvme_read(void *dp, unsigned slot, uint64_t lba)
{
    nd *d = dp;
    uint32_t cdw[6] = {(uint32_t)lba, lba >> 32, BS / 512 - 1};
    uint8_t s[64];

    nd_sqe(s, 0x02, 1, DATA + slot * (uint64_t)BS, 0, cdw);
    d->q[1].cid = slot; /* the cid names the buffer slot */
    nd_push(d, 1, s);
}

static void *nvme_up(const char *plugin, const char *path)
{
    static nd d;
    g_autofree char *drive = bench_drive_opts(path);

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

static void nvme_kick(void *d)
{
    nd_ring(d, 1);
}

static unsigned nvme_reap(void *dp, bench_rand *r)
{
    nd *d = dp;
    unsigned n = 0;
    nd_cqe c;

    bench_wait_irq(d->h);
    while (nd_peek(d, 1, &c, false)) {
        if (c.status != 0) {
            fprintf(stderr, "nvme: read failed with status 0x%x\n", c.status);
            exit(1);
        }
        nvme_read(d, c.cid, bench_next_sector(r));
        n++;
    }
    if (n) {
        nd_wr32(d, 0x1000 + 12, d->q[1].head); /* CQ head, then SQ tail */
        nd_ring(d, 1);
    }
    return n;
}

static void nvme_down(void *dp)
{
    nd *d = dp;

    nd_wr32(d, 0x14, 0); /* controller reset drains what is in flight */
    tes_harness_free(d->h);
}

int main(int argc, char **argv)
{
    static const bench_driver drv = {
        .name = "nvme", .title = "nvme", .plugin_env = "NVME_PLUGIN",
        .plugin_so = "nvme.so", .image = "nvme-iops.img",
        .up = nvme_up, .submit = nvme_read, .kick = nvme_kick,
        .reap = nvme_reap, .down = nvme_down,
    };

    return bench_main(argc, argv, &drv);
}
