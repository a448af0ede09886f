/*
 * virtio-scsi through the harness: its config space, requests on every
 * request queue and many in flight, malformed requests and descriptor
 * chains, task management (with a request in flight), a device reset in
 * the middle of I/O, hotplug events and migration. tests/scsi-drv.h plays
 * the guest driver. Plugins: $VIRTIO_PLUGIN and $SCSI_PLUGIN.
 */
#include "tests/scsi-drv.h"

#include <tessera/virtio.h>

#define IMG (8ull << 20)
#define S_NEEDS_RESET 0x40
#define CTRL_REQ 0x700000ull
#define EVENT_BUF 0x780000ull

static void up(sd_fixture *f, unsigned nq, uint64_t features)
{
    sd_harness(f, 3, IMG);
    sd_hba(f, nq, features);
    sd_dev(f, "scsi-hd", "drive=d0,bus=scsi0.0,channel=0,scsi-id=0,lun=0");
    sd_dev(f, "scsi-hd", "drive=d1,bus=scsi0.0,channel=0,scsi-id=0,lun=1");
}

/* ---- config ---- */

static void test_ids_and_config(void)
{
    sd_fixture f;

    up(&f, 4, 0);
    g_assert_cmphex(tes_harness_cfg_read(f.d.h, f.d.dev, 0, 4), ==, 0x10481af4);
    g_assert_cmphex(tes_harness_cfg_read(f.d.h, f.d.dev, 0x0a, 2), ==, 0x0100);
    g_assert_cmpuint(vd_num_queues(&f.d), ==, 6);
    g_assert_true(vd_device_features(&f.d) & SD_F_HOTPLUG);
    g_assert_cmpuint(vd_cfg_read(&f.d, 0, 4), ==, 4);      /* num_queues */
    g_assert_cmpuint(vd_cfg_read(&f.d, 4, 4), ==, 254);    /* seg_max */
    g_assert_cmpuint(vd_cfg_read(&f.d, 8, 4), ==, 65535);  /* max_sectors */
    g_assert_cmpuint(vd_cfg_read(&f.d, 12, 4), ==, 128);   /* cmd_per_lun */
    g_assert_cmpuint(vd_cfg_read(&f.d, 16, 4), ==, 16);    /* event_info_size */
    g_assert_cmpuint(vd_cfg_read(&f.d, 20, 4), ==, 96);    /* sense_size */
    g_assert_cmpuint(vd_cfg_read(&f.d, 24, 4), ==, 32);    /* cdb_size */
    g_assert_cmpuint(vd_cfg_read(&f.d, 28, 2), ==, 0);     /* max_channel */
    g_assert_cmpuint(vd_cfg_read(&f.d, 30, 2), ==, 255);   /* max_target */
    g_assert_cmpuint(vd_cfg_read(&f.d, 32, 4), ==, 16383); /* max_lun */
    /* The driver may set sense_size; nonsense and other fields are ignored. */
    vd_wr(&f.d, VD_DEVCFG + 20, 64, 4);
    g_assert_cmpuint(vd_cfg_read(&f.d, 20, 4), ==, 64);
    vd_wr(&f.d, VD_DEVCFG + 24, 1000, 4);
    vd_wr(&f.d, VD_DEVCFG + 0, 9, 4);
    g_assert_cmpuint(vd_cfg_read(&f.d, 24, 4), ==, 32);
    g_assert_cmpuint(vd_cfg_read(&f.d, 0, 4), ==, 4);
    g_assert_nonnull(strstr(tes_harness_log_text(f.d.h), "config write"));
    sd_down(&f);
}

/* ---- requests ---- */

static void test_every_request_queue(void)
{
    const uint8_t inq[6] = {0x12, 0, 0, 0, 96, 0};
    sd_fixture f;

    up(&f, 4, 0);
    for (unsigned q = 0; q < 4; q++) {
        sd_resp r = sd_cmd_q(&f, q, 0, q & 1, inq, sizeof(inq), SD_IN, 96);
        SD_ASSERT_GOOD(r);
        g_assert_cmpmem(sd_data(&f, 0) + 16, 13, "QEMU HARDDISK", 13);
    }
    sd_down(&f);
}

