/*
 * Unit tests of the JIT code generator (sdk/jit, tessera/jit.h): generated
 * code is run on a fake CPU state and checked against values computed in C.
 */
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tessera/jit.h"

/* ---- a fake CPU ---- */

#define NG 16
#define TLB_BITS 8
#define GUEST_BASE 0x40000000ull
#define GUEST_PAGES 4
#define FAULT_BASE 0xdead0000ull

typedef struct tlb_entry {
    uint64_t tag;
    uint8_t *host;
} tlb_entry;

typedef struct fenv {
    uint64_t r[NG];
    uint64_t many[128];
    int64_t budget;
    int32_t exit_req;
    uint32_t pad;
    uint64_t pc;
    uint64_t scratch[4];
    tlb_entry tlb[1u << TLB_BITS];
    uint64_t tlbraw[16 * 9]; /* entries of 8 * k bytes, tag at 8, host at 0 */
} fenv;

#define G(i) (uint32_t)offsetof(fenv, r[i])
#define TLB_OFF (uint32_t)offsetof(fenv, tlb)

static fenv E;
static uint8_t ram[GUEST_PAGES * 4096] __attribute__((aligned(4096)));
static unsigned slow_ld, slow_st;
static uint64_t last_slow_pc;
static GString *logbuf;

static uint64_t ram_read(uint64_t addr, unsigned size)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)ram[(addr - GUEST_BASE + i) % sizeof(ram)] << (8 * i);
    }
    return v;
}

static uint64_t ld_slow(void *env, uint64_t addr, uint32_t memop, uint32_t arg)
{
    fenv *e = env;
    unsigned size = 1u << (memop & TES_JIT_MO_SIZE);
    uint64_t v;

    slow_ld++;
    last_slow_pc = e->pc;
    if (addr >= FAULT_BASE) {
        e->exit_req = 1;
        return 0xbad;
    }
    v = ram_read(addr, size);
    if ((memop & TES_JIT_MO_SIGN) && size < 8) {
        v = (uint64_t)((int64_t)(v << (64 - 8 * size)) >> (64 - 8 * size));
    }
    return v + arg; /* arg shows the slow path was taken with the right arg */
}

static void st_slow(void *env, uint64_t addr, uint64_t val, uint32_t memop, uint32_t arg)
{
    fenv *e = env;
    unsigned size = 1u << (memop & TES_JIT_MO_SIZE);

    slow_st++;
    last_slow_pc = e->pc;
    if (addr >= FAULT_BASE) {
        e->exit_req = 1;
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        ram[(addr - GUEST_BASE + i) % sizeof(ram)] = val >> (8 * i);
    }
}

static void log_cb(void *opaque, const char *text)
{
    g_string_append(logbuf, text);
}

static void tlb_fill(void)
{
    memset(E.tlb, 0, sizeof(E.tlb));
    for (unsigned p = 0; p < GUEST_PAGES; p++) {
        uint64_t va = GUEST_BASE + p * 4096ull;
        tlb_entry *t = &E.tlb[(va >> 12) & ((1u << TLB_BITS) - 1)];

        t->tag = va | 1;
        t->host = ram + p * 4096;
    }
}

static tes_jit *jit_make(size_t code_size)
{
    tes_jit_config c = {
        .size = sizeof(c),
        .code_size = code_size,
        .budget_off = offsetof(fenv, budget),
        .exit_off = offsetof(fenv, exit_req),
        .pc_off = offsetof(fenv, pc),
        .tlb = { .entry_size = sizeof(tlb_entry), .tag_off = 0,
                 .host_off = offsetof(tlb_entry, host), .page_bits = 12,
                 .index_bits = TLB_BITS },
        .ld_slow = ld_slow,
        .st_slow = st_slow,
        .log = log_cb,
    };
    char *err = NULL;
    tes_jit *j = tes_jit_new(&c, &err);

    g_assert_null(err);
    g_assert_nonnull(j);
    memset(&E, 0, sizeof(E));
    tlb_fill();
    slow_ld = slow_st = 0;
    return j;
}

static uint64_t next_pc = 0x1000;

static tes_jit_ir *begin(tes_jit *j)
{
    tes_jit_key k = { .pc = next_pc += 4 };
    tes_jit_ir *ir = tes_jit_begin(j, &k);

    g_assert_nonnull(ir);
    return ir;
}

static tes_jit_tb *end(tes_jit *j, tes_jit_ir *ir)
{
    tes_jit_tb *tb;

    tes_jit_exit_nochain(ir);
    tb = tes_jit_end(j, ir, 1, NULL, 0);
    g_assert_nonnull(tb);
    return tb;
}

static uintptr_t run(tes_jit *j, tes_jit_tb *tb)
{
    E.budget = 1000;
    E.exit_req = 0;
    return tes_jit_exec(j, &E, tb);
}

/* ---- the reference ---- */

static uint64_t rol64(uint64_t x, unsigned n)
{
    return n % 64 ? (x << n % 64) | (x >> (64 - n % 64)) : x;
}

static uint32_t rol32(uint32_t x, unsigned n)
{
    return n % 32 ? (x << n % 32) | (x >> (32 - n % 32)) : x;
}

static uint64_t ref64(unsigned op, uint64_t a, uint64_t b)
{
    switch (op) {
    case TES_JIT_MOV: return a;
    case TES_JIT_ADD: return a + b;
    case TES_JIT_SUB: return a - b;
    case TES_JIT_MUL: return a * b;
    case TES_JIT_AND: return a & b;
    case TES_JIT_OR: return a | b;
    case TES_JIT_XOR: return a ^ b;
    case TES_JIT_ANDC: return a & ~b;
    case TES_JIT_SHL: return a << (b % 64);
    case TES_JIT_SHR: return a >> (b % 64);
    case TES_JIT_SAR: return (uint64_t)((int64_t)a >> (b % 64));
    case TES_JIT_ROTL: return rol64(a, b % 64);
    case TES_JIT_ROTR: return rol64(a, 64 - b % 64);
    case TES_JIT_MULUH: return (uint64_t)(((unsigned __int128)a * b) >> 64);
    case TES_JIT_MULSH: return (uint64_t)(((__int128)(int64_t)a * (int64_t)b) >> 64);
    case TES_JIT_NEG: return 0 - a;
    case TES_JIT_NOT: return ~a;
    case TES_JIT_EXT8U: return a & 0xff;
    case TES_JIT_EXT8S: return (uint64_t)(int64_t)(int8_t)a;
    case TES_JIT_EXT16U: return a & 0xffff;
    case TES_JIT_EXT16S: return (uint64_t)(int64_t)(int16_t)a;
    case TES_JIT_EXT32U: return a & 0xffffffffu;
    case TES_JIT_EXT32S: return (uint64_t)(int64_t)(int32_t)a;
    case TES_JIT_BSWAP16: return ((a & 0xff) << 8) | ((a >> 8) & 0xff);
    case TES_JIT_BSWAP32: return __builtin_bswap32((uint32_t)a);
    case TES_JIT_BSWAP64: return __builtin_bswap64(a);
    case TES_JIT_CLZ: return a ? (uint64_t)__builtin_clzll(a) : 64;
    case TES_JIT_CTZ: return a ? (uint64_t)__builtin_ctzll(a) : 64;
    }
    g_assert_not_reached();
}

static uint64_t ref(unsigned op, bool is32, uint64_t a, uint64_t b)
{
    uint32_t x = a, y = b;

    if (!is32) {
        return ref64(op, a, b);
    }
    switch (op) {
    case TES_JIT_SHL: return (uint32_t)(x << (y % 32));
    case TES_JIT_SHR: return x >> (y % 32);
    case TES_JIT_SAR: return (uint32_t)((int32_t)x >> (y % 32));
    case TES_JIT_ROTL: return rol32(x, y % 32);
    case TES_JIT_ROTR: return rol32(x, 32 - y % 32);
    case TES_JIT_MULUH: return (uint32_t)(((uint64_t)x * y) >> 32);
    case TES_JIT_MULSH: return (uint32_t)(((int64_t)(int32_t)x * (int32_t)y) >> 32);
    case TES_JIT_EXT8S: return (uint32_t)(int32_t)(int8_t)x;
    case TES_JIT_EXT16S: return (uint32_t)(int32_t)(int16_t)x;
    case TES_JIT_EXT32S: return x;
    case TES_JIT_BSWAP64: return __builtin_bswap32(x);
    case TES_JIT_CLZ: return x ? (uint64_t)__builtin_clz(x) : 32;
    case TES_JIT_CTZ: return x ? (uint64_t)__builtin_ctz(x) : 32;
    default: return (uint32_t)ref64(op, x, y);
    }
}

static bool ref_cond(unsigned c, bool is32, uint64_t a, uint64_t b)
{
    int64_t sa = is32 ? (int32_t)a : (int64_t)a, sb = is32 ? (int32_t)b : (int64_t)b;

    if (is32) {
        a = (uint32_t)a;
        b = (uint32_t)b;
    }
    switch (c) {
    case TES_JIT_EQ: return a == b;
    case TES_JIT_NE: return a != b;
    case TES_JIT_LT: return sa < sb;
    case TES_JIT_GE: return sa >= sb;
    case TES_JIT_LE: return sa <= sb;
    case TES_JIT_GT: return sa > sb;
    case TES_JIT_LTU: return a < b;
    case TES_JIT_GEU: return a >= b;
    case TES_JIT_LEU: return a <= b;
    case TES_JIT_GTU: return a > b;
    case TES_JIT_TSTEQ: return (a & b) == 0;
    case TES_JIT_TSTNE: return (a & b) != 0;
    }
    g_assert_not_reached();
}

