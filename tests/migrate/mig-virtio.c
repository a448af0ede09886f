/*
 * Migration round trips of the virtio devices (migtest.h), over PCI (INTx
 * and MSI-X) and virtio-mmio: a request completed into the used ring and
 * its interrupt pending, not yet reaped by the guest, at the cut; another
 * submitted after it; a block write's data on the file at the end. The
 * GPU: a resource created and its backing attached before the cut, the
 * pixels transferred from the backing and shown on a scanout after it.
 */
#include <stdio.h>
#include <string.h>

#include "migtest.h"
#include "virtio/tests/virtio-drv.h"

#define VIRTIO_F_VERSION_1 (1ull << 32)
#define QSIZE 16
#define BUF 0x400000ull /* request buffers */

typedef enum { BLK, RNG, NET, KBD, MOUSE, TABLET, GPU } vkind;

typedef struct vcase {
    vkind kind;
    const char *pci_type; /* NULL: virtio-mmio carrying dev_type */
    const char *dev_type;
    bool msix;
} vcase;

static vd drv;   /* the guest driver's state: its rings live in guest RAM */
static char *img; /* the run's disk image */

static const vcase *vc(mt *m)
{
    return m->c->data;
}

static void v_prepare(mt *m)
{
    memset(&drv, 0, sizeof(drv));
    g_free(img);
    img = vc(m)->kind == BLK ? mt_image(m, "disk.img", 1 << 20, 3) : NULL;
}

static char *backend_props(mt *m)
{
    switch (vc(m)->kind) {
    case BLK:
        mt_drive(m, "file=%s,if=none,id=d0,format=raw", img);
        return g_strdup("drive=d0");
    case NET:
        mt_netdev(m, "n0");
        return g_strdup("netdev=n0,mac=52:54:00:12:34:56");
    default:
        return NULL;
    }
}

static void v_build(mt *m)
{
    g_autofree char *props = backend_props(m);
    const vcase *c = vc(m);

    drv.h = m->h;
    drv.ram = m->ram;
    if (c->pci_type) {
        drv.dev = mt_dev(m, c->pci_type, props);
        drv.pci = true;
        drv.base = mt_bar(m, drv.dev, 4, VD_BAR4);
    } else {
        g_autofree char *p = g_strdup_printf("bus=virtio-mmio-bus.0%s%s", props ? "," : "",
                                             props ? props : "");

        drv.dev = mt_dev(m, "virtio-mmio", NULL);
        mt_map(m, drv.dev, 0, VD_MMIO_BASE);
        mt_dev(m, c->dev_type, p);
        drv.base = VD_MMIO_BASE;
    }
}

/* What the guest's interrupt handler reads first (and acknowledges). */
static void v_isr(mt *m)
{
    if (drv.pci) {
        mt_rd(m, VD_BAR4 + VD_ISR, 1);
    } else {
        uint64_t st = mt_rd(m, VD_MMIO_BASE + 0x60, 4);

        mt_wr(m, VD_MMIO_BASE + 0x64, st, 4);
    }
}

static void v_reap(mt *m, unsigned q)
{
    uint32_t head, len;

    while (vd_reap(&drv, q, &head, &len)) {
        /* The entropy device's bytes are random: their count only. */
        mt_set_add(m, "q%u used head %u len %u", q, head, len);
    }
    mt_set_flush(m);
}

/* ---- per-device requests ---- */

static void blk_req(mt *m, unsigned slot, uint32_t type, uint64_t sector)
{
    uint64_t hdr = BUF + slot * 0x10000, data = hdr + 0x1000, st = hdr + 0x3000;

    mt_put32(m, hdr, type);
    mt_put32(m, hdr + 4, 0);
    mt_put64(m, hdr + 8, sector);
    for (unsigned i = 0; i < 1024 && type == 1; i++) {
        m->ram[data + i] = (uint8_t)(i ^ slot ^ 0x5a);
    }
    m->ram[st] = 0xee;
    vd_desc(&drv, drv.q[0].desc, 3 * slot, hdr, 16, VD_F_NEXT, 3 * slot + 1);
    vd_desc(&drv, drv.q[0].desc, 3 * slot + 1, data, 1024,
            VD_F_NEXT | (type == 0 ? VD_F_WRITE : 0), 3 * slot + 2);
    vd_desc(&drv, drv.q[0].desc, 3 * slot + 2, st, 1, VD_F_WRITE, 0);
    vd_publish(&drv, 0, 3 * slot);
}

