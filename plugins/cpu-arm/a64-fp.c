/*
 * cpu-arm: scalar floating-point (Arm ARM C4.1.6 "Floating-point data
 * processing", conversions, compares) and the FP arithmetic helpers the
 * AdvSIMD code shares.
 *
 * Arithmetic runs on the host FPU (IEEE 754 like the Arm FPU) with the host
 * rounding mode set from FPCR.RMode and host exception flags folded into
 * FPSR. What differs from the host is done by hand before or after the host
 * operation: NaN selection and quieting (FPProcessNaNs: first signalling
 * NaN operand, else first quiet NaN; x86 would pick differently), the
 * positive default NaN (x86 produces a negative one), FPCR.DN and FPCR.FZ
 * flushing, and all FP->integer conversions (saturating, Arm flags).
 * Single precision +,-,*,/,sqrt are computed in double and rounded once to
 * single, which is exact for these operations (53 >= 2*24+2).
 */
#include <fenv.h>
#include <math.h>

#include "a64-simd.h"

/* Keep a value in a register at this point so the compiler cannot move an
 * FP operation across the fenv calls that bracket it. */
#if defined(__x86_64__)
#define FENCE(x) __asm__ volatile("" : "+x"(x))
#elif defined(__aarch64__)
#define FENCE(x) __asm__ volatile("" : "+w"(x))
#else
#define FENCE(x) __asm__ volatile("" : "+m"(x))
#endif

static const int host_round[4] = { FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO };

/* Host exception flags. glibc's feclearexcept rewrites the whole x87
 * environment (fnstenv/fldenv, ~100 cycles) and took 40% of a
 * floating-point loop: on x86-64 the operations here are SSE, whose flags
 * are MXCSR's low bits (the FE_* values), so read and clear those
 * directly. libm may raise a flag through the x87 unit (a software fma):
 * its status word is read too, and cleared the slow way when it has one. */
/* FPSR cumulative bits as host flags. */
static inline int host_of_fpsr(uint32_t fpsr)
{
    return ((fpsr & FPSR_IOC) ? FE_INVALID : 0) | ((fpsr & FPSR_DZC) ? FE_DIVBYZERO : 0) |
           ((fpsr & FPSR_OFC) ? FE_OVERFLOW : 0) | ((fpsr & FPSR_UFC) ? FE_UNDERFLOW : 0) |
           ((fpsr & FPSR_IXC) ? FE_INEXACT : 0);
}

#if defined(__x86_64__)
static inline int sse_flags(void)
{
    uint32_t m;

    __asm__ volatile("stmxcsr %0" : "=m"(m)::"memory");
    return (int)m;
}

static inline int host_flags(int which)
{
    uint16_t sw;

    __asm__ volatile("fnstsw %0" : "=am"(sw)::"memory");
    return (sse_flags() | sw) & which;
}

static inline void host_clear(int which)
{
    uint32_t m = (uint32_t)sse_flags();
    uint16_t sw;

    if (m & (uint32_t)which) {
        m &= ~(uint32_t)which;
        __asm__ volatile("ldmxcsr %0" ::"m"(m) : "memory");
    }
    __asm__ volatile("fnstsw %0" : "=am"(sw)::"memory");
    if (sw & which) {
        feclearexcept(which);
    }
}

/* fp_end's read: x87 flags (rare: a software fma) are folded and cleared
 * at once, so that fp_begin need only look at MXCSR. */
static inline int host_flags_end(void)
{
    uint16_t sw;
    int e = sse_flags() & FE_ALL_EXCEPT;

    __asm__ volatile("fnstsw %0" : "=am"(sw)::"memory");
    if (sw & FE_ALL_EXCEPT) {
        e |= sw & FE_ALL_EXCEPT;
        feclearexcept(sw & FE_ALL_EXCEPT);
    }
    return e;
}
#else
static inline int sse_flags(void)
{
    return fetestexcept(FE_ALL_EXCEPT);
}

static inline int host_flags(int which)
{
    return fetestexcept(which);
}

static inline int host_flags_end(void)
{
    return fetestexcept(FE_ALL_EXCEPT);
}

static inline void host_clear(int which)
{
    feclearexcept(which);
}
#endif

static inline double d_of(uint64_t b)
{
    double d;
    memcpy(&d, &b, 8);
    return d;
}

static inline uint64_t bits_d(double d)
{
    uint64_t b;
    memcpy(&b, &d, 8);
    return b;
}

static inline float f_of(uint32_t b)
{
    float f;
    memcpy(&f, &b, 4);
    return f;
}

static inline uint32_t bits_f(float f)
{
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
}

/* ---- classification on raw bits ---- */

static inline uint64_t sign_bit(bool dbl)
{
    return dbl ? 1ull << 63 : 1ull << 31;
}

