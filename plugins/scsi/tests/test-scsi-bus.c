/*
 * The "scsi" interface (<tessera/scsi.h>) as an HBA of another plugin uses
 * it, with no virtio in between: the test plays the HBA, making a SCSI bus
 * under a device of its own (a virtio-rng-pci stands in as the DMA master
 * and parent), mapping guest addresses with req_map, submitting requests
 * and task management, and counting completions and hotplug callbacks.
 * Plugins: $VIRTIO_PLUGIN (the stand-in parent) and $SCSI_PLUGIN.
 */
#include <errno.h>
#include <sys/uio.h>

#include "tests/scsi-drv.h"

#include <tessera/scsi.h>

#define IMG (4ull << 20)

typedef struct hba {
    sd_fixture f;
    const tes_host *H;
    const tes_scsi_ops *so;
    tes_device *parent;
    tes_scsi_bus *bus;
    unsigned completed, attached, detached;
    tes_scsi_req last; /* a copy of the last completed request */
    uint32_t last_priv;
} hba;

static void complete(void *opaque, tes_scsi_req *req)
{
    hba *t = opaque;

    t->completed++;
    t->last = *req;
    t->last_priv = *(uint32_t *)req->priv;
}

static void attached(void *opaque, uint32_t ch, uint32_t id, uint32_t lun)
{
    ((hba *)opaque)->attached++;
}

static void detached(void *opaque, uint32_t ch, uint32_t id, uint32_t lun)
{
    ((hba *)opaque)->detached++;
}

static const tes_scsi_hba_ops ops = {
    .size = sizeof(ops), .complete = complete, .attached = attached, .detached = detached,
};

static void up(hba *t)
{
    tes_scsi_bus_info bi = {.size = sizeof(bi), .max_channel = 1, .max_target = 7,
                            .max_lun = 7, .ops = &ops, .opaque = t};

    memset(t, 0, sizeof(*t));
    sd_harness(&t->f, 2, IMG);
    t->H = tes_harness_host(t->f.d.h);
    t->so = t->H->iface_lookup(TES_SCSI_IFACE, TES_SCSI_IFACE_VERSION);
    g_assert_nonnull(t->so);
    g_assert_cmpuint(t->so->size, ==, sizeof(tes_scsi_ops));
    t->parent = sd_dev(&t->f, "virtio-rng-pci", "id=hba0");
    /* Bus mastering on, or DMA would not reach RAM. */
    tes_harness_bar_map(t->f.d.h, t->parent, 4, VD_BAR4);
    t->bus = t->so->bus_new(t->parent, NULL, &bi);
    g_assert_nonnull(t->bus);
    g_assert_cmpstr(t->H->bus_name(t->so->bus(t->bus)), ==, "hba0.0");
}

static void down(hba *t)
{
    /* As an HBA's unrealize would, after the devices on the bus went. */
    sd_down(&t->f);
    t->so->bus_free(t->bus);
}

/* A request mapped from guest addresses, submitted; returns whether
 * complete() ran before req_submit returned. */
static bool run(hba *t, uint32_t ch, uint32_t id, uint32_t lun, const uint8_t *cdb,
                unsigned cdb_len, tes_scsi_dir dir, const tes_scsi_sge *sg, unsigned n,
                uint32_t mark)
{
    unsigned before = t->completed;
    tes_scsi_req *r = t->so->req_new(t->bus, ch, id, lun, mark, cdb, cdb_len, 4);

    g_assert_nonnull(r);
    *(uint32_t *)r->priv = mark;
    g_assert_cmpint(t->so->req_map(r, t->parent, dir, sg, n), ==, 0);
    t->so->req_submit(r);
    return t->completed > before;
}

static void wait_done(hba *t, unsigned n)
{
    for (int i = 0; i < 10000 && t->completed < n; i++) {
        tes_harness_block_wait(t->f.d.h);
    }
    g_assert_cmpuint(t->completed, ==, n);
}

