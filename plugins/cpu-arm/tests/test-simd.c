/*
 * cpu-arm SIMD&FP tests: every family of a64-simd.c / a64-fp.c /
 * a64-simd-fpvec.c / a64-simd-ldst.c run on tessera and compared with
 * qemu-aarch64 (registers v0-v31, FPSR, NZCV, scratch memory) over edge
 * operands: integer lane patterns (saturation bounds, sign bits) and FP
 * values (NaNs signalling and quiet, infinities, denormals, -0.0, integer
 * bounds), in several rounding modes and with FPCR.DN/FZ.
 */
#include <math.h>

#include "snippet.h"

#define FPCR_DN (1u << 25)
#define FPCR_FZ (1u << 24)
#define RMODE(m) ((uint64_t)(m) << 22)

/* Integer lane patterns: bounds of every lane size, sign bits, mixes. */
static const uint64_t ipat[] = {
    0x0000000000000000ull, 0xffffffffffffffffull, 0x8000000000000000ull,
    0x7fffffffffffffffull, 0x0123456789abcdefull, 0xfedcba9876543210ull,
    0x8080808080808080ull, 0x7f7f7f7f7f7f7f7full, 0x0001000200030004ull,
    0x80007fff0000ffffull, 0xffffffff80000000ull, 0x000000007fffffffull,
    0x0102030405060708ull, 0x00ff00ff80017ffeull, 0x1f1e1d1c1b1a1918ull,
    0x0f0e0d0c0b0a0908ull, 0x4000000000000001ull, 0xc3c3c3c33c3c3c3cull,
};
#define N_IPAT (sizeof(ipat) / sizeof(ipat[0]))

/* Single-precision edge values. */
static const uint32_t fpat_s[] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3fc00000, 0x40200000, 0xc0200000,
    0x7f800000, 0xff800000, 0x7fc00001, 0x7f800001, 0xffc00002, 0xff800003, 0x00000001,
    0x807fffff, 0x7f7fffff, 0x4f000000, 0xcf000000, 0x4f800000, 0x3f000000, 0xbf000000,
    0x3dcccccd, 0x00800000, 0x5f000000, 0xdf000001, 0x3effffff,
};
#define N_FS (sizeof(fpat_s) / sizeof(fpat_s[0]))

/* Double-precision edge values. */
static const uint64_t fpat_d[] = {
    0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull,
    0xbff0000000000000ull, 0x3ff8000000000000ull, 0x4004000000000000ull,
    0xc004000000000000ull, 0x7ff0000000000000ull, 0xfff0000000000000ull,
    0x7ff8000000000001ull, 0x7ff0000000000001ull, 0xfff8000000000002ull,
    0xfff0000000000003ull, 0x0000000000000001ull, 0x800fffffffffffffull,
    0x7fefffffffffffffull, 0x43e0000000000000ull, 0xc3e0000000000000ull,
    0x43f0000000000000ull, 0x41e0000000000000ull, 0xc1e0000000200000ull,
    0x41f0000000000000ull, 0x3fe0000000000000ull, 0xbfe0000000000000ull,
    0x3fb999999999999aull, 0x3810000000000000ull, 0x47efffffe0000000ull,
    0x3e70000000000001ull,
};
#define N_FD (sizeof(fpat_d) / sizeof(fpat_d[0]))

enum { K_INT, K_SINGLE, K_DOUBLE };

/* Build n states where (v1, v2) lane pairs run through the value list's
 * cross product; v3 and v0 get rotations of it (accumulators, third
 * operands). Integer registers x1..x4 get patterns too. */
static unsigned make_states(snippet_state *st, unsigned max, int kind, uint64_t fpcr)
{
    snippet_regs r;
    unsigned n = kind == K_INT ? N_IPAT : kind == K_SINGLE ? N_FS : N_FD;
    unsigned lanes = kind == K_SINGLE ? 4 : 2;
    unsigned total = n * n, count = (total + lanes - 1) / lanes;
    if (kind == K_INT) {
        count = n * 2;
    }
    if (count > max) {
        count = max;
    }
    for (unsigned k = 0; k < count; k++) {
        snippet_regs_init(&r);
        r.fpcr = fpcr;
        for (unsigned l = 0; l < lanes; l++) {
            unsigned p = (k * lanes + l) % total, a = p % n, b = p / n;
            unsigned c3 = (p * 7 + 3) % n, c0 = (p * 11 + 5) % n;
            for (unsigned reg = 0; reg < 8; reg++) {
                unsigned idx = reg == 1 ? a : reg == 2 ? b : reg == 3 ? c3 : (c0 + reg) % n;
                if (kind == K_INT) {
                    r.v[reg][l] = ipat[(idx + (l ? 7 * reg + k : 0)) % n];
                } else if (kind == K_DOUBLE) {
                    r.v[reg][l] = fpat_d[idx];
                } else {
                    uint32_t *w = (uint32_t *)r.v[reg];
                    w[l] = fpat_s[idx];
                }
            }
        }
        r.x[1] = ipat[k % N_IPAT];
        r.x[2] = ipat[(k + 5) % N_IPAT];
        r.x[3] = ipat[(k + 9) % N_IPAT];
        r.x[4] = k;
        snippet_state_init(&st[k], &r);
    }
    return count;
}