static bool unary(unsigned op)
{
    return op == TES_JIT_MOV || op >= TES_JIT_NEG;
}

static const uint64_t vals[] = {
    0, 1, 2, 7, 31, 32, 33, 63, 64, 0x7f, 0x80, 0xff, 0x8000, 0xffff,
    0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull, 0xdeadbeef00000005ull,
    0x123456789abcdef0ull, INT64_MAX, (uint64_t)INT64_MIN, UINT64_MAX,
    (uint64_t)-2, (uint64_t)-33, 0x00000001ffffffffull,
};
#define NVALS G_N_ELEMENTS(vals)

/* ---- ALU ops ---- */

static void op(tes_jit_ir *ir, bool is32, unsigned o, tes_jit_val d, tes_jit_val a,
               tes_jit_val b)
{
    if (is32) {
        tes_jit_op32(ir, o, d, a, b);
    } else {
        tes_jit_op(ir, o, d, a, b);
    }
}

/* r2 = a op b through the register-only forms (globals, temps, aliasing). */
static void check_op_regs(tes_jit *j, unsigned o, bool is32)
{
    tes_jit_tb *tb[5];
    tes_jit_ir *ir;
    tes_jit_val g0, g1, g2, t0, t1, t2;

    for (int f = 0; f < 5; f++) {
        ir = begin(j);
        g0 = tes_jit_global(ir, G(0), "r0");
        g1 = tes_jit_global(ir, G(1), "r1");
        g2 = tes_jit_global(ir, G(2), "r2");
        switch (f) {
        case 0: /* globals */
            op(ir, is32, o, g2, g0, g1);
            break;
        case 1: /* temps */
            t0 = tes_jit_temp(ir);
            t1 = tes_jit_temp(ir);
            t2 = tes_jit_temp(ir);
            tes_jit_op(ir, TES_JIT_MOV, t0, g0, 0);
            tes_jit_op(ir, TES_JIT_MOV, t1, g1, 0);
            op(ir, is32, o, t2, t0, t1);
            tes_jit_op(ir, TES_JIT_MOV, g2, t2, 0);
            /* t0 and t1 still readable after the op */
            tes_jit_op(ir, TES_JIT_XOR, g0, t0, t1);
            break;
        case 2: /* d is a */
            op(ir, is32, o, g0, g0, g1);
            tes_jit_op(ir, TES_JIT_MOV, g2, g0, 0);
            break;
        case 3: /* d is b */
            op(ir, is32, o, g1, g0, g1);
            tes_jit_op(ir, TES_JIT_MOV, g2, g1, 0);
            break;
        default: /* temps, d is a */
            t0 = tes_jit_temp(ir);
            tes_jit_op(ir, TES_JIT_MOV, t0, g0, 0);
            op(ir, is32, o, t0, t0, g1);
            tes_jit_op(ir, TES_JIT_MOV, g2, t0, 0);
            break;
        }
        tb[f] = end(j, ir);
    }
    for (unsigned x = 0; x < NVALS; x++) {
        for (unsigned y = 0; y < NVALS; y++) {
            uint64_t a = vals[x], b = vals[y];
            uint64_t want = ref(o, is32, a, b);

            if (unary(o) && y) {
                break;
            }
            for (int f = 0; f < 5; f++) {
                E.r[0] = a;
                E.r[1] = b;
                E.r[2] = 0x5555;
                g_assert_cmpuint(run(j, tb[f]), ==, TES_JIT_RET_OTHER);
                if (E.r[2] != want) {
                    g_error("op %u%s form %d a=%#" PRIx64 " b=%#" PRIx64 ": got %#" PRIx64
                            " want %#" PRIx64, o, is32 ? "/32" : "", f, a, b, E.r[2], want);
                }
                if (f == 1) {
                    g_assert_cmpuint(E.r[0], ==, a ^ b);
                }
            }
        }
    }
}

/* r2 = a op $b, r3 = $a op b: constants as immediates and in registers. */
static void check_op_consts(tes_jit *j, unsigned o, bool is32)
{
    for (unsigned x = 0; x < NVALS; x++) {
        tes_jit_ir *ir = begin(j);
        tes_jit_val g0 = tes_jit_global(ir, G(0), "r0");
        tes_jit_val g2 = tes_jit_global(ir, G(2), "r2");
        tes_jit_val g3 = tes_jit_global(ir, G(3), "r3");
        tes_jit_val c = tes_jit_const(ir, vals[x]);
        tes_jit_tb *tb;

        op(ir, is32, o, g2, g0, unary(o) ? 0 : c);
        op(ir, is32, o, g3, c, unary(o) ? 0 : g0);
        tb = end(j, ir);
        for (unsigned y = 0; y < NVALS; y++) {
            E.r[0] = vals[y];
            run(j, tb);
            if (E.r[2] != ref(o, is32, vals[y], vals[x]) ||
                E.r[3] != ref(o, is32, vals[x], vals[y])) {
                g_error("op %u%s const %#" PRIx64 " other %#" PRIx64 ": got %#" PRIx64
                        "/%#" PRIx64, o, is32 ? "/32" : "", vals[x], vals[y], E.r[2], E.r[3]);
            }
        }
    }
}

static void test_alu_every_op(void)
{
    tes_jit *j = jit_make(0);

    for (unsigned o = 0; o < TES_JIT_OPC_COUNT; o++) {
        for (int is32 = 0; is32 < 2; is32++) {
            check_op_regs(j, o, is32);
            check_op_consts(j, o, is32);
        }
    }
    tes_jit_free(j);
}

/* ---- conditions ---- */

static void test_conditions_every_cond(void)
{
    tes_jit *j = jit_make(0);

    for (unsigned c = TES_JIT_EQ; c <= TES_JIT_TSTNE; c++) {
        for (int is32 = 0; is32 < 2; is32++) {
            tes_jit_ir *ir = begin(j);
            tes_jit_val g[8];
            tes_jit_label l = tes_jit_label_new(ir);
            tes_jit_tb *tb;

            for (int i = 0; i < 8; i++) {
                g[i] = tes_jit_global(ir, G(i), NULL);
            }
            /* against 0 and against itself: known or not, right */
            tes_jit_setcond(ir, c, g[6], g[0], tes_jit_const(ir, 0), is32);
            tes_jit_setcond(ir, c, g[7], g[0], g[0], is32);
            tes_jit_setcond(ir, c, g[2], g[0], g[1], is32);
            tes_jit_movcond(ir, c, g[3], g[0], g[1], g[4], g[5], is32);
            tes_jit_op(ir, TES_JIT_MOV, g[4], tes_jit_const(ir, 0), 0);
            tes_jit_brcond(ir, c, g[0], g[1], l, is32);
            tes_jit_op(ir, TES_JIT_MOV, g[4], tes_jit_const(ir, 7), 0);
            tes_jit_label_set(ir, l);
            tb = end(j, ir);
            for (unsigned x = 0; x < NVALS; x++) {
                for (unsigned y = 0; y < NVALS; y++) {
                    bool want = ref_cond(c, is32, vals[x], vals[y]);

                    E.r[0] = vals[x];
                    E.r[1] = vals[y];
                    E.r[4] = 0x1111;
                    E.r[5] = 0x2222;
                    run(j, tb);
                    if (E.r[6] != ref_cond(c, is32, vals[x], 0) ||
                        E.r[7] != ref_cond(c, is32, vals[x], vals[x])) {
                        g_error("cond %u%s %#" PRIx64 " against 0 / itself", c,
                                is32 ? "/32" : "", vals[x]);
                    }
                    if (E.r[2] != want || E.r[3] != (want ? 0x1111u : 0x2222u) ||
                        E.r[4] != (want ? 0u : 7u)) {
                        g_error("cond %u%s %#" PRIx64 " %#" PRIx64 ": set %" PRIu64
                                " mov %#" PRIx64 " br %" PRIu64, c, is32 ? "/32" : "",
                                vals[x], vals[y], E.r[2], E.r[3], E.r[4]);
                    }
                }
            }
        }
    }
    tes_jit_free(j);
}

