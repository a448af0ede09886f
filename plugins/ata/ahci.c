/*
 * ich9-ahci: the ICH9 SATA controller in AHCI mode, PCI 8086:2922, class
 * 0x010601 (Serial ATA Advanced Host Controller Interface 1.3).
 *
 * User manual
 *
 *   -device ich9-ahci[,id=ID]      (q35 has one at 00:1f.2, like QEMU's)
 *   -device ide-hd,drive=D,bus=ide.N     (N = port 0..5)
 *   -device ide-cd[,drive=C],bus=ide.N
 *
 * No properties of its own. Six ports, each an IDE bus of one unit (ide.N
 * over all the machine's IDE buses, or ID.N with id=). ABAR is BAR5
 * (4 KiB): the generic host control registers and the port registers from
 * 0x100. 32 command slots per port, 64-bit addressing, NCQ (READ/WRITE
 * FPDMA QUEUED), staggered spin-up not supported. Interrupts: MSI (one
 * vector) when the guest enables it, INTA# otherwise.
 *
 * Commands come from the command list (PxCLB) when PxCI is written with
 * PxCMD.ST set; the command FIS and ATAPI packet are read from the
 * command table, data moves through its PRDT straight to and from the
 * drive (ide-xfer.c). Results go to the FIS receive area (when PxCMD.FRE
 * is set) as D2H Register, PIO Setup and Set Device Bits FISes, and to
 * PxTFD. COMRESET (PxSCTL.DET 1 then 0) and the software reset FIS pair
 * reset the device and post its signature.
 *
 * Guest mistakes are bounded and logged under -d guest_errors: a command
 * header or table outside RAM or a FIS that is not a Register H2D fails
 * the command with TFES; PRDTs (at most 65535 entries of at most 4 MiB)
 * shorter than the data, or pointing outside RAM, abort it (ERR, ABRT).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ata.h"
#include "ata-trace.h"

#define NPORTS 6
#define NSLOTS 32
#define ABAR_SIZE 0x1000
#define PORT_BASE 0x100
#define PORT_SIZE 0x80

/* HBA registers (AHCI 1.3 section 3.1). */
#define CAP 0x00
#define GHC 0x04
#define HBA_IS 0x08
#define PI 0x0c
#define VS 0x10
#define CAP2 0x24
#define GHC_HR 0x1u
#define GHC_IE 0x2u
#define GHC_AE 0x80000000u
#define CAP_VALUE (0x80000000u /* S64A */ | 0x40000000u /* SNCQ */ | 0x00040000u /* SAM */ | \
                   1u << 20 /* Gen 1 */ | (NSLOTS - 1) << 8 | (NPORTS - 1))

/* Port registers (section 3.3). */
enum {
    P_CLB = 0x00, P_CLBU = 0x04, P_FB = 0x08, P_FBU = 0x0c, P_IS = 0x10, P_IE = 0x14,
    P_CMD = 0x18, P_TFD = 0x20, P_SIG = 0x24, P_SSTS = 0x28, P_SCTL = 0x2c, P_SERR = 0x30,
    P_SACT = 0x34, P_CI = 0x38, P_SNTF = 0x3c,
};
#define CMD_ST 0x1u
#define CMD_SUD 0x2u
#define CMD_POD 0x4u
#define CMD_CLO 0x8u
#define CMD_FRE 0x10u
#define CMD_FR 0x4000u
#define CMD_CR 0x8000u
#define CMD_ATAPI 0x01000000u
#define CMD_WMASK (CMD_ST | CMD_FRE | CMD_ATAPI | 0xf0000000u | 0x00fc0000u)
#define IS_DHRS 0x1u
#define IS_PSS 0x2u
#define IS_SDBS 0x8u
#define IS_HBFS 0x20000000u
#define IS_TFES 0x40000000u
#define IS_MASK 0xfdc000ffu

/* FIS receive area offsets (section 4.2.1). */
#define RX_PIO 0x20
#define RX_D2H 0x40
#define RX_SDB 0x58

