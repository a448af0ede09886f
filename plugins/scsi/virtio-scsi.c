/*
 * virtio-scsi: the virtio SCSI host (virtio 1.2 section 5.6), a virtio
 * device of this plugin carried by the virtio plugin's transports, and an
 * HBA of the SCSI bus (through the "scsi" interface, as any HBA).
 *
 * User manual
 *
 *   -device virtio-scsi-pci,id=scsi0[,num_queues=N][,...]
 *   -device virtio-scsi-device,id=scsi0,bus=virtio-mmio-bus.N[,...]
 *   -device scsi-hd,drive=d0,bus=scsi0.0,channel=0,scsi-id=0,lun=0
 *
 *   num_queues      request queues, 1..62, default 1 (Linux uses one per
 *                   vCPU up to this)
 *   virtqueue_size  power of two 4..1024, default 256
 *   seg_max         data segments per request, default virtqueue_size - 2
 *   max_sectors     512-byte sectors per request, default 65535
 *   cmd_per_lun     commands queued per LUN, default 128
 *   hotplug         on|off, default on: VIRTIO_SCSI_F_HOTPLUG, transport
 *                   reset events (rescan, removed) on device_add/device_del
 *   param_change    on|off, default on: VIRTIO_SCSI_F_CHANGE offered
 *
 * The child SCSI bus is "ID.0" where ID is the virtio-scsi-pci's id (the
 * virtio-scsi-device's own on virtio-mmio). Targets 0..255, LUNs
 * 0..16383, one channel. Queue 0 is the control queue (task management:
 * abort task, abort/clear task set, I_T nexus reset, LUN reset, query
 * task/task set; asynchronous notification query/subscribe answered with
 * no events), queue 1 the event queue, queues 2.. the request queues. A
 * request without room for its header or response, or an event buffer
 * too small, marks the device NEEDS_RESET (guest error); bidirectional
 * requests (no VIRTIO_SCSI_F_INOUT) end with VIRTIO_SCSI_S_FAILURE. Reset
 * and migration wait for the requests in flight first; a reset is a SCSI
 * bus reset (unit attention on every LUN).
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <tessera/virtio.h>

#include "scsi-int.h"
#include "scsi-trace.h"

#define VIRTIO_ID_SCSI 8
#define F_HOTPLUG 1
#define F_CHANGE 2
#define Q_CTRL 0
#define Q_EVENT 1
#define Q_REQ 2

/* Config layout (1.2 section 5.6.4). */
#define CFG_NUM_QUEUES 0
#define CFG_SEG_MAX 4
#define CFG_MAX_SECTORS 8
#define CFG_CMD_PER_LUN 12
#define CFG_EVENT_INFO_SIZE 16
#define CFG_SENSE_SIZE 20
#define CFG_CDB_SIZE 24
#define CFG_MAX_CHANNEL 28
#define CFG_MAX_TARGET 30
#define CFG_MAX_LUN 32
#define CFG_SIZE 36

#define DEFAULT_SENSE 96
#define DEFAULT_CDB 32
#define MAX_TARGET 255
#define MAX_LUN 16383
#define REQ_FIXED 19  /* lun[8] id(8) task_attr prio crn, then the CDB */
#define RESP_FIXED 12 /* sense_len resid status_qualifier status response */
#define EVENT_SIZE 16
#define VREQ_IOV 4 /* data pieces a request carries without a malloc */

/* Responses (1.2 section 5.6.6.1). */
#define S_OK 0
#define S_OVERRUN 1
#define S_ABORTED 2
#define S_BAD_TARGET 3
#define S_RESET 4
#define S_FAILURE 9
#define S_FUNCTION_SUCCEEDED 10
#define S_FUNCTION_REJECTED 11
#define S_INCORRECT_LUN 12

/* Control queue (1.2 section 5.6.6.2). */
#define T_TMF 0
#define T_AN_QUERY 1
#define T_AN_SUBSCRIBE 2
#define TMF_ABORT_TASK 0
#define TMF_ABORT_TASK_SET 1
#define TMF_CLEAR_ACA 2
#define TMF_CLEAR_TASK_SET 3
#define TMF_I_T_NEXUS_RESET 4
#define TMF_LUN_RESET 5
#define TMF_QUERY_TASK 6
#define TMF_QUERY_TASK_SET 7

