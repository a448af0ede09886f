/*
 * e1000x: what the Intel 8254x (e1000) and 82574L (e1000e) models share.
 *
 * Both controllers have the same register file layout (offsets, ring
 * registers, statistics, receive filters), the same legacy descriptors and
 * the same TCP/IP context descriptors; the 82574L adds MSI-X, extended
 * receive descriptors and a paged PHY. One state struct serves both, with
 * `kind` saying which chip it is. Files:
 *
 *   e1000x-regs.c  register file, EEPROM, PHY, interrupts, reset
 *   e1000x-tx.c    transmit ring, context descriptors, checksum and TSO
 *   e1000x-rx.c    receive ring, filters, descriptor write-back
 *   e1000x-port.c  the link to the network backend (tessera/net.h)
 *   e1000x-dev.c   properties, realize, migration, the plugin descriptor
 *   e1000.c, e1000e.c  the two device types (their user manuals)
 */
#ifndef E1000X_H
#define E1000X_H

#include <stddef.h>
#include <string.h>
#include <sys/uio.h>
#include <tessera/tessera.h>

extern const tes_host *H;

typedef enum e1000x_kind { E1000X_82540 = 0, E1000X_82574 = 1 } e1000x_kind;

/* ---- register offsets (8254x SDM 13.4, 82574 datasheet 10.2) ---- */
#define R_CTRL 0x0000
#define R_STATUS 0x0008
#define R_EECD 0x0010
#define R_EERD 0x0014
#define R_CTRL_EXT 0x0018
#define R_FLA 0x001c
#define R_MDIC 0x0020
#define R_FCAL 0x0028
#define R_FCAH 0x002c
#define R_FCT 0x0030
#define R_VET 0x0038
#define R_ICR 0x00c0
#define R_ITR 0x00c4
#define R_ICS 0x00c8
#define R_IMS 0x00d0
#define R_IMC 0x00d8
#define R_EIAC 0x00dc /* 82574 */
#define R_IAM 0x00e0  /* 82574 */
#define R_IVAR 0x00e4 /* 82574 */
#define R_EITR0 0x00e8 /* 82574, 5 registers */
#define R_RCTL 0x0100
#define R_FCTTV 0x0170
#define R_TXCW 0x0178
#define R_RXCW 0x0180
#define R_TCTL 0x0400
#define R_TIPG 0x0410
#define R_LEDCTL 0x0e00
#define R_EXTCNF_CTRL 0x0f00
#define R_POEMB 0x0f10
#define R_PBA 0x1000
#define R_PBS 0x1008
#define R_EEMNGCTL 0x1010
#define R_EEWR 0x102c
#define R_FCRTL 0x2160
#define R_FCRTH 0x2168
#define R_PSRCTL 0x2170
#define R_RDBAL 0x2800
#define R_RDBAH 0x2804
#define R_RDLEN 0x2808
#define R_RDH 0x2810
#define R_RDT 0x2818
#define R_RDTR 0x2820
#define R_RXDCTL 0x2828
#define R_RADV 0x282c
#define R_RSRPD 0x2c00
#define R_TDBAL 0x3800
#define R_TDBAH 0x3804
#define R_TDLEN 0x3808
#define R_TDH 0x3810
#define R_TDT 0x3818
#define R_TIDV 0x3820
#define R_TXDCTL 0x3828
#define R_TADV 0x382c
#define R_TARC0 0x3840
#define R_STATS 0x4000 /* 0x4000..0x4124: statistics, clear on read */
#define R_STATS_END 0x4128
#define R_RXCSUM 0x5000
#define R_RFCTL 0x5008
#define R_MTA 0x5200 /* 128 entries */
#define R_RA 0x5400  /* 16 pairs RAL/RAH */
#define R_VFTA 0x5600 /* 128 entries */
#define R_WUC 0x5800
#define R_WUFC 0x5808
#define R_MANC 0x5820
#define R_GCR 0x5b00
#define R_FACTPS 0x5b30
#define R_SWSM 0x5b50
#define R_FWSM 0x5b54
#define R_GCR2 0x5b64

