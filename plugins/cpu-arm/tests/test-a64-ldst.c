/*
 * cpu-arm load/store instruction tests (C4.1.4), differential against
 * qemu-aarch64 through the snippet framework: every addressing mode and
 * writeback, sign extension, pairs, SIMD&FP register forms, exclusives
 * (success and failure) and acquire/release. x28 points into the scratch
 * buffer, which is compared too.
 */
#include <string.h>

#include "snippet.h"

void a64_ldst_tests_register(void);

static void test_uimm(void)
{
    snippet_compare_edges(
    "strb w1, [x28, #1]\n"
    " strh w2, [x28, #2]\n"
    " str w1, [x28, #4]\n"
    " str x2, [x28, #8]\n"
    " ldrb w0, [x28, #9]\n"
    " ldrh w5, [x28, #10]\n"
    " ldr w6, [x28, #12]\n"
    " ldr x7, [x28, #16]\n"
    " ldrsb x8, [x28, #1]\n"
    " ldrsb w9, [x28, #8]\n"
    " ldrsh x10, [x28, #2]\n"
    " ldrsh w11, [x28, #10]\n"
    " ldrsw x12, [x28, #4]\n"
    " ldr x13, [x28, #4088]\n"
    " strb wzr, [x28, #4095]\n"
    " prfm pldl1keep, [x28, #64]\n");
}

static void test_index(void)
{
    snippet_compare_edges(
    "mov x27, x28\n"
    " ldr x0, [x27, #8]!\n"
    " ldr w5, [x27], #-16\n"
    " str x1, [x27, #-8]!\n"
    " strb w2, [x27], #3\n"
    " ldrsh x6, [x27, #-1]!\n"
    " ldrsb w7, [x27], #255\n"
    " strh w1, [x27, #-255]!\n"
    " ldrsw x8, [x27], #-256\n"
    " mov x9, x27\n"
    " str x2, [sp, #-16]!\n"
    " ldr x10, [sp], #8\n"
    " mov x11, sp\n");
}

static void test_unscaled(void)
{
    snippet_compare_edges(
    "ldur x0, [x28, #-8]\n"
    " stur w1, [x28, #-252]\n"
    " ldursb x5, [x28, #-252]\n"
    " ldursh w6, [x28, #-250]\n"
    " ldursw x7, [x28, #-248]\n"
    " sturh w2, [x28, #250]\n"
    " ldurb w8, [x28, #251]\n"
    " stur x2, [x28, #-256]\n"
    " ldur w9, [x28, #-256]\n"
    " prfum pldl1keep, [x28, #1]\n");
}

static void test_regoff(void)
{
    snippet_compare_edges(
    "and x3, x1, #0xff\n"
    " and x4, x2, #0x1f\n"
    " sub x4, xzr, x4\n"
    " ldr x0, [x28, x3, lsl #3]\n"
    " ldr w5, [x28, w4, sxtw #2]\n"
    " strb w1, [x28, w3, uxtw]\n"
    " ldrsh x6, [x28, x4, sxtx #1]\n"
    " str x2, [x28, x4, lsl #3]\n"
    " ldrb w7, [x28, x3]\n"
    " ldrsw x8, [x28, w4, sxtw]\n"
    " strh w2, [x28, x3, lsl #1]\n"
    " ldrsb w9, [x28, w3, uxtw #0]\n"
    " prfm pldl1keep, [x28, x3]\n");
}

static void test_literal(void)
{
    snippet_compare_edges(
    "ldr x0, 1f\n"
    " ldr w5, 2f\n"
    " ldrsw x6, 2f\n"
    " ldrsw x7, 1f\n"
    " prfm pldl1keep, 1f\n"
    " ldr q8, 3f\n"
    " ldr d9, 1f\n"
    " ldr s10, 2f\n"
    " b 4f\n"
    " .balign 16\n"
    "3: .quad 0x0011223344556677, 0x8899aabbccddeeff\n"
    "1: .quad 0x8123456789abcdef\n"
    "2: .word 0x80000001\n"
    "4: ldr x11, =0xdeadbeefcafef00d\n");
}