/* Events (1.2 section 5.6.6.3). */
#define T_NO_EVENT 0
#define T_TRANSPORT_RESET 1
#define T_EVENTS_MISSED 0x80000000u
#define EVT_RESET_RESCAN 1
#define EVT_RESET_REMOVED 2

typedef struct vscsi {
    tes_device *dev;
    tes_virtio *vdev;
    const tes_virtio_ops *vio;
    tes_scsi_bus *sbus;
    /* Properties. */
    uint32_t num_queues, queue_size, seg_max, max_sectors, cmd_per_lun;
    bool hotplug, param_change;
    /* Driver-written config and event state (migrated with the device). */
    uint32_t sense_size, cdb_size;
    bool events_missed;
} vscsi;

typedef struct vreq {
    vscsi *s;
    tes_virtq *vq;
    tes_virtio_elem *e;
    struct iovec *data; /* the data part of e (after the header/response) */
    uint64_t in_data;   /* bytes of data-in room */
    uint32_t sense_size;
    uint32_t lun, tag; /* for the trace of the response */
    /* data when it fits: Linux sends one piece per page, so a 4 KiB
     * command needs no allocation. */
    struct iovec iov[VREQ_IOV];
} vreq;

/* ---- iovec helpers ---- */

static size_t iov_to_buf(const struct iovec *iov, unsigned cnt, void *buf, size_t len)
{
    size_t done = 0;

    for (unsigned i = 0; i < cnt && done < len; i++) {
        size_t n = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;
        memcpy((uint8_t *)buf + done, iov[i].iov_base, n);
        done += n;
    }
    return done;
}

static size_t buf_to_iov(const struct iovec *iov, unsigned cnt, const void *buf, size_t len)
{
    size_t done = 0;

    for (unsigned i = 0; i < cnt && done < len; i++) {
        size_t n = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;
        memcpy(iov[i].iov_base, (const uint8_t *)buf + done, n);
        done += n;
    }
    return done;
}

/* iov minus its first skip bytes, into out (cnt entries); returns the count. */
static unsigned iov_skip(const struct iovec *iov, unsigned cnt, size_t skip, struct iovec *out)
{
    unsigned n = 0;

    for (unsigned i = 0; i < cnt; i++) {
        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        out[n].iov_base = (uint8_t *)iov[i].iov_base + skip;
        out[n++].iov_len = iov[i].iov_len - skip;
        skip = 0;
    }
    return n;
}

static void put32(uint8_t *p, uint32_t v)
{
    v = htole32(v);
    memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return le32toh(v);
}

/* virtio LUN (1.2 section 5.6.6.1): 1, target, then a flat LUN. */
static bool lun_decode(const uint8_t *l, uint32_t *target, uint32_t *lun)
{
    *target = l[1];
    *lun = (uint32_t)((l[2] << 8) | l[3]) & 0x3fff;
    return l[0] == 1;
}

/* Events name LUNs as REPORT LUNS does (peripheral below 256, flat
 * above): Linux takes lun[2..3] whole as the LUN it adds. */
static void lun_encode(uint8_t *l, uint32_t target, uint32_t lun)
{
    memset(l, 0, 8);
    l[0] = 1;
    l[1] = target;
    l[2] = lun < 256 ? 0 : 0x40 | (lun >> 8);
    l[3] = lun & 0xff;
}

static void bad_request(vscsi *s, tes_virtq *vq, tes_virtio_elem *e, const char *what)
{
    H->log(TES_LOG_GUEST_ERROR, "virtio-scsi %s: %s", H->dev_id(s->dev), what);
    s->vio->set_needs_reset(s->vdev);
    s->vio->push(vq, e, 0);
    s->vio->notify(vq);
}

/* ---- request queues ---- */

static uint8_t response_of(const tes_scsi_req *req)
{
    switch (req->host_status) {
    case TES_SCSI_HOST_OK: return S_OK;
    case TES_SCSI_HOST_NO_TARGET: return S_BAD_TARGET;
    case TES_SCSI_HOST_ABORTED: return S_ABORTED;
    case TES_SCSI_HOST_RESET: return S_RESET;
    case TES_SCSI_HOST_OVERRUN: return S_OVERRUN;
    default: return S_FAILURE;
    }
}

