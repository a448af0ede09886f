/*
 * lsi53c895a through the harness: the test plays the sym53c8xx driver with
 * small hand-assembled SCRIPTS programs (select, message out, command,
 * data in or out, status, message in, disconnect) in host RAM and in the
 * chip's own RAM, and checks what reaches the images; then the hostile
 * cases: a script looping forever, memory moves onto the chip's own
 * registers, a reset in the middle of a command, migration in the middle
 * of a data-out phase. Plugins: $VIRTIO_PLUGIN (loaded by the shared
 * fixture, unused) and $SCSI_PLUGIN.
 */
#include "tests/scsi-drv.h"

#include <tessera/scsi.h>

#include "lsi-regs.h"

#define IMG (4ull << 20)
#define MMIO 0x80000000ull
#define SRAM 0x80002000ull
#define IOPORT 0xc000
#define SCRIPT 0x10000ull
#define TABLE 0x20000ull  /* DSA */
#define MSGOUT 0x21000ull
#define CDB 0x21100ull
#define STATUS 0x21200ull
#define MSGIN 0x21300ull
#define VALUE 0x21400ull
#define DATA 0x100000ull
#define INT_DONE 0xd0e
#define INT_FAIL 0xfa1

/* ---- a tiny SCRIPTS assembler ---- */

typedef struct prog {
    uint32_t w[256];
    unsigned n;
    uint64_t base;
} prog;

static void emit(prog *p, uint32_t a, uint32_t b)
{
    p->w[p->n++] = a;
    p->w[p->n++] = b;
}

static void p_select_atn(prog *p, unsigned id, uint32_t alt)
{
    emit(p, 0x41000000u | id << 16, alt);
}

static void p_move(prog *p, unsigned phase, uint32_t count, uint32_t addr)
{
    emit(p, 0x08000000u | phase << 24 | count, addr);
}

static void p_clr_ack(prog *p)
{
    emit(p, 0x60000040u, 0);
}

static void p_wait_disc(prog *p)
{
    emit(p, 0x48000000u, 0);
}

static void p_int(prog *p, uint32_t code)
{
    emit(p, 0x98080000u, code);
}

static void p_jump(prog *p, uint32_t addr)
{
    emit(p, 0x80080000u, addr);
}

static void p_memmove(prog *p, uint32_t count, uint32_t src, uint32_t dst)
{
    emit(p, 0xc0000000u | count, src);
    p->w[p->n++] = dst;
}

/* Put the program where it runs: RAM, or the chip's RAM through BAR2. */
static void load_prog(sd_fixture *f, prog *p)
{
    for (unsigned i = 0; i < p->n; i++) {
        if (p->base == SRAM) {
            tes_harness_write(f->d.h, SRAM + 4 * i, p->w[i], 4);
        } else {
            memcpy(f->d.ram + p->base + 4 * i, &p->w[i], 4);
        }
    }
}

/* ---- the fixture ---- */

static uint8_t rd8(sd_fixture *f, unsigned reg)
{
    return (uint8_t)tes_harness_read(f->d.h, MMIO + reg, 1);
}

static uint32_t rd32(sd_fixture *f, unsigned reg)
{
    return (uint32_t)tes_harness_read(f->d.h, MMIO + reg, 4);
}

static void wr8(sd_fixture *f, unsigned reg, uint8_t v)
{
    tes_harness_write(f->d.h, MMIO + reg, v, 1);
}

static void wr32(sd_fixture *f, unsigned reg, uint32_t v)
{
    tes_harness_write(f->d.h, MMIO + reg, v, 4);
}

static void map_bars(sd_fixture *f)
{
    g_assert_cmphex(tes_harness_bar_map(f->d.h, f->d.dev, 0, IOPORT), ==, IOPORT);
    g_assert_cmphex(tes_harness_bar_map(f->d.h, f->d.dev, 1, MMIO), ==, MMIO);
    g_assert_cmphex(tes_harness_bar_map(f->d.h, f->d.dev, 2, SRAM), ==, SRAM);
}

/* The driver's bring-up: interrupts it handles enabled. */
static void driver_init(sd_fixture *f)
{
    wr8(f, R_DIEN, DSTAT_IID | DSTAT_SIR | DSTAT_ABRT | DSTAT_BF | DSTAT_SSI);
    wr8(f, R_SIEN0, SIST0_MA | SIST0_RST | SIST0_UDC);
    wr8(f, R_SIEN1, SIST1_STO | SIST1_GEN);
}

static void up(sd_fixture *f)
{
    sd_harness(f, 3, IMG);
    f->d.dev = sd_dev(f, "lsi53c895a", "id=scsi0");
    f->d.pci = true;
    sd_dev(f, "scsi-hd", "drive=d0,bus=scsi0.0,channel=0,scsi-id=0,lun=0");
    sd_dev(f, "scsi-hd", "drive=d1,bus=scsi0.0,channel=0,scsi-id=1,lun=0");
    map_bars(f);
    driver_init(f);
}

