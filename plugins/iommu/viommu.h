/*
 * virtio-iommu: what virtio-iommu.c (the device, its requests and
 * firmware description) and viommu-map.c (domains, mappings, translation,
 * faults, migration) share. Private to the iommu plugin.
 */
#ifndef VIOMMU_H
#define VIOMMU_H

#include <tessera/tessera.h>

#include <tessera/virtio.h>

extern const tes_host *iommu_host;

/* virtio 1.2 section 5.13 */
#define VIOMMU_ID 23
#define VIOMMU_Q_REQ 0
#define VIOMMU_Q_EVENT 1

#define VIOMMU_F_INPUT_RANGE 0
#define VIOMMU_F_DOMAIN_RANGE 1
#define VIOMMU_F_MAP_UNMAP 2
#define VIOMMU_F_BYPASS 3
#define VIOMMU_F_PROBE 4
#define VIOMMU_F_MMIO 5
#define VIOMMU_F_BYPASS_CONFIG 6

#define VIOMMU_S_OK 0
#define VIOMMU_S_IOERR 1
#define VIOMMU_S_UNSUPP 2
#define VIOMMU_S_DEVERR 3
#define VIOMMU_S_INVAL 4
#define VIOMMU_S_RANGE 5
#define VIOMMU_S_NOENT 6
#define VIOMMU_S_FAULT 7
#define VIOMMU_S_NOMEM 8

#define VIOMMU_ATTACH_F_BYPASS 1u
#define VIOMMU_MAP_F_READ 1u
#define VIOMMU_MAP_F_WRITE 2u
#define VIOMMU_MAP_F_MMIO 4u

#define VIOMMU_FAULT_R_UNKNOWN 0
#define VIOMMU_FAULT_R_DOMAIN 1
#define VIOMMU_FAULT_R_MAPPING 2
#define VIOMMU_FAULT_F_READ 1u
#define VIOMMU_FAULT_F_WRITE 2u
#define VIOMMU_FAULT_F_ADDRESS 0x100u
#define VIOMMU_FAULT_SIZE 24

/* Bounds on what the guest can make us keep. */
#define VIOMMU_MAX_DOMAINS 1024
#define VIOMMU_MAX_MAPPINGS (1u << 17) /* over all domains */
#define VIOMMU_NUM_EP 0x10000          /* endpoint ids are requester ids */
#define VIOMMU_PROBE_SIZE 512

/* x86's interrupt window: untranslated, reported as a RESV_MEM MSI
 * region (QEMU's pc machine gives its virtio-iommu the same). */
#define VIOMMU_MSI_BASE 0xfee00000ull
#define VIOMMU_MSI_END 0xfeefffffull

typedef struct viommu_map {
    uint64_t start, end, phys; /* [start, end] inclusive */
    uint32_t flags;            /* VIOMMU_MAP_F_* */
} viommu_map;

typedef struct viommu_domain {
    uint32_t id;
    bool bypass;    /* attached with VIOMMU_ATTACH_F_BYPASS */
    unsigned nep;   /* endpoints attached; the domain goes with the last */
    unsigned nmaps, cap;
    viommu_map *maps; /* sorted by start, disjoint */
} viommu_domain;

typedef struct viommu {
    tes_device *dev; /* virtio-iommu-device */
    tes_device *pci; /* the PCI function carrying it (the transport) */
    const tes_virtio_ops *vio;
    tes_virtio *vdev;
    tes_bus *root;
    uint16_t rid;    /* our own requester id: never translated */
    bool msi_bypass; /* x86: the MSI window passes untranslated */
    /* properties */
    bool boot_bypass;
    uint8_t aw_bits;
    /* guest-visible state */
    uint8_t bypass; /* config.bypass */
    viommu_domain *dom[VIOMMU_MAX_DOMAINS];
    unsigned ndom, nmaps;
    uint16_t *ep; /* VIOMMU_NUM_EP: dom[] slot + 1, 0 = not attached */
    uint64_t faults, faults_lost;
} viommu;

/* viommu-map.c */
viommu_domain *viommu_domain_find(viommu *s, uint32_t id, unsigned *slot);
void viommu_clear(viommu *s);
uint8_t viommu_attach(viommu *s, uint32_t domain, uint32_t ep, uint32_t flags);
uint8_t viommu_detach(viommu *s, uint32_t domain, uint32_t ep);
uint8_t viommu_do_map(viommu *s, uint32_t domain, const viommu_map *m);
uint8_t viommu_do_unmap(viommu *s, uint32_t domain, uint64_t start, uint64_t end);
bool viommu_ep_exists(viommu *s, uint32_t ep);
int viommu_translate(void *opaque, uint16_t rid, uint64_t iova, bool is_write, uint64_t *pa,
                     uint64_t *len);
int viommu_save(void *opaque, tes_stream *out);
int viommu_load(void *opaque, tes_stream *in);

/* virtio-iommu.c */
uint64_t viommu_input_end(viommu *s);
uint64_t viommu_features(viommu *s);
void viommu_report_fault(viommu *s, uint8_t reason, uint32_t flags, uint32_t ep, uint64_t addr);

extern const tes_type_info viommu_type;

#endif