/* Compare every snippet of a NULL-terminated list over the states. */
static void compare_list(const char *const *list, int kind, uint64_t fpcr)
{
    enum { MAX = 260 };
    snippet_state *st = g_new0(snippet_state, MAX);
    unsigned n = make_states(st, MAX, kind, fpcr);
    for (unsigned i = 0; list[i]; i++) {
        snippet_compare_states(list[i], st, n);
    }
    g_free(st);
}

/* ---- priority 1: moves, bitwise, permutes ---- */

static const char *const moves[] = {
    "movi v0.16b, #0xa5\n movi v4.8b, #0xff\n movi v5.4h, #0x12, lsl #8\n"
    " movi v6.4s, #0x80, lsl #24\n movi v7.2s, #0x34, msl #16\n movi v8.2d, #0xff00ff0000ff00ff\n"
    " movi d9, #0x00ff00ff00ff00ff\n",
    "mvni v0.4s, #0x12, lsl #8\n mvni v4.8h, #0x7f\n mvni v5.2s, #0x55, msl #8\n",
    "orr v1.4s, #0x80, lsl #16\n bic v2.8h, #0xff, lsl #8\n orr v3.2s, #0x1\n bic v4.4h, #0x3\n",
    "fmov v0.4s, #1.5\n fmov v4.2d, #-0.125\n fmov v5.2s, #31.0\n fmov s6, #-2.0\n"
    " fmov d7, #0.5\n",
    "fmov s0, w1\n fmov d4, x2\n fmov w5, s1\n fmov x6, d2\n fmov v3.d[1], x3\n"
    " fmov x7, v1.d[1]\n fmov s8, s2\n fmov d9, d1\n",
    "dup v0.16b, w1\n dup v4.8h, w2\n dup v5.2s, w3\n dup v6.2d, x1\n dup v7.8b, v1.b[9]\n"
    " dup v8.4h, v2.h[7]\n dup v9.4s, v1.s[3]\n dup v10.2d, v2.d[1]\n mov b11, v1.b[15]\n"
    " mov d12, v2.d[1]\n",
    "ins v1.b[3], w1\n ins v2.h[6], w2\n ins v3.s[1], w3\n ins v4.d[1], x1\n"
    " ins v5.s[0], v1.s[3]\n ins v6.b[15], v2.b[0]\n ins v7.d[0], v1.d[1]\n",
    "umov w0, v1.b[15]\n umov w5, v1.h[3]\n mov w6, v2.s[3]\n mov x7, v2.d[1]\n"
    " smov w8, v1.b[8]\n smov x9, v1.h[7]\n smov x10, v2.s[1]\n smov w11, v2.h[0]\n",
    "and v0.16b, v1.16b, v2.16b\n orr v4.8b, v1.8b, v2.8b\n orn v5.16b, v1.16b, v2.16b\n"
    " eor v6.16b, v1.16b, v2.16b\n bic v7.8b, v1.8b, v2.8b\n mvn v8.16b, v1.16b\n"
    " not v9.8b, v2.8b\n mov v10.16b, v3.16b\n",
    "bsl v0.16b, v1.16b, v2.16b\n bit v3.16b, v1.16b, v2.16b\n bif v4.8b, v1.8b, v2.8b\n",
    "ext v0.16b, v1.16b, v2.16b, #3\n ext v4.8b, v1.8b, v2.8b, #7\n ext v5.16b, v1.16b, v2.16b, #15\n",
    "tbl v0.16b, {v1.16b}, v3.16b\n tbl v4.8b, {v1.16b, v2.16b}, v3.8b\n"
    " movi v9.16b, #0x0f\n and v9.16b, v9.16b, v3.16b\n tbx v5.16b, {v1.16b}, v9.16b\n"
    " tbx v6.8b, {v1.16b, v2.16b, v3.16b}, v4.8b\n tbl v7.16b, {v0.16b-v3.16b}, v9.16b\n",
    "zip1 v0.16b, v1.16b, v2.16b\n zip2 v4.8h, v1.8h, v2.8h\n zip1 v5.2s, v1.2s, v2.2s\n"
    " zip2 v6.2d, v1.2d, v2.2d\n",
    "uzp1 v0.16b, v1.16b, v2.16b\n uzp2 v4.8b, v1.8b, v2.8b\n uzp1 v5.4s, v1.4s, v2.4s\n"
    " uzp2 v6.4h, v1.4h, v2.4h\n",
    "trn1 v0.16b, v1.16b, v2.16b\n trn2 v4.4h, v1.4h, v2.4h\n trn1 v5.2d, v1.2d, v2.2d\n"
    " trn2 v6.4s, v1.4s, v2.4s\n",
    "rev16 v0.16b, v1.16b\n rev32 v4.8h, v1.8h\n rev64 v5.4s, v2.4s\n rev64 v6.8b, v2.8b\n"
    " rev32 v7.16b, v3.16b\n",
    "xtn v0.8b, v1.8h\n xtn2 v0.16b, v2.8h\n xtn v4.4h, v1.4s\n xtn v5.2s, v2.2d\n"
    " xtn2 v5.4s, v1.2d\n",
    "cnt v0.16b, v1.16b\n cnt v4.8b, v2.8b\n rbit v5.16b, v1.16b\n clz v6.4s, v2.4s\n"
    " cls v7.8h, v1.8h\n clz v8.16b, v3.16b\n cls v9.2s, v3.2s\n",
    NULL,
};