/* Start the program and run block I/O and the clock until the chip stops
 * (ISTAT1 SRUN clear) or max_steps passes. */
static void run_script(sd_fixture *f, uint32_t dsp, unsigned max_steps)
{
    wr32(f, R_DSP, dsp);
    for (unsigned i = 0; i < max_steps && (rd8(f, R_ISTAT1) & ISTAT1_SRUN); i++) {
        tes_harness_block_poll(f->d.h);
        tes_harness_clock_step(f->d.h, 200000);
        if (rd8(f, R_ISTAT1) & ISTAT1_SRUN) {
            tes_harness_block_wait(f->d.h);
        }
    }
}

/* A whole command to target id: select with ATN, IDENTIFY, the CDB, one
 * data move of len bytes (phase 0 out, 1 in; none when len is 0), status,
 * COMMAND COMPLETE, disconnect, INT INT_DONE. */
static void cmd_prog(prog *p, uint64_t base, unsigned id, unsigned cdb_len, unsigned phase,
                     uint32_t len)
{
    memset(p, 0, sizeof(*p));
    p->base = base;
    p_select_atn(p, id, 0);
    p_move(p, PHASE_MO, 1, MSGOUT);
    p_move(p, PHASE_CMD, cdb_len, CDB);
    if (len) {
        p_move(p, phase, len, DATA);
    }
    p_move(p, PHASE_ST, 1, STATUS);
    p_move(p, PHASE_MI, 1, MSGIN);
    p_clr_ack(p);
    p_wait_disc(p);
    p_int(p, INT_DONE);
    p->w[1] = (uint32_t)(base + 8 * (p->n / 2)); /* the select's alternate: past the end */
}

static void rw10(sd_fixture *f, uint8_t op, uint32_t lba, uint16_t blocks)
{
    uint8_t cdb[10] = {op, 0, lba >> 24, lba >> 16, lba >> 8, lba, 0, blocks >> 8, blocks, 0};

    memcpy(f->d.ram + CDB, cdb, sizeof(cdb));
    f->d.ram[MSGOUT] = 0x80; /* IDENTIFY, LUN 0 */
    f->d.ram[STATUS] = 0xff;
    f->d.ram[MSGIN] = 0xff;
}

/* The script ended with INT INT_DONE: DSTAT SIR, INTx raised, DSTAT read
 * clears both. */
static void assert_done(sd_fixture *f, uint8_t status)
{
    g_assert_cmphex(rd8(f, R_ISTAT0) & (ISTAT0_DIP | ISTAT0_SIP), ==, ISTAT0_DIP);
    g_assert_cmpint(tes_harness_intx_level(f->d.h, f->d.dev), ==, 1);
    g_assert_cmphex(rd32(f, R_DSPS), ==, INT_DONE);
    g_assert_cmphex(rd8(f, R_DSTAT), ==, DSTAT_SIR | DSTAT_DFE);
    g_assert_cmpint(tes_harness_intx_level(f->d.h, f->d.dev), ==, 0);
    g_assert_cmphex(f->d.ram[STATUS], ==, status);
    g_assert_cmphex(f->d.ram[MSGIN], ==, 0x00); /* COMMAND COMPLETE */
    g_assert_false(rd8(f, R_SCNTL1) & SCNTL1_CON);
}

static void read_file_at(const char *path, uint64_t off, void *buf, size_t len)
{
    FILE *fp = fopen(path, "rb");

    g_assert_nonnull(fp);
    g_assert_cmpint(fseek(fp, (long)off, SEEK_SET), ==, 0);
    g_assert_cmpuint(fread(buf, 1, len, fp), ==, len);
    fclose(fp);
}

static void assert_pattern(sd_fixture *f, uint64_t guest, uint64_t off, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (f->d.ram[guest + i] != sd_pattern(off + i)) {
            g_error("byte %zu: 0x%02x, want 0x%02x", i, f->d.ram[guest + i],
                    sd_pattern(off + i));
        }
    }
}

/* ---- tests ---- */

