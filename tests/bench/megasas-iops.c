/*
 * megasas IOPS beside raw io_uring, in one process, on one raw file.
 *
 *   megasas-iops [--plugin scsi.so] [--seconds N] [--runs R] [--size BYTES]
 *                [--only raw|megasas] [FILE]
 *
 * (a) raw: liburing, 4 KiB random reads at queue depth 32 on FILE;
 * (b) megasas (MegaRAID SAS 1078, MFI interface) with a scsi-hd at
 *     scsi-id 0 (logical drive 0) through the plugin harness (no guest
 *     CPU): an in-process driver keeps 32 LD READ frames (64-bit SGL, one
 *     SGE) in flight, one inbound-queue-port write per frame as
 *     megaraid_sas does, reaps contexts from the reply queue, MSI-X on.
 * Both read through the host page cache (the core's drives are buffered),
 * so the ratio measures the emulation's overhead on the same I/O. Without
 * FILE a 1 GiB file is made in $TMPDIR and removed afterwards. Prints IOPS
 * of each and the ratio (issue 14's aim: >= 0.9). Not a pass/fail test.
 * The shared part (raw side, timing, printing) is in bench-common.c; the
 * MFI facts are those plugins/scsi/tests/test-megasas.c checks.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-common.h"

#define BAR0 0x80000000ull
#define RQ 0x80000ull      /* reply queue: QSIZE 32-bit contexts */
#define PI 0x81000ull      /* producer index (the device writes it) */
#define CI 0x81004ull      /* consumer index (the driver writes it) */
#define QINFO 0x82000ull   /* the INIT frame's queue description */
#define SENSE 0x90000ull   /* slot s: sense at + 128 s */
#define FRAMES 0x100000ull /* slot s: frame at + 256 s; INIT at FRAMES + 256 QD */
#define CTX 0x100          /* slot s completes with context CTX + s */

#define IQP 0x40
#define OMSK 0x34
#define OSP0 0xb0
#define ST_MASK 0xf0000000u
#define ST_READY 0xb0000000u
#define ST_OPERATIONAL 0xc0000000u
#define C_INIT 0
#define C_LD_READ 1
#define C_LD_SCSI 3
#define F_DONT_POST 0x1
#define F_SGL64 0x2
#define F_DIR_READ 0x10
#define S_OK 0

typedef struct mg {
    tes_harness *h;
    tes_device *dev;
    uint8_t *ram;
    uint32_t consumer;
} mg;

/* Little-endian words as single moves: the driver's own work counts in
 * the device side's CPU time, so it is kept as small as a real driver's
 * (which stores whole words). */
static void w32(uint8_t *p, uint32_t v)
{
    v = GUINT32_TO_LE(v);
    memcpy(p, &v, 4);
}

static uint32_t r32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return GUINT32_FROM_LE(v);
}

static uint64_t frame(unsigned slot)
{
    return FRAMES + 256ull * slot;
}

/* A frame header: status 0xff until the device answers. */
static uint8_t *hdr(mg *m, unsigned slot, uint8_t cmd, uint16_t flags, uint8_t sges,
                    uint32_t len)
{
    uint8_t *f = m->ram + frame(slot);

    memset(f, 0, 64);
    f[0] = cmd;
    f[1] = 96; /* sense bytes the device may write */
    f[2] = 0xff;
    f[7] = sges;
    w32(f + 8, CTX + slot);
    f[0x10] = flags, f[0x11] = flags >> 8;
    w32(f + 0x14, len);
    w32(f + 0x18, SENSE + 128 * slot);
    return f;
}

/* Hands the frame over: one MMIO write, as megaraid_sas's fire_cmd. */
static void fire(mg *m, unsigned slot)
{
    tes_harness_write(m->h, BAR0 + IQP, (uint32_t)frame(slot) | 1 << 1 | 1, 4);
}

/* LD READ of BS at sector of LD 0 into slot's buffer, posted. */
static void mg_read(void *mp, unsigned slot, uint64_t sector)
{
    mg *m = mp;
    uint8_t *f = hdr(m, slot, C_LD_READ, F_DIR_READ | F_SGL64, 1, BS / 512);
    uint64_t buf = DATA + slot * (uint64_t)BS;

    w32(f + 0x20, (uint32_t)sector);
    w32(f + 0x24, sector >> 32);
    w32(f + 0x28, (uint32_t)buf);
    w32(f + 0x2c, buf >> 32);
    w32(f + 0x30, BS);
    fire(m, slot);
}

