/*
 * cpu-x86: the x87 FPU (opcodes D8..DF, SDM vol. 1 ch. 8 and vol. 2
 * FADD..FYL2XP1), FWAIT, FXSAVE/FXRSTOR and the MMX register aliasing.
 *
 * The host's long double is the same 80-bit extended format, so values
 * live in c->st[] (physical registers; ST(i) is st[(fpstt + i) & 7]) and
 * arithmetic is the host's. Each instruction runs with the host x87
 * control word set to the guest's FPUC (all exceptions masked), so
 * rounding control, precision control, NaN propagation and the exception
 * flags (IE DE ZE OE UE PE, and C1 "rounded up") are the hardware's; they
 * are folded into the guest FSW at the end. Unmasked exceptions only set
 * ES/B (the masked response is always taken) and raise #MF at the next
 * waiting x87 instruction when CR0.NE is set. What the host cannot give
 * is done by hand: the register stack, tags, stack faults, compares (the
 * host compare would raise IE on QNaNs), FXAM, integer conversions.
 * Non-x86 hosts get rounding and flags from <fenv.h> only (no precision
 * control, and host NaN rules).
 */
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "x86.h"

/* FSW bits */
#define SW_IE 0x0001
#define SW_DE 0x0002
#define SW_ZE 0x0004
#define SW_OE 0x0008
#define SW_UE 0x0010
#define SW_PE 0x0020
#define SW_SF 0x0040
#define SW_ES 0x0080
#define SW_C0 0x0100
#define SW_C1 0x0200
#define SW_C2 0x0400
#define SW_TOP 0x3800
#define SW_C3 0x4000
#define SW_B 0x8000
#define SW_CC (SW_C0 | SW_C1 | SW_C2 | SW_C3)

#if defined(__x86_64__) || defined(__i386__)
#define HOST_X87 1
#define FENCE(x) __asm__ volatile("" : "+m"(x))
#else
#define HOST_X87 0
#define FENCE(x) __asm__ volatile("" : "+m"(x))
#endif

/* ---- host floating-point environment ---- */

typedef struct henv {
    uint16_t cw;
} henv;

#if HOST_X87
static void henv_enter(henv *e, uint16_t guest_cw)
{
    uint16_t cw = (guest_cw & 0x0f00) | 0x7f;

    __asm__ volatile("fnstcw %0" : "=m"(e->cw)::"memory");
    __asm__ volatile("fnclex\n\tfldcw %0" ::"m"(cw) : "memory");
}

/* Host exception flags and C1 of the instruction, host state restored. */
static unsigned henv_leave(henv *e)
{
    uint16_t sw;

    __asm__ volatile("fnstsw %0" : "=m"(sw)::"memory");
    __asm__ volatile("fnclex\n\tfldcw %0" ::"m"(e->cw) : "memory");
    return sw & (0x3f | SW_C1);
}
#else
static const int host_round[4] = { FE_TONEAREST, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO };

static void henv_enter(henv *e, uint16_t guest_cw)
{
    e->cw = guest_cw;
    fesetround(host_round[(guest_cw >> 10) & 3]);
    feclearexcept(FE_ALL_EXCEPT);
    __asm__ volatile("" ::: "memory");
}

static unsigned henv_leave(henv *e)
{
    unsigned f = 0;
    int h;

    (void)e;
    __asm__ volatile("" ::: "memory");
    h = fetestexcept(FE_ALL_EXCEPT);
    f |= (h & FE_INVALID) ? SW_IE : 0;
    f |= (h & FE_DIVBYZERO) ? SW_ZE : 0;
    f |= (h & FE_OVERFLOW) ? SW_OE : 0;
    f |= (h & FE_UNDERFLOW) ? SW_UE : 0;
    f |= (h & FE_INEXACT) ? SW_PE : 0;
    fesetround(FE_TONEAREST);
    return f;
}
#endif

/* ---- 80-bit values ---- */

#if HOST_X87
static long double f80_load(const uint8_t *b)
{
    long double v = 0;

    memcpy(&v, b, 10);
    return v;
}

static void f80_store(long double v, uint8_t *b)
{
    memcpy(b, &v, 10);
}
#else
/* Portable conversion (no pseudo-denormal or unnormal support). */
static long double f80_load(const uint8_t *b)
{
    uint64_t m;
    uint16_t se;
    int e;
    long double v;

    memcpy(&m, b, 8);
    memcpy(&se, b + 8, 2);
    e = se & 0x7fff;
    if (e == 0x7fff) {
        v = (m << 1) ? NAN : INFINITY;
    } else {
        v = ldexpl((long double)m, (e ? e : 1) - 16383 - 63);
    }
    return (se & 0x8000) ? -v : v;
}

static void f80_store(long double v, uint8_t *b)
{
    uint64_t m = 0;
    uint16_t se = signbit(v) ? 0x8000 : 0;
    int e;

    if (isnan(v)) {
        se |= 0x7fff;
        m = 0xc000000000000000ull;
    } else if (isinf(v)) {
        se |= 0x7fff;
        m = 1ull << 63;
    } else if (v != 0) {
        long double f = frexpl(fabsl(v), &e);
        e += 16382;
        if (e <= 0) {
            f = ldexpl(f, e - 1);
            e = 0;
        }
        m = (uint64_t)ldexpl(f, 64);
        se |= e;
    }
    memcpy(b, &m, 8);
    memcpy(b + 8, &se, 2);
}
#endif

static uint64_t ld_mant(long double v)
{
    uint8_t b[10];
    uint64_t m;

    f80_store(v, b);
    memcpy(&m, b, 8);
    return m;
}

static uint16_t ld_se(long double v)
{
    uint8_t b[10];
    uint16_t se;

    f80_store(v, b);
    memcpy(&se, b + 8, 2);
    return se;
}

static long double ld_make(uint16_t se, uint64_t m)
{
    uint8_t b[10];

    memcpy(b, &m, 8);
    memcpy(b + 8, &se, 2);
    return f80_load(b);
}

/* Bit-level classification: host compares would raise flags. */
static bool ld_isnan(long double v)
{
    return (ld_se(v) & 0x7fff) == 0x7fff && (ld_mant(v) << 1) != 0;
}

static bool ld_issnan(long double v)
{
    return ld_isnan(v) && !(ld_mant(v) & (1ull << 62));
}

static bool ld_isdenormal(long double v)
{
    return (ld_se(v) & 0x7fff) == 0 && ld_mant(v) != 0;
}

/* The "QNaN floating-point indefinite". */
static long double indefinite(void)
{
    return ld_make(0xffff, 0xc000000000000000ull);
}

/* ---- register stack ---- */

