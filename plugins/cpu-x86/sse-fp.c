/*
 * cpu-x86: SSE/SSE2 floating point: arithmetic, MIN/MAX, SQRT, RCP,
 * RSQRT, CMPxx, (U)COMISx and the conversions (SDM vol. 1 ch. 10-11,
 * vol. 2 entries).
 *
 * Each instruction runs with the host MXCSR holding the guest's rounding
 * control, DAZ and FZ (all exceptions masked, flags cleared); the host's
 * own float/double arithmetic (SSE on x86-64) then gives x86 results and
 * flags, which are folded into the guest MXCSR. C does not fix operand
 * order for NaN propagation, so the two-NaN case is done by hand (x86:
 * the first source, quieted), as are a produced NaN (the negative "QNaN
 * indefinite"), MIN/MAX (second source on NaN or equal), compares and
 * float->integer conversions (integer indefinite on NaN/overflow). On
 * hosts without SSE, <fenv.h> gives rounding and flags but not DAZ/FZ.
 * Unmasked exceptions raise #XM (CR4.OSXMMEXCPT) or #UD without writing
 * the destination.
 */
#include <fenv.h>
#include <math.h>

#include "sse.h"

#if defined(__SSE2__)
#include <immintrin.h>
#define FENCE(x) __asm__ volatile("" : "+x"(x))
#else
#define FENCE(x) __asm__ volatile("" : "+m"(x))
#endif

typedef xmm_reg V;

/* ---- host environment ---- */

#if defined(__SSE2__)
#define ENV_KEPT UINT32_MAX

/* The guest's MXCSR controls into the host's, flags cleared; the host's
 * MXCSR is restored by env_leave. Fast path (no ldmxcsr, which costs
 * more than the operation): the guest runs with the host's own controls
 * (round to nearest, no FZ/DAZ, every exception masked) and the host's
 * flags are all set in the guest's MXCSR already. Raised flags then stay
 * in the host (harmless: they are sticky and nothing host-side reads
 * them) and env_leave reports them with the new ones; committing a flag
 * the guest has already changes nothing and, all masked, never faults. */
static uint32_t env_enter(x86_cpu *c)
{
    uint32_t saved, m = (c->mxcsr & (MX_DAZ | MX_FZ | 0x6000)) | 0x1f80;

    __asm__ volatile("stmxcsr %0" : "=m"(saved)::"memory");
    if ((c->mxcsr & 0xffc0) == 0x1f80 && (saved & 0xffc0) == 0x1f80 &&
        (saved & 0x3f & ~c->mxcsr) == 0) {
        return ENV_KEPT;
    }
    __asm__ volatile("ldmxcsr %0" ::"m"(m) : "memory");
    return saved;
}

static uint32_t env_leave(uint32_t saved)
{
    uint32_t m;

    __asm__ volatile("stmxcsr %0" : "=m"(m)::"memory");
    if (saved != ENV_KEPT) {
        __asm__ volatile("ldmxcsr %0" ::"m"(saved) : "memory");
    }
    return m & 0x3f;
}
#else
static uint32_t env_enter(x86_cpu *c)
{
    static const int rm[4] = { FE_TONEAREST, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO };

    fesetround(rm[(c->mxcsr >> 13) & 3]);
    feclearexcept(FE_ALL_EXCEPT);
    __asm__ volatile("" ::: "memory");
    return 0;
}

static uint32_t env_leave(uint32_t saved)
{
    int h;

    (void)saved;
    __asm__ volatile("" ::: "memory");
    h = fetestexcept(FE_ALL_EXCEPT);
    fesetround(FE_TONEAREST);
    return ((h & FE_INVALID) ? MX_IE : 0) | ((h & FE_DIVBYZERO) ? MX_ZE : 0) |
           ((h & FE_OVERFLOW) ? MX_OE : 0) | ((h & FE_UNDERFLOW) ? MX_UE : 0) |
           ((h & FE_INEXACT) ? MX_PE : 0);
}
#endif

