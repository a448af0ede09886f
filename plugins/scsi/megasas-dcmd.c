/*
 * megasas: the DCMDs (direct commands of the MFI firmware) a driver issues
 * to learn about the controller and its drives: controller info and
 * properties, the event log and the event wait (parked until aborted),
 * the logical and physical drive lists and their info, cache flush,
 * shutdown and time. The answers go out through the DCMD frame's SGL, cut
 * to its data length. Logical drive n is the device at scsi-id n, LUN 0.
 */
#include <stdlib.h>
#include <string.h>

#include "megasas-regs.h"

/* Controller info (DCMD_CTRL_GET_INFO), 2 KiB: offsets of what we fill. */
#define CI_SIZE 0x800
#define CI_PCI 0x000
#define CI_HOST_TYPE 0x020
#define CI_DEV_TYPE 0x068
#define CI_DEV_PORTS 0x06f
#define CI_DEV_PORT_ADDR 0x070
#define CI_IMAGE_COUNT 0x0b4
#define CI_IMAGE 0x0b8 /* name[8] version[32] date[16] time[16] */
#define CI_MAX_ARMS 0x53c
#define CI_PRODUCT 0x540
#define CI_SERIAL 0x590
#define CI_HW_PRESENT 0x5b0
#define CI_MAX_CMDS 0x5b8
#define CI_MAX_SGE 0x5ba
#define CI_MAX_REQUEST 0x5bc
#define CI_LDS_PRESENT 0x5c0
#define CI_PD_PRESENT 0x5c6
#define CI_PD_DISKS 0x5c8
#define CI_NVRAM_SIZE 0x5ce
#define CI_MEMORY_SIZE 0x5d0
#define CI_FLASH_SIZE 0x5d2
#define CI_MAX_STRIPS 0x5da
#define CI_RAID_LEVELS 0x5dc
#define CI_LD_OPS 0x5e4
#define CI_STRIPE_MIN 0x5e8
#define CI_PROPS 0x600 /* the controller properties (DCMD_CTRL_GET_PROPERTIES) */
#define CI_PACKAGE 0x640
#define PROPS_SIZE 64
#define PROPS_ONOFF 32
#define PROP_ENABLE_JBOD (1u << 13)

#define PD_INFO_SIZE 512
#define LD_INFO_SIZE 384
#define LD_PROPS_SIZE 32
#define MAX_PDS MFI_MAX_LD /* scsi-id 0..63: fits the 2 KiB buffer */
#define PD_ADDR_SIZE 24
#define PD_STATE_ONLINE 0x18
#define PD_STATE_SYSTEM 0x40
#define LD_STATE_OPTIMAL 3
#define PD_QUERY_ALL 0
#define PD_QUERY_EXPOSED 5

static void put_str(uint8_t *p, const char *str, size_t size)
{
    size_t n = strlen(str);

    memcpy(p, str, n < size ? n : size - 1);
}

static uint64_t sas_address(megasas *s)
{
    /* NAA 5, locally assigned: from the requester id when unset. */
    return s->sas_addr ? s->sas_addr
                       : 0x5000000000000000ull | (uint64_t)H->pci_requester_id(s->dev) << 8;
}

/* The logical drives: device at id < 64, LUN 0, in scsi-id order. */
static unsigned ld_ids(megasas *s, uint8_t *ids)
{
    unsigned n = 0;

    for (uint32_t id = 0; id < MFI_MAX_LD && !s->use_jbod; id++) {
        if (scsi_bus_lu(s->sbus, 0, id, 0)) {
            ids[n++] = id;
        }
    }
    return n;
}

static uint64_t lu_sectors(const scsi_lu *lu)
{
    return lu->blocks * lu->lbs / 512;
}

static void ctrl_props(megasas *s, uint8_t *p)
{
    mfi_st16(p + 2, 300);  /* predictive failure poll interval */
    mfi_st16(p + 4, 16);   /* interrupt throttle count */
    mfi_st16(p + 6, 50);   /* ... timeout */
    memset(p + 8, 30, 5);  /* rebuild, patrol read, BGI, CC, reconstruction rates */
    p[13] = 4;             /* cache flush interval */
    p[14] = 2;             /* spin-up drive count */
    p[15] = 6;             /* spin-up delay */
    p[21] = 15;            /* ECC bucket size */
    mfi_st16(p + 22, 1440); /* ECC bucket leak rate */
    p[25] = 1;              /* expose enclosure devices */
    mfi_st32(p + PROPS_ONOFF, s->use_jbod ? PROP_ENABLE_JBOD : 0);
}

