/*
 * cpu-x86: inline translation of the hot integer instructions: MOV forms,
 * MOVZX/MOVSX/MOVSXD, LEA, ADD/ADC/SUB/SBB/AND/OR/XOR/CMP/TEST, INC/DEC,
 * NEG/NOT, MUL/IMUL (DIV/IDIV through a helper), shifts and rotates by a
 * constant, shifts of a register by CL, BSF/BSR, BT/BTS/BTR/BTC, CMPXCHG,
 * BSWAP, CBW/CWD families, XCHG, NOP.
 *
 * Each one performs the interpreter's steps in the interpreter's order
 * (exec-int.c): a memory write that faults leaves registers and lazy
 * flags exactly as x86_exec_insn would. Everything else, and the memory
 * forms outside 64-bit mode, return false and go to the fallback.
 */
#include "x86-jit.h"

static bool rotate(jit_tr *t, unsigned size, unsigned op, unsigned count);
static bool mul_acc(jit_tr *t, bool sign);

/* ADD OR ADC SBB AND SUB XOR CMP (group-1 order). */
static bool alu(jit_tr *t, unsigned op, unsigned size, tes_jit_val a, tes_jit_val b,
                tes_jit_val cin, tes_jit_val *res)
{
    static const tes_jit_opc opc[8] = {TES_JIT_ADD, TES_JIT_OR, TES_JIT_ADD, TES_JIT_SUB,
                                       TES_JIT_AND, TES_JIT_SUB, TES_JIT_XOR, TES_JIT_SUB};
    tes_jit_val r = jt_tmp(t);

    if (op == 2 || op == 3) { /* ADC SBB: cin is CF before the instruction */
        jt_op(t, opc[op], r, a, b);
        jt_op(t, opc[op], r, r, cin);
        jt_zext(t, size, r, r);
        jt_set_cc(t, op == 2 ? CC_OP_ADC : CC_OP_SBB, size, r, b);
        jt_op(t, TES_JIT_MOV, t->cc_src2, cin, TES_JIT_NONE);
        *res = r;
        return true;
    }
    jt_op(t, opc[op], r, a, b);
    if (op == 0 || op == 5 || op == 7) {
        jt_zext(t, size, r, r);
        jt_set_cc(t, op == 0 ? CC_OP_ADD : CC_OP_SUB, size, r, b);
    } else {
        jt_set_cc(t, CC_OP_LOGIC, size, r, jt_const(t, 0));
    }
    *res = r;
    return true;
}

/* op E,G (dir 0), op G,E (dir 1), or op E,imm (b given). */
static bool alu_rm(jit_tr *t, unsigned op, unsigned size, int dir, tes_jit_val imm)
{
    const x86_insn *x = &t->x;
    tes_jit_val a, b, r, la = TES_JIT_NONE, cin = TES_JIT_NONE;

    if ((op == 2 || op == 3) && dir == 0 && x->rm_is_mem) {
        /* ADC SBB to memory set the flags they read before storing: the
         * fallback (a store left to the interpreter must be repeatable) */
        return false;
    }
    if (op == 2 || op == 3) {
        cin = jt_cf_first(t);
    }
    if (dir == 0) {
        a = jt_rm_get(t, size, &la);
        b = imm != TES_JIT_NONE ? imm : jt_reg_get(t, x->reg, size);
        alu(t, op, size, a, b, cin, &r);
        if (op != 7) {
            jt_rm_set(t, size, r, la);
        }
        return true;
    }
    b = jt_rm_get(t, size, NULL);
    a = jt_reg_get(t, x->reg, size);
    alu(t, op, size, a, b, cin, &r);
    if (op != 7) {
        jt_reg_set(t, x->reg, size, r);
    }
    return true;
}

/* 00-3F: the ALU rows (forms 0-5). */
static bool tr_alu(jit_tr *t)
{
    const x86_insn *x = &t->x;
    unsigned op = (x->op >> 3) & 7, form = x->op & 7;
    unsigned size = (form & 1) ? x->opsize : 1;
    tes_jit_val r, cin;

    if (form < 4) {
        return alu_rm(t, op, size, form >> 1, TES_JIT_NONE);
    }
    cin = (op == 2 || op == 3) ? jt_cf_first(t) : TES_JIT_NONE;
    alu(t, op, size, jt_reg_get(t, R_EAX, size), jt_const(t, x->imm & size_mask(size)), cin, &r);
    if (op != 7) {
        jt_reg_set(t, R_EAX, size, r);
    }
    return true;
}

