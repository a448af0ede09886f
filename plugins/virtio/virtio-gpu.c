/*
 * virtio-gpu: the 2D virtio GPU (virtio 1.2 section 5.7), the device
 * Linux's virtio-gpu DRM driver (drivers/gpu/drm/virtio, virtio_gpu.ko)
 * drives on both arches, with its fbdev emulation on /dev/fb0.
 *
 * User manual
 *
 *   -device virtio-gpu-pci[,max_outputs=N][,xres=W,yres=H][,edid=on|off]
 *                         [,max_hostmem=SIZE][,addr=SLOT][,id=ID]
 *   -device virtio-gpu-device,bus=virtio-mmio-bus.N[,...the same]
 *
 *   max_outputs  (u32, default 1) scanouts (heads), 1..16; each is a
 *                graphic console, numbered after the consoles before it
 *   xres, yres   (u32, default 1280x800, QEMU's) the mode scanout 0
 *                reports in GET_DISPLAY_INFO and its EDID prefers
 *   edid         (bool, default on) offer VIRTIO_GPU_F_EDID: GET_EDID
 *                returns an EDID block per scanout
 *   max_hostmem  (size, default 256M, QEMU's) host memory the guest's
 *                resources may take, pixels and bookkeeping together;
 *                beyond it RESOURCE_CREATE_2D fails with OUT_OF_MEMORY
 *
 * The picture is what QMP/HMP `screendump` saves and what the window and
 * VNC show: a scanout's console shows its rectangle of the resource set
 * on it, updated on RESOURCE_FLUSH. PCI 1af4:1050 (modern only), class
 * 0x0380 (display, other) as QEMU's virtio-gpu-pci; screendump
 * device=ID names the PCI device for the -pci form.
 *
 * Queues: controlq (256 entries) and cursorq (256). Commands: the 2D set
 * (GET_DISPLAY_INFO, RESOURCE_CREATE_2D, RESOURCE_UNREF, SET_SCANOUT,
 * RESOURCE_FLUSH, TRANSFER_TO_HOST_2D, RESOURCE_ATTACH_BACKING,
 * RESOURCE_DETACH_BACKING, GET_EDID); cursor commands are taken and not
 * drawn. No 3D, blobs or capsets (num_capsets 0). Every command completes
 * at once, so a fenced one (VIRTIO_GPU_FLAG_FENCE) answers with its fence.
 * Resources keep their pixels on the host (4 bytes a pixel, all 8 formats
 * of the spec); the R-first ones are swizzled to B,G,R,x on transfer.
 * Guest mistakes answer the spec's error types and are logged under
 * guest_errors. Migrates the resources (pixels and backing lists) and the
 * scanouts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "virtio-int.h"
#include "virtio-trace.h"
#include "../display/edid.h"

#define VIRTIO_ID_GPU 16
#define GPU_QUEUE_SIZE 256
#define MAX_SCANOUTS 16
#define MAX_DIM 16384
#define MAX_ENTRIES 16384 /* backing entries per resource, QEMU's bound */
#define MIN_SCANOUT 16    /* QEMU refuses smaller scanout rectangles */
#define BUCKETS 256
#define CFG_SIZE 16

/* Feature bits (5.7.3). */
#define F_EDID 1

/* Commands and responses (5.7.6.7). */
#define CMD_GET_DISPLAY_INFO 0x0100
#define CMD_RESOURCE_CREATE_2D 0x0101
#define CMD_RESOURCE_UNREF 0x0102
#define CMD_SET_SCANOUT 0x0103
#define CMD_RESOURCE_FLUSH 0x0104
#define CMD_TRANSFER_TO_HOST_2D 0x0105
#define CMD_RESOURCE_ATTACH_BACKING 0x0106
#define CMD_RESOURCE_DETACH_BACKING 0x0107
#define CMD_GET_EDID 0x010a
#define CMD_UPDATE_CURSOR 0x0300
#define CMD_MOVE_CURSOR 0x0301
#define RESP_OK_NODATA 0x1100
#define RESP_OK_DISPLAY_INFO 0x1101
#define RESP_OK_EDID 0x1104
#define RESP_ERR_UNSPEC 0x1200
#define RESP_ERR_OUT_OF_MEMORY 0x1201
#define RESP_ERR_INVALID_SCANOUT_ID 0x1202
#define RESP_ERR_INVALID_RESOURCE_ID 0x1203
#define RESP_ERR_INVALID_PARAMETER 0x1205
#define FLAG_FENCE 0x1

/* Wire sizes: the header, and each command with its header. */
#define HDR_SIZE 24
#define RECT_SIZE 16
#define CREATE_2D_SIZE (HDR_SIZE + 16)
#define RES_ONLY_SIZE (HDR_SIZE + 8) /* unref, detach, attach, get_edid */
#define SET_SCANOUT_SIZE (HDR_SIZE + RECT_SIZE + 8)
#define FLUSH_SIZE (HDR_SIZE + RECT_SIZE + 8)
#define TRANSFER_SIZE (HDR_SIZE + RECT_SIZE + 16)
#define CURSOR_SIZE (HDR_SIZE + 32)
#define ENTRY_SIZE 16
#define DISPLAY_INFO_SIZE (HDR_SIZE + MAX_SCANOUTS * 24)
#define EDID_RESP_SIZE (HDR_SIZE + 8 + 1024)

