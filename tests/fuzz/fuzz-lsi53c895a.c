/*
 * Fuzz target: lsi53c895a (plugins/scsi) with a scsi-hd at target 0 and a
 * scsi-cd at target 1, through the harness; the generic actions are
 * fuzz-dev.h's (its guest pointers aim into the chip's own BARs too).
 * Target actions:
 *
 *   0,1  a SCRIPTS program of 1..24 instructions, mostly of the opcodes a
 *        driver uses with fuzzed fields (phases, counts, table offsets,
 *        registers, conditions), arguments anywhere: RAM, the program
 *        itself (loops, self-modification), the chip's registers and
 *        SCRIPTS RAM; in RAM or in the chip's RAM, then started
 *   2    a well-formed command program (select, IDENTIFY and fuzzed
 *        message bytes, a CDB the disks know or any, one data move of any
 *        length anywhere, status, message in) to any target, started
 *   3    register writes a driver makes (ISTAT abort/signal/reset, SCNTL1
 *        bus reset, DSP, DCNTL start/single step, DMODE manual start,
 *        CCNTL0/1, PMJAD, interrupt enables, DSA, TEMP, scratch)
 *   4    run: block completions and clock steps, so the processor goes on
 *   5    the migration state loaded back with a field forged (the loader
 *        refuses or takes it; the chip keeps working)
 *   6    the spec check: soft reset, then a WRITE(10) of 4 KiB through a
 *        script lands on the image and a looping script leaves the chip
 *        answering until ISTAT ABRT stops it
 *
 * A round trip of the HBA alone would drop its disks in the harness, so
 * that HBA stays out of the generic migration action (action 5 covers its
 * loader instead); a second lsi53c895a without disks takes the generic
 * actions and migration round trips in whatever state they leave it.
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
#define MMIO 0x80000000ull
#define SRAM 0x80002000ull
#define IOPORT 0xc000
#define MMIO2 0x80004000ull
#define SRAM2 0x80006000ull
#define IOPORT2 0xc100
#define PROG 0x100000ull
#define BUFS 0x200000ull
#define CHECK_DATA 0x300000ull
#define R_DSTAT 0x0c
#define R_SCNTL1 0x01
#define R_ISTAT0 0x14
#define R_ISTAT1 0x15
#define R_DSP 0x2c
#define R_DSPS 0x30
#define R_SCID 0x04
#define SRUN 0x02

static char *image[2];
static tes_device *hba, *second;

static void remove_images(void)
{
    for (int i = 0; i < 2; i++) {
        g_unlink(image[i]);
    }
}

static void init(void)
{
    for (int i = 0; i < 2; i++) {
        int fd = g_file_open_tmp("fuzz-lsi-XXXXXX.img", &image[i], NULL);
        if (fd < 0 || ftruncate(fd, IMG_SIZE) != 0) {
            fprintf(stderr, "fuzz-lsi53c895a: cannot make a scratch image\n");
            exit(1);
        }
        close(fd);
    }
    atexit(remove_images);
}

static tes_device *create(fz *f, const char *type, const char *props)
{
    tes_device *d = tes_harness_device(f->h, type, props);

    if (!d) {
        fz_fail(f, "%s: %s", type, tes_harness_error(f->h));
    }
    return d;
}

static void map(fz *f)
{
    tes_harness_bar_map(f->h, hba, 0, IOPORT);
    tes_harness_bar_map(f->h, hba, 1, MMIO);
    tes_harness_bar_map(f->h, hba, 2, SRAM);
}

static void wr(fz *f, unsigned reg, uint64_t v, unsigned size)
{
    tes_harness_write(f->h, MMIO + reg, v, size);
}

static uint64_t rd(fz *f, unsigned reg, unsigned size)
{
    return tes_harness_read(f->h, MMIO + reg, size);
}

static void driver_init(fz *f)
{
    wr(f, 0x39, 0x3d, 1); /* DIEN */
    wr(f, 0x40, 0x86, 1); /* SIEN0: MA, UDC, RST */
    wr(f, 0x41, 0x06, 1); /* SIEN1: STO, GEN */
}

