/*
 * The iommu plugin's harness tests (intel-iommu, arm-smmuv3, virtio-iommu)
 * share this: edu as the bus master whose DMA goes through the IOMMU hook,
 * and the check that its reads and writes reach the pages the tables name.
 */
#ifndef IOMMU_TEST_H
#define IOMMU_TEST_H

#include <glib.h>
#include <tessera/harness.h>

/* Loads each plugin of paths (NULL-terminated) into h, then creates edu
 * at 03.0 with BAR 0 mapped at 0x10000000 (which turns bus mastering on). */
static inline tes_device *iommu_test_edu(tes_harness *h, const char *const *paths)
{
    tes_device *edu;

    for (; *paths; paths++) {
        g_assert_true(tes_harness_load(h, *paths));
    }
    edu = tes_harness_device(h, "edu", "addr=03.0");
    g_assert_nonnull(edu);
    tes_harness_bar_map(h, edu, 0, 0x10000000);
    return edu;
}

/* The 4 KiB page at ram + addr: seed, seed + 1, ... */
static inline void iommu_test_fill(uint8_t *ram, uint64_t addr, uint8_t seed)
{
    for (unsigned i = 0; i < 4096; i++) {
        ram[addr + i] = (uint8_t)(seed + i);
    }
}

/* The tables map iova to page_a and iova + 4 KiB to page_b: edu's reads
 * and writes reach them, also across the page end. */
static inline void iommu_test_check_translation(const tes_host *H, tes_device *edu,
                                                uint8_t *ram, uint64_t iova, uint64_t page_a,
                                                uint64_t page_b)
{
    uint8_t buf[32], w[8] = {1, 2, 3, 4, 5, 6, 7, 8};

    iommu_test_fill(ram, page_a, 0x10);
    iommu_test_fill(ram, page_b, 0x80);
    g_assert_cmpint(H->dma_read(edu, iova + 0x10, buf, 4), ==, 0);
    g_assert_cmpmem(buf, 4, ram + page_a + 0x10, 4);
    g_assert_cmpint(H->dma_read(edu, iova + 0xff0, buf, 32), ==, 0);
    g_assert_cmpmem(buf, 16, ram + page_a + 0xff0, 16);
    g_assert_cmpmem(buf + 16, 16, ram + page_b, 16);
    g_assert_cmpint(H->dma_write(edu, iova + 0x100, w, 8), ==, 0);
    g_assert_cmpmem(ram + page_a + 0x100, 8, w, 8);
}

#endif
