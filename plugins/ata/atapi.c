/*
 * ata: ATAPI, the packet commands of ide-cd (MMC-6 subset; SPC-4 sense).
 *
 *   TEST UNIT READY, REQUEST SENSE, INQUIRY, START STOP UNIT (the tray
 *   opens and closes), PREVENT ALLOW MEDIUM REMOVAL, READ CAPACITY,
 *   READ(10), READ(12), SEEK(10), READ TOC/PMA/ATIP (formats 0 and 1, LBA
 *   and MSF), GET CONFIGURATION (profile list, core, removable medium),
 *   GET EVENT STATUS NOTIFICATION (polled, media class), READ DISC
 *   INFORMATION, MODE SENSE(10) (pages 01h, 2Ah, 3Fh), MECHANISM STATUS,
 *   SET CD SPEED. Everything else is ILLEGAL REQUEST / INVALID COMMAND
 *   OPERATION CODE.
 *
 * The medium is read-only, 2048-byte sectors. Without a drive every
 * medium access is NOT READY / MEDIUM NOT PRESENT; with one, the first
 * medium access after power-on is UNIT ATTENTION / MEDIUM MAY HAVE
 * CHANGED (how Linux's sr learns that a disc is in) and GET EVENT STATUS
 * NOTIFICATION reports the new medium once.
 *
 * Removable media (ABI 1.5, tes_drive_media_ops): the monitor opens the
 * tray, changes the medium and closes it. As QEMU's ide-cd does, the next
 * command after a change (other than INQUIRY, REQUEST SENSE, GESN, GET
 * CONFIGURATION) ends NOT READY / MEDIUM NOT PRESENT and the one after it
 * UNIT ATTENTION / MEDIUM MAY HAVE CHANGED: Linux sr learns of the change
 * either from that or from GESN's NewMedia event, and reads the disc again.
 * A guest that locked the tray gets a GESN eject request instead, and the
 * monitor an error (unless it forces).
 *
 * Errors end the command with ERR, the sense key in the error register's
 * high nibble, and the sense kept for REQUEST SENSE.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "ata.h"

/* Sense keys and codes (SPC-4 4.5.6, annex D). */
#define SK_NOT_READY 0x02
#define SK_ILLEGAL 0x05
#define SK_UNIT_ATTENTION 0x06
#define ASC_INVALID_OPCODE 0x20
#define ASC_LBA_RANGE 0x21
#define ASC_INVALID_FIELD 0x24
#define ASC_MEDIUM_CHANGED 0x28
#define ASC_SAVING_NOT_SUPPORTED 0x39
#define ASC_NO_MEDIUM 0x3a
#define ASC_REMOVAL_PREVENTED 0x53

/* A disc larger than a CD is reported as a DVD (MMC-6 profiles). */
#define CD_MAX_SECTORS 359847u
#define PROFILE_CDROM 0x0008
#define PROFILE_DVDROM 0x0010

static uint16_t getbe16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

void atapi_reset(ide_unit *u)
{
    u->sense_key = u->asc = u->ascq = 0;
    u->ua = u->has_media;
    u->new_media = u->has_media;
    u->locked = 0;
    u->eject_req = 0;
}

/* ---- removable media ---- */

static bool media_api(void)
{
    return H->size >= offsetof(tes_host, drive_tray_moved) + sizeof(H->drive_tray_moved);
}

void atapi_media_refresh(ide_unit *u)
{
    bool in = u->drive && (!media_api() || H->drive_has_medium(u->drive));

    u->has_media = in && !u->tray_open;
    u->nsect = in ? H->drive_size(u->drive) / CD_SECTOR : 0;
}

static void media_changed(void *opaque, bool load)
{
    ide_unit *u = opaque;

    u->tray_open = !load;
    atapi_media_refresh(u);
    u->cd_changed = 1;
    u->new_media = 1;
    u->eject_req = 0;
}

static void media_eject_request(void *opaque, bool force)
{
    ide_unit *u = opaque;

    u->eject_req = 1;
    if (force) {
        u->locked = 0;
    }
}

static bool media_tray_open(void *opaque)
{
    return ((ide_unit *)opaque)->tray_open;
}

static bool media_locked(void *opaque)
{
    return ((ide_unit *)opaque)->locked;
}

static const tes_drive_media_ops media_ops = {
    .size = sizeof(tes_drive_media_ops),
    .change_media = media_changed,
    .eject_request = media_eject_request,
    .is_tray_open = media_tray_open,
    .is_medium_locked = media_locked,
};