static void setup(fz *f)
{
    for (int i = 0; i < 2; i++) {
        char *opt = g_strdup_printf("file=%s,if=none,id=d%d,format=raw%s", image[i], i,
                                    i ? ",readonly=on" : "");
        if (!tes_harness_drive(f->h, opt)) {
            fz_fail(f, "drive: %s", tes_harness_error(f->h));
        }
        g_free(opt);
    }
    hba = create(f, "lsi53c895a", "id=scsi0");
    fz_device_fixed(f, fz_device_add(f, hba, NULL));
    fz_device_add(f, create(f, "scsi-hd", "drive=d0,bus=scsi0.0,scsi-id=0,lun=0"), NULL);
    fz_device_add(f, create(f, "scsi-cd", "drive=d1,bus=scsi0.0,scsi-id=1,lun=0"), NULL);
    map(f);
    fz_window_add(f, MMIO, 0x400, false);
    fz_window_add(f, SRAM, 0x2000, false);
    fz_window_add(f, IOPORT, 0x100, true);
    driver_init(f);
    /* A second chip with no disks: the generic actions reach it, and its
     * migration round trips (it has nothing on its bus to lose). */
    second = create(f, "lsi53c895a", "id=scsi1");
    fz_device_add(f, second, NULL);
    tes_harness_bar_map(f->h, second, 0, IOPORT2);
    tes_harness_bar_map(f->h, second, 1, MMIO2);
    tes_harness_bar_map(f->h, second, 2, SRAM2);
    fz_window_add(f, MMIO2, 0x400, false);
    fz_window_add(f, SRAM2, 0x2000, false);
}

/* ---- programs ---- */

/* Top bytes of the instructions drivers use (phase bits added later). */
static const uint8_t opcodes[] = {
    0x08, 0x18, 0x28, 0x00, 0x10,       /* MOVE, table, indirect; CHMOV */
    0x41, 0x43, 0x40, 0x48, 0x50, 0x58, 0x60, /* select, wait, set, clear */
    0x68, 0x70, 0x78, 0x7f,             /* register moves */
    0x80, 0x88, 0x90, 0x98, 0x80,       /* jump, call, return, int */
    0xc0, 0xe0, 0xe1, 0xf0, 0xf1,       /* memory move, load, store */
};

/* An argument: a buffer, the program (loops), a chip window, anywhere. */
static uint32_t arg(fz *f, uint64_t base, unsigned n)
{
    switch (fz_u8(f) % 6) {
    case 0: return (uint32_t)(base + 8 * (fz_u8(f) % (n + 1)));
    case 1: return (uint32_t)(MMIO + (fz_u8(f) & 0xff));
    case 2: return (uint32_t)(SRAM + (fz_u16(f) & 0x1fff));
    case 3: return (uint32_t)(BUFS + (fz_u16(f) & 0xffff));
    case 4: return fz_u32(f);
    default: return (uint32_t)fz_addr(f);
    }
}

static uint32_t insn(fz *f)
{
    uint8_t top = opcodes[fz_u8(f) % sizeof(opcodes)];
    uint32_t low = fz_u32(f) & 0xffffff;

    if (top < 0x40) {
        top |= fz_u8(f) & 7; /* the phase */
        if (fz_u8(f) & 1) {
            low &= 0xfff;
        }
    } else if (top >= 0x80 && top < 0xc0) {
        top |= fz_u8(f) & 7;
    } else if (top >= 0xe0) {
        low = (low & 0xff0000) | (fz_u8(f) & 7);
    }
    return (uint32_t)top << 24 | low;
}

static void put32(fz *f, uint64_t addr, uint32_t v)
{
    if (addr >= SRAM && addr + 4 <= SRAM + 0x2000) {
        tes_harness_write(f->h, addr, v, 4);
    } else if (addr + 4 <= f->ram_size) {
        memcpy(f->ram + addr, &v, 4);
    }
}

static void program(fz *f)
{
    uint64_t base = fz_u8(f) & 1 ? SRAM + (fz_u16(f) & 0x1f00) : PROG + (fz_u16(f) & 0xfff0);
    unsigned n = 1 + fz_u8(f) % 24;
    uint64_t a = base;

    for (unsigned i = 0; i < n; i++) {
        uint32_t w = insn(f);
        put32(f, a, w);
        put32(f, a + 4, arg(f, base, n));
        a += 8;
        if ((w >> 29) == 6) { /* memory move: the destination */
            put32(f, a, arg(f, base, n));
            a += 4;
        }
    }
    for (unsigned i = 0; i < 64; i++) { /* tables the program may use */
        f->ram[BUFS + (fz_u16(f) & 0xffff)] = fz_u8(f);
    }
    wr(f, 0x10, BUFS + (fz_u16(f) & 0xfff0), 4); /* DSA */
    wr(f, R_DSP, (uint32_t)base, 4);
}

