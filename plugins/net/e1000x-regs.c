/*
 * e1000x register file: reset values, the EEPROM (Microwire bit-banging
 * through EECD as Linux e1000 does on the 82540, EERD word reads as Linux
 * e1000e does on the 82574), the PHY behind MDIC, interrupt causes and
 * masks (ICR/ICS/IMS/IMC, and the 82574's IAM/EIAC/IVAR auto-clear and
 * auto-mask rules in MSI-X mode), and statistics that clear on read.
 *
 * Every offset below 0x6000 is backed by storage: registers the models do
 * not act on read back what was written, as on the chips, so a driver that
 * saves and restores them works. Interrupt moderation (ITR, EITR, RDTR,
 * RADV, TIDV, TADV) is stored but not applied: interrupts are delivered at
 * once, which every driver accepts (moderation only lowers the rate).
 */
#include "e1000x.h"
#include "e1000x-trace.h"

/* ---- interrupts ---- */

bool e1000x_msix(e1000x *s)
{
    return s->kind == E1000X_82574 && H->pci_msix_enabled(s->dev);
}

/* One 82574 MSI-X cause through its IVAR field (82574 datasheet 10.2.4.9):
 * fire the vector, then the EIAC auto-clear, which also masks the cause
 * unless CTRL_EXT.IAME asks for the ICR-access auto-mask instead. */
static void msix_notify_one(e1000x *s, uint32_t cause, unsigned shift)
{
    uint32_t ent = rd(s, R_IVAR) >> shift & 0xf;
    uint32_t eiac = rd(s, R_EIAC) & cause;

    if (!(ent & IVAR_VALID) || (ent & 7) >= 5) {
        H->log(TES_LOG_GUEST_ERROR, "%s: cause 0x%x has no valid MSI-X vector (IVAR 0x%x)",
               H->dev_id(s->dev), cause, rd(s, R_IVAR));
    } else {
        trace_e1000x_irq_msi_notify(ent & 7, cause);
        H->pci_notify(s->dev, ent & 7);
    }
    if (rd(s, R_CTRL_EXT) & CTRL_EXT_EIAME) {
        wr(s, R_IMS, rd(s, R_IMS) & ~(rd(s, R_IAM) & cause));
    }
    wr(s, R_ICR, rd(s, R_ICR) & ~eiac);
    s->msi_sent &= ~eiac;
    if (!(rd(s, R_CTRL_EXT) & CTRL_EXT_IAME)) {
        wr(s, R_IMS, rd(s, R_IMS) & ~eiac);
    }
}

static void msix_notify(e1000x *s, uint32_t causes)
{
    static const struct { uint32_t cause; unsigned shift; } map[] = {
        {ICR_RXQ0, 0}, {ICR_RXQ1, 4}, {ICR_TXQ0, 8}, {ICR_TXQ1, 12}, {ICR_OTHER, 16},
    };

    for (unsigned i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (causes & map[i].cause) {
            msix_notify_one(s, map[i].cause, map[i].shift);
        }
    }
}

/* MSI and MSI-X are edge-triggered: send only for causes not yet sent
 * since they were last cleared, as the chip does. */
static void send_msi(e1000x *s, uint32_t causes, bool msix)
{
    uint32_t fresh;

    s->msi_sent &= causes;
    fresh = causes & ~s->msi_sent;
    if (!fresh) {
        return;
    }
    s->msi_sent |= fresh;
    if (msix) {
        msix_notify(s, fresh);
    } else {
        trace_e1000x_irq_msi_notify(0, fresh);
        H->pci_notify(s->dev, 0);
    }
}