static void test_read_through_sg_list(void)
{
    /* READ 10 of 8 blocks at LBA 2 into three scattered pieces. */
    const uint8_t rd[10] = {0x28, 0, 0, 0, 0, 2, 0, 0, 8, 0};
    const tes_scsi_sge sg[3] = {{0x200000, 1000}, {0x300000, 3000}, {0x400100, 1096}};
    uint8_t *ram;
    hba t;

    up(&t);
    sd_dev(&t.f, "scsi-hd", "drive=d0,bus=hba0.0,channel=1,scsi-id=5,lun=3");
    g_assert_cmpuint(t.attached, ==, 1);
    ram = t.f.d.ram;
    g_assert_false(run(&t, 1, 5, 3, rd, sizeof(rd), TES_SCSI_DIR_FROM_DEV, sg, 3, 77));
    g_assert_cmpuint(t.so->inflight(t.bus), ==, 1);
    wait_done(&t, 1);
    g_assert_cmpuint(t.last_priv, ==, 77);
    g_assert_cmpuint(t.last.status, ==, TES_SCSI_GOOD);
    g_assert_cmpuint(t.last.host_status, ==, TES_SCSI_HOST_OK);
    g_assert_cmpuint(t.last.residual, ==, 5096 - 4096);
    for (unsigned i = 0; i < 1000; i++) {
        g_assert_cmphex(ram[0x200000 + i], ==, sd_pattern(1024 + i));
    }
    for (unsigned i = 0; i < 3000; i++) {
        g_assert_cmphex(ram[0x300000 + i], ==, sd_pattern(1024 + 1000 + i));
    }
    for (unsigned i = 0; i < 96; i++) {
        g_assert_cmphex(ram[0x400100 + i], ==, sd_pattern(1024 + 4000 + i));
    }
    g_assert_cmpuint(t.so->inflight(t.bus), ==, 0);
    down(&t);
}

static void test_lun_list_and_no_target(void)
{
    const uint8_t tur[6] = {0};
    uint32_t ch, id, lun;
    hba t;

    up(&t);
    sd_dev(&t.f, "scsi-hd", "drive=d0,bus=hba0.0,scsi-id=2,lun=0");
    sd_dev(&t.f, "scsi-cd", "drive=d1,bus=hba0.0,scsi-id=2,lun=4");
    g_assert_true(t.so->lun_at(t.bus, 1, &ch, &id, &lun));
    g_assert_cmpuint(id, ==, 2);
    g_assert_cmpuint(lun, ==, 4);
    g_assert_false(t.so->lun_at(t.bus, 2, &ch, &id, &lun));
    /* Outside the HBA's limits (max_target 7, max_lun 7). */
    g_assert_null(tes_harness_device(t.f.d.h, "scsi-hd", "drive=d1,bus=hba0.0,scsi-id=8"));
    g_assert_null(tes_harness_device(t.f.d.h, "scsi-hd", "drive=d1,bus=hba0.0,lun=8"));
    /* Synchronous answers complete inside req_submit. */
    g_assert_true(run(&t, 0, 3, 0, tur, sizeof(tur), TES_SCSI_DIR_NONE, NULL, 0, 1));
    g_assert_cmpuint(t.last.host_status, ==, TES_SCSI_HOST_NO_TARGET);
    g_assert_true(run(&t, 0, 2, 1, tur, sizeof(tur), TES_SCSI_DIR_NONE, NULL, 0, 2));
    g_assert_cmpuint(t.last.status, ==, TES_SCSI_CHECK_CONDITION);
    g_assert_cmphex(t.last.sense[12], ==, 0x25);
    g_assert_cmpuint(t.so->tmf(t.bus, TES_SCSI_TMF_LUN_RESET, 0, 3, 0, 0), ==,
                     TES_SCSI_TMF_NO_TARGET);
    g_assert_cmpuint(t.so->tmf(t.bus, TES_SCSI_TMF_LUN_RESET, 0, 2, 1, 0), ==,
                     TES_SCSI_TMF_INCORRECT_LUN);
    g_assert_cmpuint(t.so->tmf(t.bus, 99, 0, 2, 0, 0), ==, TES_SCSI_TMF_REJECTED);
    down(&t);
}

static void test_map_refuses_holes(void)
{
    const tes_scsi_sge outside = {SD_RAM + 0x1000, 512};
    tes_scsi_req *r;
    hba t;

    up(&t);
    r = t.so->req_new(t.bus, 0, 0, 0, 1, (const uint8_t[]){0x28}, 1, 0);
    g_assert_cmpint(t.so->req_map(r, t.parent, TES_SCSI_DIR_FROM_DEV, &outside, 1), ==,
                    -EFAULT);
    t.so->req_free(r); /* never submitted: no completion */
    g_assert_cmpuint(t.completed, ==, 0);
    down(&t);
}

