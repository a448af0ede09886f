/*
 * board-pc: the pc machine's ACPI tables, through the x86 boards' shared
 * writer (board-q35's aml.c: RSDP, RSDT, XSDT, FADT, FACS, MADT), into the
 * BIOS area at 0xe0000 (e820 reserved).
 *
 * pc's part: the FADT's PIIX4 PM block (0x600, GPE0 0xafe0, SCI on IRQ
 * 9, reset register 0xcf9 = 6); MADT overrides making IRQs 5, 10 and 11
 * (the PCI links') and 9 (the SCI) level, active high; and the DSDT:
 *
 *   \_SB.PCI0 (PNP0A03) with _CRS (bus 0..255, the I/O ranges, the 32-bit
 *     window from the end of low RAM to the IOAPIC, the 64-bit window) and
 *     a _PRT giving every slot S pin P the link LNK[A + (S + P - 1) % 4]
 *     (the PIIX3's swizzle, pc-platform piix.c);
 *   \_SB.PCI0.ISA (the PIIX3, 01.0): its PIRQ route control registers as
 *     the PCI_Config fields PRQ0..PRQ3 (0x60..0x63), the RTC (PNP0B00) and
 *     the i8042's keyboard (PNP0303) and mouse (PNP0F13) ports;
 *   \_SB.LNKA..LNKD (PNP0C0F): PCI interrupt links as QEMU's pc has them.
 *     _PRS offers IRQ 5, 10, 11 (level, active high, shared); _CRS reads
 *     the PIRQ register (IRQ 0 while bit 7 says not routed), _SRS writes
 *     the IRQ the OS chose, _DIS sets bit 7, _STA is 0x0b while routed and
 *     0x09 while not. So the guest's choice programs the real router: no
 *     fixed routing. The PIRQs start unrouted (no firmware to pick), and
 *     Linux assigns them through _SRS as it enables devices. As on QEMU's
 *     pc, slot 1 INTA# (the PIIX4 PM function's pin) is \_SB.LNKS instead:
 *     GSI 9, the SCI;
 *   COM1, one ACPI0007 processor device per CPU, and \_S5 = {0, 0}
 *     (PIIX4 SLP_TYP 0 is soft off).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aml.h"
#include "nvdimm-acpi.h"
#include "pc.h"

#define ISA_PATH "\\_SB.PCI0.ISA"
#define PCI_CONFIG_SPACE 0x02 /* OperationRegion space PCI_Config */
#define PIRQRC 0x60

static const uint8_t link_irqs[] = {5, 10, 11};

/* ---- small AML statements ---- */

/* Store(And(Arg0, mask, Zero) or Arg0 ...) helpers stay inline below; these
 * write one term each. */
static void term_field_path(aml *a, unsigned n)
{
    char path[32];

    snprintf(path, sizeof(path), ISA_PATH ".PRQ%u", n);
    aml_name(a, path);
}

static size_t open_if(aml *a)
{
    aml_u8(a, AML_IF);
    return aml_open_pkg(a);
}

/* Method(IQST, 1) { If (And(0x80, Arg0)) { Return (0x09) } Return (0x0b) } */
static void method_iqst(aml *a)
{
    size_t m = aml_open_method(a, "IQST", 1, false), i;

    i = open_if(a);
    aml_u8(a, AML_AND);
    aml_integer(a, 0x80);
    aml_u8(a, AML_ARG0);
    aml_u8(a, AML_ZERO); /* no target */
    aml_u8(a, AML_RETURN);
    aml_integer(a, 0x09);
    aml_close_pkg(a, i);
    aml_u8(a, AML_RETURN);
    aml_integer(a, 0x0b);
    aml_close_pkg(a, m);
}

/* Method(IQCR, 1, Serialized) { Name(PRR0, <one-IRQ template>)
 *   CreateDWordField(PRR0, 5, PRRI)
 *   If (LLess(Arg0, 0x80)) { Store(And(Arg0, 0x0f), PRRI) }
 *   Return (PRR0) } */
