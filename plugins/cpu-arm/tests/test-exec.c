/*
 * cpu-arm execution loop tests (exec.c) through the harness: the decode
 * cache never runs a stale instruction (code rewritten from outside between
 * runs, or by the CPU itself within one run, at the same address), a
 * branch to a misaligned address raises a PC alignment fault, and an MRS
 * served by an interrupt controller that raises the IRQ line runs once.
 */
#include "snippet.h"

#define CODE 0x500000ull
#define VBAR 0x10000ull
#define B_SELF 0x14000000u /* b . */
#define ADD_X0_X0_5 0x91001400u /* add x0, x0, #5 */

static tes_harness *h;
static tes_cpu *cpu;
static arm_cpu *c;

static void up(const char *asm_text)
{
    GBytes *b;
    gsize len;
    const void *p;

    h = snippet_harness(&cpu, &c);
    c->vbar_el1 = VBAR;
    for (unsigned i = 0; i < 16; i++) {
        tes_harness_write(h, VBAR + i * 0x80, B_SELF, 4);
    }
    b = snippet_build(asm_text);
    p = g_bytes_get_data(b, &len);
    snippet_load_code(h, c, CODE, p, len);
}

static void run(uint64_t n)
{
    uint64_t done = 0;

    g_assert_cmpint(tes_harness_cpu_exec(h, cpu, n, &done), ==, TES_EXEC_BUDGET);
    g_assert_cmpuint(done, ==, n);
}

/* The word at CODE is replaced behind the CPU's back (as DMA or another
 * vCPU would) after it ran once, by an instruction of another class: the
 * next run executes the new word. */
static void test_rewritten_between_runs(void)
{
    up("movz x0, #1\n"
       "b .\n");
    run(2);
    g_assert_cmphex(c->x[0], ==, 1);
    tes_harness_write(h, CODE, ADD_X0_X0_5, 4);
    c->pc = CODE;
    c->x[0] = 10;
    run(2);
    g_assert_cmphex(c->x[0], ==, 15);
    tes_harness_free(h);
}

/* The CPU overwrites an instruction it has already executed, then runs it
 * again in the same exec() call: the new word takes effect. */
static void test_self_modifying(void)
{
    up("adr x2, target\n"
       "ldr w1, =0xd28000e7\n" /* movz x7, #7 */
       "mov x3, #2\n"
       "target: movz x7, #1\n"
       "add x4, x4, x7\n"
       "subs x3, x3, #1\n"
       "b.eq done\n"
       "str w1, [x2]\n"
       "b target\n"
       "done: b done\n");
    run(3 + 4 + 2 + 4 + 2);
    g_assert_cmphex(c->x[3], ==, 0);
    g_assert_cmphex(c->x[4], ==, 1 + 7);
    g_assert_cmphex(c->x[7], ==, 7);
    tes_harness_free(h);
}

/* BR to an address with bits 1:0 set: PC alignment fault (EC 0x22) taken
 * at the target, with FAR_EL1 and ELR_EL1 the misaligned PC. */
static void test_pc_alignment_fault(void)
{
    up("movz x0, #0x6\n"
       "movk x0, #0x50, lsl #16\n"
       "br x0\n");
    run(4);
    g_assert_cmphex(c->pc, ==, VBAR + 0x200);
    g_assert_cmphex(c->esr_el1 >> 26, ==, EC_PC_ALIGN);
    g_assert_cmphex(c->far_el1, ==, CODE + 6);
    g_assert_cmphex(c->elr_el1, ==, CODE + 6);
    tes_harness_free(h);
}

/* A GICv3's ICC_IAR1_EL1 as a server of the vCPU's system registers
 * (host->cpu_set_sysregs): every read counts, and raises the IRQ line as
 * a controller might while it answers. */
static unsigned iar_reads;

static bool iar_read(void *opaque, tes_cpu *vcpu, uint32_t reg, uint64_t *val)
{
    const tes_host *host = opaque;

    if (reg != TES_ARM_SYSREG(3, 0, 12, 12, 0)) {
        return false;
    }
    iar_reads++;
    *val = 27;
    host->irq_set(host->cpu_irq_in(vcpu, TES_ARM_IRQ), 0);
    host->irq_set(host->cpu_irq_in(vcpu, TES_ARM_IRQ), 1);
    return true;
}

static bool iar_write(void *opaque, tes_cpu *vcpu, uint32_t reg, uint64_t val)
{
    return false;
}

static const tes_cpu_sysregs iar_ops = {
    .size = sizeof(tes_cpu_sysregs), .read = iar_read, .write = iar_write,
};

/* The line rose during each MRS (IRQs masked, so nothing is taken): the
 * block leaves after it but must resume past it, not run the acknowledge
 * twice (an interrupt lost, its priority never dropped). A loop, so that
 * the translator gets the block hot. */
static void test_mrs_raising_irq_runs_once(void)
{
    const tes_host *host;

    up("loop: mrs x0, S3_0_C12_C12_0\n"
       "add x1, x1, #1\n"
       "cmp x1, #200\n"
       "b.ne loop\n"
       "b .\n");
    host = tes_harness_host(h);
    g_assert_cmpint(host->cpu_set_sysregs(cpu, &iar_ops, (void *)host), ==, 0);
    iar_reads = 0;
    run(20000); /* blocks left early count whole: leave room */
    g_assert_cmphex(c->x[1], ==, 200);
    g_assert_cmpuint(iar_reads, ==, 200);
    g_assert_cmphex(c->x[0], ==, 27);
    g_assert_cmphex(c->pc, ==, CODE + 16);
    host->cpu_set_sysregs(cpu, NULL, (void *)host);
    tes_harness_free(h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    snippet_init(argc, argv);
    g_test_add_func("/arm-exec/decode-cache/code-rewritten-between-runs-runs-new-word",
                    test_rewritten_between_runs);
    g_test_add_func("/arm-exec/decode-cache/self-modifying-store-takes-effect-at-once",
                    test_self_modifying);
    g_test_add_func("/arm-exec/pc-alignment/branch-to-misaligned-address-faults",
                    test_pc_alignment_fault);
    g_test_add_func("/arm-exec/sysregs/mrs-raising-the-irq-line-runs-once",
                    test_mrs_raising_irq_runs_once);
    return g_test_run();
}