static void test_many_in_flight(void)
{
    sd_fixture f;
    uint32_t head = 0, len = 0;
    unsigned seen = 0;

    up(&f, 1, 0);
    for (unsigned s = 0; s < 16; s++) {
        const uint8_t rd[10] = {0x28, 0, 0, 0, 0, (uint8_t)(s * 16), 0, 0, 16, 0};
        sd_post(&f, 0, s, 0, s & 1, rd, sizeof(rd), SD_IN, 16 * 512);
    }
    vd_kick(&f.d, SD_Q_REQ);
    sd_wait_used(&f, SD_Q_REQ, 16);
    while (vd_reap(&f.d, SD_Q_REQ, &head, &len)) {
        unsigned s = head / 4;
        sd_resp r = sd_resp_of(&f, s);
        SD_ASSERT_GOOD(r);
        g_assert_cmpuint(len, ==, 108 + 16 * 512);
        for (unsigned i = 0; i < 16 * 512; i += 997) {
            g_assert_cmphex(sd_data(&f, s)[i], ==, sd_pattern(s * 16 * 512 + i));
        }
        seen |= 1u << s;
    }
    g_assert_cmphex(seen, ==, 0xffff);
    sd_down(&f);
}

static void test_bidirectional_and_bad_lun(void)
{
    sd_fixture f;
    vd *d;
    uint32_t head = 0, len = 0;
    uint64_t req = sd_req_addr(0);

    up(&f, 1, 0);
    d = &f.d;
    /* Data out and data in: no VIRTIO_SCSI_F_INOUT. */
    memset(d->ram + req, 0, 51);
    d->ram[req] = 1, d->ram[req + 19] = 0x00;
    vd_desc(d, d->q[2].desc, 0, req, 51, VD_F_NEXT, 1);
    vd_desc(d, d->q[2].desc, 1, sd_data_addr(0), 512, VD_F_NEXT, 2);
    vd_desc(d, d->q[2].desc, 2, req + 0x200, 108, VD_F_WRITE | VD_F_NEXT, 3);
    vd_desc(d, d->q[2].desc, 3, sd_data_addr(1), 512, VD_F_WRITE, 0);
    vd_publish(d, 2, 0);
    vd_kick(d, 2);
    g_assert_true(vd_reap(d, 2, &head, &len));
    g_assert_cmpuint(sd_resp_of(&f, 0).response, ==, 9); /* FAILURE */
    /* A LUN that does not start with 1. */
    sd_post(&f, 0, 0, 0, 0, (uint8_t[]){0, 0, 0, 0, 0, 0}, 6, SD_NONE, 0);
    d->ram[req] = 2;
    vd_kick(d, 2);
    g_assert_true(vd_reap(d, 2, &head, &len));
    g_assert_cmpuint(sd_resp_of(&f, 0).response, ==, 3); /* BAD_TARGET */
    g_assert_cmpuint(vd_status(d) & S_NEEDS_RESET, ==, 0);
    sd_down(&f);
}

/* Header and response each in two pieces, apart in memory (the device
 * reads the header in place and writes the response in place only when
 * one piece holds it): a READ(10) and a command that ends in CHECK
 * CONDITION (its sense in the response's second piece) land as they do in
 * one piece. The header's second piece is at req + 0x100, the response's
 * at resp + 0x100. */
static void split_post(vd *d, uint64_t req, const uint8_t *cdb, unsigned cdb_len,
                       uint32_t data_len)
{
    uint64_t resp = req + 0x200;

    memset(d->ram + req, 0, 0x400);
    d->ram[req] = 1;                           /* LUN: bytes 0..7 */
    memcpy(d->ram + req + 0x100 + 11, cdb, cdb_len); /* tag ... CDB: bytes 8..50 */
    memset(d->ram + resp, 0xee, 4);
    memset(d->ram + resp + 0x100, 0xee, 104);
    vd_desc(d, d->q[2].desc, 0, req, 8, VD_F_NEXT, 1);
    vd_desc(d, d->q[2].desc, 1, req + 0x100, 43, VD_F_NEXT, 2);
    vd_desc(d, d->q[2].desc, 2, resp, 4, VD_F_WRITE | VD_F_NEXT, 3);
    vd_desc(d, d->q[2].desc, 3, resp + 0x100, 104, VD_F_WRITE | (data_len ? VD_F_NEXT : 0), 4);
    if (data_len) {
        vd_desc(d, d->q[2].desc, 4, sd_data_addr(0), data_len, VD_F_WRITE, 0);
    }
    vd_publish(d, 2, 0);
    vd_kick(d, 2);
}

