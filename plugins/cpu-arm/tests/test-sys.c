/*
 * cpu-arm system tests through the harness: exceptions (SVC, ERET, IRQ),
 * system registers and their EL0 traps, the MMU (4-level walk, faults,
 * TLBI, AT), DC ZVA, the generic timer, WFI and PSCI.
 *
 * Code is assembled with the snippet framework and run on vCPU 0 with an
 * exact instruction budget; results are read from the vCPU state.
 */
#include "snippet.h"

/* core/accel.c: exported by the harness library (it links the core whole);
 * the only way to observe PSCI SYSTEM_OFF from a test. */
bool core_shutdown_requested(int *status);

#define CODE 0x500000ull
#define CODE_EL0 0x501000ull
#define VBAR 0x10000ull
#define SCTLR_RES1 0x30d00800ull
#define B_SELF 0x14000000u /* b . */

/* Page tables for the MMU tests (physical = virtual up to 2 MiB). */
#define PT_L0 0x100000ull
#define PT_L1 0x101000ull
#define PT_L2 0x102000ull
#define PT_L3 0x103000ull /* covers VA 0x400000..0x5fffff */
#define AF (1ull << 10)
#define AP_EL0 (1ull << 6) /* AP[1]: EL0 access */
#define AP_RO (1ull << 7)  /* AP[2]: read-only */
#define VA_DATA 0x401000ull    /* -> PA_DATA */
#define VA_INVALID 0x402000ull /* no descriptor */
#define VA_NOAF 0x403000ull    /* AF = 0 */
#define VA_RO 0x404000ull      /* read-only */
#define PA_DATA 0x200000ull
#define PA_DATA2 0x201000ull

static tes_harness *h;
static tes_cpu *cpu;
static arm_cpu *c;

static void up(void)
{
    h = snippet_harness(&cpu, &c);
    c->vbar_el1 = VBAR;
    for (unsigned i = 0; i < 16; i++) {
        tes_harness_write(h, VBAR + i * 0x80, B_SELF, 4);
    }
}

static void down(void)
{
    tes_harness_free(h);
}

static void put_code(uint64_t addr, const char *asm_text)
{
    GBytes *b = snippet_build(asm_text);
    gsize len;
    const void *p = g_bytes_get_data(b, &len);

    g_assert_cmpuint(addr + len, <=, tes_harness_ram_size(h));
    for (gsize i = 0; i < len; i++) { /* through the core: drops stale translations */
        tes_harness_write(h, addr + i, ((const uint8_t *)p)[i], 1);
    }
}

static void load(const char *asm_text)
{
    put_code(CODE, asm_text);
    c->pc = CODE;
}

static tes_exec_status run(uint64_t n)
{
    uint64_t done = 0;
    tes_exec_status st = tes_harness_cpu_exec(h, cpu, n, &done);

    if (st == TES_EXEC_BUDGET) {
        g_assert_cmpuint(done, ==, n);
    }
    return st;
}

static unsigned esr_ec(void)
{
    return c->esr_el1 >> 26;
}

/* ---- exceptions ---- */

static void test_svc_el1(void)
{
    up();
    load("svc #0x42\n");
    run(1);
    g_assert_cmphex(c->pc, ==, VBAR + 0x200);
    g_assert_cmphex(esr_ec(), ==, EC_SVC64);
    g_assert_cmphex(c->esr_el1 & 0x3ffffff, ==, 1u << 25 | 0x42);
    g_assert_cmphex(c->elr_el1, ==, CODE + 4);
    g_assert_cmphex(c->spsr_el1, ==, 0x3c5); /* DAIF masked, EL1h */
    down();
}

static void test_svc_el0_and_eret(void)
{
    up();
    load("svc #1\n");
    tes_harness_write(h, VBAR + 0x400, 0xd69f03e0, 4); /* eret */
    c->el = 0;
    c->spsel = 0;
    c->daif = 0;
    c->nzcv = PSTATE_Z;
    run(1);
    g_assert_cmphex(c->pc, ==, VBAR + 0x400);
    g_assert_cmpuint(c->el, ==, 1);
    g_assert_cmpuint(c->spsel, ==, 1);
    g_assert_cmphex(c->daif, ==, 0x3c0);
    g_assert_cmphex(esr_ec(), ==, EC_SVC64);
    g_assert_cmphex(c->elr_el1, ==, CODE + 4);
    g_assert_cmphex(c->spsr_el1, ==, PSTATE_Z); /* EL0t, unmasked */
    run(1);
    g_assert_cmphex(c->pc, ==, CODE + 4);
    g_assert_cmpuint(c->el, ==, 0);
    g_assert_cmphex(c->daif, ==, 0);
    g_assert_cmphex(c->nzcv, ==, PSTATE_Z);
    down();
}

static void test_brk_elr(void)
{
    up();
    load("nop\n brk #7\n");
    run(2);
    g_assert_cmphex(esr_ec(), ==, EC_BRK64);
    g_assert_cmphex(c->esr_el1 & 0xffff, ==, 7);
    g_assert_cmphex(c->elr_el1, ==, CODE + 4);
    down();
}

static void test_hvc_el0_undefined(void)
{
    up();
    load("hvc #0\n");
    c->el = 0;
    c->spsel = 0;
    run(1);
    g_assert_cmphex(c->pc, ==, VBAR + 0x400);
    g_assert_cmphex(esr_ec(), ==, EC_UNKNOWN);
    g_assert_cmphex(c->elr_el1, ==, CODE);
    down();
}

/* ---- system registers ---- */

