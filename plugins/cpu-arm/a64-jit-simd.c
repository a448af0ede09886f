/*
 * cpu-arm: the SIMD&FP data-processing forms the translator does itself.
 * Only what libc's string functions (strlen, strchr, memchr: DUP, MOVI,
 * CMEQ/CMHS/CMHI on bytes, UMAXP, SHRN, vector logic and bit selects,
 * FMOV to and from general registers) and number parsing (scalar FMOV,
 * FABS, FNEG) run in a shell's and sort's hot loops;
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

/* AND/BIC/ORR/ORN/EOR/BSL/BIT/BIF (vector), by U:size. */
static bool tr_logic_vec(a64_dc *s, uint32_t insn)
{
    unsigned rd = insn & 31, rn = JBITS(insn, 5, 5), rm = JBITS(insn, 16, 5);
    unsigned kind = JBIT(insn, 29) << 2 | JBITS(insn, 22, 2);
    bool q = JBIT(insn, 30);
    tes_jit_val r[2];

    for (unsigned h = 0; h < (q ? 2u : 1u); h++) {
        tes_jit_val d = a64_jit_vreg(s, rd, h), n = a64_jit_vreg(s, rn, h);
        tes_jit_val m = a64_jit_vreg(s, rm, h);

        switch (kind) {
        case 0: r[h] = op2(s, TES_JIT_AND, n, m); break;
        case 1: r[h] = op2(s, TES_JIT_ANDC, n, m); break;
        case 2: r[h] = op2(s, TES_JIT_OR, n, m); break;
        case 3: r[h] = op2(s, TES_JIT_OR, n, op2(s, TES_JIT_NOT, m, TES_JIT_NONE)); break;
        case 4: r[h] = op2(s, TES_JIT_XOR, n, m); break;
        case 5: /* BSL: d selects n (1) or m (0) */
            r[h] = op2(s, TES_JIT_XOR, m, op2(s, TES_JIT_AND, op2(s, TES_JIT_XOR, m, n), d));
            break;
        case 6: /* BIT: insert n where m is 1 */
            r[h] = op2(s, TES_JIT_XOR, d, op2(s, TES_JIT_AND, op2(s, TES_JIT_XOR, d, n), m));
            break;
        default: /* BIF: insert n where m is 0 */
            r[h] = op2(s, TES_JIT_XOR, d, op2(s, TES_JIT_ANDC, op2(s, TES_JIT_XOR, d, n), m));
            break;
        }
    }
    set_v(s, rd, r[0], q ? r[1] : K(s, 0));
    return true;
}

/* 0xff in each byte where a >= b (unsigned), else 0: a per-byte
 * subtraction without borrows between bytes, then each byte's borrow. */
static tes_jit_val bytes_geu(a64_dc *s, tes_jit_val a, tes_jit_val b)
{
    const uint64_t hi = 0x8080808080808080ull;
    tes_jit_val na = op2(s, TES_JIT_NOT, a, TES_JIT_NONE);
    tes_jit_val diff = op2(s, TES_JIT_SUB, op2(s, TES_JIT_OR, a, K(s, hi)),
                           op2(s, TES_JIT_ANDC, b, K(s, hi)));
    tes_jit_val borrow;

    diff = op2(s, TES_JIT_XOR, diff, op2(s, TES_JIT_ANDC, K(s, hi), op2(s, TES_JIT_XOR, a, b)));
    borrow = op2(s, TES_JIT_OR, op2(s, TES_JIT_AND, na, b),
                 op2(s, TES_JIT_AND, op2(s, TES_JIT_OR, na, b), diff));
    borrow = op2(s, TES_JIT_ANDC, K(s, hi), borrow); /* bit 7: no borrow, a >= b */
    return op2(s, TES_JIT_MUL, op2(s, TES_JIT_SHR, borrow, K(s, 7)), K(s, 0xff));
}

/* CMHS (n >= m) and CMHI (n > m, i.e. not m >= n) on bytes. */
static bool tr_cmh_b(a64_dc *s, uint32_t insn, bool hi)
{
    unsigned rn = JBITS(insn, 5, 5), rm = JBITS(insn, 16, 5);
    bool q = JBIT(insn, 30);
    tes_jit_val r[2];

    for (unsigned h = 0; h < (q ? 2u : 1u); h++) {
        tes_jit_val n = a64_jit_vreg(s, rn, h), m = a64_jit_vreg(s, rm, h);

        r[h] = hi ? op2(s, TES_JIT_NOT, bytes_geu(s, m, n), TES_JIT_NONE) : bytes_geu(s, n, m);
    }
    set_v(s, insn & 31, r[0], q ? r[1] : K(s, 0));
    return true;
}

/* The low bytes of the four 16-bit lanes of x (each < 256), packed into
 * bits 31:0. */
static tes_jit_val pack16(a64_dc *s, tes_jit_val x)
{
    x = op2(s, TES_JIT_AND, op2(s, TES_JIT_OR, x, op2(s, TES_JIT_SHR, x, K(s, 8))),
            K(s, 0x0000ffff0000ffffull));
    return op2(s, TES_JIT_EXT32U, op2(s, TES_JIT_OR, x, op2(s, TES_JIT_SHR, x, K(s, 16))),
               TES_JIT_NONE);
}

