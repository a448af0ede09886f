/*
 * cpu-x86: the general-purpose integer instructions (Intel SDM Vol. 2):
 * data movement, arithmetic and logic with lazy flags, multiply/divide,
 * shifts and rotates, bit operations, and the dispatcher x86_exec_insn()
 * that routes the rest to exec-ctl.c (control flow, flags, stack frames),
 * exec-str.c (string operations), and the system, x87 and SSE owners.
 */
#include "exec.h"

/* ---- operands ---- */

bool x86_rm_read(x86_cpu *c, x86_insn *x, unsigned size, uint64_t *v)
{
    uint64_t t = 0;

    if (!x->rm_is_mem) {
        *v = get_reg(c, x, x->rm, size);
        return true;
    }
    if (!x86_mem_read(c, x->seg, x->ea, &t, size)) {
        return false;
    }
    *v = t;
    return true;
}

bool x86_rm_write(x86_cpu *c, x86_insn *x, unsigned size, uint64_t v)
{
    if (!x->rm_is_mem) {
        set_reg(c, x, x->rm, size, v);
        return true;
    }
    return x86_mem_write(c, x->seg, x->ea, &v, size);
}

unsigned x86_stack_size(const x86_cpu *c)
{
    return c->code_bits == 64 ? 8 : c->stack32 ? 4 : 2;
}

static void set_sp(x86_cpu *c, uint64_t sp)
{
    unsigned ss = x86_stack_size(c);

    set_reg(c, NULL, R_ESP, ss, sp);
}

bool x86_push(x86_cpu *c, uint64_t v, unsigned size)
{
    uint64_t sp = (c->regs[R_ESP] - size) & size_mask(x86_stack_size(c));

    if (!x86_mem_write(c, S_SS, sp, &v, size)) {
        return false;
    }
    set_sp(c, sp);
    return true;
}

bool x86_pop(x86_cpu *c, uint64_t *v, unsigned size)
{
    uint64_t sp = c->regs[R_ESP] & size_mask(x86_stack_size(c)), t = 0;

    if (!x86_mem_read(c, S_SS, sp, &t, size)) {
        return false;
    }
    set_sp(c, sp + size);
    *v = t;
    return true;
}

/* ---- ALU ---- */

static inline unsigned get_cf(x86_cpu *c)
{
    return (unsigned)(x86_arith_flags(c) & F_CF);
}

/* ADD OR ADC SBB AND SUB XOR CMP (the /r field order of group 1). */
static uint64_t alu(x86_cpu *c, unsigned op, unsigned size, uint64_t a, uint64_t b)
{
    uint64_t m = size_mask(size), r;
    unsigned cin;

    switch (op) {
    case 0:
        r = (a + b) & m;
        set_cc(c, CC_OP_ADD, size, r, b);
        return r;
    case 1:
        r = (a | b) & m;
        set_cc(c, CC_OP_LOGIC, size, r, 0);
        return r;
    case 2:
        cin = get_cf(c);
        r = (a + b + cin) & m;
        set_cc(c, CC_OP_ADC, size, r, b);
        c->cc_src2 = cin;
        return r;
    case 3:
        cin = get_cf(c);
        r = (a - b - cin) & m;
        set_cc(c, CC_OP_SBB, size, r, b);
        c->cc_src2 = cin;
        return r;
    case 4:
        r = a & b & m;
        set_cc(c, CC_OP_LOGIC, size, r, 0);
        return r;
    case 6:
        r = (a ^ b) & m;
        set_cc(c, CC_OP_LOGIC, size, r, 0);
        return r;
    default: /* 5 SUB, 7 CMP */
        r = (a - b) & m;
        set_cc(c, CC_OP_SUB, size, r, b & m);
        return r;
    }
}

/* op Eb/Ev, Gb/Gv (dir 0) or Gb/Gv, Eb/Ev (dir 1), or the group-1 Ib/Iz. */
static void exec_alu_rm(x86_cpu *c, x86_insn *x, unsigned op, unsigned size, int dir,
                        bool imm)
{
    uint64_t a, b, r;

    if (dir == 0) {
        if (!x86_rm_read(c, x, size, &a)) {
            return;
        }
        b = imm ? x->imm & size_mask(size) : get_reg(c, x, x->reg, size);
        r = alu(c, op, size, a, b);
        if (op != 7) {
            x86_rm_write(c, x, size, r);
        }
        return;
    }
    if (!x86_rm_read(c, x, size, &b)) {
        return;
    }
    a = get_reg(c, x, x->reg, size);
    r = alu(c, op, size, a, b);
    if (op != 7) {
        set_reg(c, x, x->reg, size, r);
    }
}