static void test_mrs_id_values(void)
{
    up();
    load("mrs x0, midr_el1\n mrs x1, id_aa64pfr0_el1\n mrs x2, ctr_el0\n"
         "mrs x3, currentel\n mrs x4, dczid_el0\n mrs x5, id_aa64mmfr0_el1\n"
         "mrs x6, mpidr_el1\n mrs x7, cntfrq_el0\n mrs x8, id_aa64isar1_el1\n");
    c->x[8] = 0x55;
    run(9);
    g_assert_cmphex(c->x[0], ==, 0x411fd070);
    g_assert_cmphex(c->x[1], ==, 0x11);
    g_assert_cmphex(c->x[2], ==, 0x8444c004);
    g_assert_cmphex(c->x[3], ==, 4);
    g_assert_cmphex(c->x[4], ==, 4);
    g_assert_cmphex(c->x[5], ==, 0x0f000022);
    g_assert_cmphex(c->x[6], ==, 0x80000000);
    g_assert_cmphex(c->x[7], ==, 62500000);
    g_assert_cmphex(c->x[8], ==, 0);
    g_assert_cmphex(c->pc, ==, CODE + 36);
    down();
}

static void test_msr_roundtrip(void)
{
    up();
    load("msr tpidr_el1, x1\n mrs x2, tpidr_el1\n msr daifclr, #0xf\n mrs x3, daif\n"
         "msr nzcv, x4\n mrs x5, nzcv\n msr sp_el0, x7\n mrs x8, sp_el0\n"
         "msr spsel, #0\n mrs x6, spsel\n mrs x9, sp_el0\n");
    c->x[1] = 0x1234;
    c->x[4] = 0xa0000000;
    c->x[7] = 0xfeed0;
    run(11);
    g_assert_cmphex(c->x[2], ==, 0x1234);
    g_assert_cmphex(c->x[3], ==, 0);
    g_assert_cmphex(c->x[5], ==, 0xa0000000);
    g_assert_cmphex(c->x[8], ==, 0xfeed0);
    g_assert_cmphex(c->x[6], ==, 0);
    /* MRS SP_EL0 while SP_EL0 is the current stack is UNDEFINED. */
    g_assert_cmphex(esr_ec(), ==, EC_UNKNOWN);
    g_assert_cmphex(c->elr_el1, ==, CODE + 40);
    down();
}

static void test_el0_midr_traps(void)
{
    up();
    load("mrs x5, midr_el1\n");
    c->el = 0;
    c->spsel = 0;
    run(1);
    g_assert_cmphex(c->pc, ==, VBAR + 0x400);
    g_assert_cmphex(esr_ec(), ==, EC_SYSREG);
    /* Op0 3, Op2 0, Op1 0, CRn 0, Rt 5, CRm 0, read. */
    g_assert_cmphex(c->esr_el1 & 0x1ffffff, ==, 3u << 20 | 5u << 5 | 1);
    g_assert_cmphex(c->elr_el1, ==, CODE);
    g_assert_cmphex(c->x[5], ==, 0);
    down();
    up();
    load("mrs x2, id_aa64isar0_el1\n");
    c->el = 0;
    run(1);
    g_assert_cmphex(esr_ec(), ==, EC_SYSREG);
    g_assert_cmphex(c->esr_el1 & 0x1ffffff, ==, 3u << 20 | 2u << 5 | 6u << 1 | 1);
    down();
}

static void test_el0_sctlr_undefined(void)
{
    up();
    load("mrs x0, sctlr_el1\n");
    c->el = 0;
    run(1);
    g_assert_cmphex(c->pc, ==, VBAR + 0x400);
    g_assert_cmphex(esr_ec(), ==, EC_UNKNOWN);
    down();
}

static void test_el0_ctr_needs_uct(void)
{
    up();
    load("mrs x0, ctr_el0\n");
    c->el = 0;
    run(1);
    g_assert_cmphex(esr_ec(), ==, EC_SYSREG);
    down();
    up();
    load("mrs x0, ctr_el0\n mrs x1, tpidr_el0\n");
    c->el = 0;
    c->sctlr_el1 |= 1u << 15; /* UCT */
    c->tpidr_el0 = 0x77;
    run(2);
    g_assert_cmphex(c->x[0], ==, 0x8444c004);
    g_assert_cmphex(c->x[1], ==, 0x77);
    g_assert_cmphex(c->pc, ==, CODE + 8);
    down();
}

static void test_unknown_sysreg_undefined(void)
{
    up();
    load("mrs x0, s3_0_c15_c15_7\n"); /* IMPLEMENTATION DEFINED space */
    run(1);
    g_assert_cmphex(c->pc, ==, VBAR + 0x200);
    g_assert_cmphex(esr_ec(), ==, EC_UNKNOWN);
    down();
}

/* ---- the CPU<->board interface (<tessera/cpu.h>) ---- */

typedef struct icc_fixture {
    const tes_host *host;
    tes_cpu *seen_cpu, *current;
    uint32_t last_reg;
    uint64_t written;
    unsigned reads, writes;
} icc_fixture;

#define ICC_IAR1 TES_ARM_SYSREG(3, 0, 12, 12, 0)
#define ICC_EOIR1 TES_ARM_SYSREG(3, 0, 12, 12, 1)

/* Serves ICC_IAR1_EL1 (reads 42) and ICC_EOIR1_EL1, nothing else. */
static bool icc_read(void *opaque, tes_cpu *vcpu, uint32_t reg, uint64_t *val)
{
    icc_fixture *f = opaque;

    if (reg != ICC_IAR1) {
        return false;
    }
    f->seen_cpu = vcpu;
    f->current = f->host->cpu_current();
    f->last_reg = reg;
    f->reads++;
    *val = 42;
    return true;
}