static void test_ids_bars_reset_values(void)
{
    sd_fixture f;

    up(&f);
    g_assert_cmphex(tes_harness_cfg_read(f.d.h, f.d.dev, 0, 4), ==, 0x00121000);
    g_assert_cmphex(tes_harness_cfg_read(f.d.h, f.d.dev, 0x0a, 2), ==, 0x0100);
    g_assert_cmphex(tes_harness_cfg_read(f.d.h, f.d.dev, 0x3d, 1), ==, 1);
    g_assert_cmphex(rd8(&f, R_DCMD), ==, 0x40);
    g_assert_cmphex(rd8(&f, R_SCID), ==, 7);
    g_assert_cmphex(rd8(&f, R_SCNTL0), ==, 0xc0);
    /* The same registers through the I/O BAR and the MMIO mirror. */
    g_assert_cmphex(tes_harness_io_read(f.d.h, IOPORT + R_SCID, 1), ==, 7);
    g_assert_cmphex(tes_harness_read(f.d.h, MMIO + 0x100 + R_SCID, 1), ==, 7);
    wr32(&f, R_SCRATCHA, 0x12345678);
    g_assert_cmphex(tes_harness_io_read(f.d.h, IOPORT + R_SCRATCHA, 4), ==, 0x12345678);
    /* sym_regtest: a dword at DSTAT never reads back all ones. */
    wr32(&f, R_DSTAT, 0xffffffff);
    g_assert_cmphex(rd32(&f, R_DSTAT), !=, 0xffffffff);
    /* SCSI bus reset: SSTAT0 RST while asserted, SIST0 RST, INTx. */
    wr8(&f, R_SCNTL1, SCNTL1_RST);
    g_assert_cmphex(rd8(&f, R_SSTAT0) & SSTAT0_RST, ==, SSTAT0_RST);
    g_assert_cmphex(rd8(&f, R_SBCL), ==, 0);
    g_assert_cmpint(tes_harness_intx_level(f.d.h, f.d.dev), ==, 1);
    wr8(&f, R_SCNTL1, 0);
    g_assert_cmphex(rd8(&f, R_SSTAT0) & SSTAT0_RST, ==, 0);
    g_assert_cmphex(rd8(&f, R_SIST0), ==, SIST0_RST);
    g_assert_cmpint(tes_harness_intx_level(f.d.h, f.d.dev), ==, 0);
    /* Soft reset: ISTAT SRST puts the registers back. */
    wr8(&f, R_ISTAT0, ISTAT0_SRST);
    wr8(&f, R_ISTAT0, 0);
    g_assert_cmphex(rd32(&f, R_SCRATCHA), ==, 0);
    /* The SCRIPTS RAM in BAR2 holds what is written. */
    tes_harness_write(f.d.h, SRAM + 0x1ffc, 0xcafef00d, 4);
    g_assert_cmphex(tes_harness_read(f.d.h, SRAM + 0x1ffc, 4), ==, 0xcafef00d);
    sd_down(&f);
}

static void do_read(uint64_t base)
{
    sd_fixture f;
    prog p;

    up(&f);
    rw10(&f, 0x28, 8, 8); /* READ(10) LBA 8, 4 KiB */
    memset(f.d.ram + DATA, 0, 4096);
    cmd_prog(&p, base, 0, 10, PHASE_DI, 4096);
    load_prog(&f, &p);
    run_script(&f, (uint32_t)base, 100);
    assert_done(&f, 0);
    assert_pattern(&f, DATA, 8 * 512, 4096);
    sd_down(&f);
}

static void test_read_script_in_ram(void)
{
    do_read(SCRIPT);
}

static void test_read_script_in_chip_ram(void)
{
    do_read(SRAM);
}

static void test_write(void)
{
    uint8_t back[8192];
    sd_fixture f;
    prog p;

    up(&f);
    rw10(&f, 0x2a, 100, 16); /* WRITE(10) LBA 100, 8 KiB to target 1 */
    for (unsigned i = 0; i < 8192; i++) {
        f.d.ram[DATA + i] = (uint8_t)(i * 7 + 3);
    }
    cmd_prog(&p, SCRIPT, 1, 10, PHASE_DO, 8192);
    load_prog(&f, &p);
    run_script(&f, SCRIPT, 100);
    assert_done(&f, 0);
    read_file_at(f.img[1], 100 * 512, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), f.d.ram + DATA, 8192);
    sd_down(&f);
}

/* A short data-in (INQUIRY gives 36 of 96 bytes): the phase changes with
 * DBC left, the chip jumps to PMJAD (phase mismatch jump) with RBC, UA and
 * IA telling the driver where it stopped. */
static void test_short_data_in_phase_mismatch_jump(void)
{
    const uint8_t inq[6] = {0x12, 0, 0, 0, 96, 0};
    sd_fixture f;
    prog p, pm;

    up(&f);
    memcpy(f.d.ram + CDB, inq, sizeof(inq));
    f.d.ram[MSGOUT] = 0x80;
    cmd_prog(&p, SCRIPT, 0, 6, PHASE_DI, 96);
    load_prog(&f, &p);
    memset(&pm, 0, sizeof(pm));
    pm.base = SCRIPT + 0x800;
    emit(&pm, 0xe0000000u | R_IA << 16 | 4, (uint32_t)VALUE); /* STORE IA, 4 */
    p_move(&pm, PHASE_ST, 1, STATUS);
    p_move(&pm, PHASE_MI, 1, MSGIN);
    p_clr_ack(&pm);
    p_wait_disc(&pm);
    p_int(&pm, INT_DONE);
    load_prog(&f, &pm);
    wr32(&f, R_PMJAD1, SCRIPT + 0x800);
    wr32(&f, R_PMJAD2, SCRIPT + 0x800);
    wr8(&f, R_CCNTL0, CCNTL0_ENPMJ);
    run_script(&f, SCRIPT, 100);
    assert_done(&f, 0);
    g_assert_cmpmem(f.d.ram + DATA + 8, 4, "QEMU", 4);
    g_assert_cmphex(rd32(&f, R_RBC) & 0xffffff, ==, 96 - 36);
    g_assert_cmphex(rd32(&f, R_UA), ==, DATA + 36);
    g_assert_cmphex(*(uint32_t *)(f.d.ram + VALUE), ==, SCRIPT + 24); /* the data move */
    sd_down(&f);
}