static void exec_alu(x86_cpu *c, x86_insn *x)
{
    unsigned op = (x->op >> 3) & 7, form = x->op & 7;
    unsigned size = (form & 1) ? x->opsize : 1;
    uint64_t r;

    if (form < 4) {
        exec_alu_rm(c, x, op, size, form >> 1, false);
        return;
    }
    r = alu(c, op, size, get_reg(c, x, R_EAX, size), x->imm & size_mask(size));
    if (op != 7) {
        set_reg(c, x, R_EAX, size, r);
    }
}

static void exec_test(x86_cpu *c, x86_insn *x, unsigned size, uint64_t b)
{
    uint64_t a;

    if (x86_rm_read(c, x, size, &a)) {
        set_cc(c, CC_OP_LOGIC, size, a & b & size_mask(size), 0);
    }
}

static void inc_dec(x86_cpu *c, unsigned size, uint64_t *v, bool dec)
{
    unsigned cf = get_cf(c);

    *v = (*v + (dec ? -1ull : 1ull)) & size_mask(size);
    set_cc(c, dec ? CC_OP_DEC : CC_OP_INC, size, *v, 0);
    c->cc_src2 = cf;
}

/* ---- multiply and divide ---- */

/* MUL/IMUL with the accumulator (F6/F7 /4 /5): rDX:rAX = rAX * src. */
static void exec_mul_acc(x86_cpu *c, x86_insn *x, unsigned size, uint64_t src, bool sign)
{
    uint64_t a = get_reg(c, x, R_EAX, size), lo, hi, m = size_mask(size);
    __int128 p;
    bool big;

    if (sign) {
        p = (__int128)(int64_t)sext(a, size) * (int64_t)sext(src, size);
    } else {
        p = (__int128)((unsigned __int128)a * src);
    }
    lo = (uint64_t)p & m;
    hi = size == 8 ? (uint64_t)((unsigned __int128)p >> 64) : ((uint64_t)p >> (size * 8)) & m;
    big = sign ? (p != (__int128)(int64_t)sext(lo, size)) : hi != 0;
    if (size == 1) {
        set_reg(c, x, R_EAX, 2, (hi << 8) | lo);
    } else {
        set_reg(c, x, R_EAX, size, lo);
        set_reg(c, x, R_EDX, size, hi);
    }
    set_cc(c, CC_OP_MUL, size, lo, big);
}

/* IMUL with a truncated result (0F AF, 69, 6B). */
static uint64_t imul_trunc(x86_cpu *c, unsigned size, uint64_t a, uint64_t b)
{
    __int128 p = (__int128)(int64_t)sext(a, size) * (int64_t)sext(b, size);
    uint64_t lo = (uint64_t)p & size_mask(size);

    set_cc(c, CC_OP_MUL, size, lo, p != (__int128)(int64_t)sext(lo, size));
    return lo;
}

/* DIV/IDIV: #DE on a zero divisor or a quotient that does not fit
 * (SDM DIV/IDIV). Flags are left as they were (undefined; QEMU too). */
