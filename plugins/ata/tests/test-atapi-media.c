/*
 * ide-cd removable media through the monitor (ABI 1.5): what the guest's
 * ATAPI commands see when QMP changes, ejects and locks the medium. On
 * piix3-ide, PIO packets to ide.1 unit 0.
 */
#include "test-ata.h"

#include <glib/gstdio.h>
#include <unistd.h>

static void pkt(afix *f, const uint8_t *cdb, uint16_t limit)
{
    ad_issue(&f->a, 1, 0, 0xa0, 0, (uint64_t)limit << 8, 0, false);
    g_assert_cmphex(ad_wait(&f->a, 1) & 0x08, ==, 0x08);
    for (int i = 0; i < 12; i += 2) {
        tes_harness_io_write(f->a.h, 0x170, cdb[i] | cdb[i + 1] << 8, 2);
    }
}

/* TEST UNIT READY: 0 when ready, else the sense key and *asc. */
static uint8_t tur(afix *f, uint8_t *asc)
{
    static const uint8_t cdb[12] = {0};
    uint8_t rs[12] = {0x03, 0, 0, 0, 18}, s[18];

    pkt(f, cdb, 0);
    if (!(ad_wait(&f->a, 1) & 0x01)) {
        return 0;
    }
    pkt(f, rs, 18);
    g_assert_true(ad_pio_in(&f->a, 1, s, 18));
    g_assert_cmphex(ad_wait(&f->a, 1), ==, 0x50);
    *asc = s[12];
    return s[2];
}

/* GET EVENT STATUS NOTIFICATION, media class: event code, *status. */
static uint8_t gesn(afix *f, uint8_t *status)
{
    static const uint8_t cdb[12] = {0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8};
    uint8_t b[8];

    pkt(f, cdb, 8);
    g_assert_true(ad_pio_in(&f->a, 1, b, 8));
    g_assert_cmphex(ad_wait(&f->a, 1), ==, 0x50);
    *status = b[5];
    return b[4] & 0xf;
}

