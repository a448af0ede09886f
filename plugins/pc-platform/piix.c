/*
 * pc-platform: the PIIX functions of the `pc` machine's root bus (QEMU's
 * i440FX + PIIX3 layout, with QEMU's PIIX4 power management function).
 *
 * User manual (the pc machine creates both; they take no user options)
 *
 *   PIIX3      8086:7000 PCI-to-ISA bridge at 01.0 (multi-function). It
 *              takes over its root bus's INTx: a function at slot S
 *              pin P (0 = INTA#, after bridge swizzles) raises PIRQ
 *              (S + P - 1) & 3, as QEMU's pc_pci_slot_get_pirq. PIRQ route
 *              control registers 0x60..0x63 (PIRQRC[A:D], PIIX3 datasheet
 *              2.3.11): bit 7 IRQEN# (1 = not routed, the reset value
 *              0x80), bits 3:0 the ISA IRQ; IRQs 0, 1, 2, 8 and 13 are
 *              reserved and route nothing (logged as a guest error). The
 *              PIRQ inputs are active-low on PCI and drive the ISA IRQ
 *              high (level), OR-ed when several PIRQs share one IRQ.
 *              Outputs 0..15 are ISA IRQs 0..15 (the board wires them to
 *              the 8259 and the I/O APIC); inputs 0..3 are PIRQA..D. The
 *              ELCR (0x4d0) is the i8259 device's, the reset control
 *              register (0xcf9) the host bridge's; the other registers
 *              0x40..0xff read back what is written (their reset values
 *              as QEMU's).
 *   PIIX4_PM   8086:7113 power management function at 01.3. PMBA (0x40)
 *              reads 0x601 and PMREGMISC (0x80) 0x01: the PM block is at
 *              0x600 and enabled, as the firmware leaves it (fixed). The
 *              block (acpi-pm.c): PM1_STS/PM1_EN 0x600/0x602, PM1_CNT
 *              0x604 (SLP_EN with SLP_TYP 0 = soft off ends tessera with
 *              status 0), PM_TMR 0x608 (3.579545 MHz, 32 bits); GPE0 at
 *              0xafe0 (STS 2 bytes, EN 2 bytes, as QEMU's). Output 0 is
 *              the SCI (ISA IRQ 9, level, active high); input 0 the power
 *              button. No SMBus (SMBHSTCFG reads 0: disabled).
 */
#include <errno.h>

#include "pc-platform.h"

#define PIIX_PIRQRC 0x60
#define PIIX_NUM_PIRQS 4
#define PIRQ_DISABLED 0x80
#define ISA_IRQS 16
/* PIIX3 2.3.11: IRQ 0, 1, 2, 8 and 13 are reserved as PIRQ targets. */
#define PIRQ_VALID_IRQS 0xdef8u

typedef struct piix3 {
    tes_device *dev;
    uint8_t pirq_level; /* PIRQA..D asserted (bit n) */
    uint16_t isa_out;   /* ISA IRQs driven high through PIRQs */
} piix3;

/* ISA IRQ of PIRQ n, or -1 when it routes nothing. */
static int pirq_target(piix3 *p, unsigned n)
{
    uint8_t rc = H->pci_config(p->dev)[PIIX_PIRQRC + n];

    if ((rc & PIRQ_DISABLED) || !(PIRQ_VALID_IRQS >> (rc & 0xf) & 1)) {
        return -1;
    }
    return rc & 0xf;
}

/* Recompute every ISA IRQ the PIRQs drive; move only the lines that
 * changed (an IRQ no PIRQ drives any more goes low once). */
static void piix3_update(piix3 *p)
{
    uint16_t out = 0, diff;

    for (unsigned n = 0; n < PIIX_NUM_PIRQS; n++) {
        int irq = pirq_target(p, n);
        if (irq >= 0 && (p->pirq_level >> n & 1)) {
            out |= (uint16_t)(1u << irq);
        }
    }
    diff = out ^ p->isa_out;
    p->isa_out = out;
    for (unsigned irq = 0; irq < ISA_IRQS; irq++) {
        if (diff >> irq & 1) {
            H->dev_set_irq(p->dev, irq, out >> irq & 1);
        }
    }
}

static void pirq_in(void *opaque, int n, int level)
{
    piix3 *p = opaque;
    uint8_t bit = (uint8_t)(1u << (n & 3));

    p->pirq_level = level ? p->pirq_level | bit : p->pirq_level & (uint8_t)~bit;
    piix3_update(p);
}

