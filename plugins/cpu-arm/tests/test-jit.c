/*
 * cpu-arm translator tests (translate.c, a64-jit*.c) through the harness:
 *
 * - differential: thousands of random sequences of valid integer, flag,
 *   load/store (general and SIMD&FP registers) and branch instructions
 *   (encoded here, no assembler), run
 *   by the interpreter and by the translator from the same registers,
 *   NZCV and scratch memory; everything must end equal. Branches only go
 *   forward, so every sequence ends at its final "b end";
 * - self-modifying code: a loop rewrites an instruction and runs it again,
 *   each time seeing the new word;
 * - code written by the core (as DMA would) into a page of translated
 *   code: the next run sees it.
 *
 * TESSERA_JIT_SEED=N replays one differential case (printed on failure);
 * TESSERA_TEST_SAMPLE=K runs one seed in K (the sanitizer run of CI).
 */
#include <stdio.h>
#include <stdlib.h>

#include "snippet.h"

#define CODE 0x500000ull
#define END 0x580000ull
#define VBAR 0x10000ull
#define B_SELF 0x14000000u
#define MAX_SEQ 48
#define N_CASES 3000
#define BUDGET 20000

/* ---- random instructions ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static unsigned rn_(unsigned n)
{
    return (unsigned)(rnd() % n);
}

/* Destinations: x0-x15. Sources also x27 (small index), x28 (scratch
 * base) and 31 (XZR, or SP for the forms that take it). */
static unsigned dst(void)
{
    return rn_(16);
}

static unsigned src(void)
{
    static const unsigned extra[3] = {27, 28, 31};
    unsigned k = rn_(19);

    return k < 16 ? k : extra[k - 16];
}

/* DecodeBitMasks validity (the logical immediates' reserved values). */
static bool bitmask_ok(unsigned n, unsigned imms, bool sf)
{
    unsigned v = (n << 6) | (~imms & 0x3f);
    int len = v ? 31 - __builtin_clz(v) : -1;
    unsigned levels;

    if (len < 1 || (!sf && n)) {
        return false;
    }
    levels = (1u << len) - 1;
    return (imms & levels) != levels;
}

static uint32_t gen_dp_imm(void)
{
    unsigned sf = rn_(2), rd = dst(), rn = src();

    switch (rn_(7)) {
    case 0: /* ADD/SUB(S) imm; rd 31 only as CMP/CMN (S forms) */
        {
            unsigned S = rn_(2);
            return sf << 31 | rn_(2) << 30 | S << 29 | 0x11000000u | rn_(2) << 22 |
                   rn_(4096) << 10 | rn << 5 | (S && rn_(4) == 0 ? 31 : rd);
        }
    case 1: /* AND/ORR/EOR/ANDS imm */
        for (;;) {
            unsigned n = sf ? rn_(2) : 0, immr = rn_(sf ? 64 : 32), imms = rn_(64);
            unsigned opc = rn_(4);

            if (bitmask_ok(n, imms, sf)) {
                return sf << 31 | opc << 29 | 0x12000000u | n << 22 | immr << 16 | imms << 10 |
                       (rn == 31 ? 28 : rn) << 5 | (opc == 3 && rn_(4) == 0 ? 31 : rd);
            }
        }
    case 2: /* MOVN/MOVZ/MOVK */
        {
            static const unsigned opcs[3] = {0, 2, 3};
            return sf << 31 | opcs[rn_(3)] << 29 | 0x12800000u | rn_(sf ? 4 : 2) << 21 |
                   rn_(65536) << 5 | rd;
        }
    case 3: /* ADR/ADRP */
        return rn_(2) << 31 | rn_(4) << 29 | 0x10000000u | rn_(1u << 19) << 5 | rd;
    case 4: /* SBFM/BFM/UBFM */
        return sf << 31 | rn_(3) << 29 | 0x13000000u | sf << 22 | rn_(sf ? 64 : 32) << 16 |
               rn_(sf ? 64 : 32) << 10 | (rn == 31 ? 0 : rn) << 5 | rd;
    case 5: /* EXTR */
        return sf << 31 | 0x13800000u | sf << 22 | src() << 16 | rn_(sf ? 64 : 32) << 10 |
               rn << 5 | rd;
    default: /* ADD/SUB (extended register), SP as Rn */
        return sf << 31 | rn_(2) << 30 | 0x0b200000u | src() << 16 | rn_(8) << 13 |
               rn_(5) << 10 | rn << 5 | rd;
    }
}