/* Write the response (and sense) at the start of the device-writable part,
 * push. */
static void req_respond(vreq *v, uint8_t response, uint8_t status, const uint8_t *sense,
                        uint32_t sense_len, uint64_t resid, uint64_t data_in)
{
    uint8_t resp[RESP_FIXED + TES_SCSI_SENSE_MAX];
    tes_virtq *vq = v->vq;
    vscsi *s = v->s;

    struct iovec *in = v->e->in;
    /* Without sense, into the first writable piece when it holds the
     * fixed part (Linux's response descriptor always does). */
    uint8_t *p = !sense_len && in[0].iov_len >= RESP_FIXED ? in[0].iov_base : resp;

    sense_len = sense_len < v->sense_size ? sense_len : v->sense_size;
    put32(p, sense_len);
    put32(p + 4, resid > UINT32_MAX ? UINT32_MAX : (uint32_t)resid);
    p[8] = p[9] = 0; /* status qualifier */
    p[10] = status;
    p[11] = response;
    if (p == resp) {
        if (sense_len) {
            memcpy(resp + RESP_FIXED, sense, sense_len);
        }
        buf_to_iov(in, v->e->in_num, resp, RESP_FIXED + sense_len);
    }
    if (v->data != v->iov) {
        free(v->data);
    }
    trace_virtio_scsi_cmd_resp(v->lun, v->tag, response, status);
    s->vio->push(vq, v->e, RESP_FIXED + v->sense_size + data_in); /* frees v */
    s->vio->notify(vq);
}

static void hba_complete(void *opaque, tes_scsi_req *req)
{
    vreq *v = *(vreq **)req->priv;
    uint64_t in = req->dir == TES_SCSI_DIR_FROM_DEV && req->residual <= v->in_data
                      ? v->in_data - req->residual : 0;

    req_respond(v, response_of(req), req->status, req->sense, req->sense_len, req->residual,
                in);
}

/* The data buffer: what follows the header in out, or the response in in. */
static bool req_data(vreq *v, uint32_t req_len, tes_scsi_dir *dir, unsigned *cnt)
{
    tes_virtio_elem *e = v->e;
    uint64_t out = e->out_len - req_len, in = e->in_len - (RESP_FIXED + v->sense_size);

    *dir = out ? TES_SCSI_DIR_TO_DEV : in ? TES_SCSI_DIR_FROM_DEV : TES_SCSI_DIR_NONE;
    if (out && in) {
        return false;
    }
    v->in_data = in;
    if (e->out_num + e->in_num + 1 <= VREQ_IOV) {
        v->data = v->iov;
    } else if (!(v->data = malloc(sizeof(struct iovec) * (e->out_num + e->in_num + 1)))) {
        return false;
    }
    *cnt = out ? iov_skip(e->out, e->out_num, req_len, v->data)
               : iov_skip(e->in, e->in_num, RESP_FIXED + v->sense_size, v->data);
    return true;
}

/* The rest of v is zero already (pop zeroes what a device asks for): a
 * compound literal would zero the inline iovecs again. */
static void vreq_init(vreq *v, vscsi *s, tes_virtq *vq, tes_virtio_elem *e)
{
    v->s = s;
    v->vq = vq;
    v->e = e;
    v->sense_size = s->sense_size;
}

