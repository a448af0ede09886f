/*
 * scsi-xfer: how many bytes a CDB moves, and which way, before it runs
 * (SPC-4 4.2.5 allocation lengths, SBC-3 transfer lengths, MMC-6 for the
 * CD commands): the "scsi" interface's req_xfer, for HBAs that stage data
 * before they have the whole buffer (lsi53c895a's SCRIPTS). Only what
 * scsi-hd and scsi-cd implement; anything else moves nothing (it ends in
 * CHECK CONDITION, INVALID COMMAND OPERATION CODE).
 */
#include "scsi-int.h"

/* Data-in commands and where their allocation length is. */
static bool alloc_len(const uint8_t *cdb, uint64_t *len)
{
    switch (cdb[0]) {
    case 0x03: /* REQUEST SENSE */
    case 0x1a: /* MODE SENSE 6 */
        *len = cdb[4];
        return true;
    case 0x12: *len = be16(cdb + 3); return true;        /* INQUIRY */
    case 0x25: *len = 8; return true;                    /* READ CAPACITY 10 */
    case 0x9e: *len = be32(cdb + 10); return true;       /* SERVICE ACTION IN 16 */
    case 0xa0: *len = be32(cdb + 6); return true;        /* REPORT LUNS */
    case 0xbd: *len = be16(cdb + 8); return true;        /* MECHANISM STATUS */
    case 0x5a: case 0x43: case 0x46: case 0x4a: case 0x51:
        *len = be16(cdb + 7); /* MODE SENSE 10, READ TOC, GET CONFIGURATION, GESN, DISC INFO */
        return true;
    default:
        return false;
    }
}

/* Data-out parameter lists. */
static bool param_len(const uint8_t *cdb, uint64_t *len)
{
    switch (cdb[0]) {
    case 0x15: *len = cdb[4]; return true;          /* MODE SELECT 6 */
    case 0x55: case 0x42: *len = be16(cdb + 7); return true; /* MODE SELECT 10, UNMAP */
    default: return false;
    }
}

/* Medium access: blocks of the CDB's transfer length. */
static bool blocks(const scsi_lu *lu, const uint8_t *cdb, tes_scsi_dir *dir, uint64_t *len)
{
    uint64_t n;

    switch (cdb[0]) {
    case 0x08: case 0x0a: n = cdb[4] ? cdb[4] : 256; break;
    case 0x28: case 0x2a: case 0x2e: case 0x2f: n = be16(cdb + 7); break;
    case 0xa8: case 0xaa: case 0xae: case 0xaf: n = be32(cdb + 6); break;
    case 0x88: case 0x8a: case 0x8e: case 0x8f: n = be32(cdb + 10); break;
    case 0x41: case 0x93: /* WRITE SAME: one block, none with NDOB */
        n = cdb[0] == 0x93 && (cdb[1] & 1) ? 0 : 1;
        *dir = n ? TES_SCSI_DIR_TO_DEV : TES_SCSI_DIR_NONE;
        *len = n * lu->lbs;
        return true;
    default:
        return false;
    }
    /* VERIFY moves data only with BYTCHK. */
    if ((cdb[0] & 0x1f) == 0x0f && !(cdb[1] & 0x06)) {
        n = 0;
    }
    *dir = !n ? TES_SCSI_DIR_NONE
         : cdb[0] == 0x08 || cdb[0] == 0x28 || cdb[0] == 0xa8 || cdb[0] == 0x88
             ? TES_SCSI_DIR_FROM_DEV : TES_SCSI_DIR_TO_DEV;
    *len = n * lu->lbs;
    return true;
}

void cdb_xfer(const scsi_lu *lu, const uint8_t *cdb, tes_scsi_dir *dir, uint64_t *len)
{
    *dir = TES_SCSI_DIR_NONE;
    *len = 0;
    if (alloc_len(cdb, len)) {
        *dir = *len ? TES_SCSI_DIR_FROM_DEV : TES_SCSI_DIR_NONE;
    } else if (param_len(cdb, len)) {
        *dir = *len ? TES_SCSI_DIR_TO_DEV : TES_SCSI_DIR_NONE;
    } else if (lu) {
        blocks(lu, cdb, dir, len);
    }
}