/* Statistics registers the models count (all in the clear-on-read block). */
#define S_MPC 0x4010
#define S_PRC64 0x405c
#define S_GPRC 0x4074
#define S_BPRC 0x4078
#define S_MPRC 0x407c
#define S_GPTC 0x4080
#define S_GORCL 0x4088
#define S_GORCH 0x408c
#define S_GOTCL 0x4090
#define S_GOTCH 0x4094
#define S_RNBC 0x40a0
#define S_ROC 0x40ac
#define S_TORL 0x40c0
#define S_TORH 0x40c4
#define S_TOTL 0x40c8
#define S_TOTH 0x40cc
#define S_TPR 0x40d0
#define S_TPT 0x40d4
#define S_PTC64 0x40d8
#define S_MPTC 0x40f0
#define S_BPTC 0x40f4
#define S_TSCTC 0x40f8
#define S_IAC 0x4100

/* The register file covers 0x0000..0x5fff; the rest of the 128 KiB BAR
 * (flash window, time sync, packet buffer) reads as zero. */
#define MAC_WORDS 0x1800

/* ---- register bits ---- */
#define CTRL_FD (1u << 0)
#define CTRL_SLU (1u << 6)
#define CTRL_SPD_1000 (2u << 8)
#define CTRL_FRCSPD (1u << 11)
#define CTRL_FRCDPX (1u << 12)
#define CTRL_SWDPIN0 (1u << 18)
#define CTRL_SWDPIN2 (1u << 20)
#define CTRL_ADVD3WUC (1u << 20)
#define CTRL_RST (1u << 26)
#define CTRL_VME (1u << 30)
#define CTRL_PHY_RST (1u << 31)

#define STATUS_FD (1u << 0)
#define STATUS_LU (1u << 1)
#define STATUS_TXOFF (1u << 4)
#define STATUS_SPEED_1000 (2u << 6)
#define STATUS_ASDV_1000 (2u << 8)
#define STATUS_PHYRA (1u << 10)
#define STATUS_GIO_MASTER_EN (1u << 19)

#define EECD_SK (1u << 0)
#define EECD_CS (1u << 1)
#define EECD_DI (1u << 2)
#define EECD_DO (1u << 3)
#define EECD_REQ (1u << 6)
#define EECD_GNT (1u << 7)
#define EECD_PRES (1u << 8)
#define EECD_AUTO_RD (1u << 9)
#define EECD_SIZE_EX_SHIFT 11

#define EERD_START (1u << 0)
#define EERD_DONE_82540 (1u << 4)
#define EERD_ADDR_SHIFT_82540 8
#define EERD_DONE_82574 (1u << 1)
#define EERD_ADDR_SHIFT_82574 2
#define EERD_DATA_SHIFT 16

#define CTRL_EXT_EE_RST (1u << 13)
#define CTRL_EXT_SPD_BYPS (1u << 15)
#define CTRL_EXT_EIAME (1u << 24)
#define CTRL_EXT_IAME (1u << 27)
#define CTRL_EXT_PBA_CLR (1u << 31)

#define MDIC_DATA_MASK 0xffffu
#define MDIC_REG_SHIFT 16
#define MDIC_PHY_SHIFT 21
#define MDIC_OP_WRITE (1u << 26)
#define MDIC_OP_READ (2u << 26)
#define MDIC_READY (1u << 28)
#define MDIC_INT_EN (1u << 29)
#define MDIC_ERROR (1u << 30)

#define ICR_TXDW (1u << 0)
#define ICR_TXQE (1u << 1)
#define ICR_LSC (1u << 2)
#define ICR_RXSEQ (1u << 3)
#define ICR_RXDMT0 (1u << 4)
#define ICR_RXO (1u << 6)
#define ICR_RXT0 (1u << 7)
#define ICR_MDAC (1u << 9)
#define ICR_TXD_LOW (1u << 15)
#define ICR_SRPD (1u << 16)
#define ICR_ACK (1u << 17)
#define ICR_MNG (1u << 18)
#define ICR_RXQ0 (1u << 20)
#define ICR_RXQ1 (1u << 21)
#define ICR_TXQ0 (1u << 22)
#define ICR_TXQ1 (1u << 23)
#define ICR_OTHER (1u << 24)
#define ICR_ASSERTED (1u << 31)
/* Causes that the 82574 reports through ICR.OTHER in MSI-X mode. */
#define ICR_OTHER_CAUSES (ICR_LSC | ICR_RXO | ICR_MDAC | ICR_SRPD | ICR_ACK | ICR_MNG)

#define IVAR_VALID 0x8u
#define IVAR_TX_EVERY_WB (1u << 31)