static void exec_div(x86_cpu *c, x86_insn *x, unsigned size, uint64_t d, bool sign)
{
    uint64_t m = size_mask(size), lo, hi;
    unsigned __int128 n;

    if (size == 1) {
        lo = get_reg(c, x, R_EAX, 2);
        hi = 0;
        n = lo;
    } else {
        lo = get_reg(c, x, R_EAX, size);
        hi = get_reg(c, x, R_EDX, size);
        n = ((unsigned __int128)hi << (size * 8)) | lo;
    }
    if (d == 0) {
        x86_exception(c, EXC_DE, false, 0);
        return;
    }
    if (!sign && (uint64_t)(n >> 64) == 0) {
        /* the usual case (the high half zero, or small): one 64-bit
         * division instead of libgcc's 128-bit one */
        uint64_t n64 = (uint64_t)n, q = n64 / d;

        if (q > m) {
            x86_exception(c, EXC_DE, false, 0);
            return;
        }
        hi = n64 % d;
        lo = q;
    } else if (!sign) {
        unsigned __int128 q = n / d, r = n % d;

        if (q > m) {
            x86_exception(c, EXC_DE, false, 0);
            return;
        }
        lo = (uint64_t)q;
        hi = (uint64_t)r;
    } else {
        unsigned bits = size == 1 ? 16 : size * 16;
        __int128 sn = bits == 128 ? (__int128)n : (__int128)(n << (128 - bits)) >> (128 - bits);
        __int128 sd = (int64_t)sext(d, size), q, r;
        __int128 qmax = (__int128)(m >> 1), qmin = -qmax - 1;

        if (bits == 128 && sn == -((__int128)1 << 126) * 2 && sd == -1) {
            x86_exception(c, EXC_DE, false, 0); /* INT128_MIN / -1 */
            return;
        }
        q = sn / sd;
        r = sn % sd;
        if (q > qmax || q < qmin) {
            x86_exception(c, EXC_DE, false, 0);
            return;
        }
        lo = (uint64_t)q & m;
        hi = (uint64_t)r & m;
    }
    if (size == 1) {
        set_reg(c, x, R_EAX, 2, (hi << 8) | lo);
    } else {
        set_reg(c, x, R_EAX, size, lo);
        set_reg(c, x, R_EDX, size, hi);
    }
}

void x86_div(x86_cpu *c, unsigned size, uint64_t d, bool sign)
{
    x86_insn x = { .has_rex = false };

    exec_div(c, &x, size, d, sign);
}

/* Group 3 (F6/F7): TEST NOT NEG MUL IMUL DIV IDIV. */
static void exec_grp3(x86_cpu *c, x86_insn *x)
{
    unsigned size = x->op == 0xf6 ? 1 : x->opsize;
    uint64_t v, m = size_mask(size);

    if ((x->reg & 7) <= 1) {
        exec_test(c, x, size, x->imm);
        return;
    }
    if (!x86_rm_read(c, x, size, &v)) {
        return;
    }
    switch (x->reg & 7) {
    case 2:
        x86_rm_write(c, x, size, ~v & m);
        break;
    case 3:
        if (x86_rm_write(c, x, size, -v & m)) {
            set_cc(c, CC_OP_SUB, size, -v & m, v); /* 0 - v */
        }
        break;
    case 4:
    case 5:
        exec_mul_acc(c, x, size, v, (x->reg & 7) == 5);
        break;
    default:
        exec_div(c, x, size, v, (x->reg & 7) == 7);
        break;
    }
}

/* ---- shifts and rotates ---- */

static uint64_t rotate(x86_cpu *c, unsigned op, unsigned size, uint64_t v, unsigned count)
{
    unsigned bits = size * 8, n = count & (bits - 1);
    uint64_t m = size_mask(size), sb = sign_bit(size), r, f = x86_arith_flags(c);
    bool cf, of;

    if (op == 0) {
        r = n ? ((v << n) | (v >> (bits - n))) & m : v;
        cf = r & 1;
        of = cf ^ !!(r & sb);
    } else {
        r = n ? ((v >> n) | (v << (bits - n))) & m : v;
        cf = !!(r & sb);
        of = cf ^ !!(r & (sb >> 1));
    }
    f = (f & ~(uint64_t)(F_CF | F_OF)) | (cf ? F_CF : 0) | (of ? F_OF : 0);
    x86_put_arith(c, f);
    return r;
}

