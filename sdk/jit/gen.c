/*
 * tessera JIT: lowering IR ops to x86-64. One pass over the ops with the
 * register allocator of regalloc.c; memory slow paths and exit stubs are
 * emitted after the block's main code so the fast paths fall through.
 */
#include "gen.h"

static const uint8_t cond_cc[] = {
    [TES_JIT_EQ] = CC_E, [TES_JIT_NE] = CC_NE, [TES_JIT_LT] = CC_L,
    [TES_JIT_GE] = CC_GE, [TES_JIT_LE] = CC_LE, [TES_JIT_GT] = CC_G,
    [TES_JIT_LTU] = CC_B, [TES_JIT_GEU] = CC_AE, [TES_JIT_LEU] = CC_BE,
    [TES_JIT_GTU] = CC_A, [TES_JIT_TSTEQ] = CC_E, [TES_JIT_TSTNE] = CC_NE,
};

const uint8_t *head_addr(gen *g, uint32_t off)
{
    return g->j->rx + off;
}

static bool dies(gen *g, unsigned i)
{
    return g->cur->dead & (1u << i);
}

/* An immediate for a w-bit op, if c fits one. */
static bool imm_ok(gen *g, tes_jit_val v, bool w, int64_t *imm)
{
    uint64_t c;

    if (!ra_is_const(g, v)) {
        return false;
    }
    c = ra_const(g, v);
    *imm = w ? (int64_t)c : (int64_t)(int32_t)c;
    return !w || x_is_imm32(*imm);
}

void finish(gen *g, tes_jit_val d, int r, unsigned nin)
{
    ra_bind(g, d, r);
    ra_end_op(g, g->cur, nin);
}

/* ---- ALU ---- */

static bool commutes(unsigned opc)
{
    return opc == TES_JIT_ADD || opc == TES_JIT_MUL || opc == TES_JIT_AND ||
           opc == TES_JIT_OR || opc == TES_JIT_XOR;
}

static int alu_of(unsigned opc)
{
    switch (opc) {
    case TES_JIT_ADD: return ALU_ADD;
    case TES_JIT_SUB: return ALU_SUB;
    case TES_JIT_AND: return ALU_AND;
    case TES_JIT_OR: return ALU_OR;
    default: return ALU_XOR;
    }
}

/* Commutative ops: a constant goes second, and an operand whose register
 * can be overwritten goes first. Returns the index of the new first. */
static unsigned order_operands(gen *g, const jop *op, tes_jit_val *a, tes_jit_val *b)
{
    vstate *sa = ra_state(g, *a), *sb = ra_state(g, *b);
    bool a_reusable = sa && sa->reg >= 0 && (*a == op->v[0] || dies(g, 1));
    bool b_reusable = sb && sb->reg >= 0 && (*b == op->v[0] || dies(g, 2));
    tes_jit_val t = *a;

    if (!commutes(op->opc) ||
        !((ra_is_const(g, *a) && !ra_is_const(g, *b)) || (b_reusable && !a_reusable))) {
        return 1;
    }
    *a = *b;
    *b = t;
    return 2;
}

/* d = a op b with b an immediate: the register of the result, or -1 when
 * b cannot be one for this op. */
static int binop_imm(gen *g, const jop *op, tes_jit_val a, unsigned ia, tes_jit_val b)
{
    bool w = !op->is32;
    int64_t imm;
    int r;

    if (op->opc == TES_JIT_AND && w && ra_is_const(g, b) && ra_const(g, b) <= UINT32_MAX &&
        !x_is_imm32(ra_const(g, b))) {
        /* a mask of the low 32 bits: the 32-bit and clears the rest */
        r = ra_dest_from(g, op->v[0], a, ia);
        x_alu_ri(&g->e, false, ALU_AND, r, (int32_t)ra_const(g, b));
        return r;
    }
    if (!imm_ok(g, b, w, &imm) || (op->opc == TES_JIT_ANDC && !x_is_imm32(~imm))) {
        return -1;
    }
    if (op->opc == TES_JIT_MUL) {
        /* imul r, ra, imm reads and writes different registers */
        int ra = ra_load(g, a, REGS_ALLOC | RB(REG_ENV));

        r = ra_dest_reg(g, op->v[0], a, ia, ra);
        x_op_rr(&g->e, (imm == (int8_t)imm ? 0x6b : 0x69) | (w ? X_W : 0), r, ra);
        if (imm == (int8_t)imm) {
            x_byte(&g->e, imm);
        } else {
            x_u32(&g->e, imm);
        }
        return r;
    }
    r = ra_dest_from(g, op->v[0], a, ia);
    if (op->opc == TES_JIT_ANDC) {
        x_alu_ri(&g->e, w, ALU_AND, r, ~imm);
    } else {
        x_alu_ri(&g->e, w, alu_of(op->opc), r, imm);
    }
    return r;
}