#define PHYS(c, i) (((c)->fpstt + (i)) & 7)
#define ST(c, i) ((c)->st[PHYS(c, i)])

static bool tag_empty(x86_cpu *c, int p)
{
    return ((c->fptag >> (2 * p)) & 3) == 3;
}

static void tag_set(x86_cpu *c, int p, bool empty)
{
    c->fptag = (c->fptag & ~(3u << (2 * p))) | ((empty ? 3u : 0u) << (2 * p));
}

static void set_cc(x86_cpu *c, unsigned cc)
{
    c->fpus = (c->fpus & ~SW_CC) | cc;
}

/* Set when an operand of the current instruction was an empty register:
 * the masked response to that stack underflow is to write the
 * indefinite to every destination instead of a result (SDM 8.5.1.1). */
static __thread bool underflow;

static long double st_get(x86_cpu *c, int i)
{
    if (tag_empty(c, PHYS(c, i))) {
        c->fpus = (c->fpus & ~SW_C1) | SW_IE | SW_SF;
        underflow = true;
        return indefinite();
    }
    return ST(c, i);
}

static void st_set(x86_cpu *c, int i, long double v)
{
    ST(c, i) = underflow ? indefinite() : v;
    tag_set(c, PHYS(c, i), false);
}

/* Push: a full register is a stack overflow (C1 = 1), masked response
 * the indefinite. */
static void fpush(x86_cpu *c, long double v)
{
    c->fpstt = (c->fpstt - 1) & 7;
    if (!tag_empty(c, c->fpstt)) {
        c->fpus |= SW_IE | SW_SF | SW_C1;
        v = indefinite();
    }
    st_set(c, 0, v);
}

static void fpop(x86_cpu *c)
{
    tag_set(c, c->fpstt, true);
    c->fpstt = (c->fpstt + 1) & 7;
}

/* ---- memory operands ---- */

static int mseg(const x86_insn *x)
{
    return x->seg != S_NONE ? x->seg : S_DS;
}

static bool mread(x86_cpu *c, x86_insn *x, void *buf, unsigned n)
{
    return x86_mem_read(c, mseg(x), x->ea, buf, n);
}

static bool mwrite(x86_cpu *c, x86_insn *x, const void *buf, unsigned n)
{
    return x86_mem_write(c, mseg(x), x->ea, buf, n);
}

/* Memory operand by size class: 0 m32fp, 1 m32int, 2 m64fp, 3 m16int
 * (the D8/DA/DC/DE rows). Conversions run on the host (SNaN -> IE, DE). */
static bool load_operand(x86_cpu *c, x86_insn *x, int cls, long double *v)
{
    uint8_t b[8];
    static const unsigned sz[4] = { 4, 4, 8, 2 };

    if (!mread(c, x, b, sz[cls])) {
        return false;
    }
    switch (cls) {
    case 0: {
        float f;
        memcpy(&f, b, 4);
        FENCE(f);
        *v = f;
        break;
    }
    case 1: {
        int32_t i;
        memcpy(&i, b, 4);
        *v = i;
        break;
    }
    case 2: {
        double d;
        memcpy(&d, b, 8);
        FENCE(d);
        *v = d;
        break;
    }
    default: {
        int16_t i;
        memcpy(&i, b, 2);
        *v = i;
        break;
    }
    }
    return true;
}

/* FIST/FISTP/FISTTP: round by RC (or truncate); out of range or NaN is
 * IE with the integer indefinite (SDM FIST). x87 hosts run the
 * instruction itself (flags and C1 exactly; FISTTP needs SSE3). */
#if HOST_X87
#define FIST(insn, var)                                                                      \
    __asm__ volatile("fld %%st(0)\n\t" insn " %0\n\tfnstsw %1" : "=m"(var), "=m"(sw) : "t"(v))

static int64_t to_int(x86_cpu *c, long double v, int bits, bool trunc)
{
    uint16_t sw;
    int16_t i16;
    int32_t i32;
    int64_t i64;

    if (bits == 16) {
        if (trunc) {
            FIST("fisttps", i16);
        } else {
            FIST("fistps", i16);
        }
        i64 = i16;
    } else if (bits == 32) {
        if (trunc) {
            FIST("fisttpl", i32);
        } else {
            FIST("fistpl", i32);
        }
        i64 = i32;
    } else if (trunc) {
        FIST("fisttpll", i64);
    } else {
        FIST("fistpll", i64);
    }
    c->fpus = (c->fpus & ~SW_C1) | (sw & SW_C1);
    return i64;
}
#else
static int64_t to_int(x86_cpu *c, long double v, int bits, bool trunc)
{
    long double r, lim = ldexpl(1.0L, bits - 1);

    if (ld_isnan(v)) {
        c->fpus |= SW_IE;
        return INT64_MIN >> (64 - bits);
    }
    FENCE(v);
    r = trunc ? truncl(v) : rintl(v);
    FENCE(r);
    if (r < -lim || r >= lim) {
        c->fpus |= SW_IE;
        return INT64_MIN >> (64 - bits);
    }
    if (r != v) {
        c->fpus |= SW_PE;
        if (fabsl(r) > fabsl(v)) {
            c->fpus |= SW_C1;
        }
    }
    return (int64_t)r;
}
#endif

static void store_int(x86_cpu *c, x86_insn *x, long double v, int bits, bool trunc)
{
    int64_t i;

    c->fpus &= ~SW_C1;
    i = to_int(c, v, bits, trunc);
    mwrite(c, x, &i, bits / 8);
}

/* FST/FSTP to m32/m64/m80; C1 tells whether the rounding went up. */
static bool store_fp(x86_cpu *c, x86_insn *x, long double v, int bytes)
{
    uint8_t b[10];
    uint16_t sw = 0;

    if (bytes == 4) {
        float f;
#if HOST_X87
        __asm__ volatile("fsts %0\n\tfnstsw %1" : "=m"(f), "=m"(sw) : "t"(v));
#else
        FENCE(v);
        f = (float)v;
        FENCE(f);
#endif
        memcpy(b, &f, 4);
    } else if (bytes == 8) {
        double d;
#if HOST_X87
        __asm__ volatile("fstl %0\n\tfnstsw %1" : "=m"(d), "=m"(sw) : "t"(v));
#else
        FENCE(v);
        d = (double)v;
        FENCE(d);
#endif
        memcpy(b, &d, 8);
    } else {
        f80_store(v, b);
    }
    c->fpus = (c->fpus & ~SW_C1) | (sw & SW_C1);
    return mwrite(c, x, b, bytes);
}

/* ---- arithmetic and compares ---- */

