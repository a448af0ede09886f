/*
 * cpu-arm: A64 data processing to IR (C4.1.2 immediate, C4.1.5 register):
 * add/sub in every form (with carry too), logical, moves, PC-relative
 * addresses, bitfields, extract, conditional select and compare,
 * shifts, multiplies, CLZ/RBIT/REV. The semantics are a64.c's; W forms
 * compute with the IR's 32-bit ops, which zero-extend. Divisions, CRC32,
 * CLS and the rarer byte reversals stay with the interpreter.
 */
#include "a64-jit.h"

/* ---- data processing, immediate (C4.1.2) ---- */

static bool tr_pcrel(a64_dc *s, uint32_t insn)
{
    uint64_t imm = sext64((JBITS(insn, 5, 19) << 2) | JBITS(insn, 29, 2), 21);

    if (JBIT(insn, 31)) { /* ADRP */
        a64_jit_set_zr(s, insn & 31, K(s, (s->pc & ~0xfffull) + (imm << 12)));
    } else {
        a64_jit_set_zr(s, insn & 31, K(s, s->pc + imm));
    }
    return true;
}

static bool tr_addsub_imm(a64_dc *s, uint32_t insn)
{
    bool sf = JBIT(insn, 31), sub = JBIT(insn, 30), setf = JBIT(insn, 29);
    uint64_t imm = (uint64_t)JBITS(insn, 10, 12) << (JBIT(insn, 22) ? 12 : 0);
    tes_jit_val x = RSP(s, JBITS(insn, 5, 5)), y = K(s, imm);
    tes_jit_val r = opt(s, sub ? TES_JIT_SUB : TES_JIT_ADD, x, y, sf);

    if (setf) {
        flags_addsub(s, nzcv(s), r, x, y, sf, sub);
        a64_jit_set_zr(s, insn & 31, r);
    } else {
        a64_jit_set_sp(s, insn & 31, r);
    }
    return true;
}

static bool tr_logic_imm(a64_dc *s, uint32_t insn)
{
    static const tes_jit_opc ops[4] = {TES_JIT_AND, TES_JIT_OR, TES_JIT_XOR, TES_JIT_AND};
    bool sf = JBIT(insn, 31);
    unsigned opc = JBITS(insn, 29, 2);
    uint64_t imm;
    tes_jit_val r;

    if ((!sf && JBIT(insn, 22)) ||
        !a64_bitmask(JBIT(insn, 22), JBITS(insn, 10, 6), JBITS(insn, 16, 6), sf, &imm)) {
        return false;
    }
    r = opt(s, ops[opc], RZ(s, JBITS(insn, 5, 5)), K(s, imm), sf);
    if (opc == 3) {
        flags_logic(s, r, sf);
        a64_jit_set_zr(s, insn & 31, r);
    } else {
        a64_jit_set_sp(s, insn & 31, r); /* AND/ORR/EOR (immediate) write SP */
    }
    return true;
}

static bool tr_movewide(a64_dc *s, uint32_t insn)
{
    bool sf = JBIT(insn, 31);
    unsigned opc = JBITS(insn, 29, 2), hw = JBITS(insn, 21, 2), rd = insn & 31;
    uint64_t imm = (uint64_t)JBITS(insn, 5, 16) << (16 * hw), mask = 0xffffull << (16 * hw);
    tes_jit_val r;

    if (opc == 1 || (!sf && hw >= 2)) {
        return false;
    }
    if (opc == 0) { /* MOVN */
        a64_jit_set_zr(s, rd, K(s, sf ? ~imm : (uint32_t)~imm));
    } else if (opc == 2) { /* MOVZ */
        a64_jit_set_zr(s, rd, K(s, imm));
    } else { /* MOVK */
        r = opt(s, TES_JIT_AND, RZ(s, rd), K(s, ~mask), true);
        a64_jit_set_zr(s, rd, opt(s, TES_JIT_OR, r, K(s, imm), sf));
    }
    return true;
}

/* SBFM/UBFM/BFM: the field [lsb, lsb + width) of Rn is moved to bit pos
 * (SBFX/UBFX/BFXIL: lsb = immr, pos 0; SBFIZ/UBFIZ/BFI/LSL: lsb 0,
 * pos = datasize - immr), with two shifts on 64 bits. */