/* CHECK CONDITION, then the sense comes with the initiator's REQUEST
 * SENSE; a selection of an absent target times out (SIST1 STO). */
static void test_check_condition_sense_and_timeout(void)
{
    const uint8_t rs[6] = {0x03, 0, 0, 0, 18, 0};
    sd_fixture f;
    prog p;

    up(&f);
    rw10(&f, 0x28, 0x7fffffff, 1);
    cmd_prog(&p, SCRIPT, 0, 10, PHASE_DI, 0);
    load_prog(&f, &p);
    run_script(&f, SCRIPT, 100);
    assert_done(&f, TES_SCSI_CHECK_CONDITION);
    memcpy(f.d.ram + CDB, rs, sizeof(rs));
    cmd_prog(&p, SCRIPT, 0, 6, PHASE_DI, 18);
    load_prog(&f, &p);
    run_script(&f, SCRIPT, 100);
    assert_done(&f, 0);
    g_assert_cmphex(f.d.ram[DATA + 2] & 0xf, ==, 0x5);  /* ILLEGAL REQUEST */
    g_assert_cmphex(f.d.ram[DATA + 12], ==, 0x21);      /* LBA out of range */
    /* Target 5 is absent: STO stops the script at the next phase wait. */
    memset(&p, 0, sizeof(p));
    p.base = SCRIPT;
    p_select_atn(&p, 5, 0);
    emit(&p, 0x98030000u | PHASE_MO << 24, INT_FAIL); /* INT IF NOT WHEN MSG_OUT */
    p_int(&p, INT_DONE);
    load_prog(&f, &p);
    run_script(&f, SCRIPT, 10);
    g_assert_false(rd8(&f, R_ISTAT1) & ISTAT1_SRUN);
    g_assert_cmphex(rd32(&f, R_DSP), ==, SCRIPT + 16);
    g_assert_cmpint(tes_harness_intx_level(f.d.h, f.d.dev), ==, 1);
    g_assert_cmphex(rd8(&f, R_SIST1), ==, SIST1_STO);
    sd_down(&f);
}

/* JUMP to itself forever: each turn ends at the budget, the VM stays
 * responsive, the clock brings more turns, ISTAT ABRT stops it. */
static void test_looping_script_budget(void)
{
    sd_fixture f;
    prog p = {.base = SCRIPT};
    gint64 t0;

    up(&f);
    p_jump(&p, SCRIPT);
    load_prog(&f, &p);
    t0 = g_get_monotonic_time();
    wr32(&f, R_DSP, SCRIPT);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 2000000);
    g_assert_cmphex(rd32(&f, R_DSP), ==, SCRIPT);
    g_assert_true(rd8(&f, R_ISTAT1) & ISTAT1_SRUN);
    wr32(&f, R_SCRATCHA, 0xabcd); /* the registers still answer */
    g_assert_cmphex(rd32(&f, R_SCRATCHA), ==, 0xabcd);
    for (unsigned i = 0; i < 20; i++) {
        tes_harness_clock_step(f.d.h, 1000000);
    }
    g_assert_true(rd8(&f, R_ISTAT1) & ISTAT1_SRUN);
    g_assert_cmphex(rd32(&f, R_DSP), ==, SCRIPT);
    wr8(&f, R_ISTAT0, ISTAT0_ABRT);
    g_assert_false(rd8(&f, R_ISTAT1) & ISTAT1_SRUN);
    g_assert_cmpint(tes_harness_intx_level(f.d.h, f.d.dev), ==, 1);
    wr8(&f, R_ISTAT0, 0);
    g_assert_cmphex(rd8(&f, R_DSTAT), ==, DSTAT_ABRT | DSTAT_DFE);
    tes_harness_clock_step(f.d.h, 10000000);
    g_assert_false(rd8(&f, R_ISTAT1) & ISTAT1_SRUN);
    /* A self-modifying loop in the chip's RAM: a memory move rewrites the
     * jump's target each turn; the budget still holds. */
    memset(&p, 0, sizeof(p));
    p.base = SRAM;
    p_memmove(&p, 4, (uint32_t)VALUE, (uint32_t)(SRAM + 16 + 4));
    p_jump(&p, (uint32_t)SRAM);
    load_prog(&f, &p);
    memcpy(f.d.ram + VALUE, &(uint32_t){(uint32_t)SRAM}, 4);
    wr32(&f, R_DSP, SRAM);
    g_assert_true(rd8(&f, R_ISTAT1) & ISTAT1_SRUN);
    wr8(&f, R_ISTAT0, ISTAT0_ABRT);
    wr8(&f, R_ISTAT0, 0);
    g_assert_false(rd8(&f, R_ISTAT1) & ISTAT1_SRUN);
    sd_down(&f);
}

