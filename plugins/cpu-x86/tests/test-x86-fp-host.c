/*
 * cpu-x86: x87, MMX, SSE and SSE2 checked against the host CPU itself.
 *
 * fpu.c, sse.c and sse-fp.c are compiled into this test with a small
 * fake of the memory and exception functions they call. Each case is an
 * encoded instruction whose memory operand is [rsi] and whose GPR
 * operand is rdx (rax for FNSTSW AX): the host runs it natively between
 * FXRSTOR and FXSAVE of the same initial image, tessera's code runs the
 * decoded form on an x86_cpu built from that image, and the FXSAVE
 * images (x87 stack, tags, FSW, FCW, MXCSR, XMM), the memory operand,
 * rdx/rax and the arithmetic flags must agree bit for bit. Only masked
 * exceptions run on the host; faults are checked on tessera alone.
 * x86-64 hosts only (the test skips elsewhere).
 */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "../x86.h"

const tes_host *x86_host;

/* ---- fakes of the functions the FPU files call ---- */

static uint8_t tmem[512] __attribute__((aligned(16)));
static int last_vec = -1;

bool x86_mem_read(x86_cpu *c, int seg, uint64_t off, void *buf, unsigned size)
{
    (void)seg;
    g_assert_cmpuint(off + size, <=, sizeof(tmem));
    memcpy(buf, tmem + off, size);
    return true;
}

bool x86_mem_write(x86_cpu *c, int seg, uint64_t off, const void *buf, unsigned size)
{
    (void)seg;
    g_assert_cmpuint(off + size, <=, sizeof(tmem));
    memcpy(tmem + off, buf, size);
    return true;
}

void x86_exception(x86_cpu *c, int vec, bool has_err, uint32_t err)
{
    last_vec = vec;
    c->fault = true;
}

uint64_t x86_get_flags(x86_cpu *c)
{
    return c->eflags;
}

void x86_set_flags(x86_cpu *c, uint64_t rflags)
{
    c->eflags = rflags;
}

#if defined(__x86_64__)

typedef struct fx_img {
    uint16_t fcw, fsw;
    uint8_t ftw, rsvd0;
    uint16_t fop;
    uint64_t fip, fdp;
    uint32_t mxcsr, mxcsr_mask;
    uint8_t st[8][16];
    uint8_t xmm[16][16];
    uint8_t rsvd1[96];
} __attribute__((aligned(16))) fx_img;

typedef struct run_out {
    fx_img fx;
    uint8_t mem[512];
    uint64_t rdx, rax, flags;
    int vec;
} run_out;

/* ---- the host side ---- */

typedef uint64_t (*stub_fn)(fx_img *fx, uint8_t *mem, uint64_t rdx, uint64_t *out,
                            uint64_t flags);
static uint8_t *stub_page;

/* mov rax, rdx; push r8; popfq; fxrstor [rdi]; <insn>; fxsave [rdi];
 * mov [rcx], rdx; mov [rcx+8], rax; pushfq; pop rax; ret */
static stub_fn make_stub(const uint8_t *insn, size_t len)
{
    static const uint8_t pre[] = { 0x48, 0x89, 0xd0, 0x41, 0x50, 0x9d, 0x0f, 0xae, 0x0f };
    static const uint8_t post[] = { 0x0f, 0xae, 0x07, 0x48, 0x89, 0x11, 0x48,
                                    0x89, 0x41, 0x08, 0x9c, 0x58, 0xc3 };
    uint8_t *p = stub_page;

    memcpy(p, pre, sizeof(pre));
    p += sizeof(pre);
    memcpy(p, insn, len);
    p += len;
    memcpy(p, post, sizeof(post));
    __builtin___clear_cache((char *)stub_page, (char *)p + sizeof(post));
    return (stub_fn)(void *)stub_page;
}

static void run_host(const uint8_t *insn, size_t len, const fx_img *in, const uint8_t *mem,
                     uint64_t rdx, uint64_t flags, run_out *o)
{
    static fx_img saved;
    static uint8_t hmem[512] __attribute__((aligned(16)));
    uint64_t out[2];

    o->fx = *in;
    memcpy(hmem, mem, sizeof(hmem));
    __asm__ volatile("fxsave %0" : "=m"(saved));
    o->flags = make_stub(insn, len)(&o->fx, hmem, rdx, out, flags | 0x202);
    __asm__ volatile("fxrstor %0" ::"m"(saved));
    memcpy(o->mem, hmem, sizeof(hmem));
    o->rdx = out[0];
    o->rax = out[1];
    o->vec = -1;
}

/* ---- the tessera side ---- */

/* Decode the encodings the cases use: [66|F2|F3] [REX] (D8-DF | 0F op)
 * ModRM (mod 0 rm 6 = [rsi], mod 1 rm 6 = [rsi+disp8], mod 3) [imm8]. */
static void decode(const uint8_t *b, size_t len, x86_insn *x)
{
    size_t i = 0;
    bool p66 = false;
    uint8_t modrm;

    memset(x, 0, sizeof(*x));
    x->seg = S_DS;
    for (;; i++) {
        if (b[i] == 0x66) {
            p66 = true;
        } else if (b[i] == 0xf3) {
            x->mandatory = 0xf3;
        } else if (b[i] == 0xf2) {
            x->mandatory = 0xf2;
        } else {
            break;
        }
    }
    if (!x->mandatory && p66) {
        x->mandatory = 0x66;
    }
    if ((b[i] & 0xf0) == 0x40) {
        x->rex = b[i++];
        x->has_rex = true;
    }
    x->opsize = (x->rex & 8) ? 8 : p66 ? 2 : 4;
    x->addrsize = 8;
    if (b[i] == 0x0f) {
        x->op = 0x0f00 | b[i + 1];
        i += 2;
    } else {
        x->op = b[i++];
    }
    if (i >= len) {
        return; /* EMMS */
    }
    modrm = b[i++];
    x->has_modrm = true;
    x->mod = modrm >> 6;
    x->reg = ((modrm >> 3) & 7) | ((x->rex & 4) ? 8 : 0);
    x->rm = (modrm & 7) | ((x->rex & 1) ? 8 : 0);
    x->rm_is_mem = x->mod != 3;
    if (x->mod == 1) {
        x->ea = b[i++];
    }
    if (i < len) {
        x->imm = b[i];
    }
    x->start = 0x1000;
}

static void fx_to_cpu(x86_cpu *c, const fx_img *fx)
{
    c->fpuc = fx->fcw;
    c->fpstt = (fx->fsw >> 11) & 7;
    c->fpus = fx->fsw & ~0x3800;
    c->fptag = 0;
    for (int i = 0; i < 8; i++) {
        long double v = 0;
        if (!(fx->ftw & (1u << i))) {
            c->fptag |= 3u << (2 * i);
        }
        memcpy(&v, fx->st[(i - c->fpstt) & 7], 10);
        c->st[i] = v;
    }
    c->mxcsr = fx->mxcsr;
    memcpy(c->xmm, fx->xmm, sizeof(fx->xmm));
}