static inline bool is_nan(uint64_t a, bool dbl)
{
    return dbl ? (a & ~(1ull << 63)) > 0x7ff0000000000000ull
               : (a & 0x7fffffffu) > 0x7f800000u;
}

static inline bool is_snan(uint64_t a, bool dbl)
{
    return is_nan(a, dbl) && !(a & (dbl ? 1ull << 51 : 1ull << 22));
}

static inline bool is_zero(uint64_t a, bool dbl)
{
    return (a & ~sign_bit(dbl)) == 0;
}

static inline bool is_inf(uint64_t a, bool dbl)
{
    return (a & ~sign_bit(dbl)) == (dbl ? 0x7ff0000000000000ull : 0x7f800000u);
}

static inline bool is_denormal(uint64_t a, bool dbl)
{
    return dbl ? !(a & 0x7ff0000000000000ull) && (a & 0x000fffffffffffffull)
               : !(a & 0x7f800000u) && (a & 0x007fffffu);
}

static inline uint64_t default_nan(bool dbl)
{
    return dbl ? 0x7ff8000000000000ull : 0x7fc00000u;
}

static inline double to_host(uint64_t a, bool dbl)
{
    return dbl ? d_of(a) : (double)f_of((uint32_t)a);
}

/* Round the double result to the destination format (single: one host
 * rounding, flags included). */
static inline uint64_t from_host(double r, bool dbl)
{
    if (dbl) {
        return bits_d(r);
    }
    float f = (float)r;
    FENCE(f);
    return bits_f(f);
}

/* ---- FPCR/FPSR plumbing ---- */

unsigned fp_rmode(arm_cpu *c)
{
    return (c->fpcr >> FPCR_RMODE_SHIFT) & 3;
}

/* Host flags as FPSR bits (the x86 FE_* bits: IE 0x01, ZE 0x04, OE 0x08,
 * UE 0x10, PE 0x20; the denormal flag has no FPSR bit). */
static inline uint32_t fpsr_of_host(int e)
{
    return ((e & FE_INVALID) ? FPSR_IOC : 0) | ((e & FE_DIVBYZERO) ? FPSR_DZC : 0) |
           ((e & FE_OVERFLOW) ? FPSR_OFC : 0) | ((e & FE_UNDERFLOW) ? FPSR_UFC : 0) |
           ((e & FE_INEXACT) ? FPSR_IXC : 0);
}

/* Host flags already in FPSR may stay set: FPSR is cumulative, so an
 * operation raising one again changes nothing. Only flags FPSR lacks must
 * be clear before the operation (and clearing costs a ldmxcsr, so once
 * FPSR.IXC is set, as after the first inexact result, nothing is done). */
void fp_begin(arm_cpu *c)
{
    unsigned rm = fp_rmode(c);
    int stale;

    if (rm) {
        fesetround(host_round[rm]);
    }
    stale = sse_flags() & FE_ALL_EXCEPT & ~host_of_fpsr(c->fpsr);
    if (stale) {
        host_clear(stale);
    }
}

void fp_end(arm_cpu *c)
{
    int e = host_flags_end();

    c->fpsr |= fpsr_of_host(e);
    if (fp_rmode(c)) {
        fesetround(FE_TONEAREST);
    }
}

/* FPCR.FZ: denormal inputs become zero of the same sign (IDC). */
static inline uint64_t ftz_in(arm_cpu *c, uint64_t a, bool dbl)
{
    if ((c->fpcr & FPCR_FZ) && is_denormal(a, dbl)) {
        c->fpsr |= FPSR_IDC;
        return a & sign_bit(dbl);
    }
    return a;
}

/* Host NaN results are the x86 default NaN: use Arm's. Flush denormal
 * results under FZ (UFC). */
static inline uint64_t fix_result(arm_cpu *c, uint64_t r, bool dbl)
{
    if (is_nan(r, dbl)) {
        return default_nan(dbl);
    }
    if ((c->fpcr & FPCR_FZ) &&
        (is_denormal(r, dbl) || (is_zero(r, dbl) && host_flags(FE_UNDERFLOW)))) {
        /* A flushed result signals Underflow only, not Inexact (FPRound
         * with FZ): drop this operation's host flags. */
        host_clear(FE_INEXACT | FE_UNDERFLOW);
        c->fpsr |= FPSR_UFC;
        return r & sign_bit(dbl);
    }
    return r;
}

/* Under FZ, fold earlier operations' host flags into FPSR first, so that
 * fix_result dropping the current one's does not lose theirs. */
