/*
 * Fuzz target: megasas (plugins/scsi) with a scsi-hd at scsi-id 0 and a
 * read-only scsi-cd at scsi-id 1, through the harness; the generic actions
 * are fuzz-dev.h's. Each input starts from a driver that ran the INIT
 * frame (reply queue of 16 entries) and unmasked the interrupt (the first
 * byte picks MSI-X or INTx). Target actions:
 *
 *   0    an INIT frame: the queue info well formed or fuzzed (entries,
 *        addresses anywhere), polled or posted
 *   1    LD READ/WRITE: any LD, LBA and count, 32-bit, 64-bit or IEEE
 *        SGLs of 0..4 entries (or any count) pointing at buffers or anywhere
 *   2    LD/PD SCSI pass-through: an opcode the disks know (or any) with
 *        fuzzed CDB bytes and length, any direction flags, SGL as above,
 *        a sense buffer anywhere
 *   3    a DCMD: an opcode of the firmware (or any), fuzzed mailbox, data
 *        length and SGL
 *   4    an ABORT of a recent frame (often the parked event wait)
 *   5    64 fuzzed bytes as a frame, posted through IQP or IQPH/IQPL
 *   6    registers: the doorbell, the interrupt mask, ODCR0, and reaping
 *        the reply queue (consumer index), after block completions
 *   7    a migration stream round trip of megasas (save, maybe one byte
 *        forged, load)
 *   8    the spec check: firmware reset through the doorbell, INIT, a 4 KiB
 *        LD WRITE completes OK in the reply queue and is on the image, an
 *        unknown frame command is INVALID_CMD
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz-dev.h"

#define RAM_SIZE (4ull << 20)
#define IMG_SIZE (1ull << 20)
#define BAR0 0x80000000ull
#define FRAMES 0x100000ull /* slot s at + 0x400 * s */
#define NSLOT 8
#define DATA 0x200000ull /* slot s at + 0x10000 * s */
#define RQ 0x180000ull
#define PI 0x181000ull
#define CI 0x181004ull
#define QINFO 0x182000ull
#define SENSE 0x183000ull
#define ENTRIES 16
#define CHECK_SLOT 7

static char *image[2];
static uint32_t consumer;
static tes_device *hba;

static void remove_images(void)
{
    for (int i = 0; i < 2; i++) {
        g_unlink(image[i]);
    }
}

static void init(void)
{
    for (int i = 0; i < 2; i++) {
        int fd = g_file_open_tmp("fuzz-megasas-XXXXXX.img", &image[i], NULL);
        if (fd < 0 || ftruncate(fd, IMG_SIZE) != 0) {
            fprintf(stderr, "fuzz-megasas: cannot make a scratch image\n");
            exit(1);
        }
        close(fd);
    }
    atexit(remove_images);
}

static void w16(fz *f, uint64_t a, uint16_t v)
{
    f->ram[a] = v;
    f->ram[a + 1] = v >> 8;
}

static void w32(fz *f, uint64_t a, uint32_t v)
{
    w16(f, a, v);
    w16(f, a + 2, v >> 16);
}

static void w64(fz *f, uint64_t a, uint64_t v)
{
    w32(f, a, v);
    w32(f, a + 4, v >> 32);
}

static uint32_t r32(fz *f, uint64_t a)
{
    return f->ram[a] | f->ram[a + 1] << 8 | f->ram[a + 2] << 16 | (uint32_t)f->ram[a + 3] << 24;
}

static void reg_w(fz *f, uint32_t off, uint32_t v)
{
    tes_harness_write(f->h, BAR0 + off, v, 4);
}

static uint64_t frame(unsigned slot)
{
    return FRAMES + 0x400ull * slot;
}

static void fire(fz *f, unsigned slot)
{
    reg_w(f, 0x40, (uint32_t)frame(slot) | 3);
}

static void hdr(fz *f, unsigned slot, uint8_t cmd, uint16_t flags, uint8_t sges, uint32_t len)
{
    uint64_t a = frame(slot);

    memset(f->ram + a, 0, 0x400);
    f->ram[a] = cmd;
    f->ram[a + 2] = 0xff;
    f->ram[a + 7] = sges;
    w32(f, a + 8, 0x100 + slot);
    w16(f, a + 0x10, flags);
    w32(f, a + 0x14, len);
}

static void qinfo(fz *f, uint32_t entries)
{
    memset(f->ram + QINFO, 0, 32);
    w32(f, QINFO + 4, entries);
    w32(f, QINFO + 8, RQ);
    w32(f, QINFO + 16, PI);
    w32(f, QINFO + 24, CI);
    w32(f, PI, 0);
    w32(f, CI, 0);
    consumer = 0;
}

