/*
 * cpu-x86: inline translation of the SSE2 instructions glibc's string and
 * memory functions live on: MOVAPS/MOVUPS/MOVDQA/MOVDQU/MOVSS/MOVSD,
 * MOVD/MOVQ, PXOR/POR/PAND/PANDN, PCMPEQB/W/D, PMOVMSKB, PSHUFD and
 * PUNPCKLBW/WD/DQ (the XMM forms; MMX stays in the interpreter). XMM
 * registers are read and written in env as two 64-bit halves.
 *
 * Blocks are translated only with SSE usable (CR0.EM = 0, CR0.TS = 0,
 * CR4.OSFXSR = 1: part of the block key), so the #UD/#NM checks of sse.c
 * hold at translate time. A memory operand that must be 16-byte aligned,
 * and a 16-byte store that crosses a page, go to the interpreter at run
 * time (#GP; both pages checked before any byte is written), so faults
 * stay exactly the interpreter's.
 */
#include "x86-jit.h"

static int32_t xoff(int r, int half)
{
    return (int32_t)(offsetof(x86_cpu, xmm) + (size_t)r * sizeof(xmm_reg) + (size_t)half * 8);
}

static tes_jit_val xget(jit_tr *t, int r, int half)
{
    tes_jit_val v = jt_tmp(t);

    tes_jit_ld(t->ir, v, t->env, xoff(r, half), TES_JIT_MO_64);
    return v;
}

static void xset(jit_tr *t, int r, int half, tes_jit_val v)
{
    tes_jit_st(t->ir, v, t->env, xoff(r, half), TES_JIT_MO_64);
}

/* Run-time precondition of a memory form (aligned: ea % 16 == 0, else
 * a 16-byte access within a page); when it fails the interpreter runs
 * the instruction. Returns true when *done must be set after the inline
 * code (which must recompute the address: temps do not cross labels). */
static bool guard(jit_tr *t, bool aligned, tes_jit_label *done)
{
    tes_jit_label fast;
    tes_jit_val a, m;

    if (!t->x.rm_is_mem) {
        return false;
    }
    a = jt_ea(t);
    m = jt_tmp(t);
    fast = tes_jit_label_new(t->ir);
    *done = tes_jit_label_new(t->ir);
    jt_op(t, TES_JIT_AND, m, a, jt_const(t, aligned ? 15 : 0xfff));
    tes_jit_brcond(t->ir, aligned ? TES_JIT_EQ : TES_JIT_LEU, m, jt_const(t, aligned ? 0 : 0xff0),
                   fast, false);
    if (!x86_jit_fallback_call(t)) {
        /* out of memory for the record: leave before the instruction */
        x86_jit_set_rip(t, t->rip);
        tes_jit_exit_nochain(t->ir);
    }
    tes_jit_br(t->ir, *done);
    tes_jit_label_set(t->ir, fast);
    return true;
}

/* The 16-byte source (register, or memory as checked by guard). */
static void src128(jit_tr *t, tes_jit_val *lo, tes_jit_val *hi)
{
    tes_jit_val a, a8;

    if (!t->x.rm_is_mem) {
        *lo = xget(t, t->x.rm, 0);
        *hi = xget(t, t->x.rm, 1);
        return;
    }
    a = jt_ea(t);
    a8 = jt_tmp(t);
    *lo = jt_tmp(t);
    *hi = jt_tmp(t);
    jt_op(t, TES_JIT_ADD, a8, a, jt_const(t, 8));
    jt_ld(t, *lo, a, 8, t->x.seg);
    jt_ld(t, *hi, a8, 8, t->x.seg);
}