static inline void fz_sync(arm_cpu *c)
{
    if (c->fpcr & FPCR_FZ) {
        int e = host_flags(FE_INEXACT | FE_UNDERFLOW);
        c->fpsr |= ((e & FE_UNDERFLOW) ? FPSR_UFC : 0) | ((e & FE_INEXACT) ? FPSR_IXC : 0);
        host_clear(FE_INEXACT | FE_UNDERFLOW);
    }
}

/* FPProcessNaN: quiet a signalling NaN (IOC), default NaN under DN. */
static uint64_t process_nan(arm_cpu *c, uint64_t a, bool dbl)
{
    if (is_snan(a, dbl)) {
        c->fpsr |= FPSR_IOC;
        a |= dbl ? 1ull << 51 : 1ull << 22;
    }
    return (c->fpcr & FPCR_DN) ? default_nan(dbl) : a;
}

/* FPProcessNaNs: operands in order; sNaNs first, then qNaNs. */
static bool process_nans(arm_cpu *c, const uint64_t *ops, unsigned n, bool dbl, uint64_t *r)
{
    for (unsigned i = 0; i < n; i++) {
        if (is_snan(ops[i], dbl)) {
            *r = process_nan(c, ops[i], dbl);
            return true;
        }
    }
    for (unsigned i = 0; i < n; i++) {
        if (is_nan(ops[i], dbl)) {
            *r = process_nan(c, ops[i], dbl);
            return true;
        }
    }
    return false;
}

/* ---- arithmetic ---- */

static uint64_t fp_maxmin(uint64_t a, uint64_t b, bool dbl, bool max)
{
    if (is_zero(a, dbl) && is_zero(b, dbl)) {
        /* FPMax(+0, -0) = +0, FPMin(+0, -0) = -0. */
        return max ? (a & b) : (a | b);
    }
    double x = to_host(a, dbl), y = to_host(b, dbl);
    return (max ? x > y : x < y) ? a : b;
}

/* a*b with an infinity times zero replaced (FMULX, FRECPS, FRSQRTS). */
static bool inf_times_zero(uint64_t a, uint64_t b, bool dbl)
{
    return (is_inf(a, dbl) && is_zero(b, dbl)) || (is_zero(a, dbl) && is_inf(b, dbl));
}

static double host_op(unsigned op, double x, double y)
{
    double r;
    FENCE(x);
    FENCE(y);
    switch (op) {
    case FOP_ADD:
        r = x + y;
        break;
    case FOP_SUB:
    case FOP_ABD:
        r = x - y;
        break;
    case FOP_MUL:
    case FOP_MULX:
    case FOP_NMUL:
        r = x * y;
        break;
    case FOP_RECPS:
        r = fma(x, y, 2.0);
        break;
    case FOP_RSQRTS:
        /* Halved before the single rounding: halve the huge operand when
         * x*y would overflow, else the exact-enough sum. */
        if (isfinite(x) && isfinite(y) && x != 0 && y != 0 && ilogb(x) + ilogb(y) > 1000) {
            r = fma(x * 0.5, y, 1.5);
        } else {
            r = fma(x, y, 3.0) * 0.5;
        }
        break;
    default:
        r = x / y;
        break;
    }
    FENCE(r);
    return r;
}

/* FRECPS/FRSQRTS fused in single need a single-precision FMA. */
static uint64_t recps_single(unsigned op, uint64_t a, uint64_t b)
{
    float x = f_of((uint32_t)a), y = f_of((uint32_t)b), r;
    FENCE(x);
    FENCE(y);
    if (op == FOP_RECPS) {
        r = fmaf(x, y, 2.0f);
    } else {
        /* The product is exact in double; one rounding of the sum. */
        double p = ((double)x * (double)y + 3.0) * 0.5;
        FENCE(p);
        r = (float)p;
    }
    FENCE(r);
    return bits_f(r);
}

static uint64_t binop_special(arm_cpu *c, unsigned op, uint64_t a, uint64_t b, bool dbl)
{
    uint64_t sgn = (a ^ b) & sign_bit(dbl);
    switch (op) {
    case FOP_MULX:
        return sgn | (dbl ? 0x4000000000000000ull : 0x40000000u); /* +-2.0 */
    case FOP_RECPS:
        return dbl ? 0x4000000000000000ull : 0x40000000u; /* 2.0 */
    default:
        return dbl ? 0x3ff8000000000000ull : 0x3fc00000u; /* 1.5 */
    }
    (void)c;
}