void e1000x_update_irq(e1000x *s)
{
    uint32_t icr = rd(s, R_ICR) & ~ICR_ASSERTED;
    uint32_t causes;
    bool msix = e1000x_msix(s);

    if (s->kind == E1000X_82574) {
        if (msix && (icr & ICR_OTHER_CAUSES)) {
            icr |= ICR_OTHER;
        }
        /* INT_ASSERTED: some unmasked cause is pending; Linux e1000e's
         * INTx handler claims the interrupt only when it is set. */
        if (icr & rd(s, R_IMS)) {
            icr |= ICR_ASSERTED;
        }
        wr(s, R_ICR, icr);
    }
    causes = icr & rd(s, R_IMS);
    if (!causes) {
        s->msi_sent = 0;
    }
    if (msix || (s->kind == E1000X_82574 && H->pci_msi_enabled(s->dev))) {
        H->pci_set_irq(s->dev, 0);
        if (causes) {
            send_msi(s, causes, msix);
        }
        return;
    }
    trace_e1000x_irq_legacy_notify(causes != 0);
    H->pci_set_irq(s->dev, causes != 0);
}

void e1000x_set_cause(e1000x *s, uint32_t causes)
{
    wr(s, R_ICR, rd(s, R_ICR) | causes);
    e1000x_update_irq(s);
}

/* ICR read (8254x SDM 13.4.17; 82574 datasheet 10.2.4.1): the 82540
 * clears on every read; the 82574 clears outside MSI-X mode, when IMS is
 * 0, or when an unmasked cause is pending, and auto-masks with IAM. */
static uint32_t icr_read(e1000x *s)
{
    uint32_t icr = rd(s, R_ICR);

    if (s->kind == E1000X_82540 || !e1000x_msix(s) || !rd(s, R_IMS) ||
        (icr & rd(s, R_IMS) & ~ICR_ASSERTED)) {
        wr(s, R_ICR, 0);
    }
    if (s->kind == E1000X_82574 && (icr & ICR_ASSERTED) &&
        (rd(s, R_CTRL_EXT) & CTRL_EXT_IAME)) {
        wr(s, R_IMS, rd(s, R_IMS) & ~rd(s, R_IAM));
    }
    e1000x_update_irq(s);
    return icr;
}

static void icr_write(e1000x *s, uint32_t val)
{
    uint32_t icr = rd(s, R_ICR);

    if (s->kind == E1000X_82574) {
        if ((icr & ICR_ASSERTED) && (rd(s, R_CTRL_EXT) & CTRL_EXT_IAME)) {
            wr(s, R_IMS, rd(s, R_IMS) & ~rd(s, R_IAM));
        }
        if (val & ICR_OTHER) {
            icr &= ~ICR_OTHER_CAUSES;
        }
    }
    wr(s, R_ICR, icr & ~val);
    e1000x_update_irq(s);
}

/* ---- link ---- */

static void phy_link(e1000x *s, bool up)
{
    uint16_t *p = s->phy[0];

    if (up) {
        p[PHY_BMSR] |= BMSR_LSTATUS | BMSR_ANEGCOMPLETE;
        p[PHY_ANLPAR] |= ANLPAR_ACK;
        p[PHY_SPEC_STATUS] |= PHY_SPEC_STATUS_LINK;
    } else {
        p[PHY_BMSR] &= ~(BMSR_LSTATUS | BMSR_ANEGCOMPLETE);
        p[PHY_ANLPAR] &= ~ANLPAR_ACK;
        p[PHY_SPEC_STATUS] &= ~PHY_SPEC_STATUS_LINK;
    }
}

/* The backend's link changed (set_link): STATUS.LU, the PHY, and LSC. */
void e1000x_set_link(e1000x *s, bool up)
{
    uint32_t st = rd(s, R_STATUS);

    s->link_up = up;
    phy_link(s, up);
    wr(s, R_STATUS, up ? st | STATUS_LU : st & ~STATUS_LU);
    if (rd(s, R_STATUS) != st) {
        e1000x_set_cause(s, ICR_LSC);
    }
    if (up) {
        e1000x_port_rx_ready(s);
    }
}

/* ---- PHY ---- */