/* The response of split_post, put together again. */
static sd_resp split_resp(sd_fixture *f)
{
    uint8_t *resp = f->d.ram + sd_req_addr(0) + 0x200;

    memmove(resp + 4, resp + 0x100, 104);
    return sd_resp_of(f, 0);
}

static void test_split_header_and_response(void)
{
    const uint8_t rd[10] = {0x28, 0, 0, 0, 0, 8, 0, 0, 2, 0}; /* LBA 8, 2 blocks */
    const uint8_t bad[6] = {0xff, 0, 0, 0, 0, 0};              /* no such opcode */
    sd_fixture f;
    uint32_t head = 0, len = 0;
    sd_resp r;

    up(&f, 1, 0);
    memset(sd_data(&f, 0), 0, 1024);
    split_post(&f.d, sd_req_addr(0), rd, sizeof(rd), 1024);
    sd_wait_used(&f, SD_Q_REQ, 1);
    g_assert_true(vd_reap(&f.d, SD_Q_REQ, &head, &len));
    g_assert_cmpuint(len, ==, 108 + 1024);
    r = split_resp(&f);
    SD_ASSERT_GOOD(r);
    g_assert_cmpuint(r.sense_len, ==, 0);
    for (unsigned i = 0; i < 1024; i++) {
        g_assert_cmphex(sd_data(&f, 0)[i], ==, sd_pattern(8 * 512 + i));
    }
    split_post(&f.d, sd_req_addr(0), bad, sizeof(bad), 0);
    sd_wait_used(&f, SD_Q_REQ, 1);
    g_assert_true(vd_reap(&f.d, SD_Q_REQ, &head, &len));
    r = split_resp(&f);
    g_assert_cmpuint(r.response, ==, 0);
    g_assert_cmphex(r.status, ==, 0x02); /* CHECK CONDITION */
    g_assert_cmpuint(r.sense_len, ==, 18);
    g_assert_cmphex(r.key, ==, 0x5);     /* ILLEGAL REQUEST */
    g_assert_cmphex(r.asc, ==, 0x20);    /* INVALID COMMAND OPERATION CODE */
    g_assert_cmpuint(vd_status(&f.d) & S_NEEDS_RESET, ==, 0);
    sd_down(&f);
}

typedef void (*chain_fn)(vd *d);

static void chain_short_header(vd *d)
{
    vd_desc(d, d->q[2].desc, 0, sd_req_addr(0), 10, VD_F_NEXT, 1);
    vd_desc(d, d->q[2].desc, 1, sd_req_addr(0) + 0x200, 108, VD_F_WRITE, 0);
}

static void chain_short_response(vd *d)
{
    vd_desc(d, d->q[2].desc, 0, sd_req_addr(0), 51, VD_F_NEXT, 1);
    vd_desc(d, d->q[2].desc, 1, sd_req_addr(0) + 0x200, 20, VD_F_WRITE, 0);
}

static void chain_loop(vd *d)
{
    vd_desc(d, d->q[2].desc, 0, sd_req_addr(0), 51, VD_F_NEXT, 1);
    vd_desc(d, d->q[2].desc, 1, sd_req_addr(0) + 0x200, 108, VD_F_WRITE | VD_F_NEXT, 0);
}

static void chain_outside_ram(vd *d)
{
    vd_desc(d, d->q[2].desc, 0, sd_req_addr(0), 51, VD_F_NEXT, 1);
    vd_desc(d, d->q[2].desc, 1, SD_RAM + 0x100000, 108, VD_F_WRITE, 0);
}

