/*
 * ata: the drives, ide-hd (an ATA disk) and ide-cd (an ATAPI DVD-ROM).
 *
 * User manual
 *
 *   -drive file=IMG,if=none,id=D -device ide-hd,drive=D[,bus=ide.N][,unit=U]
 *   -drive file=ISO,if=none,id=C,media=cdrom -device ide-cd,drive=C,bus=ide.N
 *   -device ide-cd,bus=ide.N              (an empty drive: no medium)
 *
 *   drive      the image (-drive id=); required for ide-hd, optional for
 *              ide-cd (no medium without it); ide-hd refuses a read-only one
 *   unit       0 (master) or 1 (slave, piix3-ide only); default the first
 *              free unit of the bus
 *   serial     IDENTIFY serial number (20 characters), default QMnnnnn
 *   model      IDENTIFY model (40 characters), default "QEMU HARDDISK" /
 *              "QEMU DVD-ROM" (QEMU's: /dev/disk/by-id names carry over)
 *   ver        firmware revision (8 characters), default "2.5+"
 *   wwn        world wide name (IDENTIFY words 108-111), 0 = none
 *   bootindex  accepted for QEMU command lines (there is no firmware)
 *
 * A drive plugs into a bus of kind "IDE" that a controller (piix3-ide,
 * ich9-ahci) made; without bus= the core picks the first empty one.
 * Migration carries the task file, the command in progress (after its
 * drive requests have completed) and the PIO buffer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ata.h"

#define UNIT_AUTO 255u

/* QEMU numbers drives QM00001, QM00002... in -hda, -hdb order; from the
 * bus name (ide.N) and unit it comes out the same for pc, and stays the
 * same when migration re-creates the drive. */
static unsigned auto_serial(ide_unit *u)
{
    const char *name = H->bus_name(u->bus->bus), *p = name + strlen(name);

    while (p > name && p[-1] >= '0' && p[-1] <= '9') {
        p--;
    }
    return (unsigned)(strtoul(p, NULL, 10) % 10000) * u->bus->nunits + u->unit + 1;
}

/* ATA strings: space padded, two characters a word, first in the high
 * byte (ATA8-ACS 3.4.9). */
static void put_str(uint8_t *id, unsigned word, const char *s, unsigned len)
{
    size_t n = strlen(s);

    for (unsigned i = 0; i < len; i++) {
        id[word * 2 + (i ^ 1)] = i < n ? (uint8_t)s[i] : ' ';
    }
}

static void put_w(uint8_t *id, unsigned word, uint16_t v)
{
    put16(id + word * 2, v);
}

static void put_common(ide_unit *u, uint8_t *id)
{
    uint8_t m = u->xfer_mode;

    put_str(id, 10, u->serial_id, 20);
    put_str(id, 23, u->ver && *u->ver ? u->ver : "2.5+", 8);
    put_str(id, 27, u->model_id, 40);
    put_w(id, 53, 0x0007); /* words 54-58, 64-70 and 88 valid */
    /* Multiword DMA 0-2 and UDMA 0-5 supported; the selected one. */
    put_w(id, 63, 0x0007 | ((m >> 4) == 2 ? (uint16_t)(0x100 << (m & 7)) : 0));
    put_w(id, 64, 0x0003); /* PIO 3, 4 */
    put_w(id, 65, 120);
    put_w(id, 66, 120);
    put_w(id, 67, 120);
    put_w(id, 68, 120);
    put_w(id, 88, 0x003f | ((m >> 3) == 8 ? (uint16_t)(0x100 << (m & 7)) : 0));
    /* Hardware reset result: 80-wire cable detected, device 0 passed. */
    put_w(id, 93, 0x6000 | 0x2000 | (u->unit ? 0x0100 : 0x0001));
}

static void put_capacity(ide_unit *u, uint8_t *id)
{
    uint64_t n = u->nsect;
    uint32_t lba28 = n > 0x0fffffff ? 0x0fffffff : (uint32_t)n;
    uint64_t cyls = n / (16 * 63);

    cyls = cyls > 16383 ? 16383 : cyls ? cyls : 1;
    put_w(id, 1, (uint16_t)cyls);
    put_w(id, 3, 16);
    put_w(id, 6, 63);
    put_w(id, 54, (uint16_t)cyls);
    put_w(id, 55, 16);
    put_w(id, 56, 63);
    put_w(id, 57, (uint16_t)(cyls * 16 * 63));
    put_w(id, 58, (uint16_t)((cyls * 16 * 63) >> 16));
    put_w(id, 60, (uint16_t)lba28);
    put_w(id, 61, (uint16_t)(lba28 >> 16));
    for (unsigned i = 0; i < 4; i++) {
        put_w(id, 100 + i, (uint16_t)(n >> (16 * i)));
    }
}

