/*
 * piix3-ide: the IDE function of Intel's PIIX3 (82371SB), PCI 8086:7010.
 *
 * User manual
 *
 *   -device piix3-ide[,addr=1.1][,id=ID]
 *   -device ide-hd,drive=D,bus=ide.0,unit=0     (ide.0 primary, ide.1 secondary)
 *
 * No properties of its own. Two channels in compatibility mode (prog-if
 * 0x80: legacy ports, bus master): the primary at 0x1f0-0x1f7 and 0x3f6 on
 * ISA IRQ 14, the secondary at 0x170-0x177 and 0x376 on IRQ 15; each is an
 * IDE bus (contract: ide.N, or ID.0/ID.1 with id=) of two units. BAR4
 * (I/O, 16 bytes) holds the bus-master DMA registers (82371SB datasheet
 * 2.7): command, status and PRD table pointer of each channel. The
 * IDETIM decode-enable bits (config 0x41/0x43 bit 7) are set at reset as
 * firmware would, since Linux's ata_piix skips a channel without them.
 *
 * Interrupts: outputs 0 and 1 (primary, secondary). A board wires them
 * (host->dev_connect_irq) or registers the ISA interface of
 * <tessera/isa.h>, through which the device finds IRQ 14 and 15 itself
 * (q35 does, so -M q35 -device piix3-ide works as on QEMU).
 *
 * PRD tables (bounded): at most 8192 entries (the table's 64 KiB), each
 * of at most 64 KiB; a table shorter than the command's data, or pointing
 * outside RAM, aborts the command (ERR, ABRT). Only one piix3-ide may own
 * the legacy ports: a second one is refused at realize.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ata.h"
#include "ata-trace.h"

#define BM_CMD_START 0x01
#define BM_CMD_READ 0x08 /* bus master writes memory: a device read */
#define BM_ST_ACTIVE 0x01
#define BM_ST_ERROR 0x02
#define BM_ST_INTR 0x04
#define BM_ST_CAP 0x60   /* drive 0/1 DMA capable: software's bits */
#define PRD_MAX 8192u
#define PRD_EOT 0x80000000u

typedef struct piix_chan {
    struct piix_ide *p;
    ide_bus bus;
    tes_region *cmd, *ctl;
} piix_chan;

typedef struct piix_ide {
    tes_device *dev;
    piix_chan ch[2];
    /* state */
    uint8_t select[2];
    uint8_t irq[2];      /* INTRQ of the channel's selected drive */
    uint8_t bm_cmd[2], bm_status[2];
    uint32_t bm_addr[2];
} piix_ide;

static const uint16_t cmd_port[2] = {0x1f0, 0x170}, ctl_port[2] = {0x3f6, 0x376};
static bool legacy_taken;

/* ---- interrupts ---- */

static ide_unit *cur_unit(piix_ide *p, unsigned c)
{
    return ide_bus_selected(&p->ch[c].bus, p->select[c]);
}

static void update_irq(piix_ide *p, unsigned c)
{
    ide_unit *u = cur_unit(p, c);
    bool masked = u && (u->ctl & CTL_NIEN);

    H->dev_set_irq(p->dev, c, p->irq[c] && !masked);
}

static void raise_irq(ide_bus *b)
{
    piix_ide *p = ((piix_chan *)b->opaque)->p;

    p->irq[b->index] = 1;
    update_irq(p, b->index);
}

static void piix_cmd_done(ide_bus *b, ide_unit *u)
{
    piix_ide *p = ((piix_chan *)b->opaque)->p;

    if (u->proto == IDE_PROTO_DMA || (u->proto == IDE_PROTO_PACKET && u->dma)) {
        p->bm_status[b->index] = (p->bm_status[b->index] & ~BM_ST_ACTIVE) | BM_ST_INTR;
    }
    raise_irq(b);
}

static void piix_pio_irq(ide_bus *b, ide_unit *u)
{
    raise_irq(b);
}

/* ---- bus-master DMA ---- */