/* Fold flags into MXCSR; unmasked ones fault (SDM 11.5.1). */
static bool commit(x86_cpu *c, uint32_t fl)
{
    c->mxcsr |= fl & 0x3f;
    if (fl & ~(c->mxcsr >> 7) & 0x3f) {
        x86_exception(c, (c->cr4 & CR4_OSXMMEXCPT) ? EXC_XM : EXC_UD, false, 0);
        return false;
    }
    return true;
}

/* ---- raw-bit helpers ---- */

static inline float f32(uint32_t b)
{
    float f;
    memcpy(&f, &b, 4);
    return f;
}

static inline uint32_t b32(float f)
{
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
}

static inline double f64(uint64_t b)
{
    double d;
    memcpy(&d, &b, 8);
    return d;
}

static inline uint64_t b64(double d)
{
    uint64_t b;
    memcpy(&b, &d, 8);
    return b;
}

static inline bool nan32(uint32_t v)
{
    return (v & 0x7fffffffu) > 0x7f800000u;
}

static inline bool snan32(uint32_t v)
{
    return nan32(v) && !(v & 0x400000u);
}

static inline bool nan64(uint64_t v)
{
    return (v & ~(1ull << 63)) > 0x7ff0000000000000ull;
}

static inline bool snan64(uint64_t v)
{
    return nan64(v) && !(v & (1ull << 51));
}

#define DEFNAN32 0xffc00000u
#define DEFNAN64 0xfff8000000000000ull

/* ---- lane operations (op = the opcode byte) ---- */

/* The libm sqrt's error path (negative input) compares the operand
 * again, which would add a spurious DE for negative denormals. */
static inline float host_sqrtf(float y)
{
#if defined(__SSE2__)
    return _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(y)));
#else
    return sqrtf(y);
#endif
}

static inline double host_sqrt(double y)
{
#if defined(__SSE2__)
    return _mm_cvtsd_f64(_mm_sqrt_sd(_mm_setzero_pd(), _mm_set_sd(y)));
#else
    return sqrt(y);
#endif
}

static uint32_t lane32(int op, uint32_t a, uint32_t b, uint32_t *fl)
{
    float x = f32(a), y = f32(b), r;

    if (op == 0x5d || op == 0x5f) {
        bool pick_a;
        if (nan32(a) || nan32(b)) {
            *fl |= MX_IE;
            return b;
        }
        FENCE(x);
        FENCE(y);
        pick_a = op == 0x5d ? x < y : x > y;
        return pick_a ? a : b;
    }
    if (nan32(a) && nan32(b)) {
        *fl |= (snan32(a) || snan32(b)) ? MX_IE : 0;
        return a | 0x400000u;
    }
    FENCE(x);
    FENCE(y);
    switch (op) {
    case 0x58:
        r = x + y;
        break;
    case 0x59:
        r = x * y;
        break;
    case 0x5c:
        r = x - y;
        break;
    case 0x5e:
        r = x / y;
        break;
    default:
        r = host_sqrtf(y);
        break;
    }
    FENCE(r);
    return (nan32(b32(r)) && !nan32(a) && !nan32(b)) ? DEFNAN32 : b32(r);
}

static uint64_t lane64(int op, uint64_t a, uint64_t b, uint32_t *fl)
{
    double x = f64(a), y = f64(b), r;

    if (op == 0x5d || op == 0x5f) {
        bool pick_a;
        if (nan64(a) || nan64(b)) {
            *fl |= MX_IE;
            return b;
        }
        FENCE(x);
        FENCE(y);
        pick_a = op == 0x5d ? x < y : x > y;
        return pick_a ? a : b;
    }
    if (nan64(a) && nan64(b)) {
        *fl |= (snan64(a) || snan64(b)) ? MX_IE : 0;
        return a | (1ull << 51);
    }
    FENCE(x);
    FENCE(y);
    switch (op) {
    case 0x58:
        r = x + y;
        break;
    case 0x59:
        r = x * y;
        break;
    case 0x5c:
        r = x - y;
        break;
    case 0x5e:
        r = x / y;
        break;
    default:
        r = host_sqrt(y);
        break;
    }
    FENCE(r);
    return (nan64(b64(r)) && !nan64(a) && !nan64(b)) ? DEFNAN64 : b64(r);
}