/* 10/11 (no prefix, 66), 28/29, 6F/7F (66 aligned, F3 unaligned). */
static bool mov128(jit_tr *t, bool store, bool aligned)
{
    const x86_insn *x = &t->x;
    tes_jit_label done;
    bool guarded = (aligned || store) && guard(t, aligned, &done);
    tes_jit_val lo, hi, a, a8;

    if (!store) {
        src128(t, &lo, &hi);
        xset(t, x->reg, 0, lo);
        xset(t, x->reg, 1, hi);
    } else if (!x->rm_is_mem) {
        xset(t, x->rm, 0, xget(t, x->reg, 0));
        xset(t, x->rm, 1, xget(t, x->reg, 1));
    } else {
        a = jt_ea(t);
        a8 = jt_tmp(t);
        lo = xget(t, x->reg, 0);
        hi = xget(t, x->reg, 1);
        jt_op(t, TES_JIT_ADD, a8, a, jt_const(t, 8));
        jt_st(t, lo, a, 8, x->seg);
        jt_st(t, hi, a8, 8, x->seg);
    }
    if (guarded) {
        tes_jit_label_set(t->ir, done);
    }
    return true;
}

/* MOVSS (n = 4) / MOVSD (n = 8): a memory load clears the rest, a
 * register move keeps it. */
static bool mov_scalar(jit_tr *t, unsigned n, bool store)
{
    const x86_insn *x = &t->x;
    int d = store ? x->rm : x->reg, s = store ? x->reg : x->rm;
    tes_jit_val v, m;

    if (x->rm_is_mem) {
        if (store) {
            jt_st(t, xget(t, x->reg, 0), jt_ea(t), n, x->seg);
            return true;
        }
        v = jt_tmp(t);
        jt_ld(t, v, jt_ea(t), n, x->seg);
        xset(t, x->reg, 0, v);
        xset(t, x->reg, 1, jt_const(t, 0));
        return true;
    }
    v = xget(t, s, 0);
    if (n == 4) {
        m = xget(t, d, 0);
        jt_zext(t, 4, v, v);
        jt_op(t, TES_JIT_AND, m, m, jt_const(t, ~0xffffffffull));
        jt_op(t, TES_JIT_OR, v, v, m);
    }
    xset(t, d, 0, v);
    return true;
}

/* 66 6E: MOVD/MOVQ xmm, r/m; 66 7E: MOVD/MOVQ r/m, xmm; F3 7E: MOVQ xmm,
 * xmm/m64. */
static bool mov_d(jit_tr *t, bool store)
{
    const x86_insn *x = &t->x;
    unsigned n = (x->rex & 8) ? 8 : 4;
    tes_jit_val v;

    if (x->mandatory == 0xf3) {
        if (!store) {
            return false;
        }
        if (x->rm_is_mem) {
            v = jt_tmp(t);
            jt_ld(t, v, jt_ea(t), 8, x->seg);
        } else {
            v = xget(t, x->rm, 0);
        }
        xset(t, x->reg, 0, v);
        xset(t, x->reg, 1, jt_const(t, 0));
        return true;
    }
    if (store) {
        v = xget(t, x->reg, 0);
        jt_zext(t, n, v, v);
        jt_rm_set(t, n, v, TES_JIT_NONE);
        return true;
    }
    v = jt_rm_get(t, n, NULL);
    xset(t, x->reg, 0, v);
    xset(t, x->reg, 1, jt_const(t, 0));
    return true;
}

/* PCMPEQB/W/D on one 64-bit half: all ones in each equal lane. */
static tes_jit_val cmpeq64(jit_tr *t, tes_jit_val a, tes_jit_val b, unsigned lane)
{
    uint64_t low = lane == 1 ? 0x7f7f7f7f7f7f7f7full : lane == 2 ? 0x7fff7fff7fff7fffull
                                                                 : 0x7fffffff7fffffffull;
    tes_jit_val x = jt_tmp(t), y = jt_tmp(t);

    jt_op(t, TES_JIT_XOR, x, a, b);
    /* lane high bit set iff the lane is not zero, without carries between lanes */
    jt_op(t, TES_JIT_AND, y, x, jt_const(t, low));
    jt_op(t, TES_JIT_ADD, y, y, jt_const(t, low));
    jt_op(t, TES_JIT_OR, y, y, x);
    jt_op(t, TES_JIT_ANDC, y, jt_const(t, ~low), y);
    jt_op(t, TES_JIT_SHR, y, y, jt_const(t, lane * 8 - 1));
    jt_op(t, TES_JIT_MUL, y, y, jt_const(t, size_mask(lane)));
    return y;
}