void atapi_media_init(ide_unit *u)
{
    if (u->drive && media_api()) {
        H->drive_set_media_ops(u->drive, &media_ops, u);
    }
    atapi_media_refresh(u);
}

static void atapi_ok(ide_unit *u)
{
    u->nsector = IR_IO | IR_COD;
    ide_cmd_ok(u);
}

static void atapi_error(ide_unit *u, uint8_t key, uint8_t asc)
{
    if (key == SK_ILLEGAL) {
        ide_log(u, "packet 0x%02x: illegal request (asc 0x%02x)", u->packet[0], asc);
    }
    u->sense_key = key;
    u->asc = asc;
    u->ascq = 0;
    u->nsector = IR_IO | IR_COD;
    ide_cmd_abort(u, (uint8_t)(key << 4));
}

void atapi_xfer_end(ide_xfer *x, int err)
{
    if (err == -ECANCELED) {
        return;
    }
    if (err) {
        /* MMC: a medium or transfer error; the host retries or gives up. */
        x->u->sense_key = 0x04; /* HARDWARE ERROR */
        x->u->asc = 0x44;       /* internal target failure */
        x->u->nsector = IR_IO | IR_COD;
        ide_cmd_abort(x->u, 0x04 << 4 | ER_ABRT);
        return;
    }
    atapi_ok(x->u);
}

/* Start a PIO data-in phase of buf[0, len): the first DRQ block is at
 * most the byte count limit, ide.c's drq_advance does the rest. */
static void pio_start(ide_unit *u, uint32_t len)
{
    uint32_t n = len < u->byte_limit ? len : u->byte_limit;

    u->buf_pos = 0;
    u->buf_len = len;
    u->drq_end = n;
    u->pio_next = PIO_ATAPI;
    u->nsector = IR_IO;
    u->lcyl = (uint8_t)n;
    u->hcyl = (uint8_t)(n >> 8);
    u->status = ST_DRDY | ST_DSC | ST_DRQ;
    u->bus->ops->pio_irq(u->bus, u);
}

/* Send len bytes of u->buf, cut to the allocation length. */
static void reply(ide_unit *u, uint32_t len, uint32_t alloc)
{
    len = len < alloc ? len : alloc;
    u->left = 0; /* no READ sectors follow */
    if (!len) {
        atapi_ok(u);
    } else if (u->dma || u->bus->sg_only) {
        ide_sg_phase(u, true, true, 0, len, SG_END_ATAPI);
    } else {
        pio_start(u, len);
    }
}

/* ---- READ ---- */

static void read_block_done(void *opaque, int ret)
{
    ide_unit *u = opaque;
    uint32_t n = u->blk;

    u->pio_busy = false;
    if (u->pio_cancel) {
        return;
    }
    if (ret < 0) {
        atapi_xfer_end(&u->x, ret);
        return;
    }
    u->lba += n;
    u->left -= n;
    pio_start(u, n * CD_SECTOR);
}

/* The next PIO block of a READ, or the end of the command. */
void atapi_read_next(ide_unit *u)
{
    uint32_t n = u->left < IDE_BUF_SIZE / CD_SECTOR ? u->left : IDE_BUF_SIZE / CD_SECTOR;

    if (!u->left) {
        u->buf_pos = u->buf_len = u->drq_end = 0;
        atapi_ok(u);
        return;
    }
    u->blk = n;
    u->status = ST_DRDY | ST_BSY;
    u->piov = (struct iovec){u->buf, n * CD_SECTOR};
    u->pio_busy = true;
    if (H->drive_submit(u->drive, TES_BLK_READ, u->lba * CD_SECTOR, &u->piov, 1,
                        u->piov.iov_len, 0, read_block_done, u) < 0) {
        u->pio_busy = false;
        atapi_xfer_end(&u->x, -EIO);
    }
}

static void cmd_read(ide_unit *u, uint64_t lba, uint32_t count)
{
    if (lba > u->nsect || count > u->nsect - lba) {
        atapi_error(u, SK_ILLEGAL, ASC_LBA_RANGE);
        return;
    }
    if (!count) {
        atapi_ok(u);
        return;
    }
    u->lba = lba;
    u->left = count;
    if (u->dma || u->bus->sg_only) {
        ide_sg_phase(u, true, false, lba * CD_SECTOR, (uint64_t)count * CD_SECTOR,
                     SG_END_ATAPI);
    } else {
        atapi_read_next(u);
    }
}

/* ---- replies ---- */