/* op is the ModRM reg of the arithmetic rows: 0 add, 1 mul, 4 sub,
 * 5 subr, 6 div, 7 divr; a is the destination operand. On x87 hosts the
 * instruction itself runs so that C1 ("rounded up") can be read at once
 * (any later host load or store clears it). */
#if HOST_X87
#define X87_BIN(insn)                                                                        \
    __asm__ volatile(insn " %%st(1), %%st\n\tfnstsw %1" : "=t"(r), "=m"(sw) : "0"(a), "u"(b))
#define X87_UN(insn) __asm__ volatile(insn "\n\tfnstsw %1" : "=t"(r), "=m"(sw) : "0"(a))

static long double arith(x86_cpu *c, int op, long double a, long double b)
{
    long double r;
    uint16_t sw;

    switch (op) {
    case 0:
        X87_BIN("fadd");
        break;
    case 1:
        X87_BIN("fmul");
        break;
    case 4:
        X87_BIN("fsub");
        break;
    case 5:
        X87_BIN("fsubr");
        break;
    case 6:
        X87_BIN("fdiv");
        break;
    default:
        X87_BIN("fdivr");
        break;
    }
    c->fpus = (c->fpus & ~SW_C1) | (sw & SW_C1);
    return r;
}

/* 0xfa FSQRT, 0xfc FRNDINT. */
static long double unary(x86_cpu *c, int k, long double a)
{
    long double r;
    uint16_t sw;

    if (k == 0xfa) {
        X87_UN("fsqrt");
    } else {
        X87_UN("frndint");
    }
    c->fpus = (c->fpus & ~SW_C1) | (sw & SW_C1);
    return r;
}
#else
static long double arith(x86_cpu *c, int op, long double a, long double b)
{
    long double r;

    c->fpus &= ~SW_C1;
    FENCE(a);
    FENCE(b);
    switch (op) {
    case 0:
        r = a + b;
        break;
    case 1:
        r = a * b;
        break;
    case 4:
        r = a - b;
        break;
    case 5:
        r = b - a;
        break;
    case 6:
        r = a / b;
        break;
    default:
        r = b / a;
        break;
    }
    FENCE(r);
    return r;
}

static long double unary(x86_cpu *c, int k, long double a)
{
    c->fpus &= ~SW_C1;
    FENCE(a);
    a = k == 0xfa ? sqrtl(a) : rintl(a);
    FENCE(a);
    return a;
}
#endif

/* Compare: 0 equal, 1 less, 2 greater, 3 unordered. FCOM raises IE for
 * any NaN, FUCOM only for SNaNs. */
static int fcompare(x86_cpu *c, long double a, long double b, bool quiet)
{
    if (ld_isnan(a) || ld_isnan(b)) {
        if (!quiet || ld_issnan(a) || ld_issnan(b)) {
            c->fpus |= SW_IE;
        }
        return 3;
    }
    if (ld_isdenormal(a) || ld_isdenormal(b)) {
        c->fpus |= SW_DE;
    }
    FENCE(a);
    FENCE(b);
    return a == b ? 0 : a < b ? 1 : 2;
}

static void compare_to_sw(x86_cpu *c, int r)
{
    static const unsigned cc[4] = { SW_C3, SW_C0, 0, SW_C3 | SW_C2 | SW_C0 };

    set_cc(c, cc[r]);
}

/* FCOMI/FUCOMI: ZF PF CF like an unsigned compare, OF SF AF cleared. */
static void compare_to_eflags(x86_cpu *c, int r)
{
    static const uint64_t fl[4] = { F_ZF, F_CF, 0, F_ZF | F_PF | F_CF };

    x86_set_flags(c, (x86_get_flags(c) & ~F_ARITH) | fl[r]);
    c->fpus &= ~SW_C1;
}

/* ---- rows D8/DC/DA/DE: arithmetic ---- */

static void arith_mem(x86_cpu *c, x86_insn *x, int cls)
{
    long double v, a;
    int r;

    if (!load_operand(c, x, cls, &v)) {
        return;
    }
    a = st_get(c, 0);
    if (x->reg == 2 || x->reg == 3) {
        r = fcompare(c, a, v, false);
        compare_to_sw(c, r);
        if (x->reg == 3) {
            fpop(c);
        }
        return;
    }
    c->fpus &= ~SW_C1;
    st_set(c, 0, arith(c, x->reg & 7, a, v));
}

/* D8 C0+i: ST(0) = ST(0) op ST(i); DC/DE C0+i: ST(i) = ST(i) op ST(0)
 * where the DC/DE rows swap the sub/subr and div/divr encodings. */
static void arith_reg(x86_cpu *c, x86_insn *x, bool to_sti, bool pop)
{
    int i = x->rm & 7, op = x->reg & 7;
    long double a, b;

    if (op == 2 || op == 3) {
        compare_to_sw(c, fcompare(c, st_get(c, 0), st_get(c, i), false));
        if (op == 3) {
            fpop(c);
        }
        return;
    }
    c->fpus &= ~SW_C1;
    if (!to_sti) {
        st_set(c, 0, arith(c, op, st_get(c, 0), st_get(c, i)));
        return;
    }
    if (op >= 4) {
        op ^= 1;
    }
    a = st_get(c, i);
    b = st_get(c, 0);
    st_set(c, i, arith(c, op, a, b));
    if (pop) {
        fpop(c);
    }
}

/* ---- D9 register forms: constants and transcendental ---- */

static long double fconst(x86_cpu *c, int k)
{
    /* The ROM constants are rounded per RC (SDM FLD1/FLDL2T...): the
     * host's long double literals are round-to-nearest. */
    static const long double consts[7] = {
        1.0L,
        3.321928094887362347870319429489390175864831393L, /* log2(10) */
        1.442695040888963407359924681001892137426645954L, /* log2(e) */
        3.141592653589793238462643383279502884197169399L, /* pi */
        0.301029995663981195213738894724493026768189881L, /* log10(2) */
        0.693147180559945309417232121458176568075500134L, /* ln(2) */
        0.0L,
    };
    long double v = consts[k];
    int rc = (c->fpuc >> 10) & 3;

    /* pi, log2(e), log10(2), ln(2) round up to nearest; down/zero modes
     * take the next value below; log2(10) rounds down to nearest and
     * up mode takes the next value above (SDM 8.3.8 table). */
    if (k >= 2 && k <= 5 && (rc == 1 || rc == 3)) {
        v = nextafterl(v, 0.0L);
    } else if (k == 1 && rc == 2) {
        v = nextafterl(v, 4.0L);
    }
    return v;
}

/* FXTRACT, FPTAN, FSINCOS push a second result: when that register is
 * full, the masked stack-overflow response writes the indefinite to
 * both. */