static void test(jit_tr *t, unsigned size, tes_jit_val a, tes_jit_val b)
{
    tes_jit_val r = jt_tmp(t);

    jt_op(t, TES_JIT_AND, r, a, b);
    jt_set_cc(t, CC_OP_LOGIC, size, r, jt_const(t, 0));
}

/* INC/DEC of the r/m operand (FE/FF /0 /1) or a register (40-4F outside
 * 64-bit mode): CF is kept in cc_src2. */
static bool inc_dec(jit_tr *t, unsigned size, bool dec, int reg)
{
    tes_jit_val v, cf, r, la = TES_JIT_NONE;

    cf = jt_cf_first(t); /* first: it may branch */
    r = jt_tmp(t);
    v = reg >= 0 ? jt_reg_get(t, reg, size) : jt_rm_get(t, size, &la);
    jt_op(t, dec ? TES_JIT_SUB : TES_JIT_ADD, r, v, jt_const(t, 1));
    jt_zext(t, size, r, r);
    if (reg >= 0) {
        jt_reg_set(t, reg, size, r);
    } else {
        jt_rm_set(t, size, r, la); /* the interpreter sets flags once written */
    }
    jt_set_cc(t, dec ? CC_OP_DEC : CC_OP_INC, size, r, jt_const(t, 0));
    jt_op(t, TES_JIT_MOV, t->cc_src2, cf, TES_JIT_NONE);
    return true;
}

/* F6/F7: TEST NOT NEG (MUL IMUL DIV IDIV: the fallback). */
static bool tr_grp3(jit_tr *t)
{
    const x86_insn *x = &t->x;
    unsigned size = x->op == 0xf6 ? 1 : x->opsize, op = x->reg & 7;
    tes_jit_val v, r, la = TES_JIT_NONE;

    if (op <= 1) {
        test(t, size, jt_rm_get(t, size, NULL), jt_const(t, x->imm & size_mask(size)));
        return true;
    }
    if (op == 4 || op == 5) {
        return mul_acc(t, op == 5);
    }
    if (op >= 6) { /* DIV IDIV: a helper, which may raise #DE */
        tes_jit_val args[3];

        args[1] = jt_rm_get(t, size, NULL);
        args[0] = t->env;
        args[2] = jt_const(t, size | (op == 7 ? 0x100u : 0));
        x86_jit_set_rip(t, t->rip);
        tes_jit_call(t->ir, (const void *)x86_jit_helper_div, TES_JIT_CALL_EXIT, TES_JIT_NONE,
                     3, args);
        return true;
    }
    v = jt_rm_get(t, size, &la);
    r = jt_tmp(t);
    jt_op(t, op == 2 ? TES_JIT_NOT : TES_JIT_NEG, r, v, TES_JIT_NONE);
    jt_zext(t, size, r, r);
    jt_rm_set(t, size, r, la);
    if (op == 3) {
        jt_set_cc(t, CC_OP_SUB, size, r, v); /* 0 - v, once written */
    }
    return true;
}

/* SHL/SHR/SAR by a constant (C0 C1 D0 D1 /4 /5 /6 /7). */
static bool tr_shift(jit_tr *t)
{
    const x86_insn *x = &t->x;
    unsigned size = (x->op & 1) ? x->opsize : 1, op = x->reg & 7;
    unsigned n = x->op <= 0xc1 ? (unsigned)x->imm : 1;
    tes_jit_val v, s, r, cs, la = TES_JIT_NONE;

    if (op >= 2 && op < 4) {
        return false; /* RCL RCR */
    }
    n &= size == 8 ? 0x3f : 0x1f;
    if (op < 2 && n != 0) {
        return rotate(t, size, op, n);
    }
    v = jt_rm_get(t, size, &la);
    if (n == 0) {
        if (!x->rm_is_mem) {
            jt_reg_set(t, x->rm, size, v); /* a 32-bit register still zero-extends */
        }
        return true;
    }
    s = v;
    if (op == 7) {
        s = jt_tmp(t);
        jt_sext(t, size, s, v);
    }
    r = jt_tmp(t);
    cs = jt_tmp(t);
    jt_op(t, op == 5 ? TES_JIT_SHR : op == 7 ? TES_JIT_SAR : TES_JIT_SHL, r, s,
          jt_const(t, n));
    jt_zext(t, size, r, r);
    jt_op(t, op == 5 ? TES_JIT_SHR : op == 7 ? TES_JIT_SAR : TES_JIT_SHL, cs, s,
          jt_const(t, n - 1));
    jt_set_cc(t, (op == 5 || op == 7) ? CC_OP_SAR : CC_OP_SHL, size, r, cs);
    jt_rm_set(t, size, r, la);
    return true;
}