static uint32_t gen_dp_reg(void)
{
    unsigned sf = rn_(2), rd = dst(), rn = src(), rm = src();

    switch (rn_(9)) {
    case 0: /* logical (shifted register), all opc:N */
        return sf << 31 | rn_(4) << 29 | 0x0a000000u | rn_(4) << 22 | rn_(2) << 21 | rm << 16 |
               rn_(sf ? 64 : 32) << 10 | rn << 5 | rd;
    case 1: /* ADD/SUB(S) (shifted register) */
        return sf << 31 | rn_(4) << 29 | 0x0b000000u | rn_(3) << 22 | rm << 16 |
               rn_(sf ? 64 : 32) << 10 | rn << 5 | rd;
    case 2: /* CSEL/CSINC/CSINV/CSNEG */
        return sf << 31 | rn_(2) << 30 | 0x1a800000u | rm << 16 | rn_(16) << 12 | rn_(2) << 10 |
               rn << 5 | rd;
    case 3: /* CCMN/CCMP register or immediate */
        return sf << 31 | rn_(2) << 30 | 0x3a400000u | rn_(32) << 16 | rn_(16) << 12 |
               rn_(2) << 11 | rn << 5 | rn_(16);
    case 4: /* 2-source: UDIV, SDIV, LSLV, LSRV, ASRV, RORV */
        {
            static const unsigned ops[6] = {2, 3, 8, 9, 10, 11};
            return sf << 31 | 0x1ac00000u | rm << 16 | ops[rn_(6)] << 10 | rn << 5 | rd;
        }
    case 5: /* 1-source: RBIT, REV16, REV32/REV, REV (X), CLZ, CLS */
        {
            unsigned op = rn_(6);
            if (op == 3 && !sf) {
                op = 2;
            }
            return sf << 31 | 0x5ac00000u | op << 10 | rn << 5 | rd;
        }
    case 6: /* 3-source */
        {
            static const unsigned ops[5] = {0, 1, 5, 2, 6};
            unsigned op31 = sf ? ops[rn_(5)] : 0;
            unsigned o0 = (op31 == 2 || op31 == 6) ? 0 : rn_(2);
            return sf << 31 | 0x1b000000u | op31 << 21 | rm << 16 | o0 << 15 |
                   (o0 || op31 < 2 || op31 == 5 ? src() : 31) << 10 | rn << 5 | rd;
        }
    case 7: /* ADC/ADCS/SBC/SBCS (interpreter fallback) */
        return sf << 31 | rn_(4) << 29 | 0x1a000000u | rm << 16 | rn << 5 | rd;
    default: /* MRS / MSR NZCV: the flags through the fallback */
        return (rn_(2) ? 0xd53b4200u : 0xd51b4200u) | (rn_(2) ? rd : src() & 15);
    }
}

/* Loads and stores around x28 (base) and SP, with small offsets, so that
 * every access stays in the scratch buffer. */
static uint32_t gen_ldst(void)
{
    unsigned size = rn_(4), rt = rn_(2) ? dst() : src(), ld = rn_(2);
    unsigned opc = ld ? (size == 3 ? 1 : 1 + rn_(size == 2 ? 2 : 3)) : 0;

    if (opc && ld) {
        rt = dst();
    }
    switch (rn_(7)) {
    case 6: /* LDAR/STLR, aligned or not (alignment fault), base x28 */
        return size << 30 | (ld ? 0x08dffc00u : 0x089ffc00u) | 28 << 5 | (ld ? dst() : rt);
    case 0: /* unsigned offset, x28 or SP */
        return size << 30 | 0x39000000u | opc << 22 | rn_(64) << 10 | (rn_(3) ? 28 : 31) << 5 |
               rt;
    case 1: /* unscaled / post / pre, base x28 */
        {
            static const unsigned modes[3] = {0, 1, 3};
            unsigned mode = modes[rn_(3)];
            int imm = mode ? (int)rn_(65) - 32 : (int)rn_(512) - 256;
            return size << 30 | 0x38000000u | opc << 22 | ((unsigned)imm & 0x1ff) << 12 |
                   mode << 10 | 28 << 5 | rt;
        }
    case 2: /* register offset x28 + x27 (UXTW, LSL, SXTW, SXTX) */
        {
            static const unsigned opts[4] = {2, 3, 6, 7};
            return size << 30 | 0x38200800u | opc << 22 | 27 << 16 | opts[rn_(4)] << 13 |
                   rn_(2) << 12 | 28 << 5 | rt;
        }
    case 3: /* literal: LDR W/X, LDRSW, PRFM from the code itself */
        return rn_(4) << 30 | 0x18000000u | ((unsigned)((int)rn_(32) - 16) & 0x7ffff) << 5 |
               dst();
    default: /* LDP/STP/LDPSW/LDNP/STNP around x28 */
        {
            unsigned popc = rn_(3), mode = rn_(4), l = rn_(2);
            if (popc == 1 && (!l || mode == 0)) {
                popc = 2;
            }
            return popc << 30 | 0x28000000u | mode << 23 | l << 22 |
                   ((unsigned)((int)rn_(9) - 4) & 0x7f) << 15 | (l ? dst() : src()) << 10 |
                   28 << 5 | (l ? dst() : src());
        }
    }
}

