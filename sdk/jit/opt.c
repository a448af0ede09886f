/*
 * tessera JIT: the optimiser. Three passes over a block's IR:
 * - forward, per basic block: constant folding, algebraic identities and
 *   copy propagation (uses of a copy read the original while neither
 *   changed);
 * - backward: dead-code elimination of temps and dead stores to globals
 *   (a flag computed and recomputed before anyone can see it);
 * - backward: liveness of temps for the register allocator (op->dead).
 *
 * What can observe a global: an op reading it, a non-pure call, a qld/qst
 * (its slow path may raise a guest exception, which reads guest state), a
 * host ld/st of env overlapping it, a branch, a label and a block exit.
 */
#include "jit-internal.h"

/* ---- evaluation (also the reference for constant folding) ---- */

static uint64_t rotl64(uint64_t x, unsigned n)
{
    n &= 63;
    return n ? (x << n) | (x >> (64 - n)) : x;
}

static uint32_t rotl32(uint32_t x, unsigned n)
{
    n &= 31;
    return n ? (x << n) | (x >> (32 - n)) : x;
}

static uint64_t fold64(unsigned opc, uint64_t a, uint64_t b)
{
    switch (opc) {
    case TES_JIT_MOV: return a;
    case TES_JIT_ADD: return a + b;
    case TES_JIT_SUB: return a - b;
    case TES_JIT_MUL: return a * b;
    case TES_JIT_AND: return a & b;
    case TES_JIT_OR: return a | b;
    case TES_JIT_XOR: return a ^ b;
    case TES_JIT_ANDC: return a & ~b;
    case TES_JIT_SHL: return a << (b & 63);
    case TES_JIT_SHR: return a >> (b & 63);
    case TES_JIT_SAR: return (uint64_t)((int64_t)a >> (b & 63));
    case TES_JIT_ROTL: return rotl64(a, b & 63);
    case TES_JIT_ROTR: return rotl64(a, (64 - (b & 63)) & 63);
    case TES_JIT_MULUH: return (uint64_t)(((unsigned __int128)a * b) >> 64);
    case TES_JIT_MULSH: return (uint64_t)(((__int128)(int64_t)a * (int64_t)b) >> 64);
    case TES_JIT_NEG: return -a;
    case TES_JIT_NOT: return ~a;
    case TES_JIT_EXT8U: return (uint8_t)a;
    case TES_JIT_EXT8S: return (uint64_t)(int8_t)a;
    case TES_JIT_EXT16U: return (uint16_t)a;
    case TES_JIT_EXT16S: return (uint64_t)(int16_t)a;
    case TES_JIT_EXT32U: return (uint32_t)a;
    case TES_JIT_EXT32S: return (uint64_t)(int32_t)a;
    case TES_JIT_BSWAP16: return __builtin_bswap16((uint16_t)a);
    case TES_JIT_BSWAP32: return __builtin_bswap32((uint32_t)a);
    case TES_JIT_BSWAP64: return __builtin_bswap64(a);
    case TES_JIT_CLZ: return a ? __builtin_clzll(a) : 64;
    case TES_JIT_CTZ: return a ? __builtin_ctzll(a) : 64;
    }
    return 0;
}

static uint32_t fold32(unsigned opc, uint32_t a, uint32_t b)
{
    switch (opc) {
    case TES_JIT_SHL: return a << (b & 31);
    case TES_JIT_SHR: return a >> (b & 31);
    case TES_JIT_SAR: return (uint32_t)((int32_t)a >> (b & 31));
    case TES_JIT_ROTL: return rotl32(a, b & 31);
    case TES_JIT_ROTR: return rotl32(a, (32 - (b & 31)) & 31);
    case TES_JIT_MULUH: return (uint32_t)(((uint64_t)a * b) >> 32);
    case TES_JIT_MULSH: return (uint32_t)(((int64_t)(int32_t)a * (int32_t)b) >> 32);
    case TES_JIT_EXT8S: return (uint32_t)(int8_t)a;
    case TES_JIT_EXT16S: return (uint32_t)(int16_t)a;
    case TES_JIT_EXT32S: return a;
    case TES_JIT_BSWAP64: return __builtin_bswap32(a);
    case TES_JIT_CLZ: return a ? __builtin_clz(a) : 32;
    case TES_JIT_CTZ: return a ? __builtin_ctz(a) : 32;
    default: return (uint32_t)fold64(opc, a, b);
    }
}