static bool icc_write(void *opaque, tes_cpu *vcpu, uint32_t reg, uint64_t val)
{
    icc_fixture *f = opaque;

    if (reg != ICC_EOIR1) {
        return false;
    }
    f->last_reg = reg;
    f->written = val;
    f->writes++;
    return true;
}

static const tes_cpu_sysregs icc_ops = {
    .size = sizeof(tes_cpu_sysregs), .read = icc_read, .write = icc_write,
};

static void test_board_sysregs_served(void)
{
    icc_fixture f = {0};

    up();
    f.host = tes_harness_host(h);
    g_assert_cmpint(f.host->cpu_set_sysregs(cpu, &icc_ops, &f), ==, 0);
    g_assert_cmpint(f.host->cpu_set_sysregs(cpu, &icc_ops, &f), ==, -EBUSY);
    load("mrs x0, s3_0_c12_c12_0\n msr s3_0_c12_c12_1, x1\n");
    c->x[1] = 0x1234;
    run(2);
    g_assert_cmphex(c->x[0], ==, 42);
    g_assert_cmpuint(f.reads, ==, 1);
    g_assert_true(f.seen_cpu == cpu);
    g_assert_true(f.current == cpu); /* cpu_current() inside exec() */
    g_assert_cmpuint(f.writes, ==, 1);
    g_assert_cmphex(f.last_reg, ==, ICC_EOIR1);
    g_assert_cmphex(f.written, ==, 0x1234);
    g_assert_null(f.host->cpu_current()); /* outside exec() */
    /* A register the server does not claim stays UNDEFINED. */
    load("mrs x0, s3_0_c12_c12_2\n");
    run(1);
    g_assert_cmphex(c->pc, ==, VBAR + 0x200);
    g_assert_cmphex(esr_ec(), ==, EC_UNKNOWN);
    down();
}

/* Serves ICC_IAR1_EL1 for every vCPU, reading 7. */
static bool all_read(void *opaque, tes_cpu *vcpu, uint32_t reg, uint64_t *val)
{
    if (reg != ICC_IAR1) {
        return false;
    }
    *val = 7;
    return true;
}

static const tes_cpu_sysregs all_ops = {
    .size = sizeof(tes_cpu_sysregs), .read = all_read, .write = icc_write,
};

/* A vCPU's own servers answer before those serving every vCPU; removing a
 * server (ops NULL) hands its registers back. */
static void test_board_sysregs_order_and_removal(void)
{
    icc_fixture f = {0};
    int all_opaque;

    up();
    f.host = tes_harness_host(h);
    g_assert_cmpint(f.host->cpu_set_sysregs(NULL, &all_ops, &all_opaque), ==, 0);
    g_assert_cmpint(f.host->cpu_set_sysregs(cpu, &icc_ops, &f), ==, 0);
    load("mrs x0, s3_0_c12_c12_0\n mrs x1, s3_0_c12_c12_0\n mrs x2, s3_0_c12_c12_0\n");
    run(1);
    g_assert_cmphex(c->x[0], ==, 42);
    g_assert_cmpint(f.host->cpu_set_sysregs(cpu, NULL, &f), ==, 0);
    run(1);
    g_assert_cmphex(c->x[1], ==, 7);
    g_assert_cmpint(f.host->cpu_set_sysregs(NULL, NULL, &all_opaque), ==, 0);
    run(1);
    g_assert_cmphex(c->pc, ==, VBAR + 0x200); /* nobody serves it: UNDEFINED */
    g_assert_cmphex(esr_ec(), ==, EC_UNKNOWN);
    down();
}

static void test_board_sysregs_without_server_undefined(void)
{
    up();
    load("mrs x0, s3_0_c12_c12_0\n");
    run(1);
    g_assert_cmphex(c->pc, ==, VBAR + 0x200);
    g_assert_cmphex(esr_ec(), ==, EC_UNKNOWN);
    down();
}

static void test_board_boot_state(void)
{
    const tes_host *host;
    tes_cpu_boot b = {
        .size = sizeof(b), .mode = TES_BOOT_ARM64_KERNEL, .entry = 0x280000,
        .regs = {0x1f00000, 7, 0, 0},
    };

    up();
    host = tes_harness_host(h);
    g_assert_cmpint(host->cpu_set_boot(cpu, &b), ==, 0);
    g_assert_cmphex(c->pc, ==, 0x280000);
    g_assert_cmphex(c->x[0], ==, 0x1f00000);
    g_assert_cmphex(c->x[1], ==, 7);
    /* The guest moves on; a reset enters the kernel again. */
    c->pc = 0x1000;
    c->x[0] = 0;
    c->el = 0;
    tes_harness_cpu_reset(h, cpu);
    g_assert_cmphex(c->pc, ==, 0x280000);
    g_assert_cmphex(c->x[0], ==, 0x1f00000);
    g_assert_cmpuint(c->el, ==, 1);
    g_assert_cmphex(c->daif, ==, PSTATE_D | PSTATE_A | PSTATE_I | PSTATE_F);
    /* Another architecture's entry state is refused; clearing works. */
    b.mode = TES_BOOT_X86_LONG64;
    g_assert_cmpint(host->cpu_set_boot(cpu, &b), ==, -EINVAL);
    b.mode = TES_BOOT_RESET;
    g_assert_cmpint(host->cpu_set_boot(cpu, &b), ==, 0);
    tes_harness_cpu_reset(h, cpu);
    g_assert_cmphex(c->pc, ==, 0);
    down();
}