/* IDENTIFY DEVICE (ATA8-ACS 7.16), the words libata reads. */
void ide_identify(ide_unit *u, bool ncq, uint8_t *id)
{
    put_w(id, 0, 0x0040); /* fixed ATA device */
    put_capacity(u, id);
    put_common(u, id);
    put_w(id, 47, 0x8000 | IDE_MAX_MULT);
    put_w(id, 49, 0x0b00); /* IORDY, LBA, DMA */
    put_w(id, 50, 0x4000);
    put_w(id, 59, u->mult ? 0x0100 | u->mult : 0);
    if (ncq) {
        put_w(id, 75, 31);     /* queue depth 32 */
        put_w(id, 76, 0x0106); /* NCQ, SATA gen 1 and 2 */
    }
    put_w(id, 80, 0x00f0); /* ATA/ATAPI-4 to -7 */
    put_w(id, 81, 0x0016);
    put_w(id, 82, 0x0060); /* look-ahead, write cache */
    put_w(id, 83, 0x7400); /* FLUSH CACHE (EXT), 48-bit addresses */
    put_w(id, 84, 0x4000 | (u->wwn ? 0x0100 : 0));
    put_w(id, 85, 0x0040 | (u->wce ? 0x0020 : 0));
    put_w(id, 86, 0x3400);
    put_w(id, 87, 0x4000 | (u->wwn ? 0x0100 : 0));
    put_w(id, 105, IDE_BUF_SIZE / IDE_SECTOR); /* DSM: blocks of ranges */
    put_w(id, 106, 0x4000); /* one logical sector per physical one */
    put_w(id, 169, 0x0001); /* DATA SET MANAGEMENT TRIM */
    for (unsigned i = 0; u->wwn && i < 4; i++) {
        put_w(id, 108 + i, (uint16_t)(u->wwn >> (48 - 16 * i)));
    }
}

/* IDENTIFY PACKET DEVICE (ATA8-ACS 7.17). */
void ide_identify_packet(ide_unit *u, uint8_t *id)
{
    /* ATAPI, CD-ROM class, removable, DRQ within 50 us, 12-byte packets */
    put_w(id, 0, 0x85c0);
    put_common(u, id);
    put_w(id, 49, 0x0b00);
    put_w(id, 71, 30);
    put_w(id, 72, 30);
    put_w(id, 80, 0x001e); /* ATA/ATAPI-1 to -4 */
}

/* ---- the device types ---- */

static bool pick_unit(tes_device *dev, ide_unit *u, ide_bus *b)
{
    unsigned want = u->unit_prop;

    if (want == UNIT_AUTO) {
        for (want = 0; want < b->nunits && b->unit[want]; want++) {
        }
        if (want == b->nunits) {
            H->error(dev, "bus %s has no free unit", H->bus_name(b->bus));
            return false;
        }
    } else if (want >= b->nunits) {
        H->error(dev, "property 'unit' wants 0..%u on bus %s, got %u", b->nunits - 1,
                 H->bus_name(b->bus), want);
        return false;
    } else if (b->unit[want]) {
        H->error(dev, "unit %u of bus %s is taken", want, H->bus_name(b->bus));
        return false;
    }
    u->unit = want;
    return true;
}

static bool check_drive(tes_device *dev, ide_unit *u)
{
    uint64_t size;

    if (!u->drive) {
        if (!u->cd) {
            H->error(dev, "property 'drive' is required");
            return false;
        }
        return true;
    }
    if (u->cd) {
        /* a CD-ROM may be empty: its medium comes with the monitor */
        return true;
    }
    size = H->drive_size(u->drive);
    if (H->drive_readonly(u->drive)) {
        H->error(dev, "cannot use a read-only drive (use ide-cd, or readonly=off)");
        return false;
    }
    u->nsect = size / IDE_SECTOR;
    if (!u->nsect) {
        H->error(dev, "the image has %llu bytes: not one %u-byte sector",
                 (unsigned long long)size, IDE_SECTOR);
        return false;
    }
    return true;
}