/* How a format's guest bytes become the host's B,G,R,x (or x,R,G,B). */
typedef enum swizzle { SWZ_NONE, SWZ_RGBX, SWZ_XBGR } swizzle;

typedef struct gpu_entry {
    uint64_t addr, start; /* start: offset of the entry in the backing */
    uint32_t len;
} gpu_entry;

typedef struct gpu_res {
    struct gpu_res *next; /* hash chain */
    uint32_t id, format, width, height;
    uint32_t surface_format; /* tes_pixel_format of the host pixels */
    swizzle swz;
    uint8_t *pixels; /* width * 4 bytes a line */
    gpu_entry *backing;
    uint32_t nr_backing;
    bool has_backing;
    uint64_t cost; /* charged against max_hostmem */
} gpu_res;

typedef struct gpu_rect {
    uint32_t x, y, w, h;
} gpu_rect;

typedef struct gpu_scanout {
    tes_console *con;
    uint32_t res_id; /* 0: disabled */
    gpu_rect r;
} gpu_scanout;

typedef struct vgpu {
    tes_device *dev;
    tes_virtio *vdev;
    uint32_t max_outputs, xres, yres;
    bool edid_on;
    uint64_t max_hostmem, hostmem;
    uint32_t events_read;
    gpu_res *bucket[BUCKETS];
    gpu_scanout scanout[MAX_SCANOUTS];
} vgpu;

/* One control command: the request's fixed part, the response. */
typedef struct gpu_cmd {
    tes_virtio_elem *e;
    uint32_t type, flags, ctx_id;
    uint64_t fence_id;
    uint8_t req[TRANSFER_SIZE]; /* the longest fixed part */
    size_t req_len;
    uint8_t resp[EDID_RESP_SIZE]; /* the longest response */
    size_t resp_len;
} gpu_cmd;

/* ---- little-endian fields ---- */

static uint32_t rd32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

static gpu_rect rd_rect(const uint8_t *p)
{
    return (gpu_rect){rd32(p), rd32(p + 4), rd32(p + 8), rd32(p + 12)};
}

/* Bytes off.. of an iovec list into buf; the count copied. */
static size_t iov_read(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len)
{
    size_t done = 0;

    for (unsigned i = 0; i < n && done < len; i++) {
        size_t l = iov[i].iov_len;

        if (off >= l) {
            off -= l;
            continue;
        }
        l = l - off < len - done ? l - off : len - done;
        memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + off, l);
        done += l;
        off = 0;
    }
    return done;
}

static size_t iov_write(const struct iovec *iov, unsigned n, const void *buf, size_t len)
{
    size_t done = 0;

    for (unsigned i = 0; i < n && done < len; i++) {
        size_t l = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;

        memcpy(iov[i].iov_base, (const uint8_t *)buf + done, l);
        done += l;
    }
    return done;
}

/* ---- resources ---- */

static gpu_res *res_find(vgpu *g, uint32_t id)
{
    for (gpu_res *r = g->bucket[id % BUCKETS]; r; r = r->next) {
        if (r->id == id) {
            return r;
        }
    }
    return NULL;
}

/* The host layout of a virtio format (5.7.6.8; the name is the byte
 * order in memory): false for none of the spec's. */
static bool format_layout(uint32_t format, uint32_t *surface_format, swizzle *swz)
{
    *swz = SWZ_NONE;
    switch (format) {
    case 1: /* B8G8R8A8 */
    case 2: /* B8G8R8X8: Linux's XRGB8888 on little-endian */
        *surface_format = TES_PIXEL_XRGB8888;
        return true;
    case 3: /* A8R8G8B8 */
    case 4: /* X8R8G8B8: Linux's XRGB8888 on big-endian */
        *surface_format = TES_PIXEL_BGRX8888;
        return true;
    case 67:  /* R8G8B8A8 */
    case 134: /* R8G8B8X8 */
        *surface_format = TES_PIXEL_XRGB8888;
        *swz = SWZ_RGBX;
        return true;
    case 68:  /* X8B8G8R8 */
    case 121: /* A8B8G8R8 */
        *surface_format = TES_PIXEL_XRGB8888;
        *swz = SWZ_XBGR;
        return true;
    }
    return false;
}

/* Scanouts showing r go dark (before r's pixels go). */
static void res_unshow(vgpu *g, uint32_t id)
{
    for (uint32_t i = 0; i < g->max_outputs; i++) {
        if (g->scanout[i].res_id == id) {
            g->scanout[i].res_id = 0;
            H->console_set_surface(g->scanout[i].con, NULL);
        }
    }
}

static void res_detach(vgpu *g, gpu_res *r)
{
    g->hostmem -= (uint64_t)r->nr_backing * sizeof(gpu_entry);
    free(r->backing);
    r->backing = NULL;
    r->nr_backing = 0;
    r->has_backing = false;
}

static void res_destroy(vgpu *g, gpu_res *r)
{
    gpu_res **pp = &g->bucket[r->id % BUCKETS];

    res_unshow(g, r->id);
    while (*pp != r) {
        pp = &(*pp)->next;
    }
    *pp = r->next;
    res_detach(g, r);
    g->hostmem -= r->cost;
    free(r->pixels);
    free(r);
}

