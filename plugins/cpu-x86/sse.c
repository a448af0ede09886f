/*
 * cpu-x86: MMX, SSE and SSE2 dispatch, data moves, integer SIMD, MXCSR,
 * fences and FXSAVE/FXRSTOR entry (SDM vol. 2; operand forms per the
 * opcode map, vol. 2 appendix A, with the 66/F3/F2 mandatory prefixes).
 * Floating point is in sse-fp.c.
 *
 * Availability (SDM vol. 3 2.5, table 2-2 and 13.1): MMX forms: CR0.EM
 * -> #UD, CR0.TS -> #NM; SSE forms additionally #UD without CR4.OSFXSR.
 * Every MMX instruction but EMMS sets TOP = 0 and tags all valid.
 */
#include "sse.h"

typedef xmm_reg V;

/* ---- availability ---- */

static bool sse_ok(x86_cpu *c)
{
    if ((c->cr0 & CR0_EM) || !(c->cr4 & CR4_OSFXSR)) {
        x86_raise_ud(c);
        return false;
    }
    if (c->cr0 & CR0_TS) {
        x86_exception(c, EXC_NM, false, 0);
        return false;
    }
    return true;
}

static bool mmx_ok(x86_cpu *c)
{
    if (c->cr0 & CR0_EM) {
        x86_raise_ud(c);
        return false;
    }
    if (c->cr0 & CR0_TS) {
        x86_exception(c, EXC_NM, false, 0);
        return false;
    }
    x86_mmx_enter(c);
    return true;
}

/* ---- operands ---- */

static int mseg(const x86_insn *x)
{
    return x->seg != S_NONE ? x->seg : S_DS;
}

bool sse_read_mem(x86_cpu *c, x86_insn *x, void *buf, unsigned n, bool align)
{
    if (align && (x->ea & 15)) {
        x86_raise_gp(c, 0);
        return false;
    }
    return x86_mem_read(c, mseg(x), x->ea, buf, n);
}

bool sse_write_mem(x86_cpu *c, x86_insn *x, const void *buf, unsigned n, bool align)
{
    if (align && (x->ea & 15)) {
        x86_raise_gp(c, 0);
        return false;
    }
    return x86_mem_write(c, mseg(x), x->ea, buf, n);
}

bool sse_src(x86_cpu *c, x86_insn *x, V *v, unsigned n, bool align)
{
    if (!x->rm_is_mem) {
        *v = c->xmm[x->rm];
        return true;
    }
    memset(v, 0, sizeof(*v));
    return sse_read_mem(c, x, v, n, align && n == 16);
}

bool sse_src_mm(x86_cpu *c, x86_insn *x, uint64_t *v)
{
    if (!x->rm_is_mem) {
        *v = x86_mmx_get(c, x->rm & 7);
        return true;
    }
    return sse_read_mem(c, x, v, 8, false);
}

uint64_t sse_gpr_read(x86_cpu *c, int r, bool w64)
{
    return w64 ? c->regs[r] : (uint32_t)c->regs[r];
}

void sse_gpr_write(x86_cpu *c, int r, uint64_t v, bool w64)
{
    c->regs[r] = w64 ? v : (uint32_t)v;
}

/* ---- integer SIMD lanes (n = 8 for MMX, 16 for XMM) ---- */

