/*
 * tessera JIT: building the IR of a block (the op builders of
 * tessera/jit.h) and printing it for -d op.
 *
 * Frontend mistakes (a value of another kind where a destination is
 * needed, a temp of another block) are bugs in a CPU plugin, not guest
 * behaviour, so they stop the process with a message naming the op rather
 * than generating code that would corrupt state silently.
 */
#include "jit-internal.h"

#include <inttypes.h>

void jit_bug(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("tessera-jit: frontend bug: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

void *jit_alloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);

    if (!p) {
        fputs("tessera-jit: out of memory\n", stderr);
        abort();
    }
    return p;
}

void *jit_grow(void *p, uint32_t *cap, uint32_t need, size_t elem)
{
    uint32_t n = *cap ? *cap : 16;

    if (need <= *cap) {
        return p;
    }
    while (n < need) {
        n *= 2;
    }
    p = realloc(p, (size_t)n * elem);
    if (!p) {
        fputs("tessera-jit: out of memory\n", stderr);
        abort();
    }
    memset((char *)p + (size_t)*cap * elem, 0, (size_t)(n - *cap) * elem);
    *cap = n;
    return p;
}

void sb_printf(strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        size_t room = sb->cap - sb->len;

        va_start(ap, fmt);
        n = vsnprintf(sb->s ? sb->s + sb->len : NULL, room, fmt, ap);
        va_end(ap);
        if ((size_t)n < room) {
            sb->len += n;
            return;
        }
        sb->cap = (sb->cap + n + 1) * 2;
        sb->s = realloc(sb->s, sb->cap);
        if (!sb->s) {
            abort();
        }
    }
}

void sb_free(strbuf *sb)
{
    free(sb->s);
    sb->s = NULL;
    sb->len = sb->cap = 0;
}

/* ---- the block ---- */

/* The last block's IR is kept (j->spare_ir, under tr_lock) and reused
 * with its arrays: a boot translates ~100000 blocks, and growing the
 * arrays of each from nothing was most of the translator's malloc time. */
tes_jit_ir *jit_ir_new(tes_jit *j, const tes_jit_key *k)
{
    tes_jit_ir *ir = j->spare_ir;

    if (ir) {
        j->spare_ir = NULL;
        ir->nops = ir->ntemps = ir->nconsts = ir->nglobals = ir->nlabels = 0;
        memset(ir->ghash, 0, ir->ghash_size * sizeof(uint32_t));
    } else {
        ir = jit_alloc(sizeof(*ir));
        ir->ghash_size = 64;
        ir->ghash = jit_alloc(ir->ghash_size * sizeof(uint32_t));
    }
    ir->j = j;
    ir->key = *k;
    /* Constant 0 is value CONST|0, so that every block has it. */
    jit_const_get(ir, 0);
    return ir;
}

void jit_ir_release(tes_jit *j, tes_jit_ir *ir)
{
    if (!j->spare_ir && ir->cap_ops <= 4096) {
        j->spare_ir = ir;
        return;
    }
    jit_ir_free(ir);
}

void jit_ir_free(tes_jit_ir *ir)
{
    if (!ir) {
        return;
    }
    free(ir->ops);
    free(ir->consts);
    free(ir->globals);
    free(ir->ghash);
    free(ir);
}

static jop *new_op(tes_jit_ir *ir, unsigned opc)
{
    jop *op;

    ir->ops = jit_grow(ir->ops, &ir->cap_ops, ir->nops + 1, sizeof(jop));
    op = &ir->ops[ir->nops++];
    memset(op, 0, sizeof(*op));
    op->opc = opc;
    return op;
}

tes_jit_val tes_jit_temp(tes_jit_ir *ir)
{
    return VAL(VK_TEMP, ir->ntemps++);
}

tes_jit_val jit_const_get(tes_jit_ir *ir, uint64_t v)
{
    /* Recent constants are often reused (PCs, masks): look back a little. */
    uint32_t i = ir->nconsts > 8 ? ir->nconsts - 8 : 0;

    for (; i < ir->nconsts; i++) {
        if (ir->consts[i] == v) {
            return VAL(VK_CONST, i);
        }
    }
    ir->consts = jit_grow(ir->consts, &ir->cap_consts, ir->nconsts + 1, sizeof(uint64_t));
    ir->consts[ir->nconsts] = v;
    return VAL(VK_CONST, ir->nconsts++);
}