static void test_bus_reset_aborts_in_flight(void)
{
    const uint8_t wr[10] = {0x2a, 0, 0, 0, 0, 9, 0, 0, 2, 0};
    const tes_scsi_sge sg = {0x200000, 1024};
    const uint8_t tur[6] = {0};
    hba t;

    up(&t);
    sd_dev(&t.f, "scsi-hd", "drive=d0,bus=hba0.0,scsi-id=0,lun=0");
    memset(t.f.d.ram + 0x200000, 0x3c, 1024);
    g_assert_false(run(&t, 0, 0, 0, wr, sizeof(wr), TES_SCSI_DIR_TO_DEV, &sg, 1, 5));
    g_assert_cmpuint(t.so->tmf(t.bus, TES_SCSI_TMF_BUS_RESET, 0, 0, 0, 0), ==,
                     TES_SCSI_TMF_COMPLETE);
    /* Ended before tmf returned, with the reset's status. */
    g_assert_cmpuint(t.completed, ==, 1);
    g_assert_cmpuint(t.last.status, ==, TES_SCSI_TASK_ABORTED);
    g_assert_cmpuint(t.last.host_status, ==, TES_SCSI_HOST_RESET);
    g_assert_true(run(&t, 0, 0, 0, tur, sizeof(tur), TES_SCSI_DIR_NONE, NULL, 0, 6));
    g_assert_cmphex(t.last.sense[2], ==, 6);
    g_assert_cmphex(t.last.sense[12], ==, 0x29);
    down(&t);
}

static void xfer_is(hba *t, uint32_t lun, const uint8_t *cdb, unsigned len,
                    tes_scsi_dir want_dir, uint64_t want_len)
{
    tes_scsi_req *r = t->so->req_new(t->bus, 0, 0, lun, 1, cdb, len, 0);
    tes_scsi_dir dir;
    uint64_t n;

    t->so->req_xfer(r, &dir, &n);
    g_assert_cmpuint(dir, ==, want_dir);
    g_assert_cmpuint(n, ==, want_len);
    t->so->req_free(r);
}

static void test_req_xfer_before_any_buffer(void)
{
    hba t;

    up(&t);
    sd_dev(&t.f, "scsi-hd", "drive=d0,bus=hba0.0,scsi-id=0,lun=0,logical_block_size=4096");
    sd_dev(&t.f, "scsi-cd", "drive=d1,bus=hba0.0,scsi-id=0,lun=1");
    xfer_is(&t, 0, (const uint8_t[]){0x28, 0, 0, 0, 0, 0, 0, 0, 3, 0}, 10,
            TES_SCSI_DIR_FROM_DEV, 3 * 4096);
    xfer_is(&t, 0, (const uint8_t[]){0x0a, 0, 0, 0, 0, 0}, 6, TES_SCSI_DIR_TO_DEV, 256 * 4096);
    xfer_is(&t, 0, (const uint8_t[]){0x2f, 0, 0, 0, 0, 0, 0, 0, 3, 0}, 10,
            TES_SCSI_DIR_NONE, 0); /* VERIFY without BYTCHK */
    xfer_is(&t, 0, (const uint8_t[]){0x93, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0}, 16,
            TES_SCSI_DIR_NONE, 0); /* WRITE SAME 16, NDOB */
    xfer_is(&t, 0, (const uint8_t[]){0x12, 0, 0, 0, 96, 0}, 6, TES_SCSI_DIR_FROM_DEV, 96);
    xfer_is(&t, 0, (const uint8_t[]){0x55, 0x10, 0, 0, 0, 0, 0, 0, 24, 0}, 10,
            TES_SCSI_DIR_TO_DEV, 24);
    xfer_is(&t, 1, (const uint8_t[]){0xa8, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0}, 12,
            TES_SCSI_DIR_FROM_DEV, 2 * 2048);
    xfer_is(&t, 5, (const uint8_t[]){0x28, 0, 0, 0, 0, 0, 0, 0, 3, 0}, 10,
            TES_SCSI_DIR_NONE, 0); /* absent LUN */
    xfer_is(&t, 0, (const uint8_t[]){0x00, 0, 0, 0, 0, 0}, 6, TES_SCSI_DIR_NONE, 0);
    xfer_is(&t, 0, (const uint8_t[]){0xff, 0, 0, 0, 0, 0}, 6, TES_SCSI_DIR_NONE, 0);
    down(&t);
}

/* ---- scsi-cd removable media through QMP (ABI 1.5) ---- */

/* TEST UNIT READY: 0 (GOOD) or sense key << 16 | asc << 8 | ascq. */
static uint32_t cd_tur(hba *t)
{
    static const uint8_t tur[6] = {0};

    g_assert_true(run(t, 0, 1, 0, tur, sizeof(tur), TES_SCSI_DIR_NONE, NULL, 0, 9));
    if (t->last.status == TES_SCSI_GOOD) {
        return 0;
    }
    return (uint32_t)(t->last.sense[2] & 0xf) << 16 | t->last.sense[12] << 8 | t->last.sense[13];
}

/* Past every pending unit attention: what TEST UNIT READY settles on. */
static uint32_t cd_settle(hba *t)
{
    uint32_t r = 0;

    for (int i = 0; i < 8 && ((r = cd_tur(t)) >> 16) == 6; i++) {
    }
    return r;
}