static int64_t sat(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* mode: 0 wrapping, 1 unsigned saturation, 2 signed saturation. */
static void add_sub(V *r, const V *a, const V *b, int sz, bool sub, int mode, unsigned n)
{
    for (unsigned i = 0; i < n / sz; i++) {
        if (sz == 4) {
            r->l[i] = sub ? a->l[i] - b->l[i] : a->l[i] + b->l[i];
        } else if (sz == 2) {
            int64_t x = mode == 2 ? (int16_t)a->w[i] : a->w[i], y = mode == 2 ? (int16_t)b->w[i] : b->w[i];
            int64_t v = sub ? x - y : x + y;
            r->w[i] = (uint16_t)(mode == 2 ? sat(v, -32768, 32767) : mode == 1 ? sat(v, 0, 65535) : v);
        } else {
            int64_t x = mode == 2 ? (int8_t)a->b[i] : a->b[i], y = mode == 2 ? (int8_t)b->b[i] : b->b[i];
            int64_t v = sub ? x - y : x + y;
            r->b[i] = (uint8_t)(mode == 2 ? sat(v, -128, 127) : mode == 1 ? sat(v, 0, 255) : v);
        }
    }
}

/* Shifts: by count (D1-D3 E1 E2 F1-F3 and the 71-73 immediates). kind:
 * 0 logical right, 1 arithmetic right, 2 left. */
static void shift(V *r, const V *a, int sz, int kind, uint64_t cnt, unsigned n)
{
    unsigned bits = sz * 8;

    for (unsigned i = 0; i < n / sz; i++) {
        uint64_t v = sz == 2 ? a->w[i] : sz == 4 ? a->l[i] : a->q[i];
        int64_t sv = sz == 2 ? (int16_t)v : sz == 4 ? (int32_t)v : (int64_t)v;
        if (kind == 1) {
            v = (uint64_t)(sv >> (cnt >= bits ? bits - 1 : cnt));
        } else if (cnt >= bits) {
            v = 0;
        } else {
            v = kind == 0 ? v >> cnt : v << cnt;
        }
        if (sz == 2) {
            r->w[i] = (uint16_t)v;
        } else if (sz == 4) {
            r->l[i] = (uint32_t)v;
        } else {
            r->q[i] = v;
        }
    }
}

static void cmp_lanes(int op, V *r, const V *a, const V *b, unsigned n)
{
    /* 64-66 PCMPGT B W D, 74-76 PCMPEQ B W D */
    int sz = 1 << (op & 3);
    bool eq = op >= 0x74;

    for (unsigned i = 0; i < n / sz; i++) {
        bool t;
        if (sz == 1) {
            t = eq ? a->b[i] == b->b[i] : (int8_t)a->b[i] > (int8_t)b->b[i];
            r->b[i] = t ? 0xff : 0;
        } else if (sz == 2) {
            t = eq ? a->w[i] == b->w[i] : (int16_t)a->w[i] > (int16_t)b->w[i];
            r->w[i] = t ? 0xffff : 0;
        } else {
            t = eq ? a->l[i] == b->l[i] : (int32_t)a->l[i] > (int32_t)b->l[i];
            r->l[i] = t ? ~0u : 0;
        }
    }
}

/* 60-62, 68-6A, 6C, 6D: PUNPCKL/H BW WD DQ QDQ (also UNPCKL/HPS/PD). */
static void unpack(V *r, const V *a, const V *b, int sz, bool high, unsigned n)
{
    unsigned lanes = n / sz, base = high ? lanes / 2 : 0;
    V t;

    for (unsigned i = 0; i < lanes / 2; i++) {
        memcpy(&t.b[(2 * i) * sz], &a->b[(base + i) * sz], sz);
        memcpy(&t.b[(2 * i + 1) * sz], &b->b[(base + i) * sz], sz);
    }
    memcpy(r, &t, n);
}

/* 63 PACKSSWB, 67 PACKUSWB, 6B PACKSSDW. */
static void pack(int op, V *r, const V *a, const V *b, unsigned n)
{
    V t;

    if (op == 0x6b) {
        for (unsigned i = 0; i < n / 4; i++) {
            t.w[i] = (uint16_t)sat((int32_t)a->l[i], -32768, 32767);
            t.w[i + n / 4] = (uint16_t)sat((int32_t)b->l[i], -32768, 32767);
        }
    } else {
        int64_t lo = op == 0x63 ? -128 : 0, hi = op == 0x63 ? 127 : 255;
        for (unsigned i = 0; i < n / 2; i++) {
            t.b[i] = (uint8_t)sat((int16_t)a->w[i], lo, hi);
            t.b[i + n / 2] = (uint8_t)sat((int16_t)b->w[i], lo, hi);
        }
    }
    memcpy(r, &t, n);
}

/* D5 PMULLW, E5 PMULHW, E4 PMULHUW, F4 PMULUDQ, F5 PMADDWD, F6 PSADBW. */
static void mul(int op, V *r, const V *a, const V *b, unsigned n)
{
    V t = { .q = { 0, 0 } };

    for (unsigned i = 0; i < n / 2 && op != 0xf4 && op != 0xf6; i++) {
        int32_t ss = (int16_t)a->w[i] * (int16_t)b->w[i];
        uint32_t uu = (uint32_t)a->w[i] * b->w[i];
        if (op == 0xf5) {
            if (i & 1) {
                t.l[i / 2] = (uint32_t)((int32_t)((int16_t)a->w[i - 1] * (int16_t)b->w[i - 1]) + (int64_t)ss);
            }
            continue;
        }
        t.w[i] = (uint16_t)(op == 0xd5 ? (uint32_t)ss : op == 0xe5 ? (uint32_t)ss >> 16 : uu >> 16);
    }
    for (unsigned i = 0; i < n / 8 && (op == 0xf4 || op == 0xf6); i++) {
        if (op == 0xf4) {
            t.q[i] = (uint64_t)a->l[2 * i] * b->l[2 * i];
        } else {
            unsigned s = 0;
            for (int j = 0; j < 8; j++) {
                int d = a->b[8 * i + j] - b->b[8 * i + j];
                s += d < 0 ? -d : d;
            }
            t.q[i] = s;
        }
    }
    memcpy(r, &t, n);
}

/* DA PMINUB, DE PMAXUB, EA PMINSW, EE PMAXSW, E0 PAVGB, E3 PAVGW. */
static void minmax_avg(int op, V *r, const V *a, const V *b, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (op == 0xda) {
            r->b[i] = a->b[i] < b->b[i] ? a->b[i] : b->b[i];
        } else if (op == 0xde) {
            r->b[i] = a->b[i] > b->b[i] ? a->b[i] : b->b[i];
        } else if (op == 0xe0) {
            r->b[i] = (uint8_t)((a->b[i] + b->b[i] + 1) >> 1);
        }
    }
    for (unsigned i = 0; i < n / 2; i++) {
        if (op == 0xea) {
            r->w[i] = (int16_t)a->w[i] < (int16_t)b->w[i] ? a->w[i] : b->w[i];
        } else if (op == 0xee) {
            r->w[i] = (int16_t)a->w[i] > (int16_t)b->w[i] ? a->w[i] : b->w[i];
        } else if (op == 0xe3) {
            r->w[i] = (uint16_t)((a->w[i] + b->w[i] + 1) >> 1);
        }
    }
}