static void check_push2(x86_cpu *c)
{
    if (!tag_empty(c, (c->fpstt - 1) & 7)) {
        underflow = true;
    }
}

/* FSIN/FCOS/FPTAN/FSINCOS: |x| >= 2^63 leaves the operand and sets C2. */
static bool trig_range(x86_cpu *c, long double v)
{
    c->fpus &= ~(SW_C1 | SW_C2);
    if (!ld_isnan(v) && fabsl(v) >= 0x1p63L && !isinf(v)) {
        c->fpus |= SW_C2;
        return false;
    }
    if (isinf(v)) {
        c->fpus |= SW_IE;
    }
    return true;
}

static void do_trig(x86_cpu *c, int k)
{
    long double v = st_get(c, 0), s, co;

    if (!trig_range(c, v)) {
        return;
    }
    if (k == 0xfb || k == 0xf2) {
        check_push2(c);
    }
    FENCE(v);
    s = sinl(v);
    co = cosl(v);
    FENCE(s);
    FENCE(co);
    if (k == 0xfe) {
        st_set(c, 0, s);
    } else if (k == 0xff) {
        st_set(c, 0, co);
    } else if (k == 0xfb) {
        st_set(c, 0, s);
        fpush(c, co);
    } else {
        long double t = tanl(v);
        FENCE(t);
        st_set(c, 0, t);
        fpush(c, 1.0L);
    }
}

#if !HOST_X87
/* FPREM (truncating quotient) and FPREM1 (nearest): C0 C3 C1 = Q2 Q0
 * Q1; an exponent difference of 64 or more only reduces partially (C2),
 * by a multiple of ST(1) * 2^(d - 32). */
static void do_prem(x86_cpu *c, bool ieee)
{
    long double a = st_get(c, 0), b = st_get(c, 1), r;
    int quo = 0, d;
    unsigned q;

    set_cc(c, 0);
    if (ld_isnan(a) || ld_isnan(b) || isinf(a) || b == 0) {
        FENCE(a);
        FENCE(b);
        r = ieee ? remainderl(a, b) : fmodl(a, b);
        FENCE(r);
        st_set(c, 0, (isinf(a) || b == 0) && !ld_isnan(a) && !ld_isnan(b) ? indefinite() : r);
        c->fpus |= (isinf(a) || b == 0) && !ld_isnan(a) && !ld_isnan(b) ? SW_IE : 0;
        return;
    }
    d = (a == 0 || isinf(b)) ? 0 : ilogbl(a) - ilogbl(b);
    if (d >= 64) {
        long double bs = ldexpl(b, d - 32);
        r = ieee ? a - bs * rintl(a / bs) : fmodl(a, bs);
        st_set(c, 0, r);
        c->fpus |= SW_C2;
        return;
    }
    r = remquol(a, b, &quo);
    q = (unsigned)abs(quo);
    if (!ieee) {
        long double t = fmodl(a, b);
        if (t != r) {
            q -= 1;
        }
        r = t;
    }
    st_set(c, 0, r);
    set_cc(c, ((q & 4) ? SW_C0 : 0) | ((q & 1) ? SW_C3 : 0) | ((q & 2) ? SW_C1 : 0));
}

#endif

static void do_fxtract(x86_cpu *c)
{
    long double v = st_get(c, 0), e, m;

    check_push2(c);

    if (ld_isnan(v)) {
        c->fpus |= ld_issnan(v) ? SW_IE : 0;
        m = e = ld_make(ld_se(v), ld_mant(v) | (1ull << 62));
    } else if (v == 0) {
        c->fpus |= SW_ZE;
        e = -INFINITY;
        m = v;
    } else if (isinf(v)) {
        e = INFINITY;
        m = v;
    } else {
        int ex = ilogbl(v);
        e = ex;
        m = scalbnl(v, -ex);
    }
    st_set(c, 0, e);
    fpush(c, m);
}

#if HOST_X87
/* The host instructions give the exact partial-remainder steps and the
 * overflow/C1 behaviour. */
static void do_prem(x86_cpu *c, bool ieee)
{
    long double a = st_get(c, 0), b = st_get(c, 1), r;
    uint16_t sw;

    if (ieee) {
        __asm__ volatile("fprem1\n\tfnstsw %1" : "=t"(r), "=m"(sw) : "0"(a), "u"(b));
    } else {
        __asm__ volatile("fprem\n\tfnstsw %1" : "=t"(r), "=m"(sw) : "0"(a), "u"(b));
    }
    st_set(c, 0, r);
    set_cc(c, sw & SW_CC);
}

static void do_fscale(x86_cpu *c)
{
    long double a = st_get(c, 0), b = st_get(c, 1), r;
    uint16_t sw;

    __asm__ volatile("fscale\n\tfnstsw %1" : "=t"(r), "=m"(sw) : "0"(a), "u"(b));
    st_set(c, 0, r);
    c->fpus = (c->fpus & ~SW_C1) | (sw & SW_C1);
}
#else
static void do_fscale(x86_cpu *c)
{
    long double a = st_get(c, 0), b = st_get(c, 1), r;

    FENCE(a);
    FENCE(b);
    if (ld_isnan(a) || ld_isnan(b)) {
        r = a + b;
    } else if (isinf(b)) {
        bool up = b > 0;
        if ((up && a == 0) || (!up && isinf(a))) {
            c->fpus |= SW_IE;
            r = indefinite();
        } else {
            r = up ? copysignl(INFINITY, a) : copysignl(0.0L, a);
        }
    } else {
        long double t = truncl(b);
        long n = t > 100000 ? 100000 : t < -100000 ? -100000 : (long)t;
        r = scalblnl(a, n);
    }
    FENCE(r);
    st_set(c, 0, r);
}
#endif

/* FYL2X, FYL2XP1, FPATAN: ST(1) = f(ST(1), ST(0)), pop. */
static void do_binary_pop(x86_cpu *c, int k)
{
    long double x = st_get(c, 0), y = st_get(c, 1), r;

    FENCE(x);
    FENCE(y);
    if (k == 0xf3) {
        r = atan2l(y, x);
    } else if (ld_isnan(x) || ld_isnan(y)) {
        r = x + y;
    } else if (k == 0xf1) {
        if (x < 0 || (x == 0 && y == 0) || (x == 1 && isinf(y))) {
            c->fpus |= SW_IE;
            r = indefinite();
        } else {
            if (x == 0) {
                c->fpus |= SW_ZE;
            }
            r = y * log2l(x);
        }
    } else {
        r = y * (log1pl(x) / 0.693147180559945309417232121458176568L);
    }
    FENCE(r);
    st_set(c, 1, r);
    fpop(c);
}