static void test_moves(void)
{
    compare_list(moves, K_INT, 0);
}

/* ---- priority 2: integer arithmetic ---- */

static const char *const int_arith[] = {
    "cmeq v0.16b, v1.16b, v2.16b\n cmeq v4.8h, v1.8h, #0\n cmhi v5.4s, v1.4s, v2.4s\n"
    " cmhs v6.2d, v1.2d, v2.2d\n cmgt v7.8b, v1.8b, v2.8b\n cmge v8.4h, v1.4h, v2.4h\n"
    " cmtst v9.16b, v1.16b, v2.16b\n cmlt v10.4s, v1.4s, #0\n cmle v11.2d, v2.2d, #0\n"
    " cmgt v12.8h, v2.8h, #0\n cmge v13.16b, v2.16b, #0\n",
    "umaxp v0.16b, v1.16b, v2.16b\n uminp v4.8h, v1.8h, v2.8h\n addp v5.4s, v1.4s, v2.4s\n"
    " addp v6.2d, v1.2d, v2.2d\n smaxp v7.8b, v1.8b, v2.8b\n sminp v8.2s, v1.2s, v2.2s\n"
    " addp d9, v1.2d\n",
    "umaxv b0, v1.16b\n uminv h4, v1.8h\n addv s5, v2.4s\n uaddlv h6, v1.16b\n"
    " uaddlv d7, v2.4s\n smaxv b8, v2.8b\n sminv s9, v1.4s\n saddlv s10, v2.8h\n addv b11, v3.8b\n",
    "shrn v0.8b, v1.8h, #4\n shrn2 v0.16b, v2.8h, #8\n rshrn v4.4h, v1.4s, #3\n"
    " shrn v5.2s, v2.2d, #32\n",
    "ushr v0.16b, v1.16b, #3\n sshr v4.8h, v1.8h, #15\n ushr v5.2d, v2.2d, #64\n"
    " sshr v6.4s, v2.4s, #32\n shl v7.16b, v1.16b, #7\n shl v8.2d, v1.2d, #63\n"
    " ushr d9, d1, #1\n sshr d10, d2, #64\n shl d11, d3, #5\n",
    "ushll v0.8h, v1.8b, #0\n ushll2 v4.4s, v1.8h, #3\n sshll v5.2d, v2.2s, #31\n"
    " sshll2 v6.8h, v2.16b, #7\n uxtl v7.4s, v3.4h\n sxtl2 v8.2d, v3.4s\n",
    "sli v1.16b, v2.16b, #3\n sri v3.8h, v2.8h, #16\n sli v4.2d, v2.2d, #63\n"
    " sri v5.4s, v1.4s, #1\n sli d6, d1, #8\n sri d7, d2, #64\n",
    "usra v1.16b, v2.16b, #3\n ssra v3.8h, v2.8h, #16\n urshr v4.4s, v2.4s, #7\n"
    " srshr v5.2d, v1.2d, #64\n ursra v6.8b, v1.8b, #1\n srsra d7, d2, #3\n",
    "add v0.16b, v1.16b, v2.16b\n sub v4.8h, v1.8h, v2.8h\n add v5.2d, v1.2d, v2.2d\n"
    " mul v6.4s, v1.4s, v2.4s\n mla v3.8h, v1.8h, v2.8h\n mls v7.16b, v1.16b, v2.16b\n"
    " add d8, d1, d2\n sub d9, d1, d2\n mul v10.4h, v1.4h, v2.h[5]\n"
    " mla v11.4s, v1.4s, v2.s[3]\n mls v12.8h, v1.8h, v3.h[1]\n",
    "abs v0.16b, v1.16b\n neg v4.8h, v1.8h\n abs v5.2d, v2.2d\n neg d6, d1\n abs d7, d2\n"
    " neg v8.4s, v2.4s\n",
    "umull v0.8h, v1.8b, v2.8b\n smull2 v4.4s, v1.8h, v2.8h\n umlal v3.2d, v1.2s, v2.2s\n"
    " smlal2 v5.8h, v1.16b, v2.16b\n umlsl v6.4s, v1.4h, v2.4h\n umull v7.2d, v1.2s, v2.s[1]\n"
    " smull2 v8.4s, v1.8h, v2.h[6]\n smlal v9.4s, v1.4h, v3.h[2]\n",
    "uaddl v0.8h, v1.8b, v2.8b\n usubl2 v4.4s, v1.8h, v2.8h\n uaddw v5.2d, v1.2d, v2.2s\n"
    " saddw2 v6.8h, v1.8h, v2.16b\n ssubl v7.4s, v1.4h, v2.4h\n usubw2 v8.2d, v1.2d, v2.4s\n"
    " uabdl v9.8h, v1.8b, v2.8b\n sabal2 v3.4s, v1.8h, v2.8h\n addhn v10.8b, v1.8h, v2.8h\n"
    " raddhn2 v10.16b, v1.8h, v2.8h\n subhn v11.4h, v1.4s, v2.4s\n",
    "saddlp v0.8h, v1.16b\n uaddlp v4.2s, v1.4h\n uadalp v3.4s, v2.8h\n sadalp v5.1d, v2.2s\n",
    "sqadd v0.16b, v1.16b, v2.16b\n uqadd v4.8h, v1.8h, v2.8h\n sqsub v5.4s, v1.4s, v2.4s\n"
    " uqsub v6.2d, v1.2d, v2.2d\n sqadd d7, d1, d2\n uqsub b8, b1, b2\n sqsub h9, h2, h1\n",
    "sqxtn v0.8b, v1.8h\n uqxtn2 v0.16b, v2.8h\n sqxtun v4.4h, v1.4s\n sqxtn s5, d1\n"
    " uqxtn h6, s2\n sqxtn2 v7.4s, v2.2d\n",
    "urhadd v0.16b, v1.16b, v2.16b\n uhadd v4.8h, v1.8h, v2.8h\n srhadd v5.4s, v1.4s, v2.4s\n"
    " shadd v6.8b, v1.8b, v2.8b\n uhsub v7.4h, v1.4h, v2.4h\n shsub v8.4s, v2.4s, v1.4s\n",
    "umax v0.16b, v1.16b, v2.16b\n smin v4.8h, v1.8h, v2.8h\n uabd v5.4s, v1.4s, v2.4s\n"
    " saba v3.16b, v1.16b, v2.16b\n smax v6.2s, v1.2s, v2.2s\n umin v7.8b, v1.8b, v2.8b\n",
    "pmul v0.16b, v1.16b, v2.16b\n pmull v4.8h, v1.8b, v2.8b\n pmull2 v5.8h, v1.16b, v2.16b\n",
    "ushl v0.16b, v1.16b, v2.16b\n sshl v4.8h, v1.8h, v3.8h\n urshl v5.4s, v1.4s, v2.4s\n"
    " srshl v6.2d, v1.2d, v3.2d\n ushl d7, d1, d3\n sqshl v8.8h, v1.8h, v3.8h\n"
    " uqshl v9.4s, v1.4s, v3.4s\n",
    "sqshl v0.16b, v1.16b, #3\n uqshl v4.8h, v1.8h, #9\n sqshlu v5.4s, v2.4s, #4\n"
    " sqshrn v6.8b, v1.8h, #3\n uqshrn v7.4h, v2.4s, #5\n sqrshrun v8.2s, v1.2d, #17\n"
    " sqshrun2 v8.4s, v2.2d, #1\n uqrshrn b9, h1, #2\n",
    "sqdmulh v0.8h, v1.8h, v2.8h\n sqrdmulh v4.4s, v1.4s, v2.4s\n sqdmull v5.4s, v1.4h, v2.4h\n"
    " sqdmlal2 v3.2d, v1.4s, v2.4s\n sqdmulh v6.4h, v1.4h, v2.h[3]\n sqdmull s7, h1, h2\n",
    "sqabs v0.16b, v1.16b\n sqneg v4.8h, v1.8h\n sqabs d5, d2\n shll v6.8h, v1.8b, #8\n"
    " shll2 v7.2d, v1.4s, #32\n",
    "cmeq d0, d1, d2\n cmhi d4, d1, d2\n cmgt d5, d1, #0\n cmtst d6, d1, d2\n cmge d7, d2, d1\n"
    " cmhs d8, d2, d1\n cmle d9, d2, #0\n cmeq d10, d3, #0\n",
    NULL,
};