uint64_t fp_binop(arm_cpu *c, unsigned op, uint64_t a, uint64_t b, bool dbl)
{
    uint64_t r, ops[2];
    fz_sync(c);
    if (op == FOP_RECPS || op == FOP_RSQRTS) {
        a ^= sign_bit(dbl); /* FPRecipStepFused negates op1 before NaN checks */
    }
    a = ftz_in(c, a, dbl);
    b = ftz_in(c, b, dbl);
    if (is_nan(a, dbl) || is_nan(b, dbl)) {
        /* FPMaxNum/FPMinNum: a quiet NaN loses against a number. */
        if (op == FOP_MAXNM || op == FOP_MINNM) {
            if (is_nan(a, dbl) && !is_snan(a, dbl) && !is_nan(b, dbl)) {
                return b;
            }
            if (is_nan(b, dbl) && !is_snan(b, dbl) && !is_nan(a, dbl)) {
                return a;
            }
        }
        ops[0] = a;
        ops[1] = b;
        process_nans(c, ops, 2, dbl, &r);
    } else if (op >= FOP_MAX && op <= FOP_MINNM) {
        return fp_maxmin(a, b, dbl, op == FOP_MAX || op == FOP_MAXNM);
    } else if ((op == FOP_MULX || op == FOP_RECPS || op == FOP_RSQRTS) &&
               inf_times_zero(a, b, dbl)) {
        return binop_special(c, op, a, b, dbl);
    } else if (!dbl && (op == FOP_RECPS || op == FOP_RSQRTS)) {
        r = fix_result(c, recps_single(op, a, b), dbl);
    } else {
        r = fix_result(c, from_host(host_op(op, to_host(a, dbl), to_host(b, dbl)), dbl), dbl);
    }
    if (op == FOP_NMUL) {
        r ^= sign_bit(dbl); /* FPNeg after FPMul, NaNs included */
    } else if (op == FOP_ABD) {
        r &= ~sign_bit(dbl); /* FPAbs after FPSub, NaNs included */
    }
    return r;
}

/* FPMulAdd(addend, n, m): a + n*m fused. Callers negate operands first
 * (FMSUB, FNMADD...) as the pseudocode does, NaNs included. */
uint64_t fp_muladd(arm_cpu *c, uint64_t a, uint64_t n, uint64_t m, bool dbl)
{
    uint64_t r, ops[3];
    fz_sync(c);
    a = ftz_in(c, a, dbl);
    n = ftz_in(c, n, dbl);
    m = ftz_in(c, m, dbl);
    ops[0] = a;
    ops[1] = n;
    ops[2] = m;
    bool done = process_nans(c, ops, 3, dbl, &r);
    if (is_nan(a, dbl) && !is_snan(a, dbl) && inf_times_zero(n, m, dbl)) {
        c->fpsr |= FPSR_IOC;
        return default_nan(dbl);
    }
    if (done) {
        return r;
    }
    if (dbl) {
        double x = d_of(n), y = d_of(m), z = d_of(a), q;
        FENCE(x);
        q = fma(x, y, z);
        FENCE(q);
        r = bits_d(q);
    } else {
        float x = f_of((uint32_t)n), y = f_of((uint32_t)m), z = f_of((uint32_t)a), q;
        FENCE(x);
        q = fmaf(x, y, z);
        FENCE(q);
        r = bits_f(q);
    }
    return fix_result(c, r, dbl);
}

uint64_t fp_sqrt(arm_cpu *c, uint64_t a, bool dbl)
{
    fz_sync(c);
    a = ftz_in(c, a, dbl);
    if (is_nan(a, dbl)) {
        return process_nan(c, a, dbl);
    }
    if ((a & sign_bit(dbl)) && !is_zero(a, dbl)) {
        c->fpsr |= FPSR_IOC;
        return default_nan(dbl);
    }
    double x = to_host(a, dbl), r;
    FENCE(x);
    r = sqrt(x);
    FENCE(r);
    return fix_result(c, from_host(r, dbl), dbl);
}

/* ---- compares ---- */

unsigned fp_compare(arm_cpu *c, uint64_t a, uint64_t b, bool dbl, bool signal_all)
{
    a = ftz_in(c, a, dbl);
    b = ftz_in(c, b, dbl);
    if (is_nan(a, dbl) || is_nan(b, dbl)) {
        if (signal_all || is_snan(a, dbl) || is_snan(b, dbl)) {
            c->fpsr |= FPSR_IOC;
        }
        return 0x3;
    }
    double x = to_host(a, dbl), y = to_host(b, dbl);
    if (x == y) {
        return 0x6;
    }
    return x < y ? 0x8 : 0x2;
}

bool fp_cmp_simd(arm_cpu *c, unsigned cmp, uint64_t a, uint64_t b, bool dbl, bool abs)
{
    a = ftz_in(c, a, dbl);
    b = ftz_in(c, b, dbl);
    if (is_nan(a, dbl) || is_nan(b, dbl)) {
        /* FPCompareEQ signals only for sNaN, GE/GT for any NaN. */
        if (cmp != 0 || is_snan(a, dbl) || is_snan(b, dbl)) {
            c->fpsr |= FPSR_IOC;
        }
        return false;
    }
    double x = to_host(a, dbl), y = to_host(b, dbl);
    if (abs) {
        x = fabs(x);
        y = fabs(y);
    }
    return cmp == 0 ? x == y : cmp == 1 ? x >= y : x > y;
}