typedef struct ahci ahci;

typedef struct ahci_port {
    ahci *s;
    unsigned idx;
    ide_bus bus;
    /* registers */
    uint32_t clb, clbu, fb, fbu, is, ie, cmd, tfd, sig, ssts, sctl, serr, sact, ci, sntf;
    /* run time (not migrated: every command has ended once drained) */
    uint32_t issued;      /* CI slots taken for execution */
    int cur;              /* the non-queued command running, -1 none */
    uint64_t cur_ctba;
    uint32_t cur_prdtl;
    bool processing;
    uint64_t ncq_ctba[NSLOTS];
    ide_xfer ncq[NSLOTS];
} ahci_port;

struct ahci {
    tes_device *dev;
    uint32_t ghc, is;
    ahci_port port[NPORTS];
};

static void port_process(ahci_port *pt);

static ide_unit *port_unit(ahci_port *pt)
{
    return pt->bus.unit[0];
}

static void port_log(ahci_port *pt, const char *what, uint64_t addr)
{
    if (H->log_enabled(TES_LOG_GUEST_ERROR)) {
        H->log(TES_LOG_GUEST_ERROR, "ich9-ahci %s: port %u: %s at 0x%llx", H->dev_id(pt->s->dev),
               pt->idx, what, (unsigned long long)addr);
    }
}

/* ---- interrupts (section 5.6) ---- */

static void update_irq(ahci *s, bool notify)
{
    bool level;

    for (unsigned p = 0; p < NPORTS; p++) {
        if (s->port[p].is & s->port[p].ie) {
            s->is |= 1u << p;
        }
    }
    level = (s->ghc & GHC_IE) && s->is;
    trace_ahci_irq(level, H->pci_msi_enabled(s->dev));
    if (H->pci_msi_enabled(s->dev)) {
        H->pci_set_irq(s->dev, 0);
        if (level && notify) {
            ata_dma_depth++;
            H->pci_notify(s->dev, 0);
            ata_dma_depth--;
        }
    } else {
        H->pci_set_irq(s->dev, level);
    }
}

static void port_irq(ahci_port *pt, uint32_t bits)
{
    pt->is |= bits;
    update_irq(pt->s, (bits & pt->ie) != 0);
}

/* ---- FISes ---- */

static uint64_t fb_addr(ahci_port *pt)
{
    return (uint64_t)pt->fbu << 32 | pt->fb;
}

static void fis_write(ahci_port *pt, unsigned off, const uint8_t *fis, unsigned len)
{
    if (!(pt->cmd & CMD_FRE)) {
        return;
    }
    ata_dma_depth++;
    if (H->dma_write(pt->s->dev, fb_addr(pt) + off, fis, len) != TES_MEM_OK) {
        port_log(pt, "FIS receive area is not in RAM", fb_addr(pt));
    }
    ata_dma_depth--;
}

static void tf_to_fis(ide_unit *u, uint8_t *f)
{
    f[2] = u->status;
    f[3] = u->error;
    f[4] = u->sector;
    f[5] = u->lcyl;
    f[6] = u->hcyl;
    f[7] = u->select;
    f[8] = u->hob_sector;
    f[9] = u->hob_lcyl;
    f[10] = u->hob_hcyl;
    f[12] = u->nsector;
    f[13] = u->hob_nsector;
}

static void post_d2h(ahci_port *pt, ide_unit *u)
{
    uint8_t f[20] = {0x34, 0x40};

    tf_to_fis(u, f);
    pt->tfd = u->status | (uint32_t)u->error << 8;
    fis_write(pt, RX_D2H, f, sizeof(f));
    port_irq(pt, IS_DHRS | ((u->status & ST_ERR) ? IS_TFES : 0));
}

/* PIO data-in results are read from the PIO Setup FIS's E_Status
 * (Linux's ahci_qc_fill_rtf), so PIO commands post one too. */
