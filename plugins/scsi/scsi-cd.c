/*
 * scsi-cd: a read-only SCSI CD/DVD-ROM drive (MMC-6) on a SCSI bus, as
 * Linux sr and the cdrom layer use it.
 *
 * User manual
 *
 *   -drive file=disc.iso,format=raw,if=none,id=cd0,readonly=on
 *   -device scsi-cd,drive=cd0,bus=scsi0.0,scsi-id=2
 *
 *   drive                the -drive id= of the image (none: an empty drive)
 *   channel, scsi-id, lun, serial, wwn, vendor, product, ver, bootindex:
 *                        as scsi-hd (product "QEMU CD-ROM" by default)
 *
 * 2048-byte blocks. Commands: INQUIRY (type 5, removable), TEST UNIT
 * READY, READ CAPACITY, READ 10/12, READ TOC (formats 0 and 1, LBA or
 * MSF), GET CONFIGURATION (profile list, core, removable medium), GET
 * EVENT STATUS NOTIFICATION (polled, media class), READ DISC INFORMATION,
 * MECHANISM STATUS, MODE SENSE 6/10 (capabilities page 0x2a), PREVENT
 * ALLOW MEDIUM REMOVAL, START STOP UNIT (eject and load: the medium stays
 * the image; loading it again raises the media change unit attention and
 * a GESN new-media event), REQUEST SENSE, REPORT LUNS. Writes end with
 * DATA PROTECT, WRITE PROTECTED; the rest with ILLEGAL REQUEST sense.
 *
 * Removable media (ABI 1.5): the monitor's eject, blockdev-change-medium
 * and tray commands reach change_media below. As QEMU's scsi-cd, a change
 * raises UNIT ATTENTION / MEDIUM NOT PRESENT, then MEDIUM MAY HAVE CHANGED,
 * and a GESN media event; a locked tray gets a GESN eject request.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "scsi-int.h"

#define OP_START_STOP 0x1b
#define OP_PREVENT_ALLOW 0x1e
#define OP_READ_CAPACITY10 0x25
#define OP_READ10 0x28
#define OP_WRITE10 0x2a
#define OP_READ_TOC 0x43
#define OP_GET_CONFIGURATION 0x46
#define OP_GESN 0x4a
#define OP_READ_DISC_INFO 0x51
#define OP_WRITE12 0xaa
#define OP_READ12 0xa8
#define OP_SET_CD_SPEED 0xbb
#define OP_MECHANISM_STATUS 0xbd
#define OP_TEST_UNIT_READY 0x00
#define OP_INQUIRY 0x12
#define OP_REQUEST_SENSE 0x03
#define OP_MODE_SENSE6 0x1a
#define OP_MODE_SENSE10 0x5a

#define CD_BLOCK 2048
#define CD_MAX_BLOCKS (1u << 19)   /* beyond ~1 GiB we say DVD-ROM */
#define MEDIA_EVENT_REMOVAL 3
#define MEDIA_EVENT_NEW 2

static bool media_api(void)
{
    return H->size >= offsetof(tes_host, drive_tray_moved) + sizeof(H->drive_tray_moved);
}

static bool medium_in(scsi_lu *lu)
{
    return lu->drive && (!media_api() || H->drive_has_medium(lu->drive));
}

static bool has_media(scsi_lu *lu)
{
    return medium_in(lu) && !lu->tray_open;
}

/* ---- removable media (tes_drive_media_ops) ---- */

static void media_changed(void *opaque, bool load)
{
    scsi_lu *lu = opaque;

    lu->tray_open = !load;
    lu->blocks = medium_in(lu) ? H->drive_size(lu->drive) / CD_BLOCK : 0;
    lu_set_ua(lu, SENSE_UA_NO_MEDIUM);
    lu->media_event = load ? MEDIA_EVENT_NEW : MEDIA_EVENT_REMOVAL;
    lu->eject_req = false;
}

static void media_eject_request(void *opaque, bool force)
{
    scsi_lu *lu = opaque;

    lu->eject_req = true;
    if (force) {
        lu->tray_locked = false;
    }
}