/* ---- rounding and conversions ---- */

static double round_even(double x)
{
    double r = round(x);
    if (fabs(r - x) == 0.5) {
        r = 2.0 * round(x * 0.5);
    }
    return r;
}

static double round_mode(double x, unsigned rmode)
{
    switch (rmode) {
    case RND_TIEEVEN:
        return round_even(x);
    case RND_POSINF:
        return ceil(x);
    case RND_NEGINF:
        return floor(x);
    case RND_ZERO:
        return trunc(x);
    default:
        return round(x);
    }
}

/* FRINT*: exact raises IXC when the value changes (FRINTX). */
uint64_t fp_round_int(arm_cpu *c, uint64_t a, bool dbl, unsigned rmode, bool exact)
{
    a = ftz_in(c, a, dbl);
    if (is_nan(a, dbl)) {
        return process_nan(c, a, dbl);
    }
    if (is_inf(a, dbl) || is_zero(a, dbl)) {
        return a;
    }
    double x = to_host(a, dbl);
    double r = round_mode(x, rmode);
    if (r == 0) {
        /* FPRoundInt keeps the operand's sign on zero; libm in a directed
         * host rounding mode may not. */
        r = copysign(0.0, x);
    }
    if (exact && r != x) {
        c->fpsr |= FPSR_IXC;
    }
    return dbl ? bits_d(r) : bits_f((float)r);
}

uint64_t fp_to_int(arm_cpu *c, uint64_t a, bool dbl, unsigned size, bool is_signed,
                   unsigned fbits, unsigned rmode)
{
    a = ftz_in(c, a, dbl);
    if (is_nan(a, dbl)) {
        c->fpsr |= FPSR_IOC;
        return 0;
    }
    double x = to_host(a, dbl);
    /* Scale for fixed point without raising host overflow flags: values
     * that large saturate anyway. */
    x = fabs(x) >= 0x1p900 ? copysign(INFINITY, x) : ldexp(x, (int)fbits);
    double r = round_mode(x, rmode);
    unsigned bits = 8u << size;
    double hi = is_signed ? ldexp(1.0, (int)bits - 1) : ldexp(1.0, (int)bits);
    double lo = is_signed ? -hi : 0.0;
    uint64_t smin = 1ull << (bits - 1); /* INT_MIN of the size, as bits */
    if (r >= hi) {
        c->fpsr |= FPSR_IOC;
        return is_signed ? smin - 1 : esize_mask(size);
    }
    if (r < lo) {
        c->fpsr |= FPSR_IOC;
        return is_signed ? smin : 0;
    }
    if (r != x) {
        c->fpsr |= FPSR_IXC;
    }
    if (is_signed) {
        return (uint64_t)(int64_t)r & esize_mask(size);
    }
    return (uint64_t)r;
}

/* Call between fp_begin/fp_end: the host conversion rounds per FPCR. */
uint64_t int_to_fp(arm_cpu *c, uint64_t x, unsigned size, bool is_signed, unsigned fbits,
                   bool dbl)
{
    uint64_t r;
    if (is_signed) {
        int64_t v = sext(x, size);
        FENCE(v);
        if (dbl) {
            double d = (double)v;
            FENCE(d);
            r = bits_d(fbits ? ldexp(d, -(int)fbits) : d);
        } else {
            float f = (float)v;
            FENCE(f);
            r = bits_f(fbits ? ldexpf(f, -(int)fbits) : f);
        }
    } else {
        uint64_t v = x & esize_mask(size);
        if (dbl) {
            double d = (double)v;
            FENCE(d);
            r = bits_d(fbits ? ldexp(d, -(int)fbits) : d);
        } else {
            float f = (float)v;
            FENCE(f);
            r = bits_f(fbits ? ldexpf(f, -(int)fbits) : f);
        }
    }
    (void)c;
    return r;
}

/* ---- precision conversions (FPConvert) ---- */

static const unsigned frac_bits[4] = { 0, 10, 23, 52 };
static const unsigned total_bits[4] = { 0, 16, 32, 64 };

