/*
 * A tiny in-test virtio-scsi "guest driver" over the harness, shared by
 * the scsi plugin's tests: the virtio plugin's virtio-drv.h drives
 * virtio-scsi-pci's registers and rings; this adds SCSI commands (request
 * header, data, response, data-in) and control requests. Header-only.
 */
#ifndef SCSI_DRV_H
#define SCSI_DRV_H

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>
#include <tessera/harness.h>

#include "../../virtio/tests/virtio-drv.h"

#define SD_RAM (64ull << 20)
#define SD_REQ 0x800000ull  /* slot s: request at + 0x400 * s, response + 0x200 */
#define SD_DATA 0x1000000ull /* slot s: data at + 0x100000 * s (1 MiB each) */
#define SD_SLOT_DATA 0x100000ull
#define SD_F_VERSION_1 (1ull << 32)
#define SD_F_HOTPLUG (1ull << 1)
#define SD_Q_CTRL 0
#define SD_Q_EVENT 1
#define SD_Q_REQ 2
#define SD_QSIZE 64
#define SD_NONE 0
#define SD_IN 1  /* data-in (device writes) */
#define SD_OUT 2 /* data-out */

typedef struct sd_fixture {
    vd d;
    char *img[4];
    unsigned nq; /* request queues */
    uint64_t tag;
} sd_fixture;

typedef struct sd_resp {
    uint32_t sense_len, resid, used_len;
    uint8_t status, response;
    uint8_t sense[96];
    uint8_t key, asc, ascq;
} sd_resp;

static const char *sd_virtio_plugin, *sd_scsi_plugin;

static inline uint8_t sd_pattern(uint64_t i)
{
    return (uint8_t)(i * 13 + i / 512 + 5);
}

static inline char *sd_make_image(uint64_t size)
{
    g_autofree uint8_t *buf = g_malloc(size);
    char *path = NULL;
    int fd = g_file_open_tmp("scsi-test-XXXXXX.img", &path, NULL);

    g_assert_cmpint(fd, >=, 0);
    for (uint64_t i = 0; i < size; i++) {
        buf[i] = sd_pattern(i);
    }
    g_assert_cmpint(write(fd, buf, size), ==, (ssize_t)size);
    close(fd);
    return path;
}

static inline void sd_plugins_from_env(int argc, char **argv)
{
    sd_virtio_plugin = g_getenv("VIRTIO_PLUGIN");
    sd_scsi_plugin = g_getenv("SCSI_PLUGIN");
    if (argc > 2) {
        sd_virtio_plugin = argv[1], sd_scsi_plugin = argv[2];
    }
    if (!sd_virtio_plugin || !sd_scsi_plugin) {
        g_error("set VIRTIO_PLUGIN and SCSI_PLUGIN (or pass both paths)");
    }
}

/* Harness with both plugins and drives d0..d(n-1) of size bytes each. */
static inline void sd_harness(sd_fixture *f, unsigned ndrives, uint64_t size)
{
    memset(f, 0, sizeof(*f));
    f->d.h = tes_harness_new(SD_RAM);
    g_assert_true(tes_harness_load(f->d.h, sd_virtio_plugin));
    g_assert_true(tes_harness_load(f->d.h, sd_scsi_plugin));
    f->d.ram = tes_harness_ram(f->d.h);
    for (unsigned i = 0; i < ndrives; i++) {
        g_autofree char *opt = NULL;
        f->img[i] = sd_make_image(size);
        opt = g_strdup_printf("file=%s,if=none,id=d%u,format=raw", f->img[i], i);
        g_assert_true(tes_harness_drive(f->d.h, opt));
    }
}

static inline tes_device *sd_dev(sd_fixture *f, const char *type, const char *props)
{
    tes_device *d = tes_harness_device(f->d.h, type, props);

    if (!d) {
        g_error("%s,%s: %s", type, props, tes_harness_error(f->d.h));
    }
    return d;
}

/* virtio-scsi-pci id=scsi0 with nq request queues, driver up. */
static inline void sd_hba(sd_fixture *f, unsigned nq, uint64_t features)
{
    g_autofree char *p = g_strdup_printf("id=scsi0,num_queues=%u", nq);

    f->nq = nq;
    f->d.dev = sd_dev(f, "virtio-scsi-pci", p);
    f->d.pci = true;
    f->d.base = VD_BAR4;
    g_assert_cmphex(tes_harness_bar_map(f->d.h, f->d.dev, 4, VD_BAR4), ==, VD_BAR4);
    g_assert_true(vd_init(&f->d, SD_F_VERSION_1 | features, nq + 2, SD_QSIZE, false));
}

/* A system reset, then the driver up again (BARs, queues). */
static inline void sd_reset(sd_fixture *f, uint64_t features)
{
    tes_harness_reset(f->d.h);
    g_assert_cmphex(tes_harness_bar_map(f->d.h, f->d.dev, 4, VD_BAR4), ==, VD_BAR4);
    g_assert_true(vd_init(&f->d, SD_F_VERSION_1 | features, f->nq + 2, SD_QSIZE, false));
}

static inline void sd_down(sd_fixture *f)
{
    tes_harness_free(f->d.h);
    for (unsigned i = 0; i < 4; i++) {
        if (f->img[i]) {
            g_unlink(f->img[i]);
            g_free(f->img[i]);
        }
    }
}

static inline uint64_t sd_req_addr(unsigned slot)
{
    return SD_REQ + 0x400ull * slot;
}