static void cpu_to_fx(const x86_cpu *c, fx_img *fx)
{
    memset(fx, 0, sizeof(*fx));
    fx->fcw = c->fpuc;
    fx->fsw = (uint16_t)((c->fpus & ~0x3800u) | ((c->fpstt & 7) << 11));
    for (int i = 0; i < 8; i++) {
        if (((c->fptag >> (2 * i)) & 3) != 3) {
            fx->ftw |= (uint8_t)(1u << i);
        }
        memcpy(fx->st[(i - c->fpstt) & 7], &c->st[i], 10);
    }
    fx->mxcsr = c->mxcsr;
    memcpy(fx->xmm, c->xmm, sizeof(fx->xmm));
}

static x86_cpu *cpu;

static void cpu_prepare(x86_cpu *c, const fx_img *in, uint64_t rdx, uint64_t flags)
{
    memset(c, 0, sizeof(*c));
    c->cr0 = CR0_PE | CR0_PG | CR0_NE | CR0_MP | CR0_ET;
    c->cr4 = CR4_OSFXSR | CR4_OSXMMEXCPT;
    c->long_mode = true;
    c->code_bits = 64;
    fx_to_cpu(c, in);
    c->regs[R_EDX] = rdx;
    c->regs[R_EAX] = rdx;
    c->eflags = flags | 0x202;
}

static void run_tessera(const uint8_t *insn, size_t len, const fx_img *in, const uint8_t *mem,
                        uint64_t rdx, uint64_t flags, run_out *o)
{
    x86_cpu *c = cpu;
    x86_insn x;

    decode(insn, len, &x);
    cpu_prepare(c, in, rdx, flags);
    memcpy(tmem, mem, sizeof(tmem));
    last_vec = -1;
    if ((x.op & 0xff00) == 0) {
        x86_exec_x87(c, &x);
    } else if (!x86_exec_sse(c, &x)) {
        last_vec = EXC_UD;
    }
    cpu_to_fx(c, &o->fx);
    memcpy(o->mem, tmem, sizeof(tmem));
    o->rdx = c->regs[R_EDX];
    o->rax = c->regs[R_EAX];
    o->flags = c->eflags;
    o->vec = last_vec;
}

/* ---- comparison ---- */

static unsigned n_fail;

static void hexdump(GString *s, const char *name, const void *p, size_t n)
{
    g_string_append_printf(s, " %s=", name);
    for (size_t i = n; i-- > 0;) {
        g_string_append_printf(s, "%02x", ((const uint8_t *)p)[i]);
    }
}

#define CMP_FIELD(name, a, b)                                                                \
    do {                                                                                     \
        if (memcmp(&(a), &(b), sizeof(a))) {                                                 \
            g_string_append(d, "\n  " name ": tessera");                                    \
            hexdump(d, "", &(a), sizeof(a));                                                 \
            g_string_append(d, " host");                                                     \
            hexdump(d, "", &(b), sizeof(b));                                                 \
        }                                                                                    \
    } while (0)

static void compare_out(const char *what, const run_out *t, const run_out *h, unsigned mem_n)
{
    GString *d = g_string_new(NULL);

    CMP_FIELD("fcw", t->fx.fcw, h->fx.fcw);
    CMP_FIELD("fsw", t->fx.fsw, h->fx.fsw);
    CMP_FIELD("ftw", t->fx.ftw, h->fx.ftw);
    CMP_FIELD("mxcsr", t->fx.mxcsr, h->fx.mxcsr);
    for (int i = 0; i < 8; i++) {
        if (((t->fx.ftw | h->fx.ftw) >> ((i + (h->fx.fsw >> 11)) & 7)) & 1 &&
            memcmp(t->fx.st[i], h->fx.st[i], 10)) {
            g_string_append_printf(d, "\n  st%d: tessera", i);
            hexdump(d, "", t->fx.st[i], 10);
            g_string_append(d, " host");
            hexdump(d, "", h->fx.st[i], 10);
        }
    }
    for (int i = 0; i < 16; i++) {
        if (memcmp(t->fx.xmm[i], h->fx.xmm[i], 16)) {
            g_string_append_printf(d, "\n  xmm%d: tessera", i);
            hexdump(d, "", t->fx.xmm[i], 16);
            g_string_append(d, " host");
            hexdump(d, "", h->fx.xmm[i], 16);
        }
    }
    for (unsigned i = 0; i < mem_n; i += 16) {
        if (memcmp(t->mem + i, h->mem + i, MIN(16u, mem_n - i))) {
            g_string_append_printf(d, "\n  memory+%u: tessera", i);
            hexdump(d, "", t->mem + i, MIN(16u, mem_n - i));
            g_string_append(d, " host");
            hexdump(d, "", h->mem + i, MIN(16u, mem_n - i));
            break;
        }
    }
    CMP_FIELD("rdx", t->rdx, h->rdx);
    CMP_FIELD("rax", t->rax, h->rax);
    if ((t->flags ^ h->flags) & F_ARITH) {
        g_string_append_printf(d, "\n  flags: tessera %03llx host %03llx",
                               (unsigned long long)(t->flags & F_ARITH),
                               (unsigned long long)(h->flags & F_ARITH));
    }
    if (t->vec != -1) {
        g_string_append_printf(d, "\n  tessera raised vector %d", t->vec);
    }
    if (d->len) {
        if (n_fail++ < 12) {
            g_test_message("%s differs:%s", what, d->str);
        }
        g_test_fail();
    }
    g_string_free(d, TRUE);
}

/* Run insn both ways and compare. */
static void check(const char *name, const uint8_t *insn, size_t len, const fx_img *in,
                  const uint8_t *mem, uint64_t rdx, uint64_t flags)
{
    run_out *t = g_new0(run_out, 1), *h = g_new0(run_out, 1);
    char *what;

    run_host(insn, len, in, mem, rdx, flags, h);
    run_tessera(insn, len, in, mem, rdx, flags, t);
    what = g_strdup_printf("%s (fcw %04x mxcsr %04x)", name, in->fcw, in->mxcsr);
    compare_out(what, t, h, sizeof(tmem));
    g_free(what);
    g_free(t);
    g_free(h);
}

/* ---- initial states ---- */

static void fx_init(fx_img *fx)
{
    memset(fx, 0, sizeof(*fx));
    fx->fcw = 0x37f;
    fx->mxcsr = 0x1f80;
    fx->mxcsr_mask = 0xffff;
}

/* Push v as the host would (TOP decremented, register valid). */
static void fx_push(fx_img *fx, long double v)
{
    int top = ((fx->fsw >> 11) - 1) & 7;

    memmove(fx->st[1], fx->st[0], 7 * 16);
    memset(fx->st[0], 0, 16);
    memcpy(fx->st[0], &v, 10);
    fx->fsw = (uint16_t)((fx->fsw & ~0x3800) | (top << 11));
    fx->ftw |= (uint8_t)(1u << top);
}

static long double ld_bits(uint16_t se, uint64_t m)
{
    long double v = 0;

    memcpy(&v, &m, 8);
    memcpy((uint8_t *)&v + 8, &se, 2);
    return v;
}

static long double x87_values[24];
static unsigned n_x87_values;