/* SIMD&FP registers v0-v7 (B/H/S/D/Q) through the same forms. */
static uint32_t gen_ldst_simd(void)
{
    unsigned q = rn_(3) == 0, size = q ? 0 : rn_(4), l = rn_(2), rt = rn_(8);
    unsigned opc = (q ? 2 : 0) | l;

    switch (rn_(5)) {
    case 0: /* unsigned offset */
        return size << 30 | 0x3d000000u | opc << 22 | rn_(32) << 10 | (rn_(3) ? 28 : 31) << 5 |
               rt;
    case 1: { /* unscaled / post / pre */
        static const unsigned modes[3] = {0, 1, 3};
        unsigned mode = modes[rn_(3)];
        int imm = mode ? (int)rn_(65) - 32 : (int)rn_(512) - 256;
        return size << 30 | 0x3c000000u | opc << 22 | ((unsigned)imm & 0x1ff) << 12 |
               mode << 10 | 28 << 5 | rt;
    }
    case 2: /* register offset */
        return size << 30 | 0x3c200800u | opc << 22 | 27 << 16 | (rn_(2) ? 3 : 6) << 13 |
               rn_(2) << 12 | 28 << 5 | rt;
    case 3: /* literal S/D/Q */
        return rn_(3) << 30 | 0x1c000000u | ((unsigned)((int)rn_(32) - 16) & 0x7ffff) << 5 | rt;
    default: /* LDP/STP S/D/Q */
        return rn_(3) << 30 | 0x2c000000u | rn_(4) << 23 | l << 22 |
               ((unsigned)((int)rn_(9) - 4) & 0x7f) << 15 | rn_(8) << 10 | 28 << 5 | rt;
    }
}

/* The SIMD&FP data processing the translator does itself, and system
 * registers it reads and writes inline. */
static uint32_t gen_simd_dp(void)
{
    unsigned q = rn_(2), rd = rn_(8), rn = rn_(8);

    switch (rn_(10)) {
    case 0: { /* FMOV X<->D, W<->S */
        static const uint32_t ops[4] = {0x9e660000u, 0x1e260000u, 0x9e670000u, 0x1e270000u};
        unsigned k = rn_(4);
        return ops[k] | (k < 2 ? src() : rn) << 5 | (k < 2 ? dst() : rd);
    }
    case 1: /* DUP Vd.T, Rn (all imm5, reserved ones too) */
        return q << 30 | 0x0e000c00u | rn_(32) << 16 | src() << 5 | rd;
    case 2: /* MOVI/MVNI/ORR/BIC/FMOV immediate, every cmode */
        return q << 30 | rn_(2) << 29 | 0x0f000400u | rn_(8) << 16 | rn_(16) << 12 |
               rn_(32) << 5 | rd;
    case 3: /* CMEQ .8B/.16B register, and #0 */
        return rn_(2) ? (q << 30 | 0x2e208c00u | rn_(8) << 16 | rn << 5 | rd)
                      : (q << 30 | 0x0e209800u | rn << 5 | rd);
    case 6: /* vector logic/BSL/BIT/BIF; CMHS/CMHI, UMAXP on bytes; SHRN(2) from .8H */
        switch (rn_(4)) {
        case 0: return q << 30 | rn_(2) << 29 | 0x0e201c00u | rn_(4) << 22 | rn_(8) << 16 |
                       rn << 5 | rd;
        case 1: return q << 30 | 0x2e203400u | rn_(2) << 11 | rn_(8) << 16 | rn << 5 | rd;
        case 2: return q << 30 | 0x2e20a400u | rn_(8) << 16 | rn << 5 | rd;
        default: return q << 30 | 0x0f088400u | rn_(8) << 16 | rn << 5 | rd;
        }
    case 4: /* LD1/ST1 one register, no offset or post-index */
        return q << 30 | 0x0c007000u | rn_(2) << 23 | rn_(2) << 22 | rn_(4) << 10 | 28 << 5 | rd;
    case 5: { /* DAIF: MRS/MSR, DAIFSet/Clr; DC ZVA/CVAU, IC IVAU around x28 */
        static const uint32_t ops[6] = {0xd53b4220u, 0xd51b4220u, 0xd50340dfu, 0xd50340ffu,
                                        0xd50b7420u, 0xd50b7520u};
        unsigned k = rn_(6);
        return k < 2 ? ops[k] | (k ? src() & 15 : dst())
                     : k < 4 ? ops[k] | rn_(16) << 8 : ops[k] | 28;
    }
    case 8: /* FMOV/FABS/FNEG S/D/H (register); MRS FPCR/FPSR */
        if (rn_(3) == 0) {
            return 0xd53b4400u | rn_(2) << 5 | dst();
        }
        return rn_(3) << 22 | 0x1e204000u | rn_(4) << 15 | rn << 5 | rd;
    default: { /* MRS/MSR TPIDR_EL0, TPIDR_EL1, SP_EL0 */
        static const uint32_t regs[3] = {0xd51bd040u, 0xd518d080u, 0xd5184100u};
        return regs[rn_(3)] | (rn_(2) ? 1u << 21 | dst() : src() & 15);
    }
    }
}

static uint32_t gen_misc(void)
{
    static const uint32_t words[] = {
        0xd503201fu, /* nop */
        0xd503233fu, /* paciasp (a hint: NOP in ARMv8.0) */
        0xd50323bfu, /* autiasp */
        0xd5033bbfu, /* dmb ish */
        0xd5033fdfu, /* isb */
    };

    return words[rn_(sizeof(words) / sizeof(words[0]))];
}

