/*
 * cpu-arm: AdvSIMD floating-point encodings, vector and scalar-SIMD forms
 * (Arm ARM C4.1.6: three same, two-register misc, across lanes, pairwise,
 * indexed element, fixed-point shifts). Single and double precision only:
 * FP16 arithmetic is not advertised. Per-lane arithmetic goes through the
 * helpers of a64-fp.c, bracketed once per instruction by fp_begin/fp_end.
 */
#include "a64-simd.h"

#define RN ((insn >> 5) & 31)
#define RM ((insn >> 16) & 31)
#define RD (insn & 31)
#define QBIT ((insn >> 30) & 1)
#define UBIT ((insn >> 29) & 1)
#define ABIT ((insn >> 23) & 1)
#define SZ ((insn >> 22) & 1)

static inline unsigned lanes(uint32_t insn, bool scalar, bool dbl)
{
    return scalar ? 1 : (QBIT ? 16 : 8) >> (dbl ? 3 : 2);
}

static inline uint64_t sign_of(bool dbl)
{
    return dbl ? 1ull << 63 : 1ull << 31;
}

static inline uint64_t ones(bool dbl)
{
    return dbl ? ~0ull : 0xffffffffull;
}

/* FMAXNMP/FMINNMP/FADDP/FMAXP/FMINP operation from (a, opcode). */
static int pairwise_op(bool a, unsigned opc)
{
    switch (opc & 7) {
    case 0:
        return a ? FOP_MINNM : FOP_MAXNM;
    case 2:
        return a ? -1 : FOP_ADD;
    case 6:
        return a ? FOP_MIN : FOP_MAX;
    default:
        return -1;
    }
}

static void fp_vec_pairwise(arm_cpu *c, uint32_t insn, int fop)
{
    bool dbl = SZ;
    unsigned sz = dbl ? 3 : 2, n = lanes(insn, false, dbl);
    const vreg *vn = &c->v[RN], *vm = &c->v[RM];
    vreg r = { 0 };
    fp_begin(c);
    for (unsigned i = 0; i < n; i++) {
        const vreg *src = i < n / 2 ? vn : vm;
        unsigned j = (i % (n / 2)) * 2;
        elt_set(&r, i, sz,
                fp_binop(c, (unsigned)fop, elt_get(src, j, sz), elt_get(src, j + 1, sz), dbl));
    }
    fp_end(c);
    c->v[RD] = r;
}

static uint64_t fp3_elem(arm_cpu *c, unsigned key, uint64_t a, uint64_t b, uint64_t d, bool dbl)
{
    switch (key) {
    case 0x00:
        return fp_binop(c, FOP_MAXNM, a, b, dbl);
    case 0x08:
        return fp_binop(c, FOP_MINNM, a, b, dbl);
    case 0x01:
        return fp_muladd(c, d, a, b, dbl);
    case 0x09:
        return fp_muladd(c, d, a ^ sign_of(dbl), b, dbl);
    case 0x02:
        return fp_binop(c, FOP_ADD, a, b, dbl);
    case 0x0a:
        return fp_binop(c, FOP_SUB, a, b, dbl);
    case 0x03:
        return fp_binop(c, FOP_MULX, a, b, dbl);
    case 0x04:
        return fp_cmp_simd(c, 0, a, b, dbl, false) ? ones(dbl) : 0;
    case 0x06:
        return fp_binop(c, FOP_MAX, a, b, dbl);
    case 0x0e:
        return fp_binop(c, FOP_MIN, a, b, dbl);
    case 0x07:
        return fp_binop(c, FOP_RECPS, a, b, dbl);
    case 0x0f:
        return fp_binop(c, FOP_RSQRTS, a, b, dbl);
    case 0x13:
        return fp_binop(c, FOP_MUL, a, b, dbl);
    case 0x14:
        return fp_cmp_simd(c, 1, a, b, dbl, false) ? ones(dbl) : 0;
    case 0x15:
        return fp_cmp_simd(c, 1, a, b, dbl, true) ? ones(dbl) : 0;
    case 0x17:
        return fp_binop(c, FOP_DIV, a, b, dbl);
    case 0x1a:
        return fp_binop(c, FOP_ABD, a, b, dbl);
    case 0x1c:
        return fp_cmp_simd(c, 2, a, b, dbl, false) ? ones(dbl) : 0;
    default: /* 0x1d */
        return fp_cmp_simd(c, 2, a, b, dbl, true) ? ones(dbl) : 0;
    }
}