/* 66 EF/EB/DB/DF/74/75/76: xmm op= xmm/m128 (m128 aligned). */
static bool logic(jit_tr *t, unsigned op)
{
    const x86_insn *x = &t->x;
    tes_jit_label done;
    bool guarded = guard(t, true, &done);
    tes_jit_val s[2], d, r;

    src128(t, &s[0], &s[1]);
    for (int h = 0; h < 2; h++) {
        d = xget(t, x->reg, h);
        r = jt_tmp(t);
        switch (op) {
        case 0xef: jt_op(t, TES_JIT_XOR, r, d, s[h]); break;
        case 0xeb: jt_op(t, TES_JIT_OR, r, d, s[h]); break;
        case 0xdb: jt_op(t, TES_JIT_AND, r, d, s[h]); break;
        case 0xdf: jt_op(t, TES_JIT_ANDC, r, s[h], d); break;
        default: r = cmpeq64(t, d, s[h], 1u << (op - 0x74)); break;
        }
        xset(t, x->reg, h, r);
    }
    if (guarded) {
        tes_jit_label_set(t->ir, done);
    }
    return true;
}

/* 66 D7: PMOVMSKB r32, xmm. */
static bool pmovmskb(jit_tr *t)
{
    tes_jit_val m[2];

    if (t->x.rm_is_mem) {
        return false;
    }
    for (int h = 0; h < 2; h++) {
        m[h] = xget(t, t->x.rm, h);
        jt_op(t, TES_JIT_SHR, m[h], m[h], jt_const(t, 7));
        jt_op(t, TES_JIT_AND, m[h], m[h], jt_const(t, 0x0101010101010101ull));
        jt_op(t, TES_JIT_MUL, m[h], m[h], jt_const(t, 0x0102040810204080ull));
        jt_op(t, TES_JIT_SHR, m[h], m[h], jt_const(t, 56));
    }
    jt_op(t, TES_JIT_SHL, m[1], m[1], jt_const(t, 8));
    jt_op(t, TES_JIT_OR, m[0], m[0], m[1]);
    jt_reg_set(t, t->x.reg, 8, m[0]);
    return true;
}

/* 66 70: PSHUFD xmm, xmm/m128, imm8. */
static bool pshufd(jit_tr *t)
{
    tes_jit_label done;
    bool guarded = guard(t, true, &done);
    unsigned imm = t->x.imm & 0xff;
    tes_jit_val s[2], l[4], q;

    src128(t, &s[0], &s[1]);
    for (int i = 0; i < 4; i++) {
        unsigned k = (imm >> (2 * i)) & 3;

        l[i] = jt_tmp(t);
        jt_op(t, TES_JIT_SHR, l[i], s[k >> 1], jt_const(t, 32 * (k & 1)));
        jt_zext(t, 4, l[i], l[i]);
    }
    for (int h = 0; h < 2; h++) {
        q = jt_tmp(t);
        jt_op(t, TES_JIT_SHL, q, l[2 * h + 1], jt_const(t, 32));
        jt_op(t, TES_JIT_OR, q, q, l[2 * h]);
        xset(t, t->x.reg, h, q);
    }
    if (guarded) {
        tes_jit_label_set(t->ir, done);
    }
    return true;
}

/* The 4 bytes (lane 1) or 2 words (lane 2) of the low 32 bits of v
 * spread to every other lane of a 64-bit value. */