/* Who the controller is: PCI ids, ports, firmware image, names. */
static void ctrl_identity(megasas *s, uint8_t *ci)
{
    mfi_st16(ci + CI_PCI, 0x1000);
    mfi_st16(ci + CI_PCI + 2, 0x0060);
    mfi_st16(ci + CI_PCI + 4, 0x1000);
    mfi_st16(ci + CI_PCI + 6, 0x1013);
    ci[CI_HOST_TYPE] = 0x01; /* PCI-X (a conventional PCI function here) */
    ci[CI_DEV_TYPE] = 0x02;  /* SAS 3G */
    ci[CI_DEV_PORTS] = 8;
    for (unsigned i = 0; i < 8; i++) {
        mfi_st64(ci + CI_DEV_PORT_ADDR + 8 * i, sas_address(s) + 2 + i);
    }
    mfi_st32(ci + CI_IMAGE_COUNT, 1);
    put_str(ci + CI_IMAGE, "APP", 8);
    put_str(ci + CI_IMAGE + 8, "1.20.32-0001", 32);
    put_str(ci + CI_IMAGE + 40, "Dec 01 2026", 16);
    put_str(ci + CI_IMAGE + 56, "12:00:00", 16);
    ci[CI_MAX_ARMS] = 32;
    ci[CI_MAX_ARMS + 1] = 8;  /* spans */
    ci[CI_MAX_ARMS + 2] = 16; /* arrays */
    ci[CI_MAX_ARMS + 3] = MFI_MAX_LD;
    put_str(ci + CI_PRODUCT, "LSI MegaRAID SAS 8708EM2", 80);
    put_str(ci + CI_SERIAL, s->hba_serial ? s->hba_serial : "", 32);
    put_str(ci + CI_PACKAGE, "11.0.1-0042", 0x60);
}

static void ctrl_info(megasas *s, uint8_t *ci)
{
    uint8_t ids[MFI_MAX_LD];
    unsigned nld = ld_ids(s, ids), npd = 0;
    uint32_t ch, id, lun;

    for (unsigned i = 0; scsi_ops.lun_at(s->sbus, i, &ch, &id, &lun); i++) {
        npd++;
    }
    ctrl_identity(s, ci);
    mfi_st32(ci + CI_HW_PRESENT, 0x04 | 0x10 | 0x20); /* NVRAM, memory, flash */
    mfi_st16(ci + CI_MAX_CMDS, s->max_cmds);
    mfi_st16(ci + CI_MAX_SGE, s->max_sge);
    mfi_st32(ci + CI_MAX_REQUEST, 0xffff);
    mfi_st16(ci + CI_LDS_PRESENT, nld);
    mfi_st16(ci + CI_PD_PRESENT, npd);
    mfi_st16(ci + CI_PD_DISKS, npd);
    mfi_st16(ci + CI_NVRAM_SIZE, 32);
    mfi_st16(ci + CI_MEMORY_SIZE, 512);
    mfi_st16(ci + CI_FLASH_SIZE, 16);
    /* Linux takes min(2^stripe_min * max_strips, max_request) sectors:
     * 8 * 128 = 512 KiB per request. */
    mfi_st16(ci + CI_MAX_STRIPS, 128);
    mfi_st32(ci + CI_RAID_LEVELS, 0x01); /* RAID 0 */
    mfi_st32(ci + CI_LD_OPS, 0x1f);
    ci[CI_STRIPE_MIN] = 3;
    ci[CI_STRIPE_MIN + 1] = 11;
    ctrl_props(s, ci + CI_PROPS);
}

/* The PD list: each target once (device id = scsi-id), or nothing for
 * the "exposed to host" query without use_jbod (LDs only). */
