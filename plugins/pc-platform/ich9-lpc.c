/*
 * pc-platform: ICH9-LPC (1f.0 on the q35 root bus), the ISA bridge holding the
 * ACPI PM block. See q35-host.c's manual for the registers; the ACPI
 * tables (acpi.c) describe exactly these ports.
 * The PM block itself is acpi-pm.c, shared with PIIX4_PM.
 */
#include <errno.h>
#include <string.h>

#include "pc-platform.h"

#define LPC_PMBASE 0x40
#define LPC_ACPI_CNTL 0x44
#define ACPI_CNTL_EN 0x80

typedef struct ich9_lpc {
    acpi_pm pm; /* acpi-pm.c; GPE0 at PMBASE + 0x20 */
} ich9_lpc;

/* The PM block's 0x80 ports (PMBASE 0x600); offsets within it. */
static uint64_t pm_read(void *opaque, uint64_t off, unsigned size)
{
    ich9_lpc *l = opaque;

    return acpi_pm_read(&l->pm, off, size);
}

static void pm_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    ich9_lpc *l = opaque;

    acpi_pm_write(&l->pm, off, val, size);
}

static const tes_mem_ops pm_ops = {
    .size = sizeof(tes_mem_ops),
    .read = pm_read,
    .write = pm_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 4,
    .impl_min = 1, .impl_max = 4,
};

/* Input 0: the fixed power button (system_powerdown); a rising edge
 * presses it. */
static void power_button(void *opaque, int n, int level)
{
    ich9_lpc *l = opaque;

    if (level) {
        acpi_pm_power_button(&l->pm);
    }
}

static int lpc_realize(tes_device *dev, void *s)
{
    ich9_lpc *l = s;
    uint8_t *cfg = H->pci_config(dev);
    tes_region *pm;

    l->pm = (acpi_pm){.dev = dev, .name = "ICH9-LPC", .s5_typ = ICH9_SLP_TYP_S5,
                      .gpe_off = 0x20, .gpe_half = 8};
    /* Fixed, read-only: the PM block does not move (QEMU: 0x600 too). */
    cfg[LPC_PMBASE] = (uint8_t)(ICH9_PMBASE | 1);
    cfg[LPC_PMBASE + 1] = (uint8_t)(ICH9_PMBASE >> 8);
    cfg[LPC_ACPI_CNTL] = ACPI_CNTL_EN; /* SCI_IRQ_SEL 0: IRQ 9 */
    pm = H->region_new_io(dev, "ich9-pm", 0x80, &pm_ops, l);
    if (!pm) {
        H->error(dev, "cannot create the PM I/O region");
        return -ENOMEM;
    }
    H->region_add(H->system_io(), ICH9_PMBASE, pm, 0);
    H->dev_init_irqs(dev, 1);
    H->dev_init_irq_in(dev, power_button, l, 1);
    acpi_pm_reset(&l->pm); /* SCI_EN reads 1 from the start */
    return 0;
}

static void lpc_reset(tes_device *dev, void *s)
{
    ich9_lpc *l = s;

    acpi_pm_reset(&l->pm);
}

static int lpc_post_load(tes_device *dev, void *s, uint32_t version)
{
    ich9_lpc *l = s;

    H->dev_set_irq(dev, 0, l->pm.sci);
    return 0;
}

/* The names of state version 1, before acpi-pm.c. */
#define PM_FIELD(f, k) {#f, k, offsetof(ich9_lpc, pm.f), 0, 0}
static const tes_state_field lpc_fields[] = {
    PM_FIELD(pm1_sts, TES_FIELD_U16),
    PM_FIELD(pm1_en, TES_FIELD_U16),
    PM_FIELD(pm1_cnt, TES_FIELD_U16),
    {"gpe_sts", TES_FIELD_BYTES, offsetof(ich9_lpc, pm.gpe_sts), 8, 0},
    {"gpe_en", TES_FIELD_BYTES, offsetof(ich9_lpc, pm.gpe_en), 8, 0},
    PM_FIELD(sci, TES_FIELD_U32),
    TES_FIELD_END,
};

static const tes_state_info lpc_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = lpc_fields,
    .post_load = lpc_post_load,
};

static const tes_pci_info lpc_pci = {
    .size = sizeof(tes_pci_info),
    .vendor_id = 0x8086,
    .device_id = 0x2918,
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = 0x1100,
    .revision = 2,
    .class_id = 0x0601,
};

const tes_type_info ich9_lpc_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "ICH9-LPC",
    .flags = TES_TYPE_NO_USER, /* created by its board or host bridge */
    .desc = "q35 LPC bridge 1f.0 with the ACPI PM block at 0x600 (created by -M q35)",
    .bus = TES_BUS_PCI,
    .instance_size = sizeof(ich9_lpc),
    .realize = lpc_realize,
    .reset = lpc_reset,
    .state = &lpc_state,
    .class_info = &lpc_pci,
};