static bool tr_bitfield(a64_dc *s, uint32_t insn)
{
    bool sf = JBIT(insn, 31);
    unsigned opc = JBITS(insn, 29, 2), immr = JBITS(insn, 16, 6), imms = JBITS(insn, 10, 6);
    unsigned w = sf ? 64 : 32, rd = insn & 31, width, lsb, pos;
    uint64_t fmask;
    tes_jit_val f, r;

    if (opc == 3 || JBIT(insn, 22) != sf || (!sf && (immr >= 32 || imms >= 32))) {
        return false;
    }
    width = imms >= immr ? imms - immr + 1 : imms + 1;
    lsb = imms >= immr ? immr : 0;
    pos = imms >= immr ? 0 : w - immr;
    f = opt(s, TES_JIT_SHL, RZ(s, JBITS(insn, 5, 5)), K(s, 64 - lsb - width), true);
    f = opt(s, opc == 0 ? TES_JIT_SAR : TES_JIT_SHR, f, K(s, 64 - width), true);
    if (opc == 1) { /* BFM: the other bits of Rd stay */
        fmask = width == 64 ? ~0ull : (1ull << width) - 1;
        r = opt(s, TES_JIT_AND, RZ(s, rd), K(s, ~(fmask << pos)), true);
        f = opt(s, TES_JIT_OR, r, opt(s, TES_JIT_SHL, f, K(s, pos), true), sf);
    } else if (pos) {
        f = opt(s, TES_JIT_SHL, f, K(s, pos), sf);
    } else if (!sf) {
        f = opt(s, TES_JIT_EXT32U, f, TES_JIT_NONE, true);
    }
    a64_jit_set_zr(s, rd, f);
    return true;
}

static bool tr_extract(a64_dc *s, uint32_t insn)
{
    bool sf = JBIT(insn, 31);
    unsigned lsb = JBITS(insn, 10, 6), w = sf ? 64 : 32;
    tes_jit_val n = RZ(s, JBITS(insn, 5, 5)), m = RZ(s, JBITS(insn, 16, 5)), r;

    if (JBITS(insn, 29, 2) || JBIT(insn, 21) || JBIT(insn, 22) != sf || (!sf && lsb >= 32)) {
        return false;
    }
    if (lsb == 0) {
        r = sf ? m : opt(s, TES_JIT_EXT32U, m, TES_JIT_NONE, true);
    } else {
        r = opt(s, TES_JIT_OR, opt(s, TES_JIT_SHR, m, K(s, lsb), sf),
                opt(s, TES_JIT_SHL, n, K(s, w - lsb), sf), sf);
    }
    a64_jit_set_zr(s, insn & 31, r);
    return true;
}

bool a64_jit_dp_imm(a64_dc *s, uint32_t insn)
{
    switch (JBITS(insn, 23, 3)) {
    case 0:
    case 1: return tr_pcrel(s, insn);
    case 2: return tr_addsub_imm(s, insn);
    case 4: return tr_logic_imm(s, insn);
    case 5: return tr_movewide(s, insn);
    case 6: return tr_bitfield(s, insn);
    case 7: return tr_extract(s, insn);
    default: return false;
    }
}

/* ---- data processing, register (C4.1.5) ---- */

/* ShiftReg by a constant amount (< datasize). */
static tes_jit_val shifted(a64_dc *s, tes_jit_val v, unsigned type, unsigned amt, bool sf)
{
    static const tes_jit_opc ops[4] = {TES_JIT_SHL, TES_JIT_SHR, TES_JIT_SAR, TES_JIT_ROTR};

    if (amt == 0) {
        return v;
    }
    return opt(s, ops[type], v, K(s, amt), sf);
}

/* AND/BIC/ORR/ORN/EOR/EON/ANDS/BICS (shifted register). */
static bool tr_logic_reg(a64_dc *s, uint32_t insn)
{
    static const tes_jit_opc ops[4] = {TES_JIT_AND, TES_JIT_OR, TES_JIT_XOR, TES_JIT_AND};
    bool sf = JBIT(insn, 31), neg = JBIT(insn, 21);
    unsigned amt = JBITS(insn, 10, 6), opc = JBITS(insn, 29, 2);
    tes_jit_val y, r;

    if (!sf && amt >= 32) {
        return false;
    }
    y = shifted(s, RZ(s, JBITS(insn, 16, 5)), JBITS(insn, 22, 2), amt, sf);
    if (neg && (opc == 0 || opc == 3)) {
        r = opt(s, TES_JIT_ANDC, RZ(s, JBITS(insn, 5, 5)), y, sf);
    } else {
        if (neg) {
            y = opt(s, TES_JIT_NOT, y, TES_JIT_NONE, sf);
        }
        r = opt(s, ops[opc], RZ(s, JBITS(insn, 5, 5)), y, sf);
    }
    if (opc == 3) {
        flags_logic(s, r, sf);
    }
    a64_jit_set_zr(s, insn & 31, r);
    return true;
}

