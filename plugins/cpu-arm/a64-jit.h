/*
 * cpu-arm: what the A64 translator's files share (translate.c: the loop;
 * a64-jit.c: branches, system instructions, the block and the fallback;
 * a64-jit-dp.c: data processing; a64-jit-ldst.c: loads and stores;
 * a64-jit-simd.c: a few SIMD&FP forms). Internal to the plugin.
 */
#ifndef CPU_ARM_A64_JIT_H
#define CPU_ARM_A64_JIT_H

#include <stddef.h>
#include <tessera/jit.h>

#include "arm.h"

/* A block's length cap, in instructions (it also ends at its page's end). */
#define TB_MAX_INSNS 64

/* Block key flags (tes_jit_key.flags): what changes translation besides
 * the code bytes. Bit 0: the EL (which TLB arrays accesses use). */
#define TB_EL 1u
#define TB_SP_EL1 (1u << 1) /* SP is SP_EL1 (EL1 with SPSel = 1), else SP_EL0 */
#define TB_ALIGN (1u << 2)  /* SCTLR_EL1.A: every access must be aligned */
#define TB_FP (1u << 3)     /* CPACR_EL1.FPEN lets this EL use SIMD&FP */

/* The instruction being translated. */
typedef struct a64_dc {
    tes_jit_ir *ir;
    uint64_t pc;
    uint32_t insn;
    unsigned el;
    uint32_t sp_off;   /* env offset of the SP register in use */
    bool align;        /* TB_ALIGN */
    bool fp;           /* TB_FP */
    uint64_t flags;    /* the block's key flags */
    bool end;          /* the instruction ended the block (emitted its exits) */
    tes_jit_val env;
} a64_dc;

#define JBIT(x, n) (((x) >> (n)) & 1u)
#define JBITS(x, lo, n) (((x) >> (lo)) & ((1u << (n)) - 1u))

/* translate.c */
uint64_t arm_tb_flags(arm_cpu *c);
bool arm_tb_key(arm_cpu *c, tes_jit_key *k);
const void *arm_jit_lookup(arm_cpu *c);

/* a64-jit.c: translate the block of key k into ir; returns its
 * instruction count (0: nothing could be translated). */
unsigned a64_jit_block(arm_cpu *c, tes_jit_ir *ir, const tes_jit_key *k);

/* Values and registers (a64-jit.c). n == 31 is XZR (zr) or SP (sp). */
tes_jit_val a64_jit_reg_zr(a64_dc *s, unsigned n);
tes_jit_val a64_jit_reg_sp(a64_dc *s, unsigned n);
void a64_jit_set_zr(a64_dc *s, unsigned n, tes_jit_val v);
void a64_jit_set_sp(a64_dc *s, unsigned n, tes_jit_val v);

/* a64-jit-ldst.c: true when the load/store was translated inline. */
bool a64_jit_ldst(a64_dc *s);
/* Half h (0: bits 63:0) of SIMD&FP register n, a global. */
tes_jit_val a64_jit_vreg(a64_dc *s, unsigned n, unsigned h);

/* a64-jit-simd.c: the few SIMD&FP data-processing forms libc's string
 * functions run most (FMOV, DUP, MOVI, CMEQ); true when translated. */
bool a64_jit_simd(a64_dc *s);

/* ---- IR helpers shared by a64-jit.c and a64-jit-dp.c ---- */

#define T(s) tes_jit_temp((s)->ir)
#define K(s, v) tes_jit_const((s)->ir, (uint64_t)(v))
#define RZ(s, n) a64_jit_reg_zr(s, n)
#define RSP(s, n) a64_jit_reg_sp(s, n)

static inline tes_jit_val nzcv(a64_dc *s)
{
    return tes_jit_global(s->ir, offsetof(arm_cpu, nzcv), "nzcv");
}

/* d = a op b on 64 bits, or on 32 zero-extended (W forms). */
static inline void op(a64_dc *s, tes_jit_opc o, tes_jit_val d, tes_jit_val a, tes_jit_val b,
                      bool sf)
{
    if (sf) {
        tes_jit_op(s->ir, o, d, a, b);
    } else {
        tes_jit_op32(s->ir, o, d, a, b);
    }
}

/* A new temp holding a op b. */
static inline tes_jit_val opt(a64_dc *s, tes_jit_opc o, tes_jit_val a, tes_jit_val b, bool sf)
{
    tes_jit_val d = T(s);

    op(s, o, d, a, b, sf);
    return d;
}

static inline uint64_t sext64(uint64_t v, unsigned bits)
{
    return (uint64_t)((int64_t)(v << (64 - bits)) >> (64 - bits));
}