static void init_x87_values(void)
{
    static const double d[] = { 0.0, -0.0, 1.0, -1.0, 1.5, -2.75, 3.0, 1e300, -1e-300,
                                0.1, 2147483648.0, -2147483649.0, 65535.5, -32768.5,
                                9.3e18, 1e19 };
    unsigned n = 0;

    for (unsigned i = 0; i < G_N_ELEMENTS(d); i++) {
        x87_values[n++] = d[i];
    }
    x87_values[n++] = INFINITY;
    x87_values[n++] = -INFINITY;
    x87_values[n++] = ld_bits(0x7fff, 0xc000000000000123ull);  /* QNaN */
    x87_values[n++] = ld_bits(0xffff, 0x8000000000000456ull);  /* SNaN */
    x87_values[n++] = ld_bits(0x0000, 0x0000000000001234ull);  /* denormal */
    x87_values[n++] = ld_bits(0x7ffe, 0xffffffffffffffffull);  /* max */
    x87_values[n++] = ld_bits(0x3fff, 0x8000000000000001ull);  /* 1 + ulp */
    x87_values[n++] = ld_bits(0x0001, 0x8000000000000000ull);  /* min normal */
    n_x87_values = n;
}

static const uint16_t fcws[] = { 0x37f, 0x77f, 0xb7f, 0xf7f, 0x07f, 0x27f };

/* ---- x87 cases ---- */

#define ENC(...) ((const uint8_t[]){ __VA_ARGS__ }), sizeof((const uint8_t[]){ __VA_ARGS__ })

typedef struct enc {
    const char *name;
    uint8_t b[8];
    uint8_t len;
} enc;

static void check_enc(const enc *e, const fx_img *in, const uint8_t *mem, uint64_t rdx,
                      uint64_t flags)
{
    check(e->name, e->b, e->len, in, mem, rdx, flags);
}

/* Two-operand register forms over every pair of values and RC/PC. */
static void test_x87_binary(void)
{
    static const enc ops[] = {
        { "fadd", { 0xd8, 0xc1 }, 2 },    { "fmul", { 0xd8, 0xc9 }, 2 },
        { "fcom", { 0xd8, 0xd1 }, 2 },    { "fcomp", { 0xd8, 0xd9 }, 2 },
        { "fsub", { 0xd8, 0xe1 }, 2 },    { "fsubr", { 0xd8, 0xe9 }, 2 },
        { "fdiv", { 0xd8, 0xf1 }, 2 },    { "fdivr", { 0xd8, 0xf9 }, 2 },
        { "fadd st1", { 0xdc, 0xc1 }, 2 }, { "fsubr st1", { 0xdc, 0xe1 }, 2 },
        { "fsub st1", { 0xdc, 0xe9 }, 2 }, { "fdivr st1", { 0xdc, 0xf1 }, 2 },
        { "fdiv st1", { 0xdc, 0xf9 }, 2 }, { "fmulp", { 0xde, 0xc9 }, 2 },
        { "fsubrp", { 0xde, 0xe1 }, 2 },  { "fsubp", { 0xde, 0xe9 }, 2 },
        { "fdivrp", { 0xde, 0xf1 }, 2 },  { "fdivp", { 0xde, 0xf9 }, 2 },
        { "fcompp", { 0xde, 0xd9 }, 2 },  { "fucom", { 0xdd, 0xe1 }, 2 },
        { "fucomp", { 0xdd, 0xe9 }, 2 },  { "fucompp", { 0xda, 0xe9 }, 2 },
        { "fucomi", { 0xdb, 0xe9 }, 2 },  { "fcomi", { 0xdb, 0xf1 }, 2 },
        { "fucomip", { 0xdf, 0xe9 }, 2 }, { "fcomip", { 0xdf, 0xf1 }, 2 },
        { "fxch", { 0xd9, 0xc9 }, 2 },    { "fst st1", { 0xdd, 0xd1 }, 2 },
        { "fstp st1", { 0xdd, 0xd9 }, 2 }, { "fld st1", { 0xd9, 0xc1 }, 2 },
        { "fscale", { 0xd9, 0xfd }, 2 },  { "fcmovb", { 0xda, 0xc1 }, 2 },
        { "fcmovnbe", { 0xdb, 0xd1 }, 2 }, { "fcmovu", { 0xda, 0xd9 }, 2 },
        { "fprem", { 0xd9, 0xf8 }, 2 },   { "fprem1", { 0xd9, 0xf5 }, 2 },
    };
    uint8_t mem[512] = { 0 };
    fx_img fx;

    for (unsigned o = 0; o < G_N_ELEMENTS(ops); o++) {
        for (unsigned i = 0; i < n_x87_values; i++) {
            for (unsigned j = 0; j < n_x87_values; j++) {
                uint16_t fcw = fcws[(i + j + o) % G_N_ELEMENTS(fcws)];
                fx_init(&fx);
                fx.fcw = fcw;
                fx_push(&fx, x87_values[j]);
                fx_push(&fx, x87_values[i]);
                check_enc(&ops[o], &fx, mem, 0, (i * 7 + j) & (F_CF | F_ZF | F_PF));
            }
        }
    }
}

/* One-operand forms, constants (every RC), stack faults. */
static void test_x87_unary(void)
{
    static const enc ops[] = {
        { "fchs", { 0xd9, 0xe0 }, 2 },   { "fabs", { 0xd9, 0xe1 }, 2 },
        { "ftst", { 0xd9, 0xe4 }, 2 },   { "fxam", { 0xd9, 0xe5 }, 2 },
        { "fxtract", { 0xd9, 0xf4 }, 2 }, { "fsqrt", { 0xd9, 0xfa }, 2 },
        { "frndint", { 0xd9, 0xfc }, 2 }, { "fdecstp", { 0xd9, 0xf6 }, 2 },
        { "fincstp", { 0xd9, 0xf7 }, 2 }, { "fld1", { 0xd9, 0xe8 }, 2 },
        { "fldl2t", { 0xd9, 0xe9 }, 2 }, { "fldl2e", { 0xd9, 0xea }, 2 },
        { "fldpi", { 0xd9, 0xeb }, 2 },  { "fldlg2", { 0xd9, 0xec }, 2 },
        { "fldln2", { 0xd9, 0xed }, 2 }, { "fldz", { 0xd9, 0xee }, 2 },
        { "ffree st0", { 0xdd, 0xc0 }, 2 }, { "ffreep", { 0xdf, 0xc0 }, 2 },
        { "fnclex", { 0xdb, 0xe2 }, 2 }, { "fninit", { 0xdb, 0xe3 }, 2 },
        { "fnstsw ax", { 0xdf, 0xe0 }, 2 }, { "fadd empty", { 0xd8, 0xc2 }, 2 },
    };
    uint8_t mem[512] = { 0 };
    fx_img fx;

    for (unsigned o = 0; o < G_N_ELEMENTS(ops); o++) {
        for (unsigned i = 0; i < n_x87_values; i++) {
            for (unsigned k = 0; k < G_N_ELEMENTS(fcws); k++) {
                fx_init(&fx);
                fx.fcw = fcws[k];
                fx.fsw = (uint16_t)((i & 1) ? 0x0021 : 0);
                fx_push(&fx, x87_values[i]);
                check_enc(&ops[o], &fx, mem, 0x1234, 0);
            }
        }
        /* full stack: pushes overflow */
        fx_init(&fx);
        for (int k = 0; k < 8; k++) {
            fx_push(&fx, k);
        }
        check_enc(&ops[o], &fx, mem, 0, 0);
        /* empty stack: operands underflow */
        fx_init(&fx);
        check_enc(&ops[o], &fx, mem, 0, 0);
    }
}