static const uint8_t cdbs[] = {0x00, 0x03, 0x08, 0x0a, 0x12, 0x1a, 0x25, 0x28, 0x2a, 0x35,
                               0x43, 0x5a, 0x88, 0x8a, 0x9e, 0xa0, 0xa8, 0xaa, 0xbd};

static void command(fz *f)
{
    uint64_t p = PROG + 0x8000, b = BUFS + 0x10000, data;
    uint32_t w[24], len = fz_u8(f) & 1 ? fz_u16(f) : fz_len(f);
    unsigned n = 0, id = fz_u8(f) % 4 == 0 ? fz_u8(f) & 0xf : fz_u8(f) & 1;
    uint8_t phase = fz_u8(f) & 1;

    data = fz_u8(f) & 3 ? BUFS + 0x20000 : fz_addr(f);
    f->ram[b] = 0x80 | (fz_u8(f) % 4 == 0 ? fz_u8(f) & 7 : 0);
    for (unsigned i = 1; i < 16; i++) {
        f->ram[b + i] = fz_u8(f);
    }
    f->ram[b + 0x20] = cdbs[fz_u8(f) % sizeof(cdbs)];
    for (unsigned i = 1; i < 16; i++) {
        f->ram[b + 0x20 + i] = fz_u8(f) % 3 ? 0 : fz_u8(f);
    }
    w[n++] = 0x41000000u | id << 16, w[n++] = (uint32_t)(p + 0x58);
    w[n++] = 0x0e000000u | (1 + fz_u8(f) % 16), w[n++] = (uint32_t)b;
    w[n++] = 0x0a000000u | (6 + fz_u8(f) % 11), w[n++] = (uint32_t)(b + 0x20);
    w[n++] = 0x08000000u | (uint32_t)phase << 24 | (len & 0xffffff), w[n++] = (uint32_t)data;
    w[n++] = 0x0b000001u, w[n++] = (uint32_t)(b + 0x40);
    w[n++] = 0x0f000001u, w[n++] = (uint32_t)(b + 0x41);
    w[n++] = 0x60000040u, w[n++] = 0;
    w[n++] = 0x48000000u, w[n++] = 0;
    w[n++] = 0x98080000u, w[n++] = 0xd0e;
    memcpy(f->ram + p, w, 4 * n);
    wr(f, R_DSP, (uint32_t)p, 4);
}

/* ---- registers ---- */

static const uint8_t regs[] = {0x14, 0x14, 0x01, 0x2f, 0x3b, 0x38, 0x56, 0x57, 0xc0, 0xc4,
                               0x39, 0x40, 0x41, 0x10, 0x1c, 0x34, 0x5c, 0x02, 0x49, 0x06};

static void registers(fz *f)
{
    unsigned reg = regs[fz_u8(f) % sizeof(regs)];

    if (fz_u8(f) & 1) {
        wr(f, reg, fz_u8(f), 1);
    } else {
        wr(f, reg & ~3u, fz_u8(f) & 1 ? fz_u32(f) : (uint32_t)fz_addr(f), 4);
    }
}

static void run(fz *f)
{
    unsigned steps = 1 + fz_u8(f) % 8;

    for (unsigned i = 0; i < steps; i++) {
        fz_block_drain(f);
        tes_harness_clock_step(f->h, fz_ns(f, 12));
    }
}

/* ---- the loader ---- */

static const char *const fields[] = {"waiting", "msg_len", "msg_action", "cdb_len", "buf_len",
                                     "pos", "valid", "cmd_active", "dir", "cur_id",
                                     "resume_phase", "sense_len", "mismatch", "r"};

static void forge(fz *f)
{
    size_t len = 0;
    void *st;

    fz_block_drain(f);
    st = tes_harness_state_save(f->h, hba, &len);
    if (!st) {
        fz_fail(f, "lsi53c895a: saving refused: %s", tes_harness_error(f->h));
    }
    tes_harness_state_poke(hba, st, len, fields[fz_u8(f) % 14], fz_u8(f) % 8, fz_u32(f));
    tes_harness_state_load(f->h, hba, st, len);
    free(st);
    rd(f, R_ISTAT0, 1);
}

/* ---- the spec check ---- */

static void check_file(fz *f, uint64_t off, const uint8_t *want, size_t len)
{
    uint8_t got[4096];
    FILE *fp = fopen(image[0], "rb");

    if (!fp || fseek(fp, (long)off, SEEK_SET) != 0 || fread(got, 1, len, fp) != len) {
        fz_fail(f, "lsi53c895a: cannot read back the image");
    }
    fclose(fp);
    if (memcmp(got, want, len)) {
        fz_fail(f, "lsi53c895a: a 4 KiB WRITE(10) did not reach the image");
    }
}