/* d = a + b (or a - imm) into a new register when a's must be kept: one
 * lea instead of a copy and an add. False when that does not apply. */
static bool binop_lea(gen *g, const jop *op, tes_jit_val a, unsigned ia, tes_jit_val b)
{
    vstate *sa = ra_state(g, a);
    unsigned opc = (op->is32 ? 0 : X_W) | 0x8d;
    int64_t imm = 0;
    int ra, rb = -1, r;

    if (!sa || sa->reg < 0 || a == op->v[0] || dies(g, ia)) {
        return false; /* in place is as good */
    }
    if (ra_is_const(g, b)) {
        uint64_t c = ra_const(g, b);

        imm = (int64_t)(op->opc == TES_JIT_SUB ? 0 - c : c);
        if (op->is32) {
            imm = (int32_t)imm;
        }
        if (!x_is_imm32(imm)) {
            return false;
        }
    } else if (op->opc == TES_JIT_SUB) {
        return false;
    } else {
        rb = ra_load(g, b, REGS_ALLOC | RB(REG_ENV));
    }
    ra = ra_load(g, a, REGS_ALLOC | RB(REG_ENV));
    r = ra_alloc(g, REGS_ALLOC);
    x_op_mem(&g->e, opc, r, ra, rb, 0, (int32_t)imm);
    finish(g, op->v[0], r, 2);
    return true;
}

static void gen_binop(gen *g, const jop *op)
{
    bool w = !op->is32;
    tes_jit_val a = op->v[1], b = op->v[2];
    unsigned ia = order_operands(g, op, &a, &b);
    int rb, r;

    if ((op->opc == TES_JIT_ADD || op->opc == TES_JIT_SUB) && binop_lea(g, op, a, ia, b)) {
        return;
    }
    r = binop_imm(g, op, a, ia, b);

    if (r < 0) {
        rb = ra_load(g, b, REGS_ALLOC | RB(REG_ENV));
        r = ra_dest_from(g, op->v[0], a, ia);
        if (op->opc == TES_JIT_MUL) {
            x_op_rr(&g->e, 0xaf | X_0F | (w ? X_W : 0), r, rb);
        } else if (op->opc == TES_JIT_ANDC) {
            x_mov_rr(&g->e, true, TMP1, rb);
            x_grp3(&g->e, true, 2, TMP1);
            x_alu_rr(&g->e, w, ALU_AND, r, TMP1);
        } else {
            x_alu_rr(&g->e, w, alu_of(op->opc), r, rb);
        }
    }
    finish(g, op->v[0], r, 2);
}

static int shift_kind(unsigned opc)
{
    switch (opc) {
    case TES_JIT_SHL: return SH_SHL;
    case TES_JIT_SHR: return SH_SHR;
    case TES_JIT_SAR: return SH_SAR;
    case TES_JIT_ROTL: return SH_ROL;
    default: return SH_ROR;
    }
}

static void gen_shift(gen *g, const jop *op)
{
    bool w = !op->is32;
    tes_jit_val d = op->v[0], a = op->v[1], b = op->v[2];
    int sh = shift_kind(op->opc);
    int r;

    if (ra_is_const(g, b)) {
        unsigned n = ra_const(g, b) & (w ? 63 : 31);

        r = ra_dest_from(g, d, a, 1);
        if (n) {
            x_shift_ri(&g->e, w, sh, r, n);
        } else if (!w) {
            x_mov_rr(&g->e, false, r, r);
        }
    } else {
        /* The count goes to cl: whatever lives in rcx moves elsewhere. */
        ra_evict(g, RCX);
        ra_lock(g, RCX);
        ra_move_to(g, RCX, b);
        r = ra_dest_from(g, d, a, 1);
        x_shift_rcl(&g->e, w, sh, r);
        if (!w) {
            /* A count of 0 leaves the register alone, upper half included. */
            x_mov_rr(&g->e, false, r, r);
        }
    }
    finish(g, d, r, 2);
}

