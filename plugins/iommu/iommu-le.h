/*
 * iommu plugin: little-endian fields of register files and of the tables
 * and requests in guest memory (VT-d, SMMUv3 and virtio-iommu are all
 * little-endian), byte by byte so any host byte order works. Private to
 * the plugin.
 */
#ifndef IOMMU_LE_H
#define IOMMU_LE_H

#include <stdint.h>

/* The n-byte (1..8) little-endian value at p. */
static inline uint64_t get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;

    for (unsigned i = n; i-- > 0;) {
        v = v << 8 | p[i];
    }
    return v;
}

/* v's low n bytes (1..8) at p, little-endian. */
static inline void set_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* Fixed-size forms (virtio-iommu's requests). */
static inline uint32_t le32(const uint8_t *p)
{
    return (uint32_t)get_le(p, 4);
}

static inline uint64_t le64(const uint8_t *p)
{
    return get_le(p, 8);
}

static inline void st32(uint8_t *p, uint32_t v)
{
    set_le(p, v, 4);
}

static inline void st64(uint8_t *p, uint64_t v)
{
    set_le(p, v, 8);
}

#endif