static void handle_cmd(vscsi *s, tes_virtq *vq, tes_virtio_elem *e)
{
    vreq *v = e->priv;
    uint32_t req_len = REQ_FIXED + s->cdb_size, target, lun;
    uint8_t buf[REQ_FIXED + 256];
    const uint8_t *hdr = buf;
    tes_scsi_req *req;
    tes_scsi_dir dir;
    unsigned cnt = 0;
    uint64_t tag;
    bool lun_ok;

    vreq_init(v, s, vq, e);
    if (e->out_len < req_len || e->in_len < RESP_FIXED + s->sense_size) {
        bad_request(s, vq, e, "request without room for its header or response");
        return;
    }
    /* Read in place when the first piece holds the header (Linux's does):
     * each field is read once, and req_new copies the CDB. */
    if (e->out[0].iov_len >= req_len) {
        hdr = e->out[0].iov_base;
    } else {
        iov_to_buf(e->out, e->out_num, buf, req_len);
    }
    memcpy(&tag, hdr + 8, 8);
    lun_ok = lun_decode(hdr, &target, &lun);
    v->lun = lun;
    v->tag = (uint32_t)le64toh(tag); /* QEMU's: the low half */
    trace_virtio_scsi_cmd_req(lun, v->tag, hdr[REQ_FIXED]);
    if (!lun_ok) {
        req_respond(v, S_BAD_TARGET, 0, NULL, 0, 0, 0);
        return;
    }
    if (!req_data(v, req_len, &dir, &cnt)) {
        H->log(TES_LOG_GUEST_ERROR, "virtio-scsi %s: bidirectional request refused",
               H->dev_id(s->dev));
        req_respond(v, S_FAILURE, 0, NULL, 0, 0, 0);
        return;
    }
    req = scsi_ops.req_new(s->sbus, 0, target, lun, le64toh(tag), hdr + REQ_FIXED,
                           s->cdb_size, sizeof(vreq *));
    if (!req) {
        req_respond(v, S_FAILURE, 0, NULL, 0, 0, 0);
        return;
    }
    *(vreq **)req->priv = v;
    req->dir = dir;
    req->iov = v->data;
    req->iovcnt = cnt;
    scsi_ops.req_submit(req);
}

/* ---- control queue ---- */

static uint8_t tmf_response(tes_scsi_tmf_result r)
{
    switch (r) {
    case TES_SCSI_TMF_COMPLETE: return S_OK; /* FUNCTION COMPLETE */
    case TES_SCSI_TMF_SUCCEEDED: return S_FUNCTION_SUCCEEDED;
    case TES_SCSI_TMF_INCORRECT_LUN: return S_INCORRECT_LUN;
    case TES_SCSI_TMF_NO_TARGET: return S_BAD_TARGET;
    default: return S_FUNCTION_REJECTED;
    }
}

static uint8_t do_tmf(vscsi *s, const uint8_t *req)
{
    static const int8_t fn[] = {
        [TMF_ABORT_TASK] = TES_SCSI_TMF_ABORT_TASK,
        [TMF_ABORT_TASK_SET] = TES_SCSI_TMF_ABORT_TASK_SET,
        [TMF_CLEAR_ACA] = 0,
        [TMF_CLEAR_TASK_SET] = TES_SCSI_TMF_ABORT_TASK_SET,
        [TMF_I_T_NEXUS_RESET] = TES_SCSI_TMF_TARGET_RESET,
        [TMF_LUN_RESET] = TES_SCSI_TMF_LUN_RESET,
        [TMF_QUERY_TASK] = TES_SCSI_TMF_QUERY_TASK,
        [TMF_QUERY_TASK_SET] = TES_SCSI_TMF_QUERY_TASK_SET,
    };
    uint32_t sub = get32(req + 4), target, lun;
    bool lun_ok = lun_decode(req + 8, &target, &lun);
    uint64_t tag;
    uint8_t r;

    memcpy(&tag, req + 16, 8);
    tag = le64toh(tag);
    trace_virtio_scsi_tmf_req(lun, (uint32_t)tag, sub);
    if (!lun_ok) {
        r = S_BAD_TARGET;
    } else if (sub >= sizeof(fn) || !fn[sub]) {
        r = S_FUNCTION_REJECTED;
    } else {
        r = tmf_response(scsi_ops.tmf(s->sbus, fn[sub], 0, target, lun, tag));
    }
    trace_virtio_scsi_tmf_resp(lun, (uint32_t)tag, r);
    return r;
}

