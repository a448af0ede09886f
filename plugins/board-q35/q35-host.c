/*
 * board-q35: the q35 PCIe host bridge and the two functions of the chipset
 * on its root bus: the MCH (00.0) and the ICH9 LPC bridge (1f.0), which
 * carries the ACPI PM block and the reset control register.
 *
 * User manual (the q35 machine creates all three; they are listed by
 * -device help but take no user options)
 *
 *   q35-pcihost   root bus "pcie.0"; config cycles through 0xcf8/0xcfc
 *                 (CONFIG_ADDRESS with the enable bit 31, byte/word/dword
 *                 data at 0xcfc..0xcff) and through ECAM (q35_pcihost_ecam,
 *                 256 buses: offset bus << 20 | devfn << 12 | register).
 *                 Memory BARs map into x86_pci_host_mem at their bus
 *                 address (the machine maps windows of it 1:1); I/O BARs
 *                 into the system I/O space. INTx: a function at slot S
 *                 pin P (after bridge swizzles) drives output
 *                 (S + P) % 8, which the machine wires to IOAPIC pins
 *                 16..23 (q35.h, q35_pci_gsi).
 *   mch           8086:29c0 host bridge; PCIEXBAR (0x60) reads 0xb0000001
 *                 (ECAM at 0xb0000000, 256 MiB, enabled; fixed).
 *   ICH9-LPC      8086:2918 ISA bridge; PMBASE (0x40) reads 0x601 and
 *                 ACPI_CNTL (0x44) 0x80 (ACPI enabled, SCI on IRQ 9), both
 *                 fixed. PM block at 0x600 (ICH9 datasheet 13.8.3):
 *                 PM1_STS/PM1_EN (0x600/0x602; TMR, PWRBTN), PM1_CNT
 *                 (0x604; SCI_EN always set, SLP_EN with SLP_TYP 5 = S5
 *                 ends tessera with status 0), PM1_TMR (0x608, 32 bits at
 *                 3.579545 MHz from the virtual clock), GPE0_STS/EN
 *                 (0x620/0x628, 8 bytes each), SMI_EN/SMI_STS (0x630/0x634)
 *                 and the TCO watchdog (0x660..0x67f); RCBA (0xf0) reads
 *                 0xfed1c001 (the RCRB with GCS.NO_REBOOT, fixed). Output
 *                 0 is the SCI (level, active high), output 1 SMI#.
 *                 Property noreboot (-global ICH9-LPC.noreboot=true).
 *                 RST_CNT at 0xcf9: setting RST_CPU (bit 2) resets the
 *                 machine.
 */
#include <errno.h>
#include <string.h>

#include "pci-conf.h"
#include "q35.h"

/* ---- the host bridge ---- */

typedef struct q35_host {
    /* First: pci-conf.h's x86_pci_host_* take the state as it. */
    x86_pci_conf conf; /* 0xcf8/0xcfc and RST_CNT (pci-conf.c) */
    tes_device *dev;
    tes_region *ecam;
    tes_device *lpc;
    tes_irq *intx[Q35_PCI_GSIS];
} q35_host;

static void intx_in(void *opaque, int n, int level)
{
    q35_host *h = opaque;

    H->dev_set_irq(h->dev, (unsigned)n, level);
}

static int map_irq(void *opaque, uint8_t devfn, int pin)
{
    return (int)(q35_pci_gsi(devfn >> 3, (unsigned)pin) - Q35_PCI_GSI_BASE);
}

static int host_realize(tes_device *dev, void *s)
{
    q35_host *h = s;
    int ret;

    h->dev = dev;
    h->conf = (x86_pci_conf){.host = H, .name = "q35"};
    ret = x86_pci_conf_root(&h->conf, dev, "pcie-mem", "pcie.0");
    if (ret) {
        return ret;
    }
    h->ecam = H->pci_ecam_new(dev, h->conf.bus, (uint64_t)Q35_ECAM_BUSES << 20);
    if (!h->ecam) {
        H->error(dev, "cannot create the ECAM region");
        return -ENOMEM;
    }
    H->dev_init_irqs(dev, Q35_PCI_GSIS);
    for (unsigned i = 0; i < Q35_PCI_GSIS; i++) {
        h->intx[i] = H->irq_new(intx_in, h, (int)i);
    }
    H->pci_bus_set_irqs(h->conf.bus, map_irq, h, h->intx, Q35_PCI_GSIS);
    if (!H->dev_create(dev, h->conf.bus, "mch", "addr=00.0") ||
        !(h->lpc = H->dev_create(dev, h->conf.bus, "ICH9-LPC", "addr=1f.0"))) {
        return -ENODEV;
    }
    return 0;
}

tes_region *q35_pcihost_ecam(tes_device *dev)
{
    return ((q35_host *)H->dev_state(dev))->ecam;
}

tes_device *q35_pcihost_lpc(tes_device *dev)
{
    return ((q35_host *)H->dev_state(dev))->lpc;
}

const tes_type_info q35_pcihost_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "q35-pcihost",
    .flags = TES_TYPE_NO_USER, /* created by its board or host bridge */
    .desc = "q35 PCIe host bridge: pcie.0, 0xcf8/0xcfc, ECAM (created by -M q35)",
    .bus = TES_BUS_SYSTEM,
    .instance_size = sizeof(q35_host),
    .realize = host_realize,
    .reset = x86_pci_host_reset,
    .state = &x86_pci_host_state,
};

/* ---- MCH (00.0) ---- */

#define MCH_PCIEXBAR 0x60

static int mch_realize(tes_device *dev, void *s)
{
    uint8_t *cfg = H->pci_config(dev);
    uint64_t bar = Q35_ECAM_BASE | 1; /* PCIEXBAREN, LENGTH 0 = 256 MiB */

    for (unsigned i = 0; i < 8; i++) {
        cfg[MCH_PCIEXBAR + i] = (uint8_t)(bar >> (8 * i));
    }
    return 0;
}

static const tes_pci_info mch_pci = {
    .size = sizeof(tes_pci_info),
    .vendor_id = 0x8086,
    .device_id = 0x29c0,
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = 0x1100,
    .class_id = 0x0600,
};

static const tes_state_field no_fields[] = {TES_FIELD_END};
static const tes_state_info no_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = no_fields,
};

const tes_type_info q35_mch_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "mch",
    .flags = TES_TYPE_NO_USER, /* created by its board or host bridge */
    .desc = "q35 host bridge function 00.0 (created by -M q35)",
    .bus = TES_BUS_PCI,
    .instance_size = sizeof(int),
    .realize = mch_realize,
    .state = &no_state,
    .class_info = &mch_pci,
};