/* RCPPS/RSQRTPS: approximations whose exact bits are the host CPU's
 * (Intel and AMD differ; within 1.5 * 2^-12 relative error). */
static uint32_t approx32(int op, uint32_t b)
{
#if defined(__SSE2__)
    __m128 v = _mm_set_ss(f32(b));
    v = op == 0x53 ? _mm_rcp_ss(v) : _mm_rsqrt_ss(v);
    return b32(_mm_cvtss_f32(v));
#else
    float y = f32(b);
    return nan32(b) ? b | 0x400000u : b32(op == 0x53 ? 1.0f / y : 1.0f / sqrtf(y));
#endif
}

/* 0 = eq, 1 = lt, 2 = gt, 3 = unordered; signalling compares raise IE
 * on any NaN, quiet ones on SNaNs only. */
static int cmp32(uint32_t a, uint32_t b, bool signalling, uint32_t *fl)
{
    float x = f32(a), y = f32(b);

    if (nan32(a) || nan32(b)) {
        *fl |= (signalling || snan32(a) || snan32(b)) ? MX_IE : 0;
        return 3;
    }
    FENCE(x);
    FENCE(y);
    return x == y ? 0 : x < y ? 1 : 2;
}

static int cmp64(uint64_t a, uint64_t b, bool signalling, uint32_t *fl)
{
    double x = f64(a), y = f64(b);

    if (nan64(a) || nan64(b)) {
        *fl |= (signalling || snan64(a) || snan64(b)) ? MX_IE : 0;
        return 3;
    }
    FENCE(x);
    FENCE(y);
    return x == y ? 0 : x < y ? 1 : 2;
}

/* CMPPS predicates 0..7: EQ LT LE UNORD NEQ NLT NLE ORD. */
static bool pred_true(int p, int r)
{
    static const uint8_t table[8] = {
        /* bit r set: predicate true for result r (eq, lt, gt, unord) */
        0x1, 0x2, 0x3, 0x8, 0xe, 0xd, 0xc, 0x7,
    };
    return (table[p & 7] >> r) & 1;
}

static bool pred_signals(int p)
{
    p &= 3;
    return p == 1 || p == 2;
}

/* ---- float -> integer ---- */

/* One lane (float when !dbl) to a 32- or 64-bit integer: rounding per
 * MXCSR.RC or truncation; NaN or out of range gives the integer
 * indefinite and IE. SSE2 hosts run CVT(T)SS2SI/CVT(T)SD2SI itself
 * (host libm rint would round by the x87 control word). */
