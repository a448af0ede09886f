/*
 * board-x86: SRAT and SLIT, the NUMA tables of the x86 boards (q35, pc),
 * written as QEMU's pc machines write them (hw/i386/acpi-build.c's
 * build_srat for the layout facts): processor affinity for every CPU,
 * then the RAM of each node in order, cut around the 640 KiB - 1 MiB
 * hole and the PCI hole below 4 GiB. The e820 map stays as it is: SRAT
 * only says which node each RAM range belongs to. Linux reads both
 * (CONFIG_ACPI_NUMA), and without a SLIT takes 10 and 20 as distances.
 */
#include "aml.h"

#define KiB 1024ull
#define MiB (1024ull * KiB)
#define SRAT_ENABLED 1u
#define SRAT_HOTPLUGGABLE 2u

/* Processor Local APIC/SAPIC Affinity (5.2.16.1), 16 bytes. */
static void srat_lapic(aml *t, uint32_t apic_id, uint32_t node)
{
    aml_u8(t, 0);
    aml_u8(t, 16);
    aml_u8(t, (uint8_t)node);      /* proximity domain [7:0] */
    aml_u8(t, (uint8_t)apic_id);
    aml_le(t, SRAT_ENABLED, 4);
    aml_u8(t, 0);                  /* local SAPIC EID */
    aml_le(t, node >> 8, 3);       /* proximity domain [31:8] */
    aml_le(t, 0, 4);               /* clock domain */
}

/* Processor Local x2APIC Affinity (5.2.16.3), 24 bytes. */
static void srat_x2apic(aml *t, uint32_t apic_id, uint32_t node)
{
    aml_u8(t, 2);
    aml_u8(t, 24);
    aml_le(t, 0, 2);
    aml_le(t, node, 4);
    aml_le(t, apic_id, 4);
    aml_le(t, SRAT_ENABLED, 4);
    aml_le(t, 0, 4);               /* clock domain */
    aml_le(t, 0, 4);
}

/* Memory Affinity (5.2.16.2), 40 bytes. */
static void srat_mem_flags(aml *t, uint64_t base, uint64_t len, uint32_t node, uint32_t flags)
{
    if (!len) {
        return;
    }
    aml_u8(t, 1);
    aml_u8(t, 40);
    aml_le(t, node, 4);
    aml_le(t, 0, 2);
    aml_le(t, base, 8);
    aml_le(t, len, 8);
    aml_le(t, 0, 4);
    aml_le(t, flags, 4);
    aml_le(t, 0, 8);
}

static void srat_mem(aml *t, uint64_t base, uint64_t len, uint32_t node)
{
    srat_mem_flags(t, base, len, node, SRAT_ENABLED);
}

/* RAM offsets [off, off + len) of one node as guest-physical ranges: the
 * part below lowmem at its offset, without the legacy hole, the rest
 * above 4 GiB. */
static void srat_node_ram(aml *t, const acpi_numa *n, uint64_t off, uint64_t len, uint32_t node)
{
    uint64_t end = off + len, low_end = end < n->lowmem ? end : n->lowmem;

    if (off < low_end) {
        if (off < 640 * KiB) {
            srat_mem(t, off, (low_end < 640 * KiB ? low_end : 640 * KiB) - off, node);
        }
        if (low_end > MiB) {
            uint64_t from = off > MiB ? off : MiB;
            srat_mem(t, from, low_end - from, node);
        }
    }
    if (end > n->lowmem) {
        uint64_t from = off > n->lowmem ? off : n->lowmem;
        srat_mem(t, 0x100000000ull + (from - n->lowmem), end - from, node);
    }
}

void acpi_build_srat(aml *t, const acpi_board *b)
{
    const acpi_numa *n = b->numa;
    uint64_t off = 0;

    acpi_header(t, "SRAT", 1);
    aml_le(t, 1, 4);   /* reserved, 1 for compatibility (as QEMU and firmware write) */
    aml_le(t, 0, 8);
    for (unsigned i = 0; i < b->ncpus || (n->possible_apic_id && i < n->max_cpus); i++) {
        uint32_t id = i >= b->ncpus ? n->possible_apic_id[i] : b->apic_id ? b->apic_id[i] : i;

        if (id < 255) {
            srat_lapic(t, id, n->cpu_node[i]);
        } else {
            srat_x2apic(t, id, n->cpu_node[i]);
        }
    }
    for (unsigned i = 0; i < n->nodes; i++) {
        srat_node_ram(t, n, off, n->node_mem[i], i);
        off += n->node_mem[i];
    }
    if (n->hotplug_size && n->nodes) {
        srat_mem_flags(t, n->hotplug_base, n->hotplug_size, n->nodes - 1,
                       SRAT_ENABLED | SRAT_HOTPLUGGABLE);
    }
}

void acpi_build_slit(aml *t, const acpi_board *b)
{
    const acpi_numa *n = b->numa;

    acpi_header(t, "SLIT", 1);
    aml_le(t, n->nodes, 8);
    aml_put(t, n->distance, (size_t)n->nodes * n->nodes);
}
