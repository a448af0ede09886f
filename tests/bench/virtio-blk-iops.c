/*
 * virtio-blk IOPS beside raw io_uring, in one process, on one raw file.
 *
 *   virtio-blk-iops [--plugin virtio.so] [--seconds N] [--runs R] [--size BYTES]
 *                   [--only raw|virtio] [FILE]
 *
 * (a) raw: liburing, 4 KiB random reads at queue depth 32 on FILE;
 * (b) virtio-blk-pci through the plugin harness (no guest CPU): an
 *     in-process driver keeps 32 requests in flight through the avail ring
 *     and doorbell writes and reaps the used ring (MSI-X on, EVENT_IDX
 *     and INDIRECT_DESC negotiated, each request one indirect table of
 *     three descriptors, as Linux's virtio_blk and virtio_ring do).
 *     VIRTIO_BENCH_DIRECT=1 in the environment sends direct chains instead
 *     (what this driver did until 2026-12-04, for comparison).
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
#include "tests/virtio-drv.h"

#define HDRS 0x800000ull   /* request headers, 32 bytes a slot (status at 16) */
#define TABLES 0x900000ull /* slot s: its indirect table at + 64 s */

static bool direct; /* VIRTIO_BENCH_DIRECT: chains of three in the ring */

static void vblk_req(void *dp, unsigned slot, uint64_t sector)
{
    vd *d = dp;
    uint64_t hdr = HDRS + slot * 32ull;
    uint32_t type = 0, zero = 0;
    unsigned j = slot * 3;

    memcpy(d->ram + hdr, &type, 4);
    memcpy(d->ram + hdr + 4, &zero, 4);
    memcpy(d->ram + hdr + 8, &sector, 8);
    d->ram[hdr + 16] = 0xff; /* a status the device must overwrite */
    if (direct) {
        vd_desc(d, d->q[0].desc, j, hdr, 16, VD_F_NEXT, j + 1);
        vd_desc(d, d->q[0].desc, j + 1, DATA + slot * (uint64_t)BS, BS, VD_F_NEXT | VD_F_WRITE,
                j + 2);
        vd_desc(d, d->q[0].desc, j + 2, hdr + 16, 1, VD_F_WRITE, 0);
        vd_publish(d, 0, j);
        return;
    }
    uint64_t t = TABLES + slot * 64ull;
    vd_desc(d, t, 0, hdr, 16, VD_F_NEXT, 1);
    vd_desc(d, t, 1, DATA + slot * (uint64_t)BS, BS, VD_F_NEXT | VD_F_WRITE, 2);
    vd_desc(d, t, 2, hdr + 16, 1, VD_F_WRITE, 0);
    vd_desc(d, d->q[0].desc, slot, t, 48, VD_F_INDIRECT, 0);
    vd_publish(d, 0, slot);
}

static void *vblk_up(const char *plugin, const char *path)
{
    static vd d;
    g_autofree char *drive = bench_drive_opts(path);
    g_autofree char *props = g_strdup_printf("drive=d0,queue-size=%d", QSIZE);

    d.h = tes_harness_new(64ull << 20);
    if (!tes_harness_load(d.h, plugin) || !tes_harness_drive(d.h, drive) ||
        !(d.dev = tes_harness_device(d.h, "virtio-blk-pci", props))) {
        fprintf(stderr, "virtio: %s\n", tes_harness_error(d.h));
        exit(1);
    }
    d.ram = tes_harness_ram(d.h);
    d.pci = true;
    d.base = tes_harness_bar_map(d.h, d.dev, 4, VD_BAR4);
    direct = g_getenv("VIRTIO_BENCH_DIRECT") && atoi(g_getenv("VIRTIO_BENCH_DIRECT"));
    /* VERSION_1, EVENT_IDX and (unless direct) INDIRECT_DESC */
    if (!tes_harness_msi_enable(d.h, d.dev) ||
        !vd_init(&d, (1ull << 32) | (1ull << 29) | (direct ? 0 : 1ull << 28), 1, QSIZE, true)) {
        fprintf(stderr, "virtio: device set-up failed\n");
        exit(1);
    }
    return &d;
}

static void vblk_kick(void *d)
{
    vd_kick(d, 0); /* one doorbell per batch, as virtio_blk does */
}

static unsigned vblk_reap(void *dp, bench_rand *r)
{
    vd *d = dp;
    uint32_t head, len;
    unsigned n = 0;

    bench_wait_irq(d->h);
    while (vd_reap(d, 0, &head, &len)) {
        unsigned slot = direct ? head / 3 : head;

        if (d->ram[HDRS + slot * 32 + 16] != 0) {
            fprintf(stderr, "virtio: request failed with status %u\n",
                    d->ram[HDRS + slot * 32 + 16]);
            exit(1);
        }
        vblk_req(d, slot, bench_next_sector(r));
        n++;
    }
    vd_used_event(d, 0); /* EVENT_IDX: the next interrupt, as Linux asks for it */
    if (n) {
        vblk_kick(d);
    }
    return n;
}

static void vblk_down(void *dp)
{
    vd *d = dp;

    vd_set_status(d, 0); /* drains what is in flight */
    tes_harness_free(d->h);
}

int main(int argc, char **argv)
{
    static const bench_driver drv = {
        .name = "virtio", .title = "virtio-blk", .plugin_env = "VIRTIO_PLUGIN",
        .plugin_so = "virtio.so", .image = "virtio-blk-iops.img",
        .up = vblk_up, .submit = vblk_req, .kick = vblk_kick,
        .reap = vblk_reap, .down = vblk_down,
    };

    return bench_main(argc, argv, &drv);
}