#if defined(__SSE2__)
static int64_t cvt_lane(uint64_t a, bool dbl, int bits, bool trunc, uint32_t *fl)
{
    __m128i raw = _mm_cvtsi64_si128((long long)a);
    int64_t r;

    (void)fl;
    __asm__ volatile("" : "+x"(raw));
    if (dbl) {
        __m128d v = _mm_castsi128_pd(raw);
        if (bits == 32) {
            r = trunc ? _mm_cvttsd_si32(v) : _mm_cvtsd_si32(v);
        } else {
            r = trunc ? _mm_cvttsd_si64(v) : _mm_cvtsd_si64(v);
        }
    } else {
        __m128 v = _mm_castsi128_ps(raw);
        if (bits == 32) {
            r = trunc ? _mm_cvttss_si32(v) : _mm_cvtss_si32(v);
        } else {
            r = trunc ? _mm_cvttss_si64(v) : _mm_cvtss_si64(v);
        }
    }
    __asm__ volatile("" : "+r"(r));
    return r;
}
#else
static int64_t cvt_lane(uint64_t a, bool dbl, int bits, bool trunc, uint32_t *fl)
{
    double v, r, lim = bits == 32 ? 2147483648.0 : 9223372036854775808.0;
    int64_t indef = bits == 32 ? INT32_MIN : INT64_MIN;

    if (dbl ? nan64(a) : nan32((uint32_t)a)) {
        *fl |= MX_IE;
        return indef;
    }
    v = dbl ? f64(a) : (double)f32((uint32_t)a);
    r = trunc ? trunc(v) : nearbyint(v);
    if (r < -lim || r >= lim) {
        *fl |= MX_IE;
        return indef;
    }
    if (r != v) {
        *fl |= MX_PE;
    }
    return (int64_t)r;
}
#endif

/* ---- instruction bodies ---- */

static bool is_dbl(const x86_insn *x)
{
    return x->mandatory == 0x66 || x->mandatory == 0xf2;
}

static bool is_scalar(const x86_insn *x)
{
    return x->mandatory == 0xf3 || x->mandatory == 0xf2;
}

/* DAZ for MIN/MAX, which return an operand itself: denormals read as
 * zeros of the same sign. */
static void daz_lanes(V *v, bool dbl, unsigned lanes)
{
    for (unsigned i = 0; i < lanes; i++) {
        if (dbl && !(v->q[i] & 0x7ff0000000000000ull)) {
            v->q[i] &= 1ull << 63;
        } else if (!dbl && !(v->l[i] & 0x7f800000u)) {
            v->l[i] &= 1u << 31;
        }
    }
}

/* 51 SQRT, 52 RSQRT, 53 RCP, 58 ADD, 59 MUL, 5C SUB, 5D MIN, 5E DIV,
 * 5F MAX; C2 CMP (imm8 predicate). */
static bool arith(x86_cpu *c, x86_insn *x, int op)
{
    bool dbl = is_dbl(x), sc = is_scalar(x);
    unsigned lanes = sc ? 1 : dbl ? 2 : 4;
    uint32_t fl = 0, saved;
    V s, r = c->xmm[x->reg];

    if ((op == 0x52 || op == 0x53) && dbl) {
        return false;
    }
    if (!sse_src(c, x, &s, sc ? (dbl ? 8 : 4) : 16, !sc)) {
        return true;
    }
    if ((c->mxcsr & MX_DAZ) && (op == 0x5d || op == 0x5f)) {
        daz_lanes(&r, dbl, lanes);
        daz_lanes(&s, dbl, lanes);
    }
    saved = env_enter(c);
    for (unsigned i = 0; i < lanes; i++) {
        if (op == 0xc2 && dbl) {
            int k = cmp64(r.q[i], s.q[i], pred_signals(x->imm), &fl);
            r.q[i] = pred_true(x->imm, k) ? ~0ull : 0;
        } else if (op == 0xc2) {
            int k = cmp32(r.l[i], s.l[i], pred_signals(x->imm), &fl);
            r.l[i] = pred_true(x->imm, k) ? ~0u : 0;
        } else if (op == 0x52 || op == 0x53) {
            r.l[i] = approx32(op, s.l[i]);
        } else if (dbl) {
            r.q[i] = lane64(op, op == 0x51 ? s.q[i] : r.q[i], s.q[i], &fl);
        } else {
            r.l[i] = lane32(op, op == 0x51 ? s.l[i] : r.l[i], s.l[i], &fl);
        }
    }
    fl |= env_leave(saved);
    if (op == 0x52 || op == 0x53) {
        fl = 0; /* RCP/RSQRT raise no exceptions */
    }
    if (commit(c, fl)) {
        c->xmm[x->reg] = r;
    }
    return true;
}