static void gen_mulh(gen *g, const jop *op)
{
    bool w = !op->is32;
    int rb;

    ra_evict(g, RAX);
    ra_lock(g, RAX);
    ra_evict(g, RDX);
    ra_lock(g, RDX);
    rb = ra_load(g, op->v[2], REGS_ALLOC);
    ra_move_to(g, RAX, op->v[1]);
    x_grp3(&g->e, w, op->opc == TES_JIT_MULUH ? 4 : 5, rb);
    finish(g, op->v[0], RDX, 2);
}

static void gen_clz_ctz(gen *g, const jop *op)
{
    bool w = !op->is32;
    tes_jit_val d = op->v[0], a = op->v[1];
    int ra = ra_load(g, a, REGS_ALLOC | RB(REG_ENV));
    int r = ra_dest_reg(g, d, a, 1, ra);

    if (op->opc == TES_JIT_CLZ) {
        /* bsr gives the top bit's index: clz = index ^ (width - 1); for 0
         * take 2 * width - 1, which the xor turns into width. */
        x_mov_ri(&g->e, TMP1, w ? 127 : 63);
        x_op_rr(&g->e, 0xbd | X_0F | (w ? X_W : 0), r, ra);
        x_op_rr(&g->e, (0x40 + CC_E) | X_0F | (w ? X_W : 0), r, TMP1);
        x_alu_ri(&g->e, w, ALU_XOR, r, w ? 63 : 31);
    } else {
        x_mov_ri(&g->e, TMP1, w ? 64 : 32);
        x_op_rr(&g->e, 0xbc | X_0F | (w ? X_W : 0), r, ra);
        x_op_rr(&g->e, (0x40 + CC_E) | X_0F | (w ? X_W : 0), r, TMP1);
    }
    finish(g, d, r, 1);
}

/* Sign/zero extensions and 32-bit moves: d = f(a) from any register. */
static void gen_ext(gen *g, const jop *op)
{
    tes_jit_val d = op->v[0], a = op->v[1];
    unsigned opc = op->opc;
    int ra, r;

    if (opc == TES_JIT_MOV && !op->is32) {
        r = ra_dest_from(g, d, a, 1);
        finish(g, d, r, 1);
        return;
    }
    ra = ra_load(g, a, REGS_ALLOC | RB(REG_ENV));
    r = ra_dest_reg(g, d, a, 1, ra);
    switch (opc) {
    case TES_JIT_EXT8U:
        x_movzx8(&g->e, r, ra);
        break;
    case TES_JIT_EXT8S:
        x_op_rr(&g->e, 0xbe | X_0F | X_BREG_M | (op->is32 ? 0 : X_W), r, ra);
        break;
    case TES_JIT_EXT16U:
        x_op_rr(&g->e, 0xb7 | X_0F, r, ra);
        break;
    case TES_JIT_EXT16S:
        x_op_rr(&g->e, 0xbf | X_0F | (op->is32 ? 0 : X_W), r, ra);
        break;
    case TES_JIT_EXT32S:
        if (!op->is32) {
            x_op_rr(&g->e, 0x63 | X_W, r, ra);
            break;
        }
        /* the low 32 bits, zero-extended */
        __attribute__((fallthrough));
    default: /* EXT32U, MOV32 */
        x_mov_rr(&g->e, false, r, ra);
        break;
    }
    finish(g, d, r, 1);
}

static void gen_unary(gen *g, const jop *op)
{
    bool w = !op->is32;
    int r = ra_dest_from(g, op->v[0], op->v[1], 1);

    switch (op->opc) {
    case TES_JIT_NEG:
        x_grp3(&g->e, w, 3, r);
        break;
    case TES_JIT_NOT:
        x_grp3(&g->e, w, 2, r);
        break;
    case TES_JIT_BSWAP16:
        /* rol r16, 8 then zero-extend */
        x_op_rr(&g->e, 0xc1 | X_66, SH_ROL, r);
        x_byte(&g->e, 8);
        x_op_rr(&g->e, 0xb7 | X_0F, r, r);
        break;
    case TES_JIT_BSWAP32:
        x_bswap(&g->e, false, r);
        break;
    default: /* BSWAP64 (its 32 form is BSWAP32) */
        x_bswap(&g->e, w, r);
        break;
    }
    finish(g, op->v[0], r, 1);
}

/* d = a constant: straight to env for a global (the optimiser has
 * already replaced its later reads by the constant), else a register. */