static void logic(int op, V *r, const V *a, const V *b, unsigned n)
{
    for (unsigned i = 0; i < n / 8; i++) {
        switch (op) {
        case 0xdb:
        case 0x54:
            r->q[i] = a->q[i] & b->q[i];
            break;
        case 0xdf:
        case 0x55:
            r->q[i] = ~a->q[i] & b->q[i];
            break;
        case 0xeb:
        case 0x56:
            r->q[i] = a->q[i] | b->q[i];
            break;
        default:
            r->q[i] = a->q[i] ^ b->q[i];
            break;
        }
    }
}

/* Binary integer op d = d op s on n bytes; false: not one of these. */
static bool int_binop(int op, V *d, const V *s, unsigned n)
{
    static const int shift_sz[16] = { 0, 2, 4, 8, 0, 0, 0, 0, 0, 2, 4, 0, 0, 0, 0, 0 };
    uint64_t cnt = s->q[0];

    if ((op >= 0x60 && op <= 0x62) || (op >= 0x68 && op <= 0x6a)) {
        unpack(d, d, s, 1 << (op & 3), op >= 0x68, n);
    } else if (op == 0x6c || op == 0x6d) {
        unpack(d, d, s, 8, op == 0x6d, n);
    } else if (op == 0x63 || op == 0x67 || op == 0x6b) {
        pack(op, d, d, s, n);
    } else if ((op >= 0x64 && op <= 0x66) || (op >= 0x74 && op <= 0x76)) {
        cmp_lanes(op, d, d, s, n);
    } else if (op >= 0xd1 && op <= 0xd3) {
        shift(d, d, shift_sz[op & 15], 0, cnt, n);
    } else if (op == 0xe1 || op == 0xe2) {
        shift(d, d, shift_sz[(op & 15) + 8], 1, cnt, n);
    } else if (op >= 0xf1 && op <= 0xf3) {
        shift(d, d, shift_sz[op & 15], 2, cnt, n);
    } else if (op == 0xd4 || op == 0xfb) {
        for (unsigned i = 0; i < n / 8; i++) {
            d->q[i] = op == 0xd4 ? d->q[i] + s->q[i] : d->q[i] - s->q[i];
        }
    } else if (op >= 0xf8 && op <= 0xfe) {
        add_sub(d, d, s, 1 << (op & 3), op < 0xfc, 0, n);
    } else if (op == 0xd8 || op == 0xd9 || op == 0xdc || op == 0xdd) {
        add_sub(d, d, s, 1 << (op & 1), !(op & 4), 1, n);
    } else if (op == 0xe8 || op == 0xe9 || op == 0xec || op == 0xed) {
        add_sub(d, d, s, 1 << (op & 1), !(op & 4), 2, n);
    } else if (op == 0xd5 || op == 0xe5 || op == 0xe4 || op == 0xf4 || op == 0xf5 || op == 0xf6) {
        mul(op, d, d, s, n);
    } else if (op == 0xda || op == 0xde || op == 0xea || op == 0xee || op == 0xe0 || op == 0xe3) {
        minmax_avg(op, d, d, s, n);
    } else if (op == 0xdb || op == 0xdf || op == 0xeb || op == 0xef) {
        logic(op, d, d, s, n);
    } else {
        return false;
    }
    return true;
}