#define RCTL_EN (1u << 1)
#define RCTL_SBP (1u << 2)
#define RCTL_UPE (1u << 3)
#define RCTL_MPE (1u << 4)
#define RCTL_LPE (1u << 5)
#define RCTL_LBM_MASK (3u << 6)
#define RCTL_LBM_MAC (1u << 6)
#define RCTL_RDMTS_SHIFT 8
#define RCTL_DTYP_MASK (3u << 10)
#define RCTL_MO_SHIFT 12
#define RCTL_BAM (1u << 15)
#define RCTL_BSIZE_SHIFT 16
#define RCTL_VFE (1u << 18)
#define RCTL_BSEX (1u << 25)
#define RCTL_SECRC (1u << 26)
#define RCTL_FLXBUF_SHIFT 27

#define RFCTL_EXTEN (1u << 15)

#define TCTL_EN (1u << 1)

#define RAH_AV (1u << 31)

#define SWSM_SMBI (1u << 0)
#define EXTCNF_MDIO_SW (1u << 5)
#define EEMNGCTL_CFG_DONE0 (1u << 18)

/* ---- descriptors ---- */
#define DESC_LEN 16
#define TXD_DEXT (1u << 29)
#define TXD_DTYP_D (1u << 20)
#define TXD_CMD_EOP (1u << 24)
#define TXD_CMD_IC (1u << 26)  /* legacy: insert checksum */
#define TXD_CMD_TSE (1u << 26) /* extended: TCP segmentation */
#define TXD_CMD_RS (1u << 27)
#define TXD_CMD_RPS (1u << 28)
#define TXD_CMD_VLE (1u << 30)
#define TXD_CMD_IDE (1u << 31)
#define TXD_CTX_TCP (1u << 24) /* context TUCMD: TCP (else UDP) */
#define TXD_CTX_IP (1u << 25)  /* context TUCMD: IPv4 (else IPv6) */
#define TXD_STAT_DD 0x1
#define TXD_POPTS_IXSM 0x1
#define TXD_POPTS_TXSM 0x2

#define RXD_STAT_DD 0x01
#define RXD_STAT_EOP 0x02
#define RXD_STAT_IXSM 0x04
#define RXD_STAT_VP 0x08

/* ---- PHY (IEEE 802.3 clause 22 plus Marvell 88E1011 / BME1000) ---- */
#define PHY_BMCR 0
#define PHY_BMSR 1
#define PHY_ID1 2
#define PHY_ID2 3
#define PHY_ANAR 4
#define PHY_ANLPAR 5
#define PHY_ANER 6
#define PHY_GBCR 9
#define PHY_GBSR 10
#define PHY_ESTAT 15
#define PHY_SPEC_CTRL 16
#define PHY_SPEC_STATUS 17
#define PHY_PAGE_SEL 22 /* BME1000: page of registers 16..21, 23..28 */
#define PHY_PAGES 8

#define BMCR_RESET (1u << 15)
#define BMCR_LOOPBACK (1u << 14)
#define BMCR_ANENABLE (1u << 12)
#define BMCR_ANRESTART (1u << 9)
#define BMSR_LSTATUS (1u << 2)
#define BMSR_ANEGCOMPLETE (1u << 5)
#define ANLPAR_ACK (1u << 14)
#define PHY_SPEC_STATUS_LINK (1u << 10)

#define EEPROM_WORDS 64
#define EEPROM_SUM 0xbaba

/* ---- the transmit path's state ---- */
#define TX_BUF_MAX (64 * 1024 + 256) /* one packet, or one TSO segment */
#define RX_FRAME_MAX 16384 /* long packets (RCTL.LPE) up to 16 KiB */

typedef struct tx_ctx {
    uint8_t ipcss, ipcso, tucss, tucso;
    uint16_t ipcse, tucse;
    uint32_t paylen;
    uint8_t hdr_len;
    uint16_t mss;
    bool ipv4, tcp, tse;
} tx_ctx;

