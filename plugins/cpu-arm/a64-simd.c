/*
 * cpu-arm: Advanced SIMD data processing (Arm ARM C4.1.6, integer and
 * permute encodings), the FP access trap, and the top-level decode of the
 * "Data Processing -- Scalar Floating-Point and Advanced SIMD" group.
 * Scalar FP lives in a64-fp.c, vector FP in a64-simd-fpvec.c, structure
 * loads/stores in a64-simd-ldst.c.
 *
 * Every form computes into a zeroed temporary and stores all 128 bits:
 * writes of 64-bit vectors and scalars clear the upper bits for free.
 * Not implemented (not advertised by ID_AA64ISAR0/PFR0): crypto (AES, SHA,
 * PMULL.1Q), SM3/SM4, dot product, FP16 arithmetic, RDM. They UNDEF and
 * are logged under -d unimp.
 */
#include "a64-simd.h"

#define RN ((insn >> 5) & 31)
#define RM ((insn >> 16) & 31)
#define RD (insn & 31)
#define QBIT ((insn >> 30) & 1)
#define UBIT ((insn >> 29) & 1)
#define SIZE ((insn >> 22) & 3)

void simd_unimp(arm_cpu *c, uint32_t insn)
{
    H->log(TES_LOG_UNIMP, "cpu-arm: unimplemented SIMD&FP instruction %08x at %016llx\n", insn,
           (unsigned long long)c->pc);
    arm_undef(c);
}

/* CPACR_EL1.FPEN (D17.2.29): 0b01 traps EL0 only, 0b11 traps nothing,
 * 0b00/0b10 trap EL0 and EL1. Linux enables FP lazily per task off this
 * trap. ISS for an AArch64 trap: CV=1, COND=0b1110 like hardware reports. */
bool arm_fp_access_ok(arm_cpu *c)
{
    unsigned fpen = (c->cpacr_el1 >> 20) & 3;
    if (fpen == 3 || (fpen == 1 && c->el == 1)) {
        return true;
    }
    arm_exception(c, EC_FP_ACCESS, 0x1e00000, c->pc);
    return false;
}

/* ---- saturation and shifts ---- */

static uint64_t sat_s(arm_cpu *c, __int128 v, unsigned size)
{
    unsigned bits = 8u << size;
    __int128 max = ((__int128)1 << (bits - 1)) - 1, min = -max - 1;
    if (v > max) {
        c->fpsr |= FPSR_QC;
        v = max;
    } else if (v < min) {
        c->fpsr |= FPSR_QC;
        v = min;
    }
    return (uint64_t)v & esize_mask(size);
}

static uint64_t sat_u(arm_cpu *c, __int128 v, unsigned size)
{
    __int128 max = (__int128)esize_mask(size);
    if (v > max) {
        c->fpsr |= FPSR_QC;
        v = max;
    } else if (v < 0) {
        c->fpsr |= FPSR_QC;
        v = 0;
    }
    return (uint64_t)v;
}

static inline __int128 widen(uint64_t a, unsigned size, bool is_signed)
{
    return is_signed ? (__int128)sext(a, size) : (__int128)(a & esize_mask(size));
}

/* Right shift by n >= 0 with infinite precision, optionally rounding. */
static inline __int128 shr128(__int128 v, unsigned n, bool round)
{
    if (n == 0) {
        return v;
    }
    if (n > 65) {
        n = 65;
    }
    if (round) {
        v += (__int128)1 << (n - 1);
    }
    return v >> n;
}

/* SSHL/USHL/SRSHL/URSHL/SQSHL/UQSHL/SQRSHL/UQRSHL: shift by the signed low
 * byte of b. */
static uint64_t shl_reg(arm_cpu *c, uint64_t a, uint64_t b, unsigned size, bool is_signed,
                        bool round, bool sat)
{
    int sh = (int8_t)b;
    unsigned bits = 8u << size;
    __int128 v = widen(a, size, is_signed), r;
    if (sh >= 0) {
        if (sh >= (int)bits) {
            r = v == 0 ? 0 : v < 0 ? -((__int128)1 << 100) : ((__int128)1 << 100);
        } else {
            r = v << sh;
        }
    } else {
        r = shr128(v, (unsigned)-sh, round);
    }
    if (!sat) {
        return (uint64_t)r & esize_mask(size);
    }
    return is_signed ? sat_s(c, r, size) : sat_u(c, r, size);
}

/* ---- three same (integer) ---- */

static uint64_t int_op3(arm_cpu *c, unsigned opc, bool u, unsigned size, uint64_t a, uint64_t b,
                        uint64_t d)
{
    uint64_t m = esize_mask(size);
    __int128 x = widen(a, size, !u), y = widen(b, size, !u);
    switch (opc) {
    case 0x00:
        return (uint64_t)((x + y) >> 1) & m;
    case 0x01:
        return u ? sat_u(c, x + y, size) : sat_s(c, x + y, size);
    case 0x02:
        return (uint64_t)((x + y + 1) >> 1) & m;
    case 0x04:
        return (uint64_t)((x - y) >> 1) & m;
    case 0x05:
        return u ? sat_u(c, x - y, size) : sat_s(c, x - y, size);
    case 0x06:
        return x > y ? m : 0;
    case 0x07:
        return x >= y ? m : 0;
    case 0x08:
    case 0x09:
    case 0x0a:
    case 0x0b:
        return shl_reg(c, a, b, size, !u, opc & 2, opc & 1);
    case 0x0c:
        return (uint64_t)(x > y ? x : y) & m;
    case 0x0d:
        return (uint64_t)(x < y ? x : y) & m;
    case 0x0e:
        return (uint64_t)(x > y ? x - y : y - x) & m;
    case 0x0f:
        return (d + (uint64_t)(x > y ? x - y : y - x)) & m;
    case 0x10:
        return (u ? a - b : a + b) & m;
    case 0x11:
        return (u ? (a & m) == (b & m) : (a & b & m) != 0) ? m : 0;
    case 0x12:
        return (u ? d - a * b : d + a * b) & m;
    default: /* 0x13: MUL; PMUL is handled by the caller */
        return (a * b) & m;
    }
}