/* QEMU's pc_pci_slot_get_pirq: slot 1 (this bridge) INTA# is PIRQA. */
static int pirq_map(void *opaque, uint8_t devfn, int pin)
{
    return ((devfn >> 3) + pin - 1) & 3;
}

static void piix3_config_write(tes_device *dev, void *s, uint32_t off, uint32_t val,
                               unsigned len)
{
    piix3 *p = s;

    H->pci_default_config_write(dev, off, val, len);
    if (off < PIIX_PIRQRC + PIIX_NUM_PIRQS && off + len > PIIX_PIRQRC) {
        for (unsigned n = 0; n < PIIX_NUM_PIRQS; n++) {
            uint8_t rc = H->pci_config(dev)[PIIX_PIRQRC + n];
            if (!(rc & PIRQ_DISABLED) && pirq_target(p, n) < 0) {
                H->log(TES_LOG_GUEST_ERROR, "PIIX3: PIRQ%c routed to reserved IRQ %u: ignored",
                       'A' + n, rc & 0xf);
            }
        }
        piix3_update(p);
    }
}

/* Reset values of the device-specific registers (PIIX3 datasheet 2.2,
 * as QEMU's piix3 reset): offset, value. */
static const uint8_t piix3_defaults[][2] = {
    {0x4c, 0x4d}, {0x4e, 0x03}, {0x60, 0x80}, {0x61, 0x80}, {0x62, 0x80}, {0x63, 0x80},
    {0x69, 0x02}, {0x70, 0x80}, {0x76, 0x0c}, {0x77, 0x0c}, {0x78, 0x02}, {0xa0, 0x08},
    {0xa8, 0x0f},
};

static void piix3_reset(tes_device *dev, void *s)
{
    piix3 *p = s;
    uint8_t *cfg = H->pci_config(dev);

    for (unsigned i = 0; i < sizeof(piix3_defaults) / sizeof(piix3_defaults[0]); i++) {
        cfg[piix3_defaults[i][0]] = piix3_defaults[i][1];
    }
    p->pirq_level = 0;
    piix3_update(p);
}

static int piix3_realize(tes_device *dev, void *s)
{
    piix3 *p = s;
    uint8_t *wmask = H->pci_wmask(dev);
    tes_irq *pirqs[PIIX_NUM_PIRQS];

    p->dev = dev;
    memset(wmask + 0x40, 0xff, 0xc0);
    memset(wmask + PIIX_PIRQRC, PIRQ_DISABLED | 0xf, PIIX_NUM_PIRQS);
    H->dev_init_irqs(dev, ISA_IRQS);
    H->dev_init_irq_in(dev, pirq_in, p, PIIX_NUM_PIRQS);
    for (unsigned n = 0; n < PIIX_NUM_PIRQS; n++) {
        pirqs[n] = H->dev_irq_in(dev, n);
    }
    H->pci_bus_set_irqs(H->dev_bus(dev), pirq_map, p, pirqs, PIIX_NUM_PIRQS);
    piix3_reset(dev, s);
    return 0;
}

/* The PIRQRC registers migrate with config space; drive again the lines
 * the source drove (never lower one: an ISA device may share it). */
static int piix3_post_load(tes_device *dev, void *s, uint32_t version)
{
    piix3 *p = s;

    for (unsigned irq = 0; irq < ISA_IRQS; irq++) {
        if (p->isa_out >> irq & 1) {
            H->dev_set_irq(dev, irq, 1);
        }
    }
    return 0;
}

static const tes_state_field piix3_fields[] = {
    TES_FIELD_U8(piix3, pirq_level),
    TES_FIELD_U16(piix3, isa_out),
    TES_FIELD_END,
};

static const tes_state_info piix3_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = piix3_fields,
    .post_load = piix3_post_load,
};

static const tes_pci_info piix3_pci = {
    .size = sizeof(tes_pci_info),
    .vendor_id = 0x8086,
    .device_id = 0x7000,
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = 0x1100,
    .class_id = 0x0601,
    .config_write = piix3_config_write,
};

const tes_type_info piix3_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "PIIX3",
    .flags = TES_TYPE_NO_USER, /* created by its board */
    .desc = "PIIX3 PCI-to-ISA bridge 01.0: PIRQ routing to ISA IRQs (created by -M pc)",
    .bus = TES_BUS_PCI,
    .instance_size = sizeof(piix3),
    .realize = piix3_realize,
    .reset = piix3_reset,
    .state = &piix3_state,
    .class_info = &piix3_pci,
};

