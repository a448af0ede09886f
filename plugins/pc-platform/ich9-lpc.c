/*
 * pc-platform: ICH9-LPC (1f.0 on the q35 root bus), the ISA bridge holding the
 * ACPI PM block. See q35-host.c's manual for the registers; the ACPI
 * tables (acpi.c) describe exactly these ports.
 *
 * Linux reads PM1_TMR for clocksource calibration (acpi_pm), takes the
 * SCI on IRQ 9, and powers off with PM1_CNT = SLP_TYP(\_S5) | SLP_EN.
 * ACPI mode is fixed on: SMI_CMD is 0 in the FADT and SCI_EN reads 1.
 */
#include <errno.h>
#include <string.h>

#include "pc-platform.h"

#define LPC_PMBASE 0x40
#define LPC_ACPI_CNTL 0x44
#define ACPI_CNTL_EN 0x80

#define PM1_TMR_STS 0x0001
#define PM1_PWRBTN_STS 0x0100
#define PM1_WAK_STS 0x8000
#define PM1_STS_MASK 0x8d31 /* WAK, PWRBTN, RTC, GBL, BM, TMR */
#define PM1_EN_MASK 0x0521  /* RTC_EN, PWRBTN_EN, GBL_EN, TMR_EN */
#define PM1_CNT_SCI_EN 0x0001
#define PM1_CNT_SLP_EN 0x2000
#define PM1_CNT_SLP_TYP(v) (((v) >> 10) & 7)
#define PM_TMR_HZ 3579545ull

typedef struct ich9_lpc {
    tes_device *dev;
    uint16_t pm1_sts, pm1_en, pm1_cnt;
    uint8_t gpe_sts[8], gpe_en[8];
    int sci;
} ich9_lpc;

static uint32_t pm_timer(void)
{
    return (uint32_t)((unsigned __int128)H->clock_ns() * PM_TMR_HZ / 1000000000u);
}

static void update_sci(ich9_lpc *l)
{
    bool gpe = false;
    int level;

    for (unsigned i = 0; i < 8; i++) {
        gpe |= (l->gpe_sts[i] & l->gpe_en[i]) != 0;
    }
    level = gpe || (l->pm1_sts & l->pm1_en & PM1_EN_MASK);
    if (level != l->sci) {
        l->sci = level;
        H->dev_set_irq(l->dev, 0, level);
    }
}

static void pm1_cnt_write(ich9_lpc *l, uint16_t val)
{
    unsigned typ = PM1_CNT_SLP_TYP(val);

    l->pm1_cnt = (val & ~PM1_CNT_SLP_EN) | PM1_CNT_SCI_EN;
    if (!(val & PM1_CNT_SLP_EN)) {
        return;
    }
    if (typ == ICH9_SLP_TYP_S5) {
        H->log(TES_LOG_TRACE, "ICH9-LPC: ACPI S5 (soft off)");
        H->request_shutdown(0);
    } else {
        H->log(TES_LOG_UNIMP, "ICH9-LPC: sleep state SLP_TYP %u not supported (only S5 = %u)",
               typ, ICH9_SLP_TYP_S5);
    }
}

/* The PM block's 0x80 ports (PMBASE 0x600); offsets within it. */
static uint64_t pm_read(void *opaque, uint64_t off, unsigned size)
{
    ich9_lpc *l = opaque;
    uint64_t v = 0;

    for (unsigned i = 0; i < size; i++) {
        uint64_t o = off + i, b = 0;
        if (o < 2) {
            b = l->pm1_sts >> (8 * o);
        } else if (o < 4) {
            b = l->pm1_en >> (8 * (o - 2));
        } else if (o < 6) {
            b = l->pm1_cnt >> (8 * (o - 4));
        } else if (o >= 8 && o < 12) {
            b = pm_timer() >> (8 * (o - 8));
        } else if (o >= 0x20 && o < 0x28) {
            b = l->gpe_sts[o - 0x20];
        } else if (o >= 0x28 && o < 0x30) {
            b = l->gpe_en[o - 0x28];
        }
        v |= (b & 0xff) << (8 * i);
    }
    return v;
}