static tes_jit_val spread(jit_tr *t, tes_jit_val v, unsigned lane)
{
    tes_jit_val x = jt_tmp(t), y = jt_tmp(t);

    jt_zext(t, 4, x, v);
    jt_op(t, TES_JIT_SHL, y, x, jt_const(t, 16));
    jt_op(t, TES_JIT_OR, x, x, y);
    jt_op(t, TES_JIT_AND, x, x, jt_const(t, 0x0000ffff0000ffffull));
    if (lane == 1) {
        jt_op(t, TES_JIT_SHL, y, x, jt_const(t, 8));
        jt_op(t, TES_JIT_OR, x, x, y);
        jt_op(t, TES_JIT_AND, x, x, jt_const(t, 0x00ff00ff00ff00ffull));
    }
    return x;
}

/* 66 60/61/62: PUNPCKLBW/WD/DQ xmm, xmm/m128: the low halves of
 * destination and source interleaved, destination lanes first. */
static bool punpckl(jit_tr *t, unsigned op)
{
    tes_jit_label done;
    bool guarded = guard(t, true, &done);
    unsigned lane = 1u << (op - 0x60);
    tes_jit_val s[2], d = xget(t, t->x.reg, 0), half[2], a, b, q;

    src128(t, &s[0], &s[1]);
    for (int h = 0; h < 2; h++) {
        half[h] = jt_tmp(t);
        b = jt_tmp(t);
        if (lane == 4) {
            jt_op(t, TES_JIT_SHR, half[h], d, jt_const(t, 32 * h));
            jt_zext(t, 4, half[h], half[h]);
            jt_op(t, TES_JIT_SHR, b, s[0], jt_const(t, 32 * h));
            jt_op(t, TES_JIT_SHL, b, b, jt_const(t, 32));
            jt_op(t, TES_JIT_OR, half[h], half[h], b);
            continue;
        }
        jt_op(t, TES_JIT_SHR, b, d, jt_const(t, 32 * h));
        a = spread(t, b, lane);
        jt_op(t, TES_JIT_SHR, b, s[0], jt_const(t, 32 * h));
        q = spread(t, b, lane);
        jt_op(t, TES_JIT_SHL, q, q, jt_const(t, lane * 8));
        jt_op(t, TES_JIT_OR, half[h], a, q);
    }
    xset(t, t->x.reg, 0, half[0]);
    xset(t, t->x.reg, 1, half[1]);
    if (guarded) {
        tes_jit_label_set(t->ir, done);
    }
    return true;
}

bool x86_jit_sse(jit_tr *t)
{
    const x86_insn *x = &t->x;
    unsigned op = x->op & 0xff, m = x->mandatory;

    if ((x->op & 0xff00) != 0x0f00 || !t->sse || (x->rm_is_mem && !jt_mem_ok(t))) {
        return false;
    }
    switch (op) {
    case 0x10: case 0x11:
        if (m == 0xf3 || m == 0xf2) {
            return mov_scalar(t, m == 0xf3 ? 4 : 8, op == 0x11);
        }
        return mov128(t, op == 0x11, false);
    case 0x28: case 0x29:
        return (m == 0 || m == 0x66) && mov128(t, op == 0x29, true);
    case 0x6f: case 0x7f:
        return (m == 0x66 || m == 0xf3) && mov128(t, op == 0x7f, m == 0x66);
    case 0x6e: case 0x7e:
        return (m == 0x66 || m == 0xf3) && mov_d(t, op == 0x7e);
    case 0xef: case 0xeb: case 0xdb: case 0xdf: case 0x74: case 0x75: case 0x76:
        return m == 0x66 && logic(t, op);
    case 0xd7:
        return m == 0x66 && pmovmskb(t);
    case 0x70:
        return m == 0x66 && pshufd(t);
    case 0x60: case 0x61: case 0x62:
        return m == 0x66 && punpckl(t, op);
    default:
        return false;
    }
}