/* 2E UCOMISS/UCOMISD, 2F COMISS/COMISD: ZF PF CF, OF SF AF cleared. */
static bool comis(x86_cpu *c, x86_insn *x, bool signalling)
{
    static const uint64_t fl_of[4] = { F_ZF, F_CF, 0, F_ZF | F_PF | F_CF };
    bool dbl = x->mandatory == 0x66;
    uint32_t fl = 0, saved;
    V s;
    int k;

    if (x->mandatory != 0 && !dbl) {
        return false;
    }
    if (!sse_src(c, x, &s, dbl ? 8 : 4, false)) {
        return true;
    }
    saved = env_enter(c);
    k = dbl ? cmp64(c->xmm[x->reg].q[0], s.q[0], signalling, &fl)
            : cmp32(c->xmm[x->reg].l[0], s.l[0], signalling, &fl);
    fl |= env_leave(saved);
    if (commit(c, fl)) {
        x86_set_flags(c, (x86_get_flags(c) & ~(uint64_t)F_ARITH) | fl_of[k]);
    }
    return true;
}

/* 2A: CVTPI2PS, CVTPI2PD, CVTSI2SS, CVTSI2SD. */
static bool cvt_from_int(x86_cpu *c, x86_insn *x)
{
    V r = c->xmm[x->reg];
    uint32_t fl, saved;
    int64_t in[2];
    bool w64 = x->rex & 8;
    unsigned n = is_scalar(x) ? 1 : 2;

    if (is_scalar(x)) {
        uint64_t v;
        if (x->rm_is_mem) {
            v = 0;
            if (!sse_read_mem(c, x, &v, w64 ? 8 : 4, false)) {
                return true;
            }
        } else {
            v = sse_gpr_read(c, x->rm, w64);
        }
        in[0] = w64 ? (int64_t)v : (int32_t)v;
    } else {
        uint64_t m;
        if (!sse_src_mm(c, x, &m)) {
            return true;
        }
        in[0] = (int32_t)m;
        in[1] = (int32_t)(m >> 32);
    }
    saved = env_enter(c);
    for (unsigned i = 0; i < n; i++) {
        int64_t v = in[i];
        __asm__ volatile("" : "+r"(v));
        if (is_dbl(x)) {
            double d = (double)v;
            FENCE(d);
            r.d[i] = d;
        } else {
            float f = (float)v;
            FENCE(f);
            r.f[i] = f;
        }
    }
    fl = env_leave(saved);
    if (commit(c, fl)) {
        c->xmm[x->reg] = r;
    }
    return true;
}

/* 2C/2D: CVT(T)PS2PI, CVT(T)PD2PI, CVT(T)SS2SI, CVT(T)SD2SI. */
static bool cvt_to_int(x86_cpu *c, x86_insn *x, bool trunc)
{
    bool dbl = is_dbl(x), sc = is_scalar(x), w64 = sc && (x->rex & 8);
    unsigned n = sc ? 1 : 2;
    uint32_t fl = 0, saved;
    int64_t out[2];
    V s;

    if (!sse_src(c, x, &s, sc ? (dbl ? 8 : 4) : (dbl ? 16 : 8), !sc && dbl)) {
        return true;
    }
    saved = env_enter(c);
    for (unsigned i = 0; i < n; i++) {
        out[i] = cvt_lane(dbl ? s.q[i] : s.l[i], dbl, w64 ? 64 : 32, trunc, &fl);
    }
    fl = (fl | env_leave(saved)) & (MX_IE | MX_PE);
    if (!commit(c, fl)) {
        return true;
    }
    if (sc) {
        sse_gpr_write(c, x->reg, (uint64_t)out[0], w64);
    } else {
        x86_mmx_enter(c);
        x86_mmx_set(c, x->reg & 7, (uint32_t)out[0] | ((uint64_t)(uint32_t)out[1] << 32));
    }
    return true;
}