static void test_board_identity_and_inputs(void)
{
    const tes_host *host;
    tes_cpu *cpu1;

    up();
    host = tes_harness_host(h);
    cpu1 = tes_harness_cpu(h, "cortex-a57", 1);
    g_assert_cmphex(host->cpu_arch_id(cpu), ==, 0x80000000);
    g_assert_cmphex(host->cpu_arch_id(cpu1), ==, 0x80000001);
    g_assert_true(host->cpu_irq_in(cpu, TES_ARM_IRQ) == host->cpu_irq_in(cpu, TES_ARM_IRQ));
    host->irq_set(host->cpu_irq_in(cpu, TES_ARM_IRQ), 1);
    g_assert_cmpint(c->irq_line, ==, 1);
    host->irq_set(host->cpu_irq_in(cpu, TES_ARM_FIQ), 1);
    g_assert_cmpint(c->fiq_line, ==, 1);
    host->irq_set(host->cpu_irq_in(cpu, TES_ARM_IRQ), 0);
    g_assert_cmpint(c->irq_line, ==, 0);
    g_assert_null(host->cpu_irq_in(cpu, 99));
    down();
}

/* ---- MMU ---- */

static void pte(uint64_t table, unsigned idx, uint64_t desc)
{
    tes_harness_write(h, table + idx * 8, desc, 8);
}

static unsigned l3_index(uint64_t va)
{
    return (va >> 12) & 0x1ff;
}

/* 4 levels, 48-bit VA, 4K granule: a 2 MiB identity block at 0 (vectors,
 * tables), and a level 3 table for VA 0x400000..0x5fffff. */
static void mmu_tables(void)
{
    pte(PT_L0, 0, PT_L1 | 3);
    pte(PT_L1, 0, PT_L2 | 3);
    pte(PT_L2, 0, 0 | AF | 1);
    pte(PT_L2, 2, PT_L3 | 3);
    pte(PT_L3, l3_index(CODE), CODE | AF | 3);
    pte(PT_L3, l3_index(CODE_EL0), CODE_EL0 | AF | AP_EL0 | 3);
    pte(PT_L3, l3_index(VA_DATA), PA_DATA | AF | 3);
    pte(PT_L3, l3_index(VA_NOAF), PA_DATA | 3);
    pte(PT_L3, l3_index(VA_RO), PA_DATA | AF | AP_RO | 3);
    c->x[9] = SCTLR_RES1 | 1;
    c->x[10] = PT_L0;
    /* T0SZ 16, EPD1 (no TTBR1 walks), TG1 4K. */
    c->x[11] = 16 | 1u << 23 | 2ull << 30 | 16u << 16;
    tes_harness_write(h, PA_DATA, 0x1122334455667788ull, 8);
    tes_harness_write(h, PA_DATA2, 0x99aabbccddeeff00ull, 8);
}

#define MMU_ON "msr ttbr0_el1, x10\n msr tcr_el1, x11\n isb\n msr sctlr_el1, x9\n isb\n"
#define MMU_ON_N 5

static void test_mmu_walk(void)
{
    up();
    mmu_tables();
    load(MMU_ON "ldr x1, [x0, #8]\n ldr x2, [x3]\n");
    c->x[0] = VA_DATA - 8;
    c->x[3] = 0x10000; /* through the level 2 block */
    run(MMU_ON_N + 2);
    g_assert_cmphex(c->x[1], ==, 0x1122334455667788ull);
    g_assert_cmphex(c->x[2], ==, B_SELF);
    g_assert_cmphex(c->pc, ==, CODE + 4 * (MMU_ON_N + 2));
    down();
}

static void expect_dabt(unsigned ec, uint64_t far, unsigned iss, uint64_t elr)
{
    g_assert_cmphex(esr_ec(), ==, ec);
    g_assert_cmphex(c->far_el1, ==, far);
    g_assert_cmphex(c->esr_el1 & 0x1ffffff, ==, iss);
    g_assert_cmphex(c->elr_el1, ==, elr);
}

static void test_mmu_translation_fault(void)
{
    up();
    mmu_tables();
    load(MMU_ON "ldr x1, [x0]\n");
    c->x[0] = VA_INVALID + 0x10;
    c->x[1] = 0x5a;
    run(MMU_ON_N + 1);
    g_assert_cmphex(c->pc, ==, VBAR + 0x200);
    expect_dabt(EC_DABT_SAME, VA_INVALID + 0x10, 0x07, CODE + 4 * MMU_ON_N);
    g_assert_cmphex(c->x[1], ==, 0x5a);
    down();
    /* Outside the 48-bit TTBR0 range: level 0 translation fault. */
    up();
    mmu_tables();
    load(MMU_ON "ldr x1, [x0]\n");
    c->x[0] = 0x0001000000000000ull;
    run(MMU_ON_N + 1);
    expect_dabt(EC_DABT_SAME, 0x0001000000000000ull, 0x04, CODE + 4 * MMU_ON_N);
    down();
}

static void test_mmu_access_flag_fault(void)
{
    up();
    mmu_tables();
    load(MMU_ON "str x1, [x0]\n");
    c->x[0] = VA_NOAF;
    run(MMU_ON_N + 1);
    expect_dabt(EC_DABT_SAME, VA_NOAF, 1u << 6 | 0x0b, CODE + 4 * MMU_ON_N);
    down();
}

