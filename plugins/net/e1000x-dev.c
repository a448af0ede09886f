/*
 * e1000x-dev: what the e1000 and e1000e types share as devices: the
 * properties (QEMU's names), realize, reset, PCI config hooks, migration,
 * and the plugin descriptor offering both types.
 *
 * Migration carries the whole register file, the PHY pages, the EEPROM
 * (the guest may rewrite it through EEWR), the Microwire shift state, the
 * transmit contexts and the packet being assembled (descriptors up to a
 * missing EOP have already been consumed, so those bytes must travel),
 * and which MSI causes were already signalled. Loaded values are checked:
 * a partial packet longer than the buffer is refused, ring registers are
 * masked as a register write would mask them.
 */
#include <errno.h>
#include "e1000x.h"
#include "e1000x-trace.h"

const tes_host *H;
TES_TRACE_DEFINE(E1000X_TRACE)

const tes_prop_info e1000x_props[] = {
    TES_PROP("mac", TES_PROP_MACADDR, e1000x, mac, NULL, 0, 0,
             "station address (default 52:54:00:12:34:56, then :57, ...)"),
    TES_PROP("netdev", TES_PROP_NETDEV, e1000x, nd, NULL, 0, 0,
             "id of the -netdev backend (none: the NIC is unplugged)"),
    TES_PROP_END,
};

static int bars_82540(tes_device *dev, e1000x *s)
{
    tes_region *mmio = H->region_new_io(dev, "e1000-mmio", 0x20000, &e1000x_mmio_ops, s);
    tes_region *io = H->region_new_io(dev, "e1000-io", 0x40, &e1000x_io_ops, s);
    int ret = H->pci_register_bar(dev, 0, TES_PCI_BAR_MEM32, mmio);

    return ret ?: H->pci_register_bar(dev, 1, TES_PCI_BAR_IO, io);
}

/* The 82574's flash BAR: present for drivers that size it, reads zero. */
static uint64_t flash_read(void *opaque, uint64_t off, unsigned size)
{
    return 0;
}

static void flash_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
}

static const tes_mem_ops flash_ops = {
    .size = sizeof(tes_mem_ops),
    .read = flash_read,
    .write = flash_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 4,
    .impl_min = 1, .impl_max = 4,
};

/* BAR0 registers, BAR1 flash, BAR2 I/O, BAR3 MSI-X (table 0, PBA 0x2000);
 * PCIe endpoint, PM, MSI and MSI-X with 5 vectors (82574 datasheet 9.3). */
static int bars_82574(tes_device *dev, e1000x *s)
{
    tes_region *mmio = H->region_new_io(dev, "e1000e-mmio", 0x20000, &e1000x_mmio_ops, s);
    tes_region *flash = H->region_new_io(dev, "e1000e-flash", 0x20000, &flash_ops, s);
    tes_region *io = H->region_new_io(dev, "e1000e-io", 0x20, &e1000x_io_ops, s);
    tes_region *msix = H->region_new_container(dev, "e1000e-msix", 0x4000);
    int ret = H->pci_register_bar(dev, 0, TES_PCI_BAR_MEM32, mmio);

    ret = ret ?: H->pci_register_bar(dev, 1, TES_PCI_BAR_MEM32, flash);
    ret = ret ?: H->pci_register_bar(dev, 2, TES_PCI_BAR_IO, io);
    ret = ret ?: H->pci_register_bar(dev, 3, TES_PCI_BAR_MEM32, msix);
    ret = ret < 0 ? ret : H->pci_msix_init(dev, 0, 5, 3, msix, 0, 0x2000);
    ret = ret < 0 ? ret : H->pci_pm_init(dev, 0);
    ret = ret < 0 ? ret : H->pci_msi_init(dev, 0, 1, true, false);
    ret = ret < 0 ? ret : H->pci_pcie_cap_init(dev, 0, TES_PCIE_TYPE_ENDPOINT);
    return ret < 0 ? ret : 0;
}

int e1000x_realize(tes_device *dev, e1000x *s, const uint16_t *eeprom_templ)
{
    int ret;

    s->dev = dev;
    if (s->mac[0] & 1) {
        H->error(dev, "property 'mac' wants a unicast address, got a multicast one");
        return -EINVAL;
    }
    ret = s->kind == E1000X_82540 ? bars_82540(dev, s) : bars_82574(dev, s);
    if (ret < 0) {
        H->error(dev, "cannot set up the BARs and PCI capabilities (%d)", ret);
        return ret;
    }
    ret = e1000x_port_open(s);
    if (ret < 0) {
        return ret;
    }
    e1000x_build_eeprom(s, eeprom_templ);
    e1000x_reset(s);
    return 0;
}

void e1000x_unrealize(tes_device *dev, void *opaque)
{
    /* The core detaches the backend when the device goes. */
}

void e1000x_type_reset(tes_device *dev, void *opaque)
{
    e1000x_reset(opaque);
}

/* Bus mastering switched on lets frames held by the backend in; MSI or
 * MSI-X switched lets every cause be signalled afresh. */
void e1000x_config_write(tes_device *dev, void *opaque, uint32_t off, uint32_t val,
                         unsigned len)
{
    e1000x *s = opaque;
    bool msi = H->pci_msi_enabled(dev), msix = H->pci_msix_enabled(dev);

    H->pci_default_config_write(dev, off, val, len);
    if (msi != H->pci_msi_enabled(dev) || msix != H->pci_msix_enabled(dev)) {
        s->msi_sent = 0;
        e1000x_update_irq(s);
    }
    if (off <= TES_PCI_COMMAND && off + len > TES_PCI_COMMAND) {
        e1000x_port_rx_ready(s);
    }
}