uint64_t jit_fold(unsigned opc, bool is32, uint64_t a, uint64_t b)
{
    return is32 ? fold32(opc, (uint32_t)a, (uint32_t)b) : fold64(opc, a, b);
}

bool jit_cond_eval(unsigned c, bool is32, uint64_t a, uint64_t b)
{
    if (is32) {
        a = (uint32_t)a;
        b = (uint32_t)b;
        if (c >= TES_JIT_LT && c <= TES_JIT_GT) {
            a = (uint64_t)(int64_t)(int32_t)a;
            b = (uint64_t)(int64_t)(int32_t)b;
        }
    }
    switch (c) {
    case TES_JIT_EQ: return a == b;
    case TES_JIT_NE: return a != b;
    case TES_JIT_LT: return (int64_t)a < (int64_t)b;
    case TES_JIT_GE: return (int64_t)a >= (int64_t)b;
    case TES_JIT_LE: return (int64_t)a <= (int64_t)b;
    case TES_JIT_GT: return (int64_t)a > (int64_t)b;
    case TES_JIT_LTU: return a < b;
    case TES_JIT_GEU: return a >= b;
    case TES_JIT_LEU: return a <= b;
    case TES_JIT_GTU: return a > b;
    case TES_JIT_TSTEQ: return (a & b) == 0;
    default: return (a & b) != 0;
    }
}

/* ---- which values an op reads and writes ---- */

/* Number of sources (v[1..n]) and whether v[0] is a destination. */
static unsigned op_inputs(const jop *op, bool *has_dst)
{
    *has_dst = false;
    if (op->opc < TES_JIT_OPC_COUNT) {
        *has_dst = true;
        return (op->opc == TES_JIT_MOV || op->opc >= TES_JIT_NEG) ? 1 : 2;
    }
    switch (op->opc) {
    case OP_SETCOND: *has_dst = true; return 2;
    case OP_MOVCOND: *has_dst = true; return 4;
    case OP_LD: case OP_QLD: *has_dst = true; return 1;
    case OP_ST: case OP_QST: case OP_BRCOND: return 2;
    case OP_GOTO_PTR: return 1;
    case OP_CALL: *has_dst = op->v[0] != TES_JIT_NONE; return op->nargs;
    default: return 0;
    }
}

/* Ops that may be deleted when their result is unused. */
static bool op_pure(const jop *op)
{
    return op->opc < TES_JIT_OPC_COUNT || op->opc == OP_SETCOND ||
           op->opc == OP_MOVCOND || op->opc == OP_LD;
}

/* Ops after which no temp is live (the next op is a label or unreachable). */
static bool ends_flow(const jop *op)
{
    return op->opc == OP_LABEL || op->opc == OP_BR || op->opc == OP_EXIT ||
           op->opc == OP_EXIT_NOCHAIN || op->opc == OP_GOTO_PTR;
}

/* ---- liveness of temps ---- */

/* Ops between an unconditional jump or exit and the next label never run
 * (and may read temps the backward pass would think dead): drop them. */
static void drop_unreachable(tes_jit_ir *ir)
{
    bool dead = false;

    for (uint32_t i = 0; i < ir->nops; i++) {
        jop *op = &ir->ops[i];

        if (op->opc == OP_LABEL) {
            dead = false;
        } else if (dead && op->opc != OP_INSN_START) {
            op->opc = OP_NOP;
        } else if (ends_flow(op)) {
            dead = true;
        }
    }
}