static void phy_reset(e1000x *s)
{
    uint16_t *p = s->phy[0];
    bool e = s->kind == E1000X_82574;

    memset(s->phy, 0, sizeof(s->phy));
    p[PHY_BMCR] = 0x1140; /* 1000 Mb/s, full duplex, autonegotiation */
    p[PHY_BMSR] = 0x796d; /* 10/100 HD/FD, extended status, MF preamble */
    p[PHY_ID1] = 0x0141;  /* Marvell OUI */
    p[PHY_ID2] = s->phy_id2;
    p[PHY_ANAR] = 0x0de1;
    p[PHY_ANLPAR] = e ? 0x07e0 : 0x01e0;
    p[PHY_ANER] = e ? 0x0004 : 0;
    p[7] = e ? 0x2001 : 0; /* next page transmit */
    p[PHY_GBCR] = e ? 0x0f00 : 0x0e00;
    p[PHY_GBSR] = 0x3c00;
    p[PHY_ESTAT] = 0x3000;
    p[PHY_SPEC_CTRL] = e ? 0x3360 : 0x0360;
    p[PHY_SPEC_STATUS] = e ? 0xac08 : 0xac00; /* 1000 FD, resolved, link */
    p[20] = e ? 0 : 0x0d60;
    if (e) {
        s->phy[2][16] = 0x0088; /* MAC specific control 1 */
        s->phy[2][21] = 0x1046; /* MAC specific control 2 */
        s->phy[3][18] = 0x4005; /* LED timer control */
    }
    phy_link(s, s->link_up);
}

/* Registers 0..15 and the page select are on every page of the BME1000;
 * the 82540's M88E1011 has no pages. */
static uint16_t *phy_reg(e1000x *s, unsigned r)
{
    unsigned page = 0;

    if (s->kind == E1000X_82574 && r >= 16 && r != PHY_PAGE_SEL) {
        page = s->phy[0][PHY_PAGE_SEL] % PHY_PAGES;
    }
    return &s->phy[page][r & 31];
}

static bool phy_read_only(e1000x *s, unsigned r)
{
    uint16_t page = s->kind == E1000X_82574 ? s->phy[0][PHY_PAGE_SEL] : 0;

    switch (r) {
    case PHY_BMSR: case PHY_ID1: case PHY_ID2: case PHY_ANLPAR: case PHY_ANER:
    case PHY_GBSR: case PHY_ESTAT:
        return true;
    case PHY_SPEC_STATUS:
    case 21: /* receive error counter */
        return page == 0;
    }
    return false;
}

static void phy_write(e1000x *s, unsigned r, uint16_t val)
{
    if (phy_read_only(s, r)) {
        return;
    }
    if (r == PHY_BMCR) {
        if (val & BMCR_RESET) {
            uint16_t page = s->phy[0][PHY_PAGE_SEL];
            phy_reset(s);
            s->phy[0][PHY_PAGE_SEL] = page;
        }
        /* Reset and restart self-clear; autonegotiation completes at once
         * with the emulated partner (1000BASE-T full duplex). */
        s->phy[0][PHY_BMCR] = val & ~(BMCR_RESET | BMCR_ANRESTART);
        phy_link(s, s->link_up);
        return;
    }
    *phy_reg(s, r) = val;
}

static void mdic_write(e1000x *s, uint32_t val)
{
    unsigned r = val >> MDIC_REG_SHIFT & 31;

    if ((val >> MDIC_PHY_SHIFT & 31) != 1) {
        /* No PHY at that address: the MDIO cycle ends in error. */
        val |= MDIC_ERROR;
    } else if ((val & (3u << 26)) == MDIC_OP_READ) {
        val = (val & ~MDIC_DATA_MASK) | *phy_reg(s, r);
    } else if ((val & (3u << 26)) == MDIC_OP_WRITE) {
        phy_write(s, r, val & MDIC_DATA_MASK);
    } else {
        H->log(TES_LOG_GUEST_ERROR, "%s: MDIC opcode %u is reserved", H->dev_id(s->dev),
               val >> 26 & 3);
        val |= MDIC_ERROR;
    }
    wr(s, R_MDIC, (val | MDIC_READY) & ~(1u << 31));
    if (val & MDIC_INT_EN) {
        e1000x_set_cause(s, ICR_MDAC);
    }
}

/* ---- EEPROM ---- */