/* Polynomial multiply of two bytes, 16-bit product (PMUL, PMULL). */
static uint16_t pmul8(uint8_t a, uint8_t b)
{
    uint16_t r = 0;
    for (unsigned i = 0; i < 8; i++) {
        if (b & (1u << i)) {
            r ^= (uint16_t)a << i;
        }
    }
    return r;
}

/* SQDMULH/SQRDMULH element. */
static uint64_t sqdmulh(arm_cpu *c, uint64_t a, uint64_t b, unsigned size, bool round)
{
    unsigned bits = 8u << size;
    __int128 p = 2 * (__int128)sext(a, size) * sext(b, size);
    if (round) {
        p += (__int128)1 << (bits - 1);
    }
    return sat_s(c, p >> bits, size);
}

static void simd_logic(arm_cpu *c, uint32_t insn)
{
    vreg *d = &c->v[RD];
    const vreg *n = &c->v[RN], *m = &c->v[RM];
    unsigned op = (UBIT << 2) | SIZE;
    for (unsigned i = 0; i < 2; i++) {
        uint64_t a = n->d[i], b = m->d[i], x = d->d[i], r;
        switch (op) {
        case 0:
            r = a & b;
            break;
        case 1:
            r = a & ~b;
            break;
        case 2:
            r = a | b;
            break;
        case 3:
            r = a | ~b;
            break;
        case 4:
            r = a ^ b;
            break;
        case 5:
            r = (x & a) | (~x & b); /* BSL */
            break;
        case 6:
            r = (x & ~b) | (a & b); /* BIT */
            break;
        default:
            r = (x & b) | (a & ~b); /* BIF */
            break;
        }
        d->d[i] = r;
    }
    if (!QBIT) {
        vreg_zero_upper(d);
    }
}

/* ADDP, SMAXP/UMAXP, SMINP/UMINP over the concatenation Vm:Vn. */
static void simd_int_pairwise(arm_cpu *c, uint32_t insn, unsigned opc)
{
    unsigned size = SIZE, n = (QBIT ? 16 : 8) >> size;
    bool u = UBIT;
    const vreg *vn = &c->v[RN], *vm = &c->v[RM];
    vreg r = { 0 };
    for (unsigned i = 0; i < n; i++) {
        const vreg *src = i < n / 2 ? vn : vm;
        unsigned j = (i % (n / 2)) * 2;
        uint64_t a = elt_get(src, j, size), b = elt_get(src, j + 1, size), x;
        if (opc == 0x17) {
            x = a + b;
        } else {
            x = int_op3(c, opc == 0x14 ? 0x0c : 0x0d, u, size, a, b, 0);
        }
        elt_set(&r, i, size, x);
    }
    c->v[RD] = r;
}

static void simd_three_same(arm_cpu *c, uint32_t insn, bool scalar)
{
    unsigned opc = (insn >> 11) & 31, size = SIZE;
    bool u = UBIT;
    if (opc >= 0x18) {
        simd_fp_three_same(c, insn, scalar);
        return;
    }
    if (!scalar && opc == 0x03) {
        simd_logic(c, insn);
        return;
    }
    if (!scalar && (opc == 0x14 || opc == 0x15 || (opc == 0x17 && !u))) {
        if (size == 3 && (opc != 0x17 || !QBIT)) {
            simd_unimp(c, insn);
            return;
        }
        simd_int_pairwise(c, insn, opc);
        return;
    }
    bool bad;
    if (scalar) {
        bool any = opc == 0x01 || opc == 0x05 || opc == 0x09 || opc == 0x0b;
        bool d_only = opc == 0x06 || opc == 0x07 || opc == 0x08 || opc == 0x0a ||
                      opc == 0x10 || opc == 0x11;
        bad = !(any || (d_only && size == 3) || (opc == 0x16 && (size == 1 || size == 2)));
    } else {
        bool ok3 = opc == 0x01 || opc == 0x05 || (opc >= 0x06 && opc <= 0x0b) ||
                   opc == 0x10 || opc == 0x11;
        bad = opc == 0x17 || (size == 3 && (!QBIT || !ok3)) || (opc == 0x13 && u && size) ||
              (opc == 0x16 && (size == 0 || size == 3));
    }
    if (bad) {
        simd_unimp(c, insn);
        return;
    }
    unsigned n = scalar ? 1 : (QBIT ? 16 : 8) >> size;
    const vreg *vn = &c->v[RN], *vm = &c->v[RM], *vd = &c->v[RD];
    vreg r = { 0 };
    for (unsigned i = 0; i < n; i++) {
        uint64_t a = elt_get(vn, i, size), b = elt_get(vm, i, size), x;
        if (opc == 0x13 && u) {
            x = pmul8((uint8_t)a, (uint8_t)b) & 0xff;
        } else if (opc == 0x16) {
            x = sqdmulh(c, a, b, size, u);
        } else {
            x = int_op3(c, opc, u, size, a, b, elt_get(vd, i, size));
        }
        elt_set(&r, i, size, x);
    }
    c->v[RD] = r;
}