/* Memory moves onto the chip's own registers apply as register writes,
 * never recursing into the processor; too many bytes, a fetch from the
 * registers, SRST from SCRIPTS are refused. */
static void test_memmove_onto_own_registers(void)
{
    sd_fixture f;
    prog p = {.base = SCRIPT};
    uint32_t v = 0x11223344, dsp = (uint32_t)SCRIPT + 0x100;

    up(&f);
    memcpy(f.d.ram + VALUE, &v, 4);
    memcpy(f.d.ram + VALUE + 4, &dsp, 4);
    p_memmove(&p, 4, (uint32_t)VALUE, (uint32_t)(MMIO + R_SCRATCHA));
    /* DSP written by the script itself: a jump, not a second processor. */
    p_memmove(&p, 4, (uint32_t)VALUE + 4, (uint32_t)(MMIO + R_DSP));
    p_int(&p, INT_FAIL);
    load_prog(&f, &p);
    memset(&p, 0, sizeof(p));
    p.base = SCRIPT + 0x100;
    p_memmove(&p, 1, (uint32_t)VALUE + 8, (uint32_t)(MMIO + R_ISTAT0)); /* SRST */
    p_int(&p, INT_DONE);
    load_prog(&f, &p);
    f.d.ram[VALUE + 8] = ISTAT0_SRST;
    tes_harness_log_clear(f.d.h);
    run_script(&f, SCRIPT, 10);
    g_assert_cmphex(rd32(&f, R_SCRATCHA), ==, 0x11223344);
    g_assert_cmphex(rd32(&f, R_DSPS), ==, INT_DONE);
    g_assert_cmphex(rd8(&f, R_DSTAT), ==, DSTAT_SIR | DSTAT_DFE);
    g_assert_nonnull(strstr(tes_harness_log_text(f.d.h), "SCRIPTS reset the chip"));
    /* 512 bytes onto the registers: bus fault, nothing written past it. */
    memset(&p, 0, sizeof(p));
    p.base = SCRIPT + 0x200;
    p_memmove(&p, 512, (uint32_t)DATA, (uint32_t)MMIO);
    p_int(&p, INT_FAIL);
    load_prog(&f, &p);
    run_script(&f, SCRIPT + 0x200, 10);
    g_assert_cmphex(rd8(&f, R_DSTAT), ==, DSTAT_BF | DSTAT_DFE);
    g_assert_cmphex(rd8(&f, R_SCID), ==, 7);
    /* Instructions fetched from the register BAR: bus fault. */
    run_script(&f, (uint32_t)MMIO + R_SCRATCHA, 10);
    g_assert_cmphex(rd8(&f, R_DSTAT), ==, DSTAT_BF | DSTAT_DFE);
    g_assert_false(rd8(&f, R_ISTAT1) & ISTAT1_SRUN);
    /* 64 KiB into what is not RAM (the MSI window): a bus fault after at
     * most 4 KiB, not 8192 register accesses. */
    memset(&p, 0, sizeof(p));
    p.base = SCRIPT + 0x300;
    p_memmove(&p, 65536, (uint32_t)DATA, (uint32_t)TES_HARNESS_MSI_BASE);
    p_int(&p, INT_FAIL);
    load_prog(&f, &p);
    run_script(&f, SCRIPT + 0x300, 10);
    g_assert_cmphex(rd8(&f, R_DSTAT), ==, DSTAT_BF | DSTAT_DFE);
    g_assert_cmpuint(tes_harness_msi_count(f.d.h), ==, 0);
    sd_down(&f);
}

/* A system reset and ISTAT SRST while a 1 MiB read is in flight: the
 * request is waited for, the chip comes back clean and works. */