static void bad_chain(const void *data)
{
    chain_fn fn = (chain_fn)data;
    sd_fixture f;
    sd_resp r;

    up(&f, 1, 0);
    memset(f.d.ram + sd_req_addr(0), 0, 51);
    f.d.ram[sd_req_addr(0)] = 1;
    fn(&f.d);
    vd_publish(&f.d, 2, 0);
    vd_kick(&f.d, 2);
    g_assert_cmphex(vd_status(&f.d) & S_NEEDS_RESET, ==, S_NEEDS_RESET);
    g_assert_nonnull(strstr(tes_harness_log_text(f.d.h), "virtio"));
    /* The device works again after a reset. */
    sd_reset(&f, 0);
    r = SD_CMD(&f, 0, 0, SD_NONE, 0, 0x00, 0, 0, 0, 0, 0);
    SD_ASSERT_SENSE(r, 6, 0x29, 0);
    SD_ASSERT_GOOD(SD_CMD(&f, 0, 0, SD_NONE, 0, 0x00, 0, 0, 0, 0, 0));
    sd_down(&f);
}

/* The rings and buffer windows the virtio core keeps mapped follow bus
 * mastering (dma_generation): cleared after a request, the next kick
 * reaches no ring (nothing used; the device asks for a reset, as for a
 * ring outside RAM); set again and reset, requests run. */
static void test_kept_rings_follow_bus_master(void)
{
    const uint8_t rd[10] = {0x28, 0, 0, 0, 0, 8, 0, 0, 8, 0};
    uint32_t cmd;
    sd_fixture f;
    sd_resp r;

    up(&f, 1, 0);
    SD_ASSERT_GOOD(sd_cmd_q(&f, 0, 0, 0, rd, sizeof(rd), SD_IN, 4096));
    cmd = tes_harness_cfg_read(f.d.h, f.d.dev, 4, 2);
    tes_harness_cfg_write(f.d.h, f.d.dev, 4, cmd & ~4u, 2);
    sd_post(&f, 0, 1, 0, 0, rd, sizeof(rd), SD_IN, 4096);
    vd_kick(&f.d, SD_Q_REQ);
    tes_harness_block_wait(f.d.h);
    g_assert_cmpuint(vd_used_idx(&f.d, SD_Q_REQ), ==, 1);
    g_assert_cmphex(vd_status(&f.d) & S_NEEDS_RESET, ==, S_NEEDS_RESET);
    tes_harness_cfg_write(f.d.h, f.d.dev, 4, cmd, 2);
    sd_reset(&f, 0);
    r = SD_CMD(&f, 0, 0, SD_NONE, 0, 0x00, 0, 0, 0, 0, 0);
    SD_ASSERT_SENSE(r, 6, 0x29, 0);
    SD_ASSERT_GOOD(sd_cmd_q(&f, 0, 0, 0, rd, sizeof(rd), SD_IN, 4096));
    g_assert_cmphex(sd_data(&f, 0)[0], ==, sd_pattern(8 * 512));
    sd_down(&f);
}

/* ---- control queue ---- */

/* A control request of out_len bytes (already at CTRL_REQ), in_len back. */
static uint8_t *ctrl(sd_fixture *f, uint32_t out_len, uint32_t in_len)
{
    vd *d = &f->d;
    uint32_t head = 0, len = 0;

    memset(d->ram + CTRL_REQ + 0x100, 0xee, 16);
    vd_desc(d, d->q[0].desc, 0, CTRL_REQ, out_len, VD_F_NEXT, 1);
    vd_desc(d, d->q[0].desc, 1, CTRL_REQ + 0x100, in_len, VD_F_WRITE, 0);
    vd_publish(d, 0, 0);
    vd_kick(d, 0);
    g_assert_true(vd_reap(d, 0, &head, &len));
    g_assert_cmpuint(len, ==, in_len);
    return d->ram + CTRL_REQ + 0x100;
}

static uint8_t tmf(sd_fixture *f, uint32_t sub, uint8_t target, uint16_t lun, uint64_t tag)
{
    uint8_t *p = f->d.ram + CTRL_REQ;
    uint32_t type = 0;

    memset(p, 0, 24);
    memcpy(p, &type, 4);
    memcpy(p + 4, &sub, 4);
    p[8] = 1, p[9] = target, p[10] = 0x40 | (lun >> 8), p[11] = lun & 0xff;
    memcpy(p + 16, &tag, 8);
    return ctrl(f, 24, 1)[0];
}

