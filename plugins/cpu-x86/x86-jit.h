/*
 * cpu-x86 internal (x86jit): what the block loop (translate.c) and the
 * instruction translators (x86-jit*.c) share.
 *
 * Generated code keeps the 16 general registers and the lazy flags
 * (cc_op, cc_dst, cc_src, cc_src2) as globals of the code generator, so
 * within a block they live in host registers and a flag computation that
 * a later instruction overwrites is never stored. rip is not a global: it
 * is the generator's "pc" field, stored before every slow path, and the
 * translator stores it before exits and fallback calls.
 *
 * The rule every inline instruction keeps: what it changes before its
 * last store, running it again from the start changes the same way (its
 * memory writes come before its register writes; a flag update before a
 * store, as the interpreter orders it, recomputes the same flags). So a
 * store to MMIO or to a page with code can be left undone: the block
 * leaves with rip at the instruction and the interpreter runs it
 * (translate.c, st_slow).
 */
#ifndef CPU_X86_JIT_H
#define CPU_X86_JIT_H

#include <tessera/jit.h>

#include "exec.h"

/* Argument of the memory slow paths: segment (for #SS vs #GP) and
 * privilege of the access. */
#define JIT_ARG(seg, user) ((uint32_t)(seg) & 7u) | ((user) ? 8u : 0u)
#define JIT_ARG_SEG(a) ((int)((a) & 7u))
#define JIT_ARG_USER(a) (((a) & 8u) != 0)

/* A decoded instruction that translated code hands to the interpreter
 * (x86_exec_insn); kept as long as the blocks that call it. */
typedef struct jit_rec {
    x86_insn x;
    x86_ea_form form;
    uint64_t rip, next_rip;
} jit_rec;

/* The block being translated. */
typedef struct jit_tr {
    x86_cpu *c;
    tes_jit_ir *ir;
    x86_insn x;          /* the instruction being translated */
    x86_ea_form form;
    uint64_t rip, next_rip;
    uint64_t page;       /* linear address of the block's page */
    const uint8_t *code; /* host address of the block's page */
    uint64_t next_la;    /* linear address of the next instruction */
    bool last;           /* no instruction follows in this block */
    uint32_t left;       /* instructions that may still follow in it */
    /* cc_op as the generated code left it so far, -1 when not known at
     * translate time (start of block, after a fallback call). */
    int64_t cc_known;
    /* cc_op when the block was translated, while nothing but the block's
     * own inline code ran (a fallback may change it): a Jcc with cc_op
     * unknown checks this guess at run time and decides inline. */
    int64_t cc_guess;
    bool user;           /* CPL 3: the user TLB */
    bool sse;            /* SSE usable without #UD/#NM (in the key) */
    bool ended;          /* the instruction ended the block */
    tes_jit_val env;
    tes_jit_val reg_[16]; /* the register globals, through jt_reg() */
    tes_jit_val cc_op, cc_dst, cc_src, cc_src2;
} jit_tr;

/* ---- translate.c ---- */
/* SSE instructions run without #UD/#NM (CR0.EM/TS clear, CR4.OSFXSR). */
static inline bool x86_jit_sse_usable(const x86_cpu *c)
{
    return !(c->cr0 & (CR0_EM | CR0_TS)) && (c->cr4 & CR4_OSFXSR);
}
/* A record for x86_jit_fallback, or NULL when out of memory. */
jit_rec *x86_jit_rec_new(void);
/* The fallback: run r's instruction in the interpreter (TES_JIT_CALL_EXIT:
 * sets jit_exit when control flow changed, an exception was delivered,
 * the CPU halted or an interrupt shadow began). */
void x86_jit_helper_exec(x86_cpu *c, const jit_rec *r);
/* DIV/IDIV of size (bits 7:0), signed (bit 8): TES_JIT_CALL_EXIT. */
void x86_jit_helper_div(x86_cpu *c, uint64_t d, uint64_t size_sign);
/* Indirect branches: the entry of the block at c->rip, or NULL. */
const void *x86_jit_helper_lookup(x86_cpu *c);
/* The same for a direct branch to another page (counted apart). */
const void *x86_jit_helper_lookup_direct(x86_cpu *c);

