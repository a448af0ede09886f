/*
 * cpu-x86: inline translation of control flow and the stack: Jcc, JMP,
 * CALL and RET (direct targets end the block with a chainable exit on the
 * same page, others look the next block up and jump to it), PUSH/POP,
 * SETcc and CMOVcc. As in exec-ctl.c, near branches and stack operations
 * have 64-bit operands in 64-bit mode; the 66-prefixed 16-bit forms go to
 * the fallback, as does everything on the stack outside 64-bit mode
 * (SS limits).
 */
#include "x86-jit.h"

/* Operand size of near branches (exec-ctl.c's stack_opsize); 0 for the
 * forms left to the fallback. */
static unsigned branch_size(const jit_tr *t)
{
    if (t->x.opsize == 2) {
        return 0;
    }
    return t->c->code_bits == 64 ? 8 : 4;
}

static uint64_t rel_target(const jit_tr *t, unsigned size)
{
    return (t->next_rip + t->x.imm) & size_mask(size);
}

/* cc_op unknown here but guessed (x86-jit.h): when cc_op holds the
 * guess at run time the condition is decided inline, else the helper. */
static bool guessed_branch(jit_tr *t, unsigned cc, tes_jit_label taken)
{
    tes_jit_label slow, not_taken;
    jcond k;

    if (t->cc_known >= 0 || t->cc_guess < 0 || !jt_cond_inlinable(t->cc_guess, cc)) {
        return false;
    }
    t->cc_known = t->cc_guess;
    slow = tes_jit_label_new(t->ir);
    not_taken = tes_jit_label_new(t->ir);
    /* nothing emitted yet when this fails */
    tes_jit_brcond(t->ir, TES_JIT_NE, t->cc_op, jt_const(t, (uint64_t)t->cc_guess), slow, false);
    if (!jt_cond_known(t, cc, &k)) {
        jt_cond_helper(t, cc, &k); /* jt_cond_inlinable erred: still right */
    }
    tes_jit_brcond(t->ir, k.c, k.a, k.b, taken, k.is32);
    tes_jit_br(t->ir, not_taken);
    tes_jit_label_set(t->ir, slow);
    t->cc_known = -1;
    jt_cond_helper(t, cc, &k);
    tes_jit_brcond(t->ir, k.c, k.a, k.b, taken, k.is32);
    tes_jit_label_set(t->ir, not_taken);
    return true;
}

static bool tr_jcc(jit_tr *t, unsigned cc)
{
    unsigned size = branch_size(t);
    tes_jit_label taken;
    jcond k;

    if (!size) {
        return false;
    }
    taken = tes_jit_label_new(t->ir);
    if (!guessed_branch(t, cc, taken)) {
        jt_cond(t, cc, &k);
        tes_jit_brcond(t->ir, k.c, k.a, k.b, taken, k.is32);
    }
    jt_exit_to(t, t->next_rip, 0);
    tes_jit_label_set(t->ir, taken);
    jt_exit_to(t, rel_target(t, size), 1);
    t->ended = true;
    return true;
}

static bool tr_jmp(jit_tr *t)
{
    unsigned size = branch_size(t);

    if (!size) {
        return false;
    }
    jt_exit_to(t, rel_target(t, size), 0);
    t->ended = true;
    return true;
}

/* Push v (8 bytes, 64-bit mode): the write first, then rsp, as x86_push. */
static void push(jit_tr *t, tes_jit_val v)
{
    tes_jit_val sp = jt_tmp(t);

    jt_op(t, TES_JIT_SUB, sp, jt_reg(t, R_ESP), jt_const(t, 8));
    jt_st(t, v, sp, 8, S_SS);
    jt_op(t, TES_JIT_MOV, jt_reg(t, R_ESP), sp, TES_JIT_NONE);
}

static tes_jit_val pop(jit_tr *t)
{
    tes_jit_val v = jt_tmp(t), sp = jt_tmp(t);

    jt_op(t, TES_JIT_MOV, sp, jt_reg(t, R_ESP), TES_JIT_NONE);
    jt_ld(t, v, sp, 8, S_SS);
    jt_op(t, TES_JIT_ADD, jt_reg(t, R_ESP), sp, jt_const(t, 8));
    return v;
}