/* ROL/ROR by a constant: CF and OF into the materialised flags. */
static bool rotate(jit_tr *t, unsigned size, unsigned op, unsigned count)
{
    unsigned bits = size * 8, n = count & (bits - 1);
    tes_jit_val la = TES_JIT_NONE, v = jt_rm_get(t, size, &la), r = jt_tmp(t);
    tes_jit_val cf = jt_tmp(t), of = jt_tmp(t), f;

    if (n == 0) {
        jt_op(t, TES_JIT_MOV, r, v, TES_JIT_NONE);
    } else if (size >= 4) {
        (size == 8 ? tes_jit_op : tes_jit_op32)(t->ir, op ? TES_JIT_ROTR : TES_JIT_ROTL, r, v,
                                                jt_const(t, n));
    } else {
        tes_jit_val w = jt_tmp(t);

        jt_op(t, TES_JIT_SHL, r, v, jt_const(t, op ? bits - n : n));
        jt_op(t, TES_JIT_SHR, w, v, jt_const(t, op ? n : bits - n));
        jt_op(t, TES_JIT_OR, r, r, w);
        jt_zext(t, size, r, r);
    }
    jt_op(t, TES_JIT_SHR, of, r, jt_const(t, bits - 1)); /* msb */
    if (op == 0) {
        jt_op(t, TES_JIT_AND, cf, r, jt_const(t, 1));
        jt_op(t, TES_JIT_XOR, of, of, cf);
    } else {
        jt_op(t, TES_JIT_MOV, cf, of, TES_JIT_NONE);
        jt_op(t, TES_JIT_SHR, of, r, jt_const(t, bits - 2));
        jt_op(t, TES_JIT_XOR, of, of, cf);
        jt_op(t, TES_JIT_AND, of, of, jt_const(t, 1));
    }
    if (!jt_flags_dead(t)) { /* hashes rotate then XOR: mostly dead */
        f = jt_flags(t);
        jt_op(t, TES_JIT_AND, f, f, jt_const(t, ~(uint64_t)(F_CF | F_OF)));
        jt_op(t, TES_JIT_OR, f, f, cf);
        jt_op(t, TES_JIT_SHL, of, of, jt_const(t, 11));
        jt_op(t, TES_JIT_OR, f, f, of);
        jt_put_arith(t, f);
    }
    jt_rm_set(t, size, r, la);
    return true;
}

/* SHL/SHR/SAR of a register by CL: a zero count keeps the flags (the
 * lazy state is selected, so cc_op is no longer known here). */
static bool shift_cl(jit_tr *t, unsigned size, unsigned op)
{
    tes_jit_val v, s, cnt = jt_tmp(t), c1 = jt_tmp(t), r = jt_tmp(t), cs = jt_tmp(t);
    tes_jit_val z = jt_const(t, 0);
    tes_jit_opc sh = op == 5 ? TES_JIT_SHR : op == 7 ? TES_JIT_SAR : TES_JIT_SHL;
    int64_t ccop = (int64_t)((op == 5 || op == 7) ? CC_OP_SAR : CC_OP_SHL) << 2 | size_log2(size);

    if (op < 4 || t->x.rm_is_mem) {
        return false;
    }
    v = jt_reg_get(t, t->x.rm, size);
    s = v;
    if (op == 7) {
        s = jt_tmp(t);
        jt_sext(t, size, s, v);
    }
    jt_op(t, TES_JIT_AND, cnt, jt_reg(t, R_ECX), jt_const(t, size == 8 ? 0x3f : 0x1f));
    jt_op(t, TES_JIT_SUB, c1, cnt, jt_const(t, 1));
    jt_op(t, sh, r, s, cnt);
    jt_zext(t, size, r, r);
    jt_op(t, sh, cs, s, c1);
    tes_jit_movcond(t->ir, TES_JIT_EQ, t->cc_op, cnt, z, t->cc_op, jt_const(t, (uint64_t)ccop),
                    false);
    tes_jit_movcond(t->ir, TES_JIT_EQ, t->cc_dst, cnt, z, t->cc_dst, r, false);
    tes_jit_movcond(t->ir, TES_JIT_EQ, t->cc_src, cnt, z, t->cc_src, cs, false);
    tes_jit_movcond(t->ir, TES_JIT_EQ, r, cnt, z, v, r, false);
    jt_reg_set(t, t->x.rm, size, r);
    t->cc_known = -1;
    return true;
}