/* Polled INIT in slot: the frame's status. */
static uint8_t init_fw(fz *f, unsigned slot)
{
    qinfo(f, ENTRIES);
    hdr(f, slot, 0, 1, 0, 32);
    w32(f, frame(slot) + 0x18, QINFO);
    fire(f, slot);
    return f->ram[frame(slot) + 2];
}

static void setup(fz *f)
{
    uint8_t sel = fz_u8(f);
    unsigned i;

    for (int d = 0; d < 2; d++) {
        char *opt = g_strdup_printf("file=%s,if=none,id=d%d,format=raw%s", image[d], d,
                                    d ? ",readonly=on" : "");
        if (!tes_harness_drive(f->h, opt)) {
            fz_fail(f, "drive: %s", tes_harness_error(f->h));
        }
        g_free(opt);
    }
    hba = tes_harness_device(f->h, "megasas", sel & 1 ? "id=scsi0,msix=off" : "id=scsi0");
    if (!hba) {
        fz_fail(f, "megasas: %s", tes_harness_error(f->h));
    }
    /* A round trip of the HBA alone would drop its disks in the harness:
     * action 7 round-trips its own state instead. */
    i = fz_device_add(f, hba, NULL);
    fz_device_fixed(f, i);
    fz_device_add(f, tes_harness_device(f->h, "scsi-hd", "drive=d0,bus=scsi0.0,scsi-id=0"),
                  NULL);
    fz_device_add(f, tes_harness_device(f->h, "scsi-cd", "drive=d1,bus=scsi0.0,scsi-id=1"),
                  NULL);
    tes_harness_bar_map(f->h, hba, 0, BAR0);
    if (sel & 2) {
        tes_harness_msi_enable(f->h, hba);
    }
    fz_window_add(f, BAR0, 0x4000, false);
    if (init_fw(f, 0) != 0) {
        fz_fail(f, "megasas: a fresh controller refuses the INIT frame");
    }
    reg_w(f, 0x34, ~0x80000000u);
}

/* ---- actions ---- */

/* An SGL at off of slot: format from flags, 0..4 entries (or any count). */
static uint8_t sgl(fz *f, unsigned slot, uint32_t off, uint16_t flags, uint32_t total)
{
    uint8_t sel = fz_u8(f), n = sel & 0x80 ? fz_u8(f) : sel % 5;
    unsigned esz = flags & 0x20 ? 16 : flags & 2 ? 12 : 8;

    for (unsigned i = 0; i < n && off + (i + 1) * esz <= 0x400; i++) {
        uint64_t a = frame(slot) + off + i * esz;
        uint64_t addr = sel & 0x40 ? fz_addr(f) : DATA + 0x10000ull * slot + 0x1000 * i;
        uint32_t len = sel & 0x20 ? fz_len(f) : (total + n - 1) / (n ? n : 1);

        if (esz == 8) {
            w32(f, a, (uint32_t)addr);
            w32(f, a + 4, len);
        } else {
            w64(f, a, addr);
            w32(f, a + 8, len);
        }
    }
    return n;
}

static uint16_t flags_of(fz *f, uint8_t sel, uint16_t dir)
{
    static const uint16_t fmt[] = {0, 2, 0x20, 0x22};

    return sel & 0x10 ? fz_u16(f) : (uint16_t)(fmt[sel & 3] | dir | (sel & 4 ? 1 : 0));
}

static void ldio(fz *f)
{
    unsigned slot = fz_u8(f) % (NSLOT - 1);
    uint8_t sel = fz_u8(f), write = sel & 0x80;
    uint32_t count = sel & 0x40 ? fz_u32(f) : 1u + fz_u8(f) % 16u;
    uint16_t flags = flags_of(f, sel, write ? 8 : 0x10);

    hdr(f, slot, write ? 2 : 1, flags, 0, count);
    f->ram[frame(slot) + 1] = fz_u8(f);
    f->ram[frame(slot) + 4] = sel & 0x20 ? fz_u8(f) : fz_u8(f) & 1;
    f->ram[frame(slot) + 5] = fz_u8(f);
    w64(f, frame(slot) + 0x18, sel & 8 ? fz_addr(f) : SENSE + 0x100 * slot);
    w64(f, frame(slot) + 0x20, sel & 0x20 ? fz_u64(f) : fz_u8(f) * 8ull);
    f->ram[frame(slot) + 7] = sgl(f, slot, 0x28, flags, count * 512);
    fire(f, slot);
}

static const uint8_t opcodes[] = {
    0x00, 0x03, 0x08, 0x0a, 0x12, 0x1a, 0x1b, 0x25, 0x28, 0x2a, 0x2f, 0x35, 0x41,
    0x42, 0x43, 0x46, 0x4a, 0x51, 0x55, 0x5a, 0x88, 0x8a, 0x8f, 0x93, 0x9e, 0xa0,
};