static bool media_tray_open(void *opaque)
{
    return ((scsi_lu *)opaque)->tray_open;
}

static bool media_locked(void *opaque)
{
    return ((scsi_lu *)opaque)->tray_locked;
}

static const tes_drive_media_ops media_ops = {
    .size = sizeof(tes_drive_media_ops),
    .change_media = media_changed,
    .eject_request = media_eject_request,
    .is_tray_open = media_tray_open,
    .is_medium_locked = media_locked,
};

/* ---- READ TOC ---- */

static void put_addr(uint8_t *p, uint64_t lba, bool msf)
{
    if (msf) {
        lba += 150; /* MMC-6 table 580: LBA 0 is 00:02:00 */
        p[0] = 0;
        p[1] = lba / (75 * 60);
        p[2] = (lba / 75) % 60;
        p[3] = lba % 75;
    } else {
        st_be32(p, (uint32_t)lba);
    }
}

static unsigned toc_desc(uint8_t *p, uint8_t track, uint64_t lba, bool msf)
{
    memset(p, 0, 8);
    p[1] = 0x14; /* ADR 1 (current position), control 4 (data track) */
    p[2] = track;
    put_addr(p + 4, lba, msf);
    return 8;
}

static void read_toc(scsi_lu *lu, sreq *r)
{
    const uint8_t *cdb = r->pub.cdb;
    uint8_t format = cdb[2] & 0x0f, start = cdb[6], buf[32] = {0};
    bool msf = cdb[1] & 0x02;
    unsigned n = 4;

    if (!format) {
        format = cdb[9] >> 6; /* SFF-8020 placed the format there */
    }
    if (format == 0 && start > 1 && start != 0xaa) {
        sreq_check(r, SENSE_INVALID_FIELD);
        return;
    }
    if (format > 1) {
        sreq_check(r, SENSE_INVALID_FIELD);
        return;
    }
    buf[2] = 1, buf[3] = 1; /* first and last track (session) */
    if (format == 1) {
        n += toc_desc(buf + n, 1, 0, msf);
    } else {
        if (start <= 1) {
            n += toc_desc(buf + n, 1, 0, msf);
        }
        n += toc_desc(buf + n, 0xaa, lu->blocks, msf);
    }
    st_be16(buf, n - 2);
    sreq_reply(r, buf, n, be16(cdb + 7));
}

/* ---- GET CONFIGURATION ---- */

static uint16_t current_profile(scsi_lu *lu)
{
    if (!has_media(lu)) {
        return 0;
    }
    return lu->blocks > CD_MAX_BLOCKS ? 0x0010 : 0x0008; /* DVD-ROM, CD-ROM */
}

static unsigned feature(scsi_lu *lu, uint16_t code, uint8_t *p)
{
    uint16_t cur = current_profile(lu);

    memset(p, 0, 12);
    st_be16(p, code);
    p[2] = 0x03; /* persistent, current */
    switch (code) {
    case 0x0000: /* profile list */
        p[3] = 8;
        st_be16(p + 4, 0x0010), p[6] = cur == 0x0010;
        st_be16(p + 8, 0x0008), p[10] = cur == 0x0008;
        return 12;
    case 0x0001: /* core */
        p[2] |= 0x08; /* version 2 */
        p[3] = 8;
        st_be32(p + 4, 1); /* SCSI */
        return 12;
    default: /* 0x0003 removable medium: tray, eject, lock */
        p[3] = 4;
        p[4] = 0x20 | 0x08 | 0x01 | (lu->tray_locked ? 0x04 : 0);
        return 8;
    }
}

static void get_configuration(scsi_lu *lu, sreq *r)
{
    static const uint16_t codes[] = {0x0000, 0x0001, 0x0003};
    const uint8_t *cdb = r->pub.cdb;
    uint8_t rt = cdb[1] & 3, buf[64] = {0};
    uint16_t start = be16(cdb + 2);
    unsigned n = 8;

    if (rt == 3) {
        sreq_check(r, SENSE_INVALID_FIELD);
        return;
    }
    for (unsigned i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        if (rt == 2 ? codes[i] == start : codes[i] >= start) {
            n += feature(lu, codes[i], buf + n);
        }
    }
    st_be32(buf, n - 4);
    st_be16(buf + 6, current_profile(lu));
    sreq_reply(r, buf, n, be16(cdb + 7));
}