typedef struct e1000x {
    tes_device *dev;
    e1000x_kind kind;
    uint16_t device_id, phy_id2;

    /* properties */
    tes_netdev *nd; /* netdev=: NULL leaves the NIC unplugged (net.h) */
    uint8_t mac[6]; /* mac=: unset gives QEMU's next default */

    uint32_t regs[MAC_WORDS];
    uint16_t phy[PHY_PAGES][32];
    uint16_t eeprom[EEPROM_WORDS];
    uint32_t ioaddr; /* I/O BAR: IOADDR selects the register IODATA reaches */

    /* Microwire EEPROM behind EECD (82540; Linux e1000 bit-bangs it). */
    uint32_t ee_in, ee_old;
    uint16_t ee_bits_in, ee_bit_out;
    bool ee_reading;

    /* Interrupt causes already signalled by MSI/MSI-X and not yet cleared. */
    uint32_t msi_sent;

    /* Transmit: contexts (non-TSO and TSO, as the hardware keeps both),
     * the packet or segment being assembled, and TSO progress. */
    tx_ctx ctx[2];
    uint32_t tx_len;   /* bytes in tx_buf */
    uint32_t tx_sent;  /* TSO payload bytes already sent in segments */
    uint16_t tx_frames; /* TSO segments sent */
    uint8_t tx_popts;
    uint8_t tx_cso, tx_css; /* legacy descriptor checksum (CMD.IC) */
    bool tx_active, tx_ic, tx_tse, tx_vlan, tx_drop;
    bool tx_gso; /* this TSO packet goes to the backend whole (e1000x-tx.c) */
    uint16_t tx_vlan_tci;
    uint8_t tx_hdr[256];
    uint8_t tx_buf[TX_BUF_MAX];

    /* A received frame, made linear for filtering, VLAN strip and FCS. */
    uint8_t rx_buf[RX_FRAME_MAX + 8];

    bool link_up;  /* the backend's link (set_link) */
    bool in_tx, in_rx; /* re-entrancy guards: DMA may hit our own BAR */
} e1000x;

/* ---- register file helpers ---- */
static inline uint32_t *reg(e1000x *s, uint32_t off)
{
    return &s->regs[(off >> 2) % MAC_WORDS];
}

static inline uint32_t rd(e1000x *s, uint32_t off)
{
    return *reg(s, off);
}

static inline void wr(e1000x *s, uint32_t off, uint32_t v)
{
    *reg(s, off) = v;
}

static inline void stat_inc(e1000x *s, uint32_t off)
{
    uint32_t *r = reg(s, off);

    if (*r != UINT32_MAX) {
        (*r)++; /* counters saturate (8254x SDM 13.6) */
    }
}

/* A 64-bit low/high counter pair. */
static inline void stat_add64(e1000x *s, uint32_t lo, uint64_t n)
{
    uint64_t v = ((uint64_t)rd(s, lo + 4) << 32 | rd(s, lo)) + n;

    wr(s, lo, (uint32_t)v);
    wr(s, lo + 4, (uint32_t)(v >> 32));
}

static inline uint16_t ld16be(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void st16be(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = (uint8_t)v;
}

static inline uint32_t ld32le(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void st32le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static inline uint64_t ld64le(const uint8_t *p)
{
    return ld32le(p) | (uint64_t)ld32le(p + 4) << 32;
}

/* e1000x-regs.c */
extern const tes_mem_ops e1000x_mmio_ops, e1000x_io_ops;
void e1000x_reset(e1000x *s);
void e1000x_soft_reset(e1000x *s);
void e1000x_build_eeprom(e1000x *s, const uint16_t *templ);
void e1000x_set_cause(e1000x *s, uint32_t causes);
void e1000x_update_irq(e1000x *s);
void e1000x_set_link(e1000x *s, bool up);
bool e1000x_msix(e1000x *s);

/* e1000x-tx.c */
void e1000x_start_xmit(e1000x *s);
void e1000x_tx_reset(e1000x *s);

/* e1000x-rx.c */
bool e1000x_can_receive(e1000x *s);
/* Take one frame: its length when consumed (stored or dropped by the
 * filters), 0 when the ring has no room (the backend keeps it). */
size_t e1000x_receive(e1000x *s, const struct iovec *iov, unsigned iovcnt);
uint32_t e1000x_rx_buf_size(e1000x *s);

/* e1000x-port.c: the backend seam */
int e1000x_port_open(e1000x *s);
void e1000x_port_send(e1000x *s, const tes_net_hdr *hdr, const struct iovec *iov,
                      unsigned iovcnt);
void e1000x_port_rx_ready(e1000x *s);

/* e1000x-dev.c: properties, realize, reset and migration of both types */
extern const tes_prop_info e1000x_props[];
extern const tes_state_info e1000x_state;
int e1000x_realize(tes_device *dev, e1000x *s, const uint16_t *eeprom_templ);
void e1000x_unrealize(tes_device *dev, void *opaque);
void e1000x_type_reset(tes_device *dev, void *opaque);
void e1000x_config_write(tes_device *dev, void *opaque, uint32_t off, uint32_t val,
                         unsigned len);

/* e1000.c, e1000e.c */
extern const tes_type_info e1000_type, e1000e_type;

#endif
