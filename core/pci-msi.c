/*
 * tessera core: PCI message signalled interrupts and the power management
 * and PCI Express capabilities.
 *
 * MSI follows PCI Local Bus 3.0, section 6.8.1 (multiple messages replace
 * the low bits of the data; per-vector masking with pending bits), MSI-X
 * section 6.8.2 (16-byte table entries in a BAR, pending bit array,
 * function mask). A message is a DMA write of the data to the address from
 * the function, so it reaches whatever doorbell the platform maps there.
 * Power management is PCI PM 1.2 (D0 and D3hot only); the PCIe capability is
 * version 2 of PCI Express Base 4.0, section 7.5.3.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "pci-internal.h"

/* ---- MSI ---- */

#define MSI_CTRL 2
#define MSI_ADDR_LO 4
#define MSI_CTRL_ENABLE 0x0001
#define MSI_CTRL_64 0x0080
#define MSI_CTRL_MASKABLE 0x0100

static uint16_t msi_ctrl(const struct pci_function *f)
{
    return cfg_get16(f->config + f->msi_off + MSI_CTRL);
}

static unsigned msi_data_off(const struct pci_function *f)
{
    return f->msi_off + ((msi_ctrl(f) & MSI_CTRL_64) ? 0xc : 0x8);
}

static unsigned msi_mask_off(const struct pci_function *f)
{
    return f->msi_off + ((msi_ctrl(f) & MSI_CTRL_64) ? 0x10 : 0xc);
}

static unsigned msi_cap_len(bool is64, bool maskable)
{
    return 0xa + (is64 ? 4 : 0) + (maskable ? 0xa : 0);
}

int pci_msi_init(tes_device *dev, uint8_t offset, unsigned nvec, bool is64, bool maskable)
{
    struct pci_function *f = dev ? dev->pci : NULL;
    unsigned log2 = 0;
    int off;

    if (!f || nvec == 0 || nvec > 32 || (nvec & (nvec - 1))) {
        return -EINVAL;
    }
    if (f->msi_off) {
        return -EBUSY;
    }
    off = pci_add_cap(dev, TES_PCI_CAP_ID_MSI, offset, (uint8_t)msi_cap_len(is64, maskable));
    if (off < 0) {
        return off;
    }
    while ((1u << log2) < nvec) {
        log2++;
    }
    f->msi_off = (uint8_t)off;
    /* Multiple Message Capable is read-only; enable and Multiple Message
     * Enable are the guest's. */
    cfg_set16(f->config + off + MSI_CTRL, (uint16_t)(log2 << 1 | (is64 ? MSI_CTRL_64 : 0) |
                                                     (maskable ? MSI_CTRL_MASKABLE : 0)));
    cfg_set16(f->wmask + off + MSI_CTRL, 0x0071);
    cfg_set32(f->wmask + off + MSI_ADDR_LO, 0xfffffffc);
    if (is64) {
        cfg_set32(f->wmask + off + MSI_ADDR_LO + 4, 0xffffffff);
    }
    cfg_set16(f->wmask + msi_data_off(f), 0xffff);
    if (maskable) {
        cfg_set32(f->wmask + msi_mask_off(f), nvec == 32 ? 0xffffffff : (1u << nvec) - 1);
    }
    return off;
}

bool pci_msi_enabled(tes_device *dev)
{
    struct pci_function *f = dev ? dev->pci : NULL;

    return f && f->msi_off && (msi_ctrl(f) & MSI_CTRL_ENABLE);
}

static unsigned msi_nr_enabled(const struct pci_function *f)
{
    uint16_t ctrl = msi_ctrl(f);
    unsigned mme = (ctrl >> 4) & 7, mmc = (ctrl >> 1) & 7;

    /* Enabling more than capable is undefined: give what we have. */
    return 1u << (mme < mmc ? mme : mmc);
}

static void msi_deliver(struct pci_function *f, unsigned vector)
{
    const uint8_t *c = f->config;
    uint64_t addr = cfg_get32(c + f->msi_off + MSI_ADDR_LO);
    uint32_t data = cfg_get16(c + msi_data_off(f));
    unsigned n = msi_nr_enabled(f);

    if (msi_ctrl(f) & MSI_CTRL_64) {
        addr |= (uint64_t)cfg_get32(c + f->msi_off + MSI_ADDR_LO + 4) << 32;
    }
    /* Multiple messages: the vector replaces the low bits of the data. */
    msi_send(f->dev, addr, (data & ~(n - 1)) | vector);
}