static void pad(uint8_t *p, const char *s, size_t len)
{
    size_t n = strlen(s);

    memset(p, ' ', len);
    memcpy(p, s, n < len ? n : len);
}

static void cmd_inquiry(ide_unit *u, const uint8_t *cdb)
{
    uint8_t *b = u->buf;

    if (cdb[1] & 1) { /* EVPD: no vital product data pages */
        atapi_error(u, SK_ILLEGAL, ASC_INVALID_FIELD);
        return;
    }
    memset(b, 0, 36);
    b[0] = 0x05; /* CD/DVD device */
    b[1] = 0x80; /* removable */
    b[3] = 0x21; /* ATAPI, response data format 2 */
    b[4] = 31;
    /* QEMU's strings: vendor QEMU, the IDENTIFY model and revision. */
    pad(b + 8, "QEMU", 8);
    pad(b + 16, u->model_id, 16);
    pad(b + 32, u->ver && *u->ver ? u->ver : "2.5+", 4);
    reply(u, 36, getbe16(cdb + 3));
}

static void cmd_request_sense(ide_unit *u, const uint8_t *cdb)
{
    uint8_t *b = u->buf;

    memset(b, 0, 18);
    b[0] = 0x70; /* current, fixed format */
    b[2] = u->sense_key;
    b[7] = 10;
    b[12] = u->asc;
    b[13] = u->ascq;
    if (!u->sense_key && u->ua) {
        b[2] = SK_UNIT_ATTENTION;
        b[12] = ASC_MEDIUM_CHANGED;
        u->ua = 0;
    }
    u->sense_key = u->asc = u->ascq = 0;
    reply(u, 18, cdb[4]);
}

static void cmd_read_capacity(ide_unit *u)
{
    be32(u->buf, (uint32_t)(u->nsect ? u->nsect - 1 : 0));
    be32(u->buf + 4, CD_SECTOR);
    reply(u, 8, 8);
}

static void put_addr(uint8_t *p, uint32_t lba, bool msf)
{
    if (msf) {
        uint32_t x = lba + 150; /* MMC-6 6.1.1: LBA 0 is MSF 00:02:00 */
        p[0] = 0;
        p[1] = (uint8_t)(x / (75 * 60));
        p[2] = (uint8_t)(x / 75 % 60);
        p[3] = (uint8_t)(x % 75);
    } else {
        be32(p, lba);
    }
}

static void cmd_read_toc(ide_unit *u, const uint8_t *cdb)
{
    bool msf = cdb[1] & 2;
    uint8_t format = cdb[2] & 0xf, start = cdb[6], *b = u->buf;
    uint32_t len = 4;

    memset(b, 0, 32);
    b[2] = b[3] = 1; /* first and last track (format 0) or session (1) */
    if (format == 1) {
        b[5] = 0x14; /* ADR 1, data track */
        b[6] = 1;
        put_addr(b + 8, 0, msf);
        len = 12;
    } else if (format == 0 && (start <= 1 || start == 0xaa)) {
        if (start <= 1) {
            b[len + 1] = 0x14;
            b[len + 2] = 1;
            put_addr(b + len + 4, 0, msf);
            len += 8;
        }
        b[len + 1] = 0x14;
        b[len + 2] = 0xaa; /* lead-out */
        put_addr(b + len + 4, (uint32_t)u->nsect, msf);
        len += 8;
    } else {
        atapi_error(u, SK_ILLEGAL, ASC_INVALID_FIELD);
        return;
    }
    be16(b, (uint16_t)(len - 2));
    reply(u, len, getbe16(cdb + 7));
}

static uint16_t profile(ide_unit *u)
{
    if (!u->has_media) {
        return 0;
    }
    return u->nsect > CD_MAX_SECTORS ? PROFILE_DVDROM : PROFILE_CDROM;
}

/* One feature descriptor (MMC-6 5.2) when rt/start select it. */
static uint32_t feature(uint8_t *p, uint16_t code, uint8_t flags, const uint8_t *data,
                        uint8_t len, uint8_t rt, uint16_t start)
{
    if ((rt == 2 && code != start) || code < start) {
        return 0;
    }
    be16(p, code);
    p[2] = flags;
    p[3] = len;
    memcpy(p + 4, data, len);
    return 4u + len;
}