tes_jit_val tes_jit_const(tes_jit_ir *ir, uint64_t v)
{
    return jit_const_get(ir, v);
}

uint64_t jit_const_val(const tes_jit_ir *ir, tes_jit_val v)
{
    return ir->consts[VAL_IDX(v)];
}

tes_jit_val tes_jit_env(tes_jit_ir *ir)
{
    return VAL_ENV;
}

const char *jit_global_name(tes_jit *j, uint32_t off)
{
    for (uint32_t i = 0; i < j->ngnames; i++) {
        if (j->gnames[i].off == off) {
            return j->gnames[i].name;
        }
    }
    return NULL;
}

static void remember_name(tes_jit *j, uint32_t off, const char *name)
{
    uint32_t cap = j->ngnames;

    if (!name || jit_global_name(j, off)) {
        return;
    }
    /* cap == count: grow by one slot each time (a few dozen globals). */
    j->gnames = jit_grow(j->gnames, &cap, j->ngnames + 1, sizeof(jglobal));
    j->gnames[j->ngnames].off = off;
    j->gnames[j->ngnames].name = strdup(name);
    j->ngnames++;
}

static uint32_t *ghash_slot(tes_jit_ir *ir, uint32_t off)
{
    uint32_t mask = ir->ghash_size - 1;

    for (uint32_t h = (off * 0x9e3779b1u) >> 8;; h++) {
        uint32_t *slot = &ir->ghash[h & mask];

        if (*slot == 0 || ir->globals[*slot - 1].off == off) {
            return slot;
        }
    }
}

static void ghash_grow(tes_jit_ir *ir)
{
    free(ir->ghash);
    ir->ghash_size *= 2;
    ir->ghash = jit_alloc(ir->ghash_size * sizeof(uint32_t));
    for (uint32_t i = 0; i < ir->nglobals; i++) {
        *ghash_slot(ir, ir->globals[i].off) = i + 1;
    }
}

/* Dense index of the global at env offset off, made on first use. */
static uint32_t global_index(tes_jit_ir *ir, uint32_t off)
{
    uint32_t *slot = ghash_slot(ir, off);

    if (*slot) {
        return *slot - 1;
    }
    ir->globals = jit_grow(ir->globals, &ir->cap_globals, ir->nglobals + 1, sizeof(jglobal));
    ir->globals[ir->nglobals].off = off;
    ir->globals[ir->nglobals].name = jit_global_name(ir->j, off);
    *slot = ++ir->nglobals;
    if (ir->nglobals * 2 > ir->ghash_size) {
        ghash_grow(ir);
    }
    return ir->nglobals - 1;
}

tes_jit_val tes_jit_global(tes_jit_ir *ir, uint32_t off, const char *name)
{
    if (off > VK_INDEX_MASK) {
        jit_bug("global offset %u too large", off);
    }
    remember_name(ir->j, off, name);
    global_index(ir, off);
    return VAL(VK_GLOBAL, off);
}

/* External value -> internal (globals renumbered), checked. */
static tes_jit_val src(tes_jit_ir *ir, tes_jit_val v, const char *what)
{
    switch (VAL_KIND(v)) {
    case VK_TEMP:
        if (VAL_IDX(v) < ir->ntemps) {
            return v;
        }
        break;
    case VK_CONST:
        if (VAL_IDX(v) < ir->nconsts) {
            return v;
        }
        break;
    case VK_GLOBAL:
        return VAL(VK_GLOBAL, global_index(ir, VAL_IDX(v)));
    case VK_ENV:
        if (v == VAL_ENV) {
            return v;
        }
        break;
    }
    jit_bug("%s: bad value 0x%x (not of this block?)", what, v);
}

