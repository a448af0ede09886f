/*
 * cpu-arm integer instruction tests: every data-processing family of A64
 * (Arm ARM C4.1.2, C4.1.5) run on tessera and compared with qemu-aarch64
 * on edge operands, plus branches and undefined encodings.
 */
#include "snippet.h"

void a64_ldst_tests_register(void);

/* The reference side itself: qemu runs the snippet at the fixed address
 * with the given registers and scratch memory, per record. */
static void test_framework_qemu(void)
{
    snippet_state in[2], out[2];
    snippet_regs r;

    snippet_regs_init(&r);
    r.x[1] = 40;
    r.x[2] = 2;
    snippet_state_init(&in[0], &r);
    r.x[2] = 5;
    r.nzcv = 0x20000000;
    snippet_state_init(&in[1], &r);
    snippet_run_qemu("add x0, x1, x2\n adr x3, .\n str x0, [x28]\n", in, out, 2);
    g_assert_cmphex(out[0].r.x[0], ==, 42);
    g_assert_cmphex(out[1].r.x[0], ==, 45);
    g_assert_cmphex(out[1].r.nzcv, ==, 0x20000000);
    g_assert_cmphex(out[0].r.x[3], ==, SNIPPET_CODE_ADDR + 4);
    g_assert_cmphex(out[0].r.sp, ==, r.sp);
    g_assert_cmpuint(out[1].scratch[SNIPPET_SCRATCH_SIZE / 2], ==, 45);
    g_assert_cmpuint(out[1].scratch[0], ==, in[1].scratch[0]);
}

static void test_addsub_imm_reg(void)
{
    snippet_compare_edges(
    "adds x0, x1, x2\n"
    " mrs x10, nzcv\n"
    " adds w5, w1, w2\n"
    " mrs x11, nzcv\n"
    " subs x6, x1, x2\n"
    " mrs x12, nzcv\n"
    " subs w7, w1, w2\n"
    " mrs x13, nzcv\n"
    " cmn x1, x2, lsl #3\n"
    " mrs x14, nzcv\n"
    " cmp w1, w2, asr #7\n"
    " mrs x15, nzcv\n"
    " add x8, x1, x2, lsr #63\n"
    " sub w9, w1, w2, lsl #31\n"
    " neg x16, x2, asr #1\n"
    " negs w17, w2\n"
    " mrs x18, nzcv\n");
}

static void test_addsub_imm(void)
{
    snippet_compare_edges(
    "adds x0, x1, #1\n"
    " mrs x10, nzcv\n"
    " subs w5, w1, #4095\n"
    " mrs x11, nzcv\n"
    " adds x6, x2, #1, lsl #12\n"
    " mrs x12, nzcv\n"
    " cmp w2, #0\n"
    " mrs x13, nzcv\n"
    " cmn x1, #5\n"
    " mrs x14, nzcv\n"
    " add x7, sp, #16\n"
    " sub sp, sp, #32\n"
    " add w8, w1, #0xabc\n"
    " mov x9, sp\n"
    " add x15, x9, #0\n"
    " sub x16, x1, #0xfff, lsl #12\n");
}

static void test_addsub_ext(void)
{
    snippet_compare_edges(
    "add x0, sp, w1, uxtb\n"
    " sub x5, x1, w2, sxth #2\n"
    " adds x6, x1, x2, sxtx #4\n"
    " mrs x10, nzcv\n"
    " add w7, w1, w2, uxtw\n"
    " cmp x1, w2, sxtw\n"
    " mrs x11, nzcv\n"
    " add x8, x1, w2, sxtb #1\n"
    " subs w9, w1, w2, uxth #3\n"
    " mrs x12, nzcv\n"
    " add sp, sp, x3, uxtx #0\n"
    " mov x13, sp\n"
    " add x14, x1, w3, uxtw #4\n");
}

static void test_adc(void)
{
    snippet_compare_edges(
    "adc x0, x1, x2\n"
    " adcs x5, x1, x2\n"
    " mrs x10, nzcv\n"
    " adcs w6, w1, w2\n"
    " mrs x11, nzcv\n"
    " sbc x7, x1, x2\n"
    " sbcs x8, x1, x2\n"
    " mrs x12, nzcv\n"
    " sbcs w9, w2, w1\n"
    " mrs x13, nzcv\n"
    " ngc x14, x1\n"
    " ngcs w15, w2\n"
    " mrs x16, nzcv\n");
}