static void test_reset_mid_io(void)
{
    sd_fixture f;
    prog p;

    up(&f);
    for (unsigned round = 0; round < 2; round++) {
        rw10(&f, 0x28, 0, 2048);
        cmd_prog(&p, SCRIPT, 0, 10, PHASE_DI, 1 << 20);
        load_prog(&f, &p);
        wr32(&f, R_DSP, SCRIPT);
        g_assert_true(rd8(&f, R_ISTAT1) & ISTAT1_SRUN);
        if (round == 0) {
            tes_harness_reset(f.d.h);
            map_bars(&f);
            driver_init(&f);
        } else {
            wr8(&f, R_ISTAT0, ISTAT0_SRST);
            wr8(&f, R_ISTAT0, 0);
            driver_init(&f);
        }
        g_assert_false(rd8(&f, R_ISTAT1) & ISTAT1_SRUN);
        g_assert_cmphex(rd8(&f, R_DCMD), ==, 0x40);
        g_assert_false(rd8(&f, R_SCNTL1) & SCNTL1_CON);
        tes_harness_clock_step(f.d.h, 10000000);
        g_assert_false(rd8(&f, R_ISTAT1) & ISTAT1_SRUN);
        /* TEST UNIT READY takes the unit attention of the bus reset. */
        rw10(&f, 0x00, 0, 0);
        memset(f.d.ram + CDB, 0, 6);
        cmd_prog(&p, SCRIPT, 0, 6, PHASE_DI, 0);
        load_prog(&f, &p);
        run_script(&f, SCRIPT, 100);
        assert_done(&f, round == 0 ? TES_SCSI_CHECK_CONDITION : TES_SCSI_GOOD);
        rw10(&f, 0x28, 16, 8);
        cmd_prog(&p, SCRIPT, 0, 10, PHASE_DI, 4096);
        load_prog(&f, &p);
        run_script(&f, SCRIPT, 100);
        assert_done(&f, 0);
        assert_pattern(&f, DATA, 16 * 512, 4096);
    }
    sd_down(&f);
}

/* Migration between two data-out moves: the staged half and the SCRIPTS
 * position travel in the state, which is loaded back over a chip that a
 * soft reset wiped meanwhile; the write completes. */
static void test_migration_mid_data_out(void)
{
    uint8_t back[4096];
    sd_fixture f;
    size_t bytes = 0;
    prog p = {.base = SCRIPT};
    void *state;

    up(&f);
    rw10(&f, 0x2a, 40, 8);
    for (unsigned i = 0; i < 4096; i++) {
        f.d.ram[DATA + i] = (uint8_t)(i * 11 + 1);
    }
    p_select_atn(&p, 0, 0);
    p_move(&p, PHASE_MO, 1, MSGOUT);
    p_move(&p, PHASE_CMD, 10, CDB);
    p_move(&p, PHASE_DO, 2048, DATA);
    p_int(&p, 0x111);
    p_move(&p, PHASE_DO, 2048, DATA + 2048);
    p_move(&p, PHASE_ST, 1, STATUS);
    p_move(&p, PHASE_MI, 1, MSGIN);
    p_clr_ack(&p);
    p_wait_disc(&p);
    p_int(&p, INT_DONE);
    load_prog(&f, &p);
    run_script(&f, SCRIPT, 10);
    g_assert_cmphex(rd32(&f, R_DSPS), ==, 0x111);
    g_assert_cmphex(rd8(&f, R_DSTAT), ==, DSTAT_SIR | DSTAT_DFE);
    state = tes_harness_state_save(f.d.h, f.d.dev, &bytes);
    g_assert_nonnull(state);
    g_assert_cmpuint(bytes, >, 8192 + 4096);
    wr8(&f, R_ISTAT0, ISTAT0_SRST);
    wr8(&f, R_ISTAT0, 0);
    g_assert_cmphex(rd8(&f, R_SSTAT1) & PHASE_MASK, ==, 0);
    g_assert_cmpint(tes_harness_state_load(f.d.h, f.d.dev, state, bytes), ==, 0);
    free(state);
    g_assert_cmphex(rd8(&f, R_SSTAT1) & PHASE_MASK, ==, PHASE_DO);
    run_script(&f, rd32(&f, R_DSP), 100);
    assert_done(&f, 0);
    read_file_at(f.img[0], 40 * 512, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), f.d.ram + DATA, 4096);
    sd_down(&f);
}

/* The driver's idle loop: WAIT RESELECT until ISTAT SIGP jumps to the
 * alternate address; CTEST2 reports and clears SIGP; an interrupt on the
 * fly raises INTF and the script goes on; single step stops after each
 * instruction with DSTAT SSI. */