/* RCL/RCR through CF: the count is taken modulo width + 1 (SDM RCL). */
static uint64_t rotate_carry(x86_cpu *c, unsigned op, unsigned size, uint64_t v,
                             unsigned count)
{
    unsigned bits = size * 8;
    uint64_t f = x86_arith_flags(c), cin = f & F_CF, r, cout;

    if (bits < 32) {
        count %= bits + 1;
    }
    if (count == 0) {
        return v;
    }
    if (op == 2) {
        r = (v << count) | (cin << (count - 1));
        if (count > 1) {
            r |= v >> (bits + 1 - count);
        }
        cout = (v >> (bits - count)) & 1;
    } else {
        r = (v >> count) | (cin << (bits - count));
        if (count > 1) {
            r |= v << (bits + 1 - count);
        }
        cout = (v >> (count - 1)) & 1;
    }
    r &= size_mask(size);
    f &= ~(uint64_t)(F_CF | F_OF);
    f |= (cout ? F_CF : 0) | (((v ^ r) & sign_bit(size)) ? F_OF : 0);
    x86_put_arith(c, f);
    return r;
}

static uint64_t shift(x86_cpu *c, unsigned op, unsigned size, uint64_t v, unsigned count)
{
    uint64_t m = size_mask(size), r;

    switch (op) {
    case 4:
    case 6:
        r = (v << count) & m;
        set_cc(c, CC_OP_SHL, size, r, v << (count - 1));
        return r;
    case 5:
        r = v >> count;
        set_cc(c, CC_OP_SAR, size, r, v >> (count - 1));
        return r;
    default: {
        int64_t s = (int64_t)sext(v, size);

        r = (uint64_t)(s >> count) & m;
        set_cc(c, CC_OP_SAR, size, r, (uint64_t)(s >> (count - 1)));
        return r;
    }
    }
}

/* Group 2 (C0 C1 D0-D3): the count is masked to 5 bits (6 with REX.W);
 * a zero count changes nothing, flags included. */
static void exec_grp2(x86_cpu *c, x86_insn *x)
{
    unsigned size = (x->op & 1) ? x->opsize : 1, op = x->reg & 7, count;
    uint64_t v, r;

    if (x->op <= 0xc1) {
        count = (unsigned)x->imm;
    } else if (x->op <= 0xd1) {
        count = 1;
    } else {
        count = (unsigned)c->regs[R_ECX];
    }
    count &= size == 8 ? 0x3f : 0x1f;
    if (!x86_rm_read(c, x, size, &v)) {
        return;
    }
    if (count == 0) {
        if (!x->rm_is_mem) {
            set_reg(c, x, x->rm, size, v); /* a 32-bit register still zero-extends */
        }
        return;
    }
    if (op <= 1) {
        r = rotate(c, op, size, v, count);
    } else if (op <= 3) {
        r = rotate_carry(c, op, size, v, count);
    } else {
        r = shift(c, op, size, v, count);
    }
    x86_rm_write(c, x, size, r);
}

/* SHLD/SHRD (0F A4 A5 AC AD). 16-bit counts above 16 shift the
 * dest:src:dest pattern (Intel's behaviour, QEMU's too). */
static void exec_shiftd(x86_cpu *c, x86_insn *x)
{
    unsigned size = x->opsize, count, bits = size * 8;
    bool right = x->op >= 0x0fac;
    uint64_t d, s = get_reg(c, x, x->reg, size), r, t;

    count = (unsigned)((x->op & 1) ? c->regs[R_ECX] : x->imm) & (size == 8 ? 0x3f : 0x1f);
    if (!x86_rm_read(c, x, size, &d)) {
        return;
    }
    if (count == 0) {
        if (!x->rm_is_mem) {
            set_reg(c, x, x->rm, size, d); /* a 32-bit register still zero-extends */
        }
        return;
    }
    if (size == 8) {
        if (right) {
            r = (d >> count) | (s << (64 - count));
            t = d >> (count - 1);
        } else {
            r = (d << count) | (s >> (64 - count));
            t = d << (count - 1);
        }
    } else {
        uint64_t cat = size == 2 ? (d << 32 | s << 16 | d) : right ? (s << 32 | d) : (d << 32 | s);

        if (right) {
            r = cat >> count;
            t = cat >> (count - 1);
        } else {
            unsigned up = size == 2 ? 32 : 32;

            r = (cat << count) >> up;
            t = (cat << (count - 1)) >> up;
        }
    }
    (void)bits;
    r &= size_mask(size);
    if (!x86_rm_write(c, x, size, r)) {
        return;
    }
    set_cc(c, right ? CC_OP_SAR : CC_OP_SHL, size, r, t);
}

/* ---- bit operations ---- */

