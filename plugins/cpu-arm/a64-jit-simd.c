/*
 * cpu-arm: the SIMD&FP data-processing forms the translator does itself.
 * Only what libc's string functions (strlen, strchr, memchr: DUP, MOVI,
 * CMEQ, FMOV to and from general registers) run in a shell's hot loops;
 * every other SIMD&FP instruction calls the interpreter (a64-simd.c,
 * a64-fp.c). A vector register is two 64-bit globals (a64_jit_vreg);
 * byte lanes are computed a half at a time with SWAR arithmetic. All of
 * it needs TB_FP (else the interpreter raises the CPACR_EL1 trap).
 */
#include "a64-jit.h"

#define T(s) tes_jit_temp((s)->ir)
#define K(s, v) tes_jit_const((s)->ir, (uint64_t)(v))

static tes_jit_val op2(a64_dc *s, tes_jit_opc o, tes_jit_val a, tes_jit_val b)
{
    tes_jit_val d = T(s);

    tes_jit_op(s->ir, o, d, a, b);
    return d;
}

static void set_v(a64_dc *s, unsigned rd, tes_jit_val lo, tes_jit_val hi)
{
    tes_jit_op(s->ir, TES_JIT_MOV, a64_jit_vreg(s, rd, 0), lo, TES_JIT_NONE);
    tes_jit_op(s->ir, TES_JIT_MOV, a64_jit_vreg(s, rd, 1), hi, TES_JIT_NONE);
}

/* FMOV between a general register and the low 32 or 64 bits of a
 * SIMD&FP register (C7.2.131); writes to Vd clear the rest of it. */
static bool tr_fmov_gen(a64_dc *s, uint32_t insn)
{
    unsigned rd = insn & 31, rn = JBITS(insn, 5, 5);
    tes_jit_val v;

    switch (insn & 0xfffffc00u) {
    case 0x9e660000u: /* FMOV Xd, Dn */
        a64_jit_set_zr(s, rd, a64_jit_vreg(s, rn, 0));
        return true;
    case 0x1e260000u: /* FMOV Wd, Sn */
        a64_jit_set_zr(s, rd, op2(s, TES_JIT_EXT32U, a64_jit_vreg(s, rn, 0), TES_JIT_NONE));
        return true;
    case 0x9e670000u: /* FMOV Dd, Xn */
        set_v(s, rd, a64_jit_reg_zr(s, rn), K(s, 0));
        return true;
    case 0x1e270000u: /* FMOV Sd, Wn */
        v = op2(s, TES_JIT_EXT32U, a64_jit_reg_zr(s, rn), TES_JIT_NONE);
        set_v(s, rd, v, K(s, 0));
        return true;
    default:
        return false;
    }
}

/* DUP Vd.T, Rn: the low element of Rn in every lane (multiplying the
 * zero-extended element by a lane-ones pattern). */
static bool tr_dup_gen(a64_dc *s, uint32_t insn)
{
    static const struct { tes_jit_opc ext; uint64_t ones; } lane[4] = {
        {TES_JIT_EXT8U, 0x0101010101010101ull}, {TES_JIT_EXT16U, 0x0001000100010001ull},
        {TES_JIT_EXT32U, 0x0000000100000001ull}, {TES_JIT_MOV, 1},
    };
    unsigned imm5 = JBITS(insn, 16, 5), size = imm5 ? __builtin_ctz(imm5) : 4;
    bool q = JBIT(insn, 30);
    tes_jit_val v;

    if (size > 3 || (size == 3 && !q)) {
        return false; /* reserved */
    }
    v = a64_jit_reg_zr(s, JBITS(insn, 5, 5));
    if (size < 3) {
        v = op2(s, TES_JIT_MUL, op2(s, lane[size].ext, v, TES_JIT_NONE), K(s, lane[size].ones));
    }
    set_v(s, insn & 31, v, q ? v : K(s, 0));
    return true;
}