static void d9_misc(x86_cpu *c, int k)
{
    long double v;

    switch (k) {
    case 0xe0: /* FCHS: sign flip, no exceptions */
        st_set(c, 0, ld_make(ld_se(st_get(c, 0)) ^ 0x8000, ld_mant(st_get(c, 0))));
        c->fpus &= ~SW_C1;
        break;
    case 0xe1: /* FABS */
        st_set(c, 0, ld_make(ld_se(st_get(c, 0)) & 0x7fff, ld_mant(st_get(c, 0))));
        c->fpus &= ~SW_C1;
        break;
    case 0xe4: /* FTST */
        compare_to_sw(c, fcompare(c, st_get(c, 0), 0.0L, false));
        break;
    case 0xf0: /* F2XM1 */
        v = st_get(c, 0);
        FENCE(v);
        v = ld_isnan(v) ? v + 0 : expm1l(v * 0.693147180559945309417232121458176568L);
        FENCE(v);
        st_set(c, 0, v);
        break;
    case 0xf4:
        do_fxtract(c);
        break;
    case 0xf6: /* FDECSTP / FINCSTP: only TOP moves */
        c->fpstt = (c->fpstt - 1) & 7;
        c->fpus &= ~SW_C1;
        break;
    case 0xf7:
        c->fpstt = (c->fpstt + 1) & 7;
        c->fpus &= ~SW_C1;
        break;
    case 0xf5:
    case 0xf8:
        do_prem(c, k == 0xf5);
        break;
    case 0xfa: /* FSQRT */
    case 0xfc: /* FRNDINT */
        st_set(c, 0, unary(c, k, st_get(c, 0)));
        break;
    case 0xfd:
        do_fscale(c);
        break;
    default:
        do_binary_pop(c, k);
        break;
    }
}

/* FXAM: C3 C2 C0 class, C1 sign (an empty register reports its sign
 * bit as well). */
static void do_fxam(x86_cpu *c)
{
    long double v = ST(c, 0);
    uint16_t se = ld_se(v), e = se & 0x7fff;
    uint64_t m = ld_mant(v);
    unsigned cc;

    if (tag_empty(c, PHYS(c, 0))) {
        cc = SW_C3 | SW_C0;
    } else if (e == 0x7fff) {
        cc = (m << 1) ? SW_C0 : (SW_C2 | SW_C0);
        cc = (m >> 63) ? cc : 0; /* integer bit clear: unsupported */
    } else if (e == 0) {
        cc = m ? (SW_C3 | SW_C2) : SW_C3;
    } else {
        cc = (m >> 63) ? SW_C2 : 0;
    }
    set_cc(c, cc | ((se & 0x8000) ? SW_C1 : 0));
}

static void d9_reg(x86_cpu *c, x86_insn *x)
{
    int i = x->rm & 7, k = 0xc0 | ((x->reg & 7) << 3) | i;
    long double t;

    switch (x->reg & 7) {
    case 0: /* FLD ST(i) */
        t = st_get(c, i);
        c->fpus &= ~SW_C1;
        fpush(c, t);
        return;
    case 1: /* FXCH */
        t = st_get(c, i);
        st_set(c, i, st_get(c, 0));
        st_set(c, 0, t);
        c->fpus &= ~SW_C1;
        return;
    case 2: /* FNOP (D9 D0) */
        if (i != 0) {
            x86_raise_ud(c);
        }
        return;
    case 3: /* FSTP1 (undocumented alias of FSTP ST(i)) */
        st_set(c, i, st_get(c, 0));
        fpop(c);
        return;
    }
    if (k == 0xe5) {
        do_fxam(c);
    } else if (k >= 0xe8 && k <= 0xee) {
        c->fpus &= ~SW_C1;
        fpush(c, fconst(c, k == 0xee ? 6 : k - 0xe8));
    } else if (k == 0xfe || k == 0xff || k == 0xfb || k == 0xf2) {
        do_trig(c, k);
    } else if (k == 0xe2 || k == 0xe3 || k == 0xe6 || k == 0xe7 || k == 0xef) {
        x86_raise_ud(c);
    } else {
        d9_misc(c, k);
    }
}

/* ---- control, status, environment ---- */

static uint16_t fsw(x86_cpu *c)
{
    return (c->fpus & ~SW_TOP) | (uint16_t)((c->fpstt & 7) << 11);
}

/* ES and B summarise the pending unmasked exceptions (SDM 8.1.3). */
static void update_es(x86_cpu *c)
{
    if (c->fpus & ~c->fpuc & 0x3f) {
        c->fpus |= SW_ES | SW_B;
    } else {
        c->fpus &= ~(SW_ES | SW_B);
    }
}

static void set_fsw(x86_cpu *c, uint16_t v)
{
    c->fpus = v & ~SW_TOP;
    c->fpstt = (v >> 11) & 7;
}

/* Full tag word: 0 valid, 1 zero, 2 special, 3 empty (SDM 8.1.7). */
static uint16_t full_tags(x86_cpu *c)
{
    uint16_t t = 0;

    for (int p = 0; p < 8; p++) {
        uint16_t e = ld_se(c->st[p]) & 0x7fff, k;
        uint64_t m = ld_mant(c->st[p]);
        if (tag_empty(c, p)) {
            k = 3;
        } else if (e == 0x7fff || (e == 0 && m) || !(m >> 63)) {
            k = (e == 0 && !m) ? 1 : 2;
        } else {
            k = 0;
        }
        t |= k << (2 * p);
    }
    return t;
}

static void fninit(x86_cpu *c)
{
    c->fpuc = 0x37f;
    c->fpus = 0;
    c->fpstt = 0;
    c->fptag = 0xffff;
    c->fpip = c->fpdp = 0;
    c->fpop = 0;
}

/* FNSTENV/FLDENV layouts for protected and long mode: 14 bytes with a
 * 16-bit operand size, else 28 (SDM vol. 1 figs. 8-9, 8-10). Real-mode
 * layouts (FIP split with the opcode) are not modelled. */
static unsigned env_size(const x86_insn *x)
{
    return x->opsize == 2 ? 14 : 28;
}

static void env_build(x86_cpu *c, x86_insn *x, uint8_t *b)
{
    uint32_t w[7] = { c->fpuc, fsw(c), full_tags(c), (uint32_t)c->fpip,
                      (uint32_t)(c->seg[S_CS].sel | ((uint32_t)(c->fpop & 0x7ff) << 16)),
                      (uint32_t)c->fpdp, c->seg[S_DS].sel };

    memset(b, 0, 28);
    for (int i = 0; i < 7; i++) {
        if (x->opsize == 2) {
            uint16_t h = (uint16_t)w[i];
            memcpy(b + 2 * i, &h, 2);
        } else {
            w[i] |= (i == 0 || i == 1 || i == 2 || i == 6) ? 0xffff0000u : 0;
            memcpy(b + 4 * i, &w[i], 4);
        }
    }
}