static void post_pio_setup(ahci_port *pt, ide_unit *u, bool to_host, uint32_t bytes)
{
    uint8_t f[20] = {0x5f, (uint8_t)(0x40 | (to_host ? 0x20 : 0))};

    tf_to_fis(u, f);
    f[15] = u->status;
    put16(f + 16, (uint16_t)bytes);
    fis_write(pt, RX_PIO, f, sizeof(f));
    pt->is |= IS_PSS;
}

static void post_signature(ahci_port *pt)
{
    ide_unit *u = port_unit(pt);

    if (!u) {
        pt->ssts = 0;
        pt->sig = 0xffffffffu;
        pt->tfd = 0x7f;
        return;
    }
    pt->ssts = 0x113; /* device present, Gen 1, active */
    pt->sig = u->nsector | u->sector << 8 | u->lcyl << 16 | (uint32_t)u->hcyl << 24;
    post_d2h(pt, u);
}

/* ---- the command list (section 4.2.2) ---- */

static void slot_end(ahci_port *pt, unsigned slot)
{
    pt->ci &= ~(1u << slot);
    pt->issued &= ~(1u << slot);
}

static int build_prdt(ahci_port *pt, uint64_t ctba, uint32_t prdtl, ide_xfer *x, uint64_t need)
{
    unsigned cap = 0;
    uint64_t total = 0;

    for (uint32_t i = 0; i < prdtl && total < need; i++) {
        uint8_t e[16];
        uint64_t addr = ctba + 0x80 + 16ull * i;

        if (H->dma_read(pt->s->dev, addr, e, 16) != TES_MEM_OK) {
            port_log(pt, "PRDT entry is not in RAM", addr);
            return -EINVAL;
        }
        addr = ((uint64_t)get32(e + 4) << 32 | get32(e)) & ~1ull;
        if (!ide_sg_add(&x->sg, &x->sg_n, &cap, addr, (get32(e + 12) & 0x3fffff) + 1ull)) {
            return -EINVAL;
        }
        total += (get32(e + 12) & 0x3fffff) + 1ull;
    }
    return 0;
}

static int ahci_sg_build(ide_bus *b, ide_unit *u, ide_xfer *x, uint64_t need)
{
    ahci_port *pt = b->opaque;

    if (pt->cur < 0) {
        return -EINVAL;
    }
    return build_prdt(pt, pt->cur_ctba, pt->cur_prdtl, x, need);
}

static void write_prdbc(ahci_port *pt, unsigned slot, uint32_t bytes)
{
    uint64_t at = ((uint64_t)pt->clbu << 32 | pt->clb) + 32ull * slot + 4;
    uint8_t b[4];

    put32(b, bytes);
    ata_dma_depth++;
    if (H->dma_write(pt->s->dev, at, b, 4) != TES_MEM_OK) {
        port_log(pt, "command header is not in RAM", at);
    }
    ata_dma_depth--;
}

static void ahci_cmd_done(ide_bus *b, ide_unit *u)
{
    ahci_port *pt = b->opaque;
    int slot = pt->cur;

    if (slot < 0) {
        return; /* a device reset from the control FIS: no slot */
    }
    pt->cur = -1;
    write_prdbc(pt, (unsigned)slot, (uint32_t)u->x.done);
    if (u->proto == IDE_PROTO_PIO_IN || u->proto == IDE_PROTO_PIO_OUT ||
        (u->proto == IDE_PROTO_PACKET && !u->dma)) {
        post_pio_setup(pt, u, u->proto != IDE_PROTO_PIO_OUT, (uint32_t)u->x.done);
    }
    slot_end(pt, (unsigned)slot);
    post_d2h(pt, u);
    port_process(pt);
}

static void ahci_pio_irq(ide_bus *b, ide_unit *u)
{
    /* Never called: AHCI moves PIO data through the PRDT (sg_only). */
}

