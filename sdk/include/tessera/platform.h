/*
 * tessera SDK: platform (MMIO) devices, the ones that sit on the system bus
 * at a fixed address with fixed interrupt lines (UARTs, RTCs, a SoC's IP
 * blocks), and how a board places and describes them.
 *
 * A platform device type sets bus = NULL (the system bus) and class_info to
 * a tes_platform_info declaring what a board needs to place it and write
 * its device-tree node: the "compatible" list, its MMIO regions and
 * interrupt outputs, the clocks it consumes and any extra properties. In
 * realize the device creates its regions and registers them in order with
 * host->dev_init_mmio(dev, region), and declares its interrupt outputs with
 * host->dev_init_irqs(dev, num_irqs).
 *
 * The board (virt) then maps host->dev_mmio(dev, i) and connects output i
 * to its interrupt controller. Placement comes from the board for the
 * devices it creates itself, and from the command line for the others:
 *
 *   -device pl011,addr=0x9100000,irq=9,chardev=serial1
 *
 * addr= is the base of region 0 (further regions follow it, each aligned
 * to its size), irq= the first interrupt line in the board's numbering
 * (virt: the SPI number; the device's outputs take consecutive lines).
 * host->dev_platform_place() returns both. So a Linux platform driver can
 * be tried against an out-of-tree model without writing a board.
 */
#ifndef TESSERA_PLATFORM_H
#define TESSERA_PLATFORM_H

#include <tessera/types.h>

#define TES_PLATFORM_MAGIC 0x746c7066u /* "fplt": tells tes_platform_info apart */

/* Extra device-tree properties of a node (ends with name == NULL). */
typedef enum tes_dt_kind {
    TES_DT_EMPTY = 1,  /* a boolean property: present, no value */
    TES_DT_U32 = 2,    /* one cell: u32 */
    TES_DT_STRING = 3, /* str; a string list when NUL-separated, with len */
} tes_dt_kind;

typedef struct tes_dt_prop {
    const char *name;
    tes_dt_kind kind;
    uint32_t u32;
    const char *str;
    size_t len; /* bytes of str including the last NUL; 0: strlen(str) + 1 */
} tes_dt_prop;

typedef struct tes_platform_info {
    uint32_t size;  /* sizeof(tes_platform_info) */
    uint32_t magic; /* TES_PLATFORM_MAGIC */
    /* DT "compatible", most specific first, NUL-separated and ending with
     * an empty string: "arm,pl011\0arm,primecell\0". */
    const char *compatible;
    /* Node name without the unit address ("pl011"); NULL: the type name. */
    const char *node_name;
    unsigned num_mmio; /* regions registered with dev_init_mmio, 1..4 */
    unsigned num_irqs; /* interrupt outputs, 0..8 */
    /* Clock inputs the board ties to its fixed APB clock, listed in
     * "clock-names" order like compatible: "uartclk\0apb_pclk\0"; NULL:
     * none. */
    const char *clock_names;
    const tes_dt_prop *dt_props; /* NULL or ends with {NULL} */
} tes_platform_info;

/* Where the user asked for a platform device on the command line. */
typedef struct tes_platform_place {
    uint32_t size; /* sizeof(tes_platform_place), set by the caller */
    bool has_addr, has_irq;
    uint64_t addr; /* addr=: base of region 0 */
    uint32_t irq;  /* irq=: first line, board numbering */
} tes_platform_place;

/* The platform info of a type's class_info, or NULL when it has none. */
static inline const tes_platform_info *tes_platform_of(const void *class_info)
{
    const tes_platform_info *p = (const tes_platform_info *)class_info;

    return p && p->size >= 2 * sizeof(uint32_t) && p->magic == TES_PLATFORM_MAGIC ? p : NULL;
}

#endif