void simd_fp_three_same(arm_cpu *c, uint32_t insn, bool scalar)
{
    unsigned opc = (insn >> 11) & 31, key = (UBIT << 4) | (ABIT << 3) | (opc & 7);
    bool dbl = SZ;
    int pw = UBIT ? pairwise_op(ABIT, opc) : -1;
    if (pw >= 0 && !scalar) {
        if (dbl && !QBIT) {
            simd_unimp(c, insn);
            return;
        }
        fp_vec_pairwise(c, insn, pw);
        return;
    }
    static const uint32_t vec_ok = 0x34b8c7dfu; /* keys with a vector form */
    static const uint32_t scal_ok = 0x34308098u; /* keys with a scalar form */
    if (!(((scalar ? scal_ok : vec_ok) >> key) & 1) || (!scalar && dbl && !QBIT)) {
        simd_unimp(c, insn);
        return;
    }
    unsigned sz = dbl ? 3 : 2, n = lanes(insn, scalar, dbl);
    const vreg *vn = &c->v[RN], *vm = &c->v[RM], *vd = &c->v[RD];
    vreg r = { 0 };
    fp_begin(c);
    for (unsigned i = 0; i < n; i++) {
        elt_set(&r, i, sz,
                fp3_elem(c, key, elt_get(vn, i, sz), elt_get(vm, i, sz), elt_get(vd, i, sz), dbl));
    }
    fp_end(c);
    c->v[RD] = r;
}

/* FCVTN/FCVTN2 (narrow to half or single) and FCVTL/FCVTL2 (widen). */
static void fp_cvt_nl(arm_cpu *c, uint32_t insn, bool narrow)
{
    unsigned wide = SZ ? 3 : 2, nar = wide - 1, n = 8 >> nar;
    unsigned hi = QBIT ? n : 0;
    const vreg *vn = &c->v[RN];
    vreg r = { 0 };
    fp_begin(c);
    if (narrow) {
        if (hi) {
            r.d[0] = c->v[RD].d[0];
        }
        for (unsigned i = 0; i < n; i++) {
            elt_set(&r, hi + i, nar, fp_convert(c, elt_get(vn, i, wide), wide, nar));
        }
    } else {
        for (unsigned i = 0; i < n; i++) {
            elt_set(&r, i, wide, fp_convert(c, elt_get(vn, hi + i, nar), nar, wide));
        }
    }
    fp_end(c);
    c->v[RD] = r;
}

/* Per-lane misc op; kind: 0 cmp-zero, 1 abs, 2 neg, 3 frint, 4 fcvt to
 * int, 5 int to fp, 6 sqrt. arg: compare kind or rounding mode. */
static uint64_t misc_elem(arm_cpu *c, unsigned kind, unsigned arg, bool u, uint64_t a, bool dbl)
{
    switch (kind) {
    case 0:
        /* arg: 0 GT, 1 EQ, 2 LT, 4 GE, 5 LE (compare against +0.0) */
        if (arg == 2 || arg == 5) {
            return fp_cmp_simd(c, arg == 2 ? 2 : 1, 0, a, dbl, false) ? ones(dbl) : 0;
        }
        return fp_cmp_simd(c, arg == 0 ? 2 : arg == 1 ? 0 : 1, a, 0, dbl, false) ? ones(dbl)
                                                                                 : 0;
    case 1:
        return a & ~sign_of(dbl);
    case 2:
        return a ^ sign_of(dbl);
    case 3:
        return fp_round_int(c, a, dbl, arg & 7, arg & 8);
    case 4:
        return fp_to_int(c, a, dbl, dbl ? 3 : 2, !u, 0, arg);
    case 5:
        return int_to_fp(c, a, dbl ? 3 : 2, !u, 0, dbl);
    default:
        return fp_sqrt(c, a, dbl);
    }
}

/* Decode a two-register-misc FP opcode into (kind, arg); false if none. */
static bool misc_decode(arm_cpu *c, uint32_t insn, bool scalar, unsigned *kind, unsigned *arg)
{
    unsigned op = (insn >> 12) & 31;
    bool u = UBIT, a = ABIT;
    if (op >= 0x0c && op <= 0x0f) {
        unsigned k = (op - 0x0c) | (u << 2);
        /* GT EQ LT ABS / GE LE - NEG; FABS/FNEG have no scalar form */
        if (!a || k == 6 || ((k == 3 || k == 7) && scalar)) {
            return false;
        }
        *kind = k == 3 ? 1 : k == 7 ? 2 : 0;
        *arg = k;
        return true;
    }
    switch (op) {
    case 0x18:
    case 0x19:
        if (scalar || (u && op == 0x18 && a)) {
            return false;
        }
        *kind = 3;
        if (!u) {
            *arg = (op == 0x18 ? 0 : 2) + a; /* N P M Z */
        } else {
            *arg = op == 0x18 ? RND_TIEAWAY : (fp_rmode(c) | (a ? 0 : 8));
        }
        return true;
    case 0x1a:
    case 0x1b:
        *kind = 4;
        *arg = (op == 0x1a ? 0 : 2) + a;
        return true;
    case 0x1c:
        *kind = 4;
        *arg = RND_TIEAWAY;
        return !a;
    case 0x1d:
        *kind = 5;
        return !a;
    case 0x1f:
        *kind = 6;
        return u && a && !scalar;
    }
    return false;
}