void e1000x_build_eeprom(e1000x *s, const uint16_t *templ)
{
    uint16_t sum = 0;

    memcpy(s->eeprom, templ, sizeof(s->eeprom));
    for (int i = 0; i < 3; i++) {
        s->eeprom[i] = (uint16_t)(s->mac[2 * i] | s->mac[2 * i + 1] << 8);
    }
    s->eeprom[0x0d] = s->device_id;
    for (int i = 0; i < EEPROM_WORDS - 1; i++) {
        sum += s->eeprom[i];
    }
    /* Words 0..0x3f add up to 0xbaba (8254x SDM 5.6.1). */
    s->eeprom[EEPROM_WORDS - 1] = (uint16_t)(EEPROM_SUM - sum);
}

/* The 82540's Microwire EEPROM (8254x SDM 5.2): DI is sampled on SK rising
 * edges; after the 3-bit opcode and 6-bit address of a READ, DO presents
 * the word MSB first, one bit per SK falling edge. CS low ends a cycle. */
static uint32_t eecd_read_82540(e1000x *s)
{
    uint32_t v = EECD_PRES | EECD_GNT | (s->ee_old & (EECD_SK | EECD_CS | EECD_DI | EECD_REQ));
    unsigned bit = s->ee_bit_out;

    if (!s->ee_reading || (s->eeprom[(bit >> 4) % EEPROM_WORDS] >> (15 - (bit & 15)) & 1)) {
        v |= EECD_DO;
    }
    return v;
}

static void eecd_write_82540(e1000x *s, uint32_t val)
{
    uint32_t old = s->ee_old;

    s->ee_old = val & (EECD_SK | EECD_CS | EECD_DI | EECD_REQ | 0x30 /* FWE */);
    if (!(val & EECD_CS)) {
        return;
    }
    if (!(old & EECD_CS)) { /* chip select rises: a new command */
        s->ee_in = 0;
        s->ee_bits_in = 0;
        s->ee_bit_out = 0;
        s->ee_reading = false;
    }
    if (!((val ^ old) & EECD_SK)) {
        return;
    }
    if (!(val & EECD_SK)) { /* falling edge: next output bit */
        s->ee_bit_out = (uint16_t)((s->ee_bit_out + 1) & 0x3ff);
        return;
    }
    s->ee_in = s->ee_in << 1 | !!(val & EECD_DI);
    if (++s->ee_bits_in == 9 && !s->ee_reading) {
        /* Start 1, opcode 10 (READ), 6 address bits. */
        s->ee_reading = (s->ee_in >> 6 & 7) == 6;
        s->ee_bit_out = (uint16_t)(((s->ee_in & 0x3f) << 4) - 1) & 0x3ff;
    }
    s->ee_bits_in &= 0x3ff;
}

static void eerd_write(e1000x *s, uint32_t val)
{
    bool e = s->kind == E1000X_82574;
    unsigned shift = e ? EERD_ADDR_SHIFT_82574 : EERD_ADDR_SHIFT_82540;
    uint32_t addr = val >> shift & (e ? 0x3fff : 0xff);
    uint32_t data = addr < EEPROM_WORDS ? s->eeprom[addr] : 0xffff;

    if (!(val & EERD_START)) {
        wr(s, R_EERD, val);
        return;
    }
    /* The read completes at once: DONE with the word in bits 31:16. */
    wr(s, R_EERD, (e ? EERD_DONE_82574 : EERD_DONE_82540) | addr << shift |
                      data << EERD_DATA_SHIFT);
}

static void eewr_write(e1000x *s, uint32_t val)
{
    uint32_t addr = val >> EERD_ADDR_SHIFT_82574 & 0x3fff;

    if ((val & EERD_START) && addr < EEPROM_WORDS) {
        s->eeprom[addr] = (uint16_t)(val >> EERD_DATA_SHIFT);
    }
    wr(s, R_EEWR, (val & ~EERD_START) | EERD_DONE_82574);
}

/* ---- reset ---- */