/* A forward branch from i to a target in (i, last]. */
static uint32_t gen_branch(unsigned i, unsigned last, uint32_t *code)
{
    unsigned t = i + 1 + rn_(last - i), off = t - i;

    switch (rn_(6)) {
    case 5: /* SUBS/CMP (immediate or shifted register) then B.cond */
        if (i + 1 < last && t > i + 1) {
            unsigned a = src(), b = rn_(3) ? src() : a; /* equal operands too */

            code[i + 1] = 0x54000000u | (off - 1) << 5 | rn_(16);
            return rn_(2) ? (rn_(2) << 31 | 0x71000000u | rn_(8) << 10 | a << 5 |
                             (rn_(2) ? 31 : dst()))
                          : (rn_(2) << 31 | 0x6b000000u | b << 16 | a << 5 |
                             (rn_(2) ? 31 : dst()));
        }
        return 0x54000000u | off << 5 | rn_(16);
    case 0: return 0x54000000u | off << 5 | rn_(16);                        /* B.cond */
    case 1: return rn_(2) << 31 | 0x34000000u | rn_(2) << 24 | off << 5 | src(); /* CBZ/CBNZ */
    case 2: {                                                                 /* TBZ/TBNZ */
        unsigned bit = rn_(64);
        return (bit >> 5) << 31 | 0x36000000u | rn_(2) << 24 | (bit & 31) << 19 | off << 5 |
               src();
    }
    case 3: return (rn_(4) ? 0x14000000u : 0x94000000u) | off;              /* B / BL */
    default:
        /* ADR x16, target; then BR/BLR/RET x16 as the next word. */
        if (i + 1 < last && t > i + 1) {
            static const uint32_t brs[3] = {0xd61f0200u, 0xd63f0200u, 0xd65f0200u};
            code[i + 1] = brs[rn_(3)];
            return 0x10000000u | off << 5 | 16; /* byte offset 4 * off */
        }
        return 0x14000000u | off;
    }
}

/* n instructions, the last one "b END" from code_addr. */
static unsigned gen_sequence(uint32_t *code, uint64_t code_addr)
{
    unsigned n = 8 + rn_(MAX_SEQ - 8), last = n - 1;

    for (unsigned i = 0; i < last; i++) {
        unsigned k = rn_(100);

        if (code[i]) {
            continue; /* the BR of an ADR/BR pair */
        }
        code[i] = k < 30 ? gen_dp_imm() : k < 55 ? gen_dp_reg() : k < 74 ? gen_ldst()
                  : k < 81 ? gen_ldst_simd() : k < 88 ? gen_simd_dp() : k < 92 ? gen_misc()
                  : gen_branch(i, last, code);
    }
    code[last] = 0x14000000u | (uint32_t)(((END - (code_addr + 4 * last)) >> 2) & 0x3ffffff);
    return n;
}

/* ---- running ---- */

typedef struct state {
    uint64_t x[31], sp, pc;
    uint32_t daif, el;
    uint64_t sp_el0, tpidr_el0, tpidr_el1;
    uint64_t v[32][2];
    uint32_t nzcv;
    uint8_t scratch[SNIPPET_SCRATCH_SIZE];
} state;

static void init_state(state *s)
{
    static const uint64_t edges[] = {0, 1, 2, 0x7f, 0x80, 0xffff, 0x8000, 0x7fffffff,
                                     0x80000000, 0xffffffff, 0x100000000ull,
                                     0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull};

    memset(s, 0, sizeof(*s));
    for (unsigned i = 0; i < 16; i++) {
        s->x[i] = rn_(3) ? edges[rn_(sizeof(edges) / 8)] : rnd();
    }
    for (unsigned i = 0; i < 8; i++) {
        s->v[i][0] = rnd();
        s->v[i][1] = rnd();
    }
    s->sp_el0 = rnd();
    s->tpidr_el0 = rnd();
    s->tpidr_el1 = rnd();
    s->x[27] = 8 * rn_(16);
    s->x[28] = SNIPPET_SCRATCH_MID;
    s->sp = SNIPPET_SCRATCH_MID + 0x400;
    s->nzcv = (uint32_t)rn_(16) << 28;
    for (unsigned i = 0; i < SNIPPET_SCRATCH_SIZE; i++) {
        s->scratch[i] = (uint8_t)rnd();
    }
}

/* Run code at code_addr from in on one engine; out gets the final state.
 * Returns the instructions exec() reported: budget, or a little more for
 * the translator when budget is large. */
static unsigned run_el = 1; /* the EL sequences start at (0: EL0t, 1: EL1h) */

