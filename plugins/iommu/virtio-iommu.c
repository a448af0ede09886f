/*
 * virtio-iommu: the paravirtual IOMMU of virtio 1.2 section 5.13 (device
 * id 23), on the virtio-pci transport as PCI 1af4:1057. Driver: Linux
 * virtio-iommu (CONFIG_VIRTIO_IOMMU; on x86 it also needs ACPI_VIOT).
 *
 * User manual
 *
 *   tessera -M virt ... -device virtio-iommu-pci[,boot-bypass=on|off][,aw-bits=N]
 *   tessera -M q35 ...  -device virtio-iommu-pci[,...]
 *
 *   boot-bypass=on|off  config.bypass after a system reset (default on, QEMU's;
 *                       a device reset keeps what the driver wrote):
 *                       endpoints attached to no domain reach memory
 *                       untranslated; off: their DMA faults.
 *   aw-bits=32..64      input_range is [0, 2^aw-bits - 1] (default 64).
 *
 * The device (this file and viommu-map.c) lives in the iommu plugin; the
 * virtio plugin's virtio-iommu-pci carries it, as virtio-scsi-pci carries
 * the scsi plugin's virtio-scsi-device. It must sit on the root bus
 * (pcie.0), at most one per machine. It claims DMA on the root bus through
 * the core's hook (host->dma_set_iommu): every function below it, behind
 * root ports and bridges too, is translated by requester id = endpoint id;
 * its own function is not (the transport reads its rings untranslated).
 *
 * The board describes it: virt through the "fdt" interface (tessera/fdt.h:
 * a node for the function under the pcie node, compatible
 * "virtio,pci-iommu" and "pci1af4,1057", #iommu-cells = 1, and the pcie
 * node's iommu-map sending every other requester id to it, as QEMU's
 * virt); q35 through the "acpi" interface (tessera/acpi.h: a VIOT table
 * with a virtio-pci IOMMU node and one PCI range node for segment 0,
 * buses 0..255).
 *
 * Features offered: INPUT_RANGE, DOMAIN_RANGE, MAP_UNMAP, PROBE, MMIO and
 * BYPASS_CONFIG (QEMU's set). Config: page_size_mask 4 KiB and up,
 * domain_range [0, 2^32 - 1] (at most VIOMMU_MAX_DOMAINS live at once),
 * probe_size 512. PROBE reports, on q35, the x86 interrupt window
 * 0xfee00000..0xfeefffff as a RESV_MEM region of subtype MSI, which
 * passes untranslated; on virt nothing, so Linux maps the GICv2m doorbell
 * itself in its software MSI window (IOMMU_RESV_SW_MSI, IOVA 0x8000000)
 * and the devices' MSI writes are translated like any DMA.
 *
 * Errors: a malformed request gets the status the spec names (S_INVAL,
 * S_RANGE, S_NOENT, S_UNSUPP, S_NOMEM) and is logged under -d
 * guest_errors; a request whose device-writable part cannot hold the
 * status marks the device NEEDS_RESET. A DMA that no mapping allows
 * touches no memory (reads see all ones) and is reported on the event
 * queue as a VIRTIO_IOMMU_FAULT (dropped and counted when the driver
 * left no buffer there). Migration: config.bypass, every domain with its
 * mappings and every endpoint's attachment (viommu-map.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <tessera/acpi.h>
#include <tessera/fdt.h>

#include "iommu-claim.h"
#include "iommu-le.h"
#include "iommu-trace.h"
#include "viommu.h"

#define H iommu_host

#define QUEUE_SIZE 256
#define CFG_SIZE 40
#define CFG_BYPASS 36
#define PAGE_SIZE_MASK (~0xfffull)
#define HEAD_SIZE 4
#define TAIL_SIZE 4
#define REQ_MAX 72 /* PROBE: head, endpoint, 64 reserved */
#define PROBE_T_RESV_MEM 1
#define RESV_MEM_T_MSI 1
#define RESV_MEM_LEN 20 /* the property after its 4-byte head */

enum { T_ATTACH = 1, T_DETACH, T_MAP, T_UNMAP, T_PROBE };