static void gen_const(gen *g, const jop *op, uint64_t v, unsigned nin)
{
    vstate *s = ra_state(g, op->v[0]);
    int r;

    if (VAL_KIND(op->v[0]) == VK_GLOBAL && x_is_imm32(v)) {
        if (s->reg >= 0) {
            g->owner[s->reg] = 0;
            s->reg = -1;
        }
        s->dirty = 0;
        x_st_imm(&g->e, TES_JIT_MO_64, REG_ENV, ra_global_off(g, op->v[0]), v);
        ra_end_op(g, op, nin);
        return;
    }
    r = s->reg >= 0 ? s->reg : ra_alloc(g, REGS_ALLOC);
    x_mov_ri(&g->e, r, v);
    finish(g, op->v[0], r, nin);
}

static void gen_alu(gen *g, const jop *op)
{
    bool unary = op->opc == TES_JIT_MOV || op->opc >= TES_JIT_NEG;

    if (ra_is_const(g, op->v[1]) && (unary || ra_is_const(g, op->v[2]))) {
        gen_const(g, op, jit_fold(op->opc, op->is32, ra_const(g, op->v[1]),
                                  unary ? 0 : ra_const(g, op->v[2])), unary ? 1 : 2);
        return;
    }
    switch (op->opc) {
    case TES_JIT_ADD: case TES_JIT_SUB: case TES_JIT_MUL: case TES_JIT_AND:
    case TES_JIT_OR: case TES_JIT_XOR: case TES_JIT_ANDC:
        gen_binop(g, op);
        break;
    case TES_JIT_SHL: case TES_JIT_SHR: case TES_JIT_SAR: case TES_JIT_ROTR:
    case TES_JIT_ROTL:
        gen_shift(g, op);
        break;
    case TES_JIT_MULUH: case TES_JIT_MULSH:
        gen_mulh(g, op);
        break;
    case TES_JIT_CLZ: case TES_JIT_CTZ:
        gen_clz_ctz(g, op);
        break;
    case TES_JIT_NEG: case TES_JIT_NOT: case TES_JIT_BSWAP16: case TES_JIT_BSWAP32:
    case TES_JIT_BSWAP64:
        gen_unary(g, op);
        break;
    default:
        gen_ext(g, op);
        break;
    }
}

/* ---- conditions ---- */

/* A compare's operands, loaded (and locked) before anything else of the
 * op is allocated; emitted by cmp_emit. */
typedef struct cmpop {
    int ra, rb;
    int64_t imm;
    bool w, tst;
    unsigned cond;
} cmpop;

static unsigned swap_cond(unsigned c)
{
    switch (c) {
    case TES_JIT_LT: return TES_JIT_GT;
    case TES_JIT_GT: return TES_JIT_LT;
    case TES_JIT_LE: return TES_JIT_GE;
    case TES_JIT_GE: return TES_JIT_LE;
    case TES_JIT_LTU: return TES_JIT_GTU;
    case TES_JIT_GTU: return TES_JIT_LTU;
    case TES_JIT_LEU: return TES_JIT_GEU;
    case TES_JIT_GEU: return TES_JIT_LEU;
    default: return c;
    }
}

static void cmp_prep(gen *g, cmpop *c, unsigned cond, tes_jit_val a, tes_jit_val b,
                     bool is32)
{
    if (ra_is_const(g, a) && !ra_is_const(g, b)) {
        tes_jit_val t = a;
        a = b;
        b = t;
        cond = swap_cond(cond);
    }
    c->w = !is32;
    c->cond = cond;
    c->tst = cond >= TES_JIT_TSTEQ;
    c->ra = ra_load(g, a, REGS_ALLOC | RB(REG_ENV));
    c->rb = imm_ok(g, b, c->w, &c->imm) ? -1 : ra_load(g, b, REGS_ALLOC | RB(REG_ENV));
}

/* cmp or test; returns the x86 condition code. */
static int cmp_emit(gen *g, const cmpop *c)
{
    if (c->rb < 0 && c->tst) {
        x_op_rr(&g->e, 0xf7 | (c->w ? X_W : 0), 0, c->ra);
        x_u32(&g->e, c->imm);
    } else if (c->rb < 0 && c->imm == 0) {
        /* test r, r sets the flags cmp r, 0 would (CF = OF = 0) */
        x_op_rr(&g->e, 0x85 | (c->w ? X_W : 0), c->ra, c->ra);
    } else if (c->rb < 0) {
        x_alu_ri(&g->e, c->w, ALU_CMP, c->ra, c->imm);
    } else if (c->tst) {
        x_op_rr(&g->e, 0x85 | (c->w ? X_W : 0), c->rb, c->ra);
    } else {
        x_alu_rr(&g->e, c->w, ALU_CMP, c->ra, c->rb);
    }
    return cond_cc[c->cond];
}