bool simd_fp_misc(arm_cpu *c, uint32_t insn, bool scalar)
{
    unsigned op = (insn >> 12) & 31, kind, arg = 0;
    bool dbl = SZ;
    if ((op == 0x16 || op == 0x17) && !scalar && !ABIT && !UBIT) {
        fp_cvt_nl(c, insn, op == 0x16);
        return true;
    }
    if (!misc_decode(c, insn, scalar, &kind, &arg) || (!scalar && dbl && !QBIT)) {
        return false;
    }
    unsigned sz = dbl ? 3 : 2, n = lanes(insn, scalar, dbl);
    const vreg *vn = &c->v[RN];
    vreg r = { 0 };
    fp_begin(c);
    for (unsigned i = 0; i < n; i++) {
        elt_set(&r, i, sz, misc_elem(c, kind, arg, UBIT, elt_get(vn, i, sz), dbl));
    }
    fp_end(c);
    c->v[RD] = r;
    return true;
}

/* Scalar pairwise FP: op(Vn[0], Vn[1]). */
void simd_fp_pairwise(arm_cpu *c, uint32_t insn, bool scalar)
{
    unsigned opc = (insn >> 12) & 31;
    bool dbl = SZ;
    int op = opc == 0x0c ? (ABIT ? FOP_MINNM : FOP_MAXNM)
             : opc == 0x0d ? (ABIT ? -1 : FOP_ADD)
                           : (ABIT ? FOP_MIN : FOP_MAX);
    if (op < 0) {
        simd_unimp(c, insn);
        return;
    }
    unsigned sz = dbl ? 3 : 2;
    const vreg *vn = &c->v[RN];
    vreg r = { 0 };
    fp_begin(c);
    elt_set(&r, 0, sz, fp_binop(c, (unsigned)op, elt_get(vn, 0, sz), elt_get(vn, 1, sz), dbl));
    fp_end(c);
    c->v[RD] = r;
    (void)scalar;
}

/* FMAXNMV/FMINNMV/FMAXV/FMINV Sd, Vn.4S: Reduce() pairs halves. */
void simd_fp_across(arm_cpu *c, uint32_t insn)
{
    unsigned opc = (insn >> 12) & 31;
    if (!UBIT || !QBIT || SZ) {
        simd_unimp(c, insn);
        return;
    }
    unsigned op = opc == 0x0c ? (ABIT ? FOP_MINNM : FOP_MAXNM) : (ABIT ? FOP_MIN : FOP_MAX);
    const vreg *vn = &c->v[RN];
    vreg r = { 0 };
    fp_begin(c);
    uint64_t lo = fp_binop(c, op, vn->s[0], vn->s[1], false);
    uint64_t hi = fp_binop(c, op, vn->s[2], vn->s[3], false);
    r.s[0] = (uint32_t)fp_binop(c, op, lo, hi, false);
    fp_end(c);
    c->v[RD] = r;
}

/* FMLA, FMLS, FMUL, FMULX by element. */
void simd_fp_indexed(arm_cpu *c, uint32_t insn, bool scalar)
{
    unsigned op = (insn >> 12) & 15;
    bool dbl = SZ, h = (insn >> 11) & 1, l = (insn >> 21) & 1;
    if (!((insn >> 23) & 1) || (dbl && l) || (!scalar && dbl && !QBIT) ||
        (UBIT && op != 0x9)) {
        simd_unimp(c, insn); /* size 0x: FP16 */
        return;
    }
    unsigned idx = dbl ? h : (h << 1) | l, sz = dbl ? 3 : 2, n = lanes(insn, scalar, dbl);
    uint64_t b = elt_get(&c->v[RM], idx, sz);
    const vreg *vn = &c->v[RN], *vd = &c->v[RD];
    vreg r = { 0 };
    fp_begin(c);
    for (unsigned i = 0; i < n; i++) {
        uint64_t a = elt_get(vn, i, sz), x;
        if (op == 0x1) {
            x = fp_muladd(c, elt_get(vd, i, sz), a, b, dbl);
        } else if (op == 0x5) {
            x = fp_muladd(c, elt_get(vd, i, sz), a ^ sign_of(dbl), b, dbl);
        } else {
            x = fp_binop(c, UBIT ? FOP_MULX : FOP_MUL, a, b, dbl);
        }
        elt_set(&r, i, sz, x);
    }
    fp_end(c);
    c->v[RD] = r;
}

/* SCVTF/UCVTF/FCVTZS/FCVTZU (vector and scalar, fixed-point). */
void simd_fp_shift_conv(arm_cpu *c, uint32_t insn, bool scalar)
{
    unsigned immh = (insn >> 19) & 15, immhb = (insn >> 16) & 127;
    bool dbl = immh >= 8, to_fp = ((insn >> 11) & 31) == 0x1c, u = UBIT;
    if (immh < 4 || (!scalar && dbl && !QBIT)) {
        simd_unimp(c, insn);
        return;
    }
    unsigned sz = dbl ? 3 : 2, fbits = (16u << sz) - immhb, n = lanes(insn, scalar, dbl);
    const vreg *vn = &c->v[RN];
    vreg r = { 0 };
    fp_begin(c);
    for (unsigned i = 0; i < n; i++) {
        uint64_t a = elt_get(vn, i, sz);
        elt_set(&r, i, sz,
                to_fp ? int_to_fp(c, a, sz, !u, fbits, dbl)
                      : fp_to_int(c, a, dbl, sz, !u, fbits, RND_ZERO));
    }
    fp_end(c);
    c->v[RD] = r;
}