void jit_liveness(tes_jit_ir *ir)
{
    uint32_t words = (ir->ntemps + 63) / 64 + 1;
    uint64_t *live = jit_alloc(words * sizeof(uint64_t));

    drop_unreachable(ir);

    for (uint32_t i = ir->nops; i-- > 0;) {
        jop *op = &ir->ops[i];
        bool has_dst;
        unsigned n = op_inputs(op, &has_dst);

        op->dead = 0;
        if (ends_flow(op)) {
            memset(live, 0, words * sizeof(uint64_t));
        }
        if (has_dst && VAL_KIND(op->v[0]) == VK_TEMP) {
            uint32_t t = VAL_IDX(op->v[0]);

            if (!(live[t / 64] & (1ull << (t % 64)))) {
                if (op_pure(op)) {
                    op->opc = OP_NOP;
                    continue;
                }
                op->dead |= 1;
            }
            live[t / 64] &= ~(1ull << (t % 64));
        }
        for (unsigned k = 1; k <= n; k++) {
            tes_jit_val v = op->v[k];
            uint32_t t = VAL_IDX(v);

            if (VAL_KIND(v) != VK_TEMP) {
                continue;
            }
            if (!(live[t / 64] & (1ull << (t % 64)))) {
                op->dead |= 1u << k;
                live[t / 64] |= 1ull << (t % 64);
            }
        }
    }
    free(live);
}

/* ---- forward: folding and copy propagation ---- */

/* repl[x]: a value known equal to x (a constant, or a temp or global not
 * changed since), or 0. Index: temps first, then globals. */
typedef struct fwd {
    tes_jit_ir *ir;
    tes_jit_val *repl;
    uint8_t *copied; /* some repl[] names this value */
    uint8_t *width;  /* bits above this are known zero (0: unknown) */
    uint32_t n;
} fwd;

static int slot_of(const fwd *f, tes_jit_val v)
{
    switch (VAL_KIND(v)) {
    case VK_TEMP: return (int)VAL_IDX(v);
    case VK_GLOBAL: return (int)(f->ir->ntemps + VAL_IDX(v));
    default: return -1;
    }
}

/* A global is cached in a register anyway: reading it through a temp
 * copy would only keep the temp alive longer. Constants always help. */
static tes_jit_val resolve(const fwd *f, tes_jit_val v)
{
    int i = slot_of(f, v);
    tes_jit_val r = i >= 0 ? f->repl[i] : 0;

    if (!r || (VAL_KIND(v) == VK_GLOBAL && VAL_KIND(r) != VK_CONST)) {
        return v;
    }
    return r;
}

/* v gets a new value: forget what it equalled and what equalled it. */
static void changed(fwd *f, tes_jit_val v)
{
    int i = slot_of(f, v);

    if (i < 0) {
        return;
    }
    f->repl[i] = 0;
    if (f->copied[i]) {
        for (uint32_t k = 0; k < f->n; k++) {
            if (f->repl[k] == v) {
                f->repl[k] = 0;
            }
        }
        f->copied[i] = 0;
    }
}

static void set_equal(fwd *f, tes_jit_val d, tes_jit_val v)
{
    int i = slot_of(f, d), k = slot_of(f, v);

    if (i < 0 || d == v) {
        return;
    }
    f->repl[i] = v;
    if (k >= 0) {
        f->copied[k] = 1;
    }
}

static void forget_all(fwd *f)
{
    memset(f->repl, 0, f->n * sizeof(*f->repl));
    memset(f->copied, 0, f->n);
    memset(f->width, 0, f->n);
}

/* Globals may have changed behind the block's back (a helper). */
static void forget_globals(fwd *f)
{
    for (uint32_t k = 0; k < f->n; k++) {
        if (k >= f->ir->ntemps || VAL_KIND(f->repl[k]) == VK_GLOBAL) {
            f->repl[k] = 0;
        }
    }
    memset(f->copied + f->ir->ntemps, 0, f->n - f->ir->ntemps);
    memset(f->width + f->ir->ntemps, 0, f->n - f->ir->ntemps);
}

static bool is_const(tes_jit_val v)
{
    return VAL_KIND(v) == VK_CONST;
}

