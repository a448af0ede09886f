/*
 * cpu-x86: IR building blocks of the translator: register operands with
 * x86's partial-register rules, memory operands through the soft TLB,
 * lazy flags and condition codes.
 *
 * Flags stay lazy exactly as in the interpreter (exec.h): an inline
 * instruction stores the same cc_op/cc_dst/cc_src (cc_src2) values the
 * interpreter would, so a fault, a fallback call or the end of the block
 * sees the same state. When the block itself set cc_op earlier, a
 * condition is computed inline from cc_dst/cc_src; otherwise a helper
 * evaluates it from the values (flags.c's x86_cond_of).
 */
#include "x86-jit.h"

tes_jit_val jt_tmp(jit_tr *t)
{
    return tes_jit_temp(t->ir);
}

tes_jit_val jt_const(jit_tr *t, uint64_t v)
{
    return tes_jit_const(t->ir, v);
}

void jt_op(jit_tr *t, tes_jit_opc op, tes_jit_val d, tes_jit_val a, tes_jit_val b)
{
    tes_jit_op(t->ir, op, d, a, b);
}

void jt_zext(jit_tr *t, unsigned size, tes_jit_val d, tes_jit_val a)
{
    static const tes_jit_opc ext[4] = {TES_JIT_EXT8U, TES_JIT_EXT16U, TES_JIT_EXT32U,
                                       TES_JIT_MOV};

    tes_jit_op(t->ir, ext[size_log2(size)], d, a, TES_JIT_NONE);
}

void jt_sext(jit_tr *t, unsigned size, tes_jit_val d, tes_jit_val a)
{
    static const tes_jit_opc ext[4] = {TES_JIT_EXT8S, TES_JIT_EXT16S, TES_JIT_EXT32S,
                                       TES_JIT_MOV};

    tes_jit_op(t->ir, ext[size_log2(size)], d, a, TES_JIT_NONE);
}

/* ---- registers ---- */

static bool high_byte(const jit_tr *t, int r, unsigned size)
{
    return size == 1 && !t->x.has_rex && r >= 4 && r < 8;
}

/* A copy of register r's low size bytes (AH..BH without REX). */
tes_jit_val jt_reg_get(jit_tr *t, int r, unsigned size)
{
    tes_jit_val v = jt_tmp(t);

    if (high_byte(t, r, size)) {
        jt_op(t, TES_JIT_SHR, v, jt_reg(t, r - 4), jt_const(t, 8));
        jt_zext(t, 1, v, v);
    } else {
        jt_zext(t, size, v, jt_reg(t, r));
    }
    return v;
}

/* 32-bit writes zero-extend; 8- and 16-bit writes merge. */
void jt_reg_set(jit_tr *t, int r, unsigned size, tes_jit_val v)
{
    tes_jit_val x, g;
    unsigned sh = 0;

    if (size >= 4) {
        jt_zext(t, size, jt_reg(t, r), v);
        return;
    }
    if (high_byte(t, r, size)) {
        r -= 4;
        sh = 8;
    }
    g = jt_reg(t, r);
    x = jt_tmp(t);
    jt_zext(t, size, x, v);
    if (sh) {
        jt_op(t, TES_JIT_SHL, x, x, jt_const(t, sh));
    }
    jt_op(t, TES_JIT_AND, g, g, jt_const(t, ~(size_mask(size) << sh)));
    jt_op(t, TES_JIT_OR, g, g, x);
}

/* ---- memory ---- */

bool jt_mem_ok(const jit_tr *t)
{
    /* Outside 64-bit mode segment limits apply: the interpreter checks. */
    return t->c->code_bits == 64;
}

/* The operand's offset (what LEA gives): disp + base + index << scale,
 * truncated to the address size. */