static void mac_reset_82540(e1000x *s)
{
    wr(s, R_PBA, 0x00100030);
    wr(s, R_LEDCTL, 0x00000602);
    wr(s, R_CTRL, CTRL_SWDPIN2 | CTRL_SWDPIN0 | CTRL_SPD_1000 | CTRL_SLU);
    wr(s, R_MANC, 0x00222300); /* TCO receive, ARP, RMCP, 0x298, MNG2HOST */
}

static void mac_reset_82574(e1000x *s)
{
    wr(s, R_PBA, 0x00140014);
    wr(s, R_LEDCTL, 0x00068302);
    wr(s, R_EXTCNF_CTRL, 1u << 3);
    wr(s, R_EEMNGCTL, EEMNGCTL_CFG_DONE0 | 1u << 31);
    wr(s, R_RXDCTL, 1u << 16);
    wr(s, R_RXDCTL + 0x100, 1u << 16);
    wr(s, R_TIPG, 0x00602008);
    wr(s, R_CTRL, CTRL_FD | CTRL_SWDPIN2 | CTRL_SWDPIN0 | CTRL_SPD_1000 | CTRL_SLU);
    wr(s, R_PSRCTL, 0x00040402);
    wr(s, R_TARC0, 0x3 | 1u << 10);
    wr(s, R_TARC0 + 0x100, 0x3 | 1u << 10);
    wr(s, R_EECD, EECD_AUTO_RD | EECD_PRES);
    wr(s, R_EERD, EERD_DONE_82574);
    wr(s, R_EEWR, EERD_DONE_82574);
    wr(s, R_POEMB, 0x030d);
    wr(s, R_PBS, 0x0028);
    wr(s, R_RXCSUM, 0x300); /* IP and TCP/UDP checksum offload */
    wr(s, R_ITR, 500);
    for (int i = 0; i < 5; i++) {
        wr(s, R_EITR0 + 4 * i, 500);
    }
}

/* Power-on values of the MAC registers; RA[0] holds the EEPROM's address. */
static void mac_reset(e1000x *s)
{
    memset(s->regs, 0, sizeof(s->regs));
    if (s->kind == E1000X_82540) {
        mac_reset_82540(s);
    } else {
        mac_reset_82574(s);
    }
    wr(s, R_STATUS, STATUS_ASDV_1000 | (s->link_up ? STATUS_LU : 0));
    wr(s, R_RA, ld32le(s->mac));
    wr(s, R_RA + 4, (uint32_t)(s->mac[4] | s->mac[5] << 8) | RAH_AV);
    s->msi_sent = 0;
    s->ee_old = s->ee_in = 0;
    s->ee_bits_in = s->ee_bit_out = 0;
    s->ee_reading = false;
    s->ioaddr = 0;
    e1000x_tx_reset(s);
}

void e1000x_reset(e1000x *s)
{
    mac_reset(s);
    phy_reset(s);
    H->pci_set_irq(s->dev, 0);
}

/* CTRL.RST: the MAC, not the PHY and not PCI config space (SDM 13.4.1). */
void e1000x_soft_reset(e1000x *s)
{
    mac_reset(s);
    H->pci_set_irq(s->dev, 0);
}

/* ---- register reads ---- */

static uint32_t status_read(e1000x *s)
{
    uint32_t st = rd(s, R_STATUS) & ~(STATUS_FD | 3u << 6 | STATUS_GIO_MASTER_EN);
    uint32_t ctrl = rd(s, R_CTRL);

    /* Speed and duplex follow what the link resolved unless forced. */
    if (!(ctrl & CTRL_FRCDPX) || (ctrl & CTRL_FD)) {
        st |= STATUS_FD;
    }
    if ((ctrl & CTRL_FRCSPD) || (rd(s, R_CTRL_EXT) & CTRL_EXT_SPD_BYPS)) {
        st |= (ctrl >> 8 & 3) << 6;
    } else {
        st |= STATUS_SPEED_1000;
    }
    if (!(ctrl & (1u << 2))) { /* GIO master disable not requested */
        st |= STATUS_GIO_MASTER_EN;
    }
    return st;
}

/* Statistics (0x4000..0x4127) clear when read; a 64-bit pair clears when
 * its high half is read (the low half is read first). */
