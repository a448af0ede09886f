/*
 * board-x86: PCI expander bridges (tessera/pxb.h) in the DSDT, shared by
 * q35 and pc. Each expander is one more PCI host bridge device, as QEMU's
 * acpi-build describes it: \_SB.PCxx (xx = bus_nr in hex) with _HID
 * PNP0A08 (pxb-pcie; _CID PNP0A03) or PNP0A03 (pxb), _BBN = bus_nr,
 * _UID = bus_nr, _PXM = numa_node when given, a _CRS with its bus range
 * and windows carved from the main host bridge's, and a _PRT.
 *
 * The carving (no firmware assigns BARs before Linux, so the windows are
 * fixed, not measured): expander k of n gets the k-th 32 MiB from the top
 * of the 32-bit window, the k-th 4 KiB of ports from the top of I/O space
 * and the k-th 1 GiB from the top of the 64-bit window; the main host
 * bridge keeps the rest and the buses below the first expander's.
 */
#include <stdlib.h>

#include "aml.h"

#define PXB_MEM32 (32ull << 20)
#define PXB_IO 0x1000u
#define PXB_MEM64 (1ull << 30)

void aml_pci_hosts_plan(const aml_pci_host *whole, const tes_pxb_info *x, unsigned n,
                        aml_pci_host *main_out, aml_pci_host *exp_out)
{
    *main_out = *whole;
    main_out->last_bus = n ? (unsigned)x[0].bus_nr - 1 : whole->last_bus;
    main_out->mem32_end = whole->mem32_end - n * PXB_MEM32;
    main_out->io_end = whole->io_end - n * PXB_IO;
    main_out->mem64_size = whole->mem64_size > 2 * n * PXB_MEM64
                               ? whole->mem64_size - n * PXB_MEM64 : whole->mem64_size;
    for (unsigned k = 0; k < n; k++) {
        aml_pci_host *e = &exp_out[k];

        *e = (aml_pci_host){.first_bus = x[k].bus_nr, .last_bus = x[k].last_bus};
        e->mem32_end = whole->mem32_end - k * PXB_MEM32;
        e->mem32_base = e->mem32_end - PXB_MEM32;
        e->io_end = whole->io_end - k * PXB_IO;
        e->io_base = e->io_end - PXB_IO;
        if (main_out->mem64_size != whole->mem64_size) {
            uint64_t top = whole->mem64_base + whole->mem64_size - k * PXB_MEM64;

            e->mem64_base = top - PXB_MEM64;
            e->mem64_size = PXB_MEM64;
        }
    }
}

/* Name(_CRS): bus range, the config ports for the main bridge, I/O,
 * 32-bit and 64-bit memory windows. */
void aml_pci_host_crs(aml *a, const aml_pci_host *h)
{
    aml r = {0};

    aml_res_addr(&r, 2, 2, 0, h->first_bus, h->last_bus);
    if (h->cf8) {
        aml_res_io(&r, 0xcf8, 8);
        aml_res_addr(&r, 2, 1, 3, 0x0000, 0x0cf7); /* I/O: _RNG entire */
    }
    if (h->io_end > h->io_base) {
        aml_res_addr(&r, 2, 1, 3, h->io_base, h->io_end - 1);
    }
    aml_res_addr(&r, 4, 0, 3, h->mem32_base, h->mem32_end - 1);
    if (h->mem64_size) {
        aml_res_addr(&r, 8, 0, 3, h->mem64_base, h->mem64_base + h->mem64_size - 1);
    }
    aml_res_end(&r);
    aml_name_buffer(a, "_CRS", &r);
    free(r.b);
}

/* Device(PCxx) without its _PRT (the board's routing) or _OSC. */
size_t aml_pxb_open(aml *a, const tes_pxb_info *x, const aml_pci_host *h)
{
    static const char hex[] = "0123456789ABCDEF";
    char name[5] = {'P', 'C', hex[x->bus_nr >> 4], hex[x->bus_nr & 15], 0};
    size_t dev = aml_open_device(a, name);

    aml_name_eisaid(a, "_HID", x->pcie ? "PNP0A08" : "PNP0A03");
    if (x->pcie) {
        aml_name_eisaid(a, "_CID", "PNP0A03");
    }
    aml_name_int(a, "_ADR", 0);
    aml_name_int(a, "_UID", x->bus_nr);
    aml_name_int(a, "_BBN", x->bus_nr);
    if (x->numa_node >= 0) {
        aml_name_int(a, "_PXM", (uint64_t)x->numa_node);
    }
    aml_pci_host_crs(a, h);
    return dev;
}

void aml_pci_prt(aml *a, int pxb_slot, aml_prt_source *source)
{
    size_t at, e;

    aml_u8(a, AML_NAME);
    aml_name(a, "_PRT");
    aml_u8(a, AML_PACKAGE);
    at = aml_open_pkg(a);
    aml_u8(a, 32 * 4);
    for (unsigned slot = 0; slot < 32; slot++) {
        for (unsigned pin = 0; pin < 4; pin++) {
            aml_u8(a, AML_PACKAGE);
            e = aml_open_pkg(a);
            aml_u8(a, 4);
            aml_integer(a, (uint64_t)slot << 16 | 0xffff);
            aml_integer(a, pin);
            if (pxb_slot < 0) {
                source(a, slot, pin);
            } else {
                source(a, (unsigned)pxb_slot, (pin + slot) % 4);
            }
            aml_close_pkg(a, e);
        }
    }
    aml_close_pkg(a, at);
}

void aml_pci_hosts(aml *a, const aml_pci_host *whole, const tes_pxb_info *pxbs, unsigned n,
                   void (*pci0)(aml *a, const aml_pci_host *h), aml_prt_source *source,
                   void (*pxb_extra)(aml *a))
{
    aml_pci_host main_h, exp_h[16];

    n = n < 16 ? n : 16;
    aml_pci_hosts_plan(whole, pxbs, n, &main_h, exp_h);
    pci0(a, &main_h);
    for (unsigned k = 0; k < n; k++) {
        size_t dev = aml_pxb_open(a, &pxbs[k], &exp_h[k]);

        aml_pci_prt(a, pxbs[k].devfn >> 3, source);
        if (pxb_extra) {
            pxb_extra(a);
        }
        aml_close_pkg(a, dev);
    }
}