static void msi_notify(struct pci_function *f, unsigned vector)
{
    if (vector >= msi_nr_enabled(f)) {
        core_log(TES_LOG_GUEST_ERROR, "PCI: %s: MSI vector %u dropped, guest enabled %u",
                 pci_dev_name(f->dev), vector, msi_nr_enabled(f));
        return;
    }
    if (msi_ctrl(f) & MSI_CTRL_MASKABLE) {
        uint8_t *mask = f->config + msi_mask_off(f);

        if (cfg_get32(mask) & (1u << vector)) {
            cfg_set32(mask + 4, cfg_get32(mask + 4) | 1u << vector);
            return;
        }
    }
    msi_deliver(f, vector);
}

void msi_config_written(struct pci_function *f, uint32_t off, unsigned len)
{
    uint8_t *mask;
    uint32_t ready;

    if (!(msi_ctrl(f) & MSI_CTRL_MASKABLE) || !(msi_ctrl(f) & MSI_CTRL_ENABLE) ||
        off >= f->msi_off + msi_cap_len(true, true) || off + len <= f->msi_off) {
        return;
    }
    /* Unmasking a vector with its pending bit set sends it. */
    mask = f->config + msi_mask_off(f);
    ready = cfg_get32(mask + 4) & ~cfg_get32(mask);
    for (unsigned v = 0; v < 32 && ready; v++) {
        if ((ready & (1u << v)) && v < msi_nr_enabled(f)) {
            ready &= ~(1u << v);
            cfg_set32(mask + 4, cfg_get32(mask + 4) & ~(1u << v));
            msi_deliver(f, v);
        }
    }
}

void msi_reset(struct pci_function *f)
{
    if (f->msi_off && (msi_ctrl(f) & MSI_CTRL_MASKABLE)) {
        cfg_set32(f->config + msi_mask_off(f) + 4, 0);
    }
}

/* ---- MSI-X ---- */

#define MSIX_CTRL 2
#define MSIX_TABLE 4
#define MSIX_PBA 8
#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_CTRL_FMASK 0x4000
#define MSIX_ENTRY_SIZE 16
#define MSIX_VCTRL 12
#define MSIX_VCTRL_MASK 0x1

static uint16_t msix_ctrl(const struct pci_function *f)
{
    return cfg_get16(f->config + f->msix_off + MSIX_CTRL);
}

bool pci_msix_enabled(tes_device *dev)
{
    struct pci_function *f = dev ? dev->pci : NULL;

    return f && f->msix_off && (msix_ctrl(f) & MSIX_CTRL_ENABLE);
}

static bool msix_masked(const struct pci_function *f, unsigned v)
{
    const uint8_t *e = f->msix_table + v * MSIX_ENTRY_SIZE;

    return (msix_ctrl(f) & MSIX_CTRL_FMASK) || (cfg_get32(e + MSIX_VCTRL) & MSIX_VCTRL_MASK);
}

static bool pba_test(const struct pci_function *f, unsigned v)
{
    return f->msix_pba[v / 8] & (1u << (v % 8));
}

static void pba_set(struct pci_function *f, unsigned v, bool on)
{
    if (on) {
        f->msix_pba[v / 8] |= (uint8_t)(1u << (v % 8));
    } else {
        f->msix_pba[v / 8] &= (uint8_t)~(1u << (v % 8));
    }
}

static void msix_deliver(struct pci_function *f, unsigned v)
{
    const uint8_t *e = f->msix_table + v * MSIX_ENTRY_SIZE;
    uint64_t addr = cfg_get32(e) | (uint64_t)cfg_get32(e + 4) << 32;

    msi_send(f->dev, addr, cfg_get32(e + 8));
}

static void msix_notify(struct pci_function *f, unsigned v)
{
    if (v >= f->msix_nvec) {
        core_log(TES_LOG_GUEST_ERROR, "PCI: %s: MSI-X vector %u of %u dropped",
                 pci_dev_name(f->dev), v, f->msix_nvec);
        return;
    }
    if (msix_masked(f, v)) {
        pba_set(f, v, true);
        return;
    }
    msix_deliver(f, v);
}

/* A pending, now unmasked vector of an enabled function is sent. */
static void msix_try_pending(struct pci_function *f, unsigned v)
{
    if ((msix_ctrl(f) & MSIX_CTRL_ENABLE) && pba_test(f, v) && !msix_masked(f, v)) {
        pba_set(f, v, false);
        msix_deliver(f, v);
    }
}

