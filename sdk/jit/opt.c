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

void jit_liveness(tes_jit_ir *ir)
{
    uint32_t words = (ir->ntemps + 63) / 64 + 1;
    uint64_t *live = jit_alloc(words * sizeof(uint64_t));

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

void jit_optimize(tes_jit_ir *ir)
{
}
