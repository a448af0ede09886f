/*
 * virtio-rng: the entropy device (virtio 1.2 section 5.4), fed from the
 * host kernel's random pool (getrandom(2)).
 *
 * User manual
 *
 *   -device virtio-rng-pci
 *   -device virtio-rng-device,bus=virtio-mmio-bus.N
 *
 * One request queue of 64 entries, no config space, no feature bits. Every
 * device-writable buffer the driver posts comes back full.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>

#include "virtio-int.h"
#include "virtio-trace.h"

#define VIRTIO_ID_RNG 4
#define RNG_QUEUE_SIZE 64

typedef struct vrng {
    tes_device *dev;
    tes_virtio *vdev;
} vrng;

/* Fill one buffer; getrandom may return short for large requests. */
static size_t fill(void *buf, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = getrandom((uint8_t *)buf + done, len - done, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            H->log(TES_LOG_UNIMP, "virtio-rng: getrandom failed: %s", strerror(errno));
            break;
        }
        done += n;
    }
    return done;
}

static void rng_handle_queue(void *opaque, tes_virtq *vq, unsigned index)
{
    tes_virtio_elem *e;
    bool pushed = false;

    while ((e = virtio_ops.pop(vq, 0))) {
        uint32_t written = 0;

        /* No rate limit here: the quota QEMU reports is unlimited. */
        trace_virtio_rng_request(opaque, e->in_len, UINT32_MAX);
        for (unsigned i = 0; i < e->in_num; i++) {
            written += fill(e->in[i].iov_base, e->in[i].iov_len);
        }
        trace_virtio_rng_pushed(opaque, written);
        virtio_ops.push(vq, e, written);
        pushed = true;
    }
    if (pushed) {
        virtio_ops.notify(vq);
    }
}

static void rng_config_read(void *opaque, uint32_t off, void *buf, uint32_t len)
{
    memset(buf, 0, len);
}

static const tes_virtio_dev_ops rng_ops = {
    .size = sizeof(tes_virtio_dev_ops),
    .config_read = rng_config_read,
    .handle_queue = rng_handle_queue,
};

static int rng_realize(tes_device *dev, void *s)
{
    vrng *r = s;
    tes_virtio_dev_info info = {.size = sizeof(info), .device_id = VIRTIO_ID_RNG,
                                .num_queues = 1, .queue_size = RNG_QUEUE_SIZE,
                                .ops = &rng_ops, .opaque = r};

    r->dev = dev;
    r->vdev = virtio_ops.plug(dev, &info);
    return r->vdev ? 0 : -EINVAL;
}

static void rng_unrealize(tes_device *dev, void *s)
{
    vrng *r = s;

    virtio_ops.unplug(r->vdev);
}

static const tes_state_info rng_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
};

const tes_type_info virtio_rng_device_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "virtio-rng-device",
    .desc = "virtio entropy device",
    .bus = TES_VIRTIO_BUS,
    .instance_size = sizeof(vrng),
    .realize = rng_realize,
    .unrealize = rng_unrealize,
    .state = &rng_state,
};

static int rng_pci_realize(tes_device *dev, void *s)
{
    vpci_proxy *px = s;

    px->proxy = vpci_new(dev, virtio_rng_device_type.name, NULL);
    return px->proxy ? 0 : -EINVAL;
}

static const tes_pci_info rng_pci_info = {
    .size = sizeof(tes_pci_info),
    .vendor_id = 0x1af4,
    .device_id = 0x1040 + VIRTIO_ID_RNG,
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = VIRTIO_ID_RNG,
    .revision = 1,
    .class_id = 0x00ff,
    .irq_pin = 1,
};

const tes_type_info virtio_rng_pci_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "virtio-rng-pci",
    .desc = "virtio entropy device over PCI",
    .bus = TES_BUS_PCI,
    .instance_size = sizeof(vpci_proxy),
    .realize = rng_pci_realize,
    .unrealize = vpci_proxy_unrealize,
    .reset = vpci_proxy_reset,
    .state = &vpci_proxy_state,
    .class_info = &rng_pci_info,
};