static uint32_t stat_read(e1000x *s, uint32_t off)
{
    uint32_t v = rd(s, off);

    switch (off) {
    case S_GORCL: case S_GOTCL: case S_TORL: case S_TOTL:
        return v;
    case S_GORCH: case S_GOTCH: case S_TORH: case S_TOTH:
        wr(s, off - 4, 0);
        break;
    }
    wr(s, off, 0);
    return v;
}

static uint32_t swsm_read(e1000x *s)
{
    uint32_t v = rd(s, R_SWSM);

    /* Reading SMBI as 0 grants the semaphore (82574 datasheet 10.2.2.21). */
    wr(s, R_SWSM, v | SWSM_SMBI);
    return v;
}

static uint32_t mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    e1000x *s = opaque;
    uint32_t off = (uint32_t)addr & ~3u;

    if (off >= MAC_WORDS * 4) {
        return 0; /* flash window, time sync, packet buffer: not modelled */
    }
    if (off >= R_STATS && off < R_STATS_END) {
        return stat_read(s, off);
    }
    switch (off) {
    case R_STATUS: return status_read(s);
    case R_EECD: return s->kind == E1000X_82540 ? eecd_read_82540(s) : rd(s, R_EECD);
    case R_ICR: return icr_read(s);
    case R_ICS: return rd(s, R_ICR); /* reads as ICR without clearing */
    case R_IMC: return 0;
    case R_SWSM: return s->kind == E1000X_82574 ? swsm_read(s) : rd(s, off);
    case R_FWSM: return 0;
    }
    return rd(s, off);
}

/* ---- register writes ---- */

static void ctrl_write(e1000x *s, uint32_t val)
{
    if (val & CTRL_RST) {
        e1000x_soft_reset(s);
        return;
    }
    if ((val & CTRL_PHY_RST) && s->kind == E1000X_82574) {
        wr(s, R_STATUS, rd(s, R_STATUS) | STATUS_PHYRA);
    }
    wr(s, R_CTRL, val & ~CTRL_PHY_RST);
}

static void ims_write(e1000x *s, uint32_t val)
{
    if (s->kind == E1000X_82574) {
        val &= 0x01f782d7; /* the causes the 82574 defines */
    }
    wr(s, R_IMS, rd(s, R_IMS) | val);
    e1000x_update_irq(s);
}

/* Ring and control registers whose writes start DMA or mask fields. */
static bool ring_write(e1000x *s, uint32_t off, uint32_t val)
{
    switch (off) {
    case R_RDLEN: case R_TDLEN: case R_RDLEN + 0x100: case R_TDLEN + 0x100:
        wr(s, off, val & 0xfff80); /* multiple of 128 bytes */
        return true;
    case R_RDBAL: case R_TDBAL: case R_RDBAL + 0x100: case R_TDBAL + 0x100:
        wr(s, off, val & ~0xfu);
        return true;
    case R_RDH: case R_TDH: case R_RDH + 0x100: case R_TDH + 0x100:
        wr(s, off, val & 0xffff);
        return true;
    case R_RDT:
        wr(s, off, val & 0xffff);
        e1000x_port_rx_ready(s);
        return true;
    case R_TDT:
        wr(s, off, val & 0xffff);
        e1000x_start_xmit(s);
        return true;
    case R_TCTL:
        wr(s, off, val);
        e1000x_start_xmit(s);
        return true;
    case R_RCTL:
        wr(s, off, val);
        e1000x_port_rx_ready(s);
        return true;
    }
    return false;
}