static void addsub(a64_dc *s, uint32_t insn, tes_jit_val x, tes_jit_val y, bool to_sp)
{
    bool sf = JBIT(insn, 31), sub = JBIT(insn, 30), setf = JBIT(insn, 29);
    tes_jit_val r = opt(s, sub ? TES_JIT_SUB : TES_JIT_ADD, x, y, sf);

    if (setf) {
        flags_addsub(s, nzcv(s), r, x, y, sf, sub);
    }
    if (to_sp && !setf) {
        a64_jit_set_sp(s, insn & 31, r);
    } else {
        a64_jit_set_zr(s, insn & 31, r);
    }
}

static bool tr_addsub_reg(a64_dc *s, uint32_t insn)
{
    bool sf = JBIT(insn, 31);
    unsigned amt = JBITS(insn, 10, 6), type = JBITS(insn, 22, 2);

    if (type == 3 || (!sf && amt >= 32)) {
        return false;
    }
    addsub(s, insn, RZ(s, JBITS(insn, 5, 5)),
           shifted(s, RZ(s, JBITS(insn, 16, 5)), type, amt, sf), false);
    return true;
}

/* ExtendReg: UXTB/H/W, UXTX, SXTB/H/W, SXTX then LSL #sh. */
static tes_jit_val extended(a64_dc *s, tes_jit_val v, unsigned option, unsigned sh)
{
    static const tes_jit_opc ext[8] = {
        TES_JIT_EXT8U, TES_JIT_EXT16U, TES_JIT_EXT32U, TES_JIT_MOV,
        TES_JIT_EXT8S, TES_JIT_EXT16S, TES_JIT_EXT32S, TES_JIT_MOV,
    };

    if (ext[option] != TES_JIT_MOV) {
        v = opt(s, ext[option], v, TES_JIT_NONE, true);
    }
    return sh ? opt(s, TES_JIT_SHL, v, K(s, sh), true) : v;
}

static bool tr_addsub_ext(a64_dc *s, uint32_t insn)
{
    unsigned sh = JBITS(insn, 10, 3);

    if (JBITS(insn, 22, 2) || sh > 4) {
        return false;
    }
    addsub(s, insn, RSP(s, JBITS(insn, 5, 5)),
           extended(s, RZ(s, JBITS(insn, 16, 5)), JBITS(insn, 13, 3), sh), true);
    return true;
}

/* ADC/ADCS/SBC/SBCS: x + y' + C with y' = y or ~y (AddWithCarry). The
 * carry out is the sum's bit 32 for W forms, else a wrap in either of
 * the two additions. */
static bool tr_adc(a64_dc *s, uint32_t insn)
{
    bool sf = JBIT(insn, 31), sub = JBIT(insn, 30), setf = JBIT(insn, 29);
    tes_jit_val x = RZ(s, JBITS(insn, 5, 5)), y = RZ(s, JBITS(insn, 16, 5));
    tes_jit_val cin = opt(s, TES_JIT_AND, opt(s, TES_JIT_SHR, nzcv(s), K(s, 29), true), K(s, 1),
                          true);
    tes_jit_val r, c, v, n, z, t;

    if (JBITS(insn, 10, 6)) {
        return false; /* RMIF, SETF8/16: not in ARMv8.0 */
    }
    if (sub) {
        y = opt(s, TES_JIT_NOT, y, TES_JIT_NONE, sf);
    }
    if (sf) {
        t = opt(s, TES_JIT_ADD, x, y, true);
        r = opt(s, TES_JIT_ADD, t, cin, true);
    } else { /* 33-bit sum of the zero-extended halves */
        t = opt(s, TES_JIT_ADD, opt(s, TES_JIT_EXT32U, x, TES_JIT_NONE, true),
                opt(s, TES_JIT_EXT32U, y, TES_JIT_NONE, true), true);
        t = opt(s, TES_JIT_ADD, t, cin, true);
        r = opt(s, TES_JIT_EXT32U, t, TES_JIT_NONE, true);
    }
    if (setf) {
        if (sf) {
            tes_jit_val c1 = T(s), c2 = T(s);

            tes_jit_setcond(s->ir, TES_JIT_LTU, c1, t, x, false);
            tes_jit_setcond(s->ir, TES_JIT_LTU, c2, r, t, false);
            c = opt(s, TES_JIT_OR, c1, c2, true);
        } else {
            c = opt(s, TES_JIT_SHR, t, K(s, 32), true);
        }
        flags_nz(s, r, sf, &n, &z);
        v = opt(s, TES_JIT_AND, opt(s, TES_JIT_XOR, x, r, true), opt(s, TES_JIT_XOR, y, r, true),
                true);
        v = opt(s, TES_JIT_AND, opt(s, TES_JIT_SHR, v, K(s, sf ? 35 : 3), true), K(s, PSTATE_V),
                true);
        c = opt(s, TES_JIT_SHL, c, K(s, 29), true);
        tes_jit_op(s->ir, TES_JIT_OR, nzcv(s), opt(s, TES_JIT_OR, n, z, true),
                   opt(s, TES_JIT_OR, c, v, true));
    }
    a64_jit_set_zr(s, insn & 31, r);
    return true;
}