/* ---- PIIX4_PM (01.3) ---- */

#define PM_PMBA 0x40
#define PM_PMREGMISC 0x80
#define PM_PMIOSE 0x01
#define PM_BLOCK_LEN 0x40

typedef struct piix4_pm {
    acpi_pm pm; /* acpi-pm.c; GPE0 a region of its own at 0xafe0 */
} piix4_pm;

static uint64_t gpe_read(void *opaque, uint64_t off, unsigned size)
{
    piix4_pm *p = opaque;
    uint64_t v = 0;

    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)acpi_pm_gpe_read(&p->pm, off + i) << (8 * i);
    }
    return v;
}

static void gpe_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    piix4_pm *p = opaque;

    for (unsigned i = 0; i < size; i++) {
        acpi_pm_gpe_write(&p->pm, off + i, (uint8_t)(val >> (8 * i)));
    }
    acpi_pm_update_sci(&p->pm);
}

static const tes_mem_ops gpe_ops = {
    .size = sizeof(tes_mem_ops),
    .read = gpe_read,
    .write = gpe_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 4,
    .impl_min = 1, .impl_max = 4,
};

static int pm_realize(tes_device *dev, void *s)
{
    piix4_pm *p = s;
    uint8_t *cfg = H->pci_config(dev);
    tes_region *pm, *gpe;

    p->pm = (acpi_pm){.dev = dev, .name = "PIIX4_PM", .s5_typ = PIIX4_SLP_TYP_S5,
                      .gpe_half = PIIX4_GPE0_LEN / 2};
    /* Fixed, read-only: the PM block does not move (as the firmware
     * leaves it under QEMU; the FADT says where it is). */
    cfg[PM_PMBA] = (uint8_t)(PIIX4_PMBASE | 1);
    cfg[PM_PMBA + 1] = (uint8_t)(PIIX4_PMBASE >> 8);
    cfg[PM_PMREGMISC] = PM_PMIOSE;
    pm = H->region_new_io(dev, "piix4-pm", PM_BLOCK_LEN, &acpi_pm_ops, &p->pm);
    gpe = H->region_new_io(dev, "piix4-gpe0", PIIX4_GPE0_LEN, &gpe_ops, p);
    if (!pm || !gpe) {
        H->error(dev, "cannot create the PM I/O regions");
        return -ENOMEM;
    }
    H->region_add(H->system_io(), PIIX4_PMBASE, pm, 0);
    H->region_add(H->system_io(), PIIX4_GPE0, gpe, 0);
    H->dev_init_irqs(dev, 1);
    H->dev_init_irq_in(dev, acpi_pm_in, &p->pm, ACPI_PM_INPUTS);
    acpi_pm_reset(&p->pm); /* SCI_EN reads 1 from the start */
    return 0;
}

static void pm_reset(tes_device *dev, void *s)
{
    acpi_pm_reset(&((piix4_pm *)s)->pm);
}

static int pm_post_load(tes_device *dev, void *s, uint32_t version)
{
    H->dev_set_irq(dev, 0, ((piix4_pm *)s)->pm.sci);
    return 0;
}

static const tes_state_field pm_fields[] = {
    ACPI_PM_FIELDS(piix4_pm, pm),
    TES_FIELD_END,
};

static const tes_state_info pm_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = pm_fields,
    .post_load = pm_post_load,
};

static const tes_pci_info pm_pci = {
    .size = sizeof(tes_pci_info),
    .vendor_id = 0x8086,
    .device_id = 0x7113,
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = 0x1100,
    .revision = 3,
    .class_id = 0x0680,
    .irq_pin = 1, /* INTA#, never raised: the SCI is output 0 (QEMU's too) */
};

const tes_type_info piix4_pm_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "PIIX4_PM",
    .flags = TES_TYPE_NO_USER, /* created by its board */
    .desc = "PIIX4 power management 01.3: ACPI PM block at 0x600, SCI (created by -M pc)",
    .bus = TES_BUS_PCI,
    .instance_size = sizeof(piix4_pm),
    .realize = pm_realize,
    .reset = pm_reset,
    .state = &pm_state,
    .class_info = &pm_pci,
};