/* ---- three different: long, wide and narrow-high forms ---- */

static uint64_t long_op(arm_cpu *c, unsigned opc, bool u, unsigned size, uint64_t a, uint64_t b,
                        uint64_t d)
{
    unsigned ws = size + 1;
    __int128 x = widen(a, size, !u), y = widen(b, size, !u);
    uint64_t m = esize_mask(ws);
    switch (opc) {
    case 0x0:
        return (uint64_t)(x + y) & m;
    case 0x2:
        return (uint64_t)(x - y) & m;
    case 0x5:
        return (d + (uint64_t)(x > y ? x - y : y - x)) & m;
    case 0x7:
        return (uint64_t)(x > y ? x - y : y - x) & m;
    case 0x8:
        return (d + (uint64_t)(x * y)) & m;
    case 0xa:
        return (d - (uint64_t)(x * y)) & m;
    case 0xc:
        return (uint64_t)(x * y) & m;
    case 0xe:
        return pmul8((uint8_t)a, (uint8_t)b);
    default: {
        /* SQDMULL, SQDMLAL, SQDMLSL: saturating doubling, then accumulate. */
        uint64_t p = sat_s(c, 2 * x * y, ws);
        if (opc == 0xd) {
            return p;
        }
        __int128 acc = sext(d, ws), pv = sext(p, ws);
        return sat_s(c, opc == 0x9 ? acc + pv : acc - pv, ws);
    }
    }
}

static void simd_three_diff(arm_cpu *c, uint32_t insn, bool scalar)
{
    unsigned opc = (insn >> 12) & 15, size = SIZE, ws = size + 1;
    bool u = UBIT, q = QBIT;
    bool sat = opc == 0x9 || opc == 0xb || opc == 0xd;
    if (size == 3 || opc == 0xf || (u && sat) || (scalar && !sat) ||
        (sat && size == 0) || (opc == 0xe && (u || size != 0))) {
        simd_unimp(c, insn); /* includes PMULL.1Q (crypto) */
        return;
    }
    unsigned n = scalar ? 1 : 8 >> size, hi = (!scalar && q) ? n : 0;
    const vreg *vn = &c->v[RN], *vm = &c->v[RM], *vd = &c->v[RD];
    vreg r = { 0 };
    if (opc == 0x4 || opc == 0x6) {
        /* ADDHN/RADDHN/SUBHN/RSUBHN: high halves of wide sums, into the
         * low (Q=0) or high (Q=1, lower kept) half of Vd. */
        if (q) {
            r.d[0] = vd->d[0];
        }
        for (unsigned i = 0; i < n; i++) {
            uint64_t a = elt_get(vn, i, ws), b = elt_get(vm, i, ws);
            uint64_t s = opc == 0x4 ? a + b : a - b;
            if (u) {
                s += 1ull << ((8u << size) - 1);
            }
            elt_set(&r, hi + i, size, (s & esize_mask(ws)) >> (8u << size));
        }
        c->v[RD] = r;
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        uint64_t b = elt_get(vm, hi + i, size), x;
        if (opc == 0x1 || opc == 0x3) {
            /* SADDW/UADDW/SSUBW/USUBW: Vn is already wide. */
            __int128 a = widen(elt_get(vn, i, ws), ws, !u), y = widen(b, size, !u);
            x = (uint64_t)(opc == 0x1 ? a + y : a - y) & esize_mask(ws);
        } else {
            x = long_op(c, opc, u, size, elt_get(vn, hi + i, size), b, elt_get(vd, i, ws));
        }
        elt_set(&r, i, ws, x);
    }
    c->v[RD] = r;
}

/* ---- two-register misc (integer) ---- */

static unsigned clz_e(uint64_t x, unsigned size)
{
    unsigned bits = 8u << size;
    x &= esize_mask(size);
    return x ? (unsigned)__builtin_clzll(x) - (64 - bits) : bits;
}

static uint64_t rbit8(uint64_t x)
{
    x = ((x & 0xf0) >> 4) | ((x & 0x0f) << 4);
    x = ((x & 0xcc) >> 2) | ((x & 0x33) << 2);
    return ((x & 0xaa) >> 1) | ((x & 0x55) << 1);
}

static uint64_t misc_elem(arm_cpu *c, unsigned op, unsigned size, uint64_t a, uint64_t d)
{
    uint64_t m = esize_mask(size);
    int64_t s = sext(a, size);
    switch (op) {
    case 0x04: /* CLS */
        return clz_e(s < 0 ? ~a : a, size) - 1;
    case 0x05: /* CNT (size 0) */
        return (uint64_t)__builtin_popcountll(a & 0xff);
    case 0x07: /* SQABS */
        return sat_s(c, s < 0 ? -(__int128)s : s, size);
    case 0x08: /* CMGT #0 */
        return s > 0 ? m : 0;
    case 0x09: /* CMEQ #0 */
        return s == 0 ? m : 0;
    case 0x0a: /* CMLT #0 */
        return s < 0 ? m : 0;
    case 0x0b: /* ABS */
        return (uint64_t)(s < 0 ? -s : s) & m;
    case 0x24: /* CLZ */
        return clz_e(a, size);
    case 0x25: /* NOT */
        return ~a & 0xff;
    case 0x45: /* RBIT: key of U=1 op 0x05 size 1 */
        return rbit8(a);
    case 0x27: /* SQNEG */
        return sat_s(c, -(__int128)s, size);
    case 0x28: /* CMGE #0 */
        return s >= 0 ? m : 0;
    case 0x29: /* CMLE #0 */
        return s <= 0 ? m : 0;
    default: /* 0x2b NEG: wraps (negating INT64_MIN as signed is UB in C) */
        return (0 - (uint64_t)s) & m;
    }
    (void)d;
}