/* MOVI/MVNI (C7.2.204): the immediate forms that read nothing (not the
 * ORR/BIC ones, not FMOV), as one 64-bit pattern per half. */
static bool tr_movi(a64_dc *s, uint32_t insn)
{
    unsigned cmode = JBITS(insn, 12, 4), op = JBIT(insn, 29);
    uint64_t imm8 = JBITS(insn, 5, 5) | JBITS(insn, 16, 3) << 5, imm = 0;
    bool q = JBIT(insn, 30);

    if (!(cmode & 8) && !(cmode & 1)) {       /* 32-bit lanes, shifted */
        imm = (imm8 << (8 * (cmode >> 1))) * 0x0000000100000001ull;
    } else if ((cmode & 0xd) == 8) {          /* 16-bit lanes, shifted */
        imm = (imm8 << (8 * ((cmode >> 1) & 1))) * 0x0001000100010001ull;
    } else if (cmode == 14 && !op) {          /* bytes */
        imm = imm8 * 0x0101010101010101ull;
    } else if (cmode == 14) {                 /* 64-bit byte mask */
        for (unsigned i = 0; i < 8; i++) {
            imm |= ((imm8 >> i) & 1) ? 0xffull << (8 * i) : 0;
        }
        op = 0;
    } else {
        return false; /* MSL forms, ORR/BIC, FMOV: the interpreter */
    }
    if (op) {
        imm = ~imm;
    }
    set_v(s, insn & 31, K(s, imm), K(s, q ? imm : 0));
    return true;
}

/* 0xff in each byte of t that is zero, else 0 (SWAR: a byte's top bit
 * after (b & 0x7f) + 0x7f, or b's own, is set iff b != 0). */
static tes_jit_val bytes_zero(a64_dc *s, tes_jit_val t)
{
    const uint64_t lo7 = 0x7f7f7f7f7f7f7f7full;
    tes_jit_val nz = op2(s, TES_JIT_OR, op2(s, TES_JIT_ADD, op2(s, TES_JIT_AND, t, K(s, lo7)),
                                              K(s, lo7)), t);
    tes_jit_val z = op2(s, TES_JIT_ANDC, K(s, 0x8080808080808080ull), nz);

    return op2(s, TES_JIT_MUL, op2(s, TES_JIT_SHR, z, K(s, 7)), K(s, 0xff));
}

/* CMEQ Vd.8B/16B, Vn, Vm and CMEQ Vd.8B/16B, Vn, #0. */
static bool tr_cmeq_b(a64_dc *s, uint32_t insn, bool zero)
{
    unsigned rn = JBITS(insn, 5, 5), rm = JBITS(insn, 16, 5);
    bool q = JBIT(insn, 30);
    tes_jit_val r[2];

    for (unsigned h = 0; h < (q ? 2u : 1u); h++) {
        tes_jit_val a = a64_jit_vreg(s, rn, h);

        r[h] = bytes_zero(s, zero ? a : op2(s, TES_JIT_XOR, a, a64_jit_vreg(s, rm, h)));
    }
    set_v(s, insn & 31, r[0], q ? r[1] : K(s, 0));
    return true;
}

bool a64_jit_simd(a64_dc *s)
{
    uint32_t insn = s->insn;

    if (!s->fp) {
        return false;
    }
    if ((insn & 0x7f3ffc00u) == 0x1e260000u || (insn & 0x7f3ffc00u) == 0x1e270000u) {
        return tr_fmov_gen(s, insn);
    } else if ((insn & 0xbfe0fc00u) == 0x0e000c00u) {
        return tr_dup_gen(s, insn);
    } else if ((insn & 0x9ff80c00u) == 0x0f000400u) {
        return tr_movi(s, insn);
    } else if ((insn & 0xbfe0fc00u) == 0x2e208c00u) {
        return tr_cmeq_b(s, insn, false);
    } else if ((insn & 0xbffffc00u) == 0x0e209800u) {
        return tr_cmeq_b(s, insn, true);
    }
    return false;
}
