/*
 * cpu-x86: lazy arithmetic flags (see exec.h) and condition codes.
 *
 * Pure functions of x86_cpu (no host calls): the instruction-test
 * framework links this file too, to read and write RFLAGS.
 * Flag definitions: Intel SDM Vol. 1, 3.4.3.1 and each instruction's
 * "Flags Affected"; the undefined ones as QEMU computes them.
 */
#include "exec.h"

static uint64_t zsp(uint64_t dst, uint64_t sb)
{
    uint64_t f = 0;

    if (dst == 0) {
        f |= F_ZF;
    }
    if (dst & sb) {
        f |= F_SF;
    }
    if (!__builtin_parity((unsigned)(dst & 0xff))) {
        f |= F_PF;
    }
    return f;
}

static uint64_t flags_add(uint64_t dst, uint64_t src, uint64_t m, uint64_t sb,
                          unsigned cin)
{
    uint64_t src1 = (dst - src - cin) & m;
    bool cf = cin ? dst <= src1 : dst < src1;
    uint64_t f = cf ? F_CF : 0;

    f |= (dst ^ src ^ src1) & F_AF;
    if (~(src1 ^ src) & (src1 ^ dst) & sb) {
        f |= F_OF;
    }
    return f;
}

static uint64_t flags_sub(uint64_t dst, uint64_t src, uint64_t m, uint64_t sb,
                          unsigned cin)
{
    uint64_t src1 = (dst + src + cin) & m;
    bool cf = cin ? src1 <= src : src1 < src;
    uint64_t f = cf ? F_CF : 0;

    f |= (dst ^ src ^ src1) & F_AF;
    if ((src1 ^ src) & (src1 ^ dst) & sb) {
        f |= F_OF;
    }
    return f;
}

/* CF AF OF of the lazy operation (ZF SF PF come from cc_dst). */
static uint64_t flags_cao(int op, uint64_t dst, uint64_t src, uint64_t src2, uint64_t m,
                          uint64_t sb)
{
    unsigned cin = (unsigned)(src2 & 1);

    switch (op) {
    case CC_OP_ADD:
        return flags_add(dst, src, m, sb, 0);
    case CC_OP_ADC:
        return flags_add(dst, src, m, sb, cin);
    case CC_OP_SUB:
        return flags_sub(dst, src, m, sb, 0);
    case CC_OP_SBB:
        return flags_sub(dst, src, m, sb, cin);
    case CC_OP_INC:
        /* CF kept from before (cc_src2); OF when the result is INT_MIN */
        return (cin ? F_CF : 0) | ((dst ^ ((dst - 1) & m) ^ 1) & F_AF) |
               (dst == sb ? F_OF : 0);
    case CC_OP_DEC:
        return (cin ? F_CF : 0) | ((dst ^ ((dst + 1) & m) ^ 1) & F_AF) |
               (dst == sb - 1 ? F_OF : 0);
    case CC_OP_SHL:
        /* cc_src: the operand shifted by count - 1 */
        return ((src & sb) ? F_CF : 0) | (((src ^ dst) & sb) ? F_OF : 0);
    case CC_OP_SAR:
        return ((src & 1) ? F_CF : 0) | (((src ^ dst) & sb) ? F_OF : 0);
    case CC_OP_MUL:
        /* cc_src: non-zero when the high half is significant */
        return src ? (F_CF | F_OF) : 0;
    default: /* CC_OP_LOGIC */
        return 0;
    }
}

uint64_t x86_flags_of(const x86_cc *cc)
{
    int op = (int)(cc->op >> 2);
    unsigned size = 1u << (cc->op & 3);
    uint64_t m = size_mask(size), sb = sign_bit(size);
    uint64_t dst = cc->dst & m;

    if (op == CC_OP_EFLAGS) {
        return cc->eflags & F_ARITH;
    }
    return zsp(dst, sb) | flags_cao(op, dst, cc->src & m, cc->src2, m, sb);
}

uint64_t x86_arith_flags(x86_cpu *c)
{
    x86_cc cc = { c->cc_op, c->cc_dst, c->cc_src, c->cc_src2, c->eflags };

    return x86_flags_of(&cc);
}

uint64_t x86_get_flags(x86_cpu *c)
{
    return (c->eflags & ~(uint64_t)F_ARITH) | x86_arith_flags(c) | 2;
}

void x86_set_flags(x86_cpu *c, uint64_t rflags)
{
    c->eflags = rflags | 2;
    c->cc_op = CC_OP_EFLAGS;
}

void x86_put_arith(x86_cpu *c, uint64_t arith)
{
    c->eflags = (c->eflags & ~(uint64_t)F_ARITH) | (arith & F_ARITH);
    c->cc_op = CC_OP_EFLAGS;
}

/* Fast path for the common CMP/SUB then Jcc: compare the operands. */
static bool cond_sub(const x86_cc *k, unsigned cc, unsigned size)
{
    uint64_t m = size_mask(size), dst = k->dst & m, src = k->src & m;
    uint64_t src1 = (dst + src) & m;
    int64_t s1 = (int64_t)sext(src1, size), s2 = (int64_t)sext(src, size);

    switch (cc >> 1) {
    case 1:
        return src1 < src;
    case 2:
        return dst == 0;
    case 3:
        return src1 <= src;
    case 4:
        return (dst & sign_bit(size)) != 0;
    case 6:
        return s1 < s2;
    case 7:
        return s1 <= s2;
    default: /* O, P */
        return (x86_flags_of(k) & (cc >> 1 == 0 ? F_OF : F_PF)) != 0;
    }
}

static bool cond_flags(uint64_t f, unsigned cc)
{
    bool sf = f & F_SF, of = f & F_OF;

    switch (cc >> 1) {
    case 0:
        return of;
    case 1:
        return f & F_CF;
    case 2:
        return f & F_ZF;
    case 3:
        return f & (F_CF | F_ZF);
    case 4:
        return sf;
    case 5:
        return f & F_PF;
    case 6:
        return sf != of;
    default:
        return (f & F_ZF) || sf != of;
    }
}

bool x86_cond_of(const x86_cc *k, unsigned cc)
{
    bool r;

    if ((k->op >> 2) == CC_OP_SUB) {
        r = cond_sub(k, cc, 1u << (k->op & 3));
    } else {
        r = cond_flags(x86_flags_of(k), cc);
    }
    return (cc & 1) ? !r : r;
}

bool x86_cond(x86_cpu *c, unsigned cc)
{
    x86_cc k = { c->cc_op, c->cc_dst, c->cc_src, c->cc_src2, c->eflags };

    return x86_cond_of(&k, cc);
}