/* REV16/REV32/REV64: reverse elements within containers. */
static void simd_rev(arm_cpu *c, uint32_t insn, unsigned container)
{
    unsigned size = SIZE, n = (QBIT ? 16 : 8) >> size;
    unsigned per = container >> size;
    const vreg *vn = &c->v[RN];
    vreg r = { 0 };
    if (size >= 3 || per < 2) {
        simd_unimp(c, insn);
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        unsigned j = (i / per) * per + (per - 1 - i % per);
        elt_set(&r, j, size, elt_get(vn, i, size));
    }
    c->v[RD] = r;
}

/* SADDLP/UADDLP/SADALP/UADALP. */
static void simd_addlp(arm_cpu *c, uint32_t insn, bool acc)
{
    unsigned size = SIZE, ws = size + 1, n = (QBIT ? 16 : 8) >> ws;
    bool u = UBIT;
    const vreg *vn = &c->v[RN], *vd = &c->v[RD];
    vreg r = { 0 };
    for (unsigned i = 0; i < n; i++) {
        __int128 s = widen(elt_get(vn, 2 * i, size), size, !u) +
                     widen(elt_get(vn, 2 * i + 1, size), size, !u);
        uint64_t x = (uint64_t)s + (acc ? elt_get(vd, i, ws) : 0);
        elt_set(&r, i, ws, x & esize_mask(ws));
    }
    c->v[RD] = r;
}

/* XTN, SQXTN, UQXTN, SQXTUN (and scalar forms): narrow into the low half,
 * or the high half keeping the low one for the "2" forms. */
static void simd_narrow(arm_cpu *c, uint32_t insn, unsigned kind, bool scalar)
{
    unsigned size = SIZE, ws = size + 1, n = scalar ? 1 : 8 >> size;
    unsigned hi = (!scalar && QBIT) ? n : 0;
    const vreg *vn = &c->v[RN];
    vreg r = { 0 };
    if (hi) {
        r.d[0] = c->v[RD].d[0];
    }
    for (unsigned i = 0; i < n; i++) {
        uint64_t a = elt_get(vn, i, ws), x;
        switch (kind) {
        case 0: /* XTN */
            x = a & esize_mask(size);
            break;
        case 1: /* SQXTN */
            x = sat_s(c, sext(a, ws), size);
            break;
        case 2: /* UQXTN */
            x = sat_u(c, a, size);
            break;
        default: /* SQXTUN */
            x = sat_u(c, sext(a, ws), size);
            break;
        }
        elt_set(&r, hi + i, size, x);
    }
    c->v[RD] = r;
}

/* SHLL/SHLL2: widen with a shift by the element size. */
static void simd_shll(arm_cpu *c, uint32_t insn)
{
    unsigned size = SIZE, n = 8 >> size, hi = QBIT ? n : 0;
    const vreg *vn = &c->v[RN];
    vreg r = { 0 };
    for (unsigned i = 0; i < n; i++) {
        elt_set(&r, i, size + 1, elt_get(vn, hi + i, size) << (8u << size));
    }
    c->v[RD] = r;
}

static void simd_misc(arm_cpu *c, uint32_t insn, bool scalar)
{
    unsigned op = (insn >> 12) & 31, size = SIZE;
    unsigned key = (UBIT << 5) | op;
    if ((op >= 0x0c && op <= 0x0f) || op >= 0x16) {
        if (!simd_fp_misc(c, insn, scalar)) {
            simd_unimp(c, insn);
        }
        return;
    }
    if (scalar) {
        bool ok = key == 0x07 || key == 0x27 || ((key & 0x1f) >= 0x08 && (key & 0x1f) <= 0x0b &&
                                                 key != 0x2a && size == 3);
        if (key == 0x14 || key == 0x34 || key == 0x32) {
            simd_narrow(c, insn, key == 0x14 ? 1 : key == 0x34 ? 2 : 3, true);
            return;
        }
        if (!ok) {
            simd_unimp(c, insn);
            return;
        }
    } else {
        switch (key) {
        case 0x00:
            simd_rev(c, insn, 8);
            return;
        case 0x20:
            simd_rev(c, insn, 4);
            return;
        case 0x01:
            simd_rev(c, insn, 2);
            return;
        case 0x02:
        case 0x22:
        case 0x06:
        case 0x26:
            if (size == 3) {
                break;
            }
            simd_addlp(c, insn, op == 0x06);
            return;
        case 0x12:
        case 0x14:
        case 0x34:
        case 0x32:
            if (size == 3) {
                break;
            }
            simd_narrow(c, insn, key == 0x12 ? 0 : key == 0x14 ? 1 : key == 0x34 ? 2 : 3, false);
            return;
        case 0x33:
            if (size == 3) {
                break;
            }
            simd_shll(c, insn);
            return;
        }
        bool ok = key == 0x04 || key == 0x24 || key == 0x07 || key == 0x27 ||
                  (key == 0x05 && size == 0) || (key == 0x25 && size <= 1) ||
                  ((key & 0x1f) >= 0x08 && (key & 0x1f) <= 0x0b && key != 0x2a);
        if (!ok || (size == 3 && !QBIT) || (size == 3 && (op == 0x04))) {
            simd_unimp(c, insn);
            return;
        }
    }
    unsigned esz = (key == 0x25) ? 0 : size; /* NOT/RBIT work on bytes */
    if (key == 0x25 && size == 1) {
        key = 0x45;
    }
    unsigned n = scalar ? 1 : (QBIT ? 16 : 8) >> esz;
    const vreg *vn = &c->v[RN], *vd = &c->v[RD];
    vreg r = { 0 };
    for (unsigned i = 0; i < n; i++) {
        elt_set(&r, i, esz, misc_elem(c, key, esz, elt_get(vn, i, esz), elt_get(vd, i, esz)));
    }
    c->v[RD] = r;
}