static void test_logic_reg(void)
{
    snippet_compare_edges(
    "and x0, x1, x2\n"
    " bic x5, x1, x2, lsl #4\n"
    " orr w6, w1, w2, lsr #3\n"
    " orn x7, x1, x2, asr #60\n"
    " eor w8, w1, w2, ror #9\n"
    " eon x9, x1, x2, ror #63\n"
    " ands x10, x1, x2\n"
    " mrs x11, nzcv\n"
    " bics w12, w1, w2, lsl #31\n"
    " mrs x13, nzcv\n"
    " tst x1, x2, ror #32\n"
    " mrs x14, nzcv\n"
    " mvn w15, w2\n"
    " mov x16, x1\n");
}

static void test_logic_imm(void)
{
    snippet_compare_edges(
    "and x0, x1, #0xff\n"
    " orr w5, w1, #0x55555555\n"
    " eor x6, x1, #0x8000000000000001\n"
    " ands x7, x1, #0x3c0\n"
    " mrs x10, nzcv\n"
    " tst w1, #0x1\n"
    " mrs x11, nzcv\n"
    " mov x8, #0x00ff00ff00ff00ff\n"
    " and w9, w2, #0xfffffffe\n"
    " eor x12, x2, #0x7fffffffffffffff\n"
    " orr x13, x2, #0xf0f0f0f0f0f0f0f0\n"
    " ands w14, w2, #0x80000000\n"
    " mrs x15, nzcv\n"
    " and x16, x2, #0x3\n"
    " orr w17, w1, #0xc0000003\n"
    " eor x18, x1, #0x6666666666666666\n"
    " and sp, x1, #0xfffffffffffffff0\n"
    " mov x19, sp\n"
    " mov sp, x28\n");
}

static void test_movewide(void)
{
    snippet_compare_edges(
    "movz x0, #0x1234, lsl #48\n"
    " movn x5, #0x5678, lsl #16\n"
    " movn w6, #0\n"
    " movz w7, #0xffff, lsl #16\n"
    " mov x8, x1\n"
    " movk x8, #0xbeef, lsl #32\n"
    " mov x9, x2\n"
    " movk w9, #0xcafe, lsl #16\n"
    " movk x1, #0\n"
    " movn x10, #0xffff, lsl #48\n"
    " mov w11, #-2\n");
}

static void test_bitfield(void)
{
    snippet_compare_edges(
    "ubfx x0, x1, #4, #8\n"
    " sbfx x5, x1, #60, #4\n"
    " sbfx w6, w2, #3, #29\n"
    " ubfx w7, w2, #31, #1\n"
    " mov x8, x2\n"
    " bfi x8, x1, #13, #20\n"
    " mov w9, w1\n"
    " bfi w9, w2, #28, #4\n"
    " mov x10, x2\n"
    " bfxil x10, x1, #32, #32\n"
    " mov w11, w1\n"
    " bfxil w11, w2, #1, #31\n"
    " ubfiz x12, x1, #50, #14\n"
    " sbfiz w13, w2, #5, #9\n"
    " lsl x14, x1, #63\n"
    " lsr w15, w2, #17\n"
    " asr x16, x1, #1\n"
    " asr w17, w2, #31\n"
    " sxtb x18, w1\n"
    " sxth w19, w2\n"
    " sxtw x20, w1\n"
    " uxtb w21, w2\n"
    " uxth w22, w1\n"
    " sbfx x23, x1, #0, #64\n"
    " bfxil x24, xzr, #8, #8\n"
    " bfi w25, wzr, #3, #9\n");
}

static void test_extr(void)
{
    snippet_compare_edges(
    "extr x0, x1, x2, #13\n"
    " extr w5, w1, w2, #31\n"
    " ror x6, x1, #7\n"
    " extr x7, x1, x2, #0\n"
    " ror w8, w2, #1\n"
    " extr w9, w2, w1, #16\n");
}