static void test_mmu_write_read_only(void)
{
    up();
    mmu_tables();
    load(MMU_ON "ldr x2, [x0]\n str x1, [x0]\n");
    c->x[0] = VA_RO;
    run(MMU_ON_N + 2);
    g_assert_cmphex(c->x[2], ==, 0x1122334455667788ull);
    expect_dabt(EC_DABT_SAME, VA_RO, 1u << 6 | 0x0f, CODE + 4 * (MMU_ON_N + 1));
    down();
}

static void test_mmu_el0_permission_fault(void)
{
    up();
    mmu_tables();
    load(MMU_ON "msr elr_el1, x12\n msr spsr_el1, xzr\n eret\n");
    put_code(CODE_EL0, "ldr x1, [x0]\n");
    c->x[12] = CODE_EL0;
    c->x[0] = VA_DATA; /* EL1-only page */
    run(MMU_ON_N + 4);
    g_assert_cmphex(c->pc, ==, VBAR + 0x400);
    expect_dabt(EC_DABT_LOWER, VA_DATA, 0x0f, CODE_EL0);
    g_assert_cmphex(c->spsr_el1, ==, 0);
    down();
}

static void test_mmu_el1_cannot_run_el0_writable(void)
{
    up();
    mmu_tables();
    load(MMU_ON "br x12\n");
    put_code(CODE_EL0, "nop\n");
    c->x[12] = CODE_EL0;
    run(MMU_ON_N + 2);
    g_assert_cmphex(esr_ec(), ==, EC_IABT_SAME);
    g_assert_cmphex(c->esr_el1 & 0x3f, ==, 0x0f);
    g_assert_cmphex(c->far_el1, ==, CODE_EL0);
    g_assert_cmphex(c->elr_el1, ==, CODE_EL0);
    down();
}

static void test_mmu_tlbi(void)
{
    up();
    mmu_tables();
    load(MMU_ON "ldr x1, [x0]\n str x4, [x5]\n dsb ishst\n ldr x2, [x0]\n"
         "tlbi vae1is, x6\n dsb ish\n ldr x3, [x0]\n");
    c->x[0] = VA_DATA;
    c->x[4] = PA_DATA2 | AF | 3; /* new descriptor: VA_DATA -> PA_DATA2 */
    c->x[5] = PT_L3 + l3_index(VA_DATA) * 8;
    c->x[6] = VA_DATA >> 12;
    run(MMU_ON_N + 7);
    g_assert_cmphex(c->x[1], ==, 0x1122334455667788ull);
    /* Still the old translation: TLBs may cache it until TLBI. */
    g_assert_cmphex(c->x[2], ==, 0x1122334455667788ull);
    g_assert_cmphex(c->x[3], ==, 0x99aabbccddeeff00ull);
    down();
}

static void test_mmu_at(void)
{
    up();
    mmu_tables();
    load(MMU_ON "at s1e1r, x0\n mrs x1, par_el1\n at s1e1w, x2\n mrs x3, par_el1\n"
         "at s1e0r, x0\n mrs x4, par_el1\n");
    c->x[0] = VA_DATA + 0x123;
    c->x[2] = VA_RO;
    run(MMU_ON_N + 6);
    g_assert_cmphex(c->x[1] & 0x0000fffffffff001ull, ==, PA_DATA);
    g_assert_cmphex(c->x[3] & 0x7f, ==, 1 | 0x0f << 1); /* permission, level 3 */
    g_assert_cmphex(c->x[4] & 0x7f, ==, 1 | 0x0f << 1);
    g_assert_cmphex(c->far_el1, ==, 0); /* AT raises nothing */
    down();
}

/* ---- cache maintenance ---- */

static void test_dc_zva(void)
{
    uint8_t *ram;

    up();
    ram = tes_harness_ram(h);
    memset(ram + 0x600000, 0xff, 0x100);
    load("dc zva, x0\n");
    c->x[0] = 0x600050;
    run(1);
    for (unsigned i = 0; i < 0x100; i++) {
        g_assert_cmpuint(ram[0x600000 + i], ==, i >= 0x40 && i < 0x80 ? 0 : 0xff);
    }
    down();
}

/* ---- timer ---- */

static void irq_record(void *opaque, int n, int level)
{
    *(int *)opaque = level;
}

static void test_timer_virt_fires(void)
{
    const tes_host *host;
    int level = -1;
    uint64_t now;

    up();
    host = tes_harness_host(h);
    /* As a board wires it: output TES_ARM_TIMER_VIRT of the vCPU device. */
    host->dev_connect_irq(host->cpu_dev(cpu), TES_ARM_TIMER_VIRT,
                          host->irq_new(irq_record, &level, 0));
    now = tes_harness_clock_ns(h) / 16;
    load("msr cntv_cval_el0, x0\n mov x1, #1\n msr cntv_ctl_el0, x1\n"
         "mrs x2, cntv_ctl_el0\n mrs x3, cntv_tval_el0\n");
    c->x[0] = now + 100;
    run(5);
    g_assert_cmpint(level, !=, 1);
    g_assert_cmphex(c->x[2], ==, 1); /* enabled, not ISTATUS */
    g_assert_cmphex(c->x[3], ==, 100);
    tes_harness_clock_step(h, 99 * 16);
    g_assert_cmpint(level, !=, 1);
    tes_harness_clock_step(h, 16);
    g_assert_cmpint(level, ==, 1);
    load("mrs x2, cntv_ctl_el0\n mov x1, #3\n msr cntv_ctl_el0, x1\n");
    run(3);
    g_assert_cmphex(c->x[2], ==, 5); /* ISTATUS | ENABLE */
    g_assert_cmpint(level, ==, 0);   /* IMASK lowers the output */
    down();
}