static int unit_realize(tes_device *dev, ide_unit *u, bool cd)
{
    tes_bus *tb = H->dev_bus(dev);
    ide_bus *b = tb ? H->bus_opaque(tb) : NULL;

    u->dev = dev;
    u->cd = cd;
    if (!b) {
        H->error(dev, "must sit on an IDE bus (bus=ide.N)");
        return -EINVAL;
    }
    if (!check_drive(dev, u) || !pick_unit(dev, u, b)) {
        return -EINVAL;
    }
    /* An empty string is unset (a migration re-creates with "model="). */
    snprintf(u->serial_id, sizeof(u->serial_id), "%s", u->serial ? u->serial : "");
    u->bus = b;
    if (!u->serial || !*u->serial) {
        snprintf(u->serial_id, sizeof(u->serial_id), "QM%05u", auto_serial(u));
    }
    snprintf(u->model_id, sizeof(u->model_id), "%s",
             u->model && *u->model ? u->model : cd ? "QEMU DVD-ROM" : "QEMU HARDDISK");
    u->buf = calloc(1, IDE_BUF_SIZE);
    if (!u->buf) {
        H->error(dev, "out of memory");
        return -ENOMEM;
    }
    u->bus = b;
    u->x.u = u;
    if (cd) {
        atapi_media_init(u);
    }
    b->unit[u->unit] = u;
    ide_unit_reset(u, true);
    if (b->ops->attach) {
        b->ops->attach(b, u);
    }
    return 0;
}

static int hd_realize(tes_device *dev, void *s)
{
    return unit_realize(dev, s, false);
}

static int cd_realize(tes_device *dev, void *s)
{
    return unit_realize(dev, s, true);
}

static void unit_unrealize(tes_device *dev, void *s)
{
    ide_unit *u = s;

    if (!u->bus) {
        return;
    }
    u->x.cancel = u->pio_cancel = true;
    ide_unit_drain(u);
    if (u->cd && u->drive && H->size > offsetof(tes_host, drive_set_media_ops)) {
        H->drive_set_media_ops(u->drive, NULL, NULL);
    }
    ide_xfer_free_sg(&u->x);
    if (u->bus->unit[u->unit] == u) {
        u->bus->unit[u->unit] = NULL;
    }
    free(u->buf);
    u->buf = NULL;
}

static void unit_reset(tes_device *dev, void *s)
{
    ide_unit *u = s;

    if (u->bus) {
        ide_unit_reset(u, true);
    }
}

/* ---- migration ---- */

static int unit_pre_save(tes_device *dev, void *s)
{
    ide_unit *u = s;

    if (u->bus && u->bus->ops->drain) {
        u->bus->ops->drain(u->bus);
    }
    ide_unit_drain(u);
    return 0;
}

static int unit_save(tes_device *dev, void *s, tes_stream *out)
{
    ide_unit *u = s;
    uint8_t len[4];

    put32(len, u->buf_len);
    H->stream_write(out, len, 4);
    H->stream_write(out, u->buf, u->buf_len);
    return 0;
}

static int unit_load(tes_device *dev, void *s, tes_stream *in, uint32_t version)
{
    ide_unit *u = s;
    uint8_t len[4];
    uint32_t n;

    if (H->stream_read(in, len, 4)) {
        return -EIO;
    }
    n = get32(len);
    if (n > IDE_BUF_SIZE) {
        H->error(dev, "PIO buffer of %u bytes in the stream (at most %u)", n, IDE_BUF_SIZE);
        return -EINVAL;
    }
    return H->stream_read(in, u->buf, n) ? -EIO : 0;
}

/* Every value must be one the guest could have produced, else the next
 * data port access indexes past the buffer. */
static bool pio_state_ok(const ide_unit *u)
{
    uint32_t sect = u->cd ? CD_SECTOR : IDE_SECTOR;

    if (u->buf_len > IDE_BUF_SIZE || u->drq_end > u->buf_len || u->buf_pos > u->drq_end ||
        (uint64_t)u->blk * sect > IDE_BUF_SIZE || u->byte_limit < 2 || u->byte_limit > 0xfffe) {
        return false;
    }
    if (u->pio_next > PIO_ATAPI || u->proto > IDE_PROTO_NCQ || u->mult > IDE_MAX_MULT ||
        u->dma_wait > 1 || u->sg_to_guest > 1 || u->sg_from_buf > 1 || u->sg_end > SG_END_DSM) {
        return false;
    }
    /* A reply waiting for BMDMA has its data in the buffer. */
    if (u->dma_wait && u->sg_from_buf && u->sg_len > u->buf_len) {
        return false;
    }
    return u->cd ? u->pio_next != PIO_WRITE
                 : u->pio_next != PIO_PACKET && u->pio_next != PIO_ATAPI;
}