static void ahci_ncq_done(ide_bus *b, ide_unit *u, ide_xfer *x, int err)
{
    ahci_port *pt = b->opaque;
    unsigned slot = (unsigned)(x - pt->ncq);
    uint8_t f[8] = {0xa1, 0x40, ST_DRDY};

    if (err) {
        u->status = ST_DRDY | ST_ERR;
        u->error = ER_ABRT;
        pt->tfd = u->status | (uint32_t)u->error << 8;
        port_irq(pt, IS_TFES);
        return;
    }
    put32(f + 4, 1u << slot);
    fis_write(pt, RX_SDB, f, sizeof(f));
    pt->sact &= ~(1u << slot);
    port_irq(pt, IS_SDBS);
}

static void ahci_drain(ide_bus *b)
{
    ahci_port *pt = b->opaque;
    ahci *s = pt->s;

    for (unsigned p = 0; p < NPORTS; p++) {
        if (port_unit(&s->port[p])) {
            ide_unit_drain(port_unit(&s->port[p]));
        }
    }
}

/* The link comes up with the device's signature (no FIS: nobody has
 * set up a receive area yet). */
static void ahci_attach(ide_bus *b, ide_unit *u)
{
    ahci_port *pt = b->opaque;

    pt->ssts = 0x113;
    pt->sig = u->nsector | u->sector << 8 | u->lcyl << 16 | (uint32_t)u->hcyl << 24;
    pt->tfd = u->status | (uint32_t)u->error << 8;
}

static const ide_bus_ops ahci_bus_ops = {
    .attach = ahci_attach,
    .sg_build = ahci_sg_build,
    .cmd_done = ahci_cmd_done,
    .pio_irq = ahci_pio_irq,
    .ncq_done = ahci_ncq_done,
    .drain = ahci_drain,
};

/* Fail a slot before it reached the device (bad header, table, FIS). */
static void slot_fail(ahci_port *pt, unsigned slot, const char *why, uint64_t addr)
{
    port_log(pt, why, addr);
    slot_end(pt, slot);
    pt->tfd = ST_DRDY | ST_ERR | (uint32_t)ER_ABRT << 8;
    port_irq(pt, IS_TFES);
}

static void load_taskfile(ide_unit *u, const uint8_t *f)
{
    u->command = f[2];
    u->feature = f[3];
    u->sector = f[4];
    u->lcyl = f[5];
    u->hcyl = f[6];
    u->select = f[7] | 0xa0;
    u->hob_sector = f[8];
    u->hob_lcyl = f[9];
    u->hob_hcyl = f[10];
    u->hob_feature = f[11];
    u->nsector = f[12];
    u->hob_nsector = f[13];
}

/* A Register FIS with C = 0: the device control register. SRST set then
 * cleared is the software reset (ATA8-AST 11.4): the device answers the
 * second FIS with its signature. */
static void control_fis(ahci_port *pt, ide_unit *u, unsigned slot, uint8_t ctl)
{
    bool was = u->ctl & CTL_SRST;

    slot_end(pt, slot);
    u->ctl = ctl;
    if (ctl & CTL_SRST) {
        pt->tfd = ST_BSY;
        if (pt->cur >= 0) { /* the reset ends the command in progress */
            slot_end(pt, (unsigned)pt->cur);
            pt->cur = -1;
        }
    } else if (was) {
        ide_unit_reset(u, false);
        post_signature(pt);
    }
}