/* BT BTS BTR BTC: a register bit offset addresses memory beyond the
 * operand (signed, SDM BT "bit base"); an immediate one is masked. */
static void exec_bt(x86_cpu *c, x86_insn *x, unsigned op, uint64_t off, bool imm)
{
    unsigned size = x->opsize, bits = size * 8;
    uint64_t v, bit, r;

    if (x->rm_is_mem && !imm) {
        int64_t so = (int64_t)sext(off, size);
        int64_t words = so >> (size == 8 ? 6 : size == 4 ? 5 : 4);

        x->ea += (uint64_t)(words * (int64_t)size);
        if (x->addrsize == 4) {
            x->ea = (uint32_t)x->ea;
        } else if (x->addrsize == 2) {
            x->ea &= 0xffff;
        }
    }
    bit = off & (bits - 1);
    if (!x86_rm_read(c, x, size, &v)) {
        return;
    }
    switch (op) {
    case 1:
        r = v | (1ull << bit);
        break;
    case 2:
        r = v & ~(1ull << bit);
        break;
    case 3:
        r = v ^ (1ull << bit);
        break;
    default:
        r = v;
        break;
    }
    if (op && !x86_rm_write(c, x, size, r)) {
        return;
    }
    x86_put_arith(c, (x86_arith_flags(c) & ~(uint64_t)F_CF) | ((v >> bit) & 1));
}

static bool cpuid_bit(x86_cpu *c, uint32_t leaf, int reg, int bit)
{
    uint32_t out[4];

    x86_cpuid(c, leaf, 0, out);
    return (out[reg] >> bit) & 1;
}

/* BSF/BSR; with F3 and the feature advertised, TZCNT/LZCNT. */
static void exec_bsf_bsr(x86_cpu *c, x86_insn *x)
{
    unsigned size = x->opsize, bits = size * 8;
    bool rev = x->op == 0x0fbd;
    uint64_t v, r;

    if (!x86_rm_read(c, x, size, &v)) {
        return;
    }
    if (x->rep && (rev ? cpuid_bit(c, 0x80000001, 2, 5) : cpuid_bit(c, 7, 1, 3))) {
        /* LZCNT/TZCNT: CF = source zero, ZF = result zero */
        r = v == 0 ? bits : rev ? (unsigned)__builtin_clzll(v) - (64 - bits)
                                : (unsigned)__builtin_ctzll(v);
        set_reg(c, x, x->reg, size, r);
        x86_put_arith(c, (v == 0 ? F_CF : 0) | (r == 0 ? F_ZF : 0));
        return;
    }
    /* ZF from the source; dest unchanged when it is zero (QEMU still
     * writes it back, which zero-extends a 32-bit register) */
    r = v == 0 ? get_reg(c, x, x->reg, size)
               : rev ? 63 - (unsigned)__builtin_clzll(v) : (unsigned)__builtin_ctzll(v);
    set_reg(c, x, x->reg, size, r);
    set_cc(c, CC_OP_LOGIC, size, v, 0);
}

static void exec_popcnt(x86_cpu *c, x86_insn *x)
{
    uint64_t v;

    if (!x->rep || !cpuid_bit(c, 1, 2, 23)) {
        x86_raise_ud(c);
        return;
    }
    if (!x86_rm_read(c, x, x->opsize, &v)) {
        return;
    }
    set_reg(c, x, x->reg, x->opsize, (uint64_t)__builtin_popcountll(v));
    x86_put_arith(c, v == 0 ? F_ZF : 0);
}

/* ---- exchange and compare ---- */

static void exec_xchg_rm(x86_cpu *c, x86_insn *x, unsigned size)
{
    uint64_t a;

    if (!x86_rm_read(c, x, size, &a)) {
        return;
    }
    if (x86_rm_write(c, x, size, get_reg(c, x, x->reg, size))) {
        set_reg(c, x, x->reg, size, a);
    }
}

static void exec_xadd(x86_cpu *c, x86_insn *x)
{
    unsigned size = x->op == 0x0fc0 ? 1 : x->opsize;
    uint64_t d, s = get_reg(c, x, x->reg, size), r;

    if (!x86_rm_read(c, x, size, &d)) {
        return;
    }
    r = (d + s) & size_mask(size);
    if (!x86_rm_write(c, x, size, r)) {
        return;
    }
    set_reg(c, x, x->reg, size, d);
    set_cc(c, CC_OP_ADD, size, r, s);
}