static void test_int_arith(void)
{
    compare_list(int_arith, K_INT, 0);
}

/* ---- structure loads/stores ---- */

static const char *const ldst[] = {
    "ld1 {v0.16b}, [x28]\n ld1 {v4.8b, v5.8b}, [x28], #16\n ld1 {v6.4s-v8.4s}, [x28]\n"
    " ld1 {v9.2d-v12.2d}, [x28], x4\n",
    "st1 {v1.16b}, [x28]\n st1 {v2.8b, v3.8b}, [x28], #16\n st1 {v1.4s-v3.4s}, [x28]\n"
    " st1 {v0.2d-v3.2d}, [x28], x4\n",
    "ld2 {v0.16b, v1.16b}, [x28]\n ld3 {v4.4h-v6.4h}, [x28], #24\n ld4 {v8.4s-v11.4s}, [x28]\n"
    " ld2 {v12.2d, v13.2d}, [x28], x4\n",
    "st2 {v1.8h, v2.8h}, [x28]\n add x5, x28, #64\n st3 {v1.8b-v3.8b}, [x5], #24\n"
    " st4 {v0.4s-v3.4s}, [x28]\n",
    "ld1 {v1.b}[3], [x28]\n ld1 {v2.h}[7], [x28], #2\n ld2 {v3.s, v4.s}[1], [x28]\n"
    " ld3 {v5.d, v6.d, v7.d}[1], [x28], x4\n ld4 {v8.b-v11.b}[15], [x28]\n",
    "st1 {v1.b}[3], [x28]\n add x5, x28, #32\n st1 {v2.d}[1], [x5]\n"
    " st2 {v1.h, v2.h}[5], [x5], #4\n st4 {v0.s-v3.s}[2], [x28]\n st3 {v1.b-v3.b}[9], [x5]\n",
    "ld1r {v0.16b}, [x28]\n ld1r {v4.4h}, [x28], #2\n ld2r {v5.4s, v6.4s}, [x28]\n"
    " ld3r {v7.2d-v9.2d}, [x28], x4\n ld4r {v10.8b-v13.8b}, [x28]\n",
    "ldr q0, [x28]\n ldr d1, [x28, #8]\n ldr s2, [x28, #4]\n str q3, [x28, #16]\n"
    " ldp q4, q5, [x28]\n stp d1, d2, [x28, #32]\n",
    NULL,
};

