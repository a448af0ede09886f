/*
 * The x86 boards' NVDIMMs (-machine q35|pc,nvdimm=on, -device nvdimm):
 * the ACPI NFIT and the NVDIMM root device of the DSDT (placement in
 * device memory: devmem.c x86_board_memdevs).
 *
 * NFIT (ACPI 6.4, 5.2.25), per module i (handle i + 1, as QEMU numbers
 * them from slot 0): an SPA range structure (persistent memory GUID,
 * write-back + non-volatile attributes), a memory device to SPA range map
 * (one way, whole module) and an NVDIMM control region (QEMU's Intel
 * vendor/device ids, format interface code 0x0301, byte-addressable).
 * DSDT: \_SB.NVDR (ACPI0012) with one NVnn child per module (_ADR: its
 * handle). Their _DSM answers every UUID and function with Buffer{0}:
 * "no function supported" (function 0's bit 0 clear), so Linux's nfit
 * driver asks nothing further: no label area, no health, no ARS, and it
 * creates one label-less pmem namespace per module. QEMU serves more
 * (labels through an I/O port + buffer); this subset is what binds.
 */
#include <stdio.h>
#include <string.h>

#include "aml.h"
#include "nvdimm-acpi.h"

/* ---- NFIT ---- */

/* 66F0D379-B4F3-4074-AC43-0D3318B78CDB, persistent memory, as stored */
static const uint8_t pmem_guid[16] = {
    0x79, 0xd3, 0xf0, 0x66, 0xf3, 0xb4, 0x74, 0x40,
    0xac, 0x43, 0x0d, 0x33, 0x18, 0xb7, 0x8c, 0xdb,
};

static void nfit_spa(aml *t, unsigned idx, const x86_nvdimm *n)
{
    aml_le(t, 0, 2);          /* type: SPA range */
    aml_le(t, 56, 2);
    aml_le(t, idx, 2);        /* SPA range structure index */
    aml_le(t, 0, 2);          /* flags: no proximity domain */
    aml_le(t, 0, 4);
    aml_le(t, 0, 4);          /* proximity domain */
    aml_put(t, pmem_guid, 16);
    aml_le(t, n->addr, 8);
    aml_le(t, n->size, 8);
    aml_le(t, 0x8 | 0x8000, 8); /* EFI_MEMORY_WB | EFI_MEMORY_NV */
}

static void nfit_memdev(aml *t, unsigned idx, const x86_nvdimm *n)
{
    aml_le(t, 1, 2);          /* type: memory device to SPA range map */
    aml_le(t, 48, 2);
    aml_le(t, idx, 4);        /* NFIT device handle */
    aml_le(t, idx, 2);        /* physical id */
    aml_le(t, 0, 2);          /* region id */
    aml_le(t, idx, 2);        /* SPA range structure index */
    aml_le(t, idx, 2);        /* control region index */
    aml_le(t, n->size, 8);    /* region size */
    aml_le(t, 0, 8);          /* region offset */
    aml_le(t, 0, 8);          /* region DPA */
    aml_le(t, 0, 2);          /* interleave structure index: none */
    aml_le(t, 1, 2);          /* interleave ways */
    aml_le(t, 0, 2);          /* state flags: all well */
    aml_le(t, 0, 2);
}

static void nfit_dcr(aml *t, unsigned idx)
{
    aml_le(t, 4, 2);          /* type: NVDIMM control region */
    aml_le(t, 80, 2);
    aml_le(t, idx, 2);        /* control region index */
    aml_le(t, 0x8086, 2);     /* vendor, device, revision: QEMU's */
    aml_le(t, 0x0001, 2);
    aml_le(t, 0x0001, 2);
    aml_le(t, 0, 2);          /* subsystem vendor, device, revision */
    aml_le(t, 0, 2);
    aml_le(t, 0, 2);
    aml_u8(t, 0);             /* valid fields */
    aml_u8(t, 0);             /* manufacturing location */
    aml_le(t, 0, 2);          /* manufacturing date */
    aml_le(t, 0, 2);
    aml_le(t, 0x123456 + idx, 4); /* serial number (QEMU's + handle) */
    aml_le(t, 0x0301, 2);     /* format interface code: byte addressable */
    aml_le(t, 0, 2);          /* no block control windows */
    for (unsigned i = 0; i < 5; i++) {
        aml_le(t, 0, 8);      /* window size, command/status registers */
    }
    aml_le(t, 0, 2);          /* flags */
    aml_le(t, 0, 6);
}

bool x86_nfit_body(const x86_nvdimm *nvd, unsigned n, aml *t)
{
    aml_le(t, 0, 4); /* reserved */
    for (unsigned i = 0; i < n; i++) {
        nfit_spa(t, i + 1, &nvd[i]);
        nfit_memdev(t, i + 1, &nvd[i]);
        nfit_dcr(t, i + 1);
    }
    return !t->oom;
}

/* ---- DSDT ---- */

/* Method(_DSM, 4) { Return (Buffer(One) { 0 }) }: nothing supported. */
static void dsm_none(aml *a)
{
    size_t m = aml_open_method(a, "_DSM", 4, false);
    size_t at;

    aml_u8(a, AML_RETURN);
    aml_u8(a, AML_BUFFER);
    at = aml_open_pkg(a);
    aml_integer(a, 1);
    aml_u8(a, 0);
    aml_close_pkg(a, at);
    aml_close_pkg(a, m);
}

void x86_dsdt_nvdimm(aml *a, unsigned n)
{
    size_t root;

    root = aml_open_device(a, "NVDR");
    aml_u8(a, AML_NAME);
    aml_name(a, "_HID");
    aml_string(a, "ACPI0012");
    dsm_none(a);
    for (unsigned i = 0; i < n; i++) {
        char name[5];
        size_t dev;

        snprintf(name, sizeof(name), "NV%02X", i & 0xff);
        dev = aml_open_device(a, name);
        aml_name_int(a, "_ADR", i + 1);
        dsm_none(a);
        aml_close_pkg(a, dev);
    }
    aml_close_pkg(a, root);
}