/* CCMN/CCMP (register and immediate): the comparison's flags when the
 * condition holds, else the immediate NZCV. */
static bool tr_condcmp(a64_dc *s, uint32_t insn)
{
    bool sf = JBIT(insn, 31), sub = JBIT(insn, 30);
    tes_jit_val x, y, r, f = T(s), a, b;
    tes_jit_cond tc;

    if (!JBIT(insn, 29) || JBIT(insn, 10) || JBIT(insn, 4)) {
        return false;
    }
    x = RZ(s, JBITS(insn, 5, 5));
    y = JBIT(insn, 11) ? K(s, JBITS(insn, 16, 5)) : RZ(s, JBITS(insn, 16, 5));
    r = opt(s, sub ? TES_JIT_SUB : TES_JIT_ADD, x, y, sf);
    flags_addsub(s, f, r, x, y, sf, sub);
    if (!cond_test(s, JBITS(insn, 12, 4), &tc, &a, &b)) {
        tes_jit_op(s->ir, TES_JIT_MOV, nzcv(s), f, TES_JIT_NONE);
        return true;
    }
    tes_jit_movcond(s->ir, tc, nzcv(s), a, b, f, K(s, (insn & 15) << 28), false);
    return true;
}

/* CSEL/CSINC/CSINV/CSNEG. */
static bool tr_condsel(a64_dc *s, uint32_t insn)
{
    bool sf = JBIT(insn, 31), inv = JBIT(insn, 30), inc = JBIT(insn, 10);
    tes_jit_val n = RZ(s, JBITS(insn, 5, 5)), m = RZ(s, JBITS(insn, 16, 5)), r = T(s), a, b;
    tes_jit_cond tc;

    if (JBIT(insn, 29) || JBIT(insn, 11)) {
        return false;
    }
    if (inv && inc) {
        m = opt(s, TES_JIT_NEG, m, TES_JIT_NONE, true);
    } else if (inv) {
        m = opt(s, TES_JIT_NOT, m, TES_JIT_NONE, true);
    } else if (inc) {
        m = opt(s, TES_JIT_ADD, m, K(s, 1), true);
    }
    if (!cond_test(s, JBITS(insn, 12, 4), &tc, &a, &b)) {
        tes_jit_op(s->ir, TES_JIT_MOV, r, n, TES_JIT_NONE);
    } else {
        tes_jit_movcond(s->ir, tc, r, a, b, n, m, false);
    }
    if (!sf) {
        r = opt(s, TES_JIT_EXT32U, r, TES_JIT_NONE, true);
    }
    a64_jit_set_zr(s, insn & 31, r);
    return true;
}

/* RBIT: bytes reversed, then the bits of each byte (nibbles, pairs,
 * bits swapped with masks). */
static tes_jit_val rbit(a64_dc *s, tes_jit_val x, bool sf)
{
    static const uint64_t masks[3] = {0x0f0f0f0f0f0f0f0full, 0x3333333333333333ull,
                                      0x5555555555555555ull};
    tes_jit_val v = opt(s, sf ? TES_JIT_BSWAP64 : TES_JIT_BSWAP32, x, TES_JIT_NONE, true);

    for (unsigned i = 0; i < 3; i++) {
        unsigned sh = 4u >> i;
        tes_jit_val hi = opt(s, TES_JIT_AND, opt(s, TES_JIT_SHR, v, K(s, sh), true),
                             K(s, masks[i]), true);
        tes_jit_val lo = opt(s, TES_JIT_SHL, opt(s, TES_JIT_AND, v, K(s, masks[i]), true),
                             K(s, sh), true);

        v = opt(s, TES_JIT_OR, hi, lo, true);
    }
    return v;
}