/* FPConvertNaN: keep the sign and the top fraction bits, quieted. */
static uint64_t convert_nan(arm_cpu *c, uint64_t a, unsigned from, unsigned to)
{
    unsigned fb = frac_bits[from], ft = frac_bits[to];
    uint64_t frac = a & ((1ull << fb) - 1);
    uint64_t sign = (a >> (total_bits[from] - 1)) & 1;
    uint64_t quiet = 1ull << (fb - 1);
    if (!(frac & quiet)) {
        c->fpsr |= FPSR_IOC;
    }
    if (c->fpcr & FPCR_DN) {
        return to == 1 ? 0x7e00 : default_nan(to == 3);
    }
    uint64_t top = fb > ft ? frac >> (fb - ft) : frac << (ft - fb);
    uint64_t exp = ((1ull << (total_bits[to] - 1 - ft)) - 1) << ft;
    return (sign << (total_bits[to] - 1)) | exp | top | (1ull << (ft - 1));
}

/* Round a magnitude to an integer, directed modes seeing the sign. */
static double round_mag(double n, unsigned rmode, bool neg)
{
    switch (rmode) {
    case RND_POSINF:
        return neg ? trunc(n) : ceil(n);
    case RND_NEGINF:
        return neg ? ceil(n) : trunc(n);
    default:
        return round_mode(n, rmode);
    }
}

/* Double (exact copy of any source) to IEEE half, FPCR rounding. */
static uint64_t double_to_half(arm_cpu *c, double x)
{
    bool neg = signbit(x);
    uint32_t sgn = neg ? 0x8000 : 0;
    double ax = fabs(x);
    unsigned rm = fp_rmode(c);
    if (ax == 0 || isinf(ax)) {
        return sgn | (ax == 0 ? 0 : 0x7c00);
    }
    int e;
    frexp(ax, &e);
    e -= 1; /* ax = 1.f * 2^e */
    bool tiny = e < -14;
    if (tiny) {
        e = -14;
    }
    double n = ldexp(ax, 10 - e);
    double rn = round_mag(n, rm, neg);
    if (rn != n) {
        c->fpsr |= FPSR_IXC | (tiny ? FPSR_UFC : 0);
    }
    uint32_t m = (uint32_t)rn;
    uint32_t h = tiny ? m : (uint32_t)((e + 15) << 10) + (m - 1024);
    if (h >= 0x7c00) {
        c->fpsr |= FPSR_OFC | FPSR_IXC;
        bool to_inf = rm == RND_TIEEVEN || rm == RND_TIEAWAY || (rm == RND_POSINF && !neg) ||
                      (rm == RND_NEGINF && neg);
        h = to_inf ? 0x7c00 : 0x7bff;
    }
    return sgn | h;
}

static double half_to_double(uint64_t a)
{
    unsigned e = (a >> 10) & 0x1f, f = a & 0x3ff;
    double v = e == 0 ? ldexp(f, -24) : e == 31 ? INFINITY : ldexp(f | 0x400, (int)e - 25);
    return (a & 0x8000) ? -v : v;
}

/* Sizes: 1 half, 2 single, 3 double. Between fp_begin/fp_end. */
uint64_t fp_convert(arm_cpu *c, uint64_t a, unsigned from, unsigned to)
{
    double x;
    fz_sync(c);
    if (from == 1) {
        if ((a & 0x7fff) > 0x7c00) {
            return convert_nan(c, a, from, to);
        }
        x = half_to_double(a);
    } else {
        bool dbl = from == 3;
        a = ftz_in(c, a, dbl);
        if (is_nan(a, dbl)) {
            return convert_nan(c, a, from, to);
        }
        x = to_host(a, dbl);
    }
    if (to == 1) {
        return double_to_half(c, x);
    }
    return to == 3 ? bits_d(x) : fix_result(c, from_host(x, false), false);
}

/* ---- scalar FP group decode (C4.1.6) ---- */

static inline uint64_t fp_read(arm_cpu *c, unsigned n, unsigned type)
{
    return type == 1 ? c->v[n].d[0] : type == 0 ? c->v[n].s[0] : c->v[n].h[0];
}

/* Scalar writes zero the rest of the 128-bit register. */
static inline void fp_write(arm_cpu *c, unsigned d, uint64_t val)
{
    c->v[d].d[0] = val;
    c->v[d].d[1] = 0;
}

static void fp_dp1(arm_cpu *c, uint32_t insn, unsigned type)
{
    static const uint8_t size_of_type[4] = { 2, 3, 0, 1 };
    unsigned op = (insn >> 15) & 0x3f, rd = insn & 31;
    bool dbl = type == 1;
    uint64_t a = fp_read(c, (insn >> 5) & 31, type), r;
    if ((type == 3 && (op & 0x3c) != 0x04) || op == 6 || op == 13 || op > 15) {
        simd_unimp(c, insn);
        return;
    }
    fp_begin(c);
    switch (op) {
    case 0:
        r = a;
        break;
    case 1:
        r = a & ~sign_bit(dbl);
        break;
    case 2:
        r = a ^ sign_bit(dbl);
        break;
    case 3:
        r = fp_sqrt(c, a, dbl);
        break;
    case 4:
    case 5:
    case 7:
        if ((op & 3) == type) {
            fp_end(c);
            simd_unimp(c, insn);
            return;
        }
        r = fp_convert(c, a, size_of_type[type], size_of_type[op & 3]);
        break;
    case 14:
    case 15:
        r = fp_round_int(c, a, dbl, fp_rmode(c), op == 14);
        break;
    default:
        r = fp_round_int(c, a, dbl, op & 7, false); /* N P M Z A */
        break;
    }
    fp_end(c);
    fp_write(c, rd, r);
}