static void test_pairs(void)
{
    snippet_compare_edges(
    "mov x27, x28\n"
    " stp x1, x2, [x27, #-16]!\n"
    " ldp x0, x5, [x27], #16\n"
    " ldpsw x6, x7, [x27, #-16]\n"
    " stp w1, w2, [x27, #32]\n"
    " ldp w8, w9, [x27, #32]\n"
    " ldnp x10, x11, [x27, #-16]\n"
    " stnp w2, w1, [x27, #128]\n"
    " ldp w12, w13, [x27, #128]\n"
    " stp xzr, x1, [x27, #504]\n"
    " ldpsw x14, x15, [x27, #252]!\n"
    " mov x16, x27\n"
    " stp x1, x2, [sp, #-32]!\n"
    " ldp x17, x18, [sp, #16]\n"
    " mov x19, sp\n");
}

static void test_simdpairs(void)
{
    snippet_compare_edges(
    "fmov d1, x1\n"
    " fmov d2, x2\n"
    " mov v1.d[1], x2\n"
    " mov v2.d[1], x1\n"
    " stp q1, q2, [x28, #64]\n"
    " ldp q3, q4, [x28, #64]\n"
    " ldp d5, d6, [x28, #-64]\n"
    " ldp s7, s8, [x28, #-60]\n"
    " stp d1, d2, [x28, #-32]!\n"
    " stp s2, s1, [x28], #8\n"
    " ldr q9, [x28, #-16]\n"
    " str b1, [x28, #200]\n"
    " str h2, [x28, #202]\n"
    " ldr h10, [x28, #200]\n"
    " ldr b11, [x28, #203]\n"
    " str q2, [x28, #-48]!\n"
    " ldur q12, [x28, #16]\n"
    " ldnp q13, q14, [x28]\n"
    " and x4, x3, #0x3f\n"
    " ldr d15, [x28, x4, lsl #3]\n"
    " mov x0, x28\n");
}

static void test_wbsame(void)
{
    snippet_compare_edges(
    "mov x27, x28\n"
    " ldr x27, [x27], #8\n"
    " mov x26, x28\n"
    " str x26, [x26, #-8]!\n"
    " mov x25, x28\n"
    " ldr x25, [x25, #16]!\n"
    " mov x24, x28\n"
    " strb w24, [x24], #1\n"
    " mov x23, x28\n"
    " ldp x0, x5, [x23]\n"
    " mov x22, x28\n"
    " stp x22, x1, [x22, #-16]!\n");
}

static void test_unpriv(void)
{
    snippet_compare_edges(
    "sttr x1, [x28, #8]\n"
    " sttrb w2, [x28, #1]\n"
    " sttrh w2, [x28, #-2]\n"
    " sttr w1, [x28, #-8]\n"
    " ldtr x0, [x28, #8]\n"
    " ldtrsb x5, [x28, #1]\n"
    " ldtrsh w6, [x28, #-2]\n"
    " ldtrsw x7, [x28, #-8]\n"
    " ldtrb w8, [x28, #255]\n"
    " ldtrh w9, [x28, #-256]\n");
}

static void test_excl_ok(void)
{
    snippet_compare_edges(
    "ldxr x0, [x28]\n"
    " add x0, x0, x1\n"
    " stxr w5, x0, [x28]\n"
    " add x27, x28, #64\n"
    " ldaxr w6, [x27]\n"
    " stlxr w7, w2, [x27]\n"
    " add x26, x28, #128\n"
    " ldxp x8, x9, [x26]\n"
    " stxp w10, x9, x8, [x26]\n"
    " ldaxp w11, w12, [x26]\n"
    " stlxp w13, w12, w11, [x26]\n"
    " ldxrb w14, [x28, #0]\n"
    " stxrb w15, w1, [x28]\n"
    " add x25, x28, #2\n"
    " ldxrh w16, [x25]\n"
    " stlxrh w17, w2, [x25]\n"
    " ldxr x18, [x28]\n");
}

static void test_excl_clrex(void)
{
    snippet_compare_edges(
    "ldxr x0, [x28]\n"
    " clrex\n"
    " stxr w5, x1, [x28]\n"
    " ldr x6, [x28]\n"
    " ldxp x7, x8, [x28]\n"
    " clrex\n"
    " stxp w9, x1, x2, [x28]\n");
}