static void res_destroy_all(vgpu *g)
{
    for (unsigned b = 0; b < BUCKETS; b++) {
        while (g->bucket[b]) {
            res_destroy(g, g->bucket[b]);
        }
    }
}

/* A new resource, or the error response type in *err. */
static gpu_res *res_create(vgpu *g, uint32_t id, uint32_t format, uint32_t w, uint32_t h,
                           uint32_t *err)
{
    gpu_res *r;
    uint8_t *pixels;
    uint64_t cost = (uint64_t)w * h * 4 + sizeof(gpu_res);
    uint32_t sf;
    swizzle swz;

    *err = RESP_ERR_INVALID_RESOURCE_ID;
    if (id == 0 || res_find(g, id)) {
        return NULL;
    }
    *err = RESP_ERR_INVALID_PARAMETER;
    if (!format_layout(format, &sf, &swz) || !w || !h || w > MAX_DIM || h > MAX_DIM) {
        return NULL;
    }
    *err = RESP_ERR_OUT_OF_MEMORY;
    if (cost > g->max_hostmem - g->hostmem) {
        return NULL;
    }
    r = calloc(1, sizeof(*r));
    pixels = calloc((size_t)w * h, 4);
    if (!r || !pixels) {
        free(r);
        free(pixels);
        return NULL;
    }
    *r = (gpu_res){.next = g->bucket[id % BUCKETS], .id = id, .format = format, .width = w,
                   .height = h, .surface_format = sf, .swz = swz, .pixels = pixels,
                   .cost = cost};
    g->bucket[id % BUCKETS] = r;
    g->hostmem += cost;
    return r;
}

/* ---- the guest's backing pages ---- */

/* Is [addr, addr + len) guest RAM the device may read? */
static bool ram_ok(vgpu *g, uint64_t addr, uint64_t len)
{
    while (len) {
        uint64_t n = len;
        void *p = addr + len < addr ? NULL : H->dma_map(g->vdev->tdev, addr, &n, false);

        if (!p || !n) {
            return false;
        }
        H->dma_unmap(g->vdev->tdev, p, n, false);
        addr += n;
        len -= n;
    }
    return true;
}

/* The entry holding backing offset off (entries sorted by start). */
static const gpu_entry *entry_at(const gpu_res *r, uint64_t off)
{
    uint32_t lo = 0, hi = r->nr_backing;

    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (r->backing[mid].start <= off) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    if (hi == 0 || off - r->backing[lo].start >= r->backing[lo].len) {
        return NULL;
    }
    return &r->backing[lo];
}

/* Copy len bytes at backing offset off into dst, through mappings only
 * (never an MMIO access: the guest may have moved a BAR over its pages).
 * Bytes past the backing or not in RAM stay as they were (QEMU's
 * iov_to_buf copies what the backing has). */
static void backing_read(vgpu *g, const gpu_res *r, uint64_t off, uint8_t *dst, uint64_t len)
{
    while (len) {
        const gpu_entry *e = entry_at(r, off);
        uint64_t in, n;
        void *p;

        if (!e) {
            return;
        }
        in = off - e->start;
        n = e->len - in < len ? e->len - in : len;
        p = H->dma_map(g->vdev->tdev, e->addr + in, &n, false);
        if (!p || !n) {
            vcore_guest_error(g->vdev, "virtio-gpu: resource %u backing at 0x%llx is not RAM",
                              r->id, (unsigned long long)(e->addr + in));
            return;
        }
        memcpy(dst, p, n);
        H->dma_unmap(g->vdev->tdev, p, n, false);
        off += n;
        dst += n;
        len -= n;
    }
}

static void swizzle_line(uint8_t *p, uint32_t pixels, swizzle swz)
{
    for (uint32_t i = 0; i < pixels; i++, p += 4) {
        uint8_t a = p[0], b = p[1], c = p[2], d = p[3];

        if (swz == SWZ_RGBX) { /* R,G,B,x -> B,G,R,x */
            p[0] = c, p[2] = a;
        } else { /* x,B,G,R -> B,G,R,x */
            p[0] = b, p[1] = c, p[2] = d, p[3] = a;
        }
    }
}

/* ---- commands ---- */

static bool rect_inside(const gpu_rect *c, const gpu_res *r)
{
    return (uint64_t)c->x + c->w <= r->width && (uint64_t)c->y + c->h <= r->height;
}

static void put_resp_hdr(gpu_cmd *c, uint32_t type)
{
    memset(c->resp, 0, HDR_SIZE);
    wr32(c->resp, type);
    if (c->flags & FLAG_FENCE) {
        wr32(c->resp + 4, FLAG_FENCE);
        wr64(c->resp + 8, c->fence_id);
        wr32(c->resp + 16, c->ctx_id);
    }
}

static uint32_t cmd_display_info(vgpu *g, gpu_cmd *c)
{
    uint8_t *p = c->resp + HDR_SIZE;

    memset(p, 0, MAX_SCANOUTS * 24);
    /* QEMU enables output 0 only until a UI asks for more. */
    wr32(p + 8, g->xres);
    wr32(p + 12, g->yres);
    wr32(p + 16, 1);
    c->resp_len = DISPLAY_INFO_SIZE;
    trace_virtio_gpu_cmd_get_display_info();
    return RESP_OK_DISPLAY_INFO;
}