static void cmd_get_configuration(ide_unit *u, const uint8_t *cdb)
{
    uint8_t rt = cdb[1] & 3, *b = u->buf;
    uint16_t start = getbe16(cdb + 2), cur = profile(u);
    uint8_t profiles[8] = {0, PROFILE_DVDROM, cur == PROFILE_DVDROM, 0,
                           0, PROFILE_CDROM, cur == PROFILE_CDROM, 0};
    uint8_t core[8] = {0, 0, 0, 2 /* ATAPI */, 1 /* DBE */, 0, 0, 0};
    uint8_t removable[4] = {0x29 /* tray, eject, lock */, 0, 0, 0};
    uint32_t len = 8;

    memset(b, 0, 64);
    be16(b + 6, cur);
    len += feature(b + len, 0x0000, 0x03, profiles, 8, rt, start);
    len += feature(b + len, 0x0001, 0x0b, core, 8, rt, start);
    len += feature(b + len, 0x0003, 0x03, removable, 4, rt, start);
    be32(b, len - 4);
    reply(u, len, getbe16(cdb + 7));
}

static void cmd_gesn(ide_unit *u, const uint8_t *cdb)
{
    uint8_t *b = u->buf;

    if (!(cdb[1] & 1)) { /* only polled operation (MMC-6 6.6) */
        atapi_error(u, SK_ILLEGAL, ASC_INVALID_FIELD);
        return;
    }
    memset(b, 0, 8);
    b[3] = 0x10; /* supported classes: media */
    if (!(cdb[4] & 0x10)) {
        be16(b, 2);
        b[2] = 0x80; /* no event available */
        reply(u, 4, getbe16(cdb + 7));
        return;
    }
    be16(b, 6);
    b[2] = 0x04; /* media class */
    /* MMC-6 table 167: an open tray reports no event yet */
    if (!u->tray_open && u->new_media) {
        b[4] = 2; /* NewMedia */
        u->new_media = 0;
    } else if (!u->tray_open && u->eject_req) {
        b[4] = 1; /* EjectRequest */
        u->eject_req = 0;
    }
    b[5] = u->tray_open ? 1 : u->has_media ? 2 : 0; /* door open / media present */
    reply(u, 8, getbe16(cdb + 7));
}

static uint32_t mode_page(ide_unit *u, uint8_t page, uint8_t *p)
{
    if (page == 0x01) { /* read/write error recovery */
        memset(p, 0, 8);
        p[0] = 0x01;
        p[1] = 6;
        p[3] = 5;
        return 8;
    }
    memset(p, 0, 20); /* 0x2a: capabilities and mechanical status */
    p[0] = 0x2a;
    p[1] = 18;
    p[2] = 0x3b; /* reads CD-R, CD-RW, method 2, DVD-ROM, DVD-R, DVD-RAM */
    p[4] = 0x71; /* audio play, mode 2 forms 1 and 2, multi-session */
    p[5] = 0x60; /* CD-DA commands, accurate stream */
    p[6] = 0x29 | (u->locked ? 0x02 : 0); /* tray, eject, lock (state) */
    be16(p + 8, 706);   /* maximum read speed, kB/s */
    be16(p + 10, 2);    /* volume levels */
    be16(p + 12, 512);  /* buffer, KiB */
    be16(p + 14, 706);  /* current read speed */
    return 20;
}

static void cmd_mode_sense(ide_unit *u, const uint8_t *cdb)
{
    uint8_t pc = cdb[2] >> 6, page = cdb[2] & 0x3f, *b = u->buf;
    uint32_t len = 8;

    if (pc == 3) {
        atapi_error(u, SK_ILLEGAL, ASC_SAVING_NOT_SUPPORTED);
        return;
    }
    if (page != 0x01 && page != 0x2a && page != 0x3f) {
        atapi_error(u, SK_ILLEGAL, ASC_INVALID_FIELD);
        return;
    }
    memset(b, 0, 8);
    if (page == 0x01 || page == 0x3f) {
        len += mode_page(u, 0x01, b + len);
    }
    if (page == 0x2a || page == 0x3f) {
        len += mode_page(u, 0x2a, b + len);
    }
    be16(b, (uint16_t)(len - 2));
    b[2] = u->has_media ? 0x01 : 0x70; /* 120 mm data disc / no disc */
    reply(u, len, getbe16(cdb + 7));
}

static void cmd_disc_info(ide_unit *u, const uint8_t *cdb)
{
    uint8_t *b = u->buf;

    if (cdb[1] & 7) { /* only standard disc information */
        atapi_error(u, SK_ILLEGAL, ASC_INVALID_FIELD);
        return;
    }
    memset(b, 0, 34);
    be16(b, 32);
    b[2] = 0x0e; /* last session complete, disc complete */
    b[3] = 1;    /* first track */
    b[4] = 1;    /* sessions */
    b[5] = 1;    /* first and last track of the last session */
    b[6] = 1;
    b[7] = 0x20; /* unrestricted use */
    reply(u, 34, getbe16(cdb + 7));
}