static int piix_sg_build(ide_bus *b, ide_unit *u, ide_xfer *x, uint64_t need)
{
    piix_ide *p = ((piix_chan *)b->opaque)->p;
    unsigned c = b->index, cap = 0;
    uint64_t total = 0;
    uint32_t addr = p->bm_addr[c];

    if (!(p->bm_cmd[c] & BM_CMD_START)) {
        return -EAGAIN;
    }
    for (unsigned i = 0; i < PRD_MAX && total < need; i++) {
        uint8_t e[8];
        uint32_t len;

        if (H->dma_read(p->dev, addr + 8ull * i, e, 8) != TES_MEM_OK) {
            ide_log(u, "PRD table at 0x%x is not in RAM", addr);
            p->bm_status[c] |= BM_ST_ERROR;
            return -EINVAL;
        }
        len = get32(e + 4) & 0xfffe;
        len = len ? len : 0x10000;
        if (!ide_sg_add(&x->sg, &x->sg_n, &cap, get32(e) & ~1u, len)) {
            return -EINVAL;
        }
        total += len;
        if (get32(e + 4) & PRD_EOT) {
            break;
        }
    }
    return 0;
}

static void piix_drain(ide_bus *b)
{
    piix_ide *p = ((piix_chan *)b->opaque)->p;

    for (unsigned c = 0; c < 2; c++) {
        for (unsigned i = 0; i < 2; i++) {
            if (p->ch[c].bus.unit[i]) {
                ide_unit_drain(p->ch[c].bus.unit[i]);
            }
        }
    }
}

static const ide_bus_ops piix_bus_ops = {
    .sg_build = piix_sg_build,
    .cmd_done = piix_cmd_done,
    .pio_irq = piix_pio_irq,
    .drain = piix_drain,
};

static uint64_t bm_read(void *opaque, uint64_t off, unsigned size)
{
    piix_ide *p = opaque;
    unsigned c = (off >> 3) & 1, r = off & 7;
    uint64_t v = 0;

    for (unsigned i = 0; i < size && r + i < 8; i++) {
        uint8_t b = 0;
        switch (r + i) {
        case 0:
            b = p->bm_cmd[c];
            break;
        case 2:
            b = p->bm_status[c];
            break;
        case 4: case 5: case 6: case 7:
            b = (uint8_t)(p->bm_addr[c] >> (8 * (r + i - 4)));
            break;
        }
        v |= (uint64_t)b << (8 * i);
    }
    return v;
}

static void bm_cmd_write(piix_ide *p, unsigned c, uint8_t val)
{
    uint8_t old = p->bm_cmd[c];

    p->bm_cmd[c] = val & (BM_CMD_START | BM_CMD_READ);
    if (!(old & BM_CMD_START) && (val & BM_CMD_START)) {
        p->bm_status[c] |= BM_ST_ACTIVE;
        ide_dma_kick(&p->ch[c].bus);
    } else if (!(val & BM_CMD_START)) {
        /* Stopping: a transfer already mapped runs to its end (what the
         * guest sees is the same as if it had finished first). */
        p->bm_status[c] &= ~BM_ST_ACTIVE;
    }
}

static void bm_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    piix_ide *p = opaque;
    unsigned c = (off >> 3) & 1, r = off & 7;

    for (unsigned i = 0; i < size && r + i < 8; i++) {
        uint8_t b = (uint8_t)(val >> (8 * i));
        unsigned sh;
        switch (r + i) {
        case 0:
            bm_cmd_write(p, c, b);
            break;
        case 2: /* interrupt and error are write-1-to-clear */
            p->bm_status[c] = (p->bm_status[c] & ~(BM_ST_CAP | (b & (BM_ST_ERROR | BM_ST_INTR)))) |
                              (b & BM_ST_CAP);
            break;
        case 4: case 5: case 6: case 7:
            sh = 8 * (r + i - 4);
            p->bm_addr[c] = (p->bm_addr[c] & ~(0xffu << sh)) | (uint32_t)b << sh;
            p->bm_addr[c] &= ~3u; /* dword aligned */
            break;
        }
    }
}