/* ---- migration ---- */

#define CTX_FIELDS(i)                                                                    \
    TES_FIELD_U8(e1000x, ctx[i].ipcss), TES_FIELD_U8(e1000x, ctx[i].ipcso),              \
        TES_FIELD_U8(e1000x, ctx[i].tucss), TES_FIELD_U8(e1000x, ctx[i].tucso),          \
        TES_FIELD_U16(e1000x, ctx[i].ipcse), TES_FIELD_U16(e1000x, ctx[i].tucse),        \
        TES_FIELD_U32(e1000x, ctx[i].paylen), TES_FIELD_U8(e1000x, ctx[i].hdr_len),      \
        TES_FIELD_U16(e1000x, ctx[i].mss), TES_FIELD_BOOL(e1000x, ctx[i].ipv4),          \
        TES_FIELD_BOOL(e1000x, ctx[i].tcp), TES_FIELD_BOOL(e1000x, ctx[i].tse)

static const tes_state_field fields[] = {
    TES_FIELD_ARRAY(e1000x, regs, TES_FIELD_U32, MAC_WORDS),
    TES_FIELD_ARRAY(e1000x, phy, TES_FIELD_U16, PHY_PAGES * 32),
    TES_FIELD_ARRAY(e1000x, eeprom, TES_FIELD_U16, EEPROM_WORDS),
    TES_FIELD_U32(e1000x, ioaddr),
    TES_FIELD_U32(e1000x, ee_in),
    TES_FIELD_U32(e1000x, ee_old),
    TES_FIELD_U16(e1000x, ee_bits_in),
    TES_FIELD_U16(e1000x, ee_bit_out),
    TES_FIELD_BOOL(e1000x, ee_reading),
    TES_FIELD_U32(e1000x, msi_sent),
    CTX_FIELDS(0),
    CTX_FIELDS(1),
    TES_FIELD_U32(e1000x, tx_sent),
    TES_FIELD_U16(e1000x, tx_frames),
    TES_FIELD_U8(e1000x, tx_popts),
    TES_FIELD_U8(e1000x, tx_cso),
    TES_FIELD_U8(e1000x, tx_css),
    TES_FIELD_BOOL(e1000x, tx_active),
    TES_FIELD_BOOL(e1000x, tx_ic),
    TES_FIELD_BOOL(e1000x, tx_tse),
    TES_FIELD_BOOL(e1000x, tx_vlan),
    TES_FIELD_BOOL(e1000x, tx_drop),
    TES_FIELD_BOOL(e1000x, tx_gso),
    TES_FIELD_U16(e1000x, tx_vlan_tci),
    TES_FIELD_BYTES(e1000x, tx_hdr),
    TES_FIELD_BOOL(e1000x, link_up),
    TES_FIELD_END,
};

/* The partial packet: its length, then its bytes. */
static int state_save(tes_device *dev, void *opaque, tes_stream *out)
{
    e1000x *s = opaque;
    uint8_t len[4];

    st32le(len, s->tx_len);
    H->stream_write(out, len, sizeof(len));
    H->stream_write(out, s->tx_buf, s->tx_len);
    return 0;
}

static int state_load(tes_device *dev, void *opaque, tes_stream *in, uint32_t version)
{
    e1000x *s = opaque;
    uint8_t len[4];
    uint32_t n;

    if (H->stream_read(in, len, sizeof(len))) {
        return -EIO;
    }
    n = ld32le(len);
    if (n > TX_BUF_MAX) {
        H->error(dev, "migration: partial packet of %u bytes exceeds %u", n, TX_BUF_MAX);
        return -EINVAL;
    }
    s->tx_len = n;
    return H->stream_read(in, s->tx_buf, n) ? -EIO : 0;
}

/* Mask what register writes would have masked; refuse what cannot be. */
static int state_post_load(tes_device *dev, void *opaque, uint32_t version)
{
    e1000x *s = opaque;
    static const uint32_t w16[] = {R_RDH, R_RDT, R_TDH, R_TDT, R_RDH + 0x100, R_RDT + 0x100,
                                   R_TDH + 0x100, R_TDT + 0x100};

    for (unsigned i = 0; i < sizeof(w16) / sizeof(w16[0]); i++) {
        wr(s, w16[i], rd(s, w16[i]) & 0xffff);
    }
    wr(s, R_RDLEN, rd(s, R_RDLEN) & 0xfff80);
    wr(s, R_TDLEN, rd(s, R_TDLEN) & 0xfff80);
    s->ee_bit_out &= 0x3ff;
    s->ioaddr &= 0x1fffc;
    /* A TSO segment longer than header + MSS is not refused: a context
     * descriptor shrinking MSS mid-packet makes one on the source too, and
     * tso_append drops that packet on both sides; tx_len is bounded by
     * state_load. */
    s->in_tx = s->in_rx = false;
    e1000x_update_irq(s);
    e1000x_port_rx_ready(s);
    return 0;
}

const tes_state_info e1000x_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = fields,
    .post_load = state_post_load,
    .save = state_save,
    .load = state_load,
};

/* ---- the plugin ---- */

static int plugin_init(const tes_host *host)
{
    H = host;
    if (TES_TRACE_REGISTER(host) != 0) {
        return -22; /* -EINVAL: a malformed event table */
    }
    return 0;
}

static const tes_type_info *const types[] = {&e1000_type, &e1000e_type, NULL};

TES_PLUGIN_DEFINE(.name = "e1000", .version = "0.1.0", .license = "MIT",
                  .desc = "Intel 82540EM (e1000) and 82574L (e1000e) Gigabit Ethernet",
                  .types = types, .init = plugin_init);