static void handle_ctrl(vscsi *s, tes_virtq *vq, tes_virtio_elem *e)
{
    uint8_t req[24] = {0}, resp[5] = {0};
    uint32_t type;
    size_t out_need, in_need;

    if (e->out_len < 4) {
        bad_request(s, vq, e, "control request without a type");
        return;
    }
    iov_to_buf(e->out, e->out_num, req, sizeof(req));
    type = get32(req);
    out_need = type == T_TMF ? 24 : 16;
    in_need = type == T_TMF ? 1 : 5;
    if (type > T_AN_SUBSCRIBE) {
        H->log(TES_LOG_GUEST_ERROR, "virtio-scsi %s: control request type %u",
               H->dev_id(s->dev), type);
        out_need = 4, in_need = 1;
        resp[0] = S_FAILURE;
    }
    if (e->out_len < out_need || e->in_len < in_need) {
        bad_request(s, vq, e, "control request too short");
        return;
    }
    if (type == T_TMF) {
        resp[0] = do_tmf(s, req);
    } else if (type != T_AN_QUERY && type != T_AN_SUBSCRIBE) {
        /* resp[0] set above */
    } else {
        uint32_t target, lun;
        bool lun_ok = lun_decode(req + 4, &target, &lun);

        trace_virtio_scsi_an_req(lun, get32(req + 12));
        /* No asynchronous notification class is supported: event_actual 0. */
        resp[4] = lun_ok ? S_OK : S_BAD_TARGET;
        trace_virtio_scsi_an_resp(lun, resp[4]);
    }
    buf_to_iov(e->in, e->in_num, resp, in_need);
    s->vio->push(vq, e, in_need);
    s->vio->notify(vq);
}

/* ---- event queue ---- */

static void send_event(vscsi *s, uint32_t event, uint32_t target, uint32_t lun, uint32_t reason)
{
    tes_virtq *vq;
    tes_virtio_elem *e;
    uint8_t ev[EVENT_SIZE];

    if (!s->vdev || !(s->vio->status(s->vdev) & TES_VIRTIO_S_DRIVER_OK)) {
        return;
    }
    vq = s->vio->queue(s->vdev, Q_EVENT);
    e = vq ? s->vio->pop(vq, 0) : NULL;
    if (!e) {
        s->events_missed = true;
        return;
    }
    if (e->in_len < EVENT_SIZE || e->out_len) {
        bad_request(s, vq, e, "event buffer is not 16 device-writable bytes");
        return;
    }
    if (s->events_missed) {
        event |= T_EVENTS_MISSED;
        s->events_missed = false;
    }
    put32(ev, event);
    lun_encode(ev + 4, target, lun);
    put32(ev + 12, reason);
    trace_virtio_scsi_event(lun, event, reason);
    buf_to_iov(e->in, e->in_num, ev, EVENT_SIZE);
    s->vio->push(vq, e, EVENT_SIZE);
    s->vio->notify(vq);
}

static bool hotplug_on(vscsi *s)
{
    return s->vdev && (s->vio->features(s->vdev) & (1ull << F_HOTPLUG));
}

static void hba_attached(void *opaque, uint32_t channel, uint32_t id, uint32_t lun)
{
    vscsi *s = opaque;

    if (hotplug_on(s)) {
        send_event(s, T_TRANSPORT_RESET, id, lun, EVT_RESET_RESCAN);
    }
}

static void hba_detached(void *opaque, uint32_t channel, uint32_t id, uint32_t lun)
{
    vscsi *s = opaque;

    if (hotplug_on(s)) {
        send_event(s, T_TRANSPORT_RESET, id, lun, EVT_RESET_REMOVED);
    }
}

static const tes_scsi_hba_ops hba_ops = {
    .size = sizeof(tes_scsi_hba_ops),
    .complete = hba_complete,
    .attached = hba_attached,
    .detached = hba_detached,
};

/* ---- the virtio device ---- */

static void vs_handle_queue(void *opaque, tes_virtq *vq, unsigned index)
{
    vscsi *s = opaque;
    tes_virtio_elem *e;

    if (index == Q_EVENT) {
        if (s->events_missed) {
            send_event(s, T_NO_EVENT, 0, 0, 0);
        }
        return;
    }
    while ((e = s->vio->pop(vq, sizeof(vreq)))) {
        if (index == Q_CTRL) {
            handle_ctrl(s, vq, e);
        } else {
            handle_cmd(s, vq, e);
        }
    }
}