static void fp_dp2(arm_cpu *c, uint32_t insn, bool dbl)
{
    static const uint8_t ops[9] = { FOP_MUL,   FOP_DIV,   FOP_ADD, FOP_SUB, FOP_MAX,
                                    FOP_MIN,   FOP_MAXNM, FOP_MINNM, FOP_NMUL };
    unsigned op = (insn >> 12) & 15, type = dbl;
    if (op > 8) {
        simd_unimp(c, insn);
        return;
    }
    uint64_t a = fp_read(c, (insn >> 5) & 31, type), b = fp_read(c, (insn >> 16) & 31, type);
    fp_begin(c);
    uint64_t r = fp_binop(c, ops[op], a, b, dbl);
    fp_end(c);
    fp_write(c, insn & 31, r);
}

static void fp_dp3(arm_cpu *c, uint32_t insn, bool dbl)
{
    unsigned type = dbl;
    uint64_t n = fp_read(c, (insn >> 5) & 31, type), m = fp_read(c, (insn >> 16) & 31, type);
    uint64_t a = fp_read(c, (insn >> 10) & 31, type), sb = sign_bit(dbl);
    bool o1 = (insn >> 21) & 1, o0 = (insn >> 15) & 1;
    /* FMADD, FMSUB (-n), FNMADD (-a, -n), FNMSUB (-a). */
    if (o0 != o1) {
        n ^= sb;
    }
    if (o1) {
        a ^= sb;
    }
    fp_begin(c);
    uint64_t r = fp_muladd(c, a, n, m, dbl);
    fp_end(c);
    fp_write(c, insn & 31, r);
}

static void fp_cmp(arm_cpu *c, uint32_t insn, bool dbl)
{
    if ((insn & 7) || ((insn >> 14) & 3)) {
        simd_unimp(c, insn);
        return;
    }
    uint64_t a = fp_read(c, (insn >> 5) & 31, dbl);
    uint64_t b = (insn & 8) ? 0 : fp_read(c, (insn >> 16) & 31, dbl);
    c->nzcv = fp_compare(c, a, b, dbl, (insn >> 4) & 1) << 28;
}

static void fp_ccmp(arm_cpu *c, uint32_t insn, bool dbl)
{
    if (arm_cond_holds(c, (insn >> 12) & 15)) {
        uint64_t a = fp_read(c, (insn >> 5) & 31, dbl), b = fp_read(c, (insn >> 16) & 31, dbl);
        c->nzcv = fp_compare(c, a, b, dbl, (insn >> 4) & 1) << 28;
    } else {
        c->nzcv = (insn & 15) << 28;
    }
}

static void fp_csel(arm_cpu *c, uint32_t insn, bool dbl)
{
    unsigned n = arm_cond_holds(c, (insn >> 12) & 15) ? (insn >> 5) & 31 : (insn >> 16) & 31;
    fp_write(c, insn & 31, fp_read(c, n, dbl));
}

/* VFPExpandImm. */
static uint64_t fp_expand_imm(unsigned imm8, bool dbl)
{
    uint64_t a = imm8 >> 7, b = (imm8 >> 6) & 1, rest = imm8 & 0x3f;
    if (dbl) {
        return (a << 63) | ((b ^ 1) << 62) | (b ? 0xffull << 54 : 0) | (rest << 48);
    }
    return (a << 31) | ((b ^ 1) << 30) | (b ? 0x1full << 25 : 0) | (rest << 19);
}

static void fp_imm(arm_cpu *c, uint32_t insn, bool dbl)
{
    if ((insn >> 5) & 31) {
        simd_unimp(c, insn);
        return;
    }
    fp_write(c, insn & 31, fp_expand_imm((insn >> 13) & 0xff, dbl));
}