TES_TRACE_RW_WRAP(bm, bm_read, bm_write, bmdma_read, bmdma_write)

static const tes_mem_ops bm_ops = {
    .size = sizeof(tes_mem_ops),
    .read = bm_traced_read,
    .write = bm_traced_write,
    .valid_min = 1,
    .valid_max = 4,
    .impl_min = 1,
    .impl_max = 4,
};

/* ---- legacy ports ---- */

static uint64_t cmd_read(void *opaque, uint64_t off, unsigned size)
{
    piix_chan *ch = opaque;
    piix_ide *p = ch->p;
    unsigned c = ch->bus.index;
    ide_unit *u = cur_unit(p, c);
    uint64_t v = 0;

    if (off == 0) {
        return u ? ide_data_read(u, size) : (size == 4 ? 0xffffffffu : 0xffff);
    }
    for (unsigned i = 0; i < size && off + i < 8; i++) {
        v |= (uint64_t)ide_bus_read(&ch->bus, (unsigned)off + i, p->select[c]) << (8 * i);
        if (off + i == 7) { /* reading status acknowledges the interrupt */
            p->irq[c] = 0;
            update_irq(p, c);
        }
    }
    return v;
}

static void cmd_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    piix_chan *ch = opaque;
    piix_ide *p = ch->p;
    unsigned c = ch->bus.index;
    ide_unit *u = cur_unit(p, c);

    if (off == 0) {
        if (u) {
            ide_data_write(u, (uint32_t)val, size);
        }
        return;
    }
    for (unsigned i = 0; i < size && off + i < 8; i++) {
        if (off + i == 7) {
            p->irq[c] = 0;
            update_irq(p, c);
        }
        ide_bus_write(&ch->bus, (unsigned)off + i, (uint8_t)(val >> (8 * i)), &p->select[c]);
    }
    update_irq(p, c);
}

static uint64_t ctl_read(void *opaque, uint64_t off, unsigned size)
{
    piix_chan *ch = opaque;

    return ide_bus_read(&ch->bus, 7, ch->p->select[ch->bus.index]); /* alternate status */
}

static void ctl_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    piix_chan *ch = opaque;

    ide_ctl_write(&ch->bus, (uint8_t)val);
    if (val & CTL_SRST) {
        ch->p->irq[ch->bus.index] = 0;
    }
    update_irq(ch->p, ch->bus.index);
}

TES_TRACE_RW_WRAP(cmd, cmd_read, cmd_write, ide_ioport_read, ide_ioport_write)

static const tes_mem_ops cmd_ops = {
    .size = sizeof(tes_mem_ops),
    .read = cmd_traced_read,
    .write = cmd_traced_write,
    .valid_min = 1,
    .valid_max = 4,
    .impl_min = 1,
    .impl_max = 4,
};

TES_TRACE_RW_WRAP(ctl, ctl_read, ctl_write, ide_cmd_read, ide_cmd_write)

static const tes_mem_ops ctl_ops = {
    .size = sizeof(tes_mem_ops),
    .read = ctl_traced_read,
    .write = ctl_traced_write,
    .valid_min = 1,
    .valid_max = 1,
    .impl_min = 1,
    .impl_max = 1,
};

/* ---- the device ---- */

static void connect_isa_irqs(piix_ide *p)
{
    const tes_isa_iface *isa = H->iface_lookup(TES_ISA_IFACE, TES_ISA_IFACE_VERSION);

    if (isa && isa->size >= sizeof(*isa) && isa->irq) {
        H->dev_connect_irq(p->dev, 0, isa->irq(14));
        H->dev_connect_irq(p->dev, 1, isa->irq(15));
    }
}

static void piix_reset(tes_device *dev, void *s);