static void env_apply(x86_cpu *c, x86_insn *x, const uint8_t *b)
{
    uint32_t w[7];

    for (int i = 0; i < 7; i++) {
        if (x->opsize == 2) {
            uint16_t h;
            memcpy(&h, b + 2 * i, 2);
            w[i] = h;
        } else {
            memcpy(&w[i], b + 4 * i, 4);
        }
    }
    c->fpuc = (uint16_t)w[0];
    set_fsw(c, (uint16_t)w[1]);
    /* Only empty / not empty is kept; the rest is recomputed on store. */
    c->fptag = 0;
    for (int p = 0; p < 8; p++) {
        tag_set(c, p, ((w[2] >> (2 * p)) & 3) == 3);
    }
    c->fpip = w[3];
    c->fpop = x->opsize == 2 ? 0 : (w[4] >> 16) & 0x7ff;
    c->fpdp = w[5];
    update_es(c);
}

static void do_fnstenv(x86_cpu *c, x86_insn *x, bool save_regs)
{
    uint8_t b[28 + 80];
    unsigned n = env_size(x);

    env_build(c, x, b);
    if (save_regs) {
        for (int i = 0; i < 8; i++) {
            f80_store(ST(c, i), b + n + 10 * i);
        }
        n += 80;
    }
    if (!mwrite(c, x, b, n)) {
        return;
    }
    if (save_regs) {
        fninit(c);
    } else {
        c->fpuc |= 0x3f; /* FNSTENV masks all exceptions afterwards */
    }
}

static void do_fldenv(x86_cpu *c, x86_insn *x, bool load_regs)
{
    uint8_t b[28 + 80];
    unsigned n = env_size(x);

    if (!mread(c, x, b, n + (load_regs ? 80 : 0))) {
        return;
    }
    env_apply(c, x, b);
    if (load_regs) {
        for (int i = 0; i < 8; i++) {
            ST(c, i) = f80_load(b + n + 10 * i);
        }
    }
}

/* ---- rows D9 DB DD DF memory forms ---- */

static void d9_mem(x86_cpu *c, x86_insn *x)
{
    long double v;
    uint16_t w;

    switch (x->reg & 7) {
    case 0:
        if (load_operand(c, x, 0, &v)) {
            c->fpus &= ~SW_C1;
            fpush(c, v);
        }
        break;
    case 2:
    case 3:
        c->fpus &= ~SW_C1;
        if (store_fp(c, x, st_get(c, 0), 4) && (x->reg & 7) == 3) {
            fpop(c);
        }
        break;
    case 4:
        do_fldenv(c, x, false);
        break;
    case 5: /* FLDCW */
        if (mread(c, x, &w, 2)) {
            c->fpuc = (w & 0x1f7f) | 0x40;
            update_es(c);
        }
        break;
    case 6:
        do_fnstenv(c, x, false);
        break;
    case 7:
        w = c->fpuc;
        mwrite(c, x, &w, 2);
        break;
    default:
        x86_raise_ud(c);
        break;
    }
}

/* FILD / FIST(P) / FISTTP for the DB (m32), DD (FISTTP m64) and DF
 * (m16, m64) rows. */
static void int_mem(x86_cpu *c, x86_insn *x, int bits)
{
    int r = x->reg & 7;
    uint8_t b[8] = { 0 };
    int64_t i;

    if (r == 0 || r == 5) {
        if (!mread(c, x, b, bits / 8)) {
            return;
        }
        i = bits == 16 ? (int16_t)(b[0] | b[1] << 8)
                       : bits == 32 ? (int32_t)(b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24)
                                    : (int64_t)(((uint64_t)b[7] << 56) | ((uint64_t)b[6] << 48) |
                                                ((uint64_t)b[5] << 40) | ((uint64_t)b[4] << 32) |
                                                ((uint64_t)b[3] << 24) | (b[2] << 16) | (b[1] << 8) |
                                                b[0]);
        c->fpus &= ~SW_C1;
        fpush(c, (long double)i);
        return;
    }
    store_int(c, x, st_get(c, 0), bits, r == 1);
    if (!c->fault && r != 2) {
        fpop(c);
    }
}

/* FBLD / FBSTP: 18 packed BCD digits and a sign byte. */
static void bcd_load(x86_cpu *c, x86_insn *x)
{
    uint8_t b[10];
    long double v = 0;

    if (!mread(c, x, b, 10)) {
        return;
    }
    for (int i = 8; i >= 0; i--) {
        v = v * 100 + (b[i] >> 4) * 10 + (b[i] & 15);
    }
    c->fpus &= ~SW_C1;
    fpush(c, (b[9] & 0x80) ? -v : v);
}

static void bcd_store(x86_cpu *c, x86_insn *x)
{
    long double v = st_get(c, 0), r;
    uint8_t b[10] = { 0 };
    uint64_t u;

#if HOST_X87
    struct {
        uint8_t b[10];
    } m;
    uint16_t sw;

    (void)r, (void)u;
    __asm__ volatile("fld %%st(0)\n\tfbstp %0\n\tfnstsw %1" : "=m"(m), "=m"(sw) : "t"(v));
    memcpy(b, m.b, 10);
    c->fpus = (c->fpus & ~SW_C1) | (sw & SW_C1);
    if (mwrite(c, x, b, 10)) {
        fpop(c);
    }
    return;
#endif
    FENCE(v);
    r = rintl(v);
    FENCE(r);
    if (ld_isnan(v) || fabsl(r) >= 1e18L) {
        c->fpus |= SW_IE;
        memset(b + 7, 0xff, 3); /* packed BCD indefinite */
        b[7] = 0xc0;
    } else {
        if (r != v) {
            c->fpus |= SW_PE;
        }
        u = (uint64_t)fabsl(r);
        for (int i = 0; i < 9; i++, u /= 100) {
            b[i] = (uint8_t)(((u % 100) / 10) << 4 | (u % 10));
        }
        b[9] = signbit(r) ? 0x80 : 0;
    }
    if (mwrite(c, x, b, 10)) {
        fpop(c);
    }
}