tes_jit_val jt_ea_offset(jit_tr *t)
{
    const x86_insn *x = &t->x;
    tes_jit_val a = jt_tmp(t);

    if (!t->form.mem) {
        jt_op(t, TES_JIT_MOV, a, jt_const(t, x->ea), TES_JIT_NONE); /* moffs */
        return a;
    }
    jt_op(t, TES_JIT_MOV, a, jt_const(t, x->disp + (x->rip_relative ? t->next_rip : 0)),
          TES_JIT_NONE);
    if (t->form.base >= 0) {
        jt_op(t, TES_JIT_ADD, a, a, jt_reg(t, t->form.base));
    }
    if (t->form.idx >= 0) {
        tes_jit_val i = jt_reg(t, t->form.idx);

        if (t->form.scale) {
            i = jt_tmp(t);
            jt_op(t, TES_JIT_SHL, i, jt_reg(t, t->form.idx), jt_const(t, t->form.scale));
        }
        jt_op(t, TES_JIT_ADD, a, a, i);
    }
    if (x->addrsize != 8) {
        jt_zext(t, x->addrsize, a, a);
    }
    return a;
}

/* 64-bit mode linear address of offset a in segment seg: only FS and GS
 * have a base (read from env: WRMSR/SWAPGS change it in fallbacks). */
tes_jit_val jt_linear(jit_tr *t, int seg, tes_jit_val a)
{
    tes_jit_val b;

    if (seg != S_FS && seg != S_GS) {
        return a;
    }
    b = jt_tmp(t);
    tes_jit_ld(t->ir, b, t->env,
               (int32_t)(offsetof(x86_cpu, seg) + (size_t)seg * sizeof(x86_seg) +
                         offsetof(x86_seg, base)),
               TES_JIT_MO_64);
    jt_op(t, TES_JIT_ADD, b, b, a);
    return b;
}

tes_jit_val jt_ea(jit_tr *t)
{
    return jt_linear(t, t->x.seg, jt_ea_offset(t));
}

void jt_ld(jit_tr *t, tes_jit_val d, tes_jit_val la, unsigned size, int seg)
{
    tes_jit_qld(t->ir, d, la, size_log2(size),
                (uint32_t)(offsetof(x86_cpu, tlb_r) + (t->user ? sizeof(t->c->tlb_r[0]) : 0)),
                JIT_ARG(seg, t->user), t->rip);
}

void jt_st(jit_tr *t, tes_jit_val v, tes_jit_val la, unsigned size, int seg)
{
    tes_jit_qst(t->ir, v, la, size_log2(size),
                (uint32_t)(offsetof(x86_cpu, tlb_w) + (t->user ? sizeof(t->c->tlb_w[0]) : 0)),
                JIT_ARG(seg, t->user), t->rip);
}

/* The r/m operand; *la gets a memory operand's address for the write
 * back (may be NULL). */
tes_jit_val jt_rm_get(jit_tr *t, unsigned size, tes_jit_val *la)
{
    tes_jit_val a, v;

    if (!t->x.rm_is_mem) {
        return jt_reg_get(t, t->x.rm, size);
    }
    a = jt_ea(t);
    if (la) {
        *la = a;
    }
    v = jt_tmp(t);
    jt_ld(t, v, a, size, t->x.seg);
    return v;
}

void jt_rm_set(jit_tr *t, unsigned size, tes_jit_val v, tes_jit_val la)
{
    if (!t->x.rm_is_mem) {
        jt_reg_set(t, t->x.rm, size, v);
        return;
    }
    jt_st(t, v, la != TES_JIT_NONE ? la : jt_ea(t), size, t->x.seg);
}

/* ---- flags ---- */

void jt_set_cc(jit_tr *t, int op, unsigned size, tes_jit_val dst, tes_jit_val src)
{
    int64_t v = (int64_t)op << 2 | size_log2(size);

    jt_op(t, TES_JIT_MOV, t->cc_op, jt_const(t, (uint64_t)v), TES_JIT_NONE);
    jt_op(t, TES_JIT_MOV, t->cc_dst, dst, TES_JIT_NONE);
    jt_op(t, TES_JIT_MOV, t->cc_src, src, TES_JIT_NONE);
    t->cc_known = v;
}

