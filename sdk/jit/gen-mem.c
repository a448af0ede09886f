/*
 * tessera JIT: guest loads and stores. The soft TLB is looked up inline;
 * a miss (no entry, a page-crossing access, an unaligned one under
 * TES_JIT_MO_ALIGN, or an entry without host memory) jumps to a slow path
 * emitted after the block's main code, which writes dirty globals back,
 * stores the guest pc, calls the frontend's ld_slow/st_slow with the live
 * caller-saved registers saved in the frame, leaves the block if the call
 * set exit_req, and otherwise jumps back.
 */
#include "gen.h"

/* ---- guest memory (soft TLB) ---- */

static slowpath *new_slow(gen *g, const jop *op)
{
    slowpath *sp;

    g->slow = jit_grow(g->slow, &g->cap_slow, g->nslow + 1, sizeof(slowpath));
    sp = &g->slow[g->nslow++];
    memset(sp, 0, sizeof(*sp));
    sp->op = op;
    /* What the miss path must write back and preserve around its call. */
    for (int r = 0; r < 16; r++) {
        tes_jit_val v = g->owner[r];

        if (!v) {
            continue;
        }
        if (VAL_KIND(v) == VK_GLOBAL && ra_state(g, v)->dirty) {
            sp->wb[sp->nwb].reg = r;
            sp->wb[sp->nwb].off = ra_global_off(g, v);
            sp->nwb++;
        }
        if (REGS_CALLER_ALLOC & RB(r)) {
            sp->save_mask |= RB(r);
        }
    }
    return sp;
}

/* TMP0 = the byte offset of a's entry in the TLB array. An entry size of
 * 2^s, 3 * 2^s, 5 * 2^s or 9 * 2^s needs no multiply: the shift leaves
 * the index scaled by 2^s and a lea does the rest. */
static void tlb_index(gen *g, int ra)
{
    const tes_jit_tlb *t = &g->j->cfg.tlb;
    xemit *e = &g->e;
    unsigned sh = __builtin_ctz(t->entry_size), m = t->entry_size >> sh;

    x_mov_rr(e, true, TMP0, ra);
    if ((m == 1 || m == 3 || m == 5 || m == 9) && t->page_bits > sh) {
        x_shift_ri(e, true, SH_SHR, TMP0, t->page_bits - sh);
        x_alu_ri(e, false, ALU_AND, TMP0, ((1ll << t->index_bits) - 1) << sh);
        if (m > 1) {
            /* lea TMP0, [TMP0 + TMP0 * (m - 1)] */
            x_op_mem(e, 0x8d | X_W, TMP0, TMP0, TMP0, __builtin_ctz(m - 1), 0);
        }
        return;
    }
    x_shift_ri(e, true, SH_SHR, TMP0, t->page_bits);
    x_alu_ri(e, false, ALU_AND, TMP0, (1ll << t->index_bits) - 1);
    x_op_rr(e, 0x69 | X_W, TMP0, TMP0);
    x_u32(e, t->entry_size);
}

/* The inline TLB lookup; leaves the host address's page in TMP1 and the
 * offset in TMP0 (the access is [TMP1 + TMP0]). */
static void tlb_lookup(gen *g, slowpath *sp, int ra, unsigned memop, uint32_t tlb_off)
{
    const tes_jit_tlb *t = &g->j->cfg.tlb;
    xemit *e = &g->e;
    unsigned size = 1u << (memop & TES_JIT_MO_SIZE);
    int64_t page_mask = (1ll << t->page_bits) - 1;

    tlb_index(g, ra);
    if (size > 1) {
        x_op_mem(e, 0x8d | X_W, TMP1, ra, -1, 0, size - 1); /* lea */
    } else {
        x_mov_rr(e, true, TMP1, ra);
    }
    x_alu_ri(e, true, ALU_AND, TMP1, ~page_mask);
    x_alu_ri(e, true, ALU_OR, TMP1, 1);
    x_op_mem(e, 0x3b | X_W, TMP1, REG_ENV, TMP0, 0, tlb_off + t->tag_off); /* cmp */
    sp->jcc_at[sp->njcc++] = x_jcc(e, CC_NE);
    if ((memop & TES_JIT_MO_ALIGN) && size > 1) {
        x_op_rr(e, 0xf7, 0, ra); /* test ra32, size - 1 */
        x_u32(e, size - 1);
        sp->jcc_at[sp->njcc++] = x_jcc(e, CC_NE);
    }
    x_op_mem(e, 0x8b | X_W, TMP1, REG_ENV, TMP0, 0, tlb_off + t->host_off);
    x_op_rr(e, 0x85 | X_W, TMP1, TMP1);
    sp->jcc_at[sp->njcc++] = x_jcc(e, CC_E);
    x_mov_rr(e, false, TMP0, ra);
    x_alu_ri(e, false, ALU_AND, TMP0, page_mask);
}