static void test_tmf_functions(void)
{
    sd_fixture f;
    uint8_t *p;
    uint32_t v;

    up(&f, 1, 0);
    SD_ASSERT_GOOD(SD_CMD(&f, 0, 1, SD_NONE, 0, 0x00, 0, 0, 0, 0, 0));
    g_assert_cmpuint(tmf(&f, 5, 0, 1, 0), ==, 0);  /* LUN reset: complete */
    SD_ASSERT_SENSE(SD_CMD(&f, 0, 1, SD_NONE, 0, 0x00, 0, 0, 0, 0, 0), 6, 0x29, 0);
    SD_ASSERT_GOOD(SD_CMD(&f, 0, 0, SD_NONE, 0, 0x00, 0, 0, 0, 0, 0)); /* LUN 0 untouched */
    g_assert_cmpuint(tmf(&f, 4, 0, 0, 0), ==, 0);  /* I_T nexus reset: both LUNs */
    SD_ASSERT_SENSE(SD_CMD(&f, 0, 0, SD_NONE, 0, 0x00, 0, 0, 0, 0, 0), 6, 0x29, 0);
    SD_ASSERT_SENSE(SD_CMD(&f, 0, 1, SD_NONE, 0, 0x00, 0, 0, 0, 0, 0), 6, 0x29, 0);
    g_assert_cmpuint(tmf(&f, 0, 0, 0, 12345), ==, 0);  /* abort: nothing to abort */
    g_assert_cmpuint(tmf(&f, 6, 0, 0, 12345), ==, 0);  /* query task: not there */
    g_assert_cmpuint(tmf(&f, 1, 0, 0, 0), ==, 0);      /* abort task set */
    g_assert_cmpuint(tmf(&f, 5, 9, 0, 0), ==, 3);      /* absent target: BAD_TARGET */
    g_assert_cmpuint(tmf(&f, 5, 0, 7, 0), ==, 12);     /* INCORRECT_LUN */
    g_assert_cmpuint(tmf(&f, 2, 0, 0, 0), ==, 11);     /* CLEAR ACA: rejected */
    g_assert_cmpuint(tmf(&f, 99, 0, 0, 0), ==, 11);
    /* Asynchronous notification: no events supported. */
    p = f.d.ram + CTRL_REQ;
    memset(p, 0, 16);
    v = 1, memcpy(p, &v, 4);
    p[4] = 1;
    v = 0x10, memcpy(p + 12, &v, 4);
    p = ctrl(&f, 16, 5);
    memcpy(&v, p, 4);
    g_assert_cmpuint(v, ==, 0);
    g_assert_cmpuint(p[4], ==, 0);
    /* An unknown type: FAILURE. */
    v = 7, memcpy(f.d.ram + CTRL_REQ, &v, 4);
    g_assert_cmpuint(ctrl(&f, 16, 1)[0], ==, 9);
    /* Too short for a TMF: the device needs a reset. */
    v = 0, memcpy(f.d.ram + CTRL_REQ, &v, 4);
    vd_desc(&f.d, f.d.q[0].desc, 0, CTRL_REQ, 8, VD_F_NEXT, 1);
    vd_desc(&f.d, f.d.q[0].desc, 1, CTRL_REQ + 0x100, 1, VD_F_WRITE, 0);
    vd_publish(&f.d, 0, 0);
    vd_kick(&f.d, 0);
    g_assert_cmphex(vd_status(&f.d) & S_NEEDS_RESET, ==, S_NEEDS_RESET);
    sd_down(&f);
}

static void test_abort_in_flight(void)
{
    const uint8_t rd[10] = {0x28, 0, 0, 0, 0, 0, 0, 0, 64, 0};
    sd_fixture f;
    uint32_t head = 0, len = 0;
    uint64_t tag;

    up(&f, 1, 0);
    tag = sd_post(&f, 0, 1, 0, 0, rd, sizeof(rd), SD_IN, 64 * 512);
    vd_kick(&f.d, SD_Q_REQ); /* the read waits for the drive: no poll yet */
    g_assert_cmpuint(tmf(&f, 6, 0, 0, tag), ==, 10); /* query task: FUNCTION SUCCEEDED */
    g_assert_cmpuint(tmf(&f, 0, 0, 0, tag), ==, 0);  /* abort task */
    /* The read ended before the TMF's response, as ABORTED. */
    g_assert_true(vd_reap(&f.d, SD_Q_REQ, &head, &len));
    g_assert_cmpuint(head, ==, 4);
    g_assert_cmpuint(sd_resp_of(&f, 1).response, ==, 2);
    g_assert_cmpuint(sd_resp_of(&f, 1).status, ==, 0x40);
    g_assert_cmpuint(tmf(&f, 6, 0, 0, tag), ==, 0);
    SD_ASSERT_GOOD(SD_CMD(&f, 0, 0, SD_NONE, 0, 0x00, 0, 0, 0, 0, 0));
    sd_down(&f);
}