static uint64_t msix_table_read(void *opaque, uint64_t offset, unsigned size)
{
    struct pci_function *f = opaque;
    uint32_t tsize = f->msix_nvec * MSIX_ENTRY_SIZE;
    uint64_t val = 0;

    for (unsigned i = 0; i < size; i += 4) {
        if (offset + i + 4 <= tsize) {
            val |= (uint64_t)cfg_get32(f->msix_table + offset + i) << (8 * i);
        }
    }
    return val;
}

static void msix_table_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct pci_function *f = opaque;
    uint32_t tsize = f->msix_nvec * MSIX_ENTRY_SIZE;

    for (unsigned i = 0; i < size; i += 4) {
        uint64_t o = offset + i;
        uint32_t v = (uint32_t)(value >> (8 * i));

        if (o + 4 > tsize || (o & 3)) {
            continue;
        }
        /* Vector control: only the mask bit is defined (PCI 3.0, 6.8.2.9). */
        if (o % MSIX_ENTRY_SIZE == MSIX_VCTRL) {
            v &= MSIX_VCTRL_MASK;
        }
        cfg_set32(f->msix_table + o, v);
        if (o % MSIX_ENTRY_SIZE == MSIX_VCTRL) {
            msix_try_pending(f, (unsigned)(o / MSIX_ENTRY_SIZE));
        }
    }
}

static uint64_t msix_pba_read(void *opaque, uint64_t offset, unsigned size)
{
    struct pci_function *f = opaque;
    uint64_t val = 0;

    for (unsigned i = 0; i < size; i++) {
        if (offset + i < f->msix_pba_size) {
            val |= (uint64_t)f->msix_pba[offset + i] << (8 * i);
        }
    }
    return val;
}

static void msix_pba_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct pci_function *f = opaque;

    /* The PBA is read-only to software (PCI 3.0, section 6.8.2.10). */
    core_log(TES_LOG_GUEST_ERROR, "PCI: %s: write to MSI-X PBA at 0x%" PRIx64 " ignored",
             pci_dev_name(f->dev), offset);
}

static const tes_mem_ops msix_table_ops = {
    .size = sizeof(tes_mem_ops),
    .read = msix_table_read,
    .write = msix_table_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 4, .valid_max = 8,
    .impl_min = 4, .impl_max = 8,
};

static const tes_mem_ops msix_pba_ops = {
    .size = sizeof(tes_mem_ops),
    .read = msix_pba_read,
    .write = msix_pba_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 4, .valid_max = 8,
    .impl_min = 4, .impl_max = 8,
};

/* A set-up mistake of the plugin: recorded as the device's error (the
 * first one wins, as host->error), so realize fails with this line even
 * when the plugin ignores the return code, and logged under -d plugin. */
static int msix_refuse(tes_device *dev, char *msg)
{
    core_log(TES_LOG_PLUGIN, "PCI: %s: %s", pci_dev_name(dev), msg);
    if (!dev->error) {
        dev->error = msg;
    } else {
        g_free(msg);
    }
    return -EINVAL;
}

static int msix_check(struct pci_function *f, unsigned nvec, int bar, tes_region *r,
                      uint32_t table_off, uint32_t pba_off)
{
    uint64_t tsize = (uint64_t)nvec * MSIX_ENTRY_SIZE, psize = ((nvec + 63) / 64) * 8;

    if (!f || nvec == 0 || nvec > 2048 || bar < 0 || bar >= PCI_NUM_BARS || !r) {
        return -EINVAL;
    }
    /* The core maps the table and the PBA as subregions of r: only a
     * container can hold them. Anything else would "succeed" with a table
     * the guest can never reach, every vector masked forever. */
    if (r->kind != REGION_CONTAINER) {
        return msix_refuse(f->dev, g_strdup_printf(
            "pci_msix_init: BAR%d region '%s' is not a container; the MSI-X table and PBA are "
            "mapped into it, so it must come from region_new_container() (map the registers "
            "in it with region_add)", bar, r->name));
    }
    if (f->msix_off) {
        return -EBUSY;
    }
    /* Offsets are QWORD aligned; the BIR takes the low 3 bits. */
    if ((table_off & 7) || (pba_off & 7) || table_off + tsize > region_size(r) ||
        pba_off + psize > region_size(r)) {
        return -EINVAL;
    }
    if (table_off < pba_off + psize && pba_off < table_off + tsize) {
        return -EINVAL;
    }
    return 0;
}