static uint64_t helper_flags(uint64_t op, uint64_t dst, uint64_t src, uint64_t src2,
                             uint64_t eflags)
{
    x86_cc k = { (int64_t)op, dst, src, src2, eflags };

    return x86_flags_of(&k);
}

static uint64_t helper_cond(uint64_t cc, uint64_t op, uint64_t dst, uint64_t src,
                            uint64_t src2, uint64_t eflags)
{
    x86_cc k = { (int64_t)op, dst, src, src2, eflags };

    return x86_cond_of(&k, (unsigned)cc);
}

/* The lazy state as helper arguments args[first..first+4]. */
static void cc_args(jit_tr *t, tes_jit_val *args)
{
    tes_jit_val ef = jt_tmp(t);

    tes_jit_ld(t->ir, ef, t->env, offsetof(x86_cpu, eflags), TES_JIT_MO_64);
    args[0] = t->cc_op;
    args[1] = t->cc_dst;
    args[2] = t->cc_src;
    args[3] = t->cc_src2;
    args[4] = ef;
}

/* CF after ADC/SBB (flags.c flags_add/flags_sub with the carry in). */
static tes_jit_val cf_carry(jit_tr *t, bool sbb, unsigned size)
{
    tes_jit_val cin = jt_tmp(t), s1 = jt_tmp(t), le = jt_tmp(t), lt = jt_tmp(t);
    tes_jit_val r = jt_tmp(t);

    jt_op(t, TES_JIT_AND, cin, t->cc_src2, jt_const(t, 1));
    if (sbb) { /* src1 = dst + src + cin; CF = cin ? src1 <= src : src1 < src */
        jt_op(t, TES_JIT_ADD, s1, t->cc_dst, t->cc_src);
        jt_op(t, TES_JIT_ADD, s1, s1, cin);
        jt_zext(t, size, s1, s1);
        tes_jit_setcond(t->ir, TES_JIT_LEU, le, s1, t->cc_src, false);
        tes_jit_setcond(t->ir, TES_JIT_LTU, lt, s1, t->cc_src, false);
    } else { /* src1 = dst - src - cin; CF = cin ? dst <= src1 : dst < src1 */
        jt_op(t, TES_JIT_SUB, s1, t->cc_dst, t->cc_src);
        jt_op(t, TES_JIT_SUB, s1, s1, cin);
        jt_zext(t, size, s1, s1);
        tes_jit_setcond(t->ir, TES_JIT_LEU, le, t->cc_dst, s1, false);
        tes_jit_setcond(t->ir, TES_JIT_LTU, lt, t->cc_dst, s1, false);
    }
    tes_jit_movcond(t->ir, TES_JIT_NE, r, cin, jt_const(t, 0), le, lt, false);
    return r;
}

/* CF as 0/1, as the interpreter's get_cf computes it now. */
tes_jit_val jt_cf(jit_tr *t)
{
    tes_jit_val r = jt_tmp(t), args[5];
    int op = t->cc_known < 0 ? -1 : (int)(t->cc_known >> 2);
    unsigned size = 1u << (t->cc_known & 3);

    switch (op) {
    case CC_OP_LOGIC:
        return jt_const(t, 0);
    case CC_OP_EFLAGS:
        tes_jit_ld(t->ir, r, t->env, offsetof(x86_cpu, eflags), TES_JIT_MO_64);
        jt_op(t, TES_JIT_AND, r, r, jt_const(t, F_CF));
        return r;
    case CC_OP_ADD:
        tes_jit_setcond(t->ir, TES_JIT_LTU, r, t->cc_dst, t->cc_src, false);
        return r;
    case CC_OP_SUB:
        jt_op(t, TES_JIT_ADD, r, t->cc_dst, t->cc_src);
        jt_zext(t, size, r, r);
        tes_jit_setcond(t->ir, TES_JIT_LTU, r, r, t->cc_src, false);
        return r;
    case CC_OP_INC:
    case CC_OP_DEC:
        jt_op(t, TES_JIT_AND, r, t->cc_src2, jt_const(t, 1));
        return r;
    case CC_OP_ADC:
    case CC_OP_SBB:
        return cf_carry(t, op == CC_OP_SBB, size);
    default:
        cc_args(t, args);
        tes_jit_call(t->ir, (const void *)helper_flags, TES_JIT_CALL_PURE, r, 5, args);
        jt_op(t, TES_JIT_AND, r, r, jt_const(t, F_CF));
        return r;
    }
}