/* ---- across lanes ---- */

static void simd_across(arm_cpu *c, uint32_t insn)
{
    unsigned op = (insn >> 12) & 31, size = SIZE, n = (QBIT ? 16 : 8) >> size;
    bool u = UBIT;
    if (op == 0x0c || op == 0x0f) {
        simd_fp_across(c, insn);
        return;
    }
    if (size == 3 || (size == 2 && !QBIT) ||
        !(op == 0x03 || op == 0x0a || op == 0x1a || (op == 0x1b && !u))) {
        simd_unimp(c, insn);
        return;
    }
    const vreg *vn = &c->v[RN];
    __int128 acc = widen(elt_get(vn, 0, size), size, !u);
    for (unsigned i = 1; i < n; i++) {
        __int128 x = widen(elt_get(vn, i, size), size, !u);
        if (op == 0x0a) {
            acc = x > acc ? x : acc;
        } else if (op == 0x1a) {
            acc = x < acc ? x : acc;
        } else {
            acc += x;
        }
    }
    vreg r = { 0 };
    unsigned rs = op == 0x03 ? size + 1 : size; /* SADDLV/UADDLV widen */
    elt_set(&r, 0, rs, (uint64_t)acc & esize_mask(rs));
    c->v[RD] = r;
}

/* ---- copy: DUP, INS, UMOV, SMOV ---- */

static void simd_copy(arm_cpu *c, uint32_t insn, bool scalar)
{
    unsigned imm5 = (insn >> 16) & 31, imm4 = (insn >> 11) & 15;
    unsigned size = imm5 ? (unsigned)__builtin_ctz(imm5) : 4;
    bool q = QBIT, op = UBIT;
    if (size > 3) {
        simd_unimp(c, insn);
        return;
    }
    unsigned idx = imm5 >> (size + 1), n = (q ? 16 : 8) >> size;
    const vreg *vn = &c->v[RN];
    vreg r = { 0 };
    if (scalar) {
        /* DUP (element), scalar: MOV Bd/Hd/Sd/Dd, Vn.T[i]. */
        if (op || imm4) {
            simd_unimp(c, insn);
            return;
        }
        elt_set(&r, 0, size, elt_get(vn, idx, size));
        c->v[RD] = r;
        return;
    }
    if (op) {
        /* INS (element): Vd.T[idx] = Vn.T[imm4 >> size]. */
        if (!q) {
            simd_unimp(c, insn);
            return;
        }
        elt_set(&c->v[RD], idx, size, elt_get(vn, imm4 >> size, size));
        return;
    }
    uint64_t x;
    switch (imm4) {
    case 0x0: /* DUP (element) */
    case 0x1: /* DUP (general) */
        if (size == 3 && !q) {
            break;
        }
        x = imm4 ? reg_zr(c, RN) : elt_get(vn, idx, size);
        for (unsigned i = 0; i < n; i++) {
            elt_set(&r, i, size, x);
        }
        c->v[RD] = r;
        return;
    case 0x3: /* INS (general) */
        if (!q) {
            break;
        }
        elt_set(&c->v[RD], idx, size, reg_zr(c, RN));
        return;
    case 0x5: /* SMOV */
        if (size == 3 || (size == 2 && !q)) {
            break;
        }
        x = (uint64_t)sext(elt_get(vn, idx, size), size);
        set_zr(c, RD, q ? x : (uint32_t)x);
        return;
    case 0x7: /* UMOV */
        if ((q && size != 3) || (!q && size == 3)) {
            break;
        }
        set_zr(c, RD, elt_get(vn, idx, size));
        return;
    }
    simd_unimp(c, insn);
}

/* ---- permutes, table lookup, extract ---- */

static void simd_permute(arm_cpu *c, uint32_t insn)
{
    unsigned op = (insn >> 12) & 7, size = SIZE, n = (QBIT ? 16 : 8) >> size;
    const vreg *vn = &c->v[RN], *vm = &c->v[RM];
    vreg r = { 0 };
    bool part = op & 4; /* ZIP2/UZP2/TRN2 */
    if ((size == 3 && !QBIT) || (op & 3) == 0) {
        simd_unimp(c, insn);
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        uint64_t x;
        switch (op & 3) {
        case 1: { /* UZP: even (or odd) elements of Vn:Vm */
            unsigned j = 2 * i + part;
            x = j < n ? elt_get(vn, j, size) : elt_get(vm, j - n, size);
            break;
        }
        case 2: /* TRN */
            x = (i & 1) ? elt_get(vm, (i & ~1u) + part, size)
                        : elt_get(vn, i + part, size);
            break;
        default: { /* ZIP */
            unsigned base = part ? n / 2 : 0;
            x = (i & 1) ? elt_get(vm, base + i / 2, size) : elt_get(vn, base + i / 2, size);
            break;
        }
        }
        elt_set(&r, i, size, x);
    }
    c->v[RD] = r;
}