/* SHLD/SHRD of a register (0F A4 A5 AC AD), 32 and 64 bits, the values
 * exec_shiftd computes (result, and the lazy source: the destination
 * shifted by count - 1, for CC_OP_SHL/SAR). A zero count (CL) keeps
 * flags and value, as shift_cl. */
static bool shiftd(jit_tr *t)
{
    const x86_insn *x = &t->x;
    unsigned size = x->opsize, mask = size == 8 ? 0x3f : 0x1f;
    bool right = x->op >= 0x0fac, by_cl = x->op & 1;
    tes_jit_opc fwd = right ? TES_JIT_SHR : TES_JIT_SHL;
    int64_t ccop = (int64_t)(right ? CC_OP_SAR : CC_OP_SHL) << 2 | size_log2(size);
    tes_jit_val d, s, cnt, c1 = jt_tmp(t), r = jt_tmp(t), tt = jt_tmp(t), z = jt_const(t, 0);

    if (x->rm_is_mem || size < 4 || (!by_cl && (x->imm & mask) == 0)) {
        return false;
    }
    d = jt_reg_get(t, x->rm, size);
    s = jt_reg_get(t, x->reg, size);
    if (by_cl) {
        cnt = jt_tmp(t);
        jt_op(t, TES_JIT_AND, cnt, jt_reg(t, R_ECX), jt_const(t, mask));
    } else {
        cnt = jt_const(t, x->imm & mask);
    }
    jt_op(t, TES_JIT_SUB, c1, cnt, jt_const(t, 1));
    if (size == 8) {
        tes_jit_val a = jt_tmp(t), b = jt_tmp(t), inv = jt_tmp(t);

        jt_op(t, TES_JIT_SUB, inv, jt_const(t, 64), cnt);
        jt_op(t, fwd, a, d, cnt);
        jt_op(t, right ? TES_JIT_SHL : TES_JIT_SHR, b, s, inv);
        jt_op(t, TES_JIT_OR, r, a, b);
        jt_op(t, fwd, tt, d, c1);
    } else {
        tes_jit_val cat = jt_tmp(t);

        jt_op(t, TES_JIT_SHL, cat, right ? s : d, jt_const(t, 32));
        jt_op(t, TES_JIT_OR, cat, cat, right ? d : s);
        jt_op(t, fwd, r, cat, cnt);
        jt_op(t, fwd, tt, cat, c1);
        if (right) {
            jt_op(t, TES_JIT_EXT32U, r, r, TES_JIT_NONE);
        } else {
            jt_op(t, TES_JIT_SHR, r, r, jt_const(t, 32));
            jt_op(t, TES_JIT_SHR, tt, tt, jt_const(t, 32));
        }
    }
    if (!by_cl) {
        jt_set_cc(t, right ? CC_OP_SAR : CC_OP_SHL, size, r, tt);
        jt_reg_set(t, x->rm, size, r);
        return true;
    }
    tes_jit_movcond(t->ir, TES_JIT_EQ, t->cc_op, cnt, z, t->cc_op, jt_const(t, (uint64_t)ccop),
                    false);
    tes_jit_movcond(t->ir, TES_JIT_EQ, t->cc_dst, cnt, z, t->cc_dst, r, false);
    tes_jit_movcond(t->ir, TES_JIT_EQ, t->cc_src, cnt, z, t->cc_src, tt, false);
    tes_jit_movcond(t->ir, TES_JIT_EQ, r, cnt, z, d, r, false);
    jt_reg_set(t, x->rm, size, r);
    t->cc_known = -1;
    return true;
}