static int unit_post_load(tes_device *dev, void *s, uint32_t version)
{
    ide_unit *u = s;

    if (!pio_state_ok(u)) {
        H->error(dev, "PIO state in the stream is out of range (buffer %u/%u/%u, next %u, "
                 "block %u, limit %u)", u->buf_pos, u->drq_end, u->buf_len, u->pio_next,
                 u->blk, u->byte_limit);
        return -EINVAL;
    }
    if (u->cd) {
        atapi_media_refresh(u); /* the tray as the stream left it */
    }
    if ((u->status & ST_DRQ) && u->pio_next == PIO_WRITE &&
        u->buf_len != u->blk * IDE_SECTOR) {
        H->error(dev, "PIO write block in the stream does not match its buffer");
        return -EINVAL;
    }
    return 0;
}

#define F8(f) TES_FIELD_U8(ide_unit, f)
static const tes_state_field unit_fields[] = {
    F8(feature), F8(nsector), F8(sector), F8(lcyl), F8(hcyl),
    F8(hob_feature), F8(hob_nsector), F8(hob_sector), F8(hob_lcyl), F8(hob_hcyl),
    F8(select), F8(status), F8(error), F8(command), F8(ctl),
    F8(mult), F8(xfer_mode), F8(wce), F8(power),
    F8(proto), F8(pio_next), F8(dma_wait), F8(dma_write),
    TES_FIELD_U64(ide_unit, lba), TES_FIELD_U32(ide_unit, left),
    TES_FIELD_U32(ide_unit, blk), TES_FIELD_U32(ide_unit, buf_pos),
    TES_FIELD_U32(ide_unit, buf_len), TES_FIELD_U32(ide_unit, drq_end),
    TES_FIELD_U32(ide_unit, byte_limit),
    TES_FIELD_BYTES(ide_unit, packet),
    F8(sg_to_guest), F8(sg_from_buf), F8(sg_end),
    TES_FIELD_U64(ide_unit, sg_off), TES_FIELD_U64(ide_unit, sg_len),
    F8(sense_key), F8(asc), F8(ascq), F8(ua), F8(new_media), F8(locked), F8(dma),
    /* version 2: removable media */
    {"tray_open", TES_FIELD_U8, offsetof(ide_unit, tray_open), 1, 2},
    {"cd_changed", TES_FIELD_U8, offsetof(ide_unit, cd_changed), 1, 2},
    {"eject_req", TES_FIELD_U8, offsetof(ide_unit, eject_req), 1, 2},
    TES_FIELD_END,
};

static const tes_state_info unit_state = {
    .size = sizeof(tes_state_info),
    .version = 2,
    .min_version = 1,
    .fields = unit_fields,
    .pre_save = unit_pre_save,
    .post_load = unit_post_load,
    .save = unit_save,
    .load = unit_load,
};

static const tes_prop_info unit_props[] = {
    TES_PROP("drive", TES_PROP_DRIVE, ide_unit, drive, NULL, 0, 0, "image (-drive id=)"),
    TES_PROP("unit", TES_PROP_U32, ide_unit, unit_prop, "255", 0, 255,
             "0 master, 1 slave (255: the first free)"),
    TES_PROP("serial", TES_PROP_STRING, ide_unit, serial, NULL, 0, 0, "serial number"),
    TES_PROP("model", TES_PROP_STRING, ide_unit, model, NULL, 0, 0, "model name"),
    TES_PROP("ver", TES_PROP_STRING, ide_unit, ver, NULL, 0, 0, "firmware revision"),
    TES_PROP("wwn", TES_PROP_U64, ide_unit, wwn, "0", 0, 0, "world wide name (0: none)"),
    TES_PROP("bootindex", TES_PROP_U32, ide_unit, bootindex, "0", 0, 0,
             "boot order (accepted; there is no firmware)"),
    TES_PROP_END,
};

const tes_type_info ide_hd_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "ide-hd",
    .desc = "ATA disk on an IDE bus (piix3-ide, ich9-ahci)",
    .bus = IDE_BUS_KIND,
    .instance_size = sizeof(ide_unit),
    .props = unit_props,
    .realize = hd_realize,
    .unrealize = unit_unrealize,
    .reset = unit_reset,
    .state = &unit_state,
};

const tes_type_info ide_cd_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "ide-cd",
    .desc = "ATAPI DVD-ROM on an IDE bus (read-only, 2048-byte sectors)",
    .bus = IDE_BUS_KIND,
    .instance_size = sizeof(ide_unit),
    .props = unit_props,
    .realize = cd_realize,
    .unrealize = unit_unrealize,
    .reset = unit_reset,
    .state = &unit_state,
};