/* TBL/TBX: bytes of Vd indexed into the table Vn..Vn+len (wrapping at 31). */
static void simd_table(arm_cpu *c, uint32_t insn)
{
    unsigned len = ((insn >> 13) & 3) + 1, n = QBIT ? 16 : 8;
    bool tbx = (insn >> 12) & 1;
    vreg tab[4], r = { 0 };
    const vreg *vm = &c->v[RM];
    for (unsigned t = 0; t < len; t++) {
        tab[t] = c->v[(RN + t) & 31];
    }
    for (unsigned i = 0; i < n; i++) {
        unsigned idx = vm->b[i];
        if (idx < 16 * len) {
            r.b[i] = tab[idx >> 4].b[idx & 15];
        } else {
            r.b[i] = tbx ? c->v[RD].b[i] : 0;
        }
    }
    c->v[RD] = r;
}

static void simd_ext(arm_cpu *c, uint32_t insn)
{
    unsigned pos = (insn >> 11) & 15, n = QBIT ? 16 : 8;
    const vreg *vn = &c->v[RN], *vm = &c->v[RM];
    vreg r = { 0 };
    if (!QBIT && pos >= 8) {
        simd_unimp(c, insn);
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        unsigned j = pos + i;
        r.b[i] = j < n ? vn->b[j] : vm->b[j - n];
    }
    c->v[RD] = r;
}

/* ---- modified immediate: MOVI, MVNI, ORR, BIC, FMOV (vector) ---- */

/* AdvSIMDExpandImm (C2.2.x pseudocode), the 64-bit pattern. */
static uint64_t expand_imm(bool op, unsigned cmode, uint64_t imm8)
{
    switch (cmode >> 1) {
    case 0:
    case 1:
    case 2:
    case 3:
        return (imm8 << (8 * (cmode >> 1))) * 0x0000000100000001ull;
    case 4:
    case 5:
        return (imm8 << (8 * ((cmode >> 1) & 1))) * 0x0001000100010001ull;
    case 6:
        return ((cmode & 1) ? (imm8 << 16) | 0xffff : (imm8 << 8) | 0xff) *
               0x0000000100000001ull;
    default:
        if (!(cmode & 1) && !op) {
            return imm8 * 0x0101010101010101ull;
        }
        if (!(cmode & 1)) {
            uint64_t r = 0;
            for (unsigned i = 0; i < 8; i++) {
                r |= (imm8 >> i & 1) ? 0xffull << (8 * i) : 0;
            }
            return r;
        }
        if (!op) { /* FMOV Vd.4S/2S, #imm */
            uint64_t s = ((imm8 >> 7) << 31) | ((((imm8 >> 6) & 1) ^ 1) << 30) |
                         (((imm8 >> 6) & 1) ? 0x1full << 25 : 0) | ((imm8 & 0x3f) << 19);
            return s * 0x0000000100000001ull;
        }
        return ((imm8 >> 7) << 63) | ((((imm8 >> 6) & 1) ^ 1) << 62) |
               (((imm8 >> 6) & 1) ? 0xffull << 54 : 0) | ((imm8 & 0x3f) << 48);
    }
}

static void simd_modimm(arm_cpu *c, uint32_t insn)
{
    unsigned cmode = (insn >> 12) & 15;
    bool op = UBIT, q = QBIT;
    uint64_t imm8 = ((insn >> 11) & 0xe0) | ((insn >> 5) & 0x1f);
    if ((insn >> 11) & 1 || (cmode == 15 && op && !q)) {
        simd_unimp(c, insn); /* o2 = 1 is FP16 FMOV */
        return;
    }
    uint64_t imm = expand_imm(op, cmode, imm8);
    vreg *d = &c->v[RD];
    bool logic = (cmode < 12) && (cmode & 1); /* ORR / BIC */
    for (unsigned i = 0; i < 2; i++) {
        uint64_t x;
        if (logic) {
            x = op ? d->d[i] & ~imm : d->d[i] | imm;
        } else {
            bool mvn = op && cmode < 14;
            x = mvn ? ~imm : imm;
        }
        d->d[i] = x;
    }
    if (!q) {
        vreg_zero_upper(d);
    }
}

/* ---- shift by immediate ---- */

/* SHRN, RSHRN, SQSHRN, UQSHRN, SQRSHRN, UQRSHRN, SQSHRUN, SQRSHRUN. */
static void simd_shift_narrow(arm_cpu *c, uint32_t insn, unsigned size, unsigned shift,
                              bool scalar)
{
    unsigned op = (insn >> 11) & 31, ws = size + 1, n = scalar ? 1 : 8 >> size;
    unsigned hi = (!scalar && QBIT) ? n : 0;
    bool u = UBIT, round = op & 1;
    /* source signedness: SHRN any, SQSHRUN signed, SQSHRN signed, UQSHRN unsigned */
    bool src_signed = op == 0x10 || op == 0x11 ? u : !u;
    const vreg *vn = &c->v[RN];
    vreg r = { 0 };
    if (hi) {
        r.d[0] = c->v[RD].d[0];
    }
    for (unsigned i = 0; i < n; i++) {
        __int128 v = shr128(widen(elt_get(vn, i, ws), ws, src_signed), shift, round);
        uint64_t x;
        if ((op == 0x10 || op == 0x11) && !u) {
            x = (uint64_t)v & esize_mask(size);
        } else if (op == 0x10 || op == 0x11 || u) {
            x = sat_u(c, v, size);
        } else {
            x = sat_s(c, v, size);
        }
        elt_set(&r, hi + i, size, x);
    }
    c->v[RD] = r;
}