static void test_reset_mid_io(void)
{
    const uint8_t wr[10] = {0x2a, 0, 0, 0, 0, 0x40, 0, 0, 32, 0};
    sd_fixture f;
    uint8_t *data;

    up(&f, 2, 0);
    data = sd_data(&f, 3);
    for (unsigned i = 0; i < 32 * 512; i++) {
        data[i] = (uint8_t)(i * 7 + 1);
    }
    sd_post(&f, 1, 3, 0, 0, wr, sizeof(wr), SD_OUT, 32 * 512);
    vd_kick(&f.d, SD_Q_REQ + 1);
    /* The driver resets the device while the write is in flight: it
     * finishes first (its used entry is written), then everything is
     * reset. */
    vd_set_status(&f.d, 0);
    g_assert_cmpuint(vd_status(&f.d), ==, 0);
    g_assert_cmpuint(vd_used_idx(&f.d, SD_Q_REQ + 1), ==, 1);
    g_assert_cmpuint(sd_resp_of(&f, 3).response, ==, 0);
    sd_assert_file(f.img[0], 0x40 * 512, data, 32 * 512);
    g_assert_true(vd_init(&f.d, SD_F_VERSION_1, f.nq + 2, SD_QSIZE, false));
    SD_ASSERT_SENSE(SD_CMD(&f, 0, 0, SD_NONE, 0, 0x00, 0, 0, 0, 0, 0), 6, 0x29, 0);
    SD_ASSERT_GOOD(SD_CMD(&f, 0, 0, SD_NONE, 0, 0x00, 0, 0, 0, 0, 0));
    sd_down(&f);
}

/* ---- events ---- */

static void post_event_buffers(sd_fixture *f, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        memset(f->d.ram + EVENT_BUF + 16 * i, 0xee, 16);
        vd_desc(&f->d, f->d.q[1].desc, i, EVENT_BUF + 16 * i, 16, VD_F_WRITE, 0);
        vd_publish(&f->d, 1, i);
    }
    vd_kick(&f->d, 1);
}

static void expect_event(sd_fixture *f, uint32_t event, uint8_t target, uint16_t lun,
                         uint32_t reason)
{
    uint32_t head = 0, len = 0, v;
    const uint8_t *p;

    g_assert_true(vd_reap(&f->d, 1, &head, &len));
    g_assert_cmpuint(len, ==, 16);
    p = f->d.ram + EVENT_BUF + 16 * head;
    memcpy(&v, p, 4);
    g_assert_cmphex(v, ==, event);
    g_assert_cmpuint(p[4], ==, 1);
    g_assert_cmpuint(p[5], ==, target);
    /* As REPORT LUNS: peripheral addressing below 256 (Linux takes the
     * two bytes whole). */
    g_assert_cmpuint(p[6] << 8 | p[7], ==, lun < 256 ? lun : 0x4000 | lun);
    memcpy(&v, p + 12, 4);
    g_assert_cmpuint(v, ==, reason);
}

static void test_hotplug_event(void)
{
    sd_fixture f;

    up(&f, 1, SD_F_HOTPLUG);
    /* up() plugged two disks after DRIVER_OK, with no event buffers. */
    post_event_buffers(&f, 4);
    expect_event(&f, 0x80000000u, 0, 0, 0); /* NO_EVENT | EVENTS_MISSED */
    g_assert_cmpuint(vd_used_idx(&f.d, 1), ==, 1); /* the rest held until news */
    sd_dev(&f, "scsi-hd", "drive=d2,bus=scsi0.0,scsi-id=3,lun=2");
    expect_event(&f, 1, 3, 2, 1); /* TRANSPORT_RESET, RESCAN */
    SD_ASSERT_GOOD(SD_CMD(&f, 3, 2, SD_NONE, 0, 0x00, 0, 0, 0, 0, 0));
    sd_down(&f);
}