static void set_jc(jcond *k, tes_jit_cond c, tes_jit_val a, tes_jit_val b, bool is32)
{
    k->c = c;
    k->a = a;
    k->b = b;
    k->is32 = is32;
}

/* All arithmetic flags now (x86_arith_flags). */
tes_jit_val jt_flags(jit_tr *t)
{
    tes_jit_val r = jt_tmp(t), args[5];

    if (t->cc_known == CC_OP_EFLAGS) {
        tes_jit_ld(t->ir, r, t->env, offsetof(x86_cpu, eflags), TES_JIT_MO_64);
        jt_op(t, TES_JIT_AND, r, r, jt_const(t, F_ARITH));
        return r;
    }
    cc_args(t, args);
    tes_jit_call(t->ir, (const void *)helper_flags, TES_JIT_CALL_PURE, r, 5, args);
    return r;
}

/* x86_put_arith: the arithmetic flags of f into eflags, cc_op EFLAGS. */
void jt_put_arith(jit_tr *t, tes_jit_val f)
{
    tes_jit_val ef = jt_tmp(t), a = jt_tmp(t);

    tes_jit_ld(t->ir, ef, t->env, offsetof(x86_cpu, eflags), TES_JIT_MO_64);
    jt_op(t, TES_JIT_AND, ef, ef, jt_const(t, ~(uint64_t)F_ARITH));
    jt_op(t, TES_JIT_AND, a, f, jt_const(t, F_ARITH));
    jt_op(t, TES_JIT_OR, ef, ef, a);
    tes_jit_st(t->ir, ef, t->env, offsetof(x86_cpu, eflags), TES_JIT_MO_64);
    jt_op(t, TES_JIT_MOV, t->cc_op, jt_const(t, CC_OP_EFLAGS), TES_JIT_NONE);
    t->cc_known = CC_OP_EFLAGS;
}

/* Register forms of ADD OR AND SUB XOR CMP TEST: they overwrite all six
 * arithmetic flags, read none, never fault, and are translated inline. */
static bool kills_flags(const x86_insn *x)
{
    unsigned op = x->op, row = (op >> 3) & 7;

    if (x->rm_is_mem) {
        return false;
    }
    if (op < 0x40 && (op & 7) < 6) {
        return row != 2 && row != 3;
    }
    switch (op) {
    case 0x80: case 0x81: case 0x83:
        return (x->reg & 7) != 2 && (x->reg & 7) != 3;
    case 0x84: case 0x85: case 0xa8: case 0xa9:
        return true;
    case 0xf6: case 0xf7:
        return (x->reg & 7) <= 1;
    default:
        return false;
    }
}

/* Register forms that read no flag, leave them all (or only CF and OF,
 * which ROL/ROR write), never fault and never end a block: a flag update
 * before them is dead when a killer follows. */
static bool keeps_flags(const jit_tr *t, const x86_insn *x)
{
    unsigned op = x->op;

    if (op == 0x63 && t->c->code_bits != 64) {
        return false; /* ARPL writes ZF */
    }
    if (op == 0x8d) {
        return x->rm_is_mem; /* LEA: no access; the register form is #UD */
    }
    if (x->rm_is_mem && x->has_modrm) {
        return false;
    }
    switch (op) {
    case 0x89: case 0x8b: case 0x63: /* MOV, MOVSXD */
    case 0xb8: case 0xb9: case 0xba: case 0xbb: case 0xbc: case 0xbd: case 0xbe: case 0xbf:
    case 0x0fb6: case 0x0fb7: case 0x0fbe: case 0x0fbf: /* MOVZX, MOVSX */
    case 0x0fc8: case 0x0fc9: case 0x0fca: case 0x0fcb: /* BSWAP */
    case 0x0fcc: case 0x0fcd: case 0x0fce: case 0x0fcf:
        return !x->lock;
    case 0xc1: case 0xd1: /* ROL/ROR: CF, OF */
        return (x->reg & 7) <= 1;
    case 0xf7:
        return (x->reg & 7) == 2; /* NOT */
    default:
        return false;
    }
}