static void gen_setcond(gen *g, const jop *op)
{
    cmpop c;
    int r;

    /* r is neither operand, so it can be cleared before the compare. */
    cmp_prep(g, &c, op->cond, op->v[1], op->v[2], op->is32);
    r = ra_alloc(g, REGS_ALLOC);
    x_alu_rr(&g->e, false, ALU_XOR, r, r);
    x_setcc(&g->e, cmp_emit(g, &c), r);
    finish(g, op->v[0], r, 2);
}

static void gen_movcond(gen *g, const jop *op)
{
    cmpop c;
    int rt, r, cc;

    cmp_prep(g, &c, op->cond, op->v[1], op->v[2], op->is32);
    rt = ra_load(g, op->v[3], REGS_ALLOC | RB(REG_ENV));
    r = ra_dest_from(g, op->v[0], op->v[4], 4);
    cc = cmp_emit(g, &c);
    x_op_rr(&g->e, (0x40 + cc) | X_0F | X_W, r, rt);
    finish(g, op->v[0], r, 4);
}

/* ---- control flow ---- */

static void jump_to_label(gen *g, int cc, uint32_t label)
{
    uint32_t at = cc < 0 ? x_jmp(&g->e) : x_jcc(&g->e, cc);

    g->fix = jit_grow(g->fix, &g->cap_fix, g->nfix + 1, sizeof(fixup));
    g->fix[g->nfix].at = at;
    g->fix[g->nfix].label = label;
    g->nfix++;
}

static void gen_brcond(gen *g, const jop *op)
{
    cmpop c;

    if (ra_is_const(g, op->v[1]) && ra_is_const(g, op->v[2])) {
        if (jit_cond_eval(op->cond, op->is32, ra_const(g, op->v[1]),
                          ra_const(g, op->v[2]))) {
            ra_sync(g);
            jump_to_label(g, -1, op->aux);
        }
        ra_end_op(g, op, 2);
        return;
    }
    cmp_prep(g, &c, op->cond, op->v[1], op->v[2], op->is32);
    ra_sync(g);
    jump_to_label(g, cmp_emit(g, &c), op->aux);
    ra_end_op(g, op, 2);
}

static void gen_exit(gen *g, const jop *op)
{
    unsigned slot = op->aux;
    xemit *e = &g->e;

    ra_sync(g);
    if (g->tb->jmp_off[slot]) {
        /* A second exit with this slot: returns the same, never chained. */
        x_mov_ri(e, RAX, (uintptr_t)g->tb | slot);
        x_jmp_abs(e, -1, head_addr(g, g->j->epilogue_off));
        return;
    }
    /* The rel32 must be 4-byte aligned so tes_jit_chain patches it with
     * one atomic store. */
    x_nops(e, (3 - (e->pos & 3)) & 3);
    g->tb->jmp_off[slot] = x_jmp(e);
}

/* r11 = the address of pc's jump cache entry (jc in rcx), pc in r10. */
static int32_t jc_entry_addr(gen *g, const jop *op)
{
    xemit *e = &g->e;
    int32_t base = (int32_t)offsetof(tes_jit_jc, e);

    if (ra_is_const(g, op->v[1])) {
        uint64_t pc = ra_const(g, op->v[1]);

        x_mov_ri(e, TMP0, pc);
        x_ld64(e, RCX, REG_ENV, g->j->cfg.jc_off);
        return base + (int32_t)(jit_jc_index(pc) << JC_ENTRY_SHIFT);
    }
    /* pc first: it may sit in rcx or rax */
    x_mov_rr(e, true, TMP0, ra_load(g, op->v[1], REGS_ALLOC));
    x_ld64(e, RCX, REG_ENV, g->j->cfg.jc_off);
    /* jit_jc_index: (pc ^ pc >> 2 ^ pc >> 14) & 4095, times 32 */
    x_mov_rr(e, true, TMP1, TMP0);
    x_shift_ri(e, true, SH_SHR, TMP1, 2);
    x_alu_rr(e, true, ALU_XOR, TMP1, TMP0);
    x_mov_rr(e, true, RAX, TMP0);
    x_shift_ri(e, true, SH_SHR, RAX, 2 + JC_BITS);
    x_alu_rr(e, true, ALU_XOR, TMP1, RAX);
    x_alu_ri(e, false, ALU_AND, TMP1, JC_SIZE - 1);
    x_shift_ri(e, false, SH_SHL, TMP1, JC_ENTRY_SHIFT);
    x_alu_rr(e, true, ALU_ADD, TMP1, RCX);
    return base;
}

