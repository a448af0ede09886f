/*
 * virtio-iommu-pci: the virtio-pci transport carrying a virtio-iommu-device,
 * which the iommu plugin provides (its user manual is in
 * plugins/iommu/virtio-iommu.c). This type only forwards the properties;
 * without the iommu plugin loaded it is refused with one line.
 */
#include <errno.h>
#include <stdio.h>

#include "virtio-int.h"

#define VIRTIO_ID_IOMMU 23

typedef struct viommu_pci {
    vpci_proxy px; /* first: the shared proxy callbacks cast to it */
    bool boot_bypass;
    uint8_t aw_bits;
} viommu_pci;

static const tes_prop_info viommu_pci_props[] = {
    TES_PROP("boot-bypass", TES_PROP_BOOL, viommu_pci, boot_bypass, "on", 0, 0,
             "config.bypass after a system reset: unattached endpoints bypass translation"),
    TES_PROP("aw-bits", TES_PROP_U8, viommu_pci, aw_bits, "64", 0, 0,
             "input address width (32..64)"),
    TES_PROP_END,
};

static int viommu_pci_realize(tes_device *dev, void *s)
{
    viommu_pci *p = s;
    char props[64];

    snprintf(props, sizeof(props), "boot-bypass=%u,aw-bits=%u", p->boot_bypass, p->aw_bits);
    p->px.proxy = vpci_new(dev, "virtio-iommu-device", props);
    return p->px.proxy ? 0 : -EINVAL;
}

static const tes_pci_info viommu_pci_info = {
    .size = sizeof(tes_pci_info),
    .vendor_id = 0x1af4,
    .device_id = 0x1040 + VIRTIO_ID_IOMMU,
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = VIRTIO_ID_IOMMU,
    .revision = 1,
    .class_id = 0x00ff,
    .irq_pin = 1,
};

const tes_type_info virtio_iommu_pci_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "virtio-iommu-pci",
    .desc = "virtio IOMMU over PCI (needs the iommu plugin)",
    .bus = TES_BUS_PCI,
    .instance_size = sizeof(viommu_pci),
    .props = viommu_pci_props,
    .realize = viommu_pci_realize,
    .unrealize = vpci_proxy_unrealize,
    .reset = vpci_proxy_reset,
    .state = &vpci_proxy_state,
    .class_info = &viommu_pci_info,
};