static void test_condsel(void)
{
    snippet_compare_edges(
    "csel x0, x1, x2, eq\n"
    " csinc w5, w1, w2, ne\n"
    " csinv x6, x1, x2, hs\n"
    " csneg w7, w1, w2, lo\n"
    " cset x8, mi\n"
    " csetm w9, pl\n"
    " cinc x10, x1, vs\n"
    " cneg w11, w2, vc\n"
    " csel w12, w1, w2, hi\n"
    " csel x13, x1, x2, ls\n"
    " csel x14, x1, x2, ge\n"
    " csinc x15, x1, x2, lt\n"
    " csinv w16, w1, w2, gt\n"
    " csneg x17, x1, x2, le\n"
    " csel x18, x1, x2, al\n"
    " csel x19, x1, x2, nv\n");
}

static void test_condcmp(void)
{
    snippet_compare_edges(
    "ccmp x1, x2, #5, eq\n"
    " mrs x0, nzcv\n"
    " ccmn w1, w2, #0xa, lt\n"
    " mrs x5, nzcv\n"
    " ccmp w1, #31, #3, hi\n"
    " mrs x6, nzcv\n"
    " ccmn x2, #1, #0xf, ge\n"
    " mrs x7, nzcv\n"
    " ccmp x1, x2, #0, al\n"
    " mrs x8, nzcv\n");
}

static void test_shiftv(void)
{
    snippet_compare_edges(
    "lsl x0, x1, x2\n"
    " lsr x5, x1, x2\n"
    " asr x6, x1, x2\n"
    " ror x7, x1, x2\n"
    " lsl w8, w1, w2\n"
    " lsr w9, w1, w2\n"
    " asr w10, w1, w2\n"
    " ror w11, w1, w2\n"
    " lsl x12, x2, x1\n"
    " asr w13, w2, w1\n");
}

static void test_div(void)
{
    snippet_compare_edges(
    "udiv x0, x1, x2\n"
    " sdiv x5, x1, x2\n"
    " udiv w6, w1, w2\n"
    " sdiv w7, w1, w2\n"
    " sdiv x8, x2, x1\n"
    " udiv w9, w2, w1\n");
}

static void test_mul(void)
{
    snippet_compare_edges(
    "madd x0, x1, x2, x3\n"
    " msub w5, w1, w2, w3\n"
    " smaddl x6, w1, w2, x3\n"
    " smsubl x7, w1, w2, x4\n"
    " umaddl x8, w1, w2, x3\n"
    " umsubl x9, w2, w1, x4\n"
    " smulh x10, x1, x2\n"
    " umulh x11, x1, x2\n"
    " mul w12, w1, w2\n"
    " mneg x13, x1, x2\n"
    " smull x14, w1, w2\n"
    " umull x15, w1, w2\n");
}

static void test_dp1(void)
{
    snippet_compare_edges(
    "rbit x0, x1\n"
    " rbit w5, w2\n"
    " rev16 x6, x1\n"
    " rev16 w7, w2\n"
    " rev32 x8, x1\n"
    " rev w9, w2\n"
    " rev x10, x1\n"
    " clz x11, x1\n"
    " clz w12, w2\n"
    " cls x13, x1\n"
    " cls w14, w2\n");
}

static void test_crc(void)
{
    snippet_compare_edges(
    "crc32b w0, w1, w2\n"
    " crc32h w5, w1, w2\n"
    " crc32w w6, w1, w2\n"
    " crc32x w7, w1, x2\n"
    " crc32cb w8, w1, w2\n"
    " crc32ch w9, w1, w2\n"
    " crc32cw w10, w1, w2\n"
    " crc32cx w11, w1, x2\n"
    " crc32x w12, w12, x3\n");
}

static void test_branches(void)
{
    snippet_compare_edges(
    "mov x0, #0\n"
    " b.eq 1f\n"
    " orr x0, x0, #1\n"
    "1: b.lt 2f\n"
    " orr x0, x0, #2\n"
    "2: b.hi 3f\n"
    " orr x0, x0, #4\n"
    "3: cbz x1, 4f\n"
    " orr x0, x0, #8\n"
    "4: cbnz w2, 5f\n"
    " orr x0, x0, #16\n"
    "5: tbz x1, #63, 6f\n"
    " orr x0, x0, #32\n"
    "6: tbnz w2, #0, 7f\n"
    " orr x0, x0, #64\n"
    "7: tbnz x2, #33, 8f\n"
    " orr x0, x0, #128\n"
    "8: cbz w1, 9f\n"
    " orr x0, x0, #256\n"
    "9: b.vs 10f\n"
    " orr x0, x0, #512\n"
    "10: b.le 11f\n"
    " orr x0, x0, #1024\n"
    "11: nop\n");
}