/* BSF/BSR (without F3: TZCNT/LZCNT stay in the interpreter): ZF from the
 * source, the destination kept (but written) when it is zero. */
static bool bsf_bsr(jit_tr *t, bool rev)
{
    unsigned size = t->x.opsize;
    tes_jit_val v, cur, r = jt_tmp(t);

    if (t->x.rep) {
        return false;
    }
    v = jt_rm_get(t, size, NULL);
    cur = jt_reg_get(t, t->x.reg, size);
    if (rev) {
        jt_op(t, TES_JIT_CLZ, r, v, TES_JIT_NONE);
        jt_op(t, TES_JIT_XOR, r, r, jt_const(t, 63)); /* 63 - clz */
    } else {
        jt_op(t, TES_JIT_CTZ, r, v, TES_JIT_NONE);
    }
    tes_jit_movcond(t->ir, TES_JIT_EQ, r, v, jt_const(t, 0), cur, r, false);
    jt_reg_set(t, t->x.reg, size, r);
    jt_set_cc(t, CC_OP_LOGIC, size, v, jt_const(t, 0));
    return true;
}

/* BT BTS BTR BTC with an immediate (0F BA /4-7) or a register bit offset
 * on a register (0F A3 AB B3 BB, mod 3): CF = the bit. */
static bool bit_test(jit_tr *t, unsigned op, bool imm)
{
    unsigned size = t->x.opsize;
    tes_jit_val la = TES_JIT_NONE, v, bit = jt_tmp(t), mask = jt_tmp(t), r = jt_tmp(t), f;
    tes_jit_val cf = jt_tmp(t);

    if (!imm && t->x.rm_is_mem) {
        return false; /* the offset reaches beyond the operand */
    }
    if (imm) {
        jt_op(t, TES_JIT_MOV, bit, jt_const(t, t->x.imm & (size * 8 - 1)), TES_JIT_NONE);
    } else {
        jt_op(t, TES_JIT_AND, bit, jt_reg(t, t->x.reg), jt_const(t, size * 8 - 1));
    }
    v = jt_rm_get(t, size, &la);
    jt_op(t, TES_JIT_SHL, mask, jt_const(t, 1), bit);
    switch (op) {
    case 1: jt_op(t, TES_JIT_OR, r, v, mask); break;
    case 2: jt_op(t, TES_JIT_ANDC, r, v, mask); break;
    case 3: jt_op(t, TES_JIT_XOR, r, v, mask); break;
    default: break;
    }
    if (op) {
        jt_rm_set(t, size, r, la);
    }
    if (jt_flags_dead(t)) {
        return true;
    }
    jt_op(t, TES_JIT_SHR, cf, v, bit);
    jt_op(t, TES_JIT_AND, cf, cf, jt_const(t, 1));
    f = jt_flags(t);
    jt_op(t, TES_JIT_AND, f, f, jt_const(t, ~(uint64_t)F_CF));
    jt_op(t, TES_JIT_OR, f, f, cf);
    jt_put_arith(t, f);
    return true;
}

/* The 64-bit value of a register after writing v to its low size bytes. */
static tes_jit_val merged(jit_tr *t, int reg, unsigned size, tes_jit_val v)
{
    tes_jit_val m = jt_tmp(t), x = jt_tmp(t);

    if (size >= 4) {
        jt_zext(t, size, m, v);
        return m;
    }
    jt_zext(t, size, x, v);
    jt_op(t, TES_JIT_AND, m, jt_reg(t, reg), jt_const(t, ~size_mask(size)));
    jt_op(t, TES_JIT_OR, m, m, x);
    return m;
}

/* CMPXCHG r/m, r (0F B0 B1): memory is written either way (the locked
 * cycle writes the old value back); rAX takes the old value on a miss. */