/* Transcendental functions: the host's libm against the host's FPU, to
 * a relative error of 2^-60 (the x87 is not correctly rounded either). */
static void test_x87_transcendental(void)
{
    static const enc ops[] = {
        { "fsin", { 0xd9, 0xfe }, 2 },   { "fcos", { 0xd9, 0xff }, 2 },
        { "fsincos", { 0xd9, 0xfb }, 2 }, { "fptan", { 0xd9, 0xf2 }, 2 },
        { "f2xm1", { 0xd9, 0xf0 }, 2 },  { "fpatan", { 0xd9, 0xf3 }, 2 },
        { "fyl2x", { 0xd9, 0xf1 }, 2 },  { "fyl2xp1", { 0xd9, 0xf9 }, 2 },
    };
    static const long double vals[] = { 0.5L, -0.25L, 0.1L, 0.9L, 1e-5L, -0.75L, -0.125L, 0.0L };
    uint8_t mem[512] = { 0 };

    for (unsigned o = 0; o < G_N_ELEMENTS(ops); o++) {
        for (unsigned i = 0; i < G_N_ELEMENTS(vals); i++) {
            run_out *t = g_new0(run_out, 1), *h = g_new0(run_out, 1);
            fx_img fx;
            fx_init(&fx);
            fx_push(&fx, 1.25L);
            fx_push(&fx, vals[i]);
            run_host(ops[o].b, ops[o].len, &fx, mem, 0, 0, h);
            run_tessera(ops[o].b, ops[o].len, &fx, mem, 0, 0, t);
            g_assert_cmphex(t->fx.fsw & 0x3800, ==, h->fx.fsw & 0x3800);
            g_assert_cmphex(t->fx.ftw, ==, h->fx.ftw);
            for (int k = 0; k < 2; k++) {
                long double a, b;
                memcpy(&a, t->fx.st[k], 10);
                memcpy(&b, h->fx.st[k], 10);
                if (memcmp(t->fx.st[k], h->fx.st[k], 10) && !(fabsl(a - b) <= fabsl(b) * 0x1p-60L)) {
                    g_test_message("%s(%Lg) st%d: tessera %.21Lg host %.21Lg", ops[o].name, vals[i],
                                   k, a, b);
                    g_test_fail();
                }
            }
            g_free(t);
            g_free(h);
        }
    }
}

/* Memory forms: loads of every format, stores and integer conversions
 * under every rounding mode. */
static void test_x87_memory(void)
{
    static const enc loads[] = {
        { "fld m32", { 0xd9, 0x06 }, 2 },   { "fld m64", { 0xdd, 0x06 }, 2 },
        { "fld m80", { 0xdb, 0x2e }, 2 },   { "fild m16", { 0xdf, 0x06 }, 2 },
        { "fild m32", { 0xdb, 0x06 }, 2 },  { "fild m64", { 0xdf, 0x2e }, 2 },
        { "fadd m32", { 0xd8, 0x06 }, 2 },  { "fsub m64", { 0xdc, 0x26 }, 2 },
        { "fdivr m64", { 0xdc, 0x3e }, 2 }, { "fimul m32", { 0xda, 0x0e }, 2 },
        { "fidiv m16", { 0xde, 0x36 }, 2 }, { "fcomp m32", { 0xd8, 0x1e }, 2 },
        { "ficom m16", { 0xde, 0x16 }, 2 }, { "fbld", { 0xdf, 0x26 }, 2 },
        { "fldcw", { 0xd9, 0x2e }, 2 },
    };
    static const enc stores[] = {
        { "fst m32", { 0xd9, 0x16 }, 2 },    { "fstp m32", { 0xd9, 0x1e }, 2 },
        { "fst m64", { 0xdd, 0x16 }, 2 },    { "fstp m64", { 0xdd, 0x1e }, 2 },
        { "fstp m80", { 0xdb, 0x3e }, 2 },   { "fist m16", { 0xdf, 0x16 }, 2 },
        { "fistp m16", { 0xdf, 0x1e }, 2 },  { "fist m32", { 0xdb, 0x16 }, 2 },
        { "fistp m32", { 0xdb, 0x1e }, 2 },  { "fistp m64", { 0xdf, 0x3e }, 2 },
        { "fisttp m16", { 0xdf, 0x0e }, 2 }, { "fisttp m32", { 0xdb, 0x0e }, 2 },
        { "fisttp m64", { 0xdd, 0x0e }, 2 }, { "fbstp", { 0xdf, 0x36 }, 2 },
        { "fnstcw", { 0xd9, 0x3e }, 2 },     { "fnstsw", { 0xdd, 0x3e }, 2 },
    };
    static const uint64_t pats[] = {
        0, 0x3f800000, 0xbfc00000, 0x7f800001, 0x7fc00000, 0xff800000, 0x00000001,
        0x7f7fffff, 0x3ff0000000000001ull, 0x7ff0000000000001ull, 0x8000000000000001ull,
        0x000fffffffffffffull, 0x43e0000000000000ull, 0x7fff, 0x8000, 0xffffffff, 0x1234,
        0xc90fdaa22168c234ull, 0x9999999999999999ull, 0x0f7f,
    };
    uint8_t mem[512] = { 0 };
    fx_img fx;

    for (unsigned o = 0; o < G_N_ELEMENTS(loads); o++) {
        for (unsigned i = 0; i < G_N_ELEMENTS(pats); i++) {
            fx_init(&fx);
            fx.fcw = fcws[i % 4];
            fx_push(&fx, 3.0L);
            memset(mem, 0, 16);
            memcpy(mem, &pats[i], 8);
            mem[8] = (uint8_t)(i & 1 ? 0x40 : 0x80);
            check_enc(&loads[o], &fx, mem, 0, 0);
        }
    }
    for (unsigned o = 0; o < G_N_ELEMENTS(stores); o++) {
        for (unsigned i = 0; i < n_x87_values; i++) {
            for (unsigned k = 0; k < 4; k++) {
                fx_init(&fx);
                fx.fcw = fcws[k];
                fx_push(&fx, x87_values[i]);
                memset(mem, 0xa5, 16);
                check_enc(&stores[o], &fx, mem, 0, 0);
            }
        }
    }
}

/* FNSTENV/FNSAVE (the FIP/FDP fields differ by design and are zeroed),
 * FLDENV/FRSTOR round trips. */