static void cmd_mechanism_status(ide_unit *u, const uint8_t *cdb)
{
    memset(u->buf, 0, 8);
    reply(u, 8, getbe16(cdb + 8));
}

/* LoEj moves the tray (the medium stays in the drive); a power condition
 * other than 0 leaves it (MMC-6 6.39). */
static void cmd_start_stop(ide_unit *u, const uint8_t *cdb)
{
    bool loej = cdb[4] & 2, start = cdb[4] & 1;

    if (!loej || (cdb[4] & 0xf0)) {
        atapi_ok(u);
        return;
    }
    if (!start && !u->tray_open && u->locked) {
        atapi_error(u, u->has_media ? SK_NOT_READY : SK_ILLEGAL, ASC_REMOVAL_PREVENTED);
        return;
    }
    if (u->tray_open == start) {
        u->tray_open = !start;
        atapi_media_refresh(u);
        if (start && u->has_media) {
            u->new_media = 1;
        }
        if (u->drive && media_api()) {
            H->drive_tray_moved(u->drive, u->tray_open);
        }
    }
    atapi_ok(u);
}

/* Commands that need the medium, and so report NOT READY or a pending
 * UNIT ATTENTION first (MMC-6 4.1.6). */
static bool needs_medium(uint8_t op)
{
    switch (op) {
    case 0x00: case 0x25: case 0x28: case 0xa8: case 0x2b: case 0x43: case 0x51:
        return true;
    default:
        return false;
    }
}

static void dispatch(ide_unit *u, const uint8_t *c)
{
    switch (c[0]) {
    case 0x00: case 0x2b: case 0xbb: /* TEST UNIT READY, SEEK(10), SET CD SPEED */
        atapi_ok(u);
        break;
    case 0x03: cmd_request_sense(u, c); break;
    case 0x12: cmd_inquiry(u, c); break;
    case 0x1b: cmd_start_stop(u, c); break;
    case 0x1e: /* PREVENT ALLOW MEDIUM REMOVAL */
        u->locked = c[4] & 1;
        atapi_ok(u);
        break;
    case 0x25: cmd_read_capacity(u); break;
    case 0x28: cmd_read(u, getbe32(c + 2), getbe16(c + 7)); break;
    case 0xa8: cmd_read(u, getbe32(c + 2), getbe32(c + 6)); break;
    case 0x43: cmd_read_toc(u, c); break;
    case 0x46: cmd_get_configuration(u, c); break;
    case 0x4a: cmd_gesn(u, c); break;
    case 0x51: cmd_disc_info(u, c); break;
    case 0x5a: cmd_mode_sense(u, c); break;
    case 0xbd: cmd_mechanism_status(u, c); break;
    default:
        atapi_error(u, SK_ILLEGAL, ASC_INVALID_OPCODE);
        break;
    }
}

/* Commands that run whatever the medium did (QEMU's ALLOW_UA). */
static bool allow_ua(uint8_t op)
{
    return op == 0x03 || op == 0x12 || op == 0x46 || op == 0x4a;
}

/* A new packet in u->packet (PIO packet phase or AHCI's ACMD). */
void atapi_packet(ide_unit *u)
{
    const uint8_t *c = u->packet;

    if (c[0] != 0x03) {
        u->sense_key = u->asc = u->ascq = 0;
    }
    /* After a change, an empty drive then a changed medium: guests that
     * do not poll GESN see the tray open and close this way. */
    if (u->cd_changed && !allow_ua(c[0]) && u->has_media) {
        bool first = u->cd_changed == 1;

        u->cd_changed = first ? 2 : 0;
        u->ua = 0;
        atapi_error(u, first ? SK_NOT_READY : SK_UNIT_ATTENTION,
                    first ? ASC_NO_MEDIUM : ASC_MEDIUM_CHANGED);
        return;
    }
    if (needs_medium(c[0])) {
        if (!u->has_media) {
            atapi_error(u, SK_NOT_READY, ASC_NO_MEDIUM);
            return;
        }
        if (u->ua) {
            u->ua = 0;
            atapi_error(u, SK_UNIT_ATTENTION, ASC_MEDIUM_CHANGED);
            return;
        }
    }
    dispatch(u, c);
}
