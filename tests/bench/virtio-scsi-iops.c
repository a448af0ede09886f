/*
 * virtio-scsi IOPS beside raw io_uring, in one process, on one raw file.
 *
 *   virtio-scsi-iops [--plugin scsi.so] [--seconds N] [--runs R] [--size BYTES]
 *                    [--only raw|virtio-scsi] [FILE]
 *
 * (a) raw: liburing, 4 KiB random reads at queue depth 32 on FILE;
 * (b) virtio-scsi-pci (num_queues=1) with a scsi-hd at 0:0:0 through the
 *     plugin harness (no guest CPU): an in-process driver keeps 32 READ(10)
 *     commands in flight on the one request queue, one doorbell per batch
 *     as virtio_scsi does, MSI-X on, EVENT_IDX negotiated and used_event
 *     moved after each drain as Linux's virtio_ring does; and, as it does
 *     for a request of more than one buffer, INDIRECT_DESC negotiated and
 *     each command one indirect table of three descriptors (request,
 *     response, data) in the ring. VIRTIO_BENCH_DIRECT=1 in the
 *     environment sends them as direct chains instead (what this driver did
 *     until 2026-12-04, for comparison).
 * The transport comes from the virtio plugin: $VIRTIO_PLUGIN, or virtio.so
 * in ../virtio beside the scsi plugin (the build tree's layout).
 * Both read through the host page cache (the core's drives are buffered),
 * so the ratio measures the emulation's overhead on the same I/O. Without
 * FILE a 1 GiB file is made in $TMPDIR and removed afterwards. Prints IOPS
 * of each and the ratio (issue 14's aim: >= 0.9). Not a pass/fail test.
 * The shared part (raw side, timing, printing) is in bench-common.c.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench-common.h"
#include "tests/virtio-drv.h"

#define REQS 0x800000ull /* slot s: request at + 256 s, response at + 256 s + 128 */
#define REQ_LEN 51       /* lun 8, tag 8, attr, prio, crn, cdb 32 */
#define RESP_LEN 108     /* sense_len, resid, qualifier, status, response, sense 96 */
#define REQ_Q 2          /* control 0, event 1, the first request queue 2 */
#define F_VERSION_1 (1ull << 32)
#define F_EVENT_IDX (1ull << 29) /* Linux's virtio_ring negotiates it */
#define F_INDIRECT (1ull << 28)  /* and this one */
#define TABLES 0x900000ull       /* slot s: its indirect table at + 64 s */

static bool direct; /* VIRTIO_BENCH_DIRECT: chains of three in the ring */

static void vscsi_req(void *dp, unsigned slot, uint64_t sector)
{
    vd *d = dp;
    uint64_t req = REQS + slot * 256ull, resp = req + 128, tag = slot;
    uint8_t *r = d->ram + req;
    unsigned j = slot * 3;
    uint64_t t = TABLES + slot * 64ull;

    memset(r, 0, REQ_LEN);
    r[0] = 1; /* LUN 0 of target 0: the single-level LUN format virtio_scsi sends */
    r[2] = 0x40;
    memcpy(r + 8, &tag, 8);
    r[19] = 0x28; /* READ(10): 32-bit LBA, big-endian, then a 16-bit length */
    r[21] = sector >> 24, r[22] = sector >> 16, r[23] = sector >> 8, r[24] = sector;
    r[26] = 0, r[27] = BS / 512;
    d->ram[resp + 11] = 0xff; /* a response the device must overwrite */
    if (direct) {
        vd_desc(d, d->q[REQ_Q].desc, j, req, REQ_LEN, VD_F_NEXT, j + 1);
        vd_desc(d, d->q[REQ_Q].desc, j + 1, resp, RESP_LEN, VD_F_NEXT | VD_F_WRITE, j + 2);
        vd_desc(d, d->q[REQ_Q].desc, j + 2, DATA + slot * (uint64_t)BS, BS, VD_F_WRITE, 0);
        vd_publish(d, REQ_Q, j);
        return;
    }
    vd_desc(d, t, 0, req, REQ_LEN, VD_F_NEXT, 1);
    vd_desc(d, t, 1, resp, RESP_LEN, VD_F_NEXT | VD_F_WRITE, 2);
    vd_desc(d, t, 2, DATA + slot * (uint64_t)BS, BS, VD_F_WRITE, 0);
    vd_desc(d, d->q[REQ_Q].desc, slot, t, 48, VD_F_INDIRECT, 0);
    vd_publish(d, REQ_Q, slot);
}