static void test_x87_environment(void)
{
    uint8_t mem[512];
    fx_img fx;
    run_out *t = g_new0(run_out, 1), *h = g_new0(run_out, 1);
    static const enc ops[] = {
        { "fnstenv", { 0xd9, 0x36 }, 2 }, { "fnstenv16", { 0x66, 0xd9, 0x36 }, 3 },
        { "fnsave", { 0xdd, 0x36 }, 2 },
    };

    for (unsigned o = 0; o < G_N_ELEMENTS(ops); o++) {
        for (unsigned i = 0; i + 3 < n_x87_values; i++) {
            fx_init(&fx);
            fx.fsw = 0x4521;
            fx_push(&fx, x87_values[i]);
            fx_push(&fx, x87_values[i + 1]);
            fx_push(&fx, x87_values[i + 3]);
            memset(mem, 0, sizeof(mem));
            run_host(ops[o].b, ops[o].len, &fx, mem, 0, 0, h);
            run_tessera(ops[o].b, ops[o].len, &fx, mem, 0, 0, t);
            /* FIP, FCS, FOP, FDP, FDS are where the instructions were */
            if (o == 1) {
                memset(h->mem + 6, 0, 8), memset(t->mem + 6, 0, 8);
            } else {
                memset(h->mem + 12, 0, 16), memset(t->mem + 12, 0, 16);
            }
            compare_out(ops[o].name, t, h, 108);
        }
    }
    /* FLDENV / FRSTOR from an image tessera's FNSAVE wrote */
    for (unsigned i = 0; i + 3 < n_x87_values; i++) {
        fx_init(&fx);
        fx_push(&fx, x87_values[i]);
        fx_push(&fx, x87_values[i + 2]);
        memset(mem, 0, sizeof(mem));
        run_tessera(ENC(0xdd, 0x36), &fx, mem, 0, 0, t);
        memcpy(mem, t->mem, sizeof(mem));
        fx_init(&fx);
        check("frstor", ENC(0xdd, 0x26), &fx, mem, 0, 0);
        check("fldenv", ENC(0xd9, 0x26), &fx, mem, 0, 0);
    }
    g_free(t);
    g_free(h);
}

/* ---- SSE floating point ---- */

static const uint32_t f32_edges[] = {
    0, 0x80000000, 0x3f800000, 0xbf800000, 0x3fc00000, 0x40400000, 0x7f7fffff, 0x00000001,
    0x00800000, 0x807fffff, 0x7f800000, 0xff800000, 0x7fc00001, 0xffc00002, 0x7f800001,
    0xff800003, 0x501502f9, 0x4f000000, 0xcf000000, 0x4effffff, 0x5f000000, 0xdf000001,
    0x3eaaaaab, 0x33d6bf95,
};

static const uint64_t f64_edges[] = {
    0, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull,
    0x3ff8000000000000ull, 0x7fefffffffffffffull, 0x0000000000000001ull,
    0x0010000000000000ull, 0x800fffffffffffffull, 0x7ff0000000000000ull,
    0xfff0000000000000ull, 0x7ff8000000000001ull, 0xfff8000000000002ull,
    0x7ff0000000000001ull, 0xfff0000000000003ull, 0x41e0000000000000ull,
    0xc1e0000000000000ull, 0x41dfffffffffffffull, 0x43e0000000000000ull,
    0xc3e0000000000000ull, 0x3fd5555555555555ull, 0x36a0000000000000ull,
    0x41dfffffffe00000ull, 0xc1e0000000100000ull,
};

static const uint32_t mxcsrs[] = { 0x1f80, 0x3f80, 0x5f80, 0x7f80, 0x9fc0, 0x1fbf, 0x1fc0, 0x9f80 };

static GRand *rnd;

/* Fill xmm1/xmm2 (and mm1/mm2) with lanes picked from the edge lists. */
static void fill_fp(fx_img *fx, uint8_t *mem, unsigned seed)
{
    for (int r = 0; r < 3; r++) {
        uint8_t *dst = r == 2 ? mem : fx->xmm[r + 1];
        if ((seed + r) & 1) {
            for (int l = 0; l < 2; l++) {
                uint64_t v = f64_edges[g_rand_int_range(rnd, 0, G_N_ELEMENTS(f64_edges))];
                memcpy(dst + 8 * l, &v, 8);
            }
        } else {
            for (int l = 0; l < 4; l++) {
                uint32_t v = f32_edges[g_rand_int_range(rnd, 0, G_N_ELEMENTS(f32_edges))];
                memcpy(dst + 4 * l, &v, 4);
            }
        }
    }
    for (int m = 0; m < 3; m++) {
        uint64_t v = ((uint64_t)g_rand_int(rnd) << 32) | g_rand_int(rnd);
        memcpy(fx->st[m], &v, 8);
    }
}

static void sse_cases(const uint8_t *const *encs, const uint8_t *lens, unsigned n, unsigned reps)
{
    uint8_t mem[512] = { 0 };
    fx_img fx;

    for (unsigned o = 0; o < n; o++) {
        for (unsigned i = 0; i < reps; i++) {
            char name[64];
            fx_init(&fx);
            fx.mxcsr = mxcsrs[i % G_N_ELEMENTS(mxcsrs)];
            fill_fp(&fx, mem, i);
            snprintf(name, sizeof(name), "insn #%u (%02x %02x %02x %02x)", o, encs[o][0],
                     encs[o][1], encs[o][2], lens[o] > 3 ? encs[o][3] : 0);
            check(name, encs[o], lens[o], &fx, mem, 0x80000000u + i * 12345u, i & 0x41);
        }
    }
}

#define E(...) (const uint8_t[]){ __VA_ARGS__ }
#define L(...) sizeof((const uint8_t[]){ __VA_ARGS__ })
#define CASE(...) { E(__VA_ARGS__), L(__VA_ARGS__) }

typedef struct bcase {
    const uint8_t *b;
    uint8_t len;
} bcase;

static void run_cases(const bcase *cs, unsigned n, unsigned reps)
{
    const uint8_t **e = g_new(const uint8_t *, n);
    uint8_t *l = g_new(uint8_t, n);

    for (unsigned i = 0; i < n; i++) {
        e[i] = cs[i].b;
        l[i] = cs[i].len;
    }
    sse_cases(e, l, n, reps);
    g_free(e);
    g_free(l);
}

static void test_sse_arith(void)
{
    const bcase cs[] = {
#define P4(op) CASE(0x0f, op, 0xca), CASE(0x66, 0x0f, op, 0xca), CASE(0xf3, 0x0f, op, 0xca), \
               CASE(0xf2, 0x0f, op, 0xca), CASE(0xf3, 0x0f, op, 0x0e), CASE(0x66, 0x0f, op, 0x0e)
        P4(0x58), P4(0x59), P4(0x5c), P4(0x5d), P4(0x5e), P4(0x5f), P4(0x51),
        CASE(0x0f, 0x52, 0xca), CASE(0xf3, 0x0f, 0x53, 0xca),
#undef P4
    };
    run_cases(cs, G_N_ELEMENTS(cs), 400);
}