static void chain1(mt *m, unsigned q, unsigned slot, uint32_t len, bool in)
{
    uint64_t buf = BUF + (q * 8 + slot) * 0x10000;

    vd_desc(&drv, drv.q[q].desc, slot, buf, len, in ? VD_F_WRITE : 0, 0);
    vd_publish(&drv, q, slot);
}

static const uint8_t frame[64] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x02, 0, 0, 0, 0, 1,
                                  0x08, 0x00, 0x45};

/* input-send-event: at once (send-key paces its keys by the main loop's
 * timers, which the harness does not run). */
static void key(mt *m, const char *qcode, bool down)
{
    char *cmd = g_strdup_printf("{\"execute\":\"input-send-event\",\"arguments\":{\"events\":"
                                "[{\"type\":\"key\",\"data\":{\"down\":%s,\"key\":"
                                "{\"type\":\"qcode\",\"data\":\"%s\"}}}]}}",
                                down ? "true" : "false", qcode);
    char *r = tes_harness_qmp(m->h, cmd);

    g_assert(strstr(r, "\"return\""));
    free(r);
    g_free(cmd);
}

/* A pointer event (rel for the mouse, abs for the tablet) and a button. */
static void pointer(mt *m, int v, bool down)
{
    char *cmd = g_strdup_printf(
        "{\"execute\":\"input-send-event\",\"arguments\":{\"events\":["
        "{\"type\":\"%s\",\"data\":{\"axis\":\"x\",\"value\":%d}},"
        "{\"type\":\"btn\",\"data\":{\"down\":%s,\"button\":\"left\"}}]}}",
        vc(m)->kind == MOUSE ? "rel" : "abs", v, down ? "true" : "false");
    char *r = tes_harness_qmp(m->h, cmd);

    g_assert(strstr(r, "\"return\""));
    free(r);
    g_free(cmd);
}

/* virtio-gpu (virtio 1.2 5.7.6): a command of n u32 words after the
 * 24-byte header, its 24-byte response in the next descriptor. */
#define GPU_RES 7
#define GPU_BACKING (BUF + 0x40000)

static void gpu_cmd(mt *m, unsigned slot, uint32_t type, const uint32_t *w, unsigned n)
{
    uint64_t cmd = BUF + slot * 0x1000, resp = cmd + 0x800;

    memset(m->ram + cmd, 0, 24);
    mt_put32(m, cmd, type);
    for (unsigned i = 0; i < n; i++) {
        mt_put32(m, cmd + 24 + 4 * i, w[i]);
    }
    memset(m->ram + resp, 0xee, 24);
    vd_desc(&drv, drv.q[0].desc, 2 * slot, cmd, 24 + 4 * n, VD_F_NEXT, 2 * slot + 1);
    vd_desc(&drv, drv.q[0].desc, 2 * slot + 1, resp, 24, VD_F_WRITE, 0);
    vd_publish(&drv, 0, 2 * slot);
}

static void gpu_resp(mt *m, unsigned slot)
{
    mt_note(m, "gpu response %u: %#x", slot, mt_get32(m, BUF + slot * 0x1000 + 0x800));
}

/* A 16x16 B8G8R8X8 resource (format 2: the smallest scanout), backed by
 * 1 KiB of guest RAM. */
static void gpu_setup(mt *m)
{
    const uint32_t create[] = {GPU_RES, 2, 16, 16};
    const uint32_t attach[] = {GPU_RES, 1, (uint32_t)GPU_BACKING, 0, 1024, 0};

    gpu_cmd(m, 0, 0x0101, create, G_N_ELEMENTS(create));
    gpu_cmd(m, 1, 0x0106, attach, G_N_ELEMENTS(attach));
}