/* ---- GET EVENT STATUS NOTIFICATION (MMC-6 6.7) ---- */

static void gesn(scsi_lu *lu, sreq *r)
{
    const uint8_t *cdb = r->pub.cdb;
    uint8_t buf[8] = {0};
    unsigned n = 4;

    if (!(cdb[1] & 1)) {
        sreq_check(r, SENSE_INVALID_FIELD); /* asynchronous: not supported */
        return;
    }
    buf[3] = 0x10; /* supported: media class */
    if (cdb[4] & 0x10) {
        buf[2] = 4; /* media class */
        buf[4] = lu->media_event ? lu->media_event : lu->eject_req ? 1 : 0;
        buf[5] = (lu->tray_open ? 1 : 0) | (has_media(lu) ? 2 : 0);
        if (!lu->media_event) {
            lu->eject_req = false;
        }
        lu->media_event = 0;
        n = 8;
    } else {
        buf[2] = 0x80; /* NEA: no event of the classes asked */
    }
    st_be16(buf, n - 2);
    sreq_reply(r, buf, n, be16(cdb + 7));
}

static void read_disc_info(scsi_lu *lu, sreq *r)
{
    uint8_t buf[34] = {0};

    if (r->pub.cdb[1] & 7) { /* data type 0 only */
        sreq_check(r, SENSE_INVALID_FIELD);
        return;
    }
    st_be16(buf, 32);
    buf[2] = 0x0e;          /* complete disc, last session complete */
    buf[3] = 1;             /* first track */
    buf[4] = 1;             /* sessions */
    buf[5] = 1, buf[6] = 1; /* first and last track of the last session */
    buf[7] = 0x20;          /* unrestricted use */
    sreq_reply(r, buf, sizeof(buf), be16(r->pub.cdb + 7));
}

/* ---- tray ---- */

static void start_stop(scsi_lu *lu, sreq *r)
{
    bool start = r->pub.cdb[4] & 1, loej = r->pub.cdb[4] & 2;

    bool was_open = lu->tray_open;

    if (loej && !start) {
        if (lu->tray_locked) {
            sreq_check(r, SENSE_REMOVAL_PREVENTED);
            return;
        }
        if (!lu->tray_open && medium_in(lu)) {
            lu->media_event = MEDIA_EVENT_REMOVAL;
        }
        lu->tray_open = true;
    } else if (loej && lu->tray_open) {
        lu->tray_open = false;
        if (medium_in(lu)) {
            lu->media_event = MEDIA_EVENT_NEW;
            lu_set_ua(lu, SENSE_MEDIUM_CHANGED);
        }
    }
    if (was_open != lu->tray_open && lu->drive && media_api()) {
        H->drive_tray_moved(lu->drive, lu->tray_open);
    }
    sreq_good(r);
}

/* ---- pages ---- */

static unsigned cd_mode_page(scsi_lu *lu, uint8_t page, uint8_t pc, uint8_t *buf)
{
    if (page != 0x2a) {
        return 0;
    }
    /* MMC-3 6.3.11: CD/DVD capabilities and mechanical status. */
    memset(buf, 0, 22);
    buf[0] = 0x2a, buf[1] = 0x14;
    if (pc == 1) {
        return 22; /* nothing changeable */
    }
    buf[2] = 0x3b; /* reads CD-R, CD-RW, method 2, DVD-ROM */
    buf[4] = 0x71; /* audio play, multi-session, mode 2 forms */
    buf[5] = 0xff;
    buf[6] = 0x29 | (lu->tray_locked ? 0x02 : 0); /* tray, eject, lock (state) */
    st_be16(buf + 8, 16 * 176);                   /* maximum read speed, KB/s */
    st_be16(buf + 10, 2);                         /* volume levels */
    st_be16(buf + 12, 512);                       /* buffer size, KB */
    st_be16(buf + 14, 16 * 176);                  /* current read speed */
    return 22;
}