/* ---- x86-jit-emit.c: IR building blocks ---- */
/* A condition as the generator's compare: (a c b), 32-bit when is32. */
typedef struct jcond {
    tes_jit_cond c;
    tes_jit_val a, b;
    bool is32;
} jcond;

/* The global of register r (created on first use: a block names few). */
static inline tes_jit_val jt_reg(jit_tr *t, int r)
{
    static const char *const names[16] = {
        "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
        "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
    };

    if (t->reg_[r] == TES_JIT_NONE) {
        t->reg_[r] = tes_jit_global(t->ir, (uint32_t)(offsetof(x86_cpu, regs) + 8 * (size_t)r),
                                    names[r]);
    }
    return t->reg_[r];
}

tes_jit_val jt_tmp(jit_tr *t);
tes_jit_val jt_const(jit_tr *t, uint64_t v);
void jt_op(jit_tr *t, tes_jit_opc op, tes_jit_val d, tes_jit_val a, tes_jit_val b);
void jt_zext(jit_tr *t, unsigned size, tes_jit_val d, tes_jit_val a);
void jt_sext(jit_tr *t, unsigned size, tes_jit_val d, tes_jit_val a);
/* Registers with the x86 partial-register rules (a copy is returned). */
tes_jit_val jt_reg_get(jit_tr *t, int r, unsigned size);
void jt_reg_set(jit_tr *t, int r, unsigned size, tes_jit_val v);
/* Memory operands are inline in 64-bit mode only. */
bool jt_mem_ok(const jit_tr *t);
tes_jit_val jt_ea_offset(jit_tr *t);              /* LEA's value */
tes_jit_val jt_linear(jit_tr *t, int seg, tes_jit_val off);
tes_jit_val jt_ea(jit_tr *t);                     /* linear address */
void jt_ld(jit_tr *t, tes_jit_val d, tes_jit_val la, unsigned size, int seg);
void jt_st(jit_tr *t, tes_jit_val v, tes_jit_val la, unsigned size, int seg);
tes_jit_val jt_rm_get(jit_tr *t, unsigned size, tes_jit_val *la);
void jt_rm_set(jit_tr *t, unsigned size, tes_jit_val v, tes_jit_val la);
/* Lazy flags: the interpreter's set_cc; CF now; condition cc (0..15). */
void jt_set_cc(jit_tr *t, int op, unsigned size, tes_jit_val dst, tes_jit_val src);
tes_jit_val jt_cf(jit_tr *t);
tes_jit_val jt_cf_first(jit_tr *t); /* may branch: before any temp */
tes_jit_val jt_flags(jit_tr *t);                    /* x86_arith_flags */
void jt_put_arith(jit_tr *t, tes_jit_val f);        /* x86_put_arith */
/* The next instruction, in this block, sets every arithmetic flag without
 * reading one and cannot fault: flags set now are never seen. */
bool jt_flags_dead(jit_tr *t);
void jt_cond(jit_tr *t, unsigned cc, jcond *k);
bool jt_cond_known(jit_tr *t, unsigned cc, jcond *k); /* inline only */
bool jt_cond_inlinable(int64_t ccop, unsigned cc);
void jt_cond_helper(jit_tr *t, unsigned cc, jcond *k);
/* Exits: to a constant rip (chained on the page), to env->rip. */
void jt_exit_to(jit_tr *t, uint64_t rip, unsigned slot);
void jt_goto_rip(jit_tr *t, tes_jit_val rip);

/* ---- x86-jit-int.c, x86-jit-ctl.c ---- */
/* Inline translation of t->x; false when it is not one of the inline
 * forms and nothing was emitted (then the fallback runs it). */
bool x86_jit_int(jit_tr *t);
bool x86_jit_ctl(jit_tr *t);
bool x86_jit_sse(jit_tr *t);

/* ---- x86-jit.c ---- */
/* Translate t->x (decoded at t->rip); false when nothing was emitted (the
 * block ends before it). Sets t->ended when the block ends after it. */
bool x86_jit_insn(jit_tr *t);
/* Emit a call running t->x in the interpreter (no block end); false
 * when out of memory. */
bool x86_jit_fallback_call(jit_tr *t);
/* Store a constant rip in env. */
void x86_jit_set_rip(jit_tr *t, uint64_t rip);

#endif