static const uint64_t FEATURES =
    1ull << VIOMMU_F_INPUT_RANGE | 1ull << VIOMMU_F_DOMAIN_RANGE | 1ull << VIOMMU_F_MAP_UNMAP |
    1ull << VIOMMU_F_PROBE | 1ull << VIOMMU_F_MMIO | 1ull << VIOMMU_F_BYPASS_CONFIG;

uint64_t viommu_input_end(viommu *s)
{
    return s->aw_bits >= 64 ? UINT64_MAX : (1ull << s->aw_bits) - 1;
}

uint64_t viommu_features(viommu *s)
{
    return s->vdev ? s->vio->features(s->vdev) : 0;
}

/* ---- iovecs ---- */

static size_t iov_copy_out(const struct iovec *iov, unsigned n, void *buf, size_t len)
{
    size_t done = 0;

    for (unsigned i = 0; i < n && done < len; i++) {
        size_t k = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;

        memcpy((uint8_t *)buf + done, iov[i].iov_base, k);
        done += k;
    }
    return done;
}

/* Write len bytes at byte offset off of the iovecs (the caller checked
 * that they fit). */
static void iov_copy_in(const struct iovec *iov, unsigned n, size_t off, const void *buf,
                        size_t len)
{
    const uint8_t *src = buf;

    for (unsigned i = 0; i < n && len; i++) {
        if (off >= iov[i].iov_len) {
            off -= iov[i].iov_len;
            continue;
        }
        size_t k = iov[i].iov_len - off < len ? iov[i].iov_len - off : len;
        memcpy((uint8_t *)iov[i].iov_base + off, src, k);
        src += k;
        len -= k;
        off = 0;
    }
}

/* ---- faults (5.13.6.9) ---- */

void viommu_report_fault(viommu *s, uint8_t reason, uint32_t flags, uint32_t ep, uint64_t addr)
{
    tes_virtq *vq;
    tes_virtio_elem *e;
    uint8_t ev[VIOMMU_FAULT_SIZE] = {reason};

    trace_virtio_iommu_report_fault(reason, flags, ep, addr);
    s->faults++;
    if (!s->vdev || !(s->vio->status(s->vdev) & TES_VIRTIO_S_DRIVER_OK) ||
        !(vq = s->vio->queue(s->vdev, VIOMMU_Q_EVENT)) || !(e = s->vio->pop(vq, 0))) {
        s->faults_lost++;
        return;
    }
    if (e->in_len < sizeof(ev)) {
        H->log(TES_LOG_GUEST_ERROR, "virtio-iommu: event buffer of %llu bytes, want %zu",
               (unsigned long long)e->in_len, sizeof(ev));
        s->faults_lost++;
        s->vio->push(vq, e, 0);
        s->vio->notify(vq);
        return;
    }
    st32(ev + 4, flags);
    st32(ev + 8, ep);
    st64(ev + 16, addr);
    iov_copy_in(e->in, e->in_num, 0, ev, sizeof(ev));
    s->vio->push(vq, e, sizeof(ev));
    s->vio->notify(vq);
}

/* ---- requests (5.13.6) ---- */

/* PROBE: the properties of endpoint ep into buf (probe_size bytes,
 * zeroed: a NONE property ends the list). */
static uint8_t probe(viommu *s, uint32_t ep, uint8_t *buf)
{
    trace_virtio_iommu_probe(ep);
    if (!viommu_ep_exists(s, ep)) {
        return VIOMMU_S_NOENT;
    }
    if (s->msi_bypass) {
        trace_virtio_iommu_fill_resv_property(ep, RESV_MEM_T_MSI, VIOMMU_MSI_BASE,
                                              VIOMMU_MSI_END);
        buf[0] = PROBE_T_RESV_MEM;
        buf[2] = RESV_MEM_LEN;
        buf[4] = RESV_MEM_T_MSI;
        st64(buf + 8, VIOMMU_MSI_BASE);
        st64(buf + 16, VIOMMU_MSI_END);
    }
    return VIOMMU_S_OK;
}

