/*
 * board-x86: ACPI memory hotplug of the x86 boards (mem-hotplug.c), QEMU's
 * interface (docs/specs/acpi_mem_hotplug.rst): the register block at I/O
 * 0x0a00 and the DSDT's \_SB.MHPC with one PNP0C80 device per memory
 * slot; GPE0 bit 3 (_E03) tells the guest to scan. No host-table use in
 * the tables and registers (the table tests link them alone); the board
 * (devmem.c) places the modules and acts on an eject.
 */
#ifndef BOARD_X86_MEM_HOTPLUG_H
#define BOARD_X86_MEM_HOTPLUG_H

#include <stdbool.h>
#include <stdint.h>

#include "aml.h"

#define X86_MEMHP_BASE 0x0a00u
#define X86_MEMHP_LEN 24u
#define X86_MEMHP_GPE 3u            /* GPE0 status bit: \_GPE._E03 */
#define X86_MAX_RAM_SLOTS 256u      /* QEMU's ACPI_MAX_RAM_SLOTS */

struct tes_device;

/* One memory slot: the module in it (NULL: free) and what the guest sees
 * through the registers when it is a DIMM (nvdimm slots read as empty, as
 * QEMU's: NFIT describes those). */
typedef struct x86_memslot {
    struct tes_device *dev;
    uint64_t addr, size;
    uint32_t node;
    bool nvdimm;
    bool enabled;   /* in use by the guest (MES) */
    bool inserting; /* device check not yet sent by OSPM (MINS) */
    bool removing;  /* eject request not yet sent by OSPM (MRMV) */
    uint32_t ost_event, ost_status;
} x86_memslot;

typedef struct x86_memhp {
    unsigned nslots;
    x86_memslot *slot; /* [nslots] */
    uint32_t selector;
    /* The guest wrote the eject bit of a DIMM's slot: the board removes
     * it (the slot is already marked free). */
    void (*eject)(void *opaque, struct tes_device *dev);
    void *opaque;
    /* The guest wrote the _OST status of slot i: the board sends QMP
     * ACPI_DEVICE_OST (NULL: nobody listens). */
    void (*ost)(void *opaque, unsigned i);
} x86_memhp;

/* The register block, offsets 0..23, 1..4-byte accesses. */
uint64_t x86_memhp_read(x86_memhp *m, uint64_t off, unsigned size);
void x86_memhp_write(x86_memhp *m, uint64_t off, uint64_t val, unsigned size);

/* \_SB.MHPC with nslots PNP0C80 children (inside Scope(\_SB); nothing
 * when nslots is 0). */
void x86_dsdt_memhp(aml *a, unsigned nslots);
/* Scope(\_GPE) { Method(_E03) { \_SB.MHPC.MSCN() } } (at the root). */
void x86_dsdt_memhp_gpe(aml *a, unsigned nslots);

#endif