static uint8_t cd_dev_param(scsi_lu *lu)
{
    return 0;
}

/* Commands that need a medium in the closed tray. */
static bool needs_media(uint8_t op)
{
    switch (op) {
    case OP_TEST_UNIT_READY: case OP_READ_CAPACITY10: case OP_READ10: case OP_READ12:
    case OP_READ_TOC: case OP_READ_DISC_INFO:
        return true;
    default:
        return false;
    }
}

static void cd_exec(scsi_lu *lu, sreq *r)
{
    uint8_t op = r->pub.cdb[0], buf[8] = {0};

    if (needs_media(op) && !has_media(lu)) {
        sreq_check(r, lu->tray_open ? SENSE_NO_MEDIUM_TRAY_OPEN : SENSE_NO_MEDIUM);
        return;
    }
    switch (op) {
    case OP_READ10: case OP_READ12: disk_rw(lu, r, false); break;
    case OP_WRITE10: case OP_WRITE12: sreq_check(r, SENSE_WRITE_PROTECTED); break;
    case OP_READ_CAPACITY10:
        st_be32(buf, lu->blocks ? (uint32_t)(lu->blocks - 1) : 0);
        st_be32(buf + 4, CD_BLOCK);
        sreq_reply(r, buf, 8, 8);
        break;
    case OP_READ_TOC: read_toc(lu, r); break;
    case OP_GET_CONFIGURATION: get_configuration(lu, r); break;
    case OP_GESN: gesn(lu, r); break;
    case OP_READ_DISC_INFO: read_disc_info(lu, r); break;
    case OP_MECHANISM_STATUS: sreq_reply(r, buf, 8, be16(r->pub.cdb + 8)); break;
    case OP_SET_CD_SPEED: sreq_good(r); break;
    case OP_PREVENT_ALLOW: lu->tray_locked = r->pub.cdb[4] & 1; sreq_good(r); break;
    case OP_START_STOP: start_stop(lu, r); break;
    default:
        if (!spc_exec(lu, r)) {
            H->log(TES_LOG_UNIMP, "scsi-cd %s: opcode 0x%02x not supported",
                   H->dev_id(lu->dev), op);
            sreq_check(r, SENSE_INVALID_OPCODE);
        }
    }
}

static const uint8_t cd_mode_list[] = {0x2a, 0};

const scsi_lu_class scsi_cd_class = {
    .name = "scsi-cd",
    .type = 0x05,
    .exec = cd_exec,
    .mode_page = cd_mode_page,
    .mode_pages = cd_mode_list,
    .mode_dev_param = cd_dev_param,
    .removable = true,
};

static int cd_realize(tes_device *dev, void *s)
{
    scsi_lu *lu = s;

    int ret;

    lu->lbs = lu->pbs = CD_BLOCK;
    lu->ro = true;
    ret = lu_realize_common(dev, lu, &scsi_cd_class);
    if (!ret && lu->drive && media_api()) {
        H->drive_set_media_ops(lu->drive, &media_ops, lu);
    }
    return ret;
}

static void cd_unrealize(tes_device *dev, void *s)
{
    scsi_lu *lu = s;

    if (lu->drive && media_api()) {
        H->drive_set_media_ops(lu->drive, NULL, NULL);
    }
    lu_unrealize(dev, s);
}

static const tes_prop_info cd_props[] = {
    TES_PROP("drive", TES_PROP_DRIVE, scsi_lu, drive, NULL, 0, 0,
             "image (-drive id=); none: an empty drive"),
    LU_ADDR_PROPS,
    LU_ID_PROPS,
    TES_PROP_END,
};

const tes_type_info scsi_cd_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "scsi-cd",
    .desc = "SCSI CD/DVD-ROM drive (read-only)",
    .bus = TES_SCSI_BUS,
    .instance_size = sizeof(scsi_lu),
    .props = cd_props,
    .realize = cd_realize,
    .unrealize = cd_unrealize,
    .reset = lu_reset,
    .state = &lu_state,
    .flags = TES_TYPE_HOTPLUG,
};