static void vs_config_read(void *opaque, uint32_t off, void *buf, uint32_t len)
{
    vscsi *s = opaque;
    uint8_t c[CFG_SIZE] = {0};

    put32(c + CFG_NUM_QUEUES, s->num_queues);
    put32(c + CFG_SEG_MAX, s->seg_max);
    put32(c + CFG_MAX_SECTORS, s->max_sectors);
    put32(c + CFG_CMD_PER_LUN, s->cmd_per_lun);
    put32(c + CFG_EVENT_INFO_SIZE, EVENT_SIZE);
    put32(c + CFG_SENSE_SIZE, s->sense_size);
    put32(c + CFG_CDB_SIZE, s->cdb_size);
    c[CFG_MAX_CHANNEL] = 0;
    c[CFG_MAX_TARGET] = MAX_TARGET;
    put32(c + CFG_MAX_LUN, MAX_LUN);
    memcpy(buf, c + off, len);
}

/* 1.2 section 5.6.4: the driver may set sense_size and cdb_size. */
static void vs_config_write(void *opaque, uint32_t off, const void *buf, uint32_t len)
{
    vscsi *s = opaque;
    uint32_t v = 0;

    memcpy(&v, buf, len < 4 ? len : 4);
    v = le32toh(v);
    if (len != 4 || (off != CFG_SENSE_SIZE && off != CFG_CDB_SIZE) ||
        (off == CFG_SENSE_SIZE ? v > 65535 : v > 255)) {
        H->log(TES_LOG_GUEST_ERROR, "virtio-scsi %s: config write of %u bytes at %u (0x%x) "
               "ignored", H->dev_id(s->dev), len, off, v);
        return;
    }
    *(off == CFG_SENSE_SIZE ? &s->sense_size : &s->cdb_size) = v;
}

static void vs_quiesce(void *opaque)
{
    vscsi *s = opaque;

    scsi_ops.drain(s->sbus);
}

static void vs_reset(void *opaque)
{
    vscsi *s = opaque;

    s->sense_size = DEFAULT_SENSE;
    s->cdb_size = DEFAULT_CDB;
    s->events_missed = false;
    scsi_ops.tmf(s->sbus, TES_SCSI_TMF_BUS_RESET, 0, 0, 0, 0);
}

static int vs_save(void *opaque, tes_stream *out)
{
    vscsi *s = opaque;
    uint64_t v = htole64(s->sense_size | (uint64_t)s->cdb_size << 32);
    uint8_t missed = s->events_missed;

    H->stream_write(out, &v, sizeof(v));
    H->stream_write(out, &missed, 1);
    return 0;
}

static int vs_load(void *opaque, tes_stream *in)
{
    vscsi *s = opaque;
    uint64_t v;
    uint8_t missed;
    int ret = H->stream_read(in, &v, sizeof(v));

    ret = ret ?: H->stream_read(in, &missed, 1);
    if (ret < 0) {
        return ret;
    }
    v = le64toh(v);
    if ((uint32_t)v > 65535 || (v >> 32) > 255 || missed > 1) {
        H->error(s->dev, "virtio-scsi: sense_size %u, cdb_size %u in the stream",
                 (uint32_t)v, (uint32_t)(v >> 32));
        return -EINVAL;
    }
    s->sense_size = (uint32_t)v;
    s->cdb_size = v >> 32;
    s->events_missed = missed;
    return 0;
}

static const tes_virtio_dev_ops vs_ops = {
    .size = sizeof(tes_virtio_dev_ops),
    .config_read = vs_config_read,
    .config_write = vs_config_write,
    .handle_queue = vs_handle_queue,
    .quiesce = vs_quiesce,
    .reset = vs_reset,
    .save = vs_save,
    .load = vs_load,
};

/* "ID.0": the id of the PCI proxy carrying us, else our own. */
static void bus_name(tes_device *dev, char *buf, size_t size)
{
    tes_bus *vbus = H->dev_bus(dev);
    tes_device *t = vbus ? H->bus_parent(vbus) : NULL;
    const char *type = t ? H->dev_type(t) : "";
    size_t n = strlen(type);

    if (n > 4 && strcmp(type + n - 4, "-pci") == 0) {
        snprintf(buf, size, "%s.0", H->dev_id(t));
    } else {
        snprintf(buf, size, "%s.0", H->dev_id(dev));
    }
}