static void db_mem(x86_cpu *c, x86_insn *x)
{
    uint8_t b[10];

    switch (x->reg & 7) {
    case 5: /* FLD m80 */
        if (mread(c, x, b, 10)) {
            c->fpus &= ~SW_C1;
            fpush(c, f80_load(b));
        }
        break;
    case 7: /* FSTP m80 */
        c->fpus &= ~SW_C1;
        if (store_fp(c, x, st_get(c, 0), 10)) {
            fpop(c);
        }
        break;
    case 4:
    case 6:
        x86_raise_ud(c);
        break;
    default:
        int_mem(c, x, 32);
        break;
    }
}

static void dd_mem(x86_cpu *c, x86_insn *x)
{
    long double v;
    uint16_t w;

    switch (x->reg & 7) {
    case 0:
        if (load_operand(c, x, 2, &v)) {
            c->fpus &= ~SW_C1;
            fpush(c, v);
        }
        break;
    case 1:
        store_int(c, x, st_get(c, 0), 64, true);
        if (!c->fault) {
            fpop(c);
        }
        break;
    case 2:
    case 3:
        c->fpus &= ~SW_C1;
        if (store_fp(c, x, st_get(c, 0), 8) && (x->reg & 7) == 3) {
            fpop(c);
        }
        break;
    case 4:
        do_fldenv(c, x, true);
        break;
    case 6:
        do_fnstenv(c, x, true);
        break;
    case 7:
        w = fsw(c);
        mwrite(c, x, &w, 2);
        break;
    default:
        x86_raise_ud(c);
        break;
    }
}

static void df_mem(x86_cpu *c, x86_insn *x)
{
    switch (x->reg & 7) {
    case 4:
        bcd_load(c, x);
        break;
    case 6:
        bcd_store(c, x);
        break;
    case 5:
        x->reg = 0;
        int_mem(c, x, 64);
        break;
    case 7:
        x->reg = 3;
        int_mem(c, x, 64);
        break;
    default:
        int_mem(c, x, 16);
        break;
    }
}

/* ---- DA DB DD DF register forms ---- */

/* FCMOVcc: DA = B E BE U, DB = the negations. */
static void fcmov(x86_cpu *c, x86_insn *x, bool negate)
{
    uint64_t f = x86_get_flags(c);
    static const uint64_t mask[4] = { F_CF, F_ZF, F_CF | F_ZF, F_PF };
    bool cond = (f & mask[x->reg & 3]) != 0;
    long double v = st_get(c, x->rm & 7);

    if (cond != negate) {
        st_set(c, 0, v);
    }
}

static void comi(x86_cpu *c, x86_insn *x, bool quiet, bool pop)
{
    compare_to_eflags(c, fcompare(c, st_get(c, 0), st_get(c, x->rm & 7), quiet));
    if (pop) {
        fpop(c);
    }
}

static void ucom(x86_cpu *c, int i, int pops)
{
    compare_to_sw(c, fcompare(c, st_get(c, 0), st_get(c, i), true));
    while (pops-- > 0) {
        fpop(c);
    }
}

static void da_db_reg(x86_cpu *c, x86_insn *x, bool db)
{
    int r = x->reg & 7;

    if (r < 4) {
        fcmov(c, x, db);
    } else if (!db && r == 5 && (x->rm & 7) == 1) {
        ucom(c, 1, 2); /* FUCOMPP */
    } else if (db && r == 5) {
        comi(c, x, true, false); /* FUCOMI */
    } else if (db && r == 6) {
        comi(c, x, false, false); /* FCOMI */
    } else if (db && r == 4 && (x->rm & 7) == 2) {
        c->fpus &= ~(0x3f | SW_SF | SW_ES | SW_B); /* FNCLEX */
    } else if (db && r == 4 && (x->rm & 7) == 3) {
        fninit(c);
    } else if (db && r == 4 && (x->rm & 7) < 5) {
        /* FENI/FDISI/FSETPM: no-ops since the 80287 */
    } else {
        x86_raise_ud(c);
    }
}

static void dd_reg(x86_cpu *c, x86_insn *x)
{
    int i = x->rm & 7;

    switch (x->reg & 7) {
    case 0: /* FFREE */
        tag_set(c, PHYS(c, i), true);
        break;
    case 1: /* FXCH4 alias */
        d9_reg(c, x);
        break;
    case 2: /* FST ST(i) */
    case 3: /* FSTP ST(i) */
        c->fpus &= ~SW_C1;
        st_set(c, i, st_get(c, 0));
        if ((x->reg & 7) == 3) {
            fpop(c);
        }
        break;
    case 4:
        ucom(c, i, 0);
        break;
    case 5:
        ucom(c, i, 1);
        break;
    default:
        x86_raise_ud(c);
        break;
    }
}

static void df_reg(x86_cpu *c, x86_insn *x)
{
    int r = x->reg & 7;

    if (r == 0) { /* FFREEP */
        tag_set(c, PHYS(c, x->rm & 7), true);
        fpop(c);
    } else if (r == 4 && (x->rm & 7) == 0) { /* FNSTSW AX */
        c->regs[R_EAX] = (c->regs[R_EAX] & ~0xffffull) | fsw(c);
    } else if (r == 5) {
        comi(c, x, true, true);
    } else if (r == 6) {
        comi(c, x, false, true);
    } else if (r == 1 || r == 2 || r == 3) { /* FXCH7, FSTP8, FSTP9 aliases */
        x->reg = r == 1 ? 1 : 3;
        d9_reg(c, x);
    } else {
        x86_raise_ud(c);
    }
}

/* ---- dispatch ---- */

/* Instructions that do not wait for pending exceptions and touch no data
 * register: FNINIT FNCLEX FNSTCW FNSTSW FNSTENV FNSAVE (SDM 8.3.11). */
static bool is_control(const x86_insn *x)
{
    int op = x->op & 7, r = x->reg & 7;

    if (x->rm_is_mem) {
        return (op == 1 && (r == 6 || r == 7)) || (op == 5 && (r == 6 || r == 7));
    }
    return (op == 3 && r == 4 && ((x->rm & 7) == 2 || (x->rm & 7) == 3)) ||
           (op == 7 && r == 4 && (x->rm & 7) == 0);
}

static bool is_env_load(const x86_insn *x)
{
    int op = x->op & 7, r = x->reg & 7;

    return x->rm_is_mem && ((op == 1 && (r == 4 || r == 5)) || (op == 5 && r == 4));
}