void gen_qld(gen *g, const jop *op)
{
    slowpath *sp;
    int ra = ra_load(g, op->v[1], REGS_ALLOC);
    int rd = ra_alloc(g, REGS_ALLOC);

    sp = new_slow(g, op);
    sp->addr_reg = ra;
    sp->dst_reg = rd;
    sp->val_reg = -1;
    tlb_lookup(g, sp, ra, op->memop, op->aux);
    x_ld(&g->e, op->memop & (TES_JIT_MO_SIZE | TES_JIT_MO_SIGN), rd, TMP1, TMP0, 0);
    sp->ret_at = g->e.pos;
    finish(g, op->v[0], rd, 1);
}

void gen_qst(gen *g, const jop *op)
{
    slowpath *sp;
    int ra = ra_load(g, op->v[1], REGS_ALLOC);
    int rv = ra_load(g, op->v[2], REGS_ALLOC);

    sp = new_slow(g, op);
    sp->addr_reg = ra;
    sp->val_reg = rv;
    sp->dst_reg = -1;
    tlb_lookup(g, sp, ra, op->memop, op->aux);
    x_st(&g->e, op->memop, rv, TMP1, TMP0, 0);
    sp->ret_at = g->e.pos;
    ra_end_op(g, op, 2);
}

/* Guest state as the interpreter would have it: dirty globals in env,
 * the op's pc in env->pc; then the live caller-saved registers saved. */
static void slow_enter(gen *g, slowpath *sp)
{
    const jop *op = sp->op;
    xemit *e = &g->e;

    for (unsigned i = 0; i < sp->njcc; i++) {
        x_patch_rel32(e, sp->jcc_at[i], e->pos);
    }
    for (unsigned i = 0; i < sp->nwb; i++) {
        x_st64(e, sp->wb[i].reg, REG_ENV, sp->wb[i].off);
    }
    if (x_is_imm32(op->imm)) {
        x_st_imm(e, TES_JIT_MO_64, REG_ENV, g->j->cfg.pc_off, op->imm);
    } else {
        x_mov_ri(e, TMP1, op->imm);
        x_st64(e, TMP1, REG_ENV, g->j->cfg.pc_off);
    }
    for (int r = 0; r < 16; r++) {
        if (sp->save_mask & RB(r)) {
            x_st64(e, r, RSP, FRAME_SAVE + 8 * r);
        }
    }
}

/* ld_slow(env, addr, memop, arg) / st_slow(env, addr, val, memop, arg).
 * addr and val may sit in argument registers: val goes through TMP1. */
static void slow_call(gen *g, slowpath *sp, bool st)
{
    const tes_jit_config *cfg = &g->j->cfg;
    xemit *e = &g->e;

    if (st) {
        x_mov_rr(e, true, TMP1, sp->val_reg);
        x_mov_rr(e, true, RSI, sp->addr_reg);
        x_mov_rr(e, true, RDX, TMP1);
        x_mov_ri(e, RCX, sp->op->memop);
        x_mov_ri(e, R8, sp->op->arg);
    } else {
        x_mov_rr(e, true, RSI, sp->addr_reg);
        x_mov_ri(e, RDX, sp->op->memop);
        x_mov_ri(e, RCX, sp->op->arg);
    }
    x_mov_rr(e, true, RDI, REG_ENV);
    emit_call(g, (uintptr_t)(st ? (void *)cfg->st_slow : (void *)cfg->ld_slow));
    x_alu_mi(e, false, ALU_CMP, REG_ENV, cfg->exit_off, 0);
    x_jmp_abs(e, CC_NE, head_addr(g, g->j->ret_other_off));
}

/* The slow path's value, extended as the fast path would. */
static void slow_result(xemit *e, unsigned memop, int d)
{
    switch (memop & (TES_JIT_MO_SIZE | TES_JIT_MO_SIGN)) {
    case TES_JIT_MO_8: x_movzx8(e, d, RAX); break;
    case TES_JIT_MO_16: x_op_rr(e, 0xb7 | X_0F, d, RAX); break;
    case TES_JIT_MO_32: x_mov_rr(e, false, d, RAX); break;
    case TES_JIT_MO_8 | TES_JIT_MO_SIGN: x_op_rr(e, 0xbe | X_0F | X_W, d, RAX); break;
    case TES_JIT_MO_16 | TES_JIT_MO_SIGN: x_op_rr(e, 0xbf | X_0F | X_W, d, RAX); break;
    case TES_JIT_MO_32 | TES_JIT_MO_SIGN: x_op_rr(e, 0x63 | X_W, d, RAX); break;
    default: x_mov_rr(e, true, d, RAX); break;
    }
}

void emit_slow(gen *g, slowpath *sp)
{
    bool st = sp->op->opc == OP_QST;

    slow_enter(g, sp);
    slow_call(g, sp, st);
    if (!st) {
        slow_result(&g->e, sp->op->memop, sp->dst_reg);
    }
    for (int r = 0; r < 16; r++) {
        if ((sp->save_mask & RB(r)) && r != sp->dst_reg) {
            x_ld64(&g->e, r, RSP, FRAME_SAVE + 8 * r);
        }
    }
    x_patch_rel32(&g->e, x_jmp(&g->e), sp->ret_at);
}