/* Transfer the backing's pixels and show them (scanout 0); an unref of a
 * resource that does not exist answers ERR_INVALID_RESOURCE_ID. */
static void gpu_show(mt *m)
{
    const uint32_t xfer[] = {0, 0, 16, 16, 0, 0, GPU_RES, 0};
    const uint32_t scanout[] = {0, 0, 16, 16, 0, GPU_RES};
    const uint32_t unref[] = {GPU_RES + 1, 0};

    for (unsigned i = 0; i < 256; i++) {
        mt_put32(m, GPU_BACKING + 4 * i, 0x00102030 * (i + 1));
    }
    gpu_cmd(m, 2, 0x0105, xfer, G_N_ELEMENTS(xfer));
    gpu_cmd(m, 3, 0x0103, scanout, G_N_ELEMENTS(scanout));
    gpu_cmd(m, 4, 0x0102, unref, G_N_ELEMENTS(unref));
}

/* What the scanout shows (QMP screendump, PPM): the transferred pixels. */
static void gpu_screen(mt *m)
{
    g_autofree char *path = g_build_filename(m->dir, "shot.ppm", NULL);
    g_autofree char *cmd = g_strdup_printf(
        "{\"execute\":\"screendump\",\"arguments\":{\"filename\":\"%s\"}}", path);
    char *r = tes_harness_qmp(m->h, cmd);
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autofree char *sum = NULL;

    g_assert(strstr(r, "\"return\""));
    free(r);
    g_assert(g_file_get_contents(path, &data, &len, NULL));
    sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
    mt_note(m, "screendump %" G_GSIZE_FORMAT " bytes sha256 %s", len, sum);
}

/* Step 0: the driver up, a first request done and not reaped. */
static void v_init(mt *m)
{
    unsigned nq = vc(m)->kind == NET || vc(m)->kind >= KBD ? 2 : 1; /* GPU: control, cursor */

    if (vc(m)->msix) {
        g_assert(tes_harness_msi_enable(m->h, drv.dev));
    }
    g_assert(vd_init(&drv, VIRTIO_F_VERSION_1 | (vc(m)->kind == NET ? 1ull << 5 : 0), nq,
                     QSIZE, vc(m)->msix));
    switch (vc(m)->kind) {
    case BLK:
        blk_req(m, 0, 1, 2); /* write sector 2 */
        vd_kick(&drv, 0);
        break;
    case RNG:
        chain1(m, 0, 0, 64, true);
        vd_kick(&drv, 0);
        break;
    case NET:
        for (unsigned i = 0; i < 4; i++) {
            chain1(m, 0, i, 2048, true);
        }
        vd_kick(&drv, 0);
        mt_inject(m, "n0", frame, sizeof(frame));
        break;
    case KBD:
        for (unsigned i = 0; i < 8; i++) {
            chain1(m, 0, i, 8, true);
        }
        vd_kick(&drv, 0);
        key(m, "a", true);
        break;
    case MOUSE:
    case TABLET:
        for (unsigned i = 0; i < 8; i++) {
            chain1(m, 0, i, 8, true);
        }
        vd_kick(&drv, 0);
        pointer(m, 300, true);
        break;
    case GPU:
        gpu_setup(m);
        vd_kick(&drv, 0);
        break;
    }
    mt_rd(m, drv.base + (drv.pci ? VD_COMMON + 0x14 : 0x70), drv.pci ? 1 : 4);
}