/* The arithmetic flags the current instruction would write are dead: the
 * instructions after it in this block and page, before any that reads a
 * flag or may fault, include one that overwrites all six. (A fault
 * between would see the stale flags, hence the stop there.) */
bool jt_flags_dead(jit_tr *t)
{
    uint64_t la = t->next_la;
    x86_ea_form form;
    x86_insn x;

    if (!t->code) {
        return false;
    }
    for (uint32_t i = 0; i < t->left && i < 12 && (la & ~0xfffull) == t->page; i++) {
        unsigned off = (unsigned)(la & 0xfff);

        if (!x86_decode_buf(t->c, la, t->code + off, 4096 - off, &x, &form)) {
            return false;
        }
        if (kills_flags(&x)) {
            return true;
        }
        if (!keeps_flags(t, &x)) {
            return false;
        }
        la += x.len;
    }
    return false;
}

/* Conditions on materialised flags: one bit test (L/LE: the helper). */
static bool cond_eflags(jit_tr *t, unsigned n, jcond *k)
{
    static const uint64_t bit[8] = {F_OF, F_CF, F_ZF, F_CF | F_ZF, F_SF, F_PF, 0, 0};
    tes_jit_val ef;

    if (!bit[n]) {
        return false;
    }
    ef = jt_tmp(t);
    tes_jit_ld(t->ir, ef, t->env, offsetof(x86_cpu, eflags), TES_JIT_MO_64);
    set_jc(k, TES_JIT_TSTNE, ef, jt_const(t, bit[n]), false);
    return true;
}

/* CF for an instruction that reads it before anything else (no temp may
 * be live: labels follow). With cc_op unknown but guessed (x86-jit.h),
 * it is computed inline when cc_op holds the guess at run time. */
tes_jit_val jt_cf_first(jit_tr *t)
{
    int op = (int)(t->cc_guess >> 2);
    tes_jit_label slow, done;
    tes_jit_val sc, r;

    if (t->cc_known >= 0 || t->cc_guess < 0 || op > CC_OP_DEC) {
        return jt_cf(t); /* known, or no guess with an inline CF */
    }
    sc = tes_jit_global(t->ir, offsetof(x86_cpu, jit_scratch), "scratch");
    slow = tes_jit_label_new(t->ir);
    done = tes_jit_label_new(t->ir);
    tes_jit_brcond(t->ir, TES_JIT_NE, t->cc_op, jt_const(t, (uint64_t)t->cc_guess), slow, false);
    t->cc_known = t->cc_guess;
    jt_op(t, TES_JIT_MOV, sc, jt_cf(t), TES_JIT_NONE);
    tes_jit_br(t->ir, done);
    tes_jit_label_set(t->ir, slow);
    t->cc_known = -1;
    jt_op(t, TES_JIT_MOV, sc, jt_cf(t), TES_JIT_NONE);
    tes_jit_label_set(t->ir, done);
    r = jt_tmp(t);
    jt_op(t, TES_JIT_MOV, r, sc, TES_JIT_NONE);
    return r;
}

static tes_jit_cond invert(tes_jit_cond c)
{
    static const tes_jit_cond inv[] = {
        [TES_JIT_EQ] = TES_JIT_NE, [TES_JIT_NE] = TES_JIT_EQ, [TES_JIT_LT] = TES_JIT_GE,
        [TES_JIT_GE] = TES_JIT_LT, [TES_JIT_LE] = TES_JIT_GT, [TES_JIT_GT] = TES_JIT_LE,
        [TES_JIT_LTU] = TES_JIT_GEU, [TES_JIT_GEU] = TES_JIT_LTU, [TES_JIT_LEU] = TES_JIT_GTU,
        [TES_JIT_GTU] = TES_JIT_LEU, [TES_JIT_TSTEQ] = TES_JIT_TSTNE,
        [TES_JIT_TSTNE] = TES_JIT_TSTEQ,
    };

    return inv[c];
}

