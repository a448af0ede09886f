/*
 * cpu-x86: instruction translation, dispatch and the fallback.
 *
 * Each instruction is either translated inline (x86-jit-int.c: moves and
 * ALU with lazy flags; x86-jit-ctl.c: stack and branches; x86-jit-sse.c:
 * SSE2 moves and logic) or becomes a call of the interpreter for that one
 * decoded instruction (x86_jit_helper_exec).
 * Instructions that may change the mode, the interrupt state or the
 * memory map end the block after that call, so the loop looks at
 * interrupts and keys again.
 */
#include "x86-jit.h"

void x86_jit_set_rip(jit_tr *t, uint64_t rip)
{
    tes_jit_st(t->ir, tes_jit_const(t->ir, rip), t->env, offsetof(x86_cpu, rip),
               TES_JIT_MO_64);
}

/* One-byte opcodes after which the block ends: branches, and what may
 * change the mode, IF, the interrupt shadow or the TLB. */
static bool ends_block_1(unsigned op, unsigned reg)
{
    if ((op >= 0x70 && op <= 0x7f) || (op >= 0xe0 && op <= 0xef)) {
        return true; /* Jcc, LOOP, JCXZ, CALL, JMP, IN, OUT */
    }
    switch (op) {
    case 0x07: case 0x17: case 0x1f: /* POP seg */
    case 0x6c: case 0x6d: case 0x6e: case 0x6f: /* INS OUTS */
    case 0x8e: /* MOV seg */
    case 0x9a: case 0x9d: /* CALLF POPF */
    case 0xc2: case 0xc3: case 0xc4: case 0xc5: case 0xca: case 0xcb: case 0xcc: case 0xcd:
    case 0xce: case 0xcf: /* RET LES LDS RETF INT IRET */
    case 0xf1: case 0xf4: case 0xfa: case 0xfb: /* INT1 HLT CLI STI */
        return true;
    case 0xff:
        return reg >= 2 && reg <= 5; /* CALL JMP near and far */
    default:
        return false;
    }
}

static bool ends_block_0f(unsigned op)
{
    if (op >= 0x80 && op <= 0x8f) {
        return true; /* Jcc */
    }
    switch (op) {
    case 0x00: case 0x01: case 0x02: case 0x03: case 0x05: case 0x06: case 0x07: case 0x08:
    case 0x09: case 0x0b: case 0x20: case 0x21: case 0x22: case 0x23: case 0x30: case 0x32:
    case 0x34: case 0x35: case 0xa1: case 0xa9: case 0xb2: case 0xb4: case 0xb5:
        return true; /* system, MOV CR/DR, WRMSR, RDMSR, SYSENTER, POP FS/GS, Lxx */
    default:
        return false;
    }
}

static bool ends_block(const x86_insn *x)
{
    if (x->op < 0x100) {
        return ends_block_1(x->op, x->reg & 7);
    }
    if (x->op < 0x1000) {
        return ends_block_0f(x->op & 0xff);
    }
    return false;
}

/* The interpreter runs the instruction; false when no record could be
 * had (the block ends before the instruction). */
bool x86_jit_fallback_call(jit_tr *t)
{
    jit_rec *r = x86_jit_rec_new();
    tes_jit_val args[2];

    if (!r) {
        return false;
    }
    r->x = t->x;
    r->form = t->form;
    r->rip = t->rip;
    r->next_rip = t->next_rip;
    args[0] = t->env;
    args[1] = tes_jit_const(t->ir, (uint64_t)(uintptr_t)r);
    tes_jit_call(t->ir, (const void *)x86_jit_helper_exec, TES_JIT_CALL_EXIT, TES_JIT_NONE,
                 2, args);
    return true;
}

static bool fallback(jit_tr *t)
{
    if (!x86_jit_fallback_call(t)) {
        return false;
    }
    t->cc_known = -1;
    t->cc_guess = -1;
    if (ends_block(&t->x)) {
        /* rip is where the helper left it */
        tes_jit_exit_nochain(t->ir);
        t->ended = true;
    }
    return true;
}

bool x86_jit_insn(jit_tr *t)
{
    return x86_jit_int(t) || x86_jit_ctl(t) || x86_jit_sse(t) || fallback(t);
}