static void test_timer_counter(void)
{
    up();
    tes_harness_clock_step(h, 16 * 1000 + 5);
    load("mrs x0, cntvct_el0\n mrs x1, cntpct_el0\n");
    run(2);
    g_assert_cmphex(c->x[0], ==, tes_harness_clock_ns(h) / 16);
    g_assert_cmphex(c->x[1], ==, c->x[0]);
    down();
}

/* ---- interrupts, WFI ---- */

static void test_irq_masking(void)
{
    up();
    load("nop\n msr daifclr, #2\n nop\n");
    c->irq_line = 1;
    run(2); /* masked: nop and msr run */
    g_assert_cmphex(c->pc, ==, CODE + 8);
    run(1); /* unmasked before the second nop: taken */
    g_assert_cmphex(c->pc, ==, VBAR + 0x280 + 0);
    g_assert_cmphex(c->elr_el1, ==, CODE + 8);
    g_assert_cmphex(c->spsr_el1, ==, 0x345); /* D A F set, I clear, EL1h */
    g_assert_cmphex(c->daif, ==, 0x3c0);
    down();
}

static void test_wfi(void)
{
    up();
    load("wfi\n nop\n");
    g_assert_cmpint(run(1), ==, TES_EXEC_HALT);
    g_assert_cmphex(c->pc, ==, CODE + 4);
    down();
    up();
    load("wfi\n nop\n");
    c->irq_line = 1; /* pending though masked: WFI does not sleep */
    g_assert_cmpint(run(2), ==, TES_EXEC_BUDGET);
    g_assert_cmphex(c->pc, ==, CODE + 8);
    down();
}

/* ---- PSCI ---- */

static void test_psci_cpu_on(void)
{
    tes_cpu *cpu1;
    arm_cpu *c1;

    up();
    cpu1 = tes_harness_cpu(h, "cortex-a57", 1);
    c1 = tes_harness_cpu_state(cpu1);
    g_assert_false(c1->powered);
    put_code(0x520000, "mov x5, #7\n");
    load("hvc #0\n mov x20, x0\n mov x0, x21\n hvc #0\n mov x22, x0\n"
         "mov x0, x23\n hvc #0\n");
    c->x[0] = 0xc4000003; /* CPU_ON (SMC64) */
    c->x[1] = 1;
    c->x[2] = 0x520000;
    c->x[3] = 0xabcdef;
    c->x[21] = 0xc4000003; /* again: ALREADY_ON */
    c->x[23] = 0x84000000; /* PSCI_VERSION */
    run(7);
    g_assert_cmphex(c->x[20], ==, 0);
    g_assert_cmphex(c->x[22], ==, (uint64_t)-4);
    g_assert_cmphex(c->x[0], ==, 0x10000);
    g_assert_true(c1->powered);
    g_assert_cmphex(c1->pc, ==, 0x520000);
    g_assert_cmphex(c1->x[0], ==, 0xabcdef);
    g_assert_cmpuint(c1->el, ==, 1);
    g_assert_cmphex(c1->daif, ==, 0x3c0);
    g_assert_cmphex(tes_harness_cpu_exec(h, cpu1, 1, NULL), ==, TES_EXEC_BUDGET);
    g_assert_cmphex(c1->x[5], ==, 7);
    down();
}

static void test_psci_system_off(void)
{
    up();
    load("hvc #0\n");
    c->x[0] = 0x84000008;
    g_assert_false(core_shutdown_requested(NULL));
    run(1);
    g_assert_true(core_shutdown_requested(NULL));
    down();
}

static void test_mmu_tlbi_is_reaches_other_cpus(void)
{
    tes_cpu *cpu1;
    arm_cpu *c1;

    up();
    mmu_tables();
    cpu1 = tes_harness_cpu(h, "cortex-a57", 1);
    c1 = tes_harness_cpu_state(cpu1);
    put_code(CODE + 0x800, MMU_ON "ldr x1, [x0]\n ldr x2, [x0]\n");
    memcpy(c1->x, c->x, sizeof(c->x));
    c1->x[0] = VA_DATA;
    c1->pc = CODE + 0x800;
    g_assert_cmpint(tes_harness_cpu_exec(h, cpu1, MMU_ON_N + 1, NULL), ==, TES_EXEC_BUDGET);
    g_assert_cmphex(c1->x[1], ==, 0x1122334455667788ull);
    load(MMU_ON "str x4, [x5]\n dsb ishst\n tlbi vae1is, x6\n dsb ish\n");
    c->x[4] = PA_DATA2 | AF | 3;
    c->x[5] = PT_L3 + l3_index(VA_DATA) * 8;
    c->x[6] = VA_DATA >> 12;
    run(MMU_ON_N + 4);
    g_assert_cmpint(tes_harness_cpu_exec(h, cpu1, 1, NULL), ==, TES_EXEC_BUDGET);
    g_assert_cmphex(c1->x[2], ==, 0x99aabbccddeeff00ull);
    down();
}

static void test_mmu_unaligned_across_pages(void)
{
    up();
    mmu_tables();
    /* VA_DATA + 0x1000 -> PA_DATA2, a different physical page: an 8-byte
     * load straddling the two VA pages must use both translations. */
    pte(PT_L3, l3_index(VA_DATA) + 1, PA_DATA2 | AF | 3);
    tes_harness_write(h, PA_DATA + 0xffc, 0x44332211, 4);
    tes_harness_write(h, PA_DATA2, 0x88776655, 4);
    load(MMU_ON "ldr x1, [x0]\n");
    c->x[0] = VA_DATA + 0xffc;
    run(MMU_ON_N + 1);
    g_assert_cmphex(c->x[1], ==, 0x8877665544332211ull);
    g_assert_cmphex(c->pc, ==, CODE + 4 * (MMU_ON_N + 1));
    down();
}

