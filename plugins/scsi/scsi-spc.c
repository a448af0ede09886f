/*
 * scsi-spc: the SPC-4 commands scsi-hd and scsi-cd answer alike: INQUIRY
 * (standard data and the VPD pages 0x00, 0x80, 0x83; a class adds its
 * own), REQUEST SENSE, TEST UNIT READY, MODE SENSE and MODE SELECT (6 and
 * 10) over the pages a class describes. Identification follows QEMU's
 * ("QEMU    ", "QEMU HARDDISK", "2.5+") so lsscsi output and udev names
 * carry over.
 */
#include <string.h>
#include <sys/uio.h>

#include "scsi-int.h"

#define OP_TEST_UNIT_READY 0x00
#define OP_REQUEST_SENSE 0x03
#define OP_INQUIRY 0x12
#define OP_MODE_SELECT6 0x15
#define OP_MODE_SENSE6 0x1a
#define OP_MODE_SELECT10 0x55
#define OP_MODE_SENSE10 0x5a
#define MODE_MAX 1024    /* mode data we build or accept */
#define PAGE_MAX 64      /* one mode page */
#define VPD_MAX 512

static void pad_copy(uint8_t *dst, const char *src, size_t n)
{
    size_t len = src ? strlen(src) : 0;

    memset(dst, ' ', n);
    memcpy(dst, src, len < n ? len : n);
}

void spc_inquiry_std(scsi_lu *lu, uint8_t *buf, unsigned *len)
{
    memset(buf, 0, 36);
    buf[0] = lu->cls->type;
    buf[1] = lu->cls->removable ? 0x80 : 0;
    buf[2] = 5;           /* SPC-3, as QEMU: Linux then tries READ CAPACITY 16 first */
    buf[3] = 0x02 | 0x10; /* response data format 2, HISUP */
    buf[4] = 36 - 5;
    buf[7] = 0x02; /* CMDQUE: tagged commands */
    pad_copy(buf + 8, lu->vendor ? lu->vendor : "QEMU", 8);
    pad_copy(buf + 16, lu->product ? lu->product : lu->cls->type == 5 ? "QEMU CD-ROM"
                                                                          : "QEMU HARDDISK", 16);
    pad_copy(buf + 32, lu->ver ? lu->ver : "2.5+", 4);
    *len = 36;
}

/* SPC-4 7.8.6: a T10 vendor ID designator, and NAA when wwn is set. */
static unsigned vpd_devid(scsi_lu *lu, uint8_t *buf)
{
    const char *id = lu->serial ? lu->serial : H->dev_id(lu->dev);
    size_t idlen = strlen(id) > 64 ? 64 : strlen(id);
    unsigned n = 4;

    buf[n++] = 0x02; /* ASCII */
    buf[n++] = 0x01; /* T10 vendor ID, associated with the LU */
    buf[n++] = 0;
    buf[n++] = 8 + idlen;
    pad_copy(buf + n, lu->vendor ? lu->vendor : "QEMU", 8);
    memcpy(buf + n + 8, id, idlen);
    n += 8 + idlen;
    if (lu->wwn) {
        buf[n++] = 0x01; /* binary */
        buf[n++] = 0x03; /* NAA */
        buf[n++] = 0;
        buf[n++] = 8;
        st_be64(buf + n, lu->wwn);
        n += 8;
    }
    return n;
}

static unsigned vpd_page(scsi_lu *lu, uint8_t page, uint8_t *buf)
{
    unsigned n = 0;

    memset(buf, 0, VPD_MAX);
    buf[0] = lu->cls->type;
    buf[1] = page;
    switch (page) {
    case 0x00:
        n = 4;
        buf[n++] = 0x00, buf[n++] = 0x80, buf[n++] = 0x83;
        for (const uint8_t *p = lu->cls->vpd_pages; p && *p; p++) {
            buf[n++] = *p;
        }
        break;
    case 0x80: {
        size_t len = lu->serial ? strlen(lu->serial) : 0;
        len = len > 252 ? 252 : len;
        if (len) {
            memcpy(buf + 4, lu->serial, len); /* no serial: an empty page */
        }
        n = 4 + len;
        break;
    }
    case 0x83:
        n = vpd_devid(lu, buf);
        break;
    default:
        n = lu->cls->vpd_page ? lu->cls->vpd_page(lu, page, buf) : 0;
        if (!n) {
            return 0;
        }
    }
    st_be16(buf + 2, n - 4);
    return n;
}