/* CLZ, RBIT, REV (W and X); REV16, REV32 (X), CLS: the interpreter. */
static bool tr_1src(a64_dc *s, uint32_t insn)
{
    bool sf = JBIT(insn, 31);
    unsigned op = JBITS(insn, 10, 6);
    tes_jit_val x = RZ(s, JBITS(insn, 5, 5));

    if (JBIT(insn, 29) || JBITS(insn, 16, 5)) {
        return false;
    }
    if (op == 0) {
        a64_jit_set_zr(s, insn & 31, rbit(s, x, sf));
    } else if (op == 4) {
        a64_jit_set_zr(s, insn & 31, opt(s, TES_JIT_CLZ, x, TES_JIT_NONE, sf));
    } else if (op == 2 && !sf) {
        a64_jit_set_zr(s, insn & 31, opt(s, TES_JIT_BSWAP32, x, TES_JIT_NONE, true));
    } else if (op == 3 && sf) {
        a64_jit_set_zr(s, insn & 31, opt(s, TES_JIT_BSWAP64, x, TES_JIT_NONE, true));
    } else {
        return false;
    }
    return true;
}

/* LSLV/LSRV/ASRV/RORV (the IR takes counts modulo the width, as A64
 * does); divisions and CRC32 stay with the interpreter. */
static bool tr_2src(a64_dc *s, uint32_t insn)
{
    static const tes_jit_opc ops[4] = {TES_JIT_SHL, TES_JIT_SHR, TES_JIT_SAR, TES_JIT_ROTR};
    bool sf = JBIT(insn, 31);
    unsigned op = JBITS(insn, 10, 6);

    if (JBIT(insn, 29) || op < 8 || op > 11) {
        return false;
    }
    a64_jit_set_zr(s, insn & 31, opt(s, ops[op - 8], RZ(s, JBITS(insn, 5, 5)),
                                     RZ(s, JBITS(insn, 16, 5)), sf));
    return true;
}

/* MADD/MSUB, SMADDL/SMSUBL, UMADDL/UMSUBL, SMULH, UMULH. */
static bool tr_3src(a64_dc *s, uint32_t insn)
{
    bool sf = JBIT(insn, 31), sub = JBIT(insn, 15);
    unsigned op31 = JBITS(insn, 21, 3);
    tes_jit_val n = RZ(s, JBITS(insn, 5, 5)), m = RZ(s, JBITS(insn, 16, 5)), p;

    if (JBITS(insn, 29, 2) || (op31 != 0 && !sf)) {
        return false;
    }
    switch (op31) {
    case 0:
        p = opt(s, TES_JIT_MUL, n, m, sf);
        break;
    case 1:
    case 5: {
        tes_jit_opc e = op31 == 1 ? TES_JIT_EXT32S : TES_JIT_EXT32U;

        p = opt(s, TES_JIT_MUL, opt(s, e, n, TES_JIT_NONE, true), opt(s, e, m, TES_JIT_NONE, true),
                true);
        break;
    }
    case 2:
    case 6:
        if (sub) {
            return false;
        }
        a64_jit_set_zr(s, insn & 31,
                       opt(s, op31 == 2 ? TES_JIT_MULSH : TES_JIT_MULUH, n, m, true));
        return true;
    default:
        return false;
    }
    a64_jit_set_zr(s, insn & 31,
                   opt(s, sub ? TES_JIT_SUB : TES_JIT_ADD, RZ(s, JBITS(insn, 10, 5)), p, sf));
    return true;
}

bool a64_jit_dp_reg(a64_dc *s, uint32_t insn)
{
    unsigned op2 = JBITS(insn, 21, 4);

    if (!JBIT(insn, 28)) {
        if (!(op2 & 8)) {
            return tr_logic_reg(s, insn);
        }
        return (op2 & 1) ? tr_addsub_ext(s, insn) : tr_addsub_reg(s, insn);
    }
    if (op2 & 8) {
        return tr_3src(s, insn);
    } else if (op2 == 0) {
        return tr_adc(s, insn);
    } else if (op2 == 2) {
        return tr_condcmp(s, insn);
    } else if (op2 == 4) {
        return tr_condsel(s, insn);
    } else if (op2 == 6) {
        return JBIT(insn, 30) ? tr_1src(s, insn) : tr_2src(s, insn);
    }
    return false; /* unallocated: the interpreter */
}