/* Signed compare of two size-byte values: 32 and 64 bits directly, 8 and
 * 16 bits sign-extended first. */
static void signed_cmp(jit_tr *t, jcond *k, tes_jit_cond c, unsigned size, tes_jit_val a,
                       tes_jit_val b)
{
    if (size < 4) {
        tes_jit_val sa = jt_tmp(t), sb = jt_tmp(t);

        jt_sext(t, size, sa, a);
        jt_sext(t, size, sb, b);
        a = sa;
        b = sb;
    }
    set_jc(k, c, a, b, size == 4);
}

/* After CMP/SUB: a = dst + src is the first operand, src the second. */
static bool cond_sub(jit_tr *t, unsigned n, unsigned size, jcond *k)
{
    tes_jit_val a = jt_tmp(t);

    if (n == 0 || n == 5) {
        return false; /* O, P */
    }
    jt_op(t, TES_JIT_ADD, a, t->cc_dst, t->cc_src);
    jt_zext(t, size, a, a);
    switch (n) {
    case 1: set_jc(k, TES_JIT_LTU, a, t->cc_src, false); return true;
    case 3: set_jc(k, TES_JIT_LEU, a, t->cc_src, false); return true;
    case 6: signed_cmp(t, k, TES_JIT_LT, size, a, t->cc_src); return true;
    default: signed_cmp(t, k, TES_JIT_LE, size, a, t->cc_src); return true; /* 7 */
    }
}

/* After AND/OR/XOR/TEST: CF = OF = 0. */
static bool cond_logic(jit_tr *t, unsigned n, unsigned size, jcond *k)
{
    tes_jit_val z = jt_const(t, 0);

    switch (n) {
    case 0: case 1: set_jc(k, TES_JIT_NE, z, z, false); return true; /* never */
    case 3: set_jc(k, TES_JIT_EQ, t->cc_dst, z, false); return true;
    case 6: signed_cmp(t, k, TES_JIT_LT, size, t->cc_dst, z); return true;
    case 7: signed_cmp(t, k, TES_JIT_LE, size, t->cc_dst, z); return true;
    default: return false;
    }
}

/* Inline forms of condition n (cc >> 1) for a known cc_op. */
static bool cond_known(jit_tr *t, unsigned n, jcond *k)
{
    int op = (int)(t->cc_known >> 2);
    unsigned size = 1u << (t->cc_known & 3);

    if (op == CC_OP_EFLAGS) {
        return cond_eflags(t, n, k);
    }
    if (n == 2) {
        set_jc(k, TES_JIT_EQ, t->cc_dst, jt_const(t, 0), false); /* ZF from the result */
        return true;
    }
    if (n == 4) {
        set_jc(k, TES_JIT_TSTNE, t->cc_dst, jt_const(t, sign_bit(size)), false);
        return true;
    }
    switch (op) {
    case CC_OP_SUB:
        return cond_sub(t, n, size, k);
    case CC_OP_LOGIC:
        return cond_logic(t, n, size, k);
    case CC_OP_ADD:
        if (n == 1) {
            set_jc(k, TES_JIT_LTU, t->cc_dst, t->cc_src, false);
            return true;
        }
        if (n == 3) { /* CF or ZF */
            tes_jit_val c = jt_tmp(t), z = jt_tmp(t);

            tes_jit_setcond(t->ir, TES_JIT_LTU, c, t->cc_dst, t->cc_src, false);
            tes_jit_setcond(t->ir, TES_JIT_EQ, z, t->cc_dst, jt_const(t, 0), false);
            jt_op(t, TES_JIT_OR, c, c, z);
            set_jc(k, TES_JIT_NE, c, jt_const(t, 0), false);
            return true;
        }
        return false;
    case CC_OP_INC: case CC_OP_DEC: case CC_OP_ADC: case CC_OP_SBB:
        if (n == 1) {
            set_jc(k, TES_JIT_NE, jt_cf(t), jt_const(t, 0), false);
            return true;
        }
        return false;
    case CC_OP_SHL:
        if (n == 1) {
            set_jc(k, TES_JIT_TSTNE, t->cc_src, jt_const(t, sign_bit(size)), false);
            return true;
        }
        return false;
    case CC_OP_SAR:
        if (n == 1) {
            set_jc(k, TES_JIT_TSTNE, t->cc_src, jt_const(t, 1), false);
            return true;
        }
        return false;
    default:
        return false;
    }
}