static void test_excl_changed(void)
{
    snippet_compare_edges(
    "ldxr x0, [x28]\n"
    " mvn x4, x0\n"
    " str x4, [x28]\n"
    " stxr w5, x1, [x28]\n"
    " ldr x6, [x28]\n"
    " ldxr w7, [x28]\n"
    " stxr w8, w2, [x28, #0]\n"
    " ldxr x9, [x28]\n"
    " add x27, x28, #8\n"
    " stxr w10, x1, [x27]\n"
    " ldr x11, [x27]\n"
    " stxr w12, x2, [x28]\n");
}

static void test_ldar(void)
{
    snippet_compare_edges(
    "stlr x1, [x28]\n"
    " ldar w0, [x28]\n"
    " stlrb w2, [x28, #0]\n"
    " ldarb w5, [x28]\n"
    " add x27, x28, #6\n"
    " stlrh w1, [x27]\n"
    " ldarh w6, [x27]\n"
    " ldar x7, [x28]\n"
    " stlr w2, [x28]\n"
    " ldar x8, [x28]\n");
}

/* The monitor's status values themselves, on tessera alone: success 0,
 * failure 1 after CLREX, after a changed value, and at another address. */
static void test_excl_status(void)
{
    /* snippet, expected status, whether x1 ends up in memory */
    static const char *const cases[][3] = {
        {"ldxr x0, [x28]\n stxr w5, x1, [x28]\n", "0", "y"},
        {"ldxr x0, [x28]\n clrex\n stxr w5, x1, [x28]\n", "1", "n"},
        {"ldxr x0, [x28]\n mvn x4, x0\n str x4, [x28]\n stxr w5, x1, [x28]\n", "1", "n"},
        {"ldxr x0, [x28]\n stxr w5, x1, [x28, #0]\n stxr w5, x1, [x28]\n", "1", "y"},
        {"ldxr x0, [x28]\n add x27, x28, #8\n stxr w5, x1, [x27]\n", "1", "n"},
    };
    snippet_regs r;
    snippet_state in, out;

    snippet_regs_init(&r);
    r.x[1] = 0x1122334455667788ull;
    snippet_state_init(&in, &r);
    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *why = NULL;
        uint64_t stored;

        g_assert_true(snippet_run_tessera(cases[i][0], &in, &out, &why));
        g_assert_cmpuint(out.r.x[5], ==, cases[i][1][0] - '0');
        memcpy(&stored, out.scratch + SNIPPET_SCRATCH_SIZE / 2, 8);
        if (cases[i][2][0] == 'y') {
            g_assert_cmphex(stored, ==, r.x[1]);
        } else {
            g_assert_cmphex(stored, !=, r.x[1]);
        }
    }
}

void a64_ldst_tests_register(void)
{
    g_test_add_func("/a64/ldst/stxr-status-is-0-on-success-1-on-failure", test_excl_status);
    g_test_add_func("/a64/ldst/unsigned-offset-every-size-and-sign-extension", test_uimm);
    g_test_add_func("/a64/ldst/pre-and-post-index-write-back-the-base", test_index);
    g_test_add_func("/a64/ldst/unscaled-ldur-stur", test_unscaled);
    g_test_add_func("/a64/ldst/register-offset-with-extend-and-shift", test_regoff);
    g_test_add_func("/a64/ldst/literal-loads-gpr-and-simd", test_literal);
    g_test_add_func("/a64/ldst/pairs-gpr-ldp-stp-ldpsw-ldnp", test_pairs);
    g_test_add_func("/a64/ldst/pairs-and-scalars-simd-registers", test_simdpairs);
    g_test_add_func("/a64/ldst/writeback-with-rn-equal-rt-follows-qemu", test_wbsame);
    g_test_add_func("/a64/ldst/unprivileged-ldtr-sttr", test_unpriv);
    g_test_add_func("/a64/ldst/exclusives-succeed-on-untouched-memory", test_excl_ok);
    g_test_add_func("/a64/ldst/stxr-fails-after-clrex", test_excl_clrex);
    g_test_add_func("/a64/ldst/stxr-fails-when-memory-changed-or-other-address", test_excl_changed);
    g_test_add_func("/a64/ldst/acquire-release-ldar-stlr", test_ldar);
}