static void test_bl(void)
{
    snippet_compare_edges(
    "bl 1f\n"
    " b 2f\n"
    "1: mov x5, x30\n"
    " ret\n"
    "2: adr x6, 3f\n"
    " blr x6\n"
    " b 4f\n"
    "3: mov x7, x30\n"
    " ret x7\n"
    "4: adr x8, 5f\n"
    " br x8\n"
    " mov x9, #1\n"
    "5: adr x30, 6f\n"
    " blr x30\n"
    " b 7f\n"
    "6: mov x10, x30\n"
    " ret x10\n"
    "7: adr x11, .\n");
}

/* An unallocated encoding takes an Undefined Instruction exception to EL1:
 * ESR_EL1.EC = 0 (unknown reason), ELR_EL1 = its address, pc = VBAR_EL1 +
 * 0x200 (current EL with SP_ELx, synchronous). */
static void test_undef(void)
{
    static const uint32_t insns[] = {
        0x00000000, /* UDF #0 (reserved op0 = 0000) */
        0x1ac00400, /* data processing 2 source, opcode 000001 */
        0x38200000 | (1u << 31) | (3u << 30), /* atomic LDADD (ARMv8.1) */
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(insns); i++) {
        tes_cpu *cpu;
        arm_cpu *c;
        tes_harness *h = snippet_harness(&cpu, &c);

        c->vbar_el1 = 0x10000;
        snippet_load_code(h, c, 0x20000, &insns[i], 4);
        g_assert_cmpint(tes_harness_cpu_exec(h, cpu, 1, NULL), ==, TES_EXEC_BUDGET);
        g_assert_cmphex(c->pc, ==, 0x10200);
        g_assert_cmphex(c->esr_el1 >> 26, ==, EC_UNKNOWN);
        g_assert_cmphex(c->esr_el1 & (1u << 25), ==, 1u << 25); /* IL: 32-bit */
        g_assert_cmphex(c->elr_el1, ==, 0x20000);
        tes_harness_free(h);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    snippet_init(argc, argv);
    g_test_add_func("/a64/framework/qemu-runs-snippet-per-record", test_framework_qemu);
    g_test_add_func("/a64/int/adds-sets-carry-on-unsigned-overflow", test_addsub_imm_reg);
    g_test_add_func("/a64/int/addsub-immediate-with-shift-and-sp", test_addsub_imm);
    g_test_add_func("/a64/int/addsub-extended-register-forms", test_addsub_ext);
    g_test_add_func("/a64/int/adc-sbc-consume-and-produce-carry", test_adc);
    g_test_add_func("/a64/int/logical-shifted-register-and-flags", test_logic_reg);
    g_test_add_func("/a64/int/logical-immediates-decode-bitmasks", test_logic_imm);
    g_test_add_func("/a64/int/move-wide-movz-movn-movk", test_movewide);
    g_test_add_func("/a64/int/bitfield-aliases-ubfx-sbfx-bfi-bfxil", test_bitfield);
    g_test_add_func("/a64/int/extract-and-rotate-immediate", test_extr);
    g_test_add_func("/a64/int/conditional-select-family", test_condsel);
    g_test_add_func("/a64/int/conditional-compare-register-and-immediate", test_condcmp);
    g_test_add_func("/a64/int/variable-shifts-use-amount-modulo-width", test_shiftv);
    g_test_add_func("/a64/int/division-by-zero-gives-zero-and-int-min-wraps", test_div);
    g_test_add_func("/a64/int/multiply-add-long-and-high", test_mul);
    g_test_add_func("/a64/int/one-source-rbit-rev-clz-cls", test_dp1);
    g_test_add_func("/a64/int/crc32-and-crc32c-all-sizes", test_crc);
    g_test_add_func("/a64/int/branches-conditional-compare-and-test", test_branches);
    g_test_add_func("/a64/int/branch-and-link-register-forms", test_bl);
    g_test_add_func("/a64/int/unallocated-encoding-raises-undefined-exception", test_undef);
    a64_ldst_tests_register();
    return g_test_run();
}