static void test_events_missed(void)
{
    sd_fixture f;

    up(&f, 1, SD_F_HOTPLUG);
    sd_dev(&f, "scsi-hd", "drive=d2,bus=scsi0.0,scsi-id=3,lun=0");
    post_event_buffers(&f, 1);
    expect_event(&f, 0x80000000u, 0, 0, 0); /* NO_EVENT | EVENTS_MISSED */
    sd_down(&f);
}

static void test_no_event_without_feature(void)
{
    sd_fixture f;

    up(&f, 1, 0);
    post_event_buffers(&f, 2);
    sd_dev(&f, "scsi-hd", "drive=d2,bus=scsi0.0,scsi-id=3,lun=0");
    g_assert_cmpuint(vd_used_idx(&f.d, 1), ==, 0);
    sd_down(&f);
}

/* ---- trace points: QEMU's virtio_scsi_* lines, once switched on ---- */

static void test_trace(void)
{
    static const char *const want[] = {
        "virtio_scsi_cmd_req lun=1 tag=0x2 cmd=0x12\n",
        "virtio_scsi_cmd_resp lun=1 tag=0x2 response=0 status=0x0\n",
        "virtio_scsi_tmf_req lun=1 tag=0x77 subtype=5\n",
        "virtio_scsi_tmf_resp lun=1 tag=0x77 response=0\n",
        "virtio_scsi_an_req lun=0 event_requested=0x10\n",
        "virtio_scsi_an_resp lun=0 response=0\n",
        "virtio_scsi_event lun=2 event=1 reason=1\n",
        NULL,
    };
    sd_fixture f;
    uint8_t *p;
    uint32_t v;

    up(&f, 1, SD_F_HOTPLUG);
    post_event_buffers(&f, 2);
    expect_event(&f, 0x80000000u, 0, 0, 0);
    tes_harness_log_capture(f.d.h, TES_LOG_TRACE);
    SD_ASSERT_GOOD(SD_CMD(&f, 0, 1, SD_IN, 36, 0x12, 0, 0, 0, 36, 0));
    g_assert_null(strstr(tes_harness_log_text(f.d.h), "virtio_scsi"));
    g_assert_true(vd_trace_on(f.d.h, "virtio_scsi_*"));
    SD_ASSERT_GOOD(SD_CMD(&f, 0, 1, SD_IN, 36, 0x12, 0, 0, 0, 36, 0));
    g_assert_cmpuint(tmf(&f, 5, 0, 1, 0x77), ==, 0);
    p = f.d.ram + CTRL_REQ;
    memset(p, 0, 16);
    v = 2, memcpy(p, &v, 4); /* AN subscribe */
    p[4] = 1, p[6] = 0x40;
    v = 0x10, memcpy(p + 12, &v, 4);
    g_assert_cmpuint(ctrl(&f, 16, 5)[4], ==, 0);
    sd_dev(&f, "scsi-hd", "drive=d2,bus=scsi0.0,scsi-id=3,lun=2");
    expect_event(&f, 1, 3, 2, 1);
    g_assert_cmpstr(vd_log_missing(f.d.h, want), ==, NULL);
    sd_down(&f);
}

/* ---- migration, virtio-mmio ---- */

static void test_migration(void)
{
    sd_fixture f;
    tes_device *hd;
    size_t bytes = 0;
    void *blob;
    size_t len;

    sd_harness(&f, 2, IMG);
    sd_hba(&f, 1, 0);
    hd = sd_dev(&f, "scsi-hd", "drive=d0,bus=scsi0.0,scsi-id=0,lun=0");
    SD_ASSERT_GOOD(SD_CMD(&f, 0, 0, SD_NONE, 0, 0x00, 0, 0, 0, 0, 0));
    tes_harness_reset(f.d.h); /* leaves a unit attention on the disk */
    hd = tes_harness_migrate(f.d.h, hd, &bytes);
    g_assert_nonnull(hd);
    g_assert_cmpuint(bytes, >, 0);
    g_assert_cmphex(tes_harness_bar_map(f.d.h, f.d.dev, 4, VD_BAR4), ==, VD_BAR4);
    g_assert_true(vd_init(&f.d, SD_F_VERSION_1, 3, SD_QSIZE, false));
    vd_wr(&f.d, VD_DEVCFG + 20, 64, 4);
    SD_ASSERT_SENSE(SD_CMD(&f, 0, 0, SD_NONE, 0, 0x00, 0, 0, 0, 0, 0), 6, 0x29, 0);
    /* A stream no guest could make is refused. */
    blob = tes_harness_state_save(f.d.h, hd, &len);
    g_assert_nonnull(blob);
    g_assert_true(tes_harness_state_poke(hd, blob, len, "ua_key", 0, 0x42));
    g_assert_cmpint(tes_harness_state_load(f.d.h, hd, blob, len), <, 0);
    free(blob);
    /* The HBA keeps the driver's sense_size and its queues (the harness
     * recreates the HBA alone: its disk goes). */
    f.d.dev = tes_harness_migrate(f.d.h, f.d.dev, &bytes);
    g_assert_nonnull(f.d.dev);
    g_assert_cmpuint(vd_cfg_read(&f.d, 20, 4), ==, 64);
    g_assert_cmpuint(vd_status(&f.d), ==, 0xf);
    sd_down(&f);
}