static const char *const req_names[] = {"?", "ATTACH", "DETACH", "MAP", "UNMAP", "PROBE"};
/* Bytes of each request before its tail (5.13.6): what the driver reads. */
static const unsigned req_sizes[] = {0, 20, 20, 36, 28, REQ_MAX};

static uint8_t dispatch(viommu *s, const uint8_t *r, uint8_t *props)
{
    viommu_map m;

    switch (r[0]) {
    case T_ATTACH:
        trace_virtio_iommu_attach(le32(r + 4), le32(r + 8));
        return viommu_attach(s, le32(r + 4), le32(r + 8), le32(r + 12));
    case T_DETACH:
        trace_virtio_iommu_detach(le32(r + 4), le32(r + 8));
        return viommu_detach(s, le32(r + 4), le32(r + 8));
    case T_MAP:
        m = (viommu_map){.start = le64(r + 8), .end = le64(r + 16), .phys = le64(r + 24),
                         .flags = le32(r + 32)};
        trace_virtio_iommu_map(le32(r + 4), m.start, m.end, m.phys, m.flags);
        return viommu_do_map(s, le32(r + 4), &m);
    case T_UNMAP:
        trace_virtio_iommu_unmap(le32(r + 4), le64(r + 8), le64(r + 16));
        return viommu_do_unmap(s, le32(r + 4), le64(r + 8), le64(r + 16));
    default:
        return probe(s, le32(r + 4), props);
    }
}

/* One request; returns the bytes written to its device-writable part. */
static uint32_t handle_req(viommu *s, tes_virtio_elem *e)
{
    uint8_t r[REQ_MAX] = {0}, props[VIOMMU_PROBE_SIZE] = {0}, tail[TAIL_SIZE] = {0};
    size_t got = iov_copy_out(e->out, e->out_num, r, sizeof(r));
    bool props_out = false;
    uint8_t type = got >= HEAD_SIZE ? r[0] : 0;

    if (type < T_ATTACH || type > T_PROBE) {
        tail[0] = got < HEAD_SIZE ? VIOMMU_S_INVAL : VIOMMU_S_UNSUPP;
    } else if (got < req_sizes[type]) {
        tail[0] = VIOMMU_S_INVAL;
    } else if (type == T_PROBE && e->in_len < VIOMMU_PROBE_SIZE + TAIL_SIZE) {
        tail[0] = VIOMMU_S_INVAL; /* no room for the properties */
    } else {
        tail[0] = dispatch(s, r, props);
        props_out = type == T_PROBE;
    }
    if (tail[0] != VIOMMU_S_OK) {
        H->log(TES_LOG_GUEST_ERROR, "virtio-iommu: %s request (type %u, %zu bytes) fails with "
               "status %u", type <= T_PROBE ? req_names[type] : "unknown", r[0], got, tail[0]);
    }
    /* Linux reads the status at the end of the device-writable part, the
     * properties (PROBE) from its start. */
    if (props_out) {
        iov_copy_in(e->in, e->in_num, 0, props, VIOMMU_PROBE_SIZE);
    }
    iov_copy_in(e->in, e->in_num, e->in_len - TAIL_SIZE, tail, TAIL_SIZE);
    return e->in_len > UINT32_MAX ? UINT32_MAX : (uint32_t)e->in_len;
}

static void viommu_handle_queue(void *opaque, tes_virtq *vq, unsigned index)
{
    viommu *s = opaque;
    tes_virtio_elem *e;
    bool pushed = false;

    if (index != VIOMMU_Q_REQ) {
        return; /* event buffers wait for faults */
    }
    while ((e = s->vio->pop(vq, 0))) {
        if (e->in_len < TAIL_SIZE) {
            H->log(TES_LOG_GUEST_ERROR, "virtio-iommu: request without room for its status");
            s->vio->set_needs_reset(s->vdev);
            s->vio->push(vq, e, 0);
        } else {
            s->vio->push(vq, e, handle_req(s, e));
        }
        pushed = true;
    }
    if (pushed) {
        s->vio->notify(vq);
    }
}

/* ---- config space (5.13.4) ---- */