static tes_jit_val dst(tes_jit_ir *ir, tes_jit_val v, const char *what)
{
    unsigned k = VAL_KIND(v);

    if (k != VK_TEMP && k != VK_GLOBAL) {
        jit_bug("%s: destination 0x%x is not a temp or global", what, v);
    }
    return src(ir, v, what);
}

/* ---- op builders ---- */

static bool is_unary(unsigned opc)
{
    return opc == TES_JIT_MOV || opc >= TES_JIT_NEG;
}

static void alu(tes_jit_ir *ir, tes_jit_opc opc, tes_jit_val d, tes_jit_val a,
                tes_jit_val b, bool is32)
{
    jop *op;

    if ((unsigned)opc >= TES_JIT_OPC_COUNT) {
        jit_bug("tes_jit_op: bad opcode %d", (int)opc);
    }
    d = dst(ir, d, "tes_jit_op");
    a = src(ir, a, "tes_jit_op");
    b = is_unary(opc) ? TES_JIT_NONE : src(ir, b, "tes_jit_op");
    op = new_op(ir, opc);
    op->is32 = is32;
    op->v[0] = d;
    op->v[1] = a;
    op->v[2] = b;
}

void tes_jit_op(tes_jit_ir *ir, tes_jit_opc opc, tes_jit_val d, tes_jit_val a, tes_jit_val b)
{
    alu(ir, opc, d, a, b, false);
}

void tes_jit_op32(tes_jit_ir *ir, tes_jit_opc opc, tes_jit_val d, tes_jit_val a, tes_jit_val b)
{
    alu(ir, opc, d, a, b, true);
}

static void check_cond(tes_jit_cond c)
{
    if ((unsigned)c > TES_JIT_TSTNE) {
        jit_bug("bad condition %d", (int)c);
    }
}

void tes_jit_setcond(tes_jit_ir *ir, tes_jit_cond c, tes_jit_val d, tes_jit_val a,
                     tes_jit_val b, bool is32)
{
    jop *op;

    check_cond(c);
    d = dst(ir, d, "setcond");
    a = src(ir, a, "setcond");
    b = src(ir, b, "setcond");
    op = new_op(ir, OP_SETCOND);
    op->cond = c;
    op->is32 = is32;
    op->v[0] = d;
    op->v[1] = a;
    op->v[2] = b;
}

void tes_jit_movcond(tes_jit_ir *ir, tes_jit_cond c, tes_jit_val d, tes_jit_val a,
                     tes_jit_val b, tes_jit_val t, tes_jit_val f, bool is32)
{
    jop *op;

    check_cond(c);
    d = dst(ir, d, "movcond");
    a = src(ir, a, "movcond");
    b = src(ir, b, "movcond");
    t = src(ir, t, "movcond");
    f = src(ir, f, "movcond");
    op = new_op(ir, OP_MOVCOND);
    op->cond = c;
    op->is32 = is32;
    op->v[0] = d;
    op->v[1] = a;
    op->v[2] = b;
    op->v[3] = t;
    op->v[4] = f;
}

tes_jit_label tes_jit_label_new(tes_jit_ir *ir)
{
    return ir->nlabels++;
}

static void check_label(tes_jit_ir *ir, tes_jit_label l)
{
    if (l >= ir->nlabels) {
        jit_bug("label %u was not made by tes_jit_label_new", l);
    }
}

void tes_jit_label_set(tes_jit_ir *ir, tes_jit_label l)
{
    check_label(ir, l);
    new_op(ir, OP_LABEL)->aux = l;
}

void tes_jit_br(tes_jit_ir *ir, tes_jit_label l)
{
    check_label(ir, l);
    new_op(ir, OP_BR)->aux = l;
}

void tes_jit_brcond(tes_jit_ir *ir, tes_jit_cond c, tes_jit_val a, tes_jit_val b,
                    tes_jit_label l, bool is32)
{
    jop *op;

    check_cond(c);
    check_label(ir, l);
    a = src(ir, a, "brcond");
    b = src(ir, b, "brcond");
    op = new_op(ir, OP_BRCOND);
    op->cond = c;
    op->is32 = is32;
    op->aux = l;
    op->v[1] = a;
    op->v[2] = b;
}