/* tes_jit_goto_lookup: every global is written back and nothing is live
 * after, so every caller-saved register is free. Hit: three compares and
 * an indirect jump, without leaving generated code. */
static void gen_goto_lookup(gen *g, const jop *op)
{
    xemit *e = &g->e;
    uint64_t flags = g->ir->key.flags;
    uint32_t miss[2] = { 0, 0 };
    int32_t off;
    int ent;

    ra_sync(g);
    if (g->j->cfg.jc_off && flags <= JC_FLAGS_MAX) {
        off = jc_entry_addr(g, op);
        ent = ra_is_const(g, op->v[1]) ? RCX : TMP1;
        x_op_mem(e, 0x3b | X_W, TMP0, ent, -1, 0, off); /* cmp r10, e->pc */
        miss[0] = x_jcc(e, CC_NE);
        x_ld64(e, RAX, RCX, (int32_t)offsetof(tes_jit_jc, gtag));
        if (flags) {
            x_alu_ri(e, true, ALU_OR, RAX, (int64_t)flags);
        }
        x_op_mem(e, 0x3b | X_W, RAX, ent, -1, 0, off + 8); /* cmp rax, e->tag */
        miss[1] = x_jcc(e, CC_NE);
        x_op_mem(e, 0xff, 4, ent, -1, 0, off + 16); /* jmp e->code */
        x_patch_rel32(e, miss[0], e->pos);
        x_patch_rel32(e, miss[1], e->pos);
    }
    x_mov_rr(e, true, RDI, REG_ENV);
    emit_call(g, op->imm);
    x_op_rr(e, 0x85 | X_W, RAX, RAX);
    x_jmp_abs(e, CC_E, head_addr(g, g->j->ret_other_off));
    x_op_rr(e, 0xff, 4, RAX);
}

static void gen_goto_ptr(gen *g, const jop *op)
{
    int r;

    if (op->imm) {
        gen_goto_lookup(g, op);
        return;
    }
    r = ra_load(g, op->v[1], REGS_ALLOC);

    ra_sync(g);
    x_op_rr(&g->e, 0x85 | X_W, r, r);
    x_jmp_abs(&g->e, CC_E, head_addr(g, g->j->ret_other_off));
    x_op_rr(&g->e, 0xff, 4, r);
}

/* ---- host memory ---- */

static void gen_ld(gen *g, const jop *op)
{
    unsigned size = 1u << (op->memop & TES_JIT_MO_SIZE);
    int rb, r;

    if (op->v[1] == VAL_ENV) {
        ra_sync_overlap(g, op->off, size, false);
    }
    rb = ra_load(g, op->v[1], REGS_ALLOC | RB(REG_ENV));
    r = ra_alloc(g, REGS_ALLOC);
    x_ld(&g->e, op->memop, r, rb, -1, op->off);
    finish(g, op->v[0], r, 1);
}

static void gen_st(gen *g, const jop *op)
{
    unsigned size = 1u << (op->memop & TES_JIT_MO_SIZE);
    int rb, rv;

    if (op->v[1] == VAL_ENV) {
        ra_sync_overlap(g, op->off, size, true);
    }
    rb = ra_load(g, op->v[1], REGS_ALLOC | RB(REG_ENV));
    if (ra_is_const(g, op->v[2]) &&
        ((op->memop & TES_JIT_MO_SIZE) != TES_JIT_MO_64 || x_is_imm32(ra_const(g, op->v[2])))) {
        x_st_imm(&g->e, op->memop, rb, op->off, ra_const(g, op->v[2]));
    } else {
        rv = ra_load(g, op->v[2], REGS_ALLOC | RB(REG_ENV));
        x_st(&g->e, op->memop, rv, rb, -1, op->off);
    }
    ra_end_op(g, op, 2);
}

/* ---- calls ---- */

static const int8_t arg_regs[MAX_CALL_ARGS] = { RDI, RSI, RDX, RCX, R8, R9 };

void emit_call(gen *g, uint64_t fn)
{
    int64_t rel = (int64_t)fn - (int64_t)(uintptr_t)(g->e.rx + g->e.pos + 5);

    if (x_is_imm32(rel)) {
        x_byte(&g->e, 0xe8);
        x_u32(&g->e, rel);
    } else {
        x_mov_ri(&g->e, TMP1, fn);
        x_op_rr(&g->e, 0xff, 2, TMP1);
    }
}