/* A loop inside one block: globals live across labels, temps do not. */
static void test_labels_loop_sums(void)
{
    tes_jit *j = jit_make(0);
    tes_jit_ir *ir = begin(j);
    tes_jit_val n = tes_jit_global(ir, G(0), "n");
    tes_jit_val s = tes_jit_global(ir, G(1), "s");
    tes_jit_label top = tes_jit_label_new(ir), out = tes_jit_label_new(ir);
    tes_jit_val t;
    tes_jit_tb *tb;

    tes_jit_op(ir, TES_JIT_MOV, s, tes_jit_const(ir, 0), 0);
    tes_jit_label_set(ir, top);
    tes_jit_brcond(ir, TES_JIT_EQ, n, tes_jit_const(ir, 0), out, false);
    t = tes_jit_temp(ir);
    tes_jit_op(ir, TES_JIT_MUL, t, n, n);
    tes_jit_op(ir, TES_JIT_ADD, s, s, t);
    tes_jit_op(ir, TES_JIT_SUB, n, n, tes_jit_const(ir, 1));
    tes_jit_br(ir, top);
    tes_jit_label_set(ir, out);
    tb = end(j, ir);
    E.r[0] = 10;
    run(j, tb);
    g_assert_cmpuint(E.r[1], ==, 385);
    g_assert_cmpuint(E.r[0], ==, 0);
    tes_jit_free(j);
}

/* More globals than host registers: dirty ones are evicted and reloaded. */
static void test_many_globals(void)
{
    tes_jit *j = jit_make(0);
    tes_jit_ir *ir = begin(j);
    uint64_t want[128];
    tes_jit_tb *tb;

    for (int i = 0; i < 128; i++) {
        tes_jit_val g = tes_jit_global(ir, offsetof(fenv, many[i]), NULL);
        tes_jit_val h = tes_jit_global(ir, offsetof(fenv, many[(i * 7 + 1) % 128]), NULL);
        tes_jit_val t = tes_jit_temp(ir);

        tes_jit_op(ir, TES_JIT_MUL, t, h, tes_jit_const(ir, 3));
        tes_jit_op(ir, TES_JIT_ADD, g, g, t);
        E.many[i] = want[i] = i * 0x10001;
    }
    tb = end(j, ir);
    for (int i = 0; i < 128; i++) {
        want[i] += want[(i * 7 + 1) % 128] * 3;
    }
    run(j, tb);
    for (int i = 0; i < 128; i++) {
        g_assert_cmpuint(E.many[i], ==, want[i]);
    }
    tes_jit_free(j);
}

static uint64_t h_clobber(void *env)
{
    ((fenv *)env)->r[9] += 1;
    return 0;
}

/* 40 temps live at once, across a helper call and a TLB miss: most sit
 * in spill slots and come back intact. */
static void test_temps_spill_across_calls_and_misses(void)
{
    tes_jit *j = jit_make(0);
    tes_jit_ir *ir = begin(j);
    tes_jit_val t[40], sum = tes_jit_global(ir, G(8), "sum"), env = tes_jit_env(ir);
    tes_jit_val ld = tes_jit_temp(ir);
    uint64_t want = 0;
    tes_jit_tb *tb;

    for (int i = 0; i < 40; i++) {
        t[i] = tes_jit_temp(ir);
        tes_jit_op(ir, TES_JIT_MUL, t[i], tes_jit_global(ir, G(i % 8), NULL),
                   tes_jit_const(ir, 2 * i + 1));
    }
    tes_jit_call(ir, (const void *)h_clobber, 0, TES_JIT_NONE, 1, &env);
    tes_jit_qld(ir, ld, tes_jit_const(ir, GUEST_BASE + 4096 - 2), TES_JIT_MO_32, TLB_OFF, 0,
                0x10);
    tes_jit_op(ir, TES_JIT_MOV, sum, ld, 0);
    for (int i = 0; i < 40; i++) {
        tes_jit_op(ir, TES_JIT_ROTL, sum, sum, tes_jit_const(ir, 7));
        tes_jit_op(ir, TES_JIT_XOR, sum, sum, t[i]);
    }
    tb = end(j, ir);
    for (int i = 0; i < 8; i++) {
        E.r[i] = 0x0123456789abcdefull * (i + 3);
    }
    memset(ram, 0x5a, sizeof(ram));
    want = 0x5a5a5a5a;
    for (int i = 0; i < 40; i++) {
        want = rol64(want, 7) ^ (E.r[i % 8] * (2 * i + 1));
    }
    run(j, tb);
    g_assert_cmpuint(slow_ld, ==, 1); /* page-crossing */
    g_assert_cmpuint(E.r[9], ==, 1);
    g_assert_cmpuint(E.r[8], ==, want);
    tes_jit_free(j);
}

/* ---- helper calls ---- */

static uint64_t h6(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, uint64_t f)
{
    return a * 1 + b * 10 + c * 100 + d * 1000 + e * 10000 + f * 100000;
}

static uint64_t h_env(void *env, uint64_t x)
{
    fenv *e = env;

    /* sees the written-back value, changes a global behind the block */
    e->r[5] = e->r[4] + x;
    return 42;
}

static uint64_t h_exit(void *env)
{
    ((fenv *)env)->exit_req = 1;
    return 0;
}

static void test_calls_pure_env_exit(void)
{
    tes_jit *j = jit_make(0);
    tes_jit_ir *ir = begin(j);
    tes_jit_val g[8], t[6], args[6], r = tes_jit_temp(ir);
    tes_jit_tb *tb;

    for (int i = 0; i < 8; i++) {
        g[i] = tes_jit_global(ir, G(i), NULL);
    }
    for (int i = 0; i < 6; i++) {
        t[i] = tes_jit_temp(ir);
        tes_jit_op(ir, TES_JIT_ADD, t[i], g[0], tes_jit_const(ir, i + 1));
        args[i] = t[i];
    }
    tes_jit_call(ir, (const void *)h6, TES_JIT_CALL_PURE, r, 6, args);
    /* the temps survive the call */
    for (int i = 0; i < 6; i++) {
        tes_jit_op(ir, TES_JIT_ADD, r, r, t[i]);
    }
    tes_jit_op(ir, TES_JIT_MOV, g[1], r, 0);
    tes_jit_op(ir, TES_JIT_MOV, g[4], tes_jit_const(ir, 1000), 0);
    args[0] = tes_jit_env(ir);
    args[1] = tes_jit_const(ir, 5);
    tes_jit_call(ir, (const void *)h_env, 0, g[2], 2, args);
    tes_jit_op(ir, TES_JIT_ADD, g[6], g[5], tes_jit_const(ir, 1)); /* reloads r5 */
    tes_jit_op(ir, TES_JIT_MOV, g[7], tes_jit_const(ir, 77), 0);
    tes_jit_call(ir, (const void *)h_exit, TES_JIT_CALL_EXIT, TES_JIT_NONE, 1, args);
    tes_jit_op(ir, TES_JIT_MOV, g[7], tes_jit_const(ir, 88), 0); /* not reached */
    tb = end(j, ir);
    E.r[0] = 0;
    g_assert_cmpuint(run(j, tb), ==, TES_JIT_RET_OTHER);
    g_assert_cmpuint(E.r[1], ==, h6(1, 2, 3, 4, 5, 6) + 21);
    g_assert_cmpuint(E.r[2], ==, 42);
    g_assert_cmpuint(E.r[5], ==, 1005);
    g_assert_cmpuint(E.r[6], ==, 1006);
    g_assert_cmpuint(E.r[7], ==, 77);
    g_assert_cmpint(E.exit_req, ==, 1);
    tes_jit_free(j);
}

/* ---- guest memory ---- */

static tes_jit_tb *mem_block(tes_jit *j, uint32_t memop, bool st)
{
    tes_jit_ir *ir = begin(j);
    tes_jit_val a = tes_jit_global(ir, G(0), "addr");
    tes_jit_val v = tes_jit_global(ir, G(1), "val");
    tes_jit_val d = tes_jit_global(ir, G(2), "dst");
    tes_jit_val k = tes_jit_global(ir, G(3), "keep");

    /* k is dirty when the access happens: a miss must write it back */
    tes_jit_op(ir, TES_JIT_ADD, k, k, tes_jit_const(ir, 1));
    if (st) {
        tes_jit_qst(ir, v, a, memop, TLB_OFF, 0, 0x1234);
    } else {
        tes_jit_qld(ir, d, a, memop, TLB_OFF, 3, 0x1234);
    }
    tes_jit_op(ir, TES_JIT_ADD, k, k, tes_jit_const(ir, 1));
    return end(j, ir);
}

static void test_qld_qst_hits_and_misses(void)
{
    tes_jit *j = jit_make(0);

    for (uint32_t size = 0; size < 4; size++) {
        for (uint32_t flags = 0; flags < 3; flags++) {
            uint32_t memop = size | (flags == 1 ? TES_JIT_MO_SIGN : 0) |
                             (flags == 2 ? TES_JIT_MO_ALIGN : 0);
            unsigned n = 1u << size;
            tes_jit_tb *ld = mem_block(j, memop, false);
            tes_jit_tb *st = mem_block(j, memop, true);
            uint64_t addrs[] = { GUEST_BASE + 8, GUEST_BASE + 4096 + 1, GUEST_BASE + 4096 - n / 2,
                                 GUEST_BASE + 4 * 4096 + 16 };

            for (unsigned i = 0; i < G_N_ELEMENTS(addrs); i++) {
                uint64_t a = addrs[i];
                bool unaligned = a & (n - 1), cross = ((a + n - 1) ^ a) >> 12;
                bool unmapped = a >= GUEST_BASE + GUEST_PAGES * 4096;
                bool slow = cross || unmapped || (unaligned && (memop & TES_JIT_MO_ALIGN));
                uint64_t v = 0x8877665544332211ull, want;

                if (unmapped) {
                    continue; /* the fake slow path wraps: covered below */
                }
                E.r[0] = a;
                E.r[1] = v;
                E.r[3] = 0;
                slow_st = slow_ld = 0;
                run(j, st);
                g_assert_cmpuint(slow_st, ==, slow);
                g_assert_cmpuint(ram_read(a, n), ==, n == 8 ? v : v & ((1ull << 8 * n) - 1));
                g_assert_cmpuint(E.r[3], ==, 2);
                run(j, ld);
                g_assert_cmpuint(slow_ld, ==, slow);
                want = ram_read(a, n);
                if ((memop & TES_JIT_MO_SIGN) && n < 8) {
                    want = (uint64_t)((int64_t)(want << (64 - 8 * n)) >> (64 - 8 * n));
                }
                g_assert_cmpuint(E.r[2], ==, want + (slow ? 3 : 0));
                g_assert_cmpuint(E.r[3], ==, 4);
            }
        }
    }
    tes_jit_free(j);
}