static void test_mmio_store_reaches_device(void)
{
    uint64_t addr = 0;
    uint32_t data = 0;

    up();
    load("str w1, [x0]\n str w2, [x0, #4]\n");
    c->x[0] = TES_HARNESS_MSI_BASE + 8;
    c->x[1] = 0x1234;
    c->x[2] = 0x5678;
    run(2);
    g_assert_cmpuint(tes_harness_msi_count(h), ==, 2);
    g_assert_true(tes_harness_msi_pop(h, &addr, &data));
    g_assert_cmphex(addr, ==, TES_HARNESS_MSI_BASE + 8);
    g_assert_cmphex(data, ==, 0x1234);
    g_assert_true(tes_harness_msi_pop(h, &addr, &data));
    g_assert_cmphex(addr, ==, TES_HARNESS_MSI_BASE + 12);
    g_assert_cmphex(data, ==, 0x5678);
    down();
}

static void test_svc_el1t_uses_sp0_vector(void)
{
    up();
    load("svc #0\n");
    c->spsel = 0;
    run(1);
    g_assert_cmphex(c->pc, ==, VBAR + 0x000);
    g_assert_cmphex(c->spsr_el1, ==, 0x3c4); /* EL1t */
    g_assert_cmpuint(c->spsel, ==, 1);
    down();
}

static void test_irq_from_el0(void)
{
    up();
    load("nop\n nop\n");
    c->el = 0;
    c->spsel = 0;
    c->daif = 0;
    c->irq_line = 1;
    run(1);
    g_assert_cmphex(c->pc, ==, VBAR + 0x480);
    g_assert_cmphex(c->elr_el1, ==, CODE);
    g_assert_cmphex(c->spsr_el1, ==, 0);
    down();
}

static void test_fpcr_traps_when_fp_disabled(void)
{
    up();
    load("mrs x0, fpcr\n");
    c->cpacr_el1 = 0;
    run(1);
    g_assert_cmphex(esr_ec(), ==, EC_FP_ACCESS);
    g_assert_cmphex(c->elr_el1, ==, CODE);
    down();
}

static void test_psci_cpu_off_and_affinity(void)
{
    tes_cpu *cpu1;
    arm_cpu *c1;

    up();
    cpu1 = tes_harness_cpu(h, "cortex-a57", 1);
    c1 = tes_harness_cpu_state(cpu1);
    put_code(0x520000, "hvc #0\n");
    load("hvc #0\n mov x20, x0\n mov x0, x21\n mov x1, #1\n mov x2, #0\n hvc #0\n");
    c->x[0] = 0xc4000003;
    c->x[1] = 1;
    c->x[2] = 0x520000;
    c->x[21] = 0xc4000004; /* AFFINITY_INFO */
    run(6);
    g_assert_cmphex(c->x[20], ==, 0);
    g_assert_cmphex(c->x[0], ==, 0); /* on */
    c1->x[0] = 0x84000002;            /* CPU_OFF */
    g_assert_cmpint(tes_harness_cpu_exec(h, cpu1, 10, NULL), ==, TES_EXEC_HALT);
    g_assert_false(c1->powered);
    load("hvc #0\n");
    c->x[0] = 0xc4000004;
    c->x[1] = 1;
    c->x[2] = 0;
    run(1);
    g_assert_cmphex(c->x[0], ==, 1); /* off */
    down();
}

/* Linux switches address spaces by writing TTBR0 with a new ASID and no
 * TLBI: the new tables must be used at once. */
static void test_mmu_ttbr0_switch(void)
{
    const uint64_t l0 = 0x110000, l1 = 0x111000, l2 = 0x112000, l3 = 0x113000;

    up();
    mmu_tables();
    pte(l0, 0, l1 | 3);
    pte(l1, 0, l2 | 3);
    pte(l2, 0, 0 | AF | 1);
    pte(l2, 2, l3 | 3);
    pte(l3, l3_index(CODE), CODE | AF | 3);
    pte(l3, l3_index(VA_DATA), PA_DATA2 | AF | 3);
    load(MMU_ON "ldr x1, [x0]\n msr ttbr0_el1, x12\n isb\n ldr x2, [x0]\n");
    c->x[0] = VA_DATA;
    c->x[12] = l0 | 1ull << 48; /* ASID 1 */
    run(MMU_ON_N + 4);
    g_assert_cmphex(c->x[1], ==, 0x1122334455667788ull);
    g_assert_cmphex(c->x[2], ==, 0x99aabbccddeeff00ull);
    down();
}