static void pthru(fz *f)
{
    unsigned slot = fz_u8(f) % (NSLOT - 1);
    uint8_t sel = fz_u8(f), *cdb = f->ram + frame(slot) + 0x20;
    uint32_t len = sel & 0x40 ? fz_len(f) : 512u * (1 + fz_u8(f) % 8);
    uint16_t flags = flags_of(f, sel, sel & 0x80 ? 8 : 0x10);

    hdr(f, slot, sel & 0x20 ? 4 : 3, flags, 0, len);
    f->ram[frame(slot) + 1] = fz_u8(f);
    f->ram[frame(slot) + 4] = sel & 8 ? fz_u8(f) : fz_u8(f) & 1;
    f->ram[frame(slot) + 5] = sel & 8 ? fz_u8(f) : 0;
    f->ram[frame(slot) + 6] = sel & 4 ? fz_u8(f) : 10;
    w32(f, frame(slot) + 0x18, SENSE + 0x100 * slot);
    for (unsigned i = 0; i < 16; i++) {
        cdb[i] = fz_u8(f);
    }
    if (!(sel & 1)) {
        cdb[0] = opcodes[cdb[0] % sizeof(opcodes)];
        cdb[1] &= 0x1f;
    }
    f->ram[frame(slot) + 7] = sgl(f, slot, 0x30, flags, len);
    fire(f, slot);
}

static const uint32_t dcmds[] = {
    0x01010000, 0x01020100, 0x01020200, 0x01040100, 0x01040500, 0x01050000, 0x01080102,
    0x01101000, 0x02010000, 0x02010100, 0x02020000, 0x03010000, 0x03010100, 0x03020000,
    0x03030000,
};

static void dcmd(fz *f)
{
    unsigned slot = fz_u8(f) % (NSLOT - 1);
    uint8_t sel = fz_u8(f);
    uint32_t len = sel & 0x40 ? fz_len(f) : 0x800;
    uint16_t flags = flags_of(f, sel, 0x10);

    hdr(f, slot, 5, flags, 0, len);
    w32(f, frame(slot) + 0x18, sel & 0x80 ? fz_u32(f) : dcmds[fz_u8(f) % 15]);
    for (unsigned i = 0; i < 12; i++) {
        f->ram[frame(slot) + 0x1c + i] = sel & 0x20 ? fz_u8(f) : 0;
    }
    f->ram[frame(slot) + 0x1c] = fz_u8(f) % 8;
    f->ram[frame(slot) + 7] = sgl(f, slot, 0x28, flags, len);
    fire(f, slot);
}

static void abort_frame(fz *f)
{
    unsigned slot = fz_u8(f) % (NSLOT - 1), victim = fz_u8(f) % NSLOT;
    uint8_t sel = fz_u8(f);

    hdr(f, slot, 6, sel & 1, 0, 0);
    w64(f, frame(slot) + 0x18, sel & 2 ? fz_u64(f) : 0x100 + victim);
    w64(f, frame(slot) + 0x20, sel & 4 ? fz_addr(f) : frame(victim));
    fire(f, slot);
}

static void raw_frame(fz *f)
{
    unsigned slot = fz_u8(f) % (NSLOT - 1);
    uint8_t sel = fz_u8(f);

    for (unsigned i = 0; i < 64; i++) {
        f->ram[frame(slot) + i] = fz_u8(f);
    }
    if (sel & 1) {
        reg_w(f, 0xc4, sel & 2 ? fz_u32(f) : 0);
        reg_w(f, 0xc0, (uint32_t)frame(slot) | (fz_u8(f) & 0x3f));
    } else {
        reg_w(f, 0x40, sel & 2 ? fz_u32(f) : (uint32_t)frame(slot) | (fz_u8(f) & 0x3f));
    }
}

static void regs(fz *f)
{
    uint8_t sel = fz_u8(f);

    tes_harness_block_poll(f->h);
    switch (sel % 4) {
    case 0: reg_w(f, 0x20, fz_u8(f)); break;
    case 1: reg_w(f, 0x34, fz_u32(f)); break;
    case 2: reg_w(f, 0xa0, fz_u32(f)); break;
    default:
        for (int i = 0; i < ENTRIES && r32(f, PI) != consumer; i++) {
            consumer = (consumer + 1) % ENTRIES;
        }
        w32(f, CI, sel & 4 ? fz_u32(f) : consumer);
        break;
    }
}

static void state_trip(fz *f)
{
    size_t len;
    uint8_t sel = fz_u8(f);
    uint8_t *blob = tes_harness_state_save(f->h, hba, &len);

    if (!blob) {
        fz_fail(f, "megasas: state save failed: %s", tes_harness_error(f->h));
    }
    if (sel & 1 && len) {
        blob[fz_u16(f) % len] = fz_u8(f);
        tes_harness_state_load(f->h, hba, blob, len);
    } else if (tes_harness_state_load(f->h, hba, blob, len) != 0) {
        fz_fail(f, "megasas: its own state does not load back: %s", tes_harness_error(f->h));
    }
    free(blob);
}