static bool cmpxchg(jit_tr *t)
{
    const x86_insn *x = &t->x;
    unsigned size = x->op == 0x0fb0 ? 1 : x->opsize;
    tes_jit_val la = TES_JIT_NONE, a, d, s, nv = jt_tmp(t), nax, r = jt_tmp(t);

    if (size == 1 && !x->has_rex && ((x->reg & 7) >= 4 || (!x->rm_is_mem && x->rm >= 4))) {
        return false; /* AH..BH: the interpreter */
    }
    a = jt_reg_get(t, R_EAX, size);
    d = jt_rm_get(t, size, &la);
    s = jt_reg_get(t, x->reg, size);
    if (x->rm_is_mem) {
        tes_jit_movcond(t->ir, TES_JIT_EQ, nv, a, d, s, d, false);
        jt_rm_set(t, size, nv, la);
    } else { /* a register is written on a match only */
        tes_jit_movcond(t->ir, TES_JIT_EQ, jt_reg(t, x->rm), a, d, merged(t, x->rm, size, s),
                        jt_reg(t, x->rm), false);
    }
    nax = merged(t, R_EAX, size, d);
    tes_jit_movcond(t->ir, TES_JIT_EQ, jt_reg(t, R_EAX), a, d, jt_reg(t, R_EAX), nax, false);
    jt_op(t, TES_JIT_SUB, r, a, d);
    jt_zext(t, size, r, r);
    jt_set_cc(t, CC_OP_SUB, size, r, d);
    return true;
}

/* MUL/IMUL rDX:rAX = rAX * r/m (F6/F7 /4 /5; AX for bytes). */
static bool mul_acc(jit_tr *t, bool sign)
{
    unsigned size = t->x.op == 0xf6 ? 1 : t->x.opsize;
    tes_jit_val v = jt_rm_get(t, size, NULL), a = jt_reg_get(t, R_EAX, size);
    tes_jit_val lo = jt_tmp(t), hi = jt_tmp(t), big = jt_tmp(t), chk = jt_tmp(t);

    if (size == 8) {
        jt_op(t, TES_JIT_MUL, lo, a, v);
        jt_op(t, sign ? TES_JIT_MULSH : TES_JIT_MULUH, hi, a, v);
        if (sign) {
            jt_op(t, TES_JIT_SAR, chk, lo, jt_const(t, 63));
            tes_jit_setcond(t->ir, TES_JIT_NE, big, hi, chk, false);
        } else {
            tes_jit_setcond(t->ir, TES_JIT_NE, big, hi, jt_const(t, 0), false);
        }
    } else {
        tes_jit_val p = jt_tmp(t);

        if (sign) {
            jt_sext(t, size, a, a);
            jt_sext(t, size, v, v);
        }
        jt_op(t, TES_JIT_MUL, p, a, v);
        jt_zext(t, size, lo, p);
        jt_op(t, TES_JIT_SHR, hi, p, jt_const(t, size * 8));
        jt_zext(t, size, hi, hi);
        if (sign) {
            jt_sext(t, size, chk, p);
            tes_jit_setcond(t->ir, TES_JIT_NE, big, p, chk, false);
        } else {
            tes_jit_setcond(t->ir, TES_JIT_NE, big, hi, jt_const(t, 0), false);
        }
        if (size == 1) {
            jt_zext(t, 2, p, p);
            jt_reg_set(t, R_EAX, 2, p);
        }
    }
    if (size > 1) {
        jt_reg_set(t, R_EAX, size, lo);
        jt_reg_set(t, R_EDX, size, hi);
    }
    jt_set_cc(t, CC_OP_MUL, size, lo, big);
    return true;
}

/* IMUL with a truncated result (0F AF, 69, 6B): cc_src = overflow. */
static bool imul(jit_tr *t, tes_jit_val a, tes_jit_val b)
{
    unsigned size = t->x.opsize;
    tes_jit_val lo = jt_tmp(t), chk = jt_tmp(t), ov = jt_tmp(t);

    if (size == 8) {
        tes_jit_val hi = jt_tmp(t);

        jt_op(t, TES_JIT_MUL, lo, a, b);
        jt_op(t, TES_JIT_MULSH, hi, a, b);
        jt_op(t, TES_JIT_SAR, chk, lo, jt_const(t, 63));
        tes_jit_setcond(t->ir, TES_JIT_NE, ov, hi, chk, false);
    } else {
        tes_jit_val sa = jt_tmp(t), sb = jt_tmp(t), p = jt_tmp(t);

        jt_sext(t, size, sa, a);
        jt_sext(t, size, sb, b);
        jt_op(t, TES_JIT_MUL, p, sa, sb);
        jt_sext(t, size, chk, p);
        tes_jit_setcond(t->ir, TES_JIT_NE, ov, p, chk, false);
        jt_zext(t, size, lo, p);
    }
    jt_set_cc(t, CC_OP_MUL, size, lo, ov);
    jt_reg_set(t, t->x.reg, size, lo);
    return true;
}

