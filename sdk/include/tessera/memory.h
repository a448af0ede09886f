/*
 * tessera SDK: memory and I/O regions.
 *
 * A region is RAM, ROM, an I/O region with ops, a container of subregions
 * (with priorities: higher wins where they overlap) or an alias into another
 * region. Address spaces are container regions: system memory and the I/O
 * port space. Devices only ever see offsets into their own regions.
 */
#ifndef TESSERA_MEMORY_H
#define TESSERA_MEMORY_H

#include <tessera/types.h>

/*
 * Ops of an I/O region. read/write are called with offset relative to the
 * region start and size in {1,2,4,8} within [impl_min, impl_max]; the core
 * splits wider accesses and widens narrower ones (read-modify-write for
 * writes: a region whose reads have side effects, a FIFO or an acknowledge
 * register, and that the guest may write narrowly must take those sizes
 * itself, or the widened write's read fires them). Values are in host
 * order; the core swaps for TES_ENDIAN_BIG.
 * Accesses outside [valid_min, valid_max] are dropped (reads return all
 * ones) and logged under guest_errors. Zero sizes mean 1 and 8.
 */
typedef struct tes_mem_ops {
    uint32_t size; /* sizeof(tes_mem_ops) */
    uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
    void (*write)(void *opaque, uint64_t offset, uint64_t value, unsigned size);
    tes_endian endian;
    uint8_t valid_min, valid_max; /* sizes the guest may use */
    uint8_t impl_min, impl_max;   /* sizes the callbacks handle */
} tes_mem_ops;

/* Result of a memory transaction. */
#define TES_MEM_OK 0
#define TES_MEM_UNASSIGNED (-14) /* -EFAULT: no region at the address */

#endif