static void msix_regions_init(struct pci_function *f, tes_region *r, uint32_t table_off,
                              uint32_t pba_off)
{
    tes_device *dev = f->dev;

    f->msix_bar_r = r;
    f->msix_table_r = region_new_io(dev, "msix-table", f->msix_nvec * MSIX_ENTRY_SIZE,
                                    &msix_table_ops, f);
    f->msix_pba_r = region_new_io(dev, "msix-pba", f->msix_pba_size, &msix_pba_ops, f);
    region_add(r, table_off, f->msix_table_r, 1);
    region_add(r, pba_off, f->msix_pba_r, 1);
}

int pci_msix_init(tes_device *dev, uint8_t offset, unsigned nvec, int bar, tes_region *r,
                  uint32_t table_off, uint32_t pba_off)
{
    struct pci_function *f = dev ? dev->pci : NULL;
    int ret = msix_check(f, nvec, bar, r, table_off, pba_off);
    int off;

    if (ret < 0) {
        core_log(TES_LOG_PLUGIN, "PCI: %s: bad MSI-X set-up (%u vectors, BAR%d, table 0x%x, "
                 "PBA 0x%x)", dev ? pci_dev_name(dev) : "(null)", nvec, bar, table_off, pba_off);
        return ret;
    }
    off = pci_add_cap(dev, TES_PCI_CAP_ID_MSIX, offset, 12);
    if (off < 0) {
        return off;
    }
    f->msix_off = (uint8_t)off;
    cfg_set16(f->config + off + MSIX_CTRL, (uint16_t)(nvec - 1));
    cfg_set32(f->config + off + MSIX_TABLE, table_off | (uint32_t)bar);
    cfg_set32(f->config + off + MSIX_PBA, pba_off | (uint32_t)bar);
    cfg_set16(f->wmask + off + MSIX_CTRL, MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);
    f->msix_nvec = nvec;
    f->msix_pba_size = ((nvec + 63) / 64) * 8;
    f->msix_table = g_malloc0(nvec * MSIX_ENTRY_SIZE);
    f->msix_pba = g_malloc0(f->msix_pba_size);
    msix_reset(f);
    msix_regions_init(f, r, table_off, pba_off);
    return off;
}

void msix_config_written(struct pci_function *f, uint32_t off, unsigned len)
{
    if (off >= f->msix_off + MSIX_CTRL + 2u || off + len <= f->msix_off + MSIX_CTRL + 0u) {
        return;
    }
    /* Enable set or function mask cleared: pending vectors go out. */
    for (unsigned v = 0; v < f->msix_nvec; v++) {
        msix_try_pending(f, v);
    }
}

void msix_reset(struct pci_function *f)
{
    if (!f->msix_nvec) {
        return;
    }
    /* Every entry masked at reset (PCI 3.0, section 6.8.2.9). */
    memset(f->msix_table, 0, f->msix_nvec * MSIX_ENTRY_SIZE);
    for (unsigned v = 0; v < f->msix_nvec; v++) {
        cfg_set32(f->msix_table + v * MSIX_ENTRY_SIZE + MSIX_VCTRL, MSIX_VCTRL_MASK);
    }
    memset(f->msix_pba, 0, f->msix_pba_size);
}

void msix_free(struct pci_function *f)
{
    if (f->msix_bar_r) {
        region_del(f->msix_bar_r, f->msix_table_r);
        region_del(f->msix_bar_r, f->msix_pba_r);
    }
    g_free(f->msix_table);
    g_free(f->msix_pba);
    f->msix_table = f->msix_pba = NULL;
    f->msix_nvec = 0;
}

void pci_notify(tes_device *dev, unsigned vector)
{
    struct pci_function *f = dev ? dev->pci : NULL;

    if (!f) {
        return;
    }
    if (pci_msix_enabled(dev)) {
        msix_notify(f, vector);
    } else if (pci_msi_enabled(dev)) {
        msi_notify(f, vector);
    }
    /* Neither enabled: INTx is the device's business (pci_set_irq). */
}

/* ---- power management (PCI PM 1.2, section 3.2) ---- */

#define PM_PMC 2
#define PM_PMCSR 4
#define PM_PMCSR_STATE 0x3
#define PM_PMCSR_NO_SOFT_RESET 0x8
#define PM_PMCSR_PME_STATUS 0x8000