static void test_ldst(void)
{
    compare_list(ldst, K_INT, 0);
}

/* ---- priority 3: scalar FP ---- */

static const char *const fp_scalar_s[] = {
    "fadd s0, s1, s2\n",
    "fsub s0, s1, s2\n",
    "fmul s0, s1, s2\n",
    "fdiv s0, s1, s2\n",
    "fnmul s0, s1, s2\n",
    "fmax s0, s1, s2\n fmin s4, s1, s2\n",
    "fmaxnm s0, s1, s2\n fminnm s4, s1, s2\n",
    "fabs s0, s1\n fneg s4, s2\n fsqrt s5, s1\n fmov s6, s2\n",
    "fmadd s0, s1, s2, s3\n",
    "fmsub s0, s1, s2, s3\n",
    "fnmadd s0, s1, s2, s3\n",
    "fnmsub s0, s1, s2, s3\n",
    "fcmp s1, s2\n mrs x0, nzcv\n fcmpe s2, s1\n mrs x5, nzcv\n fcmp s1, #0.0\n mrs x6, nzcv\n",
    "fccmp s1, s2, #0x5, ne\n mrs x0, nzcv\n fccmpe s1, s2, #0xa, eq\n mrs x5, nzcv\n"
    " fcsel s6, s1, s2, ge\n fcsel s7, s1, s2, lt\n",
    "frintn s0, s1\n frintp s4, s1\n frintm s5, s1\n frintz s6, s1\n frinta s7, s1\n"
    " frintx s8, s1\n frinti s9, s1\n",
    "fcvt d0, s1\n fcvt h4, s1\n fcvt s5, h1\n fcvt d6, h2\n fcvt h7, d2\n",
    "fcvtzs w0, s1\n fcvtzu w5, s1\n fcvtzs x6, s1\n fcvtzu x7, s1\n fcvtzs w8, s1, #5\n"
    " fcvtzu x9, s1, #33\n",
    "fcvtns w0, s1\n fcvtnu x5, s1\n fcvtas w6, s1\n fcvtau x7, s1\n fcvtms w8, s1\n"
    " fcvtmu w9, s1\n fcvtps x10, s1\n fcvtpu w11, s1\n",
    "scvtf s0, w1\n ucvtf s4, x1\n scvtf s5, x2\n ucvtf s6, w3\n scvtf s7, w1, #7\n"
    " ucvtf s8, x2, #60\n",
    NULL,
};