static uint64_t run_engine(bool jit, uint64_t budget, const uint32_t *code, unsigned n,
                           uint64_t code_addr, const state *in, state *out)
{
    tes_cpu *cpu;
    arm_cpu *c;
    tes_harness *h = snippet_harness(&cpu, &c);
    uint8_t *ram = tes_harness_ram(h);
    uint64_t done = 0;

    c->jit = jit;
    c->vbar_el1 = VBAR;
    snippet_load_code(h, c, code_addr, code, 4 * n);
    tes_harness_write(h, END, B_SELF, 4);
    memcpy(c->x, in->x, sizeof(in->x));
    for (unsigned i = 0; i < 32; i++) {
        c->v[i].d[0] = in->v[i][0];
        c->v[i].d[1] = in->v[i][1];
    }
    c->sp_el1 = in->sp;
    c->sp_el0 = in->sp_el0;
    c->tpidr_el0 = in->tpidr_el0;
    c->tpidr_el1 = in->tpidr_el1;
    c->nzcv = in->nzcv;
    memcpy(ram + SNIPPET_SCRATCH_ADDR, in->scratch, SNIPPET_SCRATCH_SIZE);
    c->el = run_el; /* at EL0 the SP is SP_EL0, compared as sp_el0 */
    g_assert_cmpint(tes_harness_cpu_exec(h, cpu, budget, &done), ==, TES_EXEC_BUDGET);
#ifdef CPU_ARM_HAVE_JIT
    if (jit) {
        g_assert_nonnull(c->jc); /* the translator ran, not the interpreter */
    }
#endif
    memcpy(out->x, c->x, sizeof(out->x));
    for (unsigned i = 0; i < 32; i++) {
        out->v[i][0] = c->v[i].d[0];
        out->v[i][1] = c->v[i].d[1];
    }
    out->sp = c->sp_el1;
    out->daif = c->daif;
    out->el = c->el;
    out->sp_el0 = c->sp_el0;
    out->tpidr_el0 = c->tpidr_el0;
    out->tpidr_el1 = c->tpidr_el1;
    out->pc = c->pc;
    out->nzcv = c->nzcv;
    memcpy(out->scratch, ram + SNIPPET_SCRATCH_ADDR, SNIPPET_SCRATCH_SIZE);
    tes_harness_free(h);
    return done;
}

static bool diff(uint64_t seed, const uint32_t *code, unsigned n, const state *a,
                 const state *b)
{
    GString *msg = g_string_new(NULL);
    bool same;

    for (unsigned i = 0; i < 31; i++) {
        if (a->x[i] != b->x[i]) {
            g_string_append_printf(msg, " x%u %016" G_GINT64_MODIFIER "x/%016"
                                   G_GINT64_MODIFIER "x", i, a->x[i], b->x[i]);
        }
    }
    for (unsigned i = 0; i < 32; i++) {
        if (a->v[i][0] != b->v[i][0] || a->v[i][1] != b->v[i][1]) {
            g_string_append_printf(msg, " v%u differs", i);
        }
    }
    if (a->sp_el0 != b->sp_el0 || a->tpidr_el0 != b->tpidr_el0 || a->tpidr_el1 != b->tpidr_el1) {
        g_string_append(msg, " sp_el0/tpidr_el0/tpidr_el1 differ");
    }
    if (a->el != b->el) {
        g_string_append_printf(msg, " el %u/%u", a->el, b->el);
    }
    if (a->daif != b->daif) {
        g_string_append_printf(msg, " daif %x/%x", a->daif, b->daif);
    }
    if (a->sp != b->sp || a->pc != b->pc || a->nzcv != b->nzcv) {
        g_string_append_printf(msg, " sp %" G_GINT64_MODIFIER "x/%" G_GINT64_MODIFIER "x pc %"
                               G_GINT64_MODIFIER "x/%" G_GINT64_MODIFIER "x nzcv %x/%x",
                               a->sp, b->sp, a->pc, b->pc, a->nzcv, b->nzcv);
    }
    for (unsigned i = 0; i < SNIPPET_SCRATCH_SIZE; i++) {
        if (a->scratch[i] != b->scratch[i]) {
            g_string_append_printf(msg, " scratch[+%u] %02x/%02x", i, a->scratch[i],
                                   b->scratch[i]);
            break;
        }
    }
    same = msg->len == 0;
    if (!same) {
        GString *words = g_string_new(NULL);

        for (unsigned i = 0; i < n; i++) {
            g_string_append_printf(words, " %08x", code[i]);
        }
        g_test_fail_printf("seed %" G_GINT64_MODIFIER "u: interpreter/translator differ:%s\n"
                           "# code:%s", seed, msg->str, words->str);
        g_string_free(words, TRUE);
    }
    g_string_free(msg, TRUE);
    return same;
}