/* A miss on a host == NULL entry (MMIO) and a faulting slow path. */
static void test_qld_slow_exit_writes_back(void)
{
    tes_jit *j = jit_make(0);
    tes_jit_tb *ld = mem_block(j, TES_JIT_MO_32, false);
    tlb_entry *t = &E.tlb[(FAULT_BASE >> 12) & ((1u << TLB_BITS) - 1)];

    t->tag = FAULT_BASE | 1;
    t->host = NULL;
    E.r[0] = FAULT_BASE + 4;
    E.r[2] = 99;
    E.r[3] = 10;
    E.pc = 0;
    E.budget = 10;
    g_assert_cmpuint(tes_jit_exec(j, &E, ld), ==, TES_JIT_RET_OTHER);
    g_assert_cmpuint(slow_ld, ==, 1);
    g_assert_cmpuint(last_slow_pc, ==, 0x1234);
    g_assert_cmpuint(E.pc, ==, 0x1234);
    g_assert_cmpuint(E.r[3], ==, 11); /* written back, the add after not run */
    g_assert_cmpuint(E.r[2], ==, 99); /* the load did not complete */
    tes_jit_free(j);
}

/* Entry sizes that are not powers of 2 (multiplied by lea or imul). */
static void test_qld_tlb_entry_sizes(void)
{
    for (unsigned k = 2; k <= 9; k++) {
        tes_jit_config c = {
            .size = sizeof(c), .budget_off = offsetof(fenv, budget),
            .exit_off = offsetof(fenv, exit_req), .pc_off = offsetof(fenv, pc),
            .tlb = { .entry_size = 8 * k, .tag_off = 8, .host_off = 0, .page_bits = 12,
                     .index_bits = 4 },
            .ld_slow = ld_slow, .st_slow = st_slow,
        };
        char *err = NULL;
        tes_jit *j = tes_jit_new(&c, &err);
        tes_jit_ir *ir = begin(j);
        uint64_t va = GUEST_BASE + 4096, *entry;
        tes_jit_tb *tb;

        tes_jit_qld(ir, tes_jit_global(ir, G(1), NULL), tes_jit_global(ir, G(0), NULL),
                    TES_JIT_MO_16, offsetof(fenv, tlbraw), 5, 0x10);
        tb = end(j, ir);
        memset(&E, 0, sizeof(E));
        entry = &E.tlbraw[((va >> 12) & 15) * k];
        entry[1] = va | 1;
        entry[0] = (uintptr_t)(ram + 4096);
        ram[4096 + 6] = 0x34;
        ram[4096 + 7] = 0x12;
        slow_ld = 0;
        E.r[0] = va + 6;
        run(j, tb);
        g_assert_cmpuint(E.r[1], ==, 0x1234);
        g_assert_cmpuint(slow_ld, ==, 0);
        E.r[0] = va + 4096 + 6; /* the next page: its entry is empty */
        run(j, tb);
        g_assert_cmpuint(slow_ld, ==, 1);
        tes_jit_free(j);
    }
}

/* ---- exits, chaining, invalidation ---- */

static tes_jit_tb *counting_block(tes_jit *j, uint64_t pc, unsigned reg, const void *host,
                                  size_t len)
{
    tes_jit_key k = { .pc = pc, .host = host };
    tes_jit_ir *ir = tes_jit_begin(j, &k);
    tes_jit_val g = tes_jit_global(ir, G(reg), NULL);

    tes_jit_op(ir, TES_JIT_ADD, g, g, tes_jit_const(ir, 1));
    tes_jit_exit(ir, 0);
    return tes_jit_end(j, ir, 1, host, len);
}

static void test_chain_loop_until_budget(void)
{
    static uint8_t code[2][4096] __attribute__((aligned(4096)));
    tes_jit *j = jit_make(0);
    tes_jit_jc *jc = tes_jit_jc_new(j);
    tes_jit_tb *a = counting_block(j, 0x8000, 0, code[0], 16);
    tes_jit_tb *b = counting_block(j, 0x9000, 1, code[1], 16);
    tes_jit_key ka = { .pc = 0x8000, .host = code[0] };
    tes_jit_stats st;
    uintptr_t r;

    g_assert_true(tes_jit_find(j, jc, &ka) == a);
    g_assert_true(tes_jit_page_has_code(j, code[0]));
    r = run(j, a);
    g_assert_true(tes_jit_ret_tb(r) == a);
    g_assert_cmpuint(tes_jit_ret_slot(r), ==, 0);
    tes_jit_chain(j, a, 0, b);
    tes_jit_chain(j, b, 0, a);
    E.r[0] = E.r[1] = 0;
    E.budget = 100;
    g_assert_cmpuint(tes_jit_exec(j, &E, a), ==, TES_JIT_RET_OTHER);
    g_assert_cmpuint(E.r[0] + E.r[1], ==, 100);
    g_assert_cmpint(E.budget, ==, 0);
    tes_jit_get_stats(j, &st);
    g_assert_cmpuint(st.chained, ==, 2);

    /* Overwriting a's bytes unlinks b -> a and a is never found again. */
    tes_jit_invalidate(j, code[0] + 8, 1);
    g_assert_null(tes_jit_find(j, jc, &ka));
    g_assert_false(tes_jit_page_has_code(j, code[0]));
    g_assert_true(tes_jit_page_has_code(j, code[1]));
    E.r[0] = E.r[1] = 0;
    r = run(j, b);
    g_assert_true(tes_jit_ret_tb(r) == b);
    g_assert_cmpuint(E.r[1], ==, 1);
    g_assert_cmpuint(E.r[0], ==, 0);
    /* writes elsewhere on the page leave b alone */
    tes_jit_invalidate(j, code[1] + 100, 8);
    g_assert_nonnull(tes_jit_find(j, jc, &(tes_jit_key){ .pc = 0x9000, .host = code[1] }));
    tes_jit_get_stats(j, &st);
    g_assert_cmpuint(st.invalidated, ==, 1);
    g_assert_cmpuint(st.tbs, ==, 1);
    /* a write larger than all code pages (DMA) drops what it covers */
    g_assert_nonnull(counting_block(j, 0x8000, 0, code[0], 16));
    tes_jit_invalidate(j, (const void *)((uintptr_t)code[0] - (64 << 20)), 128 << 20);
    g_assert_null(tes_jit_find(j, jc, &ka));
    g_assert_null(tes_jit_find(j, jc, &(tes_jit_key){ .pc = 0x9000, .host = code[1] }));
    g_assert_false(tes_jit_page_has_code(j, code[1]));
    tes_jit_get_stats(j, &st);
    g_assert_cmpuint(st.invalidated, ==, 3);
    g_assert_cmpuint(st.tbs, ==, 0);
    tes_jit_jc_free(jc);
    tes_jit_free(j);
}

/* brcond picks exit 1 or exit 0; a second exit 0 is never chained. */
static void test_exit_slots(void)
{
    tes_jit *j = jit_make(0);
    tes_jit_tb *a = counting_block(j, 0x8000, 2, NULL, 0);
    tes_jit_ir *ir = begin(j);
    tes_jit_val sel = tes_jit_global(ir, G(0), "sel");
    tes_jit_label l1 = tes_jit_label_new(ir), l2 = tes_jit_label_new(ir);
    tes_jit_tb *b;
    uintptr_t r;

    tes_jit_brcond(ir, TES_JIT_EQ, sel, tes_jit_const(ir, 1), l1, false);
    tes_jit_brcond(ir, TES_JIT_EQ, sel, tes_jit_const(ir, 2), l2, false);
    tes_jit_exit(ir, 0);
    tes_jit_label_set(ir, l1);
    tes_jit_exit(ir, 1);
    tes_jit_label_set(ir, l2);
    tes_jit_exit(ir, 0);
    b = tes_jit_end(j, ir, 1, NULL, 0);
    for (unsigned s = 0; s < 3; s++) {
        E.r[0] = s;
        r = run(j, b);
        g_assert_true(tes_jit_ret_tb(r) == b);
        g_assert_cmpuint(tes_jit_ret_slot(r), ==, s == 1);
    }
    tes_jit_chain(j, b, 1, a);
    E.r[0] = 1;
    E.r[2] = 0;
    r = run(j, b);
    g_assert_true(tes_jit_ret_tb(r) == a);
    g_assert_cmpuint(E.r[2], ==, 1);
    tes_jit_chain(j, b, 0, a);
    E.r[0] = 2;
    r = run(j, b);
    g_assert_true(tes_jit_ret_tb(r) == b);
    g_assert_cmpuint(tes_jit_ret_slot(r), ==, 0);
    E.r[0] = 0;
    r = run(j, b);
    g_assert_true(tes_jit_ret_tb(r) == a);
    g_assert_cmpuint(E.r[2], ==, 2);
    tes_jit_free(j);
}