static uint32_t cmd_get_edid(vgpu *g, gpu_cmd *c)
{
    uint32_t scanout = rd32(c->req + HDR_SIZE);
    uint8_t *p = c->resp + HDR_SIZE;

    trace_virtio_gpu_cmd_get_edid(scanout);
    if (!(virtio_ops.features(g->vdev) & (1ull << F_EDID))) {
        return RESP_ERR_UNSPEC;
    }
    if (scanout >= g->max_outputs) {
        return RESP_ERR_INVALID_PARAMETER;
    }
    memset(p, 0, 8 + 1024);
    wr32(p, EDID_BLOCK);
    edid_generate(p + 8, g->xres, g->yres, scanout);
    c->resp_len = EDID_RESP_SIZE;
    return RESP_OK_EDID;
}

static uint32_t cmd_create_2d(vgpu *g, gpu_cmd *c)
{
    const uint8_t *q = c->req + HDR_SIZE;
    uint32_t id = rd32(q), fmt = rd32(q + 4), w = rd32(q + 8), h = rd32(q + 12), err;

    trace_virtio_gpu_cmd_res_create_2d(id, fmt, w, h);
    return res_create(g, id, fmt, w, h, &err) ? RESP_OK_NODATA : err;
}

static uint32_t cmd_unref(vgpu *g, gpu_cmd *c)
{
    uint32_t id = rd32(c->req + HDR_SIZE);
    gpu_res *r = res_find(g, id);

    trace_virtio_gpu_cmd_res_unref(id);
    if (!r) {
        return RESP_ERR_INVALID_RESOURCE_ID;
    }
    res_destroy(g, r);
    return RESP_OK_NODATA;
}

/* Point scanout i at its rectangle of r and show all of it. */
static void scanout_show(vgpu *g, uint32_t i, const gpu_res *r)
{
    gpu_scanout *s = &g->scanout[i];
    tes_surface surf = {
        .size = sizeof(surf), .format = r->surface_format, .width = s->r.w, .height = s->r.h,
        .stride = r->width * 4,
        .pixels = r->pixels + ((size_t)s->r.y * r->width + s->r.x) * 4,
    };

    H->console_set_surface(s->con, &surf);
    H->console_update(s->con, 0, 0, s->r.w, s->r.h);
}

