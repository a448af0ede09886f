/*
 * pc-platform: ICH9-LPC (1f.0 on the q35 root bus), the ISA bridge holding the
 * ACPI PM block. See q35-host.c's manual for the registers; the ACPI
 * tables (acpi.c) describe exactly these ports.
 * The PM block itself is acpi-pm.c, shared with PIIX4_PM.
 */
#include <errno.h>
#include <string.h>

#include "pc-platform.h"
#include "pc-trace.h"

#define LPC_PMBASE 0x40
#define LPC_ACPI_CNTL 0x44
#define ACPI_CNTL_EN 0x80

typedef struct ich9_lpc {
    acpi_pm pm; /* acpi-pm.c; GPE0 at PMBASE + 0x20 */
} ich9_lpc;

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
    pm = H->region_new_io(dev, "ich9-pm", 0x80, &acpi_pm_ops, &l->pm);
    if (!pm) {
        H->error(dev, "cannot create the PM I/O region");
        return -ENOMEM;
    }
    H->region_add(H->system_io(), ICH9_PMBASE, pm, 0);
    H->dev_init_irqs(dev, 1);
    H->dev_init_irq_in(dev, acpi_pm_in, &l->pm, ACPI_PM_INPUTS);
    trace_ich9_lpc_pm_init(ICH9_PMBASE, 9);
    acpi_pm_reset(&l->pm); /* SCI_EN reads 1 from the start */
    return 0;
}

static void lpc_reset(tes_device *dev, void *s)
{
    ich9_lpc *l = s;

    trace_ich9_lpc_reset(ICH9_PMBASE);
    acpi_pm_reset(&l->pm);
}

static int lpc_post_load(tes_device *dev, void *s, uint32_t version)
{
    ich9_lpc *l = s;

    H->dev_set_irq(dev, 0, l->pm.sci);
    return 0;
}

static const tes_state_field lpc_fields[] = {
    ACPI_PM_FIELDS(ich9_lpc, pm),
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
