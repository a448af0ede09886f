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
 *                 (ECAM at 0xb0000000, 256 MiB, enabled; fixed). PAM0..PAM6
 *                 (0x90..0x96) as the i440FX's (pam.h); at reset as SeaBIOS
 *                 leaves them (0x10, then 0x33: 0xf0000 read-only RAM,
 *                 the rest read/write), since no firmware runs; where a
 *                 segment reads from the PCI side it reads all ones (q35
 *                 has no BIOS ROM there). SMRAM (0x9d, reset 0x02:
 *                 D_OPEN, D_CLS, D_LCK, G_SMRAME writable, C_BASE_SEG
 *                 010b) and ESMRAMC (0x9e, reset 0x38: H_SMRAME,
 *                 TSEG_SZ, T_EN writable) as QEMU's: setting D_LCK clears
 *                 D_OPEN and leaves only D_CLS writable, ESMRAMC read-only,
 *                 until reset. There is no SMM: the registers are stored,
 *                 0xa0000 and TSEG are not remapped.
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

#include "pam.h"
#include "pci-conf.h"
#include "q35.h"
#include "x86-trace.h"

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
#define MCH_PAM0 0x90
#define MCH_SMRAM 0x9d
#define MCH_ESMRAMC 0x9e
#define SMRAM_D_OPEN 0x40
#define SMRAM_D_CLS 0x20
#define SMRAM_D_LCK 0x10
#define SMRAM_G_SMRAME 0x08
#define SMRAM_C_BASE_SEG 0x02
#define SMRAM_WMASK (SMRAM_D_OPEN | SMRAM_D_CLS | SMRAM_D_LCK | SMRAM_G_SMRAME)
#define ESMRAMC_DEFAULT 0x38 /* SM_CACHE, SM_L1, SM_L2: read-only ones */
#define ESMRAMC_WMASK 0x87   /* H_SMRAME, TSEG_SZ, T_EN */

typedef struct mch {
    tes_device *dev;
    x86_pam pam;
} mch;

static void mch_pam_trace(unsigned seg, unsigned mode)
{
    trace_mch_pam_update(seg, mode);
}

/* D_LCK (QEMU's mch_update_smram): D_OPEN cleared, only D_CLS writable,
 * ESMRAMC read-only; also after a load, as wmask is not migrated. */
static void smram_update(mch *c)
{
    uint8_t *cfg = H->pci_config(c->dev), *wmask = H->pci_wmask(c->dev);
    bool lck = cfg[MCH_SMRAM] & SMRAM_D_LCK;

    if (lck) {
        cfg[MCH_SMRAM] &= (uint8_t)~SMRAM_D_OPEN;
    }
    wmask[MCH_SMRAM] = lck ? SMRAM_D_CLS : SMRAM_WMASK;
    wmask[MCH_ESMRAMC] = lck ? 0 : ESMRAMC_WMASK;
    trace_mch_smram_update(cfg[MCH_SMRAM], cfg[MCH_ESMRAMC]);
}

static bool overlaps(uint32_t off, unsigned len, uint32_t reg, unsigned n)
{
    return off < reg + n && off + len > reg;
}

static void mch_config_write(tes_device *dev, void *s, uint32_t off, uint32_t val, unsigned len)
{
    mch *c = s;

    H->pci_default_config_write(dev, off, val, len);
    if (overlaps(off, len, MCH_PAM0, X86_PAM_REGS)) {
        x86_pam_update(&c->pam);
    }
    if (overlaps(off, len, MCH_SMRAM, 1)) {
        smram_update(c);
    }
}

static void mch_reset(tes_device *dev, void *s)
{
    mch *c = s;
    uint8_t *cfg = H->pci_config(dev);

    cfg[MCH_SMRAM] = SMRAM_C_BASE_SEG;
    cfg[MCH_ESMRAMC] = ESMRAMC_DEFAULT;
    smram_update(c);
    x86_pam_shadow(&c->pam);
}

static int mch_realize(tes_device *dev, void *s)
{
    mch *c = s;
    uint8_t *cfg = H->pci_config(dev);
    uint64_t bar = Q35_ECAM_BASE | 1; /* PCIEXBAREN, LENGTH 0 = 256 MiB */
    int ret;

    for (unsigned i = 0; i < 8; i++) {
        cfg[MCH_PCIEXBAR + i] = (uint8_t)(bar >> (8 * i));
    }
    c->dev = dev;
    c->pam = (x86_pam){.host = H, .dev = dev, .reg = MCH_PAM0, .trace = mch_pam_trace};
    ret = x86_pam_init(&c->pam);
    if (ret) {
        return ret;
    }
    mch_reset(dev, s);
    return 0;
}

/* PAM, SMRAM and ESMRAMC migrate with config space, whose read-only bits
 * the core checks (reserved PAM bits, C_BASE_SEG, ESMRAMC's fixed ones);
 * D_LCK clears D_OPEN. Then the map and the lock follow them (wmask is
 * not migrated). */
static int mch_post_load(tes_device *dev, void *s, uint32_t version)
{
    mch *c = s;
    uint8_t smram = H->pci_config(dev)[MCH_SMRAM];

    if ((smram & SMRAM_D_LCK) && (smram & SMRAM_D_OPEN)) {
        H->error(dev, "mch: SMRAM 0x%02x has D_OPEN with D_LCK, which the guest cannot set",
                 smram);
        return -EINVAL;
    }
    smram_update(c);
    x86_pam_update(&c->pam);
    return 0;
}

static const tes_pci_info mch_pci = {
    .size = sizeof(tes_pci_info),
    .vendor_id = 0x8086,
    .device_id = 0x29c0,
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = 0x1100,
    .class_id = 0x0600,
    .config_write = mch_config_write,
};

static const tes_state_field no_fields[] = {TES_FIELD_END};
static const tes_state_info mch_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = no_fields,
    .post_load = mch_post_load,
};

const tes_type_info q35_mch_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "mch",
    .flags = TES_TYPE_NO_USER, /* created by its board or host bridge */
    .desc = "q35 host bridge function 00.0: PAM shadow RAM control, SMRAM (created by -M q35)",
    .bus = TES_BUS_PCI,
    .instance_size = sizeof(mch),
    .realize = mch_realize,
    .reset = mch_reset,
    .state = &mch_state,
    .class_info = &mch_pci,
};
