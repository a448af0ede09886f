/*
 * virtio-iommu: domains, endpoints and mappings (virtio 1.2 sections
 * 5.13.6.3 to 5.13.6.6), the translation the core's DMA hook calls for
 * every bus master below the root bus, and the migration of all of it.
 *
 * An endpoint id is a requester id (bus as the guest numbered it, devfn)
 * on the root bus's hierarchy: the device tree's iommu-map and the VIOT
 * map them 1:1. A domain exists while endpoints are attached to it (the
 * last DETACH frees it with its mappings, as QEMU's does). Mappings of a
 * domain are kept sorted and disjoint, so translation is a binary search;
 * the totals are bounded (VIOMMU_MAX_DOMAINS, VIOMMU_MAX_MAPPINGS) and a
 * guest asking for more gets VIRTIO_IOMMU_S_NOMEM.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommu-trace.h"
#include "viommu.h"

#define H iommu_host
#define STATE_MAGIC 0x766d6d75u /* "vmmu" */
#define GRANULE 0x1000ull

/* ---- domains and endpoints ---- */

viommu_domain *viommu_domain_find(viommu *s, uint32_t id, unsigned *slot)
{
    for (unsigned i = 0; i < VIOMMU_MAX_DOMAINS; i++) {
        if (s->dom[i] && s->dom[i]->id == id) {
            if (slot) {
                *slot = i;
            }
            return s->dom[i];
        }
    }
    return NULL;
}

static viommu_domain *domain_new(viommu *s, uint32_t id, bool bypass, unsigned *slot)
{
    viommu_domain *d;

    for (unsigned i = 0; i < VIOMMU_MAX_DOMAINS; i++) {
        if (!s->dom[i]) {
            d = calloc(1, sizeof(*d));
            if (!d) {
                return NULL;
            }
            d->id = id;
            d->bypass = bypass;
            s->dom[i] = d;
            s->ndom++;
            *slot = i;
            return d;
        }
    }
    return NULL;
}

static void domain_free(viommu *s, unsigned slot)
{
    viommu_domain *d = s->dom[slot];

    s->nmaps -= d->nmaps;
    free(d->maps);
    free(d);
    s->dom[slot] = NULL;
    s->ndom--;
}

void viommu_clear(viommu *s)
{
    for (unsigned i = 0; i < VIOMMU_MAX_DOMAINS; i++) {
        if (s->dom[i]) {
            domain_free(s, i);
        }
    }
    if (s->ep) {
        memset(s->ep, 0, VIOMMU_NUM_EP * sizeof(*s->ep));
    }
}

/* A function answers at that requester id below our root bus (bus
 * numbers as the guest programmed the bridges), and it is not us. */
bool viommu_ep_exists(viommu *s, uint32_t ep)
{
    if (ep >= VIOMMU_NUM_EP || ep == s->rid || !s->root) {
        return false;
    }
    return H->pci_host_config_read(s->root, ep >> 8, ep & 0xff, 0, 4) != 0xffffffffu;
}

static void ep_detach(viommu *s, uint32_t ep)
{
    unsigned slot = s->ep[ep];

    if (slot) {
        s->ep[ep] = 0;
        if (--s->dom[slot - 1]->nep == 0) {
            domain_free(s, slot - 1);
        }
    }
}

/* 5.13.6.3: an endpoint attached elsewhere moves to the new domain. */
uint8_t viommu_attach(viommu *s, uint32_t domain, uint32_t ep, uint32_t flags)
{
    bool bypass = flags & VIOMMU_ATTACH_F_BYPASS;
    viommu_domain *d;
    unsigned slot;

    if ((flags & ~VIOMMU_ATTACH_F_BYPASS) ||
        (bypass && !(viommu_features(s) & (1ull << VIOMMU_F_BYPASS_CONFIG)))) {
        return VIOMMU_S_INVAL;
    }
    if (!viommu_ep_exists(s, ep)) {
        return VIOMMU_S_NOENT;
    }
    d = viommu_domain_find(s, domain, &slot);
    if (d && d->bypass != bypass) {
        return VIOMMU_S_INVAL; /* a domain is a bypass one or not, for good */
    }
    if (d && s->ep[ep] == slot + 1) {
        return VIOMMU_S_OK;
    }
    if (!d && !(d = domain_new(s, domain, bypass, &slot))) {
        return VIOMMU_S_NOMEM;
    }
    d->nep++; /* first: detaching from the old domain must not free this one */
    ep_detach(s, ep);
    s->ep[ep] = (uint16_t)(slot + 1);
    return VIOMMU_S_OK;
}