static void test_sse_compare(void)
{
    const bcase cs[] = {
#define C4(imm) CASE(0x0f, 0xc2, 0xca, imm), CASE(0x66, 0x0f, 0xc2, 0xca, imm), \
                CASE(0xf3, 0x0f, 0xc2, 0xca, imm), CASE(0xf2, 0x0f, 0xc2, 0xca, imm)
        C4(0), C4(1), C4(2), C4(3), C4(4), C4(5), C4(6), C4(7),
#undef C4
        CASE(0x0f, 0x2e, 0xca), CASE(0x0f, 0x2f, 0xca), CASE(0x66, 0x0f, 0x2e, 0xca),
        CASE(0x66, 0x0f, 0x2f, 0xca), CASE(0x0f, 0x2f, 0x0e),
    };
    run_cases(cs, G_N_ELEMENTS(cs), 300);
}

static void test_sse_convert(void)
{
    const bcase cs[] = {
        CASE(0xf3, 0x0f, 0x2a, 0xca),       CASE(0xf2, 0x0f, 0x2a, 0xca),
        CASE(0xf3, 0x48, 0x0f, 0x2a, 0xca), CASE(0xf2, 0x48, 0x0f, 0x2a, 0xca),
        CASE(0xf3, 0x0f, 0x2d, 0xd1),       CASE(0xf2, 0x0f, 0x2d, 0xd1),
        CASE(0xf3, 0x0f, 0x2c, 0xd1),       CASE(0xf2, 0x0f, 0x2c, 0xd1),
        CASE(0xf3, 0x48, 0x0f, 0x2d, 0xd1), CASE(0xf2, 0x48, 0x0f, 0x2c, 0xd1),
        CASE(0x0f, 0x5a, 0xca),             CASE(0x66, 0x0f, 0x5a, 0xca),
        CASE(0xf3, 0x0f, 0x5a, 0xca),       CASE(0xf2, 0x0f, 0x5a, 0xca),
        CASE(0x0f, 0x5b, 0xca),             CASE(0x66, 0x0f, 0x5b, 0xca),
        CASE(0xf3, 0x0f, 0x5b, 0xca),       CASE(0x66, 0x0f, 0xe6, 0xca),
        CASE(0xf3, 0x0f, 0xe6, 0xca),       CASE(0xf2, 0x0f, 0xe6, 0xca),
        CASE(0x0f, 0x2a, 0xca),             CASE(0x66, 0x0f, 0x2a, 0xca),
        CASE(0x0f, 0x2d, 0xca),             CASE(0x0f, 0x2c, 0xca),
        CASE(0x66, 0x0f, 0x2d, 0xca),       CASE(0x66, 0x0f, 0x2c, 0xca),
        CASE(0xf3, 0x0f, 0x2a, 0x0e),       CASE(0x0f, 0x2a, 0x0e),
    };
    run_cases(cs, G_N_ELEMENTS(cs), 300);
}

/* ---- integer SIMD and moves ---- */

static void fill_int(fx_img *fx, uint8_t *mem)
{
    static const uint8_t edge[] = { 0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x81, 0x40 };

    for (int r = 0; r < 4; r++) {
        uint8_t *dst = r == 3 ? mem : fx->xmm[r];
        for (int i = 0; i < 16; i++) {
            dst[i] = (g_rand_int(rnd) & 1) ? edge[g_rand_int_range(rnd, 0, 8)]
                                            : (uint8_t)g_rand_int(rnd);
        }
    }
    if (g_rand_int(rnd) & 1) {
        /* small shift counts */
        memset(fx->xmm[2] + 1, 0, 7);
        fx->xmm[2][0] &= 0x3f;
    }
    for (int m = 0; m < 3; m++) {
        uint64_t v = ((uint64_t)g_rand_int(rnd) << 32) | g_rand_int(rnd);
        if (m == 2) {
            v &= 0x3f;
        }
        memcpy(fx->st[m], &v, 8);
    }
}

static void int_cases(const bcase *cs, unsigned n, unsigned reps)
{
    uint8_t mem[512] = { 0 };
    fx_img fx;

    for (unsigned o = 0; o < n; o++) {
        for (unsigned i = 0; i < reps; i++) {
            char name[64];
            fx_init(&fx);
            fill_int(&fx, mem);
            /* Only the case's own bytes: 0f 77 (EMMS) has two. */
            snprintf(name, sizeof(name), "insn %02x %02x %02x %02x %02x", cs[o].b[0],
                     cs[o].len > 1 ? cs[o].b[1] : 0, cs[o].len > 2 ? cs[o].b[2] : 0,
                     cs[o].len > 3 ? cs[o].b[3] : 0, cs[o].len > 4 ? cs[o].b[4] : 0);
            check(name, cs[o].b, cs[o].len, &fx, mem, 0xfedcba9876543210ull ^ i, 0);
        }
    }
}

static void test_simd_integer(void)
{
    static const uint8_t ops[] = {
        0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x74, 0x75, 0x76,
        0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0,
        0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef, 0xf1,
        0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe,
    };
    bcase *cs = g_new0(bcase, 3 * G_N_ELEMENTS(ops) + 2);
    uint8_t *bytes = g_malloc0(12 * G_N_ELEMENTS(ops) + 8);
    unsigned n = 0;

    for (unsigned i = 0; i < G_N_ELEMENTS(ops); i++) {
        uint8_t *b = bytes + 12 * i;
        b[0] = 0x66, b[1] = 0x0f, b[2] = ops[i], b[3] = 0xca;       /* xmm1, xmm2 */
        b[4] = 0x0f, b[5] = ops[i], b[6] = 0xca;                    /* mm1, mm2 */
        b[7] = 0x66, b[8] = 0x0f, b[9] = ops[i], b[10] = 0x0e;      /* xmm1, [rsi] */
        cs[n++] = (bcase){ b, 4 };
        cs[n++] = (bcase){ b + 4, 3 };
        cs[n++] = (bcase){ b + 7, 4 };
    }
    int_cases(cs, n, 40);
    g_free(cs);
    g_free(bytes);
}