static uint32_t capacity(afix *f)
{
    static const uint8_t cdb[12] = {0x25};
    uint8_t b[8];

    pkt(f, cdb, 8);
    g_assert_true(ad_pio_in(&f->a, 1, b, 8));
    g_assert_cmphex(ad_wait(&f->a, 1), ==, 0x50);
    return (uint32_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
}

static char *qmp(afix *f, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static char *qmp(afix *f, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *cmd = NULL;
    char *r, *g;

    va_start(ap, fmt);
    cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    r = tes_harness_qmp(f->a.h, cmd);
    g_assert_nonnull(r);
    g = g_strdup(r);
    free(r);
    return g;
}

static void assert_ok(afix *f, const char *cmd)
{
    g_autofree char *r = qmp(f, "%s", cmd);

    g_assert_cmpstr(r, ==, "{\"return\":{}}");
}

/* An empty CD-ROM drive, ready for a medium. */
static void media_up(afix *f)
{
    static const char *const devs[] = {"ide-cd", "drive=cd,bus=ide.1,id=cd0", NULL};
    tes_harness *h;

    memset(f, 0, sizeof(*f));
    f->a.h = h = tes_harness_new(RAM_SIZE);
    g_assert_true(tes_harness_load(h, ata_plugin_path));
    f->a.ram = tes_harness_ram(h);
    f->a.ram_size = RAM_SIZE;
    f->img[0] = ata_make_image(CD_IMG_SIZE);
    f->img[1] = ata_make_image(CD_IMG_SIZE / 2);
    g_assert_true(tes_harness_drive(h, "if=none,id=cd,readonly=on"));
    f->a.ctrl = tes_harness_device(h, "piix3-ide", NULL);
    g_assert_nonnull(f->a.ctrl);
    f->dev[0] = tes_harness_device(h, devs[0], devs[1]);
    if (!f->dev[0]) {
        g_error("ide-cd: %s", tes_harness_error(h));
    }
}

static void test_change_then_not_ready_then_ua(void)
{
    afix f;
    uint8_t asc = 0, st = 0;
    g_autofree char *q = NULL, *cmd = NULL;

    media_up(&f);
    g_assert_cmphex(tur(&f, &asc), ==, 0x02);
    g_assert_cmphex(asc, ==, 0x3a);
    q = qmp(&f, "{\"execute\":\"query-block\"}");
    g_assert_nonnull(strstr(q, "\"removable\":true"));
    g_assert_nonnull(strstr(q, "\"tray_open\":false"));
    g_assert_null(strstr(q, "\"inserted\""));
    g_clear_pointer(&q, g_free);
    /* HMP's view, QEMU's layout */
    q = qmp(&f, "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":"
                "\"info block\"}}");
    g_assert_nonnull(strstr(q, "cd: [not inserted]"));
    g_assert_nonnull(strstr(q, "Removable device: not locked, tray closed"));
    g_clear_pointer(&q, g_free);

    cmd = g_strdup_printf("{\"execute\":\"blockdev-change-medium\",\"arguments\":{\"id\":"
                          "\"cd0\",\"filename\":\"%s\",\"format\":\"raw\"}}", f.img[0]);
    assert_ok(&f, cmd);
    /* Linux sr's view: gone, then changed, then ready with the new size. */
    g_assert_cmphex(tur(&f, &asc), ==, 0x02);
    g_assert_cmphex(asc, ==, 0x3a);
    g_assert_cmphex(tur(&f, &asc), ==, 0x06);
    g_assert_cmphex(asc, ==, 0x28);
    g_assert_cmphex(tur(&f, &asc), ==, 0);
    g_assert_cmpuint(capacity(&f), ==, CD_IMG_SIZE / 2048 - 1);
    g_assert_cmphex(gesn(&f, &st), ==, 2); /* NewMedia */
    g_assert_cmphex(st, ==, 2);
    g_assert_cmphex(gesn(&f, &st), ==, 0); /* reported once */
    q = qmp(&f, "{\"execute\":\"query-block\"}");
    g_assert_nonnull(strstr(q, "\"inserted\""));
    g_assert_nonnull(strstr(q, f.img[0]));
    g_clear_pointer(&q, g_free);

    /* A second change (HMP spelling) gives the other image's size. */
    g_clear_pointer(&cmd, g_free);
    cmd = g_strdup_printf("{\"execute\":\"human-monitor-command\",\"arguments\":"
                          "{\"command-line\":\"change cd %s raw\"}}", f.img[1]);
    q = qmp(&f, "%s", cmd);
    g_assert_cmpstr(q, ==, "{\"return\":\"\"}");
    g_assert_cmphex(tur(&f, &asc), ==, 0x02);
    g_assert_cmphex(tur(&f, &asc), ==, 0x06);
    g_assert_cmpuint(capacity(&f), ==, CD_IMG_SIZE / 2 / 2048 - 1);
    ata_down(&f);
}

static void test_locked_tray_refuses_then_force(void)
{
    static const uint8_t lock[12] = {0x1e, 0, 0, 0, 1};
    afix f;
    uint8_t asc = 0, st = 0;
    g_autofree char *q = NULL, *cmd = NULL;

    media_up(&f);
    cmd = g_strdup_printf("{\"execute\":\"blockdev-change-medium\",\"arguments\":{\"device\":"
                          "\"cd\",\"filename\":\"%s\"}}", f.img[0]);
    assert_ok(&f, cmd);
    while (tur(&f, &asc)) {
    }
    g_assert_cmphex(gesn(&f, &st), ==, 2);
    pkt(&f, lock, 0);
    g_assert_cmphex(ad_wait(&f.a, 1), ==, 0x50);

    q = qmp(&f, "{\"execute\":\"eject\",\"arguments\":{\"device\":\"cd\"}}");
    g_assert_nonnull(strstr(q, "Device 'cd' is locked and force was not specified"));
    g_clear_pointer(&q, g_free);
    q = qmp(&f, "{\"execute\":\"query-block\"}");
    g_assert_nonnull(strstr(q, "\"locked\":true"));
    g_assert_nonnull(strstr(q, "\"inserted\""));
    g_clear_pointer(&q, g_free);
    /* The guest was asked, the medium is still there. */
    g_assert_cmphex(gesn(&f, &st), ==, 1); /* EjectRequest */
    g_assert_cmphex(tur(&f, &asc), ==, 0);

    assert_ok(&f, "{\"execute\":\"eject\",\"arguments\":{\"device\":\"cd\",\"force\":true}}");
    q = qmp(&f, "{\"execute\":\"query-block\"}");
    g_assert_nonnull(strstr(q, "\"tray_open\":true"));
    g_assert_nonnull(strstr(q, "\"locked\":false"));
    g_assert_null(strstr(q, "\"inserted\""));
    g_clear_pointer(&q, g_free);
    g_assert_cmphex(tur(&f, &asc), ==, 0x02);
    g_assert_cmphex(asc, ==, 0x3a);
    gesn(&f, &st);
    g_assert_cmphex(st, ==, 1); /* tray open */

    /* The open tray survives a migration of the device. */
    f.dev[0] = tes_harness_migrate(f.a.h, f.dev[0], NULL);
    g_assert_nonnull(f.dev[0]);
    q = qmp(&f, "{\"execute\":\"query-block\"}");
    g_assert_nonnull(strstr(q, "\"tray_open\":true"));
    g_clear_pointer(&q, g_free);
    g_assert_cmphex(tur(&f, &asc), ==, 0x02);

    /* Closing an empty tray: still no medium. */
    assert_ok(&f, "{\"execute\":\"blockdev-close-tray\",\"arguments\":{\"id\":\"cd0\"}}");
    g_assert_cmphex(tur(&f, &asc), ==, 0x02);
    ata_down(&f);
}

static void test_tray_steps_and_refusals(void)
{
    afix f;
    uint8_t asc = 0;
    g_autofree char *q = NULL, *cmd = NULL;

    media_up(&f);
    cmd = g_strdup_printf("file=%s,if=none,id=hd,format=raw", f.img[1]);
    g_assert_true(tes_harness_drive(f.a.h, cmd));
    g_clear_pointer(&cmd, g_free);
    g_assert_nonnull(tes_harness_device(f.a.h, "ide-hd", "drive=hd,bus=ide.0"));
    q = qmp(&f, "{\"execute\":\"eject\",\"arguments\":{\"device\":\"hd\"}}");
    g_assert_nonnull(strstr(q, "Device 'hd' is not removable"));
    g_clear_pointer(&q, g_free);
    q = qmp(&f, "{\"execute\":\"eject\",\"arguments\":{\"device\":\"nope\"}}");
    g_assert_nonnull(strstr(q, "Device 'nope' not found"));
    g_clear_pointer(&q, g_free);
    q = qmp(&f, "{\"execute\":\"blockdev-change-medium\",\"arguments\":{\"device\":\"cd\","
                "\"filename\":\"/nonexistent/x.iso\"}}");
    g_assert_nonnull(strstr(q, "Could not open '/nonexistent/x.iso'"));
    g_clear_pointer(&q, g_free);

    /* open-tray, insert refused (tray closed? no: open), remove, close */
    assert_ok(&f, "{\"execute\":\"blockdev-open-tray\",\"arguments\":{\"id\":\"cd0\"}}");
    cmd = g_strdup_printf("{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"raw\","
                          "\"node-name\":\"iso\",\"read-only\":true,\"file\":{\"driver\":"
                          "\"file\",\"filename\":\"%s\"}}}", f.img[0]);
    assert_ok(&f, cmd);
    assert_ok(&f, "{\"execute\":\"blockdev-insert-medium\",\"arguments\":{\"id\":\"cd0\","
                  "\"node-name\":\"iso\"}}");
    q = qmp(&f, "{\"execute\":\"blockdev-insert-medium\",\"arguments\":{\"id\":\"cd0\","
                "\"node-name\":\"iso\"}}");
    g_assert_nonnull(strstr(q, "There already is a medium in device 'cd0'"));
    g_clear_pointer(&q, g_free);
    g_assert_cmphex(tur(&f, &asc), ==, 0x02); /* tray still open */
    assert_ok(&f, "{\"execute\":\"blockdev-close-tray\",\"arguments\":{\"id\":\"cd0\"}}");
    q = qmp(&f, "{\"execute\":\"blockdev-remove-medium\",\"arguments\":{\"id\":\"cd0\"}}");
    g_assert_nonnull(strstr(q, "Tray of device 'cd0' is not open"));
    g_clear_pointer(&q, g_free);
    g_assert_cmphex(tur(&f, &asc), ==, 0x02);
    g_assert_cmphex(tur(&f, &asc), ==, 0x06);
    g_assert_cmpuint(capacity(&f), ==, CD_IMG_SIZE / 2048 - 1);
    /* The node is in use while inserted, and its own again after removal. */
    q = qmp(&f, "{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"iso\"}}");
    g_assert_nonnull(strstr(q, "\"error\""));
    g_clear_pointer(&q, g_free);
    assert_ok(&f, "{\"execute\":\"blockdev-open-tray\",\"arguments\":{\"id\":\"cd0\"}}");
    assert_ok(&f, "{\"execute\":\"blockdev-remove-medium\",\"arguments\":{\"id\":\"cd0\"}}");
    assert_ok(&f, "{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"iso\"}}");
    ata_down(&f);
}

/* The guest's START STOP UNIT moves the tray; the monitor sees it. */
static void test_guest_eject_and_load(void)
{
    static const uint8_t eject[12] = {0x1b, 0, 0, 0, 2}, load[12] = {0x1b, 0, 0, 0, 3};
    afix f;
    uint8_t asc = 0, st = 0;
    g_autofree char *q = NULL, *cmd = NULL;

    media_up(&f);
    cmd = g_strdup_printf("{\"execute\":\"blockdev-change-medium\",\"arguments\":{\"device\":"
                          "\"cd\",\"filename\":\"%s\"}}", f.img[0]);
    assert_ok(&f, cmd);
    while (tur(&f, &asc)) {
    }
    pkt(&f, eject, 0);
    g_assert_cmphex(ad_wait(&f.a, 1), ==, 0x50);
    q = qmp(&f, "{\"execute\":\"query-block\"}");
    g_assert_nonnull(strstr(q, "\"tray_open\":true"));
    g_assert_nonnull(strstr(q, "\"inserted\"")); /* the medium stays in the drive */
    g_clear_pointer(&q, g_free);
    g_assert_cmphex(tur(&f, &asc), ==, 0x02);
    pkt(&f, load, 0);
    g_assert_cmphex(ad_wait(&f.a, 1), ==, 0x50);
    g_assert_cmphex(gesn(&f, &st), ==, 2);
    g_assert_cmphex(tur(&f, &asc), ==, 0);
    ata_down(&f);
}

void atapi_media_tests_register(void)
{
    g_test_add_func("/ata/atapi-media/change-gives-not-ready-then-unit-attention",
                    test_change_then_not_ready_then_ua);
    g_test_add_func("/ata/atapi-media/locked-tray-refuses-eject-asks-guest-force-wins",
                    test_locked_tray_refuses_then_force);
    g_test_add_func("/ata/atapi-media/tray-open-insert-close-remove-and-refusals",
                    test_tray_steps_and_refusals);
    g_test_add_func("/ata/atapi-media/guest-start-stop-moves-the-tray",
                    test_guest_eject_and_load);
}
