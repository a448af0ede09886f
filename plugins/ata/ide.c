/*
 * ata: the IDE bus and the ATA command engine of its drives.
 *
 * Task-file writes reach every unit of the bus (both keep a copy, as on a
 * real cable); reads and commands go to the unit DEV selects. A missing
 * unit reads as 0, a bus with no unit at all as 0xff (what makes libata
 * and the BIOS-less probe see an empty channel).
 *
 * Commands (ATA8-ACS; ide-hd): IDENTIFY DEVICE, READ/WRITE SECTORS (EXT),
 * READ/WRITE MULTIPLE (EXT), READ/WRITE DMA (EXT), READ/WRITE FPDMA QUEUED
 * (through AHCI only), READ VERIFY SECTORS (EXT), FLUSH CACHE (EXT), SET
 * FEATURES (transfer mode, write cache, look-ahead, reverting to
 * defaults), SET MULTIPLE MODE, INITIALIZE DEVICE PARAMETERS, RECALIBRATE,
 * SEEK, IDLE (IMMEDIATE), STANDBY (IMMEDIATE), CHECK POWER MODE, EXECUTE
 * DEVICE DIAGNOSTIC. ide-cd: IDENTIFY PACKET DEVICE, PACKET (atapi.c),
 * DEVICE RESET, SET FEATURES, CHECK POWER MODE, EXECUTE DEVICE DIAGNOSTIC;
 * IDENTIFY DEVICE aborts with the ATAPI signature as the spec wants.
 * Every other command is aborted (ERR, ABRT), as are writes while BSY or
 * DRQ (but DEVICE RESET).
 *
 * PIO: a block (one sector, or the SET MULTIPLE count) is read from the
 * drive into u->buf asynchronously, then DRQ and an interrupt; the guest
 * empties it through the data port. Writes fill u->buf, then go to the
 * drive. On AHCI (bus->sg_only) the same commands move their data through
 * the PRDT instead (ide-xfer.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ata.h"

/* Commands (ATA8-ACS 7). */
#define CMD_NOP 0x00
#define CMD_DSM 0x06
#define CMD_DEVICE_RESET 0x08
#define CMD_READ 0x20
#define CMD_READ_NR 0x21
#define CMD_READ_EXT 0x24
#define CMD_READ_DMA_EXT 0x25
#define CMD_READ_MULT_EXT 0x29
#define CMD_WRITE 0x30
#define CMD_WRITE_NR 0x31
#define CMD_WRITE_EXT 0x34
#define CMD_WRITE_DMA_EXT 0x35
#define CMD_WRITE_MULT_EXT 0x39
#define CMD_VERIFY 0x40
#define CMD_VERIFY_NR 0x41
#define CMD_VERIFY_EXT 0x42
#define CMD_READ_FPDMA 0x60
#define CMD_WRITE_FPDMA 0x61
#define CMD_SEEK 0x70
#define CMD_DIAGNOSE 0x90
#define CMD_INIT_PARAMS 0x91
#define CMD_PACKET 0xa0
#define CMD_IDENTIFY_PACKET 0xa1
#define CMD_READ_MULT 0xc4
#define CMD_WRITE_MULT 0xc5
#define CMD_SET_MULT 0xc6
#define CMD_READ_DMA 0xc8
#define CMD_READ_DMA_NR 0xc9
#define CMD_WRITE_DMA 0xca
#define CMD_WRITE_DMA_NR 0xcb
#define CMD_STANDBY_NOW 0xe0
#define CMD_IDLE_NOW 0xe1
#define CMD_STANDBY 0xe2
#define CMD_IDLE 0xe3
#define CMD_CHECK_POWER 0xe5
#define CMD_FLUSH 0xe7
#define CMD_FLUSH_EXT 0xea
#define CMD_IDENTIFY 0xec
#define CMD_SET_FEATURES 0xef

/* CHS geometry of LBA-less commands: 16 heads, 63 sectors per track. */
#define CHS_HEADS 16u
#define CHS_SPT 63u