/* ---- flags ---- */

/* N and Z of r into new temps n, z (N at bit 31, Z at bit 30). */
static inline void flags_nz(a64_dc *s, tes_jit_val r, bool sf, tes_jit_val *n, tes_jit_val *z)
{
    *n = sf ? opt(s, TES_JIT_SHR, r, K(s, 32), true) : r;
    *n = opt(s, TES_JIT_AND, *n, K(s, PSTATE_N), true);
    *z = T(s);
    tes_jit_setcond(s->ir, TES_JIT_EQ, *z, r, K(s, 0), !sf);
    *z = opt(s, TES_JIT_SHL, *z, K(s, 30), true);
}

/* Logical results: N and Z, C and V clear. */
static inline void flags_logic(a64_dc *s, tes_jit_val r, bool sf)
{
    tes_jit_val n, z;

    flags_nz(s, r, sf, &n, &z);
    tes_jit_op(s->ir, TES_JIT_OR, nzcv(s), n, z);
}

/* NZCV of r = x + y (sub: x - y) into dst, as AddWithCarry computes them
 * (carry in 0 for add, 1 with y inverted for sub). */
static inline void flags_addsub(a64_dc *s, tes_jit_val dst, tes_jit_val r, tes_jit_val x,
                         tes_jit_val y, bool sf, bool sub)
{
    tes_jit_val n, z, c = T(s), v;

    flags_nz(s, r, sf, &n, &z);
    if (sub) { /* no borrow: x >= y unsigned */
        tes_jit_setcond(s->ir, TES_JIT_GEU, c, x, y, !sf);
        v = opt(s, TES_JIT_AND, opt(s, TES_JIT_XOR, x, y, true),
                opt(s, TES_JIT_XOR, x, r, true), true);
    } else { /* carry out: the sum wrapped below x */
        tes_jit_setcond(s->ir, TES_JIT_LTU, c, r, x, !sf);
        v = opt(s, TES_JIT_AND, opt(s, TES_JIT_XOR, x, r, true),
                opt(s, TES_JIT_XOR, y, r, true), true);
    }
    c = opt(s, TES_JIT_SHL, c, K(s, 29), true);
    v = opt(s, TES_JIT_SHR, v, K(s, sf ? 35 : 3), true); /* sign bit to bit 28 */
    v = opt(s, TES_JIT_AND, v, K(s, PSTATE_V), true);
    tes_jit_op(s->ir, TES_JIT_OR, dst, opt(s, TES_JIT_OR, n, z, true),
               opt(s, TES_JIT_OR, c, v, true));
}

/* Condition cond (C1.2.4) as the test (*a tc *b); false for AL and NV,
 * which always hold. */
static inline bool cond_test(a64_dc *s, unsigned cond, tes_jit_cond *tc, tes_jit_val *a,
                      tes_jit_val *b)
{
    static const uint32_t flag[4] = {PSTATE_Z, PSTATE_C, PSTATE_N, PSTATE_V};
    bool inv = cond & 1;
    tes_jit_val f = nzcv(s), t;

    switch (cond >> 1) {
    case 0: case 1: case 2: case 3: /* EQ CS MI VS: flag set */
        *tc = inv ? TES_JIT_TSTEQ : TES_JIT_TSTNE;
        *a = f;
        *b = K(s, flag[cond >> 1]);
        return true;
    case 4: /* HI: C set and Z clear */
        *tc = inv ? TES_JIT_NE : TES_JIT_EQ;
        *a = opt(s, TES_JIT_AND, f, K(s, PSTATE_C | PSTATE_Z), true);
        *b = K(s, PSTATE_C);
        return true;
    case 5: /* GE: N == V, bit 31 of f ^ (f << 3) clear */
    case 6: /* GT: and Z clear, bit 31 of (f << 1) too */
        t = opt(s, TES_JIT_XOR, f, opt(s, TES_JIT_SHL, f, K(s, 3), true), true);
        if (cond >> 1 == 6) {
            t = opt(s, TES_JIT_OR, t, opt(s, TES_JIT_SHL, f, K(s, 1), true), true);
        }
        *tc = inv ? TES_JIT_TSTNE : TES_JIT_TSTEQ;
        *a = t;
        *b = K(s, 1u << 31);
        return true;
    default:
        return false;
    }
}

/* a64-jit-dp.c: data processing; true when translated inline. */
bool a64_jit_dp_imm(a64_dc *s, uint32_t insn);
bool a64_jit_dp_reg(a64_dc *s, uint32_t insn);

#endif