/* A polled frame (DONT_POST) in the spare slot QD: its status. */
static uint8_t polled(mg *m, uint8_t *f)
{
    fire(m, QD);
    tes_harness_block_wait(m->h);
    return f[2];
}

/* INIT with a QSIZE-entry reply queue, then TEST UNIT READY until the
 * power-on unit attention is taken, as the driver's scan does, so the
 * reads that follow are not the ones to get CHECK CONDITION. */
static bool mg_init(mg *m)
{
    uint8_t *f = hdr(m, QD, C_INIT, F_DONT_POST, 0, 32);
    int i;

    w32(f + 0x18, QINFO);
    memset(m->ram + QINFO, 0, 32);
    w32(m->ram + QINFO + 4, QSIZE);
    w32(m->ram + QINFO + 8, RQ);
    w32(m->ram + QINFO + 16, PI);
    w32(m->ram + QINFO + 24, CI);
    w32(m->ram + PI, 0);
    w32(m->ram + CI, 0);
    m->consumer = 0; /* m is reused from run to run: a new device starts at 0 */
    if (polled(m, f) != S_OK) {
        return false;
    }
    tes_harness_write(m->h, BAR0 + OMSK, ~0x80000000u, 4); /* enable_intr */
    for (i = 0; i < 4; i++) {
        f = hdr(m, QD, C_LD_SCSI, F_DONT_POST, 0, 0);
        f[6] = 6; /* TEST UNIT READY: a CDB of six zeros */
        if (polled(m, f) == S_OK) {
            return true;
        }
    }
    return false;
}

static void *mg_up(const char *plugin, const char *path)
{
    static mg m;
    g_autofree char *drive = bench_drive_opts(path);
    uint32_t st;

    m.h = tes_harness_new(64ull << 20);
    if (!tes_harness_load(m.h, plugin) || !tes_harness_drive(m.h, drive) ||
        !(m.dev = tes_harness_device(m.h, "megasas", "id=scsi0")) ||
        !tes_harness_device(m.h, "scsi-hd", "drive=d0,bus=scsi0.0,scsi-id=0,lun=0")) {
        fprintf(stderr, "megasas: %s\n", tes_harness_error(m.h));
        exit(1);
    }
    m.ram = tes_harness_ram(m.h);
    st = tes_harness_bar_map(m.h, m.dev, 0, BAR0) == BAR0
             ? (uint32_t)tes_harness_read(m.h, BAR0 + OSP0, 4)
             : 0;
    if ((st & ST_MASK) != ST_READY || (st & 0xffff) < QD + 1 ||
        !tes_harness_msi_enable(m.h, m.dev) || !mg_init(&m)) {
        fprintf(stderr, "megasas: controller set-up failed (firmware status 0x%x)\n", st);
        exit(1);
    }
    return &m;
}

static void mg_kick(void *m)
{
    (void)m; /* each frame went to the inbound queue port on its own */
}

static unsigned mg_reap(void *mp, bench_rand *r)
{
    mg *m = mp;
    unsigned n = 0;

    bench_wait_irq(m->h);
    while (m->consumer != r32(m->ram + PI)) {
        uint32_t slot = r32(m->ram + RQ + 4 * m->consumer) - CTX;
        const uint8_t *f = m->ram + frame(slot < QD ? slot : 0);

        if (slot >= QD || f[2] != S_OK) {
            fprintf(stderr, "megasas: LD READ failed: context 0x%x, status 0x%x\n",
                    slot + CTX, f[2]);
            exit(1);
        }
        /* The consumer index first: the device checks it when posting. */
        m->consumer = (m->consumer + 1) % QSIZE;
        w32(m->ram + CI, m->consumer);
        mg_read(m, slot, bench_next_sector(r));
        n++;
    }
    return n;
}

static void mg_down(void *mp)
{
    mg *m = mp;

    tes_harness_reset(m->h); /* drains what is in flight */
    tes_harness_block_wait(m->h);
    tes_harness_free(m->h);
}

int main(int argc, char **argv)
{
    static const bench_driver drv = {
        .name = "megasas", .title = "megasas", .plugin_env = "SCSI_PLUGIN",
        .plugin_so = "scsi.so", .image = "megasas-iops.img", .aim = 0.9,
        .up = mg_up, .submit = mg_read, .kick = mg_kick,
        .reap = mg_reap, .down = mg_down,
    };

    return bench_main(argc, argv, &drv);
}