static void exec_cmpxchg(x86_cpu *c, x86_insn *x)
{
    unsigned size = x->op == 0x0fb0 ? 1 : x->opsize;
    uint64_t d, a = get_reg(c, x, R_EAX, size);

    if (!x86_rm_read(c, x, size, &d)) {
        return;
    }
    if (a == d) {
        if (!x86_rm_write(c, x, size, get_reg(c, x, x->reg, size))) {
            return;
        }
    } else {
        if (x->rm_is_mem && !x86_rm_write(c, x, size, d)) {
            return; /* the locked cycle writes the old value back */
        }
        set_reg(c, x, R_EAX, size, d);
    }
    alu(c, 7, size, a, d);
}

/* CMPXCHG8B/16B (0F C7 /1). */
static void exec_cmpxchg8b(x86_cpu *c, x86_insn *x)
{
    unsigned half = x->opsize == 8 ? 8 : 4;
    uint64_t m[2] = {0, 0}, f = x86_arith_flags(c) & ~(uint64_t)F_ZF;
    uint64_t a = get_reg(c, x, R_EAX, half), d = get_reg(c, x, R_EDX, half);

    if (!x->rm_is_mem || (half == 8 && !cpuid_bit(c, 1, 2, 13))) {
        x86_raise_ud(c);
        return;
    }
    if (half == 8 && (x->ea & 15)) {
        x86_raise_gp(c, 0);
        return;
    }
    if (!x86_mem_read(c, x->seg, x->ea, m, half * 2)) {
        return;
    }
    if (half == 4) {
        m[1] = m[0] >> 32;
        m[0] &= 0xffffffffu;
    }
    if (m[0] == a && m[1] == d) {
        uint64_t n[2] = {get_reg(c, x, R_EBX, half), get_reg(c, x, R_ECX, half)};

        if (half == 4) {
            n[0] |= n[1] << 32;
        }
        if (!x86_mem_write(c, x->seg, x->ea, n, half * 2)) {
            return;
        }
        f |= F_ZF;
    } else {
        set_reg(c, x, R_EAX, half, m[0]);
        set_reg(c, x, R_EDX, half, m[1]);
    }
    x86_put_arith(c, f);
}

/* ---- moves ---- */

static void exec_movx(x86_cpu *c, x86_insn *x, unsigned from, bool sign)
{
    uint64_t v;

    if (x86_rm_read(c, x, from, &v)) {
        set_reg(c, x, x->reg, x->opsize, sign ? sext(v, from) : v);
    }
}

static void exec_mov_rm(x86_cpu *c, x86_insn *x)
{
    unsigned size = (x->op & 1) ? x->opsize : 1;
    uint64_t v;

    if (x->op <= 0x89) {
        x86_rm_write(c, x, size, get_reg(c, x, x->reg, size));
    } else if (x86_rm_read(c, x, size, &v)) {
        set_reg(c, x, x->reg, size, v);
    }
}

static void exec_mov_moffs(x86_cpu *c, x86_insn *x)
{
    unsigned size = (x->op & 1) ? x->opsize : 1;
    uint64_t v = 0;

    if (x->op <= 0xa1) {
        if (x86_mem_read(c, x->seg, x->ea, &v, size)) {
            set_reg(c, x, R_EAX, size, v);
        }
    } else {
        v = get_reg(c, x, R_EAX, size);
        x86_mem_write(c, x->seg, x->ea, &v, size);
    }
}

static void exec_lea(x86_cpu *c, x86_insn *x)
{
    if (!x->rm_is_mem) {
        x86_raise_ud(c);
        return;
    }
    set_reg(c, x, x->reg, x->opsize, x->ea);
}

static void exec_bswap(x86_cpu *c, x86_insn *x)
{
    int r = (x->op & 7) | ((x->rex & 1) << 3);

    if (x->opsize == 8) {
        c->regs[r] = __builtin_bswap64(c->regs[r]);
    } else if (x->opsize == 4) {
        c->regs[r] = __builtin_bswap32((uint32_t)c->regs[r]);
    } else {
        set_reg(c, x, r, 2, 0); /* undefined; QEMU and hardware give 0 */
    }
}

