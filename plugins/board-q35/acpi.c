/*
 * board-q35: the q35 machine's ACPI tables, generated at start-up into the
 * 0xe0000..0xfffff area (e820 reserved), through the x86 boards' shared
 * writer (aml.c: RSDP, RSDT, XSDT, FADT, FACS, MADT).
 *
 * q35's part: the FADT's ICH9 PM block at 0x600 with SCI on IRQ 9 and
 * reset register 0xcf9; MCFG (ECAM at 0xb0000000, buses 0..255); DSDT:
 * \_SB.PCI0 (PNP0A08) with _CRS, a _PRT routing INTA..D of every slot
 * straight to GSIs 16..23 (q35.h q35_pci_gsi: no PIRQ link devices), an
 * _OSC that grants every control asked for, one \_SB.PCxx per PCI
 * expander bridge (aml-pxb.c), the LPC bridge \_SB.PCI0.SF8 with the
 * i8042's KBD (PNP0303) and MOU (PNP0F13), COM1, one ACPI0007 processor
 * device per CPU, \_S3 and \_S5.
 */
#include <stdlib.h>
#include <string.h>

#include "aml.h"
#include "q35.h"

/* ---- the DSDT body ---- */

/* What the main host bridge decodes, before expanders take their part. */
static aml_pci_host whole_host(const q35_acpi_cfg *cfg)
{
    return (aml_pci_host){
        .first_bus = 0, .last_bus = Q35_ECAM_BUSES - 1, .cf8 = true,
        .io_base = 0x0d00, .io_end = 0x10000,
        .mem32_base = Q35_PCI_MEM32_BASE, .mem32_end = Q35_PCI_MEM32_END,
        .mem64_base = cfg->mem64_base, .mem64_size = cfg->mem64_size,
    };
}

/* _PRT source Zero, index the GSI: GSI mode, which Linux treats as
 * level-triggered, active-low. */
static void prt_gsi(aml *a, unsigned slot, unsigned pin)
{
    aml_integer(a, 0);
    aml_integer(a, q35_pci_gsi(slot, pin));
}

/* Method(_OSC, 4) { Return (Arg3) }: the capabilities buffer comes back
 * unchanged, so CDW1 reports no error and CDW3 grants every control the OS
 * asked for (native PCIe hotplug, PME, AER, capability structure). */
static void pci0_osc(aml *a)
{
    size_t at;

    aml_u8(a, AML_METHOD);
    at = aml_open_pkg(a);
    aml_name(a, "_OSC");
    aml_u8(a, 4); /* 4 arguments, not serialized */
    aml_u8(a, AML_RETURN);
    aml_u8(a, AML_ARG3);
    aml_close_pkg(a, at);
}

/* Device(SF8), the ICH9 LPC bridge at 1f.0 (QEMU's name), holding the
 * i8042's keyboard and mouse (aml_dsdt_ps2). */
static void pci0_lpc(aml *a)
{
    size_t dev = aml_open_device(a, "SF8");

    aml_name_int(a, "_ADR", 0x001f0000);
    aml_dsdt_ps2(a);
    aml_close_pkg(a, dev);
}

static void dsdt_pci0(aml *a, const aml_pci_host *h)
{
    size_t dev = aml_open_device(a, "PCI0");

    aml_name_eisaid(a, "_HID", "PNP0A08");
    aml_name_eisaid(a, "_CID", "PNP0A03");
    aml_name_int(a, "_ADR", 0);
    aml_name_int(a, "_SEG", 0);
    aml_name_int(a, "_UID", 0);
    aml_name_int(a, "_BBN", 0);
    aml_pci_host_crs(a, h);
    aml_pci_prt(a, -1, prt_gsi);
    pci0_osc(a);
    pci0_lpc(a);
    aml_close_pkg(a, dev);
}

static void dsdt_body(aml *a, const void *opaque)
{
    const q35_acpi_cfg *cfg = opaque;
    aml_pci_host whole = whole_host(cfg);
    size_t sb;

    aml_u8(a, AML_SCOPE);
    sb = aml_open_pkg(a);
    aml_name(a, "\\_SB");
    /* pxb-pcie ports do native hot-plug too, so the expanders grant
     * control with the same _OSC. */
    aml_pci_hosts(a, &whole, cfg->pxbs, cfg->npxbs, dsdt_pci0, prt_gsi, pci0_osc);
    x86_dsdt_sb_end(a, sb, &cfg->devs, Q35_SLP_TYP_S3, Q35_SLP_TYP_S5);
}

/* ---- tables ---- */

static void build_mcfg(aml *t, const void *opaque)
{
    acpi_header(t, "MCFG", 1);
    aml_le(t, 0, 8);
    aml_le(t, Q35_ECAM_BASE, 8);
    aml_le(t, 0, 2);     /* segment */
    aml_u8(t, 0);
    aml_u8(t, Q35_ECAM_BUSES - 1);
    aml_le(t, 0, 4);
}


size_t q35_acpi_build(const q35_acpi_cfg *cfg, uint8_t *buf, uint64_t base, size_t len)
{
    acpi_board b = {
        .ncpus = cfg->devs.ncpus,
        .apic_id = cfg->devs.apic_id,
        .ioapic_base = Q35_IOAPIC_BASE,
        .lapic_base = Q35_LAPIC_BASE,
        .sci_irq = Q35_SCI_IRQ,
        .pm1_evt = Q35_PM1_EVT,
        .pm1_cnt = Q35_PM1_CNT,
        .pm_tmr = Q35_PM_TMR,
        .gpe0 = Q35_GPE0,
        .gpe0_len = Q35_GPE0_LEN,
        .reset_port = Q35_RESET_PORT,
        .reset_value = Q35_RESET_VALUE,
        .dsdt_body = dsdt_body,
        .extra_table = build_mcfg,
        .opaque = cfg,
        .dev_tables = cfg->dev_tables,
        .ndev_tables = cfg->ndev_tables,
        .numa = cfg->devs.numa,
        .cpuhp = cfg->devs.cpuhp,
    };

    return acpi_build(&b, buf, base, len);
}

const uint8_t *q35_acpi_table(const uint8_t *buf, uint64_t base, size_t len, unsigned i,
                              char sig[5], size_t *tlen)
{
    return acpi_table_find(buf, base, len, i, sig, tlen);
}