static inline uint64_t sd_data_addr(unsigned slot)
{
    return SD_DATA + SD_SLOT_DATA * slot;
}

static inline uint8_t *sd_data(sd_fixture *f, unsigned slot)
{
    return f->d.ram + sd_data_addr(slot);
}

/* Publish (no kick) command cdb to target:lun on request queue q, slot
 * slot (descriptors 4*slot..): len bytes of data in direction dir. */
static inline uint64_t sd_post(sd_fixture *f, unsigned q, unsigned slot, uint8_t target,
                               uint16_t lun, const uint8_t *cdb, unsigned cdb_len, int dir,
                               uint32_t len)
{
    vd *d = &f->d;
    uint64_t req = sd_req_addr(slot), resp = req + 0x200, tag = ++f->tag;
    unsigned j = 4 * slot, qi = SD_Q_REQ + q;
    uint8_t *r = d->ram + req;

    memset(r, 0, 51);
    r[0] = 1, r[1] = target, r[2] = 0x40 | (lun >> 8), r[3] = lun & 0xff;
    memcpy(r + 8, &tag, 8);
    memcpy(r + 19, cdb, cdb_len);
    memset(d->ram + resp, 0xee, 108);
    vd_desc(d, d->q[qi].desc, j, req, 51, VD_F_NEXT, j + 1);
    if (dir == SD_OUT) {
        vd_desc(d, d->q[qi].desc, j + 1, sd_data_addr(slot), len, VD_F_NEXT, j + 2);
        vd_desc(d, d->q[qi].desc, j + 2, resp, 108, VD_F_WRITE, 0);
    } else if (dir == SD_IN) {
        vd_desc(d, d->q[qi].desc, j + 1, resp, 108, VD_F_WRITE | VD_F_NEXT, j + 2);
        vd_desc(d, d->q[qi].desc, j + 2, sd_data_addr(slot), len, VD_F_WRITE, 0);
    } else {
        vd_desc(d, d->q[qi].desc, j + 1, resp, 108, VD_F_WRITE, 0);
    }
    vd_publish(d, qi, j);
    return tag;
}

static inline sd_resp sd_resp_of(sd_fixture *f, unsigned slot)
{
    const uint8_t *p = f->d.ram + sd_req_addr(slot) + 0x200;
    sd_resp r = {0};

    memcpy(&r.sense_len, p, 4);
    memcpy(&r.resid, p + 4, 4);
    r.status = p[10];
    r.response = p[11];
    memcpy(r.sense, p + 12, 96);
    r.key = r.sense[2] & 0xf, r.asc = r.sense[12], r.ascq = r.sense[13];
    return r;
}

/* Run block completions until queue qi has n more used entries. */
static inline void sd_wait_used(sd_fixture *f, unsigned qi, unsigned n)
{
    uint16_t want = f->d.q[qi].used_seen + n;

    for (int i = 0; i < 100000 && (uint16_t)(vd_used_idx(&f->d, qi) - want) > 0x8000; i++) {
        tes_harness_block_wait(f->d.h);
    }
    g_assert_cmpuint(vd_used_idx(&f->d, qi), ==, want);
}

/* One command on request queue q, waited for. */
static inline sd_resp sd_cmd_q(sd_fixture *f, unsigned q, uint8_t target, uint16_t lun,
                               const uint8_t *cdb, unsigned cdb_len, int dir, uint32_t len)
{
    uint32_t head = 0, ulen = 0;
    sd_resp r;

    sd_post(f, q, 0, target, lun, cdb, cdb_len, dir, len);
    vd_kick(&f->d, SD_Q_REQ + q);
    sd_wait_used(f, SD_Q_REQ + q, 1);
    g_assert_true(vd_reap(&f->d, SD_Q_REQ + q, &head, &ulen));
    g_assert_cmpuint(head, ==, 0);
    r = sd_resp_of(f, 0);
    r.used_len = ulen;
    return r;
}

#define SD_CMD(f, t, l, dir, len, ...)                                                        \
    ({                                                                                        \
        const uint8_t cdb_[] = {__VA_ARGS__};                                                \
        sd_cmd_q((f), 0, (t), (l), cdb_, sizeof(cdb_), (dir), (len));                         \
    })

/* GOOD, or CHECK CONDITION with key/asc/ascq (r evaluated once). */
#define SD_ASSERT_GOOD(r)                                                                     \
    do {                                                                                      \
        sd_resp r_ = (r);                                                                     \
        g_assert_cmpuint(r_.response, ==, 0);                                                \
        g_assert_cmphex(r_.status, ==, 0);                                                    \
    } while (0)
#define SD_ASSERT_SENSE(r, k, a, q)                                                           \
    do {                                                                                      \
        sd_resp r_ = (r);                                                                     \
        g_assert_cmpuint(r_.response, ==, 0);                                                \
        g_assert_cmphex(r_.status, ==, 2);                                                    \
        g_assert_cmpuint(r_.sense_len, ==, 18);                                              \
        g_assert_cmphex(r_.key, ==, (k));                                                     \
        g_assert_cmphex(r_.asc, ==, (a));                                                     \
        g_assert_cmphex(r_.ascq, ==, (q));                                                    \
    } while (0)

static inline void sd_assert_file(const char *path, uint64_t off, const uint8_t *want,
                                  size_t len)
{
    g_autofree char *data = NULL;
    gsize size;

    g_assert_true(g_file_get_contents(path, &data, &size, NULL));
    g_assert_cmpuint(size, >=, off + len);
    g_assert_cmpmem(data + off, len, want, len);
}

#endif