static int piix_realize(tes_device *dev, void *s)
{
    piix_ide *p = s;
    uint8_t *wmask = H->pci_wmask(dev);

    p->dev = dev;
    if (legacy_taken) {
        H->error(dev, "another piix3-ide owns the legacy ports 0x1f0/0x170");
        return -EBUSY;
    }
    H->dev_init_irqs(dev, 2);
    connect_isa_irqs(p);
    if (H->pci_register_bar(dev, 4, TES_PCI_BAR_IO,
                            H->region_new_io(dev, "piix-bmdma", 16, &bm_ops, p)) < 0) {
        H->error(dev, "cannot register BAR4");
        return -EINVAL;
    }
    memset(wmask + 0x40, 0xff, 0x10); /* IDETIM, SIDETIM, ... (datasheet 2.3) */
    for (unsigned c = 0; c < 2; c++) {
        piix_chan *ch = &p->ch[c];
        ch->p = p;
        ch->cmd = H->region_new_io(dev, c ? "ide1-cmd" : "ide0-cmd", 8, &cmd_ops, ch);
        ch->ctl = H->region_new_io(dev, c ? "ide1-ctl" : "ide0-ctl", 1, &ctl_ops, ch);
        H->region_add(H->system_io(), cmd_port[c], ch->cmd, 0);
        H->region_add(H->system_io(), ctl_port[c], ch->ctl, 0);
        ide_bus_init(&ch->bus, dev, c, 2, &piix_bus_ops, ch);
    }
    legacy_taken = true;
    piix_reset(dev, p);
    return 0;
}

static void piix_unrealize(tes_device *dev, void *s)
{
    piix_ide *p = s;

    for (unsigned c = 0; c < 2; c++) {
        if (p->ch[c].cmd) {
            H->region_del(H->system_io(), p->ch[c].cmd);
            H->region_del(H->system_io(), p->ch[c].ctl);
        }
    }
    legacy_taken = false;
}

static void piix_reset(tes_device *dev, void *s)
{
    piix_ide *p = s;
    uint8_t *cfg = H->pci_config(dev);

    cfg[0x41] = 0x80; /* primary decode enable (what firmware sets) */
    cfg[0x43] = 0x80; /* secondary */
    for (unsigned c = 0; c < 2; c++) {
        p->select[c] = 0xa0;
        p->irq[c] = 0;
        p->bm_cmd[c] = p->bm_status[c] = 0;
        p->bm_addr[c] = 0;
        update_irq(p, c);
    }
}

static int piix_pre_save(tes_device *dev, void *s)
{
    piix_drain(&((piix_ide *)s)->ch[0].bus);
    return 0;
}

static int piix_post_load(tes_device *dev, void *s, uint32_t version)
{
    piix_ide *p = s;

    for (unsigned c = 0; c < 2; c++) {
        p->irq[c] = p->irq[c] != 0;
        p->bm_cmd[c] &= BM_CMD_START | BM_CMD_READ;
        p->bm_addr[c] &= ~3u;
        update_irq(p, c);
    }
    return 0;
}

static const tes_state_field piix_fields[] = {
    TES_FIELD_ARRAY(piix_ide, select, TES_FIELD_U8, 2),
    TES_FIELD_ARRAY(piix_ide, irq, TES_FIELD_U8, 2),
    TES_FIELD_ARRAY(piix_ide, bm_cmd, TES_FIELD_U8, 2),
    TES_FIELD_ARRAY(piix_ide, bm_status, TES_FIELD_U8, 2),
    TES_FIELD_ARRAY(piix_ide, bm_addr, TES_FIELD_U32, 2),
    TES_FIELD_END,
};

static const tes_state_info piix_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = piix_fields,
    .pre_save = piix_pre_save,
    .post_load = piix_post_load,
};

static const tes_pci_info piix_pci = {
    .size = sizeof(tes_pci_info),
    .vendor_id = 0x8086,
    .device_id = 0x7010,
    .prog_if = 0x80, /* compatibility mode both channels, bus master */
    .class_id = 0x0101,
};

const tes_type_info piix3_ide_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "piix3-ide",
    .desc = "PIIX3 IDE (8086:7010): two legacy channels, bus-master DMA",
    .bus = TES_BUS_PCI,
    .instance_size = sizeof(piix_ide),
    .realize = piix_realize,
    .unrealize = piix_unrealize,
    .reset = piix_reset,
    .state = &piix_state,
    .class_info = &piix_pci,
};