static void test_dc_zva_el0_needs_dze(void)
{
    uint8_t *ram;

    up();
    load("dc zva, x3\n");
    c->el = 0;
    c->x[3] = 0x600000;
    run(1);
    g_assert_cmphex(esr_ec(), ==, EC_SYSREG);
    /* Op0 1, Op2 1, Op1 3, CRn 7, Rt 3, CRm 4, write. */
    g_assert_cmphex(c->esr_el1 & 0x1ffffff, ==,
                    1u << 20 | 1u << 17 | 3u << 14 | 7u << 10 | 3u << 5 | 4u << 1);
    down();
    up();
    ram = tes_harness_ram(h);
    memset(ram + 0x600000, 0xff, 64);
    load("dc zva, x3\n tlbi vmalle1\n");
    c->el = 0;
    c->sctlr_el1 |= 1u << 14; /* DZE */
    c->x[3] = 0x600000;
    run(2);
    g_assert_cmpuint(ram[0x600000], ==, 0);
    g_assert_cmpuint(ram[0x60003f], ==, 0);
    g_assert_cmphex(esr_ec(), ==, EC_UNKNOWN); /* TLBI at EL0 */
    g_assert_cmphex(c->elr_el1, ==, CODE + 4);
    down();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    snippet_init(argc, argv);
    g_test_add_func("/arm-sys/svc/el1-enters-current-spx-vector", test_svc_el1);
    g_test_add_func("/arm-sys/svc/el0-enters-lower-el-vector-and-eret-returns",
                    test_svc_el0_and_eret);
    g_test_add_func("/arm-sys/brk/elr-is-the-brk-itself", test_brk_elr);
    g_test_add_func("/arm-sys/hvc/el0-is-undefined", test_hvc_el0_undefined);
    g_test_add_func("/arm-sys/mrs/id-registers-read-cortex-a57-subset", test_mrs_id_values);
    g_test_add_func("/arm-sys/msr/registers-and-pstate-round-trip", test_msr_roundtrip);
    g_test_add_func("/arm-sys/mrs/el0-id-register-traps-ec-0x18-with-iss", test_el0_midr_traps);
    g_test_add_func("/arm-sys/mrs/el0-sctlr-is-undefined", test_el0_sctlr_undefined);
    g_test_add_func("/arm-sys/mrs/el0-ctr-needs-sctlr-uct", test_el0_ctr_needs_uct);
    g_test_add_func("/arm-sys/mrs/unknown-register-is-undefined", test_unknown_sysreg_undefined);
    g_test_add_func("/arm-sys/board/sysregs-served-by-interrupt-controller",
                    test_board_sysregs_served);
    g_test_add_func("/arm-sys/board/sysreg-servers-own-first-and-removable",
                    test_board_sysregs_order_and_removal);
    g_test_add_func("/arm-sys/board/icc-sysregs-without-server-are-undefined",
                    test_board_sysregs_without_server_undefined);
    g_test_add_func("/arm-sys/board/boot-state-applied-and-reapplied-at-reset",
                    test_board_boot_state);
    g_test_add_func("/arm-sys/board/mpidr-identity-and-input-lines",
                    test_board_identity_and_inputs);
    g_test_add_func("/arm-sys/mmu/4-level-walk-translates-page-and-block", test_mmu_walk);
    g_test_add_func("/arm-sys/mmu/translation-fault-sets-far-and-dfsc",
                    test_mmu_translation_fault);
    g_test_add_func("/arm-sys/mmu/access-flag-clear-faults", test_mmu_access_flag_fault);
    g_test_add_func("/arm-sys/mmu/write-to-read-only-faults-with-wnr", test_mmu_write_read_only);
    g_test_add_func("/arm-sys/mmu/el0-load-of-kernel-page-faults",
                    test_mmu_el0_permission_fault);
    g_test_add_func("/arm-sys/mmu/el1-cannot-execute-el0-writable-page",
                    test_mmu_el1_cannot_run_el0_writable);
    g_test_add_func("/arm-sys/mmu/tlbi-makes-changed-mapping-visible", test_mmu_tlbi);
    g_test_add_func("/arm-sys/mmu/at-fills-par", test_mmu_at);
    g_test_add_func("/arm-sys/mmu/ttbr0-switch-uses-new-tables", test_mmu_ttbr0_switch);
    g_test_add_func("/arm-sys/mmu/tlbi-is-flushes-every-cpu", test_mmu_tlbi_is_reaches_other_cpus);
    g_test_add_func("/arm-sys/mmu/unaligned-load-spans-two-pages", test_mmu_unaligned_across_pages);
    g_test_add_func("/arm-sys/mmu/mmio-store-reaches-device-with-size",
                    test_mmio_store_reaches_device);
    g_test_add_func("/arm-sys/svc/el1t-enters-sp0-vector", test_svc_el1t_uses_sp0_vector);
    g_test_add_func("/arm-sys/irq/from-el0-enters-vbar-0x480", test_irq_from_el0);
    g_test_add_func("/arm-sys/mrs/fpcr-traps-when-cpacr-disables-fp",
                    test_fpcr_traps_when_fp_disabled);
    g_test_add_func("/arm-sys/psci/cpu-off-and-affinity-info", test_psci_cpu_off_and_affinity);
    g_test_add_func("/arm-sys/dc/zva-zeroes-aligned-64-bytes", test_dc_zva);
    g_test_add_func("/arm-sys/dc/zva-at-el0-traps-unless-sctlr-dze", test_dc_zva_el0_needs_dze);
    g_test_add_func("/arm-sys/timer/virtual-timer-output-rises-at-cval", test_timer_virt_fires);
    g_test_add_func("/arm-sys/timer/counter-is-clock-over-16ns", test_timer_counter);
    g_test_add_func("/arm-sys/irq/taken-to-vbar-0x280-only-when-unmasked", test_irq_masking);
    g_test_add_func("/arm-sys/wfi/halts-unless-interrupt-pending", test_wfi);
    g_test_add_func("/arm-sys/psci/cpu-on-starts-cpu-at-entry-with-context", test_psci_cpu_on);
    g_test_add_func("/arm-sys/psci/system-off-requests-shutdown", test_psci_system_off);
    return g_test_run();
}