static const char *const fp_scalar_d[] = {
    "fadd d0, d1, d2\n fsub d4, d1, d2\n",
    "fmul d0, d1, d2\n fdiv d4, d1, d2\n fnmul d5, d1, d2\n",
    "fmax d0, d1, d2\n fmin d4, d1, d2\n fmaxnm d5, d1, d2\n fminnm d6, d1, d2\n",
    "fabs d0, d1\n fneg d4, d2\n fsqrt d5, d1\n",
    "fmadd d0, d1, d2, d3\n fmsub d4, d1, d2, d3\n",
    "fnmadd d0, d1, d2, d3\n fnmsub d4, d1, d2, d3\n",
    "fcmp d1, d2\n mrs x0, nzcv\n fcmpe d2, d1\n mrs x5, nzcv\n fcmpe d1, #0.0\n mrs x6, nzcv\n",
    "fccmp d1, d2, #0x5, ne\n mrs x0, nzcv\n fcsel d6, d1, d2, ge\n",
    "frintn d0, d1\n frintp d4, d1\n frintm d5, d1\n frintz d6, d1\n frinta d7, d1\n"
    " frintx d8, d1\n frinti d9, d1\n",
    "fcvt s0, d1\n fcvt h4, d1\n fcvt s5, d2\n",
    "fcvtzs w0, d1\n fcvtzu w5, d1\n fcvtzs x6, d1\n fcvtzu x7, d1\n fcvtzs x8, d1, #10\n"
    " fcvtzu w9, d1, #32\n",
    "fcvtns x0, d1\n fcvtnu w5, d1\n fcvtas x6, d1\n fcvtau w7, d1\n fcvtms x8, d1\n"
    " fcvtpu x9, d1\n",
    "scvtf d0, x1\n ucvtf d4, x2\n scvtf d5, w3\n ucvtf d6, x1, #64\n scvtf d7, w2, #1\n",
    NULL,
};

static void test_fp_scalar_single(void)
{
    compare_list(fp_scalar_s, K_SINGLE, 0);
}

static void test_fp_scalar_double(void)
{
    compare_list(fp_scalar_d, K_DOUBLE, 0);
}

/* Rounding modes from FPCR.RMode change results of arithmetic, FRINTI/X,
 * int->FP conversions and narrowing; FCVTZS ignores them. */
static const char *const fp_rounding[] = {
    "fadd s0, s1, s2\n fmul d4, d1, d2\n fdiv s5, s1, s3\n fsqrt d6, d3\n",
    "frinti s0, s1\n frintx d4, d2\n scvtf s5, x1\n ucvtf d6, x2\n fcvtzs w7, s1\n",
    "fcvt s0, d1\n fcvt h4, d2\n fcvt h5, s1\n fmadd d6, d1, d2, d3\n",
    NULL,
};

static void test_fp_rounding_modes(void)
{
    for (unsigned m = 1; m < 4; m++) {
        compare_list(fp_rounding, K_DOUBLE, RMODE(m));
        compare_list(fp_rounding, K_SINGLE, RMODE(m));
    }
}

/* FPCR.DN gives the default NaN; FPCR.FZ flushes denormals (IDC/UFC). */
static const char *const fp_dn_fz[] = {
    "fadd s0, s1, s2\n fmul d4, d1, d2\n fmax s5, s1, s2\n fmaxnm d6, d1, d2\n",
    "fcvt d0, s1\n fcvt s4, d2\n fsqrt s5, s1\n frintn d6, d2\n fmadd s7, s1, s2, s3\n",
    "fadd v0.4s, v1.4s, v2.4s\n fmul v4.2d, v1.2d, v2.2d\n fcmeq v5.4s, v1.4s, v2.4s\n",
    NULL,
};

static void test_fp_dn_fz(void)
{
    compare_list(fp_dn_fz, K_SINGLE, FPCR_DN);
    compare_list(fp_dn_fz, K_DOUBLE, FPCR_DN);
    compare_list(fp_dn_fz, K_SINGLE, FPCR_FZ);
    compare_list(fp_dn_fz, K_DOUBLE, FPCR_FZ | FPCR_DN);
}

/* ---- priority 4: vector FP ---- */