/* ---- integer forms: MMX (no prefix) or XMM (66) ---- */

/* d = d op r/m for the integer and logic opcodes of both register files. */
static bool int_form(x86_cpu *c, x86_insn *x, int op)
{
    V d, s;

    if (x->mandatory == 0x66) {
        if (!sse_ok(c) || !sse_src(c, x, &s, 16, true)) {
            return true;
        }
        d = c->xmm[x->reg];
        if (!int_binop(op, &d, &s, 16)) {
            return false;
        }
        c->xmm[x->reg] = d;
        return true;
    }
    if (x->mandatory != 0 || op == 0x6c || op == 0x6d || (op >= 0x54 && op <= 0x57)) {
        return false;
    }
    if (!mmx_ok(c) || !sse_src_mm(c, x, &s.q[0])) {
        return true;
    }
    d.q[0] = x86_mmx_get(c, x->reg & 7);
    if (!int_binop(op, &d, &s, 8)) {
        return false;
    }
    x86_mmx_set(c, x->reg & 7, d.q[0]);
    return true;
}

/* 71/72/73: shift groups by imm8 on the r/m register. */
static bool shift_imm(x86_cpu *c, x86_insn *x, int op)
{
    static const int kinds[8] = { -1, -1, 0, -1, 1, -1, 2, -1 };
    int r = x->reg & 7, sz = op == 0x71 ? 2 : op == 0x72 ? 4 : 8;
    bool xmm = x->mandatory == 0x66;
    unsigned cnt = x->imm & 0xff;
    V v;

    if (!x->rm_is_mem && op == 0x73 && xmm && (r == 3 || r == 7)) {
        /* PSRLDQ / PSLLDQ: whole-register byte shifts */
        V t = { .q = { 0, 0 } };
        if (!sse_ok(c)) {
            return true;
        }
        v = c->xmm[x->rm];
        for (unsigned i = 0; i < 16 && cnt < 16; i++) {
            if (r == 3 && i + cnt < 16) {
                t.b[i] = v.b[i + cnt];
            } else if (r == 7 && i >= cnt) {
                t.b[i] = v.b[i - cnt];
            }
        }
        c->xmm[x->rm] = t;
        return true;
    }
    if (x->rm_is_mem || kinds[r] < 0 || (op == 0x73 && r == 4) || (x->mandatory && !xmm)) {
        return false;
    }
    if (xmm) {
        if (sse_ok(c)) {
            shift(&c->xmm[x->rm], &c->xmm[x->rm], sz, kinds[r], cnt, 16);
        }
    } else if (mmx_ok(c)) {
        v.q[0] = x86_mmx_get(c, x->rm & 7);
        shift(&v, &v, sz, kinds[r], cnt, 8);
        x86_mmx_set(c, x->rm & 7, v.q[0]);
    }
    return true;
}