/* ---- threads ---- */

/* Two vCPU threads run a chained loop of blocks a <-> b while the main
 * thread keeps invalidating and retranslating a: every block that runs
 * counts, and the counts add up to the budget spent. */
typedef struct vcpu {
    tes_jit *j;
    fenv env;
    uint64_t spent;
    volatile bool *stop;
} vcpu;

static uint8_t mt_code[2][4096] __attribute__((aligned(4096)));

static tes_jit_tb *mt_block(tes_jit *j, unsigned which)
{
    tes_jit_key k = { .pc = 0x8000 + 0x1000 * which, .host = mt_code[which] };
    tes_jit_ir *ir = tes_jit_begin(j, &k);
    tes_jit_val g = tes_jit_global(ir, G(which), NULL);

    tes_jit_op(ir, TES_JIT_ADD, g, g, tes_jit_const(ir, 1));
    tes_jit_op(ir, TES_JIT_MOV, tes_jit_global(ir, offsetof(fenv, pc), "pc"),
               tes_jit_const(ir, 0x8000 + 0x1000 * !which), 0);
    tes_jit_exit(ir, 0);
    return tes_jit_end(j, ir, 1, mt_code[which], 16);
}

static gpointer vcpu_thread(gpointer opaque)
{
    vcpu *v = opaque;
    tes_jit_jc *jc = tes_jit_jc_new(v->j);

    v->env.pc = 0x8000;
    while (!*v->stop) {
        tes_jit_key k = { .pc = v->env.pc, .host = mt_code[v->env.pc == 0x9000] };
        tes_jit_tb *tb = tes_jit_find(v->j, jc, &k), *next;
        uintptr_t r;

        if (!tb) {
            continue; /* being retranslated */
        }
        v->env.budget = 1000;
        r = tes_jit_exec(v->j, &v->env, tb);
        v->spent += 1000 - v->env.budget;
        if (r != TES_JIT_RET_OTHER) {
            k.pc = v->env.pc;
            k.host = mt_code[k.pc == 0x9000];
            next = tes_jit_find(v->j, jc, &k);
            if (next) {
                tes_jit_chain(v->j, tes_jit_ret_tb(r), tes_jit_ret_slot(r), next);
            }
        }
    }
    tes_jit_jc_free(jc);
    return NULL;
}

static void test_threads_run_while_blocks_change(void)
{
    tes_jit *j = jit_make(0);
    volatile bool stop = false;
    vcpu v[2] = { { .j = j, .stop = &stop }, { .j = j, .stop = &stop } };
    GThread *t[2];
    tes_jit_stats st;

    mt_block(j, 0);
    mt_block(j, 1);
    for (int i = 0; i < 2; i++) {
        t[i] = g_thread_new("vcpu", vcpu_thread, &v[i]);
    }
    for (int n = 0; n < 2000; n++) {
        tes_jit_invalidate(j, mt_code[0] + 4, 4);
        g_assert_nonnull(mt_block(j, 0));
        if (n % 100 == 0) {
            g_usleep(1000);
        }
    }
    stop = true;
    for (int i = 0; i < 2; i++) {
        g_thread_join(t[i]);
        g_assert_cmpuint(v[i].env.r[0] + v[i].env.r[1], ==, v[i].spent);
        g_assert_cmpuint(v[i].spent, >, 0);
    }
    tes_jit_get_stats(j, &st);
    g_assert_cmpuint(st.invalidated, ==, 2000);
    g_assert_cmpuint(st.tbs, ==, 2);
    tes_jit_free(j);
}

/* The block hash and the jump cache under many insertions and removals:
 * every block left is found, no dropped one is. */
static void test_cache_insert_remove_find(void)
{
    static uint8_t code[64 * 4096] __attribute__((aligned(4096)));
    enum { N = 3000 };
    tes_jit *j = jit_make(0);
    tes_jit_jc *jc = tes_jit_jc_new(j);
    GRand *r = g_rand_new_with_seed(7);
    static bool dropped[N];
    static uint64_t pcs[N];

    for (unsigned i = 0; i < N; i++) {
        /* clustered pcs, so that hash runs form */
        pcs[i] = 0x400000 + 4 * g_rand_int_range(r, 0, 1 << 20) + i * 0x10000000ull;
        g_assert_nonnull(counting_block(j, pcs[i], 0, code + i * 64, 64));
    }
    for (unsigned round = 0; round < 3; round++) {
        for (unsigned i = 0; i < N; i++) {
            if (!dropped[i] && g_rand_int_range(r, 0, 3) == 0) {
                tes_jit_invalidate(j, code + i * 64 + 10, 1);
                dropped[i] = true;
            }
        }
        if (round == 1) {
            tes_jit_jc_clear(jc);
        }
        for (unsigned i = 0; i < N; i++) {
            tes_jit_key k = { .pc = pcs[i], .host = code + i * 64 };
            tes_jit_tb *tb = tes_jit_find(j, jc, &k);

            if (dropped[i]) {
                g_assert_null(tb);
            } else {
                g_assert_nonnull(tb);
                g_assert_cmpuint(tes_jit_tb_pc(tb), ==, pcs[i]);
            }
        }
    }
    for (unsigned n = 0; n < 200; n++) {
        tes_jit_jc_clear(jc); /* generations wrap around */
    }
    g_assert_null(tes_jit_find(j, jc, &(tes_jit_key){ .pc = 1 }));
    g_rand_free(r);
    tes_jit_jc_free(jc);
    tes_jit_free(j);
}

/* vCPU threads translating at the same time take turns in tes_jit_begin. */
typedef struct translator {
    tes_jit *j;
    unsigned id;
    bool ok;
} translator;

static gpointer translate_thread(gpointer opaque)
{
    translator *t = opaque;
    fenv *env = g_new0(fenv, 1);

    t->ok = true;
    for (unsigned n = 0; n < 300; n++) {
        tes_jit_tb *tb = counting_block(t->j, 0x100000 * (t->id + 1) + 4 * n, n % 8, NULL, 0);

        env->budget = 10;
        if (!tb || tes_jit_ret_tb(tes_jit_exec(t->j, env, tb)) != tb) {
            t->ok = false;
        }
    }
    t->ok = t->ok && env->r[0] + env->r[1] + env->r[7] == 38 + 38 + 37;
    g_free(env);
    return NULL;
}

static void test_threads_translate_at_once(void)
{
    tes_jit *j = jit_make(0);
    translator t[4];
    GThread *th[4];
    tes_jit_stats st;

    for (unsigned i = 0; i < 4; i++) {
        t[i] = (translator){ .j = j, .id = i };
        th[i] = g_thread_new("translator", translate_thread, &t[i]);
    }
    for (unsigned i = 0; i < 4; i++) {
        g_thread_join(th[i]);
        g_assert_true(t[i].ok);
    }
    tes_jit_get_stats(j, &st);
    g_assert_cmpuint(st.tbs, ==, 1200);
    for (unsigned i = 0; i < 4; i++) {
        for (unsigned n = 0; n < 300; n++) {
            tes_jit_key k = { .pc = 0x100000 * (i + 1) + 4 * n };

            g_assert_nonnull(tes_jit_find(j, NULL, &k));
        }
    }
    tes_jit_free(j);
}

static void test_entry_checks_budget_and_exit_req(void)
{
    tes_jit *j = jit_make(0);
    tes_jit_tb *a = counting_block(j, 0x8000, 0, NULL, 0);

    E.budget = 0;
    g_assert_cmpuint(tes_jit_exec(j, &E, a), ==, TES_JIT_RET_OTHER);
    E.budget = 5;
    E.exit_req = 1;
    g_assert_cmpuint(tes_jit_exec(j, &E, a), ==, TES_JIT_RET_OTHER);
    g_assert_cmpuint(E.r[0], ==, 0);
    E.exit_req = 0;
    g_assert_true(tes_jit_ret_tb(tes_jit_exec(j, &E, a)) == a);
    g_assert_cmpuint(E.r[0], ==, 1);
    g_assert_cmpint(E.budget, ==, 4);
    tes_jit_free(j);
}

