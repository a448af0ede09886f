/*
 * pc-platform: ICH9-LPC (1f.0 on the q35 root bus), the ISA bridge holding the
 * ACPI PM block and the TCO watchdog. See q35-host.c's manual for the
 * registers; the ACPI tables (acpi.c) describe exactly these ports.
 * The PM block itself is acpi-pm.c, shared with PIIX4_PM; the TCO
 * watchdog, SMI_EN/SMI_STS and the chipset configuration registers' GCS
 * are ich9-tco.c.
 *
 * Property (QEMU's; set it with -global ICH9-LPC.noreboot=on)
 *   noreboot=on|off   the "no reboot" strap (default off, QEMU 7.2 on):
 *                     GCS.NO_REBOOT reads 1 after reset and the TCO
 *                     watchdog's second expiry never acts
 *
 * PM I/O space at PMBASE (0x600, 128 bytes): PM1/PM_TMR/GPE0 (acpi-pm.c),
 * SMI_EN 0x630, SMI_STS 0x634, the TCO block 0x660..0x67f. RCBA (config
 * 0xf0) reads 0xfed1c001 (the 16 KiB RCRB at 0xfed1c000, enabled, as the
 * firmware leaves it; fixed); only its GCS (0x3410) is implemented.
 * Outputs: 0 the SCI, 1 SMI# (pulsed).
 */
#include <errno.h>
#include <string.h>

#include "pc-platform.h"
#include "pc-trace.h"

#define LPC_PMBASE 0x40
#define LPC_ACPI_CNTL 0x44
#define ACPI_CNTL_EN 0x80
#define LPC_RCBA 0xf0
#define RCBA_EN 0x1

typedef struct ich9_lpc {
    acpi_pm pm;   /* acpi-pm.c; GPE0 at PMBASE + 0x20 */
    ich9_tco tco; /* ich9-tco.c: TCO, SMI_EN/SMI_STS, GCS */
} ich9_lpc;

static bool in_range(uint64_t off, unsigned size, uint64_t base, uint64_t len)
{
    return off >= base && off + size <= base + len;
}

static bool crosses(uint64_t off, unsigned size, uint64_t base, uint64_t len)
{
    return off < base + len && off + size > base && !in_range(off, size, base, len);
}

/* The PM I/O space: SMI_EN/SMI_STS and the TCO block are ich9-tco.c's,
 * the rest acpi-pm.c's (with its ich9_pm_io_* trace points). An access
 * straddling two of them goes byte by byte. */
static uint64_t lpc_pm_read(void *opaque, uint64_t off, unsigned size)
{
    ich9_lpc *l = opaque;
    uint64_t v = 0;

    if (crosses(off, size, ICH9_PMIO_SMI, ICH9_PMIO_SMI_LEN) ||
        crosses(off, size, ICH9_PMIO_TCO, ICH9_PMIO_TCO_LEN)) {
        for (unsigned i = 0; i < size; i++) {
            v |= (lpc_pm_read(l, off + i, 1) & 0xff) << (8 * i);
        }
        return v;
    }
    if (in_range(off, size, ICH9_PMIO_TCO, ICH9_PMIO_TCO_LEN)) {
        return ich9_tco_read(&l->tco, off - ICH9_PMIO_TCO, size);
    }
    if (in_range(off, size, ICH9_PMIO_SMI, ICH9_PMIO_SMI_LEN)) {
        v = ich9_smi_read(&l->tco, off - ICH9_PMIO_SMI, size);
        trace_ich9_pm_io_read(off, size, v);
        return v;
    }
    return acpi_pm_ops.read(&l->pm, off, size);
}

static void lpc_pm_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    ich9_lpc *l = opaque;

    if (crosses(off, size, ICH9_PMIO_SMI, ICH9_PMIO_SMI_LEN) ||
        crosses(off, size, ICH9_PMIO_TCO, ICH9_PMIO_TCO_LEN)) {
        for (unsigned i = 0; i < size; i++) {
            lpc_pm_write(l, off + i, (val >> (8 * i)) & 0xff, 1);
        }
    } else if (in_range(off, size, ICH9_PMIO_TCO, ICH9_PMIO_TCO_LEN)) {
        ich9_tco_write(&l->tco, off - ICH9_PMIO_TCO, val, size);
    } else if (in_range(off, size, ICH9_PMIO_SMI, ICH9_PMIO_SMI_LEN)) {
        trace_ich9_pm_io_write(off, size, val);
        ich9_smi_write(&l->tco, off - ICH9_PMIO_SMI, val, size);
    } else {
        acpi_pm_ops.write(&l->pm, off, val, size);
    }
}