static void method_iqcr(aml *a)
{
    size_t m = aml_open_method(a, "IQCR", 1, true), i;
    static const uint8_t zero = 0;
    aml r = {0};

    aml_res_ext_irq(&r, &zero, 1);
    aml_res_end(&r);
    aml_name_buffer(a, "PRR0", &r);
    free(r.b);
    aml_u8(a, AML_CREATE_DWORD_FIELD);
    aml_name(a, "PRR0");
    aml_integer(a, 5);
    aml_name(a, "PRRI");
    i = open_if(a);
    aml_u8(a, AML_LLESS);
    aml_u8(a, AML_ARG0);
    aml_integer(a, 0x80);
    aml_u8(a, AML_STORE);
    aml_u8(a, AML_AND);
    aml_u8(a, AML_ARG0);
    aml_integer(a, 0x0f);
    aml_u8(a, AML_ZERO);
    aml_name(a, "PRRI");
    aml_close_pkg(a, i);
    aml_u8(a, AML_RETURN);
    aml_name(a, "PRR0");
    aml_close_pkg(a, m);
}

/* Device(LNKx): the PCI interrupt link of PIRQ n. */
static void dsdt_link(aml *a, unsigned n)
{
    char dname[5] = {'L', 'N', 'K', (char)('A' + n), 0};
    size_t dev = aml_open_device(a, dname), m;
    aml r = {0};

    aml_name_eisaid(a, "_HID", "PNP0C0F");
    aml_name_int(a, "_UID", n);
    aml_res_ext_irq(&r, link_irqs, sizeof(link_irqs));
    aml_res_end(&r);
    aml_name_buffer(a, "_PRS", &r);
    free(r.b);
    m = aml_open_method(a, "_STA", 0, false);
    aml_u8(a, AML_RETURN);
    aml_name(a, "IQST");
    term_field_path(a, n);
    aml_close_pkg(a, m);
    m = aml_open_method(a, "_DIS", 0, false);
    aml_u8(a, AML_OR); /* Or(PRQn, 0x80, PRQn) */
    term_field_path(a, n);
    aml_integer(a, 0x80);
    term_field_path(a, n);
    aml_close_pkg(a, m);
    m = aml_open_method(a, "_CRS", 0, false);
    aml_u8(a, AML_RETURN);
    aml_name(a, "IQCR");
    term_field_path(a, n);
    aml_close_pkg(a, m);
    m = aml_open_method(a, "_SRS", 1, false); /* the IRQ at byte 5 of Arg0 */
    aml_u8(a, AML_CREATE_DWORD_FIELD);
    aml_u8(a, AML_ARG0);
    aml_integer(a, 5);
    aml_name(a, "PRRI");
    aml_u8(a, AML_STORE);
    aml_name(a, "PRRI");
    term_field_path(a, n);
    aml_close_pkg(a, m);
    aml_close_pkg(a, dev);
}

/* Device(LNKS): the SCI as the PIIX4 PM function's INTA# (QEMU's pc):
 * GSI 9 always, nothing to program. */
static void dsdt_link_sci(aml *a)
{
    static const uint8_t sci = PC_SCI_IRQ;
    size_t dev = aml_open_device(a, "LNKS"), m;
    aml r = {0};

    aml_name_eisaid(a, "_HID", "PNP0C0F");
    aml_name_int(a, "_UID", 4);
    aml_name_int(a, "_STA", 0x0b);
    aml_res_ext_irq(&r, &sci, 1);
    aml_res_end(&r);
    aml_name_buffer(a, "_PRS", &r);
    aml_name_buffer(a, "_CRS", &r);
    free(r.b);
    m = aml_open_method(a, "_SRS", 1, false);
    aml_close_pkg(a, m);
    aml_close_pkg(a, dev);
}

/* ---- \_SB.PCI0 ---- */

/* What the i440FX decodes, before expanders take their part. */
static aml_pci_host whole_host(const pc_acpi_cfg *cfg)
{
    return (aml_pci_host){
        .first_bus = 0, .last_bus = 0xff, .cf8 = true,
        .io_base = 0x0d00, .io_end = 0x10000,
        .mem32_base = cfg->mem32_base, .mem32_end = PC_PCI_MEM32_END,
        .mem64_base = cfg->mem64_base, .mem64_size = cfg->mem64_size,
    };
}

/* _PRT source \_SB.LNKx (the slot's PIRQ link), index 0; the PIIX4 PM
 * function's INTA# is the SCI's LNKS. */
static void prt_link(aml *a, unsigned slot, unsigned pin)
{
    char link[12];

    snprintf(link, sizeof(link), "\\_SB.LNK%c", 'A' + (slot + pin + 3) % 4);
    if (slot == 1 && pin == 0) {
        snprintf(link, sizeof(link), "\\_SB.LNKS");
    }
    aml_name(a, link);
    aml_integer(a, 0);
}