static void viommu_config_read(void *opaque, uint32_t off, void *buf, uint32_t len)
{
    viommu *s = opaque;
    uint8_t c[CFG_SIZE] = {0};

    st64(c, PAGE_SIZE_MASK);
    st64(c + 8, 0);
    st64(c + 16, viommu_input_end(s));
    st32(c + 24, 0);
    st32(c + 28, UINT32_MAX);
    st32(c + 32, VIOMMU_PROBE_SIZE);
    c[CFG_BYPASS] = s->bypass;
    trace_virtio_iommu_get_config(PAGE_SIZE_MASK, 0, viommu_input_end(s), 0, UINT32_MAX,
                                  VIOMMU_PROBE_SIZE, s->bypass);
    memcpy(buf, c + off, len); /* the transport checked off + len <= CFG_SIZE */
}

/* Only bypass is writable, and only with BYPASS_CONFIG negotiated. */
static void viommu_config_write(void *opaque, uint32_t off, const void *buf, uint32_t len)
{
    viommu *s = opaque;

    if (off != CFG_BYPASS || len != 1 ||
        !(viommu_features(s) & (1ull << VIOMMU_F_BYPASS_CONFIG))) {
        H->log(TES_LOG_GUEST_ERROR, "virtio-iommu: config write of %u bytes at %u ignored", len,
               off);
        return;
    }
    s->bypass = *(const uint8_t *)buf ? 1 : 0;
    trace_virtio_iommu_set_config(s->bypass);
}

/* Device reset (status 0): domains and mappings go; config.bypass stays
 * as the driver set it (QEMU's: it is sticky until a system reset). */
static void viommu_reset(void *opaque)
{
    trace_virtio_iommu_device_reset();
    viommu_clear(opaque);
}

/* System reset: config.bypass back to boot-bypass (the transport's reset
 * clears the rest through viommu_reset). */
static void viommu_sys_reset(tes_device *dev, void *opaque)
{
    viommu *s = opaque;

    trace_virtio_iommu_system_reset();
    viommu_clear(s);
    s->bypass = s->boot_bypass;
}

static const tes_virtio_dev_ops viommu_ops = {
    .size = sizeof(tes_virtio_dev_ops),
    .config_read = viommu_config_read,
    .config_write = viommu_config_write,
    .handle_queue = viommu_handle_queue,
    .reset = viommu_reset,
    .save = viommu_save,
    .load = viommu_load,
};

static const tes_iommu_ops viommu_iommu_ops = {
    .size = sizeof(tes_iommu_ops),
    .translate = viommu_translate,
};

/* ---- firmware description ---- */

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* iommu-map entry <rid-base iommu iommu-base length> at map + n; returns
 * the bytes used (none for an empty range). */
static unsigned map_entry(uint8_t *map, unsigned n, uint32_t base, uint32_t len, uint32_t ph)
{
    if (!len) {
        return n;
    }
    be32(map + n, base);
    be32(map + n + 4, ph);
    be32(map + n + 8, base);
    be32(map + n + 12, len);
    return n + 16;
}

/* virt: QEMU's create_virtio_iommu_dt_bindings(), through tessera/fdt.h:
 * every requester id but ours goes to our node, 1:1. */
static int describe_fdt(viommu *s, const tes_fdt_iface *fdt)
{
    static const char compat[] = "virtio,pci-iommu\0pci1af4,1057";
    uint32_t ph = fdt->alloc_phandle(), bdf = s->rid;
    uint8_t reg[20] = {0}, cells1[4], phc[4], map[32];
    unsigned n = map_entry(map, 0, 0, bdf, ph);
    char name[40];
    int ret;

    be32(reg, bdf << 8);
    be32(cells1, 1);
    be32(phc, ph);
    tes_fdt_prop props[] = {
        {"compatible", compat, sizeof(compat)},
        {"reg", reg, sizeof(reg)},
        {"#iommu-cells", cells1, 4},
        {"phandle", phc, 4},
    };
    n = map_entry(map, n, bdf + 1, 0xffff - bdf, ph);
    snprintf(name, sizeof(name), "virtio_iommu@%x,%x", (bdf >> 3) & 0x1f, bdf & 7);
    ret = ph ? fdt->add_prop(s->root, &(tes_fdt_prop){"iommu-map", map, n}) : -ENOSPC;
    if (ret == -EEXIST) {
        H->error(s->dev, "virtio-iommu: the PCIe host bridge has an IOMMU already (iommu-map "
                 "is set: another virtio-iommu-pci, or -M virt,iommu=smmuv3)");
        return ret;
    }
    ret = ret ?: fdt->add_node(s->root, name, props, sizeof(props) / sizeof(props[0]));
    if (ret) {
        H->error(s->dev, "virtio-iommu: the board cannot add it to the device tree (%s)",
                 strerror(-ret));
    }
    return ret;
}