/* 70: PSHUFW (none), PSHUFD (66), PSHUFHW (F3), PSHUFLW (F2). */
static bool pshuf(x86_cpu *c, x86_insn *x)
{
    unsigned imm = x->imm & 0xff;
    V s, r;

    if (x->mandatory == 0) {
        uint64_t m, o = 0;
        if (!mmx_ok(c) || !sse_src_mm(c, x, &m)) {
            return true;
        }
        for (int i = 0; i < 4; i++) {
            o |= ((m >> (16 * ((imm >> (2 * i)) & 3))) & 0xffff) << (16 * i);
        }
        x86_mmx_set(c, x->reg & 7, o);
        return true;
    }
    if (!sse_ok(c) || !sse_src(c, x, &s, 16, true)) {
        return true;
    }
    r = s;
    for (int i = 0; i < 4; i++) {
        unsigned k = (imm >> (2 * i)) & 3;
        if (x->mandatory == 0x66) {
            r.l[i] = s.l[k];
        } else if (x->mandatory == 0xf3) {
            r.w[4 + i] = s.w[4 + k];
        } else {
            r.w[i] = s.w[k];
        }
    }
    c->xmm[x->reg] = r;
    return true;
}

/* ---- moves ---- */

/* 10/11 MOVUPS MOVUPD MOVSS MOVSD, 28/29 MOVAPS MOVAPD, 6F/7F MOVDQA
 * MOVDQU, 2B MOVNTPS/PD, E7 MOVNTDQ: load (to reg) or store (to r/m). */
static bool mov_full(x86_cpu *c, x86_insn *x, bool store, bool align)
{
    int m = x->mandatory;
    unsigned n = m == 0xf3 && (x->op & 0xff) < 0x20 ? 4 : m == 0xf2 ? 8 : 16;
    V v;

    if (!sse_ok(c)) {
        return true;
    }
    if (!store) {
        if (!sse_src(c, x, &v, n, align)) {
            return true;
        }
        if (n < 16 && !x->rm_is_mem) {
            V d = c->xmm[x->reg];
            memcpy(&d, &v, n);
            v = d;
        }
        c->xmm[x->reg] = v;
        return true;
    }
    if (x->rm_is_mem) {
        sse_write_mem(c, x, &c->xmm[x->reg], n, align && n == 16);
    } else {
        memcpy(&c->xmm[x->rm], &c->xmm[x->reg], n);
    }
    return true;
}

/* 12/13/16/17: MOVLPS MOVHPS MOVLPD MOVHPD MOVHLPS MOVLHPS. */
static bool mov_half(x86_cpu *c, x86_insn *x, int op)
{
    bool high = op >= 0x16, store = op & 1;
    V *d = &c->xmm[x->reg];

    if ((x->mandatory != 0 && x->mandatory != 0x66) || (!x->rm_is_mem && (store || x->mandatory))) {
        return false;
    }
    if (!sse_ok(c)) {
        return true;
    }
    if (!x->rm_is_mem) {
        d->q[high ? 1 : 0] = c->xmm[x->rm].q[high ? 0 : 1];
    } else if (store) {
        sse_write_mem(c, x, &d->q[high], 8, false);
    } else {
        uint64_t v;
        if (sse_read_mem(c, x, &v, 8, false)) {
            d->q[high] = v;
        }
    }
    return true;
}

/* 6E/7E: MOVD/MOVQ between GPR/memory and MMX/XMM; F3 7E MOVQ xmm. */
static bool mov_d(x86_cpu *c, x86_insn *x, bool store)
{
    bool w64 = x->rex & 8, xmm = x->mandatory == 0x66;
    unsigned n = w64 ? 8 : 4;
    uint64_t v = 0;

    if (x->mandatory == 0xf3 && store) {
        V s;
        if (sse_ok(c) && sse_src(c, x, &s, 8, false)) {
            c->xmm[x->reg].q[0] = s.q[0];
            c->xmm[x->reg].q[1] = 0;
        }
        return true;
    }
    if (x->mandatory != 0 && !xmm) {
        return false;
    }
    if (xmm ? !sse_ok(c) : !mmx_ok(c)) {
        return true;
    }
    if (store) {
        v = xmm ? c->xmm[x->reg].q[0] : x86_mmx_get(c, x->reg & 7);
        if (x->rm_is_mem) {
            sse_write_mem(c, x, &v, n, false);
        } else {
            sse_gpr_write(c, x->rm, v, w64);
        }
        return true;
    }
    if (x->rm_is_mem) {
        if (!sse_read_mem(c, x, &v, n, false)) {
            return true;
        }
    } else {
        v = sse_gpr_read(c, x->rm, w64);
    }
    if (xmm) {
        c->xmm[x->reg].q[0] = v;
        c->xmm[x->reg].q[1] = 0;
    } else {
        x86_mmx_set(c, x->reg & 7, v);
    }
    return true;
}