static void inquiry(scsi_lu *lu, sreq *r)
{
    const uint8_t *cdb = r->pub.cdb;
    uint8_t buf[VPD_MAX];
    unsigned len;

    if (!(cdb[1] & 1)) {
        /* SPC-4 6.6.1: a page code without EVPD is an invalid field. */
        if (cdb[2]) {
            sreq_check(r, SENSE_INVALID_FIELD);
            return;
        }
        spc_inquiry_std(lu, buf, &len);
        sreq_reply(r, buf, len, be16(cdb + 3));
        return;
    }
    len = vpd_page(lu, cdb[2], buf);
    if (!len) {
        sreq_check(r, SENSE_INVALID_FIELD);
        return;
    }
    sreq_reply(r, buf, len, be16(cdb + 3));
}

static void request_sense(scsi_lu *lu, sreq *r)
{
    const uint8_t *cdb = r->pub.cdb;
    scsi_sense s = SENSE(lu->ua_key, lu->ua_asc, lu->ua_ascq);
    uint8_t buf[18] = {0};

    lu_ua_reported(lu);
    if (cdb[1] & 1) {
        /* Descriptor format (SPC-4 4.5.2). */
        buf[0] = 0x72, buf[1] = s.key, buf[2] = s.asc, buf[3] = s.ascq;
        sreq_reply(r, buf, 8, cdb[4]);
        return;
    }
    sense_fixed(buf, s);
    sreq_reply(r, buf, 18, cdb[4]);
}

/* ---- MODE SENSE ---- */

static unsigned mode_pages(scsi_lu *lu, uint8_t page, uint8_t pc, uint8_t *out)
{
    unsigned n = 0;

    if (page != 0x3f) {
        return lu->cls->mode_page(lu, page, pc, out);
    }
    for (const uint8_t *p = lu->cls->mode_pages; *p; p++) {
        n += lu->cls->mode_page(lu, *p, pc, out + n);
    }
    return n;
}

static void mode_sense(scsi_lu *lu, sreq *r)
{
    const uint8_t *cdb = r->pub.cdb;
    bool ten = cdb[0] == OP_MODE_SENSE10, dbd = cdb[1] & 0x08;
    uint8_t pc = cdb[2] >> 6, page = cdb[2] & 0x3f, sub = cdb[3];
    unsigned hdr = ten ? 8 : 4, bd = dbd || !lu->blocks ? 0 : 8, n;
    uint8_t buf[MODE_MAX] = {0};
    uint32_t alloc = ten ? be16(cdb + 7) : cdb[4];

    if (pc == 3) {
        sreq_check(r, SENSE_SAVING_NOT_SUPPORTED);
        return;
    }
    if ((sub && !(page == 0x3f && sub == 0xff))) {
        sreq_check(r, SENSE_INVALID_FIELD);
        return;
    }
    n = mode_pages(lu, page, pc, buf + hdr + bd);
    if (!n) {
        sreq_check(r, SENSE_INVALID_FIELD);
        return;
    }
    if (bd) {
        uint8_t *b = buf + hdr;
        st_be32(b, lu->blocks > 0xffffff ? 0xffffff : (uint32_t)lu->blocks);
        b[0] = 0; /* density code */
        st_be32(b + 4, lu->lbs);
    }
    n += hdr + bd;
    if (ten) {
        st_be16(buf, n - 2);
        buf[3] = lu->cls->mode_dev_param(lu);
        st_be16(buf + 6, bd);
    } else {
        buf[0] = n - 1;
        buf[2] = lu->cls->mode_dev_param(lu);
        buf[3] = bd;
    }
    sreq_reply(r, buf, n, alloc);
}