static void le16w(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* q35: a VIOT (ACPI 6.5, 5.2.32) as QEMU's build_viot() lays it out: the
 * virtio-pci IOMMU node first (at offset 48 from the table start), then
 * one PCI range node for segment 0, buses 0..255, endpoint id = rid. */
#define VIOT_NODES_OFF 48
#define VIOT_HDR 36
static int describe_acpi(viommu *s, const tes_acpi_iface *acpi)
{
    uint8_t b[12 + 16 + 24] = {0}, *node = b + 12, *range = b + 28;
    int ret;

    le16w(b, 2);
    le16w(b + 2, VIOT_NODES_OFF);
    node[0] = 3; /* virtio-pci IOMMU */
    le16w(node + 2, 16);
    le16w(node + 4, 0);
    le16w(node + 6, s->rid);
    range[0] = 1; /* PCI range */
    le16w(range + 2, 24);
    st32(range + 4, 0);  /* endpoint start */
    le16w(range + 8, 0); /* segments 0..0 */
    le16w(range + 10, 0);
    le16w(range + 12, 0); /* bdf 0000..ffff */
    le16w(range + 14, 0xffff);
    le16w(range + 16, VIOT_NODES_OFF); /* output node */
    ret = acpi->add_table("VIOT", 0, b, sizeof(b));
    if (ret) {
        H->error(s->dev, ret == -EEXIST ? "virtio-iommu: there can be only one (a VIOT table "
                 "is there already)" : "virtio-iommu: the board cannot add the VIOT table "
                 "(%s)", strerror(-ret));
    }
    return ret;
}

/* Which board we are on, its root bus, and that we sit on it. */
static int find_root(viommu *s, const tes_fdt_iface **fdt, const tes_acpi_iface **acpi)
{
    tes_bus *vbus = H->dev_bus(s->dev);
    tes_bus *pbus;

    s->pci = vbus ? H->bus_parent(vbus) : NULL;
    if (!s->pci || !H->pci_config(s->pci)) {
        H->error(s->dev, "virtio-iommu: only virtio-iommu-pci is supported (no virtio-mmio)");
        return -ENOTSUP;
    }
    /* A board registers one of the two (and a process that built another
     * board before may still list the other, with no root bus now). */
    *fdt = H->iface_lookup(TES_FDT_IFACE, TES_FDT_IFACE_VERSION);
    *acpi = H->iface_lookup(TES_ACPI_IFACE, TES_ACPI_IFACE_VERSION);
    s->root = *fdt ? (*fdt)->pci_root() : NULL;
    if (s->root) {
        *acpi = NULL;
    } else {
        *fdt = NULL;
        s->root = *acpi ? (*acpi)->pci_root(0) : NULL;
    }
    if (!s->root) {
        H->error(s->dev, "virtio-iommu: the machine describes no PCI root bus to the guest "
                 "(it works on virt and q35)");
        return -ENODEV;
    }
    pbus = H->dev_bus(s->pci);
    if (pbus != s->root) {
        H->error(s->dev, "virtio-iommu-pci must be plugged on the root bus %s, not %s",
                 H->bus_name(s->root), pbus ? H->bus_name(pbus) : "(none)");
        return -EINVAL;
    }
    if (iommu_holder(s->root)) {
        H->error(s->dev, "virtio-iommu: the PCI root bus has an IOMMU already (%s)",
                 iommu_holder(s->root));
        return -EEXIST;
    }
    s->rid = H->pci_requester_id(s->pci);
    s->msi_bypass = *acpi != NULL; /* x86 */
    return 0;
}

static int viommu_realize(tes_device *dev, void *opaque)
{
    viommu *s = opaque;
    const tes_fdt_iface *fdt;
    const tes_acpi_iface *acpi;
    tes_virtio_dev_info info = {.size = sizeof(info), .device_id = VIOMMU_ID, .num_queues = 2,
                                .queue_size = QUEUE_SIZE, .config_size = CFG_SIZE,
                                .features = FEATURES, .ops = &viommu_ops, .opaque = s};
    int ret;

    s->dev = dev;
    if (s->aw_bits < 32 || s->aw_bits > 64) {
        H->error(dev, "virtio-iommu: property 'aw-bits' wants 32..64, got %u", s->aw_bits);
        return -EINVAL;
    }
    s->vio = H->iface_lookup(TES_VIRTIO_IFACE, TES_VIRTIO_IFACE_VERSION);
    if (!s->vio) {
        H->error(dev, "virtio-iommu: the virtio plugin (interface '%s' >= %u) is not loaded",
                 TES_VIRTIO_IFACE, TES_VIRTIO_IFACE_VERSION);
        return -ENOENT;
    }
    ret = find_root(s, &fdt, &acpi);
    ret = ret ?: fdt ? describe_fdt(s, fdt) : describe_acpi(s, acpi);
    if (ret) {
        return ret;
    }
    s->ep = calloc(VIOMMU_NUM_EP, sizeof(*s->ep));
    if (!s->ep) {
        H->error(dev, "virtio-iommu: out of memory");
        return -ENOMEM;
    }
    s->bypass = s->boot_bypass;
    s->vdev = s->vio->plug(dev, &info);
    if (!s->vdev) {
        return -EINVAL;
    }
    if (!iommu_claim(s->root, s, "virtio-iommu")) {
        H->error(dev, "virtio-iommu: too many IOMMUs");
        return -ENOSPC;
    }
    H->dma_set_iommu(s->root, &viommu_iommu_ops, s);
    return 0;
}

/* The core drops our claim on the root bus when this device goes. */
static void viommu_unrealize(tes_device *dev, void *opaque)
{
    viommu *s = opaque;

    iommu_unclaim(s);
    if (s->vdev) {
        s->vio->unplug(s->vdev);
        s->vdev = NULL;
    }
    viommu_clear(s);
    free(s->ep);
    s->ep = NULL;
}

static void viommu_describe(tes_device *dev, void *opaque,
                            void (*out)(void *ctx, const char *line), void *ctx)
{
    viommu *s = opaque;
    char line[128];

    snprintf(line, sizeof(line), "domains %u, mappings %u, bypass %u, faults %llu (%llu lost)",
             s->ndom, s->nmaps, s->bypass, (unsigned long long)s->faults,
             (unsigned long long)s->faults_lost);
    out(ctx, line);
}

/* The transport migrates queues and features, and our save()/load(). */
static const tes_state_info viommu_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
};

static const tes_prop_info viommu_props[] = {
    TES_PROP("boot-bypass", TES_PROP_BOOL, viommu, boot_bypass, "on", 0, 0,
             "config.bypass after a system reset: unattached endpoints bypass translation"),
    TES_PROP("aw-bits", TES_PROP_U8, viommu, aw_bits, "64", 0, 0,
             "input address width: input_range is [0, 2^aw-bits - 1] (32..64)"),
    TES_PROP_END,
};

const tes_type_info viommu_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "virtio-iommu-device",
    .desc = "virtio IOMMU (virtio-iommu-pci carries it over PCI)",
    .bus = TES_VIRTIO_BUS,
    .instance_size = sizeof(viommu),
    .props = viommu_props,
    .realize = viommu_realize,
    .unrealize = viommu_unrealize,
    .reset = viommu_sys_reset,
    .state = &viommu_state,
    .describe = viommu_describe,
};