/* 6F/7F without prefix, E7 MOVNTQ: MOVQ mm <-> mm/m64. */
static bool movq_mm(x86_cpu *c, x86_insn *x, bool store)
{
    uint64_t v;

    if (!mmx_ok(c)) {
        return true;
    }
    if (!store) {
        if (sse_src_mm(c, x, &v)) {
            x86_mmx_set(c, x->reg & 7, v);
        }
        return true;
    }
    v = x86_mmx_get(c, x->reg & 7);
    if (x->rm_is_mem) {
        sse_write_mem(c, x, &v, 8, false);
    } else {
        x86_mmx_set(c, x->rm & 7, v);
    }
    return true;
}

/* D6: MOVQ xmm/m64, xmm (66), MOVQ2DQ (F3), MOVDQ2Q (F2). */
static bool op_d6(x86_cpu *c, x86_insn *x)
{
    if (x->mandatory == 0x66) {
        if (!sse_ok(c)) {
            return true;
        }
        if (x->rm_is_mem) {
            sse_write_mem(c, x, &c->xmm[x->reg].q[0], 8, false);
        } else {
            c->xmm[x->rm].q[0] = c->xmm[x->reg].q[0];
            c->xmm[x->rm].q[1] = 0;
        }
        return true;
    }
    if ((x->mandatory != 0xf3 && x->mandatory != 0xf2) || x->rm_is_mem) {
        return false;
    }
    if (!sse_ok(c) || !mmx_ok(c)) {
        return true;
    }
    if (x->mandatory == 0xf3) {
        c->xmm[x->reg].q[0] = x86_mmx_get(c, x->rm & 7);
        c->xmm[x->reg].q[1] = 0;
    } else {
        x86_mmx_set(c, x->reg & 7, c->xmm[x->rm].q[0]);
    }
    return true;
}

/* ---- masks, inserts, shuffles ---- */

/* 50 MOVMSKPS/PD, D7 PMOVMSKB: sign bits into a GPR (zero-extended). */
static bool movmsk(x86_cpu *c, x86_insn *x, int op)
{
    uint64_t m = 0;

    if (x->rm_is_mem || (x->mandatory != 0 && x->mandatory != 0x66)) {
        return false;
    }
    if (op == 0xd7 && x->mandatory == 0) {
        uint64_t v;
        if (!mmx_ok(c)) {
            return true;
        }
        v = x86_mmx_get(c, x->rm & 7);
        for (int i = 0; i < 8; i++) {
            m |= ((v >> (8 * i + 7)) & 1) << i;
        }
    } else {
        const V *s = &c->xmm[x->rm];
        if (!sse_ok(c)) {
            return true;
        }
        if (op == 0xd7) {
            for (int i = 0; i < 16; i++) {
                m |= (uint64_t)(s->b[i] >> 7) << i;
            }
        } else if (x->mandatory == 0x66) {
            m = (s->q[0] >> 63) | ((s->q[1] >> 63) << 1);
        } else {
            for (int i = 0; i < 4; i++) {
                m |= (uint64_t)(s->l[i] >> 31) << i;
            }
        }
    }
    c->regs[x->reg] = m;
    return true;
}

/* C4 PINSRW, C5 PEXTRW (register source only). */
static bool pinsr_pextr(x86_cpu *c, x86_insn *x, bool extract)
{
    bool xmm = x->mandatory == 0x66;
    unsigned sel = x->imm & (xmm ? 7 : 3);
    uint16_t w;

    if ((x->mandatory != 0 && !xmm) || (extract && x->rm_is_mem)) {
        return false;
    }
    if (xmm ? !sse_ok(c) : !mmx_ok(c)) {
        return true;
    }
    if (extract) {
        w = xmm ? c->xmm[x->rm].w[sel] : (uint16_t)(x86_mmx_get(c, x->rm & 7) >> (16 * sel));
        c->regs[x->reg] = w;
        return true;
    }
    if (x->rm_is_mem) {
        if (!sse_read_mem(c, x, &w, 2, false)) {
            return true;
        }
    } else {
        w = (uint16_t)c->regs[x->rm];
    }
    if (xmm) {
        c->xmm[x->reg].w[sel] = w;
    } else {
        uint64_t v = x86_mmx_get(c, x->reg & 7);
        v = (v & ~(0xffffull << (16 * sel))) | ((uint64_t)w << (16 * sel));
        x86_mmx_set(c, x->reg & 7, v);
    }
    return true;
}