static void test_goto_ptr(void)
{
    tes_jit *j = jit_make(0);
    tes_jit_tb *a = counting_block(j, 0x8000, 0, NULL, 0);
    tes_jit_ir *ir = begin(j);
    tes_jit_val p = tes_jit_global(ir, G(5), "ptr");
    tes_jit_tb *g;

    tes_jit_op(ir, TES_JIT_ADD, tes_jit_global(ir, G(1), NULL), tes_jit_global(ir, G(1), NULL),
               tes_jit_const(ir, 1));
    tes_jit_goto_ptr(ir, p);
    g = end(j, ir);
    E.r[5] = 0;
    g_assert_cmpuint(run(j, g), ==, TES_JIT_RET_OTHER);
    E.r[5] = (uintptr_t)tes_jit_find_code(j, NULL, &(tes_jit_key){ .pc = 0x8000 });
    g_assert_true(tes_jit_ret_tb(run(j, g)) == a);
    g_assert_cmpuint(E.r[1], ==, 2);
    g_assert_cmpuint(E.r[0], ==, 1);
    tes_jit_free(j);
}

/* tes_jit_goto_lookup: the jump cache at env + jc_off is probed in the
 * generated code; the miss helper runs only when it misses. */
static tes_jit *lk_j;
static tes_jit_jc *lk_jc;
static unsigned lk_misses;
static uint8_t lk_code[4096] __attribute__((aligned(4096)));

static uint64_t lk_miss(void *env)
{
    fenv *e = env;
    tes_jit_key k = { .pc = e->r[5], .host = lk_code };

    lk_misses++;
    return (uintptr_t)tes_jit_find_code(lk_j, lk_jc, &k);
}

static tes_jit_tb *lookup_block(tes_jit *j, bool const_pc)
{
    tes_jit_ir *ir = begin(j);
    tes_jit_val one = tes_jit_global(ir, G(1), NULL);

    tes_jit_op(ir, TES_JIT_ADD, one, one, tes_jit_const(ir, 1));
    tes_jit_goto_lookup(ir, const_pc ? tes_jit_const(ir, 0x8000) : tes_jit_global(ir, G(5), NULL),
                        (const void *)lk_miss);
    return end(j, ir);
}

static void test_goto_lookup(void)
{
    tes_jit_config c;
    char *err = NULL;

    lk_j = jit_make(0);
    tes_jit_free(lk_j);
    c = (tes_jit_config){
        .size = sizeof(c), .budget_off = offsetof(fenv, budget),
        .exit_off = offsetof(fenv, exit_req), .pc_off = offsetof(fenv, pc),
        .tlb = { .entry_size = sizeof(tlb_entry), .tag_off = 0,
                 .host_off = offsetof(tlb_entry, host), .page_bits = 12, .index_bits = TLB_BITS },
        .ld_slow = ld_slow, .st_slow = st_slow, .jc_off = offsetof(fenv, scratch[0]),
    };
    lk_j = tes_jit_new(&c, &err);
    g_assert_nonnull(lk_j);
    lk_jc = tes_jit_jc_new(lk_j);
    E.scratch[0] = (uintptr_t)lk_jc;
    for (int cp = 0; cp < 2; cp++) {
        tes_jit_tb *a = counting_block(lk_j, 0x8000, 0, lk_code, 16);
        tes_jit_tb *g = lookup_block(lk_j, cp);

        tes_jit_jc_clear(lk_jc);
        lk_misses = 0;
        E.r[0] = E.r[1] = 0;
        E.r[5] = 0x8000;
        g_assert_true(tes_jit_ret_tb(run(lk_j, g)) == a); /* miss: helper, then filled */
        g_assert_true(tes_jit_ret_tb(run(lk_j, g)) == a); /* hit: no helper */
        g_assert_cmpuint(lk_misses, ==, 1);
        g_assert_cmpuint(E.r[0], ==, 2);
        g_assert_cmpuint(E.r[1], ==, 2);
        tes_jit_jc_clear_page(lk_jc, 0x8000); /* a TLB flush: the helper again */
        g_assert_true(tes_jit_ret_tb(run(lk_j, g)) == a);
        g_assert_cmpuint(lk_misses, ==, 2);
        tes_jit_invalidate(lk_j, lk_code, 16); /* a dropped block leaves the cache */
        g_assert_cmpuint(run(lk_j, g), ==, TES_JIT_RET_OTHER);
        g_assert_cmpuint(lk_misses, ==, 3);
        g_assert_cmpuint(E.r[0], ==, 3);
        if (!cp) {
            E.r[5] = 0x7777; /* nothing there */
            g_assert_cmpuint(run(lk_j, g), ==, TES_JIT_RET_OTHER);
            g_assert_cmpuint(lk_misses, ==, 4);
        }
    }
    tes_jit_jc_free(lk_jc);
    tes_jit_free(lk_j);
}

static void test_flush_when_full(void)
{
    tes_jit *j = jit_make(256 * 1024);
    tes_jit_stats st;
    tes_jit_tb *first = counting_block(j, 0x100000, 0, NULL, 0);
    unsigned n = 0;

    do {
        tes_jit_tb *tb = counting_block(j, 0x200000 + 4 * n, n % NG, NULL, 0);

        n++;

        g_assert_nonnull(tb);
        tes_jit_get_stats(j, &st);
    } while (st.flushes == 0 && n < 100000);
    g_assert_cmpuint(st.flushes, ==, 1);
    g_assert_cmpuint(st.tbs, ==, 1);
    g_assert_null(tes_jit_find(j, NULL, &(tes_jit_key){ .pc = 0x100000 }));
    /* chaining from a block of before the flush is ignored, not a crash */
    tes_jit_chain(j, first, 0, first);
    E.r[0] = 0;
    first = counting_block(j, 0x100000, 0, NULL, 0);
    g_assert_true(tes_jit_ret_tb(run(j, first)) == first);
    g_assert_cmpuint(E.r[0], ==, 1);
    tes_jit_free(j);
}

static void test_code_is_never_writable_and_executable(void)
{
    tes_jit *j = jit_make(0);
    tes_jit_tb *a = counting_block(j, 0x8000, 0, NULL, 0);
    const void *code = tes_jit_find_code(j, NULL, &(tes_jit_key){ .pc = 0x8000 });
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    bool found = false;

    g_assert_nonnull(a);
    g_assert_nonnull(f);
    while (fgets(line, sizeof(line), f)) {
        unsigned long lo, hi;
        char perms[8];

        g_assert_cmpint(sscanf(line, "%lx-%lx %7s", &lo, &hi, perms), ==, 3);
        g_assert_false(perms[1] == 'w' && perms[2] == 'x');
        if ((uintptr_t)code >= lo && (uintptr_t)code < hi) {
            g_assert_cmpstr(perms, ==, "r-xs");
            found = true;
        }
    }
    fclose(f);
    g_assert_true(found);
    tes_jit_free(j);
}

/* ---- host ld/st and logging ---- */

static void test_ld_st_env_sees_globals(void)
{
    tes_jit *j = jit_make(0);
    tes_jit_ir *ir = begin(j);
    tes_jit_val g0 = tes_jit_global(ir, G(0), "r0");
    tes_jit_val t = tes_jit_temp(ir);
    tes_jit_tb *tb;

    tes_jit_op(ir, TES_JIT_ADD, g0, g0, tes_jit_const(ir, 0x100));
    /* a byte load of the cached global sees its new value */
    tes_jit_ld(ir, t, tes_jit_env(ir), G(0) + 1, TES_JIT_MO_8);
    tes_jit_st(ir, t, tes_jit_env(ir), offsetof(fenv, scratch[0]), TES_JIT_MO_64);
    /* a store into it is seen by later uses */
    tes_jit_st(ir, tes_jit_const(ir, 0xab), tes_jit_env(ir), G(0), TES_JIT_MO_8);
    tes_jit_op(ir, TES_JIT_ADD, tes_jit_global(ir, G(1), NULL), g0, tes_jit_const(ir, 1));
    /* constants of every size, as immediates or not */
    tes_jit_st(ir, tes_jit_const(ir, 0x1122334455667788ull), tes_jit_env(ir),
               offsetof(fenv, scratch[1]), TES_JIT_MO_64);
    tes_jit_st(ir, tes_jit_const(ir, 0xfedcba9876543210ull), tes_jit_env(ir),
               offsetof(fenv, scratch[2]), TES_JIT_MO_32);
    tes_jit_st(ir, tes_jit_const(ir, 0xabcdef), tes_jit_env(ir),
               offsetof(fenv, scratch[2]) + 4, TES_JIT_MO_16);
    tes_jit_st(ir, tes_jit_const(ir, (uint64_t)-5), tes_jit_env(ir),
               offsetof(fenv, scratch[3]), TES_JIT_MO_64);
    tb = end(j, ir);
    E.r[0] = 0x1200;
    run(j, tb);
    g_assert_cmpuint(E.scratch[0], ==, 0x13);
    g_assert_cmpuint(E.r[0], ==, 0x13ab);
    g_assert_cmpuint(E.r[1], ==, 0x13ac);
    g_assert_cmpuint(E.scratch[1], ==, 0x1122334455667788ull);
    g_assert_cmpuint(E.scratch[2], ==, 0x0000cdef76543210ull);
    g_assert_cmpuint(E.scratch[3], ==, (uint64_t)-5);
    tes_jit_free(j);
}