static void gen_call(gen *g, const jop *op)
{
    bool exit = op->aux & TES_JIT_CALL_EXIT;
    bool pure = (op->aux & TES_JIT_CALL_PURE) && !exit;

    if (!pure) {
        ra_sync(g);
    }
    ra_clear_caller_saved(g, pure);
    for (unsigned i = 0; i < op->nargs; i++) {
        ra_move_to(g, arg_regs[i], op->v[1 + i]);
    }
    emit_call(g, op->imm);
    if (!pure) {
        ra_forget_globals(g);
    }
    if (exit) {
        x_alu_mi(&g->e, false, ALU_CMP, REG_ENV, g->j->cfg.exit_off, 0);
        x_jmp_abs(&g->e, CC_NE, head_addr(g, g->j->ret_other_off));
    }
    if (op->v[0]) {
        ra_lock(g, RAX);
        finish(g, op->v[0], RAX, op->nargs);
    } else {
        ra_end_op(g, op, op->nargs);
    }
}

/* ---- the block ---- */

static void gen_op(gen *g, const jop *op)
{
    g->cur = op;
    if (op->opc < TES_JIT_OPC_COUNT) {
        gen_alu(g, op);
        return;
    }
    switch (op->opc) {
    case OP_SETCOND: gen_setcond(g, op); break;
    case OP_MOVCOND: gen_movcond(g, op); break;
    case OP_LABEL:
        ra_forget_all(g);
        g->label_pos[op->aux] = g->e.pos;
        g->reachable = true;
        break;
    case OP_BR:
        ra_sync(g);
        jump_to_label(g, -1, op->aux);
        g->reachable = false;
        break;
    case OP_BRCOND: gen_brcond(g, op); break;
    case OP_LD: gen_ld(g, op); break;
    case OP_ST: gen_st(g, op); break;
    case OP_QLD: gen_qld(g, op); break;
    case OP_QST: gen_qst(g, op); break;
    case OP_CALL: gen_call(g, op); break;
    case OP_EXIT:
        gen_exit(g, op);
        g->reachable = false;
        break;
    case OP_EXIT_NOCHAIN:
        ra_sync(g);
        x_jmp_abs(&g->e, -1, head_addr(g, g->j->ret_other_off));
        g->reachable = false;
        break;
    case OP_GOTO_PTR:
        gen_goto_ptr(g, op);
        g->reachable = false;
        break;
    default: /* insn_start, nop */
        break;
    }
    g->locked = 0;
}

/* Exit-request check, then the instruction count: "sub budget, n; jl"
 * is one memory access where "cmp budget, 0; jle; sub" was two. The rule
 * stays "run when budget > 0": a negative result goes to an out-of-line
 * check of the old value (entry_tail), which adds n back and either
 * leaves or takes the block after all. */
static void gen_entry(gen *g, uint32_t ninsns)
{
    const tes_jit_config *cfg = &g->j->cfg;
    const uint8_t *other = head_addr(g, g->j->ret_other_off);

    x_alu_mi(&g->e, false, ALU_CMP, REG_ENV, cfg->exit_off, 0);
    x_jmp_abs(&g->e, CC_NE, other);
    x_alu_mi(&g->e, true, ALU_SUB, REG_ENV, cfg->budget_off, (int32_t)ninsns);
    g->entry_jl = x_jcc(&g->e, CC_L);
    g->body_at = g->e.pos;
}

static void entry_tail(gen *g, uint32_t ninsns)
{
    const tes_jit_config *cfg = &g->j->cfg;
    xemit *e = &g->e;

    x_patch_rel32(e, g->entry_jl, e->pos);
    x_alu_mi(e, true, ALU_ADD, REG_ENV, cfg->budget_off, (int32_t)ninsns);
    x_alu_mi(e, true, ALU_CMP, REG_ENV, cfg->budget_off, 0);
    x_jmp_abs(e, CC_LE, head_addr(g, g->j->ret_other_off));
    x_alu_mi(e, true, ALU_SUB, REG_ENV, cfg->budget_off, (int32_t)ninsns);
    x_patch_rel32(e, x_jmp(e), g->body_at);
}