uint8_t viommu_detach(viommu *s, uint32_t domain, uint32_t ep)
{
    unsigned slot;

    if (!viommu_ep_exists(s, ep) || !viommu_domain_find(s, domain, &slot)) {
        return VIOMMU_S_NOENT;
    }
    if (s->ep[ep] != slot + 1) {
        return VIOMMU_S_INVAL;
    }
    ep_detach(s, ep);
    return VIOMMU_S_OK;
}

/* ---- mappings ---- */

/* Index of the first mapping whose end is >= addr (ends are sorted too,
 * the mappings being disjoint). */
static unsigned first_ending_after(const viommu_domain *d, uint64_t addr)
{
    unsigned lo = 0, hi = d->nmaps;

    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;

        if (d->maps[mid].end < addr) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static bool map_grow(viommu_domain *d)
{
    unsigned cap = d->cap ? d->cap * 2 : 16;
    viommu_map *m;

    if (d->nmaps < d->cap) {
        return true;
    }
    m = realloc(d->maps, cap * sizeof(*m));
    if (!m) {
        return false;
    }
    d->maps = m;
    d->cap = cap;
    return true;
}

static uint8_t map_check(viommu *s, const viommu_map *m)
{
    if (m->flags & ~(VIOMMU_MAP_F_READ | VIOMMU_MAP_F_WRITE | VIOMMU_MAP_F_MMIO)) {
        return VIOMMU_S_INVAL;
    }
    if ((m->flags & VIOMMU_MAP_F_MMIO) && !(viommu_features(s) & (1ull << VIOMMU_F_MMIO))) {
        return VIOMMU_S_INVAL;
    }
    if (m->start > m->end) {
        return VIOMMU_S_INVAL;
    }
    /* 5.13.6.5: granule-aligned, inside input_range; the physical end must
     * not wrap. */
    if ((m->start | m->phys | (m->end + 1)) & (GRANULE - 1) || m->end > viommu_input_end(s) ||
        m->phys + (m->end - m->start) < m->phys) {
        return VIOMMU_S_RANGE;
    }
    return VIOMMU_S_OK;
}

uint8_t viommu_do_map(viommu *s, uint32_t domain, const viommu_map *m)
{
    viommu_domain *d = viommu_domain_find(s, domain, NULL);
    uint8_t st = map_check(s, m);
    unsigned i;

    if (st != VIOMMU_S_OK) {
        return st;
    }
    if (!d) {
        return VIOMMU_S_NOENT;
    }
    if (d->bypass) {
        return VIOMMU_S_INVAL;
    }
    i = first_ending_after(d, m->start);
    if (i < d->nmaps && d->maps[i].start <= m->end) {
        return VIOMMU_S_INVAL; /* overlaps an existing mapping */
    }
    if (s->nmaps >= VIOMMU_MAX_MAPPINGS || !map_grow(d)) {
        return VIOMMU_S_NOMEM;
    }
    memmove(&d->maps[i + 1], &d->maps[i], (d->nmaps - i) * sizeof(*m));
    d->maps[i] = *m;
    d->nmaps++;
    s->nmaps++;
    return VIOMMU_S_OK;
}

/* 5.13.6.6: every mapping inside [start, end] goes; one the range would
 * split makes it S_RANGE and nothing goes. */
uint8_t viommu_do_unmap(viommu *s, uint32_t domain, uint64_t start, uint64_t end)
{
    viommu_domain *d = viommu_domain_find(s, domain, NULL);
    unsigned i, j;

    if (!d) {
        return VIOMMU_S_NOENT;
    }
    if (d->bypass || start > end) {
        return VIOMMU_S_INVAL;
    }
    i = first_ending_after(d, start);
    for (j = i; j < d->nmaps && d->maps[j].start <= end; j++) {
        if (d->maps[j].start < start || d->maps[j].end > end) {
            return VIOMMU_S_RANGE;
        }
    }
    if (j > i) { /* none matched: maps may still be NULL (an empty domain) */
        memmove(&d->maps[i], &d->maps[j], (d->nmaps - j) * sizeof(viommu_map));
        d->nmaps -= j - i;
        s->nmaps -= j - i;
    }
    return VIOMMU_S_OK;
}

/* ---- translation (tes_iommu_ops.translate) ---- */

static uint64_t span(uint64_t from, uint64_t last)
{
    uint64_t n = last - from + 1;

    return n ? n : UINT64_MAX;
}

static int identity(uint64_t iova, uint64_t last, uint64_t *pa, uint64_t *len)
{
    *pa = iova;
    *len = span(iova, last);
    return 0;
}

static int fault(viommu *s, uint8_t reason, uint16_t rid, uint64_t iova, bool is_write)
{
    H->log(TES_LOG_GUEST_ERROR, "virtio-iommu: %s of 0x%llx by endpoint %02x:%02x.%x faults (%s)",
           is_write ? "write" : "read", (unsigned long long)iova, rid >> 8, (rid >> 3) & 0x1f,
           rid & 7, reason == VIOMMU_FAULT_R_DOMAIN ? "not attached" : "no mapping allows it");
    viommu_report_fault(s, reason,
                        VIOMMU_FAULT_F_ADDRESS |
                            (is_write ? VIOMMU_FAULT_F_WRITE : VIOMMU_FAULT_F_READ),
                        rid, iova);
    return -EFAULT;
}

int viommu_translate(void *opaque, uint16_t rid, uint64_t iova, bool is_write, uint64_t *pa,
                     uint64_t *len)
{
    viommu *s = opaque;
    const viommu_domain *d;
    const viommu_map *m;
    unsigned i;

    trace_virtio_iommu_translate("virtio-iommu", rid, iova, is_write ? 2 : 1);
    if (rid == s->rid) {
        return identity(iova, UINT64_MAX, pa, len);
    }
    if (s->msi_bypass && iova >= VIOMMU_MSI_BASE && iova <= VIOMMU_MSI_END) {
        return identity(iova, VIOMMU_MSI_END, pa, len);
    }
    if (!s->ep[rid]) {
        return s->bypass ? identity(iova, UINT64_MAX, pa, len)
                         : fault(s, VIOMMU_FAULT_R_DOMAIN, rid, iova, is_write);
    }
    d = s->dom[s->ep[rid] - 1];
    if (d->bypass) {
        return identity(iova, UINT64_MAX, pa, len);
    }
    i = first_ending_after(d, iova);
    m = i < d->nmaps ? &d->maps[i] : NULL;
    if (!m || m->start > iova ||
        !(m->flags & (is_write ? VIOMMU_MAP_F_WRITE : VIOMMU_MAP_F_READ))) {
        return fault(s, VIOMMU_FAULT_R_MAPPING, rid, iova, is_write);
    }
    *pa = m->phys + (iova - m->start);
    *len = span(iova, m->end);
    trace_virtio_iommu_translate_out(iova, *pa, rid);
    return 0;
}

/* ---- migration: config.bypass, domains with their mappings, and which
 * endpoint is attached where ---- */

static void put32(tes_stream *out, uint32_t v)
{
    uint8_t b[4] = {v, v >> 8, v >> 16, v >> 24};

    H->stream_write(out, b, 4);
}

static void put64(tes_stream *out, uint64_t v)
{
    put32(out, (uint32_t)v);
    put32(out, (uint32_t)(v >> 32));
}

static int get32(tes_stream *in, uint32_t *v)
{
    uint8_t b[4];
    int ret = H->stream_read(in, b, 4);

    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return ret;
}

static int get64(tes_stream *in, uint64_t *v)
{
    uint32_t lo = 0, hi = 0;
    int ret = get32(in, &lo);

    ret = ret ?: get32(in, &hi);
    *v = (uint64_t)hi << 32 | lo;
    return ret;
}

int viommu_save(void *opaque, tes_stream *out)
{
    viommu *s = opaque;
    unsigned nep = 0;

    put32(out, STATE_MAGIC);
    put32(out, s->bypass);
    put32(out, s->ndom);
    for (unsigned i = 0; i < VIOMMU_MAX_DOMAINS; i++) {
        const viommu_domain *d = s->dom[i];

        if (!d) {
            continue;
        }
        put32(out, d->id);
        put32(out, d->bypass);
        put32(out, d->nmaps);
        for (unsigned j = 0; j < d->nmaps; j++) {
            put64(out, d->maps[j].start);
            put64(out, d->maps[j].end);
            put64(out, d->maps[j].phys);
            put32(out, d->maps[j].flags);
        }
    }
    for (unsigned ep = 0; ep < VIOMMU_NUM_EP; ep++) {
        nep += s->ep[ep] != 0;
    }
    put32(out, nep);
    for (unsigned ep = 0; ep < VIOMMU_NUM_EP; ep++) {
        if (s->ep[ep]) {
            put32(out, ep);
            put32(out, s->dom[s->ep[ep] - 1]->id);
        }
    }
    return 0;
}

static int load_error(viommu *s, const char *what)
{
    H->error(s->dev, "virtio-iommu: bad state in the stream: %s", what);
    viommu_clear(s);
    return -EINVAL;
}

/* One domain's mappings: what MAP would have accepted, in order. */
static int load_maps(viommu *s, tes_stream *in, viommu_domain *d, uint32_t n)
{
    for (uint32_t j = 0; j < n; j++) {
        viommu_map m;
        int ret = get64(in, &m.start);

        ret = ret ?: get64(in, &m.end);
        ret = ret ?: get64(in, &m.phys);
        ret = ret ?: get32(in, &m.flags);
        if (ret) {
            return ret;
        }
        if (map_check(s, &m) != VIOMMU_S_OK ||
            (d->nmaps && d->maps[d->nmaps - 1].end >= m.start)) {
            return -EINVAL;
        }
        if (s->nmaps >= VIOMMU_MAX_MAPPINGS || !map_grow(d)) {
            return -ENOMEM;
        }
        d->maps[d->nmaps++] = m;
        s->nmaps++;
    }
    return 0;
}

static int load_domains(viommu *s, tes_stream *in, uint32_t ndom)
{
    for (uint32_t i = 0; i < ndom; i++) {
        uint32_t id, bypass, n;
        viommu_domain *d;
        unsigned slot;
        int ret = get32(in, &id);

        ret = ret ?: get32(in, &bypass);
        ret = ret ?: get32(in, &n);
        if (ret) {
            return load_error(s, "truncated");
        }
        if (bypass > 1 || viommu_domain_find(s, id, NULL) ||
            !(d = domain_new(s, id, bypass, &slot)) || (bypass && n)) {
            return load_error(s, "a domain twice, or a bypass domain with mappings");
        }
        if (load_maps(s, in, d, n)) {
            return load_error(s, "mappings out of order, overlapping or out of range");
        }
    }
    return 0;
}

static int load_endpoints(viommu *s, tes_stream *in)
{
    uint32_t nep;

    if (get32(in, &nep) || nep > VIOMMU_NUM_EP) {
        return load_error(s, "endpoint count");
    }
    for (uint32_t i = 0; i < nep; i++) {
        uint32_t ep, id;
        unsigned slot;

        if (get32(in, &ep) || get32(in, &id)) {
            return load_error(s, "truncated");
        }
        if (ep >= VIOMMU_NUM_EP || ep == s->rid || s->ep[ep] ||
            !viommu_domain_find(s, id, &slot)) {
            return load_error(s, "an endpoint twice, or attached to an unknown domain");
        }
        s->ep[ep] = (uint16_t)(slot + 1);
        s->dom[slot]->nep++;
    }
    for (unsigned i = 0; i < VIOMMU_MAX_DOMAINS; i++) {
        if (s->dom[i] && !s->dom[i]->nep) {
            return load_error(s, "a domain without endpoints");
        }
    }
    return 0;
}

int viommu_load(void *opaque, tes_stream *in)
{
    viommu *s = opaque;
    uint32_t magic, bypass, ndom;

    viommu_clear(s);
    if (get32(in, &magic) || get32(in, &bypass) || get32(in, &ndom)) {
        return load_error(s, "truncated");
    }
    if (magic != STATE_MAGIC || bypass > 1 || ndom > VIOMMU_MAX_DOMAINS) {
        return load_error(s, "header");
    }
    s->bypass = (uint8_t)bypass;
    if (load_domains(s, in, ndom)) {
        return -EINVAL;
    }
    return load_endpoints(s, in);
}