/* Whether cond_known decides condition cc inline after cc_op op (kept in
 * step with it; erring only costs a helper call). */
bool jt_cond_inlinable(int64_t ccop, unsigned cc)
{
    static const uint8_t ok[] = {
        [CC_OP_EFLAGS] = 0x3f, [CC_OP_SUB] = 0xde, [CC_OP_LOGIC] = 0xdf, [CC_OP_ADD] = 0x1e,
        [CC_OP_INC] = 0x16, [CC_OP_DEC] = 0x16, [CC_OP_ADC] = 0x16, [CC_OP_SBB] = 0x16,
        [CC_OP_SHL] = 0x16, [CC_OP_SAR] = 0x16, [CC_OP_MUL] = 0x14,
    };
    unsigned op = (unsigned)(ccop >> 2);

    return op < sizeof(ok) && ((ok[op] >> ((cc >> 1) & 7)) & 1);
}

/* Condition cc inline for the cc_op the block knows; false (nothing
 * emitted) when it needs the helper. */
bool jt_cond_known(jit_tr *t, unsigned cc, jcond *k)
{
    if (t->cc_known < 0 || !cond_known(t, (cc >> 1) & 7, k)) {
        return false;
    }
    if (cc & 1) {
        k->c = invert(k->c);
    }
    return true;
}

/* The helper's answer to condition cc. */
void jt_cond_helper(jit_tr *t, unsigned cc, jcond *k)
{
    tes_jit_val args[6], r = jt_tmp(t);

    args[0] = jt_const(t, cc & 15);
    cc_args(t, args + 1);
    tes_jit_call(t->ir, (const void *)helper_cond, TES_JIT_CALL_PURE, r, 6, args);
    set_jc(k, TES_JIT_NE, r, jt_const(t, 0), false);
}

void jt_cond(jit_tr *t, unsigned cc, jcond *k)
{
    if (!jt_cond_known(t, cc, k)) {
        jt_cond_helper(t, cc, k);
    }
}

/* ---- block exits ---- */

/* To the block at la (rip stored already): the jump cache is probed in
 * the generated code; the helper runs on a miss. */
static void goto_lookup(jit_tr *t, tes_jit_val la, const void *helper)
{
    tes_jit_goto_lookup(t->ir, la, helper);
}

/* Leave for the block at rip (stored in env->rip by the caller). */
void jt_goto_rip(jit_tr *t, tes_jit_val rip)
{
    tes_jit_val la = rip;

    if (t->c->code_bits != 64) {
        la = jt_tmp(t);
        jt_op(t, TES_JIT_EXT32U, la, rip, TES_JIT_NONE);
    }
    goto_lookup(t, la, (const void *)x86_jit_helper_lookup);
}

/* Leave for rip: chainable on the block's page, else through the jump
 * cache (a block on another page is entered only after the lookup, so a
 * remapped page is never jumped to blindly). */
void jt_exit_to(jit_tr *t, uint64_t rip, unsigned slot)
{
    uint64_t la = t->c->code_bits == 64 ? rip : (uint32_t)rip;

    x86_jit_set_rip(t, rip);
    if ((la & ~0xfffull) == t->page) {
        tes_jit_exit(t->ir, slot);
    } else {
        goto_lookup(t, jt_const(t, la), (const void *)x86_jit_helper_lookup_direct);
    }
}