/* Interrupt, EEPROM and PHY registers. */
static bool control_write(e1000x *s, uint32_t off, uint32_t val)
{
    switch (off) {
    case R_CTRL: ctrl_write(s, val); return true;
    case R_STATUS:
        if (s->kind == E1000X_82574 && !(val & STATUS_PHYRA)) {
            wr(s, R_STATUS, rd(s, R_STATUS) & ~STATUS_PHYRA);
        }
        return true;
    case R_EECD:
        if (s->kind == E1000X_82540) {
            eecd_write_82540(s, val);
        } else {
            uint32_t ro = EECD_PRES | EECD_AUTO_RD | 0xf << EECD_SIZE_EX_SHIFT;
            wr(s, R_EECD, (rd(s, R_EECD) & ro) | (val & ~ro));
        }
        return true;
    case R_EERD: eerd_write(s, val); return true;
    case R_EEWR: eewr_write(s, val); return true;
    case R_CTRL_EXT: wr(s, off, val & ~(CTRL_EXT_EE_RST | 1u << 12)); return true;
    case R_MDIC: mdic_write(s, val); return true;
    case R_ICR: icr_write(s, val); return true;
    case R_ICS: e1000x_set_cause(s, val); return true;
    case R_IMS: ims_write(s, val); return true;
    case R_IMC:
        wr(s, R_IMS, rd(s, R_IMS) & ~val);
        e1000x_update_irq(s);
        return true;
    case R_VET: case R_ITR: case R_RDTR: case R_RADV: case R_TIDV: case R_TADV:
        wr(s, off, val & 0xffff);
        return true;
    }
    return false;
}

static void mmio_write(void *opaque, uint64_t addr, uint64_t val64, unsigned size)
{
    e1000x *s = opaque;
    uint32_t off = (uint32_t)addr & ~3u, val = (uint32_t)val64;

    if (off >= MAC_WORDS * 4) {
        H->log(TES_LOG_UNIMP, "%s: write of 0x%x to unmodelled offset 0x%x",
               H->dev_id(s->dev), val, off);
        return;
    }
    if (off >= R_STATS && off < R_STATS_END) {
        return; /* statistics are read-only */
    }
    if (!control_write(s, off, val) && !ring_write(s, off, val)) {
        wr(s, off, val);
    }
}

/* Registers are 32 bits wide; narrower accesses read or merge a part. */
static uint64_t mmio_read_any(void *opaque, uint64_t addr, unsigned size)
{
    uint32_t v = mmio_read(opaque, addr, size);

    if (size >= 4) {
        return v;
    }
    return (v >> (8 * (addr & 3))) & ((1u << (8 * size)) - 1);
}

static void mmio_write_any(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    e1000x *s = opaque;

    if (size < 4) {
        uint32_t sh = 8 * (addr & 3), mask = ((1u << (8 * size)) - 1) << sh;
        uint32_t off = (uint32_t)addr & ~3u;
        uint32_t cur = off < MAC_WORDS * 4 ? rd(s, off) : 0;
        val = (cur & ~mask) | ((uint32_t)val << sh & mask);
    }
    mmio_write(opaque, addr & ~3ull, val, 4);
}

TES_TRACE_RW_WRAP(mmio, mmio_read_any, mmio_write_any, e1000x_mmio_read, e1000x_mmio_write)

const tes_mem_ops e1000x_mmio_ops = {
    .size = sizeof(tes_mem_ops),
    .read = mmio_traced_read,
    .write = mmio_traced_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 4,
    .impl_min = 1, .impl_max = 4,
};

/* I/O BAR: IOADDR (offset 0) selects a register, IODATA (offset 4)
 * reaches it (8254x SDM 13.2). */
static uint64_t io_read(void *opaque, uint64_t addr, unsigned size)
{
    e1000x *s = opaque;

    if (addr == 0) {
        return s->ioaddr;
    }
    if (addr == 4 && s->ioaddr < 0x20000) {
        return mmio_read(s, s->ioaddr, 4);
    }
    return 0;
}

static void io_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    e1000x *s = opaque;

    if (addr == 0) {
        s->ioaddr = (uint32_t)val & 0x1fffc;
    } else if (addr == 4) {
        mmio_write(s, s->ioaddr, val, 4);
    }
}

TES_TRACE_RW_WRAP(io, io_read, io_write, e1000x_io_read, e1000x_io_write)

const tes_mem_ops e1000x_io_ops = {
    .size = sizeof(tes_mem_ops),
    .read = io_traced_read,
    .write = io_traced_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 4, .valid_max = 4,
    .impl_min = 4, .impl_max = 4,
};