static unsigned pd_list(megasas *s, uint8_t *buf, uint16_t query)
{
    uint32_t ch, id, lun, prev = UINT32_MAX;
    unsigned n = 0;

    if (query != PD_QUERY_ALL && !s->use_jbod) {
        mfi_st32(buf, 8);
        return 8;
    }
    for (unsigned i = 0; scsi_ops.lun_at(s->sbus, i, &ch, &id, &lun) && n < MAX_PDS; i++) {
        uint8_t *a = buf + 8 + PD_ADDR_SIZE * n;
        scsi_lu *lu = scsi_bus_lu(s->sbus, ch, id, lun);
        bool seen = id == prev;

        for (unsigned j = 0; j < n && !seen; j++) {
            seen = mfi_le16(buf + 8 + PD_ADDR_SIZE * j) == id;
        }
        if (seen || !lu) {
            continue;
        }
        prev = id;
        mfi_st16(a, id);
        mfi_st16(a + 2, 0xffff); /* no enclosure */
        a[5] = id;               /* slot */
        a[6] = lu->cls->type;
        a[7] = 1;                /* port bitmap */
        mfi_st64(a + 8, sas_address(s) + 0x10 + id);
        n++;
    }
    mfi_st32(buf, 8 + PD_ADDR_SIZE * n);
    mfi_st32(buf + 4, n);
    return 8 + PD_ADDR_SIZE * n;
}

static uint32_t pd_info(megasas *s, const uint8_t *mbox, uint8_t *p)
{
    uint16_t id = mfi_le16(mbox);
    uint32_t luns[1];
    scsi_lu *lu;
    unsigned len;

    if (id > 255 || !lu_luns(s->sbus, 0, id, luns, 1) ||
        !(lu = scsi_bus_lu(s->sbus, 0, id, luns[0]))) {
        return MFI_STAT_DEVICE_NOT_FOUND;
    }
    mfi_st16(p, id);
    spc_inquiry_std(lu, p + 4, &len);
    p[165] = lu->cls->type;
    p[166] = 1; /* connected port bitmap */
    mfi_st16(p + 184, s->use_jbod ? PD_STATE_SYSTEM : PD_STATE_ONLINE);
    mfi_st32(p + 188, 1u << 13); /* DDF type: SAS interface */
    p[192] = 1;                  /* one path */
    mfi_st64(p + 200, sas_address(s) + 0x10 + id);
    mfi_st64(p + 232, lu_sectors(lu));
    mfi_st64(p + 240, lu_sectors(lu));
    mfi_st64(p + 248, lu_sectors(lu));
    mfi_st16(p + 256, 0xffff);
    p[259] = id; /* slot */
    return MFI_STAT_OK;
}

static unsigned ld_list(megasas *s, uint8_t *buf, bool query)
{
    uint8_t ids[MFI_MAX_LD];
    unsigned n = ld_ids(s, ids);

    if (query) { /* target id list: size, count, pad[3], ids */
        mfi_st32(buf, 11 + MFI_MAX_LD);
        mfi_st32(buf + 4, n);
        memcpy(buf + 11, ids, n);
        return 11 + MFI_MAX_LD;
    }
    mfi_st32(buf, n);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = buf + 8 + 16 * i;

        e[0] = ids[i];
        e[4] = LD_STATE_OPTIMAL;
        mfi_st64(e + 8, lu_sectors(scsi_bus_lu(s->sbus, 0, ids[i], 0)));
    }
    return 8 + 16 * MFI_MAX_LD;
}

static void ld_props(uint8_t id, uint8_t *p)
{
    p[0] = id;
    p[20] = 0x01 | 0x04; /* default cache policy: write back, read ahead */
    p[23] = 0x01 | 0x04; /* current */
}

static uint32_t ld_info(megasas *s, uint8_t id, uint8_t *p, bool props_only)
{
    scsi_lu *lu = id < MFI_MAX_LD && !s->use_jbod ? scsi_bus_lu(s->sbus, 0, id, 0) : NULL;

    if (!lu) {
        return MFI_STAT_DEVICE_NOT_FOUND;
    }
    ld_props(id, p);
    if (props_only) {
        return MFI_STAT_OK;
    }
    p[32 + 3] = 3; /* stripe size: 2^3 sectors */
    p[32 + 4] = 1; /* drives */
    p[32 + 5] = 1; /* span depth */
    p[32 + 6] = LD_STATE_OPTIMAL;
    p[32 + 8] = 1; /* consistent */
    mfi_st64(p + 64 + 8, lu_sectors(lu)); /* span 0 blocks */
    mfi_st64(p + 256, lu_sectors(lu));
    return MFI_STAT_OK;
}