/* C6 SHUFPS/SHUFPD; 14/15 UNPCKL/HPS/PD; 54-57 AND/ANDN/OR/XOR PS/PD. */
static bool fp_bitwise(x86_cpu *c, x86_insn *x, int op)
{
    unsigned imm = x->imm & 0xff;
    V s, d;

    if (x->mandatory != 0 && x->mandatory != 0x66) {
        return false;
    }
    if (!sse_ok(c) || !sse_src(c, x, &s, 16, true)) {
        return true;
    }
    d = c->xmm[x->reg];
    if (op == 0xc6 && x->mandatory == 0x66) {
        V r = { .q = { d.q[imm & 1], s.q[(imm >> 1) & 1] } };
        d = r;
    } else if (op == 0xc6) {
        V r = { .l = { d.l[imm & 3], d.l[(imm >> 2) & 3], s.l[(imm >> 4) & 3], s.l[(imm >> 6) & 3] } };
        d = r;
    } else if (op == 0x14 || op == 0x15) {
        unpack(&d, &d, &s, x->mandatory == 0x66 ? 8 : 4, op == 0x15, 16);
    } else {
        logic(op, &d, &d, &s, 16);
    }
    c->xmm[x->reg] = d;
    return true;
}

/* F7: MASKMOVQ / MASKMOVDQU: bytes with the mask's top bit set go to
 * DS:rDI (segment override allowed). */
static bool maskmov(x86_cpu *c, x86_insn *x)
{
    bool xmm = x->mandatory == 0x66;
    unsigned n = xmm ? 16 : 8;
    uint64_t base = c->regs[R_EDI];
    V d, m;

    if (x->rm_is_mem || (x->mandatory && !xmm)) {
        return false;
    }
    if (xmm ? !sse_ok(c) : !mmx_ok(c)) {
        return true;
    }
    base &= x->addrsize == 8 ? ~0ull : x->addrsize == 4 ? 0xffffffffull : 0xffffull;
    if (xmm) {
        d = c->xmm[x->reg];
        m = c->xmm[x->rm];
    } else {
        d.q[0] = x86_mmx_get(c, x->reg & 7);
        m.q[0] = x86_mmx_get(c, x->rm & 7);
    }
    for (unsigned i = 0; i < n; i++) {
        if ((m.b[i] & 0x80) && !x86_mem_write(c, mseg(x), base + i, &d.b[i], 1)) {
            return true;
        }
    }
    return true;
}

/* 0F AE: FXSAVE FXRSTOR LDMXCSR STMXCSR CLFLUSH; LFENCE MFENCE SFENCE. */
static bool group15(x86_cpu *c, x86_insn *x)
{
    int r = x->reg & 7;
    uint32_t v;

    if (x->mandatory != 0) {
        return false; /* RDFSBASE..., CLFLUSHOPT, CLWB: not advertised */
    }
    if (!x->rm_is_mem) {
        if (r < 5) {
            return false;
        }
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        return true;
    }
    switch (r) {
    case 0:
    case 1:
        if (c->cr0 & (CR0_EM | CR0_TS)) {
            x86_exception(c, EXC_NM, false, 0);
        } else if (r == 0) {
            x86_fxsave(c, x);
        } else {
            x86_fxrstor(c, x);
        }
        return true;
    case 2:
        if (sse_ok(c) && sse_read_mem(c, x, &v, 4, false)) {
            if (v & ~MXCSR_VALID) {
                x86_raise_gp(c, 0);
            } else {
                c->mxcsr = v;
            }
        }
        return true;
    case 3:
        if (sse_ok(c)) {
            sse_write_mem(c, x, &c->mxcsr, 4, false);
        }
        return true;
    case 7: /* CLFLUSH: caches are not modelled */
        return true;
    default:
        return false; /* XSAVE family: not advertised */
    }
}