static void ncq_start(ahci_port *pt, ide_unit *u, unsigned slot, uint64_t ctba, uint32_t prdtl)
{
    uint32_t count = (uint32_t)u->hob_feature << 8 | u->feature;
    uint64_t lba = (uint64_t)u->hob_hcyl << 40 | (uint64_t)u->hob_lcyl << 32 |
                   (uint64_t)u->hob_sector << 24 | (uint64_t)u->hcyl << 16 | u->lcyl << 8 |
                   u->sector;
    ide_xfer *x = &pt->ncq[slot];

    count = count ? count : 65536;
    slot_end(pt, slot); /* accepted: CI clears, SActive stays until done */
    if (x->busy) {
        slot_fail(pt, slot, "NCQ tag reused while in flight", slot);
        return;
    }
    ide_xfer_free_sg(x);
    x->tag = (int)slot;
    if (build_prdt(pt, ctba, prdtl, x, (uint64_t)count * IDE_SECTOR) < 0 ||
        !ide_ncq_start(u, x, u->command == 0x61, lba, count)) {
        ide_xfer_free_sg(x);
        u->status = ST_DRDY | ST_ERR;
        u->error = ER_ABRT;
        pt->tfd = u->status | (uint32_t)u->error << 8;
        port_irq(pt, IS_TFES);
    }
}

static void slot_start(ahci_port *pt, unsigned slot)
{
    uint64_t hdr = ((uint64_t)pt->clbu << 32 | pt->clb) + 32ull * slot, ctba;
    uint8_t h[16], t[0x50];
    ide_unit *u = port_unit(pt);

    if (H->dma_read(pt->s->dev, hdr, h, 16) != TES_MEM_OK) {
        slot_fail(pt, slot, "command header is not in RAM", hdr);
        return;
    }
    ctba = ((uint64_t)get32(h + 12) << 32 | get32(h + 8)) & ~0x7full;
    if (H->dma_read(pt->s->dev, ctba, t, sizeof(t)) != TES_MEM_OK) {
        slot_fail(pt, slot, "command table is not in RAM", ctba);
        return;
    }
    if (t[0] != 0x27) {
        slot_fail(pt, slot, "command FIS is not a Register H2D FIS", ctba);
        return;
    }
    if (!(t[1] & 0x80)) {
        control_fis(pt, u, slot, t[15]);
        return;
    }
    load_taskfile(u, t);
    if (u->command == 0x60 || u->command == 0x61) {
        ncq_start(pt, u, slot, ctba, get32(h) >> 16);
        return;
    }
    memcpy(u->packet, t + 0x40, 16);
    pt->cur = (int)slot;
    pt->cur_ctba = ctba;
    pt->cur_prdtl = get32(h) >> 16;
    u->x.done = 0;
    pt->tfd = ST_BSY;
    ide_exec(u);
}

static void port_process(ahci_port *pt)
{
    if (pt->processing) {
        return;
    }
    pt->processing = true;
    while (pt->cur < 0 && (pt->cmd & CMD_ST) && port_unit(pt)) {
        uint32_t pending = pt->ci & ~pt->issued;
        unsigned slot;

        if (!pending) {
            break;
        }
        slot = (unsigned)__builtin_ctz(pending);
        pt->issued |= 1u << slot;
        slot_start(pt, slot);
    }
    pt->processing = false;
}

/* ---- port registers ---- */

static void port_stop(ahci_port *pt)
{
    ide_unit *u = port_unit(pt);

    if (u) {
        u->x.cancel = true;
        for (unsigned i = 0; i < NSLOTS; i++) {
            pt->ncq[i].cancel = true;
        }
        ide_unit_drain(u);
        if (u->proto != IDE_PROTO_NONE) {
            u->proto = IDE_PROTO_NONE;
            u->status = u->cd ? 0 : ST_DRDY | ST_DSC;
        }
    }
    for (unsigned i = 0; i < NSLOTS; i++) {
        ide_xfer_free_sg(&pt->ncq[i]);
        pt->ncq[i].cancel = false;
    }
    pt->ci = pt->sact = pt->issued = 0;
    pt->cur = -1;
}