static bool one_case(uint64_t seed)
{
    static uint32_t code[MAX_SEQ];
    static state in, out_i, out_j;
    uint64_t code_addr, done_i, done_j;
    unsigned n;

    rng_state = seed * 0x9e3779b97f4a7c15ull + 1;
    run_el = (seed & 3) != 1; /* a quarter at EL0: other TLBs, traps */
    memset(code, 0, sizeof(code));
    /* Sometimes near the end of a page: blocks stop at page ends. */
    code_addr = rn_(4) ? CODE : CODE + 4096 - 4 * (1 + rn_(24));
    n = gen_sequence(code, code_addr);
    init_state(&in);
    /* The translator may run a block past a large budget (counting it):
     * the interpreter then runs as many. */
    done_j = run_engine(true, BUDGET, code, n, code_addr, &in, &out_j);
    g_assert_cmpuint(done_j, >=, BUDGET);
    g_assert_cmpuint(done_j, <, BUDGET + 64);
    done_i = run_engine(false, done_j, code, n, code_addr, &in, &out_i);
    g_assert_cmpuint(done_i, ==, done_j);
    if (!diff(seed, code, n, &out_i, &out_j)) {
        return false;
    }
    if ((seed & 7) == 0) { /* a small budget is exact on both engines */
        done_j = run_engine(true, 300, code, n, code_addr, &in, &out_j);
        done_i = run_engine(false, 300, code, n, code_addr, &in, &out_i);
        g_assert_cmpuint(done_j, ==, 300);
        g_assert_cmpuint(done_i, ==, 300);
        return diff(seed, code, n, &out_i, &out_j);
    }
    return true;
}

static void test_differential(void)
{
    const char *one = g_getenv("TESSERA_JIT_SEED");
    unsigned bad = 0;

    if (one) {
        one_case(g_ascii_strtoull(one, NULL, 10));
        return;
    }
    /* Seeds 1, 1 + K, 1 + 2K, ... under $TESSERA_TEST_SAMPLE=K. */
    for (uint64_t seed = 1; seed <= N_CASES && bad < 5; seed += snippet_sample()) {
        bad += !one_case(seed);
    }
}

/* ---- the debugger's points (debug.c) ---- */

#define DBG_ASM "    movz x0, #1\n" /* CODE + 0 */ \
                "    add x0, x0, #2\n" /* + 4 */ \
                "    str x0, [x28]\n"   /* + 8 */ \
                "    add x1, x0, #5\n" /* + 12 */ \
                "    b .\n"            /* + 16 */

static tes_harness *dbg_setup(bool jit, tes_cpu **cpu, arm_cpu **c)
{
    tes_harness *h = snippet_harness(cpu, c);
    GBytes *b = snippet_build(DBG_ASM);
    gsize len;
    const void *p = g_bytes_get_data(b, &len);

    (*c)->jit = jit;
    (*c)->x[28] = SNIPPET_SCRATCH_MID;
    tes_harness_write(h, SNIPPET_SCRATCH_MID, 0x5555, 8);
    snippet_load_code(h, *c, CODE, p, len);
    return h;
}

/* A breakpoint stops before its instruction, on both engines (a block
 * ends before it); a one-instruction budget then runs exactly that one. */
static void test_breakpoint_then_step(void)
{
    for (int jit = 0; jit < 2; jit++) {
        tes_cpu *cpu;
        arm_cpu *c;
        tes_harness *h = dbg_setup(jit, &cpu, &c);

        c->gdb.bp[0] = CODE + 12;
        c->gdb.nbp = 1;
        g_assert_cmpint(tes_harness_cpu_exec(h, cpu, 100, NULL), ==, TES_EXEC_DEBUG);
        g_assert_cmphex(c->pc, ==, CODE + 12);
        g_assert_cmpuint(c->x[0], ==, 3);
        g_assert_cmpuint(c->x[1], ==, 0);
        g_assert_cmphex(tes_harness_read(h, SNIPPET_SCRATCH_MID, 8), ==, 3);
        g_assert_cmpint(c->gdb.stop_kind, ==, TES_DEBUG_BREAK_SW);
        c->gdb.nbp = 0; /* gdb removes it to step over */
        g_assert_cmpint(tes_harness_cpu_exec(h, cpu, 1, NULL), ==, TES_EXEC_BUDGET);
        g_assert_cmphex(c->pc, ==, CODE + 16);
        g_assert_cmpuint(c->x[1], ==, 8);
        tes_harness_free(h);
    }
}

/* A write watchpoint stops before the store: memory unchanged, pc on it. */
static void test_watchpoint_stops_before_store(void)
{
    for (int jit = 0; jit < 2; jit++) {
        tes_cpu *cpu;
        arm_cpu *c;
        tes_harness *h = dbg_setup(jit, &cpu, &c);

        c->gdb.wp[0] = (gdb_wp){SNIPPET_SCRATCH_MID + 4, 2, TES_DEBUG_WATCH_WRITE};
        c->gdb.nwp = 1;
        g_assert_cmpint(tes_harness_cpu_exec(h, cpu, 100, NULL), ==, TES_EXEC_DEBUG);
        g_assert_cmphex(c->pc, ==, CODE + 8);
        g_assert_cmpuint(c->x[0], ==, 3);
        g_assert_cmphex(tes_harness_read(h, SNIPPET_SCRATCH_MID, 8), ==, 0x5555);
        g_assert_cmpint(c->gdb.stop_kind, ==, TES_DEBUG_WATCH_WRITE);
        g_assert_cmphex(c->gdb.stop_addr, ==, SNIPPET_SCRATCH_MID + 4);
        c->gdb.nwp = 0;
        g_assert_cmpint(tes_harness_cpu_exec(h, cpu, 1, NULL), ==, TES_EXEC_BUDGET);
        g_assert_cmphex(tes_harness_read(h, SNIPPET_SCRATCH_MID, 8), ==, 3);
        tes_harness_free(h);
    }
}