static void make_mov(tes_jit_ir *ir, jop *op, tes_jit_val v, bool is32)
{
    tes_jit_val d = op->v[0];

    memset(op, 0, sizeof(*op));
    op->opc = TES_JIT_MOV;
    op->is32 = is32;
    op->v[0] = d;
    op->v[1] = v;
}

/* a op b with a known b (or a == b) that needs no op at all. */
static void simplify(tes_jit_ir *ir, jop *op)
{
    tes_jit_val a = op->v[1], b = op->v[2];
    uint64_t m = op->is32 ? 0xffffffffu : UINT64_MAX;
    uint64_t c = is_const(b) ? jit_const_val(ir, b) & m : 1;

    switch (op->opc) {
    case TES_JIT_ADD: case TES_JIT_OR: case TES_JIT_XOR: case TES_JIT_SUB:
    case TES_JIT_SHL: case TES_JIT_SHR: case TES_JIT_SAR: case TES_JIT_ROTL:
    case TES_JIT_ROTR: case TES_JIT_ANDC:
        if (is_const(b) && (c == 0 || (op->opc >= TES_JIT_SHL && op->opc <= TES_JIT_ROTL &&
                                       (c & (op->is32 ? 31 : 63)) == 0))) {
            make_mov(ir, op, a, op->is32);
        } else if (a == b && (op->opc == TES_JIT_SUB || op->opc == TES_JIT_XOR ||
                              op->opc == TES_JIT_ANDC)) {
            make_mov(ir, op, jit_const_get(ir, 0), false);
        }
        break;
    case TES_JIT_AND:
        if (is_const(b) && c == m) {
            make_mov(ir, op, a, op->is32);
        } else if (is_const(b) && c == 0) {
            make_mov(ir, op, jit_const_get(ir, 0), false);
        } else if (a == b) {
            make_mov(ir, op, a, op->is32);
        }
        break;
    case TES_JIT_MUL:
        if (is_const(b) && c == 1) {
            make_mov(ir, op, a, op->is32);
        } else if (is_const(b) && c == 0) {
            make_mov(ir, op, jit_const_get(ir, 0), false);
        }
        break;
    }
}

/* ---- known-zero high bits (to drop redundant zero extensions) ---- */

static unsigned val_width(const fwd *f, tes_jit_val v)
{
    int i;

    if (VAL_KIND(v) == VK_CONST) {
        uint64_t c = jit_const_val(f->ir, v);

        return c ? 64 - __builtin_clzll(c) : 0;
    }
    i = slot_of(f, v);
    return (i >= 0 && f->width[i]) ? f->width[i] : 64;
}

static unsigned min_u(unsigned a, unsigned b)
{
    return a < b ? a : b;
}

/* Width of the result of op (already folded). */
static unsigned op_width(const fwd *f, const jop *op)
{
    unsigned wa = val_width(f, op->v[1]), wb = val_width(f, op->v[2]), w = 64;

    switch (op->opc) {
    case TES_JIT_MOV: w = wa; break;
    case TES_JIT_AND: w = min_u(wa, wb); break;
    case TES_JIT_OR: case TES_JIT_XOR: w = wa > wb ? wa : wb; break;
    case TES_JIT_EXT8U: w = 8; break;
    case TES_JIT_EXT16U: case TES_JIT_BSWAP16: w = 16; break;
    case TES_JIT_EXT32U: case TES_JIT_BSWAP32: w = 32; break;
    case TES_JIT_CLZ: case TES_JIT_CTZ: w = 7; break;
    case OP_SETCOND: w = 1; break;
    case OP_LD: case OP_QLD:
        if (!(op->memop & TES_JIT_MO_SIGN) && (op->memop & TES_JIT_MO_SIZE) < TES_JIT_MO_64) {
            w = 8u << (op->memop & TES_JIT_MO_SIZE);
        }
        break;
    }
    if (op->opc < TES_JIT_OPC_COUNT && op->is32) {
        w = min_u(w, 32);
    }
    return w;
}