/* ---- the spec check ---- */

static void check_file(fz *f, uint64_t off, const uint8_t *want, size_t len)
{
    uint8_t *got = g_malloc(len);
    FILE *fp = fopen(image[0], "rb");

    if (!fp || fseek(fp, off, SEEK_SET) != 0 || fread(got, 1, len, fp) != len) {
        fz_fail(f, "megasas: cannot read back the image");
    }
    fclose(fp);
    if (memcmp(got, want, len) != 0) {
        fz_fail(f, "megasas: a completed LD WRITE of %zu bytes at 0x%llx is not on the image",
                len, (unsigned long long)off);
    }
    g_free(got);
}

/* The next reply in the queue is slot's context, its status OK. */
static bool posted_ok(fz *f, unsigned slot)
{
    uint32_t ctx;

    if (r32(f, PI) == consumer) {
        return false;
    }
    ctx = r32(f, RQ + 4 * consumer);
    consumer = (consumer + 1) % ENTRIES;
    w32(f, CI, consumer);
    return ctx == 0x100 + slot;
}

static uint8_t write_once(fz *f, uint8_t lba, uint64_t data)
{
    unsigned s = CHECK_SLOT;

    hdr(f, s, 2, 2 | 8, 1, 8);
    f->ram[frame(s) + 1] = 96;
    w32(f, frame(s) + 0x18, SENSE);
    w32(f, frame(s) + 0x20, lba);
    w64(f, frame(s) + 0x28, data);
    w32(f, frame(s) + 0x30, 0x1000);
    fire(f, s);
    fz_block_drain(f);
    if (!posted_ok(f, s)) {
        fz_fail(f, "megasas: the LD WRITE after reset was not posted");
    }
    return f->ram[frame(s) + 2];
}

static void spec_check(fz *f)
{
    uint8_t lba = fz_u8(f), seed = fz_u8(f), st = 0xff;
    uint64_t data = DATA + 0x10000ull * CHECK_SLOT;

    fz_block_drain(f);
    tes_harness_bar_map(f->h, hba, 0, BAR0);
    reg_w(f, 0x20, 7); /* MFI_RESET_FLAGS: back to READY */
    if (init_fw(f, CHECK_SLOT) != 0) {
        fz_fail(f, "megasas: INIT after a firmware reset failed (0x%x)",
                f->ram[frame(CHECK_SLOT) + 2]);
    }
    reg_w(f, 0x34, ~0x80000000u);
    for (unsigned i = 0; i < 0x1000; i++) {
        f->ram[data + i] = (uint8_t)(seed + i * 11 + i / 512);
    }
    /* A system reset earlier may have left a unit attention. */
    for (int i = 0; i < 2 && st != 0; i++) {
        st = write_once(f, lba, data);
    }
    if (st != 0) {
        fz_fail(f, "megasas: a 4 KiB LD WRITE after reset did not complete OK (0x%x)", st);
    }
    check_file(f, lba * 512ull, f->ram + data, 0x1000);
    hdr(f, CHECK_SLOT, 0x42, 0, 0, 0);
    fire(f, CHECK_SLOT);
    if (!posted_ok(f, CHECK_SLOT) || f->ram[frame(CHECK_SLOT) + 2] != 0x01) {
        fz_fail(f, "megasas: an unknown frame command is not answered INVALID_CMD");
    }
}

static void op(fz *f, unsigned i)
{
    hba = f->dev[0];
    switch (i) {
    case 0: {
        unsigned slot = fz_u8(f) % (NSLOT - 1);
        uint8_t sel = fz_u8(f);
        qinfo(f, sel & 1 ? fz_u32(f) : ENTRIES);
        hdr(f, slot, 0, sel & 2 ? 0 : 1, 0, 32);
        w64(f, frame(slot) + 0x18, sel & 4 ? fz_addr(f) : QINFO);
        if (sel & 8) {
            w64(f, QINFO + 8, fz_addr(f));
            w64(f, QINFO + 16, fz_addr(f));
            w64(f, QINFO + 24, fz_addr(f));
        }
        fire(f, slot);
        break;
    }
    case 1: ldio(f); break;
    case 2: pthru(f); break;
    case 3: dcmd(f); break;
    case 4: abort_frame(f); break;
    case 5: raw_frame(f); break;
    case 6: regs(f); break;
    case 7: state_trip(f); break;
    default: spec_check(f); break;
    }
}

static const fz_target megasas_target = {
    .plugins = {"scsi", NULL},
    .ram_size = RAM_SIZE,
    .init = init,
    .setup = setup,
    .n_ops = 9,
    .op = op,
};

FZ_TARGET(megasas_target)