void ide_log(ide_unit *u, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    if (!H->log_enabled(TES_LOG_GUEST_ERROR)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    H->log(TES_LOG_GUEST_ERROR, "%s %s: %s", u->cd ? "ide-cd" : "ide-hd", H->dev_id(u->dev),
           msg);
}

/* ---- the bus ---- */

/* A controller without id= has the core's automatic name, "TYPE.N". */
static bool has_user_id(tes_device *ctrl)
{
    const char *id = H->dev_id(ctrl), *type = H->dev_type(ctrl);
    size_t tl = strlen(type);

    if (strncmp(id, type, tl) != 0 || id[tl] != '.' || !id[tl + 1]) {
        return true;
    }
    for (const char *p = id + tl + 1; *p; p++) {
        if (*p < '0' || *p > '9') {
            return true;
        }
    }
    return false;
}

void ide_bus_init(ide_bus *b, tes_device *ctrl, unsigned index, unsigned nunits,
                  const ide_bus_ops *ops, void *opaque)
{
    char name[160];

    b->ctrl = ctrl;
    b->ops = ops;
    b->opaque = opaque;
    b->index = index;
    b->nunits = nunits;
    if (has_user_id(ctrl)) {
        snprintf(name, sizeof(name), "%s.%u", H->dev_id(ctrl), index);
        b->bus = H->bus_new(ctrl, IDE_BUS_KIND, name, b);
    } else {
        b->bus = H->bus_new(ctrl, IDE_BUS_KIND, NULL, b); /* the core's ide.N */
    }
}

ide_unit *ide_bus_selected(ide_bus *b, uint8_t select)
{
    unsigned i = (select >> 4) & 1;

    return i < b->nunits ? b->unit[i] : NULL;
}

static uint8_t *tf_reg(ide_unit *u, unsigned reg, bool hob)
{
    switch (reg) {
    case 1:
        return hob ? &u->hob_feature : &u->feature;
    case 2:
        return hob ? &u->hob_nsector : &u->nsector;
    case 3:
        return hob ? &u->hob_sector : &u->sector;
    case 4:
        return hob ? &u->hob_lcyl : &u->lcyl;
    default:
        return hob ? &u->hob_hcyl : &u->hcyl;
    }
}

/* reg 1..7 of the command block (0, the data port, is ide_data_*). */
void ide_bus_write(ide_bus *b, unsigned reg, uint8_t val, uint8_t *select)
{
    ide_unit *u;

    if (reg == 6) {
        *select = val | 0xa0;
    }
    for (unsigned i = 0; i < b->nunits; i++) {
        if (!(u = b->unit[i])) {
            continue;
        }
        u->ctl &= ~CTL_HOB; /* a task-file write clears HOB (ATA8-ACS 6.2) */
        if (reg >= 1 && reg <= 5) {
            *tf_reg(u, reg, true) = *tf_reg(u, reg, false);
            *tf_reg(u, reg, false) = val;
        } else if (reg == 6) {
            u->select = val | 0xa0;
        }
    }
    u = ide_bus_selected(b, *select);
    if (reg != 7 || !u) {
        return;
    }
    /* Only DEVICE RESET may interrupt an ATAPI command (ATA8-ACS 7.6). */
    if ((u->status & (ST_BSY | ST_DRQ)) && !(val == CMD_DEVICE_RESET && u->cd)) {
        ide_log(u, "command 0x%02x while busy (status 0x%02x): ignored", val, u->status);
        return;
    }
    u->command = val;
    ide_exec(u);
}

uint8_t ide_bus_read(ide_bus *b, unsigned reg, uint8_t select)
{
    ide_unit *u = ide_bus_selected(b, select);
    bool any = b->unit[0] || (b->nunits > 1 && b->unit[1]);

    if (!any) {
        return reg == 6 ? 0 : 0xff;
    }
    if (!u) {
        return reg == 6 ? select : 0;
    }
    switch (reg) {
    case 1:
        return u->error;
    case 6:
        return u->select;
    case 7:
        return u->status;
    default:
        return *tf_reg(u, reg, u->ctl & CTL_HOB);
    }
}

void ide_ctl_write(ide_bus *b, uint8_t val)
{
    for (unsigned i = 0; i < b->nunits; i++) {
        ide_unit *u = b->unit[i];
        bool was = u && (u->ctl & CTL_SRST);

        if (!u) {
            continue;
        }
        u->ctl = val;
        if (!was && (val & CTL_SRST)) {
            ide_unit_reset(u, false);
            u->status = ST_BSY;
        } else if (was && !(val & CTL_SRST)) {
            ide_unit_reset(u, false);
            u->error = 0x01; /* diagnostics passed */
        }
    }
}

/* ---- command completion ---- */

static void cmd_end(ide_unit *u)
{
    u->pio_next = PIO_END;
    u->buf_pos = u->buf_len = u->drq_end = 0;
    u->bus->ops->cmd_done(u->bus, u);
}

void ide_cmd_ok(ide_unit *u)
{
    u->status = ST_DRDY | ST_DSC;
    u->error = 0;
    cmd_end(u);
}

void ide_cmd_abort(ide_unit *u, uint8_t error)
{
    u->status = ST_DRDY | ST_ERR;
    u->error = error;
    cmd_end(u);
}

void ide_set_signature(ide_unit *u)
{
    u->select &= 0xf0; /* head 0 */
    u->nsector = u->sector = 1;
    u->lcyl = u->cd ? 0x14 : 0;
    u->hcyl = u->cd ? 0xeb : 0;
}

/* Cancel what is in flight and wait for it: the results are dropped. */
void ide_unit_drain(ide_unit *u)
{
    if (u->drive) {
        while (H->drive_inflight(u->drive)) {
            H->drive_drain(u->drive);
        }
    }
}

void ide_unit_reset(ide_unit *u, bool hard)
{
    if (u->x.busy || u->pio_busy) {
        u->x.cancel = true;
        u->pio_cancel = true;
        ide_unit_drain(u);
    }
    u->pio_busy = u->pio_cancel = false;
    u->dsm_pending = 0;
    u->proto = IDE_PROTO_NONE;
    u->pio_next = PIO_END;
    u->dma_wait = 0;
    u->buf_pos = u->buf_len = u->drq_end = 0;
    u->feature = u->hob_feature = u->hob_nsector = u->hob_sector = 0;
    u->hob_lcyl = u->hob_hcyl = 0;
    u->select = 0xa0 | (u->unit << 4);
    ide_set_signature(u);
    u->error = 0x01;
    u->status = u->cd ? 0 : ST_DRDY | ST_DSC;
    u->byte_limit = 0xfffe;
    if (hard) {
        u->ctl = 0;
        u->mult = IDE_MAX_MULT;
        u->xfer_mode = 0x45; /* UDMA 5 */
        u->wce = 1;
        u->power = 0xff;
        atapi_reset(u);
    }
}

/* ---- addressing ---- */

static bool lba48(uint8_t cmd)
{
    switch (cmd) {
    case CMD_READ_EXT: case CMD_READ_DMA_EXT: case CMD_READ_MULT_EXT:
    case CMD_WRITE_EXT: case CMD_WRITE_DMA_EXT: case CMD_WRITE_MULT_EXT:
    case CMD_VERIFY_EXT:
        return true;
    default:
        return false;
    }
}

static uint64_t cmd_lba(ide_unit *u)
{
    if (lba48(u->command)) {
        return (uint64_t)u->hob_hcyl << 40 | (uint64_t)u->hob_lcyl << 32 |
               (uint64_t)u->hob_sector << 24 | (uint64_t)u->hcyl << 16 | u->lcyl << 8 |
               u->sector;
    }
    if (u->select & 0x40) {
        return (uint64_t)(u->select & 0xf) << 24 | (uint64_t)u->hcyl << 16 | u->lcyl << 8 |
               u->sector;
    }
    /* CHS: sector numbers start at 1 (a 0 makes a huge LBA, refused). */
    return ((uint64_t)(u->hcyl << 8 | u->lcyl) * CHS_HEADS + (u->select & 0xf)) * CHS_SPT +
           u->sector - 1;
}

static uint32_t cmd_count(ide_unit *u)
{
    if (lba48(u->command)) {
        uint32_t n = (uint32_t)u->hob_nsector << 8 | u->nsector;
        return n ? n : 65536;
    }
    return u->nsector ? u->nsector : 256;
}

static bool range_ok(ide_unit *u, uint64_t lba, uint64_t count)
{
    if (lba >= u->nsect || count > u->nsect - lba) {
        ide_log(u, "sectors %llu+%llu beyond the disk's %llu", (unsigned long long)lba,
                (unsigned long long)count, (unsigned long long)u->nsect);
        ide_cmd_abort(u, ER_IDNF | ER_ABRT);
        return false;
    }
    return true;
}

/* ---- PIO ---- */

/* Enter a DRQ data block of buf[pos, end) and interrupt (not for the first
 * block of a write, ATA8-ACS 11.8: the host sends it on DRQ alone). */
static void drq_block(ide_unit *u, uint32_t len, uint8_t next, bool irq)
{
    u->buf_pos = 0;
    u->buf_len = u->drq_end = len;
    u->pio_next = next;
    u->status = ST_DRDY | ST_DSC | ST_DRQ;
    if (irq) {
        u->bus->ops->pio_irq(u->bus, u);
    }
}

static uint32_t pio_block(ide_unit *u)
{
    bool mult = u->command == CMD_READ_MULT || u->command == CMD_WRITE_MULT ||
                u->command == CMD_READ_MULT_EXT || u->command == CMD_WRITE_MULT_EXT;
    uint32_t n = mult ? u->mult : 1;

    return n < u->left ? n : u->left;
}

/* The drive request of a PIO block is back: false when the command is
 * over (cancelled by a reset, or failed and aborted). */
static bool pio_block_done(ide_unit *u, int ret)
{
    u->pio_busy = false;
    if (u->pio_cancel) {
        return false;
    }
    if (ret < 0) {
        ide_cmd_abort(u, ER_UNC | ER_ABRT);
        return false;
    }
    u->lba += u->blk;
    u->left -= u->blk;
    return true;
}

/* u->blk sectors at u->lba between the drive and u->buf. */
static void pio_submit(ide_unit *u, tes_blk_op op, unsigned flags, tes_blk_cb cb)
{
    u->status = ST_DRDY | ST_BSY;
    u->piov = (struct iovec){u->buf, u->blk * IDE_SECTOR};
    u->pio_busy = true;
    if (H->drive_submit(u->drive, op, u->lba * IDE_SECTOR, &u->piov, 1, u->piov.iov_len, flags,
                        cb, u) < 0) {
        u->pio_busy = false;
        ide_cmd_abort(u, ER_UNC | ER_ABRT);
    }
}

static void pio_read_done(void *opaque, int ret)
{
    ide_unit *u = opaque;

    if (pio_block_done(u, ret)) {
        drq_block(u, u->blk * IDE_SECTOR, u->left ? PIO_READ : PIO_END, true);
    }
}

static void pio_read_next(ide_unit *u)
{
    u->blk = pio_block(u);
    pio_submit(u, TES_BLK_READ, 0, pio_read_done);
}

static void pio_write_done(void *opaque, int ret)
{
    ide_unit *u = opaque;

    if (!pio_block_done(u, ret)) {
        return;
    }
    if (!u->left) {
        ide_cmd_ok(u);
        return;
    }
    u->blk = pio_block(u);
    drq_block(u, u->blk * IDE_SECTOR, PIO_WRITE, true);
}

static void pio_write_block(ide_unit *u)
{
    pio_submit(u, TES_BLK_WRITE, u->wce ? 0 : TES_BLK_FUA, pio_write_done);
}

/* The guest emptied or filled the current DRQ block. */
static void drq_done(ide_unit *u)
{
    switch (u->pio_next) {
    case PIO_READ:
        pio_read_next(u);
        break;
    case PIO_WRITE:
        pio_write_block(u);
        break;
    case PIO_PACKET:
        memcpy(u->packet, u->buf, 12);
        u->buf_pos = u->buf_len = u->drq_end = 0;
        u->status = ST_DRDY | ST_BSY;
        atapi_packet(u);
        break;
    case PIO_ATAPI:
        atapi_read_next(u); /* the next block of a READ, or the end */
        break;
    default:
        /* ATA PIO data-in ends with the last block: no interrupt. */
        u->status = ST_DRDY | ST_DSC;
        u->buf_pos = u->buf_len = u->drq_end = 0;
        u->proto = IDE_PROTO_NONE;
        break;
    }
}

/* ATAPI PIO replies longer than the byte count limit come in several
 * DRQ blocks (atapi.c sets drq_end to the first block's end). */
static void drq_advance(ide_unit *u)
{
    if (u->buf_pos < u->buf_len) {
        uint32_t n = u->buf_len - u->buf_pos;

        n = n < u->byte_limit ? n : u->byte_limit;
        u->drq_end = u->buf_pos + n;
        u->lcyl = (uint8_t)n;
        u->hcyl = (uint8_t)(n >> 8);
        u->bus->ops->pio_irq(u->bus, u);
        return;
    }
    drq_done(u);
}

uint32_t ide_data_read(ide_unit *u, unsigned size)
{
    uint32_t v = 0;

    if (!(u->status & ST_DRQ) || u->pio_next == PIO_WRITE || u->pio_next == PIO_PACKET) {
        return size == 4 ? 0xffffffffu : 0xffff;
    }
    for (unsigned i = 0; i < size && u->buf_pos < u->drq_end; i++) {
        v |= (uint32_t)u->buf[u->buf_pos++] << (8 * i);
    }
    if (u->buf_pos >= u->drq_end) {
        drq_advance(u);
    }
    return v;
}

void ide_data_write(ide_unit *u, uint32_t val, unsigned size)
{
    if (!(u->status & ST_DRQ) || (u->pio_next != PIO_WRITE && u->pio_next != PIO_PACKET)) {
        return;
    }
    for (unsigned i = 0; i < size && u->buf_pos < u->drq_end; i++) {
        u->buf[u->buf_pos++] = (uint8_t)(val >> (8 * i));
    }
    if (u->buf_pos >= u->drq_end) {
        drq_done(u);
    }
}

/* ---- DMA and the scatter-list path ---- */

static void xfer_end(ide_xfer *x, int err)
{
    ide_unit *u = x->u;

    if (err == -ECANCELED) {
        return;
    }
    if (err) {
        ide_cmd_abort(u, err == -EIO ? ER_UNC | ER_ABRT : ER_ABRT);
    } else {
        ide_cmd_ok(u);
    }
}

/* ---- DATA SET MANAGEMENT (TRIM, ATA8-ACS 7.10) ---- */

static void dsm_done(void *opaque, int ret)
{
    ide_unit *u = opaque;

    u->dsm_pending--;
    u->dsm_err = ret < 0 ? ret : u->dsm_err;
    if (u->dsm_pending || u->pio_cancel) {
        return;
    }
    u->pio_busy = false;
    if (u->dsm_err) {
        ide_cmd_abort(u, ER_ABRT);
    } else {
        ide_cmd_ok(u);
    }
}

/* The ranges are in u->buf (8 bytes each: LBA 47:0, count 63:48); check
 * them all before discarding any. */
static bool dsm_check(ide_unit *u, uint32_t len)
{
    for (uint32_t i = 0; i + 8 <= len; i += 8) {
        uint64_t e = 0;
        for (int b = 7; b >= 0; b--) {
            e = e << 8 | u->buf[i + b];
        }
        if ((e >> 48) && ((e & 0xffffffffffffull) >= u->nsect ||
                          (e >> 48) > u->nsect - (e & 0xffffffffffffull))) {
            ide_log(u, "TRIM range %llu+%llu beyond the disk",
                    (unsigned long long)(e & 0xffffffffffffull),
                    (unsigned long long)(e >> 48));
            return false;
        }
    }
    return true;
}

static void dsm_ranges(ide_xfer *x, int err)
{
    ide_unit *u = x->u;
    uint32_t len = (uint32_t)u->sg_len;

    if (err == -ECANCELED) {
        return;
    }
    if (err || !dsm_check(u, len)) {
        ide_cmd_abort(u, ER_ABRT);
        return;
    }
    u->dsm_pending = 1; /* held until every range is submitted */
    u->dsm_err = 0;
    u->pio_busy = true;
    for (uint32_t i = 0; i + 8 <= len; i += 8) {
        uint64_t e = get32(u->buf + i) | (uint64_t)get32(u->buf + i + 4) << 32;
        uint64_t lba = e & 0xffffffffffffull, n = e >> 48;
        if (n && H->drive_submit(u->drive, TES_BLK_DISCARD, lba * IDE_SECTOR, NULL, 0,
                                 n * IDE_SECTOR, 0, dsm_done, u) == 0) {
            u->dsm_pending++;
        }
    }
    dsm_done(u, 0);
}

static void cmd_dsm(ide_unit *u)
{
    uint32_t blocks = (uint32_t)u->hob_nsector << 8 | u->nsector;

    if (!(u->feature & 1) || !blocks || blocks > IDE_BUF_SIZE / IDE_SECTOR) {
        ide_log(u, "DATA SET MANAGEMENT (features 0x%02x, %u blocks) refused", u->feature,
                blocks);
        ide_cmd_abort(u, ER_ABRT);
        return;
    }
    u->proto = IDE_PROTO_DMA;
    ide_sg_phase(u, false, true, 0, blocks * IDE_SECTOR, SG_END_DSM);
}

/* Build the scatter list and run u->x; waits for the engine when the
 * controller says -EAGAIN (BMDMA's start bit). x is made from the unit's
 * sg_* fields each time, so a waiting command survives migration. */
static void sg_try(ide_unit *u)
{
    ide_xfer *x = &u->x;
    int ret;

    ide_xfer_free_sg(x);
    x->u = u;
    x->tag = -1;
    x->to_guest = u->sg_to_guest;
    x->from_buf = u->sg_from_buf;
    x->fua = !u->wce;
    x->off = u->sg_off;
    x->left = u->sg_len;
    x->done = 0;
    x->end = u->sg_end == SG_END_ATAPI ? atapi_xfer_end
           : u->sg_end == SG_END_DSM ? dsm_ranges : xfer_end;
    ret = u->bus->ops->sg_build(u->bus, u, x, x->left);
    if (ret == -EAGAIN) {
        u->dma_wait = 1;
        return;
    }
    u->dma_wait = 0;
    if (ret < 0) {
        ide_xfer_free_sg(x);
        x->end(x, -EINVAL);
        return;
    }
    ide_xfer_start(x);
}

void ide_sg_phase(ide_unit *u, bool to_guest, bool from_buf, uint64_t off, uint64_t len,
                  uint8_t end)
{
    u->sg_to_guest = to_guest;
    u->sg_from_buf = from_buf;
    u->sg_end = end;
    u->sg_off = off;
    u->sg_len = from_buf && len > IDE_BUF_SIZE ? IDE_BUF_SIZE : len;
    if (from_buf) {
        u->buf_pos = u->drq_end = 0;
        u->buf_len = (uint32_t)u->sg_len; /* so migration carries the data */
    }
    u->status = ST_DRDY | ST_BSY;
    sg_try(u);
}

void ide_dma_kick(ide_bus *b)
{
    for (unsigned i = 0; i < b->nunits; i++) {
        if (b->unit[i] && b->unit[i]->dma_wait) {
            sg_try(b->unit[i]);
        }
    }
}

/* The data of the command in u->buf goes to the host: DRQ (PIO) or the
 * scatter list (AHCI). */
static void reply_buf(ide_unit *u, uint32_t len)
{
    u->proto = IDE_PROTO_PIO_IN;
    if (u->bus->sg_only) {
        ide_sg_phase(u, true, true, 0, len, SG_END_ATA);
    } else {
        drq_block(u, len, PIO_END, true);
    }
}

/* ---- the commands ---- */

static void cmd_rw(ide_unit *u, bool write, bool dma)
{
    uint64_t lba = cmd_lba(u);
    uint32_t count = cmd_count(u);

    if (!range_ok(u, lba, count)) {
        return;
    }
    u->power = 0xff;
    u->lba = lba;
    u->left = count;
    u->dma_write = write;
    if (dma || u->bus->sg_only) {
        u->proto = dma ? IDE_PROTO_DMA : write ? IDE_PROTO_PIO_OUT : IDE_PROTO_PIO_IN;
        ide_sg_phase(u, !write, false, lba * IDE_SECTOR, (uint64_t)count * IDE_SECTOR,
                     SG_END_ATA);
        return;
    }
    u->proto = write ? IDE_PROTO_PIO_OUT : IDE_PROTO_PIO_IN;
    if (write) {
        u->blk = pio_block(u);
        drq_block(u, u->blk * IDE_SECTOR, PIO_WRITE, false);
    } else {
        pio_read_next(u);
    }
}

static bool is_mult(uint8_t cmd)
{
    return cmd == CMD_READ_MULT || cmd == CMD_WRITE_MULT || cmd == CMD_READ_MULT_EXT ||
           cmd == CMD_WRITE_MULT_EXT;
}

static void flush_done(void *opaque, int ret)
{
    ide_unit *u = opaque;

    u->pio_busy = false;
    if (u->pio_cancel) {
        return;
    }
    if (ret < 0) {
        ide_cmd_abort(u, ER_ABRT);
    } else {
        ide_cmd_ok(u);
    }
}

static void cmd_flush(ide_unit *u)
{
    u->status = ST_DRDY | ST_BSY;
    u->pio_busy = true;
    if (H->drive_submit(u->drive, TES_BLK_FLUSH, 0, NULL, 0, 0, 0, flush_done, u) < 0) {
        u->pio_busy = false;
        ide_cmd_abort(u, ER_ABRT);
    }
}

/* SET FEATURES (ATA8-ACS 7.48). */
static void cmd_set_features(ide_unit *u)
{
    uint8_t mode = u->nsector;

    switch (u->feature) {
    case 0x02: /* enable volatile write cache */
    case 0x82: /* disable it */
        if (u->cd) {
            break;
        }
        u->wce = u->feature == 0x02;
        ide_cmd_ok(u);
        return;
    case 0x03: /* transfer mode: PIO 0..4, multiword DMA 0..2, UDMA 0..5 */
        if (mode <= 1 || (mode >= 0x08 && mode <= 0x0c) || (mode >= 0x20 && mode <= 0x22) ||
            (mode >= 0x40 && mode <= 0x45)) {
            u->xfer_mode = mode;
            ide_cmd_ok(u);
            return;
        }
        break;
    case 0x55: case 0xaa: /* read look-ahead off/on */
    case 0x66: case 0xcc: /* power-on defaults off/on */
        ide_cmd_ok(u);
        return;
    }
    ide_log(u, "SET FEATURES 0x%02x (count 0x%02x) not supported", u->feature, mode);
    ide_cmd_abort(u, ER_ABRT);
}

static void cmd_set_mult(ide_unit *u)
{
    uint8_t n = u->nsector;

    if (n > IDE_MAX_MULT || (n & (n - 1))) {
        ide_cmd_abort(u, ER_ABRT);
        return;
    }
    u->mult = n;
    ide_cmd_ok(u);
}

static void cmd_diagnose(ide_unit *u)
{
    ide_bus *b = u->bus;

    for (unsigned i = 0; i < b->nunits; i++) {
        if (b->unit[i]) {
            ide_set_signature(b->unit[i]);
            b->unit[i]->error = 0x01;
        }
    }
    u->status = u->cd ? 0 : ST_DRDY | ST_DSC;
    cmd_end(u);
}

static void cmd_identify(ide_unit *u)
{
    memset(u->buf, 0, IDE_SECTOR);
    if (u->command == CMD_IDENTIFY) {
        ide_identify(u, u->bus->sg_only, u->buf);
    } else {
        ide_identify_packet(u, u->buf);
    }
    reply_buf(u, IDE_SECTOR);
}

static void cmd_packet(ide_unit *u)
{
    uint32_t limit = u->lcyl | u->hcyl << 8;

    u->proto = IDE_PROTO_PACKET;
    u->dma = u->feature & 1;
    /* A limit of 0 or 0xffff is invalid (ATA8-ACS 7.23), an odd one is
     * rounded down: take the most an even count allows for 0, 1, 0xffff. */
    limit &= ~1u;
    u->byte_limit = (limit < 2 || limit == 0xfffe) ? 0xfffe : limit;
    if (u->bus->sg_only) {
        u->status = ST_DRDY | ST_BSY;
        atapi_packet(u); /* AHCI loaded the packet from the ACMD area */
        return;
    }
    u->nsector = IR_COD;
    drq_block(u, 12, PIO_PACKET, false);
}

/* Commands of an ATAPI device (ATA8-ACS 7.23: the PACKET feature set). */
static void exec_cd(ide_unit *u)
{
    switch (u->command) {
    case CMD_PACKET:
        cmd_packet(u);
        break;
    case CMD_IDENTIFY_PACKET:
        cmd_identify(u);
        break;
    case CMD_DEVICE_RESET:
        ide_unit_reset(u, false);
        cmd_end(u);
        break;
    case CMD_SET_FEATURES:
        cmd_set_features(u);
        break;
    case CMD_CHECK_POWER:
        u->nsector = u->power;
        ide_cmd_ok(u);
        break;
    case CMD_DIAGNOSE:
        cmd_diagnose(u);
        break;
    case CMD_IDENTIFY:
        ide_set_signature(u); /* tells the host it is a packet device */
        ide_cmd_abort(u, ER_ABRT);
        break;
    default:
        ide_log(u, "command 0x%02x aborted", u->command);
        ide_cmd_abort(u, ER_ABRT);
        break;
    }
}

static bool exec_hd_rw(ide_unit *u)
{
    switch (u->command) {
    case CMD_READ: case CMD_READ_NR: case CMD_READ_EXT:
    case CMD_READ_MULT: case CMD_READ_MULT_EXT:
        if (is_mult(u->command) && !u->mult) {
            ide_cmd_abort(u, ER_ABRT); /* SET MULTIPLE not done */
        } else {
            cmd_rw(u, false, false);
        }
        return true;
    case CMD_WRITE: case CMD_WRITE_NR: case CMD_WRITE_EXT:
    case CMD_WRITE_MULT: case CMD_WRITE_MULT_EXT:
        if (is_mult(u->command) && !u->mult) {
            ide_cmd_abort(u, ER_ABRT);
        } else {
            cmd_rw(u, true, false);
        }
        return true;
    case CMD_READ_DMA: case CMD_READ_DMA_NR: case CMD_READ_DMA_EXT:
        cmd_rw(u, false, true);
        return true;
    case CMD_WRITE_DMA: case CMD_WRITE_DMA_NR: case CMD_WRITE_DMA_EXT:
        cmd_rw(u, true, true);
        return true;
    case CMD_VERIFY: case CMD_VERIFY_NR: case CMD_VERIFY_EXT:
        if (range_ok(u, cmd_lba(u), cmd_count(u))) {
            ide_cmd_ok(u);
        }
        return true;
    default:
        return false;
    }
}

static void exec_hd(ide_unit *u)
{
    if (exec_hd_rw(u)) {
        return;
    }
    switch (u->command) {
    case CMD_IDENTIFY:
        cmd_identify(u);
        break;
    case CMD_FLUSH: case CMD_FLUSH_EXT:
        cmd_flush(u);
        break;
    case CMD_DSM:
        cmd_dsm(u);
        break;
    case CMD_SET_FEATURES:
        cmd_set_features(u);
        break;
    case CMD_SET_MULT:
        cmd_set_mult(u);
        break;
    case CMD_STANDBY_NOW: case CMD_STANDBY:
        u->power = 0x00;
        ide_cmd_ok(u);
        break;
    case CMD_IDLE_NOW: case CMD_IDLE:
        u->power = 0xff;
        ide_cmd_ok(u);
        break;
    case CMD_CHECK_POWER:
        u->nsector = u->power;
        ide_cmd_ok(u);
        break;
    case CMD_INIT_PARAMS: case CMD_SEEK:
        ide_cmd_ok(u);
        break;
    case CMD_DIAGNOSE:
        cmd_diagnose(u);
        break;
    default:
        if (u->command >= 0x10 && u->command <= 0x1f) { /* RECALIBRATE */
            ide_cmd_ok(u);
            break;
        }
        ide_log(u, "command 0x%02x aborted", u->command);
        ide_cmd_abort(u, ER_ABRT);
        break;
    }
}

void ide_exec(ide_unit *u)
{
    u->error = 0;
    u->proto = IDE_PROTO_NONE;
    u->pio_next = PIO_END;
    u->dma_wait = 0;
    if (u->cd) {
        exec_cd(u);
    } else {
        exec_hd(u);
    }
}

/* ---- NCQ (AHCI) ---- */

static void ncq_end(ide_xfer *x, int err)
{
    if (err == -ECANCELED) {
        return;
    }
    x->u->bus->ops->ncq_done(x->u->bus, x->u, x, err);
}

bool ide_ncq_start(ide_unit *u, ide_xfer *x, bool write, uint64_t lba, uint32_t count)
{
    if (u->cd || lba >= u->nsect || count > u->nsect - lba) {
        ide_log(u, "FPDMA %s of sectors %llu+%u refused", write ? "write" : "read",
                (unsigned long long)lba, count);
        return false;
    }
    x->u = u;
    x->to_guest = !write;
    x->from_buf = false;
    x->fua = !u->wce;
    x->off = lba * IDE_SECTOR;
    x->left = (uint64_t)count * IDE_SECTOR;
    x->end = ncq_end;
    ide_xfer_start(x);
    return true;
}