/* ---- dispatch ---- */

static bool is_int_op(int op)
{
    return (op >= 0x60 && op <= 0x6d) || (op >= 0x74 && op <= 0x76) ||
           (op >= 0xd1 && op <= 0xd5) || (op >= 0xd8 && op <= 0xe5) ||
           (op >= 0xe8 && op <= 0xef) || (op >= 0xf1 && op <= 0xf6) ||
           (op >= 0xf8 && op <= 0xfe);
}

static bool exec_fp(x86_cpu *c, x86_insn *x)
{
    if (!sse_ok(c)) {
        return true;
    }
    return sse_exec_fp(c, x);
}

/* 6F/7F/E7/2B/C3: the remaining moves. */
static bool mov_misc(x86_cpu *c, x86_insn *x, int op)
{
    int m = x->mandatory;

    switch (op) {
    case 0x6f:
    case 0x7f:
        if (m == 0) {
            return movq_mm(c, x, op == 0x7f);
        }
        return m == 0xf2 ? false : mov_full(c, x, op == 0x7f, m == 0x66);
    case 0xe7:
        if (!x->rm_is_mem || (m != 0 && m != 0x66)) {
            return false;
        }
        return m == 0 ? movq_mm(c, x, true) : mov_full(c, x, true, true);
    case 0x2b:
        if (!x->rm_is_mem || (m != 0 && m != 0x66)) {
            return false;
        }
        return mov_full(c, x, true, true);
    default: /* C3 MOVNTI: an integer store, no FPU checks */
        if (!x->rm_is_mem || m != 0) {
            return false;
        }
        sse_write_mem(c, x, &c->regs[x->reg], (x->rex & 8) ? 8 : 4, false);
        return true;
    }
}

bool x86_exec_sse(x86_cpu *c, x86_insn *x)
{
    int op = x->op & 0xff;

    if ((x->op & 0xff00) != 0x0f00) {
        return false; /* no 0F 38 / 0F 3A instruction is advertised */
    }
    if (is_int_op(op)) {
        return int_form(c, x, op);
    }
    switch (op) {
    case 0x10:
    case 0x11:
        return mov_full(c, x, op == 0x11, false);
    case 0x12:
    case 0x13:
    case 0x16:
    case 0x17:
        return mov_half(c, x, op);
    case 0x14:
    case 0x15:
    case 0x54:
    case 0x55:
    case 0x56:
    case 0x57:
    case 0xc6:
        return fp_bitwise(c, x, op);
    case 0x18: /* PREFETCHh; the other encodings are hint NOPs */
        return true;
    case 0x28:
    case 0x29:
        return (x->mandatory == 0 || x->mandatory == 0x66) && mov_full(c, x, op == 0x29, true);
    case 0x2a:
    case 0x2c:
    case 0x2d:
    case 0x2e:
    case 0x2f:
    case 0x51:
    case 0x52:
    case 0x53:
    case 0x58:
    case 0x59:
    case 0x5a:
    case 0x5b:
    case 0x5c:
    case 0x5d:
    case 0x5e:
    case 0x5f:
    case 0xc2:
    case 0xe6:
        return exec_fp(c, x);
    case 0x50:
    case 0xd7:
        return movmsk(c, x, op);
    case 0x6e:
    case 0x7e:
        return mov_d(c, x, op == 0x7e);
    case 0x70:
        return pshuf(c, x);
    case 0x71:
    case 0x72:
    case 0x73:
        return shift_imm(c, x, op);
    case 0x77: /* EMMS */
        if (x->mandatory != 0) {
            return false;
        }
        if (mmx_ok(c)) {
            x86_mmx_emms(c);
        }
        return true;
    case 0xae:
        return group15(c, x);
    case 0xc4:
    case 0xc5:
        return pinsr_pextr(c, x, op == 0xc5);
    case 0xd6:
        return op_d6(c, x);
    case 0xf7:
        return maskmov(c, x);
    case 0x6f:
    case 0x7f:
    case 0xe7:
    case 0x2b:
    case 0xc3:
        return mov_misc(c, x, op);
    default:
        return false;
    }
}