int pci_pm_init(tes_device *dev, uint8_t offset)
{
    struct pci_function *f = dev ? dev->pci : NULL;
    int off;

    if (!f) {
        return -EINVAL;
    }
    if (f->pm_off) {
        return -EBUSY;
    }
    off = pci_add_cap(dev, TES_PCI_CAP_ID_PM, offset, 8);
    if (off < 0) {
        return off;
    }
    f->pm_off = (uint8_t)off;
    /* Version 3 (PM 1.2), only D0 and D3hot, no PME. Going back to D0
     * keeps the configuration, which No_Soft_Reset tells the guest. */
    cfg_set16(f->config + off + PM_PMC, 0x0003);
    cfg_set16(f->config + off + PM_PMCSR, PM_PMCSR_NO_SOFT_RESET);
    cfg_set16(f->wmask + off + PM_PMCSR, PM_PMCSR_STATE);
    cfg_set16(f->w1cmask + off + PM_PMCSR, PM_PMCSR_PME_STATUS);
    return off;
}

void pm_config_written(struct pci_function *f, uint32_t off, unsigned len, uint8_t old_state)
{
    uint8_t *csr = f->config + f->pm_off + PM_PMCSR;
    uint8_t state = *csr & PM_PMCSR_STATE;

    if (off >= f->pm_off + PM_PMCSR + 1u || off + len <= f->pm_off + PM_PMCSR + 0u) {
        return;
    }
    /* D1 and D2 are not supported: such a write leaves the state as is. */
    if (state == 1 || state == 2) {
        core_log(TES_LOG_GUEST_ERROR, "PCI: %s: power state D%u not supported",
                 pci_dev_name(f->dev), state);
        *csr = (*csr & ~PM_PMCSR_STATE) | (old_state & PM_PMCSR_STATE);
    }
}

/* ---- PCI Express capability (PCIe Base 4.0, section 7.5.3) ---- */

#define EXP_FLAGS 0x02
#define EXP_DEVCAP 0x04
#define EXP_DEVCTL 0x08
#define EXP_DEVSTA 0x0a
#define EXP_LNKCAP 0x0c
#define EXP_LNKCTL 0x10
#define EXP_LNKSTA 0x12
#define EXP_SLTCAP 0x14
#define EXP_SLTCTL 0x18
#define EXP_SLTSTA 0x1a
#define EXP_RTCTL 0x1c
#define EXP_RTSTA 0x20
#define EXP_DEVCAP2 0x24
#define EXP_DEVCTL2 0x28
#define EXP_LNKCAP2 0x2c
#define EXP_LNKCTL2 0x30
#define EXP_SIZEOF 0x3c

#define EXP_FLAGS_SLOT 0x0100
#define EXP_DEVCAP_RBER 0x8000
/* Relaxed ordering, no snoop, 512-byte max read request: the defaults. */
#define EXP_DEVCTL_DEFAULT 0x2810
#define EXP_DEVCTL_WMASK 0x78ff
#define EXP_LNKCAP_DLLLARC 0x00100000
#define EXP_LNKSTA_DLLLA 0x2000
#define EXP_LNKSTA_SLC 0x1000
/* Attention button, power controller, attention and power indicators,
 * hot-plug capable; Command Completed is supported (pcie-slot.c). */
#define EXP_SLTCAP_DEFAULT 0x0000005b
#define EXP_SLTCTL_WMASK 0x17ff
#define EXP_SLTSTA_W1C 0x011f
#define EXP_SLTSTA_PDS 0x0040

static unsigned port_type(const struct pci_function *f)
{
    return (f->config[f->pcie_off + EXP_FLAGS] >> 4) & 0xf;
}

bool pcie_has_slot(const struct pci_function *f)
{
    unsigned t = port_type(f);

    return t == TES_PCIE_TYPE_ROOT_PORT || t == TES_PCIE_TYPE_DOWNSTREAM;
}

static void pcie_link_init(struct pci_function *f, unsigned off, bool port)
{
    uint8_t *c = f->config + off, *w = f->wmask + off;

    /* 2.5 GT/s x1 (speed 1, width 1). */
    cfg_set32(c + EXP_LNKCAP, 0x11 | (port && pcie_has_slot(f) ? EXP_LNKCAP_DLLLARC : 0));
    cfg_set16(w + EXP_LNKCTL, 0x00c3 | (port ? 0x0010 : 0));
    cfg_set16(c + EXP_LNKSTA, 0x0011 | EXP_LNKSTA_SLC);
    cfg_set32(c + EXP_LNKCAP2, 0x2); /* supported speeds: 2.5 GT/s */
    cfg_set16(c + EXP_LNKCTL2, 0x1); /* target speed 2.5 GT/s */
}