/* Device(ISA) at 01.0: PRQ0..PRQ3 over PIRQRC, the RTC and the 8042's
 * keyboard and mouse. */
static void pci0_isa(aml *a)
{
    static const uint16_t rtc_port[] = {0x70};
    static const uint8_t rtc_len[] = {8};
    size_t dev = aml_open_device(a, "ISA"), f;

    aml_name_int(a, "_ADR", 0x00010000);
    aml_u8(a, AML_EXT);
    aml_u8(a, AML_EXT_OPREGION);
    aml_name(a, "P40C");
    aml_u8(a, PCI_CONFIG_SPACE);
    aml_integer(a, PIRQRC);
    aml_integer(a, 4);
    aml_u8(a, AML_EXT);
    aml_u8(a, AML_EXT_FIELD);
    f = aml_open_pkg(a);
    aml_name(a, "P40C");
    aml_u8(a, 0x01); /* ByteAcc, NoLock, Preserve */
    for (unsigned n = 0; n < 4; n++) {
        char seg[5] = {'P', 'R', 'Q', (char)('0' + n), 0};
        aml_put(a, seg, 4);
        aml_u8(a, 8); /* bits */
    }
    aml_close_pkg(a, f);
    aml_isa_device(a, "RTC", "PNP0B00", rtc_port, rtc_len, 1, 8);
    aml_dsdt_ps2(a);
    aml_close_pkg(a, dev);
}

static void dsdt_pci0(aml *a, const aml_pci_host *h)
{
    size_t dev = aml_open_device(a, "PCI0");

    aml_name_eisaid(a, "_HID", "PNP0A03");
    aml_name_int(a, "_ADR", 0);
    aml_name_int(a, "_UID", 0);
    aml_name_int(a, "_BBN", 0);
    aml_pci_host_crs(a, h);
    aml_pci_prt(a, -1, prt_link);
    pci0_isa(a);
    aml_close_pkg(a, dev);
}

static void dsdt_body(aml *a, const void *opaque)
{
    const pc_acpi_cfg *cfg = opaque;
    aml_pci_host whole = whole_host(cfg);
    size_t sb;

    aml_u8(a, AML_SCOPE);
    sb = aml_open_pkg(a);
    aml_name(a, "\\_SB");
    aml_pci_hosts(a, &whole, cfg->pxbs, cfg->npxbs, dsdt_pci0, prt_link, NULL);
    method_iqst(a);
    method_iqcr(a);
    for (unsigned n = 0; n < 4; n++) {
        dsdt_link(a, n);
    }
    dsdt_link_sci(a);
    x86_dsdt_sb_end(a, sb, &cfg->devs, PC_SLP_TYP_S3, PC_SLP_TYP_S5);
}

size_t pc_acpi_build(const pc_acpi_cfg *cfg, uint8_t *buf, uint64_t base, size_t len)
{
    aml nfit = {0};
    acpi_dev_table t = {.sig = "NFIT", .rev = 1};
    size_t ret;
    acpi_board b = {
        .ncpus = cfg->devs.ncpus,
        .apic_id = cfg->devs.apic_id,
        .ioapic_base = PC_IOAPIC_BASE,
        .lapic_base = PC_LAPIC_BASE,
        .sci_irq = PC_SCI_IRQ,
        .pm1_evt = PC_PM1_EVT,
        .pm1_cnt = PC_PM1_CNT,
        .pm_tmr = PC_PM_TMR,
        .gpe0 = PC_GPE0,
        .gpe0_len = PC_GPE0_LEN,
        .reset_port = PC_RESET_PORT,
        .reset_value = PC_RESET_VALUE,
        .level_irqs = PC_PIRQ_IRQS,
        .dsdt_body = dsdt_body,
        .opaque = cfg,
        .numa = cfg->devs.numa,
        .cpuhp = cfg->devs.cpuhp,
    };

    /* The NFIT when NVDIMMs are placed (a device table for the writer). */
    if (cfg->devs.nnvd) {
        if (!x86_nfit_body(cfg->devs.nvd, cfg->devs.nnvd, &nfit)) {
            free(nfit.b);
            return 0;
        }
        t.body = nfit.b;
        t.len = nfit.len;
        b.dev_tables = &t;
        b.ndev_tables = 1;
    }
    ret = acpi_build(&b, buf, base, len);
    free(nfit.b);
    return ret;
}