static void test_mmio_bus_name(void)
{
    sd_fixture f;
    const tes_host *H;
    const tes_virtio_mmio_ops *mo;
    tes_device *t;

    sd_harness(&f, 1, IMG);
    H = tes_harness_host(f.d.h);
    mo = H->iface_lookup(TES_VIRTIO_MMIO_IFACE, TES_VIRTIO_MMIO_IFACE_VERSION);
    t = sd_dev(&f, "virtio-mmio", NULL);
    H->region_add(H->system_memory(), VD_MMIO_BASE, mo->region(t), 0);
    sd_dev(&f, "virtio-scsi-device", "id=vs0,bus=virtio-mmio-bus.0");
    sd_dev(&f, "scsi-hd", "drive=d0,bus=vs0.0");
    g_assert_null(tes_harness_device(f.d.h, "scsi-hd", "drive=d0,bus=nope.0"));
    f.d.base = VD_MMIO_BASE;
    g_assert_cmpuint(vd_rd(&f.d, 0x8, 4), ==, 8); /* device id: SCSI host */
    sd_down(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    sd_plugins_from_env(argc, argv);
    g_test_add_func("/virtio-scsi/pci-ids-and-config", test_ids_and_config);
    g_test_add_func("/virtio-scsi/requests-on-every-request-queue", test_every_request_queue);
    g_test_add_func("/virtio-scsi/16-requests-in-flight", test_many_in_flight);
    g_test_add_func("/virtio-scsi/bidirectional-fails-bad-lun-bad-target",
                    test_bidirectional_and_bad_lun);
    g_test_add_func("/virtio-scsi/split-header-and-response", test_split_header_and_response);
    g_test_add_data_func("/virtio-scsi/bad-chain/short-header-needs-reset",
                         chain_short_header, bad_chain);
    g_test_add_data_func("/virtio-scsi/bad-chain/short-response-needs-reset",
                         chain_short_response, bad_chain);
    g_test_add_data_func("/virtio-scsi/bad-chain/loop-needs-reset", chain_loop, bad_chain);
    g_test_add_data_func("/virtio-scsi/bad-chain/outside-ram-needs-reset", chain_outside_ram,
                         bad_chain);
    g_test_add_func("/virtio-scsi/kept-rings-follow-bus-master", test_kept_rings_follow_bus_master);
    g_test_add_func("/virtio-scsi/ctrl/tmf-and-an", test_tmf_functions);
    g_test_add_func("/virtio-scsi/ctrl/abort-task-in-flight", test_abort_in_flight);
    g_test_add_func("/virtio-scsi/reset-mid-io-finishes-the-write", test_reset_mid_io);
    g_test_add_func("/virtio-scsi/event/hotplug-rescan", test_hotplug_event);
    g_test_add_func("/virtio-scsi/event/events-missed", test_events_missed);
    g_test_add_func("/virtio-scsi/event/none-without-f-hotplug", test_no_event_without_feature);
    g_test_add_func("/virtio-scsi/trace/requests-tmf-an-events", test_trace);
    g_test_add_func("/virtio-scsi/migration-keeps-config-and-unit-attention", test_migration);
    g_test_add_func("/virtio-scsi/mmio-bus-is-named-after-the-device", test_mmio_bus_name);
    return g_test_run();
}