/* A zero extension (or mask) of a value already that narrow: a copy. */
static void drop_zext(fwd *f, jop *op)
{
    unsigned wa = val_width(f, op->v[1]), lim = 0;

    switch (op->opc) {
    case TES_JIT_EXT8U: lim = 8; break;
    case TES_JIT_EXT16U: lim = 16; break;
    case TES_JIT_EXT32U: lim = 32; break;
    case TES_JIT_MOV: case TES_JIT_EXT32S: lim = op->is32 ? 32 : 0; break;
    case TES_JIT_AND:
        if (is_const(op->v[2])) {
            uint64_t c = jit_const_val(f->ir, op->v[2]) & (op->is32 ? 0xffffffffu : ~0ull);

            lim = (c & (c + 1)) == 0 ? (c ? 64 - __builtin_clzll(c) : 0) : 0;
        }
        break;
    }
    if (lim && wa <= lim) {
        make_mov(f->ir, op, op->v[1], false);
    }
}

static void fold_alu(fwd *f, jop *op)
{
    tes_jit_ir *ir = f->ir;
    bool unary = op->opc == TES_JIT_MOV || op->opc >= TES_JIT_NEG;

    if (is_const(op->v[1]) && (unary || is_const(op->v[2]))) {
        uint64_t r = jit_fold(op->opc, op->is32, jit_const_val(ir, op->v[1]),
                              unary ? 0 : jit_const_val(ir, op->v[2]));

        make_mov(ir, op, jit_const_get(ir, r), false);
    } else if (!unary) {
        if (is_const(op->v[1]) && (op->opc == TES_JIT_ADD || op->opc == TES_JIT_MUL ||
                                   op->opc == TES_JIT_AND || op->opc == TES_JIT_OR ||
                                   op->opc == TES_JIT_XOR)) {
            tes_jit_val t = op->v[1];

            op->v[1] = op->v[2];
            op->v[2] = t;
        }
        simplify(ir, op);
    }
    changed(f, op->v[0]);
    if (op->opc == TES_JIT_MOV && op->v[1] == op->v[0] && !op->is32) {
        op->opc = OP_NOP;
    } else if (op->opc == TES_JIT_MOV && (!op->is32 || is_const(op->v[1]))) {
        tes_jit_val v = op->v[1];

        if (op->is32) {
            v = jit_const_get(ir, (uint32_t)jit_const_val(ir, v));
            op->v[1] = v;
            op->is32 = false;
        }
        set_equal(f, op->v[0], v);
    }
}

/* A condition known without its operands' values: 1 or 0, else -1. */
static int cond_known(tes_jit_ir *ir, const jop *op)
{
    tes_jit_val a = op->v[1], b = op->v[2];
    unsigned c = op->cond;

    if (is_const(a) && is_const(b)) {
        return jit_cond_eval(c, op->is32, jit_const_val(ir, a), jit_const_val(ir, b));
    }
    if (a == b && c < TES_JIT_TSTEQ) {
        return c == TES_JIT_EQ || c == TES_JIT_GE || c == TES_JIT_LE || c == TES_JIT_GEU ||
               c == TES_JIT_LEU;
    }
    if (is_const(b) && (jit_const_val(ir, b) & (op->is32 ? 0xffffffffu : ~0ull)) == 0) {
        /* unsigned x >= 0 always, x < 0 never; x & 0 is 0 */
        switch (c) {
        case TES_JIT_GEU: case TES_JIT_TSTEQ: return 1;
        case TES_JIT_LTU: case TES_JIT_TSTNE: return 0;
        }
    }
    return -1;
}

static void fold_cond(fwd *f, jop *op)
{
    tes_jit_ir *ir = f->ir;
    int known = cond_known(ir, op);
    bool k = known >= 0, t = known == 1;

    if (op->opc == OP_BRCOND) {
        if (k) {
            op->opc = t ? OP_BR : OP_NOP;
            op->v[1] = op->v[2] = 0;
        }
        return;
    }
    if (k && op->opc == OP_SETCOND) {
        make_mov(ir, op, jit_const_get(ir, t), false);
    } else if (k) {
        make_mov(ir, op, t ? op->v[3] : op->v[4], false);
    }
    changed(f, op->v[0]);
    if (op->opc == TES_JIT_MOV) {
        set_equal(f, op->v[0], op->v[1]);
    }
}