/* ---- code that changes ---- */

/* The loop stores "movz x7, #i" over target and runs it, 200 times. */
static void test_self_modifying_loop(void)
{
    tes_cpu *cpu;
    arm_cpu *c;
    tes_harness *h = snippet_harness(&cpu, &c);
    GBytes *b = snippet_build("    mov x3, #200\n"
                              "loop: adr x2, target\n"
                              "    movz w1, #0x0007\n"
                              "    movk w1, #0xd280, lsl #16\n" /* movz x7, #0 */
                              "    add w1, w1, w3, lsl #5\n"    /* imm16 = x3 */
                              "    str w1, [x2]\n"
                              "    isb\n"
                              "target: movz x7, #0\n"
                              "    add x4, x4, x7\n"
                              "    subs x3, x3, #1\n"
                              "    b.ne loop\n"
                              "    b .\n");
    gsize len;
    const void *p = g_bytes_get_data(b, &len);

    c->jit = true;
    snippet_load_code(h, c, CODE, p, len);
    g_assert_cmpint(tes_harness_cpu_exec(h, cpu, 200 * 10 + 1000, NULL), ==, TES_EXEC_BUDGET);
    g_assert_cmpuint(c->x[3], ==, 0);
    g_assert_cmpuint(c->x[4], ==, 200 * 201 / 2); /* each run saw its own new word */
    tes_harness_free(h);
}

/* A block runs; the core writes a new instruction into its middle (as a
 * device's DMA would); the next run executes the new word. */
static void test_core_write_into_block(void)
{
    tes_cpu *cpu;
    arm_cpu *c;
    tes_harness *h = snippet_harness(&cpu, &c);
    GBytes *b = snippet_build("    movz x0, #1\n"
                              "    add x0, x0, #2\n"
                              "    add x1, x0, #0\n"
                              "    b .\n");
    gsize len;
    const void *p = g_bytes_get_data(b, &len);

    c->jit = true;
    snippet_load_code(h, c, CODE, p, len);
    tes_harness_cpu_exec(h, cpu, 100, NULL);
    g_assert_cmpuint(c->x[1], ==, 3);
    tes_harness_write(h, CODE + 4, 0x91002800u, 4); /* add x0, x0, #10 */
    c->pc = CODE;
    tes_harness_cpu_exec(h, cpu, 100, NULL);
    g_assert_cmpuint(c->x[1], ==, 11);
    tes_harness_free(h);
}

/* An IRQ line is up while masked; unmasking it (DAIFClr, then MSR DAIF)
 * takes the interrupt before the next instruction on both engines. */
static void test_unmask_takes_pending_irq(void)
{
    for (int jit = 0; jit < 2; jit++) {
        for (int form = 0; form < 2; form++) {
            tes_cpu *cpu;
            arm_cpu *c;
            tes_harness *h = snippet_harness(&cpu, &c);
            GBytes *b = snippet_build(form ? "    movz x0, #1\n"
                                             "    msr daifclr, #2\n"
                                             "    movz x0, #2\n"
                                             "    b .\n"
                                           : "    movz x0, #1\n"
                                             "    mov x1, #0x40\n" /* F masked, I clear */
                                             "    msr daif, x1\n"
                                             "    movz x0, #2\n"
                                             "    b .\n");
            gsize len;
            const void *p = g_bytes_get_data(b, &len);

            c->jit = jit;
            c->vbar_el1 = VBAR;
            for (unsigned i = 0; i < 16; i++) {
                tes_harness_write(h, VBAR + i * 0x80, B_SELF, 4);
            }
            snippet_load_code(h, c, CODE, p, len);
            c->irq_line = 1; /* DAIF is all masked out of reset */
            tes_harness_cpu_exec(h, cpu, 2000, NULL);
            g_assert_cmphex(c->pc, ==, VBAR + 0x280); /* IRQ, current EL with SP_ELx */
            g_assert_cmphex(c->elr_el1, ==, CODE + (form ? 8 : 12));
            g_assert_cmpuint(c->x[0], ==, 1);
            tes_harness_free(h);
        }
    }
}

/* A device that raises the vCPU's IRQ line from inside the MMIO write
 * (an e1000's ICS register, a doorbell answered at once). */
static const tes_host *irqdev_host;
static tes_irq *irqdev_line;
static unsigned irqdev_writes;

static uint64_t irqdev_read(void *opaque, uint64_t off, unsigned size)
{
    return 0;
}

static void irqdev_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    irqdev_writes++;
    irqdev_host->irq_set(irqdev_line, 1);
}