static void test_log_op_and_out_asm(void)
{
    tes_jit_config c = {
        .size = sizeof(c), .budget_off = offsetof(fenv, budget),
        .exit_off = offsetof(fenv, exit_req), .pc_off = offsetof(fenv, pc),
        .tlb = { .entry_size = 16, .host_off = 8, .page_bits = 12, .index_bits = 8 },
        .ld_slow = ld_slow, .st_slow = st_slow, .log = log_cb,
        .log_op = true, .log_out_asm = true,
    };
    char *err = NULL;
    tes_jit *j = tes_jit_new(&c, &err);
    tes_jit_ir *ir;

    g_assert_nonnull(j);
    logbuf = g_string_new(NULL);
    ir = begin(j);
    tes_jit_insn_start(ir, 0xabc0);
    tes_jit_op(ir, TES_JIT_MULUH, tes_jit_global(ir, G(0), "x0"), tes_jit_global(ir, G(1), "x1"),
               tes_jit_const(ir, 3));
    end(j, ir);
    g_assert_nonnull(strstr(logbuf->str, "muluh x0, x1, $0x3"));
    g_assert_nonnull(strstr(logbuf->str, "000000000000abc0"));
    g_assert_nonnull(strstr(logbuf->str, "OUT: [size="));
    g_string_free(logbuf, true);
    logbuf = NULL;
    tes_jit_free(j);
}

/* What the optimiser leaves of a block, as -d op prints it. */
static void test_optimiser_folds_and_drops(void)
{
    tes_jit_config c = {
        .size = sizeof(c), .budget_off = offsetof(fenv, budget),
        .exit_off = offsetof(fenv, exit_req), .pc_off = offsetof(fenv, pc),
        .tlb = { .entry_size = 16, .host_off = 8, .page_bits = 12, .index_bits = 8 },
        .ld_slow = ld_slow, .st_slow = st_slow, .log = log_cb, .log_op = true,
    };
    char *err = NULL;
    tes_jit *j = tes_jit_new(&c, &err);
    tes_jit_ir *ir = begin(j);
    tes_jit_val x = tes_jit_global(ir, G(0), "x"), y = tes_jit_global(ir, G(1), "y");
    tes_jit_val f = tes_jit_global(ir, G(2), "flag"), k = tes_jit_temp(ir);
    tes_jit_val t = tes_jit_temp(ir), u = tes_jit_temp(ir);
    const char *opt;
    tes_jit_tb *tb;

    logbuf = g_string_new(NULL);
    /* k = 2 + 3 is a constant; x + k becomes x + 5 */
    tes_jit_op(ir, TES_JIT_ADD, k, tes_jit_const(ir, 2), tes_jit_const(ir, 3));
    tes_jit_op(ir, TES_JIT_ADD, x, x, k);
    /* a flag set and set again before anything can see it */
    tes_jit_op(ir, TES_JIT_XOR, f, x, tes_jit_const(ir, 0x77));
    tes_jit_setcond(ir, TES_JIT_LTU, t, x, y, false);
    /* zero extensions of a 0/1 value are copies */
    tes_jit_op(ir, TES_JIT_EXT8U, u, t, 0);
    tes_jit_op32(ir, TES_JIT_MOV, u, u, 0);
    tes_jit_op(ir, TES_JIT_EXT16U, f, u, 0);
    /* y * 1 is y */
    tes_jit_op(ir, TES_JIT_MUL, y, y, tes_jit_const(ir, 1));
    tb = end(j, ir);
    opt = strstr(logbuf->str, "OP after optimisation:");
    g_assert_nonnull(opt);
    g_assert_nonnull(strstr(opt, "add x, x, $0x5"));
    g_assert_null(strstr(opt, "xor"));
    g_assert_null(strstr(opt, "ext"));
    g_assert_null(strstr(opt, "mov32"));
    g_assert_null(strstr(opt, "mul"));
    E.r[0] = 10;
    E.r[1] = 16;
    E.budget = 10;
    tes_jit_exec(j, &E, tb);
    g_assert_cmpuint(E.r[0], ==, 15);
    g_assert_cmpuint(E.r[1], ==, 16);
    g_assert_cmpuint(E.r[2], ==, 1);
    g_string_free(logbuf, true);
    logbuf = NULL;
    tes_jit_free(j);
}