static void test_simd_shuffle_move(void)
{
    const bcase cs[] = {
        CASE(0x66, 0x0f, 0x6c, 0xca), CASE(0x66, 0x0f, 0x6d, 0xca),
        CASE(0x66, 0x0f, 0x71, 0xd1, 3), CASE(0x66, 0x0f, 0x71, 0xe1, 15),
        CASE(0x66, 0x0f, 0x71, 0xf1, 16), CASE(0x66, 0x0f, 0x72, 0xd1, 31),
        CASE(0x66, 0x0f, 0x72, 0xe1, 40), CASE(0x66, 0x0f, 0x72, 0xf1, 1),
        CASE(0x66, 0x0f, 0x73, 0xd1, 63), CASE(0x66, 0x0f, 0x73, 0xf1, 64),
        CASE(0x66, 0x0f, 0x73, 0xd9, 5), CASE(0x66, 0x0f, 0x73, 0xf9, 9),
        CASE(0x66, 0x0f, 0x73, 0xd9, 17), CASE(0x0f, 0x71, 0xe1, 7), CASE(0x0f, 0x73, 0xf1, 33),
        CASE(0x66, 0x0f, 0x70, 0xca, 0x1b), CASE(0xf3, 0x0f, 0x70, 0xca, 0xe4),
        CASE(0xf2, 0x0f, 0x70, 0xca, 0x39), CASE(0x0f, 0x70, 0xca, 0x8d),
        CASE(0x0f, 0x50, 0xd1), CASE(0x66, 0x0f, 0x50, 0xd1), CASE(0x66, 0x0f, 0xd7, 0xd1),
        CASE(0x0f, 0xd7, 0xd1), CASE(0x66, 0x0f, 0xc5, 0xd1, 5), CASE(0x0f, 0xc5, 0xd1, 2),
        CASE(0x66, 0x0f, 0xc4, 0xca, 6), CASE(0x0f, 0xc4, 0xca, 1), CASE(0x66, 0x0f, 0xc4, 0x0e, 3),
        CASE(0x0f, 0xc6, 0xca, 0x4e), CASE(0x66, 0x0f, 0xc6, 0xca, 2), CASE(0x0f, 0x14, 0xca),
        CASE(0x0f, 0x15, 0xca), CASE(0x66, 0x0f, 0x14, 0xca), CASE(0x66, 0x0f, 0x15, 0xca),
        CASE(0x0f, 0x54, 0xca), CASE(0x0f, 0x55, 0xca), CASE(0x66, 0x0f, 0x56, 0xca),
        CASE(0x66, 0x0f, 0x57, 0xca), CASE(0x0f, 0x10, 0xca), CASE(0xf3, 0x0f, 0x10, 0xca),
        CASE(0xf2, 0x0f, 0x10, 0xca), CASE(0xf3, 0x0f, 0x10, 0x0e), CASE(0xf2, 0x0f, 0x10, 0x0e),
        CASE(0xf3, 0x0f, 0x11, 0x0e), CASE(0xf2, 0x0f, 0x11, 0x0e), CASE(0x0f, 0x11, 0x0e),
        CASE(0x0f, 0x12, 0xca), CASE(0x0f, 0x12, 0x0e), CASE(0x0f, 0x13, 0x0e),
        CASE(0x0f, 0x16, 0xca), CASE(0x0f, 0x16, 0x0e), CASE(0x0f, 0x17, 0x0e),
        CASE(0x66, 0x0f, 0x12, 0x0e), CASE(0x66, 0x0f, 0x17, 0x0e), CASE(0x66, 0x0f, 0x6e, 0xca),
        CASE(0x66, 0x48, 0x0f, 0x6e, 0xca), CASE(0x66, 0x0f, 0x7e, 0xca),
        CASE(0x66, 0x48, 0x0f, 0x7e, 0xca), CASE(0xf3, 0x0f, 0x7e, 0xca), CASE(0xf3, 0x0f, 0x7e, 0x0e),
        CASE(0x66, 0x0f, 0xd6, 0xca), CASE(0x66, 0x0f, 0xd6, 0x0e), CASE(0x0f, 0x6e, 0xca),
        CASE(0x48, 0x0f, 0x7e, 0xca), CASE(0x0f, 0x6f, 0xca), CASE(0x0f, 0x7f, 0x0e),
        CASE(0x66, 0x0f, 0x6f, 0x0e), CASE(0xf3, 0x0f, 0x6f, 0x4e, 3), CASE(0x66, 0x0f, 0x7f, 0x0e),
        CASE(0xf3, 0x0f, 0x7f, 0x4e, 5), CASE(0xf3, 0x0f, 0xd6, 0xca), CASE(0xf2, 0x0f, 0xd6, 0xca),
        CASE(0x0f, 0xe7, 0x0e), CASE(0x66, 0x0f, 0xe7, 0x0e), CASE(0x0f, 0x2b, 0x0e),
        CASE(0x0f, 0xc3, 0x16), CASE(0x48, 0x0f, 0xc3, 0x16), CASE(0x0f, 0x28, 0xca),
        CASE(0x66, 0x0f, 0x29, 0x0e), CASE(0x0f, 0x77), CASE(0x0f, 0xae, 0x1e),
    };
    int_cases(cs, G_N_ELEMENTS(cs), 24);
}

/* ---- FXSAVE / FXRSTOR / LDMXCSR ---- */

static void test_fxsave_layout(void)
{
    uint8_t mem[512];
    fx_img fx;
    run_out *t = g_new0(run_out, 1), *h = g_new0(run_out, 1);

    for (unsigned i = 0; i < 20; i++) {
        fx_init(&fx);
        fill_int(&fx, mem);
        fx.mxcsr = mxcsrs[i % G_N_ELEMENTS(mxcsrs)];
        fx.fsw = 0x0021;
        for (unsigned k = 0; k < (i % 9); k++) {
            fx_push(&fx, x87_values[(i + k) % n_x87_values]);
        }
        memset(mem, 0x5a, sizeof(mem));
        run_host(E(0x0f, 0xae, 0x06), 3, &fx, mem, 0, 0, h);
        run_tessera(E(0x0f, 0xae, 0x06), 3, &fx, mem, 0, 0, t);
        /* FOP, FIP/FCS, FDP/FDS describe the last x87 instruction */
        memset(h->mem + 6, 0, 18), memset(t->mem + 6, 0, 18);
        /* MXCSR_MASK is the host's (AMD adds MM, bit 17) */
        memset(h->mem + 28, 0, 4), memset(t->mem + 28, 0, 4);
        compare_out("fxsave", t, h, 416);
        /* and back: FXRSTOR of that image */
        memcpy(mem, h->mem, sizeof(mem));
        fx_init(&fx);
        check("fxrstor", E(0x0f, 0xae, 0x0e), 3, &fx, mem, 0, 0);
        check("ldmxcsr", E(0x0f, 0xae, 0x56, 24), 4, &fx, mem, 0, 0);
    }
    g_free(t);
    g_free(h);
}

/* ---- faults (tessera only) ---- */

static int run_fault(const uint8_t *b, size_t len, uint64_t cr0, uint64_t cr4, uint32_t mxcsr,
                     x86_cpu *out)
{
    x86_insn x;
    fx_img fx;

    fx_init(&fx);
    fx.mxcsr = mxcsr;
    fx_push(&fx, 1.0L);
    fx_push(&fx, 0.0L);
    decode(b, len, &x);
    cpu_prepare(cpu, &fx, 0, 0);
    cpu->cr0 = cr0;
    cpu->cr4 = cr4;
    cpu->xmm[1].f[0] = 1.0f;
    cpu->xmm[2].f[0] = 0.0f;
    memset(tmem, 0, sizeof(tmem));
    tmem[0] = 0xff; /* reserved MXCSR bits for LDMXCSR [rsi] */
    tmem[2] = 0x01;
    last_vec = -1;
    if ((x.op & 0xff00) == 0) {
        x86_exec_x87(cpu, &x);
    } else if (!x86_exec_sse(cpu, &x)) {
        last_vec = EXC_UD;
    }
    if (out) {
        *out = *cpu;
    }
    return last_vec;
}