static const tes_mem_ops irqdev_ops = {
    .size = sizeof(tes_mem_ops),
    .read = irqdev_read,
    .write = irqdev_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 8,
    .impl_min = 1, .impl_max = 8,
};

/* The store completes once and the interrupt is taken after it (the
 * translator used to leave through the slow path's fault exit, so the
 * handler returned to the store and ran it again: Linux e1000e's ICS
 * write looped for ever). Both engines; the translator may take it a
 * few instructions later, at its block boundary. */
static void test_mmio_store_raising_irq(void)
{
    for (int jit = 0; jit < 2; jit++) {
        tes_cpu *cpu;
        arm_cpu *c;
        tes_harness *h = snippet_harness(&cpu, &c);
        GBytes *b = snippet_build("    movz x2, #0x900, lsl #16\n"
                                  "    movz x0, #1\n"
                                  "    str w0, [x2]\n"
                                  "    movz x0, #2\n"
                                  "    b .\n");
        gsize len;
        const void *p = g_bytes_get_data(b, &len);
        tes_region *r;

        irqdev_host = tes_harness_host(h);
        irqdev_line = irqdev_host->cpu_irq_in(cpu, TES_ARM_IRQ);
        irqdev_writes = 0;
        r = irqdev_host->region_new_io(NULL, "irqdev", 0x1000, &irqdev_ops, NULL);
        irqdev_host->region_add(irqdev_host->system_memory(), 0x09000000, r, 0);
        c->jit = jit;
        c->vbar_el1 = VBAR;
        for (unsigned i = 0; i < 16; i++) {
            tes_harness_write(h, VBAR + i * 0x80, B_SELF, 4);
        }
        snippet_load_code(h, c, CODE, p, len);
        c->daif = 0; /* IRQs unmasked */
        tes_harness_cpu_exec(h, cpu, 2000, NULL);
        g_assert_cmpuint(irqdev_writes, ==, 1);
        g_assert_cmphex(c->pc, ==, VBAR + 0x280);
        g_assert_cmphex(c->elr_el1, >, CODE + 8); /* past the store */
        g_assert_cmphex(c->elr_el1, <=, CODE + 16);
        tes_harness_free(h);
    }
}

/* Calls through BLR/BL to functions on other pages and RET back, many
 * times: the lookup cache's inline probe hits after the first round and
 * must land on the right block; both engines end equal. */
static void test_indirect_calls_repeat(void)
{
    const char *text = "    mov x3, #3000\n"
                       "    adr x5, f1\n"
                       "    adr x6, f2\n"
                       "loop: blr x5\n"
                       "    bl f2\n"
                       "    blr x6\n"
                       "    subs x3, x3, #1\n"
                       "    b.ne loop\n"
                       "    b .\n"
                       "    .balign 4096\n"
                       "f1: add x0, x0, x3\n"
                       "    ret\n"
                       "    .balign 4096\n"
                       "f2: eor x1, x1, x0\n"
                       "    add x2, x2, #1\n"
                       "    ret\n";
    uint64_t x[2][3];

    for (int jit = 0; jit < 2; jit++) {
        tes_cpu *cpu;
        arm_cpu *c;
        tes_harness *h = snippet_harness(&cpu, &c);
        GBytes *b = snippet_build(text);
        gsize len;
        const void *p = g_bytes_get_data(b, &len);

        c->jit = jit;
        snippet_load_code(h, c, CODE, p, len);
        tes_harness_cpu_exec(h, cpu, 3000 * 14 + 100, NULL);
        g_assert_cmphex(c->x[3], ==, 0);
        memcpy(x[jit], c->x, sizeof(x[jit]));
        tes_harness_free(h);
    }
    g_assert_cmphex(x[0][0], ==, 3000ull * 3001 / 2);
    g_assert_cmphex(x[1][0], ==, x[0][0]);
    g_assert_cmphex(x[1][1], ==, x[0][1]);
    g_assert_cmphex(x[1][2], ==, 6000);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    snippet_init(argc, argv);
    g_test_add_func("/arm-jit/differential/random-sequences-match-interpreter",
                    test_differential);
    g_test_add_func("/arm-jit/smc/loop-rewriting-its-code-sees-each-new-word",
                    test_self_modifying_loop);
    g_test_add_func("/arm-jit/smc/core-write-into-translated-block-takes-effect",
                    test_core_write_into_block);
    g_test_add_func("/arm-jit/irq/unmasking-takes-pending-irq-before-next-insn",
                    test_unmask_takes_pending_irq);
    g_test_add_func("/arm-jit/irq/raised-by-mmio-store-taken-after-it-once",
                    test_mmio_store_raising_irq);
    g_test_add_func("/arm-jit/debug/breakpoint-stops-before-insn-then-step-runs-one",
                    test_breakpoint_then_step);
    g_test_add_func("/arm-jit/debug/write-watchpoint-stops-before-the-store",
                    test_watchpoint_stops_before_store);
    g_test_add_func("/arm-jit/lookup/repeated-indirect-calls-land-right",
                    test_indirect_calls_repeat);
    return g_test_run();
}
