/*
 * virtio-scsi-pci: the virtio-pci transport carrying a virtio-scsi-device,
 * which the scsi plugin provides (its user manual is in
 * plugins/scsi/virtio-scsi.c). This type only forwards the properties;
 * without the scsi plugin loaded it is refused with one line. The SCSI bus
 * is named after this device: id=scsi0 gives bus=scsi0.0.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "virtio-int.h"

#define VIRTIO_ID_SCSI 8

typedef struct vscsi_pci {
    vpci_proxy px; /* first: the shared proxy callbacks cast to it */
    uint32_t num_queues, queue_size, seg_max, max_sectors, cmd_per_lun, vectors;
    bool hotplug, param_change;
} vscsi_pci;

#define VECTORS_DEFAULT 0xffff

static const tes_prop_info vscsi_pci_props[] = {
    TES_PROP("num_queues", TES_PROP_U32, vscsi_pci, num_queues, "1", 1, 62, "request queues"),
    TES_PROP("virtqueue_size", TES_PROP_U32, vscsi_pci, queue_size, "256", 4, 1024,
             "virtqueue size (power of two)"),
    TES_PROP("seg_max", TES_PROP_U32, vscsi_pci, seg_max, "0", 0, 1022,
             "data segments per request (0: virtqueue_size - 2)"),
    TES_PROP("max_sectors", TES_PROP_U32, vscsi_pci, max_sectors, "65535", 1, 0,
             "512-byte sectors per request"),
    TES_PROP("cmd_per_lun", TES_PROP_U32, vscsi_pci, cmd_per_lun, "128", 1, 0,
             "commands queued per LUN"),
    TES_PROP("hotplug", TES_PROP_BOOL, vscsi_pci, hotplug, "on", 0, 0,
             "VIRTIO_SCSI_F_HOTPLUG: hotplug events"),
    TES_PROP("param_change", TES_PROP_BOOL, vscsi_pci, param_change, "on", 0, 0,
             "VIRTIO_SCSI_F_CHANGE"),
    TES_PROP("vectors", TES_PROP_U32, vscsi_pci, vectors, "65535", 0, 65535,
             "MSI-X vectors (0: INTx only; default one per queue plus one)"),
    TES_PROP_END,
};

static int vscsi_pci_realize(tes_device *dev, void *s)
{
    vscsi_pci *p = s;
    char props[256];

    snprintf(props, sizeof(props),
             "num_queues=%u,virtqueue_size=%u,seg_max=%u,max_sectors=%u,cmd_per_lun=%u,"
             "hotplug=%u,param_change=%u", p->num_queues, p->queue_size, p->seg_max,
             p->max_sectors, p->cmd_per_lun, p->hotplug, p->param_change);
    p->px.proxy = vpci_new_vectors(dev, "virtio-scsi-device", props,
                                   p->vectors == VECTORS_DEFAULT ? -1 : (int)p->vectors);
    return p->px.proxy ? 0 : -EINVAL;
}

static const tes_pci_info vscsi_pci_info = {
    .size = sizeof(tes_pci_info),
    .vendor_id = 0x1af4,
    .device_id = 0x1040 + VIRTIO_ID_SCSI,
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = VIRTIO_ID_SCSI,
    .revision = 1,
    .class_id = 0x0100, /* mass storage, SCSI */
    .irq_pin = 1,
};

const tes_type_info virtio_scsi_pci_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "virtio-scsi-pci",
    .desc = "virtio SCSI host over PCI (needs the scsi plugin)",
    .bus = TES_BUS_PCI,
    .instance_size = sizeof(vscsi_pci),
    .props = vscsi_pci_props,
    .realize = vscsi_pci_realize,
    .unrealize = vpci_proxy_unrealize,
    .reset = vpci_proxy_reset,
    .state = &vpci_proxy_state,
    .class_info = &vscsi_pci_info,
};