static void dispatch(x86_cpu *c, x86_insn *x)
{
    static const int cls[8] = { 0, -1, 1, -1, 2, -1, 3, -1 };
    int op = x->op & 7;

    if (x->rm_is_mem) {
        if (cls[op] >= 0) {
            arith_mem(c, x, cls[op]);
        } else if (op == 1) {
            d9_mem(c, x);
        } else if (op == 3) {
            db_mem(c, x);
        } else if (op == 5) {
            dd_mem(c, x);
        } else {
            df_mem(c, x);
        }
        return;
    }
    switch (op) {
    case 0:
        arith_reg(c, x, false, false);
        break;
    case 1:
        d9_reg(c, x);
        break;
    case 2:
    case 3:
        da_db_reg(c, x, op == 3);
        break;
    case 4:
        arith_reg(c, x, true, false);
        break;
    case 5:
        dd_reg(c, x);
        break;
    case 6:
        if ((x->reg & 7) == 3 && (x->rm & 7) != 1) {
            x86_raise_ud(c);
        } else if ((x->reg & 7) == 3) {
            compare_to_sw(c, fcompare(c, st_get(c, 0), st_get(c, 1), false)); /* FCOMPP */
            fpop(c);
            fpop(c);
        } else {
            arith_reg(c, x, true, true);
        }
        break;
    default:
        df_reg(c, x);
        break;
    }
}

/* CR0.EM or CR0.TS: #NM (SDM 2.5, table 2-2); a pending unmasked
 * exception: #MF before any waiting instruction (CR0.NE; FERR# routing
 * to IRQ13 is not modelled). */
static bool x87_usable(x86_cpu *c, bool waiting)
{
    if (c->cr0 & (CR0_EM | CR0_TS)) {
        x86_exception(c, EXC_NM, false, 0);
        return false;
    }
    if (waiting && (c->fpus & SW_ES) && (c->cr0 & CR0_NE)) {
        x86_exception(c, EXC_MF, false, 0);
        return false;
    }
    return true;
}

void x86_exec_x87(x86_cpu *c, x86_insn *x)
{
    bool control = is_control(x);
    uint16_t sw_before;
    henv e;
    unsigned hf;

    if (!x87_usable(c, !control)) {
        return;
    }
    sw_before = c->fpus;
    underflow = false;
    henv_enter(&e, c->fpuc);
    dispatch(c, x);
    hf = henv_leave(&e);
    if (c->fault) {
        c->fpus = sw_before;
        return;
    }
    if (control || is_env_load(x)) {
        return;
    }
    c->fpus |= hf & 0x3f;
    update_es(c);
    c->fpip = x->start;
    c->fpop = (uint16_t)(((x->op & 7) << 8) | (x->mod << 6) | ((x->reg & 7) << 3) | (x->rm & 7));
    if (x->rm_is_mem) {
        c->fpdp = x->ea;
    }
}

/* FWAIT (9B): #NM when CR0.TS and CR0.MP, then pending exceptions. */
void x86_fwait(x86_cpu *c)
{
    if ((c->cr0 & (CR0_TS | CR0_MP)) == (CR0_TS | CR0_MP)) {
        x86_exception(c, EXC_NM, false, 0);
        return;
    }
    if ((c->fpus & SW_ES) && (c->cr0 & CR0_NE)) {
        x86_exception(c, EXC_MF, false, 0);
    }
}

void x86_fpu_reset(x86_cpu *c)
{
    fninit(c);
    c->fpuc = 0x37f;
    c->fpop = 0;
    memset(c->st, 0, sizeof(c->st));
    memset(c->xmm, 0, sizeof(c->xmm));
    c->mxcsr = 0x1f80;
}

/* ---- MMX aliasing (SDM vol. 1 9.5) ---- */

uint64_t x86_mmx_get(x86_cpu *c, int i)
{
    return ld_mant(c->st[i & 7]);
}

void x86_mmx_set(x86_cpu *c, int i, uint64_t v)
{
    c->st[i & 7] = ld_make(0xffff, v);
}

void x86_mmx_enter(x86_cpu *c)
{
    c->fpstt = 0;
    c->fptag = 0;
}

void x86_mmx_emms(x86_cpu *c)
{
    c->fptag = 0xffff;
}

/* ---- FXSAVE / FXRSTOR (SDM vol. 1 10.5.1, table 10-2) ---- */

#define MXCSR_MASK 0xffffu

void x86_fxsave(x86_cpu *c, x86_insn *x)
{
    uint8_t b[512] = { 0 };
    uint16_t w[3] = { c->fpuc, fsw(c), 0 };
    uint32_t m[2] = { c->mxcsr, MXCSR_MASK };
    unsigned nxmm = c->long_mode && c->code_bits == 64 ? 16 : 8;

    if (x->ea & 15) {
        x86_raise_gp(c, 0);
        return;
    }
    for (int p = 0; p < 8; p++) {
        w[2] |= tag_empty(c, p) ? 0 : 1u << p;
    }
    memcpy(b, w, 5);
    memcpy(b + 6, &c->fpop, 2);
    if (x->rex & 8) {
        memcpy(b + 8, &c->fpip, 8);
        memcpy(b + 16, &c->fpdp, 8);
    } else {
        memcpy(b + 8, &c->fpip, 4);
        memcpy(b + 12, &c->seg[S_CS].sel, 2);
        memcpy(b + 16, &c->fpdp, 4);
        memcpy(b + 20, &c->seg[S_DS].sel, 2);
    }
    memcpy(b + 24, m, 8);
    for (int i = 0; i < 8; i++) {
        f80_store(ST(c, i), b + 32 + 16 * i);
    }
    memcpy(b + 160, c->xmm, 16 * nxmm);
    mwrite(c, x, b, 160 + 16 * nxmm);
}

void x86_fxrstor(x86_cpu *c, x86_insn *x)
{
    uint8_t b[512];
    uint16_t w[3];
    uint32_t mx;
    unsigned nxmm = c->long_mode && c->code_bits == 64 ? 16 : 8;

    if (x->ea & 15) {
        x86_raise_gp(c, 0);
        return;
    }
    if (!mread(c, x, b, 160 + 16 * nxmm)) {
        return;
    }
    memcpy(&mx, b + 24, 4);
    if (mx & ~MXCSR_MASK) {
        x86_raise_gp(c, 0);
        return;
    }
    memcpy(w, b, 6);
    c->fpuc = w[0];
    set_fsw(c, w[1]);
    for (int p = 0; p < 8; p++) {
        tag_set(c, p, !((w[2] >> p) & 1));
    }
    memcpy(&c->fpop, b + 6, 2);
    c->fpip = c->fpdp = 0;
    memcpy(&c->fpip, b + 8, (x->rex & 8) ? 8 : 4);
    memcpy(&c->fpdp, b + 16, (x->rex & 8) ? 8 : 4);
    c->mxcsr = mx;
    for (int i = 0; i < 8; i++) {
        ST(c, i) = f80_load(b + 32 + 16 * i);
    }
    memcpy(c->xmm, b + 160, 16 * nxmm);
}