static void exec_cmov(x86_cpu *c, x86_insn *x)
{
    uint64_t v;

    if (!x86_rm_read(c, x, x->opsize, &v)) {
        return;
    }
    if (x86_cond(c, x->op & 15)) {
        set_reg(c, x, x->reg, x->opsize, v);
    } else if (x->opsize == 4) {
        set_reg(c, x, x->reg, 4, get_reg(c, x, x->reg, 4)); /* zero-extends */
    }
}

/* ---- groups with INC/DEC ---- */

static void exec_grp4(x86_cpu *c, x86_insn *x)
{
    uint64_t v;

    if ((x->reg & 7) > 1) {
        x86_raise_ud(c);
        return;
    }
    if (!x86_rm_read(c, x, 1, &v)) {
        return;
    }
    {
        uint64_t n = v;
        unsigned cf = get_cf(c);

        n = (n + ((x->reg & 7) ? -1ull : 1ull)) & 0xff;
        if (x86_rm_write(c, x, 1, n)) {
            set_cc(c, (x->reg & 7) ? CC_OP_DEC : CC_OP_INC, 1, n, 0);
            c->cc_src2 = cf;
        }
    }
}

void x86_exec_grp5_incdec(x86_cpu *c, x86_insn *x)
{
    uint64_t v;
    unsigned cf;

    if (!x86_rm_read(c, x, x->opsize, &v)) {
        return;
    }
    cf = get_cf(c);
    v = (v + ((x->reg & 7) ? -1ull : 1ull)) & size_mask(x->opsize);
    if (x86_rm_write(c, x, x->opsize, v)) {
        set_cc(c, (x->reg & 7) ? CC_OP_DEC : CC_OP_INC, x->opsize, v, 0);
        c->cc_src2 = cf;
    }
}

static void exec_inc_dec_reg(x86_cpu *c, x86_insn *x)
{
    int r = x->op & 7;
    uint64_t v = get_reg(c, x, r, x->opsize);

    inc_dec(c, x->opsize, &v, x->op >= 0x48);
    set_reg(c, x, r, x->opsize, v);
}

/* ---- dispatch ---- */

/* The 0F BA group: BT/BTS/BTR/BTC Ev, Ib. */
static void exec_grp8(x86_cpu *c, x86_insn *x)
{
    if ((x->reg & 7) < 4) {
        x86_raise_ud(c);
        return;
    }
    exec_bt(c, x, x->reg & 3, x->imm & 0xff, true);
}

static bool exec_0f_int(x86_cpu *c, x86_insn *x)
{
    unsigned op = x->op & 0xff;

    if (op >= 0x40 && op <= 0x4f) {
        exec_cmov(c, x);
    } else if (op >= 0xc8 && op <= 0xcf) {
        exec_bswap(c, x);
    } else {
        switch (op) {
        case 0xa3: exec_bt(c, x, 0, get_reg(c, x, x->reg, x->opsize), false); break;
        case 0xab: exec_bt(c, x, 1, get_reg(c, x, x->reg, x->opsize), false); break;
        case 0xb3: exec_bt(c, x, 2, get_reg(c, x, x->reg, x->opsize), false); break;
        case 0xbb: exec_bt(c, x, 3, get_reg(c, x, x->reg, x->opsize), false); break;
        case 0xba: exec_grp8(c, x); break;
        case 0xa4: case 0xa5: case 0xac: case 0xad: exec_shiftd(c, x); break;
        case 0xaf: {
            uint64_t v;

            if (x86_rm_read(c, x, x->opsize, &v)) {
                set_reg(c, x, x->reg, x->opsize,
                        imul_trunc(c, x->opsize, get_reg(c, x, x->reg, x->opsize), v));
            }
            break;
        }
        case 0xb0: case 0xb1: exec_cmpxchg(c, x); break;
        case 0xb6: exec_movx(c, x, 1, false); break;
        case 0xb7: exec_movx(c, x, 2, false); break;
        case 0xbe: exec_movx(c, x, 1, true); break;
        case 0xbf: exec_movx(c, x, 2, true); break;
        case 0xb8: exec_popcnt(c, x); break;
        case 0xbc: case 0xbd: exec_bsf_bsr(c, x); break;
        case 0xc0: case 0xc1: exec_xadd(c, x); break;
        default:
            return false;
        }
    }
    return true;
}