static uint32_t event_getinfo(megasas *s, uint8_t *p)
{
    mfi_st32(p, s->event_seq);      /* newest */
    mfi_st32(p + 16, s->event_seq); /* boot */
    return MFI_STAT_OK;
}

/* Answer of opcode into buf (zeroed, 2 KiB): status, *len set. */
static uint32_t answer(megasas *s, mcmd *c, uint32_t opcode, const uint8_t *mbox, uint8_t *buf,
                       unsigned *len)
{
    switch (opcode) {
    case DCMD_CTRL_GET_INFO:
        ctrl_info(s, buf);
        *len = CI_SIZE;
        return MFI_STAT_OK;
    case DCMD_CTRL_GET_PROPERTIES:
        ctrl_props(s, buf);
        *len = PROPS_SIZE;
        return MFI_STAT_OK;
    case DCMD_CTRL_EVENT_GETINFO:
        *len = 20;
        return event_getinfo(s, buf);
    case DCMD_CTRL_EVENT_WAIT:
        /* Parked until an event (hotplug), an ABORT or a reset. */
        c->aen = true;
        return MFI_PENDING;
    case DCMD_CTRL_SET_PROPERTIES:
    case DCMD_CTRL_SHUTDOWN:
    case DCMD_CTRL_CACHE_FLUSH: /* scsi-hd writes through to the drive; sd
                                 * sends its own SYNCHRONIZE CACHE */
    case DCMD_CTRL_SET_TIME:
        return MFI_STAT_OK;
    case DCMD_PD_GET_LIST:
        *len = pd_list(s, buf, PD_QUERY_ALL);
        return MFI_STAT_OK;
    case DCMD_PD_LIST_QUERY:
        *len = pd_list(s, buf, mfi_le16(mbox));
        return MFI_STAT_OK;
    case DCMD_PD_GET_INFO:
        *len = PD_INFO_SIZE;
        return pd_info(s, mbox, buf);
    case DCMD_LD_GET_LIST:
    case DCMD_LD_LIST_QUERY:
        *len = ld_list(s, buf, opcode == DCMD_LD_LIST_QUERY);
        return MFI_STAT_OK;
    case DCMD_LD_GET_INFO:
    case DCMD_LD_GET_PROP:
        *len = opcode == DCMD_LD_GET_INFO ? LD_INFO_SIZE : LD_PROPS_SIZE;
        return ld_info(s, mbox[0], buf, opcode == DCMD_LD_GET_PROP);
    default:
        H->log(TES_LOG_UNIMP, "megasas %s: DCMD 0x%08x not implemented", H->dev_id(s->dev),
               opcode);
        return MFI_STAT_INVALID_DCMD;
    }
}

uint32_t mfi_dcmd(megasas *s, mcmd *c, const uint8_t *hdr)
{
    uint32_t opcode = mfi_le32(hdr + FR_OPCODE), st;
    uint8_t *buf = calloc(1, CI_SIZE);
    msgl *sgl = malloc(sizeof(*sgl));
    unsigned len = 0;

    if (!buf || !sgl) {
        free(buf);
        free(sgl);
        return MFI_STAT_MEMORY_NOT_AVAILABLE;
    }
    st = mfi_sgl_read(s, c->frame, hdr, SGL_DCMD, c->flags, hdr[FR_SGE_COUNT], sgl);
    if (st == MFI_STAT_OK) {
        st = answer(s, c, opcode, hdr + FR_MBOX, buf, &len);
    }
    if (st == MFI_PENDING) {
        uint32_t xfer = mfi_le32(hdr + FR_XFER_LEN);

        c->evt_addr = sgl->n ? sgl->sg[0].addr : 0;
        c->evt_len = sgl->n ? (uint32_t)(sgl->sg[0].len < xfer ? sgl->sg[0].len : xfer) : 0;
    }
    if (st == MFI_STAT_OK && len) {
        st = mfi_sgl_write(s, sgl, mfi_le32(hdr + FR_XFER_LEN), buf, len);
    }
    free(buf);
    free(sgl);
    return st;
}
