/*
 * Shared by the IOMMU fuzz targets (fuzz-intel-iommu.c, fuzz-smmuv3.c):
 * DMA from the bus master (dev[0]) at a fuzzed IOVA, and the check that a
 * write the IOMMU refuses changes no RAM but what the IOMMU writes itself
 * (fault records, events, MSIs).
 */
#ifndef FUZZ_IOMMU_H
#define FUZZ_IOMMU_H

#include <string.h>

#include "fuzz-dev.h"

#define FI_RAM_MAX (1u << 20)

/* Reads and writes of 1..256 bytes at an IOVA (any, or a fuzzed one
 * shifted up to 16 bits). Within one page a refused write is all or
 * nothing: the IOMMU's own writes aside (own(f, at): may the IOMMU have
 * written RAM byte at?), RAM must stay as it was. ram_size <= FI_RAM_MAX. */
static inline void fi_dma(fz *f, size_t ram_size, bool (*own)(fz *f, uint64_t at))
{
    static uint8_t before[FI_RAM_MAX];
    uint8_t buf[256];
    uint64_t iova = fz_u8(f) & 1 ? fz_addr(f) : (uint64_t)fz_u32(f) << (fz_u8(f) % 17);
    unsigned len = 1 + fz_u8(f);
    bool write = fz_u8(f) & 1;
    int ret;

    memset(buf, 0xa5, sizeof(buf));
    if (!write) {
        f->host->dma_read(f->dev[0], iova, buf, len);
        return;
    }
    memcpy(before, f->ram, ram_size);
    ret = f->host->dma_write(f->dev[0], iova, buf, len);
    if (ret == -14 && (iova & 0xfff) + len <= 0x1000 && memcmp(before, f->ram, ram_size)) {
        for (uint64_t i = 0; i < ram_size; i++) {
            if (before[i] != f->ram[i] && !own(f, i)) {
                fz_fail(f, "a refused DMA write at 0x%llx changed RAM at 0x%llx",
                        (unsigned long long)iova, (unsigned long long)i);
            }
        }
    }
}

#endif