/* TEST UNIT READY on slot 0, waited for: takes the unit attention a new
 * LUN reports first (power on), as Linux's scan does, so the reads that
 * follow are not the ones to get CHECK CONDITION. */
static void vscsi_clear_ua(vd *d)
{
    uint64_t req = REQS, resp = req + 128;
    uint32_t head, len;

    memset(d->ram + req, 0, REQ_LEN);
    d->ram[req] = 1;
    d->ram[req + 2] = 0x40;
    vd_desc(d, d->q[REQ_Q].desc, 0, req, REQ_LEN, VD_F_NEXT, 1);
    vd_desc(d, d->q[REQ_Q].desc, 1, resp, RESP_LEN, VD_F_WRITE, 0);
    vd_publish(d, REQ_Q, 0);
    vd_kick(d, REQ_Q);
    while (!vd_reap(d, REQ_Q, &head, &len)) {
        bench_wait_irq(d->h);
    }
}

/* $VIRTIO_PLUGIN, else the build tree's plugins/virtio/virtio.so. */
static char *virtio_plugin(const char *scsi)
{
    g_autofree char *dir = g_path_get_dirname(scsi);

    if (g_getenv("VIRTIO_PLUGIN")) {
        return g_strdup(g_getenv("VIRTIO_PLUGIN"));
    }
    return g_build_filename(dir, "..", "virtio", "virtio.so", NULL);
}

static void *vscsi_up(const char *plugin, const char *path)
{
    static vd d;
    g_autofree char *drive = bench_drive_opts(path);
    g_autofree char *props = g_strdup_printf("id=scsi0,num_queues=1,virtqueue_size=%d", QSIZE);
    g_autofree char *vplugin = virtio_plugin(plugin);

    d.h = tes_harness_new(64ull << 20);
    if (!tes_harness_load(d.h, vplugin) || !tes_harness_load(d.h, plugin) ||
        !tes_harness_drive(d.h, drive) ||
        !(d.dev = tes_harness_device(d.h, "virtio-scsi-pci", props)) ||
        !tes_harness_device(d.h, "scsi-hd", "drive=d0,bus=scsi0.0,scsi-id=0,lun=0")) {
        fprintf(stderr, "virtio-scsi: %s\n", tes_harness_error(d.h));
        exit(1);
    }
    d.ram = tes_harness_ram(d.h);
    d.pci = true;
    d.base = tes_harness_bar_map(d.h, d.dev, 4, VD_BAR4);
    direct = g_getenv("VIRTIO_BENCH_DIRECT") && atoi(g_getenv("VIRTIO_BENCH_DIRECT"));
    if (!tes_harness_msi_enable(d.h, d.dev) ||
        !vd_init(&d, F_VERSION_1 | F_EVENT_IDX | (direct ? 0 : F_INDIRECT), 3, QSIZE, true)) {
        fprintf(stderr, "virtio-scsi: device set-up failed\n");
        exit(1);
    }
    vscsi_clear_ua(&d);
    return &d;
}

static void vscsi_kick(void *d)
{
    vd_kick(d, REQ_Q);
}

static unsigned vscsi_reap(void *dp, bench_rand *r)
{
    vd *d = dp;
    uint32_t head, len;
    unsigned n = 0;

    bench_wait_irq(d->h);
    while (vd_reap(d, REQ_Q, &head, &len)) {
        unsigned slot = direct ? head / 3 : head;
        const uint8_t *resp = d->ram + REQS + slot * 256ull + 128;

        if (resp[11] != 0 || resp[10] != 0) {
            fprintf(stderr, "virtio-scsi: READ(10) failed: response %u, status 0x%x\n",
                    resp[11], resp[10]);
            exit(1);
        }
        vscsi_req(d, slot, bench_next_sector(r));
        n++;
    }
    vd_used_event(d, REQ_Q);
    if (n) {
        vscsi_kick(d);
    }
    return n;
}

static void vscsi_down(void *dp)
{
    vd *d = dp;

    vd_set_status(d, 0); /* drains what is in flight */
    tes_harness_free(d->h);
}

int main(int argc, char **argv)
{
    static const bench_driver drv = {
        .name = "virtio-scsi", .title = "virtio-scsi", .plugin_env = "SCSI_PLUGIN",
        .plugin_so = "scsi.so", .image = "virtio-scsi-iops.img", .aim = 0.9,
        .up = vscsi_up, .submit = vscsi_req, .kick = vscsi_kick,
        .reap = vscsi_reap, .down = vscsi_down,
    };

    return bench_main(argc, argv, &drv);
}
