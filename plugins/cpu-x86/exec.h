/*
 * cpu-x86 internal (x86core): lazy flags, register and operand helpers
 * shared by decode.c, flags.c and the exec-*.c files.
 *
 * Lazy flags: a flag-setting operation stores its kind and operand size
 * in cc_op (op << 2 | log2(size)), its result in cc_dst and its source
 * operand in cc_src (cc_src2: carry in for ADC/SBB, old CF for INC/DEC);
 * x86_get_flags() derives CF PF AF ZF SF OF from them when asked.
 * CC_OP_EFLAGS (0) means the flags are materialised in c->eflags.
 * Undefined flags follow what QEMU computes (so differential tests against
 * qemu-x86_64 compare them too).
 */
#ifndef CPU_X86_EXEC_H
#define CPU_X86_EXEC_H

#include "x86.h"

enum {
    CC_OP_EFLAGS = 0,
    CC_OP_ADD, CC_OP_ADC, CC_OP_SUB, CC_OP_SBB, CC_OP_LOGIC,
    CC_OP_INC, CC_OP_DEC, CC_OP_SHL, CC_OP_SAR, CC_OP_MUL,
};

static inline unsigned size_log2(unsigned size)
{
    return (unsigned)__builtin_ctz(size);
}

static inline uint64_t size_mask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static inline uint64_t sign_bit(unsigned size)
{
    return 1ull << (size * 8 - 1);
}

static inline uint64_t sext(uint64_t v, unsigned size)
{
    unsigned sh = 64 - size * 8;

    return (uint64_t)((int64_t)(v << sh) >> sh);
}

static inline void set_cc(x86_cpu *c, int op, unsigned size, uint64_t dst, uint64_t src)
{
    c->cc_op = op << 2 | (int)size_log2(size);
    c->cc_dst = dst;
    c->cc_src = src;
}

/* The lazy flag state as values (the translator's helpers get it as
 * arguments rather than reading the CPU). */
typedef struct x86_cc {
    int64_t op;
    uint64_t dst, src, src2, eflags;
} x86_cc;
uint64_t x86_flags_of(const x86_cc *cc);
bool x86_cond_of(const x86_cc *cc, unsigned cond);
/* Arithmetic flags only (CF PF AF ZF SF OF). */
uint64_t x86_arith_flags(x86_cpu *c);
/* Condition code cc (0..15, the low nibble of Jcc/SETcc/CMOVcc). */
bool x86_cond(x86_cpu *c, unsigned cc);
/* Replace the arithmetic flags (others untouched); leaves CC_OP_EFLAGS. */
void x86_put_arith(x86_cpu *c, uint64_t arith);

/* ---- registers ---- */

/* Byte registers 4..7 are AH CH DH BH without a REX prefix. */
static inline uint64_t get_reg(const x86_cpu *c, const x86_insn *x, int r, unsigned size)
{
    if (size == 1) {
        if (!x->has_rex && r >= 4 && r < 8) {
            return (c->regs[r - 4] >> 8) & 0xff;
        }
        return c->regs[r] & 0xff;
    }
    return c->regs[r] & size_mask(size);
}

/* 32-bit writes zero-extend to 64 bits; 8/16-bit writes merge. */
static inline void set_reg(x86_cpu *c, const x86_insn *x, int r, unsigned size, uint64_t v)
{
    switch (size) {
    case 1:
        if (!x->has_rex && r >= 4 && r < 8) {
            c->regs[r - 4] = (c->regs[r - 4] & ~0xff00ull) | ((v & 0xff) << 8);
        } else {
            c->regs[r] = (c->regs[r] & ~0xffull) | (v & 0xff);
        }
        break;
    case 2:
        c->regs[r] = (c->regs[r] & ~0xffffull) | (v & 0xffff);
        break;
    case 4:
        c->regs[r] = (uint32_t)v;
        break;
    default:
        c->regs[r] = v;
        break;
    }
}

/* ---- decode.c ---- */
/* Segment of a ModRM memory operand (override or DS/SS default). */
static inline int ea_seg(const x86_insn *x)
{
    return x->seg;
}
/* Decode the ModRM byte (and SIB/displacement) following the opcode. */
bool x86_decode_modrm(x86_cpu *c, x86_insn *x);

/* A ModRM memory operand's form: ea = disp + base + (index << scale),
 * truncated to the address size (-1: no base / no index). */
typedef struct x86_ea_form {
    bool mem;
    int8_t base, idx;
    uint8_t scale;
} x86_ea_form;
/* Decode the instruction at linear address la from p[0, avail) without
 * fetching or executing (the translator); false when it does not fit in
 * avail bytes (or is longer than 15). */
bool x86_decode_buf(x86_cpu *c, uint64_t la, const uint8_t *p, unsigned avail, x86_insn *x,
                    x86_ea_form *form);
/* Take a pending NMI/interrupt if allowed now; true if one was delivered. */
bool x86_take_interrupt(x86_cpu *c);

/* ---- exec-int.c ---- */
/* Execute the decoded instruction x (prefixes, opcode, ModRM, immediates). */
void x86_exec_insn(x86_cpu *c, x86_insn *x);
bool x86_rm_read(x86_cpu *c, x86_insn *x, unsigned size, uint64_t *v);
bool x86_rm_write(x86_cpu *c, x86_insn *x, unsigned size, uint64_t v);
bool x86_push(x86_cpu *c, uint64_t v, unsigned size);
bool x86_pop(x86_cpu *c, uint64_t *v, unsigned size);
/* Stack pointer width: 8 in 64-bit mode, else 4 or 2 from SS.B. */
unsigned x86_stack_size(const x86_cpu *c);

void x86_exec_grp5_incdec(x86_cpu *c, x86_insn *x);
/* DIV/IDIV of rDX:rAX (AX for size 1) by d; #DE when it does not fit. */
void x86_div(x86_cpu *c, unsigned size, uint64_t d, bool sign);

/* ---- exec-ctl.c ---- */
/* Control flow, flag and stack-frame instructions, segment moves, and the
 * opcodes routed to the system and x87 owners; false: not one of them. */
bool x86_exec_ctl(x86_cpu *c, x86_insn *x);

/* ---- exec-str.c ---- */
void x86_exec_string(x86_cpu *c, x86_insn *x);

#endif