static void wait_stop(fz *f, unsigned max)
{
    for (unsigned i = 0; i < max && (rd(f, R_ISTAT1, 1) & SRUN); i++) {
        fz_block_drain(f);
        tes_harness_clock_step(f->h, 200000);
    }
}

static void write_check(fz *f)
{
    uint8_t lba = fz_u8(f), seed = fz_u8(f), status = 0xff;
    uint64_t p = CHECK_DATA, b = CHECK_DATA + 0x100, d = CHECK_DATA + 0x1000;
    const uint8_t cdb[10] = {0x2a, 0, 0, 0, 0, lba, 0, 0, 8, 0};
    const uint32_t w[] = {0x41000000u, (uint32_t)p + 0x48, 0x0e000001u, (uint32_t)b,
                          0x0a00000au, (uint32_t)b + 0x10, 0x08001000u, (uint32_t)d,
                          0x0b000001u, (uint32_t)b + 0x20, 0x0f000001u, (uint32_t)b + 0x21,
                          0x60000040u, 0, 0x48000000u, 0, 0x98080000u, 0xd0e};

    memcpy(f->ram + p, w, sizeof(w));
    f->ram[b] = 0x80;
    memcpy(f->ram + b + 0x10, cdb, sizeof(cdb));
    for (unsigned i = 0; i < 4096; i++) {
        f->ram[d + i] = (uint8_t)(i * 31 + seed);
    }
    /* A unit attention may come first (a bus reset before). */
    for (unsigned tries = 0; tries < 3 && status != 0; tries++) {
        f->ram[b + 0x20] = 0xff;
        wr(f, R_DSP, (uint32_t)p, 4);
        wait_stop(f, 50);
        status = f->ram[b + 0x20];
        rd(f, R_DSTAT, 1);
        rd(f, 0x42, 2);
    }
    if (status != 0 || rd(f, R_DSPS, 4) != 0xd0e) {
        fz_fail(f, "lsi53c895a: WRITE(10) script ended with status 0x%x at DSPS 0x%x", status,
                (unsigned)rd(f, R_DSPS, 4));
    }
    check_file(f, lba * 512ull, f->ram + d, 4096);
}

static void loop_check(fz *f)
{
    uint32_t w[2] = {0x80080000u, (uint32_t)CHECK_DATA + 0x2000};

    memcpy(f->ram + CHECK_DATA + 0x2000, w, sizeof(w));
    wr(f, R_DSP, (uint32_t)CHECK_DATA + 0x2000, 4);
    tes_harness_clock_step(f->h, 1000000);
    if (rd(f, R_SCID, 1) != 7 || !(rd(f, R_ISTAT1, 1) & SRUN)) {
        fz_fail(f, "lsi53c895a: a looping script stopped, or the chip stopped answering");
    }
    wr(f, R_ISTAT0, 0x80, 1);
    wr(f, R_ISTAT0, 0, 1);
    if (rd(f, R_ISTAT1, 1) & SRUN) {
        fz_fail(f, "lsi53c895a: ISTAT ABRT did not stop a looping script");
    }
    rd(f, R_DSTAT, 1);
}

static void spec_check(fz *f)
{
    fz_block_drain(f);
    tes_harness_cfg_write(f->h, hba, 0x04, 0x7, 2);
    map(f);
    wr(f, R_ISTAT0, 0x40, 1); /* SRST */
    wr(f, R_ISTAT0, 0, 1);
    driver_init(f);
    if (rd(f, R_ISTAT1, 1) & SRUN) {
        fz_fail(f, "lsi53c895a: SCRIPTS running after a soft reset");
    }
    write_check(f);
    loop_check(f);
}

static void op(fz *f, unsigned i)
{
    hba = f->dev[0];
    switch (i) {
    case 0: case 1: program(f); break;
    case 2: command(f); break;
    case 3: registers(f); break;
    case 4: run(f); break;
    case 5: forge(f); break;
    default: spec_check(f); break;
    }
}

static const fz_target lsi_target = {
    .plugins = {"scsi", NULL},
    .ram_size = RAM_SIZE,
    .init = init,
    .setup = setup,
    .n_ops = 7,
    .op = op,
};

FZ_TARGET(lsi_target)
