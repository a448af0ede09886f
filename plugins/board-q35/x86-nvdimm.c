/*
 * board-x86: the NVDIMM label _DSM of q35 and pc (nvdimm-acpi.h has the
 * protocol, nvdimm-acpi.c the AML and the answers): a 4 KiB page of the
 * board's RAM at X86_NVDIMM_DSM_PAGE and the I/O port 0x0a18 whose write
 * says "the request is in the page". Only when a module has label-size=.
 *
 *   tessera -M q35,nvdimm=on -m 2G,slots=4,maxmem=10G \
 *     -object memory-backend-file,share=on,id=mem1,mem-path=nv.img,size=130M \
 *     -device nvdimm,memdev=mem1,id=nvdimm1,label-size=128K
 *   (guest) ndctl init-labels nmem0; ndctl create-namespace ...
 *
 * The labels are the module's (plugins/nvdimm keeps them at the end of
 * its backend), read and written through the memory-device interface's
 * label_access; the page holds nothing between two calls.
 */
#include <errno.h>

#include "x86-board.h"

#define H x86_board_host

static bool label_rw(void *opaque, unsigned idx, uint64_t off, void *buf, uint32_t len,
                     bool write)
{
    x86_board *b = opaque;
    const tes_memory_device_iface *md =
        H->iface_lookup(TES_MEMORY_DEVICE_IFACE, TES_MEMORY_DEVICE_IFACE_VERSION);

    if (idx >= b->nnvd || !md ||
        md->size < offsetof(tes_memory_device_iface, label_access) + sizeof(void *)) {
        return false;
    }
    return md->label_access(b->nvd_dev[idx], off, buf, len, write);
}

static uint64_t dsm_io_read(void *opaque, uint64_t off, unsigned size)
{
    return 0;
}

/* Any write: the guest's NCAL put a request in the page. */
static void dsm_io_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    x86_board *b = opaque;

    x86_nvdimm_dsm(b->nvdimm_dsm, b->nvd, b->nnvd, label_rw, b);
}

static const tes_mem_ops dsm_io_ops = {
    .size = sizeof(tes_mem_ops),
    .read = dsm_io_read,
    .write = dsm_io_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 4,
    .impl_min = 1, .impl_max = 4,
};

int x86_board_nvdimm_dsm(x86_board *b)
{
    bool labels = false;
    tes_region *page, *io;

    for (unsigned i = 0; i < b->nnvd; i++) {
        labels |= b->nvd[i].label_size != 0;
    }
    if (!labels || b->nvdimm_dsm) {
        return 0;
    }
    page = H->region_new_ram(b->dev, "nvdimm-dsm", X86_NVDIMM_DSM_SIZE);
    io = H->region_new_io(b->dev, "nvdimm-dsm-io", X86_NVDIMM_DSM_IO_LEN, &dsm_io_ops, b);
    if (!page || !io || !(b->nvdimm_dsm = H->region_ram_ptr(page))) {
        H->error(b->dev, "cannot create the NVDIMM _DSM page and port");
        return -ENOMEM;
    }
    H->region_add(H->system_memory(), X86_NVDIMM_DSM_PAGE, page, 0);
    H->region_add(H->system_io(), X86_NVDIMM_DSM_IO, io, 0);
    return 0;
}