static const char *const fp_vec_s[] = {
    "fadd v0.4s, v1.4s, v2.4s\n fsub v4.2s, v1.2s, v2.2s\n fmul v5.4s, v1.4s, v2.4s\n",
    "fdiv v0.4s, v1.4s, v2.4s\n fabd v4.4s, v1.4s, v2.4s\n fmulx v5.4s, v1.4s, v2.4s\n",
    "fmla v3.4s, v1.4s, v2.4s\n fmls v0.4s, v1.4s, v2.4s\n",
    "fabs v0.4s, v1.4s\n fneg v4.2s, v2.2s\n fsqrt v5.4s, v1.4s\n",
    "fmax v0.4s, v1.4s, v2.4s\n fmin v4.4s, v1.4s, v2.4s\n fmaxnm v5.4s, v1.4s, v2.4s\n"
    " fminnm v6.4s, v1.4s, v2.4s\n",
    "fcmeq v0.4s, v1.4s, v2.4s\n fcmgt v4.4s, v1.4s, v2.4s\n fcmge v5.4s, v1.4s, v2.4s\n"
    " facge v6.4s, v1.4s, v2.4s\n facgt v7.4s, v1.4s, v2.4s\n",
    "fcmeq v0.4s, v1.4s, #0.0\n fcmgt v4.4s, v1.4s, #0.0\n fcmge v5.4s, v2.4s, #0.0\n"
    " fcmlt v6.4s, v1.4s, #0.0\n fcmle v7.4s, v2.4s, #0.0\n fcmeq s8, s1, #0.0\n"
    " fcmgt s9, s1, s2\n",
    "fcvtzs v0.4s, v1.4s\n fcvtzu v4.4s, v1.4s\n scvtf v5.4s, v3.4s\n ucvtf v6.2s, v3.2s\n"
    " fcvtzs v7.4s, v1.4s, #3\n scvtf v8.4s, v3.4s, #31\n fcvtns v9.4s, v1.4s\n"
    " fcvtau v10.4s, v1.4s\n fcvtzs s11, s1\n scvtf s12, s3\n",
    "fmul v0.4s, v1.4s, v2.s[3]\n fmla v3.4s, v1.4s, v2.s[1]\n fmls v4.2s, v1.2s, v2.s[0]\n"
    " fmul s5, s1, v2.s[2]\n fmla s6, s1, v2.s[1]\n fmulx v7.4s, v1.4s, v2.s[0]\n",
    "faddp v0.4s, v1.4s, v2.4s\n faddp s4, v1.2s\n fmaxp v5.4s, v1.4s, v2.4s\n"
    " fminnmp v6.2s, v1.2s, v2.2s\n fmaxnmp s7, v2.2s\n fminp s8, v1.2s\n",
    "fmaxnmv s0, v1.4s\n fminnmv s4, v2.4s\n fmaxv s5, v1.4s\n fminv s6, v2.4s\n",
    "frintn v0.4s, v1.4s\n frintp v4.4s, v1.4s\n frintm v5.4s, v1.4s\n frintz v6.4s, v1.4s\n"
    " frinta v7.4s, v1.4s\n frintx v8.4s, v1.4s\n frinti v9.4s, v1.4s\n",
    "fcvtl v0.2d, v1.2s\n fcvtl2 v4.2d, v1.4s\n fcvtn v5.4h, v1.4s\n fcvtn2 v5.8h, v2.4s\n"
    " fcvtl v6.4s, v2.4h\n",
    "frecps v0.4s, v1.4s, v2.4s\n frsqrts v4.4s, v1.4s, v2.4s\n",
    NULL,
};

static const char *const fp_vec_d[] = {
    "fadd v0.2d, v1.2d, v2.2d\n fsub v4.2d, v1.2d, v2.2d\n fmul v5.2d, v1.2d, v2.2d\n"
    " fdiv v6.2d, v1.2d, v2.2d\n",
    "fmla v3.2d, v1.2d, v2.2d\n fmls v0.2d, v1.2d, v2.2d\n fmla v4.2d, v1.2d, v2.d[1]\n"
    " fmul d5, d1, v2.d[0]\n",
    "fmax v0.2d, v1.2d, v2.2d\n fminnm v4.2d, v1.2d, v2.2d\n fcmge v5.2d, v1.2d, v2.2d\n"
    " fcmeq d6, d1, d2\n facgt d7, d1, d2\n fabd d8, d1, d2\n",
    "fcvtzs v0.2d, v1.2d\n fcvtzu v4.2d, v2.2d, #10\n scvtf v5.2d, v3.2d\n ucvtf d6, d3, #64\n"
    " fcvtn v7.2s, v1.2d\n fcvtms d8, d1\n",
    "faddp v0.2d, v1.2d, v2.2d\n faddp d4, v1.2d\n fmaxnmp d5, v2.2d\n fminp v6.2d, v1.2d, v2.2d\n",
    "frinta v0.2d, v1.2d\n frintx v4.2d, v2.2d\n fsqrt v5.2d, v1.2d\n fneg v6.2d, v2.2d\n",
    NULL,
};