/* FMOV between general and FP registers (opcode 110/111). */
static void fp_fmov_gen(arm_cpu *c, uint32_t insn, unsigned type, unsigned rmode)
{
    bool sf = insn >> 31, to_fp = (insn >> 16) & 1;
    unsigned rn = (insn >> 5) & 31, rd = insn & 31;
    if (rmode == 0 && ((type == 0 && !sf) || (type == 1 && sf))) {
        if (to_fp) {
            fp_write(c, rd, sf ? reg_zr(c, rn) : (uint32_t)reg_zr(c, rn));
        } else {
            set_zr(c, rd, sf ? c->v[rn].d[0] : c->v[rn].s[0]);
        }
    } else if (rmode == 1 && type == 2 && sf) {
        /* FMOV Vd.D[1], Xn keeps the low half; FMOV Xd, Vn.D[1]. */
        if (to_fp) {
            c->v[rd].d[1] = reg_zr(c, rn);
        } else {
            set_zr(c, rd, c->v[rn].d[1]);
        }
    } else {
        simd_unimp(c, insn);
    }
}

static void fp_int_conv(arm_cpu *c, uint32_t insn)
{
    bool sf = insn >> 31;
    unsigned type = (insn >> 22) & 3, rmode = (insn >> 19) & 3, op = (insn >> 16) & 7;
    unsigned rn = (insn >> 5) & 31, rd = insn & 31;
    if (op >= 6) {
        fp_fmov_gen(c, insn, type, rmode);
        return;
    }
    if (type > 1 || (op >= 2 && rmode != 0)) {
        simd_unimp(c, insn);
        return;
    }
    bool dbl = type == 1;
    if (op == 2 || op == 3) {
        fp_begin(c);
        uint64_t r = int_to_fp(c, reg_zr(c, rn), sf ? 3 : 2, op == 2, 0, dbl);
        fp_end(c);
        fp_write(c, rd, r);
        return;
    }
    /* FCVT{N,P,M,Z}{S,U} take rmode as FPRounding; FCVTA{S,U} ties away. */
    unsigned rm = op >= 4 ? RND_TIEAWAY : rmode;
    uint64_t r = fp_to_int(c, fp_read(c, rn, type), dbl, sf ? 3 : 2, !(op & 1), 0, rm);
    set_zr(c, rd, r);
}

static void fp_fixed_conv(arm_cpu *c, uint32_t insn)
{
    bool sf = insn >> 31;
    unsigned type = (insn >> 22) & 3, rmode = (insn >> 19) & 3, op = (insn >> 16) & 7;
    unsigned scale = (insn >> 10) & 63, fbits = 64 - scale;
    unsigned rn = (insn >> 5) & 31, rd = insn & 31;
    bool dbl = type == 1;
    if (type > 1 || (!sf && scale < 32)) {
        simd_unimp(c, insn);
        return;
    }
    if (rmode == 3 && op <= 1) {
        uint64_t r = fp_to_int(c, fp_read(c, rn, type), dbl, sf ? 3 : 2, op == 0, fbits,
                               RND_ZERO);
        set_zr(c, rd, r);
    } else if (rmode == 0 && (op == 2 || op == 3)) {
        fp_begin(c);
        uint64_t r = int_to_fp(c, reg_zr(c, rn), sf ? 3 : 2, op == 2, fbits, dbl);
        fp_end(c);
        fp_write(c, rd, r);
    } else {
        simd_unimp(c, insn);
    }
}

/* Scalar FP group: insn<30> == 0, insn<28:24> == 1111x. */
void a64_fp_dp(arm_cpu *c, uint32_t insn)
{
    unsigned type = (insn >> 22) & 3;
    bool dbl = type == 1;
    if (insn & (1u << 29)) {
        simd_unimp(c, insn); /* S == 1 is unallocated everywhere */
        return;
    }
    if (insn & (1u << 24)) {
        if (type > 1 || (insn >> 31)) {
            simd_unimp(c, insn);
            return;
        }
        fp_dp3(c, insn, dbl);
        return;
    }
    if (!(insn & (1u << 21))) {
        fp_fixed_conv(c, insn);
        return;
    }
    if (((insn >> 10) & 63) == 0) {
        fp_int_conv(c, insn);
        return;
    }
    /* The remaining forms have M == 0 and no half/reserved types, except
     * FCVT from half (fp_dp1 checks). */
    if ((insn >> 31) || type == 2 || (type == 3 && ((insn >> 10) & 0x1f) != 0x10)) {
        simd_unimp(c, insn);
        return;
    }
    switch ((insn >> 10) & 3) {
    case 1:
        fp_ccmp(c, insn, dbl);
        return;
    case 2:
        fp_dp2(c, insn, dbl);
        return;
    case 3:
        fp_csel(c, insn, dbl);
        return;
    }
    if (((insn >> 10) & 0x1f) == 0x10) {
        fp_dp1(c, insn, type);
    } else if (((insn >> 10) & 0xf) == 0x8) {
        fp_cmp(c, insn, dbl);
    } else if (((insn >> 10) & 7) == 4) {
        fp_imm(c, insn, dbl);
    } else {
        simd_unimp(c, insn);
    }
}