/* GESN media class: event code << 8 | media status. */
static uint32_t cd_gesn(hba *t)
{
    static const uint8_t cdb[10] = {0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0};
    const tes_scsi_sge sg = {0x200000, 8};

    g_assert_true(run(t, 0, 1, 0, cdb, sizeof(cdb), TES_SCSI_DIR_FROM_DEV, &sg, 1, 10));
    g_assert_cmpuint(t->last.status, ==, TES_SCSI_GOOD);
    return (uint32_t)(t->f.d.ram[0x200004] & 0xf) << 8 | t->f.d.ram[0x200005];
}

static char *cd_qmp(hba *t, const char *json)
{
    char *r = tes_harness_qmp(t->f.d.h, json), *g = g_strdup(r);

    free(r);
    return g;
}

static void test_cd_media_change_and_eject(void)
{
    static const uint8_t lock[6] = {0x1e, 0, 0, 0, 1, 0};
    g_autofree char *cmd = NULL, *r = NULL;
    hba t;

    up(&t);
    g_assert_true(tes_harness_drive(t.f.d.h, "if=none,id=cd,readonly=on"));
    sd_dev(&t.f, "scsi-cd", "drive=cd,bus=hba0.0,scsi-id=1,lun=0,id=cd0");
    g_assert_cmphex(cd_settle(&t), ==, 0x023a00); /* NOT READY, no medium */

    cmd = g_strdup_printf("{\"execute\":\"blockdev-change-medium\",\"arguments\":{\"id\":"
                          "\"cd0\",\"filename\":\"%s\",\"format\":\"raw\"}}", t.f.img[1]);
    r = cd_qmp(&t, cmd);
    g_assert_cmpstr(r, ==, "{\"return\":{}}");
    g_clear_pointer(&r, g_free);
    /* QEMU's order: gone, then changed, then ready; GESN says NewMedia. */
    g_assert_cmphex(cd_tur(&t), ==, 0x063a00);
    g_assert_cmphex(cd_tur(&t), ==, 0x062800);
    g_assert_cmphex(cd_tur(&t), ==, 0);
    g_assert_cmphex(cd_gesn(&t), ==, 0x0202);

    /* Locked by the guest: refused, the guest is asked (EjectRequest). */
    g_assert_true(run(&t, 0, 1, 0, lock, sizeof(lock), TES_SCSI_DIR_NONE, NULL, 0, 11));
    g_assert_cmpuint(t.last.status, ==, TES_SCSI_GOOD);
    r = cd_qmp(&t, "{\"execute\":\"eject\",\"arguments\":{\"id\":\"cd0\"}}");
    g_assert_nonnull(strstr(r, "Device 'cd0' is locked and force was not specified"));
    g_clear_pointer(&r, g_free);
    g_assert_cmphex(cd_gesn(&t), ==, 0x0102);
    g_assert_cmphex(cd_tur(&t), ==, 0);

    r = cd_qmp(&t, "{\"execute\":\"eject\",\"arguments\":{\"id\":\"cd0\",\"force\":true}}");
    g_assert_cmpstr(r, ==, "{\"return\":{}}");
    g_clear_pointer(&r, g_free);
    g_assert_cmphex(cd_settle(&t), ==, 0x023a02); /* NOT READY, tray open */
    r = cd_qmp(&t, "{\"execute\":\"query-block\"}");
    {
        /* the cd's entry: from its name to the next drive's */
        char *e = strstr(r, "\"device\":\"cd\""), *next;

        g_assert_nonnull(e);
        if ((next = strstr(e + 1, "\"device\""))) {
            *next = '\0';
        }
        g_assert_nonnull(strstr(e, "\"tray_open\":true"));
        g_assert_null(strstr(e, "\"inserted\""));
    }
    down(&t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    sd_plugins_from_env(argc, argv);
    g_test_add_func("/scsi-bus/read-through-a-guest-sg-list", test_read_through_sg_list);
    g_test_add_func("/scsi-bus/lun-list-limits-no-target-absent-lun",
                    test_lun_list_and_no_target);
    g_test_add_func("/scsi-bus/req-map-refuses-what-is-not-ram", test_map_refuses_holes);
    g_test_add_func("/scsi-bus/bus-reset-ends-a-request-in-flight",
                    test_bus_reset_aborts_in_flight);
    g_test_add_func("/scsi-bus/req-xfer-before-any-buffer", test_req_xfer_before_any_buffer);
    g_test_add_func("/scsi-bus/scsi-cd-media-change-lock-and-eject-through-qmp",
                    test_cd_media_change_and_eject);
    return g_test_run();
}