static void port_cmd_write(ahci_port *pt, uint32_t val)
{
    uint32_t old = pt->cmd;

    pt->cmd = (old & ~CMD_WMASK) | (val & CMD_WMASK) | CMD_SUD | CMD_POD;
    if (val & CMD_CLO) {
        pt->tfd &= ~(uint32_t)(ST_BSY | ST_DRQ);
    }
    if (pt->cmd & CMD_FRE) {
        pt->cmd |= CMD_FR;
    } else {
        pt->cmd &= ~CMD_FR;
    }
    if ((pt->cmd & CMD_ST) && !(old & CMD_ST)) {
        pt->cmd |= CMD_CR;
        port_process(pt);
    } else if (!(pt->cmd & CMD_ST) && (old & CMD_ST)) {
        port_stop(pt);
        pt->cmd &= ~CMD_CR;
    }
}

/* COMRESET: DET 1 holds the link in reset, 0 lets the device come up and
 * send its signature (SATA 3.3 10.4, what Linux's hardreset does). */
static void port_sctl_write(ahci_port *pt, uint32_t val)
{
    uint32_t old = pt->sctl;

    pt->sctl = val & 0xfff;
    if ((old & 0xf) == 1 && (val & 0xf) != 1) {
        ide_unit *u = port_unit(pt);
        /* Software stops the port first (AHCI 1.3 10.4.2); if it did
         * not, the commands in progress end with the link. */
        port_stop(pt);
        if (u) {
            ide_unit_reset(u, false);
        }
        post_signature(pt);
    } else if ((val & 0xf) == 1) {
        pt->ssts = 0;
        pt->tfd = port_unit(pt) ? 0x80 : 0x7f;
    }
}

static uint32_t port_read(ahci_port *pt, unsigned reg)
{
    switch (reg) {
    case P_CLB: return pt->clb;
    case P_CLBU: return pt->clbu;
    case P_FB: return pt->fb;
    case P_FBU: return pt->fbu;
    case P_IS: return pt->is;
    case P_IE: return pt->ie;
    case P_CMD:
        return (pt->cmd & ~0x1f00u) | (pt->cur >= 0 ? (uint32_t)pt->cur << 8 : 0);
    case P_TFD: return pt->tfd;
    case P_SIG: return pt->sig;
    case P_SSTS: return pt->ssts;
    case P_SCTL: return pt->sctl;
    case P_SERR: return pt->serr;
    case P_SACT: return pt->sact;
    case P_CI: return pt->ci;
    case P_SNTF: return pt->sntf;
    default: return 0;
    }
}

static void port_write(ahci_port *pt, unsigned reg, uint32_t val)
{
    switch (reg) {
    case P_CLB: pt->clb = val & ~0x3ffu; break;
    case P_CLBU: pt->clbu = val; break;
    case P_FB: pt->fb = val & ~0xffu; break;
    case P_FBU: pt->fbu = val; break;
    case P_IS:
        pt->is &= ~val;
        update_irq(pt->s, true);
        break;
    case P_IE:
        pt->ie = val & IS_MASK;
        update_irq(pt->s, true);
        break;
    case P_CMD: port_cmd_write(pt, val); break;
    case P_SCTL: port_sctl_write(pt, val); break;
    case P_SERR: pt->serr &= ~val; break;
    case P_SNTF: pt->sntf &= ~val; break;
    case P_SACT:
        if (pt->cmd & CMD_ST) {
            pt->sact |= val;
        }
        break;
    case P_CI:
        if (pt->cmd & CMD_ST) {
            pt->ci |= val;
            port_process(pt);
        }
        break;
    default:
        break;
    }
}

/* ---- HBA ---- */

static void port_reset(ahci_port *pt)
{
    port_stop(pt);
    pt->clb = pt->clbu = pt->fb = pt->fbu = 0;
    pt->is = pt->ie = pt->serr = pt->sntf = pt->sctl = 0;
    pt->cmd = CMD_SUD | CMD_POD;
    if (port_unit(pt)) {
        ide_unit_reset(port_unit(pt), true);
    }
    post_signature(pt);
    pt->is = 0;
}

static void hba_reset(ahci *s)
{
    s->ghc = GHC_AE;
    s->is = 0;
    for (unsigned p = 0; p < NPORTS; p++) {
        port_reset(&s->port[p]);
    }
    update_irq(s, false);
}