static uint64_t shift_elem(arm_cpu *c, unsigned op, bool u, unsigned size, unsigned shr,
                           unsigned shl, uint64_t a, uint64_t d)
{
    uint64_t m = esize_mask(size);
    __int128 v = widen(a, size, !u);
    switch (op) {
    case 0x00: /* SSHR/USHR */
    case 0x04: /* SRSHR/URSHR */
        return (uint64_t)shr128(v, shr, op == 0x04) & m;
    case 0x02: /* SSRA/USRA */
    case 0x06: /* SRSRA/URSRA */
        return (d + (uint64_t)shr128(v, shr, op == 0x06)) & m;
    case 0x08: { /* SRI */
        uint64_t keep = shr >= 64 ? m : ~(m >> shr) & m;
        return (d & keep) | ((uint64_t)shr128(v, shr, false) & ~keep & m);
    }
    case 0x0a: { /* SHL, SLI */
        uint64_t x = (a << shl) & m;
        return u ? (d & ~(m << shl) & m) | x : x;
    }
    case 0x0c: /* SQSHLU */
        return sat_u(c, widen(a, size, true) << shl, size);
    default: /* 0x0e SQSHL/UQSHL (immediate) */
        return u ? sat_u(c, v << shl, size) : sat_s(c, v << shl, size);
    }
}

static void simd_shift_imm(arm_cpu *c, uint32_t insn, bool scalar)
{
    unsigned immh = (insn >> 19) & 15, immhb = (insn >> 16) & 127;
    unsigned op = (insn >> 11) & 31, size = 31 - (unsigned)__builtin_clz(immh);
    unsigned esize = 8u << size, shr = 2 * esize - immhb, shl = immhb - esize;
    bool u = UBIT, q = QBIT;
    if (op == 0x1c || op == 0x1f) {
        simd_fp_shift_conv(c, insn, scalar);
        return;
    }
    if (op >= 0x10 && op <= 0x13) {
        if (size == 3) {
            simd_unimp(c, insn);
            return;
        }
        simd_shift_narrow(c, insn, size, shr, scalar);
        return;
    }
    if (op == 0x14 && !scalar && size < 3) {
        /* SSHLL/USHLL (SXTL/UXTL), "2" from the high half. */
        unsigned n = 8 >> size, hi = q ? n : 0;
        const vreg *vn = &c->v[RN];
        vreg r = { 0 };
        for (unsigned i = 0; i < n; i++) {
            __int128 v = widen(elt_get(vn, hi + i, size), size, !u);
            /* Shift as unsigned: a negative element shifted left is UB in C. */
            elt_set(&r, i, size + 1, ((uint64_t)v << shl) & esize_mask(size + 1));
        }
        c->v[RD] = r;
        return;
    }
    bool known = op <= 0x0e && !(op & 1) && (op != 0x08 || u) && (op != 0x0c || u);
    bool sat = op == 0x0c || op == 0x0e;
    if (!known || (!scalar && size == 3 && !q) || (scalar && !sat && size != 3)) {
        simd_unimp(c, insn);
        return;
    }
    unsigned n = scalar ? 1 : (q ? 16 : 8) >> size;
    const vreg *vn = &c->v[RN], *vd = &c->v[RD];
    vreg r = { 0 };
    for (unsigned i = 0; i < n; i++) {
        uint64_t x = shift_elem(c, op, u, size, shr, shl, elt_get(vn, i, size),
                                elt_get(vd, i, size));
        elt_set(&r, i, size, x);
    }
    c->v[RD] = r;
}

/* ---- vector x indexed element (integer) ---- */