void tes_jit_ld(tes_jit_ir *ir, tes_jit_val d, tes_jit_val base, int32_t off, uint32_t memop)
{
    jop *op;

    d = dst(ir, d, "ld");
    base = src(ir, base, "ld");
    op = new_op(ir, OP_LD);
    op->memop = memop & (TES_JIT_MO_SIZE | TES_JIT_MO_SIGN);
    op->off = off;
    op->v[0] = d;
    op->v[1] = base;
}

void tes_jit_st(tes_jit_ir *ir, tes_jit_val v, tes_jit_val base, int32_t off, uint32_t memop)
{
    jop *op;

    v = src(ir, v, "st");
    base = src(ir, base, "st");
    op = new_op(ir, OP_ST);
    op->memop = memop & TES_JIT_MO_SIZE;
    op->off = off;
    op->v[1] = base;
    op->v[2] = v;
}

void tes_jit_qld(tes_jit_ir *ir, tes_jit_val d, tes_jit_val addr, uint32_t memop,
                 uint32_t tlb_off, uint32_t arg, uint64_t pc)
{
    jop *op;

    d = dst(ir, d, "qld");
    addr = src(ir, addr, "qld");
    op = new_op(ir, OP_QLD);
    op->memop = memop;
    op->aux = tlb_off;
    op->arg = arg;
    op->imm = pc;
    op->v[0] = d;
    op->v[1] = addr;
}

void tes_jit_qst(tes_jit_ir *ir, tes_jit_val v, tes_jit_val addr, uint32_t memop,
                 uint32_t tlb_off, uint32_t arg, uint64_t pc)
{
    jop *op;

    v = src(ir, v, "qst");
    addr = src(ir, addr, "qst");
    op = new_op(ir, OP_QST);
    op->memop = memop & ~TES_JIT_MO_SIGN;
    op->aux = tlb_off;
    op->arg = arg;
    op->imm = pc;
    op->v[1] = addr;
    op->v[2] = v;
}

void tes_jit_call(tes_jit_ir *ir, const void *fn, unsigned flags, tes_jit_val d,
                  unsigned nargs, const tes_jit_val *args)
{
    jop *op;

    if (nargs > MAX_CALL_ARGS) {
        jit_bug("call with %u arguments (at most %d)", nargs, MAX_CALL_ARGS);
    }
    if (d != TES_JIT_NONE) {
        d = dst(ir, d, "call");
    }
    op = new_op(ir, OP_CALL);
    op->aux = flags;
    op->nargs = nargs;
    op->imm = (uintptr_t)fn;
    op->v[0] = d;
    for (unsigned i = 0; i < nargs; i++) {
        op->v[1 + i] = src(ir, args[i], "call");
    }
}

void tes_jit_exit(tes_jit_ir *ir, unsigned slot)
{
    if (slot > 1) {
        jit_bug("exit slot %u (0 or 1)", slot);
    }
    new_op(ir, OP_EXIT)->aux = slot;
}

void tes_jit_exit_nochain(tes_jit_ir *ir)
{
    new_op(ir, OP_EXIT_NOCHAIN);
}

void tes_jit_goto_ptr(tes_jit_ir *ir, tes_jit_val a)
{
    a = src(ir, a, "goto_ptr");
    new_op(ir, OP_GOTO_PTR)->v[1] = a;
}

void tes_jit_goto_lookup(tes_jit_ir *ir, tes_jit_val pc, const void *miss)
{
    jop *op;

    if (!miss) {
        jit_bug("goto_lookup without a miss helper");
    }
    pc = src(ir, pc, "goto_lookup");
    op = new_op(ir, OP_GOTO_PTR);
    op->v[1] = pc;
    op->imm = (uint64_t)(uintptr_t)miss;
}

void tes_jit_insn_start(tes_jit_ir *ir, uint64_t pc)
{
    new_op(ir, OP_INSN_START)->imm = pc;
}

/* ---- -d op ---- */