static void gen_tail(gen *g)
{
    xemit *e = &g->e;

    if (g->reachable) {
        /* The frontend fell off the end: leave like exit_nochain. */
        ra_sync(g);
        x_jmp_abs(e, -1, head_addr(g, g->j->ret_other_off));
    }
    entry_tail(g, g->tb->ninsns);
    for (uint32_t i = 0; i < g->nslow; i++) {
        emit_slow(g, &g->slow[i]);
    }
    for (unsigned s = 0; s < 2; s++) {
        if (g->tb->jmp_off[s]) {
            g->tb->stub_off[s] = e->pos;
            x_patch_rel32(e, g->tb->jmp_off[s], e->pos);
            x_mov_ri(e, RAX, (uintptr_t)g->tb | s);
            x_jmp_abs(e, -1, head_addr(g, g->j->epilogue_off));
        }
    }
    for (uint32_t i = 0; i < g->nfix; i++) {
        int32_t pos = g->label_pos[g->fix[i].label];

        if (pos < 0) {
            jit_bug("block pc 0x%llx: branch to label L%u that is never set",
                    (unsigned long long)g->ir->key.pc, g->fix[i].label);
        }
        x_patch_rel32(e, g->fix[i].at, pos);
    }
}

/* The allocator's state of n values, all unallocated. */
static vstate *fresh_states(void **buf, uint32_t *cap, uint32_t n)
{
    vstate *v = *buf = jit_grow(*buf, cap, n + 1, sizeof(vstate));

    for (uint32_t i = 0; i <= n; i++) {
        v[i] = (vstate){ .reg = -1, .slot = -1 };
    }
    return v;
}

/* Runs under j->lock; its arrays are j's, kept from block to block. */
uint32_t jit_gen(tes_jit *j, tes_jit_ir *ir, tes_jit_tb *tb, uint32_t max)
{
    gen g = { .j = j, .ir = ir, .tb = tb, .reachable = true };
    uint32_t len;

    g.e.rw = j->rw + j->used;
    g.e.rx = j->rx + j->used;
    g.e.max = max;
    g.temps = fresh_states(&j->gs_temps, &j->gs_cap_temps, ir->ntemps);
    g.globals = fresh_states(&j->gs_globals, &j->gs_cap_globals, ir->nglobals);
    g.label_pos = j->gs_labels = jit_grow(j->gs_labels, &j->gs_cap_labels, ir->nlabels + 1,
                                          sizeof(int32_t));
    for (uint32_t i = 0; i <= ir->nlabels; i++) {
        g.label_pos[i] = -1;
    }
    g.fix = j->gs_fix;
    g.cap_fix = j->gs_cap_fix;
    g.slow = j->gs_slow;
    g.cap_slow = j->gs_cap_slow;
    gen_entry(&g, tb->ninsns);
    for (uint32_t i = 0; i < ir->nops && !g.e.overflow; i++) {
        gen_op(&g, &ir->ops[i]);
    }
    gen_tail(&g);
    len = (g.e.overflow || g.failed) ? 0 : g.e.pos;
    j->gs_fix = g.fix;
    j->gs_cap_fix = g.cap_fix;
    j->gs_slow = g.slow;
    j->gs_cap_slow = g.cap_slow;
    return len;
}

/* ---- the buffer head: entry and exits shared by every block ---- */

static const int8_t saved_regs[] = { RBP, RBX, R12, R13, R14, R15 };

uint32_t jit_gen_head(tes_jit *j)
{
    xemit e = { .rw = j->rw, .rx = j->rx, .max = 256 };

    /* uintptr_t entry(void *env, const void *code) */
    for (unsigned i = 0; i < sizeof(saved_regs); i++) {
        if (saved_regs[i] >= R8) {
            x_byte(&e, 0x41);
        }
        x_byte(&e, 0x50 + (saved_regs[i] & 7));
    }
    x_alu_ri(&e, true, ALU_SUB, RSP, FRAME_SIZE);
    x_mov_rr(&e, true, REG_ENV, RDI);
    x_op_rr(&e, 0xff, 4, RSI); /* jmp rsi */
    j->ret_other_off = e.pos;
    x_alu_rr(&e, false, ALU_XOR, RAX, RAX);
    j->epilogue_off = e.pos;
    x_alu_ri(&e, true, ALU_ADD, RSP, FRAME_SIZE);
    for (int i = sizeof(saved_regs) - 1; i >= 0; i--) {
        if (saved_regs[i] >= R8) {
            x_byte(&e, 0x41);
        }
        x_byte(&e, 0x58 + (saved_regs[i] & 7));
    }
    x_byte(&e, 0xc3);
    j->entry = (uintptr_t (*)(void *, const void *))(void *)j->rx;
    return e.pos;
}