/* Frontend bugs stop the process with a message that names them. */
static void test_frontend_bugs_are_named(void)
{
    if (g_test_subprocess()) {
        tes_jit *j = jit_make(0);
        tes_jit_key k = { .pc = 4 };

        tes_jit_begin(j, &k);
        tes_jit_begin(j, &k);
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*has a block open already*");
}

static void test_temp_across_label_is_named(void)
{
    if (g_test_subprocess()) {
        tes_jit *j = jit_make(0);
        tes_jit_ir *ir = begin(j);
        tes_jit_val t = tes_jit_temp(ir);
        tes_jit_label l = tes_jit_label_new(ir);

        tes_jit_op(ir, TES_JIT_ADD, t, tes_jit_global(ir, G(0), NULL), tes_jit_const(ir, 1));
        tes_jit_label_set(ir, l);
        tes_jit_op(ir, TES_JIT_MOV, tes_jit_global(ir, G(1), NULL), t, 0);
        end(j, ir);
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*temp t0 read before it was set*");
}

static void test_bad_config_is_an_error(void)
{
    tes_jit_config c = { .size = sizeof(c), .code_size = 1000 };
    char *err = NULL;

    g_assert_null(tes_jit_new(&c, &err));
    g_assert_nonnull(err);
    free(err);
}

/* ---- randomized differential test ---- */

/* Random programs (forward branches only) over 10 globals, temps and constants, run
 * as generated code and by this evaluator. Operand o: 0..7 global, 8..15
 * temp, else a constant. */
#define RG 10
#define RT 14

typedef struct rsim {
    uint64_t g[RG], t[RT];
    bool tdef[RT];
    uint8_t ram[4096];
    tes_jit_val vg[RG], vt[RT];
    /* left by an early exit: the state then */
    bool done;
    uint64_t fg[RG];
    uint8_t fram[4096];
} rsim;

static uint64_t h2(uint64_t a, uint64_t b)
{
    return a * 31 + (b >> 3);
}

static uint64_t rnd_value(GRand *r)
{
    switch (g_rand_int_range(r, 0, 4)) {
    case 0: return vals[g_rand_int_range(r, 0, NVALS)];
    case 1: return g_rand_int_range(r, 0, 70);
    default: return ((uint64_t)g_rand_int(r) << 32) | g_rand_int(r);
    }
}

/* A source operand: its IR value, and its value in *v. */
static tes_jit_val rnd_src(GRand *r, tes_jit_ir *ir, rsim *s, uint64_t *v)
{
    int k = g_rand_int_range(r, 0, 10);
    int i;

    if (k < 5) {
        i = g_rand_int_range(r, 0, RG);
        *v = s->g[i];
        return s->vg[i];
    }
    if (k < 8) {
        i = g_rand_int_range(r, 0, RT);
        if (s->tdef[i]) {
            *v = s->t[i];
            return s->vt[i];
        }
    }
    *v = rnd_value(r);
    return tes_jit_const(ir, *v);
}

static tes_jit_val rnd_dst(GRand *r, rsim *s, uint64_t **slot)
{
    int i;

    if (g_rand_boolean(r)) {
        i = g_rand_int_range(r, 0, RG);
        *slot = &s->g[i];
        return s->vg[i];
    }
    i = g_rand_int_range(r, 0, RT);
    s->tdef[i] = true;
    *slot = &s->t[i];
    return s->vt[i];
}

static void rnd_mem(GRand *r, tes_jit_ir *ir, rsim *s)
{
    uint64_t a, v, *d;
    tes_jit_val va = rnd_src(r, ir, s, &a), vv, addr = tes_jit_temp(ir);
    uint32_t size = g_rand_int_range(r, 0, 4), n = 1u << size;
    uint32_t memop = size | (g_rand_boolean(r) ? TES_JIT_MO_SIGN : 0) |
                     (g_rand_boolean(r) ? TES_JIT_MO_ALIGN : 0);

    /* an address in page 0, maybe unaligned, maybe crossing into page 1 */
    tes_jit_op(ir, TES_JIT_AND, addr, va, tes_jit_const(ir, 0xfff));
    tes_jit_op(ir, TES_JIT_OR, addr, addr, tes_jit_const(ir, GUEST_BASE));
    a = (a & 0xfff) | GUEST_BASE;
    if (a - GUEST_BASE + n > 4096) {
        return; /* the simulated page ends here */
    }
    if (g_rand_boolean(r)) {
        vv = rnd_src(r, ir, s, &v);
        tes_jit_qst(ir, vv, addr, memop & ~TES_JIT_MO_SIGN, TLB_OFF, 0, 0x5000);
        for (unsigned i = 0; i < n; i++) {
            s->ram[a - GUEST_BASE + i] = v >> (8 * i);
        }
        return;
    }
    vv = rnd_dst(r, s, &d);
    tes_jit_qld(ir, vv, addr, memop, TLB_OFF, 0, 0x5000);
    v = 0;
    for (unsigned i = 0; i < n; i++) {
        v |= (uint64_t)s->ram[a - GUEST_BASE + i] << (8 * i);
    }
    if ((memop & TES_JIT_MO_SIGN) && n < 8) {
        v = (uint64_t)((int64_t)(v << (64 - 8 * n)) >> (64 - 8 * n));
    }
    *d = v;
}

static void rnd_insn(GRand *r, tes_jit_ir *ir, rsim *s)
{
    int k = g_rand_int_range(r, 0, 100);
    bool is32 = g_rand_int_range(r, 0, 3) == 0;
    uint64_t a, b, t, f, *d;
    tes_jit_val va, vb, vt, vf, vd;
    unsigned c = g_rand_int_range(r, 0, TES_JIT_TSTNE + 1);

    if (k < 8) {
        rnd_mem(r, ir, s);
        return;
    }
    va = rnd_src(r, ir, s, &a);
    vb = rnd_src(r, ir, s, &b);
    if (k < 14) {
        tes_jit_val args[2] = { va, vb };

        vd = rnd_dst(r, s, &d);
        tes_jit_call(ir, (const void *)h2, k & 1 ? TES_JIT_CALL_PURE : 0, vd, 2, args);
        *d = h2(a, b);
    } else if (k < 22) {
        vd = rnd_dst(r, s, &d);
        tes_jit_setcond(ir, c, vd, va, vb, is32);
        *d = ref_cond(c, is32, a, b);
    } else if (k < 30) {
        vt = rnd_src(r, ir, s, &t);
        vf = rnd_src(r, ir, s, &f);
        vd = rnd_dst(r, s, &d);
        tes_jit_movcond(ir, c, vd, va, vb, vt, vf, is32);
        *d = ref_cond(c, is32, a, b) ? t : f;
    } else {
        unsigned o = g_rand_int_range(r, 0, TES_JIT_OPC_COUNT);

        vd = rnd_dst(r, s, &d);
        op(ir, is32, o, vd, va, unary(o) ? 0 : vb);
        *d = ref(o, is32, a, b);
    }
}

/* A forward branch over the next few ops: if taken, their effects are
 * undone in the simulation; temps die at the label. */
typedef struct rbranch {
    unsigned pending;
    bool taken;
    tes_jit_label l;
    uint64_t g[RG];
    uint8_t ram[4096];
} rbranch;

static void rnd_branch_end(tes_jit_ir *ir, rsim *s, rbranch *br)
{
    if (--br->pending) {
        return;
    }
    tes_jit_label_set(ir, br->l);
    if (br->taken) {
        memcpy(s->g, br->g, sizeof(s->g));
        memcpy(s->ram, br->ram, sizeof(s->ram));
    }
    memset(s->tdef, 0, sizeof(s->tdef));
}

static void rnd_step(GRand *r, tes_jit_ir *ir, rsim *s, rbranch *br)
{
    uint64_t a, b;
    tes_jit_val va, vb;
    unsigned c;
    bool is32;

    if (!br->pending && g_rand_int_range(r, 0, 100) < 3) {
        /* an exit in the middle of the block, taken unless c holds */
        tes_jit_label l = tes_jit_label_new(ir);

        c = g_rand_int_range(r, 0, TES_JIT_TSTNE + 1);
        va = rnd_src(r, ir, s, &a);
        vb = rnd_src(r, ir, s, &b);
        tes_jit_brcond(ir, c, va, vb, l, false);
        tes_jit_exit(ir, 1);
        tes_jit_label_set(ir, l);
        if (!s->done && !ref_cond(c, false, a, b)) {
            s->done = true;
            memcpy(s->fg, s->g, sizeof(s->g));
            memcpy(s->fram, s->ram, sizeof(s->ram));
        }
        memset(s->tdef, 0, sizeof(s->tdef));
        return;
    }
    if (br->pending || g_rand_int_range(r, 0, 100) >= 6) {
        rnd_insn(r, ir, s);
        if (br->pending) {
            rnd_branch_end(ir, s, br);
        }
        return;
    }
    c = g_rand_int_range(r, 0, TES_JIT_TSTNE + 1);
    is32 = g_rand_boolean(r);
    va = rnd_src(r, ir, s, &a);
    vb = rnd_src(r, ir, s, &b);
    br->l = tes_jit_label_new(ir);
    tes_jit_brcond(ir, c, va, vb, br->l, is32);
    br->taken = ref_cond(c, is32, a, b);
    br->pending = g_rand_int_range(r, 1, 5);
    memcpy(br->g, s->g, sizeof(s->g));
    memcpy(br->ram, s->ram, sizeof(s->ram));
}

static void test_random_differential(void)
{
    tes_jit *j = jit_make(0);
    GRand *r = g_rand_new_with_seed(12345);
    unsigned cases = g_test_slow() ? 200000 : 20000;

    for (unsigned n = 0; n < cases; n++) {
        static rsim s;

        memset(&s, 0, sizeof(s));
        tes_jit_ir *ir = begin(j);
        unsigned len = g_rand_int_range(r, 1, 60);
        bool miss = g_rand_int_range(r, 0, 4) == 0;
        rbranch br = { 0 };
        tes_jit_tb *tb;
        uintptr_t ret;

        for (int i = 0; i < RG; i++) {
            s.g[i] = E.r[i] = rnd_value(r);
            s.vg[i] = tes_jit_global(ir, G(i), NULL);
        }
        for (int i = 0; i < RT; i++) {
            s.vt[i] = tes_jit_temp(ir);
        }
        for (unsigned i = 0; i < sizeof(s.ram); i++) {
            s.ram[i] = ram[i] = g_rand_int(r);
        }
        for (unsigned i = 0; i < len; i++) {
            rnd_step(r, ir, &s, &br);
        }
        if (br.pending) {
            br.pending = 1;
            rnd_branch_end(ir, &s, &br);
        }
        tb = end(j, ir);
        tlb_fill();
        if (miss) {
            E.tlb[(GUEST_BASE >> 12) & ((1u << TLB_BITS) - 1)].tag = 0;
        }
        ret = run(j, tb);
        if (s.done) {
            memcpy(s.g, s.fg, sizeof(s.g));
            memcpy(s.ram, s.fram, sizeof(s.ram));
        }
        g_assert_cmpuint(ret, ==, s.done ? (uintptr_t)tb | 1 : TES_JIT_RET_OTHER);
        for (int i = 0; i < RG; i++) {
            if (E.r[i] != s.g[i]) {
                g_error("random case %u: r%d = %#" PRIx64 ", want %#" PRIx64, n, i, E.r[i],
                        s.g[i]);
            }
        }
        g_assert_cmpmem(ram, 4096, s.ram, 4096);
    }
    g_rand_free(r);
    tes_jit_free(j);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/jit/alu/every-op-matches-c", test_alu_every_op);
    g_test_add_func("/jit/cond/every-cond-setcond-movcond-brcond", test_conditions_every_cond);
    g_test_add_func("/jit/label/loop-in-block-keeps-globals", test_labels_loop_sums);
    g_test_add_func("/jit/regalloc/more-globals-than-registers", test_many_globals);
    g_test_add_func("/jit/regalloc/temps-spill-across-calls-and-misses",
                    test_temps_spill_across_calls_and_misses);
    g_test_add_func("/jit/call/pure-env-exit", test_calls_pure_env_exit);
    g_test_add_func("/jit/mem/qld-qst-hits-and-misses", test_qld_qst_hits_and_misses);
    g_test_add_func("/jit/mem/slow-path-exit-writes-back-globals",
                    test_qld_slow_exit_writes_back);
    g_test_add_func("/jit/mem/ld-st-env-sees-cached-globals", test_ld_st_env_sees_globals);
    g_test_add_func("/jit/exec/entry-checks-budget-and-exit-req",
                    test_entry_checks_budget_and_exit_req);
    g_test_add_func("/jit/exec/chain-loop-until-budget-then-invalidate",
                    test_chain_loop_until_budget);
    g_test_add_func("/jit/exec/goto-ptr", test_goto_ptr);
    g_test_add_func("/jit/cache/insert-remove-find", test_cache_insert_remove_find);
    g_test_add_func("/jit/threads/run-while-blocks-change", test_threads_run_while_blocks_change);
    g_test_add_func("/jit/threads/translate-at-once", test_threads_translate_at_once);
    g_test_add_func("/jit/exec/exit-slots", test_exit_slots);
    g_test_add_func("/jit/mem/tlb-entry-sizes-not-powers-of-2", test_qld_tlb_entry_sizes);
    g_test_add_func("/jit/buffer/flush-when-full", test_flush_when_full);
    g_test_add_func("/jit/buffer/never-writable-and-executable",
                    test_code_is_never_writable_and_executable);
    g_test_add_func("/jit/log/op-and-out-asm", test_log_op_and_out_asm);
    g_test_add_func("/jit/opt/folds-constants-drops-dead-flags-and-zext",
                    test_optimiser_folds_and_drops);
    g_test_add_func("/jit/config/bad-is-an-error", test_bad_config_is_an_error);
    g_test_add_func("/jit/bug/begin-twice-on-one-thread", test_frontend_bugs_are_named);
    g_test_add_func("/jit/bug/temp-across-label", test_temp_across_label_is_named);
    g_test_add_func("/jit/random/differential", test_random_differential);
    g_test_add_func("/jit/goto-lookup/inline-jump-cache", test_goto_lookup);
    return g_test_run();
}