static void pm_write_byte(ich9_lpc *l, uint64_t o, uint8_t b)
{
    if (o < 2) {
        /* write 1 to clear */
        l->pm1_sts &= (uint16_t) ~((b << (8 * o)) & PM1_STS_MASK);
    } else if (o < 4) {
        unsigned sh = 8 * (unsigned)(o - 2);
        l->pm1_en = (uint16_t)((l->pm1_en & ~(0xff << sh)) | ((b << sh) & PM1_EN_MASK));
    } else if (o >= 0x20 && o < 0x28) {
        l->gpe_sts[o - 0x20] &= (uint8_t)~b;
    } else if (o >= 0x28 && o < 0x30) {
        l->gpe_en[o - 0x28] = b;
    } else if (o < 8 || o >= 12) {
        H->log(TES_LOG_UNIMP, "ICH9-LPC: write 0x%02x to PM register 0x%llx ignored", b,
               (unsigned long long)(ICH9_PMBASE + o));
    }
}

static void pm_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    ich9_lpc *l = opaque;

    if (off == 4 && size >= 2) {
        pm1_cnt_write(l, (uint16_t)val);
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        if (off + i == 4 || off + i == 5) {
            /* a byte-wide PM1_CNT write: merge, then apply as a word */
            unsigned sh = 8 * (unsigned)(off + i - 4);
            uint16_t cnt = (uint16_t)((l->pm1_cnt & ~(0xff << sh)) |
                                      (((val >> (8 * i)) & 0xff) << sh));
            pm1_cnt_write(l, cnt);
        } else {
            pm_write_byte(l, off + i, (uint8_t)(val >> (8 * i)));
        }
    }
    update_sci(l);
}

static const tes_mem_ops pm_ops = {
    .size = sizeof(tes_mem_ops),
    .read = pm_read,
    .write = pm_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 4,
    .impl_min = 1, .impl_max = 4,
};

/* system_powerdown: the fixed power button (PWRBTN_STS, SCI when enabled). */
/* Input 0: the fixed power button (system_powerdown); a rising edge
 * presses it. */
static void power_button(void *opaque, int n, int level)
{
    ich9_lpc *l = opaque;

    if (level) {
        l->pm1_sts |= PM1_PWRBTN_STS;
        update_sci(l);
    }
}

static int lpc_realize(tes_device *dev, void *s)
{
    ich9_lpc *l = s;
    uint8_t *cfg = H->pci_config(dev);
    tes_region *pm;

    l->dev = dev;
    l->pm1_cnt = PM1_CNT_SCI_EN;
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
    return 0;
}

static void lpc_reset(tes_device *dev, void *s)
{
    ich9_lpc *l = s;

    l->pm1_sts = l->pm1_en = 0;
    l->pm1_cnt = PM1_CNT_SCI_EN;
    memset(l->gpe_sts, 0, sizeof(l->gpe_sts));
    memset(l->gpe_en, 0, sizeof(l->gpe_en));
    l->sci = 0;
    H->dev_set_irq(dev, 0, 0);
}

static int lpc_post_load(tes_device *dev, void *s, uint32_t version)
{
    ich9_lpc *l = s;

    H->dev_set_irq(dev, 0, l->sci);
    return 0;
}

static const tes_state_field lpc_fields[] = {
    TES_FIELD_U16(ich9_lpc, pm1_sts),
    TES_FIELD_U16(ich9_lpc, pm1_en),
    TES_FIELD_U16(ich9_lpc, pm1_cnt),
    TES_FIELD_BYTES(ich9_lpc, gpe_sts),
    TES_FIELD_BYTES(ich9_lpc, gpe_en),
    TES_FIELD(ich9_lpc, sci, TES_FIELD_U32),
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