static void simd_indexed(arm_cpu *c, uint32_t insn, bool scalar)
{
    unsigned op = (insn >> 12) & 15, size = SIZE;
    bool u = UBIT, q = QBIT;
    if (op == 0x1 || op == 0x5 || op == 0x9) {
        simd_fp_indexed(c, insn, scalar);
        return;
    }
    unsigned h = (insn >> 11) & 1, l = (insn >> 21) & 1, mbit = (insn >> 20) & 1;
    unsigned idx = size == 1 ? (h << 2) | (l << 1) | mbit : (h << 1) | l;
    unsigned rm = size == 1 ? RM & 15 : RM;
    bool lng = op == 0x2 || op == 0x6 || op == 0xa || op == 0x3 || op == 0x7 || op == 0xb;
    bool sat = op == 0x3 || op == 0x7 || op == 0xb || op == 0xc || op == 0xd;
    bool ok = (size == 1 || size == 2) && (!scalar || sat) &&
              (op == 0x8 ? !u : op == 0x0 || op == 0x4 ? u : true) && !(sat && u) &&
              op != 0xe && op != 0xf;
    if (!ok) {
        simd_unimp(c, insn);
        return;
    }
    uint64_t b = elt_get(&c->v[rm], idx, size);
    const vreg *vn = &c->v[RN], *vd = &c->v[RD];
    vreg r = { 0 };
    if (lng) {
        /* Map to the three-different opcodes: SMLAL 8, SQDMLAL 9, SMLSL a,
         * SQDMLSL b, SMULL c, SQDMULL d. */
        static const uint8_t map[16] = { [0x2] = 0x8, [0x3] = 0x9, [0x6] = 0xa,
                                         [0x7] = 0xb, [0xa] = 0xc, [0xb] = 0xd };
        unsigned n = scalar ? 1 : 8 >> size, hi = (!scalar && q) ? n : 0;
        for (unsigned i = 0; i < n; i++) {
            uint64_t x = long_op(c, map[op], u, size, elt_get(vn, hi + i, size), b,
                                 elt_get(vd, i, size + 1));
            elt_set(&r, i, size + 1, x);
        }
        c->v[RD] = r;
        return;
    }
    unsigned n = scalar ? 1 : (q ? 16 : 8) >> size;
    uint64_t m = esize_mask(size);
    for (unsigned i = 0; i < n; i++) {
        uint64_t a = elt_get(vn, i, size), d = elt_get(vd, i, size), x;
        switch (op) {
        case 0x0:
            x = (d + a * b) & m;
            break;
        case 0x4:
            x = (d - a * b) & m;
            break;
        case 0x8:
            x = (a * b) & m;
            break;
        default:
            x = sqdmulh(c, a, b, size, op == 0xd);
            break;
        }
        elt_set(&r, i, size, x);
    }
    c->v[RD] = r;
}

/* ---- group decode ---- */

static void simd_vector(arm_cpu *c, uint32_t insn)
{
    if ((insn >> 24) & 1) {
        if (!((insn >> 10) & 1)) {
            simd_indexed(c, insn, false);
        } else if ((insn >> 23) & 1) {
            simd_unimp(c, insn);
        } else if (((insn >> 19) & 15) == 0) {
            simd_modimm(c, insn);
        } else {
            simd_shift_imm(c, insn, false);
        }
        return;
    }
    if ((insn >> 21) & 1) {
        switch ((insn >> 10) & 3) {
        case 0:
            simd_three_diff(c, insn, false);
            return;
        case 2:
            if (((insn >> 17) & 15) == 0) {
                simd_misc(c, insn, false);
                return;
            }
            if (((insn >> 17) & 15) == 8) {
                simd_across(c, insn);
                return;
            }
            break;
        default:
            simd_three_same(c, insn, false);
            return;
        }
    } else if (((insn >> 22) & 3) == 0 && (insn >> 10 & 1) && !((insn >> 15) & 1)) {
        simd_copy(c, insn, false);
        return;
    } else if (!((insn >> 15) & 1) && !((insn >> 10) & 1)) {
        if (UBIT) {
            if (((insn >> 22) & 3) == 0) {
                simd_ext(c, insn);
                return;
            }
        } else if (((insn >> 10) & 3) == 2) {
            simd_permute(c, insn);
            return;
        } else if (((insn >> 22) & 3) == 0) {
            simd_table(c, insn);
            return;
        }
    }
    simd_unimp(c, insn);
}

/* Scalar pairwise: ADDP Dd, Vn.2D; the FP forms live with vector FP. */
static void scalar_pairwise(arm_cpu *c, uint32_t insn)
{
    unsigned op = (insn >> 12) & 31;
    if (op == 0x1b && !UBIT && SIZE == 3) {
        vreg r = { 0 };
        r.d[0] = c->v[RN].d[0] + c->v[RN].d[1];
        c->v[RD] = r;
    } else if (UBIT && (op == 0x0c || op == 0x0d || op == 0x0f)) {
        simd_fp_pairwise(c, insn, true);
    } else {
        simd_unimp(c, insn);
    }
}

static void simd_scalar(arm_cpu *c, uint32_t insn)
{
    if ((insn >> 24) & 1) {
        if (!((insn >> 10) & 1)) {
            simd_indexed(c, insn, true);
        } else if ((insn >> 23) & 1 || ((insn >> 19) & 15) == 0) {
            simd_unimp(c, insn);
        } else {
            simd_shift_imm(c, insn, true);
        }
        return;
    }
    if ((insn >> 21) & 1) {
        switch ((insn >> 10) & 3) {
        case 0:
            simd_three_diff(c, insn, true);
            return;
        case 2:
            if (((insn >> 17) & 15) == 0) {
                simd_misc(c, insn, true);
                return;
            }
            if (((insn >> 17) & 15) == 8) {
                scalar_pairwise(c, insn);
                return;
            }
            break;
        default:
            simd_three_same(c, insn, true);
            return;
        }
    } else if (((insn >> 22) & 3) == 0 && (insn >> 10 & 1) && !((insn >> 15) & 1)) {
        simd_copy(c, insn, true);
        return;
    }
    simd_unimp(c, insn);
}

void a64_simd_dp(arm_cpu *c, uint32_t insn)
{
    if (!arm_fp_access_ok(c)) {
        return;
    }
    if ((insn >> 28) & 1) {
        if (!((insn >> 30) & 1)) {
            a64_fp_dp(c, insn);
        } else if (insn >> 31) {
            simd_unimp(c, insn);
        } else {
            simd_scalar(c, insn);
        }
    } else if (insn >> 31) {
        simd_unimp(c, insn);
    } else {
        simd_vector(c, insn);
    }
}