/* UMAXP of the byte pairs of one 64-bit half: four bytes in bits 31:0. */
static tes_jit_val umaxp_half(a64_dc *s, tes_jit_val v)
{
    const uint64_t lanes = 0x00ff00ff00ff00ffull;
    tes_jit_val e = op2(s, TES_JIT_AND, v, K(s, lanes));
    tes_jit_val o = op2(s, TES_JIT_AND, op2(s, TES_JIT_SHR, v, K(s, 8)), K(s, lanes));
    /* bit 8 of each 16-bit lane of (e | 0x100) - o: e >= o */
    tes_jit_val ge = op2(s, TES_JIT_SUB, op2(s, TES_JIT_OR, e, K(s, 0x0100010001000100ull)), o);
    tes_jit_val m = op2(s, TES_JIT_MUL, op2(s, TES_JIT_AND, op2(s, TES_JIT_SHR, ge, K(s, 8)),
                                          K(s, 0x0001000100010001ull)), K(s, 0xffff));

    return pack16(s, op2(s, TES_JIT_OR, op2(s, TES_JIT_AND, e, m), op2(s, TES_JIT_ANDC, o, m)));
}

/* UMAXP Vd.8B/16B: maxima of adjacent byte pairs of Vn, then of Vm. */
static bool tr_umaxp_b(a64_dc *s, uint32_t insn)
{
    unsigned rn = JBITS(insn, 5, 5), rm = JBITS(insn, 16, 5);
    bool q = JBIT(insn, 30);
    tes_jit_val lo, hi;

    if (q) {
        lo = op2(s, TES_JIT_OR, umaxp_half(s, a64_jit_vreg(s, rn, 0)),
                 op2(s, TES_JIT_SHL, umaxp_half(s, a64_jit_vreg(s, rn, 1)), K(s, 32)));
        hi = op2(s, TES_JIT_OR, umaxp_half(s, a64_jit_vreg(s, rm, 0)),
                 op2(s, TES_JIT_SHL, umaxp_half(s, a64_jit_vreg(s, rm, 1)), K(s, 32)));
    } else {
        lo = op2(s, TES_JIT_OR, umaxp_half(s, a64_jit_vreg(s, rn, 0)),
                 op2(s, TES_JIT_SHL, umaxp_half(s, a64_jit_vreg(s, rm, 0)), K(s, 32)));
        hi = K(s, 0);
    }
    set_v(s, insn & 31, lo, hi);
    return true;
}

/* SHRN/SHRN2 Vd.8B/16B, Vn.8H, #sh: each halfword shifted right,
 * narrowed to a byte; SHRN2 fills the upper half and keeps the lower. */
static bool tr_shrn_h(a64_dc *s, uint32_t insn)
{
    unsigned sh = 16 - JBITS(insn, 16, 4), rn = JBITS(insn, 5, 5), rd = insn & 31;
    tes_jit_val half[2], r;

    for (unsigned h = 0; h < 2; h++) {
        tes_jit_val v = op2(s, TES_JIT_SHR, a64_jit_vreg(s, rn, h), K(s, sh));

        half[h] = pack16(s, op2(s, TES_JIT_AND, v, K(s, 0x00ff00ff00ff00ffull)));
    }
    r = op2(s, TES_JIT_OR, half[0], op2(s, TES_JIT_SHL, half[1], K(s, 32)));
    if (JBIT(insn, 30)) {
        set_v(s, rd, a64_jit_vreg(s, rd, 0), r);
    } else {
        set_v(s, rd, r, K(s, 0));
    }
    return true;
}

/* FMOV/FABS/FNEG (scalar register, S and D): bit moves that raise no FP
 * exception; the rest of Vd is cleared as by every scalar write. */
static bool tr_fp_move(a64_dc *s, uint32_t insn)
{
    unsigned type = JBITS(insn, 22, 2), op = JBITS(insn, 15, 2);
    uint64_t sign = type ? 1ull << 63 : 1ull << 31;
    tes_jit_val a = a64_jit_vreg(s, JBITS(insn, 5, 5), 0);

    if (type > 1) {
        return false; /* half precision, reserved */
    }
    if (!type) {
        a = op2(s, TES_JIT_EXT32U, a, TES_JIT_NONE);
    }
    if (op == 1) {
        a = op2(s, TES_JIT_ANDC, a, K(s, sign));
    } else if (op == 2) {
        a = op2(s, TES_JIT_XOR, a, K(s, sign));
    }
    set_v(s, insn & 31, a, K(s, 0));
    return true;
}

bool a64_jit_simd(a64_dc *s)
{
    uint32_t insn = s->insn;

    if (!s->fp) {
        return false;
    }
    if ((insn & 0xff3e7c00u) == 0x1e204000u && JBITS(insn, 15, 2) != 3) {
        return tr_fp_move(s, insn); /* FMOV, FABS, FNEG (register) */
    } else if ((insn & 0x7f3ffc00u) == 0x1e260000u || (insn & 0x7f3ffc00u) == 0x1e270000u) {
        return tr_fmov_gen(s, insn);
    } else if ((insn & 0xbfe0fc00u) == 0x0e000c00u) {
        return tr_dup_gen(s, insn);
    } else if ((insn & 0x9ff80c00u) == 0x0f000400u) {
        return tr_movi(s, insn);
    } else if ((insn & 0xbfe0fc00u) == 0x2e208c00u) {
        return tr_cmeq_b(s, insn, false);
    } else if ((insn & 0xbffffc00u) == 0x0e209800u) {
        return tr_cmeq_b(s, insn, true);
    } else if ((insn & 0x9f20fc00u) == 0x0e201c00u) {
        return tr_logic_vec(s, insn);
    } else if ((insn & 0xbfe0f400u) == 0x2e203400u) { /* CMHI (00110), CMHS (00111) */
        return tr_cmh_b(s, insn, !JBIT(insn, 11));
    } else if ((insn & 0xbfe0fc00u) == 0x2e20a400u) {
        return tr_umaxp_b(s, insn);
    } else if ((insn & 0xbff8fc00u) == 0x0f088400u) {
        return tr_shrn_h(s, insn);
    }
    return false;
}