/* MOVZX MOVSX MOVSXD: from bytes of r/m to the operand size. */
static bool movx(jit_tr *t, unsigned from, bool sign)
{
    tes_jit_val v = jt_rm_get(t, from, NULL);

    if (sign) {
        jt_sext(t, from, v, v);
    }
    jt_reg_set(t, t->x.reg, t->x.opsize, v);
    return true;
}

static bool xchg(jit_tr *t, unsigned size)
{
    tes_jit_val la = TES_JIT_NONE, a = jt_rm_get(t, size, &la);
    tes_jit_val b = jt_reg_get(t, t->x.reg, size);

    jt_rm_set(t, size, b, la);
    jt_reg_set(t, t->x.reg, size, a);
    return true;
}

static bool xchg_rax(jit_tr *t, int r)
{
    unsigned size = t->x.opsize;
    tes_jit_val a = jt_reg_get(t, r, size), b = jt_reg_get(t, R_EAX, size);

    jt_reg_set(t, r, size, b);
    jt_reg_set(t, R_EAX, size, a);
    return true;
}

/* CBW/CWDE/CDQE (98), CWD/CDQ/CQO (99). */
static bool convert(jit_tr *t)
{
    unsigned size = t->x.opsize;
    tes_jit_val v = jt_tmp(t);

    if (t->x.op == 0x98) {
        jt_sext(t, size / 2, v, jt_reg(t, R_EAX));
        jt_reg_set(t, R_EAX, size, v);
        return true;
    }
    jt_sext(t, size, v, jt_reg(t, R_EAX));
    jt_op(t, TES_JIT_SAR, v, v, jt_const(t, 63));
    jt_reg_set(t, R_EDX, size, v);
    return true;
}

static bool mov_rm(jit_tr *t)
{
    const x86_insn *x = &t->x;
    unsigned size = (x->op & 1) ? x->opsize : 1;

    if (x->op <= 0x89) {
        jt_rm_set(t, size, jt_reg_get(t, x->reg, size), TES_JIT_NONE);
    } else {
        jt_reg_set(t, x->reg, size, jt_rm_get(t, size, NULL));
    }
    return true;
}

static bool mov_moffs(jit_tr *t)
{
    const x86_insn *x = &t->x;
    unsigned size = (x->op & 1) ? x->opsize : 1;
    tes_jit_val la = jt_ea(t), v;

    if (x->op <= 0xa1) {
        v = jt_tmp(t);
        jt_ld(t, v, la, size, x->seg);
        jt_reg_set(t, R_EAX, size, v);
    } else {
        jt_st(t, jt_reg_get(t, R_EAX, size), la, size, x->seg);
    }
    return true;
}

/* BSWAP r (0F C8+r): 16-bit operands give 0, as QEMU and hardware. */
static bool bswap(jit_tr *t)
{
    int r = (t->x.op & 7) | ((t->x.rex & 1) << 3);
    unsigned size = t->x.opsize;

    if (size == 2) {
        jt_reg_set(t, r, 2, jt_const(t, 0));
        return true;
    }
    tes_jit_op(t->ir, size == 8 ? TES_JIT_BSWAP64 : TES_JIT_BSWAP32, jt_reg(t, r), jt_reg(t, r),
               TES_JIT_NONE);
    return true;
}

static bool tr_0f(jit_tr *t)
{
    const x86_insn *x = &t->x;

    if ((x->op & 0xff) >= 0xc8 && (x->op & 0xff) <= 0xcf) {
        return bswap(t);
    }
    switch (x->op & 0xff) {
    case 0xb6: return movx(t, 1, false);
    case 0xb7: return movx(t, 2, false);
    case 0xbe: return movx(t, 1, true);
    case 0xbf: return movx(t, 2, true);
    case 0xaf:
        return imul(t, jt_reg_get(t, x->reg, x->opsize), jt_rm_get(t, x->opsize, NULL));
    case 0x1f:
        return true; /* NOP Ev: no access */
    case 0xbc: case 0xbd:
        return bsf_bsr(t, (x->op & 0xff) == 0xbd);
    case 0xba:
        return (x->reg & 7) >= 4 && bit_test(t, x->reg & 3, true);
    case 0xa3: return bit_test(t, 0, false);
    case 0xab: return bit_test(t, 1, false);
    case 0xb3: return bit_test(t, 2, false);
    case 0xbb: return bit_test(t, 3, false);
    case 0xb0: case 0xb1:
        return cmpxchg(t);
    case 0xa4: case 0xa5: case 0xac: case 0xad:
        return shiftd(t);
    default:
        return false;
    }
}