/* 5A: CVTPS2PD, CVTPD2PS, CVTSS2SD, CVTSD2SS. */
static bool cvt_fp(x86_cpu *c, x86_insn *x)
{
    V s, r = c->xmm[x->reg];
    uint32_t fl, saved;
    bool from_dbl = is_dbl(x), sc = is_scalar(x);
    unsigned n = sc ? 1 : 2;

    if (!sse_src(c, x, &s, sc ? (from_dbl ? 8 : 4) : (from_dbl ? 16 : 8), !sc && from_dbl)) {
        return true;
    }
    if (!sc && from_dbl) {
        r.q[1] = 0;
    }
    saved = env_enter(c);
    for (unsigned i = 0; i < n; i++) {
        if (from_dbl) {
            double d = s.d[i];
            float f;
            FENCE(d);
            f = (float)d;
            FENCE(f);
            r.f[i] = f;
        } else {
            float f = s.f[i];
            double d;
            FENCE(f);
            d = f;
            FENCE(d);
            r.d[i] = d;
        }
    }
    fl = env_leave(saved);
    if (commit(c, fl)) {
        c->xmm[x->reg] = r;
    }
    return true;
}

/* 5B: CVTDQ2PS (none), CVTPS2DQ (66), CVTTPS2DQ (F3);
 * E6: CVTTPD2DQ (66), CVTDQ2PD (F3), CVTPD2DQ (F2). */
static bool cvt_packed_dq(x86_cpu *c, x86_insn *x)
{
    bool e6 = (x->op & 0xff) == 0xe6;
    int m = x->mandatory;
    bool to_int = e6 ? m != 0xf3 : m != 0, src_dbl = e6 && m != 0xf3;
    bool trunc = e6 ? m == 0x66 : m == 0xf3;
    unsigned n = e6 ? 2 : 4;
    uint32_t fl = 0, saved;
    V s, r = { .q = { 0, 0 } };

    if ((e6 && m == 0) || (!e6 && m == 0xf2)) {
        return false;
    }
    if (!sse_src(c, x, &s, (e6 && m == 0xf3) ? 8 : 16, !(e6 && m == 0xf3))) {
        return true;
    }
    saved = env_enter(c);
    for (unsigned i = 0; i < n; i++) {
        if (to_int) {
            r.l[i] = (uint32_t)cvt_lane(src_dbl ? s.q[i] : s.l[i], src_dbl, 32, trunc, &fl);
        } else if (e6) {
            r.d[i] = (double)(int32_t)s.l[i];
        } else {
            int32_t v = (int32_t)s.l[i];
            float f;
            __asm__ volatile("" : "+r"(v));
            f = (float)v;
            FENCE(f);
            r.f[i] = f;
        }
    }
    fl |= env_leave(saved);
    if (to_int) {
        fl &= MX_IE | MX_PE;
    }
    if (commit(c, fl)) {
        c->xmm[x->reg] = r;
    }
    return true;
}

bool sse_exec_fp(x86_cpu *c, x86_insn *x)
{
    int op = x->op & 0xff;

    switch (op) {
    case 0x2a:
        if (!is_scalar(x) && !x->rm_is_mem) {
            x86_mmx_enter(c);
        }
        return cvt_from_int(c, x);
    case 0x2c:
    case 0x2d:
        return cvt_to_int(c, x, op == 0x2c);
    case 0x2e:
    case 0x2f:
        return comis(c, x, op == 0x2f);
    case 0x51:
    case 0x52:
    case 0x53:
    case 0x58:
    case 0x59:
    case 0x5c:
    case 0x5d:
    case 0x5e:
    case 0x5f:
    case 0xc2:
        return arith(c, x, op);
    case 0x5a:
        return cvt_fp(c, x);
    case 0x5b:
    case 0xe6:
        return cvt_packed_dq(c, x);
    default:
        return false;
    }
}