static bool stack_ok(const jit_tr *t)
{
    return t->c->code_bits == 64 && t->x.opsize != 2;
}

static bool tr_call(jit_tr *t)
{
    if (!stack_ok(t)) {
        return false;
    }
    push(t, jt_const(t, t->next_rip));
    jt_exit_to(t, rel_target(t, 8), 0);
    t->ended = true;
    return true;
}

static void goto_value(jit_tr *t, tes_jit_val rip)
{
    tes_jit_st(t->ir, rip, t->env, offsetof(x86_cpu, rip), TES_JIT_MO_64);
    jt_goto_rip(t, rip);
    t->ended = true;
}

/* RET / RET imm16. */
static bool tr_ret(jit_tr *t)
{
    tes_jit_val ip;

    if (!stack_ok(t)) {
        return false;
    }
    ip = pop(t);
    if (t->x.op == 0xc2) {
        jt_op(t, TES_JIT_ADD, jt_reg(t, R_ESP), jt_reg(t, R_ESP),
              jt_const(t, t->x.imm & 0xffff));
    }
    goto_value(t, ip);
    return true;
}

/* FF /2 CALL, /4 JMP (near, indirect), /6 PUSH. */
static bool tr_grp5(jit_tr *t)
{
    unsigned r = t->x.reg & 7;
    tes_jit_val v;

    if ((r != 2 && r != 4 && r != 6) || !stack_ok(t)) {
        return false;
    }
    v = jt_rm_get(t, 8, NULL);
    if (r == 6) {
        push(t, v);
        return true;
    }
    if (r == 2) {
        push(t, jt_const(t, t->next_rip));
    }
    goto_value(t, v);
    return true;
}

static bool tr_setcc(jit_tr *t)
{
    tes_jit_val v = jt_tmp(t);
    jcond k;

    jt_cond(t, t->x.op & 15, &k);
    tes_jit_setcond(t->ir, k.c, v, k.a, k.b, k.is32);
    jt_rm_set(t, 1, v, TES_JIT_NONE);
    return true;
}

/* The operand is read even when the condition is false; a 32-bit
 * destination is zero-extended either way. */
static bool tr_cmov(jit_tr *t)
{
    unsigned size = t->x.opsize;
    tes_jit_val v = jt_rm_get(t, size, NULL), cur = jt_reg_get(t, t->x.reg, size);
    tes_jit_val r = jt_tmp(t);
    jcond k;

    jt_cond(t, t->x.op & 15, &k);
    tes_jit_movcond(t->ir, k.c, r, k.a, k.b, v, cur, k.is32);
    jt_reg_set(t, t->x.reg, size, r);
    return true;
}

static bool tr_push_pop(jit_tr *t)
{
    unsigned op = t->x.op;
    int r = (op & 7) | ((t->x.rex & 1) << 3);

    if (!stack_ok(t)) {
        return false;
    }
    if (op < 0x58) {
        push(t, jt_reg_get(t, r, 8));
    } else {
        jt_reg_set(t, r, 8, pop(t));
    }
    return true;
}

bool x86_jit_ctl(jit_tr *t)
{
    unsigned op = t->x.op;

    if (t->x.rm_is_mem && !jt_mem_ok(t)) {
        return false;
    }
    if (op >= 0x70 && op <= 0x7f) {
        return tr_jcc(t, op & 15);
    }
    if (op >= 0x0f80 && op <= 0x0f8f) {
        return tr_jcc(t, op & 15);
    }
    if (op >= 0x0f90 && op <= 0x0f9f) {
        return tr_setcc(t);
    }
    if (op >= 0x0f40 && op <= 0x0f4f) {
        return tr_cmov(t);
    }
    if (op >= 0x50 && op <= 0x5f) {
        return tr_push_pop(t);
    }
    switch (op) {
    case 0x68: case 0x6a:
        if (!stack_ok(t)) {
            return false;
        }
        push(t, jt_const(t, t->x.imm));
        return true;
    case 0xc2: case 0xc3: return tr_ret(t);
    case 0xe8: return tr_call(t);
    case 0xe9: case 0xeb: return tr_jmp(t);
    case 0xff: return tr_grp5(t);
    default:
        return false;
    }
}