static uint32_t hba_read(ahci *s, unsigned off)
{
    switch (off) {
    case CAP: return CAP_VALUE;
    case GHC: return s->ghc;
    case HBA_IS: return s->is;
    case PI: return (1u << NPORTS) - 1;
    case VS: return 0x00010300; /* 1.3 */
    default: return 0;
    }
}

static void hba_write(ahci *s, unsigned off, uint32_t val)
{
    if (off == GHC) {
        if (val & GHC_HR) {
            hba_reset(s);
            return;
        }
        s->ghc = GHC_AE | (val & GHC_IE);
        update_irq(s, true);
    } else if (off == HBA_IS) {
        s->is &= ~val;
        update_irq(s, true);
    }
}

static uint64_t abar_read(void *opaque, uint64_t off, unsigned size)
{
    ahci *s = opaque;
    uint32_t v;

    if (off < PORT_BASE) {
        v = hba_read(s, (unsigned)off & ~3u);
    } else if (off < PORT_BASE + NPORTS * PORT_SIZE) {
        unsigned p = (unsigned)(off - PORT_BASE) / PORT_SIZE;
        v = port_read(&s->port[p], (unsigned)(off - PORT_BASE) % PORT_SIZE & ~3u);
    } else {
        v = 0;
    }
    return size == 4 ? v : (v >> (8 * (off & 3))) & ((1u << (8 * size)) - 1);
}

static void abar_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    ahci *s = opaque;

    if (ata_dma_depth) {
        if (H->log_enabled(TES_LOG_GUEST_ERROR)) {
            H->log(TES_LOG_GUEST_ERROR, "ich9-ahci: DMA into its own registers at 0x%llx "
                   "dropped", (unsigned long long)off);
        }
        return;
    }
    if (size != 4 || (off & 3)) {
        if (H->log_enabled(TES_LOG_GUEST_ERROR)) {
            H->log(TES_LOG_GUEST_ERROR, "ich9-ahci: %u-byte write at 0x%llx ignored", size,
                   (unsigned long long)off);
        }
        return;
    }
    if (off < PORT_BASE) {
        hba_write(s, (unsigned)off, (uint32_t)val);
    } else if (off < PORT_BASE + NPORTS * PORT_SIZE) {
        unsigned p = (unsigned)(off - PORT_BASE) / PORT_SIZE;
        port_write(&s->port[p], (unsigned)(off - PORT_BASE) % PORT_SIZE, (uint32_t)val);
    }
}

TES_TRACE_RW_WRAP(abar, abar_read, abar_write, ahci_mem_read, ahci_mem_write)

static const tes_mem_ops abar_ops = {
    .size = sizeof(tes_mem_ops),
    .read = abar_traced_read,
    .write = abar_traced_write,
    .valid_min = 1,
    .valid_max = 4,
    .impl_min = 1,
    .impl_max = 4,
};

/* ---- the device ---- */

static int ahci_realize(tes_device *dev, void *st)
{
    ahci *s = st;
    int ret;

    s->dev = dev;
    ret = H->pci_register_bar(dev, 5, TES_PCI_BAR_MEM32,
                              H->region_new_io(dev, "ahci-abar", ABAR_SIZE, &abar_ops, s));
    ret = ret < 0 ? ret : H->pci_msi_init(dev, 0x80, 1, true, false);
    if (ret < 0) {
        H->error(dev, "cannot set up ABAR and MSI (%d)", ret);
        return ret;
    }
    for (unsigned p = 0; p < NPORTS; p++) {
        ahci_port *pt = &s->port[p];
        pt->s = s;
        pt->idx = p;
        pt->cur = -1;
        ide_bus_init(&pt->bus, dev, p, 1, &ahci_bus_ops, pt);
        pt->bus.sg_only = true;
        for (unsigned i = 0; i < NSLOTS; i++) {
            pt->ncq[i].u = NULL;
            pt->ncq[i].tag = (int)i;
        }
    }
    hba_reset(s);
    return 0;
}