static void test_fault_rules(void)
{
    const uint64_t cr0 = CR0_PE | CR0_PG | CR0_NE | CR0_MP, cr4 = CR4_OSFXSR | CR4_OSXMMEXCPT;
    x86_cpu *c = g_new0(x86_cpu, 1);

    /* CR0.TS: #NM for x87, MMX and SSE */
    g_assert_cmpint(run_fault(E(0xd8, 0xc1), 2, cr0 | CR0_TS, cr4, 0x1f80, NULL), ==, EXC_NM);
    g_assert_cmpint(run_fault(E(0x0f, 0xfc, 0xca), 3, cr0 | CR0_TS, cr4, 0x1f80, NULL), ==, EXC_NM);
    g_assert_cmpint(run_fault(E(0x0f, 0x58, 0xca), 3, cr0 | CR0_TS, cr4, 0x1f80, NULL), ==, EXC_NM);
    /* CR0.EM: #NM for x87, #UD for MMX/SSE; no CR4.OSFXSR: #UD for SSE */
    g_assert_cmpint(run_fault(E(0xd9, 0xe8), 2, cr0 | CR0_EM, cr4, 0x1f80, NULL), ==, EXC_NM);
    g_assert_cmpint(run_fault(E(0x0f, 0xfc, 0xca), 3, cr0 | CR0_EM, cr4, 0x1f80, NULL), ==, EXC_UD);
    g_assert_cmpint(run_fault(E(0x0f, 0x58, 0xca), 3, cr0 | CR0_EM, cr4, 0x1f80, NULL), ==, EXC_UD);
    g_assert_cmpint(run_fault(E(0x0f, 0x58, 0xca), 3, cr0, 0, 0x1f80, NULL), ==, EXC_UD);
    g_assert_cmpint(run_fault(E(0x0f, 0x58, 0xca), 3, cr0, cr4, 0x1f80, NULL), ==, -1);
    /* misaligned MOVAPS and MOVDQA: #GP; MOVUPS is fine */
    g_assert_cmpint(run_fault(E(0x0f, 0x28, 0x4e, 8), 4, cr0, cr4, 0x1f80, NULL), ==, EXC_GP);
    g_assert_cmpint(run_fault(E(0x66, 0x0f, 0x6f, 0x4e, 4), 5, cr0, cr4, 0x1f80, NULL), ==, EXC_GP);
    g_assert_cmpint(run_fault(E(0x0f, 0x10, 0x4e, 8), 4, cr0, cr4, 0x1f80, NULL), ==, -1);
    /* LDMXCSR with reserved bits: #GP */
    g_assert_cmpint(run_fault(E(0x0f, 0xae, 0x16), 3, cr0, cr4, 0x1f80, NULL), ==, EXC_GP);
    /* unmasked ZE: #XM with OSXMMEXCPT, else #UD; destination kept, flag set */
    g_assert_cmpint(run_fault(E(0xf3, 0x0f, 0x5e, 0xca), 4, cr0, cr4, 0x1d80, c), ==, EXC_XM);
    g_assert_cmphex(c->xmm[1].l[0], ==, 0x3f800000);
    g_assert_cmphex(c->mxcsr & 0x3f, ==, 0x04);
    g_assert_cmpint(run_fault(E(0xf3, 0x0f, 0x5e, 0xca), 4, cr0, CR4_OSFXSR, 0x1d80, NULL), ==,
                    EXC_UD);
    /* masked: no fault, infinity */
    g_assert_cmpint(run_fault(E(0xf3, 0x0f, 0x5e, 0xca), 4, cr0, cr4, 0x1f80, c), ==, -1);
    g_assert_cmphex(c->xmm[1].l[0], ==, 0x7f800000);
    /* SSE3 and later are not implemented: #UD */
    g_assert_cmpint(run_fault(E(0xf2, 0x0f, 0x7c, 0xca), 4, cr0, cr4, 0x1f80, NULL), ==, EXC_UD);
    g_assert_cmpint(run_fault(E(0xf2, 0x0f, 0xf0, 0x0e), 4, cr0, cr4, 0x1f80, NULL), ==, EXC_UD);
    g_free(c);
}

/* x87: an unmasked exception sets ES/B; the next waiting instruction
 * takes #MF (CR0.NE), FNCLEX clears it without faulting. */
static void test_x87_pending_exception(void)
{
    fx_img fx;
    x86_insn x;

    fx_init(&fx);
    fx.fcw = 0x37b; /* ZE unmasked */
    fx_push(&fx, 0.0L);
    fx_push(&fx, 1.0L);
    cpu_prepare(cpu, &fx, 0, 0);
    decode(E(0xd8, 0xf1), 2, &x); /* fdiv st0, st1 */
    last_vec = -1;
    x86_exec_x87(cpu, &x);
    g_assert_cmpint(last_vec, ==, -1);
    g_assert_cmphex(cpu->fpus & 0x8085, ==, 0x8084);
    cpu->fault = false;
    decode(E(0xd9, 0xe8), 2, &x); /* fld1: waits */
    x86_exec_x87(cpu, &x);
    g_assert_cmpint(last_vec, ==, EXC_MF);
    cpu->fault = false;
    last_vec = -1;
    decode(E(0xdb, 0xe2), 2, &x); /* fnclex: does not */
    x86_exec_x87(cpu, &x);
    g_assert_cmpint(last_vec, ==, -1);
    g_assert_cmphex(cpu->fpus & 0x80ff, ==, 0);
    x86_fwait(cpu);
    g_assert_cmpint(last_vec, ==, -1);
}

#endif /* __x86_64__ */

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#if defined(__x86_64__)
    stub_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    g_assert(stub_page != MAP_FAILED);
    cpu = g_new0(x86_cpu, 1);
    rnd = g_rand_new_with_seed(20240601);
    init_x87_values();
    g_test_add_func("/x86/x87/binary-ops-match-host", test_x87_binary);
    g_test_add_func("/x86/x87/unary-ops-and-stack-faults-match-host", test_x87_unary);
    g_test_add_func("/x86/x87/transcendental-close-to-host", test_x87_transcendental);
    g_test_add_func("/x86/x87/memory-forms-and-rounding-match-host", test_x87_memory);
    g_test_add_func("/x86/x87/fnstenv-fnsave-frstor-match-host", test_x87_environment);
    g_test_add_func("/x86/x87/unmasked-exception-pends-until-waiting-insn",
                    test_x87_pending_exception);
    g_test_add_func("/x86/sse/arith-nan-denormal-rounding-match-host", test_sse_arith);
    g_test_add_func("/x86/sse/compares-and-comis-flags-match-host", test_sse_compare);
    g_test_add_func("/x86/sse/conversions-incl-out-of-range-match-host", test_sse_convert);
    g_test_add_func("/x86/simd/integer-ops-mmx-and-xmm-match-host", test_simd_integer);
    g_test_add_func("/x86/simd/shuffles-shifts-moves-match-host", test_simd_shuffle_move);
    g_test_add_func("/x86/sse/fxsave-fxrstor-ldmxcsr-match-host", test_fxsave_layout);
    g_test_add_func("/x86/sse/nm-ud-gp-xm-fault-rules", test_fault_rules);
#endif
    return g_test_run();
}