static void pcie_slot_init(struct pci_function *f, unsigned off)
{
    uint8_t *c = f->config + off;

    cfg_set16(c + EXP_FLAGS, cfg_get16(c + EXP_FLAGS) | EXP_FLAGS_SLOT);
    cfg_set32(c + EXP_SLTCAP, EXP_SLTCAP_DEFAULT);
    cfg_set16(f->wmask + off + EXP_SLTCTL, EXP_SLTCTL_WMASK);
    cfg_set16(f->w1cmask + off + EXP_SLTSTA, EXP_SLTSTA_W1C);
    pcie_slot_reset(f);
}

static void pcie_root_init(struct pci_function *f, unsigned off)
{
    /* System error enables and PME interrupt enable; PME status RW1C. */
    cfg_set16(f->wmask + off + EXP_RTCTL, 0x000f);
    cfg_set32(f->w1cmask + off + EXP_RTSTA, 0x00010000);
}

int pci_pcie_cap_init(tes_device *dev, uint8_t offset, uint8_t type)
{
    struct pci_function *f = dev ? dev->pci : NULL;
    bool port = type == TES_PCIE_TYPE_ROOT_PORT || type == TES_PCIE_TYPE_DOWNSTREAM ||
                type == TES_PCIE_TYPE_UPSTREAM;
    uint8_t *c;
    int off;

    if (!f || type > 0xf) {
        return -EINVAL;
    }
    if (f->pcie_off) {
        return -EBUSY;
    }
    off = pci_add_cap(dev, TES_PCI_CAP_ID_EXP, offset, EXP_SIZEOF);
    if (off < 0) {
        return off;
    }
    f->pcie_off = (uint8_t)off;
    pci_set_express(f);
    c = f->config + off;
    cfg_set16(c + EXP_FLAGS, (uint16_t)(2 | type << 4)); /* capability version 2 */
    cfg_set32(c + EXP_DEVCAP, EXP_DEVCAP_RBER);
    cfg_set16(c + EXP_DEVCTL, EXP_DEVCTL_DEFAULT);
    cfg_set16(f->wmask + off + EXP_DEVCTL, EXP_DEVCTL_WMASK);
    cfg_set16(f->w1cmask + off + EXP_DEVSTA, 0x000f);
    cfg_set32(c + EXP_DEVCAP2, 0x10); /* completion timeout disable */
    cfg_set16(f->wmask + off + EXP_DEVCTL2, 0x0010);
    if (type != TES_PCIE_TYPE_RC_END) {
        pcie_link_init(f, (unsigned)off, port);
    }
    if (pcie_has_slot(f)) {
        pcie_slot_init(f, (unsigned)off);
    }
    if (type == TES_PCIE_TYPE_ROOT_PORT) {
        pcie_root_init(f, (unsigned)off);
    }
    pcie_port_update_presence(f);
    return off;
}

/* Presence detect and data link layer active follow what sits on the
 * port's secondary bus (hot-plug events are raised elsewhere). */
void pcie_port_update_presence(struct pci_function *f)
{
    uint8_t *c;
    bool present = false;

    if (!f || !f->pcie_off || !pcie_has_slot(f)) {
        return;
    }
    for (unsigned i = 0; f->secondary && i < 256 && !present; i++) {
        present = f->secondary->devs[i] != NULL;
    }
    c = f->config + f->pcie_off;
    cfg_set16(c + EXP_SLTSTA, (cfg_get16(c + EXP_SLTSTA) & ~EXP_SLTSTA_PDS) |
                                  (present ? EXP_SLTSTA_PDS : 0));
    cfg_set16(c + EXP_LNKSTA, (cfg_get16(c + EXP_LNKSTA) & ~EXP_LNKSTA_DLLLA) |
                                  (present ? EXP_LNKSTA_DLLLA : 0));
    pcie_slot_power_default(f);
}

void pcie_reset(struct pci_function *f)
{
    if (!f->pcie_off) {
        return;
    }
    cfg_set16(f->config + f->pcie_off + EXP_DEVCTL, EXP_DEVCTL_DEFAULT);
    pcie_slot_reset(f);
}