static bool env_overlaps_global(tes_jit_ir *ir, const jop *op)
{
    uint32_t size = 1u << (op->memop & TES_JIT_MO_SIZE);

    if (op->v[1] != VAL_ENV) {
        return false;
    }
    for (uint32_t i = 0; i < ir->nglobals; i++) {
        int64_t g = ir->globals[i].off;

        if (g < (int64_t)op->off + size && (int64_t)op->off < g + 8) {
            return true;
        }
    }
    return false;
}

static void forward(tes_jit_ir *ir)
{
    fwd f = { .ir = ir, .n = ir->ntemps + ir->nglobals };

    f.repl = jit_alloc((f.n + 1) * sizeof(*f.repl));
    f.copied = jit_alloc(f.n + 1);
    f.width = jit_alloc(f.n + 1);
    for (uint32_t i = 0; i < ir->nops; i++) {
        jop *op = &ir->ops[i];
        bool has_dst;
        unsigned n = op_inputs(op, &has_dst);

        for (unsigned k = 1; k <= n; k++) {
            op->v[k] = resolve(&f, op->v[k]);
        }
        if (op->opc < TES_JIT_OPC_COUNT) {
            drop_zext(&f, op);
            fold_alu(&f, op);
        } else if (op->opc == OP_SETCOND || op->opc == OP_MOVCOND || op->opc == OP_BRCOND) {
            fold_cond(&f, op);
        } else if (op->opc == OP_LABEL) {
            forget_all(&f);
        } else if (op->opc == OP_CALL && !(op->aux == TES_JIT_CALL_PURE)) {
            forget_globals(&f);
        } else if (op->opc == OP_ST && env_overlaps_global(ir, op)) {
            forget_globals(&f);
        }
        if (has_dst && op->opc != TES_JIT_MOV && op->opc >= TES_JIT_OPC_COUNT &&
            op->opc != OP_SETCOND && op->opc != OP_MOVCOND) {
            changed(&f, op->v[0]);
        }
        if (has_dst && slot_of(&f, op->v[0]) >= 0) {
            unsigned w = op_width(&f, op);

            f.width[slot_of(&f, op->v[0])] = w ? w : 1;
        }
    }
    free(f.repl);
    free(f.copied);
    free(f.width);
}

/* ---- backward: dead stores to globals ---- */

/* All globals become live (a point where env must be up to date). */
static bool observes_all(tes_jit_ir *ir, const jop *op)
{
    switch (op->opc) {
    case OP_LABEL: case OP_BR: case OP_BRCOND: case OP_EXIT: case OP_EXIT_NOCHAIN:
    case OP_GOTO_PTR: case OP_QLD: case OP_QST:
        return true;
    case OP_CALL:
        return op->aux != TES_JIT_CALL_PURE;
    case OP_LD: case OP_ST:
        return env_overlaps_global(ir, op);
    default:
        return false;
    }
}

static void dead_globals(tes_jit_ir *ir)
{
    uint8_t *live = jit_alloc(ir->nglobals + 1);

    memset(live, 1, ir->nglobals);
    for (uint32_t i = ir->nops; i-- > 0;) {
        jop *op = &ir->ops[i];
        bool has_dst;
        unsigned n = op_inputs(op, &has_dst);

        if (has_dst && VAL_KIND(op->v[0]) == VK_GLOBAL) {
            uint32_t g = VAL_IDX(op->v[0]);

            if (!live[g] && op_pure(op)) {
                op->opc = OP_NOP;
                continue;
            }
            live[g] = 0;
        }
        if (observes_all(ir, op)) {
            memset(live, 1, ir->nglobals);
        }
        for (unsigned k = 1; k <= n; k++) {
            if (VAL_KIND(op->v[k]) == VK_GLOBAL) {
                live[VAL_IDX(op->v[k])] = 1;
            }
        }
    }
    free(live);
}

void jit_optimize(tes_jit_ir *ir)
{
    forward(ir);
    dead_globals(ir);
}