static void test_fp_vector_single(void)
{
    compare_list(fp_vec_s, K_SINGLE, 0);
}

static void test_fp_vector_double(void)
{
    compare_list(fp_vec_d, K_DOUBLE, 0);
}

/* NaN propagation: Arm takes the first sNaN operand (quieted), else the
 * first qNaN; x86 hardware would pick differently. Explicit values. */
static void test_nan_propagation(void)
{
    snippet_regs r;
    snippet_regs_init(&r);
    r.v[1][0] = 0x7fc00001;     /* qNaN */
    r.v[2][0] = 0x7f800002;     /* sNaN */
    r.v[3][0] = 0xffc00003;     /* -qNaN */
    snippet_compare("fadd s0, s1, s2\n fadd s4, s1, s3\n fadd s5, s3, s1\n"
                    " fmadd s6, s1, s3, s2\n fmadd s7, s3, s1, s1\n",
                    &r);
    snippet_state in, out;
    char *why = NULL;
    snippet_state_init(&in, &r);
    g_assert_true(snippet_run_tessera("fadd s0, s1, s2\n fadd s4, s1, s3\n", &in, &out, &why));
    g_assert_cmphex(out.r.v[0][0], ==, 0x7fc00002); /* the sNaN, quieted */
    g_assert_cmphex(out.r.v[4][0], ==, 0x7fc00001); /* the first qNaN */
    g_assert_cmphex(out.r.fpsr & 1, ==, 1);         /* IOC */
}

/* An FP instruction with CPACR_EL1.FPEN = 0b01 at EL1 runs; with 0b00 it
 * traps with EC 0x07 and IL set, leaving its destination alone. */
static void test_fp_access_trap(void)
{
    tes_cpu *cpu;
    arm_cpu *c;
    tes_harness *h = snippet_harness(&cpu, &c);
    static const uint32_t code[] = { 0x1e222820 /* fadd s0, s1, s2 */ };
    snippet_load_code(h, c, 0x10000, code, sizeof(code));
    c->vbar_el1 = 0x20000;
    c->cpacr_el1 = 1u << 20;
    c->v[0].s[0] = 0;
    c->v[1].s[0] = 0x3f800000;
    c->v[2].s[0] = 0x3f800000;
    uint64_t done = 0;
    tes_harness_cpu_exec(h, cpu, 1, &done);
    g_assert_cmphex(c->v[0].s[0], ==, 0x40000000);
    g_assert_cmphex(c->pc, ==, 0x10004);
    snippet_load_code(h, c, 0x10000, code, sizeof(code));
    c->cpacr_el1 = 0;
    c->v[0].s[0] = 0;
    tes_harness_cpu_exec(h, cpu, 1, &done);
    g_assert_cmphex(c->esr_el1, ==, (uint64_t)EC_FP_ACCESS << 26 | 1u << 25 | 0x1e00000);
    g_assert_cmphex(c->elr_el1, ==, 0x10000);
    g_assert_cmphex(c->v[0].s[0], ==, 0);
    g_assert_cmphex(c->pc & 0xfff, ==, 0x200); /* current EL, SPx, sync */
    tes_harness_free(h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    snippet_init(argc, argv);
    g_test_add_func("/simd/move/movi-dup-ins-umov-logic-permutes-match-arm", test_moves);
    g_test_add_func("/simd/int/compare-reduce-shift-widen-saturate-match-arm", test_int_arith);
    g_test_add_func("/simd/ldst/ld1-4-st1-4-lane-replicate-postindex-match-arm", test_ldst);
    g_test_add_func("/simd/fp/scalar-single-edge-values-match-arm", test_fp_scalar_single);
    g_test_add_func("/simd/fp/scalar-double-edge-values-match-arm", test_fp_scalar_double);
    g_test_add_func("/simd/fp/rounding-modes-from-fpcr-match-arm", test_fp_rounding_modes);
    g_test_add_func("/simd/fp/default-nan-and-flush-to-zero-match-arm", test_fp_dn_fz);
    g_test_add_func("/simd/fp/vector-single-match-arm", test_fp_vector_single);
    g_test_add_func("/simd/fp/vector-double-match-arm", test_fp_vector_double);
    g_test_add_func("/simd/fp/fadd-nan-propagation-matches-arm", test_nan_propagation);
    g_test_add_func("/simd/fp/cpacr-fpen-traps-el1-with-ec-fp-access", test_fp_access_trap);
    return g_test_run();
}