static void ahci_unrealize(tes_device *dev, void *st)
{
    ahci *s = st;

    for (unsigned p = 0; p < NPORTS; p++) {
        for (unsigned i = 0; i < NSLOTS; i++) {
            ide_xfer_free_sg(&s->port[p].ncq[i]);
        }
    }
}

static void ahci_reset(tes_device *dev, void *st)
{
    hba_reset(st);
}

static int ahci_pre_save(tes_device *dev, void *st)
{
    ahci_drain(&((ahci *)st)->port[0].bus);
    return 0;
}

static int ahci_post_load(tes_device *dev, void *st, uint32_t version)
{
    ahci *s = st;

    s->ghc = GHC_AE | (s->ghc & GHC_IE);
    for (unsigned p = 0; p < NPORTS; p++) {
        ahci_port *pt = &s->port[p];
        pt->clb &= ~0x3ffu;
        pt->fb &= ~0xffu;
        pt->ie &= IS_MASK;
        pt->issued = 0;
        pt->cur = -1;
        if (!(pt->cmd & CMD_ST)) {
            pt->ci = pt->sact = 0;
        }
    }
    s->is &= (1u << NPORTS) - 1;
    update_irq(s, false);
    return 0;
}

/* Port registers: 15 words a port, in this order, after the fields. */
static uint32_t *port_regs(ahci_port *pt, unsigned i)
{
    uint32_t *r[] = {&pt->clb, &pt->clbu, &pt->fb, &pt->fbu, &pt->is, &pt->ie, &pt->cmd,
                     &pt->tfd, &pt->sig, &pt->ssts, &pt->sctl, &pt->serr, &pt->sact,
                     &pt->ci, &pt->sntf};

    return i < sizeof(r) / sizeof(r[0]) ? r[i] : NULL;
}

static int ahci_save(tes_device *dev, void *st, tes_stream *out)
{
    ahci *s = st;

    for (unsigned p = 0; p < NPORTS; p++) {
        uint32_t *r;
        for (unsigned i = 0; (r = port_regs(&s->port[p], i)); i++) {
            uint8_t b[4];
            put32(b, *r);
            H->stream_write(out, b, 4);
        }
    }
    return 0;
}

static int ahci_load(tes_device *dev, void *st, tes_stream *in, uint32_t version)
{
    ahci *s = st;

    for (unsigned p = 0; p < NPORTS; p++) {
        uint32_t *r;
        for (unsigned i = 0; (r = port_regs(&s->port[p], i)); i++) {
            uint8_t b[4];
            if (H->stream_read(in, b, 4)) {
                return -EIO;
            }
            *r = get32(b);
        }
    }
    return 0;
}

static const tes_state_field ahci_fields[] = {
    TES_FIELD_U32(ahci, ghc), TES_FIELD_U32(ahci, is),
    TES_FIELD_END,
};

static const tes_state_info ahci_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = ahci_fields,
    .pre_save = ahci_pre_save,
    .post_load = ahci_post_load,
    .save = ahci_save,
    .load = ahci_load,
};

static const tes_pci_info ahci_pci = {
    .size = sizeof(tes_pci_info),
    .vendor_id = 0x8086,
    .device_id = 0x2922,
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = 0x1100,
    .revision = 0x02,
    .prog_if = 0x01, /* AHCI 1.0 */
    .class_id = 0x0106,
    .irq_pin = 1,
};

const tes_type_info ich9_ahci_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "ich9-ahci",
    .desc = "ICH9 AHCI SATA controller (8086:2922): 6 ports, NCQ, MSI",
    .bus = TES_BUS_PCI,
    .instance_size = sizeof(ahci),
    .realize = ahci_realize,
    .unrealize = ahci_unrealize,
    .reset = ahci_reset,
    .state = &ahci_state,
    .class_info = &ahci_pci,
};