static const tes_mem_ops lpc_pm_ops = {
    .size = sizeof(tes_mem_ops),
    .read = lpc_pm_read,
    .write = lpc_pm_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 4,
    .impl_min = 1, .impl_max = 4,
};

static int lpc_realize(tes_device *dev, void *s)
{
    ich9_lpc *l = s;
    uint8_t *cfg = H->pci_config(dev);
    tes_region *pm, *rcrb;

    l->pm = (acpi_pm){.dev = dev, .name = "ICH9-LPC", .s5_typ = ICH9_SLP_TYP_S5,
                      .gpe_off = 0x20, .gpe_half = 8};
    /* Fixed, read-only: the PM block does not move (QEMU: 0x600 too). */
    cfg[LPC_PMBASE] = (uint8_t)(ICH9_PMBASE | 1);
    cfg[LPC_PMBASE + 1] = (uint8_t)(ICH9_PMBASE >> 8);
    cfg[LPC_ACPI_CNTL] = ACPI_CNTL_EN; /* SCI_IRQ_SEL 0: IRQ 9 */
    /* Fixed, read-only, where QEMU's firmware puts it and enabled: Linux's
     * lpc_ich refuses the watchdog while RCBA_EN is clear. */
    for (unsigned i = 0; i < 4; i++) {
        cfg[LPC_RCBA + i] = (uint8_t)((ICH9_RCBA | RCBA_EN) >> (8 * i));
    }
    pm = H->region_new_io(dev, "ich9-pm", 0x80, &lpc_pm_ops, l);
    rcrb = H->region_new_io(dev, "lpc-rcrb-mmio", ICH9_RCRB_SIZE, &ich9_rcrb_ops, &l->tco);
    if (!pm || !rcrb || !ich9_tco_init(&l->tco, dev)) {
        H->error(dev, "cannot create the PM I/O and RCRB regions and the TCO timer");
        return -ENOMEM;
    }
    H->region_add(H->system_io(), ICH9_PMBASE, pm, 0);
    H->region_add(H->system_memory(), ICH9_RCBA, rcrb, 1);
    H->dev_init_irqs(dev, 2);
    H->dev_init_irq_in(dev, acpi_pm_in, &l->pm, ACPI_PM_INPUTS);
    trace_ich9_lpc_pm_init(ICH9_PMBASE, 9);
    acpi_pm_reset(&l->pm); /* SCI_EN reads 1 from the start */
    ich9_tco_reset(&l->tco);
    return 0;
}

static void lpc_reset(tes_device *dev, void *s)
{
    ich9_lpc *l = s;

    trace_ich9_lpc_reset(ICH9_PMBASE);
    acpi_pm_reset(&l->pm);
    ich9_tco_reset(&l->tco);
}

static void lpc_unrealize(tes_device *dev, void *s)
{
    ich9_lpc *l = s;

    if (l->tco.timer) {
        H->timer_free(l->tco.timer);
        l->tco.timer = NULL;
    }
}

static int lpc_post_load(tes_device *dev, void *s, uint32_t version)
{
    ich9_lpc *l = s;

    if (!ich9_tco_post_load(&l->tco)) {
        return -1;
    }
    H->dev_set_irq(dev, 0, l->pm.sci);
    return 0;
}

static const tes_state_field lpc_fields[] = {
    ACPI_PM_FIELDS(ich9_lpc, pm),
    ICH9_TCO_FIELDS(ich9_lpc, tco),
    TES_FIELD_END,
};

static const tes_state_info lpc_state = {
    .size = sizeof(tes_state_info),
    .version = 2, /* 2: the TCO watchdog, SMI_EN/SMI_STS, GCS */
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

static const tes_prop_info lpc_props[] = {
    TES_PROP("noreboot", TES_PROP_BOOL, ich9_lpc, tco.noreboot, "off", 0, 0,
             "the SPKR strap: the TCO watchdog never reboots (GCS.NO_REBOOT set)"),
    TES_PROP_END,
};

const tes_type_info ich9_lpc_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "ICH9-LPC",
    .flags = TES_TYPE_NO_USER, /* created by its board or host bridge */
    .desc = "q35 LPC bridge 1f.0 with the ACPI PM block at 0x600 and the TCO watchdog "
            "(created by -M q35)",
    .bus = TES_BUS_PCI,
    .instance_size = sizeof(ich9_lpc),
    .props = lpc_props,
    .realize = lpc_realize,
    .unrealize = lpc_unrealize,
    .reset = lpc_reset,
    .state = &lpc_state,
    .class_info = &lpc_pci,
};