static bool vs_check_props(tes_device *dev, vscsi *s)
{
    if (s->queue_size & (s->queue_size - 1)) {
        H->error(dev, "virtio-scsi: property 'virtqueue_size' wants a power of two 4..1024, "
                 "got %u", s->queue_size);
        return false;
    }
    if (s->seg_max == 0 || s->seg_max > s->queue_size - 2) {
        s->seg_max = s->queue_size - 2; /* header and response take two */
    }
    return true;
}

static int vs_realize(tes_device *dev, void *st)
{
    vscsi *s = st;
    char name[256];
    tes_scsi_bus_info bi = {.size = sizeof(bi), .max_channel = 0, .max_target = MAX_TARGET,
                            .max_lun = MAX_LUN, .ops = &hba_ops, .opaque = s};
    tes_virtio_dev_info info = {.size = sizeof(info), .device_id = VIRTIO_ID_SCSI,
                                .config_size = CFG_SIZE, .ops = &vs_ops, .opaque = s};

    s->dev = dev;
    s->vio = H->iface_lookup(TES_VIRTIO_IFACE, TES_VIRTIO_IFACE_VERSION);
    if (!s->vio) {
        H->error(dev, "virtio-scsi: the virtio plugin (interface '%s' >= %u) is not loaded",
                 TES_VIRTIO_IFACE, TES_VIRTIO_IFACE_VERSION);
        return -ENOENT;
    }
    if (!vs_check_props(dev, s)) {
        return -EINVAL;
    }
    s->sense_size = DEFAULT_SENSE;
    s->cdb_size = DEFAULT_CDB;
    bus_name(dev, name, sizeof(name));
    s->sbus = scsi_ops.bus_new(dev, name, &bi);
    if (!s->sbus) {
        return -EINVAL;
    }
    info.num_queues = s->num_queues + Q_REQ;
    info.queue_size = s->queue_size;
    info.features = (s->hotplug ? 1ull << F_HOTPLUG : 0) |
                    (s->param_change ? 1ull << F_CHANGE : 0);
    s->vdev = s->vio->plug(dev, &info);
    return s->vdev ? 0 : -EINVAL;
}

static void vs_unrealize(tes_device *dev, void *st)
{
    vscsi *s = st;

    /* The devices on our bus are gone already (child buses go first). */
    if (s->vdev) {
        s->vio->unplug(s->vdev);
        s->vdev = NULL;
    }
    scsi_ops.bus_free(s->sbus);
    s->sbus = NULL;
}

/* The transport migrates queues and features and our save()/load(). */
static const tes_state_info vs_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
};

static const tes_prop_info vs_props[] = {
    TES_PROP("num_queues", TES_PROP_U32, vscsi, num_queues, "1", 1, 62, "request queues"),
    TES_PROP("virtqueue_size", TES_PROP_U32, vscsi, queue_size, "256", 4, 1024,
             "virtqueue size (power of two)"),
    TES_PROP("seg_max", TES_PROP_U32, vscsi, seg_max, "0", 0, 1022,
             "data segments per request (0: virtqueue_size - 2)"),
    TES_PROP("max_sectors", TES_PROP_U32, vscsi, max_sectors, "65535", 1, 0,
             "512-byte sectors per request"),
    TES_PROP("cmd_per_lun", TES_PROP_U32, vscsi, cmd_per_lun, "128", 1, 0,
             "commands queued per LUN"),
    TES_PROP("hotplug", TES_PROP_BOOL, vscsi, hotplug, "on", 0, 0,
             "VIRTIO_SCSI_F_HOTPLUG: hotplug events"),
    TES_PROP("param_change", TES_PROP_BOOL, vscsi, param_change, "on", 0, 0,
             "VIRTIO_SCSI_F_CHANGE"),
    TES_PROP_END,
};

const tes_type_info virtio_scsi_device_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "virtio-scsi-device",
    .desc = "virtio SCSI host (virtio-scsi-pci carries it over PCI)",
    .bus = TES_VIRTIO_BUS,
    .instance_size = sizeof(vscsi),
    .props = vs_props,
    .realize = vs_realize,
    .unrealize = vs_unrealize,
    .state = &vs_state,
};