/* One-byte integer opcodes handled in this file; false: not one of them. */
static bool exec_1_int(x86_cpu *c, x86_insn *x)
{
    unsigned op = x->op;
    uint64_t v;

    if (op < 0x40 && (op & 7) < 6) {
        exec_alu(c, x);
        return true;
    }
    if (op >= 0x40 && op <= 0x4f) {
        exec_inc_dec_reg(c, x); /* 16/32-bit modes: REX in 64-bit mode */
        return true;
    }
    if (op >= 0xb0 && op <= 0xbf) {
        int r = (op & 7) | ((x->rex & 1) << 3);

        set_reg(c, x, r, op < 0xb8 ? 1 : x->opsize, x->imm);
        return true;
    }
    if (op >= 0x91 && op <= 0x97) {
        int r = (op & 7) | ((x->rex & 1) << 3);

        v = get_reg(c, x, r, x->opsize);
        set_reg(c, x, r, x->opsize, get_reg(c, x, R_EAX, x->opsize));
        set_reg(c, x, R_EAX, x->opsize, v);
        return true;
    }
    switch (op) {
    case 0x80: case 0x82:
        exec_alu_rm(c, x, x->reg & 7, 1, 0, true);
        break;
    case 0x81: case 0x83:
        exec_alu_rm(c, x, x->reg & 7, x->opsize, 0, true);
        break;
    case 0x84: exec_test(c, x, 1, get_reg(c, x, x->reg, 1)); break;
    case 0x85: exec_test(c, x, x->opsize, get_reg(c, x, x->reg, x->opsize)); break;
    case 0x86: exec_xchg_rm(c, x, 1); break;
    case 0x87: exec_xchg_rm(c, x, x->opsize); break;
    case 0x88: case 0x89: case 0x8a: case 0x8b: exec_mov_rm(c, x); break;
    case 0x8d: exec_lea(c, x); break;
    case 0x63:
        if (c->code_bits != 64) {
            x86_raise_ud(c); /* ARPL: not supported */
        } else {
            exec_movx(c, x, x->opsize == 8 ? 4 : x->opsize, x->opsize == 8);
        }
        break;
    case 0x69: case 0x6b:
        if (x86_rm_read(c, x, x->opsize, &v)) {
            set_reg(c, x, x->reg, x->opsize, imul_trunc(c, x->opsize, v, x->imm));
        }
        break;
    case 0xa0: case 0xa1: case 0xa2: case 0xa3: exec_mov_moffs(c, x); break;
    case 0xa8: set_cc(c, CC_OP_LOGIC, 1, get_reg(c, x, R_EAX, 1) & x->imm & 0xff, 0); break;
    case 0xa9:
        set_cc(c, CC_OP_LOGIC, x->opsize,
               get_reg(c, x, R_EAX, x->opsize) & x->imm & size_mask(x->opsize), 0);
        break;
    case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3: exec_grp2(c, x); break;
    case 0xc6: case 0xc7:
        if ((x->reg & 7) != 0) {
            x86_raise_ud(c);
        } else {
            x86_rm_write(c, x, op == 0xc6 ? 1 : x->opsize, x->imm);
        }
        break;
    case 0xf6: case 0xf7: exec_grp3(c, x); break;
    case 0xfe: exec_grp4(c, x); break;
    default:
        return false;
    }
    return true;
}

void x86_exec_insn(x86_cpu *c, x86_insn *x)
{
    if (x->op < 0x100) {
        if (exec_1_int(c, x) || x86_exec_ctl(c, x)) {
            return;
        }
    } else if (x->op < 0x1000) {
        if ((x->op == 0x0fc7 && (x->reg & 7) == 1)) {
            exec_cmpxchg8b(c, x);
            return;
        }
        if (exec_0f_int(c, x) || x86_exec_ctl(c, x)) {
            return;
        }
    }
    if (x->op >= 0x100 && x86_exec_sse(c, x)) {
        return;
    }
    x86_raise_ud(c);
}