/* Step 1: the interrupt taken, the ring reaped; the next request out. */
static void v_next(mt *m)
{
    v_isr(m);
    v_reap(m, 0);
    switch (vc(m)->kind) {
    case BLK:
        mt_ram(m, BUF + 0x3000, 1);
        blk_req(m, 1, 0, 2); /* read it back */
        blk_req(m, 2, 0, 0);
        vd_kick(&drv, 0);
        break;
    case RNG:
        chain1(m, 0, 1, 16, true);
        vd_kick(&drv, 0);
        break;
    case NET:
        mt_ram(m, BUF, 12 + sizeof(frame));
        mt_inject(m, "n0", frame, 42);
        memset(m->ram + BUF + 0x80000, 0, 12);
        memcpy(m->ram + BUF + 0x80000 + 12, frame, sizeof(frame));
        chain1(m, 1, 0, 12 + sizeof(frame), false);
        vd_kick(&drv, 1);
        break;
    case KBD:
        mt_ram(m, BUF, 8 * 4);
        key(m, "a", false);
        key(m, "shift", true);
        break;
    case MOUSE:
    case TABLET:
        mt_ram(m, BUF, 8 * 8);
        pointer(m, 700, false);
        break;
    case GPU:
        gpu_resp(m, 0);
        gpu_resp(m, 1);
        gpu_show(m);
        vd_kick(&drv, 0);
        break;
    }
}

/* Step 2: the rest reaped, checked. */
static void v_end(mt *m)
{
    unsigned nq = vc(m)->kind == NET ? 2 : 1;

    v_isr(m);
    for (unsigned q = 0; q < nq; q++) {
        v_reap(m, q);
    }
    switch (vc(m)->kind) {
    case BLK:
        mt_ram(m, BUF + 0x10000 + 0x1000, 1024);
        mt_ram(m, BUF + 0x20000 + 0x1000, 1024);
        mt_ram(m, BUF + 0x13000, 1);
        mt_ram(m, BUF + 0x23000, 1);
        mt_file(m, img, 0, 4096);
        break;
    case NET:
        mt_ram(m, BUF + 0x10000, 12 + 42);
        break;
    case KBD:
    case MOUSE:
    case TABLET:
        mt_ram(m, BUF, 8 * 8);
        break;
    case GPU:
        for (unsigned i = 2; i < 5; i++) {
            gpu_resp(m, i);
        }
        gpu_screen(m);
        break;
    default:
        break;
    }
    mt_rd(m, drv.base + (drv.pci ? VD_COMMON + 0x14 : 0x70), drv.pci ? 1 : 4);
}

#define VCASE(nm, k, pt, dt, mx)                                                           \
    {.name = nm, .plugins = {"virtio"}, .ram_size = 8 << 20, .prepare = v_prepare,        \
     .build = v_build,                                                                   \
     .steps = {v_init, v_next, v_end},                                                   \
     .data = &(const vcase){k, pt, dt, mx}}

static const mt_case cases[] = {
    VCASE("virtio-blk-pci/intx", BLK, "virtio-blk-pci", NULL, false),
    VCASE("virtio-blk-pci/msix", BLK, "virtio-blk-pci", NULL, true),
    VCASE("virtio-blk-device/mmio", BLK, NULL, "virtio-blk-device", false),
    VCASE("virtio-rng-pci/msix", RNG, "virtio-rng-pci", NULL, true),
    VCASE("virtio-rng-device/mmio", RNG, NULL, "virtio-rng-device", false),
    VCASE("virtio-net-pci/intx", NET, "virtio-net-pci", NULL, false),
    VCASE("virtio-net-pci/msix", NET, "virtio-net-pci", NULL, true),
    VCASE("virtio-net-device/mmio", NET, NULL, "virtio-net-device", false),
    VCASE("virtio-keyboard-pci/msix", KBD, "virtio-keyboard-pci", NULL, true),
    VCASE("virtio-keyboard-device/mmio", KBD, NULL, "virtio-keyboard-device", false),
    VCASE("virtio-mouse-pci/intx", MOUSE, "virtio-mouse-pci", NULL, false),
    VCASE("virtio-mouse-device/mmio", MOUSE, NULL, "virtio-mouse-device", false),
    VCASE("virtio-tablet-pci/msix", TABLET, "virtio-tablet-pci", NULL, true),
    VCASE("virtio-tablet-device/mmio", TABLET, NULL, "virtio-tablet-device", false),
    VCASE("virtio-gpu-pci/msix", GPU, "virtio-gpu-pci", NULL, true),
    VCASE("virtio-gpu-device/mmio", GPU, NULL, "virtio-gpu-device", false),
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        mt_add(&cases[i]);
    }
    return g_test_run();
}