static void test_wait_reselect_sigp_intfly_single_step(void)
{
    sd_fixture f;
    prog p = {.base = SCRIPT};

    up(&f);
    emit(&p, 0x50000000u, (uint32_t)SCRIPT + 16); /* WAIT RESELECT, alt */
    p_int(&p, INT_FAIL);
    emit(&p, 0x98180000u, 0x77); /* INTFLY */
    p_int(&p, INT_DONE);
    load_prog(&f, &p);
    wr32(&f, R_DSP, SCRIPT);
    tes_harness_clock_step(f.d.h, 10000000);
    g_assert_true(rd8(&f, R_ISTAT1) & ISTAT1_SRUN);
    g_assert_cmpint(tes_harness_intx_level(f.d.h, f.d.dev), ==, 0);
    wr8(&f, R_ISTAT0, ISTAT0_SIGP);
    g_assert_false(rd8(&f, R_ISTAT1) & ISTAT1_SRUN);
    g_assert_cmphex(rd32(&f, R_DSPS), ==, INT_DONE);
    g_assert_cmphex(rd8(&f, R_ISTAT0) & (ISTAT0_INTF | ISTAT0_DIP), ==,
                    ISTAT0_INTF | ISTAT0_DIP);
    g_assert_cmphex(rd8(&f, R_CTEST2) & CTEST2_SIGP, ==, CTEST2_SIGP);
    g_assert_cmphex(rd8(&f, R_CTEST2) & CTEST2_SIGP, ==, 0);
    wr8(&f, R_ISTAT0, ISTAT0_INTF); /* write one to clear */
    g_assert_cmphex(rd8(&f, R_ISTAT0) & ISTAT0_INTF, ==, 0);
    g_assert_cmphex(rd8(&f, R_DSTAT), ==, DSTAT_SIR | DSTAT_DFE);
    g_assert_cmpint(tes_harness_intx_level(f.d.h, f.d.dev), ==, 0);
    /* Single step: one instruction per start. */
    wr8(&f, R_DCNTL, DCNTL_SSM);
    wr32(&f, R_DSP, SCRIPT + 16);
    g_assert_cmphex(rd32(&f, R_DSP), ==, SCRIPT + 24);
    g_assert_cmphex(rd8(&f, R_DSTAT), ==, DSTAT_SSI | DSTAT_DFE);
    wr8(&f, R_DCNTL, DCNTL_SSM | DCNTL_STD);
    g_assert_cmphex(rd32(&f, R_DSPS), ==, INT_DONE);
    sd_down(&f);
}

/* Table indirect data moves with the address's high bits from the table
 * (40-bit mode) or from the register its top byte selects. */
static void test_table_indirect_high_address(void)
{
    static const struct { uint8_t ccntl1, top; bool ok; } cases[] = {
        {CCNTL1_EN64TIBMV | CCNTL1_64TIMOD, 0, true},
        {CCNTL1_EN64TIBMV | CCNTL1_64TIMOD, 1, false}, /* 4 GiB up: no RAM */
        {CCNTL1_EN64TIBMV, 0x00, true},                 /* SCRATCHC: 0 */
        {CCNTL1_EN64TIBMV, 0x10, false},                /* MMRS: 2 */
        {0, 0x7f, true},                                /* 32-bit: ignored */
    };
    sd_fixture f;

    up(&f);
    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        uint32_t tbl[2] = {4096 | (uint32_t)cases[i].top << 24, (uint32_t)DATA};
        prog p = {.base = SCRIPT};

        memcpy(f.d.ram + TABLE, tbl, sizeof(tbl));
        wr8(&f, R_CCNTL1, cases[i].ccntl1);
        wr32(&f, R_MMRS, 2);
        wr32(&f, R_DSA, (uint32_t)TABLE);
        rw10(&f, 0x28, 24, 8);
        memset(f.d.ram + DATA, 0, 4096);
        p_select_atn(&p, 0, 0);
        p_move(&p, PHASE_MO, 1, MSGOUT);
        p_move(&p, PHASE_CMD, 10, CDB);
        emit(&p, 0x19000000u, 0); /* MOVE FROM 0 (table at DSA + 0), WHEN DATA_IN */
        p_move(&p, PHASE_ST, 1, STATUS);
        p_move(&p, PHASE_MI, 1, MSGIN);
        p_clr_ack(&p);
        p_wait_disc(&p);
        p_int(&p, INT_DONE);
        load_prog(&f, &p);
        run_script(&f, SCRIPT, 100);
        if (cases[i].ok) {
            assert_done(&f, 0);
            assert_pattern(&f, DATA, 24 * 512, 4096);
        } else {
            g_assert_cmphex(rd8(&f, R_DSTAT), ==, DSTAT_BF | DSTAT_DFE);
            wr8(&f, R_SCNTL1, SCNTL1_RST); /* the driver's way out */
            wr8(&f, R_SCNTL1, 0);
            rd8(&f, R_SIST0);
            /* The bus reset leaves a unit attention for the next command. */
            memset(f.d.ram + CDB, 0, 6);
            p = (prog){.base = SCRIPT};
            cmd_prog(&p, SCRIPT, 0, 6, PHASE_DI, 0);
            load_prog(&f, &p);
            run_script(&f, SCRIPT, 100);
            assert_done(&f, TES_SCSI_CHECK_CONDITION);
        }
    }
    sd_down(&f);
}

/* A full round trip through the core (PCI state, fields, save data) of a
 * chip with no disks: its SCRIPTS RAM, registers and a script parked in
 * WAIT RESELECT come back; SIGP then runs it on. A script yielding at
 * its budget keeps running after the trip. */