static bool tr_1(jit_tr *t)
{
    const x86_insn *x = &t->x;
    unsigned op = x->op;

    switch (op) {
    case 0x80: case 0x82:
        return alu_rm(t, x->reg & 7, 1, 0, jt_const(t, x->imm & 0xff));
    case 0x81: case 0x83:
        return alu_rm(t, x->reg & 7, x->opsize, 0,
                      jt_const(t, x->imm & size_mask(x->opsize)));
    case 0x84: case 0x85: {
        unsigned size = op == 0x84 ? 1 : x->opsize;

        test(t, size, jt_rm_get(t, size, NULL), jt_reg_get(t, x->reg, size));
        return true;
    }
    case 0x86: return xchg(t, 1);
    case 0x87: return xchg(t, x->opsize);
    case 0x88: case 0x89: case 0x8a: case 0x8b: return mov_rm(t);
    case 0x8d:
        if (!x->rm_is_mem) {
            return false; /* #UD */
        }
        jt_reg_set(t, x->reg, x->opsize, jt_ea_offset(t));
        return true;
    case 0x63:
        return t->c->code_bits == 64 && movx(t, x->opsize == 8 ? 4 : x->opsize, x->opsize == 8);
    case 0x69: case 0x6b:
        return imul(t, jt_rm_get(t, x->opsize, NULL), jt_const(t, x->imm));
    case 0x90:
        return (x->rex & 1) ? xchg_rax(t, R_R8) : true;
    case 0x98: case 0x99: return convert(t);
    case 0xa0: case 0xa1: case 0xa2: case 0xa3: return mov_moffs(t);
    case 0xa8: case 0xa9: {
        unsigned size = op == 0xa8 ? 1 : x->opsize;

        test(t, size, jt_reg_get(t, R_EAX, size), jt_const(t, x->imm & size_mask(size)));
        return true;
    }
    case 0xc0: case 0xc1: case 0xd0: case 0xd1: return tr_shift(t);
    case 0xd2: case 0xd3:
        return shift_cl(t, op == 0xd2 ? 1 : x->opsize, x->reg & 7);
    case 0xc6: case 0xc7:
        if ((x->reg & 7) != 0) {
            return false;
        }
        jt_rm_set(t, op == 0xc6 ? 1 : x->opsize, jt_const(t, x->imm), TES_JIT_NONE);
        return true;
    case 0xf6: case 0xf7: return tr_grp3(t);
    case 0xfe:
        return (x->reg & 7) <= 1 && inc_dec(t, 1, (x->reg & 7) == 1, -1);
    case 0xff:
        return (x->reg & 7) <= 1 && inc_dec(t, x->opsize, (x->reg & 7) == 1, -1);
    default:
        return false;
    }
}

bool x86_jit_int(jit_tr *t)
{
    const x86_insn *x = &t->x;
    unsigned op = x->op;

    if (x->rm_is_mem && !jt_mem_ok(t)) {
        return false;
    }
    if (op < 0x40 && (op & 7) < 6) {
        return tr_alu(t);
    }
    if (op >= 0x40 && op <= 0x4f) {
        return inc_dec(t, x->opsize, op >= 0x48, op & 7); /* outside 64-bit mode */
    }
    if (op >= 0xb0 && op <= 0xbf) {
        int r = (op & 7) | ((x->rex & 1) << 3);

        jt_reg_set(t, r, op < 0xb8 ? 1 : x->opsize, jt_const(t, x->imm));
        return true;
    }
    if (op >= 0x91 && op <= 0x97) {
        return xchg_rax(t, (op & 7) | ((x->rex & 1) << 3));
    }
    if (op < 0x100) {
        return tr_1(t);
    }
    if (op < 0x1000) {
        return tr_0f(t);
    }
    return false;
}