static uint32_t cmd_set_scanout(vgpu *g, gpu_cmd *c)
{
    const uint8_t *q = c->req + HDR_SIZE;
    gpu_rect rect = rd_rect(q);
    uint32_t i = rd32(q + RECT_SIZE), id = rd32(q + RECT_SIZE + 4);
    gpu_res *r;

    trace_virtio_gpu_cmd_set_scanout(i, id, rect.w, rect.h, rect.x, rect.y);
    if (i >= g->max_outputs) {
        return RESP_ERR_INVALID_SCANOUT_ID;
    }
    if (id == 0) { /* the driver turns the head off */
        g->scanout[i].res_id = 0;
        H->console_set_surface(g->scanout[i].con, NULL);
        return RESP_OK_NODATA;
    }
    r = res_find(g, id);
    if (!r) {
        return RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (rect.w < MIN_SCANOUT || rect.h < MIN_SCANOUT || !rect_inside(&rect, r)) {
        return RESP_ERR_INVALID_PARAMETER;
    }
    g->scanout[i].res_id = id;
    g->scanout[i].r = rect;
    scanout_show(g, i, r);
    return RESP_OK_NODATA;
}

/* Damage of the flushed rectangle on every scanout showing the resource,
 * in the scanout's coordinates. */
static uint32_t cmd_flush(vgpu *g, gpu_cmd *c)
{
    const uint8_t *q = c->req + HDR_SIZE;
    gpu_rect f = rd_rect(q);
    uint32_t id = rd32(q + RECT_SIZE);
    gpu_res *r = res_find(g, id);

    trace_virtio_gpu_cmd_res_flush(id, f.w, f.h, f.x, f.y);
    if (!r) {
        return RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (!rect_inside(&f, r)) {
        return RESP_ERR_INVALID_PARAMETER;
    }
    for (uint32_t i = 0; i < g->max_outputs; i++) {
        const gpu_rect *s = &g->scanout[i].r;
        uint32_t x0 = f.x > s->x ? f.x : s->x, y0 = f.y > s->y ? f.y : s->y;
        uint64_t x1 = (uint64_t)f.x + f.w, y1 = (uint64_t)f.y + f.h;

        if (g->scanout[i].res_id != id) {
            continue;
        }
        x1 = x1 < (uint64_t)s->x + s->w ? x1 : (uint64_t)s->x + s->w;
        y1 = y1 < (uint64_t)s->y + s->h ? y1 : (uint64_t)s->y + s->h;
        if (x1 > x0 && y1 > y0) {
            H->console_update(g->scanout[i].con, x0 - s->x, y0 - s->y, (uint32_t)(x1 - x0),
                              (uint32_t)(y1 - y0));
        }
    }
    return RESP_OK_NODATA;
}

/* The rectangle from the backing, whose lines are the resource's width
 * apart from offset on (QEMU's and Linux's layout). */
static uint32_t cmd_transfer(vgpu *g, gpu_cmd *c)
{
    const uint8_t *q = c->req + HDR_SIZE;
    gpu_rect t = rd_rect(q);
    uint64_t offset = rd64(q + RECT_SIZE);
    uint32_t id = rd32(q + RECT_SIZE + 8);
    gpu_res *r = res_find(g, id);
    uint64_t stride;

    trace_virtio_gpu_cmd_res_xfer_toh_2d(id, t.w, t.h, t.x, t.y, offset);
    if (!r) {
        return RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (!r->has_backing) {
        return RESP_ERR_UNSPEC;
    }
    if (!rect_inside(&t, r)) {
        return RESP_ERR_INVALID_PARAMETER;
    }
    stride = (uint64_t)r->width * 4;
    for (uint32_t y = 0; y < t.h; y++) {
        uint8_t *dst = r->pixels + (t.y + y) * stride + (uint64_t)t.x * 4;

        if (offset + stride * y < offset) {
            break; /* past 2^64: no backing there */
        }
        backing_read(g, r, offset + stride * y, dst, (uint64_t)t.w * 4);
        if (r->swz != SWZ_NONE) {
            swizzle_line(dst, t.w, r->swz);
        }
    }
    return RESP_OK_NODATA;
}

/* Read and check nr entries after the command; NULL on a short list or
 * memory that is not RAM (QEMU: "failed to map"). */
static gpu_entry *read_entries(vgpu *g, gpu_cmd *c, uint32_t nr)
{
    gpu_entry *ents = calloc(nr ? nr : 1, sizeof(*ents));
    uint64_t start = 0;

    for (uint32_t i = 0; ents && i < nr; i++) {
        uint8_t raw[ENTRY_SIZE];

        if (iov_read(c->e->out, c->e->out_num, RES_ONLY_SIZE + (size_t)i * ENTRY_SIZE, raw,
                     ENTRY_SIZE) != ENTRY_SIZE) {
            vcore_guest_error(g->vdev, "virtio-gpu: attach_backing lists %u entries, has %u",
                              nr, i);
            free(ents);
            return NULL;
        }
        ents[i] = (gpu_entry){.addr = rd64(raw), .start = start, .len = rd32(raw + 8)};
        if (!ram_ok(g, ents[i].addr, ents[i].len)) {
            vcore_guest_error(g->vdev, "virtio-gpu: backing 0x%llx+0x%x is not RAM",
                              (unsigned long long)ents[i].addr, ents[i].len);
            free(ents);
            return NULL;
        }
        start += ents[i].len;
    }
    return ents;
}

static uint32_t cmd_attach(vgpu *g, gpu_cmd *c)
{
    const uint8_t *q = c->req + HDR_SIZE;
    uint32_t id = rd32(q), nr = rd32(q + 4);
    gpu_res *r = res_find(g, id);
    uint64_t cost = (uint64_t)nr * sizeof(gpu_entry);
    gpu_entry *ents;

    trace_virtio_gpu_cmd_res_back_attach(id, nr);
    if (!r) {
        return RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (r->has_backing || nr > MAX_ENTRIES) {
        return RESP_ERR_UNSPEC;
    }
    if (cost > g->max_hostmem - g->hostmem) {
        return RESP_ERR_OUT_OF_MEMORY;
    }
    ents = read_entries(g, c, nr);
    if (!ents) {
        return RESP_ERR_UNSPEC;
    }
    r->backing = ents;
    r->nr_backing = nr;
    r->has_backing = true;
    g->hostmem += cost;
    return RESP_OK_NODATA;
}

static uint32_t cmd_detach(vgpu *g, gpu_cmd *c)
{
    uint32_t id = rd32(c->req + HDR_SIZE);
    gpu_res *r = res_find(g, id);

    trace_virtio_gpu_cmd_res_back_detach(id);
    if (!r) {
        return RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (!r->has_backing) {
        return RESP_ERR_UNSPEC;
    }
    res_detach(g, r);
    return RESP_OK_NODATA;
}

typedef struct gpu_cmd_desc {
    uint32_t type;
    size_t len; /* the fixed part, header included */
    uint32_t (*fn)(vgpu *g, gpu_cmd *c);
} gpu_cmd_desc;

static const gpu_cmd_desc ctrl_cmds[] = {
    {CMD_GET_DISPLAY_INFO, HDR_SIZE, cmd_display_info},
    {CMD_RESOURCE_CREATE_2D, CREATE_2D_SIZE, cmd_create_2d},
    {CMD_RESOURCE_UNREF, RES_ONLY_SIZE, cmd_unref},
    {CMD_SET_SCANOUT, SET_SCANOUT_SIZE, cmd_set_scanout},
    {CMD_RESOURCE_FLUSH, FLUSH_SIZE, cmd_flush},
    {CMD_TRANSFER_TO_HOST_2D, TRANSFER_SIZE, cmd_transfer},
    {CMD_RESOURCE_ATTACH_BACKING, RES_ONLY_SIZE, cmd_attach},
    {CMD_RESOURCE_DETACH_BACKING, RES_ONLY_SIZE, cmd_detach},
    {CMD_GET_EDID, RES_ONLY_SIZE, cmd_get_edid},
};

/* Run one control command; the response type. */
static uint32_t ctrl_dispatch(vgpu *g, gpu_cmd *c)
{
    if (c->req_len < HDR_SIZE) {
        vcore_guest_error(g->vdev, "virtio-gpu: a %zu-byte command, shorter than its header",
                          c->req_len);
        return RESP_ERR_UNSPEC;
    }
    for (size_t i = 0; i < sizeof(ctrl_cmds) / sizeof(ctrl_cmds[0]); i++) {
        if (ctrl_cmds[i].type != c->type) {
            continue;
        }
        if (c->req_len < ctrl_cmds[i].len) {
            vcore_guest_error(g->vdev, "virtio-gpu: command 0x%x of %zu bytes, wants %zu",
                              c->type, c->req_len, ctrl_cmds[i].len);
            return RESP_ERR_UNSPEC;
        }
        return ctrl_cmds[i].fn(g, c);
    }
    vcore_guest_error(g->vdev, "virtio-gpu: unknown command 0x%x", c->type);
    return RESP_ERR_UNSPEC;
}

static void ctrl_one(vgpu *g, tes_virtq *vq, tes_virtio_elem *e)
{
    gpu_cmd c;
    uint32_t resp;

    c.e = e;
    c.req_len = iov_read(e->out, e->out_num, 0, c.req, sizeof(c.req));
    c.type = c.req_len >= 4 ? rd32(c.req) : 0;
    c.flags = c.req_len >= HDR_SIZE ? rd32(c.req + 4) : 0;
    c.fence_id = c.req_len >= HDR_SIZE ? rd64(c.req + 8) : 0;
    c.ctx_id = c.req_len >= HDR_SIZE ? rd32(c.req + 16) : 0;
    c.resp_len = HDR_SIZE;
    resp = ctrl_dispatch(g, &c);
    if (resp >= RESP_ERR_UNSPEC) {
        trace_virtio_gpu_ctrl_error(c.type, resp);
        c.resp_len = HDR_SIZE;
    }
    put_resp_hdr(&c, resp);
    virtio_ops.push(vq, e, (uint32_t)iov_write(e->in, e->in_num, c.resp, c.resp_len));
}

/* cursorq: no response; the cursor is not drawn. */
static void cursor_one(vgpu *g, tes_virtio_elem *e)
{
    uint8_t req[CURSOR_SIZE];
    size_t n = iov_read(e->out, e->out_num, 0, req, sizeof(req));

    if (n < CURSOR_SIZE) {
        vcore_guest_error(g->vdev, "virtio-gpu: a %zu-byte cursor command", n);
        return;
    }
    if (rd32(req) != CMD_UPDATE_CURSOR && rd32(req) != CMD_MOVE_CURSOR) {
        vcore_guest_error(g->vdev, "virtio-gpu: command 0x%x on the cursor queue", rd32(req));
        return;
    }
    trace_virtio_gpu_update_cursor(rd32(req + HDR_SIZE), rd32(req + HDR_SIZE + 4),
                                   rd32(req + HDR_SIZE + 8),
                                   rd32(req) == CMD_MOVE_CURSOR ? "move" : "update",
                                   rd32(req + HDR_SIZE + 16));
}

static void gpu_handle_queue(void *opaque, tes_virtq *vq, unsigned index)
{
    vgpu *g = opaque;
    tes_virtio_elem *e;
    bool pushed = false;

    while ((e = virtio_ops.pop(vq, 0))) {
        if (index == 0) {
            ctrl_one(g, vq, e);
        } else {
            cursor_one(g, e);
            virtio_ops.push(vq, e, 0);
        }
        pushed = true;
    }
    if (pushed) {
        virtio_ops.notify(vq);
    }
}

/* ---- config space (5.7.4): events_read, events_clear, num_scanouts,
 * num_capsets ---- */

static void gpu_config_read(void *opaque, uint32_t off, void *buf, uint32_t len)
{
    vgpu *g = opaque;
    uint8_t cfg[CFG_SIZE] = {0};

    wr32(cfg, g->events_read);
    wr32(cfg + 8, g->max_outputs);
    memcpy(buf, cfg + off, len);
}

static void gpu_config_write(void *opaque, uint32_t off, const void *buf, uint32_t len)
{
    vgpu *g = opaque;
    const uint8_t *b = buf;

    for (uint32_t i = 0; i < len; i++) {
        if (off + i >= 4 && off + i < 8) { /* events_clear: write 1 to clear */
            g->events_read &= ~((uint32_t)b[i] << (8 * (off + i - 4)));
        }
    }
}

static void gpu_reset(void *opaque)
{
    vgpu *g = opaque;

    res_destroy_all(g);
    for (uint32_t i = 0; i < g->max_outputs; i++) {
        g->scanout[i].res_id = 0;
        H->console_set_surface(g->scanout[i].con, NULL);
    }
    g->events_read = 0;
}

/* ---- migration: the resources with their pixels and backing lists,
 * then the scanouts ---- */

static int gpu_save(void *opaque, tes_stream *out)
{
    vgpu *g = opaque;
    uint64_t n = 0;

    for (unsigned b = 0; b < BUCKETS; b++) {
        for (gpu_res *r = g->bucket[b]; r; r = r->next) {
            n++;
        }
    }
    put_u64(out, g->events_read | n << 32);
    for (unsigned b = 0; b < BUCKETS; b++) {
        for (gpu_res *r = g->bucket[b]; r; r = r->next) {
            put_u64(out, r->id | (uint64_t)r->format << 32);
            put_u64(out, r->width | (uint64_t)r->height << 32);
            put_u64(out, r->nr_backing | (uint64_t)r->has_backing << 32);
            for (uint32_t i = 0; i < r->nr_backing; i++) {
                put_u64(out, r->backing[i].addr);
                put_u64(out, r->backing[i].len);
            }
            H->stream_write(out, r->pixels, (size_t)r->width * r->height * 4);
        }
    }
    for (uint32_t i = 0; i < g->max_outputs; i++) {
        const gpu_scanout *s = &g->scanout[i];

        put_u64(out, s->res_id | (uint64_t)s->r.x << 32);
        put_u64(out, s->r.y | (uint64_t)s->r.w << 32);
        put_u64(out, s->r.h);
    }
    return 0;
}

/* One resource from the stream, checked as RESOURCE_CREATE_2D and
 * ATTACH_BACKING check the guest's. */
static int load_res(vgpu *g, tes_stream *in)
{
    uint64_t a, b, c;
    uint32_t err;
    gpu_res *r;
    int ret = get_u64(in, &a);

    ret = ret ?: get_u64(in, &b);
    ret = ret ?: get_u64(in, &c);
    if (ret < 0) {
        return ret;
    }
    r = res_create(g, (uint32_t)a, (uint32_t)(a >> 32), (uint32_t)b, (uint32_t)(b >> 32), &err);
    if (!r || (uint32_t)c > MAX_ENTRIES ||
        (uint64_t)(uint32_t)c * sizeof(gpu_entry) > g->max_hostmem - g->hostmem) {
        return -EINVAL;
    }
    r->nr_backing = (uint32_t)c;
    r->has_backing = (c >> 32) & 1;
    if (r->nr_backing && !r->has_backing) {
        r->nr_backing = 0;
        return -EINVAL;
    }
    /* A backing list only with backing: ATTACH_BACKING on a resource
     * without one sets its own (an empty list here leaked; fuzz-virtio-gpu). */
    if (r->has_backing) {
        r->backing = calloc(r->nr_backing ? r->nr_backing : 1, sizeof(gpu_entry));
        if (!r->backing) {
            r->nr_backing = 0;
            r->has_backing = false;
            return -ENOMEM;
        }
    }
    g->hostmem += (uint64_t)r->nr_backing * sizeof(gpu_entry);
    c = 0; /* the entries' start offsets, 64-bit sums */
    for (uint32_t i = 0; i < r->nr_backing; i++) {
        ret = ret ?: get_u64(in, &r->backing[i].addr);
        ret = ret ?: get_u64(in, &a);
        r->backing[i].len = (uint32_t)a;
        r->backing[i].start = c;
        c += (uint32_t)a;
    }
    return ret ?: H->stream_read(in, r->pixels, (size_t)r->width * r->height * 4);
}

static int load_scanout(vgpu *g, uint32_t i, tes_stream *in)
{
    gpu_scanout *s = &g->scanout[i];
    uint64_t a, b, c;
    gpu_res *r;
    int ret = get_u64(in, &a);

    ret = ret ?: get_u64(in, &b);
    ret = ret ?: get_u64(in, &c);
    if (ret < 0) {
        return ret;
    }
    s->res_id = (uint32_t)a;
    s->r = (gpu_rect){(uint32_t)(a >> 32), (uint32_t)b, (uint32_t)(b >> 32), (uint32_t)c};
    if (!s->res_id) {
        return 0;
    }
    r = res_find(g, s->res_id);
    if (!r || s->r.w < MIN_SCANOUT || s->r.h < MIN_SCANOUT || !rect_inside(&s->r, r)) {
        s->res_id = 0;
        return -EINVAL;
    }
    scanout_show(g, i, r);
    return 0;
}

static int gpu_load(void *opaque, tes_stream *in)
{
    vgpu *g = opaque;
    uint64_t w;
    int ret = get_u64(in, &w);

    gpu_reset(g);
    g->events_read = (uint32_t)w;
    for (uint64_t i = 0; ret == 0 && i < (w >> 32); i++) {
        ret = load_res(g, in);
    }
    for (uint32_t i = 0; ret == 0 && i < g->max_outputs; i++) {
        ret = load_scanout(g, i, in);
    }
    if (ret < 0) {
        gpu_reset(g);
    }
    return ret;
}

static const tes_virtio_dev_ops gpu_ops = {
    .size = sizeof(tes_virtio_dev_ops),
    .config_read = gpu_config_read,
    .config_write = gpu_config_write,
    .handle_queue = gpu_handle_queue,
    .reset = gpu_reset,
    .save = gpu_save,
    .load = gpu_load,
};

static const tes_console_ops gpu_console_ops = {
    .size = sizeof(tes_console_ops),
};

static bool props_ok(vgpu *g)
{
    if (g->max_outputs < 1 || g->max_outputs > MAX_SCANOUTS) {
        H->error(g->dev, "max_outputs=%u: wants 1..%u", g->max_outputs, MAX_SCANOUTS);
        return false;
    }
    if (g->xres < MIN_SCANOUT || g->yres < MIN_SCANOUT || g->xres > MAX_DIM ||
        g->yres > MAX_DIM) {
        H->error(g->dev, "xres=%u,yres=%u: each must be in %u..%u", g->xres, g->yres,
                 MIN_SCANOUT, MAX_DIM);
        return false;
    }
    return true;
}

static int gpu_realize(tes_device *dev, void *s)
{
    vgpu *g = s;
    tes_virtio_dev_info info = {.size = sizeof(info), .device_id = VIRTIO_ID_GPU,
                                .num_queues = 2, .queue_size = GPU_QUEUE_SIZE,
                                .config_size = CFG_SIZE, .ops = &gpu_ops, .opaque = g};
    tes_device *owner;

    g->dev = dev;
    if (H->size < offsetof(tes_host, console_update) + sizeof(void *)) {
        H->error(dev, "virtio-gpu needs a core with graphic consoles (SDK 1.7)");
        return -ENOTSUP;
    }
    if (!props_ok(g)) {
        return -EINVAL;
    }
    info.features = g->edid_on ? 1ull << F_EDID : 0;
    g->vdev = virtio_ops.plug(dev, &info);
    if (!g->vdev) {
        return -EINVAL;
    }
    /* The -pci form's consoles belong to the PCI device, so that
     * screendump device=ID finds them by the id the user gave. */
    owner = strcmp(H->dev_type(g->vdev->tdev), "virtio-gpu-pci") ? dev : g->vdev->tdev;
    for (uint32_t i = 0; i < g->max_outputs; i++) {
        g->scanout[i].con = H->console_new(owner, &gpu_console_ops, g);
        if (!g->scanout[i].con) {
            return -ENOMEM;
        }
    }
    return 0;
}

static void gpu_unrealize(tes_device *dev, void *s)
{
    vgpu *g = s;

    if (g->vdev) {
        gpu_reset(g); /* the consoles may outlive us (the PCI device's) */
        virtio_ops.unplug(g->vdev);
    }
}

/* The state travels with the transport (gpu_save/gpu_load above). */
static const tes_state_info gpu_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
};

#define GPU_PROPS(st)                                                                          \
    TES_PROP("max_outputs", TES_PROP_U32, st, max_outputs, "1", 1, MAX_SCANOUTS,               \
             "scanouts (heads), each a graphic console"),                                      \
        TES_PROP("xres", TES_PROP_U32, st, xres, "1280", 0, 0, "width scanout 0 reports"),    \
        TES_PROP("yres", TES_PROP_U32, st, yres, "800", 0, 0, "height scanout 0 reports"),    \
        TES_PROP("edid", TES_PROP_BOOL, st, edid_on, "on", 0, 0,                              \
                 "VIRTIO_GPU_F_EDID: an EDID block per scanout"),                              \
        TES_PROP("max_hostmem", TES_PROP_SIZE, st, max_hostmem, "256M", 0, 0,                 \
                 "host memory the guest's resources may take"),                                \
        TES_PROP_END

static const tes_prop_info gpu_props[] = {GPU_PROPS(vgpu)};

const tes_type_info virtio_gpu_device_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "virtio-gpu-device",
    .desc = "virtio GPU, 2D (Linux virtio-gpu DRM driver)",
    .bus = TES_VIRTIO_BUS,
    .instance_size = sizeof(vgpu),
    .props = gpu_props,
    .realize = gpu_realize,
    .unrealize = gpu_unrealize,
    .state = &gpu_state,
};

/* ---- virtio-gpu-pci: virtio-pci carrying the above ---- */

typedef struct vgpu_pci {
    vpci_proxy px; /* first: the shared proxy callbacks cast to it */
    uint32_t max_outputs, xres, yres;
    bool edid_on;
    uint64_t max_hostmem;
} vgpu_pci;

static const tes_prop_info gpu_pci_props[] = {GPU_PROPS(vgpu_pci)};

static int gpu_pci_realize(tes_device *dev, void *s)
{
    vgpu_pci *p = s;
    char props[160];

    snprintf(props, sizeof(props), "max_outputs=%u,xres=%u,yres=%u,edid=%s,max_hostmem=%llu",
             p->max_outputs, p->xres, p->yres, p->edid_on ? "on" : "off",
             (unsigned long long)p->max_hostmem);
    p->px.proxy = vpci_new(dev, virtio_gpu_device_type.name, props);
    return p->px.proxy ? 0 : -EINVAL;
}

static const tes_pci_info gpu_pci_info = {
    .size = sizeof(tes_pci_info),
    .vendor_id = 0x1af4,
    .device_id = 0x1040 + VIRTIO_ID_GPU,
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = 0x1100,
    .revision = 1,
    .class_id = 0x0380, /* display, other: QEMU's for virtio-gpu-pci */
    .irq_pin = 1,
};

const tes_type_info virtio_gpu_pci_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "virtio-gpu-pci",
    .desc = "virtio GPU, 2D, over PCI (Linux virtio-gpu DRM driver)",
    .bus = TES_BUS_PCI,
    .instance_size = sizeof(vgpu_pci),
    .props = gpu_pci_props,
    .realize = gpu_pci_realize,
    .unrealize = vpci_proxy_unrealize,
    .reset = vpci_proxy_reset,
    .state = &vpci_proxy_state,
    .class_info = &gpu_pci_info,
};