static void test_migrate_round_trip_script_position(void)
{
    sd_fixture f;
    prog p = {.base = SRAM};
    size_t bytes = 0;

    sd_harness(&f, 0, 0);
    f.d.dev = sd_dev(&f, "lsi53c895a", "id=scsi0");
    map_bars(&f);
    driver_init(&f);
    emit(&p, 0x50000000u, (uint32_t)SRAM + 16); /* WAIT RESELECT */
    p_int(&p, INT_FAIL);
    p_int(&p, INT_DONE);
    p_jump(&p, (uint32_t)SRAM + 24);            /* a loop at +24 */
    load_prog(&f, &p);
    wr32(&f, R_SCRATCHB, 0x5a5a0001);
    wr32(&f, R_DSP, (uint32_t)SRAM);
    g_assert_true(rd8(&f, R_ISTAT1) & ISTAT1_SRUN);
    f.d.dev = tes_harness_migrate(f.d.h, f.d.dev, &bytes);
    g_assert_nonnull(f.d.dev);
    g_assert_cmpuint(bytes, >, 8192);
    g_assert_cmphex(rd32(&f, R_SCRATCHB), ==, 0x5a5a0001);
    g_assert_cmphex(tes_harness_read(f.d.h, SRAM + 16, 4), ==, 0x98080000u);
    g_assert_true(rd8(&f, R_ISTAT1) & ISTAT1_SRUN);
    wr8(&f, R_ISTAT0, ISTAT0_SIGP);
    g_assert_cmphex(rd32(&f, R_DSPS), ==, INT_DONE);
    g_assert_cmpint(tes_harness_intx_level(f.d.h, f.d.dev), ==, 1);
    g_assert_cmphex(rd8(&f, R_DSTAT), ==, DSTAT_SIR | DSTAT_DFE);
    /* Yielding at its budget: the trip keeps it going. */
    wr32(&f, R_DSP, (uint32_t)SRAM + 24);
    g_assert_true(rd8(&f, R_ISTAT1) & ISTAT1_SRUN);
    f.d.dev = tes_harness_migrate(f.d.h, f.d.dev, &bytes);
    g_assert_nonnull(f.d.dev);
    tes_harness_clock_step(f.d.h, 50000000);
    g_assert_true(rd8(&f, R_ISTAT1) & ISTAT1_SRUN);
    g_assert_cmphex(rd32(&f, R_DSP), ==, SRAM + 24);
    wr8(&f, R_ISTAT0, ISTAT0_ABRT);
    wr8(&f, R_ISTAT0, 0);
    g_assert_false(rd8(&f, R_ISTAT1) & ISTAT1_SRUN);
    sd_down(&f);
}

static void test_bus_limits(void)
{
    sd_fixture f;

    up(&f);
    g_assert_null(tes_harness_device(f.d.h, "scsi-hd", "drive=d2,bus=scsi0.0,scsi-id=2,lun=1"));
    g_assert_null(tes_harness_device(f.d.h, "scsi-hd", "drive=d2,bus=scsi0.0,scsi-id=7,lun=0"));
    g_assert_nonnull(tes_harness_device(f.d.h, "scsi-hd",
                                        "drive=d2,bus=scsi0.0,scsi-id=6,lun=0"));
    sd_down(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    sd_plugins_from_env(argc, argv);
    g_test_add_func("/lsi53c895a/ids-bars-reset-values", test_ids_bars_reset_values);
    g_test_add_func("/lsi53c895a/read/script-in-ram", test_read_script_in_ram);
    g_test_add_func("/lsi53c895a/read/script-in-chip-ram", test_read_script_in_chip_ram);
    g_test_add_func("/lsi53c895a/write/reaches-the-image", test_write);
    g_test_add_func("/lsi53c895a/short-data-in/phase-mismatch-jump",
                    test_short_data_in_phase_mismatch_jump);
    g_test_add_func("/lsi53c895a/check-condition-sense-and-timeout",
                    test_check_condition_sense_and_timeout);
    g_test_add_func("/lsi53c895a/looping-script/budget-and-abort", test_looping_script_budget);
    g_test_add_func("/lsi53c895a/memmove/onto-own-registers", test_memmove_onto_own_registers);
    g_test_add_func("/lsi53c895a/reset/mid-io", test_reset_mid_io);
    g_test_add_func("/lsi53c895a/migration/mid-data-out", test_migration_mid_data_out);
    g_test_add_func("/lsi53c895a/wait-reselect-sigp-intfly-single-step",
                    test_wait_reselect_sigp_intfly_single_step);
    g_test_add_func("/lsi53c895a/table-indirect/high-address-bits",
                    test_table_indirect_high_address);
    g_test_add_func("/lsi53c895a/migration/round-trip-script-position",
                    test_migrate_round_trip_script_position);
    g_test_add_func("/lsi53c895a/bus/targets-0-6-lun-0", test_bus_limits);
    return g_test_run();
}