static const char *const op_names[OP_COUNT] = {
    "mov", "add", "sub", "mul", "and", "or", "xor", "andc", "shl", "shr", "sar",
    "rotr", "rotl", "muluh", "mulsh", "neg", "not", "ext8u", "ext8s", "ext16u",
    "ext16s", "ext32u", "ext32s", "bswap16", "bswap32", "bswap64", "clz", "ctz",
    "setcond", "movcond", "label", "br", "brcond", "ld", "st", "qld", "qst", "call",
    "exit", "exit_nochain", "goto_ptr", "insn", "nop",
};

static const char *const cond_names[] = {
    "eq", "ne", "lt", "ge", "le", "gt", "ltu", "geu", "leu", "gtu", "tsteq", "tstne",
};

static void dump_val(tes_jit_ir *ir, strbuf *sb, tes_jit_val v)
{
    const jglobal *g;

    switch (VAL_KIND(v)) {
    case VK_TEMP:
        sb_printf(sb, "t%u", VAL_IDX(v));
        break;
    case VK_GLOBAL:
        g = &ir->globals[VAL_IDX(v)];
        if (g->name) {
            sb_printf(sb, "%s", g->name);
        } else {
            sb_printf(sb, "env[%u]", g->off);
        }
        break;
    case VK_CONST:
        sb_printf(sb, "$0x%" PRIx64, jit_const_val(ir, v));
        break;
    case VK_ENV:
        sb_printf(sb, "env");
        break;
    default:
        sb_printf(sb, "-");
        break;
    }
}

static void dump_op(tes_jit_ir *ir, strbuf *sb, const jop *op)
{
    unsigned first = 1, last = 2;

    if (op->opc == OP_INSN_START) {
        sb_printf(sb, " ---- %016" PRIx64 "\n", op->imm);
        return;
    }
    sb_printf(sb, "  %s%s", op_names[op->opc], op->is32 ? "32" : "");
    if (op->opc == OP_SETCOND || op->opc == OP_MOVCOND || op->opc == OP_BRCOND) {
        sb_printf(sb, ".%s", cond_names[op->cond]);
    }
    if (op->opc < OP_SETCOND || op->opc == OP_SETCOND || op->opc == OP_MOVCOND ||
        op->opc == OP_LD || op->opc == OP_QLD || (op->opc == OP_CALL && op->v[0])) {
        first = 0;
    }
    if (op->opc == OP_MOVCOND) {
        last = 4;
    } else if (op->opc == OP_CALL) {
        last = op->nargs;
    } else if (op->opc < OP_SETCOND && is_unary(op->opc)) {
        last = 1;
    }
    for (unsigned i = first; i <= last; i++) {
        if (i == 0 || op->v[i]) {
            sb_printf(sb, i == first ? " " : ", ");
            dump_val(ir, sb, op->v[i]);
        }
    }
    switch (op->opc) {
    case OP_LABEL: case OP_BR: case OP_BRCOND:
        sb_printf(sb, " L%u", op->aux);
        break;
    case OP_LD: case OP_ST:
        sb_printf(sb, " +%d mo=%u", op->off, op->memop);
        break;
    case OP_QLD: case OP_QST:
        sb_printf(sb, " mo=%u tlb=%u arg=%u", op->memop, op->aux, op->arg);
        break;
    case OP_CALL:
        sb_printf(sb, " fn=%p flags=%u", (void *)(uintptr_t)op->imm, op->aux);
        break;
    case OP_EXIT:
        sb_printf(sb, " slot=%u", op->aux);
        break;
    case OP_GOTO_PTR:
        if (op->imm) {
            sb_printf(sb, " lookup miss=%p", (void *)(uintptr_t)op->imm);
        }
        break;
    }
    sb_printf(sb, "\n");
}

void jit_ir_dump(tes_jit_ir *ir, strbuf *sb, const char *title)
{
    sb_printf(sb, "%s pc=0x%" PRIx64 " flags=0x%" PRIx64 "\n", title, ir->key.pc,
              ir->key.flags);
    for (uint32_t i = 0; i < ir->nops; i++) {
        if (ir->ops[i].opc != OP_NOP) {
            dump_op(ir, sb, &ir->ops[i]);
        }
    }
}