/* ---- MODE SELECT ---- */

/* One page of a MODE SELECT parameter list: every bit that is not
 * changeable must keep its current value (SPC-4 6.11). */
static bool select_page(scsi_lu *lu, const uint8_t *p, unsigned len)
{
    uint8_t cur[PAGE_MAX] = {0}, chg[PAGE_MAX] = {0};
    unsigned n = lu->cls->mode_page(lu, p[0] & 0x3f, 0, cur);

    if (!n || n != len || (p[0] & 0x40)) {
        return false;
    }
    lu->cls->mode_page(lu, p[0] & 0x3f, 1, chg);
    for (unsigned i = 2; i < len; i++) {
        if ((p[i] ^ cur[i]) & ~chg[i]) {
            return false;
        }
    }
    if ((p[0] & 0x3f) == 0x08) {
        lu->wce = p[2] & 0x04;
    }
    return true;
}

static bool select_bd(scsi_lu *lu, const uint8_t *b, unsigned bdlen)
{
    if (bdlen == 0) {
        return true;
    }
    /* Only a short descriptor restating our block length. */
    return bdlen == 8 && (be32(b + 4) & 0xffffff) == lu->lbs;
}

/* The pages of a parameter list from off: GOOD, or the sense to end with. */
static bool select_pages(scsi_lu *lu, const uint8_t *buf, unsigned off, unsigned len,
                         scsi_sense *bad)
{
    while (off < len) {
        unsigned plen = off + 1 < len ? buf[off + 1] + 2u : 0;
        if (!plen || off + plen > len) {
            *bad = SENSE_PARAM_LIST_LENGTH;
            return false;
        }
        if (!select_page(lu, buf + off, plen)) {
            *bad = SENSE_INVALID_PARAM;
            return false;
        }
        off += plen;
    }
    return true;
}

static void mode_select(scsi_lu *lu, sreq *r)
{
    const uint8_t *cdb = r->pub.cdb;
    bool ten = cdb[0] == OP_MODE_SELECT10;
    uint32_t len = ten ? be16(cdb + 7) : cdb[4];
    unsigned hdr = ten ? 8 : 4, bdlen;
    uint8_t buf[MODE_MAX];
    scsi_sense bad;
    int64_t got;

    if ((cdb[1] & 0x01) || !(cdb[1] & 0x10) || len > MODE_MAX) {
        /* SP (save pages) is not supported; PF must be set. */
        sreq_check(r, len > MODE_MAX ? SENSE_PARAM_LIST_LENGTH : SENSE_INVALID_FIELD);
        return;
    }
    got = sreq_param(r, buf, len);
    if (got < 0) {
        return;
    }
    if ((uint64_t)got < len || (len && len < hdr)) {
        sreq_check(r, SENSE_PARAM_LIST_LENGTH);
        return;
    }
    if (len == 0) {
        sreq_good(r);
        return;
    }
    bdlen = ten ? be16(buf + 6) : buf[3];
    if (hdr + bdlen > len || !select_bd(lu, buf + hdr, bdlen)) {
        sreq_check(r, hdr + bdlen > len ? SENSE_PARAM_LIST_LENGTH : SENSE_INVALID_PARAM);
        return;
    }
    if (!select_pages(lu, buf, hdr + bdlen, len, &bad)) {
        sreq_check(r, bad);
        return;
    }
    sreq_good(r);
}

bool spc_exec(scsi_lu *lu, sreq *r)
{
    switch (r->pub.cdb[0]) {
    case OP_TEST_UNIT_READY: sreq_good(r); return true;
    case OP_REQUEST_SENSE: request_sense(lu, r); return true;
    case OP_INQUIRY: inquiry(lu, r); return true;
    case OP_MODE_SENSE6: case OP_MODE_SENSE10: mode_sense(lu, r); return true;
    case OP_MODE_SELECT6: case OP_MODE_SELECT10: mode_select(lu, r); return true;
    default: return false;
    }
}
